#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kavtrace/packages.h"
#include "testutil.h"

/* ---- collecting events ---- */

typedef struct got {
    kt_pkg_action action;
    char *name, *version, *old, *arch, *state, *detail;
    bool has_time, local;
    kt_time time;
    size_t line;
} got;

typedef struct gots {
    got *items;
    size_t count;
    size_t stop_after; /* 0: never stop */
} gots;

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int collect(void *ctx, const kt_pkg_event *e)
{
    gots *g = ctx;
    g->items = realloc(g->items, (g->count + 1) * sizeof *g->items);
    ck_assert_ptr_nonnull(g->items);
    g->items[g->count++] = (got){
        .action = e->action,
        .name = dup_or_null(e->name),
        .version = dup_or_null(e->version),
        .old = dup_or_null(e->old_version),
        .arch = dup_or_null(e->arch),
        .state = dup_or_null(e->state),
        .detail = dup_or_null(e->detail),
        .has_time = e->has_time,
        .local = e->local,
        .time = e->time,
        .line = e->line,
    };
    ck_assert_int_eq(e->precision, KT_PREC_SECOND);
    return g->stop_after && g->count == g->stop_after ? 7 : 0;
}

static void gots_free(gots *g)
{
    for (size_t i = 0; i < g->count; i++) {
        got *e = &g->items[i];
        free(e->name), free(e->version), free(e->old), free(e->arch), free(e->state);
        free(e->detail);
    }
    free(g->items);
    memset(g, 0, sizeof *g);
}

typedef enum kind { DPKG_STATUS, DPKG_LOG, APT, RPMDB, DNF, YUM, ZYPP } kind;

static int parse(kind k, const kt_buf *b, gots *g, kt_strlist *w, kt_error *err)
{
    const uint8_t *d = b->data ? b->data : (const uint8_t *)"";
    switch (k) {
    case DPKG_STATUS:
        return kt_pkg_parse_dpkg_status(d, b->len, collect, g, w, err);
    case DPKG_LOG:
        return kt_pkg_parse_dpkg_log(d, b->len, collect, g, w, err);
    case APT:
        return kt_pkg_parse_apt_history(d, b->len, collect, g, w, err);
    case RPMDB:
        return kt_pkg_parse_rpmdb(d, b->len, collect, g, w, err);
    case DNF:
        return kt_pkg_parse_dnf_log(d, b->len, collect, g, w, err);
    case YUM:
        return kt_pkg_parse_yum_log(d, b->len, 2025, collect, g, w, err);
    case ZYPP:
        return kt_pkg_parse_zypp_history(d, b->len, collect, g, w, err);
    }
    return -1;
}

/* Parse a file, expecting rc. */
static void parse_path(kind k, const char *path, int want_rc, gots *g, kt_strlist *w)
{
    kt_buf b = {0};
    file_load(path, &b);
    kt_error err = {0};
    int rc = parse(k, &b, g, w, &err);
    ck_assert_msg(rc == want_rc, "%s: rc %d (%s), want %d", path, rc, err.msg, want_rc);
    kt_buf_release(&b);
}

static void parse_testdata(kind k, const char *name, gots *g, kt_strlist *w)
{
    char *path = path_join(testdata_dir(), name);
    parse_path(k, path, 0, g, w);
    free(path);
}

static void parse_corpus(kind k, const char *name, gots *g, kt_strlist *w)
{
    char *path = path_join(corpus_dir(), name);
    parse_path(k, path, 0, g, w);
    free(path);
}

#define NOTIME NULL

/* One event, exactly: strings NULL-or-equal, time as ISO ("...Z"; for a
 * local time the wall clock as if UTC) or NOTIME. */
static void check(const gots *g, size_t i, kt_pkg_action a, const char *name, const char *version,
                  const char *old, const char *arch, const char *iso, bool local, size_t line)
{
    ck_assert_msg(i < g->count, "event %zu of %zu", i, g->count);
    const got *e = &g->items[i];
    ck_assert_msg(e->action == a, "event %zu: action %s, want %s", i, kt_pkg_action_name(e->action),
                  kt_pkg_action_name(a));
    ck_assert_pstr_eq(e->name, name);
    ck_assert_pstr_eq(e->version, version);
    ck_assert_pstr_eq(e->old, old);
    ck_assert_pstr_eq(e->arch, arch);
    if (iso == NOTIME) {
        ck_assert(!e->has_time);
        ck_assert_int_eq(e->time, KT_TIME_NONE);
    } else {
        ck_assert(e->has_time);
        char buf[KT_TIME_ISO_MAX];
        ck_assert_str_eq(kt_time_format_iso(e->time, buf), iso);
    }
    ck_assert_int_eq(e->local, local);
    ck_assert_uint_eq(e->line, line);
}

static void check_warnings(const kt_strlist *w, const char *const *want, size_t n)
{
    for (size_t i = 0; i < w->count && i < n; i++)
        ck_assert_str_eq(w->items[i], want[i]);
    ck_assert_msg(w->count == n, "%zu warnings, want %zu (first: %s)", w->count, n,
                  w->count ? w->items[0] : "-");
}

/* ---- Debian version order ---- */

START_TEST(compares_debian_versions_as_dpkg)
{
    static const struct {
        const char *a, *b;
        int cmp;
    } cases[] = {
        {"1.0~rc1", "1.0", -1},
        {"1:0.9", "2.0", 1},
        {"1.0-1", "1.0-1ubuntu1", -1},
        {"1.0", "1.0-0", 0},
        {"1.0", "1.0", 0},
        {"0:1.0", "1.0", 0},
        {"1.0~~", "1.0~", -1},
        {"1.0~", "1.0", -1},
        {"1.0", "1.0a", -1},
        {"1.0a", "1.0+", -1}, /* letters sort before non-letters */
        {"1.0+", "1.0.", -1}, /* '+' (43) before '.' (46) */
        {"1.2.10", "1.2.9", 1},
        {"1.002", "1.2", 0}, /* leading zeros */
        {"2.0-1", "10.0-1", -1},
        {"1.0-1", "1.0-1.1", -1},
        {"12.1.0.1297", "12.2.0.2412", -1},
        {"2:8.0.0197-4+deb9u1", "2:8.0.0197-4+deb9u3", -1},
        {"1.1.0j-1~deb9u1", "1.1.0k-1~deb9u1", -1},
        {"1.0-1~bpo1", "1.0-1", -1},
        {"10:1", "9:99", 1},
        {"1-2-3", "1-2-4", -1}, /* the revision is after the last hyphen */
        {"a:1", "0:1", 1},      /* invalid epoch: after every valid version */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_msg(kt_deb_version_cmp(cases[i].a, cases[i].b) == cases[i].cmp,
                      "cmp(%s, %s) = %d, want %d", cases[i].a, cases[i].b,
                      kt_deb_version_cmp(cases[i].a, cases[i].b), cases[i].cmp);
        ck_assert_int_eq(kt_deb_version_cmp(cases[i].b, cases[i].a), -cases[i].cmp);
    }
}
END_TEST

/* ---- dpkg status ---- */

START_TEST(reads_real_dpkg_status)
{
    gots g = {0};
    kt_strlist w = {0};
    parse_corpus(DPKG_STATUS, "velociraptor/debian_status", &g, &w);
    ck_assert_uint_eq(w.count, 0);
    ck_assert_uint_eq(g.count, 6);
    check(&g, 0, KT_PKG_STATE, "adduser", "3.118ubuntu5", NULL, "all", NOTIME, false, 1);
    ck_assert_str_eq(g.items[0].state, "install ok installed");
    check(&g, 2, KT_PKG_STATE, "adwaita-icon-theme-full", "41.0-1ubuntu1", NULL, "all", NOTIME,
          false, 58);
    check(&g, 5, KT_PKG_STATE, "amd64-microcode", "3.20191218.1ubuntu2.1", NULL, "amd64", NOTIME,
          false, 118);
    ck_assert_str_eq(g.items[5].state, "install ok installed");
    gots_free(&g);
    kt_strlist_release(&w);
}
END_TEST

