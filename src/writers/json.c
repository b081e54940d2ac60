#include <stdio.h>
#include <string.h>

#include "kavtrace/error.h"
#include "kavtrace/json.h"
#include "kavtrace/text.h"

void kt_json_init(kt_json *j, kt_buf *out)
{
    memset(j, 0, sizeof *j);
    j->out = out;
    j->first[0] = true;
}

int kt_json_quote(kt_buf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    int rc = kt_buf_append(out, "\"", 1);
    while (rc == KT_OK && n > 0) {
        uint32_t cp;
        size_t len = kt_utf8_decode(p, n, &cp);
        if (len == 0) {
            /* Not UTF-8: the byte as kavtrace/text.h's \xHH text. */
            rc = kt_buf_printf(out, "\\\\x%02x", *p);
            len = 1;
        } else if (cp == '"') {
            rc = kt_buf_append(out, "\\\"", 2);
        } else if (cp == '\\') {
            rc = kt_text_escape_follows((const char *)p + 1) ? kt_buf_append(out, "\\\\x5c", 5)
                                                             : kt_buf_append(out, "\\\\", 2);
        } else if (cp == '\n') {
            rc = kt_buf_append(out, "\\n", 2);
        } else if (cp == '\r') {
            rc = kt_buf_append(out, "\\r", 2);
        } else if (cp == '\t') {
            rc = kt_buf_append(out, "\\t", 2);
        } else if (kt_text_is_control(cp)) {
            /* ESC, DEL and C1 too: valid JSON either way, but never raw on
             * a terminal that shows the file. */
            rc = kt_buf_printf(out, "\\u%04x", (unsigned)cp);
        } else {
            rc = kt_buf_append(out, p, len);
        }
        p += len;
        n -= len;
    }
    if (rc == KT_OK)
        rc = kt_buf_append(out, "\"", 1);
    return rc;
}

/* Comma, newline, indent and key before a value. */
static void lead(kt_json *j, const char *key)
{
    if (j->rc)
        return;
    if (j->depth > 0) {
        if (!j->first[j->depth])
            j->rc = kt_buf_append(j->out, ",", 1);
        j->first[j->depth] = false;
        if (j->rc == KT_OK)
            j->rc = kt_buf_printf(j->out, "\n%*s", j->depth * 2, "");
    }
    if (key && j->rc == KT_OK) {
        j->rc = kt_json_quote(j->out, key);
        if (j->rc == KT_OK)
            j->rc = kt_buf_append(j->out, ": ", 2);
    }
}

static void open_(kt_json *j, const char *key, const char *c)
{
    lead(j, key);
    if (j->rc)
        return;
    if (j->depth + 1 >= KT_JSON_MAX_DEPTH) {
        j->rc = KT_ELIMIT;
        return;
    }
    j->rc = kt_buf_append(j->out, c, 1);
    j->depth++;
    j->first[j->depth] = true;
}

static void close_(kt_json *j, const char *c)
{
    if (j->rc || j->depth == 0)
        return;
    bool empty = j->first[j->depth];
    j->depth--;
    if (!empty)
        j->rc = kt_buf_printf(j->out, "\n%*s", j->depth * 2, "");
    if (j->rc == KT_OK)
        j->rc = kt_buf_append(j->out, c, 1);
    if (j->rc == KT_OK && j->depth == 0)
        j->rc = kt_buf_append(j->out, "\n", 1);
}

void kt_json_begin_object(kt_json *j, const char *key)
{
    open_(j, key, "{");
}

void kt_json_end_object(kt_json *j)
{
    close_(j, "}");
}

void kt_json_begin_array(kt_json *j, const char *key)
{
    open_(j, key, "[");
}

void kt_json_end_array(kt_json *j)
{
    close_(j, "]");
}

void kt_json_string(kt_json *j, const char *key, const char *value)
{
    lead(j, key);
    if (j->rc == KT_OK)
        j->rc = value ? kt_json_quote(j->out, value) : kt_buf_append(j->out, "null", 4);
}

void kt_json_int(kt_json *j, const char *key, int64_t value)
{
    lead(j, key);
    if (j->rc == KT_OK)
        j->rc = kt_buf_printf(j->out, "%lld", (long long)value);
}

void kt_json_bool(kt_json *j, const char *key, bool value)
{
    lead(j, key);
    if (j->rc == KT_OK)
        j->rc = kt_buf_append(j->out, value ? "true" : "false", value ? 4 : 5);
}

void kt_json_null(kt_json *j, const char *key)
{
    lead(j, key);
    if (j->rc == KT_OK)
        j->rc = kt_buf_append(j->out, "null", 4);
}

void kt_json_time(kt_json *j, const char *key, kt_time t)
{
    if (t == KT_TIME_NONE) {
        kt_json_null(j, key);
        return;
    }
    char buf[KT_TIME_ISO_MAX];
    kt_json_string(j, key, kt_time_format_iso(t, buf));
}
