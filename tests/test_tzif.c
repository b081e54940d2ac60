#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kavtrace/tzif.h"
#include "testutil.h"

/* The TZif files are built by testdata/tz/build-tzif.sh (zic) into a
 * temporary directory once per run; the expected offsets come from zdump
 * (glibc's reader of the same files), from the zone sources, or by hand. */
static char tzdir[] = "/tmp/kt-tzif-XXXXXX";
static bool tzdir_made;

#define SAMPLES 3000
#define Y1970 INT64_C(0)
#define Y2061 INT64_C(2871763200) /* 2061-01-01T00:00:00Z */

static void build_zones(void)
{
    if (tzdir_made)
        return;
    ck_assert(mkdtemp(tzdir) != NULL);
    tzdir_made = true;
    char *cmd = NULL;
    ck_assert(asprintf(&cmd, "'%s/tz/build-tzif.sh' '%s'", testdata_dir(), tzdir) > 0);
    kt_buf out = {0}, errout = {0};
    int rc = run_capture(cmd, &out, &errout);
    ck_assert_msg(rc == 0, "build-tzif.sh failed: %s", errout.data ? (char *)errout.data : "");
    kt_buf_release(&out);
    kt_buf_release(&errout);
    free(cmd);
}

static void remove_zones(void)
{
    if (!tzdir_made)
        return;
    char *cmd = NULL;
    ck_assert(asprintf(&cmd, "rm -rf '%s'", tzdir) > 0);
    kt_buf out = {0};
    run_capture(cmd, &out, NULL);
    kt_buf_release(&out);
    free(cmd);
}

/* A zone file built by the fixture ("fat/Kt/Chicago"), or a host file when
 * rel starts with '/'. The caller frees the path. */
static char *zone_path(const char *rel)
{
    return rel[0] == '/' ? strdup(rel) : path_join(tzdir, rel);
}

static void zone_load(const char *rel, kt_buf *b)
{
    char *p = zone_path(rel);
    file_load(p, b);
    free(p);
}

static kt_tzif *zone_open(const char *rel)
{
    kt_buf b = {0};
    zone_load(rel, &b);
    kt_tzif *z = NULL;
    kt_error err = {0};
    int rc = kt_tzif_parse(b.data, b.len, &z, &err);
    ck_assert_msg(rc == 0, "%s: %s", rel, err.msg);
    kt_buf_release(&b);
    return z;
}

static int32_t offset_at(const kt_tzif *z, const char *iso, bool *isdst, const char **abbr)
{
    int32_t off = 0;
    ck_assert_int_eq(kt_tzif_offset_at(z, truth_time(iso), &off, isdst, abbr), 0);
    return off;
}

/* Local time `local` (written as UTC) must give `utc` with `flags`. */
static void check_local(const kt_tzif *z, const char *local, const char *utc, int flags)
{
    kt_time u = 0;
    int f = -1;
    ck_assert_int_eq(kt_tzif_local_to_utc(z, truth_time(local), &u, &f), 0);
    char got[KT_TIME_ISO_MAX];
    ck_assert_msg(u == truth_time(utc) && f == flags, "local %s: got %s flags %d, want %s flags %d",
                  local, kt_time_format_iso(u, got), f, utc, flags);
}

/* ---- zdump -v as the oracle: the instants around each transition. ---- */

typedef struct zline {
    int64_t ut;
    int32_t off;
    bool isdst;
    char abbr[16];
} zline;

typedef struct zdump {
    zline *v;
    size_t n;
} zdump;

static int month_index(const char *m)
{
    static const char *names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; i++)
        if (strcmp(m, names[i]) == 0)
            return i + 1;
    ck_abort_msg("zdump: month '%s'", m);
    return 0;
}

/* Lines like "ZONE  Sun Mar 10 08:00:00 2024 UT = Sun Mar 10 03:00:00 2024
 * CDT isdst=1 gmtoff=-18000". tz is a file path or a POSIX TZ string. */
static void zdump_load(const char *tz, zdump *zd)
{
    char *cmd = NULL;
    ck_assert(asprintf(&cmd, "zdump -v -c 1800,2062 '%s'", tz) > 0);
    kt_buf out = {0};
    ck_assert_int_eq(run_capture(cmd, &out, NULL), 0);
    memset(zd, 0, sizeof *zd);
    size_t cap = 0;
    for (char *line = (char *)out.data; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *eq = strstr(line, " UT = ");
        if (eq && eq - line >= 24) {
            char mon[4];
            int d, h, mi, s;
            long long y;
            ck_assert(sscanf(eq - 24, "%*3s %3s %d %d:%d:%d %lld", mon, &d, &h, &mi, &s, &y) == 6);
            char *isdst = strstr(eq, " isdst="), *gmtoff = strstr(eq, " gmtoff=");
            ck_assert(isdst && gmtoff);
            char *abbr = isdst;
            while (abbr > eq && abbr[-1] != ' ')
                abbr--;
            if (zd->n == cap) {
                cap = cap ? cap * 2 : 256;
                zd->v = realloc(zd->v, cap * sizeof *zd->v);
                ck_assert(zd->v != NULL);
            }
            zline *z = &zd->v[zd->n++];
            z->ut = kt_days_from_civil(y, (unsigned)month_index(mon), (unsigned)d) * 86400 +
                    h * 3600 + mi * 60 + s;
            z->isdst = isdst[7] == '1';
            z->off = (int32_t)strtol(gmtoff + 8, NULL, 10);
            size_t alen = (size_t)(isdst - abbr);
            ck_assert(alen < sizeof z->abbr);
            memcpy(z->abbr, abbr, alen);
            z->abbr[alen] = '\0';
        }
        line = nl ? nl + 1 : NULL;
    }
    kt_buf_release(&out);
    free(cmd);
}

/* The line in force at x: the last at or before it, else the first (no
 * transition comes before zdump's first line since 1800). */
