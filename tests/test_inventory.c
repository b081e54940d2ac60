/* The inventory: image -> volumes -> filesystems -> systems, as `info` and
 * the scan both see it, on every built container and on damaged ones. */
#include <stdlib.h>
#include <string.h>

#include "kavtrace/inventory.h"
#include "testutil.h"

static const char *dash(const char *s)
{
    return s[0] ? s : "-";
}

static bool has_warning(const kt_diags *l, const char *text)
{
    for (size_t i = 0; i < l->count; i++) {
        char line[4096];
        if (strstr(kt_diag_text(&l->items[i], line, sizeof line), text))
            return true;
    }
    return false;
}

/* Every volume with a filesystem is open with that type, and the systems
 * are those of truth/systems.tsv, on each volume truth/volumes.tsv lists. */
START_TEST(takes_stock_of_every_container)
{
    tsv c, v, s;
    truth_load(&c, "truth/containers.tsv");
    truth_load(&v, "truth/volumes.tsv");
    truth_load(&s, "truth/systems.tsv");
    size_t systems_checked = 0;
    for (size_t i = 0; i < c.count; i++) {
        const char *disk = c.rows[i].f[0], *file = c.rows[i].f[1];
        char *path = path_join(evidence_dir(), file);
        kt_inventory inv;
        kt_error err = {0};
        ck_assert_msg(kt_inventory_init(&inv, path, &err) == 0, "%s: %s", file, err.msg);
        ck_assert_str_eq(inv.path, path);
        ck_assert_ptr_nonnull(inv.img);
        ck_assert_str_eq(kt_image_get_info(inv.img)->format_name, c.rows[i].f[2]);
        size_t want_vols = 0, want_systems = 0;
        for (size_t k = 0; k < v.count; k++) {
            tsv_row *r = &v.rows[k];
            if (strcmp(r->f[0], disk) != 0)
                continue;
            want_vols++;
            size_t idx = strtoul(r->f[1], NULL, 10);
            ck_assert_msg(idx < inv.vols.count, "%s: no volume %zu", file, idx);
            const kt_inventory_volume *iv = &inv.volumes[idx];
            ck_assert_ptr_eq(iv->volume, &inv.vols.items[idx]);
            ck_assert_int_eq(iv->volume->offset, strtoll(r->f[2], NULL, 10));
            ck_assert_msg(iv->fs != NULL, "%s volume %zu: not opened", file, idx);
            ck_assert_msg(strcmp(iv->fs_type, r->f[4]) == 0, "%s volume %zu: fs '%s', want '%s'",
                          file, idx, iv->fs_type, r->f[4]);
            ck_assert_uint_eq(iv->warnings.count, 0);
        }
        ck_assert_msg(inv.vols.count == want_vols, "%s: %zu volumes, want %zu", file,
                      inv.vols.count, want_vols);
        for (size_t k = 0; k < s.count; k++) {
            tsv_row *r = &s.rows[k];
            if (strcmp(r->f[0], disk) != 0)
                continue;
            want_systems++;
            size_t idx = strtoul(r->f[1], NULL, 10);
            ck_assert_uint_lt(idx, inv.vols.count);
            const kt_system *sys = &inv.volumes[idx].sys;
            ck_assert_msg(strcmp(kt_os_name(sys->os), r->f[2]) == 0, "%s volume %zu: os %s", file,
                          idx, kt_os_name(sys->os));
            ck_assert_str_eq(sys->os_name, r->f[3]);
            ck_assert_str_eq(sys->os_version, r->f[4]);
            ck_assert_str_eq(dash(sys->hostname), r->f[5]);
            ck_assert_str_eq(dash(sys->timezone), r->f[6]);
            systems_checked++;
        }
        ck_assert_msg(inv.nsystems == want_systems, "%s: %zu systems, want %zu", file, inv.nsystems,
                      want_systems);
        kt_diags w = {0};
        ck_assert_int_eq(kt_inventory_warnings(&inv, &w), 0);
        ck_assert_msg(w.count == 0, "%s: warning %s", file, w.count ? w.items[0].message : "");
        kt_diags_release(&w);
        kt_inventory_release(&inv);
        ck_assert_ptr_null(inv.img);
        free(path);
    }
    ck_assert_uint_ge(systems_checked, 10);
    tsv_free(&c);
    tsv_free(&v);
    tsv_free(&s);
}
END_TEST

