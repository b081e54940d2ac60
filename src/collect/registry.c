/* Source `registry`: keys of a hive (SOFTWARE, SYSTEM, every user's
 * NTUSER.DAT, Amcache.hve) matching key patterns, filtered by values,
 * each dated by the key's last write or by its values. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* Where a find comes from besides the live tree: `note` ends each event's
 * description; past: the find shows an older state, never the product there
 * now (the event is not allocated, as a deleted file's). */
typedef struct origin {
    const char *note;
    bool past;
} origin;

static void key_found(kt_collector *c, const kt_artifact *a, const kt_find *f, const origin *o)
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
        char what[900];
        snprintf(what, sizeof what, " (%s%s%s)", src, o && o->note ? "; " : "",
                 o && o->note ? o->note : "");
        if (o && o->past)
            e.ev.allocated = false;
        kt_emit(c, &e, what);
    }
}

/* The walker over one hive. */
typedef struct rwalk {
    kt_collector *c;
    const kt_artifact *a;
    kt_hive *hive;
    const char *hive_name;
    /* another state of the same hive: a key found the same there (same
     * path, same LastWrite) is reported with `same`, another with
     * `differs`; skip_same: the same keys are not reported */
    kt_hive *other;
    const origin *same, *differs;
    bool skip_same;
} rwalk;

/* Whether hive `other` holds the key at path with the same LastWrite. */
static bool same_in(kt_hive *other, const char *path, kt_time written)
{
    kt_hive_node n;
    kt_error err = {0};
    return kt_hive_find(other, 0, path, &n, &err) == KT_OK &&
           kt_hive_node_time(other, n) == written;
}

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
    const origin *o = NULL;
    if (x->differs) {
        bool same = x->other && same_in(x->other, path, kt_hive_node_time(x->hive, f.node));
        if (same && x->skip_same)
            return true;
        o = same ? x->same : x->differs;
    }
    key_found(x->c, x->a, &f, o);
    return true;
}

/* One '\\'-separated part of a path or pattern: its length. */
static size_t part_len(const char *p)
{
    return strcspn(p, "\\");
}

/* Key path against a key pattern as the walker reads it: parts matched
 * one by one (globs, without case), "**" any number of parts. */
static bool path_match(const char *pat, const char *path, int depth)
{
    if (depth > 64)
        return false;
    while (*pat == '\\')
        pat++;
    while (*path == '\\')
        path++;
    if (*pat == '\0')
        return *path == '\0';
    size_t pl = part_len(pat);
    if (pl == 2 && pat[0] == '*' && pat[1] == '*') {
        for (const char *p = path;; p += part_len(p)) {
            if (path_match(pat + 2, p, depth + 1))
                return true;
            if (*p == '\0')
                return false;
            while (*p == '\\')
                p++;
        }
    }
    if (*path == '\0')
        return false;
    size_t n = part_len(path);
    char pp[256], kp[256];
    if (pl >= sizeof pp || n >= sizeof kp)
        return false;
    memcpy(pp, pat, pl);
    pp[pl] = '\0';
    memcpy(kp, path, n);
    kp[n] = '\0';
    return fnmatch(pp, kp, FNM_CASEFOLD | FNM_NOESCAPE) == 0 &&
           path_match(pat + pl, path + n, depth + 1);
}

/* Keys recovered from the hive's free cells that match a pattern: finds
 * like live keys, marked deleted. copy: hive is a copy of the hive live
 * (may be NULL): a key live holds as it is there is no older state. */
static void deleted_keys(kt_collector *c, const kt_artifact *a, kt_hive *hive, const char *name,
                         char (*patterns)[KT_FS_PATH_MAX], size_t npat, bool copy, kt_hive *live)
{
    size_t n = 0;
    kt_error err = {0};
    if (kt_hive_deleted(hive, &n, &err) != KT_OK) {
        if (err.code == KT_ENOMEM)
            c->rc = KT_ENOMEM;
        else
            kt_collect_diag(c, KT_SEV_WARNING, "hive.free-cells", name, NULL, "%s", err.msg);
        return;
    }
    for (size_t i = 0; i < n && c->rc == KT_OK; i++) {
        const char *path;
        bool partial;
        kt_hive_node node = kt_hive_deleted_node(hive, i, &path, &partial);
        bool hit = false;
        for (size_t p = 0; p < npat && !hit; p++)
            hit = path_match(patterns[p], path, 0);
        if (!hit || (live && !partial && same_in(live, path, kt_hive_node_time(hive, node))))
            continue;
        char note[KT_FS_PATH_MAX + 120];
        snprintf(note, sizeof note, "deleted key recovered from a free cell of %s%s%s",
                 copy ? "the hive copy " : "", name,
                 partial ? ", its path partial (a parent key overwritten)" : "");
        origin o = {.note = note, .past = true};
        kt_find f = {.hive = hive, .node = node, .hive_name = name, .key = path};
        key_found(c, a, &f, &o);
    }
}

