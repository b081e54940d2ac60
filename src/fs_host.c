/* A directory given as evidence: a mounted or extracted filesystem root.
 * Everything is opened relative to the root's descriptor with O_NOFOLLOW,
 * and the generic walk resolves links itself, so nothing outside the
 * root is ever reached. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collection.h"
#include "fs_impl.h"

typedef struct host_impl {
    int root_fd;
    /* Inode numbers stand in as nodes; the path is what is opened. */
    /* A KAPE drive folder: the copies' own times are not the source's;
     * the CopyLog's are (no row: no time). NULL for a plain directory. */
    kt_times *times;
} host_impl;

static void collected_times(kt_fs *fs, const char *path, kt_stat *st)
{
    host_impl *h = fs->impl;
    if (h->times == NULL)
        return;
    const kt_times_row *r = kt_times_find(h->times, path);
    st->created = r ? r->created : KT_TIME_NONE;
    st->modified = r ? r->modified : KT_TIME_NONE;
    st->changed = r ? r->changed : KT_TIME_NONE;
    st->accessed = r ? r->accessed : KT_TIME_NONE;
}

static int root_fd(kt_fs *fs)
{
    return ((host_impl *)fs->impl)->root_fd;
}

static const char *rel(const char *path)
{
    return path[0] ? path : ".";
}

static kt_file_type mode_type(mode_t m)
{
    if (S_ISREG(m))
        return KT_FT_REG;
    if (S_ISDIR(m))
        return KT_FT_DIR;
    if (S_ISLNK(m))
        return KT_FT_LINK;
    return KT_FT_OTHER;
}

static kt_time ts(struct statx_timestamp t)
{
    return kt_time_from_unix(t.tv_sec, t.tv_nsec);
}

static int stat_at(int dirfd, const char *path, kt_stat *st)
{
    struct statx sx;
    if (statx(dirfd, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &sx) != 0)
        return errno == ENOENT ? KT_ENOTFOUND : KT_EIO;
    memset(st, 0, sizeof *st);
    st->inode = sx.stx_ino;
    st->type = mode_type(sx.stx_mode);
    st->allocated = true;
    st->size = (int64_t)sx.stx_size;
    st->mode = sx.stx_mode;
    st->created = (sx.stx_mask & STATX_BTIME) ? ts(sx.stx_btime) : KT_TIME_NONE;
    st->modified = ts(sx.stx_mtime);
    st->changed = ts(sx.stx_ctime);
    st->accessed = ts(sx.stx_atime);
    st->fn_created = st->fn_modified = st->fn_changed = st->fn_accessed = KT_TIME_NONE;
    return KT_OK;
}

static int join(char *buf, size_t len, const char *dpath, const char *name)
{
    int n = snprintf(buf, len, "%s%s%s", dpath, dpath[0] ? "/" : "", name);
    return n < 0 || (size_t)n >= len ? KT_ELIMIT : KT_OK;
}

static int child(kt_fs *fs, const kt_node *dir, const char *dpath, const char *name, int flags,
                 kt_node *out, char *actual, size_t actual_len, kt_file_type *type, kt_error *err)
{
    (void)dir;
    (void)flags; /* a live directory has no deleted names */
    char path[KT_FS_PATH_MAX];
    if (join(path, sizeof path, dpath, name))
        return kt_error_set(err, KT_ELIMIT, "path too long");
    kt_stat st;
    int rc = stat_at(root_fd(fs), path, &st);
    if (rc == KT_OK) {
        kt_strlcpy(actual, name, actual_len);
    } else if (rc == KT_ENOTFOUND && fs->case_insensitive) {
        /* An extracted Windows tree: match names as Windows would. */
        int fd = openat(root_fd(fs), rel(dpath), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (d == NULL) {
            if (fd >= 0)
                close(fd);
            return KT_ENOTFOUND;
        }
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (kt_name_casecmp(de->d_name, name) == 0 &&
                join(path, sizeof path, dpath, de->d_name) == KT_OK &&
                stat_at(root_fd(fs), path, &st) == KT_OK) {
                kt_strlcpy(actual, de->d_name, actual_len);
                rc = KT_OK;
                break;
            }
        }
        closedir(d);
    }
    if (rc == KT_EIO)
        return kt_error_set(err, rc, "cannot stat '%s': %s", path, strerror(errno));
    if (rc)
        return rc;
    out->inum = st.inode;
    *type = st.type;
    return KT_OK;
}

static int do_stat(kt_fs *fs, const kt_node *n, const char *path, kt_stat *st, kt_error *err)
{
    (void)n;
    int rc = stat_at(root_fd(fs), rel(path), st);
    if (rc)
        return kt_error_set(err, rc, "cannot stat '%s': %s", path, strerror(errno));
    collected_times(fs, path, st);
    return KT_OK;
}

static int list(kt_fs *fs, const kt_node *dir, const char *path, bool include_deleted,
                kt_dirent_list *out, kt_error *err)
{
    (void)dir;
    (void)include_deleted; /* a live directory has no deleted entries */
    int fd = openat(root_fd(fs), rel(path), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return kt_error_set(err, KT_EIO, "cannot open directory '%s': %s", path, strerror(e));
    }
    int rc = KT_OK;
    struct dirent *de;
    while (rc == KT_OK && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char p[KT_FS_PATH_MAX];
        kt_stat st;
        if (join(p, sizeof p, path, de->d_name) || stat_at(root_fd(fs), p, &st))
            continue;
        collected_times(fs, p, &st);
        rc = kt_dirent_add(out, de->d_name, false, &st);
    }
    closedir(d);
    if (rc)
        return kt_error_set(err, rc, "directory listing too large");
    return KT_OK;
}

