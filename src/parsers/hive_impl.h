/* kavtrace: the registry module's own decoders, shared between
 * src/parsers/registry.c (hivex for the live tree) and the hive_*.c files
 * that read what hivex does not expose: free cells (hive_cells.c) and
 * transaction logs (hive_log.c). Bytes are read through kavtrace/bytes.h
 * bounds-checked helpers only. */
#ifndef KAVTRACE_HIVE_IMPL_H
#define KAVTRACE_HIVE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/error.h"
#include "kavtrace/time.h"

#define KT_REGF_BASE 0x1000u          /* base block size; cell offsets count from here */
#define KT_HIVE_MAX_RECOVERED 100000  /* keys recovered from one hive */
#define KT_HIVE_MAX_RVALUES 1024      /* values of one recovered key */
#define KT_HIVE_MAX_DEPTH 512         /* parents followed to rebuild a path */
#define KT_HIVE_MAX_ORPHANS 100000    /* values without a key, from one hive */
#define KT_HIVE_MAX_RDATA (16u << 20) /* data of one recovered value (big data) */

/* One value of a recovered key. data is owned (NULL when not intact). */
typedef struct kt_hive_rvalue {
    char name[256];
    uint32_t type;
    uint8_t *data;
    size_t len;
    bool intact;     /* its data cell(s) free, large enough, in bounds (big data: the
                        db record, its segment list and every segment) */
    uint32_t offset; /* its vk record's cell offset (from the first hbin) */
} kt_hive_rvalue;

/* One key found in a free cell. path (owned) is relative to the root,
 * '\'-separated; partial: a parent could not be read, and the path starts
 * at the first missing one ("?\..."). An orphan is a value found in a free
 * cell that no recovered key lists (its key's nk cell, or its value list,
 * was overwritten): path NULL, written KT_TIME_NONE, offset its vk cell's,
 * and that one value. */
typedef struct kt_hive_rkey {
    char *path;
    bool partial;
    kt_time written;
    uint32_t offset; /* the nk record's cell offset (from the first hbin) */
    kt_hive_rvalue *values;
    size_t nvalues;
    bool orphan;
} kt_hive_rkey;

/* Every nk record in the free cells of the hive image img[0..len): each
 * free cell is scanned at 8-byte steps for records it still holds (a
 * coalesced free cell can hold several); then every vk record found there
 * that none of those keys lists, as an orphan (after the keys). On success
 * *out (owned, release with kt_hive_rkeys_free) and *n (keys and orphans)
 * are set; a hive with no hbin is KT_EFORMAT. */
int kt_hive_cells_recover(const uint8_t *img, size_t len, kt_hive_rkey **out, size_t *n,
                          kt_error *err);
void kt_hive_rkeys_free(kt_hive_rkey *k, size_t n);

/* Marvin32 of data[0..len) with the 64-bit seed (the hash of hive log
 * entries uses seed 0x82EF4D887A4E55C5). */
uint64_t kt_marvin32(const uint8_t *data, size_t len, uint64_t seed);

#endif
