/* zypper's history: /var/log/zypp/history (see kt_pkg_parse_zypp_history
 * in kavtrace/packages.h).
 *
 * libzypp (zypp/target/HistoryLog.cc) writes one event a line, fields
 * separated by '|', a '|' or '\' inside a field escaped with '\':
 *   TIME|install|NAME|EDITION|ARCH|REQBY|REPO-ALIAS|CHECKSUM|USERDATA
 *   TIME|remove |NAME|EDITION|ARCH|REQBY|USERDATA
 *   TIME|command|USER@HOST|'zypper' 'in' 'kesl'|USERDATA
 * TIME is "%Y-%m-%d %H:%M:%S" in local time; the action is padded with
 * spaces to seven characters; '#' starts a comment line (rpm's output,
 * "... installed ok"). Repository actions (radd, rremove, ralias, rurl)
 * and newer ones (patch) carry no package event. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/packages.h"
#include "packages_impl.h"

#define ZYPP_MAX_FIELDS 12
#define ZYPP_MAX_COMMAND 1024 /* bytes of a command line kept for the detail */

/* ---- what the file shows installed: name and arch -> edition ---- */

typedef struct zslot {
    uint32_t hash;
    size_t key;     /* "name\0arch\0" in strings; KT_PKGI_NONE: empty slot */
    size_t edition; /* in strings; KT_PKGI_NONE: removed */
} zslot;

typedef struct zstate {
    kt_buf strings;
    zslot *slots;
    size_t cap, count;
    bool full;      /* KT_RPM_MAX_PACKAGES names tracked: the rest are not */
    kt_buf command; /* the last command line: "TEXT (by USER)", NUL-terminated */
} zstate;

static uint32_t fnv1a(const char *a, size_t an, const char *b, size_t bn)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < an; i++)
        h = (h ^ (uint8_t)a[i]) * 16777619u;
    h = (h ^ 0u) * 16777619u;
    for (size_t i = 0; i < bn; i++)
        h = (h ^ (uint8_t)b[i]) * 16777619u;
    return h;
}

static bool key_is(const zstate *z, const zslot *s, const char *name, const char *arch)
{
    const char *k = (const char *)z->strings.data + s->key;
    return strcmp(k, name) == 0 && strcmp(k + strlen(k) + 1, arch) == 0;
}

static int grow(zstate *z)
{
    size_t cap = z->cap ? z->cap * 2 : 256;
    zslot *n = malloc(cap * sizeof *n);
    if (n == NULL)
        return KT_ENOMEM;
    for (size_t i = 0; i < cap; i++)
        n[i].key = KT_PKGI_NONE;
    for (size_t i = 0; i < z->cap; i++) {
        if (z->slots[i].key == KT_PKGI_NONE)
            continue;
        size_t at = z->slots[i].hash & (cap - 1);
        while (n[at].key != KT_PKGI_NONE)
            at = (at + 1) & (cap - 1);
        n[at] = z->slots[i];
    }
    free(z->slots);
    z->slots = n;
    z->cap = cap;
    return KT_OK;
}

/* The slot of name and arch; with `add`, made when missing (NULL when
 * the table is full or out of memory: *rc says which). */
static zslot *lookup(zstate *z, const char *name, const char *arch, bool add, int *rc)
{
    size_t nn = strlen(name), an = strlen(arch);
    uint32_t h = fnv1a(name, nn, arch, an);
    for (size_t at = z->cap ? h & (z->cap - 1) : 0; z->cap; at = (at + 1) & (z->cap - 1)) {
        zslot *s = &z->slots[at];
        if (s->key == KT_PKGI_NONE)
            break;
        if (s->hash == h && key_is(z, s, name, arch))
            return s;
    }
    if (!add || z->full)
        return NULL;
    if (z->count >= KT_RPM_MAX_PACKAGES) {
        z->full = true;
        return NULL;
    }
    if ((z->count + 1) * 2 > z->cap && (*rc = grow(z)) != KT_OK)
        return NULL;
    size_t key = kt_pkgi_put(&z->strings, name, nn, rc);
    kt_pkgi_put(&z->strings, arch, an, rc);
    if (*rc)
        return NULL;
    size_t at = h & (z->cap - 1);
    while (z->slots[at].key != KT_PKGI_NONE)
        at = (at + 1) & (z->cap - 1);
    z->slots[at] = (zslot){.hash = h, .key = key, .edition = KT_PKGI_NONE};
    z->count++;
    return &z->slots[at];
}

static void zstate_release(zstate *z)
{
    kt_buf_release(&z->strings);
    kt_buf_release(&z->command);
    free(z->slots);
}

/* ---- a line ---- */