static int do_read(kt_fs *fs, const kt_node *n, const char *path, const char *stream, size_t limit,
                   kt_buf *out, kt_error *err)
{
    (void)n;
    if (stream)
        return kt_error_set(err, KT_EUNSUPPORTED, "named streams are not kept in a directory tree");
    int fd = openat(root_fd(fs), rel(path), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return kt_error_set(err, KT_EIO, "cannot open: %s", strerror(errno));
    int rc = KT_OK;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = kt_error_set(err, KT_EARG, "not a regular file");
        goto out;
    }
    if ((uint64_t)st.st_size > limit) {
        rc = kt_error_set(err, KT_ELIMIT, "%lld bytes, over the %zu-byte limit",
                          (long long)st.st_size, limit);
        goto out;
    }
    if (kt_buf_reserve(out, (size_t)st.st_size)) {
        rc = kt_error_set(err, KT_ENOMEM, "out of memory");
        goto out;
    }
    size_t want = (size_t)st.st_size;
    while (out->len < want) {
        ssize_t got = pread(fd, out->data + out->len, want - out->len, (off_t)out->len);
        if (got < 0) {
            rc = kt_error_set(err, KT_EIO, "read failed: %s", strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        out->len += (size_t)got;
    }
    out->data[out->len] = '\0';
out:
    close(fd);
    return rc;
}

/* The same, a piece at a time (to the size the file had when opened). */
static int do_read_pieces(kt_fs *fs, const kt_node *n, const char *path, const char *stream,
                          size_t limit, kt_fs_piece_cb cb, void *ctx, kt_error *err)
{
    (void)n;
    if (stream)
        return kt_error_set(err, KT_EUNSUPPORTED, "named streams are not kept in a directory tree");
    int fd = openat(root_fd(fs), rel(path), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return kt_error_set(err, KT_EIO, "cannot open: %s", strerror(errno));
    int rc = KT_OK;
    uint8_t *piece = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = kt_error_set(err, KT_EARG, "not a regular file");
        goto out;
    }
    if ((uint64_t)st.st_size > limit) {
        rc = kt_error_set(err, KT_ELIMIT, "%lld bytes, over the %zu-byte limit",
                          (long long)st.st_size, limit);
        goto out;
    }
    if ((piece = malloc(KT_FS_PIECE)) == NULL) {
        rc = kt_error_set(err, KT_ENOMEM, "out of memory");
        goto out;
    }
    size_t size = (size_t)st.st_size;
    for (size_t done = 0; rc == KT_OK && done < size;) {
        size_t want = size - done < KT_FS_PIECE ? size - done : KT_FS_PIECE;
        ssize_t got = pread(fd, piece, want, (off_t)done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = kt_error_set(err, KT_EIO, "read failed: %s", strerror(errno));
            break;
        }
        if (got == 0)
            break;
        rc = cb(ctx, piece, (size_t)got);
        done += (size_t)got;
    }
out:
    free(piece);
    close(fd);
    return rc;
}

static int do_readlink(kt_fs *fs, const kt_node *n, const char *path, char *buf, size_t len,
                       kt_error *err)
{
    (void)n;
    ssize_t got = readlinkat(root_fd(fs), rel(path), buf, len);
    if (got < 0)
        return kt_error_set(err, KT_EIO, "cannot read link '%s': %s", path, strerror(errno));
    if ((size_t)got >= len)
        return kt_error_set(err, KT_ELIMIT, "link target too long");
    buf[got] = '\0';
    return KT_OK;
}

static void do_close(kt_fs *fs)
{
    host_impl *h = fs->impl;
    if (h == NULL)
        return;
    if (h->root_fd >= 0)
        close(h->root_fd);
    kt_times_release(h->times);
    free(h->times);
    free(h);
    fs->impl = NULL;
}

const kt_fs_ops kt_fs_host_ops = {
    .name = "dir",
    .child = child,
    .stat = do_stat,
    .list = list,
    .read = do_read,
    .read_pieces = do_read_pieces,
    .readlink = do_readlink,
    .close = do_close,
};

int kt_fs_host_open(const char *root, kt_fs *fs, kt_error *err)
{
    return kt_fs_host_open_times(root, NULL, fs, err);
}

int kt_fs_host_open_times(const char *root, kt_times *times, kt_fs *fs, kt_error *err)
{
    host_impl *h = calloc(1, sizeof *h);
    if (h == NULL) {
        kt_times_release(times);
        free(times);
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    }
    h->times = times;
    h->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (h->root_fd < 0) {
        int e = errno;
        kt_times_release(times);
        free(times);
        free(h);
        return kt_error_set(err, KT_EIO, "cannot open directory '%s': %s", root, strerror(e));
    }
    fs->impl = h;
    fs->ops = &kt_fs_host_ops;
    fs->kind = KT_FS_HOSTDIR;
    kt_strlcpy(fs->type_name, "dir", sizeof fs->type_name);
    /* Exact names first; a case-insensitive match only when none is exact. */
    fs->case_insensitive = true;
    fs->has_streams = false;
    fs->backslash_separates = false; /* a host name may hold one */
    struct stat st;
    fs->root.inum = fstat(h->root_fd, &st) == 0 ? st.st_ino : 0;
    return KT_OK;
}
