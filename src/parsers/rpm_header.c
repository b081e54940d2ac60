/* RPM's own formats: the header blobs the RPM database stores, the
 * database file's format (which reader), NEVRA strings and rpm's version
 * order.
 *
 * Header blob (rpm lib/header.c, headerImport):
 * 0x00 BE32 il: index entries; 0x04 BE32 dl: data store bytes;
 * 0x08 il entries of 16 bytes: BE32 tag, type, offset (into the data
 * store), count; then the data store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/bytes.h"
#include "kavtrace/packages.h"
#include "packages_impl.h"
#include "rpm_impl.h"

#define RPMTAG_NAME 1000
#define RPMTAG_VERSION 1001
#define RPMTAG_RELEASE 1002
#define RPMTAG_EPOCH 1003
#define RPMTAG_INSTALLTIME 1008
#define RPMTAG_ARCH 1022

#define RPM_INT32_TYPE 4
#define RPM_STRING_TYPE 6
#define RPM_STRING_ARRAY_TYPE 8
#define RPM_I18NSTRING_TYPE 9

#define RPM_MAX_STRING 4096 /* a name, version, release or arch */

typedef struct rpm_entry {
    uint32_t type, offset, count;
    bool present;
} rpm_entry;

/* The string at a string-typed entry, bounded by the data store. */
static int rpm_string(const uint8_t *store, uint32_t dl, const rpm_entry *en, const char *what,
                      kt_span *out, kt_error *err)
{
    if (en->type != RPM_STRING_TYPE && en->type != RPM_STRING_ARRAY_TYPE &&
        en->type != RPM_I18NSTRING_TYPE)
        return kt_error_set(err, KT_EFORMAT, "%s: type %u is not a string", what, en->type);
    if (en->offset >= dl || en->count == 0)
        return kt_error_set(err, KT_EFORMAT, "%s: offset %u outside the data store of %u bytes",
                            what, en->offset, dl);
    const uint8_t *s = store + en->offset;
    size_t max = dl - en->offset;
    const uint8_t *nul = memchr(s, '\0', max < RPM_MAX_STRING ? max : RPM_MAX_STRING);
    if (nul == NULL && max < RPM_MAX_STRING)
        return kt_error_set(err, KT_EFORMAT, "%s: string not terminated within the data store",
                            what);
    if (nul == NULL)
        return kt_error_set(err, KT_EFORMAT, "%s: string longer than %d bytes", what,
                            RPM_MAX_STRING);
    *out = (kt_span){(const char *)s, (size_t)(nul - s)};
    return KT_OK;
}

static int rpm_int32(const uint8_t *store, uint32_t dl, const rpm_entry *en, const char *what,
                     uint32_t *out, kt_error *err)
{
    if (en->type != RPM_INT32_TYPE || en->count == 0)
        return kt_error_set(err, KT_EFORMAT, "%s: type %u is not int32", what, en->type);
    if (!kt_rd_be32(store, dl, en->offset, out))
        return kt_error_set(err, KT_EFORMAT, "%s: offset %u outside the data store of %u bytes",
                            what, en->offset, dl);
    return KT_OK;
}

