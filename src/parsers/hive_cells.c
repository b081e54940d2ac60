/* Keys and values recovered from the free cells of a registry hive.
 *
 * No maintained library exposes free cells: hivex reads allocated cells
 * only, and libregf's API (libregf.h) opens a hive and walks its live keys.
 * So the hbins and cells are decoded here, from the format as the Windows
 * registry file format specification (Suhanov) and libyal's REGF notes
 * describe it, with every offset and length checked against the image.
 *
 * A deleted key's nk record stays in its cell, which is marked free (a
 * positive size); Windows merges free neighbours, so one free cell can hold
 * several old records: each free cell is scanned at 8-byte steps. The key's
 * path is rebuilt through the parent offset while the parent is still an nk
 * record (allocated or free); its values through its value list while that
 * cell is free too (an allocated cell now belongs to something else). */
#include <stdlib.h>
#include <string.h>

#include "hive_impl.h"
#include "kavtrace/buf.h"
#include "kavtrace/bytes.h"

#define HBIN_MIN 0x1000u
#define HBIN_HDR 0x20u
#define NK_MIN 0x50u /* the nk record up to its name */
#define VK_MIN 0x18u
#define NK_ROOT 0x0004u
#define NK_COMP 0x0020u
#define VK_COMP 0x0001u
#define DATA_INLINE 0x80000000u
#define DATA_BIG 16344u /* larger data sits in a "db" big data record, in segments */

typedef struct image {
    const uint8_t *p;
    size_t len;
} image;

/* The cell at hive offset off: its record's bytes (after the size field),
 * how many, and whether it is free. False when out of bounds or bad. */
static bool cell_at(const image *im, uint32_t off, const uint8_t **rec, size_t *rlen, bool *free_)
{
    size_t at = (size_t)KT_REGF_BASE + off;
    uint32_t raw;
    if (off % 8 != 0 || !kt_rd_le32(im->p, im->len, at, &raw))
        return false;
    int32_t size = (int32_t)raw;
    uint32_t abs = size < 0 ? (uint32_t)(-(int64_t)size) : (uint32_t)size;
    if (abs < 8 || abs % 8 != 0 || !kt_rd_fits(im->len, at, abs))
        return false;
    *rec = im->p + at + 4;
    *rlen = abs - 4;
    *free_ = size > 0;
    return true;
}

/* A UTF-16LE or Latin-1 name as UTF-8 into out (NUL-terminated). */
static bool name_utf8(const uint8_t *p, size_t n, bool latin1, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        if (latin1) {
            cp = p[i++];
        } else {
            if (i + 1 >= n)
                return false;
            cp = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8;
            i += 2;
            if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < n) {
                uint32_t lo = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8;
                if (lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 2;
                }
            }
        }
        if (cp == 0)
            return false;
        char b[4];
        size_t k = cp < 0x80      ? (b[0] = (char)cp, 1)
                   : cp < 0x800   ? (b[0] = (char)(0xC0 | cp >> 6), 2)
                   : cp < 0x10000 ? (b[0] = (char)(0xE0 | cp >> 12), 3)
                                  : (b[0] = (char)(0xF0 | cp >> 18), 4);
        for (size_t j = 1; j < k; j++)
            b[j] = (char)(0x80 | ((cp >> (6 * (k - 1 - j))) & 0x3F));
        if (o + k >= cap)
            return false;
        memcpy(out + o, b, k);
        o += k;
    }
    out[o] = '\0';
    return o > 0;
}

/* An nk record at rec[0..rlen): its name, flags, time and parent. */
typedef struct nk {
    char name[512];
    uint16_t flags;
    uint64_t written;
    uint32_t parent, nvalues, values;
} nk;

static bool nk_read(const uint8_t *rec, size_t rlen, nk *k)
{
    uint16_t nlen;
    if (rlen < NK_MIN || memcmp(rec, "nk", 2) != 0 || !kt_rd_le16(rec, rlen, 2, &k->flags) ||
        !kt_rd_le64(rec, rlen, 4, &k->written) || !kt_rd_le32(rec, rlen, 0x10, &k->parent) ||
        !kt_rd_le32(rec, rlen, 0x24, &k->nvalues) || !kt_rd_le32(rec, rlen, 0x28, &k->values) ||
        !kt_rd_le16(rec, rlen, 0x48, &nlen) || nlen == 0 || !kt_rd_fits(rlen, NK_MIN - 4, nlen))
        return false;
    return name_utf8(rec + NK_MIN - 4, nlen, k->flags & NK_COMP, k->name, sizeof k->name);
}

