/* The $MFT read once, front to back (kavtrace/ntfs_mft.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/bytes.h"
#include "kavtrace/ntfs_mft.h"

#define SECTOR 512
#define ATTR_SI 0x10
#define ATTR_FN 0x30
#define ATTR_DATA 0x80
#define ATTR_END 0xffffffffu
#define FN_MIN 66           /* a $FILE_NAME up to its name */
#define MAX_ATTRS 512       /* attributes walked in one record */
#define READ_RUN (8u << 20) /* bytes of the $MFT read at a time */
#define REF_ENTRY(r) ((r)&0xffffffffffffull)
#define REF_SEQ(r) ((uint16_t)((r) >> 48))

/* An entry's state, packed: valid, in use, directory, sequence. */
#define E_VALID 0x80000000u
#define E_INUSE 0x40000000u
#define E_DIR 0x20000000u
#define NO_NAME UINT32_MAX

typedef struct name_rec {
    uint64_t parent_ref; /* entry and sequence */
    uint32_t entry;
    uint32_t off;  /* into pool */
    uint32_t next; /* the entry's next name, NO_NAME at the end */
    uint8_t ns;
} name_rec;

typedef struct del_rec {
    uint32_t entry;
    kt_mft_times si, fn;
    int64_t size;
} del_rec;

struct kt_mft {
    uint64_t n;      /* records */
    uint32_t *state; /* per entry */
    uint32_t *first; /* per entry: its first name, NO_NAME */
    name_rec *names;
    size_t nnames, names_cap;
    char *pool;
    size_t pool_len, pool_cap;
    uint32_t *start; /* n + 1: children of entry e at order[start[e] .. start[e+1]) */
    uint32_t *order; /* names by parent entry */
    del_rec *dels;
    size_t ndels, dels_cap;
    uint64_t damaged, reads, bytes;
    char damage[256];
};

/* The update sequence array: the last two bytes of every sector hold the
 * record's update sequence number and their real values sit in the array. */
int kt_mft_fixups(uint8_t *rec, size_t len, kt_error *err)
{
    uint16_t off = 0, count = 0, usn = 0;
    kt_rd_le16(rec, len, 4, &off);
    kt_rd_le16(rec, len, 6, &count);
    if (count < 2 || (size_t)(count - 1) * SECTOR != len || !kt_rd_fits(len, off, 2u * count) ||
        off < 0x08)
        return kt_error_set(err, KT_EFORMAT, "update sequence array of %u at %u in %zu bytes",
                            count, off, len);
    kt_rd_le16(rec, len, off, &usn);
    for (size_t s = 1; s < count; s++) {
        size_t end = s * SECTOR - 2;
        uint16_t v = 0;
        kt_rd_le16(rec, len, end, &v);
        if (v != usn)
            return kt_error_set(err, KT_EFORMAT,
                                "sector %zu does not end in the update sequence number "
                                "(torn write?)",
                                s - 1);
        rec[end] = rec[off + 2 * s];
        rec[end + 1] = rec[off + 2 * s + 1];
    }
    return KT_OK;
}

static kt_time filetime(const uint8_t *v, size_t len, size_t off)
{
    uint64_t ft = 0;
    if (!kt_rd_le64(v, len, off, &ft))
        return KT_TIME_NONE;
    return kt_time_from_filetime(ft);
}

static void times(const uint8_t *v, size_t len, size_t off, kt_mft_times *t)
{
    t->created = filetime(v, len, off);
    t->modified = filetime(v, len, off + 8);
    t->changed = filetime(v, len, off + 16);
    t->accessed = filetime(v, len, off + 24);
}

size_t kt_mft_utf8(const uint8_t *p, size_t n, char out[KT_MFT_NAME_MAX + 1])
{
    /* 255 units make at most 765 bytes: a pair is 4 bytes for 2 units. */
    return kt_utf16le_to_utf8(p, n > 255 ? 255 : n, out, KT_MFT_NAME_MAX + 1);
}

