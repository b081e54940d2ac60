/* kavtrace: a growable byte buffer and a growable string list. */
#ifndef KAVTRACE_BUF_H
#define KAVTRACE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Owns data; data is always NUL-terminated past len so text can be used
 * as a C string. Zero-initialise before first use; kt_buf_release frees. */
typedef struct kt_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} kt_buf;

int kt_buf_reserve(kt_buf *b, size_t extra);
int kt_buf_append(kt_buf *b, const void *p, size_t n);
int kt_buf_printf(kt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int kt_buf_vprintf(kt_buf *b, const char *fmt, va_list ap);
void kt_buf_release(kt_buf *b);

/* A list of owned strings. Zero-initialise; kt_strlist_release frees. */
typedef struct kt_strlist {
    char **items;
    size_t count;
    size_t cap;
} kt_strlist;

int kt_strlist_add(kt_strlist *l, const char *s);
int kt_strlist_addf(kt_strlist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int kt_strlist_vaddf(kt_strlist *l, const char *fmt, va_list ap);
void kt_strlist_release(kt_strlist *l);

/* buf = "<directory of the running program>/rel"; 0, or -1 when it does
 * not fit or the program's path is unknown. */
int kt_path_beside_exe(const char *rel, char *buf, size_t len);

/* Bounded copy that always terminates; returns strlen(src). */
size_t kt_strlcpy(char *dst, const char *src, size_t size);

#endif
