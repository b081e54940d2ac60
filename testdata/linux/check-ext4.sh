#!/usr/bin/env bash
# check-ext4.sh [MANIFEST]
#
# Builds the synthetic ext4 volume twice with build-ext4.sh (the second time with
# another umask, TMPDIR, working directory and a fresh CONTENT_DIR), requires the
# two images to be byte-identical, then checks the image against the manifest
# with two independent readers:
#   - The Sleuth Kit (package sleuthkit): fls -r -p, fls -d -r -p, istat, icat;
#   - e2fsprogs: debugfs stat/dump, dumpe2fs -h, e2fsck -fn.
# Every row's four times are compared to the nanosecond (istat's fractions and
# debugfs's raw seconds:extra words), deleted names must be listed by fls -d, file
# contents and symlink targets must match.  Exits non-zero on any mismatch.
# Needs: e2fsprogs, sleuthkit, coreutils, tzdata.  No root, mount or loop device.
set -euo pipefail
export LC_ALL=C TZ=UTC

HERE=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
MANIFEST=$(cd "$(dirname -- "${1:-$HERE/ext4.tsv}")" && pwd)/$(basename -- "${1:-$HERE/ext4.tsv}")
BUILD=$HERE/build-ext4.sh
PATH=$PATH:/sbin:/usr/sbin

for t in fls istat icat debugfs dumpe2fs e2fsck sha256sum cmp date; do
	command -v "$t" >/dev/null 2>&1 || { echo "check-ext4.sh: missing tool $t (apt-get install sleuthkit e2fsprogs)" >&2; exit 2; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/check-ext4.XXXXXXXX")
trap 'rm -rf "$TMP"' EXIT

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect() { # LABEL GOT WANT
	if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}
declare -A COUNT
count() { COUNT[$1]=$(( ${COUNT[$1]:-0} + 1 )); }

# ---- helpers (same rules as build-ext4.sh) -------------------------------------
iso_sec() { date -u -d "$1" +%s; }
iso_parts() { # ISO -> "SECONDS NANOSECONDS"
	[[ $1 =~ ^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(\.([0-9]{1,9}))?Z$ ]] ||
		{ echo "bad time $1" >&2; return 1; }
	local frac=${BASH_REMATCH[3]}000000000
	echo "$(iso_sec "${BASH_REMATCH[1]}Z") $((10#${frac:0:9}))"
}
tsk_time() { # SECONDS NS -> istat's "YYYY-MM-DD HH:MM:SS.nnnnnnnnn"
	printf '%s.%09d' "$(date -u -d "@$1" '+%Y-%m-%d %H:%M:%S')" "$2"
}
e2_word() { # SECONDS NS -> debugfs's "0xSSSSSSSS:EEEEEEEE" (extra = ns<<2 | epoch)
	local s=$1 ns=$2 s32 epoch
	s32=$(( s & 0xffffffff )); (( s32 >= 0x80000000 )) && s32=$(( s32 - 0x100000000 ))
	epoch=$(( ((s - s32) >> 32) & 3 ))
	printf '0x%08x:%08x' $(( s & 0xffffffff )) $(( (ns << 2) | epoch ))
}
decode_text() {
	local s=$1 out='' i c
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		if [ "$c" = "\\" ]; then
			i=$((i + 1)); c=${s:i:1}
			case $c in n) out+=$'\n' ;; t) out+=$'\t' ;; "\\") out+="\\" ;; *) return 1 ;; esac
		else
			out+=$c
		fi
	done
	printf '%s' "$out"
}
comment_value() { # KEY -> value of the manifest comment line "#   KEY: VALUE ..."
	sed -n "s/^#[[:space:]]*$1:[[:space:]]*\([^[:space:]]*\).*/\1/p" "$MANIFEST" | head -n1
}

# ---- build twice ------------------------------------------------------------------
echo "== building twice"
"$BUILD" "$TMP/a.img" "$MANIFEST" "$TMP/content-a" >/dev/null
mkdir -p "$TMP/tmpdir-b" "$TMP/cwd-b"
( cd "$TMP/cwd-b" && umask 077 && TMPDIR=$TMP/tmpdir-b "$BUILD" "$TMP/b.img" "$MANIFEST" "$TMP/content-b" >/dev/null )
IMG=$TMP/a.img
CONTENT_DIR=$TMP/content-a
sha_a=$(sha256sum <"$TMP/a.img" | cut -d' ' -f1)
sha_b=$(sha256sum <"$TMP/b.img" | cut -d' ' -f1)
echo "sha256 build 1: $sha_a"
echo "sha256 build 2: $sha_b"
if [ "$sha_a" = "$sha_b" ]; then
	ok; echo "two builds are byte-identical"
else
	bad "two builds differ in $(cmp -l "$TMP/a.img" "$TMP/b.img" | wc -l) bytes; first offsets:"
	cmp -l "$TMP/a.img" "$TMP/b.img" | head -n 20
fi

