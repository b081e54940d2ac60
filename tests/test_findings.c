/* Timeline order, merging and milestones, and the findings and verdict
 * rules (docs/findings.md) on hand-made events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/findings.h"
#include "testutil.h"

static kt_artifact_set defs;
static kt_artifact art_install, art_program, art_reg, art_sig, art_removal, art_tool, art_ksn,
    art_ksn_off, art_msi, art_msi_removed, art_run, art_driver, art_update;

static void setup(void)
{
    load_shipped_artifacts(&defs);
    art_install =
        (kt_artifact){.id = "t.install", .category = KT_CAT_INSTALL, .role = KT_ROLE_PROGRAM};
    art_program =
        (kt_artifact){.id = "t.program", .category = KT_CAT_PRESENCE, .role = KT_ROLE_PROGRAM};
    art_reg =
        (kt_artifact){.id = "t.reg", .category = KT_CAT_PRESENCE, .role = KT_ROLE_REGISTRATION};
    art_sig = (kt_artifact){.id = "t.sig", .category = KT_CAT_SIGNATURE_UPDATE};
    art_removal = (kt_artifact){.id = "t.removal", .category = KT_CAT_REMOVAL};
    art_tool =
        (kt_artifact){.id = "t.tool", .category = KT_CAT_PRESENCE, .removal_method = "kavremover"};
    art_ksn = (kt_artifact){.id = "t.ksn", .category = KT_CAT_KSN};
    art_ksn_off = (kt_artifact){.id = "t.ksn-off", .category = KT_CAT_KSN, .ksn_disabled = true};
    art_driver = (kt_artifact){.id = "t.driver",
                               .category = KT_CAT_INSTALL,
                               .role = KT_ROLE_RESIDUE,
                               .join_primary = true};
    art_update = (kt_artifact){.id = "t.update", .category = KT_CAT_UPDATE};
    art_msi = (kt_artifact){.id = "t.msi", .category = KT_CAT_INSTALL, .installer_record = true};
    art_msi_removed =
        (kt_artifact){.id = "t.msi-removed", .category = KT_CAT_REMOVAL, .removal_method = "msi"};
    art_run = (kt_artifact){.id = "t.run", .category = KT_CAT_EXECUTION};
}

static void teardown(void)
{
    kt_artifact_set_release(&defs);
}

static void ev(kt_timeline *tl, const kt_artifact *a, const char *when, const char *product,
               const char *version, bool allocated, const char *path)
{
    kt_event e = {0};
    e.time = truth_time(when);
    e.precision = KT_PREC_100NS;
    e.time_source = "test";
    e.category = a->category;
    e.role = a->role;
    e.removal_method = a->removal_method;
    e.artifact = a;
    e.vendor = strncmp(product ? product : "", "ultraav", 7) == 0 ? "ultraav" : "kaspersky";
    e.product_id = (char *)product;
    e.version = (char *)version;
    e.allocated = allocated;
    e.path = (char *)path;
    e.description = "test event";
    ck_assert_int_eq(kt_timeline_add(tl, &e), 0);
}

static bool has_id(const kt_strlist *l, const char *id)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i], id) == 0)
            return true;
    return false;
}

static kt_system_finding build(kt_timeline *tl)
{
    kt_timeline_finish(tl, &defs);
    kt_system_finding f;
    kt_error err = {0};
    ck_assert_int_eq(kt_findings_build(&defs, tl, 0, &f, &err), 0);
    return f;
}

START_TEST(timeline_is_sorted_merged_numbered_and_placed)
{
    kt_timeline tl = {0};
    ev(&tl, &art_sig, "2024-10-01T00:00:00Z", "kaspersky-kes", NULL, true, "b");
    ev(&tl, &art_install, "2022-03-01T00:00:00Z", "kaspersky-kes", NULL, true, "a");
    ev(&tl, &art_sig, "2024-10-01T00:00:00Z", "kaspersky-kes", NULL, true, "b"); /* duplicate */
    ev(&tl, &art_sig, "2024-07-20T04:00:00Z", "kaspersky-kes", NULL, true, "c");
    kt_timeline_finish(&tl, &defs);
    ck_assert_uint_eq(tl.count, 3);
    ck_assert_str_eq(tl.items[0].id, "E000001");
    ck_assert_str_eq(tl.items[0].path, "a");
    ck_assert_str_eq(tl.items[0].phase, "before announced");
    /* Exactly at a milestone: on its side. */
    ck_assert_str_eq(tl.items[1].phase, "sales_ban..vendor_cutoff");
    ck_assert_str_eq(tl.items[1].nearest, "sales_ban");
    ck_assert_int_eq(tl.items[1].distance, 0);
    ck_assert_str_eq(tl.items[2].phase, "after cutoff");
    ck_assert_str_eq(tl.items[2].nearest, "cutoff");
    ck_assert_int_eq(tl.items[2].distance, 2 * 86400 - 4 * 3600);
    kt_timeline_release(&tl);
}
END_TEST

START_TEST(present_product_with_no_update_evidence_leaves_signature_verdict_open)
{
    kt_timeline tl = {0};
    ev(&tl, &art_install, "2024-08-01T10:00:00Z", "kaspersky-kes", "12.2.0", true, "p");
    ev(&tl, &art_reg, "2024-08-01T10:01:00Z", "kaspersky-kes", "12.2.0.462", true, NULL);
    kt_system_finding f = build(&tl);
    ck_assert_uint_eq(f.nproducts, 1);
    ck_assert_str_eq(kt_status_name(f.products[0].status), "present");
    ck_assert_str_eq(f.products[0].version, "12.2.0.462");
    ck_assert_int_eq(f.verdicts[KT_V_PRESENT_AT_ACQUISITION], KT_TRUE);
    ck_assert_int_eq(f.verdicts[KT_V_INSTALLED_AFTER_SALES_BAN], KT_TRUE);
    ck_assert_int_eq(f.verdicts[KT_V_SIGNATURE_UPDATE_AFTER_CUTOFF], KT_NULL);
    ck_assert_int_eq(f.verdicts[KT_V_KSN_AFTER_CUTOFF], KT_NULL);
    ck_assert_int_eq(f.verdicts[KT_V_REMOVED_BEFORE_CUTOFF], KT_FALSE);
    ck_assert_int_eq(f.verdicts[KT_V_CODEBASE_UPDATE_AFTER_CUTOFF], KT_FALSE);
    ck_assert_uint_ge(f.verdict_ev[KT_V_INSTALLED_AFTER_SALES_BAN].count, 1);
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);
}
END_TEST

