/* The TSK bodyfile (3.x format) of the file-system events, for mactime:
 * MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|crtime,
 * one line per file whose own times kavtrace found (event.h's macb), in
 * the order of its first event; each time in its slot, 0 for a time not
 * found, as fls -m writes a time it has not got. A time with a fraction of a second is
 * SECONDS.NNNNNNNNN, as TSK 4.x's tools write sub-second times (mactime reads the seconds). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/alloc.h"
#include "kavtrace/text.h"
#include "kavtrace/writers.h"

/* The name field: "/" and the path, as `fls -m /` gives it. Controls and
 * bytes that are not UTF-8 are escaped (kavtrace/text.h), and so is '|',
 * the field separator, as \x7c: the name stays one field and reversible. */
static int name(kt_buf *out, const kt_event *e)
{
    kt_buf esc = {0};
    const char *p = e->path;
    if (kt_text_needs_escape(p, KT_TEXT_PLAIN)) {
        if (kt_text_escape(&esc, p, KT_TEXT_PLAIN) != KT_OK) {
            kt_buf_release(&esc);
            return KT_ENOMEM;
        }
        p = (const char *)esc.data;
    }
    int rc = p[0] == '/' ? KT_OK : kt_buf_append(out, "/", 1);
    for (; rc == KT_OK && *p; p++)
        rc = *p == '|' ? kt_buf_append(out, "\\x7c", 4) : kt_buf_append(out, p, 1);
    kt_buf_release(&esc);
    /* fls's own labels: the $FILE_NAME copy, a name no longer allocated */
    if (rc == KT_OK && e->fn_time)
        rc = kt_buf_append(out, " ($FILE_NAME)", 13);
    if (rc == KT_OK && !e->allocated)
        rc = kt_buf_append(out, " (deleted)", 10);
    return rc;
}

/* The events of one line: the same file (volume, path, inode, $FN or
 * not, deleted or not), a time in each slot it has. */
static int same_file(const kt_event *a, const kt_event *b)
{
    int c = strcmp(a->path, b->path);
    if (c)
        return c;
    if (a->volume != b->volume)
        return a->volume < b->volume ? -1 : 1;
    if (a->inode != b->inode)
        return a->inode < b->inode ? -1 : 1;
    if (a->fn_time != b->fn_time)
        return a->fn_time ? 1 : -1;
    return (int)a->allocated - (int)b->allocated;
}

typedef struct line {
    size_t first; /* the index of its first event in the timeline */
    kt_time t[4]; /* a m c b; KT_TIME_NONE: not found */
} line;

static int by_file(const void *pa, const void *pb, void *ctx)
{
    const kt_event *const *ev = ctx;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    int c = same_file(ev[a], ev[b]);
    return c ? c : (a < b ? -1 : a > b);
}

static int by_first(const void *pa, const void *pb)
{
    const line *a = pa, *b = pb;
    return a->first < b->first ? -1 : a->first > b->first;
}

static int put_time(kt_buf *out, kt_time t, const char *sep)
{
    if (t == KT_TIME_NONE)
        return kt_buf_printf(out, "0%s", sep);
    long long sec = t / KT_NS_PER_SEC, ns = t % KT_NS_PER_SEC;
    if (ns)
        return kt_buf_printf(out, "%lld.%09lld%s", sec, ns, sep);
    return kt_buf_printf(out, "%lld%s", sec, sep);
}

static int write_body(kt_buf *out, const kt_scan *s, const kt_artifact_set *set)
{
    (void)set;
    size_t n = 0;
    size_t *idx = kt_calloc(s->tl.count ? s->tl.count : 1, sizeof *idx);
    const kt_event **ev = kt_calloc(s->tl.count ? s->tl.count : 1, sizeof *ev);
    line *lines = kt_calloc(s->tl.count ? s->tl.count : 1, sizeof *lines);
    int rc = idx && ev && lines ? KT_OK : KT_ENOMEM;
    for (size_t i = 0; rc == KT_OK && i < s->tl.count; i++) {
        const kt_event *e = &s->tl.items[i];
        ev[i] = e;
        /* A bodyfile time is unsigned seconds since 1970. */
        if (e->macb && e->path && e->time != KT_TIME_NONE && e->time >= 0)
            idx[n++] = i;
    }
    size_t nlines = 0;
    if (rc == KT_OK && n > 1)
        qsort_r(idx, n, sizeof *idx, by_file, ev);
    static const char slots[4] = {'a', 'm', 'c', 'b'};
    for (size_t k = 0; rc == KT_OK && k < n; k++) {
        const kt_event *e = ev[idx[k]];
        if (k == 0 || same_file(ev[idx[k - 1]], e) != 0) {
            line *l = &lines[nlines++];
            l->first = idx[k];
            for (int j = 0; j < 4; j++)
                l->t[j] = KT_TIME_NONE;
        }
        /* The latest of a slot's times when kavtrace found several. */
        line *l = &lines[nlines - 1];
        for (int j = 0; j < 4; j++)
            if (slots[j] == e->macb && (l->t[j] == KT_TIME_NONE || e->time > l->t[j]))
                l->t[j] = e->time;
    }
    if (rc == KT_OK && nlines > 1)
        qsort(lines, nlines, sizeof *lines, by_first);
    for (size_t k = 0; rc == KT_OK && k < nlines; k++) {
        const line *l = &lines[k];
        rc = kt_buf_append(out, "0|", 2);
        if (rc == KT_OK)
            rc = name(out, ev[l->first]);
        if (rc == KT_OK)
            rc = kt_buf_printf(out, "|%llu|-/----------|0|0|0|",
                               (unsigned long long)ev[l->first]->inode);
        for (int j = 0; rc == KT_OK && j < 4; j++)
            rc = put_time(out, l->t[j], j < 3 ? "|" : "\n");
    }
    kt_free(idx);
    kt_free(ev);
    kt_free(lines);
    return rc;
}

const kt_writer kt_writer_body = {
    .name = "body",
    .file = "timeline.body",
    .summary = "the file-system events as a TSK bodyfile (mactime -b)",
    .on_request = true,
    .write = write_body,
};
