#include <stdarg.h>
#include <stdio.h>

#include "kavtrace/text.h"
#include "kavtrace/writers.h"

#ifndef KT_VERSION
#define KT_VERSION "0"
#endif

/* One line; after a failure the rest are skipped and *rc keeps it. */
static void put(kt_buf *out, int *rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(kt_buf *out, int *rc, const char *fmt, ...)
{
    if (*rc)
        return;
    va_list ap;
    va_start(ap, fmt);
    *rc = kt_buf_vprintf(out, fmt, ap);
    va_end(ap);
}

/* One line with text from the evidence in it, escaped (kavtrace/text.h):
 * no control character reaches the log, and one line stays one. */
static void put_text(kt_buf *out, int *rc, const char *before, const char *text)
{
    put(out, rc, "%s", before);
    if (*rc == KT_OK)
        *rc = kt_text_escape(out, text, KT_TEXT_PLAIN);
    put(out, rc, "\n");
}

int kt_scan_log(kt_buf *out, const kt_scan *s, const kt_strlist *errors)
{
    char t[KT_TIME_ISO_MAX];
    const kt_media_digest *d = &s->inv.digest;
    int rc = KT_OK;
    put(out, &rc, "kavtrace %s ", KT_VERSION);
    if (s->run_id[0])
        put(out, &rc, "run %s ", s->run_id);
    put_text(out, &rc, "scan of ", s->inv.path ? s->inv.path : "?");
    put(out, &rc, "started %s\n", kt_time_format_iso(s->started, t));
    for (size_t i = 0; errors && i < errors->count; i++)
        put_text(out, &rc, "ERROR ", errors->items[i]);
    for (size_t i = 0; i < s->warnings.count; i++) {
        const kt_diag *dg = &s->warnings.items[i];
        char text[4096];
        put_text(out, &rc, dg->severity == KT_SEV_NOTE ? "NOTE " : "WARNING ",
                 kt_diag_text(dg, text, sizeof text));
    }
    put(out, &rc,
        "events %zu, files read %zu, hives read %zu, bytes of files and hives %llu, "
        "bytes read by the process %llu\n",
        s->tl.count, s->stats.files_read, s->stats.hives_read,
        (unsigned long long)s->stats.bytes_read, (unsigned long long)s->process_read);
    if (d->sha256[0])
        put(out, &rc, "media sha256 %s md5 %s\n", d->sha256, d->md5);
    if (d->status != KT_HASH_NOT_COMPUTED)
        put(out, &rc, "stored hash %s: %s\n", kt_verification_name(d->verification),
            d->verification_note);
    if (errors == NULL || errors->count == 0)
        put(out, &rc, "finished %s\n", kt_time_format_iso(s->finished, t));
    return rc;
}
