/* kavtrace: Windows event logs (EVTX).
 *
 * libevtx parses them in a process of its own (kavtrace-evtx, installed
 * beside kavtrace): libewf and libevtx export clashing copies of the libyal
 * helper libraries and cannot share a process. The log is handed to the
 * reader from memory, or staged for it piece by piece
 * (kt_evtx_walk_source), and read by it one 64 KiB chunk at a time, so
 * the memory of neither grows with the log. A caller's filter (kt_evtx_filter_*)
 * names the providers it wants and the strings their records must hold:
 * the reader searches each chunk's raw bytes for them (UTF-16LE and 8-bit,
 * ASCII letters in either case), in each record and in the chunk's
 * templates (which carry the provider's name), and parses and passes on
 * only the records that can match, each chunk as a one-chunk log: a large
 * log with nothing relevant costs a memory scan, not a record-by-record
 * parse. The filter only ever lets through more than matches: the caller
 * still checks each record. */
#ifndef KAVTRACE_EVTX_H
#define KAVTRACE_EVTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/buf.h"
#include "kavtrace/error.h"
#include "kavtrace/time.h"

#define KT_EVTX_MAX_SIZE ((size_t)2 << 30)
#define KT_EVTX_MAX_STRINGS 256

typedef struct kt_evtx_record {
    uint64_t record_id;
    kt_time written; /* TimeCreated (FILETIME, UTC) */
    uint32_t event_id;
    const char *provider;
    const char *computer;
    const char *const *strings; /* EventData values, in order */
    size_t nstrings;
    size_t chunk;   /* 0-based chunk index in the log */
    bool recovered; /* recovered from chunk slack by libevtx */
} kt_evtx_record;

typedef struct kt_evtx_stats {
    size_t chunks;
    size_t chunks_parsed;
    size_t records;
} kt_evtx_stats;

/* Return non-zero to stop the walk (that value is returned). */
typedef int (*kt_evtx_cb)(void *ctx, const kt_evtx_record *r);

/* The reader program: $KAVTRACE_EVTX_READER, else kavtrace-evtx next to
 * the running program. */
const char *kt_evtx_reader_path(void);

/* The filter is the reader's arguments, built with these (KT_ENOMEM on
 * failure). A rule: records of the provider (its name, without case). */
int kt_evtx_filter_rule(kt_strlist *filter, const char *provider);
/* A clause of the last rule: the record must match one of the globs
 * (fnmatch, without case). The reader looks for each glob's longest
 * literal run; a glob with none (or one it cannot search for) makes the
 * clause always true, and then it is left out. */
int kt_evtx_filter_where(kt_strlist *filter, const char *const *globs, size_t nglobs);
/* The longest run of literal characters of a glob (bytes), or "" when
 * it has none; false when out is too small for it. */
bool kt_evtx_glob_literal(const char *glob, char *out, size_t len);

/* Walk the records of the log in data[0..len). filter (NULL or empty:
 * every record) selects the records, see above. Damaged chunks and
 * records become warnings. Returns 0, the callback's stop value, or:
 *   KT_EFORMAT  not an event log, or one libevtx cannot open;
 *   KT_ELIMIT   len over KT_EVTX_MAX_SIZE;
 *   KT_EIO      the reader failed: it cannot run, was killed over a limit
 *               of kavtrace/helper.h, died, or wrote output against the
 *               protocol (no end line, malformed lines); the records
 *               delivered before stand;
 *   KT_ENOMEM. */
int kt_evtx_walk(const uint8_t *data, size_t len, const kt_strlist *filter, kt_evtx_cb cb,
                 void *ctx, kt_evtx_stats *stats, kt_strlist *warnings, kt_error *err);

/* A log read in pieces (a large log is never held whole): the source
 * calls put(sink, ...) for each piece, in order, and returns 0, put's
 * non-zero value, or its own error code with err set. */
typedef int (*kt_evtx_put)(void *sink, const uint8_t *data, size_t len);
typedef int (*kt_evtx_source)(void *ctx, kt_evtx_put put, void *sink, kt_error *err);

/* kt_evtx_walk over the log the source gives: its pieces are staged for
 * the reader as they come, so this process holds one piece at a time.
 * Returns what kt_evtx_walk does, or the source's error. */
int kt_evtx_walk_source(kt_evtx_source source, void *source_ctx, const kt_strlist *filter,
                        kt_evtx_cb cb, void *ctx, kt_evtx_stats *stats, kt_strlist *warnings,
                        kt_error *err);

#endif
