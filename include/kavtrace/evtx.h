/* kavtrace: Windows event logs (EVTX).
 *
 * libevtx parses them in a process of its own (kavtrace-evtx, installed
 * beside kavtrace): libewf and libevtx export clashing copies of the libyal
 * helper libraries and cannot share a process. The log is handed to the
 * reader from memory. When the caller names the providers it wants, the
 * reader first searches each 64 KiB chunk for their names (UTF-16LE, as
 * the chunk's templates carry them) and parses only the chunks that
 * mention one, each as a one-chunk log: a large log with nothing relevant
 * costs a memory scan, not a record-by-record parse. */
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

/* Walk the records of the log in data[0..len). providers (NULL or empty:
 * every chunk) selects chunks by provider name. Damaged chunks and
 * records become warnings. Returns 0, the callback's stop value, or:
 *   KT_EFORMAT  not an event log, or one libevtx cannot open;
 *   KT_ELIMIT   len over KT_EVTX_MAX_SIZE;
 *   KT_EIO      the reader failed: it cannot run, was killed over a limit
 *               of kavtrace/helper.h, died, or wrote output against the
 *               protocol (no end line, malformed lines); the records
 *               delivered before stand;
 *   KT_ENOMEM. */
int kt_evtx_walk(const uint8_t *data, size_t len, const kt_strlist *providers, kt_evtx_cb cb,
                 void *ctx, kt_evtx_stats *stats, kt_strlist *warnings, kt_error *err);

#endif
