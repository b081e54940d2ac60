/* Hive transaction logs (.LOG1, .LOG2) replayed in memory.
 *
 * A hive whose base block sequence numbers differ was not written back
 * cleanly: the newest changes are in its transaction logs. hivex reads the
 * primary file only, and libregf's API has no log functions, so the logs
 * are decoded here from the Windows registry file format specification
 * (Suhanov), "Format of transaction log files":
 *   - new format (Windows 8.1 and later; base block file type 6): log
 *     entries "HvLE" from offset 512, each with its sequence number, the
 *     hive bins data size, dirty page references (offset, size) and the
 *     pages, guarded by two Marvin32 hashes (of the entry from byte 40, of
 *     its first 32 bytes);
 *   - old format (file type 1 or 2): a "DIRT" dirty vector at offset 512,
 *     one bit per 512-byte page of hive bins data, the set pages following
 *     it from the next 512-byte boundary.
 * Entries apply from the one whose sequence number is the primary's
 * secondary sequence number on, consecutively, the lower log first; the
 * evidence is never written: the result is a new buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hive_impl.h"
#include "kavtrace/bytes.h"
#include "kavtrace/registry.h"

#define SECTOR 512u
#define PAGE 4096u
#define LOG_NEW 6u
#define MARVIN_SEED UINT64_C(0x82EF4D887A4E55C5)
#define MAX_ENTRIES 100000

static uint32_t rotl(uint32_t v, int n)
{
    return v << n | v >> (32 - n);
}

static void block(uint32_t *p0, uint32_t *p1)
{
    *p1 ^= *p0;
    *p0 = rotl(*p0, 20);
    *p0 += *p1;
    *p1 = rotl(*p1, 9);
    *p1 ^= *p0;
    *p0 = rotl(*p0, 27);
    *p0 += *p1;
    *p1 = rotl(*p1, 19);
}

uint64_t kt_marvin32(const uint8_t *d, size_t len, uint64_t seed)
{
    uint32_t p0 = (uint32_t)seed, p1 = (uint32_t)(seed >> 32);
    size_t i = 0;
    for (; len - i >= 4; i += 4) {
        p0 += (uint32_t)d[i] | (uint32_t)d[i + 1] << 8 | (uint32_t)d[i + 2] << 16 |
              (uint32_t)d[i + 3] << 24;
        block(&p0, &p1);
    }
    uint32_t last = 0x80;
    for (size_t k = len - i; k-- > 0;)
        last = last << 8 | d[i + k];
    p0 += last;
    block(&p0, &p1);
    block(&p0, &p1);
    return (uint64_t)p1 << 32 | p0;
}

static uint32_t checksum(const uint8_t *base)
{
    uint32_t x = 0;
    for (size_t i = 0; i < 508; i += 4)
        x ^= (uint32_t)base[i] | (uint32_t)base[i + 1] << 8 | (uint32_t)base[i + 2] << 16 |
             (uint32_t)base[i + 3] << 24;
    if (x == 0xFFFFFFFFu)
        x = 0xFFFFFFFEu;
    else if (x == 0)
        x = 1;
    return x;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* The hive being rebuilt: its bytes, grown as entries ask. */
typedef struct replay {
    uint8_t *p;
    size_t len;
    uint32_t next; /* the sequence number the next entry must have */
    uint32_t bins; /* hive bins data size, as the last entry said */
    size_t applied;
    char *notes;
    size_t notes_len;
} replay;

static int grow(replay *r, size_t bins)
{
    size_t want = KT_REGF_BASE + bins;
    if (bins > KT_HIVE_MAX_SIZE)
        return KT_ELIMIT;
    if (want <= r->len)
        return KT_OK;
    uint8_t *p = realloc(r->p, want);
    if (p == NULL)
        return KT_ENOMEM;
    memset(p + r->len, 0, want - r->len);
    r->p = p;
    r->len = want;
    return KT_OK;
}

/* A log's base block: "regf", its checksum, its file type. */
static int log_base(const uint8_t *log, size_t len, uint32_t *type)
{
    uint32_t sum;
    if (len < SECTOR || memcmp(log, "regf", 4) != 0 || !kt_rd_le32(log, len, 0x1C, type) ||
        !kt_rd_le32(log, len, 0x1FC, &sum))
        return KT_EFORMAT;
    return sum == checksum(log) ? KT_OK : KT_EFORMAT;
}

