/* kavtrace: events and the timeline.
 *
 * An event is one dated fact a collector found: when, what kind of fact,
 * about which product, from which artifact definition, and where exactly
 * in the evidence. The timeline sorts them (a total order), merges
 * duplicates, numbers them and places each against the milestones. */
#ifndef KAVTRACE_TIMELINE_H
#define KAVTRACE_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "kavtrace/artifacts.h"
#include "kavtrace/time.h"

#define KT_TIMELINE_MAX_EVENTS 2000000

typedef struct kt_event {
    char id[16]; /* "E000001", set by kt_timeline_finish */
    kt_time time;
    kt_precision precision;
    char *time_source; /* "$SI created", "key last written", "InstallDate (local date)" */
    char *zone;        /* the zone a local time was converted with, else NULL */
    kt_category category;
    char *vendor;
    char *product_id;   /* a kt_product_def id, or NULL when not identified */
    char *product_name; /* the name found on disk, if any */
    char *version;
    const kt_artifact *artifact; /* borrowed from the definitions */
    kt_role role;
    char *removal_method;
    /* where */
    int volume;
    int64_t volume_offset;
    char *fs;
    char *path;
    uint64_t inode;
    bool allocated;
    char *hive;
    char *key;
    char *value;
    char *description;
    /* against the milestones */
    char phase[80];   /* "before announced", "sales_ban..vendor_cutoff", "after cutoff" */
    char nearest[32]; /* the nearest milestone's id */
    int64_t distance; /* seconds from that milestone (negative: before it) */
} kt_event;

typedef struct kt_timeline {
    kt_event *items;
    size_t count;
    size_t cap;
} kt_timeline;

/* Add a copy of ev (every string is copied; ev's are borrowed). */
int kt_timeline_add(kt_timeline *tl, const kt_event *ev);
/* Sort, merge duplicates, number the events and place them against the
 * milestones of set. */
void kt_timeline_finish(kt_timeline *tl, const kt_artifact_set *set);
void kt_timeline_release(kt_timeline *tl);
const kt_event *kt_timeline_find(const kt_timeline *tl, const char *id);

#endif