START_TEST(reads_dpkg_status_stanzas_and_warns_on_bad_lines)
{
    gots g = {0};
    kt_strlist w = {0};
    parse_testdata(DPKG_STATUS, "linux/packages/dpkg-status", &g, &w);
    ck_assert_uint_eq(g.count, 3);
    check(&g, 0, KT_PKG_STATE, "kesl", "12.1.0.1297", NULL, "amd64", NOTIME, false, 1);
    ck_assert_str_eq(g.items[0].state, "install ok installed");
    /* removed, not purged: only Config-Version is left */
    check(&g, 1, KT_PKG_STATE, "klnagent64", "15.0.0.12345", NULL, "amd64", NOTIME, false, 14);
    ck_assert_str_eq(g.items[1].state, "deinstall ok config-files");
    check(&g, 2, KT_PKG_STATE, "libfoo1", "1:2.3~rc1-4", NULL, "amd64", NOTIME, false, 28);
    ck_assert_str_eq(g.items[2].state, "install ok half-configured");
    static const char *const want[] = {
        "line 23: not a 'Field: value' line",
        "line 24: stanza without a Package field",
        "line 27: continuation line outside a field",
    };
    check_warnings(&w, want, 3);
    gots_free(&g);
    kt_strlist_release(&w);
}
END_TEST

/* ---- dpkg.log ---- */

START_TEST(reads_real_dpkg_log)
{
    /* conffile, startup, install, status: one package event; no final newline */
    gots g = {0};
    kt_strlist w = {0};
    parse_corpus(DPKG_LOG, "plaso/dpkg.log", &g, &w);
    ck_assert_uint_eq(w.count, 0);
    ck_assert_uint_eq(g.count, 1);
    check(&g, 0, KT_PKG_INSTALL, "base-passwd", "3.5.33", NULL, "amd64", "2016-08-06T17:35:39Z",
          true, 3);
    ck_assert_ptr_null(g.items[0].state);
    gots_free(&g);
    kt_strlist_release(&w);
}
END_TEST

static void check_dpkg_log_events(const gots *g)
{
    ck_assert_uint_eq(g->count, 8);
    check(g, 0, KT_PKG_INSTALL, "kesl", "12.1.0.1297", NULL, "amd64", "2024-10-15T12:00:02Z", true,
          2);
    check(g, 1, KT_PKG_UPGRADE, "kesl", "12.2.0.2412", "12.1.0.1297", "amd64",
          "2024-11-20T09:30:00Z", true, 8);
    check(g, 2, KT_PKG_DOWNGRADE, "kesl", "12.1.0.1297", "12.2.0.2412", "amd64",
          "2024-11-21T09:30:00Z", true, 9);
    check(g, 3, KT_PKG_REINSTALL, "kesl", "12.1.0.1297", "12.1.0.1297", "amd64",
          "2024-11-22T09:30:00Z", true, 10);
    check(g, 4, KT_PKG_REMOVE, "kesl", "12.1.0.1297", NULL, "amd64", "2024-12-01T10:00:00Z", true,
          11);
    check(g, 5, KT_PKG_PURGE, "kesl", "12.1.0.1297", NULL, "amd64", "2024-12-01T10:00:05Z", true,
          12);
    /* dpkg logs "install" over left-over config files, OLD = their version */
    check(g, 6, KT_PKG_INSTALL, "klnagent64", "15.0.0.12346", "15.0.0.12345", "amd64",
          "2024-12-02T08:00:00Z", true, 13);
    /* dpkg before multiarch: no ":arch" */
    check(g, 7, KT_PKG_INSTALL, "oldstyle", "0.9", NULL, NULL, "2024-12-03T08:00:01Z", true, 20);
}

START_TEST(reads_every_dpkg_log_action)
{
    gots g = {0};
    kt_strlist w = {0};
    parse_testdata(DPKG_LOG, "linux/packages/dpkg.log", &g, &w);
    check_dpkg_log_events(&g);
    static const char *const want[] = {
        "line 16: no 'YYYY-MM-DD HH:MM:SS' time",
        "line 17: no 'YYYY-MM-DD HH:MM:SS' time",
        "line 18: 'install' line without PACKAGE VERSION VERSION",
    };
    check_warnings(&w, want, 3);
    gots_free(&g);
    kt_strlist_release(&w);
}
END_TEST

START_TEST(reads_dpkg_log_with_crlf_and_no_final_newline)
{
    gots g = {0};
    kt_strlist w = {0};
    parse_testdata(DPKG_LOG, "linux/packages/dpkg-crlf.log", &g, &w);
    ck_assert_uint_eq(g.count, 3);
    check(&g, 0, KT_PKG_INSTALL, "kesl", "12.1.0.1297", NULL, "amd64", "2024-10-15T12:00:02Z", true,
          1);
    check(&g, 1, KT_PKG_UPGRADE, "kesl", "12.2.0.2412", "12.1.0.1297", "amd64",
          "2024-11-20T09:30:00Z", true, 4);
    /* the last line, without "\r\n": the version has no stray '\r' */
    check(&g, 2, KT_PKG_REMOVE, "kesl", "12.2.0.2412", NULL, "amd64", "2024-12-01T10:00:00Z", true,
          5);
    static const char *const want[] = {"line 3: no 'YYYY-MM-DD HH:MM:SS' time"};
    check_warnings(&w, want, 1);
    gots_free(&g);
    kt_strlist_release(&w);
}
END_TEST

START_TEST(caps_warnings_per_file)
{
    kt_buf b = {0};
    ck_assert_int_eq(kt_buf_printf(&b, "2024-01-01 00:00:00 install a:amd64 <none> 1\n"), 0);
    for (int i = 0; i < 25; i++)
        ck_assert_int_eq(kt_buf_printf(&b, "bad %d\n", i), 0);
    gots g = {0};
    kt_strlist w = {0};
    kt_error err = {0};
    ck_assert_int_eq(parse(DPKG_LOG, &b, &g, &w, &err), 0);
    ck_assert_uint_eq(g.count, 1);
    ck_assert_uint_eq(w.count, KT_PKG_MAX_WARNINGS + 1);
    ck_assert_str_eq(w.items[0], "line 2: no 'YYYY-MM-DD HH:MM:SS' time");
    ck_assert_str_eq(w.items[KT_PKG_MAX_WARNINGS - 1], "line 21: no 'YYYY-MM-DD HH:MM:SS' time");
    ck_assert_str_eq(w.items[KT_PKG_MAX_WARNINGS], "5 more warnings");
    gots_free(&g);
    kt_strlist_release(&w);
    kt_buf_release(&b);
}
END_TEST

START_TEST(stops_when_the_callback_asks)
{
    char *path = path_join(testdata_dir(), "linux/packages/dpkg.log");
    gots g = {.stop_after = 2};
    kt_strlist w = {0};
    parse_path(DPKG_LOG, path, 7, &g, &w);
    ck_assert_uint_eq(g.count, 2);
    ck_assert_uint_eq(w.count, 0); /* the bad lines come after the stop */
    gots_free(&g);
    kt_strlist_release(&w);
    free(path);
}
END_TEST

START_TEST(empty_files_give_no_events)
{
    char *path = path_join(testdata_dir(), "linux/packages/empty.log");
    const kind kinds[] = {DPKG_STATUS, DPKG_LOG, APT, RPMDB, DNF, YUM, ZYPP};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        gots g = {0};
        kt_strlist w = {0};
        parse_path(kinds[i], path, 0, &g, &w);
        ck_assert_uint_eq(g.count, 0);
        ck_assert_uint_eq(w.count, 0);
        kt_strlist_release(&w);
    }
    /* blank lines only */
    kt_buf b = {0};
    ck_assert_int_eq(kt_buf_printf(&b, "\n\r\n  \n"), 0);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (kinds[i] == RPMDB)
            continue;
        gots g = {0};
        kt_strlist w = {0};
        kt_error err = {0};
        ck_assert_int_eq(parse(kinds[i], &b, &g, &w, &err), 0);
        ck_assert_uint_eq(g.count + w.count, 0);
    }
    kt_buf_release(&b);
    free(path);
}
END_TEST

