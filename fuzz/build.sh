#!/usr/bin/env bash
# fuzz/build.sh [OUTDIR]: build the libFuzzer harnesses with clang, ASan
# and UBSan (default OUTDIR build-fuzz). Each harness is compiled with the
# sources of the parser it drives, nothing else.
#   fuzz/run.sh [SECONDS]   runs each on its seed corpus
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build-fuzz}
command -v clang >/dev/null || { echo "fuzz/build.sh: clang not found (apt-get install clang)" >&2; exit 1; }
mkdir -p "$out"
flags=(-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -Iinclude -Isrc -Isrc/prefetch-reader)
common=(src/error.c src/buf.c src/time.c src/alloc.c)
build() {
  local name=$1; shift
  clang "${flags[@]}" -o "$out/$name" "fuzz/$name.c" "$@"
  echo "built $out/$name"
}
build fuzz_tzif src/tzif.c "${common[@]}"
build fuzz_packages src/parsers/packages.c src/parsers/rpm_header.c src/parsers/rpmdb_sqlite.c \
  src/parsers/rpmdb_bdb.c src/parsers/rpmdb_ndb.c src/parsers/dnf_log.c src/parsers/yum_log.c \
  src/parsers/zypp_history.c src/parsers/sqlite.c \
  src/parsers/gzip.c src/parsers/xz.c "${common[@]}" $(pkg-config --libs sqlite3 liblzma) -lz
build fuzz_sqlite src/parsers/sqlite.c "${common[@]}" $(pkg-config --libs sqlite3)
build fuzz_plist src/parsers/plist.c "${common[@]}" $(pkg-config --cflags --libs libplist-2.0)
build fuzz_xpress src/prefetch-reader/xpress.c
build fuzz_reader_proto src/reader_proto.c
build fuzz_time_pattern src/timepattern.c "${common[@]}"
