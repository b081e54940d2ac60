/* Source `registry`: keys of a hive (SOFTWARE, SYSTEM, every user's
 * NTUSER.DAT, Amcache.hve) matching key patterns, filtered by values,
 * each dated by the key's last write or by its values. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/bytes.h"
#include "source.h"

typedef struct time_rule {
    bool key_written; /* the key's LastWrite instead of a value */
    char *value;
    kt_encoding encoding;
    kt_time_pattern pattern;
    kt_category category;
    bool category_set; /* else the artifact's */
} time_rule;

typedef struct spec {
    char *hive; /* SOFTWARE, SYSTEM, NTUSER, AMCACHE */
    kt_strlist keys;
    kt_where *where;
    size_t nwhere;
    time_rule *times;
    size_t ntimes;
} spec;

/* ---- definitions ---- */

static const struct {
    const char *name;
    kt_encoding enc;
} encodings[] = {
    {"filetime", KT_ENC_FILETIME},
    {"unix", KT_ENC_UNIX},
    {"unix_or_filetime", KT_ENC_UNIX_OR_FILETIME},
    {"yyyymmdd", KT_ENC_YYYYMMDD},
    {"pattern", KT_ENC_PATTERN},
};

static void parse_time(kt_defs *c, yaml_node_t *tn, time_rule *r)
{
    static const char *const tkeys[] = {"value", "key_written", "encoding", "pattern",
                                        "zone",  "category",    NULL};
    defs_check_keys(c, tn, "time", tkeys);
    r->key_written = defs_bool(c, tn, "key_written", false);
    r->value = defs_dup(c, tn, "value", false, "time");
    if (r->key_written == (r->value != NULL))
        defs_problem(c, tn, "time: give either 'value' or 'key_written: true'");
    if (r->value) {
        const char *enc = defs_scalar(defs_get(c, tn, "encoding"));
        for (size_t e = 0; enc && e < sizeof encodings / sizeof encodings[0]; e++)
            if (strcmp(enc, encodings[e].name) == 0)
                r->encoding = encodings[e].enc;
        if (r->encoding == KT_ENC_NONE)
            defs_problem(c, tn,
                         "time: encoding must be filetime, unix, unix_or_filetime, "
                         "yyyymmdd or pattern");
        if (r->encoding == KT_ENC_PATTERN)
            defs_pattern(c, tn, "time", &r->pattern, 0);
        const char *zone = defs_str(c, tn, "zone", "time");
        if (zone && strcmp(zone, "utc") != 0 && strcmp(zone, "local") != 0)
            defs_problem(c, tn, "time: zone must be utc or local");
        if (r->encoding == KT_ENC_YYYYMMDD) {
            r->pattern.local = !(zone && strcmp(zone, "utc") == 0);
            r->pattern.precision = KT_PREC_DAY;
        }
        /* Unix seconds counted from local midnight 1970-01-01 (the local
         * wall clock stored as if it were UTC): zone: local. */
        if (r->encoding == KT_ENC_UNIX)
            r->pattern.local = zone && strcmp(zone, "local") == 0;
        else if (zone && r->encoding != KT_ENC_YYYYMMDD && r->encoding != KT_ENC_PATTERN)
            defs_problem(c, tn, "time: zone applies to unix, yyyymmdd and pattern only");
    }
    if (defs_get(c, tn, "category"))
        r->category_set = defs_category(c, defs_get(c, tn, "category"), &r->category) == 0;
}

static void parse(kt_defs *c, yaml_node_t *reg, kt_artifact *a)
{
    spec *s = defs_calloc(c, 1, sizeof *s);
    if (s == NULL)
        return;
    a->spec = s;
    static const char *const keys[] = {"hive",    "keys",  "where", "product",
                                       "version", "times", NULL};
    defs_check_keys(c, reg, "registry", keys);
    s->hive = defs_dup(c, reg, "hive", true, "registry");
    if (s->hive && strcmp(s->hive, "SOFTWARE") != 0 && strcmp(s->hive, "SYSTEM") != 0 &&
        strcmp(s->hive, "NTUSER") != 0 && strcmp(s->hive, "AMCACHE") != 0)
        defs_problem(c, defs_get(c, reg, "hive"),
                     "registry: hive must be SOFTWARE, SYSTEM, NTUSER or AMCACHE");
    defs_strings(c, reg, "keys", &s->keys, true, "registry");
    defs_where(c, defs_get(c, reg, "where"), &s->where, &s->nwhere, "registry", "value names");
    defs_name_rule(c, defs_get(c, reg, "product"), &a->product, true);
    defs_name_rule(c, defs_get(c, reg, "version"), &a->version, true);
    yaml_node_t *t = defs_get(c, reg, "times");
    if (t == NULL)
        return;
    if (t->type != YAML_SEQUENCE_NODE) {
        defs_problem(c, t, "registry: 'times' must be a list");
        return;
    }
    size_t n = (size_t)(t->data.sequence.items.top - t->data.sequence.items.start);
    s->times = defs_calloc(c, n ? n : 1, sizeof *s->times);
    for (yaml_node_item_t *i = t->data.sequence.items.start;
         s->times && i < t->data.sequence.items.top; i++)
        parse_time(c, yaml_document_get_node(c->doc, *i), &s->times[s->ntimes++]);
}

