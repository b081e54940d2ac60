/* kavtrace: timestamps.
 *
 * Every time in kavtrace is a kt_time: nanoseconds since 1970-01-01 UTC in
 * an int64_t (covers 1678..2262). KT_TIME_NONE marks "no such time". All
 * conversions from on-disk encodings live here.
 */
#ifndef KAVTRACE_TIME_H
#define KAVTRACE_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int64_t kt_time;

#define KT_TIME_NONE INT64_MIN
#define KT_NS_PER_SEC INT64_C(1000000000)

/* Windows FILETIME: 100 ns ticks since 1601-01-01 UTC. 0 gives KT_TIME_NONE
 * (Windows writes 0 for "never"); values past 2262 give KT_TIME_NONE too. */
kt_time kt_time_from_filetime(uint64_t filetime);

/* Unix seconds plus nanoseconds (0..999999999). */
kt_time kt_time_from_unix(int64_t seconds, int64_t nanoseconds);

/* Days since 1970-01-01 for a proleptic Gregorian date (month 1..12). */
int64_t kt_days_from_civil(int64_t year, unsigned month, unsigned day);

/* Parse ISO 8601 UTC "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z" (also a bare date
 * "YYYY-MM-DD" = midnight UTC). Returns 0, or KT_EFORMAT and leaves *out. */
int kt_time_parse_iso(const char *s, kt_time *out);

/* Format as ISO 8601 UTC with 'Z'. The fraction is printed with as many
 * digits as needed (none, 3, 6, 7 or 9: the shortest that is exact), so a
 * FILETIME keeps its 100 ns. KT_TIME_NONE prints "-". Returns buf. */
#define KT_TIME_ISO_MAX 40
char *kt_time_format_iso(kt_time t, char buf[KT_TIME_ISO_MAX]);

/* How finely a time is known. */
typedef enum kt_precision {
    KT_PREC_NS,
    KT_PREC_100NS,
    KT_PREC_MS,
    KT_PREC_SECOND,
    KT_PREC_MINUTE,
    KT_PREC_DAY,
} kt_precision;

const char *kt_precision_name(kt_precision p);

/* A time pattern: %Y %m %d %H %M %S (fixed width), %-m %-d %-H %-I (one
 * or two digits), %I with %p (12-hour clock, AM/PM), %f (milliseconds,
 * three digits), %z (a UTC offset: +HH, +HHMM or +HH:MM; the result is
 * then UTC) and literal characters; a space matches one or more
 * spaces. A pattern without a date (time_only) gives the time of day and
 * needs a date from elsewhere; one without a year (no_year) parses as in
 * the year 2000 and needs the year from elsewhere. */
typedef struct kt_time_pattern {
    char *pattern;          /* owned by whoever filled it in */
    bool local;             /* wall-clock time of the analysed system */
    bool time_only;         /* no %Y %m %d */
    bool no_year;           /* %m and %d without %Y: the year comes from elsewhere */
    bool has_offset;        /* %z: the text carries its UTC offset */
    bool unix_seconds;      /* %s: seconds since 1970, UTC (alone in the pattern) */
    kt_precision precision; /* derived from the fields present */
} kt_time_pattern;

/* Check tp->pattern and derive time_only, no_year, has_offset,
 * unix_seconds and precision from it. Returns 0, or KT_EFORMAT for an unknown or
 * inconsistent field (tp's derived fields are then unspecified). */
int kt_time_pattern_compile(kt_time_pattern *tp);

/* Parse `text` with a time pattern into wall-clock-as-UTC nanoseconds.
 * Returns 0 or KT_EFORMAT (*out untouched). */
int kt_time_pattern_parse(const kt_time_pattern *p, const char *text, kt_time *out);

#endif
