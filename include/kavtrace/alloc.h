/* kavtrace: the allocator of the timeline, the findings and the writers.
 * It is the C library's; tests can make it fail on purpose, to prove that
 * every out-of-memory path returns KT_ENOMEM and leaks nothing. */
#ifndef KAVTRACE_ALLOC_H
#define KAVTRACE_ALLOC_H

#include <stddef.h>

void *kt_malloc(size_t size);
void *kt_calloc(size_t n, size_t size);
void *kt_realloc(void *p, size_t size); /* on failure p is untouched */
char *kt_strdup(const char *s);         /* NULL for NULL */
void kt_free(void *p);

/* For tests: let the next `n` allocations succeed and every one after
 * fail, until kt_alloc_fail_never(). kt_alloc_count() is how many
 * allocations were made since the last kt_alloc_fail_after. Not thread
 * safe; production code never calls these. */
void kt_alloc_fail_after(size_t n);
void kt_alloc_fail_never(void);
size_t kt_alloc_count(void);

#endif
