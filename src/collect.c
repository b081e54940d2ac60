#include <fnmatch.h>
#include <stdarg.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kavtrace/collect.h"
#include "kavtrace/evtx.h"
#include "kavtrace/prefetch.h"
#include "kavtrace/packages.h"
#include "kavtrace/plist.h"
#include "kavtrace/registry.h"
#include "kavtrace/tzif.h"
#include "kavtrace/wintz.h"

#define HIVE_PATH_MAX 512

typedef struct evtx_log evtx_log;

typedef struct user_hive {
    char path[KT_FS_PATH_MAX];
    kt_hive *hive;
} user_hive;

typedef struct ctx {
    const kt_artifact_set *set;
    kt_fs *fs;
    const kt_volume *vol;
    const kt_system *sys;
    kt_timeline *tl;
    kt_strlist *warnings;
    kt_collect_stats *stats;
    kt_hive *software, *system, *amcache;
    user_hive *users;
    size_t nusers;
    char controlset[32];
    evtx_log *logs;
    size_t nlogs;
    kt_wintz tz;   /* Windows: the SYSTEM hive's TimeZoneInformation */
    kt_tzif *tzif; /* Linux, macOS: /etc/localtime of the evidence */
    bool has_tz;
    bool zone_builtin;            /* the zone's rule from kavtrace's table, not the image */
    kt_tzif_builtin_info tzdb;    /* that table's tzdata release and span */
    size_t tzdb_late, tzdb_early; /* times past its release, before its span */
    char zone[128];               /* the zone's name */
    int tz_flags;                 /* of the last conversion: KT_TZ_AMBIGUOUS, KT_TZ_NONEXISTENT */
    int rc;                       /* first fatal error (out of memory) */
    /* the entries one artifact found so far: two paths to one file (a
     * linked directory, /var and /private/var on macOS) are one find */
    struct seen_entry {
        uint64_t inode;
        bool deleted;
    } * seen;
    size_t nseen, seen_cap;
} ctx;

/* ---- small helpers -------------------------------------------------------- */

static bool has_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static int fold(const ctx *c)
{
    return kt_fs_case_insensitive(c->fs) ? FNM_CASEFOLD : 0;
}

static void warn(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kt_strlist_vaddf(c->warnings, fmt, ap);
    va_end(ap);
}

/* Local wall-clock time to UTC with the system's zone; false if unknown. */
static bool to_utc(ctx *c, kt_time *t)
{
    c->tz_flags = KT_TZ_EXACT;
    if (!c->has_tz)
        return false;
    if (c->tzif) {
        kt_time utc;
        if (kt_tzif_local_to_utc(c->tzif, *t, &utc, &c->tz_flags) != KT_OK)
            return false;
        *t = utc;
        return true;
    }
    *t = kt_wintz_to_utc(&c->tz, *t);
    return true;
}

/* Apply a name rule's regex: first capture group, or the whole string. */
static void apply_regex(const kt_name_rule *r, const char *in, char *out, size_t len)
{
    out[0] = '\0';
    if (in == NULL)
        return;
    if (!r->has_regex) {
        kt_strlcpy(out, in, len);
        return;
    }
    regmatch_t m[2];
    if (regexec(&r->regex, in, 2, m, 0) == 0 && m[1].rm_so >= 0) {
        size_t n = (size_t)(m[1].rm_eo - m[1].rm_so);
        if (n >= len)
            n = len - 1;
        memcpy(out, in + m[1].rm_so, n);
        out[n] = '\0';
    }
}

/* Component i of a '/'- or '\'-separated path (negative: from the end). */
static void component(const char *path, int i, char sep, char *out, size_t len)
{
    out[0] = '\0';
    const char *parts[KT_FS_MAX_DEPTH];
    size_t lens[KT_FS_MAX_DEPTH];
    int n = 0;
    for (const char *p = path; *p && n < KT_FS_MAX_DEPTH;) {
        size_t l = strcspn(p, (char[]){sep, 0});
        if (l) {
            parts[n] = p;
            lens[n++] = l;
        }
        p += l;
        while (*p == sep)
            p++;
    }
    int k = i < 0 ? n + i : i;
    if (k < 0 || k >= n)
        return;
    size_t l = lens[k] < len - 1 ? lens[k] : len - 1;
    memcpy(out, parts[k], l);
    out[l] = '\0';
}

typedef struct found {
    /* registry */
    kt_hive *hive;
    kt_hive_node node;
    const char *hive_name;
    const char *key;
    /* files */
    const char *path;
    const kt_stat *st;
    bool deleted;
    /* event logs */
    const kt_evtx_record *rec;
    /* a matched line (parse: lines) and its regex groups */
    const char *line;
    const regmatch_t *groups;
    size_t ngroups;
    /* a dictionary (plist) */
    const kt_plist_dict *dict;
    /* a result row (sqlite) */
    const char *const *columns;
    size_t ncolumns;
} found;

static void resolve_name(ctx *c, const kt_name_rule *r, const found *f, char *out, size_t len)
{
    char raw[512] = "";
    switch (r->from) {
    case KT_NAME_NONE:
        out[0] = '\0';
        return;
    case KT_NAME_FIXED:
        kt_strlcpy(raw, r->text, sizeof raw);
        break;
    case KT_NAME_VALUE:
        if (f->hive)
            kt_hive_value_string(f->hive, f->node, r->text, raw, sizeof raw, NULL);
        else if (f->dict)
            kt_plist_dict_string(f->dict, r->text, 0, raw, sizeof raw);
        break;
    case KT_NAME_KEY:
        if (f->key)
            component(f->key, -1, '\\', raw, sizeof raw);
        break;
    case KT_NAME_STRING:
        if (f->rec && r->component >= 0 && (size_t)r->component < f->rec->nstrings)
            kt_strlcpy(raw, f->rec->strings[r->component], sizeof raw);
        break;
    case KT_NAME_GROUP:
        if (f->line && r->component >= 0 && (size_t)r->component < f->ngroups &&
            f->groups[r->component].rm_so >= 0) {
            size_t n = (size_t)(f->groups[r->component].rm_eo - f->groups[r->component].rm_so);
            if (n >= sizeof raw)
                n = sizeof raw - 1;
            memcpy(raw, f->line + f->groups[r->component].rm_so, n);
            raw[n] = '\0';
        }
        break;
    case KT_NAME_PACKAGE: /* set by the package reader itself */
        break;
    case KT_NAME_COLUMN:
        if (f->columns && r->component >= 0 && (size_t)r->component < f->ncolumns &&
            f->columns[r->component])
            kt_strlcpy(raw, f->columns[r->component], sizeof raw);
        break;
    case KT_NAME_COMPONENT:
        if (f->key)
            component(f->key, r->component, '\\', raw, sizeof raw);
        else if (f->path)
            component(f->path, r->component, '/', raw, sizeof raw);
        break;
    }
    (void)c;
    apply_regex(r, raw, out, len);
}

/* Fill the parts of an event every find of an artifact shares. */
static void base_event(ctx *c, const kt_artifact *a, const found *f, kt_event *e, char *product,
                       size_t plen, char *version, size_t vlen)
{
    memset(e, 0, sizeof *e);
    e->artifact = a;
    e->category = a->category;
    e->role = a->role;
    e->vendor = a->vendor;
    e->removal_method = a->removal_method;
    e->volume = c->vol->index;
    e->volume_offset = c->vol->offset;
    e->fs = (char *)kt_fs_type_name(c->fs);
    resolve_name(c, &a->product, f, product, plen);
    resolve_name(c, &a->version, f, version, vlen);
    const kt_product_def *p = kt_artifacts_product_for_os(c->set, a->vendor, a->os, product);
    e->product_id = p ? p->id : NULL;
    e->product_name = product[0] ? product : NULL;
    e->version = version[0] ? version : NULL;
    e->allocated = true;
}

static void add(ctx *c, kt_event *e, const char *what)
{
    char desc[1024];
    snprintf(desc, sizeof desc, "%s%s%s%s%s%s", e->artifact->description,
             e->product_name ? ": " : "", e->product_name ? e->product_name : "",
             e->version ? " " : "", e->version ? e->version : "", what);
    e->description = desc;
    int rc = kt_timeline_add(c->tl, e);
    if (rc && c->rc == KT_OK)
        c->rc = rc;
    else
        c->stats->events++;
}

/* Split s in place on sep into at most max non-empty parts. */
static size_t split(char *s, char sep, char **parts, size_t max)
{
    size_t n = 0;
    while (*s && n < max) {
        while (*s == sep)
            s++;
        if (!*s)
            break;
        parts[n++] = s;
        while (*s && *s != sep)
            s++;
        if (*s)
            *s++ = '\0';
    }
    return n;
}