/* The path of the key whose parent is at `parent`, walking up to the root. */
static int build_path(const image *im, const nk *k, char **out, bool *partial)
{
    const char *parts[KT_HIVE_MAX_DEPTH];
    nk *chain = malloc(KT_HIVE_MAX_DEPTH * sizeof *chain);
    if (chain == NULL)
        return KT_ENOMEM;
    size_t depth = 0;
    parts[depth++] = k->name;
    uint32_t at = k->parent;
    bool root = (k->flags & NK_ROOT) != 0;
    *partial = false;
    while (!root) {
        const uint8_t *rec;
        size_t rlen;
        bool fr;
        nk *p = &chain[depth];
        if (depth >= KT_HIVE_MAX_DEPTH || !cell_at(im, at, &rec, &rlen, &fr) ||
            !nk_read(rec, rlen, p)) {
            *partial = true;
            break;
        }
        if (p->flags & NK_ROOT)
            break;
        parts[depth++] = p->name;
        at = p->parent;
    }
    kt_buf b = {0};
    int rc = *partial ? kt_buf_append(&b, "?\\", 2) : KT_OK;
    for (size_t i = depth; rc == KT_OK && i-- > 0;) {
        rc = kt_buf_append(&b, parts[i], strlen(parts[i]));
        if (rc == KT_OK && i > 0)
            rc = kt_buf_append(&b, "\\", 1);
    }
    if (rc == KT_OK)
        rc = kt_buf_append(&b, "", 1);
    free(chain);
    if (rc != KT_OK || root) { /* the root itself is never "deleted" */
        kt_buf_release(&b);
        return rc ? rc : KT_ENOTFOUND;
    }
    *out = (char *)b.data;
    return KT_OK;
}

/* Data over DATA_BIG bytes through the "db" record at `at` (Windows
 * registry file format: "db", a segment count, the offset of a list of
 * segment cells; each segment holds DATA_BIG bytes, the last the rest).
 * Every cell must still be free and large enough; NULL when one is not
 * (or out of memory). */
static uint8_t *big_read(const image *im, uint32_t at, size_t len)
{
    const uint8_t *db, *list;
    size_t dlen, llen;
    bool fr;
    uint16_t nseg;
    uint32_t lat;
    if (len > KT_HIVE_MAX_RDATA || !cell_at(im, at, &db, &dlen, &fr) || !fr || dlen < 8 ||
        memcmp(db, "db", 2) != 0 || !kt_rd_le16(db, dlen, 2, &nseg) ||
        !kt_rd_le32(db, dlen, 4, &lat) || nseg == 0 || (size_t)nseg * DATA_BIG < len ||
        (size_t)(nseg - 1) * DATA_BIG >= len || !cell_at(im, lat, &list, &llen, &fr) || !fr ||
        llen < 4u * nseg)
        return NULL;
    uint8_t *out = malloc(len);
    if (out == NULL)
        return NULL;
    for (size_t i = 0, done = 0; i < nseg; i++) {
        uint32_t sat = 0;
        const uint8_t *seg;
        size_t slen, want = len - done < DATA_BIG ? len - done : DATA_BIG;
        kt_rd_le32(list, llen, 4 * i, &sat);
        if (!cell_at(im, sat, &seg, &slen, &fr) || !fr || slen < want) {
            free(out);
            return NULL;
        }
        memcpy(out + done, seg, want);
        done += want;
    }
    return out;
}

