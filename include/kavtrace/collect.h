/* kavtrace: run the artifact definitions against one system.
 *
 * Generic per source type: registry keys and values (libhivex, hives read
 * into memory), file and directory entries with their stored times
 * (allocated and deleted), small files parsed by line or as XML, and times
 * in file names. Nothing here names a vendor: the definitions do. */
#ifndef KAVTRACE_COLLECT_H
#define KAVTRACE_COLLECT_H

#include "kavtrace/artifacts.h"
#include "kavtrace/diag.h"
#include "kavtrace/evtx.h"
#include "kavtrace/fs.h"
#include "kavtrace/system.h"
#include "kavtrace/timeline.h"
#include "kavtrace/volume.h"

#define KT_COLLECT_MAX_MATCHES 100000   /* finds per artifact */
#define KT_COLLECT_MAX_PARSE (4u << 20) /* bytes of one parsed file */
#define KT_COLLECT_MAX_DB (512u << 20)  /* bytes of one SQLite database */

typedef struct kt_collect_stats {
    size_t events;
    size_t files_read;
    size_t hives_read;
    uint64_t bytes_read; /* file and hive bytes read into memory */
} kt_collect_stats;

/* What a collection is asked to do beyond the definitions' defaults. */
enum {
    /* Read every PE under the program folders (the `deep` patterns of the
     * `pe` source), not only those the definitions single out. */
    KT_COLLECT_DEEP = 1u << 0,
};

/* Collect events for the system on fs (sys from kt_system_detect) into tl;
 * flags: KT_COLLECT_*.
 * Diagnostics (a corrupt hive, an unreadable file) go to `diags`; only
 * out-of-memory is an error. `zone` receives the time zone used for
 * local times ("" if unknown). */
int kt_collect_system(const kt_artifact_set *set, kt_fs *fs, const kt_volume *vol,
                      const kt_system *sys, unsigned flags, kt_timeline *tl, kt_diags *diags,
                      kt_collect_stats *stats, char *zone, size_t zone_len, kt_error *err);
/* The same, sending each event to `sink` (kt_collect_system's sink is
 * the timeline). */
int kt_collect_system_to(const kt_artifact_set *set, kt_fs *fs, const kt_volume *vol,
                         const kt_system *sys, unsigned flags, kt_event_sink *sink, kt_diags *diags,
                         kt_collect_stats *stats, char *zone, size_t zone_len, kt_error *err);

/* Collect from a data volume of the system sys on system_vol (vol: a
 * volume, or a shadow copy of one, that holds no system of its own, such
 * as a D: volume programs were installed to): only the sources that read
 * a volume's own metadata (today the change journal, `usn`). Events name
 * vol (kt_event.volume, .store) and belong to system_vol's system
 * (kt_event.data_volume, .system_volume); diagnostics are system_vol's,
 * their paths prefixed with "volume N: ". Only out-of-memory is an
 * error. */
int kt_collect_data_volume(const kt_artifact_set *set, kt_fs *fs, const kt_volume *vol,
                           const kt_volume *system_vol, const kt_system *sys, kt_timeline *tl,
                           kt_diags *diags, kt_collect_stats *stats, kt_error *err);

/* Event logs (the `evtx` source). The reader's filter for these
 * definitions (a must be evtx definitions): every record one of them can
 * match passes it; KT_ENOMEM on failure. */
int kt_collect_evtx_filter(const kt_artifact *const *a, size_t n, kt_strlist *filter);
/* Whether evtx definition a takes record r (its provider, event id and
 * where clauses). */
bool kt_collect_evtx_matches(const kt_artifact *a, const kt_evtx_record *r);

#endif
