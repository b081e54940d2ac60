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
#include "kavtrace/time.h"

/* Limits on what one definitions directory may hold. */
#define KT_ARTIFACTS_MAX_FILES 256
#define KT_ARTIFACTS_MAX_ITEMS 4096

typedef enum kt_category {
    KT_CAT_INSTALL,
    KT_CAT_SIGNATURE_UPDATE,
    KT_CAT_CODEBASE_UPDATE,
    KT_CAT_KSN,
    KT_CAT_REMOVAL,
    KT_CAT_EXECUTION,
    KT_CAT_DETECTION,
    KT_CAT_PRESENCE,
    KT_CAT_MIGRATION,
    KT_CAT_CONFIG,
    KT_CAT_COUNT,
} kt_category;

/* What a find says about the product's state at acquisition. */
typedef enum kt_role {
    KT_ROLE_NONE,
    KT_ROLE_REGISTRATION, /* uninstall entry, service, product key, package */
    KT_ROLE_PROGRAM,      /* program or data files */
    KT_ROLE_RESIDUE,      /* files that outlive an uninstall (drivers) */
} kt_role;

typedef enum kt_encoding {
    KT_ENC_NONE,
    KT_ENC_FILETIME,         /* REG_QWORD or 8 bytes LE: 100 ns since 1601 */
    KT_ENC_UNIX,             /* REG_DWORD/QWORD seconds since 1970 */
    KT_ENC_UNIX_OR_FILETIME, /* DWORD = Unix seconds, QWORD = FILETIME */
    KT_ENC_YYYYMMDD,         /* REG_SZ date, day precision */
    KT_ENC_PATTERN,          /* REG_SZ read with a time pattern */
} kt_encoding;

typedef enum kt_precision {
    KT_PREC_NS,
    KT_PREC_100NS,
    KT_PREC_MS,
    KT_PREC_SECOND,
    KT_PREC_MINUTE,
    KT_PREC_DAY,
} kt_precision;

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

/* A time pattern: %Y %m %d %H %M %S (fixed width), %-m %-d %-H %-I (one
 * or two digits), %I with %p (12-hour clock, AM/PM), %f (milliseconds,
 * three digits), %z (a UTC offset: +HH, +HHMM or +HH:MM; the result is
 * then UTC) and literal characters; a space matches one or more
 * spaces. A pattern without a date (time_only) gives the time of day and
 * needs a date from elsewhere; one without a year (no_year) parses as in
 * the year 2000 and needs the year from elsewhere. */
typedef struct kt_time_pattern {
    char *pattern;
    bool local;             /* wall-clock time of the analysed system */
    bool time_only;         /* no %Y %m %d */
    bool no_year;           /* %m and %d without %Y: the year comes from elsewhere */
    bool has_offset;        /* %z: the text carries its UTC offset */
    kt_precision precision; /* derived from the fields present */
} kt_time_pattern;

/* Where a product name or version comes from. */
typedef enum kt_name_from {
    KT_NAME_NONE,
    KT_NAME_FIXED,     /* text */
    KT_NAME_VALUE,     /* registry value `text` of the matched key */
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
} kt_name_rule;

typedef struct kt_time_rule {
    bool key_written; /* the key's LastWrite instead of a value */
    char *value;
    kt_encoding encoding;
    kt_time_pattern pattern;
    kt_category category;
    bool category_set; /* else the artifact's */
} kt_time_rule;

typedef struct kt_file_time_rule {
    kt_file_time field;
    kt_category category;
    bool category_set;
} kt_file_time_rule;

typedef struct kt_where {
    char *value;      /* value name */
    kt_strlist globs; /* any may match, case-insensitively */
} kt_where;

typedef enum kt_source {
    KT_SRC_REGISTRY,
    KT_SRC_FILES,
    KT_SRC_EVTX,
    KT_SRC_SQLITE,
    KT_SRC_PREFETCH,
    KT_SRC_PACKAGES,
    KT_SRC_PLIST,
} kt_source;

/* Package databases and logs (packages.h has the parsers). */
typedef enum kt_pkg_format {
    KT_PKGF_DPKG_STATUS,
    KT_PKGF_DPKG_LOG,
    KT_PKGF_APT_HISTORY,
    KT_PKGF_RPMDB,
    KT_PKGF_DNF_LOG,
    KT_PKGF_YUM_LOG,
    KT_PKGF_COUNT,
} kt_pkg_format;

