/* kavtrace: a small streaming JSON writer (UTF-8 out, RFC 8259 escapes;
 * bytes that are not UTF-8 as kavtrace/text.h's \xHH text, so the output
 * is always valid JSON).
 * Keys are given for members of objects and NULL inside arrays. Output is
 * indented by two spaces and deterministic. The first failure (out of
 * memory, nesting too deep) is kept in j->rc and later calls do nothing. */
#ifndef KAVTRACE_JSON_H
#define KAVTRACE_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "kavtrace/buf.h"
#include "kavtrace/time.h"

#define KT_JSON_MAX_DEPTH 64

typedef struct kt_json {
    kt_buf *out; /* borrowed */
    int depth;
    bool first[KT_JSON_MAX_DEPTH];
    int rc;
} kt_json;

void kt_json_init(kt_json *j, kt_buf *out);
void kt_json_begin_object(kt_json *j, const char *key);
void kt_json_end_object(kt_json *j);
void kt_json_begin_array(kt_json *j, const char *key);
void kt_json_end_array(kt_json *j);
void kt_json_string(kt_json *j, const char *key, const char *value); /* NULL -> null */
void kt_json_int(kt_json *j, const char *key, int64_t value);
void kt_json_bool(kt_json *j, const char *key, bool value);
void kt_json_null(kt_json *j, const char *key);
void kt_json_time(kt_json *j, const char *key, kt_time t); /* KT_TIME_NONE -> null */

/* Append s as a quoted JSON string: control characters (C1 and DEL too)
 * as \uXXXX, bytes that are not UTF-8 and a backslash that would read as
 * one (kavtrace/text.h) as the text \xHH, in JSON "\\xHH". */
int kt_json_quote(kt_buf *out, const char *s);

#endif
