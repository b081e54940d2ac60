/* The case module (kavtrace/case.h) and reading JSON back
 * (kavtrace/jsonread.h): no evidence needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kavtrace/case.h"
#include "kavtrace/jsonread.h"
#include "testutil.h"

static kt_jv parse_ok(const char *text)
{
    kt_jv v;
    kt_error err = {0};
    ck_assert_msg(kt_jv_parse(text, strlen(text), &v, &err) == KT_OK, "%s: %s", text, err.msg);
    return v;
}

static void parse_bad(const char *text, const char *want)
{
    kt_jv v;
    kt_error err = {0};
    ck_assert_int_eq(kt_jv_parse(text, strlen(text), &v, &err), KT_EFORMAT);
    ck_assert_msg(strstr(err.msg, want) != NULL, "'%s': '%s' lacks '%s'", text, err.msg, want);
    ck_assert_int_eq(v.type, KT_JV_NULL);
}

START_TEST(json_is_read_back_with_its_escapes)
{
    kt_jv v = parse_ok("{\"a\": [1, -2.5e3, true, false, null], \"s\": \"x\\u00e9\\\"\\\\\\n\","
                       " \"pair\": \"\\ud83d\\ude00\", \"lone\": \"\\ud800x\", \"a\": 7}");
    const kt_jv *a = kt_jv_get(&v, "a");
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->type, KT_JV_ARRAY); /* the first of a repeated key */
    ck_assert_uint_eq(a->len, 5);
    int64_t n = 0;
    ck_assert(kt_jv_int(&a->item[0], &n) && n == 1);
    ck_assert(!kt_jv_int(&a->item[1], &n)); /* not whole */
    ck_assert_str_eq(a->item[1].s, "-2.5e3");
    ck_assert(a->item[2].type == KT_JV_BOOL && a->item[2].b);
    ck_assert(a->item[3].type == KT_JV_BOOL && !a->item[3].b);
    ck_assert_int_eq(a->item[4].type, KT_JV_NULL);
    ck_assert_str_eq(kt_jv_str(kt_jv_get(&v, "s")), "x\xc3\xa9\"\\\n");
    ck_assert_str_eq(kt_jv_str(kt_jv_get(&v, "pair")), "\xf0\x9f\x98\x80");
    ck_assert_str_eq(kt_jv_str(kt_jv_get(&v, "lone")), "\xef\xbf\xbdx");
    ck_assert_ptr_null(kt_jv_get(&v, "missing"));
    ck_assert_ptr_null(kt_jv_get(a, "a")); /* not an object */
    ck_assert_ptr_null(kt_jv_str(a));
    kt_jv_release(&v);
    kt_jv_release(NULL);
}
END_TEST

START_TEST(bad_json_is_refused_with_its_line)
{
    parse_bad("{\"a\": 1} x", "text after the value");
    parse_bad("{\"a\": 1", "without '}'");
    parse_bad("[1, 2", "without ']'");
    parse_bad("\"abc", "unterminated");
    parse_bad("{\n\n\"a\" 1}", "line 3");
    parse_bad("{\"a\": tru}", "not a value");
    parse_bad("\"\\q\"", "a bad escape");
    parse_bad("\"\\u12\"", "\\u escape");
    parse_bad("\"a\tb\"", "control character");
    parse_bad("", "a value missing");
    char deep[200] = "";
    for (int i = 0; i < 70; i++)
        strcat(deep, "[");
    parse_bad(deep, "nested too deep");
}
END_TEST

