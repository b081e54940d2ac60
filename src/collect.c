#include <fnmatch.h>
#include <stdarg.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kavtrace/collect.h"
#include "kavtrace/evtx.h"
#include "kavtrace/registry.h"
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
    kt_wintz tz;
    bool has_tz;
    int rc; /* first fatal error (out of memory) */
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
    if (!c->has_tz)
        return false;
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
        break;
    case KT_NAME_KEY:
        if (f->key)
            component(f->key, -1, '\\', raw, sizeof raw);
        break;
    case KT_NAME_STRING:
        if (f->rec && r->component >= 0 && (size_t)r->component < f->rec->nstrings)
            kt_strlcpy(raw, f->rec->strings[r->component], sizeof raw);
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
    const kt_product_def *p = kt_artifacts_product_for(c->set, a->vendor, product);
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
                e->zone = c->tz.name;
                snprintf(src, srclen, "%s '%s' (local %s, converted with %s)", r->value, text,
                         tp->precision == KT_PREC_DAY ? "date" : "time", c->tz.name);
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

/* Times parsed out of the file's content (line regex or XML attribute). */
static bool parse_content(ctx *c, const kt_artifact *a, const found *f, kt_time *t, char *src,
                          size_t srclen)
{
    kt_buf b = {0};
    kt_error err = {0};
    if (kt_fs_read(c->fs, f->path, f->deleted ? KT_FS_DELETED : 0, KT_COLLECT_MAX_PARSE, &b,
                   &err)) {
        warn(c, "volume %d: '%s': %s (artifact %s)", c->vol->index, f->path, err.msg, a->id);
        kt_buf_release(&b);
        return false;
    }
    c->stats->files_read++;
    c->stats->bytes_read += b.len;
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
    if (a->parse_time.local) {
        if (to_utc(c, t))
            snprintf(src + strlen(src), srclen - strlen(src), ", local, converted with %s",
                     c->tz.name);
        else
            snprintf(src + strlen(src), srclen - strlen(src), ", local, zone unknown");
    } else {
        snprintf(src + strlen(src), srclen - strlen(src), ", UTC");
    }
    return true;
}

static void file_find(ctx *c, const kt_artifact *a, const found *f)
{
    char product[256], version[128];
    kt_event e;
    char what[KT_FS_PATH_MAX + 64];
    char parent[KT_FS_PATH_MAX]; /* lives as long as the events that point at it */
    snprintf(what, sizeof what, " (%s%s)", f->deleted ? "deleted: " : "", f->path);
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
    if (a->parse != KT_PARSE_NONE) {
        base_event(c, a, f, &e, product, sizeof product, version, sizeof version);
        char src[600];
        if (parse_content(c, a, f, &e.time, src, sizeof src)) {
            e.path = (char *)f->path;
            e.inode = f->st->inode;
            e.allocated = !f->deleted;
            e.precision = a->parse_time.precision;
            e.time_source = src;
            if (a->parse_time.local && c->has_tz)
                e.zone = c->tz.name;
            add(c, &e, what);
        }
    }
    if (a->has_name_time) {
        base_event(c, a, f, &e, product, sizeof product, version, sizeof version);
        char name[512], text[128];
        component(f->path, -1, '/', name, sizeof name);
        regmatch_t m[2];
        if (regexec(&a->name_regex, name, 2, m, 0) != 0 || m[1].rm_so < 0 ||
            (size_t)(m[1].rm_eo - m[1].rm_so) >= sizeof text)
            return;
        memcpy(text, name + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
        text[m[1].rm_eo - m[1].rm_so] = '\0';
        if (kt_time_pattern_parse(&a->name_time, text, &e.time) != KT_OK) {
            warn(c, "volume %d: '%s': name time '%s' is not valid (artifact %s)", c->vol->index,
                 f->path, text, a->id);
            return;
        }
        char src[600];
        if (a->name_time.local && to_utc(c, &e.time)) {
            e.zone = c->tz.name;
            snprintf(src, sizeof src, "file name '%s' (local time, converted with %s)", text,
                     c->tz.name);
        } else {
            snprintf(src, sizeof src, "file name '%s' (%s)", text,
                     a->name_time.local ? "local time, zone unknown: taken as UTC" : "UTC");
        }
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
    char product[256], version[128], src[128], value[128], what[1024];
    kt_event e;
    base_event(c, a, &f, &e, product, sizeof product, version, sizeof version);
    if (ev->category_set)
        e.category = ev->category;
    e.time = r->written;
    e.precision = KT_PREC_100NS;
    snprintf(src, sizeof src, "event %u TimeCreated (record %llu%s)", r->event_id,
             (unsigned long long)r->record_id, r->recovered ? ", recovered" : "");
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

static bool type_fits(const kt_artifact *a, kt_file_type t)
{
    return a->type == 0 || (a->type == 1 && t == KT_FT_REG) || (a->type == 2 && t == KT_FT_DIR);
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
            if (!type_fits(a, d->st.type))
                continue;
            (*matches)++;
            found f = {.path = path, .st = &d->st, .deleted = deleted};
            if (a->source == KT_SRC_EVTX)
                evtx_note(c, a, &f);
            else
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
        if (c->controlset[0] && kt_wintz_from_hive(c->system, c->controlset, &c->tz, &err) == KT_OK)
            c->has_tz = true;
        else if (c->controlset[0])
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
    zone[0] = '\0';
    if (c.has_tz)
        kt_strlcpy(zone, c.tz.name, zone_len);
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
    free(c.logs);
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