static int file_name(const uint8_t *v, size_t vlen, kt_mft_record *out, kt_error *err)
{
    uint64_t pref = 0;
    uint8_t nlen = 0, ns = 0;
    if (!kt_rd_le64(v, vlen, 0, &pref) || !kt_rd_u8(v, vlen, 64, &nlen) ||
        !kt_rd_u8(v, vlen, 65, &ns))
        return kt_error_set(err, KT_EFORMAT, "$FILE_NAME of %zu bytes, too short", vlen);
    if (!kt_rd_fits(vlen, FN_MIN, 2 * (size_t)nlen))
        return kt_error_set(err, KT_EFORMAT, "$FILE_NAME's name of %u characters overruns it",
                            nlen);
    if (ns > KT_MFT_NS_WIN32_DOS)
        return kt_error_set(err, KT_EFORMAT, "$FILE_NAME in namespace %u", ns);
    if (out->nnames == 0)
        times(v, vlen, 8, &out->fn);
    if (out->nnames >= KT_MFT_MAX_NAMES)
        return KT_OK;
    if (nlen == 0)
        return kt_error_set(err, KT_EFORMAT, "$FILE_NAME with an empty name");
    size_t i = out->nnames++;
    out->names[i].parent = REF_ENTRY(pref);
    out->names[i].parent_seq = REF_SEQ(pref);
    out->names[i].ns = ns;
    out->names[i].len = (uint16_t)kt_mft_utf8(v + FN_MIN, nlen, out->names[i].name);
    return KT_OK;
}

int kt_mft_record_decode(uint8_t *rec, size_t len, kt_mft_record *out, kt_error *err)
{
    if (len < KT_MFT_RECORD_MIN || len > KT_MFT_RECORD_MAX || len % SECTOR)
        return kt_error_set(err, KT_EARG, "record of %zu bytes", len);
    if (memcmp(rec, "FILE", 4) != 0) {
        if (memcmp(rec, "BAAD", 4) == 0)
            return kt_error_set(err, KT_EFORMAT, "marked bad (\"BAAD\") by chkdsk");
        for (size_t i = 0; i < 8; i++)
            if (rec[i])
                return kt_error_set(err, KT_EFORMAT, "no FILE signature");
        return KT_ENOTFOUND;
    }
    int rc = kt_mft_fixups(rec, len, err);
    if (rc)
        return rc;
    uint16_t seq = 0, aoff = 0, flags = 0;
    uint32_t used = 0, alloc = 0;
    uint64_t base = 0;
    kt_rd_le16(rec, len, 0x10, &seq);
    kt_rd_le16(rec, len, 0x14, &aoff);
    kt_rd_le16(rec, len, 0x16, &flags);
    kt_rd_le32(rec, len, 0x18, &used);
    kt_rd_le32(rec, len, 0x1c, &alloc);
    kt_rd_le64(rec, len, 0x20, &base);
    if (alloc != len || used > len || aoff < 0x18 || aoff > used)
        return kt_error_set(err, KT_EFORMAT,
                            "header out of bounds (attributes at %u, %u bytes used of %u, "
                            "record of %zu)",
                            aoff, used, alloc, len);
    out->seq = seq;
    out->in_use = (flags & 0x1) != 0;
    out->dir = (flags & 0x2) != 0;
    out->base = REF_ENTRY(base);
    out->si = out->fn = (kt_mft_times){KT_TIME_NONE, KT_TIME_NONE, KT_TIME_NONE, KT_TIME_NONE};
    out->size = 0;
    out->nnames = 0;
    size_t off = aoff;
    for (int n = 0;; n++) {
        uint32_t type = 0, alen = 0;
        if (n >= MAX_ATTRS)
            return kt_error_set(err, KT_ELIMIT, "over %d attributes", MAX_ATTRS);
        if (!kt_rd_le32(rec, used, off, &type))
            return kt_error_set(err, KT_EFORMAT, "attribute list runs past the record's end");
        if (type == ATTR_END)
            break;
        if (!kt_rd_le32(rec, used, off + 4, &alen) || alen < 0x18 || alen % 8 ||
            !kt_rd_fits(used, off, alen))
            return kt_error_set(err, KT_EFORMAT, "attribute 0x%x at %zu of length %u", type, off,
                                alen);
        const uint8_t *a = rec + off;
        uint8_t nonres = a[8], aname = a[9];
        if (!nonres) {
            uint32_t vlen = 0;
            uint16_t voff = 0;
            kt_rd_le32(a, alen, 0x10, &vlen);
            kt_rd_le16(a, alen, 0x14, &voff);
            if (!kt_rd_fits(alen, voff, vlen))
                return kt_error_set(err, KT_EFORMAT,
                                    "attribute 0x%x's value (%u bytes at %u) overruns it", type,
                                    vlen, voff);
            const uint8_t *v = a + voff;
            if (type == ATTR_SI)
                times(v, vlen, 0, &out->si);
            else if (type == ATTR_FN && (rc = file_name(v, vlen, out, err)) != KT_OK)
                return rc;
            else if (type == ATTR_DATA && aname == 0)
                out->size = vlen;
        } else if (type == ATTR_DATA && aname == 0) {
            uint64_t real = 0, vcn = 0;
            if (!kt_rd_le64(a, alen, 0x10, &vcn) || !kt_rd_le64(a, alen, 0x30, &real) ||
                real > INT64_MAX)
                return kt_error_set(err, KT_EFORMAT, "non-resident $DATA header out of bounds");
            if (vcn == 0) /* the first extent says the size */
                out->size = (int64_t)real;
        }
        off += alen;
    }
    return KT_OK;
}

