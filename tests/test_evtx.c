/* The library's side of event logs (src/parsers/evtx.c): what it makes
 * of kavtrace-evtx's output, read through stand-in readers. Malformed or
 * cut-short output fails the run with a message that says how, never a
 * crash or a silently empty log, and the records that were whole are
 * kept. (The real reader over real logs: the scan suite.) */
#include <dirent.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kavtrace/artifacts.h"
#include "kavtrace/collect.h"
#include "kavtrace/evtx.h"
#include "kavtrace/helper.h"
#include "kavtrace/scan.h"
#include "testutil.h"

static char *real_reader;

static void save_reader(void)
{
    const char *r = getenv("KAVTRACE_EVTX_READER");
    ck_assert_ptr_nonnull(r);
    real_reader = strdup(r);
}

static void restore_reader(void)
{
    setenv("KAVTRACE_EVTX_READER", real_reader, 1);
}

static void drop_reader(void)
{
    free(real_reader);
    real_reader = NULL;
}

typedef struct seen {
    size_t count;
    char text[1024];
} seen;

/* Each record as "id/event/provider/computer/strings|" */
static int keep(void *ctx, const kt_evtx_record *r)
{
    seen *s = ctx;
    size_t n = strlen(s->text);
    n += (size_t)snprintf(s->text + n, sizeof s->text - n, "%llu/%u/%s/%s/",
                          (unsigned long long)r->record_id, r->event_id, r->provider, r->computer);
    for (size_t i = 0; i < r->nstrings && n < sizeof s->text; i++)
        n += (size_t)snprintf(s->text + n, sizeof s->text - n, "%s%s", i ? "," : "", r->strings[i]);
    if (n < sizeof s->text)
        snprintf(s->text + n, sizeof s->text - n, "|");
    s->count++;
    return 0;
}

/* Walk a stand-in log through a reader printing `output` (printf format
 * text) and exiting with `status`; returns the walk's result. */
static int walk_exit(const char *output, int status, seen *s, kt_strlist *w, kt_evtx_stats *st,
                     kt_error *err)
{
    char body[4096];
    snprintf(body, sizeof body, "cat >/dev/null\nprintf '%s'\nexit %d", output, status);
    char *script = script_file(body);
    setenv("KAVTRACE_EVTX_READER", script, 1);
    static const uint8_t log[16] = "ElfFile";
    memset(s, 0, sizeof *s);
    int rc = kt_evtx_walk(log, sizeof log, NULL, keep, s, st, w, err);
    restore_reader();
    unlink(script);
    free(script);
    return rc;
}

static int walk_with(const char *output, seen *s, kt_strlist *w, kt_evtx_stats *st, kt_error *err)
{
    return walk_exit(output, 0, s, w, st, err);
}

#define REC1                                                                                       \
    "R\\t7\\t133720560000000000\\t11707\\t0\\t0\\t2\\nP\\tMsiInstaller\\nC\\tWS-01\\n"             \
    "S\\tKaspersky\\\\\\\\tab\\nS\\t21.3\\n.\\n"

START_TEST(reads_records_and_the_end_line)
{
    seen s;
    kt_strlist w = {0};
    kt_evtx_stats st = {0};
    kt_error err = {0};
    ck_assert_int_eq(walk_with(REC1 "W\\tchunk 3: a warning\\nX\\t4\\t1\\t1\\n", &s, &w, &st, &err),
                     0);
    ck_assert_str_eq(s.text, "7/11707/MsiInstaller/WS-01/Kaspersky\\tab,21.3|");
    ck_assert_uint_eq(st.records, 1);
    ck_assert_uint_eq(st.chunks, 4);
    ck_assert_uint_eq(st.chunks_parsed, 1);
    ck_assert_uint_eq(w.count, 1);
    ck_assert_str_eq(w.items[0], "chunk 3: a warning");
    kt_strlist_release(&w);
}
END_TEST

