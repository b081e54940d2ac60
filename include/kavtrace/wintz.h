/* kavtrace: a Windows system's time zone (SYSTEM\...\TimeZoneInformation)
 * and local-to-UTC conversion with its daylight-saving rule.
 *
 * The rule is the current one (StandardStart/DaylightStart, recurring
 * "n-th weekday of a month"); Windows's per-year Dynamic DST tables are not
 * read, so years whose rules differed from today's convert with today's. */
#ifndef KAVTRACE_WINTZ_H
#define KAVTRACE_WINTZ_H

#include <stdbool.h>
#include <stdint.h>

#include "kavtrace/error.h"
#include "kavtrace/registry.h"
#include "kavtrace/time.h"

/* SYSTEMTIME as a transition rule. */
typedef struct kt_wintz_rule {
    uint16_t year, month, dow, day, hour, minute, second;
} kt_wintz_rule;

typedef struct kt_wintz {
    char name[128];                   /* TimeZoneKeyName, else StandardName */
    int32_t bias, std_bias, dst_bias; /* minutes: UTC = local + bias (+ std/dst bias) */
    kt_wintz_rule std_start, dst_start;
    bool has_dst;
} kt_wintz;

/* Read the zone of control set `controlset` ("ControlSet001"). */
int kt_wintz_from_hive(kt_hive *system, const char *controlset, kt_wintz *out, kt_error *err);

/* Build a zone from TZI's raw fields (exposed for tests). */
void kt_wintz_init(kt_wintz *tz, const char *name, int32_t bias, int32_t std_bias, int32_t dst_bias,
                   const uint8_t std_start[16], const uint8_t dst_start[16]);

/* Local wall-clock time (expressed as if it were UTC) to UTC; KT_TIME_NONE
 * for KT_TIME_NONE, and when the result is past a kt_time's range (a time
 * near its ends, or a corrupt bias). */
kt_time kt_wintz_to_utc(const kt_wintz *tz, kt_time local);

#endif
