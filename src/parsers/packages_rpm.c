/* RPM package history: the RPM database (rpmdb.sqlite, Berkeley DB
 * Packages), RPM header blobs, and the dnf and yum logs. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/bytes.h"
#include "kavtrace/packages.h"
#include "packages_impl.h"

/* ---- RPM header blobs (rpm lib/header.c, headerImport) ----
 * 0x00 BE32 il: index entries; 0x04 BE32 dl: data store bytes;
 * 0x08 il entries of 16 bytes: BE32 tag, type, offset (into the data
 * store), count; then the data store. */

#define RPMTAG_NAME 1000
#define RPMTAG_VERSION 1001
#define RPMTAG_RELEASE 1002
#define RPMTAG_EPOCH 1003
#define RPMTAG_INSTALLTIME 1008
#define RPMTAG_ARCH 1022

#define RPM_INT32_TYPE 4
#define RPM_STRING_TYPE 6
#define RPM_STRING_ARRAY_TYPE 8
#define RPM_I18NSTRING_TYPE 9

#define RPM_MAX_STRING 4096 /* a name, version, release or arch */

typedef struct rpm_entry {
    uint32_t type, offset, count;
    bool present;
} rpm_entry;

/* The string at a string-typed entry, bounded by the data store. */
static int rpm_string(const uint8_t *store, uint32_t dl, const rpm_entry *en, const char *what,
                      kt_span *out, kt_error *err)
{
    if (en->type != RPM_STRING_TYPE && en->type != RPM_STRING_ARRAY_TYPE &&
        en->type != RPM_I18NSTRING_TYPE)
        return kt_error_set(err, KT_EFORMAT, "%s: type %u is not a string", what, en->type);
    if (en->offset >= dl || en->count == 0)
        return kt_error_set(err, KT_EFORMAT, "%s: offset %u outside the data store of %u bytes",
                            what, en->offset, dl);
    const uint8_t *s = store + en->offset;
    size_t max = dl - en->offset;
    const uint8_t *nul = memchr(s, '\0', max < RPM_MAX_STRING ? max : RPM_MAX_STRING);
    if (nul == NULL && max < RPM_MAX_STRING)
        return kt_error_set(err, KT_EFORMAT, "%s: string not terminated within the data store",
                            what);
    if (nul == NULL)
        return kt_error_set(err, KT_EFORMAT, "%s: string longer than %d bytes", what,
                            RPM_MAX_STRING);
    *out = (kt_span){(const char *)s, (size_t)(nul - s)};
    return KT_OK;
}

static int rpm_int32(const uint8_t *store, uint32_t dl, const rpm_entry *en, const char *what,
                     uint32_t *out, kt_error *err)
{
    if (en->type != RPM_INT32_TYPE || en->count == 0)
        return kt_error_set(err, KT_EFORMAT, "%s: type %u is not int32", what, en->type);
    if (!kt_rd_be32(store, dl, en->offset, out))
        return kt_error_set(err, KT_EFORMAT, "%s: offset %u outside the data store of %u bytes",
                            what, en->offset, dl);
    return KT_OK;
}

static int header_read(const uint8_t *blob, size_t len, const char *detail, kt_pkg_event *e,
                       kt_buf *scratch, kt_error *err)
{
    uint32_t il = 0, dl = 0;
    if (!kt_rd_be32(blob, len, 0, &il) || !kt_rd_be32(blob, len, 4, &dl))
        return kt_error_set(err, KT_EFORMAT, "header of %zu bytes", len);
    if (il == 0 || il > KT_RPM_MAX_TAGS)
        return kt_error_set(err, KT_EFORMAT, "header with %u index entries", il);
    if (dl > KT_RPM_MAX_HEADER || (uint64_t)il * 16 + dl > len - 8)
        return kt_error_set(err, KT_EFORMAT,
                            "header of %u entries and %u data bytes does not fit in %zu bytes", il,
                            dl, len);
    size_t index_len = (size_t)il * 16;
    const uint8_t *index = blob + 8, *store = index + index_len;
    enum { NAME, VERSION, RELEASE, EPOCH, INSTALLTIME, ARCH, NTAGS };
    static const uint32_t tags[NTAGS] = {RPMTAG_NAME,  RPMTAG_VERSION,     RPMTAG_RELEASE,
                                         RPMTAG_EPOCH, RPMTAG_INSTALLTIME, RPMTAG_ARCH};
    rpm_entry found[NTAGS] = {0};
    for (size_t at = 0; at < index_len; at += 16) {
        uint32_t tag = 0;
        rpm_entry en = {.present = true};
        if (!kt_rd_be32(index, index_len, at, &tag) ||
            !kt_rd_be32(index, index_len, at + 4, &en.type) ||
            !kt_rd_be32(index, index_len, at + 8, &en.offset) ||
            !kt_rd_be32(index, index_len, at + 12, &en.count))
            return kt_error_set(err, KT_EFORMAT, "index entry %zu cut short", at / 16);
        for (int k = 0; k < NTAGS; k++) {
            if (tag == tags[k] && !found[k].present)
                found[k] = en;
        }
    }
    if (!found[NAME].present)
        return kt_error_set(err, KT_EFORMAT, "header without a name");
    kt_span name, version = {0}, release = {0}, arch = {0};
    uint32_t epoch = 0, itime = 0;
    int rc = rpm_string(store, dl, &found[NAME], "name", &name, err);
    if (rc == KT_OK && found[VERSION].present)
        rc = rpm_string(store, dl, &found[VERSION], "version", &version, err);
    if (rc == KT_OK && found[RELEASE].present)
        rc = rpm_string(store, dl, &found[RELEASE], "release", &release, err);
    if (rc == KT_OK && found[ARCH].present)
        rc = rpm_string(store, dl, &found[ARCH], "arch", &arch, err);
    if (rc == KT_OK && found[EPOCH].present)
        rc = rpm_int32(store, dl, &found[EPOCH], "epoch", &epoch, err);
    if (rc == KT_OK && found[INSTALLTIME].present)
        rc = rpm_int32(store, dl, &found[INSTALLTIME], "install time", &itime, err);
    if (rc)
        return rc;

    scratch->len = 0;
    size_t o_name = kt_pkgi_put(scratch, name.p, name.n, &rc);
    size_t o_version = KT_PKGI_NONE;
    if (found[VERSION].present && rc == KT_OK) {
        o_version = scratch->len;
        if (found[EPOCH].present)
            rc = kt_buf_printf(scratch, "%u:", epoch);
        if (rc == KT_OK)
            rc = kt_buf_append(scratch, version.p, version.n);
        if (rc == KT_OK && found[RELEASE].present) {
            rc = kt_buf_append(scratch, "-", 1);
            if (rc == KT_OK)
                rc = kt_buf_append(scratch, release.p, release.n);
        }
        if (rc == KT_OK)
            rc = kt_buf_append(scratch, "", 1);
    }
    size_t o_arch = found[ARCH].present ? kt_pkgi_put(scratch, arch.p, arch.n, &rc) : KT_PKGI_NONE;
    size_t o_detail = detail ? kt_pkgi_put(scratch, detail, strlen(detail), &rc) : KT_PKGI_NONE;
    if (rc)
        return kt_error_set(err, rc, "out of memory");
    *e = (kt_pkg_event){
        .action = KT_PKG_STATE,
        .name = kt_pkgi_at(scratch, o_name),
        .version = kt_pkgi_at(scratch, o_version),
        .arch = kt_pkgi_at(scratch, o_arch),
        .has_time = found[INSTALLTIME].present,
        .time = found[INSTALLTIME].present ? kt_time_from_unix(itime, 0) : KT_TIME_NONE,
        .precision = KT_PREC_SECOND,
        .detail = kt_pkgi_at(scratch, o_detail),
    };
    return KT_OK;
}

