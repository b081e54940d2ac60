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
# record of the whole scan is printed for each size, and the largest size's
# against the smallest's: it must not grow with the log (within 1.5x).
#
# bench/evtx.sh --size 1g [BUILD_DIR]: instead, the hard log of about 1 GB
# (5,000,000 records), built in TMPDIR (checked for 3 GB free first) and
# deleted after: kavtrace-evtx alone and the whole scan, with the helper's
# peak RSS (target <= 64 MiB) and kavtrace's. evtxexport is not run on it
# (minutes of CPU; its ratio is the default sizes' row).
set -euo pipefail
big=""
if [ "${1:-}" = --size ]; then
  [ "${2:-}" = 1g ] || { echo "usage: bench/evtx.sh [--size 1g] [BUILD_DIR] [RECORDS...]" >&2; exit 2; }
  big=5000000
  shift 2
fi
build=$(realpath "${1:-build}")
shift || true
sizes=("$@")
[ "${#sizes[@]}" -gt 0 ] || sizes=(100000 1000000)
[ -z "$big" ] || sizes=("$big")
command -v evtxexport >/dev/null || { echo "evtxexport not found (libevtx-utils)" >&2; exit 1; }
if [ -n "$big" ]; then
  free=$(df -Pk "${TMPDIR:-/tmp}" | awk 'NR == 2 {print $4}')
  [ "$free" -gt $((3 * 1024 * 1024)) ] ||
    { echo "less than 3 GB free in ${TMPDIR:-/tmp}: not building the 1 GB log" >&2; exit 1; }
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/kt-evtx-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
here=$(cd "$(dirname "$0")/.." && pwd)
echo "kavtrace $(git -C "$here" describe --always --dirty 2>/dev/null || echo '?'), $(nproc) CPUs," \
  "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
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
# verdict VALUE TARGET: "met" when VALUE <= TARGET
verdict() { awk -v v="$1" -v t="$2" 'BEGIN {print (v <= t) ? "met" : "NOT met"}'; }
declare -A per net

# the scan's fixed cost (start-up, definitions, outputs): the same
# directory evidence with an empty Logs folder, median of 3
mkdir -p "$work/empty/Windows/System32/winevt/Logs"
fixed=$(for i in 1 2 3; do
  rm -rf "$work/out"
  cpu "$build/kavtrace" scan -q -o "$work/out" "$work/empty" | cut -d' ' -f1
done | sort -g | sed -n 2p)
echo "fixed cost of a scan (directory evidence, no log): $fixed s CPU"
kinds=(easy hard)
[ -z "$big" ] || kinds=(hard)
for n in "${sizes[@]}"; do
  for kind in "${kinds[@]}"; do
    d=$work/$kind-$n
    log=$d/Windows/System32/winevt/Logs/Application.evtx
    mkdir -p "$(dirname "$log")"
    spec "$kind" "$n" >"$work/spec"
    "$build/testdata/kt-mkevtx" "$work/spec" "$log"
    rm -f "$work/spec"
    size=$(stat -c %s "$log")
    # the helper alone, with a filter like the one the shipped definitions
    # make for Application.evtx (the scan below uses the real one)
    read -r helper helper_rss < <(cpu "$build/kavtrace-evtx" -p MsiInstaller -g \
      -s 'Product: Kaspersky' -p SecurityCenter -g -s Kaspersky <"$log")
    rm -rf "$work/out"
    read -r scan scan_rss < <(cpu "$build/kavtrace" scan -q -o "$work/out" "$d")
    events=$(sed -n 's/^events \([0-9]*\),.*/\1/p' "$work/out/scan.log")
    echo "== $kind log: $n records, $((size / 1048576)) MiB, $(((size - 4096) / 65536)) chunks" \
      "(load average $(cut -d' ' -f1-3 /proc/loadavg))"
    hr=$(awk -v r="$helper_rss" 'BEGIN {printf "%.1f", r / 1024}')
    sr=$(awk -v r="$scan_rss" 'BEGIN {printf "%.1f", r / 1024}')
    if [ -n "$big" ]; then
      awk -v h="$helper" -v s="$scan" -v e="$events" 'BEGIN {
        printf "kavtrace-evtx %.2f s, kavtrace scan %.2f s (%d events) (CPU)\n", h, s, e }'
      echo "kavtrace-evtx peak RSS: $hr MiB (target <= 64 MiB on a 1 GB log: $(verdict "$hr" 64))"
      echo "kavtrace scan peak RSS: $sr MiB (its largest process: kavtrace or its helper)"
    else
      read -r theirs _ < <(cpu evtxexport -f text "$log")
      r=$(awk -v s="$scan" -v t="$theirs" 'BEGIN {printf "%.4f", s / t}')
      awk -v h="$helper" -v s="$scan" -v t="$theirs" -v e="$events" -v hr="$hr" -v sr="$sr" 'BEGIN {
        printf "kavtrace-evtx %.2f s (peak RSS %s MiB), kavtrace scan %.2f s (peak RSS %s MiB, %d events), evtxexport %.2f s (CPU)\n",
          h, hr, s, sr, e, t }'
      echo "whole scan vs evtxexport: ${r}x (target <= 0.1x: $(verdict "$r" 0.1))"
    fi
    per[$kind,$n]=$(awk -v s="$scan" -v n="$n" 'BEGIN {printf "%.3f", s / n * 1e6}')
    net[$kind,$n]=$(awk -v s="$scan" -v f="$fixed" -v n="$n" 'BEGIN {printf "%.3f", (s - f) / n * 1e6}')
    echo "whole scan per record:    ${per[$kind,$n]} us (${net[$kind,$n]} us beyond the fixed cost)"
    rm -rf "$d"
  done
done
if [ -z "$big" ] && [ "${#sizes[@]}" -gt 1 ]; then
  lo=${sizes[0]} hi=${sizes[$((${#sizes[@]} - 1))]}
  for kind in easy hard; do
    r=$(awk -v a="${per[$kind,$hi]}" -v b="${per[$kind,$lo]}" 'BEGIN {printf "%.2f", a / b}')
    q=$(awk -v a="${net[$kind,$hi]}" -v b="${net[$kind,$lo]}" 'BEGIN {printf "%.2f", a / b}')
    echo "$kind log, per record at $hi against $lo records: ${r}x whole process, ${q}x beyond" \
      "the fixed cost (target within 1.5x: whole process" \
      "$(awk -v r="$r" 'BEGIN {print (r <= 1.5 && r >= 1 / 1.5) ? "met" : "NOT met"}'), beyond the" \
      "fixed cost $(awk -v r="$q" 'BEGIN {print (r <= 1.5 && r >= 1 / 1.5) ? "met" : "NOT met"}'))"
  done
fi
[ -n "$big" ] || echo "(helper peak RSS target: <= 64 MiB on a 1 GB log: bench/evtx.sh --size 1g)"