START_TEST(a_missing_end_line_fails_the_run_and_the_records_stay)
{
    seen s;
    kt_strlist w = {0};
    kt_evtx_stats st = {0};
    kt_error err = {0};
    ck_assert_int_eq(walk_with(REC1, &s, &w, &st, &err), KT_EIO);
    ck_assert_uint_eq(s.count, 1);
    ck_assert_uint_eq(w.count, 0);
    /* after the stand-in's path */
    ck_assert_ptr_nonnull(
        strstr(err.msg, "' ended without its end line: the log may have been read only in part"));

    /* a record cut off before its end: not delivered, and said so */
    ck_assert_int_eq(
        walk_with("R\\t1\\t0\\t1\\t0\\t0\\t1\\nP\\tp\\nC\\tc\\nS\\tx\\n", &s, &w, &st, &err),
        KT_EIO);
    ck_assert_uint_eq(s.count, 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "' wrote 1 malformed line (the first: line 4, a record "
                                          "without its end) and ended without its end line"));
    /* nothing at all is not an empty log */
    ck_assert_int_eq(walk_with("", &s, &w, &st, &err), KT_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "' ended without its end line"));
    kt_strlist_release(&w);
}
END_TEST

#define OUT_OF_PLACE(kind) "a line of kind '" kind "' out of place or with wrong fields"

START_TEST(malformed_lines_fail_the_run_and_whole_records_stay)
{
    static const struct {
        const char *output;
        size_t records, malformed, first;
        const char *why;
    } cases[] = {
        /* a line of garbage, an unknown kind, a kind without its TAB */
        {"garbage\\n" REC1 "Q\\tx\\nWx\\nX\\t1\\t1\\t1\\n", 1, 3, 1, "not a line of the protocol"},
        {REC1 "Q\\tx\\nWx\\nX\\t1\\t1\\t1\\n", 1, 2, 7, "unknown kind 'Q'"},
        /* an empty line, a bad escape, a NUL-free control kind */
        {"\\n" REC1 "W\\tbad\\\\q\\n\\001\\tx\\nX\\t1\\t1\\t1\\n", 1, 3, 1,
         "not a line of the protocol"},
        /* R with a field short, too many, not numbers, negative, huge */
        {"R\\t1\\t2\\t3\\t4\\t5\\nR\\t1\\t2\\t3\\t4\\t5\\t6\\t7\\nR\\ta\\tb\\tc\\td\\te\\tf\\n"
         "R\\t-1\\t0\\t0\\t0\\t0\\t0\\nR\\t1\\t0\\t99999999999\\t0\\t0\\t0\\n" REC1
         "X\\t1\\t1\\t1\\n",
         1, 5, 1, OUT_OF_PLACE("R")},
        /* strings: more than announced; more than the limit; a record with its end short */
        {"R\\t1\\t0\\t1\\t0\\t0\\t1\\nP\\tp\\nC\\tc\\nS\\ta\\nS\\tb\\n.\\n"
         "R\\t2\\t0\\t1\\t0\\t0\\t257\\n"
         "R\\t3\\t0\\t1\\t0\\t0\\t2\\nS\\ta\\n.\\nX\\t1\\t1\\t3\\n",
         2, 3, 5, OUT_OF_PLACE("S")},
        /* lines outside a record; a second R before the first ended; a twice-named provider */
        {"P\\tp\\nS\\ts\\n."
         "\\nR\\t1\\t0\\t1\\t0\\t0\\t0\\nR\\t2\\t0\\t1\\t0\\t0\\t0\\nP\\ta\\nP\\tb\\n"
         ".\\nX\\t1\\t1\\t1\\n",
         1, 5, 1, OUT_OF_PLACE("P")},
        /* a recovered flag other than 0 or 1; anything after the end line */
        {"R\\t1\\t0\\t1\\t0\\t2\\t0\\n" REC1 "X\\t1\\t1\\t1\\nW\\tlate\\n" REC1, 1, 8, 1,
         OUT_OF_PLACE("R")},
        {REC1 "X\\t1\\t1\\t1\\nW\\tlate\\n", 1, 1, 8, "after the end line"},
        /* an end line with bad counts still ends the output */
        {REC1 "X\\t1\\tx\\t1\\nX\\t1\\t1\\t1\\n", 1, 2, 7, OUT_OF_PLACE("X")},
        /* an end line inside a record */
        {"R\\t1\\t0\\t1\\t0\\t0\\t0\\nX\\t1\\t1\\t1\\n", 0, 2, 2, OUT_OF_PLACE("X")},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        seen s;
        kt_strlist w = {0};
        kt_evtx_stats st = {0};
        kt_error err = {0};
        ck_assert_msg(walk_with(cases[i].output, &s, &w, &st, &err) == KT_EIO, "case %zu: %s", i,
                      err.msg);
        ck_assert_msg(s.count == cases[i].records, "case %zu: %zu records", i, s.count);
        char want[256];
        snprintf(want, sizeof want, "' wrote %zu malformed line%s (the first: line %zu, %s)",
                 cases[i].malformed, cases[i].malformed == 1 ? "" : "s", cases[i].first,
                 cases[i].why);
        ck_assert_msg(strstr(err.msg, want) != NULL, "case %zu: no '%s' in '%s'", i, want, err.msg);
        kt_strlist_release(&w);
    }
}
END_TEST

