/* libFuzzer harness: property-list records (src/parsers/plist.c). */
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/plist.h"

static int visit(void *ctx, const kt_plist_dict *d, size_t index)
{
    (void)ctx, (void)index;
    char s[256];
    for (size_t i = 0; i < 4; i++)
        kt_plist_dict_string(d, "packageIdentifiers", i, s, sizeof s);
    kt_plist_dict_string(d, "displayName", 0, s, sizeof s);
    kt_plist_dict_date(d, "date");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    char s[256];
    kt_plist_each_dict(data, len, visit, NULL, NULL);
    kt_plist_get_path_string(data, len, "System/Network/HostNames/LocalHostName", s, sizeof s,
                             NULL);
    return 0;
}
