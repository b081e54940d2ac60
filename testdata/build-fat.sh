#!/usr/bin/env bash
# build-fat.sh OUT SIZE_KIB SERIAL LABEL MANIFEST FAT_BITS
# A FAT volume from a manifest (kind, path, modified, content), without
# mounts: mkfs.vfat on a plain file, then mtools. FAT keeps local time, so
# everything runs with TZ=UTC and faketime pins the times mkfs and mmd stamp.
set -euo pipefail
out=$1 size_kib=$2 serial=$3 label=$4 manifest=$5 bits=$6
export TZ=UTC MTOOLS_SKIP_CHECK=1
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

rm -f "$out"
faketime -f '2022-01-10 08:00:00' mkfs.vfat -C -F "$bits" -s 1 -i "$serial" -n "$label" "$out" "$size_kib" >/dev/null

while IFS=$'\t' read -r kind path mtime content; do
  [[ -z $kind || $kind == \#* ]] && continue
  stamp=$(date -u -d "${mtime%Z}" '+%Y-%m-%d %H:%M:%S')
  case $kind in
    dir)
      faketime -f "$stamp" mmd -i "$out" "::/$path" ;;
    file)
      mkdir -p "$stage/$(dirname "$path")"
      printf '%b' "${content#text:}" > "$stage/$path"
      touch -d "$stamp" "$stage/$path"
      faketime -f "$stamp" mcopy -m -i "$out" "$stage/$path" "::/$path" ;;
    *) echo "$manifest: unknown kind '$kind'" >&2; exit 1 ;;
  esac
done < "$manifest"