static int header_read(const uint8_t *blob, size_t len, const char *detail, kt_pkg_event *e,
                       kt_buf *scratch, kt_error *err)
{
    uint32_t il = 0, dl = 0;
    if (!kt_rd_be32(blob, len, 0, &il) || !kt_rd_be32(blob, len, 4, &dl))
        return kt_error_set(err, KT_EFORMAT, "header of %zu bytes", len);
    if (il == 0 || il > KT_RPM_MAX_TAGS)
        return kt_error_set(err, KT_EFORMAT, "header with %u index entries", il);
    if (dl > KT_RPM_MAX_HEADER || (uint64_t)il * 16 + dl > len - 8)
        return kt_error_set(err, KT_EFORMAT,
                            "header of %u entries and %u data bytes does not fit in %zu bytes", il,
                            dl, len);
    size_t index_len = (size_t)il * 16;
    const uint8_t *index = blob + 8, *store = index + index_len;
    enum { NAME, VERSION, RELEASE, EPOCH, INSTALLTIME, ARCH, NTAGS };
    static const uint32_t tags[NTAGS] = {RPMTAG_NAME,  RPMTAG_VERSION,     RPMTAG_RELEASE,
                                         RPMTAG_EPOCH, RPMTAG_INSTALLTIME, RPMTAG_ARCH};
    rpm_entry found[NTAGS] = {0};
    for (size_t at = 0; at < index_len; at += 16) {
        uint32_t tag = 0;
        rpm_entry en = {.present = true};
        if (!kt_rd_be32(index, index_len, at, &tag) ||
            !kt_rd_be32(index, index_len, at + 4, &en.type) ||
            !kt_rd_be32(index, index_len, at + 8, &en.offset) ||
            !kt_rd_be32(index, index_len, at + 12, &en.count))
            return kt_error_set(err, KT_EFORMAT, "index entry %zu cut short", at / 16);
        for (int k = 0; k < NTAGS; k++) {
            if (tag == tags[k] && !found[k].present)
                found[k] = en;
        }
    }
    if (!found[NAME].present)
        return kt_error_set(err, KT_EFORMAT, "header without a name");
    kt_span name, version = {0}, release = {0}, arch = {0};
    uint32_t epoch = 0, itime = 0;
    int rc = rpm_string(store, dl, &found[NAME], "name", &name, err);
    if (rc == KT_OK && found[VERSION].present)
        rc = rpm_string(store, dl, &found[VERSION], "version", &version, err);
    if (rc == KT_OK && found[RELEASE].present)
        rc = rpm_string(store, dl, &found[RELEASE], "release", &release, err);
    if (rc == KT_OK && found[ARCH].present)
        rc = rpm_string(store, dl, &found[ARCH], "arch", &arch, err);
    if (rc == KT_OK && found[EPOCH].present)
        rc = rpm_int32(store, dl, &found[EPOCH], "epoch", &epoch, err);
    if (rc == KT_OK && found[INSTALLTIME].present)
        rc = rpm_int32(store, dl, &found[INSTALLTIME], "install time", &itime, err);
    if (rc)
        return rc;

    scratch->len = 0;
    size_t o_name = kt_pkgi_put(scratch, name.p, name.n, &rc);
    size_t o_version = KT_PKGI_NONE;
    if (found[VERSION].present && rc == KT_OK) {
        o_version = scratch->len;
        if (found[EPOCH].present)
            rc = kt_buf_printf(scratch, "%u:", epoch);
        if (rc == KT_OK)
            rc = kt_buf_append(scratch, version.p, version.n);
        if (rc == KT_OK && found[RELEASE].present) {
            rc = kt_buf_append(scratch, "-", 1);
            if (rc == KT_OK)
                rc = kt_buf_append(scratch, release.p, release.n);
        }
        if (rc == KT_OK)
            rc = kt_buf_append(scratch, "", 1);
    }
    size_t o_arch = found[ARCH].present ? kt_pkgi_put(scratch, arch.p, arch.n, &rc) : KT_PKGI_NONE;
    size_t o_detail = detail ? kt_pkgi_put(scratch, detail, strlen(detail), &rc) : KT_PKGI_NONE;
    if (rc)
        return kt_error_set(err, rc, "out of memory");
    *e = (kt_pkg_event){
        .action = KT_PKG_STATE,
        .name = kt_pkgi_at(scratch, o_name),
        .version = kt_pkgi_at(scratch, o_version),
        .arch = kt_pkgi_at(scratch, o_arch),
        .has_time = found[INSTALLTIME].present,
        .time = found[INSTALLTIME].present ? kt_time_from_unix(itime, 0) : KT_TIME_NONE,
        .precision = KT_PREC_SECOND,
        .detail = kt_pkgi_at(scratch, o_detail),
    };
    return KT_OK;
}

int kt_rpm_header_read(const uint8_t *blob, size_t len, kt_pkg_event *e, kt_buf *scratch,
                       kt_error *err)
{
    return header_read(blob, len, NULL, e, scratch, err);
}

