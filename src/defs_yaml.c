/* Reading definitions: checked access to a libyaml document, and the
 * pieces every source's definition shares (paths, where, patterns,
 * product and version rules). Every problem names FILE:LINE. */
#include <ctype.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defs.h"
#include "kavtrace/alloc.h"

void defs_problem(kt_defs *c, const yaml_node_t *n, const char *fmt, ...)
{
    if (++c->nproblems > KT_DEFS_MAX_PROBLEMS + 1)
        return;
    int rc;
    if (c->nproblems > KT_DEFS_MAX_PROBLEMS) {
        rc = kt_strlist_addf(c->problems, "%s:%lu: more than %d problems: the rest left out",
                             c->file, n ? (unsigned long)n->start_mark.line + 1 : 0,
                             KT_DEFS_MAX_PROBLEMS);
    } else {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        rc = kt_strlist_addf(c->problems, "%s:%lu: %s", c->file,
                             n ? (unsigned long)n->start_mark.line + 1 : 0, msg);
    }
    if (rc != KT_OK)
        c->rc = KT_ENOMEM; /* a problem that cannot be told fails the load all the same */
}

void *defs_calloc(kt_defs *c, size_t n, size_t size)
{
    void *p = kt_calloc(n, size);
    if (p == NULL)
        c->rc = KT_ENOMEM;
    return p;
}

char *defs_strdup(kt_defs *c, const char *s)
{
    char *d = kt_strdup(s);
    if (d == NULL && s != NULL)
        c->rc = KT_ENOMEM;
    return d;
}

bool defs_add(kt_defs *c, kt_strlist *l, const char *s)
{
    if (kt_strlist_add(l, s) != KT_OK) {
        c->rc = KT_ENOMEM;
        return false;
    }
    return true;
}

yaml_node_t *defs_get(kt_defs *c, yaml_node_t *map, const char *key)
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
void defs_check_keys(kt_defs *c, yaml_node_t *map, const char *what, const char *const *allowed)
{
    if (map == NULL || map->type != YAML_MAPPING_NODE)
        return;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        if (k == NULL || k->type != YAML_SCALAR_NODE)
            continue; /* defs_check_document refused the file */
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, (char *)k->data.scalar.value) == 0;
        if (!ok)
            defs_problem(c, k, "%s: unknown key '%s'", what, (char *)k->data.scalar.value);
    }
}

const char *defs_scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

const char *defs_str(kt_defs *c, yaml_node_t *map, const char *key, const char *what)
{
    yaml_node_t *n = defs_get(c, map, key);
    if (n && n->type != YAML_SCALAR_NODE)
        defs_problem(c, n, "%s: '%s' must be a string", what, key);
    return defs_scalar(n);
}

char *defs_dup(kt_defs *c, yaml_node_t *map, const char *key, bool required, const char *what)
{
    yaml_node_t *n = defs_get(c, map, key);
    const char *s = defs_scalar(n);
    if (n && s == NULL)
        defs_problem(c, n, "%s: '%s' must be a string", what, key);
    if (s == NULL) {
        if (required && n == NULL)
            defs_problem(c, map, "%s: '%s' is required", what, key);
        return NULL;
    }
    return defs_strdup(c, s);
}

bool defs_bool(kt_defs *c, yaml_node_t *map, const char *key, bool dflt)
{
    yaml_node_t *n = defs_get(c, map, key);
    if (n == NULL)
        return dflt;
    const char *s = defs_scalar(n);
    if (s && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0))
        return true;
    if (s && (strcmp(s, "false") == 0 || strcmp(s, "no") == 0))
        return false;
    defs_problem(c, n, "'%s' must be true or false", key);
    return dflt;
}

bool defs_pattern_length(kt_defs *c, yaml_node_t *n, const char *s, const char *what)
{
    if (strlen(s) <= KT_ARTIFACTS_MAX_PATTERN)
        return true;
    defs_problem(c, n, "%s: '%.40s...' is longer than %d bytes", what, s, KT_ARTIFACTS_MAX_PATTERN);
    return false;
}

static void counted(kt_defs *c)
{
    if (c->npatterns)
        (*c->npatterns)++;
}

