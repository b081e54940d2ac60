/* dnf's logs: /var/log/dnf.rpm.log, dnf.log, dnf5.log (see
 * kt_pkg_parse_dnf_log in kavtrace/packages.h). */
#include <stdlib.h>
#include <string.h>

#include "kavtrace/packages.h"
#include "packages_impl.h"

/* "YYYY-MM-DDTHH:MM:SS[.fff][Z|+HHMM|+HH:MM]": UTC. */
static bool dnf_time(kt_span s, kt_time *t, size_t *used)
{
    const char *p = s.p;
    if (s.n < 20 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':')
        return false;
    int y = kt_pkgi_digits(p, 4), mo = kt_pkgi_digits(p + 5, 2), d = kt_pkgi_digits(p + 8, 2),
        h = kt_pkgi_digits(p + 11, 2), mi = kt_pkgi_digits(p + 14, 2),
        sec = kt_pkgi_digits(p + 17, 2);
    int64_t secs;
    if (!kt_pkgi_civil(y, mo, d, h, mi, sec, &secs))
        return false;
    size_t i = 19;
    if (i < s.n && p[i] == '.') {
        i++;
        while (i < s.n && p[i] >= '0' && p[i] <= '9')
            i++;
    }
    if (i < s.n && p[i] == 'Z') {
        i++;
    } else if (i < s.n && (p[i] == '+' || p[i] == '-')) {
        int sign = p[i] == '-' ? -1 : 1;
        if (s.n - i < 5)
            return false;
        int oh = kt_pkgi_digits(p + i + 1, 2), om;
        if (p[i + 3] == ':') {
            if (s.n - i < 6)
                return false;
            om = kt_pkgi_digits(p + i + 4, 2);
            i += 6;
        } else {
            om = kt_pkgi_digits(p + i + 3, 2);
            i += 5;
        }
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return false;
        secs -= sign * (oh * 3600 + om * 60);
    } else {
        return false;
    }
    if (i < s.n && !kt_pkgi_space(p[i]))
        return false;
    *t = kt_time_from_unix(secs, 0);
    *used = i;
    return true;
}

typedef enum dnf_kind { DNF_NEW, DNF_OLD_SIDE, DNF_CLEANUP } dnf_kind;

static const struct {
    const char *word;
    kt_pkg_action action;
    dnf_kind kind;
} dnf_actions[] = {
    {"Installed", KT_PKG_INSTALL, DNF_NEW},   {"Install", KT_PKG_INSTALL, DNF_NEW},
    {"Upgrade", KT_PKG_UPGRADE, DNF_NEW},     {"Upgraded", KT_PKG_UPGRADE, DNF_OLD_SIDE},
    {"Downgrade", KT_PKG_DOWNGRADE, DNF_NEW}, {"Downgraded", KT_PKG_DOWNGRADE, DNF_OLD_SIDE},
    {"Reinstall", KT_PKG_REINSTALL, DNF_NEW}, {"Reinstalled", KT_PKG_REINSTALL, DNF_OLD_SIDE},
    {"Erase", KT_PKG_REMOVE, DNF_NEW},        {"Erased", KT_PKG_REMOVE, DNF_NEW},
    {"Removed", KT_PKG_REMOVE, DNF_NEW},      {"Obsoleted", KT_PKG_REMOVE, DNF_NEW},
    {"Cleanup", KT_PKG_UPGRADE, DNF_CLEANUP},
};

#define DNF_MAX_PENDING 4096

/* An event held until the old side of its upgrade shows, in line order. */
typedef struct dnf_held {
    kt_pkg_event e;
    kt_buf strings; /* name, version, arch, detail, old_version: offsets below */
    size_t name, version, arch, detail, old;
    bool waiting;
} dnf_held;

typedef struct dnf_queue {
    dnf_held *items;
    size_t head, count, cap; /* items[head .. head+count) */
} dnf_queue;

static int dnf_emit_head(dnf_queue *q, kt_pkg_run *r)
{
    dnf_held *h = &q->items[q->head];
    h->e.name = kt_pkgi_at(&h->strings, h->name);
    h->e.version = kt_pkgi_at(&h->strings, h->version);
    h->e.arch = kt_pkgi_at(&h->strings, h->arch);
    h->e.detail = kt_pkgi_at(&h->strings, h->detail);
    h->e.old_version = kt_pkgi_at(&h->strings, h->old);
    int rc = kt_pkgi_emit(r, &h->e);
    kt_buf_release(&h->strings);
    q->head++;
    q->count--;
    if (q->count == 0)
        q->head = 0;
    return rc;
}

/* Emit from the head: everything (all), or up to the first waiting event. */
static int dnf_drain(dnf_queue *q, kt_pkg_run *r, bool all)
{
    int rc = KT_OK;
    while (rc == KT_OK && q->count && (all || !q->items[q->head].waiting))
        rc = dnf_emit_head(q, r);
    return rc;
}

static dnf_held *dnf_push(dnf_queue *q)
{
    if (q->head + q->count == q->cap) {
        if (q->head) {
            memmove(q->items, q->items + q->head, q->count * sizeof *q->items);
            q->head = 0;
        } else {
            size_t cap = q->cap ? q->cap * 2 : 16;
            dnf_held *p = realloc(q->items, cap * sizeof *p);
            if (p == NULL)
                return NULL;
            q->items = p;
            q->cap = cap;
        }
    }
    dnf_held *h = &q->items[q->head + q->count++];
    memset(h, 0, sizeof *h);
    return h;
}

static void dnf_queue_release(dnf_queue *q)
{
    for (size_t i = 0; i < q->count; i++)
        kt_buf_release(&q->items[q->head + i].strings);
    free(q->items);
    memset(q, 0, sizeof *q);
}

