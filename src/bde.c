/* BitLocker volumes: recognised by their volume header and first FVE
 * metadata block, unlocked with libbde (bde.h).
 *
 * The format (libbde's "BitLocker Drive Encryption (BDE) format"): a
 * Windows 7 and later volume starts with "\xeb\x58\x90" "-FVE-FS-", the
 * BitLocker identifier at 160 and the offsets of three FVE metadata blocks
 * at 176, 184 and 192 (from the volume's start). Each block is a 64-byte
 * header ("-FVE-FS-", version 2, the same three offsets, the offset of the
 * relocated boot sectors at 56), a 48-byte metadata header (metadata size,
 * version 1, the volume GUID at 16, the encryption method at 36, the
 * creation time at 40) and entries of 2-byte size, type, value type and
 * version: a VMK entry (type 2, value type 8) carries its key protector's
 * kind at 26 of its value.
 *
 * kavtrace reads that much itself, bounded, so `info` names the volume's
 * GUID, method and protectors without a key, and so libbde (20190102) is
 * given only a volume whose header and metadata fit it: the Vista form,
 * metadata outside the volume, an entry running past its block or an
 * unknown encryption method are refused with the reason. libbde derives
 * the keys (the recovery password's or user password's 1,048,576 SHA-256
 * rounds, the AES-CCM-wrapped VMK and FVEK) and decrypts the sectors
 * (AES-CBC with or without the Elephant diffuser, AES-XTS; 128 or 256
 * bits). An unlocked volume is a libtsk image of its own over libbde,
 * read through a libbfio handle on the encrypted bytes.
 */
#include "bfio_img.h" /* first: libbde.h's libbfio entry points */

#include <inttypes.h>
#include <libbde.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bde.h"
#include "kavtrace/bytes.h"

KT_LIBYAL_TEXT(libbde)

/* libbde's innermost failure into why: its first line only, also when the
 * backtrace did not fit (libbde_text leaves it whole then). */
static void bde_why(libbde_error_t **e, char *why, size_t len)
{
    libbde_text(e, why, len);
    why[strcspn(why, "\n")] = '\0';
}

#define BDE_BLOCK_HEADER 64
#define BDE_METADATA_HEADER 48
#define BDE_METADATA_MAX 65536 /* a block's area */
#define BDE_BOOT_BYTES 8192    /* the relocated boot sectors */

static const uint8_t bde_identifier[16] = {0x3b, 0xd6, 0x67, 0x49, 0x29, 0x2e, 0xd8, 0x4a,
                                           0x83, 0x99, 0xf6, 0xa3, 0x39, 0xe3, 0xd0, 0x01};

typedef struct name16 {
    uint16_t value;
    const char *name;
} name16;

static const name16 methods[] = {
    {0x8000, "AES-CBC-128 with diffuser"},
    {0x8001, "AES-CBC-256 with diffuser"},
    {0x8002, "AES-CBC-128"},
    {0x8003, "AES-CBC-256"},
    {0x8004, "AES-XTS-128"},
    {0x8005, "AES-XTS-256"},
};

static const name16 protectors[] = {
    {0x0000, "clear key"},         {0x0100, "TPM"},
    {0x0200, "startup key"},       {0x0500, "TPM and PIN"},
    {0x0800, "recovery password"}, {0x2000, "password"},
};

static const char *name_of(const name16 *t, size_t n, uint16_t v)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].value == v)
            return t[i].name;
    return NULL;
}

#define NAME_OF(t, v) name_of(t, sizeof t / sizeof t[0], v)

/* A GUID as stored (the first three groups little-endian) into text. */
static void guid_text(const uint8_t *g, char *out, size_t len)
{
    snprintf(out, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[3],
             g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13],
             g[14], g[15]);
}

/* The key protectors a volume has, by kind: a key is tried only on a
 * volume with a protector for it (libbde reports a key for a missing
 * protector as an error, not as a wrong key). */
#define STARTUP_MAX 8
typedef struct protect {
    bool recovery, password;
    uint8_t startup[STARTUP_MAX][16]; /* the startup key VMKs' identifiers */
    size_t nstartup;
} protect;

/* The first FVE metadata block's identifiers into out->what and its key
 * protectors into *has, or the reason libbde must not be given the volume
 * into out->refusal. h is the volume header, which says where the block
 * is. */
