/* Debian package history: dpkg's status file and log, apt's history log,
 * and dpkg's version order. Shared helpers of the package parsers too. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/packages.h"
#include "packages_impl.h"

/* ---- shared helpers ---- */

bool kt_pkgi_next_line(kt_lines *it, kt_span *line)
{
    if (it->pos >= it->len)
        return false;
    const uint8_t *s = it->data + it->pos;
    size_t left = it->len - it->pos;
    const uint8_t *nl = memchr(s, '\n', left);
    size_t n = nl ? (size_t)(nl - s) : left;
    it->pos += n + (nl != NULL);
    it->no++;
    if (n && s[n - 1] == '\r')
        n--;
    line->p = (const char *)s;
    line->n = n;
    return true;
}

void kt_pkgi_init(kt_pkg_run *r, kt_pkg_cb cb, void *ctx, kt_strlist *warnings)
{
    memset(r, 0, sizeof *r);
    r->cb = cb;
    r->ctx = ctx;
    r->out = warnings;
}

int kt_pkgi_emit(kt_pkg_run *r, const kt_pkg_event *e)
{
    int stop = r->cb(r->ctx, e);
    if (stop == 0)
        return KT_OK;
    r->stopped = stop;
    return 1;
}

int kt_pkgi_warn(kt_pkg_run *r, const char *fmt, ...)
{
    r->count++;
    if (r->count > KT_PKG_MAX_WARNINGS)
        return KT_OK;
    kt_strlist *dst = r->confirmed ? r->out : &r->held;
    if (dst == NULL)
        return KT_OK;
    va_list ap;
    va_start(ap, fmt);
    int rc = kt_strlist_vaddf(dst, fmt, ap);
    va_end(ap);
    return rc;
}

int kt_pkgi_confirm(kt_pkg_run *r)
{
    if (r->confirmed)
        return KT_OK;
    r->confirmed = true;
    int rc = KT_OK;
    for (size_t i = 0; i < r->held.count && rc == KT_OK && r->out; i++)
        rc = kt_strlist_add(r->out, r->held.items[i]);
    kt_strlist_release(&r->held);
    return rc;
}

int kt_pkgi_finish(kt_pkg_run *r, int rc, kt_error *err)
{
    int wrc = KT_OK;
    if (r->confirmed && r->out && r->count > KT_PKG_MAX_WARNINGS)
        wrc = kt_strlist_addf(r->out, "%zu more warnings", r->count - KT_PKG_MAX_WARNINGS);
    kt_strlist_release(&r->held);
    if (r->stopped)
        return r->stopped;
    if (rc == KT_OK)
        rc = wrc;
    if (rc == KT_ENOMEM)
        kt_error_set(err, rc, "out of memory");
    return rc;
}

size_t kt_pkgi_put(kt_buf *b, const char *p, size_t n, int *rc)
{
    if (*rc)
        return KT_PKGI_NONE;
    const char *nul = memchr(p, '\0', n);
    if (nul)
        n = (size_t)(nul - p);
    size_t off = b->len;
    static const char zero = '\0';
    *rc = kt_buf_append(b, p, n);
    if (*rc == KT_OK)
        *rc = kt_buf_append(b, &zero, 1);
    return *rc ? KT_PKGI_NONE : off;
}

const char *kt_pkgi_at(const kt_buf *b, size_t off)
{
    return off == KT_PKGI_NONE ? NULL : (const char *)b->data + off;
}

int kt_pkgi_digits(const char *p, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' || v > (INT32_MAX - 9) / 10)
            return -1; /* not digits, or more than an int holds */
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

bool kt_pkgi_civil(int y, int mo, int d, int h, int mi, int s, int64_t *secs)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 ||
        s > 60)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap))
        return false;
    *secs = kt_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s;
    return true;
}

