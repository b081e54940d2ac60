#!/bin/sh
# Compile the zone sources beside this script into TZif files for the tzif
# suite, with the zic of the host (Debian libc-bin):
#   OUT/fat/Kt/...    zic -b fat: the v1 block, the v2+ block and the footer
#   OUT/slim/Kt/...   zic -b slim: 64-bit data only, the footer does the rest
#   OUT/right/Kt/...  zic -b fat -L leapseconds: leap-second records
# zic's output depends only on its input and version: the files are the
# same on every run.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
here=$(cd "$(dirname "$0")" && pwd)
zic=$(command -v zic || echo /usr/sbin/zic)
"$zic" -b fat -d "$out/fat" "$here/zones.zi"
"$zic" -b slim -d "$out/slim" "$here/zones.zi"
"$zic" -b fat -L "$here/leapseconds" -d "$out/right" "$here/zones.zi"
# The pinned tzdata release kavtrace's zone table is made from
# (tzdata/, see scripts/tz-update): the reference the table is checked
# against, and real zones for the reader's own tests.
"$zic" -b fat -d "$out/tzdata" "$here/tzdata/tzdata.zi"
