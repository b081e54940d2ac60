/* kavtrace: property lists (XML or binary) through libplist. */
#ifndef KAVTRACE_PLIST_H
#define KAVTRACE_PLIST_H

#include <stddef.h>

#include "kavtrace/error.h"
#include "kavtrace/time.h"

#define KT_PLIST_MAX_SIZE ((size_t)64 << 20)

/* The string under `key` of the top-level dictionary. */
int kt_plist_get_string(const void *data, size_t len, const char *key, char *out, size_t out_len,
                        kt_error *err);
/* The string at a '/'-separated path of dictionary keys
 * ("System/Network/HostNames/LocalHostName"). */
int kt_plist_get_path_string(const void *data, size_t len, const char *path, char *out,
                             size_t out_len, kt_error *err);

/* The dictionaries of a property list: each item of a root array that is
 * one, or the root dictionary itself (index 0). cb's non-zero return stops
 * the walk and is returned. */
typedef struct kt_plist_dict kt_plist_dict;
typedef int (*kt_plist_dict_cb)(void *ctx, const kt_plist_dict *d, size_t index);
int kt_plist_each_dict(const void *data, size_t len, kt_plist_dict_cb cb, void *ctx, kt_error *err);

/* The string under key, or item `index` of an array of strings there
 * (index 0 of a plain string). KT_ENOTFOUND when there is none. */
int kt_plist_dict_string(const kt_plist_dict *d, const char *key, size_t index, char *out,
                         size_t out_len);

/* The date under key (UTC, microseconds), or KT_TIME_NONE. */
kt_time kt_plist_dict_date(const kt_plist_dict *d, const char *key);

#endif
