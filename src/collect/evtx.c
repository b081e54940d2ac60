/* Source `evtx`: records of Windows event logs (libevtx, in the
 * kavtrace-evtx reader process) by provider and event id, filtered by
 * EventData strings; dated by TimeCreated or by a time in the record's
 * text. Every log an artifact names is noted during the artifact pass and
 * read once at the end, for all the artifacts that name it. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "source.h"

typedef struct evtx_event {
    uint32_t id;
    kt_category category;
    bool category_set;
} evtx_event;

typedef struct spec {
    kt_file_part fp; /* paths and deleted */
    kt_strlist providers;
    evtx_event *events;
    size_t nevents;
    bool any_event;  /* events: any (a provider whose event ids no source gives) */
    kt_where *where; /* keys are EventData indexes */
    size_t nwhere;
    /* a time read from an EventData string instead of TimeCreated */
    bool has_string_time;
    int string_time_index;
    regex_t string_time_regex; /* group 1 is the time */
    kt_time_pattern string_time;
} spec;

/* ---- definitions ---- */

static void parse_events(kt_defs *c, yaml_node_t *ev, spec *s)
{
    yaml_node_t *es = defs_get(c, ev, "events");
    if (es && defs_scalar(es) && strcmp(defs_scalar(es), "any") == 0) {
        s->any_event = true;
        return;
    }
    if (es == NULL || es->type != YAML_SEQUENCE_NODE) {
        defs_problem(c, es ? es : ev, "evtx: 'events' must list the event ids, or be 'any'");
        return;
    }
    size_t n = (size_t)(es->data.sequence.items.top - es->data.sequence.items.start);
    s->events = defs_calloc(c, n ? n : 1, sizeof *s->events);
    for (yaml_node_item_t *i = es->data.sequence.items.start;
         s->events && i < es->data.sequence.items.top; i++) {
        yaml_node_t *en = yaml_document_get_node(c->doc, *i);
        static const char *const ekeys[] = {"id", "category", NULL};
        defs_check_keys(c, en, "evtx event", ekeys);
        const char *id = defs_scalar(en) ? defs_scalar(en) : defs_scalar(defs_get(c, en, "id"));
        char *end = NULL;
        unsigned long v = id ? strtoul(id, &end, 10) : 0;
        if (id == NULL || *end || v > 0xFFFFFFFFul) {
            defs_problem(c, en, "evtx: event id must be a number");
            continue;
        }
        evtx_event *e = &s->events[s->nevents++];
        e->id = (uint32_t)v;
        if (en->type == YAML_MAPPING_NODE && defs_get(c, en, "category"))
            e->category_set = defs_category(c, defs_get(c, en, "category"), &e->category) == 0;
    }
}

static void parse_time(kt_defs *c, yaml_node_t *tn, spec *s)
{
    static const char *const tkeys[] = {"string", "regex", "pattern", "zone", NULL};
    defs_check_keys(c, tn, "evtx time", tkeys);
    const char *v = defs_scalar(defs_get(c, tn, "string"));
    char *end = NULL;
    long k = v ? strtol(v, &end, 10) : -1;
    if (v == NULL || *end || k < 0 || k > 255)
        defs_problem(c, tn, "evtx time: 'string' must be an EventData index from 0 to 255");
    s->string_time_index = (int)k;
    const char *re = defs_scalar(defs_get(c, tn, "regex"));
    if (re == NULL)
        defs_problem(c, tn, "evtx time: 'regex' is required (group 1 is the time)");
    else
        s->has_string_time = defs_regex(c, tn, re, &s->string_time_regex);
    defs_pattern(c, tn, "evtx time", &s->string_time, 0);
}

