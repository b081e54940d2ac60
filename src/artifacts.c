/* Artifact definitions: YAML files read with libyaml's document API and
 * checked into kt_artifact_set. Every problem names FILE:LINE. */
#include <dirent.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "kavtrace/artifacts.h"

static const char *const category_names[KT_CAT_COUNT] = {
    [KT_CAT_INSTALL] = "install",
    [KT_CAT_SIGNATURE_UPDATE] = "signature_update",
    [KT_CAT_CODEBASE_UPDATE] = "codebase_update",
    [KT_CAT_KSN] = "ksn",
    [KT_CAT_REMOVAL] = "removal",
    [KT_CAT_EXECUTION] = "execution",
    [KT_CAT_DETECTION] = "detection",
    [KT_CAT_PRESENCE] = "presence",
    [KT_CAT_MIGRATION] = "migration",
    [KT_CAT_CONFIG] = "config",
};

static const char *const file_time_names[KT_FT_COUNT] = {
    [KT_FT_SI_CREATED] = "si_created",           [KT_FT_SI_MODIFIED] = "si_modified",
    [KT_FT_SI_CHANGED] = "si_changed",           [KT_FT_SI_ACCESSED] = "si_accessed",
    [KT_FT_FN_CREATED] = "fn_created",           [KT_FT_FN_MODIFIED] = "fn_modified",
    [KT_FT_FN_CHANGED] = "fn_changed",           [KT_FT_FN_ACCESSED] = "fn_accessed",
    [KT_FT_PARENT_MODIFIED] = "parent_modified",
};

const char *kt_category_name(kt_category c)
{
    return c < KT_CAT_COUNT ? category_names[c] : "?";
}

const char *kt_file_time_name(kt_file_time f)
{
    return f < KT_FT_COUNT ? file_time_names[f] : "?";
}

const char *kt_role_name(kt_role r)
{
    switch (r) {
    case KT_ROLE_REGISTRATION:
        return "registration";
    case KT_ROLE_PROGRAM:
        return "program";
    case KT_ROLE_RESIDUE:
        return "residue";
    case KT_ROLE_NONE:
        break;
    }
    return "none";
}

const char *kt_precision_name(kt_precision p)
{
    switch (p) {
    case KT_PREC_NS:
        return "ns";
    case KT_PREC_100NS:
        return "100ns";
    case KT_PREC_MS:
        return "ms";
    case KT_PREC_SECOND:
        return "second";
    case KT_PREC_MINUTE:
        return "minute";
    case KT_PREC_DAY:
        return "day";
    }
    return "?";
}

/* ---- time patterns ------------------------------------------------------ */

static int check_pattern(kt_time_pattern *tp)
{
    tp->has_offset = false;
    bool y = false, m = false, d = false, H = false, I = false, P = false, M = false, S = false,
         f = false;
    for (const char *p = tp->pattern; *p; p++) {
        if (*p != '%')
            continue;
        if (*++p == '-') {
            p++;
            if (*p != 'm' && *p != 'd' && *p != 'H' && *p != 'I')
                return -1;
        }
        switch (*p) {
        case 'Y':
            y = true;
            break;
        case 'm':
            m = true;
            break;
        case 'd':
            d = true;
            break;
        case 'H':
            H = true;
            break;
        case 'I':
            I = true;
            break;
        case 'p':
            P = true;
            break;
        case 'M':
            M = true;
            break;
        case 'S':
            S = true;
            break;
        case 'f':
            f = true;
            break;
        case 'z':
            tp->has_offset = true;
            break;
        case '%':
            break;
        default:
            return -1;
        }
    }
    if (I != P || (I && H))
        return -1;
    tp->time_only = !y && !m && !d;
    tp->no_year = !y && m && d;
    if (tp->time_only ? !(H || I) : !(m && d))
        return -1;
    tp->precision = f          ? KT_PREC_MS
                    : S        ? KT_PREC_SECOND
                    : M        ? KT_PREC_MINUTE
                    : (H || I) ? KT_PREC_MINUTE
                               : KT_PREC_DAY;
    return 0;
}

/* Exactly n digits, or (flexible) one to n. */
static int digits(const char **s, int n, bool flexible, int *out)
{
    int v = 0, i = 0;
    for (; i < n && (*s)[i] >= '0' && (*s)[i] <= '9'; i++)
        v = v * 10 + ((*s)[i] - '0');
    if (i == 0 || (i < n && !flexible))
        return -1;
    *s += i;
    *out = v;
    return 0;
}

int kt_time_pattern_parse(const kt_time_pattern *tp, const char *text, kt_time *out)
{
    int Y = 0, m = 0, d = 0, H = 0, M = 0, S = 0, ms = 0, pm = -1, offset = 0;
    bool twelve = false;
    const char *s = text;
    for (const char *p = tp->pattern; *p; p++) {
        if (*p == ' ') {
            if (*s != ' ')
                return KT_EFORMAT;
            while (*s == ' ')
                s++;
            continue;
        }
        if (*p != '%' || p[1] == '%') {
            if (*p == '%')
                p++;
            if (*s++ != *p)
                return KT_EFORMAT;
            continue;
        }
        bool flex = false;
        if (*++p == '-') {
            flex = true;
            p++;
        }
        int rc = 0;
        switch (*p) {
        case 'Y':
            rc = digits(&s, 4, false, &Y);
            break;
        case 'm':
            rc = digits(&s, 2, flex, &m);
            break;
        case 'd':
            rc = digits(&s, 2, flex, &d);
            break;
        case 'H':
            rc = digits(&s, 2, flex, &H);
            break;
        case 'I':
            rc = digits(&s, 2, flex, &H);
            twelve = true;
            rc = rc || H < 1 || H > 12;
            break;
        case 'p':
            if ((s[0] == 'A' || s[0] == 'P' || s[0] == 'a' || s[0] == 'p') &&
                (s[1] == 'M' || s[1] == 'm')) {
                pm = s[0] == 'P' || s[0] == 'p';
                s += 2;
            } else {
                rc = -1;
            }
            break;
        case 'M':
            rc = digits(&s, 2, false, &M);
            break;
        case 'S':
            rc = digits(&s, 2, false, &S);
            break;
        case 'f':
            rc = digits(&s, 3, false, &ms);
            break;
        case 'z': {
            int sign = *s == '+' ? 1 : *s == '-' ? -1 : 0, oh = 0, om = 0;
            if (sign == 0) {
                rc = -1;
                break;
            }
            s++;
            rc = digits(&s, 2, false, &oh);
            if (rc == 0 && *s == ':')
                s++;
            if (rc == 0 && *s >= '0' && *s <= '9')
                rc = digits(&s, 2, false, &om);
            if (rc == 0 && (oh > 23 || om > 59))
                rc = -1;
            offset = sign * (oh * 3600 + om * 60);
            break;
        }
        default:
            return KT_EFORMAT;
        }
        if (rc)
            return KT_EFORMAT;
    }
    if (twelve)
        H = H % 12 + (pm == 1 ? 12 : 0);
    if (H > 23 || M > 59 || S > 60)
        return KT_EFORMAT;
    int64_t secs = H * 3600 + M * 60 + S;
    if (tp->time_only) {
        *out = kt_time_from_unix(secs, (int64_t)ms * 1000000);
        return KT_OK;
    }
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (tp->no_year)
        Y = 2000; /* a leap year: 29 February stays valid */
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || Y < 1700)
        return KT_EFORMAT;
    bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (m == 2 && d == 29 && !leap)
        return KT_EFORMAT;
    int64_t days = kt_days_from_civil(Y, (unsigned)m, (unsigned)d);
    *out = kt_time_from_unix(days * 86400 + secs - offset, (int64_t)ms * 1000000);
    return KT_OK;
}

