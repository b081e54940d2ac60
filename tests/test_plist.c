/* Property lists (src/parsers/plist.c): records of a real InstallHistory,
 * nested keys, and damaged input (every crash the fuzzer found). */
#include <stdlib.h>
#include <string.h>

#include "kavtrace/plist.h"
#include "testutil.h"

typedef struct seen {
    size_t dicts;
    kt_time first, last;
    char first_name[64], first_package[128], second_package[128];
} seen;

static int visit(void *ctx, const kt_plist_dict *d, size_t index)
{
    seen *s = ctx;
    kt_time t = kt_plist_dict_date(d, "date");
    if (index == 0) {
        s->first = t;
        kt_plist_dict_string(d, "displayName", 0, s->first_name, sizeof s->first_name);
        kt_plist_dict_string(d, "packageIdentifiers", 0, s->first_package, sizeof s->first_package);
        kt_plist_dict_string(d, "packageIdentifiers", 1, s->second_package,
                             sizeof s->second_package);
    }
    s->last = t;
    s->dicts++;
    return 0;
}

START_TEST(reads_every_record_of_a_real_install_history)
{
    /* plistlib: 7 dictionaries, the first "OS X" at 2013-11-12 02:59:35 UTC
     * with packages com.apple.pkg.BaseSystemBinaries, ...Resources; the last
     * at 2014-01-28 20:38:48. */
    char *path = path_join(corpus_dir(), "plaso/plist/InstallHistory.plist");
    kt_buf b = {0};
    file_load(path, &b);
    seen s = {0};
    kt_error err = {0};
    ck_assert_int_eq(kt_plist_each_dict(b.data, b.len, visit, &s, &err), 0);
    ck_assert_uint_eq(s.dicts, 7);
    ck_assert_int_eq(s.first, truth_time("2013-11-12T02:59:35Z"));
    ck_assert_int_eq(s.last, truth_time("2014-01-28T20:38:48Z"));
    ck_assert_str_eq(s.first_name, "OS X");
    ck_assert_str_eq(s.first_package, "com.apple.pkg.BaseSystemBinaries");
    ck_assert_str_eq(s.second_package, "com.apple.pkg.BaseSystemResources");
    kt_buf_release(&b);
    free(path);
}
END_TEST

START_TEST(follows_nested_keys)
{
    static const char xml[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">"
                              "<dict><key>System</key><dict><key>Network</key><dict><key>"
                              "HostNames</key><dict><key>LocalHostName</key><string>Janes-Air"
                              "</string></dict></dict></dict></dict></plist>";
    char out[64];
    kt_error err = {0};
    ck_assert_int_eq(kt_plist_get_path_string(xml, sizeof xml - 1,
                                              "System/Network/HostNames/LocalHostName", out,
                                              sizeof out, &err),
                     0);
    ck_assert_str_eq(out, "Janes-Air");
    ck_assert_int_eq(
        kt_plist_get_path_string(xml, sizeof xml - 1, "System/Network/Nope", out, sizeof out, &err),
        KT_ENOTFOUND);
    ck_assert_int_eq(
        kt_plist_get_path_string(xml, sizeof xml - 1, "System/Network", out, sizeof out, &err),
        KT_ENOTFOUND); /* a dictionary, not a string */
}
END_TEST

START_TEST(survives_what_the_fuzzer_found_and_junk)
{
    /* fuzz/fuzz_plist: a string holding a NUL made libplist 2.2 assert
     * (abort) in plist_get_string_val. */
    char *path = path_join(testdata_dir(), "macos/fuzz-string-with-nul.plist");
    kt_buf b = {0};
    file_load(path, &b);
    seen s = {0};
    kt_error err = {0};
    int rc = kt_plist_each_dict(b.data, b.len, visit, &s, &err);
    ck_assert(rc == 0 || rc == KT_EFORMAT);
    char out[64];
    kt_plist_get_path_string(b.data, b.len, "System/Network/HostNames/LocalHostName", out,
                             sizeof out, NULL);
    kt_buf_release(&b);
    free(path);
    ck_assert_int_eq(kt_plist_each_dict("not a plist", 11, visit, &s, &err), KT_EFORMAT);
    ck_assert_int_eq(kt_plist_each_dict("", 0, visit, &s, &err), KT_ELIMIT);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("plist");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, reads_every_record_of_a_real_install_history);
    tcase_add_test(tc, follows_nested_keys);
    tcase_add_test(tc, survives_what_the_fuzzer_found_and_junk);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