static void release(void *p)
{
    spec *s = p;
    if (s == NULL)
        return;
    free(s->hive);
    kt_strlist_release(&s->keys);
    defs_where_release(s->where, s->nwhere);
    for (size_t i = 0; i < s->ntimes; i++) {
        free(s->times[i].value);
        defs_pattern_release(&s->times[i].pattern);
    }
    free(s->times);
    free(s);
}

static void detail(const kt_artifact *a, char *buf, size_t len)
{
    const spec *s = a->spec;
    kt_strlcpy(buf, s && s->hive ? s->hive : "", len);
}

/* ---- collection ---- */

/* Unix seconds written as decimal digits in a REG_SZ (the PowerShell dump
 * of the KTS 21.2 capture cannot tell a digit string from a DWORD, so both
 * are read): at most 20 digits and nothing else. */
static bool digits_value(const char *text, uint64_t *out)
{
    size_t n = strlen(text);
    if (n == 0 || n > 20 || strspn(text, "0123456789") != n)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(text[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* The "never" markers of a numeric time: zero, and every bit set in a
 * DWORD or QWORD (GLPI reads LastSuccessfulUpdate 0xFFFFFFFF as never
 * updated; the KTS 21.2 capture has ObsoleteBasesGraceStart
 * 0xFFFFFFFFFFFFFFFF). They say the thing did not happen, not when. */
static bool never(uint64_t v, bool is32)
{
    return v == 0 || (is32 ? v == UINT32_MAX : v == UINT64_MAX);
}

typedef enum value_read { VALUE_TIME, VALUE_NONE, VALUE_BAD } value_read;

/* Decode one registry time. VALUE_NONE: the value is absent, empty or
 * holds a "never" marker (no event, nothing to say); VALUE_BAD: not in
 * the expected encoding (a warning names it). */
static value_read value_time(kt_collector *c, const kt_artifact *a, const time_rule *r,
                             const kt_find *f, kt_event_draft *e, char *src, size_t srclen)
{
    uint32_t type = 0;
    kt_buf b = {0};
    kt_error err = {0};
    int rc = kt_hive_value(f->hive, f->node, r->value, &type, &b, &err);
    if (rc != KT_OK) {
        kt_buf_release(&b);
        if (rc == KT_ENOTFOUND)
            return VALUE_NONE; /* absent: nothing to say */
        kt_collect_diag(c, KT_SEV_WARNING, "hive", f->key, a, "%s: %s", f->hive_name, err.msg);
        return VALUE_BAD;
    }
    /* An empty value (no data, or an empty string) is unset too. */
    bool ok = false, unset = b.len == 0 || ((type == KT_REG_SZ || type == KT_REG_EXPAND_SZ) &&
                                            b.len >= 2 && b.data[0] == 0 && b.data[1] == 0);
    kt_time t = KT_TIME_NONE;
    uint32_t v32 = 0;
    uint64_t v64 = 0;
    bool is32 = b.len == 4 && kt_rd_le32(b.data, b.len, 0, &v32);
    bool is64 = b.len == 8 && kt_rd_le64(b.data, b.len, 0, &v64);
    e->ev.precision = KT_PREC_SECOND;
    switch (unset ? KT_ENC_NONE : r->encoding) {
    case KT_ENC_FILETIME:
        if (is64 && never(v64, false)) {
            unset = true;
        } else if (is64) {
            t = kt_time_from_filetime(v64);
            e->ev.precision = KT_PREC_100NS;
            ok = t != KT_TIME_NONE;
            snprintf(src, srclen, "%s (FILETIME)", r->value);
        }
        break;
    case KT_ENC_UNIX:
    case KT_ENC_UNIX_OR_FILETIME: {
        char text[32];
        uint64_t digits = 0;
        if (is32 && (type == KT_REG_DWORD || type == KT_REG_BINARY)) {
            unset = never(v32, true);
            t = kt_time_from_unix((int64_t)v32, 0);
            snprintf(src, srclen, "%s (Unix seconds)", r->value);
            ok = !unset;
        } else if (is64) {
            uint64_t v = v64;
            unset = never(v, false);
            if (r->encoding == KT_ENC_UNIX_OR_FILETIME && v > UINT64_C(100000000000)) {
                t = kt_time_from_filetime(v);
                e->ev.precision = KT_PREC_100NS;
                snprintf(src, srclen, "%s (FILETIME)", r->value);
            } else {
                t = v > (uint64_t)INT64_MAX ? KT_TIME_NONE : kt_time_from_unix((int64_t)v, 0);
                snprintf(src, srclen, "%s (Unix seconds)", r->value);
            }
            ok = !unset && t != KT_TIME_NONE;
        } else if (r->encoding == KT_ENC_UNIX && (type == KT_REG_SZ || type == KT_REG_EXPAND_SZ) &&
                   kt_hive_value_string(f->hive, f->node, r->value, text, sizeof text, NULL) ==
                       KT_OK &&
                   digits_value(text, &digits)) {
            unset = never(digits, digits <= UINT32_MAX);
            t = digits > (uint64_t)INT64_MAX ? KT_TIME_NONE : kt_time_from_unix((int64_t)digits, 0);
            snprintf(src, srclen, "%s '%s' (Unix seconds)", r->value, text);
            ok = !unset && t != KT_TIME_NONE;
        }
        if (ok && r->encoding == KT_ENC_UNIX && r->pattern.local) {
            size_t n = strlen(src);
            if (!kt_collect_to_utc(c, &t, NULL)) {
                snprintf(src + n, srclen - n, ", local time, zone unknown: taken as UTC");
            } else {
                e->ev.zone = c->zone->name;
                snprintf(src + n, srclen - n, ", local time, converted with %s", c->zone->name);
            }
        }
        break;
    }
    case KT_ENC_YYYYMMDD:
    case KT_ENC_PATTERN: {
        char text[128];
        if (kt_hive_value_string(f->hive, f->node, r->value, text, sizeof text, NULL) != KT_OK)
            break;
        kt_time_pattern ymd = {
            .pattern = "%Y%m%d", .local = r->pattern.local, .precision = KT_PREC_DAY};
        const kt_time_pattern *tp = r->encoding == KT_ENC_YYYYMMDD ? &ymd : &r->pattern;
        if (kt_time_pattern_parse(tp, text, &t) != KT_OK)
            break;
        e->ev.precision = tp->precision;
        ok = true;
        if (tp->local) {
            if (!kt_collect_to_utc(c, &t, NULL)) {
                snprintf(src, srclen, "%s '%s' (local time, zone unknown: taken as UTC)", r->value,
                         text);
            } else {
                e->ev.zone = c->zone->name;
                snprintf(src, srclen, "%s '%s' (local %s, converted with %s)", r->value, text,
                         tp->precision == KT_PREC_DAY ? "date" : "time", c->zone->name);
            }
        } else {
            snprintf(src, srclen, "%s '%s' (UTC)", r->value, text);
        }
        break;
    }
    case KT_ENC_NONE:
        break;
    }
    kt_buf_release(&b);
    if (unset)
        return VALUE_NONE;
    if (!ok) {
        kt_collect_diag(c, KT_SEV_WARNING, "registry.time", f->key, a,
                        "%s value '%s' is not a valid time", f->hive_name, r->value);
        return VALUE_BAD;
    }
    e->ev.time = t;
    return VALUE_TIME;
}

static void key_found(kt_collector *c, const kt_artifact *a, const kt_find *f)
{
    const spec *s = a->spec;
    for (size_t w = 0; w < s->nwhere; w++) {
        char v[512];
        kt_error err = {0};
        int rc = kt_hive_value_string(f->hive, f->node, s->where[w].value, v, sizeof v, &err);
        if (rc && rc != KT_ENOTFOUND)
            kt_collect_diag(c, KT_SEV_WARNING, "hive", f->key, a, "%s: %s", f->hive_name, err.msg);
        if (rc || !defs_where_match(&s->where[w], v))
            return;
    }
    for (size_t i = 0; i < s->ntimes; i++) {
        const time_rule *r = &s->times[i];
        kt_event_draft e;
        kt_emit_begin(c, a, f, &e);
        e.ev.hive = f->hive_name;
        e.ev.key = f->key;
        char src[600];
        if (r->key_written) {
            e.ev.time = kt_hive_node_time(f->hive, f->node);
            e.ev.precision = KT_PREC_100NS;
            snprintf(src, sizeof src, "key last written");
            if (e.ev.time == KT_TIME_NONE)
                continue;
        } else {
            e.ev.value = r->value;
            if (value_time(c, a, r, f, &e, src, sizeof src) != VALUE_TIME)
                continue;
        }
        if (r->category_set)
            e.ev.category = r->category;
        e.ev.time_source = src;
        char what[620];
        snprintf(what, sizeof what, " (%s)", src);
        kt_emit(c, &e, what);
    }
}

/* The walker over one hive. */
typedef struct rwalk {
    kt_collector *c;
    const kt_artifact *a;
    kt_hive *hive;
    const char *hive_name;
} rwalk;

static bool lookup(void *arg, const char *path, const void *node, const char *name, char *real,
                   size_t real_len, void *child)
{
    rwalk *x = arg;
    kt_hive_node kid;
    kt_error err = {0};
    int rc = kt_hive_find(x->hive, *(const kt_hive_node *)node, name, &kid, &err);
    if (rc == KT_OK && kt_hive_node_name(x->hive, kid, real, real_len))
        rc = kt_error_set(&err, KT_EFORMAT, "key '%s': unreadable name", name);
    if (rc) {
        /* Absent is nothing to say; unreadable is (a damaged key). */
        if (rc != KT_ENOTFOUND)
            kt_collect_diag(x->c, KT_SEV_WARNING, "hive", path[0] ? path : name, NULL, "%s: %s",
                            x->hive_name, err.msg);
        return false;
    }
    *(kt_hive_node *)child = kid;
    return true;
}

static void list(void *arg, const char *path, const void *node, bool last, kt_walk_each each,
                 void *walk)
{
    rwalk *x = arg;
    (void)last;
    kt_hive_node *kids = NULL;
    size_t n = 0;
    kt_error err = {0};
    if (kt_hive_children(x->hive, *(const kt_hive_node *)node, &kids, &n, &err)) {
        kt_collect_diag(x->c, KT_SEV_WARNING, "hive", path, NULL, "%s: %s", x->hive_name, err.msg);
        return;
    }
    for (size_t k = 0; k < n; k++) {
        char name[256];
        if (kt_hive_node_name(x->hive, kids[k], name, sizeof name) == KT_OK)
            each(walk, name, &kids[k]);
        else
            kt_collect_diag(x->c, KT_SEV_WARNING, "hive", path, NULL,
                            "%s: a subkey's name is unreadable", x->hive_name);
    }
    free(kids);
}

static bool match(void *arg, const char *path, const void *node)
{
    rwalk *x = arg;
    kt_find f = {.hive = x->hive,
                 .node = *(const kt_hive_node *)node,
                 .hive_name = x->hive_name,
                 .key = path};
    key_found(x->c, x->a, &f);
    return true;
}

static void collect(kt_collector *c, const kt_artifact *a)
{
    const spec *s = a->spec;
    kt_hive *hives[64];
    const char *names[64];
    size_t nh = 0;
    if (strcmp(s->hive, "SOFTWARE") == 0 && c->sys->software) {
        hives[nh] = c->sys->software;
        names[nh++] = "SOFTWARE";
    } else if (strcmp(s->hive, "SYSTEM") == 0 && c->sys->system) {
        hives[nh] = c->sys->system;
        names[nh++] = "SYSTEM";
    } else if (strcmp(s->hive, "AMCACHE") == 0 && c->amcache) {
        hives[nh] = c->amcache;
        names[nh++] = "Amcache.hve";
    } else if (strcmp(s->hive, "NTUSER") == 0) {
        for (size_t u = 0; u < c->nusers && nh < 64; u++) {
            hives[nh] = c->users[u].hive;
            names[nh++] = c->users[u].path;
        }
    }
    rwalk x = {.c = c, .a = a};
    kt_walk w = {
        .sep = '\\',
        .fnm_flags = FNM_CASEFOLD,
        .lookup_after_glob = true,
        .lookup_last = true,
        .max_matches = KT_COLLECT_MAX_MATCHES,
        .stop = &c->rc,
        .arg = &x,
        .lookup = lookup,
        .list = list,
        .match = match,
    };
    for (size_t h = 0; h < nh; h++) {
        x.hive = hives[h];
        x.hive_name = names[h];
        kt_hive_node root = kt_hive_root(hives[h]);
        for (size_t k = 0; k < s->keys.count; k++) {
            char pattern[KT_FS_PATH_MAX];
            const char *p = s->keys.items[k];
            /* {ControlSet}: the control set Select\Current names. */
            if (strncmp(p, "{ControlSet}", 12) == 0) {
                if (!c->sys->controlset[0])
                    continue;
                snprintf(pattern, sizeof pattern, "%s%s", c->sys->controlset, p + 12);
            } else {
                kt_strlcpy(pattern, p, sizeof pattern);
            }
            kt_walk_run(&w, pattern, "", &root);
        }
    }
}

const kt_source_ops kt_source_registry = {
    .key = "registry",
    .summary = "keys of a hive matching key patterns (globs), filtered by values; dated by the "
               "key's last write or by values (FILETIME, Unix, dates, patterns)",
    .parse = parse,
    .release = release,
    .detail = detail,
    .collect = collect,
};
