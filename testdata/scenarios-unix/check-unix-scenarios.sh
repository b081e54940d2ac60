#!/usr/bin/env bash
# Checks the built Linux and macOS scenarios (testdata/build-unix-scenarios.sh
# OUTDIR) with readers that share no code with the builder:
#   - the disk: mmls (one Linux partition, type 0x83, at sector 2048);
#     ewfverify on NAME.E01 and `qemu-img compare` of NAME.vhd / NAME.vmdk
#     with NAME.raw;
#   - the ext4 volume, read with The Sleuth Kit (fls, istat, icat at offset
#     2048) AND e2fsprogs (debugfs stat / dump on 'NAME.raw?offset=1048576'):
#     every ext4.tsv row is there with its kind, allocated or deleted as its
#     kind says, its four times to the nanosecond (both readers), dtime = ctime
#     seconds for deleted rows, its content (text, content/ files, gzip
#     members read with Python's gzip, the pinned tzdata's zone bytes, the rpm
#     database read with `rpm --dbpath` and Python's sqlite3 against its
#     spec; an ndb Packages.db taken apart by testdata/tools/ndb2sqlite.py,
#     its headers then listed by `rpm --dbpath`), its link target; nothing
#     else is on the volume;
#   - the directory tree (macOS) with os.lstat / os.readlink / open: kinds,
#     mtimes to the nanosecond, contents, link targets, nothing extra;
#   - the system: hostname (etc/hostname; macOS: LocalHostName in
#     Library/Preferences/SystemConfiguration/preferences.plist, plistlib), the
#     time zone (the etc/localtime link resolved inside the image; the zone
#     name from its target; the TZif bytes read back and loaded with Python's
#     zoneinfo.ZoneInfo.from_file);
#   - event rows of expected.tsv (event ARTIFACT TIME [PRODUCT [VERSION]])
#     name planted times;
#   - expected.tsv: well formed (system lines, the eight verdicts, every
#     product field), consistent (verdicts vs product fields, as
#     testdata/scenarios/check-scenarios.sh does for Windows), every time in
#     it a time planted on the image (an inode time, a dpkg.log / apt
#     history.log line converted from local time with the image's own zone
#     file, a dnf.rpm.log or install.log line whose written offset must agree
#     with that zone file, a zypper history line converted from local time,
#     an rpm INSTALLTIME, a zsh history stamp, a plist date); and every
#     product field equal to what the rules of README.md give when they are
#     applied, here and independently, to the records read back from the image.
#
# usage: testdata/scenarios-unix/check-unix-scenarios.sh OUTDIR [NAME...]
# Needs sleuthkit, e2fsprogs, ewf-tools, qemu-utils, rpm, python3 (>= 3.9).
# Exit 0 when everything matches.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ $# -ge 1 ]] || { echo "usage: $0 OUTDIR [NAME...]" >&2; exit 2; }
PATH=$PATH:/sbin:/usr/sbin
for tool in mmls fls istat icat debugfs ewfverify qemu-img rpm; do
  command -v "$tool" >/dev/null || {
    echo "$0: $tool not found (apt-get install sleuthkit e2fsprogs ewf-tools qemu-utils rpm)" >&2
    exit 1
  }
done
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
export TZ=UTC LC_ALL=C.UTF-8
exec "$PY" - "$here" "$@" <<'PY'
import datetime as dt, gzip, io, os, plistlib, posixpath, re, shutil, sqlite3, subprocess, sys, tempfile
from zoneinfo import ZoneInfo

scen_dir, out = sys.argv[1], os.path.realpath(sys.argv[2])
names = sys.argv[3:] or sorted(d for d in os.listdir(scen_dir)
                               if os.path.isfile(os.path.join(scen_dir, d, 'expected.tsv')))
UTC = dt.timezone.utc
SALES_BAN, CUTOFF = None, None
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

def run(*args, binary=False, check_rc=True):
    r = subprocess.run(args, capture_output=True)
    if check_rc and r.returncode:
        raise RuntimeError('%s: %s' % (' '.join(args), r.stderr.decode(errors='replace')))
    return r.stdout if binary else r.stdout.decode('utf-8', errors='replace')

# ---- times: integer nanoseconds since 1970 UTC --------------------------------------
def ns_of(d):
    """aware datetime (second precision or us) -> ns"""
    delta = d - dt.datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000

def parse_iso(s):
    m = re.fullmatch(r'(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z', s)
    if not m:
        raise ValueError('bad time ' + s)
    base = dt.datetime(*map(int, m.groups()[:6]), tzinfo=UTC)
    return ns_of(base) + int((m.group(7) or '0').ljust(9, '0'))

def fmt(t):
    s, f = divmod(t, 10**9)
    d = dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=s)
    return d.strftime('%Y-%m-%dT%H:%M:%S') + ('.%09d' % f).rstrip('0') + 'Z' if f else \
        d.strftime('%Y-%m-%dT%H:%M:%SZ')

SALES_BAN, CUTOFF = parse_iso('2024-07-20T04:00:00Z'), parse_iso('2024-09-29T04:00:00Z')

def local_to_utc(zone, naive):
    """every UTC instant (ns) that shows `naive` on the wall clock of `zone`"""
    got = set()
    for fold in (0, 1):
        aware = naive.replace(tzinfo=zone, fold=fold)
        u = aware.astimezone(UTC)
        if u.astimezone(zone).replace(tzinfo=None) == naive:
            got.add(ns_of(u))
    return sorted(got)

