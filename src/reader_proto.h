/* The line protocol of kavtrace's reader programs (kavtrace-evtx,
 * kavtrace-prefetch): a text field escaped (\\ \t \n \r) and ended with a
 * newline. The client side undoes it (src/parsers/reader.c). */
#ifndef KT_READER_PROTO_H
#define KT_READER_PROTO_H

#include <stdio.h>

static inline void kt_proto_text(const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '\\':
            fputs("\\\\", stdout);
            break;
        case '\t':
            fputs("\\t", stdout);
            break;
        case '\n':
            fputs("\\n", stdout);
            break;
        case '\r':
            fputs("\\r", stdout);
            break;
        default:
            putchar(*s);
        }
    }
    putchar('\n');
}

#endif
