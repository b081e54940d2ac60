#!/usr/bin/env bash
# build-scenarios.sh OUTDIR MKHIVE NTFS_POPULATE MKEVTX [MKPREFETCH]
#
# Builds the synthetic Windows scenarios of testdata/scenarios/ (one
# directory each: hives/*.spec, ntfs.tsv, content/, disk.conf, and the
# ground truth expected.tsv; see testdata/scenarios/README.md), without
# mounts, loop devices or FUSE. For each scenario NAME it writes
#   OUTDIR/NAME.raw    64 MiB GPT disk, one "Basic data partition" (NTFS,
#                      48 MiB at sector 2048)
#   OUTDIR/NAME.E01..  the same disk as split EWF (16 MiB segments, no
#                      compression, SHA-1 stored, acquisition time pinned)
#   OUTDIR/NAME.vhd, OUTDIR/NAME.vmdk, OUTDIR/NAME.qcow2
#   OUTDIR/hives/NAME/ the hives built for the volume
# The raw disks are byte-identical from build to build; the containers carry
# what their writers add (libewf's set GUID, qemu-img's VHD UUID and VMDK
# CID).
#
#   MKHIVE          compiled testdata/tools/kt-mkhive.c
#   NTFS_POPULATE   compiled testdata/tools/kt-ntfs-populate.c
#   MKEVTX          compiled testdata/tools/kt-mkevtx.c
#   MKPREFETCH      compiled testdata/tools/kt-mkprefetch.c (scenarios with
#                   prefetch/*.spec need it)
# testdata/scenarios/tools/kt-ntfs-rmdir.c (deleted directories) is compiled
# here with cc and pkg-config's libntfs-3g flags.
#
# Hive files: hives/SOFTWARE.spec -> SOFTWARE (and SOFTWARE.LOG1/.LOG2 when
# the spec has a 'transaction'), hives/NTUSER-<user>.spec ->
# NTUSER-<user>.DAT; event logs: evtx/NAME.spec -> NAME.evtx (kt-mkevtx);
# SQLite databases: sql/NAME.sql -> NAME (sqlite3, run on the SQL text);
# prefetch: prefetch/NAME.spec -> NAME.pf (kt-mkprefetch); ntfs.tsv names
# them (and the files in content/) as @NAME. ntfs.tsv is the kt-ntfs-populate manifest plus the kind
# 'deleted-dir': kt-ntfs-populate gets it as 'dir', then kt-ntfs-rmdir
# deletes it.
#
# PE files: a scenario's pe.list names files built by testdata/pe/build-pe.sh
# (in $KT_PE_DIR, default OUTDIR/../pe), which ntfs.tsv names as @NAME.
#
# A stamp of the inputs' hashes lets a second run with the same inputs
# return at once.
set -euo pipefail