/* ---- YAML document access ------------------------------------------------ */

typedef struct ctx {
    yaml_document_t *doc;
    const char *file;
    kt_strlist *problems;
    const char *vendor; /* the file's default vendor */
} ctx;

static void problem(ctx *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kt_strlist_addf(c->problems, "%s:%lu: %s", c->file,
                    n ? (unsigned long)n->start_mark.line + 1 : 0, msg);
}

static yaml_node_t *get(ctx *c, yaml_node_t *map, const char *key)
{
    if (map == NULL || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
            return yaml_document_get_node(c->doc, p->value);
    }
    return NULL;
}

/* Every key of map must be in allowed (NULL-terminated). */
static void check_keys(ctx *c, yaml_node_t *map, const char *what, const char *const *allowed)
{
    if (map == NULL || map->type != YAML_MAPPING_NODE)
        return;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        if (k == NULL || k->type != YAML_SCALAR_NODE)
            continue;
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, (char *)k->data.scalar.value) == 0;
        if (!ok)
            problem(c, k, "%s: unknown key '%s'", what, (char *)k->data.scalar.value);
    }
}

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static char *dup_scalar(ctx *c, yaml_node_t *map, const char *key, bool required, const char *what)
{
    yaml_node_t *n = get(c, map, key);
    const char *s = scalar(n);
    if (n && s == NULL)
        problem(c, n, "%s: '%s' must be a string", what, key);
    if (s == NULL) {
        if (required && n == NULL)
            problem(c, map, "%s: '%s' is required", what, key);
        return NULL;
    }
    return strdup(s);
}

static bool get_bool(ctx *c, yaml_node_t *map, const char *key, bool dflt)
{
    yaml_node_t *n = get(c, map, key);
    const char *s = scalar(n);
    if (s == NULL)
        return dflt;
    if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
        return true;
    if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
        return false;
    problem(c, n, "'%s' must be true or false", key);
    return dflt;
}

/* A string or a list of strings, appended to out. */
static void get_strings(ctx *c, yaml_node_t *map, const char *key, kt_strlist *out, bool required,
                        const char *what)
{
    yaml_node_t *n = get(c, map, key);
    if (n == NULL) {
        if (required)
            problem(c, map, "%s: '%s' is required", what, key);
        return;
    }
    if (n->type == YAML_SCALAR_NODE) {
        kt_strlist_add(out, (char *)n->data.scalar.value);
        return;
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        problem(c, n, "%s: '%s' must be a string or a list of strings", what, key);
        return;
    }
    for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
        const char *s = scalar(yaml_document_get_node(c->doc, *i));
        if (s == NULL)
            problem(c, n, "%s: '%s' must hold strings only", what, key);
        else
            kt_strlist_add(out, s);
    }
    if (required && out->count == 0)
        problem(c, n, "%s: '%s' is empty", what, key);
}

/* `paths` of a file-based source: relative to the volume root, never
 * climbing out of it. */
static void get_paths(ctx *c, yaml_node_t *map, kt_artifact *a, const char *what)
{
    get_strings(c, map, "paths", &a->paths, true, what);
    for (size_t i = 0; i < a->paths.count; i++)
        if (a->paths.items[i][0] == '/' || strstr(a->paths.items[i], ".."))
            problem(c, get(c, map, "paths"), "%s: path '%s' must be relative, without '..'", what,
                    a->paths.items[i]);
}

static int parse_category(ctx *c, yaml_node_t *n, kt_category *out)
{
    const char *s = scalar(n);
    for (int i = 0; s && i < KT_CAT_COUNT; i++) {
        if (strcmp(s, category_names[i]) == 0) {
            *out = (kt_category)i;
            return 0;
        }
    }
    problem(c, n,
            "unknown category '%s' (install, signature_update, codebase_update, ksn, "
            "removal, execution, detection, presence, migration, config)",
            s ? s : "?");
    return -1;
}

static bool compile_regex(ctx *c, yaml_node_t *n, const char *re, regex_t *out)
{
    int rc = regcomp(out, re, REG_EXTENDED | REG_ICASE);
    if (rc != 0) {
        char msg[256];
        regerror(rc, out, msg, sizeof msg);
        problem(c, n, "bad regex '%s': %s", re, msg);
        return false;
    }
    if (out->re_nsub < 1) {
        problem(c, n, "regex '%s' needs a capture group", re);
        regfree(out);
        return false;
    }
    return true;
}

#define PATTERN_TIME_ONLY 1 /* a time of day, dated from elsewhere, may do */
#define PATTERN_NO_YEAR 2   /* a date without its year may do */

