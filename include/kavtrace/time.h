/* kavtrace: timestamps.
 *
 * Every time in kavtrace is a kt_time: nanoseconds since 1970-01-01 UTC in
 * an int64_t (covers 1678..2262). KT_TIME_NONE marks "no such time". All
 * conversions from on-disk encodings live here.
 */
#ifndef KAVTRACE_TIME_H
#define KAVTRACE_TIME_H

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

#endif
