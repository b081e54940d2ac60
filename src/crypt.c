/* Encrypted volumes: recognised by their headers, LUKS1 unlocked
 * (volume_impl.h), BitLocker with libbde (bde.c).
 *
 * kavtrace reads LUKS1 volumes with cipher "aes" in the modes and key
 * sizes of luks_modes below, a hash of SHA-1, SHA-256 or SHA-512, a
 * payload and key material inside the volume, and PBKDF2 iteration counts
 * under a limit (a forged count would hang the scan). Anything else is
 * refused from the header, with the reason.
 *
 * The master key is recovered from the key slots here (below: libluksde
 * takes only UTF-8 passphrases and only the first slot). The payload is
 * then decrypted by Debian 12's libluksde (20200205) where it reads the
 * volume right, and by kavtrace itself (luks_sectors.c, nettle) where it
 * does not: with a 512-bit XTS key (cryptsetup 2.x's default) its key
 * slot code overruns a 32-byte stack buffer and aborts the process
 * (luksdeinfo: "stack smashing detected"), a 192-bit CBC key it refuses
 * (and its key slot code corrupts the heap), and CBC-ESSIV with a 128-bit
 * key it opens but decrypts wrong. Such a header is never handed to it.
 * Either way an unlocked volume is a libtsk image of its own (its
 * plaintext), which every filesystem reader opens at offset 0.
 */
#include "bfio_img.h" /* first: libluksde.h's libbfio entry points */

#include <inttypes.h>
#include <libluksde.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/pbkdf2.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>

#include "bde.h"
#include "kavtrace/bytes.h"
#include "luks_sectors.h"
#include "volume_impl.h"

KT_LIBYAL_TEXT(libluksde)

#define LUKS_HEADER 592
#define LUKS_SLOTS 8
#define LUKS_SLOT_ACTIVE 0x00AC71F3u
#define LUKS_MAX_STRIPES 4000
#define LUKS_MAX_ITERATIONS 20000000u

struct kt_crypt {
    libbfio_handle_t *io;    /* NULL when kavtrace decrypts */
    libluksde_volume_t *vol; /* likewise */
    TSK_IMG_INFO *timg;      /* the plaintext, owned */
};

/* The LUKS1 modes kavtrace reads (cipher "aes"), with their key sizes,
 * and whether libluksde 20200205 decrypts the payload: it does so right
 * where true (shown on a volume of each, truth/luks-modes.tsv); kavtrace
 * decrypts the rest (see above). */
typedef struct luks_mode {
    const char *mode;
    uint32_t key_bytes;
    kt_luks_spec spec;
    bool libluksde;
} luks_mode;

static const luks_mode luks_modes[] = {
    {"xts-plain64", 32, {true, KT_LUKS_IV_PLAIN64, 32}, true},
    {"xts-plain64", 64, {true, KT_LUKS_IV_PLAIN64, 64}, false},
    {"xts-plain", 32, {true, KT_LUKS_IV_PLAIN, 32}, true},
    {"xts-plain", 64, {true, KT_LUKS_IV_PLAIN, 64}, false},
    {"cbc-essiv:sha256", 16, {false, KT_LUKS_IV_ESSIV_SHA256, 16}, false},
    {"cbc-essiv:sha256", 24, {false, KT_LUKS_IV_ESSIV_SHA256, 24}, false},
    {"cbc-essiv:sha256", 32, {false, KT_LUKS_IV_ESSIV_SHA256, 32}, true},
    {"cbc-plain64", 16, {false, KT_LUKS_IV_PLAIN64, 16}, true},
    {"cbc-plain64", 24, {false, KT_LUKS_IV_PLAIN64, 24}, false},
    {"cbc-plain64", 32, {false, KT_LUKS_IV_PLAIN64, 32}, true},
    {"cbc-plain", 16, {false, KT_LUKS_IV_PLAIN, 16}, true},
    {"cbc-plain", 24, {false, KT_LUKS_IV_PLAIN, 24}, false},
    {"cbc-plain", 32, {false, KT_LUKS_IV_PLAIN, 32}, true},
};