START_TEST(rejects_files_of_another_format_without_warnings)
{
    static const struct {
        kind k;
        const char *file;
        const char *msg;
    } cases[] = {
        {DPKG_LOG, "linux/packages/apt-history.log", "not a dpkg log: no line starts with a time"},
        {APT, "linux/packages/dpkg.log", "not an apt history log: no Start-Date line"},
        {DPKG_STATUS, "linux/packages/dpkg.log.multi.gz",
         "not a dpkg status file: no 'Field: value' line"},
        {DNF, "linux/packages/yum.log", "not a dnf log: no line starts with an ISO time"},
        {YUM, "linux/packages/dnf.rpm.log", "not a yum log: no line starts with 'Mon DD HH:MM:SS'"},
        {RPMDB, "linux/packages/dpkg-status",
         "not an rpm database (neither SQLite, Berkeley DB nor ndb)"},
        {ZYPP, "linux/packages/dpkg.log",
         "not a zypper history: no 'YYYY-MM-DD HH:MM:SS|ACTION|...' line"},
        {DPKG_LOG, "linux/packages/zypp-history", "not a dpkg log: no line starts with a time"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = path_join(testdata_dir(), cases[i].file);
        kt_buf b = {0};
        file_load(path, &b);
        gots g = {0};
        kt_strlist w = {0};
        kt_error err = {0};
        ck_assert_int_eq(parse(cases[i].k, &b, &g, &w, &err), KT_EFORMAT);
        ck_assert_str_eq(err.msg, cases[i].msg);
        ck_assert_uint_eq(w.count, 0);
        gots_free(&g);
        kt_buf_release(&b);
        free(path);
    }
}
END_TEST

/* ---- apt history ---- */

START_TEST(reads_real_apt_history)
{
    gots g = {0};
    kt_strlist w = {0};
    parse_corpus(APT, "plaso/apt_history.log", &g, &w);
    ck_assert_uint_eq(w.count, 0);
    /* 8 upgrades, 780 installs, 8 removals, 1 purge in 10 blocks */
    ck_assert_uint_eq(g.count, 797);
    size_t n[KT_PKG_PURGE + 1] = {0};
    for (size_t i = 0; i < g.count; i++)
        n[g.items[i].action]++;
    ck_assert_uint_eq(n[KT_PKG_INSTALL], 780);
    ck_assert_uint_eq(n[KT_PKG_UPGRADE], 8);
    ck_assert_uint_eq(n[KT_PKG_REMOVE], 8);
    ck_assert_uint_eq(n[KT_PKG_PURGE], 1);
    check(&g, 0, KT_PKG_UPGRADE, "libdns-export162", "1:9.10.3.dfsg.P4-12.3+deb9u5",
          "1:9.10.3.dfsg.P4-12.3+deb9u4", "amd64", "2019-07-10T16:38:08Z", true, 2);
    ck_assert_str_eq(g.items[0].detail,
                     "Commandline: apt-get upgrade --no-install-recommends --assume-yes");
    /* the second block's first entry: "python-six:amd64 (1.10.0-3, automatic)" */
    check(&g, 8, KT_PKG_INSTALL, "python-six", "1.10.0-3", NULL, "amd64", "2019-07-10T16:38:12Z",
          true, 7);
    bool purge = false, error = false;
    for (size_t i = 0; i < g.count; i++) {
        const got *e = &g.items[i];
        if (e->action == KT_PKG_PURGE) {
            check(&g, i, KT_PKG_PURGE, "python-pytest", "3.0.6-1", NULL, "amd64",
                  "2019-07-12T04:12:51Z", true, 40);
            ck_assert_str_eq(e->detail,
                             "Commandline: apt-get purge python-pytest; Requested-By: jxs (1005)");
            purge = true;
        }
        if (strcmp(e->name, "containerd.io") == 0) {
            check(&g, i, KT_PKG_INSTALL, "containerd.io", "1.2.6-3", NULL, "amd64",
                  "2019-07-11T12:25:24Z", true, 22);
            ck_assert_str_eq(e->detail, "Commandline: apt-get install -y docker-ce docker-ce-cli "
                                        "containerd.io; Error: Sub-process /usr/bin/dpkg "
                                        "returned an error code (1)");
            error = true;
        }
    }
    ck_assert(purge && error);
    /* the last event: the last entry of the autoremove block */
    check(&g, g.count - 1, KT_PKG_REMOVE, "python-jdcal", "1.0-1.2~deb9u1", NULL, "amd64",
          "2019-07-12T04:19:26Z", true, 52);
    gots_free(&g);
    kt_strlist_release(&w);
}
END_TEST

START_TEST(reads_every_apt_history_list)
{
    gots g = {0};
    kt_strlist w = {0};
    parse_testdata(APT, "linux/packages/apt-history.log", &g, &w);
    ck_assert_uint_eq(g.count, 11);
    check(&g, 0, KT_PKG_INSTALL, "kesl", "12.1.0.1297", NULL, "amd64", "2024-10-15T12:00:00Z", true,
          2);
    ck_assert_str_eq(g.items[0].detail,
                     "Commandline: apt-get install ./kesl_12.1.0.1297_amd64.deb; "
                     "Requested-By: admin (1000)");
    check(&g, 1, KT_PKG_INSTALL, "libfoo1", "1:2.3~rc1-4", NULL, "amd64", "2024-10-15T12:00:00Z",
          true, 2);
    check(&g, 2, KT_PKG_UPGRADE, "kesl", "12.2.0.2412", "12.1.0.1297", "amd64",
          "2024-11-20T09:30:00Z", true, 8);
    ck_assert_str_eq(g.items[2].detail, "Commandline: apt-get upgrade");
    check(&g, 3, KT_PKG_UPGRADE, "libfoo1", "1:2.3-1", "1:2.3~rc1-4", "amd64",
          "2024-11-20T09:30:00Z", true, 8);
    check(&g, 4, KT_PKG_DOWNGRADE, "kesl", "12.1.0.1297", "12.2.0.2412", "amd64",
          "2024-11-21T09:30:00Z", true, 13);
    check(&g, 5, KT_PKG_REINSTALL, "kesl", "12.1.0.1297", NULL, "amd64", "2024-11-22T09:30:00Z",
          true, 19);
    check(&g, 6, KT_PKG_REMOVE, "kesl", "12.1.0.1297", NULL, "amd64", "2024-12-01T10:00:00Z", true,
          24);
    check(&g, 7, KT_PKG_PURGE, "klnagent64", "15.0.0.12345", NULL, "amd64", "2024-12-01T10:05:00Z",
          true, 30);
    ck_assert_str_eq(g.items[7].detail, "Commandline: apt-get purge klnagent64; Error: Sub-process "
                                        "/usr/bin/dpkg returned an error code (1)");
    check(&g, 8, KT_PKG_PURGE, "libbar", "0.1", NULL, NULL, "2024-12-01T10:05:00Z", true, 30);
    /* the entry before the malformed one is kept */
    check(&g, 9, KT_PKG_INSTALL, "good", "1.0", NULL, "amd64", "2024-12-02T08:00:00Z", true, 36);
    /* a block whose Start-Date is not a date: events without a time */
    check(&g, 10, KT_PKG_INSTALL, "nodate", "1.0", NULL, "amd64", NOTIME, false, 42);
    ck_assert_ptr_null(g.items[10].detail);
    static const char *const want[] = {
        "line 40: not a 'Field: value' line",
        "line 38: malformed package list entry at column 28",
        "line 42: malformed Start-Date",
    };
    check_warnings(&w, want, 3);
    gots_free(&g);
    kt_strlist_release(&w);
}
END_TEST

START_TEST(reads_apt_history_with_crlf)
{
    gots g = {0};
    kt_strlist w = {0};
    parse_testdata(APT, "linux/packages/apt-history-crlf.log", &g, &w);
    ck_assert_uint_eq(w.count, 0);
    ck_assert_uint_eq(g.count, 1);
    check(&g, 0, KT_PKG_INSTALL, "kesl", "12.1.0.1297", NULL, "amd64", "2024-10-15T12:00:00Z", true,
          1);
    ck_assert_str_eq(g.items[0].detail, "Commandline: apt-get install kesl");
    gots_free(&g);
    kt_strlist_release(&w);
}
END_TEST

/* ---- dnf and yum ---- */

START_TEST(splits_nevra_with_dashes_and_epochs)
{
    static const struct {
        const char *in, *name, *version, *arch;
    } ok[] = {
        {"kesl-12.1.0-1297.x86_64", "kesl", "12.1.0-1297", "x86_64"},
        {"kesl-gui-12.1.0-1297.x86_64", "kesl-gui", "12.1.0-1297", "x86_64"},
        {"python3-dateutil-1:2.8.1-7.el9.noarch", "python3-dateutil", "1:2.8.1-7.el9", "noarch"},
        {"1:openssl-1.0.2k-25.el7_9.x86_64", "openssl", "1:1.0.2k-25.el7_9", "x86_64"},
        {"kernel-core-5.14.0-427.13.1.el9_4.x86_64", "kernel-core", "5.14.0-427.13.1.el9_4",
         "x86_64"},
    };
    kt_buf out = {0};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        kt_nevra nv;
        ck_assert_msg(kt_rpm_split_nevra(ok[i].in, strlen(ok[i].in), &nv, &out) == 0, "%s",
                      ok[i].in);
        ck_assert_str_eq(nv.name, ok[i].name);
        ck_assert_str_eq(nv.version, ok[i].version);
        ck_assert_str_eq(nv.arch, ok[i].arch);
    }
    static const char *const bad[] = {
        "kesl",        "kesl-1.0",       "kesl-1.0-1",          "-1.0-1.x86_64",    "kesl-1.0-.x86",
        "kesl-1.0-1.", "a b-1-1.noarch", "1:kesl-2:1-1.noarch", "x:kesl-1-1.noarch"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kt_nevra nv;
        ck_assert_msg(kt_rpm_split_nevra(bad[i], strlen(bad[i]), &nv, &out) == KT_EFORMAT,
                      "accepted %s", bad[i]);
    }
    kt_buf_release(&out);
}
END_TEST

