/* kavtrace: a Linux or macOS system's time zone, from the TZif file at
 * /etc/localtime inside the image (RFC 8536, versions 1 to 4), and
 * conversion of its local wall-clock times to UTC.
 *
 * Only the bytes handed in are read: never the host's zone files, its TZ
 * or the C library's localtime/mktime/tzset.
 *
 * Times before the first transition use time type 0; times after the last
 * one use the footer's POSIX TZ rule (v2+), or the last transition's type
 * when the footer is empty (and always in a version 1 file). A file whose
 * footer is not a valid TZ string is refused (KT_EFORMAT): past its last
 * transition a slim file would otherwise give silently wrong times.
 * Leap-second records ("right/" zones) are used only to bring transition
 * times back to the POSIX time scale of kt_time. */
#ifndef KAVTRACE_TZIF_H
#define KAVTRACE_TZIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/error.h"
#include "kavtrace/time.h"

/* Limits on counts read from the file (tzcode's own are 2000 transitions,
 * 256 types, 50 abbreviation bytes and 50 leap seconds). */
#define KT_TZIF_MAX_SIZE (256u << 10)
#define KT_TZIF_MAX_TIMES 4000
#define KT_TZIF_MAX_TYPES 256
#define KT_TZIF_MAX_CHARS 512
#define KT_TZIF_MAX_LEAPS 200
#define KT_TZIF_MAX_FOOTER 255

typedef struct kt_tzif kt_tzif;

/* Parse a TZif file from data[0..len); nothing of data is kept.
 * On success *out owns the zone (kt_tzif_free); on error *out is left and
 * err says what is wrong: KT_EFORMAT for a malformed file, KT_ELIMIT for a
 * count over a limit above, KT_EUNSUPPORTED for an unknown version. */
int kt_tzif_parse(const uint8_t *data, size_t len, kt_tzif **out, kt_error *err);
void kt_tzif_free(kt_tzif *z);

typedef struct kt_tzif_info {
    int version;        /* 1, 2, 3 or 4 */
    size_t transitions; /* in the block used (the 64-bit one when present) */
    size_t types;
    size_t leaps;
    kt_time first, last; /* the first and last transition; KT_TIME_NONE if none */
} kt_tzif_info;

void kt_tzif_get_info(const kt_tzif *z, kt_tzif_info *out);

/* The footer's TZ string ("CST6CDT,M3.2.0,M11.1.0"), "" when there is
 * none. Borrowed: lives until kt_tzif_free. */
const char *kt_tzif_footer(const kt_tzif *z);

/* The UTC offset (seconds east) in force at the UTC instant t, and
 * optionally whether it is daylight time and its abbreviation ("CDT",
 * "+0330"; borrowed, lives until kt_tzif_free). Returns 0, or KT_EARG for
 * KT_TIME_NONE (outputs untouched). */
int kt_tzif_offset_at(const kt_tzif *z, kt_time t, int32_t *utoff, bool *isdst, const char **abbr);

/* What kt_tzif_local_to_utc found about a local time. */
enum {
    KT_TZ_EXACT = 0,       /* exactly one UTC instant shows this local time */
    KT_TZ_AMBIGUOUS = 1,   /* a repeated hour (DST end): the first occurrence is returned */
    KT_TZ_NONEXISTENT = 2, /* a skipped hour (DST start): local minus the offset before the gap */
};

/* A local wall-clock time (expressed as a kt_time as if it were UTC) to
 * UTC. *flags is set to KT_TZ_EXACT, KT_TZ_AMBIGUOUS or KT_TZ_NONEXISTENT (may
 * be NULL). Chicago, 2024: 11-03 01:30 is ambiguous and gives 06:30Z (CDT);
 * 03-10 02:30 does not exist and gives 08:30Z (02:30 CST). Returns 0, or
 * KT_EARG for KT_TIME_NONE or a result outside kt_time (outputs untouched). */
int kt_tzif_local_to_utc(const kt_tzif *z, kt_time local, kt_time *utc, int *flags);

/* The zone's name from where /etc/localtime points: the path after its
 * last "zoneinfo" component (also "zoneinfo-posix", ...), without a
 * "posix/" or "right/" prefix:
 *   "../usr/share/zoneinfo/America/Chicago"          -> "America/Chicago"
 *   "/var/db/timezone/zoneinfo/America/New_York"     -> "America/New_York"
 *   "/usr/share/zoneinfo/posix/Europe/London"        -> "Europe/London"
 * Returns 0, KT_ENOTFOUND when the target names no zone (no zoneinfo
 * component, an empty or "." / ".." component, a character outside
 * [A-Za-z0-9._+-]), or KT_ELIMIT when it does not fit in buf. buf is
 * written only on success. */
int kt_tzif_zone_name(const char *link_target, char *buf, size_t size);

/* The first instant after t at which the zone's offset, daylight flag or
 * abbreviation may change: a transition of the file, or of its footer
 * rule past the last one. Nothing may change in (t, *next); something
 * usually, not always, changes at *next (the footer taking over from the
 * last transition, a transition to an identical type). Returns 0, or
 * KT_ENOTFOUND when the local time never changes after t, or KT_EARG for
 * KT_TIME_NONE (*next untouched on both). */
int kt_tzif_next_change(const kt_tzif *z, kt_time t, kt_time *next);

/* ---- kavtrace's zone table (tzif_builtin.c, generated from tzdata) ----
 *
 * For an image whose /etc/localtime names a zone whose file the image
 * lacks (a link into a tzdata tree that was never installed), kavtrace
 * carries each zone's history from one pinned tzdata release: every
 * transition (offset, daylight flag, abbreviation) from `from` until
 * `until`, then the zone's final POSIX rule. Every Zone and Link name of
 * that release (zone1970.tab, backward, backzone) is in it. Times before
 * `from` are given the zone's state at `from`, which may be wrong: the
 * caller says so. Times after `released` use rules that a later tzdata
 * release may have changed: the caller says so too. The host's zone files
 * are never read. */
typedef struct kt_tzif_builtin_info {
    const char *release; /* the tzdata release, "2026f" */
    kt_time released;    /* when it was released */
    kt_time from, until; /* the span whose transitions are listed */
} kt_tzif_builtin_info;

/* The table's release and span. */
void kt_tzif_builtin_about(kt_tzif_builtin_info *info);

/* Zone `name` of the table ("America/Winnipeg", "US/Central") as a zone
 * to convert with (kt_tzif_free). `info` (may be NULL) receives the
 * table's release and span. KT_ENOTFOUND for a name not in the table. */
int kt_tzif_builtin(const char *name, kt_tzif **out, kt_tzif_builtin_info *info, kt_error *err);

/* The table's names, in strcmp order: i from 0 to count - 1. */
size_t kt_tzif_builtin_count(void);
const char *kt_tzif_builtin_name(size_t i);

#endif
