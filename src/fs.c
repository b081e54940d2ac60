#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collection.h"
#include "fs_impl.h"

/* A triage collection's root: a KAPE drive folder (the host directory,
 * with the CopyLog's times), or a root inside an archive (with UAC's
 * bodyfile times). */
static int open_collected(kt_image *img, const kt_volume *vol, kt_fs *fs, kt_error *err)
{
    const kt_collection *c = kt_image_collection(img);
    if (vol->collection_root < 1 || (size_t)vol->collection_root > c->nroots)
        return kt_error_set(err, KT_EARG, "no such collected root");
    const kt_collection_root *r = &c->roots[vol->collection_root - 1];
    kt_times *times = calloc(1, sizeof *times);
    if (times == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    size_t bad = 0;
    int rc;
    if (kt_image_archive(img) == NULL) {
        char path[KT_FS_PATH_MAX];
        rc = kt_kape_times(kt_image_path(img), r->prefix[0], times, &bad, err);
        if (rc == KT_OK && (size_t)snprintf(path, sizeof path, "%s/%s", kt_image_path(img),
                                            r->prefix[0]) >= sizeof path)
            rc = kt_error_set(err, KT_ELIMIT, "path too long");
        if (rc) {
            kt_times_release(times);
            free(times);
            return rc;
        }
        return kt_fs_host_open_times(path, times, fs, err);
    }
    rc = c->kind == KT_COLL_UAC ? kt_uac_times(kt_image_archive(img), r, times, &bad, err) : KT_OK;
    if (rc) {
        free(times);
        return rc;
    }
    if (times->count == 0) {
        kt_times_release(times);
        free(times);
        times = NULL;
    }
    /* Windows drives are looked up as Windows does. */
    bool drive = r->name[0] && r->name[1] == ':';
    return kt_fs_archive_open(kt_image_archive(img), r, drive, times, fs, err);
}

int kt_fs_open_volume(kt_image *img, const kt_volume *vol, kt_fs **out, kt_error *err)
{
    kt_fs *fs = calloc(1, sizeof *fs);
    if (fs == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    int rc;
    if (vol->collection_root)
        rc = open_collected(img, vol, fs, err);
    else if (strcmp(vol->fs, "dir") == 0)
        rc = kt_fs_host_open(kt_image_path(img), fs, err);
    else if (strcmp(vol->fs, "xfs") == 0)
        rc = kt_fs_xfs_open(img, vol, fs, err);
    else
        rc = kt_fs_tsk_open(img, vol, fs, err);
    if (rc) {
        free(fs); /* the caller says which volume */
        return rc;
    }
    *out = fs;
    return KT_OK;
}

int kt_fs_open_store(kt_vss *vss, size_t i, const kt_volume *vol, kt_fs **out, kt_error *err)
{
    kt_fs *fs = calloc(1, sizeof *fs);
    if (fs == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    int rc = kt_fs_tsk_open_store(vss, i, vol, fs, err);
    if (rc) {
        free(fs);
        return rc;
    }
    *out = fs;
    return KT_OK;
}

void kt_fs_free(kt_fs *fs)
{
    if (fs == NULL)
        return;
    if (fs->ops && fs->ops->close)
        fs->ops->close(fs);
    free(fs);
}

kt_fs_kind kt_fs_get_kind(const kt_fs *fs)
{
    return fs->kind;
}

const char *kt_fs_type_name(const kt_fs *fs)
{
    return fs->type_name;
}

bool kt_fs_case_insensitive(const kt_fs *fs)
{
    return fs->case_insensitive;
}

int kt_name_casecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y || x == 0)
            return x - y;
    }
}

/* The walk's state: the resolved path so far (on-disk names, no links)
 * and the node it names. */
typedef struct walk {
    char resolved[KT_FS_PATH_MAX];
    size_t len;
    kt_node node;
    kt_file_type type;
} walk;

static int append(walk *w, const char *name)
{
    size_t n = strlen(name);
    if (w->len + n + 2 > sizeof w->resolved)
        return KT_ELIMIT;
    if (w->len)
        w->resolved[w->len++] = '/';
    memcpy(w->resolved + w->len, name, n + 1);
    w->len += n;
    return KT_OK;
}

/* Walk `path` from the root. Links in the middle are always followed,
 * the last one only with KT_FS_FOLLOW. */
