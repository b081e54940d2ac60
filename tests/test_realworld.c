/* Acceptance on real-world material: the registry capture of a clean
 * Kaspersky Total Security 21.2.16.590 + Kaspersky VPN 5.2 install
 * (D3VI5H4/Antivirus-Artifacts @ e83ea53, December 2020), kept in
 * ../shared/real-kaspersky/antivirus-artifacts-kts21.2 as DERIVED regf
 * hives. What it must give is in ../shared/reference/real-world-kaspersky.md
 * 2.1.1 and 2.1.3; every key's LastWrite in those hives is a synthetic
 * 2000-01-01, so only times read from values are asserted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kavtrace/scan.h"
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

/* ../shared/real-kaspersky/antivirus-artifacts-kts21.2/NAME (freed by the caller). */
static char *capture_file(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "../real-kaspersky/antivirus-artifacts-kts21.2/%s", name);
    return path_join(corpus_dir(), rel);
}

/* A directory evidence item as the reference built it (2.1.3): the hives
 * at Windows/System32/config/{SOFTWARE,SYSTEM} and Users/dwThr/NTUSER.DAT. */
static void build_tree(char *root)
{
    ck_assert_ptr_nonnull(mkdtemp(root));
    const struct {
        const char *from, *dir, *to;
    } hives[] = {
        {"DERIVED-SOFTWARE.hive", "Windows/System32/config", "SOFTWARE"},
        {"DERIVED-SYSTEM.hive", "Windows/System32/config", "SYSTEM"},
        {"DERIVED-NTUSER.hive", "Users/dwThr", "NTUSER.DAT"},
    };
    for (size_t i = 0; i < sizeof hives / sizeof hives[0]; i++) {
        char *from = capture_file(hives[i].from);
        struct stat st;
        ck_assert_msg(stat(from, &st) == 0, "no real capture at '%s'", from);
        char cmd[3000];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s' && cp '%s' '%s/%s/%s'", root, hives[i].dir,
                 from, root, hives[i].dir, hives[i].to);
        ck_assert_int_eq(system(cmd), 0);
        free(from);
    }
}

static void remove_tree(const char *root)
{
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}

static const kt_product_finding *product(const kt_system_finding *f, const char *id)
{
    for (size_t i = 0; i < f->nproducts; i++)
        if (strcmp(f->products[i].id, id) == 0)
            return &f->products[i];
    ck_abort_msg("no product %s", id);
    return NULL;
}

/* The one event of the list (the evidence of a field). */
static const kt_event *only_event(const kt_timeline *tl, const kt_strlist *ids, const char *what)
{
    ck_assert_msg(ids->count == 1, "%s: %zu events behind it, want 1", what, ids->count);
    const kt_event *e = kt_timeline_find(tl, ids->items[0]);
    ck_assert_ptr_nonnull(e);
    return e;
}

static bool in_key(const kt_event *e, const char *part)
{
    return e->key && strstr(e->key, part);
}