static void parse_pattern(ctx *c, yaml_node_t *map, const char *what, kt_time_pattern *tp,
                          int allow)
{
    tp->pattern = dup_scalar(c, map, "pattern", true, what);
    if (tp->pattern && check_pattern(tp) != 0)
        problem(c, get(c, map, "pattern"),
                "%s: pattern '%s' needs %%Y, %%m and %%d (or, with a date from elsewhere, only a "
                "time) and only %%H %%M %%S %%f, %%I with %%p, or %%-m %%-d %%-H %%-I besides",
                what, tp->pattern);
    else if (tp->pattern && tp->time_only && !(allow & PATTERN_TIME_ONLY))
        problem(c, get(c, map, "pattern"), "%s: pattern '%s' has no date (%%Y, %%m, %%d)", what,
                tp->pattern);
    else if (tp->pattern && tp->no_year && !(allow & PATTERN_NO_YEAR))
        problem(c, get(c, map, "pattern"), "%s: pattern '%s' has no year (%%Y)", what, tp->pattern);
    const char *zone = scalar(get(c, map, "zone"));
    if (zone == NULL || strcmp(zone, "utc") == 0)
        tp->local = false;
    else if (strcmp(zone, "local") == 0)
        tp->local = true;
    else
        problem(c, get(c, map, "zone"), "%s: zone must be utc or local", what);
}

static void parse_name_rule(ctx *c, yaml_node_t *n, kt_name_rule *r, bool registry)
{
    if (n == NULL)
        return;
    if (n->type == YAML_SCALAR_NODE) {
        r->from = KT_NAME_FIXED;
        r->text = strdup((char *)n->data.scalar.value);
        return;
    }
    static const char *const keys[] = {"fixed", "value",  "key",     "component", "string",
                                       "group", "column", "package", "regex",     NULL};
    check_keys(c, n, "product/version", keys);
    if ((r->text = dup_scalar(c, n, "fixed", false, "product/version")))
        r->from = KT_NAME_FIXED;
    else if (registry && (r->text = dup_scalar(c, n, "value", false, "product/version")))
        r->from = KT_NAME_VALUE;
    else if (registry && get_bool(c, n, "key", false))
        r->from = KT_NAME_KEY;
    else if (get_bool(c, n, "package", false))
        r->from = KT_NAME_PACKAGE;
    else if (get(c, n, "string") || get(c, n, "component") || get(c, n, "group") ||
             get(c, n, "column")) {
        const char *key = get(c, n, "string")   ? "string"
                          : get(c, n, "group")  ? "group"
                          : get(c, n, "column") ? "column"
                                                : "component";
        r->from = key[0] == 's'                    ? KT_NAME_STRING
                  : key[0] == 'g'                  ? KT_NAME_GROUP
                  : key[1] == 'o' && key[2] == 'l' ? KT_NAME_COLUMN
                                                   : KT_NAME_COMPONENT;
        const char *v = scalar(get(c, n, key));
        char *end = NULL;
        long k = v ? strtol(v, &end, 10) : 0;
        if (v == NULL || *end || k < -64 || k > 255)
            problem(c, n, "product/version: %s must be a number from -64 to 255", key);
        else
            r->component = (int)k;
    } else
        problem(c, n, "product/version: give fixed, %scomponent, string, group or column",
                registry ? "value, key, " : "");
    const char *re = scalar(get(c, n, "regex"));
    if (re)
        r->has_regex = compile_regex(c, n, re, &r->regex);
}

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

static void parse_registry(ctx *c, yaml_node_t *reg, kt_artifact *a)
{
    static const char *const keys[] = {"hive",    "keys",  "where", "product",
                                       "version", "times", NULL};
    check_keys(c, reg, "registry", keys);
    a->hive = dup_scalar(c, reg, "hive", true, "registry");
    if (a->hive && strcmp(a->hive, "SOFTWARE") != 0 && strcmp(a->hive, "SYSTEM") != 0 &&
        strcmp(a->hive, "NTUSER") != 0 && strcmp(a->hive, "AMCACHE") != 0)
        problem(c, get(c, reg, "hive"),
                "registry: hive must be SOFTWARE, SYSTEM, NTUSER or AMCACHE");
    get_strings(c, reg, "keys", &a->keys, true, "registry");
    yaml_node_t *w = get(c, reg, "where");
    if (w && w->type != YAML_MAPPING_NODE)
        problem(c, w, "registry: 'where' maps value names to globs");
    if (w && w->type == YAML_MAPPING_NODE) {
        size_t n = (size_t)(w->data.mapping.pairs.top - w->data.mapping.pairs.start);
        a->where = calloc(n ? n : 1, sizeof *a->where);
        for (yaml_node_pair_t *p = w->data.mapping.pairs.start;
             a->where && p < w->data.mapping.pairs.top; p++) {
            kt_where *wh = &a->where[a->nwhere++];
            wh->value = strdup(scalar(yaml_document_get_node(c->doc, p->key))
                                   ? scalar(yaml_document_get_node(c->doc, p->key))
                                   : "");
            yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
            if (v && v->type == YAML_SCALAR_NODE)
                kt_strlist_add(&wh->globs, (char *)v->data.scalar.value);
            else if (v && v->type == YAML_SEQUENCE_NODE)
                for (yaml_node_item_t *i = v->data.sequence.items.start;
                     i < v->data.sequence.items.top; i++)
                    if (scalar(yaml_document_get_node(c->doc, *i)))
                        kt_strlist_add(&wh->globs, scalar(yaml_document_get_node(c->doc, *i)));
            if (wh->globs.count == 0)
                problem(c, v, "registry: where '%s' has no glob", wh->value);
        }
    }
    parse_name_rule(c, get(c, reg, "product"), &a->product, true);
    parse_name_rule(c, get(c, reg, "version"), &a->version, true);
    yaml_node_t *t = get(c, reg, "times");
    if (t == NULL)
        return;
    if (t->type != YAML_SEQUENCE_NODE) {
        problem(c, t, "registry: 'times' must be a list");
        return;
    }
    size_t n = (size_t)(t->data.sequence.items.top - t->data.sequence.items.start);
    a->times = calloc(n ? n : 1, sizeof *a->times);
    for (yaml_node_item_t *i = t->data.sequence.items.start;
         a->times && i < t->data.sequence.items.top; i++) {
        yaml_node_t *tn = yaml_document_get_node(c->doc, *i);
        static const char *const tkeys[] = {"value", "key_written", "encoding", "pattern",
                                            "zone",  "category",    NULL};
        check_keys(c, tn, "time", tkeys);
        kt_time_rule *r = &a->times[a->ntimes++];
        r->key_written = get_bool(c, tn, "key_written", false);
        r->value = dup_scalar(c, tn, "value", false, "time");
        if (r->key_written == (r->value != NULL))
            problem(c, tn, "time: give either 'value' or 'key_written: true'");
        if (r->value) {
            const char *enc = scalar(get(c, tn, "encoding"));
            for (size_t e = 0; enc && e < sizeof encodings / sizeof encodings[0]; e++)
                if (strcmp(enc, encodings[e].name) == 0)
                    r->encoding = encodings[e].enc;
            if (r->encoding == KT_ENC_NONE)
                problem(c, tn,
                        "time: encoding must be filetime, unix, unix_or_filetime, "
                        "yyyymmdd or pattern");
            if (r->encoding == KT_ENC_PATTERN)
                parse_pattern(c, tn, "time", &r->pattern, 0);
            if (r->encoding == KT_ENC_YYYYMMDD) {
                r->pattern.local =
                    !(scalar(get(c, tn, "zone")) && strcmp(scalar(get(c, tn, "zone")), "utc") == 0);
                r->pattern.precision = KT_PREC_DAY;
            }
        }
        if (get(c, tn, "category"))
            r->category_set = parse_category(c, get(c, tn, "category"), &r->category) == 0;
    }
}

