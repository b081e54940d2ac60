/* Triage collections read in place: the archive index (libarchive), the
 * collectors' layouts, the original times they record, and the sources a
 * collection lacks. See docs/evidence-access.md, "Triage collections". */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "collection.h"
#include "fs_impl.h"

struct kt_archive {
    char *path;
    char format[64];
    char damage[512]; /* why the index stops early, "" when whole */
    kt_arc_entry *e;
    size_t n, cap;
    size_t *sorted; /* indexes of e, by path */
    /* The reader content is read through, and the ordinal of the header it
     * gives next: a read further on goes on from there, one before it opens
     * the archive again. */
    struct archive *rd;
    size_t next;
};

static int oom(kt_error *err)
{
    return kt_error_set(err, KT_ENOMEM, "out of memory");
}

static const char *arc_why(struct archive *r)
{
    const char *s = r ? archive_error_string(r) : NULL;
    return s ? s : "unknown error";
}

static struct archive *arc_reader(const char *path, kt_error *err)
{
    struct archive *r = archive_read_new();
    if (r == NULL) {
        oom(err);
        return NULL;
    }
    archive_read_support_filter_all(r);
    archive_read_support_format_tar(r);
    archive_read_support_format_zip(r);
    if (archive_read_open_filename(r, path, 1 << 16) != ARCHIVE_OK) {
        kt_error_set(err, KT_EFORMAT, "not a tar or zip archive: %s", arc_why(r));
        archive_read_free(r);
        return NULL;
    }
    return r;
}

static kt_time arc_time(bool set, int64_t sec, long nsec)
{
    return set ? kt_time_from_unix(sec, nsec) : KT_TIME_NONE;
}

/* "./a/b/", "/a/b" -> "a/b" */
static char *clean_name(const char *name)
{
    while (name[0] == '.' && name[1] == '/')
        name += 2;
    while (name[0] == '/')
        name++;
    char *s = strdup(name);
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        s[--n] = '\0';
    return s;
}

static const kt_archive *sort_ctx;
static int by_path(const void *x, const void *y)
{
    const kt_arc_entry *a = &sort_ctx->e[*(const size_t *)x], *b = &sort_ctx->e[*(const size_t *)y];
    int c = strcmp(a->path, b->path);
    return c ? c : (a->ordinal < b->ordinal ? -1 : a->ordinal > b->ordinal);
}

int kt_archive_open(const char *path, kt_archive **out, kt_error *err)
{
    kt_archive *a = calloc(1, sizeof *a);
    if (a == NULL || (a->path = strdup(path)) == NULL) {
        free(a);
        return oom(err);
    }
    int rc = KT_OK;
    struct archive *r = arc_reader(path, err);
    if (r == NULL) {
        rc = err ? err->code : KT_EFORMAT;
        goto out;
    }
    struct archive_entry *ae;
    for (size_t ord = 0;; ord++) {
        int ar = archive_read_next_header(r, &ae);
        if (ar == ARCHIVE_EOF)
            break;
        if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN) {
            if (ord == 0 && archive_format(r) == 0) {
                rc = kt_error_set(err, KT_EFORMAT, "not a tar or zip archive: %s", arc_why(r));
                goto out;
            }
            /* A damaged or truncated archive: what came before is kept. */
            snprintf(a->damage, sizeof a->damage,
                     "the archive is damaged or truncated after its entry %zu (%s): the entries "
                     "after it are not read",
                     ord, arc_why(r));
            break;
        }
        if (ord == 0)
            snprintf(a->format, sizeof a->format, "%s", archive_format_name(r));
        const char *name = archive_entry_pathname(ae);
        if (name == NULL)
            continue;
        char *clean = clean_name(name);
        if (clean == NULL) {
            rc = oom(err);
            goto out;
        }
        if (clean[0] == '\0') {
            free(clean);
            continue;
        }
        if (a->n >= KT_ARCHIVE_MAX_ENTRIES) {
            free(clean);
            rc = kt_error_set(err, KT_ELIMIT, "more than %d entries", KT_ARCHIVE_MAX_ENTRIES);
            goto out;
        }
        if (a->n == a->cap) {
            size_t cap = a->cap ? a->cap * 2 : 256;
            kt_arc_entry *p = realloc(a->e, cap * sizeof *p);
            if (p == NULL) {
                free(clean);
                rc = oom(err);
                goto out;
            }
            a->e = p;
            a->cap = cap;
        }
        kt_arc_entry *e = &a->e[a->n++];
        memset(e, 0, sizeof *e);
        e->path = clean;
        e->ordinal = ord;
        e->size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
        e->mode = (uint32_t)archive_entry_mode(ae);
        e->mtime = arc_time(archive_entry_mtime_is_set(ae), archive_entry_mtime(ae),
                            archive_entry_mtime_nsec(ae));
        e->atime = arc_time(archive_entry_atime_is_set(ae), archive_entry_atime(ae),
                            archive_entry_atime_nsec(ae));
        e->ctime = arc_time(archive_entry_ctime_is_set(ae), archive_entry_ctime(ae),
                            archive_entry_ctime_nsec(ae));
        /* libarchive's zip reader sets the access and change times to 0
         * when the entry's extra fields hold none. */
        if ((archive_format(r) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP) {
            if (e->atime == 0)
                e->atime = KT_TIME_NONE;
            if (e->ctime == 0)
                e->ctime = KT_TIME_NONE;
        }
        e->btime = arc_time(archive_entry_birthtime_is_set(ae), archive_entry_birthtime(ae),
                            archive_entry_birthtime_nsec(ae));
        const char *hard = archive_entry_hardlink(ae);
        const char *sym = archive_entry_symlink(ae);
        switch (archive_entry_filetype(ae)) {
        case AE_IFDIR:
            e->type = KT_FT_DIR;
            break;
        case AE_IFLNK:
            e->type = KT_FT_LINK;
            break;
        case AE_IFREG:
            e->type = KT_FT_REG;
            break;
        default:
            e->type = hard ? KT_FT_REG : KT_FT_OTHER;
            break;
        }
        if (e->type == KT_FT_LINK && sym && (e->link = strdup(sym)) == NULL) {
            rc = oom(err);
            goto out;
        }
        if (hard && e->type == KT_FT_REG && (e->link = clean_name(hard)) == NULL) {
            rc = oom(err);
            goto out;
        }
    }
    a->sorted = malloc((a->n ? a->n : 1) * sizeof *a->sorted);
    if (a->sorted == NULL) {
        rc = oom(err);
        goto out;
    }
    for (size_t i = 0; i < a->n; i++)
        a->sorted[i] = i;
    sort_ctx = a;
    qsort(a->sorted, a->n, sizeof *a->sorted, by_path);
    sort_ctx = NULL;
out:
    if (r)
        archive_read_free(r);
    if (rc) {
        kt_archive_free(a);
        return rc;
    }
    *out = a;
    return KT_OK;
}

