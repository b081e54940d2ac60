/* A dynamic VHD whose footer at the end is damaged, read with the footer's
 * copy at offset 0 (Microsoft, Virtual Hard Disk Image Format
 * Specification 1.0, 2006). libvhdi reads only the footer at the end and
 * refuses the disk without it, although every block is intact.
 *
 * Footer (512 bytes, big-endian): cookie "conectix" at 0, data offset
 * (the dynamic header) at 16, current size at 48, disk type at 60 (2
 * fixed, 3 dynamic, 4 differencing), checksum at 64: the one's complement
 * of the sum of every other byte. Dynamic header (1024 bytes): cookie
 * "cxsparse" at 0, table offset (the BAT) at 16, max table entries at 28,
 * block size at 32, checksum at 36 (the same sum). The BAT holds one u32
 * per block: the sector of the block's sector bitmap, which its data
 * follows, or 0xFFFFFFFF for a block never written (zeros). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image_impl.h"
#include "kavtrace/bytes.h"

#define VHD_FOOTER 512
#define VHD_DYN_HEADER 1024
/* Named limits on what the headers may claim. */
#define VHD_MAX_BLOCK (256u << 20)
#define VHD_MAX_ENTRIES (1u << 24)

typedef struct vhd_img {
    TSK_IMG_INFO tsk; /* first: libtsk casts the image to it */
    int fd;
    uint32_t block_size;
    uint32_t bitmap_size; /* the sector bitmap before each block's data */
    uint32_t entries;
    uint32_t *bat;
    const char *path;
} vhd_img;

/* The one's complement of the sum of buf's bytes except the 4 at skip. */
static uint32_t vhd_sum(const uint8_t *buf, size_t len, size_t skip)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i++)
        if (i < skip || i >= skip + 4)
            sum += buf[i];
    return ~sum;
}

const char *kt_vhd_footer_problem(const uint8_t *f, size_t len)
{
    uint32_t stored = 0;
    if (len < VHD_FOOTER || memcmp(f, "conectix", 8) != 0)
        return "no 'conectix' signature";
    if (!kt_rd_be32(f, len, 64, &stored) || vhd_sum(f, VHD_FOOTER, 64) != stored)
        return "checksum mismatch";
    return NULL;
}

static ssize_t vhd_read(TSK_IMG_INFO *ti, TSK_OFF_T off, char *buf, size_t len)
{
    vhd_img *v = (vhd_img *)ti;
    size_t done = 0;
    if (off < 0 || off >= v->tsk.size)
        return 0;
    if ((int64_t)len > v->tsk.size - off)
        len = (size_t)(v->tsk.size - off);
    while (done < len) {
        uint64_t pos = (uint64_t)off + done;
        uint64_t block = pos / v->block_size, in = pos % v->block_size;
        size_t want = len - done;
        if (want > v->block_size - in)
            want = (size_t)(v->block_size - in);
        uint32_t sector = block < v->entries ? v->bat[block] : 0xFFFFFFFFu;
        if (sector == 0xFFFFFFFFu) {
            memset(buf + done, 0, want);
            done += want;
            continue;
        }
        off_t at = (off_t)((uint64_t)sector * 512 + v->bitmap_size + in);
        ssize_t n = pread(v->fd, buf + done, want, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (done > 0)
                break;
            tsk_error_reset();
            tsk_error_set_errno(TSK_ERR_IMG_READ);
            tsk_error_set_errstr("'%s': block %llu at byte %lld: %s", v->path,
                                 (unsigned long long)block, (long long)at,
                                 n < 0 ? strerror(errno) : "past the end of the file");
            return -1;
        }
        done += (size_t)n;
    }
    return (ssize_t)done;
}

static void vhd_close(TSK_IMG_INFO *ti)
{
    vhd_img *v = (vhd_img *)ti;
    close(v->fd);
    free(v->bat);
    pthread_mutex_destroy(&v->tsk.cache_lock.mutex);
    v->tsk.tag = 0;
    free(v);
}

