/* The RPM database as a Berkeley DB hash file (Packages, RHEL <= 8).
 *
 * Page 0 is the hash metadata page; bucket pages hold pairs of items (key,
 * data) through an index of 16-bit offsets; large items live on chains of
 * overflow pages. Layouts as Berkeley DB's dbinc/db_page.h, followed the
 * way rpm's read-only reader (lib/backend/bdb_ro.c) walks them. The key is
 * the header number in the database's byte order; record 0 is rpm's
 * counter, not a header. */
#include <stdlib.h>

#include "kavtrace/bytes.h"
#include "kavtrace/packages.h"
#include "packages_impl.h"
#include "rpm_impl.h"

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
bool kt_rpmi_bdb_magic(const uint8_t *data, size_t len, uint32_t magic)
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
                    rc = kt_rpmi_record(r, recno, hnum, db->item.data, db->item.len, &scratch);
            }
            pgno = next;
        }
    }
out:
    kt_buf_release(&scratch);
    return rc;
}

int kt_rpmi_bdb(kt_pkg_run *r, const uint8_t *data, size_t len, kt_error *err)
{
    bdb db = {.data = data, .len = len};
    uint32_t magic = 0, version = 0;
    bool meta = kt_rd_le32(data, len, 12, &magic);
    db.swapped = magic != KT_BDB_HASH_MAGIC;
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
