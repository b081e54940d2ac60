/* The $MFT pass (src/ntfs_mft.c) on records built here byte by byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/ntfs_mft.h"
#include "testutil.h"

#define RS 1024
#define FT_2022 UINT64_C(132863616050000000) /* 2022-01-10T08:00:05Z */

static void le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
    le16(p, (uint16_t)v);
    le16(p + 2, (uint16_t)(v >> 16));
}

static void le64(uint8_t *p, uint64_t v)
{
    le32(p, (uint32_t)v);
    le32(p + 4, (uint32_t)(v >> 32));
}

typedef struct tname {
    uint64_t parent;
    uint16_t parent_seq;
    uint8_t ns;
    const char *name; /* ASCII */
} tname;

/* A resident attribute at off; returns the next offset. */
static size_t attr(uint8_t *r, size_t off, uint32_t type, const uint8_t *val, uint32_t vlen)
{
    uint32_t alen = (0x18 + vlen + 7) & ~7u;
    le32(r + off, type);
    le32(r + off + 4, alen);
    le32(r + off + 0x10, vlen);
    le16(r + off + 0x14, 0x18);
    memcpy(r + off + 0x18, val, vlen);
    return off + alen;
}

/* A FILE record: flags 1 in use, 2 directory; $SI, the names, a resident
 * $DATA of data_len bytes; the update sequence array applied. */
static void record(uint8_t r[RS], uint16_t seq, uint16_t flags, const tname *names, size_t n,
                   uint32_t data_len)
{
    memset(r, 0, RS);
    memcpy(r, "FILE", 4);
    le16(r + 4, 0x30);
    le16(r + 6, 3);
    le16(r + 0x10, seq);
    le16(r + 0x14, 0x38);
    le16(r + 0x16, flags);
    le32(r + 0x1c, RS);
    uint8_t si[48] = {0};
    for (int i = 0; i < 4; i++)
        le64(si + 8 * i, FT_2022 + (uint64_t)i * 10000000);
    size_t off = attr(r, 0x38, 0x10, si, sizeof si);
    for (size_t k = 0; k < n; k++) {
        uint8_t fn[66 + 2 * 64] = {0};
        size_t len = strlen(names[k].name);
        le64(fn, names[k].parent | (uint64_t)names[k].parent_seq << 48);
        for (int i = 0; i < 4; i++)
            le64(fn + 8 + 8 * i, FT_2022 - 10000000);
        fn[64] = (uint8_t)len;
        fn[65] = names[k].ns;
        for (size_t i = 0; i < len; i++)
            fn[66 + 2 * i] = (uint8_t)names[k].name[i];
        off = attr(r, off, 0x30, fn, (uint32_t)(66 + 2 * len));
    }
    uint8_t data[64] = {0};
    off = attr(r, off, 0x80, data, data_len);
    le32(r + off, 0xffffffffu);
    le32(r + 0x18, (uint32_t)off + 8);
    /* update sequence number 0x0007; the sectors' real last bytes in the array */
    le16(r + 0x30, 7);
    memcpy(r + 0x32, r + 510, 2);
    memcpy(r + 0x34, r + 1022, 2);
    le16(r + 510, 7);
    le16(r + 1022, 7);
}

typedef struct mem {
    const uint8_t *b;
    size_t len;
    uint64_t next; /* where the next read must start: front to back */
    unsigned reads;
} mem;

static ssize_t mem_read(void *ctx, uint64_t off, void *buf, size_t len, kt_error *err)
{
    mem *m = ctx;
    ck_assert_uint_eq(off, m->next);
    m->reads++;
    if (off >= m->len)
        return kt_error_set(err, KT_EIO, "read past the end"), -1;
    size_t n = m->len - off < len ? m->len - (size_t)off : len;
    memcpy(buf, m->b + off, n);
    m->next = off + n;
    return (ssize_t)n;
}

static kt_mft *load(uint8_t *b, size_t nrec, mem *m)
{
    *m = (mem){.b = b, .len = nrec * RS};
    kt_mft *t = NULL;
    kt_error err = {0};
    ck_assert_msg(kt_mft_load(mem_read, m, nrec * RS, RS, NULL, 0, &t, &err) == KT_OK, "%s",
                  err.msg);
    return t;
}

