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

#include "collect/source.h"
#include "defs.h"
#include "kavtrace/artifacts.h"
#include "kavtrace/findings.h"

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
    [KT_CAT_UPDATE] = "update",
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

static const char *const backing_names[KT_BACKING_COUNT] = {
    [KT_BACKING_UNKNOWN] = "unknown",
    [KT_BACKING_INFERRED] = "inferred",
    [KT_BACKING_THIRD_PARTY] = "third-party",
    [KT_BACKING_VENDOR_DOC] = "vendor-doc",
    [KT_BACKING_REAL] = "real",
};

const char *kt_backing_name(kt_backing b)
{
    return b < KT_BACKING_COUNT ? backing_names[b] : "?";
}

kt_backing kt_backing_from_name(const char *name)
{
    for (int b = KT_BACKING_INFERRED; name && b < KT_BACKING_COUNT; b++)
        if (strcmp(name, backing_names[b]) == 0)
            return (kt_backing)b;
    return KT_BACKING_UNKNOWN;
}

/* ---- YAML document access ------------------------------------------------ */

/* `backing: {kind: real|vendor-doc|third-party|inferred, ref: '...'}`:
 * optional (unknown when absent); when given, both keys are required, so a
 * grade never stands without the place that gives it. */
static void parse_backing(kt_defs *c, yaml_node_t *map, kt_artifact *a)
{
    yaml_node_t *n = defs_get(c, map, "backing");
    if (n == NULL)
        return;
    if (n->type != YAML_MAPPING_NODE) {
        defs_problem(c, n, "artifact: backing must be a mapping {kind: ..., ref: '...'}");
        return;
    }
    static const char *const keys[] = {"kind", "ref", NULL};
    defs_check_keys(c, n, "backing", keys);
    char *kind = defs_dup(c, n, "kind", true, "backing");
    if (kind) {
        a->backing = kt_backing_from_name(kind);
        if (a->backing == KT_BACKING_UNKNOWN)
            defs_problem(c, defs_get(c, n, "kind"),
                         "backing: kind must be real, vendor-doc, third-party or inferred, not "
                         "'%s'",
                         kind);
        free(kind);
    }
    a->backing_ref = defs_dup(c, n, "ref", true, "backing");
    if (a->backing_ref && a->backing_ref[strspn(a->backing_ref, " \t")] == '\0')
        defs_problem(c, defs_get(c, n, "ref"), "backing: ref is empty");
}

