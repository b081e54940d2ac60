/* LUKS1 sector ciphers with nettle (luks_sectors.h), and a payload
 * decrypted with one as a libtsk image.
 *
 * dm-crypt encrypts each 512-byte sector on its own. XTS (IEEE 1619)
 * takes the sector number as its tweak; CBC starts each sector from an
 * IV made of it (cryptsetup(8), "plain", "plain64", "essiv"). LUKS1
 * counts sectors from 0 at the payload (and at a key slot's material). */
#include "luks_sectors.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/aes.h>
#include <nettle/cbc.h>
#include <nettle/sha2.h>
#include <nettle/xts.h>

#define SECTOR 512

struct kt_luks_cipher {
    kt_luks_spec spec;
    union {
        struct xts_aes128_key x128;
        struct xts_aes256_key x256;
        struct aes128_ctx c128;
        struct aes192_ctx c192;
        struct aes256_ctx c256;
    } k;
    struct aes256_ctx essiv; /* ESSIV: SHA-256 of the key, as an AES-256 key */
};

kt_luks_cipher *kt_luks_cipher_new(const kt_luks_spec *spec, const uint8_t *key)
{
    kt_luks_cipher *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->spec = *spec;
    if (spec->xts && spec->key_bytes == 64)
        xts_aes256_set_decrypt_key(&c->k.x256, key);
    else if (spec->xts)
        xts_aes128_set_decrypt_key(&c->k.x128, key);
    else if (spec->key_bytes == 16)
        aes128_set_decrypt_key(&c->k.c128, key);
    else if (spec->key_bytes == 24)
        aes192_set_decrypt_key(&c->k.c192, key);
    else
        aes256_set_decrypt_key(&c->k.c256, key);
    if (spec->iv == KT_LUKS_IV_ESSIV_SHA256) {
        uint8_t salt[SHA256_DIGEST_SIZE];
        struct sha256_ctx h;
        sha256_init(&h);
        sha256_update(&h, spec->key_bytes, key);
        sha256_digest(&h, sizeof salt, salt);
        aes256_set_encrypt_key(&c->essiv, salt);
        memset(salt, 0, sizeof salt);
    }
    return c;
}

void kt_luks_cipher_free(kt_luks_cipher *c)
{
    if (c == NULL)
        return;
    memset(c, 0, sizeof *c);
    free(c);
}

void kt_luks_decrypt(const kt_luks_cipher *c, uint64_t first, uint8_t *buf, size_t n)
{
    const kt_luks_spec *s = &c->spec;
    for (size_t off = 0; off + SECTOR <= n; off += SECTOR) {
        uint64_t sector = first + off / SECTOR;
        uint8_t iv[16] = {0};
        for (int i = 0; i < (s->iv == KT_LUKS_IV_PLAIN ? 4 : 8); i++)
            iv[i] = (uint8_t)(sector >> (8 * i));
        uint8_t *p = buf + off;
        /* xts_aesN_decrypt_message, which takes its key as non-const */
        if (s->xts && s->key_bytes == 64) {
            xts_decrypt_message(&c->k.x256.cipher, &c->k.x256.tweak_cipher,
                                (nettle_cipher_func *)aes256_decrypt,
                                (nettle_cipher_func *)aes256_encrypt, iv, SECTOR, p, p);
            continue;
        }
        if (s->xts) {
            xts_decrypt_message(&c->k.x128.cipher, &c->k.x128.tweak_cipher,
                                (nettle_cipher_func *)aes128_decrypt,
                                (nettle_cipher_func *)aes128_encrypt, iv, SECTOR, p, p);
            continue;
        }
        if (s->iv == KT_LUKS_IV_ESSIV_SHA256)
            aes256_encrypt(&c->essiv, sizeof iv, iv, iv);
        if (s->key_bytes == 16)
            cbc_decrypt(&c->k.c128, (nettle_cipher_func *)aes128_decrypt, 16, iv, SECTOR, p, p);
        else if (s->key_bytes == 24)
            cbc_decrypt(&c->k.c192, (nettle_cipher_func *)aes192_decrypt, 16, iv, SECTOR, p, p);
        else
            cbc_decrypt(&c->k.c256, (nettle_cipher_func *)aes256_decrypt, 16, iv, SECTOR, p, p);
    }
}

/* ---- the payload's plaintext as a libtsk image -------------------------- */

/* Sectors read and decrypted at a time (on the stack: a read may come from
 * any thread libtsk is called from). */
#define CHUNK_SECTORS 32

typedef struct plain_image {
    TSK_IMG_INFO tsk;   /* first: libtsk takes it for a TSK_IMG_INFO */
    TSK_IMG_INFO *from; /* the ciphertext's image, borrowed */
    int64_t off;        /* the payload's first byte in it */
    kt_luks_cipher *cipher;
} plain_image;

static ssize_t read_fail(size_t len, int64_t off, const char *why)
{
    tsk_error_reset();
    tsk_error_set_errno(TSK_ERR_IMG_READ);
    tsk_error_set_errstr("%zu bytes at offset %" PRId64 " of the unlocked volume: %s", len, off,
                         why);
    return -1;
}

static ssize_t plain_read(TSK_IMG_INFO *img, TSK_OFF_T off, char *buf, size_t len)
{
    plain_image *p = (plain_image *)img;
    int64_t size = (int64_t)img->size;
    if (off < 0 || off > size)
        return read_fail(len, (int64_t)off, "past its end");
    if ((int64_t)len > size - off)
        len = (size_t)(size - off);
    uint8_t chunk[CHUNK_SECTORS * SECTOR];
    size_t done = 0;
    while (done < len) {
        int64_t at = (int64_t)off + (int64_t)done;
        uint64_t sector = (uint64_t)at / SECTOR;
        size_t skip = (size_t)(at % SECTOR), want = skip + (len - done);
        size_t span = want >= sizeof chunk ? sizeof chunk : (want + SECTOR - 1) / SECTOR * SECTOR;
        if (tsk_img_read(p->from, (TSK_OFF_T)(p->off + (int64_t)sector * SECTOR), (char *)chunk,
                         span) != (ssize_t)span)
            return read_fail(len, (int64_t)off, "its ciphertext cannot be read");
        kt_luks_decrypt(p->cipher, sector, chunk, span);
        size_t k = span - skip < len - done ? span - skip : len - done;
        memcpy(buf + done, chunk + skip, k);
        done += k;
    }
    return (ssize_t)len;
}

static void plain_close(TSK_IMG_INFO *img)
{
    plain_image *p = (plain_image *)img;
    kt_luks_cipher_free(p->cipher);
    free(p);
}

static void plain_imgstat(TSK_IMG_INFO *img, FILE *out)
{
    fprintf(out, "unlocked LUKS1 volume (decrypted by kavtrace), %" PRId64 " bytes\n",
            (int64_t)img->size);
}

TSK_IMG_INFO *kt_luks_plain_open(TSK_IMG_INFO *timg, int64_t off, int64_t size, kt_luks_cipher *c)
{
    plain_image *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->from = timg;
    p->off = off;
    p->cipher = c;
    TSK_IMG_INFO *img =
        tsk_img_open_external(p, (TSK_OFF_T)size, SECTOR, plain_read, plain_close, plain_imgstat);
    if (img == NULL) {
        tsk_error_reset();
        free(p);
    }
    return img;
}
