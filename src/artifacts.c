/* Artifact definitions: YAML files read with libyaml's document API and
 * checked into kt_artifact_set. Every problem names FILE:LINE. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "collect/source.h"
#include "defs.h"
#include "kavtrace/alloc.h"
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
    case KT_ROLE_INTEGRATION:
        return "integration";
    case KT_ROLE_BUNDLED_TOOL:
        return "bundled_tool";
    case KT_ROLE_SEARCHED:
        return "searched";
    case KT_ROLE_HOST_PRODUCT:
        return "host_product";
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
        kt_free(kind);
    }
    a->backing_ref = defs_dup(c, n, "ref", true, "backing");
    if (a->backing_ref && a->backing_ref[strspn(a->backing_ref, " \t")] == '\0')
        defs_problem(c, defs_get(c, n, "ref"), "backing: ref is empty");
}

static void parse_artifact(kt_defs *c, yaml_node_t *n, kt_artifact *a)
{
    static const char *const common[] = {
        "id",         "description",    "vendor",           "os",  "category", "role",
        "confidence", "removal_method", "installer_record", "ksn", "join",     "backing",
        "component"};
    const char *keys[sizeof common / sizeof common[0] + KT_SOURCES_MAX + 1];
    size_t nk = 0;
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        keys[nk++] = common[i];
    for (size_t i = 0; i < kt_nsources; i++)
        keys[nk++] = kt_sources[i]->key;
    keys[nk] = NULL;
    defs_check_keys(c, n, "artifact", keys);
    a->file = defs_strdup(c, c->file);
    a->line = (int)n->start_mark.line + 1;
    a->id = defs_dup(c, n, "id", true, "artifact");
    a->description = defs_dup(c, n, "description", true, "artifact");
    a->vendor = defs_dup(c, n, "vendor", false, "artifact");
    if (a->vendor == NULL && c->vendor)
        a->vendor = defs_strdup(c, c->vendor);
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
    const char *role = defs_str(c, n, "role", "artifact");
    if (role == NULL || strcmp(role, "none") == 0)
        a->role = KT_ROLE_NONE;
    else if (strcmp(role, "registration") == 0)
        a->role = KT_ROLE_REGISTRATION;
    else if (strcmp(role, "program") == 0)
        a->role = KT_ROLE_PROGRAM;
    else if (strcmp(role, "residue") == 0)
        a->role = KT_ROLE_RESIDUE;
    else if (strcmp(role, "integration") == 0)
        a->role = KT_ROLE_INTEGRATION;
    else if (strcmp(role, "bundled_tool") == 0)
        a->role = KT_ROLE_BUNDLED_TOOL;
    else if (strcmp(role, "searched") == 0)
        a->role = KT_ROLE_SEARCHED;
    else if (strcmp(role, "host_product") == 0)
        a->role = KT_ROLE_HOST_PRODUCT;
    else
        defs_problem(c, defs_get(c, n, "role"),
                     "artifact: role must be registration, program, residue, integration, "
                     "bundled_tool, searched, host_product or none");
    /* The Kaspersky component an integration find is (a product id). */
    a->component = defs_dup(c, n, "component", false, "artifact");
    if (a->role == KT_ROLE_INTEGRATION && a->component == NULL && c->rc == KT_OK)
        defs_problem(c, n,
                     "artifact '%s': an integration names its Kaspersky component "
                     "(component: a product id)",
                     a->id ? a->id : "?");
    else if (a->role != KT_ROLE_INTEGRATION && defs_get(c, n, "component"))
        defs_problem(c, defs_get(c, n, "component"),
                     "artifact: component is for role integration only");
    a->confidence = defs_dup(c, n, "confidence", false, "artifact");
    if (defs_get(c, n, "confidence") == NULL)
        a->confidence = defs_strdup(c, "medium");
    else if (a->confidence && strcmp(a->confidence, "high") && strcmp(a->confidence, "medium") &&
             strcmp(a->confidence, "low"))
        defs_problem(c, defs_get(c, n, "confidence"),
                     "artifact: confidence must be high, medium or low");
    a->removal_method = defs_dup(c, n, "removal_method", false, "artifact");
    if (a->removal_method && kt_removal_from_name(a->removal_method) == KT_REMOVAL_NONE)
        defs_problem(c, defs_get(c, n, "removal_method"),
                     "artifact: removal_method must be msi, kavremover, package, uninstaller, "
                     "migration or unknown");
    a->installer_record = defs_bool(c, n, "installer_record", false);
    const char *ksn = defs_str(c, n, "ksn", "artifact");
    if (ksn && strcmp(ksn, "disabled") == 0)
        a->ksn_disabled = true;
    else if (ksn && strcmp(ksn, "enabled") != 0)
        defs_problem(c, defs_get(c, n, "ksn"),
                     "artifact: ksn must be enabled (the default) or disabled");
    const char *join = defs_str(c, n, "join", "artifact");
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

