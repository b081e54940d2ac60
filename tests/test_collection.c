/* Triage collections as evidence (testdata/build-collections.py): a KAPE
 * target folder, a Velociraptor offline-collector zip and a UAC tarball,
 * each against the raw disk of the same system (testdata/truth/
 * collections.tsv), the original times each collector records, and
 * archives that are no collection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kavtrace/inventory.h"
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

static void scan(const char *rel, kt_scan *s)
{
    char *path = path_join(evidence_dir(), rel);
    kt_error err = {0};
    memset(s, 0, sizeof *s);
    ck_assert_msg(kt_scan_run(&defs, path, s, NULL, NULL, &err) == 0, "%s: %s", rel, err.msg);
    free(path);
}

static const kt_product_finding *product(const kt_system_finding *f, const char *id)
{
    for (size_t i = 0; i < f->nproducts; i++)
        if (strcmp(f->products[i].id, id) == 0)
            return &f->products[i];
    return NULL;
}

static bool has_warning(const kt_scan *s, kt_severity sev, const char *code, const char *path,
                        const char *part)
{
    for (size_t i = 0; i < s->warnings.count; i++) {
        const kt_diag *d = &s->warnings.items[i];
        if (d->severity == sev && strcmp(d->code, code) == 0 &&
            (path == NULL || (d->path && strcmp(d->path, path) == 0)) &&
            (part == NULL || strstr(d->message, part)))
            return true;
    }
    return false;
}

/* The collection's findings against the raw disk's: every product with
 * the same version and dates; verdicts the same, or (partial) null where
 * the collection lacks a source, never the other answer. */
static void compare(const char *file, const kt_scan *raw, const kt_scan *coll, bool exact)
{
    ck_assert_uint_eq(raw->nsystems, 1);
    ck_assert_msg(coll->nsystems == 1, "%s: %zu systems", file, coll->nsystems);
    const kt_scan_system *a = &raw->systems[0], *b = &coll->systems[0];
    ck_assert_int_eq(a->sys.os, b->sys.os);
    ck_assert_str_eq(a->sys.hostname, b->sys.hostname);
    ck_assert_str_eq(a->zone, b->zone);
    const kt_system_finding *fa = &a->findings, *fb = &b->findings;
    ck_assert_msg(fa->nproducts > 0 && fa->nproducts == fb->nproducts, "%s: %zu products, raw %zu",
                  file, fb->nproducts, fa->nproducts);
    for (size_t i = 0; i < fa->nproducts; i++) {
        const kt_product_finding *pa = &fa->products[i], *pb = product(fb, pa->id);
        ck_assert_msg(pb != NULL, "%s: no product %s", file, pa->id);
        ck_assert_str_eq(pa->version, pb->version);
        ck_assert_msg(pa->installed == pb->installed && pa->first_seen == pb->first_seen &&
                          pa->last_signature_update == pb->last_signature_update &&
                          pa->last_codebase_update == pb->last_codebase_update &&
                          pa->removed == pb->removed,
                      "%s: %s: dates differ from the raw disk's", file, pa->id);
        if (exact)
            ck_assert_int_eq(pa->status, pb->status);
        else
            ck_assert_msg(pa->status == pb->status || (pa->status == KT_STATUS_PRESENT &&
                                                       pb->status == KT_STATUS_REGISTERED),
                          "%s: %s: status %d, raw %d", file, pa->id, pb->status, pa->status);
    }
    for (int v = 0; v < KT_V_COUNT; v++) {
        const char *name = kt_verdict_name((kt_verdict)v);
        if (exact || fa->verdicts[v] == fb->verdicts[v]) {
            ck_assert_msg(fa->verdicts[v] == fb->verdicts[v], "%s: %s %d, raw %d", file, name,
                          fb->verdicts[v], fa->verdicts[v]);
            continue;
        }
        ck_assert_msg(fb->verdicts[v] == KT_NULL && fb->nlosses > 0,
                      "%s: %s is %d, the raw disk's %d", file, name, fb->verdicts[v],
                      fa->verdicts[v]);
    }
    if (exact)
        ck_assert_uint_eq(fb->nlosses, 0);
}

