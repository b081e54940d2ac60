#!/usr/bin/env python3
"""kt-mkvss.py - give an NTFS volume Volume Shadow Copies of earlier states.

Usage: kt-mkvss.py LIVE PAST CATALOG_FILE STORE_FILE CONF [PAST STORE_FILE CONF]...

LIVE is an NTFS volume image (modified in place); each PAST STORE_FILE CONF
is one shadow copy, oldest first: PAST the same volume as it was when the
copy was taken (same size), STORE_FILE the file its store is written over.
CATALOG_FILE and the STORE_FILEs name files of LIVE (paths inside the
volume) that kt-ntfs-populate created full of a filler: the VSS catalog
and the stores are written over their clusters, as Windows keeps them in
"System Volume Information". CONF holds KEY<TAB>VALUE lines: created (the
shadow copy's creation time, YYYY-MM-DDTHH:MM:SS.fffffffZ), store_id,
copy_id, copy_set_id, volume_id (GUIDs), machine (the operating and
service machine name).

The format is the one libvshadow's documentation describes ("Volume Shadow
Snapshot (VSS) format"), version 1 (Windows Vista, 7):
  volume header at 0x1e00 (in $Boot) -> catalog block (type 2 entry with
  the volume size, store identifier and creation time; type 3 entry with the
  offsets of the store's header, block list, block range list and bitmap)
  -> store header (record type 4) with the store information (copy and copy
  set identifiers, attribute flags, machine names), block list blocks
  (type 3) of 32-byte block descriptors (original offset, relative and
  absolute offset of the copy in the store), one block range list block
  (type 5), one current bitmap block (type 6), and the data blocks.
The catalog lists the stores oldest first (entries of types 2 and 3 for
each). The newest store holds the blocks of its PAST that differ from LIVE;
an older store those of its PAST that differ from what libvshadow reads
for it without them (the next newer store's copy, else LIVE), as Windows
applies the stores newest first over the live volume. Every 16 KiB block
of the newest PAST that differs from LIVE gets a descriptor and a copy in
its store. The blocks the catalog and store files occupy in LIVE
are compared with what they held in PAST: a block that held data then is
copied too; one that was all zeros is flagged in the current bitmap (not in
use: libvshadow reads it as zeros). Reading the newest store through
libvshadow thus gives its PAST byte for byte. Only the newest store's
bitmap counts (libvshadow, like Windows, ignores an older store's): in an
older store, a block that was all zeros in its PAST (free space then) and
that the stores occupy now reads as the live volume's bytes; every other
block reads as its PAST.

Deterministic: the same inputs give the same bytes. Needs sleuthkit's ifind
and istat to find the two files' clusters. Errors: a message on stderr,
exit 1; usage: exit 2.
"""
import datetime
import re
import struct
import subprocess
import sys
import uuid

VSS_ID = uuid.UUID("3808876b-c176-4e48-b7ae-04046e6cc752").bytes_le
BLOCK = 0x4000
HEADER_OFFSET = 0x1E00
DESCRIPTORS_PER_BLOCK = (BLOCK - 128) // 32
# Persistent, client-accessible, no auto-release, differential,
# auto-recover: what a System Restore point carries.
ATTRIBUTES = 0x0042000D


def die(msg):
    print(f"kt-mkvss: {msg}", file=sys.stderr)
    sys.exit(1)


def filetime(text):
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,7}))?Z", text)
    if not m:
        die(f"bad time '{text}'")
    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    t = t.replace(tzinfo=datetime.timezone.utc)
    secs = int((t - datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)).total_seconds())
    frac = int((m.group(2) or "0").ljust(7, "0"))
    return secs * 10_000_000 + frac


def block_header(record_type, relative, current, nxt, info_size=0):
    h = VSS_ID + struct.pack("<IIQQQQ", 1, record_type, relative, current, nxt, info_size)
    return h.ljust(128, b"\0")