START_TEST(new_release_after_cutoff_is_a_codebase_update)
{
    kt_timeline tl = {0};
    ev(&tl, &art_install, "2023-01-01T00:00:00Z", "kaspersky-consumer", "21.3", true, "AVP21.3");
    ev(&tl, &art_reg, "2023-01-01T00:05:00Z", "kaspersky-consumer", "21.3.10.391", true, NULL);
    ev(&tl, &art_install, "2024-10-02T08:00:00Z", "kaspersky-consumer", "21.8", true, "AVP21.8");
    ev(&tl, &art_ksn, "2024-10-03T08:00:00Z", "kaspersky-consumer", NULL, true, NULL);
    kt_system_finding f = build(&tl);
    const kt_product_finding *p = &f.products[0];
    ck_assert_str_eq(p->version, "21.8");
    ck_assert_int_eq(p->last_codebase_update, truth_time("2024-10-02T08:00:00Z"));
    ck_assert_int_eq(f.verdicts[KT_V_CODEBASE_UPDATE_AFTER_CUTOFF], KT_TRUE);
    ck_assert_str_eq(kt_ksn_name(p->ksn), "enabled");
    ck_assert_int_eq(f.verdicts[KT_V_KSN_AFTER_CUTOFF], KT_TRUE);
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);
}
END_TEST

START_TEST(ksn_on_at_install_counts_while_installed_past_the_cutoff)
{
    /* An answer file accepted KSN in 2023; the product is still there. */
    kt_timeline tl = {0};
    ev(&tl, &art_install, "2023-02-14T16:22:00Z", "kaspersky-kesl", "12.0.0-6672", true, "p");
    ev(&tl, &art_reg, "2023-02-14T16:22:05Z", "kaspersky-kesl", "12.0.0-6672", true, NULL);
    ev(&tl, &art_ksn, "2023-02-14T16:20:00Z", "kaspersky-kesl", NULL, true, "autoinstall.ini");
    kt_system_finding f = build(&tl);
    ck_assert_str_eq(kt_ksn_name(f.products[0].ksn), "enabled");
    ck_assert_int_eq(f.products[0].last_ksn_evidence, truth_time("2023-02-14T16:20:00Z"));
    ck_assert_int_eq(f.verdicts[KT_V_KSN_AFTER_CUTOFF], KT_TRUE);
    /* Behind it: the answer file (KSN on) and what shows the product still
     * there (its registration and program files). */
    const kt_strlist *why = &f.verdict_ev[KT_V_KSN_AFTER_CUTOFF];
    ck_assert_uint_eq(why->count, 3);
    ck_assert(has_id(why, "E000001") && has_id(why, "E000002") && has_id(why, "E000003"));
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);

    /* The same, removed before the cutoff: KSN ended with it. */
    ev(&tl, &art_install, "2023-02-14T16:22:00Z", "kaspersky-kesl", NULL, false, "p");
    ev(&tl, &art_ksn, "2023-02-14T16:20:00Z", "kaspersky-kesl", NULL, true, "autoinstall.ini");
    ev(&tl, &art_msi_removed, "2024-09-10T14:00:00Z", "kaspersky-kesl", NULL, true, NULL);
    f = build(&tl);
    ck_assert_int_eq(f.verdicts[KT_V_KSN_AFTER_CUTOFF], KT_FALSE);
    /* Behind it: the removal before the cutoff. */
    ck_assert_uint_eq(f.verdict_ev[KT_V_KSN_AFTER_CUTOFF].count, 1);
    ck_assert_str_eq(f.verdict_ev[KT_V_KSN_AFTER_CUTOFF].items[0], tl.items[2].id);
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);
}
END_TEST

START_TEST(ksn_off_decides_by_its_state_at_the_cutoff)
{
    /* The KSN Statement declined during setup (the KTS 21.2 capture), the
     * product present past the cutoff: off, nothing turns it on. */
    kt_timeline tl = {0};
    ev(&tl, &art_ksn_off, "2020-12-19T04:39:23Z", "kaspersky-consumer", NULL, true, NULL);
    ev(&tl, &art_msi, "2020-12-19T04:40:52Z", "kaspersky-consumer", "21.2", true, NULL);
    ev(&tl, &art_reg, "2020-12-19T04:41:00Z", "kaspersky-consumer", NULL, true, NULL);
    ev(&tl, &art_program, "2020-12-19T04:41:00Z", "kaspersky-consumer", NULL, true, "p");
    kt_system_finding f = build(&tl);
    ck_assert_str_eq(kt_ksn_name(f.products[0].ksn), "disabled");
    ck_assert_uint_eq(f.products[0].ev_ksn.count, 1);
    ck_assert_str_eq(f.products[0].ev_ksn.items[0], tl.items[0].id);
    ck_assert_int_eq(f.verdicts[KT_V_KSN_AFTER_CUTOFF], KT_FALSE);
    /* Behind it: the KSN Statement declined. */
    ck_assert_uint_eq(f.verdict_ev[KT_V_KSN_AFTER_CUTOFF].count, 1);
    ck_assert_str_eq(f.verdict_ev[KT_V_KSN_AFTER_CUTOFF].items[0], tl.items[0].id);
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);

    /* Accepted in 2021, found off only after the cutoff (UseKSN 0 as of
     * a key's last write): on at the cutoff, off since a time not known. */
    ev(&tl, &art_ksn, "2021-01-01T00:00:00Z", "kaspersky-consumer", NULL, true, NULL);
    ev(&tl, &art_ksn_off, "2024-11-01T00:00:00Z", "kaspersky-consumer", NULL, true, NULL);
    ev(&tl, &art_reg, "2021-01-01T00:00:00Z", "kaspersky-consumer", NULL, true, NULL);
    ev(&tl, &art_program, "2021-01-01T00:00:00Z", "kaspersky-consumer", NULL, true, "p");
    f = build(&tl);
    ck_assert_str_eq(kt_ksn_name(f.products[0].ksn), "disabled");
    ck_assert_int_eq(f.verdicts[KT_V_KSN_AFTER_CUTOFF], KT_NULL);
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);

    /* On, then off before the cutoff, and found off again after it. */
    ev(&tl, &art_ksn, "2021-01-01T00:00:00Z", "kaspersky-consumer", NULL, true, NULL);
    ev(&tl, &art_ksn_off, "2022-01-01T00:00:00Z", "kaspersky-consumer", NULL, true, NULL);
    ev(&tl, &art_ksn_off, "2024-11-01T00:00:00Z", "kaspersky-consumer", NULL, true, NULL);
    ev(&tl, &art_reg, "2021-01-01T00:00:00Z", "kaspersky-consumer", NULL, true, NULL);
    f = build(&tl);
    ck_assert_int_eq(f.verdicts[KT_V_KSN_AFTER_CUTOFF], KT_FALSE);
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);

    /* Installed after the cutoff, KSN declined during its setup: off from
     * the start. Declined only after a pre-cutoff install: not known. */
    ev(&tl, &art_ksn_off, "2024-10-01T10:00:00Z", "kaspersky-consumer", NULL, true, NULL);
    ev(&tl, &art_msi, "2024-10-01T10:01:00Z", "kaspersky-consumer", NULL, true, NULL);
    ev(&tl, &art_reg, "2024-10-01T10:01:00Z", "kaspersky-consumer", NULL, true, NULL);
    f = build(&tl);
    ck_assert_int_eq(f.verdicts[KT_V_KSN_AFTER_CUTOFF], KT_FALSE);
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);
    ev(&tl, &art_ksn_off, "2024-10-01T10:00:00Z", "kaspersky-consumer", NULL, true, NULL);
    ev(&tl, &art_msi, "2023-10-01T10:01:00Z", "kaspersky-consumer", NULL, true, NULL);
    ev(&tl, &art_reg, "2023-10-01T10:01:00Z", "kaspersky-consumer", NULL, true, NULL);
    f = build(&tl);
    ck_assert_int_eq(f.verdicts[KT_V_KSN_AFTER_CUTOFF], KT_NULL);
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);
}
END_TEST

