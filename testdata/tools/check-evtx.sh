#!/usr/bin/env bash
# Checks kt-mkevtx against readers that share no code with it or each other:
#   - builds kt-mkevtx (with ASan/UBSan unless KT_SANITIZE=0);
#   - builds each spec twice and requires byte-identical output (sha256);
#   - reads every log back with libevtx (evtxinfo: no errors, record counts;
#     evtxexport -f xml: every field of every record) and python-evtx
#     (header/chunk/record checks, every field, exact FILETIMEs from the raw
#     substitution values), and checks the file and chunk headers and the
#     chunks' string and template tables by hand;
#   - checks that bad specs and bad usage fail cleanly and leave no OUT;
#   - builds a log of at least 200 MB with an -O2 build, requires it to take
#     under 60 s, and checks it with evtxinfo and the header checks
#     (KT_EVTX_BIG=0 skips this).
# The expected records are derived from the spec by a second, independent
# implementation of the spec format (Python, below).
#
# Usage: testdata/tools/check-evtx.sh [SPEC...]   (default: testdata/tools/sample-evtx.spec)
# Installs libevtx-utils and python3-evtx with apt-get when missing (needs
# root).  Exits non-zero on any mismatch.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Debian's interpreter: python3-evtx installs Evtx for it, not for whatever
# python3 comes first in PATH.
py=/usr/bin/python3

if [ "$#" -gt 0 ]; then
	specs=("$@")
else
	specs=("$here/sample-evtx.spec")
fi

# ---- tools ------------------------------------------------------------------
missing=()
command -v gcc >/dev/null || missing+=(gcc)
command -v pkg-config >/dev/null || missing+=(pkg-config)
pkg-config --exists zlib 2>/dev/null || missing+=(zlib1g-dev)
command -v evtxexport >/dev/null || missing+=(libevtx-utils)
command -v evtxinfo >/dev/null || missing+=(libevtx-utils)
"$py" -c 'import Evtx.Evtx' 2>/dev/null || missing+=(python3-evtx)
if [ "${#missing[@]}" -gt 0 ]; then
	echo "check-evtx: installing ${missing[*]}" >&2
	if [ "$(id -u)" -ne 0 ]; then
		echo "check-evtx: not root; install these first: ${missing[*]}" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq "${missing[@]}" >/dev/null ||
		{ apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cflags=(-std=c11 -Wall -Wextra -Wshadow -Wformat=2 -Wvla -Werror)
sanflags=(-O1 -g)
if [ "${KT_SANITIZE:-1}" != 0 ]; then
	sanflags+=("-fsanitize=address,undefined" -fno-sanitize-recover=all)
fi
# shellcheck disable=SC2046 # pkg-config output is meant to split
gcc "${cflags[@]}" "${sanflags[@]}" -o "$tmp/kt-mkevtx" "$here/kt-mkevtx.c" \
	$(pkg-config --cflags --libs zlib)
mkevtx=$tmp/kt-mkevtx

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

# ---- the independent verifier -------------------------------------------------
cat >"$tmp/verify.py" <<'PY'
"""Compare an EVTX file with its spec through several readers.

Usage: verify.py SPEC EVTX [--headers-only]
Prints one line per check: "ok CHECK" or "FAIL CHECK: reason".
"""
import binascii
import datetime
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"
EPOCH_1601 = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)
KEYWORDS = 0x80000000000000
ESC = {"t": "\t", "n": "\n", "\\": "\\"}


def filetime(text):
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z", text)
    if not m:
        raise ValueError("bad time " + text)
    dt = datetime.datetime(*map(int, m.groups()[:6]), tzinfo=datetime.timezone.utc)
    secs = (dt - EPOCH_1601) // datetime.timedelta(seconds=1)
    frac = (m.group(7) or "").ljust(9, "0")
    if frac[7:] != "00":
        raise ValueError("time finer than 100 ns: " + text)
    return secs * 10**7 + int(frac[:7])


def step(text):
    whole, _, frac = text.partition(".")
    return int(whole) * 10**7 + int(frac.ljust(7, "0") or 0)


def unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s) and s[i + 1] in ESC:
            out.append(ESC[s[i + 1]])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def load_spec(path):
    """[(count, record-template dict, first time, step)] and the total."""
    groups, pid, tid = [], 0, 0
    for raw in open(path, encoding="utf-8-sig"):
        line = raw.rstrip("\n").rstrip("\r")
        if not line.strip(" \t") or line.lstrip(" \t").startswith("#"):
            continue
        f = line.split("\t")
        if f[0] == "execution":
            pid, tid = int(f[1]), int(f[2])
            continue
        if f[0] == "record":
            count, start, stp, rest = 1, filetime(f[1]), 0, f[2:]
        elif f[0] == "filler":
            count, start, stp, rest = int(f[1]), filetime(f[2]), step(f[3]), f[4:]
        else:
            raise ValueError("unknown directive " + f[0])
        data = []
        for item in rest[6:]:
            name, _, value = item.partition("=")
            data.append((name or None, unescape(value)))
        rec = {"provider": rest[0], "guid": None if rest[1] == "-" else rest[1],
               "id": int(rest[2]), "level": int(rest[3]), "channel": rest[4],
               "computer": rest[5], "data": data, "pid": pid, "tid": tid}
        groups.append((count, rec, start, stp))
    return groups


def expected(groups):
    rid = 0
    for count, rec, start, stp in groups:
        for k in range(count):
            rid += 1
            yield dict(rec, rid=rid, time=start + k * stp)


def total(groups):
    return sum(g[0] for g in groups)


def astral_blind(s):
    """libevtx 20181227 decodes UTF-16 surrogate pairs wrongly (U+1F600 comes
    out as U+1F201): compare astral-plane characters as 'some astral char'."""
    return re.sub("[\U00010000-\U0010FFFF]", "\U0010FFFF", s)


def compare(reader, exp, got, errs, blind=False):
    """got: dict of the fields as the reader shows them."""
    norm = astral_blind if blind else (lambda s: s)
    want = {
        "provider": exp["provider"], "guid": exp["guid"], "id": str(exp["id"]),
        "qualifiers": "0" if exp["guid"] is None else got.get("qualifiers_null"),
        "version": "0", "level": str(exp["level"]), "task": "0", "opcode": "0",
        "keywords": KEYWORDS, "time": exp["time"], "written": exp["time"],
        "rid": str(exp["rid"]), "pid": str(exp["pid"]), "tid": str(exp["tid"]),
        "channel": exp["channel"], "computer": exp["computer"],
        "data": [(n, norm(v)) for n, v in exp["data"]],
    }
    if "data" in got:
        got = dict(got, data=[(n, norm(v)) for n, v in got["data"]])
    for key, value in want.items():
        if key in got and got[key] != value:
            errs.append(f"{reader} record {exp['rid']}: {key} {got[key]!r}, want {value!r}")


def fields_from_xml(elem, reader):
    s = elem.find(NS + "System")
    g = {}
    p = s.find(NS + "Provider")
    g["provider"] = p.get("Name")
    g["guid"] = p.get("Guid")
    e = s.find(NS + "EventID")
    g["id"] = e.text
    g["qualifiers"] = e.get("Qualifiers")
    for tag, key in (("Version", "version"), ("Level", "level"), ("Task", "task"),
                     ("Opcode", "opcode"), ("EventRecordID", "rid"),
                     ("Channel", "channel"), ("Computer", "computer")):
        g[key] = s.find(NS + tag).text
    g["keywords"] = int(s.find(NS + "Keywords").text, 16)
    x = s.find(NS + "Execution")
    g["pid"], g["tid"] = x.get("ProcessID"), x.get("ThreadID")
    g["data"] = [(d.get("Name"), d.text or "")
                 for d in elem.find(NS + "EventData").findall(NS + "Data")]
    return g