START_TEST(reads_dnf_rpm_log_pairing_upgrades)
{
    gots g = {0};
    kt_strlist w = {0};
    parse_testdata(DNF, "linux/packages/dnf.rpm.log", &g, &w);
    ck_assert_uint_eq(g.count, 9);
    check(&g, 0, KT_PKG_INSTALL, "kesl", "12.1.0-1297", NULL, "x86_64", "2024-10-15T17:00:05Z",
          false, 2);
    ck_assert_str_eq(g.items[0].detail,
                     "2024-10-15T17:00:05+0000 SUBDEBUG Installed: kesl-12.1.0-1297.x86_64");
    /* +0100: UTC is an hour earlier; the old version comes from "Upgraded" */
    check(&g, 1, KT_PKG_UPGRADE, "kesl", "12.2.0-2412", "12.1.0-1297", "x86_64",
          "2024-11-20T09:30:00Z", false, 4);
    check(&g, 2, KT_PKG_UPGRADE, "kesl-gui", "12.2.0-2412", "12.1.0-1297", "x86_64",
          "2024-11-20T09:30:01Z", false, 5);
    check(&g, 3, KT_PKG_DOWNGRADE, "kesl", "12.1.0-1297", "12.2.0-2412", "x86_64",
          "2024-11-21T09:30:00Z", false, 8);
    check(&g, 4, KT_PKG_REINSTALL, "kesl", "12.1.0-1297", "12.1.0-1297", "x86_64",
          "2024-11-22T09:30:00Z", false, 10);
    check(&g, 5, KT_PKG_REMOVE, "kesl", "12.1.0-1297", NULL, "x86_64", "2024-12-01T15:00:00Z",
          false, 12);
    check(&g, 6, KT_PKG_INSTALL, "openssl-libs", "1:3.0.7-27.el9", NULL, "x86_64",
          "2024-12-01T15:00:01Z", false, 13);
    /* the old side alone */
    check(&g, 7, KT_PKG_UPGRADE, "orphan", NULL, "1.0-1", "noarch", "2024-12-01T15:00:02Z", false,
          14);
    check(&g, 8, KT_PKG_REMOVE, "oldpkg", "0.1-1.el8", NULL, "noarch", "2024-12-02T08:00:00Z",
          false, 17);
    static const char *const want[] = {
        "line 15: 'notanevra' is not name-version-release.arch",
    };
    check_warnings(&w, want, 1);
    gots_free(&g);
    kt_strlist_release(&w);
}
END_TEST

START_TEST(reads_yum_log_across_new_year)
{
    gots g = {0};
    kt_strlist w = {0};
    parse_testdata(YUM, "linux/packages/yum.log", &g, &w); /* year hint 2025: the last line's */
    ck_assert_uint_eq(g.count, 5);
    check(&g, 0, KT_PKG_INSTALL, "kesl", "11.1.0-3013", NULL, "x86_64", "2024-11-30T10:00:00Z",
          true, 1);
    ck_assert_str_eq(g.items[0].detail, "Nov 30 10:00:00 Installed: kesl-11.1.0-3013.x86_64");
    check(&g, 1, KT_PKG_UPGRADE, "kesl", "12.0.0-6672", NULL, "x86_64", "2024-12-05T11:00:00Z",
          true, 2);
    check(&g, 2, KT_PKG_INSTALL, "openssl", "1:1.0.2k-25.el7_9", NULL, "x86_64",
          "2024-12-24T09:00:00Z", true, 3);
    check(&g, 3, KT_PKG_REMOVE, "kesl", NULL, NULL, NULL, "2025-01-10T12:00:05Z", true, 4);
    check(&g, 4, KT_PKG_REMOVE, "kesl-gui", "12.0.0-6672", NULL, "x86_64", "2025-01-11T12:00:05Z",
          true, 5);
    static const char *const want[] = {
        "line 6: 'broken' is not name-version-release.arch",
        "line 7: no 'Mon DD HH:MM:SS' time",
    };
    check_warnings(&w, want, 2);
    gots_free(&g);
    kt_strlist_release(&w);
}
END_TEST

/* ---- zypper history ---- */

START_TEST(reads_zypp_history_updates_as_zypper_writes_them)
{
    gots g = {0};
    kt_strlist w = {0};
    parse_testdata(ZYPP, "linux/packages/zypp-history", &g, &w);
    ck_assert_uint_eq(g.count, 10);
    check(&g, 0, KT_PKG_INSTALL, "kesl", "12.0.0-6672", NULL, "x86_64", "2024-08-05T09:12:40Z",
          true, 6);
    ck_assert_str_eq(g.items[0].detail,
                     "requested by root@web-07; repository _tmpRPMcache_; command: 'zypper' "
                     "'--non-interactive' 'install' '--allow-unsigned-rpm' "
                     "'./kesl-12.0.0-6672.x86_64.rpm' (by root@web-07)");
    check(&g, 1, KT_PKG_INSTALL, "perl-File-Copy-Recursive", "0.45-1.9", NULL, "noarch",
          "2024-08-05T09:12:41Z", true, 7);
    ck_assert_str_eq(g.items[1].detail,
                     "repository repo-oss; command: 'zypper' '--non-interactive' 'install' "
                     "'--allow-unsigned-rpm' './kesl-12.0.0-6672.x86_64.rpm' (by root@web-07)");
    /* zypper writes an update as an install: the edition the file showed
     * installed is the old one; '\|' and '\\' are escapes */
    check(&g, 2, KT_PKG_UPGRADE, "kesl", "12.1.0-1297", "12.0.0-6672", "x86_64",
          "2024-10-02T11:42:57Z", true, 10);
    ck_assert_str_eq(g.items[2].detail,
                     "requested by root@web-07; repository kaspersky|local; command: 'zypper' 'in' "
                     "'./kesl-12.1.0-1297.x86_64.rpm' 'with|pipe' 'back\\slash' (by root@web-07)");
    check(&g, 3, KT_PKG_REINSTALL, "kesl", "12.1.0-1297", "12.1.0-1297", "x86_64",
          "2024-10-03T08:00:00Z", true, 11);
    check(&g, 4, KT_PKG_DOWNGRADE, "kesl", "12.0.0-6672", "12.1.0-1297", "x86_64",
          "2024-10-04T08:00:00Z", true, 12);
    /* the patch and repository lines carry no package event */
    check(&g, 5, KT_PKG_REMOVE, "kesl", "12.0.0-6672", NULL, "x86_64", "2024-10-05T08:00:00Z", true,
          15);
    /* after a remove, an install is an install */
    check(&g, 6, KT_PKG_INSTALL, "kesl", "12.1.0-1297", NULL, "x86_64", "2024-10-05T08:00:01Z",
          true, 16);
    check(&g, 7, KT_PKG_INSTALL, "epoch-pkg", "1:2.0-1", NULL, "x86_64", "2024-10-06T08:00:01Z",
          true, 19);
    ck_assert_str_eq(g.items[7].detail, "command: 'zypper' 'in' './kesl-12.1.0-1297.x86_64.rpm' "
                                        "'with|pipe' 'back\\slash' (by root@web-07)");
    check(&g, 8, KT_PKG_UPGRADE, "epoch-pkg", "2:1.0-1", "1:2.0-1", "x86_64",
          "2024-10-07T08:00:00Z", true, 20);
    check(&g, 9, KT_PKG_REMOVE, "kesl-gui", "12.1.0-1297", NULL, "x86_64", "2024-10-08T08:00:00Z",
          true, 21);
    static const char *const want[] = {
        "line 14: not a 'YYYY-MM-DD HH:MM:SS|ACTION|...' line",
        "line 17: not a 'YYYY-MM-DD HH:MM:SS|ACTION|...' line",
        "line 18: 'install' line without NAME|EDITION|ARCH",
    };
    check_warnings(&w, want, 3);
    gots_free(&g);
    kt_strlist_release(&w);
}
END_TEST

