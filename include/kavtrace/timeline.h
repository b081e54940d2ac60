/* kavtrace: the timeline of events (event.h). It copies each event it is
 * given and owns the copies' strings; it sorts them (a total order), merges
 * duplicates, numbers them and places each against the milestones. */
#ifndef KAVTRACE_TIMELINE_H
#define KAVTRACE_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "kavtrace/artifacts.h"
#include "kavtrace/event.h"
#include "kavtrace/strpool.h"
#include "kavtrace/time.h"

#define KT_TIMELINE_MAX_EVENTS 2000000

/* Zero-initialise; release with kt_timeline_release. The events' strings
 * live in the timeline's own pool until then. */
typedef struct kt_timeline {
    kt_event *items;
    size_t count;
    size_t cap;
    kt_strpool strings; /* the copies of the events' strings */
} kt_timeline;

/* Add a copy of ev: every string is copied (ev's are borrowed). Returns
 * 0, KT_ELIMIT past KT_TIMELINE_MAX_EVENTS, or KT_ENOMEM; on error the
 * timeline is unchanged. */
int kt_timeline_add(kt_timeline *tl, const kt_event *ev);
/* A sink that adds to tl. */
kt_event_sink kt_timeline_sink(kt_timeline *tl);
/* Sort, merge duplicates, number the events and place them against the
 * milestones of set. */
void kt_timeline_finish(kt_timeline *tl, const kt_artifact_set *set);
void kt_timeline_release(kt_timeline *tl);
const kt_event *kt_timeline_find(const kt_timeline *tl, const char *id);

#endif
