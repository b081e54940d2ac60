/* Windows PE files: headers, the version resource and the Authenticode
 * signer (see include/kavtrace/pe.h).
 *
 * Layouts from Microsoft's "PE Format" specification: the DOS header's
 * e_lfanew at 0x3C; "PE\0\0"; the 20-byte COFF header; the optional header
 * (magic 0x10B PE32 / 0x20B PE32+) whose data directories start at 96 / 112;
 * 40-byte section headers. The resource directory (data directory 2) is a
 * tree of IMAGE_RESOURCE_DIRECTORY (16 bytes, then 8-byte entries, named
 * first) whose offsets are relative to the tree's start; data entries hold
 * RVAs. VS_VERSIONINFO blocks: wLength, wValueLength, wType, a UTF-16
 * key, then value and children on 32-bit boundaries. The security
 * directory (data directory 4) holds a file offset, not an RVA, to
 * WIN_CERTIFICATE entries (dwLength, wRevision, wCertificateType, then the
 * certificate, each entry 8-byte aligned). */
#include "kavtrace/pe.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/pkcs7.h>
#include <gnutls/x509.h>

#include "kavtrace/alloc.h"
#include "kavtrace/bytes.h"

#define WIN_CERT_TYPE_PKCS_SIGNED_DATA 2
#define RT_VERSION 16
#define MAX_CERT_ENTRIES 16 /* WIN_CERTIFICATE entries looked at */
#define MAX_BAG_CERTS 64    /* certificates of one signature compared with the signer */

typedef struct pe_file {
    const uint8_t *d;
    size_t len;
    bool plus;
    size_t sections; /* file offset of the section table */
    uint16_t nsections;
    uint32_t header_size; /* SizeOfHeaders */
    size_t dirs;          /* file offset of the data directories */
    uint32_t ndirs;
} pe_file;