const char *kt_pkg_action_name(kt_pkg_action a)
{
    static const char *const names[] = {
        [KT_PKG_STATE] = "state",         [KT_PKG_INSTALL] = "install",
        [KT_PKG_UPGRADE] = "upgrade",     [KT_PKG_DOWNGRADE] = "downgrade",
        [KT_PKG_REINSTALL] = "reinstall", [KT_PKG_REMOVE] = "remove",
        [KT_PKG_PURGE] = "purge",
    };
    if ((unsigned)a < sizeof names / sizeof names[0] && names[a])
        return names[a];
    return "?";
}

static kt_span trim(kt_span s)
{
    while (s.n && kt_pkgi_space(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n && (kt_pkgi_space(s.p[s.n - 1]) || s.p[s.n - 1] == '\r'))
        s.n--;
    return s;
}

static bool blank(kt_span s)
{
    return trim(s).n == 0;
}

/* Next whitespace-separated word of *rest. */
static bool word(kt_span *rest, kt_span *w)
{
    *rest = trim(*rest);
    if (rest->n == 0)
        return false;
    size_t i = 0;
    while (i < rest->n && !kt_pkgi_space(rest->p[i]))
        i++;
    w->p = rest->p;
    w->n = i;
    rest->p += i;
    rest->n -= i;
    return true;
}

/* "YYYY-MM-DD" then spaces then "HH:MM:SS": the wall-clock time as if UTC. */
static bool parse_date_time(kt_span s, kt_time *t, size_t *used)
{
    if (s.n < 19)
        return false;
    const char *p = s.p;
    if (p[4] != '-' || p[7] != '-')
        return false;
    int y = kt_pkgi_digits(p, 4), mo = kt_pkgi_digits(p + 5, 2), d = kt_pkgi_digits(p + 8, 2);
    size_t i = 10;
    if (!kt_pkgi_space(p[i]))
        return false;
    while (i < s.n && kt_pkgi_space(p[i]))
        i++;
    if (s.n - i < 8 || p[i + 2] != ':' || p[i + 5] != ':')
        return false;
    int h = kt_pkgi_digits(p + i, 2), mi = kt_pkgi_digits(p + i + 3, 2),
        sec = kt_pkgi_digits(p + i + 6, 2);
    int64_t secs;
    if (!kt_pkgi_civil(y, mo, d, h, mi, sec, &secs))
        return false;
    *t = kt_time_from_unix(secs, 0);
    *used = i + 8;
    return true;
}

/* "name:arch" into name and arch (NONE when there is no ':'). */
static void put_name_arch(kt_buf *b, kt_span s, size_t *name, size_t *arch, int *rc)
{
    const char *colon = memchr(s.p, ':', s.n);
    if (colon == NULL) {
        *name = kt_pkgi_put(b, s.p, s.n, rc);
        *arch = KT_PKGI_NONE;
        return;
    }
    size_t n = (size_t)(colon - s.p);
    *name = kt_pkgi_put(b, s.p, n, rc);
    *arch = kt_pkgi_put(b, colon + 1, s.n - n - 1, rc);
}

/* ---- Debian version order (dpkg lib/dpkg/version.c) ---- */

static int order(int c)
{
    if (c >= '0' && c <= '9')
        return 0;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return c;
    if (c == '~')
        return -1;
    if (c)
        return c + 256;
    return 0;
}

static bool isdig(const char *p, const char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

static int at(const char *p, const char *end)
{
    return p < end ? (unsigned char)*p : 0;
}

/* dpkg's verrevcmp over [a, ae) and [b, be). */
static int verrevcmp(const char *a, const char *ae, const char *b, const char *be)
{
    while (a < ae || b < be) {
        int first_diff = 0;
        while ((a < ae && !isdig(a, ae)) || (b < be && !isdig(b, be))) {
            int ac = order(at(a, ae)), bc = order(at(b, be));
            if (ac != bc)
                return ac - bc;
            a++;
            b++;
        }
        while (a < ae && *a == '0')
            a++;
        while (b < be && *b == '0')
            b++;
        while (isdig(a, ae) && isdig(b, be)) {
            if (!first_diff)
                first_diff = *a - *b;
            a++;
            b++;
        }
        if (isdig(a, ae))
            return 1;
        if (isdig(b, be))
            return -1;
        if (first_diff)
            return first_diff;
    }
    return 0;
}

typedef struct debver {
    unsigned long epoch;
    const char *up, *up_end, *rev, *rev_end;
} debver;

static bool debver_parse(const char *s, debver *v)
{
    const char *end = s + strlen(s);
    const char *colon = strchr(s, ':');
    v->epoch = 0;
    if (colon) {
        if (colon == s)
            return false;
        for (const char *p = s; p < colon; p++)
            if (*p < '0' || *p > '9')
                return false;
        errno = 0;
        char *e = NULL;
        v->epoch = strtoul(s, &e, 10);
        if (errno || e != colon || v->epoch > INT_MAX)
            return false;
        s = colon + 1;
    }
    const char *hyphen = strrchr(s, '-');
    v->up = s;
    v->up_end = hyphen ? hyphen : end;
    v->rev = hyphen ? hyphen + 1 : end;
    v->rev_end = end;
    return true;
}

int kt_deb_version_cmp(const char *a, const char *b)
{
    debver va, vb;
    bool oka = debver_parse(a, &va), okb = debver_parse(b, &vb);
    if (!oka || !okb) {
        if (oka != okb)
            return oka ? -1 : 1;
        int c = strcmp(a, b);
        return (c > 0) - (c < 0);
    }
    if (va.epoch != vb.epoch)
        return va.epoch > vb.epoch ? 1 : -1;
    int c = verrevcmp(va.up, va.up_end, vb.up, vb.up_end);
    if (c == 0)
        c = verrevcmp(va.rev, va.rev_end, vb.rev, vb.rev_end);
    return (c > 0) - (c < 0);
}

/* ---- /var/lib/dpkg/status ---- */

typedef struct stanza {
    size_t line;
    kt_span package, status, version, config_version, arch;
    bool any;
} stanza;

static int stanza_emit(stanza *st, kt_buf *scratch, kt_pkg_run *w)
{
    if (!st->any)
        return KT_OK;
    if (st->package.n == 0)
        return kt_pkgi_warn(w, "line %zu: stanza without a Package field", st->line);
    int rc = KT_OK;
    scratch->len = 0;
    kt_span ver = st->version.n ? st->version : st->config_version;
    size_t name = kt_pkgi_put(scratch, st->package.p, st->package.n, &rc);
    size_t version = ver.n ? kt_pkgi_put(scratch, ver.p, ver.n, &rc) : KT_PKGI_NONE;
    size_t arch = st->arch.n ? kt_pkgi_put(scratch, st->arch.p, st->arch.n, &rc) : KT_PKGI_NONE;
    size_t state =
        st->status.n ? kt_pkgi_put(scratch, st->status.p, st->status.n, &rc) : KT_PKGI_NONE;
    if (rc)
        return rc;
    kt_pkg_event e = {
        .action = KT_PKG_STATE,
        .name = kt_pkgi_at(scratch, name),
        .version = kt_pkgi_at(scratch, version),
        .arch = kt_pkgi_at(scratch, arch),
        .state = kt_pkgi_at(scratch, state),
        .time = KT_TIME_NONE,
        .precision = KT_PREC_SECOND,
        .line = st->line,
    };
    return kt_pkgi_emit(w, &e);
}

static bool field_name_ok(kt_span name)
{
    if (name.n == 0 || name.p[0] == '#' || name.p[0] == '-')
        return false;
    for (size_t i = 0; i < name.n; i++)
        if ((unsigned char)name.p[i] <= ' ' || (unsigned char)name.p[i] >= 0x7f)
            return false;
    return true;
}

static bool span_ieq(kt_span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && strncasecmp(s.p, lit, n) == 0;
}

int kt_pkg_parse_dpkg_status(const uint8_t *data, size_t len, kt_pkg_cb cb, void *ctx,
                             kt_strlist *warnings, kt_error *err)
{
    kt_pkg_run w;
    kt_pkgi_init(&w, cb, ctx, warnings);
    kt_buf scratch = {0};
    kt_lines it = {.data = data, .len = len};
    stanza st = {0};
    bool in_field = false, seen_data = false;
    int rc = KT_OK;
    kt_span line;
    while (rc == KT_OK && kt_pkgi_next_line(&it, &line)) {
        if (blank(line)) {
            rc = stanza_emit(&st, &scratch, &w);
            memset(&st, 0, sizeof st);
            in_field = false;
            continue;
        }
        seen_data = true;
        if (kt_pkgi_space(line.p[0])) {
            if (!in_field)
                rc = kt_pkgi_warn(&w, "line %zu: continuation line outside a field", it.no);
            continue;
        }
        const char *colon = memchr(line.p, ':', line.n);
        kt_span name = {line.p, colon ? (size_t)(colon - line.p) : 0};
        if (colon == NULL || !field_name_ok(name)) {
            rc = kt_pkgi_warn(&w, "line %zu: not a 'Field: value' line", it.no);
            in_field = false;
            continue;
        }
        if ((rc = kt_pkgi_confirm(&w)))
            break;
        if (!st.any) {
            st.any = true;
            st.line = it.no;
        }
        in_field = true;
        kt_span value = trim((kt_span){colon + 1, line.n - name.n - 1});
        if (span_ieq(name, "Package"))
            st.package = value;
        else if (span_ieq(name, "Status"))
            st.status = value;
        else if (span_ieq(name, "Version"))
            st.version = value;
        else if (span_ieq(name, "Config-Version"))
            st.config_version = value;
        else if (span_ieq(name, "Architecture"))
            st.arch = value;
    }
    if (rc == KT_OK)
        rc = stanza_emit(&st, &scratch, &w);
    if (rc == KT_OK && seen_data && !w.confirmed)
        rc = kt_error_set(err, KT_EFORMAT, "not a dpkg status file: no 'Field: value' line");
    rc = kt_pkgi_finish(&w, rc, err);
    kt_buf_release(&scratch);
    return rc;
}

/* ---- /var/log/dpkg.log ---- */

static int dpkg_line(kt_span line, size_t no, kt_buf *scratch, kt_pkg_run *w)
{
    kt_time t;
    size_t used;
    if (!parse_date_time(line, &t, &used) || (used < line.n && !kt_pkgi_space(line.p[used])))
        return kt_pkgi_warn(w, "line %zu: no 'YYYY-MM-DD HH:MM:SS' time", no);
    int rc = kt_pkgi_confirm(w);
    if (rc)
        return rc;
    kt_span rest = {line.p + used, line.n - used}, action, pkg, v1, v2, extra;
    if (!word(&rest, &action))
        return kt_pkgi_warn(w, "line %zu: no action after the time", no);
    kt_pkg_action a;
    if (kt_span_eq(action, "install"))
        a = KT_PKG_INSTALL;
    else if (kt_span_eq(action, "upgrade"))
        a = KT_PKG_UPGRADE;
    else if (kt_span_eq(action, "remove"))
        a = KT_PKG_REMOVE;
    else if (kt_span_eq(action, "purge"))
        a = KT_PKG_PURGE;
    else
        return KT_OK; /* status, configure, trigproc, startup, conffile, ... */
    if (!word(&rest, &pkg) || !word(&rest, &v1) || !word(&rest, &v2) || word(&rest, &extra))
        return kt_pkgi_warn(w, "line %zu: '%.*s' line without PACKAGE VERSION VERSION", no,
                            (int)action.n, action.p);
    scratch->len = 0;
    size_t name, arch, version, old = KT_PKGI_NONE;
    put_name_arch(scratch, pkg, &name, &arch, &rc);
    if (a == KT_PKG_REMOVE || a == KT_PKG_PURGE) {
        version = kt_pkgi_put(scratch, v1.p, v1.n, &rc);
    } else {
        version = kt_pkgi_put(scratch, v2.p, v2.n, &rc);
        if (!kt_span_eq(v1, "<none>"))
            old = kt_pkgi_put(scratch, v1.p, v1.n, &rc);
    }
    if (rc)
        return rc;
    if (a == KT_PKG_UPGRADE && old != KT_PKGI_NONE) {
        int c = kt_deb_version_cmp(kt_pkgi_at(scratch, version), kt_pkgi_at(scratch, old));
        a = c > 0 ? KT_PKG_UPGRADE : c < 0 ? KT_PKG_DOWNGRADE : KT_PKG_REINSTALL;
    }
    kt_pkg_event e = {
        .action = a,
        .name = kt_pkgi_at(scratch, name),
        .version = kt_pkgi_at(scratch, version),
        .old_version = kt_pkgi_at(scratch, old),
        .arch = kt_pkgi_at(scratch, arch),
        .has_time = true,
        .time = t,
        .local = true,
        .precision = KT_PREC_SECOND,
        .line = no,
    };
    return kt_pkgi_emit(w, &e);
}

int kt_pkg_parse_dpkg_log(const uint8_t *data, size_t len, kt_pkg_cb cb, void *ctx,
                          kt_strlist *warnings, kt_error *err)
{
    kt_pkg_run w;
    kt_pkgi_init(&w, cb, ctx, warnings);
    kt_buf scratch = {0};
    kt_lines it = {.data = data, .len = len};
    bool seen_data = false;
    int rc = KT_OK;
    kt_span line;
    while (rc == KT_OK && kt_pkgi_next_line(&it, &line)) {
        if (blank(line))
            continue;
        seen_data = true;
        rc = dpkg_line(line, it.no, &scratch, &w);
    }
    if (rc == KT_OK && seen_data && !w.confirmed)
        rc = kt_error_set(err, KT_EFORMAT, "not a dpkg log: no line starts with a time");
    rc = kt_pkgi_finish(&w, rc, err);
    kt_buf_release(&scratch);
    return rc;
}

/* ---- /var/log/apt/history.log ---- */

#define APT_MAX_LISTS 64

typedef struct apt_list {
    kt_pkg_action action; /* UPGRADE covers Upgrade and Downgrade: (old, new) */
    bool two_versions;
    kt_span text;
    size_t line;
    size_t column; /* of text in its line, 0-based */
} apt_list;

typedef struct apt_block {
    bool any;
    size_t line;
    bool has_start; /* a Start-Date line, valid or not */
    bool has_time;
    kt_time time;
    kt_span commandline, requested_by, error;
    apt_list lists[APT_MAX_LISTS];
    size_t nlists;
} apt_block;

static const struct {
    const char *field;
    kt_pkg_action action;
    bool two_versions;
} apt_fields[] = {
    {"Install", KT_PKG_INSTALL, false},    {"Upgrade", KT_PKG_UPGRADE, true},
    {"Downgrade", KT_PKG_DOWNGRADE, true}, {"Reinstall", KT_PKG_REINSTALL, false},
    {"Remove", KT_PKG_REMOVE, false},      {"Purge", KT_PKG_PURGE, false},
};

static size_t apt_detail(const apt_block *b, kt_buf *scratch, int *rc)
{
    const struct {
        const char *label;
        kt_span v;
    } parts[] = {
        {"Commandline", b->commandline},
        {"Requested-By", b->requested_by},
        {"Error", b->error},
    };
    size_t off = scratch->len;
    bool any = false;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0] && *rc == KT_OK; i++) {
        if (parts[i].v.p == NULL)
            continue;
        *rc = kt_buf_printf(scratch, "%s%s: ", any ? "; " : "", parts[i].label);
        if (*rc == KT_OK)
            *rc = kt_buf_append(scratch, parts[i].v.p, parts[i].v.n);
        any = true;
    }
    if (*rc || !any)
        return KT_PKGI_NONE;
    static const char zero = '\0';
    *rc = kt_buf_append(scratch, &zero, 1);
    return *rc ? KT_PKGI_NONE : off;
}

