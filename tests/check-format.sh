#!/usr/bin/env bash
# check-format.sh SOURCE_DIR: every C file under src/ include/ tests/ tools/ fuzz/ is as
# clang-format writes it with the committed .clang-format (Debian 12's clang-format 14,
# from scripts/deps; other releases may format differently). gen/ (the zone table) is left
# as kt-tzgen generates it (scripts/tz-update): a table, not code anyone edits.
set -euo pipefail
cd "$1"
if ! command -v clang-format >/dev/null; then
  echo "check-format: no clang-format (scripts/deps installs it)" >&2
  exit 1
fi
mapfile -t files < <(find src include tests tools fuzz -name '*.[ch]' |
  LC_ALL=C sort)
if ((${#files[@]} == 0)); then
  echo "check-format: no C files under $PWD" >&2
  exit 1
fi
if ! clang-format --dry-run -Werror "${files[@]}"; then
  echo "check-format: not formatted; run 'clang-format -i FILE' on the files above" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files as $(clang-format --version | head -1) formats them"
