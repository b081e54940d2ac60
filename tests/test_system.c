#include <stdlib.h>
#include <string.h>

#include "kavtrace/fs.h"
#include "kavtrace/image.h"
#include "kavtrace/system.h"
#include "kavtrace/volume.h"
#include "testutil.h"

static void detect(const char *dir, const char *file, size_t index, kt_system *sys)
{
    char *path = path_join(dir, file);
    kt_image *img = NULL;
    kt_volume_list vols = {0};
    kt_fs *fs = NULL;
    kt_error err = {0};
    ck_assert_msg(kt_image_open(path, &img, &err) == 0, "%s", err.msg);
    ck_assert_msg(kt_volumes_scan(img, &vols, &err) == 0, "%s", err.msg);
    ck_assert_uint_gt(vols.count, index);
    ck_assert_msg(kt_fs_open_volume(img, &vols.items[index], &fs, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(kt_system_detect(fs, sys, &err), 0);
    kt_fs_free(fs);
    kt_volume_list_release(&vols);
    kt_image_free(img);
    free(path);
}

static const char *dash(const char *s)
{
    return s[0] ? s : "-";
}

START_TEST(detects_each_system_with_name_host_and_zone)
{
    tsv c, s;
    truth_load(&c, "truth/containers.tsv");
    truth_load(&s, "truth/systems.tsv");
    size_t checked = 0;
    for (size_t i = 0; i < c.count; i++) {
        for (size_t k = 0; k < s.count; k++) {
            tsv_row *r = &s.rows[k];
            if (strcmp(r->f[0], c.rows[i].f[0]) != 0)
                continue;
            kt_system sys;
            detect(evidence_dir(), c.rows[i].f[1], strtoul(r->f[1], NULL, 10), &sys);
            const char *file = c.rows[i].f[1];
            ck_assert_msg(strcmp(kt_os_name(sys.os), r->f[2]) == 0, "%s: os %s", file,
                          kt_os_name(sys.os));
            ck_assert_msg(strcmp(sys.os_name, r->f[3]) == 0, "%s: name '%s'", file, sys.os_name);
            ck_assert_msg(strcmp(sys.os_version, r->f[4]) == 0, "%s: version '%s'", file,
                          sys.os_version);
            ck_assert_msg(strcmp(dash(sys.hostname), r->f[5]) == 0, "%s: hostname '%s'", file,
                          sys.hostname);
            ck_assert_msg(strcmp(dash(sys.timezone), r->f[6]) == 0, "%s: zone '%s'", file,
                          sys.timezone);
            ck_assert_int_eq(sys.warnings.count, 0);
            kt_system_release(&sys);
            checked++;
        }
    }
    ck_assert_uint_ge(checked, 10);
    tsv_free(&c);
    tsv_free(&s);
}
END_TEST

START_TEST(finds_no_system_on_a_data_volume)
{
    kt_system sys;
    detect(evidence_dir(), "windows.raw", 0, &sys); /* the EFI system partition */
    ck_assert_int_eq(sys.os, KT_OS_NONE);
    kt_system_release(&sys);
    detect(evidence_dir(), "linux.raw", 1, &sys); /* the FAT data partition */
    ck_assert_int_eq(sys.os, KT_OS_NONE);
    kt_system_release(&sys);
}
END_TEST

START_TEST(placeholder_hives_become_warnings)
{
    /* Velociraptor's image has Windows's layout but text where hives belong. */
    kt_system sys;
    detect(corpus_dir(), "velociraptor/partition_image.E01", 0, &sys);
    ck_assert_int_eq(sys.os, KT_OS_WINDOWS);
    /* Why each hive was not read is kept for collection to report. */
    ck_assert_ptr_null(sys.software);
    ck_assert_ptr_null(sys.system);
    ck_assert_ptr_nonnull(strstr(sys.software_error, "not a valid registry hive"));
    ck_assert_ptr_nonnull(strstr(sys.system_error, "not a valid registry hive"));
    ck_assert_str_eq(sys.hostname, "");
    kt_system_release(&sys);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("system");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, detects_each_system_with_name_host_and_zone);
    tcase_add_test(tc, finds_no_system_on_a_data_volume);
    tcase_add_test(tc, placeholder_hives_become_warnings);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
