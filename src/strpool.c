#include <string.h>

#include "kavtrace/alloc.h"
#include "kavtrace/strpool.h"

#define BLOCK_MIN 65536

struct kt_strpool_block {
    kt_strpool_block *next;
    size_t used, cap;
    char data[];
};

const char *kt_strpool_copy(kt_strpool *p, const char *s, bool *failed)
{
    if (s == NULL || *failed)
        return NULL;
    size_t n = strlen(s) + 1;
    kt_strpool_block *b = p->head;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > BLOCK_MIN ? n : BLOCK_MIN;
        kt_strpool_block *nb = kt_malloc(sizeof *nb + cap);
        if (nb == NULL) {
            *failed = true;
            return NULL;
        }
        nb->next = p->head;
        nb->used = 0;
        nb->cap = cap;
        p->head = b = nb;
    }
    char *out = b->data + b->used;
    memcpy(out, s, n);
    b->used += n;
    return out;
}

kt_strpool_mark kt_strpool_mark_get(const kt_strpool *p)
{
    return (kt_strpool_mark){.block = p->head, .used = p->head ? p->head->used : 0};
}

void kt_strpool_rollback(kt_strpool *p, kt_strpool_mark mark)
{
    while (p->head != mark.block) {
        kt_strpool_block *b = p->head;
        p->head = b->next;
        kt_free(b);
    }
    if (mark.block)
        mark.block->used = mark.used;
}

void kt_strpool_release(kt_strpool *p)
{
    if (p == NULL)
        return;
    kt_strpool_rollback(p, (kt_strpool_mark){0});
}