/* The row of luks_modes for cipher-mode with kb key bytes; NULL: not read. */
static const luks_mode *luks_mode_of(const char *cipher, const char *mode, uint32_t kb)
{
    if (strcmp(cipher, "aes") != 0)
        return NULL;
    for (size_t i = 0; i < sizeof luks_modes / sizeof luks_modes[0]; i++)
        if (strcmp(mode, luks_modes[i].mode) == 0 && kb == luks_modes[i].key_bytes)
            return &luks_modes[i];
    return NULL;
}

/* n bytes of a header's text field into out: up to its NUL, anything but
 * printable ASCII as '?'. */
static void printable(char *out, const uint8_t *in, size_t n, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < n && in[i] && o + 1 < len; i++)
        out[o++] = in[i] >= 0x20 && in[i] < 0x7f ? (char)in[i] : '?';
    out[o] = '\0';
}

static bool one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

/* Why kavtrace will not unlock this LUKS1 header ("" when it may).
 * The header's fields (LUKS1 On-Disk Format 1.2.3, big-endian): cipher
 * name at 8, mode at 40, hash at 72 (32 bytes each), payload offset in
 * sectors at 104, key bytes at 108, master key digest iterations at 164,
 * then 8 key slots of 48 bytes from 208 (active, iterations, salt[32],
 * key material sector, stripes). */
static void luks1_refusal(const uint8_t *h, int64_t len, char *why, size_t why_len)
{
    static const char *const hashes[] = {"sha1", "sha256", "sha512", NULL};
    char cipher[33], mode[33], hash[33];
    printable(cipher, h + 8, 32, sizeof cipher);
    printable(mode, h + 40, 32, sizeof mode);
    printable(hash, h + 72, 32, sizeof hash);
    uint32_t payload = 0, kb = 0, mk_iter = 0;
    kt_rd_be32(h, LUKS_HEADER, 104, &payload);
    kt_rd_be32(h, LUKS_HEADER, 108, &kb);
    kt_rd_be32(h, LUKS_HEADER, 164, &mk_iter);
    why[0] = '\0';
    if (luks_mode_of(cipher, mode, kb) == NULL) {
        snprintf(why, why_len,
                 "the cipher %s-%s with a %u-bit key is not one kavtrace reads (aes with "
                 "xts-plain64 or xts-plain, 256- or 512-bit keys; cbc-essiv:sha256, cbc-plain64 "
                 "or cbc-plain, 128- to 256-bit keys)",
                 cipher, mode, (unsigned)(kb * 8));
        return;
    }
    if (!one_of(hash, hashes)) {
        snprintf(why, why_len, "the hash %s is not one kavtrace reads (sha1, sha256, sha512)",
                 hash);
        return;
    }
    if ((int64_t)payload * 512 + 512 > len) { /* not one sector of payload */
        snprintf(why, why_len, "its payload offset (sector %u) is past its end", (unsigned)payload);
        return;
    }
    if (mk_iter == 0 || mk_iter > LUKS_MAX_ITERATIONS) {
        snprintf(why, why_len, "its master key digest claims %u PBKDF2 iterations",
                 (unsigned)mk_iter);
        return;
    }
    int active = 0;
    for (int s = 0; s < LUKS_SLOTS; s++) {
        uint32_t state = 0, iter = 0, material = 0, stripes = 0;
        size_t at = 208 + 48 * (size_t)s;
        kt_rd_be32(h, LUKS_HEADER, at, &state);
        kt_rd_be32(h, LUKS_HEADER, at + 4, &iter);
        kt_rd_be32(h, LUKS_HEADER, at + 40, &material);
        kt_rd_be32(h, LUKS_HEADER, at + 44, &stripes);
        if (state != LUKS_SLOT_ACTIVE)
            continue;
        active++;
        if (iter == 0 || iter > LUKS_MAX_ITERATIONS || stripes == 0 || stripes > LUKS_MAX_STRIPES ||
            (int64_t)material * 512 + (int64_t)stripes * kb > (int64_t)payload * 512) {
            snprintf(why, why_len,
                     "key slot %d is damaged (%u iterations, %u stripes at sector %u)", s,
                     (unsigned)iter, (unsigned)stripes, (unsigned)material);
            return;
        }
    }
    if (active == 0)
        snprintf(why, why_len, "no key slot is active");
}