def offset_text(zone, t):
    d = (dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=t // 10**9)).astimezone(zone)
    return '%s UTC%+g%s' % (d.tzname(), d.utcoffset().total_seconds() / 3600,
                            ', DST' if d.dst() else '')

def unescape(text):
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == '\\':
            out.append({'n': '\n', 't': '\t', '\\': '\\'}[text[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return ''.join(out).encode()

def vkey(v):
    return tuple(int(x) for x in re.findall(r'\d+', v))

# ---- manifests -------------------------------------------------------------------------
def read_manifest(path, ncol):
    rows = []
    for n, line in enumerate(open(path, encoding='utf-8'), 1):
        line = line.rstrip('\n')
        if not line or line.startswith('#'):
            continue
        f = line.split('\t')
        if len(f) != ncol:
            bad('%s:%d: %d fields' % (path, n, len(f)))
            continue
        if ncol == 7:
            times, prev = [], None
            for t in f[2:6]:
                t = prev if t == '=' else t
                times.append(parse_iso(t))
                prev = t
            rows.append({'n': n, 'kind': f[0], 'path': f[1], 'times': times, 'content': f[6]})
        else:
            rows.append({'n': n, 'kind': f[0], 'path': f[1], 'times': [parse_iso(f[2])],
                         'content': f[3]})
    return rows

def want_content(sd, spec):
    """(kind, bytes or spec name): what a content spec should read back as"""
    if spec == '-':
        return ('bytes', b'')
    if spec.startswith('text:'):
        return ('bytes', unescape(spec[5:]))
    if spec.startswith('@'):
        return ('bytes', open(os.path.join(sd, 'content', spec[1:]), 'rb').read())
    if spec.startswith('gz:'):
        return ('gz', open(os.path.join(sd, 'content', spec[3:]), 'rb').read())
    if spec.startswith('zoneinfo:'):
        return ('bytes', open(os.path.join(os.environ['KT_ZONEINFO'], spec[9:]), 'rb').read())
    if spec.startswith('rpmdb:'):
        return ('rpmdb', os.path.join(sd, 'content', spec[6:]))
    if spec.startswith('ndb:'):
        return ('ndb', os.path.join(sd, 'content', spec[4:]))
    raise ValueError(spec)

def ndb_to_sqlite(data):
    """an ndb Packages.db as rpmdb.sqlite bytes (ndb2sqlite.py: Debian's rpm has no ndb)"""
    d = tempfile.mkdtemp()
    try:
        with open(os.path.join(d, 'Packages.db'), 'wb') as fh:
            fh.write(data)
        run(sys.executable, os.path.join(scen_dir, '..', 'tools', 'ndb2sqlite.py'),
            os.path.join(d, 'Packages.db'), os.path.join(d, 'rpmdb.sqlite'))
        return open(os.path.join(d, 'rpmdb.sqlite'), 'rb').read()
    finally:
        shutil.rmtree(d)

def rpm_query(data):
    if data[:4] == b'RpmP':
        data = ndb_to_sqlite(data)
    d = tempfile.mkdtemp()
    try:
        os.makedirs(os.path.join(d, 'rpm'))
        with open(os.path.join(d, 'rpm', 'rpmdb.sqlite'), 'wb') as fh:
            fh.write(data)
        q = run('rpm', '--dbpath', os.path.join(d, 'rpm'), '-qa', '--qf',
                '%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{INSTALLTIME}\n')
        db = sqlite3.connect(os.path.join(d, 'rpm', 'rpmdb.sqlite'))
        nrows = db.execute('SELECT count(*) FROM Packages').fetchone()[0]
        db.close()
    finally:
        shutil.rmtree(d)
    rows = [l.split('\t') for l in q.splitlines() if l]
    return rows, nrows

def rpm_spec(path):
    rows = []
    for line in open(path, encoding='utf-8'):
        if line.startswith('#') or not line.strip():
            continue
        f = line.rstrip('\n').split('\t')
        rows.append([f[0], '(none)' if f[1] == '-' else f[1], f[2], f[3],
                     '(none)' if f[4] == '-' else f[4], f[5]])
    return rows

def check_content(where, sd, spec, data):
    kind, want = want_content(sd, spec)
    if kind == 'bytes':
        return check(data == want, where + ': content')
    if kind == 'gz':
        try:
            got = gzip.decompress(data)
        except OSError as e:
            return bad('%s: not gzip (%s)' % (where, e))
        return check(got == want, where + ': gzip member = content/' + spec[3:])
    try:
        rows, nrows = rpm_query(data)
    except RuntimeError as e:
        return bad('%s: rpm database not read: %s' % (where, e))
    spec_rows = rpm_spec(want)
    return check(sorted(rows) == sorted(spec_rows) and nrows == len(spec_rows),
                 '%s: rpm --dbpath lists the %d spec rows (%d Packages rows)' % (where, len(spec_rows), nrows))

# ---- an image as a set of entries --------------------------------------------------------
class Entry:
    def __init__(self, path, kind, allocated, times, dtime=None, target=None, data=None):
        self.path, self.kind, self.allocated = path, kind, allocated
        self.times, self.dtime, self.target, self.data = times, dtime, target, data

def resolve(entries, path, follow_last=True, depth=0):
    """resolve a path inside the image (links resolve against the image root)"""
    if depth > 20:
        return None
    parts = [p for p in path.split('/') if p]
    cur = ''
    for i, p in enumerate(parts):
        nxt = p if not cur else cur + '/' + p
        e = entries.get(nxt)
        if e is None or not e.allocated:
            return None
        if e.kind == 'symlink' and (follow_last or i < len(parts) - 1):
            tgt = e.target
            base = '' if tgt.startswith('/') else posixpath.dirname(nxt)
            joined = posixpath.normpath(posixpath.join('/' + base, tgt)).lstrip('/')
            r = resolve(entries, joined, True, depth + 1)
            if r is None:
                return None
            nxt = r
        cur = nxt
    return cur

def ext4_entries(name, sd, raw, rows):
    """read the volume with TSK and debugfs; compare with ext4.tsv; return {path: Entry}"""
    off = '2048'
    listing = {}
    for line in run('fls', '-r', '-p', '-o', off, raw).splitlines():
        m = re.match(r'^(\S)/(\S) (\* )?(\d+)(?:\(realloc\))?:\t(.*)$', line)
        if not m:
            bad('%s: unparsed fls line %r' % (name, line))
            continue
        if m.group(5).startswith('$OrphanFiles'):
            continue
        listing[m.group(5)] = (int(m.group(4)), not m.group(3), m.group(2))
    dev = '%s?offset=%d' % (raw, 2048 * 512)
    # one debugfs run: stat of every inode fls listed, dump of every regular file
    tmp = tempfile.mkdtemp()
    cmds = []
    for p, (ino, alloc, typ) in listing.items():
        cmds.append('stat <%d>' % ino)
        if typ == 'r':
            cmds.append('dump <%d> %s/%d' % (ino, tmp, ino))
    with open(os.path.join(tmp, 'cmds'), 'w') as fh:
        fh.write('\n'.join(cmds) + '\n')
    env = dict(os.environ, DEBUGFS_PAGER='__none__', PAGER='__none__')
    dbg = subprocess.run(['debugfs', '-f', os.path.join(tmp, 'cmds'), dev], capture_output=True,
                         env=env).stdout.decode('utf-8', 'replace')
    dstat = {}
    for block in re.split(r'^debugfs: ', dbg, flags=re.M):
        m = re.match(r'stat <(\d+)>\n', block)
        if not m:
            continue
        st = {}
        for f, s, x in re.findall(r'^\s*(ctime|atime|mtime|crtime|dtime): 0x([0-9a-f]+)(?::([0-9a-f]+))?',
                                  block, re.M):
            s, x = int(s, 16), int(x or '0', 16)
            s = s - (1 << 32) if s >= 1 << 31 else s
            st[f] = (s + ((x & 3) << 32)) * 10**9 + (x >> 2)
        lm = re.search(r'Fast link dest: "(.*)"', block)
        st['link'] = lm.group(1) if lm else None
        dstat[int(m.group(1))] = st
    entries, seen = {}, set()
    kinds = {'dir': 'd', 'deleted-dir': 'd', 'file': 'r', 'deleted': 'r', 'symlink': 'l'}
    for r in rows:
        where = '%s: ext4.tsv:%d %s' % (name, r['n'], r['path'])
        e = listing.get(r['path'])
        if not check(e is not None, where + ': listed by fls'):
            continue
        seen.add(r['path'])
        ino, alloc, typ = e
        deleted = r['kind'] in ('deleted', 'deleted-dir')
        ist = run('istat', '-o', off, raw, str(ino))
        check(alloc != deleted and ('Not Allocated' in ist) == deleted and typ == kinds[r['kind']],
              '%s: %s %s' % (where, 'deleted' if deleted else 'allocated', r['kind']))
        got = []
        for label in ('File Created', 'File Modified', 'Inode Modified', 'Accessed'):
            m = re.search(r'^%s:\t(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{9}) \(UTC\)' % label, ist, re.M)
            got.append(ns_of(dt.datetime(*map(int, m.groups()[:6]), tzinfo=UTC)) + int(m.group(7))
                       if m else None)
        check(got == r['times'], where + ': crtime mtime ctime atime (istat)')
        ds = dstat.get(ino, {})
        check([ds.get(k) for k in ('crtime', 'mtime', 'ctime', 'atime')] == r['times'],
              where + ': crtime mtime ctime atime (debugfs)')
        dtime = None
        if deleted:
            m = re.search(r'^Deleted:\t(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) \(UTC\)', ist, re.M)
            dtime = ns_of(dt.datetime(*map(int, m.groups()), tzinfo=UTC)) if m else None
            check(dtime == r['times'][2] // 10**9 * 10**9 == ds.get('dtime'),
                  where + ': dtime = ctime seconds (istat, debugfs)')
        data = target = None
        if typ == 'r':
            data = run('icat', '-o', off, raw, str(ino), binary=True)
            dump = os.path.join(tmp, str(ino))
            check(os.path.isfile(dump) and open(dump, 'rb').read() == data,
                  where + ': icat and debugfs dump agree')
            check_content(where, sd, r['content'], data)
        elif typ == 'l':
            target = ds.get('link')
            check(target == r['content'], where + ': link target %s' % target)
        # what the image holds (istat), not what the manifest says
        times = [g if g is not None else w for g, w in zip(got, r['times'])]
        entries[r['path']] = Entry(r['path'], r['kind'].replace('deleted-dir', 'dir')
                                   .replace('deleted', 'file'), not deleted, times,
                                   dtime, target, data)
    extra = [p for p in listing if p not in seen and p != 'lost+found']
    check(not extra, '%s: nothing on the volume beyond the manifest %s' % (name, extra or ''))
    shutil.rmtree(tmp)
    return entries

def tree_entries(name, sd, tree, rows):
    entries, seen = {}, set()
    for r in rows:
        where = '%s: tree.tsv:%d %s' % (name, r['n'], r['path'])
        p = os.path.join(tree, r['path'])
        try:
            st = os.lstat(p)
        except OSError:
            bad(where + ': exists')
            continue
        seen.add(r['path'])
        kind = 'symlink' if os.path.islink(p) else 'dir' if os.path.isdir(p) else 'file'
        check(kind == r['kind'], where + ': ' + r['kind'])
        check(st.st_mtime_ns == r['times'][0], where + ': mtime')
        data = target = None
        if kind == 'file':
            data = open(p, 'rb').read()
            check_content(where, sd, r['content'], data)
        elif kind == 'symlink':
            target = os.readlink(p)
            check(target == r['content'], where + ': link target')
        entries[r['path']] = Entry(r['path'], kind, True, [st.st_mtime_ns], None, target, data)
    extra = []
    for d, dirs, files in os.walk(tree):
        for f in dirs + files:
            rel = os.path.relpath(os.path.join(d, f), tree)
            if rel not in seen:
                extra.append(rel)
    check(not extra, '%s: nothing in the tree beyond the manifest %s' % (name, extra or ''))
    return entries

# ---- records read from the image ---------------------------------------------------------
class Rec:
    def __init__(self, times, what, pkg=None, action=None, versions=(), ambiguous=False):
        self.times, self.what, self.pkg, self.action = times, what, pkg, action
        self.versions, self.ambiguous = list(versions), ambiguous

def linux_records(name, entries, zone, planted):
    recs = []
    def local(naive, what):
        c = local_to_utc(zone, naive)
        if not c:
            bad('%s: %s: local time does not exist in the zone' % (name, what))
        for t in c:
            planted.setdefault(t, []).append(what + (' (ambiguous: %d candidates)' % len(c)
                                                     if len(c) > 1 else '') + ', ' + offset_text(zone, t))
        return c
    ambiguous_seen = []
    for path, e in sorted(entries.items()):
        if e.kind != 'file' or not e.allocated or e.data is None:
            continue
        base = path.split('/')[-1]
        text = None
        if path == 'var/log/zypp/history':
            installed = {}
            for ln, line in enumerate(e.data.decode('utf-8', 'replace').splitlines(), 1):
                if line.startswith('#'):
                    continue
                f = [x.replace('\\|', '|').replace('\\\\', '\\')
                     for x in re.split(r'(?<!\\)\|', line)]
                m = re.fullmatch(r'(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)', f[0])
                if not m or len(f) < 2:
                    continue
                what = '%s:%d "%s"' % (path, ln, line)
                c = local(dt.datetime(*map(int, m.groups())), what)
                act = f[1].strip()
                if act not in ('install', 'remove') or len(f) < 5:
                    continue
                key = (f[2], f[4])
                if act == 'remove':
                    installed.pop(key, None)
                    recs.append(Rec(c, what, f[2], 'remove', [f[3]], len(c) > 1))
                elif key in installed:      # zypper writes an update as an install
                    recs.append(Rec(c, what, f[2], 'upgrade', [f[3]], len(c) > 1))
                    recs.append(Rec(c, what, f[2], 'seen', [installed[key]], len(c) > 1))
                else:
                    recs.append(Rec(c, what, f[2], 'install', [f[3]], len(c) > 1))
                if act == 'install':
                    installed[key] = f[3]
            continue
        if re.fullmatch(r'dpkg\.log(\.\d+)?(\.gz)?', base) or re.fullmatch(r'history\.log(\.\d+)?(\.gz)?', base) \
                or base.startswith('dnf.rpm.log'):
            data = gzip.decompress(e.data) if base.endswith('.gz') else e.data
            text = data.decode('utf-8', 'replace')
        if text is None:
            continue
        if base.startswith('dpkg.log'):
            for ln, line in enumerate(text.splitlines(), 1):
                m = re.match(r'(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) (\S+) (.*)$', line)
                if not m:
                    continue
                naive = dt.datetime(*map(int, m.groups()[:6]))
                what = '%s:%d "%s"' % (path, ln, line)
                c = local(naive, what)
                if len(c) > 1:
                    ambiguous_seen.append(what)
                f = m.group(8).split()
                if m.group(7) in ('install', 'upgrade', 'remove', 'purge') and len(f) >= 3:
                    recs.append(Rec(c, what, f[0].split(':')[0], m.group(7),
                                    [v for v in f[1:3] if v != '<none>'], len(c) > 1))
                    if m.group(7) == 'upgrade':   # the new version is first seen here
                        recs[-1].versions = [f[2]]
                        recs.append(Rec(c, what, f[0].split(':')[0], 'seen', [f[1]], len(c) > 1))
                elif m.group(7) == 'status' and len(f) >= 3 and f[2] != '<none>':
                    recs.append(Rec(c, what, f[1].split(':')[0], 'seen', [f[2]], len(c) > 1))
        elif base.startswith('history.log'):
            for block in text.split('\n\n'):
                m = re.search(r'^Start-Date: (\d{4})-(\d\d)-(\d\d)  (\d\d):(\d\d):(\d\d)$', block, re.M)
                if not m:
                    continue
                what = '%s "Start-Date: %s"' % (path, m.group(0)[12:])
                c = local(dt.datetime(*map(int, m.groups())), what)
                if len(c) > 1:
                    ambiguous_seen.append(what)
                me = re.search(r'^End-Date: (\d{4})-(\d\d)-(\d\d)  (\d\d):(\d\d):(\d\d)$', block, re.M)
                if me:
                    local(dt.datetime(*map(int, me.groups())), '%s "End-Date: %s"' % (path, me.group(0)[10:]))
                for action in ('Install', 'Upgrade', 'Remove', 'Purge'):
                    ma = re.search(r'^%s: (.*)$' % action, block, re.M)
                    if not ma:
                        continue
                    for pkg, vers in re.findall(r'([^\s,:]+):\S+ \(([^)]*)\)', ma.group(1)):
                        vs = [v.strip() for v in vers.split(',') if v.strip() != 'automatic']
                        act = action.lower()
                        recs.append(Rec(c, what, pkg, act, vs[-1:] if act == 'upgrade' else vs, len(c) > 1))
        else:   # dnf.rpm.log: local time with its offset written in the line
            for ln, line in enumerate(text.splitlines(), 1):
                m = re.match(r'(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)([+-])(\d\d)(\d\d) (\S+) (.*)$', line)
                if not m:
                    continue
                y, mo, d, h, mi, s = map(int, m.groups()[:6])
                off = (1 if m.group(7) == '+' else -1) * (int(m.group(8)) * 60 + int(m.group(9)))
                t = ns_of(dt.datetime(y, mo, d, h, mi, s, tzinfo=dt.timezone(dt.timedelta(minutes=off))))
                what = '%s:%d "%s"' % (path, ln, line)
                check([t] == local_to_utc(zone, dt.datetime(y, mo, d, h, mi, s)),
                      '%s: %s:%d offset %s%s%s agrees with the zone file' % (name, path, ln, m.group(7),
                                                                           m.group(8), m.group(9)))
                planted.setdefault(t, []).append(what + ', ' + offset_text(zone, t))
                ma = re.match(r'(Installed|Upgrade|Upgraded|Erase|Reinstalled): (.+)$', m.group(11))
                if ma:
                    nevra = re.match(r'(.+)-(?:\d+:)?([^-]+)-([^-]+)\.([^.]+)$', ma.group(2))
                    act = {'Installed': 'install', 'Upgrade': 'upgrade', 'Upgraded': 'seen',
                           'Erase': 'remove', 'Reinstalled': 'seen'}[ma.group(1)]
                    recs.append(Rec([t], what, nevra.group(1), act,
                                    ['%s-%s' % (nevra.group(2), nevra.group(3))]))
    # zsh's extended history: each command's start, in Unix seconds
    for path, e in entries.items():
        if e.allocated and e.kind == 'file' and re.fullmatch(r'(root|home/[^/]+)/\.zsh_history', path):
            for ln, line in enumerate(e.data.decode('utf-8', 'replace').splitlines(), 1):
                m = re.match(r': (\d+):\d+;', line)
                if m:
                    planted.setdefault(int(m.group(1)) * 10**9, []).append(
                        '%s:%d "%s" (Unix seconds)' % (path, ln, line))
    # bash's HISTTIMEFORMAT stamps ('#<Unix seconds>' before a command)
    for path, e in entries.items():
        if e.allocated and e.kind == 'file' and re.fullmatch(r'(root|home/[^/]+)/\.bash_history', path):
            for ln, line in enumerate(e.data.decode('utf-8', 'replace').splitlines(), 1):
                m = re.fullmatch(r'#(\d{9,11})\s*', line)
                if m:
                    planted.setdefault(int(m.group(1)) * 10**9, []).append(
                        '%s:%d "%s" (Unix seconds)' % (path, ln, line))
    # saved `kesl-control --app-info` outputs: the bases' release date, local time
    for path, text in saved_app_info(entries):
        m = re.search(r'^Last release date of databases\s*[:|]\s*(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)',
                      text, re.M)
        if m:
            what = '%s "%s"' % (path, m.group(0))
            c = local(dt.datetime(*map(int, m.groups())), what)
            recs.append(Rec(c, what, 'kesl', 'bases', [], len(c) > 1))
    # the rpm database
    for path, e in entries.items():
        if (path.endswith('rpmdb.sqlite') or path.endswith('Packages.db')) and e.allocated and e.data:
            for n, ep, v, r, a, itime in rpm_query(e.data)[0]:
                t = int(itime) * 10**9
                what = '%s INSTALLTIME of %s-%s-%s' % (path, n, v, r)
                planted.setdefault(t, []).append(what)
                recs.append(Rec([t], what, n, 'rpmdb', ['%s-%s' % (v, r)]))
    return recs, ambiguous_seen

def dpkg_status(entries):
    e = entries.get('var/lib/dpkg/status')
    pk = {}
    if e and e.allocated:
        for stanza in e.data.decode('utf-8', 'replace').split('\n\n'):
            f = dict(re.findall(r'^([A-Za-z-]+): (.*)$', stanza, re.M))
            if 'Package' in f:
                pk[f['Package']] = f
    return pk

# ---- the rules of README.md, applied to what was read back --------------------------------
# A product's packages by name: kesl, kesl-gui and Astra's kesl-astra, kesl-gui-astra are
# KESL's; klnagent64 and klnagent64-astra the Network Agent's. An entry of etc/opt/kaspersky
# is the product its name starts with (klnagent, kesl.ini); the folder itself is nobody's.
LINUX_PRODUCTS = {
    'kaspersky-kesl': {
        'pkg': r'kesl(-[a-z0-9-]+)?',
        'paths': ['opt/kaspersky/kesl', 'var/opt/kaspersky/kesl', 'var/opt/kaspersky/kesl-gui',
                  'var/log/kaspersky/kesl', 'var/log/kaspersky/kesl-user',
                  'var/log/kaspersky/kesl-service', 'usr/lib/systemd/system/kesl.service',
                  'etc/systemd/system/multi-user.target.wants/kesl.service',
                  'etc/systemd/system/kesl.service', 'etc/init.d/kesl', 'etc/init.d/kesl-supervisor'],
        'paths_re': r'etc/opt/kaspersky/kesl([^A-Za-z0-9-].*)?|etc/rc[0-6S]\.d/[SK]\d\dkesl(-supervisor)?',
        # the desktop entries: only their creation is a find
        'created': ['etc/xdg/autostart/kaspersky-kesl.desktop',
                    'usr/share/kservices5/ServiceMenus/kaspersky-kesl.desktop',
                    'usr/share/kio/servicemenus/kaspersky-kesl.desktop'],
        'created_re': r'(root|home/[^/]+)/\.config/autostart/kaspersky-kesl\.desktop',
        'info': r'var/lib/dpkg/info/kesl(-[a-z0-9-]+)?(:[a-z0-9]+)?\.[a-z0-9]+',
        'program': 'opt/kaspersky/kesl',
        'units': ['usr/lib/systemd/system/kesl.service',
                  'etc/systemd/system/multi-user.target.wants/kesl.service',
                  'etc/systemd/system/kesl.service', 'etc/init.d/kesl', 'etc/init.d/kesl-supervisor'],
        'bases': ['var/opt/kaspersky/kesl/private/updates', 'var/opt/kaspersky/kesl/common/updates'],
        'folders': r'var/opt/kaspersky/kesl/install_(.+)$',
    },
    'kaspersky-klnagent': {
        'pkg': r'klnagent(64)?(-[a-z0-9-]+)?',
        'created': [], 'created_re': None,
        'paths': ['opt/kaspersky/klnagent64', 'var/opt/kaspersky/klnagent', 'var/log/kaspersky/klnagent64',
                  'usr/lib/systemd/system/klnagent64.service',
                  'etc/systemd/system/multi-user.target.wants/klnagent64.service',
                  'etc/init.d/klnagent64'],
        'paths_re': r'etc/opt/kaspersky/klnagent([^A-Za-z0-9-].*|64.*)?|etc/rc[0-6S]\.d/[SK]\d\dklnagent(64)?',
        'info': r'var/lib/dpkg/info/klnagent64(-[a-z0-9-]+)?(:[a-z0-9]+)?\.[a-z0-9]+',
        'program': 'opt/kaspersky/klnagent64',
        'units': ['usr/lib/systemd/system/klnagent64.service',
                  'etc/systemd/system/multi-user.target.wants/klnagent64.service',
                  'etc/init.d/klnagent64'],
        'bases': [],
        'folders': None,
    },
}

def under(path, prefixes):
    return any(path == p or path.startswith(p + '/') for p in prefixes)

def entry_times(e):
    return [t for t in e.times + [e.dtime] if t is not None]

def one(name, field, recs):
    """the single UTC time of the records that decide a field (ambiguity is a failure)"""
    if any(r.ambiguous for r in recs):
        bad('%s: %s depends on an ambiguous local time' % (name, field))
    return min(t for r in recs for t in r.times)

ANSWER_ROOTS = ('root/', 'home/', 'tmp/', 'var/tmp/', 'opt/')
ANSWER_FIXED = ('etc/opt/kaspersky/', 'var/opt/kaspersky/kesl/', 'var/opt/kaspersky/kesl/common/')

def answer_files(entries):
    """KESL answer files by content (README.md): (path, mtime, 'enabled'|'disabled')"""
    out = []
    for path, e in sorted(entries.items()):
        if not e.allocated or e.kind != 'file' or e.data is None or len(e.data) > 65536:
            continue
        parent = path.rsplit('/', 1)[0] + '/' if '/' in path else ''
        deep = path.startswith(ANSWER_ROOTS) and path.count('/') - 1 <= 6 + 1
        if not (parent == '' or deep or parent in ANSWER_FIXED):
            continue
        if b'\0' in e.data:
            continue
        lines = e.data.decode('utf-8', 'replace').split('\n')
        if not all(re.fullmatch(r'[ \t\r]*(#.*)?|[ \t\r]*[A-Za-z_][A-Za-z0-9_]*[ \t]*=.*', l, re.S)
                   for l in lines):
            continue
        if not any(re.match(r'\s*EULA_AGREED\s*=', l, re.I) for l in lines):
            continue
        for l in lines:
            m = re.fullmatch(r'\s*USE_KSN\s*=\s*"?(\w+)"?\s*', l, re.I)
            if m and m.group(1).lower() in ('yes', 'true', '1', 'no', 'false', '0'):
                out.append((path, e.times[1],
                            'enabled' if m.group(1).lower() in ('yes', 'true', '1') else 'disabled'))
    return out

SAVED_FIXED = ('var/lib/check_mk_agent/cache/',)

def saved_files(entries, limit):
    """files where saved outputs are searched (README.md): (path, text)"""
    for path, e in sorted(entries.items()):
        if not e.allocated or e.kind != 'file' or e.data is None or len(e.data) > limit:
            continue
        parent = path.rsplit('/', 1)[0] + '/' if '/' in path else ''
        deep = path.startswith(ANSWER_ROOTS) and path.count('/') - 1 <= 6 + 1
        if parent == '' or deep or (limit == 65536 and parent in SAVED_FIXED):
            yield path, e.data.decode('utf-8', 'replace')

def saved_app_info(entries):
    """saved kesl-control --app-info outputs (as is, or Checkmk's ': ' -> '|'): (path, text)"""
    return [(p, t) for p, t in saved_files(entries, 65536)
            if re.search(r'^Name\s*[:|]\s*Kaspersky Endpoint Security', t, re.M | re.I)
            and re.search(r'^Version\s*[:|]', t, re.M | re.I)]

def saved_ksn(entries):
    """KSN state On|Off of a saved --app-info, UseKSN=Yes|No of a settings export (an ini file):
    (path, mtime, state)"""
    out = []
    for path, text in saved_files(entries, 65536):
        if not re.search(r'^Name\s*[:|]\s*Kaspersky Endpoint Security', text, re.M | re.I):
            continue
        m = re.search(r'^KSN state\s*[:|]\s*(On|Off)\s*$', text, re.M | re.I)
        if m:
            out.append((path, entries[path].times[1], 'enabled' if m.group(1).lower() == 'on' else 'disabled'))
    for path, text in saved_files(entries, 262144):
        lines = text.split('\n')
        if '\0' in text or not all(re.fullmatch(r'[ \t\r]*([#;].*)?|[ \t\r]*\[.+\][ \t\r]*|'
                                                r'[ \t\r]*[A-Za-z_][A-Za-z0-9_.]*[ \t]*=.*', l, re.S)
                                   for l in lines):
            continue
        for l in lines:
            m = re.fullmatch(r'\s*UseKSN\s*=\s*"?(\w+)"?\s*', l, re.I)
            if m and m.group(1).lower() in ('yes', 'true', '1', 'no', 'false', '0'):
                out.append((path, entries[path].times[1],
                            'enabled' if m.group(1).lower() in ('yes', 'true', '1') else 'disabled'))
    return out

def history_ksn(entries):
    """kesl-control KSN commands in shell histories: (path, time, state)"""
    out = []
    for path, e in sorted(entries.items()):
        if not (e.allocated and e.kind == 'file' and
                re.fullmatch(r'(root|home/[^/]+)/\.(bash_history|zsh_history|histfile)', path)):
            continue
        prev = ''
        for line in e.data.decode('utf-8', 'replace').splitlines():
            stamp, prev = re.fullmatch(r'#(\d{9,11})\s*', prev), line
            m = re.match(r': (\d+):\d+;(.*)$', line)
            cmd, t = (m.group(2), int(m.group(1)) * 10**9) if m else (line, e.times[1])
            if not m and stamp:         # bash's HISTTIMEFORMAT stamp on the line before
                t = int(stamp.group(1)) * 10**9
            if not m and re.match(r'\s*[:#]', line):
                continue
            if 'kesl-control' not in cmd:
                continue
            s = re.search(r'UseKSN=["\']?(\w+)', cmd, re.I)
            if '--accept-ksn' in cmd or (s and '--set-app-settings' in cmd
                                          and s.group(1).lower() in ('yes', 'true', '1')):
                out.append((path, t, 'enabled'))
            elif s and '--set-app-settings' in cmd and s.group(1).lower() in ('no', 'false', '0'):
                out.append((path, t, 'disabled'))
    return out

def ksn_from(entries):
    """the newest find decides; at a tie, on"""
    finds = answer_files(entries) + history_ksn(entries) + saved_ksn(entries)
    if not finds:
        return 'unknown'
    on = [t for _, t, k in finds if k == 'enabled']
    off = [t for _, t, k in finds if k == 'disabled']
    return 'enabled' if on and (not off or max(on) >= max(off)) else 'disabled'

def groups_time(entries):
    e = entries.get('etc/group')
    if e and e.allocated and re.search(rb'^(kesladmin|kesluser|keslaudit|nokesl):', e.data, re.M):
        return e.times[1]
    return None

def derive_linux(name, entries, recs):
    status_db = dpkg_status(entries)
    products = {}
    for pid, p in LINUX_PRODUCTS.items():
        prec = [r for r in recs if r.pkg and re.fullmatch(p['pkg'], r.pkg)]
        pent = [e for path, e in entries.items() if under(path, p['paths']) or re.fullmatch(p['info'], path)
                or re.fullmatch(p['paths_re'], path)]
        created = [e.times[0] for path, e in entries.items()
                   if path in p['created'] or (p['created_re'] and re.fullmatch(p['created_re'], path))]
        extra = []      # finds of the product outside its folders, each with its one time
        if pid == 'kaspersky-kesl':
            extra = [t for _, t, _ in answer_files(entries) + history_ksn(entries) + saved_ksn(entries)]
            if groups_time(entries) is not None:
                extra.append(groups_time(entries))
        extra += created
        if not prec and not pent and not extra:
            continue
        f = {}
        versions = {}
        def see(v, t):
            if v not in versions or t < versions[v]:
                versions[v] = t
        for r in prec:
            for v in r.versions:
                see(v, min(r.times))
        for pkg in status_db:
            if re.fullmatch(p['pkg'], pkg):
                see(status_db[pkg]['Version'], entries['var/lib/dpkg/status'].times[1])
        for path, e in entries.items():
            m = re.match(p['folders'], path) if p['folders'] else None
            if m and e.kind == 'dir':
                see(m.group(1), e.times[0])
        newest = max(versions, key=vkey) if versions else None
        f['version'] = newest or 'null'
        inst = [r for r in prec if r.action in ('install', 'rpmdb')]
        released = [r for r in prec if r.action == 'bases']   # saved outputs' release dates
        f['installed'] = one(name, 'installed', inst) if inst else \
            (min(e.times[0] for e in pent if e.kind == 'dir') if pent else None)
        alltimes = [t for r in prec for t in r.times] + [t for e in pent for t in entry_times(e)] + extra
        f['first_seen'] = min(alltimes) if alltimes else None
        bases = [e.times[1] for path, e in entries.items() if under(path, p['bases']) and e.kind == 'file']
        if any(r.ambiguous for r in released):
            bad('%s: last_signature_update depends on an ambiguous local time' % name)
        bases += [min(r.times) for r in released]
        f['last_signature_update'] = max(bases) if bases else None
        if len({vkey(v) for v in versions}) >= 2:
            # the last update record, or the first sighting of the newest version when later
            sightings = [r for r in prec if newest in r.versions]
            t_rec = one(name, 'last_codebase_update', sightings) if sightings else None
            first = min(x for x in (t_rec, versions[newest]) if x is not None)
            ups = [r for r in prec if r.action == 'upgrade']
            if any(r.ambiguous for r in ups):
                bad('%s: last_codebase_update depends on an ambiguous local time' % name)
            f['last_codebase_update'] = max([first] + [min(r.times) for r in ups])
        else:
            f['last_codebase_update'] = None
        registered = (any(v.get('Status') == 'install ok installed' for k, v in status_db.items()
                          if re.fullmatch(p['pkg'], k))
                      or any(r.action == 'rpmdb' for r in prec)
                      or any(entries.get(u) is not None and entries[u].allocated for u in p['units']))
        prog = resolve(entries, p['program']) or p['program']   # a link counts as its folder
        program = any(e.allocated and e.kind == 'file' and under(path, [prog])
                      for path, e in entries.items())
        left = any(e.allocated for e in pent)
        f['status'] = 'present' if registered and program else 'residue' if left else 'removed'
        rem = [r for r in prec if r.action in ('remove', 'purge')]
        if f['status'] == 'present':
            f['removed'], f['removal_method'] = None, 'null'
        elif rem:
            f['removed'], f['removal_method'] = one(name, 'removed', rem), 'package'
        else:
            f['removed'], f['removal_method'] = None, 'unknown'
        # nothing shows the Network Agent's KSN: unknown (docs/findings.md: per product)
        f['ksn'] = ksn_from(entries) if pid == 'kaspersky-kesl' else 'unknown'
        products[pid] = f
    return products

# macOS: which product a record or a path is. The Network Agent's package ids are
# com.kaspersky.klnagent.*, its folder Application Support/Kaspersky Lab/klnagent;
# every other Kaspersky record and file is Kaspersky for Mac's (a /tmp file that
# names no product, klinstalltype, joins it as the primary product).
MAC_KLNAGENT = 'kaspersky-klnagent'
MAC_KAV = 'kaspersky-mac'
MAC_SUPPORT = 'Library/Application Support/Kaspersky Lab/'
MAC_TMP_RUN = ['private/tmp/com.kaspersky.kav.autoupdater.plist', 'private/tmp/kav_downloader.log']
MAC_TMP = MAC_TMP_RUN + ['private/tmp/klinstalltype']

def mac_product_of_ids(ids, display=''):
    if any(x.startswith('com.kaspersky.klnagent') for x in ids) or 'Network Agent' in display:
        return MAC_KLNAGENT
    if any(x.startswith('com.kaspersky.') for x in ids) or display.startswith('Kaspersky'):
        return MAC_KAV
    return None

def mac_product_of_path(path):
    if under(path, [MAC_SUPPORT + 'klnagent']):
        return MAC_KLNAGENT
    m = re.fullmatch(r'(?:Users/[^/]+/)?Library/Launch(?:Daemons|Agents)/(com\.kaspersky\.[^/]*)\.plist', path)
    if m:
        return MAC_KLNAGENT if m.group(1).startswith('com.kaspersky.klnagent') else MAC_KAV
    m = re.fullmatch(r'private/var/db/receipts/(com\.kaspersky\.[^/]*)\.(?:plist|bom)', path)
    if m:
        return mac_product_of_ids([m.group(1)])
    if under(path, [MAC_SUPPORT + 'KAV']) or path in MAC_TMP or \
            re.fullmatch(r'Applications/Kaspersky[^/]*\.app(/.*)?', path):
        return MAC_KAV
    # what Kaspersky for Mac leaves in caches, a user's preferences and the staged
    # system extension (RW M6)
    if re.fullmatch(r'(?:Users/[^/]+/)?Library/Caches/com\.kaspersky\.kav[^/]*(/.*)?', path) or \
            re.fullmatch(r'Users/[^/]+/Library/Preferences/com\.kaspersky\.kav[^/]*\.plist', path) or \
            re.fullmatch(r'Library/SystemExtensions/[^/]+/com\.kaspersky\.[^/]*(/.*)?', path):
        return MAC_KAV
    return None

def derive_macos(name, entries, zone, planted):
    recs = {MAC_KAV: [], MAC_KLNAGENT: []}
    names = {}
    ih = entries.get('Library/Receipts/InstallHistory.plist')
    if ih is not None:
        for i, item in enumerate(plistlib.loads(ih.data)):
            t = ns_of(item['date'].replace(tzinfo=UTC))
            what = 'InstallHistory.plist[%d] %s %s' % (i, item['displayName'], item['displayVersion'])
            planted.setdefault(t, []).append(what)
            pid = mac_product_of_ids(item.get('packageIdentifiers', []), item['displayName'])
            if pid:
                recs[pid].append(Rec([t], what, pid, 'install', [item['displayVersion']]))
                if pid not in names or t < names[pid][0]:
                    names[pid] = (t, item['displayName'])
    for path, e in entries.items():
        if re.fullmatch(r'private/var/db/receipts/[^/]+\.plist', path):
            pl = plistlib.loads(e.data)
            t = ns_of(pl['InstallDate'].replace(tzinfo=UTC))
            what = '%s InstallDate (%s %s)' % (path, pl['PackageIdentifier'], pl['PackageVersion'])
            planted.setdefault(t, []).append(what)
            pid = mac_product_of_ids([pl['PackageIdentifier']])
            if pid:
                recs[pid].append(Rec([t], what, pid, 'seen', [pl['PackageVersion']]))
    log = entries.get(resolve(entries, 'var/log/install.log') or '')
    if log is not None:
        for ln, line in enumerate(log.data.decode('utf-8', 'replace').splitlines(), 1):
            m = re.match(r'(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)([+-])(\d\d) (\S+) (.*)$', line)
            if not m:
                continue
            y, mo, d, h, mi, s = map(int, m.groups()[:6])
            off = (1 if m.group(7) == '+' else -1) * int(m.group(8)) * 60
            t = ns_of(dt.datetime(y, mo, d, h, mi, s, tzinfo=dt.timezone(dt.timedelta(minutes=off))))
            what = 'install.log:%d "%s"' % (ln, line)
            check([t] == local_to_utc(zone, dt.datetime(y, mo, d, h, mi, s)),
                  '%s: install.log:%d offset %s%s agrees with the zone file' % (name, ln, m.group(7), m.group(8)))
            planted.setdefault(t, []).append(what + ', ' + offset_text(zone, t))
            if 'Kaspersky' in m.group(10):
                # installd's real wording (RW M4): `Installed "NAME" (VERSION)`, the
                # version in bare parentheses, empty when there is none; the
                # uninstaller's invented line is written the same way
                vm = re.fullmatch(r'[^\[]*\[\d+\]: (?:Installed|.*Uninstalled) "(Kaspersky[^"]*)" \(([^()"]*)\)',
                                  m.group(10))
                if not check(vm is not None, "%s: install.log:%d is in installd's wording" % (name, ln)):
                    continue
                act = 'remove' if re.search(r'Uninstall', m.group(10)) else 'seen'
                pid = mac_product_of_ids([], vm.group(1))
                recs[pid].append(Rec([t], what, pid, act, [vm.group(2)] if vm.group(2) else []))
    products = {}
    for pid in (MAC_KAV, MAC_KLNAGENT):
        pent = [e for path, e in entries.items() if mac_product_of_path(path) == pid]
        prec = recs[pid]
        if not prec and not pent:
            continue
        f = {}
        versions = {}
        for r in prec:
            for v in r.versions:
                versions[v] = min(versions.get(v, r.times[0]), r.times[0])
        newest = max(versions, key=vkey) if versions else None
        f['version'] = newest or 'null'
        if pid in names:
            f['name'] = names[pid][1]
        inst = [r for r in prec if r.action == 'install']
        f['installed'] = min(r.times[0] for r in inst) if inst else None
        f['first_seen'] = min([r.times[0] for r in prec] + [e.times[0] for e in pent])
        bases = [e.times[0] for path, e in entries.items()
                 if under(path, [MAC_SUPPORT + 'KAV/Bases']) and e.kind == 'file' and pid == MAC_KAV]
        f['last_signature_update'] = max(bases) if bases else None
        f['last_codebase_update'] = versions[newest] if len(versions) >= 2 else None
        # registered: a launchd job or a package receipt; program files: the app
        # bundle or the Binaries folder's files
        registered = any(re.search(r'Library/Launch(Daemons|Agents)/|^private/var/db/receipts/.*\.plist$', e.path)
                         for e in pent)
        program = any(re.fullmatch(r'Applications/Kaspersky[^/]*\.app', e.path) or
                      (e.kind == 'file' and re.match(re.escape(MAC_SUPPORT) + r'[^/]+/Binaries/', e.path))
                      for e in pent)
        f['status'] = 'present' if registered and program else 'residue' if pent else 'removed'
        rem = [r for r in prec if r.action == 'remove']
        if f['status'] == 'present':
            f['removed'], f['removal_method'] = None, 'null'
        elif rem:
            f['removed'] = min(r.times[0] for r in rem)
            f['removal_method'] = 'uninstaller' if any('Uninstaller' in r.what for r in rem) else 'unknown'
        else:
            f['removed'], f['removal_method'] = None, 'unknown'
        f['ksn'] = 'unknown'
        # at work: the updater's and the downloader's files in /tmp
        runs = [e.times[0] for e in pent if e.path in MAC_TMP_RUN]
        f['last_execution'] = max(runs) if runs else None
        products[pid] = f
    return products

# Kaspersky CyberTrace (white-label.md §4): exempt (threat intelligence), so
# listed with its facts and never a subject of the verdicts. Installed = its
# folder's or unit's creation (the earlier); first seen = the earliest time of
# its folder, unit, programs and configs; present while folder and unit are;
# feeds are updates, never signature updates.
CYBERTRACE_UNITS = ['etc/systemd/system/cybertrace.service', 'lib/systemd/system/cybertrace.service',
                    'usr/lib/systemd/system/cybertrace.service']
def derive_exempt(entries):
    ktfs = entries.get('opt/kaspersky/ktfs')
    units = [entries[u] for u in CYBERTRACE_UNITS if u in entries]
    if ktfs is None and not units:
        return {}
    times = ([ktfs.times[0]] if ktfs else []) + [u.times[0] for u in units]
    seen = list(times)
    for path, e in entries.items():
        if path == 'opt/kaspersky/ktfs/bin/kl_feed_service' or \
           re.fullmatch(r'opt/kaspersky/ktfs/etc/kl_feed_(util|info).*\.conf', path) or \
           re.fullmatch(r'opt/kaspersky/ktfs/(var/)?feeds/[^/]*_Data_Feed[^/]*', path):
            seen.append(e.times[1])
    present = ktfs is not None and bool(units)
    return {'kaspersky-cybertrace': {
        'version': None, 'installed': min(times), 'first_seen': min(seen),
        'last_signature_update': None, 'last_codebase_update': None,
        'status': 'present' if present else 'residue', 'removed': None,
        'removal_method': None if present else 'unknown',
        'coverage': 'exempt', 'exemption': 'threat-intelligence'}}

# Kaspersky Scan Engine (white-label.md §3.1): a covered product (the engine and
# its bases), installed = its folder's creation, registered by its systemd unit,
# signatures dated by the bases' update index root Date; and Kaspersky code for
# other products: an integration (host: its folder's name) with the programs'
# mtimes and the index date. Other vendors' /opt/<vendor> trees with SDK files or
# an index are integrations too.
SE = 'opt/kaspersky/ScanEngine'
SE_UNITS = ['%s/systemd/system/%s.service' % (d, u) for d in ('etc', 'lib', 'usr/lib')
            for u in ('kavhttpd', 'kavicapd')]
def index_date(e):
    m = re.search(rb'<Update\b[^>]*\bDate="(\d\d)(\d\d)(\d{4}) (\d\d)(\d\d)"', e.data or b'')
    if not m:
        return None
    d, mo, y, h, mi = map(int, m.groups())
    return ns_of(dt.datetime(y, mo, d, h, mi, tzinfo=UTC))

def derive_white_label(entries, planted):
    products, integ = {}, {}
    def add(host, folder, marker, t, bases=None):
        g = integ.setdefault(host, {'folder': folder, 'markers': set(), 'first': None, 'bases': None})
        g['markers'].add(marker)
        g['first'] = t if g['first'] is None else min(g['first'], t)
        if bases is not None:
            g['bases'] = bases if g['bases'] is None else max(g['bases'], bases)
    for path, e in sorted(entries.items()):
        base = path.split('/')[-1]
        m = re.match(r'opt/([^/]+)/', path)
        if e.kind != 'file' or not m:
            continue
        host, folder = ('ScanEngine', SE) if path.startswith(SE + '/') else \
            (None, None) if m.group(1).lower().startswith('kaspersky') else (m.group(1), 'opt/' + m.group(1))
        if host is None:
            continue
        if base in ('kavhttpd', 'kavicapd', 'appinfo.kli', 'kavehost') and \
                (host != 'ScanEngine' or path == SE + '/bin/' + base):
            add(host, folder, base, e.times[1])
        elif base in ('u0607g.xml', 'u1313g.xml') and index_date(e) is not None:
            t = index_date(e)
            planted.setdefault(t, []).append('u*.xml root Date %s' % path)
            add(host, folder, base, t, t)
    folder = entries.get(SE)
    if folder is not None:
        units = [entries[u] for u in SE_UNITS if u in entries]
        idx = [index_date(e) for p, e in entries.items()
               if re.fullmatch(SE + r'/bin/bases/u(0607|1313)g\.xml', p) and index_date(e) is not None]
        seen = [folder.times[0]] + [u.times[0] for u in units] + idx
        products['kaspersky-scan-engine'] = {
            'version': None, 'installed': folder.times[0], 'first_seen': min(seen),
            'last_signature_update': max(idx) if idx else None, 'last_codebase_update': None,
            'status': 'present' if units else 'residue', 'removed': None,
            'removal_method': None if units else 'unknown', 'ksn': 'unknown',
            'name': 'Kaspersky Scan Engine', 'coverage': 'covered'}
    return products, integ

def derive_verdicts(products):
    tv = lambda b: 'true' if b else 'false'
    kas = list(products.values())
    v = {'kaspersky_ever_installed': tv(kas),
         'kaspersky_present_at_acquisition': tv(any(p['status'] == 'present' for p in kas)),
         'migrated_to_ultraav': 'false'}
    inst = [p['installed'] for p in kas]
    v['installed_after_sales_ban'] = 'null' if None in inst else tv(any(i >= SALES_BAN for i in inst))
    def past_cutoff(p):     # installed at or after the cutoff
        return p['status'] == 'present' or (p['removed'] is not None and p['removed'] >= CUTOFF)
    sigs = [p['last_signature_update'] for p in kas if p['last_signature_update'] is not None]
    if any(s >= CUTOFF for s in sigs):
        v['signature_update_after_cutoff'] = 'true'
    elif any(past_cutoff(p) and p['last_signature_update'] is None for p in kas):
        v['signature_update_after_cutoff'] = 'null'
    else:
        v['signature_update_after_cutoff'] = 'false'
    v['codebase_update_after_cutoff'] = tv(any(p['last_codebase_update'] is not None
                                               and p['last_codebase_update'] >= CUTOFF for p in kas))
    ksn = 'false'
    for p in kas:
        k = p.get('ksn')
        if k is None:
            continue
        if past_cutoff(p) and k == 'enabled':
            ksn = 'true'
        elif past_cutoff(p) and k == 'unknown' and ksn != 'true':
            ksn = 'null'
    v['ksn_after_cutoff'] = ksn
    if not kas:
        v['removed_before_cutoff'] = 'null'
    elif any(p['status'] != 'present' and p['removed'] is None for p in kas):
        v['removed_before_cutoff'] = 'null'
    else:
        v['removed_before_cutoff'] = tv(all(p['removed'] is not None and p['removed'] < CUTOFF for p in kas))
    return v

# ---- per scenario ---------------------------------------------------------------------------
VERDICTS = ['kaspersky_ever_installed', 'kaspersky_present_at_acquisition', 'installed_after_sales_ban',
            'signature_update_after_cutoff', 'codebase_update_after_cutoff', 'ksn_after_cutoff',
            'removed_before_cutoff', 'migrated_to_ultraav']
WHITE_LABEL = 'kaspersky_code_in_other_products'   # optional in a scenario's truth
FIELDS = ['version', 'installed', 'first_seen', 'last_signature_update', 'last_codebase_update',
          'status', 'removed', 'removal_method']
OPTIONAL = ['ksn', 'last_ksn_evidence', 'last_execution', 'name', 'coverage', 'exemption']
EXEMPT = ['kaspersky-cybertrace']
TIME_FIELDS = ['installed', 'first_seen', 'last_signature_update', 'last_codebase_update', 'removed',
               'last_execution']

for name in names:
    sd = os.path.join(scen_dir, name)
    print('== ' + name)
    planted = {}
    linux = os.path.isfile(os.path.join(sd, 'ext4.tsv'))
    if linux:
        raw = os.path.join(out, name + '.raw')
        if not check(os.path.isfile(raw), name + ': ' + raw + ' exists'):
            continue
        mm = run('mmls', raw)
        parts = re.findall(r'^\d+:\s+\d+:\d+\s+(\d+)\s+(\d+)\s+(\d+)\s+(.*)$', mm, re.M)
        check(parts == [('0000002048', '0000067583', '0000065536', 'Linux (0x83)')],
              name + ': MBR with one Linux partition at sector 2048 %s' % parts)
        e01 = os.path.join(out, name + '.E01')
        check(os.path.isfile(e01) and os.path.isfile(os.path.join(out, name + '.E02')) and
              subprocess.run(['ewfverify', '-q', e01], capture_output=True).returncode == 0,
              name + ': split E01 verifies (ewfverify)')
        for fmt_, ext in (('vpc', 'vhd'), ('vmdk', 'vmdk')):
            r = subprocess.run(['qemu-img', 'compare', '-q', '-f', 'raw', '-F', fmt_, raw,
                                os.path.join(out, name + '.' + ext)], capture_output=True)
            check(r.returncode == 0, '%s: %s.%s holds the same disk (qemu-img compare)' % (name, name, ext))
        rows = read_manifest(os.path.join(sd, 'ext4.tsv'), 7)
        entries = ext4_entries(name, sd, raw, rows)
    else:
        tree = os.path.join(out, name + '.tree')
        if not check(os.path.isdir(tree), name + ': ' + tree + ' exists'):
            continue
        rows = read_manifest(os.path.join(sd, 'tree.tsv'), 4)
        entries = tree_entries(name, sd, tree, rows)
    for e in entries.values():
        for lab, t in zip(('crtime', 'mtime', 'ctime', 'atime') if linux else ('mtime',), e.times):
            planted.setdefault(t, []).append('%s %s' % (lab, e.path))
        if e.dtime is not None:
            planted.setdefault(e.dtime, []).append('dtime %s' % e.path)

    # ---- system: hostname and zone, from the image ---------------------------------------
    lt = resolve(entries, 'etc/localtime', follow_last=False)
    link = entries.get(lt) if lt else None
    zname = None
    if check(link is not None and link.kind == 'symlink', name + ': etc/localtime is a link'):
        m = re.search(r'/zoneinfo(?:\.default)?/(.+)$', link.target)
        zname = m.group(1) if m else None
    zfile = resolve(entries, 'etc/localtime')
    zone = None
    if check(zfile is not None and entries[zfile].kind == 'file' and entries[zfile].data.startswith(b'TZif'),
             '%s: etc/localtime resolves inside the image to a TZif file (%s)' % (name, zfile)):
        zone = ZoneInfo.from_file(io.BytesIO(entries[zfile].data), key=zname)
    if linux:
        host = entries['etc/hostname'].data.decode().strip()
        if 'etc/timezone' in entries:
            check(entries['etc/timezone'].data.decode().strip() == zname,
                  name + ': etc/timezone agrees with the etc/localtime link')
    else:
        pref = plistlib.loads(entries['Library/Preferences/SystemConfiguration/preferences.plist'].data)
        host = pref['System']['Network']['HostNames']['LocalHostName']

    # ---- records and the rules -----------------------------------------------------------
    if linux:
        recs, amb = linux_records(name, entries, zone, planted)
        if amb:
            print('note %s: %d log lines in a repeated hour (ambiguous local time; both instants '
                  'planted, no expected time depends on them), e.g. %s' % (name, len(amb), amb[0]))
        derived = derive_linux(name, entries, recs)
    else:
        derived = derive_macos(name, entries, zone, planted)
    integ = {}
    if linux:
        se_products, integ = derive_white_label(entries, planted)
        derived.update(se_products)
    dverdicts = derive_verdicts(derived)
    if linux:
        derived.update(derive_exempt(entries))

    # ---- expected.tsv --------------------------------------------------------------------------
    exp, order = {}, []
    for n, line in enumerate(open(os.path.join(sd, 'expected.tsv'), encoding='utf-8'), 1):
        line = line.rstrip('\n')
        if not line or line.startswith('#'):
            continue
        f = line.split('\t')
        if f[0] == 'event':    # event ARTIFACT TIME [PRODUCT [VERSION]]: a planted time too
            if check(3 <= len(f) <= 5, '%s: expected.tsv:%d event row has 3 to 5 fields' % (name, n)):
                t = parse_iso(f[2])
                check(t in planted, '%s: expected.tsv:%d event %s %s <- %s'
                      % (name, n, f[1], f[2], '; '.join(planted.get(t, ['NOT PLANTED']))))
            continue
        if not check(len(f) == 3, '%s: expected.tsv:%d has 3 fields' % (name, n)):
            continue
        if (f[0], f[1]) in exp:
            bad('%s: expected.tsv:%d duplicate %s %s' % (name, n, f[0], f[1]))
        exp[(f[0], f[1])] = f[2]
        order.append((n, f))
    listed = sorted({s for s, _ in exp if s.startswith('product:')})
    # the verdicts are over the covered products; an exempt one says so
    products = [p for p in listed if p[8:] not in EXEMPT]
    for p in listed:
        if p[8:] in EXEMPT:
            check(exp.get((p, 'coverage')) == 'exempt' and exp.get((p, 'exemption')) == 'threat-intelligence',
                  '%s: %s coverage exempt (threat-intelligence)' % (name, p))
        else:
            check(exp.get((p, 'coverage'), 'covered') == 'covered', '%s: %s coverage covered' % (name, p))
    check(all(exp.get(('verdict', v)) in ('true', 'false', 'null') for v in VERDICTS)
          and len([1 for s, v in exp if s == 'verdict' and v != WHITE_LABEL]) == 8,
          name + ': the eight verdicts')
    check(all(p[8:] in ('kaspersky-kesl', 'kaspersky-klnagent', 'kaspersky-mac', 'kaspersky-scan-engine')
              + tuple(EXEMPT) for p in listed),
          name + ': product ids %s' % listed)
    check(all((p, fl) in exp for p in listed for fl in FIELDS)
          and all(s in ('system', 'verdict', 'migration', 'timeline') or s in listed
                  or s.startswith('integration:') for s, _ in exp)
          and all(fl in FIELDS + OPTIONAL for s, fl in exp if s in listed),
          name + ': every product field, no other')
    check(exp.get(('system', 'os')) == ('linux' if linux else 'macos'), name + ': system os')
    check(exp.get(('system', 'hostname')) == host, name + ': hostname %s (image: %s)' % (exp.get(('system', 'hostname')), host))
    check(exp.get(('system', 'timezone')) == zname, name + ': timezone %s (image: %s)' % (exp.get(('system', 'timezone')), zname))
    check(exp.get(('migration', 'to')) == 'null' and exp.get(('migration', 'time')) == 'null',
          name + ': no migration')
    for p in listed:
        check(exp[(p, 'status')] in ('present', 'removed', 'residue'), '%s: %s status' % (name, p))
        check(exp[(p, 'removal_method')] in ('package', 'uninstaller', 'unknown', 'null'),
              '%s: %s removal_method' % (name, p))
        check((exp[(p, 'removed')] == 'null') == (exp[(p, 'status')] == 'present')
              and (exp[(p, 'removal_method')] == 'null') == (exp[(p, 'status')] == 'present'),
              '%s: %s removed/removal_method null exactly when present' % (name, p))
        for fl in TIME_FIELDS:
            if exp.get((p, fl), 'null') != 'null' and fl != 'first_seen' and exp[(p, 'first_seen')] != 'null':
                check(parse_iso(exp[(p, 'first_seen')]) <= parse_iso(exp[(p, fl)]),
                      '%s: %s first_seen <= %s' % (name, p, fl))

    # every time is planted
    for n, (scope, field, value) in order:
        if re.fullmatch(r'\d{4}-.*Z', value):
            t = parse_iso(value)
            check(t in planted, '%s: expected.tsv:%d %s %s = %s <- %s'
                  % (name, n, scope, field, value, '; '.join(planted.get(t, ['NOT PLANTED']))))

    # verdicts vs the expected product fields (as for Windows)
    V = {v: exp.get(('verdict', v)) for v in VERDICTS}
    tv = lambda b: 'true' if b else 'false'
    check(V['kaspersky_ever_installed'] == tv(products), name + ': kaspersky_ever_installed vs products')
    check(V['kaspersky_present_at_acquisition'] == tv(any(exp[(p, 'status')] == 'present' for p in products)),
          name + ': kaspersky_present_at_acquisition vs statuses')
    inst = [exp[(p, 'installed')] for p in products]
    if 'null' not in inst:
        check(V['installed_after_sales_ban'] == tv(any(parse_iso(i) >= SALES_BAN for i in inst)),
              name + ': installed_after_sales_ban vs installed')
    sigs = [parse_iso(exp[(p, 'last_signature_update')]) for p in products
            if exp[(p, 'last_signature_update')] != 'null']
    if sigs or not products:
        check(V['signature_update_after_cutoff'] == tv(any(s >= CUTOFF for s in sigs)),
              name + ': signature_update_after_cutoff vs last_signature_update')
    cbs = [parse_iso(exp[(p, 'last_codebase_update')]) for p in products if exp[(p, 'last_codebase_update')] != 'null']
    check(V['codebase_update_after_cutoff'] == tv(any(c >= CUTOFF for c in cbs)),
          name + ': codebase_update_after_cutoff vs last_codebase_update')
    if products:
        removed = [exp[(p, 'removed')] for p in products]
        gone = [exp[(p, 'removed')] for p in products if exp[(p, 'status')] != 'present']
        want = 'null' if 'null' in gone else \
            tv(all(r != 'null' and parse_iso(r) < CUTOFF for r in removed))
        check(V['removed_before_cutoff'] == want, name + ': removed_before_cutoff vs removed')
    else:
        check(V['removed_before_cutoff'] == 'null', name + ': removed_before_cutoff null (never installed)')
    check(V['migrated_to_ultraav'] == 'false', name + ': migrated_to_ultraav false (no UltraAV)')

    # the expected findings = the rules applied to the image
    check(sorted('product:' + p for p in derived) == listed,
          '%s: products found by the rules %s = expected %s' % (name, sorted(derived), listed))
    for pid, f in derived.items():
        p = 'product:' + pid
        if p not in listed:
            continue
        for fl, val in f.items():
            got = fmt(val) if fl in TIME_FIELDS and val is not None else ('null' if val is None else val)
            want = exp.get((p, fl), '(absent)')
            same = got == want or (fl in TIME_FIELDS and got != 'null' and want not in ('null', '(absent)')
                                   and parse_iso(want) == val)
            check(same, '%s: %s %s by the rules = %s (expected %s)' % (name, pid, fl, got, want))
    for v in VERDICTS:
        check(dverdicts[v] == V[v], '%s: verdict %s by the rules = %s (expected %s)' % (name, v, dverdicts[v], V[v]))
    # integrations: hosts, folders, markers, first seen, bases date
    hosts = sorted({s[12:] for s, _ in exp if s.startswith('integration:')})
    check(hosts == sorted(integ), '%s: integrations %s (image: %s)' % (name, hosts, sorted(integ)))
    for h, g in integ.items():
        sc = 'integration:' + h
        check(exp.get((sc, 'folder')) == g['folder'], '%s: %s folder' % (name, sc))
        check(set(exp.get((sc, 'markers'), '').split(',')) == g['markers'],
              '%s: %s markers (image: %s)' % (name, sc, sorted(g['markers'])))
        check(exp.get((sc, 'first_seen'), 'null') != 'null' and parse_iso(exp[(sc, 'first_seen')]) == g['first'],
              '%s: %s first_seen' % (name, sc))
        lb = exp.get((sc, 'last_bases_update'), 'null')
        check((lb == 'null') == (g['bases'] is None) and (lb == 'null' or parse_iso(lb) == g['bases']),
              '%s: %s last_bases_update' % (name, sc))
        check(exp.get((sc, 'bases_updated_after_cutoff')) ==
              ('true' if g['bases'] is not None and g['bases'] >= CUTOFF else 'false'),
              '%s: %s bases_updated_after_cutoff' % (name, sc))
    if ('verdict', WHITE_LABEL) in exp:
        check(exp[('verdict', WHITE_LABEL)] == ('true' if integ else 'false'),
              '%s: %s vs integrations' % (name, WHITE_LABEL))

print('check-unix-scenarios: %d passed, %d failed' % (passed, failed))
sys.exit(1 if failed else 0)
PY
