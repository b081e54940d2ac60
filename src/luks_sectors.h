/* Private: LUKS1 sector ciphers decrypted by kavtrace itself, with nettle
 * (luks_sectors.c), for the key slots' material and for the payloads
 * Debian's libluksde cannot read safely (crypt.c). */
#ifndef KT_LUKS_SECTORS_H
#define KT_LUKS_SECTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tsk_util.h"

/* What a sector's IV (for XTS, its tweak) is made of: the sector number,
 * little-endian, in 32 bits ("plain") or 64 ("plain64"), or (CBC only)
 * the 64-bit number encrypted with AES-256 under SHA-256 of the key
 * ("essiv:sha256"). */
typedef enum kt_luks_iv {
    KT_LUKS_IV_PLAIN,
    KT_LUKS_IV_PLAIN64,
    KT_LUKS_IV_ESSIV_SHA256,
} kt_luks_iv;

/* An AES sector cipher: XTS with a 32- or 64-byte key (two AES-128 or two
 * AES-256 keys, IEEE 1619), or CBC with a 16-, 24- or 32-byte key. */
typedef struct kt_luks_spec {
    bool xts;
    kt_luks_iv iv;
    uint32_t key_bytes;
} kt_luks_spec;

typedef struct kt_luks_cipher kt_luks_cipher;

/* A cipher of spec (which must be one of the above) keyed with key
 * (spec->key_bytes bytes, copied into its key schedule). NULL: out of
 * memory. The caller owns it: kt_luks_cipher_free. */
kt_luks_cipher *kt_luks_cipher_new(const kt_luks_spec *spec, const uint8_t *key);

/* Wipe and release c; NULL is a no-op. */
void kt_luks_cipher_free(kt_luks_cipher *c);

/* Decrypt n bytes of buf in place: whole 512-byte sectors (a trailing
 * partial sector is left as it is), the first being sector number first
 * (counted from 0 at the payload, or at a key slot's material). */
void kt_luks_decrypt(const kt_luks_cipher *c, uint64_t first, uint8_t *buf, size_t n);

/* The plaintext of the size bytes (whole sectors) of ciphertext at byte
 * off of timg, as a libtsk image of its own decrypting with c. On success
 * the image owns c (tsk_img_close frees both; timg must outlive it); NULL:
 * out of memory or libtsk refused it, and c is still the caller's. */
TSK_IMG_INFO *kt_luks_plain_open(TSK_IMG_INFO *timg, int64_t off, int64_t size, kt_luks_cipher *c);

#endif