/* A string or a list of strings, appended to out. */
void defs_strings(kt_defs *c, yaml_node_t *map, const char *key, kt_strlist *out, bool required,
                  const char *what)
{
    yaml_node_t *n = defs_get(c, map, key);
    if (n == NULL) {
        if (required)
            defs_problem(c, map, "%s: '%s' is required", what, key);
        return;
    }
    if (n->type == YAML_SCALAR_NODE) {
        const char *s = (char *)n->data.scalar.value;
        if (defs_pattern_length(c, n, s, what) && defs_add(c, out, s))
            counted(c);
        return;
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        defs_problem(c, n, "%s: '%s' must be a string or a list of strings", what, key);
        return;
    }
    bool refused = false;
    for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, *i);
        const char *s = defs_scalar(item);
        if (s == NULL) {
            defs_problem(c, item ? item : n, "%s: '%s' must hold strings only", what, key);
            refused = true;
        } else if (!defs_pattern_length(c, item, s, what)) {
            refused = true;
        } else if (defs_add(c, out, s)) {
            counted(c);
        }
    }
    if (required && out->count == 0 && !refused)
        defs_problem(c, n, "%s: '%s' is empty", what, key);
}

/* `paths` of a file-based source: relative to the volume root, never
 * climbing out of it. */
void defs_paths(kt_defs *c, yaml_node_t *map, kt_strlist *paths, const char *what)
{
    defs_strings(c, map, "paths", paths, true, what);
    for (size_t i = 0; i < paths->count; i++) {
        const char *p = paths->items[i];
        if (p[0] == '/' || strstr(p, ".."))
            defs_problem(c, defs_get(c, map, "paths"),
                         "%s: path '%s' must be relative, without '..'", what, p);
        /* "**" is a whole component, once: any run of directories */
        const char *any = strstr(p, "**");
        bool whole = any == NULL || ((any == p || any[-1] == '/') && (any[2] == '/' || !any[2]) &&
                                     strstr(any + 2, "**") == NULL);
        if (!whole)
            defs_problem(c, defs_get(c, map, "paths"),
                         "%s: path '%s': '**' stands alone between slashes, once a path", what, p);
    }
}

int defs_category(kt_defs *c, yaml_node_t *n, kt_category *out)
{
    const char *s = defs_scalar(n);
    for (int i = 0; s && i < KT_CAT_COUNT; i++) {
        if (strcmp(s, kt_category_name((kt_category)i)) == 0) {
            *out = (kt_category)i;
            return 0;
        }
    }
    defs_problem(c, n,
                 "unknown category '%s' (install, signature_update, codebase_update, ksn, "
                 "removal, execution, detection, presence, migration, config, update)",
                 s ? s : "?");
    return -1;
}