bool kt_exemption_family_known(const char *name)
{
    static const char *const families[] = {"threat-intelligence", "security-training",
                                           "consulting"};
    for (size_t i = 0; name && i < sizeof families / sizeof *families; i++)
        if (strcmp(name, families[i]) == 0)
            return true;
    return false;
}

/* `coverage: covered|exempt` and, for exempt, `exemption: FAMILY`: every
 * product of the subject vendor says which it is (a product without it
 * would be silently covered or silently not); other vendors' products are
 * no subject of the Final Determination and carry neither. */
static void parse_coverage(kt_defs *c, yaml_node_t *n, kt_product_def *p)
{
    const char *cov = defs_str(c, n, "coverage", "product");
    yaml_node_t *ex = defs_get(c, n, "exemption");
    bool subject = p->vendor && strcmp(p->vendor, "kaspersky") == 0;
    if (!subject) {
        if (cov || ex)
            defs_problem(c, cov ? defs_get(c, n, "coverage") : ex,
                         "product '%s': coverage and exemption are for Kaspersky's products only",
                         p->id ? p->id : "?");
        return;
    }
    if (cov == NULL) {
        defs_problem(c, n, "product '%s': no coverage (give covered or exempt)",
                     p->id ? p->id : "?");
        return;
    }
    p->has_coverage = true;
    if (strcmp(cov, "covered") == 0) {
        if (ex)
            defs_problem(c, ex, "product '%s': a covered product has no exemption",
                         p->id ? p->id : "?");
        return;
    }
    if (strcmp(cov, "exempt") != 0) {
        defs_problem(c, defs_get(c, n, "coverage"),
                     "product '%s': coverage must be covered or exempt", p->id ? p->id : "?");
        return;
    }
    p->exempt = true;
    p->exemption = defs_dup(c, n, "exemption", false, "product");
    if (p->exemption == NULL)
        defs_problem(c, n,
                     "product '%s': an exempt product names its exemption (threat-intelligence, "
                     "security-training or consulting)",
                     p->id ? p->id : "?");
    else if (!kt_exemption_family_known(p->exemption))
        defs_problem(c, ex,
                     "product '%s': exemption must be threat-intelligence, security-training or "
                     "consulting",
                     p->id ? p->id : "?");
}

static void parse_product(kt_defs *c, yaml_node_t *n, kt_product_def *p)
{
    static const char *const keys[] = {
        "id", "name",       "vendor",   "match",     "primary", "migration_target",
        "os", "signatures", "coverage", "exemption", NULL};
    defs_check_keys(c, n, "product", keys);
    p->os = defs_dup(c, n, "os", false, "product");
    if (p->os && strcmp(p->os, "windows") && strcmp(p->os, "linux") && strcmp(p->os, "macos"))
        defs_problem(c, defs_get(c, n, "os"), "product: os must be windows, linux or macos");
    p->file = defs_strdup(c, c->file);
    p->line = (int)n->start_mark.line + 1;
    p->id = defs_dup(c, n, "id", true, "product");
    p->name = defs_dup(c, n, "name", true, "product");
    p->vendor = defs_dup(c, n, "vendor", false, "product");
    if (p->vendor == NULL && c->vendor)
        p->vendor = defs_strdup(c, c->vendor);
    if (p->vendor == NULL)
        defs_problem(c, n, "product: no vendor");
    defs_strings(c, n, "match", &p->match, true, "product");
    p->primary = defs_bool(c, n, "primary", false);
    p->migration_target = defs_bool(c, n, "migration_target", false);
    p->no_signatures = !defs_bool(c, n, "signatures", true);
    parse_coverage(c, n, p);
}

static void parse_milestone(kt_defs *c, yaml_node_t *n, kt_milestone *m)
{
    static const char *const keys[] = {"id", "time", "date", "meaning", NULL};
    defs_check_keys(c, n, "milestone", keys);
    m->file = defs_strdup(c, c->file);
    m->line = (int)n->start_mark.line + 1;
    m->id = defs_dup(c, n, "id", true, "milestone");
    m->meaning = defs_dup(c, n, "meaning", false, "milestone");
    const char *t = defs_str(c, n, "time", "milestone"), *d = defs_str(c, n, "date", "milestone");
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
    void *p = kt_realloc(*arr, (n + 1) * size);
    if (p == NULL)
        return false;
    *arr = p;
    memset((char *)p + n * size, 0, size);
    return true;
}