void kt_archive_free(kt_archive *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->n; i++) {
        free(a->e[i].path);
        free(a->e[i].link);
    }
    free(a->e);
    free(a->sorted);
    if (a->rd)
        archive_read_free(a->rd);
    free(a->path);
    free(a);
}

const char *kt_archive_format(const kt_archive *a)
{
    return a->format;
}

const char *kt_archive_damage(const kt_archive *a)
{
    return a->damage;
}

size_t kt_archive_count(const kt_archive *a)
{
    return a->n;
}

const kt_arc_entry *kt_archive_entry(const kt_archive *a, size_t i)
{
    return i < a->n ? &a->e[i] : NULL;
}

const kt_arc_entry *kt_archive_find(const kt_archive *a, const char *path)
{
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(a->e[a->sorted[mid]].path, path);
        if (c == 0)
            return &a->e[a->sorted[mid]];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int kt_archive_read(kt_archive *a, size_t i, size_t limit, kt_buf *out, kt_error *err)
{
    if (i >= a->n)
        return kt_error_set(err, KT_EARG, "no such archive entry");
    const kt_arc_entry *e = &a->e[i];
    if (e->link && e->type == KT_FT_REG) {
        /* A tar hard link: the data sits with the entry it names. */
        const kt_arc_entry *t = kt_archive_find(a, e->link);
        if (t == NULL || t->link)
            return kt_error_set(err, KT_EFORMAT, "hard link to '%s', not in the archive", e->link);
        e = t;
    }
    if (e->size < 0 || (uint64_t)e->size > limit)
        return kt_error_set(err, KT_ELIMIT, "%lld bytes, over the %zu-byte limit",
                            (long long)e->size, limit);
    if (a->rd && a->next > e->ordinal) {
        archive_read_free(a->rd);
        a->rd = NULL;
    }
    if (a->rd == NULL) {
        if ((a->rd = arc_reader(a->path, err)) == NULL)
            return err ? err->code : KT_EIO;
        a->next = 0;
    }
    struct archive_entry *ae = NULL;
    while (a->next <= e->ordinal) {
        int ar = archive_read_next_header(a->rd, &ae);
        if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN) {
            int rc = kt_error_set(err, KT_EIO, "archive entry %zu: %s", a->next, arc_why(a->rd));
            archive_read_free(a->rd);
            a->rd = NULL;
            return rc;
        }
        a->next++;
    }
    if (kt_buf_reserve(out, (size_t)e->size))
        return oom(err);
    for (;;) {
        char chunk[1 << 16];
        la_ssize_t got = archive_read_data(a->rd, chunk, sizeof chunk);
        if (got == 0)
            break;
        if (got < 0) {
            int rc = kt_error_set(err, KT_EIO, "cannot read from the archive: %s", arc_why(a->rd));
            archive_read_free(a->rd);
            a->rd = NULL;
            return rc;
        }
        if (out->len + (size_t)got > limit)
            return kt_error_set(err, KT_ELIMIT, "over the %zu-byte limit", limit);
        if (kt_buf_append(out, chunk, (size_t)got))
            return oom(err);
    }
    return KT_OK;
}

