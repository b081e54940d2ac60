/* The library's side of Prefetch files: hand the file to kavtrace-prefetch
 * (see include/kavtrace/prefetch.h and src/prefetch-reader/main.c for the
 * line protocol) and read back what it found. */
#include "kavtrace/prefetch.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/reader.h"

const char *kt_prefetch_reader_path(void)
{
    static char path[4096];
    return kt_reader_path("KAVTRACE_PREFETCH_READER", "kavtrace-prefetch", path, sizeof path);
}

typedef struct result {
    kt_prefetch pf;
    kt_strlist *warnings;
    bool have_version, have_count, done;
    size_t garbled;                 /* lines that break the protocol */
    size_t dropped;                 /* run times past KT_PREFETCH_MAX_RUNS */
    char fatal[KT_ERROR_MSG_MAX];   /* E: the file cannot be read */
    char failure[KT_ERROR_MSG_MAX]; /* F: the reader failed */
} result;

static void warn(result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(result *r, const char *fmt, ...)
{
    if (r->warnings == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    kt_strlist_vaddf(r->warnings, fmt, ap);
    va_end(ap);
}

/* A whole unsigned number in `base`, at most max. */
static bool number(const char *s, int base, unsigned long long max, unsigned long long *v)
{
    if (s[0] == '\0' || s[0] == '-' || s[0] == '+' || s[0] == ' ')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(s, &end, base);
    if (errno || *end != '\0' || n > max)
        return false;
    *v = n;
    return true;
}

static int on_line(void *ctx, char *line)
{
    result *r = ctx;
    char kind = line[0];
    char *rest = line[0] && line[1] == '\t' ? line + 2 : NULL;
    unsigned long long v = 0;
    if (kind == '\0')
        return 0;
    if (line[1] != '\0' && rest == NULL) {
        r->garbled++;
        return 0;
    }
    switch (kind) {
    case 'Z':
        r->pf.compressed = true;
        break;
    case 'V':
        if (rest && number(rest, 10, UINT32_MAX, &v)) {
            r->pf.version = (uint32_t)v;
            r->have_version = true;
        } else {
            r->garbled++;
        }
        break;
    case 'N':
        if (rest == NULL)
            break;
        kt_reader_unescape(rest);
        if (kt_strlcpy(r->pf.executable, rest, sizeof r->pf.executable) >= sizeof r->pf.executable)
            warn(r, "executable name cut to %zu bytes", sizeof r->pf.executable - 1);
        break;
    case 'H':
        if (rest && number(rest, 16, UINT32_MAX, &v))
            r->pf.hash = (uint32_t)v;
        else
            r->garbled++;
        break;
    case 'C':
        if (rest && number(rest, 10, UINT32_MAX, &v)) {
            r->pf.run_count = (uint32_t)v;
            r->have_count = true;
        } else {
            r->garbled++;
        }
        break;
    case 'T':
        if (rest == NULL || !number(rest, 10, UINT64_MAX, &v)) {
            r->garbled++;
        } else if (kt_time_from_filetime(v) == KT_TIME_NONE) {
            warn(r, "last run time out of range (FILETIME %llu)", v);
        } else if (r->pf.nruns == KT_PREFETCH_MAX_RUNS) {
            r->dropped++;
        } else {
            r->pf.runs[r->pf.nruns++] = kt_time_from_filetime(v);
        }
        break;
    case 'D':
        /* Volume information: not part of kt_prefetch (yet). */
        break;
    case 'W':
        if (rest) {
            kt_reader_unescape(rest);
            warn(r, "%s", rest);
        }
        break;
    case 'E':
        if (rest) {
            kt_reader_unescape(rest);
            kt_strlcpy(r->fatal, rest, sizeof r->fatal);
        }
        break;
    case 'F':
        if (rest) {
            kt_reader_unescape(rest);
            kt_strlcpy(r->failure, rest, sizeof r->failure);
        }
        break;
    case '.':
        r->done = true;
        break;
    default:
        r->garbled++;
    }
    return 0;
}

/* "SCCA" at 4 (uncompressed) or "MAM" at 0 (Windows 10 and later). */
static bool looks_like_prefetch(const uint8_t *data, size_t len)
{
    return len >= 8 && (memcmp(data + 4, "SCCA", 4) == 0 || memcmp(data, "MAM", 3) == 0);
}

int kt_prefetch_read(const uint8_t *data, size_t len, kt_prefetch *out, kt_strlist *warnings,
                     kt_error *err)
{
    if (len > KT_PREFETCH_MAX_SIZE)
        return kt_error_set(err, KT_ELIMIT, "prefetch file of %zu bytes, over the limit of %zu",
                            len, KT_PREFETCH_MAX_SIZE);
    if (data == NULL || !looks_like_prefetch(data, len))
        return kt_error_set(err, KT_EFORMAT, "not a prefetch file (no 'SCCA' or 'MAM' signature)");
    const char *reader = kt_prefetch_reader_path();
    char *argv[] = {(char *)"kavtrace-prefetch", NULL};
    result *r = calloc(1, sizeof *r);
    if (r == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    r->warnings = warnings;
    int rc = kt_reader_run(reader, argv, data, len, on_line, r, err);
    if (r->fatal[0])
        rc = kt_error_set(err, KT_EFORMAT, "%s", r->fatal);
    else if (r->failure[0])
        rc = kt_error_set(err, KT_EIO, "'%s': %s", reader, r->failure);
    else if (rc == KT_OK && (!r->done || r->garbled || !r->have_version || !r->have_count))
        rc = kt_error_set(err, KT_EIO, "'%s' gave an incomplete or garbled result", reader);
    if (rc == KT_OK) {
        if (r->dropped)
            warn(r, "%zu more last run times than the %d kept", r->dropped, KT_PREFETCH_MAX_RUNS);
        *out = r->pf;
    }
    free(r);
    return rc;
}