static int bad(kt_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(kt_error *err, const char *fmt, ...)
{
    char msg[KT_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return kt_error_set(err, KT_EFORMAT, "pe: %s", msg);
}

static int nomem(kt_error *err)
{
    return kt_error_set(err, KT_ENOMEM, "pe: out of memory");
}

/* ---- headers ---------------------------------------------------------------- */

static int read_headers(pe_file *p, kt_error *err)
{
    const uint8_t *d = p->d;
    size_t len = p->len;
    uint32_t lfanew = 0, sig = 0;
    if (len < 0x40)
        return bad(err, "%zu bytes: too short for a DOS header", len);
    if (d[0] != 'M' || d[1] != 'Z')
        return bad(err, "no MZ signature: not a PE file");
    kt_rd_le32(d, len, 0x3c, &lfanew);
    if (!kt_rd_le32(d, len, lfanew, &sig))
        return bad(err, "PE header at 0x%x lies outside the file (%zu bytes)", lfanew, len);
    if (sig != 0x00004550)
        return bad(err, "no PE signature at 0x%x: not a PE file (an MS-DOS program?)", lfanew);
    size_t coff = (size_t)lfanew + 4;
    uint16_t nsections = 0, opt_size = 0, magic = 0;
    if (!kt_rd_fits(len, coff, 20))
        return bad(err, "truncated COFF header at 0x%zx (file of %zu bytes)", coff, len);
    kt_rd_le16(d, len, coff + 2, &nsections);
    kt_rd_le16(d, len, coff + 16, &opt_size);
    if (nsections > KT_PE_MAX_SECTIONS)
        return bad(err, "%u sections: over the limit of %d", nsections, KT_PE_MAX_SECTIONS);
    size_t opt = coff + 20;
    if (!kt_rd_le16(d, len, opt, &magic))
        return bad(err, "truncated optional header at 0x%zx", opt);
    if (magic != 0x10b && magic != 0x20b)
        return bad(err, "optional header magic 0x%04x at 0x%zx: neither PE32 nor PE32+", magic,
                   opt);
    p->plus = magic == 0x20b;
    /* NumberOfRvaAndSizes at 92 (PE32) or 108 (PE32+), the directories after it. */
    size_t nrva_at = p->plus ? 108 : 92;
    if (opt_size < nrva_at + 4)
        return bad(err, "optional header of %u bytes: a %s one needs at least %zu", opt_size,
                   p->plus ? "PE32+" : "PE32", nrva_at + 4);
    if (!kt_rd_fits(len, opt, opt_size))
        return bad(err, "truncated optional header at 0x%zx (%u bytes, file of %zu)", opt, opt_size,
                   len);
    uint32_t nrva = 0;
    kt_rd_le32(d, len, opt + 60, &p->header_size);
    kt_rd_le32(d, len, opt + nrva_at, &nrva);
    p->dirs = opt + nrva_at + 4;
    uint32_t room = (uint32_t)(opt_size - (nrva_at + 4)) / 8;
    p->ndirs = nrva < room ? nrva : room;
    if (p->ndirs > 16)
        p->ndirs = 16;
    p->sections = opt + opt_size;
    p->nsections = nsections;
    if (!kt_rd_fits(len, p->sections, (size_t)nsections * 40))
        return bad(err, "truncated section table at 0x%zx (%u sections, file of %zu bytes)",
                   p->sections, nsections, len);
    return 0;
}

static bool directory(const pe_file *p, unsigned index, uint32_t *va, uint32_t *size)
{
    if (index >= p->ndirs)
        return false;
    kt_rd_le32(p->d, p->len, p->dirs + 8 * index, va);
    kt_rd_le32(p->d, p->len, p->dirs + 8 * index + 4, size);
    return *size != 0;
}

/* The file offset of rva and how many bytes from there belong to the same
 * section's raw data (or the headers) inside the file. */
static bool map_rva(const pe_file *p, uint32_t rva, size_t *off, size_t *avail)
{
    for (unsigned i = 0; i < p->nsections; i++) {
        size_t s = p->sections + 40 * (size_t)i;
        uint32_t va = 0, raw_size = 0, raw_ptr = 0;
        kt_rd_le32(p->d, p->len, s + 12, &va);
        kt_rd_le32(p->d, p->len, s + 16, &raw_size);
        kt_rd_le32(p->d, p->len, s + 20, &raw_ptr);
        if (rva < va || rva - va >= raw_size)
            continue;
        size_t o = (size_t)raw_ptr + (rva - va);
        if (o >= p->len)
            return false;
        size_t end = (size_t)raw_ptr + raw_size;
        if (end > p->len)
            end = p->len;
        *off = o;
        *avail = end - o;
        return true;
    }
    if (rva < p->header_size && rva < p->len) {
        size_t end = p->header_size < p->len ? p->header_size : p->len;
        *off = rva;
        *avail = end - rva;
        return true;
    }
    return false;
}

/* ---- UTF-16 ------------------------------------------------------------------- */

/* units UTF-16LE code units at s (unpaired surrogates become U+FFFD) as a
 * new UTF-8 string, or NULL when out of memory. */
static char *utf16_to_utf8(const uint8_t *s, size_t units)
{
    /* at most 3 bytes a unit (a pair: 4 bytes for 2 units) */
    char *out = kt_malloc(units * 3 + 1);
    if (out)
        kt_utf16le_to_utf8(s, units, out, units * 3 + 1);
    return out;
}

/* Whether the UTF-16LE units at s are the ASCII string a. */
static bool key_is(const uint8_t *s, size_t units, const char *a)
{
    size_t n = strlen(a);
    if (units != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[2 * i] != (uint8_t)a[i] || s[2 * i + 1] != 0)
            return false;
    return true;
}

/* ---- VS_VERSIONINFO ------------------------------------------------------------- */

typedef struct vblock {
    size_t key;       /* offset of the key's first unit */
    size_t key_units; /* without the terminator */
    size_t value;     /* offset of the value */
    size_t children;  /* offset of the first child */
    size_t end;       /* offset past the block */
} vblock;

static size_t align4(size_t x)
{
    return (x + 3) & ~(size_t)3;
}

static int vblock_read(const uint8_t *d, size_t len, size_t off, vblock *b, kt_error *err)
{
    uint16_t length = 0, value_len = 0, type = 0;
    if (!kt_rd_le16(d, len, off, &length) || !kt_rd_le16(d, len, off + 2, &value_len) ||
        !kt_rd_le16(d, len, off + 4, &type))
        return bad(err, "version block at +0x%zx: truncated header", off);
    if (length < 6 || length > len - off)
        return bad(err, "version block at +0x%zx: length %u outside its parent (%zu bytes left)",
                   off, length, len - off);
    b->end = off + length;
    b->key = off + 6;
    size_t i = b->key;
    while (i + 2 <= b->end && (d[i] | d[i + 1]) != 0)
        i += 2;
    if (i + 2 > b->end)
        return bad(err, "version block at +0x%zx: key without a terminator", off);
    b->key_units = (i - b->key) / 2;
    b->value = align4(i + 2);
    size_t value_bytes = type == 1 ? (size_t)value_len * 2 : value_len;
    b->children = align4(b->value + value_bytes);
    if (b->value > b->end)
        b->value = b->end;
    if (b->children > b->end)
        b->children = b->end;
    return 0;
}

static const struct {
    const char *key;
    size_t field;
} version_fields[] = {
    {"CompanyName", offsetof(kt_pe_info, company_name)},
    {"ProductName", offsetof(kt_pe_info, product_name)},
    {"FileDescription", offsetof(kt_pe_info, file_description)},
    {"FileVersion", offsetof(kt_pe_info, file_version)},
    {"ProductVersion", offsetof(kt_pe_info, product_version)},
    {"LegalCopyright", offsetof(kt_pe_info, legal_copyright)},
    {"OriginalFilename", offsetof(kt_pe_info, original_filename)},
    {"InternalName", offsetof(kt_pe_info, internal_name)},
};

/* The String blocks of one StringTable. */
static int read_string_table(const uint8_t *d, size_t len, const vblock *table, kt_pe_info *out,
                             kt_error *err)
{
    for (size_t c = table->children; c + 6 <= table->end;) {
        vblock s;
        int rc = vblock_read(d, table->end, c, &s, err);
        if (rc < 0)
            return rc;
        /* The value runs to its terminator: writers disagree on whether
         * wValueLength counts it, or counts bytes instead of WCHARs. */
        size_t units = 0;
        while (s.value + 2 * units + 2 <= s.end && units < KT_PE_MAX_STRING &&
               (d[s.value + 2 * units] | d[s.value + 2 * units + 1]) != 0)
            units++;
        for (size_t f = 0; f < sizeof version_fields / sizeof version_fields[0]; f++) {
            char **field = (char **)((char *)out + version_fields[f].field);
            if (*field || !key_is(d + s.key, s.key_units, version_fields[f].key))
                continue;
            *field = utf16_to_utf8(d + s.value, units);
            if (!*field)
                return nomem(err);
        }
        c = align4(s.end);
    }
    (void)len;
    return 0;
}

static int read_version_info(const uint8_t *d, size_t len, kt_pe_info *out, kt_error *err)
{
    vblock root;
    int rc = vblock_read(d, len, 0, &root, err);
    if (rc < 0)
        return rc;
    if (!key_is(d + root.key, root.key_units, "VS_VERSION_INFO"))
        return bad(err, "RT_VERSION resource without a VS_VERSION_INFO key");
    for (size_t c = root.children; c + 6 <= root.end;) {
        vblock child;
        if ((rc = vblock_read(d, root.end, c, &child, err)) < 0)
            return rc;
        if (key_is(d + child.key, child.key_units, "StringFileInfo")) {
            /* The first StringTable only. */
            if (child.children + 6 > child.end)
                return 0;
            vblock table;
            if ((rc = vblock_read(d, child.end, child.children, &table, err)) < 0)
                return rc;
            return read_string_table(d, len, &table, out, err);
        }
        c = align4(child.end);
    }
    return 0;
}

/* ---- the resource tree --------------------------------------------------------- */

typedef struct rtree {
    const pe_file *p;
    size_t base, avail; /* the tree's file offset and the bytes of its section from there */
    uint32_t visited[KT_PE_MAX_RESOURCE_DIRS];
    size_t nvisited;
} rtree;

/* Descend from directory dir (offset in the tree) at depth 0 (types: only
 * RT_VERSION), 1 (names) or 2 (languages: a data entry); sets *entry to the
 * data entry's offset in the tree. Below the type level the first entry that
 * leads to a data entry wins. Returns 0, KT_ENOTFOUND (no RT_VERSION),
 * KT_ELOOP (a directory reached twice), KT_EFORMAT or KT_ENOMEM. */
static bool visited(const rtree *t, uint32_t dir)
{
    for (size_t i = 0; i < t->nvisited; i++)
        if (t->visited[i] == dir)
            return true;
    return false;
}

static int descend(rtree *t, uint32_t dir, int depth, uint32_t *entry, kt_error *err)
{
    if (visited(t, dir))
        return kt_error_set(err, KT_ELOOP,
                            "resource directory loop: directory at +0x%x reached twice", dir);
    if (t->nvisited == KT_PE_MAX_RESOURCE_DIRS)
        return bad(err, "over %d resource directories visited", KT_PE_MAX_RESOURCE_DIRS);
    t->visited[t->nvisited++] = dir;

    const uint8_t *d = t->p->d + t->base;
    uint16_t named = 0, ids = 0;
    if (!kt_rd_le16(d, t->avail, (size_t)dir + 12, &named) ||
        !kt_rd_le16(d, t->avail, (size_t)dir + 14, &ids))
        return bad(err, "resource directory at +0x%x lies outside the resource section", dir);
    size_t n = (size_t)named + ids;
    if (n > KT_PE_MAX_RESOURCE_ENTRIES)
        return bad(err, "resource directory at +0x%x: %zu entries, over the limit of %d", dir, n,
                   KT_PE_MAX_RESOURCE_ENTRIES);
    if (!kt_rd_fits(t->avail, (size_t)dir + 16, n * 8))
        return bad(err, "resource directory at +0x%x: %zu entries run past the section", dir, n);
    int first = 0;
    for (size_t i = 0; i < n; i++) {
        size_t at = (size_t)dir + 16 + 8 * i;
        uint32_t name = 0, target = 0;
        kt_rd_le32(d, t->avail, at, &name);
        kt_rd_le32(d, t->avail, at + 4, &target);
        if (depth == 0 && name != RT_VERSION) /* named types have the high bit set */
            continue;
        bool subdir = target & 0x80000000u;
        target &= 0x7fffffffu;
        kt_error e = {0};
        int rc;
        if (subdir && depth < 2)
            rc = descend(t, target, depth + 1, entry, &e);
        else if (subdir && visited(t, target))
            rc = kt_error_set(&e, KT_ELOOP,
                              "resource directory loop: entry at +0x%zx points back to +0x%x", at,
                              target);
        else if (subdir)
            rc = bad(&e, "resource entry at +0x%zx: a fourth level of directories", at);
        else if (depth == 2)
            rc = (*entry = target, 0);
        else
            rc = bad(&e, "resource entry at +0x%zx: a data entry above the language level", at);
        if (rc == 0)
            return 0;
        if (depth == 0 || rc == KT_ENOMEM || rc == KT_ELOOP)
            return kt_error_set(err, rc, "%s", e.msg);
        if (!first)
            first = kt_error_set(err, rc, "%s", e.msg);
    }
    if (first)
        return first;
    if (depth == 0)
        return KT_ENOTFOUND;
    return bad(err, "resource directory at +0x%x has no entries", dir);
}

/* Fills the version fields, or sets resource_error; only KT_ENOMEM fails. */
static int read_resources(const pe_file *p, kt_pe_info *out)
{
    uint32_t rva = 0, size = 0;
    if (!directory(p, 2, &rva, &size))
        return 0;
    kt_error err = {0};
    rtree *t = kt_calloc(1, sizeof *t);
    if (!t)
        return KT_ENOMEM;
    t->p = p;
    int rc;
    uint32_t entry = 0, data_rva = 0, data_size = 0;
    size_t data_off = 0, data_avail = 0;
    if (!map_rva(p, rva, &t->base, &t->avail)) {
        rc = bad(&err, "resource directory at RVA 0x%x is in no section of the file", rva);
    } else if ((rc = descend(t, 0, 0, &entry, &err)) == KT_ENOTFOUND) {
        rc = 0; /* no RT_VERSION */
        goto out;
    } else if (rc == 0) {
        const uint8_t *d = p->d + t->base;
        if (!kt_rd_le32(d, t->avail, entry, &data_rva) ||
            !kt_rd_le32(d, t->avail, (size_t)entry + 4, &data_size))
            rc = bad(&err, "resource data entry at +0x%x lies outside the section", entry);
        else if (!map_rva(p, data_rva, &data_off, &data_avail))
            rc = bad(&err, "version resource at RVA 0x%x is in no section of the file", data_rva);
        else {
            if (data_size > data_avail)
                rc = bad(&err, "version resource at RVA 0x%x: %u bytes, only %zu in the file",
                         data_rva, data_size, data_avail);
            else
                rc = read_version_info(p->d + data_off, data_size, out, &err);
        }
    }
    if (rc == KT_ENOMEM)
        goto out;
    if (rc < 0) {
        out->resource_error = kt_strdup(err.msg + (strncmp(err.msg, "pe: ", 4) ? 0 : 4));
        rc = out->resource_error ? 0 : KT_ENOMEM;
    }
out:
    kt_free(t);
    return rc;
}

/* ---- the signature ------------------------------------------------------------------ */

static char *hex(const uint8_t *b, size_t n)
{
    char *s = kt_malloc(2 * n + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++)
        snprintf(s + 2 * i, 3, "%02x", b[i]);
    s[2 * n] = 0;
    return s;
}

/* A GnuTLS string as a kavtrace one (gnutls_free'd). */
static char *take(gnutls_datum_t *dn)
{
    char *s = kt_malloc(dn->size + 1);
    if (s) {
        memcpy(s, dn->data, dn->size);
        s[dn->size] = 0;
    }
    gnutls_free(dn->data);
    dn->data = NULL;
    return s;
}

static bool datum_eq(const gnutls_datum_t *a, const void *b, size_t n)
{
    return a->size == n && (n == 0 || memcmp(a->data, b, n) == 0);
}

/* Whether crt is the signer named by info (issuer and serial, or subject key id). */
static bool is_signer(gnutls_x509_crt_t crt, const gnutls_pkcs7_signature_info_st *info)
{
    uint8_t buf[64];
    size_t n = sizeof buf;
    if (info->issuer_dn.size == 0) {
        return info->issuer_keyid.size &&
               gnutls_x509_crt_get_subject_key_id(crt, buf, &n, NULL) == 0 &&
               datum_eq(&info->issuer_keyid, buf, n);
    }
    if (gnutls_x509_crt_get_serial(crt, buf, &n) < 0 || !datum_eq(&info->signer_serial, buf, n))
        return false;
    gnutls_datum_t issuer; /* a copy, for gnutls_free */
    if (gnutls_x509_crt_get_raw_issuer_dn(crt, &issuer) < 0)
        return false;
    bool same = datum_eq(&info->issuer_dn, issuer.data, issuer.size);
    gnutls_free(issuer.data);
    return same;
}

/* Reads the PKCS#7 SignedData in der[0..len) into out. Returns 0, KT_ENOMEM,
 * or KT_EFORMAT with err saying why. */
static int read_pkcs7(const uint8_t *der, size_t len, kt_pe_info *out, kt_error *err)
{
    /* The entry is padded to 8 bytes: hand GnuTLS the outer SEQUENCE only. */
    if (len >= 2 && der[0] == 0x30 && der[1] > 0x80 && der[1] <= 0x84) {
        size_t nlen = der[1] & 0x7f, body = 0;
        if (len >= 2 + nlen) {
            for (size_t i = 0; i < nlen; i++)
                body = body << 8 | der[2 + i];
            if (body <= len - 2 - nlen)
                len = 2 + nlen + body;
        }
    } else if (len >= 2 && der[0] == 0x30 && der[1] < 0x80 && der[1] + 2u <= len) {
        len = der[1] + 2u;
    }
    if (len > UINT32_MAX)
        return bad(err, "PKCS#7 signature of %zu bytes", len);

    gnutls_pkcs7_t p7 = NULL;
    gnutls_pkcs7_signature_info_st info;
    bool have_info = false;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t d = {(unsigned char *)der, (unsigned)len}, s = {0};
    int rc = 0, g;
    if ((g = gnutls_pkcs7_init(&p7)) < 0) {
        p7 = NULL;
        rc = g == GNUTLS_E_MEMORY_ERROR ? nomem(err) : bad(err, "GnuTLS: %s", gnutls_strerror(g));
        goto out;
    }
    if ((g = gnutls_pkcs7_import(p7, &d, GNUTLS_X509_FMT_DER)) < 0) {
        rc = bad(err, "not a PKCS#7 SignedData (GnuTLS: %s)", gnutls_strerror(g));
        goto out;
    }
    if (gnutls_pkcs7_get_signature_count(p7) <= 0) {
        rc = bad(err, "PKCS#7 SignedData without a signer");
        goto out;
    }
    if ((g = gnutls_pkcs7_get_signature_info(p7, 0, &info)) < 0) {
        rc = bad(err, "PKCS#7 signer unreadable (GnuTLS: %s)", gnutls_strerror(g));
        goto out;
    }
    have_info = true;
    if (info.signer_serial.size &&
        !(out->signer_serial = hex(info.signer_serial.data, info.signer_serial.size))) {
        rc = nomem(err);
        goto out;
    }
    if (info.signing_time != (time_t)-1)
        out->signing_time = kt_time_from_unix((int64_t)info.signing_time, 0);

    int ncrt = gnutls_pkcs7_get_crt_count(p7);
    for (int i = 0; i < ncrt && i < MAX_BAG_CERTS; i++) {
        gnutls_datum_t raw;
        if (gnutls_pkcs7_get_crt_raw2(p7, (unsigned)i, &raw) < 0)
            continue;
        if (gnutls_x509_crt_init(&crt) < 0) {
            gnutls_free(raw.data);
            crt = NULL;
            rc = nomem(err);
            goto out;
        }
        g = gnutls_x509_crt_import(crt, &raw, GNUTLS_X509_FMT_DER);
        gnutls_free(raw.data);
        if (g == 0 && is_signer(crt, &info))
            break;
        gnutls_x509_crt_deinit(crt);
        crt = NULL;
    }
    if (crt) {
        if (gnutls_x509_crt_get_dn3(crt, &s, 0) == 0 && !(out->signer_subject = take(&s))) {
            rc = nomem(err);
            goto out;
        }
        if (gnutls_x509_crt_get_issuer_dn3(crt, &s, 0) == 0 && !(out->signer_issuer = take(&s))) {
            rc = nomem(err);
            goto out;
        }
    } else {
        if (info.issuer_dn.size && gnutls_x509_rdn_get2(&info.issuer_dn, &s, 0) == 0 &&
            !(out->signer_issuer = take(&s))) {
            rc = nomem(err);
            goto out;
        }
        rc = bad(err, "the signer's certificate is not among the signature's %d certificates",
                 ncrt < 0 ? 0 : ncrt);
    }
out:
    if (crt)
        gnutls_x509_crt_deinit(crt);
    if (have_info)
        gnutls_pkcs7_signature_info_deinit(&info);
    if (p7)
        gnutls_pkcs7_deinit(p7);
    return rc;
}

/* Fills the signature fields, or sets signature_error; only KT_ENOMEM fails. */
static int read_signature(const pe_file *p, kt_pe_info *out)
{
    uint32_t off = 0, size = 0;
    if (!directory(p, 4, &off, &size))
        return 0;
    kt_error err = {0};
    int rc = 0;
    if (off > p->len || size > p->len - off) {
        rc = bad(&err,
                 "certificate table at file offset 0x%x (%u bytes) lies outside the file (%zu "
                 "bytes)",
                 off, size, p->len);
    } else {
        size_t at = off, end = (size_t)off + size;
        for (unsigned i = 0; at + 8 <= end; i++) {
            uint32_t length = 0;
            uint16_t type = 0;
            kt_rd_le32(p->d, p->len, at, &length);
            kt_rd_le16(p->d, p->len, at + 6, &type);
            if (i == MAX_CERT_ENTRIES) {
                rc = bad(&err, "over %d entries in the certificate table", MAX_CERT_ENTRIES);
                break;
            }
            if (length < 8 || length > end - at) {
                rc = bad(&err,
                         "WIN_CERTIFICATE at 0x%zx: length %u outside the certificate table "
                         "(%zu bytes left)",
                         at, length, end - at);
                break;
            }
            if (length > KT_PE_MAX_CERT_SIZE) {
                rc = bad(&err, "WIN_CERTIFICATE at 0x%zx: %u bytes, over the limit of %zu", at,
                         length, KT_PE_MAX_CERT_SIZE);
                break;
            }
            if (type == WIN_CERT_TYPE_PKCS_SIGNED_DATA) {
                out->has_signature = true;
                rc = read_pkcs7(p->d + at + 8, length - 8, out, &err);
                break;
            }
            at += ((size_t)length + 7) & ~(size_t)7;
        }
    }
    if (rc == KT_ENOMEM)
        return rc;
    if (rc < 0) {
        out->signature_error = kt_strdup(err.msg + (strncmp(err.msg, "pe: ", 4) ? 0 : 4));
        if (!out->signature_error)
            return KT_ENOMEM;
    }
    return 0;
}

/* ---- the API ------------------------------------------------------------------------ */

void kt_pe_info_clear(kt_pe_info *pe)
{
    if (!pe)
        return;
    char **strings[] = {&pe->company_name,      &pe->product_name,    &pe->file_description,
                        &pe->file_version,      &pe->product_version, &pe->legal_copyright,
                        &pe->original_filename, &pe->internal_name,   &pe->signer_subject,
                        &pe->signer_issuer,     &pe->signer_serial,   &pe->signature_error,
                        &pe->resource_error};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        kt_free(*strings[i]);
    memset(pe, 0, sizeof *pe);
    pe->signing_time = KT_TIME_NONE;
}

int kt_pe_read(const uint8_t *data, size_t len, kt_pe_info *out, kt_error *err)
{
    if (!out || (!data && len))
        return kt_error_set(err, KT_EARG, "pe: no data or no result");
    pe_file p = {.d = data, .len = len};
    int rc = read_headers(&p, err);
    if (rc < 0)
        return rc;
    kt_pe_info info;
    memset(&info, 0, sizeof info);
    info.signing_time = KT_TIME_NONE;
    if ((rc = read_resources(&p, &info)) < 0 || (rc = read_signature(&p, &info)) < 0) {
        kt_pe_info_clear(&info);
        return nomem(err);
    }
    *out = info;
    return 0;
}

/* ---- Kaspersky's names ---------------------------------------------------------------- */

/* s lowercased (ASCII and Cyrillic А-Я, Ё), every run of ASCII
 * non-alphanumerics and of the quotes and signs « » “ ” „ © ® ™ as one
 * space, with a space at each end, into out (at least strlen(s) + 3 bytes). */
static void fold(const char *s, char *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    out[n++] = ' ';
    while (*p) {
        bool sep = false;
        size_t skip = 1;
        if (*p < 0x80) {
            if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z')) {
                out[n++] = (char)*p;
            } else if (*p >= 'A' && *p <= 'Z') {
                out[n++] = (char)(*p + 32);
            } else {
                sep = true;
            }
        } else if (p[0] == 0xc2 &&
                   (p[1] == 0xab || p[1] == 0xbb || p[1] == 0xa9 || p[1] == 0xae || p[1] == 0xa0)) {
            sep = true, skip = 2;
        } else if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0x9c && p[2] <= 0x9e) {
            sep = true, skip = 3;
        } else if (p[0] == 0xe2 && p[1] == 0x84 && p[2] == 0xa2) {
            sep = true, skip = 3;
        } else if (p[0] == 0xd0 && p[1] >= 0x90 && p[1] <= 0x9f) { /* А-П */
            out[n++] = (char)0xd0, out[n++] = (char)(p[1] + 0x20), skip = 2;
        } else if (p[0] == 0xd0 && p[1] >= 0xa0 && p[1] <= 0xaf) { /* Р-Я */
            out[n++] = (char)0xd1, out[n++] = (char)(p[1] - 0x20), skip = 2;
        } else if (p[0] == 0xd0 && p[1] == 0x81) { /* Ё */
            out[n++] = (char)0xd1, out[n++] = (char)0x91, skip = 2;
        } else {
            out[n++] = (char)*p;
        }
        if (sep && out[n - 1] != ' ')
            out[n++] = ' ';
        p += skip; /* skip > 1 only after that many non-NUL bytes matched */
    }
    if (out[n - 1] != ' ')
        out[n++] = ' ';
    out[n] = 0;
}

