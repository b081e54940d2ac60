/* libFuzzer harness: TZif files (src/tzif.c). */
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/tzif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    static const kt_time when[] = {INT64_MIN + 1,
                                   -1,
                                   0,
                                   INT64_C(1710054000000000000), /* 2024-03-10 */
                                   INT64_C(1730615400000000000), /* 2024-11-03 */
                                   INT64_C(2871763200000000000), /* 2061 */
                                   INT64_MAX};
    kt_tzif *z = NULL;
    if (kt_tzif_parse(data, len, &z, NULL) != KT_OK)
        return 0;
    for (size_t i = 0; i < sizeof when / sizeof when[0]; i++) {
        int32_t off;
        bool dst;
        const char *abbr;
        kt_time utc;
        int flags;
        kt_tzif_offset_at(z, when[i], &off, &dst, &abbr);
        kt_tzif_local_to_utc(z, when[i], &utc, &flags);
    }
    kt_tzif_free(z);
    return 0;
}
