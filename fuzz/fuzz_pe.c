/* libFuzzer harness: PE files (src/parsers/pe.c): headers, the version
 * resource, the certificate table and its PKCS#7 signature (GnuTLS), and
 * the Kaspersky-name matcher over every string read. */
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/pe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    kt_pe_info pe;
    kt_error err = {0};
    if (kt_pe_read(data, len, &pe, &err) != 0)
        return 0;
    const char *strings[] = {pe.company_name,      pe.product_name,    pe.file_description,
                             pe.file_version,      pe.product_version, pe.legal_copyright,
                             pe.original_filename, pe.internal_name,   pe.signer_subject,
                             pe.signer_issuer,     pe.signer_serial,   pe.signature_error,
                             pe.resource_error};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        kt_pe_kaspersky_name(strings[i]);
    kt_pe_info_clear(&pe);
    return 0;
}
