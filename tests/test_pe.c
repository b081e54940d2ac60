/* PE files (kt_pe_read): the test PEs of testdata/pe (build-pe.sh, into
 * evidence/pe) read back exactly as their specs and certs.tsv say (every
 * version string, the signer's subject, issuer, serial and signing time);
 * Kaspersky's legal names found in them and in strings, and decoys not;
 * every truncation of the headers refused with a clear message; a
 * resource loop, a certificate table outside the file, damaged
 * WIN_CERTIFICATE and PKCS#7 data reported without losing the rest; bit
 * flips and allocation failures survived. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/pkcs7.h>

#include "kavtrace/alloc.h"
#include "kavtrace/pe.h"
#include "testutil.h"

static void load_pe(const char *name, kt_buf *b)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/pe", evidence_dir());
    char *path = path_join(dir, name);
    file_load(path, b);
    free(path);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = v & 0xff;
    p[1] = (v >> 8) & 0xff;
    p[2] = (v >> 16) & 0xff;
    p[3] = v >> 24;
}

/* ---- ground truth: the specs and certs.tsv ------------------------------------- */

typedef struct spec {
    char name[64];
    char *strings[16][2];
    size_t nstrings;
    char sign_cert[32], sign_time[32];
} spec;

static void spec_load(const char *file, spec *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%.*s", (int)(strlen(file) - 5), file);
    char rel[256];
    snprintf(rel, sizeof rel, "pe/%s", file);
    tsv t;
    truth_load(&t, rel);
    for (size_t i = 0; i < t.count; i++) {
        tsv_row *r = &t.rows[i];
        if (!strcmp(r->f[0], "string")) {
            ck_assert_uint_lt(s->nstrings, 16);
            s->strings[s->nstrings][0] = strdup(r->f[1]);
            s->strings[s->nstrings++][1] = strdup(r->f[2]);
        } else if (!strcmp(r->f[0], "sign")) {
            snprintf(s->sign_cert, sizeof s->sign_cert, "%s", r->f[1]);
            snprintf(s->sign_time, sizeof s->sign_time, "%s", r->f[3]);
        }
    }
    tsv_free(&t);
}

static void spec_free(spec *s)
{
    for (size_t i = 0; i < s->nstrings; i++) {
        free(s->strings[i][0]);
        free(s->strings[i][1]);
    }
}

static const char *spec_string(const spec *s, const char *key)
{
    for (size_t i = 0; i < s->nstrings; i++)
        if (!strcmp(s->strings[i][0], key))
            return s->strings[i][1];
    return NULL;
}

/* certs.tsv's row for name: DN (field 6), serial (2), issuer's name (1). */
static void cert_row(const char *name, char *dn, char *serial, char *issuer_dn)
{
    tsv t;
    truth_load(&t, "pe/certs.tsv");
    const char *issuer = NULL;
    for (size_t i = 0; i < t.count; i++)
        if (!strcmp(t.rows[i].f[0], name)) {
            strcpy(dn, t.rows[i].f[6]);
            strcpy(serial, t.rows[i].f[2]);
            issuer = strdup(t.rows[i].f[1]);
        }
    ck_assert_msg(issuer != NULL, "no certificate '%s' in certs.tsv", name);
    for (size_t i = 0; i < t.count; i++)
        if (!strcmp(t.rows[i].f[0], issuer))
            strcpy(issuer_dn, t.rows[i].f[6]);
    free((char *)issuer);
    tsv_free(&t);
}

static size_t list_specs(char names[][64], size_t max)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/pe", testdata_dir());
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot list %s", dir);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".spec")) {
            ck_assert_uint_lt(n, max);
            snprintf(names[n++], 64, "%s", e->d_name);
        }
    }
    closedir(d);
    return n;
}

static void check_field(const char *pe, const char *key, const char *want, const char *got)
{
    if (!want)
        ck_assert_msg(got == NULL, "%s: %s is '%s', the spec has none", pe, key, got);
    else
        ck_assert_msg(got && !strcmp(want, got), "%s: %s is '%s', want '%s'", pe, key,
                      got ? got : "(null)", want);
}