/* What every file-based source shares: paths, type, deleted, times,
 * product, version. */
static void parse_file_common(ctx *c, yaml_node_t *f, kt_artifact *a)
{
    get_paths(c, f, a, "files");
    const char *type = scalar(get(c, f, "type"));
    if (type == NULL || strcmp(type, "any") == 0)
        a->type = 0;
    else if (strcmp(type, "file") == 0)
        a->type = 1;
    else if (strcmp(type, "directory") == 0)
        a->type = 2;
    else
        problem(c, get(c, f, "type"), "files: type must be file, directory or any");
    a->deleted = get_bool(c, f, "deleted", false);
    parse_name_rule(c, get(c, f, "product"), &a->product, false);
    parse_name_rule(c, get(c, f, "version"), &a->version, false);

    yaml_node_t *t = get(c, f, "times");
    if (t && t->type == YAML_SEQUENCE_NODE) {
        size_t n = (size_t)(t->data.sequence.items.top - t->data.sequence.items.start);
        a->file_times = calloc(n ? n : 1, sizeof *a->file_times);
        for (yaml_node_item_t *i = t->data.sequence.items.start;
             a->file_times && i < t->data.sequence.items.top; i++) {
            yaml_node_t *tn = yaml_document_get_node(c->doc, *i);
            const char *field = scalar(tn) ? scalar(tn) : scalar(get(c, tn, "field"));
            kt_file_time_rule *r = &a->file_times[a->nfile_times];
            bool found = false;
            for (int k = 0; field && k < KT_FT_COUNT && !found; k++)
                if (strcmp(field, file_time_names[k]) == 0) {
                    r->field = (kt_file_time)k;
                    found = true;
                }
            if (!found) {
                problem(c, tn, "files: unknown time '%s'", field ? field : "?");
                continue;
            }
            if (tn->type == YAML_MAPPING_NODE && get(c, tn, "category"))
                r->category_set = parse_category(c, get(c, tn, "category"), &r->category) == 0;
            a->nfile_times++;
        }
    } else if (t) {
        problem(c, t, "files: 'times' must be a list");
    }
}

static void parse_files(ctx *c, yaml_node_t *f, kt_artifact *a)
{
    static const char *const keys[] = {"paths",     "type",    "deleted", "times",   "parse",
                                       "name_time", "product", "version", "content", NULL};
    check_keys(c, f, "files", keys);
    parse_file_common(c, f, a);
    const char *content = scalar(get(c, f, "content"));
    if (content) {
        int rc =
            regcomp(&a->content_regex, content, REG_EXTENDED | REG_ICASE | REG_NEWLINE | REG_NOSUB);
        if (rc != 0) {
            char msg[256];
            regerror(rc, &a->content_regex, msg, sizeof msg);
            problem(c, get(c, f, "content"), "files: bad content regex '%s': %s", content, msg);
        } else {
            a->has_content_regex = true;
        }
    }
    yaml_node_t *p = get(c, f, "parse");
    if (p) {
        static const char *const pkeys[] = {"format", "regex", "attributes", "pattern",
                                            "zone",   "date",  NULL};
        check_keys(c, p, "parse", pkeys);
        const char *fmt = scalar(get(c, p, "format"));
        if (fmt && (strcmp(fmt, "line") == 0 || strcmp(fmt, "lines") == 0)) {
            a->parse = fmt[4] ? KT_PARSE_LINES : KT_PARSE_LINE;
            const char *re = scalar(get(c, p, "regex"));
            if (re == NULL)
                problem(c, p, "parse: a line parser needs 'regex'");
            else
                a->has_parse_regex = compile_regex(c, p, re, &a->parse_regex);
        } else if (fmt && strcmp(fmt, "xml") == 0) {
            a->parse = KT_PARSE_XML;
            get_strings(c, p, "attributes", &a->attributes, true, "parse");
        } else {
            problem(c, p, "parse: format must be line, lines or xml");
        }
        const char *date = scalar(get(c, p, "date"));
        if (date && strcmp(date, "name") == 0)
            a->parse_date_from_name = true;
        else if (date)
            problem(c, get(c, p, "date"), "parse: date can only be 'name' (from name_time)");
        parse_pattern(c, p, "parse", &a->parse_time,
                      a->parse_date_from_name ? PATTERN_TIME_ONLY : 0);
        if (a->parse_date_from_name && !a->parse_time.time_only)
            problem(c, p, "parse: with date: name the pattern is a time of day only");
        if (a->parse_date_from_name && get(c, f, "name_time") == NULL)
            problem(c, p, "parse: date: name needs name_time");
    }
    yaml_node_t *nt = get(c, f, "name_time");
    if (nt) {
        static const char *const nkeys[] = {"regex", "pattern", "zone", NULL};
        check_keys(c, nt, "name_time", nkeys);
        const char *re = scalar(get(c, nt, "regex"));
        if (re == NULL)
            problem(c, nt, "name_time: 'regex' is required");
        else
            a->has_name_time = compile_regex(c, nt, re, &a->name_regex);
        parse_pattern(c, nt, "name_time", &a->name_time, PATTERN_NO_YEAR);
    }
    if (a->nfile_times == 0 && a->parse == KT_PARSE_NONE && !a->has_name_time)
        problem(c, f, "files: give times, parse or name_time: a find needs a time");
}

