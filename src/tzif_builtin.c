/* kavtrace's zone table: a zone of the generated tzdb_data.c (one pinned
 * tzdata release; see tzdb.h) as a kt_tzif. The zone is written out as a
 * version 2 TZif (its transitions, types and final rule) and read back
 * with kt_tzif_parse, so that one reader, with its checks, serves both the
 * image's own zone files and the table. The host's zone files are never
 * read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/tzif.h"
#include "tzdb.h"

#define HEADER_SIZE 44

static int cmp_name(const void *key, const void *elem)
{
    return strcmp(key, ((const kt_tzdb_name *)elem)->name);
}

void kt_tzif_builtin_about(kt_tzif_builtin_info *info)
{
    info->release = kt_tzdb_release;
    info->released = kt_time_from_unix(kt_tzdb_released, 0);
    info->from = kt_time_from_unix(kt_tzdb_from, 0);
    info->until = kt_time_from_unix(kt_tzdb_until, 0);
}

static size_t put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return 4;
}

static size_t put64(uint8_t *p, int64_t v)
{
    put32(p, (uint32_t)((uint64_t)v >> 32));
    return 4 + put32(p + 4, (uint32_t)v);
}

static size_t header(uint8_t *p, char version, uint32_t timecnt, uint32_t typecnt, uint32_t charcnt)
{
    memcpy(p, "TZif", 4);
    p[4] = (uint8_t)version;
    memset(p + 5, 0, 15);
    size_t n = 20;
    uint32_t counts[6] = {0, 0, 0, timecnt, typecnt, charcnt}; /* isut isstd leap time type char */
    for (int i = 0; i < 6; i++)
        n += put32(p + n, counts[i]);
    return n;
}

/* The zone's own types: the table's type ids in order of first use, the
 * one in force at the table's start first (TZif's type 0 rules the
 * times before the first transition). */
typedef struct local_types {
    uint16_t id[KT_TZIF_MAX_TYPES];
    uint8_t abbr_at[KT_TZIF_MAX_TYPES];
    size_t n, chars;
} local_types;

static int local_index(local_types *lt, uint16_t id)
{
    for (size_t i = 0; i < lt->n; i++)
        if (lt->id[i] == id)
            return (int)i;
    size_t len = strlen(kt_tzdb_types[id].abbr) + 1;
    if (lt->n == KT_TZIF_MAX_TYPES || lt->chars + len > KT_TZIF_MAX_CHARS || lt->chars > 255)
        return -1;
    lt->id[lt->n] = id;
    lt->abbr_at[lt->n] = (uint8_t)lt->chars;
    lt->chars += len;
    return (int)lt->n++;
}

/* The zone as a version 2 TZif: an empty version 1 block (one type), the
 * 64-bit block, the footer. */
static int synthesize(const kt_tzdb_zone *zn, uint8_t **out, size_t *len, kt_error *err)
{
    local_types lt = {.n = 0};
    uint8_t *idx = malloc(zn->ntimes ? zn->ntimes : 1);
    if (!idx)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    int rc = KT_OK;
    if (local_index(&lt, zn->type0) < 0)
        rc = KT_ELIMIT;
    for (size_t i = 0; rc == KT_OK && i < zn->ntimes; i++) {
        int k = local_index(&lt, kt_tzdb_time_types[zn->first + i]);
        if (k < 0)
            rc = KT_ELIMIT;
        idx[i] = (uint8_t)k;
    }
    if (rc != KT_OK) {
        free(idx);
        return kt_error_set(err, rc, "zone table entry has too many types");
    }
    size_t footer_len = strlen(zn->footer);
    size_t cap =
        2 * HEADER_SIZE + 6 + 1 + (size_t)zn->ntimes * 9 + lt.n * 6 + lt.chars + footer_len + 2;
    uint8_t *b = malloc(cap);
    if (!b) {
        free(idx);
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    }
    size_t n = header(b, '2', 0, 1, 1);
    n += put32(b + n, 0); /* the v1 block's one type: UTC, abbreviation "" */
    b[n++] = 0;
    b[n++] = 0;
    b[n++] = 0;
    n += header(b + n, '2', zn->ntimes, (uint32_t)lt.n, (uint32_t)lt.chars);
    for (size_t i = 0; i < zn->ntimes; i++)
        n += put64(b + n, kt_tzdb_times[zn->first + i]);
    memcpy(b + n, idx, zn->ntimes);
    n += zn->ntimes;
    for (size_t i = 0; i < lt.n; i++) {
        const kt_tzdb_type *ty = &kt_tzdb_types[lt.id[i]];
        n += put32(b + n, (uint32_t)ty->utoff);
        b[n++] = ty->isdst;
        b[n++] = lt.abbr_at[i];
    }
    for (size_t i = 0; i < lt.n; i++) {
        const char *a = kt_tzdb_types[lt.id[i]].abbr;
        memcpy(b + n, a, strlen(a) + 1);
        n += strlen(a) + 1;
    }
    b[n++] = '\n';
    memcpy(b + n, zn->footer, footer_len);
    n += footer_len;
    b[n++] = '\n';
    free(idx);
    *out = b;
    *len = n;
    return KT_OK;
}

int kt_tzif_builtin(const char *name, kt_tzif **out, kt_tzif_builtin_info *info, kt_error *err)
{
    const kt_tzdb_name *e =
        name ? bsearch(name, kt_tzdb_names, kt_tzdb_nnames, sizeof *kt_tzdb_names, cmp_name) : NULL;
    if (!e)
        return kt_error_set(err, KT_ENOTFOUND, "zone '%s' is not in kavtrace's table (tzdata %s)",
                            name ? name : "", kt_tzdb_release);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = synthesize(&kt_tzdb_zones[e->zone], &data, &len, err);
    if (rc == KT_OK)
        rc = kt_tzif_parse(data, len, out, err);
    free(data);
    if (rc != KT_OK) {
        kt_error_prefix(err, "zone '%s' of kavtrace's table", name);
        return rc;
    }
    if (info)
        kt_tzif_builtin_about(info);
    return KT_OK;
}

size_t kt_tzif_builtin_count(void)
{
    return kt_tzdb_nnames;
}

const char *kt_tzif_builtin_name(size_t i)
{
    return i < kt_tzdb_nnames ? kt_tzdb_names[i].name : NULL;
}
