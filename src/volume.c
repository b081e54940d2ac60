#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "kavtrace/bytes.h"
#include "collection.h"
#include "kavtrace/volume.h"
#include "tsk_util.h"
#include "volume_impl.h"

int kt_volume_add(kt_volume_list *list, const kt_volume *v)
{
    if (list->count >= KT_VOLUME_MAX)
        return KT_ELIMIT;
    kt_volume *p = realloc(list->items, (list->count + 1) * sizeof *p);
    if (p == NULL)
        return KT_ENOMEM;
    list->items = p;
    list->items[list->count] = *v;
    list->items[list->count].index = (int)list->count;
    list->count++;
    return KT_OK;
}

void kt_volume_list_release(kt_volume_list *list)
{
    if (list == NULL)
        return;
    free(list->items);
    list->items = NULL;
    list->count = 0;
    for (size_t i = 0; i < list->ncrypts; i++)
        kt_crypt_free(list->crypts[i]);
    free(list->crypts);
    list->crypts = NULL;
    list->ncrypts = 0;
}

/* The filesystems kavtrace looks for, in order. libtsk's own detection
 * also tries YAFFS2, whose probe reads tens of megabytes of every volume:
 * a triage tool reads only what it needs. */
static const TSK_FS_TYPE_ENUM probe_types[] = {
    TSK_FS_TYPE_NTFS_DETECT, TSK_FS_TYPE_FAT_DETECT,     TSK_FS_TYPE_EXT_DETECT,
    TSK_FS_TYPE_HFS_DETECT,  TSK_FS_TYPE_ISO9660_DETECT, TSK_FS_TYPE_FFS_DETECT,
};

/* XFS, which libtsk 4.11 does not read (libfsxfs does, fs_xfs.c): the
 * superblock's magic "XFSB", a block size of 512 to 65536 bytes and its
 * base-2 logarithm agreeing with it (xfs_format.h: sb_blocksize at 4,
 * sb_blocklog at 120). */
static bool is_xfs(TSK_IMG_INFO *img, int64_t off)
{
    uint8_t sb[512];
    uint32_t bsize = 0;
    bool yes = tsk_img_read(img, (TSK_OFF_T)off, (char *)sb, sizeof sb) == (ssize_t)sizeof sb &&
               memcmp(sb, "XFSB", 4) == 0 && kt_rd_be32(sb, sizeof sb, 4, &bsize) && bsize >= 512 &&
               bsize <= 65536 && sb[120] < 32 && (1u << sb[120]) == bsize;
    tsk_error_reset();
    return yes;
}

void kt_volume_probe_fs(TSK_IMG_INFO *img, int64_t off, char *fs, size_t len)
{
    fs[0] = '\0';
    if (is_xfs(img, off)) {
        kt_strlcpy(fs, "xfs", len);
        return;
    }
    for (size_t i = 0; i < sizeof probe_types / sizeof probe_types[0]; i++) {
        TSK_FS_INFO *f = tsk_fs_open_img(img, off, probe_types[i]);
        if (f == NULL) {
            tsk_error_reset();
            continue;
        }
        kt_strlcpy(fs, tsk_fs_type_toname(f->ftype), len);
        tsk_fs_close(f);
        return;
    }
}

/* The volumes of an APFS container at off; returns how many were added. */
static int add_pool(TSK_IMG_INFO *img, int64_t off, int64_t len, kt_volume_list *list)
{
    const TSK_POOL_INFO *pool = tsk_pool_open_img_sing(img, off, TSK_POOL_TYPE_DETECT);
    if (pool == NULL) {
        tsk_error_reset();
        return 0;
    }
    int added = 0;
    for (const TSK_POOL_VOLUME_INFO *pv = pool->vol_list; pv != NULL; pv = pv->next) {
        kt_volume v = {.offset = off, .length = len, .pool_block = (int64_t)pv->block};
        kt_strlcpy(v.scheme, "apfs", sizeof v.scheme);
        kt_strlcpy(v.fs, "apfs", sizeof v.fs);
        snprintf(v.desc, sizeof v.desc, "APFS volume '%s'%s", pv->desc ? pv->desc : "",
                 (pv->flags & TSK_POOL_VOLUME_FLAG_ENCRYPTED) ? " (encrypted)" : "");
        if (kt_volume_add(list, &v) != KT_OK)
            break;
        added++;
    }
    tsk_pool_close(pool);
    return added;
}

