/* The collector stage from the inside: sources, the collector, finds,
 * events, the pattern walker.
 *
 * A source is one kind of place finds come from (registry keys, files,
 * event logs, ...). Each is one entry of the table in sources.c, and all
 * of its code is one file, src/collect/<source>.c: how its part of a
 * definition reads (parse, release), what `artifacts list` shows of it
 * (detail), and how it runs one artifact on one system (collect, and
 * finish when it reads once for many artifacts, as evtx does).
 *
 * Adding a source:
 *   1. write src/collect/<name>.c with its spec struct and a
 *      `const kt_source_ops kt_source_<name>` (parse, release, collect;
 *      detail and finish when needed); build events with kt_emit_*;
 *   2. declare it below and add one line to the table in sources.c, and
 *      the file to CMakeLists.txt;
 *   3. describe its YAML in docs/artifacts.md ("Sources"): a test checks
 *      that list against the table. */
#ifndef KAVTRACE_COLLECT_SOURCE_H
#define KAVTRACE_COLLECT_SOURCE_H

#include <regex.h>
#include <stdbool.h>

#include "defs.h"
#include "kavtrace/collect.h"
#include "kavtrace/evtx.h"
#include "kavtrace/plist.h"
#include "kavtrace/registry.h"
#include "kavtrace/zone.h"

typedef struct kt_collector kt_collector;

struct kt_source_ops {
    const char *key;     /* the YAML key, and the source's name */
    const char *summary; /* one line for docs/artifacts.md */
    /* Read the definition's mapping under `key` into a->spec. */
    void (*parse)(kt_defs *d, yaml_node_t *n, kt_artifact *a);
    void (*release)(void *spec);
    /* What `artifacts list` adds to the name (may be NULL). */
    void (*detail)(const kt_artifact *a, char *buf, size_t len);
    /* Run the artifact on the collector's system. */
    void (*collect)(kt_collector *c, const kt_artifact *a);
    /* After every artifact ran (may be NULL). */
    void (*finish)(kt_collector *c);
    /* Run on the system's data volumes too (kt_collect_data_volume): a
     * source that reads a volume's own metadata, not the system's files. */
    bool data_volumes;
};

extern const kt_source_ops kt_source_registry, kt_source_files, kt_source_evtx, kt_source_sqlite,
    kt_source_prefetch, kt_source_packages, kt_source_plist, kt_source_usn, kt_source_pe,
    kt_source_owner;

#define KT_SOURCES_MAX 16
extern const kt_source_ops *const kt_sources[];
extern const size_t kt_nsources;

/* A find: where a source found something, as the name rules and the
 * event's location read it. Pointers are borrowed for the call. */
typedef struct kt_find {
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
    /* a matched line (parse: lines) and its regex groups */
    const char *line;
    const regmatch_t *groups;
    size_t ngroups;
    /* a dictionary (plist) */
    const kt_plist_dict *dict;
    /* a result row (sqlite) */
    const char *const *columns;
    size_t ncolumns;
} kt_find;

/* One system being collected. */
struct kt_collector {
    const kt_artifact_set *set;
    kt_fs *fs;
    const kt_volume *vol;
    /* The system's volume: vol, except on a data volume of the system
     * (kt_collect_data_volume), whose events and diagnostics belong to the
     * system on system_vol. */
    const kt_volume *system_vol;
    const kt_system *sys;
    unsigned flags; /* KT_COLLECT_* */
    kt_event_sink *sink;
    kt_diags *diags;
    kt_collect_stats *stats;
    const kt_zone *zone;          /* the system's zone (in sys) */
    size_t zone_late, zone_early; /* local times past the zone table's release, before it */
    kt_hive *amcache;             /* loaded when an artifact asks for it */
    bool amcache_tried;
    struct kt_user_hive {
        char path[KT_FS_PATH_MAX];
        kt_hive *hive;
    } * users;
    size_t nusers;
    bool users_tried;
    int rc; /* the first fatal error (out of memory) */
    /* The program folders the white-label search covered (role searched),
     * "'A', 'B'": one note says so when collection ends (emit.c). */
    char searched[1024];
    /* The files the integration finds so far were found at, and their
     * hosts (the same index): what the host_product source matches
     * uninstall entries against. */
    kt_strlist integration_paths, integration_hosts;
    void *state[KT_SOURCES_MAX]; /* a source's own state, by table index */
    /* the entries one artifact found so far: two paths to one file (a
     * linked directory, /var and /private/var on macOS) are one find */
    struct kt_seen {
        uint64_t inode;
        bool deleted;
    } * seen;
    size_t nseen, seen_cap;
    /* kt_collect_diag's index of diags->items[0..diag_indexed): a hash
     * table (open addressing) of item index + 1, 0 for a free slot */
    size_t *diag_index;
    size_t diag_index_cap, diag_indexed;
};