static const zline *zdump_at(const zdump *zd, int64_t x)
{
    size_t lo = 0, hi = zd->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (zd->v[mid].ut <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return &zd->v[lo ? lo - 1 : 0];
}

/* Local time l to UTC from zdump's spans alone: span j is [ut_j, ut_j+1)
 * with offset off_j (span 0 from the beginning of time). */
static void zdump_local(const zdump *zd, int64_t l, int64_t *u, int *flags)
{
    int found = 0;
    int64_t first = 0;
    for (size_t j = 0; j < zd->n; j++) {
        int64_t a = j ? zd->v[j].ut : INT64_MIN, b = j + 1 < zd->n ? zd->v[j + 1].ut : INT64_MAX;
        int64_t c = l - zd->v[j].off;
        if (c >= a && c < b && found++ == 0)
            first = c;
    }
    if (found) {
        *u = first;
        *flags = found > 1 ? KT_TZ_AMBIGUOUS : KT_TZ_EXACT;
        return;
    }
    for (size_t j = 1; j < zd->n; j++)
        if (zd->v[j].ut + zd->v[j].off > l) {
            *u = l - zd->v[j - 1].off;
            *flags = KT_TZ_NONEXISTENT;
            return;
        }
    ck_abort_msg("local %lld: no span", (long long)l);
}

static uint64_t lcg = 42;

static int64_t sample(int64_t lo, int64_t hi)
{
    lcg = lcg * 6364136223846793005u + 1442695040888963407u;
    return lo + (int64_t)((lcg >> 11) % (uint64_t)(hi - lo));
}

static void check_instant(const char *name, const kt_tzif *z, const zdump *zd, int64_t x)
{
    const zline *want = zdump_at(zd, x);
    int32_t off = 0;
    bool isdst = false;
    const char *abbr = NULL;
    /* Half a second in: the lookup must floor nanoseconds. */
    ck_assert_int_eq(kt_tzif_offset_at(z, x * KT_NS_PER_SEC + 500000000, &off, &isdst, &abbr), 0);
    ck_assert_msg(off == want->off && isdst == want->isdst && strcmp(abbr, want->abbr) == 0,
                  "%s at %lld: got %d %d %s, zdump says %d %d %s", name, (long long)x, off, isdst,
                  abbr, want->off, want->isdst, want->abbr);
}

static void check_local_instant(const char *name, const kt_tzif *z, const zdump *zd, int64_t l)
{
    int64_t want_u;
    int want_flags;
    zdump_local(zd, l, &want_u, &want_flags);
    kt_time u = 0;
    int flags = -1;
    ck_assert_int_eq(kt_tzif_local_to_utc(z, l * KT_NS_PER_SEC + 250, &u, &flags), 0);
    ck_assert_msg(u == want_u * KT_NS_PER_SEC + 250 && flags == want_flags,
                  "%s local %lld: got %lld flags %d, want %lld flags %d", name, (long long)l,
                  (long long)(u / KT_NS_PER_SEC), flags, (long long)want_u, want_flags);
}

/* Compare a zone with zdump of the same file (or of tz): SAMPLES instants
 * spread over 1970 to `until` (2061 but for "right/" files), both sides of
 * every transition in that span, and as many local times with those
 * around each transition's gap or overlap. Returns how many instants were
 * compared. */
static size_t compare_with_zdump(const char *rel, const char *tz, int64_t until)
{
    char *path = zone_path(rel);
    kt_tzif *z = zone_open(rel);
    zdump zd;
    zdump_load(tz ? tz : path, &zd);
    ck_assert_msg(zd.n >= 2, "%s: zdump shows no transitions", rel);
    size_t count = 0;
    for (int i = 0; i < SAMPLES; i++, count += 2) {
        check_instant(rel, z, &zd, sample(Y1970, until));
        check_local_instant(rel, z, &zd, sample(Y1970 + 86400, until - 86400));
    }
    for (size_t j = 0; j < zd.n; j++) {
        const zline *l = &zd.v[j];
        if (l->ut < Y1970 || l->ut >= until)
            continue;
        check_instant(rel, z, &zd, l->ut);
        count++;
        if (j == 0 || l->ut != zd.v[j - 1].ut + 1 || l->off == zd.v[j - 1].off)
            continue;
        /* A transition at l->ut from the previous line's offset. */
        int32_t before = zd.v[j - 1].off, after = l->off;
        int64_t edges[] = {l->ut + before - 1, l->ut + before, l->ut + after - 1, l->ut + after,
                           l->ut + (before + after) / 2};
        for (size_t k = 0; k < sizeof edges / sizeof edges[0]; k++, count++)
            check_local_instant(rel, z, &zd, edges[k]);
    }
    free(zd.v);
    kt_tzif_free(z);
    free(path);
    return count;
}

/* ---- Hand-built files. ---- */

typedef struct tzspec {
    char version; /* 0, '2', '3' */
    int ntimes;
    const int64_t *times;
    const uint8_t *idx;
    int ntypes;
    const int32_t *utoff;
    const uint8_t *isdst, *abbr;
    const char *chars;
    int nchars;
    int nleaps;
    const int64_t *leap_at;
    const int32_t *leap_corr;
    const char *footer; /* v2+: written between newlines */
} tzspec;

static void put32(kt_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    ck_assert(kt_buf_append(b, x, 4) == 0);
}

static void put_time(kt_buf *b, int64_t v, int width)
{
    if (width == 8)
        put32(b, (uint32_t)((uint64_t)v >> 32));
    put32(b, (uint32_t)v);
}

static void put_block(kt_buf *b, const tzspec *s, int width)
{
    uint8_t hdr[20] = {'T', 'Z', 'i', 'f', (uint8_t)s->version};
    ck_assert(kt_buf_append(b, hdr, sizeof hdr) == 0);
    uint32_t counts[6] = {
        0, 0, (uint32_t)s->nleaps, (uint32_t)s->ntimes, (uint32_t)s->ntypes, (uint32_t)s->nchars};
    for (int i = 0; i < 6; i++)
        put32(b, counts[i]);
    for (int i = 0; i < s->ntimes; i++)
        put_time(b, s->times[i], width);
    ck_assert(kt_buf_append(b, s->idx, (size_t)s->ntimes) == 0);
    for (int i = 0; i < s->ntypes; i++) {
        put32(b, (uint32_t)s->utoff[i]);
        uint8_t x[2] = {s->isdst[i], s->abbr[i]};
        ck_assert(kt_buf_append(b, x, 2) == 0);
    }
    ck_assert(kt_buf_append(b, s->chars, (size_t)s->nchars) == 0);
    for (int i = 0; i < s->nleaps; i++) {
        put_time(b, s->leap_at[i], width);
        put32(b, (uint32_t)s->leap_corr[i]);
    }
}

static void build(kt_buf *b, const tzspec *s)
{
    b->len = 0;
    put_block(b, s, 4);
    if (s->version == 0)
        return;
    put_block(b, s, 8);
    ck_assert(kt_buf_printf(b, "\n%s\n", s->footer ? s->footer : "") == 0);
}

/* One type (UTC) and no transitions: the footer alone tells the time. */
static const int32_t one_utoff[] = {0};
static const uint8_t one_zero[] = {0};
static tzspec footer_only(const char *footer)
{
    return (tzspec){.version = '2',
                    .ntypes = 1,
                    .utoff = one_utoff,
                    .isdst = one_zero,
                    .abbr = one_zero,
                    .chars = "UTC",
                    .nchars = 4,
                    .footer = footer};
}

static int parse_spec(const tzspec *s, kt_tzif **z, kt_error *err)
{
    kt_buf b = {0};
    build(&b, s);
    int rc = kt_tzif_parse(b.data, b.len, z, err);
    kt_buf_release(&b);
    return rc;
}

/* ---- Tests. ---- */

static const char *own_zones[] = {"Kt/Chicago", "Kt/Sydney",    "Kt/LordHowe", "Kt/Kolkata",
                                  "Kt/Tehran",  "Kt/Jerusalem", "Kt/Nuuk"};
/* Real zones, compiled by the fixture from the pinned tzdata release
 * (testdata/tz/tzdata/), never the host's. */
static const char *tzdata_zones[] = {"tzdata/America/Chicago", "tzdata/Europe/London",
                                     "tzdata/Australia/Lord_Howe", "tzdata/Asia/Kolkata",
                                     "tzdata/America/Sao_Paulo"};

START_TEST(reads_versions_and_footers_zic_writes)
{
    static const struct {
        const char *zone, *footer;
        int version;
    } want[] = {
        {"Kt/Chicago", "CST6CDT,M3.2.0,M11.1.0", 2},
        {"Kt/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3", 2},
        {"Kt/LordHowe", "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", 2},
        {"Kt/Kolkata", "IST-5:30", 2},
        {"Kt/Tehran", "<+0330>-3:30", 2},
        {"Kt/Jerusalem", "IST-2IDT,M3.4.4/26,M10.5.0", 3},
        {"Kt/Nuuk", "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", 3},
    };
    static const char *kinds[] = {"fat", "slim", "right"};
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            char rel[64];
            snprintf(rel, sizeof rel, "%s/%s", kinds[k], want[i].zone);
            kt_tzif *z = zone_open(rel);
            kt_tzif_info info;
            kt_tzif_get_info(z, &info);
            ck_assert_msg(info.version == want[i].version, "%s: version %d", rel, info.version);
            ck_assert_str_eq(kt_tzif_footer(z), want[i].footer);
            ck_assert_int_eq(info.leaps, k == 2 ? 27 : 0);
            kt_tzif_free(z);
        }
}
END_TEST

