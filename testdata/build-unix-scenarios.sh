#!/usr/bin/env bash
# build-unix-scenarios.sh OUTDIR [KT_MKRPMDB]
#
# Builds the synthetic Linux and macOS scenarios of testdata/scenarios-unix/
# (one directory each; see testdata/scenarios-unix/README.md) from nothing,
# without mounts, loop devices, FUSE or root-only tricks.
#
# A scenario with ext4.tsv is a Linux disk. For it the script writes
#   OUTDIR/NAME.raw     36 MiB MBR disk, one Linux partition (type 83) at
#                       sector 2048 holding a 32 MiB ext4 volume
#   OUTDIR/NAME.E01..   the same disk as split EWF (16 MiB segments, no
#                       compression, SHA-1 stored, acquisition time pinned)
#   OUTDIR/NAME.vhd, OUTDIR/NAME.vmdk, OUTDIR/NAME.qcow2
# A scenario with tree.tsv is a macOS system as a directory tree (HFS+ and
# APFS cannot be built on Debian): OUTDIR/NAME.tree/.
#
# The raw disks and the trees (contents and times) are identical from build
# to build; the containers carry what their writers add (libewf's set GUID,
# qemu-img's VHD UUID and VMDK CID). Host inputs that do enter the images:
# the zoneinfo files named by `zoneinfo:` contents (zic's output for the
# pinned tzdata release testdata/tz/tzdata/, not the host's tzdata), gzip's
# output (`gz:` contents) and kt-mkrpmdb's (`rpmdb:` contents); the stamp
# hashes them all.
#
#   KT_MKRPMDB  compiled testdata/tools/kt-mkrpmdb.c (tests/ target
#               kt-mkrpmdb); needed only by scenarios with `rpmdb:` contents
#               (default: $KT_MKRPMDB from the environment).
#
# ---- ext4.tsv (Linux volume) -----------------------------------------------
# One entry a line, 7 TAB-separated fields, parents before children, '#'
# comments and blank lines ignored:
#   kind    dir | file | symlink | deleted | deleted-dir
#   path    relative to the volume root
#   crtime mtime ctime atime
#           ISO 8601 UTC with an optional 1-9 digit fraction
#           ('2024-10-15T14:41:05.25Z'), or '=' for "the same as the column
#           before" (crtime cannot be '=')
#   content '-' (dir, empty file) | 'text:' + text with \n \t \\ escapes |
#           '@NAME' the bytes of content/NAME | 'gz:NAME' content/NAME
#           through `gzip -n -9` | 'zoneinfo:ZONE' ZONE compiled from
#           the pinned tzdata (KT_ZONEINFO) | 'rpmdb:NAME' the rpmdb.sqlite that
#           kt-mkrpmdb makes from the spec content/NAME | 'ndb:NAME' the ndb
#           Packages.db kt-mkrpmdb makes from it | for a symlink: its target
# 'deleted' (a file) and 'deleted-dir' are created with their content and
# times, then removed with debugfs rm / rmdir, children first: the name stays
# in the parent's directory block, the inode keeps its times, size and extent
# tree (debugfs wipes neither, unlike the kernel), links 0, and its dtime is
# set to the row's ctime (whole seconds), as a kernel unlink sets both.
#
# ---- disk.conf ------------------------------------------------------------
# KEY<TAB>VALUE: label, uuid, hash_seed (ext4), mkfs (ISO UTC: the volume's
# creation = the clock mke2fs and debugfs run under), root (four ISO UTC
# times for the root directory: crtime mtime ctime atime), disk_id (MBR
# label-id), acquired (acquisition clock for the E01, faketime format).
#
# ---- tree.tsv (directory tree) ---------------------------------------------
# 4 TAB-separated fields: kind (dir | file | symlink), path, mtime (ISO UTC,
# also written as atime), content (as above, but no rpmdb:). Times are set
# children first with touch -h, so making a child never re-stamps a parent;
# the tree's root gets disk.conf's `root` mtime.
#
# A stamp of the inputs' hashes lets a second run with the same inputs
# return at once.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 OUTDIR [KT_MKRPMDB]" >&2
  exit 2
