/* kavtrace: Windows PE files (EXE, DLL, SYS): version resource and
 * Authenticode signer.
 *
 * kt_pe_read reads the PE/COFF headers (PE32 and PE32+), walks the
 * resource directory to the first RT_VERSION resource and reads the
 * VS_VERSIONINFO StringFileInfo of its first string table, and reads the
 * security directory (a file offset, not an RVA): the first
 * WIN_CERTIFICATE of type PKCS#7 (WIN_CERT_TYPE_PKCS_SIGNED_DATA) is
 * handed to GnuTLS, which parses the SignedData; kavtrace takes the first
 * signer's certificate (matched by issuer and serial among the bag's
 * certificates) and its signingTime authenticated attribute. The
 * signature is NOT verified (no chain, no trust, no hash of the image):
 * the signer's name is a claim, which is what a white-label search needs.
 * An Authenticode signer whose certificate is identified by subject key id
 * (CMS version 3) is matched on that instead of issuer and serial.
 *
 * Every count and offset read from the file is bounded (see the limits
 * below); a resource directory that points back at itself is refused. */
#ifndef KAVTRACE_PE_H
#define KAVTRACE_PE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/error.h"
#include "kavtrace/time.h"

/* Limits on what kavtrace reads from one PE. */
#define KT_PE_MAX_SECTIONS 96                  /* the PE loader's own limit */
#define KT_PE_MAX_RESOURCE_ENTRIES 4096        /* entries of one resource directory */
#define KT_PE_MAX_RESOURCE_DIRS 512            /* directories visited in one walk */
#define KT_PE_MAX_STRING 4096                  /* UTF-16 units of one version string */
#define KT_PE_MAX_CERT_SIZE ((size_t)16 << 20) /* one WIN_CERTIFICATE */

typedef struct kt_pe_info {
    /* VS_VERSIONINFO StringFileInfo of the first string table (UTF-8,
     * NULL when absent). Owned by the kt_pe_info. */
    char *company_name, *product_name, *file_description, *file_version, *product_version,
        *legal_copyright, *original_filename, *internal_name;
    bool has_signature;   /* the security directory holds a WIN_CERTIFICATE of type PKCS#7 */
    char *signer_subject; /* the signer certificate's DN as GnuTLS prints it (RFC 4514),
                           * NULL when none or unreadable */
    char *signer_issuer;
    char *signer_serial;   /* lowercase hex, no separators */
    kt_time signing_time;  /* the signingTime authenticated attribute, KT_TIME_NONE when
                            * absent (kavtrace's "no such time", not 0) */
    char *signature_error; /* why a present signature could not be read, NULL when read.
                            * Also set, with has_signature false, when the certificate
                            * table itself is damaged (outside the file, an entry of an
                            * impossible length). With has_signature true, the fields
                            * read before the failure are kept (an issuer and serial
                            * whose certificate is missing from the signature). */
    char *resource_error;  /* why a version resource that is present could not be read,
                            * NULL when read or absent (no resource tree, no RT_VERSION) */
} kt_pe_info;

/* Read the PE in data[0..len) into *out (written only on success; clear it
 * with kt_pe_info_clear). Returns 0, or:
 *   KT_EFORMAT  not a PE, or its headers are damaged (the message says
 *               which: "no MZ signature", "PE header at 0x... outside the
 *               file", "truncated section table", ...);
 *   KT_EARG     out NULL, or data NULL with len > 0;
 *   KT_ENOMEM.
 * A damaged version resource or signature does not fail the read: the
 * headers were read; the fields read before the damage are kept, the rest
 * stay NULL, and resource_error / signature_error say why. The whole file
 * must be in data: the certificate table usually sits at its end. */
int kt_pe_read(const uint8_t *data, size_t len, kt_pe_info *out, kt_error *err);

/* Free every string of *pe and reset it to empty (signing_time
 * KT_TIME_NONE). pe may be NULL. */
void kt_pe_info_clear(kt_pe_info *pe);

/* The Kaspersky legal name a string carries, or NULL. Matches, ignoring
 * case (Latin and Cyrillic), punctuation and quotes, as whole words: AO
 * Kaspersky Lab, Kaspersky Lab JSC, ZAO / CJSC Kaspersky Lab (either
 * order), Kaspersky Labs (Limited), Kaspersky Lab, АО / ЗАО «Лаборатория
 * Касперского» and the bare Russian name, and AO Kaspersky Lab's state
 * registration number 1027739867473 (see ../shared/reference/white-label.md
 * §3.4). The bare brand "Kaspersky" is not a legal name and does not match
 * (a product merely named after Kaspersky, e.g. a removal tool, is not
 * Kaspersky's). Returns a static canonical form, e.g. "AO Kaspersky Lab". */
const char *kt_pe_kaspersky_name(const char *s);

#endif