want_sha=$(comment_value localtime-sha256)
got_sha=$(sha256sum <"$CONTENT_DIR/localtime" | cut -d' ' -f1)
expect "localtime sha256 (the pinned tzdata's America/Chicago)" "$got_sha" "$want_sha"

# ---- file-system level ------------------------------------------------------------------
echo "== superblock and fsck"
BUILD_CLOCK=$(iso_sec "$(comment_value 'build clock')")
sb=$(dumpe2fs -h "$IMG" 2>/dev/null)
sbf() { printf '%s\n' "$sb" | sed -n "s/^$1:[[:space:]]*//p" | head -n1; }
expect "label" "$(sbf 'Filesystem volume name')" "$(comment_value label)"
expect "uuid" "$(sbf 'Filesystem UUID')" "$(comment_value uuid)"
expect "hash seed" "$(sbf 'Directory Hash Seed')" "$(comment_value hash-seed)"
expect "block size" "$(sbf 'Block size')" 4096
expect "block count" "$(sbf 'Block count')" 8192
expect "inode size" "$(sbf 'Inode size')" 256
expect "inode count" "$(sbf 'Inode count')" 2048
expect "features" "$(sbf 'Filesystem features')" \
	"has_journal ext_attr resize_inode dir_index filetype extent 64bit flex_bg sparse_super large_file huge_file dir_nlink extra_isize metadata_csum"
clock_str=$(date -u -d "@$BUILD_CLOCK" '+%a %b %e %H:%M:%S %Y')
expect "mkfs time" "$(sbf 'Filesystem created')" "$clock_str"
expect "last write time" "$(sbf 'Last write time')" "$clock_str"
if e2fsck -fn "$IMG" >"$TMP/fsck.log" 2>&1; then ok; else bad "e2fsck -fn reports problems:"; cat "$TMP/fsck.log"; fi

# ---- listings ------------------------------------------------------------------------------
declare -A ALLOC DEL DELNAMES
fls -r -p "$IMG" >"$TMP/fls.txt"
fls -d -r -p "$IMG" >"$TMP/fls-d.txt"
re_fls='^([a-zV-]/[a-zV-]) (\* )?([0-9]+)(\(realloc\))?:'$'\t''(.*)$'
while IFS= read -r l; do
	[[ $l =~ $re_fls ]] || { bad "unparsed fls line: $l"; continue; }
	typ=${BASH_REMATCH[1]} star=${BASH_REMATCH[2]} ino=${BASH_REMATCH[3]} p=${BASH_REMATCH[5]}
	[ "$p" = "\$OrphanFiles" ] && continue
	if [ -n "$star" ]; then DEL[$p]="$typ $ino"; else ALLOC[$p]="$typ $ino"; fi
done <"$TMP/fls.txt"
while IFS= read -r l; do
	[[ $l =~ $re_fls ]] || { bad "unparsed fls -d line: $l"; continue; }
	[ -n "${BASH_REMATCH[2]}" ] || { bad "fls -d lists an allocated name: $l"; continue; }
	DELNAMES[${BASH_REMATCH[5]}]="${BASH_REMATCH[1]} ${BASH_REMATCH[3]}"
done <"$TMP/fls-d.txt"

# ---- per-entry checks ------------------------------------------------------------------------
istat_times() { # INO -> 4 lines: crtime mtime ctime atime as printed by istat -z UTC
	local out
	out=$(istat -z UTC "$IMG" "$1")
	for k in 'File Created' 'File Modified' 'Inode Modified' 'Accessed'; do
		printf '%s\n' "$out" | sed -n "s/^$k:"$'\t'"\(.*\) (UTC)\$/\1/p" | head -n1
	done
}
debugfs_stat() { debugfs -R "stat $1" "$IMG" 2>/dev/null; }
e2_field() { # STAT_TEXT NAME -> "0xSSSSSSSS:EEEEEEEE"
	printf '%s\n' "$1" | sed -n "s/^ *$2: \(0x[0-9a-f]*:[0-9a-f(]*\)[)]\{0,1\} --.*/\1/p" | head -n1 | tr -d '('
}

echo "== root directory"
mapfile -t got < <(istat_times 2)
want=$(tsk_time "$BUILD_CLOCK" 0)
for j in 0 1 2 3; do expect "root time $j (istat)" "${got[j]:-}" "$want"; count times_tsk; done

