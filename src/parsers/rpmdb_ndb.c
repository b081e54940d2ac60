/* The RPM database in rpm's own "ndb" format: Packages.db (openSUSE
 * Tumbleweed and Leap 15.3+, SLES 15 SP3+; usr/lib/sysimage/rpm/).
 * Laid out as rpm's lib/backend/ndb/rpmpkg.c writes it, every number
 * little-endian:
 *
 *   file header, 32 bytes: 0x00 "RpmP", 0x04 version (0), 0x08 generation,
 *     0x0c slot pages, 0x10 next package index;
 *   slot pages of 4096 bytes from the start of the file (the header takes
 *     the first two slots): 16-byte slots "Slot", pkgidx, blkoff, blkcnt;
 *     blkoff 0 is a free slot;
 *   blobs after the slot pages, in 16-byte blocks: at blkoff * 16,
 *     blkcnt blocks: "BlbS", pkgidx, write time, length; the header blob
 *     (as rpmdb.sqlite stores it); zero padding; then the Adler-32 of
 *     everything before it, the length again and "BlbE".
 *
 * rpm zeroes an erased package's blob, so the file holds the installed
 * packages only. Records are read in package-index order. */
#include <stdlib.h>
#include <zlib.h>

#include "kavtrace/bytes.h"
#include "kavtrace/packages.h"
#include "packages_impl.h"
#include "rpm_impl.h"

#define NDB_HEADER 32
#define NDB_PAGE 4096
#define NDB_SLOT 16
#define NDB_BLK 16
#define NDB_BLOB_HEAD 16
#define NDB_BLOB_TAIL 12
#define NDB_SLOT_MAGIC 0x746f6c53u /* "Slot" */
#define NDB_BLOB_MAGIC 0x53626c42u /* "BlbS" */
#define NDB_TAIL_MAGIC 0x45626c42u /* "BlbE" */

typedef struct ndb_slot {
    uint32_t pkgidx, blkoff, blkcnt, slotno;
} ndb_slot;

static int by_pkgidx(const void *a, const void *b)
{
    const ndb_slot *x = a, *y = b;
    if (x->pkgidx != y->pkgidx)
        return x->pkgidx < y->pkgidx ? -1 : 1;
    return x->slotno < y->slotno ? -1 : x->slotno > y->slotno;
}

bool kt_rpmi_ndb_magic(const uint8_t *data, size_t len)
{
    uint32_t magic = 0;
    return kt_rd_le32(data, len, 0, &magic) && magic == KT_NDB_MAGIC;
}

/* One slot's blob: its header blob to the run, or a warning. */
static int ndb_blob(kt_pkg_run *r, const uint8_t *data, size_t len, const ndb_slot *s, size_t recno,
                    kt_buf *scratch)
{
    uint64_t off = (uint64_t)s->blkoff * NDB_BLK, size = (uint64_t)s->blkcnt * NDB_BLK;
    if (off + size > len)
        return kt_pkgi_warn(r,
                            "record %zu (pkgidx %u): blob of %u blocks at block %u past the "
                            "end of the file",
                            recno, s->pkgidx, s->blkcnt, s->blkoff);
    const uint8_t *b = data + off;
    uint32_t magic = 0, pkgidx = 0, blen = 0, tlen = 0, tmagic = 0, adler = 0;
    if (size < NDB_BLOB_HEAD + NDB_BLOB_TAIL || !kt_rd_le32(b, size, 0, &magic) ||
        !kt_rd_le32(b, size, 4, &pkgidx) || !kt_rd_le32(b, size, 12, &blen) ||
        magic != NDB_BLOB_MAGIC)
        return kt_pkgi_warn(r, "record %zu (pkgidx %u): no blob at block %u", recno, s->pkgidx,
                            s->blkoff);
    if (pkgidx != s->pkgidx)
        return kt_pkgi_warn(r, "record %zu (pkgidx %u): the blob at block %u is package %u's",
                            recno, s->pkgidx, s->blkoff, pkgidx);
    if (blen > KT_RPM_MAX_HEADER)
        return kt_pkgi_warn(r, "record %zu (pkgidx %u): blob of %u bytes (limit %zu)", recno,
                            s->pkgidx, blen, KT_RPM_MAX_HEADER);
    if ((NDB_BLOB_HEAD + (uint64_t)blen + NDB_BLOB_TAIL + NDB_BLK - 1) / NDB_BLK != s->blkcnt)
        return kt_pkgi_warn(r, "record %zu (pkgidx %u): blob length %u does not fill its %u blocks",
                            recno, s->pkgidx, blen, s->blkcnt);
    size_t tail = (size_t)size - NDB_BLOB_TAIL;
    if (!kt_rd_le32(b, size, tail, &adler) || !kt_rd_le32(b, size, tail + 4, &tlen) ||
        !kt_rd_le32(b, size, tail + 8, &tmagic) || tlen != blen || tmagic != NDB_TAIL_MAGIC)
        return kt_pkgi_warn(r, "record %zu (pkgidx %u): blob without its end marker", recno,
                            s->pkgidx);
    int rc = KT_OK;
    /* A damaged blob is still read (the header reader checks every
     * bound); the warning says it may be wrong. */
    if (adler32(1L, b, (uInt)tail) != adler)
        rc = kt_pkgi_warn(r, "record %zu (pkgidx %u): blob checksum does not match: read anyway",
                          recno, s->pkgidx);
    if (rc == KT_OK)
        rc = kt_rpmi_record(r, recno, s->pkgidx, b + NDB_BLOB_HEAD, blen, scratch);
    return rc;
}