START_TEST(kts21_capture_gives_install_signatures_ksn_and_a_separate_vpn)
{
    char root[] = "/tmp/kt-real-kts21-XXXXXX";
    build_tree(root);
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, root, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(s.nsystems, 1);
    ck_assert_int_eq(s.systems[0].sys.os, KT_OS_WINDOWS);
    const kt_system_finding *f = &s.systems[0].findings;
    /* Every time value decodes: no value is taken for a date it is not. */
    for (size_t w = 0; w < s.warnings.count; w++)
        ck_assert_msg(strcmp(s.warnings.items[w].code, "registry.time") != 0, "%s",
                      s.warnings.items[w].message);

    /* Two products: Total Security (AVP21.2 and protected\KIS) and the VPN
     * (KSDE5.2), nothing unidentified. */
    ck_assert_uint_eq(f->nproducts, 2);
    const kt_product_finding *av = product(f, "kaspersky-consumer");
    const kt_product_finding *vpn = product(f, "kaspersky-vpn");
    ck_assert_str_eq(av->version, "21.2.16.590");

    /* (1) AVP21.2\Data LastSuccessfulUpdate = UpdateState\LastUpdate =
     * 132538865392017081 (FILETIME). */
    ck_assert_int_eq(av->last_signature_update, truth_time("2020-12-31T11:08:59.2017081Z"));
    ck_assert_uint_eq(av->ev_signature.count, 2);
    for (size_t i = 0; i < av->ev_signature.count; i++) {
        const kt_event *e = kt_timeline_find(&s.tl, av->ev_signature.items[i]);
        ck_assert_ptr_nonnull(e);
        ck_assert_msg(in_key(e, "\\AVP21.2\\Data"), "%s", e->key);
    }

    /* (2) AVP21.2\environment InstallDate 1608352852 (Unix seconds); the
     * EULA accepted at 04:39:17 is earlier but not the installer's record. */
    ck_assert_int_eq(av->installed, truth_time("2020-12-19T04:40:52Z"));
    const kt_event *inst = only_event(&s.tl, &av->ev_installed, "installed");
    ck_assert_str_eq(inst->artifact->id, "kaspersky.win.install-date");
    ck_assert_str_eq(inst->value, "InstallDate");
    ck_assert(in_key(inst, "\\AVP21.2\\environment"));
    ck_assert_int_eq(f->verdicts[KT_V_INSTALLED_AFTER_SALES_BAN], KT_FALSE);

    /* (3) Agreements\KSN Accepted 0, ModificationTime 132528263631366975:
     * the KSN Statement declined during setup; UseKSN 0 agrees. */
    ck_assert_str_eq(kt_ksn_name(av->ksn), "disabled");
    const kt_event *ksn = only_event(&s.tl, &av->ev_ksn, "ksn");
    ck_assert_int_eq(ksn->time, truth_time("2020-12-19T04:39:23.1366975Z"));
    ck_assert_str_eq(ksn->artifact->id, "kaspersky.win.ksn-declined");
    ck_assert(in_key(ksn, "\\AVP21.2\\Data\\Agreements\\KSN"));
    ck_assert_str_eq(kt_ksn_name(vpn->ksn), "disabled");
    ck_assert_int_eq(f->verdicts[KT_V_KSN_AFTER_CUTOFF], KT_FALSE);

    /* (4) KSDE5.2's own LastSuccessfulUpdate (11:05:19.1219538) and
     * UpdateState\LastUpdate are the VPN's updates, not signatures. */
    ck_assert_int_eq(vpn->last_signature_update, KT_TIME_NONE);
    ck_assert_int_eq(vpn->installed, truth_time("2020-12-19T04:42:24Z"));
    size_t vpn_updates = 0;
    for (size_t i = 0; i < s.tl.count; i++) {
        const kt_event *e = &s.tl.items[i];
        if (!in_key(e, "\\KSDE5.2\\"))
            continue;
        ck_assert_str_eq(e->product_id, "kaspersky-vpn");
        ck_assert_int_ne(e->category, KT_CAT_SIGNATURE_UPDATE);
        if (e->category == KT_CAT_UPDATE && e->time == truth_time("2020-12-31T11:05:19.1219538Z") &&
            strcmp(e->artifact->id, "kaspersky.win.last-successful-update") == 0)
            vpn_updates++;
    }
    ck_assert_uint_eq(vpn_updates, 1);
    for (size_t i = 0; i < av->ev_all.count; i++)
        ck_assert(!in_key(kt_timeline_find(&s.tl, av->ev_all.items[i]), "KSDE"));
    ck_assert_int_eq(f->verdicts[KT_V_SIGNATURE_UPDATE_AFTER_CUTOFF], KT_FALSE);

    /* (6) ProductUpdate\FirstStartupTime 1608324242: the local wall clock
     * as Unix seconds; the capture's SYSTEM hive has no time zone, so it
     * is taken as UTC and says so. */
    bool first_startup = false;
    for (size_t i = 0; i < s.tl.count; i++) {
        const kt_event *e = &s.tl.items[i];
        if (strcmp(e->artifact->id, "kaspersky.win.first-startup") != 0)
            continue;
        ck_assert_int_eq(e->time, truth_time("2020-12-18T20:44:02Z"));
        ck_assert_str_eq(e->time_source,
                         "FirstStartupTime (Unix seconds), local time, zone unknown: taken as UTC");
        ck_assert_str_eq(e->product_id, "kaspersky-consumer");
        first_startup = true;
    }
    ck_assert(first_startup);

    /* (5) The capture holds hives only: both products are registered, their
     * program files are not in the evidence, and nothing shows a removal,
     * so whether they were there at acquisition is open, not "no". */
    ck_assert_str_eq(kt_status_name(av->status), "registered");
    ck_assert_str_eq(kt_status_name(vpn->status), "registered");
    ck_assert_int_eq(f->verdicts[KT_V_PRESENT_AT_ACQUISITION], KT_NULL);
    ck_assert_int_eq(f->verdicts[KT_V_REMOVED_BEFORE_CUTOFF], KT_NULL);

    kt_scan_release(&s);
    remove_tree(root);
}
END_TEST