START_TEST(updates_of_a_product_without_signatures_are_no_signature_updates)
{
    /* The anti-virus updated before the cutoff; the VPN beside it
     * (signatures: false) updated after it: no signature update after the
     * cutoff, and the VPN leaves that verdict nothing to be open about. */
    kt_timeline tl = {0};
    ev(&tl, &art_msi, "2020-12-19T04:40:52Z", "kaspersky-consumer", NULL, true, NULL);
    ev(&tl, &art_reg, "2020-12-19T04:41:00Z", "kaspersky-consumer", NULL, true, NULL);
    ev(&tl, &art_sig, "2020-12-31T11:08:59Z", "kaspersky-consumer", NULL, true, NULL);
    ev(&tl, &art_msi, "2020-12-19T04:42:24Z", "kaspersky-vpn", NULL, true, NULL);
    ev(&tl, &art_reg, "2020-12-19T04:43:00Z", "kaspersky-vpn", NULL, true, NULL);
    ev(&tl, &art_update, "2024-11-05T11:05:19Z", "kaspersky-vpn", NULL, true, NULL);
    kt_system_finding f = build(&tl);
    ck_assert_uint_eq(f.nproducts, 2);
    for (size_t i = 0; i < f.nproducts; i++) {
        const kt_product_finding *p = &f.products[i];
        if (strcmp(p->id, "kaspersky-vpn") == 0)
            ck_assert_int_eq(p->last_signature_update, KT_TIME_NONE);
        else
            ck_assert_int_eq(p->last_signature_update, truth_time("2020-12-31T11:08:59Z"));
    }
    ck_assert_int_eq(f.verdicts[KT_V_SIGNATURE_UPDATE_AFTER_CUTOFF], KT_FALSE);
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);
}
END_TEST

START_TEST(installer_records_and_removal_records_win)
{
    kt_timeline tl = {0};
    /* The folder is made first; the installer records completion later. */
    ev(&tl, &art_install, "2022-03-16T14:31:07Z", "kaspersky-kes", NULL, false, "folder");
    ev(&tl, &art_msi, "2022-03-16T14:33:13Z", "kaspersky-kes", "11.11.0.452", true, NULL);
    ev(&tl, &art_msi, "2023-03-16T10:00:00Z", "kaspersky-kes", "11.11.0.452", true, NULL);
    /* A removal tool downloaded (a method, not a removal record) and the
     * MSI removal record; a later folder inference. */
    ev(&tl, &art_tool, "2024-01-01T00:00:00Z", "kaspersky-kes", NULL, true, "kavremvr.exe");
    ev(&tl, &art_msi_removed, "2024-02-01T10:00:00Z", "kaspersky-kes", NULL, true, NULL);
    ev(&tl, &art_removal, "2024-02-01T10:00:02Z", "kaspersky-kes", NULL, true, "parent");
    ev(&tl, &art_run, "2024-01-31T09:00:00Z", "kaspersky-kes", NULL, true, "avp.exe");
    kt_system_finding f = build(&tl);
    const kt_product_finding *p = &f.products[0];
    ck_assert_int_eq(p->installed, truth_time("2022-03-16T14:33:13Z"));
    ck_assert_int_eq(p->first_seen, truth_time("2022-03-16T14:31:07Z"));
    ck_assert_str_eq(kt_status_name(p->status), "removed");
    ck_assert_int_eq(p->removed, truth_time("2024-02-01T10:00:00Z"));
    ck_assert_str_eq(kt_removal_name(p->removal_method), "msi");
    ck_assert_int_eq(p->last_execution, truth_time("2024-01-31T09:00:00Z"));
    ck_assert_uint_eq(p->ev_execution.count, 1);
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);
}
END_TEST