static void check_chicago(const char *rel)
{
    kt_tzif *z = zone_open(rel);
    check_local(z, "2024-03-10T02:30:00Z", "2024-03-10T08:30:00Z", KT_TZ_NONEXISTENT);
    check_local(z, "2024-03-10T01:59:59Z", "2024-03-10T07:59:59Z", KT_TZ_EXACT);
    check_local(z, "2024-03-10T03:00:00Z", "2024-03-10T08:00:00Z", KT_TZ_EXACT);
    check_local(z, "2024-11-03T01:30:00Z", "2024-11-03T06:30:00Z", KT_TZ_AMBIGUOUS);
    check_local(z, "2024-11-03T00:59:59Z", "2024-11-03T05:59:59Z", KT_TZ_EXACT);
    check_local(z, "2024-11-03T02:00:00Z", "2024-11-03T08:00:00Z", KT_TZ_EXACT);
    check_local(z, "2024-10-15T12:00:00Z", "2024-10-15T17:00:00Z", KT_TZ_EXACT);
    check_local(z, "2023-01-15T12:00:00Z", "2023-01-15T18:00:00Z", KT_TZ_EXACT);
    check_local(z, "2024-10-15T12:00:00.123456789Z", "2024-10-15T17:00:00.123456789Z", KT_TZ_EXACT);
    bool isdst = false;
    const char *abbr = NULL;
    ck_assert_int_eq(offset_at(z, "2024-11-03T06:59:59Z", &isdst, &abbr), -18000);
    ck_assert(isdst);
    ck_assert_str_eq(abbr, "CDT");
    ck_assert_int_eq(offset_at(z, "2024-11-03T07:00:00Z", &isdst, &abbr), -21600);
    ck_assert(!isdst);
    ck_assert_str_eq(abbr, "CST");
    /* 2060: second Sunday of March is the 14th, first of November the 7th. */
    check_local(z, "2060-03-14T02:30:00Z", "2060-03-14T08:30:00Z", KT_TZ_NONEXISTENT);
    check_local(z, "2060-07-04T12:00:00Z", "2060-07-04T17:00:00Z", KT_TZ_EXACT);
    check_local(z, "2060-11-07T01:30:00Z", "2060-11-07T06:30:00Z", KT_TZ_AMBIGUOUS);
    check_local(z, "2060-12-25T12:00:00Z", "2060-12-25T18:00:00Z", KT_TZ_EXACT);
    ck_assert_int_eq(offset_at(z, "2060-07-04T17:00:00Z", &isdst, &abbr), -18000);
    ck_assert_str_eq(abbr, "CDT");
    /* "No time" is not a time. */
    int32_t off = 1;
    kt_time u = 1;
    ck_assert_int_eq(kt_tzif_offset_at(z, KT_TIME_NONE, &off, NULL, NULL), KT_EARG);
    ck_assert_int_eq(kt_tzif_local_to_utc(z, KT_TIME_NONE, &u, NULL), KT_EARG);
    ck_assert(off == 1 && u == 1);
    /* The ends of kt_time: an answer, or KT_EARG when UTC falls outside
     * (local 2262-04-11T23:47:16 is 04:47 UTC the next day). */
    ck_assert_int_eq(kt_tzif_offset_at(z, INT64_MIN + 1, &off, NULL, NULL), 0);
    ck_assert_int_eq(kt_tzif_offset_at(z, INT64_MAX, &off, NULL, NULL), 0);
    ck_assert_int_eq(off, -18000); /* 2262-04-11, in daylight time */
    ck_assert_int_eq(kt_tzif_local_to_utc(z, INT64_MAX, &u, NULL), KT_EARG);
    ck_assert_int_eq(kt_tzif_local_to_utc(z, INT64_MIN + 1, &u, NULL), 0);
    ck_assert(u > INT64_MIN + 1 + 5 * 3600 * KT_NS_PER_SEC);
    kt_tzif_free(z);
}

START_TEST(converts_chicago_local_times)
{
    check_chicago("fat/Kt/Chicago");
    check_chicago("slim/Kt/Chicago");
    check_chicago("right/Kt/Chicago");
    check_chicago("tzdata/America/Chicago");
}
END_TEST

START_TEST(uses_the_footer_after_the_last_transition)
{
    kt_tzif *z = zone_open("slim/Kt/Chicago");
    kt_tzif_info info;
    kt_tzif_get_info(z, &info);
    /* zic -b slim stops where the footer can take over (2007 here). */
    ck_assert(info.transitions > 0);
    ck_assert(info.last < truth_time("2008-01-01T00:00:00Z"));
    kt_tzif_free(z);
    /* An empty footer keeps the last transition's type. */
    static const int64_t times[] = {100000000};
    static const uint8_t idx[] = {1}, isdst[] = {0, 1}, abbr[] = {0, 4};
    static const int32_t utoff[] = {-21600, -18000};
    tzspec s = {.version = '2',
                .ntimes = 1,
                .times = times,
                .idx = idx,
                .ntypes = 2,
                .utoff = utoff,
                .isdst = isdst,
                .abbr = abbr,
                .chars = "CST\0CDT",
                .nchars = 8,
                .footer = ""};
    kt_error err = {0};
    ck_assert_int_eq(parse_spec(&s, &z, &err), 0);
    ck_assert_int_eq(offset_at(z, "1970-06-01T00:00:00Z", NULL, NULL), -21600);
    ck_assert_int_eq(offset_at(z, "2060-01-01T00:00:00Z", NULL, NULL), -18000);
    ck_assert_str_eq(kt_tzif_footer(z), "");
    kt_tzif_free(z);
    s.footer = "CST6CDT,M3.2.0,M11.1.0";
    ck_assert_int_eq(parse_spec(&s, &z, &err), 0);
    ck_assert_int_eq(offset_at(z, "2060-01-01T00:00:00Z", NULL, NULL), -21600);
    /* At the last transition itself its type holds; the footer (CST in
     * March 1973) from the next second. */
    int32_t off = 0;
    ck_assert_int_eq(kt_tzif_offset_at(z, 100000000 * KT_NS_PER_SEC, &off, NULL, NULL), 0);
    ck_assert_int_eq(off, -18000);
    ck_assert_int_eq(kt_tzif_offset_at(z, 100000001 * KT_NS_PER_SEC, &off, NULL, NULL), 0);
    ck_assert_int_eq(off, -21600);
    kt_tzif_free(z);
}
END_TEST

START_TEST(converts_southern_and_half_hour_zones)
{
    static const char *kinds[] = {"fat", "slim"};
    for (size_t k = 0; k < 2; k++) {
        char rel[64];
        snprintf(rel, sizeof rel, "%s/Kt/Sydney", kinds[k]);
        kt_tzif *z = zone_open(rel);
        check_local(z, "2025-01-15T12:00:00Z", "2025-01-15T01:00:00Z", KT_TZ_EXACT);
        check_local(z, "2024-07-15T12:00:00Z", "2024-07-15T02:00:00Z", KT_TZ_EXACT);
        check_local(z, "2024-04-07T02:30:00Z", "2024-04-06T15:30:00Z", KT_TZ_AMBIGUOUS);
        check_local(z, "2024-10-06T02:30:00Z", "2024-10-05T16:30:00Z", KT_TZ_NONEXISTENT);
        const char *abbr = NULL;
        ck_assert_int_eq(offset_at(z, "2059-12-31T23:00:00Z", NULL, &abbr), 39600);
        ck_assert_str_eq(abbr, "AEDT");
        kt_tzif_free(z);

        snprintf(rel, sizeof rel, "%s/Kt/LordHowe", kinds[k]);
        z = zone_open(rel);
        check_local(z, "2024-10-06T02:15:00Z", "2024-10-05T15:45:00Z", KT_TZ_NONEXISTENT);
        check_local(z, "2024-04-07T01:45:00Z", "2024-04-06T14:45:00Z", KT_TZ_AMBIGUOUS);
        check_local(z, "2024-07-01T12:00:00Z", "2024-07-01T01:30:00Z", KT_TZ_EXACT);
        ck_assert_int_eq(offset_at(z, "2025-01-01T00:00:00Z", NULL, &abbr), 39600);
        ck_assert_str_eq(abbr, "+11");
        kt_tzif_free(z);

        snprintf(rel, sizeof rel, "%s/Kt/Jerusalem", kinds[k]);
        z = zone_open(rel);
        check_local(z, "2024-03-29T02:30:00Z", "2024-03-29T00:30:00Z", KT_TZ_NONEXISTENT);
        check_local(z, "2024-10-27T01:30:00Z", "2024-10-26T22:30:00Z", KT_TZ_AMBIGUOUS);
        kt_tzif_free(z);

        snprintf(rel, sizeof rel, "%s/Kt/Nuuk", kinds[k]);
        z = zone_open(rel);
        check_local(z, "2024-03-30T23:30:00Z", "2024-03-31T01:30:00Z", KT_TZ_NONEXISTENT);
        check_local(z, "2024-10-26T23:30:00Z", "2024-10-27T00:30:00Z", KT_TZ_AMBIGUOUS);
        kt_tzif_free(z);
    }
}
END_TEST

