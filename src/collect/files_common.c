/* What every file-based source shares: its definition's paths, type,
 * deleted flag and stored times; the walk of its path patterns over the
 * filesystem; the events of an entry's stored times; reading a find. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

/* ---- definitions ---- */

void kt_file_part_parse(kt_defs *c, yaml_node_t *f, kt_artifact *a, kt_file_part *fp)
{
    defs_paths(c, f, &fp->paths, "files");
    const char *type = defs_str(c, f, "type", "files");
    if (type == NULL || strcmp(type, "any") == 0)
        fp->type = 0;
    else if (strcmp(type, "file") == 0)
        fp->type = 1;
    else if (strcmp(type, "directory") == 0)
        fp->type = 2;
    else
        defs_problem(c, defs_get(c, f, "type"), "files: type must be file, directory or any");
    fp->deleted = defs_bool(c, f, "deleted", false);
    defs_name_rule(c, defs_get(c, f, "product"), &a->product, false);
    defs_name_rule(c, defs_get(c, f, "version"), &a->version, false);

    yaml_node_t *t = defs_get(c, f, "times");
    if (t && t->type == YAML_SEQUENCE_NODE) {
        size_t n = (size_t)(t->data.sequence.items.top - t->data.sequence.items.start);
        fp->times = defs_calloc(c, n ? n : 1, sizeof *fp->times);
        for (yaml_node_item_t *i = t->data.sequence.items.start;
             fp->times && i < t->data.sequence.items.top; i++) {
            yaml_node_t *tn = yaml_document_get_node(c->doc, *i);
            static const char *const tkeys[] = {"field", "category", NULL};
            defs_check_keys(c, tn, "files time", tkeys);
            const char *field =
                defs_scalar(tn) ? defs_scalar(tn) : defs_scalar(defs_get(c, tn, "field"));
            kt_file_time_rule *r = &fp->times[fp->ntimes];
            bool found = false;
            for (int k = 0; field && k < KT_FT_COUNT && !found; k++)
                if (strcmp(field, kt_file_time_name((kt_file_time)k)) == 0) {
                    r->field = (kt_file_time)k;
                    found = true;
                }
            if (!found) {
                defs_problem(c, tn, "files: unknown time '%s'", field ? field : "?");
                continue;
            }
            if (tn->type == YAML_MAPPING_NODE && defs_get(c, tn, "category"))
                r->category_set = defs_category(c, defs_get(c, tn, "category"), &r->category) == 0;
            fp->ntimes++;
        }
    } else if (t) {
        defs_problem(c, t, "files: 'times' must be a list");
    }
}

void kt_file_part_release(kt_file_part *fp)
{
    kt_strlist_release(&fp->paths);
    kt_strlist_release(&fp->names);
    free(fp->times);
}

/* ---- the walk ---- */

typedef struct fnode {
    kt_stat st;
    bool deleted;
} fnode;

typedef struct fwalk {
    kt_collector *c;
    const kt_artifact *a;
    const kt_file_part *fp;
    kt_file_found found;
    /* patterns walked together (their common start, then "*"): an entry
     * counts when its name matches one of their last components */
    const char *const *lasts;
    size_t nlasts;
    int fnm_flags;
} fwalk;

static bool type_fits(const kt_file_part *fp, kt_file_type t)
{
    return fp->type == 0 || (fp->type == 1 && t == KT_FT_REG) || (fp->type == 2 && t == KT_FT_DIR);
}

/* Whether the artifact found this entry already (and note it if not). */
static bool seen_before(kt_collector *c, uint64_t inode, bool deleted)
{
    if (inode == 0)
        return false;
    for (size_t i = 0; i < c->nseen; i++)
        if (c->seen[i].inode == inode && c->seen[i].deleted == deleted)
            return true;
    if (c->nseen == c->seen_cap) {
        size_t cap = c->seen_cap ? 2 * c->seen_cap : 64;
        struct kt_seen *p = realloc(c->seen, cap * sizeof *p);
        if (p == NULL) {
            c->rc = KT_ENOMEM;
            return true;
        }
        c->seen = p;
        c->seen_cap = cap;
    }
    c->seen[c->nseen++] = (struct kt_seen){inode, deleted};
    return false;
}

