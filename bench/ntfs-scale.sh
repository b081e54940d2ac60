#!/usr/bin/env bash
# bench/ntfs-scale.sh [BUILD_DIR] [SIZES...]: kavtrace scan of large NTFS
# volumes against TSK's `fls -r -p` and `icat IMG 0` (one read of the
# $MFT) on the same image, run interleaved. A benchmark that prints its
# figures, not a test.
#
# SIZES (default 100000 300000 1000000) are the entries of each image. An
# image is built with mkntfs and kt-ntfs-populate (the test evidence's
# builder) from a generated manifest: deep user profiles, a WinSxS-like
# directory of a third of the entries, System32, and a Kaspersky footprint
# (the program folder, and a deleted upgrade task file the scan must still
# find), with the test evidence's SOFTWARE and SYSTEM hives. Building 1M
# entries takes long on a busy machine: pass the sizes to run.
#
# Times are CPU seconds (user + system, children included) so that other
# load on the machine does not blur them; medians of REPS runs (default 3).
# Needs the test evidence (ctest's build_evidence fixture) for the hives.
#
# `fls -r -p` gets a budget of FLS_BUDGET CPU seconds (default 60, set by
# `ulimit -t`): on the 1M image it does not finish in any reasonable time
# (libtsk checks every new name of a directory against all the names before
# it, and the WinSxS-like directory holds a third of the entries). A run
# stopped at its budget is printed as "> N s", its ratio as "< x" (an upper
# bound), and fls is not run again on that image.
# BASELINE=OTHER_BUILD_DIR adds another build's kavtrace to the runs (a
# before/after comparison on the same images).
set -euo pipefail
build=$(realpath "${1:-build}")
shift || true
sizes=("$@")
[ "${#sizes[@]}" -gt 0 ] || sizes=(100000 300000 1000000)
reps=${REPS:-3}
budget=${FLS_BUDGET:-60}
here=$(cd "$(dirname "$0")/.." && pwd)
hives=$build/evidence/hives
for f in SOFTWARE SYSTEM; do
  [ -f "$hives/$f" ] || { echo "no $hives/$f: run ctest -R build_evidence first" >&2; exit 1; }