START_TEST(reads_zypp_history_cut_short_or_with_crlf)
{
    char *path = path_join(testdata_dir(), "linux/packages/zypp-history");
    kt_buf b = {0}, crlf = {0};
    file_load(path, &b);
    /* every prefix parses without a crash, and never gives more events */
    for (size_t cut = 0; cut <= b.len; cut += 7) {
        kt_buf part = {.data = b.data, .len = cut};
        gots g = {0};
        kt_strlist w = {0};
        kt_error err = {0};
        int rc = parse(ZYPP, &part, &g, &w, &err);
        ck_assert_msg(rc == 0 || rc == KT_EFORMAT, "cut %zu: rc %d", cut, rc);
        ck_assert_uint_le(g.count, 10);
        gots_free(&g);
        kt_strlist_release(&w);
    }
    for (size_t i = 0; i < b.len; i++) {
        if (b.data[i] == '\n')
            ck_assert_int_eq(kt_buf_append(&crlf, "\r", 1), 0);
        ck_assert_int_eq(kt_buf_append(&crlf, &b.data[i], 1), 0);
    }
    gots g = {0};
    kt_strlist w = {0};
    kt_error err = {0};
    ck_assert_int_eq(parse(ZYPP, &crlf, &g, &w, &err), 0);
    ck_assert_uint_eq(g.count, 10);
    check(&g, 9, KT_PKG_REMOVE, "kesl-gui", "12.1.0-1297", NULL, "x86_64", "2024-10-08T08:00:00Z",
          true, 21);
    ck_assert_uint_eq(w.count, 3);
    gots_free(&g);
    kt_strlist_release(&w);
    kt_buf_release(&b);
    kt_buf_release(&crlf);
    free(path);
}
END_TEST

START_TEST(compares_rpm_versions_as_rpm)
{
    /* rpm's own rpmvercmp cases (tests/rpmvercmp.at), and epochs */
    static const struct {
        const char *a, *b;
        int want;
    } cases[] = {
        {"1.0", "1.0", 0},
        {"1.0", "2.0", -1},
        {"2.0.1", "2.0", 1},
        {"5.5p1", "5.5p2", -1},
        {"5.5p10", "5.5p1", 1},
        {"10xyz", "10.1xyz", -1},
        {"xyz10", "xyz10.1", -1},
        {"1.0aa", "1.0a", 1},
        {"010", "10", 0},
        {"1.0", "1.0a", -1},
        {"1a", "1", 1},
        {"2.0", "2_0", 0},
        {"a", "b", -1},
        {"1.0~rc1", "1.0", -1},
        {"1.0~rc1", "1.0~rc2", -1},
        {"1.0~rc1~git", "1.0~rc1", -1},
        {"1.0^", "1.0", 1},
        {"1.0^git1", "1.0.1", -1},
        {"1.0^git1", "1.0^git2", -1},
        {"1.0^20160101", "1.0~rc1", 1},
        {"12.1.0-1297", "12.0.0-6672", 1},
        {"12.1.0-1297", "12.1.0-1297", 0},
        {"1:1.0-1", "2.0-1", 1},
        {"0:2.0-1", "2.0-1", 0},
        {"2:1.0-1", "1:9.9-9", 1},
        {"1.0-10", "1.0-9", 1},
        {"1.0-1.el9", "1.0-1.el10", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int cmp = kt_rpm_version_cmp(cases[i].a, cases[i].b);
        int back = kt_rpm_version_cmp(cases[i].b, cases[i].a);
        ck_assert_msg(cmp == cases[i].want && back == -cases[i].want, "%s vs %s: %d / %d, want %d",
                      cases[i].a, cases[i].b, cmp, back, cases[i].want);
    }
}
END_TEST

/* ---- RPM databases ---- */

static char *tmpdir;

static void make_tmpdir(void)
{
    char tmpl[] = "/tmp/kt-packages-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    tmpdir = strdup(tmpl);
}

static void remove_tmpdir(void)
{
    kt_buf out = {0}, errout = {0};
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    run_capture(cmd, &out, &errout);
    kt_buf_release(&out);
    kt_buf_release(&errout);
    free(tmpdir);
    tmpdir = NULL;
}

/* Build a database of testdata/linux/rpmdb.tsv with kt-mkrpmdb. */
static void mkrpmdb(const char *format, const char *extra, kt_buf *db)
{
    const char *tool = getenv("KT_MKRPMDB");
    ck_assert_msg(tool && *tool, "KT_MKRPMDB is not set");
    char *spec = path_join(testdata_dir(), "linux/rpmdb.tsv");
    char *out = path_join(tmpdir, format);
    kt_buf cmd = {0}, o = {0}, e = {0};
    ck_assert_int_eq(kt_buf_printf(&cmd, "'%s' %s '%s' '%s' %s", tool, format, spec, out, extra),
                     0);
    int rc = run_capture((const char *)cmd.data, &o, &e);
    ck_assert_msg(rc == 0, "%s: %s", (const char *)cmd.data, (const char *)e.data);
    file_load(out, db);
    kt_buf_release(&cmd), kt_buf_release(&o), kt_buf_release(&e);
    free(spec), free(out);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const got *)a)->name, ((const got *)b)->name);
}

/* The events are exactly the spec's rows (in any order). */
static void check_rpmdb_rows(gots *g)
{
    tsv t;
    truth_load(&t, "linux/rpmdb.tsv");
    ck_assert_uint_eq(g->count, t.count);
    qsort(g->items, g->count, sizeof *g->items, by_name);
    size_t order[64];
    ck_assert_uint_le(t.count, 64);
    for (size_t i = 0; i < t.count; i++)
        order[i] = i;
    for (size_t i = 1; i < t.count; i++) /* the rows sorted by name too */
        for (size_t j = i; j > 0 && strcmp(t.rows[order[j - 1]].f[0], t.rows[order[j]].f[0]) > 0;
             j--) {
            size_t x = order[j];
            order[j] = order[j - 1];
            order[j - 1] = x;
        }
    for (size_t i = 0; i < t.count; i++) {
        const tsv_row *r = &t.rows[order[i]];
        const got *e = &g->items[i];
        char version[256];
        if (strcmp(r->f[1], "-") == 0)
            snprintf(version, sizeof version, "%s-%s", r->f[2], r->f[3]);
        else
            snprintf(version, sizeof version, "%s:%s-%s", r->f[1], r->f[2], r->f[3]);
        ck_assert_int_eq(e->action, KT_PKG_STATE);
        ck_assert_str_eq(e->name, r->f[0]);
        ck_assert_str_eq(e->version, version);
        if (strcmp(r->f[4], "-") == 0)
            ck_assert_ptr_null(e->arch);
        else
            ck_assert_pstr_eq(e->arch, r->f[4]);
        ck_assert(e->has_time && !e->local);
        ck_assert_int_eq(e->time, strtoll(r->f[5], NULL, 10) * KT_NS_PER_SEC);
        ck_assert_ptr_null(e->old);
        ck_assert_ptr_null(e->state);
        ck_assert_uint_ge(e->line, 1);
        ck_assert_uint_le(e->line, t.count);
        ck_assert(strncmp(e->detail, "hnum ", 5) == 0);
    }
    tsv_free(&t);
}

static void parse_rpmdb(const kt_buf *db, gots *g, kt_strlist *w, int want_rc)
{
    kt_error err = {0};
    int rc = parse(RPMDB, db, g, w, &err);
    ck_assert_msg(rc == want_rc, "rc %d (%s)", rc, err.msg);
}

