#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kavtrace/registry.h"
#include "parsers/hive_impl.h"
#include "testutil.h"

START_TEST(reads_values_and_key_times_from_memory)
{
    /* The SYSTEM hive the hive builder made from its spec. */
    char *spec = path_join(testdata_dir(), "windows/hives/SYSTEM.spec");
    char *hive = path_join(evidence_dir(), "hives/SYSTEM");
    kt_buf b = {0};
    file_load(hive, &b);
    kt_hive *h = NULL;
    kt_error err = {0};
    ck_assert_msg(kt_hive_open_mem(b.data, b.len, "SYSTEM", &h, &err) == 0, "%s", err.msg);
    kt_buf_release(&b); /* the hive keeps its own copy */
    uint32_t current = 0;
    ck_assert_int_eq(kt_hive_get_dword(h, "Select", "Current", &current, &err), 0);
    ck_assert_uint_eq(current, 1);
    char name[64];
    ck_assert_int_eq(kt_hive_get_string(h, "controlset001\\CONTROL\\ComputerName\\ComputerName",
                                        "ComputerName", name, sizeof name, &err),
                     0);
    ck_assert_str_eq(name, "WS-ALICE01");
    ck_assert_int_eq(
        kt_hive_get_string(h, "ControlSet001\\Control", "NoSuchValue", name, sizeof name, &err),
        KT_ENOTFOUND);
    ck_assert_int_eq(kt_hive_get_string(h, "ControlSet009", "x", name, sizeof name, &err),
                     KT_ENOTFOUND);

    /* Key LastWrite times come back exactly as the spec set them. */
    tsv t;
    tsv_load(&t, spec);
    size_t keys = 0;
    for (size_t i = 0; i < t.count; i++) {
        tsv_row *r = &t.rows[i];
        if (strcmp(r->f[0], "key") != 0 || r->nfields < 3)
            continue;
        kt_time got;
        ck_assert_int_eq(kt_hive_key_time(h, r->f[1], &got, &err), 0);
        char g[KT_TIME_ISO_MAX];
        ck_assert_msg(got == truth_time(r->f[2]), "%s: %s, want %s", r->f[1],
                      kt_time_format_iso(got, g), r->f[2]);
        keys++;
    }
    ck_assert_uint_ge(keys, 5);
    tsv_free(&t);
    kt_hive_free(h);
    free(spec);
    free(hive);
}
END_TEST

START_TEST(opens_real_hives_and_refuses_broken_ones)
{
    const char *good[] = {"hivex/minimal", "velociraptor/ntuser.dat", "plaso/NTUSER-WIN7.DAT",
                          "velociraptor/Amcache.hve"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char *p = path_join(corpus_dir(), good[i]);
        kt_buf b = {0};
        file_load(p, &b);
        kt_hive *h = NULL;
        kt_error err = {0};
        ck_assert_msg(kt_hive_open_mem(b.data, b.len, good[i], &h, &err) == 0, "%s", err.msg);
        kt_hive_free(h);
        kt_buf_release(&b);
        free(p);
    }
    const char *bad[][2] = {{"unpacked", "regipy-corrupted_system_hive"},
                            {"corpus", "velociraptor/debian_status"}};
    for (size_t i = 0; i < 2; i++) {
        char *p = path_join(
            strcmp(bad[i][0], "unpacked") == 0 ? corpus_unpacked_dir() : corpus_dir(), bad[i][1]);
        kt_buf b = {0};
        file_load(p, &b);
        kt_hive *h = NULL;
        kt_error err = {0};
        int rc = kt_hive_open_mem(b.data, b.len, bad[i][1], &h, &err);
        if (rc == 0) {
            /* hivex may accept a damaged hive; lookups must then fail cleanly. */
            char v[64];
            kt_hive_get_string(h, "Select", "Current", v, sizeof v, &err);
            kt_hive_free(h);
        } else {
            ck_assert_ptr_nonnull(strstr(err.msg, bad[i][1]));
        }
        kt_buf_release(&b);
        free(p);
    }
    kt_hive *h = NULL;
    kt_error err = {0};
    ck_assert_int_eq(kt_hive_open_mem("regf", 4, "tiny", &h, &err), KT_EFORMAT);
    ck_assert_ptr_null(h);
}
END_TEST

/* Set the stated data length of every value named `name` in a hive's
 * bytes (vk record: "vk" at 0x00, name length at 0x02, data length at
 * 0x04, flags at 0x10, the name at 0x14); returns how many. */