static void vhd_stat(TSK_IMG_INFO *ti, FILE *f)
{
    vhd_img *v = (vhd_img *)ti;
    fprintf(f, "dynamic VHD read with its footer copy, %lld bytes\n", (long long)v->tsk.size);
}

static bool read_all(int fd, void *buf, size_t len, int64_t off)
{
    return pread(fd, buf, len, (off_t)off) == (ssize_t)len;
}

int kt_vhd_img_open(const char *path, const uint8_t *footer, TSK_IMG_INFO **out, kt_error *err)
{
    uint64_t dyn = 0, size = 0, table = 0;
    uint32_t type = 0, entries = 0, block = 0, sum = 0;
    uint8_t hdr[VHD_DYN_HEADER];
    kt_rd_be64(footer, VHD_FOOTER, 16, &dyn);
    kt_rd_be64(footer, VHD_FOOTER, 48, &size);
    kt_rd_be32(footer, VHD_FOOTER, 60, &type);
    if (type != 3)
        return kt_error_set(err, KT_EUNSUPPORTED,
                            "the footer copy at offset 0 says disk type %u, not dynamic (3): "
                            "only a dynamic VHD can be read without its footer",
                            type);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kt_error_set(err, KT_EIO, "cannot open: %s", strerror(errno));
    vhd_img *v = NULL;
    int rc = KT_OK;
    if (dyn > INT64_MAX - VHD_DYN_HEADER || !read_all(fd, hdr, sizeof hdr, (int64_t)dyn) ||
        memcmp(hdr, "cxsparse", 8) != 0 || !kt_rd_be64(hdr, sizeof hdr, 16, &table) ||
        !kt_rd_be32(hdr, sizeof hdr, 28, &entries) || !kt_rd_be32(hdr, sizeof hdr, 32, &block) ||
        !kt_rd_be32(hdr, sizeof hdr, 36, &sum) || vhd_sum(hdr, sizeof hdr, 36) != sum) {
        rc = kt_error_set(err, KT_EFORMAT,
                          "the dynamic disk header at byte %llu is missing or fails its checksum",
                          (unsigned long long)dyn);
        goto fail;
    }
    uint64_t room = 0;
    if (block < 512 || block > VHD_MAX_BLOCK || (block & (block - 1)) != 0 || entries == 0 ||
        entries > VHD_MAX_ENTRIES || __builtin_mul_overflow((uint64_t)entries, block, &room) ||
        size == 0 || size > room || size > INT64_MAX || table > INT64_MAX - 4ull * entries) {
        rc = kt_error_set(err, KT_EFORMAT,
                          "the dynamic disk header claims %u blocks of %u bytes for %llu bytes",
                          entries, block, (unsigned long long)size);
        goto fail;
    }
    v = calloc(1, sizeof *v);
    uint8_t *raw = malloc(4ull * entries);
    if (v)
        v->bat = malloc(sizeof *v->bat * entries);
    if (v == NULL || raw == NULL || v->bat == NULL) {
        free(raw);
        rc = kt_error_set(err, KT_ENOMEM, "out of memory");
        goto fail;
    }
    if (!read_all(fd, raw, 4ull * entries, (int64_t)table)) {
        free(raw);
        rc = kt_error_set(err, KT_EFORMAT, "the block table at byte %llu cannot be read",
                          (unsigned long long)table);
        goto fail;
    }
    for (uint32_t i = 0; i < entries; i++)
        kt_rd_be32(raw, 4ull * entries, 4ull * i, &v->bat[i]);
    free(raw);
    v->fd = fd;
    v->path = path;
    v->block_size = block;
    v->entries = entries;
    v->bitmap_size = (block / 512 / 8 + 511) / 512 * 512;
    v->tsk.tag = TSK_IMG_INFO_TAG;
    if (tsk_img_open_external(v, (TSK_OFF_T)size, 512, vhd_read, vhd_close, vhd_stat) == NULL) {
        rc = kt_tsk_error(err, KT_EFORMAT, "cannot open as vhd");
        goto fail;
    }
    *out = &v->tsk;
    return KT_OK;
fail:
    if (v)
        free(v->bat);
    free(v);
    close(fd);
    return rc;
}