/* SQLite databases: rows of a query, or the list of tables. */
static void parse_sqlite(ctx *c, yaml_node_t *q, kt_artifact *a)
{
    static const char *const keys[] = {"paths",    "type",   "deleted", "times",   "query",
                                       "encoding", "tables", "product", "version", NULL};
    check_keys(c, q, "sqlite", keys);
    parse_file_common(c, q, a);
    a->tables = get_bool(c, q, "tables", false);
    a->query = dup_scalar(c, q, "query", false, "sqlite");
    if ((a->query != NULL) == a->tables)
        problem(c, q, "sqlite: give either 'query' (rows) or 'tables: true'");
    if (a->query && strncasecmp(a->query, "select ", 7) != 0)
        problem(c, get(c, q, "query"), "sqlite: the query must be a SELECT");
    const char *enc = scalar(get(c, q, "encoding"));
    if (a->query) {
        if (enc && strcmp(enc, "filetime") == 0)
            a->column_encoding = KT_ENC_FILETIME;
        else if (enc && strcmp(enc, "unix") == 0)
            a->column_encoding = KT_ENC_UNIX;
        else
            problem(c, q, "sqlite: the time column's encoding must be filetime or unix");
    } else if (enc) {
        problem(c, get(c, q, "encoding"), "sqlite: 'encoding' is for a query's time column");
    }
    if (a->tables && a->nfile_times == 0)
        problem(c, q, "sqlite: tables need a file time to date them ('times')");
}

static const char *const pkg_format_names[KT_PKGF_COUNT] = {
    [KT_PKGF_DPKG_STATUS] = "dpkg-status", [KT_PKGF_DPKG_LOG] = "dpkg-log",
    [KT_PKGF_APT_HISTORY] = "apt-history", [KT_PKGF_RPMDB] = "rpmdb",
    [KT_PKGF_DNF_LOG] = "dnf-log",         [KT_PKGF_YUM_LOG] = "yum-log",
};

static const char *const pkg_action_names[KT_PKG_ACTION_COUNT] = {
    "state", "install", "upgrade", "downgrade", "reinstall", "remove", "purge",
};

/* Package databases and logs: the packages whose names match, each action
 * with what it means. */
static void parse_packages(ctx *c, yaml_node_t *pk, kt_artifact *a)
{
    static const char *const keys[] = {"format",  "paths",   "deleted", "names",
                                       "actions", "product", "version", NULL};
    check_keys(c, pk, "packages", keys);
    get_paths(c, pk, a, "packages");
    a->type = 1;
    a->deleted = get_bool(c, pk, "deleted", false);
    const char *fmt = scalar(get(c, pk, "format"));
    bool known = false;
    for (int i = 0; fmt && i < KT_PKGF_COUNT && !known; i++)
        if (strcmp(fmt, pkg_format_names[i]) == 0) {
            a->pkg_format = (kt_pkg_format)i;
            known = true;
        }
    if (!known)
        problem(c, get(c, pk, "format") ? get(c, pk, "format") : pk,
                "packages: format must be dpkg-status, dpkg-log, apt-history, rpmdb, dnf-log or "
                "yum-log");
    get_strings(c, pk, "names", &a->pkg_names, true, "packages");
    yaml_node_t *acts = get(c, pk, "actions");
    if (acts == NULL || acts->type != YAML_MAPPING_NODE) {
        problem(c, acts ? acts : pk, "packages: 'actions' maps actions to categories");
    } else {
        for (yaml_node_pair_t *p = acts->data.mapping.pairs.start; p < acts->data.mapping.pairs.top;
             p++) {
            const char *k = scalar(yaml_document_get_node(c->doc, p->key));
            int which = -1;
            for (int i = 0; k && i < KT_PKG_ACTION_COUNT; i++)
                if (strcmp(k, pkg_action_names[i]) == 0)
                    which = i;
            if (which < 0) {
                problem(c, acts,
                        "packages: unknown action '%s' (state, install, upgrade, downgrade, "
                        "reinstall, remove, purge)",
                        k ? k : "?");
                continue;
            }
            if (parse_category(c, yaml_document_get_node(c->doc, p->value),
                               &a->pkg_action[which]) == 0)
                a->pkg_action_set[which] = true;
        }
    }
    parse_name_rule(c, get(c, pk, "product"), &a->product, false);
    parse_name_rule(c, get(c, pk, "version"), &a->version, false);
}

static void parse_where(ctx *c, yaml_node_t *w, kt_artifact *a, const char *what);

/* Property lists: each dictionary (of a root array, or the root) a record. */
static void parse_plist(ctx *c, yaml_node_t *pl, kt_artifact *a)
{
    static const char *const keys[] = {"paths",   "deleted", "where", "time",
                                       "product", "version", NULL};
    check_keys(c, pl, "plist", keys);
    get_paths(c, pl, a, "plist");
    a->type = 1;
    a->deleted = get_bool(c, pl, "deleted", false);
    parse_where(c, get(c, pl, "where"), a, "plist");
    a->plist_time_key = dup_scalar(c, pl, "time", true, "plist");
    parse_name_rule(c, get(c, pl, "product"), &a->product, true);
    parse_name_rule(c, get(c, pl, "version"), &a->version, true);
}

/* Windows Prefetch files: every stored run time. */
static void parse_prefetch(ctx *c, yaml_node_t *pf, kt_artifact *a)
{
    static const char *const keys[] = {"paths", "deleted", "product", "version", NULL};
    check_keys(c, pf, "prefetch", keys);
    parse_file_common(c, pf, a);
    a->type = 1;
}

static void parse_where(ctx *c, yaml_node_t *w, kt_artifact *a, const char *what)
{
    if (w == NULL)
        return;
    if (w->type != YAML_MAPPING_NODE) {
        problem(c, w, "%s: 'where' maps names to globs", what);
        return;
    }
    size_t n = (size_t)(w->data.mapping.pairs.top - w->data.mapping.pairs.start);
    a->where = calloc(n ? n : 1, sizeof *a->where);
    for (yaml_node_pair_t *p = w->data.mapping.pairs.start;
         a->where && p < w->data.mapping.pairs.top; p++) {
        kt_where *wh = &a->where[a->nwhere++];
        const char *k = scalar(yaml_document_get_node(c->doc, p->key));
        wh->value = strdup(k ? k : "");
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (v && v->type == YAML_SCALAR_NODE)
            kt_strlist_add(&wh->globs, (char *)v->data.scalar.value);
        else if (v && v->type == YAML_SEQUENCE_NODE)
            for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
                 i++)
                if (scalar(yaml_document_get_node(c->doc, *i)))
                    kt_strlist_add(&wh->globs, scalar(yaml_document_get_node(c->doc, *i)));
        if (wh->globs.count == 0)
            problem(c, v, "%s: where '%s' has no glob", what, wh->value);
    }
}

