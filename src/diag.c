#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kavtrace/alloc.h"
#include "kavtrace/diag.h"
#include "kavtrace/error.h"

#define MESSAGE_MAX 2048

int kt_diags_add(kt_diags *l, const kt_diag *d)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        kt_diag *p = kt_realloc(l->items, cap * sizeof *p);
        if (p == NULL)
            return KT_ENOMEM;
        l->items = p;
        l->cap = cap;
    }
    kt_strpool_mark mark = kt_strpool_mark_get(&l->strings);
    bool failed = false;
    kt_diag c = *d;
    c.code = kt_strpool_copy(&l->strings, d->code, &failed);
    c.path = kt_strpool_copy(&l->strings, d->path, &failed);
    c.artifact = kt_strpool_copy(&l->strings, d->artifact, &failed);
    c.message = kt_strpool_copy(&l->strings, d->message ? d->message : "", &failed);
    if (failed) {
        kt_strpool_rollback(&l->strings, mark);
        return KT_ENOMEM;
    }
    l->items[l->count++] = c;
    return KT_OK;
}

int kt_diags_vaddf(kt_diags *l, kt_severity sev, const char *code, int volume, const char *path,
                   const char *artifact, const char *fmt, va_list ap)
{
    char msg[MESSAGE_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    kt_diag d = {.severity = sev,
                 .code = code,
                 .volume = volume,
                 .path = path,
                 .artifact = artifact,
                 .message = msg};
    return kt_diags_add(l, &d);
}

int kt_diags_addf(kt_diags *l, kt_severity sev, const char *code, int volume, const char *path,
                  const char *artifact, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = kt_diags_vaddf(l, sev, code, volume, path, artifact, fmt, ap);
    va_end(ap);
    return rc;
}

void kt_diags_release(kt_diags *l)
{
    if (l == NULL)
        return;
    kt_strpool_release(&l->strings);
    kt_free(l->items);
    memset(l, 0, sizeof *l);
}

const char *kt_severity_name(kt_severity s)
{
    return s == KT_SEV_NOTE ? "note" : "warning";
}

char *kt_diag_text(const kt_diag *d, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
#define PUT(...)                                                                                   \
    do {                                                                                           \
        if (n < len)                                                                               \
            n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__);                                  \
    } while (0)
    if (d->volume >= 0)
        PUT("volume %d: ", d->volume);
    if (d->path)
        PUT("'%s': ", d->path);
    PUT("%s", d->message);
    if (d->artifact)
        PUT(" (artifact %s)", d->artifact);
#undef PUT
    return buf;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

bool kt_diag_is_loss(const kt_diag *d)
{
    if (d->severity != KT_SEV_WARNING || d->code == NULL)
        return false;
    const char *c = d->code;
    if (strcmp(c, "zone") == 0 || strncmp(c, "zone.", 5) == 0)
        return false;
    return !(ends_with(c, ".time") || ends_with(c, ".date") || ends_with(c, "-time"));
}