bool kt_crypt_detect(TSK_IMG_INFO *timg, int64_t off, int64_t len, kt_crypt_header *out)
{
    uint8_t h[LUKS_HEADER];
    memset(out, 0, sizeof *out);
    if (len < (int64_t)sizeof h ||
        tsk_img_read(timg, (TSK_OFF_T)off, (char *)h, sizeof h) != (ssize_t)sizeof h) {
        tsk_error_reset();
        return false;
    }
    if (memcmp(h, "LUKS\xba\xbe", 6) == 0) {
        char uuid[41], cipher[33], mode[33];
        printable(uuid, h + 168, 40, sizeof uuid);
        printable(cipher, h + 8, 32, sizeof cipher);
        printable(mode, h + 40, 32, sizeof mode);
        unsigned version = (unsigned)h[6] << 8 | h[7];
        uint32_t key_bytes = 0;
        kt_rd_be32(h, sizeof h, 108, &key_bytes);
        if (version == 1) {
            kt_strlcpy(out->kind, "luks1", sizeof out->kind);
            snprintf(out->what, sizeof out->what,
                     "LUKS1 encrypted volume, UUID %s (%s-%s, %u-bit key)", uuid, cipher, mode,
                     (unsigned)(key_bytes * 8));
            luks1_refusal(h, len, out->refusal, sizeof out->refusal);
        } else {
            snprintf(out->kind, sizeof out->kind, "luks%u", version);
            snprintf(out->what, sizeof out->what, "LUKS%u encrypted volume, UUID %s", version,
                     uuid);
            snprintf(out->refusal, sizeof out->refusal,
                     "LUKS%u is not read: Debian's libluksde 20200205 reads LUKS1 only", version);
        }
        return true;
    }
    return kt_bde_detect(timg, off, len, h, out);
}

/* ---- the plaintext as a libtsk image ----------------------------------- */

typedef struct plain_image {
    TSK_IMG_INFO tsk;        /* first: libtsk takes it for a TSK_IMG_INFO */
    libluksde_volume_t *vol; /* borrowed from the kt_crypt */
} plain_image;

static ssize_t plain_read(TSK_IMG_INFO *img, TSK_OFF_T off, char *buf, size_t len)
{
    plain_image *p = (plain_image *)img;
    libluksde_error_t *e = NULL;
    ssize_t n = libluksde_volume_read_buffer_at_offset(p->vol, buf, len, (off64_t)off, &e);
    if (n < 0) {
        char why[256];
        libluksde_text(&e, why, sizeof why);
        tsk_error_reset();
        tsk_error_set_errno(TSK_ERR_IMG_READ);
        tsk_error_set_errstr("%zu bytes at offset %" PRId64 " of the unlocked volume: %s", len,
                             (int64_t)off, why);
    }
    return n;
}

static void plain_close(TSK_IMG_INFO *img)
{
    free(img);
}

static void plain_imgstat(TSK_IMG_INFO *img, FILE *out)
{
    fprintf(out, "unlocked LUKS1 volume, %" PRId64 " bytes\n", (int64_t)img->size);
}

void kt_crypt_free(kt_crypt *c)
{
    if (c == NULL)
        return;
    if (c->timg)
        tsk_img_close(c->timg);
    if (c->vol) {
        libluksde_volume_close(c->vol, NULL);
        libluksde_volume_free(&c->vol, NULL);
    }
    libbfio_handle_free(&c->io, NULL);
    free(c);
}

TSK_IMG_INFO *kt_crypt_tsk(const kt_crypt *c)
{
    return c->timg;
}

/* ---- LUKS1 key slots (LUKS1 On-Disk Format 1.2.3, section 2.4) --------------
 *
 * libluksde 20200205 takes a passphrase as UTF-8 text only (a binary key
 * file is refused) and tries only the first key slot. So the master key is
 * recovered here, from every active slot: PBKDF2 of the key with the
 * slot's salt and iterations gives the slot key, which decrypts the slot's
 * key material (sector numbers from 0, the payload's cipher); AF-merge of
 * the material's stripes gives a candidate, which is the master key when
 * its PBKDF2 digest matches the header's. libluksde is then given the
 * master key, which it checks again, and decrypts the payload. */