/* --- layouts --------------------------------------------------------------- */

const char *kt_collection_kind_name(kt_collection_kind k)
{
    static const char *const names[] = {
        [KT_COLL_NONE] = "none",
        [KT_COLL_KAPE] = "kape",
        [KT_COLL_VELOCIRAPTOR] = "velociraptor",
        [KT_COLL_UAC] = "uac",
        [KT_COLL_ROOT] = "archive",
    };
    return names[k];
}

void kt_collection_release(kt_collection *c)
{
    if (c == NULL)
        return;
    kt_strlist_release(&c->notes);
    kt_strlist_release(&c->warnings);
    memset(c, 0, sizeof *c);
}

/* Percent-decode one name ("C%3A" -> "C:"); a '%' not followed by two hex
 * digits stays. */
static void percent_decode(const char *in, size_t n, char *out, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < len; i++) {
        if (in[i] == '%' && i + 2 < n && isxdigit((unsigned char)in[i + 1]) &&
            isxdigit((unsigned char)in[i + 2])) {
            char hex[3] = {in[i + 1], in[i + 2], 0};
            out[o++] = (char)strtol(hex, NULL, 16);
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
}

void kt_collection_decode(const char *in, size_t n, char *out, size_t len)
{
    percent_decode(in, n, out, len);
}

/* A drive as Velociraptor names it: "C:" or "\\.\C:" -> 'C', else 0. */
static char drive_of(const char *decoded)
{
    const char *d = decoded;
    if (strncmp(d, "\\\\.\\", 4) == 0)
        d += 4;
    if (isalpha((unsigned char)d[0]) && d[1] == ':' && d[2] == '\0')
        return (char)toupper((unsigned char)d[0]);
    return 0;
}

static kt_collection_root *root_named(kt_collection *c, const char *name, bool *full)
{
    *full = false;
    for (size_t i = 0; i < c->nroots; i++)
        if (strcmp(c->roots[i].name, name) == 0)
            return &c->roots[i];
    if (c->nroots >= KT_COLLECTION_MAX_ROOTS) {
        *full = true;
        return NULL;
    }
    kt_collection_root *r = &c->roots[c->nroots++];
    memset(r, 0, sizeof *r);
    kt_strlcpy(r->name, name, sizeof r->name);
    return r;
}

static void root_add_prefix(kt_collection_root *r, const char *prefix, size_t n)
{
    for (size_t i = 0; i < r->nprefix; i++)
        if (strlen(r->prefix[i]) == n && strncmp(r->prefix[i], prefix, n) == 0)
            return;
    if (r->nprefix >= KT_COLLECTION_MAX_PREFIXES || n >= sizeof r->prefix[0])
        return;
    memcpy(r->prefix[r->nprefix], prefix, n);
    r->prefix[r->nprefix][n] = '\0';
    r->nprefix++;
}

static bool windows_top(const char *name)
{
    static const char *const tops[] = {"Windows", "Users", "ProgramData", "Program Files", "$MFT"};
    for (size_t i = 0; i < sizeof tops / sizeof tops[0]; i++)
        if (kt_name_casecmp(name, tops[i]) == 0)
            return true;
    return false;
}

/* Collectors copy files, not folders: a folder's times (a program
 * folder's creation) are not in the collection. */
#define NO_FOLDER_TIMES                                                                            \
    "the collector keeps no times for folders: artifacts dated by a folder's times (program "      \
    "and data folders) give no event"

/* Count a collector log's lines by level and keep its first errors as
 * warnings. */
static int log_levels(kt_collection *c, const char *what, const char *text, size_t len,
                      const char *const *err_marks, const char *const *warn_marks)
{
    size_t lines = 0, errors = 0, warnings = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char line[1024];
        size_t k = n < sizeof line - 1 ? n : sizeof line - 1;
        memcpy(line, p, k);
        line[k] = '\0';
        if (k > 0)
            lines++;
        bool is_err = false, is_warn = false;
        for (const char *const *m = err_marks; *m; m++)
            is_err = is_err || strstr(line, *m) != NULL;
        for (const char *const *m = warn_marks; *m && !is_err; m++)
            is_warn = is_warn || strstr(line, *m) != NULL;
        if (is_err && ++errors <= 5 &&
            kt_strlist_addf(&c->warnings, "%s records an error: %s", what, line))
            return KT_ENOMEM;
        warnings += is_warn;
        p = nl ? nl + 1 : end;
    }
    if (errors > 5 && kt_strlist_addf(&c->warnings, "%s records %zu more errors", what, errors - 5))
        return KT_ENOMEM;
    return kt_strlist_addf(&c->notes, "%s: %zu lines, %zu errors, %zu warnings", what, lines,
                           errors, warnings);
}

/* A JSON string value "key":"value" found by text (enough for the
 * collectors' flat records); "" when absent. */
