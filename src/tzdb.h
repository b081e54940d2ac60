/* kavtrace's zone table: the layout of tzdb_data.c, which kt-tzgen
 * (tools/kt-tzgen.c) generates from one pinned tzdata release
 * (testdata/tz/tzdata/) and scripts/tz-update regenerates. Read only by
 * tzif_builtin.c, which turns a zone of it into a kt_tzif. */
#ifndef KAVTRACE_TZDB_H
#define KAVTRACE_TZDB_H

#include <stddef.h>
#include <stdint.h>

/* A local time type: offset east of UTC, daylight flag, abbreviation. */
typedef struct kt_tzdb_type {
    int32_t utoff;
    uint8_t isdst;
    const char *abbr;
} kt_tzdb_type;

/* One zone's history: the type in force at kt_tzdb_from, then ntimes
 * transitions from kt_tzdb_times[first] on (each to the type at the same
 * index of kt_tzdb_time_types), all before kt_tzdb_until, then the final
 * POSIX rule (footer; "" when the last type stays for ever). */
typedef struct kt_tzdb_zone {
    uint16_t type0;
    uint16_t ntimes;
    uint32_t first;
    const char *footer;
} kt_tzdb_zone;

typedef struct kt_tzdb_name {
    const char *name;
    uint16_t zone;
} kt_tzdb_name;

extern const char kt_tzdb_release[];
extern const int64_t kt_tzdb_released; /* Unix seconds */
extern const int64_t kt_tzdb_from, kt_tzdb_until;
extern const kt_tzdb_type kt_tzdb_types[];
extern const size_t kt_tzdb_ntypes;
extern const int64_t kt_tzdb_times[];
extern const uint16_t kt_tzdb_time_types[];
extern const size_t kt_tzdb_ntimes;
extern const kt_tzdb_zone kt_tzdb_zones[];
extern const size_t kt_tzdb_nzones;
extern const kt_tzdb_name kt_tzdb_names[]; /* in strcmp order */
extern const size_t kt_tzdb_nnames;

#endif
