#!/usr/bin/env bash
# bench/ext4-scale.sh [BUILD_DIR] [SIZES...]: kavtrace scan of large ext4
# volumes against TSK's `fls -r -p` on the same image, run interleaved. A
# benchmark that prints its figures, not a test.
#
# SIZES (default 100000 311000) are the files of each image, built with
# mkfs.ext4 -d from a generated tree: an Ubuntu-like system (os-release,
# dpkg status and log naming kesl), a deep /usr/share tree, users' caches
# (2% of the files: the definitions search home/** for answer files; they
# read the directories there and only files named as answer files are),
# and KESL's folders. Times are whole-process CPU seconds (user + system)
# and wall seconds, medians of REPS runs (default 3); the ratio is of CPU
# time (wall time on a shared machine measures its load). The fixed cost of
# starting each program (`kavtrace --version`, `fls -V`: loading their
# shared libraries) is printed beside them. Bytes read are the scan's own
# count of what the process read (scan.log), against the bytes of the
# files it read.
# BASELINE=OTHER_BUILD_DIR adds another build's kavtrace to the runs (a
# before/after comparison on the same images).
set -euo pipefail
build=$(realpath "${1:-build}")
shift || true
sizes=("$@")
[ "${#sizes[@]}" -gt 0 ] || sizes=(100000 311000 1000000)
reps=${REPS:-3}
PATH=$PATH:/sbin:/usr/sbin
for t in mkfs.ext4 fls; do
  command -v "$t" >/dev/null || { echo "$t not found" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/kt-ext4-scale.XXXXXX")
trap 'rm -rf "$work"' EXIT

tree() {
  python3 - "$1" "$2" <<'PY'
import os, sys
n, root = int(sys.argv[1]), sys.argv[2]
def put(path, text):
    p = os.path.join(root, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)
put("etc/os-release", 'NAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\nPRETTY_NAME="Ubuntu 22.04.4 LTS"\n')
put("etc/hostname", "ws-01\n")
put("var/lib/dpkg/status",
    "Package: kesl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.1.0-1297\n"
    "Description: Kaspersky Endpoint Security for Linux\n\n")
put("var/log/dpkg.log", "2024-03-01 10:00:00 install kesl:amd64 <none> 12.1.0-1297\n"
    "2024-03-01 10:00:05 status installed kesl:amd64 12.1.0-1297\n")
put("opt/kaspersky/kesl/bin/kesl-control", "#!/bin/sh\n")
put("var/opt/kaspersky/kesl/common/kesl.ini", "[General]\n")
made = 6
d = 0
while made < n:
    # a user's files are 1 in 50 (the definitions search home/** for
    # answer files: its directories are read, not these files)
    base = ("home/user%02d/.cache/app/d%05d" % (d % 5, d) if d % 50 == 0
            else "usr/share/doc/pkg%05d/d%02d" % (d // 10, d % 10))
    for k in range(min(200, n - made)):
        put("%s/f%03d" % (base, k), "x")
        made += 1
    d += 1
PY
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# cpu CMD...: "CPU_SECONDS PEAK_RSS_KIB WALL_SECONDS" of one run
cpu() { /usr/bin/time -f '%U %S %M %e' "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1 + $2, $3, $4}'; }
verdict() { awk -v v="$1" -v t="$2" 'BEGIN {print (v <= t) ? "met" : "NOT met"}'; }
here=$(cd "$(dirname "$0")/.." && pwd)
echo "kavtrace $(git -C "$here" describe --always --dirty 2>/dev/null || echo '?'), $(nproc) CPUs," \
  "$reps runs each, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
# start-up: 20 runs in a row, per run (the clock's 10 ms steps are too coarse for one)
k0=$(cpu sh -c 'for i in $(seq 20); do "$0" --version; done' "$build/kavtrace" | awk '{printf "%.3f", $1 / 20}')
f0=$(cpu sh -c 'for i in $(seq 20); do fls -V; done' | awk '{printf "%.3f", $1 / 20}')
echo "start-up alone (CPU, mean of 20 runs): kavtrace --version $k0 s, fls -V $f0 s"

for n in "${sizes[@]}"; do
  rm -rf "$work/root"
  tree "$n" "$work/root"
  img=$work/ext4-$n.raw
  mib=$((64 + n * 6 / 1024))
  rm -f "$img"
  mkfs.ext4 -q -F -N $((n + 4096)) -E root_owner=0:0 -d "$work/root" "$img" "${mib}M"
  rm -rf "$work/root"
  : >"$work/k"; : >"$work/f"; : >"$work/b"
  for r in $(seq "$reps"); do
    if [ -n "${BASELINE:-}" ]; then
      rm -rf "$work/out"
      cpu "$BASELINE/kavtrace" scan -q -o "$work/out" "$img" >>"$work/b"
      base_read=$(sed -n 's/.*bytes read by the process \([0-9]*\).*/\1/p' "$work/out/scan.log")
    fi
    rm -rf "$work/out"
    cpu "$build/kavtrace" scan -q -o "$work/out" "$img" >>"$work/k"
    cpu fls -r -p "$img" >>"$work/f"
  done
  k=$(cut -d' ' -f1 "$work/k" | median); f=$(cut -d' ' -f1 "$work/f" | median)
  kw=$(cut -d' ' -f3 "$work/k" | median); fw=$(cut -d' ' -f3 "$work/f" | median)
  rss=$(cut -d' ' -f2 "$work/k" | sort -n | tail -1)
  read_bytes=$(sed -n 's/.*bytes read by the process \([0-9]*\).*/\1/p' "$work/out/scan.log")
  art=$(sed -n 's/.*bytes of files and hives \([0-9]*\).*/\1/p' "$work/out/scan.log")
  events=$(sed -n 's/^events \([0-9]*\),.*/\1/p' "$work/out/scan.log")
  r=$(awk -v k="$k" -v f="$f" 'BEGIN {printf "%.3f", k / f}')
  beyond=$(awk -v b="$read_bytes" -v a="$art" 'BEGIN {printf "%.2f", (b - a) / 1e6}')
  echo "== ext4, $n files ($mib MiB image, load average $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "kavtrace scan $k s CPU ($kw s wall), fls -r -p $f s CPU ($fw s wall) (medians)"
  echo "scan vs fls -r -p: ${r}x CPU  (target <= 0.1x: $(verdict "$r" 0.1))"
  awk -v b="$read_bytes" -v a="$art" -v x="$beyond" -v v="$(verdict "$beyond" 2)" 'BEGIN {
    printf "bytes read: %.2f MB, artifacts %.1f kB: %s MB beyond them (target <= 2 MB: %s)\n",
      b / 1e6, a / 1e3, x, v }'
  echo "kavtrace peak RSS: $((rss / 1024)) MiB; events: $events"
  if [ -n "${BASELINE:-}" ]; then
    b=$(cut -d' ' -f1 "$work/b" | median)
    awk -v b="$b" -v f="$f" -v r="$base_read" 'BEGIN {
      printf "baseline kavtrace: %.2f s = %.3fx fls, %.1f MiB read\n", b, b / f, r / 1048576 }'
  fi
  rm -f "$img"
done
