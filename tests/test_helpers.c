/* Helpers cannot hang a scan (src/parsers/reader.c, kavtrace/helper.h).
 *
 * A scan of a small tree whose event logs and prefetch files tell a
 * stand-in helper (tests/fake-helper.c, in place of kavtrace-evtx and
 * kavtrace-prefetch through $KAVTRACE_*_READER) how to misbehave: sleep,
 * flood, write an over-long line, end without its end line, write
 * unknown kinds, leave a grandchild holding its output, run out of
 * memory, crash. Each file gets its warning, naming it and the reason;
 * the files after it are read; the scan finishes; no process, child or
 * descriptor is left. Nothing here measures a duration: the bound on time
 * is the suite's own ctest TIMEOUT. */
#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kavtrace/helper.h"
#include "kavtrace/scan.h"
#include "testutil.h"

/* The limits of the scans here: a small deadline (a sleeping helper costs
 * it and the SIGTERM grace), none per MiB (so the messages are exact),
 * 64 MiB of memory. */
#define TIMEOUT 3.0
#define MEMORY ((uint64_t)64 << 20)

static const char *fake(void)
{
    const char *p = getenv("KT_FAKE_HELPER");
    ck_assert_msg(p && p[0], "KT_FAKE_HELPER is not set");
    return p;
}

/* What a file of each mode gives: the reason of its helper warning, and
 * whether its event log's record stands (a prefetch result is whole or
 * nothing). */
typedef enum reason {
    FINE,
    TIME,
    LINES,
    BYTES,
    LONG_LINE,
    NO_END,
    UNKNOWN,
    LEFT_BEHIND,
    MEMORY_EXIT,
    SEGV,
} reason;

static const struct {
    const char *mode;
    size_t size; /* the file's size, when more than its mode needs */
    reason why;
    bool record_stands;
} modes[] = {
    {"ok", 0, FINE, true},
    {"sleep", 0, TIME, true},
    {"flood", 0, LINES, false},
    {"bytes", 0, BYTES, false},
    /* large enough that its output limit is over the longest line's */
    {"long-line", 1 << 20, LONG_LINE, true},
    {"no-end", 0, NO_END, true},
    {"unknown", 0, UNKNOWN, true},
    {"orphan", 0, LEFT_BEHIND, true},
    {"memory", 0, MEMORY_EXIT, false},
    {"segv", 0, SEGV, true},
};
#define NMODES (sizeof modes / sizeof modes[0])

static void put(const char *root, const char *rel, const void *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* The file for mode i: its signature, the mode and a newline, zeros up to
 * its size; its size. */
static size_t make_file(const char *root, size_t i, bool evtx)
{
    size_t len = 8 + strlen(modes[i].mode) + 1;
    if (modes[i].size > len)
        len = modes[i].size;
    char *b = calloc(1, len);
    ck_assert_ptr_nonnull(b);
    memcpy(b, evtx ? "ElfFile\0" : "\0\0\0\0SCCA", 8);
    memcpy(b + 8, modes[i].mode, strlen(modes[i].mode));
    b[8 + strlen(modes[i].mode)] = '\n';
    char rel[128];
    snprintf(rel, sizeof rel, evtx ? "logs/%s.evtx" : "pf/%s.pf", modes[i].mode);
    put(root, rel, b, len);
    free(b);
    return len;
}

typedef struct tree {
    char root[64], defs[64];
    size_t len[NMODES][2]; /* [mode][evtx, prefetch] */
} tree;

static const char defs_yaml[] =
    "vendor: tv\n"
    "products:\n"
    "  - {id: tv-agent, name: TV Agent, match: ['tvagent*']}\n"
    "artifacts:\n"
    "  - id: t.evtx\n"
    "    description: a record of the fake provider\n"
    "    os: linux\n"
    "    category: execution\n"
    "    evtx: {paths: ['logs/*.evtx'], providers: [FakeProvider], events: [1]}\n"
    "  - id: t.prefetch\n"
    "    description: a prefetch file\n"
    "    os: linux\n"
    "    category: execution\n"
    "    prefetch: {paths: ['pf/*.pf']}\n";

/* the milestones the command line wants of a definitions set */
static const char milestones_yaml[] = "milestones:\n"
                                      "  - {id: sales_ban, time: '2024-07-20T04:00:00Z'}\n"
                                      "  - {id: cutoff, time: '2024-09-29T04:00:00Z'}\n";

static void defs_make(const char *dir)
{
    put(dir, "test.yaml", defs_yaml, strlen(defs_yaml));
    put(dir, "milestones.yaml", milestones_yaml, strlen(milestones_yaml));
}

static void tree_make(tree *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->root, sizeof t->root, "/tmp/kt-helpers-XXXXXX");
    snprintf(t->defs, sizeof t->defs, "/tmp/kt-helpers-defs-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(t->root));
    ck_assert_ptr_nonnull(mkdtemp(t->defs));
    defs_make(t->defs);
    put(t->root, "etc/os-release", "NAME=\"Debian GNU/Linux\"\n", 24);
    for (size_t i = 0; i < NMODES; i++)
        for (int k = 0; k < 2; k++)
            t->len[i][k] = make_file(t->root, i, k == 0);
    setenv("KAVTRACE_EVTX_READER", fake(), 1);
    setenv("KAVTRACE_PREFETCH_READER", fake(), 1);
}

static void tree_remove(tree *t)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", t->root, t->defs);
    ck_assert_int_eq(system(cmd), 0);
}

