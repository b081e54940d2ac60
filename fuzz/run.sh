#!/usr/bin/env bash
# fuzz/run.sh [SECONDS] [OUTDIR]: run every harness built by fuzz/build.sh
# for SECONDS each (default 60), seeded from its corpus in fuzz/corpus/,
# ../shared/corpus and testdata/ (and RPM databases from $KT_MKRPMDB when it is set). Crashes are left in OUTDIR/crashes/; each one found becomes a
# test in the parser's suite.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60} out=${2:-build-fuzz}
corpus=../shared/corpus
# seeds NAME [FILE...]: a fresh seed directory for harness NAME: its
# committed corpus (fuzz/corpus/NAME) and the files given.
seeds() {
  local d=$out/seeds/$1; shift
  rm -rf "$d"; mkdir -p "$d"
  for f in "fuzz/corpus/$(basename "$d")"/* "$@"; do
    [[ -f $f ]] && cp "$f" "$d/$(basename "$f").$(cksum < "$f" | cut -d' ' -f1)"
  done
  echo "$d"
}
mkdir -p "$out/crashes"
run() {
  local name=$1 seeddir=$2
  echo "== $name ($secs s)"
  "$out/$name" -max_total_time="$secs" -max_len=262144 -artifact_prefix="$out/crashes/$name-" \
    -print_final_stats=1 "$seeddir" 2>&1 | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb)|ERROR|SUMMARY" || true
}
run fuzz_tzif "$(seeds tzif /usr/share/zoneinfo/America/Chicago /usr/share/zoneinfo/Europe/London \
  /usr/share/zoneinfo/Australia/Lord_Howe /usr/share/zoneinfo/Asia/Kolkata)"
pk=$(seeds packages)
i=0
for f in "$corpus/velociraptor/debian_status" "$corpus/plaso/dpkg.log" "$corpus/plaso/apt_history.log" \
         testdata/linux/packages/*; do
  [[ -f $f ]] || continue
  for sel in 0 1 2 4 5 6; do { printf "\\x$(printf %02x $sel)"; head -c 60000 "$f"; } > "$pk/$i-$sel"; done
  i=$((i + 1))
done
# RPM databases in each format, when the test builder is at hand
# (KT_MKRPMDB=build/tests/kt-mkrpmdb).
if [[ -n ${KT_MKRPMDB:-} && -x $KT_MKRPMDB ]]; then
  for kind in sqlite bdb ndb; do
    "$KT_MKRPMDB" "$kind" testdata/linux/rpmdb.tsv "$pk/db.$kind" &&
      { printf '\x03'; cat "$pk/db.$kind"; } > "$pk/rpmdb-$kind" && rm -f "$pk/db.$kind"
  done
fi
run fuzz_packages "$pk"
sq=$(seeds sqlite)
if command -v sqlite3 >/dev/null; then
  sqlite3 "$sq/a.db" "CREATE TABLE t(x INTEGER PRIMARY KEY, y TEXT, z BLOB); CREATE INDEX i ON t(y);
    CREATE VIEW v AS SELECT x, upper(y) FROM t; INSERT INTO t VALUES (1, 'detect', x'00ff');"
  sqlite3 "$sq/wal.db" "PRAGMA journal_mode = WAL; CREATE TABLE r(a, b); INSERT INTO r VALUES (1, 2);"
  rm -f "$sq"/*-wal "$sq"/*-shm
fi
run fuzz_sqlite "$sq"
run fuzz_plist "$(seeds plist "$corpus/plaso/plist/InstallHistory.plist" testdata/scenarios-unix/kaspersky-mac-removed/content/*.plist)"
xp=$(seeds xpress)
for f in $(find "$corpus" -name '*.pf'); do
  if head -c 3 "$f" | grep -q MAM; then { printf '\xff\xff'; tail -c +9 "$f"; } > "$xp/$(basename "$f")"; fi
done
run fuzz_xpress "$xp"
rp=$(seeds reader_proto)
printf 'XR\t7\t133720560000000000\t11707\t0\t0\t1\nP\tMsiInstaller\nS\ta\\\\b\\tc\n.\nX\t1\t1\t1\n' > "$rp/evtx"
printf '.Z\nV\t30\nN\tCMD.EXE\nH\tD269B812\nD\t1\t66F451BC\t\\\\VOLUME\n.\n' > "$rp/prefetch"
run fuzz_reader_proto "$rp"
tp=$(seeds time_pattern)
printf '202411252140' > "$tp/a"; printf '11/18/2024 6:20:00 AM' > "$tp/b"; printf '2024-10-02 11:42:51-07' > "$tp/c"
run fuzz_time_pattern "$tp"
run fuzz_defs "$(seeds defs artifacts/*.yaml artifacts/*/*.yaml)"
run fuzz_volume "$(seeds volume)"
run fuzz_wintz "$(seeds wintz)"
run fuzz_pe "$(seeds pe)"
ls "$out/crashes" | head
