/* kavtrace-vss: the Volume Shadow Copy stores of one NTFS volume, read with
 * libvshadow in a process of its own.
 *
 * libewf (under libtsk, in kavtrace) exports 2014 copies of libbfio,
 * libcdata and libuna; in one process libvshadow binds to them instead of
 * its own and its libbfio's. Here it is linked with nothing else.
 *
 * The program holds no evidence: it asks kavtrace for the volume's bytes
 * and answers kavtrace's reads of the stores. Usage: kavtrace-vss SIZE
 * (the volume's size in bytes). The protocol, little-endian, on standard
 * input (from kavtrace) and output (to kavtrace), is src/vss_proto.h's. */
#include <errno.h>
#include <libbfio.h>
#include <libvshadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vss_proto.h"

static uint64_t volume_size;
static off64_t position;

static int put(const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(1, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int get(void *p, size_t n)
{
    uint8_t *b = p;
    while (n) {
        ssize_t r = read(0, b, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

static int put_message(uint8_t type, const char *msg)
{
    uint8_t h[5];
    size_t n = strlen(msg);
    h[0] = type;
    kt_vss_put32(h + 1, (uint32_t)n);
    return put(h, sizeof h) || put(msg, n) ? -1 : 0;
}

/* ---- the volume, through kavtrace: a libbfio handle ---- */

static int io_free(intptr_t **h, libbfio_error_t **e)
{
    (void)e;
    *h = NULL;
    return 1;
}

static int io_open(intptr_t *h, int flags, libbfio_error_t **e)
{
    (void)h, (void)flags, (void)e;
    return 1;
}

static int io_close(intptr_t *h, libbfio_error_t **e)
{
    (void)h, (void)e;
    return 0;
}

static ssize_t io_read(intptr_t *h, uint8_t *buf, size_t size, libbfio_error_t **e)
{
    (void)h, (void)e;
    if (size > KT_VSS_MAX_READ)
        size = KT_VSS_MAX_READ;
    uint8_t req[13];
    req[0] = KT_VSS_NEED_VOLUME;
    kt_vss_put64(req + 1, (uint64_t)position);
    kt_vss_put32(req + 9, (uint32_t)size);
    uint8_t rep[9];
    if (put(req, sizeof req) || get(rep, sizeof rep) || rep[0] != KT_VSS_VOLUME_DATA)
        exit(3); /* kavtrace went away, or a protocol error: nothing to answer */
    int64_t n = (int64_t)kt_vss_get64(rep + 1);
    if (n < 0 || (uint64_t)n > size)
        return -1;
    if (get(buf, (size_t)n))
        exit(3);
    position += n;
    return (ssize_t)n;
}

static off64_t io_seek(intptr_t *h, off64_t off, int whence, libbfio_error_t **e)
{
    (void)h, (void)e;
    if (whence == SEEK_CUR)
        off += position;
    else if (whence == SEEK_END)
        off += (off64_t)volume_size;
    if (off < 0)
        return -1;
    position = off;
    return off;
}

static int io_exists(intptr_t *h, libbfio_error_t **e)
{
    (void)h, (void)e;
    return 1;
}

static int io_is_open(intptr_t *h, libbfio_error_t **e)
{
    (void)h, (void)e;
    return 1;
}

static int io_size(intptr_t *h, size64_t *size, libbfio_error_t **e)
{
    (void)h, (void)e;
    *size = volume_size;
    return 1;
}

/* libvshadow's error, first line (the innermost: what failed). */
static void why(libvshadow_error_t **e, char *buf, size_t len)
{
    snprintf(buf, len, "libvshadow failed");
    if (*e && libvshadow_error_backtrace_sprint(*e, buf, len) > 0) {
        char *nl = strchr(buf, '\n');
        if (nl)
            *nl = '\0';
    }
    libvshadow_error_free(e);
}

static void guid_text(const uint8_t g[16], char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[3],
             g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13],
             g[14], g[15]);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: kavtrace-vss SIZE\n");
        return 2;
    }
    volume_size = strtoull(argv[1], NULL, 10);
    libbfio_handle_t *io = NULL;
    libvshadow_volume_t *vol = NULL;
    libvshadow_error_t *e = NULL;
    char msg[1024];
    if (libbfio_handle_initialize(&io, (intptr_t *)&volume_size, io_free, NULL, io_open, io_close,
                                  io_read, NULL, io_seek, io_exists, io_is_open, io_size, 0,
                                  NULL) != 1)
        return put_message(KT_VSS_FAILED, "cannot make the volume's handle") ? 3 : 0;
    int sig = libvshadow_check_volume_signature_file_io_handle(io, &e);
    if (sig != 1) {
        if (sig < 0) {
            why(&e, msg, sizeof msg);
            return put_message(KT_VSS_FAILED, msg) ? 3 : 0;
        }
        uint8_t none[5] = {KT_VSS_STORES, 0, 0, 0, 0};
        return put(none, sizeof none) ? 3 : 0;
    }
    int count = 0;
    if (libvshadow_volume_initialize(&vol, &e) != 1 ||
        libvshadow_volume_open_file_io_handle(vol, io, LIBVSHADOW_OPEN_READ, &e) != 1 ||
        libvshadow_volume_get_number_of_stores(vol, &count, &e) != 1 || count < 0 ||
        count > KT_VSS_MAX_STORES) {
        why(&e, msg, sizeof msg);
        if (count > KT_VSS_MAX_STORES)
            snprintf(msg, sizeof msg, "%d stores, more than the %d read", count, KT_VSS_MAX_STORES);
        return put_message(KT_VSS_FAILED, msg) ? 3 : 0;
    }
    libvshadow_store_t **stores = calloc((size_t)count + 1, sizeof *stores);
    uint8_t head[5] = {KT_VSS_STORES};
    kt_vss_put32(head + 1, (uint32_t)count);
    if (stores == NULL || put(head, sizeof head))
        return 3;
    for (int i = 0; i < count; i++) {
        /* Each store's record; a store libvshadow cannot open says why. */
        uint8_t rec[KT_VSS_STORE_RECORD] = {0};
        uint8_t g[16];
        uint64_t t = 0, size = 0;
        uint32_t flags = 0;
        if (libvshadow_volume_get_store(vol, i, &stores[i], &e) != 1) {
            why(&e, msg, sizeof msg);
            rec[0] = 1;
            snprintf((char *)rec + 160, KT_VSS_STORE_RECORD - 160, "%s", msg);
        } else {
            if (libvshadow_store_get_identifier(stores[i], g, 16, NULL) == 1)
                guid_text(g, (char *)rec + 8);
            if (libvshadow_store_get_copy_identifier(stores[i], g, 16, NULL) == 1)
                guid_text(g, (char *)rec + 48);
            if (libvshadow_store_get_copy_set_identifier(stores[i], g, 16, NULL) == 1)
                guid_text(g, (char *)rec + 88);
            libvshadow_store_get_creation_time(stores[i], &t, NULL);
            libvshadow_store_get_volume_size(stores[i], &size, NULL);
            libvshadow_store_get_attribute_flags(stores[i], &flags, NULL);
        }
        kt_vss_put64(rec + 128, t);
        kt_vss_put64(rec + 136, size);
        kt_vss_put32(rec + 144, flags);
        if (put(rec, sizeof rec))
            return 3;
    }
    uint8_t *buf = malloc(KT_VSS_MAX_READ);
    if (buf == NULL)
        return 3;
    /* Reads of the stores until kavtrace closes our input. */
    for (;;) {
        uint8_t req[17];
        if (get(req, sizeof req))
            break;
        uint32_t store = kt_vss_get32(req + 1), len = kt_vss_get32(req + 13);
        uint64_t off = kt_vss_get64(req + 5);
        if (req[0] != KT_VSS_READ || store >= (uint32_t)count || stores[store] == NULL ||
            len > KT_VSS_MAX_READ || off > (uint64_t)INT64_MAX)
            return 3;
        ssize_t n =
            libvshadow_store_read_buffer_at_offset(stores[store], buf, len, (off64_t)off, &e);
        uint8_t rep[9] = {KT_VSS_DATA};
        if (n < 0) {
            why(&e, msg, sizeof msg);
            kt_vss_put64(rep + 1, (uint64_t)-1);
            if (put(rep, sizeof rep) || put_message(KT_VSS_FAILED, msg))
                return 3;
            continue;
        }
        kt_vss_put64(rep + 1, (uint64_t)n);
        if (put(rep, sizeof rep) || put(buf, (size_t)n))
            return 3;
    }
    free(buf);
    for (int i = 0; i < count; i++)
        if (stores[i])
            libvshadow_store_free(&stores[i], NULL);
    free(stores);
    libvshadow_volume_close(vol, NULL);
    libvshadow_volume_free(&vol, NULL);
    libbfio_handle_free(&io, NULL);
    return 0;
}
