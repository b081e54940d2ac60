#!/usr/bin/env bash
# Checks kt-mkhive against readers that share no code with it or each other:
#   - builds kt-mkhive (with ASan/UBSan unless KT_SANITIZE=0);
#   - builds each spec twice and requires byte-identical output (sha256);
#   - reads every hive back with libregf (python3-libregf: exact FILETIMEs,
#     value types and bytes), reglookup (libregfi: key mtimes to the second,
#     decoded values) and hivexregedit --export (hivex: value types and
#     bytes), and checks the base block by hand (sequence numbers, checksum,
#     time, file name);
#   - checks that bad specs and bad usage fail cleanly and leave no OUT.
# The expected hive is derived from the spec by a second, independent
# implementation of the spec format (Python, below).
#
# Usage: testdata/tools/check-hive.sh [SPEC...]   (default: testdata/windows/hives/*.spec)
# Installs libwin-hivex-perl, reglookup and python3-libregf with apt-get when
# missing (needs root).  Exits non-zero on any mismatch.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
# Debian's interpreter: python3-libregf installs pyregf for it, not for
# whatever python3 comes first in PATH.
py=/usr/bin/python3

if [ "$#" -gt 0 ]; then
	specs=("$@")
else
	specs=("$top"/testdata/windows/hives/*.spec)
fi

# ---- tools ------------------------------------------------------------------
missing=()
command -v gcc >/dev/null || missing+=(gcc)
command -v pkg-config >/dev/null || missing+=(pkg-config)
pkg-config --exists hivex 2>/dev/null || missing+=(libhivex-dev)
command -v hivexregedit >/dev/null || missing+=(libwin-hivex-perl)
command -v reglookup >/dev/null || missing+=(reglookup)
"$py" -c 'import pyregf' 2>/dev/null || missing+=(python3-libregf)
if [ "${#missing[@]}" -gt 0 ]; then
	echo "check-hive: installing ${missing[*]}" >&2
	if [ "$(id -u)" -ne 0 ]; then
		echo "check-hive: not root; install these first: ${missing[*]}" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq "${missing[@]}" >/dev/null ||
		{ apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cflags=(-std=c11 -Wall -Wextra -Wshadow -Wformat=2 -Wvla -Werror -O1 -g)
if [ "${KT_SANITIZE:-1}" != 0 ]; then
	cflags+=("-fsanitize=address,undefined" -fno-sanitize-recover=all)
fi
# shellcheck disable=SC2046 # pkg-config output is meant to split
gcc "${cflags[@]}" -o "$tmp/kt-mkhive" "$here/kt-mkhive.c" \
	$(pkg-config --cflags --libs hivex)
mkhive=$tmp/kt-mkhive

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

# ---- the independent verifier -------------------------------------------------
cat >"$tmp/verify.py" <<'PY'
"""Compare a hive with its spec through several readers.

Prints one line per reader: "ok READER" or "FAIL READER: reason".
"""
import csv
import datetime
import re
import struct
import subprocess
import sys

import pyregf

UTC = datetime.timezone.utc
EPOCH_1601 = datetime.datetime(1601, 1, 1, tzinfo=UTC)
TYPES = {"none": 0, "sz": 1, "expand_sz": 2, "binary": 3, "dword": 4,
         "dword_be": 5, "multi_sz": 7, "qword": 11}
ESC = {"t": "\t", "n": "\n", "\\": "\\", "|": "|"}


def filetime(text):
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,7}))?Z", text)
    if not m:
        raise ValueError("bad time " + text)
    dt = datetime.datetime(*map(int, m.groups()[:6]), tzinfo=UTC)
    secs = (dt - EPOCH_1601) // datetime.timedelta(seconds=1)
    return secs * 10**7 + int((m.group(7) or "0").ljust(7, "0"))


def split_text(s, multi):
    """Unescape; for multi_sz also split on unescaped '|'."""
    items, cur, i = [], [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s) and s[i + 1] in ESC:
            cur.append(ESC[s[i + 1]])
            i += 2
            continue
        if multi and c == "|":
            items.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    items.append("".join(cur))
    return items


def encode(vtype, data):
    if vtype in ("sz", "expand_sz"):
        return (split_text(data, False)[0] + "\0").encode("utf-16-le")
    if vtype == "multi_sz":
        items = split_text(data, True) if data else []
        return b"".join((x + "\0").encode("utf-16-le") for x in items) + b"\0\0"
    if vtype in ("dword", "dword_be", "qword"):
        bits = 64 if vtype == "qword" else 32
        n = int(data, 16) if data.lower().startswith("0x") else int(data, 10)
        n &= (1 << bits) - 1
        return struct.pack({"dword": "<I", "dword_be": ">I", "qword": "<Q"}[vtype], n)
    if vtype == "binary":
        return bytes.fromhex(data)
    return b""


class Key:
    def __init__(self, path):
        self.path = path          # components as first spelled
        self.time = None
        self.kids = {}            # lower name -> Key
        self.values = {}          # lower name -> (name, type, bytes)


def load_spec(path):
    spec = {"time": filetime("2020-01-01T00:00:00Z"), "hive_name": None}
    root = Key([])
    for raw in open(path, encoding="utf-8-sig"):
        line = raw.rstrip("\n").rstrip("\r")
        if not line.strip(" \t") or line.lstrip(" \t").startswith("#"):
            continue
        f = line.split("\t")
        if f[0] == "time":
            spec["time"] = filetime(f[1])
        elif f[0] == "hive-name":
            spec["hive_name"] = f[1]
        elif f[0] == "root-name":
            spec["root_name"] = f[1]
        elif f[0] in ("key", "value"):
            k = root
            for comp in f[1].split("\\") if f[1] else []:
                k = k.kids.setdefault(comp.lower(), Key(k.path + [comp]))
            if f[0] == "key" and len(f) == 3:
                k.time = filetime(f[2])
            elif f[0] == "value":
                name = "" if f[2] == "@" else f[2]
                data = encode(f[3], f[4] if len(f) > 4 else "")
                old = k.values.get(name.lower())
                k.values[name.lower()] = (old[0] if old else name, TYPES[f[3]], data)
    spec["root"] = root
    return spec


def walk(k):
    yield k
    for kid in k.kids.values():
        yield from walk(kid)


def key_time(spec, k):
    return k.time if k.time is not None and k.path else spec["time"]


def expected(spec):
    """{'A\\B': (filetime, {value name: (type, bytes)}, nsubkeys)}"""
    return {"\\".join(k.path): (key_time(spec, k),
                                {n: (t, d) for n, t, d in k.values.values()},
                                len(k.kids))
            for k in walk(spec["root"])}


def check_header(spec, hive):
    img = open(hive, "rb").read()
    errs = []
    if img[:4] != b"regf":
        errs.append("no regf signature")
    seq1, seq2, t = struct.unpack_from("<IIQ", img, 4)
    if seq1 != seq2:
        errs.append(f"sequence numbers differ ({seq1} {seq2})")
    if t != spec["time"]:
        errs.append(f"base block time {t}, want {spec['time']}")
    csum = 0
    for (w,) in struct.iter_unpack("<I", img[:0x1FC]):
        csum ^= w
    if csum != struct.unpack_from("<I", img, 0x1FC)[0]:
        errs.append("bad base block checksum")
    if struct.unpack_from("<II", img, 0x14) != (1, 5):
        errs.append("version is not 1.5")
    if len(img) != 0x1000 + struct.unpack_from("<I", img, 0x28)[0]:
        errs.append("file size != 4 KiB + hive bins data size")
    if spec["hive_name"] is not None:
        want = spec["hive_name"][-31:]
        got = img[0x30:0x70].decode("utf-16-le").split("\0")[0]
        if got != want:
            errs.append(f"file name field {got!r}, want {want!r}")
    return errs


def check_libregf(spec, hive):
    exp = expected(spec)
    f = pyregf.file()
    f.open(hive)
    errs, seen = [], {}

    def visit(k, path):
        seen[path] = (k.get_last_written_time_as_integer(),
                      {(v.name or ""): (v.type, v.data or b"") for v in k.values},
                      k.number_of_sub_keys)
        for sub in k.sub_keys:
            visit(sub, path + "\\" + sub.name if path else sub.name)

    root = f.get_root_key()
    if spec.get("root_name") and root.name != spec["root_name"]:
        errs.append(f"root key named {root.name!r}")
    visit(root, "")
    f.close()
    if set(seen) != set(exp):
        errs.append(f"key sets differ: extra {sorted(set(seen) - set(exp))[:5]}, "
                    f"missing {sorted(set(exp) - set(seen))[:5]}")
    for path in sorted(set(seen) & set(exp)):
        (gt, gv, gn), (wt, wv, wn) = seen[path], exp[path]
        if gt != wt:
            errs.append(f"key {path!r}: LastWrite {gt}, want {wt}")
        for name in sorted(set(gv) | set(wv)):
            if gv.get(name) != wv.get(name):
                errs.append(f"value {path!r}\\{name!r}: {gv.get(name)!r}, want {wv.get(name)!r}")
        if gn != wn:
            errs.append(f"key {path!r}: {gn} subkeys, want {wn}")
    return errs


def unquote(s):
    """reglookup's %XX quoting back to bytes (it quotes '%' itself)."""
    return re.sub(rb"%([0-9A-F]{2})", lambda m: bytes([int(m.group(1), 16)]), s.encode())


def key_path(text):
    """reglookup's "/A/B%2Fc" (root "/") to "A\\B/c" (root "")."""
    return "\\".join(unquote(c).decode() for c in text.split("/")[1:] if c)


def check_reglookup(spec, hive):
    out = subprocess.run(["reglookup", "-H", hive], check=True,
                         capture_output=True, text=True).stdout
    exp = expected(spec)
    errs, keys = [], {}
    for row in csv.reader(out.splitlines()):
        path, vtype, value, mtime = row[0], row[1], row[2], row[3]
        if vtype == "KEY":
            keys[key_path(path)] = mtime
            continue
        kpath, _, vname = path.rpartition("/")
        kpath = key_path(kpath)
        vname = unquote(vname).decode()
        want = exp.get(kpath, (0, {}, 0))[1].get(vname)
        if want is None:
            errs.append(f"unexpected value {path!r}")
            continue
        t, data = want
        if vtype in ("SZ", "EXPAND_SZ"):
            # reglookup cannot decode surrogate pairs and then prints the
            # raw buffer instead (with a warning): accept either form.
            good = unquote(value) in (data.decode("utf-16-le").rstrip("\0").encode(), data)
        elif vtype == "MULTI_SZ":
            items = data.decode("utf-16-le").split("\0")
            items = [x for x in items if x]
            got = [unquote(x).decode() for x in value.split("|")] if value else []
            good = got == items
        elif vtype == "DWORD":
            good = int(value, 16) == struct.unpack("<I", data)[0]
        elif vtype == "DWORD_BE":
            good = int(value, 16) == struct.unpack(">I", data)[0]
        elif vtype == "QWORD":
            good = int(value, 16) == struct.unpack("<Q", data)[0]
        elif vtype == "BINARY":
            good = unquote(value) == data
        else:
            good = t == 0 and vtype == "NONE"
        if not good:
            errs.append(f"value {path!r} ({vtype}) reads {value!r}")
    want_keys = {p: t for p, (t, _, _) in exp.items()}
    if set(keys) != set(want_keys):
        errs.append(f"key sets differ: {sorted(set(keys) ^ set(want_keys))[:5]}")
    for path in set(keys) & set(want_keys):
        # reglookup prints whole seconds (rounded): accept within 1 s.
        got = datetime.datetime.strptime(keys[path], "%Y-%m-%d %H:%M:%S")
        got = (got.replace(tzinfo=UTC) - EPOCH_1601) // datetime.timedelta(seconds=1)
        if abs(got * 10**7 - want_keys[path]) >= 10**7:
            errs.append(f"key {path!r} mtime {keys[path]}, want FILETIME {want_keys[path]}")
    return errs


def check_hivexregedit(spec, hive):
    out = subprocess.run(["hivexregedit", "--export", hive, "\\"], check=True,
                         capture_output=True, text=True).stdout
    exp = expected(spec)
    got, cur = {}, None
    lines = out.replace("\\\n", "").splitlines()
    for line in lines[1:]:
        if not line.strip():
            continue
        if line.startswith("[") and line.endswith("]"):
            cur = line[2:-1]
            got[cur] = {}
            continue
        m = re.fullmatch(r'(@|"((?:[^"\\]|\\.)*)")=(?:dword:([0-9a-f]{8})|hex\(([0-9a-f]+)\):(.*))', line)
        if not m or cur is None:
            return [f"cannot parse export line {line!r}"]
        name = "" if m.group(1) == "@" else re.sub(r"\\(.)", r"\1", m.group(2))
        if m.group(3) is not None:
            got[cur][name] = (4, struct.pack("<I", int(m.group(3), 16)))
        else:
            hexes = m.group(5).replace(" ", "")
            got[cur][name] = (int(m.group(4), 16),
                              bytes.fromhex(hexes.replace(",", "")) if hexes else b"")
    want = {p: v for p, (_, v, _) in exp.items()}
    if got != want:
        diff = sorted(p for p in set(got) | set(want) if got.get(p) != want.get(p))
        return [f"values differ under {diff[:5]}"]
    return []


def main():
    spec_path, hive = sys.argv[1], sys.argv[2]
    spec = load_spec(spec_path)
    nkeys = len(expected(spec))
    checks = [("header", check_header),
              (f"libregf ({nkeys} keys: exact LastWrite, value types and bytes)",
               check_libregf),
              ("reglookup (LastWrite to the second, decoded values)", check_reglookup),
              ("hivexregedit (value types and bytes)", check_hivexregedit)]
    for name, check in checks:
        try:
            errs = check(spec, hive)
        except Exception as exc:  # a reader refusing the file is a failure too
            errs = [f"{type(exc).__name__}: {exc}"]
        if errs:
            print(f"FAIL {name}: " + "; ".join(errs[:5]))
        else:
            print(f"ok {name}")


main()
PY

# ---- each spec -----------------------------------------------------------------
for spec in "${specs[@]}"; do
	name=$(basename "$spec" .spec)
	mkdir -p "$tmp/a" "$tmp/b"
	if ! "$mkhive" "$spec" "$tmp/a/$name.hive" || ! "$mkhive" "$spec" "$tmp/b/$name.hive"; then
		bad "$name: kt-mkhive failed"
		continue
	fi
	h1=$(sha256sum <"$tmp/a/$name.hive" | cut -d' ' -f1)
	h2=$(sha256sum <"$tmp/b/$name.hive" | cut -d' ' -f1)
	if [ "$h1" = "$h2" ]; then
		ok "$name: two builds identical (sha256 ${h1:0:16}...)"
	else
		bad "$name: two builds differ ($h1 vs $h2)"
	fi
	while IFS= read -r line; do
		case $line in
		ok\ *) ok "$name: ${line#ok }" ;;
		*) bad "$name: ${line#FAIL }" ;;
		esac
	done < <("$py" "$tmp/verify.py" "$spec" "$tmp/a/$name.hive" 2>&1 || echo "FAIL verifier crashed")
done

# ---- failure handling -----------------------------------------------------------
expect_fail() { # WANT_RC MESSAGE_REGEX SPEC_TEXT
	printf '%b' "$3" >"$tmp/bad.spec"
	rm -f "$tmp/bad.hive" "$tmp/bad.hive.tmp"
	echo previous >"$tmp/keep.hive"
	local rc=0 msg
	msg=$("$mkhive" "$tmp/bad.spec" "$tmp/bad.hive" 2>&1) || rc=$?
	if [ "$rc" -eq "$1" ] && [[ $msg =~ $2 ]] && [ ! -e "$tmp/bad.hive" ] &&
		[ ! -e "$tmp/bad.hive.tmp" ]; then
		ok "rejects: $msg"
	else
		bad "bad spec $(printf '%q' "$3"): rc $rc, message '$msg'"
	fi
}
expect_fail 1 'bad.spec:2: .*out of range' 'time\t2022-01-01T00:00:00Z\nkey\tA\t2022-02-30T00:00:00Z\n'
expect_fail 1 'bad.spec:1: .*one TAB' 'key A\n'
expect_fail 1 'bad.spec:3: .*32-bit' '# c\n\nvalue\tA\tx\tdword\t4294967296\n'
expect_fail 1 'bad.spec:1: .*empty key name' 'key\tA\\\\B\n'
expect_fail 1 'bad.spec:1: .*multi_sz' 'value\tA\tx\tmulti_sz\ta||b\n'
rc=0
"$mkhive" only-one-arg >/dev/null 2>&1 || rc=$?
if [ "$rc" -eq 2 ]; then ok "usage error exits 2"; else bad "usage error exits $rc"; fi
# A failing build must leave an existing OUT alone.
printf 'key\tA\tnot-a-time\n' >"$tmp/bad.spec"
"$mkhive" "$tmp/bad.spec" "$tmp/keep.hive" 2>/dev/null || true
if [ "$(cat "$tmp/keep.hive")" = previous ]; then
	ok "failed build leaves existing OUT untouched"
else
	bad "failed build changed existing OUT"
fi

echo "check-hive: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
