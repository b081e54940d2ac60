#include <stdio.h>
#include <string.h>

#include "kavtrace/bytes.h"
#include "kavtrace/wintz.h"

#define SYSTEMTIME_SIZE 16

/* SYSTEMTIME: wYear, wMonth, wDayOfWeek, wDay, wHour, wMinute, wSecond,
 * wMilliseconds, each a little-endian 16-bit word. */
static void read_rule(const uint8_t p[SYSTEMTIME_SIZE], kt_wintz_rule *r)
{
    uint16_t w[7] = {0};
    for (size_t i = 0; i < 7; i++)
        kt_rd_le16(p, SYSTEMTIME_SIZE, 2 * i, &w[i]);
    r->year = w[0];
    r->month = w[1];
    r->dow = w[2];
    r->day = w[3];
    r->hour = w[4];
    r->minute = w[5];
    r->second = w[6];
}

void kt_wintz_init(kt_wintz *tz, const char *name, int32_t bias, int32_t std_bias, int32_t dst_bias,
                   const uint8_t std_start[16], const uint8_t dst_start[16])
{
    memset(tz, 0, sizeof *tz);
    kt_strlcpy(tz->name, name ? name : "", sizeof tz->name);
    tz->bias = bias;
    tz->std_bias = std_bias;
    tz->dst_bias = dst_bias;
    if (std_start)
        read_rule(std_start, &tz->std_start);
    if (dst_start)
        read_rule(dst_start, &tz->dst_start);
    tz->has_dst = tz->std_start.month >= 1 && tz->std_start.month <= 12 &&
                  tz->dst_start.month >= 1 && tz->dst_start.month <= 12;
}

static int32_t get_i32(kt_hive *h, kt_hive_node n, const char *name, bool *ok)
{
    uint32_t type = 0;
    kt_buf b = {0};
    uint32_t v = 0;
    if (kt_hive_value(h, n, name, &type, &b, NULL) != KT_OK || !kt_rd_le32(b.data, b.len, 0, &v))
        *ok = false;
    kt_buf_release(&b);
    return (int32_t)v;
}

int kt_wintz_from_hive(kt_hive *system, const char *controlset, kt_wintz *out, kt_error *err)
{
    char path[128];
    snprintf(path, sizeof path, "%s\\Control\\TimeZoneInformation", controlset);
    kt_hive_node n;
    int rc = kt_hive_find(system, 0, path, &n, err);
    if (rc)
        return rc;
    bool ok = true;
    int32_t bias = get_i32(system, n, "Bias", &ok);
    if (!ok)
        return kt_error_set(err, KT_EFORMAT, "%s: no Bias value", path);
    int32_t sb = get_i32(system, n, "StandardBias", &ok);
    int32_t db = get_i32(system, n, "DaylightBias", &ok);
    uint8_t ss[16] = {0}, ds[16] = {0};
    uint32_t type;
    kt_buf b = {0};
    if (kt_hive_value(system, n, "StandardStart", &type, &b, NULL) == KT_OK && b.len >= 16)
        memcpy(ss, b.data, 16);
    kt_buf_release(&b);
    if (kt_hive_value(system, n, "DaylightStart", &type, &b, NULL) == KT_OK && b.len >= 16)
        memcpy(ds, b.data, 16);
    kt_buf_release(&b);
    char name[128] = "";
    if (kt_hive_value_string(system, n, "TimeZoneKeyName", name, sizeof name, NULL))
        kt_hive_value_string(system, n, "StandardName", name, sizeof name, NULL);
    kt_wintz_init(out, name, bias, ok ? sb : 0, ok ? db : 0, ss, ds);
    return KT_OK;
}

/* The local instant of a recurring transition in `year`: the day-th
 * (5 = last) dow of month, at hour:minute:second. */
static kt_time transition(const kt_wintz_rule *r, int64_t year)
{
    int64_t first = kt_days_from_civil(year, r->month, 1);
    /* 1970-01-01 was a Thursday (4). */
    int first_dow = (int)(((first % 7) + 7 + 4) % 7);
    int day = 1 + (r->dow - first_dow + 7) % 7 + (r->day > 0 ? r->day - 1 : 0) * 7;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int dim = mdays[r->month - 1] +
              (r->month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0));
    while (day > dim)
        day -= 7;
    int64_t secs = (first + day - 1) * 86400 + r->hour * 3600 + r->minute * 60 + r->second;
    return kt_time_from_unix(secs, 0);
}

kt_time kt_wintz_to_utc(const kt_wintz *tz, kt_time local)
{
    if (local == KT_TIME_NONE)
        return local;
    /* int64: a corrupt hive's biases may be any 32-bit values */
    int64_t bias = (int64_t)tz->bias + tz->std_bias;
    if (tz->has_dst) {
        int64_t days = local / KT_NS_PER_SEC / 86400;
        if (local < 0 && local % (KT_NS_PER_SEC * 86400))
            days--;
        /* The year of the local instant. */
        int64_t y = 1970 + days / 366;
        while (kt_days_from_civil(y + 1, 1, 1) <= days)
            y++;
        while (kt_days_from_civil(y, 1, 1) > days)
            y--;
        kt_time dst = transition(&tz->dst_start, y); /* in standard local time */
        kt_time std = transition(&tz->std_start, y); /* in daylight local time */
        bool in_dst = dst < std ? (local >= dst && local < std) : (local >= dst || local < std);
        if (in_dst)
            bias = (int64_t)tz->bias + tz->dst_bias;
    }
    int64_t offset;
    kt_time out;
    if (__builtin_mul_overflow(bias, 60 * KT_NS_PER_SEC, &offset) ||
        __builtin_add_overflow(local, offset, &out))
        return KT_TIME_NONE; /* past the range of a kt_time (1678..2262) */
    return out;
}
