/* libFuzzer harness: the Windows time zone (src/wintz.c): a
 * TIME_ZONE_INFORMATION's Bias, StandardBias and DaylightBias (3 x 4 bytes,
 * little-endian) and StandardStart and DaylightStart (2 x 16 bytes,
 * SYSTEMTIME), then local times (8 bytes each) converted to UTC, besides
 * a fixed few from the far past to the far future. */
#include <stdint.h>
#include <string.h>

#include "kavtrace/wintz.h"

static int32_t le32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    static const kt_time fixed[] = {INT64_MIN,
                                    INT64_MIN + 1,
                                    -1,
                                    0,
                                    INT64_C(1710054000000000000), /* 2024-03-10 */
                                    INT64_C(1730615400000000000), /* 2024-11-03 */
                                    INT64_MAX - 1,
                                    INT64_MAX};
    if (len < 44)
        return 0;
    kt_wintz tz;
    kt_wintz_init(&tz, "fuzz", le32(data), le32(data + 4), le32(data + 8), data + 12, data + 28);
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        kt_wintz_to_utc(&tz, fixed[i]);
    for (size_t off = 44; off + 8 <= len; off += 8) {
        uint64_t v;
        memcpy(&v, data + off, 8);
        kt_wintz_to_utc(&tz, (kt_time)v);
    }
    return 0;
}