static size_t sat_add(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t sat_mul(size_t a, size_t b)
{
    return b && a > SIZE_MAX / b ? SIZE_MAX : a * b;
}

/* How many positions glibc's regcomp builds for an extended regex, about:
 * it copies an atom once for each repeat an interval allows ("a{3}" is
 * "aaa"; "+" is the atom then "*"), nested intervals multiplying, so 22
 * bytes ("((a{200}){200}){200}") can take gigabytes and half a minute.
 * re is at most KT_ARTIFACTS_MAX_PATTERN bytes. */
static size_t regex_size(const char *re)
{
    size_t sum[KT_ARTIFACTS_MAX_PATTERN + 2] = {0}; /* each open group's positions */
    size_t depth = 0, last = 0;                     /* the last atom's positions */
    for (const char *p = re; *p; p++) {
        size_t atom = 1, times = 0;
        switch (*p) {
        case '(':
            if (depth + 1 < sizeof sum / sizeof sum[0])
                sum[++depth] = 0;
            last = 0;
            continue;
        case ')':
            if (depth == 0)
                break;
            atom = sum[depth--];
            break;
        case '|':
            last = 0;
            continue;
        case '*':
        case '?':
            continue;
        case '+':
            times = 2;
            break;
        case '{': {
            char *end;
            unsigned long m = strtoul(p + 1, &end, 10), n = m;
            if (*end == ',' && isdigit((unsigned char)end[1])) {
                n = strtoul(end + 1, &end, 10);
            } else if (*end == ',') {
                end++;
                n = m + 1; /* {m,}: m copies, then a star */
            }
            if (*end != '}')
                break; /* regcomp says what is wrong */
            times = n > m ? n : m;
            p = end;
            break;
        }
        case '[':
            /* one position, whatever the bracket holds */
            if (p[1] == '^')
                p++;
            if (p[1] == ']')
                p++;
            while (p[1] && p[1] != ']') {
                p++;
                if (p[0] == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
                    const char *close = strchr(p + 2, p[1]);
                    while (close && close[1] != ']')
                        close = strchr(close + 1, p[1]);
                    if (close == NULL)
                        break;
                    p = close + 1;
                }
            }
            if (p[1])
                p++;
            break;
        case '\\':
            if (p[1])
                p++;
            break;
        default:
            break;
        }
        if (times) {
            /* the last atom, times over */
            sum[depth] = sat_add(sum[depth], sat_mul(last, times - 1));
            last = sat_mul(last, times);
        } else {
            sum[depth] = sat_add(sum[depth], atom);
            last = atom;
        }
    }
    while (depth > 0) {
        sum[depth - 1] = sat_add(sum[depth - 1], sum[depth]);
        depth--;
    }
    return sum[0];
}

/* Compile re with flags after the checks every definition regex has. */
static bool compile(kt_defs *c, yaml_node_t *n, const char *re, int flags, const char *what,
                    bool count, regex_t *out)
{
    if (!defs_pattern_length(c, n, re, what))
        return false;
    for (const char *p = re; *p; p++) {
        if (*p != '\\')
            continue;
        if (p[1] >= '1' && p[1] <= '9') {
            defs_problem(c, n,
                         "%s '%s': backreference '\\%c' (not allowed: matching one takes "
                         "exponential time on some text)",
                         what, re, p[1]);
            return false;
        }
        if (p[1])
            p++; /* an escaped character, "\\\\" too */
    }
    size_t size = regex_size(re);
    if (size > KT_ARTIFACTS_MAX_REGEX_SIZE) {
        defs_problem(c, n,
                     "%s '%s': its repeats written out are more than %d positions (nested "
                     "{n,m} multiply)",
                     what, re, KT_ARTIFACTS_MAX_REGEX_SIZE);
        return false;
    }
    int rc = regcomp(out, re, flags);
    if (rc != 0) {
        char msg[256];
        regerror(rc, out, msg, sizeof msg);
        defs_problem(c, n, "bad %s '%s': %s", what, re, msg);
        return false;
    }
    if (count)
        counted(c);
    return true;
}

bool defs_regex(kt_defs *c, yaml_node_t *n, const char *re, regex_t *out)
{
    if (!compile(c, n, re, REG_EXTENDED | REG_ICASE, "regex", true, out))
        return false;
    if (out->re_nsub < 1) {
        defs_problem(c, n, "regex '%s' needs a capture group", re);
        regfree(out);
        return false;
    }
    return true;
}

bool defs_content_regex(kt_defs *c, yaml_node_t *n, const char *re, regex_t *out)
{
    /* counted as one of the strings of `content` */
    return compile(c, n, re, REG_EXTENDED | REG_ICASE | REG_NEWLINE | REG_NOSUB, "content regex",
                   false, out);
}

void defs_pattern(kt_defs *c, yaml_node_t *map, const char *what, kt_time_pattern *tp, int allow)
{
    tp->pattern = defs_dup(c, map, "pattern", true, what);
    if (tp->pattern && !defs_pattern_length(c, defs_get(c, map, "pattern"), tp->pattern, what)) {
        kt_free(tp->pattern);
        tp->pattern = NULL;
    }
    if (tp->pattern && kt_time_pattern_compile(tp) != 0)
        defs_problem(
            c, defs_get(c, map, "pattern"),
            "%s: pattern '%s' needs %%Y, %%m and %%d (or, with a date from elsewhere, only a "
            "time) and only %%H %%M %%S %%f, %%I with %%p, or %%-m %%-d %%-H %%-I besides; or "
            "%%s (Unix seconds) alone",
            what, tp->pattern);
    else if (tp->pattern && tp->time_only && !(allow & PATTERN_TIME_ONLY))
        defs_problem(c, defs_get(c, map, "pattern"), "%s: pattern '%s' has no date (%%Y, %%m, %%d)",
                     what, tp->pattern);
    else if (tp->pattern && tp->no_year && !(allow & PATTERN_NO_YEAR))
        defs_problem(c, defs_get(c, map, "pattern"), "%s: pattern '%s' has no year (%%Y)", what,
                     tp->pattern);
    else if (tp->pattern)
        counted(c);
    const char *zone = defs_str(c, map, "zone", what);
    if (zone == NULL || strcmp(zone, "utc") == 0)
        tp->local = false;
    else if (strcmp(zone, "local") == 0)
        tp->local = true;
    else
        defs_problem(c, defs_get(c, map, "zone"), "%s: zone must be utc or local", what);
}

void defs_name_rule(kt_defs *c, yaml_node_t *n, kt_name_rule *r, bool registry)
{
    if (n == NULL)
        return;
    if (n->type == YAML_SCALAR_NODE) {
        r->from = KT_NAME_FIXED;
        r->text = defs_strdup(c, (char *)n->data.scalar.value);
        return;
    }
    if (n->type != YAML_MAPPING_NODE) {
        defs_problem(c, n, "product/version: a string or a mapping");
        return;
    }
    static const char *const keys[] = {"fixed",  "value",   "key",   "component", "string", "group",
                                       "column", "package", "regex", "map",       "unless", NULL};
    defs_check_keys(c, n, "product/version", keys);
    if ((r->text = defs_dup(c, n, "fixed", false, "product/version")))
        r->from = KT_NAME_FIXED;
    else if (registry && (r->text = defs_dup(c, n, "value", false, "product/version")))
        r->from = KT_NAME_VALUE;
    else if (registry && defs_bool(c, n, "key", false))
        r->from = KT_NAME_KEY;
    else if (defs_bool(c, n, "package", false))
        r->from = KT_NAME_PACKAGE;
    else if (defs_get(c, n, "string") || defs_get(c, n, "component") || defs_get(c, n, "group") ||
             defs_get(c, n, "column")) {
        const char *key = defs_get(c, n, "string")   ? "string"
                          : defs_get(c, n, "group")  ? "group"
                          : defs_get(c, n, "column") ? "column"
                                                     : "component";
        r->from = key[0] == 's'                    ? KT_NAME_STRING
                  : key[0] == 'g'                  ? KT_NAME_GROUP
                  : key[1] == 'o' && key[2] == 'l' ? KT_NAME_COLUMN
                                                   : KT_NAME_COMPONENT;
        const char *v = defs_scalar(defs_get(c, n, key));
        char *end = NULL;
        long k = v ? strtol(v, &end, 10) : 0;
        if (v == NULL || *end || k < -64 || k > 255)
            defs_problem(c, n, "product/version: %s must be a number from -64 to 255", key);
        else
            r->component = (int)k;
    } else
        defs_problem(c, n, "product/version: give fixed, %scomponent, string, group or column",
                     registry ? "value, key, " : "");
    const char *re = defs_str(c, n, "regex", "product/version");
    if (re)
        r->has_regex = defs_regex(c, defs_get(c, n, "regex"), re, &r->regex);
    defs_strings(c, n, "unless", &r->unless, false, "product/version");
    yaml_node_t *map = defs_get(c, n, "map");
    if (map && map->type != YAML_MAPPING_NODE) {
        defs_problem(c, map, "product/version: 'map' maps what was read to what it means");
    } else if (map) {
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
             p++) {
            const char *from = defs_scalar(yaml_document_get_node(c->doc, p->key));
            const char *to = defs_scalar(yaml_document_get_node(c->doc, p->value));
            if (from == NULL || to == NULL) {
                defs_problem(c, map, "product/version: 'map' holds strings only");
                continue;
            }
            if (!defs_add(c, &r->map_from, from) || !defs_add(c, &r->map_to, to))
                return;
        }
        if (r->map_from.count == 0)
            defs_problem(c, map, "product/version: 'map' is empty");
    }
}

