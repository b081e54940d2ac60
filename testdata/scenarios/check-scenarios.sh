#!/usr/bin/env bash
# Checks the built scenarios (testdata/build-scenarios.sh OUTDIR ...) with
# readers that share no code with the builders:
#   - The Sleuth Kit (fls, istat, icat) on OUTDIR/NAME.raw at sector 2048:
#     every ntfs.tsv line is on the volume with exactly its four $SI and
#     four $FILE_NAME times, allocated or not as its kind says ('deleted',
#     'deleted-dir' = unallocated, listed under their old path), with its
#     content (files, deleted files, streams); nothing else is on the volume
#     outside the NTFS system files;
#   - libregf (python3-libregf) on the hives read back out of the volume:
#     they equal OUTDIR/hives/NAME/*, and hostname and time zone come from
#     the current control set;
#   - expected.tsv: well formed (the eight verdicts, every product field,
#     the system lines), internally consistent (verdicts vs product fields),
#     and every time in it is a time planted on the image: an NTFS time, a
#     key LastWrite, a FILETIME or Unix-seconds value, a
#     "dd-MM-yyyy HH-mm-ss" value, a kdb.stt or u*.xml root Date, or a local
#     InstallDate / kavremover log-name time converted with the hive's own
#     TimeZoneInformation (DST rules read from the TZI, not from tzdata);
#     a detects.db Time (Python's sqlite3), a kavremover log line dated by
#     the log's name, a trace file's name time, and the times of the
#     content built from specs (below);
#   - event rows of expected.tsv (event ARTIFACT TIME [PRODUCT [VERSION]])
#     name planted times too.
#   - content built from evtx/, prefetch/ and sql/ specs (no copy in
#     content/) is read back from the volume and compared with its spec:
#     event logs with python-evtx (every record's time, provider, id, level,
#     channel, computer and data), prefetch files with pyscca,
#     databases by their SQL dump (python's sqlite3). Record TimeCreated
#     times and "Database release date:" strings (local, US format) count as
#     planted times.
#
# usage: testdata/scenarios/check-scenarios.sh OUTDIR [NAME...]
# Needs sleuthkit, python3-libregf, python3-evtx and python3-libscca. Exit 0
# when everything matches.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ $# -ge 1 ]] || { echo "usage: $0 OUTDIR [NAME...]" >&2; exit 2; }
for tool in fls istat icat; do
  command -v "$tool" >/dev/null || { echo "$0: $tool not found (apt-get install sleuthkit)" >&2; exit 1; }
done
/usr/bin/python3 -c 'import pyregf, pyscca, Evtx.Evtx' 2>/dev/null ||
  { echo "$0: needs python3-libregf python3-libscca python3-evtx (apt-get install them)" >&2; exit 1; }

export TZ=UTC LC_ALL=C.UTF-8
exec /usr/bin/python3 - "$here" "$@" <<'PY'
import glob, os, re, subprocess, sys, tempfile, datetime as dt
import xml.etree.ElementTree as ET
import pyregf, pyscca, sqlite3
import Evtx.Evtx as evtx_mod

scen_dir, out = sys.argv[1], os.path.realpath(sys.argv[2])
names = sys.argv[3:] or sorted(d for d in os.listdir(scen_dir)
                               if os.path.isfile(os.path.join(scen_dir, d, 'ntfs.tsv')))
OFF = '2048'
EPOCH1601 = dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc)
CUTOFF = '2024-09-29T04:00:00Z'
SALES_BAN = '2024-07-20T04:00:00Z'
VENDOR_CUTOFF = '2024-09-10T04:00:00Z'
passed = failed = 0

def ok(msg):
    global passed
    passed += 1
    print('ok   ' + msg)

def bad(msg):
    global failed
    failed += 1
    print('FAIL ' + msg)

def check(cond, msg):
    (ok if cond else bad)(msg)
    return cond

# ---- times as 100 ns ticks since 1601 (exact integers) ----------------------
def ticks(y, mo, d, h=0, mi=0, s=0, frac=0):
    delta = dt.datetime(y, mo, d, h, mi, s, tzinfo=dt.timezone.utc) - EPOCH1601
    return (delta.days * 86400 + delta.seconds) * 10**7 + frac

def parse_iso(s):
    m = re.fullmatch(r'(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,7}))?Z', s)
    if not m:
        raise ValueError('bad time ' + s)
    frac = int((m.group(7) or '0').ljust(7, '0'))
    return ticks(*map(int, m.groups()[:6]), frac)

def fmt(t):
    s, f = divmod(t, 10**7)
    d = EPOCH1601 + dt.timedelta(seconds=s)
    return d.strftime('%Y-%m-%dT%H:%M:%S') + ('.%07d' % f if f else '') + 'Z'

def run(*args, binary=False):
    r = subprocess.run(args, capture_output=True)
    if r.returncode:
        raise RuntimeError('%s: %s' % (' '.join(args), r.stderr.decode(errors='replace')))
    return r.stdout if binary else r.stdout.decode('utf-8', errors='replace')

