/* kavtrace: output writers, one table entry each, and the run log. A
 * writer renders a finished scan into a buffer; the caller writes the
 * buffer to OUTDIR/<file>. */
#ifndef KAVTRACE_WRITERS_H
#define KAVTRACE_WRITERS_H

#include <stdbool.h>

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

#endif
