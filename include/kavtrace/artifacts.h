/* kavtrace: artifact definitions, the knowledge as data.
 *
 * Definitions are YAML files under a directory (artifacts/ by default):
 * products (how a name found on disk maps to a product), artifacts (where
 * to look and what a find means) and milestones (the dates findings are
 * measured against). docs/artifacts.md describes the format. Collectors
 * know formats; only these files know vendors. */
#ifndef KAVTRACE_ARTIFACTS_H
#define KAVTRACE_ARTIFACTS_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/buf.h"
#include "kavtrace/error.h"
#include "kavtrace/event.h"
#include "kavtrace/time.h"

/* Limits on what one definitions directory may hold (docs/artifacts.md,
 * "Limits"). Past any of them the load fails with a problem that names the
 * file (and the line): nothing is cut short without a word. */
#define KT_ARTIFACTS_MAX_FILES 256               /* *.yaml / *.yml files */
#define KT_ARTIFACTS_MAX_ITEMS 4096              /* products, artifacts and milestones */
#define KT_ARTIFACTS_MAX_DIR_DEPTH 8             /* folders below the directory */
#define KT_ARTIFACTS_MAX_FILE_SIZE (1024 * 1024) /* bytes of one file */
#define KT_ARTIFACTS_MAX_NESTING 16              /* levels of lists and mappings */
#define KT_ARTIFACTS_MAX_LIST 256     /* entries of a list or mapping (globs, paths, keys, ...) */
#define KT_ARTIFACTS_MAX_PATTERN 1024 /* bytes of a glob, path, regex or time pattern */
#define KT_ARTIFACTS_MAX_REGEX_SIZE 2000 /* positions of a regex, its repeats written out */

/* The milestones the verdicts are measured against (src/findings.c):
 * scan and `artifacts check` refuse a set without them. */
#define KT_MILESTONE_SALES_BAN "sales_ban"
#define KT_MILESTONE_CUTOFF "cutoff"

/* How a registry value (or a database column) holds a time. */
typedef enum kt_encoding {
    KT_ENC_NONE,
    KT_ENC_FILETIME,         /* REG_QWORD or 8 bytes LE: 100 ns since 1601 */
    KT_ENC_UNIX,             /* REG_DWORD/QWORD seconds since 1970 */
    KT_ENC_UNIX_OR_FILETIME, /* DWORD = Unix seconds, QWORD = FILETIME */
    KT_ENC_YYYYMMDD,         /* REG_SZ date, day precision */
    KT_ENC_PATTERN,          /* REG_SZ read with a time pattern */
} kt_encoding;

/* Which stored time of a file a find takes. */
typedef enum kt_file_time {
    KT_FT_SI_CREATED,
    KT_FT_SI_MODIFIED,
    KT_FT_SI_CHANGED,
    KT_FT_SI_ACCESSED,
    KT_FT_FN_CREATED,
    KT_FT_FN_MODIFIED,
    KT_FT_FN_CHANGED,
    KT_FT_FN_ACCESSED,
    KT_FT_PARENT_MODIFIED, /* a deleted entry: its directory's last change */
    KT_FT_COUNT,
} kt_file_time;

/* Where a product name or version comes from. */
typedef enum kt_name_from {
    KT_NAME_NONE,
    KT_NAME_FIXED,     /* text */
    KT_NAME_VALUE,     /* registry value (or dictionary key) `text` of the find */
    KT_NAME_KEY,       /* the matched key's name */
    KT_NAME_COMPONENT, /* path component `component` (0-based; -1 = last) */
    KT_NAME_STRING,    /* event record string (EventData item) `component` */
    KT_NAME_GROUP,     /* capture group `component` of the parse regex */
    KT_NAME_COLUMN,    /* result column `component` of an SQLite query */
    KT_NAME_PACKAGE,   /* the package's name (packages) */
} kt_name_from;

typedef struct kt_name_rule {
    kt_name_from from;
    char *text;
    int component;
    bool has_regex;
    regex_t regex; /* first capture group is the result */
    /* then, when given, what that result means: map_from[i] (exact) gives
     * map_to[i]; a result the map does not hold gives nothing */
    kt_strlist map_from, map_to;
    /* what was read (before the regex) matching one of these globs, case
     * folded, gives nothing: "Kaspersky VPN 5.2" names no product version */
    kt_strlist unless;
} kt_name_rule;

/* A filter: value (or EventData index, or dictionary key) `value` must
 * match one of `globs`, case-insensitively. */
typedef struct kt_where {
    char *value;
    kt_strlist globs;
} kt_where;

/* What backs a definition: the kind of source that shows the artifact
 * (its path, name or record, for this vendor) exists, weakest first, so
 * that the larger value is the stronger. KT_BACKING_UNKNOWN: the
 * definition says nothing. */
typedef enum kt_backing {
    KT_BACKING_UNKNOWN,
    KT_BACKING_INFERRED,    /* not read anywhere: reasoned from the OS's behaviour */
    KT_BACKING_THIRD_PARTY, /* third-party tools, rules, scripts */
    KT_BACKING_VENDOR_DOC,  /* the vendor's own documentation */
    KT_BACKING_REAL,        /* seen in a real file or capture */
    KT_BACKING_COUNT,
} kt_backing;