/* ---- registry --------------------------------------------------------------- */

static uint64_t le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Decode one registry time; returns false when the value is absent or
 * not in the expected encoding (a warning names it). */
static bool decode_value_time(ctx *c, const kt_artifact *a, const kt_time_rule *r, const found *f,
                              kt_event *e, char *src, size_t srclen)
{
    uint32_t type = 0;
    kt_buf b = {0};
    kt_error err = {0};
    if (kt_hive_value(f->hive, f->node, r->value, &type, &b, &err) != KT_OK) {
        kt_buf_release(&b);
        return false; /* absent: nothing to say */
    }
    bool ok = false;
    kt_time t = KT_TIME_NONE;
    e->precision = KT_PREC_SECOND;
    switch (r->encoding) {
    case KT_ENC_FILETIME:
        if (b.len == 8) {
            t = kt_time_from_filetime(le(b.data, 8));
            e->precision = KT_PREC_100NS;
            ok = t != KT_TIME_NONE;
            snprintf(src, srclen, "%s (FILETIME)", r->value);
        }
        break;
    case KT_ENC_UNIX:
    case KT_ENC_UNIX_OR_FILETIME:
        if (b.len == 4 && (type == KT_REG_DWORD || type == KT_REG_BINARY)) {
            t = kt_time_from_unix((int64_t)le(b.data, 4), 0);
            snprintf(src, srclen, "%s (Unix seconds)", r->value);
            ok = le(b.data, 4) != 0;
        } else if (b.len == 8) {
            uint64_t v = le(b.data, 8);
            if (r->encoding == KT_ENC_UNIX_OR_FILETIME && v > UINT64_C(100000000000)) {
                t = kt_time_from_filetime(v);
                e->precision = KT_PREC_100NS;
                snprintf(src, srclen, "%s (FILETIME)", r->value);
            } else {
                t = kt_time_from_unix((int64_t)v, 0);
                snprintf(src, srclen, "%s (Unix seconds)", r->value);
            }
            ok = v != 0 && t != KT_TIME_NONE;
        }
        break;
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
        e->precision = tp->precision;
        ok = true;
        if (tp->local) {
            if (!to_utc(c, &t)) {
                snprintf(src, srclen, "%s '%s' (local time, zone unknown: taken as UTC)", r->value,
                         text);
            } else {
                e->zone = c->zone;
                snprintf(src, srclen, "%s '%s' (local %s, converted with %s)", r->value, text,
                         tp->precision == KT_PREC_DAY ? "date" : "time", c->zone);
            }
        } else {
            snprintf(src, srclen, "%s '%s' (UTC)", r->value, text);
        }
        break;
    }
    case KT_ENC_NONE:
        break;
    }
    if (!ok)
        warn(c, "%s: %s\\%s value '%s' is not a valid time for artifact %s", f->hive_name,
             f->hive_name, f->key, r->value, a->id);
    kt_buf_release(&b);
    e->time = t;
    return ok;
}

static void registry_find(ctx *c, const kt_artifact *a, const found *f)
{
    for (size_t w = 0; w < a->nwhere; w++) {
        char v[512];
        if (kt_hive_value_string(f->hive, f->node, a->where[w].value, v, sizeof v, NULL))
            return;
        bool any = false;
        for (size_t g = 0; g < a->where[w].globs.count && !any; g++)
            any = fnmatch(a->where[w].globs.items[g], v, FNM_CASEFOLD) == 0;
        if (!any)
            return;
    }
    char product[256], version[128];
    for (size_t i = 0; i < a->ntimes; i++) {
        const kt_time_rule *r = &a->times[i];
        kt_event e;
        base_event(c, a, f, &e, product, sizeof product, version, sizeof version);
        e.hive = (char *)f->hive_name;
        e.key = (char *)f->key;
        char src[600];
        if (r->key_written) {
            e.time = kt_hive_node_time(f->hive, f->node);
            e.precision = KT_PREC_100NS;
            snprintf(src, sizeof src, "key last written");
            if (e.time == KT_TIME_NONE)
                continue;
        } else {
            e.value = r->value;
            if (!decode_value_time(c, a, r, f, &e, src, sizeof src))
                continue;
        }
        if (r->category_set)
            e.category = r->category;
        e.time_source = src;
        char what[300];
        snprintf(what, sizeof what, " (%s)", src);
        add(c, &e, what);
    }
}

/* Expand key pattern components [i..] below node. */
static void registry_walk(ctx *c, const kt_artifact *a, kt_hive *h, const char *hive_name,
                          kt_hive_node node, char **parts, size_t nparts, size_t i, char *key,
                          size_t keylen, size_t *matches)
{
    if (*matches >= KT_COLLECT_MAX_MATCHES || c->rc)
        return;
    if (i == nparts) {
        (*matches)++;
        found f = {.hive = h, .node = node, .hive_name = hive_name, .key = key};
        registry_find(c, a, &f);
        return;
    }
    size_t base = strlen(key);
    if (!has_glob(parts[i])) {
        kt_hive_node child;
        if (kt_hive_find(h, node, parts[i], &child, NULL) != KT_OK)
            return;
        char name[256];
        if (kt_hive_node_name(h, child, name, sizeof name))
            return;
        snprintf(key + base, keylen - base, "%s%s", base ? "\\" : "", name);
        registry_walk(c, a, h, hive_name, child, parts, nparts, i + 1, key, keylen, matches);
        key[base] = '\0';
        return;
    }
    kt_hive_node *kids = NULL;
    size_t n = 0;
    kt_error err = {0};
    if (kt_hive_children(h, node, &kids, &n, &err)) {
        warn(c, "%s: %s: %s", hive_name, key, err.msg);
        return;
    }
    for (size_t k = 0; k < n; k++) {
        char name[256];
        if (kt_hive_node_name(h, kids[k], name, sizeof name) ||
            fnmatch(parts[i], name, FNM_CASEFOLD) != 0)
            continue;
        snprintf(key + base, keylen - base, "%s%s", base ? "\\" : "", name);
        registry_walk(c, a, h, hive_name, kids[k], parts, nparts, i + 1, key, keylen, matches);
        key[base] = '\0';
    }
    free(kids);
}

static void registry_artifact(ctx *c, const kt_artifact *a)
{
    kt_hive *hives[64];
    const char *names[64];
    size_t nh = 0;
    if (strcmp(a->hive, "SOFTWARE") == 0 && c->software) {
        hives[nh] = c->software;
        names[nh++] = "SOFTWARE";
    } else if (strcmp(a->hive, "SYSTEM") == 0 && c->system) {
        hives[nh] = c->system;
        names[nh++] = "SYSTEM";
    } else if (strcmp(a->hive, "AMCACHE") == 0 && c->amcache) {
        hives[nh] = c->amcache;
        names[nh++] = "Amcache.hve";
    } else if (strcmp(a->hive, "NTUSER") == 0) {
        for (size_t u = 0; u < c->nusers && nh < 64; u++) {
            hives[nh] = c->users[u].hive;
            names[nh++] = c->users[u].path;
        }
    }
    size_t matches = 0;
    for (size_t h = 0; h < nh; h++) {
        for (size_t k = 0; k < a->keys.count; k++) {
            char pattern[HIVE_PATH_MAX];
            const char *p = a->keys.items[k];
            /* {ControlSet}: the control set Select\Current names. */
            if (strncmp(p, "{ControlSet}", 12) == 0) {
                if (!c->controlset[0])
                    continue;
                snprintf(pattern, sizeof pattern, "%s%s", c->controlset, p + 12);
            } else {
                kt_strlcpy(pattern, p, sizeof pattern);
            }
            char *parts[64];
            size_t nparts = split(pattern, '\\', parts, 64);
            char key[HIVE_PATH_MAX * 2] = "";
            registry_walk(c, a, hives[h], names[h], kt_hive_root(hives[h]), parts, nparts, 0, key,
                          sizeof key, &matches);
        }
    }
}

/* ---- files ------------------------------------------------------------------ */

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

static const char *file_time_label(const ctx *c, kt_file_time f)
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

static kt_precision fs_precision(const ctx *c)
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