int kt_rpm_header_read(const uint8_t *blob, size_t len, kt_pkg_event *e, kt_buf *scratch,
                       kt_error *err)
{
    return header_read(blob, len, NULL, e, scratch, err);
}

/* One database record: a header, or a warning naming the record. */
static int rpm_record(kt_pkg_run *r, size_t recno, uint64_t hnum, const uint8_t *blob, size_t len,
                      kt_buf *scratch)
{
    char detail[32];
    snprintf(detail, sizeof detail, "hnum %llu", (unsigned long long)hnum);
    kt_error herr = {0};
    kt_pkg_event e;
    int rc = header_read(blob, len, detail, &e, scratch, &herr);
    if (rc == KT_ENOMEM)
        return rc;
    if (rc)
        return kt_pkgi_warn(r, "record %zu (hnum %llu): %s", recno, (unsigned long long)hnum,
                            herr.msg);
    e.line = recno;
    return kt_pkgi_emit(r, &e);
}

/* ---- rpmdb.sqlite (rpm lib/backend/sqlite.c): Packages(hnum, blob) ---- */

static int deny_writes(void *p, int action, const char *a1, const char *a2, const char *a3,
                       const char *a4)
{
    (void)p, (void)a1, (void)a2, (void)a3, (void)a4;
    return action == SQLITE_SELECT || action == SQLITE_READ ? SQLITE_OK : SQLITE_DENY;
}