static size_t open_fds(void)
{
    size_t n = 0;
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* The one diagnostic with this code and path; NULL when there is none. */
static const kt_diag *diag_of(const kt_scan *s, const char *code, const char *path)
{
    const kt_diag *found = NULL;
    for (size_t i = 0; i < s->warnings.count; i++) {
        const kt_diag *d = &s->warnings.items[i];
        if (strcmp(d->code, code) != 0 || d->path == NULL || strcmp(d->path, path) != 0)
            continue;
        ck_assert_msg(found == NULL, "two '%s' warnings for '%s'", code, path);
        found = d;
    }
    return found;
}

static size_t events_of(const kt_scan *s, const char *path)
{
    size_t n = 0;
    for (size_t i = 0; i < s->tl.count; i++)
        n += s->tl.items[i].path && strcmp(s->tl.items[i].path, path) == 0;
    return n;
}

/* The message mode i's file of len bytes must get ("" for none), after
 * the helper's path. */
static void expected(size_t i, bool evtx, size_t len, char *out, size_t outlen)
{
    kt_helper_limits lim = {.timeout = TIMEOUT, .memory = MEMORY};
    kt_helper_budget b;
    kt_helper_budget_for(&lim, len, &b);
    const char *part = evtx ? ": the log may have been read only in part" : "";
    char msg[512];
    switch (modes[i].why) {
    case FINE:
        out[0] = '\0';
        return;
    case TIME:
        snprintf(msg, sizeof msg,
                 "was killed: still running after 3.0 s, its time limit for %zu bytes of input "
                 "(--helper-timeout)",
                 len);
        break;
    case LINES:
        snprintf(msg, sizeof msg,
                 "was killed: over %llu lines of output, its limit for %zu bytes of input",
                 (unsigned long long)b.output_lines, len);
        break;
    case BYTES:
        snprintf(msg, sizeof msg,
                 "was killed: over %llu bytes of output, its limit for %zu bytes of input",
                 (unsigned long long)b.output_bytes, len);
        break;
    case LONG_LINE:
        snprintf(msg, sizeof msg, "was killed: a line of output over 4194304 bytes");
        break;
    case NO_END:
        snprintf(msg, sizeof msg, "ended without its end line%s", part);
        break;
    case UNKNOWN:
        /* after the record (5 lines) or the first part of a result (3) */
        snprintf(msg, sizeof msg,
                 "wrote 2 malformed lines (the first: line %d, unknown kind 'Q')%s", evtx ? 6 : 4,
                 part);
        break;
    case LEFT_BEHIND:
        snprintf(msg, sizeof msg,
                 "was killed: it exited, but a process it started still held its output open");
        break;
    case MEMORY_EXIT:
        snprintf(msg, sizeof msg, "exited with status 1 (under a memory limit of 64 MiB)");
        break;
    case SEGV:
        snprintf(msg, sizeof msg,
                 "killed by signal 11 (Segmentation fault) (under a memory limit of 64 MiB)");
        break;
    }
    snprintf(out, outlen, "'%s' %s", fake(), msg);
}

/* A process that was the grandchild in this warning's text is gone (or a
 * zombie, waiting for init). */
static void grandchild_gone(const kt_diag *d)
{
    int pid = 0;
    ck_assert_msg(d && sscanf(d->message, "grandchild %d", &pid) == 1 && pid > 0, "%s",
                  d ? d->message : "no grandchild warning");
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    /* SIGKILL was sent before the scan went on; the kernel may take a
     * moment to carry it out. The suite's TIMEOUT bounds this loop. */
    for (;;) {
        FILE *f = fopen(path, "r");
        if (f == NULL)
            return;
        char state = 0;
        int ok = fscanf(f, "%*d (%*[^)]) %c", &state);
        fclose(f);
        if (ok == 1 && (state == 'Z' || state == 'X'))
            return;
        usleep(10000);
    }
}

START_TEST(each_misbehaving_helper_is_a_warning_and_the_scan_goes_on)
{
    tree t;
    tree_make(&t);
    kt_artifact_set set = {0};
    kt_strlist problems = {0};
    kt_error err = {0};
    ck_assert_msg(kt_artifacts_load(t.defs, &set, &problems, &err) == 0, "%s: %s", err.msg,
                  problems.count ? problems.items[0] : "");
    kt_helper_limits lim = {.timeout = TIMEOUT, .memory = MEMORY};
    kt_helper_limits_set(&lim);
    size_t fds = open_fds();

    kt_scan s = {0};
    ck_assert_msg(kt_scan_run(&set, t.root, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    kt_helper_limits_set(NULL);

    for (size_t i = 0; i < NMODES; i++) {
        for (int k = 0; k < 2; k++) {
            bool evtx = k == 0;
            char path[128], want[1024];
            snprintf(path, sizeof path, evtx ? "logs/%s.evtx" : "pf/%s.pf", modes[i].mode);
            expected(i, evtx, t.len[i][k], want, sizeof want);
            const kt_diag *d = diag_of(&s, evtx ? "evtx.helper" : "prefetch.helper", path);
            if (want[0] == '\0') {
                ck_assert_msg(d == NULL, "%s: %s", path, d ? d->message : "");
            } else {
                ck_assert_msg(d != NULL, "%s: no warning", path);
                ck_assert_int_eq(d->severity, KT_SEV_WARNING);
                ck_assert_str_eq(d->message, want);
            }
            /* An event log's records read before the failure stand; a
             * prefetch result is whole or nothing. */
            size_t want_events = evtx ? modes[i].record_stands : strcmp(modes[i].mode, "ok") == 0;
            ck_assert_msg(events_of(&s, path) == want_events, "%s: %zu events", path,
                          events_of(&s, path));
        }
    }
    /* the helper's own words stand beside the failure */
    const kt_diag *d = diag_of(&s, "evtx", "logs/memory.evtx");
    int mib = -1;
    ck_assert_msg(d && sscanf(d->message, "allocation failed after %d MiB", &mib) == 1, "%s",
                  d ? d->message : "no warning");
    ck_assert_int_lt(mib, 64);
    /* a flood of warnings is cut short */
    size_t flood = 0;
    for (size_t i = 0; i < s.warnings.count; i++)
        flood += strcmp(s.warnings.items[i].path ? s.warnings.items[i].path : "",
                        "logs/flood.evtx") == 0;
    /* the 200 kept are one sentence repeated, which a collector gives once;
     * then "N more" and the helper warning */
    ck_assert_uint_eq(flood, 1 + 1 + 1);
    grandchild_gone(diag_of(&s, "evtx", "logs/orphan.evtx"));
    grandchild_gone(diag_of(&s, "prefetch", "pf/orphan.pf"));

    /* everything reaped and closed */
    ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
    ck_assert_int_eq(errno, ECHILD);
    kt_scan_release(&s);
    ck_assert_uint_eq(open_fds(), fds);

    kt_artifact_set_release(&set);
    kt_strlist_release(&problems);
    tree_remove(&t);
}
END_TEST

START_TEST(the_scan_options_set_the_limits)
{
    tree t;
    tree_make(&t);
    char out[64];
    snprintf(out, sizeof out, "%s/out", t.defs);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "'%s' scan -q -a '%s' -o '%s' --helper-timeout 2.5 --helper-memory 48 '%s'",
             kavtrace_bin(), t.defs, out, t.root);
    kt_buf so = {0}, se = {0};
    ck_assert_int_eq(run_capture(cmd, &so, &se), 0);
    char *log = path_join(out, "scan.log");
    kt_buf b = {0};
    file_load(log, &b);
    const char *text = (const char *)b.data;
    char want[1024];
    snprintf(want, sizeof want,
             "WARNING volume 0: 'logs/sleep.evtx': '%s' was killed: still running after 2.5 s, "
             "its time limit for %zu bytes of input (--helper-timeout)\n",
             fake(), t.len[1][0]);
    ck_assert_msg(strstr(text, want), "no '%s' in:\n%s", want, text);
    snprintf(want, sizeof want,
             "WARNING volume 0: 'pf/segv.pf': '%s' killed by signal 11 (Segmentation fault) "
             "(under a memory limit of 48 MiB)\n",
             fake());
    ck_assert_msg(strstr(text, want), "no '%s' in:\n%s", want, text);
    kt_buf_release(&b);
    free(log);

    /* the files after the failures were read */
    char *csv = path_join(out, "timeline.csv");
    file_load(csv, &b);
    ck_assert_ptr_nonnull(strstr((const char *)b.data, "logs/ok.evtx"));
    ck_assert_ptr_nonnull(strstr((const char *)b.data, "pf/ok.pf"));
    kt_buf_release(&b);
    free(csv);
    kt_buf_release(&so);
    kt_buf_release(&se);
    tree_remove(&t);
}
END_TEST

START_TEST(a_helper_in_the_background_of_a_terminal_may_write_to_it)
{
    /* kavtrace in the foreground of a terminal with `stty tostop` (by
     * script(1), on a terminal of its own): the helper, in a process group
     * of its own, writes to its standard error, the terminal, and must not
     * be stopped for it (SIGTTOU). */
    tree t;
    memset(&t, 0, sizeof t);
    snprintf(t.root, sizeof t.root, "/tmp/kt-helpers-XXXXXX");
    snprintf(t.defs, sizeof t.defs, "/tmp/kt-helpers-defs-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(t.root));
    ck_assert_ptr_nonnull(mkdtemp(t.defs));
    defs_make(t.defs);
    put(t.root, "etc/os-release", "NAME=\"Debian GNU/Linux\"\n", 24);
    put(t.root, "logs/stderr.evtx", "ElfFile\0stderr\n", 15);
    setenv("KAVTRACE_EVTX_READER", fake(), 1);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "script -qec \"stty tostop; '%s' scan -q -a '%s' -o '%s/out' --helper-timeout %g "
             "'%s'\" /dev/null",
             kavtrace_bin(), t.defs, t.defs, TIMEOUT, t.root);
    kt_buf so = {0};
    ck_assert_int_eq(run_capture(cmd, &so, NULL), 0);
    char log[128];
    snprintf(log, sizeof log, "%s/out/scan.log", t.defs);
    kt_buf b = {0};
    file_load(log, &b);
    ck_assert_msg(strstr((const char *)b.data, "'logs/stderr.evtx'") == NULL, "%s", b.data);
    ck_assert_msg(strstr((const char *)b.data, "events 1,"), "%s", b.data);
    kt_buf_release(&b);
    /* what it wrote reached the terminal */
    const char *term = so.data ? (const char *)so.data : "";
    ck_assert_msg(strstr(term, "a word on standard error"), "terminal: '%s'", term);
    kt_buf_release(&so);
    tree_remove(&t);
}
END_TEST

START_TEST(bad_option_values_are_usage_errors)
{
    static const char *bad[] = {
        "--helper-timeout 0",   "--helper-timeout -1",      "--helper-timeout x",
        "--helper-timeout 1e9", "--helper-timeout nan",     "--helper-memory -1",
        "--helper-memory 1.5",  "--helper-memory 99999999", "--helper-memory ''",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "'%s' scan %s /nonexistent", kavtrace_bin(), bad[i]);
        kt_buf so = {0}, se = {0};
        ck_assert_msg(run_capture(cmd, &so, &se) == 2, "%s", bad[i]);
        ck_assert_msg(strstr((const char *)se.data, "--helper-"), "%s: %s", bad[i], se.data);
        kt_buf_release(&so);
        kt_buf_release(&se);
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' scan --help", kavtrace_bin());
    kt_buf so = {0};
    ck_assert_int_eq(run_capture(cmd, &so, NULL), 0);
    ck_assert_ptr_nonnull(strstr((const char *)so.data, "--helper-timeout SECONDS"));
    ck_assert_ptr_nonnull(strstr((const char *)so.data, "--helper-memory MIB"));
    kt_buf_release(&so);
}
END_TEST

START_TEST(the_budget_grows_with_the_file)
{
    kt_helper_limits d;
    kt_helper_limits_default(&d);
    ck_assert(d.timeout == KT_HELPER_TIMEOUT);
    ck_assert(d.timeout_per_mib == KT_HELPER_TIMEOUT_PER_MIB);

    kt_helper_limits l = {.timeout = 30, .timeout_per_mib = 1, .memory = (uint64_t)1 << 30};
    kt_helper_budget b;
    kt_helper_budget_for(&l, 0, &b);
    ck_assert_int_eq(b.timeout_ms, 30000);
    ck_assert_uint_eq(b.memory, (uint64_t)1 << 30);
    ck_assert_uint_eq(b.output_bytes, KT_HELPER_OUTPUT);
    ck_assert_uint_eq(b.output_lines, KT_HELPER_LINES);
    kt_helper_budget_for(&l, (size_t)10 << 20, &b);
    ck_assert_int_eq(b.timeout_ms, 40000);
    ck_assert_uint_eq(b.memory, ((uint64_t)1 << 30) + ((uint64_t)40 << 20));
    ck_assert_uint_eq(b.output_bytes, KT_HELPER_OUTPUT + ((uint64_t)80 << 20));
    ck_assert_uint_eq(b.output_lines, KT_HELPER_LINES + (10u << 20) / 4);
    /* no memory limit stays none; figures saturate */
    l.memory = 0;
    kt_helper_budget_for(&l, SIZE_MAX, &b);
    ck_assert_uint_eq(b.memory, 0);
    ck_assert_uint_eq(b.output_bytes, UINT64_MAX);
    l.memory = UINT64_MAX - 1;
    kt_helper_budget_for(&l, 1, &b);
    ck_assert_uint_eq(b.memory, UINT64_MAX);
    /* a tiny deadline is still a deadline */
    l.timeout = 1e-9;
    l.timeout_per_mib = 0;
    kt_helper_budget_for(&l, 0, &b);
    ck_assert_int_eq(b.timeout_ms, 1);

    /* set, read back, and back to the defaults */
    kt_helper_limits set = {.timeout = 2.5, .timeout_per_mib = 0.5, .memory = 12345};
    kt_helper_limits got;
    kt_helper_limits_set(&set);
    kt_helper_limits_get(&got);
    ck_assert(got.timeout == 2.5 && got.timeout_per_mib == 0.5 && got.memory == 12345);
    kt_helper_limits_set(NULL);
    kt_helper_limits_get(&got);
    ck_assert(got.timeout == d.timeout && got.memory == d.memory);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("helpers");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, the_budget_grows_with_the_file);
    tcase_add_test(tc, bad_option_values_are_usage_errors);
    tcase_add_test(tc, each_misbehaving_helper_is_a_warning_and_the_scan_goes_on);
    tcase_add_test(tc, the_scan_options_set_the_limits);
    tcase_add_test(tc, a_helper_in_the_background_of_a_terminal_may_write_to_it);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
