#!/usr/bin/env bash
# build-bde.sh OUTDIR MKBDE: BitLocker-encrypted Windows scenarios, from the
# scenario disks build-scenarios.sh wrote into OUTDIR/scenarios.
#
#   scenarios/kes-active.bde.raw  a GPT disk of two BitLocker (Windows 7 and
#     later, FVE metadata version 2) partitions:
#     1: AES-XTS-128 (Windows 10's default), holding kes-active's NTFS
#        volume; opens with the recovery password bde/active.recovery, the
#        user password bde/active.pass or the startup key OUTDIR/bde/active.BEK
#        (a .BEK file, written here from the seed)
#     2: AES-CBC-128 without diffuser, holding kes-russian's NTFS volume;
#        opens with bde/russian.recovery
#
# kt-mkbde draws the VMK, the FVEK, the salts and the nonces from a fixed
# seed, so every build writes the same bytes (checked: p1 is written twice).
# Each volume is checked with
# libbde, independently of kavtrace: bdeinfo (with the recovery password)
# lists its method, identifier and protectors, and a reader on libbde
# (tools/check-bde-read.c, compiled here) decrypts it with each key to the
# very bytes of the scenario's NTFS volume, and refuses bde/wrong.recovery.
# Ground truth: truth/bde.tsv; the volumes' contents are the scenarios' own
# (their expected.tsv).
set -euo pipefail
out=$(realpath "$1") mkbde=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
keys=$here/bde
work=$(mktemp -d "$out/bde-work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The scenario disks' one NTFS partition: sectors 2048.. (98304 sectors).
readonly PART_START=2048 PART_SECTORS=98304
for name in kes-active kes-russian; do
  dd if="$out/scenarios/$name.raw" of="$work/$name.ntfs" bs=512 skip=$PART_START \
    count=$PART_SECTORS status=none
done
mkdir -p "$out/bde"
"$mkbde" "$work/p1.bde" "$work/kes-active.ntfs" 4b565455-0000-4000-8000-0000000bde01 \
  kavtrace-bde-active xts128 "$keys/active.recovery" "$keys/active.pass" "$out/bde/active.BEK"
"$mkbde" "$work/p2.bde" "$work/kes-russian.ntfs" 4b565455-0000-4000-8000-0000000bde02 \
  kavtrace-bde-russian cbc128 "$keys/russian.recovery"

# The same inputs give the same bytes.
"$mkbde" "$work/again.bde" "$work/kes-active.ntfs" 4b565455-0000-4000-8000-0000000bde01 \
  kavtrace-bde-active xts128 "$keys/active.recovery" "$keys/active.pass" "$work/again.BEK"
cmp "$work/p1.bde" "$work/again.bde"
cmp "$out/bde/active.BEK" "$work/again.BEK"
rm "$work/again.bde"

cc -O2 -o "$work/check-bde-read" "$here/tools/check-bde-read.c" -lbde
rec() { tr -d '\n' < "$keys/$1"; }
check() { # VOLUME PLAIN METHOD RECOVERY [PASSWORD [BEK]]
  local info
  info=$(bdeinfo -r "$(rec "$4")" "$1")
  [[ $info == *"Encryption method"*"$3"* && $info == *"Recovery password"* ]] ||
    { echo "$0: bdeinfo does not see $3 and a recovery password in $1" >&2; exit 1; }
  "$work/check-bde-read" -r "$(rec "$4")" "$1" | cmp - "$2"
  if [[ -n ${5:-} ]]; then
    [[ $info == *"Type"*"Password"* ]] || { echo "$0: no password protector in $1" >&2; exit 1; }
    "$work/check-bde-read" -p "$(cat "$keys/$5")" "$1" | cmp - "$2"
  fi
  if [[ -n ${6:-} ]]; then
    [[ $info == *"Type"*"Startup key"* ]] || { echo "$0: no startup key protector in $1" >&2; exit 1; }
    "$work/check-bde-read" -k "$6" "$1" | cmp - "$2"
  fi
  local rc=0
  "$work/check-bde-read" -r "$(rec wrong.recovery)" "$1" > /dev/null || rc=$?
  [[ $rc == 3 ]] || { echo "$0: the wrong recovery password opens $1 ($rc)" >&2; exit 1; }
}
check "$work/p1.bde" "$work/kes-active.ntfs" "AES-XTS 128-bit" active.recovery active.pass \
  "$out/bde/active.BEK"
check "$work/p2.bde" "$work/kes-russian.ntfs" "AES-CBC 128-bit" russian.recovery

disk=$out/scenarios/kes-active.bde.raw
rm -f "$disk"
truncate -s $(((PART_START + 2 * PART_SECTORS + 2048) * 512)) "$disk"
sfdisk -q "$disk" <<SF
label: gpt
label-id: 4B565455-0000-4000-8000-00000000BDE0
unit: sectors
first-lba: 34
start=$PART_START, size=$PART_SECTORS, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=4B565455-0000-4000-8000-0000000BDE11, name="Basic data partition"
start=$((PART_START + PART_SECTORS)), size=$PART_SECTORS, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=4B565455-0000-4000-8000-0000000BDE12, name="Basic data partition"
SF
dd if="$work/p1.bde" of="$disk" bs=512 seek=$PART_START conv=notrunc,sparse status=none
dd if="$work/p2.bde" of="$disk" bs=512 seek=$((PART_START + PART_SECTORS)) conv=notrunc,sparse \
  status=none