def file_runs(image, path):
    """(inode, [(byte offset, byte length)]) of a non-resident file."""
    inum = subprocess.run(["ifind", "-n", path, image], check=True, capture_output=True,
                          text=True).stdout.strip()
    if not inum.isdigit():
        die(f"'{path}' not found in {image}")
    out = subprocess.run(["istat", image, inum], check=True, capture_output=True,
                         text=True).stdout
    csize = int(re.search(r"Cluster Size: (\d+)", subprocess.run(
        ["fsstat", image], check=True, capture_output=True, text=True).stdout).group(1))
    seq = int(re.search(r"Sequence: (\d+)", out).group(1)) if "Sequence:" in out else 1
    m = re.search(r"Type: \$DATA \(128-\d+\)\s+Name: N/A\s+Non-Resident[^\n]*\n(.*?)(?:\n\n|\Z)",
                  out, re.S)
    if not m:
        die(f"'{path}': no non-resident $DATA")
    clusters = [int(c) for c in m.group(1).split()]
    runs = []
    for c in clusters:
        if runs and runs[-1][0] + runs[-1][1] == c * csize:
            runs[-1][1] += csize
        else:
            runs.append([c * csize, csize])
    return int(inum) | (seq << 48), [tuple(r) for r in runs]


def read_conf(path):
    conf = {}
    for line in open(path, encoding="utf-8"):
        if line.strip() and not line.startswith("#"):
            k, v = line.rstrip("\n").split("\t", 1)
            conf[k] = v
    return conf


