#!/usr/bin/env python3
"""Write the generated seeds of fuzz/corpus/ (the hand-written ones are
committed as they are): raw disks with MBR and GPT tables for fuzz_volume,
time zones for fuzz_wintz, a database for fuzz_sqlite. Deterministic:
running it again gives the same bytes. Run from anywhere:
    python3 fuzz/corpus/make-seeds.py"""
import os
import sqlite3
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SS = 512


def put(kind, name, data):
    d = os.path.join(HERE, kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def mbr_entry(boot, ptype, start, count):
    # 0x00 status, 0x01 CHS (unused here), 0x04 type, 0x08 first LBA, 0x0c sectors
    return struct.pack("<B3sB3sII", boot, b"\0\0\0", ptype, b"\0\0\0", start, count)


def mbr(entries):
    sec = bytearray(SS)
    for i, e in enumerate(entries):
        sec[446 + 16 * i:462 + 16 * i] = e
    sec[510:512] = b"\x55\xaa"
    return sec


def gpt_header(current, backup, first_usable, last_usable, entries_lba, count, esize, ecrc):
    # UEFI 2.x 5.3.2: signature, revision, header size, CRC (0 while computed), ...
    h = struct.pack("<8sIIIIQQQQ16sQIII", b"EFI PART", 0x10000, 92, 0, 0, current, backup,
                    first_usable, last_usable, b"kavtrace-fuzz-gd", entries_lba, count, esize,
                    ecrc)
    crc = zlib.crc32(h)
    h = h[:16] + struct.pack("<I", crc) + h[20:]
    return h + bytes(SS - len(h))


def gpt_entry(first, last, name):
    type_guid = bytes.fromhex("a2a0d0ebe5b9334487c068b6b72699c7")  # basic data
    uniq = bytes(range(16))
    n = name.encode("utf-16-le")[:72]
    return type_guid + uniq + struct.pack("<QQQ", first, last, 0) + n + bytes(72 - len(n))


def gpt_disk(sectors, parts, break_primary=False, break_backup=False):
    disk = bytearray(sectors * SS)
    disk[0:SS] = mbr([mbr_entry(0, 0xEE, 1, sectors - 1)])
    count, esize = 128, 128
    entries = bytearray(count * esize)
    for i, (first, last, name) in enumerate(parts):
        entries[i * esize:(i + 1) * esize] = gpt_entry(first, last, name)
    ecrc = zlib.crc32(entries)
    last = sectors - 1
    elen = count * esize // SS
    disk[2 * SS:2 * SS + len(entries)] = entries
    disk[(last - elen) * SS:(last - elen) * SS + len(entries)] = entries
    primary = bytearray(gpt_header(1, last, 2 + elen, last - elen - 1, 2, count, esize, ecrc))
    backup = bytearray(gpt_header(last, 1, 2 + elen, last - elen - 1, last - elen, count, esize,
                                  ecrc))
    if break_primary:
        primary[40] ^= 0xFF
    if break_backup:
        backup[40] ^= 0xFF
    disk[SS:2 * SS] = primary
    disk[last * SS:(last + 1) * SS] = backup
    return bytes(disk)


def volume_seeds():
    sectors = 96
    parts = [(40, 50, "one"), (51, 60, "two")]
    put("volume", "gpt.raw", gpt_disk(sectors, parts))
    put("volume", "gpt-bad-primary.raw", gpt_disk(sectors, parts, break_primary=True))
    put("volume", "gpt-bad-both.raw", gpt_disk(sectors, parts, True, True))
    put("volume", "gpt-past-end.raw", gpt_disk(sectors, [(40, 95, "to the end"), (50, 9999, "x")],
                                               break_primary=True))
    # Found by fuzz_volume: an entry whose first LBA does not fit a byte
    # offset (and whose last is before it), as libtsk passes it on.
    put("volume", "gpt-entry-out-of-range.raw",
        gpt_disk(sectors, parts + [(1 << 60, 255, "far"), (2 ** 64 - 2 ** 40, 60, "wrapped")]))
    disk = bytearray(64 * SS)
    disk[0:SS] = mbr([mbr_entry(0x80, 0x07, 2, 10), mbr_entry(0, 0x83, 12, 20),
                      mbr_entry(0, 0x0B, 40, 1000)])
    put("volume", "mbr-primary.raw", bytes(disk))
    # An extended partition at 32: its first EBR names a logical partition
    # and the next EBR at 40, whose link points back at the first (a loop).
    disk = bytearray(64 * SS)
    disk[0:SS] = mbr([mbr_entry(0, 0x83, 2, 20), mbr_entry(0, 0x05, 32, 32)])
    disk[32 * SS:33 * SS] = mbr([mbr_entry(0, 0x83, 1, 4), mbr_entry(0, 0x05, 8, 8)])
    disk[40 * SS:41 * SS] = mbr([mbr_entry(0, 0x07, 1, 4), mbr_entry(0, 0x05, 0, 8)])
    put("volume", "mbr-extended-loop.raw", bytes(disk))
    put("volume", "mbr-only.raw", bytes(mbr([mbr_entry(0, 0x07, 1, 1 << 31)])))


def tzi(bias, std_bias, dst_bias, std_start, dst_start, times=()):
    def systemtime(t):
        return struct.pack("<8H", *(list(t) + [0] * (8 - len(t))))
    data = struct.pack("<iii", bias, std_bias, dst_bias) + systemtime(std_start) + \
        systemtime(dst_start)
    for t in times:
        data += struct.pack("<q", t)
    return data


def wintz_seeds():
    ns = 1000000000
    times = [1710054000 * ns, 1710061200 * ns, 1730615400 * ns, 1730619000 * ns]
    # year, month, day of week, week (5 = last), hour, minute, second
    put("wintz", "central", tzi(360, 0, -60, (0, 11, 0, 1, 2), (0, 3, 0, 2, 2), times))
    put("wintz", "london", tzi(0, 0, -60, (0, 10, 0, 5, 2), (0, 3, 0, 5, 1), times))
    put("wintz", "sydney", tzi(-600, 0, -60, (0, 4, 0, 1, 3), (0, 10, 0, 1, 2), times))
    put("wintz", "india", tzi(-330, 0, 0, (), (), times))
    put("wintz", "odd-rules", tzi(-780, 0, -60, (0, 12, 6, 9, 25, 61), (0, 1, 7, 0, 0),
                                  [0, -1, 2 ** 62]))


def sqlite_seeds():
    path = os.path.join(HERE, "sqlite", "a.db")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.exists(path):
        os.unlink(path)
    db = sqlite3.connect(path)
    db.executescript("""
        PRAGMA page_size = 512;
        CREATE TABLE t(x INTEGER PRIMARY KEY, y TEXT, z BLOB);
        CREATE INDEX i ON t(y);
        CREATE VIEW v AS SELECT x, upper(y) FROM t;
        INSERT INTO t VALUES (1, 'detect', x'00ff'), (2, 'update', NULL);
    """)
    db.commit()
    db.close()


volume_seeds()
wintz_seeds()
sqlite_seeds()


def plist_seeds():
    import datetime
    import plistlib
    when = datetime.datetime(2024, 9, 19, 7, 30, 0)
    records = [
        {"date": when, "displayName": "Kaspersky Internet Security", "displayVersion": "21.3",
         "packageIdentifiers": ["com.kaspersky.kav.core", "com.kaspersky.kav.agent"],
         "processName": "Installer"},
        {"date": when, "displayName": "UltraAV", "packageIdentifiers": []},
    ]
    put("plist", "history.xml.plist", plistlib.dumps(records, fmt=plistlib.FMT_XML, sort_keys=True))
    put("plist", "history.bin.plist", plistlib.dumps(records, fmt=plistlib.FMT_BINARY,
                                                     sort_keys=True))


def xpress_seeds():
    # Two bytes of output size (x3 + 1), then Xpress Huffman (MS-XCA 2.2):
    # 256 bytes of 4-bit code lengths for 512 symbols, then the bit stream.
    table = bytes([0x99]) * 256  # every symbol 9 bits: a complete code
    stream = bytes(range(64)) * 4
    put("xpress", "all-nine-bits", struct.pack("<H", 100) + table + stream)
    lengths = bytearray(256)
    lengths[ord("a") // 2] = 0x11 if ord("a") % 2 == 0 else 0x10  # one literal, length 1
    lengths[128] = 0x01  # symbol 256 (a match), length 1
    put("xpress", "two-symbols", struct.pack("<H", 50) + bytes(lengths) + b"\x55" * 32)
    put("xpress", "short", b"\x05\x00" + bytes(40))


plist_seeds()
xpress_seeds()
