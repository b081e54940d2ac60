#!/usr/bin/env bash
# Checks kt-mkprefetch against libscca's own readers, which share no code
# with it:
#   - builds kt-mkprefetch (with ASan/UBSan unless KT_SANITIZE=0);
#   - builds each spec twice and requires byte-identical output (sha256),
#     and the spec's file name to be NAME-HASH as Windows names the file;
#   - reads every file back with pyscca (python3-libscca): format version,
#     executable name, hash, run count, every last run time (exact
#     FILETIMEs), the volume's device path, serial and creation time, and
#     the loaded files in order; with sccainfo (libscca-utils): opens
#     cleanly and shows the same version, name and run count; and by hand
#     (Python, from libyal's format notes): the header's signature, file
#     size and hash and the volume's directory strings;
#   - checks that bad specs and bad usage fail cleanly and leave no OUT.
# The expected values come from the spec through a second, independent
# reading of the spec format (Python, below).
#
# Usage: testdata/tools/check-prefetch.sh [SPEC...]
#        (default: testdata/windows/prefetch/*.spec)
# Needs libscca-utils and python3-libscca (scripts/deps installs them).
# Exits non-zero on any mismatch.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Debian's interpreter: python3-libscca installs pyscca for it, not for
# whatever python3 comes first in PATH.
py=/usr/bin/python3

if [ "$#" -gt 0 ]; then
	specs=("$@")