/* Check a GPT header sector: signature and header CRC32 (UEFI 2.x, 5.3.2:
 * CRC over HeaderSize bytes with the CRC field at 0x10 zeroed). Returns
 * NULL when valid, else what is wrong. */
static const char *gpt_header_problem(const uint8_t *sec, size_t len)
{
    uint32_t hsize = 0, crc = 0;
    if (len < 92 || memcmp(sec, "EFI PART", 8) != 0 || !kt_rd_le32(sec, len, 12, &hsize) ||
        !kt_rd_le32(sec, len, 16, &crc))
        return "no 'EFI PART' signature";
    uint8_t copy[512];
    if (hsize < 92 || hsize > len || hsize > sizeof copy)
        return "bad header size";
    memcpy(copy, sec, hsize);
    memset(copy + 16, 0, 4);
    if ((uint32_t)crc32(0, copy, hsize) != crc)
        return "header CRC32 mismatch";
    return NULL;
}

/* A protective MBR (type 0xEE) whose GPT header is damaged: say so, since
 * libtsk then sees only the protective partition or nothing. */
static void diagnose_gpt(kt_image *img, TSK_IMG_INFO *timg, char *note, size_t note_len,
                         bool *backup_ok)
{
    note[0] = '\0';
    *backup_ok = false;
    unsigned ss = timg->sector_size ? timg->sector_size : 512;
    uint8_t mbr[512], hdr[512];
    if (tsk_img_read(timg, 0, (char *)mbr, sizeof mbr) != (ssize_t)sizeof mbr || mbr[510] != 0x55 ||
        mbr[511] != 0xAA)
        return;
    bool protective = false;
    for (int i = 0; i < 4; i++)
        protective = protective || mbr[446 + 16 * i + 4] == 0xEE;
    if (!protective || ss > sizeof hdr)
        return;
    if (tsk_img_read(timg, ss, (char *)hdr, ss) != (ssize_t)ss)
        return;
    const char *primary = gpt_header_problem(hdr, ss);
    if (primary == NULL)
        return;
    const char *backup = "unreadable";
    int64_t last = timg->size / ss - 1;
    if (last > 1 && tsk_img_read(timg, last * ss, (char *)hdr, ss) == (ssize_t)ss)
        backup = gpt_header_problem(hdr, ss);
    *backup_ok = backup == NULL;
    snprintf(note, note_len,
             "GPT header at LBA 1 is corrupt (%s); the backup header at LBA %lld %s%s", primary,
             (long long)last, backup ? "is also bad: " : "is valid", backup ? backup : "");
    kt_image_warn(img, "%s", note);
}

#define GPT_MAX_ENTRIES 1024

static bool place(kt_image *img, int64_t media, uint64_t start, uint64_t count, uint64_t ss,
                  int number, kt_volume *v);

/* The partitions of a GPT whose primary header is damaged, read from the
 * backup header in the last sector (UEFI 2.x 5.3: entries LBA at 0x48,
 * count at 0x50, entry size at 0x54, entries CRC32 at 0x58; an entry has
 * the type GUID at 0x00, first and last LBA at 0x20/0x28, a UTF-16LE name
 * at 0x38). Returns how many hold a filesystem. */
