/* Helpers shared by the package parsers (packages.c, rpm_header.c,
 * rpmdb_sqlite.c, rpmdb_bdb.c, dnf_log.c, yum_log.c):
 * a line reader, the capped warning sink, strings copied out of the input
 * and date parsing. Not part of the public API. */
#ifndef KT_PACKAGES_IMPL_H
#define KT_PACKAGES_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/buf.h"
#include "kavtrace/packages.h"
#include "kavtrace/time.h"

/* A run of bytes in the input; not NUL-terminated. */
typedef struct kt_span {
    const char *p;
    size_t n;
} kt_span;

/* Lines of data[0..len): '\n' or "\r\n" ends a line; the last line may
 * have no end. */
typedef struct kt_lines {
    const uint8_t *data;
    size_t len;
    size_t pos;
    size_t no; /* 1-based number of the line last returned */
} kt_lines;

bool kt_pkgi_next_line(kt_lines *it, kt_span *line);

/* One parse of one file: the caller's callback and its warnings, at most
 * KT_PKG_MAX_WARNINGS, then a count. Until the parser has seen one line of
 * its format the warnings are held back, so a file of another format
 * gives one error, not a page of warnings. */
typedef struct kt_pkg_run {
    kt_pkg_cb cb;
    void *ctx;
    int stopped;     /* the callback's non-zero return */
    kt_strlist *out; /* may be NULL */
    kt_strlist held;
    bool confirmed;
    size_t count;
} kt_pkg_run;

void kt_pkgi_init(kt_pkg_run *r, kt_pkg_cb cb, void *ctx, kt_strlist *warnings);
/* Calls the callback: 0, or 1 when it asked to stop (kept in r->stopped). */
int kt_pkgi_emit(kt_pkg_run *r, const kt_pkg_event *e);
/* 0 or KT_ENOMEM. */
int kt_pkgi_warn(kt_pkg_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The file is of the format: held warnings go out. */
int kt_pkgi_confirm(kt_pkg_run *r);
/* End of a parse whose loop ended with rc: adds "N more warnings" if
 * some were dropped, releases what is held, and returns the callback's
 * stop value, else rc (an out-of-memory rc is described in err). */
int kt_pkgi_finish(kt_pkg_run *r, int rc, kt_error *err);

/* NUL-terminated copies of spans, addressed by offset (the buffer may
 * move while strings are added). KT_PKGI_NONE stands for NULL. */
#define KT_PKGI_NONE SIZE_MAX
size_t kt_pkgi_put(kt_buf *b, const char *p, size_t n, int *rc);
const char *kt_pkgi_at(const kt_buf *b, size_t off);

/* n digits at p as an int; -1 if any is not a digit. */
int kt_pkgi_digits(const char *p, size_t n);
/* Seconds since 1970 for a valid civil date and time; false otherwise. */
bool kt_pkgi_civil(int y, int mo, int d, int h, int mi, int s, int64_t *secs);

/* A space or a tab: what separates the fields of a log line. */
static inline bool kt_pkgi_space(char c)
{
    return c == ' ' || c == '\t';
}

static inline bool kt_span_eq(kt_span s, const char *lit)
{
    size_t i = 0;
    for (; lit[i]; i++)
        if (i >= s.n || s.p[i] != lit[i])
            return false;
    return i == s.n;
}

#endif
