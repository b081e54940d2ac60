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

/* A zone of kavtrace's own table of current rules (tzif_builtin.c), for
 * an image whose /etc/localtime names a zone its own tzdata lacks: a
 * footer-only zone. `rule` receives the POSIX rule used. KT_ENOTFOUND for
 * a zone not in the table. */
int kt_tzif_builtin(const char *name, kt_tzif **out, char *rule, size_t rule_len, kt_error *err);
size_t kt_tzif_builtin_count(void);
const char *kt_tzif_builtin_name(size_t i);

#endif