typedef struct luks_hash {
    const char *name;
    size_t digest;
    void (*pbkdf2)(size_t key_len, const uint8_t *key, unsigned iter, size_t salt_len,
                   const uint8_t *salt, size_t len, uint8_t *out);
    void (*hash)(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t *out);
} luks_hash;

#define HASH_FN(name, ctx, size)                                                                   \
    static void hash_##name(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,          \
                            uint8_t *out)                                                          \
    {                                                                                              \
        struct ctx h;                                                                              \
        name##_init(&h);                                                                           \
        name##_update(&h, alen, a);                                                                \
        name##_update(&h, blen, b);                                                                \
        name##_digest(&h, size, out);                                                              \
    }                                                                                              \
    static void pbkdf2_##name(size_t key_len, const uint8_t *key, unsigned iter, size_t salt_len,  \
                              const uint8_t *salt, size_t len, uint8_t *out)                       \
    {                                                                                              \
        pbkdf2_hmac_##name(key_len, key, iter, salt_len, salt, len, out);                          \
    }
HASH_FN(sha1, sha1_ctx, SHA1_DIGEST_SIZE)
HASH_FN(sha256, sha256_ctx, SHA256_DIGEST_SIZE)
HASH_FN(sha512, sha512_ctx, SHA512_DIGEST_SIZE)

static const luks_hash luks_hashes[] = {
    {"sha1", SHA1_DIGEST_SIZE, pbkdf2_sha1, hash_sha1},
    {"sha256", SHA256_DIGEST_SIZE, pbkdf2_sha256, hash_sha256},
    {"sha512", SHA512_DIGEST_SIZE, pbkdf2_sha512, hash_sha512},
};

/* The header's fields a key slot needs. */
typedef struct luks1 {
    const luks_hash *hash;
    const luks_mode *mode;
    uint32_t key_bytes, mk_iter;
    uint8_t mk_digest[20], mk_salt[32];
} luks1;

/* AF-merge: the stripes of n bytes each into key. */
static void af_merge(const luks1 *l, const uint8_t *material, uint32_t stripes, uint8_t *key)
{
    size_t n = l->key_bytes, d = l->hash->digest;
    uint8_t acc[64] = {0}, digest[SHA512_DIGEST_SIZE];
    for (uint32_t s = 0; s + 1 < stripes; s++) {
        for (size_t i = 0; i < n; i++)
            acc[i] ^= material[(size_t)s * n + i];
        for (size_t off = 0, block = 0; off < n; off += d, block++) {
            uint8_t be[4] = {(uint8_t)(block >> 24), (uint8_t)(block >> 16), (uint8_t)(block >> 8),
                             (uint8_t)block};
            size_t k = n - off < d ? n - off : d;
            l->hash->hash(be, 4, acc + off, k, digest);
            memcpy(acc + off, digest, k);
        }
    }
    for (size_t i = 0; i < n; i++)
        key[i] = acc[i] ^ material[(size_t)(stripes - 1) * n + i];
}

/* The master key from key, tried on every active slot of the header h:
 * true with it in mk. */
