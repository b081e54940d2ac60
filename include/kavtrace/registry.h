/* kavtrace: Windows registry hives read from memory through libhivex.
 *
 * The hive bytes come from the evidence (kt_fs_read); libhivex opens files
 * by path only, so the bytes are handed to it through an anonymous memory
 * file (memfd) and never touch the disk. */
#ifndef KAVTRACE_REGISTRY_H
#define KAVTRACE_REGISTRY_H

#include <stdbool.h>
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

/* ---- transaction logs ---- */

/* One transaction log file (borrowed bytes; data NULL: absent). */
typedef struct kt_hive_log {
    const uint8_t *data;
    size_t len;
    const char *name; /* "SOFTWARE.LOG1", for messages */
} kt_hive_log;

/* A dirty hive with its logs applied: data (owned) is the hive as Windows
 * would load it; used[] the logs that gave entries; notes (owned, may be
 * NULL) says, a line each, which log was damaged and where the replay
 * stopped. */
typedef struct kt_hive_replayed {
    uint8_t *data;
    size_t len;
    size_t entries;
    const char *used[2];
    size_t nused;
    char *notes;
} kt_hive_replayed;

/* The base block's sequence numbers differ: the hive was not written
 * back cleanly and its transaction logs hold what is missing. */
bool kt_hive_is_dirty(const uint8_t *img, size_t len);

/* Apply the logs (at most two: .LOG1, .LOG2) of the dirty hive hive[0..len)
 * in memory; the inputs are not changed. KT_EFORMAT: the hive is not dirty;
 * KT_ENOTFOUND: no log entry applies (out->notes may say why). Release out
 * with kt_hive_replayed_release in every case. */
int kt_hive_replay(const uint8_t *hive, size_t len, const kt_hive_log *logs, size_t nlogs,
                   kt_hive_replayed *out, kt_error *err);
void kt_hive_replayed_release(kt_hive_replayed *r);

/* Open a hive with its transaction logs: when the hive is dirty and a log
 * applies, *out reads the replayed hive and keeps the primary file as it
 * is as a second view (kt_hive_unapplied). Warnings about the logs (damaged,
 * missing for a dirty hive) are kept for kt_hive_log_notes; they never make
 * the open fail. */
int kt_hive_open_logged(const void *data, size_t len, const kt_hive_log *logs, size_t nlogs,
                        const char *name, kt_hive **out, kt_error *err);
/* The primary file without its logs (borrowed; NULL when nothing was
 * replayed). */
kt_hive *kt_hive_unapplied(kt_hive *h);
/* The logs replayed ("SOFTWARE.LOG1, SOFTWARE.LOG2"), or NULL. */
const char *kt_hive_replayed_from(kt_hive *h);
/* Warnings about the logs, '\n'-separated, or NULL. */
const char *kt_hive_log_notes(kt_hive *h);

/* Keys recovered from the hive's free cells: deleted keys, with their
 * LastWrite and the values whose data cells are intact (read on first
 * call; *count set). A recovered key is a node like a live one for
 * kt_hive_node_name/_time, kt_hive_value and kt_hive_value_string (no
 * subkeys); kt_hive_deleted_node gives the i-th, with its path (borrowed,
 * lives as long as the hive) and whether that path is partial (a parent
 * overwritten: it starts with "?\"). */
int kt_hive_deleted(kt_hive *h, size_t *count, kt_error *err);
kt_hive_node kt_hive_deleted_node(kt_hive *h, size_t i, const char **path, bool *partial);

/* Values found in the hive's free cells that no recovered key lists (the
 * key's cell, or its value list, was overwritten): *count set. The i-th is
 * a node with that one value for kt_hive_value and kt_hive_value_string;
 * it has no name, no LastWrite (KT_TIME_NONE) and no subkeys. *name
 * (borrowed, lives as long as the hive; "" for a default value) is the
 * value's, *offset its vk cell's (from the first hive bin). */
int kt_hive_orphans(kt_hive *h, size_t *count, kt_error *err);
kt_hive_node kt_hive_orphan_node(kt_hive *h, size_t i, const char **name, uint32_t *offset);

#endif