START_TEST(registration_without_program_files_is_registered_not_removed)
{
    /* A hives-only collection of a live install: the product key and its
     * install record, no program folder, no removal. */
    kt_timeline tl = {0};
    ev(&tl, &art_reg, "2020-12-19T04:40:52Z", "kaspersky-consumer", NULL, true, "key");
    ev(&tl, &art_sig, "2020-12-31T11:08:59Z", "kaspersky-consumer", NULL, true, "key");
    kt_system_finding f = build(&tl);
    ck_assert_str_eq(kt_status_name(f.products[0].status), "registered");
    ck_assert_int_eq(f.products[0].removed, KT_TIME_NONE);
    ck_assert_int_eq(f.products[0].removal_method, KT_REMOVAL_NONE);
    ck_assert_int_eq(f.verdicts[KT_V_PRESENT_AT_ACQUISITION], KT_NULL);
    ck_assert_int_eq(f.verdicts[KT_V_REMOVED_BEFORE_CUTOFF], KT_NULL);
    kt_system_finding_release(&f);

    /* The same registration with a removal after it (a receipt the
     * uninstaller left): removed, and not present. */
    ev(&tl, &art_msi_removed, "2021-06-01T00:00:00Z", "kaspersky-consumer", NULL, true, "log");
    f = build(&tl);
    ck_assert_str_eq(kt_status_name(f.products[0].status), "removed");
    ck_assert_int_eq(f.products[0].removed, truth_time("2021-06-01T00:00:00Z"));
    ck_assert_int_eq(f.verdicts[KT_V_PRESENT_AT_ACQUISITION], KT_FALSE);
    ck_assert_int_eq(f.verdicts[KT_V_REMOVED_BEFORE_CUTOFF], KT_TRUE);
    kt_system_finding_release(&f);

    /* With its program files: present. */
    ev(&tl, &art_program, "2020-12-19T04:40:00Z", "kaspersky-consumer", NULL, true, "dir");
    f = build(&tl);
    ck_assert_str_eq(kt_status_name(f.products[0].status), "present");
    ck_assert_int_eq(f.verdicts[KT_V_PRESENT_AT_ACQUISITION], KT_TRUE);
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);
}
END_TEST

START_TEST(removal_time_unknown_leaves_removed_before_cutoff_open)
{
    kt_timeline tl = {0};
    ev(&tl, &art_install, "2022-01-01T00:00:00Z", "kaspersky-kes", NULL, false, "deleted");
    kt_system_finding f = build(&tl);
    ck_assert_str_eq(kt_status_name(f.products[0].status), "removed");
    ck_assert_int_eq(f.products[0].removed, KT_TIME_NONE);
    ck_assert_int_eq(f.verdicts[KT_V_REMOVED_BEFORE_CUTOFF], KT_NULL);
    ck_assert_int_eq(f.verdicts[KT_V_SIGNATURE_UPDATE_AFTER_CUTOFF], KT_NULL);
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);
}
END_TEST

/* The state of f's product k at the instant of `milestone`. */
static const kt_product_state *state(const kt_system_finding *f, const char *milestone, size_t k)
{
    for (size_t i = 0; i < f->nstates; i++)
        if (strcmp(f->states[i].milestone, milestone) == 0 && k < f->states[i].nproducts)
            return &f->states[i].products[k];
    ck_abort_msg("no state at %s", milestone);
    return NULL;
}

START_TEST(state_at_reads_only_events_by_the_instant_and_says_null_when_unknown)
{
    /* Installed 2022, upgraded after the cutoff, removed by MSI in 2024-11:
     * at the cutoff installed with the old release and its bases then. */
    kt_timeline tl = {0};
    ev(&tl, &art_msi, "2022-03-01T00:00:00Z", "kaspersky-kes", "11.11.0.452", false, NULL);
    ev(&tl, &art_sig, "2024-09-01T00:00:00Z", "kaspersky-kes", NULL, false, "b1");
    ev(&tl, &art_ksn, "2024-09-02T00:00:00Z", "kaspersky-kes", NULL, false, NULL);
    ev(&tl, &art_msi, "2024-10-01T00:00:00Z", "kaspersky-kes", "12.6.0.438", false, NULL);
    ev(&tl, &art_sig, "2024-10-02T00:00:00Z", "kaspersky-kes", NULL, false, "b2");
    ev(&tl, &art_msi_removed, "2024-11-04T00:00:00Z", "kaspersky-kes", NULL, false, NULL);
    kt_system_finding f = build(&tl);
    ck_assert_uint_eq(f.nstates, 3);
    ck_assert_str_eq(f.states[0].milestone, "sales_ban");
    ck_assert_str_eq(f.states[2].milestone, "cutoff");
    const kt_product_state *p = state(&f, "cutoff", 0);
    ck_assert_int_eq(p->installed, KT_TRUE);
    ck_assert_str_eq(p->version, "11.11.0.452");
    ck_assert_int_eq(p->last_signature_update, truth_time("2024-09-01T00:00:00Z"));
    ck_assert_int_eq(p->last_codebase_update, KT_TIME_NONE);
    ck_assert(p->ksn_applies && p->ksn == KT_KSN_ENABLED);
    ck_assert(has_id(&p->ev_ksn, "E000003") && p->ev_ksn.count == 1);
    ck_assert(has_id(&p->ev_installed, "E000003"));
    /* --as-of after the removal: gone, its last update kept, no version or KSN */
    kt_error err = {0};
    ck_assert_int_eq(kt_findings_state_at(&tl, truth_time("2024-12-01T00:00:00Z"), NULL, &f, &err),
                     0);
    ck_assert_uint_eq(f.nstates, 4);
    p = &f.states[3].products[0];
    ck_assert_str_eq(f.states[3].milestone, "");
    ck_assert_int_eq(p->installed, KT_FALSE);
    ck_assert(has_id(&p->ev_installed, "E000006"));
    ck_assert_str_eq(p->version, "");
    ck_assert(!p->ksn_applies);
    ck_assert_int_eq(p->last_signature_update, truth_time("2024-10-02T00:00:00Z"));
    ck_assert_int_eq(p->last_codebase_update, truth_time("2024-10-01T00:00:00Z"));
    /* before the install: not yet; an instant given twice is one entry */
    ck_assert_int_eq(kt_findings_state_at(&tl, truth_time("2022-01-01T00:00:00Z"), NULL, &f, &err),
                     0);
    ck_assert_int_eq(kt_findings_state_at(&tl, truth_time("2022-01-01T00:00:00Z"), NULL, &f, &err),
                     0);
    ck_assert_uint_eq(f.nstates, 5);
    ck_assert_int_eq(f.states[0].products[0].installed, KT_FALSE);
    ck_assert(has_id(&f.states[0].products[0].ev_installed, "E000001"));
    /* a lost source: "not installed" is not known */
    kt_diags d = {0};
    ck_assert_int_eq(kt_diags_addf(&d, KT_SEV_WARNING, "hive", 0, "SOFTWARE", NULL, "unreadable"),
                     0);
    kt_findings_account_losses(&f, &d);
    ck_assert_int_eq(f.states[0].products[0].installed, KT_NULL);
    ck_assert_int_eq(f.states[4].products[0].installed, KT_NULL);
    ck_assert_int_eq(state(&f, "cutoff", 0)->installed, KT_TRUE);
    kt_diags_release(&d);
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);

    /* Gone at acquisition, its removal dated by nothing: unknown after its
     * last trace; an install only later is "not yet". */
    kt_timeline t2 = {0};
    ev(&t2, &art_install, "2022-01-01T00:00:00Z", "kaspersky-kes", NULL, false, "deleted");
    ev(&t2, &art_install, "2024-10-01T00:00:00Z", "ultraav", NULL, true, "ua");
    ev(&t2, &art_reg, "2024-10-01T00:00:01Z", "ultraav", NULL, true, NULL);
    f = build(&t2);
    ck_assert_str_eq(f.products[0].id, "kaspersky-kes");
    ck_assert_int_eq(state(&f, "cutoff", 0)->installed, KT_NULL);
    ck_assert_uint_eq(state(&f, "cutoff", 0)->ev_installed.count, 0);
    ck_assert_int_eq(state(&f, "cutoff", 1)->installed, KT_FALSE);
    kt_system_finding_release(&f);
    kt_timeline_release(&t2);

    /* A local date that holds the instant, and nothing else: unknown. */
    kt_timeline t3 = {0};
    kt_event e = {.time = truth_time("2024-09-29T00:00:00Z"),
                  .precision = KT_PREC_DAY,
                  .time_source = "InstallDate",
                  .category = KT_CAT_INSTALL,
                  .role = KT_ROLE_REGISTRATION,
                  .artifact = &art_reg,
                  .vendor = "kaspersky",
                  .product_id = "kaspersky-kes",
                  .allocated = true,
                  .description = "test event"};
    ck_assert_int_eq(kt_timeline_add(&t3, &e), 0);
    f = build(&t3);
    ck_assert_int_eq(state(&f, "cutoff", 0)->installed, KT_NULL);
    ck_assert_int_eq(state(&f, "vendor_cutoff", 0)->installed, KT_FALSE);
    kt_system_finding_release(&f);
    kt_timeline_release(&t3);
}
END_TEST