static bool recover_master_key(TSK_IMG_INFO *timg, int64_t off, const uint8_t *h, const luks1 *l,
                               const kt_key *key, uint8_t *mk)
{
    bool found = false;
    size_t cap = (size_t)LUKS_MAX_STRIPES * 64 + 512;
    uint8_t *material = malloc(cap);
    if (material == NULL)
        return false;
    for (int s = 0; s < LUKS_SLOTS && !found; s++) {
        size_t at = 208 + 48 * (size_t)s;
        uint32_t state = 0, iter = 0, sector = 0, stripes = 0;
        kt_rd_be32(h, LUKS_HEADER, at, &state);
        kt_rd_be32(h, LUKS_HEADER, at + 4, &iter);
        kt_rd_be32(h, LUKS_HEADER, at + 40, &sector);
        kt_rd_be32(h, LUKS_HEADER, at + 44, &stripes);
        if (state != LUKS_SLOT_ACTIVE)
            continue; /* luks1_refusal checked the active ones' numbers */
        size_t len = ((size_t)stripes * l->key_bytes + 511) / 512 * 512;
        uint8_t slot_key[64], digest[20];
        if (len > cap || tsk_img_read(timg, (TSK_OFF_T)(off + (int64_t)sector * 512),
                                      (char *)material, len) != (ssize_t)len) {
            tsk_error_reset();
            continue;
        }
        l->hash->pbkdf2(key->len, key->data, iter, 32, h + at + 8, l->key_bytes, slot_key);
        kt_luks_cipher *c = kt_luks_cipher_new(&l->mode->spec, slot_key);
        memset(slot_key, 0, sizeof slot_key);
        if (c == NULL)
            break;
        kt_luks_decrypt(c, 0, material, len);
        kt_luks_cipher_free(c);
        af_merge(l, material, stripes, mk);
        l->hash->pbkdf2(l->key_bytes, mk, l->mk_iter, sizeof l->mk_salt, l->mk_salt, sizeof digest,
                        digest);
        found = memcmp(digest, l->mk_digest, sizeof digest) == 0;
    }
    memset(material, 0, cap);
    free(material);
    return found;
}

/* The header's fields, which luks1_refusal accepted. */
static bool luks1_of(const uint8_t *h, luks1 *l)
{
    char cipher[33], mode[33], hash[33];
    printable(cipher, h + 8, 32, sizeof cipher);
    printable(mode, h + 40, 32, sizeof mode);
    printable(hash, h + 72, 32, sizeof hash);
    memset(l, 0, sizeof *l);
    for (size_t i = 0; i < sizeof luks_hashes / sizeof luks_hashes[0]; i++)
        if (strcmp(hash, luks_hashes[i].name) == 0)
            l->hash = &luks_hashes[i];
    kt_rd_be32(h, LUKS_HEADER, 108, &l->key_bytes);
    kt_rd_be32(h, LUKS_HEADER, 164, &l->mk_iter);
    memcpy(l->mk_digest, h + 112, 20);
    memcpy(l->mk_salt, h + 132, 32);
    l->mode = luks_mode_of(cipher, mode, l->key_bytes);
    return l->hash != NULL && l->mode != NULL;
}

/* Open the volume with its master key mk: 1 unlocked (c filled), 0
 * libluksde does not take it, -1 libluksde refused the volume (why). */
static int open_with(TSK_IMG_INFO *timg, int64_t off, int64_t len, const uint8_t *mk, size_t mk_len,
                     kt_crypt *c, char *why, size_t why_len)
{
    kt_error e = {0};
    if (kt_bfio_img_open(timg, off, len, &c->io, &e)) {
        kt_strlcpy(why, e.msg, why_len);
        return -1;
    }
    libluksde_error_t *le = NULL;
    if (libluksde_volume_initialize(&c->vol, &le) != 1 ||
        libluksde_volume_set_key(c->vol, mk, mk_len, &le) != 1) {
        libluksde_text(&le, why, why_len);
        return -1;
    }
    /* 1: opened and unlocked; 0: opened, still locked. */
    int opened = libluksde_volume_open_file_io_handle(c->vol, c->io, LIBLUKSDE_OPEN_READ, &le);
    int locked = opened < 0 ? -1 : libluksde_volume_is_locked(c->vol, &le);
    if (locked < 0) {
        libluksde_text(&le, why, why_len);
        return -1;
    }
    libluksde_error_free(&le);
    return locked ? 0 : 1;
}

/* The plaintext of the payload at sector payload of the volume of len
 * bytes at off, decrypted by kavtrace with the master key mk (spec):
 * KT_OK with it in c->timg, or KT_ENOMEM. */