int kt_rpmi_ndb(kt_pkg_run *r, const uint8_t *data, size_t len, kt_error *err)
{
    uint32_t version = 0, npages = 0;
    if (!kt_rd_le32(data, len, 4, &version) || !kt_rd_le32(data, len, 12, &npages) ||
        len < NDB_HEADER)
        return kt_error_set(err, KT_EFORMAT, "rpm ndb database shorter than its header");
    if (version != 0)
        return kt_error_set(err, KT_EUNSUPPORTED, "rpm ndb database version %u", version);
    if (npages == 0)
        return kt_error_set(err, KT_EFORMAT, "rpm ndb database without slot pages");
    int rc = kt_pkgi_confirm(r);
    if (rc)
        return rc;
    /* A cut-short file is read as far as it goes. */
    size_t have = len / NDB_PAGE;
    if (have < npages) {
        rc = kt_pkgi_warn(r, "file holds %zu of %u slot pages", have, npages);
        if (rc || have == 0)
            return rc;
        npages = (uint32_t)have;
    }
    size_t nslots = (size_t)npages * (NDB_PAGE / NDB_SLOT);
    ndb_slot *slots = malloc(nslots * sizeof *slots);
    if (slots == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    size_t used = 0, bad = 0;
    uint32_t first_blk = npages * (NDB_PAGE / NDB_BLK);
    for (size_t i = NDB_HEADER / NDB_SLOT; i < nslots && rc == KT_OK; i++) {
        size_t at = i * NDB_SLOT;
        uint32_t magic = 0;
        ndb_slot s = {.slotno = (uint32_t)i};
        if (!kt_rd_le32(data, len, at, &magic) || !kt_rd_le32(data, len, at + 4, &s.pkgidx) ||
            !kt_rd_le32(data, len, at + 8, &s.blkoff) ||
            !kt_rd_le32(data, len, at + 12, &s.blkcnt) || magic != NDB_SLOT_MAGIC) {
            bad++;
            continue;
        }
        if (s.blkoff == 0)
            continue; /* a free slot */
        if (s.pkgidx == 0 || s.blkcnt == 0 || s.blkoff < first_blk)
            rc = kt_pkgi_warn(r, "slot %zu: package %u at block %u (%u blocks) is not a record", i,
                              s.pkgidx, s.blkoff, s.blkcnt);
        else
            slots[used++] = s;
    }
    if (rc == KT_OK && bad)
        rc = kt_pkgi_warn(r, "%zu slots without their marker: skipped", bad);
    qsort(slots, used, sizeof *slots, by_pkgidx);
    kt_buf scratch = {0};
    for (size_t i = 0; i < used && rc == KT_OK; i++) {
        if (i + 1 > KT_RPM_MAX_PACKAGES) {
            rc =
                kt_pkgi_warn(r, "more than %u packages: the rest is not read", KT_RPM_MAX_PACKAGES);
            break;
        }
        if (i > 0 && slots[i].pkgidx == slots[i - 1].pkgidx) {
            rc = kt_pkgi_warn(r, "slot %u: package %u has a second slot: skipped", slots[i].slotno,
                              slots[i].pkgidx);
            continue;
        }
        rc = ndb_blob(r, data, len, &slots[i], i + 1, &scratch);
    }
    kt_buf_release(&scratch);
    free(slots);
    return rc;
}
