/* Built-in rules for common zones, for an image whose /etc/localtime names
 * a zone whose file is not in the image (a symlink into a tzdata tree that
 * was never installed). Only the zone's current POSIX rule is known here
 * (the footer of tzdata 2024a's file): right for the years around the ban
 * (2023 to 2026), not for times before a zone last changed its rules
 * (Mexico City kept DST until October 2022, Istanbul until 2016). The
 * caller says the rule came from here. The host's zone files are never
 * read. */
#include <stdio.h>
#include <string.h>

#include "kavtrace/tzif.h"

static const struct {
    const char *name, *rule;
} zones[] = {
    {"UTC", "UTC0"},
    {"Etc/UTC", "UTC0"},
    {"Etc/GMT", "GMT0"},
    {"GMT", "GMT0"},
    {"Zulu", "UTC0"},
    {"America/New_York", "EST5EDT,M3.2.0,M11.1.0"},
    {"America/Detroit", "EST5EDT,M3.2.0,M11.1.0"},
    {"America/Indiana/Indianapolis", "EST5EDT,M3.2.0,M11.1.0"},
    {"America/Kentucky/Louisville", "EST5EDT,M3.2.0,M11.1.0"},
    {"America/Toronto", "EST5EDT,M3.2.0,M11.1.0"},
    {"US/Eastern", "EST5EDT,M3.2.0,M11.1.0"},
    {"EST5EDT", "EST5EDT,M3.2.0,M11.1.0"},
    {"America/Chicago", "CST6CDT,M3.2.0,M11.1.0"},
    {"America/Winnipeg", "CST6CDT,M3.2.0,M11.1.0"},
    {"US/Central", "CST6CDT,M3.2.0,M11.1.0"},
    {"CST6CDT", "CST6CDT,M3.2.0,M11.1.0"},
    {"America/Denver", "MST7MDT,M3.2.0,M11.1.0"},
    {"America/Boise", "MST7MDT,M3.2.0,M11.1.0"},
    {"America/Edmonton", "MST7MDT,M3.2.0,M11.1.0"},
    {"US/Mountain", "MST7MDT,M3.2.0,M11.1.0"},
    {"MST7MDT", "MST7MDT,M3.2.0,M11.1.0"},
    {"America/Phoenix", "MST7"},
    {"US/Arizona", "MST7"},
    {"America/Los_Angeles", "PST8PDT,M3.2.0,M11.1.0"},
    {"America/Vancouver", "PST8PDT,M3.2.0,M11.1.0"},
    {"US/Pacific", "PST8PDT,M3.2.0,M11.1.0"},
    {"PST8PDT", "PST8PDT,M3.2.0,M11.1.0"},
    {"America/Anchorage", "AKST9AKDT,M3.2.0,M11.1.0"},
    {"US/Alaska", "AKST9AKDT,M3.2.0,M11.1.0"},
    {"Pacific/Honolulu", "HST10"},
    {"US/Hawaii", "HST10"},
    {"America/Puerto_Rico", "AST4"},
    {"America/Halifax", "AST4ADT,M3.2.0,M11.1.0"},
    {"America/Mexico_City", "CST6"},
    {"America/Sao_Paulo", "<-03>3"},
    {"Europe/London", "GMT0BST,M3.5.0/1,M10.5.0"},
    {"Europe/Dublin", "IST-1GMT0,M10.5.0,M3.5.0/1"},
    {"Europe/Lisbon", "WET0WEST,M3.5.0/1,M10.5.0"},
    {"Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Paris", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Amsterdam", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Brussels", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Madrid", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Rome", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Vienna", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Zurich", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Stockholm", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Prague", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Warsaw", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Helsinki", "EET-2EEST,M3.5.0/3,M10.5.0/4"},
    {"Europe/Kiev", "EET-2EEST,M3.5.0/3,M10.5.0/4"},
    {"Europe/Kyiv", "EET-2EEST,M3.5.0/3,M10.5.0/4"},
    {"Europe/Athens", "EET-2EEST,M3.5.0/3,M10.5.0/4"},
    {"Europe/Moscow", "MSK-3"},
    {"Europe/Istanbul", "<+03>-3"},
    {"Asia/Jerusalem", "IST-2IDT,M3.4.4/26,M10.5.0"},
    {"Asia/Dubai", "<+04>-4"},
    {"Asia/Kolkata", "IST-5:30"},
    {"Asia/Shanghai", "CST-8"},
    {"Asia/Hong_Kong", "HKT-8"},
    {"Asia/Singapore", "<+08>-8"},
    {"Asia/Tokyo", "JST-9"},
    {"Asia/Seoul", "KST-9"},
    {"Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3"},
    {"Australia/Melbourne", "AEST-10AEDT,M10.1.0,M4.1.0/3"},
    {"Australia/Brisbane", "AEST-10"},
    {"Australia/Perth", "AWST-8"},
    {"Pacific/Auckland", "NZST-12NZDT,M9.5.0,M4.1.0/3"},
    {"Africa/Johannesburg", "SAST-2"},
};

static size_t put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return 4;
}

/* A version 2 TZif with no transitions, one type (UTC, "UTC") and the
 * rule as its footer: the footer then rules every instant. */
static size_t synthesize(const char *rule, uint8_t *out, size_t cap)
{
    static const char abbr[] = "UTC";
    size_t need = 2 * (44 + 6 + sizeof abbr) + strlen(rule) + 2;
    if (need > cap)
        return 0;
    size_t n = 0;
    for (int block = 0; block < 2; block++) {
        memcpy(out + n, "TZif2", 5);
        memset(out + n + 5, 0, 15);
        n += 20;
        uint32_t counts[6] = {0, 0, 0, 0, 1, sizeof abbr}; /* isut, isstd, leap, time, type, char */
        for (int i = 0; i < 6; i++)
            n += put32(out + n, counts[i]);
        n += put32(out + n, 0); /* utoff */
        out[n++] = 0;           /* isdst */
        out[n++] = 0;           /* abbreviation index */
        memcpy(out + n, abbr, sizeof abbr);
        n += sizeof abbr;
    }
    out[n++] = '\n';
    memcpy(out + n, rule, strlen(rule));
    n += strlen(rule);
    out[n++] = '\n';
    return n;
}

int kt_tzif_builtin(const char *name, kt_tzif **out, char *rule, size_t rule_len, kt_error *err)
{
    for (size_t i = 0; name && i < sizeof zones / sizeof zones[0]; i++) {
        if (strcmp(zones[i].name, name) != 0)
            continue;
        uint8_t buf[512];
        size_t n = synthesize(zones[i].rule, buf, sizeof buf);
        if (n == 0)
            return kt_error_set(err, KT_ELIMIT, "rule of %s too long", name);
        if (rule)
            snprintf(rule, rule_len, "%s", zones[i].rule);
        return kt_tzif_parse(buf, n, out, err);
    }
    return kt_error_set(err, KT_ENOTFOUND, "no built-in rule for zone '%s'", name ? name : "");
}

size_t kt_tzif_builtin_count(void)
{
    return sizeof zones / sizeof zones[0];
}

const char *kt_tzif_builtin_name(size_t i)
{
    return i < sizeof zones / sizeof zones[0] ? zones[i].name : NULL;
}
