/* kt-mkluks: write a LUKS1 volume around a payload, deterministically.
 *
 *   kt-mkluks OUT PAYLOAD UUID SEED MODE KEY_BITS PASSFILE...
 *
 * cryptsetup luksFormat draws the salts, the master key and the
 * anti-forensic stripes at random, so two builds differ; this writer
 * draws them from SEED (a SHA-256 counter stream), so the same inputs
 * give the same bytes. The format (LUKS On-Disk Format Specification
 * 1.2.3): a 592-byte big-endian header (magic "LUKS\xba\xbe", version 1,
 * cipher name and mode, hash spec, payload offset in sectors, key bytes,
 * the master key's PBKDF2 digest with its salt and iterations, the UUID),
 * eight key slots of 48 bytes, each active one holding its key material
 * (the master key split with AF-split over 4000 stripes, encrypted with
 * the key PBKDF2 derives from the passphrase) from sector 8 on, and the
 * payload from sector 4096, encrypted per 512-byte sector.
 *
 * MODE: "xts-plain64" or "xts-plain" (AES-XTS, KEY_BITS 256 or 512:
 * AES-128 or AES-256 halves, the tweak the sector number), or
 * "cbc-essiv:sha256", "cbc-plain64" or "cbc-plain" (AES-CBC, KEY_BITS 128,
 * 192 or 256; the IV the sector number, for ESSIV encrypted with SHA-256
 * of the master key as an AES-256 key). plain64 and ESSIV take the sector
 * number as 64 bits, plain as 32 (little-endian, zero-padded); sectors
 * count from 0 at the payload, and at each key slot's material. The hash
 * is SHA-256. Each PASSFILE's bytes, as they are (cryptsetup --key-file
 * reads a key file so), are one key slot's passphrase, from slot 0; at
 * most 8. PAYLOAD "-" writes no payload (a header only, for tests of the
 * header).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/aes.h>
#include <nettle/cbc.h>
#include <nettle/pbkdf2.h>
#include <nettle/sha2.h>
#include <nettle/xts.h>

#define SECTOR 512
#define STRIPES 4000
#define SLOTS 8
#define PAYLOAD_SECTORS 4096
#define ITERATIONS 1000
#define PASS_MAX 8192

static const char *prog = "kt-mkluks";

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

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- the sector cipher ----------------------------------------------- */

typedef struct sector_mode {
    const char *name;
    int xts, essiv, iv_bytes;
} sector_mode;

static const sector_mode modes[] = {
    {"xts-plain64", 1, 0, 8}, {"xts-plain", 1, 0, 4}, {"cbc-essiv:sha256", 0, 1, 8},
    {"cbc-plain64", 0, 0, 8}, {"cbc-plain", 0, 0, 4},
};

typedef struct cipher {
    const sector_mode *m;
    size_t key_bytes;
    struct xts_aes128_key x128;
    struct xts_aes256_key x256;
    struct aes128_ctx c128;
    struct aes192_ctx c192;
    struct aes256_ctx c256;
    struct aes256_ctx essiv; /* SHA-256 of the key, as an AES-256 key */
} cipher;

static void cipher_init(cipher *c, const sector_mode *m, const uint8_t *key, size_t key_bytes)
{
    memset(c, 0, sizeof *c);
    c->m = m;
    c->key_bytes = key_bytes;
    if (m->xts && key_bytes == 32)
        xts_aes128_set_encrypt_key(&c->x128, key);
    else if (m->xts)
        xts_aes256_set_encrypt_key(&c->x256, key);
    else {
        if (key_bytes == 16)
            aes128_set_encrypt_key(&c->c128, key);
        else if (key_bytes == 24)
            aes192_set_encrypt_key(&c->c192, key);
        else
            aes256_set_encrypt_key(&c->c256, key);
        if (!m->essiv)
            return;
        uint8_t salt[SHA256_DIGEST_SIZE];
        struct sha256_ctx h;
        sha256_init(&h);
        sha256_update(&h, key_bytes, key);
        sha256_digest(&h, sizeof salt, salt);
        aes256_set_encrypt_key(&c->essiv, salt);
    }
}

