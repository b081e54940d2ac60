#include <ctype.h>
#include <string.h>

#include "kavtrace/error.h"
#include "kavtrace/text.h"

size_t kt_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned c = s[0];
    size_t len = c < 0x80             ? 1
                 : (c & 0xe0) == 0xc0 ? 2
                 : (c & 0xf0) == 0xe0 ? 3
                 : (c & 0xf8) == 0xf0 ? 4
                                      : 0;
    if (len == 0 || len > n)
        return 0;
    uint32_t v = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    /* The shortest form only; no UTF-16 surrogates; nothing past U+10FFFF. */
    static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < least[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

bool kt_text_is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

bool kt_text_escape_follows(const char *s)
{
    return s[0] == 'x' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2]);
}

/* At s: how many bytes make the next character (1 for a byte that is
 * not UTF-8), and whether they are written escaped. */
static size_t next(const unsigned char *s, size_t n, kt_text_mode mode, bool *escape)
{
    uint32_t cp;
    size_t len = kt_utf8_decode(s, n, &cp);
    if (len == 0) {
        *escape = true;
        return 1;
    }
    bool control = kt_text_is_control(cp) && !(mode == KT_TEXT_CSV && cp == '\n');
    *escape = (mode != KT_TEXT_UTF8 && control) ||
              (cp == '\\' && kt_text_escape_follows((const char *)s + 1));
    return len;
}

int kt_text_escape(kt_buf *out, const char *s, kt_text_mode mode)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    int rc = kt_buf_reserve(out, n);
    while (rc == KT_OK && n > 0) {
        /* The longest run that stays as it is, in one append. */
        size_t run = 0, len = 0;
        bool escape = false;
        while (run < n && (len = next(p + run, n - run, mode, &escape), !escape))
            run += len;
        rc = kt_buf_append(out, p, run);
        p += run;
        n -= run;
        for (size_t i = 0; rc == KT_OK && n > 0 && i < len; i++) {
            rc = kt_buf_printf(out, "\\x%02x", *p);
            p++;
            n--;
        }
    }
    return rc;
}

bool kt_text_needs_escape(const char *s, kt_text_mode mode)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n > 0) {
        bool escape;
        size_t len = next(p, n, mode, &escape);
        if (escape)
            return true;
        p += len;
        n -= len;
    }
    return false;
}