static void json_value(const char *text, const char *key, char *out, size_t len)
{
    out[0] = '\0';
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(text, pat);
    if (p == NULL)
        return;
    p += strlen(pat);
    while (*p == ' ' || *p == ':')
        p++;
    if (*p != '"')
        return;
    p++;
    size_t o = 0;
    while (*p && *p != '"' && o + 1 < len) {
        if (*p == '\\' && p[1])
            p++;
        out[o++] = *p++;
    }
    out[o] = '\0';
}

static int read_member(kt_archive *a, const char *name, kt_buf *out)
{
    const kt_arc_entry *e = kt_archive_find(a, name);
    if (e == NULL)
        return KT_ENOTFOUND;
    return kt_archive_read(a, (size_t)(e - a->e), KT_COLLECTION_LOG_MAX, out, NULL);
}

static int velociraptor_notes(kt_archive *a, kt_collection *c)
{
    kt_buf b = {0};
    int rc = KT_OK;
    if (read_member(a, "client_info.json", &b) == KT_OK && b.data) {
        char host[256], os[64];
        json_value((const char *)b.data, "Hostname", host, sizeof host);
        json_value((const char *)b.data, "OS", os, sizeof os);
        rc = kt_strlist_addf(&c->notes, "Velociraptor client_info.json: host '%s', OS '%s'", host,
                             os);
    }
    kt_buf_release(&b);
    if (rc == KT_OK && read_member(a, "uploads.json", &b) == KT_OK) {
        size_t n = 0;
        for (size_t i = 0; i < b.len; i++)
            n += b.data[i] == '\n';
        if (b.len && b.data[b.len - 1] != '\n')
            n++;
        rc = kt_strlist_addf(&c->notes, "Velociraptor uploads.json lists %zu uploads", n);
    } else if (rc == KT_OK) {
        rc = kt_strlist_add(&c->notes, "no Velociraptor uploads.json in the collection");
    }
    kt_buf_release(&b);
    if (rc == KT_OK && read_member(a, "log.json", &b) == KT_OK) {
        static const char *const errs[] = {"\"level\":\"ERROR\"", "\"level\": \"ERROR\"", NULL};
        static const char *const warns[] = {"\"level\":\"WARNING\"", "\"level\": \"WARNING\"",
                                            NULL};
        rc = log_levels(c, "Velociraptor log.json", b.data ? (const char *)b.data : "", b.len, errs,
                        warns);
    }
    kt_buf_release(&b);
    return rc;
}

static int uac_notes(kt_archive *a, kt_collection *c, const char *base)
{
    char name[512];
    snprintf(name, sizeof name, "%s%suac.log", base, base[0] ? "/" : "");
    kt_buf b = {0};
    int rc = KT_OK;
    if (read_member(a, name, &b) == KT_OK) {
        static const char *const errs[] = {" ERROR ", " ERR ", NULL};
        static const char *const warns[] = {" WARNING ", NULL};
        rc = log_levels(c, "UAC uac.log", b.data ? (const char *)b.data : "", b.len, errs, warns);
    } else {
        rc = kt_strlist_add(&c->notes, "no UAC uac.log in the collection");
    }
    kt_buf_release(&b);
    return rc;
}