/* One "name:arch (v1[, v2][, automatic])" entry: *p moves past it and the
 * comma that follows. */
static bool apt_entry(const char **p, const char *end, kt_span *name, kt_span *v[3], size_t *nv)
{
    const char *s = *p;
    while (s < end && kt_pkgi_space(*s))
        s++;
    const char *n0 = s;
    while (s < end && !kt_pkgi_space(*s) && *s != '(' && *s != ',' && *s != ')')
        s++;
    if (s == n0)
        return false;
    *name = (kt_span){n0, (size_t)(s - n0)};
    while (s < end && kt_pkgi_space(*s))
        s++;
    if (s == end || *s != '(')
        return false;
    s++;
    *nv = 0;
    for (;;) {
        while (s < end && kt_pkgi_space(*s))
            s++;
        const char *v0 = s;
        while (s < end && *s != ',' && *s != ')' && *s != '(')
            s++;
        if (s == end || *s == '(')
            return false;
        kt_span val = trim((kt_span){v0, (size_t)(s - v0)});
        if (val.n == 0 || *nv == 3)
            return false;
        *v[(*nv)++] = val;
        if (*s++ == ')')
            break;
    }
    while (s < end && kt_pkgi_space(*s))
        s++;
    if (s < end) {
        if (*s != ',')
            return false;
        s++;
    }
    *p = s;
    return true;
}

