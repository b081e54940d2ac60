#!/usr/bin/env python3
"""build-campaign.py EVIDENCE_DIR OUTDIR

The corruption campaign: hundreds of damaged copies of the sample evidence
that testdata/build-evidence.sh builds (the Windows and Linux scenario disks
as raw, split E01, VHD and VMDK, windows.* and linux.*), each damaged in one
known way: byte flips in partition tables, boot sectors, superblocks, MFT
records, inodes, directory blocks, registry hives, event logs, Prefetch and
SQLite files, zeroed regions, truncations, EWF segments missing, short,
swapped or foreign, VHD footers and allocation tables, VMDK headers,
descriptors and grain tables, split raw parts missing or swapped.

OUTDIR/manifest.tsv lists every variant (name, base, entry, region, damage):
base is the intact item it comes from (relative to EVIDENCE_DIR, what to
scan for the reference), entry what to scan (relative to OUTDIR). Each
variant has its own folder OUTDIR/v/NAME/. Its damaged file is a sparse copy
(holes where the base is zero); the files a variant leaves intact (the other
EWF segments or split parts) are hard links to the evidence, so the
campaign costs little disk.

Deterministic: every offset comes from the image's own structures (found
with The Sleuth Kit's istat/ifind and by reading the on-disk headers) or
from a splitmix64 generator seeded by the variant's name, never from
$RANDOM or the clock. The evidence itself is only read. A stamp of the
script and of the bases (size, inode, modification time) lets a second run
with the same inputs return at once.
"""

import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

SEED = "kavtrace-campaign-2024"
MASK64 = (1 << 64) - 1

# The bases. Windows scenario disks: GPT, one NTFS partition at sector 2048.
# Linux scenario disks: MBR, one ext4 partition at sector 2048.
KES = "scenarios/kes-active"
KES_UNINST = "scenarios/kes-uninstalled"
KSWS = "scenarios/ksws-server"
CONSUMER = "scenarios/consumer-migrated"
UBUNTU = "scenarios-unix/kesl-ubuntu"
RHEL = "scenarios-unix/kesl-rhel-removed"


class Rng:
    """splitmix64, seeded by the variant's name: the same bytes on every
    machine and Python version."""

    def __init__(self, name):
        digest = hashlib.sha256(f"{SEED}:{name}".encode()).digest()
        self.state = int.from_bytes(digest[:8], "little")

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n

    def mask(self):
        return 1 + self.below(255)


# --- byte edits on a variant's file ------------------------------------------


# Bytes changed by the edits since the last reset: a damage that changes
# nothing is a mistake in this script, not a variant.
changed = [0]


def put(path, off, data):
    with open(path, "r+b") as f:
        f.seek(off)
        old = f.read(len(data))
        f.seek(off)
        f.write(data)
    changed[0] += sum(a != b for a, b in zip(old, data)) + len(data) - len(old)


def get(path, off, n):
    with open(path, "rb") as f:
        f.seek(off)
        return f.read(n)


def xor(path, off, mask=0xFF):
    put(path, off, bytes([get(path, off, 1)[0] ^ mask]))


def zero(path, off, n):
    put(path, off, bytes(n))


def trunc(path, size):
    changed[0] += os.path.getsize(path) != size
    os.truncate(path, size)


def u16(path, off, v):
    put(path, off, struct.pack("<H", v))


def u32(path, off, v):
    put(path, off, struct.pack("<I", v))


def u64(path, off, v):
    put(path, off, struct.pack("<Q", v))


def hexs(offsets):
    return ",".join(f"0x{o:x}" for o in offsets)


# --- reading structures --------------------------------------------------------


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def tsk_runs(istat_text, ext=False):
    """The blocks of a file's first non-resident $DATA (NTFS) or its
    direct blocks (ext), in file order, from istat's listing."""
    lines = istat_text.splitlines()
    if ext:
        start = next(i for i, l in enumerate(lines) if l.startswith("Direct Blocks:"))
    else:
        start = next(i for i, l in enumerate(lines)
                     if re.match(r"Type: \$DATA \(128-\d+\)\s+Name: N/A\s+Non-Resident", l))
    blocks = []
    for l in lines[start + 1:]:
        if not re.match(r"^[\d ]+$", l.strip()) or not l.strip():
            break
        blocks += [int(x) for x in l.split()]
    return blocks


def data_blocks(path, block=4096):
    """Offsets of the blocks of a sparse file that hold data."""
    out = []
    with open(path, "rb") as f:
        fd = f.fileno()
        size = os.fstat(fd).st_size
        off = 0
        while off < size:
            try:
                data = os.lseek(fd, off, os.SEEK_DATA)
            except OSError:
                break
            hole = os.lseek(fd, data, os.SEEK_HOLE)
            out += range(data - data % block, hole, block)
            off = hole
    return out