static void parse(kt_defs *c, yaml_node_t *ev, kt_artifact *a)
{
    spec *s = defs_calloc(c, 1, sizeof *s);
    if (s == NULL)
        return;
    a->spec = s;
    static const char *const keys[] = {"paths",   "deleted", "providers", "events", "where",
                                       "product", "version", "time",      NULL};
    defs_check_keys(c, ev, "evtx", keys);
    defs_paths(c, ev, &s->fp.paths, "evtx");
    s->fp.deleted = defs_bool(c, ev, "deleted", false);
    defs_strings(c, ev, "providers", &s->providers, true, "evtx");
    parse_events(c, ev, s);
    defs_where(c, defs_get(c, ev, "where"), &s->where, &s->nwhere, "evtx", "names");
    for (size_t w = 0; w < s->nwhere; w++) {
        char *end = NULL;
        strtoul(s->where[w].value, &end, 10);
        if (!s->where[w].value[0] || *end)
            defs_problem(c, defs_get(c, ev, "where"),
                         "evtx: where keys are EventData indexes (0, 1, ...)");
    }
    defs_name_rule(c, defs_get(c, ev, "product"), &a->product, false);
    defs_name_rule(c, defs_get(c, ev, "version"), &a->version, false);
    yaml_node_t *tn = defs_get(c, ev, "time");
    if (tn)
        parse_time(c, tn, s);
}

static void release(void *p)
{
    spec *s = p;
    if (s == NULL)
        return;
    kt_file_part_release(&s->fp);
    kt_strlist_release(&s->providers);
    free(s->events);
    defs_where_release(s->where, s->nwhere);
    if (s->has_string_time)
        regfree(&s->string_time_regex);
    defs_pattern_release(&s->string_time);
    free(s);
}

/* ---- collection ---- */

/* A log found by an artifact's paths: read once, for every artifact
 * that names it. */
typedef struct evtx_log {
    char path[KT_FS_PATH_MAX];
    kt_stat st;
    bool deleted;
    const kt_artifact *arts[64];
    size_t narts;
} evtx_log;

typedef struct logs {
    evtx_log *items;
    size_t count;
} logs;

typedef struct rec_ctx {
    kt_collector *c;
    const evtx_log *log;
    const kt_find *file;
} rec_ctx;

/* The record's time from its text (the date it reports); false when the
 * text has none. */