static int open_nettle(TSK_IMG_INFO *timg, int64_t off, int64_t len, uint32_t payload,
                       const kt_luks_spec *spec, const uint8_t *mk, kt_crypt *c)
{
    int64_t start = (int64_t)payload * 512;
    kt_luks_cipher *cipher = kt_luks_cipher_new(spec, mk);
    if (cipher == NULL)
        return KT_ENOMEM;
    c->timg = kt_luks_plain_open(timg, off + start, (len - start) / 512 * 512, cipher);
    if (c->timg == NULL) {
        kt_luks_cipher_free(cipher);
        return KT_ENOMEM;
    }
    return KT_OK;
}

/* The plaintext read by libluksde, given the master key mk: KT_OK with
 * it in c (its io, vol and timg), or KT_EFORMAT (why) / KT_ENOMEM. */
static int open_libluksde(TSK_IMG_INFO *timg, int64_t off, int64_t len, const uint8_t *mk,
                          size_t mk_len, kt_crypt *c, char *why, size_t why_len)
{
    int r = open_with(timg, off, len, mk, mk_len, c, why, why_len);
    if (r <= 0) {
        if (r == 0)
            kt_strlcpy(why, "libluksde does not take the master key its key slot gives", why_len);
        return KT_EFORMAT;
    }
    size64_t size = 0;
    if (libluksde_volume_get_size(c->vol, &size, NULL) != 1 || size == 0) {
        kt_strlcpy(why, "libluksde gives no size for it", why_len);
        return KT_EFORMAT;
    }
    plain_image *p = calloc(1, sizeof *p);
    if (p == NULL)
        return KT_ENOMEM;
    p->vol = c->vol;
    c->timg =
        tsk_img_open_external(p, (TSK_OFF_T)size, 512, plain_read, plain_close, plain_imgstat);
    if (c->timg == NULL) {
        free(p);
        tsk_error_reset();
        return KT_ENOMEM;
    }
    return KT_OK;
}

/* A BitLocker volume (bde.c): its plaintext image is the kt_crypt's own. */
static int bde_unlock(TSK_IMG_INFO *timg, int64_t off, int64_t len, const kt_keys *keys,
                      kt_crypt **out, size_t *which, char *why, size_t why_len)
{
    kt_crypt *c = calloc(1, sizeof *c);
    if (c == NULL)
        return KT_ENOMEM;
    int rc = kt_bde_unlock(timg, off, len, keys, &c->timg, which, why, why_len);
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    return KT_OK;
}

int kt_crypt_unlock(TSK_IMG_INFO *timg, int64_t off, int64_t len, const kt_keys *keys,
                    kt_crypt **out, size_t *which, char *why, size_t why_len)
{
    why[0] = '\0';
    uint8_t h[LUKS_HEADER];
    luks1 l;
    if (tsk_img_read(timg, (TSK_OFF_T)off, (char *)h, sizeof h) != (ssize_t)sizeof h) {
        tsk_error_reset();
        kt_strlcpy(why, "its header cannot be read", why_len);
        return KT_EFORMAT;
    }
    if (memcmp(h + 3, "-FVE-FS-", 8) == 0)
        return bde_unlock(timg, off, len, keys, out, which, why, why_len);
    if (!luks1_of(h, &l)) {
        kt_strlcpy(why, "its header is not one kavtrace reads", why_len);
        return KT_EFORMAT;
    }
    uint8_t mk[64];
    size_t i = 0;
    while (i < keys->count && !recover_master_key(timg, off, h, &l, &keys->items[i], mk))
        i++;
    if (i == keys->count)
        return KT_ENOTFOUND;
    kt_crypt *c = calloc(1, sizeof *c);
    int rc = KT_ENOMEM;
    if (c != NULL && l.mode->libluksde) {
        rc = open_libluksde(timg, off, len, mk, l.key_bytes, c, why, why_len);
    } else if (c != NULL) {
        uint32_t payload = 0;
        kt_rd_be32(h, sizeof h, 104, &payload);
        rc = open_nettle(timg, off, len, payload, &l.mode->spec, mk, c);
    }
    memset(mk, 0, sizeof mk);
    if (rc != KT_OK) {
        kt_crypt_free(c);
        return rc;
    }
    *which = i;
    *out = c;
    return KT_OK;
}

const char *kt_crypt_decrypter(const kt_crypt *c)
{
    return c->vol ? "libluksde" : "kavtrace";
}