static int walk_path(kt_fs *fs, const char *path, int flags, walk *w, kt_error *err)
{
    char rest[KT_FS_PATH_MAX * 2];
    if (kt_strlcpy(rest, path, sizeof rest) >= sizeof rest)
        return kt_error_set(err, KT_ELIMIT, "path too long");
    if (fs->backslash_separates)
        for (char *p = rest; *p; p++)
            if (*p == '\\')
                *p = '/';
    w->len = 0;
    w->resolved[0] = '\0';
    w->node = fs->root;
    w->type = KT_FT_DIR;
    int links = 0, depth = 0;
    size_t pos = 0;

    while (rest[pos]) {
        while (rest[pos] == '/')
            pos++;
        if (!rest[pos])
            break;
        char name[KT_FS_PATH_MAX];
        size_t n = strcspn(rest + pos, "/");
        if (n >= sizeof name)
            return kt_error_set(err, KT_ELIMIT, "path component too long");
        memcpy(name, rest + pos, n);
        name[n] = '\0';
        pos += n;
        bool last = rest[pos + strspn(rest + pos, "/")] == '\0';
        if (strcmp(name, ".") == 0)
            continue;
        if (w->type != KT_FT_DIR)
            return kt_error_set(err, KT_ENOTFOUND, "'%s' is not a directory", w->resolved);
        if (strcmp(name, "..") == 0) {
            /* ".." never climbs above the evidence's root. */
            char *slash = strrchr(w->resolved, '/');
            size_t keep = slash ? (size_t)(slash - w->resolved) : 0;
            char parent[KT_FS_PATH_MAX];
            memcpy(parent, w->resolved, keep);
            parent[keep] = '\0';
            int rc = walk_path(fs, parent, flags & KT_FS_DELETED, w, err);
            if (rc)
                return rc;
            continue;
        }
        if (++depth > KT_FS_MAX_DEPTH)
            return kt_error_set(err, KT_ELIMIT, "path deeper than %d components", KT_FS_MAX_DEPTH);
        kt_node child = {0};
        kt_file_type type = KT_FT_UNKNOWN;
        char actual[KT_FS_PATH_MAX];
        int rc = fs->ops->child(fs, &w->node, w->resolved, name, flags, &child, actual,
                                sizeof actual, &type, err);
        if (rc == KT_ENOTFOUND)
            return kt_error_set(err, rc, "'%s%s%s' not found", w->resolved, w->len ? "/" : "",
                                name);
        if (rc)
            return rc;
        if (type == KT_FT_LINK && (!last || (flags & KT_FS_FOLLOW))) {
            if (++links > KT_FS_MAX_LINKS)
                return kt_error_set(err, KT_ELOOP, "too many levels of symbolic links");
            char target[KT_FS_PATH_MAX], linkpath[KT_FS_PATH_MAX + 1];
            int ln = snprintf(linkpath, sizeof linkpath, "%s%s%s", w->resolved, w->len ? "/" : "",
                              actual);
            if (ln < 0 || (size_t)ln >= sizeof linkpath)
                return kt_error_set(err, KT_ELIMIT, "path too long");
            rc = fs->ops->readlink(fs, &child, linkpath, target, sizeof target, err);
            if (rc)
                return rc;
            char joined[KT_FS_PATH_MAX * 2];
            int jn = snprintf(joined, sizeof joined, "%s/%s", target, rest + pos);
            if (jn < 0 || (size_t)jn >= sizeof joined || (size_t)jn >= sizeof rest)
                return kt_error_set(err, KT_ELIMIT, "link target too long");
            memcpy(rest, joined, (size_t)jn + 1);
            pos = 0;
            if (target[0] == '/') {
                /* An absolute target starts again at the evidence's root. */
                w->len = 0;
                w->resolved[0] = '\0';
                w->node = fs->root;
                w->type = KT_FT_DIR;
            }
            continue;
        }
        if (append(w, actual))
            return kt_error_set(err, KT_ELIMIT, "path too long");
        w->node = child;
        w->type = type;
    }
    return KT_OK;
}

/* Split "dir/file:stream" on filesystems with named streams. */
static int split_stream(const kt_fs *fs, const char *path, char *file, size_t len,
                        const char **stream)
{
    *stream = NULL;
    if (kt_strlcpy(file, path, len) >= len)
        return KT_ELIMIT;
    if (!fs->has_streams)
        return KT_OK;
    char *slash = strrchr(file, '/');
    char *bslash = strrchr(file, '\\');
    char *base = slash > bslash ? slash : bslash;
    char *colon = strchr(base ? base : file, ':');
    if (colon) {
        *colon = '\0';
        *stream = colon + 1;
    }
    return KT_OK;
}