/* One new-format log: every valid entry from offset 512, in order; an entry
 * whose sequence number is not the next one is skipped (an older one) or
 * ends the log (a gap); a bad hash ends it too (Windows stops there: what
 * follows was not written whole). *damaged: why it ended early. */
static int apply_new(replay *r, const uint8_t *log, size_t len, char *damaged, size_t dlen)
{
    size_t at = SECTOR;
    for (size_t n = 0; at + 40 <= len && n < MAX_ENTRIES; n++) {
        uint32_t size, seq, bins, count;
        uint64_t h1, h2;
        if (memcmp(log + at, "HvLE", 4) != 0)
            break; /* the end of the entries (zeroes or old bytes) */
        if (!kt_rd_le32(log, len, at + 4, &size) || size < 40 || size % SECTOR != 0 ||
            !kt_rd_fits(len, at, size) || !kt_rd_le32(log, len, at + 12, &seq) ||
            !kt_rd_le32(log, len, at + 16, &bins) || !kt_rd_le32(log, len, at + 20, &count) ||
            !kt_rd_le64(log, len, at + 24, &h1) || !kt_rd_le64(log, len, at + 32, &h2)) {
            snprintf(damaged, dlen, "log entry at offset %zu: bad size", at);
            return KT_EFORMAT;
        }
        if (kt_marvin32(log + at, 32, MARVIN_SEED) != h2 ||
            kt_marvin32(log + at + 40, size - 40, MARVIN_SEED) != h1) {
            snprintf(damaged, dlen, "log entry %u at offset %zu: hash mismatch", seq, at);
            return KT_EFORMAT;
        }
        if (seq < r->next) { /* already in the primary file */
            at += size;
            continue;
        }
        if (seq != r->next) {
            snprintf(damaged, dlen, "log entry %u at offset %zu: expected sequence number %u", seq,
                     at, r->next);
            return KT_EFORMAT;
        }
        if (count > (size - 40) / 8 || bins % PAGE != 0 || grow(r, bins) != KT_OK) {
            snprintf(damaged, dlen, "log entry %u: bad dirty page list", seq);
            return KT_EFORMAT;
        }
        size_t data = at + 40 + (size_t)count * 8, end = at + size;
        for (uint32_t i = 0; i < count; i++) {
            uint32_t off = 0, psize = 0;
            kt_rd_le32(log, len, at + 40 + 8u * i, &off);
            kt_rd_le32(log, len, at + 44 + 8u * i, &psize);
            if (psize > end - data || off > bins || psize > bins - off) {
                snprintf(damaged, dlen, "log entry %u: dirty page %u out of bounds", seq, i);
                return KT_EFORMAT;
            }
            memcpy(r->p + KT_REGF_BASE + off, log + data, psize);
            data += psize;
        }
        r->bins = bins;
        r->next = seq + 1;
        r->applied++;
        at += size;
    }
    return KT_OK;
}

/* One old-format log: the dirty vector and its pages. */
static int apply_old(replay *r, const uint8_t *log, size_t len, char *damaged, size_t dlen)
{
    uint32_t s1, s2, bins;
    kt_rd_le32(log, len, 4, &s1);
    kt_rd_le32(log, len, 8, &s2);
    if (!kt_rd_le32(log, len, 0x28, &bins) || bins % PAGE != 0 || bins == 0) {
        snprintf(damaged, dlen, "bad hive bins size");
        return KT_EFORMAT;
    }
    if (s1 != s2) {
        snprintf(damaged, dlen, "the log itself was not written whole");
        return KT_EFORMAT;
    }
    size_t bits = bins / SECTOR, vec = (bits + 7) / 8;
    if (!kt_rd_fits(len, SECTOR, 4 + vec) || memcmp(log + SECTOR, "DIRT", 4) != 0) {
        snprintf(damaged, dlen, "no dirty vector");
        return KT_EFORMAT;
    }
    size_t data = (SECTOR + 4 + vec + SECTOR - 1) / SECTOR * SECTOR;
    if (grow(r, bins) != KT_OK) {
        snprintf(damaged, dlen, "hive bins size too large");
        return KT_EFORMAT;
    }
    for (size_t i = 0; i < bits; i++) {
        if (!(log[SECTOR + 4 + i / 8] >> (i % 8) & 1))
            continue;
        if (!kt_rd_fits(len, data, SECTOR)) {
            snprintf(damaged, dlen, "dirty page %zu missing (log truncated)", i);
            return KT_EFORMAT;
        }
        memcpy(r->p + KT_REGF_BASE + i * SECTOR, log + data, SECTOR);
        data += SECTOR;
    }
    r->bins = bins;
    r->applied++;
    return KT_OK;
}

