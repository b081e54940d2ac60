#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/alloc.h"
#include "kavtrace/timeline.h"

int kt_timeline_add(kt_timeline *tl, const kt_event *ev)
{
    if (tl->count >= KT_TIMELINE_MAX_EVENTS)
        return KT_ELIMIT;
    if (tl->count == tl->cap) {
        size_t cap = tl->cap ? tl->cap * 2 : 64;
        kt_event *p = kt_realloc(tl->items, cap * sizeof *p);
        if (p == NULL)
            return KT_ENOMEM;
        tl->items = p;
        tl->cap = cap;
    }
    kt_strpool_mark mark = kt_strpool_mark_get(&tl->strings);
    bool failed = false;
    kt_event e = *ev;
    e.time_source = kt_strpool_copy(&tl->strings, ev->time_source, &failed);
    e.zone = kt_strpool_copy(&tl->strings, ev->zone, &failed);
    e.vendor = kt_strpool_copy(&tl->strings, ev->vendor, &failed);
    e.product_id = kt_strpool_copy(&tl->strings, ev->product_id, &failed);
    e.product_name = kt_strpool_copy(&tl->strings, ev->product_name, &failed);
    e.version = kt_strpool_copy(&tl->strings, ev->version, &failed);
    e.removal_method = kt_strpool_copy(&tl->strings, ev->removal_method, &failed);
    e.fs = kt_strpool_copy(&tl->strings, ev->fs, &failed);
    e.path = kt_strpool_copy(&tl->strings, ev->path, &failed);
    e.hive = kt_strpool_copy(&tl->strings, ev->hive, &failed);
    e.key = kt_strpool_copy(&tl->strings, ev->key, &failed);
    e.value = kt_strpool_copy(&tl->strings, ev->value, &failed);
    e.display_name = kt_strpool_copy(&tl->strings, ev->display_name, &failed);
    e.publisher = kt_strpool_copy(&tl->strings, ev->publisher, &failed);
    e.install_folder = kt_strpool_copy(&tl->strings, ev->install_folder, &failed);
    e.description = kt_strpool_copy(&tl->strings, ev->description, &failed);
    e.store_id = kt_strpool_copy(&tl->strings, ev->store_id, &failed);
    if (failed) {
        kt_strpool_rollback(&tl->strings, mark);
        return KT_ENOMEM;
    }
    tl->items[tl->count++] = e;
    return KT_OK;
}

static int sink_add(void *tl, const kt_event *ev)
{
    return kt_timeline_add(tl, ev);
}

kt_event_sink kt_timeline_sink(kt_timeline *tl)
{
    return (kt_event_sink){.ctx = tl, .add = sink_add};
}

static int scmp(const char *a, const char *b)
{
    if (a == b)
        return 0;
    if (a == NULL)
        return -1;
    if (b == NULL)
        return 1;
    return strcmp(a, b);
}

/* A total order: time, then every field that tells two events apart. */
static int event_cmp(const void *pa, const void *pb)
{
    const kt_event *a = pa, *b = pb;
    if (a->time != b->time)
        return a->time < b->time ? -1 : 1;
    int c;
    if (a->category != b->category)
        return a->category < b->category ? -1 : 1;
    if ((c = scmp(a->artifact ? a->artifact->id : NULL, b->artifact ? b->artifact->id : NULL)))
        return c;
    if (a->volume != b->volume)
        return a->volume < b->volume ? -1 : 1;
    if (a->store != b->store)
        return a->store < b->store ? -1 : 1;
    if ((c = scmp(a->path, b->path)) || (c = scmp(a->hive, b->hive)) ||
        (c = scmp(a->key, b->key)) || (c = scmp(a->value, b->value)) ||
        (c = scmp(a->time_source, b->time_source)) || (c = scmp(a->product_id, b->product_id)) ||
        (c = scmp(a->version, b->version)) || (c = scmp(a->description, b->description)))
        return c;
    if (a->inode != b->inode)
        return a->inode < b->inode ? -1 : 1;
    return (int)a->allocated - (int)b->allocated;
}

static bool same(const kt_event *a, const kt_event *b)
{
    /* allocated too: a live key and an older state's copy of it (a hive's
     * RegBack copy, its free cells) are two finds, and the live one must
     * stay. */
    return a->time == b->time && a->category == b->category && a->artifact == b->artifact &&
           a->volume == b->volume && a->store == b->store && a->allocated == b->allocated &&
           scmp(a->path, b->path) == 0 && scmp(a->key, b->key) == 0 &&
           scmp(a->value, b->value) == 0 && scmp(a->time_source, b->time_source) == 0 &&
           a->inode == b->inode;
}

static void place(kt_event *e, const kt_artifact_set *set)
{
    size_t n = set->nmilestones;
    if (n == 0) {
        snprintf(e->phase, sizeof e->phase, "-");
        return;
    }
    size_t after = 0; /* how many milestones are at or before the event */
    while (after < n && set->milestones[after].time <= e->time)
        after++;
    if (after == 0)
        snprintf(e->phase, sizeof e->phase, "before %s", set->milestones[0].id);
    else if (after == n)
        snprintf(e->phase, sizeof e->phase, "after %s", set->milestones[n - 1].id);
    else
        snprintf(e->phase, sizeof e->phase, "%s..%s", set->milestones[after - 1].id,
                 set->milestones[after].id);
    int64_t best = INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        int64_t d = (e->time - set->milestones[i].time) / KT_NS_PER_SEC;
        if ((d < 0 ? -d : d) < (best < 0 ? -best : best)) {
            best = d;
            snprintf(e->nearest, sizeof e->nearest, "%s", set->milestones[i].id);
        }
    }
    e->distance = best;
}

void kt_timeline_finish(kt_timeline *tl, const kt_artifact_set *set)
{
    if (tl->count > 1)
        qsort(tl->items, tl->count, sizeof *tl->items, event_cmp);
    size_t out = 0;
    for (size_t i = 0; i < tl->count; i++) {
        if (out > 0 && same(&tl->items[out - 1], &tl->items[i]))
            continue; /* its strings stay in the pool until release */
        tl->items[out++] = tl->items[i];
    }
    tl->count = out;
    for (size_t i = 0; i < tl->count; i++) {
        snprintf(tl->items[i].id, sizeof tl->items[i].id, "E%06u", (unsigned)(i + 1) % 10000000u);
        place(&tl->items[i], set);
    }
}

void kt_timeline_release(kt_timeline *tl)
{
    if (tl == NULL)
        return;
    kt_strpool_release(&tl->strings);
    kt_free(tl->items);
    memset(tl, 0, sizeof *tl);
}

const kt_event *kt_timeline_find(const kt_timeline *tl, const char *id)
{
    for (size_t i = 0; i < tl->count; i++)
        if (strcmp(tl->items[i].id, id) == 0)
            return &tl->items[i];
    return NULL;
}
