/* Source `plist`: property lists (XML or binary, libplist), each
 * dictionary of the root array (or the root) a record, filtered by keys
 * and dated by a date key. */
#include <stdio.h>
#include <stdlib.h>

#include "source.h"

typedef struct spec {
    kt_file_part fp; /* paths and deleted */
    kt_where *where; /* keys are dictionary keys */
    size_t nwhere;
    char *time_key; /* the dictionary key holding the date */
} spec;

static void parse(kt_defs *c, yaml_node_t *pl, kt_artifact *a)
{
    spec *s = defs_calloc(c, 1, sizeof *s);
    if (s == NULL)
        return;
    a->spec = s;
    static const char *const keys[] = {"paths",   "deleted", "where", "time",
                                       "product", "version", NULL};
    defs_check_keys(c, pl, "plist", keys);
    defs_paths(c, pl, &s->fp.paths, "plist");
    s->fp.type = 1;
    s->fp.deleted = defs_bool(c, pl, "deleted", false);
    defs_where(c, defs_get(c, pl, "where"), &s->where, &s->nwhere, "plist", "names");
    s->time_key = defs_dup(c, pl, "time", true, "plist");
    defs_name_rule(c, defs_get(c, pl, "product"), &a->product, true);
    defs_name_rule(c, defs_get(c, pl, "version"), &a->version, true);
}

static void release(void *p)
{
    spec *s = p;
    if (s == NULL)
        return;
    kt_file_part_release(&s->fp);
    defs_where_release(s->where, s->nwhere);
    free(s->time_key);
    free(s);
}

typedef struct plist_ctx {
    kt_collector *c;
    const kt_artifact *a;
    const kt_find *f;
    size_t undated;
} plist_ctx;

/* Every `where` key must hold a string (or an array item) that one of its
 * globs matches. */
static bool where_fits(const spec *s, const kt_plist_dict *d)
{
    for (size_t w = 0; w < s->nwhere; w++) {
        bool any = false;
        char v[512];
        for (size_t i = 0; !any && i < 4096 &&
                           kt_plist_dict_string(d, s->where[w].value, i, v, sizeof v) == KT_OK;
             i++)
            any = defs_where_match(&s->where[w], v);
        if (!any)
            return false;
    }
    return true;
}

static int record(void *p, const kt_plist_dict *d, size_t index)
{
    plist_ctx *x = p;
    kt_collector *c = x->c;
    const kt_artifact *a = x->a;
    const spec *s = a->spec;
    if (!where_fits(s, d))
        return 0;
    kt_time t = kt_plist_dict_date(d, s->time_key);
    if (t == KT_TIME_NONE) {
        x->undated++;
        return 0;
    }
    kt_find f = *x->f;
    f.dict = d;
    char src[200], value[64], what[KT_FS_PATH_MAX + 64];
    kt_event_draft e;
    kt_emit_begin(c, a, &f, &e);
    e.ev.time = t;
    e.ev.precision = KT_PREC_SECOND;
    snprintf(src, sizeof src, "%s of dictionary %zu (plist date, UTC)", s->time_key, index);
    e.ev.time_source = src;
    snprintf(value, sizeof value, "dictionary %zu", index);
    e.ev.value = value;
    kt_emit_file(&e, &f);
    snprintf(what, sizeof what, " (%s%s)", f.deleted ? "deleted: " : "", f.path);
    kt_emit(c, &e, what);
    return c->rc;
}

static void found(kt_collector *c, const kt_artifact *a, const kt_find *f)
{
    const spec *s = a->spec;
    kt_buf b = {0};
    if (kt_file_read(c, a, f, KT_PLIST_MAX_SIZE, &b))
        return;
    plist_ctx x = {.c = c, .a = a, .f = f};
    kt_error err = {0};
    if (kt_plist_each_dict(b.data, b.len, record, &x, &err) != KT_OK && c->rc == KT_OK)
        kt_collect_diag(c, KT_SEV_WARNING, "plist", f->path, NULL, "%s", err.msg);
    if (x.undated)
        kt_collect_diag(c, KT_SEV_WARNING, "plist.date", f->path, a,
                        "%zu matching entries have no date '%s'", x.undated, s->time_key);
    kt_buf_release(&b);
}

static void collect(kt_collector *c, const kt_artifact *a)
{
    const spec *s = a->spec;
    kt_file_walk(c, a, &s->fp, found);
}

const kt_source_ops kt_source_plist = {
    .key = "plist",
    .summary = "property lists: each dictionary a record, filtered by keys, dated by a date key",
    .parse = parse,
    .release = release,
    .collect = collect,
};