static void note(replay *r, const char *log, const char *what, const char *why)
{
    char line[600];
    int n = snprintf(line, sizeof line, "%s: %s%s", log, what, why);
    if (n <= 0)
        return;
    char *p = realloc(r->notes, r->notes_len + (size_t)n + 2);
    if (p == NULL)
        return;
    r->notes = p;
    if (r->notes_len)
        r->notes[r->notes_len++] = '\n';
    memcpy(r->notes + r->notes_len, line, (size_t)n + 1);
    r->notes_len += (size_t)n;
}

int kt_hive_replay(const uint8_t *hive, size_t len, const kt_hive_log *logs, size_t nlogs,
                   kt_hive_replayed *out, kt_error *err)
{
    memset(out, 0, sizeof *out);
    uint32_t seq2, bins;
    if (len < KT_REGF_BASE || !kt_hive_is_dirty(hive, len) || !kt_rd_le32(hive, len, 8, &seq2) ||
        !kt_rd_le32(hive, len, 0x28, &bins))
        return kt_error_set(err, KT_EFORMAT, "not a dirty hive");
    replay r = {.next = seq2, .bins = bins};
    r.p = malloc(len);
    if (r.p == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    memcpy(r.p, hive, len);
    r.len = len;
    /* The log whose entries start lower goes first. */
    size_t order[2] = {0, 1};
    uint32_t first[2] = {UINT32_MAX, UINT32_MAX};
    for (size_t i = 0; i < nlogs && i < 2; i++) {
        uint32_t t, s = UINT32_MAX;
        if (logs[i].data && log_base(logs[i].data, logs[i].len, &t) == KT_OK && t == LOG_NEW)
            kt_rd_le32(logs[i].data, logs[i].len, SECTOR + 12, &s);
        first[i] = s;
    }
    if (nlogs == 2 && first[1] < first[0])
        order[0] = 1, order[1] = 0;
    for (size_t k = 0; k < nlogs && k < 2; k++) {
        const kt_hive_log *l = &logs[order[k]];
        if (l->data == NULL)
            continue;
        uint32_t type;
        char why[200] = "";
        if (log_base(l->data, l->len, &type) != KT_OK) {
            note(&r, l->name, "not a hive transaction log (bad base block)", "");
            continue;
        }
        size_t before = r.applied;
        int rc = type == LOG_NEW ? apply_new(&r, l->data, l->len, why, sizeof why)
                 : type == 1 || type == 2
                     ? apply_old(&r, l->data, l->len, why, sizeof why)
                     : (snprintf(why, sizeof why, "unknown log type"), KT_EFORMAT);
        if (rc != KT_OK)
            note(&r, l->name, "damaged, replayed up to the damage: ", why);
        if (r.applied > before) {
            out->used[out->nused] = l->name;
            out->nused++;
        }
    }
    if (r.applied == 0) {
        free(r.p);
        out->notes = r.notes;
        return kt_error_set(err, KT_ENOTFOUND, "no log entry to apply");
    }
    /* The rebuilt base block: clean (both sequence numbers the last
     * entry's), with the bins size the logs gave; the file keeps its
     * length when the bins shrank. This is byte for byte what yarp (by the
     * format specification's author) recovers from the same files. */
    uint32_t last = r.next > seq2 ? r.next - 1 : r.next;
    wr32(r.p + 4, last);
    wr32(r.p + 8, last);
    wr32(r.p + 0x28, r.bins);
    wr32(r.p + 0x1FC, checksum(r.p));
    out->data = r.p;
    out->len = r.len;
    out->entries = r.applied;
    out->notes = r.notes;
    return KT_OK;
}

void kt_hive_replayed_release(kt_hive_replayed *r)
{
    if (r == NULL)
        return;
    free(r->data);
    free(r->notes);
    memset(r, 0, sizeof *r);
}
