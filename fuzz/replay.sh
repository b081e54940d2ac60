#!/usr/bin/env bash
# fuzz/replay.sh REPLAYER SEED_DIR [REPLAYER SEED_DIR ...] -- ARTIFACTS_DIR
# Feed every seed of each corpus to its harness (built with replay.c; ctest
# fuzz_replay). The definitions loader's harness also gets every shipped
# definitions file. A corpus that is missing or empty fails the run: each
# harness keeps seeds.
set -uo pipefail
passed=0 failed=0
pairs=()
while (($#)) && [[ $1 != -- ]]; do pairs+=("$1"); shift; done
shift || true
artifacts=${1:-}
for ((i = 0; i < ${#pairs[@]}; i += 2)); do
  replayer=${pairs[i]} seeds=${pairs[i + 1]}
  name=$(basename "$seeds")
  inputs=("$seeds")
  if [[ $name == defs && -n $artifacts ]]; then
    mapfile -t more < <(find "$artifacts" -name '*.yaml' | LC_ALL=C sort)
    inputs+=("${more[@]}")
  fi
  count=$(find "$seeds" -type f ! -name '.*' | wc -l)
  if ((count == 0)); then
    echo "FAIL $name: no seeds in $seeds"
    failed=$((failed + 1))
    continue
  fi
  if out=$("$replayer" "${inputs[@]}" 2>&1); then
    echo "ok   $name: ${out##*: }"
    passed=$((passed + 1))
  else
    echo "FAIL $name:"
    echo "$out" | tail -30
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
((failed == 0))
