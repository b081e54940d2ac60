#!/usr/bin/env bash
# build-tree.sh OUTDIR MANIFEST
# A directory tree used as evidence (as if mounted or extracted), from a
# manifest (kind, path, modified, content). Symbolic links are made as
# links, so tests can show they resolve inside the tree. Times are set
# children first so creating a child never re-stamps a parent.
set -euo pipefail
out=$1 manifest=$2
rm -rf "$out"
mkdir -p "$out"
declare -a stamps=()
while IFS=$'\t' read -r kind path mtime content; do
  [[ -z $kind || $kind == \#* ]] && continue
  case $kind in
    dir) mkdir -p "$out/$path" ;;
    file) mkdir -p "$out/$(dirname "$path")"; printf '%b' "${content#text:}" > "$out/$path" ;;
    symlink) mkdir -p "$out/$(dirname "$path")"; ln -s "$content" "$out/$path" ;;
    *) echo "$manifest: unknown kind '$kind'" >&2; exit 1 ;;
  esac
  stamps+=("$mtime	$path")
done < "$manifest"
for ((i = ${#stamps[@]} - 1; i >= 0; i--)); do
  IFS=$'\t' read -r mtime path <<< "${stamps[$i]}"
  touch -h -d "$mtime" "$out/$path"
done
touch -h -d 2024-01-01T00:00:00Z "$out"
