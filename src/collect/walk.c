/* The pattern walker shared by registry key patterns and file path
 * patterns (source.h). */
#include <fnmatch.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

typedef struct level {
    kt_walk *w;
    char **parts;
    size_t nparts, i;
    const char *path;
} level;

static bool has_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static bool stopped(const kt_walk *w)
{
    return w->matches >= w->max_matches || (w->stop && *w->stop);
}

static void walk(kt_walk *w, char **parts, size_t nparts, size_t i, const char *path,
                 const void *node, bool below_glob);

/* The node's path joined with a child's name; false when it does not fit
 * and the walker skips what does not. */
static bool join(const kt_walk *w, const char *path, const char *name, char *out, size_t len)
{
    size_t max = w->path_max && w->path_max < len ? w->path_max : len;
    int n = snprintf(out, max, "%s%s%s", path, path[0] ? (char[]){w->sep, 0} : "", name);
    return w->path_max == 0 || n < (int)max;
}

static void each_child(void *p, const char *name, const void *child)
{
    level *l = p;
    kt_walk *w = l->w;
    if (stopped(w) || fnmatch(l->parts[l->i], name, w->fnm_flags) != 0)
        return;
    char path[KT_FS_PATH_MAX];
    if (!join(w, l->path, name, path, sizeof path))
        return;
    walk(w, l->parts, l->nparts, l->i + 1, path, child, true);
}

/* ---- "**": breadth first ---- */

typedef union node_bytes {
    max_align_t align;
    unsigned char bytes[KT_WALK_NODE_MAX];
} node_bytes;

/* One queued node: its path (an offset into any_search.paths), its depth,
 * then its node_size bytes, in a slot of `stride` bytes. */
typedef struct any_head {
    size_t path;
    int depth;
} any_head;

#define ALIGN_UP(n) (((n) + alignof(max_align_t) - 1) / alignof(max_align_t) * alignof(max_align_t))

/* The queue of one "**" search. Slots before `head` are done: when the
 * queue is full they are dropped (with their paths) before it grows, so it
 * holds the nodes waiting to be listed, not every node entered. */
typedef struct any_search {
    kt_walk *w;
    unsigned char *slots;
    size_t stride, head, count, cap;
    kt_buf paths;
    const char *path; /* of the node being listed */
    int depth;        /* of its children */
    size_t entered;
    bool cut;
} any_search;

static any_head *slot(const any_search *q, size_t i)
{
    return (any_head *)(void *)(q->slots + i * q->stride);
}

/* Drop the slots already listed, and their paths. */
static void compact(any_search *q)
{
    if (q->head == 0)
        return;
    size_t base = q->head < q->count ? slot(q, q->head)->path : q->paths.len;
    memmove(q->slots, q->slots + q->head * q->stride, (q->count - q->head) * q->stride);
    q->count -= q->head;
    q->head = 0;
    memmove(q->paths.data, q->paths.data + base, q->paths.len - base);
    q->paths.len -= base;
    for (size_t i = 0; i < q->count; i++)
        slot(q, i)->path -= base;
}

/* Queue a node found at `path`; past KT_WALK_ANY_NODES the search is cut. */
static void any_push(any_search *q, const char *path, const void *node, int depth)
{
    kt_walk *w = q->w;
    if (q->entered >= KT_WALK_ANY_NODES) {
        q->cut = true;
        return;
    }
    if (q->count == q->cap && q->head >= q->count / 2)
        compact(q);
    if (q->count == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 64;
        unsigned char *n = realloc(q->slots, cap * q->stride);
        if (n == NULL) {
            w->nomem = true;
            return;
        }
        q->slots = n;
        q->cap = cap;
    }
    any_head *it = slot(q, q->count);
    it->path = q->paths.len;
    if (kt_buf_append(&q->paths, path, strlen(path) + 1) != KT_OK) {
        w->nomem = true;
        return;
    }
    it->depth = depth;
    memcpy((unsigned char *)it + ALIGN_UP(sizeof(any_head)), node, w->node_size);
    q->count++;
    q->entered++;
}

static void any_child(void *p, const char *name, const void *child)
{
    any_search *q = p;
    char path[KT_FS_PATH_MAX];
    if (!q->w->nomem && !stopped(q->w) && join(q->w, q->path, name, path, sizeof path))
        any_push(q, path, child, q->depth);
}

static void walk_any(kt_walk *w, char **parts, size_t nparts, size_t i, const char *path,
                     const void *node)
{
    any_search q = {.w = w, .stride = ALIGN_UP(sizeof(any_head)) + ALIGN_UP(w->node_size)};
    any_push(&q, path, node, 0); /* the node itself: "**" as no level */
    for (; q.head < q.count && !w->nomem && !stopped(w); q.head++) {
        /* copied out: listing may move the queue */
        const any_head *h = slot(&q, q.head);
        int depth = h->depth;
        node_bytes here_node;
        memcpy(here_node.bytes, (const unsigned char *)h + ALIGN_UP(sizeof(any_head)),
               w->node_size);
        char here[KT_FS_PATH_MAX];
        kt_strlcpy(here, (const char *)q.paths.data + h->path, sizeof here);
        walk(w, parts, nparts, i + 1, here, &here_node, true);
        if (depth >= KT_WALK_ANY_DEPTH || stopped(w))
            continue;
        q.path = here;
        q.depth = depth + 1;
        w->list(w->arg, here, &here_node, false, any_child, &q);
    }
    if (q.cut)
        w->any_cut++;
    free(q.slots);
    kt_buf_release(&q.paths);
}

static void walk(kt_walk *w, char **parts, size_t nparts, size_t i, const char *path,
                 const void *node, bool below_glob)
{
    if (stopped(w))
        return;
    if (i == nparts) {
        if (w->match(w->arg, path, node))
            w->matches++;
        return;
    }
    if (strcmp(parts[i], "**") == 0 && w->node_size && w->node_size <= KT_WALK_NODE_MAX) {
        walk_any(w, parts, nparts, i, path, node);
        return;
    }
    bool last = i + 1 == nparts;
    bool literal = !has_glob(parts[i]) && w->lookup && (!below_glob || w->lookup_after_glob) &&
                   (!last || w->lookup_last);
    if (literal) {
        union {
            max_align_t align;
            unsigned char bytes[KT_WALK_NODE_MAX];
        } child;
        char real[1024], sub[KT_FS_PATH_MAX];
        if (!w->lookup(w->arg, path, node, parts[i], real, sizeof real, &child))
            return;
        if (!join(w, path, real, sub, sizeof sub))
            return;
        walk(w, parts, nparts, i + 1, sub, &child, below_glob);
        return;
    }
    level l = {.w = w, .parts = parts, .nparts = nparts, .i = i, .path = path};
    w->list(w->arg, path, node, last, each_child, &l);
}

void kt_walk_run(kt_walk *w, const char *pattern, const char *root_path, const void *root)
{
    char buf[KT_FS_PATH_MAX];
    kt_strlcpy(buf, pattern, sizeof buf);
    char *parts[KT_WALK_MAX_DEPTH];
    size_t n = 0;
    for (char *s = buf; *s && n < KT_WALK_MAX_DEPTH;) {
        while (*s == w->sep)
            s++;
        if (!*s)
            break;
        parts[n++] = s;
        while (*s && *s != w->sep)
            s++;
        if (*s)
            *s++ = '\0';
    }
    walk(w, parts, n, 0, root_path, root, false);
}
