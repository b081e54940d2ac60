/* kt-mkbde: write a BitLocker (Windows 7 and later) volume around an NTFS
 * volume, deterministically.
 *
 *   kt-mkbde OUT PLAIN GUID SEED METHOD RECOVERY_FILE [PASSWORD_FILE|- [BEK_OUT]]
 *
 * Written from the "BitLocker Drive Encryption (BDE) format" document of
 * the libbde project. Windows draws the keys, salts and nonces at random;
 * this writer draws them from SEED (a SHA-256 counter stream), so the same
 * inputs give the same bytes.
 *
 * The volume (OUT, as long as PLAIN, whose first sector is an NTFS boot
 * sector) is:
 *   - sector 0: the BitLocker volume header ("\xeb\x58\x90" "-FVE-FS-", the
 *     BitLocker identifier 4967d63b-2e29-4ad8-8399-f6a339e3d001 at 160, the
 *     three FVE metadata block offsets at 176, 184 and 192);
 *   - three FVE metadata blocks (64 KiB areas, each a copy): the block
 *     header (version 2: encrypted volume size, 16 volume header sectors,
 *     the three offsets, the volume header offset), the metadata header
 *     (volume GUID, encryption method, creation time) and the entries:
 *     the description, a VMK protected by the recovery password (a
 *     "DiskPassword" string, a stretch key with its salt, and the VMK
 *     AES-CCM-wrapped with the key stretched from the recovery password),
 *     optionally a VMK protected by a user password (the same, keyed by
 *     the password), optionally a VMK protected by a startup key (an
 *     "ExternalKey" string and the VMK AES-CCM-wrapped with the 256-bit
 *     external key itself), the FVEK AES-CCM-wrapped with the VMK, and the
 *     volume header block (offset and size of the relocated sectors);
 *   - the first 16 sectors of PLAIN (the NTFS boot sectors), encrypted at
 *     the volume header offset;
 *   - every other sector of PLAIN encrypted in place.
 * The metadata areas and the relocated boot sectors are put where PLAIN
 * holds only zeros (64 KiB-aligned blocks from the middle of the volume
 * on), which a BitLocker reader shows as zeros: so the decrypted volume is
 * PLAIN, byte for byte.
 *
 * METHOD: "xts128" (AES-XTS-128, Windows 10's default, 0x8004: the tweak
 * the sector number) or "cbc128" (AES-CBC-128 without diffuser, 0x8002:
 * the IV the sector's byte offset encrypted with the FVEK).
 *
 * Keys: the recovery password (RECOVERY_FILE: 48 digits in 8 groups of 6,
 * each a multiple of 11 under 720896) gives a 128-bit key of the groups
 * divided by 11 (16-bit little-endian each); a user password
 * (PASSWORD_FILE's bytes as ASCII/UTF-8 without a final newline, as
 * UTF-16LE) gives SHA-256(SHA-256(password)). Either is stretched: a
 * structure of last SHA-256 (32), initial SHA-256 (32), salt (16) and a
 * 64-bit counter, hashed 0x100000 times, each time into the last SHA-256.
 * Key data is AES-CCM (AES-256, a 12-byte nonce of a FILETIME and a
 * counter, a 16-byte MAC stored before the data).
 *
 * BEK_OUT: the startup key's .BEK file: a 48-byte header as the metadata
 * header (size, version 1, the key's identifier) and one external key
 * entry (type 6, value type 9: the identifier the VMK has, a time, an
 * "ExternalKey" string and the 256-bit key).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/aes.h>
#include <nettle/cbc.h>
#include <nettle/ccm.h>
#include <nettle/sha2.h>
#include <nettle/xts.h>

#define SECTOR 512
#define HEADER_BYTES 8192 /* the relocated boot sectors: 16 sectors */
#define AREA 65536        /* a metadata block's area */
#define STRETCH_ROUNDS 0x100000
#define CREATED 0x01DCAA272413DC00ULL /* 2026-03-02T09:30:00Z as a FILETIME */

#define METHOD_STRETCH 0x1000
#define METHOD_CCM 0x2000
#define METHOD_CBC128 0x8002
#define METHOD_XTS128 0x8004

#define PROTECT_STARTUP 0x0200
#define PROTECT_RECOVERY 0x0800
#define PROTECT_PASSWORD 0x2000

static const char *prog = "kt-mkbde";

