/* kavtrace: the event model. An event is one dated fact a collector found:
 * when (and how that time was read), what kind of fact, about which
 * product, from which artifact definition, and where exactly in the
 * evidence. Collectors build events (src/collect/emit.c is the one
 * place that does) and hand them to the timeline, which copies them. */
#ifndef KAVTRACE_EVENT_H
#define KAVTRACE_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "kavtrace/time.h"

/* What kind of fact an event is. */
typedef enum kt_category {
    KT_CAT_INSTALL,
    KT_CAT_SIGNATURE_UPDATE,
    KT_CAT_CODEBASE_UPDATE,
    KT_CAT_KSN,
    KT_CAT_REMOVAL,
    KT_CAT_EXECUTION,
    KT_CAT_DETECTION,
    KT_CAT_PRESENCE,
    KT_CAT_MIGRATION,
    KT_CAT_CONFIG,
    /* an update of a product without anti-virus signatures (a VPN, a
     * password manager): never a signature update */
    KT_CAT_UPDATE,
    KT_CAT_COUNT,
} kt_category;

/* What a find says about the product's state at acquisition. */
typedef enum kt_role {
    KT_ROLE_NONE,
    KT_ROLE_REGISTRATION, /* uninstall entry, service, product key, package */
    KT_ROLE_PROGRAM,      /* program or data files */
    KT_ROLE_RESIDUE,      /* files that outlive an uninstall (drivers) */
    /* Kaspersky code inside another vendor's product (a white-label
     * find): the event's product_name is the host (the vendor's folder or
     * key), product_id the Kaspersky component. Never a product of the
     * system: findings.json lists it under `integrations`. */
    KT_ROLE_INTEGRATION,
    /* A standalone Kaspersky tool a third party ships (TDSSKiller, KVRT in
     * a toolkit): listed as such, never a product nor an integration. */
    KT_ROLE_BUNDLED_TOOL,
    /* A program folder the white-label search covers: no event, a note
     * that the search ran over it (src/collect/emit.c). */
    KT_ROLE_SEARCHED,
    /* The uninstall entry of the product that owns an integration's host
     * folder: product_name is the host (as its integration's events name
     * it), version the entry's DisplayVersion, display_name, publisher
     * and install_folder the entry's own. Never a product of the system:
     * findings.json gives it as its integration's `host_product`. */
    KT_ROLE_HOST_PRODUCT,
} kt_role;

const char *kt_category_name(kt_category c);
const char *kt_role_name(kt_role r);

/* The definition an event came from (artifacts.h); events only point at
 * it, and it outlives them. */
struct kt_artifact;

/* Every string is borrowed by whoever builds the event and copied by the
 * timeline (kt_timeline_add), which owns its copies; NULL means "none". */
typedef struct kt_event {
    char id[16]; /* "E000001", set by kt_timeline_finish */
    kt_time time;
    kt_precision precision;
    const char *time_source; /* "$SI created", "key last written", "InstallDate (local date)" */
    const char *zone;        /* the zone a local time was converted with, else NULL */
    kt_category category;
    const char *vendor;
    const char *product_id;   /* a kt_product_def id, or NULL when not identified */
    const char *product_name; /* the name found on disk, if any */
    const char *version;
    const struct kt_artifact *artifact;
    kt_role role;
    const char *removal_method;
    /* where */
    int volume;
    int64_t volume_offset;
    /* Found on a data volume of the system on volume system_volume (a
     * volume holding no system of its own, kt_collect_data_volume): the
     * event belongs to that system's findings. Otherwise (data_volume
     * false) the system is the one on `volume`; kt_event_system gives it. */
    bool data_volume;
    int system_volume;
    /* Found in a Volume Shadow Copy of the volume: the store's number
     * (1-based), identifier and creation time; store 0: the volume as
     * acquired. What a store shows is the past: it never makes a product
     * present now. */
    int store;
    const char *store_id;
    kt_time store_created;
    const char *fs;
    const char *path;
    uint64_t inode;
    bool allocated;
    /* A time of the file at path itself, as a bodyfile has it: 'm'
     * (modified), 'a' (accessed), 'c' (metadata changed), 'b' (born); 0
     * for any other time. fn_time: NTFS's $FILE_NAME copy of it. */
    char macb;
    bool fn_time;
    const char *hive;
    /* NULL with a hive: a value recovered from a free cell without its key
     * (matched by its name only): listed, never counted in findings */
    const char *key;
    const char *value;
    /* role host_product: the entry's DisplayName, Publisher and the
     * folder it names (a path on the volume); NULL otherwise */
    const char *display_name, *publisher, *install_folder;
    const char *description;
    /* against the milestones (kt_timeline_finish) */
    char phase[80];   /* "before announced", "sales_ban..vendor_cutoff", "after cutoff" */
    char nearest[32]; /* the nearest milestone's id */
    int64_t distance; /* seconds from that milestone (negative: before it) */
} kt_event;

/* The volume of the system e belongs to (the findings' key). */
static inline int kt_event_system(const kt_event *e)
{
    return e->data_volume ? e->system_volume : e->volume;
}

/* Where collectors send events: the timeline (kt_timeline_sink), or a
 * test's own list. add copies what it keeps (the event and its strings
 * are borrowed) and returns 0 or an error (KT_ENOMEM stops collection). */
typedef struct kt_event_sink {
    void *ctx;
    int (*add)(void *ctx, const kt_event *e);
} kt_event_sink;

#endif