/* One value through the key's value list entry at `at`. */
static bool vk_read(const image *im, uint32_t at, kt_hive_rvalue *v)
{
    const uint8_t *rec;
    size_t rlen;
    bool fr;
    uint16_t nlen, flags;
    uint32_t size, data;
    if (!cell_at(im, at, &rec, &rlen, &fr) || !fr || rlen < VK_MIN - 4 ||
        memcmp(rec, "vk", 2) != 0 || !kt_rd_le16(rec, rlen, 2, &nlen) ||
        !kt_rd_le32(rec, rlen, 4, &size) || !kt_rd_le32(rec, rlen, 8, &data) ||
        !kt_rd_le32(rec, rlen, 12, &v->type) || !kt_rd_le16(rec, rlen, 16, &flags) ||
        !kt_rd_fits(rlen, VK_MIN - 4, nlen))
        return false;
    v->offset = at;
    if (nlen == 0)
        v->name[0] = '\0'; /* the default value */
    else if (!name_utf8(rec + VK_MIN - 4, nlen, flags & VK_COMP, v->name, sizeof v->name))
        return false;
    size_t len = size & ~DATA_INLINE;
    const uint8_t *src = NULL;
    if (!(size & DATA_INLINE) && len > DATA_BIG) {
        v->data = big_read(im, data, len);
        v->intact = v->data != NULL;
        v->len = v->intact ? len : 0;
        return true;
    }
    if (size & DATA_INLINE) {
        if (len <= 4)
            src = rec + 8; /* the data sits in the offset field */
    } else if (len <= DATA_BIG && len > 0) {
        const uint8_t *d;
        size_t dlen;
        bool dfree;
        if (cell_at(im, data, &d, &dlen, &dfree) && dfree && dlen >= len)
            src = d;
    } else if (len == 0) {
        src = rec;
    }
    v->intact = src != NULL;
    v->len = v->intact ? len : 0;
    if (v->intact && len) {
        v->data = malloc(len);
        if (v->data == NULL)
            return false;
        memcpy(v->data, src, len);
    }
    return true;
}

static int values_read(const image *im, const nk *k, kt_hive_rkey *out)
{
    const uint8_t *list;
    size_t llen;
    bool fr;
    if (k->nvalues == 0 || k->nvalues > KT_HIVE_MAX_RVALUES ||
        !cell_at(im, k->values, &list, &llen, &fr) || !fr || llen < 4u * k->nvalues)
        return KT_OK;
    out->values = calloc(k->nvalues, sizeof *out->values);
    if (out->values == NULL)
        return KT_ENOMEM;
    for (uint32_t i = 0; i < k->nvalues; i++) {
        uint32_t at;
        kt_hive_rvalue *v = &out->values[out->nvalues];
        if (kt_rd_le32(list, llen, 4u * i, &at) && vk_read(im, at, v))
            out->nvalues++;
        else
            free(v->data), memset(v, 0, sizeof *v);
    }
    return KT_OK;
}

void kt_hive_rkeys_free(kt_hive_rkey *k, size_t n)
{
    for (size_t i = 0; k && i < n; i++) {
        free(k[i].path);
        for (size_t v = 0; v < k[i].nvalues; v++)
            free(k[i].values[v].data);
        free(k[i].values);
    }
    free(k);
}