static void read_metadata(TSK_IMG_INFO *timg, int64_t off, int64_t len, const uint8_t *h,
                          kt_crypt_header *out, protect *has)
{
    uint64_t at[3];
    for (int i = 0; i < 3; i++) {
        kt_rd_le64(h, 512, 176 + 8 * (size_t)i, &at[i]);
        if (at[i] < 512 || at[i] > (uint64_t)len - BDE_BLOCK_HEADER - BDE_METADATA_HEADER) {
            snprintf(out->refusal, sizeof out->refusal,
                     "its FVE metadata block %d is at offset %" PRIu64 ", outside the volume",
                     i + 1, at[i]);
            return;
        }
    }
    uint8_t *b = malloc(BDE_METADATA_MAX);
    if (b == NULL) {
        kt_strlcpy(out->refusal, "out of memory", sizeof out->refusal);
        return;
    }
    size_t n = (uint64_t)len - at[0] < BDE_METADATA_MAX ? (size_t)((uint64_t)len - at[0])
                                                        : BDE_METADATA_MAX;
    if (tsk_img_read(timg, (TSK_OFF_T)(off + (int64_t)at[0]), (char *)b, n) != (ssize_t)n) {
        tsk_error_reset();
        snprintf(out->refusal, sizeof out->refusal, "its FVE metadata block 1 cannot be read");
        free(b);
        return;
    }
    uint16_t version = 0;
    uint32_t size = 0, mversion = 0, header = 0, method = 0;
    uint64_t boot = 0, o[3] = {0};
    kt_rd_le16(b, n, 10, &version);
    kt_rd_le64(b, n, 56, &boot);
    for (int i = 0; i < 3; i++)
        kt_rd_le64(b, n, 32 + 8 * (size_t)i, &o[i]);
    const uint8_t *m = b + BDE_BLOCK_HEADER;
    size_t mn = n - BDE_BLOCK_HEADER;
    kt_rd_le32(m, mn, 0, &size);
    kt_rd_le32(m, mn, 4, &mversion);
    kt_rd_le32(m, mn, 8, &header);
    kt_rd_le32(m, mn, 36, &method);
    if (memcmp(b, "-FVE-FS-", 8) != 0 || version != 2 || o[0] != at[0] || o[1] != at[1] ||
        o[2] != at[2] || mversion != 1 || header != BDE_METADATA_HEADER ||
        size < BDE_METADATA_HEADER || size > mn) {
        snprintf(out->refusal, sizeof out->refusal,
                 "its FVE metadata block 1 is not a valid version 2 block");
        free(b);
        return;
    }
    if (boot > (uint64_t)len - BDE_BOOT_BYTES) {
        snprintf(out->refusal, sizeof out->refusal,
                 "its relocated boot sectors are at offset %" PRIu64 ", outside the volume", boot);
        free(b);
        return;
    }
    const char *method_name = NAME_OF(methods, (uint16_t)method);
    char guid[40], kinds[96] = "";
    guid_text(m + 16, guid, sizeof guid);
    /* The entries: each within the metadata; the VMKs' protector kinds. */
    size_t k = 0, nvmk = 0;
    bool fvek = false;
    for (size_t e = BDE_METADATA_HEADER; e < size;) {
        uint16_t esize = 0, type = 0, value = 0, kind = 0;
        kt_rd_le16(m, size, e, &esize);
        kt_rd_le16(m, size, e + 2, &type);
        kt_rd_le16(m, size, e + 4, &value);
        if (esize == 0)
            break; /* padding (Windows 8 and later) */
        if (esize < 8 || esize > size - e) {
            snprintf(out->refusal, sizeof out->refusal,
                     "its FVE metadata entry at %zu runs past its block", e);
            free(b);
            return;
        }
        if (type == 3)
            fvek = true;
        if (type == 2 && value == 8 && esize >= 8 + 28 && kt_rd_le16(m, size, e + 8 + 26, &kind)) {
            const char *p = NAME_OF(protectors, kind);
            has->recovery = has->recovery || kind == 0x0800;
            has->password = has->password || kind == 0x2000;
            if (kind == 0x0200 && has->nstartup < STARTUP_MAX)
                memcpy(has->startup[has->nstartup++], m + e + 8, 16);
            char other[16];
            snprintf(other, sizeof other, "type 0x%04x", (unsigned)kind);
            k += (size_t)snprintf(kinds + k, sizeof kinds - k, "%s%s", nvmk ? ", " : "",
                                  p ? p : other);
            if (k >= sizeof kinds)
                k = sizeof kinds - 1;
            nvmk++;
        }
        e += esize;
    }
    snprintf(out->what, sizeof out->what, "BitLocker encrypted volume, GUID %s (%s; %s)", guid,
             method_name ? method_name : "unknown method", nvmk ? kinds : "no key protector");
    if (method_name == NULL)
        snprintf(out->refusal, sizeof out->refusal, "its encryption method 0x%04x is unknown",
                 (unsigned)method);
    else if (!fvek || nvmk == 0)
        snprintf(out->refusal, sizeof out->refusal, "its FVE metadata holds no %s",
                 fvek ? "key protector" : "encrypted FVEK");
    free(b);
}