START_TEST(a_fatal_line_is_the_error)
{
    seen s;
    kt_strlist w = {0};
    kt_evtx_stats st = {0};
    kt_error err = {0};
    ck_assert_int_eq(walk_exit("E\\tbroken \\\\\\\\ log\\n", 1, &s, &w, &st, &err), KT_EFORMAT);
    ck_assert_str_eq(err.msg, "broken \\ log");
    ck_assert_uint_eq(w.count, 0);
}
END_TEST

/* The real reader over a log kt-mkevtx writes (3000 records: several
 * 64 KiB chunks) with its first chunk zeroed. */
static void zeroed_first_chunk(bool header_crc_too, const char *want)
{
    char dir[] = "/tmp/kt-evtx-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *spec = path_join(dir, "log.spec"), *log = path_join(dir, "log.evtx");
    FILE *f = fopen(spec, "w");
    ck_assert_ptr_nonnull(f);
    fputs("filler\t3000\t2024-01-01T00:00:00Z\t1\tMsiInstaller\t-\t11707\t4\tApplication\t"
          "WS-01\t=Product: Something -- Installation completed successfully.\n",
          f);
    ck_assert_int_eq(fclose(f), 0);
    const char *mkevtx = getenv("KT_MKEVTX");
    ck_assert_ptr_nonnull(mkevtx);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' '%s' '%s'", mkevtx, spec, log);
    ck_assert_int_eq(system(cmd), 0);
    kt_buf b = {0};
    file_load(log, &b);
    ck_assert_uint_ge(b.len, 4096 + 3 * 65536);
    memset(b.data + 4096, 0, 65536);
    if (header_crc_too)
        b.data[0x7C] ^= 0xff;
    seen s = {0};
    kt_strlist w = {0};
    kt_evtx_stats st = {0};
    kt_error err = {0};
    ck_assert_msg(kt_evtx_walk(b.data, b.len, NULL, keep, &s, &st, &w, &err) == 0, "%s", err.msg);
    ck_assert_uint_gt(s.count, 0); /* the other chunks are read */
    bool said = false;
    for (size_t i = 0; i < w.count; i++)
        said = said || strstr(w.items[i], want) != NULL;
    ck_assert_msg(said, "no warning '%s' (%zu warnings)", want, w.count);
    kt_strlist_release(&w);
    kt_buf_release(&b);
    unlink(spec);
    unlink(log);
    rmdir(dir);
    free(spec);
    free(log);
}

START_TEST(a_lost_chunk_is_a_warning_not_an_unused_one)
{
    /* Before, an all-zero chunk passed for one never used. The header
     * counts the chunks in use; without a trustworthy header, a used chunk
     * after an empty one still gives it away. */
    zeroed_first_chunk(false, "chunk 0: empty, though the header counts");
    zeroed_first_chunk(true, "chunk 0: empty, though chunk 1 after it is in use");
}
END_TEST

/* ---- the reader's record filter ---- */