static void parse_evtx(ctx *c, yaml_node_t *ev, kt_artifact *a)
{
    static const char *const keys[] = {"paths",   "deleted", "providers", "events", "where",
                                       "product", "version", "time",      NULL};
    check_keys(c, ev, "evtx", keys);
    get_paths(c, ev, a, "evtx");
    a->deleted = get_bool(c, ev, "deleted", false);
    get_strings(c, ev, "providers", &a->providers, true, "evtx");
    yaml_node_t *es = get(c, ev, "events");
    if (es == NULL || es->type != YAML_SEQUENCE_NODE) {
        problem(c, es ? es : ev, "evtx: 'events' must list the event ids");
    } else {
        size_t n = (size_t)(es->data.sequence.items.top - es->data.sequence.items.start);
        a->events = calloc(n ? n : 1, sizeof *a->events);
        for (yaml_node_item_t *i = es->data.sequence.items.start;
             a->events && i < es->data.sequence.items.top; i++) {
            yaml_node_t *en = yaml_document_get_node(c->doc, *i);
            const char *id = scalar(en) ? scalar(en) : scalar(get(c, en, "id"));
            char *end = NULL;
            unsigned long v = id ? strtoul(id, &end, 10) : 0;
            if (id == NULL || *end || v > 0xFFFFFFFFul) {
                problem(c, en, "evtx: event id must be a number");
                continue;
            }
            kt_evtx_event *e = &a->events[a->nevents++];
            e->id = (uint32_t)v;
            if (en->type == YAML_MAPPING_NODE && get(c, en, "category"))
                e->category_set = parse_category(c, get(c, en, "category"), &e->category) == 0;
        }
    }
    parse_where(c, get(c, ev, "where"), a, "evtx");
    for (size_t w = 0; w < a->nwhere; w++) {
        char *end = NULL;
        strtoul(a->where[w].value, &end, 10);
        if (!a->where[w].value[0] || *end)
            problem(c, get(c, ev, "where"), "evtx: where keys are EventData indexes (0, 1, ...)");
    }
    parse_name_rule(c, get(c, ev, "product"), &a->product, false);
    parse_name_rule(c, get(c, ev, "version"), &a->version, false);
    yaml_node_t *tn = get(c, ev, "time");
    if (tn) {
        static const char *const tkeys[] = {"string", "regex", "pattern", "zone", NULL};
        check_keys(c, tn, "evtx time", tkeys);
        const char *v = scalar(get(c, tn, "string"));
        char *end = NULL;
        long k = v ? strtol(v, &end, 10) : -1;
        if (v == NULL || *end || k < 0 || k > 255)
            problem(c, tn, "evtx time: 'string' must be an EventData index from 0 to 255");
        a->string_time_index = (int)k;
        const char *re = scalar(get(c, tn, "regex"));
        if (re == NULL)
            problem(c, tn, "evtx time: 'regex' is required (group 1 is the time)");
        else
            a->has_string_time = compile_regex(c, tn, re, &a->string_time_regex);
        parse_pattern(c, tn, "evtx time", &a->string_time, 0);
    }
}

static void parse_artifact(ctx *c, yaml_node_t *n, kt_artifact *a)
{
    static const char *const keys[] = {"id",       "description", "vendor",     "os",
                                       "category", "role",        "confidence", "removal_method",
                                       "registry", "files",       "evtx",       "sqlite",
                                       "prefetch", "packages",    "plist",      "installer_record",
                                       "ksn",      NULL};
    check_keys(c, n, "artifact", keys);
    a->file = strdup(c->file);
    a->line = (int)n->start_mark.line + 1;
    a->id = dup_scalar(c, n, "id", true, "artifact");
    a->description = dup_scalar(c, n, "description", true, "artifact");
    a->vendor = dup_scalar(c, n, "vendor", false, "artifact");
    if (a->vendor == NULL && c->vendor)
        a->vendor = strdup(c->vendor);
    if (a->vendor == NULL)
        problem(c, n, "artifact '%s': no vendor (set it here or at the top of the file)",
                a->id ? a->id : "?");
    a->os = dup_scalar(c, n, "os", true, "artifact");
    if (a->os && strcmp(a->os, "windows") && strcmp(a->os, "linux") && strcmp(a->os, "macos"))
        problem(c, get(c, n, "os"), "artifact: os must be windows, linux or macos");
    if (get(c, n, "category") == NULL)
        problem(c, n, "artifact '%s': 'category' is required", a->id ? a->id : "?");
    else
        parse_category(c, get(c, n, "category"), &a->category);
    const char *role = scalar(get(c, n, "role"));
    if (role == NULL || strcmp(role, "none") == 0)
        a->role = KT_ROLE_NONE;
    else if (strcmp(role, "registration") == 0)
        a->role = KT_ROLE_REGISTRATION;
    else if (strcmp(role, "program") == 0)
        a->role = KT_ROLE_PROGRAM;
    else if (strcmp(role, "residue") == 0)
        a->role = KT_ROLE_RESIDUE;
    else
        problem(c, get(c, n, "role"),
                "artifact: role must be registration, program, residue or none");
    a->confidence = dup_scalar(c, n, "confidence", false, "artifact");
    if (a->confidence == NULL)
        a->confidence = strdup("medium");
    else if (strcmp(a->confidence, "high") && strcmp(a->confidence, "medium") &&
             strcmp(a->confidence, "low"))
        problem(c, get(c, n, "confidence"), "artifact: confidence must be high, medium or low");
    a->removal_method = dup_scalar(c, n, "removal_method", false, "artifact");
    a->installer_record = get_bool(c, n, "installer_record", false);
    const char *ksn = scalar(get(c, n, "ksn"));
    if (ksn && strcmp(ksn, "disabled") == 0)
        a->ksn_disabled = true;
    else if (ksn && strcmp(ksn, "enabled") != 0)
        problem(c, get(c, n, "ksn"), "artifact: ksn must be enabled (the default) or disabled");
    static const struct {
        const char *key;
        kt_source source;
        void (*parse)(ctx *, yaml_node_t *, kt_artifact *);
    } sources[] = {
        {"registry", KT_SRC_REGISTRY, parse_registry},
        {"files", KT_SRC_FILES, parse_files},
        {"evtx", KT_SRC_EVTX, parse_evtx},
        {"sqlite", KT_SRC_SQLITE, parse_sqlite},
        {"prefetch", KT_SRC_PREFETCH, parse_prefetch},
        {"packages", KT_SRC_PACKAGES, parse_packages},
        {"plist", KT_SRC_PLIST, parse_plist},
    };
    size_t given = 0, which = 0;
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
        if (get(c, n, sources[i].key)) {
            given++;
            which = i;
        }
    if (given != 1) {
        problem(c, n,
                "artifact '%s': give exactly one of 'registry', 'files', 'evtx', 'sqlite', "
                "'prefetch', 'packages' or 'plist'",
                a->id ? a->id : "?");
        return;
    }
    a->source = sources[which].source;
    sources[which].parse(c, get(c, n, sources[which].key), a);
}

