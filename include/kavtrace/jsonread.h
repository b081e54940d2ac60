/* kavtrace: reading JSON back (the outputs kavtrace wrote: findings.json,
 * manifest.json, a batch's item records) into a small tree.
 *
 * RFC 8259: objects keep their members in order (a repeated key: the
 * first is found), strings are decoded to UTF-8 (a \u escape of a lone
 * surrogate becomes U+FFFD), numbers are kept as their text. Nesting
 * deeper than KT_JV_MAX_DEPTH, and text after the value, are errors. */
#ifndef KAVTRACE_JSONREAD_H
#define KAVTRACE_JSONREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/error.h"

#define KT_JV_MAX_DEPTH 64

typedef enum kt_jv_type {
    KT_JV_NULL,
    KT_JV_BOOL,
    KT_JV_NUMBER,
    KT_JV_STRING,
    KT_JV_ARRAY,
    KT_JV_OBJECT,
} kt_jv_type;

typedef struct kt_jv {
    kt_jv_type type;
    bool b;             /* KT_JV_BOOL */
    char *s;            /* KT_JV_STRING: the text (may hold NUL: see len); KT_JV_NUMBER: as
                           written */
    size_t len;         /* bytes of s; members of an array or object */
    struct kt_jv *item; /* array elements, object values (len of them) */
    char **key;         /* object keys, NUL-terminated (len of them) */
} kt_jv;

/* Parse text[0..n) into *out (owned by it until kt_jv_release). On error
 * ("JSON: line L: what") *out is left empty (null). */
int kt_jv_parse(const char *text, size_t n, kt_jv *out, kt_error *err);

/* Read and parse a whole file (at most 256 MiB). */
int kt_jv_parse_file(const char *path, kt_jv *out, kt_error *err);

/* Free the tree; v is left null. NULL is a no-op. */
void kt_jv_release(kt_jv *v);

/* The member key of an object (borrowed), NULL when v is not an object
 * or has no such member. v may be NULL. */
const kt_jv *kt_jv_get(const kt_jv *v, const char *key);

/* The string's text, or NULL when v is NULL or not a string. */
const char *kt_jv_str(const kt_jv *v);

/* The number as an integer (*out untouched and false when v is not a
 * number or not a whole one in range). */
bool kt_jv_int(const kt_jv *v, int64_t *out);

#endif