/* The names of directory dir's children the table says are in it now. */
static void children(const kt_mft *t, uint64_t dir, char *out, size_t len)
{
    out[0] = '\0';
    size_t first = 0, n = kt_mft_children(t, dir, &first);
    for (size_t i = first; i < first + n; i++) {
        kt_mft_name nm;
        kt_mft_child(t, i, &nm);
        if (!kt_mft_in_dir(t, &nm) || strcmp(nm.name, ".") == 0)
            continue;
        kt_mft_entry e;
        ck_assert(kt_mft_get(t, nm.entry, &e));
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s%s", used ? " " : "", nm.name, e.in_use ? "" : "*");
    }
}

START_TEST(decodes_names_times_and_size)
{
    uint8_t r[RS];
    tname names[] = {{5, 5, KT_MFT_NS_WIN32, "Kaspersky Lab.txt"},
                     {5, 5, KT_MFT_NS_DOS, "KASPER~1.TXT"}};
    record(r, 9, 1, names, 2, 42);
    kt_mft_record *d = malloc(sizeof *d);
    kt_error err = {0};
    ck_assert_msg(kt_mft_record_decode(r, RS, d, &err) == KT_OK, "%s", err.msg);
    ck_assert_uint_eq(d->seq, 9);
    ck_assert(d->in_use && !d->dir);
    ck_assert_int_eq(d->size, 42);
    ck_assert_uint_eq(d->nnames, 2);
    ck_assert_str_eq(d->names[0].name, "Kaspersky Lab.txt");
    ck_assert_uint_eq(d->names[0].parent, 5);
    ck_assert_uint_eq(d->names[0].parent_seq, 5);
    ck_assert_uint_eq(d->names[1].ns, KT_MFT_NS_DOS);
    ck_assert_int_eq(d->si.created, kt_time_from_filetime(FT_2022));
    ck_assert_int_eq(d->si.accessed, kt_time_from_filetime(FT_2022 + 30000000));
    ck_assert_int_eq(d->fn.modified, kt_time_from_filetime(FT_2022 - 10000000));
    /* the sectors' last bytes came back from the array */
    ck_assert_uint_eq(r[510] | r[511] << 8, 0);
    free(d);
}
END_TEST

START_TEST(a_damaged_record_is_counted_and_the_rest_read)
{
    enum { N = 12 };
    uint8_t *b = calloc(N, RS);
    tname root = {5, 5, KT_MFT_NS_WIN32_DOS, "."};
    record(b + 5 * RS, 5, 3, &root, 1, 0);
    tname good = {5, 5, KT_MFT_NS_WIN32, "good.txt"};
    record(b + 6 * RS, 1, 1, &good, 1, 3);
    /* 7: a torn write: the first sector does not end in the number */
    tname torn = {5, 5, KT_MFT_NS_WIN32, "torn.txt"};
    record(b + 7 * RS, 1, 1, &torn, 1, 3);
    b[7 * RS + 510] ^= 0xff;
    /* 8: an attribute running past the bytes in use */
    tname over = {5, 5, KT_MFT_NS_WIN32, "over.txt"};
    record(b + 8 * RS, 1, 1, &over, 1, 3);
    le32(b + 8 * RS + 0x38 + 4, 4096);
    /* 9: a name longer than its attribute */
    tname name = {5, 5, KT_MFT_NS_WIN32, "name.txt"};
    record(b + 9 * RS, 1, 1, &name, 1, 3);
    b[9 * RS + 0x38 + 0x48 + 0x18 + 64] = 200;
    /* 10: the first attribute's offset past the bytes in use */
    record(b + 10 * RS, 1, 1, &name, 1, 3);
    le16(b + 10 * RS + 0x14, 0x3f0);
    /* 11: chkdsk's mark */
    memcpy(b + 11 * RS, "BAAD", 4);
    /* 0..4 blank: never written, no damage (Windows leaves 16..23 so) */
    mem m;
    kt_mft *t = load(b, N, &m);
    const char *first = NULL;
    ck_assert_uint_eq(kt_mft_damaged(t, &first), 5);
    ck_assert_ptr_nonnull(strstr(first, "MFT entry 7"));
    ck_assert_ptr_nonnull(strstr(first, "update sequence"));
    char got[256];
    children(t, 5, got, sizeof got);
    ck_assert_str_eq(got, "good.txt");
    kt_mft_entry e;
    ck_assert(!kt_mft_get(t, 7, &e));
    ck_assert(!kt_mft_get(t, 2, &e)); /* never written */
    kt_mft_free(t);
    free(b);
}
END_TEST