#define KT_PKG_ACTION_COUNT                                                                        \
    7 /* kt_pkg_action: state, install, upgrade, downgrade, reinstall,                             \
       * remove, purge */

/* One event id an event-log artifact takes, and what it means. */
typedef struct kt_evtx_event {
    uint32_t id;
    kt_category category;
    bool category_set;
} kt_evtx_event;

typedef enum kt_parse_format {
    KT_PARSE_NONE,
    KT_PARSE_LINE,  /* text lines against `regex`; group 1 of the first match is the time */
    KT_PARSE_LINES, /* every matching line is a find of its own */
    KT_PARSE_XML,   /* the root element's first present attribute of `attributes` */
} kt_parse_format;

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
    char *file;
    int line;
    kt_source source;

    /* registry */
    char *hive; /* SOFTWARE, SYSTEM, NTUSER */
    kt_strlist keys;
    kt_where *where;
    size_t nwhere;
    kt_time_rule *times;
    size_t ntimes;

    /* files */
    kt_strlist paths;
    int type;     /* 0 any, 1 file, 2 directory */
    bool deleted; /* deleted entries count too */
    kt_file_time_rule *file_times;
    size_t nfile_times;
    kt_parse_format parse;
    bool has_parse_regex;
    regex_t parse_regex;
    kt_strlist attributes;
    kt_time_pattern parse_time;
    bool parse_date_from_name; /* a time-of-day pattern dated by name_time */
    bool has_name_time;
    regex_t name_regex;
    kt_time_pattern name_time;

    /* event logs (paths, deleted and where are shared with files/registry;
     * a where key is an EventData index) */
    kt_strlist providers;
    kt_evtx_event *events;
    size_t nevents;
    /* a time read from an EventData string instead of TimeCreated */
    bool has_string_time;
    int string_time_index;
    regex_t string_time_regex; /* group 1 is the time text */
    kt_time_pattern string_time;

    /* SQLite databases (paths, deleted, file times shared with files) */
    char *query;                 /* SELECT; the first column is the time unless `tables` */
    kt_encoding column_encoding; /* of the time column */
    bool tables;                 /* record the database's tables, not rows */

    /* files whose content must match (files) */
    bool has_content_regex;
    regex_t content_regex;

    /* property lists (paths, deleted, where shared): the dictionary key
     * holding the date */
    char *plist_time_key;

    /* packages (paths and deleted shared with files) */
    kt_pkg_format pkg_format;
    kt_strlist pkg_names;                        /* package name globs */
    bool pkg_action_set[KT_PKG_ACTION_COUNT];    /* actions taken */
    kt_category pkg_action[KT_PKG_ACTION_COUNT]; /* and what each means */

    kt_name_rule product;
    kt_name_rule version;
} kt_artifact;

typedef struct kt_product_def {
    char *id;
    char *vendor;
    char *name;
    kt_strlist match;      /* names that mean this product (globs) */
    bool primary;          /* unattributed finds of its vendor join it */
    bool migration_target; /* the product a Kaspersky install was moved to */
    char *os;              /* only finds of artifacts for this system (NULL: any) */
    char *file;
    int line;
} kt_product_def;

typedef struct kt_milestone {
    char *id;
    kt_time time;
    bool date_only;
    char *meaning;
} kt_milestone;

typedef struct kt_artifact_set {
    kt_product_def *products;
    size_t nproducts;
    kt_artifact *artifacts;
    size_t nartifacts;
    kt_milestone *milestones; /* sorted by time */
    size_t nmilestones;
    kt_strlist files;
} kt_artifact_set;

/* Load every *.yaml under dir (recursively, in name order). Problems in
 * the definitions are added to `problems` as "FILE:LINE: message"; the
 * return is KT_EFORMAT when there is any, after loading everything that
 * could be. *set must be zero-initialised; release with
 * kt_artifact_set_release (also after an error). */
int kt_artifacts_load(const char *dir, kt_artifact_set *set, kt_strlist *problems, kt_error *err);
void kt_artifact_set_release(kt_artifact_set *set);

const char *kt_category_name(kt_category c);
const char *kt_role_name(kt_role r);
const char *kt_precision_name(kt_precision p);
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

/* Parse `text` with a time pattern into wall-clock-as-UTC nanoseconds.
 * Returns 0 or KT_EFORMAT. */
int kt_time_pattern_parse(const kt_time_pattern *p, const char *text, kt_time *out);

#endif
