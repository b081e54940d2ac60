/* Source `packages`: package databases and logs (dpkg status and log,
 * apt history, the RPM database, dnf, yum and zypper logs; parsers in
 * src/parsers/), the events of packages whose names match, each action
 * with the category the definition gives it. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kavtrace/packages.h"
#include "source.h"

typedef enum pkg_format {
    PKGF_DPKG_STATUS,
    PKGF_DPKG_LOG,
    PKGF_APT_HISTORY,
    PKGF_RPMDB,
    PKGF_DNF_LOG,
    PKGF_YUM_LOG,
    PKGF_ZYPP_HISTORY,
    PKGF_COUNT,
} pkg_format;

static const char *const format_names[PKGF_COUNT] = {
    [PKGF_DPKG_STATUS] = "dpkg-status",   [PKGF_DPKG_LOG] = "dpkg-log",
    [PKGF_APT_HISTORY] = "apt-history",   [PKGF_RPMDB] = "rpmdb",
    [PKGF_DNF_LOG] = "dnf-log",           [PKGF_YUM_LOG] = "yum-log",
    [PKGF_ZYPP_HISTORY] = "zypp-history",
};

typedef struct spec {
    kt_file_part fp; /* paths and deleted */
    pkg_format format;
    kt_strlist names;                        /* package name globs */
    bool action_set[KT_PKG_ACTION_COUNT];    /* actions taken */
    kt_category action[KT_PKG_ACTION_COUNT]; /* and what each means */
} spec;

/* ---- definitions ---- */

static void parse_actions(kt_defs *c, yaml_node_t *pk, spec *s)
{
    yaml_node_t *acts = defs_get(c, pk, "actions");
    if (acts == NULL || acts->type != YAML_MAPPING_NODE) {
        defs_problem(c, acts ? acts : pk, "packages: 'actions' maps actions to categories");
        return;
    }
    for (yaml_node_pair_t *p = acts->data.mapping.pairs.start; p < acts->data.mapping.pairs.top;
         p++) {
        const char *k = defs_scalar(yaml_document_get_node(c->doc, p->key));
        int which = -1;
        for (int i = 0; k && i < KT_PKG_ACTION_COUNT; i++)
            if (strcmp(k, kt_pkg_action_name((kt_pkg_action)i)) == 0)
                which = i;
        if (which < 0) {
            defs_problem(c, acts,
                         "packages: unknown action '%s' (state, install, upgrade, downgrade, "
                         "reinstall, remove, purge)",
                         k ? k : "?");
            continue;
        }
        if (defs_category(c, yaml_document_get_node(c->doc, p->value), &s->action[which]) == 0)
            s->action_set[which] = true;
    }
}

static void parse(kt_defs *c, yaml_node_t *pk, kt_artifact *a)
{
    spec *s = defs_calloc(c, 1, sizeof *s);
    if (s == NULL)
        return;
    a->spec = s;
    static const char *const keys[] = {"format",  "paths",   "deleted", "names",
                                       "actions", "product", "version", NULL};
    defs_check_keys(c, pk, "packages", keys);
    defs_paths(c, pk, &s->fp.paths, "packages");
    s->fp.type = 1;
    s->fp.deleted = defs_bool(c, pk, "deleted", false);
    const char *fmt = defs_scalar(defs_get(c, pk, "format"));
    bool known = false;
    for (int i = 0; fmt && i < PKGF_COUNT && !known; i++)
        if (strcmp(fmt, format_names[i]) == 0) {
            s->format = (pkg_format)i;
            known = true;
        }
    if (!known)
        defs_problem(c, defs_get(c, pk, "format") ? defs_get(c, pk, "format") : pk,
                     "packages: format must be dpkg-status, dpkg-log, apt-history, rpmdb, "
                     "dnf-log, yum-log or zypp-history");
    defs_strings(c, pk, "names", &s->names, true, "packages");
    parse_actions(c, pk, s);
    defs_name_rule(c, defs_get(c, pk, "product"), &a->product, false);
    defs_name_rule(c, defs_get(c, pk, "version"), &a->version, false);
}

static void release(void *p)
{
    spec *s = p;
    if (s == NULL)
        return;
    kt_file_part_release(&s->fp);
    kt_strlist_release(&s->names);
    free(s);
}

static void detail(const kt_artifact *a, char *buf, size_t len)
{
    const spec *s = a->spec;
    kt_strlcpy(buf, s && s->format < PKGF_COUNT ? format_names[s->format] : "", len);
}

/* ---- collection ---- */

typedef struct pkg_ctx {
    kt_collector *c;
    const kt_artifact *a;
    const kt_find *f;
    kt_time file_mtime; /* dates a database without times (dpkg status) */
} pkg_ctx;

/* dpkg status has no times: an installed package's info/NAME.list was
 * written when it was unpacked (install or upgrade). */