/* The state slot of source `s` (NULL when s is not in the table). */
void **kt_collect_state(kt_collector *c, const kt_source_ops *s);

/* A diagnostic of this volume (path and artifact may be NULL). */
void kt_collect_diag(kt_collector *c, kt_severity sev, const char *code, const char *path,
                     const kt_artifact *a, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* ---- events (emit.c): the only code that adds to the timeline ---- */

typedef struct kt_event_draft {
    kt_event ev;
    char product[256], version[128];
} kt_event_draft;

/* Start an event of artifact a about find f: the artifact's category,
 * role, vendor and removal method, the volume, product and version by the
 * artifact's rules. */
void kt_emit_begin(kt_collector *c, const kt_artifact *a, const kt_find *f, kt_event_draft *e);
/* The product and version from other text (a package's name and version):
 * the rule's regex applies, and the product definition is looked up. */
void kt_emit_product(kt_collector *c, const kt_artifact *a, kt_event_draft *e, const char *product);
void kt_emit_version(const kt_artifact *a, kt_event_draft *e, const char *version);
/* The event is about file f (path, inode, allocation). */
void kt_emit_file(kt_event_draft *e, const kt_find *f);
/* Add the event; `what` ends its description ("" for nothing). */
void kt_emit(kt_collector *c, kt_event_draft *e, const char *what);
/* The note (KT_DIAG_WHITELABEL_SEARCHED) naming the program folders the
 * white-label search covered, when it covered any. */
void kt_emit_searched(kt_collector *c);

/* Local wall-clock time to UTC with the system's zone; false when there
 * is none. *flags as kt_zone_to_utc. */
bool kt_collect_to_utc(kt_collector *c, kt_time *t, int *flags);
/* Convert a parsed time as its pattern says and append how to src;
 * *zone is the zone's name when one converted it. */
void kt_collect_convert(kt_collector *c, const kt_time_pattern *tp, kt_time *t, char *src,
                        size_t srclen, const char **zone);

/* Rule r's regex applied to in: its first group, or in itself. */
void kt_collect_apply_regex(const kt_name_rule *r, const char *in, char *out, size_t len);
/* Component i of a path separated by sep (negative: from the end). */
void kt_collect_component(const char *path, int i, char sep, char *out, size_t len);

/* ---- files (files_common.c): what every file-based source shares ---- */

typedef struct kt_file_time_rule {
    kt_file_time field;
    kt_category category;
    bool category_set;
} kt_file_time_rule;

typedef struct kt_file_part {
    kt_strlist paths;
    int type;     /* 0 any, 1 file, 2 directory */
    bool deleted; /* deleted entries count too */
    kt_file_time_rule *times;
    size_t ntimes;
    /* files: `names`: an entry counts only when its name matches one of
     * these globs (fnmatch, without case); empty: any name. Tested before
     * anything else about the entry, so a search over a large tree reads
     * nothing of the files it passes by. */
    kt_strlist names;
} kt_file_part;

/* paths, type, deleted, times, product, version. */
void kt_file_part_parse(kt_defs *d, yaml_node_t *n, kt_artifact *a, kt_file_part *fp);
void kt_file_part_release(kt_file_part *fp);

/* Walk the part's paths; `found` runs for each entry that fits. */
typedef void (*kt_file_found)(kt_collector *c, const kt_artifact *a, const kt_find *f);
void kt_file_walk(kt_collector *c, const kt_artifact *a, const kt_file_part *fp,
                  kt_file_found found);
/* The part's stored times of the entry, each an event; `what` ends each
 * event's description. */
void kt_file_time_finds(kt_collector *c, const kt_artifact *a, const kt_file_part *fp,
                        const kt_find *f, const char *what);
/* The same, each event with version `version` (through the artifact's
 * version rule) instead of the one its rule reads. */
void kt_file_time_finds_as(kt_collector *c, const kt_artifact *a, const kt_file_part *fp,
                           const kt_find *f, const char *version, const char *what);
/* Read the found file (at most limit bytes); a failure is a warning. */
int kt_file_read(kt_collector *c, const kt_artifact *a, const kt_find *f, size_t limit, kt_buf *b);
/* A file read as text holding a NUL byte (a zeroed or lost block: the line
 * readers stop there) is a warning; true when it does. */
bool kt_text_nul(kt_collector *c, const kt_artifact *a, const kt_find *f, const kt_buf *b);
kt_precision kt_file_precision(const kt_collector *c);

/* ---- the pattern walker (walk.c) ----
 * One algorithm for registry key patterns and file path patterns: split
 * the pattern on `sep`; a literal component is looked up (when the tree
 * can), a glob is matched (fnmatch) against the node's listed children;
 * every node at the pattern's end is a match.
 *
 * A component "**" (when the walker knows its node size) stands for any
 * run of 0 to KT_WALK_ANY_DEPTH nodes: the rest of the pattern is tried at
 * the node, then at each child, each grandchild, ... breadth first, so the
 * shallowest places are searched first; at most KT_WALK_ANY_NODES nodes
 * are entered below one "**" (any_cut counts the searches that stopped
 * there). */

#define KT_WALK_NODE_MAX 256
#define KT_WALK_MAX_DEPTH 256
#define KT_WALK_ANY_DEPTH 6
/* Real program folders are large (Microsoft Office, Windows Defender,
 * Common Files, WindowsApps: thousands of folders each): the bound is for
 * pathological trees. The queue holds only the folders still to list, at
 * most this many (~100 bytes each besides their paths). */
#define KT_WALK_ANY_NODES 131072

typedef void (*kt_walk_each)(void *walk, const char *name, const void *child);

typedef struct kt_walk {
    char sep;
    int fnm_flags;
    bool lookup_after_glob; /* literal components below a glob are looked up too */
    bool lookup_last;       /* the last component too */
    size_t path_max;        /* longer paths are skipped (0: cut to fit) */
    size_t node_size;       /* bytes of a node, for "**" (0: "**" is a plain glob) */
    size_t max_matches, matches;
    size_t any_cut;  /* "**" searches stopped at KT_WALK_ANY_NODES */
    bool nomem;      /* a "**" search ran out of memory */
    const int *stop; /* non-zero: stop walking */
    void *arg;
    /* The child of node named `name` (the tree's spelling into real,
     * its node into child); false when there is none. */
    bool (*lookup)(void *arg, const char *path, const void *node, const char *name, char *real,
                   size_t real_len, void *child);
    /* Call each(walk, name, child) for the children of node worth
     * considering (`last`: for the pattern's last component). */
    void (*list)(void *arg, const char *path, const void *node, bool last, kt_walk_each each,
                 void *walk);
    /* A node at the pattern's end: true when it counts as a match. */
    bool (*match)(void *arg, const char *path, const void *node);
} kt_walk;

/* Walk pattern from (root_path, root). Components past KT_WALK_MAX_DEPTH
 * are ignored. */
void kt_walk_run(kt_walk *w, const char *pattern, const char *root_path, const void *root);

#endif
