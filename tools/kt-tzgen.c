/* kt-tzgen: kavtrace's zone table, made from and compared with tzdata.
 *
 *   kt-tzgen generate ZONEDIR TZDATA_ZI ZONE1970_TAB RELEASE > gen/tzdb_data.c
 *       The table of every Zone and Link name of TZDATA_ZI, each read from
 *       its TZif file in ZONEDIR (zic's output for TZDATA_ZI): the type in
 *       force at 2000-01-01, every change up to 2038-01-01, the final rule.
 *       RELEASE is one line "VERSION UNIX_SECONDS TEXT" (testdata/tz/
 *       tzdata/RELEASE). Every zone of ZONE1970_TAB must be named.
 *   kt-tzgen diff ZONEDIR
 *       The names whose zone in ZONEDIR (a host's /usr/share/zoneinfo)
 *       differs from the compiled-in table from 1970 on, with the first
 *       instant that differs; the names one side lacks. Exit 0 when all
 *       agree, 1 when some differ, 2 on error.
 *
 * A maintainer's tool (scripts/tz-update, scripts/tz-refresh), not part
 * of kavtrace: it reads the host's files, which kavtrace never does. */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/buf.h"
#include "kavtrace/tzif.h"

#define FROM INT64_C(0)           /* 1970-01-01T00:00:00Z */
#define UNTIL INT64_C(2145916800) /* 2038-01-01T00:00:00Z */
#define MAX_NAMES 4096
#define MAX_STATES 4096

typedef struct state {
    int32_t utoff;
    bool isdst;
    char abbr[16];
} state;

typedef struct change {
    int64_t at;
    state st;
} change;

typedef struct zone {
    state st0;
    change *ch;
    size_t nch;
    char footer[KT_TZIF_MAX_FOOTER + 1];
} zone;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("kt-tzgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static kt_tzif *load(const char *dir, const char *name, bool must)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (must)
            die("%s: %s", path, strerror(errno));
        return NULL;
    }
    static uint8_t data[KT_TZIF_MAX_SIZE];
    size_t n = fread(data, 1, sizeof data, f);
    fclose(f);
    kt_tzif *z = NULL;
    kt_error err = {0};
    if (kt_tzif_parse(data, n, &z, &err) != KT_OK)
        die("%s: %s", path, err.msg);
    return z;
}

static void state_at(const kt_tzif *z, int64_t s, state *st)
{
    const char *abbr = "";
    memset(st, 0, sizeof *st);
    kt_tzif_offset_at(z, kt_time_from_unix(s, 0), &st->utoff, &st->isdst, &abbr);
    snprintf(st->abbr, sizeof st->abbr, "%s", abbr);
}

static bool same(const state *a, const state *b)
{
    return a->utoff == b->utoff && a->isdst == b->isdst && strcmp(a->abbr, b->abbr) == 0;
}

/* The zone's state at FROM and every change in (FROM, UNTIL), and past
 * UNTIL up to the file's last transition: a zone whose transitions are
 * listed beyond its final rule's reach (Gaza's, to 2086) must not hand
 * over to that rule early. */
static void walk(const kt_tzif *z, zone *out)
{
    memset(out, 0, sizeof *out);
    kt_tzif_info info;
    kt_tzif_get_info(z, &info);
    int64_t until = UNTIL;
    if (info.last != KT_TIME_NONE && info.last / KT_NS_PER_SEC >= until)
        until = info.last / KT_NS_PER_SEC + 1;
    state_at(z, FROM, &out->st0);
    snprintf(out->footer, sizeof out->footer, "%s", kt_tzif_footer(z));
    state prev = out->st0;
    kt_time t = kt_time_from_unix(FROM, 0), next;
    while (kt_tzif_next_change(z, t, &next) == KT_OK && next / KT_NS_PER_SEC < until) {
        state st;
        state_at(z, next / KT_NS_PER_SEC, &st);
        if (!same(&st, &prev)) {
            if (out->nch == MAX_STATES)
                die("too many transitions");
            out->ch = realloc(out->ch, (out->nch + 1) * sizeof *out->ch);
            if (!out->ch)
                die("out of memory");
            out->ch[out->nch++] = (change){next / KT_NS_PER_SEC, st};
            prev = st;
        }
        t = next;
    }
}

static bool same_zone(const zone *a, const zone *b)
{
    if (!same(&a->st0, &b->st0) || a->nch != b->nch || strcmp(a->footer, b->footer) != 0)
        return false;
    for (size_t i = 0; i < a->nch; i++)
        if (a->ch[i].at != b->ch[i].at || !same(&a->ch[i].st, &b->ch[i].st))
            return false;
    return true;
}

/* ---- Names from tzdata.zi and zone1970.tab. ---- */

static char *names[MAX_NAMES];
static size_t nnames;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_name(const char *n)
{
    return bsearch(&n, names, nnames, sizeof *names, cmp_str) != NULL;
}