/* A literal directory on the way: looked up directly, not listed. */
static bool lookup(void *arg, const char *path, const void *node, const char *name, char *real,
                   size_t real_len, void *child)
{
    fwalk *x = arg;
    (void)node;
    char sub[KT_FS_PATH_MAX];
    if (snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "/" : "", name) >= (int)sizeof sub)
        return false;
    fnode *n = child;
    kt_error err = {0};
    int rc = kt_fs_stat(x->c->fs, sub, x->fp->deleted ? KT_FS_DELETED | KT_FS_FOLLOW : KT_FS_FOLLOW,
                        &n->st, &err);
    if (rc) {
        /* Absent is nothing to say; unreadable is (a damaged record). */
        if (rc != KT_ENOTFOUND)
            kt_collect_diag(x->c, KT_SEV_WARNING, "dir.lookup", sub, NULL, "%s", err.msg);
        return false;
    }
    if (n->st.type != KT_FT_DIR)
        return false;
    n->deleted = !n->st.allocated;
    kt_strlcpy(real, name, real_len);
    return true;
}

static bool name_fits(const fwalk *x, const char *name)
{
    const kt_file_part *fp = x->fp;
    bool last_fits = x->nlasts == 0;
    for (size_t i = 0; i < x->nlasts && !last_fits; i++)
        last_fits = fnmatch(x->lasts[i], name, x->fnm_flags) == 0;
    if (!last_fits)
        return false;
    for (size_t i = 0; i < fp->names.count; i++)
        if (fnmatch(fp->names.items[i], name, FNM_CASEFOLD) == 0)
            return true;
    return fp->names.count == 0;
}

typedef struct wanted_ctx {
    const fwalk *x;
    bool last;
} wanted_ctx;

/* Below the pattern's last component only directories lead on; at it,
 * only names that fit the part's `names` count: the rest of a directory's
 * entries are passed by without reading their records. */
static bool wanted(void *p, const char *name, kt_file_type type)
{
    const wanted_ctx *w = p;
    if (!w->last)
        return type == KT_FT_DIR || type == KT_FT_UNKNOWN;
    return name_fits(w->x, name);
}

static void list(void *arg, const char *path, const void *node, bool last, kt_walk_each each,
                 void *walk)
{
    fwalk *x = arg;
    kt_collector *c = x->c;
    const fnode *dir = node;
    kt_dirent_list l = {0};
    kt_error err = {0};
    wanted_ctx want = {.x = x, .last = last};
    int rc = kt_fs_list_some(c->fs, path, x->fp->deleted, wanted, &want, &l, &err);
    if (rc) {
        if (rc != KT_ENOTFOUND)
            kt_collect_diag(c, KT_SEV_WARNING, "dir.list", path, NULL, "%s", err.msg);
        return;
    }
    for (size_t k = 0; k < l.count && !c->rc; k++) {
        const kt_dirent *d = &l.items[k];
        fnode n = {.st = d->st, .deleted = d->deleted || dir->deleted};
        if (n.deleted && !x->fp->deleted)
            continue;
        if (!last && d->st.type != KT_FT_DIR)
            continue;
        each(walk, d->name, &n);
    }
    kt_dirent_list_release(&l);
}

/* A symbolic link counts as the directory it leads to (resolved inside
 * the evidence): /opt/kaspersky/kesl links into the versioned tree. The
 * find keeps the link's own times (when it was made). */
static bool link_to_dir(kt_collector *c, const char *path, const fnode *n)
{
    kt_stat target;
    return n->st.type == KT_FT_LINK && !n->deleted &&
           kt_fs_stat(c->fs, path, KT_FS_FOLLOW, &target, NULL) == KT_OK &&
           target.type == KT_FT_DIR;
}

static bool match(void *arg, const char *path, const void *node)
{
    fwalk *x = arg;
    const fnode *n = node;
    const char *slash = strrchr(path, '/');
    if (!name_fits(x, slash ? slash + 1 : path))
        return false;
    bool fits = type_fits(x->fp, n->st.type) || (x->fp->type == 2 && link_to_dir(x->c, path, n));
    if (!fits || seen_before(x->c, n->st.inode, n->deleted))
        return false;
    kt_find f = {.path = path, .st = &n->st, .deleted = n->deleted};
    x->found(x->c, x->a, &f);
    return true;
}

/* The part of a "**" pattern before its last component ("Program
 * Files/<star>/<star><star>" of ".../appinfo.kli"): its length, 0 when the pattern has
 * no "**" before a last component without globs' slashes. */
static size_t any_prefix(const char *pattern)
{
    const char *slash = strrchr(pattern, '/');
    if (slash == NULL || slash == pattern)
        return 0;
    size_t n = (size_t)(slash - pattern);
    for (const char *p = pattern; p + 2 <= slash; p++)
        if (p[0] == '*' && p[1] == '*' && (p == pattern || p[-1] == '/') &&
            (p + 2 == slash || p[2] == '/'))
            return n;
    return 0;
}

#define GROUP_MAX 64

