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

#endif
