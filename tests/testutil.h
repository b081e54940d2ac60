/* Shared helpers for the Check suites: where the evidence and ground truth
 * are, a TSV reader for the ground-truth files, and running the CLI. */
#ifndef KT_TESTUTIL_H
#define KT_TESTUTIL_H

#include <check.h>
#include <stddef.h>

#include "kavtrace/buf.h"
#include "kavtrace/time.h"

#define TSV_MAX_FIELDS 16

typedef struct tsv_row {
    int line;
    int nfields;
    char *f[TSV_MAX_FIELDS];
} tsv_row;

typedef struct tsv {
    tsv_row *rows;
    size_t count;
    char *text;
} tsv;

/* Directories from the environment (set by ctest). */
const char *evidence_dir(void); /* KT_EVIDENCE_DIR: built evidence */
const char *testdata_dir(void); /* KT_TESTDATA_DIR: scripts and ground truth */
/* KT_CORPUS_DIR: ../shared/corpus; KT_CORPUS_UNPACKED: unpacked copies of it */
const char *corpus_dir(void);
const char *corpus_unpacked_dir(void);
const char *kavtrace_bin(void); /* KT_BIN */

/* Join dir and name into a static-lifetime-free buffer owned by the caller. */
char *path_join(const char *dir, const char *name);

/* Read a TSV file: '#' lines and blank lines skipped. Aborts the test on a
 * read error. */
void tsv_load(tsv *t, const char *path);
void tsv_free(tsv *t);
/* Load testdata/NAME (e.g. "truth/volumes.tsv"). */
void truth_load(tsv *t, const char *name);

/* Parse an ISO time from ground truth, failing the test if malformed. */
kt_time truth_time(const char *s);

/* Decode "text:..." ground-truth content (\n \r \t \\ escapes) into out. */
void truth_text(const char *content, kt_buf *out);

/* Run a command line (sh -c) and capture stdout and stderr; returns the
 * exit status. */
int run_capture(const char *cmd, kt_buf *out, kt_buf *errout);

/* Read a whole file into out (appended; NUL-terminated), failing the test
 * if it cannot be read. */
void file_load(const char *path, kt_buf *out);

/* Load the shipped artifact definitions (testdata/../artifacts). */
struct kt_artifact_set;
void load_shipped_artifacts(struct kt_artifact_set *set);

/* A shell script (#!/bin/sh, then body) at a new temporary path, run
 * bit set: a stand-in for a reader program. The caller unlinks and frees
 * the path. */
char *script_file(const char *body);

/* SHA-256 of a file as lowercase hex, by sha256sum. */
void file_sha256(const char *path, char out[65]);

/* main() for a suite: runs it and exits non-zero on any failure. */
#define KT_TEST_MAIN(make_suite)                                                                   \
    int main(void)                                                                                 \
    {                                                                                              \
        SRunner *sr = srunner_create(make_suite());                                                \
        srunner_run_all(sr, CK_NORMAL);                                                            \
        int failed = srunner_ntests_failed(sr);                                                    \
        srunner_free(sr);                                                                          \
        return failed ? 1 : 0;                                                                     \
    }

#endif