/* A record found at hive offset off inside a free cell. */
static int found_nk(const image *im, uint32_t off, const uint8_t *rec, size_t rlen,
                    kt_hive_rkey **keys, size_t *n, size_t *cap)
{
    nk k;
    if (!nk_read(rec, rlen, &k) || k.flags & NK_ROOT || *n >= KT_HIVE_MAX_RECOVERED)
        return KT_OK;
    kt_hive_rkey r = {.offset = off, .written = kt_time_from_filetime(k.written)};
    int rc = build_path(im, &k, &r.path, &r.partial);
    if (rc == KT_ENOTFOUND)
        return KT_OK;
    if (rc == KT_OK)
        rc = values_read(im, &k, &r);
    if (rc == KT_OK && *n == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        kt_hive_rkey *g = realloc(*keys, c * sizeof *g);
        if (g == NULL)
            rc = KT_ENOMEM;
        else
            *keys = g, *cap = c;
    }
    if (rc != KT_OK) {
        free(r.path);
        for (size_t v = 0; v < r.nvalues; v++)
            free(r.values[v].data);
        free(r.values);
        return rc;
    }
    (*keys)[(*n)++] = r;
    return KT_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The vk records at offsets vks[0..nvk) that no recovered key lists, each
 * as an orphan appended to keys. */
static int orphans(const image *im, uint32_t *vks, size_t nvk, kt_hive_rkey **keys, size_t *n,
                   size_t *cap)
{
    size_t nkeys = *n, nlisted = 0, added = 0;
    for (size_t i = 0; i < nkeys; i++)
        nlisted += (*keys)[i].nvalues;
    uint32_t *listed = malloc((nlisted ? nlisted : 1) * sizeof *listed);
    if (listed == NULL)
        return KT_ENOMEM;
    nlisted = 0;
    for (size_t i = 0; i < nkeys; i++)
        for (size_t v = 0; v < (*keys)[i].nvalues; v++)
            listed[nlisted++] = (*keys)[i].values[v].offset;
    qsort(listed, nlisted, sizeof *listed, cmp_u32);
    int rc = KT_OK;
    for (size_t i = 0; i < nvk && rc == KT_OK && added < KT_HIVE_MAX_ORPHANS; i++) {
        if (bsearch(&vks[i], listed, nlisted, sizeof *listed, cmp_u32))
            continue;
        kt_hive_rvalue v = {0};
        if (!vk_read(im, vks[i], &v)) {
            free(v.data);
            continue;
        }
        kt_hive_rkey r = {.offset = vks[i], .written = KT_TIME_NONE, .orphan = true};
        r.values = malloc(sizeof *r.values);
        if (r.values != NULL && *n == *cap) {
            size_t c = *cap ? 2 * *cap : 16;
            kt_hive_rkey *g = realloc(*keys, c * sizeof *g);
            if (g == NULL)
                free(r.values), r.values = NULL;
            else
                *keys = g, *cap = c;
        }
        if (r.values == NULL) {
            free(v.data);
            rc = KT_ENOMEM;
            break;
        }
        r.values[0] = v;
        r.nvalues = 1;
        (*keys)[(*n)++] = r;
        added++;
    }
    free(listed);
    return rc;
}

int kt_hive_cells_recover(const uint8_t *img, size_t len, kt_hive_rkey **out, size_t *nout,
                          kt_error *err)
{
    image im = {.p = img, .len = len};
    kt_hive_rkey *keys = NULL;
    uint32_t *vks = NULL; /* offsets of the vk records in free cells */
    size_t n = 0, cap = 0, bins = 0, nvk = 0, vkcap = 0;
    int rc = KT_OK;
    for (size_t bin = KT_REGF_BASE; rc == KT_OK && bin + HBIN_HDR <= len;) {
        uint32_t size;
        if (memcmp(img + bin, "hbin", 4) != 0 || !kt_rd_le32(img, len, bin + 8, &size) ||
            size < HBIN_MIN || size % HBIN_MIN != 0 || !kt_rd_fits(len, bin, size))
            break; /* the end of the bins, or damage: what follows is not read */
        bins++;
        for (size_t c = bin + HBIN_HDR; rc == KT_OK && c + 8 <= bin + size;) {
            uint32_t raw = 0;
            kt_rd_le32(img, len, c, &raw);
            int32_t cs = (int32_t)raw;
            uint32_t abs = cs < 0 ? (uint32_t)(-(int64_t)cs) : (uint32_t)cs;
            if (abs < 8 || abs % 8 != 0 || abs > bin + size - c)
                break; /* a damaged cell: the rest of this bin is skipped */
            for (size_t p = c; cs > 0 && rc == KT_OK && p + 8 <= c + abs; p += 8) {
                if (p + NK_MIN <= c + abs && memcmp(img + p + 4, "nk", 2) == 0)
                    rc = found_nk(&im, (uint32_t)(p - KT_REGF_BASE), img + p + 4, c + abs - p - 4,
                                  &keys, &n, &cap);
                else if (p + VK_MIN <= c + abs && memcmp(img + p + 4, "vk", 2) == 0 &&
                         nvk < KT_HIVE_MAX_RECOVERED) {
                    if (nvk == vkcap) {
                        size_t vc = vkcap ? 2 * vkcap : 64;
                        uint32_t *g = realloc(vks, vc * sizeof *g);
                        if (g == NULL) {
                            rc = KT_ENOMEM;
                            break;
                        }
                        vks = g, vkcap = vc;
                    }
                    vks[nvk++] = (uint32_t)(p - KT_REGF_BASE);
                }
            }
            c += abs;
        }
        bin += size;
    }
    if (rc == KT_OK && bins > 0)
        rc = orphans(&im, vks, nvk, &keys, &n, &cap);
    free(vks);
    if (rc == KT_OK && bins == 0)
        rc = kt_error_set(err, KT_EFORMAT, "no hive bin");
    else if (rc != KT_OK)
        rc = kt_error_set(err, rc, "out of memory");
    if (rc != KT_OK) {
        kt_hive_rkeys_free(keys, n);
        return rc;
    }
    *out = keys;
    *nout = n;
    return KT_OK;
}

bool kt_hive_is_dirty(const uint8_t *img, size_t len)
{
    uint32_t s1, s2;
    return len >= 512 && memcmp(img, "regf", 4) == 0 && kt_rd_le32(img, len, 4, &s1) &&
           kt_rd_le32(img, len, 8, &s2) && s1 != s2;
}
