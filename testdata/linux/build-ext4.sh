#!/usr/bin/env bash
# build-ext4.sh OUT_VOLUME MANIFEST CONTENT_DIR
#
# Builds a deterministic synthetic ext4 volume (32 MiB, 4 KiB blocks, 256-byte
# inodes, label "ubuntu-root", fixed UUID) from a TAB-separated manifest
# (see testdata/linux/ext4.tsv for the format).  No mount, loop device, FUSE or
# root privilege is used: mke2fs makes an empty file system and debugfs
# (e2fsprogs) populates it, pins every timestamp and deletes the `deleted`
# entries.
#
# CONTENT_DIR holds the files named by `@NAME` contents.  If CONTENT_DIR/localtime
# is missing it is copied from the host's /usr/share/zoneinfo/America/Chicago
# (Debian package tzdata).
#
# Why debugfs and not `mke2fs -d SRCDIR`: -d copies entries in readdir() order of
# the host file system (inode numbers and directory-entry order would then depend
# on the host fs: ext4 hash order, tmpfs, overlayfs ...), copies the builder's
# uid/gid and any host xattrs (e.g. security.selinux).  Creating every entry with
# debugfs in manifest order makes the image independent of all of that.  The
# staged source files in a temp dir are what debugfs `write` copies in.
#
# Sources of variation pinned here:
#   - fs UUID (-U), directory hash seed (-E hash_seed=), label (-L);
#   - mke2fs defaults: a private MKE2FS_CONFIG plus explicit -b/-I/-i/-J/-G/-m/-o,
#     so the host's /etc/mke2fs.conf (e.g. orphan_file, metadata_csum_seed on newer
#     distributions) does not leak in;
#   - s_mkfs_time, s_wtime, s_lastcheck, the times of the special inodes
#     (1 bad blocks, 7 resize, 8 journal) and dtime of deleted inodes:
#     E2FSPROGS_FAKE_TIME=$BUILD_EPOCH for mke2fs and every debugfs run;
#   - root dir owner (-E root_owner=0:0; otherwise it is the builder's uid);
#   - inode table / journal zeroing (lazy_*_init=0, nodiscard; the image file is
#     created fresh in a temp dir);
#   - every inode time of every manifest entry and of the root directory
#     (set_inode_field ... @secs and ..._extra), set after the deletions.
set -euo pipefail
export LC_ALL=C TZ=UTC
umask 022

usage() { echo "usage: $0 OUT_VOLUME MANIFEST CONTENT_DIR" >&2; exit 2; }
die() { echo "build-ext4.sh: $*" >&2; exit 1; }
[ $# -eq 3 ] || usage
OUT=$1 MANIFEST=$2 CONTENT_DIR=$3

FS_UUID=5b3c6d1e-8f2a-4c7b-9d0e-1a2b3c4d5e6f
HASH_SEED=d0e1f2a3-b4c5-4d6e-8f70-8192a3b4c5d6
LABEL=ubuntu-root
BUILD_EPOCH=1732968000          # 2024-11-30T12:00:00Z: mkfs/write time, root dir times, dtime
BLOCKS=8192                     # 8192 x 4 KiB = 32 MiB
# The zone file comes from the pinned tzdata release (testdata/tz/tzdata/),
# compiled by zic: KT_ZONEINFO when the caller compiled it already.
if [ -z "${KT_ZONEINFO:-}" ]; then
	KT_ZONEINFO=$(mktemp -d "${TMPDIR:-/tmp}/kt-zoneinfo.XXXXXXXX")
	ZONEINFO_TMP=$KT_ZONEINFO
	trap 'rm -rf "$ZONEINFO_TMP"' EXIT
	"$(cd "$(dirname "$0")/.." && pwd)/tz/zoneinfo.sh" "$KT_ZONEINFO"
fi
ZONEINFO_SRC=$KT_ZONEINFO/America/Chicago

for t in mke2fs debugfs date; do
	command -v "$t" >/dev/null 2>&1 || [ -x "/sbin/$t" ] || [ -x "/usr/sbin/$t" ] ||
		die "missing tool $t (apt-get install e2fsprogs coreutils)"
done
PATH=$PATH:/sbin:/usr/sbin

[ -f "$MANIFEST" ] || die "manifest not found: $MANIFEST"
mkdir -p "$CONTENT_DIR"
if [ ! -e "$CONTENT_DIR/localtime" ]; then
	[ -f "$ZONEINFO_SRC" ] || die "$ZONEINFO_SRC missing (zic failed?)"
	cp -L "$ZONEINFO_SRC" "$CONTENT_DIR/localtime"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/build-ext4.XXXXXXXX")
trap 'rm -rf "$TMP" ${ZONEINFO_TMP:+"$ZONEINFO_TMP"}' EXIT
[[ $TMP =~ ^[A-Za-z0-9._/+-]+$ ]] || die "temp dir path unsuitable for debugfs: $TMP"

# Names and symlink targets go into debugfs command lines unquoted.
SAFE_RE='^[A-Za-z0-9._+@:,~-]+(/[A-Za-z0-9._+@:,~-]+)*$'
TARGET_RE='^/?[A-Za-z0-9._+@:,~-]+(/[A-Za-z0-9._+@:,~-]+)*$'

# ISO 8601 UTC -> "SECONDS EXTRA" where EXTRA is the ext4 *_extra word:
# (nanoseconds << 2) | epoch bits, epoch = (sec - (int32)sec) >> 32.
iso_to_sec_extra() {
	local iso=$1 base frac ns sec s32 epoch
	[[ $iso =~ ^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(\.([0-9]{1,9}))?Z$ ]] ||
		die "bad time '$iso' (want YYYY-MM-DDTHH:MM:SS[.fffffffff]Z)"
	base=${BASH_REMATCH[1]} frac=${BASH_REMATCH[3]}
	sec=$(date -u -d "${base}Z" +%s) || die "bad time '$iso'"
	[ "$(date -u -d "@$sec" +%Y-%m-%dT%H:%M:%S)" = "$base" ] || die "bad time '$iso'"
	frac=${frac}000000000
	ns=$((10#${frac:0:9}))
	s32=$(( sec & 0xffffffff )); (( s32 >= 0x80000000 )) && s32=$(( s32 - 0x100000000 ))
	epoch=$(( ((sec - s32) >> 32) & 3 ))
	echo "$sec $(( (ns << 2) | epoch ))"
}

# Decode `text:` escapes: \n \t \\ only.
decode_text() {
	local s=$1 out='' i c
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		if [ "$c" = "\\" ]; then
			i=$((i + 1)); c=${s:i:1}
			case $c in
			n) out+=$'\n' ;; t) out+=$'\t' ;; "\\") out+="\\" ;;
			*) die "bad escape '\\$c' in text content" ;;
			esac
		else
			out+=$c
		fi
	done
	printf '%s' "$out"
}