static int scan_backup_gpt(kt_image *img, TSK_IMG_INFO *timg, kt_volume_list *list)
{
    const unsigned ss = 512;
    uint8_t hdr[512];
    int64_t last = timg->size / ss - 1;
    if (tsk_img_read(timg, last * ss, (char *)hdr, ss) != (ssize_t)ss ||
        gpt_header_problem(hdr, ss) != NULL)
        return 0;
    uint64_t lba = 0;
    uint32_t count = 0, size = 0, crc = 0;
    if (!kt_rd_le64(hdr, ss, 0x48, &lba) || !kt_rd_le32(hdr, ss, 0x50, &count) ||
        !kt_rd_le32(hdr, ss, 0x54, &size) || !kt_rd_le32(hdr, ss, 0x58, &crc))
        return 0;
    if (count == 0 || count > GPT_MAX_ENTRIES || size < 128 || size > 1024 || size % 8 ||
        lba >= (uint64_t)last)
        return 0;
    size_t bytes = (size_t)count * size;
    uint8_t *entries = malloc(bytes);
    if (entries == NULL)
        return 0;
    int with_fs = 0;
    if (tsk_img_read(timg, (TSK_OFF_T)(lba * ss), (char *)entries, bytes) != (ssize_t)bytes ||
        (uint32_t)crc32(0, entries, (uInt)bytes) != crc) {
        kt_image_warn(img, "the backup GPT's partition entries are unreadable or fail their CRC32");
        goto out;
    }
    kt_strlcpy(list->scheme, "gpt", sizeof list->scheme);
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = entries + (size_t)i * size;
        bool used = false;
        for (int k = 0; k < 16 && !used; k++)
            used = e[k] != 0;
        uint64_t first = 0, end = 0;
        if (!used || !kt_rd_le64(e, size, 0x20, &first) || !kt_rd_le64(e, size, 0x28, &end) ||
            end < first || end > (uint64_t)last)
            continue;
        kt_volume v = {.pool_block = -1};
        kt_strlcpy(v.scheme, "gpt", sizeof v.scheme);
        char name[40];
        size_t n = 0;
        for (size_t k = 0; k < 36 && n + 1 < sizeof name; k++) {
            uint16_t c = 0;
            if (!kt_rd_le16(e, size, 0x38 + 2 * k, &c) || c == 0)
                break;
            name[n++] = c < 0x80 ? (char)c : '?';
        }
        name[n] = '\0';
        snprintf(v.desc, sizeof v.desc, "%s (from the backup GPT)", n ? name : "partition");
        if (!place(img, timg->size, first, end - first + 1, ss, (int)i + 1, &v))
            continue;
        kt_volume_probe_fs(timg, v.offset, v.fs, sizeof v.fs);
        with_fs += v.fs[0] != '\0';
        if (kt_volume_add(list, &v))
            break;
    }
    if (list->count)
        kt_image_warn(img, "partitions read from the backup GPT header");
out:
    free(entries);
    return with_fs;
}

/* Place a partition of `count` sectors of `ss` bytes from sector `start`
 * (numbers from the table, so anything) in media of `media` bytes: every
 * product and sum is checked for overflow. One whose end comes before its
 * start, or that starts past the end of the media, is skipped; one that
 * runs past the end is clamped to the bytes present. Each is a warning
 * saying which, naming the partition by its number in the table. Returns
 * false when the partition is skipped. */
static bool place(kt_image *img, int64_t media, uint64_t start, uint64_t count, uint64_t ss,
                  int number, kt_volume *v)
{
    uint64_t end, off, len;
    if (__builtin_add_overflow(start, count, &end)) {
        kt_image_warn(
            img, "partition %d ('%s') ends at sector %llu, before it starts at %llu: skipped",
            number, v->desc, (unsigned long long)(start + count - 1), (unsigned long long)start);
        return false;
    }
    if (__builtin_mul_overflow(start, ss, &off) || off >= (uint64_t)media) {
        kt_image_warn(img,
                      "partition %d ('%s') starts at sector %llu, past the end of the image "
                      "(%lld bytes): skipped",
                      number, v->desc, (unsigned long long)start, (long long)media);
        return false;
    }
    v->offset = (int64_t)off;
    if (__builtin_mul_overflow(count, ss, &len) || len > (uint64_t)(media - v->offset)) {
        kt_image_warn(img,
                      "partition %d ('%s', %llu sectors at byte %lld) runs past the end of the "
                      "image (%lld bytes): clamped to the %lld bytes present: truncated image?",
                      number, v->desc, (unsigned long long)count, (long long)v->offset,
                      (long long)media, (long long)(media - v->offset));
        len = (uint64_t)(media - v->offset);
    }
    v->length = (int64_t)len;
    return true;
}

/* A partition holding data (its first 64 KiB not all zero) in which no
 * filesystem kavtrace reads was recognised: a damaged boot sector, or a
 * filesystem or encryption kavtrace does not read. Its contents are not
 * scanned, which a reader must know. An empty one (Microsoft's reserved
 * partition, a partition never formatted) says nothing. */