void defs_where(kt_defs *c, yaml_node_t *w, kt_where **where, size_t *nwhere, const char *what,
                const char *names)
{
    if (w == NULL)
        return;
    if (w->type != YAML_MAPPING_NODE) {
        defs_problem(c, w, "%s: 'where' maps %s to globs", what, names);
        return;
    }
    size_t n = (size_t)(w->data.mapping.pairs.top - w->data.mapping.pairs.start);
    *where = defs_calloc(c, n ? n : 1, sizeof **where);
    for (yaml_node_pair_t *p = w->data.mapping.pairs.start; *where && p < w->data.mapping.pairs.top;
         p++) {
        kt_where *wh = &(*where)[*nwhere];
        const char *k = defs_scalar(yaml_document_get_node(c->doc, p->key));
        if ((wh->value = defs_strdup(c, k ? k : "")) == NULL)
            return;
        (*nwhere)++; /* only whole entries: a value is never NULL */
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        bool ok = true;
        if (v && v->type == YAML_SCALAR_NODE) {
            const char *s = (char *)v->data.scalar.value;
            if (defs_pattern_length(c, v, s, what) && defs_add(c, &wh->globs, s))
                counted(c);
        } else if (v && v->type == YAML_SEQUENCE_NODE) {
            for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
                 i++) {
                yaml_node_t *item = yaml_document_get_node(c->doc, *i);
                const char *s = defs_scalar(item);
                if (s == NULL)
                    ok = false;
                else if (defs_pattern_length(c, item, s, what) && defs_add(c, &wh->globs, s))
                    counted(c);
            }
        } else {
            ok = false;
        }
        if (!ok)
            defs_problem(c, v, "%s: where '%s': a glob or a list of globs", what, wh->value);
        else if (wh->globs.count == 0)
            defs_problem(c, v, "%s: where '%s' has no glob", what, wh->value);
        if (c->rc)
            return;
    }
}

