#!/usr/bin/python3
"""ndb2sqlite.py PACKAGES.DB OUT.SQLITE: copy the header blobs of rpm's ndb
package database into an rpmdb.sqlite that Debian's rpm (built without
ndb) reads with `rpm --dbpath`. A reader of the ndb container written from
rpm's lib/backend/ndb/rpmpkg.c for the checks, sharing no code with
kavtrace's (src/parsers/rpmdb_ndb.c) or with kt-mkrpmdb; the header blobs
are left to librpm. Every slot and blob is checked (magics, package index,
length, block count, Adler-32); any fault is an error (exit 1).
Prints one line per package: pkgidx, blob write time."""
import sqlite3
import struct
import sys
import zlib

PAGE, SLOT, BLK = 4096, 16, 16
INDEXES = ['Name', 'Basenames', 'Group', 'Requirename', 'Providename', 'Conflictname',
           'Obsoletename', 'Triggername', 'Dirnames', 'Installtid', 'Sigmd5', 'Sha1header',
           'Filetriggername', 'Transfiletriggername', 'Recommendname', 'Suggestname',
           'Supplementname', 'Enhancename']


def fail(msg):
    sys.stderr.write('ndb2sqlite: %s\n' % msg)
    sys.exit(1)


def read(path):
    data = open(path, 'rb').read()
    if len(data) < 32 or data[:4] != b'RpmP':
        fail('no RpmP header')
    version, generation, npages, nextidx = struct.unpack_from('<4I', data, 4)
    if version != 0 or npages < 1 or npages * PAGE > len(data):
        fail('header: version %d, %d slot pages, %d bytes' % (version, npages, len(data)))
    if len(data) % BLK:
        fail('size %d is not whole blocks' % len(data))
    out = []
    for slotno in range(32 // SLOT, npages * PAGE // SLOT):
        magic, pkgidx, blkoff, blkcnt = struct.unpack_from('<4s3I', data, slotno * SLOT)
        if magic != b'Slot':
            fail('slot %d: no Slot marker' % slotno)
        if blkoff == 0:
            continue
        if pkgidx == 0 or pkgidx >= nextidx or blkoff < npages * PAGE // BLK or \
                (blkoff + blkcnt) * BLK > len(data):
            fail('slot %d: pkgidx %d at block %d (%d blocks)' % (slotno, pkgidx, blkoff, blkcnt))
        at = blkoff * BLK
        bmagic, bidx, tstamp, blen = struct.unpack_from('<4s3I', data, at)
        if bmagic != b'BlbS' or bidx != pkgidx or (16 + blen + 12 + BLK - 1) // BLK != blkcnt:
            fail('slot %d: blob header %r %d %d' % (slotno, bmagic, bidx, blen))
        end = at + blkcnt * BLK
        adler, tlen, tmagic = struct.unpack_from('<I I 4s', data, end - 12)
        if tmagic != b'BlbE' or tlen != blen or zlib.adler32(data[at:end - 12]) != adler:
            fail('slot %d: blob tail' % slotno)
        if any(data[at + 16 + blen:end - 12]):
            fail('slot %d: padding not zero' % slotno)
        out.append((pkgidx, tstamp, data[at + 16:at + 16 + blen]))
    if len({p for p, _, _ in out}) != len(out):
        fail('a package index in two slots')
    return sorted(out)


def write(path, records):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, "
               "blob BLOB NOT NULL)")
    for name in INDEXES:
        db.execute("CREATE TABLE '%s' (key TEXT NOT NULL, hnum INTEGER NOT NULL, "
                   "idx INTEGER NOT NULL)" % name)
    for pkgidx, _, blob in records:
        db.execute('INSERT INTO Packages(hnum, blob) VALUES (?, ?)', (pkgidx, blob))
    db.commit()
    db.close()


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.stderr.write('usage: ndb2sqlite.py PACKAGES.DB OUT.SQLITE\n')
        sys.exit(2)
    recs = read(sys.argv[1])
    write(sys.argv[2], recs)
    for pkgidx, tstamp, _ in recs:
        print('%d\t%d' % (pkgidx, tstamp))
