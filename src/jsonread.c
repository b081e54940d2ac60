#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kavtrace/jsonread.h"

#define KT_JV_MAX_FILE ((size_t)256 << 20)

typedef struct parser {
    const char *p, *end, *start;
    kt_error *err;
} parser;

static int fail(parser *ps, const char *what)
{
    int line = 1;
    for (const char *c = ps->start; c < ps->p && c < ps->end; c++)
        line += *c == '\n';
    return kt_error_set(ps->err, KT_EFORMAT, "JSON: line %d: %s", line, what);
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int hex4(parser *ps, unsigned *out)
{
    if (ps->end - ps->p < 4)
        return fail(ps, "a short \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = *ps->p++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return fail(ps, "a bad \\u escape");
    }
    *out = v;
    return KT_OK;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A string at ps->p (past its opening quote); decoded text, never longer
 * than the source, in *out. */
static int string(parser *ps, char **out, size_t *len)
{
    const char *q = ps->p;
    while (q < ps->end && *q != '"')
        q += *q == '\\' ? 2 : 1;
    if (q >= ps->end)
        return fail(ps, "an unterminated string");
    char *s = malloc((size_t)(q - ps->p) + 1), *o = s;
    if (s == NULL)
        return kt_error_set(ps->err, KT_ENOMEM, "JSON: out of memory");
    while (*ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p++;
        if (c < 0x20) {
            free(s);
            return fail(ps, "a control character in a string");
        }
        if (c != '\\') {
            *o++ = (char)c;
            continue;
        }
        char e = *ps->p++;
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *k = e ? strchr(from, e) : NULL;
        if (k) {
            *o++ = to[k - from];
            continue;
        }
        unsigned cp;
        if (e != 'u' || hex4(ps, &cp) != KT_OK) {
            free(s);
            return e == 'u' ? ps->err->code : fail(ps, "a bad escape");
        }
        if (cp >= 0xd800 && cp < 0xdc00 && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
            ps->p[1] == 'u') {
            const char *save = ps->p;
            unsigned lo;
            ps->p += 2;
            if (hex4(ps, &lo) == KT_OK && lo >= 0xdc00 && lo < 0xe000)
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            else
                ps->p = save;
        }
        if (cp >= 0xd800 && cp < 0xe000)
            cp = 0xfffd;
        o += put_utf8(o, cp);
    }
    ps->p++;
    *o = '\0';
    *out = s;
    *len = (size_t)(o - s);
    return KT_OK;
}

static int value(parser *ps, kt_jv *v, int depth);

static int grow(parser *ps, kt_jv *v, size_t *cap, bool keys)
{
    if (v->len < *cap)
        return KT_OK;
    size_t n = *cap ? *cap * 2 : 8;
    kt_jv *items = realloc(v->item, n * sizeof *items);
    if (items == NULL)
        return kt_error_set(ps->err, KT_ENOMEM, "JSON: out of memory");
    v->item = items;
    if (keys) {
        char **k = realloc(v->key, n * sizeof *k);
        if (k == NULL)
            return kt_error_set(ps->err, KT_ENOMEM, "JSON: out of memory");
        v->key = k;
    }
    *cap = n;
    return KT_OK;
}

static int members(parser *ps, kt_jv *v, int depth, bool object)
{
    char close = object ? '}' : ']';
    size_t cap = 0;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return KT_OK;
    }
    for (;;) {
        int rc = grow(ps, v, &cap, object);
        if (rc)
            return rc;
        skip_ws(ps);
        if (object) {
            size_t klen;
            if (ps->p >= ps->end || *ps->p != '"')
                return fail(ps, "a member without a name");
            ps->p++;
            if ((rc = string(ps, &v->key[v->len], &klen)) != KT_OK)
                return rc;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(v->key[v->len]);
                return fail(ps, "a member without ':'");
            }
            ps->p++;
        }
        memset(&v->item[v->len], 0, sizeof v->item[v->len]);
        rc = value(ps, &v->item[v->len], depth + 1);
        v->len++; /* released with the rest, whole or not */
        if (rc)
            return rc;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return KT_OK;
        }
        return fail(ps, object ? "an object without '}'" : "an array without ']'");
    }
}