START_TEST(reads_zones_with_only_a_footer)
{
    static const struct {
        const char *zone, *abbr;
        int32_t off;
    } want[] = {{"Kt/Kolkata", "IST", 19800}, {"Kt/Tehran", "+0330", 12600}};
    static const char *kinds[] = {"fat", "slim", "right"};
    static const char *when[] = {"1900-01-01T00:00:00Z", "1970-01-01T00:00:00Z",
                                 "2024-06-01T00:00:00Z", "2060-12-31T23:59:59Z"};
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < 2; i++) {
            char rel[64];
            snprintf(rel, sizeof rel, "%s/%s", kinds[k], want[i].zone);
            kt_tzif *z = zone_open(rel);
            kt_tzif_info info;
            kt_tzif_get_info(z, &info);
            ck_assert_int_eq(info.transitions, 0);
            for (size_t w = 0; w < 4; w++) {
                bool isdst = true;
                const char *abbr = NULL;
                ck_assert_int_eq(offset_at(z, when[w], &isdst, &abbr), want[i].off);
                ck_assert(!isdst);
                ck_assert_str_eq(abbr, want[i].abbr);
            }
            kt_tzif_free(z);
        }
    kt_tzif *z = zone_open("slim/Kt/Kolkata");
    check_local(z, "2024-06-01T05:30:00Z", "2024-06-01T00:00:00Z", KT_TZ_EXACT);
    kt_tzif_free(z);
}
END_TEST

/* ---- kavtrace's zone table against the pinned tzdata release. ---- */

/* These run millions of times: a Check assertion costs a system call
 * even when it holds, so they compare first and assert only to fail. */
static void same_state(const kt_tzif *ref, const kt_tzif *ours, int64_t t, const char *name)
{
    int32_t a = 0, b = 1;
    bool da = false, db = true;
    const char *xa = "", *xb = "";
    kt_time x = kt_time_from_unix(t, 0);
    if (kt_tzif_offset_at(ref, x, &a, &da, &xa) != 0 ||
        kt_tzif_offset_at(ours, x, &b, &db, &xb) != 0 || a != b || da != db || strcmp(xa, xb) != 0)
        ck_abort_msg("%s at %lld: table %d %d %s, tzdata %d %d %s", name, (long long)t, b, db, xb,
                     a, da, xa);
}

static void same_local(const kt_tzif *ref, const kt_tzif *ours, int64_t local, const char *name)
{
    kt_time ua = 0, ub = 1;
    int fa = 0, fb = 1;
    kt_time l = kt_time_from_unix(local, 0);
    if (kt_tzif_local_to_utc(ref, l, &ua, &fa) != 0 ||
        kt_tzif_local_to_utc(ours, l, &ub, &fb) != 0 || ua != ub || fa != fb)
        ck_abort_msg("%s local %lld: table %lld (%d), tzdata %lld (%d)", name, (long long)local,
                     (long long)ub, fb, (long long)ua, fa);
}

/* The names of the pinned tzdata.zi ("Z NAME ...", "L TARGET NAME") or
 * zone1970.tab (third column); returns how many it checked. */
static size_t check_names_listed(const char *file, bool zi)
{
    char *path = path_join(testdata_dir(), file);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s", path);
    char line[1024];
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        char a[256], b[256], c[256];
        const char *name = NULL;
        if (zi && sscanf(line, "Z %255s", a) == 1 && line[0] == 'Z')
            name = a;
        else if (zi && line[0] == 'L' && sscanf(line, "L %255s %255s", a, b) == 2)
            name = b;
        else if (!zi && line[0] != '#' && sscanf(line, "%255s %255s %255s", a, b, c) == 3)
            name = c;
        if (!name)
            continue;
        kt_tzif *z = NULL;
        kt_error err = {0};
        ck_assert_msg(kt_tzif_builtin(name, &z, NULL, &err) == 0, "%s: %s", name, err.msg);
        kt_tzif_free(z);
        n++;
    }
    fclose(f);
    free(path);
    return n;
}

START_TEST(table_names_every_zone_of_the_pinned_release)
{
    /* Every Zone and Link of tzdata.zi (zone1970.tab's zones, backward's
     * and backzone's names), and nothing else. */
    size_t zi = check_names_listed("tz/tzdata/tzdata.zi", true);
    ck_assert_uint_eq(zi, kt_tzif_builtin_count());
    ck_assert_uint_ge(check_names_listed("tz/tzdata/zone1970.tab", false), 300);
    ck_assert_uint_ge(zi, 590);
    for (size_t i = 1; i < kt_tzif_builtin_count(); i++)
        ck_assert(strcmp(kt_tzif_builtin_name(i - 1), kt_tzif_builtin_name(i)) < 0);
    ck_assert_ptr_null(kt_tzif_builtin_name(kt_tzif_builtin_count()));
    /* The release the table was made from is the one pinned beside it. */
    char *path = path_join(testdata_dir(), "tz/tzdata/RELEASE");
    kt_buf b = {0};
    file_load(path, &b);
    char version[32] = "";
    long long secs = 0;
    ck_assert_int_eq(sscanf((const char *)b.data, "%31s %lld", version, &secs), 2);
    kt_tzif_builtin_info info;
    kt_tzif_builtin_about(&info);
    ck_assert_str_eq(info.release, version);
    ck_assert(info.released == kt_time_from_unix(secs, 0));
    ck_assert(info.from == truth_time("1970-01-01T00:00:00Z"));
    ck_assert(info.until == truth_time("2038-01-01T00:00:00Z"));
    kt_buf_release(&b);
    free(path);
    kt_tzif *z = (kt_tzif *)1;
    kt_error err = {0};
    ck_assert_int_eq(kt_tzif_builtin("Mars/Olympus_Mons", &z, NULL, &err), KT_ENOTFOUND);
    ck_assert_int_eq(kt_tzif_builtin(NULL, &z, NULL, &err), KT_ENOTFOUND);
    ck_assert(z == (kt_tzif *)1);
    ck_assert_int_eq(kt_tzif_builtin("America/chicago", &z, NULL, &err), KT_ENOTFOUND);
}
END_TEST