/* Note how a parsed time was converted; t is converted in place. */
static void convert_note(ctx *c, const kt_time_pattern *tp, kt_time *t, char *src, size_t srclen,
                         const char **zone)
{
    size_t n = strlen(src);
    *zone = NULL;
    if (tp->has_offset) {
        snprintf(src + n, srclen - n, ", with its UTC offset");
    } else if (!tp->local) {
        snprintf(src + n, srclen - n, ", UTC");
    } else if (to_utc(c, t)) {
        *zone = c->zone;
        char table[160] = "";
        if (c->zone_builtin) {
            int k = snprintf(table, sizeof table,
                             " (kavtrace's table from tzdata %s: no zone file in the image)",
                             c->tzdb.release);
            if (*t > c->tzdb.released) {
                c->tzdb_late++;
                snprintf(table + k, sizeof table - (size_t)k,
                         " (after that release: a later change of the zone's rules is not in it)");
            } else if (*t < c->tzdb.from) {
                c->tzdb_early++;
                snprintf(table + k, sizeof table - (size_t)k,
                         " (before the table's start: the zone's offset then is assumed)");
            }
        }
        snprintf(src + n, srclen - n, ", local, converted with %s%s%s", c->zone, table,
                 c->tz_flags == KT_TZ_AMBIGUOUS
                     ? " (a repeated hour: the first of its two instants)"
                 : c->tz_flags == KT_TZ_NONEXISTENT ? " (an hour the clock skipped)"
                                                    : "");
    } else {
        snprintf(src + n, srclen - n, ", local, zone unknown: taken as UTC");
    }
}

static int read_found(ctx *c, const kt_artifact *a, const found *f, size_t limit, kt_buf *b)
{
    kt_error err = {0};
    if (kt_fs_read(c->fs, f->path, f->deleted ? KT_FS_DELETED : 0, limit, b, &err)) {
        warn(c, "volume %d: '%s': %s (artifact %s)", c->vol->index, f->path, err.msg, a->id);
        kt_buf_release(b);
        return -1;
    }
    c->stats->files_read++;
    c->stats->bytes_read += b->len;
    return 0;
}

