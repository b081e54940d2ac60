/* kavtrace: property lists (XML or binary) through libplist. */
#ifndef KAVTRACE_PLIST_H
#define KAVTRACE_PLIST_H

#include <stddef.h>

#include "kavtrace/error.h"

#define KT_PLIST_MAX_SIZE ((size_t)64 << 20)

/* The string under `key` of the top-level dictionary. */
int kt_plist_get_string(const void *data, size_t len, const char *key, char *out, size_t out_len,
                        kt_error *err);

#endif