START_TEST(each_collection_gives_its_raw_disks_findings)
{
    tsv t;
    truth_load(&t, "truth/collections.tsv");
    ck_assert_uint_eq(t.count, 3);
    for (size_t i = 0; i < t.count; i++) {
        tsv_row *r = &t.rows[i];
        ck_assert_int_eq(r->nfields, 6);
        const char *file = r->f[0];
        kt_scan raw, coll;
        scan(r->f[3], &raw);
        scan(file, &coll);
        const kt_image_info *ii = kt_image_get_info(coll.inv.img);
        ck_assert_ptr_nonnull(ii->collection);
        ck_assert_str_eq(ii->collection, r->f[1]);
        ck_assert_str_eq(coll.inv.vols.scheme, r->f[1]);
        ck_assert_uint_eq(coll.inv.vols.count, 1);
        char want[80];
        snprintf(want, sizeof want, " %s, collected in", r->f[2]);
        ck_assert_msg(strstr(coll.inv.vols.items[0].desc, want), "%s: volume '%s'", file,
                      coll.inv.vols.items[0].desc);
        compare(file, &raw, &coll, strcmp(r->f[4], "exact") == 0);
        /* Every source the collection lacks is named, and no other. */
        size_t named = 0;
        for (size_t w = 0; w < coll.warnings.count; w++)
            named += coll.warnings.items[w].severity == KT_SEV_WARNING &&
                     strcmp(coll.warnings.items[w].code, "collection") == 0 &&
                     coll.warnings.items[w].path != NULL;
        size_t want_named = 0;
        if (strcmp(r->f[5], "-") != 0) {
            char *lacks = strdup(r->f[5]), *save = NULL;
            for (char *p = strtok_r(lacks, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
                ck_assert_msg(has_warning(&coll, KT_SEV_WARNING, "collection", p,
                                          "not in the triage collection"),
                              "%s: '%s' not named as lacking", file, p);
                want_named++;
            }
            free(lacks);
        }
        ck_assert_msg(named == want_named, "%s: %zu sources named as lacking, want %zu", file,
                      named, want_named);
        kt_scan_release(&raw);
        kt_scan_release(&coll);
    }
    tsv_free(&t);
}
END_TEST

/* A volume's filesystem, from an inventory. */
static kt_fs *open_fs(kt_inventory *inv, const char *rel)
{
    char *path = path_join(evidence_dir(), rel);
    kt_error err = {0};
    ck_assert_msg(kt_inventory_init(inv, path, &err) == 0, "%s: %s", rel, err.msg);
    free(path);
    ck_assert_uint_ge(inv->vols.count, 1);
    ck_assert_ptr_nonnull(inv->volumes[0].fs);
    return inv->volumes[0].fs;
}

static void check_times(const char *what, const kt_stat *st, const char *c, const char *m,
                        const char *ch, const char *a)
{
    const char *want[4] = {c, m, ch, a};
    kt_time got[4] = {st->created, st->modified, st->changed, st->accessed};
    static const char *const names[4] = {"created", "modified", "changed", "accessed"};
    for (int i = 0; i < 4; i++) {
        char g[KT_TIME_ISO_MAX];
        kt_time_format_iso(got[i], g);
        if (want[i] == NULL)
            ck_assert_msg(got[i] == KT_TIME_NONE, "%s: %s is %s, want none", what, names[i], g);
        else
            ck_assert_msg(got[i] == truth_time(want[i]), "%s: %s is %s, want %s", what, names[i], g,
                          want[i]);
    }
}

START_TEST(kape_times_come_from_the_copylog_never_from_the_copies)
{
    kt_inventory inv;
    kt_fs *fs = open_fs(&inv, "collections/kes-active.kape");
    kt_stat st;
    kt_error err = {0};
    /* testdata/scenarios/kes-active/ntfs.tsv; the copy itself is dated
     * 2024-11-27T10:15:00Z. KAPE keeps no changed time. */
    ck_assert_msg(kt_fs_stat(fs, "windows/system32/CONFIG/software", 0, &st, &err) == 0, "%s",
                  err.msg);
    check_times("SOFTWARE", &st, "2022-02-21T15:02:31.7340159Z", "2024-11-26T19:38:51.2240075Z",
                NULL, "2024-11-26T19:38:51.2240075Z");
    /* A folder: KAPE records none of its times. */
    ck_assert_int_eq(kt_fs_stat(fs, "Windows/System32", 0, &st, &err), 0);
    check_times("Windows/System32", &st, NULL, NULL, NULL, NULL);
    kt_dirent_list l = {0};
    ck_assert_int_eq(kt_fs_list(fs, "Windows/System32/config", false, &l, &err), 0);
    bool seen = false;
    for (size_t i = 0; i < l.count; i++)
        if (strcmp(l.items[i].name, "SYSTEM") == 0) {
            seen = true;
            check_times("listed SYSTEM", &l.items[i].st, "2022-02-21T15:02:31.9081736Z",
                        "2024-11-26T19:38:50.9874412Z", NULL, "2024-11-26T19:38:50.9874412Z");
        }
    ck_assert(seen);
    kt_dirent_list_release(&l);
    kt_inventory_release(&inv);
}
END_TEST

START_TEST(velociraptor_zip_is_read_in_place_with_both_accessors_and_its_records_noted)
{
    kt_inventory raw, inv;
    kt_fs *rfs = open_fs(&raw, "scenarios/kes-active.raw");
    kt_fs *fs = open_fs(&inv, "collections/kes-active.velociraptor.zip");
    ck_assert_str_eq(kt_image_get_info(inv.img)->format_name, "archive");
    /* uploads/auto/C%3A and uploads/ntfs/%5C%5C.%5CC%3A: one drive. */
    ck_assert_uint_eq(inv.vols.count, 1);
    const char *files[] = {
        "Windows/System32/winevt/Logs/Kaspersky Endpoint Security.evtx",
        "Windows/System32/config/SOFTWARE",
        "windows/system32/winevt/logs/SYSTEM.EVTX",
        "Users/jdoe/NTUSER.DAT",
        "Windows/System32/winevt/Logs/Kaspersky Endpoint Security.evtx",
    };
    /* Out of archive order and again: each read equals the raw disk's. */
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        kt_buf a = {0}, b = {0};
        kt_error err = {0};
        ck_assert_msg(kt_fs_read(fs, files[i], 0, 1 << 24, &b, &err) == 0, "%s: %s", files[i],
                      err.msg);
        ck_assert_int_eq(kt_fs_read(rfs, files[i], 0, 1 << 24, &a, &err), 0);
        ck_assert_uint_eq(a.len, b.len);
        ck_assert(memcmp(a.data, b.data, a.len) == 0);
        kt_buf_release(&a);
        kt_buf_release(&b);
    }
    /* The zip entry's extended timestamp: the source's modified and
     * accessed times, to the second; no creation time. */
    kt_stat st;
    ck_assert_int_eq(kt_fs_stat(fs, "Windows/System32/config/SOFTWARE", 0, &st, NULL), 0);
    check_times("SOFTWARE", &st, NULL, "2024-11-26T19:38:51Z", NULL, "2024-11-26T19:38:51Z");
    ck_assert(!kt_fs_exists(fs, "Program Files"));
    kt_diags d = {0};
    ck_assert_int_eq(kt_inventory_warnings(&inv, &d), 0);
    bool uploads = false, log = false, host = false;
    for (size_t i = 0; i < d.count; i++) {
        if (d.items[i].severity != KT_SEV_NOTE || strcmp(d.items[i].code, "collection") != 0)
            continue;
        uploads = uploads || strstr(d.items[i].message, "uploads.json lists 7 uploads");
        log = log || strstr(d.items[i].message, "log.json: 3 lines, 0 errors, 1 warnings");
        host = host || strstr(d.items[i].message, "host 'FIN-WS042'");
    }
    ck_assert(uploads && log && host);
    kt_diags_release(&d);
    kt_inventory_release(&inv);
    kt_inventory_release(&raw);
}
END_TEST