/* The first time in the file's content (line regex or XML attribute). */
static bool parse_content(ctx *c, const kt_artifact *a, const found *f, kt_time *t, char *src,
                          size_t srclen, const char **zone)
{
    kt_buf b = {0};
    if (read_found(c, a, f, KT_COLLECT_MAX_PARSE, &b))
        return false;
    bool ok = false;
    char text[128] = "";
    if (a->parse == KT_PARSE_LINE) {
        for (char *line = (char *)b.data; line && *line && !ok;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            regmatch_t m[2];
            if (regexec(&a->parse_regex, line, 2, m, 0) == 0 && m[1].rm_so >= 0) {
                size_t n = (size_t)(m[1].rm_eo - m[1].rm_so);
                if (n < sizeof text) {
                    memcpy(text, line + m[1].rm_so, n);
                    text[n] = '\0';
                    ok = kt_time_pattern_parse(&a->parse_time, text, t) == KT_OK;
                }
            }
            line = nl ? nl + 1 : NULL;
        }
        if (ok)
            snprintf(src, srclen, "content '%s'", text);
    } else if (a->parse == KT_PARSE_XML && b.len < (size_t)INT32_MAX) {
        xmlDocPtr doc = xmlReadMemory((const char *)b.data, (int)b.len, f->path, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
        for (size_t i = 0; root && i < a->attributes.count && !ok; i++) {
            xmlChar *v = xmlGetProp(root, (const xmlChar *)a->attributes.items[i]);
            if (v) {
                kt_strlcpy(text, (const char *)v, sizeof text);
                ok = kt_time_pattern_parse(&a->parse_time, text, t) == KT_OK;
                if (ok)
                    snprintf(src, srclen, "root attribute %s='%s'", a->attributes.items[i], text);
                xmlFree(v);
            }
        }
        if (doc)
            xmlFreeDoc(doc);
        else
            warn(c, "volume %d: '%s': not well-formed XML (artifact %s)", c->vol->index, f->path,
                 a->id);
    }
    kt_buf_release(&b);
    if (!ok) {
        warn(c, "volume %d: '%s': no time found in its content (artifact %s)", c->vol->index,
             f->path, a->id);
        return false;
    }
    convert_note(c, &a->parse_time, t, src, srclen, zone);
    return true;
}

#define DAY_NS (INT64_C(86400) * KT_NS_PER_SEC)

/* The wall-clock time in the file's name (name_time), not yet converted. */
static bool name_time(ctx *c, const kt_artifact *a, const found *f, kt_time *t, char *text,
                      size_t tlen)
{
    char name[512];
    component(f->path, -1, '/', name, sizeof name);
    regmatch_t m[2];
    if (regexec(&a->name_regex, name, 2, m, 0) != 0 || m[1].rm_so < 0 ||
        (size_t)(m[1].rm_eo - m[1].rm_so) >= tlen)
        return false;
    memcpy(text, name + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
    text[m[1].rm_eo - m[1].rm_so] = '\0';
    if (kt_time_pattern_parse(&a->name_time, text, t) != KT_OK) {
        warn(c, "volume %d: '%s': name time '%s' is not valid (artifact %s)", c->vol->index,
             f->path, text, a->id);
        return false;
    }
    if (a->name_time.no_year) {
        /* The year of the file's creation, or the one before when the
         * date would lie more than a day after the file was made. */
        kt_time made = f->st->created != KT_TIME_NONE ? f->st->created : f->st->modified;
        if (made == KT_TIME_NONE)
            return false;
        char iso[KT_TIME_ISO_MAX], with[160];
        kt_time_format_iso(made, iso);
        int year = (int)strtol(iso, NULL, 10);
        kt_time_pattern tp = a->name_time;
        char pattern[160];
        snprintf(pattern, sizeof pattern, "%%Y|%s", a->name_time.pattern);
        tp.pattern = pattern;
        tp.no_year = false;
        for (int k = 0; k < 2; k++, year--) {
            snprintf(with, sizeof with, "%04d|%s", year, text);
            if (kt_time_pattern_parse(&tp, with, t) != KT_OK)
                continue; /* 29 February of a common year */
            if (*t <= made + DAY_NS)
                break;
        }
        if (*t > made + DAY_NS)
            return false;
        snprintf(with, sizeof with, "%s, year %d from the file's creation", text, year);
        kt_strlcpy(text, with, tlen);
    }
    return true;
}

#define MAX_LINE_FINDS 10000 /* per file */

/* parse: lines: every line the regex matches is a find. With date: name,
 * the line's time of day takes its date from the file name, a day later
 * each time the clock goes backwards (a log that runs past midnight). */
static void parse_lines(ctx *c, const kt_artifact *a, const found *f)
{
    kt_time day = KT_TIME_NONE, prev = 0;
    char ntext[128];
    if (a->parse_date_from_name) {
        kt_time start;
        if (!a->has_name_time || !name_time(c, a, f, &start, ntext, sizeof ntext))
            return;
        day = start - ((start % DAY_NS) + DAY_NS) % DAY_NS;
        prev = start - day;
    }
    kt_buf b = {0};
    if (read_found(c, a, f, KT_COLLECT_MAX_PARSE, &b))
        return;
    size_t lineno = 0, finds = 0;
    char what[KT_FS_PATH_MAX + 600];
    for (char *line = (char *)b.data; line && *line && !c->rc;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r')
            line[ll - 1] = '\0';
        regmatch_t m[10];
        char text[128];
        kt_time t;
        if (regexec(&a->parse_regex, line, 10, m, 0) == 0 && m[1].rm_so >= 0 &&
            (size_t)(m[1].rm_eo - m[1].rm_so) < sizeof text) {
            memcpy(text, line + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
            text[m[1].rm_eo - m[1].rm_so] = '\0';
            if (kt_time_pattern_parse(&a->parse_time, text, &t) != KT_OK) {
                warn(c, "volume %d: '%s' line %zu: time '%s' is not valid (artifact %s)",
                     c->vol->index, f->path, lineno, text, a->id);
            } else if (++finds > MAX_LINE_FINDS) {
                warn(c, "volume %d: '%s': more than %d matching lines; the rest are skipped",
                     c->vol->index, f->path, MAX_LINE_FINDS);
                break;
            } else {
                if (day != KT_TIME_NONE) {
                    if (t < prev)
                        day += DAY_NS;
                    prev = t;
                    t += day;
                }
                found lf = *f;
                lf.line = line;
                lf.groups = m;
                lf.ngroups = 10;
                char product[256], version[128], src[600], value[64];
                kt_event e;
                base_event(c, a, &lf, &e, product, sizeof product, version, sizeof version);
                if (day != KT_TIME_NONE)
                    snprintf(src, sizeof src, "line %zu '%s', dated by the file name '%s'", lineno,
                             text, ntext);
                else
                    snprintf(src, sizeof src, "line %zu '%s'", lineno, text);
                const char *zone;
                convert_note(c, &a->parse_time, &t, src, sizeof src, &zone);
                e.time = t;
                e.zone = (char *)zone;
                e.precision = a->parse_time.precision;
                e.time_source = src;
                snprintf(value, sizeof value, "line %zu", lineno);
                e.value = value;
                e.path = (char *)f->path;
                e.inode = f->st->inode;
                e.allocated = !f->deleted;
                snprintf(what, sizeof what, " (%s%s line %zu: %.400s)",
                         f->deleted ? "deleted: " : "", f->path, lineno, line);
                add(c, &e, what);
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    kt_buf_release(&b);
}

/* The definition's stored times of the entry (`times`), each a find;
 * `what` ends each event's text. */
static void file_time_finds(ctx *c, const kt_artifact *a, const found *f, const char *what)
{
    char product[256], version[128];
    kt_event e;
    char parent[KT_FS_PATH_MAX]; /* lives as long as the events that point at it */
    for (size_t i = 0; i < a->nfile_times; i++) {
        const kt_file_time_rule *r = &a->file_times[i];
        base_event(c, a, f, &e, product, sizeof product, version, sizeof version);
        e.path = (char *)f->path;
        e.inode = f->st->inode;
        e.allocated = !f->deleted;
        e.precision = fs_precision(c);
        if (r->field == KT_FT_PARENT_MODIFIED) {
            if (!f->deleted)
                continue;
            kt_stat pst;
            parent_of(f->path, parent, sizeof parent);
            if (kt_fs_stat(c->fs, parent, KT_FS_DELETED, &pst, NULL) != KT_OK)
                continue;
            e.time = pst.modified;
            e.role = KT_ROLE_NONE; /* says nothing about what is left */
            e.path = parent;
            e.inode = pst.inode;
            e.allocated = pst.allocated;
        } else {
            e.time = file_time(f->st, r->field);
        }
        if (e.time == KT_TIME_NONE)
            continue;
        if (r->category_set)
            e.category = r->category;
        e.time_source = (char *)file_time_label(c, r->field);
        add(c, &e, what);
    }
}

static void file_find(ctx *c, const kt_artifact *a, const found *f)
{
    char product[256], version[128];
    kt_event e;
    char what[KT_FS_PATH_MAX + 64];
    snprintf(what, sizeof what, " (%s%s)", f->deleted ? "deleted: " : "", f->path);
    file_time_finds(c, a, f, what);
    if (a->source != KT_SRC_FILES)
        return;
    if (a->parse == KT_PARSE_LINES) {
        parse_lines(c, a, f);
    } else if (a->parse != KT_PARSE_NONE) {
        base_event(c, a, f, &e, product, sizeof product, version, sizeof version);
        char src[600];
        const char *zone;
        if (parse_content(c, a, f, &e.time, src, sizeof src, &zone)) {
            e.path = (char *)f->path;
            e.inode = f->st->inode;
            e.allocated = !f->deleted;
            e.precision = a->parse_time.precision;
            e.time_source = src;
            e.zone = (char *)zone;
            add(c, &e, what);
        }
    }
    if (a->has_name_time && !a->parse_date_from_name) {
        base_event(c, a, f, &e, product, sizeof product, version, sizeof version);
        char text[128], src[600];
        if (!name_time(c, a, f, &e.time, text, sizeof text))
            return;
        snprintf(src, sizeof src, "file name '%s'", text);
        const char *zone;
        convert_note(c, &a->name_time, &e.time, src, sizeof src, &zone);
        e.zone = (char *)zone;
        e.path = (char *)f->path;
        e.inode = f->st->inode;
        e.allocated = !f->deleted;
        e.precision = a->name_time.precision;
        e.time_source = src;
        add(c, &e, what);
    }
}

/* ---- event logs -------------------------------------------------------------- */

typedef struct evtx_ctx {
    ctx *c;
    const kt_artifact *a;
    const found *file;
} evtx_ctx;

/* An event log found by an artifact's paths: read once, for every
 * artifact that names it. */
struct evtx_log {
    char path[KT_FS_PATH_MAX];
    kt_stat st;
    bool deleted;
    const kt_artifact *arts[64];
    size_t narts;
};

static int evtx_record(void *p, const kt_evtx_record *r)
{
    evtx_ctx *x = p;
    const kt_artifact *a = x->a;
    ctx *c = x->c;
    bool provider = false;
    for (size_t i = 0; i < a->providers.count && !provider; i++)
        provider = strcasecmp(a->providers.items[i], r->provider) == 0;
    const kt_evtx_event *ev = NULL;
    for (size_t i = 0; i < a->nevents && ev == NULL; i++)
        if (a->events[i].id == r->event_id)
            ev = &a->events[i];
    if (!provider || ev == NULL || r->written == KT_TIME_NONE)
        return 0;
    for (size_t w = 0; w < a->nwhere; w++) {
        size_t idx = strtoul(a->where[w].value, NULL, 10);
        if (idx >= r->nstrings)
            return 0;
        bool any = false;
        for (size_t g = 0; g < a->where[w].globs.count && !any; g++)
            any = fnmatch(a->where[w].globs.items[g], r->strings[idx], FNM_CASEFOLD) == 0;
        if (!any)
            return 0;
    }
    found f = *x->file;
    f.rec = r;
    char product[256], version[128], src[400], value[128], what[1024];
    kt_event e;
    base_event(c, a, &f, &e, product, sizeof product, version, sizeof version);
    if (ev->category_set)
        e.category = ev->category;
    e.time = r->written;
    e.precision = KT_PREC_100NS;
    snprintf(src, sizeof src, "event %u TimeCreated (record %llu%s)", r->event_id,
             (unsigned long long)r->record_id, r->recovered ? ", recovered" : "");
    if (a->has_string_time) {
        /* The time is in the record's text (a date it reports), not when
         * the record was written; no such text, no find. */
        regmatch_t m[2];
        char text[128];
        const char *s =
            (size_t)a->string_time_index < r->nstrings ? r->strings[a->string_time_index] : NULL;
        if (s == NULL || regexec(&a->string_time_regex, s, 2, m, 0) != 0 || m[1].rm_so < 0 ||
            (size_t)(m[1].rm_eo - m[1].rm_so) >= sizeof text)
            return 0;
        memcpy(text, s + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
        text[m[1].rm_eo - m[1].rm_so] = '\0';
        if (kt_time_pattern_parse(&a->string_time, text, &e.time) != KT_OK) {
            warn(c, "volume %d: '%s' record %llu: time '%s' does not fit '%s' (artifact %s)",
                 c->vol->index, f.path, (unsigned long long)r->record_id, text,
                 a->string_time.pattern, a->id);
            return 0;
        }
        snprintf(src, sizeof src, "event %u (record %llu%s) text '%s'", r->event_id,
                 (unsigned long long)r->record_id, r->recovered ? ", recovered" : "", text);
        const char *zone;
        convert_note(c, &a->string_time, &e.time, src, sizeof src, &zone);
        e.zone = (char *)zone;
        e.precision = a->string_time.precision;
    }
    e.time_source = src;
    snprintf(value, sizeof value, "record %llu", (unsigned long long)r->record_id);
    e.value = value;
    e.path = (char *)f.path;
    e.inode = f.st->inode;
    e.allocated = !f.deleted;
    size_t n = (size_t)snprintf(what, sizeof what, " (%s %u", r->provider, r->event_id);
    for (size_t i = 0; i < r->nstrings && i < 6 && n < sizeof what; i++)
        n += (size_t)snprintf(what + n, sizeof what - n, "%s%s", i ? "; " : ": ", r->strings[i]);
    if (n < sizeof what)
        snprintf(what + n, sizeof what - n, ")");
    add(c, &e, what);
    return c->rc;
}

/* Remember a log file for an artifact (the walk's match action). */
static void evtx_note(ctx *c, const kt_artifact *a, const found *f)
{
    for (size_t i = 0; i < c->nlogs; i++) {
        evtx_log *l = &c->logs[i];
        if (strcmp(l->path, f->path) == 0 && l->deleted == f->deleted) {
            if (l->narts < sizeof l->arts / sizeof l->arts[0])
                l->arts[l->narts++] = a;
            return;
        }
    }
    evtx_log *p = realloc(c->logs, (c->nlogs + 1) * sizeof *p);
    if (p == NULL) {
        c->rc = KT_ENOMEM;
        return;
    }
    c->logs = p;
    evtx_log *l = &c->logs[c->nlogs++];
    memset(l, 0, sizeof *l);
    kt_strlcpy(l->path, f->path, sizeof l->path);
    l->st = *f->st;
    l->deleted = f->deleted;
    l->arts[l->narts++] = a;
}

static int evtx_dispatch(void *p, const kt_evtx_record *r)
{
    evtx_ctx *x = p;
    const evtx_log *l = (const evtx_log *)x->a; /* see evtx_read */
    int rc = 0;
    for (size_t i = 0; i < l->narts && rc == 0; i++) {
        evtx_ctx one = {.c = x->c, .a = l->arts[i], .file = x->file};
        rc = evtx_record(&one, r);
    }
    return rc;
}

static void evtx_read(ctx *c, evtx_log *l)
{
    kt_buf b = {0};
    kt_error err = {0};
    if (kt_fs_read(c->fs, l->path, l->deleted ? KT_FS_DELETED : 0, KT_EVTX_MAX_SIZE, &b, &err)) {
        warn(c, "volume %d: '%s': %s", c->vol->index, l->path, err.msg);
        kt_buf_release(&b);
        return;
    }
    c->stats->files_read++;
    c->stats->bytes_read += b.len;
    kt_strlist providers = {0};
    for (size_t i = 0; i < l->narts; i++)
        for (size_t k = 0; k < l->arts[i]->providers.count; k++)
            kt_strlist_add(&providers, l->arts[i]->providers.items[k]);
    found f = {.path = l->path, .st = &l->st, .deleted = l->deleted};
    evtx_ctx x = {.c = c, .a = (const kt_artifact *)(const void *)l, .file = &f};
    kt_evtx_stats st = {0};
    kt_strlist w = {0};
    if (kt_evtx_walk(b.data, b.len, &providers, evtx_dispatch, &x, &st, &w, &err) != KT_OK &&
        c->rc == KT_OK)
        warn(c, "volume %d: '%s': %s", c->vol->index, l->path, err.msg);
    for (size_t i = 0; i < w.count; i++)
        warn(c, "volume %d: '%s': %s", c->vol->index, l->path, w.items[i]);
    kt_strlist_release(&w);
    kt_strlist_release(&providers);
    kt_buf_release(&b);
}

/* ---- SQLite databases ------------------------------------------------------- */

#define SQLITE_MAX_ROWS 100000    /* per database and artifact */
#define SQLITE_MAX_STEPS 50000000 /* virtual machine steps: a bound on any query */

/* Only reading: a definition's query can change nothing, even in memory. */
static int sqlite_authorize(void *p, int action, const char *a1, const char *a2, const char *a3,
                            const char *a4)
{
    (void)p, (void)a1, (void)a2, (void)a3, (void)a4;
    return action == SQLITE_SELECT || action == SQLITE_READ || action == SQLITE_FUNCTION
               ? SQLITE_OK
               : SQLITE_DENY;
}

static int sqlite_progress(void *p)
{
    size_t *steps = p;
    return ++*steps > SQLITE_MAX_STEPS / 1000;
}

/* Open a database image read-only from memory (a private copy: a WAL-mode
 * header is set to rollback mode, as a database without its -wal file
 * reads). */
static sqlite3 *sqlite_open(ctx *c, const found *f, kt_buf *b, size_t *steps)
{
    if (b->len < 100 || memcmp(b->data, "SQLite format 3", 16) != 0) {
        warn(c, "volume %d: '%s': not an SQLite database", c->vol->index, f->path);
        return NULL;
    }
    if (b->data[18] == 2 && b->data[19] == 2)
        b->data[18] = b->data[19] = 1;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_PRIVATECACHE, NULL) !=
            SQLITE_OK ||
        sqlite3_deserialize(db, "main", b->data, (sqlite3_int64)b->len, (sqlite3_int64)b->len,
                            SQLITE_DESERIALIZE_READONLY) != SQLITE_OK) {
        warn(c, "volume %d: '%s': SQLite: %s", c->vol->index, f->path,
             db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_set_authorizer(db, sqlite_authorize, NULL);
    sqlite3_progress_handler(db, 1000, sqlite_progress, steps);
    return db;
}

static void sqlite_wal_note(ctx *c, const found *f)
{
    char wal[KT_FS_PATH_MAX + 8];
    kt_stat st;
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    if (kt_fs_stat(c->fs, wal, f->deleted ? KT_FS_DELETED : 0, &st, NULL) == KT_OK && st.size > 0)
        warn(c,
             "volume %d: '%s': its write-ahead log (%llu bytes) is not applied: changes not yet "
             "written back to the database are not read",
             c->vol->index, f->path, (unsigned long long)st.size);
}

static void sqlite_tables(ctx *c, const kt_artifact *a, const found *f, sqlite3 *db)
{
    sqlite3_stmt *st = NULL, *cnt = NULL;
    kt_buf list = {0};
    if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK) {
        warn(c, "volume %d: '%s': SQLite: %s", c->vol->index, f->path, sqlite3_errmsg(db));
        return;
    }
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (name == NULL)
            continue;
        char *q = sqlite3_mprintf("SELECT count(*) FROM \"%w\"", name);
        long long rows = -1;
        if (q && sqlite3_prepare_v2(db, q, -1, &cnt, NULL) == SQLITE_OK &&
            sqlite3_step(cnt) == SQLITE_ROW)
            rows = sqlite3_column_int64(cnt, 0);
        sqlite3_finalize(cnt);
        cnt = NULL;
        sqlite3_free(q);
        char item[300];
        int len = rows >= 0
                      ? snprintf(item, sizeof item, "%s%s (%lld rows)", n ? ", " : "", name, rows)
                      : snprintf(item, sizeof item, "%s%s (unreadable)", n ? ", " : "", name);
        if (kt_buf_append(&list, item, (size_t)len < sizeof item ? (size_t)len : sizeof item - 1))
            c->rc = KT_ENOMEM;
        n++;
    }
    sqlite3_finalize(st);
    if (kt_buf_append(&list, "", 1))
        c->rc = KT_ENOMEM;
    if (c->rc) {
        kt_buf_release(&list);
        return;
    }
    char what[KT_FS_PATH_MAX + 2048];
    snprintf(what, sizeof what, " (%s%s: %zu tables: %.1900s)", f->deleted ? "deleted: " : "",
             f->path, n, n ? (const char *)list.data : "none");
    kt_buf_release(&list);
    file_time_finds(c, a, f, what);
}

static void sqlite_rows(ctx *c, const kt_artifact *a, const found *f, sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, a->query, -1, &st, NULL) != SQLITE_OK) {
        warn(c, "volume %d: '%s': query of artifact %s: %s", c->vol->index, f->path, a->id,
             sqlite3_errmsg(db));
        return;
    }
    int ncol = sqlite3_column_count(st);
    size_t rows = 0, bad = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && !c->rc) {
        if (++rows > SQLITE_MAX_ROWS) {
            warn(c, "volume %d: '%s': more than %d rows for artifact %s; the rest are skipped",
                 c->vol->index, f->path, SQLITE_MAX_ROWS, a->id);
            break;
        }
        sqlite3_int64 raw = sqlite3_column_int64(st, 0);
        kt_time t = KT_TIME_NONE;
        if (sqlite3_column_type(st, 0) == SQLITE_INTEGER && raw > 0)
            t = a->column_encoding == KT_ENC_FILETIME ? kt_time_from_filetime((uint64_t)raw)
                                                      : kt_time_from_unix(raw, 0);
        if (t == KT_TIME_NONE) {
            bad++;
            continue;
        }
        const char *cols[16] = {0};
        int n = ncol < 16 ? ncol : 16;
        for (int i = 0; i < n; i++)
            cols[i] = (const char *)sqlite3_column_text(st, i);
        found rf = *f;
        rf.columns = cols;
        rf.ncolumns = (size_t)n;
        char product[256], version[128], src[200], value[64], what[KT_FS_PATH_MAX + 1024];
        kt_event e;
        base_event(c, a, &rf, &e, product, sizeof product, version, sizeof version);
        e.time = t;
        e.precision = a->column_encoding == KT_ENC_FILETIME ? KT_PREC_100NS : KT_PREC_SECOND;
        snprintf(src, sizeof src, "column %s = %lld (%s, UTC)", sqlite3_column_name(st, 0),
                 (long long)raw, a->column_encoding == KT_ENC_FILETIME ? "FILETIME" : "Unix time");
        e.time_source = src;
        snprintf(value, sizeof value, "row %zu", rows);
        e.value = value;
        e.path = (char *)f->path;
        e.inode = f->st->inode;
        e.allocated = !f->deleted;
        size_t len = (size_t)snprintf(what, sizeof what, " (%s%s row %zu",
                                      f->deleted ? "deleted: " : "", f->path, rows);
        for (int i = 1; i < n && len < sizeof what; i++)
            len +=
                (size_t)snprintf(what + len, sizeof what - len, "%s%s=%.200s", i > 1 ? "; " : ": ",
                                 sqlite3_column_name(st, i), cols[i] ? cols[i] : "NULL");
        if (len < sizeof what)
            snprintf(what + len, sizeof what - len, ")");
        add(c, &e, what);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        warn(c, "volume %d: '%s': query of artifact %s stopped: %s", c->vol->index, f->path, a->id,
             sqlite3_errmsg(db));
    if (bad)
        warn(c, "volume %d: '%s': %zu rows of artifact %s have no usable time", c->vol->index,
             f->path, bad, a->id);
    sqlite3_finalize(st);
}

static void sqlite_find(ctx *c, const kt_artifact *a, const found *f)
{
    kt_buf b = {0};
    if (read_found(c, a, f, KT_COLLECT_MAX_DB, &b))
        return;
    if (!a->tables)
        file_find(c, a, f); /* its file times, if the definition asks for them */
    size_t steps = 0;
    sqlite3 *db = sqlite_open(c, f, &b, &steps);
    if (db) {
        sqlite_wal_note(c, f);
        if (a->tables)
            sqlite_tables(c, a, f, db);
        else
            sqlite_rows(c, a, f, db);
        sqlite3_close(db);
    }
    kt_buf_release(&b);
}

/* ---- Prefetch -------------------------------------------------------------------- */

static void prefetch_find(ctx *c, const kt_artifact *a, const found *f)
{
    kt_buf b = {0};
    if (read_found(c, a, f, KT_PREFETCH_MAX_SIZE, &b))
        return;
    kt_prefetch pf;
    kt_strlist w = {0};
    kt_error err = {0};
    if (kt_prefetch_read(b.data, b.len, &pf, &w, &err) != KT_OK) {
        warn(c, "volume %d: '%s': %s", c->vol->index, f->path, err.msg);
    } else {
        char what[KT_FS_PATH_MAX + 128];
        snprintf(what, sizeof what, " (%s%s: %s run %u times)", f->deleted ? "deleted: " : "",
                 f->path, pf.executable, pf.run_count);
        for (size_t i = 0; i < pf.nruns && !c->rc; i++) {
            char product[256], version[128], src[128], value[64];
            kt_event e;
            base_event(c, a, f, &e, product, sizeof product, version, sizeof version);
            e.time = pf.runs[i];
            e.precision = KT_PREC_100NS;
            snprintf(src, sizeof src, "prefetch v%u run time %zu of %zu%s", pf.version, i + 1,
                     pf.nruns, pf.compressed ? " (MAM compressed)" : "");
            e.time_source = src;
            snprintf(value, sizeof value, "run count %u", pf.run_count);
            e.value = value;
            e.path = (char *)f->path;
            e.inode = f->st->inode;
            e.allocated = !f->deleted;
            add(c, &e, what);
        }
    }
    for (size_t i = 0; i < w.count; i++)
        warn(c, "volume %d: '%s': %s", c->vol->index, f->path, w.items[i]);
    kt_strlist_release(&w);
    kt_buf_release(&b);
}

/* ---- package databases and logs --------------------------------------------- */

typedef struct pkg_ctx {
    ctx *c;
    const kt_artifact *a;
    const found *f;
    kt_time file_mtime; /* dated a database without times (dpkg status) */
} pkg_ctx;

/* dpkg status has no times: an installed package's info/NAME.list was
 * written when it was unpacked (install or upgrade). */
static kt_time dpkg_list_time(ctx *c, const char *name, const char *arch, char *src, size_t len)
{
    char path[KT_FS_PATH_MAX];
    kt_stat st;
    for (int k = 0; k < 2; k++) {
        if (k == 0)
            snprintf(path, sizeof path, "var/lib/dpkg/info/%s.list", name);
        else if (arch)
            snprintf(path, sizeof path, "var/lib/dpkg/info/%s:%s.list", name, arch);
        else
            break;
        if (kt_fs_stat(c->fs, path, 0, &st, NULL) == KT_OK && st.modified != KT_TIME_NONE) {
            snprintf(src, len, "modified time of %s", path);
            return st.modified;
        }
    }
    return KT_TIME_NONE;
}

static int pkg_event(void *p, const kt_pkg_event *pe)
{
    pkg_ctx *x = p;
    ctx *c = x->c;
    const kt_artifact *a = x->a;
    if ((int)pe->action >= KT_PKG_ACTION_COUNT || !a->pkg_action_set[pe->action] || !pe->name)
        return 0;
    bool named = false;
    for (size_t i = 0; i < a->pkg_names.count && !named; i++)
        named = fnmatch(a->pkg_names.items[i], pe->name, 0) == 0;
    if (!named)
        return 0;
    found f = *x->f;
    char product[256], version[128], src[600], value[600], what[KT_FS_PATH_MAX + 900];
    kt_event e;
    base_event(c, a, &f, &e, product, sizeof product, version, sizeof version);
    if (a->product.from == KT_NAME_PACKAGE) {
        apply_regex(&a->product, pe->name, product, sizeof product);
        const kt_product_def *d = kt_artifacts_product_for_os(c->set, a->vendor, a->os, product);
        e.product_id = d ? d->id : NULL;
        e.product_name = product[0] ? product : NULL;
    }
    if (a->version.from == KT_NAME_PACKAGE || a->version.from == KT_NAME_NONE) {
        apply_regex(&a->version, pe->version, version, sizeof version);
        e.version = version[0] ? version : NULL;
    }
    e.category = a->pkg_action[pe->action];
    if (pe->action == KT_PKG_STATE && pe->state) {
        /* Only an installed package registers the product; one removed
         * with its configuration files left is residue. */
        if (strstr(pe->state, "config-files"))
            e.role = KT_ROLE_RESIDUE;
        else if (!strstr(pe->state, " installed"))
            e.role = KT_ROLE_NONE;
    }
    if (e.category != KT_CAT_REMOVAL)
        e.removal_method = NULL;
    if (pe->has_time) {
        e.time = pe->time;
        e.precision = pe->precision;
        char wall[KT_TIME_ISO_MAX];
        kt_time_format_iso(pe->time, wall);
        if (pe->local && strlen(wall) > 1)
            wall[strlen(wall) - 1] = '\0'; /* a wall-clock time: no 'Z' */
        if (a->pkg_format == KT_PKGF_RPMDB)
            snprintf(src, sizeof src, "INSTALLTIME of record %zu (UTC)", pe->line);
        else
            snprintf(src, sizeof src, "line %zu '%s'", pe->line, wall);
        if (pe->local) {
            kt_time_pattern lp = {.local = true};
            const char *zone;
            convert_note(c, &lp, &e.time, src, sizeof src, &zone);
            e.zone = (char *)zone;
        } else if (a->pkg_format != KT_PKGF_RPMDB) {
            size_t n = strlen(src);
            snprintf(src + n, sizeof src - n, ", UTC");
        }
    } else if (a->pkg_format == KT_PKGF_DPKG_STATUS) {
        e.time = dpkg_list_time(c, pe->name, pe->arch, src, sizeof src);
        e.precision = fs_precision(c);
        if (e.time == KT_TIME_NONE) {
            e.time = x->file_mtime;
            snprintf(src, sizeof src, "modified time of %s (the entry has no time of its own)",
                     f.path);
        }
    } else {
        return 0;
    }
    if (e.time == KT_TIME_NONE)
        return 0;
    e.time_source = src;
    snprintf(value, sizeof value, "%s%s%s", pe->state ? pe->state : kt_pkg_action_name(pe->action),
             pe->old_version ? " from " : "", pe->old_version ? pe->old_version : "");
    e.value = value;
    e.path = (char *)f.path;
    e.inode = f.st->inode;
    e.allocated = !f.deleted;
    snprintf(what, sizeof what, " (%s %s%s%s%s%s in %s%s%.300s)", kt_pkg_action_name(pe->action),
             pe->name, pe->version ? " " : "", pe->version ? pe->version : "",
             pe->old_version ? " over " : "", pe->old_version ? pe->old_version : "", f.path,
             pe->detail ? ": " : "", pe->detail ? pe->detail : "");
    add(c, &e, what);
    return c->rc;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static void packages_find(ctx *c, const kt_artifact *a, const found *f)
{
    kt_buf b = {0}, gz = {0};
    size_t limit = a->pkg_format == KT_PKGF_RPMDB ? KT_COLLECT_MAX_DB : 256u << 20;
    if (read_found(c, a, f, limit, &b))
        return;
    const uint8_t *data = b.data;
    size_t len = b.len;
    kt_error err = {0};
    if (ends_with(f->path, ".gz")) {
        int rc = kt_gunzip(b.data, b.len, 256u << 20, &gz, &err);
        if (rc != KT_OK)
            warn(c, "volume %d: '%s': %s%s", c->vol->index, f->path, err.msg,
                 gz.len ? " (what did decompress is read)" : "");
        if (rc != KT_OK && gz.len == 0)
            goto out;
        data = gz.data;
        len = gz.len;
        err = (kt_error){0};
    }
    pkg_ctx x = {.c = c, .a = a, .f = f, .file_mtime = f->st->modified};
    kt_strlist w = {0};
    int rc = KT_OK;
    switch (a->pkg_format) {
    case KT_PKGF_DPKG_STATUS:
        rc = kt_pkg_parse_dpkg_status(data, len, pkg_event, &x, &w, &err);
        break;
    case KT_PKGF_DPKG_LOG:
        rc = kt_pkg_parse_dpkg_log(data, len, pkg_event, &x, &w, &err);
        break;
    case KT_PKGF_APT_HISTORY:
        rc = kt_pkg_parse_apt_history(data, len, pkg_event, &x, &w, &err);
        break;
    case KT_PKGF_RPMDB:
        rc = kt_pkg_parse_rpmdb(data, len, pkg_event, &x, &w, &err);
        break;
    case KT_PKGF_DNF_LOG:
        rc = kt_pkg_parse_dnf_log(data, len, pkg_event, &x, &w, &err);
        break;
    case KT_PKGF_YUM_LOG: {
        /* yum.log has no year: the year its last line was written. */
        char iso[KT_TIME_ISO_MAX];
        kt_time_format_iso(f->st->modified, iso);
        int year = f->st->modified != KT_TIME_NONE ? (int)strtol(iso, NULL, 10) : 0;
        if (year == 0) {
            warn(c, "volume %d: '%s': no modified time to give yum.log's lines their year",
                 c->vol->index, f->path);
            break;
        }
        rc = kt_pkg_parse_yum_log(data, len, year, pkg_event, &x, &w, &err);
        break;
    }
    case KT_PKGF_COUNT:
        break;
    }
    if (rc != KT_OK && c->rc == KT_OK && rc != KT_ENOMEM)
        warn(c, "volume %d: '%s': %s", c->vol->index, f->path, err.msg);
    else if (rc == KT_ENOMEM)
        c->rc = KT_ENOMEM;
    for (size_t i = 0; i < w.count; i++)
        warn(c, "volume %d: '%s': %s", c->vol->index, f->path, w.items[i]);
    kt_strlist_release(&w);
out:
    kt_buf_release(&gz);
    kt_buf_release(&b);
}

/* ---- property lists ------------------------------------------------------------ */

typedef struct plist_ctx {
    ctx *c;
    const kt_artifact *a;
    const found *f;
    size_t undated;
} plist_ctx;

/* Every `where` key must hold a string (or an array item) that one of its
 * globs matches. */
static bool plist_where(const kt_artifact *a, const kt_plist_dict *d)
{
    for (size_t w = 0; w < a->nwhere; w++) {
        bool any = false;
        char v[512];
        for (size_t i = 0; !any && i < 4096 &&
                           kt_plist_dict_string(d, a->where[w].value, i, v, sizeof v) == KT_OK;
             i++)
            for (size_t g = 0; g < a->where[w].globs.count && !any; g++)
                any = fnmatch(a->where[w].globs.items[g], v, FNM_CASEFOLD) == 0;
        if (!any)
            return false;
    }
    return true;
}

static int plist_record(void *p, const kt_plist_dict *d, size_t index)
{
    plist_ctx *x = p;
    ctx *c = x->c;
    const kt_artifact *a = x->a;
    if (!plist_where(a, d))
        return 0;
    kt_time t = kt_plist_dict_date(d, a->plist_time_key);
    if (t == KT_TIME_NONE) {
        x->undated++;
        return 0;
    }
    found f = *x->f;
    f.dict = d;
    char product[256], version[128], src[200], value[64], what[KT_FS_PATH_MAX + 64];
    kt_event e;
    base_event(c, a, &f, &e, product, sizeof product, version, sizeof version);
    e.time = t;
    e.precision = KT_PREC_SECOND;
    snprintf(src, sizeof src, "%s of dictionary %zu (plist date, UTC)", a->plist_time_key, index);
    e.time_source = src;
    snprintf(value, sizeof value, "dictionary %zu", index);
    e.value = value;
    e.path = (char *)f.path;
    e.inode = f.st->inode;
    e.allocated = !f.deleted;
    snprintf(what, sizeof what, " (%s%s)", f.deleted ? "deleted: " : "", f.path);
    add(c, &e, what);
    return c->rc;
}

static void plist_find(ctx *c, const kt_artifact *a, const found *f)
{
    kt_buf b = {0};
    if (read_found(c, a, f, KT_PLIST_MAX_SIZE, &b))
        return;
    plist_ctx x = {.c = c, .a = a, .f = f};
    kt_error err = {0};
    if (kt_plist_each_dict(b.data, b.len, plist_record, &x, &err) != KT_OK && c->rc == KT_OK)
        warn(c, "volume %d: '%s': %s", c->vol->index, f->path, err.msg);
    if (x.undated)
        warn(c, "volume %d: '%s': %zu matching entries have no date '%s' (artifact %s)",
             c->vol->index, f->path, x.undated, a->plist_time_key, a->id);
    kt_buf_release(&b);
}

/* files: content: the file counts only when its content matches. */
static bool content_matches(ctx *c, const kt_artifact *a, const found *f)
{
    /* Answer and settings files are small; a large file in /tmp is not
     * one, and is passed by without reading it. */
    if (f->st->size > KT_COLLECT_MAX_PARSE)
        return false;
    kt_buf b = {0};
    if (read_found(c, a, f, KT_COLLECT_MAX_PARSE, &b))
        return false;
    if (kt_buf_append(&b, "", 1) != KT_OK) {
        kt_buf_release(&b);
        c->rc = KT_ENOMEM;
        return false;
    }
    bool hit = regexec(&a->content_regex, (const char *)b.data, 0, NULL, 0) == 0;
    kt_buf_release(&b);
    return hit;
}

static bool type_fits(const kt_artifact *a, kt_file_type t)
{
    return a->type == 0 || (a->type == 1 && t == KT_FT_REG) || (a->type == 2 && t == KT_FT_DIR);
}

/* Whether the artifact found this entry already (and note it if not). */
static bool seen_before(ctx *c, uint64_t inode, bool deleted)
{
    if (inode == 0)
        return false;
    for (size_t i = 0; i < c->nseen; i++)
        if (c->seen[i].inode == inode && c->seen[i].deleted == deleted)
            return true;
    if (c->nseen == c->seen_cap) {
        size_t cap = c->seen_cap ? 2 * c->seen_cap : 64;
        struct seen_entry *p = realloc(c->seen, cap * sizeof *p);
        if (p == NULL) {
            c->rc = KT_ENOMEM;
            return true;
        }
        c->seen = p;
        c->seen_cap = cap;
    }
    c->seen[c->nseen++] = (struct seen_entry){inode, deleted};
    return false;
}

/* Expand path pattern components [i..] below directory `dir`. */
static void file_walk(ctx *c, const kt_artifact *a, char **parts, size_t nparts, size_t i,
                      const char *dir, bool dir_deleted, size_t *matches)
{
    if (*matches >= KT_COLLECT_MAX_MATCHES || c->rc || i >= nparts)
        return;
    bool last = i + 1 == nparts;
    kt_dirent_list l = {0};
    kt_error err = {0};
    int rc = kt_fs_list(c->fs, dir, a->deleted, &l, &err);
    if (rc) {
        if (rc != KT_ENOTFOUND)
            warn(c, "volume %d: '%s': %s", c->vol->index, dir, err.msg);
        return;
    }
    for (size_t k = 0; k < l.count && !c->rc; k++) {
        const kt_dirent *d = &l.items[k];
        if (fnmatch(parts[i], d->name, fold(c)) != 0)
            continue;
        bool deleted = d->deleted || dir_deleted;
        if (deleted && !a->deleted)
            continue;
        char path[KT_FS_PATH_MAX];
        if (snprintf(path, sizeof path, "%s%s%s", dir, dir[0] ? "/" : "", d->name) >=
            (int)sizeof path)
            continue;
        if (last) {
            if (!type_fits(a, d->st.type) || seen_before(c, d->st.inode, deleted))
                continue;
            (*matches)++;
            found f = {.path = path, .st = &d->st, .deleted = deleted};
            if (a->source == KT_SRC_EVTX)
                evtx_note(c, a, &f);
            else if (a->source == KT_SRC_SQLITE)
                sqlite_find(c, a, &f);
            else if (a->source == KT_SRC_PREFETCH)
                prefetch_find(c, a, &f);
            else if (a->source == KT_SRC_PACKAGES)
                packages_find(c, a, &f);
            else if (a->source == KT_SRC_PLIST)
                plist_find(c, a, &f);
            else if (!a->has_content_regex || content_matches(c, a, &f))
                file_find(c, a, &f);
        } else if (d->st.type == KT_FT_DIR) {
            file_walk(c, a, parts, nparts, i + 1, path, deleted, matches);
        }
    }
    kt_dirent_list_release(&l);
}

static void files_artifact(ctx *c, const kt_artifact *a)
{
    size_t matches = 0;
    c->nseen = 0;
    for (size_t k = 0; k < a->paths.count && !c->rc; k++) {
        char pattern[KT_FS_PATH_MAX];
        kt_strlcpy(pattern, a->paths.items[k], sizeof pattern);
        char *parts[KT_FS_MAX_DEPTH];
        size_t nparts = split(pattern, '/', parts, KT_FS_MAX_DEPTH);
        /* Walk the literal prefix directly; list only where a glob is. */
        char dir[KT_FS_PATH_MAX] = "";
        size_t i = 0;
        while (i + 1 < nparts && !has_glob(parts[i])) {
            size_t n = strlen(dir);
            snprintf(dir + n, sizeof dir - n, "%s%s", n ? "/" : "", parts[i]);
            i++;
        }
        if (dir[0]) {
            kt_stat st;
            if (kt_fs_stat(c->fs, dir, a->deleted ? KT_FS_DELETED | KT_FS_FOLLOW : KT_FS_FOLLOW,
                           &st, NULL) != KT_OK ||
                st.type != KT_FT_DIR)
                continue;
            file_walk(c, a, parts, nparts, i, dir, !st.allocated, &matches);
        } else {
            file_walk(c, a, parts, nparts, i, "", false, &matches);
        }
    }
}

/* ---- the system ---------------------------------------------------------------- */

static kt_hive *load_hive(ctx *c, const char *path)
{
    kt_buf b = {0};
    kt_error err = {0};
    kt_hive *h = NULL;
    if (kt_fs_read(c->fs, path, 0, KT_HIVE_MAX_SIZE, &b, &err) == KT_OK) {
        c->stats->hives_read++;
        c->stats->bytes_read += b.len;
        if (kt_hive_open_mem(b.data, b.len, path, &h, &err) != KT_OK)
            warn(c, "volume %d: %s", c->vol->index, err.msg);
    } else if (err.code != KT_ENOTFOUND) {
        warn(c, "volume %d: '%s': %s", c->vol->index, path, err.msg);
    }
    kt_buf_release(&b);
    return h;
}

static void load_windows(ctx *c)
{
    c->software = load_hive(c, "Windows/System32/config/SOFTWARE");
    c->system = load_hive(c, "Windows/System32/config/SYSTEM");
    if (kt_fs_exists(c->fs, "Windows/appcompat/Programs/Amcache.hve"))
        c->amcache = load_hive(c, "Windows/appcompat/Programs/Amcache.hve");
    if (c->system) {
        kt_hive_node sel;
        char cur[32] = "";
        long set = 0;
        if (kt_hive_find(c->system, 0, "Select", &sel, NULL) == KT_OK &&
            kt_hive_value_string(c->system, sel, "Current", cur, sizeof cur, NULL) == KT_OK)
            set = strtol(cur, NULL, 10);
        if (set > 0 && set < 1000)
            snprintf(c->controlset, sizeof c->controlset, "ControlSet%03ld", set);
        else
            warn(c, "volume %d: SYSTEM hive has no Select\\Current: services not read",
                 c->vol->index);
        kt_error err = {0};
        if (c->controlset[0] &&
            kt_wintz_from_hive(c->system, c->controlset, &c->tz, &err) == KT_OK) {
            c->has_tz = true;
            kt_strlcpy(c->zone, c->tz.name, sizeof c->zone);
        } else if (c->controlset[0])
            warn(c, "volume %d: no time zone (%s): local times are left as UTC", c->vol->index,
                 err.msg);
    }
    kt_dirent_list users = {0};
    if (kt_fs_list(c->fs, "Users", false, &users, NULL) != KT_OK)
        return;
    c->users = calloc(users.count ? users.count : 1, sizeof *c->users);
    for (size_t i = 0; c->users && i < users.count; i++) {
        if (users.items[i].st.type != KT_FT_DIR)
            continue;
        user_hive *u = &c->users[c->nusers];
        snprintf(u->path, sizeof u->path, "Users/%s/NTUSER.DAT", users.items[i].name);
        if (!kt_fs_exists(c->fs, u->path))
            continue;
        if ((u->hive = load_hive(c, u->path)) != NULL)
            c->nusers++;
    }
    kt_dirent_list_release(&users);
}

/* Linux and macOS: the zone is /etc/localtime of the evidence (TZif),
 * never the host's. Its name comes from the link's target (system.c). */
static void load_unix(ctx *c)
{
    kt_buf b = {0};
    kt_error err = {0};
    if (kt_fs_read(c->fs, "etc/localtime", KT_FS_FOLLOW, KT_TZIF_MAX_SIZE, &b, &err) == KT_OK &&
        kt_tzif_parse(b.data, b.len, &c->tzif, &err) == KT_OK) {
        c->has_tz = true;
        c->stats->files_read++;
        c->stats->bytes_read += b.len;
        if (c->sys->timezone[0])
            kt_strlcpy(c->zone, c->sys->timezone, sizeof c->zone);
        else
            snprintf(c->zone, sizeof c->zone, "etc/localtime (%s)",
                     kt_tzif_footer(c->tzif)[0] ? kt_tzif_footer(c->tzif) : "no name");
        kt_buf_release(&b);
        return;
    }
    kt_buf_release(&b);
    /* The zone is named (the link's target, /etc/timezone) but its file is
     * not in the image, or unreadable: kavtrace's own table of current
     * rules, if it has the zone. */
    kt_error e2 = {0};
    if (c->sys->timezone[0] &&
        kt_tzif_builtin(c->sys->timezone, &c->tzif, &c->tzdb, &e2) == KT_OK) {
        c->has_tz = true;
        c->zone_builtin = true;
        kt_strlcpy(c->zone, c->sys->timezone, sizeof c->zone);
        char from[KT_TIME_ISO_MAX], rel[KT_TIME_ISO_MAX];
        warn(c,
             "volume %d: etc/localtime: %s: local times are converted with kavtrace's table "
             "from tzdata %s (released %s) for %s, whose transitions it lists from %s",
             c->vol->index, err.msg, c->tzdb.release, kt_time_format_iso(c->tzdb.released, rel),
             c->zone, kt_time_format_iso(c->tzdb.from, from));
        return;
    }
    warn(c,
         "volume %d: no time zone (etc/localtime: %s%s%s): local times are taken as UTC and "
         "say so",
         c->vol->index, err.msg, c->sys->timezone[0] ? "; " : "",
         c->sys->timezone[0] ? e2.msg : "");
}

int kt_collect_system(const kt_artifact_set *set, kt_fs *fs, const kt_volume *vol,
                      const kt_system *sys, kt_timeline *tl, kt_strlist *warnings,
                      kt_collect_stats *stats, char *zone, size_t zone_len, kt_error *err)
{
    ctx c = {.set = set,
             .fs = fs,
             .vol = vol,
             .sys = sys,
             .tl = tl,
             .warnings = warnings,
             .stats = stats};
    const char *os = kt_os_name(sys->os);
    if (sys->os == KT_OS_WINDOWS)
        load_windows(&c);
    else if (sys->os == KT_OS_LINUX || sys->os == KT_OS_MACOS)
        load_unix(&c);
    zone[0] = '\0';
    if (c.has_tz)
        kt_strlcpy(zone, c.zone, zone_len);
    for (size_t i = 0; i < set->nartifacts && !c.rc; i++) {
        const kt_artifact *a = &set->artifacts[i];
        if (a->os == NULL || strcmp(a->os, os) != 0)
            continue;
        if (a->source == KT_SRC_REGISTRY)
            registry_artifact(&c, a);
        else
            files_artifact(&c, a); /* event logs are only noted here */
    }
    for (size_t i = 0; i < c.nlogs && !c.rc; i++)
        evtx_read(&c, &c.logs[i]);
    if (c.tzdb_late)
        warn(&c,
             "volume %d: %zu local time%s later than tzdata %s's release converted with "
             "kavtrace's table for %s: a change of the zone's rules after that release is not "
             "in it (each event's time source says so)",
             vol->index, c.tzdb_late, c.tzdb_late == 1 ? "" : "s", c.tzdb.release, c.zone);
    if (c.tzdb_early)
        warn(&c,
             "volume %d: %zu local time%s before the start of kavtrace's table for %s, "
             "converted with the zone's offset at its start (each event's time source says so)",
             vol->index, c.tzdb_early, c.tzdb_early == 1 ? "" : "s", c.zone);
    free(c.logs);
    free(c.seen);
    kt_tzif_free(c.tzif);
    kt_hive_free(c.software);
    kt_hive_free(c.system);
    kt_hive_free(c.amcache);
    for (size_t u = 0; u < c.nusers; u++)
        kt_hive_free(c.users[u].hive);
    free(c.users);
    if (c.rc)
        return kt_error_set(err, c.rc, "out of memory while collecting");
    return KT_OK;
}