static int rpmdb_sqlite(kt_pkg_run *r, const uint8_t *data, size_t len, kt_error *err)
{
    /* A private copy: a WAL-mode header (bytes 18, 19 = 2) is set to
     * rollback mode, which is how the file reads without its -wal. */
    unsigned char *copy = sqlite3_malloc64(len);
    if (copy == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    memcpy(copy, data, len);
    if (len > 19 && copy[18] == 2 && copy[19] == 2)
        copy[18] = copy[19] = 1;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    kt_buf scratch = {0};
    int rc = KT_OK;
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_PRIVATECACHE, NULL) !=
        SQLITE_OK) {
        sqlite3_free(copy);
        rc = kt_error_set(err, KT_ENOMEM, "sqlite: %s", db ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    if (sqlite3_deserialize(db, "main", copy, (sqlite3_int64)len, (sqlite3_int64)len,
                            SQLITE_DESERIALIZE_READONLY | SQLITE_DESERIALIZE_FREEONCLOSE) !=
        SQLITE_OK) {
        rc = kt_error_set(err, KT_EFORMAT, "sqlite: %s", sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_set_authorizer(db, deny_writes, NULL);
    if (sqlite3_prepare_v2(db, "SELECT hnum, blob FROM Packages ORDER BY hnum", -1, &st, NULL) !=
        SQLITE_OK) {
        rc = kt_error_set(err, KT_EFORMAT, "not an rpm database: %s", sqlite3_errmsg(db));
        goto out;
    }
    if ((rc = kt_pkgi_confirm(r)))
        goto out;
    size_t recno = 0;
    int step = SQLITE_DONE;
    while (rc == KT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        recno++;
        if (recno > KT_RPM_MAX_PACKAGES) {
            rc =
                kt_pkgi_warn(r, "more than %u packages: the rest is not read", KT_RPM_MAX_PACKAGES);
            break;
        }
        sqlite3_int64 hnum = sqlite3_column_int64(st, 0);
        if (sqlite3_column_type(st, 1) != SQLITE_BLOB) {
            rc = kt_pkgi_warn(r, "record %zu (hnum %lld): no header blob", recno, (long long)hnum);
            continue;
        }
        const uint8_t *blob = sqlite3_column_blob(st, 1);
        int n = sqlite3_column_bytes(st, 1);
        if (blob == NULL && n > 0) {
            rc = KT_ENOMEM;
            break;
        }
        rc = rpm_record(r, recno, (uint64_t)hnum, blob, (size_t)(n > 0 ? n : 0), &scratch);
    }
    if (rc == KT_OK && step != SQLITE_DONE)
        rc = kt_pkgi_warn(r, "sqlite: %s after record %zu: the rest is not read",
                          sqlite3_errmsg(db), recno);
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    kt_buf_release(&scratch);
    return rc;
}

/* ---- Berkeley DB hash database (Packages, RHEL <= 8) ----
 * Page 0 is the hash metadata page; bucket pages hold pairs of items (key,
 * data) through an index of 16-bit offsets; large items live on chains of
 * overflow pages. Layouts as Berkeley DB's dbinc/db_page.h, followed the
 * way rpm's read-only reader (lib/backend/bdb_ro.c) walks them. The key is
 * the header number in the database's byte order; record 0 is rpm's
 * counter, not a header. */

#define BDB_HASH_MAGIC 0x00061561u
#define BDB_BTREE_MAGIC 0x00053162u
#define BDB_PAGE_HDR 26 /* lsn 8, pgno 4, prev 4, next 4, entries 2, hf_offset 2, level, type */
#define BDB_P_HASH_UNSORTED 2
#define BDB_P_OVERFLOW 7
#define BDB_P_HASH 13
#define BDB_H_KEYDATA 1
#define BDB_H_OFFPAGE 3

typedef struct bdb {
    const uint8_t *data;
    size_t len;
    bool swapped;
    uint32_t pagesize, lastpage, maxbucket;
    uint32_t spares[32];
    uint8_t *seen; /* a bit per page: no page is read twice */
    kt_buf item;
} bdb;

/* 0x0c: the metadata page's magic, in the byte order of the machine that
 * wrote the file. */
static bool bdb_magic(const uint8_t *data, size_t len, uint32_t magic)
{
    uint32_t le = 0, be = 0;
    return kt_rd_le32(data, len, 12, &le) && kt_rd_be32(data, len, 12, &be) &&
           (le == magic || be == magic);
}

/* Numbers in the byte order of the file, at off of p[0..len). */
static bool bdb32(const bdb *db, const uint8_t *p, size_t len, size_t off, uint32_t *v)
{
    return db->swapped ? kt_rd_be32(p, len, off, v) : kt_rd_le32(p, len, off, v);
}

static bool bdb16(const bdb *db, const uint8_t *p, size_t len, size_t off, uint32_t *v)
{
    uint16_t w = 0;
    if (!(db->swapped ? kt_rd_be16(p, len, off, &w) : kt_rd_le16(p, len, off, &w)))
        return false;
    *v = w;
    return true;
}

/* Page pgno, checked: in the file, not seen before, numbered as itself. */
static const uint8_t *bdb_page(bdb *db, uint32_t pgno)
{
    if (pgno == 0 || pgno > db->lastpage || ((uint64_t)pgno + 1) * db->pagesize > db->len)
        return NULL;
    if (db->seen[pgno / 8] & (1u << (pgno % 8)))
        return NULL;
    db->seen[pgno / 8] |= (uint8_t)(1u << (pgno % 8));
    const uint8_t *p = db->data + (size_t)pgno * db->pagesize;
    uint32_t self = 0;
    return bdb32(db, p, db->pagesize, 8, &self) && self == pgno ? p : NULL;
}

/* An item (key or data) of a hash page into db->item. */
static int bdb_item(bdb *db, const uint8_t *page, uint32_t off, uint32_t n, const char **why)
{
    db->item.len = 0;
    if (n == 0 || off + n > db->pagesize) {
        *why = "item outside its page";
        return KT_EFORMAT;
    }
    if (page[off] == BDB_H_KEYDATA)
        return kt_buf_append(&db->item, page + off + 1, n - 1);
    if (page[off] != BDB_H_OFFPAGE || n != 12) {
        *why = "item of an unsupported type (duplicates)";
        return KT_EFORMAT;
    }
    uint32_t pgno = 0, total = 0;
    if (!bdb32(db, page, db->pagesize, off + 4, &pgno) ||
        !bdb32(db, page, db->pagesize, off + 8, &total)) {
        *why = "item outside its page";
        return KT_EFORMAT;
    }
    if (total > KT_RPM_MAX_HEADER) {
        *why = "overflow item over the header size limit";
        return KT_EFORMAT;
    }
    while (db->item.len < total) {
        const uint8_t *ov = bdb_page(db, pgno);
        if (ov == NULL || ov[25] != BDB_P_OVERFLOW) {
            *why = "broken overflow page chain";
            return KT_EFORMAT;
        }
        uint32_t used = 0;
        if (!bdb16(db, ov, db->pagesize, 22, &used) || used > db->pagesize - BDB_PAGE_HDR ||
            used > total - db->item.len || used == 0) {
            *why = "overflow page with a bad length";
            return KT_EFORMAT;
        }
        int rc = kt_buf_append(&db->item, ov + BDB_PAGE_HDR, used);
        if (rc)
            return rc;
        if (!bdb32(db, ov, db->pagesize, 16, &pgno))
            pgno = 0;
    }
    return KT_OK;
}

static int bdb_walk(bdb *db, kt_pkg_run *r)
{
    kt_buf scratch = {0};
    size_t recno = 0;
    int rc = KT_OK;
    for (uint32_t bucket = 0; bucket <= db->maxbucket && rc == KT_OK; bucket++) {
        unsigned bits = 0;
        for (uint32_t b = bucket; b; b >>= 1)
            bits++;
        uint32_t pgno = bucket + db->spares[bits];
        for (size_t chain = 0; pgno != 0 && rc == KT_OK; chain++) {
            const uint8_t *page = bdb_page(db, pgno);
            if (page == NULL || (page[25] != BDB_P_HASH && page[25] != BDB_P_HASH_UNSORTED)) {
                rc = kt_pkgi_warn(r, "bucket %u: page %u is not a hash page", bucket, pgno);
                break;
            }
            uint32_t nent = 0, next = 0;
            if (!bdb16(db, page, db->pagesize, 20, &nent) ||
                !bdb32(db, page, db->pagesize, 16, &next) ||
                nent > (db->pagesize - BDB_PAGE_HDR) / 2) {
                rc = kt_pkgi_warn(r, "page %u: %u entries do not fit", pgno, nent);
                break;
            }
            for (uint32_t i = 0; i + 1 < nent && rc == KT_OK; i += 2) {
                uint32_t koff = 0, voff = 0, kend = db->pagesize;
                size_t at = BDB_PAGE_HDR + 2 * (size_t)i;
                const char *why = NULL;
                if (!bdb16(db, page, db->pagesize, at, &koff) ||
                    !bdb16(db, page, db->pagesize, at + 2, &voff) ||
                    (i > 0 && !bdb16(db, page, db->pagesize, at - 2, &kend)) || koff >= kend ||
                    voff >= koff || kend > db->pagesize) {
                    rc = kt_pkgi_warn(r, "page %u: entry %u: bad offsets", pgno, i / 2);
                    continue;
                }
                rc = bdb_item(db, page, koff, kend - koff, &why);
                if (rc == KT_EFORMAT) {
                    rc = kt_pkgi_warn(r, "page %u: entry %u: %s", pgno, i / 2, why);
                    continue;
                }
                if (rc)
                    break;
                if (db->item.len != 4) {
                    rc = kt_pkgi_warn(r, "page %u: entry %u: key of %zu bytes", pgno, i / 2,
                                      db->item.len);
                    continue;
                }
                uint32_t hnum = 0;
                if (!bdb32(db, db->item.data, db->item.len, 0, &hnum) || hnum == 0)
                    continue;
                rc = bdb_item(db, page, voff, koff - voff, &why);
                if (++recno > KT_RPM_MAX_PACKAGES) {
                    if (rc == KT_OK)
                        rc = kt_pkgi_warn(r, "more than %u packages: the rest is not read",
                                          KT_RPM_MAX_PACKAGES);
                    goto out;
                }
                if (rc == KT_EFORMAT)
                    rc = kt_pkgi_warn(r, "record %zu (hnum %u): %s", recno, hnum, why);
                else if (rc == KT_OK)
                    rc = rpm_record(r, recno, hnum, db->item.data, db->item.len, &scratch);
            }
            pgno = next;
        }
    }
out:
    kt_buf_release(&scratch);
    return rc;
}

static int rpmdb_bdb(kt_pkg_run *r, const uint8_t *data, size_t len, kt_error *err)
{
    bdb db = {.data = data, .len = len};
    uint32_t magic = 0, version = 0;
    bool meta = kt_rd_le32(data, len, 12, &magic);
    db.swapped = magic != BDB_HASH_MAGIC;
    /* 0x10 version, 0x14 page size, 0x20 last page, 0x48 max bucket, 0x60 spares */
    meta = meta && bdb32(&db, data, len, 16, &version) && bdb32(&db, data, len, 20, &db.pagesize) &&
           bdb32(&db, data, len, 32, &db.lastpage) && bdb32(&db, data, len, 72, &db.maxbucket);
    for (int i = 0; i < 32 && meta; i++)
        meta = bdb32(&db, data, len, 96 + 4 * (size_t)i, &db.spares[i]);
    if (!meta || len < 224)
        return kt_error_set(err, KT_EFORMAT, "Berkeley DB file shorter than its first page");
    if (version < 8 || version > 10)
        return kt_error_set(err, KT_EUNSUPPORTED, "Berkeley DB hash version %u", version);
    if (data[24] != 0)
        return kt_error_set(err, KT_EUNSUPPORTED, "encrypted Berkeley DB database");
    if (db.pagesize < 512 || db.pagesize > 65536 || (db.pagesize & (db.pagesize - 1)))
        return kt_error_set(err, KT_EFORMAT, "Berkeley DB page size %u", db.pagesize);
    if (len < db.pagesize)
        return kt_error_set(err, KT_EFORMAT, "Berkeley DB file shorter than its first page");
    int rc = kt_pkgi_confirm(r);
    if (rc)
        return rc;
    /* A cut-short file is read as far as it goes. */
    uint32_t pages = (uint32_t)(len / db.pagesize < UINT32_MAX ? len / db.pagesize : UINT32_MAX);
    if (db.lastpage >= pages) {
        rc = kt_pkgi_warn(r, "file holds %u of %u pages", pages, db.lastpage + 1);
        db.lastpage = pages - 1;
    }
    if (db.maxbucket > db.lastpage) {
        rc = kt_pkgi_warn(r, "%u hash buckets in %u pages", db.maxbucket + 1, db.lastpage);
        db.maxbucket = db.lastpage;
    }
    if (rc)
        return rc;
    db.seen = calloc((size_t)db.lastpage / 8 + 1, 1);
    if (db.seen == NULL)
        return KT_ENOMEM;
    rc = bdb_walk(&db, r);
    free(db.seen);
    kt_buf_release(&db.item);
    return rc;
}

int kt_pkg_parse_rpmdb(const uint8_t *data, size_t len, kt_pkg_cb cb, void *ctx,
                       kt_strlist *warnings, kt_error *err)
{
    kt_pkg_run r;
    kt_pkgi_init(&r, cb, ctx, warnings);
    int rc;
    if (len == 0) {
        rc = KT_OK;
    } else if (len > KT_RPMDB_MAX_SIZE) {
        rc = kt_error_set(err, KT_ELIMIT, "rpm database of %zu bytes (limit %zu)", len,
                          KT_RPMDB_MAX_SIZE);
    } else if (len >= 100 && memcmp(data, "SQLite format 3", 16) == 0) {
        rc = rpmdb_sqlite(&r, data, len, err);
    } else if (len >= 512 && bdb_magic(data, len, BDB_HASH_MAGIC)) {
        rc = rpmdb_bdb(&r, data, len, err);
    } else if (len >= 16 && bdb_magic(data, len, BDB_BTREE_MAGIC)) {
        rc = kt_error_set(err, KT_EFORMAT,
                          "Berkeley DB btree database: an rpm index, not the Packages file");
    } else if (len >= 4 && memcmp(data, "RpmP", 4) == 0) {
        rc = kt_error_set(err, KT_EUNSUPPORTED, "rpm ndb database (Packages.db) not supported");
    } else {
        rc = kt_error_set(err, KT_EFORMAT, "not an rpm database (neither SQLite nor Berkeley DB)");
    }
    return kt_pkgi_finish(&r, rc, err);
}

/* ---- NEVRA ---- */

static bool arch_ok(const char *p, size_t n)
{
    if (n == 0 || !((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

static const char *last_of(const char *p, const char *end, char c)
{
    for (const char *q = end; q > p; q--)
        if (q[-1] == c)
            return q - 1;
    return NULL;
}

int kt_rpm_split_nevra(const char *s, size_t len, kt_nevra *nevra, kt_buf *out)
{
    const char *end = s + len, *epoch = NULL;
    size_t epoch_n = 0;
    if (len == 0 || memchr(s, ' ', len) || memchr(s, '\t', len) || memchr(s, '\0', len))
        return KT_EFORMAT;
    /* yum writes "E:name-version-release.arch" */
    const char *colon = memchr(s, ':', len), *dash = memchr(s, '-', len);
    if (colon && (dash == NULL || colon < dash)) {
        if (colon == s || kt_pkgi_digits(s, (size_t)(colon - s)) < 0)
            return KT_EFORMAT;
        epoch = s;
        epoch_n = (size_t)(colon - s);
        s = colon + 1;
    }
    const char *dot = last_of(s, end, '.');
    const char *rel = last_of(s, end, '-');
    if (dot == NULL || rel == NULL || dot < rel || !arch_ok(dot + 1, (size_t)(end - dot - 1)))
        return KT_EFORMAT;
    const char *ver = last_of(s, rel, '-');
    if (ver == NULL || ver == s || rel == ver + 1 || dot == rel + 1)
        return KT_EFORMAT;
    /* dnf writes the epoch inside: "name-E:version-release.arch" */
    const char *vcolon = memchr(ver + 1, ':', (size_t)(rel - ver - 1));
    if (vcolon && (epoch || kt_pkgi_digits(ver + 1, (size_t)(vcolon - ver - 1)) < 0 ||
                   vcolon == ver + 1 || vcolon + 1 == rel))
        return KT_EFORMAT;
    int rc = KT_OK;
    out->len = 0;
    size_t o_name = kt_pkgi_put(out, s, (size_t)(ver - s), &rc);
    size_t o_ver = out->len;
    if (rc == KT_OK && epoch) {
        rc = kt_buf_append(out, epoch, epoch_n);
        if (rc == KT_OK)
            rc = kt_buf_append(out, ":", 1);
    }
    if (rc == KT_OK)
        rc = kt_buf_append(out, ver + 1, (size_t)(dot - ver - 1));
    if (rc == KT_OK)
        rc = kt_buf_append(out, "", 1);
    size_t o_arch = kt_pkgi_put(out, dot + 1, (size_t)(end - dot - 1), &rc);
    if (rc)
        return rc;
    nevra->name = kt_pkgi_at(out, o_name);
    nevra->version = kt_pkgi_at(out, o_ver);
    nevra->arch = kt_pkgi_at(out, o_arch);
    return KT_OK;
}

/* ---- dnf logs ---- */

static bool sp(char c)
{
    return c == ' ' || c == '\t';
}

/* "YYYY-MM-DDTHH:MM:SS[.fff][Z|+HHMM|+HH:MM]": UTC. */
static bool dnf_time(kt_span s, kt_time *t, size_t *used)
{
    const char *p = s.p;
    if (s.n < 20 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':')
        return false;
    int y = kt_pkgi_digits(p, 4), mo = kt_pkgi_digits(p + 5, 2), d = kt_pkgi_digits(p + 8, 2),
        h = kt_pkgi_digits(p + 11, 2), mi = kt_pkgi_digits(p + 14, 2),
        sec = kt_pkgi_digits(p + 17, 2);
    int64_t secs;
    if (!kt_pkgi_civil(y, mo, d, h, mi, sec, &secs))
        return false;
    size_t i = 19;
    if (i < s.n && p[i] == '.') {
        i++;
        while (i < s.n && p[i] >= '0' && p[i] <= '9')
            i++;
    }
    if (i < s.n && p[i] == 'Z') {
        i++;
    } else if (i < s.n && (p[i] == '+' || p[i] == '-')) {
        int sign = p[i] == '-' ? -1 : 1;
        if (s.n - i < 5)
            return false;
        int oh = kt_pkgi_digits(p + i + 1, 2), om;
        if (p[i + 3] == ':') {
            if (s.n - i < 6)
                return false;
            om = kt_pkgi_digits(p + i + 4, 2);
            i += 6;
        } else {
            om = kt_pkgi_digits(p + i + 3, 2);
            i += 5;
        }
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return false;
        secs -= sign * (oh * 3600 + om * 60);
    } else {
        return false;
    }
    if (i < s.n && !sp(p[i]))
        return false;
    *t = kt_time_from_unix(secs, 0);
    *used = i;
    return true;
}

typedef enum dnf_kind { DNF_NEW, DNF_OLD_SIDE, DNF_CLEANUP } dnf_kind;

static const struct {
    const char *word;
    kt_pkg_action action;
    dnf_kind kind;
} dnf_actions[] = {
    {"Installed", KT_PKG_INSTALL, DNF_NEW},   {"Install", KT_PKG_INSTALL, DNF_NEW},
    {"Upgrade", KT_PKG_UPGRADE, DNF_NEW},     {"Upgraded", KT_PKG_UPGRADE, DNF_OLD_SIDE},
    {"Downgrade", KT_PKG_DOWNGRADE, DNF_NEW}, {"Downgraded", KT_PKG_DOWNGRADE, DNF_OLD_SIDE},
    {"Reinstall", KT_PKG_REINSTALL, DNF_NEW}, {"Reinstalled", KT_PKG_REINSTALL, DNF_OLD_SIDE},
    {"Erase", KT_PKG_REMOVE, DNF_NEW},        {"Erased", KT_PKG_REMOVE, DNF_NEW},
    {"Removed", KT_PKG_REMOVE, DNF_NEW},      {"Obsoleted", KT_PKG_REMOVE, DNF_NEW},
    {"Cleanup", KT_PKG_UPGRADE, DNF_CLEANUP},
};

#define DNF_MAX_PENDING 4096

/* An event held until the old side of its upgrade shows, in line order. */
typedef struct dnf_held {
    kt_pkg_event e;
    kt_buf strings; /* name, version, arch, detail, old_version: offsets below */
    size_t name, version, arch, detail, old;
    bool waiting;
} dnf_held;

typedef struct dnf_queue {
    dnf_held *items;
    size_t head, count, cap; /* items[head .. head+count) */
} dnf_queue;

static int dnf_emit_head(dnf_queue *q, kt_pkg_run *r)
{
    dnf_held *h = &q->items[q->head];
    h->e.name = kt_pkgi_at(&h->strings, h->name);
    h->e.version = kt_pkgi_at(&h->strings, h->version);
    h->e.arch = kt_pkgi_at(&h->strings, h->arch);
    h->e.detail = kt_pkgi_at(&h->strings, h->detail);
    h->e.old_version = kt_pkgi_at(&h->strings, h->old);
    int rc = kt_pkgi_emit(r, &h->e);
    kt_buf_release(&h->strings);
    q->head++;
    q->count--;
    if (q->count == 0)
        q->head = 0;
    return rc;
}

/* Emit from the head: everything (all), or up to the first waiting event. */
static int dnf_drain(dnf_queue *q, kt_pkg_run *r, bool all)
{
    int rc = KT_OK;
    while (rc == KT_OK && q->count && (all || !q->items[q->head].waiting))
        rc = dnf_emit_head(q, r);
    return rc;
}

static dnf_held *dnf_push(dnf_queue *q)
{
    if (q->head + q->count == q->cap) {
        if (q->head) {
            memmove(q->items, q->items + q->head, q->count * sizeof *q->items);
            q->head = 0;
        } else {
            size_t cap = q->cap ? q->cap * 2 : 16;
            dnf_held *p = realloc(q->items, cap * sizeof *p);
            if (p == NULL)
                return NULL;
            q->items = p;
            q->cap = cap;
        }
    }
    dnf_held *h = &q->items[q->head + q->count++];
    memset(h, 0, sizeof *h);
    return h;
}

static void dnf_queue_release(dnf_queue *q)
{
    for (size_t i = 0; i < q->count; i++)
        kt_buf_release(&q->items[q->head + i].strings);
    free(q->items);
    memset(q, 0, sizeof *q);
}

static int dnf_line(kt_span line, size_t no, dnf_queue *q, kt_buf *scratch, kt_pkg_run *r)
{
    kt_time t;
    size_t used;
    if (!dnf_time(line, &t, &used))
        return KT_OK; /* continuation of a multi-line message */
    int rc = kt_pkgi_confirm(r);
    if (rc)
        return rc;
    const char *p = line.p + used, *end = line.p + line.n;
    if (memmem(p, (size_t)(end - p), "--- logging initialized ---", 27))
        return dnf_drain(q, r, true);
    /* the level word, with "[pid]" (dnf5) before or after it, then "Action:" */
    for (int words = 0, level = 0; words < 3 && !level; words++) {
        while (p < end && sp(*p))
            p++;
        level = p < end && *p != '[';
        while (p < end && !sp(*p))
            p++;
    }
    while (p < end && sp(*p))
        p++;
    if (p < end && *p == '[') {
        while (p < end && !sp(*p))
            p++;
        while (p < end && sp(*p))
            p++;
    }
    const char *w0 = p;
    while (p < end && *p != ':' && !sp(*p))
        p++;
    if (p == end || *p != ':' || p + 1 == end || !sp(p[1]))
        return KT_OK;
    kt_span word = {w0, (size_t)(p - w0)};
    size_t k = 0, nk = sizeof dnf_actions / sizeof dnf_actions[0];
    while (k < nk && !kt_span_eq(word, dnf_actions[k].word))
        k++;
    if (k == nk)
        return KT_OK;
    p++;
    while (p < end && sp(*p))
        p++;
    const char *n_end = end;
    while (n_end > p && sp(n_end[-1]))
        n_end--;
    kt_nevra nv;
    rc = kt_rpm_split_nevra(p, (size_t)(n_end - p), &nv, scratch);
    if (rc == KT_ENOMEM)
        return rc;
    if (rc)
        return kt_pkgi_warn(r, "line %zu: '%.*s' is not name-version-release.arch", no,
                            (int)(n_end - p > 200 ? 200 : n_end - p), p);

    if (dnf_actions[k].kind != DNF_NEW) {
        for (size_t i = 0; i < q->count; i++) {
            dnf_held *h = &q->items[q->head + i];
            if (!h->waiting || strcmp(kt_pkgi_at(&h->strings, h->name), nv.name) != 0 ||
                strcmp(kt_pkgi_at(&h->strings, h->arch), nv.arch) != 0)
                continue;
            h->waiting = false;
            h->old = kt_pkgi_put(&h->strings, nv.version, strlen(nv.version), &rc);
            return rc ? rc : dnf_drain(q, r, false);
        }
        if (dnf_actions[k].kind == DNF_CLEANUP)
            return KT_OK;
    }
    if (q->count >= DNF_MAX_PENDING && (rc = dnf_emit_head(q, r)))
        return rc;
    dnf_held *h = dnf_push(q);
    if (h == NULL)
        return KT_ENOMEM;
    bool old_side = dnf_actions[k].kind == DNF_OLD_SIDE;
    kt_span detail = {line.p, line.n};
    while (detail.n && sp(detail.p[detail.n - 1]))
        detail.n--;
    h->name = kt_pkgi_put(&h->strings, nv.name, strlen(nv.name), &rc);
    h->version =
        old_side ? KT_PKGI_NONE : kt_pkgi_put(&h->strings, nv.version, strlen(nv.version), &rc);
    h->old =
        old_side ? kt_pkgi_put(&h->strings, nv.version, strlen(nv.version), &rc) : KT_PKGI_NONE;
    h->arch = kt_pkgi_put(&h->strings, nv.arch, strlen(nv.arch), &rc);
    h->detail = kt_pkgi_put(&h->strings, detail.p, detail.n, &rc);
    h->waiting = !old_side && (dnf_actions[k].action == KT_PKG_UPGRADE ||
                               dnf_actions[k].action == KT_PKG_DOWNGRADE ||
                               dnf_actions[k].action == KT_PKG_REINSTALL);
    h->e = (kt_pkg_event){
        .action = dnf_actions[k].action,
        .has_time = true,
        .time = t,
        .precision = KT_PREC_SECOND,
        .line = no,
    };
    return rc ? rc : dnf_drain(q, r, false);
}

int kt_pkg_parse_dnf_log(const uint8_t *data, size_t len, kt_pkg_cb cb, void *ctx,
                         kt_strlist *warnings, kt_error *err)
{
    kt_pkg_run r;
    kt_pkgi_init(&r, cb, ctx, warnings);
    kt_lines it = {.data = data, .len = len};
    dnf_queue q = {0};
    kt_buf scratch = {0};
    bool seen_data = false;
    int rc = KT_OK;
    kt_span line;
    while (rc == KT_OK && kt_pkgi_next_line(&it, &line)) {
        size_t i = 0;
        while (i < line.n && sp(line.p[i]))
            i++;
        if (i == line.n)
            continue;
        seen_data = true;
        rc = dnf_line(line, it.no, &q, &scratch, &r);
    }
    if (rc == KT_OK)
        rc = dnf_drain(&q, &r, true);
    if (rc == KT_OK && seen_data && !r.confirmed)
        rc = kt_error_set(err, KT_EFORMAT, "not a dnf log: no line starts with an ISO time");
    dnf_queue_release(&q);
    kt_buf_release(&scratch);
    return kt_pkgi_finish(&r, rc, err);
}

/* ---- yum.log ---- */

/* "Mon DD HH:MM:SS " (DD may be space-padded): month 1..12, or 0. */
static int yum_stamp(kt_span s, int *d, int *h, int *mi, int *sec, size_t *used)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (s.n < 16)
        return 0;
    int mo = 0;
    for (int m = 0; m < 12; m++)
        if (memcmp(s.p, months + 3 * m, 3) == 0)
            mo = m + 1;
    if (mo == 0 || s.p[3] != ' ')
        return 0;
    size_t i = 4;
    if (s.p[i] == ' ')
        i++;
    size_t d0 = i;
    while (i < s.n && i < d0 + 2 && s.p[i] >= '0' && s.p[i] <= '9')
        i++;
    if (i == d0 || s.n - i < 10 || s.p[i] != ' ' || s.p[i + 3] != ':' || s.p[i + 6] != ':' ||
        !sp(s.p[i + 9]))
        return 0;
    *d = kt_pkgi_digits(s.p + d0, i - d0);
    *h = kt_pkgi_digits(s.p + i + 1, 2);
    *mi = kt_pkgi_digits(s.p + i + 4, 2);
    *sec = kt_pkgi_digits(s.p + i + 7, 2);
    if (*h < 0 || *mi < 0 || *sec < 0)
        return 0;
    *used = i + 10;
    return mo;
}

static const struct {
    const char *word;
    kt_pkg_action action;
} yum_actions[] = {
    {"Installed", KT_PKG_INSTALL},
    {"Updated", KT_PKG_UPGRADE},
    {"Erased", KT_PKG_REMOVE},
    {"Obsoleted", KT_PKG_REMOVE},
};

static int yum_line(kt_span line, size_t no, int year, kt_buf *scratch, kt_pkg_run *r)
{
    int d, h, mi, sec;
    size_t used;
    int mo = yum_stamp(line, &d, &h, &mi, &sec, &used);
    int64_t secs;
    if (mo == 0 || !kt_pkgi_civil(year, mo, d, h, mi, sec, &secs))
        return kt_pkgi_warn(r, "line %zu: no 'Mon DD HH:MM:SS' time", no);
    int rc = kt_pkgi_confirm(r);
    if (rc)
        return rc;
    const char *p = line.p + used, *end = line.p + line.n;
    const char *w0 = p;
    while (p < end && *p != ':' && !sp(*p))
        p++;
    if (p == end || *p != ':')
        return kt_pkgi_warn(r, "line %zu: no 'Action:' after the time", no);
    kt_span word = {w0, (size_t)(p - w0)};
    size_t k = 0, nk = sizeof yum_actions / sizeof yum_actions[0];
    while (k < nk && !kt_span_eq(word, yum_actions[k].word))
        k++;
    if (k == nk)
        return KT_OK;
    p++;
    while (p < end && sp(*p))
        p++;
    const char *n_end = end;
    while (n_end > p && sp(n_end[-1]))
        n_end--;
    kt_nevra nv = {0};
    rc = kt_rpm_split_nevra(p, (size_t)(n_end - p), &nv, scratch);
    if (rc == KT_ENOMEM)
        return rc;
    if (rc) {
        /* yum names an erased package alone: "Erased: kesl" */
        bool bare = n_end > p && yum_actions[k].action == KT_PKG_REMOVE &&
                    !memchr(p, ' ', (size_t)(n_end - p)) && !memchr(p, '\0', (size_t)(n_end - p));
        if (!bare)
            return kt_pkgi_warn(r, "line %zu: '%.*s' is not name-version-release.arch", no,
                                (int)(n_end - p > 200 ? 200 : n_end - p), p);
        rc = KT_OK;
        scratch->len = 0;
        size_t o = kt_pkgi_put(scratch, p, (size_t)(n_end - p), &rc);
        if (rc)
            return rc;
        nv = (kt_nevra){.name = kt_pkgi_at(scratch, o)};
    }
    kt_buf detail = {0};
    rc = kt_buf_append(&detail, line.p, line.n);
    if (rc)
        return rc;
    kt_pkg_event e = {
        .action = yum_actions[k].action,
        .name = nv.name,
        .version = nv.version,
        .arch = nv.arch,
        .has_time = true,
        .time = kt_time_from_unix(secs, 0),
        .local = true,
        .precision = KT_PREC_SECOND,
        .line = no,
        .detail = (const char *)detail.data,
    };
    rc = kt_pkgi_emit(r, &e);
    kt_buf_release(&detail);
    return rc;
}

int kt_pkg_parse_yum_log(const uint8_t *data, size_t len, int year_hint, kt_pkg_cb cb, void *ctx,
                         kt_strlist *warnings, kt_error *err)
{
    if (year_hint < 1970 || year_hint > 2200)
        return kt_error_set(err, KT_EARG, "year hint %d", year_hint);
    kt_pkg_run r;
    kt_pkgi_init(&r, cb, ctx, warnings);
    /* First pass: how many times the month goes backwards (a new year). */
    kt_lines it = {.data = data, .len = len};
    kt_span line;
    int prev = 0, rollovers = 0;
    while (kt_pkgi_next_line(&it, &line)) {
        int d, h, mi, sec;
        size_t used;
        int mo = yum_stamp(line, &d, &h, &mi, &sec, &used);
        if (mo == 0)
            continue;
        if (prev && mo < prev)
            rollovers++;
        prev = mo;
    }
    int year = year_hint - rollovers;
    kt_buf scratch = {0};
    bool seen_data = false;
    int rc = KT_OK;
    prev = 0;
    it = (kt_lines){.data = data, .len = len};
    while (rc == KT_OK && kt_pkgi_next_line(&it, &line)) {
        size_t i = 0;
        while (i < line.n && sp(line.p[i]))
            i++;
        if (i == line.n)
            continue;
        seen_data = true;
        int d, h, mi, sec;
        size_t used;
        int mo = yum_stamp(line, &d, &h, &mi, &sec, &used);
        if (mo) {
            if (prev && mo < prev)
                year++;
            prev = mo;
        }
        rc = yum_line(line, it.no, year, &scratch, &r);
    }
    if (rc == KT_OK && seen_data && !r.confirmed)
        rc = kt_error_set(err, KT_EFORMAT, "not a yum log: no line starts with 'Mon DD HH:MM:SS'");
    kt_buf_release(&scratch);
    return kt_pkgi_finish(&r, rc, err);
}