START_TEST(reads_rpmdb_sqlite)
{
    make_tmpdir();
    kt_buf db = {0};
    mkrpmdb("sqlite", "", &db);
    gots g = {0};
    kt_strlist w = {0};
    parse_rpmdb(&db, &g, &w, 0);
    ck_assert_uint_eq(w.count, 0);
    /* in hnum order: the spec's first row is record 1 */
    ck_assert_str_eq(g.items[0].name, "kesl");
    ck_assert_uint_eq(g.items[0].line, 1);
    ck_assert_str_eq(g.items[0].detail, "hnum 1");
    check_rpmdb_rows(&g);
    gots_free(&g);

    /* WAL mode (Fedora's rpmdb.sqlite): read as the file alone */
    db.data[18] = db.data[19] = 2;
    parse_rpmdb(&db, &g, &w, 0);
    ck_assert_uint_eq(w.count, 0);
    check_rpmdb_rows(&g);
    gots_free(&g);

    g.stop_after = 3;
    parse_rpmdb(&db, &g, &w, 7);
    ck_assert_uint_eq(g.count, 3);
    gots_free(&g);
    kt_buf_release(&db);
    remove_tmpdir();
}
END_TEST

START_TEST(reads_rpmdb_berkeley_db_in_both_byte_orders)
{
    make_tmpdir();
    const char *extra[] = {"", "be"};
    for (int i = 0; i < 2; i++) {
        kt_buf db = {0};
        mkrpmdb("bdb", extra[i], &db);
        gots g = {0};
        kt_strlist w = {0};
        parse_rpmdb(&db, &g, &w, 0);
        ck_assert_msg(w.count == 0, "%s", w.count ? w.items[0] : "");
        check_rpmdb_rows(&g);
        gots_free(&g);
        kt_buf_release(&db);
    }
    remove_tmpdir();
}
END_TEST

START_TEST(reads_rpmdb_ndb)
{
    make_tmpdir();
    kt_buf db = {0};
    mkrpmdb("ndb", "", &db);
    gots g = {0};
    kt_strlist w = {0};
    parse_rpmdb(&db, &g, &w, 0);
    ck_assert_msg(w.count == 0, "%s", w.count ? w.items[0] : "");
    /* in package-index order: the spec's first row is package 1 */
    ck_assert_str_eq(g.items[0].name, "kesl");
    ck_assert_uint_eq(g.items[0].line, 1);
    ck_assert_str_eq(g.items[0].detail, "hnum 1");
    check_rpmdb_rows(&g);
    gots_free(&g);
    kt_buf_release(&db);
    remove_tmpdir();
}
END_TEST