/* Add a problem; KT_ENOMEM when it could not be (the load then fails). */
static int say(kt_strlist *problems, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int say(kt_strlist *problems, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = kt_strlist_vaddf(problems, fmt, ap);
    va_end(ap);
    return rc == KT_OK ? KT_OK : KT_ENOMEM;
}

/* Add a problem that refuses a file: KT_EFORMAT, or KT_ENOMEM when it
 * could not be added. */
static int refuse(kt_strlist *problems, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int refuse(kt_strlist *problems, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = kt_strlist_vaddf(problems, fmt, ap);
    va_end(ap);
    return rc == KT_OK ? KT_EFORMAT : KT_ENOMEM;
}

/* The whole of a definitions file, at most KT_ARTIFACTS_MAX_FILE_SIZE
 * bytes. Opened without blocking and checked to be a regular file once
 * open, so a FIFO put in its place since the listing cannot hang the load.
 * Returns KT_OK with *text set, KT_EFORMAT after adding a problem, or
 * KT_ENOMEM. */
static int read_file(const char *path, kt_strlist *problems, unsigned char **text, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return refuse(problems, "%s:0: cannot open: %s", path, strerror(errno));
    struct stat st;
    int rc = KT_OK;
    unsigned char *buf = NULL;
    size_t n = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = refuse(problems, "%s:0: not a regular file", path);
        goto out;
    }
    if (st.st_size > KT_ARTIFACTS_MAX_FILE_SIZE) {
        rc = refuse(problems, "%s:0: %lld bytes: a definitions file has at most %d", path,
                    (long long)st.st_size, KT_ARTIFACTS_MAX_FILE_SIZE);
        goto out;
    }
    /* One byte more than its size tells a file that grew since. */
    size_t cap = (size_t)st.st_size + 1;
    buf = kt_malloc(cap);
    if (buf == NULL) {
        rc = KT_ENOMEM;
        goto out;
    }
    while (n < cap) {
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = refuse(problems, "%s:0: cannot read: %s", path, strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (n == cap)
        rc = refuse(problems, "%s:0: changed while it was read", path);
out:
    close(fd);
    if (rc != KT_OK) {
        kt_free(buf);
        return rc;
    }
    *text = buf;
    *len = n;
    return KT_OK;
}

static const char *const sections[] = {"products", "artifacts", "milestones"};
#define NSECTIONS (sizeof sections / sizeof sections[0])

/* Parse one loaded document into set. */
static void load_document(kt_defs *c, kt_artifact_set *set)
{
    yaml_node_t *root = yaml_document_get_root_node(c->doc);
    if (root == NULL)
        return; /* an empty file */
    if (root->type != YAML_MAPPING_NODE) {
        defs_problem(c, root, "the top level must be a mapping");
        return;
    }
    yaml_node_t *seqs[NSECTIONS];
    for (size_t s = 0; s < NSECTIONS; s++)
        seqs[s] = defs_get(c, root, sections[s]);
    /* Keys given twice, loops, nesting and sizes: the file is refused
     * whole before any of it is read. */
    if (!defs_check_document(c, seqs, NSECTIONS))
        return;
    static const char *const keys[] = {"vendor", "products", "artifacts", "milestones", NULL};
    defs_check_keys(c, root, "file", keys);
    c->vendor = defs_str(c, root, "vendor", "file");
    for (size_t s = 0; s < NSECTIONS; s++) {
        yaml_node_t *seq = seqs[s];
        if (seq == NULL)
            continue;
        if (seq->type != YAML_SEQUENCE_NODE) {
            defs_problem(c, seq, "'%s' must be a list", sections[s]);
            continue;
        }
        for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top;
             i++) {
            yaml_node_t *n = yaml_document_get_node(c->doc, *i);
            if (n == NULL || n->type != YAML_MAPPING_NODE) {
                defs_problem(c, n ? n : seq, "each of '%s' must be a mapping", sections[s]);
                continue;
            }
            if (set->nproducts + set->nartifacts + set->nmilestones >= KT_ARTIFACTS_MAX_ITEMS) {
                defs_problem(c, n, "more than %d definitions", KT_ARTIFACTS_MAX_ITEMS);
                return;
            }
            bool ok = s == 0   ? GROW(set->products, set->nproducts)
                      : s == 1 ? GROW(set->artifacts, set->nartifacts)
                               : GROW(set->milestones, set->nmilestones);
            if (!ok) {
                c->rc = KT_ENOMEM; /* what was loaded is released by the caller */
                return;
            }
            if (s == 0)
                parse_product(c, n, &set->products[set->nproducts++]);
            else if (s == 1)
                parse_artifact(c, n, &set->artifacts[set->nartifacts++]);
            else
                parse_milestone(c, n, &set->milestones[set->nmilestones++]);
            if (c->rc)
                return;
        }
    }
}

static int load_file(const char *path, kt_artifact_set *set, kt_strlist *problems)
{
    unsigned char *text = NULL;
    size_t len = 0;
    int rc = read_file(path, problems, &text, &len);
    /* What was read, for the runs' provenance: sha256 stays parallel to files. */
    char hex[2 * SHA256_DIGEST_SIZE + 1] = "";
    if (rc == KT_OK) {
        struct sha256_ctx c;
        uint8_t d[SHA256_DIGEST_SIZE];
        sha256_init(&c);
        sha256_update(&c, len, text ? text : (const unsigned char *)"");
        sha256_digest(&c, sizeof d, d);
        for (size_t i = 0; i < sizeof d; i++)
            snprintf(hex + 2 * i, 3, "%02x", d[i]);
    }
    if (kt_strlist_add(&set->sha256, hex) != KT_OK) {
        kt_free(text);
        return KT_ENOMEM;
    }
    if (rc != KT_OK)
        return rc == KT_ENOMEM ? rc : KT_OK;
    yaml_parser_t parser;
    yaml_document_t doc, more;
    if (!yaml_parser_initialize(&parser)) {
        kt_free(text);
        return KT_ENOMEM;
    }
    yaml_parser_set_input_string(&parser, text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = say(problems, "%s:%lu: YAML: %s", path, (unsigned long)parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "parse error");
        yaml_parser_delete(&parser);
        kt_free(text);
        return rc;
    }
    kt_defs c = {.doc = &doc, .file = path, .problems = problems, .npatterns = &set->npatterns};
    /* One document a file: libyaml reads one per call, and a second one
     * (after '---') would otherwise never be read. */
    if (yaml_document_get_root_node(&doc)) {
        if (!yaml_parser_load(&parser, &more)) {
            rc =
                say(problems, "%s:%lu: YAML: %s", path, (unsigned long)parser.problem_mark.line + 1,
                    parser.problem ? parser.problem : "parse error");
            goto out;
        }
        yaml_node_t *second = yaml_document_get_root_node(&more);
        if (second)
            defs_problem(&c, second,
                         "a second YAML document ('---'): a definitions file holds one");
        yaml_document_delete(&more);
    }
    load_document(&c, set);
    rc = c.rc;
out:
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    kt_free(text);
    return rc ? rc : c.rc;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The search for definition files. */
typedef struct dir_walk {
    kt_artifact_set *set;
    kt_strlist *problems;
    const char *top;
    int rc;        /* KT_ENOMEM */
    bool too_many; /* said once */
    struct {
        dev_t dev;
        ino_t ino;
    } up[KT_ARTIFACTS_MAX_DIR_DEPTH + 1]; /* the folders above, for loops */
} dir_walk;

static void walk_say(dir_walk *w, kt_strlist *l, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void walk_say(dir_walk *w, kt_strlist *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (kt_strlist_vaddf(l, fmt, ap) != KT_OK)
        w->rc = KT_ENOMEM;
    va_end(ap);
}

static bool is_yaml(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static const char *kind_of(mode_t m)
{
    return S_ISFIFO(m)   ? "a FIFO (named pipe)"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISSOCK(m) ? "a socket"
                         : "not a regular file";
}

/* Every *.yaml / *.yml file under dir (st: dir's), sorted, into set->files.
 * Hidden names are passed by. Nothing is opened but folders: a FIFO or a
 * device is skipped unopened (set->skipped); an entry that cannot be
 * looked at (a link loop, a dangling link), a folder loop or one too deep
 * is a problem. */
static void find_files(dir_walk *w, const char *dir, const struct stat *st, int depth)
{
    if (depth > KT_ARTIFACTS_MAX_DIR_DEPTH) {
        walk_say(w, w->problems, "%s:0: more than %d folders deep below '%s': not read", dir,
                 KT_ARTIFACTS_MAX_DIR_DEPTH, w->top);
        return;
    }
    for (int i = 0; i < depth; i++)
        if (w->up[i].dev == st->st_dev && w->up[i].ino == st->st_ino) {
            walk_say(w, w->problems, "%s:0: a link to a folder that holds it (a loop): not read",
                     dir);
            return;
        }
    w->up[depth].dev = st->st_dev;
    w->up[depth].ino = st->st_ino;
    DIR *d = opendir(dir);
    if (d == NULL) {
        walk_say(w, w->problems, "%s:0: cannot read the folder: %s", dir, strerror(errno));
        return;
    }
    kt_strlist names = {0};
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] != '.' && kt_strlist_add(&names, de->d_name) != KT_OK) {
            w->rc = KT_ENOMEM;
            break;
        }
        errno = 0;
    }
    if (de == NULL && errno)
        walk_say(w, w->problems, "%s:0: cannot read the folder: %s", dir, strerror(errno));
    closedir(d);
    if (names.count)
        qsort(names.items, names.count, sizeof *names.items, name_cmp);
    for (size_t i = 0; i < names.count && w->rc == KT_OK; i++) {
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names.items[i]) >= sizeof path) {
            walk_say(w, w->problems, "%s/%s:0: path too long", dir, names.items[i]);
            continue;
        }
        bool yaml = is_yaml(names.items[i]);
        struct stat est;
        if (stat(path, &est) != 0) {
            /* A link loop may have been a folder; a dangling *.yaml link
             * was meant to be read. */
            if (errno == ELOOP)
                walk_say(w, w->problems, "%s:0: a symbolic link loop", path);
            else if (yaml)
                walk_say(w, w->problems, "%s:0: cannot read: %s", path, strerror(errno));
            continue;
        }
        if (S_ISDIR(est.st_mode)) {
            find_files(w, path, &est, depth + 1);
        } else if (!yaml) {
            continue;
        } else if (!S_ISREG(est.st_mode)) {
            walk_say(w, &w->set->skipped, "%s: skipped: %s, not a definitions file", path,
                     kind_of(est.st_mode));
        } else if (w->set->files.count >= KT_ARTIFACTS_MAX_FILES) {
            if (!w->too_many)
                walk_say(w, w->problems,
                         "%s:0: more than %d definition files under '%s': this one and those "
                         "after it are not read",
                         path, KT_ARTIFACTS_MAX_FILES, w->top);
            w->too_many = true;
        } else if (kt_strlist_add(&w->set->files, path) != KT_OK) {
            w->rc = KT_ENOMEM;
        }
    }
    kt_strlist_release(&names);
}