START_TEST(a_blank_record_the_bitmap_has_in_use_was_wiped)
{
    enum { N = 9 };
    uint8_t *b = calloc(N, RS);
    for (int i = 0; i < 5; i++) /* the system files, written */
        record(b + i * RS, 1, 1, NULL, 0, 0);
    tname root = {5, 5, KT_MFT_NS_WIN32_DOS, "."}, f = {5, 5, KT_MFT_NS_WIN32, "last.pf"};
    record(b + 5 * RS, 5, 3, &root, 1, 0);
    record(b + 6 * RS, 1, 1, &f, 1, 0);
    /* 7 and 8 blank, after the last written record: 7 in use, 8 free */
    uint8_t bitmap[2] = {0xff, 0x00};
    mem m = {.b = b, .len = N * RS};
    kt_mft *t = NULL;
    kt_error err = {0};
    ck_assert_int_eq(kt_mft_load(mem_read, &m, N * RS, RS, bitmap, sizeof bitmap, &t, &err), 0);
    const char *first = NULL;
    ck_assert_uint_eq(kt_mft_damaged(t, &first), 1);
    ck_assert_str_eq(first, "MFT entry 7: zeroed, though the $MFT's bitmap has it in use");
    kt_mft_free(t);
    /* without the bitmap, a blank record at the end is one never written */
    m.next = 0;
    ck_assert_int_eq(kt_mft_load(mem_read, &m, N * RS, RS, NULL, 0, &t, &err), 0);
    ck_assert_uint_eq(kt_mft_damaged(t, NULL), 0);
    kt_mft_free(t);
    free(b);
}
END_TEST

START_TEST(a_deleted_entry_follows_its_parent_only_while_the_parent_is_its_own)
{
    enum { N = 16 };
    uint8_t *b = calloc(N, RS);
    tname root = {5, 5, KT_MFT_NS_WIN32_DOS, "."};
    record(b + 5 * RS, 5, 3, &root, 1, 0);
    /* 6: directory D, deleted (sequence 3 -> 4); 7: its deleted file */
    tname d = {5, 5, KT_MFT_NS_WIN32, "D"}, f = {6, 3, KT_MFT_NS_WIN32, "in-deleted-dir.txt"};
    record(b + 6 * RS, 4, 2, &d, 1, 0);
    record(b + 7 * RS, 2, 0, &f, 1, 17);
    /* 8: directory E deleted and its record reused by a live directory
     * (sequence 9): the file 9 it held (parent sequence 7) is no child of
     * what the record holds now */
    tname e = {5, 5, KT_MFT_NS_WIN32, "E-now"}, g = {8, 7, KT_MFT_NS_WIN32, "was-in-E.txt"};
    record(b + 8 * RS, 9, 3, &e, 1, 0);
    record(b + 9 * RS, 2, 0, &g, 1, 5);
    /* 10: record reused by a file; 11 held a name under its old directory */
    tname h = {5, 5, KT_MFT_NS_WIN32, "file-now.bin"}, k = {10, 1, KT_MFT_NS_WIN32, "x.txt"};
    record(b + 10 * RS, 2, 1, &h, 1, 1);
    record(b + 11 * RS, 2, 0, &k, 1, 5);
    /* 12: deleted straight from the root; 13: live, with a DOS name too */
    tname l = {5, 5, KT_MFT_NS_WIN32, "Kaspersky_Upgrade.job"};
    record(b + 12 * RS, 3, 0, &l, 1, 9);
    tname live[] = {{5, 5, KT_MFT_NS_WIN32, "Program Files"}, {5, 5, KT_MFT_NS_DOS, "PROGRA~1"}};
    record(b + 13 * RS, 1, 3, live, 2, 0);
    mem m;
    kt_mft *t = load(b, N, &m);
    char got[256];
    children(t, 5, got, sizeof got);
    ck_assert_str_eq(got, "D* E-now file-now.bin Kaspersky_Upgrade.job* Program Files");
    children(t, 6, got, sizeof got);
    ck_assert_str_eq(got, "in-deleted-dir.txt*");
    children(t, 8, got, sizeof got);
    ck_assert_str_eq(got, "");
    children(t, 10, got, sizeof got);
    ck_assert_str_eq(got, "");
    /* the deleted file's own times and size, read in the same pass */
    kt_mft_times si, fn;
    int64_t size = 0;
    ck_assert(kt_mft_deleted(t, 12, &si, &fn, &size));
    ck_assert_int_eq(size, 9);
    ck_assert_int_eq(si.created, kt_time_from_filetime(FT_2022));
    ck_assert(!kt_mft_deleted(t, 13, NULL, NULL, NULL));
    /* every name of an entry, for a caller resolving references (the USN
     * journal's parents) */
    kt_mft_name names[4];
    ck_assert_uint_eq(kt_mft_names(t, 13, names, 4), 1);
    ck_assert_str_eq(names[0].name, "Program Files");
    kt_mft_free(t);
    free(b);
}
END_TEST