/* kt_bde_detect, with the key protectors in *has. */
static bool examine(TSK_IMG_INFO *timg, int64_t off, int64_t len, const uint8_t *h,
                    kt_crypt_header *out, protect *has)
{
    memset(has, 0, sizeof *has);
    if (memcmp(h + 3, "-FVE-FS-", 8) != 0)
        return false;
    kt_strlcpy(out->kind, "bitlocker", sizeof out->kind);
    kt_strlcpy(out->what, "BitLocker encrypted volume", sizeof out->what);
    out->refusal[0] = '\0';
    uint16_t sector = 0;
    kt_rd_le16(h, 512, 11, &sector);
    if (memcmp(h, "\xeb\x58\x90", 3) != 0 || memcmp(h + 160, bde_identifier, 16) != 0)
        kt_strlcpy(out->refusal,
                   "it is not of the Windows 7 and later form (a Windows Vista volume, or "
                   "damaged), which is all kavtrace reads",
                   sizeof out->refusal);
    else if (sector != 512 && sector != 1024 && sector != 2048 && sector != 4096)
        snprintf(out->refusal, sizeof out->refusal, "its header claims %u bytes per sector",
                 (unsigned)sector);
    else if (len < BDE_METADATA_MAX)
        kt_strlcpy(out->refusal, "it is too small to hold its metadata", sizeof out->refusal);
    else
        read_metadata(timg, off, len, h, out, has);
    return true;
}

bool kt_bde_detect(TSK_IMG_INFO *timg, int64_t off, int64_t len, const uint8_t *h,
                   kt_crypt_header *out)
{
    protect has;
    return examine(timg, off, len, h, out, &has);
}

/* ---- the plaintext as a libtsk image ----------------------------------- */

typedef struct plain_image {
    TSK_IMG_INFO tsk; /* first: libtsk takes it for a TSK_IMG_INFO */
    libbfio_handle_t *io;
    libbde_volume_t *vol;
} plain_image;

static ssize_t plain_read(TSK_IMG_INFO *img, TSK_OFF_T off, char *buf, size_t len)
{
    plain_image *p = (plain_image *)img;
    libbde_error_t *e = NULL;
    ssize_t n = libbde_volume_read_buffer_at_offset(p->vol, buf, len, (off64_t)off, &e);
    if (n < 0) {
        char why[256];
        bde_why(&e, why, sizeof why);
        tsk_error_reset();
        tsk_error_set_errno(TSK_ERR_IMG_READ);
        tsk_error_set_errstr("%zu bytes at offset %" PRId64 " of the unlocked volume: %s", len,
                             (int64_t)off, why);
    }
    return n;
}

static void release(plain_image *p)
{
    if (p->vol) {
        libbde_volume_close(p->vol, NULL);
        libbde_volume_free(&p->vol, NULL);
    }
    libbfio_handle_free(&p->io, NULL);
    free(p);
}

static void plain_close(TSK_IMG_INFO *img)
{
    release((plain_image *)img);
}

static void plain_imgstat(TSK_IMG_INFO *img, FILE *out)
{
    fprintf(out, "unlocked BitLocker volume, %" PRId64 " bytes\n", (int64_t)img->size);
}

/* Give key to a new libbde volume and open it on io: 1 unlocked (in
 * *out), 0 the key does not unlock it (or is not one BitLocker takes),
 * -1 libbde refused the volume (why). */
/* Whether key is a .BEK file (a 48-byte header as the metadata header,
 * version 1, its size the file's, then one external key entry) whose key
 * identifier is one of the volume's startup key VMKs': only such a file
 * is handed to libbde. */
static bool startup_key_for(const kt_key *key, const protect *has)
{
    uint32_t size = 0, version = 0, header = 0;
    uint16_t type = 0, value = 0;
    const uint8_t *d = key->data;
    size_t n = key->len;
    if (n < 48 + 8 + 24 || n > 4096 || !kt_rd_le32(d, n, 0, &size) || size != n ||
        !kt_rd_le32(d, n, 4, &version) || version != 1 || !kt_rd_le32(d, n, 8, &header) ||
        header != 48 || !kt_rd_le16(d, n, 50, &type) || type != 6 ||
        !kt_rd_le16(d, n, 52, &value) || value != 9)
        return false;
    for (size_t i = 0; i < has->nstartup; i++)
        if (memcmp(d + 56, has->startup[i], 16) == 0)
            return true;
    return false;
}

