/* Volume Shadow Copies: scenario kes-vss-wiped (testdata/vss/), whose live
 * volume was wiped of Kaspersky and whose one store holds scenario
 * kes-active's volume, against its ground truth (testdata/vss/
 * expected.tsv) and against the old volume itself, byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kavtrace/bytes.h"
#include "kavtrace/scan.h"
#include "kavtrace/vss.h"
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

static const char *tri_name(kt_tri v)
{
    return v == KT_TRUE ? "true" : v == KT_FALSE ? "false" : "null";
}

static char *evidence(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "vss/%s", name);
    return path_join(evidence_dir(), rel);
}

static void check_time(const char *what, kt_time got, const char *want)
{
    char g[KT_TIME_ISO_MAX];
    kt_time_format_iso(got, g);
    if (strcmp(want, "null") == 0)
        ck_assert_msg(got == KT_TIME_NONE, "%s is %s, want null", what, g);
    else
        ck_assert_msg(got == truth_time(want), "%s is %s, want %s", what, g, want);
}

static void check_str(const char *what, const char *got, const char *want)
{
    const char *g = got && got[0] ? got : "null";
    ck_assert_msg(strcmp(g, want) == 0, "%s is '%s', want '%s'", what, g, want);
}

/* The store as the inventory lists it, against expected.tsv; then every
 * byte of it, read through the reader, against kes-active's volume. */