/* The two E01 sets, spelt out: the data volumes are open and have no system. */
START_TEST(lists_the_volumes_filesystems_and_systems_of_the_e01_sets)
{
    static const struct {
        const char *file;
        size_t nvols;
        const char *fs[2];
        kt_os os[2];
        const char *host;
    } sets[] = {
        {"windows.E01", 2, {"fat16", "ntfs"}, {KT_OS_NONE, KT_OS_WINDOWS}, "WS-ALICE01"},
        {"linux.E01", 2, {"ext4", "fat16"}, {KT_OS_LINUX, KT_OS_NONE}, "ubuntu-ws01"},
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        char *path = path_join(evidence_dir(), sets[i].file);
        kt_inventory inv;
        kt_error err = {0};
        ck_assert_msg(kt_inventory_init(&inv, path, &err) == 0, "%s", err.msg);
        ck_assert_uint_eq(inv.vols.count, sets[i].nvols);
        ck_assert_uint_eq(inv.nsystems, 1);
        for (size_t k = 0; k < sets[i].nvols; k++) {
            const kt_inventory_volume *iv = &inv.volumes[k];
            ck_assert_ptr_nonnull(iv->fs);
            ck_assert_str_eq(iv->fs_type, sets[i].fs[k]);
            ck_assert_str_eq(iv->volume->fs, sets[i].fs[k]);
            ck_assert_int_eq(iv->sys.os, sets[i].os[k]);
            if (iv->sys.os != KT_OS_NONE)
                ck_assert_str_eq(iv->sys.hostname, sets[i].host);
        }
        kt_inventory_release(&inv);
        free(path);
    }
}
END_TEST

/* Damage inside an item is a warning and the rest is still inventoried;
 * an item with nothing readable is an error that keeps what was found. */
