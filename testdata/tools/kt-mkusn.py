#!/usr/bin/env python3
"""kt-mkusn.py SPEC REFS HOLE OUT_J OUT_MAX: write an NTFS change journal.

Writes the records of SPEC as the in-use tail of a $UsnJrnl:$J stream
(OUT_J: the bytes after the sparse head of HOLE bytes, which
kt-ntfs-populate's 'sparse:HOLE:@...' puts before them) and the journal's
$Max stream (OUT_MAX), in the layouts Microsoft documents (USN_RECORD_V2,
USN_RECORD_V3, USN_RECORD_V4; USN_JOURNAL_DATA for $Max):

  V2  RecordLength u32, MajorVersion u16 (2), MinorVersion u16 (0),
      FileReferenceNumber u64, ParentFileReferenceNumber u64, Usn i64,
      TimeStamp FILETIME, Reason u32, SourceInfo u32, SecurityId u32,
      FileAttributes u32, FileNameLength u16, FileNameOffset u16 (60),
      FileName UTF-16LE, padded to 8 bytes
  V3  the same with 128-bit file ids (the NTFS reference in the low half):
      FileNameOffset 76
  V4  a range record: 128-bit ids, Usn, Reason, SourceInfo,
      RemainingExtents u32, NumberOfExtents u16, ExtentSize u16 (16),
      then the extents (Offset i64, Length i64); no name
  $Max  MaximumSize u64, AllocationDelta u64, UsnJournalID u64,
      LowestValidUsn i64

A record's USN is its offset in $J. Records are packed in 4096-byte pages
as Windows writes them: one that does not fit in the rest of a page starts
the next, the rest left zero.

SPEC: TSV, '#' comments; columns
  time      YYYY-MM-DDTHH:MM:SS.fffffffZ (UTC, 100 ns)
  reasons   USN_REASON names without the prefix, joined by '|'
  kind      dir or file (FILE_ATTRIBUTE_DIRECTORY or _ARCHIVE)
  file      ENTRY-SEQ (the file reference)
  parent    ENTRY-SEQ, or @PATH: the live folder PATH's reference in REFS
            (@PATH~SEQ: its entry with another sequence number)
  name      the file name
  version   2, 3 or 4 (optional; 2 by default)
REFS: TSV lines PATH ENTRY SEQ (the live volume's folders, read by TSK).
"""
import datetime
import struct
import sys

REASONS = {
    'DATA_OVERWRITE': 0x1, 'DATA_EXTEND': 0x2, 'DATA_TRUNCATION': 0x4,
    'NAMED_DATA_OVERWRITE': 0x10, 'NAMED_DATA_EXTEND': 0x20, 'NAMED_DATA_TRUNCATION': 0x40,
    'FILE_CREATE': 0x100, 'FILE_DELETE': 0x200, 'EA_CHANGE': 0x400, 'SECURITY_CHANGE': 0x800,
    'RENAME_OLD_NAME': 0x1000, 'RENAME_NEW_NAME': 0x2000, 'INDEXABLE_CHANGE': 0x4000,
    'BASIC_INFO_CHANGE': 0x8000, 'HARD_LINK_CHANGE': 0x10000, 'STREAM_CHANGE': 0x200000,
    'CLOSE': 0x80000000,
}
PAGE = 4096
EPOCH = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)


def filetime(s):
    date, frac = s.rstrip('Z').split('.') if '.' in s else (s.rstrip('Z'), '0')
    d = datetime.datetime.strptime(date, '%Y-%m-%dT%H:%M:%S').replace(tzinfo=datetime.timezone.utc)
    secs = (d - EPOCH) // datetime.timedelta(seconds=1)
    return secs * 10_000_000 + int(frac.ljust(7, '0')[:7])


def ref(s, refs):
    if s.startswith('@'):
        path, _, other = s[1:].partition('~')
        entry, seq = refs[path]
        seq = int(other) if other else seq
    else:
        entry, seq = (int(x) for x in s.split('-'))
    return entry | seq << 48


def record(version, usn, ft, reason, attrs, fref, pref, name):
    if version == 4:
        body = struct.pack('<QQQQqIIIHH', fref, 0, pref, 0, usn, reason, 0, 0, 1, 16)
        body += struct.pack('<qq', 0, 4096)
        return struct.pack('<IHH', 8 + len(body), 4, 0) + body
    uname = name.encode('utf-16-le')
    if version == 2:
        head = struct.pack('<QQqQIIIIHH', fref, pref, usn, ft, reason, 0, 0, attrs, len(uname), 60)
    else:
        head = struct.pack('<QQQQqQIIIIHH', fref, 0, pref, 0, usn, ft, reason, 0, 0, attrs,
                           len(uname), 76)
    rec = head + uname
    length = 8 + len(rec)
    length += -length % 8
    return struct.pack('<IHH', length, version, 0) + rec + b'\0' * (length - 8 - len(rec))


def main():
    if len(sys.argv) != 6:
        sys.exit('usage: kt-mkusn.py SPEC REFS HOLE OUT_J OUT_MAX')
    spec, refs_path, hole, out_j, out_max = sys.argv[1:]
    hole = int(hole)
    refs = {}
    with open(refs_path, encoding='utf-8') as f:
        for line in f:
            path, entry, seq = line.rstrip('\n').split('\t')
            refs[path] = (int(entry), int(seq))
    data = bytearray()
    with open(spec, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip('\n')
            if not line or line.startswith('#'):
                continue
            cols = line.split('\t')
            if len(cols) not in (6, 7):
                sys.exit(f'{spec}:{n}: 6 or 7 columns expected')
            time, reasons, kind, fref, pref, name = cols[:6]
            version = int(cols[6]) if len(cols) == 7 else 2
            reason = 0
            for r in reasons.split('|'):
                if r not in REASONS:
                    sys.exit(f'{spec}:{n}: unknown reason {r}')
                reason |= REASONS[r]
            attrs = {'dir': 0x10, 'file': 0x20}[kind]
            rec = record(version, hole + len(data), filetime(time), reason, attrs,
                         ref(fref, refs), ref(pref, refs), name)
            room = PAGE - len(data) % PAGE
            if len(rec) > room:
                data += b'\0' * room
                rec = record(version, hole + len(data), filetime(time), reason, attrs,
                             ref(fref, refs), ref(pref, refs), name)
            data += rec
    data += b'\0' * (-len(data) % PAGE)
    with open(out_j, 'wb') as f:
        f.write(data)
    with open(out_max, 'wb') as f:
        # 32 MiB maximum, 8 MiB allocation delta (Windows' defaults), the
        # journal id: the FILETIME of its creation, its oldest valid USN
        f.write(struct.pack('<QQQq', 32 << 20, 8 << 20, filetime('2024-01-08T07:31:02.0000000Z'),
                            hole))


main()
