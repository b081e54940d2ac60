#!/usr/bin/env bash
# bench/history.sh BUILD_DIR [EVIDENCE...] : what reading history costs.
#
# History is the Volume Shadow Copy stores (--no-vss turns them off) and the
# NTFS change journal (the `usn` definitions: a copy of the shipped
# definitions without them turns it off). Each evidence item is scanned in
# four modes, RUNS times each (the median wall time kept):
#   history   both (the default scan)
#   no-vss    the journal only
#   no-usn    the stores only
#   none      neither
# and, once per mode under strace, the bytes read from the evidence's own
# files (read/pread64 on the descriptors the image was opened on, in
# kavtrace and any process it starts), findings.json's process_bytes_read
# and the events found. One line per item and mode.
#
# Without EVIDENCE: BUILD_DIR/evidence/vss/kes-vss-wiped.raw (a store),
# BUILD_DIR/evidence/usn/kes-usn-removed.raw (a 4 KiB journal), and a
# volume built here like kes-usn-removed with a journal of JOURNAL_MIB MiB
# (default 24: Windows' default maximum is 32 MiB) of records of unrelated
# files around the scenario's own (testdata/usn/build-usn.sh, JOURNAL=).
set -euo pipefail
build=$(realpath "$1"); shift
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-5}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# The shipped definitions without the `usn` ones.
mkdir -p "$tmp/no-usn"
python3 - "$here/artifacts" "$tmp/no-usn" <<'PY'
import os, shutil, sys, yaml
src, dst = sys.argv[1:]
for root, _, files in os.walk(src):
    out = os.path.join(dst, os.path.relpath(root, src))
    os.makedirs(out, exist_ok=True)
    for f in files:
        p = os.path.join(root, f)
        if not f.endswith('.yaml'):
            shutil.copy(p, out)
            continue
        doc = yaml.safe_load(open(p, encoding='utf-8'))
        if isinstance(doc, dict) and isinstance(doc.get('artifacts'), list):
            doc['artifacts'] = [a for a in doc['artifacts'] if 'usn' not in a]
        with open(os.path.join(out, f), 'w', encoding='utf-8') as o:
            yaml.safe_dump(doc, o, allow_unicode=True, sort_keys=False)
PY

items=("$@")
if ((${#items[@]} == 0)); then
  mib=${JOURNAL_MIB:-24}
  # ~100-byte records of an unrelated program's files (folder 150-1, made
  # by the scenario's first record), three per file as Windows writes a
  # create, then the scenario's own records.
  python3 - "$here/testdata/usn/journal.tsv" "$tmp/journal.tsv" "$mib" <<'PY'
import sys
src, dst, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = [l for l in open(src, encoding='utf-8') if l.strip() and not l.startswith('#')]
n = mib * (1 << 20) // 104 // 3
with open(dst, 'w', encoding='utf-8') as o:
    o.writelines(lines[:2])
    for i in range(n):
        t = f'2024-0{1 + i * 3 // n}-10T08:{i // 60 % 60:02d}:{i % 60:02d}.{i % 10000000:07d}Z'
        name = f'update-{i:08d}.tmp'
        for r in ('FILE_CREATE', 'FILE_CREATE|DATA_EXTEND', 'FILE_CREATE|DATA_EXTEND|CLOSE'):
            o.write(f'{t}\t{r}\tfile\t{100000 + i}-1\t150-1\t{name}\n')
    o.writelines(lines[2:])
PY
  JOURNAL=$tmp/journal.tsv "$here/testdata/usn/build-usn.sh" "$tmp/big" \
    "$build/testdata/kt-mkhive" "$build/testdata/kt-ntfs-populate"
  mv "$tmp/big/kes-usn-removed.raw" "$tmp/kes-usn-removed-${mib}mib-journal.raw"
  items=("$build/evidence/vss/kes-vss-wiped.raw" "$build/evidence/usn/kes-usn-removed.raw"
    "$tmp/kes-usn-removed-${mib}mib-journal.raw")
fi

for ev in "${items[@]}"; do
  for mode in history no-vss no-usn none; do
    args=()
    case $mode in
      no-vss) args=(--no-vss) ;;
      no-usn) args=(-a "$tmp/no-usn") ;;
      none) args=(--no-vss -a "$tmp/no-usn") ;;
    esac
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