def check_libevtx(groups, path):
    errs = []
    info = subprocess.run(["evtxinfo", path], capture_output=True, text=True)
    if info.returncode != 0 or info.stderr.strip() or re.search("error|corrupt", info.stdout, re.I):
        errs.append(f"evtxinfo: rc {info.returncode}: {info.stderr.strip() or info.stdout.strip()}")
    m = re.search(r"Number of records\s*:\s*(\d+)", info.stdout)
    n = total(groups)
    if not m or int(m.group(1)) != n:
        errs.append(f"evtxinfo: records {m.group(1) if m else '?'}, want {n}")
    m = re.search(r"Number of recovered records\s*:\s*(\d+)", info.stdout)
    if not m or int(m.group(1)) != 0:
        errs.append("evtxinfo: recovered records not 0")
    out = subprocess.run(["evtxexport", "-f", "xml", path], capture_output=True, text=True)
    if out.returncode != 0 or out.stderr.strip():
        errs.append(f"evtxexport: rc {out.returncode}: {out.stderr.strip()[:200]}")
    docs = re.findall(r"<Event xmlns=.*?</Event>", out.stdout, re.S)
    if len(docs) != n:
        errs.append(f"evtxexport: {len(docs)} events, want {n}")
    for exp, doc in zip(expected(groups), docs):
        g = fields_from_xml(ET.fromstring(doc), "libevtx")
        g["qualifiers_null"] = None      # libevtx omits a NULL optional attribute
        g["time"] = filetime(ET.fromstring(doc).find(NS + "System").find(
            NS + "TimeCreated").get("SystemTime"))
        compare("libevtx", exp, g, errs, blind=True)
        if len(errs) > 20:
            break
    return errs, len(docs)


def check_python_evtx(groups, path):
    import Evtx.Evtx as evtx
    import Evtx.Nodes as nodes
    import Evtx.Views as views
    errs, n = [], 0
    with evtx.Evtx(path) as f:
        fh = f.get_file_header()
        if not fh.verify():
            errs.append("python-evtx: file header does not verify")
        if fh.is_dirty() or fh.is_full():
            errs.append("python-evtx: file header flags dirty/full")
        chunks = list(f.chunks())
        for i, c in enumerate(chunks):
            if not c.verify():
                errs.append(f"python-evtx: chunk {i} does not verify (magic/CRCs)")
        exp_iter = expected(groups)
        sub_index = {}
        for r in f.records():
            n += 1
            exp = next(exp_iter, None)
            if exp is None:
                errs.append("python-evtx: more records than the spec")
                break
            if not r.verify():
                errs.append(f"python-evtx: record {r.record_num()} size copy differs")
            if r.record_num() != exp["rid"]:
                errs.append(f"python-evtx: record number {r.record_num()}, want {exp['rid']}")
            root = r.root()
            g = fields_from_xml(ET.fromstring(r.xml()), "python-evtx")
            # python-evtx shows a NULL optional substitution as "".
            g["qualifiers_null"] = ""
            # Exact FILETIMEs: the record header, and the raw substitution
            # value that the template puts in TimeCreated/@SystemTime
            # (python-evtx's own text has microseconds only).
            g["written"] = r.unpack_qword(0x10)
            tofs = root.template_instance().template_offset()
            if tofs not in sub_index:
                text = views.evtx_template_readable_view(root)
                m = re.search(r'SystemTime="\[(?:Normal|Conditional) Substitution'
                              r'\(index=(\d+), type=17\)\]"', text)
                sub_index[tofs] = int(m.group(1)) if m else None
            idx = sub_index[tofs]
            sub = root.substitutions()[idx] if idx is not None else None
            if not isinstance(sub, nodes.FiletimeTypeNode):
                errs.append(f"python-evtx record {exp['rid']}: no FILETIME substitution for SystemTime")
            else:
                g["time"] = sub.unpack_qword(0)
            compare("python-evtx", exp, g, errs)
            if len(errs) > 20:
                break
    if n != total(groups):
        errs.append(f"python-evtx: {n} records, want {total(groups)}")
    return errs, n


def name_hash(s):
    h = 0
    for u in struct.unpack(f"<{len(s.encode('utf-16-le')) // 2}H", s.encode("utf-16-le")):
        h = (h * 65599 + u) & 0xFFFF
    return h


