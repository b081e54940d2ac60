/* Reading definitions: checked access to a libyaml document, and the
 * pieces every source's definition shares (paths, where, patterns,
 * product and version rules). Every problem names FILE:LINE. */
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defs.h"

void defs_problem(kt_defs *c, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kt_strlist_addf(c->problems, "%s:%lu: %s", c->file,
                    n ? (unsigned long)n->start_mark.line + 1 : 0, msg);
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
            continue;
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
    return strdup(s);
}

bool defs_bool(kt_defs *c, yaml_node_t *map, const char *key, bool dflt)
{
    yaml_node_t *n = defs_get(c, map, key);
    const char *s = defs_scalar(n);
    if (s == NULL)
        return dflt;
    if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
        return true;
    if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
        return false;
    defs_problem(c, n, "'%s' must be true or false", key);
    return dflt;
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
        kt_strlist_add(out, (char *)n->data.scalar.value);
        return;
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        defs_problem(c, n, "%s: '%s' must be a string or a list of strings", what, key);
        return;
    }
    for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
        const char *s = defs_scalar(yaml_document_get_node(c->doc, *i));
        if (s == NULL)
            defs_problem(c, n, "%s: '%s' must hold strings only", what, key);
        else
            kt_strlist_add(out, s);
    }
    if (required && out->count == 0)
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

bool defs_regex(kt_defs *c, yaml_node_t *n, const char *re, regex_t *out)
{
    int rc = regcomp(out, re, REG_EXTENDED | REG_ICASE);
    if (rc != 0) {
        char msg[256];
        regerror(rc, out, msg, sizeof msg);
        defs_problem(c, n, "bad regex '%s': %s", re, msg);
        return false;
    }
    if (out->re_nsub < 1) {
        defs_problem(c, n, "regex '%s' needs a capture group", re);
        regfree(out);
        return false;
    }
    return true;
}

void defs_pattern(kt_defs *c, yaml_node_t *map, const char *what, kt_time_pattern *tp, int allow)
{
    tp->pattern = defs_dup(c, map, "pattern", true, what);
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
    const char *zone = defs_scalar(defs_get(c, map, "zone"));
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
        r->text = strdup((char *)n->data.scalar.value);
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
    const char *re = defs_scalar(defs_get(c, n, "regex"));
    if (re)
        r->has_regex = defs_regex(c, n, re, &r->regex);
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
            kt_strlist_add(&r->map_from, from);
            kt_strlist_add(&r->map_to, to);
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
    *where = calloc(n ? n : 1, sizeof **where);
    for (yaml_node_pair_t *p = w->data.mapping.pairs.start; *where && p < w->data.mapping.pairs.top;
         p++) {
        kt_where *wh = &(*where)[(*nwhere)++];
        const char *k = defs_scalar(yaml_document_get_node(c->doc, p->key));
        wh->value = strdup(k ? k : "");
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (v && v->type == YAML_SCALAR_NODE)
            kt_strlist_add(&wh->globs, (char *)v->data.scalar.value);
        else if (v && v->type == YAML_SEQUENCE_NODE)
            for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
                 i++)
                if (defs_scalar(yaml_document_get_node(c->doc, *i)))
                    kt_strlist_add(&wh->globs, defs_scalar(yaml_document_get_node(c->doc, *i)));
        if (wh->globs.count == 0)
            defs_problem(c, v, "%s: where '%s' has no glob", what, wh->value);
    }
}

void defs_where_release(kt_where *where, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(where[i].value);
        kt_strlist_release(&where[i].globs);
    }
    free(where);
}

void defs_name_rule_release(kt_name_rule *r)
{
    kt_strlist_release(&r->map_from);
    kt_strlist_release(&r->map_to);
    kt_strlist_release(&r->unless);
    free(r->text);
    if (r->has_regex)
        regfree(&r->regex);
}

void defs_pattern_release(kt_time_pattern *tp)
{
    free(tp->pattern);
}

bool defs_where_match(const kt_where *w, const char *v)
{
    for (size_t g = 0; g < w->globs.count; g++)
        if (fnmatch(w->globs.items[g], v, FNM_CASEFOLD) == 0)
            return true;
    return false;
}