START_TEST(reads_every_field_of_the_built_pes)
{
    char names[32][64];
    size_t n = list_specs(names, 32), signed_pes = 0;
    ck_assert_uint_ge(n, 6);
    for (size_t i = 0; i < n; i++) {
        spec s;
        spec_load(names[i], &s);
        kt_buf b = {0};
        load_pe(s.name, &b);
        kt_pe_info pe;
        kt_error err = {0};
        ck_assert_msg(kt_pe_read(b.data, b.len, &pe, &err) == 0, "%s: %s", s.name, err.msg);
        ck_assert_msg(pe.resource_error == NULL, "%s: %s", s.name, pe.resource_error);
        check_field(s.name, "CompanyName", spec_string(&s, "CompanyName"), pe.company_name);
        check_field(s.name, "ProductName", spec_string(&s, "ProductName"), pe.product_name);
        check_field(s.name, "FileDescription", spec_string(&s, "FileDescription"),
                    pe.file_description);
        check_field(s.name, "FileVersion", spec_string(&s, "FileVersion"), pe.file_version);
        check_field(s.name, "ProductVersion", spec_string(&s, "ProductVersion"),
                    pe.product_version);
        check_field(s.name, "LegalCopyright", spec_string(&s, "LegalCopyright"),
                    pe.legal_copyright);
        check_field(s.name, "OriginalFilename", spec_string(&s, "OriginalFilename"),
                    pe.original_filename);
        check_field(s.name, "InternalName", spec_string(&s, "InternalName"), pe.internal_name);
        if (s.sign_cert[0]) {
            char dn[512], serial[64], issuer[512];
            cert_row(s.sign_cert, dn, serial, issuer);
            ck_assert_msg(pe.has_signature, "%s: no signature", s.name);
            ck_assert_msg(pe.signature_error == NULL, "%s: %s", s.name, pe.signature_error);
            check_field(s.name, "signer subject", dn, pe.signer_subject);
            check_field(s.name, "signer issuer", issuer, pe.signer_issuer);
            check_field(s.name, "signer serial", serial, pe.signer_serial);
            ck_assert_int_eq(pe.signing_time, truth_time(s.sign_time));
            signed_pes++;
        } else {
            ck_assert(!pe.has_signature);
            ck_assert_ptr_null(pe.signer_subject);
            ck_assert_ptr_null(pe.signer_serial);
            ck_assert_ptr_null(pe.signature_error);
            ck_assert_int_eq(pe.signing_time, KT_TIME_NONE);
        }
        kt_pe_info_clear(&pe);
        kt_buf_release(&b);
        spec_free(&s);
    }
    ck_assert_uint_ge(signed_pes, 4);
}
END_TEST

/* Reads name and returns its info (the caller clears it). */
static kt_pe_info read_ok(const char *name)
{
    kt_buf b = {0};
    load_pe(name, &b);
    kt_pe_info pe;
    kt_error err = {0};
    ck_assert_msg(kt_pe_read(b.data, b.len, &pe, &err) == 0, "%s: %s", name, err.msg);
    kt_buf_release(&b);
    return pe;
}

START_TEST(finds_kaspersky_names_in_the_built_pes_and_not_in_decoys)
{
    kt_pe_info pe = read_ok("kave8.dll");
    ck_assert_str_eq(kt_pe_kaspersky_name(pe.company_name), "AO Kaspersky Lab");
    ck_assert_str_eq(kt_pe_kaspersky_name(pe.legal_copyright), "AO Kaspersky Lab");
    ck_assert_str_eq(kt_pe_kaspersky_name(pe.signer_subject), "AO Kaspersky Lab");
    ck_assert_ptr_null(kt_pe_kaspersky_name(pe.signer_issuer));
    ck_assert_ptr_null(kt_pe_kaspersky_name(pe.product_name)); /* "Kaspersky Anti-Virus SDK" */
    kt_pe_info_clear(&pe);

    pe = read_ok("kavehost.exe");
    ck_assert_str_eq(kt_pe_kaspersky_name(pe.company_name), "Kaspersky Lab JSC");
    kt_pe_info_clear(&pe);

    pe = read_ok("prloader-ru.dll");
    ck_assert_str_eq(kt_pe_kaspersky_name(pe.company_name), "АО «Лаборатория Касперского»");
    ck_assert_str_eq(kt_pe_kaspersky_name(pe.legal_copyright), "АО «Лаборатория Касперского»");
    kt_pe_info_clear(&pe);

    /* Another vendor's version resource, Kaspersky's signature. */
    pe = read_ok("oem-engine.dll");
    ck_assert_ptr_null(kt_pe_kaspersky_name(pe.company_name));
    ck_assert_ptr_null(kt_pe_kaspersky_name(pe.legal_copyright));
    ck_assert_str_eq(kt_pe_kaspersky_name(pe.signer_subject), "AO Kaspersky Lab");
    kt_pe_info_clear(&pe);

    /* A removal tool that names Kaspersky everywhere but is not Kaspersky's. */
    pe = read_ok("decoy-remover.exe");
    const char *fields[] = {pe.company_name,    pe.product_name,   pe.file_description,
                            pe.legal_copyright, pe.signer_subject, pe.signer_issuer};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        ck_assert_ptr_nonnull(fields[i]);
        ck_assert_msg(kt_pe_kaspersky_name(fields[i]) == NULL, "'%s' matched", fields[i]);
    }
    ck_assert_ptr_nonnull(strstr(pe.product_name, "Kaspersky"));
    kt_pe_info_clear(&pe);
}
END_TEST