static void parse_product(ctx *c, yaml_node_t *n, kt_product_def *p)
{
    static const char *const keys[] = {
        "id", "name", "vendor", "match", "primary", "migration_target", "os", NULL};
    check_keys(c, n, "product", keys);
    p->os = dup_scalar(c, n, "os", false, "product");
    if (p->os && strcmp(p->os, "windows") && strcmp(p->os, "linux") && strcmp(p->os, "macos"))
        problem(c, get(c, n, "os"), "product: os must be windows, linux or macos");
    p->file = strdup(c->file);
    p->line = (int)n->start_mark.line + 1;
    p->id = dup_scalar(c, n, "id", true, "product");
    p->name = dup_scalar(c, n, "name", true, "product");
    p->vendor = dup_scalar(c, n, "vendor", false, "product");
    if (p->vendor == NULL && c->vendor)
        p->vendor = strdup(c->vendor);
    if (p->vendor == NULL)
        problem(c, n, "product: no vendor");
    get_strings(c, n, "match", &p->match, true, "product");
    p->primary = get_bool(c, n, "primary", false);
    p->migration_target = get_bool(c, n, "migration_target", false);
}

static void parse_milestone(ctx *c, yaml_node_t *n, kt_milestone *m)
{
    static const char *const keys[] = {"id", "time", "date", "meaning", NULL};
    check_keys(c, n, "milestone", keys);
    m->id = dup_scalar(c, n, "id", true, "milestone");
    m->meaning = dup_scalar(c, n, "meaning", false, "milestone");
    const char *t = scalar(get(c, n, "time")), *d = scalar(get(c, n, "date"));
    m->date_only = t == NULL;
    if ((t == NULL) == (d == NULL) || kt_time_parse_iso(t ? t : d, &m->time) != 0 ||
        (d && strlen(d) != 10))
        problem(c, n, "milestone '%s': give 'time' (ISO 8601 UTC, 'Z') or 'date' (YYYY-MM-DD)",
                m->id ? m->id : "?");
}

#define GROW(arr, n, what)                                                                         \
    do {                                                                                           \
        void *p_ = realloc((arr), ((n) + 1) * sizeof *(arr));                                      \
        if (p_ == NULL)                                                                            \
            return KT_ENOMEM;                                                                      \
        (arr) = p_;                                                                                \
        memset(&(arr)[(n)], 0, sizeof *(arr));                                                     \
    } while (0)

static int load_file(const char *path, kt_artifact_set *set, kt_strlist *problems)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        kt_strlist_addf(problems, "%s:0: cannot open", path);
        return KT_OK;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    int rc = KT_OK;
    if (!yaml_parser_load(&parser, &doc)) {
        kt_strlist_addf(problems, "%s:%lu: YAML: %s", path,
                        (unsigned long)parser.problem_mark.line + 1,
                        parser.problem ? parser.problem : "parse error");
        yaml_parser_delete(&parser);
        fclose(f);
        return KT_OK;
    }
    ctx c = {.doc = &doc, .file = path, .problems = problems};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root == NULL)
        goto out; /* an empty file */
    if (root->type != YAML_MAPPING_NODE) {
        problem(&c, root, "the top level must be a mapping");
        goto out;
    }
    static const char *const keys[] = {"vendor", "products", "artifacts", "milestones", NULL};
    check_keys(&c, root, "file", keys);
    c.vendor = scalar(get(&c, root, "vendor"));
    const char *sections[] = {"products", "artifacts", "milestones"};
    for (int s = 0; s < 3; s++) {
        yaml_node_t *seq = get(&c, root, sections[s]);
        if (seq == NULL)
            continue;
        if (seq->type != YAML_SEQUENCE_NODE) {
            problem(&c, seq, "'%s' must be a list", sections[s]);
            continue;
        }
        for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top;
             i++) {
            yaml_node_t *n = yaml_document_get_node(&doc, *i);
            if (n == NULL || n->type != YAML_MAPPING_NODE) {
                problem(&c, n, "each of '%s' must be a mapping", sections[s]);
                continue;
            }
            if (set->nproducts + set->nartifacts + set->nmilestones >= KT_ARTIFACTS_MAX_ITEMS) {
                problem(&c, n, "more than %d definitions", KT_ARTIFACTS_MAX_ITEMS);
                goto out;
            }
            if (s == 0) {
                GROW(set->products, set->nproducts, "product");
                parse_product(&c, n, &set->products[set->nproducts++]);
            } else if (s == 1) {
                GROW(set->artifacts, set->nartifacts, "artifact");
                parse_artifact(&c, n, &set->artifacts[set->nartifacts++]);
            } else {
                GROW(set->milestones, set->nmilestones, "milestone");
                parse_milestone(&c, n, &set->milestones[set->nmilestones++]);
            }
        }
    }
out:
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* All *.yaml / *.yml files under dir, sorted, into files. */
static int find_files(const char *dir, kt_strlist *files, int depth)
{
    if (depth > 8)
        return KT_OK;
    DIR *d = opendir(dir);
    if (d == NULL)
        return KT_ENOTFOUND;
    kt_strlist names = {0};
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            kt_strlist_add(&names, de->d_name);
    closedir(d);
    if (names.count)
        qsort(names.items, names.count, sizeof *names.items, name_cmp);
    for (size_t i = 0; i < names.count && files->count < KT_ARTIFACTS_MAX_FILES; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names.items[i]);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        size_t n = strlen(names.items[i]);
        if (S_ISDIR(st.st_mode))
            find_files(path, files, depth + 1);
        else if ((n > 5 && strcmp(names.items[i] + n - 5, ".yaml") == 0) ||
                 (n > 4 && strcmp(names.items[i] + n - 4, ".yml") == 0))
            kt_strlist_add(files, path);
    }
    kt_strlist_release(&names);
    return KT_OK;
}