static int value(parser *ps, kt_jv *v, int depth)
{
    if (depth > KT_JV_MAX_DEPTH)
        return fail(ps, "nested too deep");
    skip_ws(ps);
    if (ps->p >= ps->end)
        return fail(ps, "a value missing");
    static const struct {
        const char *word;
        kt_jv_type type;
        bool b;
    } words[] = {
        {"null", KT_JV_NULL, false}, {"true", KT_JV_BOOL, true}, {"false", KT_JV_BOOL, false}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen(words[i].word);
        if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, words[i].word, n) == 0) {
            ps->p += n;
            v->type = words[i].type;
            v->b = words[i].b;
            return KT_OK;
        }
    }
    char c = *ps->p;
    if (c == '"') {
        ps->p++;
        v->type = KT_JV_STRING;
        return string(ps, &v->s, &v->len);
    }
    if (c == '[' || c == '{') {
        ps->p++;
        v->type = c == '[' ? KT_JV_ARRAY : KT_JV_OBJECT;
        return members(ps, v, depth, c == '{');
    }
    const char *q = ps->p;
    if (q < ps->end && *q == '-')
        q++;
    const char *digits = q;
    while (q < ps->end && strchr("0123456789.eE+-", *q))
        q++;
    if (q == digits || !(*digits >= '0' && *digits <= '9'))
        return fail(ps, "not a value");
    v->type = KT_JV_NUMBER;
    v->len = (size_t)(q - ps->p);
    v->s = strndup(ps->p, v->len);
    ps->p = q;
    return v->s ? KT_OK : kt_error_set(ps->err, KT_ENOMEM, "JSON: out of memory");
}

int kt_jv_parse(const char *text, size_t n, kt_jv *out, kt_error *err)
{
    kt_error local = {0};
    parser ps = {.p = text, .end = text + n, .start = text, .err = err ? err : &local};
    kt_jv v = {0};
    int rc = value(&ps, &v, 0);
    if (rc == KT_OK) {
        skip_ws(&ps);
        if (ps.p != ps.end)
            rc = fail(&ps, "text after the value");
    }
    if (rc) {
        kt_jv_release(&v);
        memset(out, 0, sizeof *out);
        return rc;
    }
    *out = v;
    return KT_OK;
}

int kt_jv_parse_file(const char *path, kt_jv *out, kt_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kt_error_set(err, errno == ENOENT ? KT_ENOTFOUND : KT_EIO, "'%s': %s", path,
                            strerror(errno));
    struct stat st;
    char *buf = NULL;
    int rc = KT_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = kt_error_set(err, KT_EIO, "'%s': not a regular file", path);
        goto out;
    }
    if ((size_t)st.st_size > KT_JV_MAX_FILE) {
        rc = kt_error_set(err, KT_ELIMIT, "'%s': larger than %zu bytes", path, KT_JV_MAX_FILE);
        goto out;
    }
    size_t len = (size_t)st.st_size, got = 0;
    buf = malloc(len + 1);
    if (buf == NULL) {
        rc = kt_error_set(err, KT_ENOMEM, "'%s': out of memory", path);
        goto out;
    }
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = kt_error_set(err, KT_EIO, "'%s': %s", path, r ? strerror(errno) : "cut short");
            goto out;
        }
        got += (size_t)r;
    }
    rc = kt_jv_parse(buf, len, out, err);
    if (rc)
        kt_error_prefix(err, "'%s'", path);
out:
    free(buf);
    close(fd);
    return rc;
}

void kt_jv_release(kt_jv *v)
{
    if (v == NULL)
        return;
    if (v->type == KT_JV_ARRAY || v->type == KT_JV_OBJECT) {
        for (size_t i = 0; i < v->len; i++) {
            kt_jv_release(&v->item[i]);
            if (v->key)
                free(v->key[i]);
        }
    }
    free(v->item);
    free(v->key);
    free(v->s);
    memset(v, 0, sizeof *v);
}

const kt_jv *kt_jv_get(const kt_jv *v, const char *key)
{
    if (v == NULL || v->type != KT_JV_OBJECT)
        return NULL;
    for (size_t i = 0; i < v->len; i++)
        if (strcmp(v->key[i], key) == 0)
            return &v->item[i];
    return NULL;
}

const char *kt_jv_str(const kt_jv *v)
{
    return v && v->type == KT_JV_STRING ? v->s : NULL;
}

bool kt_jv_int(const kt_jv *v, int64_t *out)
{
    if (v == NULL || v->type != KT_JV_NUMBER)
        return false;
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v->s, &end, 10);
    if (errno || end == v->s || *end)
        return false;
    *out = n;
    return true;
}
