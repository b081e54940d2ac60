#!/usr/bin/env bash
# build-vss.sh OUTDIR SCENARIOS_DIR MKHIVE NTFS_POPULATE
#
# Builds scenario kes-vss-wiped (see README.md here): FIN-WS042's volume
# with Kaspersky removed and wiped, and a Volume Shadow Copy store, created
# 2024-09-25, holding the volume of scenario kes-active (read from
# SCENARIOS_DIR/kes-active.raw, built by testdata/build-scenarios.sh).
# Writes
#   OUTDIR/kes-vss-wiped.raw   64 MiB GPT disk, one "Basic data partition"
#                              (NTFS, 48 MiB at sector 2048), as the scenarios
#   OUTDIR/kes-vss-wiped.E01   the same disk as EWF
#   OUTDIR/kes-active-volume.img  the store's content (the earlier state),
#                              for the tests to compare with
#   OUTDIR/kes-vss-two-stores.raw  the same disk with two stores: the one
#                              above and one of 2024-10-06 (after the
#                              cutoff) holding
#   OUTDIR/kes-active-volume-2024-10-06.img  kes-active's volume with one
#                              more document
# The raw disk is byte-identical from build to build. vshadowinfo (when
# installed) must list the store; the script fails otherwise.
set -euo pipefail
if [[ $# -ne 4 ]]; then
  echo "usage: $0 OUTDIR SCENARIOS_DIR MKHIVE NTFS_POPULATE" >&2
  exit 2
fi
out=$(realpath -m "$1") scen=$(realpath "$2") mkhive=$(realpath "$3") populate=$(realpath "$4")
here=$(cd "$(dirname "$0")" && pwd)
export TZ=UTC LC_ALL=C
PATH=$PATH:/sbin:/usr/sbin

readonly NTFS_MIB=48 DISK_MIB=64 PART_START=2048 STORE_MIB=24
mkdir -p "$out"
work=$out/.work-vss
rm -rf "$work"
mkdir -p "$work/content"
trap 'rm -rf "$work"' EXIT

# kes-active's disk parameters: the same machine and volume.
frozen="2022-02-21 15:00:00" serial=4B5653434E000001

for spec in "$here"/hives/*.spec; do
  base=$(basename "$spec" .spec)
  case $base in NTUSER-*) file=$base.DAT ;; *) file=$base ;; esac
  "$mkhive" "$spec" "$work/content/$file"
done
# The catalog and store files as VSS allocates them, full of a filler.
head -c 65536 /dev/zero | tr '\0' '\377' > "$work/content/vss-catalog"
head -c $((STORE_MIB << 20)) /dev/zero | tr '\0' '\377' > "$work/content/vss-store"

img=$work/ntfs.img
truncate -s "${NTFS_MIB}M" "$img"
faketime -f "$frozen" mkntfs -F -Q -q -s 512 -c 4096 -L Windows "$img" > /dev/null 2>&1 ||
  { echo "$0: mkntfs failed" >&2; exit 1; }
faketime -f "$frozen" ntfslabel --new-serial="$serial" "$img" Windows > /dev/null
faketime -f "$frozen" "$populate" "$img" "$here/ntfs.tsv" "$work/content"

past=$out/kes-active-volume.img
dd if="$scen/kes-active.raw" of="$past" bs=512 skip=$PART_START count=$((NTFS_MIB * 2048)) \
  status=none
/usr/bin/python3 "$here/../tools/kt-mkvss.py" "$img" "$past" \
  "System Volume Information/{3808876b-c176-4e48-b7ae-04046e6cc752}" \
  "System Volume Information/{4b565353-0000-4000-8000-000000000925}{3808876b-c176-4e48-b7ae-04046e6cc752}" \
  "$here/vss.conf"

raw=$out/kes-vss-wiped.raw
rm -f "$raw" "$out"/kes-vss-wiped.E??
truncate -s "${DISK_MIB}M" "$raw"
sfdisk -q "$raw" <<SF
label: gpt
label-id: 4B565453-0000-4000-8000-000000000925
unit: sectors
first-lba: 34
start=$PART_START, size=$((NTFS_MIB * 2048)), type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=4B565453-0000-4000-8000-0000000009D1, name="Basic data partition"
SF
dd if="$img" of="$raw" bs=512 seek=$PART_START conv=notrunc status=none
faketime -f "2024-12-10 09:30:00" ewfacquirestream -q -d sha1 -c deflate:none -S 1073741824 \
  -C "KT-VSS" -D "synthetic scenario kes-vss-wiped" -e "kavtrace testdata" \
  -E "EV-kes-vss-wiped" -N "built by testdata/vss/build-vss.sh" \
  -t "$out/kes-vss-wiped" < "$raw" > /dev/null

if command -v vshadowinfo > /dev/null; then
  vshadowinfo -o $((PART_START * 512)) "$raw" > "$work/vshadowinfo.txt" ||
    { cat "$work/vshadowinfo.txt" >&2; echo "$0: vshadowinfo refuses the store" >&2; exit 1; }
  grep -q "Number of stores:.*1" "$work/vshadowinfo.txt" ||
    { cat "$work/vshadowinfo.txt" >&2; echo "$0: vshadowinfo finds no store" >&2; exit 1; }
fi

# ---- kes-vss-two-stores: a second restore point, after the cutoff ------
# The same live volume with two shadow copies: the first (2024-09-25, as
# above) holds kes-active's volume; the second (2024-10-06, vss-second.conf)
# holds it too, with one document the user wrote on 2024-10-04
# (note-2024-10-04.txt, copied in by ntfscp): KES was still there after the
# cutoff.
readonly STORE1_MIB=8 STORE2_MIB=24
rm -rf "$work/content" && mkdir -p "$work/content"
for spec in "$here"/hives/*.spec; do
  base=$(basename "$spec" .spec)
  case $base in NTUSER-*) file=$base.DAT ;; *) file=$base ;; esac
  "$mkhive" "$spec" "$work/content/$file"
done
head -c 65536 /dev/zero | tr '\0' '\377' > "$work/content/vss-catalog"
head -c $((STORE1_MIB << 20)) /dev/zero | tr '\0' '\377' > "$work/content/vss-store"
head -c $((STORE2_MIB << 20)) /dev/zero | tr '\0' '\377' > "$work/content/vss-store2"
img2=$work/ntfs-two.img
truncate -s "${NTFS_MIB}M" "$img2"
faketime -f "$frozen" mkntfs -F -Q -q -s 512 -c 4096 -L Windows "$img2" > /dev/null 2>&1 ||
  { echo "$0: mkntfs failed" >&2; exit 1; }
faketime -f "$frozen" ntfslabel --new-serial="$serial" "$img2" Windows > /dev/null
cat "$here/ntfs.tsv" "$here/ntfs-second-store.tsv" > "$work/ntfs-two.tsv"
faketime -f "$frozen" "$populate" "$img2" "$work/ntfs-two.tsv" "$work/content"
past2=$out/kes-active-volume-2024-10-06.img
cp "$past" "$past2"
faketime -f "2024-10-04 14:22:05" ntfscp -q -f "$past2" "$here/note-2024-10-04.txt" \
  "Users/jdoe/Documents/note-2024-10-04.txt" > /dev/null 2>&1 ||
  { echo "$0: ntfscp failed" >&2; exit 1; }
/usr/bin/python3 "$here/../tools/kt-mkvss.py" "$img2" "$past" \
  "System Volume Information/{3808876b-c176-4e48-b7ae-04046e6cc752}" \
  "System Volume Information/{4b565353-0000-4000-8000-000000000925}{3808876b-c176-4e48-b7ae-04046e6cc752}" \
  "$here/vss.conf" "$past2" \
  "System Volume Information/{4b565353-0000-4000-8000-000000001006}{3808876b-c176-4e48-b7ae-04046e6cc752}" \
  "$here/vss-second.conf"

raw=$out/kes-vss-two-stores.raw
rm -f "$raw"
truncate -s "${DISK_MIB}M" "$raw"
sfdisk -q "$raw" <<SF
label: gpt
label-id: 4B565453-0000-4000-8000-000000001006
unit: sectors
first-lba: 34
start=$PART_START, size=$((NTFS_MIB * 2048)), type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=4B565453-0000-4000-8000-0000000009D1, name="Basic data partition"
SF
dd if="$img2" of="$raw" bs=512 seek=$PART_START conv=notrunc status=none
if command -v vshadowinfo > /dev/null; then
  vshadowinfo -o $((PART_START * 512)) "$raw" > "$work/vshadowinfo.txt" ||
    { cat "$work/vshadowinfo.txt" >&2; echo "$0: vshadowinfo refuses the stores" >&2; exit 1; }
  grep -q "Number of stores:.*2" "$work/vshadowinfo.txt" ||
    { cat "$work/vshadowinfo.txt" >&2; echo "$0: vshadowinfo does not list two stores" >&2; exit 1; }
  for t in "Sep 25, 2024 03:00:12.345678900 UTC" "Oct 06, 2024 03:00:09.123456700 UTC"; do
    grep -q "Creation time.*: $t" "$work/vshadowinfo.txt" ||
      { cat "$work/vshadowinfo.txt" >&2; echo "$0: vshadowinfo misses a store of $t" >&2; exit 1; }
  done
fi
