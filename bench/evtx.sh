#!/usr/bin/env bash
# bench/evtx.sh [BUILD_DIR]: kavtrace's pass over a large event log against
# libevtx's own evtxexport on the same file. Prints the figures; a benchmark,
# not a test.
#
# The log (>= 200 MB) is built by kt-mkevtx: 1,040,000 unrelated records and a
# handful of Kaspersky MSI records. kavtrace-evtx with the definitions'
# providers parses only the chunks that mention them; evtxexport parses all.
set -euo pipefail
build=$(realpath "${1:-build}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
T=$'\t'
{
  echo "filler${T}520000${T}2023-01-01T00:00:00Z${T}60${T}Microsoft-Windows-Security-SPP${T}{E23B33B0-C8C9-472C-A5F9-F2BDFEA0F156}${T}16384${T}4${T}Application${T}HOST${T}=2123-01-01T00:00:00Z${T}=RulesEngine"
  echo "record${T}2024-03-01T10:00:00Z${T}MsiInstaller${T}-${T}11707${T}4${T}Application${T}HOST${T}=Product: Kaspersky Endpoint Security for Windows -- Installation completed successfully."
  echo "record${T}2024-03-01T10:00:00Z${T}MsiInstaller${T}-${T}1033${T}4${T}Application${T}HOST${T}=Kaspersky Endpoint Security for Windows${T}=12.2.0.462${T}=1033${T}=0${T}=AO Kaspersky Lab"
  echo "filler${T}520000${T}2024-03-02T00:00:00Z${T}60${T}Microsoft-Windows-Security-SPP${T}{E23B33B0-C8C9-472C-A5F9-F2BDFEA0F156}${T}16384${T}4${T}Application${T}HOST${T}=2124-03-02T00:00:00Z${T}=RulesEngine"
  echo "record${T}2024-10-01T10:00:00Z${T}MsiInstaller${T}-${T}11724${T}4${T}Application${T}HOST${T}=Product: Kaspersky Endpoint Security for Windows -- Removal completed successfully."
} > "$work/big.spec"
"$build/testdata/kt-mkevtx" "$work/big.spec" "$work/Application.evtx"
size=$(stat -c %s "$work/Application.evtx")
secs() { /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1; }
ours=$(secs "$build/kavtrace-evtx" MsiInstaller SecurityCenter < "$work/Application.evtx")
found=$("$build/kavtrace-evtx" MsiInstaller SecurityCenter < "$work/Application.evtx" | grep -c '^R' || true)
theirs=$(secs evtxexport -f text "$work/Application.evtx")
echo "log: $((size / 1048576)) MiB, $(( (size - 4096) / 65536 )) chunks"
echo "kavtrace-evtx (MsiInstaller, SecurityCenter): ${ours} s, ${found} records parsed from the matching chunks"
echo "evtxexport (every record):                    ${theirs} s"
awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "ratio: %.4f of evtxexport'"'"'s time\n", a / b }'
