/* Raw images, single or split, read with pread: the parts are the ones
 * image.c chose, in its order, and nothing else. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image_impl.h"

typedef struct raw_img {
    TSK_IMG_INFO tsk; /* first: libtsk casts the image to it */
    size_t count;
    int *fds;
    int64_t *start; /* each part's offset in the media; start[count] is its size */
    const kt_strlist *parts;
} raw_img;

/* The part holding off (start[i] <= off < start[i + 1]). */
static size_t part_of(const raw_img *r, int64_t off)
{
    size_t lo = 0, hi = r->count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->start[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* libtsk's read callback: the bytes read, short at the end of the media or
 * after a failure past the first byte, or -1 with libtsk's error set. */
static ssize_t raw_read(TSK_IMG_INFO *ti, TSK_OFF_T off, char *buf, size_t len)
{
    raw_img *r = (raw_img *)ti;
    size_t done = 0;
    if (off < 0 || off >= r->tsk.size)
        return 0;
    if ((int64_t)len > r->tsk.size - off)
        len = (size_t)(r->tsk.size - off);
    size_t i = part_of(r, off);
    while (done < len) {
        int64_t pos = off + (int64_t)done;
        while (i + 1 < r->count && pos >= r->start[i + 1])
            i++;
        size_t want = len - done;
        if ((int64_t)want > r->start[i + 1] - pos)
            want = (size_t)(r->start[i + 1] - pos);
        ssize_t n = pread(r->fds[i], buf + done, want, (off_t)(pos - r->start[i]));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (done > 0)
                break;
            tsk_error_reset();
            tsk_error_set_errno(TSK_ERR_IMG_READ);
            tsk_error_set_errstr("'%s' at byte %lld: %s", r->parts->items[i],
                                 (long long)(pos - r->start[i]),
                                 n < 0 ? strerror(errno) : "the file ends early");
            return -1;
        }
        done += (size_t)n;
    }
    return (ssize_t)done;
}

static void raw_close(TSK_IMG_INFO *ti)
{
    raw_img *r = (raw_img *)ti;
    for (size_t i = 0; i < r->count; i++)
        if (r->fds[i] >= 0)
            close(r->fds[i]);
    free(r->fds);
    free(r->start);
    pthread_mutex_destroy(&r->tsk.cache_lock.mutex);
    r->tsk.tag = 0;
    free(r);
}

static void raw_stat(TSK_IMG_INFO *ti, FILE *f)
{
    raw_img *r = (raw_img *)ti;
    fprintf(f, "raw image, %zu part(s), %lld bytes\n", r->count, (long long)r->tsk.size);
}

int kt_raw_img_open(const kt_strlist *parts, TSK_IMG_INFO **out, kt_error *err)
{
    int rc = KT_OK;
    raw_img *r = parts->count ? calloc(1, sizeof *r) : NULL;
    if (r)
        r->fds = malloc(parts->count * sizeof *r->fds);
    if (r && r->fds)
        r->start = calloc(parts->count + 1, sizeof *r->start);
    if (r == NULL || r->fds == NULL || r->start == NULL) {
        if (r) {
            free(r->fds);
            free(r);
        }
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    }
    r->parts = parts;
    for (size_t i = 0; i < parts->count; i++)
        r->fds[i] = -1;
    for (size_t i = 0; i < parts->count; i++) {
        int fd = open(parts->items[i], O_RDONLY | O_CLOEXEC);
        off_t end = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
        if (fd >= 0)
            r->fds[r->count++] = fd;
        if (end < 0 || __builtin_add_overflow(r->start[i], (int64_t)end, &r->start[i + 1])) {
            rc = kt_error_set(err, KT_EIO, "cannot read '%s': %s", parts->items[i],
                              end < 0 ? strerror(errno) : "too large");
            goto fail;
        }
    }
    /* libtsk reads only the common part of its image info: the size, the
     * sector size and the names. */
    r->tsk.tag = TSK_IMG_INFO_TAG;
    r->tsk.num_img = (int)parts->count;
    r->tsk.images = parts->items;
    if (tsk_img_open_external(r, r->start[parts->count], 512, raw_read, raw_close, raw_stat) ==
        NULL) {
        rc = kt_tsk_error(err, KT_EFORMAT, "cannot open as raw");
        goto fail;
    }
    *out = &r->tsk;
    return KT_OK;
fail:
    for (size_t i = 0; i < r->count; i++)
        close(r->fds[i]);
    free(r->fds);
    free(r->start);
    free(r);
    return rc;
}