static int dnf_line(kt_span line, size_t no, dnf_queue *q, kt_buf *scratch, kt_pkg_run *r)
{
    kt_time t;
    size_t used;
    if (!dnf_time(line, &t, &used))
        return KT_OK; /* continuation of a multi-line message */
    int rc = kt_pkgi_confirm(r);
    if (rc)
        return rc;
    const char *p = line.p + used, *end = line.p + line.n;
    if (memmem(p, (size_t)(end - p), "--- logging initialized ---", 27))
        return dnf_drain(q, r, true);
    /* the level word, with "[pid]" (dnf5) before or after it, then "Action:" */
    for (int words = 0, level = 0; words < 3 && !level; words++) {
        while (p < end && kt_pkgi_space(*p))
            p++;
        level = p < end && *p != '[';
        while (p < end && !kt_pkgi_space(*p))
            p++;
    }
    while (p < end && kt_pkgi_space(*p))
        p++;
    if (p < end && *p == '[') {
        while (p < end && !kt_pkgi_space(*p))
            p++;
        while (p < end && kt_pkgi_space(*p))
            p++;
    }
    const char *w0 = p;
    while (p < end && *p != ':' && !kt_pkgi_space(*p))
        p++;
    if (p == end || *p != ':' || p + 1 == end || !kt_pkgi_space(p[1]))
        return KT_OK;
    kt_span word = {w0, (size_t)(p - w0)};
    size_t k = 0, nk = sizeof dnf_actions / sizeof dnf_actions[0];
    while (k < nk && !kt_span_eq(word, dnf_actions[k].word))
        k++;
    if (k == nk)
        return KT_OK;
    p++;
    while (p < end && kt_pkgi_space(*p))
        p++;
    const char *n_end = end;
    while (n_end > p && kt_pkgi_space(n_end[-1]))
        n_end--;
    kt_nevra nv;
    rc = kt_rpm_split_nevra(p, (size_t)(n_end - p), &nv, scratch);
    if (rc == KT_ENOMEM)
        return rc;
    if (rc)
        return kt_pkgi_warn(r, "line %zu: '%.*s' is not name-version-release.arch", no,
                            (int)(n_end - p > 200 ? 200 : n_end - p), p);

    if (dnf_actions[k].kind != DNF_NEW) {
        for (size_t i = 0; i < q->count; i++) {
            dnf_held *h = &q->items[q->head + i];
            if (!h->waiting || strcmp(kt_pkgi_at(&h->strings, h->name), nv.name) != 0 ||
                strcmp(kt_pkgi_at(&h->strings, h->arch), nv.arch) != 0)
                continue;
            h->waiting = false;
            h->old = kt_pkgi_put(&h->strings, nv.version, strlen(nv.version), &rc);
            return rc ? rc : dnf_drain(q, r, false);
        }
        if (dnf_actions[k].kind == DNF_CLEANUP)
            return KT_OK;
    }
    if (q->count >= DNF_MAX_PENDING && (rc = dnf_emit_head(q, r)))
        return rc;
    dnf_held *h = dnf_push(q);
    if (h == NULL)
        return KT_ENOMEM;
    bool old_side = dnf_actions[k].kind == DNF_OLD_SIDE;
    kt_span detail = {line.p, line.n};
    while (detail.n && kt_pkgi_space(detail.p[detail.n - 1]))
        detail.n--;
    h->name = kt_pkgi_put(&h->strings, nv.name, strlen(nv.name), &rc);
    h->version =
        old_side ? KT_PKGI_NONE : kt_pkgi_put(&h->strings, nv.version, strlen(nv.version), &rc);
    h->old =
        old_side ? kt_pkgi_put(&h->strings, nv.version, strlen(nv.version), &rc) : KT_PKGI_NONE;
    h->arch = kt_pkgi_put(&h->strings, nv.arch, strlen(nv.arch), &rc);
    h->detail = kt_pkgi_put(&h->strings, detail.p, detail.n, &rc);
    h->waiting = !old_side && (dnf_actions[k].action == KT_PKG_UPGRADE ||
                               dnf_actions[k].action == KT_PKG_DOWNGRADE ||
                               dnf_actions[k].action == KT_PKG_REINSTALL);
    h->e = (kt_pkg_event){
        .action = dnf_actions[k].action,
        .has_time = true,
        .time = t,
        .precision = KT_PREC_SECOND,
        .line = no,
    };
    return rc ? rc : dnf_drain(q, r, false);
}

int kt_pkg_parse_dnf_log(const uint8_t *data, size_t len, kt_pkg_cb cb, void *ctx,
                         kt_strlist *warnings, kt_error *err)
{
    kt_pkg_run r;
    kt_pkgi_init(&r, cb, ctx, warnings);
    kt_lines it = {.data = data, .len = len};
    dnf_queue q = {0};
    kt_buf scratch = {0};
    bool seen_data = false;
    int rc = KT_OK;
    kt_span line;
    while (rc == KT_OK && kt_pkgi_next_line(&it, &line)) {
        size_t i = 0;
        while (i < line.n && kt_pkgi_space(line.p[i]))
            i++;
        if (i == line.n)
            continue;
        seen_data = true;
        rc = dnf_line(line, it.no, &q, &scratch, &r);
    }
    if (rc == KT_OK)
        rc = dnf_drain(&q, &r, true);
    if (rc == KT_OK && seen_data && !r.confirmed)
        rc = kt_error_set(err, KT_EFORMAT, "not a dnf log: no line starts with an ISO time");
    dnf_queue_release(&q);
    kt_buf_release(&scratch);
    return kt_pkgi_finish(&r, rc, err);
}