# ---- parse the manifest ---------------------------------------------------
declare -a K P T C            # kind, path, "sec extra" x4 (space separated), content
declare -A SEEN
n=0 lineno=0
while IFS= read -r line || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	case $line in ''|'#'*) continue ;; esac
	[[ $line == *$'\r'* ]] && die "line $lineno: CR in manifest"
	IFS=$'\t' read -r -a f <<<"$line"
	[ "${#f[@]}" -eq 7 ] || die "line $lineno: want 7 TAB-separated fields, got ${#f[@]}"
	kind=${f[0]} path=${f[1]} content=${f[6]}
	[[ $path =~ $SAFE_RE ]] || die "line $lineno: unsupported path '$path'"
	case "/$path/" in */./*|*/../*) die "line $lineno: '.' or '..' in path" ;; esac
	[ -z "${SEEN[$path]:-}" ] || die "line $lineno: duplicate path $path"
	parent=${path%/*}; [ "$parent" = "$path" ] && parent=''
	[ -z "$parent" ] || [ "${SEEN[$parent]:-}" = dir ] ||
		die "line $lineno: parent dir of $path not listed before it"
	case $kind in
	dir) [ "$content" = - ] || die "line $lineno: dir content must be '-'" ;;
	file|deleted) [ "$content" = - ] || [[ $content == text:* ]] || [[ $content == @* ]] ||
			die "line $lineno: bad content for $kind" ;;
	symlink) [[ $content =~ $TARGET_RE ]] || die "line $lineno: unsupported symlink target" ;;
	*) die "line $lineno: unknown kind '$kind'" ;;
	esac
	times=''
	for i in 2 3 4 5; do times+="$(iso_to_sec_extra "${f[$i]}") "; done
	K[n]=$kind P[n]=$path T[n]=$times C[n]=$content
	SEEN[$path]=$kind
	n=$((n + 1))
done <"$MANIFEST"
[ "$n" -gt 0 ] || die "empty manifest"

# ---- stage file contents ----------------------------------------------------
mkdir "$TMP/src"
for ((i = 0; i < n; i++)); do
	case ${K[i]} in file|deleted) ;; *) continue ;; esac
	src=$TMP/src/f$i
	case ${C[i]} in
	-) : >"$src" ;;
	text:*) decode_text "${C[i]#text:}" >"$src" ;;
	@*) name=${C[i]#@}
		[[ $name =~ ^[A-Za-z0-9._-]+$ ]] || die "bad content name '$name'"
		[ -f "$CONTENT_DIR/$name" ] || die "missing $CONTENT_DIR/$name"
		cat "$CONTENT_DIR/$name" >"$src" ;;
	esac
	chmod 0644 "$src"
done

# ---- empty file system --------------------------------------------------------
cat >"$TMP/mke2fs.conf" <<'EOF'
[defaults]
	base_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
	default_mntopts = acl,user_xattr
	enable_periodic_fsck = 0
	blocksize = 4096
	inode_size = 256
	inode_ratio = 16384
	reserved_ratio = 5.0
	lazy_itable_init = false
	lazy_journal_init = false

[fs_types]
	ext4 = {
		features = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
	}
EOF
IMG=$TMP/volume.img
truncate -s $((BLOCKS * 4096)) "$IMG"
MKE2FS_CONFIG=$TMP/mke2fs.conf E2FSPROGS_FAKE_TIME=$BUILD_EPOCH \
	mke2fs -q -F -t ext4 -T default -o Linux -b 4096 -I 256 -i 16384 -m 5 -G 16 -J size=4 \
	-O has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize \
	-U "$FS_UUID" -L "$LABEL" \
	-E root_owner=0:0,hash_seed=$HASH_SEED,lazy_itable_init=0,lazy_journal_init=0,nodiscard \
	"$IMG" "$BLOCKS" >"$TMP/mke2fs.log" 2>&1 || { cat "$TMP/mke2fs.log" >&2; die "mke2fs failed"; }

run_debugfs() { # CMDFILE: fails on any error message debugfs prints
	local log=$TMP/debugfs.log
	E2FSPROGS_FAKE_TIME=$BUILD_EPOCH debugfs -w -f "$1" "$IMG" >"$log" 2>&1 ||
		{ cat "$log" >&2; die "debugfs failed"; }
	# debugfs exits 0 even when a command fails; every error line names a command.
	if grep -v -e '^debugfs ' -e '^debugfs: ' -e '^Allocated inode: ' -e '^$' "$log" >&2; then
		die "debugfs reported errors running $1"
	fi
}

# ---- pass 1: create every entry in manifest order ----------------------------
{
	for ((i = 0; i < n; i++)); do
		p=${P[i]}
		case ${K[i]} in
		dir) [ "$p" = lost+found ] || echo "mkdir /$p" ;;   # lost+found comes from mke2fs
		symlink) echo "symlink /$p ${C[i]}" ;;
		file|deleted)
			parent=${p%/*}; [ "$parent" = "$p" ] && parent=''
			echo "cd /$parent"
			echo "write $TMP/src/f$i ${p##*/}"   # name in cwd: older debugfs write takes no path
			echo "cd /" ;;
		esac
	done
} >"$TMP/pass1.cmd"
run_debugfs "$TMP/pass1.cmd"