fi
out=$(realpath -m "$1")
mkrpmdb=${2:-${KT_MKRPMDB:-}}
[[ -z $mkrpmdb ]] || mkrpmdb=$(realpath "$mkrpmdb")
here=$(cd "$(dirname "$0")" && pwd)
scen=$here/scenarios-unix
export TZ=UTC LC_ALL=C
umask 022
PATH=$PATH:/sbin:/usr/sbin

for tool in mke2fs debugfs sfdisk ewfacquirestream qemu-img faketime gzip date sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "$0: $tool not found (apt-get install e2fsprogs fdisk ewf-tools qemu-utils faketime gzip coreutils)" >&2
    exit 1
  }
done

readonly BLOCKS=8192 DISK_MIB=36 PART_START=2048
# Zone files from the pinned tzdata release (testdata/tz/tzdata/), never the host's.
if [[ -z ${KT_ZONEINFO:-} ]]; then
  KT_ZONEINFO=$(mktemp -d)
  zoneinfo_tmp=$KT_ZONEINFO
  trap 'rm -rf "$zoneinfo_tmp"' EXIT
  "$here/tz/zoneinfo.sh" "$KT_ZONEINFO"
fi
readonly ZONEINFO=$KT_ZONEINFO
readonly PART_SECTORS=$((BLOCKS * 8))

die() { echo "$0: $*" >&2; exit 1; }