/* Whether a value named `name` alone can give the artifact a find: one of
 * its times reads it, and every `where` reads it too (a `where` on another
 * value needs the key, which an orphan value has lost). */
static bool orphan_fits(const spec *s, const char *name)
{
    bool timed = false;
    for (size_t i = 0; i < s->ntimes && !timed; i++)
        timed = s->times[i].value && strcasecmp(s->times[i].value, name) == 0;
    for (size_t w = 0; w < s->nwhere && timed; w++)
        timed = strcasecmp(s->where[w].value, name) == 0;
    return timed;
}

/* Values recovered from the hive's free cells without their key, matched
 * by name against the artifact's: finds without a key (kt_event: the key
 * they belonged to is not known, so they are listed, never counted). */
static void orphan_values(kt_collector *c, const kt_artifact *a, kt_hive *hive, const char *name,
                          bool copy)
{
    size_t n = 0;
    kt_error err = {0};
    if (kt_hive_orphans(hive, &n, &err) != KT_OK)
        return; /* said by deleted_keys */
    for (size_t i = 0; i < n && c->rc == KT_OK; i++) {
        const char *vname;
        uint32_t offset;
        kt_hive_node node = kt_hive_orphan_node(hive, i, &vname, &offset);
        if (!orphan_fits(a->spec, vname))
            continue;
        char note[KT_FS_PATH_MAX + 160];
        snprintf(note, sizeof note,
                 "deleted value without its key, recovered from a free cell of %s%s at offset "
                 "0x%x; matched by its name only",
                 copy ? "the hive copy " : "", name, (unsigned)offset);
        origin o = {.note = note, .past = true};
        kt_find f = {.hive = hive, .node = node, .hive_name = name, .key = NULL};
        key_found(c, a, &f, &o);
    }
}

/* ---- hive copies: RegBack, Windows.old ---- */

/* Other copies of SOFTWARE and SYSTEM the evidence keeps: older states.
 * RegBack: the copies the RegIdleBackup task made (until Windows 10
 * 1803); Windows.old: the hives of the install a feature update or a
 * reinstall replaced. */
static const char *const copy_dirs[] = {
    "Windows/System32/config/RegBack",
    "Windows.old/Windows/System32/config",
};
#define NCOPIES (sizeof copy_dirs / sizeof copy_dirs[0])

typedef struct copies {
    struct copy {
        char path[KT_FS_PATH_MAX];
        kt_hive *hive;
        bool tried;
    } software[NCOPIES], system[NCOPIES];
} copies;

static kt_hive *copy_of(kt_collector *c, const char *hive, size_t i, const char **path)
{
    void **slot = kt_collect_state(c, &kt_source_registry);
    if (slot == NULL)
        return NULL;
    if (*slot == NULL && (*slot = calloc(1, sizeof(copies))) == NULL) {
        c->rc = KT_ENOMEM;
        return NULL;
    }
    copies *cp = *slot;
    struct copy *k = strcmp(hive, "SOFTWARE") == 0 ? &cp->software[i] : &cp->system[i];
    *path = k->path;
    if (k->tried)
        return k->hive;
    k->tried = true;
    snprintf(k->path, sizeof k->path, "%s/%s", copy_dirs[i], hive);
    kt_buf b = {0};
    kt_error err = {0};
    int rc = kt_fs_read(c->fs, k->path, 0, KT_HIVE_MAX_SIZE, &b, &err);
    /* An empty file is what Windows 10 1803 and later leave there. */
    if (rc == KT_OK && b.len > 0)
        rc = kt_hive_open_mem(b.data, b.len, k->path, &k->hive, &err);
    if (rc != KT_OK && rc != KT_ENOTFOUND)
        kt_collect_diag(c, KT_SEV_WARNING, "hive.copy", k->path, NULL, "%s", err.msg);
    if (rc == KT_ENOMEM)
        c->rc = rc;
    kt_buf_release(&b);
    return k->hive;
}

static void finish(kt_collector *c)
{
    void **slot = kt_collect_state(c, &kt_source_registry);
    copies *cp = slot ? *slot : NULL;
    for (size_t i = 0; cp && i < NCOPIES; i++) {
        kt_hive_free(cp->software[i].hive);
        kt_hive_free(cp->system[i].hive);
    }
    free(cp);
    if (slot)
        *slot = NULL;
}

/* A copy of the hive (RegBack, Windows.old): its keys the live hive does
 * not hold as they are there, and the keys and values in its free cells,
 * reported as that copy's older state. */
