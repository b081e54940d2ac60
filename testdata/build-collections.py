#!/usr/bin/env python3
"""build-collections.py EVIDENCE_DIR

Builds triage collections of existing scenarios, the way the collectors lay
them out (../shared/reference/triage-collections.md), from the scenarios'
raw disks (read with The Sleuth Kit's fls/icat) and the times their
manifests planted. Everything is byte-identical from build to build (fixed
order, fixed times, gzip header time 0). It writes, under
EVIDENCE_DIR/collections/:

  kes-active.kape/         a KAPE target folder of the whole C: drive of
                           scenarios/kes-active.raw: C/<original paths>, the
                           copies' own times set to the collection time, and
                           <stamp>_CopyLog.csv with every file's original
                           created/modified/accessed time (7 fractional digits)
  kes-active.velociraptor.zip
                           a Velociraptor offline collection of a stock triage
                           (hives, user hives, event logs, Prefetch, Amcache;
                           no program folders, ProgramData, drivers or tasks)
                           under uploads/auto/C%3A/ and, for the event logs,
                           uploads/ntfs/%5C%5C.%5CC%3A/; each member carries
                           the extended-timestamp field (0x5455) with the
                           source's modified and accessed times; uploads.json,
                           log.json, client_info.json, collection_context.json
  kesl-ubuntu.uac.tar.gz   a UAC collection of the whole root of
                           scenarios-unix/kesl-ubuntu.raw: [root]/<path> for
                           regular files and symbolic links (no directory
                           entries, as UAC writes), uac.log, and
                           bodyfile/bodyfile.txt with every entry's four times

Ground truth: testdata/truth/collections.tsv (the facts are those of the
scenarios themselves: tests compare each collection's findings with its raw
disk's).
"""
import gzip
import io
import json
import os
import struct
import subprocess
import sys
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
SECTOR = 2048  # every scenario's partition starts at sector 2048


def iso_ns(s):
    """'2022-03-16T14:31:07.3287714Z' -> (seconds, nanoseconds)."""
    s = s.rstrip("Z")
    frac = ""
    if "." in s:
        s, frac = s.split(".", 1)
    date, clock = s.split("T")
    y, mo, d = (int(x) for x in date.split("-"))
    h, mi, se = (int(x) for x in clock.split(":"))
    import calendar
    sec = calendar.timegm((y, mo, d, h, mi, se, 0, 0, 0))
    ns = int((frac + "000000000")[:9]) if frac else 0
    return sec, ns


LINKS = {}  # symbolic link path -> target, from the manifests (icat gives
           # nothing for a fast symlink)


