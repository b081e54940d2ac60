/* The library's side of event logs: hand the log to kavtrace-evtx (see
 * include/kavtrace/evtx.h) and read back what it found. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/evtx.h"
#include "parsers/reader.h"

const char *kt_evtx_reader_path(void)
{
    static char path[4096];
    return kt_reader_path("KAVTRACE_EVTX_READER", "kavtrace-evtx", path, sizeof path);
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
    int stop;
    char fatal[KT_ERROR_MSG_MAX];
} walk;

/* One line of the reader's output; returns the callback's stop value. */
static int on_line(void *ctx, char *line)
{
    walk *w = ctx;
    pending *p = &w->p;
    size_t n = strlen(line);
    char kind = line[0];
    char *rest = n > 1 ? line + 2 : line + n;
    if (kind == 'R') {
        pending_clear(p);
        unsigned long long id = 0, ft = 0;
        unsigned ev = 0;
        size_t chunk = 0;
        int rec = 0, ns = 0;
        if (sscanf(rest, "%llu\t%llu\t%u\t%zu\t%d\t%d", &id, &ft, &ev, &chunk, &rec, &ns) == 6 &&
            ns >= 0 && ns <= KT_EVTX_MAX_STRINGS) {
            p->rec.record_id = id;
            p->rec.written = kt_time_from_filetime(ft);
            p->rec.event_id = ev;
            p->rec.chunk = chunk;
            p->rec.recovered = rec != 0;
            p->want = (size_t)ns;
            p->open = true;
        }
    } else if (kind == 'P' && p->open) {
        kt_reader_unescape(rest);
        p->provider = strdup(rest);
    } else if (kind == 'C' && p->open) {
        kt_reader_unescape(rest);
        p->computer = strdup(rest);
    } else if (kind == 'S' && p->open && p->have < p->want) {
        kt_reader_unescape(rest);
        p->strings[p->have++] = strdup(rest);
    } else if (kind == '.' && p->open) {
        p->rec.provider = p->provider ? p->provider : "";
        p->rec.computer = p->computer ? p->computer : "";
        p->rec.strings = (const char *const *)p->strings;
        p->rec.nstrings = p->have;
        w->stats->records++;
        w->stop = w->cb(w->ctx, &p->rec);
        pending_clear(p);
        return w->stop;
    } else if (kind == 'W') {
        kt_reader_unescape(rest);
        kt_strlist_add(w->warnings, rest);
    } else if (kind == 'X') {
        size_t c = 0, pc = 0, r = 0;
        if (sscanf(rest, "%zu\t%zu\t%zu", &c, &pc, &r) == 3) {
            w->stats->chunks += c;
            w->stats->chunks_parsed += pc;
        }
    } else if (kind == 'E') {
        kt_reader_unescape(rest);
        kt_strlcpy(w->fatal, rest, sizeof w->fatal);
    }
    return 0;
}

int kt_evtx_walk(const uint8_t *data, size_t len, const kt_strlist *providers, kt_evtx_cb cb,
                 void *ctx, kt_evtx_stats *stats, kt_strlist *warnings, kt_error *err)
{
    if (len > KT_EVTX_MAX_SIZE)
        return kt_error_set(err, KT_ELIMIT, "event log of %zu bytes, over the limit", len);
    if (len < 8 || memcmp(data, "ElfFile\0", 8) != 0)
        return kt_error_set(err, KT_EFORMAT, "not an event log (no 'ElfFile' header)");
    size_t np = providers ? providers->count : 0;
    char **argv = calloc(np + 2, sizeof *argv);
    walk *w = calloc(1, sizeof *w);
    int rc = KT_OK;
    if (argv == NULL || w == NULL) {
        rc = kt_error_set(err, KT_ENOMEM, "out of memory");
        goto out;
    }
    argv[0] = (char *)"kavtrace-evtx";
    for (size_t i = 0; i < np; i++)
        argv[i + 1] = providers->items[i];
    w->cb = cb;
    w->ctx = ctx;
    w->stats = stats;
    w->warnings = warnings;
    rc = kt_reader_run(kt_evtx_reader_path(), argv, data, len, on_line, w, err);
    if (w->stop)
        rc = w->stop;
    else if (w->fatal[0])
        rc = kt_error_set(err, KT_EFORMAT, "%s", w->fatal);
out:
    if (w)
        pending_clear(&w->p);
    free(w);
    free(argv);
    return rc;
}