int kt_fs_stat(kt_fs *fs, const char *path, int flags, kt_stat *st, kt_error *err)
{
    walk w;
    int rc = walk_path(fs, path, flags, &w, err);
    if (rc == KT_OK)
        rc = fs->ops->stat(fs, &w.node, w.resolved, st, err);
    return rc;
}

bool kt_fs_exists(kt_fs *fs, const char *path)
{
    kt_stat st;
    return kt_fs_stat(fs, path, 0, &st, NULL) == KT_OK;
}

int kt_fs_list(kt_fs *fs, const char *path, bool include_deleted, kt_dirent_list *out,
               kt_error *err)
{
    walk w;
    int rc = walk_path(fs, path, KT_FS_FOLLOW | (include_deleted ? KT_FS_DELETED : 0), &w, err);
    if (rc)
        return rc;
    if (w.type != KT_FT_DIR)
        return kt_error_set(err, KT_EARG, "'%s' is not a directory", path);
    kt_dirent_list l = {0};
    rc = fs->ops->list(fs, &w.node, w.resolved, include_deleted, &l, err);
    if (rc) {
        kt_dirent_list_release(&l);
        return rc;
    }
    kt_dirent_sort(&l);
    *out = l;
    return KT_OK;
}

uint64_t kt_fs_mft_passes(const kt_fs *fs, uint64_t *bytes)
{
    if (bytes)
        *bytes = fs->mft_bytes;
    return fs->mft_passes;
}

const kt_mft *kt_fs_ntfs_mft(kt_fs *fs)
{
    return fs->ops == &kt_fs_tsk_ops ? kt_fs_tsk_mft(fs) : NULL;
}

uint64_t kt_fs_damaged_records(const kt_fs *fs, char *msg, size_t len)
{
    if (msg && len)
        kt_strlcpy(msg, fs->mft_damaged ? fs->mft_damage : "", len);
    return fs->mft_damaged;
}

int kt_fs_list_some(kt_fs *fs, const char *path, bool include_deleted, kt_fs_want want, void *ctx,
                    kt_dirent_list *out, kt_error *err)
{
    if (fs->ops->list_some == NULL) {
        kt_dirent_list all = {0};
        int rc = kt_fs_list(fs, path, include_deleted, &all, err);
        if (rc)
            return rc;
        kt_dirent_list l = {0};
        for (size_t i = 0; i < all.count && rc == KT_OK; i++)
            if (want(ctx, all.items[i].name, all.items[i].st.type))
                rc = kt_dirent_add(&l, all.items[i].name, all.items[i].deleted, &all.items[i].st);
        kt_dirent_list_release(&all);
        if (rc) {
            kt_dirent_list_release(&l);
            return kt_error_set(err, rc,
                                rc == KT_ENOMEM ? "out of memory" : "directory listing too large");
        }
        *out = l;
        return KT_OK;
    }
    walk w;
    int rc = walk_path(fs, path, KT_FS_FOLLOW | (include_deleted ? KT_FS_DELETED : 0), &w, err);
    if (rc)
        return rc;
    if (w.type != KT_FT_DIR)
        return kt_error_set(err, KT_EARG, "'%s' is not a directory", path);
    kt_dirent_list l = {0};
    rc = fs->ops->list_some(fs, &w.node, w.resolved, include_deleted, want, ctx, &l, err);
    if (rc) {
        kt_dirent_list_release(&l);
        return rc;
    }
    kt_dirent_sort(&l);
    *out = l;
    return KT_OK;
}

uint64_t kt_fs_dir_reads(const kt_fs *fs)
{
    return fs->dir_reads;
}

int kt_fs_in_use(kt_fs *fs, uint64_t *count, kt_error *err)
{
    if (fs->ops->in_use == NULL)
        return kt_error_set(err, KT_EUNSUPPORTED, "no count of files in use");
    return fs->ops->in_use(fs, count, err);
}

int kt_fs_list_deleted(kt_fs *fs, const char *path, kt_dirent_list *out, kt_error *err)
{
    kt_dirent_list all = {0};
    int rc = kt_fs_list(fs, path, true, &all, err);
    if (rc)
        return rc;
    kt_dirent_list del = {0};
    for (size_t i = 0; i < all.count && rc == KT_OK; i++)
        if (all.items[i].deleted)
            rc = kt_dirent_add(&del, all.items[i].name, true, &all.items[i].st);
    kt_dirent_list_release(&all);
    if (rc) {
        kt_dirent_list_release(&del);
        return kt_error_set(err, rc, "out of memory");
    }
    *out = del;
    return KT_OK;
}

/* The file (or named stream, "file:stream") that path names, for a read:
 * its walk into *w and its stream (NULL: the file's data) into *stream;
 * file holds the path without the stream. A directory has no data. */