START_TEST(evidence_names_tell_first_files_from_later_parts)
{
    char dir[] = "/tmp/kt-case-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    static const struct {
        const char *name;
        kt_evidence_kind kind;
    } cases[] = {
        {"disk.E01", KT_EVK_FIRST},      {"disk.e01", KT_EVK_FIRST},
        {"disk.E02", KT_EVK_PART},       {"disk.EAA", KT_EVK_PART},
        {"disk.Ex01", KT_EVK_FIRST},     {"disk.Ex02", KT_EVK_PART},
        {"disk.raw", KT_EVK_FIRST},      {"disk.dd", KT_EVK_FIRST},
        {"disk.vhdx", KT_EVK_FIRST},     {"disk.vmdk", KT_EVK_FIRST},
        {"disk-flat.vmdk", KT_EVK_PART}, {"disk-s001.vmdk", KT_EVK_PART},
        {"disk-f002.vmdk", KT_EVK_PART}, {"disk.000", KT_EVK_FIRST},
        {"disk.002", KT_EVK_PART},       {"notes.txt", KT_EVK_NONE},
        {".hidden.E01", KT_EVK_NONE},    {"noext", KT_EVK_NONE},
        {"disk.qcow2", KT_EVK_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(kt_evidence_kind_of(dir, cases[i].name) == cases[i].kind, "%s",
                      cases[i].name);
    /* x.001 is the first part unless an x.000 is there. */
    ck_assert_int_eq(kt_evidence_kind_of(dir, "disk.001"), KT_EVK_FIRST);
    char *zero = path_join(dir, "disk.000");
    FILE *f = fopen(zero, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(kt_evidence_kind_of(dir, "disk.001"), KT_EVK_PART);
    unlink(zero);
    free(zero);
    /* A system root. */
    ck_assert(!kt_dir_is_system_root(dir));
    char *etc = path_join(dir, "etc"), *usr = path_join(dir, "usr");
    ck_assert_int_eq(mkdir(etc, 0755), 0);
    ck_assert(!kt_dir_is_system_root(dir));
    ck_assert_int_eq(mkdir(usr, 0755), 0);
    ck_assert(kt_dir_is_system_root(dir));
    rmdir(etc);
    rmdir(usr);
    free(etc);
    free(usr);
    rmdir(dir);
}
END_TEST

static void put(const char *dir, const char *name, const char *text)
{
    char *p = path_join(dir, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

START_TEST(definitions_hash_follows_every_file)
{
    char dir[] = "/tmp/kt-defs-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    put(dir, "a.yaml", "id: a\n");
    char h1[65], h2[65], h3[65];
    kt_error err = {0};
    ck_assert_int_eq(kt_definitions_hash(dir, h1, &err), KT_OK);
    ck_assert_uint_eq(strlen(h1), 64);
    ck_assert_int_eq(kt_definitions_hash(dir, h2, &err), KT_OK);
    ck_assert_str_eq(h1, h2);
    put(dir, "a.yaml", "id: b\n");
    ck_assert_int_eq(kt_definitions_hash(dir, h2, &err), KT_OK);
    ck_assert_str_ne(h1, h2);
    char *sub = path_join(dir, "sub");
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    put(sub, "b.yaml", "");
    ck_assert_int_eq(kt_definitions_hash(dir, h3, &err), KT_OK);
    ck_assert_str_ne(h2, h3); /* even an empty file in a subfolder */
    char *b = path_join(sub, "b.yaml"), *a = path_join(dir, "a.yaml");
    unlink(b);
    rmdir(sub);
    unlink(a);
    free(a);
    free(b);
    free(sub);
    ck_assert_int_eq(kt_definitions_hash(dir, h3, &err), KT_OK);
    ck_assert_str_eq(h3, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    rmdir(dir);
    ck_assert_int_eq(kt_definitions_hash(dir, h3, &err), KT_EIO);
}
END_TEST

/* A findings.json with two systems, one holding state_at (as the state
 * at the cutoff is given where the findings have it). */
static const char findings[] =
    "{\"systems\": ["
    " {\"os\": \"windows\", \"hostname\": \"WS-1\","
    "  \"products\": [{\"id\": \"kaspersky-kes\", \"name\": \"KES\", \"version\": \"11.1\","
    "    \"status\": \"present\", \"installed\": \"2022-03-09T15:14:59Z\","
    "    \"last_signature_update\": null}],"
    "  \"state_at\": [{\"time\": \"2024-09-29T04:00:00Z\", \"milestone\": \"cutoff\","
    "    \"products\": [{\"id\": \"kaspersky-kes\", \"installed\": true, \"version\": \"11.1\","
    "      \"last_signature_update\": \"2024-09-01T00:00:00Z\"}]}],"
    "  \"verdicts\": {\"kaspersky_ever_installed\": true, \"ksn_after_cutoff\": null,"
    "    \"removed_before_cutoff\": false}},"
    " {\"os\": \"linux\", \"hostname\": \"=cmd\", \"products\": [],"
    "  \"verdicts\": {\"kaspersky_ever_installed\": false}}],"
    " \"warnings\": [{}, {}]}";

static char *slurp_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    kt_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        ck_assert_int_eq(kt_buf_append(&b, chunk, n), 0);
    kt_buf_append(&b, "", 1);
    fclose(f);
    return (char *)b.data;
}

START_TEST(case_summary_rows_sorted_with_state_at_the_cutoff)
{
    char dir[] = "/tmp/kt-case-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *item = path_join(dir, "b-item");
    ck_assert_int_eq(mkdir(item, 0755), 0);
    put(item, "findings.json", findings);
    kt_case_item items[] = {
        {.id = "b-item",
         .evidence = "/e/b.E01",
         .custodian = "J. Doe, IT",
         .status = "ok",
         .run_ms = 1500},
        {.id = "a-item", .evidence = "/e/a.E01", .status = "timed-out", .message = "killed"},
        {.id = "c-item", .evidence = "/e/c.E01", .status = "skipped"}, /* no folder */
    };
    bool all_ok = true;
    kt_error err = {0};
    ck_assert_int_eq(kt_case_write(dir, items, 3, 0, &all_ok, &err), KT_OK);
    ck_assert(!all_ok);
    char *csv_path = path_join(dir, KT_CASE_CSV), *json_path = path_join(dir, KT_CASE_JSON);
    char *csv = slurp_text(csv_path);
    /* Sorted by id; the verdicts per system joined; formula-safe cells. */
    char *a = strstr(csv, "\r\na-item,"), *b = strstr(csv, "\r\nb-item,"),
         *c = strstr(csv, "\r\nc-item,");
    ck_assert(a && b && c && a < b && b < c);
    ck_assert_msg(strstr(b, "b-item,/e/b.E01,\"J. Doe, IT\",,,ok,,2,WS-1; =cmd,true; false,null; "
                            "null,") != NULL,
                  "%s", b);
    ck_assert_msg(strstr(b, ",KES 11.1,2022-03-09T15:14:59Z,none,\"kaspersky-kes installed 11.1, "
                            "signatures 2024-09-01T00:00:00Z\",2,1.500\r\n") != NULL,
                  "%s", b);
    ck_assert_msg(strstr(a, "a-item,/e/a.E01,,,,timed-out,killed,,,") != NULL, "%s", a);
    /* A skipped item whose findings are gone is failed, and says why. */
    ck_assert_msg(strstr(c, "c-item,/e/c.E01,,,,failed,outputs unreadable:") != NULL, "%s", c);
    kt_jv j;
    ck_assert_int_eq(kt_jv_parse_file(json_path, &j, &err), KT_OK);
    const kt_jv *its = kt_jv_get(&j, "items");
    ck_assert_uint_eq(its->len, 3);
    const kt_jv *sys = kt_jv_get(&its->item[1], "systems");
    ck_assert_uint_eq(sys->len, 2);
    const kt_jv *st = kt_jv_get(&sys->item[0], "state_at_cutoff");
    ck_assert_int_eq(st->type, KT_JV_ARRAY);
    ck_assert_str_eq(kt_jv_str(kt_jv_get(&st->item[0], "state")), "installed");
    ck_assert_int_eq(kt_jv_get(&sys->item[1], "state_at_cutoff")->type, KT_JV_NULL);
    int64_t n = 0;
    ck_assert(kt_jv_int(kt_jv_get(&its->item[1], "warnings"), &n) && n == 2);
    ck_assert(kt_jv_int(kt_jv_get(kt_jv_get(&j, "totals"), "failed"), &n) && n == 1);
    ck_assert(kt_jv_int(kt_jv_get(kt_jv_get(&j, "totals"), "timed-out"), &n) && n == 1);
    kt_jv_release(&j);
    /* Every item fine: all_ok. */
    ck_assert_int_eq(kt_case_write(dir, items, 1, 0, &all_ok, &err), KT_OK);
    ck_assert(all_ok);
    free(csv);
    unlink(csv_path);
    unlink(json_path);
    free(csv_path);
    free(json_path);
    char *fj = path_join(item, "findings.json");
    unlink(fj);
    free(fj);
    rmdir(item);
    free(item);
    rmdir(dir);
}
END_TEST

/* index.html: a link per item with a report, its folder name
 * percent-encoded; text escaped; the verdicts per system. case.sqlite: an
 * item whose kavtrace.sqlite is missing fails, in every output alike. */
START_TEST(case_index_and_database_from_the_items_outputs)
{
    char dir[] = "/tmp/kt-case-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *id = "disk #1 <x>%";
    char *item = path_join(dir, id), *other = path_join(dir, "plain");
    ck_assert_int_eq(mkdir(item, 0755), 0);
    ck_assert_int_eq(mkdir(other, 0755), 0);
    put(item, "findings.json", findings);
    put(item, "report.html", "<!DOCTYPE html>");
    put(other, "findings.json", findings); /* no report.html */
    kt_case_item items[] = {
        {.id = id, .evidence = "/e/<b>.E01", .custodian = "A & \"B\"", .status = "ok"},
        {.id = "plain", .evidence = "/e/p.E01", .status = "ok"},
        {.id = "gone", .evidence = "/e/g.E01", .status = "failed", .message = "it <broke>"},
    };
    bool all_ok = true;
    kt_error err = {0};
    ck_assert_int_eq(kt_case_write(dir, items, 3, KT_CASE_HTML, &all_ok, &err), KT_OK);
    char *index_path = path_join(dir, KT_CASE_INDEX);
    char *html = slurp_text(index_path);
    ck_assert_msg(strstr(html, "<a class=\"report\" href=\"disk%20%231%20%3Cx%3E%25/report.html\">"
                               "disk #1 &lt;x&gt;%</a>") != NULL,
                  "%s", html);
    ck_assert(strstr(html, "href=\"plain/") == NULL); /* no report, no link */
    ck_assert(strstr(html, "/e/&lt;b&gt;.E01") && strstr(html, "A &amp; &quot;B&quot;"));
    ck_assert(strstr(html, "it &lt;broke&gt;") && !strstr(html, "<broke>"));
    ck_assert(strstr(html, "<script") == NULL);
    /* Two systems: an answer each, in system order. */
    ck_assert_msg(strstr(html, "data-verdict=\"kaspersky_ever_installed\" data-label=\"ever "
                               "installed\"><span class=\"v-true\" data-system=\"0\">true</span>"
                               "<span class=\"v-false\" data-system=\"1\">false</span>") != NULL,
                  "%s", html);
    ck_assert(strstr(html, "at the cutoff: installed 11.1"));
    free(html);
    /* case.sqlite asked for: the items have no kavtrace.sqlite, so they
     * fail with the reason; index.html no longer asked for is removed. */
    ck_assert_int_eq(kt_case_write(dir, items, 3, KT_CASE_SQLITE_DB, &all_ok, &err), KT_OK);
    ck_assert(!all_ok);
    struct stat st;
    ck_assert_int_ne(stat(index_path, &st), 0);
    char *json_path = path_join(dir, KT_CASE_JSON), *db_path = path_join(dir, KT_CASE_SQLITE);
    char *json = slurp_text(json_path);
    ck_assert_msg(strstr(json, "\"status\": \"failed\",\n      \"message\": \"outputs "
                               "unreadable: kavtrace.sqlite: No such file or directory\"") != NULL,
                  "%s", json);
    ck_assert_int_eq(stat(db_path, &st), 0);
    ck_assert_int_gt(st.st_size, 4096);
    free(json);
    unlink(json_path);
    unlink(db_path);
    char *csv_path = path_join(dir, KT_CASE_CSV);
    unlink(csv_path);
    free(csv_path);
    free(json_path);
    free(db_path);
    free(index_path);
    const char *names[] = {"findings.json", "report.html"};
    for (size_t i = 0; i < 2; i++) {
        char *p = path_join(item, names[i]);
        unlink(p);
        free(p);
    }
    char *p = path_join(other, "findings.json");
    unlink(p);
    free(p);
    rmdir(item);
    rmdir(other);
    free(item);
    free(other);
    rmdir(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("case");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, json_is_read_back_with_its_escapes);
    tcase_add_test(tc, bad_json_is_refused_with_its_line);
    tcase_add_test(tc, evidence_names_tell_first_files_from_later_parts);
    tcase_add_test(tc, definitions_hash_follows_every_file);
    tcase_add_test(tc, case_summary_rows_sorted_with_state_at_the_cutoff);
    tcase_add_test(tc, case_index_and_database_from_the_items_outputs);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