int kt_collection_of_archive(kt_archive *a, kt_collection *out, kt_error *err)
{
    kt_collection c = {0};
    char uac_base[256] = "";
    bool full = false;
    for (size_t i = 0; i < a->n; i++) {
        const char *p = a->e[a->sorted[i]].path;
        /* Velociraptor: uploads/<accessor>/<drive or path>/... */
        if (strncmp(p, "uploads/", 8) == 0 && c.kind != KT_COLL_UAC) {
            const char *acc = p + 8, *slash = strchr(acc, '/');
            if (slash == NULL)
                continue;
            const char *dev = slash + 1, *dslash = strchr(dev, '/');
            if (dslash == NULL)
                continue;
            char decoded[256];
            percent_decode(dev, (size_t)(dslash - dev), decoded, sizeof decoded);
            char drive = drive_of(decoded);
            char name[64];
            size_t plen;
            if (drive) {
                snprintf(name, sizeof name, "%c:", drive);
                plen = (size_t)(dslash - p);
            } else {
                /* The file accessor of a Unix client: the accessor folder
                 * is "/". Other devices (shadow copies) are their own. */
                bool unix_root = strncmp(acc, "file/", 5) == 0;
                kt_strlcpy(name, unix_root ? "/" : decoded, sizeof name);
                plen = unix_root ? (size_t)(slash - p) : (size_t)(dslash - p);
            }
            kt_collection_root *r = root_named(&c, name, &full);
            if (r == NULL)
                continue;
            r->percent = true;
            root_add_prefix(r, p, plen);
            c.kind = KT_COLL_VELOCIRAPTOR;
            continue;
        }
        /* UAC: ...[root]/... */
        const char *rt = strstr(p, "[root]");
        if (rt && (rt == p || rt[-1] == '/') && (rt[6] == '/' || rt[6] == '\0') &&
            c.kind != KT_COLL_VELOCIRAPTOR) {
            kt_collection_root *r = root_named(&c, "/", &full);
            if (r == NULL)
                continue;
            if (r->nprefix == 0 && rt > p) {
                size_t bn = (size_t)(rt - p) - 1;
                if (bn < sizeof uac_base) {
                    memcpy(uac_base, p, bn);
                    uac_base[bn] = '\0';
                }
            }
            root_add_prefix(r, p, (size_t)(rt - p) + 6);
            c.kind = KT_COLL_UAC;
        }
    }
    if (c.kind == KT_COLL_NONE) {
        /* A KAPE --zip: drive folders; else a bare root. */
        for (size_t i = 0; i < a->n && !full; i++) {
            const char *p = a->e[a->sorted[i]].path;
            if (isalpha((unsigned char)p[0]) && p[1] == '/') {
                const char *top = p + 2, *s = strchr(top, '/');
                char first[64];
                size_t n = s ? (size_t)(s - top) : strlen(top);
                if (n >= sizeof first)
                    continue;
                memcpy(first, top, n);
                first[n] = '\0';
                if (!windows_top(first))
                    continue;
                char name[4] = {(char)toupper((unsigned char)p[0]), ':', 0};
                kt_collection_root *r = root_named(&c, name, &full);
                if (r) {
                    root_add_prefix(r, p, 1);
                    c.kind = KT_COLL_KAPE;
                }
            }
        }
    }
    if (c.kind == KT_COLL_NONE &&
        (kt_archive_find(a, "etc/os-release") || kt_archive_find(a, "usr/lib/os-release") ||
         kt_archive_find(a, "Windows/System32/config/SOFTWARE") ||
         kt_archive_find(a, "Windows/System32/config/SYSTEM"))) {
        kt_collection_root *r = root_named(&c, "/", &full);
        root_add_prefix(r, "", 0);
        c.kind = KT_COLL_ROOT;
    }
    int rc = KT_OK;
    if (full)
        rc = kt_strlist_addf(&c.warnings, "more than %d collected roots: the rest are not read",
                             KT_COLLECTION_MAX_ROOTS);
    if (rc == KT_OK && c.kind == KT_COLL_VELOCIRAPTOR)
        rc = velociraptor_notes(a, &c);
    if (rc == KT_OK && c.kind == KT_COLL_UAC)
        rc = uac_notes(a, &c, uac_base);
    /* Folder times: UAC's bodyfile has them, and so does an archive with
     * its folders' own entries. */
    bool folder_times = false;
    if (c.kind == KT_COLL_UAC) {
        char body[512];
        snprintf(body, sizeof body, "%s%sbodyfile/bodyfile.txt", uac_base, uac_base[0] ? "/" : "");
        folder_times = kt_archive_find(a, body) != NULL;
    }
    for (size_t i = 0; i < a->n && !folder_times && c.kind == KT_COLL_ROOT; i++)
        folder_times = a->e[i].type == KT_FT_DIR;
    if (rc == KT_OK && c.kind != KT_COLL_NONE && !folder_times)
        rc = kt_strlist_add(&c.warnings, NO_FOLDER_TIMES);
    if (rc) {
        kt_collection_release(&c);
        return oom(err);
    }
    *out = c;
    return KT_OK;
}

static bool is_dir_at(const char *dir, const char *name)
{
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int kt_collection_of_dir(const char *dir, kt_collection *out, kt_error *err)
{
    kt_collection c = {0};
    DIR *d = opendir(dir);
    if (d == NULL) {
        *out = c;
        return KT_OK;
    }
    struct dirent *de;
    bool windows_here = false;
    size_t copylogs = 0, skiplogs = 0;
    int rc = KT_OK;
    while ((de = readdir(d)) != NULL && rc == KT_OK) {
        const char *n = de->d_name;
        if (kt_name_casecmp(n, "Windows") == 0)
            windows_here = true;
        if (ends_with(n, "_CopyLog.csv"))
            copylogs++;
        if (ends_with(n, "_SkipLog.csv.csv") || ends_with(n, "_SkipLog.csv"))
            skiplogs++;
        if (!isalpha((unsigned char)n[0]) || n[1] != '\0' || !is_dir_at(dir, n))
            continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, n);
        DIR *sd = opendir(sub);
        bool win = false;
        struct dirent *se;
        while (sd && (se = readdir(sd)) != NULL)
            win = win || windows_top(se->d_name);
        if (sd)
            closedir(sd);
        if (!win)
            continue;
        bool full;
        char name[4] = {(char)toupper((unsigned char)n[0]), ':', 0};
        kt_collection_root *r = root_named(&c, name, &full);
        if (r)
            root_add_prefix(r, n, 1);
    }
    closedir(d);
    if (windows_here || c.nroots == 0) {
        kt_collection_release(&c);
        *out = (kt_collection){0};
        return KT_OK;
    }
    c.kind = KT_COLL_KAPE;
    /* One drive per folder, in name order. */
    for (size_t i = 1; i < c.nroots; i++)
        for (size_t j = i; j > 0 && strcmp(c.roots[j - 1].name, c.roots[j].name) > 0; j--) {
            kt_collection_root t = c.roots[j];
            c.roots[j] = c.roots[j - 1];
            c.roots[j - 1] = t;
        }
    rc = copylogs ? kt_strlist_addf(&c.notes,
                                    "KAPE target folder: the collected files' original times "
                                    "come from %zu CopyLog file%s",
                                    copylogs, copylogs == 1 ? "" : "s")
                  : kt_strlist_add(&c.warnings,
                                   "KAPE target folder without a CopyLog: the files' original "
                                   "times are unknown");
    if (rc == KT_OK)
        rc = kt_strlist_add(&c.warnings, NO_FOLDER_TIMES);
    if (rc == KT_OK && skiplogs)
        rc = kt_strlist_add(&c.warnings,
                            "KAPE's SkipLog lists files it did not copy: they are not in the "
                            "collection");
    if (rc) {
        kt_collection_release(&c);
        return oom(err);
    }
    *out = c;
    return KT_OK;
}

