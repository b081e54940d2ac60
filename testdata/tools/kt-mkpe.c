/* kt-mkpe: minimal Windows PE files with a version resource, and the test
 * certificates that sign them, byte for byte the same on every run.
 *
 * Usage:
 *   kt-mkpe cert DN SERIAL NOTBEFORE NOTAFTER SEED OUT.key OUT.crt [CA.key CA.crt]
 *       An RSA-2048 key generated from SEED (FIPS 186-4 provable primes,
 *       GnuTLS's GNUTLS_PRIVKEY_FLAG_PROVABLE: the same seed gives the same
 *       key, as `certtool --generate-privkey --provable --seed` does) and an
 *       X.509 v3 certificate for DN (RFC 4514, as GnuTLS prints it) with
 *       the serial SERIAL (hex) and validity NOTBEFORE..NOTAFTER
 *       (YYYY-MM-DDTHH:MM:SSZ), signed with SHA-256 by CA (a code-signing
 *       leaf) or by itself (a CA). SEED: 28 bytes as 56 hex digits. RSA
 *       PKCS#1 v1.5 signatures are deterministic, so is the certificate.
 *       Both written as PEM.
 *   kt-mkpe pe SPEC OUT
 *       A PE from a text spec (below). Unsigned: testdata/pe/build-pe.sh
 *       signs it with osslsigncode.
 *
 * Writes OUT.tmp and renames it; on error OUT is left untouched. Exit: 0
 * done, 1 bad spec or failure ("SPEC:LINE: message"), 2 usage.
 *
 * Spec: UTF-8 text, one directive per line, fields separated by one TAB;
 * blank lines and lines starting with '#' are ignored.
 *   format    pe32 | pe32+          (i386 or AMD64)
 *   kind      exe | dll
 *   timestamp TIME                  COFF TimeDateStamp
 *   language  LLLL CCCC             string table name, e.g. 0409 04b0
 *   version   A.B.C.D               VS_FIXEDFILEINFO file and product version
 *   string    KEY VALUE             one StringFileInfo string, in order
 *   sign      ...                   read by build-pe.sh, ignored here
 * With no `string` line the PE has no resource section at all.
 *
 * Layout (Microsoft PE/COFF specification; file alignment 0x200, section
 * alignment 0x1000): DOS header with e_lfanew 0x80, "PE\0\0", COFF header,
 * optional header (PE32: 0xE0 bytes, PE32+: 0xF0) with 16 data
 * directories, a section table; .text at RVA 0x1000 (one RET), .rsrc at
 * RVA 0x2000: a resource tree type 16 (RT_VERSION) / ID 1 / language, its
 * data entry, then VS_VERSIONINFO (VS_FIXEDFILEINFO, StringFileInfo with
 * one StringTable, VarFileInfo with Translation), every block 32-bit
 * aligned. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

static const char *spec_name;
static unsigned spec_line;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (spec_name)
        fprintf(stderr, "%s:%u: ", spec_name, spec_line);
    else
        fprintf(stderr, "kt-mkpe: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static time_t parse_time(const char *s)
{
    struct tm tm = {0};
    char z = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &z) != 7 ||
        z != 'Z')
        die("bad time '%s' (want YYYY-MM-DDTHH:MM:SSZ)", s);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

static void write_file(const char *path, const void *data, size_t len)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        die("cannot create '%s': %s", tmp, strerror(errno));
    if (fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        remove(tmp);
        die("cannot write '%s'", tmp);
    }
    if (rename(tmp, path) != 0) {
        remove(tmp);
        die("cannot rename '%s': %s", tmp, strerror(errno));
    }
}

/* ---- certificates ---------------------------------------------------------- */

static void gt(int rc, const char *what)
{
    if (rc < 0)
        die("%s: %s", what, gnutls_strerror(rc));
}

static size_t unhex(const char *s, unsigned char *out, size_t max)
{
    size_t n = strlen(s);
    if (n % 2 || n / 2 > max || n == 0)
        die("bad hex '%s'", s);
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            die("bad hex '%s'", s);
        out[i] = (unsigned char)v;
    }
    return n / 2;
}

static gnutls_x509_privkey_t load_key(const char *path)
{
    gnutls_datum_t d;
    gnutls_x509_privkey_t key;
    gt(gnutls_load_file(path, &d), path);
    gt(gnutls_x509_privkey_init(&key), "privkey_init");
    gt(gnutls_x509_privkey_import(key, &d, GNUTLS_X509_FMT_PEM), path);
    gnutls_free(d.data);
    return key;
}