mapfile -t names < <(cd "$scen" && for d in */; do
  d=${d%/}
  if [[ -f $d/ext4.tsv || -f $d/tree.tsv ]]; then printf '%s\n' "$d"; fi
done)
[[ ${#names[@]} -gt 0 ]] || die "no scenario in $scen"

# ---- stamp ------------------------------------------------------------------
zones_used() {
  cat "$scen"/*/ext4.tsv "$scen"/*/tree.tsv 2>/dev/null |
    sed -n 's/.*\tzoneinfo:\([A-Za-z0-9/_+-]*\)$/\1/p' | sort -u
}
inputs_hash() {
  (cd "$scen" && find . -type f ! -name '*.md' ! -name expected.tsv ! -name 'check-*' -print0 |
     LC_ALL=C sort -z | xargs -0 sha256sum
   sha256sum "$here/build-unix-scenarios.sh" | cut -d' ' -f1
   if [[ -n $mkrpmdb ]]; then sha256sum "$mkrpmdb" | cut -d' ' -f1; fi
   zones_used | while read -r z; do sha256sum "$ZONEINFO/$z" 2>/dev/null || echo "missing $z"; done
   gzip --version | sed -n 1p
   mke2fs -V 2>&1 | sed -n 1p) | sha256sum | cut -d' ' -f1
}
stamp=$out/.unix-scenarios-stamp
want=$(inputs_hash)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  echo "unix scenarios in $out are up to date"
  exit 0
fi

start=$SECONDS
step() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
mkdir -p "$out"
rm -f "$stamp"
work=$out/.work-unix-scenarios
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work" ${zoneinfo_tmp:+"$zoneinfo_tmp"}' EXIT
[[ $work =~ ^[A-Za-z0-9._/+-]+$ ]] || die "work dir path unsuitable for debugfs: $work"

# conf FILE KEY: the value of KEY in a disk.conf (KEY<TAB>VALUE lines).
conf() {
  awk -F'\t' -v k="$2" '$1 == k { print $2; found = 1 } END { exit !found }' "$1" ||
    die "$1: no '$2'"
}

# Decode `text:` escapes: \n \t \\ only.
decode_text() {
  local s=$1 out='' i c
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    if [[ $c == "\\" ]]; then
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

# stage_content SPEC DIR DEST: write the bytes a content spec names to DEST.
stage_content() {
  local spec=$1 dir=$2 dest=$3 name
  case $spec in
    -) : > "$dest" ;;
    text:*) decode_text "${spec#text:}" > "$dest" ;;
    @* | gz:* | rpmdb:* | ndb:*)
      name=${spec#@}; name=${name#gz:}; name=${name#rpmdb:}; name=${name#ndb:}
      [[ $name =~ ^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$ && /$name/ != */../* ]] ||
        die "bad content name '$name'"
      [[ -f $dir/content/$name ]] || die "missing $dir/content/$name"
      case $spec in
        @*) cat "$dir/content/$name" > "$dest" ;;
        gz:*) gzip -n -9 -c "$dir/content/$name" > "$dest" ;;
        rpmdb:* | ndb:*)
          [[ -n $mkrpmdb && -x $mkrpmdb ]] || die "$spec needs KT_MKRPMDB (tests/ target kt-mkrpmdb)"
          rm -f "$dest"
          "$mkrpmdb" "$([[ $spec == ndb:* ]] && echo ndb || echo sqlite)" "$dir/content/$name" "$dest" ;;
      esac ;;
    zoneinfo:*)
      name=${spec#zoneinfo:}
      [[ $name =~ ^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$ ]] || die "bad zone '$name'"
      [[ -f $ZONEINFO/$name ]] || die "$ZONEINFO/$name missing from the pinned tzdata"
      cat "$ZONEINFO/$name" > "$dest" ;;
    *) die "bad content '$spec'" ;;
  esac
  chmod 0644 "$dest"
}

# to_epochs FILE: ISO times, one a line -> "SECONDS NANOSECONDS" lines, with
# one `date` run; every time must come back unchanged (no 25:00, no Feb 30).
to_epochs() {
  local f=$1
  sed -E 's/^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]{1,9})?Z$/\1Z/' "$f" > "$f.base"
  grep -Evq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "$f.base" &&
    die "bad time in $(grep -Evn '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$' "$f" | head -n1)"
  date -u -f "$f.base" +%s > "$f.sec" 2> "$f.err" || die "bad time: $(sed -n 1p "$f.err")"
  # round trip with a second `date` run
  sed 's/^/@/' "$f.sec" | date -u -f - +%Y-%m-%dT%H:%M:%SZ > "$f.back"
  cmp -s "$f.base" "$f.back" || die "bad time: $(diff "$f.base" "$f.back" | sed -n 2p)"
  sed -E 's/^[^.]*(\.([0-9]{1,9}))?Z$/\2/' "$f" |
    awk '{ printf "%d\n", substr($0 "000000000", 1, 9) + 0 }' > "$f.ns"
  paste -d' ' "$f.sec" "$f.ns"
}

# ---- ext4 volume --------------------------------------------------------------
SAFE_RE='^[A-Za-z0-9._+@:,~$-]+(/[A-Za-z0-9._+@:,~$-]+)*$'
TARGET_RE='^/?[A-Za-z0-9._+@:,~-]+(/[A-Za-z0-9._+@:,~-]+)*$'

build_ext4() { # DIR WORK IMG
  local dir=$1 w=$2 img=$3 manifest=$1/ext4.tsv
  local label uuid seed mkfs root
  label=$(conf "$dir/disk.conf" label) uuid=$(conf "$dir/disk.conf" uuid)
  seed=$(conf "$dir/disk.conf" hash_seed) mkfs=$(conf "$dir/disk.conf" mkfs)
  root=$(conf "$dir/disk.conf" root)

  local -a K P C
  local -A SEEN
  local n=0 lineno=0 line kind path content parent prev i t
  : > "$w/times"
  while IFS= read -r line || [[ -n $line ]]; do
    lineno=$((lineno + 1))
    case $line in '' | '#'*) continue ;; esac
    [[ $line != *$'\r'* ]] || die "$manifest:$lineno: CR in manifest"
    IFS=$'\t' read -r -a f <<< "$line"
    [[ ${#f[@]} -eq 7 ]] || die "$manifest:$lineno: want 7 TAB-separated fields, got ${#f[@]}"
    kind=${f[0]} path=${f[1]} content=${f[6]}
    [[ $path =~ $SAFE_RE ]] || die "$manifest:$lineno: unsupported path '$path'"
    case "/$path/" in */./* | */../*) die "$manifest:$lineno: '.' or '..' in path" ;; esac
    [[ -z ${SEEN[$path]:-} ]] || die "$manifest:$lineno: duplicate path $path"
    parent=${path%/*}; [[ $parent != "$path" ]] || parent=''
    [[ -z $parent || ${SEEN[$parent]:-} == dir || ${SEEN[$parent]:-} == deleted-dir ]] ||
      die "$manifest:$lineno: parent dir of $path not listed before it"
    [[ -z $parent || ${SEEN[$parent]:-} != deleted-dir || $kind == deleted || $kind == deleted-dir ]] ||
      die "$manifest:$lineno: $path is inside a deleted dir but not deleted"
    case $kind in
      dir | deleted-dir) [[ $content == - ]] || die "$manifest:$lineno: dir content must be '-'" ;;
      file | deleted) [[ $content != *$'\t'* ]] ;;
      symlink) [[ $content =~ $TARGET_RE ]] || die "$manifest:$lineno: unsupported symlink target" ;;
      *) die "$manifest:$lineno: unknown kind '$kind'" ;;
    esac
    [[ ${f[2]} != = ]] || die "$manifest:$lineno: crtime cannot be '='"
    prev=''
    for i in 2 3 4 5; do
      t=${f[$i]}
      [[ $t != = ]] || t=$prev
      echo "$t" >> "$w/times"
      prev=$t
    done
    K[n]=$kind P[n]=$path C[n]=$content
    SEEN[$path]=$kind
    n=$((n + 1))
  done < "$manifest"
  [[ $n -gt 0 ]] || die "$manifest: empty"
  local -a rootv
  read -r -a rootv <<< "$root"
  [[ ${#rootv[@]} -eq 4 ]] || die "$dir/disk.conf: root wants 4 times"
  printf '%s\n' "$mkfs" "${rootv[@]}" >> "$w/times"
  local -a E
  to_epochs "$w/times" > "$w/epochs"
  mapfile -t E < "$w/epochs"
  local mkfs_sec=${E[4 * n]%% *}

  # stage file contents
  mkdir -p "$w/src"
  for ((i = 0; i < n; i++)); do
    case ${K[i]} in file | deleted) stage_content "${C[i]}" "$dir" "$w/src/f$i" ;; esac
  done

  cat > "$w/mke2fs.conf" <<'EOF'
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
  rm -f "$img"
  truncate -s $((BLOCKS * 4096)) "$img"
  MKE2FS_CONFIG=$w/mke2fs.conf E2FSPROGS_FAKE_TIME=$mkfs_sec \
    mke2fs -q -F -t ext4 -T default -o Linux -b 4096 -I 256 -i 16384 -m 5 -G 16 -J size=4 \
    -O has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize \
    -U "$uuid" -L "$label" \
    -E root_owner=0:0,hash_seed="$seed",lazy_itable_init=0,lazy_journal_init=0,nodiscard \
    "$img" "$BLOCKS" > "$w/mke2fs.log" 2>&1 || { cat "$w/mke2fs.log" >&2; die "mke2fs failed"; }

  run_debugfs() { # CMDFILE: fails on any error message debugfs prints
    E2FSPROGS_FAKE_TIME=$mkfs_sec DEBUGFS_PAGER=__none__ debugfs -w -f "$1" "$img" > "$w/debugfs.log" 2>&1 ||
      { cat "$w/debugfs.log" >&2; die "debugfs failed on $1"; }
    # debugfs exits 0 even when a command fails; every error line names a command.
    if grep -v -e '^debugfs ' -e '^debugfs: ' -e '^Allocated inode: ' -e '^$' "$w/debugfs.log" >&2; then
      die "debugfs reported errors running $1"
    fi
  }

  # pass 1: create every entry in manifest order
  {
    for ((i = 0; i < n; i++)); do
      p=${P[i]}
      case ${K[i]} in
        dir | deleted-dir) [[ $p == lost+found ]] || echo "mkdir /$p" ;;
        symlink) echo "symlink /$p ${C[i]}" ;;
        file | deleted)
          parent=${p%/*}; [[ $parent != "$p" ]] || parent=''
          echo "cd /$parent"
          echo "write $w/src/f$i ${p##*/}"
          echo "cd /" ;;
      esac
    done
  } > "$w/pass1.cmd"
  run_debugfs "$w/pass1.cmd"

  # inode numbers of the entries to delete (to pin their times after rm)
  local -A INO
  : > "$w/stat.cmd"
  for ((i = 0; i < n; i++)); do
    case ${K[i]} in deleted | deleted-dir) echo "stat /${P[i]}" >> "$w/stat.cmd" ;; esac
  done
  if [[ -s $w/stat.cmd ]]; then
    E2FSPROGS_FAKE_TIME=$mkfs_sec DEBUGFS_PAGER=__none__ debugfs -f "$w/stat.cmd" "$img" \
      > "$w/stat.log" 2>&1
    while read -r p ino; do INO[$p]=$ino; done < <(awk '
      /^debugfs: stat \// { p = substr($3, 2); next }
      /^Inode: [0-9]+ / && p != "" { print p, $2; p = "" }' "$w/stat.log")
    for ((i = 0; i < n; i++)); do
      case ${K[i]} in
        deleted | deleted-dir) [[ -n ${INO[${P[i]}]:-} ]] || die "no inode for ${P[i]}" ;;
      esac
    done
  fi

  # pass 2: delete (children first), then pin every time. Setting the seconds
  # keeps the ns bits and rewrites the epoch bits; the _extra word set after it
  # carries both (ns << 2 | epoch).
  pin() { # TARGET INDEX-OF-FIRST-TIME
    local tgt=$1 j=$2 field s ns s32 epoch
    for field in crtime mtime ctime atime; do
      read -r s ns <<< "${E[j]}"
      s32=$((s & 0xffffffff)); ((s32 < 0x80000000)) || s32=$((s32 - 0x100000000))
      epoch=$((((s - s32) >> 32) & 3))
      echo "set_inode_field $tgt $field @$s"
      echo "set_inode_field $tgt ${field}_extra $(((ns << 2) | epoch))"
      j=$((j + 1))
    done
  }
  {
    for ((i = n - 1; i >= 0; i--)); do
      case ${K[i]} in
        deleted) echo "rm /${P[i]}" ;;
        deleted-dir) echo "rmdir /${P[i]}" ;;
      esac
    done
    pin / $((4 * n + 1))
    for ((i = 0; i < n; i++)); do
      case ${K[i]} in
        deleted | deleted-dir)
          pin "<${INO[${P[i]}]}>" $((4 * i))
          echo "set_inode_field <${INO[${P[i]}]}> dtime @${E[4 * i + 2]%% *}" ;;
        *) pin "/${P[i]}" $((4 * i)) ;;
      esac
    done
  } > "$w/pass2.cmd"
  run_debugfs "$w/pass2.cmd"
  echo "  ext4: $n manifest entries"

  # The same tree as an XFS listing (kt-mkxfs.py), for a scenario whose
  # disk.conf asks for an RHEL-like copy (rhel_disk): no deleted entries.
  if awk -F'\t' '$1 == "rhel_disk" { f = 1 } END { exit !f }' "$dir/disk.conf"; then
    {
      printf 'dir\t.\t-'; printf '\t%s' "${E[@]:$((4 * n + 1)):4}"; printf '\n'
      for ((i = 0; i < n; i++)); do
        case ${K[i]} in
          file) src=$w/src/f$i ;;
          symlink) src=${C[i]} ;;
          dir) src=- ;;
          *) die "$manifest: an RHEL-like copy cannot hold ${K[i]} entries" ;;
        esac
        [[ ${P[i]} != lost+found ]] || continue   # ext's own, not the system's
        printf '%s\t%s\t%s' "${K[i]}" "${P[i]}" "$src"
        printf '\t%s' "${E[@]:$((4 * i)):4}"
        printf '\n'
      done
    } > "$w/xfs.lst"
  fi
}