static int milestone_cmp(const void *a, const void *b)
{
    const kt_milestone *x = a, *y = b;
    return x->time < y->time ? -1 : x->time > y->time;
}

/* Problems the definitions have across files: ids used twice. */
static int cross_check(const kt_artifact_set *set, kt_strlist *problems)
{
    int rc = KT_OK;
    for (size_t i = 0; i < set->nartifacts; i++)
        for (size_t j = i + 1; j < set->nartifacts; j++)
            if (rc == KT_OK && set->artifacts[i].id && set->artifacts[j].id &&
                strcmp(set->artifacts[i].id, set->artifacts[j].id) == 0)
                rc = say(problems, "%s:%d: artifact id '%s' already used at %s:%d",
                         set->artifacts[j].file, set->artifacts[j].line, set->artifacts[j].id,
                         set->artifacts[i].file, set->artifacts[i].line);
    for (size_t i = 0; i < set->nproducts; i++)
        for (size_t j = i + 1; j < set->nproducts; j++)
            if (rc == KT_OK && set->products[i].id && set->products[j].id &&
                strcmp(set->products[i].id, set->products[j].id) == 0)
                rc = say(problems, "%s:%d: product id '%s' already used at %s:%d",
                         set->products[j].file, set->products[j].line, set->products[j].id,
                         set->products[i].file, set->products[i].line);
    for (size_t i = 0; i < set->nmilestones; i++)
        for (size_t j = i + 1; j < set->nmilestones; j++)
            if (rc == KT_OK && set->milestones[i].id && set->milestones[j].id &&
                strcmp(set->milestones[i].id, set->milestones[j].id) == 0)
                rc = say(problems, "%s:%d: milestone id '%s' already used at %s:%d",
                         set->milestones[j].file, set->milestones[j].line, set->milestones[j].id,
                         set->milestones[i].file, set->milestones[i].line);
    return rc;
}

