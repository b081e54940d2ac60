/* A filesystem root inside an archive (a Velociraptor upload folder, UAC's
 * "[root]", a KAPE zip's drive folder), read in place: a tree built once
 * from the archive's index, content read from the archive on demand.
 * Folders an archive does not list (UAC 2.x keeps no directory entries)
 * are implied by the paths below them, with no times. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collection.h"
#include "fs_impl.h"

#define NO_ENTRY ((size_t)-1)
#define NO_NODE ((size_t)-1)

typedef struct anode {
    char *name;
    size_t parent, child, next; /* first child and next sibling, NO_NODE at the end */
    size_t entry;               /* its archive entry, NO_ENTRY for an implied folder */
    kt_file_type type;
} anode;

typedef struct arc_impl {
    kt_archive *a; /* borrowed from the image */
    kt_times *times;
    anode *nodes;
    size_t n, cap;
} arc_impl;

static arc_impl *impl(kt_fs *fs)
{
    return fs->impl;
}

static size_t add_node(arc_impl *h, size_t parent, const char *name, size_t len, size_t entry,
                       kt_file_type type)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        anode *p = realloc(h->nodes, cap * sizeof *p);
        if (p == NULL)
            return NO_NODE;
        h->nodes = p;
        h->cap = cap;
    }
    char *copy = strndup(name, len);
    if (copy == NULL)
        return NO_NODE;
    size_t i = h->n++;
    h->nodes[i] = (anode){copy, parent, NO_NODE, NO_NODE, entry, type};
    if (parent != NO_NODE) {
        h->nodes[i].next = h->nodes[parent].child;
        h->nodes[parent].child = i;
    }
    return i;
}

static size_t find_exact(const arc_impl *h, size_t dir, const char *name)
{
    for (size_t c = h->nodes[dir].child; c != NO_NODE; c = h->nodes[c].next)
        if (strcmp(h->nodes[c].name, name) == 0)
            return c;
    return NO_NODE;
}

/* Put entry i, at `rest` below the root, into the tree; the first entry of
 * a path wins. */
static int insert(arc_impl *h, const char *rest, bool percent, size_t i, const kt_arc_entry *e)
{
    size_t at = 0;
    while (*rest) {
        size_t n = strcspn(rest, "/");
        char name[1024];
        if (percent)
            kt_collection_decode(rest, n, name, sizeof name);
        else if (n < sizeof name) {
            memcpy(name, rest, n);
            name[n] = '\0';
        } else {
            return KT_OK; /* a name no filesystem keeps: left out */
        }
        bool last = rest[n] == '\0';
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || name[0] == '\0')
            return KT_OK;
        size_t c = find_exact(h, at, name);
        if (c == NO_NODE) {
            c = add_node(h, at, name, strlen(name), last ? i : NO_ENTRY,
                         last ? e->type : KT_FT_DIR);
            if (c == NO_NODE)
                return KT_ENOMEM;
        } else if (last && h->nodes[c].entry == NO_ENTRY && e->type == KT_FT_DIR) {
            h->nodes[c].entry = i; /* an implied folder's own entry, listed later */
        }
        if (!last && h->nodes[c].type != KT_FT_DIR)
            return KT_OK; /* a path through a file: left out */
        at = c;
        rest += n;
        while (*rest == '/')
            rest++;
    }
    return KT_OK;
}

static void fill_stat(kt_fs *fs, size_t node, const char *path, kt_stat *st)
{
    arc_impl *h = impl(fs);
    const anode *nd = &h->nodes[node];
    memset(st, 0, sizeof *st);
    st->inode = node;
    st->type = nd->type;
    st->allocated = true;
    st->created = st->modified = st->changed = st->accessed = KT_TIME_NONE;
    st->fn_created = st->fn_modified = st->fn_changed = st->fn_accessed = KT_TIME_NONE;
    if (nd->entry != NO_ENTRY) {
        const kt_arc_entry *e = kt_archive_entry(h->a, nd->entry);
        st->size = nd->type == KT_FT_REG ? e->size : 0;
        st->mode = e->mode;
        st->created = e->btime;
        st->modified = e->mtime;
        st->changed = e->ctime;
        st->accessed = e->atime;
    } else {
        st->mode = 040755;
    }
    const kt_times_row *r = kt_times_find(h->times, path);
    if (r) {
        st->created = r->created;
        st->modified = r->modified;
        st->changed = r->changed;
        st->accessed = r->accessed;
    }
}

static int child(kt_fs *fs, const kt_node *dir, const char *dpath, const char *name, int flags,
                 kt_node *out, char *actual, size_t actual_len, kt_file_type *type, kt_error *err)
{
    (void)dpath;
    (void)flags; /* an archive keeps no deleted names */
    (void)err;
    arc_impl *h = impl(fs);
    size_t c = find_exact(h, dir->inum, name);
    if (c == NO_NODE && fs->case_insensitive)
        for (size_t k = h->nodes[dir->inum].child; k != NO_NODE && c == NO_NODE;
             k = h->nodes[k].next)
            if (kt_name_casecmp(h->nodes[k].name, name) == 0)
                c = k;
    if (c == NO_NODE)
        return KT_ENOTFOUND;
    out->inum = c;
    kt_strlcpy(actual, h->nodes[c].name, actual_len);
    *type = h->nodes[c].type;
    return KT_OK;
}