def manifest(path, cols):
    """path -> list of (sec, ns) for the named columns; '=' repeats the
    previous column's time."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            fields = line.split("\t")
            times, prev = [], None
            for c in cols:
                v = fields[c]
                t = prev if v == "=" else iso_ns(v)
                times.append(t)
                prev = t
            out[fields[1]] = times
            if fields[0] == "symlink":
                LINKS[fields[1]] = fields[-1]
    return out


def fls(image):
    """Allocated entries of the volume at SECTOR: (kind, address, path)."""
    text = subprocess.run(["fls", "-r", "-p", "-o", str(SECTOR), image], check=True,
                          capture_output=True, text=True).stdout
    out = []
    for line in text.splitlines():
        head, _, path = line.partition("\t")
        kind, addr = head.split(" ", 1)
        if addr.startswith("*") or "(realloc)" in addr:
            continue  # deleted
        addr = addr.rstrip(":")
        top = path.split("/", 1)[0]
        if top.startswith("$") or top in ("lost+found", "System Volume Information"):
            continue
        out.append((kind.split("/")[1], addr, path))
    return out


def icat(image, addr):
    return subprocess.run(["icat", "-o", str(SECTOR), image, addr], check=True,
                          capture_output=True).stdout


def kape_stamp_time(t):
    sec, ns = t
    import time
    tm = time.gmtime(sec)
    return time.strftime("%Y-%m-%d %H:%M:%S", tm) + ".%07d" % (ns // 100)


# --- KAPE ---------------------------------------------------------------------

COLLECTED = 1732702500  # 2024-11-27T10:15:00Z: when the copies were made


def build_kape(out, image, times):
    root = os.path.join(out, "kes-active.kape")
    os.makedirs(os.path.join(root, "C"))
    rows = []
    for kind, addr, path in fls(image):
        if ":" in path:
            continue  # a named stream: KAPE copies none of this scenario's
        dest = os.path.join(root, "C", path)
        if kind == "d":
            os.makedirs(dest, exist_ok=True)
            continue
        if kind != "r":
            continue
        data = icat(image, addr)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as f:
            f.write(data)
        t = times.get(path)
        created = kape_stamp_time(t[0]) if t else ""
        modified = kape_stamp_time(t[1]) if t else ""
        accessed = kape_stamp_time(t[3]) if t else ""
        import hashlib
        rows.append(["2024-11-27 10:15:00.0000000", "C:\\" + path.replace("/", "\\"),
                     "C\\" + path.replace("/", "\\"), str(len(data)),
                     hashlib.sha1(data).hexdigest().upper(), "False", created, modified,
                     accessed, "00:00:00.0001000"])
    # The copies' own times are the collection's, never the source's.
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for n in filenames + dirnames:
            os.utime(os.path.join(dirpath, n), (COLLECTED, COLLECTED), follow_symlinks=False)
    header = ["CopiedTimestamp", "SourceFile", "DestinationFile", "FileSize", "SourceFileSha1",
              "DeferredCopy", "CreatedOnUtc", "ModifiedOnUtc", "LastAccessedOnUtc",
              "CopyDuration"]

    def csv(fields):
        return ",".join('"%s"' % f.replace('"', '""') if ("," in f or '"' in f) else f
                        for f in fields)

    stamp = "2024-11-27T10_15_00_0000000"
    with open(os.path.join(root, stamp + "_CopyLog.csv"), "w", newline="") as f:
        f.write("\r\n".join(csv(r) for r in [header] + sorted(rows, key=lambda r: r[1])) + "\r\n")
    with open(os.path.join(root, stamp + "_ConsoleLog.txt"), "w", newline="") as f:
        f.write("KAPE version 1.3.0.2 Author: Eric Zimmerman\r\n"
                "Copied %d (Deduplicated: 0) files\r\n" % len(rows))
    for n in os.listdir(root):
        if n.endswith(".csv") or n.endswith(".txt"):
            os.utime(os.path.join(root, n), (COLLECTED, COLLECTED))
    os.utime(root, (COLLECTED, COLLECTED))


# --- Velociraptor --------------------------------------------------------------

STOCK = ("Windows/System32/config/", "Windows/System32/winevt/Logs/", "Windows/Prefetch/",
         "Windows/appcompat/Programs/")


def stock_target(path):
    low = path.lower()
    if any(low.startswith(p.lower()) for p in STOCK):
        return True
    parts = path.split("/")
    return len(parts) == 3 and parts[0] == "Users" and parts[2].lower() == "ntuser.dat"


def vr_escape(name):
    """Velociraptor >= 0.6.9: ? * : | < > % / \\ " escaped, and a leading or
    trailing dot or space."""
    out = "".join("%%%02X" % ord(c) if c in '?*:|<>%/\\"' else c for c in name)
    if out[:1] in (".", " "):
        out = "%%%02X" % ord(out[0]) + out[1:]
    if out[-1:] in (".", " "):
        out = out[:-1] + "%%%02X" % ord(out[-1])
    return out


def zip_add(z, name, data, mtime=None, atime=None):
    fixed = (2024, 11, 27, 10, 15, 0)
    if mtime is not None:
        import time
        fixed = time.gmtime(mtime)[:6]
    zi = zipfile.ZipInfo(name, date_time=fixed)
    zi.compress_type = zipfile.ZIP_DEFLATED
    zi.create_system = 3
    zi.external_attr = 0o100644 << 16
    if mtime is not None:
        zi.extra = struct.pack("<HHBll", 0x5455, 9, 3, mtime, atime)
    z.writestr(zi, data)


def build_velociraptor(out, image, times):
    path = os.path.join(out, "kes-active.velociraptor.zip")
    members, uploads = [], []
    for kind, addr, p in fls(image):
        if kind != "r" or ":" in p or not stock_target(p):
            continue
        data = icat(image, addr)
        comps = p.split("/")
        if p.lower().startswith("windows/system32/winevt/logs/"):
            member = "uploads/ntfs/" + vr_escape("\\\\.\\C:") + "/" + "/".join(
                vr_escape(c) for c in comps)
            vfs = "\\\\.\\C:\\" + p.replace("/", "\\")
            device = "\\\\.\\C:"
        else:
            member = "uploads/auto/" + vr_escape("C:") + "/" + "/".join(vr_escape(c) for c in comps)
            vfs = "C:\\" + p.replace("/", "\\")
            device = "C:"
        t = times[p]
        members.append((member, data, t[1][0], t[3][0]))
        uploads.append({"Timestamp": "2024-11-27T10:15:00Z", "started": "2024-11-27 10:15:00",
                        "vfs_path": vfs, "_Components": [device] + comps,
                        "file_size": len(data), "uploaded_size": len(data)})
    meta = [
        ("client_info.json", json.dumps({"Hostname": "FIN-WS042", "Fqdn": "FIN-WS042.corp.example",
                                         "OS": "windows", "LocalTZ": "Eastern Standard Time",
                                         "LocalTZOffset": -18000})),
        ("collection_context.json", json.dumps({"create_time": 1732702500000000000,
                                                "start_time": 1732702500000000000, "state": 2})),
        ("uploads.json", "".join(json.dumps(u) + "\n" for u in uploads)),
        ("log.json", "".join(json.dumps(line) + "\n" for line in [
            {"_ts": 1732702500, "level": "INFO",
             "message": "Starting collection of Windows.KapeFiles.Targets"},
            {"_ts": 1732702501, "level": "WARNING",
             "message": "Unable to open $Extend\\$UsnJrnl:$J: not found"},
            {"_ts": 1732702502, "level": "INFO", "message": "Collection complete"}])),
    ]
    with zipfile.ZipFile(path, "w") as z:
        for name, data, mt, at in sorted(members):
            zip_add(z, name, data, mt, at)
        for name, text in meta:
            zip_add(z, name, text.encode())


# --- UAC -------------------------------------------------------------------------

def build_uac(out, image, times):
    path = os.path.join(out, "kesl-ubuntu.uac.tar.gz")
    entries = fls(image)
    body, members = [], []
    for kind, addr, p in entries:
        t = times.get(p)
        if t is None:
            continue  # not planted (lost+found is skipped already)
        crt, mt, ct, at = t
        inode = addr.split("-")[0]
        data = (icat(image, addr) if kind == "r" else
                LINKS[p].encode() if kind == "l" else b"")
        mode = {"r": "-rw-r--r--", "d": "drwxr-xr-x", "l": "lrwxrwxrwx"}.get(kind, "----------")

        def f(x):
            return "%d.%09d0" % x

        body.append("0|/%s|%s|%s|0|0|%d|%s|%s|%s|%s" % (p, inode, mode, len(data), f(at), f(mt),
                                                         f(ct), f(crt)))
        if kind in ("r", "l"):
            members.append((kind, p, data, mt[0]))
    log = ("2024-11-20 15:00:00 +0000 INF UAC (Unix-like Artifacts Collector) 3.0.0\n"
           "2024-11-20 15:00:00 +0000 INF Mount point: /\n"
           "2024-11-20 15:00:01 +0000 INF Collecting bodyfile\n"
           "2024-11-20 15:00:09 +0000 INF Acquisition finished\n").encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        def add(name, data, mtime, kind="r"):
            ti = tarfile.TarInfo(name)
            ti.mtime = mtime
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = "root"
            if kind == "l":
                ti.type = tarfile.SYMTYPE
                ti.linkname = data.decode()
                ti.mode = 0o777
                tar.addfile(ti)
            else:
                ti.mode = 0o644
                ti.size = len(data)
                tar.addfile(ti, io.BytesIO(data))

        add("uac.log", log, 1732114809)
        add("bodyfile/bodyfile.txt", ("\n".join(body) + "\n").encode(), 1732114809)
        for kind, p, data, mt in sorted(members, key=lambda m: m[1]):
            add("[root]/" + p, data, mt, kind)
    with open(path, "wb") as fo:
        with gzip.GzipFile(filename="", mode="wb", fileobj=fo, mtime=0) as gz:
            gz.write(raw.getvalue())


def main():
    if len(sys.argv) != 2:
        print(__doc__.split("\n")[0], file=sys.stderr)
        return 2
    ev = os.path.abspath(sys.argv[1])
    out = os.path.join(ev, "collections")
    if os.path.exists(out):
        import shutil
        shutil.rmtree(out)
    os.makedirs(out)
    win = os.path.join(ev, "scenarios", "kes-active.raw")
    ntfs = manifest(os.path.join(HERE, "scenarios", "kes-active", "ntfs.tsv"), [2, 3, 4, 5])
    build_kape(out, win, ntfs)
    build_velociraptor(out, win, ntfs)
    lin = os.path.join(ev, "scenarios-unix", "kesl-ubuntu.raw")
    ext4 = manifest(os.path.join(HERE, "scenarios-unix", "kesl-ubuntu", "ext4.tsv"), [2, 3, 4, 5])
    build_uac(out, lin, ext4)
    return 0


if __name__ == "__main__":
    sys.exit(main())
