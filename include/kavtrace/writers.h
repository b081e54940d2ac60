/* kavtrace: output writers, one table entry each, and the run log. A
 * writer renders a finished scan into a buffer; the caller writes the
 * buffer to OUTDIR/<file>. */
#ifndef KAVTRACE_WRITERS_H
#define KAVTRACE_WRITERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/buf.h"
#include "kavtrace/scan.h"

typedef struct kt_writer {
    const char *name; /* --format name */
    const char *file; /* output file name */
    const char *summary;
    bool on_request; /* written only when -f names it, not by default */
    int (*write)(kt_buf *out, const kt_scan *scan, const kt_artifact_set *set);
} kt_writer;

extern const kt_writer kt_writer_json;
extern const kt_writer kt_writer_csv;
extern const kt_writer kt_writer_jsonl;
extern const kt_writer kt_writer_body;
extern const kt_writer kt_writer_sqlite;
extern const kt_writer kt_writer_html;

extern const kt_writer *const kt_writers[];
extern const size_t kt_nwriters;
const kt_writer *kt_writer_find(const char *name);

/* The run log, written for every scan whatever the formats: the version,
 * the run id and the evidence, the start, each error that stopped the scan
 * or one of its outputs (errors: NULL or empty when none did), every
 * warning, what was read, the media digests when hashed, and the end (only
 * without errors). Text from the evidence is escaped (kavtrace/text.h,
 * KT_TEXT_PLAIN). Appends to out; 0 or KT_ENOMEM. s may be a scan that
 * failed part-way. */
#define KT_SCAN_LOG_FILE "scan.log"
int kt_scan_log(kt_buf *out, const kt_scan *s, const kt_strlist *errors);

/* A CSV cell (RFC 4180): control characters but LF, and bytes that are
 * not UTF-8, escaped (kavtrace/text.h, KT_TEXT_CSV); quoted when it holds
 * a comma, a quote or a line feed. Text starting with = + - @ is prefixed
 * with ' so a spreadsheet never reads it as a formula. */
int kt_csv_cell(kt_buf *out, const char *s);

/* kavtrace.sqlite's schema (docs/sqlite.md): tables, indexes and views,
 * every row carrying its item (item_id). */
extern const char kt_sqlite_schema[];

/* case.sqlite: a batch's items in kavtrace.sqlite's schema, built in
 * memory. Each item is added in turn (item_id 1, 2, ...): with its
 * kavtrace.sqlite, whose rows are copied with their ids renumbered
 * (systems, product rows) and the case's columns of items set; without,
 * an items row alone (an item that has no outputs). */
typedef struct kt_case_db kt_case_db;

typedef struct kt_case_db_item {
    const char *item; /* the batch's id of it */
    const char *status, *message;
    const char *custodian, *key_file, *notes;
    const char *evidence; /* items.path when it has no database */
} kt_case_db_item;

/* A new, empty case database; *out owned by the caller (kt_case_db_free). */
int kt_case_db_new(kt_case_db **out);

/* Add the next item; item_db (len bytes; NULL: none) is an item's
 * kavtrace.sqlite, borrowed for the call. KT_EFORMAT (err says why) when
 * it cannot be merged: nothing of it is added, and the caller may add the
 * item again without it. */
int kt_case_db_add(kt_case_db *db, const kt_case_db_item *it, const uint8_t *item_db, size_t len,
                   kt_error *err);

/* The database's bytes appended to out: the same items in the same order
 * give the same bytes. */
int kt_case_db_finish(kt_case_db *db, kt_buf *out);

/* NULL is a no-op. */
void kt_case_db_free(kt_case_db *db);

/* index.html of a batch (kavtrace/case.h): one self-contained page as
 * report.html is (inline CSS, no script, nothing fetched), one row per
 * item. A row is rendered from the item's findings.json as read back
 * (NULL: it has none, failed or not run); the page wraps the rows. */
typedef struct kt_case_html_item {
    const char *id, *evidence, *custodian;
    const char *status, *message;
    const struct kt_jv *findings; /* borrowed; NULL: none */
    bool has_report;              /* ID/report.html is there: the id links to it */
} kt_case_html_item;

int kt_case_html_row(kt_buf *out, const kt_case_html_item *it);

/* The page around rows, with the count of each of nstatuses statuses. */
int kt_case_html_page(kt_buf *out, const kt_buf *rows, const char *const *statuses,
                      const size_t *counts, size_t nstatuses, size_t items);

#endif
