/* kavtrace: one evidence item's output folder, written whole or left
 * visibly partial.
 *
 * The outputs are written into a new folder beside the item's folder,
 * PARENT/.NAME.partial-RUNID, each file created new, written whole and
 * flushed to disk; manifest.json is written last and lists them. Only then
 * does the folder take the item's name: an older run's folder there is
 * moved aside (PARENT/.NAME.old-RUNID), the new one renamed into place,
 * and the older one deleted. After a failure the partial folder stays as
 * it is, and an older run's folder is renamed NAME.stale-RUNID, so nothing
 * at NAME looks current that this run did not finish. */
#ifndef KAVTRACE_OUTPUT_H
#define KAVTRACE_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/buf.h"
#include "kavtrace/error.h"

/* "20240314T101500Z-9f2c4e1a7b3d5c60": the run's UTC start and 64 random
 * bits, in every output of the run. */
#define KT_RUN_ID_MAX 40
int kt_run_id_new(char out[KT_RUN_ID_MAX], kt_error *err);

/* Write all n bytes to fd (short writes and EINTR retried). 0, or -errno. */
int kt_write_all(int fd, const void *p, size_t n);

#define KT_MANIFEST_FILE "manifest.json"
#define KT_OUTDIR_PATH_MAX 4096
#define KT_OUTDIR_MAX_FILES 16

typedef struct kt_output_file {
    char name[64];
    uint64_t size;
    char sha256[65]; /* lowercase hex */
} kt_output_file;

typedef struct kt_outdir {
    char final[KT_OUTDIR_PATH_MAX];   /* the item's folder, once complete */
    char partial[KT_OUTDIR_PATH_MAX]; /* where its outputs are written until then */
    char run_id[KT_RUN_ID_MAX];
    kt_output_file files[KT_OUTDIR_MAX_FILES]; /* written so far, in order */
    size_t nfiles;
    char old[KT_OUTDIR_PATH_MAX]; /* an older run's folder, moved aside by the commit */
    bool replaced;                /* ... and not deleted yet */
} kt_outdir;

/* What the manifest says besides the files. */
typedef struct kt_manifest_info {
    const char *version;
    const char *evidence;  /* the evidence path as given */
    int64_t evidence_size; /* bytes of media; -1: unknown */
    /* The evidence's files as stored (kavtrace/case.h's kt_evidence_stamp)
     * and the definitions' hash, by which a batch knows the outputs still
     * belong to them; not written when definitions_sha256 is NULL. */
    const char *definitions_sha256;
    int evidence_files;
    int64_t evidence_files_bytes; /* -1: a directory */
    int64_t evidence_files_mtime; /* ns since 1970 UTC */
} kt_manifest_info;

/* KT_OK when final may take a new run's outputs: it does not exist, or it
 * is a directory holding nothing but regular files kavtrace writes (its
 * outputs, scan.log, manifest.json). Else KT_EARG and why ("exists and is
 * not a directory", "holds 'x', which kavtrace did not write"). */
int kt_outdir_check(const char *final, kt_error *err);

/* Make the partial folder for final (an absolute path without '.' or '..'
 * parts; its parent is made as needed). *o is written in full. */
int kt_outdir_begin(kt_outdir *o, const char *final, const char *run_id, kt_error *err);

/* Write b as the file `name` of the partial folder: made new (never
 * through a link), written whole, flushed to disk, its size and SHA-256
 * kept for the manifest. On failure ("cannot write 'name': reason") what
 * was written of it is removed, to free the space for the log. */
int kt_outdir_write(kt_outdir *o, const char *name, const kt_buf *b, kt_error *err);

/* Write manifest.json, flush the folder, and put it in place of final (an
 * older folder there moved aside first). On failure nothing is in place:
 * the partial folder is kept for kt_outdir_abandon, an older folder put
 * back. */
int kt_outdir_commit(kt_outdir *o, const kt_manifest_info *info, kt_error *err);

/* After the commit: flush the rename to disk and delete the older folder
 * moved aside. A failure leaves the outputs in place (the error says
 * where the older ones are left). */
int kt_outdir_finish(kt_outdir *o, kt_error *err);

/* After a failure: the partial folder stays; an older folder at final is
 * renamed NAME.stale-RUNID, its new path in stale ("" when there was
 * none). KT_EIO when it could not be renamed. */
int kt_outdir_abandon(kt_outdir *o, char *stale, size_t len, kt_error *err);

#endif
