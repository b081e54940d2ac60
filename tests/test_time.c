#include <string.h>

#include "kavtrace/error.h"
#include "kavtrace/time.h"
#include "testutil.h"

START_TEST(converts_filetime_with_100ns_precision)
{
    /* 133720560000000000 = 2024-09-29T04:00:00Z, the BIS cutoff. */
    kt_time t = kt_time_from_filetime(UINT64_C(133720560000000000));
    ck_assert_int_eq(t, INT64_C(1727582400) * KT_NS_PER_SEC);
    t = kt_time_from_filetime(UINT64_C(133720560000000001));
    ck_assert_int_eq(t, INT64_C(1727582400) * KT_NS_PER_SEC + 100);
    char buf[KT_TIME_ISO_MAX];
    ck_assert_str_eq(kt_time_format_iso(t, buf), "2024-09-29T04:00:00.0000001Z");
}
END_TEST

START_TEST(zero_filetime_is_no_time)
{
    ck_assert_int_eq(kt_time_from_filetime(0), KT_TIME_NONE);
    ck_assert_int_eq(kt_time_from_filetime(UINT64_MAX), KT_TIME_NONE);
}
END_TEST

START_TEST(parses_and_formats_iso_round_trip)
{
    /* input, and how it prints: the shortest exact fraction of 3, 6, 7 or 9 digits */
    const char *cases[][2] = {
        {"2024-07-20T04:00:00Z", "2024-07-20T04:00:00Z"},
        {"2024-02-29T23:59:59.5Z", "2024-02-29T23:59:59.500Z"},
        {"1999-12-31T00:00:00.123Z", "1999-12-31T00:00:00.123Z"},
        {"2023-03-01T10:04:55.262107719Z", "2023-03-01T10:04:55.262107719Z"},
        {"2022-01-10T08:15:30.1234567Z", "2022-01-10T08:15:30.1234567Z"},
        {"1970-01-01T00:00:00.000001Z", "1970-01-01T00:00:00.000001Z"},
        {"1700-01-01T00:00:00Z", "1700-01-01T00:00:00Z"},
        {"2100-03-01 12:00:00Z", "2100-03-01T12:00:00Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kt_time t = 0;
        ck_assert_int_eq(kt_time_parse_iso(cases[i][0], &t), 0);
        char buf[KT_TIME_ISO_MAX];
        ck_assert_str_eq(kt_time_format_iso(t, buf), cases[i][1]);
    }
}
END_TEST

START_TEST(parses_bare_date_as_midnight_utc)
{
    kt_time t = 0;
    ck_assert_int_eq(kt_time_parse_iso("2024-06-20", &t), 0);
    ck_assert_int_eq(t, INT64_C(1718841600) * KT_NS_PER_SEC);
}
END_TEST

START_TEST(rejects_malformed_times)
{
    const char *bad[] = {"",
                         "2024-13-01T00:00:00Z",
                         "2023-02-29T00:00:00Z",
                         "2024-01-01T24:00:00Z",
                         "2024-01-01T00:00:00",
                         "2024-01-01T00:00:00.Z",
                         "2024-01-01T00:00:00.1234567890Z",
                         "2024-01-01T00:00:00Zjunk",
                         "24-01-01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kt_time t = 42;
        ck_assert_msg(kt_time_parse_iso(bad[i], &t) == KT_EFORMAT, "accepted '%s'", bad[i]);
        ck_assert_int_eq(t, 42);
    }
}
END_TEST

START_TEST(formats_times_before_1970)
{
    char buf[KT_TIME_ISO_MAX];
    ck_assert_str_eq(kt_time_format_iso(-1, buf), "1969-12-31T23:59:59.999999999Z");
    ck_assert_str_eq(kt_time_format_iso(KT_TIME_NONE, buf), "-");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("time");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, converts_filetime_with_100ns_precision);
    tcase_add_test(tc, zero_filetime_is_no_time);
    tcase_add_test(tc, parses_and_formats_iso_round_trip);
    tcase_add_test(tc, parses_bare_date_as_midnight_utc);
    tcase_add_test(tc, rejects_malformed_times);
    tcase_add_test(tc, formats_times_before_1970);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