/* ../shared/real-kaspersky/evtx-maps-kes/NAME's one event, as a kt-mkevtx
 * spec line: TimeCreated, EventID, Channel and the <Data> text byte for
 * byte (CR LF and all; backslashes doubled, CR, LF and TAB escaped). */
static void spec_line_from_capture(const char *name, FILE *spec)
{
    char rel[256];
    snprintf(rel, sizeof rel, "../real-kaspersky/evtx-maps-kes/%s", name);
    char *path = path_join(corpus_dir(), rel);
    kt_buf b = {0};
    file_load(path, &b);
    const char *x = (const char *)b.data;
    const char *tc = strstr(x, "SystemTime=\"");
    const char *id = strstr(x, "<EventID");
    const char *ch = strstr(x, "<Channel>");
    const char *d = strstr(x, "<Data>");
    const char *de = d ? strstr(d, "</Data>") : NULL;
    ck_assert_msg(tc && id && ch && d && de, "'%s' is not an event as captured", path);
    id = strchr(id, '>') + 1;
    tc += strlen("SystemTime=\"");
    ch += strlen("<Channel>");
    /* "2021-03-09 22:45:42.1360033" -> 2021-03-09T22:45:42.1360033Z */
    fprintf(spec, "record\t%.10sT%.16sZ\tavp\t-\t%d\t2\t%.*s\tHOSTNAME\t=", tc, tc + 11, atoi(id),
            (int)strcspn(ch, "<"), ch);
    for (const char *c = d + strlen("<Data>"); c < de; c++) {
        if (*c == '\\')
            fputs("\\\\", spec);
        else if (*c == '\r')
            fputs("\\r", spec);
        else if (*c == '\n')
            fputs("\\n", spec);
        else if (*c == '\t')
            fputs("\\t", spec);
        else
            fputc(*c, spec);
    }
    fputc('\n', spec);
    kt_buf_release(&b);
    free(path);
}

/* W22: the two real KES events EvtxECmd's maps quote (302 with one space
 * after each label, 362 with "Result\Description:" and several spaces, both
 * with CR LF line ends), written into a KES log beside the event-log tree's
 * hives (zone Eastern: EST on both days). */