static int milestone_cmp(const void *a, const void *b)
{
    const kt_milestone *x = a, *y = b;
    return x->time < y->time ? -1 : x->time > y->time;
}

int kt_artifacts_load(const char *dir, kt_artifact_set *set, kt_strlist *problems, kt_error *err)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return kt_error_set(err, KT_ENOTFOUND, "artifact definitions '%s': not a directory", dir);
    find_files(dir, &set->files, 0);
    if (set->files.count == 0)
        return kt_error_set(err, KT_ENOTFOUND, "artifact definitions '%s': no *.yaml files", dir);
    size_t before = problems->count;
    for (size_t i = 0; i < set->files.count; i++) {
        int rc = load_file(set->files.items[i], set, problems);
        if (rc)
            return kt_error_set(err, rc, "out of memory");
    }
    /* Cross-checks: unique ids, products that exist. */
    for (size_t i = 0; i < set->nartifacts; i++)
        for (size_t j = i + 1; j < set->nartifacts; j++)
            if (set->artifacts[i].id && set->artifacts[j].id &&
                strcmp(set->artifacts[i].id, set->artifacts[j].id) == 0)
                kt_strlist_addf(problems, "%s:%d: artifact id '%s' already used at %s:%d",
                                set->artifacts[j].file, set->artifacts[j].line,
                                set->artifacts[j].id, set->artifacts[i].file,
                                set->artifacts[i].line);
    for (size_t i = 0; i < set->nproducts; i++)
        for (size_t j = i + 1; j < set->nproducts; j++)
            if (set->products[i].id && set->products[j].id &&
                strcmp(set->products[i].id, set->products[j].id) == 0)
                kt_strlist_addf(problems, "%s:%d: product id '%s' already used",
                                set->products[j].file, set->products[j].line, set->products[j].id);
    for (size_t i = 0; i < set->nmilestones; i++)
        for (size_t j = i + 1; j < set->nmilestones; j++)
            if (set->milestones[i].id && set->milestones[j].id &&
                strcmp(set->milestones[i].id, set->milestones[j].id) == 0)
                kt_strlist_addf(problems, "milestone id '%s' defined twice", set->milestones[i].id);
    if (set->nmilestones > 1)
        qsort(set->milestones, set->nmilestones, sizeof *set->milestones, milestone_cmp);
    if (problems->count > before)
        return kt_error_set(err, KT_EFORMAT, "artifact definitions '%s': %zu problem(s)", dir,
                            problems->count - before);
    return KT_OK;
}

static void name_rule_release(kt_name_rule *r)
{
    free(r->text);
    if (r->has_regex)
        regfree(&r->regex);
}

void kt_artifact_set_release(kt_artifact_set *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->nartifacts; i++) {
        kt_artifact *a = &set->artifacts[i];
        free(a->id);
        free(a->description);
        free(a->vendor);
        free(a->os);
        free(a->confidence);
        free(a->removal_method);
        free(a->file);
        free(a->hive);
        kt_strlist_release(&a->keys);
        for (size_t w = 0; w < a->nwhere; w++) {
            free(a->where[w].value);
            kt_strlist_release(&a->where[w].globs);
        }
        free(a->where);
        for (size_t t = 0; t < a->ntimes; t++) {
            free(a->times[t].value);
            free(a->times[t].pattern.pattern);
        }
        free(a->times);
        kt_strlist_release(&a->paths);
        free(a->file_times);
        if (a->has_parse_regex)
            regfree(&a->parse_regex);
        kt_strlist_release(&a->attributes);
        free(a->parse_time.pattern);
        if (a->has_name_time)
            regfree(&a->name_regex);
        free(a->name_time.pattern);
        kt_strlist_release(&a->providers);
        free(a->events);
        if (a->has_string_time)
            regfree(&a->string_time_regex);
        free(a->string_time.pattern);
        free(a->query);
        if (a->has_content_regex)
            regfree(&a->content_regex);
        kt_strlist_release(&a->pkg_names);
        free(a->plist_time_key);
        name_rule_release(&a->product);
        name_rule_release(&a->version);
    }
    free(set->artifacts);
    for (size_t i = 0; i < set->nproducts; i++) {
        free(set->products[i].id);
        free(set->products[i].vendor);
        free(set->products[i].os);
        free(set->products[i].name);
        free(set->products[i].file);
        kt_strlist_release(&set->products[i].match);
    }
    free(set->products);
    for (size_t i = 0; i < set->nmilestones; i++) {
        free(set->milestones[i].id);
        free(set->milestones[i].meaning);
    }
    free(set->milestones);
    kt_strlist_release(&set->files);
    memset(set, 0, sizeof *set);
}

const kt_product_def *kt_artifacts_product_for(const kt_artifact_set *set, const char *vendor,
                                               const char *name)
{
    return kt_artifacts_product_for_os(set, vendor, NULL, name);
}

const kt_product_def *kt_artifacts_product_for_os(const kt_artifact_set *set, const char *vendor,
                                                  const char *os, const char *name)
{
    if (name == NULL || !name[0])
        return NULL;
    for (size_t i = 0; i < set->nproducts; i++) {
        const kt_product_def *p = &set->products[i];
        if (vendor && p->vendor && strcmp(vendor, p->vendor) != 0)
            continue;
        if (p->os && (os == NULL || strcmp(p->os, os) != 0))
            continue;
        for (size_t m = 0; m < p->match.count; m++)
            if (fnmatch(p->match.items[m], name, FNM_CASEFOLD) == 0)
                return p;
    }
    return NULL;
}

const kt_product_def *kt_artifacts_product(const kt_artifact_set *set, const char *id)
{
    for (size_t i = 0; id && i < set->nproducts; i++)
        if (set->products[i].id && strcmp(set->products[i].id, id) == 0)
            return &set->products[i];
    return NULL;
}

const kt_milestone *kt_artifacts_milestone(const kt_artifact_set *set, const char *id)
{
    for (size_t i = 0; i < set->nmilestones; i++)
        if (set->milestones[i].id && strcmp(set->milestones[i].id, id) == 0)
            return &set->milestones[i];
    return NULL;
}
