#!/usr/bin/env python3
"""check-rhel-disk.py DISK SCENARIO_DIR

Checks the RHEL-like disk of testdata/build-unix-scenarios.sh (build_rhel)
with readers that share no code with its builder or with kavtrace: each
volume is cut out of DISK (sparse copies, dd) and read with

  - sfdisk --json: the two GPT partitions where build_rhel puts them;
  - pvck --dump metadata (lvm2's own parser; nothing is activated, no
    device-mapper device is made) and vslvminfo (libvslvm): VG rhel, its LVs
    swap and root with the extents of testdata/linux-xfs/lvm.spec;
  - xfs_repair -n (no errors), xfs_db (superblock UUIDs, big timestamps on
    root and not on /boot, and every listed entry's four inode times to the
    nanosecond, its kind and link target) and fsxfsinfo -H (libfsxfs: the
    same set of paths, nothing more);

against testdata/linux-xfs/boot.tsv (/boot) and the scenario's ext4.tsv
(root: the same tree and times as its ext4 volume, lost+found left out).
Exit 0 when everything matches.
"""
import calendar
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def run(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def iso(t):
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z", t)
    assert m, t
    sec = calendar.timegm(__import__("time").strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    return sec, int((m.group(2) or "").ljust(9, "0"))


def manifest(path, with_source):
    rows = []
    for line in open(path):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        f = line.split("\t")
        kind, p = f[0], f[1]
        times = f[3:7] if with_source else f[2:6]
        target = f[2] if with_source else f[6]
        out, prev = [], None
        for t in times:
            t = prev if t == "=" else t
            out.append(iso(t))
            prev = t
        rows.append((kind, p, target, out))
    return rows


def cut(disk, start, length, out):
    run("dd", "if=" + disk, "of=" + out, "bs=1M", "iflag=skip_bytes,count_bytes",
        "skip=%d" % start, "count=%d" % length, "conv=sparse", "status=none")


def xfs_times(img, rows, label):
    cmds = []
    for _, p, _, _ in rows:
        cmds += ["-c", "path /" + ("" if p == "." else p),
                 "-c", "p core.mode core.atime.sec core.atime.nsec core.mtime.sec "
                       "core.mtime.nsec core.ctime.sec core.ctime.nsec v3.crtime.sec "
                       "v3.crtime.nsec"]
    out = run("xfs_db", "-r", *cmds, img, env=dict(os.environ, TZ="UTC", LC_ALL="C"))
    vals = re.findall(r"^(\S+) = (.*)$", out, re.M)
    per = 9
    assert len(vals) == per * len(rows), (label, len(vals), len(rows))
    for i, (kind, p, _, times) in enumerate(rows):
        v = dict(vals[per * i: per * (i + 1)])
        mode = int(v["core.mode"], 8)
        want_type = {"dir": 0o040000, "file": 0o100000, "symlink": 0o120000}[kind]
        assert mode & 0o170000 == want_type, (label, p, oct(mode))

        def sec(s):
            import time
            return calendar.timegm(time.strptime(s, "%a %b %d %H:%M:%S %Y"))
        got = [(sec(v["v3.crtime.sec"]), int(v["v3.crtime.nsec"])),
               (sec(v["core.mtime.sec"]), int(v["core.mtime.nsec"])),
               (sec(v["core.ctime.sec"]), int(v["core.ctime.nsec"])),
               (sec(v["core.atime.sec"]), int(v["core.atime.nsec"]))]
        assert got == times, (label, p, got, times)


def main():
    disk, scen = sys.argv[1], sys.argv[2]
    parts = json.loads(run("sfdisk", "--json", disk))["partitiontable"]["partitions"]
    assert [(p["start"], p["size"]) for p in parts] == [(2048, 614400), (616448, 770048)], parts
    spec = dict(l.strip().split("=", 1) for l in open(os.path.join(HERE, "lvm.spec"))
                if "=" in l and not l.startswith("#") and not l.startswith("lv="))
    lvs = [l.strip()[3:].split(":") for l in open(os.path.join(HERE, "lvm.spec"))
           if l.startswith("lv=")]
    ext = int(spec["extent_sectors"]) * 512
    pe = int(spec["pe_start_sectors"]) * 512
    with tempfile.TemporaryDirectory() as tmp:
        pv = os.path.join(tmp, "pv")
        cut(disk, 616448 * 512, 770048 * 512, pv)
        md = run("pvck", "--dump", "metadata", pv)
        assert re.search(r"^rhel \{", md, re.M), md[:200]
        for name, uuid, start, count in lvs:
            blk = re.search(r"^%s \{(.*?)\n\}\n" % name, md, re.M | re.S)
            assert blk and '"pv0", %s' % start in blk.group(1), (name, md)
            assert "extent_count = %s" % count in blk.group(1), name
        info = run("vslvminfo", pv)
        for name, uuid, start, count in lvs:
            m = re.search(r"Name:\s+%s\n.*?Size:\s+.*?\((\d+) bytes\).*?Data area offset:\s+\S+ \((\d+)\)"
                          % name, info, re.S)
            assert m and int(m.group(1)) == int(count) * ext and int(m.group(2)) == int(start) * ext, (
                name, info)
        checks = [("boot", 2048 * 512, 614400 * 512, manifest(os.path.join(HERE, "boot.tsv"), True),
                   False),
                  ("root", None, None, None, True)]
        root_lv = [l for l in lvs if l[0] == "root"][0]
        rows = [r for r in manifest(os.path.join(scen, "ext4.tsv"), False) if r[1] != "lost+found"]
        conf = dict(l.rstrip("\n").split("\t", 1) for l in open(os.path.join(scen, "disk.conf")))
        rows.insert(0, ("dir", ".", "-", [iso(t) for t in conf["root"].split()]))
        checks[1] = ("root", 616448 * 512 + pe + int(root_lv[2]) * ext, int(root_lv[3]) * ext, rows,
                     True)
        for label, start, length, rows, bigtime in checks:
            img = os.path.join(tmp, label)
            cut(disk, start, length, img)
            subprocess.run(["xfs_repair", "-n", "-f", img], check=True, capture_output=True)
            feat = run("xfs_db", "-r", "-c", "sb 0", "-c", "p features_incompat", img)
            big = bool(int(feat.split("=")[1], 16) & 8)
            assert big == bigtime, (label, feat)
            xfs_times(img, rows, label)
            for kind, p, target, _ in rows:
                if kind == "symlink":
                    out = run("xfs_db", "-r", "-c", "path /" + p, "-c", "p", img)
                    m = re.search(r'^u3\.symlink = "(.*)"$', out, re.M)
                    assert m and m.group(1) == target, (label, p, out[-300:])
            hier = run("fsxfsinfo", "-H", img).splitlines()
            got = sorted(l[1:] for l in hier if l.startswith("/") and l != "/")
            want = sorted(p for _, p, _, _ in rows if p != ".")
            assert got == want, (label, set(got) ^ set(want))
            print("%s: %d entries, times, kinds and links as listed" % (label, len(rows)))
    print("rhel disk: partitions, LVM2 metadata and both XFS volumes as built")


if __name__ == "__main__":
    main()
