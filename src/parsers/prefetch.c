/* The library's side of Prefetch files: hand the file to kavtrace-prefetch
 * (see include/kavtrace/prefetch.h and src/prefetch-reader/main.c for the
 * line protocol) and read back what it found. */
#include "kavtrace/prefetch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/reader.h"
#include "reader_proto.h"

const char *kt_prefetch_reader_path(void)
{
    static char path[4096];
    return kt_reader_path("KAVTRACE_PREFETCH_READER", "kavtrace-prefetch", path, sizeof path);
}

typedef struct result {
    kt_prefetch pf;
    kt_strlist *warnings;
    kt_proto_session session;
    size_t listed, unlisted; /* the reader's warnings kept, and left out */
    bool have_version, have_count;
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

/* One field, a number in base at most max. */
static bool one_number(const kt_proto_line *l, int base, uint64_t max, uint64_t *v)
{
    return l->nfields == 1 && kt_proto_number(l->field[0], base, max, v);
}

/* One decoded line; false when it does not suit its kind. */
static bool on_result_line(result *r, const kt_proto_line *l)
{
    uint64_t v = 0;
    bool text = l->nfields == 1;
    switch (l->kind) {
    case 'Z':
        r->pf.compressed = true;
        return l->nfields == 0;
    case 'V':
        if (!one_number(l, 10, UINT32_MAX, &v))
            return false;
        r->pf.version = (uint32_t)v;
        r->have_version = true;
        return true;
    case 'N':
        if (!text)
            return false;
        if (kt_strlcpy(r->pf.executable, l->field[0], sizeof r->pf.executable) >=
            sizeof r->pf.executable)
            warn(r, "executable name cut to %zu bytes", sizeof r->pf.executable - 1);
        return true;
    case 'H':
        if (!one_number(l, 16, UINT32_MAX, &v))
            return false;
        r->pf.hash = (uint32_t)v;
        return true;
    case 'C':
        if (!one_number(l, 10, UINT32_MAX, &v))
            return false;
        r->pf.run_count = (uint32_t)v;
        r->have_count = true;
        return true;
    case 'T':
        if (!one_number(l, 10, UINT64_MAX, &v))
            return false;
        if (kt_time_from_filetime(v) == KT_TIME_NONE)
            warn(r, "last run time out of range (FILETIME %llu)", (unsigned long long)v);
        else if (r->pf.nruns == KT_PREFETCH_MAX_RUNS)
            r->dropped++;
        else
            r->pf.runs[r->pf.nruns++] = kt_time_from_filetime(v);
        return true;
    case 'D':
        /* Volume information: not part of kt_prefetch (yet). */
        return l->nfields == 3 && kt_proto_number(l->field[0], 10, UINT64_MAX, &v) &&
               kt_proto_number(l->field[1], 16, UINT32_MAX, &v);
    case 'W':
        if (!text)
            return false;
        if (r->listed == KT_READER_MAX_WARNINGS) {
            r->unlisted++;
        } else {
            r->listed++;
            warn(r, "%.*s", KT_READER_MAX_WARNING, l->field[0]);
        }
        return true;
    case 'E':
        if (text)
            kt_strlcpy(r->fatal, l->field[0], sizeof r->fatal);
        return text;
    case 'F':
        if (text)
            kt_strlcpy(r->failure, l->field[0], sizeof r->failure);
        return text;
    case '.':
        return l->nfields == 0;
    default:
        return false;
    }
}

static int on_line(void *ctx, char *line)
{
    result *r = ctx;
    kt_proto_line l;
    if (kt_proto_next(&r->session, line, &l) && !on_result_line(r, &l))
        kt_proto_reject(&r->session, "a line of kind '%c' with wrong fields", l.kind);
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
    r->session.end = '.';
    r->session.kinds = "ZVNHCTDWEF.";
    int rc = kt_reader_run(reader, argv, data, len, on_line, r, err);
    if (r->unlisted)
        warn(r, "%zu more warnings not listed", r->unlisted);
    /* A result is whole or refused: output against the protocol, or
     * without a version or count, refuses it. */
    char problems[256];
    if (r->fatal[0])
        rc = kt_error_set(err, KT_EFORMAT, "%s", r->fatal);
    else if (r->failure[0])
        rc = kt_error_set(err, KT_EIO, "'%s': %s", reader, r->failure);
    else if (rc == KT_OK && kt_proto_problems(&r->session, problems, sizeof problems)[0])
        rc = kt_error_set(err, KT_EIO, "'%s' %s", reader, problems);
    else if (rc == KT_OK && (!r->have_version || !r->have_count))
        rc = kt_error_set(err, KT_EIO, "'%s' gave no %s", reader,
                          r->have_version ? "run count" : "format version");
    if (rc == KT_OK) {
        if (r->dropped)
            warn(r, "%zu more last run times than the %d kept", r->dropped, KT_PREFETCH_MAX_RUNS);
        *out = r->pf;
    }
    free(r);
    return rc;
}