/* A large $MFT generated as it is read: record i is file "fI" in the root. */
typedef struct gen {
    uint64_t next;
    unsigned reads;
    uint64_t bytes;
} gen;

static ssize_t gen_read(void *ctx, uint64_t off, void *buf, size_t len, kt_error *err)
{
    (void)err;
    gen *g = ctx;
    ck_assert_uint_eq(off, g->next);
    ck_assert_uint_eq(off % RS, 0);
    for (size_t p = 0; p + RS <= len; p += RS) {
        char name[32];
        snprintf(name, sizeof name, "f%llu", (unsigned long long)((off + p) / RS));
        tname n = {5, 5, KT_MFT_NS_WIN32, name};
        record((uint8_t *)buf + p, 1, 1, &n, 1, 1);
    }
    g->reads++;
    g->bytes += len;
    g->next = off + len;
    return (ssize_t)len;
}

START_TEST(the_mft_is_read_once_front_to_back_in_large_runs)
{
    uint64_t n = 50000, size = n * RS;
    gen g = {0};
    kt_mft *t = NULL;
    kt_error err = {0};
    ck_assert_msg(kt_mft_load(gen_read, &g, size, RS, NULL, 0, &t, &err) == KT_OK, "%s", err.msg);
    ck_assert_uint_eq(g.bytes, size);
    ck_assert_uint_eq(kt_mft_bytes(t), size);
    ck_assert_uint_eq(kt_mft_reads(t), g.reads);
    ck_assert_uint_le(g.reads, size / (4u << 20) + 1); /* runs of megabytes, not records */
    size_t first = 0;
    ck_assert_uint_eq(kt_mft_children(t, 5, &first), n);
    kt_mft_name nm;
    kt_mft_child(t, first + 49999, &nm);
    ck_assert_str_eq(nm.name, "f49999");
    kt_mft_free(t);
}
END_TEST

START_TEST(bad_geometry_and_failed_reads_are_errors)
{
    kt_mft *t = NULL;
    kt_error err = {0};
    gen g = {0};
    ck_assert_int_eq(kt_mft_load(gen_read, &g, RS, 100, NULL, 0, &t, &err), KT_EFORMAT);
    uint8_t b[RS];
    mem m = {.b = b, .len = 0};
    ck_assert_int_eq(kt_mft_load(mem_read, &m, 4 * RS, RS, NULL, 0, &t, &err), KT_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "$MFT at byte 0"));
    ck_assert_ptr_null(t);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ntfs_mft");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, decodes_names_times_and_size);
    tcase_add_test(tc, a_damaged_record_is_counted_and_the_rest_read);
    tcase_add_test(tc, a_blank_record_the_bitmap_has_in_use_was_wiped);
    tcase_add_test(tc, a_deleted_entry_follows_its_parent_only_while_the_parent_is_its_own);
    tcase_add_test(tc, the_mft_is_read_once_front_to_back_in_large_runs);
    tcase_add_test(tc, bad_geometry_and_failed_reads_are_errors);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
