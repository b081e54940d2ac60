#!/usr/bin/env bash
# build-evidence.sh OUTDIR MKHIVE NTFS_POPULATE MKEVTX MKPREFETCH MKRPMDB MKPE MKLUKS MKBDE
#
# Builds every synthetic evidence item from nothing, without mounts, loop
# devices or FUSE: registry hives, an NTFS Windows volume, an ext4 Linux
# volume, FAT volumes, a GPT and an MBR disk, and each disk in the
# containers kavtrace reads (split E01, VMDK, VHD, split raw), plus damaged
# copies for the error tests. The disks' content is the same on every build;
# the container wrappers carry what their writers add (qemu-img's VHD UUID
# and VMDK CID, libewf's set GUID). Ground truth sits in testdata/.
#
# A stamp of the inputs' hashes lets a second run with the same inputs
# return at once.
set -euo pipefail

if [[ $# -ne 9 ]]; then
  echo "usage: $0 OUTDIR MKHIVE NTFS_POPULATE MKEVTX MKPREFETCH MKRPMDB MKPE MKLUKS MKBDE" >&2
  exit 2
fi
out=$(realpath -m "$1") mkhive=$(realpath "$2") populate=$(realpath "$3") mkevtx=$(realpath "$4")
mkprefetch=$(realpath "$5") mkrpmdb=$(realpath "$6") mkpe=$(realpath "$7") mkluks=$(realpath "$8")
mkbde=$(realpath "$9")
here=$(cd "$(dirname "$0")" && pwd)
export TZ=UTC LC_ALL=C

# build-campaign.py builds from the evidence, not into it: not an input.
inputs_hash() {
  (cd "$here" && find . -type f ! -name '*.md' ! -name build-campaign.py -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
   sha256sum "$mkhive" "$populate" "$mkevtx" "$mkprefetch" "$mkrpmdb" "$mkpe" "$mkluks" "$mkbde" | cut -d' ' -f1) |
    sha256sum | cut -d' ' -f1
}
stamp="$out/.stamp"
want=$(inputs_hash)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  echo "evidence in $out is up to date"
  exit 0
fi

rm -rf "$out"
mkdir -p "$out/work" "$out/corrupt"
work=$out/work
step() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# The images' zone files come from the pinned tzdata release, never the host's.
step "zone files (pinned tzdata)"
"$here/tz/zoneinfo.sh" "$out/zoneinfo"
export KT_ZONEINFO=$out/zoneinfo

# PE files with version resources and Authenticode signatures (testdata/pe/).
step "PE files (testdata/pe/*.spec)"
"$here/pe/build-pe.sh" "$out/pe" "$mkpe"

# --- Windows volume: hives, then NTFS ------------------------------------
step "registry hives"
mkdir -p "$work/content" "$out/hives"
for spec in SOFTWARE SYSTEM NTUSER-alice; do
  name=$spec; [[ $spec == NTUSER-alice ]] && name=NTUSER-alice.DAT
  "$mkhive" "$here/windows/hives/$spec.spec" "$out/hives/$name"
  cp "$out/hives/$name" "$work/content/$name"
done

step "NTFS volume"
"$here/windows/build-ntfs.sh" "$work/ntfs.img" "$here/windows/ntfs.tsv" "$work/content" "$populate"
mkdir -p "$out/ntfs"   # MFT records freed and reused (windows/ntfs-reuse.tsv)
"$here/windows/build-ntfs.sh" "$out/ntfs/reuse.raw" "$here/windows/ntfs-reuse.tsv" "$work/content" \
  "$populate"

step "FAT volumes"
"$here/build-fat.sh" "$work/esp.img" 8192 4B565431 ESP "$here/fat/esp.tsv" 16
"$here/build-fat.sh" "$work/data.img" 12288 4B565432 DATA "$here/fat/data.tsv" 16

step "ext4 volume"
"$here/linux/build-ext4.sh" "$work/ext4.img" "$here/linux/ext4.tsv" "$work/content"

# --- disks ------------------------------------------------------------------
# Sizes in 512-byte sectors; see truth/volumes.tsv.
place() { dd if="$2" of="$1" bs=512 seek="$3" conv=notrunc status=none; }

step "GPT disk (windows.raw)"
truncate -s 64M "$out/windows.raw"
sfdisk -q "$out/windows.raw" <<'SF'
label: gpt
label-id: 4B565452-0000-4000-8000-000000000001
unit: sectors
first-lba: 34
start=2048, size=16384, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=4B565452-0000-4000-8000-0000000000E1, name="EFI system partition"
start=18432, size=98304, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=4B565452-0000-4000-8000-0000000000D1, name="Basic data partition"
SF
place "$out/windows.raw" "$work/esp.img" 2048
place "$out/windows.raw" "$work/ntfs.img" 18432

step "MBR disk with an extended partition (linux.raw)"
truncate -s 64M "$out/linux.raw"
sfdisk -q "$out/linux.raw" <<'SF'
label: dos
label-id: 0x4b565452
unit: sectors
start=2048, size=65536, type=83, bootable
start=67584, size=63488, type=5
start=69632, size=24576, type=e
SF
place "$out/linux.raw" "$work/ext4.img" 2048
place "$out/linux.raw" "$work/data.img" 69632

# --- containers ---------------------------------------------------------------
ewf() { # ewf RAW TARGET SEGMENT_BYTES COMPRESSION
  faketime -f '2024-11-02 10:00:00' ewfacquirestream -q -d sha1 -c "$4" -S "$3" \
    -C "KT-2024-017" -D "synthetic $(basename "$2") disk" -e "kavtrace testdata" \
    -E "EV-$(basename "$2")" -N "built by testdata/build-evidence.sh" \
    -t "$2" < "$1" > /dev/null
}
step "containers"
ewf "$out/windows.raw" "$out/windows" 16777216 deflate:none   # split: windows.E01..E05
ewf "$out/linux.raw" "$out/linux" 1073741824 deflate:fast     # one compressed segment
for d in windows linux; do
  qemu-img convert -q -f raw -O vpc -o force_size=on "$out/$d.raw" "$out/$d.vhd"
  qemu-img convert -q -f raw -O vmdk "$out/$d.raw" "$out/$d.vmdk"
  qemu-img convert -q -f raw -O qcow2 "$out/$d.raw" "$out/$d.qcow2"   # QCOW version 3
done
# QCOW version 2 (compat 0.10), and an AFF file (AFFLIB's writer: its image GID and
# acquisition date change from build to build; the bytes read are what the tests check).
qemu-img convert -q -f raw -O qcow2 -o compat=0.10 "$out/linux.raw" "$out/linux-v2.qcow2"
affconvert -q -o "$out/windows.aff" "$out/windows.raw" > /dev/null
qemu-img convert -q -f raw -O vmdk "$work/ntfs.img" "$out/bare-ntfs.vmdk"
(cd "$out" && split -b 16M -d -a 3 windows.raw windows.split.)   # .000 .001 ...
(cd "$out" && split -b 16M linux.raw linux.split.)               # .aa .ab ...

# --- damaged evidence -----------------------------------------------------------
step "damaged copies"
c=$out/corrupt
: > "$c/empty.img"
# Reproducible noise (1 MiB): awk's seeded generator, as hex, through xxd.
awk 'BEGIN { srand(20240929); for (i = 0; i < 1048576; i++) printf "%02x", int(rand() * 256) }' \
  | xxd -r -p > "$c/random.img"
head -c 4000000 "$out/windows.E01" > "$c/truncated.E01"
head -c 20000000 "$out/linux.raw" > "$c/truncated.raw"
# The split E01 with chunk 492 (media bytes 16121856-16154623, data inside the NTFS
# volume) damaged: its data bit-flipped under the old Adler-32 (libewf: a checksum
# error), or altered with the Adler-32 recomputed (reads cleanly, but no longer matches
# the stored MD5/SHA-1).
for mode in flip alter; do
  for seg in "$out"/windows.E0?; do cp "$seg" "$c/ewf-$mode.${seg##*.}"; done
  /usr/bin/python3 "$here/tools/ewf-chunk.py" "$c/ewf-$mode.E01" "$mode" 492
done
# The dynamic windows.vhd with its footer (last 512 bytes) zeroed: the copy at offset 0
# is intact. Then that copy's checksum broken too (its low byte inverted).
vsz=$(stat -c %s "$out/windows.vhd")
cp "$out/windows.vhd" "$c/vhd-no-footer.vhd"
dd if=/dev/zero of="$c/vhd-no-footer.vhd" bs=512 seek=$((vsz / 512 - 1)) count=1 \
  conv=notrunc status=none
cp "$c/vhd-no-footer.vhd" "$c/vhd-no-footers.vhd"
b=$(od -An -tu1 -j 67 -N 1 "$c/vhd-no-footers.vhd" | tr -d ' ')
printf "\\x$(printf %02x $((b ^ 255)))" |
  dd of="$c/vhd-no-footers.vhd" bs=1 seek=67 conv=notrunc status=none
# A QCOW overlay on linux.qcow2 (named relative to the overlay, as qemu-img writes it),
# and an encrypted QCOW (LUKS inside, passphrase "kavtrace"): both refused.
qemu-img create -q -f qcow2 -b ../linux.qcow2 -F qcow2 "$c/qcow-overlay.qcow2"
qemu-img create -q --object secret,id=sec0,data=kavtrace -f qcow2 \
  -o encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10 "$c/qcow-encrypted.qcow2" 16M
cp "$out/windows.raw" "$c/gpt-bad-header.raw"
printf 'X' | dd of="$c/gpt-bad-header.raw" bs=1 seek=$((512 + 7)) conv=notrunc status=none
cp "$work/ntfs.img" "$c/ntfs-zeroed-mft.raw"
# $MFT's first cluster: boot sector 0x30 (u64 LCN) x bytes/sector (0x0B) x sectors/cluster (0x0D).
mft=$(od -An -t u8 -j 48 -N 8 "$work/ntfs.img" | tr -d ' ')
bps=$(od -An -t u2 -j 11 -N 2 "$work/ntfs.img" | tr -d ' ')
spc=$(od -An -t u1 -j 13 -N 1 "$work/ntfs.img" | tr -d ' ')
dd if=/dev/zero of="$c/ntfs-zeroed-mft.raw" bs=1 seek=$((mft * bps * spc)) count=1024 conv=notrunc status=none

# --- a directory tree as evidence (macOS-like) --------------------------------
step "directory evidence"
"$here/build-tree.sh" "$out/macos-tree" "$here/macos/tree.tsv"

step "event-log tree (Windows logs from testdata/windows/evtx/*.spec)"
tree=$out/evtx-tree
mkdir -p "$tree/Windows/System32/config" "$tree/Windows/System32/winevt/Logs"
cp "$out/hives/SOFTWARE" "$out/hives/SYSTEM" "$tree/Windows/System32/config/"
mkdir -p "$tree/Windows/appcompat/Programs"
"$mkhive" "$here/windows/hives/Amcache-kes.spec" "$tree/Windows/appcompat/Programs/Amcache.hve"
"$mkevtx" "$here/windows/evtx/Application.spec" "$tree/Windows/System32/winevt/Logs/Application.evtx"
"$mkevtx" "$here/windows/evtx/System.spec" "$tree/Windows/System32/winevt/Logs/System.evtx"
"$mkevtx" "$here/windows/evtx/KES.spec" \
  "$tree/Windows/System32/winevt/Logs/Kaspersky Endpoint Security.evtx"

step "Windows scenarios with expected findings"
"$here/build-scenarios.sh" "$out/scenarios" "$mkhive" "$populate" "$mkevtx" "$mkprefetch"

step "Volume Shadow Copy scenario (kes-vss-wiped)"
"$here/vss/build-vss.sh" "$out/vss" "$out/scenarios" "$mkhive" "$populate"

step "change journal scenario (kes-usn-removed)"
"$here/usn/build-usn.sh" "$out/usn" "$mkhive" "$populate"

step "Linux and macOS scenarios with expected findings"
"$here/build-unix-scenarios.sh" "$out/scenarios-unix" "$mkrpmdb"

# Encrypted volumes kavtrace recognises but does not unlock. cryptsetup's
# salts and volume keys are random on every build; only the kind, the UUID
# (pinned with --uuid), the cipher and the key size are ground truth
# (truth/encrypted.tsv), and none of them is random.
step "encrypted volumes (LUKS1 alone, LUKS2 in a GPT partition, a BitLocker boot sector)"
printf 'kavtrace-test-passphrase' > "$work/luks.key"
truncate -s 4M "$out/luks1.img"
cryptsetup luksFormat -q --type luks1 --cipher aes-xts-plain64 --key-size 256 \
  --pbkdf-force-iterations 1000 --uuid 4b565455-0000-4000-8000-00000000c001 \
  --key-file "$work/luks.key" "$out/luks1.img"
truncate -s 24M "$work/luks2.img"
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
  --uuid 4b565455-0000-4000-8000-00000000c002 --key-file "$work/luks.key" "$work/luks2.img"
truncate -s 32M "$out/luks2-gpt.raw"
sfdisk -q "$out/luks2-gpt.raw" <<'SF'
label: gpt
label-id: 4B565455-0000-4000-8000-000000000002
unit: sectors
first-lba: 34
start=2048, size=49152, type=CA7D7CCB-63ED-4C53-861C-1742536059CC, uuid=4B565455-0000-4000-8000-0000000000C2, name="encrypted root"
SF
place "$out/luks2-gpt.raw" "$work/luks2.img" 2048
# A BitLocker volume's boot sector ("-FVE-FS-" as its OEM name), nothing
# more: a BitLocker volume kavtrace could read is not built (see
# docs/testdata.md).
truncate -s 1M "$out/bitlocker-bootsector.img"
printf '\xeb\x58\x90-FVE-FS-' | dd of="$out/bitlocker-bootsector.img" conv=notrunc status=none
printf '\x55\xaa' | dd of="$out/bitlocker-bootsector.img" bs=1 seek=510 conv=notrunc status=none

step "LUKS1 volumes kavtrace unlocks (kesl-ubuntu, kesl-astra, kesl-rhel-removed 512-bit XTS, every AES mode), one it refuses (serpent)"
"$here/build-luks.sh" "$out" "$mkluks"

step "BitLocker volumes kavtrace unlocks (kes-active XTS-128, kes-russian CBC-128)"
"$here/build-bde.sh" "$out" "$mkbde"

step "triage collections (KAPE folder, Velociraptor zip, UAC tarball) of scenarios"
"$here/build-collections.py" "$out"

# kes-active with its SOFTWARE hive's MFT record zeroed: Windows must still
# be found (SYSTEM hive, System32), the files, drivers, bases, event logs
# and Prefetch still collected, and the lost hive named in a warning.
step "damaged scenario: kes-active without its SOFTWARE hive's MFT record"
src=$out/scenarios/kes-active.raw
dst=$c/kes-active-no-software.raw
cp --sparse=always "$src" "$dst"
start=$(mmls "$src" | awk '$3 ~ /^[0-9]+$/ && /Basic data/ {print $3 + 0; exit}')
inum=$(ifind -o "$start" -n "Windows/System32/config/SOFTWARE" "$src")
mft=$(fsstat -o "$start" "$src" | awk -F': ' '/First Cluster of MFT:/ {print $2}')
csize=$(fsstat -o "$start" "$src" | awk -F': ' '/Cluster Size:/ {print $2}')
[[ $start =~ ^[0-9]+$ && $inum =~ ^[0-9]+$ && $mft =~ ^[0-9]+$ && $csize =~ ^[0-9]+$ ]] ||
  { echo "$0: cannot locate SOFTWARE's MFT record in $src" >&2; exit 1; }
# The synthetic $MFT is one run from its first cluster (kt-ntfs-populate).
dd if=/dev/zero of="$dst" bs=1024 count=1 conv=notrunc status=none \
  seek=$(( (start * 512 + mft * csize) / 1024 + inum ))

rm -rf "$work"
echo "$want" > "$stamp"
step "done: $(du -sh "$out" | cut -f1) in $out"
