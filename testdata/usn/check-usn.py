#!/usr/bin/env python3
"""check-usn.py J_STREAM JOURNAL_TSV HOLE: an independent reading of a
$UsnJrnl:$J stream as TSK's icat gives it (sparse head as zeros): every
record of JOURNAL_TSV must be there, in order, with its USN (its offset),
version, reasons, time and name; nothing else but zeros. Exit 1 on a
difference, naming it."""
import struct
import sys

REASONS = {'DATA_OVERWRITE': 0x1, 'DATA_EXTEND': 0x2, 'FILE_CREATE': 0x100,
           'FILE_DELETE': 0x200, 'RENAME_OLD_NAME': 0x1000, 'RENAME_NEW_NAME': 0x2000,
           'CLOSE': 0x80000000}


def main():
    data = open(sys.argv[1], 'rb').read()
    hole = int(sys.argv[3])
    if any(data[:hole]):
        sys.exit('check-usn: the sparse head is not zeros')
    want = []
    for line in open(sys.argv[2], encoding='utf-8'):
        line = line.rstrip('\n')
        if line and not line.startswith('#'):
            c = line.split('\t')
            reason = 0
            for r in c[1].split('|'):
                reason |= REASONS[r]
            want.append((int(c[6]) if len(c) == 7 else 2, reason, c[5]))
    got, off = [], hole
    while off + 8 <= len(data):
        length, major = struct.unpack_from('<IH', data, off)
        if length == 0:
            off += 8
            continue
        if major == 4:
            (usn, reason) = struct.unpack_from('<qI', data, off + 40)
            name = '-'
        else:
            b = 24 if major == 2 else 40
            usn, _, reason = struct.unpack_from('<qQI', data, off + b)
            nlen, noff = struct.unpack_from('<HH', data, off + b + 32)
            name = data[off + noff:off + noff + nlen].decode('utf-16-le')
        if usn != off:
            sys.exit(f'check-usn: record at {off} has USN {usn}')
        got.append((major, reason, name))
        off += length
    if got != want:
        sys.exit(f'check-usn: records differ:\n got  {got}\n want {want}')
    print(f'check-usn: {len(got)} records as journal.tsv has them')


main()
