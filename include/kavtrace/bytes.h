/* kavtrace: bounds-checked reads of integers from bytes of evidence.
 *
 * Every on-disk structure is decoded from a byte array with these, never
 * by casting a struct over the input:
 *
 *     uint32_t size;
 *     if (!kt_rd_le32(buf, len, 0x0c, &size))
 *         return truncated(...);
 *
 * kt_rd_<order><bits>(buf, len, off, &v) reads the integer of that width
 * and byte order at buf[off]: true and *v set when buf[off .. off+size)
 * lies inside buf[0 .. len); false, with *v untouched, when it does not
 * (an offset near SIZE_MAX does not wrap around). buf may be NULL only
 * when len is 0.
 *
 * Header-only (static inline): the reader programs kavtrace-evtx and
 * kavtrace-prefetch, which do not link the kavtrace library, use it too. */
#ifndef KAVTRACE_BYTES_H
#define KAVTRACE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether n bytes at off lie inside a buffer of len bytes. */
static inline bool kt_rd_fits(size_t len, size_t off, size_t n)
{
    return off <= len && len - off >= n;
}

static inline bool kt_rd_u8(const uint8_t *buf, size_t len, size_t off, uint8_t *v)
{
    if (!kt_rd_fits(len, off, 1))
        return false;
    *v = buf[off];
    return true;
}

/* n bytes at p, least significant first, as an unsigned number; unchecked
 * (the kt_rd_* functions check first). */
static inline uint64_t kt_rd_le_bytes(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* n bytes at p, most significant first; unchecked. */
static inline uint64_t kt_rd_be_bytes(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static inline bool kt_rd_le16(const uint8_t *buf, size_t len, size_t off, uint16_t *v)
{
    if (!kt_rd_fits(len, off, 2))
        return false;
    *v = (uint16_t)kt_rd_le_bytes(buf + off, 2);
    return true;
}

static inline bool kt_rd_le32(const uint8_t *buf, size_t len, size_t off, uint32_t *v)
{
    if (!kt_rd_fits(len, off, 4))
        return false;
    *v = (uint32_t)kt_rd_le_bytes(buf + off, 4);
    return true;
}

static inline bool kt_rd_le64(const uint8_t *buf, size_t len, size_t off, uint64_t *v)
{
    if (!kt_rd_fits(len, off, 8))
        return false;
    *v = kt_rd_le_bytes(buf + off, 8);
    return true;
}

static inline bool kt_rd_be16(const uint8_t *buf, size_t len, size_t off, uint16_t *v)
{
    if (!kt_rd_fits(len, off, 2))
        return false;
    *v = (uint16_t)kt_rd_be_bytes(buf + off, 2);
    return true;
}

static inline bool kt_rd_be32(const uint8_t *buf, size_t len, size_t off, uint32_t *v)
{
    if (!kt_rd_fits(len, off, 4))
        return false;
    *v = (uint32_t)kt_rd_be_bytes(buf + off, 4);
    return true;
}

static inline bool kt_rd_be64(const uint8_t *buf, size_t len, size_t off, uint64_t *v)
{
    if (!kt_rd_fits(len, off, 8))
        return false;
    *v = kt_rd_be_bytes(buf + off, 8);
    return true;
}

/* units UTF-16LE code units at p as UTF-8 into out (cap bytes, NUL
 * included): a pair of surrogates is one code point, a lone surrogate
 * becomes U+FFFD, a NUL unit is copied like any other. Stops before a code
 * point that would not fit, never inside one. Returns the bytes written,
 * without the NUL; cap 0 writes nothing. */
static inline size_t kt_utf16le_to_utf8(const uint8_t *p, size_t units, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    size_t o = 0;
    for (size_t i = 0; i < units; i++) {
        uint32_t c = (uint32_t)p[2 * i] | (uint32_t)p[2 * i + 1] << 8;
        if (c >= 0xd800 && c < 0xdc00 && i + 1 < units) {
            uint32_t lo = (uint32_t)p[2 * i + 2] | (uint32_t)p[2 * i + 3] << 8;
            if (lo >= 0xdc00 && lo < 0xe000) {
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                i++;
            } else {
                c = 0xfffd;
            }
        } else if (c >= 0xd800 && c < 0xe000) {
            c = 0xfffd;
        }
        size_t n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
        if (o + n >= cap)
            break;
        if (n == 1) {
            out[o] = (char)c;
        } else {
            static const uint8_t lead[5] = {0, 0, 0xc0, 0xe0, 0xf0};
            out[o] = (char)(lead[n] | c >> (6 * (n - 1)));
            for (size_t k = 1; k < n; k++)
                out[o + k] = (char)(0x80 | ((c >> (6 * (n - 1 - k))) & 0x3f));
        }
        o += n;
    }
    out[o] = '\0';
    return o;
}

#endif
