/* libFuzzer harness: time patterns (kt_time_pattern_parse in
 * src/timepattern.c) on every pattern the shipped definitions use and more. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kavtrace/artifacts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    static kt_time_pattern patterns[] = {
        {.pattern = "%Y%m%d%H%M"},
        {.pattern = "%d%m%Y %H%M"},
        {.pattern = "%Y-%m-%d %H-%M-%S"},
        {.pattern = "%d-%m-%Y %H-%M-%S"},
        {.pattern = "%-m/%-d/%Y %-I:%M:%S %p"},
        {.pattern = "%H:%M:%S.%f", .time_only = true},
        {.pattern = "%m.%d_%H.%M", .no_year = true},
        {.pattern = "%Y-%m-%d %H:%M:%S%z", .has_offset = true},
        {.pattern = "%s", .unix_seconds = true},
    };
    char text[128];
    size_t n = len < sizeof text - 1 ? len : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
        kt_time t;
        kt_time_pattern_parse(&patterns[i], text, &t);
    }
    return 0;
}
