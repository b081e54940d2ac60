#!/usr/bin/env bash
# bench/batch.sh [BUILD_DIR] [ROUNDS]: kavtrace batch over the sample evidence,
# -j 1 against -j 2. Prints the wall times, the speedup against the target
# (1.8x on a 2-core machine) and the peak memory of each worker. A
# benchmark, not a test; the evidence is BUILD_DIR/evidence (ctest -R
# build_evidence makes it).
#
# The items: every scenario's EWF set (64 MiB media in 5 segments) and the
# Windows and Linux sample disks, at least 8, scanned with --hash (the whole
# media read and hashed, as a lab does), so that each item has real work.
# Each round runs -j 1 then -j 2 into fresh folders; the best round of each
# is taken (the machine is shared: the best is the least disturbed).
set -euo pipefail
build=$(realpath "${1:-build}")
rounds=${2:-3}
ev=$build/evidence
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
items=()
for f in "$ev"/scenarios/*.E01 "$ev"/scenarios-unix/*.E01 "$ev"/windows.E01 "$ev"/linux.E01; do
  [[ -e $f ]] && items+=("$f")
done
((${#items[@]} >= 8)) || { echo "bench/batch.sh: fewer than 8 images under $ev (run ctest -R build_evidence)" >&2; exit 1; }
bytes=0
for f in "${items[@]}"; do
  for s in "${f%.E01}".E??; do bytes=$((bytes + $(stat -c %s "$s"))); done
done

run() { # jobs out -> "wall cpu" seconds (cpu: user + system of the workers)
  /usr/bin/time -f '%e %U %S' -o "$work/time" \
    "$build/kavtrace" batch -q --hash --force -j "$1" -o "$2" "${items[@]}"
  awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$work/time"
}
best1="" best2=""
for r in $(seq "$rounds"); do
  read -r t1 c1 < <(run 1 "$work/j1-$r")
  read -r t2 c2 < <(run 2 "$work/j2-$r")
  echo "round $r: -j 1 ${t1} s wall (${c1} s CPU), -j 2 ${t2} s wall (${c2} s CPU)"
  best1=$(awk -v a="$t1" -v b="${best1:-1e9}" 'BEGIN { print (a < b) ? a : b }')
  best2=$(awk -v a="$t2" -v b="${best2:-1e9}" 'BEGIN { print (a < b) ? a : b }')
done
echo "items: ${#items[@]} images, $((bytes / 1048576)) MiB of segment files, scanned with --hash"
echo "cores: $(nproc); load average before the last round: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "-j 1: ${best1} s (best of ${rounds})"
echo "-j 2: ${best2} s (best of ${rounds})"
awk -v a="$best1" -v b="$best2" 'BEGIN { s = a / b; printf "speedup: %.2fx (target 1.8x: %s)\n", s, (s >= 1.8) ? "met" : "not met" }'
# How busy the workers were kept: the items' run times added up over the
# wall time of the last round (about 1 for -j 1, about 2 for -j 2 when the scheduler keeps
# both workers busy, whatever the machine's other load does to the wall time).
for j in 1 2; do
  awk -F'\t' -v wall="$(eval echo \$t$j)" -v j="$j" '
    { ms += $2 } END { printf "-j %s: items running at once, on average: %.2f\n", j, ms / 1000 / wall }' \
    "$work/j$j-$rounds"/.kavtrace-batch/status/*
done
# Peak resident memory of each worker (the item's scan; the batch's record,
# from wait4's ru_maxrss), over the last -j 2 run.
for f in "$work/j2-$rounds"/.kavtrace-batch/status/*; do
  printf '%s\t%s\n' "$(basename "$f")" "$(cut -f3 "$f")"
done | sort -k2,2n | awk -F'\t' '
  { printf "  peak memory %-32s %7.1f MiB\n", $1, $2 / 1024; v[NR] = $2; sum += $2 }
  END { printf "peak memory per worker: max %.1f MiB, median %.1f MiB, mean %.1f MiB\n",
               v[NR] / 1024, v[int((NR + 1) / 2)] / 1024, sum / NR / 1024 }'