START_TEST(a_glob_gives_its_longest_literal_run)
{
    static const char *const cases[][2] = {
        {"*Kaspersky*", "Kaspersky"},
        {"Product: Kaspersky*", "Product: Kaspersky"},
        {"Produkt: *Kaspersky Lab*", "Kaspersky Lab"},
        {"*Касперск*", "Касперск"},
        {"AuActMon*", "AuActMon"},
        {"[Kk]aspersky?Lab", "aspersky"},
        {"a\\*b*c", "a*b"},
        {"[]x]yz", "yz"},
        {"*", ""},
        {"?[ab]*", ""},
        {"abc[de", ""}, /* an unclosed bracket: nothing is taken */
        {"abcd[[:alpha:]]x", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        ck_assert(kt_evtx_glob_literal(cases[i][0], out, sizeof out));
        ck_assert_msg(strcmp(out, cases[i][1]) == 0, "%s: '%s', not '%s'", cases[i][0], out,
                      cases[i][1]);
    }
    char small[4];
    ck_assert(!kt_evtx_glob_literal("*Kaspersky*", small, sizeof small));
}
END_TEST

/* The shipped definitions, every one (the evtx functions pass over the
 * others); the caller frees the array. */
static const kt_artifact **shipped(kt_artifact_set *set)
{
    load_shipped_artifacts(set);
    const kt_artifact **arts = calloc(set->nartifacts + 1, sizeof *arts);
    ck_assert_ptr_nonnull(arts);
    for (size_t i = 0; i < set->nartifacts; i++)
        arts[i] = &set->artifacts[i];
    return arts;
}

/* Each match of each shipped evtx definition, as "artifact:chunk:id:r|". */
typedef struct matches {
    const kt_artifact *const *arts;
    size_t narts;
    kt_buf text;
    size_t records, matched;
} matches;

static int note_matches(void *ctx, const kt_evtx_record *r)
{
    matches *m = ctx;
    m->records++;
    for (size_t i = 0; i < m->narts; i++)
        if (kt_collect_evtx_matches(m->arts[i], r)) {
            m->matched++;
            ck_assert_int_eq(kt_buf_printf(&m->text, "%s:%zu:%llu:%d|", m->arts[i]->id, r->chunk,
                                           (unsigned long long)r->record_id, r->recovered),
                             0);
        }
    return 0;
}

static void walk_matches(const kt_buf *log, const kt_strlist *filter, matches *m)
{
    kt_strlist w = {0};
    kt_evtx_stats st = {0};
    kt_error err = {0};
    m->text.len = 0;
    m->records = m->matched = 0;
    /* Every record parsed, in a sanitizer build on a busy machine: the
     * reader's deadline is no part of what is tested here. */
    kt_helper_limits lim;
    kt_helper_limits_get(&lim);
    kt_helper_limits slow = lim;
    slow.timeout = 600;
    kt_helper_limits_set(&slow);
    int rc = kt_evtx_walk(log->data, log->len, filter, note_matches, m, &st, &w, &err);
    kt_helper_limits_set(&lim);
    ck_assert_msg(rc == 0, "%s", err.msg);
    kt_strlist_release(&w);
    if (m->text.data == NULL)
        kt_buf_append(&m->text, "", 0);
}

/* Build each spec into dir; the logs' paths are added to logs. */
static void build_logs(const char *pattern, const char *dir, kt_strlist *logs)
{
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0)
        return;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char name[64], cmd[4096];
        snprintf(name, sizeof name, "log-%zu-%zu.evtx", logs->count, i);
        char *out = path_join(dir, name);
        snprintf(cmd, sizeof cmd, "'%s' '%s' '%s'", getenv("KT_MKEVTX"), g.gl_pathv[i], out);
        ck_assert_msg(system(cmd) == 0, "%s", cmd);
        ck_assert_int_eq(kt_strlist_add(logs, out), 0);
        free(out);
    }
    globfree(&g);
}