void kt_file_walk(kt_collector *c, const kt_artifact *a, const kt_file_part *fp,
                  kt_file_found found)
{
    int fnm = kt_fs_case_insensitive(c->fs) ? FNM_CASEFOLD : 0;
    fwalk x = {.c = c, .a = a, .fp = fp, .found = found, .fnm_flags = fnm};
    kt_walk w = {
        .sep = '/',
        .fnm_flags = fnm,
        .lookup_after_glob = false,
        .lookup_last = false,
        .path_max = KT_FS_PATH_MAX,
        .node_size = sizeof(fnode),
        .max_matches = KT_COLLECT_MAX_MATCHES,
        .stop = &c->rc,
        .arg = &x,
        .lookup = lookup,
        .list = list,
        .match = match,
    };
    c->nseen = 0;
    fnode root = {.deleted = false};
    /* Patterns that share their start up to a "**" and differ in their
     * last component (the marker names under Program Files/<star>/<star><star>) are
     * walked once together: each folder of the tree is listed once for
     * all of them, not once a pattern. */
    bool *done = calloc(fp->paths.count ? fp->paths.count : 1, sizeof *done);
    if (done == NULL) {
        c->rc = KT_ENOMEM;
        return;
    }
    for (size_t k = 0; k < fp->paths.count && !c->rc; k++) {
        if (done[k])
            continue;
        const char *pk = fp->paths.items[k];
        size_t pre = any_prefix(pk);
        const char *lasts[GROUP_MAX];
        size_t group[GROUP_MAX], n = 0;
        for (size_t m = k; pre && m < fp->paths.count && n < GROUP_MAX; m++) {
            const char *pm = fp->paths.items[m];
            if (!done[m] && any_prefix(pm) == pre && strncmp(pm, pk, pre) == 0) {
                group[n] = m;
                lasts[n++] = pm + pre + 1;
            }
        }
        char joined[KT_FS_PATH_MAX];
        const char *pattern = pk;
        x.nlasts = 0;
        if (n > 1 && snprintf(joined, sizeof joined, "%.*s/*", (int)pre, pk) < (int)sizeof joined) {
            pattern = joined;
            x.lasts = lasts;
            x.nlasts = n;
        } else {
            group[0] = k;
            n = 1;
        }
        for (size_t g = 0; g < n; g++)
            done[group[g]] = true;
        w.any_cut = 0;
        kt_walk_run(&w, pattern, "", &root);
        if (w.nomem)
            c->rc = KT_ENOMEM;
        for (size_t g = 0; g < n && w.any_cut && !c->rc; g++)
            kt_collect_diag(c, KT_SEV_WARNING, "limit.search", fp->paths.items[group[g]], a,
                            "search stopped after %d directories: the rest of it is not searched",
                            KT_WALK_ANY_NODES);
    }
    free(done);
}

/* ---- an entry's stored times ---- */

static kt_time file_time(const kt_stat *st, kt_file_time f)
{
    switch (f) {
    case KT_FT_SI_CREATED:
        return st->created;
    case KT_FT_SI_MODIFIED:
        return st->modified;
    case KT_FT_SI_CHANGED:
        return st->changed;
    case KT_FT_SI_ACCESSED:
        return st->accessed;
    case KT_FT_FN_CREATED:
        return st->has_fn ? st->fn_created : KT_TIME_NONE;
    case KT_FT_FN_MODIFIED:
        return st->has_fn ? st->fn_modified : KT_TIME_NONE;
    case KT_FT_FN_CHANGED:
        return st->has_fn ? st->fn_changed : KT_TIME_NONE;
    case KT_FT_FN_ACCESSED:
        return st->has_fn ? st->fn_accessed : KT_TIME_NONE;
    default:
        return KT_TIME_NONE;
    }
}

static const char *file_time_label(const kt_collector *c, kt_file_time f)
{
    bool ntfs = kt_fs_get_kind(c->fs) == KT_FS_NTFS;
    switch (f) {
    case KT_FT_SI_CREATED:
        return ntfs ? "$SI created" : "created";
    case KT_FT_SI_MODIFIED:
        return ntfs ? "$SI modified" : "modified";
    case KT_FT_SI_CHANGED:
        return ntfs ? "$SI MFT changed" : "changed";
    case KT_FT_SI_ACCESSED:
        return ntfs ? "$SI accessed" : "accessed";
    case KT_FT_FN_CREATED:
        return "$FN created";
    case KT_FT_FN_MODIFIED:
        return "$FN modified";
    case KT_FT_FN_CHANGED:
        return "$FN MFT changed";
    case KT_FT_FN_ACCESSED:
        return "$FN accessed";
    case KT_FT_PARENT_MODIFIED:
        return ntfs ? "parent folder $SI modified (a child was deleted)"
                    : "parent directory modified (a child was deleted)";
    default:
        return "?";
    }
}

/* The bodyfile slot of a file time (the parent's modified time is its
 * folder's 'm'). */