def main():
    args = sys.argv[1:]
    if len(args) < 5 or (len(args) - 2) % 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        sys.exit(2)
    live_path, catalog_file = args[0], args[2]
    # the first store's PAST comes before CATALOG_FILE (the one-store form)
    groups = [(args[1], args[3], args[4])] + [tuple(args[i:i + 3]) for i in range(5, len(args), 3)]

    live = bytearray(open(live_path, "rb").read())
    if len(live) % BLOCK:
        die("LIVE must be a multiple of 16 KiB")
    nblocks = len(live) // BLOCK
    _, cat_runs = file_runs(live_path, catalog_file)
    if len(cat_runs) != 1 or cat_runs[0][1] < BLOCK:
        die(f"the catalog file must be one run of at least 16 KiB: {cat_runs}")
    catalog_off = cat_runs[0][0]

    stores = []
    for past_path, store_file, conf_path in groups:
        conf = read_conf(conf_path)
        past = open(past_path, "rb").read()
        if len(past) != len(live):
            die(f"{past_path}: not the size of LIVE")
        ref, runs = file_runs(live_path, store_file)
        # The store file's 16 KiB pieces that lie in one run: (offset in
        # the file, offset in the volume).
        chunks, file_off = [], 0
        for off, length in runs:
            for k in range(length // BLOCK):
                chunks.append((file_off + k * BLOCK, off + k * BLOCK))
            file_off += length
        stores.append({"past": past, "conf": conf, "created": filetime(conf["created"]),
                       "guid": {k: uuid.UUID(conf[k]).bytes_le
                                for k in ("store_id", "copy_id", "copy_set_id", "volume_id")},
                       "ref": ref, "runs": runs, "chunks": chunks, "len": file_off})
    for older, newer in zip(stores, stores[1:]):
        if older["created"] >= newer["created"]:
            die("stores must be given oldest first")

    # The 16 KiB volume blocks the catalog and store files cover.
    meta_blocks = set()
    for off, length in cat_runs + [r for st in stores for r in st["runs"]]:
        meta_blocks.update(range(off // BLOCK, (off + length + BLOCK - 1) // BLOCK))

    # What each store must hold, newest first. libvshadow reads a block of
    # store i from its own descriptor, else from the next (newer) store's,
    # and so on, else from the live volume; only the newest store, read
    # itself, takes its current bitmap's "not in use" (zeros). So the
    # newest store holds the blocks of its PAST that differ from LIVE; an
    # older one those that differ from what the newer stores give back.
    zero = bytes(BLOCK)
    n = len(stores)
    for i in reversed(range(n)):
        past = stores[i]["past"]
        copied, unused = [], []
        for b in range(nblocks):
            p = past[b * BLOCK:(b + 1) * BLOCK]
            if b in meta_blocks:
                if p != zero:
                    copied.append(b)
                elif i == n - 1:
                    unused.append(b)
                continue
            if i == n - 1:
                if b == HEADER_OFFSET // BLOCK or p != live[b * BLOCK:(b + 1) * BLOCK]:
                    copied.append(b)
                continue
            fall = live[b * BLOCK:(b + 1) * BLOCK]
            for j in range(i + 1, n):
                if b in stores[j]["copied_set"]:
                    fall = stores[j]["past"][b * BLOCK:(b + 1) * BLOCK]
                    break
            if p != fall:
                copied.append(b)
        stores[i].update(copied=copied, copied_set=set(copied), unused=unused)

    catalog = bytearray(BLOCK)
    catalog[0:128] = block_header(2, 0, catalog_off, 0)
    for st in stores:
        for off, length in st["runs"]:
            live[off:off + length] = bytes(length)
    for i, st in enumerate(stores):
        pieces = store_pieces(st, nblocks)
        for off, piece in pieces.items():
            live[off:off + len(piece)] = piece
        guid = st["guid"]
        at = 128 + 256 * i
        catalog[at:at + 128] = (struct.pack("<QQ", 2, len(live)) + guid["store_id"] +
                                struct.pack("<QQQ", i + 1, 0x40, st["created"])).ljust(128, b"\0")
        catalog[at + 128:at + 256] = (
            struct.pack("<QQ", 3, st["lists"][0][1]) + guid["store_id"] +
            struct.pack("<QQQQQQQ", st["header"][1], st["ranges"][1], st["bitmap"][1], st["ref"],
                        st["len"], 0, 0)).ljust(128, b"\0")

    volume_id = stores[0]["guid"]["volume_id"]
    volume_header = (VSS_ID + struct.pack("<IIQQQQQ", 1, 1, HEADER_OFFSET, HEADER_OFFSET, 0,
                                          catalog_off, 0) +
                     volume_id + volume_id).ljust(512, b"\0")
    if any(live[HEADER_OFFSET:HEADER_OFFSET + 512]):
        die("the volume's bytes at 0x1e00 are not free")
    live[HEADER_OFFSET:HEADER_OFFSET + 512] = volume_header
    live[catalog_off:catalog_off + BLOCK] = catalog
    with open(live_path, "r+b") as f:
        f.write(live)
    for i, st in enumerate(stores):
        print(f"kt-mkvss: store {i + 1}: {len(st['copied'])} blocks "
              f"({len(st['copied']) * BLOCK} bytes), {len(st['unused'])} flagged unused, "
              f"in {st['len']} bytes ({len(st['runs'])} runs)")


def store_pieces(st, nblocks):
    """The store's blocks: {volume offset: bytes}; sets st's header, lists,
    ranges and bitmap (each (offset in the store file, volume offset))."""
    copied, chunks, past = st["copied"], st["chunks"], st["past"]
    nlist = (len(copied) + DESCRIPTORS_PER_BLOCK - 1) // DESCRIPTORS_PER_BLOCK or 1
    # Store layout, in the file's pieces: header, block list, block range
    # list, bitmap, data.
    need = 3 + nlist + len(copied)
    if need > len(chunks):
        die(f"a store file holds {len(chunks)} pieces of 16 KiB; {need} are needed")
    header, lists = chunks[0], chunks[1:1 + nlist]
    ranges, bitmap_at = chunks[1 + nlist], chunks[2 + nlist]
    data = chunks[3 + nlist:]
    st.update(header=header, lists=lists, ranges=ranges, bitmap=bitmap_at)
    pieces = {}
    guid = st["guid"]
    machine = st["conf"]["machine"].encode("utf-16-le")
    info = (bytes(16) + guid["copy_id"] + guid["copy_set_id"] +
            struct.pack("<IIII", 0x0D, 1, ATTRIBUTES, 0) +
            struct.pack("<H", len(machine)) + machine +
            struct.pack("<H", len(machine)) + machine)
    pieces[header[1]] = block_header(4, header[0], header[1], 0, len(info)) + info

    for i, (rel, vol) in enumerate(lists):
        nxt = lists[i + 1][1] if i + 1 < nlist else 0
        blk = bytearray(block_header(3, rel, vol, nxt))
        for j, b in enumerate(copied[i * DESCRIPTORS_PER_BLOCK:(i + 1) * DESCRIPTORS_PER_BLOCK]):
            d_rel, d_vol = data[i * DESCRIPTORS_PER_BLOCK + j]
            blk += struct.pack("<QQQII", b * BLOCK, d_rel, d_vol, 0, 0)
            pieces[d_vol] = past[b * BLOCK:(b + 1) * BLOCK]
        pieces[vol] = bytes(blk)

    blk = bytearray(block_header(5, ranges[0], ranges[1], 0))
    file_off = 0
    for off, length in st["runs"]:
        blk += struct.pack("<QQQ", off, file_off, length)
        file_off += length
    pieces[ranges[1]] = bytes(blk)

    bitmap = bytearray((nblocks + 7) // 8)
    for b in st["unused"]:
        bitmap[b // 8] |= 1 << (b % 8)
    pieces[bitmap_at[1]] = block_header(6, bitmap_at[0], bitmap_at[1], 0) + bytes(bitmap)
    return pieces


if __name__ == "__main__":
    main()
