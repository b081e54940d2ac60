/* xz files (the .xz container, LZMA2) through liblzma: rotated logs that
 * logrotate compressed with xz (openSUSE's zypper history-*.xz). */
#include <lzma.h>
#include <string.h>

#include "kavtrace/packages.h"

#define XZ_CHUNK ((size_t)256 << 10)

int kt_unxz(const uint8_t *data, size_t len, size_t limit, kt_buf *out, kt_error *err)
{
    static const uint8_t magic[6] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
    if (limit == 0 || limit > KT_XZ_MAX_OUTPUT)
        limit = KT_XZ_MAX_OUTPUT;
    if (len < sizeof magic || memcmp(data, magic, sizeof magic) != 0)
        return kt_error_set(err, KT_EFORMAT, "not an xz file");
    lzma_stream z = LZMA_STREAM_INIT;
    /* one stream after another (xz a b > c), and the zero padding between */
    lzma_ret lr = lzma_stream_decoder(&z, KT_XZ_MAX_MEMORY, LZMA_CONCATENATED);
    if (lr != LZMA_OK)
        return kt_error_set(err, lr == LZMA_MEM_ERROR ? KT_ENOMEM : KT_EFORMAT,
                            "liblzma: cannot initialise");
    z.next_in = data;
    z.avail_in = len;
    size_t produced = 0;
    int rc = KT_OK;
    for (;;) {
        size_t room = limit - produced + 1; /* one more byte tells "over the limit" */
        if (room > XZ_CHUNK)
            room = XZ_CHUNK;
        if ((rc = kt_buf_reserve(out, room))) {
            rc = kt_error_set(err, rc, "out of memory");
            break;
        }
        z.next_out = out->data + out->len;
        z.avail_out = room;
        lr = lzma_code(&z, LZMA_FINISH);
        size_t got = room - z.avail_out;
        out->len += got;
        produced += got;
        out->data[out->len] = '\0';
        if (produced > limit) {
            out->len -= produced - limit;
            out->data[out->len] = '\0';
            rc = kt_error_set(err, KT_ELIMIT, "xz: more than %zu bytes decompressed", limit);
            break;
        }
        if (lr == LZMA_STREAM_END)
            break;
        if (lr == LZMA_OK)
            continue;
        switch (lr) {
        case LZMA_BUF_ERROR:
            rc = kt_error_set(err, KT_EFORMAT, "xz: truncated after %zu bytes of output", produced);
            break;
        case LZMA_MEM_ERROR:
            rc = kt_error_set(err, KT_ENOMEM, "out of memory");
            break;
        case LZMA_MEMLIMIT_ERROR:
            rc = kt_error_set(err, KT_ELIMIT, "xz: needs more than %u MiB to decompress",
                              (unsigned)(KT_XZ_MAX_MEMORY >> 20));
            break;
        case LZMA_OPTIONS_ERROR:
            rc = kt_error_set(err, KT_EFORMAT,
                              "xz: unsupported options (after %zu bytes of output)", produced);
            break;
        default:
            rc = kt_error_set(err, KT_EFORMAT, "xz: corrupt data after %zu bytes of output",
                              produced);
            break;
        }
        break;
    }
    lzma_end(&z);
    return rc;
}
