#!/usr/bin/env bash
# Build the synthetic NTFS volume twice and check it against its manifest
# with The Sleuth Kit (package sleuthkit): every manifest line must be on the
# volume with exactly its $STANDARD_INFORMATION times, its $FILE_NAME times
# (in the MFT record, and in the parent's $I30 index entry for live
# entries) and its content; deleted entries must be unallocated, listed by
# 'fls -d' under their names and gone from the parent's index; streams must
# be named $DATA attributes; nothing else may be on the volume outside the
# NTFS system files; and the two builds must give the same fls/istat output.
#
# usage: check-ntfs.sh [MANIFEST [CONTENT_DIR [POPULATE_BIN]]]
#   MANIFEST      default: testdata/windows/ntfs.tsv
#   CONTENT_DIR   default: a temporary directory with a placeholder file for
#                 every @NAME in the manifest
#   POPULATE_BIN  default: testdata/tools/kt-ntfs-populate.c compiled with
#                 ${CC:-cc} into the temporary directory
# Exit status: 0 when everything matches, 1 on any mismatch, 2 on bad usage.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
testdata=$(dirname "$here")
[ "$#" -le 3 ] || { echo "usage: $0 [MANIFEST [CONTENT_DIR [POPULATE_BIN]]]" >&2; exit 2; }
manifest=${1:-$testdata/windows/ntfs.tsv}
content=${2:-}
populate=${3:-}

PATH=$PATH:/sbin:/usr/sbin     # mkntfs
for tool in fls istat icat od mkntfs faketime pkg-config; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "$0: $tool not found (apt-get install sleuthkit ntfs-3g" \
			"ntfs-3g-dev faketime pkg-config)" >&2
		exit 1
	}
done

export TZ=UTC LC_ALL=C.UTF-8
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'echo "$0: command failed at line $LINENO" >&2' ERR

if [ -z "$populate" ]; then
	populate=$tmp/kt-ntfs-populate
	# shellcheck disable=SC2046
	"${CC:-cc}" -std=c11 -O2 -Wall -Wextra -Wshadow -Wformat=2 -Wvla \
		-Werror -o "$populate" "$here/kt-ntfs-populate.c" \
		$(pkg-config --cflags --libs libntfs-3g)
fi
if [ -z "$content" ]; then
	content=$tmp/content
	mkdir "$content"
	# Placeholders for the @NAME files (the real hives come from another
	# tool); the check compares the volume with whatever CONTENT_DIR holds.
	grep -v '^#' "$manifest" | awk -F'\t' 'NF == 11 && $11 ~ /^@/ { print substr($11, 2) }' |
	while IFS= read -r name; do
		mkdir -p "$content/$(dirname "$name")"
		printf 'regf-placeholder %s\n' "$name" >"$content/$name"
	done
fi

img=$tmp/a.img
"$testdata/windows/build-ntfs.sh" "$img" "$manifest" "$content" "$populate"
"$testdata/windows/build-ntfs.sh" "$tmp/b.img" "$manifest" "$content" "$populate"

fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# ---------------------------------------------------------------- listings
# fls -p lines: "TYPE [*] INODE-TYPE-ID:<TAB>PATH"; '*' marks deleted.
fls -r -p "$img" >"$tmp/all.txt"
fls -r -p -d "$img" >"$tmp/del.txt"

# ------------------------------------------------------------ determinism
# istat of every MFT entry fls reaches (system files, manifest entries,
# deleted entries) on both images, plus the fls body files.  Each TSK call
# costs ~0.1 s, so entries nothing points to are left out: the byte
# comparison of the two images reports on those.
inodes=$(awk -F'\t' '{ n = split($1, a, " "); split(a[n], b, "-"); print b[1] }' "$tmp/all.txt" | sort -nu)
n_inodes=$(wc -w <<<"$inodes")
for v in a b; do
	fls -r -p -m / -z UTC "$tmp/$v.img" >"$tmp/$v.body"
	mkdir "$tmp/istat.$v"
	for i in $inodes; do
		istat -z UTC "$tmp/$v.img" "$i" >"$tmp/istat.$v/$i" 2>&1 || true
	done
