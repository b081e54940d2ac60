/* Time patterns: the wall-clock times definitions read from text. */
#include <stdbool.h>
#include <string.h>

#include "kavtrace/error.h"
#include "kavtrace/time.h"

const char *kt_precision_name(kt_precision p)
{
    switch (p) {
    case KT_PREC_NS:
        return "ns";
    case KT_PREC_100NS:
        return "100ns";
    case KT_PREC_MS:
        return "ms";
    case KT_PREC_SECOND:
        return "second";
    case KT_PREC_MINUTE:
        return "minute";
    case KT_PREC_DAY:
        return "day";
    }
    return "?";
}

/* ---- time patterns ------------------------------------------------------ */

int kt_time_pattern_compile(kt_time_pattern *tp)
{
    tp->has_offset = false;
    tp->unix_seconds = false;
    bool y = false, m = false, d = false, H = false, I = false, P = false, M = false, S = false,
         f = false;
    for (const char *p = tp->pattern; *p; p++) {
        if (*p != '%')
            continue;
        if (*++p == '-') {
            p++;
            if (*p != 'm' && *p != 'd' && *p != 'H' && *p != 'I')
                return KT_EFORMAT;
        }
        switch (*p) {
        case 'Y':
            y = true;
            break;
        case 'm':
            m = true;
            break;
        case 'd':
            d = true;
            break;
        case 'H':
            H = true;
            break;
        case 'I':
            I = true;
            break;
        case 'p':
            P = true;
            break;
        case 'M':
            M = true;
            break;
        case 'S':
            S = true;
            break;
        case 'f':
            f = true;
            break;
        case 'z':
            tp->has_offset = true;
            break;
        case 's':
            tp->unix_seconds = true;
            break;
        case '%':
            break;
        default:
            return KT_EFORMAT;
        }
    }
    /* Unix seconds name the instant alone */
    if (tp->unix_seconds) {
        if (y || m || d || H || I || P || M || S || f || tp->has_offset)
            return KT_EFORMAT;
        tp->time_only = tp->no_year = false;
        tp->precision = KT_PREC_SECOND;
        return 0;
    }
    if (I != P || (I && H))
        return KT_EFORMAT;
    tp->time_only = !y && !m && !d;
    tp->no_year = !y && m && d;
    if (tp->time_only ? !(H || I) : !(m && d))
        return KT_EFORMAT;
    tp->precision = f          ? KT_PREC_MS
                    : S        ? KT_PREC_SECOND
                    : M        ? KT_PREC_MINUTE
                    : (H || I) ? KT_PREC_MINUTE
                               : KT_PREC_DAY;
    return 0;
}

/* Exactly n digits, or (flexible) one to n. */
static int digits(const char **s, int n, bool flexible, int *out)
{
    int v = 0, i = 0;
    for (; i < n && (*s)[i] >= '0' && (*s)[i] <= '9'; i++)
        v = v * 10 + ((*s)[i] - '0');
    if (i == 0 || (i < n && !flexible))
        return -1;
    *s += i;
    *out = v;
    return 0;
}

int kt_time_pattern_parse(const kt_time_pattern *tp, const char *text, kt_time *out)
{
    int Y = 0, m = 0, d = 0, H = 0, M = 0, S = 0, ms = 0, pm = -1, offset = 0;
    int64_t unix_secs = -1;
    bool twelve = false;
    const char *s = text;
    for (const char *p = tp->pattern; *p; p++) {
        if (*p == ' ') {
            if (*s != ' ')
                return KT_EFORMAT;
            while (*s == ' ')
                s++;
            continue;
        }
        if (*p != '%' || p[1] == '%') {
            if (*p == '%')
                p++;
            if (*s++ != *p)
                return KT_EFORMAT;
            continue;
        }
        bool flex = false;
        if (*++p == '-') {
            flex = true;
            p++;
        }
        int rc = 0;
        switch (*p) {
        case 'Y':
            rc = digits(&s, 4, false, &Y);
            break;
        case 'm':
            rc = digits(&s, 2, flex, &m);
            break;
        case 'd':
            rc = digits(&s, 2, flex, &d);
            break;
        case 'H':
            rc = digits(&s, 2, flex, &H);
            break;
        case 'I':
            rc = digits(&s, 2, flex, &H);
            twelve = true;
            rc = rc || H < 1 || H > 12;
            break;
        case 'p':
            /* AM, PM (any case), and the dotted forms other locales
             * write: a.m., p.m., "a. m.", "p. m." */
            if ((s[0] == 'A' || s[0] == 'P' || s[0] == 'a' || s[0] == 'p') &&
                (s[1] == 'M' || s[1] == 'm')) {
                pm = s[0] == 'P' || s[0] == 'p';
                s += 2;
            } else if ((s[0] == 'a' || s[0] == 'p') && s[1] == '.' &&
                       (s[2] == 'm' || (s[2] == ' ' && s[3] == 'm'))) {
                pm = s[0] == 'p';
                s += s[2] == 'm' ? 3 : 4;
                if (*s == '.')
                    s++;
            } else {
                rc = -1;
            }
            break;
        case 'M':
            rc = digits(&s, 2, false, &M);
            break;
        case 'S':
            rc = digits(&s, 2, false, &S);
            break;
        case 'f':
            rc = digits(&s, 3, false, &ms);
            break;
        case 's': {
            /* 1 to 11 digits: up to the year 5138 */
            int64_t v = 0;
            int n = 0;
            for (; n < 11 && s[n] >= '0' && s[n] <= '9'; n++)
                v = v * 10 + (s[n] - '0');
            rc = n == 0 || (s[n] >= '0' && s[n] <= '9');
            s += n;
            unix_secs = v;
            break;
        }
        case 'z': {
            int sign = *s == '+' ? 1 : *s == '-' ? -1 : 0, oh = 0, om = 0;
            if (sign == 0) {
                rc = -1;
                break;
            }
            s++;
            rc = digits(&s, 2, false, &oh);
            if (rc == 0 && *s == ':')
                s++;
            if (rc == 0 && *s >= '0' && *s <= '9')
                rc = digits(&s, 2, false, &om);
            if (rc == 0 && (oh > 23 || om > 59))
                rc = -1;
            offset = sign * (oh * 3600 + om * 60);
            break;
        }
        default:
            return KT_EFORMAT;
        }
        if (rc)
            return KT_EFORMAT;
    }
    if (tp->unix_seconds) {
        if (unix_secs < 0)
            return KT_EFORMAT;
        *out = kt_time_from_unix(unix_secs, 0);
        return KT_OK;
    }
    if (twelve)
        H = H % 12 + (pm == 1 ? 12 : 0);
    if (H > 23 || M > 59 || S > 60)
        return KT_EFORMAT;
    int64_t secs = H * 3600 + M * 60 + S;
    if (tp->time_only) {
        *out = kt_time_from_unix(secs, (int64_t)ms * 1000000);
        return KT_OK;
    }
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (tp->no_year)
        Y = 2000; /* a leap year: 29 February stays valid */
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || Y < 1700)
        return KT_EFORMAT;
    bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (m == 2 && d == 29 && !leap)
        return KT_EFORMAT;
    int64_t days = kt_days_from_civil(Y, (unsigned)m, (unsigned)d);
    *out = kt_time_from_unix(days * 86400 + secs - offset, (int64_t)ms * 1000000);
    return KT_OK;
}