int kt_rpmi_record(kt_pkg_run *r, size_t recno, uint64_t hnum, const uint8_t *blob, size_t len,
                   kt_buf *scratch)
{
    char detail[32];
    snprintf(detail, sizeof detail, "hnum %llu", (unsigned long long)hnum);
    kt_error herr = {0};
    kt_pkg_event e;
    int rc = header_read(blob, len, detail, &e, scratch, &herr);
    if (rc == KT_ENOMEM)
        return rc;
    if (rc)
        return kt_pkgi_warn(r, "record %zu (hnum %llu): %s", recno, (unsigned long long)hnum,
                            herr.msg);
    e.line = recno;
    return kt_pkgi_emit(r, &e);
}

/* ---- the database file ---- */

int kt_pkg_parse_rpmdb(const uint8_t *data, size_t len, kt_pkg_cb cb, void *ctx,
                       kt_strlist *warnings, kt_error *err)
{
    kt_pkg_run r;
    kt_pkgi_init(&r, cb, ctx, warnings);
    int rc;
    if (len == 0) {
        rc = KT_OK;
    } else if (len > KT_RPMDB_MAX_SIZE) {
        rc = kt_error_set(err, KT_ELIMIT, "rpm database of %zu bytes (limit %zu)", len,
                          KT_RPMDB_MAX_SIZE);
    } else if (len >= 100 && memcmp(data, "SQLite format 3", 16) == 0) {
        rc = kt_rpmi_sqlite(&r, data, len, err);
    } else if (len >= 512 && kt_rpmi_bdb_magic(data, len, KT_BDB_HASH_MAGIC)) {
        rc = kt_rpmi_bdb(&r, data, len, err);
    } else if (len >= 16 && kt_rpmi_bdb_magic(data, len, KT_BDB_BTREE_MAGIC)) {
        rc = kt_error_set(err, KT_EFORMAT,
                          "Berkeley DB btree database: an rpm index, not the Packages file");
    } else if (kt_rpmi_ndb_magic(data, len)) {
        rc = kt_rpmi_ndb(&r, data, len, err);
    } else {
        rc = kt_error_set(err, KT_EFORMAT,
                          "not an rpm database (neither SQLite, Berkeley DB nor ndb)");
    }
    return kt_pkgi_finish(&r, rc, err);
}

/* ---- NEVRA ---- */

