/* kavtrace: the analysed system's time zone, one interface over its three
 * kinds: Windows' TimeZoneInformation (wintz.h), the image's own TZif
 * /etc/localtime (tzif.h), or kavtrace's zone table for a zone the image
 * names without its file (tzif.h). Local wall-clock times of the system's
 * logs are converted to UTC with kt_zone_to_utc, whatever the kind. */
#ifndef KAVTRACE_ZONE_H
#define KAVTRACE_ZONE_H

#include "kavtrace/buf.h"
#include "kavtrace/fs.h"
#include "kavtrace/registry.h"
#include "kavtrace/time.h"
#include "kavtrace/tzif.h"
#include "kavtrace/wintz.h"

typedef enum kt_zone_kind {
    KT_ZONE_NONE,    /* unknown: local times stay as they are, and say so */
    KT_ZONE_WINDOWS, /* the SYSTEM hive's TimeZoneInformation */
    KT_ZONE_TZIF,    /* the image's /etc/localtime */
    KT_ZONE_TABLE,   /* kavtrace's table (tzif.h), for a zone named but missing */
} kt_zone_kind;

typedef struct kt_zone {
    kt_zone_kind kind;
    char name[128];             /* "Eastern Standard Time", "America/Chicago" */
    kt_wintz wintz;             /* KT_ZONE_WINDOWS */
    kt_tzif *tzif;              /* KT_ZONE_TZIF, KT_ZONE_TABLE (owned) */
    kt_tzif_builtin_info table; /* KT_ZONE_TABLE: the table's release */
    bool file_unreadable;       /* the image has a zone file kavtrace could not read */
    kt_strlist notes;           /* what loading it found: warnings, each a sentence */
} kt_zone;

/* Windows: TimeZoneInformation of controlset ("ControlSet001") in the
 * SYSTEM hive. *z must be zeroed; what goes wrong is a note. */
void kt_zone_load_windows(kt_zone *z, kt_hive *system, const char *controlset);
/* Linux, macOS: etc/localtime of fs (followed), else the table's zone
 * `name` (from the link's target or etc/timezone; may be "").
 * *bytes_read: the zone file's size when it was read. */
void kt_zone_load_unix(kt_zone *z, kt_fs *fs, const char *name, size_t *bytes_read);
void kt_zone_release(kt_zone *z);

/* A local wall-clock time (a kt_time as if UTC) to UTC. *flags (may be
 * NULL) is KT_TZ_EXACT, KT_TZ_AMBIGUOUS (the first instant is given) or
 * KT_TZ_NONEXISTENT. Returns 0, KT_ENOTFOUND when the zone is unknown,
 * KT_EARG for KT_TIME_NONE or a result outside kt_time. */
int kt_zone_to_utc(const kt_zone *z, kt_time local, kt_time *utc, int *flags);

#endif
