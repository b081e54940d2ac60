/* Reading artifact definitions (libyaml documents): the helpers
 * artifacts.c and every source's parser (src/collect/<source>.c) share.
 * A problem is recorded as "FILE:LINE: message" and parsing goes on. An
 * allocation that fails sets rc (KT_ENOMEM) and the whole load fails: a
 * definition is never kept with part of it missing. Every allocation a
 * parser makes goes through kt_* (include/kavtrace/alloc.h) or the defs_
 * helpers below, so tests can make each one fail in turn. */
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
    int rc;             /* KT_ENOMEM once an allocation failed */
    size_t nproblems;   /* problems this file gave (past KT_DEFS_MAX_PROBLEMS: dropped) */
    size_t *npatterns;  /* where the patterns stored are counted (may be NULL) */
} kt_defs;

/* Problems one file reports, at most; then one line says more were left
 * out (the file has failed already). */
#define KT_DEFS_MAX_PROBLEMS 100

/* Allocation that sets c->rc when it fails (NULL for NULL in strdup). */
void *defs_calloc(kt_defs *c, size_t n, size_t size);
char *defs_strdup(kt_defs *c, const char *s);
/* Append s to l; false (and c->rc set) when out of memory. */
bool defs_add(kt_defs *c, kt_strlist *l, const char *s);

void defs_problem(kt_defs *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* map[key], or NULL (also when map is not a mapping). Keys are unique:
 * defs_check_document refused the file otherwise. */
yaml_node_t *defs_get(kt_defs *c, yaml_node_t *map, const char *key);
/* Every key of map must be in allowed (NULL-terminated). */
void defs_check_keys(kt_defs *c, yaml_node_t *map, const char *what, const char *const *allowed);
const char *defs_scalar(yaml_node_t *n);
/* map[key] as a string, NULL when absent; present but not a string is a
 * problem (never read as absent). */
const char *defs_str(kt_defs *c, yaml_node_t *map, const char *key, const char *what);
/* What is wrong with the whole document, before any definition is read:
 * keys that are not strings or are given twice in one mapping, lists and
 * mappings longer than KT_ARTIFACTS_MAX_LIST (but `sections`, the file's
 * own lists), nesting deeper than KT_ARTIFACTS_MAX_NESTING, an alias that
 * holds itself. False when there is any (each one a problem). */
bool defs_check_document(kt_defs *c, yaml_node_t *const *sections, size_t nsections);
/* A copy of map[key] (the caller frees it), NULL when absent. */
char *defs_dup(kt_defs *c, yaml_node_t *map, const char *key, bool required, const char *what);
bool defs_bool(kt_defs *c, yaml_node_t *map, const char *key, bool dflt);
void defs_strings(kt_defs *c, yaml_node_t *map, const char *key, kt_strlist *out, bool required,
                  const char *what);
/* `paths`: relative to the volume root, never climbing out of it. */
void defs_paths(kt_defs *c, yaml_node_t *map, kt_strlist *paths, const char *what);
int defs_category(kt_defs *c, yaml_node_t *n, kt_category *out);
/* An extended, case-insensitive regex with at least one capture group, at
 * most KT_ARTIFACTS_MAX_PATTERN bytes, with no backreference (\1 to \9:
 * glibc matches them by backtracking, exponential on hostile text). */
bool defs_regex(kt_defs *c, yaml_node_t *n, const char *re, regex_t *out);
/* The same for a file-content test: newline-aware, no group needed. */
bool defs_content_regex(kt_defs *c, yaml_node_t *n, const char *re, regex_t *out);
/* A glob, path or name a definition matches with: at most
 * KT_ARTIFACTS_MAX_PATTERN bytes (else a problem, and false). */
bool defs_pattern_length(kt_defs *c, yaml_node_t *n, const char *s, const char *what);

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