static const struct {
    const char *folded; /* as fold() writes it, between spaces */
    const char *name;
} kaspersky_names[] = {
    {" ao kaspersky lab ", "AO Kaspersky Lab"},
    {" kaspersky lab jsc ", "Kaspersky Lab JSC"},
    {" jsc kaspersky lab ", "Kaspersky Lab JSC"},
    {" zao kaspersky lab ", "Kaspersky Lab ZAO"},
    {" cjsc kaspersky lab ", "Kaspersky Lab ZAO"},
    {" kaspersky lab zao ", "Kaspersky Lab ZAO"},
    {" kaspersky lab cjsc ", "Kaspersky Lab ZAO"},
    {" kaspersky labs limited ", "Kaspersky Labs Limited"},
    {" kaspersky labs ", "Kaspersky Labs"},
    {" kaspersky lab ", "Kaspersky Lab"},
    {" ао лаборатория касперского ", "АО «Лаборатория Касперского»"},
    {" зао лаборатория касперского ", "ЗАО «Лаборатория Касперского»"},
    {" лаборатория касперского ", "Лаборатория Касперского"},
    {" лаборатории касперского ", "Лаборатория Касперского"},
    {" 1027739867473 ", "AO Kaspersky Lab (OGRN 1027739867473)"},
};

const char *kt_pe_kaspersky_name(const char *s)
{
    if (!s)
        return NULL;
    char small[512], *buf = small;
    size_t need = strlen(s) + 3;
    if (need > sizeof small && !(buf = kt_malloc(need)))
        return NULL;
    fold(s, buf);
    const char *name = NULL;
    for (size_t i = 0; i < sizeof kaspersky_names / sizeof kaspersky_names[0] && !name; i++)
        if (strstr(buf, kaspersky_names[i].folded))
            name = kaspersky_names[i].name;
    if (buf != small)
        kt_free(buf);
    return name;
}
