#!/usr/bin/env bash
# build-luks.sh OUTDIR MKLUKS: LUKS1-encrypted Linux scenarios, from the
# scenario disks build-unix-scenarios.sh wrote into OUTDIR/scenarios-unix.
#
#   scenarios-unix/kesl-ubuntu.luks.raw  an MBR disk of two LUKS1 partitions:
#     1: aes-xts-plain64, 256-bit key, holding kesl-ubuntu's ext4 volume;
#        key slot 0 opens with luks/ubuntu.pass, slot 1 with luks/ubuntu.key
#     2: aes-cbc-essiv:sha256, 256-bit key, holding kesl-astra's ext4
#        volume; opens with luks/astra.pass
#   scenarios-unix/kesl-rhel-removed.luks.raw  an MBR disk of one LUKS1
#     partition in cryptsetup 2.x's default shape (aes-xts-plain64, 512-bit
#     key, SHA-256, payload at sector 4096) holding kesl-rhel-removed's ext4
#     volume; opens with luks/rhel.pass. Debian's libluksde crashes on it
#     (kavtrace decrypts it itself).
#   luks-modes/MODE-BITS.luks  a small LUKS1 volume of every mode and key
#     size kavtrace reads (truth/luks-modes.tsv), each holding
#     luks-modes/payload.bin (64 KiB, SHA-256 of a counter); luks/ubuntu.pass
#   luks1-serpent.img  a LUKS1 header kavtrace refuses: written as
#     aes-xts-plain64 512, then its cipher name set to "serpent" (the key
#     slots are not serpent's; kavtrace refuses it from the header alone)
#
# kt-mkluks draws salts, master keys and AF stripes from a fixed seed, so
# every build writes the same bytes (cryptsetup luksFormat draws them at
# random). Each volume is checked with cryptsetup (luksDump, and the
# passphrases with open --test-passphrase, which needs no root), with
# luksdeinfo where libluksde reads it, and its payload with
# tools/check-luks.py (a decrypter of its own, hashlib and OpenSSL through
# the cryptography module). Ground truth: truth/luks.tsv and
# truth/luks-modes.tsv; the volumes' contents are the scenarios' own (their
# expected.tsv).
set -euo pipefail
out=$(realpath "$1") mkluks=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
keys=$here/luks
work=$(mktemp -d "$out/luks-work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Whether cryptsetup luksDump of $1 matches the extended regex $2.
dump_has() {
  local dump
  dump=$(cryptsetup luksDump "$1")
  [[ $dump =~ $2 ]] || { echo "$0: luksDump $1: no '$2'" >&2; return 1; }
}

# The scenario disks' one ext4 partition: sectors 2048.. (65536 sectors).
readonly PART_START=2048 PART_SECTORS=65536 LUKS_SECTORS=$((4096 + 65536))
for name in kesl-ubuntu kesl-astra kesl-rhel-removed; do
  dd if="$out/scenarios-unix/$name.raw" of="$work/$name.ext4" bs=512 skip=$PART_START \
    count=$PART_SECTORS status=none
done
"$mkluks" "$work/p1.luks" "$work/kesl-ubuntu.ext4" 4b565455-0000-4000-8000-00000000c111 \
  kavtrace-luks-ubuntu xts-plain64 256 "$keys/ubuntu.pass" "$keys/ubuntu.key"
"$mkluks" "$work/p2.luks" "$work/kesl-astra.ext4" 4b565455-0000-4000-8000-00000000c112 \
  kavtrace-luks-astra cbc-essiv:sha256 256 "$keys/astra.pass"
"$mkluks" "$work/p3.luks" "$work/kesl-rhel-removed.ext4" 4b565455-0000-4000-8000-00000000c113 \
  kavtrace-luks-rhel xts-plain64 512 "$keys/rhel.pass"
"$mkluks" "$out/luks1-serpent.img" - 4b565455-0000-4000-8000-00000000c114 kavtrace-luks-serpent \
  xts-plain64 512 "$keys/ubuntu.pass"
printf 'serpent\0\0\0\0\0\0\0\0' | dd of="$out/luks1-serpent.img" bs=1 seek=8 conv=notrunc status=none
dump_has "$out/luks1-serpent.img" 'Cipher name:[[:space:]]+serpent'


for v in p1 p2 p3; do
  cryptsetup isLuks "$work/$v.luks"
  cryptsetup luksDump "$work/$v.luks" > /dev/null
done
cryptsetup open --test-passphrase --key-file "$keys/ubuntu.pass" "$work/p1.luks"
cryptsetup open --test-passphrase --key-file "$keys/ubuntu.key" "$work/p1.luks"
cryptsetup open --test-passphrase --key-file "$keys/astra.pass" "$work/p2.luks"
cryptsetup open --test-passphrase --key-file "$keys/rhel.pass" "$work/p3.luks"
dump_has "$work/p3.luks" 'Cipher mode:[[:space:]]+xts-plain64'
dump_has "$work/p3.luks" 'MK bits:[[:space:]]+512'
dump_has "$work/p3.luks" 'Payload offset:[[:space:]]+4096'
"$here/tools/check-luks.py" "$work/p1.luks" "$keys/ubuntu.pass" "$work/kesl-ubuntu.ext4" 4096
"$here/tools/check-luks.py" "$work/p2.luks" "$keys/astra.pass" "$work/kesl-astra.ext4" 4096
"$here/tools/check-luks.py" "$work/p3.luks" "$keys/rhel.pass" "$work/kesl-rhel-removed.ext4"
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

disk=$out/scenarios-unix/kesl-rhel-removed.luks.raw
rm -f "$disk"
truncate -s $(((PART_START + LUKS_SECTORS + 2048) * 512)) "$disk"
sfdisk -q "$disk" <<SF
label: dos
label-id: 0x4b565513
unit: sectors
start=$PART_START, size=$LUKS_SECTORS, type=83
SF
dd if="$work/p3.luks" of="$disk" bs=512 seek=$PART_START conv=notrunc,sparse status=none

# Every mode and key size kavtrace reads, around one payload.
modes=$out/luks-modes
rm -rf "$modes"
mkdir -p "$modes"
python3 -c 'import hashlib, sys
sys.stdout.buffer.write(b"".join(hashlib.sha256(b"kavtrace luks-modes %d" % i).digest()
                                 for i in range(2048)))' > "$modes/payload.bin"
n=0
while IFS=$'\t' read -r -u 3 file mode bits decrypter; do
  [[ $file == \#* ]] && continue
  n=$((n + 1))
  "$mkluks" "$modes/$file" "$modes/payload.bin" "4b565455-0000-4000-8000-00000000c2$(printf %02d $n)" \
    "kavtrace-luks-modes-$file" "$mode" "$bits" "$keys/ubuntu.pass"
  cryptsetup open --test-passphrase --key-file "$keys/ubuntu.pass" "$modes/$file"
  dump_has "$modes/$file" "Cipher mode:[[:space:]]+$mode"$'\n'
  dump_has "$modes/$file" "MK bits:[[:space:]]+$bits"$'\n'
  "$here/tools/check-luks.py" "$modes/$file" "$keys/ubuntu.pass" "$modes/payload.bin"
  if [[ $decrypter == libluksde ]]; then
    info=$(luksdeinfo -p "$(cat "$keys/ubuntu.pass")" "$modes/$file")
    [[ $info != *"Is locked"* ]]
  fi
done 3< "$here/truth/luks-modes.tsv"
((n == 13))
