/* The reader programs' line protocol (src/reader_proto.c): what the
 * encoder writes the decoder reads back, and the decoder refuses, without
 * a crash, every line the encoder cannot have written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader_proto.h"
#include "testutil.h"

START_TEST(decodes_what_the_encoder_writes)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    ck_assert_ptr_nonnull(f);
    const char *text = "a\\b\tc\nd\re \x01 \xc3\xa9";
    kt_proto_begin(f, 'R');
    kt_proto_put_uint(f, UINT64_MAX);
    kt_proto_put_hex32(f, 0x2A);
    kt_proto_put_text(f, text);
    kt_proto_put_text(f, NULL);
    kt_proto_end(f);
    kt_proto_say(f, 'W', "%d%% done: %s", 50, "x\ty");
    kt_proto_begin(f, '.');
    kt_proto_end(f);
    fclose(f);
    ck_assert_str_eq(out, "R\t18446744073709551615\t0000002A\ta\\\\b\\tc\\nd\\re \x01 \xc3\xa9\t\n"
                          "W\t50% done: x\\ty\n"
                          ".\n");

    kt_proto_session s = {.end = '.'};
    kt_proto_line l;
    char *line = strtok(out, "\n");
    ck_assert(kt_proto_next(&s, line, &l));
    ck_assert_int_eq(l.kind, 'R');
    ck_assert_uint_eq(l.nfields, 4);
    uint64_t v = 0;
    ck_assert(kt_proto_number(l.field[0], 10, UINT64_MAX, &v));
    ck_assert_uint_eq(v, UINT64_MAX);
    ck_assert(kt_proto_number(l.field[1], 16, UINT32_MAX, &v));
    ck_assert_uint_eq(v, 0x2A);
    ck_assert_str_eq(l.field[2], text);
    ck_assert_str_eq(l.field[3], "");
    ck_assert(kt_proto_next(&s, strtok(NULL, "\n"), &l));
    ck_assert_int_eq(l.kind, 'W');
    ck_assert_str_eq(l.field[0], "50% done: x\ty");
    ck_assert(!s.ended);
    ck_assert(kt_proto_next(&s, strtok(NULL, "\n"), &l));
    ck_assert_int_eq(l.kind, '.');
    ck_assert_uint_eq(l.nfields, 0);
    ck_assert(s.ended);
    ck_assert_uint_eq(s.lines, 3);
    ck_assert_uint_eq(s.malformed, 0);
    free(out);
}
END_TEST

START_TEST(refuses_lines_the_encoder_cannot_write)
{
    const char *bad[] = {
        "",                             /* empty */
        "\tx",                          /* no kind */
        " \tx",                         /* a space for a kind */
        "\x01\tx",                      /* a control character */
        "\xc3\tx",                      /* not ASCII */
        "Wx",                           /* no TAB after the kind */
        "W x",                          /* a space instead */
        "W\tend\\",                     /* a lone backslash */
        "W\ta\\qb",                     /* an escape the encoder does not write */
        "W\ta\\\tb",                    /* a backslash before a raw TAB */
        "R\t1\t2\t3\t4\t5\t6\t7\t8\t9", /* more fields than any line has */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *line = strdup(bad[i]);
        kt_proto_line l;
        ck_assert_msg(!kt_proto_parse(line, &l), "accepted '%s'", bad[i]);
        free(line);
    }
    /* the edges that are fine: a kind alone, empty fields, the most fields */
    const char *good[][2] = {
        {".", "0"},
        {"N\t", "1"},
        {"D\t\t\t", "3"},
        {"R\t1\t2\t3\t4\t5\t6\t7\t8", "8"},
        {"W\t\\\\\\t\\n\\r", "1"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char *line = strdup(good[i][0]);
        kt_proto_line l;
        ck_assert_msg(kt_proto_parse(line, &l), "refused '%s'", good[i][0]);
        ck_assert_uint_eq(l.nfields, strtoul(good[i][1], NULL, 10));
        free(line);
    }
    char line[] = "W\t\\\\\\t\\n\\r";
    kt_proto_line l;
    ck_assert(kt_proto_parse(line, &l));
    ck_assert_str_eq(l.field[0], "\\\t\n\r");
}
END_TEST