START_TEST(table_matches_the_pinned_release)
{
    /* Every name of the table against its zone compiled by zic from the
     * pinned tzdata.zi: offset, daylight flag and abbreviation every 6
     * hours from 1970 to 2038, at each hour boundary around every
     * transition (and the second before it), local times every half hour
     * around every transition (repeated and skipped hours included), and
     * the final rule monthly to 2060. */
    kt_tzif_builtin_info info;
    kt_tzif_builtin_about(&info);
    int64_t from = info.from / KT_NS_PER_SEC, until = info.until / KT_NS_PER_SEC;
    size_t instants = 0, transitions = 0;
    for (size_t i = 0; i < kt_tzif_builtin_count(); i++) {
        const char *name = kt_tzif_builtin_name(i);
        char rel[300];
        snprintf(rel, sizeof rel, "tzdata/%s", name);
        kt_tzif *ref = zone_open(rel), *ours = NULL;
        kt_error err = {0};
        ck_assert_msg(kt_tzif_builtin(name, &ours, NULL, &err) == 0, "%s: %s", name, err.msg);
        for (int64_t t = from; t < until; t += 6 * 3600, instants++)
            same_state(ref, ours, t, name);
        for (int64_t t = until; t < INT64_C(2871763200); t += 30 * 86400, instants++)
            same_state(ref, ours, t, name);
        kt_time at = info.from, next;
        while (kt_tzif_next_change(ref, at, &next) == 0 && next < info.until) {
            int64_t s = next / KT_NS_PER_SEC;
            int32_t before = 0;
            kt_tzif_offset_at(ref, next - KT_NS_PER_SEC, &before, NULL, NULL);
            same_state(ref, ours, s - 1, name);
            for (int h = -2; h <= 2; h++, instants++)
                same_state(ref, ours, s + h * 3600, name);
            for (int k = -6; k <= 6; k++, instants++)
                same_local(ref, ours, s + before + k * 1800, name);
            transitions++;
            at = next;
        }
        kt_tzif_free(ref);
        kt_tzif_free(ours);
    }
    ck_assert_uint_ge(transitions, 5000);
    ck_assert_uint_ge(instants, kt_tzif_builtin_count() * 55000);
}
END_TEST

/* Zone `name` of the table; its conversions are checked by the caller. */
static kt_tzif *table_zone(const char *name)
{
    kt_tzif *z = NULL;
    kt_error err = {0};
    ck_assert_msg(kt_tzif_builtin(name, &z, NULL, &err) == 0, "%s: %s", name, err.msg);
    return z;
}

START_TEST(table_knows_rule_changes_by_name)
{
    /* Manitoba keeps -05 all year from 2026-11-01 (tzdata 2026e). */
    kt_tzif *z = table_zone("America/Winnipeg");
    check_local(z, "2025-07-01T10:00:01Z", "2025-07-01T15:00:01Z", KT_TZ_EXACT);
    check_local(z, "2026-01-15T10:00:00Z", "2026-01-15T16:00:00Z", KT_TZ_EXACT);
    check_local(z, "2026-11-15T10:00:01Z", "2026-11-15T15:00:01Z", KT_TZ_EXACT);
    check_local(z, "2027-01-15T10:00:00Z", "2027-01-15T15:00:00Z", KT_TZ_EXACT);
    ck_assert_int_eq(offset_at(z, "2031-12-25T12:00:00Z", NULL, NULL), -18000);
    ck_assert_int_eq(offset_at(z, "2045-01-15T12:00:00Z", NULL, NULL), -18000);
    kt_tzif_free(z);
    z = table_zone("Canada/Central"); /* backward's name for it */
    check_local(z, "2026-11-15T10:00:01Z", "2026-11-15T15:00:01Z", KT_TZ_EXACT);
    kt_tzif_free(z);
    /* Mexico kept daylight time until 2022-10-30. */
    z = table_zone("America/Mexico_City");
    check_local(z, "2021-07-01T10:00:00Z", "2021-07-01T15:00:00Z", KT_TZ_EXACT);
    check_local(z, "2022-07-01T10:00:00Z", "2022-07-01T15:00:00Z", KT_TZ_EXACT);
    check_local(z, "2022-10-30T01:30:00Z", "2022-10-30T06:30:00Z", KT_TZ_AMBIGUOUS);
    check_local(z, "2022-11-15T10:00:00Z", "2022-11-15T16:00:00Z", KT_TZ_EXACT);
    check_local(z, "2023-07-01T10:00:00Z", "2023-07-01T16:00:00Z", KT_TZ_EXACT);
    kt_tzif_free(z);
    /* Turkey: EET/EEST until 2016-09-07, then +03 all year. */
    z = table_zone("Europe/Istanbul");
    check_local(z, "2015-01-15T12:00:00Z", "2015-01-15T10:00:00Z", KT_TZ_EXACT);
    check_local(z, "2015-07-15T12:00:00Z", "2015-07-15T09:00:00Z", KT_TZ_EXACT);
    check_local(z, "2017-01-15T12:00:00Z", "2017-01-15T09:00:00Z", KT_TZ_EXACT);
    bool isdst = true;
    const char *abbr = NULL;
    ck_assert_int_eq(offset_at(z, "2015-01-15T12:00:00Z", &isdst, &abbr), 7200);
    ck_assert(!isdst);
    ck_assert_str_eq(abbr, "EET");
    ck_assert_int_eq(offset_at(z, "2020-01-15T12:00:00Z", &isdst, &abbr), 10800);
    ck_assert_str_eq(abbr, "+03");
    kt_tzif_free(z);
    /* Kazakhstan: Almaty from +06 to +05 on 2024-03-01 00:00 local. */
    z = table_zone("Asia/Almaty");
    ck_assert_int_eq(offset_at(z, "2024-02-29T17:59:59Z", NULL, NULL), 21600);
    ck_assert_int_eq(offset_at(z, "2024-02-29T18:00:00Z", NULL, NULL), 18000);
    check_local(z, "2024-01-15T12:00:00Z", "2024-01-15T06:00:00Z", KT_TZ_EXACT);
    check_local(z, "2024-02-29T23:30:00Z", "2024-02-29T17:30:00Z", KT_TZ_AMBIGUOUS);
    check_local(z, "2024-06-15T12:00:00Z", "2024-06-15T07:00:00Z", KT_TZ_EXACT);
    kt_tzif_free(z);
    /* Southern hemisphere: Sydney's daylight time spans the new year. */
    z = table_zone("Australia/Sydney");
    check_local(z, "2024-01-15T12:00:00Z", "2024-01-15T01:00:00Z", KT_TZ_EXACT);
    check_local(z, "2024-07-15T12:00:00Z", "2024-07-15T02:00:00Z", KT_TZ_EXACT);
    check_local(z, "2024-04-07T02:30:00Z", "2024-04-06T15:30:00Z", KT_TZ_AMBIGUOUS);
    check_local(z, "2024-10-06T02:30:00Z", "2024-10-05T16:30:00Z", KT_TZ_NONEXISTENT);
    ck_assert_int_eq(offset_at(z, "2024-01-15T00:00:00Z", &isdst, &abbr), 39600);
    ck_assert(isdst);
    ck_assert_str_eq(abbr, "AEDT");
    kt_tzif_free(z);
    /* Chicago, as the Linux scenarios plant it. */
    z = table_zone("US/Central");
    check_local(z, "2023-02-14T10:22:05Z", "2023-02-14T16:22:05Z", KT_TZ_EXACT);
    check_local(z, "2024-10-15T09:41:05Z", "2024-10-15T14:41:05Z", KT_TZ_EXACT);
    check_local(z, "2024-11-03T01:30:00Z", "2024-11-03T06:30:00Z", KT_TZ_AMBIGUOUS);
    kt_tzif_free(z);
}
END_TEST