# ---- an RHEL-like disk: GPT, /boot on XFS, LVM2 with root on XFS ----------------
# For a scenario with rhel_disk in disk.conf: OUTDIR/NAME.rhel.raw (sparse), GPT:
#   partition 1  /boot, XFS without big timestamps (bigtime=0), the files of
#                testdata/linux-xfs/boot.tsv
#   partition 2  LVM2 physical volume (kt-mklvm.py, testdata/linux-xfs/lvm.spec):
#                VG rhel, LV swap (mkswap), LV root: XFS with big timestamps
#                holding the scenario's own tree with its own times
# mkfs.xfs refuses volumes under 300 MiB and writes a 64 MiB log on each.
RHEL_BOOT_START=2048 RHEL_BOOT_SECTORS=614400      # 300 MiB
RHEL_PV_START=616448 RHEL_PV_SECTORS=770048         # 376 MiB: 1 MiB metadata, 93 extents
build_rhel() { # DIR WORK
  local dir=$1 w=$2 raw=$out/$name.rhel.raw spec=$here/linux-xfs/lvm.spec
  local ext pe root_start root_count swap_start swap_count
  ext=$(awk -F= '$1 == "extent_sectors" { print $2 }' "$spec")
  pe=$(awk -F= '$1 == "pe_start_sectors" { print $2 }' "$spec")
  IFS=: read -r _ _ root_start root_count < <(awk -F= '$1 == "lv" && $2 ~ /^root:/ { print $2 }' "$spec")
  IFS=: read -r _ _ swap_start swap_count < <(awk -F= '$1 == "lv" && $2 ~ /^swap:/ { print $2 }' "$spec")
  export SOURCE_DATE_EPOCH
  SOURCE_DATE_EPOCH=$(date -u -d "$(conf "$dir/disk.conf" mkfs)" +%s)
  "$here/tools/kt-mkxfs.py" "$w/root.xfs" $((root_count * ext * 512)) "$w/xfs.lst" -- \
    -m uuid=4b565452-0000-4000-8000-0000000000f2,bigtime=1,crc=1 -L root
  # /boot: the listing's times (ISO, as in ext4.tsv) to "SECONDS NS".
  grep -v -e '^#' -e '^$' "$here/linux-xfs/boot.tsv" > "$w/boot.rows"
  cut -f4-7 "$w/boot.rows" | tr '\t' '\n' > "$w/boot.times"
  to_epochs "$w/boot.times" | paste -d'\t' - - - - |
    paste -d'\t' <(awk -F'\t' -v d="$here/linux-xfs" 'BEGIN { OFS = FS }
      { if ($1 == "file") $3 = d "/" $3; print $1, $2, $3 }' "$w/boot.rows") - > "$w/boot.lst"
  "$here/tools/kt-mkxfs.py" "$w/boot.xfs" $((RHEL_BOOT_SECTORS * 512)) "$w/boot.lst" -- \
    -m uuid=4b565452-0000-4000-8000-0000000000f1,bigtime=0,inobtcount=0,crc=1 -L boot
  truncate -s $((swap_count * ext * 512)) "$w/swap"
  mkswap -q -U 4b565452-0000-4000-8000-0000000000f3 -L swap "$w/swap" > /dev/null
  rm -f "$raw"
  truncate -s $(((RHEL_PV_START + RHEL_PV_SECTORS + 34) * 512)) "$raw"
  sfdisk -q "$raw" <<SF
label: gpt
label-id: 4B565452-0000-4000-8000-0000000000F0
unit: sectors
first-lba: 34
start=$RHEL_BOOT_START, size=$RHEL_BOOT_SECTORS, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=4B565452-0000-4000-8000-0000000000B1
start=$RHEL_PV_START, size=$RHEL_PV_SECTORS, type=E6D6D379-F507-44C2-A23C-238F2A3DF928, uuid=4B565452-0000-4000-8000-0000000000B2
SF
  "$here/tools/kt-mklvm.py" "$raw" $((RHEL_PV_START * 512)) $((RHEL_PV_SECTORS * 512)) "$spec"
  dd if="$w/boot.xfs" of="$raw" bs=1M seek=$((RHEL_BOOT_START * 512)) oflag=seek_bytes \
    conv=notrunc,sparse status=none
  dd if="$w/swap" of="$raw" bs=1M seek=$(((RHEL_PV_START + pe + swap_start * ext) * 512)) \
    oflag=seek_bytes conv=notrunc,sparse status=none
  dd if="$w/root.xfs" of="$raw" bs=1M seek=$(((RHEL_PV_START + pe + root_start * ext) * 512)) \
    oflag=seek_bytes conv=notrunc,sparse status=none
  # The same disk as QCOW2: LVM2 and XFS read inside a container.
  qemu-img convert -q -f raw -O qcow2 "$raw" "$out/$name.rhel.qcow2"
  # The physical volume alone (an LVM2 disk with no partition table).
  dd if="$raw" of="$out/$name.rhel-pv.raw" bs=1M iflag=skip_bytes,count_bytes \
    skip=$((RHEL_PV_START * 512)) count=$((RHEL_PV_SECTORS * 512)) conv=sparse status=none
  echo "  rhel disk: $(du -k "$raw" | cut -f1) KiB on disk"
}

# ---- directory tree -----------------------------------------------------------
build_tree() { # DIR TREE
  local dir=$1 tree=$2 manifest=$1/tree.tsv root
  root=$(conf "$dir/disk.conf" root)
  rm -rf "$tree"
  mkdir -p "$tree"
  local -a K P C M
  local -A SEEN
  local n=0 lineno=0 line kind path mtime content parent i
  while IFS= read -r line || [[ -n $line ]]; do
    lineno=$((lineno + 1))
    case $line in '' | '#'*) continue ;; esac
    IFS=$'\t' read -r kind path mtime content <<< "$line"
    [[ -n $content && $path != /* && /$path/ != */../* && /$path/ != */./* ]] ||
      die "$manifest:$lineno: bad line"
    [[ -z ${SEEN[$path]:-} ]] || die "$manifest:$lineno: duplicate path $path"
    parent=${path%/*}; [[ $parent != "$path" ]] || parent=''
    [[ -z $parent || ${SEEN[$parent]:-} == dir ]] ||
      die "$manifest:$lineno: parent dir of $path not listed before it"
    case $kind in
      dir) [[ $content == - ]] || die "$manifest:$lineno: dir content must be '-'"
        mkdir "$tree/$path" ;;
      file) [[ $content != rpmdb:* && $content != ndb:* ]] || die "$manifest:$lineno: no rpm database in a tree"
        stage_content "$content" "$dir" "$tree/$path" ;;
      symlink) ln -s "$content" "$tree/$path" ;;
      *) die "$manifest:$lineno: unknown kind '$kind'" ;;
    esac
    K[n]=$kind P[n]=$path M[n]=$mtime
    SEEN[$path]=$kind
    n=$((n + 1))
  done < "$manifest"
  printf '%s\n' "${M[@]}" "$root" > "$work/tree-times"
  to_epochs "$work/tree-times" > /dev/null    # validates every time
  for ((i = n - 1; i >= 0; i--)); do
    touch -h -d "${M[i]}" "$tree/${P[i]}"
  done
  touch -h -d "$root" "$tree"
  echo "  tree: $n manifest entries"
}

# ---- per scenario -------------------------------------------------------------
for name in "${names[@]}"; do
  dir=$scen/$name w=$work/$name
  mkdir -p "$w"
  if [[ -f $dir/tree.tsv ]]; then
    step "$name: directory tree"
    rm -rf "$out/$name.tree"
    build_tree "$dir" "$out/$name.tree.tmp"
    mv "$out/$name.tree.tmp" "$out/$name.tree"
    continue
  fi

  step "$name: ext4 volume"
  build_ext4 "$dir" "$w" "$w/ext4.img"

  step "$name: MBR disk"
  raw=$out/$name.raw
  rm -f "$raw" "$out/$name".E?? "$out/$name.vhd" "$out/$name.vmdk" "$out/$name.qcow2" \
    "$out/$name.rhel.raw" "$out/$name.rhel.qcow2" \
    "$out/$name.rhel-pv.raw"
  truncate -s "${DISK_MIB}M" "$raw"
  sfdisk -q "$raw" <<SF
label: dos
label-id: $(conf "$dir/disk.conf" disk_id)
unit: sectors
start=$PART_START, size=$PART_SECTORS, type=83, bootable
SF
  dd if="$w/ext4.img" of="$raw" bs=512 seek="$PART_START" conv=notrunc status=none

  step "$name: containers"
  faketime -f "$(conf "$dir/disk.conf" acquired)" ewfacquirestream -q -d sha1 -c deflate:none \
    -S 16777216 -C "KT-UNIX-SCENARIO" -D "synthetic scenario $name" -e "kavtrace testdata" \
    -E "EV-$name" -N "built by testdata/build-unix-scenarios.sh" \
    -t "$out/$name" < "$raw" > /dev/null
  qemu-img convert -q -f raw -O vpc -o force_size=on "$raw" "$out/$name.vhd"
  qemu-img convert -q -f raw -O vmdk "$raw" "$out/$name.vmdk"
  qemu-img convert -q -f raw -O qcow2 "$raw" "$out/$name.qcow2"
  if [[ -f $w/xfs.lst ]]; then
    step "$name: RHEL-like disk (GPT, XFS /boot, LVM2 root on XFS)"
    build_rhel "$dir" "$w"
  fi
  rm -rf "$w"
done

echo "$want" > "$stamp"
step "done: ${#names[@]} scenarios in $((SECONDS - start)) s in $out"