static void parse_artifact(kt_defs *c, yaml_node_t *n, kt_artifact *a)
{
    static const char *const common[] = {
        "id",         "description",    "vendor",           "os",  "category", "role",
        "confidence", "removal_method", "installer_record", "ksn", "join",     "backing"};
    const char *keys[sizeof common / sizeof common[0] + KT_SOURCES_MAX + 1];
    size_t nk = 0;
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        keys[nk++] = common[i];
    for (size_t i = 0; i < kt_nsources; i++)
        keys[nk++] = kt_sources[i]->key;
    keys[nk] = NULL;
    defs_check_keys(c, n, "artifact", keys);
    a->file = strdup(c->file);
    a->line = (int)n->start_mark.line + 1;
    a->id = defs_dup(c, n, "id", true, "artifact");
    a->description = defs_dup(c, n, "description", true, "artifact");
    a->vendor = defs_dup(c, n, "vendor", false, "artifact");
    if (a->vendor == NULL && c->vendor)
        a->vendor = strdup(c->vendor);
    if (a->vendor == NULL)
        defs_problem(c, n, "artifact '%s': no vendor (set it here or at the top of the file)",
                     a->id ? a->id : "?");
    a->os = defs_dup(c, n, "os", true, "artifact");
    if (a->os && strcmp(a->os, "windows") && strcmp(a->os, "linux") && strcmp(a->os, "macos"))
        defs_problem(c, defs_get(c, n, "os"), "artifact: os must be windows, linux or macos");
    if (defs_get(c, n, "category") == NULL)
        defs_problem(c, n, "artifact '%s': 'category' is required", a->id ? a->id : "?");
    else
        defs_category(c, defs_get(c, n, "category"), &a->category);
    const char *role = defs_scalar(defs_get(c, n, "role"));
    if (role == NULL || strcmp(role, "none") == 0)
        a->role = KT_ROLE_NONE;
    else if (strcmp(role, "registration") == 0)
        a->role = KT_ROLE_REGISTRATION;
    else if (strcmp(role, "program") == 0)
        a->role = KT_ROLE_PROGRAM;
    else if (strcmp(role, "residue") == 0)
        a->role = KT_ROLE_RESIDUE;
    else
        defs_problem(c, defs_get(c, n, "role"),
                     "artifact: role must be registration, program, residue or none");
    a->confidence = defs_dup(c, n, "confidence", false, "artifact");
    if (a->confidence == NULL)
        a->confidence = strdup("medium");
    else if (strcmp(a->confidence, "high") && strcmp(a->confidence, "medium") &&
             strcmp(a->confidence, "low"))
        defs_problem(c, defs_get(c, n, "confidence"),
                     "artifact: confidence must be high, medium or low");
    a->removal_method = defs_dup(c, n, "removal_method", false, "artifact");
    if (a->removal_method && kt_removal_from_name(a->removal_method) == KT_REMOVAL_NONE)
        defs_problem(c, defs_get(c, n, "removal_method"),
                     "artifact: removal_method must be msi, kavremover, package, uninstaller, "
                     "migration or unknown");
    a->installer_record = defs_bool(c, n, "installer_record", false);
    const char *ksn = defs_scalar(defs_get(c, n, "ksn"));
    if (ksn && strcmp(ksn, "disabled") == 0)
        a->ksn_disabled = true;
    else if (ksn && strcmp(ksn, "enabled") != 0)
        defs_problem(c, defs_get(c, n, "ksn"),
                     "artifact: ksn must be enabled (the default) or disabled");
    const char *join = defs_scalar(defs_get(c, n, "join"));
    if (join && strcmp(join, "primary") == 0)
        a->join_primary = true;
    else if (join && strcmp(join, "none") != 0)
        defs_problem(c, defs_get(c, n, "join"),
                     "artifact: join must be primary or none (the default)");
    parse_backing(c, n, a);
    size_t given = 0, which = 0;
    for (size_t i = 0; i < kt_nsources; i++)
        if (defs_get(c, n, kt_sources[i]->key)) {
            given++;
            which = i;
        }
    if (given != 1) {
        char keys_said[256] = "";
        for (size_t i = 0; i < kt_nsources; i++) {
            size_t len = strlen(keys_said);
            snprintf(keys_said + len, sizeof keys_said - len, "%s'%s'",
                     i == 0                 ? ""
                     : i + 1 == kt_nsources ? " or "
                                            : ", ",
                     kt_sources[i]->key);
        }
        defs_problem(c, n, "artifact '%s': give exactly one of %s", a->id ? a->id : "?", keys_said);
        return;
    }
    a->source = kt_sources[which];
    a->source->parse(c, defs_get(c, n, a->source->key), a);
}

static void parse_product(kt_defs *c, yaml_node_t *n, kt_product_def *p)
{
    static const char *const keys[] = {
        "id", "name", "vendor", "match", "primary", "migration_target", "os", "signatures", NULL};
    defs_check_keys(c, n, "product", keys);
    p->os = defs_dup(c, n, "os", false, "product");
    if (p->os && strcmp(p->os, "windows") && strcmp(p->os, "linux") && strcmp(p->os, "macos"))
        defs_problem(c, defs_get(c, n, "os"), "product: os must be windows, linux or macos");
    p->file = strdup(c->file);
    p->line = (int)n->start_mark.line + 1;
    p->id = defs_dup(c, n, "id", true, "product");
    p->name = defs_dup(c, n, "name", true, "product");
    p->vendor = defs_dup(c, n, "vendor", false, "product");
    if (p->vendor == NULL && c->vendor)
        p->vendor = strdup(c->vendor);
    if (p->vendor == NULL)
        defs_problem(c, n, "product: no vendor");
    defs_strings(c, n, "match", &p->match, true, "product");
    p->primary = defs_bool(c, n, "primary", false);
    p->migration_target = defs_bool(c, n, "migration_target", false);
    p->no_signatures = !defs_bool(c, n, "signatures", true);
}

