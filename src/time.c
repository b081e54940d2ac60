#include <stdio.h>
#include <string.h>

#include "kavtrace/error.h"
#include "kavtrace/time.h"

/* 100 ns ticks between 1601-01-01 and 1970-01-01. */
#define FILETIME_UNIX_EPOCH UINT64_C(116444736000000000)

kt_time kt_time_from_filetime(uint64_t ft)
{
    if (ft == 0)
        return KT_TIME_NONE;
    if (ft > (uint64_t)INT64_MAX)
        return KT_TIME_NONE;
    int64_t ticks = (int64_t)ft - (int64_t)FILETIME_UNIX_EPOCH;
    if (ticks > INT64_MAX / 100 || ticks < INT64_MIN / 100 + 1)
        return KT_TIME_NONE;
    return ticks * 100;
}

kt_time kt_time_from_unix(int64_t s, int64_t ns)
{
    if (s > INT64_MAX / KT_NS_PER_SEC - 1 || s < INT64_MIN / KT_NS_PER_SEC + 1)
        return KT_TIME_NONE;
    return s * KT_NS_PER_SEC + ns;
}

/* Howard Hinnant's days_from_civil. */
int64_t kt_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static unsigned month_days(int y, int m)
{
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days[m - 1] + (m == 2 && leap);
}

int kt_time_parse_iso(const char *s, kt_time *out)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    int64_t frac = 0;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
        return KT_EFORMAT;
    if (mo < 1 || mo > 12 || d < 1 || (unsigned)d > month_days(y, mo))
        return KT_EFORMAT;
    if (*p != '\0') {
        if (*p != 'T' && *p != ' ')
            return KT_EFORMAT;
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
            digits(&p, 2, &sec))
            return KT_EFORMAT;
        if (h > 23 || mi > 59 || sec > 60)
            return KT_EFORMAT;
        if (*p == '.') {
            p++;
            int n = 0;
            while (*p >= '0' && *p <= '9') {
                if (n == 9)
                    return KT_EFORMAT;
                frac = frac * 10 + (*p - '0');
                n++;
                p++;
            }
            if (n == 0)
                return KT_EFORMAT;
            for (; n < 9; n++)
                frac *= 10;
        }
        if (*p++ != 'Z' || *p != '\0')
            return KT_EFORMAT;
    }
    int64_t days = kt_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec;
    kt_time t = kt_time_from_unix(secs, frac);
    if (t == KT_TIME_NONE)
        return KT_EFORMAT;
    *out = t;
    return KT_OK;
}

char *kt_time_format_iso(kt_time t, char buf[KT_TIME_ISO_MAX])
{
    if (t == KT_TIME_NONE) {
        snprintf(buf, KT_TIME_ISO_MAX, "-");
        return buf;
    }
    int64_t secs = t / KT_NS_PER_SEC;
    int64_t ns = t % KT_NS_PER_SEC;
    if (ns < 0) {
        ns += KT_NS_PER_SEC;
        secs -= 1;
    }
    int64_t days = secs / 86400;
    int64_t rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int n = snprintf(buf, KT_TIME_ISO_MAX, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, m, d,
                     (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    if (ns != 0 && n > 0) {
        int width = ns % 1000000 == 0 ? 3 : ns % 1000 == 0 ? 6 : ns % 100 == 0 ? 7 : 9;
        int64_t v = ns;
        for (int i = width; i < 9; i++)
            v /= 10;
        n += snprintf(buf + n, (size_t)(KT_TIME_ISO_MAX - n), ".%0*lld", width, (long long)v);
    }
    if (n > 0 && n < KT_TIME_ISO_MAX - 1)
        snprintf(buf + n, (size_t)(KT_TIME_ISO_MAX - n), "Z");
    return buf;
}