static gnutls_x509_crt_t load_crt(const char *path)
{
    gnutls_datum_t d;
    gnutls_x509_crt_t crt;
    gt(gnutls_load_file(path, &d), path);
    gt(gnutls_x509_crt_init(&crt), "crt_init");
    gt(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), path);
    gnutls_free(d.data);
    return crt;
}

static int cmd_cert(int argc, char **argv)
{
    if (argc != 8 && argc != 10) {
        fprintf(stderr, "usage: kt-mkpe cert DN SERIAL NOTBEFORE NOTAFTER SEED OUT.key OUT.crt "
                        "[CA.key CA.crt]\n");
        return 2;
    }
    const char *dn = argv[1];
    unsigned char serial[20], seed[64];
    size_t nserial = unhex(argv[2], serial, sizeof serial);
    time_t from = parse_time(argv[3]), to = parse_time(argv[4]);
    size_t nseed = unhex(argv[5], seed, sizeof seed);
    bool ca = argc == 8;

    gnutls_x509_privkey_t key;
    gt(gnutls_x509_privkey_init(&key), "privkey_init");
    gnutls_keygen_data_st kd = {.type = GNUTLS_KEYGEN_SEED, .data = seed, .size = nseed};
    gt(gnutls_x509_privkey_generate2(key, GNUTLS_PK_RSA, 2048, GNUTLS_PRIVKEY_FLAG_PROVABLE, &kd,
                                     1),
       "provable RSA key from the seed");

    gnutls_x509_crt_t crt;
    const char *bad = NULL;
    gt(gnutls_x509_crt_init(&crt), "crt_init");
    gt(gnutls_x509_crt_set_version(crt, 3), "set_version");
    gt(gnutls_x509_crt_set_serial(crt, serial, nserial), "set_serial");
    gt(gnutls_x509_crt_set_activation_time(crt, from), "set_activation_time");
    gt(gnutls_x509_crt_set_expiration_time(crt, to), "set_expiration_time");
    if (gnutls_x509_crt_set_dn(crt, dn, &bad) < 0)
        die("bad DN '%s' at '%s'", dn, bad ? bad : "?");
    gt(gnutls_x509_crt_set_key(crt, key), "set_key");
    gt(gnutls_x509_crt_set_basic_constraints(crt, ca, -1), "set_basic_constraints");
    gt(gnutls_x509_crt_set_key_usage(crt, ca ? GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN
                                             : GNUTLS_KEY_DIGITAL_SIGNATURE),
       "set_key_usage");
    unsigned char kid[64];
    size_t nkid = sizeof kid;
    gt(gnutls_x509_privkey_get_key_id(key, 0, kid, &nkid), "get_key_id");
    gt(gnutls_x509_crt_set_subject_key_id(crt, kid, nkid), "set_subject_key_id");

    gnutls_x509_crt_t issuer = crt;
    gnutls_x509_privkey_t issuer_key = key;
    if (!ca) {
        gt(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_CODE_SIGNING, 0), "key purpose");
        issuer_key = load_key(argv[8]);
        issuer = load_crt(argv[9]);
        unsigned char akid[64];
        size_t nakid = sizeof akid;
        gt(gnutls_x509_crt_get_subject_key_id(issuer, akid, &nakid, NULL), "CA key id");
        gt(gnutls_x509_crt_set_authority_key_id(crt, akid, nakid), "set_authority_key_id");
    }
    gt(gnutls_x509_crt_sign2(crt, issuer, issuer_key, GNUTLS_DIG_SHA256, 0), "sign");

    gnutls_datum_t out;
    gt(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &out), "export key");
    write_file(argv[6], out.data, out.size);
    gnutls_free(out.data);
    gt(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &out), "export certificate");
    write_file(argv[7], out.data, out.size);
    gnutls_free(out.data);

    if (!ca) {
        gnutls_x509_crt_deinit(issuer);
        gnutls_x509_privkey_deinit(issuer_key);
    }
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(key);
    return 0;
}

