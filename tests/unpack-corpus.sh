#!/usr/bin/env bash
# unpack-corpus.sh CORPUS OUT: decompress the corpus's packed images and
# hives into OUT (the corpus itself is read-only and never changed).
set -euo pipefail
corpus=$1 out=$2
mkdir -p "$out"
xz -dc "$corpus/dfir-orc/ntfs.vhd.xz" > "$out/ntfs.vhd"
xz -dc "$corpus/dfir-orc/Fat12.vhd.xz" > "$out/Fat12.vhd"
unzip -o -q "$corpus/velociraptor/test.vhdx.zip" -d "$out"
unzip -o -q "$corpus/velociraptor/ext4_tests.zip" -d "$out"
for f in "$corpus"/regipy/*.xz; do
  xz -dc "$f" > "$out/regipy-$(basename "${f%.xz}")"
done

# The corpus's real hives laid out as Windows directory trees, so a scan
# reads them as it reads a system: a good set and one with a corrupt
# SYSTEM hive among good user hives.
trees=$out/hive-trees
rm -rf "$trees"
good=$trees/real-hives
mkdir -p "$good/Windows/System32/config" "$good/Users/a" "$good/Users/b" "$good/Users/c"
cp "$out/regipy-SYSTEM" "$good/Windows/System32/config/SYSTEM"
cp "$corpus/hivex/minimal" "$good/Windows/System32/config/SOFTWARE"
cp "$out/regipy-NTUSER.DAT" "$good/Users/a/NTUSER.DAT"
cp "$corpus/plaso/NTUSER-WIN7.DAT" "$good/Users/b/NTUSER.DAT"
cp "$corpus/velociraptor/ntuser.dat" "$good/Users/c/NTUSER.DAT"
bad=$trees/corrupt-system
mkdir -p "$bad/Windows/System32/config" "$bad/Users/a" "$bad/Users/b"
cp "$out/regipy-corrupted_system_hive" "$bad/Windows/System32/config/SYSTEM"
cp "$out/regipy-ntuser_software_partial" "$bad/Windows/System32/config/SOFTWARE"
cp "$out/regipy-transactions_NTUSER.DAT" "$bad/Users/a/NTUSER.DAT"
cp "$corpus/hivex/special" "$bad/Users/b/NTUSER.DAT"
# Amcache hives stand in as more user hives: real hives of another kind.
mkdir -p "$good/Users/d" "$good/Users/e" "$good/Users/f"
cp "$corpus/velociraptor/Amcache.hve" "$good/Users/d/NTUSER.DAT"
cp "$corpus/plaso/winreg/win10-Amcache.hve" "$good/Users/e/NTUSER.DAT"
cp "$corpus/dfir-artifact-museum/Win2012R2_StolenSzechuan_Amcache.hve" "$good/Users/f/NTUSER.DAT"
# The corpus's event logs where Windows keeps them, under names the
# definitions read (a Defender log stands in for a Kaspersky channel log).
logs=$good/Windows/System32/winevt/Logs
mkdir -p "$logs"
museum="$corpus/dfir-artifact-museum/RathbunVM_W10EventLogs"
cp "$museum/Application.evtx" "$logs/Application.evtx"
cp "$museum/System.evtx" "$logs/System.evtx"
cp "$museum/Setup.evtx" "$logs/Archive-System-2020-01-01-00-00-00-001.evtx"
cp "$corpus/plaso/evtx/System2.evtx" "$logs/Archive-System-2015-08-09-09-17-38-375.evtx"
cp "$corpus/evtx-attack-samples/LM_Remote_Service02_7045.evtx" "$logs/Archive-System-2019-03-03-09-29-14-168.evtx"
cp "$corpus/omerbenamram-evtx/Application_no_crc32.evtx" "$logs/Archive-Application-2021-03-31-23-54-34-704.evtx"
cp "$corpus/omerbenamram-evtx/sample_with_a_bad_chunk_magic.evtx" "$logs/Archive-Application-2018-08-07-18-57-08-980.evtx"
cp "$corpus/velociraptor/Security_1_record.evtx" "$logs/Archive-Application-2019-02-09-17-05-24-672.evtx"
cp "$corpus/velociraptor/DE_104_system_log_cleared.evtx" "$logs/Archive-System-2019-01-01-00-00-00-000.evtx"
cp "$corpus/evtx-attack-samples/WinDefender_Events_1117_1116_AtomicRedTeam.evtx" "$logs/Kaspersky Endpoint Security.evtx"
cp "$museum/Microsoft-Windows-Windows Defender%4Operational.evtx" "$logs/Kaspersky Event Log.evtx"
mkdir -p "$good/Windows/appcompat/Programs"
cp "$corpus/plaso/winreg/Amcache.hve" "$good/Windows/appcompat/Programs/Amcache.hve"
# The corpus's Prefetch files where Windows keeps them (none is a Kaspersky
# program's, so the definitions pass them by).
mkdir -p "$good/Windows/Prefetch"
find "$corpus" -name '*.pf' -exec cp {} "$good/Windows/Prefetch/" \;

# Linux and macOS trees of the corpus's package logs, dpkg status and
# InstallHistory.plist (none names Kaspersky). Their zone files come from
# the host's tzdata: test data, not what the tool reads on its own.
unix=$out/unix-trees
rm -rf "$unix"
deb=$unix/debian
mkdir -p "$deb/etc" "$deb/var/log/apt" "$deb/var/lib/dpkg" "$deb/usr/share/zoneinfo/Europe"
printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n' \
  > "$deb/etc/os-release"
echo corpus-deb > "$deb/etc/hostname"
cp /usr/share/zoneinfo/Europe/Berlin "$deb/usr/share/zoneinfo/Europe/Berlin"
ln -s ../usr/share/zoneinfo/Europe/Berlin "$deb/etc/localtime"
cp "$corpus/plaso/dpkg.log" "$deb/var/log/dpkg.log"
cp "$corpus/plaso/apt_history.log" "$deb/var/log/apt/history.log"
cp "$corpus/velociraptor/debian_status" "$deb/var/lib/dpkg/status"
mac=$unix/macos
mkdir -p "$mac/System/Library/CoreServices" "$mac/Library/Receipts" "$mac/var/db/timezone/zoneinfo/America" "$mac/etc"
cat > "$mac/System/Library/CoreServices/SystemVersion.plist" <<'PL'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>ProductBuildVersion</key>
	<string>22G91</string>
	<key>ProductName</key>
	<string>macOS</string>
	<key>ProductVersion</key>
	<string>13.5.2</string>
</dict>
</plist>
PL
cp /usr/share/zoneinfo/America/New_York "$mac/var/db/timezone/zoneinfo/America/New_York"
ln -s /var/db/timezone/zoneinfo/America/New_York "$mac/etc/localtime"
cp "$corpus/plaso/plist/InstallHistory.plist" "$mac/Library/Receipts/InstallHistory.plist"

# Each of the corpus's Amcache hives where Windows keeps it, in a tree of
# its own (the Amcache definitions read only that path).
n=0
for a in "$corpus/plaso/winreg/Amcache.hve" "$corpus/plaso/winreg/win10-Amcache.hve" \
         "$corpus/dfir-artifact-museum/Win2012R2_StolenSzechuan_Amcache.hve" \
         "$corpus/velociraptor/Amcache.hve"; do
  n=$((n + 1))
  t=$out/amcache-trees/$n
  rm -rf "$t"
  mkdir -p "$t/Windows/System32/config" "$t/Windows/appcompat/Programs"
  cp "$corpus/hivex/minimal" "$t/Windows/System32/config/SOFTWARE"
  cp "$a" "$t/Windows/appcompat/Programs/Amcache.hve"
done
