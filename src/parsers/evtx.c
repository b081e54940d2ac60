/* The library's side of event logs: hand the log to kavtrace-evtx (see
 * include/kavtrace/evtx.h) and read back what it found. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kavtrace/evtx.h"
#include "parsers/reader.h"
#include "reader_proto.h"

const char *kt_evtx_reader_path(void)
{
    static char path[4096];
    return kt_reader_path("KAVTRACE_EVTX_READER", "kavtrace-evtx", path, sizeof path);
}

int kt_evtx_filter_rule(kt_strlist *filter, const char *provider)
{
    int rc = kt_strlist_add(filter, "-p");
    return rc ? rc : kt_strlist_add(filter, provider);
}

bool kt_evtx_glob_literal(const char *glob, char *out, size_t len)
{
    char run[1024];
    size_t n = 0, best = 0;
    out[0] = '\0';
    for (const char *p = glob;; p++) {
        bool literal = *p != '\0' && *p != '*' && *p != '?' && *p != '[';
        const char *close = p;
        if (*p == '[') {
            /* a bracket expression, as fnmatch reads it; one unclosed or
             * holding a class: give up on this glob's literals */
            close = p + 1;
            if (*close == '!' || *close == '^')
                close++;
            if (*close == ']')
                close++;
            while (*close && *close != ']' && *close != '[')
                close++;
            /* unclosed, or a class ([:alpha:] ...) inside */
            if (*close != ']') {
                out[0] = '\0';
                return true;
            }
        }
        if (literal && *p == '\\' && p[1])
            p++;
        if (literal && n < sizeof run - 1) {
            run[n++] = *p;
            continue;
        }
        if (n > best) {
            if (n >= len)
                return false;
            memcpy(out, run, n);
            out[n] = '\0';
            best = n;
        }
        n = 0;
        if (*p == '\0')
            return true;
        p = close;
    }
}

int kt_evtx_filter_where(kt_strlist *filter, const char *const *globs, size_t nglobs)
{
    char lit[1024];
    for (size_t i = 0; i < nglobs; i++)
        if (!kt_evtx_glob_literal(globs[i], lit, sizeof lit) || lit[0] == '\0')
            return KT_OK; /* this clause cannot narrow anything */
    int rc = kt_strlist_add(filter, "-g");
    for (size_t i = 0; i < nglobs && rc == KT_OK; i++) {
        kt_evtx_glob_literal(globs[i], lit, sizeof lit);
        rc = kt_strlist_add(filter, "-s");
        if (rc == KT_OK)
            rc = kt_strlist_add(filter, lit);
    }
    return rc;
}

typedef struct pending {
    kt_evtx_record rec;
    char *provider, *computer;
    char *strings[KT_EVTX_MAX_STRINGS];
    size_t want, have;
    bool open;
} pending;

static void pending_clear(pending *p)
{
    free(p->provider);
    free(p->computer);
    for (size_t i = 0; i < p->have; i++)
        free(p->strings[i]);
    memset(p, 0, sizeof *p);
}

typedef struct walk {
    pending p;
    kt_evtx_cb cb;
    void *ctx;
    kt_evtx_stats *stats;
    kt_strlist *warnings;
    kt_proto_session session;
    size_t listed, unlisted; /* the reader's warnings kept, and left out */
    int stop;
    int rc; /* KT_ENOMEM */
    char fatal[KT_ERROR_MSG_MAX];
} walk;