static void warn_unrecognised(kt_image *img, TSK_IMG_INFO *timg, const kt_volume *v, int number,
                              int index)
{
    enum { HEAD = 64 * 1024 };
    int64_t want = v->length < HEAD ? v->length : HEAD;
    if (want <= 0 || v->offset >= timg->size)
        return;
    uint8_t *head = malloc((size_t)want);
    if (head == NULL)
        return;
    ssize_t got = tsk_img_read(timg, (TSK_OFF_T)v->offset, (char *)head, (size_t)want);
    tsk_error_reset();
    bool data = false;
    for (ssize_t i = 0; i < got && !data; i++)
        data = head[i] != 0;
    free(head);
    if (got <= 0)
        kt_image_warn(img, "partition %d (volume %d, '%s' at %lld): unreadable, not scanned",
                      number, index, v->desc, (long long)v->offset);
    else if (data)
        kt_image_warn(
            img,
            "partition %d (volume %d, '%s', %lld bytes at %lld) holds data but no "
            "filesystem "
            "kavtrace reads (NTFS, FAT, ext, XFS, HFS+, ISO 9660, UFS, APFS, LVM2) was recognised "
            "in it: a damaged boot sector or superblock, or a format or encryption "
            "kavtrace does not read; its contents are not scanned",
            number, index, v->desc, (long long)v->length, (long long)v->offset);
}

/* An encrypted volume (kavtrace/volume.h): v gets its kind and
 * description; with keys, each is tried and an unlocked volume's
 * plaintext (owned by list) becomes v's media, its filesystem probed.
 * Otherwise an image warning names the volume (where) and says why it is
 * not scanned. Never a key in a message: a key is named by its kind and
 * position. Returns KT_ENOMEM, else KT_OK. */
static int crypt_volume(kt_image *img, TSK_IMG_INFO *timg, const kt_keys *keys,
                        const kt_crypt_header *h, const char *where, kt_volume *v,
                        kt_volume_list *list)
{
    kt_strlcpy(v->encryption, h->kind, sizeof v->encryption);
    kt_strlcpy(v->desc, h->what, sizeof v->desc);
    size_t nkeys = keys ? keys->count : 0;
    if (nkeys == 0) {
        kt_image_warn(img,
                      "%s is a %s: no key was given (--password, --key-file, --recovery-password), "
                      "so its contents "
                      "are not scanned and the verdicts are left open",
                      where, h->what);
        return KT_OK;
    }
    if (h->refusal[0]) {
        kt_image_warn(img,
                      "%s is a %s that kavtrace cannot unlock: %s; its contents are not "
                      "scanned and the verdicts are left open",
                      where, h->what, h->refusal);
        return KT_OK;
    }
    kt_crypt *c = NULL;
    size_t which = 0;
    char why[256];
    int rc = kt_crypt_unlock(timg, v->offset, v->length, keys, &c, &which, why, sizeof why);
    if (rc == KT_ENOMEM)
        return rc;
    if (rc == KT_ENOTFOUND) {
        kt_image_warn(img,
                      "%s is a %s: none of the %zu key%s given unlocks it (a wrong password, "
                      "recovery password or key file), so its contents are not scanned and the "
                      "verdicts are left open",
                      where, h->what, nkeys, nkeys == 1 ? "" : "s");
        return KT_OK;
    }
    if (rc) {
        kt_image_warn(img,
                      "%s is a %s that %s cannot open (%s): its contents are not scanned "
                      "and the verdicts are left open",
                      where, h->what, strcmp(h->kind, "bitlocker") == 0 ? "libbde" : "libluksde",
                      why[0] ? why : "refused");
        return KT_OK;
    }
    kt_crypt **p = realloc(list->crypts, (list->ncrypts + 1) * sizeof *p);
    if (p == NULL) {
        kt_crypt_free(c);
        return KT_ENOMEM;
    }
    list->crypts = p;
    list->crypts[list->ncrypts++] = c;
    v->crypt = c;
    char name[32];
    kt_keys_name(keys, which, name, sizeof name);
    kt_volume_probe_fs(kt_crypt_tsk(c), 0, v->fs, sizeof v->fs);
    size_t n = strlen(v->desc);
    snprintf(v->desc + n, sizeof v->desc - n, ", unlocked");
    if (!v->fs[0])
        kt_image_warn(img,
                      "%s is a %s, unlocked with %s, but no filesystem kavtrace reads was "
                      "recognised in it (LVM2 inside an encrypted volume is not read): its "
                      "contents are not scanned",
                      where, h->what, name);
    return KT_OK;
}