START_TEST(reads_numbers_strictly)
{
    uint64_t v = 7;
    const char *bad10[] = {"",
                           "-1",
                           "+1",
                           " 1",
                           "1 ",
                           "1x",
                           "0x2A",
                           "18446744073709551616",
                           "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad10 / sizeof bad10[0]; i++)
        ck_assert_msg(!kt_proto_number(bad10[i], 10, UINT64_MAX, &v), "took '%s'", bad10[i]);
    ck_assert(!kt_proto_number("0x2A", 16, UINT32_MAX, &v));
    ck_assert(!kt_proto_number("G", 16, UINT32_MAX, &v));
    ck_assert(!kt_proto_number("100000000", 16, UINT32_MAX, &v));
    ck_assert(!kt_proto_number("2", 10, 1, &v));
    ck_assert_uint_eq(v, 7);
    ck_assert(kt_proto_number("18446744073709551615", 10, UINT64_MAX, &v));
    ck_assert_uint_eq(v, UINT64_MAX);
    ck_assert(kt_proto_number("FFFFFFFF", 16, UINT32_MAX, &v));
    ck_assert_uint_eq(v, UINT32_MAX);
    ck_assert(kt_proto_number("d269b812", 16, UINT32_MAX, &v));
    ck_assert_uint_eq(v, 0xD269B812u);
    ck_assert(kt_proto_number("0", 10, 0, &v));
    ck_assert_uint_eq(v, 0);
}
END_TEST

START_TEST(counts_malformed_lines_and_what_follows_the_end)
{
    kt_proto_session s = {.end = 'X'};
    const char *lines[] = {"W\tfine", "garbage", "R\t1", "X\t1\t2\t3", "W\tlate", "X\t1\t2\t3"};
    bool want[] = {true, false, true, true, false, false};
    for (size_t i = 0; i < 6; i++) {
        char *line = strdup(lines[i]);
        kt_proto_line l;
        ck_assert_int_eq(kt_proto_next(&s, line, &l), want[i]);
        /* the client's own check: an R line needs six fields */
        if (want[i] && l.kind == 'R' && l.nfields != 6)
            kt_proto_reject(&s, "an R line with %zu fields", l.nfields);
        free(line);
    }
    ck_assert(s.ended);
    ck_assert_uint_eq(s.lines, 6);
    ck_assert_uint_eq(s.malformed, 4);
    ck_assert_uint_eq(s.first_malformed, 2);
    char text[256];
    ck_assert_str_eq(kt_proto_problems(&s, text, sizeof text),
                     "wrote 4 malformed lines (the first: line 2, not a line of the protocol)");
}
END_TEST

START_TEST(refuses_unknown_kinds_and_says_what_was_wrong)
{
    kt_proto_session s = {.end = '.', .kinds = "VW."};
    const char *lines[] = {"V\t1", "Q\tx", "W\tw", "R\t1"};
    bool want[] = {true, false, true, false};
    for (size_t i = 0; i < 4; i++) {
        char *line = strdup(lines[i]);
        kt_proto_line l;
        ck_assert_int_eq(kt_proto_next(&s, line, &l), want[i]);
        free(line);
    }
    char text[256];
    /* no end line: said too */
    ck_assert_str_eq(kt_proto_problems(&s, text, sizeof text),
                     "wrote 2 malformed lines (the first: line 2, unknown kind 'Q') and ended "
                     "without its end line");
    /* only the end missing; nothing wrong at all */
    kt_proto_session quiet = {.end = '.', .kinds = "VW."};
    ck_assert_str_eq(kt_proto_problems(&quiet, text, sizeof text), "ended without its end line");
    char end[] = ".";
    kt_proto_line l;
    ck_assert(kt_proto_next(&quiet, end, &l));
    ck_assert_str_eq(kt_proto_problems(&quiet, text, sizeof text), "");
    /* a client's reason, kept for the first only; a short buffer is cut */
    kt_proto_reject(&quiet, "a '%c' line with wrong fields", 'V');
    kt_proto_reject(&quiet, "something else");
    ck_assert_str_eq(kt_proto_problems(&quiet, text, sizeof text),
                     "wrote 2 malformed lines (the first: line 1, a 'V' line with wrong fields)");
    ck_assert_str_eq(kt_proto_problems(&quiet, text, 12), "wrote 2 mal");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("reader_proto");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, decodes_what_the_encoder_writes);
    tcase_add_test(tc, refuses_lines_the_encoder_cannot_write);
    tcase_add_test(tc, reads_numbers_strictly);
    tcase_add_test(tc, counts_malformed_lines_and_what_follows_the_end);
    tcase_add_test(tc, refuses_unknown_kinds_and_says_what_was_wrong);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
