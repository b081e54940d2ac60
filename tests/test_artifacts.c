#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kavtrace/artifacts.h"
#include "testutil.h"

START_TEST(shipped_definitions_load_without_problems)
{
    kt_artifact_set set = {0};
    load_shipped_artifacts(&set);
    ck_assert_uint_ge(set.nartifacts, 20);
    ck_assert_uint_ge(set.nproducts, 4);
    ck_assert_uint_eq(set.nmilestones, 6);
    /* Milestones are sorted and exact. */
    const kt_milestone *cut = kt_artifacts_milestone(&set, "cutoff");
    ck_assert_ptr_nonnull(cut);
    ck_assert_int_eq(cut->time, INT64_C(1727582400) * KT_NS_PER_SEC);
    ck_assert(!cut->date_only);
    ck_assert(kt_artifacts_milestone(&set, "announced")->date_only);
    for (size_t i = 1; i < set.nmilestones; i++)
        ck_assert_int_le(set.milestones[i - 1].time, set.milestones[i].time);
    kt_artifact_set_release(&set);
}
END_TEST

START_TEST(maps_names_found_on_disk_to_products)
{
    kt_artifact_set set = {0};
    load_shipped_artifacts(&set);
    /* The same name means another product on another system. */
    struct {
        const char *os, *name, *id;
    } cases[] = {
        {"windows", "Kaspersky Endpoint Security for Windows", "kaspersky-kes"},
        {"windows", "KES.12.2.0", "kaspersky-kes"},
        {"windows", "AVP", "kaspersky-kes"},
        {"windows", "AVP21.3", "kaspersky-consumer"},
        {"windows", "avp21.19", "kaspersky-consumer"},
        {"windows", "Kaspersky Internet Security 21.3", "kaspersky-consumer"},
        {"windows", "Kaspersky", "kaspersky-consumer"},
        {"windows", "NetworkAgent", "kaspersky-klnagent"},
        {"windows", "Kaspersky Security Center Network Agent", "kaspersky-klnagent"},
        {"linux", "kesl", "kaspersky-kesl"},
        {"linux", "kesl-gui", "kaspersky-kesl"},
        {"linux", "klnagent64", "kaspersky-klnagent"},
        {"macos", "Kaspersky Internet Security", "kaspersky-mac"},
        {"macos", "com.kaspersky.kav.core", "kaspersky-mac"},
        {"macos", "com.kaspersky.klnagent.core", "kaspersky-klnagent"},
        {"macos", "com.kaspersky.kav_agent", "kaspersky-mac"},
        {"macos", "klnagent", "kaspersky-klnagent"},
        {"macos", "Kaspersky", "kaspersky-mac"},
        /* the Network Agent alone is never Kaspersky for Mac (real-world-
         * kaspersky.md C13): its InstallHistory name, old receipt
         * "Kaspersky Network Agent.pkg", daemon label */
        {"macos", "Kaspersky Security Center Network Agent", "kaspersky-klnagent"},
        {"macos", "Kaspersky Network Agent", "kaspersky-klnagent"},
        {"macos", "com.kaspersky.klnagent", "kaspersky-klnagent"},
        {"macos", "Kaspersky Endpoint Security for Mac", "kaspersky-mac"},
        {"macos", "Kaspersky Anti-Virus", "kaspersky-mac"},
        /* The KTS 21.2 capture's VPN key and its protected\KIS key; the
         * other consumer editions of its Installer\environment. */
        {"windows", "KSDE5.2", "kaspersky-vpn"},
        {"windows", "Kaspersky VPN 5.2", "kaspersky-vpn"},
        {"windows", "Kaspersky Secure Connection", "kaspersky-vpn"},
        {"windows", "KIS", "kaspersky-consumer"},
        {"windows", "KAV", "kaspersky-consumer"},
        {"windows", "PURE", "kaspersky-consumer"},
        {"windows", "SAAS", "kaspersky-consumer"},
        {"windows", "KFA", "kaspersky-consumer"},
        {"windows", "Kaspersky Password Manager 9.0", "kaspersky-password-manager"},
        {"windows", "Kaspersky Safe Kids", "kaspersky-safe-kids"},
        {"macos", "Kaspersky Safe Kids", "kaspersky-safe-kids"},
        {"macos", "KAV", "kaspersky-mac"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const kt_product_def *p =
            kt_artifacts_product_for_os(&set, "kaspersky", cases[i].os, cases[i].name);
        ck_assert_msg(p && strcmp(p->id, cases[i].id) == 0, "%s '%s' -> %s, want %s", cases[i].os,
                      cases[i].name, p ? p->id : "none", cases[i].id);
    }
    /* A Windows product's name is nobody's on Linux. */
    ck_assert_ptr_null(kt_artifacts_product_for_os(&set, "kaspersky", "linux", "AVP21.3"));
    ck_assert_ptr_null(kt_artifacts_product_for_os(&set, "kaspersky", "linux", "kaspersky"));
    ck_assert_ptr_null(kt_artifacts_product_for(&set, "kaspersky", "ESET Security"));
    ck_assert_ptr_null(kt_artifacts_product_for(&set, "kaspersky", "Kaspersky-notes"));
    ck_assert_ptr_null(kt_artifacts_product_for(&set, "kaspersky", ""));
    const kt_product_def *u = kt_artifacts_product_for(&set, "ultraav", "UltraAV");
    ck_assert(u && u->migration_target);
    /* Products that are not the anti-virus have no signatures and take
     * no unattributed finds. */
    const char *apart[] = {"kaspersky-vpn", "kaspersky-password-manager", "kaspersky-safe-kids"};
    for (size_t i = 0; i < sizeof apart / sizeof apart[0]; i++) {
        const kt_product_def *p = kt_artifacts_product(&set, apart[i]);
        ck_assert_msg(p && p->no_signatures && !p->primary, "%s", apart[i]);
    }
    ck_assert(!kt_artifacts_product(&set, "kaspersky-consumer")->no_signatures);
    kt_artifact_set_release(&set);
}
END_TEST

static char *write_defs(const char *text)
{
    char *dir = strdup("/tmp/kt-defs-XXXXXX");
    ck_assert(mkdtemp(dir) != NULL);
    char *file = path_join(dir, "bad.yaml");
    FILE *f = fopen(file, "w");
    ck_assert(f != NULL);
    fputs(text, f);
    fclose(f);
    free(file);
    return dir;
}

static void remove_defs(char *dir)
{
    char *file = path_join(dir, "bad.yaml");
    unlink(file);
    rmdir(dir);
    free(file);
    free(dir);
}

static bool has_problem(const kt_strlist *p, const char *line, const char *text)
{
    for (size_t i = 0; i < p->count; i++)
        if (strstr(p->items[i], line) && strstr(p->items[i], text))
            return true;
    return false;
}

START_TEST(check_reports_problems_with_file_and_line)
{
    char *dir = write_defs("vendor: acme\n"              /* 1 */
                           "artifacts:\n"                /* 2 */
                           "  - id: a.one\n"             /* 3 */
                           "    description: x\n"        /* 4 */
                           "    os: windows\n"           /* 5 */
                           "    category: instal\n"      /* 6 */
                           "    colour: red\n"           /* 7 */
                           "    files:\n"                /* 8 */
                           "      paths: ['/etc/x']\n"   /* 9 */
                           "      times: [si_created]\n" /* 10 */
                           "  - id: a.one\n"             /* 11 */
                           "    description: y\n"        /* 12 */
                           "    os: windows\n"           /* 13 */
                           "    category: install\n"     /* 14 */
                           "    files:\n"                /* 15 */
                           "      paths: ['x/*']\n"      /* 16 */
                           "      parse: {format: line, regex: 'no group', pattern: '%Y%m%d'}\n"
                           "  - description: missing id\n"            /* 18 */
                           "    os: plan9\n"                          /* 19 */
                           "    category: install\n"                  /* 20 */
                           "    registry: {hive: SAM, keys: ['x']}\n" /* 21 */
                           "  - id: a.two\n"                          /* 22 */
                           "    description: z\n"                     /* 23 */
                           "    os: windows\n"                        /* 24 */
                           "    category: update\n"                   /* 25 */
                           "    join: sometimes\n"                    /* 26 */
                           "    files: {paths: ['x'], times: [si_created]}\n"
                           "products:\n"               /* 28 */
                           "  - id: p.one\n"           /* 29 */
                           "    name: P\n"             /* 30 */
                           "    match: ['P*']\n"       /* 31 */
                           "    signatures: maybe\n"); /* 32 */
    kt_artifact_set set = {0};
    kt_strlist problems = {0};
    kt_error err = {0};
    ck_assert_int_eq(kt_artifacts_load(dir, &set, &problems, &err), KT_EFORMAT);
    ck_assert(has_problem(&problems, "bad.yaml:6:", "unknown category 'instal'"));
    ck_assert(has_problem(&problems, "bad.yaml:7:", "unknown key 'colour'"));
    ck_assert(has_problem(&problems, "bad.yaml:9:", "must be relative"));
    ck_assert(has_problem(&problems, "bad.yaml:17:", "needs a capture group"));
    ck_assert(has_problem(&problems, "bad.yaml:18:", "'id' is required"));
    ck_assert(has_problem(&problems, "bad.yaml:19:", "os must be windows, linux or macos"));
    ck_assert(
        has_problem(&problems, "bad.yaml:21:", "hive must be SOFTWARE, SYSTEM, NTUSER or AMCACHE"));
    ck_assert(has_problem(&problems, "bad.yaml:11:", "artifact id 'a.one' already used"));
    ck_assert(has_problem(&problems, "bad.yaml:26:", "join must be primary or none"));
    ck_assert(has_problem(&problems, "bad.yaml:32:", "'signatures' must be true or false"));
    ck_assert(!has_problem(&problems, "bad.yaml:25:", "category"));
    kt_strlist_release(&problems);
    kt_artifact_set_release(&set);
    remove_defs(dir);

    dir = write_defs("artifacts: [\n  - broken\n");
    ck_assert_int_eq(kt_artifacts_load(dir, &set, &problems, &err), KT_EFORMAT);
    ck_assert(has_problem(&problems, "bad.yaml:", "YAML:"));
    kt_strlist_release(&problems);
    kt_artifact_set_release(&set);
    remove_defs(dir);

    ck_assert_int_eq(kt_artifacts_load("/nonexistent-kt", &set, &problems, &err), KT_ENOTFOUND);
    kt_artifact_set_release(&set);
}
END_TEST

START_TEST(reads_backing_and_rejects_bad_ones_with_file_and_line)
{
    /* One artifact a line: each problem's line names its artifact. */
#define ART(id, backing)                                                                           \
    "  - {id: " id ", description: x, os: linux, category: install, " backing                      \
    "files: {paths: ['x'], times: [si_modified]}}\n"
    char *dir = write_defs("vendor: acme\n"
                           "artifacts:\n"                                                  /* 2 */
                           ART("a.real", "backing: {kind: real, ref: 'notes.md §2'}, ")    /* 3 */
                           ART("a.none", "")                                               /* 4 */
                           ART("a.doc", "backing: {kind: vendor-doc, ref: help 124710}, ") /* 5 */
                           ART("a.third", "backing: {kind: third-party, ref: tool}, ")     /* 6 */
                           ART("a.inferred", "backing: {kind: inferred, ref: why}, "));    /* 7 */
    kt_artifact_set set = {0};
    kt_strlist problems = {0};
    kt_error err = {0};
    ck_assert_int_eq(kt_artifacts_load(dir, &set, &problems, &err), KT_OK);
    ck_assert_msg(problems.count == 0, "%s", problems.count ? problems.items[0] : "");
    ck_assert_uint_eq(set.nartifacts, 5);
    ck_assert_int_eq(set.artifacts[0].backing, KT_BACKING_REAL);
    ck_assert_str_eq(set.artifacts[0].backing_ref, "notes.md §2");
    ck_assert_int_eq(set.artifacts[1].backing, KT_BACKING_UNKNOWN); /* absent: the default */
    ck_assert_ptr_null(set.artifacts[1].backing_ref);
    ck_assert_int_eq(set.artifacts[2].backing, KT_BACKING_VENDOR_DOC);
    ck_assert_str_eq(set.artifacts[2].backing_ref, "help 124710");
    ck_assert_int_eq(set.artifacts[3].backing, KT_BACKING_THIRD_PARTY);
    ck_assert_int_eq(set.artifacts[4].backing, KT_BACKING_INFERRED);
    /* Stronger is larger, and every kind reads back as written. */
    ck_assert_int_gt(KT_BACKING_REAL, KT_BACKING_VENDOR_DOC);
    ck_assert_int_gt(KT_BACKING_VENDOR_DOC, KT_BACKING_THIRD_PARTY);
    ck_assert_int_gt(KT_BACKING_THIRD_PARTY, KT_BACKING_INFERRED);
    ck_assert_int_gt(KT_BACKING_INFERRED, KT_BACKING_UNKNOWN);
    for (int b = KT_BACKING_INFERRED; b < KT_BACKING_COUNT; b++)
        ck_assert_int_eq(kt_backing_from_name(kt_backing_name((kt_backing)b)), b);
    ck_assert_int_eq(kt_backing_from_name("unknown"), KT_BACKING_UNKNOWN);
    kt_artifact_set_release(&set);
    remove_defs(dir);

    dir = write_defs("vendor: acme\n"
                     "artifacts:\n"                                                 /* 2 */
                     ART("b.kind", "backing: {kind: rumour, ref: a forum}, ")       /* 3 */
                     ART("b.noref", "backing: {kind: real}, ")                      /* 4 */
                     ART("b.scalar", "backing: real, ")                             /* 5 */
                     ART("b.key", "backing: {kind: real, ref: r, grade: A}, ")      /* 6 */
                     ART("b.empty", "backing: {kind: inferred, ref: ' '}, ")        /* 7 */
                     ART("b.nokind", "backing: {ref: somewhere}, ")                 /* 8 */
                     ART("b.unknown", "backing: {kind: unknown, ref: nothing}, ")); /* 9 */
#undef ART
    ck_assert_int_eq(kt_artifacts_load(dir, &set, &problems, &err), KT_EFORMAT);
    ck_assert(has_problem(&problems, "bad.yaml:3:",
                          "kind must be real, vendor-doc, third-party or inferred, not 'rumour'"));
    ck_assert(has_problem(&problems, "bad.yaml:4:", "backing: 'ref' is required"));
    ck_assert(has_problem(&problems, "bad.yaml:5:", "backing must be a mapping"));
    ck_assert(has_problem(&problems, "bad.yaml:6:", "backing: unknown key 'grade'"));
    ck_assert(has_problem(&problems, "bad.yaml:7:", "backing: ref is empty"));
    ck_assert(has_problem(&problems, "bad.yaml:8:", "backing: 'kind' is required"));
    ck_assert(has_problem(&problems, "bad.yaml:9:", "not 'unknown'"));
    ck_assert_msg(problems.count == 7, "%zu problems", problems.count);
    kt_strlist_release(&problems);
    kt_artifact_set_release(&set);
    remove_defs(dir);
}
END_TEST

START_TEST(checks_version_maps_and_removal_methods)
{
    char *dir = write_defs("vendor: acme\n"                                             /* 1 */
                           "artifacts:\n"                                               /* 2 */
                           "  - id: a.map\n"                                            /* 3 */
                           "    description: x\n"                                       /* 4 */
                           "    os: windows\n"                                          /* 5 */
                           "    category: install\n"                                    /* 6 */
                           "    removal_method: shredder\n"                             /* 7 */
                           "    files:\n"                                               /* 8 */
                           "      paths: ['x/*']\n"                                     /* 9 */
                           "      times: [si_created]\n"                                /* 10 */
                           "      version: {component: -1, map: ['21.13', '12.1']}\n"); /* 11 */
    kt_artifact_set set = {0};
    kt_strlist problems = {0};
    kt_error err = {0};
    ck_assert_int_eq(kt_artifacts_load(dir, &set, &problems, &err), KT_EFORMAT);
    ck_assert(has_problem(&problems, "bad.yaml:7:", "removal_method must be"));
    ck_assert(has_problem(&problems, "bad.yaml:11:", "'map' maps what was read"));
    ck_assert_uint_eq(problems.count, 2);
    kt_strlist_release(&problems);
    kt_artifact_set_release(&set);
    remove_defs(dir);
}
END_TEST

START_TEST(every_macos_definition_names_its_backing)
{
    /* macos.yaml grades each of its artifacts by its sources (the other
     * files may not yet: theirs read as unknown). */
    kt_artifact_set set = {0};
    load_shipped_artifacts(&set);
    size_t mac = 0;
    for (size_t i = 0; i < set.nartifacts; i++) {
        const kt_artifact *a = &set.artifacts[i];
        if (strstr(a->file, "/kaspersky/macos.yaml") == NULL)
            continue;
        mac++;
        ck_assert_msg(a->backing != KT_BACKING_UNKNOWN && a->backing_ref && a->backing_ref[0],
                      "%s:%d: %s has no backing", a->file, a->line, a->id);
    }
    ck_assert_uint_ge(mac, 24);
    /* Seen on a real Mac: the installer's and updater's files in /tmp; no
     * public sample of Kaspersky's install.log lines. Read in the uninstall
     * script: receipts, preferences, caches, Safari extensions; reasoned
     * from macOS: per-user caches, extension storage, receipt contents. */
    struct {
        const char *id;
        kt_backing want;
    } cases[] = {
        {"kaspersky.mac.tmp-autoupdater", KT_BACKING_REAL},
        {"kaspersky.mac.tmp-install-type", KT_BACKING_REAL},
        {"kaspersky.mac.receipt", KT_BACKING_THIRD_PARTY},
        {"kaspersky.mac.install-log", KT_BACKING_INFERRED},
        {"kaspersky.mac.sysext", KT_BACKING_THIRD_PARTY},
        {"kaspersky.mac.receipt-legacy", KT_BACKING_THIRD_PARTY},
        {"kaspersky.mac.receipt-legacy-id", KT_BACKING_INFERRED},
        {"kaspersky.mac.user-preferences", KT_BACKING_THIRD_PARTY},
        {"kaspersky.mac.caches", KT_BACKING_THIRD_PARTY},
        {"kaspersky.mac.user-caches", KT_BACKING_INFERRED},
        {"kaspersky.mac.safari-extension", KT_BACKING_THIRD_PARTY},
        {"kaspersky.mac.safari-extension-data", KT_BACKING_INFERRED},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        bool found = false;
        for (size_t i = 0; i < set.nartifacts; i++)
            if (strcmp(set.artifacts[i].id, cases[k].id) == 0) {
                found = true;
                ck_assert_msg(set.artifacts[i].backing == cases[k].want, "%s: %s", cases[k].id,
                              kt_backing_name(set.artifacts[i].backing));
            }
        ck_assert_msg(found, "no %s", cases[k].id);
    }
    kt_artifact_set_release(&set);
}
END_TEST

START_TEST(docs_list_every_source_of_the_table)
{
    /* docs/artifacts.md's source table (between its markers) names the
     * sources of the code's table, in its order, each with its summary. */
    char *path = path_join(testdata_dir(), "../docs/artifacts.md");
    kt_buf b = {0};
    file_load(path, &b);
    const char *begin = strstr((const char *)b.data, "<!-- sources:");
    const char *end = begin ? strstr(begin, "<!-- /sources -->") : NULL;
    ck_assert_msg(begin && end, "docs/artifacts.md has no sources table");
    const char *p = begin;
    size_t rows = 0;
    for (const char *row = strstr(p, "\n| `"); row && row < end; row = strstr(row + 1, "\n| `"))
        rows++;
    ck_assert_uint_eq(rows, kt_source_count());
    for (size_t i = 0; i < kt_source_count(); i++) {
        char want[512];
        snprintf(want, sizeof want, "\n| `%s` | %s |\n", kt_source_key(i), kt_source_summary(i));
        const char *at = strstr(p, want);
        ck_assert_msg(at && at < end, "docs/artifacts.md: no row, or out of order: %s", want);
        p = at + 1;
    }
    kt_buf_release(&b);
    free(path);
}
END_TEST

START_TEST(lists_each_artifacts_real_source)
{
    /* Every shipped artifact has a source; the event-log, Prefetch,
     * package, plist and SQLite ones are not called files. */
    kt_artifact_set defs = {0};
    load_shipped_artifacts(&defs);
    size_t per_source[16] = {0};
    for (size_t i = 0; i < defs.nartifacts; i++) {
        const char *src = kt_artifact_source(&defs.artifacts[i]);
        size_t k = 0;
        while (k < kt_source_count() && strcmp(kt_source_key(k), src) != 0)
            k++;
        ck_assert_msg(k < kt_source_count(), "%s: source %s", defs.artifacts[i].id, src);
        per_source[k]++;
    }
    for (size_t k = 0; k < kt_source_count(); k++)
        ck_assert_msg(per_source[k] > 0, "no shipped artifact reads %s", kt_source_key(k));
    char detail[64];
    for (size_t i = 0; i < defs.nartifacts; i++) {
        const kt_artifact *a = &defs.artifacts[i];
        kt_artifact_source_detail(a, detail, sizeof detail);
        if (strcmp(kt_artifact_source(a), "registry") == 0)
            ck_assert_msg(strcmp(detail, "SOFTWARE") == 0 || strcmp(detail, "SYSTEM") == 0 ||
                              strcmp(detail, "NTUSER") == 0 || strcmp(detail, "AMCACHE") == 0,
                          "%s: %s", a->id, detail);
        if (strcmp(a->id, "kaspersky.linux.dpkg-log") == 0)
            ck_assert_str_eq(detail, "dpkg-log");
    }
    kt_artifact_set_release(&defs);
}
END_TEST

START_TEST(parses_time_patterns_strictly)
{
    kt_time_pattern p = {.pattern = "%d-%m-%Y %H-%M-%S"};
    kt_time t;
    ck_assert_int_eq(kt_time_pattern_parse(&p, "05-11-2024 02-10-33", &t), 0);
    ck_assert_int_eq(t, truth_time("2024-11-05T02:10:33Z"));
    ck_assert_int_eq(kt_time_pattern_parse(&p, "31-02-2024 02-10-33", &t), KT_EFORMAT);
    ck_assert_int_eq(kt_time_pattern_parse(&p, "05/11/2024 02-10-33", &t), KT_EFORMAT);
    kt_time_pattern q = {.pattern = "%Y%m%d%H%M"};
    ck_assert_int_eq(kt_time_pattern_parse(&q, "202104290954", &t), 0);
    ck_assert_int_eq(t, truth_time("2021-04-29T09:54:00Z"));
    ck_assert_int_eq(kt_time_pattern_parse(&q, "2021042909", &t), KT_EFORMAT);
    /* Day first with the dotted a.m./p.m. of other locales (a real KES 10
     * event: "21/02/2021 10:21:00 p.m."; Spanish "p. m."). */
    kt_time_pattern d = {.pattern = "%-d/%-m/%Y %-I:%M:%S %p"};
    ck_assert_int_eq(kt_time_pattern_compile(&d), 0);
    ck_assert_int_eq(kt_time_pattern_parse(&d, "21/02/2021 10:21:00 p.m.", &t), 0);
    ck_assert_int_eq(t, truth_time("2021-02-21T22:21:00Z"));
    ck_assert_int_eq(kt_time_pattern_parse(&d, "3/9/2021 12:40:00 a. m.", &t), 0);
    ck_assert_int_eq(t, truth_time("2021-09-03T00:40:00Z"));
    ck_assert_int_eq(kt_time_pattern_parse(&d, "3/9/2021 12:40:00 PM", &t), 0);
    ck_assert_int_eq(t, truth_time("2021-09-03T12:40:00Z"));
    ck_assert_int_eq(kt_time_pattern_parse(&d, "3/9/2021 12:40:00 p.x.", &t), KT_EFORMAT);
    ck_assert_int_eq(kt_time_pattern_parse(&d, "3/9/2021 12:40:00 q.m.", &t), KT_EFORMAT);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("artifacts");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, shipped_definitions_load_without_problems);
    tcase_add_test(tc, maps_names_found_on_disk_to_products);
    tcase_add_test(tc, check_reports_problems_with_file_and_line);
    tcase_add_test(tc, parses_time_patterns_strictly);
    tcase_add_test(tc, checks_version_maps_and_removal_methods);
    tcase_add_test(tc, docs_list_every_source_of_the_table);
    tcase_add_test(tc, lists_each_artifacts_real_source);
    tcase_add_test(tc, reads_backing_and_rejects_bad_ones_with_file_and_line);
    tcase_add_test(tc, every_macos_definition_names_its_backing);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
