#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kavtrace/alloc.h"
#include "kavtrace/buf.h"
#include "kavtrace/error.h"

int kt_buf_reserve(kt_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return KT_ENOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return KT_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = kt_realloc(b->data, cap);
    if (p == NULL)
        return KT_ENOMEM;
    b->data = p;
    b->cap = cap;
    return KT_OK;
}

int kt_buf_append(kt_buf *b, const void *p, size_t n)
{
    int rc = kt_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return KT_OK;
}

int kt_buf_vprintf(kt_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return KT_EARG;
    int rc = kt_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return KT_OK;
}

int kt_buf_printf(kt_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = kt_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void kt_buf_release(kt_buf *b)
{
    if (b == NULL)
        return;
    kt_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int kt_strlist_add(kt_strlist *l, const char *s)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **p = kt_realloc(l->items, cap * sizeof *p);
        if (p == NULL)
            return KT_ENOMEM;
        l->items = p;
        l->cap = cap;
    }
    char *copy = kt_strdup(s);
    if (copy == NULL)
        return KT_ENOMEM;
    l->items[l->count++] = copy;
    return KT_OK;
}

int kt_strlist_vaddf(kt_strlist *l, const char *fmt, va_list ap)
{
    kt_buf b = {0};
    int rc = kt_buf_vprintf(&b, fmt, ap);
    if (rc == KT_OK)
        rc = kt_strlist_add(l, (const char *)b.data);
    kt_buf_release(&b);
    return rc;
}

int kt_strlist_addf(kt_strlist *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = kt_strlist_vaddf(l, fmt, ap);
    va_end(ap);
    return rc;
}

void kt_strlist_release(kt_strlist *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->count; i++)
        kt_free(l->items[i]);
    kt_free(l->items);
    l->items = NULL;
    l->count = l->cap = 0;
}

size_t kt_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (size) {
        size_t c = n < size - 1 ? n : size - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

int kt_path_beside_exe(const char *rel, char *buf, size_t len)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return -1;
    *slash = '\0';
    int w = snprintf(buf, len, "%s/%s", exe, rel);
    return w > 0 && (size_t)w < len ? 0 : -1;
}