static size_t forge_value_length(kt_buf *b, const char *name, uint32_t len)
{
    size_t n = strlen(name), found = 0;
    for (size_t off = 0x1000; off + 0x14 + n <= b->len; off += 8) {
        uint8_t *vk = b->data + off + 4; /* after the cell's size */
        if (memcmp(vk, "vk", 2) != 0 || vk[2] != n || vk[3] != 0 || !(vk[0x10] & 1) ||
            memcmp(vk + 0x14, name, n) != 0)
            continue;
        for (int i = 0; i < 4; i++)
            vk[4 + i] = (uint8_t)(len >> (8 * i));
        found++;
    }
    return found;
}

START_TEST(refuses_oversized_values_before_reading_them)
{
    char *path = path_join(evidence_dir(), "hives/SYSTEM");
    kt_buf b = {0};
    file_load(path, &b);
    /* A length over the limit, and one no hive can hold: hivex itself
     * refuses values over its own cap with ERANGE, so the message says
     * which check came first. */
    const uint32_t lengths[] = {KT_HIVE_MAX_VALUE + 1, 0x7FFFFFF0u};
    const char *key = "ControlSet001\\Control\\ComputerName\\ComputerName";
    for (size_t i = 0; i < 2; i++) {
        ck_assert_uint_eq(forge_value_length(&b, "ComputerName", lengths[i]), 2);
        kt_hive *h = NULL;
        kt_error err = {0};
        ck_assert_msg(kt_hive_open_mem(b.data, b.len, "SYSTEM", &h, &err) == 0, "%s", err.msg);
        char name[64];
        ck_assert_int_eq(kt_hive_get_string(h, key, "ComputerName", name, sizeof name, &err),
                         KT_ELIMIT);
        ck_assert_str_eq(err.msg, "value 'ComputerName' too large");
        kt_hive_node node;
        ck_assert_int_eq(kt_hive_find(h, 0, key, &node, &err), 0);
        uint32_t type = 99;
        kt_buf data = {0};
        ck_assert_int_eq(kt_hive_value(h, node, "ComputerName", &type, &data, &err), KT_ELIMIT);
        ck_assert_str_eq(err.msg, "value 'ComputerName' too large");
        ck_assert_uint_eq(type, 99);
        ck_assert_uint_eq(data.len, 0);
        ck_assert_int_eq(kt_hive_value_string(h, node, "ComputerName", name, sizeof name, &err),
                         KT_ELIMIT);
        ck_assert_str_eq(err.msg, "value 'ComputerName' too large");
        /* the other values are still read */
        uint32_t current = 0;
        ck_assert_int_eq(kt_hive_get_dword(h, "Select", "Current", &current, &err), 0);
        ck_assert_uint_eq(current, 1);
        kt_hive_free(h);
    }
    kt_buf_release(&b);
    free(path);
}
END_TEST

/* ---- registry history: free cells, transaction logs ---- */

#define HIST "scenarios/hives/kes-reg-history/"
#define UNINSTALL_KES                                                                              \
    "Microsoft\\Windows\\CurrentVersion\\Uninstall\\{4A1B2C3D-0C12-4E5F-9A6B-120506000001}"
#define KES_ENV "KasperskyLab\\protected\\KES\\environment"
#define KES_DATA "KasperskyLab\\protected\\KES\\Data"

static void load_hist(const char *name, kt_buf *b)
{
    char *p = path_join(evidence_dir(), name);
    file_load(p, b);
    free(p);
}