# inode numbers of the entries to delete (needed to pin their times after rm)
declare -A INO
for ((i = 0; i < n; i++)); do
	[ "${K[i]}" = deleted ] || continue
	ino=$(E2FSPROGS_FAKE_TIME=$BUILD_EPOCH debugfs -R "stat /${P[i]}" "$IMG" 2>/dev/null |
		sed -n 's/^Inode: \([0-9][0-9]*\) .*/\1/p' | head -n1)
	[ -n "$ino" ] || die "cannot find inode of ${P[i]}"
	INO[$i]=$ino
done

# ---- pass 2: delete, then pin every time ------------------------------------------
# debugfs rm = unlink (name stays in the previous entry's rec_len slack, inode
# number kept) + kill_file_by_inode: links_count 0, dtime = now (= BUILD_EPOCH via
# E2FSPROGS_FAKE_TIME), blocks and inode freed in the bitmaps.  The extent tree and
# data blocks are NOT wiped (unlike the kernel), and no other time of the inode or
# of the parent directory changes.  Times are pinned after rm so that no version of
# rm can move them.
# Order: seconds first, then the full _extra word (ns<<2 | epoch).  Setting the
# seconds keeps the ns bits and rewrites the epoch bits; setting _extra afterwards
# overwrites the epoch bits, so _extra must carry them.
{
	for ((i = 0; i < n; i++)); do
		if [ "${K[i]}" = deleted ]; then echo "rm /${P[i]}"; fi
	done
	pin() { # TARGET "s e s e s e s e" (crtime mtime ctime atime)
		local tgt=$1 field j=0
		local -a v
		read -r -a v <<<"$2"
		for field in crtime mtime ctime atime; do
			echo "set_inode_field $tgt $field @${v[j]}"
			echo "set_inode_field $tgt ${field}_extra ${v[j + 1]}"
			j=$((j + 2))
		done
	}
	pin / "$BUILD_EPOCH 0 $BUILD_EPOCH 0 $BUILD_EPOCH 0 $BUILD_EPOCH 0"
	for ((i = 0; i < n; i++)); do
		if [ "${K[i]}" = deleted ]; then
			pin "<${INO[$i]}>" "${T[i]}"
			echo "set_inode_field <${INO[$i]}> dtime @$BUILD_EPOCH"
		else
			pin "/${P[i]}" "${T[i]}"
		fi
	done
} >"$TMP/pass2.cmd"
run_debugfs "$TMP/pass2.cmd"

mkdir -p "$(dirname -- "$OUT")"
cp "$IMG" "$OUT.tmp.$$"
mv -f "$OUT.tmp.$$" "$OUT"
echo "built $OUT ($n manifest entries)"