START_TEST(kaspersky_names_in_every_legal_form)
{
    static const struct {
        const char *s, *want;
    } cases[] = {
        {"AO Kaspersky Lab", "AO Kaspersky Lab"},
        {"ao kaspersky lab", "AO Kaspersky Lab"},
        {"© 2015-2024 AO Kaspersky Lab. All Rights Reserved.", "AO Kaspersky Lab"},
        {"CN=AO Kaspersky Lab,O=AO Kaspersky Lab,L=Moscow,C=RU", "AO Kaspersky Lab"},
        {"Kaspersky Lab JSC", "Kaspersky Lab JSC"},
        {"Kaspersky Lab, JSC", "Kaspersky Lab JSC"},
        {"Kaspersky Lab ZAO", "Kaspersky Lab ZAO"},
        {"© 1997-2010 Kaspersky Lab ZAO", "Kaspersky Lab ZAO"},
        {"ZAO Kaspersky Lab", "Kaspersky Lab ZAO"},
        {"CJSC \"Kaspersky Lab\"", "Kaspersky Lab ZAO"},
        {"Kaspersky Labs Limited", "Kaspersky Labs Limited"},
        {"KASPERSKY LAB", "Kaspersky Lab"},
        {"Copyright (C) Kaspersky Lab 1997-2012.", "Kaspersky Lab"},
        {"АО «Лаборатория Касперского»", "АО «Лаборатория Касперского»"},
        {"© 2024 АО \"ЛАБОРАТОРИЯ КАСПЕРСКОГО\"", "АО «Лаборатория Касперского»"},
        {"ЗАО «Лаборатория Касперского»", "ЗАО «Лаборатория Касперского»"},
        {"Лаборатория Касперского", "Лаборатория Касперского"},
        {"продукт Лаборатории Касперского", "Лаборатория Касперского"},
        {"serialNumber=1027739867473", "AO Kaspersky Lab (OGRN 1027739867473)"},
        {"Kaspersky", NULL},
        {"Kaspersky Anti-Virus SDK", NULL},
        {"Kaspersky Laboratory Removal", NULL},
        {"Kasperskylab", NULL},
        {"Remove Kaspersky Lab-like products", "Kaspersky Lab"}, /* the name is there */
        {"10277398674730", NULL},
        {"Касперский", NULL},
        {"Northwind Security Ltd", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = kt_pe_kaspersky_name(cases[i].s);
        if (!cases[i].want)
            ck_assert_msg(got == NULL, "'%s' gave '%s'", cases[i].s, got);
        else
            ck_assert_msg(got && !strcmp(got, cases[i].want), "'%s' gave '%s', want '%s'",
                          cases[i].s, got ? got : "(null)", cases[i].want);
    }
    ck_assert_ptr_null(kt_pe_kaspersky_name(NULL));
    /* A long string (past the stack buffer) still matches. */
    char long_s[3000];
    memset(long_s, 'x', sizeof long_s);
    strcpy(long_s + 2000, " AO Kaspersky Lab");
    ck_assert_str_eq(kt_pe_kaspersky_name(long_s), "AO Kaspersky Lab");
}
END_TEST

/* The read must fail with KT_EFORMAT and a message containing want. */
static void refused(const uint8_t *d, size_t len, const char *want, const char *what)
{
    kt_pe_info pe;
    kt_error err = {0};
    int rc = kt_pe_read(d, len, &pe, &err);
    ck_assert_msg(rc == KT_EFORMAT, "%s: rc %d", what, rc);
    ck_assert_msg(strstr(err.msg, want) != NULL, "%s: '%s' lacks '%s'", what, err.msg, want);
}

START_TEST(refuses_truncated_headers_with_clear_messages)
{
    static const char *pes[] = {"kave8.dll", "kavehost.exe"};
    for (size_t k = 0; k < 2; k++) {
        kt_buf b = {0};
        load_pe(pes[k], &b);
        uint32_t lfanew = le32(b.data + 0x3c);
        size_t opt = lfanew + 24;
        size_t opt_size = (size_t)b.data[lfanew + 20] | (size_t)b.data[lfanew + 21] << 8;
        size_t sections = opt + opt_size;
        unsigned nsections = b.data[lfanew + 6];
        ck_assert_uint_eq(opt_size, k ? 0xf0 : 0xe0);
        refused(b.data, 0, "too short for a DOS header", "empty");
        refused(b.data, 0x3f, "too short for a DOS header", "0x3f");
        refused(b.data, 0x40, "PE header at 0x80 lies outside the file", "DOS header only");
        refused(b.data, lfanew + 3, "PE header at 0x80 lies outside the file", "half signature");
        refused(b.data, lfanew + 4, "truncated COFF header", "no COFF header");
        refused(b.data, lfanew + 23, "truncated COFF header", "COFF header cut");
        refused(b.data, opt, "truncated optional header", "no optional header");
        refused(b.data, opt + 1, "truncated optional header", "magic cut");
        refused(b.data, opt + opt_size - 1, "truncated optional header", "directories cut");
        refused(b.data, sections + 39, "truncated section table", "first section cut");
        refused(b.data, sections + 40 * nsections - 1, "truncated section table",
                "last section cut");
        /* Every cut inside the headers is refused; every cut after them is read. */
        for (size_t cut = 0; cut < b.len; cut++) {
            kt_pe_info pe;
            kt_error err = {0};
            int rc = kt_pe_read(b.data, cut, &pe, &err);
            if (cut < sections + 40 * nsections) {
                ck_assert_msg(rc == KT_EFORMAT && err.msg[0], "%s cut at %zu: rc %d", pes[k], cut,
                              rc);
            } else {
                ck_assert_msg(rc == 0, "%s cut at %zu: %s", pes[k], cut, err.msg);
                /* The signature lies at the end: a cut file has lost it, and says so. */
                ck_assert_ptr_nonnull(pe.signature_error);
                kt_pe_info_clear(&pe);
            }
        }
        kt_buf_release(&b);
    }
}
END_TEST

START_TEST(refuses_what_is_not_a_pe)
{
    uint8_t buf[512] = {0};
    memcpy(buf,
           "\x7f"
           "ELF",
           4);
    refused(buf, sizeof buf, "no MZ signature: not a PE file", "ELF");
    memcpy(buf, "MZ", 2);
    put32(buf + 0x3c, 0x40);
    refused(buf, sizeof buf, "no PE signature at 0x40", "DOS program");
    put32(buf + 0x3c, 0xfffffffc);
    refused(buf, sizeof buf, "PE header at 0xfffffffc lies outside the file", "far e_lfanew");
    put32(buf + 0x3c, 0x40);
    memcpy(buf + 0x40, "PE\0\0", 4);
    buf[0x40 + 4 + 2] = 200; /* sections */
    refused(buf, sizeof buf, "200 sections: over the limit of 96", "too many sections");
    buf[0x40 + 4 + 2] = 1;
    buf[0x40 + 24] = 0x07, buf[0x40 + 25] = 0x01;
    buf[0x40 + 20] = 0xe0;
    refused(buf, sizeof buf, "optional header magic 0x0107", "ROM image");
    buf[0x40 + 24] = 0x0b;
    buf[0x40 + 20] = 0x40;
    refused(buf, sizeof buf, "optional header of 64 bytes", "short optional header");
    kt_pe_info pe;
    kt_error err = {0};
    ck_assert_int_eq(kt_pe_read(NULL, 0, &pe, &err), KT_EFORMAT);
    ck_assert_int_eq(kt_pe_read(buf, sizeof buf, NULL, &err), KT_EARG);
}
END_TEST

/* The .rsrc tree of the builder: root at the section's start, one entry at
 * +16 to the name directory at +24 (entry at +40) to the language
 * directory at +48 (entry at +64) to the data entry at +72. */
static size_t rsrc_at(const kt_buf *b)
{
    uint32_t lfanew = le32(b->data + 0x3c);
    size_t opt = lfanew + 24;
    bool plus = b->data[opt + 1] == 0x02;
    uint32_t rva = le32(b->data + opt + (plus ? 112 : 96) + 16);
    ck_assert_uint_eq(rva, 0x2000);
    size_t r = 0x400; /* .rsrc's PointerToRawData */
    ck_assert_uint_eq(le32(b->data + r + 16), 16);
    ck_assert_uint_eq(le32(b->data + r + 20), 0x80000018u);
    ck_assert_uint_eq(le32(b->data + r + 44), 0x80000030u);
    ck_assert_uint_eq(le32(b->data + r + 68), 0x48u);
    return r;
}

static kt_pe_info read_buf(const kt_buf *b)
{
    kt_pe_info pe;
    kt_error err = {0};
    ck_assert_msg(kt_pe_read(b->data, b->len, &pe, &err) == 0, "%s", err.msg);
    return pe;
}

START_TEST(reports_a_resource_loop_and_keeps_the_signature)
{
    static const struct {
        size_t at;
        uint32_t target;
        const char *want;
    } loops[] = {
        {68, 0x80000000u, "resource directory loop"}, /* language entry back to the root */
        {44, 0x80000018u, "resource directory loop"}, /* name entry to its own directory */
        {20, 0x80000000u, "resource directory loop"}, /* root entry to the root */
        {68, 0x80001000u, "a fourth level of directories"},
        {44, 0x7ffffff0u, "outside the resource section"},
        {44, 0x48u, "a data entry above the language level"},
    };
    for (size_t i = 0; i < sizeof loops / sizeof loops[0]; i++) {
        kt_buf b = {0};
        load_pe("kave8.dll", &b);
        size_t r = rsrc_at(&b);
        if (loops[i].target == 0x7ffffff0u)
            put32(b.data + r + loops[i].at, 0x80000000u | loops[i].target);
        else
            put32(b.data + r + loops[i].at, loops[i].target);
        kt_pe_info pe = read_buf(&b);
        ck_assert_msg(pe.resource_error && strstr(pe.resource_error, loops[i].want),
                      "case %zu: '%s'", i, pe.resource_error ? pe.resource_error : "(null)");
        ck_assert_ptr_null(pe.company_name);
        ck_assert(pe.has_signature);
        ck_assert_ptr_nonnull(pe.signer_subject);
        kt_pe_info_clear(&pe);
        kt_buf_release(&b);
    }
    /* An oversized entry count and a version resource past its section. */
    kt_buf b = {0};
    load_pe("kave8.dll", &b);
    size_t r = rsrc_at(&b);
    b.data[r + 24 + 14] = 0xff, b.data[r + 24 + 15] = 0xff;
    kt_pe_info pe = read_buf(&b);
    ck_assert_ptr_nonnull(strstr(pe.resource_error, "65535 entries, over the limit of 4096"));
    kt_pe_info_clear(&pe);
    kt_buf_release(&b);
    load_pe("kave8.dll", &b);
    put32(b.data + r + 72 + 4, 0x10000);
    pe = read_buf(&b);
    ck_assert_ptr_nonnull(strstr(pe.resource_error, "65536 bytes, only"));
    kt_pe_info_clear(&pe);
    kt_buf_release(&b);
    /* No RT_VERSION: nothing read, nothing wrong. */
    load_pe("kave8.dll", &b);
    put32(b.data + r + 16, 3); /* RT_ICON */
    pe = read_buf(&b);
    ck_assert_ptr_null(pe.resource_error);
    ck_assert_ptr_null(pe.company_name);
    kt_pe_info_clear(&pe);
    kt_buf_release(&b);
}
END_TEST

/* The security directory's file offset and size fields. */
static size_t security_dir(const kt_buf *b)
{
    uint32_t lfanew = le32(b->data + 0x3c);
    size_t opt = lfanew + 24;
    bool plus = b->data[opt + 1] == 0x02;
    return opt + (plus ? 112 : 96) + 4 * 8;
}

START_TEST(reports_a_certificate_table_outside_the_file)
{
    kt_buf b = {0};
    load_pe("kavehost.exe", &b);
    size_t sd = security_dir(&b);
    uint32_t off = le32(b.data + sd), size = le32(b.data + sd + 4);
    ck_assert_uint_eq((size_t)off + size, b.len);

    static const struct {
        uint32_t off, size;
        const char *want;
    } cases[] = {
        {0xfffffff0u, 0x100, "lies outside the file"},
        {0, 0xffffffffu, "lies outside the file"},
        {1, 0, NULL}, /* size 0: no table */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kt_buf c = {0};
        ck_assert_int_eq(kt_buf_append(&c, b.data, b.len), 0);
        put32(c.data + sd, cases[i].off ? cases[i].off : off);
        put32(c.data + sd + 4, cases[i].size);
        kt_pe_info pe = read_buf(&c);
        ck_assert(!pe.has_signature);
        ck_assert_ptr_null(pe.signer_subject);
        if (cases[i].want)
            ck_assert_msg(pe.signature_error && strstr(pe.signature_error, cases[i].want),
                          "case %zu: %s", i, pe.signature_error);
        else
            ck_assert_ptr_null(pe.signature_error);
        ck_assert_str_eq(pe.company_name, "Kaspersky Lab JSC");
        kt_pe_info_clear(&pe);
        kt_buf_release(&c);
    }

    /* WIN_CERTIFICATE length too small, too large; a type other than PKCS#7. */
    static const struct {
        uint32_t length;
        uint16_t type;
        const char *want;
    } certs[] = {
        {4, 2, "length 4 outside the certificate table"},
        {0x7fffffff, 2, "outside the certificate table"},
        {0, 1, "length 0"},
    };
    for (size_t i = 0; i < sizeof certs / sizeof certs[0]; i++) {
        kt_buf c = {0};
        ck_assert_int_eq(kt_buf_append(&c, b.data, b.len), 0);
        put32(c.data + off, certs[i].length);
        c.data[off + 6] = (uint8_t)certs[i].type;
        kt_pe_info pe = read_buf(&c);
        ck_assert_msg(pe.signature_error && strstr(pe.signature_error, certs[i].want),
                      "cert case %zu: %s", i, pe.signature_error);
        kt_pe_info_clear(&pe);
        kt_buf_release(&c);
    }
    /* Type 1 (X.509) of the right length: no PKCS#7 signature, no error. */
    kt_buf c = {0};
    ck_assert_int_eq(kt_buf_append(&c, b.data, b.len), 0);
    c.data[off + 6] = 1;
    kt_pe_info pe = read_buf(&c);
    ck_assert(!pe.has_signature);
    ck_assert_ptr_null(pe.signature_error);
    kt_pe_info_clear(&pe);
    kt_buf_release(&c);
    kt_buf_release(&b);
}
END_TEST

START_TEST(reports_a_damaged_pkcs7_signature)
{
    kt_buf b = {0};
    load_pe("kave8.dll", &b);
    size_t sd = security_dir(&b);
    uint32_t off = le32(b.data + sd);
    ck_assert_uint_eq(b.data[off + 8], 0x30); /* the SignedData's SEQUENCE */

    /* Garbage instead of DER. */
    kt_buf c = {0};
    ck_assert_int_eq(kt_buf_append(&c, b.data, b.len), 0);
    memset(c.data + off + 8, 0xa5, 64);
    kt_pe_info pe = read_buf(&c);
    ck_assert(pe.has_signature);
    ck_assert_ptr_nonnull(strstr(pe.signature_error, "not a PKCS#7 SignedData"));
    ck_assert_ptr_null(pe.signer_subject);
    ck_assert_str_eq(pe.company_name, "AO Kaspersky Lab");
    kt_pe_info_clear(&pe);
    kt_buf_release(&c);

    /* The signer's serial changed: its certificate is no longer in the bag. */
    const uint8_t serial[] = {0x4b, 0x54, 0x00, 0x01, 0xc0, 0xde, 0x00, 0x17};
    ck_assert_int_eq(kt_buf_append(&c, b.data, b.len), 0);
    size_t last = 0, hits = 0;
    for (size_t i = off; i + sizeof serial <= c.len; i++)
        if (!memcmp(c.data + i, serial, sizeof serial))
            last = i, hits++;
    ck_assert_uint_eq(hits, 2); /* in the certificate, and in the SignerInfo (last) */
    c.data[last + 7] ^= 0xff;
    pe = read_buf(&c);
    ck_assert(pe.has_signature);
    ck_assert_ptr_nonnull(strstr(pe.signature_error, "not among the signature's"));
    ck_assert_ptr_null(pe.signer_subject);
    ck_assert_str_eq(pe.signer_serial, "4b540001c0de00e8");
    ck_assert_str_eq(pe.signer_issuer, "CN=kavtrace test code-signing CA,O=kavtrace test data");
    kt_pe_info_clear(&pe);
    kt_buf_release(&c);
    kt_buf_release(&b);
}
END_TEST

/* plain.exe with a certificate table holding a PKCS#7 SignedData made here
 * by GnuTLS (content type id-data, not Authenticode's), signed with the
 * decoy certificate; with or without the certificate in the bag, never
 * with a signingTime. */
static void sign_plain(unsigned flags, kt_buf *out)
{
    char dir[4096], key_path[4200], crt_path[4200];
    snprintf(dir, sizeof dir, "%s/pe/certs", evidence_dir());
    snprintf(key_path, sizeof key_path, "%s/decoy.key", dir);
    snprintf(crt_path, sizeof crt_path, "%s/decoy.crt", dir);
    gnutls_datum_t key_pem, crt_pem, der;
    ck_assert_int_eq(gnutls_load_file(key_path, &key_pem), 0);
    ck_assert_int_eq(gnutls_load_file(crt_path, &crt_pem), 0);
    gnutls_privkey_t key;
    gnutls_x509_crt_t crt;
    gnutls_pkcs7_t p7;
    ck_assert_int_eq(gnutls_privkey_init(&key), 0);
    ck_assert_int_eq(gnutls_privkey_import_x509_raw(key, &key_pem, GNUTLS_X509_FMT_PEM, NULL, 0),
                     0);
    ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
    ck_assert_int_eq(gnutls_x509_crt_import(crt, &crt_pem, GNUTLS_X509_FMT_PEM), 0);
    ck_assert_int_eq(gnutls_pkcs7_init(&p7), 0);
    gnutls_datum_t content = {(unsigned char *)"kavtrace", 8};
    ck_assert_int_eq(
        gnutls_pkcs7_sign(p7, crt, key, &content, NULL, NULL, GNUTLS_DIG_SHA256, flags), 0);
    ck_assert_int_eq(gnutls_pkcs7_export2(p7, GNUTLS_X509_FMT_DER, &der), 0);

    load_pe("plain.exe", out);
    ck_assert_uint_eq(out->len % 8, 0);
    uint32_t at = (uint32_t)out->len, length = 8 + der.size;
    uint8_t head[8];
    put32(head, length);
    head[4] = 0x00, head[5] = 0x02, head[6] = 2, head[7] = 0; /* revision 2.0, PKCS#7 */
    ck_assert_int_eq(kt_buf_append(out, head, 8), 0);
    ck_assert_int_eq(kt_buf_append(out, der.data, der.size), 0);
    while (out->len % 8)
        ck_assert_int_eq(kt_buf_append(out, "", 1), 0);
    size_t sd = security_dir(out);
    put32(out->data + sd, at);
    put32(out->data + sd + 4, (uint32_t)(out->len - at));

    gnutls_free(der.data);
    gnutls_free(key_pem.data);
    gnutls_free(crt_pem.data);
    gnutls_pkcs7_deinit(p7);
    gnutls_x509_crt_deinit(crt);
    gnutls_privkey_deinit(key);
}

START_TEST(reads_a_signature_without_signing_time_or_signer_certificate)
{
    char dn[512], serial[64], issuer[512];
    cert_row("decoy", dn, serial, issuer);

    kt_buf b = {0};
    sign_plain(GNUTLS_PKCS7_INCLUDE_CERT, &b);
    kt_pe_info pe = read_buf(&b);
    ck_assert(pe.has_signature);
    ck_assert_msg(pe.signature_error == NULL, "%s", pe.signature_error);
    ck_assert_str_eq(pe.signer_subject, dn);
    ck_assert_str_eq(pe.signer_issuer, issuer);
    ck_assert_str_eq(pe.signer_serial, serial);
    ck_assert_int_eq(pe.signing_time, KT_TIME_NONE);
    kt_pe_info_clear(&pe);
    kt_buf_release(&b);

    sign_plain(0, &b);
    pe = read_buf(&b);
    ck_assert(pe.has_signature);
    ck_assert_ptr_nonnull(strstr(pe.signature_error, "not among the signature's 0 certificates"));
    ck_assert_ptr_null(pe.signer_subject);
    ck_assert_str_eq(pe.signer_issuer, issuer);
    ck_assert_str_eq(pe.signer_serial, serial);
    kt_pe_info_clear(&pe);
    kt_buf_release(&b);
}
END_TEST

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

START_TEST(survives_bit_flips_and_byte_values)
{
    char names[32][64];
    size_t n = list_specs(names, 32), reads = 0;
    uint32_t seed = 20240929;
    for (size_t f = 0; f < n; f++) {
        names[f][strlen(names[f]) - 5] = 0;
        kt_buf orig = {0};
        load_pe(names[f], &orig);
        /* Every byte set to 0xff, then to 0x00; then random multi-bit flips. */
        for (size_t round = 0; round < 2 * orig.len + 200; round++) {
            kt_buf b = {0};
            ck_assert_int_eq(kt_buf_append(&b, orig.data, orig.len), 0);
            if (round < 2 * orig.len) {
                b.data[round / 2] = round % 2 ? 0x00 : 0xff;
            } else {
                for (int k = 1 + (int)(lcg(&seed) % 8); k > 0; k--)
                    b.data[lcg(&seed) % b.len] ^= (uint8_t)(1u << (lcg(&seed) % 8));
            }
            kt_pe_info pe;
            kt_error err = {0};
            int rc = kt_pe_read(b.data, b.len, &pe, &err);
            ck_assert_msg(rc == 0 || rc == KT_EFORMAT, "%s round %zu: %d %s", names[f], round, rc,
                          err.msg);
            if (rc == 0)
                kt_pe_info_clear(&pe);
            reads++;
            kt_buf_release(&b);
        }
        kt_buf_release(&orig);
    }
    ck_assert_uint_gt(reads, 20000);
}
END_TEST

START_TEST(out_of_memory_fails_cleanly)
{
    kt_buf b = {0};
    load_pe("kave8.dll", &b);
    const char *long_s = "AO Kaspersky Lab"; /* short: no allocation */
    size_t failures = 0;
    for (size_t n = 0;; n++) {
        kt_pe_info pe;
        kt_error err = {0};
        kt_alloc_fail_after(n);
        int rc = kt_pe_read(b.data, b.len, &pe, &err);
        kt_alloc_fail_never();
        if (rc == 0) {
            ck_assert_str_eq(pe.company_name, "AO Kaspersky Lab");
            ck_assert_ptr_nonnull(pe.signer_subject);
            kt_pe_info_clear(&pe);
            break;
        }
        ck_assert_msg(rc == KT_ENOMEM, "after %zu allocations: %d %s", n, rc, err.msg);
        failures++;
        ck_assert_uint_lt(n, 200);
    }
    ck_assert_uint_gt(failures, 10);
    ck_assert_str_eq(kt_pe_kaspersky_name(long_s), "AO Kaspersky Lab");
    kt_pe_info_clear(NULL);
    kt_buf_release(&b);
}
END_TEST

static Suite *pe_suite(void)
{
    Suite *s = suite_create("pe");
    TCase *tc = tcase_create("pe");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, reads_every_field_of_the_built_pes);
    tcase_add_test(tc, finds_kaspersky_names_in_the_built_pes_and_not_in_decoys);
    tcase_add_test(tc, kaspersky_names_in_every_legal_form);
    tcase_add_test(tc, refuses_truncated_headers_with_clear_messages);
    tcase_add_test(tc, refuses_what_is_not_a_pe);
    tcase_add_test(tc, reports_a_resource_loop_and_keeps_the_signature);
    tcase_add_test(tc, reports_a_certificate_table_outside_the_file);
    tcase_add_test(tc, reports_a_damaged_pkcs7_signature);
    tcase_add_test(tc, reads_a_signature_without_signing_time_or_signer_certificate);
    tcase_add_test(tc, survives_bit_flips_and_byte_values);
    tcase_add_test(tc, out_of_memory_fails_cleanly);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(pe_suite)