static void warn(walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(walk *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (w->warnings && kt_strlist_vaddf(w->warnings, fmt, ap) != KT_OK)
        w->rc = KT_ENOMEM;
    va_end(ap);
}

/* A text field kept for the record: NULL when out of memory. */
static char *keep(walk *w, const char *s)
{
    char *copy = strdup(s);
    if (copy == NULL)
        w->rc = KT_ENOMEM;
    return copy;
}

/* "R id filetime event_id chunk recovered nstrings": a record begins. */
static bool record_start(pending *p, const kt_proto_line *l)
{
    uint64_t id, ft, ev, chunk, rec, ns;
    if (l->nfields != 6 || !kt_proto_number(l->field[0], 10, UINT64_MAX, &id) ||
        !kt_proto_number(l->field[1], 10, UINT64_MAX, &ft) ||
        !kt_proto_number(l->field[2], 10, UINT32_MAX, &ev) ||
        !kt_proto_number(l->field[3], 10, SIZE_MAX, &chunk) ||
        !kt_proto_number(l->field[4], 10, 1, &rec) ||
        !kt_proto_number(l->field[5], 10, KT_EVTX_MAX_STRINGS, &ns))
        return false;
    p->rec.record_id = id;
    p->rec.written = kt_time_from_filetime(ft);
    p->rec.event_id = (uint32_t)ev;
    p->rec.chunk = (size_t)chunk;
    p->rec.recovered = rec != 0;
    p->want = (size_t)ns;
    p->open = true;
    return true;
}

/* One decoded line; false when it does not suit its kind or place. */
static bool on_record_line(walk *w, const kt_proto_line *l)
{
    pending *p = &w->p;
    bool text = l->nfields == 1;
    switch (l->kind) {
    case 'R': {
        /* a record still open never got its end: it is dropped */
        bool unfinished = p->open;
        pending_clear(p);
        return record_start(p, l) && !unfinished;
    }
    case 'P':
        if (!p->open || !text || p->provider)
            return false;
        p->provider = keep(w, l->field[0]);
        return true;
    case 'C':
        if (!p->open || !text || p->computer)
            return false;
        p->computer = keep(w, l->field[0]);
        return true;
    case 'S':
        if (!p->open || !text || p->have == p->want)
            return false;
        p->strings[p->have++] = keep(w, l->field[0]);
        return true;
    case '.': {
        if (!p->open || l->nfields != 0)
            return false;
        /* delivered even when short of strings, and then counted */
        bool whole = p->have == p->want;
        p->rec.provider = p->provider ? p->provider : "";
        p->rec.computer = p->computer ? p->computer : "";
        p->rec.strings = (const char *const *)p->strings;
        p->rec.nstrings = p->have;
        w->stats->records++;
        w->stop = w->cb(w->ctx, &p->rec);
        pending_clear(p);
        return whole;
    }
    case 'W':
        if (!text)
            return false;
        if (w->listed == KT_READER_MAX_WARNINGS) {
            w->unlisted++;
        } else {
            w->listed++;
            warn(w, "%.*s", KT_READER_MAX_WARNING, l->field[0]);
        }
        return true;
    case 'X': {
        uint64_t c, pc, r;
        if (p->open || l->nfields != 3 || !kt_proto_number(l->field[0], 10, SIZE_MAX, &c) ||
            !kt_proto_number(l->field[1], 10, SIZE_MAX, &pc) ||
            !kt_proto_number(l->field[2], 10, SIZE_MAX, &r))
            return false;
        w->stats->chunks += (size_t)c;
        w->stats->chunks_parsed += (size_t)pc;
        return true;
    }
    case 'E':
        if (!text)
            return false;
        kt_strlcpy(w->fatal, l->field[0], sizeof w->fatal);
        return true;
    default:
        return false;
    }
}

/* One line of the reader's output; returns the callback's stop value, or
 * KT_ENOMEM. */
static int on_line(void *ctx, char *line)
{
    walk *w = ctx;
    kt_proto_line l;
    if (kt_proto_next(&w->session, line, &l) && !on_record_line(w, &l))
        kt_proto_reject(&w->session, "a line of kind '%c' out of place or with wrong fields",
                        l.kind);
    return w->stop ? w->stop : w->rc;
}

/* The walk over the log in data[0..len), or when fd >= 0 in fd. */
static int walk_log(const uint8_t *data, int fd, size_t len, const kt_strlist *filter,
                    kt_evtx_cb cb, void *ctx, kt_evtx_stats *stats, kt_strlist *warnings,
                    kt_error *err)
{
    if (len > KT_EVTX_MAX_SIZE)
        return kt_error_set(err, KT_ELIMIT, "event log of %zu bytes, over the limit", len);
    char head[8] = {0};
    if (fd < 0)
        memcpy(head, data, len < 8 ? len : 8);
    else if (len >= 8 && pread(fd, head, 8, 0) != 8)
        return kt_error_set(err, KT_EIO, "cannot read the staged log: %s", strerror(errno));
    if (len < 8 || memcmp(head, "ElfFile\0", 8) != 0)
        return kt_error_set(err, KT_EFORMAT, "not an event log (no 'ElfFile' header)");
    size_t np = filter ? filter->count : 0;
    char **argv = calloc(np + 2, sizeof *argv);
    walk *w = calloc(1, sizeof *w);
    int rc = KT_OK;
    if (argv == NULL || w == NULL) {
        rc = kt_error_set(err, KT_ENOMEM, "out of memory");
        goto out;
    }
    argv[0] = (char *)"kavtrace-evtx";
    for (size_t i = 0; i < np; i++)
        argv[i + 1] = filter->items[i];
    w->cb = cb;
    w->ctx = ctx;
    w->stats = stats;
    w->warnings = warnings;
    w->session.end = 'X';
    w->session.kinds = "RPCS.WXE";
    const char *reader = kt_evtx_reader_path();
    rc = fd < 0 ? kt_reader_run(reader, argv, data, len, on_line, w, err)
                : kt_reader_run_fd(reader, argv, fd, len, on_line, w, err);
    if (w->unlisted)
        warn(w, "%zu more warnings not listed", w->unlisted);
    if (w->stop) {
        rc = w->stop;
    } else if (w->rc) {
        rc = kt_error_set(err, w->rc, "out of memory");
    } else if (w->fatal[0]) {
        rc = kt_error_set(err, KT_EFORMAT, "%s", w->fatal);
    } else if (rc == KT_OK) {
        /* The records delivered stand; output against the protocol makes
         * the reader's run a failure all the same. */
        if (w->p.open)
            kt_proto_reject(&w->session, "a record without its end");
        char problems[256];
        if (kt_proto_problems(&w->session, problems, sizeof problems)[0])
            rc = kt_error_set(err, KT_EIO, "'%s' %s: the log may have been read only in part",
                              reader, problems);
    }
out:
    if (w)
        pending_clear(&w->p);
    free(w);
    free(argv);
    return rc;
}

int kt_evtx_walk(const uint8_t *data, size_t len, const kt_strlist *filter, kt_evtx_cb cb,
                 void *ctx, kt_evtx_stats *stats, kt_strlist *warnings, kt_error *err)
{
    return walk_log(data, -1, len, filter, cb, ctx, stats, warnings, err);
}

/* Where the source's pieces go: the reader's input, and how much of it. */
typedef struct staged {
    int fd;
    size_t len;
    int error; /* errno of a failed write */
    bool over; /* past KT_EVTX_MAX_SIZE */
} staged;

static int put_piece(void *p, const uint8_t *data, size_t len)
{
    staged *s = p;
    if (len > KT_EVTX_MAX_SIZE - s->len) {
        s->over = true;
        return KT_ELIMIT;
    }
    for (size_t done = 0; done < len;) {
        ssize_t n = write(s->fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            s->error = n < 0 ? errno : EIO;
            return KT_EIO;
        }
        done += (size_t)n;
    }
    s->len += len;
    return KT_OK;
}

int kt_evtx_walk_source(kt_evtx_source source, void *source_ctx, const kt_strlist *filter,
                        kt_evtx_cb cb, void *ctx, kt_evtx_stats *stats, kt_strlist *warnings,
                        kt_error *err)
{
    staged s = {.fd = kt_reader_input_new()};
    if (s.fd < 0)
        return kt_error_set(err, KT_EIO, "staging the log: %s", strerror(errno));
    int rc = source(source_ctx, put_piece, &s, err);
    if (rc == KT_OK)
        rc = walk_log(NULL, s.fd, s.len, filter, cb, ctx, stats, warnings, err);
    else if (s.over)
        rc =
            kt_error_set(err, KT_ELIMIT, "event log over the limit of %zu bytes", KT_EVTX_MAX_SIZE);
    else if (s.error)
        rc = kt_error_set(err, KT_EIO, "staging the log: %s", strerror(s.error));
    close(s.fd);
    return rc;
}
