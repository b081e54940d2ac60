#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kavtrace/alloc.h"
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

/* ---- definitions can't silently change verdicts ---- */

static char *defs_dir(void)
{
    char *dir = strdup("/tmp/kt-defs-XXXXXX");
    ck_assert(mkdtemp(dir) != NULL);
    return dir;
}

static void put_file(const char *dir, const char *name, const char *text)
{
    char *file = path_join(dir, name);
    FILE *f = fopen(file, "w");
    ck_assert_msg(f != NULL, "%s", file);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
    free(file);
}

static void remove_tree(char *dir)
{
    char *rm = NULL;
    ck_assert(asprintf(&rm, "rm -rf '%s'", dir) > 0);
    ck_assert_int_eq(system(rm), 0);
    free(rm);
    free(dir);
}

/* Load dir, expecting rc; the problems stay in *problems (release them). */
static void load_expect(const char *dir, int want, kt_strlist *problems)
{
    kt_artifact_set set = {0};
    kt_error err = {0};
    int rc = kt_artifacts_load(dir, &set, problems, &err);
    ck_assert_msg(rc == want, "rc %d, want %d: %s; %s", rc, want, err.msg,
                  problems->count ? problems->items[0] : "no problem");
    kt_artifact_set_release(&set);
}

#define ART(n) "  - {id: a." #n ", description: x, os: linux, category: install, "

