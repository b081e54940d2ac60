#!/usr/bin/env bash
# Build a synthetic NTFS volume image from a manifest, deterministically,
# without mounting anything (no loop device, no FUSE, no root needed).
#
# usage: build-ntfs.sh OUT_VOLUME MANIFEST CONTENT_DIR POPULATE_BIN
#
#   OUT_VOLUME    image file to create (overwritten)
#   MANIFEST      e.g. testdata/windows/ntfs.tsv
#   CONTENT_DIR   directory holding the files named by @NAME in MANIFEST
#   POPULATE_BIN  compiled testdata/tools/kt-ntfs-populate
#
# Needs: mkntfs, ntfslabel (Debian package ntfs-3g), faketime (package
# faketime).  Two builds from the same inputs are byte-identical: mkntfs
# takes its times and its random seed from the clock, which faketime
# freezes, and the populate tool sets every manifest time explicitly.
set -euo pipefail

if [ "$#" -ne 4 ]; then
	echo "usage: $0 OUT_VOLUME MANIFEST CONTENT_DIR POPULATE_BIN" >&2
	exit 2
fi
out=$1 manifest=$2 content=$3 populate=$4

# The frozen instant every non-manifest time on the volume gets (the system
# files, the root directory).  It is the first instant of the manifest's
# range (2022-01-10 .. 2024-10-31).
readonly FROZEN='2022-01-10 08:00:00'
readonly SERIAL=4B415654524143ff     # "KAVTRAC" + 0xff
readonly LABEL=Windows
readonly SIZE_MIB=48

PATH=$PATH:/sbin:/usr/sbin     # mkntfs, ntfslabel
for tool in mkntfs ntfslabel faketime; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "$0: $tool not found (apt-get install ntfs-3g faketime)" >&2
		exit 1
	}
done
[ -f "$manifest" ] || { echo "$0: no manifest: $manifest" >&2; exit 1; }
[ -d "$content" ] || { echo "$0: no content dir: $content" >&2; exit 1; }
[ -x "$populate" ] || { echo "$0: not executable: $populate" >&2; exit 1; }

export TZ=UTC LC_ALL=C
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
rm -f "$tmp"
truncate -s "${SIZE_MIB}M" "$tmp"

# mkntfs on a plain file complains about the missing geometry (only needed
# to boot from the volume); keep its output only on failure.
if ! log=$(faketime -f "$FROZEN" mkntfs -F -Q -q -s 512 -c 4096 \
		-L "$LABEL" "$tmp" 2>&1); then
	printf '%s\n' "$log" >&2
	echo "$0: mkntfs failed" >&2
	exit 1
fi
if ! log=$(faketime -f "$FROZEN" ntfslabel --new-serial="$SERIAL" \
		"$tmp" "$LABEL" 2>&1); then
	printf '%s\n' "$log" >&2
	echo "$0: ntfslabel failed" >&2
	exit 1
fi
# The populate tool overwrites every time libntfs-3g stamps with "now"
# (and gives the same image without faketime); the frozen clock is only a
# guard for whatever a later libntfs-3g might stamp that it does not know.
faketime -f "$FROZEN" "$populate" "$tmp" "$manifest" "$content"
mv -f "$tmp" "$out"
trap - EXIT