START_TEST(matches_zdump_on_own_zones)
{
    static const char *kinds[] = {"fat", "slim", "right"};
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < sizeof own_zones / sizeof own_zones[0]; i++) {
            if (strcmp(own_zones[i], "Kt/Kolkata") == 0 || strcmp(own_zones[i], "Kt/Tehran") == 0)
                continue; /* no transitions for zdump to show */
            char rel[64];
            snprintf(rel, sizeof rel, "%s/%s", kinds[k], own_zones[i]);
            /* glibc applies a "right/" file's footer in the leap-counting
             * time scale (27 s early in 2038): compare up to its last
             * transition, and beyond it with the fat file below. */
            int64_t until = Y2061;
            if (k == 2) {
                kt_tzif *z = zone_open(rel);
                kt_tzif_info info;
                kt_tzif_get_info(z, &info);
                until = info.last / KT_NS_PER_SEC + 1;
                kt_tzif_free(z);
            }
            ck_assert_uint_ge(compare_with_zdump(rel, NULL, until), 2 * SAMPLES);
        }
}
END_TEST

START_TEST(reads_right_files_in_posix_time)
{
    /* The leap-second records move a "right/" file's transitions back to
     * POSIX time: it then tells the same local times as the fat file. */
    for (size_t i = 0; i < sizeof own_zones / sizeof own_zones[0]; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "fat/%s", own_zones[i]);
        kt_tzif *fat = zone_open(rel);
        snprintf(rel, sizeof rel, "right/%s", own_zones[i]);
        kt_tzif *right = zone_open(rel);
        for (int n = 0; n < SAMPLES; n++) {
            kt_time t = sample(Y1970, Y2061) * KT_NS_PER_SEC;
            int32_t a = 0, b = 1;
            ck_assert_int_eq(kt_tzif_offset_at(fat, t, &a, NULL, NULL), 0);
            ck_assert_int_eq(kt_tzif_offset_at(right, t, &b, NULL, NULL), 0);
            ck_assert_msg(a == b, "%s at %lld: %d, fat %d", rel, (long long)t, b, a);
            kt_time ua = 0, ub = 1;
            int fa = 0, fb = 1;
            ck_assert_int_eq(kt_tzif_local_to_utc(fat, t, &ua, &fa), 0);
            ck_assert_int_eq(kt_tzif_local_to_utc(right, t, &ub, &fb), 0);
            ck_assert(ua == ub && fa == fb);
        }
        kt_tzif_free(fat);
        kt_tzif_free(right);
    }
    kt_tzif *z = zone_open("right/Kt/Chicago");
    ck_assert_int_eq(offset_at(z, "2038-03-14T07:59:59Z", NULL, NULL), -21600);
    ck_assert_int_eq(offset_at(z, "2038-03-14T08:00:00Z", NULL, NULL), -18000);
    kt_tzif_free(z);
}
END_TEST

START_TEST(matches_zdump_on_tzdata_zones)
{
    for (size_t i = 0; i < sizeof tzdata_zones / sizeof tzdata_zones[0]; i++)
        ck_assert_uint_ge(compare_with_zdump(tzdata_zones[i], NULL, Y2061), 2 * SAMPLES);
}
END_TEST

START_TEST(evaluates_footer_rules_like_glibc)
{
    /* Each footer alone in a file, against glibc reading it as TZ. */
    static const char *footers[] = {
        "EST5EDT,M3.2.0/2,M11.1.0/2",
        "<-03>3<-02>,M10.3.0/0,M2.3.0/0",
        "XST3XDT,J60/2,J300/2",
        "XST3XDT,59/2,299/2",
        "IST-2IDT,M3.4.4/26,M10.5.0",
        "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
        "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
        "CET-1CEST-2:00:00,M3.5.0/02:00:00,M10.5.0/3",
        "<+0545>-5:45<+0645>,M4.5.6/23:30,M9.1.1/0:45:30",
    };
    for (size_t i = 0; i < sizeof footers / sizeof footers[0]; i++) {
        char *rel = NULL;
        ck_assert(asprintf(&rel, "%s/footer%zu", tzdir, i) > 0);
        tzspec s = footer_only(footers[i]);
        kt_buf b = {0};
        build(&b, &s);
        FILE *f = fopen(rel, "wb");
        ck_assert(f != NULL);
        ck_assert_uint_eq(fwrite(b.data, 1, b.len, f), b.len);
        fclose(f);
        kt_buf_release(&b);
        ck_assert_uint_ge(compare_with_zdump(rel, footers[i], Y2061), 2 * SAMPLES);
        free(rel);
    }
}
END_TEST

START_TEST(keeps_daylight_time_all_year)
{
    /* RFC 8536 3.3.1's example of DST all year: the end at 25:00 of
     * December 31 is the next start. glibc differs here, so by hand. */
    tzspec s = footer_only("EST5EDT,0/0,J365/25");
    kt_tzif *z = NULL;
    kt_error err = {0};
    ck_assert_int_eq(parse_spec(&s, &z, &err), 0);
    static const char *when[] = {"2023-12-31T23:00:00Z", "2024-01-01T04:59:59Z",
                                 "2024-01-01T05:00:00Z", "2024-02-29T12:00:00Z",
                                 "2024-12-31T23:59:59Z", "2025-01-01T05:00:00Z"};
    for (size_t i = 0; i < sizeof when / sizeof when[0]; i++) {
        bool isdst = false;
        ck_assert_msg(offset_at(z, when[i], &isdst, NULL) == -14400 && isdst, "%s", when[i]);
    }
    check_local(z, "2024-07-01T12:00:00Z", "2024-07-01T16:00:00Z", KT_TZ_EXACT);
    check_local(z, "2025-01-01T00:30:00Z", "2025-01-01T04:30:00Z", KT_TZ_EXACT);
    kt_tzif_free(z);
}
END_TEST

/* The v1 part of a fat file, its version byte set to 0. */
static void make_v1(const char *rel, kt_buf *out)
{
    kt_buf b = {0};
    zone_load(rel, &b);
    ck_assert(b.len >= 44);
    uint32_t c[6];
    for (int i = 0; i < 6; i++)
        c[i] = (uint32_t)b.data[20 + 4 * i] << 24 | (uint32_t)b.data[21 + 4 * i] << 16 |
               (uint32_t)b.data[22 + 4 * i] << 8 | b.data[23 + 4 * i];
    /* isutcnt isstdcnt leapcnt timecnt typecnt charcnt */
    size_t n = 44 + c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    ck_assert(n <= b.len);
    out->len = 0;
    ck_assert(kt_buf_append(out, b.data, n) == 0);
    out->data[4] = 0;
    kt_buf_release(&b);
}

START_TEST(reads_a_version_1_file)
{
    kt_buf b = {0};
    make_v1("fat/Kt/Chicago", &b);
    char *rel = path_join(tzdir, "v1-Chicago");
    FILE *f = fopen(rel, "wb");
    ck_assert(f != NULL);
    ck_assert_uint_eq(fwrite(b.data, 1, b.len, f), b.len);
    fclose(f);
    kt_tzif *z = zone_open(rel);
    kt_tzif_info info;
    kt_tzif_get_info(z, &info);
    ck_assert_int_eq(info.version, 1);
    ck_assert_str_eq(kt_tzif_footer(z), "");
    check_local(z, "2024-03-10T02:30:00Z", "2024-03-10T08:30:00Z", KT_TZ_NONEXISTENT);
    check_local(z, "2024-11-03T01:30:00Z", "2024-11-03T06:30:00Z", KT_TZ_AMBIGUOUS);
    /* Past 2037 (the last 32-bit transition) the last type stays: CST. */
    ck_assert_int_eq(offset_at(z, "2040-07-01T00:00:00Z", NULL, NULL), -21600);
    kt_tzif_free(z);
    /* And glibc agrees, 1970 to 2060. */
    ck_assert_uint_ge(compare_with_zdump(rel, NULL, Y2061), 2 * SAMPLES);
    free(rel);
    kt_buf_release(&b);
}
END_TEST