START_TEST(the_filter_never_drops_a_record_a_definition_takes)
{
    /* Every log of the test evidence (built from its specs) and the real
     * logs of the corpus, read with the shipped definitions' filter and
     * without any: the same matches, each definition's, come out. */
    kt_artifact_set set = {0};
    const kt_artifact **arts = shipped(&set);
    size_t narts = set.nartifacts;
    kt_strlist filter = {0};
    ck_assert_int_eq(kt_collect_evtx_filter(arts, narts, &filter), 0);
    size_t rules = 0, clauses = 0;
    for (size_t i = 0; i < filter.count; i++) {
        rules += strcmp(filter.items[i], "-p") == 0;
        clauses += strcmp(filter.items[i], "-g") == 0;
    }
    ck_assert_uint_ge(rules, 5);
    ck_assert_uint_ge(clauses, 5); /* where clauses too, not only providers */

    char dir[] = "/tmp/kt-evtx-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    kt_strlist logs = {0};
    char pattern[4096];
    snprintf(pattern, sizeof pattern, "%s/windows/evtx/*.spec", testdata_dir());
    build_logs(pattern, dir, &logs);
    snprintf(pattern, sizeof pattern, "%s/scenarios/*/evtx/*.spec", testdata_dir());
    build_logs(pattern, dir, &logs);
    size_t built = logs.count;
    snprintf(pattern, sizeof pattern,
             "%s/hive-trees/real-hives/Windows/System32/winevt/Logs/*.evtx", corpus_unpacked_dir());
    glob_t g;
    if (glob(pattern, 0, NULL, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; i++)
            ck_assert_int_eq(kt_strlist_add(&logs, g.gl_pathv[i]), 0);
    globfree(&g);
    ck_assert_uint_ge(built, 10);
    ck_assert_uint_gt(logs.count, built);

    matches all = {.arts = arts, .narts = narts}, some = {.arts = arts, .narts = narts};
    size_t total = 0, passed = 0, matched = 0;
    for (size_t i = 0; i < logs.count; i++) {
        kt_buf log = {0};
        file_load(logs.items[i], &log);
        walk_matches(&log, NULL, &all);
        walk_matches(&log, &filter, &some);
        ck_assert_msg(strcmp((char *)all.text.data, (char *)some.text.data) == 0,
                      "%s: without the filter '%s', with it '%s'", logs.items[i],
                      (char *)all.text.data, (char *)some.text.data);
        ck_assert_uint_le(some.records, all.records);
        total += all.records;
        passed += some.records;
        matched += all.matched;
        kt_buf_release(&log);
        if (i < built)
            unlink(logs.items[i]);
    }
    rmdir(dir);
    /* not vacuous: definitions matched, and the filter held records back */
    ck_assert_uint_gt(matched, 10);
    ck_assert_msg(passed * 4 < total, "%zu of %zu records passed the filter", passed, total);
    kt_buf_release(&all.text);
    kt_buf_release(&some.text);
    kt_strlist_release(&logs);
    kt_strlist_release(&filter);
    free(arts);
    kt_artifact_set_release(&set);
}
END_TEST

static long peak_rss_kib(void)
{
    struct rusage ru;
    ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

START_TEST(a_scan_never_holds_the_whole_log)
{
    /* A log of 400,000 records (about 85 MiB) with two Kaspersky records,
     * scanned as a directory: the log goes to the reader a piece at a
     * time, so this process's peak grows by far less than the log. */
    char dir[] = "/tmp/kt-evtx-big-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *spec = path_join(dir, "log.spec"), *tree = path_join(dir, "tree");
    char *logs = path_join(tree, "Windows/System32/winevt/Logs");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", logs);
    ck_assert_int_eq(system(cmd), 0);
    FILE *f = fopen(spec, "w");
    ck_assert_ptr_nonnull(f);
    const char *kes = "MsiInstaller\t-\t11707\t4\tApplication\tWS-01\t=Product: Kaspersky "
                      "Endpoint Security for Windows -- Installation completed successfully.\n";
    fprintf(f, "record\t2023-01-01T00:00:00Z\t%s", kes);
    fputs("filler\t400000\t2023-01-01T00:00:00Z\t1\tMicrosoft-Windows-Security-SPP\t"
          "{E23B33B0-C8C9-472C-A5F9-F2BDFEA0F156}\t16384\t4\tApplication\tWS-01\t"
          "=2123-01-01T00:00:00Z\t=RulesEngine\n",
          f);
    fprintf(f, "record\t2024-10-01T10:00:00Z\t%s", kes);
    ck_assert_int_eq(fclose(f), 0);
    snprintf(cmd, sizeof cmd, "'%s' '%s' '%s/Application.evtx'", getenv("KT_MKEVTX"), spec, logs);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/Application.evtx", logs);
    struct stat st;
    ck_assert_int_eq(stat(cmd, &st), 0);
    ck_assert_int_ge(st.st_size, 80 << 20);

    kt_artifact_set set = {0};
    load_shipped_artifacts(&set);
    kt_scan s = {0};
    kt_error err = {0};
    long before = peak_rss_kib();
    ck_assert_msg(kt_scan_run(&set, tree, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    long grown = peak_rss_kib() - before;
    size_t found = 0;
    for (size_t i = 0; i < s.tl.count; i++)
        found += s.tl.items[i].path && strstr(s.tl.items[i].path, "Application.evtx") != NULL;
    ck_assert_uint_eq(found, 2);
    ck_assert_msg(grown < 32 * 1024, "peak RSS grew by %ld KiB over a log of %lld KiB", grown,
                  (long long)st.st_size / 1024);
    kt_scan_release(&s);
    kt_artifact_set_release(&set);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(spec);
    free(tree);
    free(logs);
}
END_TEST

START_TEST(records_of_a_watched_provider_that_cannot_match_stay_in_the_reader)
{
    /* 2% of the records are MsiInstaller's, none about Kaspersky but two;
     * the chunks' templates carry the provider's name, the records the
     * product's. Only the two cross the pipe: one with the product name
     * in capitals, one in Russian; the others are not even parsed. */
    char dir[] = "/tmp/kt-evtx-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *spec = path_join(dir, "log.spec"), *path = path_join(dir, "log.evtx");
    FILE *f = fopen(spec, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 100; i++) {
        fputs("filler\t49\t2024-01-01T00:00:00Z\t1\tMicrosoft-Windows-Security-SPP\t"
              "{E23B33B0-C8C9-472C-A5F9-F2BDFEA0F156}\t16384\t4\tApplication\tWS-01\t"
              "=2124-01-01T00:00:00Z\t=RulesEngine\n",
              f);
        const char *product = i == 40   ? "PRODUCT: KASPERSKY Endpoint Security for Windows"
                              : i == 70 ? "Продукт: Kaspersky Endpoint Security для Windows"
                                        : "Product: Contoso Widget";
        fprintf(f,
                "record\t2024-01-02T00:00:00Z\tMsiInstaller\t-\t11707\t4\tApplication\t"
                "WS-01\t=%s -- Installation completed successfully.\n",
                product);
    }
    ck_assert_int_eq(fclose(f), 0);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' '%s' '%s'", getenv("KT_MKEVTX"), spec, path);
    ck_assert_int_eq(system(cmd), 0);
    kt_buf log = {0};
    file_load(path, &log);

    kt_artifact_set set = {0};
    const kt_artifact **arts = shipped(&set);
    size_t narts = set.nartifacts;
    kt_strlist filter = {0};
    ck_assert_int_eq(kt_collect_evtx_filter(arts, narts, &filter), 0);
    matches m = {.arts = arts, .narts = narts};
    walk_matches(&log, NULL, &m);
    ck_assert_uint_eq(m.records, 5000);
    ck_assert_uint_eq(m.matched, 2);
    char *want = strdup((char *)m.text.data);
    walk_matches(&log, &filter, &m);
    ck_assert_uint_eq(m.records, 2);
    ck_assert_str_eq((char *)m.text.data, want);
    free(want);
    kt_buf_release(&m.text);
    kt_buf_release(&log);
    kt_strlist_release(&filter);
    free(arts);
    kt_artifact_set_release(&set);
    unlink(spec);
    unlink(path);
    rmdir(dir);
    free(spec);
    free(path);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("evtx");
    TCase *tc = tcase_create("core");
    tcase_add_unchecked_fixture(tc, save_reader, drop_reader);
    tcase_add_checked_fixture(tc, NULL, restore_reader);
    tcase_add_test(tc, reads_records_and_the_end_line);
    tcase_add_test(tc, a_missing_end_line_fails_the_run_and_the_records_stay);
    tcase_add_test(tc, malformed_lines_fail_the_run_and_whole_records_stay);
    tcase_add_test(tc, a_fatal_line_is_the_error);
    tcase_add_test(tc, a_lost_chunk_is_a_warning_not_an_unused_one);
    tcase_add_test(tc, a_glob_gives_its_longest_literal_run);
    tcase_add_test(tc, the_filter_never_drops_a_record_a_definition_takes);
    tcase_add_test(tc, records_of_a_watched_provider_that_cannot_match_stay_in_the_reader);
    tcase_add_test(tc, a_scan_never_holds_the_whole_log);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