/* The deleted key at path among h's recovered ones (0 when absent). */
static kt_hive_node deleted_at(kt_hive *h, const char *path, bool *partial)
{
    size_t n = 0;
    kt_error err = {0};
    ck_assert_msg(kt_hive_deleted(h, &n, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < n; i++) {
        const char *p;
        kt_hive_node node = kt_hive_deleted_node(h, i, &p, partial);
        if (strcmp(p, path) == 0)
            return node;
    }
    return 0;
}

/* Damage anywhere never reads out of bounds (ASan): at every step-th
 * offset, the bytes (a cell size, a record's field) set to extremes, in
 * the whole image and in the image cut there. */
static void damage_everywhere(const kt_buf *b, size_t step)
{
    kt_buf dam = {0};
    kt_error err = {0};
    for (size_t off = 0x1000; off < b->len; off += step) {
        kt_buf_release(&dam);
        kt_buf_append(&dam, b->data, b->len);
        static const uint8_t junk[] = {0xFF, 0x7F, 0x00, 0x80};
        memcpy(dam.data + off, junk, sizeof junk);
        kt_hive_rkey *keys = NULL;
        size_t nkeys = 0;
        if (kt_hive_cells_recover(dam.data, dam.len, &keys, &nkeys, &err) == 0)
            kt_hive_rkeys_free(keys, nkeys);
        if (kt_hive_cells_recover(dam.data, off, &keys, &nkeys, &err) == 0) /* truncated */
            kt_hive_rkeys_free(keys, nkeys);
    }
    ck_assert_int_eq(kt_hive_cells_recover(b->data, 0x1000, NULL, NULL, &err), KT_EFORMAT);
    kt_buf_release(&dam);
}

START_TEST(recovers_deleted_keys_from_free_cells)
{
    /* The scenario's SOFTWARE, as its spec deleted two keys ('delete'),
     * read without its logs. */
    kt_buf b = {0};
    load_hist(HIST "SOFTWARE", &b);
    kt_hive *h = NULL;
    kt_error err = {0};
    ck_assert_msg(kt_hive_open_mem(b.data, b.len, "SOFTWARE", &h, &err) == 0, "%s", err.msg);
    kt_hive_node node;
    ck_assert_int_eq(kt_hive_find(h, 0, UNINSTALL_KES, &node, &err), KT_ENOTFOUND);
    size_t n = 0;
    ck_assert_int_eq(kt_hive_deleted(h, &n, &err), 0);
    ck_assert_uint_eq(n, 2); /* the two deleted keys, nothing else */
    bool partial = true;
    kt_hive_node k = deleted_at(h, UNINSTALL_KES, &partial);
    ck_assert_msg(k != 0, "the deleted Uninstall entry is not recovered");
    ck_assert(!partial);
    ck_assert(kt_hive_node_time(h, k) == truth_time("2024-03-14T15:22:41.1875000Z"));
    char v[256];
    ck_assert_int_eq(kt_hive_value_string(h, k, "DisplayName", v, sizeof v, &err), 0);
    ck_assert_str_eq(v, "Kaspersky Endpoint Security for Windows");
    ck_assert_int_eq(kt_hive_value_string(h, k, "publisher", v, sizeof v, &err), 0);
    ck_assert_str_eq(v, "AO Kaspersky Lab");
    ck_assert_int_eq(kt_hive_value_string(h, k, "InstallLocation", v, sizeof v, &err), 0);
    ck_assert_str_eq(v, "C:\\Program Files (x86)\\Kaspersky Lab\\KES.12.1.0\\");
    ck_assert_int_eq(kt_hive_value_string(h, k, "NoSuch", v, sizeof v, &err), KT_ENOTFOUND);
    ck_assert_int_eq(kt_hive_node_name(h, k, v, sizeof v), 0);
    ck_assert_str_eq(v, "{4A1B2C3D-0C12-4E5F-9A6B-120506000001}");
    k = deleted_at(h, KES_ENV, &partial);
    ck_assert(k != 0 && !partial);
    ck_assert(kt_hive_node_time(h, k) == truth_time("2024-03-14T15:21:03.4062500Z"));
    uint32_t type = 0;
    kt_buf data = {0};
    ck_assert_int_eq(kt_hive_value(h, k, "ProductVersion", &type, &data, &err), 0);
    ck_assert_uint_eq(type, KT_REG_SZ);
    ck_assert_uint_eq(data.len, 22); /* "12.1.0.506" in UTF-16LE with its NUL */
    kt_buf_release(&data);
    kt_hive_node *kids = NULL;
    size_t nk = 9;
    ck_assert_int_eq(kt_hive_children(h, k, &kids, &nk, &err), 0);
    ck_assert_uint_eq(nk, 0);
    free(kids);

    /* The parent overwritten: the path is partial. Its parent KES is live;
     * the nk signature is 4 bytes into the cell its handle names. */
    kt_hive_node parent;
    ck_assert_int_eq(kt_hive_find(h, 0, "KasperskyLab\\protected\\KES", &parent, &err), 0);
    kt_hive_free(h);
    kt_buf dam = {0};
    kt_buf_append(&dam, b.data, b.len);
    memcpy(dam.data + parent + 4, "zz", 2);
    ck_assert_msg(kt_hive_open_mem(dam.data, dam.len, "SOFTWARE", &h, &err) == 0, "%s", err.msg);
    ck_assert(deleted_at(h, KES_ENV, &partial) == 0);
    k = deleted_at(h, "?\\environment", &partial);
    ck_assert(k != 0 && partial);
    kt_hive_free(h);

    /* A value's data cell reused (allocated again): its data is gone, the
     * key and its other values stay. The vk of DisplayName: its data cell
     * offset at 0x0C of the record, 4 past the cell's size. */
    kt_buf_release(&dam);
    kt_buf_append(&dam, b.data, b.len);
    size_t forged = 0;
    for (size_t off = 0x1020; off + 0x30 <= dam.len; off += 8) {
        uint8_t *vk = dam.data + off + 4;
        int32_t size;
        memcpy(&size, dam.data + off, 4);
        if (size <= 0 || memcmp(vk, "vk", 2) != 0 || vk[2] != 11 ||
            memcmp(vk + 0x14, "DisplayName", 11) != 0)
            continue;
        uint32_t at;
        memcpy(&at, vk + 8, 4);
        int32_t cell;
        memcpy(&cell, dam.data + 0x1000 + at, 4);
        if (cell > 0) {
            cell = -cell;
            memcpy(dam.data + 0x1000 + at, &cell, 4);
            forged++;
        }
    }
    ck_assert_uint_eq(forged, 1);
    ck_assert_msg(kt_hive_open_mem(dam.data, dam.len, "SOFTWARE", &h, &err) == 0, "%s", err.msg);
    k = deleted_at(h, UNINSTALL_KES, &partial);
    ck_assert(k != 0);
    ck_assert_int_eq(kt_hive_value_string(h, k, "DisplayName", v, sizeof v, &err), KT_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "overwritten"));
    ck_assert_int_eq(kt_hive_value_string(h, k, "Publisher", v, sizeof v, &err), 0);
    kt_hive_free(h);

    kt_buf_release(&dam);
    damage_everywhere(&b, 0x48);
    kt_buf_release(&b);
}
END_TEST