static char macb_of(kt_file_time f)
{
    static const char slot[KT_FT_COUNT] = {
        [KT_FT_SI_CREATED] = 'b',  [KT_FT_SI_MODIFIED] = 'm', [KT_FT_SI_CHANGED] = 'c',
        [KT_FT_SI_ACCESSED] = 'a', [KT_FT_FN_CREATED] = 'b',  [KT_FT_FN_MODIFIED] = 'm',
        [KT_FT_FN_CHANGED] = 'c',  [KT_FT_FN_ACCESSED] = 'a', [KT_FT_PARENT_MODIFIED] = 'm',
    };
    return f < KT_FT_COUNT ? slot[f] : 0;
}

kt_precision kt_file_precision(const kt_collector *c)
{
    switch (kt_fs_get_kind(c->fs)) {
    case KT_FS_NTFS:
        return KT_PREC_100NS;
    case KT_FS_FAT:
        return KT_PREC_SECOND;
    default:
        return KT_PREC_NS;
    }
}

static void parent_of(const char *path, char *out, size_t len)
{
    kt_strlcpy(out, path, len);
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
    else
        out[0] = '\0';
}

void kt_file_time_finds(kt_collector *c, const kt_artifact *a, const kt_file_part *fp,
                        const kt_find *f, const char *what)
{
    kt_file_time_finds_as(c, a, fp, f, NULL, what);
}

void kt_file_time_finds_as(kt_collector *c, const kt_artifact *a, const kt_file_part *fp,
                           const kt_find *f, const char *version, const char *what)
{
    /* FAT keeps local wall-clock times (libtsk's conversion is undone,
     * fs_tsk.c): they are converted with the system's zone, and say so. */
    bool fat = kt_fs_get_kind(c->fs) == KT_FS_FAT;
    kt_time_pattern fat_local = {.local = true};
    char parent[KT_FS_PATH_MAX]; /* lives as long as the events that point at it */
    for (size_t i = 0; i < fp->ntimes; i++) {
        const kt_file_time_rule *r = &fp->times[i];
        kt_event_draft e;
        kt_emit_begin(c, a, f, &e);
        kt_emit_file(&e, f);
        if (version)
            kt_emit_version(a, &e, version);
        e.ev.precision = kt_file_precision(c);
        if (r->field == KT_FT_PARENT_MODIFIED) {
            if (!f->deleted)
                continue;
            kt_stat pst;
            parent_of(f->path, parent, sizeof parent);
            if (kt_fs_stat(c->fs, parent, KT_FS_DELETED, &pst, NULL) != KT_OK)
                continue;
            e.ev.time = pst.modified;
            e.ev.role = KT_ROLE_NONE; /* says nothing about what is left */
            e.ev.path = parent;
            e.ev.inode = pst.inode;
            e.ev.allocated = pst.allocated;
        } else {
            e.ev.time = file_time(f->st, r->field);
        }
        e.ev.macb = macb_of(r->field);
        e.ev.fn_time = r->field >= KT_FT_FN_CREATED && r->field <= KT_FT_FN_ACCESSED;
        if (e.ev.time == KT_TIME_NONE)
            continue;
        if (r->category_set)
            e.ev.category = r->category;
        char src[300];
        kt_strlcpy(src, file_time_label(c, r->field), sizeof src);
        if (fat) {
            kt_strlcpy(src + strlen(src), " (FAT local time)", sizeof src - strlen(src));
            kt_collect_convert(c, &fat_local, &e.ev.time, src, sizeof src, &e.ev.zone);
        }
        e.ev.time_source = src;
        kt_emit(c, &e, what);
    }
}

int kt_file_read(kt_collector *c, const kt_artifact *a, const kt_find *f, size_t limit, kt_buf *b)
{
    kt_error err = {0};
    if (kt_fs_read(c->fs, f->path, f->deleted ? KT_FS_DELETED : 0, limit, b, &err)) {
        kt_collect_diag(c, KT_SEV_WARNING, "file.read", f->path, a, "%s", err.msg);
        kt_buf_release(b);
        return -1;
    }
    c->stats->files_read++;
    c->stats->bytes_read += b->len;
    return 0;
}

bool kt_text_nul(kt_collector *c, const kt_artifact *a, const kt_find *f, const kt_buf *b)
{
    const uint8_t *nul = b->len ? memchr(b->data, 0, b->len) : NULL;
    if (nul == NULL)
        return false;
    kt_collect_diag(c, KT_SEV_WARNING, "file.text", f->path, a,
                    "NUL byte at offset %zu of %zu: not text (a zeroed or lost block?); the text "
                    "after it is not read",
                    (size_t)(nul - b->data), b->len);
    return true;
}
