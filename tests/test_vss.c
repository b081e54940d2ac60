/* Volume Shadow Copies: scenario kes-vss-wiped (testdata/vss/), whose live
 * volume was wiped of Kaspersky and whose one store holds scenario
 * kes-active's volume, against its ground truth (testdata/vss/
 * expected.tsv) and against the old volume itself, byte for byte; and
 * kes-vss-two-stores, the same with a second store taken after the cutoff
 * (expected-two-stores.tsv). */
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
/* The stores as the inventory lists them against the "store" rows of
 * truth (STORE FIELD VALUE); returns how many stores the rows name. */
static int check_stores(const kt_inventory_volume *iv, const char *truth)
{
    tsv t;
    truth_load(&t, truth);
    int nstores = 0;
    for (size_t i = 0; i < t.count; i++) {
        tsv_row *r = &t.rows[i];
        if (strcmp(r->f[0], "store") != 0)
            continue;
        ck_assert_int_eq(r->nfields, 4);
        int n = atoi(r->f[1]);
        ck_assert_msg(n >= 1 && (size_t)n <= iv->nstores, "%s:%d: no store %s", truth, r->line,
                      r->f[1]);
        nstores = n > nstores ? n : nstores;
        const kt_inventory_store *st = &iv->stores[n - 1];
        const kt_vss_store_info *si = st->info;
        ck_assert(si->readable);
        ck_assert_int_eq(st->volume.store, n);
        ck_assert_str_eq(st->volume.store_id, si->id);
        ck_assert(st->volume.store_created == si->created);
        const char *field = r->f[2], *want = r->f[3];
        char what[128], size[32];
        snprintf(what, sizeof what, "store %d %s", n, field);
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
            ck_abort_msg("%s:%d: unknown store field '%s'", truth, r->line, field);
    }
    tsv_free(&t);
    return nstores;
}

/* Store `index` (0-based) of iv, read through the reader in reads of odd
 * sizes that straddle 16 KiB blocks (malloc'd, len bytes). */
static uint8_t *read_store(const kt_inventory_volume *iv, size_t index, size_t len)
{
    kt_error err = {0};
    uint8_t *got = malloc(len);
    ck_assert_ptr_nonnull(got);
    size_t step = 3 * 16384 + 4097;
    for (size_t off = 0; off < len; off += step) {
        size_t n = len - off < step ? len - off : step;
        ssize_t r = kt_vss_read(iv->vss, index, (int64_t)off, got + off, n, &err);
        ck_assert_msg(r == (ssize_t)n, "read at %zu: %zd (%s)", off, r, err.msg);
    }
    return got;
}

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
    ck_assert_int_eq(st->volume.index, 0);
    ck_assert_int_eq(st->sys.os, KT_OS_WINDOWS);
    ck_assert_str_eq(st->sys.hostname, "FIN-WS042");
    ck_assert_int_eq(check_stores(iv, "vss/expected.tsv"), 1);

    /* Byte for byte against kes-active's volume. */
    char *old = evidence("kes-active-volume.img");
    kt_buf want = {0};
    file_load(old, &want);
    ck_assert_uint_eq(want.len, (size_t)st->info->size);
    uint8_t *got = read_store(iv, 0, want.len);
    ck_assert_msg(memcmp(got, want.data, want.len) == 0,
                  "the store does not give kes-active's volume back");
    /* The live volume is not the old one: the store is what differs. */
    ck_assert(kt_image_read(inv.img, iv->volume->offset, got, want.len, &err) == (ssize_t)want.len);
    ck_assert(memcmp(got, want.data, want.len) != 0);
    free(got);
    kt_buf_release(&want);
    free(old);
    kt_inventory_release(&inv);
    free(path);
}
END_TEST

/* Two stores (kt-mkvss.py's oldest-first catalog): both listed with their
 * times; the newest gives its volume back byte for byte; the older one,
 * read through the newer (libvshadow applies the newest store first), its
 * own: every 16 KiB block is its volume's, except blocks that were all
 * zeros then (free space) and that the stores occupy now, which read as
 * the live volume's (as on Windows, where they are undefined). The
 * document written between the two is in the newer store only. */