void defs_where_release(kt_where *where, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        kt_free(where[i].value);
        kt_strlist_release(&where[i].globs);
    }
    kt_free(where);
}

void defs_name_rule_release(kt_name_rule *r)
{
    kt_strlist_release(&r->map_from);
    kt_strlist_release(&r->map_to);
    kt_strlist_release(&r->unless);
    kt_free(r->text);
    if (r->has_regex)
        regfree(&r->regex);
}

void defs_pattern_release(kt_time_pattern *tp)
{
    kt_free(tp->pattern);
}

bool defs_where_match(const kt_where *w, const char *v)
{
    for (size_t g = 0; g < w->globs.count; g++)
        if (fnmatch(w->globs.items[g], v, FNM_CASEFOLD) == 0)
            return true;
    return false;
}

/* ---- the document as a whole ---- */

typedef struct key_at {
    const char *key;
    const yaml_node_t *node;
} key_at;

static int key_cmp(const void *a, const void *b)
{
    const key_at *x = a, *y = b;
    int d = strcmp(x->key, y->key);
    if (d)
        return d;
    return (x->node->start_mark.index > y->node->start_mark.index) -
           (x->node->start_mark.index < y->node->start_mark.index);
}

/* Entries of a list or mapping (0 for a scalar). */
static size_t entries(const yaml_node_t *n)
{
    if (n->type == YAML_SEQUENCE_NODE)
        return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (n->type == YAML_MAPPING_NODE)
        return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    return 0;
}

/* The i-th child node id: a list's items; a mapping's keys and values. */
static size_t nchildren(const yaml_node_t *n)
{
    return n->type == YAML_MAPPING_NODE ? 2 * entries(n) : entries(n);
}

static int child(const yaml_node_t *n, size_t i)
{
    if (n->type == YAML_SEQUENCE_NODE)
        return n->data.sequence.items.start[i];
    const yaml_node_pair_t *p = &n->data.mapping.pairs.start[i / 2];
    return i % 2 ? p->value : p->key;
}

/* The keys of mapping n are strings, each given once (keys: room for
 * every key of n). libyaml keeps both of a duplicate; reading would take
 * the first and drop the other without a word. */
static void unique_keys(kt_defs *c, yaml_node_t *n, key_at *keys)
{
    size_t nk = 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        if (k == NULL || k->type != YAML_SCALAR_NODE) {
            defs_problem(c, k ? k : n, "a key must be a string, not a list or a mapping");
            continue;
        }
        keys[nk++] = (key_at){(const char *)k->data.scalar.value, k};
    }
    if (nk > 1)
        qsort(keys, nk, sizeof *keys, key_cmp);
    for (size_t i = 1; i < nk; i++)
        if (strcmp(keys[i - 1].key, keys[i].key) == 0)
            defs_problem(c, keys[i].node, "key '%s' given twice in one mapping (first at line %lu)",
                         keys[i].key, (unsigned long)keys[i - 1].node->start_mark.line + 1);
}