START_TEST(real_kes_event_payloads_give_detections_and_bases_dates)
{
    char root[] = "/tmp/kt-real-kes-evtx-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(root));
    char spec_path[1200], cmd[4000];
    snprintf(spec_path, sizeof spec_path, "%s/kes.spec", root);
    FILE *spec = fopen(spec_path, "w");
    ck_assert_ptr_nonnull(spec);
    spec_line_from_capture("Kaspersky-Endpoint-Security_avp_302.example.xml.txt", spec);
    spec_line_from_capture("Kaspersky-Endpoint-Security_avp_362.example.xml.txt", spec);
    ck_assert_int_eq(fclose(spec), 0);
    const char *mkevtx = getenv("KT_MKEVTX");
    ck_assert_msg(mkevtx != NULL, "KT_MKEVTX is not set");
    snprintf(
        cmd, sizeof cmd,
        "set -e; cd '%s'; mkdir -p ev/Windows/System32/config ev/Windows/System32/winevt/Logs; "
        "cp '%s/evtx-tree/Windows/System32/config/SOFTWARE' "
        "'%s/evtx-tree/Windows/System32/config/SYSTEM' ev/Windows/System32/config/; "
        "'%s' kes.spec 'ev/Windows/System32/winevt/Logs/Kaspersky Endpoint Security.evtx'",
        root, evidence_dir(), evidence_dir(), mkevtx);
    ck_assert_int_eq(system(cmd), 0);

    char ev[1200];
    snprintf(ev, sizeof ev, "%s/ev", root);
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, ev, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(s.nsystems, 1);
    for (size_t w = 0; w < s.warnings.count; w++)
        ck_assert_msg(strncmp(s.warnings.items[w].code, "evtx", 4) != 0, "%s",
                      s.warnings.items[w].message);
    const struct {
        const char *artifact, *when;
        kt_category category;
    } want[] = {
        {"kaspersky.win.evtx-kes-detection", "2021-03-09T22:45:42.1360033Z", KT_CAT_DETECTION},
        /* "Database release date: 3/9/2021 12:40:00 PM", EST */
        {"kaspersky.win.evtx-kes-bases-date", "2021-03-09T17:40:00Z", KT_CAT_SIGNATURE_UPDATE},
        {"kaspersky.win.evtx-kes-detection", "2020-02-28T13:37:03.0223965Z", KT_CAT_DETECTION},
        /* "Database release date:     2/28/2020 1:47:00 AM", EST */
        {"kaspersky.win.evtx-kes-bases-date", "2020-02-28T06:47:00Z", KT_CAT_SIGNATURE_UPDATE},
    };
    size_t from_log = 0;
    for (size_t i = 0; i < s.tl.count; i++)
        if (s.tl.items[i].path && strstr(s.tl.items[i].path, "Kaspersky Endpoint Security.evtx"))
            from_log++;
    ck_assert_uint_eq(from_log, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const kt_event *e = NULL;
        kt_time t = truth_time(want[i].when);
        for (size_t k = 0; k < s.tl.count && !e; k++)
            if (s.tl.items[k].time == t &&
                strcmp(s.tl.items[k].artifact->id, want[i].artifact) == 0)
                e = &s.tl.items[k];
        ck_assert_msg(e != NULL, "no %s at %s", want[i].artifact, want[i].when);
        ck_assert_int_eq(e->category, want[i].category);
        ck_assert_str_eq(e->product_id, "kaspersky-kes");
    }
    /* Neither real reason ("Expert analysis", "Automatic analysis") is KSN. */
    const kt_system_finding *f = &s.systems[0].findings;
    const kt_product_finding *kes = product(f, "kaspersky-kes");
    ck_assert_int_eq(kes->last_signature_update, truth_time("2021-03-09T17:40:00Z"));
    ck_assert_str_eq(kt_ksn_name(kes->ksn), "unknown");
    kt_scan_release(&s);
    remove_tree(root);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("realworld");
    TCase *tc = tcase_create("kts21");
    tcase_add_unchecked_fixture(tc, load_defs, unload_defs);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, kts21_capture_gives_install_signatures_ksn_and_a_separate_vpn);
    tcase_add_test(tc, real_kes_event_payloads_give_detections_and_bases_dates);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
