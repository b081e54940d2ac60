#!/usr/bin/env bash
# Checks kt-mkrpmdb against the rpm command line (librpm's own database
# readers: the sqlite backend, and bdb_ro for Berkeley DB in either byte
# order), so the RPM databases the package tests read hold what the spec
# says:
#   - builds each database twice and requires byte-identical output;
#   - lists each with `rpm --dbpath DIR -qa` (on a copy: rpm may add files
#     beside a database it opens) and compares name, epoch, version,
#     release, arch and install time with the spec's rows; Debian's rpm has
#     no ndb backend, so an ndb file is first taken apart by ndb2sqlite.py
#     (a reader of the container written from rpm's rpmpkg.c: magics,
#     lengths, Adler-32) and its header blobs given to rpm in an
#     rpmdb.sqlite;
#   - checks that a bad spec fails and leaves no output.
#
# Usage: testdata/tools/check-rpmdb.sh KT-MKRPMDB [SPEC]   (default SPEC:
# testdata/linux/rpmdb.tsv). Installs rpm with apt-get when missing (needs
# root). Exits non-zero on any mismatch.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
tool=${1:?usage: check-rpmdb.sh KT-MKRPMDB [SPEC]}
spec=${2:-$top/testdata/linux/rpmdb.tsv}

if ! command -v rpm >/dev/null; then
	echo "check-rpmdb: installing rpm" >&2
	if [ "$(id -u)" -ne 0 ]; then
		echo "check-rpmdb: not root; install rpm first" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq rpm >/dev/null ||
		{ apt-get update -qq && apt-get install -y -qq rpm >/dev/null; }
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# The spec's rows as rpm prints them: "-" is rpm's "(none)".
grep -v '^#' "$spec" | grep -v '^$' |
	awk -F'\t' -v OFS='\t' '{ for (i = 1; i <= 6; i++) if ($i == "-") $i = "(none)"; print $1, $2, $3, $4, $5, $6 }' |
	LC_ALL=C sort >"$tmp/want"
rows=$(wc -l <"$tmp/want")

qf='%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{INSTALLTIME}\n'

check() { # kind file [be]
	local kind=$1 file=$2 be=${3:-} name=$1${3:+-$3}
	"$tool" "$kind" "$spec" "$tmp/$name.1" $be
	"$tool" "$kind" "$spec" "$tmp/$name.2" $be
	if ! cmp -s "$tmp/$name.1" "$tmp/$name.2"; then
		echo "check-rpmdb: $name: two builds differ" >&2
		fail=1
	fi
	mkdir -p "$tmp/db-$name"
	cp "$tmp/$name.1" "$tmp/db-$name/$file"
	local backend=()
	[ "$kind" = bdb ] && backend=(-D '_db_backend bdb_ro')
	if [ "$kind" = ndb ]; then
		rm "$tmp/db-$name/$file"
		if ! /usr/bin/python3 "$here/ndb2sqlite.py" "$tmp/$name.1" "$tmp/db-$name/rpmdb.sqlite" \
			>"$tmp/$name.blobs"; then
			echo "check-rpmdb: $name: ndb2sqlite.py refused the file" >&2
			fail=1
		fi
		# each blob's write time is its package's install time, in spec order
		cut -f2 "$tmp/$name.blobs" >"$tmp/$name.times"
		grep -v '^#' "$spec" | grep -v '^$' | cut -f6 >"$tmp/$name.want-times"
		if ! cmp -s "$tmp/$name.times" "$tmp/$name.want-times"; then
			echo "check-rpmdb: $name: blob times are not the spec's install times" >&2
			fail=1
		fi
	fi
	if ! rpm --dbpath "$tmp/db-$name" "${backend[@]}" -qa --qf "$qf" 2>"$tmp/$name.err" |
		LC_ALL=C sort >"$tmp/$name.got"; then
		echo "check-rpmdb: $name: rpm -qa failed:" >&2
		cat "$tmp/$name.err" >&2
		fail=1
	fi
	if ! diff -u "$tmp/want" "$tmp/$name.got" >&2; then
		echo "check-rpmdb: $name: rpm lists other packages than the spec" >&2
		fail=1
	else
		echo "check-rpmdb: $name: rpm lists the spec's $rows packages"
	fi
}

check sqlite rpmdb.sqlite
check bdb Packages
check bdb Packages be
check ndb Packages.db

# A bad spec: an error, and no output left behind.
printf 'kesl\t-\t1\t1\tx86_64\tnot-a-number\t0\n' >"$tmp/bad.tsv"
for kind in sqlite bdb ndb; do
	if "$tool" "$kind" "$tmp/bad.tsv" "$tmp/bad.$kind" 2>/dev/null; then
		echo "check-rpmdb: $kind: a bad spec was accepted" >&2
		fail=1
	fi
	if [ -e "$tmp/bad.$kind" ]; then
		echo "check-rpmdb: $kind: a bad spec left output" >&2
		fail=1
	fi
done

exit "$fail"
