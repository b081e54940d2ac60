/* kavtrace: the main job for one evidence item: its inventory (volumes,
 * filesystems, systems), collection, timeline and findings. */
#ifndef KAVTRACE_SCAN_H
#define KAVTRACE_SCAN_H

#include "kavtrace/artifacts.h"
#include "kavtrace/collect.h"
#include "kavtrace/findings.h"
#include "kavtrace/inventory.h"
#include "kavtrace/output.h"
#include "kavtrace/system.h"
#include "kavtrace/timeline.h"

typedef struct kt_scan_system {
    const kt_volume *volume; /* borrowed from the scan's inventory */
    char fs[16];
    kt_system sys;  /* a copy of the inventory's system on that volume, without its host
                     * context (hives, zone: inv's alone) */
    char zone[128]; /* the zone local times were converted with */
    kt_system_finding findings;
} kt_scan_system;

/* One file of the evidence (an EWF segment, a split raw part, the image). */
typedef struct kt_evidence_file {
    char *path;      /* as the image names it (owned) */
    int64_t size;    /* -1: could not be read */
    char sha256[65]; /* with --hash only; "" otherwise or when unreadable */
} kt_evidence_file;

struct kt_provenance;

typedef struct kt_scan {
    unsigned inventory_flags; /* set before kt_scan_run: KT_INVENTORY_NO_VSS, ... */
    unsigned collect_flags;   /* set before kt_scan_run: KT_COLLECT_DEEP */
    const kt_keys *keys;      /* set before kt_scan_run: keys for encrypted volumes (borrowed),
                                 NULL: none */
    kt_inventory inv;         /* the evidence item, opened (owned); inv.digest once hashed */
    kt_scan_system *systems;
    size_t nsystems;
    kt_timeline tl;
    kt_diags warnings; /* every diagnostic, in order: the image's, then each volume's */
    kt_collect_stats stats;
    kt_time started, finished;
    uint64_t process_read;      /* bytes the process had read when done (/proc/self/io rchar) */
    char run_id[KT_RUN_ID_MAX]; /* the run's id, set by the caller for the outputs; "" none */
    const struct kt_provenance *prov; /* the run's provenance (borrowed), NULL: none */
    kt_evidence_file *files;          /* kt_scan_evidence_files */
    size_t nfiles;
} kt_scan;

/* Progress: called before each volume with a filesystem (may be NULL). */
typedef void (*kt_scan_progress)(void *ctx, const char *what);

/* Scan one evidence item: take its inventory (kt_inventory_open with
 * out->inventory_flags and out->keys), then collect from each system in volume order,
 * the volume's own files first, then each of its shadow copies, oldest
 * first. An unreadable image is an
 * error; problems inside it are warnings in out->warnings: the image's,
 * then each volume's own followed by what its collection found. *out must
 * be zero-initialised and is released with kt_scan_release (also after an
 * error). */
int kt_scan_run(const kt_artifact_set *set, const char *path, kt_scan *out,
                kt_scan_progress progress, void *progress_ctx, kt_error *err);
void kt_scan_release(kt_scan *s);

/* Hash the scanned evidence's media (kt_inventory_hash) and add to
 * s->warnings what a reader of the result must know: the media could not
 * be read in full (so no hash of it is reported), or a stored hash does not
 * match. Errors are kt_inventory_hash's, and out of memory. */
int kt_scan_hash(kt_scan *s, kt_hash_progress progress, void *progress_ctx, kt_error *err);

/* The files that make the evidence, with their sizes and, when hash, the
 * SHA-256 of each (read end to end). A file that cannot be read is said
 * in s->warnings, its size -1. Errors: out of memory. */
int kt_scan_evidence_files(kt_scan *s, bool hash, kt_error *err);

#endif