START_TEST(seen_at_work_after_the_instant_dates_an_undated_removal_after_it)
{
    /* Gone at acquisition (only past finds), its removal undated: installed
     * at the cutoff only because an update after the cutoff shows it still
     * there; a presence or install find after it would not. */
    kt_timeline tl = {0};
    ev(&tl, &art_install, "2024-03-14T00:00:00Z", "kaspersky-kes", NULL, false, "deleted");
    ev(&tl, &art_sig, "2024-10-14T22:10:00Z", "kaspersky-kes", NULL, false, "log");
    kt_system_finding f = build(&tl);
    ck_assert_int_eq(f.products[0].status, KT_STATUS_REMOVED);
    ck_assert_int_eq(state(&f, "cutoff", 0)->installed, KT_TRUE);
    kt_error err = {0};
    ck_assert_int_eq(kt_findings_state_at(&tl, truth_time("2024-11-01T00:00:00Z"), NULL, &f, &err),
                     0);
    ck_assert_int_eq(f.states[f.nstates - 1].products[0].installed, KT_NULL);
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);

    kt_timeline t2 = {0};
    ev(&t2, &art_install, "2024-03-14T00:00:00Z", "kaspersky-kes", NULL, false, "deleted");
    ev(&t2, &art_reg, "2024-10-14T22:10:00Z", "kaspersky-kes", NULL, false, "copy");
    ev(&t2, &art_install, "2024-10-15T00:00:00Z", "kaspersky-kes", NULL, false, "again");
    f = build(&t2);
    ck_assert_int_eq(state(&f, "cutoff", 0)->installed, KT_NULL);
    kt_system_finding_release(&f);
    kt_timeline_release(&t2);
}
END_TEST

START_TEST(a_live_find_and_an_older_copy_of_it_stay_two_events)
{
    /* The same key, time and value in the live hive and in an older state
     * of it (a RegBack copy): both stay, so the live one still says the
     * product is there now. */
    kt_timeline tl = {0};
    ev(&tl, &art_reg, "2024-03-14T15:22:41Z", "kaspersky-kes", NULL, true, NULL);
    ev(&tl, &art_reg, "2024-03-14T15:22:41Z", "kaspersky-kes", NULL, false, NULL);
    ev(&tl, &art_reg, "2024-03-14T15:22:41Z", "kaspersky-kes", NULL, false, NULL); /* one fact */
    kt_system_finding f = build(&tl);
    ck_assert_uint_eq(tl.count, 2);
    ck_assert_int_eq(f.products[0].status, KT_STATUS_REGISTERED);
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);
}
END_TEST

START_TEST(unidentified_finds_join_the_primary_product_and_tools_alone_are_no_product)
{
    kt_timeline tl = {0};
    ev(&tl, &art_driver, "2023-05-01T00:00:00Z", NULL, NULL, true, "klif.sys");
    kt_system_finding f = build(&tl);
    ck_assert_uint_eq(f.nproducts, 1);
    ck_assert_str_eq(f.products[0].id, "kaspersky-unidentified");
    ck_assert_str_eq(kt_status_name(f.products[0].status), "residue");
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);

    /* A shared driver (`join: primary`) joins the primary product; a find
     * of an artifact that does not say so (a program folder whose name is
     * no known product) stays unidentified, and the agent and the VPN,
     * which are not primary, take nothing. */
    ev(&tl, &art_install, "2023-05-01T00:00:00Z", "kaspersky-consumer", NULL, true, "p");
    ev(&tl, &art_reg, "2023-05-01T00:00:01Z", "kaspersky-klnagent", NULL, true, NULL);
    ev(&tl, &art_reg, "2023-05-01T00:00:01.5Z", "kaspersky-vpn", NULL, true, NULL);
    ev(&tl, &art_driver, "2023-05-01T00:00:02Z", NULL, NULL, true, "klif.sys");
    ev(&tl, &art_program, "2023-05-01T00:00:03Z", NULL, NULL, true, "Kaspersky Unknown 1.0");
    f = build(&tl);
    ck_assert_uint_eq(f.nproducts, 4);
    for (size_t i = 0; i < f.nproducts; i++) {
        const kt_product_finding *p = &f.products[i];
        if (strcmp(p->id, "kaspersky-consumer") == 0)
            ck_assert_uint_eq(p->ev_all.count, 2);
        else if (strcmp(p->id, "kaspersky-unidentified") == 0)
            ck_assert_str_eq(p->ev_all.items[0], tl.items[4].id);
        else
            ck_assert_uint_eq(p->ev_all.count, 1);
    }
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);

    ev(&tl, &art_tool, "2024-05-01T00:00:00Z", NULL, NULL, true, "Downloads/kavremvr.exe");
    f = build(&tl);
    ck_assert_uint_eq(f.nproducts, 0);
    ck_assert_int_eq(f.verdicts[KT_V_EVER_INSTALLED], KT_FALSE);
    ck_assert_int_eq(f.verdicts[KT_V_REMOVED_BEFORE_CUTOFF], KT_NULL);
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);
}
END_TEST