static int do_stat(kt_fs *fs, const kt_node *n, const char *path, kt_stat *st, kt_error *err)
{
    (void)err;
    fill_stat(fs, n->inum, path, st);
    return KT_OK;
}

static int list(kt_fs *fs, const kt_node *dir, const char *path, bool include_deleted,
                kt_dirent_list *out, kt_error *err)
{
    (void)include_deleted;
    arc_impl *h = impl(fs);
    for (size_t c = h->nodes[dir->inum].child; c != NO_NODE; c = h->nodes[c].next) {
        char p[KT_FS_PATH_MAX];
        int n = snprintf(p, sizeof p, "%s%s%s", path, path[0] ? "/" : "", h->nodes[c].name);
        if (n < 0 || (size_t)n >= sizeof p)
            continue;
        kt_stat st;
        fill_stat(fs, c, p, &st);
        int rc = kt_dirent_add(out, h->nodes[c].name, false, &st);
        if (rc)
            return kt_error_set(err, rc, "directory listing too large");
    }
    return KT_OK;
}

static int do_read(kt_fs *fs, const kt_node *n, const char *path, const char *stream, size_t limit,
                   kt_buf *out, kt_error *err)
{
    (void)path;
    arc_impl *h = impl(fs);
    if (stream)
        return kt_error_set(err, KT_EUNSUPPORTED, "named streams are not kept in an archive");
    const anode *nd = &h->nodes[n->inum];
    if (nd->type != KT_FT_REG || nd->entry == NO_ENTRY)
        return kt_error_set(err, KT_EARG, "not a regular file");
    return kt_archive_read(h->a, nd->entry, limit, out, err);
}

static int do_readlink(kt_fs *fs, const kt_node *n, const char *path, char *buf, size_t len,
                       kt_error *err)
{
    arc_impl *h = impl(fs);
    const anode *nd = &h->nodes[n->inum];
    const kt_arc_entry *e = nd->entry != NO_ENTRY ? kt_archive_entry(h->a, nd->entry) : NULL;
    if (e == NULL || e->type != KT_FT_LINK || e->link == NULL)
        return kt_error_set(err, KT_EARG, "'%s' is not a symbolic link", path);
    if (kt_strlcpy(buf, e->link, len) >= len)
        return kt_error_set(err, KT_ELIMIT, "link target too long");
    return KT_OK;
}

static void do_close(kt_fs *fs)
{
    arc_impl *h = fs->impl;
    if (h == NULL)
        return;
    for (size_t i = 0; i < h->n; i++)
        free(h->nodes[i].name);
    free(h->nodes);
    kt_times_release(h->times);
    free(h->times);
    free(h);
    fs->impl = NULL;
}

const kt_fs_ops kt_fs_archive_ops = {
    .name = "archive",
    .child = child,
    .stat = do_stat,
    .list = list,
    .read = do_read,
    .readlink = do_readlink,
    .close = do_close,
};

int kt_fs_archive_open(kt_archive *a, const kt_collection_root *root, bool case_insensitive,
                       kt_times *times, kt_fs *fs, kt_error *err)
{
    arc_impl *h = calloc(1, sizeof *h);
    if (h == NULL) {
        kt_times_release(times);
        free(times);
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    }
    h->a = a;
    h->times = times;
    fs->impl = h;
    fs->ops = &kt_fs_archive_ops;
    int rc = add_node(h, NO_NODE, "", 0, NO_ENTRY, KT_FT_DIR) == NO_NODE ? KT_ENOMEM : KT_OK;
    for (size_t p = 0; p < root->nprefix && rc == KT_OK; p++) {
        const char *prefix = root->prefix[p];
        size_t plen = strlen(prefix);
        for (size_t i = 0; i < kt_archive_count(a) && rc == KT_OK; i++) {
            const kt_arc_entry *e = kt_archive_entry(a, i);
            const char *rest = e->path;
            if (plen) {
                if (strncmp(rest, prefix, plen) != 0 || rest[plen] != '/')
                    continue;
                rest += plen + 1;
            }
            rc = insert(h, rest, root->percent, i, e);
        }
    }
    if (rc) {
        do_close(fs);
        return kt_error_set(err, rc, "out of memory");
    }
    fs->kind = KT_FS_HOSTDIR;
    kt_strlcpy(fs->type_name, "archive", sizeof fs->type_name);
    fs->case_insensitive = case_insensitive;
    fs->has_streams = false;
    fs->backslash_separates = false;
    fs->root.inum = 0;
    return KT_OK;
}
