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
# and KESL's folders. Times are CPU seconds (user + system), medians of REPS
# runs (default 3); bytes read are the scan's own count of what the
# process read (scan.log), against the bytes of the files it read.
# BASELINE=OTHER_BUILD_DIR adds another build's kavtrace to the runs (a
# before/after comparison on the same images).
set -euo pipefail
build=$(realpath "${1:-build}")
shift || true
sizes=("$@")
[ "${#sizes[@]}" -gt 0 ] || sizes=(100000 311000)
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
cpu() { /usr/bin/time -f '%U %S %M' "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1 + $2, $3}'; }

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
  rss=$(cut -d' ' -f2 "$work/k" | sort -n | tail -1)
  read_bytes=$(sed -n 's/.*bytes read by the process \([0-9]*\).*/\1/p' "$work/out/scan.log")
  art=$(sed -n 's/.*bytes of files and hives \([0-9]*\).*/\1/p' "$work/out/scan.log")
  events=$(sed -n 's/^events \([0-9]*\),.*/\1/p' "$work/out/scan.log")
  echo "== ext4, $n files ($mib MiB image)"
  awk -v k="$k" -v f="$f" 'BEGIN {
    printf "kavtrace scan %.2f s, fls -r -p %.2f s (CPU, medians)\n", k, f
    printf "scan vs fls -r -p: %.3fx  (target <= 0.1x)\n", k / f }'
  awk -v b="$read_bytes" -v a="$art" 'BEGIN {
    printf "bytes read: %.1f MiB, artifacts %.1f KiB: %.1f MiB beyond them (target <= 2 MiB)\n",
      b / 1048576, a / 1024, (b - a) / 1048576 }'
  echo "kavtrace peak RSS: $((rss / 1024)) MiB; events: $events"
  if [ -n "${BASELINE:-}" ]; then
    b=$(cut -d' ' -f1 "$work/b" | median)
    awk -v b="$b" -v f="$f" -v r="$base_read" 'BEGIN {
      printf "baseline kavtrace: %.2f s = %.3fx fls, %.1f MiB read\n", b, b / f, r / 1048576 }'
  fi
  rm -f "$img"
done