/* Every proper prefix of the file is refused, and *out is left alone. */
static void check_truncations(const uint8_t *data, size_t len, const char *what)
{
    for (size_t n = 0; n < len; n++) {
        /* A copy of exactly n bytes, so ASan sees any read past it. */
        uint8_t *copy = malloc(n ? n : 1);
        ck_assert(copy != NULL);
        memcpy(copy, data, n);
        kt_tzif *z = NULL;
        kt_error err = {0};
        int rc = kt_tzif_parse(n ? copy : NULL, n, &z, &err);
        ck_assert_msg(rc == KT_EFORMAT && z == NULL && err.msg[0] != '\0',
                      "%s cut to %zu of %zu bytes: rc %d (%s)", what, n, len, rc, err.msg);
        free(copy);
    }
    kt_tzif *z = NULL;
    ck_assert_int_eq(kt_tzif_parse(data, len, &z, NULL), 0);
    kt_tzif_free(z);
}

START_TEST(rejects_truncated_files)
{
    static const char *files[] = {"fat/Kt/Chicago", "slim/Kt/Chicago", "right/Kt/Sydney",
                                  "slim/Kt/Kolkata", "tzdata/America/Chicago"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        kt_buf b = {0};
        zone_load(files[i], &b);
        check_truncations(b.data, b.len, files[i]);
        kt_buf_release(&b);
    }
    kt_buf b = {0};
    make_v1("fat/Kt/Chicago", &b);
    check_truncations(b.data, b.len, "v1 Chicago");
    kt_buf_release(&b);
}
END_TEST

/* Flip every bit of a file: whatever parses must answer without crashing. */
static void flip_bits(const char *rel)
{
    kt_buf b = {0};
    zone_load(rel, &b);
    for (size_t i = 0; i < b.len; i++)
        for (int bit = 0; bit < 8; bit++) {
            b.data[i] ^= (uint8_t)(1u << bit);
            kt_tzif *z = NULL;
            kt_error err = {0};
            int rc = kt_tzif_parse(b.data, b.len, &z, &err);
            if (rc == 0) {
                int32_t off;
                kt_time u;
                int flags;
                for (int64_t y = 1900; y <= 2200; y += 20) {
                    kt_time t = kt_days_from_civil(y, 3, 10) * 86400 * KT_NS_PER_SEC;
                    ck_assert_int_eq(kt_tzif_offset_at(z, t, &off, NULL, NULL), 0);
                    ck_assert_int_eq(kt_tzif_local_to_utc(z, t, &u, &flags), 0);
                }
                kt_tzif_free(z);
            } else {
                ck_assert(z == NULL && err.msg[0] != '\0');
            }
            b.data[i] ^= (uint8_t)(1u << bit);
        }
    kt_buf_release(&b);
}

START_TEST(survives_flipped_bits)
{
    flip_bits("fat/Kt/Chicago");
    flip_bits("slim/Kt/Sydney");
    flip_bits("right/Kt/LordHowe");
}
END_TEST

static void expect_error(const tzspec *s, int code, const char *msg)
{
    kt_tzif *z = NULL;
    kt_error err = {0};
    int rc = parse_spec(s, &z, &err);
    ck_assert_msg(rc == code && z == NULL && strstr(err.msg, msg) != NULL,
                  "want %d '%s', got %d '%s'", code, msg, rc, err.msg);
}

START_TEST(rejects_corrupt_fields)
{
    static const int64_t times[] = {1000, 2000}, back[] = {2000, 1000};
    static const uint8_t idx[] = {1, 0}, bad_idx[] = {1, 2}, isdst[] = {0, 1}, abbr[] = {0, 4};
    static const uint8_t bad_isdst[] = {0, 2}, bad_abbr[] = {0, 8};
    static const int32_t utoff[] = {-21600, -18000}, bad_utoff[] = {INT32_MIN, 0};
    tzspec good = {.version = '2',
                   .ntimes = 2,
                   .times = times,
                   .idx = idx,
                   .ntypes = 2,
                   .utoff = utoff,
                   .isdst = isdst,
                   .abbr = abbr,
                   .chars = "CST\0CDT",
                   .nchars = 8,
                   .footer = ""};
    kt_tzif *z = NULL;
    ck_assert_int_eq(parse_spec(&good, &z, NULL), 0);
    kt_tzif_free(z);
    tzspec s = good;
    s.times = back;
    expect_error(&s, KT_EFORMAT, "not in ascending order");
    s = good;
    s.idx = bad_idx;
    expect_error(&s, KT_EFORMAT, "transition 1: type 2 of 2");
    s = good;
    s.isdst = bad_isdst;
    expect_error(&s, KT_EFORMAT, "isdst 2");
    s = good;
    s.abbr = bad_abbr;
    expect_error(&s, KT_EFORMAT, "abbreviation index 8 of 8");
    s = good;
    s.utoff = bad_utoff;
    expect_error(&s, KT_EFORMAT, "UTC offset -2147483648 out of range");
    s = good;
    s.chars = "CST\0CDTX";
    expect_error(&s, KT_EFORMAT, "not NUL-terminated");
    s = good;
    s.ntypes = 0;
    s.ntimes = 0;
    expect_error(&s, KT_EFORMAT, "no local time types");
    s = good;
    s.version = '9';
    expect_error(&s, KT_EUNSUPPORTED, "version '9'");
    s = good;
    s.version = 0;
    s.ntimes = 0;
    s.ntypes = 0;
    expect_error(&s, KT_EFORMAT, "first header: no local time types");
    s = good;
    s.nchars = 0;
    s.abbr = one_zero;
    s.ntypes = 1;
    s.ntimes = 0;
    expect_error(&s, KT_EFORMAT, "second header: no abbreviation bytes");
    /* A v2+ file's v1 block is only skipped: empty counts there are fine. */
    kt_buf b = {0};
    build(&b, &good);
    kt_buf v1empty = {0};
    uint8_t hdr[44] = {'T', 'Z', 'i', 'f', '2'};
    ck_assert(kt_buf_append(&v1empty, hdr, sizeof hdr) == 0);
    size_t v1len = 44 + 2 * 5 + 2 * 6 + 8;
    ck_assert(kt_buf_append(&v1empty, b.data + v1len, b.len - v1len) == 0);
    ck_assert_int_eq(kt_tzif_parse(v1empty.data, v1empty.len, &z, NULL), 0);
    ck_assert_int_eq(kt_tzif_offset_at(z, 1500 * KT_NS_PER_SEC, &(int32_t){0}, NULL, NULL), 0);
    kt_tzif_free(z);
    kt_buf_release(&v1empty);
    /* Counts over the limits, in either header, with the file too short
     * for them: refused before anything is read. 0x20: timecnt. */
    const struct {
        size_t off;
        uint32_t v;
        const char *msg;
    } counts[] = {
        {20, 0xffffffff, "first header: 4294967295 UT/local indicators, over the limit"},
        {28, 201, "first header: 201 leap-second records"},
        {32, 4001, "first header: 4001 transitions"},
        {36, 257, "first header: 257 local time types"},
        {40, 0x80000000, "first header: 2147483648 abbreviation bytes"},
        {v1len + 32, 0xffffffff, "second header: 4294967295 transitions"},
        {v1len + 20, 1, "second header: 1 UT/local indicators for 2 types"},
        {v1len + 24, 3, "second header: 3 standard/wall indicators for 2 types"},
        {v1len + 32, 3, "truncated in the data block"},
    };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        kt_buf c = {0};
        ck_assert(kt_buf_append(&c, b.data, b.len) == 0);
        for (int k = 0; k < 4; k++)
            c.data[counts[i].off + (size_t)k] = (uint8_t)(counts[i].v >> (24 - 8 * k));
        kt_error err = {0};
        z = NULL;
        int rc = kt_tzif_parse(c.data, c.len, &z, &err);
        ck_assert_msg(rc != 0 && z == NULL && strstr(err.msg, counts[i].msg) != NULL,
                      "want '%s', got %d '%s'", counts[i].msg, rc, err.msg);
        kt_buf_release(&c);
    }
    /* Not a TZif file at all, and a footer that is not closed. */
    kt_error err = {0};
    ck_assert_int_eq(kt_tzif_parse((const uint8_t *)"TZix", 4, &z, &err), KT_EFORMAT);
    b.data[v1len] = 'X';
    ck_assert_int_eq(kt_tzif_parse(b.data, b.len, &z, &err), KT_EFORMAT);
    ck_assert_msg(strstr(err.msg, "second header: no 'TZif' magic") != NULL, "%s", err.msg);
    b.data[v1len] = 'T';
    b.len--;
    ck_assert_int_eq(kt_tzif_parse(b.data, b.len, &z, &err), KT_EFORMAT);
    ck_assert_msg(strstr(err.msg, "truncated in the footer") != NULL, "%s", err.msg);
    kt_buf_release(&b);
}
END_TEST