START_TEST(uac_times_come_from_its_bodyfile_and_folders_are_implied)
{
    kt_inventory inv;
    kt_fs *fs = open_fs(&inv, "collections/kesl-ubuntu.uac.tar.gz");
    ck_assert(!kt_fs_case_insensitive(fs));
    kt_stat st;
    /* testdata/scenarios-unix/kesl-ubuntu/ext4.tsv: the tar member has
     * only the modified time to the second; the bodyfile has all four. */
    ck_assert_int_eq(kt_fs_stat(fs, "etc/opt/kaspersky/kesl.ini", 0, &st, NULL), 0);
    check_times("kesl.ini", &st, "2023-02-14T16:23:42.771Z", "2023-02-14T16:23:42.771Z",
                "2023-02-14T16:23:42.771Z", "2024-11-20T14:02:09.5Z");
    /* No directory entry in the archive (UAC writes none): the folder is
     * implied, its times from the bodyfile. */
    ck_assert_int_eq(kt_fs_stat(fs, "etc/opt", 0, &st, NULL), 0);
    ck_assert_int_eq(st.type, KT_FT_DIR);
    check_times("etc/opt", &st, "2023-01-09T20:41:53.004Z", "2023-02-14T16:23:42.771Z",
                "2023-02-14T16:23:42.771Z", "2024-11-20T14:55:02Z");
    char target[256];
    ck_assert_int_eq(kt_fs_readlink(fs, "etc/os-release", target, sizeof target, NULL), 0);
    ck_assert_str_eq(target, "../usr/lib/os-release");
    ck_assert(!kt_fs_exists(fs, "ETC/hostname"));
    kt_inventory_release(&inv);
}
END_TEST

