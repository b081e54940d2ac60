/* libFuzzer harness: the decoder of the reader programs' line protocol
 * (src/reader_proto.c), over input split into lines as the library reads
 * a reader's output; every field is also read as a number, and what was
 * wrong is put into words. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reader_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    char *text = malloc(len + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, len);
    text[len] = '\0';
    /* the end kind from the input, the kinds of the event-log reader */
    kt_proto_session s = {.end = len ? (char)data[0] : '.', .kinds = "RPCS.WXE"};
    for (char *line = text, *next; line; line = next) {
        char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        kt_proto_line l;
        if (!kt_proto_next(&s, line, &l))
            continue;
        for (size_t i = 0; i < l.nfields; i++) {
            uint64_t v;
            if (!kt_proto_number(l.field[i], 10, UINT64_MAX, &v) &&
                !kt_proto_number(l.field[i], 16, UINT32_MAX, &v))
                kt_proto_reject(&s, "field %zu is not a number", i);
        }
    }
    char problems[256];
    kt_proto_problems(&s, problems, sizeof problems);
    free(text);
    return 0;
}