START_TEST(rejects_garbage_footers)
{
    static const char *bad[] = {
        "garbage",
        "CS6",
        "CST",
        "CST25",
        "CST6:60",
        "<+03",
        "<+0 3>-3",
        "CST6CDT,M13.2.0,M11.1.0",
        "CST6CDT,M3.6.0,M11.1.0",
        "CST6CDT,M3.2.7,M11.1.0",
        "CST6CDT,M3.2.0",
        "CST6CDT,M3.2.0,M11.1.0/168",
        "CST6CDT,M3.2.0/-168,M11.1.0",
        "CST6CDT,J0,J365",
        "CST6CDT,366,0",
        "CST6CDT,M3.2.0,M11.1.0x",
        "CST6CDT25,M3.2.0,M11.1.0",
        "CST6CDT,M3.2.0/2:,M11.1.0",
        "CST6\tCDT",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tzspec s = footer_only(bad[i]);
        kt_tzif *z = NULL;
        kt_error err = {0};
        int rc = parse_spec(&s, &z, &err);
        ck_assert_msg(rc == KT_EFORMAT && z == NULL && strstr(err.msg, "footer") != NULL,
                      "'%s': %d %s", bad[i], rc, err.msg);
    }
    /* A newline inside (the footer ends there: the rest is trailing
     * garbage), a control character, and an over-long footer. */
    tzspec s = footer_only("CST6\nCDT");
    kt_tzif *z = NULL;
    kt_error err = {0};
    ck_assert_int_eq(parse_spec(&s, &z, &err), 0);
    ck_assert_str_eq(kt_tzif_footer(z), "CST6");
    kt_tzif_free(z);
    s.footer = "CST6\001";
    ck_assert_int_eq(parse_spec(&s, &z, &err), KT_EFORMAT);
    ck_assert_msg(strstr(err.msg, "footer byte 0x01") != NULL, "%s", err.msg);
    char longf[300];
    memset(longf, 'A', sizeof longf - 1);
    longf[sizeof longf - 1] = '\0';
    s.footer = longf;
    ck_assert_int_eq(parse_spec(&s, &z, &err), KT_ELIMIT);
    /* Without a rule, daylight time follows tzcode's default (US, 2007). */
    s.footer = "EST5EDT";
    ck_assert_int_eq(parse_spec(&s, &z, &err), 0);
    check_local(z, "2024-03-10T02:30:00Z", "2024-03-10T07:30:00Z", KT_TZ_NONEXISTENT);
    ck_assert_int_eq(offset_at(z, "2024-07-01T00:00:00Z", NULL, NULL), -14400);
    kt_tzif_free(z);
}
END_TEST

START_TEST(names_the_zone_from_the_link)
{
    static const struct {
        const char *target, *name;
    } ok[] = {
        {"../usr/share/zoneinfo/America/Chicago", "America/Chicago"},
        {"/usr/share/zoneinfo/America/Chicago", "America/Chicago"},
        {"/var/db/timezone/zoneinfo/America/New_York", "America/New_York"},
        {"/var/db/timezone/tz/2024a.1.0/zoneinfo/Asia/Kolkata", "Asia/Kolkata"},
        {"/usr/share/zoneinfo/posix/Europe/London", "Europe/London"},
        {"/usr/share/zoneinfo/right/Europe/London", "Europe/London"},
        {"/usr/share/zoneinfo-posix/Europe/Berlin", "Europe/Berlin"},
        {"zoneinfo/Europe/Paris", "Europe/Paris"},
        {"/usr/share/zoneinfo/America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"},
        {"/usr/share/zoneinfo/Etc/GMT+5", "Etc/GMT+5"},
        {"/usr/share/zoneinfo/America/Port-au-Prince", "America/Port-au-Prince"},
        {"/usr/share/zoneinfo/UTC", "UTC"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char buf[64] = "";
        ck_assert_msg(kt_tzif_zone_name(ok[i].target, buf, sizeof buf) == 0, "%s", ok[i].target);
        ck_assert_str_eq(buf, ok[i].name);
    }
    static const char *bad[] = {
        "/etc/localtime.bak",
        "/usr/share/zoneinfo",
        "/usr/share/zoneinfo/",
        "/usr/share/zoneinfo/../../etc/passwd",
        "/usr/share/zoneinfo/America//Chicago",
        "/usr/share/zoneinfo/America/Chicago/",
        "/usr/share/zoneinfo/./UTC",
        "/usr/share/zoneinfo/Amer ica/Chicago",
        "/usr/share/zoneinfo/posix/",
        "/usr/share/myzoneinfo/UTC",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[64] = "unchanged";
        ck_assert_msg(kt_tzif_zone_name(bad[i], buf, sizeof buf) == KT_ENOTFOUND, "%s", bad[i]);
        ck_assert_str_eq(buf, "unchanged");
    }
    ck_assert_int_eq(kt_tzif_zone_name(NULL, NULL, 0), KT_ENOTFOUND);
    char small[15] = "unchanged";
    ck_assert_int_eq(kt_tzif_zone_name("/usr/share/zoneinfo/America/Chicago", small, sizeof small),
                     KT_ELIMIT);
    ck_assert_str_eq(small, "unchanged");
    ck_assert_int_eq(kt_tzif_zone_name("/usr/share/zoneinfo/Asia/Tokyo", small, sizeof small), 0);
    ck_assert_str_eq(small, "Asia/Tokyo");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tzif");
    TCase *tc = tcase_create("files");
    tcase_add_unchecked_fixture(tc, build_zones, remove_zones);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, reads_versions_and_footers_zic_writes);
    tcase_add_test(tc, converts_chicago_local_times);
    tcase_add_test(tc, uses_the_footer_after_the_last_transition);
    tcase_add_test(tc, converts_southern_and_half_hour_zones);
    tcase_add_test(tc, reads_zones_with_only_a_footer);
    tcase_add_test(tc, table_names_every_zone_of_the_pinned_release);
    tcase_add_test(tc, table_matches_the_pinned_release);
    tcase_add_test(tc, table_knows_rule_changes_by_name);
    tcase_add_test(tc, matches_zdump_on_own_zones);
    tcase_add_test(tc, reads_right_files_in_posix_time);
    tcase_add_test(tc, matches_zdump_on_tzdata_zones);
    tcase_add_test(tc, evaluates_footer_rules_like_glibc);
    tcase_add_test(tc, keeps_daylight_time_all_year);
    tcase_add_test(tc, reads_a_version_1_file);
    tcase_add_test(tc, rejects_truncated_files);
    tcase_add_test(tc, survives_flipped_bits);
    tcase_add_test(tc, rejects_corrupt_fields);
    tcase_add_test(tc, rejects_garbage_footers);
    tcase_add_test(tc, names_the_zone_from_the_link);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