START_TEST(lists_the_store_and_reads_the_old_volume_back)
{
    char *path = evidence("kes-vss-wiped.raw");
    kt_inventory inv;
    kt_error err = {0};
    ck_assert_msg(kt_inventory_init(&inv, path, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(inv.vols.count, 1);
    const kt_inventory_volume *iv = &inv.volumes[0];
    ck_assert_uint_eq(iv->warnings.count, 0);
    ck_assert_uint_eq(iv->nstores, 1);
    const kt_inventory_store *st = &iv->stores[0];
    const kt_vss_store_info *si = st->info;
    ck_assert(si->readable);
    ck_assert_int_eq(st->volume.store, 1);
    ck_assert_int_eq(st->volume.index, 0);
    ck_assert_int_eq(st->sys.os, KT_OS_WINDOWS);
    ck_assert_str_eq(st->sys.hostname, "FIN-WS042");

    tsv t;
    truth_load(&t, "vss/expected.tsv");
    size_t checked = 0;
    for (size_t i = 0; i < t.count; i++) {
        tsv_row *r = &t.rows[i];
        if (strcmp(r->f[0], "store") != 0)
            continue;
        ck_assert_int_eq(r->nfields, 4);
        ck_assert_str_eq(r->f[1], "1");
        const char *field = r->f[2], *want = r->f[3];
        char what[128], size[32];
        snprintf(what, sizeof what, "store 1 %s", field);
        snprintf(size, sizeof size, "%lld", (long long)si->size);
        if (strcmp(field, "identifier") == 0)
            check_str(what, si->id, want);
        else if (strcmp(field, "copy_identifier") == 0)
            check_str(what, si->copy_id, want);
        else if (strcmp(field, "copy_set_identifier") == 0)
            check_str(what, si->set_id, want);
        else if (strcmp(field, "created") == 0)
            check_time(what, si->created, want);
        else if (strcmp(field, "volume_size") == 0)
            check_str(what, size, want);
        else
            ck_abort_msg("vss/expected.tsv:%d: unknown store field '%s'", r->line, field);
        checked++;
    }
    ck_assert_uint_eq(checked, 5);
    ck_assert_str_eq(st->volume.store_id, si->id);
    ck_assert(st->volume.store_created == si->created);

    /* Byte for byte, in reads of odd sizes that straddle 16 KiB blocks. */
    char *old = evidence("kes-active-volume.img");
    kt_buf want = {0};
    file_load(old, &want);
    ck_assert_uint_eq(want.len, (size_t)si->size);
    uint8_t *got = malloc(want.len);
    ck_assert_ptr_nonnull(got);
    size_t step = 3 * 16384 + 4097;
    for (size_t off = 0; off < want.len; off += step) {
        size_t n = want.len - off < step ? want.len - off : step;
        ssize_t r = kt_vss_read(iv->vss, 0, (int64_t)off, got + off, n, &err);
        ck_assert_msg(r == (ssize_t)n, "read at %zu: %zd (%s)", off, r, err.msg);
    }
    ck_assert_msg(memcmp(got, want.data, want.len) == 0,
                  "the store does not give kes-active's volume back");
    /* The live volume is not the old one: the store is what differs. */
    ck_assert(kt_image_read(inv.img, iv->volume->offset, got, want.len, &err) == (ssize_t)want.len);
    ck_assert(memcmp(got, want.data, want.len) != 0);
    free(got);
    kt_buf_release(&want);
    free(old);
    tsv_free(&t);
    kt_inventory_release(&inv);
    free(path);
}
END_TEST

/* The scan against expected.tsv, in two containers: Kaspersky known only
 * from the store, every event of it marked with the store, none of it
 * taken for present. */
static void check_scan(const char *file)
{
    char *path = evidence(file);
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s: %s", file, err.msg);
    ck_assert_uint_eq(s.nsystems, 1);
    /* no warning: only the white-label search's note */
    ck_assert_uint_eq(s.warnings.count, 1);
    ck_assert_str_eq(s.warnings.items[0].code, KT_DIAG_WHITELABEL_SEARCHED);
    const kt_scan_system *sys = &s.systems[0];
    const kt_system_finding *f = &sys->findings;
    tsv t;
    truth_load(&t, "vss/expected.tsv");
    for (size_t i = 0; i < t.count; i++) {
        tsv_row *r = &t.rows[i];
        const char *scope = r->f[0];
        if (strcmp(scope, "store") == 0)
            continue;
        ck_assert_msg(r->nfields == 3, "vss/expected.tsv:%d: %d fields", r->line, r->nfields);
        const char *field = r->f[1], *want = r->f[2];
        char what[256];
        snprintf(what, sizeof what, "%s: %s %s", file, scope, field);
        if (strcmp(scope, "system") == 0) {
            if (strcmp(field, "os") == 0)
                check_str(what, kt_os_name(sys->sys.os), want);
            else if (strcmp(field, "hostname") == 0)
                check_str(what, sys->sys.hostname, want);
            else
                ck_abort_msg("%s: unknown field", what);
        } else if (strcmp(scope, "verdict") == 0) {
            bool known = false;
            for (int v = 0; v < KT_V_COUNT; v++)
                if (strcmp(kt_verdict_name((kt_verdict)v), field) == 0) {
                    known = true;
                    check_str(what, tri_name(f->verdicts[v]), want);
                }
            ck_assert_msg(known, "%s: unknown verdict", what);
        } else if (strncmp(scope, "product:", 8) == 0) {
            const kt_product_finding *p = NULL;
            for (size_t k = 0; k < f->nproducts; k++)
                if (strcmp(f->products[k].id, scope + 8) == 0)
                    p = &f->products[k];
            ck_assert_msg(p != NULL, "%s: no such product", what);
            if (strcmp(field, "version") == 0)
                check_str(what, p->version, want);
            else if (strcmp(field, "installed") == 0)
                check_time(what, p->installed, want);
            else if (strcmp(field, "first_seen") == 0)
                check_time(what, p->first_seen, want);
            else if (strcmp(field, "last_signature_update") == 0)
                check_time(what, p->last_signature_update, want);
            else if (strcmp(field, "removed") == 0)
                check_time(what, p->removed, want);
            else if (strcmp(field, "status") == 0)
                check_str(what, kt_status_name(p->status), want);
            else if (strcmp(field, "removal_method") == 0)
                check_str(what, kt_removal_name(p->removal_method), want);
            else
                ck_abort_msg("%s: unknown field", what);
        } else {
            ck_abort_msg("vss/expected.tsv:%d: unknown scope '%s'", r->line, scope);
        }
    }
    /* Every Kaspersky event comes from store 1, and says so. */
    size_t from_store = 0;
    kt_time created = truth_time("2024-09-25T03:00:12.3456789Z");
    for (size_t i = 0; i < s.tl.count; i++) {
        const kt_event *e = &s.tl.items[i];
        if (e->vendor == NULL || strcmp(e->vendor, "kaspersky") != 0)
            continue;
        ck_assert_msg(e->store == 1, "%s: event %s (%s) not from the store", file, e->id,
                      e->description);
        ck_assert_str_eq(e->store_id, "4b565353-0000-4000-8000-000000000925");
        ck_assert(e->store_created == created);
        ck_assert_int_eq(e->volume, 0);
        from_store++;
    }
    ck_assert_uint_gt(from_store, 10);
    /* The verdict rests on the store's events. */
    const kt_strlist *ev = &f->verdict_ev[KT_V_EVER_INSTALLED];
    ck_assert_uint_gt(ev->count, 0);
    for (size_t i = 0; i < ev->count; i++)
        ck_assert_int_eq(kt_timeline_find(&s.tl, ev->items[i])->store, 1);
    tsv_free(&t);
    kt_scan_release(&s);
    free(path);
}

START_TEST(finds_kaspersky_only_in_the_shadow_copy)
{
    check_scan("kes-vss-wiped.raw");
    check_scan("kes-vss-wiped.E01");
}
END_TEST

/* --no-vss: the live volume alone has nothing of Kaspersky. */
START_TEST(without_shadow_copies_the_live_volume_is_clean)
{
    char *path = evidence("kes-vss-wiped.raw");
    kt_scan s = {.inventory_flags = KT_INVENTORY_NO_VSS};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(s.nsystems, 1);
    ck_assert_ptr_null(s.inv.volumes[0].vss);
    ck_assert_uint_eq(s.systems[0].findings.nproducts, 0);
    ck_assert_int_eq(s.systems[0].findings.verdicts[KT_V_EVER_INSTALLED], KT_FALSE);
    kt_scan_release(&s);
    free(path);
}
END_TEST

/* The volume's VSS catalog offset, read from its volume header. */
static uint64_t catalog_offset(const uint8_t *vol, size_t len)
{
    uint64_t off = 0;
    ck_assert(kt_rd_le64(vol, len, 0x1e00 + 48, &off));
    ck_assert(off > 0 && off + 16384 <= len);
    return off;
}

/* A store whose block list is damaged: a warning that names the store, and
 * no "never installed" resting on a scan that could not read it. */
START_TEST(an_unreadable_store_is_a_warning_and_leaves_the_verdict_open)
{
    char *src = evidence("kes-vss-wiped.raw");
    kt_buf img = {0};
    file_load(src, &img);
    uint8_t *vol = img.data + 2048 * 512;
    size_t vlen = img.len - 2048 * 512;
    uint64_t cat = catalog_offset(vol, vlen);
    uint64_t list = 0;
    ck_assert(kt_rd_le64(vol, vlen, cat + 256 + 8, &list)); /* type 3 entry */
    ck_assert(list > 0 && list + 16 <= vlen);
    memset(vol + list, 0, 16); /* the block list's VSS identifier */
    char tmpl[] = "/tmp/kt-vss-XXXXXX";
    int fd = mkstemp(tmpl);
    ck_assert_int_ge(fd, 0);
    ck_assert(write(fd, img.data, img.len) == (ssize_t)img.len);
    close(fd);

    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, tmpl, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    bool warned = false;
    for (size_t i = 0; i < s.warnings.count; i++) {
        const kt_diag *d = &s.warnings.items[i];
        if (d->code && strcmp(d->code, "vss") == 0 && d->volume == 0 &&
            strstr(d->message, "not collected"))
            warned = true;
    }
    ck_assert_msg(warned, "no warning about the shadow copy");
    ck_assert_uint_eq(s.nsystems, 1);
    ck_assert_int_eq(s.systems[0].findings.verdicts[KT_V_EVER_INSTALLED], KT_NULL);
    kt_scan_release(&s);
    unlink(tmpl);
    kt_buf_release(&img);
    free(src);
}
END_TEST

/* `kavtrace info` lists the store; --no-vss does not look. */
START_TEST(info_lists_the_store)
{
    char *path = evidence("kes-vss-wiped.E01");
    char cmd[2048];
    kt_buf out = {0}, errout = {0};
    snprintf(cmd, sizeof cmd, "'%s' info '%s'", kavtrace_bin(), path);
    ck_assert_int_eq(run_capture(cmd, &out, &errout), 0);
    ck_assert_msg(strstr((char *)out.data,
                         "  shadow copies:\n    volume 0, store 1: "
                         "4b565353-0000-4000-8000-000000000925, created "
                         "2024-09-25T03:00:12.3456789Z; windows: Windows 10 Enterprise, "
                         "hostname FIN-WS042\n"),
                  "%s", (char *)out.data);
    kt_buf_release(&out);
    kt_buf_release(&errout);
    snprintf(cmd, sizeof cmd, "'%s' info --json '%s'", kavtrace_bin(), path);
    ck_assert_int_eq(run_capture(cmd, &out, &errout), 0);
    ck_assert_msg(strstr((char *)out.data, "\"shadow_copies\": [\n            {\n"
                                           "              \"store\": 1,\n"
                                           "              \"identifier\": "
                                           "\"4b565353-0000-4000-8000-000000000925\""),
                  "%s", (char *)out.data);
    kt_buf_release(&out);
    kt_buf_release(&errout);
    snprintf(cmd, sizeof cmd, "'%s' info --no-vss '%s'", kavtrace_bin(), path);
    ck_assert_int_eq(run_capture(cmd, &out, &errout), 0);
    ck_assert(strstr((char *)out.data, "shadow copies") == NULL);
    kt_buf_release(&out);
    kt_buf_release(&errout);
    free(path);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("vss");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_unchecked_fixture(tc, load_defs, unload_defs);
    tcase_add_test(tc, lists_the_store_and_reads_the_old_volume_back);
    tcase_add_test(tc, finds_kaspersky_only_in_the_shadow_copy);
    tcase_add_test(tc, without_shadow_copies_the_live_volume_is_clean);
    tcase_add_test(tc, an_unreadable_store_is_a_warning_and_leaves_the_verdict_open);
    tcase_add_test(tc, info_lists_the_store);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
