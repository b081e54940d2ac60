#!/usr/bin/env bash
# bench/vss.sh BUILD_DIR EVIDENCE... : what scanning the shadow copies costs.
#
# Scans each evidence item with and without --no-vss (RUNS times each, the
# median wall time kept) and counts the bytes read from the evidence's own
# files (strace: read/pread64 on the descriptors the image was opened on,
# in kavtrace and any process it starts), the process's total (findings.json
# process_bytes_read, which also counts what the shadow-copy reader sends
# back) and the events found. Prints one line per item and mode.
set -euo pipefail
build=$(realpath "$1"); shift
runs=${RUNS:-5}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for ev in "$@"; do
  for mode in vss no-vss; do
    args=(); [[ $mode == no-vss ]] && args=(--no-vss)
    times=()
    for ((i = 0; i < runs; i++)); do
      rm -rf "$tmp/out"
      s=$(date +%s.%N)
      "$build/kavtrace" scan -q "${args[@]}" -f json -o "$tmp/out" "$ev" > /dev/null
      e=$(date +%s.%N)
      times+=("$(echo "$e - $s" | bc)")
    done
    median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p")
    rm -rf "$tmp/out"
    strace -f -qq -e trace=openat,read,pread64 -e signal=none -o "$tmp/trace" \
      "$build/kavtrace" scan -q "${args[@]}" -f json -o "$tmp/out" "$ev" > /dev/null
    evbytes=$(python3 - "$tmp/trace" "$ev" <<'PY'
import re, sys, os
base = os.path.realpath(sys.argv[2])
stem = base.rsplit('.', 1)[0]
fds, total = set(), 0
for line in open(sys.argv[1]):
    m = re.match(r'(\d+)\s+openat\(AT_FDCWD, "([^"]+)".*= (\d+)$', line)
    if m and os.path.realpath(m.group(2)).startswith(stem):
        fds.add((m.group(1), m.group(3)))
        continue
    m = re.match(r'(\d+)\s+(?:read|pread64)\((\d+),.*= (\d+)$', line)
    if m and (m.group(1), m.group(2)) in fds:
        total += int(m.group(3))
print(total)
PY
)
    read -r proc events < <(python3 -c "import json; r = json.load(open('$tmp/out/findings.json'))['run']; print(r['process_bytes_read'], r['events'])")
    printf '%s\t%s\twall %.3f s (median of %d)\tevidence bytes read %s\tprocess bytes read %s\tevents %s\n' \
      "$(basename "$ev")" "$mode" "$median" "$runs" "$evbytes" "$proc" "$events"
  done
done