TSK_IMG_INFO *kt_volume_media(kt_image *img, const kt_volume *vol, int64_t *offset)
{
    if (vol->crypt) {
        *offset = 0;
        return kt_crypt_tsk(vol->crypt);
    }
    *offset = vol->offset;
    return kt_image_tsk(img);
}

/* libtsk gives up on a whole MBR when one table in the extended chain is
 * unreadable (a truncated image). Fall back to the four primary entries,
 * which sit in sector 0, so what is left of the disk is still analysed. */
static int scan_primary_mbr(kt_image *img, TSK_IMG_INFO *timg, const uint8_t *mbr, const char *why,
                            kt_volume_list *list)
{
    if (mbr[510] != 0x55 || mbr[511] != 0xAA)
        return 0;
    int with_fs = 0;
    for (int i = 0; i < 4; i++) {
        const uint8_t *e = mbr + 446 + 16 * i;
        uint8_t type = e[4];
        uint32_t start = 0, count = 0;
        if (!kt_rd_le32(e, 16, 8, &start) || !kt_rd_le32(e, 16, 12, &count) ||
            (e[0] != 0 && e[0] != 0x80) || type == 0 || type == 0xEE || count == 0)
            continue;
        if (type == 0x05 || type == 0x0F || type == 0x85)
            continue; /* the extended container itself holds no filesystem */
        kt_volume v = {.pool_block = -1};
        kt_strlcpy(v.scheme, "dos", sizeof v.scheme);
        snprintf(v.desc, sizeof v.desc, "primary partition %d (0x%02x)", i + 1, type);
        if (!place(img, timg->size, start, count, 512, i + 1, &v))
            continue;
        kt_volume_probe_fs(timg, v.offset, v.fs, sizeof v.fs);
        with_fs += v.fs[0] != '\0';
        if (kt_volume_add(list, &v))
            break;
    }
    if (with_fs) {
        kt_strlcpy(list->scheme, "dos", sizeof list->scheme);
        kt_image_warn(img,
                      "the partition table could not be read in full (%s); using the "
                      "primary MBR entries only",
                      why[0] ? why : "libtsk refused it");
    } else {
        kt_volume_list_release(list);
    }
    return with_fs;
}

/* The partition's number as Linux gives it: its GPT entry or MBR slot
 * from 1, the logical partitions of an extended chain from 5. */
static int number(const TSK_VS_INFO *vs, const TSK_VS_PART_INFO *p)
{
    int slot = (uint8_t)p->slot_num;
    if (vs->vstype == TSK_VS_TYPE_DOS && p->table_num > 0)
        return 4 + p->table_num;
    return slot + 1;
}