/* "unknown", "inferred", "third-party", "vendor-doc", "real". */
const char *kt_backing_name(kt_backing b);
/* The kind a definition names; KT_BACKING_UNKNOWN when `name` is none of
 * inferred, third-party, vendor-doc, real. */
kt_backing kt_backing_from_name(const char *name);

/* A source of finds: registry, files, evtx, ... One table entry each
 * (src/collect/source.h); an artifact names exactly one. */
typedef struct kt_source_ops kt_source_ops;

/* One definition: what every source shares, then the source's own part
 * (`spec`, parsed, read and released by the source alone). */
typedef struct kt_artifact {
    char *id;
    char *description;
    char *vendor;
    char *os; /* "windows", "linux", "macos" */
    kt_category category;
    kt_role role;
    char *confidence;
    char *removal_method;  /* what a removal find says about how */
    bool installer_record; /* the installer's own record: its install time wins */
    bool ksn_disabled;     /* a ksn find that shows KSN turned off */
    bool join_primary;     /* a find naming no known product joins the vendor's primary one */
    kt_backing backing;    /* what backs the definition */
    char *backing_ref;     /* where that is written ("real-world-kaspersky.md §3.3"), or NULL */
    char *component;       /* role integration: the Kaspersky component's product id */
    char *file;
    int line;
    kt_name_rule product;
    kt_name_rule version;
    const kt_source_ops *source;
    void *spec;
} kt_artifact;

/* The source's name ("registry", "files", "evtx", ...) and the one-line
 * detail `artifacts list` shows ("SOFTWARE", "files: lines"). */
const char *kt_artifact_source(const kt_artifact *a);
void kt_artifact_source_detail(const kt_artifact *a, char *buf, size_t len);

/* Every source kind, in table order: its YAML key and a summary (for
 * docs/artifacts.md, which a test checks against this list). */
size_t kt_source_count(void);
const char *kt_source_key(size_t i);
const char *kt_source_summary(size_t i);

typedef struct kt_product_def {
    char *id;
    char *vendor;
    char *name;
    kt_strlist match;      /* names that mean this product (globs) */
    bool primary;          /* finds of `join: primary` artifacts naming no product join it */
    bool no_signatures;    /* `signatures: false`: its signature_update finds are updates */
    bool migration_target; /* the product a Kaspersky install was moved to */
    char *os;              /* only finds of artifacts for this system (NULL: any) */
    /* `coverage` (products of the subject vendor, kaspersky): false for
     * `covered` (the verdicts are computed over it), true for `exempt`
     * (listed, never a verdict's subject), with the exemption family in
     * `exemption` ("threat-intelligence", "security-training",
     * "consulting"; NULL when covered or not the subject vendor's). */
    bool has_coverage;
    bool exempt;
    char *exemption;
    char *file;
    int line;
} kt_product_def;

/* The exemption families of the Final Determination, as definitions name
 * them: "threat-intelligence", "security-training", "consulting". */
bool kt_exemption_family_known(const char *name);

typedef struct kt_milestone {
    char *id;
    kt_time time;
    bool date_only;
    char *meaning;
    char *file;
    int line;
} kt_milestone;

typedef struct kt_artifact_set {
    kt_product_def *products;
    size_t nproducts;
    kt_artifact *artifacts;
    size_t nartifacts;
    kt_milestone *milestones; /* sorted by time */
    size_t nmilestones;
    kt_strlist files;
    kt_strlist sha256; /* each file's SHA-256 as read (lowercase hex; "" unread) */
    /* "PATH: skipped: a FIFO ..." for each *.yaml that is not a file (a
     * FIFO, a device, a socket): passed by unopened, not a problem. */
    kt_strlist skipped;
    /* Patterns kept (globs, paths, regexes, time patterns): one that could
     * not be kept fails the load, so this is the count every one. */
    size_t npatterns;
} kt_artifact_set;

/* Load every *.yaml under dir (recursively, in name order). Problems in
 * the definitions are added to `problems` as "FILE:LINE: message"; the
 * return is KT_EFORMAT when there is any, after loading everything that
 * could be. Out of memory (anywhere, adding a problem too) is KT_ENOMEM
 * and err says so. *set must be zero-initialised; release with
 * kt_artifact_set_release (also after an error). */
int kt_artifacts_load(const char *dir, kt_artifact_set *set, kt_strlist *problems, kt_error *err);
void kt_artifact_set_release(kt_artifact_set *set);

/* The milestones the verdicts read (KT_MILESTONE_*) are all there, and
 * the sales ban is before the cutoff; each that is not is a problem naming
 * the file that holds the milestones (else dir). Returns KT_EFORMAT when
 * there is any, KT_ENOMEM when a problem could not be added. */
int kt_artifacts_check_milestones(const kt_artifact_set *set, const char *dir,
                                  kt_strlist *problems);

const char *kt_file_time_name(kt_file_time f);

/* The product definition whose match globs fit `name` (NULL if none). */
const kt_product_def *kt_artifacts_product_for(const kt_artifact_set *set, const char *vendor,
                                               const char *name);
/* The same for a find of an artifact for system `os` (products limited to
 * another system are skipped). */
const kt_product_def *kt_artifacts_product_for_os(const kt_artifact_set *set, const char *vendor,
                                                  const char *os, const char *name);
const kt_product_def *kt_artifacts_product(const kt_artifact_set *set, const char *id);
const kt_milestone *kt_artifacts_milestone(const kt_artifact_set *set, const char *id);

#endif