static int apt_emit_list(const apt_block *b, const apt_list *l, size_t detail_off, kt_buf *scratch,
                         kt_pkg_run *w)
{
    const char *p = l->text.p, *end = l->text.p + l->text.n;
    int rc = KT_OK;
    size_t base = scratch->len;
    while (rc == KT_OK) {
        while (p < end && kt_pkgi_space(*p))
            p++;
        if (p == end)
            break;
        kt_span name, v0 = {0}, v1 = {0}, v2 = {0};
        kt_span *v[3] = {&v0, &v1, &v2};
        size_t nv = 0;
        if (!apt_entry(&p, end, &name, v, &nv))
            return kt_pkgi_warn(w, "line %zu: malformed package list entry at column %zu", l->line,
                                l->column + (size_t)(p - l->text.p) + 1);
        kt_pkg_action a = l->action;
        kt_span version = v0, old = {0};
        if (l->two_versions && nv >= 2 && !kt_span_eq(v1, "automatic")) {
            old = v0;
            version = v1;
        }
        scratch->len = base;
        size_t nm, arch;
        put_name_arch(scratch, name, &nm, &arch, &rc);
        size_t ver = kt_pkgi_put(scratch, version.p, version.n, &rc);
        size_t oldv = old.p ? kt_pkgi_put(scratch, old.p, old.n, &rc) : KT_PKGI_NONE;
        if (rc)
            break;
        kt_pkg_event e = {
            .action = a,
            .name = kt_pkgi_at(scratch, nm),
            .version = kt_pkgi_at(scratch, ver),
            .old_version = kt_pkgi_at(scratch, oldv),
            .arch = kt_pkgi_at(scratch, arch),
            .has_time = b->has_time,
            .time = b->has_time ? b->time : KT_TIME_NONE,
            .local = b->has_time,
            .precision = KT_PREC_SECOND,
            .line = b->line,
            .detail = kt_pkgi_at(scratch, detail_off),
        };
        rc = kt_pkgi_emit(w, &e);
    }
    scratch->len = base;
    return rc;
}