int kt_artifacts_load(const char *dir, kt_artifact_set *set, kt_strlist *problems, kt_error *err)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return kt_error_set(err, KT_ENOTFOUND, "artifact definitions '%s': not a directory", dir);
    size_t before = problems->count;
    dir_walk w = {.set = set, .problems = problems, .top = dir};
    find_files(&w, dir, &st, 0);
    if (w.rc)
        return kt_error_set(err, w.rc, "artifact definitions '%s': out of memory", dir);
    if (set->files.count == 0 && problems->count == before)
        return kt_error_set(err, KT_ENOTFOUND, "artifact definitions '%s': no *.yaml files", dir);
    for (size_t i = 0; i < set->files.count; i++) {
        int rc = load_file(set->files.items[i], set, problems);
        if (rc)
            return kt_error_set(err, rc, "artifact definitions '%s': out of memory reading '%s'",
                                dir, set->files.items[i]);
    }
    if (cross_check(set, problems) != KT_OK)
        return kt_error_set(err, KT_ENOMEM, "artifact definitions '%s': out of memory", dir);
    if (set->nmilestones > 1)
        qsort(set->milestones, set->nmilestones, sizeof *set->milestones, milestone_cmp);
    if (problems->count > before)
        return kt_error_set(err, KT_EFORMAT, "artifact definitions '%s': %zu problem(s)", dir,
                            problems->count - before);
    return KT_OK;
}