/* "Z NAME ..." and "L TARGET NAME"; the version from "# version V". */
static void read_zi(const char *path, char *version, size_t vlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("%s: %s", path, strerror(errno));
    char line[1024];
    version[0] = '\0';
    while (fgets(line, sizeof line, f)) {
        char a[256], b[256];
        if (sscanf(line, "# version %255s", a) == 1)
            snprintf(version, vlen, "%s", a);
        else if (line[0] == 'Z' && sscanf(line, "Z %255s", a) == 1)
            names[nnames++] = strdup(a);
        else if (line[0] == 'L' && sscanf(line, "L %255s %255s", a, b) == 2)
            names[nnames++] = strdup(b);
        if (nnames == MAX_NAMES)
            die("%s: too many names", path);
    }
    fclose(f);
    qsort(names, nnames, sizeof *names, cmp_str);
    if (!version[0])
        die("%s: no '# version' line", path);
}

static void check_zone1970(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("%s: %s", path, strerror(errno));
    char line[1024];
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        char cc[64], coord[64], tz[256];
        if (line[0] == '#' || sscanf(line, "%63s %63s %255s", cc, coord, tz) != 3)
            continue;
        if (!has_name(tz))
            die("%s: zone %s is not in tzdata.zi", path, tz);
        n++;
    }
    fclose(f);
    if (n == 0)
        die("%s: no zones", path);
    fprintf(stderr, "kt-tzgen: %zu zones of zone1970.tab, %zu names in all\n", n, nnames);
}

/* ---- generate ---- */

static state types[MAX_STATES];
static size_t ntypes;

static size_t type_index(const state *st)
{
    for (size_t i = 0; i < ntypes; i++)
        if (same(&types[i], st))
            return i;
    if (ntypes == MAX_STATES)
        die("too many types");
    types[ntypes] = *st;
    return ntypes++;
}

static void c_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        putchar(*s);
    }
    putchar('"');
}

static int generate(int argc, char **argv)
{
    if (argc != 6)
        die("usage: kt-tzgen generate ZONEDIR TZDATA_ZI ZONE1970_TAB RELEASE");
    const char *dir = argv[2];
    char version[64], rversion[64], rtext[256] = "";
    int64_t released = 0;
    read_zi(argv[3], version, sizeof version);
    check_zone1970(argv[4]);
    FILE *rf = fopen(argv[5], "r");
    if (!rf || fscanf(rf, "%63s %" SCNd64 " %255[^\n]", rversion, &released, rtext) < 2)
        die("%s: not 'VERSION UNIX_SECONDS TEXT'", argv[5]);
    fclose(rf);
    if (strcmp(rversion, version) != 0)
        die("%s names release %s, tzdata.zi is %s", argv[5], rversion, version);

    zone *zones = calloc(nnames, sizeof *zones);
    uint16_t *zone_of = calloc(nnames, sizeof *zone_of);
    if (!zones || !zone_of)
        die("out of memory");
    size_t nzones = 0, ntimes = 0;
    for (size_t i = 0; i < nnames; i++) {
        kt_tzif *z = load(dir, names[i], true);
        zone w;
        walk(z, &w);
        kt_tzif_free(z);
        size_t k = 0;
        while (k < nzones && !same_zone(&zones[k], &w))
            k++;
        if (k == nzones) {
            zones[nzones++] = w;
            ntimes += w.nch;
        } else {
            free(w.ch);
        }
        zone_of[i] = (uint16_t)k;
    }

    printf("/* kavtrace's zone table, generated by kt-tzgen (tools/kt-tzgen.c) from\n"
           " * tzdata %s (released %s; testdata/tz/tzdata/): %zu names, %zu distinct\n"
           " * zones, %zu transitions from 1970-01-01 to 2038-01-01 (later where a\n"
           " * zone's file lists later ones) and each zone's final rule. The tz database is in the "
           "public domain.\n"
           " * Do not edit: scripts/tz-update regenerates it. */\n"
           "#include \"tzdb.h\"\n\n",
           version, rtext, nnames, nzones, ntimes);
    printf("const char kt_tzdb_release[] = \"%s\";\n", version);
    printf("const int64_t kt_tzdb_released = %" PRId64 ";\n", released);
    printf("const int64_t kt_tzdb_from = %" PRId64 ", kt_tzdb_until = %" PRId64 ";\n\n", FROM,
           UNTIL);

    /* Types first, in the order zones use them. */
    for (size_t k = 0; k < nzones; k++) {
        type_index(&zones[k].st0);
        for (size_t j = 0; j < zones[k].nch; j++)
            type_index(&zones[k].ch[j].st);
    }
    printf("const kt_tzdb_type kt_tzdb_types[] = {\n");
    for (size_t i = 0; i < ntypes; i++) {
        printf("    {%" PRId32 ", %d, ", types[i].utoff, types[i].isdst);
        c_string(types[i].abbr);
        printf("},\n");
    }
    printf("};\nconst size_t kt_tzdb_ntypes = %zu;\n\n", ntypes);

    printf("const int64_t kt_tzdb_times[] = {");
    size_t col = 0;
    for (size_t k = 0; k < nzones; k++)
        for (size_t j = 0; j < zones[k].nch; j++)
            printf("%s%" PRId64 ",", col++ % 6 ? " " : "\n    ", zones[k].ch[j].at);
    printf("\n    0};\n");
    printf("const uint16_t kt_tzdb_time_types[] = {");
    col = 0;
    for (size_t k = 0; k < nzones; k++)
        for (size_t j = 0; j < zones[k].nch; j++)
            printf("%s%zu,", col++ % 16 ? " " : "\n    ", type_index(&zones[k].ch[j].st));
    printf("\n    0};\nconst size_t kt_tzdb_ntimes = %zu;\n\n", ntimes);

    printf("const kt_tzdb_zone kt_tzdb_zones[] = {\n");
    size_t first = 0;
    for (size_t k = 0; k < nzones; k++) {
        printf("    {%zu, %zu, %zu, ", type_index(&zones[k].st0), zones[k].nch, first);
        c_string(zones[k].footer);
        printf("},\n");
        first += zones[k].nch;
    }
    printf("};\nconst size_t kt_tzdb_nzones = %zu;\n\n", nzones);

    printf("const kt_tzdb_name kt_tzdb_names[] = {\n");
    for (size_t i = 0; i < nnames; i++) {
        printf("    {");
        c_string(names[i]);
        printf(", %u},\n", zone_of[i]);
    }
    printf("};\nconst size_t kt_tzdb_nnames = %zu;\n", nnames);
    fprintf(stderr, "kt-tzgen: tzdata %s: %zu distinct zones, %zu transitions, %zu types\n",
            version, nzones, ntimes, ntypes);
    return 0;
}