static void damage(kt_mft *m, uint64_t entry, const kt_error *e)
{
    if (m->damaged++ == 0)
        snprintf(m->damage, sizeof m->damage, "MFT entry %llu: %s", (unsigned long long)entry,
                 e->msg);
}

static int add_name(kt_mft *m, uint32_t entry, uint64_t parent, uint16_t pseq, uint8_t ns,
                    const char *name, size_t len)
{
    if (m->nnames == m->names_cap) {
        size_t cap = m->names_cap ? 2 * m->names_cap : 4096;
        name_rec *p = realloc(m->names, cap * sizeof *p);
        if (p == NULL)
            return KT_ENOMEM;
        m->names = p;
        m->names_cap = cap;
    }
    if (m->pool_cap - m->pool_len < len + 1) {
        size_t cap = m->pool_cap ? 2 * m->pool_cap : 1 << 16;
        while (cap - m->pool_len < len + 1)
            cap *= 2;
        char *p = realloc(m->pool, cap);
        if (p == NULL)
            return KT_ENOMEM;
        m->pool = p;
        m->pool_cap = cap;
    }
    if (m->pool_len + len + 1 > UINT32_MAX || m->nnames >= UINT32_MAX - 1)
        return KT_ELIMIT;
    memcpy(m->pool + m->pool_len, name, len + 1);
    name_rec *r = &m->names[m->nnames];
    *r = (name_rec){.parent_ref = parent | (uint64_t)pseq << 48,
                    .entry = entry,
                    .off = (uint32_t)m->pool_len,
                    .next = NO_NAME,
                    .ns = ns};
    m->pool_len += len + 1;
    /* Appended at the end of the entry's chain, so names keep record order. */
    uint32_t *link = &m->first[entry];
    while (*link != NO_NAME)
        link = &m->names[*link].next;
    *link = (uint32_t)m->nnames++;
    return KT_OK;
}

