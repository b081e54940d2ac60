#include <stdlib.h>
#include <string.h>

#include "kavtrace/image.h"
#include "kavtrace/volume.h"
#include "testutil.h"

static int scan(const char *path, kt_image **img, kt_volume_list *vols, kt_error *err)
{
    ck_assert_msg(kt_image_open(path, img, err) == 0, "%s", err->msg);
    return kt_volumes_scan(*img, vols, err);
}

START_TEST(finds_every_volume_of_every_container)
{
    tsv c, v, d;
    truth_load(&c, "truth/containers.tsv");
    truth_load(&v, "truth/volumes.tsv");
    truth_load(&d, "truth/disks.tsv");
    for (size_t i = 0; i < c.count; i++) {
        const char *disk = c.rows[i].f[0];
        char *path = path_join(evidence_dir(), c.rows[i].f[1]);
        kt_image *img = NULL;
        kt_volume_list vols = {0};
        kt_error err = {0};
        ck_assert_msg(scan(path, &img, &vols, &err) == 0, "%s: %s", path, err.msg);
        for (size_t k = 0; k < d.count; k++)
            if (strcmp(d.rows[k].f[0], disk) == 0)
                ck_assert_str_eq(vols.scheme, d.rows[k].f[2]);
        size_t want = 0;
        for (size_t k = 0; k < v.count; k++) {
            tsv_row *r = &v.rows[k];
            if (strcmp(r->f[0], disk) != 0)
                continue;
            want++;
            size_t idx = strtoul(r->f[1], NULL, 10);
            ck_assert_msg(idx < vols.count, "%s: no volume %zu", c.rows[i].f[1], idx);
            const kt_volume *vol = &vols.items[idx];
            ck_assert_int_eq(vol->offset, strtoll(r->f[2], NULL, 10));
            ck_assert_int_eq(vol->length, strtoll(r->f[3], NULL, 10));
            ck_assert_msg(strcmp(vol->fs, r->f[4]) == 0, "%s volume %zu: fs '%s', want '%s'",
                          c.rows[i].f[1], idx, vol->fs, r->f[4]);
            ck_assert_str_eq(vol->desc, r->f[5]);
        }
        ck_assert_msg(vols.count == want, "%s: %zu volumes, want %zu", c.rows[i].f[1], vols.count,
                      want);
        ck_assert_int_eq(kt_image_warnings(img)->count, 0);
        kt_volume_list_release(&vols);
        kt_image_free(img);
        free(path);
    }
    tsv_free(&c);
    tsv_free(&v);
    tsv_free(&d);
}
END_TEST

START_TEST(reads_the_corpus_images_or_refuses_them_by_name)
{
    tsv t;
    truth_load(&t, "truth/corpus.tsv");
    for (size_t i = 0; i < t.count; i++) {
        tsv_row *r = &t.rows[i];
        char *path = strncmp(r->f[0], "unpacked:", 9) == 0
                         ? path_join(corpus_unpacked_dir(), r->f[0] + 9)
                         : path_join(corpus_dir(), r->f[0]);
        kt_image *img = NULL;
        kt_volume_list vols = {0};
        kt_error err = {0};
        int rc = kt_image_open(path, &img, &err);
        if (strcmp(r->f[4], "ok") != 0) {
            ck_assert_msg(rc != 0, "%s opened, want refusal", r->f[0]);
            ck_assert_msg(strstr(err.msg, r->f[4]) != NULL, "%s: '%s' lacks '%s'", r->f[0], err.msg,
                          r->f[4]);
            free(path);
            continue;
        }
        ck_assert_msg(rc == 0, "%s: %s", r->f[0], err.msg);
        ck_assert_str_eq(kt_image_get_info(img)->format_name, r->f[1]);
        ck_assert_msg(kt_volumes_scan(img, &vols, &err) == 0, "%s: %s", r->f[0], err.msg);
        ck_assert_str_eq(vols.scheme, r->f[2]);
        char fslist[256] = "";
        for (size_t k = 0; k < vols.count; k++) {
            if (k)
                strncat(fslist, ",", sizeof fslist - strlen(fslist) - 1);
            strncat(fslist, vols.items[k].fs, sizeof fslist - strlen(fslist) - 1);
        }
        ck_assert_msg(strcmp(fslist, r->f[3]) == 0, "%s: filesystems '%s', want '%s'", r->f[0],
                      fslist, r->f[3]);
        kt_volume_list_release(&vols);
        kt_image_free(img);
        free(path);
    }
    tsv_free(&t);
}
END_TEST