class Ntfs:
    """An NTFS volume inside a disk image: geometry and where things are."""

    def __init__(self, img, part_sector):
        self.img, self.sec = img, part_sector
        self.base = part_sector * 512
        boot = get(img, self.base, 512)
        self.bps = struct.unpack_from("<H", boot, 0x0B)[0]
        self.cs = self.bps * boot[0x0D]
        self.total_sectors = struct.unpack_from("<Q", boot, 0x28)[0]
        self.mft_lcn = struct.unpack_from("<Q", boot, 0x30)[0]
        c = struct.unpack_from("<b", boot, 0x40)[0]
        self.rec = c * self.cs if c > 0 else 1 << -c
        self.mft = tsk_runs(self.istat(0))

    def istat(self, inode):
        return run("istat", "-o", str(self.sec), self.img, str(inode))

    def inode(self, path):
        return int(run("ifind", "-o", str(self.sec), "-n", path, self.img).split("-")[0])

    def record(self, n):
        """Image offset of MFT record n."""
        fo = n * self.rec
        return self.base + self.mft[fo // self.cs] * self.cs + fo % self.cs

    def file_map(self, path):
        """Image offsets of a file's clusters, and its size."""
        text = self.istat(self.inode(path))
        size = int(re.search(r"\$DATA \(128-\d+\)\s+Name: N/A\s+Non-Resident\s+size: (\d+)",
                             text).group(1))
        return [self.base + c * self.cs for c in tsk_runs(text)], size

    def file_offset(self, clusters, fo):
        return clusters[fo // self.cs] + fo % self.cs

    def index_allocation(self, inode):
        """Image offset of the first INDX record of a directory, or None."""
        text = self.istat(inode)
        lines = text.splitlines()
        for i, l in enumerate(lines):
            if re.match(r"Type: \$INDEX_ALLOCATION \(160-\d+\)\s+Name: \$I30\s+Non-Resident", l):
                return self.base + int(lines[i + 1].split()[0]) * self.cs
        return None


class Ext4:
    def __init__(self, img, part_sector):
        self.img, self.sec = img, part_sector
        self.base = part_sector * 512
        sb = get(img, self.base + 1024, 1024)
        self.sb = self.base + 1024
        self.bs = 1024 << struct.unpack_from("<I", sb, 0x18)[0]
        self.ipg = struct.unpack_from("<I", sb, 0x28)[0]
        self.isz = struct.unpack_from("<H", sb, 0x58)[0]
        incompat = struct.unpack_from("<I", sb, 0x60)[0]
        self.dsz = struct.unpack_from("<H", sb, 0xFE)[0] if incompat & 0x80 else 32
        self.gdt = self.base + (1 if self.bs > 1024 else 2) * self.bs

    def inode_table(self, group):
        d = get(self.img, self.gdt + group * self.dsz, self.dsz)
        lo = struct.unpack_from("<I", d, 8)[0]
        hi = struct.unpack_from("<I", d, 0x28)[0] if self.dsz >= 64 else 0
        return self.base + (lo | hi << 32) * self.bs

    def inode(self, path):
        return int(run("ifind", "-o", str(self.sec), "-n", path, self.img).strip())

    def inode_offset(self, n):
        return self.inode_table((n - 1) // self.ipg) + ((n - 1) % self.ipg) * self.isz

    def blocks(self, path):
        """Image offsets of a file's blocks ("/" is the root directory)."""
        n = 2 if path == "/" else self.inode(path)
        text = run("istat", "-o", str(self.sec), self.img, str(n))
        return [self.base + b * self.bs for b in tsk_runs(text, ext=True)]


def hive_cells(data):
    """(offset, signature) of every allocated cell of a regf hive."""
    off = 0x1000
    while off + 0x20 <= len(data) and data[off:off + 4] == b"hbin":
        size = struct.unpack_from("<I", data, off + 8)[0]
        if size < 0x20:
            break
        c = off + 0x20
        while c + 4 <= off + size:
            n = struct.unpack_from("<i", data, c)[0]
            if n == 0:
                break
            if n < 0:
                yield c, data[c + 4:c + 6]
            c += abs(n)
        off += size


def nk_named(data, name):
    for c, sig in hive_cells(data):
        if sig == b"nk":
            n = struct.unpack_from("<H", data, c + 4 + 0x48)[0]
            if data[c + 4 + 0x4C:c + 4 + 0x4C + n].decode("latin-1").lower() == name.lower():
                return c
    raise KeyError(name)


def vk_named(data, name):
    for c, sig in hive_cells(data):
        if sig == b"vk":
            n = struct.unpack_from("<H", data, c + 4 + 2)[0]
            if data[c + 4 + 0x14:c + 4 + 0x14 + n].decode("latin-1").lower() == name.lower():
                return c
    raise KeyError(name)


def ewf_sections(path):
    """{type: [offset of the section descriptor]} of an EWF segment."""
    out = {}
    size = os.path.getsize(path)
    off = 13
    while off + 76 <= size:
        d = get(path, off, 76)
        kind = d[:16].rstrip(b"\0").decode("latin-1")
        nxt = struct.unpack_from("<Q", d, 16)[0]
        out.setdefault(kind, []).append(off)
        if kind in ("next", "done") or nxt <= off:
            break
        off = nxt
    return out


def ewf_chunks(path):
    """File offsets of the chunks of one segment, from its table section."""
    t = ewf_sections(path)["table"][0] + 76
    n, _, base = struct.unpack_from("<IIQ", get(path, t, 16))
    entries = struct.unpack_from(f"<{n}I", get(path, t + 24, 4 * n))
    return [base + (e & 0x7FFFFFFF) for e in entries], t


def vhd_checksum(block, at):
    b = bytearray(block)
    b[at:at + 4] = bytes(4)
    return struct.pack(">I", ~sum(b) & 0xFFFFFFFF)


# --- the campaign ------------------------------------------------------------------


class Campaign:
    def __init__(self, evidence, out):
        self.ev, self.out = evidence, out
        self.work = os.path.join(out, ".work")
        self.rows = []
        self.sparse = {}
        os.makedirs(os.path.join(out, "v"))
        os.makedirs(self.work)

    def evidence(self, rel):
        return os.path.join(self.ev, rel)

    def sparse_base(self, rel):
        """A sparse copy of an evidence file, read once; variants copy it."""
        if rel not in self.sparse:
            dst = os.path.join(self.work, rel.replace("/", "__"))
            subprocess.run(["cp", "--sparse=always", self.evidence(rel), dst], check=True)
            self.sparse[rel] = dst
        return self.sparse[rel]

    def folder(self, name):
        d = os.path.join(self.out, "v", name)
        os.mkdir(d)
        return d

    def copy(self, name, rel, as_name=None):
        dst = os.path.join(self.out, "v", name, as_name or os.path.basename(rel))
        subprocess.run(["cp", "--sparse=always", self.sparse_base(rel), dst], check=True)
        return dst

    def link(self, name, rel, as_name=None):
        dst = os.path.join(self.out, "v", name, as_name or os.path.basename(rel))
        os.link(self.evidence(rel), dst)
        return dst

    def add(self, name, base, entry, region, damage):
        assert "\t" not in damage and "\n" not in damage
        self.rows.append((name, base, os.path.join("v", name, entry), region, damage))

    def raw(self, rel, tag, region, damage, edit):
        """One damaged copy of a single-file image: edit(path) damages it."""
        name = f"{os.path.basename(rel)}-{tag}"
        self.folder(name)
        path = self.copy(name, rel)
        changed[0] = 0
        edit(path)
        if not changed[0]:
            sys.exit(f"{name}: the damage changed nothing")
        self.add(name, rel, os.path.basename(rel), region, damage)

    def finish(self):
        shutil.rmtree(self.work)
        with open(os.path.join(self.out, "manifest.tsv"), "w") as f:
            f.write("# name\tbase\tentry\tregion\tdamage\n")
            for r in self.rows:
                f.write("\t".join(r) + "\n")


# --- partition tables -----------------------------------------------------------


def gpt_crcs(path, header_lba, fix_entries=True):
    """Recompute a GPT header's entry-array CRC (optionally) and its CRC."""
    h = header_lba * 512
    hdr = bytearray(get(path, h, 92))
    entries_lba, n, esz = struct.unpack_from("<QII", hdr, 0x48)
    if fix_entries and n * esz <= 1 << 20:
        hdr[0x58:0x5C] = struct.pack("<I", zlib.crc32(get(path, entries_lba * 512, n * esz)))
    hdr[0x10:0x14] = bytes(4)
    hdr[0x10:0x14] = struct.pack("<I", zlib.crc32(bytes(hdr)))  # over the standard 92 bytes
    put(path, h, bytes(hdr))


def gpt(c):
    for rel in (f"{KES}.raw", f"{KSWS}.raw"):
        img = c.sparse_base(rel)
        last = os.path.getsize(img) // 512 - 1
        lite = rel != f"{KES}.raw"

        def hdr_field(tag, off, data, why, recompute):
            def edit(p):
                put(p, 512 + off, data)
                if recompute:
                    gpt_crcs(p, 1, fix_entries=False)
            c.raw(rel, f"gpt-{tag}", "gpt-header",
                  f"GPT header (LBA 1) {why} at 0x{512 + off:x}"
                  + ("; header CRC recomputed" if recompute else "; header CRC left stale"), edit)

        hdr_field("signature", 0, b"EFI PARX", "signature 'EFI PART' -> 'EFI PARX'", False)
        hdr_field("header-crc", 0x10, b"\xde\xad\xbe\xef", "header CRC32 -> 0xefbeadde", False)
        if lite:
            continue
        hdr_field("header-size-huge", 0x0C, struct.pack("<I", 0xFFFFFFF0), "header size -> 0xfffffff0", True)
        hdr_field("my-lba", 0x18, struct.pack("<Q", 7), "MyLBA -> 7", True)
        hdr_field("first-usable-past-last", 0x28, struct.pack("<Q", last + 100),
                  "FirstUsableLBA -> past the disk", True)
        hdr_field("last-usable-huge", 0x30, struct.pack("<Q", MASK64), "LastUsableLBA -> 2^64-1", True)
        hdr_field("entries-lba-huge", 0x48, struct.pack("<Q", 1 << 61), "PartitionEntryLBA -> 2^61", True)
        hdr_field("entries-lba-zero", 0x48, struct.pack("<Q", 0), "PartitionEntryLBA -> 0 (the MBR)", True)
        hdr_field("entries-lba-past-end", 0x48, struct.pack("<Q", last - 1),
                  "PartitionEntryLBA -> the second-last sector (array runs past the end)", True)
        hdr_field("entry-count-zero", 0x50, struct.pack("<I", 0), "NumberOfPartitionEntries -> 0", True)
        hdr_field("entry-count-huge", 0x50, struct.pack("<I", 0xFFFFFFFF),
                  "NumberOfPartitionEntries -> 0xffffffff", True)
        hdr_field("entry-count-overflow", 0x50, struct.pack("<I", 0x02000000),
                  "NumberOfPartitionEntries -> 2^25 (count x size overflows 32 bits)", True)
        hdr_field("entry-size-zero", 0x54, struct.pack("<I", 0), "SizeOfPartitionEntry -> 0", True)
        hdr_field("entry-size-huge", 0x54, struct.pack("<I", 0x80000000),
                  "SizeOfPartitionEntry -> 2^31", True)
        hdr_field("entries-crc", 0x58, b"\x01\x02\x03\x04", "PartitionEntryArrayCRC32 -> 0x04030201", True)

        def both(tag, why, edit_one):
            def edit(p):
                edit_one(p, 1)
                edit_one(p, last)
            c.raw(rel, f"gpt-both-{tag}", "gpt-header",
                  f"primary (LBA 1) and backup (LBA {last}) GPT headers: {why}", edit)

        both("signature", "signature byte 0 XOR 0xff", lambda p, lba: xor(p, lba * 512))
        both("header-crc", "header CRC32 byte 0 XOR 0xff", lambda p, lba: xor(p, lba * 512 + 0x10))
        both("entry-count-huge", "NumberOfPartitionEntries -> 0xffffffff, header CRCs recomputed",
             lambda p, lba: (u32(p, lba * 512 + 0x50, 0xFFFFFFFF), gpt_crcs(p, lba, False)))
        c.raw(rel, "gpt-backup-signature", "gpt-header",
              f"backup GPT header (LBA {last}) signature byte 0 XOR 0xff; primary intact",
              lambda p: xor(p, last * 512))
        for i in range(2):
            r = Rng(f"{rel}:gpt-header-random-{i}")
            offs = sorted({512 + r.below(92) for _ in range(4)})
            c.raw(rel, f"gpt-header-random-{i}", "gpt-header",
                  f"GPT header: bytes XOR-ed at {hexs(offs)}, CRC left stale",
                  lambda p, o=offs, r=r: [xor(p, x, r.mask()) for x in o])

        # The partition entry array (LBA 2..33) and its first entry.
        e0 = 1024

        def entry_field(tag, off, data, why, recompute=True, backup=False):
            def edit(p):
                put(p, e0 + off, data)
                if recompute:
                    gpt_crcs(p, 1)
                if backup:
                    put(p, (last - 32) * 512 + off, data)
                    gpt_crcs(p, last)
            c.raw(rel, f"gpt-entry-{tag}", "gpt-entries",
                  f"GPT entry 0 (0x{e0:x}): {why}"
                  + ("; entry-array and header CRCs recomputed" if recompute else "; CRCs left stale")
                  + ("; the same in the backup array" if backup else ""), edit)

        entry_field("type-zero", 0, bytes(16), "partition type GUID zeroed (unused entry)")
        entry_field("start-huge", 0x20, struct.pack("<Q", 1 << 60), "StartingLBA -> 2^60")
        entry_field("end-huge", 0x28, struct.pack("<Q", MASK64), "EndingLBA -> 2^64-1")
        entry_field("end-past-disk", 0x28, struct.pack("<Q", last + 4096), "EndingLBA -> 4096 sectors past the disk")
        entry_field("end-before-start", 0x28, struct.pack("<Q", 100), "EndingLBA -> 100 (before StartingLBA)")
        entry_field("start-zero", 0x20, struct.pack("<Q", 0), "StartingLBA -> 0 (the protective MBR)")
        entry_field("start-shifted", 0x20, struct.pack("<Q", 2048 + 8), "StartingLBA -> 2056 (8 sectors in)")
        entry_field("start-shifted-both", 0x20, struct.pack("<Q", 2048 + 8),
                    "StartingLBA -> 2056 (8 sectors in)", backup=True)
        c.raw(rel, "gpt-entries-zeroed", "gpt-entries",
              "primary partition entry array (LBA 2..33) zeroed; backup intact",
              lambda p: zero(p, 1024, 32 * 512))
        c.raw(rel, "gpt-entries-zeroed-both", "gpt-entries",
              f"primary (LBA 2..33) and backup (LBA {last - 32}..{last - 1}) entry arrays zeroed",
              lambda p: (zero(p, 1024, 32 * 512), zero(p, (last - 32) * 512, 32 * 512)))
        for i in range(2):
            r = Rng(f"{rel}:gpt-entries-random-{i}")
            offs = sorted({e0 + r.below(128) for _ in range(3)})
            c.raw(rel, f"gpt-entries-random-{i}", "gpt-entries",
                  f"GPT entry 0: bytes XOR-ed at {hexs(offs)}, CRCs left stale",
                  lambda p, o=offs, r=r: [xor(p, x, r.mask()) for x in o])

        # The protective MBR.
        c.raw(rel, "pmbr-zeroed", "mbr", "protective MBR (sector 0) zeroed", lambda p: zero(p, 0, 512))
        c.raw(rel, "pmbr-signature", "mbr", "protective MBR boot signature 0x55aa -> 0x55ab",
              lambda p: put(p, 0x1FF, b"\xab"))
        c.raw(rel, "pmbr-type-ntfs", "mbr", "protective MBR entry 0 type 0xee -> 0x07",
              lambda p: put(p, 0x1C2, b"\x07"))
        c.raw(rel, "pmbr-size-zero", "mbr", "protective MBR entry 0 size -> 0",
              lambda p: u32(p, 0x1CA, 0))


def mbr(c):
    for rel in (f"{UBUNTU}.raw", f"{RHEL}.raw", "linux.raw"):
        full = rel == f"{UBUNTU}.raw"
        size = os.path.getsize(c.evidence(rel)) // 512

        def entry(tag, off, data, why):
            c.raw(rel, f"mbr-{tag}", "mbr", f"MBR entry 0 (0x1be): {why}",
                  lambda p: put(p, 0x1BE + off, data))

        c.raw(rel, "mbr-zeroed", "mbr", "MBR (sector 0) zeroed", lambda p: zero(p, 0, 512))
        c.raw(rel, "mbr-signature", "mbr", "boot signature 0x55aa -> 0xaa55",
              lambda p: put(p, 0x1FE, b"\xaa\x55"))
        entry("start-huge", 8, struct.pack("<I", 0xFFFFFF00), "start LBA -> 0xffffff00")
        if not full:
            continue
        entry("size-huge", 12, struct.pack("<I", 0xFFFFFFFF), "size -> 0xffffffff sectors")
        entry("type-empty", 4, b"\x00", "type 0x83 -> 0x00 (empty)")
        entry("type-ntfs", 4, b"\x07", "type 0x83 -> 0x07")
        entry("start-zero", 8, struct.pack("<I", 0), "start LBA -> 0")
        entry("start-shifted", 8, struct.pack("<I", 2049), "start LBA -> 2049 (one sector in)")
        entry("start-past-disk", 8, struct.pack("<I", size + 10), "start LBA -> past the end of the disk")
        entry("size-zero", 12, struct.pack("<I", 0), "size -> 0")
        c.raw(rel, "mbr-overlapping", "mbr",
              "MBR entry 1 (0x1ce) a copy of entry 0 (two partitions over the same sectors)",
              lambda p: put(p, 0x1CE, get(p, 0x1BE, 16)))
        c.raw(rel, "mbr-entries-all-same", "mbr",
              "MBR entries 1..3 copies of entry 0",
              lambda p: [put(p, 0x1BE + 16 * k, get(p, 0x1BE, 16)) for k in (1, 2, 3)])
        for i in range(2):
            r = Rng(f"{rel}:mbr-random-{i}")
            offs = sorted({0x1BE + r.below(66) for _ in range(3)})
            c.raw(rel, f"mbr-random-{i}", "mbr", f"MBR: bytes XOR-ed at {hexs(offs)}",
                  lambda p, o=offs, r=r: [xor(p, x, r.mask()) for x in o])

    # linux.raw: an extended partition (sector 67584) whose EBR chain holds
    # a logical FAT partition.
    rel, ebr = "linux.raw", 67584 * 512
    c.raw(rel, "ebr-signature", "mbr", f"EBR (0x{ebr:x}) boot signature 0x55aa -> 0x0000",
          lambda p: zero(p, ebr + 0x1FE, 2))
    c.raw(rel, "ebr-loop", "mbr", "EBR's next-EBR entry points at itself (relative start 0, type 0x05)",
          lambda p: put(p, ebr + 0x1CE, bytes([0, 0, 0, 0, 5, 0, 0, 0]) + struct.pack("<II", 0, 2048)))
    c.raw(rel, "ebr-next-past-disk", "mbr", "EBR's next-EBR entry points past the end of the disk",
          lambda p: put(p, ebr + 0x1CE, bytes([0, 0, 0, 0, 5, 0, 0, 0]) + struct.pack("<II", 0x00FFFFFF, 2048)))
    c.raw(rel, "ebr-zeroed", "mbr", "EBR sector zeroed", lambda p: zero(p, ebr, 512))


# --- filesystems ------------------------------------------------------------------------


def ntfs_boot(c):
    rel = f"{KES}.raw"
    fs = Ntfs(c.sparse_base(rel), 2048)
    b = fs.base

    def field(tag, off, data, why):
        c.raw(rel, f"ntfs-boot-{tag}", "ntfs-boot", f"NTFS boot sector (0x{b:x}) {why} at 0x{b + off:x}",
              lambda p: put(p, b + off, data))

    field("oem", 3, b"NTFX", "OEM id 'NTFS' -> 'NTFX'")
    field("bps-zero", 0x0B, struct.pack("<H", 0), "bytes per sector -> 0")
    field("bps-huge", 0x0B, struct.pack("<H", 0xFFFF), "bytes per sector -> 65535")
    field("spc-zero", 0x0D, b"\x00", "sectors per cluster -> 0")
    field("spc-shift", 0x0D, b"\xff", "sectors per cluster -> 0xff (2^1 as a shift)")
    field("total-huge", 0x28, struct.pack("<Q", 1 << 62), "total sectors -> 2^62")
    field("mft-zero", 0x30, struct.pack("<Q", 0), "$MFT cluster -> 0")
    field("mft-huge", 0x30, struct.pack("<Q", 1 << 50), "$MFT cluster -> 2^50")
    field("mft-next", 0x30, struct.pack("<Q", fs.mft_lcn + 1), "$MFT cluster -> one cluster on")
    field("mft-past-volume", 0x30, struct.pack("<Q", fs.total_sectors // 8 + 5), "$MFT cluster -> past the volume")
    field("record-size-zero", 0x40, b"\x00", "clusters per MFT record -> 0")
    field("record-size-huge", 0x40, b"\x7f", "clusters per MFT record -> 127")
    field("record-size-shift", 0x40, b"\x80", "clusters per MFT record -> 0x80 (2^128 as a shift)")
    field("signature", 0x1FE, b"\x00\x00", "boot signature 0x55aa -> 0")
    c.raw(rel, "ntfs-boot-zeroed", "ntfs-boot", f"NTFS boot sector (0x{b:x}) zeroed; backup boot sector intact",
          lambda p: zero(p, b, 512))
    backup = b + (fs.total_sectors) * 512
    c.raw(rel, "ntfs-boot-both-zeroed", "ntfs-boot",
          f"NTFS boot sector (0x{b:x}) and its backup (0x{backup:x}) zeroed",
          lambda p: (zero(p, b, 512), zero(p, backup, 512)))
    for i in range(2):
        r = Rng(f"{rel}:ntfs-boot-random-{i}")
        offs = sorted({b + 3 + r.below(0x4D) for _ in range(3)})
        c.raw(rel, f"ntfs-boot-random-{i}", "ntfs-boot", f"NTFS boot sector: bytes XOR-ed at {hexs(offs)}",
              lambda p, o=offs, r=r: [xor(p, x, r.mask()) for x in o])


# The files and folders of kes-active that its events come from.
KES_PATHS = {
    "windows": "Windows",
    "system32": "Windows/System32",
    "config": "Windows/System32/config",
    "software": "Windows/System32/config/SOFTWARE",
    "system": "Windows/System32/config/SYSTEM",
    "ntuser": "Users/jdoe/NTUSER.DAT",
    "pfx86": "Program Files (x86)",
    "pf-kl": "Program Files (x86)/Kaspersky Lab",
    "pf-kes": "Program Files (x86)/Kaspersky Lab/Kaspersky Endpoint Security for Windows",
    "pd": "ProgramData",
    "pd-kl": "ProgramData/Kaspersky Lab",
    "pd-kes": "ProgramData/Kaspersky Lab/KES",
    "detects": "ProgramData/Kaspersky Lab/KES/Data/detects.db",
    "logs": "Windows/System32/winevt/Logs",
    "app-evtx": "Windows/System32/winevt/Logs/Application.evtx",
    "kes-evtx": "Windows/System32/winevt/Logs/Kaspersky Endpoint Security.evtx",
    "prefetch": "Windows/Prefetch/AVP.EXE-6A1F0C2B.pf",
    "drivers": "Windows/System32/drivers",
}


def mft(c):
    rel = f"{KES}.raw"
    fs = Ntfs(c.sparse_base(rel), 2048)
    rec = {k: fs.inode(v) for k, v in KES_PATHS.items()}
    for n, k in ((0, "$MFT"), (1, "$MFTMirr"), (3, "$Volume"), (5, "root"), (6, "$Bitmap"), (10, "$UpCase")):
        rec[k] = n

    def damage(tag, key, why, edit):
        n = rec[key]
        o = fs.record(n)
        c.raw(rel, f"mft-{key.strip('$').lower()}-{tag}", "mft",
              f"MFT record {n} ({KES_PATHS.get(key, key)}, 0x{o:x}): {why}", lambda p: edit(p, o))

    for key in ("$MFT", "root", "system32", "software", "system", "ntuser", "pf-kl", "pd-kes",
                "logs", "kes-evtx", "detects", "prefetch"):
        damage("zeroed", key, "zeroed", lambda p, o: zero(p, o, fs.rec))
    for key in ("$MFT", "root", "config", "software", "pf-kl", "kes-evtx", "prefetch"):
        damage("fixup", key, "update sequence at the end of its first sector XOR 0xff (fixup mismatch)",
               lambda p, o: xor(p, o + 510))
    for key in ("$MFT", "root", "software", "pf-kes", "app-evtx"):
        damage("baad", key, "signature 'FILE' -> 'BAAD'", lambda p, o: put(p, o, b"BAAD"))
    for key in ("root", "drivers"):
        damage("attr-offset", key, "first attribute offset (0x14) -> 0x3ff", lambda p, o: u16(p, o + 0x14, 0x3FF))
    for key in ("software", "pd"):
        damage("attr-length", key, "first attribute's length -> 0",
               lambda p, o: u32(p, o + struct.unpack_from("<H", get(p, o + 0x14, 2))[0] + 4, 0))
    for key in ("software", "kes-evtx"):
        damage("attr-length-huge", key, "first attribute's length -> 0x7ffffff8",
               lambda p, o: u32(p, o + struct.unpack_from("<H", get(p, o + 0x14, 2))[0] + 4, 0x7FFFFFF8))

    # The $DATA attribute of the hive and event-log records.
    def data_attr(p, o):
        a = o + struct.unpack_from("<H", get(p, o + 0x14, 2))[0]
        while True:
            t, ln = struct.unpack_from("<II", get(p, a, 8))
            if t == 0x80 or t == 0xFFFFFFFF or ln == 0:
                return a
            a += ln

    for key in ("software", "kes-evtx"):
        damage("runlist", key, "$DATA run list header byte -> 0x88 (8-byte length and offset)",
               lambda p, o: put(p, data_attr(p, o) + struct.unpack_from("<H", get(p, data_attr(p, o) + 0x20, 2))[0],
                                b"\x88"))
        damage("run-offset", key, "$DATA first run's cluster offset -> far past the volume",
               lambda p, o: put(p, data_attr(p, o) + struct.unpack_from("<H", get(p, data_attr(p, o) + 0x20, 2))[0]
                                + 1 + (get(p, data_attr(p, o) + struct.unpack_from(
                                    "<H", get(p, data_attr(p, o) + 0x20, 2))[0], 1)[0] & 0xF), b"\x7f"))
        damage("data-size", key, "$DATA real size -> 2^40",
               lambda p, o: u64(p, data_attr(p, o) + 0x30, 1 << 40))
    # Seeded flips of structural bytes only (what a reader can check: the
    # 'FILE' signature, the update sequence at each sector's end, attribute
    # offsets, types and lengths), never of names, times or data: a flipped
    # name is another valid volume, damage no reader could see.
    base = c.sparse_base(rel)
    last = max(rec.values())
    for i in range(8):
        r = Rng(f"{rel}:mft-random-{i}")
        offs = []
        for _ in range(4):
            o = fs.record(r.below(last + 1))
            fields = [o, o + 1, o + 2, o + 3, o + 0x14, o + 510, o + 511, o + fs.rec - 2]
            a = o + struct.unpack("<H", get(base, o + 0x14, 2))[0]
            while a + 8 <= o + fs.rec:
                t, ln = struct.unpack("<II", get(base, a, 8))
                if t == 0xFFFFFFFF or ln < 0x18 or a + ln > o + fs.rec:
                    break
                fields += [a, a + 4, a + 5, a + 8]
                a += ln
            offs.append(fields[r.below(len(fields))])
        offs = sorted(set(offs))
        c.raw(rel, f"mft-random-{i}", "mft",
              f"MFT records 0..{last}: structural bytes (signature, update sequence, attribute "
              f"offset, type, length, form) XOR-ed at {hexs(offs)}",
              lambda p, o=offs, r=r: [xor(p, x, r.mask()) for x in o])

    # Directory index (INDX) records.
    for key in ("root", "system32", "config", "pf-kl"):
        indx = fs.index_allocation(rec[key])
        if indx is None:
            continue
        name = KES_PATHS.get(key, "root")
        c.raw(rel, f"indx-{key}-signature", "indx", f"first INDX record of {name} (0x{indx:x}): 'INDX' -> 'INDY'",
              lambda p, o=indx: put(p, o, b"INDY"))
        c.raw(rel, f"indx-{key}-fixup", "indx",
              f"first INDX record of {name} (0x{indx:x}): update sequence at its first sector end XOR 0xff",
              lambda p, o=indx: xor(p, o + 510))
        c.raw(rel, f"indx-{key}-zeroed", "indx", f"first INDX record of {name} (0x{indx:x}) zeroed",
              lambda p, o=indx: zero(p, o, 4096))


def hives(c):
    specs = [(KES, "software", "SOFTWARE", ["KasperskyLab", "Uninstall"], ["DisplayName", "LastSuccessfulUpdate"]),
             (KES, "system", "SYSTEM", ["Services"], ["TimeZoneKeyName"]),
             (KES, "ntuser", "NTUSER.DAT", [], []),
             (CONSUMER, "software", "SOFTWARE", ["UltraAV", "Uninstall"], ["DisplayName"])]
    for scen, key, label, keys, values in specs:
        rel = f"{scen}.raw"
        fs = Ntfs(c.sparse_base(rel), 2048)
        clusters, size = fs.file_map(KES_PATHS[key])
        data = b"".join(get(fs.img, cl, fs.cs) for cl in clusters)[:size]

        def at(fo):
            return fs.file_offset(clusters, fo)

        def dmg(tag, why, edit):
            c.raw(rel, f"hive-{label.lower().replace('.dat', '')}-{tag}", "hive", f"{label} hive: {why}", edit)

        dmg("signature", f"'regf' -> 'regX' (0x{at(0):x})", lambda p: put(p, at(3), b"X"))
        dmg("checksum", f"base block checksum XOR 0xff (0x{at(0x1FC):x})", lambda p: xor(p, at(0x1FC)))
        dmg("root-cell", f"root cell offset -> 0x7ffffff0 (0x{at(0x24):x})",
            lambda p: u32(p, at(0x24), 0x7FFFFFF0))
        dmg("length-huge", f"hive bins data size -> 0x7ffff000 (0x{at(0x28):x})",
            lambda p: u32(p, at(0x28), 0x7FFFF000))
        if label == "SOFTWARE":
            dmg("length-short", f"hive bins data size -> 0x1000 (0x{at(0x28):x})",
                lambda p: u32(p, at(0x28), 0x1000))
        dmg("hbin", f"first hbin signature -> 'hbiX' (0x{at(0x1000):x})", lambda p: put(p, at(0x1003), b"X"))
        if label == "SOFTWARE":
            dmg("hbin-size", f"first hbin size -> 0 (0x{at(0x1008):x})", lambda p: u32(p, at(0x1008), 0))
        if scen == KES and label == "SOFTWARE":
            dmg("version", f"major version -> 9 (0x{at(0x14):x})", lambda p: u32(p, at(0x14), 9))
            dmg("dirty", f"secondary sequence number -> primary - 1 (a dirty hive) (0x{at(8):x})",
                lambda p: u32(p, at(8), struct.unpack_from("<I", data, 4)[0] - 1))
            dmg("base-zeroed", f"base block (4096 bytes at 0x{at(0):x}) zeroed", lambda p: zero(p, at(0), 4096))
            dmg("first-bin-zeroed", f"first hbin's first 4096 bytes (0x{at(0x1000):x}) zeroed",
                lambda p: zero(p, at(0x1000), 4096))
            dmg("zeroed", "every cluster zeroed", lambda p: [zero(p, cl, fs.cs) for cl in clusters])
        for k in keys:
            nk = nk_named(data, k)
            o = at(nk)
            dmg(f"nk-{k.lower()}-signature", f"key '{k}' (nk cell at hive 0x{nk:x}, 0x{o:x}): 'nk' -> 'xk'",
                lambda p, o=o: put(p, o + 4, b"x"))
            dmg(f"nk-{k.lower()}-subkeys", f"key '{k}' (0x{o:x}): subkey list offset -> 0x7ffffff8",
                lambda p, o=o: u32(p, o + 4 + 0x1C, 0x7FFFFFF8))
            dmg(f"nk-{k.lower()}-values", f"key '{k}' (0x{o:x}): value count -> 0x00ffffff",
                lambda p, o=o: u32(p, o + 4 + 0x24, 0x00FFFFFF))
            dmg(f"nk-{k.lower()}-name-length", f"key '{k}' (0x{o:x}): name length -> 0xffff",
                lambda p, o=o: u16(p, o + 4 + 0x48, 0xFFFF))
            if scen != KES:
                break
        for v in values:
            vk = vk_named(data, v)
            o = at(vk)
            dmg(f"vk-{v.lower()}-data-offset", f"value '{v}' (vk cell at hive 0x{vk:x}, 0x{o:x}): data offset -> 0x7ffffff0",
                lambda p, o=o: u32(p, o + 4 + 8, 0x7FFFFFF0))
            dmg(f"vk-{v.lower()}-data-length", f"value '{v}' (0x{o:x}): data length -> 0x7fff0000",
                lambda p, o=o: u32(p, o + 4 + 4, 0x7FFF0000))
        # Seeded flips of structural bytes only: cell sizes, signatures and
        # the offsets that link cells (subkey and value lists, value data),
        # never names, counts or data, whose change would be another valid
        # hive no reader could tell from the original.
        cells = list(hive_cells(data))
        for i in range(3):
            r = Rng(f"{rel}:{label}:random-{i}")
            offs = []
            for _ in range(3):
                cell, sig = cells[r.below(len(cells))]
                fields = [cell + 3, cell + 4, cell + 5]
                if sig == b"nk":
                    fields += [cell + 4 + 0x1C + k for k in range(4)] + [cell + 4 + 0x28 + k for k in range(4)]
                elif sig == b"vk":
                    fields += [cell + 4 + 8 + k for k in range(4)]
                elif sig in (b"lf", b"lh", b"li", b"ri"):
                    fields += [cell + 4 + 4 + k for k in range(4)]
                offs.append(at(fields[r.below(len(fields))]))
            offs = sorted(set(offs))
            dmg(f"random-{i}", f"structural bytes of cells (size, signature, links) XOR-ed at {hexs(offs)}",
                lambda p, o=offs, r=r: [xor(p, x, r.mask()) for x in o])


def artifacts(c):
    rel = f"{KES}.raw"
    fs = Ntfs(c.sparse_base(rel), 2048)

    def file(key):
        clusters, size = fs.file_map(KES_PATHS[key])
        return clusters, size, (lambda fo: fs.file_offset(clusters, fo))

    for key in ("app-evtx", "kes-evtx"):
        clusters, size, at = file(key)
        label = os.path.basename(KES_PATHS[key])

        def dmg(tag, why, edit):
            c.raw(rel, f"evtx-{key.split('-')[0]}-{tag}", "evtx", f"{label}: {why}", edit)

        dmg("signature", f"file header 'ElfFile' -> 'ElfFilX' (0x{at(0):x})", lambda p: put(p, at(6), b"X"))
        dmg("header-crc", f"file header CRC XOR 0xff (0x{at(0x7C):x})", lambda p: xor(p, at(0x7C)))
        dmg("chunk-count", f"chunk count -> 0xffff, header CRC stale (0x{at(0x2A):x})",
            lambda p: u16(p, at(0x2A), 0xFFFF))
        dmg("chunk-signature", f"first chunk 'ElfChnk' -> 'ElfChnX' (0x{at(4096):x})",
            lambda p: put(p, at(4096 + 6), b"X"))
        dmg("chunk-header-crc", f"first chunk header CRC XOR 0xff (0x{at(4096 + 0x7C):x})",
            lambda p: xor(p, at(4096 + 0x7C)))
        dmg("chunk-data-crc", f"first chunk event-records CRC XOR 0xff (0x{at(4096 + 0x34):x})",
            lambda p: xor(p, at(4096 + 0x34)))
        dmg("chunk-zeroed", f"first chunk (64 KiB at 0x{at(4096):x}) zeroed",
            lambda p: [zero(p, at(4096 + k), 4096) for k in range(0, 65536, 4096) if 4096 + k < size])
        for i in range(2):
            r = Rng(f"{rel}:{key}:random-{i}")
            offs = sorted({at(4096 + 0x200 + r.below(min(size, 65536 + 4096) - 4096 - 0x200)) for _ in range(8)})
            dmg(f"records-random-{i}", f"8 bytes of the first chunk's records XOR-ed at {hexs(offs)}",
                lambda p, o=offs, r=r: [xor(p, x, r.mask()) for x in o])

    clusters, size, at = file("prefetch")
    for tag, why, edit in (
            ("signature", "'SCCA' -> 'SCCX'", lambda p: put(p, at(7), b"X")),
            ("version", "format version -> 99", lambda p: u32(p, at(0), 99)),
            ("size-huge", "file size field -> 0x7fffffff", lambda p: u32(p, at(0x0C), 0x7FFFFFFF)),
            ("zeroed", "first 4096 bytes zeroed", lambda p: zero(p, at(0), 4096))):
        c.raw(rel, f"prefetch-{tag}", "prefetch", f"AVP.EXE-6A1F0C2B.pf (0x{at(0):x}): {why}", edit)
    r = Rng(f"{rel}:prefetch-random")
    offs = sorted({at(0x54 + r.below(size - 0x54)) for _ in range(8)})
    c.raw(rel, "prefetch-random", "prefetch", f"AVP.EXE-6A1F0C2B.pf: 8 bytes XOR-ed at {hexs(offs)}",
          lambda p: [xor(p, x, r.mask()) for x in offs])

    clusters, size, at = file("detects")
    for tag, why, edit in (
            ("magic", "'SQLite format 3' -> 'SQLite format X'", lambda p: put(p, at(14), b"X")),
            ("page-size", "page size -> 3", lambda p: put(p, at(16), b"\x00\x03")),
            ("page-count", "database size in pages -> 0x7fffffff", lambda p: put(p, at(28), b"\x7f\xff\xff\xff")),
            ("page2-zeroed", "second page zeroed", lambda p: zero(p, at(struct.unpack(">H", get(p, at(16), 2))[0]),
                                                                   struct.unpack(">H", get(p, at(16), 2))[0])),
            ("truncated-pages", "every page but the first zeroed",
             lambda p: [zero(p, cl, fs.cs) for cl in clusters[1:]])):
        c.raw(rel, f"sqlite-detects-{tag}", "sqlite", f"detects.db (0x{at(0):x}): {why}", edit)


def ext4(c):
    rel = f"{UBUNTU}.raw"
    fs = Ext4(c.sparse_base(rel), 2048)
    sb = fs.sb

    def field(tag, off, data, why):
        c.raw(rel, f"ext4-super-{tag}", "ext4-super", f"ext4 superblock (0x{sb:x}): {why} at 0x{sb + off:x}",
              lambda p: put(p, sb + off, data))

    field("magic", 0x38, b"\x53\xee", "magic 0xef53 -> 0xee53")
    field("log-block-size", 0x18, struct.pack("<I", 7), "log block size -> 7 (128 KiB blocks)")
    field("log-block-size-huge", 0x18, struct.pack("<I", 0xFFFFFFFF), "log block size -> 0xffffffff")
    field("inodes-zero", 0x00, struct.pack("<I", 0), "inode count -> 0")
    field("blocks-zero", 0x04, struct.pack("<I", 0), "block count -> 0")
    field("first-data-block", 0x14, struct.pack("<I", 5), "first data block -> 5")
    field("blocks-per-group-zero", 0x20, struct.pack("<I", 0), "blocks per group -> 0")
    field("inodes-per-group-zero", 0x28, struct.pack("<I", 0), "inodes per group -> 0")
    field("inodes-per-group-huge", 0x28, struct.pack("<I", 0xFFFFFFFF), "inodes per group -> 0xffffffff")
    field("first-ino", 0x54, struct.pack("<I", 0xFFFFFFF0), "first non-reserved inode -> 0xfffffff0")
    field("inode-size-zero", 0x58, struct.pack("<H", 0), "inode size -> 0")
    field("inode-size-huge", 0x58, struct.pack("<H", 0xFFFF), "inode size -> 65535")
    field("incompat", 0x60, struct.pack("<I", 0xFFFFFFFF), "incompatible features -> 0xffffffff")
    field("desc-size-zero", 0xFE, struct.pack("<H", 0), "group descriptor size -> 0 (64bit set)")
    field("desc-size-huge", 0xFE, struct.pack("<H", 0xFFFF), "group descriptor size -> 65535")
    c.raw(rel, "ext4-super-zeroed", "ext4-super", f"ext4 superblock (1024 bytes at 0x{sb:x}) zeroed",
          lambda p: zero(p, sb, 1024))
    for i in range(2):
        r = Rng(f"{rel}:ext4-super-random-{i}")
        offs = sorted({sb + r.below(0x100) for _ in range(4)})
        c.raw(rel, f"ext4-super-random-{i}", "ext4-super", f"ext4 superblock: bytes XOR-ed at {hexs(offs)}",
              lambda p, o=offs, r=r: [xor(p, x, r.mask()) for x in o])

    g = fs.gdt
    for tag, off, data, why in (("block-bitmap", 0, struct.pack("<I", 0xFFFFFFF0), "block bitmap -> 0xfffffff0"),
                                ("inode-bitmap", 4, struct.pack("<I", 0xFFFFFFF0), "inode bitmap -> 0xfffffff0"),
                                ("inode-table-huge", 8, struct.pack("<I", 0xFFFFFFF0), "inode table -> 0xfffffff0"),
                                ("inode-table-zero", 8, struct.pack("<I", 0), "inode table -> block 0"),
                                ("inode-table-next", 8, None, "inode table -> one block on"),
                                ("checksum", 0x1E, b"\xff\xff", "checksum -> 0xffff")):
        def edit(p, off=off, data=data):
            if data is None:
                u32(p, g + off, struct.unpack("<I", get(p, g + off, 4))[0] + 1)
            else:
                put(p, g + off, data)
        c.raw(rel, f"ext4-gdt-{tag}", "ext4-gdt", f"group descriptor 0 (0x{g:x}): {why}", edit)
    c.raw(rel, "ext4-gdt-zeroed", "ext4-gdt", f"group descriptor table block (0x{g:x}) zeroed",
          lambda p: zero(p, g, fs.bs))

    paths = {"root": "/", "etc": "etc", "var": "var", "dpkg": "var/lib/dpkg", "status": "var/lib/dpkg/status",
             "dpkg-log": "var/log/dpkg.log", "dpkg-log-gz": "var/log/dpkg.log.2.gz",
             "apt-history": "var/log/apt/history.log", "kesl-ini": "etc/opt/kaspersky/kesl.ini",
             "os-release": "usr/lib/os-release", "opt-kaspersky": "opt/kaspersky",
             "var-opt-kesl": "var/opt/kaspersky/kesl", "klnagent-log": "var/log/kaspersky/klnagent64/klnagent.log",
             "agreements": "var/opt/kaspersky/kesl/common/agreements.ini", "zone": "usr/share/zoneinfo/America/Chicago",
             "localtime": "etc/localtime", "hostname": "etc/hostname"}
    ino = {k: (2 if v == "/" else fs.inode(v)) for k, v in paths.items()}

    def inode(tag, key, why, edit):
        o = fs.inode_offset(ino[key])
        c.raw(rel, f"inode-{key}-{tag}", "inode", f"inode {ino[key]} ({paths[key]}, 0x{o:x}): {why}",
              lambda p: edit(p, o))

    for key in ("root", "etc", "var", "dpkg", "status", "apt-history", "kesl-ini", "os-release",
                "var-opt-kesl", "localtime"):
        inode("zeroed", key, "zeroed", lambda p, o: zero(p, o, fs.isz))
    for key in ("root", "status", "dpkg-log", "os-release"):
        inode("extent-magic", key, "extent header magic 0xf30a -> 0xf30b", lambda p, o: put(p, o + 0x28, b"\x0b"))
    for key in ("var", "status", "apt-history"):
        inode("extent-entries", key, "extent header entry count -> 0xffff",
              lambda p, o: u16(p, o + 0x28 + 2, 0xFFFF))
        inode("extent-depth", key, "extent tree depth -> 5", lambda p, o: u16(p, o + 0x28 + 6, 5))
    for key in ("etc", "status"):
        inode("extent-start", key, "first extent's start block -> 0xfffffff0",
              lambda p, o: u32(p, o + 0x28 + 12 + 8, 0xFFFFFFF0))
        inode("extent-length", key, "first extent's length -> 0x7fff",
              lambda p, o: u16(p, o + 0x28 + 12 + 4, 0x7FFF))
    for key in ("status",):
        inode("size-huge", key, "size -> 2^40", lambda p, o: (u32(p, o + 4, 0), u32(p, o + 0x6C, 256)))
    for key in ("etc", "status", "localtime"):
        inode("mode", key, "mode -> 0xffff", lambda p, o: u16(p, o, 0xFFFF))
    for key in ("var", "status"):
        inode("flags", key, "flags: extents flag cleared (block map over extent data)",
              lambda p, o: u32(p, o + 0x20, struct.unpack("<I", get(p, o + 0x20, 4))[0] & ~0x80000))
    table = fs.inode_table(0)
    last = max(ino.values())
    # Seeded flips of structural bytes only: the file type (mode's high
    # nibble) and the extent header (magic, entries, max, depth), never
    # permissions, sizes, times or block numbers, whose change would be
    # another valid volume.
    for i in range(6):
        r = Rng(f"{rel}:inode-random-{i}")
        offs = []
        for _ in range(4):
            o = table + r.below(last) * fs.isz
            fields = [o + 1] + [o + 0x28 + k for k in range(8)]
            offs.append(fields[r.below(len(fields))])
        offs = sorted(set(offs))
        c.raw(rel, f"inode-random-{i}", "inode",
              f"inode table (inodes 1..{last}): type and extent-header bytes XOR-ed at {hexs(offs)}",
              lambda p, o=offs, r=r: [xor(p, x, r.mask()) for x in o])

    for key in ("root", "dpkg", "var"):
        blk = fs.blocks(paths[key])[0]
        c.raw(rel, f"dir-{key}-zeroed", "ext4-dir", f"first directory block of {paths[key]} (0x{blk:x}) zeroed",
              lambda p, b=blk: zero(p, b, fs.bs))
        c.raw(rel, f"dir-{key}-reclen-zero", "ext4-dir", f"first entry of {paths[key]} (0x{blk:x}): rec_len -> 0",
              lambda p, b=blk: u16(p, b + 4, 0))
        c.raw(rel, f"dir-{key}-namelen", "ext4-dir", f"third entry of {paths[key]}: name_len -> 255",
              lambda p, b=blk: put(p, b + 12 + 12 + 6, b"\xff"))
        c.raw(rel, f"dir-{key}-inode-huge", "ext4-dir", f"third entry of {paths[key]}: inode -> 0x7ffffff0",
              lambda p, b=blk: u32(p, b + 24, 0x7FFFFFF0))

    for key, why in (("status", "dpkg status"), ("dpkg-log", "dpkg.log"), ("dpkg-log-gz", "dpkg.log.2.gz"),
                     ("kesl-ini", "kesl.ini"), ("agreements", "agreements.ini")):
        blk = fs.blocks(paths[key])[0]
        c.raw(rel, f"file-{key}-zeroed", "file", f"{why}: first block (0x{blk:x}) zeroed",
              lambda p, b=blk: zero(p, b, fs.bs))
    blk = fs.blocks(paths["dpkg-log-gz"])[0]
    r = Rng(f"{rel}:gz-random")
    offs = sorted({blk + 20 + r.below(200) for _ in range(4)})
    c.raw(rel, "file-dpkg-log-gz-random", "file", f"dpkg.log.2.gz: bytes of the deflate stream XOR-ed at {hexs(offs)}",
          lambda p: [xor(p, x, r.mask()) for x in offs])


# --- zeroed regions and truncations ------------------------------------------------


def zeroed(c):
    for rel, count in ((f"{KES}.raw", 7), (f"{UBUNTU}.raw", 5), (f"{KES_UNINST}.raw", 2)):
        blocks = [b for b in data_blocks(c.sparse_base(rel)) if b >= 2048 * 512]
        for i in range(count):
            r = Rng(f"{rel}:zeroed-{i}")
            length = 65536 if i % 3 else 1 << 20
            start = blocks[r.below(len(blocks))]
            c.raw(rel, f"zeroed-{i}", "zeroed", f"{length} bytes at 0x{start:x} zeroed (a data block of the volume)",
                  lambda p, s=start, n=length: zero(p, s, min(n, os.path.getsize(p) - s)))
    rel = f"{KES}.raw"
    c.raw(rel, "zeroed-volume-second-half", "zeroed", "the NTFS volume's second half (24 MiB at 0x1900000) zeroed",
          lambda p: zero(p, (2048 + 49152) * 512, 24 << 20))


def truncated(c):
    mib = 1 << 20
    plans = {
        f"{KES}.raw": [512, 17 * 1024, mib + 512, mib + 20480, mib + 65536, 2 * mib, 8 * mib, 16 * mib,
                       32 * mib, 49 * mib - 512, 64 * mib - 512, 64 * mib - 1],
        f"{UBUNTU}.raw": [mib, mib + 2048, mib + 8192, mib + 200 * 1024, 8 * mib, 33 * mib - 512, 64 * mib - 1],
        f"{KSWS}.raw": [mib + 65536, 8 * mib],
        "windows.raw": [mib, 40 * mib],
        "linux.raw": [40 * mib],
    }
    for rel, sizes in plans.items():
        for s in sizes:
            c.raw(rel, f"truncated-{s}", "truncated", f"truncated to {s} bytes",
                  lambda p, s=s: trunc(p, s))


# --- containers --------------------------------------------------------------------------------


def ewf_set(c, base, count):
    return [f"{base}.E{k:02d}" for k in range(1, count + 1)]


def ewf(c):
    sets = {KES: 5, UBUNTU: 3, "windows": 5}
    for base, n in sets.items():
        segs = ewf_set(c, base, n)
        short = os.path.basename(base)
        full = base == KES
        lite = base == "windows"

        def variant(tag, region, damage, build, entry=None):
            """build(name) lays out the variant's segments in its folder."""
            name = f"{short}.E01-{tag}"
            c.folder(name)
            build(name)
            c.add(name, f"{base}.E01", entry or f"{short}.E01", region, damage)

        def links(name, skip=(), rename=None):
            for s in segs:
                if s in skip:
                    continue
                c.link(name, s, (rename or {}).get(s))

        for k in ((1, n - 1) if lite else range(1, n)):
            missing = segs[k]
            variant(f"missing-E{k + 1:02d}", "ewf-segments", f"segment {os.path.basename(missing)} missing",
                    lambda nm, m=missing: links(nm, skip=(m,)))
        truncs = [(0, 13), (n - 1, 0)] if lite else [(0, 13), (0, 2048), (0, 1 << 20), (1, 100000), (n - 1, 0),
                                                     (n - 1, 1000)]
        if full:
            truncs += [(1, 0), (2, 8 << 20), (n - 1, os.path.getsize(c.evidence(segs[-1])) - 100)]
        for k, size in truncs:
            s = segs[k]
            variant(f"short-E{k + 1:02d}-{size}", "ewf-segments",
                    f"segment {os.path.basename(s)} truncated to {size} bytes",
                    lambda nm, s=s, size=size: (links(nm, skip=(s,)), trunc(c.copy(nm, s), size)))
        swaps = [(1, 2)] + ([(0, 1), (n - 2, n - 1)] if full else [])
        for a, b in swaps:
            sa, sb = segs[a], segs[b]
            variant(f"swapped-E{a + 1:02d}-E{b + 1:02d}", "ewf-segments",
                    f"segments {os.path.basename(sa)} and {os.path.basename(sb)} swapped (file names exchanged)",
                    lambda nm, sa=sa, sb=sb: links(nm, rename={sa: os.path.basename(sb), sb: os.path.basename(sa)}))
        if full:
            variant("duplicate-E03", "ewf-segments", "E03 is a copy of E02 (E03 itself missing)",
                    lambda nm: (links(nm, skip=(segs[2],)), c.link(nm, segs[1], os.path.basename(segs[2]))))
            variant("extra-E06", "ewf-segments", "an extra segment E06, a copy of E05",
                    lambda nm: (links(nm), c.link(nm, segs[4], f"{short}.E06")))
            foreign = f"{KES_UNINST}.E03"
            variant("foreign-E03", "ewf-segments", f"E03 replaced by {foreign} (another acquisition's set)",
                    lambda nm: (links(nm, skip=(segs[2],)), c.link(nm, foreign, os.path.basename(segs[2]))))

        def in_segment(tag, k, region, why, edit):
            s = segs[k]

            def build(nm):
                links(nm, skip=(s,))
                p = c.copy(nm, s)
                return edit(p)
            variant(tag, region, f"{os.path.basename(s)}: {why}", build)

        in_segment("signature", 0, "ewf-header", "file signature 'EVF' -> 'EVX'", lambda p: put(p, 2, b"X"))
        if lite:
            continue
        in_segment("segment-number-dup", 1, "ewf-header", "segment number 2 -> 1", lambda p: u16(p, 9, 1))
        if full:
            in_segment("segment-number-zero", 1, "ewf-header", "segment number 2 -> 0", lambda p: u16(p, 9, 0))
            in_segment("segment-number-huge", 2, "ewf-header", "segment number 3 -> 0xffff",
                       lambda p: u16(p, 9, 0xFFFF))
        e01 = c.evidence(segs[0])
        sec = ewf_sections(e01)
        vol = sec["volume"][0]
        table = sec["table"][0]
        sectors = sec["sectors"][0]
        in_segment("volume-type", 0, "ewf-section", f"'volume' section type (0x{vol:x}) -> 'volumX'",
                   lambda p: put(p, vol + 4, b"X"))
        in_segment("volume-next", 0, "ewf-section", f"'volume' section next offset (0x{vol + 16:x}) -> 2^40",
                   lambda p: u64(p, vol + 16, 1 << 40))
        in_segment("table-count", 0, "ewf-section", f"'table' entry count (0x{table + 76:x}) -> 0x7fffffff",
                   lambda p: u32(p, table + 76, 0x7FFFFFFF))
        in_segment("sectors-size", 0, "ewf-section", f"'sectors' section size (0x{sectors + 24:x}) -> 2^50",
                   lambda p: u64(p, sectors + 24, 1 << 50))
        if full:
            in_segment("header-zlib", 0, "ewf-section",
                       f"'header' section's compressed data XOR-ed (0x{sec['header'][0] + 76 + 10:x})",
                       lambda p: xor(p, sec["header"][0] + 76 + 10))
            in_segment("volume-chunk-count", 0, "ewf-section",
                       f"'volume' number of chunks (0x{vol + 76 + 4:x}) -> 0xffffffff",
                       lambda p: u32(p, vol + 76 + 4, 0xFFFFFFFF))
            in_segment("volume-sectors-per-chunk", 0, "ewf-section",
                       f"'volume' sectors per chunk (0x{vol + 76 + 8:x}) -> 0",
                       lambda p: u32(p, vol + 76 + 8, 0))
            in_segment("volume-bytes-per-sector", 0, "ewf-section",
                       f"'volume' bytes per sector (0x{vol + 76 + 12:x}) -> 1",
                       lambda p: u32(p, vol + 76 + 12, 1))
            in_segment("volume-sector-count", 0, "ewf-section",
                       f"'volume' sector count (0x{vol + 76 + 16:x}) -> 2^40",
                       lambda p: u64(p, vol + 76 + 16, 1 << 40))
            in_segment("table-and-table2-count", 0, "ewf-section", "'table' and 'table2' entry counts -> 0x7fffffff",
                       lambda p: (u32(p, table + 76, 0x7FFFFFFF), u32(p, sec["table2"][0] + 76, 0x7FFFFFFF)))
            last = c.evidence(segs[-1])
            ls = ewf_sections(last)
            in_segment("hash-md5", n - 1, "ewf-section", f"'hash' section MD5 XOR-ed (0x{ls['hash'][0] + 76:x})",
                       lambda p: xor(p, ls["hash"][0] + 76))
            in_segment("done-type", n - 1, "ewf-section", f"'done' section type -> 'donX' (0x{ls['done'][0]:x})",
                       lambda p: put(p, ls["done"][0] + 3, b"X"))
            for k in range(2):
                chunks, t = ewf_chunks(c.evidence(segs[k]))
                r = Rng(f"{base}:table-random-{k}")
                idx = sorted({r.below(len(chunks)) for _ in range(4)})
                in_segment(f"table-entries-E{k + 1:02d}", k, "ewf-section",
                           f"'table' entries {idx} -> 0x7ffffff0 (table2 intact)",
                           lambda p, t=t, idx=idx: [u32(p, t + 24 + 4 * i, 0x7FFFFFF0) for i in idx])
                in_segment(f"table-and-table2-entries-E{k + 1:02d}", k, "ewf-section",
                           f"'table' and 'table2' entries {idx} -> 0x7ffffff0",
                           lambda p, t=t, idx=idx, k=k: [
                               u32(p, tt + 24 + 4 * i, 0x7FFFFFF0)
                               for tt in (t, ewf_sections(c.evidence(segs[k]))["table2"][0] + 76) for i in idx])

        # Chunks: the disk offsets of what the scan needs, and seeded others.
        targets = []
        if base == KES:
            fs = Ntfs(c.sparse_base(f"{KES}.raw"), 2048)
            targets = [("gpt", 512), ("ntfs-boot", fs.base), ("mft", fs.record(0)),
                       ("mft-software", fs.record(fs.inode(KES_PATHS["software"]))),
                       ("software", fs.file_map(KES_PATHS["software"])[0][0]),
                       ("kes-evtx", fs.file_map(KES_PATHS["kes-evtx"])[0][0])]
        elif base == UBUNTU:
            fs = Ext4(c.sparse_base(f"{UBUNTU}.raw"), 2048)
            targets = [("mbr", 0), ("ext4-super", fs.sb), ("inodes", fs.inode_table(0)),
                       ("dpkg-status", fs.blocks("var/lib/dpkg/status")[0])]
        seg_chunks = [ewf_chunks(c.evidence(s))[0] for s in segs]
        flat = [(k, o) for k, ch in enumerate(seg_chunks) for o in ch]
        for label, disk_off in targets:
            k, o = flat[disk_off // 32768]
            in_segment(f"chunk-{label}", k, "ewf-chunk",
                       f"chunk {disk_off // 32768} (disk 0x{disk_off:x}, file 0x{o:x}): 4 bytes XOR-ed (checksum mismatch)",
                       lambda p, o=o, d=disk_off % 32768: [xor(p, o + d + i) for i in range(4)])
        for i in range(4 if full else 2):
            r = Rng(f"{base}:chunk-random-{i}")
            ci = r.below(len(flat))
            k, o = flat[ci]
            off = o + r.below(32768)
            in_segment(f"chunk-random-{i}", k, "ewf-chunk",
                       f"chunk {ci}: byte 0x{off:x} XOR-ed", lambda p, off=off, r=r: xor(p, off, r.mask()))

    # linux.E01: one compressed segment.
    rel = "linux.E01"
    chunks, t = ewf_chunks(c.evidence(rel))
    for i in range(3):
        r = Rng(f"{rel}:chunk-random-{i}")
        ci = r.below(len(chunks) - 1)
        ln = chunks[ci + 1] - chunks[ci]
        off = chunks[ci] + r.below(ln)
        c.raw(rel, f"zchunk-random-{i}", "ewf-chunk",
              f"compressed chunk {ci} ({ln} bytes at 0x{chunks[ci]:x}): byte 0x{off:x} XOR-ed",
              lambda p, off=off, r=r: xor(p, off, r.mask()))
    c.raw(rel, "zchunk-first-zeroed", "ewf-chunk", f"compressed chunk 0 (0x{chunks[0]:x}) zeroed",
          lambda p: zero(p, chunks[0], chunks[1] - chunks[0]))
    for size in (4096, os.path.getsize(c.evidence(rel)) // 2, os.path.getsize(c.evidence(rel)) - 300):
        c.raw(rel, f"truncated-{size}", "ewf-segments", f"the only segment truncated to {size} bytes",
              lambda p, s=size: trunc(p, s))


def vhd(c):
    for rel in (f"{KES}.vhd", f"{UBUNTU}.vhd", "windows.vhd"):
        full = rel == f"{KES}.vhd"
        size = os.path.getsize(c.evidence(rel))
        foot = size - 512

        def footer(tag, why, edit, both=False, recompute=True):
            def ed(p):
                for at in ([foot, 0] if both else [foot]):
                    edit(p, at)
                    if recompute:
                        put(p, at + 0x40, vhd_checksum(get(p, at, 512), 0x40))
            c.raw(rel, f"vhd-footer-{tag}", "vhd-footer",
                  f"VHD footer (0x{foot:x}{' and its copy at 0' if both else ''}): {why}"
                  + ("; checksum recomputed" if recompute else ""), ed)

        if full:
            footer("cookie", "'conectix' -> 'conectiX'", lambda p, a: put(p, a + 7, b"X"), recompute=False)
        footer("cookie-both", "'conectix' -> 'conectiX'", lambda p, a: put(p, a + 7, b"X"), both=True,
               recompute=False)
        if full:
            footer("checksum", "checksum XOR 0xff", lambda p, a: xor(p, a + 0x40), recompute=False)
        footer("size-huge", "current size -> 2^60", lambda p, a: put(p, a + 0x30, struct.pack(">Q", 1 << 60)),
               both=True)
        if full:
            footer("size-half", "current size -> half",
                   lambda p, a: put(p, a + 0x30, struct.pack(">Q", 32 << 20)), both=True)
        c.raw(rel, "vhd-footer-removed", "vhd-footer", "the trailing footer cut off (512 bytes)",
              lambda p: trunc(p, foot))
        if not full:
            continue
        footer("size-zero", "current size -> 0", lambda p, a: put(p, a + 0x30, bytes(8)), both=True)
        footer("type-fixed", "disk type 3 (dynamic) -> 2 (fixed)", lambda p, a: put(p, a + 0x3C, b"\0\0\0\x02"),
               both=True)
        footer("type-differencing", "disk type -> 4 (differencing, no parent)",
               lambda p, a: put(p, a + 0x3C, b"\0\0\0\x04"), both=True)
        footer("data-offset-huge", "data offset -> 2^50",
               lambda p, a: put(p, a + 0x10, struct.pack(">Q", 1 << 50)), both=True)
        footer("data-offset-footer", "data offset -> the footer itself",
               lambda p, a: put(p, a + 0x10, struct.pack(">Q", foot)), both=True)
        dh = 512
        hdr = get(c.evidence(rel), dh, 1024)
        bat_off = struct.unpack_from(">Q", hdr, 0x10)[0]
        entries = struct.unpack_from(">I", hdr, 0x1C)[0]
        bat = struct.unpack_from(f">{entries}I", get(c.evidence(rel), bat_off, 4 * entries))

        def dyn(tag, why, edit, recompute=True):
            def ed(p):
                edit(p)
                if recompute:
                    put(p, dh + 0x24, vhd_checksum(get(p, dh, 1024), 0x24))
            c.raw(rel, f"vhd-header-{tag}", "vhd-header", f"VHD dynamic header (0x{dh:x}): {why}"
                  + ("; checksum recomputed" if recompute else ""), ed)

        dyn("cookie", "'cxsparse' -> 'cxsparsX'", lambda p: put(p, dh + 7, b"X"), recompute=False)
        dyn("checksum", "checksum XOR 0xff", lambda p: xor(p, dh + 0x24), recompute=False)
        dyn("table-huge", "BAT offset -> 2^50", lambda p: put(p, dh + 0x10, struct.pack(">Q", 1 << 50)))
        dyn("table-past-end", "BAT offset -> the footer", lambda p: put(p, dh + 0x10, struct.pack(">Q", foot)))
        dyn("entries-huge", "max table entries -> 0xffffffff", lambda p: put(p, dh + 0x1C, b"\xff\xff\xff\xff"))
        dyn("block-size-zero", "block size -> 0", lambda p: put(p, dh + 0x20, bytes(4)))
        dyn("block-size-small", "block size -> 512", lambda p: put(p, dh + 0x20, b"\0\0\x02\0"))
        used = [i for i, e in enumerate(bat) if e != 0xFFFFFFFF]
        for tag, i, v, why in (("bat-first-huge", used[0], 0x7FFFFFF0, "-> 0x7ffffff0 (past the file)"),
                               ("bat-first-zero", used[0], 0, "-> sector 0 (the footer copy)"),
                               ("bat-first-unallocated", used[0], 0xFFFFFFFF, "-> unallocated"),
                               ("bat-second-unallocated", used[1], 0xFFFFFFFF, "-> unallocated"),
                               ("bat-second-footer", used[1], foot // 512, "-> the footer's sector"),
                               ):
            c.raw(rel, f"vhd-{tag}", "vhd-bat", f"BAT (0x{bat_off:x}) entry {i} {why}",
                  lambda p, i=i, v=v: put(p, bat_off + 4 * i, struct.pack(">I", v)))
        c.raw(rel, "vhd-bat-zeroed", "vhd-bat", f"BAT (0x{bat_off:x}, {entries} entries) zeroed",
              lambda p: zero(p, bat_off, 4 * entries))
        c.raw(rel, "vhd-bitmap-zeroed", "vhd-bat", f"block {used[0]}'s sector bitmap (0x{bat[used[0]] * 512:x}) zeroed",
              lambda p: zero(p, bat[used[0]] * 512, 512))
        for s in (1536, size // 2):
            c.raw(rel, f"vhd-truncated-{s}", "vhd-footer", f"truncated to {s} bytes (footer and blocks lost)",
                  lambda p, s=s: trunc(p, s))


def vmdk(c):
    for rel in (f"{KES}.vmdk", f"{UBUNTU}.vmdk", "windows.vmdk"):
        full = rel == f"{KES}.vmdk"
        ev = c.evidence(rel)
        h = get(ev, 0, 512)
        desc = struct.unpack_from("<Q", h, 28)[0] * 512
        gd = struct.unpack_from("<Q", h, 56)[0] * 512
        gts = struct.unpack_from("<I", h, 44)[0]
        size = os.path.getsize(ev)

        def field(tag, off, data, why):
            c.raw(rel, f"vmdk-header-{tag}", "vmdk-header", f"sparse extent header: {why} at 0x{off:x}",
                  lambda p: put(p, off, data))

        field("magic", 3, b"X", "magic 'KDMV' -> 'KDMX'")
        field("grain-zero", 20, struct.pack("<Q", 0), "grain size -> 0")
        if full:
            field("capacity-huge", 12, struct.pack("<Q", 1 << 55), "capacity -> 2^55 sectors")
            field("capacity-zero", 12, struct.pack("<Q", 0), "capacity -> 0")
            field("capacity-half", 12, struct.pack("<Q", 65536), "capacity -> half the disk")
            field("grain-huge", 20, struct.pack("<Q", 1 << 40), "grain size -> 2^40 sectors")
            field("gtes-zero", 44, struct.pack("<I", 0), "grain table entries per table -> 0")
            field("gd-huge", 56, struct.pack("<Q", 1 << 50), "grain directory offset -> 2^50")
            field("gd-zero", 56, struct.pack("<Q", 0), "grain directory offset -> 0")
            field("both-gd-huge", 48, struct.pack("<QQ", 1 << 50, 1 << 50), "both grain directory offsets -> 2^50")
        text = get(ev, desc, 1024).split(b"\0")[0]

        def descr(tag, old, new):
            i = text.index(old)
            c.raw(rel, f"vmdk-descriptor-{tag}", "vmdk-descriptor",
                  f"descriptor: {old.decode()!r} -> {new.decode()!r}",
                  lambda p: put(p, desc + i, new + b" " * (len(old) - len(new))))

        m = re.search(rb"RW \d+ SPARSE", text).group(0)
        if full:
            descr("create-type", b'createType="monolithicSparse"', b'createType="bogusSparse"')
            descr("extent-size", m, b"RW 99 SPARSE")
            descr("extent-huge", m, b"RW 999999999999")
            descr("extent-file", re.search(rb'"[^"]+\.vmdk"', text).group(0), b'"missing.vmdk"')
            c.raw(rel, "vmdk-descriptor-zeroed", "vmdk-descriptor", f"descriptor (0x{desc:x}) zeroed",
                  lambda p: zero(p, desc, len(text)))
        gde = struct.unpack_from("<2I", get(ev, gd, 8))
        gt = gde[0] * 512
        gte = struct.unpack_from(f"<{gts}I", get(ev, gt, 4 * gts))
        used = [i for i, e in enumerate(gte) if e]
        c.raw(rel, "vmdk-gd-huge", "vmdk-gd", f"grain directory (0x{gd:x}) entry 0 -> 0x7ffffff0",
              lambda p: u32(p, gd, 0x7FFFFFF0))
        if full:
            c.raw(rel, "vmdk-gd-zero", "vmdk-gd", f"grain directory (0x{gd:x}) entry 0 -> 0", lambda p: u32(p, gd, 0))
            c.raw(rel, "vmdk-gd-header", "vmdk-gd", f"grain directory (0x{gd:x}) entry 0 -> 1 (the descriptor)",
                  lambda p: u32(p, gd, 1))
            c.raw(rel, "vmdk-gd-both-huge", "vmdk-gd", "grain directory and redundant one: entry 0 -> 0x7ffffff0",
                  lambda p: (u32(p, gd, 0x7FFFFFF0),
                             u32(p, struct.unpack_from("<Q", get(p, 48, 8))[0] * 512, 0x7FFFFFF0)))
            for tag, i, v, why in (("first-huge", used[0], 0x7FFFFFF0, "-> 0x7ffffff0 (past the file)"),
                                   ("first-zero", used[0], 0, "-> 0 (unallocated: reads as zeros)"),
                                   ("first-header", used[0], 1, "-> sector 1 (the descriptor)"),
                                   ("second-huge", used[1], 0x7FFFFFF0, "-> 0x7ffffff0"),
                                   ("second-dup", used[1], gte[used[0]], f"-> grain {used[0]}'s sector")):
                c.raw(rel, f"vmdk-gt-{tag}", "vmdk-gt", f"grain table (0x{gt:x}) entry {i} {why}",
                      lambda p, i=i, v=v: u32(p, gt + 4 * i, v))
            for i in range(2):
                r = Rng(f"{rel}:gt-random-{i}")
                idx = sorted({used[r.below(len(used))] for _ in range(2)})
                c.raw(rel, f"vmdk-gt-random-{i}", "vmdk-gt",
                      f"grain table entries {idx} -> random sectors",
                      lambda p, idx=idx, r=r: [u32(p, gt + 4 * k, r.below(1 << 20)) for k in idx])
        for s in ((size // 2, size - 65536) if full else (size // 2,)):
            c.raw(rel, f"vmdk-truncated-{s}", "vmdk-gt", f"truncated to {s} bytes", lambda p, s=s: trunc(p, s))


def split(c):
    # kes-active.raw cut into four 16 MiB parts (.000...), then damaged.
    rel = f"{KES}.raw"
    part = 16 << 20

    def parts(name, skip=(), shorten=None, rename=None, extra=False):
        src = c.sparse_base(rel)
        for k in range(4):
            if k in skip:
                continue
            dst = os.path.join(c.out, "v", name, f"kes-active.{(rename or {}).get(k, k):03d}")
            with open(src, "rb") as f, open(dst, "wb") as g:
                f.seek(k * part)
                n = part if shorten is None or shorten[0] != k else shorten[1]
                for off in range(0, n, 1 << 16):
                    b = f.read(min(1 << 16, n - off))
                    if b.count(0) == len(b):
                        g.seek(len(b), 1)
                    else:
                        g.write(b)
                g.truncate(n)
        if extra:
            subprocess.run(["cp", "--sparse=always", os.path.join(c.out, "v", name, "kes-active.003"),
                            os.path.join(c.out, "v", name, "kes-active.004")], check=True)

    def variant(tag, why, **kw):
        name = f"kes-active.split-{tag}"
        c.folder(name)
        parts(name, **kw)
        c.add(name, rel, "kes-active.000", "split-parts", f"kes-active.raw in four 16 MiB parts .000-.003: {why}")

    variant("missing-001", ".001 missing", skip=(1,))
    variant("missing-002", ".002 missing", skip=(2,))
    variant("missing-003", ".003 (last) missing", skip=(3,))
    variant("empty-001", ".001 empty", shorten=(1, 0))
    variant("short-001", ".001 cut to 8 MiB", shorten=(1, 8 << 20))
    variant("short-003", ".003 cut to 1000 bytes", shorten=(3, 1000))
    variant("swapped-001-002", ".001 and .002 swapped", rename={1: 2, 2: 1})
    variant("swapped-000-001", ".000 and .001 swapped", rename={0: 1, 1: 0})
    variant("extra-004", "an extra .004, a copy of .003", extra=True)

    for base, names, first in (("windows.split", ["000", "001", "002", "003"], "000"),
                               ("linux.split", ["aa", "ab", "ac", "ad"], "aa")):
        short = base

        def v2(tag, why, skip=(), rename=None, shorten=None):
            name = f"{short}-{tag}"
            c.folder(name)
            for s in names:
                if s in skip:
                    continue
                dst = c.link(name, f"{base}.{s}", f"{base}.{(rename or {}).get(s, s)}")
                if shorten and shorten[0] == s:
                    os.unlink(dst)
                    trunc(c.copy(name, f"{base}.{s}"), shorten[1])
            c.add(name, f"{base}.{first}", f"{base}.{first}", "split-parts", f"{base}.*: {why}")

        v2("missing-second", f"part .{names[1]} missing", skip=(names[1],))
        if base == "linux.split":
            continue
        v2("missing-last", f"part .{names[3]} missing", skip=(names[3],))
        v2("swapped", f"parts .{names[1]} and .{names[2]} swapped", rename={names[1]: names[2], names[2]: names[1]})
        v2("short-second", f"part .{names[1]} cut to 1000 bytes", shorten=(names[1], 1000))


CATEGORIES = [gpt, mbr, ntfs_boot, mft, hives, artifacts, ext4, zeroed, truncated, ewf, vhd, vmdk, split]


def inputs_stamp(evidence):
    h = hashlib.sha256()
    with open(__file__, "rb") as f:
        h.update(f.read())
    for root, dirs, files in os.walk(evidence):
        dirs.sort()
        for name in sorted(files):
            p = os.path.join(root, name)
            st = os.lstat(p)
            h.update(f"{os.path.relpath(p, evidence)} {st.st_size} {st.st_ino} {st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def main():
    if len(sys.argv) != 3:
        print(f"usage: {sys.argv[0]} EVIDENCE_DIR OUTDIR", file=sys.stderr)
        return 2
    evidence, out = (os.path.realpath(a) for a in sys.argv[1:])
    os.environ.update(TZ="UTC", LC_ALL="C")
    stamp = os.path.join(out, ".stamp")
    want = inputs_stamp(evidence)
    if os.path.exists(stamp) and open(stamp).read().strip() == want:
        print(f"campaign in {out} is up to date")
        return 0
    shutil.rmtree(out, ignore_errors=True)
    c = Campaign(evidence, out)
    for category in CATEGORIES:
        before = len(c.rows)
        category(c)
        print(f"{category.__name__}: {len(c.rows) - before} variants")
    c.finish()
    names = [r[0] for r in c.rows]
    assert len(names) == len(set(names)), "duplicate variant names"
    with open(stamp, "w") as f:
        f.write(want + "\n")
    print(f"{len(c.rows)} variants in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