/* ---- PE ---------------------------------------------------------------------- */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static void need(buf *b, size_t n)
{
    if (b->len + n <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
        cap *= 2;
    b->p = realloc(b->p, cap);
    if (!b->p)
        die("out of memory");
    memset(b->p + b->cap, 0, cap - b->cap);
    b->cap = cap;
}
static void put(buf *b, const void *d, size_t n)
{
    need(b, n);
    memcpy(b->p + b->len, d, n);
    b->len += n;
}
static void u8(buf *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    put(b, &x, 1);
}
static void u16(buf *b, unsigned v)
{
    u8(b, v & 0xff);
    u8(b, (v >> 8) & 0xff);
}
static void u32(buf *b, uint32_t v)
{
    u16(b, v & 0xffff);
    u16(b, v >> 16);
}
static void u64(buf *b, uint64_t v)
{
    u32(b, (uint32_t)v);
    u32(b, (uint32_t)(v >> 32));
}
static void pad_to(buf *b, size_t align)
{
    while (b->len % align)
        u8(b, 0);
}
static void set16(buf *b, size_t off, unsigned v)
{
    b->p[off] = v & 0xff;
    b->p[off + 1] = (v >> 8) & 0xff;
}
static void set32(buf *b, size_t off, uint32_t v)
{
    set16(b, off, v & 0xffff);
    set16(b, off + 2, v >> 16);
}

/* UTF-8 to UTF-16LE with a terminator; returns the units written, terminator included. */
static size_t utf16(buf *b, const char *s)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t c;
        int extra;
        if (*p < 0x80)
            c = *p, extra = 0;
        else if ((*p & 0xe0) == 0xc0)
            c = *p & 0x1f, extra = 1;
        else if ((*p & 0xf0) == 0xe0)
            c = *p & 0x0f, extra = 2;
        else if ((*p & 0xf8) == 0xf0)
            c = *p & 0x07, extra = 3;
        else
            die("bad UTF-8 in '%s'", s);
        p++;
        for (int i = 0; i < extra; i++, p++) {
            if ((*p & 0xc0) != 0x80)
                die("bad UTF-8 in '%s'", s);
            c = c << 6 | (*p & 0x3f);
        }
        if (c >= 0x10000) {
            c -= 0x10000;
            u16(b, 0xd800 | (c >> 10));
            u16(b, 0xdc00 | (c & 0x3ff));
            n += 2;
        } else {
            u16(b, c);
            n++;
        }
    }
    u16(b, 0);
    return n + 1;
}

/* A version-info block header; returns its offset, for end_block. */
static size_t begin_block(buf *b, unsigned value_len, unsigned type, const char *key)
{
    pad_to(b, 4);
    size_t at = b->len;
    u16(b, 0);
    u16(b, value_len);
    u16(b, type);
    utf16(b, key);
    pad_to(b, 4);
    return at;
}
static void end_block(buf *b, size_t at)
{
    set16(b, at, (unsigned)(b->len - at));
}

#define MAX_STRINGS 32

typedef struct pe_spec {
    bool pe32plus, dll;
    uint32_t timestamp;
    char lang[9];
    unsigned ver[4];
    size_t nstrings;
    char *keys[MAX_STRINGS], *values[MAX_STRINGS];
} pe_spec;

static void read_spec(const char *path, pe_spec *s)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot open '%s': %s", path, strerror(errno));
    spec_name = path;
    bool have_format = false;
    snprintf(s->lang, sizeof s->lang, "040904b0");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        spec_line++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n == 0 || line[0] == '#')
            continue;
        char *f1 = strchr(line, '\t');
        if (!f1)
            die("directive '%s' has no value", line);
        *f1++ = 0;
        char *f2 = strchr(f1, '\t');
        if (f2)
            *f2++ = 0;
        if (!strcmp(line, "format")) {
            if (!strcmp(f1, "pe32"))
                s->pe32plus = false;
            else if (!strcmp(f1, "pe32+"))
                s->pe32plus = true;
            else
                die("format '%s': want pe32 or pe32+", f1);
            have_format = true;
        } else if (!strcmp(line, "kind")) {
            if (strcmp(f1, "exe") && strcmp(f1, "dll"))
                die("kind '%s': want exe or dll", f1);
            s->dll = !strcmp(f1, "dll");
        } else if (!strcmp(line, "timestamp")) {
            s->timestamp = (uint32_t)parse_time(f1);
        } else if (!strcmp(line, "language")) {
            if (!f2 || strlen(f1) != 4 || strlen(f2) != 4)
                die("language: want LLLL<TAB>CCCC");
            snprintf(s->lang, sizeof s->lang, "%s%s", f1, f2);
        } else if (!strcmp(line, "version")) {
            if (sscanf(f1, "%u.%u.%u.%u", &s->ver[0], &s->ver[1], &s->ver[2], &s->ver[3]) != 4)
                die("version '%s': want A.B.C.D", f1);
        } else if (!strcmp(line, "string")) {
            if (!f2)
                die("string: want KEY<TAB>VALUE");
            if (s->nstrings == MAX_STRINGS)
                die("more than %d strings", MAX_STRINGS);
            s->keys[s->nstrings] = strdup(f1);
            s->values[s->nstrings++] = strdup(f2);
        } else if (strcmp(line, "sign") != 0) {
            die("unknown directive '%s'", line);
        }
    }
    free(line);
    fclose(f);
    if (!have_format)
        die("no format line");
    spec_name = NULL;
}