def check_structure(groups, path):
    """File header, chunk headers and the string/template tables, by hand."""
    img = open(path, "rb").read()
    errs = []
    n = total(groups)
    (magic, first, last, next_id, hsize, minor, major, block, count) = struct.unpack_from(
        "<8sQQQIHHHH", img, 0)
    flags, csum = struct.unpack_from("<II", img, 120)
    nchunks = (len(img) - 4096) // 65536
    if magic != b"ElfFile\0" or hsize != 128 or (major, minor) != (3, 1) or block != 4096:
        errs.append("file header: magic/size/version/block size wrong")
    if (len(img) - 4096) % 65536 or count != nchunks or first != 0 or \
            last != max(nchunks - 1, 0) or flags != 0:
        errs.append(f"file header: chunks {first}..{last} count {count} flags {flags}, "
                    f"file holds {nchunks}")
    if next_id != n + 1:
        errs.append(f"file header: next record id {next_id}, want {n + 1}")
    if csum != binascii.crc32(img[:120]):
        errs.append("file header: bad CRC32")
    want_id = 1
    for ci in range(nchunks):
        base = 4096 + ci * 65536
        c = img[base:base + 65536]
        (cm, fnum, lnum, fid, lid, chs, lastofs, free, dcrc) = struct.unpack_from(
            "<8sQQQQIIII", c, 0)
        if cm != b"ElfChnk\0" or chs != 128:
            errs.append(f"chunk {ci}: magic/header size")
            continue
        if struct.unpack_from("<I", c, 0x7C)[0] != binascii.crc32(c[:120] + c[128:512]):
            errs.append(f"chunk {ci}: bad header CRC32")
        if dcrc != binascii.crc32(c[512:free]):
            errs.append(f"chunk {ci}: bad records CRC32")
        if any(c[free:]):
            errs.append(f"chunk {ci}: bytes after the free offset are not zero")
        # walk the records
        ofs, ids, last_seen = 512, [], None
        while ofs < free:
            rm, size, rid = struct.unpack_from("<IIQ", c, ofs)
            if rm != 0x2A2A or size < 28 or ofs + size > free or \
                    struct.unpack_from("<I", c, ofs + size - 4)[0] != size:
                errs.append(f"chunk {ci}: bad record at {ofs:#x}")
                break
            ids.append(rid)
            last_seen = ofs
            ofs += size
        if ids != list(range(want_id, want_id + len(ids))) or not ids or \
                (fnum, lnum, fid, lid) != (ids[0], ids[-1], ids[0], ids[-1]) or lastofs != last_seen:
            errs.append(f"chunk {ci}: record numbers/ids/last offset do not match its records")
        want_id += len(ids)
        # the common string table: 64 hash buckets of chained names
        seen = set()
        for b in range(64):
            p = struct.unpack_from("<I", c, 0x80 + 4 * b)[0]
            hops = 0
            while p:
                nxt, h, nch = struct.unpack_from("<IHH", c, p)
                name = c[p + 8:p + 8 + 2 * nch].decode("utf-16-le")
                if h != name_hash(name) or h % 64 != b or name in seen or hops > 1000:
                    errs.append(f"chunk {ci}: string table entry {name!r} at {p:#x} is wrong")
                    break
                seen.add(name)
                p, hops = nxt, hops + 1
        if "Event" not in seen:
            errs.append(f"chunk {ci}: string table lacks the names it uses")
        # the template table: 32 buckets of chained definitions, each right
        # after its first template instance (0x0C, 1, id, offset == itself)
        for b in range(32):
            p = struct.unpack_from("<I", c, 0x180 + 4 * b)[0]
            hops = 0
            while p:
                tid_ = struct.unpack_from("<I", c, p - 8)[0]
                if c[p - 10] != 0x0C or struct.unpack_from("<I", c, p - 4)[0] != p or \
                        struct.unpack_from("<I", c, p + 4)[0] != tid_ or hops > 1000:
                    errs.append(f"chunk {ci}: template table entry at {p:#x} is wrong")
                    break
                p, hops = struct.unpack_from("<I", c, p)[0], hops + 1
    if want_id != n + 1:
        errs.append(f"chunks hold {want_id - 1} records, want {n}")
    return errs