static void die(const char *what)
{
    fprintf(stderr, "%s: %s\n", prog, what);
    exit(1);
}

/* ---- deterministic bytes: SHA-256(seed || counter) ---------------------- */

static char seed[256];
static uint32_t counter;

static void draw(uint8_t *out, size_t n)
{
    while (n) {
        uint8_t block[SHA256_DIGEST_SIZE],
            c[4] = {(uint8_t)(counter >> 24), (uint8_t)(counter >> 16), (uint8_t)(counter >> 8),
                    (uint8_t)counter};
        struct sha256_ctx h;
        sha256_init(&h);
        sha256_update(&h, strlen(seed), (const uint8_t *)seed);
        sha256_update(&h, 4, c);
        sha256_digest(&h, sizeof block, block);
        counter++;
        size_t k = n < sizeof block ? n : sizeof block;
        memcpy(out, block, k);
        out += k;
        n -= k;
    }
}

static void le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" as a GUID on disk (the first
 * three groups little-endian). */
static void guid(uint8_t *out, const char *s)
{
    unsigned v[16];
    if (strlen(s) != 36 || sscanf(s, "%2x%2x%2x%2x-%2x%2x-%2x%2x-%2x%2x-%2x%2x%2x%2x%2x%2x", &v[0],
                                  &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
                                  &v[10], &v[11], &v[12], &v[13], &v[14], &v[15]) != 16)
        die("GUID is not of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
    static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    for (int i = 0; i < 16; i++)
        out[i] = (uint8_t)v[order[i]];
}

/* ---- keys ---------------------------------------------------------------- */

/* The stretch: 0x100000 SHA-256 rounds over last || initial || salt ||
 * count, from the initial SHA-256 and the salt, into key. */
static void stretch(const uint8_t initial[32], const uint8_t salt[16], uint8_t key[32])
{
    uint8_t s[88] = {0};
    memcpy(s + 32, initial, 32);
    memcpy(s + 64, salt, 16);
    for (uint64_t count = 0; count < STRETCH_ROUNDS; count++) {
        le64(s + 80, count);
        struct sha256_ctx h;
        sha256_init(&h);
        sha256_update(&h, sizeof s, s);
        sha256_digest(&h, 32, s);
    }
    memcpy(key, s, 32);
}

/* The initial SHA-256 of a recovery password (48 digits, dashes between
 * the 8 groups). */
static void recovery_initial(const char *text, uint8_t initial[32])
{
    uint8_t key[16];
    const char *p = text;
    for (int g = 0; g < 8; g++) {
        unsigned long v = 0;
        for (int d = 0; d < 6; d++, p++) {
            if (*p < '0' || *p > '9')
                die("the recovery password is not 8 groups of 6 digits");
            v = v * 10 + (unsigned long)(*p - '0');
        }
        if (v % 11 || v / 11 > 0xffff)
            die("a recovery password group is not a multiple of 11 under 720896");
        le16(key + 2 * g, (uint16_t)(v / 11));
        if (g < 7 && *p++ != '-')
            die("the recovery password's groups are not separated by dashes");
    }
    if (*p)
        die("the recovery password has more than 8 groups");
    struct sha256_ctx h;
    sha256_init(&h);
    sha256_update(&h, sizeof key, key);
    sha256_digest(&h, 32, initial);
}

/* The initial SHA-256 of a user password: SHA-256 of SHA-256 of its
 * UTF-16LE form (ASCII only here). */
static void password_initial(const char *text, uint8_t initial[32])
{
    size_t n = strlen(text);
    uint8_t *u = calloc(2 * n + 1, 1);
    if (u == NULL)
        die("out of memory");
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)text[i] >= 0x80)
            die("the password is not ASCII");
        u[2 * i] = (uint8_t)text[i];
    }
    uint8_t once[32];
    struct sha256_ctx h;
    sha256_init(&h);
    sha256_update(&h, 2 * n, u);
    sha256_digest(&h, 32, once);
    sha256_init(&h);
    sha256_update(&h, 32, once);
    sha256_digest(&h, 32, initial);
    free(u);
}

/* ---- metadata entries ---------------------------------------------------- */

typedef struct buf {
    uint8_t b[4096];
    size_t n;
} buf;

static uint8_t *put(buf *o, const void *p, size_t n)
{
    if (o->n + n > sizeof o->b)
        die("metadata too large");
    uint8_t *at = o->b + o->n;
    if (p)
        memcpy(at, p, n);
    else
        memset(at, 0, n);
    o->n += n;
    return at;
}