static kt_time dpkg_list_time(kt_collector *c, const char *name, const char *arch, char *src,
                              size_t len)
{
    char path[KT_FS_PATH_MAX];
    kt_stat st;
    for (int k = 0; k < 2; k++) {
        if (k == 0)
            snprintf(path, sizeof path, "var/lib/dpkg/info/%s.list", name);
        else if (arch)
            snprintf(path, sizeof path, "var/lib/dpkg/info/%s:%s.list", name, arch);
        else
            break;
        kt_error err = {0};
        int rc = kt_fs_stat(c->fs, path, 0, &st, &err);
        if (rc == KT_OK && st.modified != KT_TIME_NONE) {
            snprintf(src, len, "modified time of %s", path);
            return st.modified;
        }
        if (rc != KT_OK && rc != KT_ENOTFOUND)
            kt_collect_diag(c, KT_SEV_WARNING, "file.stat", path, NULL, "%s", err.msg);
    }
    return KT_TIME_NONE;
}

/* The event's time and how it was read; false when it has none. */
static bool event_time(pkg_ctx *x, const kt_pkg_event *pe, kt_event_draft *e, char *src, size_t len)
{
    kt_collector *c = x->c;
    const spec *s = x->a->spec;
    if (pe->has_time) {
        e->ev.time = pe->time;
        e->ev.precision = pe->precision;
        char wall[KT_TIME_ISO_MAX];
        kt_time_format_iso(pe->time, wall);
        if (pe->local && strlen(wall) > 1)
            wall[strlen(wall) - 1] = '\0'; /* a wall-clock time: no 'Z' */
        if (s->format == PKGF_RPMDB)
            snprintf(src, len, "INSTALLTIME of record %zu (UTC)", pe->line);
        else
            snprintf(src, len, "line %zu '%s'", pe->line, wall);
        if (pe->local) {
            kt_time_pattern lp = {.local = true};
            kt_collect_convert(c, &lp, &e->ev.time, src, len, &e->ev.zone);
        } else if (s->format != PKGF_RPMDB) {
            size_t n = strlen(src);
            snprintf(src + n, len - n, ", UTC");
        }
    } else if (s->format == PKGF_DPKG_STATUS) {
        e->ev.time = dpkg_list_time(c, pe->name, pe->arch, src, len);
        e->ev.precision = kt_file_precision(c);
        if (e->ev.time == KT_TIME_NONE) {
            e->ev.time = x->file_mtime;
            snprintf(src, len, "modified time of %s (the entry has no time of its own)",
                     x->f->path);
        }
    } else {
        return false;
    }
    return e->ev.time != KT_TIME_NONE;
}