def main():
    spec_path, path = sys.argv[1], sys.argv[2]
    headers_only = "--headers-only" in sys.argv[3:]
    groups = load_spec(spec_path)
    n = total(groups)
    checks = [(f"structure (headers, CRCs, {n} record ids, string/template tables)",
               lambda: (check_structure(groups, path), None))]
    if not headers_only:
        checks += [("libevtx (evtxinfo, evtxexport -f xml: every field)",
                    lambda: check_libevtx(groups, path)),
                   ("python-evtx (every field, exact FILETIMEs)",
                    lambda: check_python_evtx(groups, path))]
    for name, check in checks:
        try:
            errs, _ = check()
        except Exception as exc:  # a reader refusing the file is a failure too
            errs = [f"{type(exc).__name__}: {exc}"]
        if errs:
            print(f"FAIL {name}: " + "; ".join(errs[:5]))
        else:
            print(f"ok {name}")


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
	if ! "$mkevtx" "$spec" "$tmp/a/$name.evtx" || ! "$mkevtx" "$spec" "$tmp/b/$name.evtx"; then
		bad "$name: kt-mkevtx failed"
		continue
	fi
	h1=$(sha256sum <"$tmp/a/$name.evtx" | cut -d' ' -f1)
	h2=$(sha256sum <"$tmp/b/$name.evtx" | cut -d' ' -f1)
	if [ "$h1" = "$h2" ]; then
		ok "$name: two builds identical (sha256 ${h1:0:16}...)"
	else
		bad "$name: two builds differ ($h1 vs $h2)"
	fi
	report "$name" < <("$py" "$tmp/verify.py" "$spec" "$tmp/a/$name.evtx" 2>&1 ||
		echo "FAIL verifier crashed")
done

# ---- failure handling -----------------------------------------------------------
expect_fail() { # WANT_RC MESSAGE_REGEX SPEC_TEXT
	printf '%b' "$3" >"$tmp/bad.spec"
	rm -f "$tmp/bad.evtx" "$tmp/bad.evtx.tmp"
	local rc=0 msg
	msg=$("$mkevtx" "$tmp/bad.spec" "$tmp/bad.evtx" 2>&1) || rc=$?
	if [ "$rc" -eq "$1" ] && [[ $msg =~ $2 ]] && [ ! -e "$tmp/bad.evtx" ] &&
		[ ! -e "$tmp/bad.evtx.tmp" ]; then
		ok "rejects: $msg"
	else
		bad "bad spec $(printf '%q' "$3"): rc $rc, message '$msg'"
	fi
}
r='record\t2024-01-01T00:00:00Z\tP\t-\t1\t4\tApplication\tHOST'
expect_fail 1 'bad.spec:2: bad time' "# c\nrecord\t2023-02-29T00:00:00Z\tP\t-\t1\t4\tA\tH\n"
expect_fail 1 'bad.spec:1: bad time' 'record\t2024-01-01T00:00:00.12345678Z\tP\t-\t1\t4\tA\tH\n'
expect_fail 1 'bad.spec:1: bad event id' 'record\t2024-01-01T00:00:00Z\tP\t-\t65536\t4\tA\tH\n'
expect_fail 1 'bad.spec:1: bad provider GUID' 'record\t2024-01-01T00:00:00Z\tP\t{1234}\t1\t4\tA\tH\n'
expect_fail 1 'bad.spec:1: .*one TAB' 'record 2024-01-01T00:00:00Z P - 1 4 A H\n'
expect_fail 1 'bad.spec:2: data item 1' "\n$r\tnovalue\n"
expect_fail 1 'bad.spec:1: data item 2: bad name' "$r\t=a\t1x=b\n"
expect_fail 1 'bad.spec:1: .*control character' "$r\t=a\x01b\n"
expect_fail 1 'bad.spec:1: .*invalid UTF-8' "$r\t=\xc3\x28\n"
expect_fail 1 'bad.spec:1: bad step' 'filler\t2\t2024-01-01T00:00:00Z\t-1\tP\t-\t1\t4\tA\tH\n'
expect_fail 1 'bad.spec:3: unknown directive' "$r\n$r\nrecrod\n"
expect_fail 1 'bad.spec:2: no records' "# nothing\nfiller\t0\t2024-01-01T00:00:00Z\t1\tP\t-\t1\t4\tA\tH\n"
expect_fail 1 'bad.spec:1: .*does not fit' "$r\t=$(head -c 32700 /dev/zero | tr '\0' x)\n"
expect_fail 1 'bad.spec:1: .*longer than 32767' "$r\t=$(head -c 33000 /dev/zero | tr '\0' x)\n"
rc=0
"$mkevtx" only-one-arg >/dev/null 2>&1 || rc=$?
if [ "$rc" -eq 2 ]; then ok "usage error exits 2"; else bad "usage error exits $rc"; fi
# A failing build must leave an existing OUT alone.
echo previous >"$tmp/keep.evtx"
printf '%b' "$r\nrecord\tnot-a-time\n" >"$tmp/bad.spec"
"$mkevtx" "$tmp/bad.spec" "$tmp/keep.evtx" 2>/dev/null || true
if [ "$(cat "$tmp/keep.evtx")" = previous ] && [ ! -e "$tmp/keep.evtx.tmp" ]; then
	ok "failed build leaves existing OUT untouched"
