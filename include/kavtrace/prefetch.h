/* kavtrace: Windows Prefetch files (C:\Windows\Prefetch\NAME-HASH.pf).
 *
 * libscca parses them in a process of its own (kavtrace-prefetch,
 * installed beside kavtrace): like libevtx (see evtx.h), it carries its
 * own copies of the libyal helper libraries, which clash with libewf's.
 * It reads format versions 17 (XP), 23 (Vista, 7), 26 (8.1) and 30
 * (Windows 10, MAM-compressed or not); version 31 (Windows 11), which
 * libscca refuses, is decompressed by the reader itself and read with
 * format 30's layout (a warning says so). */
#ifndef KAVTRACE_PREFETCH_H
#define KAVTRACE_PREFETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/buf.h"
#include "kavtrace/error.h"
#include "kavtrace/time.h"

/* Windows keeps prefetch files small (tens of KiB); larger is not one. */
#define KT_PREFETCH_MAX_SIZE ((size_t)64 << 20)
#define KT_PREFETCH_MAX_RUNS 8

typedef struct kt_prefetch {
    uint32_t version;     /* format version: 17, 23, 26, 30 or 31 */
    char executable[256]; /* executable name (at most 29 characters), UTF-8 */
    uint32_t hash;        /* prefetch hash, as in the file name */
    uint32_t run_count;
    kt_time runs[KT_PREFETCH_MAX_RUNS]; /* last run times, newest first, as stored */
    size_t nruns;                       /* versions 17 and 23 store one, 26 and 30 up to eight */
    bool compressed;                    /* MAM-compressed (Windows 10 and later) */
} kt_prefetch;

/* The reader program: $KAVTRACE_PREFETCH_READER, else kavtrace-prefetch
 * next to the running program. The string is static. */
const char *kt_prefetch_reader_path(void);

/* Read the prefetch file in data[0..len) into *out (written only on
 * success). Oddities that do not stop the read (an unreadable run time, a
 * file size that disagrees with the header) are added to warnings (may be
 * NULL). Returns 0, or:
 *   KT_EFORMAT  not a prefetch file, a format version libscca does not
 *               support ("unsupported prefetch format ..."), or corrupt;
 *   KT_ELIMIT   len over KT_PREFETCH_MAX_SIZE;
 *   KT_EIO      the reader cannot run, fails, is killed over a limit of
 *               kavtrace/helper.h, dies, or writes output against the
 *               protocol or without a version or run count (nothing of
 *               its result is kept);
 *   KT_ENOMEM. */
int kt_prefetch_read(const uint8_t *data, size_t len, kt_prefetch *out, kt_strlist *warnings,
                     kt_error *err);

#endif