/* An entry header (size filled by end_entry): type, value type, version 1. */
static size_t begin_entry(buf *o, uint16_t type, uint16_t value)
{
    size_t at = o->n;
    uint8_t *h = put(o, NULL, 8);
    le16(h + 2, type);
    le16(h + 4, value);
    le16(h + 6, 1);
    return at;
}

static void end_entry(buf *o, size_t at)
{
    le16(o->b + at, (uint16_t)(o->n - at));
}

static uint32_t nonce_counter;

/* A key entry (value type 1: method, key) AES-CCM-wrapped with wrap, as an
 * entry of type `type` (value type 5: nonce time, nonce counter, MAC,
 * encrypted data). */
static void ccm_entry(buf *o, uint16_t type, const uint8_t wrap[32], uint32_t method,
                      const uint8_t *key, size_t key_len)
{
    uint8_t plain[128], out[128 + 16], nonce[12];
    size_t n = 12 + key_len;
    le16(plain, (uint16_t)n);
    le16(plain + 2, 0);
    le16(plain + 4, 1);
    le16(plain + 6, 1);
    le32(plain + 8, method);
    memcpy(plain + 12, key, key_len);
    le64(nonce, CREATED);
    le32(nonce + 8, nonce_counter++);
    struct ccm_aes256_ctx c;
    ccm_aes256_set_key(&c, wrap);
    /* nettle writes the data then the MAC; BitLocker keeps the MAC first. */
    ccm_aes256_encrypt_message(&c, sizeof nonce, nonce, 0, NULL, 16, n + 16, out, plain);
    size_t at = begin_entry(o, type, 5);
    put(o, nonce, sizeof nonce);
    put(o, out + n, 16);
    put(o, out, n);
    end_entry(o, at);
}

/* A string property (value type 2, UTF-16LE with its NUL). */
static void string_entry(buf *o, const char *text)
{
    size_t at = begin_entry(o, 0, 2);
    for (size_t i = 0; i <= strlen(text); i++)
        le16(put(o, NULL, 2), (uint16_t)(unsigned char)text[i]);
    end_entry(o, at);
}

/* A VMK protected by the startup key ext (protection type 0x0200), whose
 * identifier is the .BEK file's. */
static void startup_vmk_entry(buf *o, const uint8_t id[16], const uint8_t ext[32],
                              const uint8_t vmk[32])
{
    size_t at = begin_entry(o, 2, 8);
    put(o, id, 16);
    le64(put(o, NULL, 8), CREATED);
    le16(put(o, NULL, 4) + 2, PROTECT_STARTUP);
    string_entry(o, "ExternalKey");
    ccm_entry(o, 0, ext, METHOD_CCM, vmk, 32);
    end_entry(o, at);
}

/* The .BEK file of the startup key ext with identifier id, at path. */
static void write_bek(const char *path, const uint8_t id[16], const uint8_t ext[32])
{
    buf e = {.n = 0};
    size_t at = begin_entry(&e, 6, 9);
    put(&e, id, 16);
    le64(put(&e, NULL, 8), CREATED);
    string_entry(&e, "ExternalKey");
    size_t k = begin_entry(&e, 0, 1);
    le32(put(&e, NULL, 4), METHOD_CCM);
    put(&e, ext, 32);
    end_entry(&e, k);
    end_entry(&e, at);
    uint8_t h[48] = {0};
    le32(h, (uint32_t)(48 + e.n));
    le32(h + 4, 1);
    le32(h + 8, 48);
    le32(h + 12, (uint32_t)(48 + e.n));
    memcpy(h + 16, id, 16);
    le64(h + 40, CREATED);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(h, 1, sizeof h, f) != sizeof h || fwrite(e.b, 1, e.n, f) != e.n ||
        fclose(f) != 0)
        die("BEK_OUT cannot be written");
}

/* A VMK protected by a key stretched from initial (protection type kind):
 * identifier, modification time, protection, then its properties. */