/* One decoded record into the table. */
static int add_record(kt_mft *m, uint64_t entry, const kt_mft_record *r)
{
    uint64_t owner = r->base ? r->base : entry;
    if (r->base == 0)
        m->state[entry] = E_VALID | (r->in_use ? E_INUSE : 0) | (r->dir ? E_DIR : 0) | r->seq;
    if (owner >= m->n)
        return KT_OK; /* an extension record of no entry in the table */
    bool long_name = false;
    for (size_t i = 0; i < r->nnames; i++)
        long_name |= r->names[i].ns != KT_MFT_NS_DOS;
    for (size_t i = 0; i < r->nnames; i++) {
        if (r->names[i].ns == KT_MFT_NS_DOS && long_name)
            continue;
        int rc = add_name(m, (uint32_t)owner, r->names[i].parent, r->names[i].parent_seq,
                          r->names[i].ns, r->names[i].name, r->names[i].len);
        if (rc)
            return rc;
    }
    if (r->base == 0 && !r->in_use && r->nnames) {
        if (m->ndels == m->dels_cap) {
            size_t cap = m->dels_cap ? 2 * m->dels_cap : 256;
            del_rec *p = realloc(m->dels, cap * sizeof *p);
            if (p == NULL)
                return KT_ENOMEM;
            m->dels = p;
            m->dels_cap = cap;
        }
        m->dels[m->ndels++] =
            (del_rec){.entry = (uint32_t)entry, .si = r->si, .fn = r->fn, .size = r->size};
    }
    return KT_OK;
}

/* The children index: names ordered by parent entry (a counting sort). */
static int index_children(kt_mft *m)
{
    m->start = calloc(m->n + 2, sizeof *m->start);
    m->order = malloc((m->nnames ? m->nnames : 1) * sizeof *m->order);
    if (m->start == NULL || m->order == NULL)
        return KT_ENOMEM;
    for (size_t i = 0; i < m->nnames; i++) {
        uint64_t p = REF_ENTRY(m->names[i].parent_ref);
        if (p < m->n)
            m->start[p + 2]++;
    }
    for (uint64_t e = 2; e < m->n + 2; e++)
        m->start[e] += m->start[e - 1];
    for (size_t i = 0; i < m->nnames; i++) {
        uint64_t p = REF_ENTRY(m->names[i].parent_ref);
        if (p < m->n)
            m->order[m->start[p + 1]++] = (uint32_t)i;
    }
    return KT_OK;
}

int kt_mft_load(kt_mft_read_fn read, void *ctx, uint64_t size, uint32_t rec_size,
                const uint8_t *bitmap, size_t bitmap_len, kt_mft **out, kt_error *err)
{
    if (rec_size < KT_MFT_RECORD_MIN || rec_size > KT_MFT_RECORD_MAX || rec_size % SECTOR)
        return kt_error_set(err, KT_EFORMAT, "MFT records of %u bytes", rec_size);
    if (size / rec_size > KT_MFT_MAX_ENTRIES)
        return kt_error_set(err, KT_ELIMIT, "MFT of %llu records, over the limit of %u",
                            (unsigned long long)(size / rec_size), KT_MFT_MAX_ENTRIES);
    int rc = KT_OK;
    kt_mft *m = calloc(1, sizeof *m);
    kt_mft_record *r = malloc(sizeof *r);
    size_t run = READ_RUN - READ_RUN % rec_size;
    uint8_t *buf = malloc(run);
    if (m == NULL || r == NULL || buf == NULL)
        goto nomem;
    m->n = size / rec_size;
    m->state = calloc(m->n ? m->n : 1, sizeof *m->state);
    m->first = malloc((m->n ? m->n : 1) * sizeof *m->first);
    if (m->state == NULL || m->first == NULL)
        goto nomem;
    memset(m->first, 0xff, m->n * sizeof *m->first);
    for (uint64_t off = 0; off < m->n * rec_size;) {
        size_t want = m->n * rec_size - off < run ? (size_t)(m->n * rec_size - off) : run;
        ssize_t got = read(ctx, off, buf, want, err);
        m->reads++;
        if (got < 0) {
            kt_error_prefix(err, "$MFT at byte %llu", (unsigned long long)off);
            rc = err ? err->code : KT_EIO;
            goto out;
        }
        m->bytes += (uint64_t)got;
        if ((size_t)got < rec_size) {
            rc =
                kt_error_set(err, KT_EIO, "$MFT: short read at byte %llu", (unsigned long long)off);
            goto out;
        }
        size_t whole = (size_t)got - (size_t)got % rec_size;
        for (size_t p = 0; p < whole; p += rec_size) {
            uint64_t entry = (off + p) / rec_size;
            kt_error e = {0};
            int d = kt_mft_record_decode(buf + p, rec_size, r, &e);
            if (d == KT_ENOTFOUND) {
                if (entry / 8 < bitmap_len && (bitmap[entry / 8] >> (entry % 8) & 1)) {
                    kt_error_set(&e, KT_EFORMAT, "zeroed, though the $MFT's bitmap has it in use");
                    damage(m, entry, &e);
                }
                continue;
            }
            if (d) {
                damage(m, entry, &e);
                continue;
            }
            if ((rc = add_record(m, entry, r)) != KT_OK)
                goto fail;
        }
        off += whole;
    }
    if ((rc = index_children(m)) != KT_OK)
        goto fail;
    *out = m;
    m = NULL;
    goto out;
nomem:
    rc = KT_ENOMEM;
fail:
    kt_error_set(err, rc, rc == KT_ENOMEM ? "out of memory" : "$MFT: too many names");
out:
    kt_mft_free(m);
    free(r);
    free(buf);
    return rc;
}