/* --- original times -------------------------------------------------------- */

static int times_cmp(const void *x, const void *y)
{
    return strcmp(((const kt_times_row *)x)->key, ((const kt_times_row *)y)->key);
}

static void fold(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s + 32);
}

static int times_add(kt_times *t, const char *key, kt_time c, kt_time m, kt_time ch, kt_time a)
{
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        kt_times_row *p = realloc(t->rows, cap * sizeof *p);
        if (p == NULL)
            return KT_ENOMEM;
        t->rows = p;
        t->cap = cap;
    }
    char *k = strdup(key);
    if (k == NULL)
        return KT_ENOMEM;
    if (t->fold)
        fold(k);
    t->rows[t->count++] = (kt_times_row){k, c, m, ch, a};
    return KT_OK;
}

/* Sort, keeping the first row of a key. */
static void times_finish(kt_times *t)
{
    if (t->count > 1)
        qsort(t->rows, t->count, sizeof *t->rows, times_cmp);
    size_t o = 0;
    for (size_t i = 0; i < t->count; i++) {
        if (o > 0 && strcmp(t->rows[o - 1].key, t->rows[i].key) == 0) {
            free(t->rows[i].key);
            continue;
        }
        t->rows[o++] = t->rows[i];
    }
    t->count = o;
}

const kt_times_row *kt_times_find(const kt_times *t, const char *path)
{
    if (t == NULL || t->count == 0)
        return NULL;
    char key[KT_FS_PATH_MAX];
    if (kt_strlcpy(key, path, sizeof key) >= sizeof key)
        return NULL;
    if (t->fold)
        fold(key);
    kt_times_row probe = {.key = key};
    return bsearch(&probe, t->rows, t->count, sizeof *t->rows, times_cmp);
}

void kt_times_release(kt_times *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->count; i++)
        free(t->rows[i].key);
    free(t->rows);
    memset(t, 0, sizeof *t);
}

/* "2025-09-02 08:32:16.9881736" (KAPE, UTC, up to 9 fractional digits). */
static kt_time kape_time(const char *s)
{
    unsigned y, mo, d, h, mi, se;
    int used = 0;
    if (sscanf(s, "%4u-%2u-%2u%*[ T]%2u:%2u:%2u%n", &y, &mo, &d, &h, &mi, &se, &used) != 6 ||
        mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return KT_TIME_NONE;
    int64_t ns = 0;
    const char *p = s + used;
    if (*p == '.') {
        int digits = 0;
        for (p++; isdigit((unsigned char)*p); p++, digits++)
            if (digits < 9)
                ns = ns * 10 + (*p - '0');
        for (; digits < 9; digits++)
            ns *= 10;
    }
    int64_t secs = kt_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return kt_time_from_unix(secs, ns);
}

/* Split one CSV record (quoted fields with "" escapes) in place. */
static size_t csv_fields(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (n < max) {
        char *o = p;
        f[n++] = o;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '\0')
                    break;
                if (*p == '"' && p[1] == '"') {
                    *o++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *o++ = *p++;
                }
            }
            while (*p && *p != ',')
                p++;
        } else {
            while (*p && *p != ',')
                *o++ = *p++;
        }
        bool more = *p == ',';
        *o = '\0';
        if (!more)
            break;
        p++;
    }
    return n;
}