START_TEST(migration_needs_kaspersky_and_marks_the_removal_method)
{
    kt_timeline tl = {0};
    ev(&tl, &art_install, "2023-02-01T00:00:00Z", "kaspersky-consumer", NULL, false, "gone");
    ev(&tl, &art_removal, "2024-09-19T14:00:00Z", "kaspersky-consumer", NULL, true,
       "Kaspersky Lab");
    ev(&tl, &art_install, "2024-09-19T14:20:00Z", "ultraav", NULL, true, "UltraAV");
    kt_system_finding f = build(&tl);
    ck_assert(f.migrated);
    ck_assert_int_eq(f.migration_time, truth_time("2024-09-19T14:20:00Z"));
    ck_assert_int_eq(f.verdicts[KT_V_MIGRATED_TO_ULTRAAV], KT_TRUE);
    ck_assert_int_eq(f.verdicts[KT_V_REMOVED_BEFORE_CUTOFF], KT_TRUE);
    for (size_t i = 0; i < f.nproducts; i++)
        if (strcmp(f.products[i].id, "kaspersky-consumer") == 0)
            ck_assert_str_eq(kt_removal_name(f.products[i].removal_method), "migration");
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);

    /* UltraAV alone is no migration. */
    ev(&tl, &art_install, "2024-09-19T14:20:00Z", "ultraav", NULL, true, "UltraAV");
    f = build(&tl);
    ck_assert(!f.migrated);
    ck_assert_int_eq(f.verdicts[KT_V_EVER_INSTALLED], KT_FALSE);
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);
}
END_TEST

/* An exempt product (CyberTrace, threat intelligence) is listed with its
 * facts and marked, and no verdict reads it: not ever installed, not a
 * signature update after the cutoff, and no migration from it. A covered
 * product beside it is the verdicts' subject as before. */
START_TEST(exempt_products_are_listed_but_no_verdict_reads_them)
{
    kt_timeline tl = {0};
    ev(&tl, &art_install, "2024-03-12T10:15:31Z", "kaspersky-cybertrace", NULL, true, "ktfs");
    ev(&tl, &art_reg, "2024-03-12T10:16:02Z", "kaspersky-cybertrace", NULL, true, "unit");
    ev(&tl, &art_sig, "2024-11-30T06:00:12Z", "kaspersky-cybertrace", NULL, true, "feed");
    ev(&tl, &art_removal, "2024-09-19T14:00:00Z", "kaspersky-cybertrace", NULL, true, "x");
    ev(&tl, &art_install, "2024-09-19T14:20:00Z", "ultraav", NULL, true, "UltraAV");
    kt_system_finding f = build(&tl);
    const kt_product_finding *ct = NULL, *ua = NULL;
    for (size_t i = 0; i < f.nproducts; i++) {
        if (strcmp(f.products[i].id, "kaspersky-cybertrace") == 0)
            ct = &f.products[i];
        if (strcmp(f.products[i].id, "ultraav") == 0)
            ua = &f.products[i];
    }
    ck_assert_ptr_nonnull(ct);
    ck_assert(ct->subject && ct->exempt);
    ck_assert_str_eq(ct->exemption, "threat-intelligence");
    ck_assert_ptr_nonnull(ua);
    ck_assert(!ua->subject && !ua->exempt);
    for (int v = 0; v < KT_V_COUNT; v++)
        ck_assert_msg(f.verdicts[v] != KT_TRUE, "%s", kt_verdict_name((kt_verdict)v));
    ck_assert_int_eq(f.verdicts[KT_V_EVER_INSTALLED], KT_FALSE);
    ck_assert_int_eq(f.verdicts[KT_V_SIGNATURE_UPDATE_AFTER_CUTOFF], KT_FALSE);
    ck_assert_int_eq(f.verdicts[KT_V_REMOVED_BEFORE_CUTOFF], KT_NULL);
    ck_assert(!f.migrated);
    kt_system_finding_release(&f);

    /* A covered product beside it: the verdicts are the covered one's. */
    ev(&tl, &art_install, "2023-01-05T00:00:00Z", "kaspersky-kesl", NULL, true, "kesl");
    ev(&tl, &art_reg, "2023-01-05T00:00:01Z", "kaspersky-kesl", NULL, true, "kesl");
    f = build(&tl);
    ck_assert_int_eq(f.verdicts[KT_V_EVER_INSTALLED], KT_TRUE);
    ck_assert_int_eq(f.verdicts[KT_V_PRESENT_AT_ACQUISITION], KT_TRUE);
    for (size_t i = 0; i < f.verdict_ev[KT_V_EVER_INSTALLED].count; i++)
        for (size_t k = 0; k < f.nproducts; k++)
            if (f.products[k].exempt)
                ck_assert(
                    !has_id(&f.products[k].ev_all, f.verdict_ev[KT_V_EVER_INSTALLED].items[i]));
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);
}
END_TEST