#define HIST2 "scenarios/hives/kes-reg-history2/"

/* The orphan value named name among h's (0 when absent). */
static kt_hive_node orphan_named(kt_hive *h, const char *name, uint32_t *offset)
{
    size_t n = 0;
    kt_error err = {0};
    ck_assert_msg(kt_hive_orphans(h, &n, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < n; i++) {
        const char *vn;
        kt_hive_node node = kt_hive_orphan_node(h, i, &vn, offset);
        if (strcmp(vn, name) == 0)
            return node;
    }
    return 0;
}

START_TEST(recovers_values_whose_key_is_gone)
{
    /* kes-reg-history2's SOFTWARE: KasperskyLab deleted, the nk cell of
     * KasperskyLab\KES\environment zeroed ('wipe'): its two values are in
     * free cells, listed by no key. */
    kt_buf b = {0};
    load_hist(HIST2 "SOFTWARE", &b);
    kt_hive *h = NULL;
    kt_error err = {0};
    ck_assert_msg(kt_hive_open_mem(b.data, b.len, "SOFTWARE", &h, &err) == 0, "%s", err.msg);
    size_t n = 0;
    ck_assert_int_eq(kt_hive_orphans(h, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    uint32_t off = 0;
    kt_hive_node v = orphan_named(h, "InstallDate", &off);
    ck_assert(v != 0);
    ck_assert_mem_eq(b.data + 0x1000 + off + 4, "vk", 2); /* the offset is its vk cell's */
    char text[64];
    ck_assert_int_eq(kt_hive_value_string(h, v, "InstallDate", text, sizeof text, &err), 0);
    ck_assert_str_eq(text, "1718033482");
    ck_assert_int_eq(kt_hive_value_string(h, v, "ProductVersion", text, sizeof text, &err),
                     KT_ENOTFOUND); /* one value each */
    ck_assert(kt_hive_node_time(h, v) == KT_TIME_NONE);
    ck_assert_int_ne(kt_hive_node_name(h, v, text, sizeof text), 0);
    v = orphan_named(h, "ProductVersion", &off);
    ck_assert(v != 0);
    ck_assert_int_eq(kt_hive_value_string(h, v, "ProductVersion", text, sizeof text, &err), 0);
    ck_assert_str_eq(text, "12.2.0.462");
    /* The deleted keys around it are recovered as keys; the wiped one is
     * not. */
    ck_assert_int_eq(kt_hive_deleted(h, &n, &err), 0);
    ck_assert_uint_eq(n, 3); /* KasperskyLab, KES, KES\Data */
    bool partial;
    ck_assert(deleted_at(h, "KasperskyLab\\KES", &partial) != 0);
    ck_assert(deleted_at(h, "KasperskyLab\\KES\\environment", &partial) == 0);
    kt_hive_free(h);

    /* The data cell of ProductVersion reused: the orphan stays, its data
     * is gone. */
    kt_buf dam = {0};
    kt_buf_append(&dam, b.data, b.len);
    uint32_t data;
    memcpy(&data, dam.data + 0x1000 + off + 4 + 8, 4);
    int32_t cell;
    memcpy(&cell, dam.data + 0x1000 + data, 4);
    ck_assert_int_gt(cell, 0);
    cell = -cell;
    memcpy(dam.data + 0x1000 + data, &cell, 4);
    ck_assert_msg(kt_hive_open_mem(dam.data, dam.len, "SOFTWARE", &h, &err) == 0, "%s", err.msg);
    v = orphan_named(h, "ProductVersion", &off);
    ck_assert(v != 0);
    ck_assert_int_eq(kt_hive_value_string(h, v, "ProductVersion", text, sizeof text, &err),
                     KT_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "overwritten"));
    kt_hive_free(h);
    kt_buf_release(&dam);
    kt_buf_release(&b);

    /* Values their recovered keys list are never orphans. */
    load_hist(HIST "SOFTWARE", &b);
    ck_assert_msg(kt_hive_open_mem(b.data, b.len, "SOFTWARE", &h, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(kt_hive_orphans(h, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    kt_hive_free(h);
    kt_buf_release(&b);
}
END_TEST

/* kt-mkhive's "blob N SEED": byte i is (i % 251) ^ SEED. */
static bool is_blob(const kt_buf *b, size_t n, unsigned seed)
{
    if (b->len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (b->data[i] != (uint8_t)((i % 251) ^ seed))
            return false;
    return true;
}

/* The cell offset of the "db" record of the deleted value Journal. */
static uint32_t journal_db(const kt_buf *b)
{
    for (size_t off = 0x1020; off + 0x30 <= b->len; off += 8) {
        const uint8_t *vk = b->data + off + 4;
        int32_t size;
        memcpy(&size, b->data + off, 4);
        if (size > 0 && memcmp(vk, "vk", 2) == 0 && vk[2] == 7 &&
            memcmp(vk + 0x14, "Journal", 7) == 0) {
            uint32_t at;
            memcpy(&at, vk + 8, 4);
            return at;
        }
    }
    ck_abort_msg("no vk record of Journal");
    return 0;
}

START_TEST(reads_big_data_in_live_and_free_cells)
{
    /* kes-reg-history2's SOFTWARE: a live value of 20000 bytes (two
     * segments) and a deleted one of 40000 (three), each as a "db" record,
     * its segment list and its segments. */
    kt_buf b = {0}, v = {0};
    load_hist(HIST2 "SOFTWARE", &b);
    kt_hive *h = NULL;
    kt_error err = {0};
    uint32_t type = 0;
    ck_assert_msg(kt_hive_open_mem(b.data, b.len, "SOFTWARE", &h, &err) == 0, "%s", err.msg);
    kt_hive_node live;
    ck_assert_int_eq(kt_hive_find(h, 0,
                                  "Microsoft\\Windows\\CurrentVersion\\Component Based Servicing",
                                  &live, &err),
                     0);
    ck_assert_msg(kt_hive_value(h, live, "Cache", &type, &v, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(type, KT_REG_BINARY);
    ck_assert(is_blob(&v, 20000, 3));
    kt_buf_release(&v);
    bool partial;
    kt_hive_node k = deleted_at(h, "KasperskyLab\\KES\\Data", &partial);
    ck_assert(k != 0);
    ck_assert_msg(kt_hive_value(h, k, "Journal", &type, &v, &err) == 0, "%s", err.msg);
    ck_assert(is_blob(&v, 40000, 7));
    kt_buf_release(&v);
    kt_hive_free(h);

    /* Damaged: a segment reused, the segment count short of the size, the
     * list out of bounds: the deleted value's data is not read, the key
     * and its other values stay. */
    uint32_t db = journal_db(&b);
    for (int dmg = 0; dmg < 3; dmg++) {
        kt_buf dam = {0};
        kt_buf_append(&dam, b.data, b.len);
        uint8_t *rec = dam.data + 0x1000 + db + 4;
        uint32_t list;
        memcpy(&list, rec + 4, 4);
        if (dmg == 0) {
            uint32_t seg;
            memcpy(&seg, dam.data + 0x1000 + list + 4 + 4, 4); /* the second */
            int32_t cs;
            memcpy(&cs, dam.data + 0x1000 + seg, 4);
            cs = -cs;
            memcpy(dam.data + 0x1000 + seg, &cs, 4);
        } else if (dmg == 1) {
            rec[2] = 2; /* 2 * 16344 < 40000 */
        } else {
            memcpy(rec + 4, "\xf8\xff\xff\x7f", 4);
        }
        ck_assert_msg(kt_hive_open_mem(dam.data, dam.len, "SOFTWARE", &h, &err) == 0, "%s",
                      err.msg);
        k = deleted_at(h, "KasperskyLab\\KES\\Data", &partial);
        ck_assert(k != 0);
        ck_assert_int_eq(kt_hive_value(h, k, "Journal", &type, &v, &err), KT_ENOTFOUND);
        ck_assert_ptr_nonnull(strstr(err.msg, "overwritten"));
        kt_buf_release(&v);
        kt_hive_free(h);
        kt_buf_release(&dam);
    }
    damage_everywhere(&b, 0x48);
    kt_buf_release(&b);
}
END_TEST

START_TEST(marvin32_gives_the_reference_vectors)
{
    /* The .NET runtime's Marvin test vectors (seed 0x004FB61A001BDBCC). */
    const uint64_t seed = UINT64_C(0x004FB61A001BDBCC);
    const struct {
        const char *data;
        size_t len;
        uint64_t want;
    } v[] = {
        {"", 0, UINT64_C(0x30ED35C100CD3C7D)},
        {"\xaf", 1, UINT64_C(0x48E73FC77D75DDC1)},
        {"\xe7\x0f", 2, UINT64_C(0xB5F6E1FC485DBFF8)},
        {"\x37\xf4\x95", 3, UINT64_C(0xF0B07C789B8CF7E8)},
        {"\x15\x3f\xb7\x98\x26", 5, UINT64_C(0xE6C08C6DA2AFA997)},
        {"\x09\x32\xe6\x24\x6c\x47", 6, UINT64_C(0x6F04BF1A5EA24060)},
        {"\xab\x42\x7e\xa8\xd1\x0f\xc7", 7, UINT64_C(0xE11847E4F0678C41)},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        ck_assert_msg(kt_marvin32((const uint8_t *)v[i].data, v[i].len, seed) == v[i].want,
                      "vector %zu", i);
}
END_TEST

static void open_with_logs(const kt_buf *hive, const kt_buf *l1, const kt_buf *l2, kt_hive **h)
{
    kt_hive_log logs[2] = {{l1 ? l1->data : NULL, l1 ? l1->len : 0, "SOFTWARE.LOG1"},
                           {l2 ? l2->data : NULL, l2 ? l2->len : 0, "SOFTWARE.LOG2"}};
    kt_error err = {0};
    ck_assert_msg(kt_hive_open_logged(hive->data, hive->len, logs, 2, "SOFTWARE", h, &err) == 0,
                  "%s", err.msg);
}

static uint32_t last_update(kt_hive *h)
{
    uint32_t d = 0;
    kt_error err = {0};
    ck_assert_msg(kt_hive_get_dword(h, KES_DATA, "LastSuccessfulUpdate", &d, &err) == 0, "%s",
                  err.msg);
    return d;
}

START_TEST(replays_transaction_logs_in_memory)
{
    kt_buf b = {0}, l1 = {0}, l2 = {0};
    load_hist(HIST "SOFTWARE", &b);
    load_hist(HIST "SOFTWARE.LOG1", &l1);
    load_hist(HIST "SOFTWARE.LOG2", &l2);
    ck_assert(kt_hive_is_dirty(b.data, b.len));
    kt_buf orig = {0};
    kt_buf_append(&orig, b.data, b.len);

    kt_hive *h = NULL;
    open_with_logs(&b, &l1, &l2, &h);
    ck_assert_uint_eq(last_update(h), 1728943800u); /* 2024-10-14T22:10:00Z, LOG1 only */
    ck_assert_ptr_nonnull(kt_hive_unapplied(h));
    ck_assert_uint_eq(last_update(kt_hive_unapplied(h)), 1727415900u); /* the primary file */
    ck_assert_str_eq(kt_hive_replayed_from(h), "SOFTWARE.LOG1");
    ck_assert_ptr_null(kt_hive_log_notes(h));
    kt_time t;
    kt_error err = {0};
    ck_assert_int_eq(kt_hive_key_time(h, KES_DATA, &t, &err), 0);
    ck_assert(t == truth_time("2024-10-14T22:10:00Z"));
    /* the deleted keys are still in the replayed hive's free cells */
    bool partial;
    ck_assert(deleted_at(h, UNINSTALL_KES, &partial) != 0);
    kt_hive_free(h);
    ck_assert(b.len == orig.len && memcmp(b.data, orig.data, b.len) == 0); /* never written */

    /* The logs in the other order: the one with entries still applies. */
    open_with_logs(&b, &l2, &l1, &h);
    ck_assert_uint_eq(last_update(h), 1728943800u);
    kt_hive_free(h);

    /* A damaged log entry (one byte of its pages): its hash fails, the
     * replay stops there and says so, and the primary file is read. */
    kt_buf bad = {0};
    kt_buf_append(&bad, l1.data, l1.len);
    bad.data[bad.len - 100] ^= 0x55;
    open_with_logs(&b, &bad, &l2, &h);
    ck_assert_uint_eq(last_update(h), 1727415900u);
    ck_assert_ptr_null(kt_hive_unapplied(h));
    ck_assert_ptr_nonnull(kt_hive_log_notes(h));
    ck_assert_msg(strstr(kt_hive_log_notes(h), "SOFTWARE.LOG1: damaged") &&
                      strstr(kt_hive_log_notes(h), "hash mismatch"),
                  "%s", kt_hive_log_notes(h));
    kt_hive_free(h);
    /* A log whose base block is not one. */
    bad.data[0] = 'X';
    open_with_logs(&b, &bad, NULL, &h);
    ck_assert_msg(strstr(kt_hive_log_notes(h), "not a hive transaction log"), "%s",
                  kt_hive_log_notes(h));
    kt_hive_free(h);
    /* Only the empty LOG2: intact, nothing past the primary file: read as
     * it is, nothing to say. */
    open_with_logs(&b, NULL, &l2, &h);
    ck_assert_ptr_null(kt_hive_unapplied(h));
    ck_assert_ptr_null(kt_hive_log_notes(h));
    ck_assert_uint_eq(last_update(h), 1727415900u);
    kt_hive_free(h);
    /* No log at all for a dirty hive. */
    open_with_logs(&b, NULL, NULL, &h);
    ck_assert_msg(strstr(kt_hive_log_notes(h), "dirty hive") &&
                      strstr(kt_hive_log_notes(h), "no transaction log"),
                  "%s", kt_hive_log_notes(h));
    ck_assert_uint_eq(last_update(h), 1727415900u);
    kt_hive_free(h);
    /* A clean hive: its logs are not read. */
    kt_buf clean = {0};
    load_hist(HIST "RegBack-SOFTWARE", &clean);
    ck_assert(!kt_hive_is_dirty(clean.data, clean.len));
    open_with_logs(&clean, &l1, &l2, &h);
    ck_assert_ptr_null(kt_hive_unapplied(h));
    ck_assert_ptr_null(kt_hive_log_notes(h));
    ck_assert_uint_eq(last_update(h), 1726726320u);
    kt_hive_free(h);
    kt_buf_release(&clean);
    kt_buf_release(&bad);
    kt_buf_release(&orig);
    kt_buf_release(&b);
    kt_buf_release(&l1);
    kt_buf_release(&l2);
}
END_TEST

START_TEST(replays_old_format_logs)
{
    /* kt-mkhive's 'log-format old': a DIRT dirty vector of 512-byte pages. */
    char dir[] = "/tmp/kt-oldlog-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *spec = path_join(dir, "S.spec"), *out = path_join(dir, "S");
    FILE *f = fopen(spec, "w");
    ck_assert_ptr_nonnull(f);
    fputs("time\t2024-11-20T10:00:00Z\nlog-format\told\n"
          "key\tKasperskyLab\\protected\\KES\\Data\t2024-09-27T05:45:00Z\n"
          "value\tKasperskyLab\\protected\\KES\\Data\tLastSuccessfulUpdate\tdword\t1727415900\n"
          "transaction\n"
          "key\tKasperskyLab\\protected\\KES\\Data\t2024-10-14T22:10:00Z\n"
          "value\tKasperskyLab\\protected\\KES\\Data\tLastSuccessfulUpdate\tdword\t1728943800\n",
          f);
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' '%s' '%s'", getenv("KT_MKHIVE"), spec, out);
    ck_assert_int_eq(system(cmd), 0);
    char *log1 = path_join(dir, "S.LOG1"), *log2 = path_join(dir, "S.LOG2");
    kt_buf b = {0}, l1 = {0};
    file_load(out, &b);
    file_load(log1, &l1);
    ck_assert_int_eq(memcmp(l1.data + 512, "DIRT", 4), 0);
    ck_assert_int_ne(access(log2, F_OK), 0); /* old format: one log */
    kt_hive *h = NULL;
    open_with_logs(&b, &l1, NULL, &h);
    ck_assert_uint_eq(last_update(h), 1728943800u);
    ck_assert_uint_eq(last_update(kt_hive_unapplied(h)), 1727415900u);
    kt_hive_free(h);
    /* Truncated: a dirty page missing. */
    l1.len -= 512;
    open_with_logs(&b, &l1, NULL, &h);
    ck_assert_msg(strstr(kt_hive_log_notes(h), "missing"), "%s", kt_hive_log_notes(h));
    kt_hive_free(h);
    kt_buf_release(&b);
    kt_buf_release(&l1);
    unlink(spec);
    unlink(out);
    unlink(log1);
    rmdir(dir);
    free(spec);
    free(out);
    free(log1);
    free(log2);
}
END_TEST

START_TEST(replays_a_real_windows_log_as_yarp_does)
{
    /* regipy's dirty NTUSER.DAT with its two logs (Windows 10): 23 entries
     * (sequence numbers 566-588), all in LOG1; the result is byte for byte
     * what yarp, by the format specification's author, recovers from them
     * (its SHA-256, as another project's test records it). */
    const char *names[3] = {"regipy-transactions_NTUSER.DAT", "regipy-transactions_ntuser.dat.log1",
                            "regipy-transactions_ntuser.dat.log2"};
    kt_buf b[3] = {{0}};
    for (int i = 0; i < 3; i++) {
        char *p = path_join(corpus_unpacked_dir(), names[i]);
        file_load(p, &b[i]);
        free(p);
    }
    kt_hive_log logs[2] = {{b[1].data, b[1].len, "NTUSER.DAT.LOG1"},
                           {b[2].data, b[2].len, "NTUSER.DAT.LOG2"}};
    kt_hive_replayed r;
    kt_error err = {0};
    ck_assert_msg(kt_hive_replay(b[0].data, b[0].len, logs, 2, &r, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(r.entries, 23);
    ck_assert_uint_eq(r.nused, 1);
    ck_assert_str_eq(r.used[0], "NTUSER.DAT.LOG1");
    ck_assert_ptr_null(r.notes);
    char dir[] = "/tmp/kt-yarp-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *out = path_join(dir, "NTUSER.DAT");
    FILE *f = fopen(out, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(r.data, 1, r.len, f), r.len);
    fclose(f);
    char sha[65];
    file_sha256(out, sha);
    ck_assert_str_eq(sha, "0a7a7b2d1eb24ab63455f5a83e554601d88fe558d0ba1c1068a7e1102c79a092");
    unlink(out);
    rmdir(dir);
    free(out);
    /* and hivex reads it */
    kt_hive *h = NULL;
    ck_assert_msg(kt_hive_open_logged(b[0].data, b[0].len, logs, 2, "NTUSER.DAT", &h, &err) == 0,
                  "%s", err.msg);
    ck_assert_ptr_nonnull(kt_hive_unapplied(h));
    kt_hive_free(h);
    kt_hive_replayed_release(&r);
    for (int i = 0; i < 3; i++)
        kt_buf_release(&b[i]);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120); /* the damage sweeps, under ASan on a loaded machine */
    tcase_add_test(tc, reads_values_and_key_times_from_memory);
    tcase_add_test(tc, opens_real_hives_and_refuses_broken_ones);
    tcase_add_test(tc, refuses_oversized_values_before_reading_them);
    tcase_add_test(tc, recovers_deleted_keys_from_free_cells);
    tcase_add_test(tc, recovers_values_whose_key_is_gone);
    tcase_add_test(tc, reads_big_data_in_live_and_free_cells);
    tcase_add_test(tc, marvin32_gives_the_reference_vectors);
    tcase_add_test(tc, replays_transaction_logs_in_memory);
    tcase_add_test(tc, replays_old_format_logs);
    tcase_add_test(tc, replays_a_real_windows_log_as_yarp_does);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
