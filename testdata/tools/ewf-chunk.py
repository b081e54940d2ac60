#!/usr/bin/python3
"""ewf-chunk.py SEGMENT MODE CHUNK: damage one uncompressed chunk of an EWF (E01)
segment file in place, as libewf 20140813 writes them (ewfacquirestream -c
deflate:none).

  MODE flip   flip a byte of the chunk's data and keep its Adler-32: libewf then
              reports a checksum error for the chunk (a damaged acquisition);
  MODE alter  flip the byte and store the new Adler-32: the chunk reads cleanly,
              but the media no longer matches the set's stored MD5 and SHA-1.

CHUNK counts from the first chunk of this segment's first table section.
Layout (EWF-E01, libewf's documentation of the format): a 13-byte file header,
then sections, each a 76-byte descriptor (type[16], next section's offset u64,
size u64, ...); a "table" section's data is a 24-byte header (entry count u32,
4 bytes, base offset u64, ...) and one u32 per chunk (offset from the base, top
bit set when compressed); an uncompressed chunk is 32768 bytes of data and its
Adler-32, little-endian.
"""
import struct
import sys
import zlib

CHUNK_SIZE = 32768


def die(msg):
    sys.exit("ewf-chunk.py: " + msg)


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in ("flip", "alter"):
        die("usage: ewf-chunk.py SEGMENT flip|alter CHUNK")
    path, mode, chunk = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if data[:8] != b"EVF\x09\x0d\x0a\xff\x00":
        die(path + ": not an EWF-E01 segment")
    off, table = 13, None
    for _ in range(1000):
        if off + 76 > len(data):
            die(path + ": section descriptor past the end")
        kind = data[off:off + 16].rstrip(b"\0")
        nxt = struct.unpack_from("<Q", data, off + 16)[0]
        if kind == b"table":
            table = off + 76
            break
        if kind in (b"done", b"next") or nxt <= off:
            break
        off = nxt
    if table is None:
        die(path + ": no table section")
    count, base = struct.unpack_from("<I4xQ", data, table)
    if not 0 <= chunk < count:
        die("%s: chunk %d of %d" % (path, chunk, count))
    entry = struct.unpack_from("<I", data, table + 24 + 4 * chunk)[0]
    if entry & 0x80000000:
        die("%s: chunk %d is compressed" % (path, chunk))
    start = base + entry
    if start + CHUNK_SIZE + 4 > len(data):
        die("%s: chunk %d past the end" % (path, chunk))
    stored = struct.unpack_from("<I", data, start + CHUNK_SIZE)[0]
    if zlib.adler32(bytes(data[start:start + CHUNK_SIZE])) != stored:
        die("%s: chunk %d already fails its checksum" % (path, chunk))
    data[start + 100] ^= 0xFF
    if mode == "alter":
        struct.pack_into("<I", data, start + CHUNK_SIZE,
                         zlib.adler32(bytes(data[start:start + CHUNK_SIZE])))
    with open(path, "wb") as f:
        f.write(data)


main()
