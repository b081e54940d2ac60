#!/usr/bin/env bash
# bench/evtx.sh [BUILD_DIR] [RECORDS...]: kavtrace's pass over large event
# logs against libevtx's own evtxexport on the same file. Prints the
# figures; a benchmark, not a test.
#
# Two logs of each size (RECORDS, default 100000 and 1000000), built by
# kt-mkevtx:
#   easy  unrelated records (Microsoft-Windows-Security-SPP) and a handful
#         of Kaspersky MSI records;
#   hard  the same with every 50th record an MsiInstaller one about another
#         product (2% of a watched provider's records, none matching): every
#         chunk holds the provider's name, so only the record-level filter
#         keeps them from being parsed.
# For each: kavtrace-evtx alone with the shipped definitions' filter, the
# whole `kavtrace scan` of a directory evidence holding the log, and
# evtxexport, interleaved; CPU seconds (user + system, children included:
# other load on the machine does not blur them) and peak RSS. The time per
# record of the whole scan is printed for each size: it must not grow with
# the log (within 1.5x between the sizes).
set -euo pipefail
build=$(realpath "${1:-build}")
shift || true
sizes=("$@")
[ "${#sizes[@]}" -gt 0 ] || sizes=(100000 1000000)
command -v evtxexport >/dev/null || { echo "evtxexport not found (libevtx-utils)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/kt-evtx-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
T=$'\t'
SPP="Microsoft-Windows-Security-SPP${T}{E23B33B0-C8C9-472C-A5F9-F2BDFEA0F156}${T}16384${T}4${T}Application${T}HOST${T}=2123-01-01T00:00:00Z${T}=RulesEngine"
KES="MsiInstaller${T}-${T}11707${T}4${T}Application${T}HOST${T}=Product: Kaspersky Endpoint Security for Windows -- Installation completed successfully."
OTHER="MsiInstaller${T}-${T}11707${T}4${T}Application${T}HOST${T}=Product: Contoso Widget -- Installation completed successfully."

# spec KIND N: the log's spec on stdout
spec() {
  local kind=$1 n=$2
  echo "record${T}2023-01-01T00:00:00Z${T}$KES"
  if [ "$kind" = easy ]; then
    echo "filler${T}$((n - 2))${T}2023-01-01T00:00:00Z${T}1${T}$SPP"
  else
    for ((i = 0; i < (n - 2) / 50; i++)); do
      echo "filler${T}49${T}2023-01-01T00:00:00Z${T}1${T}$SPP"
      echo "record${T}2023-06-01T00:00:00Z${T}$OTHER"
    done
  fi
  echo "record${T}2024-10-01T10:00:00Z${T}$KES"
}

cpu() { /usr/bin/time -f '%U %S %M' "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1 + $2, $3}'; }

for n in "${sizes[@]}"; do
  for kind in easy hard; do
    d=$work/$kind-$n
    log=$d/Windows/System32/winevt/Logs/Application.evtx
    mkdir -p "$(dirname "$log")"
    spec "$kind" "$n" >"$work/spec"
    "$build/testdata/kt-mkevtx" "$work/spec" "$log"
    size=$(stat -c %s "$log")
    # the helper alone, with a filter like the one the shipped definitions
    # make for Application.evtx (the scan below uses the real one)
    read -r helper helper_rss < <(cpu "$build/kavtrace-evtx" -p MsiInstaller -g \
      -s 'Product: Kaspersky' -p SecurityCenter -g -s Kaspersky <"$log")
    rm -rf "$work/out"
    read -r scan scan_rss < <(cpu "$build/kavtrace" scan -q -o "$work/out" "$d")
    events=$(sed -n 's/^events \([0-9]*\),.*/\1/p' "$work/out/scan.log")
    read -r theirs _ < <(cpu evtxexport -f text "$log")
    echo "== $kind log: $n records, $((size / 1048576)) MiB, $(((size - 4096) / 65536)) chunks"
    awk -v h="$helper" -v s="$scan" -v t="$theirs" -v n="$n" -v e="$events" \
      -v hr="$helper_rss" -v sr="$scan_rss" 'BEGIN {
      printf "kavtrace-evtx %.2f s (peak RSS %d MiB), kavtrace scan %.2f s (peak RSS %d MiB, %d events), evtxexport %.2f s\n",
        h, hr / 1024, s, sr / 1024, e, t
      printf "whole scan vs evtxexport: %.4fx (target <= 0.1x)\n", s / t
      printf "whole scan per record:    %.3f us\n", s / n * 1e6 }'
    rm -rf "$d"
  done
done
echo "(helper peak RSS target: <= 64 MiB on a 1 GB log; it reads one 64 KiB chunk at a time)"
