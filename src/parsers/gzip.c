/* gzip files (RFC 1952) through zlib: rotated logs (dpkg.log.2.gz). */
#include <limits.h>
#include <string.h>
#include <zlib.h>

#include "kavtrace/packages.h"

#define GZIP_CHUNK ((size_t)256 << 10)

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

int kt_gunzip(const uint8_t *data, size_t len, size_t limit, kt_buf *out, kt_error *err)
{
    if (limit == 0 || limit > KT_GZIP_MAX_OUTPUT)
        limit = KT_GZIP_MAX_OUTPUT;
    if (len < 2 || data[0] != 0x1f || data[1] != 0x8b)
        return kt_error_set(err, KT_EFORMAT, "not a gzip file");
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return kt_error_set(err, KT_ENOMEM, "zlib: cannot initialise");
    size_t pos = 0, produced = 0, members = 1;
    int rc = KT_OK;
    for (;;) {
        if (z.avail_in == 0 && pos < len) {
            size_t n = len - pos < UINT_MAX ? len - pos : UINT_MAX;
            z.next_in = (Bytef *)(uintptr_t)(data + pos);
            z.avail_in = (uInt)n;
            pos += n;
        }
        size_t room = limit - produced + 1; /* one more byte tells "over the limit" */
        if (room > GZIP_CHUNK)
            room = GZIP_CHUNK;
        if ((rc = kt_buf_reserve(out, room))) {
            rc = kt_error_set(err, rc, "out of memory");
            break;
        }
        z.next_out = out->data + out->len;
        z.avail_out = (uInt)room;
        int zr = inflate(&z, Z_NO_FLUSH);
        size_t got = room - z.avail_out;
        out->len += got;
        produced += got;
        out->data[out->len] = '\0';
        if (produced > limit) {
            out->len -= produced - limit;
            out->data[out->len] = '\0';
            rc = kt_error_set(err, KT_ELIMIT, "gzip: more than %zu bytes decompressed", limit);
            break;
        }
        size_t left = z.avail_in + (len - pos);
        if (zr == Z_STREAM_END) {
            const uint8_t *rest = z.next_in;
            /* Padding after the last member (zeros) is not another member. */
            if (left == 0 || (z.avail_in == left && all_zero(rest, left)))
                break;
            if (left < 2 || rest[0] != 0x1f || (z.avail_in > 1 && rest[1] != 0x8b)) {
                rc = kt_error_set(err, KT_EFORMAT, "gzip: %zu bytes of other data after member %zu",
                                  left, members);
                break;
            }
            inflateReset(&z);
            members++;
            continue;
        }
        if (zr == Z_OK)
            continue;
        if (zr == Z_BUF_ERROR && left == 0) {
            rc = kt_error_set(err, KT_EFORMAT,
                              "gzip: truncated in member %zu after %zu bytes of output", members,
                              produced);
            break;
        }
        if (zr == Z_MEM_ERROR) {
            rc = kt_error_set(err, KT_ENOMEM, "out of memory");
            break;
        }
        rc = kt_error_set(err, KT_EFORMAT, "gzip: member %zu: %s (after %zu bytes of output)",
                          members, z.msg ? z.msg : "corrupt data", produced);
        break;
    }
    inflateEnd(&z);
    return rc;
}