START_TEST(refuses_duplicate_keys_second_documents_and_unknown_keys_everywhere)
{
    char *dir = write_defs("vendor: acme\n"                                   /* 1 */
                           "artifacts:\n"                                     /* 2 */
                           "  - id: a.dup\n"                                  /* 3 */
                           "    description: x\n"                             /* 4 */
                           "    os: linux\n"                                  /* 5 */
                           "    category: install\n"                          /* 6 */
                           "    category: removal\n"                          /* 7 */
                           "    files: {paths: ['x'], times: [si_created]}\n" /* 8 */
                           "---\n"                                            /* 9 */
                           "vendor: other\n");                                /* 10 */
    kt_strlist problems = {0};
    load_expect(dir, KT_EFORMAT, &problems);
    ck_assert(has_problem(
        &problems, "bad.yaml:7:", "key 'category' given twice in one mapping (first at line 6)"));
    ck_assert(has_problem(&problems, "bad.yaml:10:", "a second YAML document"));
    kt_strlist_release(&problems);
    remove_defs(dir);

    /* Twice in a nested mapping, a key that is not a string, and one twice
     * at the top. */
    dir = write_defs("vendor: acme\n"                                                       /* 1 */
                     "artifacts:\n"                                                         /* 2 */
                     ART(1) "files: {paths: ['x'], times: [si_created],\n"                  /* 3 */
                            "     version: {component: 1, component: 2}}}\n"                /* 4 */
                            "  - {id: a.2, description: x, os: linux, category: install,\n" /* 5 */
                            "     files: {paths: ['x'], times: [si_created], ? [k] : v}}\n" /* 6 */
                            "vendor: again\n");                                             /* 7 */
    load_expect(dir, KT_EFORMAT, &problems);
    ck_assert(has_problem(&problems, "bad.yaml:4:", "key 'component' given twice"));
    ck_assert(has_problem(&problems, "bad.yaml:6:", "a key must be a string"));
    ck_assert(has_problem(&problems, "bad.yaml:7:", "key 'vendor' given twice"));
    kt_strlist_release(&problems);
    remove_defs(dir);

    /* Unknown keys at every level of a definition. */
    dir = write_defs(
        "vendor: acme\n"                                                              /* 1 */
        "artifacts:\n"                                                                /* 2 */
        ART(2) "files: {paths: ['x'], times: [{field: si_created, colour: red}]}}\n"  /* 3 */
        ART(3) "evtx: {paths: ['x'], providers: [p], events: [{id: 1, level: 4}]}}\n" /* 4 */
        ART(4) "files: {paths: ['x'], times: [si_created], version: {fixd: '1'}}}\n"  /* 5 */
        ART(5) "files: {paths: ['x'], parse: {format: line, regex: '(a)', "           /* 6 */
               "pattern: '%Y', zonee: utc}}}\n"                                       /* 6 */
        ART(6) "registry: {hive: SOFTWARE, keys: [k], times: [{value: v, "            /* 7 */
               "encoding: unix, categry: install}]}}\n"                               /* 7 */
        ART(7) "files: {paths: ['x'], times: [si_created]}, backing: {kind: real, "   /* 8 */
               "ref: r, page: 2}}\n"                                                  /* 8 */
        ART(8) "evtx: {paths: ['x'], providers: [p], events: [1], time: {string: 1, " /* 9 */
               "regex: '(a)', pattern: '%Y', zone: utc, format: x}}}\n"               /* 9 */
        ART(9) "files: {paths: ['x'], name_time: {regex: '(a)', pattern: '%m', x: 1}}}\n"
               "products: [{id: p, name: P, match: ['P'], colour: red}]\n" /* 11 */
               "milestones: [{id: m, date: '2024-01-01', when: now}]\n"    /* 12 */
               "colour: red\n");                                           /* 13 */
    load_expect(dir, KT_EFORMAT, &problems);
    const char *want[][2] = {
        {"bad.yaml:3:", "files time: unknown key 'colour'"},
        {"bad.yaml:4:", "evtx event: unknown key 'level'"},
        {"bad.yaml:5:", "product/version: unknown key 'fixd'"},
        {"bad.yaml:6:", "parse: unknown key 'zonee'"},
        {"bad.yaml:7:", "time: unknown key 'categry'"},
        {"bad.yaml:8:", "backing: unknown key 'page'"},
        {"bad.yaml:9:", "evtx time: unknown key 'format'"},
        {"bad.yaml:10:", "name_time: unknown key 'x'"},
        {"bad.yaml:11:", "product: unknown key 'colour'"},
        {"bad.yaml:12:", "milestone: unknown key 'when'"},
        {"bad.yaml:13:", "file: unknown key 'colour'"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(has_problem(&problems, want[i][0], want[i][1]), "no %s %s", want[i][0],
                      want[i][1]);
    kt_strlist_release(&problems);
    remove_defs(dir);

    /* A value of the wrong shape is a problem, never read as absent. */
    dir = write_defs(
        "vendor: acme\n" /* 1 */
        "artifacts:\n"   /* 2 */
        ART(10) "role: [program], files: {paths: ['x'], times: [si_created]}}\n" ART(
            11) "files: {paths: ['x'], times: [si_created], deleted: {a: 1}}}\n" ART(12) "plist"
                                                                                         ": "
                                                                                         "{path"
                                                                                         "s: "
                                                                                         "['x']"
                                                                                         ", "
                                                                                         "time:"
                                                                                         " t, "
                                                                                         "where"
                                                                                         ": "
                                                                                         "{k: "
                                                                                         "[a, "
                                                                                         "[b]]}"
                                                                                         "}}\n" /* 5
                                                                                                 */
        ART(13) "files: {paths: ['x', [y]], times: [si_created]}}\n"); /* 6 */
    load_expect(dir, KT_EFORMAT, &problems);
    ck_assert(has_problem(&problems, "bad.yaml:3:", "'role' must be a string"));
    ck_assert(has_problem(&problems, "bad.yaml:4:", "'deleted' must be true or false"));
    ck_assert(has_problem(&problems, "bad.yaml:5:", "where 'k': a glob or a list of globs"));
    ck_assert(has_problem(&problems, "bad.yaml:6:", "'paths' must hold strings only"));
    kt_strlist_release(&problems);
    remove_defs(dir);
}
END_TEST

START_TEST(refuses_backreferences_and_patterns_past_the_limits)
{
    char *dir = write_defs(
        "vendor: acme\n"                                                               /* 1 */
        "artifacts:\n"                                                                 /* 2 */
        ART(14) "files: {paths: ['x'], times: [si_created], content: ['(a+)+\\1']}}\n" /* 3 */
        ART(15) "files: {paths: ['x'], parse: {format: line, regex: '(a)x\\9', "       /* 4 */
                "pattern: '%Y%m%d'}}}\n"                                               /* 4 */
        ART(16) "files: {paths: ['x'], times: [si_created], version: {component: 1, "  /* 5 */
                "regex: '([0-9]+)\\.\\1'}}}\n"                                         /* 5 */
        /* an escaped backslash before a digit is no backreference */
        ART(17) "files: {paths: ['x'], times: [si_created], content: ['a\\\\\\\\1']}}\n" /* 6 */
        /* 22 bytes that glibc would write out to 8 million positions
         * (gigabytes, half a minute); and repeats that are fine */
        ART(18) "files: {paths: ['x'], times: [si_created], content: "
                "['((a{200}){200}){200}']}}\n" ART(
                    19) "files: {paths: ['x'], times: [si_created], "
                        "content: ['^[]{}[:alpha:]]{3}(x+y{2,}|z{1,9}){40}$']}}\n");
    kt_strlist problems = {0};
    load_expect(dir, KT_EFORMAT, &problems);
    ck_assert(has_problem(&problems, "bad.yaml:3:", "backreference '\\1'"));
    ck_assert(has_problem(&problems, "bad.yaml:4:", "backreference '\\9'"));
    ck_assert(has_problem(&problems, "bad.yaml:5:", "backreference '\\1'"));
    ck_assert(has_problem(&problems,
                          "bad.yaml:7:", "its repeats written out are more than 2000 positions"));
    ck_assert_msg(problems.count == 4, "%zu problems", problems.count);
    kt_strlist_release(&problems);
    remove_defs(dir);

    /* At each limit, then one past it: a glob's length (a.yaml), a list's
     * entries and the nesting (b.yaml; the structure is checked first and
     * refuses the file before any of it is read). */
    for (int past = 0; past < 2; past++) {
        kt_buf a = {0}, b = {0};
        ck_assert(kt_buf_printf(&a, "vendor: acme\nartifacts:\n" ART(
                                        40) "files: {times: [si_created], paths: ['") == 0);
        for (int i = 0; i < KT_ARTIFACTS_MAX_PATTERN + past; i++)
            ck_assert(kt_buf_append(&a, "a", 1) == 0);
        ck_assert(kt_buf_printf(&a, "']}}\n") == 0);
        ck_assert(kt_buf_reserve(&a, 0) == 0);
        ck_assert(kt_buf_printf(&b, "vendor: acme\nartifacts:\n" ART(
                                        41) "files: {times: [si_created], paths: [") == 0);
        for (int i = 0; i < KT_ARTIFACTS_MAX_LIST + past; i++)
            ck_assert(kt_buf_printf(&b, "%sp%d", i ? ", " : "", i) == 0);
        ck_assert(kt_buf_printf(&b, "]}}\n") == 0);
        /* levels: the top, artifacts, the artifact, plist, where, then lists */
        ck_assert(kt_buf_printf(&b, ART(42) "plist: {paths: [x], time: t, where: {k: ") == 0);
        int lists = KT_ARTIFACTS_MAX_NESTING - 5 + past;
        for (int i = 0; i < lists; i++)
            ck_assert(kt_buf_append(&b, "[", 1) == 0);
        ck_assert(kt_buf_append(&b, "a", 1) == 0);
        for (int i = 0; i < lists; i++)
            ck_assert(kt_buf_append(&b, "]", 1) == 0);
        ck_assert(kt_buf_printf(&b, "}}}\n") == 0);
        ck_assert(kt_buf_reserve(&b, 0) == 0);
        dir = defs_dir();
        put_file(dir, "a.yaml", (const char *)a.data);
        put_file(dir, "b.yaml", (const char *)b.data);
        load_expect(dir, KT_EFORMAT, &problems);
        if (past) {
            ck_assert(has_problem(&problems, "a.yaml:3:", "is longer than 1024 bytes"));
            ck_assert(has_problem(&problems, "b.yaml:3:", "a list of 257 entries (at most 256)"));
            ck_assert(has_problem(
                &problems, "b.yaml:4:", "nested deeper than 16 levels of lists and mappings"));
            ck_assert_msg(problems.count == 3, "%zu problems", problems.count);
        } else {
            /* At the limits only the where's lists, no globs, are wrong. */
            ck_assert_msg(problems.count == 1 &&
                              has_problem(&problems, "b.yaml:4:", "a glob or a list of globs"),
                          "%zu problems: %s", problems.count, problems.items[0]);
        }
        kt_strlist_release(&problems);
        remove_tree(dir);
        kt_buf_release(&a);
        kt_buf_release(&b);
    }

    /* A file past the size limit is not read. */
    dir = defs_dir();
    char *big = path_join(dir, "big.yaml");
    put_file(dir, "big.yaml", "# a comment, then nothing\n");
    ck_assert_int_eq(truncate(big, KT_ARTIFACTS_MAX_FILE_SIZE + 1), 0);
    load_expect(dir, KT_EFORMAT, &problems);
    ck_assert(has_problem(&problems,
                          "big.yaml:0:", "1048577 bytes: a definitions file has at most 1048576"));
    kt_strlist_release(&problems);
    free(big);
    remove_tree(dir);

    /* An alias inside the node it names. */
    dir = write_defs("vendor: acme\n"                          /* 1 */
                     "artifacts:\n"                            /* 2 */
                     ART(21) "files: {times: [si_created], \n" /* 3 */
                             "     paths: &p [x, *p]}}\n");    /* 4 */
    load_expect(dir, KT_EFORMAT, &problems);
    ck_assert(has_problem(&problems, "bad.yaml:4:", "an alias inside the node it names"));
    kt_strlist_release(&problems);
    remove_defs(dir);
}
END_TEST

START_TEST(refuses_more_files_than_the_limit)
{
    /* Each file one artifact: past the limit, the files after it would be
     * dropped; the load fails instead, naming the first one left out. */
    char *dir = defs_dir();
    char name[32], text[256];
    for (int i = 0; i <= KT_ARTIFACTS_MAX_FILES; i++) {
        snprintf(name, sizeof name, "f%03d.yaml", i);
        snprintf(text, sizeof text,
                 "vendor: acme\nartifacts:\n  - {id: a.%d, description: x, os: linux, "
                 "category: install, files: {paths: [x], times: [si_created]}}\n",
                 i);
        put_file(dir, name, text);
    }
    kt_strlist problems = {0};
    load_expect(dir, KT_EFORMAT, &problems);
    snprintf(name, sizeof name, "f%03d.yaml:0:", KT_ARTIFACTS_MAX_FILES);
    ck_assert(has_problem(&problems, name, "more than 256 definition files under"));
    ck_assert_uint_eq(problems.count, 1);
    kt_strlist_release(&problems);
    /* At the limit: every file read. */
    snprintf(name, sizeof name, "%s/f%03d.yaml", dir, KT_ARTIFACTS_MAX_FILES);
    ck_assert_int_eq(unlink(name), 0);
    kt_artifact_set set = {0};
    kt_error err = {0};
    ck_assert_int_eq(kt_artifacts_load(dir, &set, &problems, &err), KT_OK);
    ck_assert_uint_eq(set.nartifacts, KT_ARTIFACTS_MAX_FILES);
    kt_artifact_set_release(&set);
    remove_tree(dir);

    /* Folders: 8 deep are read, the 9th is named, not passed by. */
    dir = defs_dir();
    char path[512];
    snprintf(path, sizeof path, "%s", dir);
    for (int depth = 1; depth <= KT_ARTIFACTS_MAX_DIR_DEPTH + 1; depth++) {
        size_t len = strlen(path);
        snprintf(path + len, sizeof path - len, "/d%d", depth);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        snprintf(text, sizeof text,
                 "artifacts:\n  - {id: a.%d, vendor: acme, description: x, os: linux, "
                 "category: install, files: {paths: [x], times: [si_created]}}\n",
                 depth);
        put_file(path, "a.yaml", text);
    }
    ck_assert_int_eq(kt_artifacts_load(dir, &set, &problems, &err), KT_EFORMAT);
    ck_assert_uint_eq(set.nartifacts, KT_ARTIFACTS_MAX_DIR_DEPTH);
    ck_assert(has_problem(&problems, "/d9:0:", "more than 8 folders deep below"));
    ck_assert_uint_eq(problems.count, 1);
    kt_artifact_set_release(&set);
    kt_strlist_release(&problems);
    remove_tree(dir);
}
END_TEST

START_TEST(skips_fifos_and_devices_unopened_and_refuses_link_loops)
{
    char *dir = defs_dir();
    put_file(dir, "a.yaml",
             "vendor: acme\nartifacts:\n  - {id: a.1, description: x, os: linux, "
             "category: install, files: {paths: [x], times: [si_created]}}\n");
    char *sub = path_join(dir, "sub");
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    char *fifo = path_join(sub, "pipe.yaml");
    ck_assert_int_eq(mkfifo(fifo, 0644), 0);
    char *dev = path_join(dir, "null.yaml");
    ck_assert_int_eq(symlink("/dev/null", dev), 0);
    /* Opening the FIFO for reading would block for good: the alarm fails
     * the test instead of hanging it. */
    alarm(60);
    kt_artifact_set set = {0};
    kt_strlist problems = {0};
    kt_error err = {0};
    ck_assert_int_eq(kt_artifacts_load(dir, &set, &problems, &err), KT_OK);
    alarm(0);
    ck_assert_uint_eq(set.nartifacts, 1);
    ck_assert_uint_eq(set.files.count, 1);
    ck_assert_uint_eq(set.skipped.count, 2);
    ck_assert_ptr_nonnull(strstr(set.skipped.items[0], "null.yaml: skipped: a character device"));
    ck_assert_ptr_nonnull(strstr(set.skipped.items[1], "pipe.yaml: skipped: a FIFO"));
    kt_artifact_set_release(&set);

    /* A link loop, a dangling link and a folder that links to its parent
     * are problems: something meant to be read was not. */
    char *l1 = path_join(dir, "loop1.yaml"), *l2 = path_join(dir, "loop2.yaml");
    char *dangling = path_join(dir, "gone.yaml"), *up = path_join(sub, "up");
    ck_assert_int_eq(symlink("loop2.yaml", l1), 0);
    ck_assert_int_eq(symlink("loop1.yaml", l2), 0);
    ck_assert_int_eq(symlink("nothing-here.yaml", dangling), 0);
    ck_assert_int_eq(symlink("..", up), 0);
    alarm(60);
    ck_assert_int_eq(kt_artifacts_load(dir, &set, &problems, &err), KT_EFORMAT);
    alarm(0);
    ck_assert(has_problem(&problems, "loop1.yaml:0:", "a symbolic link loop"));
    ck_assert(has_problem(&problems, "loop2.yaml:0:", "a symbolic link loop"));
    ck_assert(has_problem(&problems, "gone.yaml:0:", "cannot read: No such file or directory"));
    ck_assert(has_problem(&problems, "sub/up:0:", "a link to a folder that holds it"));
    ck_assert_msg(problems.count == 4, "%zu problems", problems.count);
    ck_assert_uint_eq(set.nartifacts, 1);
    kt_artifact_set_release(&set);
    kt_strlist_release(&problems);
    free(l1);
    free(l2);
    free(dangling);
    free(up);
    free(fifo);
    free(dev);
    free(sub);
    remove_tree(dir);
}
END_TEST

static int check_milestones(const char *dir, kt_strlist *problems)
{
    kt_artifact_set set = {0};
    kt_error err = {0};
    ck_assert_int_eq(kt_artifacts_load(dir, &set, problems, &err), KT_OK);
    int rc = kt_artifacts_check_milestones(&set, dir, problems);
    kt_artifact_set_release(&set);
    return rc;
}

START_TEST(requires_the_milestones_the_verdicts_use)
{
    /* The shipped set has them, in order. */
    char *shipped = path_join(testdata_dir(), "../artifacts");
    kt_strlist problems = {0};
    ck_assert_int_eq(check_milestones(shipped, &problems), KT_OK);
    ck_assert_uint_eq(problems.count, 0);
    free(shipped);

    char *dir = defs_dir();
    put_file(dir, "a.yaml",
             "vendor: acme\nartifacts:\n  - {id: a.1, description: x, os: linux, "
             "category: install, files: {paths: [x], times: [si_created]}}\n");
    /* No milestones at all: the file they belong in is named. */
    ck_assert_int_eq(check_milestones(dir, &problems), KT_EFORMAT);
    ck_assert(has_problem(&problems, "/milestones.yaml:0:", "no milestone 'sales_ban'"));
    ck_assert(has_problem(&problems, "/milestones.yaml:0:", "no milestone 'cutoff'"));
    ck_assert_uint_eq(problems.count, 2);
    kt_strlist_release(&problems);
    /* The cutoff misspelt: the milestones' file is named. */
    put_file(dir, "dates.yaml",
             "milestones:\n"
             "  - {id: sales_ban, time: '2024-07-20T04:00:00Z'}\n"
             "  - {id: cut-off, time: '2024-09-29T04:00:00Z'}\n");
    ck_assert_int_eq(check_milestones(dir, &problems), KT_EFORMAT);
    ck_assert(has_problem(&problems, "dates.yaml:0:", "no milestone 'cutoff'"));
    ck_assert_uint_eq(problems.count, 1);
    kt_strlist_release(&problems);
    /* Out of order. */
    put_file(dir, "dates.yaml",
             "milestones:\n"
             "  - {id: sales_ban, time: '2024-10-20T04:00:00Z'}\n"
             "  - {id: cutoff, time: '2024-09-29T04:00:00Z'}\n");
    ck_assert_int_eq(check_milestones(dir, &problems), KT_EFORMAT);
    ck_assert(has_problem(&problems, "dates.yaml:2:", "milestone 'sales_ban' is not before"));
    kt_strlist_release(&problems);

    /* The command line: check and scan refuse such a set, list shows it. */
    put_file(dir, "dates.yaml",
             "milestones:\n"
             "  - {id: sales_ban, time: '2024-07-20T04:00:00Z'}\n");
    for (size_t i = 0; i < 2; i++) {
        char *args = NULL, *cmd = NULL;
        ck_assert(
            asprintf(&args,
                     i ? "scan --artifacts '%s' -o /nonexistent x.E01" : "artifacts check '%s'",
                     dir) > 0);
        ck_assert(asprintf(&cmd, "'%s' %s", kavtrace_bin(), args) > 0);
        kt_buf out = {0}, errout = {0};
        ck_assert_int_eq(run_capture(cmd, &out, &errout), 1);
        ck_assert_msg(strstr((char *)errout.data, "dates.yaml:0: no milestone 'cutoff'"), "%s: %s",
                      args, (char *)errout.data);
        kt_buf_release(&out);
        kt_buf_release(&errout);
        free(args);
        free(cmd);
    }
    char *cmd = NULL;
    ck_assert(asprintf(&cmd, "'%s' artifacts list '%s'", kavtrace_bin(), dir) > 0);
    kt_buf out = {0};
    ck_assert_int_eq(run_capture(cmd, &out, NULL), 0);
    ck_assert_ptr_nonnull(strstr((char *)out.data, "  sales_ban "));
    kt_buf_release(&out);
    free(cmd);
    remove_tree(dir);
}
END_TEST

/* Everything a load kept, to compare two loads by. */
static void summary(const kt_artifact_set *set, kt_buf *out)
{
    kt_buf_printf(out, "%zu artifacts, %zu products, %zu milestones, %zu patterns\n",
                  set->nartifacts, set->nproducts, set->nmilestones, set->npatterns);
    for (size_t i = 0; i < set->nproducts; i++) {
        const kt_product_def *p = &set->products[i];
        kt_buf_printf(out, "%s %s %s:", p->id, p->name, p->vendor);
        for (size_t m = 0; m < p->match.count; m++)
            kt_buf_printf(out, " %s", p->match.items[m]);
        kt_buf_printf(out, "\n");
    }
    for (size_t i = 0; i < set->nartifacts; i++) {
        const kt_artifact *a = &set->artifacts[i];
        char detail[64];
        kt_artifact_source_detail(a, detail, sizeof detail);
        kt_buf_printf(out, "%s %s %s %s %s %s %s\n", a->id, a->vendor, a->os, a->confidence,
                      a->description, kt_artifact_source(a), detail);
    }
    for (size_t i = 0; i < set->nmilestones; i++)
        kt_buf_printf(out, "%s %lld\n", set->milestones[i].id, (long long)set->milestones[i].time);
}

START_TEST(out_of_memory_fails_the_load_and_never_drops_a_glob)
{
    /* Every allocation of the load made to fail in turn: the load either
     * fails with KT_ENOMEM and says so, or keeps exactly what it keeps with
     * memory to spare. A glob lost to a failed add would load "fine". */
    char *dir = defs_dir();
    put_file(dir, "a.yaml",
             "vendor: acme\n"
             "products:\n"
             "  - {id: p.one, name: One, match: ['One*', 'Uno', 'P1?']}\n"
             "artifacts:\n"
             "  - id: a.reg\n    description: key\n    os: windows\n    category: install\n"
             "    registry:\n      hive: SOFTWARE\n      keys: ['A\\B', 'A\\C\\*']\n"
             "      where: {DisplayName: ['One*', 'Uno'], Publisher: Acme}\n"
             "      product: {value: DisplayName, regex: '^(One)', map: {One: p.one}}\n"
             "      times: [{value: InstallDate, encoding: yyyymmdd}]\n"
             "  - id: a.file\n    description: file\n    os: linux\n    category: install\n"
             "    backing: {kind: real, ref: r}\n"
             "    files:\n      paths: [opt/one/*.log, 'var/**/one']\n"
             "      content: ['^one=', 'two']\n"
             "      parse: {format: line, regex: '^([0-9]{8})', pattern: '%Y%m%d'}\n"
             "milestones:\n"
             "  - {id: sales_ban, time: '2024-07-20T04:00:00Z'}\n"
             "  - {id: cutoff, date: '2024-09-29', meaning: the end}\n");
    kt_artifact_set set = {0};
    kt_strlist problems = {0};
    kt_error err = {0};
    kt_alloc_fail_after(SIZE_MAX);
    ck_assert_int_eq(kt_artifacts_load(dir, &set, &problems, &err), KT_OK);
    size_t allocations = kt_alloc_count();
    kt_alloc_fail_never();
    ck_assert_uint_eq(problems.count, 0);
    ck_assert_uint_eq(set.npatterns, 15);
    kt_buf want = {0};
    summary(&set, &want);
    kt_artifact_set_release(&set);
    ck_assert_uint_ge(allocations, 40);
    size_t failed = 0;
    for (size_t n = 0; n <= allocations; n++) {
        memset(&err, 0, sizeof err);
        kt_alloc_fail_after(n);
        int rc = kt_artifacts_load(dir, &set, &problems, &err);
        kt_alloc_fail_never();
        if (rc == KT_OK) {
            kt_buf got = {0};
            summary(&set, &got);
            ck_assert_msg(got.len == want.len && memcmp(got.data, want.data, got.len) == 0,
                          "allocation %zu failed, the load succeeded with:\n%s\nnot:\n%s", n,
                          (char *)got.data, (char *)want.data);
            ck_assert_uint_eq(problems.count, 0);
            kt_buf_release(&got);
        } else {
            ck_assert_msg(rc == KT_ENOMEM && strstr(err.msg, "out of memory"),
                          "allocation %zu: rc %d: %s", n, rc, err.msg);
            failed++;
        }
        kt_artifact_set_release(&set);
        kt_strlist_release(&problems);
    }
    ck_assert_uint_eq(failed, allocations); /* every one failed it: none is optional */

    /* A file with a problem never loads "fine" for want of memory to say so. */
    put_file(dir, "b.yaml", "artifacts:\n  - {id: b.1, colour: red}\n");
    kt_alloc_fail_after(SIZE_MAX);
    ck_assert_int_eq(kt_artifacts_load(dir, &set, &problems, &err), KT_EFORMAT);
    allocations = kt_alloc_count();
    kt_alloc_fail_never();
    kt_artifact_set_release(&set);
    kt_strlist_release(&problems);
    for (size_t n = 0; n <= allocations; n++) {
        kt_alloc_fail_after(n);
        int rc = kt_artifacts_load(dir, &set, &problems, &err);
        kt_alloc_fail_never();
        ck_assert_msg(rc == KT_ENOMEM || rc == KT_EFORMAT, "allocation %zu: rc %d", n, rc);
        ck_assert(rc == KT_ENOMEM || problems.count > 0);
        kt_artifact_set_release(&set);
        kt_strlist_release(&problems);
    }
    kt_buf_release(&want);
    remove_tree(dir);
}
END_TEST

/* Every Kaspersky product says whether the Final Determination covers it
 * or exempts it (and under which family); the loader refuses a product
 * without it, so none is silently a verdict's subject or silently not. */
START_TEST(requires_coverage_of_every_kaspersky_product)
{
    char *dir = write_defs("vendor: kaspersky\n"         /* 1 */
                           "products:\n"                 /* 2 */
                           "  - id: k.none\n"            /* 3 */
                           "    name: N\n"               /* 4 */
                           "    match: ['N*']\n"         /* 5 */
                           "  - id: k.odd\n"             /* 6 */
                           "    name: O\n"               /* 7 */
                           "    coverage: partly\n"      /* 8 */
                           "    match: ['O*']\n"         /* 9 */
                           "  - id: k.exempt-bare\n"     /* 10 */
                           "    name: E\n"               /* 11 */
                           "    coverage: exempt\n"      /* 12 */
                           "    match: ['E*']\n"         /* 13 */
                           "  - id: k.exempt-odd\n"      /* 14 */
                           "    name: F\n"               /* 15 */
                           "    coverage: exempt\n"      /* 16 */
                           "    exemption: anti-virus\n" /* 17 */
                           "    match: ['F*']\n"         /* 18 */
                           "  - id: k.covered-exempt\n"  /* 19 */
                           "    name: G\n"               /* 20 */
                           "    coverage: covered\n"     /* 21 */
                           "    exemption: consulting\n" /* 22 */
                           "    match: ['G*']\n"         /* 23 */
                           "  - id: o.other\n"           /* 24 */
                           "    vendor: acme\n"          /* 25 */
                           "    name: A\n"               /* 26 */
                           "    coverage: covered\n"     /* 27 */
                           "    match: ['A*']\n");       /* 28 */
    kt_artifact_set set = {0};
    kt_strlist problems = {0};
    kt_error err = {0};
    ck_assert_int_eq(kt_artifacts_load(dir, &set, &problems, &err), KT_EFORMAT);
    ck_assert(has_problem(&problems, "bad.yaml:3:", "no coverage (give covered or exempt)"));
    ck_assert(has_problem(&problems, "bad.yaml:8:", "coverage must be covered or exempt"));
    ck_assert(has_problem(&problems, "bad.yaml:10:", "an exempt product names its exemption"));
    ck_assert(has_problem(&problems, "bad.yaml:17:", "exemption must be threat-intelligence"));
    ck_assert(has_problem(&problems, "bad.yaml:22:", "a covered product has no exemption"));
    ck_assert(has_problem(&problems, "bad.yaml:27:", "for Kaspersky's products only"));
    ck_assert_uint_eq(problems.count, 6);
    kt_strlist_release(&problems);
    kt_artifact_set_release(&set);
    remove_defs(dir);

    /* The shipped set: every Kaspersky product has its coverage; the
     * threat-intelligence products are exempt, the anti-virus covered. */
    load_shipped_artifacts(&set);
    size_t exempt = 0;
    for (size_t i = 0; i < set.nproducts; i++) {
        const kt_product_def *p = &set.products[i];
        if (strcmp(p->vendor, "kaspersky") != 0) {
            ck_assert(!p->has_coverage && !p->exempt);
            continue;
        }
        ck_assert_msg(p->has_coverage, "%s has no coverage", p->id);
        if (p->exempt) {
            exempt++;
            ck_assert_str_eq(p->exemption, "threat-intelligence");
        }
    }
    ck_assert_uint_eq(exempt, 3);
    ck_assert(kt_artifacts_product(&set, "kaspersky-cybertrace")->exempt);
    ck_assert(kt_artifacts_product(&set, "kaspersky-threat-data-feeds")->exempt);
    ck_assert(kt_artifacts_product(&set, "kaspersky-opentip-client")->exempt);
    ck_assert(!kt_artifacts_product(&set, "kaspersky-kes")->exempt);
    ck_assert(!kt_artifacts_product(&set, "kaspersky-kesl")->exempt);
    kt_artifact_set_release(&set);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("artifacts");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, shipped_definitions_load_without_problems);
    tcase_add_test(tc, maps_names_found_on_disk_to_products);
    tcase_add_test(tc, check_reports_problems_with_file_and_line);
    tcase_add_test(tc, requires_coverage_of_every_kaspersky_product);
    tcase_add_test(tc, parses_time_patterns_strictly);
    tcase_add_test(tc, checks_version_maps_and_removal_methods);
    tcase_add_test(tc, docs_list_every_source_of_the_table);
    tcase_add_test(tc, lists_each_artifacts_real_source);
    tcase_add_test(tc, reads_backing_and_rejects_bad_ones_with_file_and_line);
    tcase_add_test(tc, every_macos_definition_names_its_backing);
    tcase_add_test(tc, refuses_duplicate_keys_second_documents_and_unknown_keys_everywhere);
    tcase_add_test(tc, refuses_backreferences_and_patterns_past_the_limits);
    tcase_add_test(tc, refuses_more_files_than_the_limit);
    tcase_add_test(tc, skips_fifos_and_devices_unopened_and_refuses_link_loops);
    tcase_add_test(tc, requires_the_milestones_the_verdicts_use);
    tcase_add_test(tc, out_of_memory_fails_the_load_and_never_drops_a_glob);
    tcase_set_timeout(tc, 300);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