START_TEST(each_verdict_takes_the_strongest_backing_of_the_events_behind_it)
{
    kt_artifact install = {.id = "b.install",
                           .category = KT_CAT_INSTALL,
                           .role = KT_ROLE_PROGRAM,
                           .backing = KT_BACKING_INFERRED};
    kt_artifact reg = {.id = "b.reg",
                       .category = KT_CAT_PRESENCE,
                       .role = KT_ROLE_REGISTRATION,
                       .backing = KT_BACKING_REAL};
    kt_artifact sig_tool = {
        .id = "b.sig-tool", .category = KT_CAT_SIGNATURE_UPDATE, .backing = KT_BACKING_THIRD_PARTY};
    kt_artifact sig_doc = {
        .id = "b.sig-doc", .category = KT_CAT_SIGNATURE_UPDATE, .backing = KT_BACKING_VENDOR_DOC};
    kt_artifact sig_real = {
        .id = "b.sig-real", .category = KT_CAT_SIGNATURE_UPDATE, .backing = KT_BACKING_REAL};
    kt_timeline tl = {0};
    ev(&tl, &install, "2024-08-01T10:00:00Z", "kaspersky-kes", NULL, true, "p");
    ev(&tl, &reg, "2024-08-01T10:00:00Z", "kaspersky-kes", NULL, true, NULL);
    /* An older update from a real source is not behind the verdict. */
    ev(&tl, &sig_real, "2024-10-01T00:00:00Z", "kaspersky-kes", NULL, true, "old");
    ev(&tl, &sig_tool, "2024-10-05T00:00:00Z", "kaspersky-kes", NULL, true, "a");
    ev(&tl, &sig_doc, "2024-10-05T00:00:00Z", "kaspersky-kes", NULL, true, "b");
    kt_system_finding f = build(&tl);
    /* First seen: the install (inferred) and the registration (real). */
    ck_assert_uint_eq(f.verdict_ev[KT_V_EVER_INSTALLED].count, 2);
    ck_assert_int_eq(f.verdict_backing[KT_V_EVER_INSTALLED], KT_BACKING_REAL);
    ck_assert_int_eq(f.verdict_backing[KT_V_PRESENT_AT_ACQUISITION], KT_BACKING_REAL);
    /* Installed: the install alone. */
    ck_assert_int_eq(f.verdicts[KT_V_INSTALLED_AFTER_SALES_BAN], KT_TRUE);
    ck_assert_uint_eq(f.verdict_ev[KT_V_INSTALLED_AFTER_SALES_BAN].count, 1);
    ck_assert_int_eq(f.verdict_backing[KT_V_INSTALLED_AFTER_SALES_BAN], KT_BACKING_INFERRED);
    /* The latest update: a tool's and the vendor's reading of it. */
    ck_assert_int_eq(f.verdicts[KT_V_SIGNATURE_UPDATE_AFTER_CUTOFF], KT_TRUE);
    ck_assert_uint_eq(f.verdict_ev[KT_V_SIGNATURE_UPDATE_AFTER_CUTOFF].count, 2);
    ck_assert_int_eq(f.verdict_backing[KT_V_SIGNATURE_UPDATE_AFTER_CUTOFF], KT_BACKING_VENDOR_DOC);
    ck_assert_str_eq(kt_backing_name(f.verdict_backing[KT_V_SIGNATURE_UPDATE_AFTER_CUTOFF]),
                     "vendor-doc");
    /* No event behind it: nothing backs it. */
    ck_assert_uint_eq(f.verdict_ev[KT_V_CODEBASE_UPDATE_AFTER_CUTOFF].count, 0);
    ck_assert_int_eq(f.verdict_backing[KT_V_CODEBASE_UPDATE_AFTER_CUTOFF], KT_BACKING_UNKNOWN);
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);

    /* Definitions that say nothing: unknown, however many events. */
    ev(&tl, &art_install, "2023-02-01T00:00:00Z", "kaspersky-kes", NULL, true, "p");
    ev(&tl, &art_reg, "2023-02-01T00:00:00Z", "kaspersky-kes", NULL, true, NULL);
    f = build(&tl);
    ck_assert_uint_eq(f.verdict_ev[KT_V_EVER_INSTALLED].count, 2);
    ck_assert_int_eq(f.verdict_backing[KT_V_EVER_INSTALLED], KT_BACKING_UNKNOWN);
    ck_assert_str_eq(kt_backing_name(f.verdict_backing[KT_V_EVER_INSTALLED]), "unknown");
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);
}
END_TEST

/* Only a source that could not be read opens a "no": a time that could
 * not be placed (a zone table, a bad date in a log line) is no loss, and
 * another volume's loss is not this system's. */
START_TEST(only_losses_of_this_system_or_the_item_open_false_verdicts)
{
    static const struct {
        kt_severity sev;
        const char *code;
        int volume;
        bool opens;
    } cases[] = {
        {KT_SEV_WARNING, "zone", 0, false},         {KT_SEV_WARNING, "zone.table", -1, false},
        {KT_SEV_WARNING, "dpkg.time", 0, false},    {KT_SEV_WARNING, "evtx.date", 0, false},
        {KT_SEV_WARNING, "install-time", 0, false}, {KT_SEV_NOTE, "hive", 0, false},
        {KT_SEV_WARNING, "hive", 1, false},         {KT_SEV_WARNING, "hive", 0, true},
        {KT_SEV_WARNING, "image", -1, true},        {KT_SEV_WARNING, "file.read", 0, true},
        {KT_SEV_WARNING, "timezone", 0, true}, /* not a time of one value */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kt_timeline tl = {0};
        kt_system_finding f = build(&tl); /* nothing found: every verdict false */
        ck_assert_int_eq(f.verdicts[KT_V_EVER_INSTALLED], KT_FALSE);
        kt_diags d = {0};
        ck_assert_int_eq(kt_diags_addf(&d, cases[i].sev, cases[i].code, cases[i].volume, NULL, NULL,
                                       "%s", "test"),
                         0);
        kt_findings_account_losses(&f, &d);
        ck_assert_msg(f.nlosses == (cases[i].opens ? 1u : 0u), "%s on volume %d: %zu losses",
                      cases[i].code, cases[i].volume, f.nlosses);
        ck_assert_msg(f.verdicts[KT_V_EVER_INSTALLED] == (cases[i].opens ? KT_NULL : KT_FALSE),
                      "%s on volume %d", cases[i].code, cases[i].volume);
        ck_assert_int_eq(f.opened[KT_V_EVER_INSTALLED], cases[i].opens);
        kt_diags_release(&d);
        kt_system_finding_release(&f);
        kt_timeline_release(&tl);
    }
}
END_TEST

/* An integration event (role integration) of host `host`. */
static void wl_ev(kt_timeline *tl, const kt_artifact *a, const char *when, const char *host,
                  const char *path)
{
    kt_event e = {0};
    e.time = truth_time(when);
    e.precision = KT_PREC_100NS;
    e.time_source = "test";
    e.category = a->category;
    e.role = a->role;
    e.artifact = a;
    e.vendor = "kaspersky";
    e.product_id = a->component;
    e.product_name = host;
    e.path = path;
    e.description = "test event";
    ck_assert_int_eq(kt_timeline_add(tl, &e), 0);
}

