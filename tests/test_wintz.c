#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/wintz.h"
#include "testutil.h"

/* SYSTEMTIME rule bytes: month, day-of-week, week (5 = last), hour. */
static void rule(uint8_t out[16], int month, int dow, int week, int hour)
{
    memset(out, 0, 16);
    out[2] = (uint8_t)month;
    out[4] = (uint8_t)dow;
    out[6] = (uint8_t)week;
    out[8] = (uint8_t)hour;
}

static kt_time utc(const kt_wintz *tz, const char *local)
{
    return kt_wintz_to_utc(tz, truth_time(local));
}

START_TEST(converts_eastern_time_across_dst)
{
    uint8_t std[16], dst[16];
    rule(std, 11, 0, 1, 2); /* first Sunday of November, 02:00 */
    rule(dst, 3, 0, 2, 2);  /* second Sunday of March, 02:00 */
    kt_wintz tz;
    kt_wintz_init(&tz, "Eastern Standard Time", 300, 0, -60, std, dst);
    ck_assert(tz.has_dst);
    ck_assert_int_eq(utc(&tz, "2022-01-10T00:00:00Z"), truth_time("2022-01-10T05:00:00Z"));
    /* 2022-03-13 is the second Sunday of March: DST from 02:00. */
    ck_assert_int_eq(utc(&tz, "2022-03-13T01:59:59Z"), truth_time("2022-03-13T06:59:59Z"));
    ck_assert_int_eq(utc(&tz, "2022-03-13T03:00:00Z"), truth_time("2022-03-13T07:00:00Z"));
    ck_assert_int_eq(utc(&tz, "2022-03-14T00:00:00Z"), truth_time("2022-03-14T04:00:00Z"));
    /* 2024-11-03 is the first Sunday of November. */
    ck_assert_int_eq(utc(&tz, "2024-11-02T23:00:00Z"), truth_time("2024-11-03T03:00:00Z"));
    ck_assert_int_eq(utc(&tz, "2024-11-03T02:00:00Z"), truth_time("2024-11-03T07:00:00Z"));
    /* The BIS cutoff: midnight EDT. */
    ck_assert_int_eq(utc(&tz, "2024-09-29T00:00:00Z"), truth_time("2024-09-29T04:00:00Z"));
}
END_TEST

START_TEST(converts_southern_hemisphere_and_fixed_zones)
{
    uint8_t std[16], dst[16];
    rule(std, 4, 0, 1, 3);  /* AUS Eastern: DST ends first Sunday of April, 03:00 */
    rule(dst, 10, 0, 1, 2); /* begins first Sunday of October, 02:00 */
    kt_wintz tz;
    kt_wintz_init(&tz, "AUS Eastern Standard Time", -600, 0, -60, std, dst);
    ck_assert_int_eq(utc(&tz, "2024-01-15T12:00:00Z"), truth_time("2024-01-15T01:00:00Z"));
    ck_assert_int_eq(utc(&tz, "2024-07-15T12:00:00Z"), truth_time("2024-07-15T02:00:00Z"));
    kt_wintz utc0;
    kt_wintz_init(&utc0, "UTC", 0, 0, 0, NULL, NULL);
    ck_assert(!utc0.has_dst);
    ck_assert_int_eq(utc(&utc0, "2024-07-15T12:00:00Z"), truth_time("2024-07-15T12:00:00Z"));
}
END_TEST

START_TEST(converts_at_the_ends_of_time_and_with_corrupt_biases_without_overflow)
{
    /* Found by fuzz_wintz (UBSan: signed overflow): a time near either end
     * of a kt_time's range, or a bias no real zone has (a corrupt hive),
     * gives no time instead of a wrapped one. */
    uint8_t std[16], dst[16];
    rule(std, 11, 0, 1, 2);
    rule(dst, 3, 0, 2, 2);
    kt_wintz tz;
    kt_wintz_init(&tz, "Central", 360, 0, -60, std, dst);
    ck_assert_int_eq(kt_wintz_to_utc(&tz, INT64_MAX), KT_TIME_NONE);
    ck_assert_int_eq(kt_wintz_to_utc(&tz, INT64_MAX - 1), KT_TIME_NONE);
    ck_assert_int_eq(kt_wintz_to_utc(&tz, KT_TIME_NONE), KT_TIME_NONE);
    kt_wintz east;
    kt_wintz_init(&east, "Tonga", -780, 0, 0, NULL, NULL);
    ck_assert_int_eq(kt_wintz_to_utc(&east, INT64_MIN + 1), KT_TIME_NONE);
    /* In range, the same as ever: 6 hours west. */
    ck_assert_int_eq(kt_wintz_to_utc(&tz, INT64_C(0)), INT64_C(6) * 3600 * KT_NS_PER_SEC);
    kt_wintz bad;
    kt_wintz_init(&bad, "corrupt", INT32_MAX, INT32_MAX, INT32_MIN, std, dst);
    /* standard time: 2 x INT32_MAX minutes, past the range; daylight time:
     * INT32_MAX + INT32_MIN = -1 minute, summed without wrapping */
    ck_assert_int_eq(kt_wintz_to_utc(&bad, truth_time("2024-01-15T12:00:00Z")), KT_TIME_NONE);
    ck_assert_int_eq(kt_wintz_to_utc(&bad, truth_time("2024-07-15T12:00:00Z")),
                     truth_time("2024-07-15T11:59:00Z"));
}
END_TEST

START_TEST(reads_the_zone_from_a_system_hive)
{
    char *path = path_join(evidence_dir(), "hives/SYSTEM");
    kt_buf b = {0};
    file_load(path, &b);
    kt_hive *h = NULL;
    kt_error err = {0};
    ck_assert_int_eq(kt_hive_open_mem(b.data, b.len, "SYSTEM", &h, &err), 0);
    kt_wintz tz;
    ck_assert_int_eq(kt_wintz_from_hive(h, "ControlSet001", &tz, &err), 0);
    ck_assert_str_eq(tz.name, "Eastern Standard Time");
    ck_assert_int_eq(tz.bias, 300);
    ck_assert_int_eq(utc(&tz, "2024-07-01T12:00:00Z"), truth_time("2024-07-01T16:00:00Z"));
    ck_assert_int_eq(kt_wintz_from_hive(h, "ControlSet009", &tz, &err), KT_ENOTFOUND);
    kt_hive_free(h);
    kt_buf_release(&b);
    free(path);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("wintz");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, converts_eastern_time_across_dst);
    tcase_add_test(tc, converts_southern_hemisphere_and_fixed_zones);
    tcase_add_test(tc, reads_the_zone_from_a_system_hive);
    tcase_add_test(tc, converts_at_the_ends_of_time_and_with_corrupt_biases_without_overflow);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