static void vmk_entry(buf *o, uint16_t kind, const uint8_t initial[32], const uint8_t vmk[32])
{
    uint8_t id[16], salt[16], key[32], spare[32];
    draw(id, sizeof id);
    draw(salt, sizeof salt);
    draw(spare, sizeof spare);
    stretch(initial, salt, key);
    size_t at = begin_entry(o, 2, 8);
    put(o, id, 16);
    le64(put(o, NULL, 8), CREATED);
    uint8_t *p = put(o, NULL, 4);
    le16(p + 2, kind);
    if (kind == PROTECT_RECOVERY)
        string_entry(o, "DiskPassword");
    size_t s = begin_entry(o, 0, 3);
    le32(put(o, NULL, 4), METHOD_STRETCH);
    put(o, salt, 16);
    ccm_entry(o, 0, key, METHOD_CCM, spare, sizeof spare);
    end_entry(o, s);
    ccm_entry(o, 0, key, METHOD_CCM, vmk, 32);
    end_entry(o, at);
    memset(key, 0, sizeof key);
}

/* ---- the volume ---------------------------------------------------------- */

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        die(strerror(errno));
    static char text[2][256];
    static int which;
    char *t = text[which++ % 2];
    size_t n = fread(t, 1, sizeof text[0] - 1, f);
    fclose(f);
    while (n && (t[n - 1] == '\n' || t[n - 1] == '\r'))
        n--;
    t[n] = '\0';
    return t;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

typedef struct cipher {
    int xts;
    struct xts_aes128_key x;
    struct aes128_ctx c;
} cipher;

/* The sector at byte offset off of the volume, encrypted in place. */
static void encrypt_sector(cipher *k, uint64_t off, uint8_t *p)
{
    uint8_t iv[16] = {0};
    if (k->xts) {
        le64(iv, off / SECTOR);
        xts_aes128_encrypt_message(&k->x, iv, SECTOR, p, p);
        return;
    }
    le64(iv, off);
    aes128_encrypt(&k->c, 16, iv, iv);
    cbc_encrypt(&k->c, (nettle_cipher_func *)aes128_encrypt, 16, iv, SECTOR, p, p);
}