static void regback(kt_collector *c, const kt_artifact *a, const char *hive,
                    char (*patterns)[KT_FS_PATH_MAX], size_t npat, kt_walk *w, rwalk *x)
{
    kt_hive *live = strcmp(hive, "SOFTWARE") == 0 ? c->sys->software
                    : strcmp(hive, "SYSTEM") == 0 ? c->sys->system
                                                  : NULL;
    if (strcmp(hive, "SOFTWARE") != 0 && strcmp(hive, "SYSTEM") != 0)
        return;
    for (size_t i = 0; i < NCOPIES && c->rc == KT_OK; i++) {
        const char *path = NULL;
        kt_hive *copy = copy_of(c, hive, i, &path);
        if (copy == NULL)
            continue;
        char note[KT_FS_PATH_MAX + 80];
        snprintf(note, sizeof note, "older state: the hive copy %s", path);
        origin o = {.note = note, .past = true};
        *x = (rwalk){.c = c,
                     .a = a,
                     .hive = copy,
                     .hive_name = path,
                     .other = live,
                     .differs = &o,
                     .skip_same = true};
        kt_hive_node root = kt_hive_root(copy);
        for (size_t k = 0; k < npat; k++)
            kt_walk_run(w, patterns[k], "", &root);
        deleted_keys(c, a, copy, path, patterns, npat, true, live);
        orphan_values(c, a, copy, path, true);
    }
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
    char(*patterns)[KT_FS_PATH_MAX] = calloc(s->keys.count ? s->keys.count : 1, sizeof *patterns);
    if (patterns == NULL) {
        c->rc = KT_ENOMEM;
        return;
    }
    size_t npat = 0;
    for (size_t k = 0; k < s->keys.count; k++) {
        const char *p = s->keys.items[k];
        /* {ControlSet}: the control set Select\Current names. */
        if (strncmp(p, "{ControlSet}", 12) == 0) {
            if (!c->sys->controlset[0])
                continue;
            snprintf(patterns[npat++], KT_FS_PATH_MAX, "%s%s", c->sys->controlset, p + 12);
        } else {
            kt_strlcpy(patterns[npat++], p, KT_FS_PATH_MAX);
        }
    }
    for (size_t h = 0; h < nh && c->rc == KT_OK; h++) {
        kt_hive *old = kt_hive_unapplied(hives[h]);
        const char *notes = kt_hive_log_notes(hives[h]);
        for (const char *n = notes; n && *n;) { /* one warning a line */
            size_t l = strcspn(n, "\n");
            kt_collect_diag(c, KT_SEV_WARNING, "hive.log", names[h], NULL, "%.*s", (int)l, n);
            n += l + (n[l] == '\n');
        }
        /* The hive as Windows would load it (its logs replayed): a key the
         * primary file alone does not hold (or holds older) says so. */
        char replayed[700], unapplied[700];
        snprintf(replayed, sizeof replayed, "in %s only as replayed from its transaction logs (%s)",
                 names[h], old ? kt_hive_replayed_from(hives[h]) : "");
        origin from_log = {.note = replayed};
        x = (rwalk){.c = c,
                    .a = a,
                    .hive = hives[h],
                    .hive_name = names[h],
                    .other = old,
                    .differs = old ? &from_log : NULL};
        kt_hive_node root = kt_hive_root(hives[h]);
        for (size_t k = 0; k < npat; k++)
            kt_walk_run(&w, patterns[k], "", &root);
        deleted_keys(c, a, hives[h], names[h], patterns, npat, false, NULL);
        orphan_values(c, a, hives[h], names[h], false);
        if (old == NULL)
            continue;
        /* The primary file without its logs: an older state of the hive;
         * only what differs from the replayed one is reported. */
        snprintf(unapplied, sizeof unapplied, "older state: %s without its transaction logs (%s)",
                 names[h], kt_hive_replayed_from(hives[h]));
        origin before = {.note = unapplied, .past = true};
        x = (rwalk){.c = c,
                    .a = a,
                    .hive = old,
                    .hive_name = names[h],
                    .other = hives[h],
                    .differs = &before,
                    .skip_same = true};
        root = kt_hive_root(old);
        for (size_t k = 0; k < npat; k++)
            kt_walk_run(&w, patterns[k], "", &root);
    }
    regback(c, a, s->hive, patterns, npat, &w, &x);
    free(patterns);
}

const kt_source_ops kt_source_registry = {
    .key = "registry",
    .summary = "keys of a hive matching key patterns (globs), filtered by values; dated by the "
               "key's last write or by values (FILETIME, Unix, dates, patterns)",
    .parse = parse,
    .release = release,
    .detail = detail,
    .collect = collect,
    .finish = finish,
};