typedef struct frame {
    int id;
    size_t next;     /* the next child to visit */
    unsigned height; /* levels of lists and mappings from here down, so far */
} frame;

bool defs_check_document(kt_defs *c, yaml_node_t *const *sections, size_t nsections)
{
    yaml_document_t *d = c->doc;
    yaml_node_t *root = yaml_document_get_root_node(d);
    if (root == NULL)
        return true;
    size_t before = c->nproblems, n = (size_t)(d->nodes.top - d->nodes.start), maxpairs = 0;
    for (yaml_node_t *x = d->nodes.start; x < d->nodes.top; x++) {
        bool section = false;
        for (size_t s = 0; s < nsections; s++)
            section = section || sections[s] == x;
        if (entries(x) > KT_ARTIFACTS_MAX_LIST && !section)
            defs_problem(c, x, "a %s of %zu entries (at most %d)",
                         x->type == YAML_MAPPING_NODE ? "mapping" : "list", entries(x),
                         KT_ARTIFACTS_MAX_LIST);
        if (x->type == YAML_MAPPING_NODE && entries(x) > maxpairs)
            maxpairs = entries(x);
    }
    key_at *keys = defs_calloc(c, maxpairs ? maxpairs : 1, sizeof *keys);
    unsigned char *state = defs_calloc(c, n + 1, 1); /* 0 unseen, 1 open, 2 done */
    unsigned *height = defs_calloc(c, n + 1, sizeof *height);
    frame *stack = defs_calloc(c, n + 1, sizeof *stack);
    if (keys == NULL || state == NULL || height == NULL || stack == NULL)
        goto out;
    for (yaml_node_t *x = d->nodes.start; x < d->nodes.top; x++)
        if (x->type == YAML_MAPPING_NODE)
            unique_keys(c, x, keys);
    /* Depth first, each node once (an alias is a node reached twice): the
     * height of every node, and an alias inside the node it names. */
    bool loop = false;
    size_t top = 0;
    stack[top++] = (frame){.id = 1, .height = root->type == YAML_SCALAR_NODE ? 0 : 1};
    state[1] = 1;
    while (top) {
        frame *f = &stack[top - 1];
        yaml_node_t *x = yaml_document_get_node(d, f->id);
        if (f->next < nchildren(x)) {
            int ch = child(x, f->next++);
            if (ch < 1 || (size_t)ch > n)
                continue;
            if (state[ch] == 1) {
                defs_problem(c, x, "an alias inside the node it names (a loop)");
                loop = true;
            } else if (state[ch] == 2) {
                if (f->height < 1 + height[ch])
                    f->height = 1 + height[ch];
            } else {
                state[ch] = 1;
                yaml_node_t *y = yaml_document_get_node(d, ch);
                stack[top++] = (frame){.id = ch, .height = y->type == YAML_SCALAR_NODE ? 0 : 1};
            }
            continue;
        }
        height[f->id] = f->height;
        state[f->id] = 2;
        top--;
        if (top && stack[top - 1].height < 1 + height[f->id])
            stack[top - 1].height = 1 + height[f->id];
    }
    if (!loop && height[1] > KT_ARTIFACTS_MAX_NESTING) {
        /* Down the deepest branch to the first level past the limit. */
        int id = 1;
        for (unsigned level = 1; level <= KT_ARTIFACTS_MAX_NESTING; level++) {
            yaml_node_t *x = yaml_document_get_node(d, id);
            for (size_t i = 0; i < nchildren(x); i++)
                if (height[child(x, i)] + 1 == height[id]) {
                    id = child(x, i);
                    break;
                }
        }
        defs_problem(c, yaml_document_get_node(d, id),
                     "nested deeper than %d levels of lists and mappings",
                     KT_ARTIFACTS_MAX_NESTING);
    }
out:
    kt_free(keys);
    kt_free(state);
    kt_free(height);
    kt_free(stack);
    return c->nproblems == before && c->rc == KT_OK;
}