/* Read the .BEK file key into vol, through a libbfio handle on its bytes. */
static int set_startup_key(libbde_volume_t *vol, const kt_key *key, libbde_error_t **e)
{
    libbfio_handle_t *mem = NULL;
    int set = -1;
    if (libbfio_memory_range_initialize(&mem, NULL) == 1 &&
        libbfio_memory_range_set(mem, key->data, key->len, NULL) == 1)
        set = libbde_volume_read_startup_key_file_io_handle(vol, mem, e);
    libbfio_handle_free(&mem, NULL);
    return set;
}

static int try_key(libbfio_handle_t *io, const protect *has, const kt_key *key,
                   libbde_volume_t **out, char *why, size_t why_len)
{
    char recovery[56];
    libbde_volume_t *vol = NULL;
    libbde_error_t *e = NULL;
    int set;
    if (libbde_volume_initialize(&vol, &e) != 1) {
        bde_why(&e, why, why_len);
        return -1;
    }
    /* libbde refuses the volume (as an error) for a key whose kind of
     * protector it lacks: such a key is not tried. */
    if (has->recovery &&
        (key->kind == KT_KEY_RECOVERY ||
         (key->kind == KT_KEY_FILE && kt_keys_recovery_text(key->data, key->len, recovery)))) {
        const uint8_t *text = key->kind == KT_KEY_RECOVERY ? key->data : (uint8_t *)recovery;
        set = libbde_volume_set_utf8_recovery_password(vol, text, 55, &e);
    } else if (has->password && key->kind == KT_KEY_PASSWORD) {
        set = libbde_volume_set_utf8_password(vol, key->data, key->len, &e);
    } else if (key->kind == KT_KEY_FILE && startup_key_for(key, has)) {
        set = set_startup_key(vol, key, &e);
    } else {
        set = 0; /* not a key this volume has a protector for */
    }
    memset(recovery, 0, sizeof recovery);
    if (set != 1) {
        libbde_error_free(&e);
        libbde_volume_free(&vol, NULL);
        return 0;
    }
    /* 1: opened (unlocked unless is_locked says so); 0: the key does not
     * unlock it; -1: not a volume libbde reads. */
    int opened = libbde_volume_open_file_io_handle(vol, io, LIBBDE_OPEN_READ, &e);
    int locked = opened == 1 ? libbde_volume_is_locked(vol, &e) : 1;
    if (opened < 0 || locked < 0) {
        bde_why(&e, why, why_len);
        libbde_volume_free(&vol, NULL);
        return -1;
    }
    libbde_error_free(&e);
    if (locked) {
        /* Also after an open that found no key: libbde keeps its metadata
         * until closed (libbde_volume_free alone leaks it). */
        libbde_volume_close(vol, NULL);
        libbde_volume_free(&vol, NULL);
        return 0;
    }
    *out = vol;
    return 1;
}

int kt_bde_unlock(TSK_IMG_INFO *timg, int64_t off, int64_t len, const kt_keys *keys,
                  TSK_IMG_INFO **plain, size_t *which, char *why, size_t why_len)
{
    why[0] = '\0';
    uint8_t h[512];
    kt_crypt_header hdr = {0};
    protect has;
    if (tsk_img_read(timg, (TSK_OFF_T)off, (char *)h, sizeof h) != (ssize_t)sizeof h) {
        tsk_error_reset();
        kt_strlcpy(why, "its header cannot be read", why_len);
        return KT_EFORMAT;
    }
    if (!examine(timg, off, len, h, &hdr, &has) || hdr.refusal[0]) {
        kt_strlcpy(why, hdr.refusal[0] ? hdr.refusal : "not a BitLocker volume", why_len);
        return KT_EFORMAT;
    }
    plain_image *p = calloc(1, sizeof *p);
    if (p == NULL)
        return KT_ENOMEM;
    kt_error e = {0};
    if (kt_bfio_img_open(timg, off, len, &p->io, &e)) {
        kt_strlcpy(why, e.msg, why_len);
        free(p);
        return KT_EFORMAT;
    }
    size_t i = 0;
    int r = 0;
    while (i < keys->count &&
           (r = try_key(p->io, &has, &keys->items[i], &p->vol, why, why_len)) == 0)
        i++;
    if (r <= 0) {
        release(p);
        return r < 0 ? KT_EFORMAT : KT_ENOTFOUND;
    }
    size64_t size = 0;
    if (libbde_volume_get_size(p->vol, &size, NULL) != 1 || size == 0 || size > (size64_t)len) {
        release(p);
        kt_strlcpy(why, "libbde gives no size for it, or one past its end", why_len);
        return KT_EFORMAT;
    }
    TSK_IMG_INFO *t =
        tsk_img_open_external(p, (TSK_OFF_T)size, 512, plain_read, plain_close, plain_imgstat);
    if (t == NULL) {
        tsk_error_reset();
        release(p);
        return KT_ENOMEM;
    }
    *which = i;
    *plain = t;
    return KT_OK;
}