static int scan_partitions(kt_image *img, TSK_IMG_INFO *timg, TSK_VS_INFO *vs, const kt_keys *keys,
                           kt_volume_list *list)
{
    uint64_t bs = vs->block_size;
    int with_fs = 0;
    kt_strlcpy(list->scheme,
               vs->vstype == TSK_VS_TYPE_GPT   ? "gpt"
               : vs->vstype == TSK_VS_TYPE_DOS ? "dos"
                                               : tsk_vs_type_toname(vs->vstype),
               sizeof list->scheme);
    for (TSK_PNUM_T i = 0; i < vs->part_count; i++) {
        const TSK_VS_PART_INFO *p = tsk_vs_part_get(vs, i);
        if (p == NULL || !(p->flags & TSK_VS_PART_FLAG_ALLOC))
            continue;
        kt_volume v = {.pool_block = -1};
        kt_strlcpy(v.scheme, list->scheme, sizeof v.scheme);
        kt_strlcpy(v.desc, p->desc ? p->desc : "", sizeof v.desc);
        if (!place(img, timg->size, p->start, p->len, bs, number(vs, p), &v))
            continue;
        kt_volume_probe_fs(timg, v.offset, v.fs, sizeof v.fs);
        if (v.fs[0] == '\0' && add_pool(timg, v.offset, v.length, list) > 0) {
            with_fs++;
            continue;
        }
        if (v.fs[0] == '\0' && kt_lvm_is_pv(timg, v.offset, v.length)) {
            char where[160];
            snprintf(where, sizeof where, "partition %d ('%s')", number(vs, p), v.desc);
            int n = kt_lvm_add_volumes(img, timg, v.offset, v.length, where, list);
            if (n < 0)
                return n;
            with_fs += n;
            continue;
        }
        kt_crypt_header ch;
        char where[320];
        if (v.fs[0]) {
            with_fs++;
        } else if (kt_crypt_detect(timg, v.offset, v.length, &ch)) {
            snprintf(where, sizeof where, "partition %d (volume %d, '%s', %lld bytes at %lld)",
                     number(vs, p), (int)list->count, v.desc, (long long)v.length,
                     (long long)v.offset);
            int rc = crypt_volume(img, timg, keys, &ch, where, &v, list);
            if (rc)
                return rc;
            with_fs += v.fs[0] != '\0';
        } else {
            warn_unrecognised(img, timg, &v, number(vs, p), (int)list->count);
        }
        int rc = kt_volume_add(list, &v);
        if (rc)
            return rc;
    }
    return with_fs;
}

int kt_volumes_scan(kt_image *img, kt_volume_list *out, kt_error *err)
{
    return kt_volumes_scan_keys(img, NULL, out, err);
}

