#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* A private copy of linux.raw whose ext4 volume (at 1 MiB, per
 * truth/volumes.tsv) has one region overwritten with zeros: `what` is
 * "gdt" (the group descriptor block after the superblock) or "root" (the
 * root directory's inode, found through the group descriptors). */
static char *damaged_linux(const char *what)
{
    const int64_t vol = 1048576;
    char *src = path_join(evidence_dir(), "linux.raw");
    kt_buf b = {0};
    file_load(src, &b);
    free(src);
    const uint8_t *sb = b.data + vol + 1024;
    uint32_t log_block = sb[24] | sb[25] << 8 | (uint32_t)sb[26] << 16 | (uint32_t)sb[27] << 24;
    uint16_t inode_size = (uint16_t)(sb[88] | sb[89] << 8);
    int64_t block = 1024LL << log_block;
    int64_t gdt = vol + (block == 1024 ? 2048 : block);
    int64_t at, len;
    if (strcmp(what, "gdt") == 0) {
        at = gdt;
        len = block;
    } else {
        const uint8_t *gd = b.data + gdt;
        uint32_t table = gd[8] | gd[9] << 8 | (uint32_t)gd[10] << 16 | (uint32_t)gd[11] << 24;
        at = vol + (int64_t)table * block + inode_size; /* inode 2: the second record */
        len = inode_size;
    }
    ck_assert_int_le(at + len, (int64_t)b.len);
    memset(b.data + at, 0, (size_t)len);
    char tmpl[] = "/tmp/kt-system-XXXXXX";
    int fd = mkstemp(tmpl);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, b.data, b.len), (ssize_t)b.len);
    close(fd);
    kt_buf_release(&b);
    return strdup(tmpl);
}

static void expect_hidden(const char *what)
{
    char *path = damaged_linux(what);
    kt_image *img = NULL;
    kt_volume_list vols = {0};
    kt_fs *fs = NULL;
    kt_error err = {0};
    ck_assert_msg(kt_image_open(path, &img, &err) == 0, "%s", err.msg);
    ck_assert_msg(kt_volumes_scan(img, &vols, &err) == 0, "%s", err.msg);
    ck_assert_msg(kt_fs_open_volume(img, &vols.items[0], &fs, &err) == 0, "%s", err.msg);
    kt_system sys;
    /* Every marker lookup answers "not found"; the count of inodes in use
     * against what the root reaches says the volume is damaged. */
    ck_assert_int_ne(kt_system_detect(fs, &sys, &err), 0);
    ck_assert_int_eq(sys.os, KT_OS_NONE);
    ck_assert_msg(strstr(err.msg, "no system found, and only 0 of the") != NULL, "%s: %s", what,
                  err.msg);
    ck_assert_msg(strstr(err.msg, "can be reached from its root") != NULL, "%s", err.msg);
    kt_system_release(&sys);
    kt_fs_free(fs);
    kt_volume_list_release(&vols);
    kt_image_free(img);
    unlink(path);
    free(path);
}

START_TEST(a_damaged_ext4_root_is_not_a_data_volume)
{
    expect_hidden("gdt");
    expect_hidden("root");
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
    tcase_add_test(tc, a_damaged_ext4_root_is_not_a_data_volume);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