static bool string_time(kt_collector *c, const kt_artifact *a, const kt_evtx_record *r,
                        const kt_find *f, kt_event_draft *e, char *src, size_t srclen)
{
    const spec *s = a->spec;
    regmatch_t m[2];
    char text[128];
    const char *str =
        (size_t)s->string_time_index < r->nstrings ? r->strings[s->string_time_index] : NULL;
    if (str == NULL || regexec(&s->string_time_regex, str, 2, m, 0) != 0 || m[1].rm_so < 0 ||
        (size_t)(m[1].rm_eo - m[1].rm_so) >= sizeof text)
        return false;
    memcpy(text, str + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
    text[m[1].rm_eo - m[1].rm_so] = '\0';
    if (kt_time_pattern_parse(&s->string_time, text, &e->ev.time) != KT_OK) {
        kt_collect_diag(c, KT_SEV_WARNING, "evtx.time", f->path, a,
                        "record %llu: time '%s' does not fit '%s'",
                        (unsigned long long)r->record_id, text, s->string_time.pattern);
        return false;
    }
    snprintf(src, srclen, "event %u (record %llu%s) text '%s'", r->event_id,
             (unsigned long long)r->record_id, r->recovered ? ", recovered" : "", text);
    kt_collect_convert(c, &s->string_time, &e->ev.time, src, srclen, &e->ev.zone);
    e->ev.precision = s->string_time.precision;
    return true;
}

/* The event the definition takes the record for, or NULL. */
static const evtx_event *match(const spec *s, const kt_evtx_record *r)
{
    bool provider = false;
    for (size_t i = 0; i < s->providers.count && !provider; i++)
        provider = strcasecmp(s->providers.items[i], r->provider) == 0;
    static const evtx_event any = {0};
    const evtx_event *ev = s->any_event ? &any : NULL;
    for (size_t i = 0; i < s->nevents && ev == NULL; i++)
        if (s->events[i].id == r->event_id)
            ev = &s->events[i];
    if (!provider || ev == NULL || r->written == KT_TIME_NONE)
        return NULL;
    for (size_t w = 0; w < s->nwhere; w++) {
        size_t idx = strtoul(s->where[w].value, NULL, 10);
        if (idx >= r->nstrings || !defs_where_match(&s->where[w], r->strings[idx]))
            return NULL;
    }
    return ev;
}

bool kt_collect_evtx_matches(const kt_artifact *a, const kt_evtx_record *r)
{
    return a->source == &kt_source_evtx && a->spec && match(a->spec, r) != NULL;
}

static void record(kt_collector *c, const kt_artifact *a, const kt_find *file,
                   const kt_evtx_record *r)
{
    const spec *s = a->spec;
    const evtx_event *ev = match(s, r);
    if (ev == NULL)
        return;
    kt_find f = *file;
    f.rec = r;
    char src[400], value[128], what[1024];
    kt_event_draft e;
    kt_emit_begin(c, a, &f, &e);
    if (ev->category_set)
        e.ev.category = ev->category;
    e.ev.time = r->written;
    e.ev.precision = KT_PREC_100NS;
    snprintf(src, sizeof src, "event %u TimeCreated (record %llu%s)", r->event_id,
             (unsigned long long)r->record_id, r->recovered ? ", recovered" : "");
    if (s->has_string_time && !string_time(c, a, r, &f, &e, src, sizeof src))
        return;
    e.ev.time_source = src;
    snprintf(value, sizeof value, "record %llu", (unsigned long long)r->record_id);
    e.ev.value = value;
    kt_emit_file(&e, &f);
    size_t n = (size_t)snprintf(what, sizeof what, " (%s %u", r->provider, r->event_id);
    for (size_t i = 0; i < r->nstrings && i < 6 && n < sizeof what; i++)
        n += (size_t)snprintf(what + n, sizeof what - n, "%s%s", i ? "; " : ": ", r->strings[i]);
    if (n < sizeof what)
        snprintf(what + n, sizeof what - n, ")");
    kt_emit(c, &e, what);
}

static int dispatch(void *p, const kt_evtx_record *r)
{
    rec_ctx *x = p;
    for (size_t i = 0; i < x->log->narts && x->c->rc == 0; i++)
        record(x->c, x->log->arts[i], x->file, r);
    return x->c->rc;
}

/* Note the log for the artifact (the walk's find). */
static void found(kt_collector *c, const kt_artifact *a, const kt_find *f)
{
    logs **slot = (logs **)kt_collect_state(c, &kt_source_evtx);
    if (*slot == NULL && (*slot = calloc(1, sizeof **slot)) == NULL) {
        c->rc = KT_ENOMEM;
        return;
    }
    logs *ls = *slot;
    for (size_t i = 0; i < ls->count; i++) {
        evtx_log *l = &ls->items[i];
        if (strcmp(l->path, f->path) == 0 && l->deleted == f->deleted) {
            if (l->narts < sizeof l->arts / sizeof l->arts[0])
                l->arts[l->narts++] = a;
            return;
        }
    }
    evtx_log *p = realloc(ls->items, (ls->count + 1) * sizeof *p);
    if (p == NULL) {
        c->rc = KT_ENOMEM;
        return;
    }
    ls->items = p;
    evtx_log *l = &ls->items[ls->count++];
    memset(l, 0, sizeof *l);
    kt_strlcpy(l->path, f->path, sizeof l->path);
    l->st = *f->st;
    l->deleted = f->deleted;
    l->arts[l->narts++] = a;
}

static void collect(kt_collector *c, const kt_artifact *a)
{
    const spec *s = a->spec;
    kt_file_walk(c, a, &s->fp, found);
}

int kt_collect_evtx_filter(const kt_artifact *const *a, size_t n, kt_strlist *filter)
{
    int rc = KT_OK;
    for (size_t i = 0; i < n && rc == KT_OK; i++) {
        const spec *s = a[i]->spec;
        if (a[i]->source != &kt_source_evtx || s == NULL)
            continue;
        for (size_t k = 0; k < s->providers.count && rc == KT_OK; k++) {
            rc = kt_evtx_filter_rule(filter, s->providers.items[k]);
            for (size_t w = 0; w < s->nwhere && rc == KT_OK; w++)
                rc = kt_evtx_filter_where(filter, (const char *const *)s->where[w].globs.items,
                                          s->where[w].globs.count);
        }
    }
    return rc;
}

/* The log's bytes, read from the filesystem a piece at a time and handed
 * on to the reader's input as they come: a log of any size costs this
 * process one piece of memory. */
typedef struct log_source {
    kt_collector *c;
    const evtx_log *l;
    kt_evtx_put put;
    void *sink;
    size_t bytes;
    bool read_failed; /* the filesystem's error, not the sink's */
} log_source;

static int piece(void *p, const uint8_t *data, size_t len)
{
    log_source *s = p;
    s->bytes += len;
    return s->put(s->sink, data, len);
}

static int log_bytes(void *p, kt_evtx_put put, void *sink, kt_error *err)
{
    log_source *s = p;
    s->put = put;
    s->sink = sink;
    int rc = kt_fs_read_pieces(s->c->fs, s->l->path, s->l->deleted ? KT_FS_DELETED : 0,
                               KT_EVTX_MAX_SIZE, piece, s, err);
    s->read_failed = rc != KT_OK && err->code == rc;
    return rc;
}

static void read_log(kt_collector *c, const evtx_log *l)
{
    kt_error err = {0};
    /* The reader passes on only the records that can match one of the
     * definitions: their provider, and a string each where clause needs. */
    kt_strlist filter = {0};
    int frc = kt_collect_evtx_filter(l->arts, l->narts, &filter);
    if (frc != KT_OK) {
        c->rc = frc;
        kt_strlist_release(&filter);
        return;
    }
    kt_find f = {.path = l->path, .st = &l->st, .deleted = l->deleted};
    rec_ctx x = {.c = c, .log = l, .file = &f};
    kt_evtx_stats st = {0};
    kt_strlist w = {0};
    log_source src = {.c = c, .l = l};
    /* A reader that failed keeps the records it gave before (said so in
     * docs/evidence-access.md). */
    int rc = kt_evtx_walk_source(log_bytes, &src, &filter, dispatch, &x, &st, &w, &err);
    if (src.read_failed) {
        kt_collect_diag(c, KT_SEV_WARNING, "file.read", l->path, NULL, "%s", err.msg);
    } else {
        c->stats->files_read++;
        c->stats->bytes_read += src.bytes;
        if (rc != KT_OK && c->rc == KT_OK)
            kt_collect_diag(c, KT_SEV_WARNING, rc == KT_EIO ? "evtx.helper" : "evtx", l->path, NULL,
                            "%s", err.msg);
    }
    for (size_t i = 0; i < w.count; i++)
        kt_collect_diag(c, KT_SEV_WARNING, "evtx", l->path, NULL, "%s", w.items[i]);
    kt_strlist_release(&w);
    kt_strlist_release(&filter);
}

static void finish(kt_collector *c)
{
    logs **slot = (logs **)kt_collect_state(c, &kt_source_evtx);
    logs *ls = *slot;
    if (ls == NULL)
        return;
    for (size_t i = 0; i < ls->count && !c->rc; i++)
        read_log(c, &ls->items[i]);
    free(ls->items);
    free(ls);
    *slot = NULL;
}

const kt_source_ops kt_source_evtx = {
    .key = "evtx",
    .summary = "records of Windows event logs by provider and event id, filtered by EventData "
               "strings; dated by TimeCreated or a time in the record's text",
    .parse = parse,
    .release = release,
    .collect = collect,
    .finish = finish,
};
