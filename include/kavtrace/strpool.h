/* kavtrace: a pool of string copies that are freed together. The
 * timeline and the diagnostics list keep their records' strings in one,
 * so a record's strings are owned by its list, never freed one by one. */
#ifndef KAVTRACE_STRPOOL_H
#define KAVTRACE_STRPOOL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct kt_strpool_block kt_strpool_block;

/* Zero-initialise; release with kt_strpool_release. */
typedef struct kt_strpool {
    kt_strpool_block *head;
} kt_strpool;

/* Where the pool stands: kt_strpool_rollback returns it there. */
typedef struct kt_strpool_mark {
    kt_strpool_block *block;
    size_t used;
} kt_strpool_mark;

/* A copy of s in the pool (NULL for NULL). Out of memory sets *failed and
 * gives NULL; once *failed is set, nothing more is copied. */
const char *kt_strpool_copy(kt_strpool *p, const char *s, bool *failed);
kt_strpool_mark kt_strpool_mark_get(const kt_strpool *p);
/* Free what was copied since mark (a record that could not be completed). */
void kt_strpool_rollback(kt_strpool *p, kt_strpool_mark mark);
void kt_strpool_release(kt_strpool *p);

#endif