START_TEST(white_label_integrations_and_their_verdict)
{
    kt_artifact sdk = {.id = "t.sdk",
                       .category = KT_CAT_PRESENCE,
                       .role = KT_ROLE_INTEGRATION,
                       .component = "kaspersky-kav-sdk"};
    kt_artifact idx = {.id = "t.idx",
                       .category = KT_CAT_SIGNATURE_UPDATE,
                       .role = KT_ROLE_INTEGRATION,
                       .component = "kaspersky-kav-sdk"};
    kt_artifact tool = {.id = "t.tdss", .category = KT_CAT_PRESENCE, .role = KT_ROLE_BUNDLED_TOOL};
    kt_timeline tl = {0};
    wl_ev(&tl, &sdk, "2024-02-12T15:20:10Z", "Fabrikam", "Program Files/Fabrikam/av/appinfo.kli");
    wl_ev(&tl, &idx, "2024-09-01T00:00:00Z", "fabrikam", "ProgramData/Fabrikam/bases/u1313g.xml");
    wl_ev(&tl, &idx, "2024-10-05T03:12:00Z", "Fabrikam", "ProgramData/Fabrikam/bases/u1313g.xml");
    wl_ev(&tl, &sdk, "2024-03-01T00:00:00Z", "Contoso", "Program Files/Contoso/Kave8.dll");
    ev(&tl, &tool, "2024-05-14T18:02:11Z", NULL, NULL, true, "Program Files/Kit/TDSSKiller.exe");
    kt_system_finding f = build(&tl);
    /* never products of the system: no other verdict reads them */
    ck_assert_uint_eq(f.nproducts, 0);
    ck_assert_int_eq(f.verdicts[KT_V_EVER_INSTALLED], KT_FALSE);
    ck_assert_int_eq(f.verdicts[KT_V_SIGNATURE_UPDATE_AFTER_CUTOFF], KT_FALSE);
    /* one per host, its name without case */
    ck_assert_uint_eq(f.nintegrations, 2);
    const kt_integration *g = &f.integrations[0];
    ck_assert_str_eq(g->host, "Fabrikam");
    ck_assert_str_eq(g->folder, "Program Files/Fabrikam");
    ck_assert_uint_eq(g->components.count, 1);
    ck_assert_str_eq(g->components.items[0], "kaspersky-kav-sdk");
    ck_assert_uint_eq(g->markers.count, 2); /* appinfo.kli, u1313g.xml (once) */
    ck_assert_int_eq(g->first_seen, truth_time("2024-02-12T15:20:10Z"));
    ck_assert_int_eq(g->last_bases_update, truth_time("2024-10-05T03:12:00Z"));
    ck_assert(g->bases_after_cutoff);
    ck_assert_uint_eq(g->ev_bases.count, 1);
    ck_assert_int_eq(f.integrations[1].last_bases_update, KT_TIME_NONE);
    ck_assert(!f.integrations[1].bases_after_cutoff);
    /* the bundled tool: listed as such */
    ck_assert_uint_eq(f.ntools, 1);
    ck_assert_str_eq(f.tools[0].name, "TDSSKiller.exe");
    ck_assert_int_eq(f.verdicts[KT_V_CODE_IN_OTHER_PRODUCTS], KT_TRUE);
    ck_assert_uint_eq(f.verdict_ev[KT_V_CODE_IN_OTHER_PRODUCTS].count, 2);
    kt_system_finding_release(&f);
    kt_timeline_release(&tl);

    /* No integration: false only over a search that ran (its note), null
     * without one, and null again when a source was lost. */
    for (int k = 0; k < 3; k++) {
        kt_timeline t2 = {0};
        ev(&t2, &tool, "2024-05-14T18:02:11Z", NULL, NULL, true, "Program Files/Kit/KVRT.exe");
        kt_system_finding f2 = build(&t2);
        ck_assert_int_eq(f2.verdicts[KT_V_CODE_IN_OTHER_PRODUCTS], KT_NULL);
        kt_diags d = {0};
        if (k >= 1)
            ck_assert_int_eq(kt_diags_addf(&d, KT_SEV_NOTE, KT_DIAG_WHITELABEL_SEARCHED, 0, NULL,
                                           NULL, "searched in 'Program Files'"),
                             0);
        if (k == 2)
            ck_assert_int_eq(
                kt_diags_addf(&d, KT_SEV_WARNING, "hive", 0, "SOFTWARE", NULL, "unreadable"), 0);
        /* a note of another volume says nothing of this one */
        ck_assert_int_eq(kt_diags_addf(&d, KT_SEV_NOTE, KT_DIAG_WHITELABEL_SEARCHED, 3, NULL, NULL,
                                       "searched in 'ProgramData'"),
                         0);
        ck_assert_int_eq(kt_findings_account_losses(&f2, &d), 0);
        ck_assert_int_eq(f2.verdicts[KT_V_CODE_IN_OTHER_PRODUCTS], k == 1 ? KT_FALSE : KT_NULL);
        ck_assert(f2.whitelabel_searched == (k >= 1));
        ck_assert_uint_eq(f2.ntools, 1);
        kt_diags_release(&d);
        kt_system_finding_release(&f2);
        kt_timeline_release(&t2);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("findings");
    TCase *tc = tcase_create("core");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, timeline_is_sorted_merged_numbered_and_placed);
    tcase_add_test(tc, present_product_with_no_update_evidence_leaves_signature_verdict_open);
    tcase_add_test(tc, new_release_after_cutoff_is_a_codebase_update);
    tcase_add_test(tc, ksn_on_at_install_counts_while_installed_past_the_cutoff);
    tcase_add_test(tc, ksn_off_decides_by_its_state_at_the_cutoff);
    tcase_add_test(tc, updates_of_a_product_without_signatures_are_no_signature_updates);
    tcase_add_test(tc, installer_records_and_removal_records_win);
    tcase_add_test(tc, registration_without_program_files_is_registered_not_removed);
    tcase_add_test(tc, removal_time_unknown_leaves_removed_before_cutoff_open);
    tcase_add_test(tc, unidentified_finds_join_the_primary_product_and_tools_alone_are_no_product);
    tcase_add_test(tc, migration_needs_kaspersky_and_marks_the_removal_method);
    tcase_add_test(tc, exempt_products_are_listed_but_no_verdict_reads_them);
    tcase_add_test(tc, each_verdict_takes_the_strongest_backing_of_the_events_behind_it);
    tcase_add_test(tc, only_losses_of_this_system_or_the_item_open_false_verdicts);
    tcase_add_test(tc, state_at_reads_only_events_by_the_instant_and_says_null_when_unknown);
    tcase_add_test(tc, seen_at_work_after_the_instant_dates_an_undated_removal_after_it);
    tcase_add_test(tc, a_live_find_and_an_older_copy_of_it_stay_two_events);
    tcase_add_test(tc, white_label_integrations_and_their_verdict);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