done
if cmp -s "$tmp/a.body" "$tmp/b.body" && diff -r "$tmp/istat.a" "$tmp/istat.b" >/dev/null; then
	det="fls -m and istat of $n_inodes MFT entries identical"
else
	fail "two builds differ:"
	diff "$tmp/a.body" "$tmp/b.body" >&2 || true
	diff -r "$tmp/istat.a" "$tmp/istat.b" >&2 || true
	det="builds differ"
fi
if cmp -s "$img" "$tmp/b.img"; then
	det="$det; images byte-identical"
else
	det="$det; images differ in $(cmp -l "$img" "$tmp/b.img" | wc -l) bytes"
fi

# lookup LISTING PATH -> "TYPE STAR ADDR" or nothing
lookup() {
	awk -F'\t' -v p="$2" '$2 == p {
		n = split($1, a, " "); addr = a[n]; sub(/:$/, "", addr)
		print a[1], (a[2] == "*" ? "*" : "-"), addr; exit }' "$1"
}

# istat output of an entry of image a (cached)
istat_of() {
	[ -f "$tmp/istat.a/$1" ] || istat -z UTC "$img" "$1" >"$tmp/istat.a/$1"
	cat "$tmp/istat.a/$1"
}

# manifest time -> the form istat prints (nanoseconds, "(UTC)")
istat_time() {
	local t=$1 frac=000000000
	t=${t%Z}
	if [[ $t == *.* ]]; then
		frac=${t#*.}000000000
		frac=${frac:0:9}
		t=${t%%.*}
	fi
	printf '%s %s.%s (UTC)' "${t%%T*}" "${t#*T}" "$frac"
}

# manifest time -> NTFS ticks (100 ns since 1601-01-01 UTC)
ticks() {
	local t=${1%Z} frac=0000000 secs
	if [[ $t == *.* ]]; then
		frac=${t#*.}0000000
		frac=${frac:0:7}
		t=${t%%.*}
	fi
	secs=$(date -u -d "${t/T/ } UTC" +%s)
	echo $(((secs + 11644473600) * 10000000 + 10#$frac))
}

# istat's four times of one attribute block: "SI" or "FN"
istat_times() {
	awk -v want="$2" '
		/^\$STANDARD_INFORMATION Attribute Values:/ { blk = "SI"; next }
		/^\$FILE_NAME Attribute Values:/ { blk = "FN"; next }
		/^Attributes:/ { blk = "" }
		blk == want && /^(Created|File Modified|MFT Modified|Accessed):\t/ {
			sub(/^[^\t]*\t/, ""); print }' "$1"
}

# Every $I30 entry of a directory: "DIR CHILD c m mft a" (times as ticks).
# INDEX_ROOT holds the entries inline; INDEX_ALLOCATION holds 4 KiB INDX
# blocks whose multi-sector fixups are applied before parsing.
index_entries() {
	local dir=$1
	{
		echo "root"
		{ icat "$img" "$dir-144" 2>/dev/null || true; } | od -An -v -tu1 -w1
		echo "alloc"
		# (a small directory has no INDEX_ALLOCATION)
		{ icat "$img" "$dir-160" 2>/dev/null || true; } | od -An -v -tu1 -w1
	} | awk -v dir="$dir" '
		function u(o, n,   v, i) { v = 0; for (i = n - 1; i >= 0; i--) v = v * 256 + b[o + i]; return v }
		function hex8(o,   s, i) { s = ""; for (i = 7; i >= 0; i--) s = s sprintf("%02x", b[o + i]); return s }
		function entries(o, end,   len, fl, k) {
			while (o + 16 <= end) {
				len = u(o + 8, 2); fl = u(o + 12, 4)
				if (int(fl / 2) % 2 == 1 || len == 0) break
				k = o + 16
				print dir, u(o, 6), hex8(k + 8), hex8(k + 16), hex8(k + 24), hex8(k + 32)
				o += len
			}
		}
		/root/ { mode = "root"; n = 0; next }
		/alloc/ {
			if (n >= 32) { bs = u(8, 4); entries(16 + u(16, 4), 16 + u(20, 4)) }
			mode = "alloc"; n = 0; next
		}
		{ b[n++] = $1 + 0 }
		END {
			if (mode != "alloc") exit
			for (blk = 0; blk + bs <= n; blk += bs) {
				if (b[blk] != 73 || b[blk+1] != 78 || b[blk+2] != 68 || b[blk+3] != 88) continue
				uo = u(blk + 4, 2); uc = u(blk + 6, 2)
				for (i = 1; i < uc; i++) {
					b[blk + i * 512 - 2] = b[blk + uo + 2 * i]
					b[blk + i * 512 - 1] = b[blk + uo + 2 * i + 1]
				}
				entries(blk + 24 + u(blk + 24, 4), blk + 24 + u(blk + 28, 4))
			}
		}'
}

# expected content of a manifest line -> file $1
expected_content() {
	local out=$1 c=$2
	case $c in
	-) : >"$out" ;;
	text:*) printf '%b' "${c#text:}" >"$out" ;;
	@*) cp "$content/${c#@}" "$out" ;;
	esac
}

# ------------------------------------------------------------ per line
declare -A inode_of expected_paths loaded kind_of
n_dir=0 n_file=0 n_stream=0 n_deleted=0 n_times=0 n_idx=0 n_content=0
inode_of[/]=5                        # the root directory
: >"$tmp/idx.txt"
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	[[ $line =~ ^[[:space:]]*$ || $line == \#* ]] && continue
	IFS=$'\t' read -r -a f <<<"$line"
	kind=${f[0]} path=${f[1]} c=${f[10]}
	where="$manifest:$lineno: $kind $path"
	expected_paths[$path]=1

	deleted=0
	if [ "$kind" = deleted ] ||
		{ [ "$kind" = stream ] && [ "${kind_of[${path%:*}]:-}" = deleted ]; }; then
		deleted=1
		listing=$tmp/del.txt
	else
		listing=$tmp/all.txt
	fi
	kind_of[$path]=$kind
	read -r type star addr <<<"$(lookup "$listing" "$path")" || true
	if [ -z "${addr:-}" ]; then
		fail "$where: not listed by fls -r -p$([ "$deleted" = 1 ] && echo ' -d')"
		continue
	fi
	inode=${addr%%-*}
	# A deleted entry has no directory entry left, so fls shows its type
	# as '-/r' (from the MFT record only) and marks it '*'.
	if [ "$deleted" = 1 ]; then
		want_type='[-r]/r' want_star='*'
	elif [ "$kind" = dir ]; then
		want_type=d/d want_star=-
	else
		want_type=r/r want_star=-
	fi
	# shellcheck disable=SC2053
	[[ $type == $want_type && $star == "$want_star" ]] ||
		fail "$where: fls shows '$type $star $addr'"

	if [ "$kind" = stream ]; then
		n_stream=$((n_stream + 1))
		stream=${path##*:}
		istat_of "$inode" >"$tmp/istat.txt"
		grep -qF "Type: \$DATA (${addr#*-})   Name: $stream   " "$tmp/istat.txt" ||
			fail "$where: no \$DATA attribute named '$stream' (${addr#*-}) in istat $inode"
		expected_content "$tmp/want" "$c"
		if icat "$img" "$addr" >"$tmp/got" && cmp -s "$tmp/want" "$tmp/got"; then
			n_content=$((n_content + 1))
		else
			fail "$where: stream content differs"
		fi
		continue
	fi

	istat_of "$inode" >"$tmp/istat.txt"
	case $kind in
	dir) n_dir=$((n_dir + 1)); alloc="Allocated Directory" ;;
	file) n_file=$((n_file + 1)); alloc="Allocated File" ;;
	deleted) n_deleted=$((n_deleted + 1)); alloc="Not Allocated File" ;;
	esac
	grep -qxF "$alloc" "$tmp/istat.txt" || fail "$where: istat $inode is not '$alloc'"
	grep -qxF "Name: ${path##*/}" "$tmp/istat.txt" ||
		fail "$where: istat $inode: \$FILE_NAME name is not '${path##*/}'"

	mapfile -t si < <(istat_times "$tmp/istat.txt" SI)
	mapfile -t fn < <(istat_times "$tmp/istat.txt" FN)
	names=(created modified mft_changed accessed)
	if [ "${#si[@]}" -ne 4 ] || [ "${#fn[@]}" -ne 4 ]; then
		fail "$where: istat $inode: expected one \$SI and one \$FILE_NAME"
	else
		for i in 0 1 2 3; do
			want=$(istat_time "${f[2 + i]}")
			if [ "${si[i]}" = "$want" ]; then
				n_times=$((n_times + 1))
			else
				fail "$where: \$SI ${names[i]}: istat '${si[i]}', manifest '$want'"
			fi
			want=$(istat_time "${f[6 + i]}")
			if [ "${fn[i]}" = "$want" ]; then
				n_times=$((n_times + 1))
			else
				fail "$where: \$FN ${names[i]}: istat '${fn[i]}', manifest '$want'"
			fi
		done
	fi

	if [ "$kind" != dir ]; then
		expected_content "$tmp/want" "$c"
		if icat "$img" "$inode" >"$tmp/got" && cmp -s "$tmp/want" "$tmp/got"; then
			n_content=$((n_content + 1))
		else
			fail "$where: content differs (icat $inode)"
		fi
	else
		inode_of[$path]=$inode
	fi

	# The $FILE_NAME copy in the parent's $I30 index.
	parent_path=/
	[[ $path == */* ]] && parent_path=${path%/*}
	parent=${inode_of[$parent_path]:-}
	if [ -z "$parent" ]; then
		fail "$where: parent directory not found"
		continue
	fi
	if [ -z "${loaded[$parent]:-}" ]; then
		index_entries "$parent" >>"$tmp/idx.txt"
		loaded[$parent]=1
	fi
	entry=$(awk -v p="$parent" -v i="$inode" '$1 == p && $2 == i' "$tmp/idx.txt")
	if [ "$kind" = deleted ]; then
		if [ -z "$entry" ]; then
			n_idx=$((n_idx + 1))
		else
			fail "$where: still in the \$I30 index of directory $parent"
		fi
		continue
	fi
	if [ -z "$entry" ]; then
		fail "$where: no entry for inode $inode in the \$I30 index of directory $parent"
		continue
	fi
	read -r _ _ h0 h1 h2 h3 <<<"$entry"
	got=("$((16#$h0))" "$((16#$h1))" "$((16#$h2))" "$((16#$h3))")
	ok=1
	for i in 0 1 2 3; do
		want=$(ticks "${f[6 + i]}")
		[ "${got[i]}" = "$want" ] ||
			{ fail "$where: \$I30 \$FN ${names[i]}: index $((got[i])), manifest $want (${f[6 + i]})"; ok=0; }
	done
	if [ "$ok" = 1 ]; then
		n_idx=$((n_idx + 1))
	fi
done <"$manifest"

# ------------------------------------------- nothing beyond the manifest
extra=0
while IFS=$'\t' read -r _ p; do
	[[ $p == \$* ]] && continue      # NTFS system files, $OrphanFiles
	if [ -z "${expected_paths[$p]:-}" ]; then
		fail "fls lists '$p', which is not in the manifest"
		extra=$((extra + 1))
	fi
done <"$tmp/all.txt"

n_entries=$((n_dir + n_file + n_deleted))
echo "check-ntfs: $manifest"
echo "  entries: $n_dir dir, $n_file file, $n_deleted deleted, $n_stream stream"
echo "  istat times matched: $n_times of $((n_entries * 8)) (\$SI and \$FILE_NAME)"
echo "  \$I30 index entries matched: $n_idx of $n_entries ($n_deleted deleted: absent)"
echo "  contents matched (icat): $n_content of $((n_file + n_deleted + n_stream))"
echo "  entries beyond the manifest: $extra"
echo "  determinism: $det"
if [ "$fails" -ne 0 ]; then
	echo "check-ntfs: $fails mismatch(es)" >&2
	exit 1
fi
echo "check-ntfs: OK"
