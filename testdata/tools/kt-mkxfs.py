#!/usr/bin/env python3
"""kt-mkxfs.py IMG SIZE LISTING -- MKFS-OPTIONS...

Builds an XFS volume IMG (a sparse file of SIZE bytes) holding the tree of
LISTING, with every inode's four times pinned, from nothing: mkfs.xfs -p
(a protofile written here) makes the tree, then each inode core's times are
written here (xfs_format.h: di_atime @32, di_mtime @40, di_ctime @48,
di_flags2 @120 (BIGTIME = 1 << 3), di_crtime @144; an inode's CRC-32C at
@100 over the whole inode, recomputed), since mkfs.xfs takes every time
from the clock and xfs_db of xfsprogs 6.1 cannot write big timestamps.

LISTING: one entry a line, TAB-separated, parents before children:
  kind path source crtime mtime ctime atime
kind dir|file|symlink; source the file whose bytes to copy, the symlink
target, or '-'; each time "SECONDS NANOSECONDS". The path "." is the root.
Inode numbers are found with xfs_db's path command (read-only). mkfs.xfs
runs under faketime frozen at SOURCE_DATE_EPOCH: the same LISTING and
options give the same bytes.
"""
import os
import struct
import subprocess
import sys
import tempfile
import time

POLY = 0x82F63B78
TABLE = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ POLY if c & 1 else c >> 1
    TABLE.append(c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def enc_time(sec, ns, big):
    if big:
        return struct.pack(">Q", (sec + 2**31) * 10**9 + ns)
    return struct.pack(">iI", sec, ns)


def main():
    if len(sys.argv) < 5 or sys.argv[4] != "--":
        sys.exit(__doc__)
    img, size, listing, mkfs_opts = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[5:]
    entries = []
    for line in open(listing):
        line = line.rstrip("\n")
        if not line:
            continue
        kind, path, source, *times = line.split("\t")
        entries.append((kind, path, source, [tuple(map(int, t.split())) for t in times]))
    children = {}
    for kind, path, source, _ in entries:
        if path == ".":
            continue
        parent = os.path.dirname(path) or "."
        children.setdefault(parent, []).append((kind, os.path.basename(path), source, path))

    out = ["/dev/null", "0 0", "d--755 0 0"]

    def walk(d, depth):
        for kind, name, source, path in children.get(d, []):
            pad = " " * depth
            if kind == "dir":
                out.append("%s%s d--755 0 0" % (pad, name))
                walk(path, depth + 1)
                out.append("%s$" % pad)
            elif kind == "file":
                out.append("%s%s ---644 0 0 %s" % (pad, name, source))
            elif kind == "symlink":
                out.append("%s%s l--777 0 0 %s" % (pad, name, source))
            else:
                sys.exit("unknown kind %s" % kind)

    walk(".", 1)
    out.append("$")
    with tempfile.NamedTemporaryFile("w", suffix=".proto", delete=False) as f:
        f.write("\n".join(out) + "\n")
        proto = f.name
    if os.path.exists(img):
        os.unlink(img)
    with open(img, "wb") as f:
        f.truncate(size)
    # mkfs.xfs takes the clock for the inodes it makes itself (realtime
    # bitmap and summary): frozen at SOURCE_DATE_EPOCH (default 0).
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    frozen = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))
    env = dict(os.environ, TZ="UTC")
    subprocess.run(["faketime", "-f", frozen, "mkfs.xfs", "-q", "-f", "-p", proto] + mkfs_opts +
                   [img], check=True, env=env)
    os.unlink(proto)

    cmds = []
    for _, path, _, _ in entries:
        cmds += ["-c", "path /" + ("" if path == "." else path), "-c", "inode"]
    res = subprocess.run(["xfs_db", "-r"] + cmds + [img], check=True, capture_output=True,
                         text=True)
    inums = [int(l.split()[-1]) for l in res.stdout.splitlines()
             if l.startswith("current inode number is")]
    if len(inums) != len(entries):
        sys.exit("xfs_db found %d of %d inodes: %s" % (len(inums), len(entries), res.stderr))

    with open(img, "r+b") as f:
        sb = f.read(512)
        assert sb[:4] == b"XFSB"
        bsize, = struct.unpack_from(">I", sb, 4)
        agblocks, = struct.unpack_from(">I", sb, 84)
        isize, = struct.unpack_from(">H", sb, 104)
        inopblog, agblklog = sb[123], sb[124]
        for (kind, path, _, times), ino in zip(entries, inums):
            agno = ino >> (agblklog + inopblog)
            agbno = (ino >> inopblog) & ((1 << agblklog) - 1)
            off = (agno * agblocks + agbno) * bsize + (ino & ((1 << inopblog) - 1)) * isize
            f.seek(off)
            core = bytearray(f.read(isize))
            assert core[:2] == b"IN" and core[4] == 3, path
            assert struct.unpack_from(">Q", core, 152)[0] == ino, path
            big = bool(struct.unpack_from(">Q", core, 120)[0] & 8)
            (crs, crn), (ms, mn), (cs, cn), (as_, an) = times
            core[32:40] = enc_time(as_, an, big)
            core[40:48] = enc_time(ms, mn, big)
            core[48:56] = enc_time(cs, cn, big)
            core[144:152] = enc_time(crs, crn, big)
            core[100:104] = b"\0\0\0\0"
            core[100:104] = struct.pack("<I", crc32c(bytes(core)))
            f.seek(off)
            f.write(core)
    # mkfs.xfs writes out its (zeroed) log: make those blocks holes again.
    subprocess.run(["fallocate", "--dig-holes", img], check=True)


if __name__ == "__main__":
    main()
