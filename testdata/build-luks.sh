#!/usr/bin/env bash
# build-luks.sh OUTDIR MKLUKS: LUKS1-encrypted Linux scenarios, from the
# scenario disks build-unix-scenarios.sh wrote into OUTDIR/scenarios-unix.
#
#   scenarios-unix/kesl-ubuntu.luks.raw  an MBR disk of two LUKS1 partitions:
#     1: aes-xts-plain64, 256-bit key, holding kesl-ubuntu's ext4 volume;
#        key slot 0 opens with luks/ubuntu.pass, slot 1 with luks/ubuntu.key
#     2: aes-cbc-essiv:sha256, 256-bit key, holding kesl-astra's ext4
#        volume; opens with luks/astra.pass
#   luks1-512.img  a LUKS1 header with a 512-bit aes-xts-plain64 key (which
#     Debian's libluksde cannot read safely), slot 0 luks/ubuntu.pass
#
# kt-mkluks draws salts, master keys and AF stripes from a fixed seed, so
# every build writes the same bytes (cryptsetup luksFormat draws them at
# random). Each volume is checked with cryptsetup (luksDump, and the
# passphrases with open --test-passphrase, which needs no root) and
# luksdeinfo. Ground truth: truth/luks.tsv; the volumes' contents are the
# scenarios' own (their expected.tsv).
set -euo pipefail
out=$(realpath "$1") mkluks=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
keys=$here/luks
work=$(mktemp -d "$out/luks-work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The scenario disks' one ext4 partition: sectors 2048.. (65536 sectors).
readonly PART_START=2048 PART_SECTORS=65536 LUKS_SECTORS=$((4096 + 65536))
for name in kesl-ubuntu kesl-astra; do
  dd if="$out/scenarios-unix/$name.raw" of="$work/$name.ext4" bs=512 skip=$PART_START \
    count=$PART_SECTORS status=none
done
"$mkluks" "$work/p1.luks" "$work/kesl-ubuntu.ext4" 4b565455-0000-4000-8000-00000000c111 \
  kavtrace-luks-ubuntu xts-plain64 256 "$keys/ubuntu.pass" "$keys/ubuntu.key"
"$mkluks" "$work/p2.luks" "$work/kesl-astra.ext4" 4b565455-0000-4000-8000-00000000c112 \
  kavtrace-luks-astra cbc-essiv:sha256 256 "$keys/astra.pass"
head -c 1048576 /dev/zero > "$work/zero"
"$mkluks" "$out/luks1-512.img" "$work/zero" 4b565455-0000-4000-8000-00000000c113 \
  kavtrace-luks-512 xts-plain64 512 "$keys/ubuntu.pass"

for v in p1 p2; do
  cryptsetup isLuks "$work/$v.luks"
  cryptsetup luksDump "$work/$v.luks" > /dev/null
done
cryptsetup open --test-passphrase --key-file "$keys/ubuntu.pass" "$work/p1.luks"
cryptsetup open --test-passphrase --key-file "$keys/ubuntu.key" "$work/p1.luks"
cryptsetup open --test-passphrase --key-file "$keys/astra.pass" "$work/p2.luks"
cryptsetup open --test-passphrase --key-file "$keys/ubuntu.pass" "$out/luks1-512.img"
if cryptsetup open --test-passphrase --key-file "$keys/wrong.pass" "$work/p1.luks" 2>/dev/null; then
  echo "$0: the wrong passphrase opens p1" >&2
  exit 1
fi
info=$(luksdeinfo -p "$(cat "$keys/ubuntu.pass")" "$work/p1.luks")
[[ $info == *AES-XTS* && $info != *"Is locked"* ]]
info=$(luksdeinfo -p "$(cat "$keys/astra.pass")" "$work/p2.luks")
[[ $info == *AES-CBC* && $info != *"Is locked"* ]]

disk=$out/scenarios-unix/kesl-ubuntu.luks.raw
rm -f "$disk"
truncate -s $(((PART_START + 2 * LUKS_SECTORS + 2048) * 512)) "$disk"
sfdisk -q "$disk" <<SF
label: dos
label-id: 0x4b565455
unit: sectors
start=$PART_START, size=$LUKS_SECTORS, type=83
start=$((PART_START + LUKS_SECTORS)), size=$LUKS_SECTORS, type=83
SF
dd if="$work/p1.luks" of="$disk" bs=512 seek=$PART_START conv=notrunc,sparse status=none
dd if="$work/p2.luks" of="$disk" bs=512 seek=$((PART_START + LUKS_SECTORS)) conv=notrunc,sparse \
  status=none