START_TEST(damaged_images_give_warnings_not_crashes)
{
    kt_inventory inv;
    kt_error err = {0};
    kt_diags w = {0};

    char *path = path_join(evidence_dir(), "corrupt/truncated.raw");
    ck_assert_msg(kt_inventory_init(&inv, path, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(inv.nsystems, 1);
    ck_assert_int_eq(inv.volumes[0].sys.os, KT_OS_LINUX);
    ck_assert_int_eq(kt_inventory_warnings(&inv, &w), 0);
    ck_assert_uint_eq(w.count, 3);
    ck_assert(has_warning(&w, "runs past the end of the image"));
    kt_diags_release(&w);
    kt_inventory_release(&inv);
    free(path);

    path = path_join(evidence_dir(), "corrupt/gpt-bad-header.raw");
    ck_assert_msg(kt_inventory_init(&inv, path, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(inv.vols.count, 2);
    ck_assert_int_eq(inv.volumes[1].sys.os, KT_OS_WINDOWS);
    ck_assert_int_eq(kt_inventory_warnings(&inv, &w), 0);
    ck_assert(has_warning(&w, "partitions read from the backup GPT header"));
    kt_diags_release(&w);
    kt_inventory_release(&inv);
    free(path);

    /* Velociraptor's image has Windows's layout but text where hives belong:
     * the system's warnings are the volume's, named by its index. */
    path = path_join(corpus_dir(), "velociraptor/partition_image.E01");
    ck_assert_msg(kt_inventory_init(&inv, path, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(inv.nsystems, 1);
    ck_assert_int_eq(inv.volumes[0].sys.os, KT_OS_WINDOWS);
    ck_assert_uint_eq(inv.volumes[0].warnings.count, 2);
    ck_assert_int_eq(inv.volumes[0].warnings.items[0].volume, 0);
    ck_assert_str_eq(inv.volumes[0].warnings.items[0].code, "hive");
    ck_assert_str_eq(inv.volumes[0].warnings.items[0].path, "Windows/System32/config/SOFTWARE");
    ck_assert_ptr_nonnull(
        strstr(inv.volumes[0].warnings.items[0].message, "not a valid registry hive"));
    ck_assert_str_eq(inv.volumes[0].warnings.items[1].path, "Windows/System32/config/SYSTEM");
    ck_assert_int_eq(kt_inventory_warnings(&inv, &w), 0);
    ck_assert_uint_eq(w.count, 2);
    kt_diags_release(&w);
    kt_inventory_release(&inv);
    free(path);

    /* The image opens, no volume does: an error, the image and its warning kept. */
    path = path_join(evidence_dir(), "corrupt/truncated.E01");
    ck_assert_int_ne(kt_inventory_init(&inv, path, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "corrupt/truncated.E01': no partition table"));
    ck_assert_ptr_nonnull(inv.img);
    ck_assert_uint_eq(inv.vols.count, 0);
    ck_assert_uint_eq(inv.nsystems, 0);
    ck_assert_int_eq(kt_inventory_warnings(&inv, &w), 0);
    ck_assert(has_warning(&w, "EWF set is corrupted or truncated"));
    kt_diags_release(&w);
    kt_inventory_release(&inv);
    free(path);

    const char *unreadable[] = {"corrupt/random.img", "corrupt/ntfs-zeroed-mft.raw"};
    for (size_t i = 0; i < sizeof unreadable / sizeof unreadable[0]; i++) {
        path = path_join(evidence_dir(), unreadable[i]);
        kt_error_clear(&err);
        ck_assert_int_ne(kt_inventory_init(&inv, path, &err), 0);
        ck_assert_ptr_nonnull(strstr(err.msg, "no partition table or filesystem recognised"));
        ck_assert_ptr_nonnull(inv.img);
        ck_assert_uint_eq(inv.vols.count, 0);
        kt_inventory_release(&inv);
        free(path);
    }

    /* Nothing to open: no image, and still released safely. */
    path = path_join(evidence_dir(), "corrupt/empty.img");
    ck_assert_int_ne(kt_inventory_init(&inv, path, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "empty file"));
    ck_assert_ptr_null(inv.img);
    ck_assert_int_eq(kt_inventory_warnings(&inv, &w), 0);
    ck_assert_uint_eq(w.count, 0);
    kt_inventory_release(&inv);
    kt_inventory_release(&inv);
    kt_inventory_release(NULL);
    free(path);
}
END_TEST

START_TEST(hashes_the_media_and_checks_the_stored_md5)
{
    kt_inventory inv;
    kt_error err = {0};
    char want[65];
    char *raw = path_join(evidence_dir(), "linux.raw");
    file_sha256(raw, want);
    free(raw);

    char *path = path_join(evidence_dir(), "linux.E01");
    ck_assert_msg(kt_inventory_init(&inv, path, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(inv.digest.sha256, "");
    ck_assert_int_eq(inv.digest.status, KT_HASH_NOT_COMPUTED);
    ck_assert_int_eq(inv.digest.verification, KT_VERIFY_NOT_VERIFIED);
    ck_assert_str_eq(inv.digest.verification_note, "the media was not hashed");
    ck_assert_msg(kt_inventory_hash(&inv, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(inv.digest.status, KT_HASH_COMPLETE);
    ck_assert_str_eq(inv.digest.sha256, want);
    ck_assert_str_eq(inv.digest.md5, kt_image_get_info(inv.img)->stored_md5);
    ck_assert_str_eq(inv.digest.sha1, kt_image_get_info(inv.img)->stored_sha1);
    ck_assert_int_eq(inv.digest.verification, KT_VERIFY_VERIFIED);
    ck_assert_str_eq(inv.digest.verification_note,
                     "the computed MD5 and SHA-1 equal the stored ones");
    kt_inventory_release(&inv);
    free(path);

    /* Raw media has no stored hash to compare with. */
    path = path_join(evidence_dir(), "linux.raw");
    ck_assert_msg(kt_inventory_init(&inv, path, &err) == 0, "%s", err.msg);
    ck_assert_msg(kt_inventory_hash(&inv, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(inv.digest.sha256, want);
    ck_assert_int_eq(inv.digest.verification, KT_VERIFY_NOT_VERIFIED);
    ck_assert_str_eq(inv.digest.verification_note, "a raw image stores no hash to verify");
    kt_inventory_release(&inv);
    free(path);

    /* A chunk failing its checksum: no hash of the media, nothing verified. */
    path = path_join(evidence_dir(), "corrupt/ewf-flip.E01");
    ck_assert_msg(kt_inventory_init(&inv, path, &err) == 0, "%s", err.msg);
    ck_assert_msg(kt_inventory_hash(&inv, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(inv.digest.status, KT_HASH_INCOMPLETE);
    ck_assert_str_eq(inv.digest.sha256, "");
    ck_assert_str_eq(inv.digest.md5, "");
    ck_assert_str_eq(inv.digest.sha1, "");
    ck_assert_ptr_nonnull(strstr(inv.digest.incomplete, "32768 of 67108864 bytes"));
    ck_assert_int_eq(inv.digest.verification, KT_VERIFY_NOT_VERIFIED);
    ck_assert_ptr_nonnull(strstr(inv.digest.verification_note, "could not be read in full"));
    kt_inventory_release(&inv);
    free(path);

    /* A directory has no media: nothing is hashed, and that is no error. */
    path = path_join(evidence_dir(), "macos-tree");
    ck_assert_msg(kt_inventory_init(&inv, path, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(kt_inventory_hash(&inv, NULL, NULL, &err), 0);
    ck_assert_str_eq(inv.digest.sha256, "");
    ck_assert_str_eq(inv.digest.md5, "");
    ck_assert_int_eq(inv.digest.status, KT_HASH_NOT_COMPUTED);
    ck_assert_int_eq(inv.digest.verification, KT_VERIFY_NOT_VERIFIED);
    ck_assert_str_eq(inv.digest.verification_note, "a directory has no media to hash");
    kt_inventory_release(&inv);
    free(path);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("inventory");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, takes_stock_of_every_container);
    tcase_add_test(tc, lists_the_volumes_filesystems_and_systems_of_the_e01_sets);
    tcase_add_test(tc, damaged_images_give_warnings_not_crashes);
    tcase_add_test(tc, hashes_the_media_and_checks_the_stored_md5);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