else
	bad "failed build changed existing OUT"
fi

# ---- a big log ------------------------------------------------------------------
if [ "${KT_EVTX_BIG:-1}" != 0 ]; then
	# shellcheck disable=SC2046
	gcc "${cflags[@]}" -O2 -o "$tmp/kt-mkevtx-O2" "$here/kt-mkevtx.c" $(pkg-config --cflags --libs zlib)
	blob=$(printf 'Event type: Task state changed\\nTask: Quick scan\\nState: Completed\\nObjects scanned: %s\\n' 1000 1001)
	{
		printf 'record\t2024-09-19T14:07:30.1234567Z\tMsiInstaller\t-\t11724\t4\tApplication\tBIG-PC\t=Kaspersky Internet Security\t=21.3.10.391\n'
		printf 'filler\t420000\t2023-01-01T00:00:00Z\t30\tavp\t-\t305\t4\tKaspersky Endpoint Security\tBIG-PC\t=%s\n' "$blob"
		printf 'record\t2024-11-25T21:47:13.042Z\tavp\t-\t302\t3\tKaspersky Endpoint Security\tBIG-PC\t=Event type: Malicious object detected\n'
	} >"$tmp/big.spec"
	start=$EPOCHREALTIME
	if "$tmp/kt-mkevtx-O2" "$tmp/big.spec" "$tmp/big.evtx"; then
		secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
		size=$(stat -c %s "$tmp/big.evtx")
		if [ "$size" -ge 200000000 ] && awk -v s="$secs" 'BEGIN { exit !(s < 60) }'; then
			ok "big log: $((size / 1000000)) MB, 420002 records built in $secs s"
		else
			bad "big log: $size bytes in $secs s (want >= 200 MB in < 60 s)"
		fi
		report "big log" < <("$py" "$tmp/verify.py" "$tmp/big.spec" "$tmp/big.evtx" --headers-only 2>&1 ||
			echo "FAIL verifier crashed")
		n=$(evtxinfo "$tmp/big.evtx" 2>&1 | sed -n 's/.*Number of records[^0-9]*\([0-9]*\).*/\1/p')
		if [ "$n" = 420002 ]; then ok "big log: evtxinfo reads 420002 records"; else bad "big log: evtxinfo reads '$n' records"; fi
	else
		bad "big log: kt-mkevtx failed"
	fi
	rm -f "$tmp/big.evtx"
fi

echo "check-evtx: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
