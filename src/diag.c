#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kavtrace/alloc.h"
#include "kavtrace/diag.h"
#include "kavtrace/error.h"

#define BLOCK_MIN 16384
#define MESSAGE_MAX 2048

struct kt_diag_block {
    kt_diag_block *next;
    size_t used, cap;
    char data[];
};

static const char *copy(kt_diags *l, const char *s, bool *failed)
{
    if (s == NULL || *failed)
        return NULL;
    size_t n = strlen(s) + 1;
    kt_diag_block *b = l->blocks;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > BLOCK_MIN ? n : BLOCK_MIN;
        kt_diag_block *nb = kt_malloc(sizeof *nb + cap);
        if (nb == NULL) {
            *failed = true;
            return NULL;
        }
        nb->next = l->blocks;
        nb->used = 0;
        nb->cap = cap;
        l->blocks = b = nb;
    }
    char *out = b->data + b->used;
    memcpy(out, s, n);
    b->used += n;
    return out;
}

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
    kt_diag_block *mark = l->blocks;
    size_t used = mark ? mark->used : 0;
    bool failed = false;
    kt_diag c = *d;
    c.code = copy(l, d->code, &failed);
    c.path = copy(l, d->path, &failed);
    c.artifact = copy(l, d->artifact, &failed);
    c.message = copy(l, d->message ? d->message : "", &failed);
    if (failed) {
        while (l->blocks != mark) {
            kt_diag_block *b = l->blocks;
            l->blocks = b->next;
            kt_free(b);
        }
        if (mark)
            mark->used = used;
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
    while (l->blocks) {
        kt_diag_block *b = l->blocks;
        l->blocks = b->next;
        kt_free(b);
    }
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
