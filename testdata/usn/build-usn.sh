#!/usr/bin/env bash
# build-usn.sh OUTDIR MKHIVE NTFS_POPULATE
#
# Builds scenarios kes-usn-removed and kes-usn-datavol (see README.md here): FIN-WS042's volume
# with Kaspersky removed and wiped and no shadow copy, whose NTFS change
# journal ($Extend/$UsnJrnl:$J, from journal.tsv by
# testdata/tools/kt-mkusn.py) holds KES's install in May 2024 and its
# removal in October 2024. Writes
#   OUTDIR/kes-usn-removed.raw   64 MiB GPT disk, one "Basic data partition"
#                                (NTFS, 48 MiB at sector 2048), as the scenarios
#   OUTDIR/kes-usn-datavol.raw   96 MiB GPT disk: the same volume without a
#                                journal, and a data volume (NTFS, 24 MiB)
#                                whose journal (journal-data.tsv) and shadow
#                                copy (2024-10-06) hold KES
# byte-identical from build to build. TSK (istat, icat) must see $J as a
# sparse stream holding journal.tsv's records (check-usn.py reads them
# independently of kavtrace); the script fails otherwise. JOURNAL=SPEC
# builds the same volume with another journal (bench/history.sh's large
# one), OUTDIR/kes-usn-removed.raw all the same.
set -euo pipefail
if [[ $# -ne 3 ]]; then
  echo "usage: $0 OUTDIR MKHIVE NTFS_POPULATE" >&2
  exit 2
fi
out=$(realpath -m "$1") mkhive=$(realpath "$2") populate=$(realpath "$3")
here=$(cd "$(dirname "$0")" && pwd)
export TZ=UTC LC_ALL=C
PATH=$PATH:/sbin:/usr/sbin

readonly NTFS_MIB=48 DISK_MIB=64 PART_START=2048 HOLE=8388608
mkdir -p "$out"
work=$out/.work-usn
rm -rf "$work"
mkdir -p "$work/content"
trap 'rm -rf "$work"' EXIT

frozen="2022-02-21 15:00:00" serial=4B55534E52000001

# kes-vss-wiped's hives: FIN-WS042 without any Kaspersky key.
for spec in "$here"/../vss/hives/*.spec; do
  base=$(basename "$spec" .spec)
  case $base in NTUSER-*) file=$base.DAT ;; *) file=$base ;; esac
  "$mkhive" "$spec" "$work/content/$file"
done

img=$work/ntfs.img
truncate -s "${NTFS_MIB}M" "$img"
faketime -f "$frozen" mkntfs -F -Q -q -s 512 -c 4096 -L Windows "$img" > /dev/null 2>&1 ||
  { echo "$0: mkntfs failed" >&2; exit 1; }
faketime -f "$frozen" ntfslabel --new-serial="$serial" "$img" Windows > /dev/null
faketime -f "$frozen" "$populate" "$img" "$here/ntfs.tsv" "$work/content"
# kes-usn-datavol's system volume: this one without a journal.
cp --sparse=always "$img" "$work/system.img"

# The live folders' file references (MFT entry and sequence), as TSK reads
# them, for the journal's records of their children.
for dir in "Program Files" "Program Files (x86)" "ProgramData"; do
  entry=$(ifind -n "$dir" "$img")
  seq=$(istat "$img" "$entry" | sed -n 's/^Entry: *[0-9]* *Sequence: *\([0-9]*\)$/\1/p')
  [[ -n $entry && -n $seq ]] || { echo "$0: no reference for '$dir'" >&2; exit 1; }
  printf '%s\t%s\t%s\n' "$dir" "$entry" "$seq"
done > "$work/refs.tsv"
journal=${JOURNAL:-$here/journal.tsv}
/usr/bin/python3 "$here/../tools/kt-mkusn.py" "$journal" "$work/refs.tsv" "$HOLE" \
  "$work/content/usn-j" "$work/content/usn-max"
faketime -f "$frozen" "$populate" "$img" "$here/usnjrnl.tsv" "$work/content"

# TSK's reading: $J sparse, its records as journal.tsv has them.
jrnl=$(ifind -n '$Extend/$UsnJrnl' "$img")
istat "$img" "$jrnl" > "$work/istat.txt"
attr=$(sed -n 's/^Type: \$DATA (\(128-[0-9]*\)) *Name: \$J .*/\1/p' "$work/istat.txt")
grep -q 'Name: \$J   Non-Resident, Sparse' "$work/istat.txt" ||
  { grep -v '^0 ' "$work/istat.txt" >&2; echo "$0: \$J is not a sparse stream" >&2; exit 1; }
icat "$img" "$jrnl-$attr" > "$work/j.bin"
/usr/bin/python3 "$here/check-usn.py" "$work/j.bin" "$journal" "$HOLE" > /dev/null

raw=$out/kes-usn-removed.raw
rm -f "$raw"
truncate -s "${DISK_MIB}M" "$raw"
sfdisk -q "$raw" <<SF
label: gpt
label-id: 4B55534E-0000-4000-8000-000000001021
unit: sectors
first-lba: 34
start=$PART_START, size=$((NTFS_MIB * 2048)), type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=4B55534E-0000-4000-8000-0000000009D1, name="Basic data partition"
SF
dd if="$img" of="$raw" bs=512 seek=$PART_START conv=notrunc status=none

# ---- kes-usn-datavol: KES on the data volume D: -----------------------
# The data volume as it was on 2024-10-06 (the journal's records before
# then) and as acquired (every record, and the shadow copy of 2024-10-06
# in System Volume Information). Both are laid out by the same steps, so
# most blocks agree and the store holds the rest.
readonly DATA_MIB=24 DATA_START=$((PART_START + NTFS_MIB * 2048)) DATA_STORE_MIB=4
data_volume() { # IMG JOURNAL_SPEC [SVI_MANIFEST]
  local dimg=$1 spec=$2
  truncate -s "${DATA_MIB}M" "$dimg"
  faketime -f "$frozen" mkntfs -F -Q -q -s 512 -c 4096 -L Data "$dimg" > /dev/null 2>&1 ||
    { echo "$0: mkntfs failed" >&2; exit 1; }
  faketime -f "$frozen" ntfslabel --new-serial=4B55534E44000002 "$dimg" Data > /dev/null
  faketime -f "$frozen" "$populate" "$dimg" "$here/ntfs-data.tsv" "$work/content"
  for dir in "Program Files" "Shares"; do
    entry=$(ifind -n "$dir" "$dimg")
    seq=$(istat "$dimg" "$entry" | sed -n 's/^Entry: *[0-9]* *Sequence: *\([0-9]*\)$/\1/p')
    [[ -n $entry && -n $seq ]] || { echo "$0: no reference for '$dir'" >&2; exit 1; }
    printf '%s\t%s\t%s\n' "$dir" "$entry" "$seq"
  done > "$work/refs-data.tsv"
  /usr/bin/python3 "$here/../tools/kt-mkusn.py" "$spec" "$work/refs-data.tsv" "$HOLE" \
    "$work/content/usn-j" "$work/content/usn-max"
  faketime -f "$frozen" "$populate" "$dimg" "$here/usnjrnl.tsv" "$work/content"
  jrnl=$(ifind -n '$Extend/$UsnJrnl' "$dimg")
  attr=$(istat "$dimg" "$jrnl" | sed -n 's/^Type: \$DATA (\(128-[0-9]*\)) *Name: \$J .*/\1/p')
  icat "$dimg" "$jrnl-$attr" > "$work/j-data.bin"
  /usr/bin/python3 "$here/check-usn.py" "$work/j-data.bin" "$spec" "$HOLE" > /dev/null
  if [[ $# -eq 3 ]]; then
    faketime -f "$frozen" "$populate" "$dimg" "$3" "$work/content"
  fi
}
awk -F'\t' '/^#/ || $1 < "2024-10-06"' "$here/journal-data.tsv" > "$work/journal-data-early.tsv"
head -c $((DATA_STORE_MIB << 20)) /dev/zero | tr '\0' '\377' > "$work/content/vss-store"
head -c 65536 /dev/zero | tr '\0' '\377' > "$work/content/vss-catalog"
data_volume "$work/data-past.img" "$work/journal-data-early.tsv"
data_volume "$work/data.img" "$here/journal-data.tsv" "$here/ntfs-data-vss.tsv"
/usr/bin/python3 "$here/../tools/kt-mkvss.py" "$work/data.img" "$work/data-past.img" \
  "System Volume Information/{3808876b-c176-4e48-b7ae-04046e6cc752}" \
  "System Volume Information/{4b55534e-0000-4000-8000-000000001006}{3808876b-c176-4e48-b7ae-04046e6cc752}" \
  "$here/vss-data.conf" > /dev/null

raw=$out/kes-usn-datavol.raw
rm -f "$raw"
truncate -s 96M "$raw"
sfdisk -q "$raw" <<SF
label: gpt
label-id: 4B55534E-0000-4000-8000-000000002021
unit: sectors
first-lba: 34
start=$PART_START, size=$((NTFS_MIB * 2048)), type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=4B55534E-0000-4000-8000-0000000009D1, name="Basic data partition"
start=$DATA_START, size=$((DATA_MIB * 2048)), type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=4B55534E-0000-4000-8000-0000000009D2, name="Basic data partition"
SF
dd if="$work/system.img" of="$raw" bs=512 seek=$PART_START conv=notrunc status=none
dd if="$work/data.img" of="$raw" bs=512 seek=$DATA_START conv=notrunc status=none
if command -v vshadowinfo > /dev/null; then
  vshadowinfo -o $((DATA_START * 512)) "$raw" > "$work/vshadowinfo.txt" ||
    { cat "$work/vshadowinfo.txt" >&2; echo "$0: vshadowinfo refuses the data volume's store" >&2; exit 1; }
  grep -q "Number of stores:.*1" "$work/vshadowinfo.txt" ||
    { cat "$work/vshadowinfo.txt" >&2; echo "$0: vshadowinfo finds no store on the data volume" >&2; exit 1; }
fi
