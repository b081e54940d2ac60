/* The run log (scan.log) as the library renders it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/scan.h"
#include "kavtrace/writers.h"
#include "testutil.h"

static kt_artifact_set defs;

static void load_defs(void)
{
    load_shipped_artifacts(&defs);
}

static void unload_defs(void)
{
    kt_artifact_set_release(&defs);
}

/* How many lines of text start with prefix. */
static size_t count_lines_starting(const char *text, const char *prefix)
{
    size_t n = 0, len = strlen(prefix);
    for (const char *line = text; line && *line;) {
        if (strncmp(line, prefix, len) == 0)
            n++;
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    return n;
}

START_TEST(scan_log_says_each_thing_once_in_order)
{
    char *path = path_join(evidence_dir(), "corrupt/truncated.raw");
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_msg(kt_inventory_hash(&s.inv, NULL, NULL, &err) == 0, "%s", err.msg);
    kt_buf b = {0};
    ck_assert_int_eq(kt_scan_log(&b, &s, NULL), 0);
    const char *log = (const char *)b.data;

    /* "kavtrace VERSION scan of PATH", then "started TIME". */
    char tail[4200];
    snprintf(tail, sizeof tail, " scan of %s", path);
    const char *nl = strchr(log, '\n');
    ck_assert_ptr_nonnull(nl);
    ck_assert_msg(strncmp(log, "kavtrace ", 9) == 0 && (size_t)(nl - log) > strlen(tail) &&
                      strncmp(nl - strlen(tail), tail, strlen(tail)) == 0 &&
                      strncmp(nl + 1, "started ", 8) == 0,
                  "%s", log);
    ck_assert_uint_eq(count_lines_starting(log, "WARNING "), s.warnings.count);
    ck_assert_uint_eq(count_lines_starting(log, "WARNING "), 3);
    ck_assert_uint_eq(count_lines_starting(log, "events "), 1);
    ck_assert_uint_eq(count_lines_starting(log, "media sha256 "), 1);
    ck_assert_uint_eq(count_lines_starting(log, "finished "), 1);
    ck_assert_uint_eq(count_lines_starting(log, "ERROR "), 0);
    char media[128];
    snprintf(media, sizeof media, "media sha256 %s md5 %s\n", s.inv.digest.sha256,
             s.inv.digest.md5);
    const char *w = strstr(log, "\nWARNING "), *e = strstr(log, "\nevents "),
               *m = strstr(log, media), *f = strstr(log, "\nfinished ");
    ck_assert(w && e && m && f);
    ck_assert(w < e && e < m && m < f);
    ck_assert_int_eq(log[b.len - 1], '\n');
    kt_buf_release(&b);
    kt_scan_release(&s);
    free(path);
}
END_TEST

START_TEST(scan_log_of_a_failed_scan_has_its_error_and_no_end)
{
    char *path = path_join(evidence_dir(), "corrupt/random.img");
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_int_ne(kt_scan_run(&defs, path, &s, NULL, NULL, &err), 0);
    kt_buf b = {0};
    ck_assert_int_eq(kt_scan_log(&b, &s, err.msg), 0);
    const char *log = (const char *)b.data;
    char line[700];
    snprintf(line, sizeof line, "\nERROR %s\n", err.msg);
    ck_assert_ptr_nonnull(strstr(log, line));
    ck_assert_uint_eq(count_lines_starting(log, "events 0, "), 1);
    ck_assert_uint_eq(count_lines_starting(log, "finished "), 0);
    ck_assert_uint_eq(count_lines_starting(log, "media "), 0);
    kt_buf_release(&b);
    kt_scan_release(&s);
    free(path);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("writers");
    TCase *tc = tcase_create("log");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, load_defs, unload_defs);
    tcase_add_test(tc, scan_log_says_each_thing_once_in_order);
    tcase_add_test(tc, scan_log_of_a_failed_scan_has_its_error_and_no_end);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
