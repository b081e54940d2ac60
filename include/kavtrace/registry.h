/* kavtrace: Windows registry hives read from memory through libhivex.
 *
 * The hive bytes come from the evidence (kt_fs_read); libhivex opens files
 * by path only, so the bytes are handed to it through an anonymous memory
 * file (memfd) and never touch the disk. */
#ifndef KAVTRACE_REGISTRY_H
#define KAVTRACE_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "kavtrace/error.h"
#include "kavtrace/time.h"

#define KT_HIVE_MAX_SIZE ((size_t)1 << 30)

typedef struct kt_hive kt_hive;

/* Open a hive from a copy of data[0..len). name is used in messages.
 * On success *out owns the hive (kt_hive_free). */
int kt_hive_open_mem(const void *data, size_t len, const char *name, kt_hive **out, kt_error *err);
void kt_hive_free(kt_hive *h);

/* Key paths are relative to the hive root, '\'-separated, matched without
 * case. A missing key or value is KT_ENOTFOUND. */
int kt_hive_get_string(kt_hive *h, const char *key, const char *value, char *out, size_t len,
                       kt_error *err);
int kt_hive_get_dword(kt_hive *h, const char *key, const char *value, uint32_t *out, kt_error *err);
int kt_hive_key_time(kt_hive *h, const char *key, kt_time *out, kt_error *err);

#endif
