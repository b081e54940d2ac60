#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/registry.h"
#include "testutil.h"

START_TEST(reads_values_and_key_times_from_memory)
{
    /* The SYSTEM hive the hive builder made from its spec. */
    char *spec = path_join(testdata_dir(), "windows/hives/SYSTEM.spec");
    char *hive = path_join(evidence_dir(), "hives/SYSTEM");
    kt_buf b = {0};
    file_load(hive, &b);
    kt_hive *h = NULL;
    kt_error err = {0};
    ck_assert_msg(kt_hive_open_mem(b.data, b.len, "SYSTEM", &h, &err) == 0, "%s", err.msg);
    kt_buf_release(&b); /* the hive keeps its own copy */
    uint32_t current = 0;
    ck_assert_int_eq(kt_hive_get_dword(h, "Select", "Current", &current, &err), 0);
    ck_assert_uint_eq(current, 1);
    char name[64];
    ck_assert_int_eq(kt_hive_get_string(h, "controlset001\\CONTROL\\ComputerName\\ComputerName",
                                        "ComputerName", name, sizeof name, &err),
                     0);
    ck_assert_str_eq(name, "WS-ALICE01");
    ck_assert_int_eq(
        kt_hive_get_string(h, "ControlSet001\\Control", "NoSuchValue", name, sizeof name, &err),
        KT_ENOTFOUND);
    ck_assert_int_eq(kt_hive_get_string(h, "ControlSet009", "x", name, sizeof name, &err),
                     KT_ENOTFOUND);

    /* Key LastWrite times come back exactly as the spec set them. */
    tsv t;
    tsv_load(&t, spec);
    size_t keys = 0;
    for (size_t i = 0; i < t.count; i++) {
        tsv_row *r = &t.rows[i];
        if (strcmp(r->f[0], "key") != 0 || r->nfields < 3)
            continue;
        kt_time got;
        ck_assert_int_eq(kt_hive_key_time(h, r->f[1], &got, &err), 0);
        char g[KT_TIME_ISO_MAX];
        ck_assert_msg(got == truth_time(r->f[2]), "%s: %s, want %s", r->f[1],
                      kt_time_format_iso(got, g), r->f[2]);
        keys++;
    }
    ck_assert_uint_ge(keys, 5);
    tsv_free(&t);
    kt_hive_free(h);
    free(spec);
    free(hive);
}
END_TEST

START_TEST(opens_real_hives_and_refuses_broken_ones)
{
    const char *good[] = {"hivex/minimal", "velociraptor/ntuser.dat", "plaso/NTUSER-WIN7.DAT",
                          "velociraptor/Amcache.hve"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char *p = path_join(corpus_dir(), good[i]);
        kt_buf b = {0};
        file_load(p, &b);
        kt_hive *h = NULL;
        kt_error err = {0};
        ck_assert_msg(kt_hive_open_mem(b.data, b.len, good[i], &h, &err) == 0, "%s", err.msg);
        kt_hive_free(h);
        kt_buf_release(&b);
        free(p);
    }
    const char *bad[][2] = {{"unpacked", "regipy-corrupted_system_hive"},
                            {"corpus", "velociraptor/debian_status"}};
    for (size_t i = 0; i < 2; i++) {
        char *p = path_join(
            strcmp(bad[i][0], "unpacked") == 0 ? corpus_unpacked_dir() : corpus_dir(), bad[i][1]);
        kt_buf b = {0};
        file_load(p, &b);
        kt_hive *h = NULL;
        kt_error err = {0};
        int rc = kt_hive_open_mem(b.data, b.len, bad[i][1], &h, &err);
        if (rc == 0) {
            /* hivex may accept a damaged hive; lookups must then fail cleanly. */
            char v[64];
            kt_hive_get_string(h, "Select", "Current", v, sizeof v, &err);
            kt_hive_free(h);
        } else {
            ck_assert_ptr_nonnull(strstr(err.msg, bad[i][1]));
        }
        kt_buf_release(&b);
        free(p);
    }
    kt_hive *h = NULL;
    kt_error err = {0};
    ck_assert_int_eq(kt_hive_open_mem("regf", 4, "tiny", &h, &err), KT_EFORMAT);
    ck_assert_ptr_null(h);
}
END_TEST

/* Set the stated data length of every value named `name` in a hive's
 * bytes (vk record: "vk" at 0x00, name length at 0x02, data length at
 * 0x04, flags at 0x10, the name at 0x14); returns how many. */
static size_t forge_value_length(kt_buf *b, const char *name, uint32_t len)
{
    size_t n = strlen(name), found = 0;
    for (size_t off = 0x1000; off + 0x14 + n <= b->len; off += 8) {
        uint8_t *vk = b->data + off + 4; /* after the cell's size */
        if (memcmp(vk, "vk", 2) != 0 || vk[2] != n || vk[3] != 0 || !(vk[0x10] & 1) ||
            memcmp(vk + 0x14, name, n) != 0)
            continue;
        for (int i = 0; i < 4; i++)
            vk[4 + i] = (uint8_t)(len >> (8 * i));
        found++;
    }
    return found;
}

START_TEST(refuses_oversized_values_before_reading_them)
{
    char *path = path_join(evidence_dir(), "hives/SYSTEM");
    kt_buf b = {0};
    file_load(path, &b);
    /* A length over the limit, and one no hive can hold: hivex itself
     * refuses values over its own cap with ERANGE, so the message says
     * which check came first. */
    const uint32_t lengths[] = {KT_HIVE_MAX_VALUE + 1, 0x7FFFFFF0u};
    const char *key = "ControlSet001\\Control\\ComputerName\\ComputerName";
    for (size_t i = 0; i < 2; i++) {
        ck_assert_uint_eq(forge_value_length(&b, "ComputerName", lengths[i]), 2);
        kt_hive *h = NULL;
        kt_error err = {0};
        ck_assert_msg(kt_hive_open_mem(b.data, b.len, "SYSTEM", &h, &err) == 0, "%s", err.msg);
        char name[64];
        ck_assert_int_eq(kt_hive_get_string(h, key, "ComputerName", name, sizeof name, &err),
                         KT_ELIMIT);
        ck_assert_str_eq(err.msg, "value 'ComputerName' too large");
        kt_hive_node node;
        ck_assert_int_eq(kt_hive_find(h, 0, key, &node, &err), 0);
        uint32_t type = 99;
        kt_buf data = {0};
        ck_assert_int_eq(kt_hive_value(h, node, "ComputerName", &type, &data, &err), KT_ELIMIT);
        ck_assert_str_eq(err.msg, "value 'ComputerName' too large");
        ck_assert_uint_eq(type, 99);
        ck_assert_uint_eq(data.len, 0);
        ck_assert_int_eq(kt_hive_value_string(h, node, "ComputerName", name, sizeof name, &err),
                         KT_ELIMIT);
        ck_assert_str_eq(err.msg, "value 'ComputerName' too large");
        /* the other values are still read */
        uint32_t current = 0;
        ck_assert_int_eq(kt_hive_get_dword(h, "Select", "Current", &current, &err), 0);
        ck_assert_uint_eq(current, 1);
        kt_hive_free(h);
    }
    kt_buf_release(&b);
    free(path);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, reads_values_and_key_times_from_memory);
    tcase_add_test(tc, opens_real_hives_and_refuses_broken_ones);
    tcase_add_test(tc, refuses_oversized_values_before_reading_them);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
