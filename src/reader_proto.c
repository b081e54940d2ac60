/* Both sides of the reader programs' line protocol (see reader_proto.h). */
#include "reader_proto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void kt_proto_begin(FILE *f, char kind)
{
    putc(kind, f);
}

void kt_proto_put_text(FILE *f, const char *s)
{
    putc('\t', f);
    for (; s && *s; s++) {
        switch (*s) {
        case '\\':
            fputs("\\\\", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        default:
            putc(*s, f);
        }
    }
}

void kt_proto_put_uint(FILE *f, uint64_t v)
{
    fprintf(f, "\t%" PRIu64, v);
}

void kt_proto_put_hex32(FILE *f, uint32_t v)
{
    fprintf(f, "\t%08" PRIX32, v);
}

void kt_proto_end(FILE *f)
{
    putc('\n', f);
}

void kt_proto_vsay(FILE *f, char kind, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    kt_proto_begin(f, kind);
    kt_proto_put_text(f, msg);
    kt_proto_end(f);
}

void kt_proto_say(FILE *f, char kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kt_proto_vsay(f, kind, fmt, ap);
    va_end(ap);
}

/* Undo the escapes of s in place; false for an escape the encoder does
 * not write (a lone or unknown backslash). */
static bool unescape(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (*r != '\\') {
            *w++ = *r;
            continue;
        }
        switch (*++r) {
        case '\\':
            *w++ = '\\';
            break;
        case 't':
            *w++ = '\t';
            break;
        case 'n':
            *w++ = '\n';
            break;
        case 'r':
            *w++ = '\r';
            break;
        default:
            return false;
        }
    }
    *w = '\0';
    return true;
}

bool kt_proto_parse(char *line, kt_proto_line *out)
{
    out->kind = line[0];
    out->nfields = 0;
    if (line[0] < 0x21 || line[0] > 0x7e)
        return false;
    char *p = line + 1;
    while (*p) {
        if (*p != '\t' || out->nfields == KT_PROTO_MAX_FIELDS)
            return false;
        *p++ = '\0';
        out->field[out->nfields++] = p;
        while (*p && *p != '\t')
            p++;
    }
    /* Each field ends at the next field's TAB, now a NUL. */
    for (size_t i = 0; i < out->nfields; i++)
        if (!unescape(out->field[i]))
            return false;
    return true;
}

bool kt_proto_number(const char *s, int base, uint64_t max, uint64_t *v)
{
    bool digits = s[0] != '\0';
    for (const char *p = s; *p && digits; p++)
        digits = (*p >= '0' && *p <= '9') ||
                 (base == 16 && ((*p >= 'A' && *p <= 'F') || (*p >= 'a' && *p <= 'f')));
    if (!digits)
        return false;
    errno = 0;
    char *end = NULL;
    unsigned long long n = strtoull(s, &end, base);
    if (errno || *end != '\0' || n > max)
        return false;
    *v = n;
    return true;
}

void kt_proto_reject(kt_proto_session *s, const char *why, ...)
{
    if (s->malformed++ > 0)
        return;
    s->first_malformed = s->lines;
    va_list ap;
    va_start(ap, why);
    vsnprintf(s->first_why, sizeof s->first_why, why, ap);
    va_end(ap);
}

bool kt_proto_next(kt_proto_session *s, char *line, kt_proto_line *out)
{
    s->lines++;
    if (s->ended) {
        kt_proto_reject(s, "after the end line");
        return false;
    }
    if (!kt_proto_parse(line, out)) {
        kt_proto_reject(s, "not a line of the protocol");
        return false;
    }
    if (s->kinds && (out->kind == '\0' || strchr(s->kinds, out->kind) == NULL)) {
        kt_proto_reject(s, "unknown kind '%c'", out->kind);
        return false;
    }
    if (out->kind == s->end)
        s->ended = true;
    return true;
}

char *kt_proto_problems(const kt_proto_session *s, char *buf, size_t len)
{
    int n = 0;
    buf[0] = '\0';
    if (s->malformed)
        n = snprintf(buf, len, "wrote %zu malformed line%s (the first: line %zu, %s)", s->malformed,
                     s->malformed == 1 ? "" : "s", s->first_malformed, s->first_why);
    if (!s->ended && n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, "%sended without its end line", n ? " and " : "");
    return buf;
}
