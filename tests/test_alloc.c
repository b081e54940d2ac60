/* Out of memory in the timeline, the findings and the writers: every
 * allocation is made to fail in turn (kt_alloc_fail_after), on the events
 * of a real scenario scan. Each call must then return KT_ENOMEM and leave
 * nothing half-built (the sanitizer build checks for leaks), or succeed
 * with exactly the result it gives with memory to spare. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/alloc.h"
#include "kavtrace/diag.h"
#include "kavtrace/findings.h"
#include "kavtrace/scan.h"
#include "kavtrace/writers.h"
#include "testutil.h"

#define MAX_TRIES 100000 /* allocations one call may make before it must succeed */

static kt_artifact_set defs;
static kt_scan scan;

static void setup(void)
{
    load_shipped_artifacts(&defs);
    char *path = path_join(evidence_dir(), "scenarios/kes-active.E01");
    kt_error err = {0};
    memset(&scan, 0, sizeof scan);
    ck_assert_msg(kt_scan_run(&defs, path, &scan, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_ge(scan.tl.count, 20);
    ck_assert_uint_ge(scan.nsystems, 1);
    free(path);
}

static void teardown(void)
{
    kt_alloc_fail_never();
    kt_scan_release(&scan);
    kt_artifact_set_release(&defs);
}

static bool same_event(const kt_event *a, const kt_event *b)
{
    return a->time == b->time && a->category == b->category && a->artifact == b->artifact &&
           strcmp(a->description, b->description) == 0 &&
           strcmp(a->time_source, b->time_source) == 0;
}

START_TEST(timeline_add_fails_cleanly)
{
    /* Adding the scan's events to a new timeline with n allocations to
     * spare: the add that runs out returns KT_ENOMEM and the timeline
     * keeps every event added before it, whole. */
    size_t failures = 0;
    for (size_t n = 0; n < 64; n++) {
        kt_timeline tl = {0};
        kt_alloc_fail_after(n);
        size_t added = 0;
        int rc = KT_OK;
        for (size_t i = 0; i < scan.tl.count && rc == KT_OK; i++) {
            rc = kt_timeline_add(&tl, &scan.tl.items[i]);
            if (rc == KT_OK)
                added++;
        }
        kt_alloc_fail_never();
        ck_assert(rc == KT_OK || rc == KT_ENOMEM);
        failures += rc == KT_ENOMEM;
        ck_assert_uint_eq(tl.count, added);
        for (size_t i = 0; i < tl.count; i++)
            ck_assert(same_event(&tl.items[i], &scan.tl.items[i]));
        kt_timeline_release(&tl);
    }
    ck_assert_uint_ge(failures, 2); /* the event array and the string block did run out */
}
END_TEST

START_TEST(diagnostics_add_fails_cleanly)
{
    /* The diagnostics list shares the timeline's string pool: an add that
     * runs out leaves the list as it was, every earlier record whole. */
    size_t failures = 0;
    for (size_t n = 0; n < 16; n++) {
        kt_diags l = {0};
        kt_alloc_fail_after(n);
        int rc = KT_OK;
        size_t added = 0;
        for (int i = 0; i < 40 && rc == KT_OK; i++) {
            rc = kt_diags_addf(&l, KT_SEV_WARNING, "file.read", i, "a/b", "t.x", "message %d", i);
            added += rc == KT_OK;
        }
        kt_alloc_fail_never();
        ck_assert(rc == KT_OK || rc == KT_ENOMEM);
        failures += rc == KT_ENOMEM;
        ck_assert_uint_eq(l.count, added);
        for (size_t i = 0; i < l.count; i++) {
            char want[32];
            snprintf(want, sizeof want, "message %zu", i);
            ck_assert_str_eq(l.items[i].message, want);
            ck_assert_str_eq(l.items[i].path, "a/b");
        }
        kt_diags_release(&l);
    }
    ck_assert_uint_ge(failures, 2);
}
END_TEST

static void same_findings(const kt_system_finding *a, const kt_system_finding *b)
{
    ck_assert_uint_eq(a->nproducts, b->nproducts);
    for (int v = 0; v < KT_V_COUNT; v++) {
        ck_assert_int_eq(a->verdicts[v], b->verdicts[v]);
        ck_assert_uint_eq(a->verdict_ev[v].count, b->verdict_ev[v].count);
    }
    for (size_t i = 0; i < a->nproducts; i++) {
        const kt_product_finding *p = &a->products[i], *q = &b->products[i];
        ck_assert_str_eq(p->id, q->id);
        ck_assert_int_eq(p->status, q->status);
        ck_assert_int_eq(p->installed, q->installed);
        ck_assert_uint_eq(p->ev_all.count, q->ev_all.count);
        ck_assert_uint_eq(p->ev_status.count, q->ev_status.count);
        ck_assert_uint_eq(p->ev_installed.count, q->ev_installed.count);
    }
}

START_TEST(findings_fail_cleanly)
{
    /* An event id that cannot be recorded fails the findings: no field
     * may stand with part of its evidence missing. */
    const kt_scan_system *s = &scan.systems[0];
    size_t failures = 0;
    for (size_t n = 0; n < MAX_TRIES; n++) {
        kt_system_finding f;
        kt_error err = {0};
        kt_alloc_fail_after(n);
        int rc = kt_findings_build(&defs, &scan.tl, s->volume->index, &f, &err);
        kt_alloc_fail_never();
        if (rc == KT_OK) {
            ck_assert_int_eq(kt_findings_account_losses(&f, &scan.warnings), KT_OK);
            same_findings(&f, &s->findings);
            kt_system_finding_release(&f);
            break;
        }
        ck_assert_int_eq(rc, KT_ENOMEM);
        ck_assert_uint_eq(f.nproducts, 0);
        ck_assert_ptr_null(f.products);
        failures++;
    }
    ck_assert_uint_ge(failures, 20);
}
END_TEST

START_TEST(writers_fail_cleanly)
{
    for (size_t w = 0; w < kt_nwriters; w++) {
        const kt_writer *wr = kt_writers[w];
        kt_buf want = {0};
        ck_assert_int_eq(wr->write(&want, &scan, &defs), 0);
        size_t failures = 0;
        for (size_t n = 0; n < MAX_TRIES; n++) {
            kt_buf out = {0};
            kt_alloc_fail_after(n);
            int rc = wr->write(&out, &scan, &defs);
            kt_alloc_fail_never();
            if (rc == KT_OK) {
                ck_assert_uint_eq(out.len, want.len);
                ck_assert(memcmp(out.data, want.data, want.len) == 0);
                kt_buf_release(&out);
                break;
            }
            ck_assert_msg(rc == KT_ENOMEM, "%s: %d", wr->name, rc);
            failures++;
            kt_buf_release(&out);
        }
        ck_assert_msg(failures >= 1, "%s never ran out", wr->name);
        kt_buf_release(&want);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("alloc");
    TCase *tc = tcase_create("out of memory");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, timeline_add_fails_cleanly);
    tcase_add_test(tc, diagnostics_add_fails_cleanly);
    tcase_add_test(tc, findings_fail_cleanly);
    tcase_add_test(tc, writers_fail_cleanly);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