void kt_mft_free(kt_mft *m)
{
    if (m == NULL)
        return;
    free(m->state);
    free(m->first);
    free(m->names);
    free(m->pool);
    free(m->start);
    free(m->order);
    free(m->dels);
    free(m);
}

bool kt_mft_get(const kt_mft *m, uint64_t entry, kt_mft_entry *out)
{
    if (entry >= m->n || !(m->state[entry] & E_VALID))
        return false;
    uint32_t s = m->state[entry];
    *out =
        (kt_mft_entry){.seq = (uint16_t)s, .in_use = (s & E_INUSE) != 0, .dir = (s & E_DIR) != 0};
    return true;
}

static void name_at(const kt_mft *m, uint32_t i, kt_mft_name *out)
{
    const name_rec *r = &m->names[i];
    *out = (kt_mft_name){.entry = r->entry,
                         .parent = REF_ENTRY(r->parent_ref),
                         .parent_seq = REF_SEQ(r->parent_ref),
                         .ns = r->ns,
                         .name = m->pool + r->off};
}

size_t kt_mft_names(const kt_mft *m, uint64_t entry, kt_mft_name *out, size_t max)
{
    if (entry >= m->n)
        return 0;
    size_t n = 0;
    for (uint32_t i = m->first[entry]; i != NO_NAME; i = m->names[i].next, n++)
        if (n < max)
            name_at(m, i, &out[n]);
    return n;
}

size_t kt_mft_children(const kt_mft *m, uint64_t parent, size_t *first)
{
    if (parent >= m->n) {
        *first = 0;
        return 0;
    }
    *first = m->start[parent];
    return m->start[parent + 1] - m->start[parent];
}

void kt_mft_child(const kt_mft *m, size_t i, kt_mft_name *out)
{
    name_at(m, m->order[i], out);
}

bool kt_mft_in_dir(const kt_mft *m, const kt_mft_name *n)
{
    kt_mft_entry d;
    if (!kt_mft_get(m, n->parent, &d) || !d.dir)
        return false;
    uint16_t seq = d.in_use ? d.seq : (uint16_t)(d.seq - 1);
    return n->parent_seq == seq;
}

bool kt_mft_deleted(const kt_mft *m, uint64_t entry, kt_mft_times *si, kt_mft_times *fn,
                    int64_t *size)
{
    size_t lo = 0, hi = m->ndels;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->dels[mid].entry < entry)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == m->ndels || m->dels[lo].entry != entry)
        return false;
    if (si)
        *si = m->dels[lo].si;
    if (fn)
        *fn = m->dels[lo].fn;
    if (size)
        *size = m->dels[lo].size;
    return true;
}

uint64_t kt_mft_count(const kt_mft *m)
{
    return m->n;
}

uint64_t kt_mft_damaged(const kt_mft *m, const char **first)
{
    if (first)
        *first = m->damaged ? m->damage : NULL;
    return m->damaged;
}

uint64_t kt_mft_reads(const kt_mft *m)
{
    return m->reads;
}

uint64_t kt_mft_bytes(const kt_mft *m)
{
    return m->bytes;
}