/* n bytes (whole sectors) in place, the first being sector `first`. */
static void encrypt(cipher *c, uint8_t *buf, size_t n, uint64_t first)
{
    for (size_t off = 0; off < n; off += SECTOR) {
        uint64_t s = first + off / SECTOR;
        uint8_t iv[16] = {0};
        for (int i = 0; i < c->m->iv_bytes; i++)
            iv[i] = (uint8_t)(s >> (8 * i)); /* little-endian sector number */
        uint8_t *p = buf + off;
        if (c->m->xts && c->key_bytes == 32)
            xts_aes128_encrypt_message(&c->x128, iv, SECTOR, p, p);
        else if (c->m->xts)
            xts_aes256_encrypt_message(&c->x256, iv, SECTOR, p, p);
        else {
            if (c->m->essiv)
                aes256_encrypt(&c->essiv, 16, iv, iv);
            if (c->key_bytes == 16)
                cbc_encrypt((void *)&c->c128, (nettle_cipher_func *)aes128_encrypt, 16, iv, SECTOR,
                            p, p);
            else if (c->key_bytes == 24)
                cbc_encrypt((void *)&c->c192, (nettle_cipher_func *)aes192_encrypt, 16, iv, SECTOR,
                            p, p);
            else
                cbc_encrypt((void *)&c->c256, (nettle_cipher_func *)aes256_encrypt, 16, iv, SECTOR,
                            p, p);
        }
    }
}

/* ---- AF-split (LUKS1 spec 2.4): the hash diffusion and the split ------ */

static void diffuse(uint8_t *buf, size_t n)
{
    uint32_t i = 0;
    for (size_t off = 0; off < n; off += SHA256_DIGEST_SIZE, i++) {
        size_t k = n - off < SHA256_DIGEST_SIZE ? n - off : SHA256_DIGEST_SIZE;
        uint8_t iv[4], d[SHA256_DIGEST_SIZE];
        be32(iv, i);
        struct sha256_ctx h;
        sha256_init(&h);
        sha256_update(&h, 4, iv);
        sha256_update(&h, k, buf + off);
        sha256_digest(&h, sizeof d, d);
        memcpy(buf + off, d, k);
    }
}

static void af_split(const uint8_t *key, size_t n, uint8_t *out)
{
    uint8_t *acc = calloc(1, n);
    if (acc == NULL)
        die("out of memory");
    for (size_t s = 0; s + 1 < STRIPES; s++) {
        uint8_t *d = out + s * n;
        draw(d, n);
        for (size_t i = 0; i < n; i++)
            acc[i] ^= d[i];
        diffuse(acc, n);
    }
    for (size_t i = 0; i < n; i++)
        out[(STRIPES - 1) * n + i] = acc[i] ^ key[i];
    free(acc);
}