static int kape_log(const char *file, const char *drive, kt_times *out, size_t *bad)
{
    FILE *f = fopen(file, "re");
    if (f == NULL)
        return KT_OK;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int col_src = -1, col_c = -1, col_m = -1, col_a = -1, rc = KT_OK;
    bool header = true;
    while (rc == KT_OK && (got = getline(&line, &cap, f)) >= 0) {
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        char *p = line;
        if (header && (unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb &&
            (unsigned char)p[2] == 0xbf)
            p += 3; /* UTF-8 byte order mark */
        char *f_[16];
        size_t n = csv_fields(p, f_, 16);
        if (header) {
            for (size_t i = 0; i < n; i++) {
                if (strcmp(f_[i], "SourceFile") == 0)
                    col_src = (int)i;
                else if (strcmp(f_[i], "CreatedOnUtc") == 0)
                    col_c = (int)i;
                else if (strcmp(f_[i], "ModifiedOnUtc") == 0)
                    col_m = (int)i;
                else if (strcmp(f_[i], "LastAccessedOnUtc") == 0)
                    col_a = (int)i;
            }
            header = false;
            if (col_src < 0)
                break;
            continue;
        }
        if (got == 0)
            continue;
        const char *src = (size_t)col_src < n ? f_[col_src] : "";
        if (!(isalpha((unsigned char)src[0]) && src[1] == ':' && src[2] == '\\')) {
            (*bad)++;
            continue;
        }
        if (toupper((unsigned char)src[0]) != toupper((unsigned char)drive[0]))
            continue;
        char key[KT_FS_PATH_MAX];
        kt_strlcpy(key, src + 3, sizeof key);
        if (strchr(key, ':'))
            continue; /* a stream ($UsnJrnl:$J), copied under another name */
        for (char *k = key; *k; k++)
            if (*k == '\\')
                *k = '/';
        kt_time c = col_c >= 0 && (size_t)col_c < n ? kape_time(f_[col_c]) : KT_TIME_NONE;
        kt_time m = col_m >= 0 && (size_t)col_m < n ? kape_time(f_[col_m]) : KT_TIME_NONE;
        kt_time a = col_a >= 0 && (size_t)col_a < n ? kape_time(f_[col_a]) : KT_TIME_NONE;
        if (c == KT_TIME_NONE && m == KT_TIME_NONE && a == KT_TIME_NONE)
            (*bad)++;
        rc = times_add(out, key, c, m, KT_TIME_NONE, a);
    }
    free(line);
    fclose(f);
    return rc;
}

int kt_kape_times(const char *dir, const char *drive, kt_times *out, size_t *bad, kt_error *err)
{
    memset(out, 0, sizeof *out);
    out->fold = true;
    kt_strlcpy(out->source, "KAPE CopyLog", sizeof out->source);
    *bad = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return KT_OK;
    struct dirent *de;
    int rc = KT_OK;
    char **names = NULL;
    size_t nn = 0;
    while ((de = readdir(d)) != NULL && rc == KT_OK) {
        if (!ends_with(de->d_name, "_CopyLog.csv"))
            continue;
        char **p = realloc(names, (nn + 1) * sizeof *p);
        if (p == NULL || (p[nn] = strdup(de->d_name)) == NULL) {
            names = p ? p : names;
            rc = KT_ENOMEM;
            break;
        }
        names = p;
        nn++;
    }
    closedir(d);
    /* Logs in name (start stamp) order: the first row of a file wins. */
    for (size_t i = 1; i < nn; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    for (size_t i = 0; i < nn && rc == KT_OK; i++) {
        char file[4096];
        snprintf(file, sizeof file, "%s/%s", dir, names[i]);
        rc = kape_log(file, drive, out, bad);
    }
    for (size_t i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    if (rc) {
        kt_times_release(out);
        return oom(err);
    }
    times_finish(out);
    return KT_OK;
}

/* A bodyfile time: seconds, maybe with a fraction; 0 or empty is none. */
static kt_time body_time(const char *s)
{
    if (!isdigit((unsigned char)s[0]))
        return KT_TIME_NONE;
    char *end;
    long long sec = strtoll(s, &end, 10);
    int64_t ns = 0;
    if (*end == '.') {
        int digits = 0;
        for (end++; isdigit((unsigned char)*end); end++, digits++)
            if (digits < 9)
                ns = ns * 10 + (*end - '0');
        for (; digits < 9; digits++)
            ns *= 10;
    }
    if (sec == 0 && ns == 0)
        return KT_TIME_NONE;
    return kt_time_from_unix(sec, ns);
}

int kt_uac_times(kt_archive *a, const kt_collection_root *root, kt_times *out, size_t *bad,
                 kt_error *err)
{
    memset(out, 0, sizeof *out);
    kt_strlcpy(out->source, "UAC bodyfile", sizeof out->source);
    *bad = 0;
    if (root->nprefix == 0)
        return KT_OK;
    /* bodyfile/bodyfile.txt and uac.log sit beside "[root]". */
    char base[256], name[512];
    kt_strlcpy(base, root->prefix[0], sizeof base);
    char *slash = strrchr(base, '/');
    if (slash)
        *slash = '\0';
    else
        base[0] = '\0';
    const char *sep = base[0] ? "/" : "";
    snprintf(name, sizeof name, "%s%sbodyfile/bodyfile.txt", base, sep);
    kt_buf b = {0};
    if (read_member(a, name, &b) != KT_OK) {
        kt_buf_release(&b);
        return KT_OK;
    }
    /* Paths carry the --mount-point UAC was given, which uac.log says. */
    char mount[1024] = "";
    kt_buf log = {0};
    snprintf(name, sizeof name, "%s%suac.log", base, sep);
    if (read_member(a, name, &log) == KT_OK && log.data) {
        const char *m = strstr((const char *)log.data, "Mount point: ");
        if (m) {
            m += 13;
            size_t n = strcspn(m, "\r\n");
            if (n < sizeof mount) {
                memcpy(mount, m, n);
                mount[n] = '\0';
            }
        }
    }
    kt_buf_release(&log);
    size_t mlen = strlen(mount);
    while (mlen > 0 && mount[mlen - 1] == '/')
        mount[--mlen] = '\0';
    int rc = KT_OK;
    char *p = (char *)b.data, *end = b.data ? (char *)b.data + b.len : NULL;
    while (p && p < end && rc == KT_OK) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl)
            *nl = '\0';
        char *line = p;
        p = nl ? nl + 1 : end;
        /* md5|name|inode|mode|uid|gid|size|atime|mtime|ctime|crtime: the
         * name may hold '|', so the last nine fields are taken from the
         * right. */
        char *bars[9];
        size_t nb = 0;
        for (char *q = line + strlen(line); q > line && nb < 9; q--)
            if (q[-1] == '|')
                bars[nb++] = q - 1;
        char *first = strchr(line, '|');
        if (nb < 9 || first == NULL || first >= bars[8]) {
            if (line[0])
                (*bad)++;
            continue;
        }
        for (size_t i = 0; i < 9; i++)
            *bars[i] = '\0';
        char *path = first + 1;
        const char *mode = bars[7] + 1;
        if (mode[0] == 'l') {
            char *arrow = strstr(path, " -> ");
            if (arrow)
                *arrow = '\0';
        }
        if (mlen && strncmp(path, mount, mlen) == 0 && (path[mlen] == '/' || !path[mlen]))
            path += mlen;
        while (*path == '/')
            path++;
        kt_time at = body_time(bars[3] + 1), mt = body_time(bars[2] + 1),
                ct = body_time(bars[1] + 1), bt = body_time(bars[0] + 1);
        rc = times_add(out, path, bt, mt, ct, at);
    }
    kt_buf_release(&b);
    if (rc) {
        kt_times_release(out);
        return oom(err);
    }
    times_finish(out);
    return KT_OK;
}

/* --- what a collection lacks ------------------------------------------------ */

typedef struct source_check {
    kt_os os;
    const char *const paths[3]; /* any one of them present is enough */
    const char *what;
} source_check;

static const source_check checks[] = {
    {KT_OS_WINDOWS,
     {"Program Files", "Program Files (x86)"},
     "program folders (installed product files, versions, bases)"},
    {KT_OS_WINDOWS, {"ProgramData"}, "application data (product data, traces, update state)"},
    {KT_OS_WINDOWS, {"Windows/System32/config/SOFTWARE"}, "the SOFTWARE hive"},
    {KT_OS_WINDOWS, {"Windows/System32/config/SYSTEM"}, "the SYSTEM hive"},
    {KT_OS_WINDOWS, {"Windows/System32/drivers"}, "drivers"},
    {KT_OS_WINDOWS, {"Windows/System32/winevt/Logs"}, "event logs"},
    {KT_OS_WINDOWS, {"Windows/System32/Tasks"}, "scheduled tasks"},
    {KT_OS_WINDOWS, {"Windows/Prefetch"}, "Prefetch"},
    {KT_OS_WINDOWS, {"Windows/appcompat/Programs/Amcache.hve"}, "Amcache"},
    {KT_OS_WINDOWS, {"Users"}, "user profiles and hives"},
    {KT_OS_LINUX, {"opt"}, "program folders (opt)"},
    {KT_OS_LINUX, {"var/opt"}, "application data (var/opt)"},
    {KT_OS_LINUX, {"etc/opt"}, "configuration (etc/opt)"},
    {KT_OS_LINUX, {"var/lib/dpkg/status", "var/lib/rpm"}, "the package database"},
    {KT_OS_LINUX, {"var/log"}, "logs and package histories (var/log)"},
    {KT_OS_MACOS, {"Applications"}, "applications"},
    {KT_OS_MACOS, {"Library"}, "system library (preferences, launch daemons, logs)"},
};

int kt_collection_check_sources(kt_fs *fs, const kt_system *sys, int volume, kt_diags *diags)
{
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        const source_check *c = &checks[i];
        if (c->os != sys->os)
            continue;
        bool found = false;
        for (size_t k = 0; k < 3 && c->paths[k] && !found; k++)
            found = kt_fs_exists(fs, c->paths[k]);
        if (found)
            continue;
        if (kt_diags_addf(diags, KT_SEV_WARNING, "collection", volume, c->paths[0], NULL,
                          "not in the triage collection: %s not collected, and the verdicts "
                          "that would need them are left open",
                          c->what))
            return KT_ENOMEM;
    }
    return KT_OK;
}