if [[ $# -lt 4 || $# -gt 5 ]]; then
  echo "usage: $0 OUTDIR MKHIVE NTFS_POPULATE MKEVTX [MKPREFETCH]" >&2
  exit 2
fi
out=$(realpath -m "$1") mkhive=$(realpath "$2") populate=$(realpath "$3") mkevtx=$(realpath "$4")
mkprefetch=${5:+$(realpath "$5")}
here=$(cd "$(dirname "$0")" && pwd)
scen=$here/scenarios
pedir=${KT_PE_DIR:-$(dirname "$out")/pe}
export TZ=UTC LC_ALL=C
PATH=$PATH:/sbin:/usr/sbin # mkntfs, ntfslabel, sfdisk

for tool in mkntfs ntfslabel faketime sfdisk ewfacquirestream qemu-img cc pkg-config sqlite3; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "$0: $tool not found (apt-get install ntfs-3g ntfs-3g-dev faketime fdisk ewf-tools qemu-utils gcc pkg-config sqlite3)" >&2
    exit 1
  }
done
[[ -x $mkhive ]] || { echo "$0: not executable: $mkhive" >&2; exit 1; }
[[ -x $populate ]] || { echo "$0: not executable: $populate" >&2; exit 1; }
[[ -x $mkevtx ]] || { echo "$0: not executable: $mkevtx" >&2; exit 1; }

readonly NTFS_MIB=48 DISK_MIB=64 PART_START=2048
readonly PART_SECTORS=$((NTFS_MIB * 2048))

mapfile -t names < <(cd "$scen" && for d in */; do
  [[ -f $d/ntfs.tsv ]] && printf '%s\n' "${d%/}"; done)
[[ ${#names[@]} -gt 0 ]] || { echo "$0: no scenario in $scen" >&2; exit 1; }

inputs_hash() {
  (cd "$scen" && find . -type f ! -name '*.md' ! -name expected.tsv -print0 |
     LC_ALL=C sort -z | xargs -0 sha256sum
   sha256sum "$here/build-scenarios.sh" "$mkhive" "$populate" "$mkevtx" ${mkprefetch:+"$mkprefetch"} |
     cut -d' ' -f1
   sqlite3 --version
   for list in "$scen"/*/pe.list; do
     [[ -e $list ]] || continue
     grep -v '^#' "$list" | while read -r pe; do [[ -n $pe ]] && sha256sum < "$pedir/$pe"; done
   done) | sha256sum | cut -d' ' -f1
}
stamp=$out/.scenarios-stamp
want=$(inputs_hash)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  echo "scenarios in $out are up to date"
  exit 0
fi

start=$SECONDS
step() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
mkdir -p "$out"
rm -f "$stamp"
work=$out/.work-scenarios
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

# Quiet unless it fails.
run() {
  local log
  if ! log=$("$@" 2>&1); then
    printf '%s\n' "$log" >&2
    echo "$0: failed: $*" >&2
    return 1
  fi
}

rmdir_tool=$work/kt-ntfs-rmdir
# shellcheck disable=SC2046
cc -std=c11 -O2 -Wall -Wextra -Wshadow -Wformat=2 -Wvla -Werror -o "$rmdir_tool" \
  "$scen/tools/kt-ntfs-rmdir.c" $(pkg-config --cflags --libs libntfs-3g)

# conf FILE KEY: the value of KEY in a disk.conf (KEY<TAB>VALUE lines).
conf() {
  awk -F'\t' -v k="$2" '$1 == k { print $2; found = 1 } END { exit !found }' "$1" ||
    { echo "$0: $1: no '$2'" >&2; return 1; }
}

for name in "${names[@]}"; do
  dir=$scen/$name w=$work/$name
  frozen=$(conf "$dir/disk.conf" frozen)
  serial=$(conf "$dir/disk.conf" ntfs_serial)
  disk_guid=$(conf "$dir/disk.conf" disk_guid)
  part_guid=$(conf "$dir/disk.conf" part_guid)
  acquired=$(conf "$dir/disk.conf" acquired)
  mkdir -p "$w/content" "$out/hives/$name"
  rm -f "$out/hives/$name"/*

  step "$name: hives, event logs, databases"
  if [[ -d $dir/content ]]; then cp -R "$dir/content/." "$w/content/"; fi
  if [[ -f $dir/pe.list ]]; then
    grep -v '^#' "$dir/pe.list" | while read -r pe; do
      [[ -z $pe ]] && continue
      [[ -f $pedir/$pe ]] || { echo "$0: $name: no PE $pedir/$pe (testdata/pe/build-pe.sh)" >&2; exit 1; }
      cp "$pedir/$pe" "$w/content/$pe"
    done
  fi
  for spec in "$dir"/hives/*.spec; do
    base=$(basename "$spec" .spec)
    case $base in NTUSER-* | UsrClass-*) file=$base.DAT ;; *) file=$base ;; esac
    "$mkhive" "$spec" "$out/hives/$name/$file"
    cp "$out/hives/$name/$file" "$w/content/$file"
    # A spec with 'transaction' also makes the hive's logs (FILE.LOG1/.LOG2).
    for log in "$out/hives/$name/$file".LOG1 "$out/hives/$name/$file".LOG2; do
      if [[ -e $log ]]; then cp "$log" "$w/content/"; fi
    done
  done
  for spec in "$dir"/evtx/*.spec; do
    [[ -e $spec ]] || continue
    "$mkevtx" "$spec" "$w/content/$(basename "$spec" .spec).evtx"
  done
  for sql in "$dir"/sql/*.sql; do
    [[ -e $sql ]] || continue
    db=$w/content/$(basename "$sql" .sql)
    rm -f "$db"
    sqlite3 -bail "$db" < "$sql" > /dev/null
  done
  for spec in "$dir"/prefetch/*.spec; do
    [[ -e $spec ]] || continue
    [[ -n $mkprefetch ]] || { echo "$0: $spec needs MKPREFETCH" >&2; exit 1; }
    "$mkprefetch" "$spec" "$w/content/$(basename "$spec" .spec).pf"
  done

  step "$name: NTFS volume"
  awk 'BEGIN { FS = OFS = "\t" } !/^#/ && $1 == "deleted-dir" { $1 = "dir" } { print }' \
    "$dir/ntfs.tsv" > "$w/populate.tsv"
  img=$w/ntfs.img
  truncate -s "${NTFS_MIB}M" "$img"
  run faketime -f "$frozen" mkntfs -F -Q -q -s 512 -c 4096 -L Windows "$img"
  run faketime -f "$frozen" ntfslabel --new-serial="$serial" "$img" Windows
  faketime -f "$frozen" "$populate" "$img" "$w/populate.tsv" "$w/content"
  faketime -f "$frozen" "$rmdir_tool" "$img" "$dir/ntfs.tsv"

  step "$name: GPT disk"
  raw=$out/$name.raw
  rm -f "$raw" "$out/$name".E?? "$out/$name.vhd" "$out/$name.vmdk" "$out/$name.qcow2"
  truncate -s "${DISK_MIB}M" "$raw"
  sfdisk -q "$raw" <<SF
label: gpt
label-id: $disk_guid
unit: sectors
first-lba: 34
start=$PART_START, size=$PART_SECTORS, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=$part_guid, name="Basic data partition"
SF
  dd if="$img" of="$raw" bs=512 seek="$PART_START" conv=notrunc status=none

  step "$name: containers"
  faketime -f "$acquired" ewfacquirestream -q -d sha1 -c deflate:none -S 16777216 \
    -C "KT-SCENARIO" -D "synthetic scenario $name" -e "kavtrace testdata" \
    -E "EV-$name" -N "built by testdata/build-scenarios.sh" \
    -t "$out/$name" < "$raw" > /dev/null
  qemu-img convert -q -f raw -O vpc -o force_size=on "$raw" "$out/$name.vhd"
  qemu-img convert -q -f raw -O vmdk "$raw" "$out/$name.vmdk"
  qemu-img convert -q -f raw -O qcow2 "$raw" "$out/$name.qcow2"
done

echo "$want" > "$stamp"
step "done: ${#names[@]} scenarios in $((SECONDS - start)) s in $out"
