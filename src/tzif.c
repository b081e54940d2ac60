#include <stdlib.h>
#include <string.h>

#include "kavtrace/bytes.h"
#include "kavtrace/tzif.h"

/* RFC 8536 3.1: the 44-byte header. */
#define HEADER_SIZE 44
/* RFC 8536 3.2: utoff "SHOULD range from -89999 to 93599" (-25:00 < utoff < 26:00). */
#define MIN_UTOFF (-89999)
#define MAX_UTOFF 93599
/* Leap-second corrections are tens of seconds; anything larger is corrupt. */
#define MAX_LEAP_CORR 100000
/* A footer name (<+0330> or CST) is 3 or more characters (POSIX). */
#define ABBR_MAX 32
/* Every candidate UTC instant of a local time lies within a day and two
 * hours of it: the window of transitions local_to_utc looks at. */
#define WINDOW (2 * 86400)
#define SECS_PER_DAY 86400

typedef struct header {
    int version; /* 1..4 */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} header;

typedef struct ttinfo {
    int32_t utoff;
    bool isdst;
    uint16_t abbr; /* index into chars */
} ttinfo;

/* A POSIX TZ rule date and time: Jn (1..365, Feb 29 never counted), n
 * (0..365, counted) or Mm.w.d, at a local time of day. */
typedef struct tz_date {
    char kind; /* 'J', 'N' or 'M' */
    int day, week, month;
    int32_t secs; /* -167h..167h (RFC 8536 3.3.1) */
} tz_date;

typedef struct posix_tz {
    bool present, has_dst;
    char std_name[ABBR_MAX + 1], dst_name[ABBR_MAX + 1];
    int32_t std_off, dst_off; /* seconds east */
    tz_date start, end;       /* start in standard time, end in daylight time */
} posix_tz;

struct kt_tzif {
    int version;
    uint32_t timecnt, typecnt, leapcnt;
    int64_t times[KT_TZIF_MAX_TIMES]; /* POSIX seconds, ascending */
    uint8_t idx[KT_TZIF_MAX_TIMES];
    ttinfo types[KT_TZIF_MAX_TYPES];
    char chars[KT_TZIF_MAX_CHARS];
    char footer[KT_TZIF_MAX_FOOTER + 1];
    posix_tz tz;
};

/* The local time in force, as the lookups return it. */
typedef struct zstate {
    int32_t utoff;
    bool isdst;
    const char *abbr;
} zstate;