static int pkg_event(void *p, const kt_pkg_event *pe)
{
    pkg_ctx *x = p;
    kt_collector *c = x->c;
    const kt_artifact *a = x->a;
    const spec *s = a->spec;
    if ((int)pe->action >= KT_PKG_ACTION_COUNT || !s->action_set[pe->action] || !pe->name)
        return 0;
    bool named = false;
    for (size_t i = 0; i < s->names.count && !named; i++)
        named = fnmatch(s->names.items[i], pe->name, 0) == 0;
    if (!named)
        return 0;
    const kt_find *f = x->f;
    char src[600], value[600], what[KT_FS_PATH_MAX + 900];
    kt_event_draft e;
    kt_emit_begin(c, a, f, &e);
    if (a->product.from == KT_NAME_PACKAGE)
        kt_emit_product(c, a, &e, pe->name);
    if (a->version.from == KT_NAME_PACKAGE || a->version.from == KT_NAME_NONE)
        kt_emit_version(a, &e, pe->version);
    e.ev.category = s->action[pe->action];
    if (pe->action == KT_PKG_STATE && pe->state) {
        /* Only an installed package registers the product; one removed
         * with its configuration files left is residue. */
        if (strstr(pe->state, "config-files"))
            e.ev.role = KT_ROLE_RESIDUE;
        else if (!strstr(pe->state, " installed"))
            e.ev.role = KT_ROLE_NONE;
    }
    if (e.ev.category != KT_CAT_REMOVAL)
        e.ev.removal_method = NULL;
    if (!event_time(x, pe, &e, src, sizeof src))
        return 0;
    e.ev.time_source = src;
    snprintf(value, sizeof value, "%s%s%s", pe->state ? pe->state : kt_pkg_action_name(pe->action),
             pe->old_version ? " from " : "", pe->old_version ? pe->old_version : "");
    e.ev.value = value;
    kt_emit_file(&e, f);
    snprintf(what, sizeof what, " (%s %s%s%s%s%s in %s%s%.300s)", kt_pkg_action_name(pe->action),
             pe->name, pe->version ? " " : "", pe->version ? pe->version : "",
             pe->old_version ? " over " : "", pe->old_version ? pe->old_version : "", f->path,
             pe->detail ? ": " : "", pe->detail ? pe->detail : "");
    kt_emit(c, &e, what);
    return c->rc;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int run_parser(pkg_ctx *x, const uint8_t *data, size_t len, kt_strlist *w, kt_error *err)
{
    const spec *s = x->a->spec;
    switch (s->format) {
    case PKGF_DPKG_STATUS:
        return kt_pkg_parse_dpkg_status(data, len, pkg_event, x, w, err);
    case PKGF_DPKG_LOG:
        return kt_pkg_parse_dpkg_log(data, len, pkg_event, x, w, err);
    case PKGF_APT_HISTORY:
        return kt_pkg_parse_apt_history(data, len, pkg_event, x, w, err);
    case PKGF_RPMDB:
        return kt_pkg_parse_rpmdb(data, len, pkg_event, x, w, err);
    case PKGF_DNF_LOG:
        return kt_pkg_parse_dnf_log(data, len, pkg_event, x, w, err);
    case PKGF_ZYPP_HISTORY:
        return kt_pkg_parse_zypp_history(data, len, pkg_event, x, w, err);
    case PKGF_YUM_LOG: {
        /* yum.log has no year: the year its last line was written. */
        char iso[KT_TIME_ISO_MAX];
        kt_time_format_iso(x->f->st->modified, iso);
        int year = x->f->st->modified != KT_TIME_NONE ? (int)strtol(iso, NULL, 10) : 0;
        if (year == 0) {
            kt_collect_diag(x->c, KT_SEV_WARNING, "packages", x->f->path, x->a,
                            "no modified time to give yum.log's lines their year");
            return KT_OK;
        }
        return kt_pkg_parse_yum_log(data, len, year, pkg_event, x, w, err);
    }
    case PKGF_COUNT:
        break;
    }
    return KT_OK;
}

/* Rotated logs that logrotate compressed, by their name's ending. */
static const struct unpacker {
    const char *suffix, *code;
    int (*unpack)(const uint8_t *data, size_t len, size_t limit, kt_buf *out, kt_error *err);
} unpackers[] = {
    {.suffix = ".gz", .code = "file.gzip", .unpack = kt_gunzip},
    {.suffix = ".xz", .code = "file.xz", .unpack = kt_unxz},
};

static void found(kt_collector *c, const kt_artifact *a, const kt_find *f)
{
    const spec *s = a->spec;
    kt_buf b = {0}, unpacked = {0};
    size_t limit = s->format == PKGF_RPMDB ? KT_COLLECT_MAX_DB : 256u << 20;
    if (kt_file_read(c, a, f, limit, &b))
        return;
    const uint8_t *data = b.data;
    size_t len = b.len;
    kt_error err = {0};
    for (size_t i = 0; i < sizeof unpackers / sizeof unpackers[0]; i++) {
        const struct unpacker *u = &unpackers[i];
        if (!ends_with(f->path, u->suffix))
            continue;
        int rc = u->unpack(b.data, b.len, 256u << 20, &unpacked, &err);
        if (rc == KT_ENOMEM) {
            c->rc = KT_ENOMEM;
            goto out;
        }
        if (rc != KT_OK)
            kt_collect_diag(c, KT_SEV_WARNING, u->code, f->path, NULL, "%s%s", err.msg,
                            unpacked.len ? " (what did decompress is read)" : "");
        if (rc != KT_OK && unpacked.len == 0)
            goto out;
        data = unpacked.data;
        len = unpacked.len;
        err = (kt_error){0};
        break;
    }
    pkg_ctx x = {.c = c, .a = a, .f = f, .file_mtime = f->st->modified};
    kt_strlist w = {0};
    int rc = run_parser(&x, data, len, &w, &err);
    if (rc != KT_OK && c->rc == KT_OK && rc != KT_ENOMEM)
        kt_collect_diag(c, KT_SEV_WARNING, "packages", f->path, NULL, "%s", err.msg);
    else if (rc == KT_ENOMEM)
        c->rc = KT_ENOMEM;
    for (size_t i = 0; i < w.count; i++)
        kt_collect_diag(c, KT_SEV_WARNING, "packages", f->path, NULL, "%s", w.items[i]);
    kt_strlist_release(&w);
out:
    kt_buf_release(&unpacked);
    kt_buf_release(&b);
}

static void collect(kt_collector *c, const kt_artifact *a)
{
    const spec *s = a->spec;
    kt_file_walk(c, a, &s->fp, found);
}

const kt_source_ops kt_source_packages = {
    .key = "packages",
    .summary = "package databases and logs (dpkg status and log, apt history, rpmdb, dnf, yum "
               "and zypper logs): the actions on packages whose names match",
    .parse = parse,
    .release = release,
    .detail = detail,
    .collect = collect,
};