static void parse_milestone(kt_defs *c, yaml_node_t *n, kt_milestone *m)
{
    static const char *const keys[] = {"id", "time", "date", "meaning", NULL};
    defs_check_keys(c, n, "milestone", keys);
    m->id = defs_dup(c, n, "id", true, "milestone");
    m->meaning = defs_dup(c, n, "meaning", false, "milestone");
    const char *t = defs_scalar(defs_get(c, n, "time")), *d = defs_scalar(defs_get(c, n, "date"));
    m->date_only = t == NULL;
    if ((t == NULL) == (d == NULL) || kt_time_parse_iso(t ? t : d, &m->time) != 0 ||
        (d && strlen(d) != 10))
        defs_problem(c, n, "milestone '%s': give 'time' (ISO 8601 UTC, 'Z') or 'date' (YYYY-MM-DD)",
                     m->id ? m->id : "?");
}

/* Room for one more zeroed item at arr[n]; false when out of memory. */
#define GROW(arr, n) grow((void **)&(arr), (n), sizeof *(arr))

static bool grow(void **arr, size_t n, size_t size)
{
    void *p = realloc(*arr, (n + 1) * size);
    if (p == NULL)
        return false;
    *arr = p;
    memset((char *)p + n * size, 0, size);
    return true;
}

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
    kt_defs c = {.doc = &doc, .file = path, .problems = problems};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root == NULL)
        goto out; /* an empty file */
    if (root->type != YAML_MAPPING_NODE) {
        defs_problem(&c, root, "the top level must be a mapping");
        goto out;
    }
    static const char *const keys[] = {"vendor", "products", "artifacts", "milestones", NULL};
    defs_check_keys(&c, root, "file", keys);
    c.vendor = defs_scalar(defs_get(&c, root, "vendor"));
    const char *sections[] = {"products", "artifacts", "milestones"};
    for (int s = 0; s < 3; s++) {
        yaml_node_t *seq = defs_get(&c, root, sections[s]);
        if (seq == NULL)
            continue;
        if (seq->type != YAML_SEQUENCE_NODE) {
            defs_problem(&c, seq, "'%s' must be a list", sections[s]);
            continue;
        }
        for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top;
             i++) {
            yaml_node_t *n = yaml_document_get_node(&doc, *i);
            if (n == NULL || n->type != YAML_MAPPING_NODE) {
                defs_problem(&c, n, "each of '%s' must be a mapping", sections[s]);
                continue;
            }
            if (set->nproducts + set->nartifacts + set->nmilestones >= KT_ARTIFACTS_MAX_ITEMS) {
                defs_problem(&c, n, "more than %d definitions", KT_ARTIFACTS_MAX_ITEMS);
                goto out;
            }
            bool ok = s == 0   ? GROW(set->products, set->nproducts)
                      : s == 1 ? GROW(set->artifacts, set->nartifacts)
                               : GROW(set->milestones, set->nmilestones);
            if (!ok) {
                rc = KT_ENOMEM; /* what was loaded is released by the caller */
                goto out;
            }
            if (s == 0)
                parse_product(&c, n, &set->products[set->nproducts++]);
            else if (s == 1)
                parse_artifact(&c, n, &set->artifacts[set->nartifacts++]);
            else
                parse_milestone(&c, n, &set->milestones[set->nmilestones++]);
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
        free(a->backing_ref);
        free(a->file);
        if (a->source && a->source->release)
            a->source->release(a->spec);
        defs_name_rule_release(&a->product);
        defs_name_rule_release(&a->version);
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