/* A transition or leap time: 4 bytes (v1 block) or 8, signed. */
static bool rd_time(const uint8_t *b, size_t len, size_t off, size_t width, int64_t *v)
{
    if (width == 4) {
        uint32_t u;
        if (!kt_rd_be32(b, len, off, &u))
            return false;
        *v = (int32_t)u;
        return true;
    }
    uint64_t u;
    if (!kt_rd_be64(b, len, off, &u))
        return false;
    *v = (int64_t)u;
    return true;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int truncated(kt_error *err, const char *what)
{
    return kt_error_set(err, KT_EFORMAT, "truncated in the %s", what);
}

/* RFC 8536 3.1: magic, version and the six counts, each within its limit. */
static int read_header(const uint8_t *b, size_t len, size_t off, const char *which, header *h,
                       kt_error *err)
{
    if (off > len || len - off < HEADER_SIZE)
        return kt_error_set(err, KT_EFORMAT, "truncated in the %s header", which);
    if (memcmp(b + off, "TZif", 4) != 0)
        return kt_error_set(err, KT_EFORMAT, "%s header: no 'TZif' magic", which);
    uint8_t v = b[off + 4];
    if (v == 0)
        h->version = 1;
    else if (v >= '2' && v <= '4')
        h->version = v - '0';
    else if (v >= 0x20 && v < 0x7f)
        return kt_error_set(err, KT_EUNSUPPORTED, "%s header: version '%c'", which, v);
    else
        return kt_error_set(err, KT_EUNSUPPORTED, "%s header: version byte 0x%02x", which, v);
    /* 0x14: six big-endian counts, after 15 reserved bytes. */
    uint32_t c[6];
    for (size_t i = 0; i < 6; i++)
        if (!kt_rd_be32(b, len, off + 20 + 4 * i, &c[i]))
            return kt_error_set(err, KT_EFORMAT, "truncated in the %s header", which);
    *h = (header){.version = h->version,
                  .isutcnt = c[0],
                  .isstdcnt = c[1],
                  .leapcnt = c[2],
                  .timecnt = c[3],
                  .typecnt = c[4],
                  .charcnt = c[5]};
    const struct {
        const char *what;
        uint32_t n, max;
    } limits[] = {
        {"transitions", h->timecnt, KT_TZIF_MAX_TIMES},
        {"local time types", h->typecnt, KT_TZIF_MAX_TYPES},
        {"abbreviation bytes", h->charcnt, KT_TZIF_MAX_CHARS},
        {"leap-second records", h->leapcnt, KT_TZIF_MAX_LEAPS},
        {"UT/local indicators", h->isutcnt, KT_TZIF_MAX_TYPES},
        {"standard/wall indicators", h->isstdcnt, KT_TZIF_MAX_TYPES},
    };
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
        if (limits[i].n > limits[i].max)
            return kt_error_set(err, KT_ELIMIT, "%s header: %u %s, over the limit of %u", which,
                                limits[i].n, limits[i].what, limits[i].max);
    return KT_OK;
}

/* RFC 8536 3.1's rules on the counts of the block that is read (the v1
 * block of a v2+ file is only skipped: some writers leave it empty). */
static int check_counts(const header *h, const char *which, kt_error *err)
{
    if (h->typecnt == 0)
        return kt_error_set(err, KT_EFORMAT, "%s header: no local time types", which);
    if (h->charcnt == 0)
        return kt_error_set(err, KT_EFORMAT, "%s header: no abbreviation bytes", which);
    if (h->isutcnt != 0 && h->isutcnt != h->typecnt)
        return kt_error_set(err, KT_EFORMAT, "%s header: %u UT/local indicators for %u types",
                            which, h->isutcnt, h->typecnt);
    if (h->isstdcnt != 0 && h->isstdcnt != h->typecnt)
        return kt_error_set(err, KT_EFORMAT, "%s header: %u standard/wall indicators for %u types",
                            which, h->isstdcnt, h->typecnt);
    return KT_OK;
}

/* Bytes of the data block after a header; the counts are within limits,
 * so this cannot overflow. */
static size_t block_size(const header *h, size_t width)
{
    return (size_t)h->timecnt * (width + 1) + (size_t)h->typecnt * 6 + h->charcnt +
           (size_t)h->leapcnt * (width + 4) + h->isstdcnt + h->isutcnt;
}

static int64_t sub_sat(int64_t a, int32_t b)
{
    if (b > 0 && a < INT64_MIN + b)
        return INT64_MIN;
    if (b < 0 && a > INT64_MAX + b)
        return INT64_MAX;
    return a - b;
}

/* RFC 8536 3.2: the data block of h at *off, with times `width` bytes. */
static int read_block(kt_tzif *z, const uint8_t *b, size_t len, size_t *off, const header *h,
                      size_t width, kt_error *err)
{
    size_t p = *off;
    if (p > len || len - p < block_size(h, width))
        return truncated(err, "data block");
    z->timecnt = h->timecnt;
    z->typecnt = h->typecnt;
    z->leapcnt = h->leapcnt;
    for (uint32_t i = 0; i < h->timecnt; i++, p += width) {
        if (!rd_time(b, len, p, width, &z->times[i]))
            return truncated(err, "transition times");
        if (i > 0 && z->times[i] <= z->times[i - 1])
            return kt_error_set(err, KT_EFORMAT, "transition %u: times not in ascending order", i);
    }
    for (uint32_t i = 0; i < h->timecnt; i++, p++) {
        if (!kt_rd_u8(b, len, p, &z->idx[i]))
            return truncated(err, "transition types");
        if (z->idx[i] >= h->typecnt)
            return kt_error_set(err, KT_EFORMAT, "transition %u: type %u of %u", i, z->idx[i],
                                h->typecnt);
    }
    for (uint32_t i = 0; i < h->typecnt; i++, p += 6) {
        uint32_t utoff;
        uint8_t isdst, abbr;
        if (!kt_rd_be32(b, len, p, &utoff) || !kt_rd_u8(b, len, p + 4, &isdst) ||
            !kt_rd_u8(b, len, p + 5, &abbr))
            return truncated(err, "local time types");
        int32_t off_s = (int32_t)utoff;
        if (off_s < MIN_UTOFF || off_s > MAX_UTOFF)
            return kt_error_set(err, KT_EFORMAT, "type %u: UTC offset %d out of range", i, off_s);
        if (isdst > 1)
            return kt_error_set(err, KT_EFORMAT, "type %u: isdst %u is not 0 or 1", i, isdst);
        if (abbr >= h->charcnt)
            return kt_error_set(err, KT_EFORMAT, "type %u: abbreviation index %u of %u", i, abbr,
                                h->charcnt);
        z->types[i] = (ttinfo){.utoff = off_s, .isdst = isdst == 1, .abbr = abbr};
    }
    if (h->charcnt > len - p)
        return truncated(err, "abbreviations");
    memcpy(z->chars, b + p, h->charcnt);
    /* Each abbreviation runs to a NUL inside the array, so the last byte is one. */
    if (z->chars[h->charcnt - 1] != '\0')
        return kt_error_set(err, KT_EFORMAT, "abbreviations not NUL-terminated");
    p += h->charcnt;
    /* Leap-second records: occurrence (in the file's leap-counting time
     * scale) and the total correction from then on. Transitions are moved
     * back to POSIX time by the correction in force at each. */
    int64_t prev_occ = 0;
    int32_t corr = 0;
    uint32_t t = 0;
    for (uint32_t i = 0; i < h->leapcnt; i++, p += width + 4) {
        int64_t occ;
        uint32_t c;
        if (!rd_time(b, len, p, width, &occ) || !kt_rd_be32(b, len, p + width, &c))
            return truncated(err, "leap-second records");
        if (i > 0 && occ <= prev_occ)
            return kt_error_set(err, KT_EFORMAT, "leap second %u: not in ascending order", i);
        if ((int32_t)c < -MAX_LEAP_CORR || (int32_t)c > MAX_LEAP_CORR)
            return kt_error_set(err, KT_EFORMAT, "leap second %u: correction %d out of range", i,
                                (int32_t)c);
        for (; t < h->timecnt && z->times[t] < occ; t++)
            z->times[t] = sub_sat(z->times[t], corr);
        prev_occ = occ;
        corr = (int32_t)c;
    }
    for (; t < h->timecnt; t++)
        z->times[t] = sub_sat(z->times[t], corr);
    for (uint32_t i = 1; h->leapcnt > 0 && i < h->timecnt; i++)
        if (z->times[i] < z->times[i - 1])
            return kt_error_set(err, KT_EFORMAT, "transition %u: out of order after leap seconds",
                                i);
    for (uint32_t i = 0; i < h->isstdcnt + h->isutcnt; i++, p++) {
        uint8_t v;
        if (!kt_rd_u8(b, len, p, &v))
            return truncated(err, "indicators");
        if (v > 1)
            return kt_error_set(err, KT_EFORMAT, "indicator %u is %u, not 0 or 1", i, v);
    }
    *off = p;
    return KT_OK;
}

/* ---- The footer: a POSIX TZ string with RFC 8536's extensions. ---- */

static bool is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* std or dst: letters, or <...> of letters, digits, '+' and '-'. */
static bool parse_name(const char **s, char out[ABBR_MAX + 1])
{
    const char *p = *s;
    size_t n = 0;
    if (*p == '<') {
        p++;
        for (; is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-'; p++)
            if (n < ABBR_MAX)
                out[n++] = *p;
            else
                return false;
        if (*p != '>')
            return false;
        p++;
    } else {
        for (; is_alpha(*p); p++)
            if (n < ABBR_MAX)
                out[n++] = *p;
            else
                return false;
    }
    if (n < 3)
        return false;
    out[n] = '\0';
    *s = p;
    return true;
}

static bool parse_num(const char **s, int max_digits, int max, int *out)
{
    const char *p = *s;
    int v = 0, n = 0;
    for (; is_digit(*p) && n < max_digits; p++, n++)
        v = v * 10 + (*p - '0');
    if (n == 0 || is_digit(*p) || v > max)
        return false;
    *out = v;
    *s = p;
    return true;
}

/* [+-]hh[:mm[:ss]], hours up to max_hours. */
static bool parse_hms(const char **s, int max_hours, int32_t *out)
{
    const char *p = *s;
    int sign = 1, h, m = 0, sec = 0;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (!parse_num(&p, 3, max_hours, &h))
        return false;
    if (*p == ':') {
        p++;
        if (!parse_num(&p, 2, 59, &m))
            return false;
        if (*p == ':') {
            p++;
            if (!parse_num(&p, 2, 59, &sec))
                return false;
        }
    }
    *out = sign * (h * 3600 + m * 60 + sec);
    *s = p;
    return true;
}

/* ,date[/time] */
static bool parse_date(const char **s, tz_date *d)
{
    const char *p = *s;
    memset(d, 0, sizeof *d);
    if (*p++ != ',')
        return false;
    if (*p == 'J') {
        p++;
        d->kind = 'J';
        if (!parse_num(&p, 3, 365, &d->day) || d->day < 1)
            return false;
    } else if (*p == 'M') {
        p++;
        d->kind = 'M';
        if (!parse_num(&p, 2, 12, &d->month) || d->month < 1 || *p++ != '.' ||
            !parse_num(&p, 1, 5, &d->week) || d->week < 1 || *p++ != '.' ||
            !parse_num(&p, 1, 6, &d->day))
            return false;
    } else {
        d->kind = 'N';
        if (!parse_num(&p, 3, 365, &d->day))
            return false;
    }
    d->secs = 2 * 3600;
    if (*p == '/') {
        p++;
        /* RFC 8536 3.3.1: -167..167 hours, beyond POSIX's 0..24. */
        if (!parse_hms(&p, 167, &d->secs))
            return false;
    }
    *s = p;
    return true;
}

static int parse_footer(const char *s, posix_tz *tz, kt_error *err)
{
    const char *p = s;
    const char *what = NULL;
    memset(tz, 0, sizeof *tz);
    int32_t west;
    if (!parse_name(&p, tz->std_name))
        what = "bad standard-time name";
    else if (!parse_hms(&p, 24, &west))
        what = "bad standard-time offset";
    if (what)
        goto out;
    tz->std_off = -west;
    tz->present = true;
    if (*p == '\0')
        return KT_OK;
    tz->has_dst = true;
    if (!parse_name(&p, tz->dst_name)) {
        what = "bad daylight-time name";
        goto out;
    }
    tz->dst_off = tz->std_off + 3600;
    if (*p != ',' && *p != '\0') {
        if (!parse_hms(&p, 24, &west)) {
            what = "bad daylight-time offset";
            goto out;
        }
        tz->dst_off = -west;
    }
    if (*p == '\0') {
        /* No rule: tzcode's default, the US rules since 2007. */
        const char *us = ",M3.2.0,M11.1.0";
        parse_date(&us, &tz->start);
        parse_date(&us, &tz->end);
        return KT_OK;
    }
    if (!parse_date(&p, &tz->start) || !parse_date(&p, &tz->end))
        what = "bad rule";
    else if (*p != '\0')
        what = "trailing characters";
out:
    if (what == NULL)
        return KT_OK;
    memset(tz, 0, sizeof *tz);
    return kt_error_set(err, KT_EFORMAT, "footer '%s': %s at offset %td", s, what, p - s);
}

/* RFC 8536 3.3: "\n" TZ string "\n" after the v2+ data block. */
static int read_footer(kt_tzif *z, const uint8_t *b, size_t len, size_t off, kt_error *err)
{
    if (off >= len)
        return truncated(err, "footer");
    if (b[off] != '\n')
        return kt_error_set(err, KT_EFORMAT, "footer does not start with a newline");
    size_t n = 0;
    for (off++;; off++, n++) {
        if (off >= len)
            return truncated(err, "footer");
        if (b[off] == '\n')
            break;
        if (n == KT_TZIF_MAX_FOOTER)
            return kt_error_set(err, KT_ELIMIT, "footer over %d bytes", KT_TZIF_MAX_FOOTER);
        if (b[off] < 0x20 || b[off] > 0x7e)
            return kt_error_set(err, KT_EFORMAT, "footer byte 0x%02x at %zu", b[off], n);
        z->footer[n] = (char)b[off];
    }
    z->footer[n] = '\0';
    return n == 0 ? KT_OK : parse_footer(z->footer, &z->tz, err);
}

int kt_tzif_parse(const uint8_t *data, size_t len, kt_tzif **out, kt_error *err)
{
    if (data == NULL && len > 0)
        return kt_error_set(err, KT_EARG, "tzif: no data");
    if (len > KT_TZIF_MAX_SIZE)
        return kt_error_set(err, KT_ELIMIT, "tzif: %zu bytes, over the limit of %u", len,
                            KT_TZIF_MAX_SIZE);
    header h1, h2;
    int rc = read_header(data, len, 0, "first", &h1, err);
    if (rc == KT_OK && h1.version == 1)
        rc = check_counts(&h1, "first", err);
    else if (rc == KT_OK && len - HEADER_SIZE < block_size(&h1, 4))
        rc = truncated(err, "version 1 data block");
    else if (rc == KT_OK)
        rc = read_header(data, len, HEADER_SIZE + block_size(&h1, 4), "second", &h2, err);
    if (rc == KT_OK && h1.version > 1)
        rc = check_counts(&h2, "second", err);
    if (rc != KT_OK) {
        kt_error_prefix(err, "tzif");
        return rc;
    }
    kt_tzif *z = calloc(1, sizeof *z);
    if (z == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    z->version = h1.version;
    size_t off = HEADER_SIZE;
    if (h1.version == 1) {
        rc = read_block(z, data, len, &off, &h1, 4, err);
    } else {
        off += block_size(&h1, 4) + HEADER_SIZE;
        rc = read_block(z, data, len, &off, &h2, 8, err);
        if (rc == KT_OK)
            rc = read_footer(z, data, len, off, err);
    }
    if (rc != KT_OK) {
        kt_error_prefix(err, "tzif v%d", h1.version);
        goto out;
    }
    *out = z;
    z = NULL;
out:
    kt_tzif_free(z);
    return rc;
}

void kt_tzif_free(kt_tzif *z)
{
    free(z);
}

void kt_tzif_get_info(const kt_tzif *z, kt_tzif_info *out)
{
    memset(out, 0, sizeof *out);
    out->version = z->version;
    out->transitions = z->timecnt;
    out->types = z->typecnt;
    out->leaps = z->leapcnt;
    out->first = z->timecnt ? kt_time_from_unix(z->times[0], 0) : KT_TIME_NONE;
    out->last = z->timecnt ? kt_time_from_unix(z->times[z->timecnt - 1], 0) : KT_TIME_NONE;
}

const char *kt_tzif_footer(const kt_tzif *z)
{
    return z->footer;
}

/* ---- Evaluating the footer rule. ---- */

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The year (proleptic Gregorian) of the day `days` since 1970-01-01. */
static int64_t year_of_day(int64_t days)
{
    int64_t y = 1970 + floor_div(days * 400, 146097);
    while (kt_days_from_civil(y + 1, 1, 1) <= days)
        y++;
    while (kt_days_from_civil(y, 1, 1) > days)
        y--;
    return y;
}

/* The local day (days since 1970) a rule date falls on in year y. */
static int64_t rule_day(const tz_date *d, int64_t y)
{
    int64_t jan1 = kt_days_from_civil(y, 1, 1);
    if (d->kind == 'J')
        return jan1 + d->day - 1 + (is_leap(y) && d->day >= 60);
    if (d->kind == 'N')
        return jan1 + d->day;
    int64_t first = kt_days_from_civil(y, (unsigned)d->month, 1);
    int64_t next = d->month == 12 ? kt_days_from_civil(y + 1, 1, 1)
                                  : kt_days_from_civil(y, (unsigned)d->month + 1, 1);
    /* 1970-01-01 was a Thursday (4). */
    int first_dow = (int)((first % 7 + 7 + 4) % 7);
    int64_t day = (d->day - first_dow + 7) % 7 + (int64_t)(d->week - 1) * 7;
    while (day >= next - first)
        day -= 7;
    return first + day;
}

typedef struct rule_event {
    int64_t at; /* UTC seconds */
    int64_t year;
    bool to_dst;
} rule_event;

/* The footer's transitions of the years y0..y0+3, in order of time. */
static void rule_events(const posix_tz *tz, int64_t y0, rule_event ev[8])
{
    for (int i = 0; i < 4; i++) {
        int64_t y = y0 + i;
        ev[2 * i] = (rule_event){
            rule_day(&tz->start, y) * SECS_PER_DAY + tz->start.secs - tz->std_off, y, true};
        ev[2 * i + 1] = (rule_event){
            rule_day(&tz->end, y) * SECS_PER_DAY + tz->end.secs - tz->dst_off, y, false};
    }
    /* Insertion sort by (time, year): DST all year ("0/0,J365/25") ends a
     * year at the instant the next starts, and the start must win. */
    for (int i = 1; i < 8; i++)
        for (int j = i; j > 0 && (ev[j].at < ev[j - 1].at ||
                                  (ev[j].at == ev[j - 1].at && ev[j].year < ev[j - 1].year));
             j--) {
            rule_event t = ev[j];
            ev[j] = ev[j - 1];
            ev[j - 1] = t;
        }
}

static void rule_state(const posix_tz *tz, bool dst, zstate *st)
{
    st->utoff = dst ? tz->dst_off : tz->std_off;
    st->isdst = dst;
    st->abbr = dst ? tz->dst_name : tz->std_name;
}

static void footer_state_at(const posix_tz *tz, int64_t u, zstate *st)
{
    bool dst = false;
    if (tz->has_dst) {
        /* Rule times reach a week past their day: the events of the year
         * before and after u's year bracket it. */
        rule_event ev[8];
        rule_events(tz, year_of_day(floor_div(u, SECS_PER_DAY)) - 1, ev);
        for (int i = 0; i < 8 && ev[i].at <= u; i++)
            dst = ev[i].to_dst;
    }
    rule_state(tz, dst, st);
}

/* ---- Lookups. ---- */

/* The index of the last transition at or before u, or -1. */
static long last_at_or_before(const kt_tzif *z, int64_t u)
{
    long lo = 0, hi = (long)z->timecnt; /* answer in [lo - 1, hi) */
    while (lo < hi) {
        long mid = lo + (hi - lo) / 2;
        if (z->times[mid] <= u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - 1;
}

static void type_state(const kt_tzif *z, unsigned type, zstate *st)
{
    st->utoff = z->types[type].utoff;
    st->isdst = z->types[type].isdst;
    st->abbr = &z->chars[z->types[type].abbr];
}

/* The footer rules the times after the last transition (RFC 8536 3.3),
 * and all times when there is no transition. */
static bool footer_rules(const kt_tzif *z, int64_t u)
{
    return z->tz.present && (z->timecnt == 0 || u > z->times[z->timecnt - 1]);
}

static void state_at(const kt_tzif *z, int64_t u, zstate *st)
{
    if (footer_rules(z, u)) {
        footer_state_at(&z->tz, u, st);
        return;
    }
    long i = last_at_or_before(z, u);
    type_state(z, i < 0 ? 0 : z->idx[i], st);
}

/* The first instant after u at which the local time may change;
 * INT64_MAX when it never does. */
static int64_t next_change(const kt_tzif *z, int64_t u)
{
    if (z->timecnt > 0 && u < z->times[z->timecnt - 1])
        return z->times[last_at_or_before(z, u) + 1];
    if (!z->tz.present)
        return INT64_MAX;
    if (z->timecnt > 0 && u == z->times[z->timecnt - 1])
        return u + 1; /* the footer takes over */
    if (!z->tz.has_dst)
        return INT64_MAX;
    rule_event ev[8];
    rule_events(&z->tz, year_of_day(floor_div(u, SECS_PER_DAY)) - 1, ev);
    for (int i = 0; i < 8; i++)
        if (ev[i].at > u)
            return ev[i].at;
    return INT64_MAX; /* not reached: the last events are a year past u */
}

int kt_tzif_next_change(const kt_tzif *z, kt_time t, kt_time *next)
{
    if (t == KT_TIME_NONE)
        return KT_EARG;
    int64_t n = next_change(z, floor_div(t, KT_NS_PER_SEC));
    kt_time r = n == INT64_MAX ? KT_TIME_NONE : kt_time_from_unix(n, 0);
    if (r == KT_TIME_NONE)
        return KT_ENOTFOUND;
    *next = r;
    return KT_OK;
}

int kt_tzif_offset_at(const kt_tzif *z, kt_time t, int32_t *utoff, bool *isdst, const char **abbr)
{
    if (t == KT_TIME_NONE)
        return KT_EARG;
    zstate st;
    state_at(z, floor_div(t, KT_NS_PER_SEC), &st);
    if (utoff)
        *utoff = st.utoff;
    if (isdst)
        *isdst = st.isdst;
    if (abbr)
        *abbr = st.abbr;
    return KT_OK;
}

int kt_tzif_local_to_utc(const kt_tzif *z, kt_time local, kt_time *utc, int *flags)
{
    if (local == KT_TIME_NONE)
        return KT_EARG;
    /* Whole seconds and nanoseconds, without overflowing near INT64_MIN. */
    int64_t ls = local / KT_NS_PER_SEC, frac = local % KT_NS_PER_SEC;
    if (frac < 0) {
        ls--;
        frac += KT_NS_PER_SEC;
    }
    /* Walk the spans of constant offset around ls. A span [a, b) with
     * offset o shows local times [a + o, b + o): ls is in at most one
     * span per distinct offset. When no span shows it, it fell into the
     * gap before the first span that starts past it. */
    int64_t lo = ls - WINDOW, hi = ls + WINDOW;
    int found = 0;
    int64_t first = 0, gap_u = 0;
    bool gap_seen = false;
    int32_t prev_off = 0;
    for (int64_t a = lo;;) {
        int64_t b = next_change(z, a);
        zstate st;
        state_at(z, a, &st);
        int64_t u = ls - st.utoff;
        if (u >= a && u < b && found++ == 0)
            first = u;
        if (!gap_seen && a + st.utoff > ls) {
            gap_seen = true;
            gap_u = ls - (a == lo ? st.utoff : prev_off);
        }
        prev_off = st.utoff;
        if (b > hi)
            break;
        a = b;
    }
    if (!found && !gap_seen)
        gap_u = ls - prev_off; /* not reached: offsets are under a day */
    int64_t u = found ? first : gap_u;
    kt_time r = kt_time_from_unix(u, frac);
    if (r == KT_TIME_NONE)
        return KT_EARG;
    *utc = r;
    if (flags)
        *flags = found > 1 ? KT_TZ_AMBIGUOUS : found == 1 ? KT_TZ_EXACT : KT_TZ_NONEXISTENT;
    return KT_OK;
}

/* ---- The zone's name from the /etc/localtime link. ---- */

static bool name_char(char c)
{
    return is_alpha(c) || is_digit(c) || c == '.' || c == '_' || c == '+' || c == '-';
}

int kt_tzif_zone_name(const char *target, char *buf, size_t size)
{
    if (target == NULL)
        return KT_ENOTFOUND;
    /* The last component "zoneinfo" or "zoneinfo-...". */
    const char *name = NULL;
    for (const char *p = target; *p;) {
        const char *end = strchr(p, '/');
        if (end == NULL)
            break;
        size_t n = (size_t)(end - p);
        if ((n == 8 && memcmp(p, "zoneinfo", 8) == 0) || (n > 9 && memcmp(p, "zoneinfo-", 9) == 0))
            name = end + 1;
        p = end + 1;
    }
    if (name == NULL)
        return KT_ENOTFOUND;
    if (strncmp(name, "posix/", 6) == 0 || strncmp(name, "right/", 6) == 0)
        name += 6;
    /* Components of [A-Za-z0-9._+-], none empty, "." or "..". */
    for (const char *c = name;;) {
        const char *end = strchr(c, '/');
        if (end == NULL)
            end = c + strlen(c);
        size_t n = (size_t)(end - c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return KT_ENOTFOUND;
        for (size_t i = 0; i < n; i++)
            if (!name_char(c[i]))
                return KT_ENOTFOUND;
        if (*end == '\0')
            break;
        c = end + 1;
    }
    size_t len = strlen(name);
    if (len >= size)
        return KT_ELIMIT;
    memcpy(buf, name, len + 1);
    return KT_OK;
}