/* The .rsrc section's bytes for a section at RVA rva. */
static void build_rsrc(const pe_spec *s, uint32_t rva, buf *r)
{
    unsigned lang;
    if (sscanf(s->lang, "%4x", &lang) != 1)
        die("bad language");
    /* Three directories of one entry each (16 + 8 bytes), then the data entry. */
    for (int level = 0; level < 3; level++) {
        u32(r, 0); /* Characteristics */
        u32(r, 0); /* TimeDateStamp */
        u16(r, 0); /* MajorVersion */
        u16(r, 0); /* MinorVersion */
        u16(r, 0); /* NumberOfNamedEntries */
        u16(r, 1); /* NumberOfIdEntries */
        u32(r, level == 0 ? 16 : level == 1 ? 1 : lang);
        uint32_t next = (uint32_t)(level + 1) * 24;
        u32(r, level < 2 ? (0x80000000u | next) : next);
    }
    size_t data_entry = r->len;
    u32(r, 0); /* OffsetToData (RVA), set below */
    u32(r, 0); /* Size */
    u32(r, 0); /* CodePage */
    u32(r, 0); /* Reserved */
    pad_to(r, 16);
    size_t vs = r->len;

    size_t root = begin_block(r, 52, 0, "VS_VERSION_INFO");
    u32(r, 0xfeef04bd);                  /* dwSignature */
    u32(r, 0x00010000);                  /* dwStrucVersion */
    u32(r, s->ver[0] << 16 | s->ver[1]); /* dwFileVersionMS */
    u32(r, s->ver[2] << 16 | s->ver[3]); /* dwFileVersionLS */
    u32(r, s->ver[0] << 16 | s->ver[1]); /* dwProductVersionMS */
    u32(r, s->ver[2] << 16 | s->ver[3]); /* dwProductVersionLS */
    u32(r, 0x3f);                        /* dwFileFlagsMask */
    u32(r, 0);                           /* dwFileFlags */
    u32(r, 0x00040004);                  /* dwFileOS: VOS_NT_WINDOWS32 */
    u32(r, s->dll ? 2 : 1);              /* dwFileType: VFT_DLL / VFT_APP */
    u32(r, 0);                           /* dwFileSubtype */
    u32(r, 0);                           /* dwFileDateMS */
    u32(r, 0);                           /* dwFileDateLS */
    size_t sfi = begin_block(r, 0, 1, "StringFileInfo");
    size_t table = begin_block(r, 0, 1, s->lang);
    for (size_t i = 0; i < s->nstrings; i++) {
        size_t str = begin_block(r, 0, 1, s->keys[i]);
        size_t units = utf16(r, s->values[i]);
        set16(r, str + 2, (unsigned)units); /* wValueLength: WCHARs, terminator included */
        end_block(r, str);
    }
    end_block(r, table);
    end_block(r, sfi);
    size_t vfi = begin_block(r, 0, 1, "VarFileInfo");
    size_t var = begin_block(r, 4, 0, "Translation");
    unsigned cp;
    if (sscanf(s->lang + 4, "%4x", &cp) != 1)
        die("bad code page");
    u16(r, lang);
    u16(r, cp);
    end_block(r, var);
    end_block(r, vfi);
    end_block(r, root);

    set32(r, data_entry, (uint32_t)(rva + vs));
    set32(r, data_entry + 4, (uint32_t)(r->len - vs));
}