START_TEST(an_archive_that_is_no_collection_is_refused_with_its_name)
{
    char dir[] = "/tmp/kt-coll-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && printf 'hello\\n' > a.txt && tar -czf notes.tar.gz a.txt && "
             "gzip -c a.txt > disk.raw.gz",
             dir);
    ck_assert_int_eq(system(cmd), 0);
    static const struct {
        const char *file, *part;
    } cases[] = {
        {"notes.tar.gz", "unsupported format: gzip archive (no triage collection layout"},
        {"disk.raw.gz", "unsupported format: gzip archive (not a tar or zip archive"},
    };
    for (size_t i = 0; i < 2; i++) {
        char *p = path_join(dir, cases[i].file);
        kt_image *img = NULL;
        kt_error err = {0};
        ck_assert_int_eq(kt_image_open(p, &img, &err), KT_EUNSUPPORTED);
        ck_assert_msg(strstr(err.msg, cases[i].part), "%s: %s", cases[i].file, err.msg);
        free(p);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(a_truncated_collection_keeps_what_comes_before_the_damage_and_says_so)
{
    char dir[] = "/tmp/kt-coll-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *src = path_join(evidence_dir(), "collections/kesl-ubuntu.uac.tar.gz");
    char cmd[2048];
    /* The last sixth of the compressed stream cut off. */
    snprintf(cmd, sizeof cmd, "head -c $(( $(stat -c %%s '%s') * 5 / 6 )) '%s' > '%s/cut.tar.gz'",
             src, src, dir);
    ck_assert_int_eq(system(cmd), 0);
    char *cut = path_join(dir, "cut.tar.gz");
    kt_scan raw, s;
    scan("scenarios-unix/kesl-ubuntu.raw", &raw);
    kt_error err = {0};
    memset(&s, 0, sizeof s);
    ck_assert_msg(kt_scan_run(&defs, cut, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert(
        has_warning(&s, KT_SEV_WARNING, "image", NULL, "damaged or truncated after its entry"));
    ck_assert_uint_eq(s.nsystems, 1);
    const kt_system_finding *fa = &raw.systems[0].findings, *fb = &s.systems[0].findings;
    ck_assert_uint_gt(fb->nlosses, 0);
    bool open = false;
    for (int v = 0; v < KT_V_COUNT; v++) {
        ck_assert_msg(fb->verdicts[v] == fa->verdicts[v] || fb->verdicts[v] == KT_NULL,
                      "%s: %d, raw %d", kt_verdict_name((kt_verdict)v), fb->verdicts[v],
                      fa->verdicts[v]);
        open = open || (fa->verdicts[v] == KT_FALSE && fb->opened[v]);
    }
    ck_assert(open);
    kt_scan_release(&raw);
    kt_scan_release(&s);
    free(cut);
    free(src);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("collection");
    TCase *tc = tcase_create("collection");
    tcase_set_timeout(tc, 300);
    tcase_add_unchecked_fixture(tc, load_defs, unload_defs);
    tcase_add_test(tc, each_collection_gives_its_raw_disks_findings);
    tcase_add_test(tc, kape_times_come_from_the_copylog_never_from_the_copies);
    tcase_add_test(tc, velociraptor_zip_is_read_in_place_with_both_accessors_and_its_records_noted);
    tcase_add_test(tc, uac_times_come_from_its_bodyfile_and_folders_are_implied);
    tcase_add_test(tc, an_archive_that_is_no_collection_is_refused_with_its_name);
    tcase_add_test(tc, a_truncated_collection_keeps_what_comes_before_the_damage_and_says_so);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