int kt_artifacts_check_milestones(const kt_artifact_set *set, const char *dir, kt_strlist *problems)
{
    static const char *const need[] = {KT_MILESTONE_SALES_BAN, KT_MILESTONE_CUTOFF};
    /* Where the milestones are: a file named milestones.yaml first. */
    const char *where = NULL;
    for (size_t i = 0; i < set->nmilestones; i++) {
        const char *f = set->milestones[i].file;
        const char *base = f ? strrchr(f, '/') : NULL;
        if (f && (where == NULL || (base && strcmp(base, "/milestones.yaml") == 0)))
            where = f;
    }
    int rc = KT_OK;
    const kt_milestone *got[2];
    for (size_t k = 0; k < 2; k++) {
        got[k] = kt_artifacts_milestone(set, need[k]);
        if (got[k])
            continue;
        int r = where ? say(problems,
                            "%s:0: no milestone '%s': the verdicts are measured against "
                            "'%s' and '%s'",
                            where, need[k], need[0], need[1])
                      : say(problems,
                            "%s/milestones.yaml:0: no milestone '%s' in '%s': the verdicts are "
                            "measured against '%s' and '%s' (artifacts/milestones.yaml has them)",
                            dir, need[k], dir, need[0], need[1]);
        rc = r ? r : KT_EFORMAT;
        if (r)
            return r;
    }
    if (got[0] && got[1] && got[0]->time >= got[1]->time) {
        if (say(problems, "%s:%d: milestone '%s' is not before '%s' (%s:%d)", got[0]->file,
                got[0]->line, need[0], need[1], got[1]->file, got[1]->line))
            return KT_ENOMEM;
        rc = KT_EFORMAT;
    }
    return rc;
}

void kt_artifact_set_release(kt_artifact_set *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->nartifacts; i++) {
        kt_artifact *a = &set->artifacts[i];
        kt_free(a->id);
        kt_free(a->description);
        kt_free(a->vendor);
        kt_free(a->os);
        kt_free(a->confidence);
        kt_free(a->removal_method);
        kt_free(a->backing_ref);
        kt_free(a->component);
        kt_free(a->file);
        if (a->source && a->source->release)
            a->source->release(a->spec);
        defs_name_rule_release(&a->product);
        defs_name_rule_release(&a->version);
    }
    kt_free(set->artifacts);
    for (size_t i = 0; i < set->nproducts; i++) {
        kt_free(set->products[i].id);
        kt_free(set->products[i].vendor);
        kt_free(set->products[i].os);
        kt_free(set->products[i].name);
        kt_free(set->products[i].exemption);
        kt_free(set->products[i].file);
        kt_strlist_release(&set->products[i].match);
    }
    kt_free(set->products);
    for (size_t i = 0; i < set->nmilestones; i++) {
        kt_free(set->milestones[i].id);
        kt_free(set->milestones[i].meaning);
        kt_free(set->milestones[i].file);
    }
    kt_free(set->milestones);
    kt_strlist_release(&set->files);
    kt_strlist_release(&set->sha256);
    kt_strlist_release(&set->skipped);
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