/* ---- diff ---- */

static void print_state(const state *st)
{
    printf("%+" PRId32 " %s%s", st->utoff, st->abbr, st->isdst ? " (daylight)" : "");
}

static int diff(int argc, char **argv)
{
    if (argc != 3)
        die("usage: kt-tzgen diff ZONEDIR");
    const char *dir = argv[2];
    kt_tzif_builtin_info about;
    kt_tzif_builtin_about(&about);
    char zi[4096], version[64] = "unknown";
    snprintf(zi, sizeof zi, "%s/tzdata.zi", dir);
    FILE *f = fopen(zi, "r");
    if (f) {
        fclose(f);
        read_zi(zi, version, sizeof version);
    }
    printf("kavtrace's table: tzdata %s; %s: tzdata %s\n", about.release, dir, version);
    int differ = 0;
    for (size_t i = 0; i < kt_tzif_builtin_count(); i++) {
        const char *name = kt_tzif_builtin_name(i);
        kt_tzif *host = load(dir, name, false), *ours = NULL;
        kt_error err = {0};
        if (!host) {
            printf("%s: not in %s\n", name, dir);
            differ = 1;
            continue;
        }
        if (kt_tzif_builtin(name, &ours, NULL, &err) != KT_OK)
            die("%s: %s", name, err.msg);
        zone a, b;
        walk(ours, &a);
        walk(host, &b);
        /* Both are constant between their changes: comparing at FROM
         * and at every change of either side finds the first instant at
         * which they disagree. */
        int64_t at = -1;
        state sa, sb;
        bool started = false;
        for (size_t j = 0, k = 0;;) {
            int64_t ta = j < a.nch ? a.ch[j].at : INT64_MAX;
            int64_t tb = k < b.nch ? b.ch[k].at : INT64_MAX;
            int64_t t = !started ? FROM : (ta < tb ? ta : tb);
            if (t == INT64_MAX)
                break;
            state_at(ours, t, &sa);
            state_at(host, t, &sb);
            if (!same(&sa, &sb)) {
                at = t;
                break;
            }
            if (!started) {
                started = true;
                continue;
            }
            j += ta == t;
            k += tb == t;
        }
        if (at < 0 && strcmp(a.footer, b.footer) != 0) {
            printf("%s: final rule %s here, %s there\n", name, a.footer, b.footer);
            differ = 1;
        } else if (at >= 0) {
            char iso[KT_TIME_ISO_MAX];
            printf("%s: from %s: ", name, kt_time_format_iso(kt_time_from_unix(at, 0), iso));
            print_state(&sa);
            printf(" here, ");
            print_state(&sb);
            printf(" there\n");
            differ = 1;
        }
        free(a.ch);
        free(b.ch);
        kt_tzif_free(ours);
        kt_tzif_free(host);
    }
    for (size_t i = 0; i < nnames; i++) {
        const char *n = names[i];
        bool found = false;
        for (size_t j = 0; j < kt_tzif_builtin_count() && !found; j++)
            found = strcmp(kt_tzif_builtin_name(j), n) == 0;
        if (!found) {
            printf("%s: not in kavtrace's table\n", n);
            differ = 1;
        }
    }
    if (!differ)
        printf("no zone differs\n");
    return differ;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "generate") == 0)
        return generate(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "diff") == 0)
        return diff(argc, argv);
    fprintf(stderr, "usage: kt-tzgen generate ZONEDIR TZDATA_ZI ZONE1970_TAB RELEASE\n"
                    "       kt-tzgen diff ZONEDIR\n");
    return 2;
}