else
	specs=("$here"/../windows/prefetch/*.spec)
fi

# ---- tools ------------------------------------------------------------------
missing=()
command -v gcc >/dev/null || missing+=(gcc)
command -v sccainfo >/dev/null || missing+=(libscca-utils)
"$py" -c 'import pyscca' 2>/dev/null || missing+=(python3-libscca)
if [ "${#missing[@]}" -gt 0 ]; then
	echo "check-prefetch: missing ${missing[*]} (scripts/deps installs them)" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cflags=(-std=c11 -Wall -Wextra -Wshadow -Wformat=2 -Wvla -Werror -O1 -g)
if [ "${KT_SANITIZE:-1}" != 0 ]; then
	cflags+=("-fsanitize=address,undefined" -fno-sanitize-recover=all)
fi
gcc "${cflags[@]}" -o "$tmp/kt-mkprefetch" "$here/kt-mkprefetch.c"
mk=$tmp/kt-mkprefetch

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

# ---- the independent verifier -------------------------------------------------
cat >"$tmp/verify.py" <<'PY'
"""Compare a prefetch file with its spec through pyscca, sccainfo and by hand.

Usage: verify.py SPEC PF
Prints one line per check: "ok CHECK" or "FAIL CHECK: reason".
"""
import datetime
import re
import struct
import subprocess
import sys

EPOCH_1601 = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)


def filetime(text):
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,7}))?Z", text)
    if not m:
        raise ValueError("bad time " + text)
    dt = datetime.datetime(*map(int, m.groups()[:6]), tzinfo=datetime.timezone.utc)
    secs = (dt - EPOCH_1601) // datetime.timedelta(seconds=1)
    return secs * 10**7 + int((m.group(7) or "").ljust(7, "0"))


def load_spec(path):
    s = {"runs": [], "files": []}
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n").rstrip("\r")
        if not line or line.startswith("#"):
            continue
        f = line.split("\t")
        if f[0] == "version":
            s["version"] = int(f[1])
        elif f[0] == "executable":
            s["name"] = f[1]
        elif f[0] == "hash":
            s["hash"] = int(f[1], 16)
        elif f[0] == "runcount":
            s["count"] = int(f[1])
        elif f[0] == "run":
            s["runs"].append(filetime(f[1]))
        elif f[0] == "volume":
            s["volume"] = (f[1], int(f[2], 16), filetime(f[3]))
        elif f[0] == "file":
            s["files"].append(f[1])
        else:
            raise ValueError("unknown directive " + f[0])
    # Directory strings: every directory below the volume root holding a
    # file, in the order the files first name them.
    dirs = []
    for p in s["files"]:
        parts = p[len(s["volume"][0]) + 1:].split("\\")[:-1]
        for i in range(1, len(parts) + 1):
            d = s["volume"][0] + "\\" + "\\".join(parts[:i])
            if d not in dirs:
                dirs.append(d)
    s["dirs"] = dirs
    return s


def check_pyscca(s, path):
    import pyscca
    errs = []
    f = pyscca.open(path)
    got = {"version": f.format_version, "name": f.executable_filename,
           "hash": f.prefetch_hash, "count": f.run_count}
    for k, v in got.items():
        if v != s[k]:
            errs.append(f"{k} {v!r}, want {s[k]!r}")
    slots = 8 if s["version"] >= 26 else 1
    runs = [f.get_last_run_time_as_integer(i) for i in range(slots)]
    want = s["runs"] + [0] * (slots - len(s["runs"]))
    if runs != want:
        errs.append(f"last run times {runs}, want {want}")
    if f.number_of_volumes != 1:
        errs.append(f"{f.number_of_volumes} volumes, want 1")
    else:
        v = f.get_volume_information(0)
        got_v = (v.device_path, v.serial_number, v.get_creation_time_as_integer())
        if got_v != s["volume"]:
            errs.append(f"volume {got_v}, want {s['volume']}")
    names = [f.get_filename(i) for i in range(f.number_of_filenames)]
    if names != s["files"]:
        errs.append(f"files {names}, want {s['files']}")
    if f.number_of_file_metrics_entries != len(s["files"]):
        errs.append(f"{f.number_of_file_metrics_entries} metrics entries")
    f.close()
    return errs


def check_sccainfo(s, path):
    errs = []
    r = subprocess.run(["sccainfo", path], capture_output=True, text=True)
    if r.returncode != 0 or r.stderr.strip():
        return [f"rc {r.returncode}: {r.stderr.strip()[:200]}"]
    for label, want in (("Format version", s["version"]), ("Executable filename", s["name"]),
                        ("Run count", s["count"]), ("Prefetch hash", f"0x{s['hash']:08x}")):
        m = re.search(label + r"\s*:\s*(\S+)", r.stdout)
        if not m or m.group(1) != str(want):
            errs.append(f"{label} {m.group(1) if m else '?'}, want {want}")
    return errs


def check_by_hand(s, path):
    """The header and the volume's directory strings, per libyal's notes."""
    d = open(path, "rb").read()
    errs = []
    version, sig, _, size = struct.unpack_from("<I4sII", d, 0)
    name = d[16:76].decode("utf-16-le").split("\0")[0]
    h = struct.unpack_from("<I", d, 76)[0]
    if (version, sig, size, name, h) != (s["version"], b"SCCA", len(d), s["name"], s["hash"]):
        errs.append(f"header {(version, sig, size, name, hex(h))}")
    vol_off, nvol, vol_size = struct.unpack_from("<III", d, 84 + 24)
    if nvol != 1 or vol_off + vol_size != len(d) or vol_off % 8:
        errs.append(f"volumes at {vol_off} size {vol_size} count {nvol}, file {len(d)}")
        return errs
    dirs_off, ndirs = struct.unpack_from("<II", d, vol_off + 28)
    p, dirs = vol_off + dirs_off, []
    for _ in range(ndirs):
        n = struct.unpack_from("<H", d, p)[0]
        dirs.append(d[p + 2:p + 2 + 2 * n].decode("utf-16-le"))
        if d[p + 2 + 2 * n:p + 4 + 2 * n] != b"\0\0":
            errs.append(f"directory string {dirs[-1]!r} not terminated")
        p += 4 + 2 * n
    if dirs != s["dirs"]:
        errs.append(f"directory strings {dirs}, want {s['dirs']}")
    return errs


def main():
    s = load_spec(sys.argv[1])
    for name, check in (("pyscca (version, name, hash, run count, run times, volume, files)",
                         check_pyscca),
                        ("sccainfo (opens; version, name, hash, run count)", check_sccainfo),
                        ("by hand (header, directory strings)", check_by_hand)):
        try:
            errs = check(s, sys.argv[2])
        except Exception as exc:  # a reader refusing the file is a failure too
            errs = [f"{type(exc).__name__}: {exc}"]
        print(f"FAIL {name}: " + "; ".join(errs[:5]) if errs else f"ok {name}")


main()
PY

report() { # NAME < verifier output
	local line
	while IFS= read -r line; do
		case $line in
		ok\ *) ok "$1: ${line#ok }" ;;
		*) bad "$1: ${line#FAIL }" ;;
		esac
	done
}

# ---- each spec -----------------------------------------------------------------
for spec in "${specs[@]}"; do
	name=$(basename "$spec" .spec)
	mkdir -p "$tmp/a" "$tmp/b"
	if ! "$mk" "$spec" "$tmp/a/$name.pf" || ! "$mk" "$spec" "$tmp/b/$name.pf"; then
		bad "$name: kt-mkprefetch failed"
		continue
	fi
	h1=$(sha256sum <"$tmp/a/$name.pf" | cut -d' ' -f1)
	h2=$(sha256sum <"$tmp/b/$name.pf" | cut -d' ' -f1)
	if [ "$h1" = "$h2" ]; then
		ok "$name: two builds identical (sha256 ${h1:0:16}...)"
	else
		bad "$name: two builds differ ($h1 vs $h2)"
	fi
	exe=$(sed -n 's/^executable\t//p' "$spec")
	hash=$(sed -n 's/^hash\t//p' "$spec")
	if [ "$name" = "$exe-${hash^^}" ]; then
		ok "$name: named NAME-HASH as Windows names it"
	else
		bad "$name: spec file should be named $exe-${hash^^}.spec"
	fi
	report "$name" < <("$py" "$tmp/verify.py" "$spec" "$tmp/a/$name.pf" 2>&1 ||
		echo "FAIL verifier crashed")
done

# ---- failure handling -----------------------------------------------------------
head='version\t30\nexecutable\tA.EXE\nhash\t0000002A\nruncount\t1\nvolume\t\\VOL\t00000001\t2020-01-01T00:00:00Z\n'
expect_fail() { # WANT_RC MESSAGE_REGEX SPEC_TEXT
	printf '%b' "$3" >"$tmp/bad.spec"
	rm -f "$tmp/bad.pf" "$tmp/bad.pf.tmp"
	local rc=0 msg
	msg=$("$mk" "$tmp/bad.spec" "$tmp/bad.pf" 2>&1) || rc=$?
	if [ "$rc" -eq "$1" ] && [[ $msg =~ $2 ]] && [ ! -e "$tmp/bad.pf" ] &&
		[ ! -e "$tmp/bad.pf.tmp" ]; then
		ok "rejects: $msg"
	else
		bad "bad spec $(printf '%q' "$3"): rc $rc, message '$msg'"
	fi
}
f='file\t\\VOL\\DIR\\A.EXE\n'
r='run\t2020-02-02T00:00:00Z\n'
expect_fail 1 'bad.spec:1: bad version' "version\t31\n"
expect_fail 1 'bad.spec:2: executable name of 30' "version\t30\nexecutable\tABCDEFGHIJKLMNOPQRSTUVWXYZ0123\n"
expect_fail 1 'bad.spec:2: bad hash' "version\t30\nhash\t2A\n"
expect_fail 1 'bad.spec:6: bad time' "${head}run\t2023-02-29T00:00:00Z\n"
expect_fail 1 'bad.spec:6: bad time' "${head}run\t2023-01-01T00:00:00.12345678Z\n"
expect_fail 1 'bad.spec:7: run times go newest first' "${head}run\t2020-01-01T00:00:00Z\n${r}"
expect_fail 1 'bad.spec:14: more than 8' "${head}$(for i in 9 8 7 6 5 4 3 2 1; do printf 'run\\t2020-01-0%sT00:00:00Z\\n' "$i"; done)"
expect_fail 1 'bad.spec:6: .*not a file on the volume' "${head}file\t\\\\OTHER\\\\A.EXE\n"
expect_fail 1 'bad.spec:6: .*invalid UTF-8' "${head}file\t\\\\VOL\\\\\xc3\x28\n"
expect_fail 1 'bad.spec:1: unknown directive' "vesrion\t30\n"
expect_fail 1 "bad.spec:1: 'version 30': fields are separated by one TAB" "version 30\n"
expect_fail 1 'bad.spec:5: version given twice' "version\t30\nexecutable\tA.EXE\nhash\t0000002A\nruncount\t1\nversion\t26\n"
expect_fail 1 'no files' "${head}${r}"
expect_fail 1 'version 23 needs exactly one run time, the spec gives 2' "${head/30/23}${r}run\t2020-01-01T00:00:00Z\n${f}"
expect_fail 1 'run count 1 below the 2' "${head}${r}run\t2020-01-01T00:00:00Z\n${f}"
expect_fail 1 'bad.spec:1: no executable' "version\t30\n"
rc=0
"$mk" only-one-arg >/dev/null 2>&1 || rc=$?
if [ "$rc" -eq 2 ]; then ok "usage error exits 2"; else bad "usage error exits $rc"; fi
# A failing build must leave an existing OUT alone.
echo previous >"$tmp/keep.pf"
printf '%b' "version\t99\n" >"$tmp/bad.spec"
"$mk" "$tmp/bad.spec" "$tmp/keep.pf" 2>/dev/null || true
if [ "$(cat "$tmp/keep.pf")" = previous ] && [ ! -e "$tmp/keep.pf.tmp" ]; then
	ok "failed build leaves existing OUT untouched"
else
	bad "failed build changed existing OUT"
fi

echo "check-prefetch: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
