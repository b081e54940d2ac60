#!/bin/sh
# zoneinfo.sh OUTDIR: the zone files of the pinned tzdata release
# (tzdata/ beside this script, see scripts/tz-update), compiled by zic into
# OUTDIR, for the evidence builders and their checkers: the images carry
# the same /etc/localtime bytes whatever tzdata the host has.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
zic=$(command -v zic || echo /usr/sbin/zic)
mkdir -p "$1"
"$zic" -b fat -d "$1" "$here/tzdata/tzdata.zi"