int main(int argc, char **argv)
{
    if (argc < 7 || argc > 9) {
        fprintf(stderr,
                "usage: %s OUT PLAIN GUID SEED xts128|cbc128 RECOVERY_FILE [PASSWORD_FILE|- "
                "[BEK_OUT]]\n",
                prog);
        return 2;
    }
    snprintf(seed, sizeof seed, "%s", argv[4]);
    int xts = strcmp(argv[5], "xts128") == 0;
    if (!xts && strcmp(argv[5], "cbc128") != 0)
        die("METHOD is xts128 or cbc128");
    uint16_t method = xts ? METHOD_XTS128 : METHOD_CBC128;
    uint8_t volume_guid[16];
    guid(volume_guid, argv[3]);

    FILE *in = fopen(argv[2], "rb");
    if (in == NULL || fseek(in, 0, SEEK_END) != 0)
        die("PLAIN cannot be read");
    long len = ftell(in);
    if (len < 4 * AREA + HEADER_BYTES || len % SECTOR)
        die("PLAIN is too small or not whole sectors");
    uint64_t size = (uint64_t)len;
    uint8_t *vol = malloc(size);
    if (vol == NULL)
        die("out of memory");
    rewind(in);
    if (fread(vol, 1, size, in) != size)
        die("PLAIN cannot be read");
    fclose(in);
    if (memcmp(vol + 3, "NTFS    ", 8) != 0)
        die("PLAIN does not start with an NTFS boot sector");

    /* Four zero 64 KiB blocks from the middle on (wrapping round, past the
     * boot sectors, short of the last block with the backup boot sector):
     * three metadata areas and the relocated boot sectors. */
    uint64_t areas[4];
    int found = 0;
    uint64_t blocks = size / AREA;
    for (uint64_t i = 0; i < blocks && found < 4; i++) {
        uint64_t b = (blocks / 2 + i) % blocks;
        if (b == 0 || b + 1 >= blocks)
            continue;
        if (all_zero(vol + b * AREA, AREA))
            areas[found++] = b * AREA;
    }
    if (found < 4)
        die("PLAIN has no four free (zero) 64 KiB blocks for the metadata");
    uint64_t header_at = areas[3];

    uint8_t vmk[32], fvek[32];
    draw(vmk, sizeof vmk);
    draw(fvek, sizeof fvek);
    nonce_counter = 1;

    /* The metadata entries. */
    buf e = {.n = 0};
    {
        static const char text[] = "KAVTRACE-WIN C: 02/03/2026";
        size_t at = begin_entry(&e, 7, 2);
        for (size_t i = 0; i < sizeof text; i++)
            le16(put(&e, NULL, 2), (uint16_t)(unsigned char)text[i]);
        end_entry(&e, at);
    }
    uint8_t initial[32];
    recovery_initial(read_text(argv[6]), initial);
    vmk_entry(&e, PROTECT_RECOVERY, initial, vmk);
    if (argc >= 8 && strcmp(argv[7], "-") != 0) {
        password_initial(read_text(argv[7]), initial);
        vmk_entry(&e, PROTECT_PASSWORD, initial, vmk);
    }
    if (argc == 9) {
        uint8_t id[16], ext[32];
        draw(id, sizeof id);
        draw(ext, sizeof ext);
        startup_vmk_entry(&e, id, ext, vmk);
        write_bek(argv[8], id, ext);
        memset(ext, 0, sizeof ext);
    }
    ccm_entry(&e, 3, vmk, method, fvek, 32);
    {
        size_t at = begin_entry(&e, 0x000f, 0x000f);
        le64(put(&e, NULL, 8), header_at);
        le64(put(&e, NULL, 8), HEADER_BYTES);
        end_entry(&e, at);
    }

    /* A metadata block: block header, metadata header, entries. */
    uint8_t block[4096] = {0};
    memcpy(block, "-FVE-FS-", 8);
    le16(block + 10, 2);
    le16(block + 12, 4);
    le16(block + 14, 4);
    le64(block + 16, size);
    le32(block + 28, HEADER_BYTES / SECTOR);
    for (int i = 0; i < 3; i++)
        le64(block + 32 + 8 * i, areas[i]);
    le64(block + 56, header_at);
    uint8_t *m = block + 64;
    le32(m, (uint32_t)(48 + e.n));
    le32(m + 4, 1);
    le32(m + 8, 48);
    le32(m + 12, (uint32_t)(48 + e.n));
    memcpy(m + 16, volume_guid, 16);
    le32(m + 32, nonce_counter);
    le32(m + 36, method);
    le64(m + 40, CREATED);
    if (64 + 48 + e.n > sizeof block)
        die("metadata too large");
    memcpy(m + 48, e.b, e.n);

    /* The BitLocker volume header, from the NTFS boot sector's geometry. */
    uint8_t h[SECTOR] = {0};
    static const uint8_t identifier[16] = {0x3b, 0xd6, 0x67, 0x49, 0x29, 0x2e, 0xd8, 0x4a,
                                           0x83, 0x99, 0xf6, 0xa3, 0x39, 0xe3, 0xd0, 0x01};
    memcpy(h, "\xeb\x58\x90-FVE-FS-", 11);
    memcpy(h + 11, vol + 11, 3); /* bytes per sector, sectors per cluster */
    h[21] = 0xf8;
    memcpy(h + 24, vol + 24, 8); /* sectors per track, heads, hidden sectors */
    le32(h + 32, (uint32_t)(size / SECTOR));
    h[64] = 0x80;
    h[66] = 0x29;
    memcpy(h + 67, vol + 72, 4); /* the NTFS serial's low half */
    memcpy(h + 71, "NO NAME    FAT32   ", 19);
    memcpy(h + 160, identifier, 16);
    for (int i = 0; i < 3; i++)
        le64(h + 176 + 8 * i, areas[i]);
    h[510] = 0x55;
    h[511] = 0xaa;

    cipher k = {.xts = xts};
    if (xts)
        xts_aes128_set_encrypt_key(&k.x, fvek);
    else
        aes128_set_encrypt_key(&k.c, fvek);

    /* The boot sectors move to header_at (a zero block, so nothing is
     * lost); every sector is encrypted at the offset it is stored at. */
    memcpy(vol + header_at, vol, HEADER_BYTES);
    memset(vol, 0, HEADER_BYTES);
    for (uint64_t off = HEADER_BYTES; off < size; off += SECTOR)
        encrypt_sector(&k, off, vol + off);
    memcpy(vol, h, SECTOR);
    for (int i = 0; i < 3; i++) {
        memset(vol + areas[i], 0, AREA);
        memcpy(vol + areas[i], block, sizeof block);
    }

    FILE *out = fopen(argv[1], "wb");
    if (out == NULL || fwrite(vol, 1, size, out) != size || fclose(out) != 0)
        die("OUT cannot be written");
    memset(vmk, 0, sizeof vmk);
    memset(fvek, 0, sizeof fvek);
    free(vol);
    return 0;
}
