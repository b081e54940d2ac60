/* yum's log: /var/log/yum.log (see kt_pkg_parse_yum_log in
 * kavtrace/packages.h). */
#include <string.h>

#include "kavtrace/packages.h"
#include "packages_impl.h"

/* "Mon DD HH:MM:SS " (DD may be space-padded): month 1..12, or 0. */
static int yum_stamp(kt_span s, int *d, int *h, int *mi, int *sec, size_t *used)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (s.n < 16)
        return 0;
    int mo = 0;
    for (int m = 0; m < 12; m++)
        if (memcmp(s.p, months + 3 * m, 3) == 0)
            mo = m + 1;
    if (mo == 0 || s.p[3] != ' ')
        return 0;
    size_t i = 4;
    if (s.p[i] == ' ')
        i++;
    size_t d0 = i;
    while (i < s.n && i < d0 + 2 && s.p[i] >= '0' && s.p[i] <= '9')
        i++;
    if (i == d0 || s.n - i < 10 || s.p[i] != ' ' || s.p[i + 3] != ':' || s.p[i + 6] != ':' ||
        !kt_pkgi_space(s.p[i + 9]))
        return 0;
    *d = kt_pkgi_digits(s.p + d0, i - d0);
    *h = kt_pkgi_digits(s.p + i + 1, 2);
    *mi = kt_pkgi_digits(s.p + i + 4, 2);
    *sec = kt_pkgi_digits(s.p + i + 7, 2);
    if (*h < 0 || *mi < 0 || *sec < 0)
        return 0;
    *used = i + 10;
    return mo;
}

static const struct {
    const char *word;
    kt_pkg_action action;
} yum_actions[] = {
    {"Installed", KT_PKG_INSTALL},
    {"Updated", KT_PKG_UPGRADE},
    {"Erased", KT_PKG_REMOVE},
    {"Obsoleted", KT_PKG_REMOVE},
};

static int yum_line(kt_span line, size_t no, int year, kt_buf *scratch, kt_pkg_run *r)
{
    int d, h, mi, sec;
    size_t used;
    int mo = yum_stamp(line, &d, &h, &mi, &sec, &used);
    int64_t secs;
    if (mo == 0 || !kt_pkgi_civil(year, mo, d, h, mi, sec, &secs))
        return kt_pkgi_warn(r, "line %zu: no 'Mon DD HH:MM:SS' time", no);
    int rc = kt_pkgi_confirm(r);
    if (rc)
        return rc;
    const char *p = line.p + used, *end = line.p + line.n;
    const char *w0 = p;
    while (p < end && *p != ':' && !kt_pkgi_space(*p))
        p++;
    if (p == end || *p != ':')
        return kt_pkgi_warn(r, "line %zu: no 'Action:' after the time", no);
    kt_span word = {w0, (size_t)(p - w0)};
    size_t k = 0, nk = sizeof yum_actions / sizeof yum_actions[0];
    while (k < nk && !kt_span_eq(word, yum_actions[k].word))
        k++;
    if (k == nk)
        return KT_OK;
    p++;
    while (p < end && kt_pkgi_space(*p))
        p++;
    const char *n_end = end;
    while (n_end > p && kt_pkgi_space(n_end[-1]))
        n_end--;
    kt_nevra nv = {0};
    rc = kt_rpm_split_nevra(p, (size_t)(n_end - p), &nv, scratch);
    if (rc == KT_ENOMEM)
        return rc;
    if (rc) {
        /* yum names an erased package alone: "Erased: kesl" */
        bool bare = n_end > p && yum_actions[k].action == KT_PKG_REMOVE &&
                    !memchr(p, ' ', (size_t)(n_end - p)) && !memchr(p, '\0', (size_t)(n_end - p));
        if (!bare)
            return kt_pkgi_warn(r, "line %zu: '%.*s' is not name-version-release.arch", no,
                                (int)(n_end - p > 200 ? 200 : n_end - p), p);
        rc = KT_OK;
        scratch->len = 0;
        size_t o = kt_pkgi_put(scratch, p, (size_t)(n_end - p), &rc);
        if (rc)
            return rc;
        nv = (kt_nevra){.name = kt_pkgi_at(scratch, o)};
    }
    kt_buf detail = {0};
    rc = kt_buf_append(&detail, line.p, line.n);
    if (rc)
        return rc;
    kt_pkg_event e = {
        .action = yum_actions[k].action,
        .name = nv.name,
        .version = nv.version,
        .arch = nv.arch,
        .has_time = true,
        .time = kt_time_from_unix(secs, 0),
        .local = true,
        .precision = KT_PREC_SECOND,
        .line = no,
        .detail = (const char *)detail.data,
    };
    rc = kt_pkgi_emit(r, &e);
    kt_buf_release(&detail);
    return rc;
}

int kt_pkg_parse_yum_log(const uint8_t *data, size_t len, int year_hint, kt_pkg_cb cb, void *ctx,
                         kt_strlist *warnings, kt_error *err)
{
    if (year_hint < 1970 || year_hint > 2200)
        return kt_error_set(err, KT_EARG, "year hint %d", year_hint);
    kt_pkg_run r;
    kt_pkgi_init(&r, cb, ctx, warnings);
    /* First pass: how many times the month goes backwards (a new year). */
    kt_lines it = {.data = data, .len = len};
    kt_span line;
    int prev = 0, rollovers = 0;
    while (kt_pkgi_next_line(&it, &line)) {
        int d, h, mi, sec;
        size_t used;
        int mo = yum_stamp(line, &d, &h, &mi, &sec, &used);
        if (mo == 0)
            continue;
        if (prev && mo < prev)
            rollovers++;
        prev = mo;
    }
    int year = year_hint - rollovers;
    kt_buf scratch = {0};
    bool seen_data = false;
    int rc = KT_OK;
    prev = 0;
    it = (kt_lines){.data = data, .len = len};
    while (rc == KT_OK && kt_pkgi_next_line(&it, &line)) {
        size_t i = 0;
        while (i < line.n && kt_pkgi_space(line.p[i]))
            i++;
        if (i == line.n)
            continue;
        seen_data = true;
        int d, h, mi, sec;
        size_t used;
        int mo = yum_stamp(line, &d, &h, &mi, &sec, &used);
        if (mo) {
            if (prev && mo < prev)
                year++;
            prev = mo;
        }
        rc = yum_line(line, it.no, year, &scratch, &r);
    }
    if (rc == KT_OK && seen_data && !r.confirmed)
        rc = kt_error_set(err, KT_EFORMAT, "not a yum log: no line starts with 'Mon DD HH:MM:SS'");
    kt_buf_release(&scratch);
    return kt_pkgi_finish(&r, rc, err);
}