/* Fields of a line split at '|' not escaped by '\'; the spans keep their
 * escapes. Returns the count (at most max; the last takes the rest). */
static size_t split(kt_span line, kt_span *f, size_t max)
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i < line.n && n + 1 < max; i++) {
        if (line.p[i] == '\\') {
            i++;
            continue;
        }
        if (line.p[i] == '|') {
            f[n++] = (kt_span){line.p + start, i - start};
            start = i + 1;
        }
    }
    f[n++] = (kt_span){line.p + start, line.n > start ? line.n - start : 0};
    return n;
}

/* A field appended to b without its escapes (at most max bytes, up to a
 * NUL), not terminated. */
static void append_field(kt_buf *b, kt_span f, size_t max, int *rc)
{
    size_t start = b->len;
    for (size_t i = 0; i < f.n && b->len - start < max && *rc == KT_OK; i++) {
        char c = f.p[i];
        if (c == '\\' && i + 1 < f.n)
            c = f.p[++i];
        if (c == '\0')
            break;
        *rc = kt_buf_append(b, &c, 1);
    }
}

/* The same, NUL-terminated: its offset. */
static size_t put_field(kt_buf *b, kt_span f, size_t max, int *rc)
{
    if (*rc)
        return KT_PKGI_NONE;
    size_t off = b->len;
    append_field(b, f, max, rc);
    if (*rc == KT_OK)
        *rc = kt_buf_append(b, "", 1);
    return *rc ? KT_PKGI_NONE : off;
}

static kt_span trim_spaces(kt_span s)
{
    while (s.n && kt_pkgi_space(s.p[s.n - 1]))
        s.n--;
    while (s.n && kt_pkgi_space(s.p[0])) {
        s.p++;
        s.n--;
    }
    return s;
}

/* "YYYY-MM-DD HH:MM:SS" exactly: the wall-clock time as if UTC. */
static bool zypp_time(kt_span s, kt_time *t)
{
    const char *p = s.p;
    if (s.n != 19 || p[4] != '-' || p[7] != '-' || p[10] != ' ' || p[13] != ':' || p[16] != ':')
        return false;
    int64_t secs;
    if (!kt_pkgi_civil(kt_pkgi_digits(p, 4), kt_pkgi_digits(p + 5, 2), kt_pkgi_digits(p + 8, 2),
                       kt_pkgi_digits(p + 11, 2), kt_pkgi_digits(p + 14, 2),
                       kt_pkgi_digits(p + 17, 2), &secs))
        return false;
    *t = kt_time_from_unix(secs, 0);
    return true;
}

/* "requested by R; repository A; command: C" of what the line has. */
static size_t put_detail(kt_buf *b, const zstate *z, kt_span reqby, kt_span repo, int *rc)
{
    size_t off = b->len;
    const char *sep = "";
    if (*rc == KT_OK && reqby.n) {
        *rc = kt_buf_append(b, "requested by ", 13);
        append_field(b, reqby, 256, rc);
        sep = "; ";
    }
    if (*rc == KT_OK && repo.n) {
        *rc = kt_buf_printf(b, "%srepository ", sep);
        append_field(b, repo, 256, rc);
        sep = "; ";
    }
    if (*rc == KT_OK && z->command.len)
        *rc = kt_buf_printf(b, "%scommand: %s", sep, (const char *)z->command.data);
    bool any = b->len > off;
    if (*rc == KT_OK)
        *rc = kt_buf_append(b, "", 1);
    return *rc || !any ? KT_PKGI_NONE : off;
}