static size_t read_file(const char *path, uint8_t *buf, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        exit(1);
    }
    size_t n = fread(buf, 1, len, f);
    if (!feof(f) || ferror(f))
        die("a passphrase file is unreadable or longer than 8192 bytes");
    fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 8 || argc > 7 + SLOTS) {
        fprintf(stderr, "usage: %s OUT PAYLOAD UUID SEED MODE KEY_BITS PASSFILE...\n", prog);
        return 2;
    }
    const char *out = argv[1], *payload = argv[2], *uuid = argv[3], *mode = argv[5];
    if (strlen(argv[4]) >= sizeof seed || strlen(uuid) != 36)
        die("the seed is too long or the UUID not 36 characters");
    strcpy(seed, argv[4]);
    const sector_mode *m = NULL;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(mode, modes[i].name) == 0)
            m = &modes[i];
    if (m == NULL)
        die("MODE is xts-plain64, xts-plain, cbc-essiv:sha256, cbc-plain64 or cbc-plain");
    long bits = strtol(argv[6], NULL, 10);
    if ((m->xts && bits != 256 && bits != 512) ||
        (!m->xts && bits != 128 && bits != 192 && bits != 256))
        die("KEY_BITS: 256 or 512 for XTS, 128, 192 or 256 for CBC");
    size_t kb = (size_t)bits / 8;
    size_t af_bytes = kb * STRIPES;
    size_t af_sectors = (af_bytes + SECTOR - 1) / SECTOR;
    af_sectors = (af_sectors + 7) / 8 * 8; /* slots on 4 KiB boundaries, as cryptsetup */
    if (8 + SLOTS * af_sectors > PAYLOAD_SECTORS)
        die("key material does not fit before the payload");

    uint8_t *img = calloc(PAYLOAD_SECTORS, SECTOR);
    uint8_t master[64], digest_salt[32];
    if (img == NULL)
        die("out of memory");
    draw(master, kb);
    draw(digest_salt, sizeof digest_salt);

    uint8_t *h = img;
    memcpy(h, "LUKS\xba\xbe", 6);
    h[7] = 1;
    strcpy((char *)h + 8, "aes");
    strcpy((char *)h + 40, mode);
    strcpy((char *)h + 72, "sha256");
    be32(h + 104, PAYLOAD_SECTORS);
    be32(h + 108, (uint32_t)kb);
    pbkdf2_hmac_sha256(kb, master, ITERATIONS, sizeof digest_salt, digest_salt, 20, h + 112);
    memcpy(h + 132, digest_salt, 32);
    be32(h + 164, ITERATIONS);
    memcpy(h + 168, uuid, 36);

    uint8_t *af = malloc(af_sectors * SECTOR);
    uint8_t *pass = malloc(PASS_MAX);
    if (af == NULL || pass == NULL)
        die("out of memory");
    for (int s = 0; s < SLOTS; s++) {
        uint8_t *slot = h + 208 + 48 * s;
        uint32_t material = (uint32_t)(8 + s * af_sectors);
        be32(slot + 40, material);
        be32(slot + 44, STRIPES);
        if (s >= argc - 7) {
            be32(slot, 0x0000DEAD);
            continue;
        }
        size_t plen = read_file(argv[7 + s], pass, PASS_MAX);
        uint8_t salt[32], derived[64];
        draw(salt, sizeof salt);
        be32(slot, 0x00AC71F3);
        be32(slot + 4, ITERATIONS);
        memcpy(slot + 8, salt, sizeof salt);
        pbkdf2_hmac_sha256(plen, pass, ITERATIONS, sizeof salt, salt, kb, derived);
        memset(af, 0, af_sectors * SECTOR);
        af_split(master, kb, af);
        cipher c;
        cipher_init(&c, m, derived, kb);
        encrypt(&c, af, af_sectors * SECTOR, 0);
        memcpy(img + (size_t)material * SECTOR, af, af_sectors * SECTOR);
    }
    free(af);
    free(pass);

    FILE *o = fopen(out, "wb");
    if (o == NULL || fwrite(img, SECTOR, PAYLOAD_SECTORS, o) != PAYLOAD_SECTORS)
        die("cannot write OUT");
    free(img);
    if (strcmp(payload, "-") != 0) {
        FILE *in = fopen(payload, "rb");
        if (in == NULL)
            die("cannot open PAYLOAD");
        cipher c;
        cipher_init(&c, m, master, kb);
        enum { CHUNK = 256 * SECTOR };
        uint8_t *buf = malloc(CHUNK);
        if (buf == NULL)
            die("out of memory");
        uint64_t sector = 0;
        size_t n;
        while ((n = fread(buf, 1, CHUNK, in)) > 0) {
            if (n % SECTOR)
                die("PAYLOAD is not whole 512-byte sectors");
            encrypt(&c, buf, n, sector);
            if (fwrite(buf, 1, n, o) != n)
                die("cannot write OUT");
            sector += n / SECTOR;
        }
        if (ferror(in))
            die("cannot read PAYLOAD");
        fclose(in);
        free(buf);
    }
    if (fclose(o) != 0)
        die("cannot write OUT");
    return 0;
}