done
PATH=$PATH:/sbin:/usr/sbin
for t in mkntfs fls icat faketime; do
  command -v "$t" >/dev/null || { echo "$t not found" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/kt-ntfs-scale.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$hives/SOFTWARE" "$hives/SYSTEM" "$work/"

# manifest N OUT: N entries (dirs and files) in a realistic tree.
manifest() {
  python3 - "$1" >"$2" <<'PY'
import sys
n = int(sys.argv[1])
T = "2022-01-10T08:00:05Z"
rows = []
def add(kind, path, content="-"):
    rows.append("\t".join([kind, path] + [T] * 8 + [content]))
dirs = ["Windows", "Windows/System32", "Windows/System32/config", "Windows/System32/Tasks",
        "Windows/WinSxS", "Users", "ProgramData", "Program Files", "Program Files (x86)",
        "Program Files (x86)/Kaspersky Lab",
        "Program Files (x86)/Kaspersky Lab/Kaspersky Endpoint Security for Windows 12.2"]
for d in dirs:
    add("dir", d)
add("file", "Windows/System32/config/SOFTWARE", "@SOFTWARE")
add("file", "Windows/System32/config/SYSTEM", "@SYSTEM")
add("file", "Program Files (x86)/Kaspersky Lab/Kaspersky Endpoint Security for Windows 12.2/avp.exe",
    "text:MZ")
left = n - len(rows) - 1
sxs = left // 3            # one huge directory
sys32 = left // 20         # System32's own files
users = left - sxs - sys32 # deep profiles
i = 0
while i < sxs:
    d = "Windows/WinSxS/amd64_component-%06d_31bf3856ad364e35_10.0.19041.%d_none" % (i, i % 4000)
    add("dir" if i % 4 == 0 else "file", d if i % 4 == 0 else d + ".manifest",
        "-" if i % 4 == 0 else "text:x")
    i += 1
for k in range(sys32):
    add("file", "Windows/System32/lib%06d.dll" % k, "text:MZ")
made, u = 0, 0
while made < users:
    base = "Users/user%02d" % u
    add("dir", base); made += 1
    path = base
    for part in ["AppData", "Local", "Packages", "Cache"]:
        path += "/" + part
        add("dir", path); made += 1
    per = min(20000, users - made)
    for k in range(max(per, 0)):
        if k % 200 == 0:
            sub = "%s/d%05d" % (path, k // 200)
            add("dir", sub); made += 1
            continue
        add("file", "%s/f%06d.tmp" % (sub, k), "text:c"); made += 1
    u += 1
add("deleted", "Windows/System32/Tasks/Kaspersky_Upgrade_Launcher_12.2.0.462", "text:<Task/>")
print("\n".join(rows))
PY
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# cpu CMD...: CPU seconds and peak RSS (KiB) of one run, "SECS KIB"
cpu() { /usr/bin/time -f '%U %S %M' "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1 + $2, $3}'; }
# cpu_budget CMD...: as cpu, within $budget CPU seconds: "SECS KIB" when CMD
# finished, "SECS KIB stopped" when the budget stopped it (SIGXCPU).
cpu_budget() {
  # (time's status is the signal's when the budget stopped it: not a failure here)
  { /usr/bin/time -f '%U %S %M' bash -c 'ulimit -t "$0"; exec "$@"' "$budget" "$@" 2>&1 >/dev/null ||
    true; } | awk '/terminated by signal/ {s = " stopped"} END {print $1 + $2, $3 s}'
}
# verdict VALUE TARGET: "met" when VALUE <= TARGET
verdict() { awk -v v="$1" -v t="$2" 'BEGIN {print (v <= t) ? "met" : "NOT met"}'; }
echo "kavtrace $(git -C "$here" describe --always --dirty 2>/dev/null || echo '?'), $(nproc) CPUs," \
  "fls budget $budget CPU s, $reps runs each, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

for n in "${sizes[@]}"; do
  img=$work/ntfs-$n.raw
  manifest "$n" "$work/m-$n.tsv"
  mib=$((64 + n * 3 / 1024))
  truncate -s "${mib}M" "$img"
  faketime -f '2022-01-10 08:00:00' mkntfs -F -Q -q -s 512 -c 4096 -L Windows "$img" >/dev/null 2>&1
  t0=$(date +%s)
  faketime -f '2022-01-10 08:00:00' "$build/testdata/kt-ntfs-populate" "$img" "$work/m-$n.tsv" "$work"
  built=$(($(date +%s) - t0))
  mft=$(icat "$img" 0 | wc -c)
  : >"$work/k" ; : >"$work/f" ; : >"$work/i"; : >"$work/b"
  for r in $(seq "$reps"); do
    if [ -n "${BASELINE:-}" ]; then
      rm -rf "$work/out"
      cpu "$BASELINE/kavtrace" scan -q -o "$work/out" "$img" >>"$work/b"
      base_read=$(sed -n 's/.*bytes read by the process \([0-9]*\).*/\1/p' "$work/out/scan.log")
    fi
    rm -rf "$work/out"
    cpu "$build/kavtrace" scan -q -o "$work/out" "$img" >>"$work/k"
    # once fls has been stopped at its budget, another run only says so again
    grep -q stopped "$work/f" || cpu_budget fls -r -p "$img" >>"$work/f"
    cpu icat "$img" 0 >>"$work/i"
  done
  k=$(cut -d' ' -f1 "$work/k" | median); i=$(cut -d' ' -f1 "$work/i" | median)
  rss=$(cut -d' ' -f2 "$work/k" | sort -n | tail -1)
  if grep -q stopped "$work/f"; then
    f=$budget; fls_is="> $budget s (stopped at its budget of $budget CPU s)"; lt="< "
  else
    f=$(cut -d' ' -f1 "$work/f" | median); fls_is="$f s"; lt=""
  fi
  read_bytes=$(sed -n 's/.*bytes read by the process \([0-9]*\).*/\1/p' "$work/out/scan.log")
  art=$(sed -n 's/.*bytes of files and hives \([0-9]*\).*/\1/p' "$work/out/scan.log")
  found=$(grep -c 'Kaspersky_Upgrade_Launcher' "$work/out/timeline.csv" || true)
  r_fls=$(awk -v k="$k" -v f="$f" 'BEGIN {printf "%.4f", k / f}')
  r_icat=$(awk -v k="$k" -v i="$i" 'BEGIN {printf "%.3f", k / i}')
  r_bytes=$(awk -v b="$read_bytes" -v m="$mft" -v a="$art" 'BEGIN {printf "%.3f", b / (m + a)}')
  rss_mib=$(awk -v r="$rss" 'BEGIN {printf "%.1f", r / 1024}')
  echo "== NTFS, $n entries ($mib MiB image, \$MFT $((mft / 1048576)) MiB, built in ${built} s," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "kavtrace scan $k s, fls -r -p $fls_is, icat IMG 0 $i s (CPU, medians)"
  echo "scan vs fls -r -p:   $lt${r_fls}x  (target <= 0.2x: $(verdict "$r_fls" 0.2))"
  if [ "$n" -ge 1000000 ]; then
    echo "scan vs icat IMG 0:  ${r_icat}x  (target <= 1.5x at 1M entries: $(verdict "$r_icat" 1.5))"
  else
    echo "scan vs icat IMG 0:  ${r_icat}x  (target <= 1.5x at 1M entries; not set at this size)"
  fi
  awk -v b="$read_bytes" -v m="$mft" -v a="$art" -v r="$r_bytes" -v v="$(verdict "$r_bytes" 1.1)" 'BEGIN {
    printf "bytes read: %.1f MiB = %.3fx ($MFT %.1f MiB + artifacts read %.1f KiB; target <= 1.1x: %s)\n",
      b / 1048576, r, m / 1048576, a / 1024, v }'
  if [ "$n" -ge 1000000 ]; then
    echo "kavtrace peak RSS: $rss_mib MiB (target <= 128 MiB at 1M entries: $(verdict "$rss_mib" 128))"
  else
    echo "kavtrace peak RSS: $rss_mib MiB (target <= 128 MiB at 1M entries; not set at this size)"
  fi
  echo "deleted Kaspersky task file found: $([ "$found" -gt 0 ] && echo yes || echo NO)"
  if [ -n "${BASELINE:-}" ]; then
    b=$(cut -d' ' -f1 "$work/b" | median)
    awk -v b="$b" -v f="$f" -v i="$i" -v r="$base_read" 'BEGIN {
      printf "baseline kavtrace: %.2f s = %.3fx fls, %.3fx icat, %.1f MiB read\n",
        b, b / f, b / i, r / 1048576 }'
  fi
  rm -f "$img"
done
