/* Reading artifact definitions (libyaml documents): the helpers
 * artifacts.c and every source's parser (src/collect/<source>.c) share.
 * A problem is recorded as "FILE:LINE: message" and parsing goes on. */
#ifndef KAVTRACE_DEFS_H
#define KAVTRACE_DEFS_H

#include <stdbool.h>
#include <yaml.h>

#include "kavtrace/artifacts.h"

typedef struct kt_defs {
    yaml_document_t *doc;
    const char *file;
    kt_strlist *problems;
    const char *vendor; /* the file's default vendor */
} kt_defs;

void defs_problem(kt_defs *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* map[key], or NULL (also when map is not a mapping). */
yaml_node_t *defs_get(kt_defs *c, yaml_node_t *map, const char *key);
/* Every key of map must be in allowed (NULL-terminated). */
void defs_check_keys(kt_defs *c, yaml_node_t *map, const char *what, const char *const *allowed);
const char *defs_scalar(yaml_node_t *n);
/* A copy of map[key] (the caller frees it), NULL when absent. */
char *defs_dup(kt_defs *c, yaml_node_t *map, const char *key, bool required, const char *what);
bool defs_bool(kt_defs *c, yaml_node_t *map, const char *key, bool dflt);
void defs_strings(kt_defs *c, yaml_node_t *map, const char *key, kt_strlist *out, bool required,
                  const char *what);
/* `paths`: relative to the volume root, never climbing out of it. */
void defs_paths(kt_defs *c, yaml_node_t *map, kt_strlist *paths, const char *what);
int defs_category(kt_defs *c, yaml_node_t *n, kt_category *out);
/* An extended, case-insensitive regex with at least one capture group. */
bool defs_regex(kt_defs *c, yaml_node_t *n, const char *re, regex_t *out);

#define PATTERN_TIME_ONLY 1 /* a time of day, dated from elsewhere, may do */
#define PATTERN_NO_YEAR 2   /* a date without its year may do */
/* map's `pattern` and `zone` (utc or local). */
void defs_pattern(kt_defs *c, yaml_node_t *map, const char *what, kt_time_pattern *tp, int allow);
void defs_pattern_release(kt_time_pattern *tp);
/* A product or version rule; `registry` allows value: and key:. */
void defs_name_rule(kt_defs *c, yaml_node_t *n, kt_name_rule *r, bool registry);
void defs_name_rule_release(kt_name_rule *r);
/* `where`: a mapping of `names` (value names, indexes, keys) to globs. */
void defs_where(kt_defs *c, yaml_node_t *w, kt_where **where, size_t *nwhere, const char *what,
                const char *names);
void defs_where_release(kt_where *where, size_t n);
/* Whether v matches one of w's globs, case-insensitively. */
bool defs_where_match(const kt_where *w, const char *v);

#endif
