#!/usr/bin/env bash
# fuzz/build.sh [OUTDIR]: build the libFuzzer harnesses with clang, ASan
# and UBSan (default OUTDIR build-fuzz): the project configured with
# -DKT_FUZZ=ON in OUTDIR/cmake, the library built with coverage for the
# fuzzer, each harness linked with it (fuzz/CMakeLists.txt lists them).
#   fuzz/run.sh [SECONDS]   runs each on its seed corpus
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build-fuzz}
command -v clang >/dev/null || { echo "fuzz/build.sh: clang not found (apt-get install clang)" >&2; exit 1; }
mkdir -p "$out"
CC=clang cmake -S . -B "$out/cmake" -DCMAKE_BUILD_TYPE=Debug -DKT_FUZZ=ON -DKT_SANITIZE=ON \
  -DKT_WERROR=OFF -DKT_BUILD_TESTS=OFF >/dev/null
cmake --build "$out/cmake" -j"$(nproc)" --target fuzzers
for t in "$out"/cmake/fuzz/fuzz_*; do
  [[ -f $t && -x $t ]] || continue
  cp "$t" "$out/"
  echo "built $out/$(basename "$t")"
done