echo "== manifest entries"
declare -A INMANIFEST
n=0 lineno=0
while IFS= read -r line || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	case $line in ''|'#'*) continue ;; esac
	IFS=$'\t' read -r -a f <<<"$line"
	[ "${#f[@]}" -eq 7 ] || { bad "manifest line $lineno: ${#f[@]} fields"; continue; }
	kind=${f[0]} path=${f[1]} content=${f[6]}
	INMANIFEST[$path]=$kind
	n=$((n + 1)); count "kind_$kind"
	case $kind in dir) wtyp=d/d ;; file|deleted) wtyp=r/r ;; symlink) wtyp=l/l ;; *) bad "$path: kind $kind"; continue ;; esac

	# listing
	if [ "$kind" = deleted ]; then
		entry=${DEL[$path]:-}
		[ -n "$entry" ] || { bad "$path: not listed as deleted by fls -r -p"; continue; }
		[ -z "${ALLOC[$path]:-}" ] || bad "$path: still listed as allocated"
		if [ "${DELNAMES[$path]:-}" = "$entry" ]; then ok; count deleted_fls_d; else bad "$path: fls -d lists '${DELNAMES[$path]:-nothing}', fls lists '$entry'"; fi
	else
		entry=${ALLOC[$path]:-}
		[ -n "$entry" ] || { bad "$path: not listed by fls -r -p"; continue; }
	fi
	ok; count listed
	typ=${entry% *} ino=${entry#* }
	expect "$path: fls type" "$typ" "$wtyp"

	# the four times, two readers
	mapfile -t got < <(istat_times "$ino")
	st=$(debugfs_stat "<$ino>")
	if [ "$kind" != deleted ]; then
		byname=$(debugfs_stat "/$path" | sed -n 's/^Inode: \([0-9]*\) .*/\1/p')
		expect "$path: debugfs inode by path" "$byname" "$ino"
	fi
	j=0
	for field in crtime mtime ctime atime; do
		read -r s ns < <(iso_parts "${f[$((2 + j))]}")
		expect "$path: $field (istat)" "${got[j]:-}" "$(tsk_time "$s" "$ns")"; count times_tsk
		expect "$path: $field (debugfs)" "$(e2_field "$st" "$field")" "$(e2_word "$s" "$ns")"; count times_debugfs
		j=$((j + 1))
	done

	# allocation state
	ist=$(istat -z UTC "$IMG" "$ino")
	links=$(printf '%s\n' "$ist" | sed -n 's/^num of links: //p')
	if [ "$kind" = deleted ]; then
		expect "$path: istat allocation" "$(printf '%s\n' "$ist" | sed -n '2p')" "Not Allocated"
		expect "$path: links" "$links" 0
		expect "$path: dtime (istat)" "$(printf '%s\n' "$ist" | sed -n 's/^Deleted:\t\(.*\) (UTC)$/\1/p')" \
			"$(date -u -d "@$BUILD_CLOCK" '+%Y-%m-%d %H:%M:%S')"
		expect "$path: dtime (debugfs)" "$(e2_field "$st" dtime | cut -d: -f1)" "$(printf '0x%08x' "$BUILD_CLOCK")"
	else
		expect "$path: istat allocation" "$(printf '%s\n' "$ist" | sed -n '2p')" "Allocated"
	fi

	# content
	case $kind in
	file|deleted)
		case $content in
		-) : >"$TMP/want" ;;
		text:*) decode_text "${content#text:}" >"$TMP/want" || bad "$path: bad escape" ;;
		@*) cp "$CONTENT_DIR/${content#@}" "$TMP/want" ;;
		esac
		icat "$IMG" "$ino" >"$TMP/got-tsk"
		if cmp -s "$TMP/want" "$TMP/got-tsk"; then ok; count content_tsk; else bad "$path: icat content differs"; fi
		rm -f "$TMP/got-e2"
		debugfs -R "dump <$ino> $TMP/got-e2" "$IMG" >/dev/null 2>&1
		if cmp -s "$TMP/want" "$TMP/got-e2"; then ok; count content_debugfs; else bad "$path: debugfs dump content differs"; fi
		;;
	symlink)
		# (TSK 4.11 icat prints NULs for a fast symlink: use istat's line instead)
		expect "$path: target (istat)" "$(printf '%s\n' "$ist" | sed -n 's/^symbolic link to: //p')" "$content"
		expect "$path: target (debugfs)" "$(printf '%s\n' "$st" | sed -n 's/^Fast link dest: "\(.*\)"$/\1/p')" "$content"
		count symlink_targets
		;;
	esac
done <"$MANIFEST"

# nothing in the image that the manifest does not list
for p in "${!ALLOC[@]}"; do
	case ${INMANIFEST[$p]:-} in dir|file|symlink) ok ;; *) bad "image has unlisted allocated entry $p" ;; esac
done
for p in "${!DEL[@]}" "${!DELNAMES[@]}"; do
	if [ "${INMANIFEST[$p]:-}" = deleted ]; then ok; else bad "image has unlisted deleted name $p"; fi
done

echo "== summary"
echo "manifest entries: $n (dir ${COUNT[kind_dir]:-0}, file ${COUNT[kind_file]:-0}, symlink ${COUNT[kind_symlink]:-0}, deleted ${COUNT[kind_deleted]:-0})"
echo "entries found by fls: ${COUNT[listed]:-0}; deleted names listed by fls -d: ${COUNT[deleted_fls_d]:-0}"
echo "times checked to the ns: istat ${COUNT[times_tsk]:-0} (incl. 4 of the root dir), debugfs ${COUNT[times_debugfs]:-0}"
echo "contents checked: icat ${COUNT[content_tsk]:-0}, debugfs dump ${COUNT[content_debugfs]:-0}; symlink targets: ${COUNT[symlink_targets]:-0}"
echo "check-ext4: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
