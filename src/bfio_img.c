/* A libbfio handle over a byte range of a libtsk image (bfio_img.h). */
#include <stdlib.h>
#include <string.h>

#include "bfio_img.h"

typedef struct range {
    TSK_IMG_INFO *img;
    int64_t base, len, pos;
} range;

static int r_free(intptr_t **h, libbfio_error_t **e)
{
    (void)e;
    free(*h);
    *h = NULL;
    return 1;
}

static int r_clone(intptr_t **dst, intptr_t *src, libbfio_error_t **e)
{
    (void)e;
    range *r = malloc(sizeof *r);
    if (r == NULL)
        return -1;
    *r = *(range *)src;
    r->pos = 0;
    *dst = (intptr_t *)r;
    return 1;
}

static int r_open(intptr_t *h, int flags, libbfio_error_t **e)
{
    (void)h, (void)e;
    return (flags & LIBBFIO_ACCESS_FLAG_WRITE) ? -1 : 1;
}

static int r_close(intptr_t *h, libbfio_error_t **e)
{
    (void)h, (void)e;
    return 0;
}

static ssize_t r_read(intptr_t *h, uint8_t *buf, size_t size, libbfio_error_t **e)
{
    (void)e;
    range *r = (range *)h;
    if (r->pos >= r->len)
        return 0;
    if ((int64_t)size > r->len - r->pos)
        size = (size_t)(r->len - r->pos);
    ssize_t n = tsk_img_read(r->img, (TSK_OFF_T)(r->base + r->pos), (char *)buf, size);
    if (n < 0) {
        tsk_error_reset();
        return -1;
    }
    r->pos += n;
    return n;
}

static ssize_t r_write(intptr_t *h, const uint8_t *buf, size_t size, libbfio_error_t **e)
{
    (void)h, (void)buf, (void)size, (void)e;
    return -1; /* evidence is never written */
}

static off64_t r_seek(intptr_t *h, off64_t off, int whence, libbfio_error_t **e)
{
    (void)e;
    range *r = (range *)h;
    int64_t at = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? r->pos : r->len;
    if (off < -at || (off > 0 && at > INT64_MAX - off))
        return -1;
    r->pos = at + off;
    return r->pos;
}

static int r_exists(intptr_t *h, libbfio_error_t **e)
{
    (void)h, (void)e;
    return 1;
}

static int r_is_open(intptr_t *h, libbfio_error_t **e)
{
    (void)h, (void)e;
    return 1;
}

static int r_size(intptr_t *h, size64_t *size, libbfio_error_t **e)
{
    (void)e;
    *size = (size64_t)((range *)h)->len;
    return 1;
}

int kt_bfio_img_open(TSK_IMG_INFO *img, int64_t off, int64_t len, libbfio_handle_t **out,
                     kt_error *err)
{
    range *r = calloc(1, sizeof *r);
    if (r == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    *r = (range){.img = img, .base = off, .len = len};
    libbfio_handle_t *h = NULL;
    if (libbfio_handle_initialize(
            &h, (intptr_t *)r, r_free, r_clone, r_open, r_close, r_read, r_write, r_seek, r_exists,
            r_is_open, r_size,
            LIBBFIO_FLAG_IO_HANDLE_MANAGED | LIBBFIO_FLAG_IO_HANDLE_CLONE_BY_FUNCTION, NULL) != 1) {
        free(r);
        return kt_error_set(err, KT_ENOMEM, "cannot make an I/O handle");
    }
    *out = h;
    return KT_OK;
}