static int apt_flush(apt_block *b, kt_buf *scratch, kt_pkg_run *w)
{
    int rc = KT_OK;
    if (!b->any)
        goto out;
    if (!b->has_start && b->nlists)
        rc = kt_pkgi_warn(w, "line %zu: block without a Start-Date", b->line);
    scratch->len = 0;
    size_t detail = apt_detail(b, scratch, &rc);
    for (size_t i = 0; i < b->nlists && rc == KT_OK; i++)
        rc = apt_emit_list(b, &b->lists[i], detail, scratch, w);
out:
    memset(b, 0, sizeof *b);
    return rc;
}

static int apt_line(apt_block *b, kt_span line, size_t no, kt_buf *scratch, kt_pkg_run *w)
{
    const char *colon = memchr(line.p, ':', line.n);
    kt_span name = {line.p, colon ? (size_t)(colon - line.p) : 0};
    if (colon == NULL || !field_name_ok(name))
        return kt_pkgi_warn(w, "line %zu: not a 'Field: value' line", no);
    kt_span value = trim((kt_span){colon + 1, line.n - name.n - 1});
    int rc = KT_OK;
    if (kt_span_eq(name, "Start-Date")) {
        if ((rc = apt_flush(b, scratch, w)))
            return rc;
        if ((rc = kt_pkgi_confirm(w)))
            return rc;
        b->any = true;
        b->has_start = true;
        b->line = no;
        size_t used;
        if (parse_date_time(value, &b->time, &used) && used == value.n)
            b->has_time = true;
        else
            rc = kt_pkgi_warn(w, "line %zu: malformed Start-Date", no);
        return rc;
    }
    if (!b->any) {
        b->any = true;
        b->line = no;
    }
    if (kt_span_eq(name, "Commandline")) {
        b->commandline = value;
    } else if (kt_span_eq(name, "Requested-By")) {
        b->requested_by = value;
    } else if (kt_span_eq(name, "Error")) {
        b->error = value;
    } else {
        for (size_t i = 0; i < sizeof apt_fields / sizeof apt_fields[0]; i++) {
            if (!kt_span_eq(name, apt_fields[i].field))
                continue;
            if (b->nlists == APT_MAX_LISTS)
                return kt_pkgi_warn(w, "line %zu: more than %d package lists in a block", no,
                                    APT_MAX_LISTS);
            b->lists[b->nlists++] = (apt_list){
                .action = apt_fields[i].action,
                .two_versions = apt_fields[i].two_versions,
                .text = value,
                .line = no,
                .column = (size_t)(value.p - line.p),
            };
        }
    }
    return KT_OK; /* End-Date and fields apt may add later */
}

int kt_pkg_parse_apt_history(const uint8_t *data, size_t len, kt_pkg_cb cb, void *ctx,
                             kt_strlist *warnings, kt_error *err)
{
    kt_pkg_run w;
    kt_pkgi_init(&w, cb, ctx, warnings);
    kt_buf scratch = {0};
    kt_lines it = {.data = data, .len = len};
    apt_block *b = calloc(1, sizeof *b);
    if (b == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    bool seen_data = false;
    int rc = KT_OK;
    kt_span line;
    while (rc == KT_OK && kt_pkgi_next_line(&it, &line)) {
        if (blank(line)) {
            rc = apt_flush(b, &scratch, &w);
            continue;
        }
        seen_data = true;
        rc = apt_line(b, line, it.no, &scratch, &w);
    }
    if (rc == KT_OK)
        rc = apt_flush(b, &scratch, &w);
    if (rc == KT_OK && seen_data && !w.confirmed)
        rc = kt_error_set(err, KT_EFORMAT, "not an apt history log: no Start-Date line");
    rc = kt_pkgi_finish(&w, rc, err);
    kt_buf_release(&scratch);
    free(b);
    return rc;
}
