#include <stdint.h>
#include <string.h>

#include "kavtrace/bytes.h"
#include "testutil.h"

static const uint8_t b[8] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x88};

START_TEST(reads_both_byte_orders)
{
    uint8_t u8 = 0;
    uint16_t u16 = 0;
    uint32_t u32 = 0;
    uint64_t u64 = 0;
    ck_assert(kt_rd_u8(b, sizeof b, 7, &u8));
    ck_assert_uint_eq(u8, 0x88);
    ck_assert(kt_rd_le16(b, sizeof b, 1, &u16));
    ck_assert_uint_eq(u16, 0x0302);
    ck_assert(kt_rd_be16(b, sizeof b, 1, &u16));
    ck_assert_uint_eq(u16, 0x0203);
    ck_assert(kt_rd_le32(b, sizeof b, 4, &u32));
    ck_assert_uint_eq(u32, 0x88070605u);
    ck_assert(kt_rd_be32(b, sizeof b, 4, &u32));
    ck_assert_uint_eq(u32, 0x05060788u);
    ck_assert(kt_rd_le64(b, sizeof b, 0, &u64));
    ck_assert_uint_eq(u64, UINT64_C(0x8807060504030201));
    ck_assert(kt_rd_be64(b, sizeof b, 0, &u64));
    ck_assert_uint_eq(u64, UINT64_C(0x0102030405060788));
}
END_TEST

START_TEST(reads_up_to_the_last_byte_and_not_past_it)
{
    uint8_t u8 = 0xAA;
    uint16_t u16 = 0xAAAA;
    uint32_t u32 = 0xAAAAAAAA;
    uint64_t u64 = UINT64_C(0xAAAAAAAAAAAAAAAA);
    /* the last whole field fits exactly */
    ck_assert(kt_rd_le16(b, sizeof b, 6, &u16));
    ck_assert(kt_rd_be32(b, sizeof b, 4, &u32));
    ck_assert(kt_rd_le64(b, sizeof b, 0, &u64));
    /* one byte further does not, and the value is left alone */
    u8 = 0xAA, u16 = 0xAAAA, u32 = 0xAAAAAAAA, u64 = UINT64_C(0xAAAAAAAAAAAAAAAA);
    ck_assert(!kt_rd_u8(b, sizeof b, 8, &u8));
    ck_assert(!kt_rd_le16(b, sizeof b, 7, &u16));
    ck_assert(!kt_rd_be16(b, sizeof b, 7, &u16));
    ck_assert(!kt_rd_le32(b, sizeof b, 5, &u32));
    ck_assert(!kt_rd_be32(b, sizeof b, 5, &u32));
    ck_assert(!kt_rd_le64(b, sizeof b, 1, &u64));
    ck_assert(!kt_rd_be64(b, sizeof b, 1, &u64));
    ck_assert_uint_eq(u8, 0xAA);
    ck_assert_uint_eq(u16, 0xAAAA);
    ck_assert_uint_eq(u32, 0xAAAAAAAAu);
    ck_assert_uint_eq(u64, UINT64_C(0xAAAAAAAAAAAAAAAA));
    /* a field wider than the whole buffer, and an empty buffer */
    ck_assert(!kt_rd_le64(b, 4, 0, &u64));
    ck_assert(!kt_rd_u8(NULL, 0, 0, &u8));
    ck_assert(!kt_rd_be32(NULL, 0, 0, &u32));
    ck_assert_uint_eq(u64, UINT64_C(0xAAAAAAAAAAAAAAAA));
}
END_TEST

START_TEST(offsets_near_size_max_do_not_wrap)
{
    /* off + size would wrap to a small number: still refused */
    uint16_t u16 = 7;
    uint32_t u32 = 7;
    uint64_t u64 = 7;
    uint8_t u8 = 7;
    for (size_t back = 0; back < 9; back++) {
        size_t off = SIZE_MAX - back;
        ck_assert(!kt_rd_u8(b, sizeof b, off, &u8));
        ck_assert(!kt_rd_le16(b, sizeof b, off, &u16));
        ck_assert(!kt_rd_be16(b, sizeof b, off, &u16));
        ck_assert(!kt_rd_le32(b, sizeof b, off, &u32));
        ck_assert(!kt_rd_be32(b, sizeof b, off, &u32));
        ck_assert(!kt_rd_le64(b, sizeof b, off, &u64));
        ck_assert(!kt_rd_be64(b, sizeof b, off, &u64));
    }
    /* and a length near SIZE_MAX with an offset past it */
    ck_assert(!kt_rd_fits(SIZE_MAX - 2, SIZE_MAX - 1, 1));
    ck_assert(!kt_rd_fits(SIZE_MAX - 2, SIZE_MAX - 4, 4));
    ck_assert(kt_rd_fits(SIZE_MAX, SIZE_MAX - 4, 4));
    ck_assert(kt_rd_fits(SIZE_MAX, SIZE_MAX, 0));
    ck_assert_uint_eq(u8 + u16 + u32 + u64, 28);
}
END_TEST

/* UTF-16LE to UTF-8: one, two, three and four bytes a code point, a lone
 * surrogate of either kind as U+FFFD, and a short buffer cut between code
 * points, never inside one. */
START_TEST(utf16le_becomes_utf8)
{
    /* "A", e-acute, the euro sign, U+1F600 as a pair, a lone high
     * surrogate before "B", a lone low surrogate */
    static const uint8_t u[] = {0x41, 0x00, 0xe9, 0x00, 0xac, 0x20, 0x3d, 0xd8,
                                0x00, 0xde, 0x00, 0xd8, 0x42, 0x00, 0x00, 0xdc};
    char out[64];
    size_t n = kt_utf16le_to_utf8(u, sizeof u / 2, out, sizeof out);
    ck_assert_str_eq(out, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbd"
                          "B\xef\xbf\xbd");
    ck_assert_uint_eq(n, strlen(out));
    /* room for "A" and e-acute (3 bytes and the NUL), not the euro sign */
    ck_assert_uint_eq(kt_utf16le_to_utf8(u, sizeof u / 2, out, 6), 3);
    ck_assert_str_eq(out, "A\xc3\xa9");
    /* a pair cut off at the end of the units is a lone surrogate */
    ck_assert_uint_eq(kt_utf16le_to_utf8(u, 4, out, sizeof out), 9);
    ck_assert_str_eq(out, "A\xc3\xa9\xe2\x82\xac\xef\xbf\xbd");
    ck_assert_uint_eq(kt_utf16le_to_utf8(u, 1, out, 1), 0);
    ck_assert_str_eq(out, "");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("bytes");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, reads_both_byte_orders);
    tcase_add_test(tc, reads_up_to_the_last_byte_and_not_past_it);
    tcase_add_test(tc, offsets_near_size_max_do_not_wrap);
    tcase_add_test(tc, utf16le_becomes_utf8);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