START_TEST(reads_a_gpt_with_a_bad_header_from_its_backup)
{
    char *p = path_join(evidence_dir(), "corrupt/gpt-bad-header.raw");
    kt_image *img = NULL;
    kt_volume_list vols = {0};
    kt_error err = {0};
    ck_assert_msg(scan(p, &img, &vols, &err) == 0, "%s", err.msg);
    const kt_strlist *w = kt_image_warnings(img);
    ck_assert_int_ge(w->count, 2);
    ck_assert_ptr_nonnull(strstr(w->items[0], "GPT header at LBA 1 is corrupt"));
    ck_assert_ptr_nonnull(strstr(w->items[0], "backup header at LBA 131071 is valid"));
    /* The same partitions as the intact disk (truth/volumes.tsv). */
    ck_assert_str_eq(vols.scheme, "gpt");
    ck_assert_uint_eq(vols.count, 2);
    ck_assert_int_eq(vols.items[0].offset, 1048576);
    ck_assert_int_eq(vols.items[0].length, 8388608);
    ck_assert_str_eq(vols.items[0].fs, "fat16");
    ck_assert_int_eq(vols.items[1].offset, 9437184);
    ck_assert_int_eq(vols.items[1].length, 50331648);
    ck_assert_str_eq(vols.items[1].fs, "ntfs");
    ck_assert_str_eq(vols.items[1].desc, "Basic data partition (from the backup GPT)");
    kt_volume_list_release(&vols);
    kt_image_free(img);
    free(p);
}
END_TEST

START_TEST(warns_about_partitions_past_the_end)
{
    char *p = path_join(evidence_dir(), "corrupt/truncated.raw");
    kt_image *img = NULL;
    kt_volume_list vols = {0};
    kt_error err = {0};
    ck_assert_msg(scan(p, &img, &vols, &err) == 0, "%s", err.msg);
    const kt_strlist *w = kt_image_warnings(img);
    bool past_end = false;
    for (size_t i = 0; i < w->count; i++)
        past_end = past_end || strstr(w->items[i], "runs past the end of the image") != NULL;
    ck_assert_msg(past_end, "no warning about the truncated partition");
    kt_volume_list_release(&vols);
    kt_image_free(img);
    free(p);
}
END_TEST

START_TEST(skips_gpt_entries_whose_sectors_do_not_fit_a_byte_offset)
{
    /* Found by fuzz_volume: libtsk passes on a GPT entry whose first LBA is
     * past 2^54 (or whose last is before its first) and the byte offset
     * wrapped negative. Such an entry is skipped with a warning; the
     * others are read. The disk is a seed of the fuzz corpus
     * (fuzz/corpus/make-seeds.py). */
    char *p = path_join(testdata_dir(), "../fuzz/corpus/volume/gpt-entry-out-of-range.raw");
    kt_image *img = NULL;
    kt_volume_list vols = {0};
    kt_error err = {0};
    ck_assert_msg(scan(p, &img, &vols, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(vols.scheme, "gpt");
    ck_assert_uint_eq(vols.count, 2);
    ck_assert_int_eq(vols.items[0].offset, 40 * 512);
    ck_assert_int_eq(vols.items[1].offset, 51 * 512);
    ck_assert_int_eq(vols.items[1].length, 10 * 512);
    const kt_strlist *w = kt_image_warnings(img);
    size_t skipped = 0;
    for (size_t i = 0; i < w->count; i++)
        skipped += strstr(w->items[i], "out of range, skipped") != NULL;
    ck_assert_uint_eq(skipped, 2);
    kt_volume_list_release(&vols);
    kt_image_free(img);
    free(p);
}
END_TEST

START_TEST(refuses_random_bytes_and_a_zeroed_mft_clearly)
{
    const char *cases[] = {"corrupt/random.img", "corrupt/ntfs-zeroed-mft.raw"};
    for (size_t i = 0; i < 2; i++) {
        char *p = path_join(evidence_dir(), cases[i]);
        kt_image *img = NULL;
        kt_volume_list vols = {.count = 99};
        kt_error err = {0};
        ck_assert_int_eq(scan(p, &img, &vols, &err), KT_EFORMAT);
        ck_assert_int_eq(vols.count, 99); /* untouched on error */
        ck_assert_ptr_nonnull(strstr(err.msg, "no partition table or filesystem recognised"));
        kt_image_free(img);
        free(p);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("volume");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, finds_every_volume_of_every_container);
    tcase_add_test(tc, reads_the_corpus_images_or_refuses_them_by_name);
    tcase_add_test(tc, reads_a_gpt_with_a_bad_header_from_its_backup);
    tcase_add_test(tc, warns_about_partitions_past_the_end);
    tcase_add_test(tc, refuses_random_bytes_and_a_zeroed_mft_clearly);
    tcase_add_test(tc, skips_gpt_entries_whose_sectors_do_not_fit_a_byte_offset);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
