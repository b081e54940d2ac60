/* kavtrace: text from evidence made valid UTF-8 and safe to show.
 *
 * Names, versions, hostnames and lines read from evidence are bytes: not
 * always UTF-8, and at times holding terminal control sequences. Every
 * output writes them through the escape below, which is reversible: a byte
 * that cannot stand as it is becomes the four characters \xHH (lowercase
 * hex), and a backslash that would read as such an escape (one followed by
 * 'x' and two hex digits) becomes \x5c. Replacing every \xHH with the byte
 * HH gives back the evidence's bytes exactly. */
#ifndef KAVTRACE_TEXT_H
#define KAVTRACE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/buf.h"

typedef enum kt_text_mode {
    /* Only bytes that are not UTF-8 escaped: for JSON, which escapes
     * control characters itself (\u001b). */
    KT_TEXT_UTF8,
    /* Also each byte of every control character: C0 (tab, CR and LF
     * included), DEL and C1 (U+0080-U+009F, written as \xc2\x80-\xc2\x9f).
     * For the terminal, scan.log and CSV: no escape sequence gets through
     * and one text stays one line. */
    KT_TEXT_PLAIN,
    /* As KT_TEXT_PLAIN, but line feeds kept: for CSV, whose quoted cells
     * may hold them (RFC 4180), so a multi-line event message stays one. */
    KT_TEXT_CSV,
} kt_text_mode;

/* The valid UTF-8 sequence at s[0..n): its length (1-4), with its code
 * point in *cp; 0 when s does not start one (a stray continuation byte, a
 * truncated, overlong or surrogate sequence, or past U+10FFFF). */
size_t kt_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* A C0 or C1 control character, or DEL. */
bool kt_text_is_control(uint32_t cp);

/* Does the backslash before s start what reads as an escape ("xHH")? */
bool kt_text_escape_follows(const char *s);

/* Append s (NUL-terminated) escaped for mode. 0 or KT_ENOMEM. */
int kt_text_escape(kt_buf *out, const char *s, kt_text_mode mode);

/* Whether kt_text_escape would change s. */
bool kt_text_needs_escape(const char *s, kt_text_mode mode);

#endif