static bool arch_ok(const char *p, size_t n)
{
    if (n == 0 || !((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

static const char *last_of(const char *p, const char *end, char c)
{
    for (const char *q = end; q > p; q--)
        if (q[-1] == c)
            return q - 1;
    return NULL;
}

int kt_rpm_split_nevra(const char *s, size_t len, kt_nevra *nevra, kt_buf *out)
{
    const char *end = s + len, *epoch = NULL;
    size_t epoch_n = 0;
    if (len == 0 || memchr(s, ' ', len) || memchr(s, '\t', len) || memchr(s, '\0', len))
        return KT_EFORMAT;
    /* yum writes "E:name-version-release.arch" */
    const char *colon = memchr(s, ':', len), *dash = memchr(s, '-', len);
    if (colon && (dash == NULL || colon < dash)) {
        if (colon == s || kt_pkgi_digits(s, (size_t)(colon - s)) < 0)
            return KT_EFORMAT;
        epoch = s;
        epoch_n = (size_t)(colon - s);
        s = colon + 1;
    }
    const char *dot = last_of(s, end, '.');
    const char *rel = last_of(s, end, '-');
    if (dot == NULL || rel == NULL || dot < rel || !arch_ok(dot + 1, (size_t)(end - dot - 1)))
        return KT_EFORMAT;
    const char *ver = last_of(s, rel, '-');
    if (ver == NULL || ver == s || rel == ver + 1 || dot == rel + 1)
        return KT_EFORMAT;
    /* dnf writes the epoch inside: "name-E:version-release.arch" */
    const char *vcolon = memchr(ver + 1, ':', (size_t)(rel - ver - 1));
    if (vcolon && (epoch || kt_pkgi_digits(ver + 1, (size_t)(vcolon - ver - 1)) < 0 ||
                   vcolon == ver + 1 || vcolon + 1 == rel))
        return KT_EFORMAT;
    int rc = KT_OK;
    out->len = 0;
    size_t o_name = kt_pkgi_put(out, s, (size_t)(ver - s), &rc);
    size_t o_ver = out->len;
    if (rc == KT_OK && epoch) {
        rc = kt_buf_append(out, epoch, epoch_n);
        if (rc == KT_OK)
            rc = kt_buf_append(out, ":", 1);
    }
    if (rc == KT_OK)
        rc = kt_buf_append(out, ver + 1, (size_t)(dot - ver - 1));
    if (rc == KT_OK)
        rc = kt_buf_append(out, "", 1);
    size_t o_arch = kt_pkgi_put(out, dot + 1, (size_t)(end - dot - 1), &rc);
    if (rc)
        return rc;
    nevra->name = kt_pkgi_at(out, o_name);
    nevra->version = kt_pkgi_at(out, o_ver);
    nevra->arch = kt_pkgi_at(out, o_arch);
    return KT_OK;
}

/* ---- version order (rpm's rpmvercmp, as rpm's docs describe it) ---- */

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* One of version or release: runs of digits compare as numbers, runs of
 * letters as text, a number is newer than letters, other characters only
 * separate; '~' sorts before anything (even the end), '^' after the end
 * but before anything else. [a, ae) and [b, be). */
static int vercmp(const char *a, const char *ae, const char *b, const char *be)
{
    while (a < ae || b < be) {
        while (a < ae && !is_alpha(*a) && !is_digit(*a) && *a != '~' && *a != '^')
            a++;
        while (b < be && !is_alpha(*b) && !is_digit(*b) && *b != '~' && *b != '^')
            b++;
        bool ta = a < ae && *a == '~', tb = b < be && *b == '~';
        if (ta || tb) {
            if (!(ta && tb))
                return ta ? -1 : 1;
            a++;
            b++;
            continue;
        }
        bool ca = a < ae && *a == '^', cb = b < be && *b == '^';
        if (ca || cb) {
            if (a == ae)
                return -1;
            if (b == be)
                return 1;
            if (!(ca && cb))
                return ca ? -1 : 1;
            a++;
            b++;
            continue;
        }
        if (a == ae || b == be)
            break;
        bool num = is_digit(*a);
        const char *sa = a, *sb = b;
        while (a < ae && (num ? is_digit(*a) : is_alpha(*a)))
            a++;
        while (b < be && (num ? is_digit(*b) : is_alpha(*b)))
            b++;
        if (b == sb)
            return num ? 1 : -1; /* a number against letters */
        if (num) {
            while (sa < a && *sa == '0')
                sa++;
            while (sb < b && *sb == '0')
                sb++;
            if (a - sa != b - sb)
                return a - sa > b - sb ? 1 : -1;
        }
        size_t na = (size_t)(a - sa), nb = (size_t)(b - sb);
        int c = memcmp(sa, sb, na < nb ? na : nb);
        if (c == 0 && na != nb)
            c = na < nb ? -1 : 1;
        if (c)
            return c < 0 ? -1 : 1;
    }
    if (a == ae && b == be)
        return 0;
    return a == ae ? -1 : 1;
}

typedef struct evr {
    unsigned long long epoch;
    const char *v, *ve, *r, *re;
} evr;

static void evr_split(const char *s, evr *x)
{
    const char *end = s + strlen(s), *colon = s;
    x->epoch = 0;
    while (colon < end && is_digit(*colon))
        colon++;
    if (colon < end && *colon == ':' && colon > s) {
        for (const char *p = s; p < colon && x->epoch < UINT32_MAX; p++)
            x->epoch = x->epoch * 10 + (unsigned)(*p - '0');
        s = colon + 1;
    }
    const char *dash = NULL;
    for (const char *p = s; p < end; p++)
        if (*p == '-')
            dash = p;
    x->v = s;
    x->ve = dash ? dash : end;
    x->r = dash ? dash + 1 : end;
    x->re = end;
}

int kt_rpm_version_cmp(const char *a, const char *b)
{
    evr x, y;
    evr_split(a, &x);
    evr_split(b, &y);
    if (x.epoch != y.epoch)
        return x.epoch < y.epoch ? -1 : 1;
    int c = vercmp(x.v, x.ve, y.v, y.ve);
    return c ? c : vercmp(x.r, x.re, y.r, y.re);
}
