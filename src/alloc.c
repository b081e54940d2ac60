#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/alloc.h"

static bool limited;
static size_t budget, made;

static bool allowed(void)
{
    made++;
    if (!limited)
        return true;
    if (budget == 0)
        return false;
    budget--;
    return true;
}

void *kt_malloc(size_t size)
{
    return allowed() ? malloc(size ? size : 1) : NULL;
}

void *kt_calloc(size_t n, size_t size)
{
    return allowed() ? calloc(n ? n : 1, size ? size : 1) : NULL;
}

void *kt_realloc(void *p, size_t size)
{
    return allowed() ? realloc(p, size ? size : 1) : NULL;
}

char *kt_strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = kt_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void kt_free(void *p)
{
    free(p);
}

void kt_alloc_fail_after(size_t n)
{
    limited = true;
    budget = n;
    made = 0;
}

void kt_alloc_fail_never(void)
{
    limited = false;
}

size_t kt_alloc_count(void)
{
    return made;
}