static int zypp_package(zstate *z, kt_pkg_action a, const kt_span *f, size_t nf, kt_time t,
                        size_t no, kt_buf *scratch, kt_pkg_run *r)
{
    if (nf < 5 || trim_spaces(f[2]).n == 0 || trim_spaces(f[3]).n == 0)
        return kt_pkgi_warn(r, "line %zu: '%s' line without NAME|EDITION|ARCH", no,
                            a == KT_PKG_INSTALL ? "install" : "remove");
    int rc = KT_OK;
    scratch->len = 0;
    size_t name = put_field(scratch, trim_spaces(f[2]), 512, &rc);
    size_t version = put_field(scratch, trim_spaces(f[3]), 256, &rc);
    size_t arch = put_field(scratch, trim_spaces(f[4]), 64, &rc);
    kt_span none = {"", 0};
    size_t detail = put_detail(scratch, z, nf > 5 ? trim_spaces(f[5]) : none,
                               a == KT_PKG_INSTALL && nf > 6 ? trim_spaces(f[6]) : none, &rc);
    if (rc)
        return rc;
    /* An install over an edition the file shows installed is an update. */
    zslot *s = lookup(z, kt_pkgi_at(scratch, name), kt_pkgi_at(scratch, arch), true, &rc);
    if (rc)
        return rc;
    size_t old = KT_PKGI_NONE;
    if (a == KT_PKG_INSTALL && s && s->edition != KT_PKGI_NONE) {
        const char *prev = kt_pkgi_at(&z->strings, s->edition);
        int c = kt_rpm_version_cmp(kt_pkgi_at(scratch, version), prev);
        a = c > 0 ? KT_PKG_UPGRADE : c < 0 ? KT_PKG_DOWNGRADE : KT_PKG_REINSTALL;
        old = kt_pkgi_put(scratch, prev, strlen(prev), &rc);
    }
    if (s && rc == KT_OK) {
        const char *v = kt_pkgi_at(scratch, version);
        s->edition =
            a == KT_PKG_REMOVE ? KT_PKGI_NONE : kt_pkgi_put(&z->strings, v, strlen(v), &rc);
    }
    if (rc)
        return rc;
    kt_pkg_event e = {
        .action = a,
        .name = kt_pkgi_at(scratch, name),
        .version = kt_pkgi_at(scratch, version),
        .old_version = kt_pkgi_at(scratch, old),
        .arch = kt_pkgi_at(scratch, arch)[0] ? kt_pkgi_at(scratch, arch) : NULL,
        .has_time = true,
        .time = t,
        .local = true,
        .precision = KT_PREC_SECOND,
        .line = no,
        .detail = kt_pkgi_at(scratch, detail),
    };
    return kt_pkgi_emit(r, &e);
}

static int zypp_command(zstate *z, const kt_span *f, size_t nf)
{
    int rc = KT_OK;
    z->command.len = 0;
    if (nf < 4)
        return KT_OK;
    append_field(&z->command, trim_spaces(f[3]), ZYPP_MAX_COMMAND, &rc);
    if (rc == KT_OK && trim_spaces(f[2]).n) {
        rc = kt_buf_append(&z->command, " (by ", 5);
        append_field(&z->command, trim_spaces(f[2]), 256, &rc);
        if (rc == KT_OK)
            rc = kt_buf_append(&z->command, ")", 1);
    }
    return rc;
}

static int zypp_line(zstate *z, kt_span line, size_t no, kt_buf *scratch, kt_pkg_run *r)
{
    kt_span f[ZYPP_MAX_FIELDS];
    size_t nf = split(line, f, ZYPP_MAX_FIELDS);
    kt_time t;
    if (nf < 2 || !zypp_time(f[0], &t))
        return kt_pkgi_warn(r, "line %zu: not a 'YYYY-MM-DD HH:MM:SS|ACTION|...' line", no);
    int rc = kt_pkgi_confirm(r);
    if (rc)
        return rc;
    kt_span action = trim_spaces(f[1]);
    if (kt_span_eq(action, "install"))
        return zypp_package(z, KT_PKG_INSTALL, f, nf, t, no, scratch, r);
    if (kt_span_eq(action, "remove"))
        return zypp_package(z, KT_PKG_REMOVE, f, nf, t, no, scratch, r);
    if (kt_span_eq(action, "command"))
        return zypp_command(z, f, nf);
    return KT_OK; /* radd, rremove, ralias, rurl, patch, ... */
}

int kt_pkg_parse_zypp_history(const uint8_t *data, size_t len, kt_pkg_cb cb, void *ctx,
                              kt_strlist *warnings, kt_error *err)
{
    kt_pkg_run r;
    kt_pkgi_init(&r, cb, ctx, warnings);
    zstate z = {0};
    kt_buf scratch = {0};
    kt_lines it = {.data = data, .len = len};
    bool seen_data = false;
    int rc = KT_OK;
    kt_span line;
    while (rc == KT_OK && kt_pkgi_next_line(&it, &line)) {
        kt_span s = trim_spaces(line);
        if (s.n == 0 || s.p[0] == '#')
            continue;
        seen_data = true;
        rc = zypp_line(&z, line, it.no, &scratch, &r);
    }
    if (rc == KT_OK && seen_data && !r.confirmed)
        rc = kt_error_set(err, KT_EFORMAT,
                          "not a zypper history: no 'YYYY-MM-DD HH:MM:SS|ACTION|...' line");
    if (rc == KT_OK && z.full)
        rc = kt_pkgi_warn(&r, "more than %u packages: later updates of the rest read as installs",
                          KT_RPM_MAX_PACKAGES);
    rc = kt_pkgi_finish(&r, rc, err);
    kt_buf_release(&scratch);
    zstate_release(&z);
    return rc;
}
