/* kavtrace: a case, many evidence items processed as one batch.
 *
 * What a batch needs beyond one scan: the identity of an evidence item on
 * disk (to tell whether earlier outputs still belong to it), the hash of
 * the artifact definitions a scan used, which files under a folder are
 * evidence (each split or EWF set once), and the case summary built from
 * the items' output folders (case.json, case.csv). */
#ifndef KAVTRACE_CASE_H
#define KAVTRACE_CASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/buf.h"
#include "kavtrace/error.h"

/* The evidence's files as stored: every segment of a split or EWF set
 * (as kavtrace opens them), or the directory itself for a tree. */
typedef struct kt_evidence_stamp {
    int64_t bytes;    /* their sizes added up; -1 for a directory */
    int64_t mtime_ns; /* the newest modification time, ns since 1970 UTC */
    int files;        /* how many */
} kt_evidence_stamp;

/* Stamp the evidence at path. KT_EIO when it cannot be looked at. */
int kt_evidence_stamp_get(const char *path, kt_evidence_stamp *out, kt_error *err);

/* SHA-256 (lowercase hex) over every regular file under the definitions
 * directory dir, in byte order of their relative paths: each path, a NUL,
 * its size as 20 digits and its bytes. Folders are followed 16 deep. */
int kt_definitions_hash(const char *dir, char out[65], kt_error *err);

/* What a name in a folder is to a batch looking for evidence. */
typedef enum kt_evidence_kind {
    KT_EVK_NONE,  /* not evidence kavtrace opens by this name */
    KT_EVK_FIRST, /* an image, or the first file of a set (x.E01, x.001, x.vmdk) */
    KT_EVK_PART,  /* a later file of a set (x.E02, x.002, x-flat.vmdk): opened with its first */
} kt_evidence_kind;

/* By name alone; `dir` is the folder holding it (to tell whether x.001
 * follows an x.000). */
kt_evidence_kind kt_evidence_kind_of(const char *dir, const char *name);

/* A folder that is the root of a system (Windows: Windows/System32;
 * Linux and other Unix: etc and usr; macOS: System/Library): evidence as a
 * whole, not a folder of evidence to look through. */
bool kt_dir_is_system_root(const char *dir);

/* One item of a case, as the batch ran it. */
typedef struct kt_case_item {
    const char *id;                           /* its folder's name in OUTDIR */
    const char *evidence;                     /* the path scanned */
    const char *custodian, *key_file, *notes; /* from the manifest, or NULL */
    const char *status;  /* "ok", "failed", "timed-out", "skipped", "not-run" */
    const char *message; /* why it failed, or NULL */
    int64_t run_ms;      /* wall time of this run's work on it; 0 when skipped */
} kt_case_item;

#define KT_CASE_JSON "case.json"
#define KT_CASE_CSV "case.csv"
#define KT_CASE_INDEX "index.html"
#define KT_CASE_SQLITE "case.sqlite"

/* The case outputs besides case.json and case.csv. */
enum {
    KT_CASE_HTML = 1 << 0,      /* index.html: a row per item, linking its report.html */
    KT_CASE_SQLITE_DB = 1 << 1, /* case.sqlite: every item's kavtrace.sqlite merged */
};

/* Build case.json, case.csv and the `outputs` asked for in outdir from
 * items (n of them, in any order: the rows are sorted by id) and each
 * item's outputs in outdir/ID/: findings.json (read for "ok" and
 * "skipped" items), and kavtrace.sqlite for case.sqlite. An item whose
 * outputs cannot be read turns "failed" with the reason, in every case
 * output alike. Each file is written beside and renamed into place; an
 * index.html or case.sqlite not asked for is removed (it would be an
 * older batch's). *all_ok: every item ok or skipped. */
int kt_case_write(const char *outdir, const kt_case_item *items, size_t n, unsigned outputs,
                  bool *all_ok, kt_error *err);

#endif