static uint32_t le32at(const kt_buf *b, size_t off)
{
    ck_assert_uint_le(off + 4, b->len);
    const uint8_t *p = b->data + off;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void le32set(kt_buf *b, size_t off, uint32_t v)
{
    ck_assert_uint_le(off + 4, b->len);
    for (int i = 0; i < 4; i++)
        b->data[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

/* One damage to a copy of an ndb file: the events and the first warning. */
static void ndb_damaged(const kt_buf *db, void (*damage)(kt_buf *), size_t want_events,
                        const char *want_warning)
{
    kt_buf copy = {0};
    ck_assert_int_eq(kt_buf_append(&copy, db->data, db->len), 0);
    damage(&copy);
    gots g = {0};
    kt_strlist w = {0};
    parse_rpmdb(&copy, &g, &w, 0);
    ck_assert_msg(g.count == want_events, "%zu events, want %zu", g.count, want_events);
    ck_assert_msg(w.count >= 1 && strcmp(w.items[0], want_warning) == 0, "warning '%s', want '%s'",
                  w.count ? w.items[0] : "-", want_warning);
    gots_free(&g);
    kt_strlist_release(&w);
    kt_buf_release(&copy);
}

/* Slot 2 is package 1 (kesl); its blob starts at block 256 (after the
 * one slot page). */
static void flip_blob_byte(kt_buf *b)
{
    b->data[4096 + 40] ^= 1;
}

static void blob_elsewhere(kt_buf *b)
{
    le32set(b, 32 + 8, le32at(b, 32 + 8) + 1);
}

static void blob_past_end(kt_buf *b)
{
    le32set(b, 32 + 8, (uint32_t)(b->len / 16));
}

static void slot_marker_gone(kt_buf *b)
{
    b->data[48] = 'X';
}

static void slot_in_slot_pages(kt_buf *b)
{
    le32set(b, 32 + 8, 3);
}

static void same_package_twice(kt_buf *b)
{
    le32set(b, 48 + 4, 1);
}

static void blob_of_another_package(kt_buf *b)
{
    le32set(b, 4096 + 4, 9);
}

static void cut_in_the_slot_page(kt_buf *b)
{
    b->len = 2048;
}

START_TEST(reads_damaged_ndb_records_as_far_as_they_go)
{
    make_tmpdir();
    kt_buf db = {0};
    mkrpmdb("ndb", "", &db);
    ck_assert_uint_eq(le32at(&db, 12), 1); /* one slot page */
    ck_assert_uint_eq(le32at(&db, 32), 0x746f6c53u);
    ck_assert_uint_eq(le32at(&db, 40), 256); /* package 1's blob: block 256 */
    ck_assert_uint_eq(le32at(&db, 4096), 0x53626c42u);
    gots g = {0};
    kt_strlist w = {0};
    parse_rpmdb(&db, &g, &w, 0);
    size_t all = g.count;
    gots_free(&g);
    /* a damaged blob is read anyway, and said to be damaged */
    ndb_damaged(&db, flip_blob_byte, all,
                "record 1 (pkgidx 1): blob checksum does not match: read anyway");
    ndb_damaged(&db, blob_elsewhere, all - 1, "record 1 (pkgidx 1): no blob at block 257");
    char want[200];
    snprintf(want, sizeof want,
             "record 1 (pkgidx 1): blob of %u blocks at block %zu past the end of the file",
             le32at(&db, 44), db.len / 16);
    ndb_damaged(&db, blob_past_end, all - 1, want);
    ndb_damaged(&db, slot_marker_gone, all - 1, "1 slots without their marker: skipped");
    snprintf(want, sizeof want, "slot 2: package 1 at block 3 (%u blocks) is not a record",
             le32at(&db, 44));
    ndb_damaged(&db, slot_in_slot_pages, all - 1, want);
    ndb_damaged(&db, same_package_twice, all - 1, "slot 3: package 1 has a second slot: skipped");
    ndb_damaged(&db, blob_of_another_package, all - 1,
                "record 1 (pkgidx 1): the blob at block 256 is package 9's");
    ndb_damaged(&db, cut_in_the_slot_page, 0, "file holds 0 of 1 slot pages");
    /* the header itself: another version, no slot pages, too short */
    kt_buf bad = {0};
    ck_assert_int_eq(kt_buf_append(&bad, db.data, 64), 0);
    kt_error err = {0};
    le32set(&bad, 4, 1);
    ck_assert_int_eq(parse(RPMDB, &bad, &g, &w, &err), KT_EUNSUPPORTED);
    ck_assert_str_eq(err.msg, "rpm ndb database version 1");
    le32set(&bad, 4, 0);
    le32set(&bad, 12, 0);
    ck_assert_int_eq(parse(RPMDB, &bad, &g, &w, &err), KT_EFORMAT);
    ck_assert_str_eq(err.msg, "rpm ndb database without slot pages");
    bad.len = 20;
    ck_assert_int_eq(parse(RPMDB, &bad, &g, &w, &err), KT_EFORMAT);
    ck_assert_str_eq(err.msg, "rpm ndb database shorter than its header");
    ck_assert_uint_eq(g.count + w.count, 0);
    kt_buf_release(&bad);
    kt_buf_release(&db);
    remove_tmpdir();
}
END_TEST

START_TEST(survives_damaged_rpm_databases)
{
    make_tmpdir();
    const char *kinds[][2] = {{"sqlite", ""}, {"bdb", ""}, {"bdb", "be"}, {"ndb", ""}};
    for (size_t k = 0; k < 4; k++) {
        kt_buf db = {0};
        mkrpmdb(kinds[k][0], kinds[k][1], &db);
        /* cut short at every 4 KiB boundary and mid-page */
        for (size_t cut = 512; cut < db.len; cut += 1536) {
            kt_buf part = {.data = db.data, .len = cut};
            gots g = {0};
            kt_strlist w = {0};
            kt_error err = {0};
            int rc = parse(RPMDB, &part, &g, &w, &err);
            ck_assert_msg(rc == 0 || rc == KT_EFORMAT, "cut %zu: rc %d", cut, rc);
            ck_assert_uint_le(g.count, 8);
            ck_assert_uint_le(w.count, KT_PKG_MAX_WARNINGS + 1);
            gots_free(&g);
            kt_strlist_release(&w);
        }
        /* bit flips all over */
        for (size_t pos = 0; pos < db.len; pos += 97) {
            db.data[pos] ^= 0x5a;
            gots g = {0};
            kt_strlist w = {0};
            kt_error err = {0};
            int rc = parse(RPMDB, &db, &g, &w, &err);
            ck_assert_msg(rc == 0 || rc == KT_EFORMAT || rc == KT_EUNSUPPORTED, "flip %zu: rc %d",
                          pos, rc);
            ck_assert_uint_le(g.count, 8);
            gots_free(&g);
            kt_strlist_release(&w);
            db.data[pos] ^= 0x5a;
        }
        kt_buf_release(&db);
    }
    remove_tmpdir();
}
END_TEST

static void be32put(kt_buf *b, uint32_t v)
{
    uint8_t p[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    ck_assert_int_eq(kt_buf_append(b, p, 4), 0);
}

/* A header blob: NAME "a" at 0, VERSION "1" at 2, INSTALLTIME 5 at 4,
 * with one field replaced for the corrupt cases. */
static void blob(kt_buf *b, uint32_t il, uint32_t dl, uint32_t name_type, uint32_t name_off)
{
    b->len = 0;
    be32put(b, il);
    be32put(b, dl);
    uint32_t e[3][4] = {{1000, name_type, name_off, 1}, {1001, 6, 2, 1}, {1008, 4, 4, 1}};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            be32put(b, e[i][j]);
    ck_assert_int_eq(kt_buf_append(b,
                                   "a\0"
                                   "1\0"
                                   "\0\0\0\5",
                                   8),
                     0);
}

START_TEST(reads_rpm_header_blobs_with_bounds_checks)
{
    kt_buf b = {0}, scratch = {0};
    kt_pkg_event e;
    kt_error err = {0};
    blob(&b, 3, 8, 6, 0);
    ck_assert_int_eq(kt_rpm_header_read(b.data, b.len, &e, &scratch, &err), 0);
    ck_assert_str_eq(e.name, "a");
    ck_assert_str_eq(e.version, "1");
    ck_assert_ptr_null(e.arch);
    ck_assert_int_eq(e.time, 5 * KT_NS_PER_SEC);
    static const struct {
        uint32_t il, dl, type, off;
        size_t cut;
        const char *msg;
    } bad[] = {
        {0, 8, 6, 0, 0, "header with 0 index entries"},
        {70000, 8, 6, 0, 0, "header with 70000 index entries"},
        {3, 9, 6, 0, 0, "header of 3 entries and 9 data bytes does not fit in 64 bytes"},
        {3, 8, 4, 0, 0, "name: type 4 is not a string"},
        {3, 8, 6, 8, 0, "name: offset 8 outside the data store of 8 bytes"},
        {3, 8, 6, 4, 0, "name: string not terminated within the data store"},
        {3, 8, 6, 0, 60, "header of 3 entries and 8 data bytes does not fit in 60 bytes"},
        {3, 8, 6, 0, 7, "header of 7 bytes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        blob(&b, bad[i].il, bad[i].dl, bad[i].type, bad[i].off);
        if (bad[i].off == 4) /* INSTALLTIME's bytes as a string: "\0\0\0\5" has a NUL... */
            b.data[b.len - 4] = 'x', b.data[b.len - 3] = 'y', b.data[b.len - 2] = 'z';
        size_t len = bad[i].cut ? bad[i].cut : b.len;
        ck_assert_int_eq(kt_rpm_header_read(b.data, len, &e, &scratch, &err), KT_EFORMAT);
        ck_assert_str_eq(err.msg, bad[i].msg);
    }
    kt_buf_release(&b);
    kt_buf_release(&scratch);
}
END_TEST

START_TEST(names_unsupported_rpm_databases)
{
    kt_buf b = {0};
    gots g = {0};
    kt_strlist w = {0};
    kt_error err = {0};
    /* a Berkeley DB btree: one of rpm's indexes, not Packages */
    static const uint8_t btree[16] = {[12] = 0x62, [13] = 0x31, [14] = 0x05, [15] = 0x00};
    ck_assert_int_eq(kt_buf_append(&b, btree, sizeof btree), 0);
    ck_assert_int_eq(parse(RPMDB, &b, &g, &w, &err), KT_EFORMAT);
    ck_assert_str_eq(err.msg, "Berkeley DB btree database: an rpm index, not the Packages file");
    /* an SQLite database without a Packages table */
    sqlite3 *sq = NULL;
    ck_assert_int_eq(sqlite3_open(":memory:", &sq), SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_exec(sq, "CREATE TABLE t(x); INSERT INTO t VALUES (1)", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_int64 size = 0;
    unsigned char *bytes = sqlite3_serialize(sq, "main", &size, 0);
    ck_assert_ptr_nonnull(bytes);
    kt_buf db = {0};
    ck_assert_int_eq(kt_buf_append(&db, bytes, (size_t)size), 0);
    sqlite3_free(bytes);
    sqlite3_close(sq);
    ck_assert_int_eq(parse(RPMDB, &db, &g, &w, &err), KT_EFORMAT);
    ck_assert_str_eq(err.msg, "not an rpm database: no such table: Packages");
    ck_assert_uint_eq(g.count + w.count, 0);
    kt_buf_release(&db);
    kt_buf_release(&b);
}
END_TEST

/* ---- gzip ---- */

START_TEST(gunzips_multi_member_files)
{
    kt_buf gz = {0}, want = {0}, out = {0};
    char *p = path_join(testdata_dir(), "linux/packages/dpkg.log.multi.gz");
    char *q = path_join(testdata_dir(), "linux/packages/dpkg.log");
    file_load(p, &gz);
    file_load(q, &want);
    kt_error err = {0};
    ck_assert_int_eq(kt_gunzip(gz.data, gz.len, 0, &out, &err), 0);
    ck_assert_uint_eq(out.len, want.len);
    ck_assert_mem_eq(out.data, want.data, want.len);
    /* and the result parses like the plain log */
    gots g = {0};
    kt_strlist w = {0};
    ck_assert_int_eq(parse(DPKG_LOG, &out, &g, &w, &err), 0);
    check_dpkg_log_events(&g);
    ck_assert_uint_eq(w.count, 3);
    gots_free(&g);
    kt_strlist_release(&w);
    /* zero padding after the last member is not an error */
    ck_assert_int_eq(kt_buf_append(&gz, "\0\0\0\0", 4), 0);
    out.len = 0;
    ck_assert_int_eq(kt_gunzip(gz.data, gz.len, 0, &out, &err), 0);
    ck_assert_uint_eq(out.len, want.len);
    /* other bytes after it are */
    ck_assert_int_eq(kt_buf_append(&gz, "junk", 4), 0);
    out.len = 0;
    ck_assert_int_eq(kt_gunzip(gz.data, gz.len, 0, &out, &err), KT_EFORMAT);
    ck_assert_str_eq(err.msg, "gzip: 8 bytes of other data after member 2");
    ck_assert_uint_eq(out.len, want.len);
    /* over the limit: an error, and exactly the limit's bytes kept */
    out.len = 0;
    ck_assert_int_eq(kt_gunzip(gz.data, gz.len, 100, &out, &err), KT_ELIMIT);
    ck_assert_str_eq(err.msg, "gzip: more than 100 bytes decompressed");
    ck_assert_uint_eq(out.len, 100);
    ck_assert_mem_eq(out.data, want.data, 100);
    kt_buf_release(&gz), kt_buf_release(&want), kt_buf_release(&out);
    free(p), free(q);
}
END_TEST

START_TEST(gunzip_keeps_what_decompressed_before_truncation)
{
    kt_buf gz = {0}, want = {0}, out = {0};
    char *p = path_join(testdata_dir(), "linux/packages/dpkg.log.truncated.gz");
    char *q = path_join(testdata_dir(), "linux/packages/dpkg.log");
    file_load(p, &gz);
    file_load(q, &want);
    kt_error err = {0};
    ck_assert_int_eq(kt_gunzip(gz.data, gz.len, 0, &out, &err), KT_EFORMAT);
    ck_assert(strncmp(err.msg, "gzip: truncated in member 1 after ", 34) == 0);
    ck_assert_uint_gt(out.len, 0);
    ck_assert_uint_lt(out.len, want.len);
    ck_assert_mem_eq(out.data, want.data, out.len);
    kt_buf_release(&out);
    ck_assert_int_eq(kt_gunzip((const uint8_t *)"plain", 5, 0, &out, &err), KT_EFORMAT);
    ck_assert_str_eq(err.msg, "not a gzip file");
    ck_assert_int_eq(kt_gunzip(gz.data, 0, 0, &out, &err), KT_EFORMAT);
    kt_buf_release(&gz), kt_buf_release(&want), kt_buf_release(&out);
    free(p), free(q);
}
END_TEST

/* ---- xz ---- */

START_TEST(unxzs_concatenated_streams)
{
    /* two streams (xz -9e with CRC64, xz -6 with CRC32) with the four zero
     * bytes of stream padding between them: the zypper history whole */
    kt_buf xz = {0}, want = {0}, out = {0};
    char *p = path_join(testdata_dir(), "linux/packages/zypp-history.multi.xz");
    char *q = path_join(testdata_dir(), "linux/packages/zypp-history");
    file_load(p, &xz);
    file_load(q, &want);
    kt_error err = {0};
    ck_assert_msg(kt_unxz(xz.data, xz.len, 0, &out, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(out.len, want.len);
    ck_assert_mem_eq(out.data, want.data, want.len);
    /* and it parses as the plain history does */
    gots g = {0};
    kt_strlist w = {0};
    ck_assert_int_eq(parse(ZYPP, &out, &g, &w, &err), 0);
    ck_assert_uint_eq(g.count, 10);
    check(&g, 2, KT_PKG_UPGRADE, "kesl", "12.1.0-1297", "12.0.0-6672", "x86_64",
          "2024-10-02T11:42:57Z", true, 10);
    gots_free(&g);
    kt_strlist_release(&w);
    /* bytes after the last stream that are not padding are an error */
    ck_assert_int_eq(kt_buf_append(&xz, "junk", 4), 0);
    out.len = 0;
    ck_assert_int_eq(kt_unxz(xz.data, xz.len, 0, &out, &err), KT_EFORMAT);
    ck_assert_uint_eq(out.len, want.len);
    /* over the limit: an error, and exactly the limit's bytes kept */
    out.len = 0;
    ck_assert_int_eq(kt_unxz(xz.data, xz.len, 100, &out, &err), KT_ELIMIT);
    ck_assert_str_eq(err.msg, "xz: more than 100 bytes decompressed");
    ck_assert_uint_eq(out.len, 100);
    ck_assert_mem_eq(out.data, want.data, 100);
    kt_buf_release(&xz), kt_buf_release(&want), kt_buf_release(&out);
    free(p), free(q);
}
END_TEST

START_TEST(unxz_keeps_what_decompressed_before_truncation)
{
    /* the first 300 bytes of xz -9's output: 410 bytes decompress */
    kt_buf xz = {0}, want = {0}, out = {0};
    char *p = path_join(testdata_dir(), "linux/packages/zypp-history.truncated.xz");
    char *q = path_join(testdata_dir(), "linux/packages/zypp-history");
    file_load(p, &xz);
    file_load(q, &want);
    kt_error err = {0};
    ck_assert_int_eq(kt_unxz(xz.data, xz.len, 0, &out, &err), KT_EFORMAT);
    ck_assert(strncmp(err.msg, "xz: truncated after ", 20) == 0);
    ck_assert_uint_gt(out.len, 0);
    ck_assert_uint_lt(out.len, want.len);
    ck_assert_mem_eq(out.data, want.data, out.len);
    kt_buf_release(&out);
    /* a flipped byte inside the compressed data is corrupt data */
    xz.data[120] ^= 0x55;
    ck_assert_int_eq(kt_unxz(xz.data, xz.len, 0, &out, &err), KT_EFORMAT);
    kt_buf_release(&out);
    ck_assert_int_eq(kt_unxz((const uint8_t *)"plain text", 10, 0, &out, &err), KT_EFORMAT);
    ck_assert_str_eq(err.msg, "not an xz file");
    ck_assert_int_eq(kt_unxz(xz.data, 3, 0, &out, &err), KT_EFORMAT);
    ck_assert_str_eq(err.msg, "not an xz file");
    /* the header alone: truncated, nothing out */
    ck_assert_int_eq(kt_unxz(xz.data, 12, 0, &out, &err), KT_EFORMAT);
    ck_assert_uint_eq(out.len, 0);
    kt_buf_release(&xz), kt_buf_release(&want), kt_buf_release(&out);
    free(p), free(q);
}
END_TEST

START_TEST(numbers_longer_than_an_int_are_refused_not_overflowed)
{
    /* fuzz/fuzz_packages: a dnf line whose epoch ran past INT_MAX made the
     * digit reader overflow (UBSan). */
    char *path = path_join(testdata_dir(), "linux/packages/fuzz-dnf-long-number.log");
    kt_buf b = {0};
    file_load(path, &b);
    kt_strlist w = {0};
    kt_error err = {0};
    gots g = {0};
    int rc = kt_pkg_parse_dnf_log(b.data, b.len, collect, &g, &w, &err);
    ck_assert_msg(rc == 0 || rc == KT_EFORMAT, "%d %s", rc, err.msg);
    /* The line with the impossible epoch is no event with a bogus version. */
    for (size_t i = 0; i < g.count; i++)
        ck_assert_msg(g.items[i].version == NULL || strstr(g.items[i].version, "333333") == NULL,
                      "%s", g.items[i].version);
    gots_free(&g);
    kt_strlist_release(&w);
    kt_buf_release(&b);
    free(path);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("packages");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, compares_debian_versions_as_dpkg);
    tcase_add_test(tc, reads_real_dpkg_status);
    tcase_add_test(tc, reads_dpkg_status_stanzas_and_warns_on_bad_lines);
    tcase_add_test(tc, reads_real_dpkg_log);
    tcase_add_test(tc, reads_every_dpkg_log_action);
    tcase_add_test(tc, reads_dpkg_log_with_crlf_and_no_final_newline);
    tcase_add_test(tc, caps_warnings_per_file);
    tcase_add_test(tc, stops_when_the_callback_asks);
    tcase_add_test(tc, empty_files_give_no_events);
    tcase_add_test(tc, rejects_files_of_another_format_without_warnings);
    tcase_add_test(tc, reads_real_apt_history);
    tcase_add_test(tc, reads_every_apt_history_list);
    tcase_add_test(tc, reads_apt_history_with_crlf);
    tcase_add_test(tc, splits_nevra_with_dashes_and_epochs);
    tcase_add_test(tc, reads_dnf_rpm_log_pairing_upgrades);
    tcase_add_test(tc, reads_yum_log_across_new_year);
    tcase_add_test(tc, reads_zypp_history_updates_as_zypper_writes_them);
    tcase_add_test(tc, reads_zypp_history_cut_short_or_with_crlf);
    tcase_add_test(tc, compares_rpm_versions_as_rpm);
    tcase_add_test(tc, reads_rpmdb_sqlite);
    tcase_add_test(tc, reads_rpmdb_berkeley_db_in_both_byte_orders);
    tcase_add_test(tc, reads_rpmdb_ndb);
    tcase_add_test(tc, reads_damaged_ndb_records_as_far_as_they_go);
    tcase_add_test(tc, survives_damaged_rpm_databases);
    tcase_add_test(tc, reads_rpm_header_blobs_with_bounds_checks);
    tcase_add_test(tc, names_unsupported_rpm_databases);
    tcase_add_test(tc, gunzips_multi_member_files);
    tcase_add_test(tc, gunzip_keeps_what_decompressed_before_truncation);
    tcase_add_test(tc, unxzs_concatenated_streams);
    tcase_add_test(tc, unxz_keeps_what_decompressed_before_truncation);
    tcase_add_test(tc, numbers_longer_than_an_int_are_refused_not_overflowed);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