def unescape(text):
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == '\\' and i + 1 < len(text):
            out.append({'n': '\n', 'r': '\r', 't': '\t', '\\': '\\'}[text[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return ''.join(out).encode()

# ---- Windows TZI: local -> UTC with the hive's own rules ---------------------
def tzi_rule_date(year, st):
    # SYSTEMTIME in "day-in-month" form: wMonth, wDayOfWeek, wDay = week (5 = last), wHour, wMinute
    _, month, dow, _, week, hour, minute = st[0:7]
    first = dt.date(year, month, 1)
    # Python: Monday=0; Windows: Sunday=0
    delta = (dow - (first.weekday() + 1) % 7) % 7
    day = first + dt.timedelta(days=delta + 7 * (week - 1))
    while day.month != month:
        day -= dt.timedelta(days=7)
    return dt.datetime(year, month, day.day, hour, minute)

def local_to_utc(tzi, local):
    bias = tzi['Bias']
    std, dlt = tzi['StandardStart'], tzi['DaylightStart']
    if dlt[1] and std[1] and not tzi.get('DynamicDaylightTimeDisabled'):
        start, end = tzi_rule_date(local.year, dlt), tzi_rule_date(local.year, std)
        in_dst = start <= local < end if start < end else not (end <= local < start)
        bias += tzi['DaylightBias'] if in_dst else tzi['StandardBias']
    else:
        bias += tzi['StandardBias']
    u = local + dt.timedelta(minutes=bias)
    return ticks(u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond * 10)

# ---- content built from evtx/, prefetch/, sql/ specs ---------------------------
def spec_lines(path):
    for n, line in enumerate(open(path, encoding='utf-8-sig'), 1):
        line = line.rstrip('\r\n')
        if line and not line.startswith('#'):
            yield n, line.split('\t')

def unesc(v):
    return re.sub(r'\\([tn\\])', lambda m: {'t': '\t', 'n': '\n', '\\': '\\'}[m.group(1)], v)

local_times = []        # (naive local datetime, what): converted once the TZI is known

def check_evtx(where, spec, data, path):
    want = []
    for n, f in spec_lines(spec):
        if f[0] == 'record':
            times, rest = [parse_iso(f[1])], f[2:]
        elif f[0] == 'filler':
            step = round(float(f[3]) * 10**7)
            times, rest = [parse_iso(f[2]) + i * step for i in range(int(f[1]))], f[4:]
        else:
            continue
        fields = [(d.split('=', 1)[0], unesc(d.split('=', 1)[1])) for d in rest[6:]]
        want += [(t, rest[0], rest[2], rest[3], rest[4], rest[5], fields) for t in times]
    ns = '{http://schemas.microsoft.com/win/2004/08/events/event}'
    with tempfile.NamedTemporaryFile(suffix='.evtx') as tmp:
        tmp.write(data)
        tmp.flush()
        got = []
        with evtx_mod.Evtx(tmp.name) as log:
            for r in log.records():
                x = ET.fromstring(r.xml())
                sy = x.find(ns + 'System')
                ed = x.find(ns + 'EventData')
                got.append((r.unpack_qword(0x10), sy.find(ns + 'Provider').get('Name'),
                            sy.find(ns + 'EventID').text, sy.find(ns + 'Level').text,
                            sy.find(ns + 'Channel').text, sy.find(ns + 'Computer').text,
                            [(d.get('Name') or '', d.text or '') for d in (ed if ed is not None else [])],
                            sy.find(ns + 'TimeCreated').get('SystemTime')))
    check(len(got) == len(want), '%s: %d event records (spec %d)' % (where, len(got), len(want)))
    def created(st):    # python-evtx renders TimeCreated through a float: a few us off
        m = re.match(r'(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?', st)
        return ticks(*map(int, m.groups()[:6]), int((m.group(7) or '0').ljust(6, '0')) * 10)
    bad_recs = [i + 1 for i, (g, w) in enumerate(zip(got, want))
                if g[:7] != w or abs(created(g[7]) - w[0]) > 100]
    check(not bad_recs, '%s: records as the spec says (time, provider, id, level, channel, computer, data) %s'
          % (where, bad_recs[:5] or ''))
    for t, prov, eid, _, _, _, fields in want:
        plant(t, 'evtx %s %s %s TimeCreated' % (path, prov, eid))
        for _, v in fields:
            m = re.search(r'Database release date: *(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d\d):(\d\d) ([AP])M', v)
            if m:
                mo, d, y, h, mi, se = map(int, m.groups()[:6])
                h = h % 12 + (12 if m.group(7) == 'P' else 0)
                local_times.append((dt.datetime(y, mo, d, h, mi, se),
                                    'evtx %s %s %s "Database release date" local' % (path, prov, eid)))

def check_prefetch(where, spec, data, path):
    want = {'run': []}
    for n, f in spec_lines(spec):
        if f[0] == 'run':
            want['run'].append(parse_iso(f[1]))
        elif f[0] in ('executable', 'hash', 'runcount'):
            want[f[0]] = f[1]
    for t in want['run']:
        plant(t, 'prefetch %s run time' % path)
    with tempfile.NamedTemporaryFile(suffix='.pf') as tmp:
        tmp.write(data)
        tmp.flush()
        pf = pyscca.file()
        pf.open(tmp.name)
        runs = [pf.get_last_run_time_as_integer(i) for i in range(8)]
        got = (pf.get_executable_filename(), '%08X' % pf.get_prefetch_hash(), str(pf.get_run_count()),
               [t for t in runs if t])
        pf.close()
    check(got == (want['executable'], want['hash'].upper(), want['runcount'], want['run']),
          where + ': prefetch name, hash, run count and run times as the spec says')

def check_sql(where, spec, data, path):
    ref = sqlite3.connect(':memory:')
    ref.executescript(open(spec, encoding='utf-8').read())
    with tempfile.NamedTemporaryFile(suffix='.db') as tmp:
        tmp.write(data)
        tmp.flush()
        db = sqlite3.connect(tmp.name)
        same = list(db.iterdump()) == list(ref.iterdump())
        db.close()
    check(same, where + ': database holds what its SQL makes')

# PE files (pe.list): the file testdata/pe/build-pe.sh built, byte for byte (its
# own check, check-pe.sh, reads them back against their specs).
PE_DIR = os.path.join(os.path.dirname(out), 'pe')
def pe_listed(sd):
    p = os.path.join(sd, 'pe.list')
    return [l.strip() for l in open(p) if l.strip() and not l.startswith('#')] if os.path.isfile(p) else []

def check_pe(where, src, data, path):
    check(data == open(src, 'rb').read(), where + ': content (built PE %s)' % os.path.basename(src))

# The Kaspersky legal name a built PE carries, from its spec and the certificate that
# signs it (testdata/pe/certs.tsv): the signer first, then CompanyName, LegalCopyright.
KASPERSKY_FORMS = [(r'\bAO Kaspersky Lab\b|1027739867473', 'AO Kaspersky Lab'),
                   (r'Kaspersky Lab JSC', 'Kaspersky Lab JSC'),
                   (r'АО «Лаборатория Касперского»', 'АО «Лаборатория Касперского»')]
def pe_kaspersky_name(spec_path):
    here_pe = os.path.join(os.path.dirname(scen_dir), 'pe')
    certs = {l.split('\t')[0]: l.rstrip('\n').split('\t')[6]
             for l in open(os.path.join(here_pe, 'certs.tsv'), encoding='utf-8')
             if l.strip() and not l.startswith('#')}
    fields = {}
    signer = None
    for l in open(spec_path, encoding='utf-8'):
        f = l.rstrip('\n').split('\t')
        if f[0] == 'string':
            fields[f[1]] = f[2]
        elif f[0] == 'sign':
            signer = certs[f[1]]
    for text in (signer, fields.get('CompanyName'), fields.get('LegalCopyright')):
        for rx, canon in KASPERSKY_FORMS:
            if text and re.search(rx, text):
                return canon
    return None

def generated(sd, name):
    if name in pe_listed(sd):
        return os.path.join(PE_DIR, name), check_pe
    stem = os.path.splitext(name)[0]
    for sub, spec, fn in (('evtx', stem + '.spec', check_evtx) if name.endswith('.evtx') else (None,) * 3,
                          ('prefetch', stem + '.spec', check_prefetch) if name.endswith('.pf') else (None,) * 3,
                          ('sql', name + '.sql', check_sql)):
        if sub and os.path.isfile(os.path.join(sd, sub, spec)):
            return os.path.join(sd, sub, spec), fn
    return None

def s32(v):
    return v - (1 << 32) if v >= 1 << 31 else v

# ---- registry ---------------------------------------------------------------
def walk(key, path=''):
    yield path, key
    for i in range(key.get_number_of_sub_keys()):
        sub = key.get_sub_key(i)
        yield from walk(sub, path + '\\' + sub.get_name() if path else sub.get_name())

def key_values(key):
    vals = {}
    for i in range(key.get_number_of_values()):
        v = key.get_value(i)
        vals[v.get_name() or '@'] = v
    return vals

def open_hive(path):
    f = pyregf.file()
    f.open(path)
    return f

# Records left in a hive's free cells, decoded here on their own from the
# format (Suhanov's specification): every free cell scanned at 8-byte steps
# for nk and vk records. Returns ([(offset, name, LastWrite)], [(offset,
# name, type, data or None)]); data follows the value's data cell while it
# is free, through a big-data "db" record and its segments when over 16344
# bytes.
def free_records(img):
    u16 = lambda o: int.from_bytes(img[o:o + 2], 'little')
    u32 = lambda o: int.from_bytes(img[o:o + 4], 'little')
    def cell(off):
        at = 4096 + off
        if off % 8 or at + 4 > len(img):
            return None
        size = s32(u32(at))
        n = abs(size)
        if size <= 0 or n < 8 or at + n > len(img):
            return None
        return img[at + 4:at + n]
    def name_of(raw, latin1):
        return raw.decode('latin-1' if latin1 else 'utf-16-le', 'replace')
    def vk(p):
        nl, size, doff, typ, flags = u16(p + 6), u32(p + 8), u32(p + 12), u32(p + 16), u16(p + 20)
        name = name_of(img[p + 24:p + 24 + nl], flags & 1)
        n = size & 0x7FFFFFFF
        if size & 0x80000000:
            return name, typ, img[p + 12:p + 12 + n] if n <= 4 else None
        d = cell(doff)
        if d is None:
            return name, typ, None
        if n <= 16344:
            return name, typ, d[:n] if len(d) >= n else None
        if d[:2] != b'db':
            return name, typ, None
        nseg, lst = int.from_bytes(d[2:4], 'little'), int.from_bytes(d[4:8], 'little')
        l = cell(lst)
        if l is None or len(l) < 4 * nseg:
            return name, typ, None
        out = b''
        for i in range(nseg):
            seg = cell(int.from_bytes(l[4 * i:4 * i + 4], 'little'))
            if seg is None:
                return name, typ, None
            out += seg[:min(16344, n - len(out))]
        return name, typ, out if len(out) == n else None
    nks, vks, at = [], [], 4096
    while at + 32 <= len(img) and img[at:at + 4] == b'hbin':
        size = u32(at + 8)
        if size < 4096 or at + size > len(img):
            break
        c = at + 32
        while c + 8 <= at + size:
            cs = s32(u32(c))
            n = abs(cs)
            if n < 8 or c + n > at + size:
                break
            for p in range(c, c + n, 8) if cs > 0 else ():
                if img[p + 4:p + 6] == b'nk' and p + 0x50 <= c + n:
                    nks.append((p - 4096, name_of(img[p + 0x50:p + 0x50 + u16(p + 0x4C)], u16(p + 6) & 0x20),
                                int.from_bytes(img[p + 8:p + 16], 'little')))
                elif img[p + 4:p + 6] == b'vk' and p + 24 <= c + n:
                    vks.append((p - 4096,) + vk(p))
            c += n
        at += size
    return nks, vks

# A spec's value as kt-mkhive stores it: (type, bytes).
def spec_value(typ, data):
    if typ in ('sz', 'expand_sz'):
        return (1 if typ == 'sz' else 2), (unesc(data) + '\0').encode('utf-16-le')
    if typ in ('dword', 'qword'):
        v = int(data, 0) & ((1 << (32 if typ == 'dword' else 64)) - 1)
        return (4 if typ == 'dword' else 11), v.to_bytes(4 if typ == 'dword' else 8, 'little')
    if typ == 'binary':
        return 3, bytes.fromhex(data.replace(' ', ''))
    if typ == 'blob':           # "N SEED": byte i = (i % 251) ^ SEED
        n, seed = map(int, data.split())
        return 3, bytes((i % 251) ^ seed for i in range(n))
    return None, None

# A dirty hive's transaction logs, replayed here on their own (libregf does
# not): Marvin32 as the .NET runtime defines it, HvLE entries from offset
# 512 applied from the primary's secondary sequence number on. Returns the
# replayed bytes, or None when the hive is clean or no entry applies.
def marvin32(data, seed=0x82EF4D887A4E55C5):
    M = 0xFFFFFFFF
    rotl = lambda v, n: ((v << n) | (v >> (32 - n))) & M
    lo, hi = seed & M, seed >> 32
    def rnd(lo, hi):
        hi ^= lo; lo = rotl(lo, 20); lo = (lo + hi) & M; hi = rotl(hi, 9)
        hi ^= lo; lo = rotl(lo, 27); lo = (lo + hi) & M; hi = rotl(hi, 19)
        return lo, hi
    n4 = len(data) // 4 * 4
    for i in range(0, n4, 4):
        lo = (lo + int.from_bytes(data[i:i + 4], 'little')) & M
        lo, hi = rnd(lo, hi)
    tail = 0x80
    for b in reversed(data[n4:]):
        tail = (tail << 8) | b
    lo = (lo + tail) & M
    lo, hi = rnd(*rnd(lo, hi))
    return (hi << 32) | lo

def replay_logs(hive, logs):
    u32 = lambda b, o: int.from_bytes(b[o:o + 4], 'little')
    if u32(hive, 4) == u32(hive, 8):
        return None
    img, nxt, applied = bytearray(hive), u32(hive, 8), 0
    for log in sorted(logs, key=lambda l: u32(l, 512 + 12) if l[512:516] == b'HvLE' else 1 << 32):
        at = 512
        while log[at:at + 4] == b'HvLE':
            size, seq, bins, count = u32(log, at + 4), u32(log, at + 12), u32(log, at + 16), u32(log, at + 20)
            e = log[at:at + size]
            if marvin32(e[:32]) != int.from_bytes(e[32:40], 'little') or \
               marvin32(e[40:]) != int.from_bytes(e[24:32], 'little'):
                raise ValueError('log entry %d: hash mismatch' % seq)
            if seq >= nxt:
                if len(img) < 4096 + bins:
                    img.extend(bytes(4096 + bins - len(img)))
                data = 40 + 8 * count
                for i in range(count):
                    off, psize = u32(e, 40 + 8 * i), u32(e, 44 + 8 * i)
                    img[4096 + off:4096 + off + psize] = e[data:data + psize]
                    data += psize
                nxt, applied = seq + 1, applied + 1
            at += size
    return bytes(img) if applied else None

# ---- per scenario -------------------------------------------------------------
for name in names:
    sd = os.path.join(scen_dir, name)
    raw = os.path.join(out, name + '.raw')
    print('== ' + name)
    if not check(os.path.isfile(raw), name + ': ' + raw + ' exists'):
        continue
    hives_dir = os.path.join(out, 'hives', name)

    # fls: path -> (inode address, deleted?)
    listing = {}
    for line in run('fls', '-r', '-p', '-o', OFF, raw).splitlines():
        m = re.match(r'^(\S+) (\* )?([0-9-]+)(?:\(realloc\))?:\t(.*)$', line)
        if not m:
            bad('%s: unparsed fls line %r' % (name, line))
            continue
        listing[m.group(4)] = (m.group(3), bool(m.group(2)), m.group(1))

    manifest, seen = [], set()
    with open(os.path.join(sd, 'ntfs.tsv'), encoding='utf-8') as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip('\n')
            if not line or line.startswith('#'):
                continue
            f = line.split('\t')
            manifest.append((n, f))

    all_times = {}          # ticks -> [descriptions] (every time planted on the image)
    def plant(t, what):
        all_times.setdefault(t, []).append(what)
    contents = {}           # path -> bytes read back (files, deleted files)
    si_created = {}         # path -> $SI created (every manifest entry)
    manifest_content = {}
    for n, f in manifest:
        kind, path, times, content = f[0], f[1], f[2:10], f[10]
        manifest_content[path] = content
        where = '%s: ntfs.tsv:%d %s' % (name, n, path)
        if kind == 'stream':
            entry = listing.get(path)
            if not check(entry is not None, where + ': stream listed by fls'):
                continue
            seen.add(path)
            data = run('icat', '-o', OFF, raw, entry[0], binary=True)
            want = unescape(content[5:]) if content.startswith('text:') else b''
            check(data == want, where + ': stream content')
            continue
        entry = listing.get(path)
        if not check(entry is not None, where + ': listed by fls'):
            continue
        seen.add(path)
        addr, deleted, typ = entry
        inode = addr.split('-')[0]
        ist = run('istat', '-o', OFF, raw, inode)
        want_deleted = kind in ('deleted', 'deleted-dir')
        check(deleted == want_deleted and ('Not Allocated' in ist) == want_deleted,
              where + ': ' + ('unallocated' if want_deleted else 'allocated'))
        want_dir = kind in ('dir', 'deleted-dir')
        check(typ.endswith('/d') == want_dir, where + ': ' + ('directory' if want_dir else 'file'))
        si = ist.split('$STANDARD_INFORMATION Attribute Values:')[1].split('$FILE_NAME')[0]
        fn = ist.split('$FILE_NAME Attribute Values:')[1].split('Attributes:')[0]
        got = []
        for block in (si, fn):
            for label in ('Created', 'File Modified', 'MFT Modified', 'Accessed'):
                m = re.search(r'^%s:\t(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{9}) \(UTC\)' % label,
                              block, re.M)
                got.append(ticks(*map(int, m.groups()[:6]), int(m.group(7)) // 100) if m else None)
        want = [parse_iso(t) for t in times]
        check(got == want, where + ': $SI and $FN times')
        si_created[path] = got[0]
        for t, lab in zip(got, ('SI created', 'SI modified', 'SI MFT changed', 'SI accessed',
                                'FN created', 'FN modified', 'FN MFT changed', 'FN accessed')):
            if t is not None:
                plant(t, '%s %s' % (lab, path))
        if not want_dir:
            data = run('icat', '-o', OFF, raw, inode, binary=True)
            contents[path] = data
            if content.startswith('text:'):
                wanted = unescape(content[5:])
            elif content.startswith('@'):
                src = os.path.join(sd, 'content', content[1:])
                if not os.path.exists(src):
                    src = os.path.join(hives_dir, content[1:])
                gen = generated(sd, content[1:])
                if gen and not os.path.exists(src):
                    gen[1](where, gen[0], data, path)
                    continue
                wanted = open(src, 'rb').read()
            else:
                wanted = b''
            check(data == wanted, where + ': content')
    extra = [p for p in listing if p not in seen and not p.startswith('$')
             and not p.split('/')[-1].startswith('$')]
    check(not extra, '%s: nothing on the volume beyond the manifest %s' % (name, extra or ''))

    # ---- hives, read back from the volume ---------------------------------------
    tmp = tempfile.mkdtemp()
    hives = {}
    for path, data in contents.items():
        base = path.split('/')[-1]
        if base in ('SOFTWARE', 'SYSTEM') or base.upper() == 'NTUSER.DAT' or base == 'Amcache.hve':
            hp = os.path.join(tmp, path.replace('/', '_'))
            open(hp, 'wb').write(data)
            hives[path] = open_hive(hp)
    for fname in sorted(os.listdir(hives_dir)):
        src = open(os.path.join(hives_dir, fname), 'rb').read()
        if re.search(r'\.LOG[12]$', fname):  # a hive's transaction log, beside it
            if '@' + fname not in manifest_content.values():
                ok('%s: log %s left off the volume (ntfs.tsv names it nowhere)' % (name, fname))
                continue
            check(any(src == d for p, d in contents.items()
                      if re.search(r'\.LOG[12]$', p) and manifest_content.get(p) == '@' + fname),
                  '%s: log %s is on the volume' % (name, fname))
            continue
        check(any(src == contents.get(p) for p in hives), '%s: hive %s is on the volume' % (name, fname))
    # a dirty hive: its logs replayed (above), read as one more state
    for hpath in list(hives):
        logs = [contents[hpath + ext] for ext in ('.LOG1', '.LOG2') if hpath + ext in contents]
        try:
            rep = replay_logs(contents[hpath], logs) if logs else None
        except ValueError as e:
            check(False, '%s: %s logs: %s' % (name, hpath, e))
            rep = None
        if rep is not None:
            hp = os.path.join(tmp, hpath.replace('/', '_') + '.replayed')
            open(hp, 'wb').write(rep)
            hives[hpath + ' (replayed)'] = open_hive(hp)
    # keys a spec deleted: reglookup-recover (libregfi) finds each in the
    # free cells of the hive on the volume, with its LastWrite
    for spec in sorted(glob.glob(os.path.join(sd, 'hives', '*.spec'))):
        dels = [l.rstrip('\n').split('\t')[1] for l in open(spec, encoding='utf-8')
                if l.startswith('delete\t')]
        if not dels:
            continue
        base = os.path.basename(spec)[:-5]
        built = open(os.path.join(hives_dir, base), 'rb').read()
        hpath = next((p for p, d in contents.items() if d == built), None)
        if not check(hpath is not None, '%s: hive %s on the volume' % (name, base)):
            continue
        hp = os.path.join(tmp, 'recover-' + base)
        open(hp, 'wb').write(contents[hpath])
        rec = subprocess.run(['reglookup-recover', '-H', hp], capture_output=True, text=True).stdout
        times = {}
        for l in open(spec, encoding='utf-8'):
            f = l.rstrip('\n').split('\t')
            if f[0] == 'key' and len(f) == 3:
                times[f[1]] = f[2]
        for d in dels:
            parent, _, leaf = d.rpartition('\\')
            want = dt.datetime.strptime(times[d][:19], '%Y-%m-%dT%H:%M:%S').strftime('%Y-%m-%d %H:%M:%S')
            rows = [r.split(',') for r in rec.splitlines() if r.count(',') >= 6]
            hit = any(r[2] == 'KEY' and (r[3].endswith('/' + parent.replace('\\', '/')) if parent
                                         else r[3].count('/') == 1)
                      and r[4] == leaf and r[5] == want for r in rows)
            check(hit, '%s: deleted key %s in the free cells of %s (reglookup-recover)' % (name, d, base))
    # values of keys a spec wiped (their nk record zeroed): each is in a free
    # cell of the hive on the volume with its name, type and data, and no
    # free nk record of that name has the key's LastWrite (free_records)
    for spec in sorted(glob.glob(os.path.join(sd, 'hives', '*.spec'))):
        lines = [f for _, f in spec_lines(spec)]
        cut = next((i for i, f in enumerate(lines) if f[0] == 'transaction'), len(lines))
        lines = lines[:cut]
        wiped = [f[1] for f in lines if f[0] == 'wipe']
        gone = [f[1] for f in lines if f[0] in ('delete', 'wipe')]
        under = lambda k: any(k == g or k.startswith(g + '\\') for g in gone)
        # big data (over 16344 bytes): a live value read by libregf, a
        # deleted one by free_records through its db record and segments
        bigs = [f for f in lines if f[0] == 'value' and f[3] == 'blob']
        if not wiped and not bigs:
            continue
        built = open(os.path.join(hives_dir, os.path.basename(spec)[:-5]), 'rb').read()
        hpath = next((p for p, d in contents.items() if d == built), None)
        if not check(hpath is not None, '%s: hive of %s on the volume' % (name, os.path.basename(spec))):
            continue
        nks, vks = free_records(contents[hpath])
        times = {f[1]: parse_iso(f[2]) for f in lines if f[0] == 'key' and len(f) == 3}
        for f in bigs:
            typ, data = spec_value(f[3], f[4])
            if under(f[1]):
                check(any(v[1] == f[2] and v[3] == data for v in vks),
                      '%s: deleted big value %s\\%s (%d bytes) in free cells of %s' % (name, f[1], f[2], len(data), hpath))
            else:
                key = hives[hpath].get_root_key().get_sub_key_by_path(f[1])
                got = key_values(key)[f[2]].get_data() if key else None
                check(got == data, '%s: big value %s\\%s (%d bytes) read by libregf' % (name, f[1], f[2], len(data)))
        for w in wiped:
            leaf = w.rpartition('\\')[2]
            check(not any(n == leaf and t == times.get(w) for _, n, t in nks),
                  '%s: wiped key %s has no nk record left in %s' % (name, w, hpath))
            for f in lines:
                if f[0] != 'value' or f[1] != w:
                    continue
                typ, data = spec_value(f[3], f[4] if len(f) > 4 else '')
                check(any(v[1] == f[2] and v[2] == typ and v[3] == data for v in vks),
                      '%s: value %s\\%s of the wiped key in a free cell of %s' % (name, w, f[2], hpath))
                # reglookup-recover (libregfi) lists it too, as a value
                hp = os.path.join(tmp, 'recover-wiped')
                open(hp, 'wb').write(contents[hpath])
                rec = subprocess.run(['reglookup-recover', '-H', hp], capture_output=True, text=True).stdout
                check(any(r.split(',')[2:3] == ['VALUE'] and r.split(',')[4] == f[2]
                          for r in rec.splitlines() if r.count(',') >= 6),
                      '%s: value %s\\%s of the wiped key (reglookup-recover)' % (name, w, f[2]))
    # times left in free cells count as planted: nk LastWrite, and the
    # Unix-seconds DWORDs (free_records)
    for hpath in [p for p in hives if not p.endswith(' (replayed)')]:
        nks, vks = free_records(contents[hpath])
        for off, kname, lw in nks:
            plant(lw, 'free-cell LastWrite %s at 0x%x in %s' % (kname, off, hpath))
        for off, vname, typ, data in vks:
            if typ == 4 and data and len(data) == 4 and vname in ('LastSuccessfulUpdate', 'InstallDate'):
                plant((int.from_bytes(data, 'little') + 11644473600) * 10**7,
                      'free-cell DWORD %s at 0x%x in %s' % (vname, off, hpath))
    system = hives['Windows/System32/config/SYSTEM']
    root = system.get_root_key()
    cur = key_values(root.get_sub_key_by_path('Select'))['Current'].get_data_as_integer()
    cs = 'ControlSet%03d' % cur
    hostname = key_values(root.get_sub_key_by_path(cs + '\\Control\\ComputerName\\ComputerName'))['ComputerName'].get_data_as_string()
    tzk = root.get_sub_key_by_path(cs + '\\Control\\TimeZoneInformation')
    tzv = key_values(tzk)
    tzi = {k: s32(tzv[k].get_data_as_integer()) for k in ('Bias', 'StandardBias', 'DaylightBias')}
    tzi['DynamicDaylightTimeDisabled'] = tzv['DynamicDaylightTimeDisabled'].get_data_as_integer() \
        if 'DynamicDaylightTimeDisabled' in tzv else 0
    for k in ('StandardStart', 'DaylightStart'):
        b = tzv[k].get_data()
        tzi[k] = [int.from_bytes(b[i:i + 2], 'little') for i in range(0, 16, 2)]
    tzname = tzv['TimeZoneKeyName'].get_data_as_string()

    # every time planted in the registry and in file contents
    for hpath, hive in hives.items():
        for kpath, key in walk(hive.get_root_key()):
            lw = key.get_last_written_time_as_integer()
            plant(lw, 'LastWrite %s\\%s' % (hpath.split('/')[-1], kpath))
            for vname, v in key_values(key).items():
                typ = v.get_type()
                if typ == 11:   # REG_QWORD as FILETIME
                    plant(v.get_data_as_integer(), 'QWORD %s\\%s' % (kpath, vname))
                elif typ == 4 and vname in ('LastSuccessfulUpdate', 'InstallDate'):
                    # Unix seconds in a DWORD (environment\\InstallDate: the
                    # real KTS 21.2 capture)
                    plant((v.get_data_as_integer() + 11644473600) * 10**7,
                                         'DWORD %s\\%s' % (kpath, vname))
                elif typ == 4 and vname == 'FirstStartupTime':
                    # the local wall clock as Unix seconds (the real KTS
                    # 21.2 capture, real-world-kaspersky.md 2.1.1)
                    local = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=v.get_data_as_integer())
                    plant(local_to_utc(tzi, local),
                          'DWORD %s\\%s local wall clock' % (kpath, vname))
                elif typ in (1, 2):
                    s = v.get_data_as_string() or ''
                    m = re.fullmatch(r'(\d\d)-(\d\d)-(\d{4}) (\d\d)-(\d\d)-(\d\d)', s)
                    if m:
                        d, mo, y, h, mi, se = map(int, m.groups())
                        plant(ticks(y, mo, d, h, mi, se), '%s\\%s "%s"' % (kpath, vname, s))
                    if vname == 'InstallDate' and re.fullmatch(r'\d{8}', s):
                        local = dt.datetime(int(s[:4]), int(s[4:6]), int(s[6:]))
                        plant(local_to_utc(tzi, local),
                                             '%s\\%s %s local midnight' % (kpath, vname, s))
    for path, data in contents.items():
        base = path.split('/')[-1]
        text = data.decode('utf-8', errors='replace')
        m = re.match(r'\d+;(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)', text)
        if base.lower() == 'kdb.stt' and m:
            plant(ticks(*map(int, m.groups())), 'kdb.stt %s' % path)
        m = re.search(r'<Update\b[^>]*\bDate="(\d\d)(\d\d)(\d{4}) (\d\d)(\d\d)"', text)
        if re.fullmatch(r'u\w*\.xml', base, re.I) and m:
            d, mo, y, h, mi = map(int, m.groups())
            plant(ticks(y, mo, d, h, mi), 'u*.xml root Date %s' % path)
    for path in listing:
        m = re.search(r'kavremvr (\d{4})-(\d\d)-(\d\d) (\d\d)-(\d\d)-(\d\d) \(pid \d+\)\.log$', path)
        if m:
            start = dt.datetime(*map(int, m.groups()))
            plant(local_to_utc(tzi, start), 'kavremover log name %s' % path)
            # its lines "PID:TID HH:MM:SS.mmm text", dated by the name
            day, prev = start.date(), start.time()
            for ln in contents.get(path, b'').decode('utf-8', 'replace').splitlines():
                lm = re.match(r'\d+:\d+ (\d\d):(\d\d):(\d\d)\.(\d{3}) ', ln)
                if not lm:
                    continue
                h, mi, se, ms = map(int, lm.groups())
                tod = dt.time(h, mi, se, ms * 1000)
                if tod < prev:
                    day += dt.timedelta(days=1)
                prev = tod
                plant(local_to_utc(tzi, dt.datetime.combine(day, tod)),
                      'kavremover log line %s: %s' % (path, ln))
        m = re.search(r'/(KAV|KES)[^/]*_(\d\d)\.(\d\d)_(\d\d)\.(\d\d)_pid\d+\.[^/]*$', path)
        if m and path in contents:
            mo, d, h, mi = map(int, m.groups()[1:])
            created = [t for t, w in all_times.items() if 'SI created ' + path in w]
            year = (EPOCH1601 + dt.timedelta(microseconds=created[0] // 10)).year if created else 0
            if year:
                plant(local_to_utc(tzi, dt.datetime(year, mo, d, h, mi)), 'trace file name %s' % path)
    for path, data in contents.items():
        base = path.split('/')[-1]
        if base.lower() == 'detects.db':
            dp = os.path.join(tmp, path.replace('/', '_'))
            open(dp, 'wb').write(data)
            db = sqlite3.connect('file:%s?mode=ro' % dp, uri=True)
            for (t,) in db.execute('SELECT Time FROM detects'):
                plant(t, 'detects.db Time %s' % path)
            db.close()
    for local, what in local_times:
        plant(local_to_utc(tzi, local), what)
    local_times.clear()

    # ---- expected.tsv ----------------------------------------------------------
    exp, order, events = {}, [], []
    with open(os.path.join(sd, 'expected.tsv'), encoding='utf-8') as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip('\n')
            if not line or line.startswith('#'):
                continue
            f = line.split('\t')
            if f[0] == 'event':
                check(3 <= len(f) <= 5, '%s: expected.tsv:%d event row has 3 to 5 fields' % (name, n))
                events.append((n, f))
                continue
            if not check(len(f) == 3, '%s: expected.tsv:%d has 3 fields' % (name, n)):
                continue
            if (f[0], f[1]) in exp:
                bad('%s: expected.tsv:%d duplicate %s %s' % (name, n, f[0], f[1]))
            exp[(f[0], f[1])] = f[2]
            order.append((n, f))
    verdicts = ['kaspersky_ever_installed', 'kaspersky_present_at_acquisition',
                'installed_after_sales_ban', 'signature_update_after_cutoff',
                'codebase_update_after_cutoff', 'ksn_after_cutoff', 'removed_before_cutoff',
                'migrated_to_ultraav']
    WHITE_LABEL = 'kaspersky_code_in_other_products'   # optional in a scenario's truth
    fields = ['version', 'installed', 'first_seen', 'last_signature_update',
              'last_codebase_update', 'status', 'removed', 'removal_method']
    products = sorted({s for s, _ in exp if s.startswith('product:')})
    check(all(exp.get(('verdict', v)) in ('true', 'false', 'null') for v in verdicts)
          and len([1 for s, _ in exp if s == 'verdict' and _ != WHITE_LABEL]) == 8,
          name + ': the eight verdicts')
    check(all(p[8:] in ('kaspersky-kes', 'kaspersky-klnagent', 'kaspersky-consumer', 'kaspersky-ksws',
                        'kaspersky-vpn', 'ultraav')
              for p in products), name + ': product ids %s' % products)
    optional = ['last_execution', 'ksn', 'last_ksn_evidence']
    check(all((p, fl) in exp for p in products for fl in fields)
          and all(s in ('system', 'verdict', 'migration', 'timeline') or s in products
                  or s.startswith('state:') or s.startswith('integration:') or s.startswith('tool:')
                  for s, _ in exp)
          and all(fl in fields + optional for s, fl in exp if s in products),
          name + ': every product field, no other')
    check(exp.get(('system', 'os')) == 'windows', name + ': system os windows')
    check(exp.get(('system', 'hostname')) == hostname, name + ': hostname %s (SYSTEM %s)' % (exp.get(('system', 'hostname')), hostname))
    check(exp.get(('system', 'timezone')) == tzname, name + ': timezone %s (SYSTEM %s)' % (exp.get(('system', 'timezone')), tzname))
    for p in products:
        check(exp[(p, 'status')] in ('present', 'removed', 'residue'), '%s: %s status' % (name, p))
        check(exp[(p, 'removal_method')] in ('kavremover', 'migration', 'msi', 'unknown', 'null'),
              '%s: %s removal_method' % (name, p))
        # removed is null when present, or when nothing dates the removal
        # (its method then unknown); removal_method null exactly when present
        check(((exp[(p, 'removed')] == 'null') == (exp[(p, 'status')] == 'present')
               or (exp[(p, 'removed')] == 'null' and exp[(p, 'removal_method')] == 'unknown'))
              and (exp[(p, 'status')] == 'present') == (exp[(p, 'removal_method')] == 'null'),
              '%s: %s removed/removal_method null exactly when present (removed also when undated)'
              % (name, p))

    # every time is planted
    for n, f in events:
        if len(f) >= 3:
            t = parse_iso(f[2])
            check(t in all_times, '%s: expected.tsv:%d event %s %s <- %s'
                  % (name, n, f[1], f[2], '; '.join(all_times.get(t, ['NOT PLANTED']))))
    for n, (scope, field, value) in order:
        if not re.fullmatch(r'\d{4}-.*Z', value):
            continue
        t = parse_iso(value)
        check(t in all_times, '%s: expected.tsv:%d %s %s = %s <- %s'
              % (name, n, scope, field, value, '; '.join(all_times.get(t, ['NOT PLANTED']))))
        for p in products:
            if scope == p and field != 'first_seen' and exp[(p, 'first_seen')] != 'null':
                check(parse_iso(exp[(p, 'first_seen')]) <= t,
                      '%s: %s first_seen <= %s' % (name, p, field))

    # state at an instant: state:WHEN:PRODUCT, WHEN a milestone or a UTC time; every time in
    # it at or before WHEN, a product of the scenario, nothing installed-only when not installed
    instants = {'sales_ban': SALES_BAN, 'vendor_cutoff': VENDOR_CUTOFF, 'cutoff': CUTOFF}
    for n, (scope, field, value) in order:
        if not scope.startswith('state:'):
            continue
        when, _, prod = scope[6:].rpartition(':')
        at = instants.get(when, when)
        if not check(re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', at) is not None
                     and 'product:' + prod in products
                     and field in ('installed', 'version', 'last_signature_update',
                                   'last_codebase_update', 'ksn'),
                     '%s: expected.tsv:%d state scope %s field %s' % (name, n, scope, field)):
            continue
        if re.fullmatch(r'\d{4}-.*Z', value):
            check(parse_iso(value) <= parse_iso(at), '%s: expected.tsv:%d %s %s after the instant'
                  % (name, n, scope, field))
        if field == 'installed':
            check(value in ('true', 'false', 'null'), '%s: expected.tsv:%d installed' % (name, n))
        if exp.get((scope, 'installed')) == 'false' and field in ('version', 'ksn'):
            check(value == 'null', '%s: expected.tsv:%d %s null when not installed' % (name, n, field))

    # ---- white label (white-label.md §3): Kaspersky SDK files and bases in another
    # vendor's folder (Program Files/<vendor>, ProgramData/<vendor>), the SDK's own
    # key KasperskyLab\sdk\AVP*\environment (its Bases names the vendor folder);
    # TDSSKiller/KVRT in a vendor folder are bundled tools, never integrations.
    SDK = {'appinfo.kli', 'kave8.dll', 'prloader.dll', 'prremote.dll', 'kavehost.exe', 'kavhttpd.exe'}
    PE_NAMED = {'kave8.dll', 'prloader.dll', 'prremote.dll', 'kavehost.exe'}   # read as PEs by default
    INDEX = {'u0607g.xml', 'u1313g.xml', 'u1901g.xml'}
    integ, tools = {}, {}
    def vendor_of(path):
        m = re.match(r'(Program Files|Program Files \(x86\)|ProgramData)/([^/]+)/', path)
        return m.group(2) if m and not m.group(2).lower().startswith('kaspersky') else None
    def add_find(host, marker, t, bases=None, path=None):
        g = integ.setdefault(host, {'markers': set(), 'first': None, 'bases': None, 'folder': None,
                                    'paths': set()})
        g['markers'].add(marker)
        if path:
            g['paths'].add(path)
        g['first'] = t if g['first'] is None else min(g['first'], t)
        if bases is not None:
            g['bases'] = bases if g['bases'] is None else max(g['bases'], bases)
    for path in sorted(si_created):
        v = vendor_of(path)
        base = path.split('/')[-1]
        if v is None or path not in contents:
            continue
        if re.fullmatch(r'(tdsskiller|kvrt)[^/]*\.exe', base, re.I):
            tools[path] = base
        elif base.lower() in SDK:
            add_find(v, base, si_created[path], path=path)
            # read as a PE too (kaspersky.whitelabel.win.pe): with its legal name
            src = manifest_content.get(path, '')
            pe_name = src[1:] if src.startswith('@') and src[1:] in pe_listed(sd) else None
            legal = pe_kaspersky_name(os.path.join(os.path.dirname(scen_dir), 'pe', pe_name + '.spec')) \
                if pe_name else None
            if legal and base.lower() in PE_NAMED:
                add_find(v, '%s (%s)' % (base, legal), si_created[path])
            if path.startswith('Program Files/'):
                integ[v]['folder'] = 'Program Files/' + v
        elif base.lower() in INDEX or base.lower() == 'kdb.stt':
            text = contents[path].decode('utf-8', 'replace')
            m = re.search(r'<Update\b[^>]*\bDate="(\d\d)(\d\d)(\d{4}) (\d\d)(\d\d)"', text)
            k = re.match(r'\d+;(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)', text)
            t = ticks(int(m[3]), int(m[2]), int(m[1]), int(m[4]), int(m[5])) if m and base.lower() != 'kdb.stt' \
                else ticks(*map(int, k.groups())) if k else None
            if t is not None:
                add_find(v, base, t, t, path=path)
    soft = hives.get('Windows/System32/config/SOFTWARE')
    for kpath, key in walk(soft.get_root_key()) if soft else []:
        if re.fullmatch(r'(WOW6432Node\\)?KasperskyLab\\sdk\\AVP[^\\]*\\environment', kpath):
            vals = key_values(key)
            b = vals['Bases'].get_data_as_string() if 'Bases' in vals else ''
            m = re.search(r'^.*\\Program[^\\]*\\([^\\]+)', b)
            if m and 'kaspersky' not in b.lower():
                add_find(m.group(1), kpath, key.get_last_written_time_as_integer())
    # The host product: the uninstall entry (SOFTWARE, its WOW6432Node twin, every
    # NTUSER.DAT) whose folder -- InstallLocation, else the folder of the program its
    # UninstallString or DisplayIcon names -- holds most of the integration's files,
    # each file counting for the longest folder that holds it by whole components.
    SHARED = {'windows', 'windows/system32', 'windows/syswow64', 'windows/installer',
              'program files', 'program files (x86)', 'programdata', 'users'}
    def entry_folder(raw, program):
        raw = raw.strip()
        if raw.startswith('"'):
            raw = raw[1:].split('"', 1)[0]
        elif program:
            m = re.match(r'(.*?\.exe)(?=$|[ ,/])', raw, re.I)
            raw = m.group(1) if m else raw
        if program:
            raw = re.sub(r',[-0-9 ]*$', '', raw)
        m = re.match(r'[cC]:[\\/](.*)$', raw)
        parts = [p for p in re.split(r'[\\/]+', m.group(1)) if p and p != '.'] if m else []
        if '..' in parts:
            return None
        f = '/'.join(parts[:-1] if program else parts)
        return f if f and f.lower() not in SHARED else None
    entries = []
    for hpath, hive in hives.items():
        base = hpath.split('/')[-1]
        roots = (['Microsoft\\Windows\\CurrentVersion\\Uninstall',
                  'WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall'] if base == 'SOFTWARE'
                 else ['Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall'] if base.upper() == 'NTUSER.DAT'
                 else [])
        for kpath, key in walk(hive.get_root_key()):
            if kpath.rpartition('\\')[0] not in roots:
                continue
            vals = key_values(key)
            sv = lambda n: (vals[n].get_data_as_string() or '') if n in vals else ''
            folder = None
            for vn, program in (('InstallLocation', False), ('UninstallString', True), ('DisplayIcon', True)):
                if folder is None and sv(vn):
                    folder = entry_folder(sv(vn), program)
            if folder:
                d = sv('InstallDate')
                entries.append({'key': kpath, 'folder': folder, 'name': sv('DisplayName'),
                                'publisher': sv('Publisher'), 'version': sv('DisplayVersion'),
                                'written': key.get_last_written_time_as_integer(),
                                'date': local_to_utc(tzi, dt.datetime(int(d[:4]), int(d[4:6]), int(d[6:])))
                                        if re.fullmatch(r'\d{8}', d) else None})
    def holds(folder, path):
        return path.lower() == folder.lower() or path.lower().startswith(folder.lower() + '/')
    for h, g in integ.items():
        votes = {}
        for path in g['paths']:
            best = max((len(e['folder']) for e in entries if holds(e['folder'], path)), default=0)
            for i, e in enumerate(entries):
                if best and len(e['folder']) == best and holds(e['folder'], path):
                    votes[i] = votes.get(i, 0) + 1
        top = [i for i, n in votes.items() if n == max(votes.values())]
        g['owner'] = entries[top[0]] if len(top) == 1 else None
    want_hosts = sorted(s[12:] for s, _ in exp if s.startswith('integration:'))
    check(sorted(set(want_hosts)) == sorted(integ), '%s: integrations %s (image: %s)'
          % (name, sorted(set(want_hosts)), sorted(integ)))
    for h, g in integ.items():
        sc = 'integration:' + h
        check(set(exp.get((sc, 'markers'), '').split(',')) == g['markers'],
              '%s: %s markers (image: %s)' % (name, sc, sorted(g['markers'])))
        check(exp.get((sc, 'first_seen')) not in (None, 'null') and parse_iso(exp[(sc, 'first_seen')]) == g['first'],
              '%s: %s first_seen' % (name, sc))
        lb = exp.get((sc, 'last_bases_update'))
        check((lb == 'null' and g['bases'] is None) or (lb not in (None, 'null') and parse_iso(lb) == g['bases']),
              '%s: %s last_bases_update' % (name, sc))
        after = g['bases'] is not None and g['bases'] >= parse_iso(CUTOFF)
        check(exp.get((sc, 'bases_updated_after_cutoff')) == ('true' if after else 'false'),
              '%s: %s bases_updated_after_cutoff' % (name, sc))
        check(exp.get((sc, 'folder')) == (g['folder'] or 'null'), '%s: %s folder' % (name, sc))
        o = g['owner']
        check(exp.get((sc, 'host_product')) == (o['name'] if o else 'null'),
              '%s: %s host_product (image: %s)' % (name, sc, o and o['name']))
        for field, want in (('publisher', o and o['publisher']), ('version', o and o['version']),
                            ('key', o and o['key']), ('folder', o and o['folder'])):
            if (sc, 'host_product_' + field) in exp:
                check(exp[(sc, 'host_product_' + field)] == want,
                      '%s: %s host_product_%s (image: %s)' % (name, sc, field, want))
        for field, want in (('install_date', o and o['date']), ('key_written', o and o['written'])):
            if (sc, 'host_product_' + field) in exp:
                check(want is not None and parse_iso(exp[(sc, 'host_product_' + field)]) == want,
                      '%s: %s host_product_%s' % (name, sc, field))
    check(sorted(s[5:] for s, _ in exp if s.startswith('tool:')) == sorted(tools),
          '%s: bundled tools %s' % (name, sorted(tools)))
    if ('verdict', WHITE_LABEL) in exp:
        check(exp[('verdict', WHITE_LABEL)] == ('true' if integ else 'false'),
              '%s: %s vs integrations' % (name, WHITE_LABEL))

    # verdicts vs product fields
    kas = [p for p in products if p.startswith('product:kaspersky-')]
    V = {v: exp.get(('verdict', v)) for v in verdicts}
    tv = lambda b: 'true' if b else 'false'
    check(V['kaspersky_ever_installed'] == tv(kas), name + ': kaspersky_ever_installed vs products')
    check(V['kaspersky_present_at_acquisition'] == tv(any(exp[(p, 'status')] == 'present' for p in kas)),
          name + ': kaspersky_present_at_acquisition vs statuses')
    inst = [exp[(p, 'installed')] for p in kas]
    if 'null' not in inst:
        check(V['installed_after_sales_ban'] == tv(any(parse_iso(i) >= parse_iso(SALES_BAN) for i in inst)),
              name + ': installed_after_sales_ban vs installed')
    sigs = [parse_iso(exp[(p, 'last_signature_update')]) for p in kas if exp[(p, 'last_signature_update')] != 'null']
    if sigs or not kas:
        check(V['signature_update_after_cutoff'] == tv(any(s >= parse_iso(CUTOFF) for s in sigs)),
              name + ': signature_update_after_cutoff vs last_signature_update')
    cbs = [parse_iso(exp[(p, 'last_codebase_update')]) for p in kas if exp[(p, 'last_codebase_update')] != 'null']
    check(V['codebase_update_after_cutoff'] == tv(any(c >= parse_iso(CUTOFF) for c in cbs)),
          name + ': codebase_update_after_cutoff vs last_codebase_update')
    if kas:
        removed = [exp[(p, 'removed')] for p in kas]
        # a product present is still there at the cutoff, whatever the others' removal times
        want = 'false' if any(exp[(p, 'status')] == 'present' for p in kas) else \
            'null' if 'null' in removed else \
            tv(all(parse_iso(r) < parse_iso(CUTOFF) for r in removed))
        check(V['removed_before_cutoff'] == want, name + ': removed_before_cutoff vs removed')
    else:
        check(V['removed_before_cutoff'] == 'null', name + ': removed_before_cutoff null (never installed)')
    mig_to = exp.get(('migration', 'to'))
    check(V['migrated_to_ultraav'] == tv(mig_to == 'UltraAV' and bool(kas)), name + ': migrated_to_ultraav vs migration')
    check((mig_to == 'UltraAV') == ('product:ultraav' in products and bool(kas))
          and (mig_to == 'null') == (exp.get(('migration', 'time')) == 'null'), name + ': migration lines')
    if mig_to == 'UltraAV':
        check(exp[('migration', 'time')] == exp[('product:ultraav', 'installed')],
              name + ': migration time = UltraAV installed')
        for p in kas:
            if exp[(p, 'removal_method')] == 'migration':
                gap = parse_iso(exp[('migration', 'time')]) - parse_iso(exp[(p, 'removed')])
                check(0 <= gap <= 24 * 3600 * 10**7, '%s: %s migration within 24 h of removal' % (name, p))

print('check-scenarios: %d passed, %d failed' % (passed, failed))
sys.exit(1 if failed else 0)
PY
