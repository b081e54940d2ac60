#!/usr/bin/env python3
"""check-luks.py VOLUME PASSFILE PLAINTEXT [SECTORS]: decrypt a LUKS1 volume
independently of kt-mkluks and kavtrace (both nettle) and compare.

The master key is recovered from the key slot PASSFILE's bytes open
(PBKDF2 with hashlib, the key material decrypted with the `cryptography`
module, i.e. OpenSSL, AF-merge, the digest checked), then the payload's
first SECTORS sectors (default: all of PLAINTEXT) are decrypted and must be
PLAINTEXT's. Modes: aes with xts-plain64, xts-plain, cbc-essiv:sha256,
cbc-plain64 or cbc-plain (LUKS On-Disk Format 1.2.3; cryptsetup(8)).
Exit status 1, with the reason, on any difference.
"""
import hashlib
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SECTOR = 512


def die(msg):
    sys.exit(f"check-luks: {sys.argv[1]}: {msg}")


def decrypt(mode, key, first, data):
    """Whole sectors of data, the first being sector number first."""
    out = bytearray()
    for i in range(len(data) // SECTOR):
        n = first + i
        if mode.endswith("-plain"):
            iv = struct.pack("<I", n & 0xFFFFFFFF) + bytes(12)
        else:
            iv = struct.pack("<Q", n) + bytes(8)
        block = data[i * SECTOR:(i + 1) * SECTOR]
        if mode.startswith("xts-"):
            c = Cipher(algorithms.AES(key), modes.XTS(iv))
        else:
            if mode == "cbc-essiv:sha256":
                salt = hashlib.sha256(key).digest()
                e = Cipher(algorithms.AES(salt), modes.ECB()).encryptor()
                iv = e.update(iv) + e.finalize()
            c = Cipher(algorithms.AES(key), modes.CBC(iv))
        d = c.decryptor()
        out += d.update(block) + d.finalize()
    return bytes(out)


def af_merge(material, key_bytes, stripes, hash_name):
    size = hashlib.new(hash_name).digest_size
    acc = bytes(key_bytes)
    for s in range(stripes - 1):
        stripe = material[s * key_bytes:(s + 1) * key_bytes]
        acc = bytes(a ^ b for a, b in zip(acc, stripe))
        diffused = b""
        for i in range(0, key_bytes, size):
            chunk = acc[i:i + size]
            h = hashlib.new(hash_name, struct.pack(">I", i // size) + chunk).digest()
            diffused += h[:len(chunk)]
        acc = diffused
    last = material[(stripes - 1) * key_bytes:stripes * key_bytes]
    return bytes(a ^ b for a, b in zip(acc, last))


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    vol = open(sys.argv[1], "rb").read()
    passphrase = open(sys.argv[2], "rb").read()
    plain = open(sys.argv[3], "rb").read()
    sectors = int(sys.argv[4]) if len(sys.argv) == 5 else len(plain) // SECTOR
    if vol[:6] != b"LUKS\xba\xbe" or struct.unpack(">H", vol[6:8])[0] != 1:
        die("not LUKS1")
    field = lambda a, b: vol[a:b].split(b"\0")[0].decode()
    cipher, mode, hash_name = field(8, 40), field(40, 72), field(72, 104)
    payload, key_bytes = struct.unpack(">II", vol[104:112])
    mk_digest, mk_salt = vol[112:132], vol[132:164]
    (mk_iter,) = struct.unpack(">I", vol[164:168])
    if cipher != "aes":
        die(f"cipher {cipher}")
    master = None
    for slot in range(8):
        at = 208 + 48 * slot
        active, iters = struct.unpack(">II", vol[at:at + 8])
        salt = vol[at + 8:at + 40]
        material_sector, stripes = struct.unpack(">II", vol[at + 40:at + 48])
        if active != 0x00AC71F3:
            continue
        slot_key = hashlib.pbkdf2_hmac(hash_name, passphrase, salt, iters, key_bytes)
        n = (stripes * key_bytes + SECTOR - 1) // SECTOR * SECTOR
        start = material_sector * SECTOR
        material = decrypt(mode, slot_key, 0, vol[start:start + n])
        candidate = af_merge(material, key_bytes, stripes, hash_name)
        digest = hashlib.pbkdf2_hmac(hash_name, candidate, mk_salt, mk_iter, 20)
        if digest == mk_digest:
            master = candidate
            break
    if master is None:
        die("no key slot opens with the passphrase")
    start = payload * SECTOR
    got = decrypt(mode, master, 0, vol[start:start + sectors * SECTOR])
    if got != plain[:sectors * SECTOR] or len(got) != sectors * SECTOR:
        die(f"the payload's first {sectors} sectors differ from {sys.argv[3]}")


main()