static int cmd_pe(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: kt-mkpe pe SPEC OUT\n");
        return 2;
    }
    pe_spec s = {0};
    read_spec(argv[1], &s);

    const uint32_t falign = 0x200, salign = 0x1000;
    buf rsrc = {0};
    bool has_rsrc = s.nstrings > 0;
    if (has_rsrc)
        build_rsrc(&s, 0x2000, &rsrc);
    uint32_t rsrc_raw = (uint32_t)((rsrc.len + falign - 1) / falign * falign);
    unsigned nsections = has_rsrc ? 2 : 1;
    uint32_t image_size =
        has_rsrc ? 0x2000 + (uint32_t)((rsrc.len + salign - 1) / salign * salign) : 0x2000;

    buf b = {0};
    /* DOS header: "MZ", e_lfanew at 0x3C. */
    put(&b, "MZ", 2);
    u16(&b, 0x90); /* e_cblp */
    u16(&b, 3);    /* e_cp */
    u16(&b, 0);
    u16(&b, 4); /* e_cparhdr */
    u16(&b, 0);
    u16(&b, 0xffff);
    need(&b, 0x80);
    b.len = 0x3c;
    u32(&b, 0x80);
    b.len = 0x40;
    put(&b, "\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21", 14);
    put(&b, "This program cannot be run in DOS mode.\r\r\n$", 43);
    b.len = 0x80;

    put(&b, "PE\0\0", 4);
    u16(&b, s.pe32plus ? 0x8664 : 0x014c); /* Machine */
    u16(&b, nsections);
    u32(&b, s.timestamp);
    u32(&b, 0); /* PointerToSymbolTable */
    u32(&b, 0); /* NumberOfSymbols */
    u16(&b, s.pe32plus ? 0xf0 : 0xe0);
    u16(&b, (s.pe32plus ? 0x0022 : 0x0102) | (s.dll ? 0x2000 : 0));

    u16(&b, s.pe32plus ? 0x20b : 0x10b);
    u8(&b, 14); /* linker 14.0 */
    u8(&b, 0);
    u32(&b, falign);   /* SizeOfCode */
    u32(&b, rsrc_raw); /* SizeOfInitializedData */
    u32(&b, 0);
    u32(&b, 0x1000); /* AddressOfEntryPoint */
    u32(&b, 0x1000); /* BaseOfCode */
    if (s.pe32plus) {
        u64(&b, s.dll ? 0x180000000ull : 0x140000000ull);
    } else {
        u32(&b, 0x2000); /* BaseOfData */
        u32(&b, s.dll ? 0x10000000u : 0x400000u);
    }
    u32(&b, salign);
    u32(&b, falign);
    u16(&b, 6); /* OS 6.0 */
    u16(&b, 0);
    u16(&b, 0); /* image version */
    u16(&b, 0);
    u16(&b, 6); /* subsystem 6.0 */
    u16(&b, 0);
    u32(&b, 0);          /* Win32VersionValue */
    u32(&b, image_size); /* SizeOfImage */
    u32(&b, falign);     /* SizeOfHeaders */
    u32(&b, 0);          /* CheckSum (osslsigncode sets it) */
    u16(&b, 2);          /* Subsystem: Windows GUI */
    u16(&b, 0x8140);     /* DllCharacteristics: TS aware, NX, dynamic base */
    if (s.pe32plus) {
        u64(&b, 0x100000);
        u64(&b, 0x1000);
        u64(&b, 0x100000);
        u64(&b, 0x1000);
    } else {
        u32(&b, 0x100000);
        u32(&b, 0x1000);
        u32(&b, 0x100000);
        u32(&b, 0x1000);
    }
    u32(&b, 0);  /* LoaderFlags */
    u32(&b, 16); /* NumberOfRvaAndSizes */
    for (int i = 0; i < 16; i++) {
        if (i == 2 && has_rsrc) {
            u32(&b, 0x2000);
            u32(&b, (uint32_t)rsrc.len);
        } else {
            u64(&b, 0);
        }
    }

    /* Section table. */
    put(&b, ".text\0\0\0", 8);
    u32(&b, 1);      /* VirtualSize */
    u32(&b, 0x1000); /* VirtualAddress */
    u32(&b, falign); /* SizeOfRawData */
    u32(&b, falign); /* PointerToRawData */
    u32(&b, 0);
    u32(&b, 0);
    u16(&b, 0);
    u16(&b, 0);
    u32(&b, 0x60000020); /* code, execute, read */
    if (has_rsrc) {
        put(&b, ".rsrc\0\0\0", 8);
        u32(&b, (uint32_t)rsrc.len);
        u32(&b, 0x2000);
        u32(&b, rsrc_raw);
        u32(&b, 2 * falign);
        u32(&b, 0);
        u32(&b, 0);
        u16(&b, 0);
        u16(&b, 0);
        u32(&b, 0x40000040); /* initialised data, read */
    }
    pad_to(&b, falign);
    u8(&b, 0xc3); /* RET */
    pad_to(&b, falign);
    if (has_rsrc) {
        put(&b, rsrc.p, rsrc.len);
        pad_to(&b, falign);
    }
    write_file(argv[2], b.p, b.len);
    free(b.p);
    free(rsrc.p);
    for (size_t i = 0; i < s.nstrings; i++) {
        free(s.keys[i]);
        free(s.values[i]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "cert"))
        return cmd_cert(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "pe"))
        return cmd_pe(argc - 1, argv + 1);
    fprintf(stderr, "usage: kt-mkpe cert ... | kt-mkpe pe SPEC OUT\n");
    return 2;
}