static int find_data(kt_fs *fs, const char *path, int flags, char file[KT_FS_PATH_MAX],
                     const char **stream, walk *w, kt_error *err)
{
    if (split_stream(fs, path, file, KT_FS_PATH_MAX, stream))
        return kt_error_set(err, KT_ELIMIT, "path too long");
    int rc = walk_path(fs, file, KT_FS_FOLLOW | (flags & KT_FS_DELETED), w, err);
    if (rc)
        return rc;
    if (w->type == KT_FT_DIR && *stream == NULL)
        return kt_error_set(err, KT_EARG, "'%s' is a directory", path);
    return KT_OK;
}

int kt_fs_read(kt_fs *fs, const char *path, int flags, size_t limit, kt_buf *out, kt_error *err)
{
    char file[KT_FS_PATH_MAX];
    const char *stream;
    walk w;
    int rc = find_data(fs, path, flags, file, &stream, &w, err);
    if (rc)
        return rc;
    kt_buf b = {0};
    rc = fs->ops->read(fs, &w.node, w.resolved, stream, limit, &b, err);
    if (rc) {
        kt_buf_release(&b);
        kt_error_prefix(err, "'%s'", path);
        return rc;
    }
    if (b.data == NULL && kt_buf_reserve(&b, 0)) {
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    }
    *out = b;
    return KT_OK;
}

int kt_fs_read_pieces(kt_fs *fs, const char *path, int flags, size_t limit, kt_fs_piece_cb cb,
                      void *ctx, kt_error *err)
{
    if (fs->ops->read_pieces == NULL) {
        kt_buf b = {0};
        int rc = kt_fs_read(fs, path, flags, limit, &b, err);
        for (size_t off = 0; rc == KT_OK && off < b.len; off += KT_FS_PIECE)
            rc = cb(ctx, b.data + off, b.len - off < KT_FS_PIECE ? b.len - off : KT_FS_PIECE);
        kt_buf_release(&b);
        return rc;
    }
    char file[KT_FS_PATH_MAX];
    const char *stream;
    walk w;
    int rc = find_data(fs, path, flags, file, &stream, &w, err);
    if (rc)
        return rc;
    kt_error e = {0};
    rc = fs->ops->read_pieces(fs, &w.node, w.resolved, stream, limit, cb, ctx, &e);
    if (rc && e.code && err) {
        *err = e;
        kt_error_prefix(err, "'%s'", path);
    }
    return rc;
}

int kt_fs_readlink(kt_fs *fs, const char *path, char *buf, size_t len, kt_error *err)
{
    walk w;
    int rc = walk_path(fs, path, 0, &w, err);
    if (rc)
        return rc;
    if (w.type != KT_FT_LINK)
        return kt_error_set(err, KT_EARG, "'%s' is not a symbolic link", path);
    return fs->ops->readlink(fs, &w.node, w.resolved, buf, len, err);
}

int kt_fs_resolve(kt_fs *fs, const char *path, char *buf, size_t len, kt_error *err)
{
    walk w;
    int rc = walk_path(fs, path, KT_FS_FOLLOW, &w, err);
    if (rc)
        return rc;
    if (kt_strlcpy(buf, w.resolved, len) >= len)
        return kt_error_set(err, KT_ELIMIT, "resolved path too long");
    return KT_OK;
}

int kt_dirent_add(kt_dirent_list *l, const char *name, bool deleted, const kt_stat *st)
{
    if (l->count >= KT_FS_MAX_DIRENTS)
        return KT_ELIMIT;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        kt_dirent *p = realloc(l->items, cap * sizeof *p);
        if (p == NULL)
            return KT_ENOMEM;
        l->items = p;
        l->cap = cap;
    }
    char *copy = strdup(name);
    if (copy == NULL)
        return KT_ENOMEM;
    l->items[l->count++] = (kt_dirent){.name = copy, .deleted = deleted, .st = *st};
    return KT_OK;
}

static int dirent_cmp(const void *a, const void *b)
{
    const kt_dirent *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    if (x->deleted != y->deleted)
        return x->deleted ? 1 : -1;
    return x->st.inode < y->st.inode ? -1 : x->st.inode > y->st.inode;
}

void kt_dirent_sort(kt_dirent_list *l)
{
    if (l->count > 1)
        qsort(l->items, l->count, sizeof *l->items, dirent_cmp);
}

void kt_dirent_list_release(kt_dirent_list *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i].name);
    free(l->items);
    l->items = NULL;
    l->count = l->cap = 0;
}
