/* kavtrace: Windows registry hives read from memory through libhivex.
 *
 * The hive bytes come from the evidence (kt_fs_read); libhivex opens files
 * by path only, so the bytes are handed to it through an anonymous memory
 * file (memfd) and never touch the disk. */
#ifndef KAVTRACE_REGISTRY_H
#define KAVTRACE_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "kavtrace/buf.h"
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

/* Node-level access for walking a hive. A node is hivex's handle. */
typedef uint64_t kt_hive_node;

#define KT_HIVE_MAX_CHILDREN 100000
#define KT_HIVE_MAX_VALUE (16u << 20)

/* Registry value types (winnt.h). */
enum {
    KT_REG_NONE = 0,
    KT_REG_SZ = 1,
    KT_REG_EXPAND_SZ = 2,
    KT_REG_BINARY = 3,
    KT_REG_DWORD = 4,
    KT_REG_MULTI_SZ = 7,
    KT_REG_QWORD = 11,
};

kt_hive_node kt_hive_root(kt_hive *h);
/* The key at `path` below `from` (0 = the root), matched without case. */
int kt_hive_find(kt_hive *h, kt_hive_node from, const char *path, kt_hive_node *out, kt_error *err);
/* The subkeys of node: *out is malloc'd (caller frees), *count set. */
int kt_hive_children(kt_hive *h, kt_hive_node node, kt_hive_node **out, size_t *count,
                     kt_error *err);
int kt_hive_node_name(kt_hive *h, kt_hive_node node, char *buf, size_t len);
kt_time kt_hive_node_time(kt_hive *h, kt_hive_node node);
/* A value's type and raw bytes (out zero-initialised; caller releases). */
int kt_hive_value(kt_hive *h, kt_hive_node node, const char *name, uint32_t *type, kt_buf *out,
                  kt_error *err);
/* A REG_SZ/EXPAND_SZ value as UTF-8 (also DWORD as decimal). */
int kt_hive_value_string(kt_hive *h, kt_hive_node node, const char *name, char *buf, size_t len,
                         kt_error *err);

#endif