int kt_volumes_scan_keys(kt_image *img, const kt_keys *keys, kt_volume_list *out, kt_error *err)
{
    kt_volume_list list = {0};
    const kt_image_info *info = kt_image_get_info(img);
    int rc = KT_OK;

    const kt_collection *coll = kt_image_collection(img);
    if (coll->kind != KT_COLL_NONE) {
        /* One volume per collected root. */
        const char *kind = kt_collection_kind_name(coll->kind);
        kt_strlcpy(list.scheme, kind, sizeof list.scheme);
        for (size_t i = 0; i < coll->nroots && rc == KT_OK; i++) {
            const kt_collection_root *r = &coll->roots[i];
            kt_volume v = {.pool_block = -1, .collection_root = (int)i + 1};
            kt_strlcpy(v.scheme, kind, sizeof v.scheme);
            kt_strlcpy(v.fs, info->format == KT_IMG_DIR ? "dir" : "archive", sizeof v.fs);
            snprintf(v.desc, sizeof v.desc, "%s %s, collected in '%s'%s",
                     isalpha((unsigned char)r->name[0]) ? "drive" : "root", r->name, r->prefix[0],
                     r->nprefix > 1 ? " and more" : "");
            rc = kt_volume_add(&list, &v);
        }
        goto done;
    }
    if (info->format == KT_IMG_DIR) {
        kt_volume v = {.pool_block = -1};
        kt_strlcpy(v.scheme, "dir", sizeof v.scheme);
        kt_strlcpy(v.fs, "dir", sizeof v.fs);
        kt_strlcpy(v.desc, "directory tree", sizeof v.desc);
        kt_strlcpy(list.scheme, "dir", sizeof list.scheme);
        rc = kt_volume_add(&list, &v);
        goto done;
    }

    TSK_IMG_INFO *timg = kt_image_tsk(img);
    uint8_t first[512];
    if (tsk_img_read(timg, 0, (char *)first, sizeof first) != (ssize_t)sizeof first) {
        rc = kt_tsk_error(err, KT_EIO, "cannot read the first sector (damaged or truncated image)");
        goto done;
    }
    char gpt_note[256];
    bool backup_ok = false;
    diagnose_gpt(img, timg, gpt_note, sizeof gpt_note, &backup_ok);

    int with_fs = 0;
    /* A protective MBR means GPT: ask for it directly. libtsk's own
     * detection would also open (and leak) the protective DOS table. */
    bool protective = false;
    if (first[510] == 0x55 && first[511] == 0xAA)
        for (int i = 0; i < 4; i++)
            protective = protective || first[446 + 16 * i + 4] == 0xEE;
    TSK_VS_INFO *vs = NULL;
    if (protective)
        vs = gpt_note[0] ? NULL : tsk_vs_open(timg, 0, TSK_VS_TYPE_GPT);
    else
        vs = tsk_vs_open(timg, 0, TSK_VS_TYPE_DETECT);
    bool have_vs = vs != NULL;
    if (vs == NULL && gpt_note[0] && backup_ok) {
        with_fs = scan_backup_gpt(img, timg, &list);
        if (with_fs > 0)
            goto done;
        kt_volume_list_release(&list);
    }
    if (vs != NULL) {
        with_fs = scan_partitions(img, timg, vs, keys, &list);
        tsk_vs_close(vs);
        if (with_fs < 0) {
            rc = kt_error_set(err, with_fs, "too many volumes");
            goto done;
        }
    }
    char vs_error[160] = "";
    if (!have_vs && tsk_error_get())
        kt_strlcpy(vs_error, tsk_error_get(), sizeof vs_error);
    for (char *p = vs_error; *p; p++)
        if (*p == '\n')
            *p = ' ';
    tsk_error_reset();
    if (with_fs > 0)
        goto done;

    /* No partition with a filesystem: a bare filesystem or container. */
    char fs[16];
    kt_volume_probe_fs(timg, 0, fs, sizeof fs);
    if (fs[0]) {
        kt_volume_list_release(&list);
        kt_volume v = {.offset = 0, .length = info->size, .pool_block = -1};
        kt_strlcpy(v.scheme, "none", sizeof v.scheme);
        kt_strlcpy(v.fs, fs, sizeof v.fs);
        kt_strlcpy(v.desc, "whole image (no partition table)", sizeof v.desc);
        kt_strlcpy(list.scheme, "none", sizeof list.scheme);
        rc = kt_volume_add(&list, &v);
        goto done;
    }
    if (list.count == 0 && !have_vs && kt_lvm_is_pv(timg, 0, info->size)) {
        kt_strlcpy(list.scheme, "lvm", sizeof list.scheme);
        int n = kt_lvm_add_volumes(img, timg, 0, info->size, "the whole image", &list);
        if (n < 0) {
            rc = kt_error_set(err, n, n == KT_ENOMEM ? "out of memory" : "too many volumes");
            goto done;
        }
        if (list.count)
            goto done;
    }
    if (list.count == 0 && !have_vs && !gpt_note[0] &&
        scan_primary_mbr(img, timg, first, vs_error, &list) > 0)
        goto done;
    if (list.count == 0) {
        kt_volume_list_release(&list);
        kt_strlcpy(list.scheme, "none", sizeof list.scheme);
        if (add_pool(timg, 0, info->size, &list) > 0)
            goto done;
    }
    kt_crypt_header ch;
    if (list.count == 0 && kt_crypt_detect(timg, 0, info->size, &ch)) {
        kt_volume v = {.offset = 0, .length = info->size, .pool_block = -1};
        kt_strlcpy(v.scheme, "none", sizeof v.scheme);
        kt_strlcpy(list.scheme, "none", sizeof list.scheme);
        rc = crypt_volume(img, timg, keys, &ch, "the whole image (no partition table)", &v, &list);
        if (rc == KT_OK)
            rc = kt_volume_add(&list, &v);
        if (rc)
            rc = kt_error_set(err, rc, rc == KT_ENOMEM ? "out of memory" : "too many volumes");
        goto done;
    }
    if (list.count == 0) {
        if (gpt_note[0])
            rc = kt_error_set(err, KT_EFORMAT, "no volume could be read: %s", gpt_note);
        else if (kt_image_warnings(img)->count)
            rc = kt_error_set(err, KT_EFORMAT, "no partition table or filesystem could be read: %s",
                              kt_image_warnings(img)->items[0]);
        else
            rc = kt_error_set(err, KT_EFORMAT,
                              "no partition table or filesystem recognised (%lld bytes): not a "
                              "disk image, or a format kavtrace does not read",
                              (long long)info->size);
        goto done;
    }
    kt_image_warn(img, "no partition holds a filesystem that kavtrace recognises");

done:
    if (rc) {
        kt_volume_list_release(&list);
        return rc;
    }
    *out = list;
    return KT_OK;
}