START_TEST(two_stores_each_give_their_own_past)
{
    char *path = evidence("kes-vss-two-stores.raw");
    kt_inventory inv;
    kt_error err = {0};
    ck_assert_msg(kt_inventory_init(&inv, path, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(inv.vols.count, 1);
    const kt_inventory_volume *iv = &inv.volumes[0];
    ck_assert_uint_eq(iv->warnings.count, 0);
    ck_assert_uint_eq(iv->nstores, 2);
    ck_assert_int_eq(check_stores(iv, "vss/expected-two-stores.tsv"), 2);
    ck_assert(iv->stores[0].info->created < iv->stores[1].info->created);

    static const char *const pasts[] = {"kes-active-volume.img",
                                        "kes-active-volume-2024-10-06.img"};
    kt_buf want[2] = {{0}};
    for (int k = 0; k < 2; k++) {
        char *p = evidence(pasts[k]);
        file_load(p, &want[k]);
        free(p);
        ck_assert_uint_eq(want[k].len, (size_t)iv->stores[k].info->size);
    }
    size_t len = want[0].len;
    ck_assert(memcmp(want[0].data, want[1].data, len) != 0);
    uint8_t *newer = read_store(iv, 1, len);
    ck_assert_msg(memcmp(newer, want[1].data, len) == 0, "store 2 does not give its volume back");
    uint8_t *older = read_store(iv, 0, len);
    uint8_t *live = malloc(len);
    ck_assert_ptr_nonnull(live);
    ck_assert(kt_image_read(inv.img, iv->volume->offset, live, len, &err) == (ssize_t)len);
    static const uint8_t zero[16384];
    size_t free_then = 0;
    for (size_t b = 0; b < len / 16384; b++) {
        const uint8_t *g = older + b * 16384, *w = want[0].data + b * 16384;
        if (memcmp(g, w, 16384) == 0)
            continue;
        ck_assert_msg(memcmp(w, zero, 16384) == 0 && memcmp(g, live + b * 16384, 16384) == 0,
                      "store 1, block %zu: neither its volume's nor free space read through", b);
        free_then++;
    }
    /* at most the blocks the stores' data and the catalog fill now: store 1's
     * 28 copies and store 2's 35, a header, a block list, a range list and
     * a bitmap each, the catalog file's 4 blocks (README.md) */
    ck_assert_uint_gt(free_then, 0);
    ck_assert_uint_le(free_then, 28 + 35 + 2 * 4 + 4);
    /* what differs between the two pasts, store 1 gives as the older */
    size_t differ = 0;
    for (size_t b = 0; b < len / 16384; b++)
        if (memcmp(want[0].data + b * 16384, want[1].data + b * 16384, 16384) != 0) {
            ck_assert(memcmp(older + b * 16384, want[0].data + b * 16384, 16384) == 0);
            differ++;
        }
    ck_assert_uint_gt(differ, 0);
    kt_stat st;
    const char *note = "Users/jdoe/Documents/note-2024-10-04.txt";
    ck_assert_int_eq(kt_fs_stat(iv->stores[1].fs, note, 0, &st, &err), KT_OK);
    ck_assert_int_eq(kt_fs_stat(iv->stores[0].fs, note, 0, &st, &err), KT_ENOTFOUND);
    ck_assert_int_eq(kt_fs_stat(iv->fs, note, 0, &st, &err), KT_ENOTFOUND);
    free(live);
    free(older);
    free(newer);
    kt_buf_release(&want[0]);
    kt_buf_release(&want[1]);
    kt_inventory_release(&inv);
    free(path);
}
END_TEST

/* The state of product id at milestone (NULL when not given). */
static const kt_product_state *state(const kt_system_finding *f, const char *milestone,
                                     const char *id)
{
    for (size_t i = 0; i < f->nstates; i++)
        if (strcmp(f->states[i].milestone, milestone) == 0)
            for (size_t k = 0; k < f->states[i].nproducts; k++)
                if (strcmp(f->states[i].products[k].id, id) == 0)
                    return &f->states[i].products[k];
    return NULL;
}

/* The instant of milestone's state. */
static kt_time state_time(const kt_system_finding *f, const char *milestone)
{
    for (size_t i = 0; i < f->nstates; i++)
        if (strcmp(f->states[i].milestone, milestone) == 0)
            return f->states[i].time;
    ck_abort_msg("no state at %s", milestone);
    return KT_TIME_NONE;
}

/* The scan of file against truth: Kaspersky known only from the stores,
 * every event of it marked with its store (as the truth's "store" rows
 * list them), none of it taken for present; the state at each milestone
 * the truth names, and the stores its "installed" answer rests on. */
static void check_scan_truth(const char *file, const char *truth, int nstores)
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
    truth_load(&t, truth);
    const char *store_id[3] = {NULL};
    kt_time store_created[3] = {0};
    for (size_t i = 0; i < t.count; i++) {
        tsv_row *r = &t.rows[i];
        const char *scope = r->f[0];
        if (strcmp(scope, "store") == 0) {
            int n = atoi(r->f[1]);
            ck_assert(n >= 1 && n <= nstores);
            if (strcmp(r->f[2], "identifier") == 0)
                store_id[n] = r->f[3];
            else if (strcmp(r->f[2], "created") == 0)
                store_created[n] = truth_time(r->f[3]);
            continue;
        }
        ck_assert_msg(r->nfields == 3, "%s:%d: %d fields", truth, r->line, r->nfields);
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
        } else if (strncmp(scope, "state:", 6) == 0) {
            char id[64], key[32];
            ck_assert(sscanf(field, "%63s %31s", id, key) == 2);
            const kt_product_state *ps = state(f, scope + 6, id);
            ck_assert_msg(ps != NULL, "%s: no state", what);
            if (strcmp(key, "installed") == 0) {
                check_str(what, tri_name(ps->installed), want);
            } else if (strcmp(key, "version") == 0) {
                check_str(what, ps->version, want);
            } else if (strcmp(key, "evidence_store") == 0 || strcmp(key, "evidence_after") == 0) {
                /* an event of that store behind the answer (dated after the
                 * instant: evidence_after) */
                bool after = strcmp(key, "evidence_after") == 0, found = false;
                for (size_t k = 0; k < ps->ev_installed.count && !found; k++) {
                    const kt_event *e = kt_timeline_find(&s.tl, ps->ev_installed.items[k]);
                    found =
                        e->store == atoi(want) && (!after || e->time > state_time(f, scope + 6));
                }
                ck_assert_msg(found, "%s: no event of store %s", what, want);
            } else {
                ck_abort_msg("%s: unknown field", what);
            }
        } else {
            ck_abort_msg("%s:%d: unknown scope '%s'", truth, r->line, scope);
        }
    }
    /* Every Kaspersky event comes from a store, and says which. */
    size_t from_store[3] = {0};
    for (size_t i = 0; i < s.tl.count; i++) {
        const kt_event *e = &s.tl.items[i];
        if (e->vendor == NULL || strcmp(e->vendor, "kaspersky") != 0)
            continue;
        ck_assert_msg(e->store >= 1 && e->store <= nstores, "%s: event %s (%s) not from a store",
                      file, e->id, e->description);
        ck_assert_str_eq(e->store_id, store_id[e->store]);
        ck_assert(e->store_created == store_created[e->store]);
        ck_assert_int_eq(e->volume, 0);
        from_store[e->store]++;
    }
    for (int k = 1; k <= nstores; k++)
        ck_assert_uint_gt(from_store[k], 10);
    /* The verdict rests on the store's events. */
    const kt_strlist *ev = &f->verdict_ev[KT_V_EVER_INSTALLED];
    ck_assert_uint_gt(ev->count, 0);
    for (size_t i = 0; i < ev->count; i++)
        ck_assert_int_ge(kt_timeline_find(&s.tl, ev->items[i])->store, 1);
    tsv_free(&t);
    kt_scan_release(&s);
    free(path);
}

static void check_scan(const char *file)
{
    check_scan_truth(file, "vss/expected.tsv", 1);
}

START_TEST(finds_kaspersky_only_in_the_shadow_copy)
{
    check_scan("kes-vss-wiped.raw");
    check_scan("kes-vss-wiped.E01");
}
END_TEST

/* A store before the cutoff and one after it, both holding KES, and no
 * dated removal: installed at the cutoff, with the version it had, on the
 * evidence of both stores (kes-vss-wiped, with the first alone, leaves it
 * null: check_scan above). */
START_TEST(stores_before_and_after_the_cutoff_say_installed)
{
    check_scan_truth("kes-vss-two-stores.raw", "vss/expected-two-stores.tsv", 2);
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
    tcase_add_test(tc, two_stores_each_give_their_own_past);
    tcase_add_test(tc, stores_before_and_after_the_cutoff_say_installed);
    tcase_add_test(tc, without_shadow_copies_the_live_volume_is_clean);
    tcase_add_test(tc, an_unreadable_store_is_a_warning_and_leaves_the_verdict_open);
    tcase_add_test(tc, info_lists_the_store);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
