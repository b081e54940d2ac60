#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kavtrace/case.h"
#include "kavtrace/findings.h"
#include "kavtrace/image.h"
#include "kavtrace/json.h"
#include "kavtrace/jsonread.h"
#include "kavtrace/output.h"
#include "kavtrace/writers.h"

#define DEFS_MAX_DEPTH 16
#define DEFS_MAX_FILES 100000

static int64_t mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

int kt_evidence_stamp_get(const char *path, kt_evidence_stamp *out, kt_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return kt_error_set(err, KT_EIO, "evidence '%s': %s", path, strerror(errno));
    kt_evidence_stamp s = {
        .bytes = S_ISDIR(st.st_mode) ? -1 : st.st_size, .mtime_ns = mtime_ns(&st), .files = 1};
    kt_image *img = NULL;
    kt_error ignored = {0};
    /* A set: every file kavtrace opens with it. One it cannot open is
     * stamped by its own file. */
    if (!S_ISDIR(st.st_mode) && kt_image_open(path, &img, &ignored) == KT_OK) {
        const kt_strlist *segs = &kt_image_get_info(img)->segments;
        if (segs->count > 1) {
            s = (kt_evidence_stamp){0};
            for (size_t i = 0; i < segs->count; i++) {
                if (stat(segs->items[i], &st) != 0) {
                    kt_error_set(err, KT_EIO, "evidence '%s': '%s': %s", path, segs->items[i],
                                 strerror(errno));
                    kt_image_free(img);
                    return KT_EIO;
                }
                s.bytes += st.st_size;
                if (mtime_ns(&st) > s.mtime_ns)
                    s.mtime_ns = mtime_ns(&st);
                s.files++;
            }
        }
    }
    kt_image_free(img);
    *out = s;
    return KT_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_files(const char *root, const char *rel, int depth, kt_strlist *out, kt_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(path);
    if (d == NULL)
        return kt_error_set(err, KT_EIO, "definitions '%s': %s", path, strerror(errno));
    int rc = KT_OK;
    struct dirent *e;
    while (rc == KT_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char sub[4096], full[4096];
        snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", root, sub);
        struct stat st;
        if (stat(full, &st) != 0)
            continue; /* a dangling link is no definition */
        if (S_ISDIR(st.st_mode) && depth < DEFS_MAX_DEPTH)
            rc = list_files(root, sub, depth + 1, out, err);
        else if (S_ISREG(st.st_mode) && out->count < DEFS_MAX_FILES &&
                 kt_strlist_add(out, sub) != 0)
            rc = kt_error_set(err, KT_ENOMEM, "definitions: out of memory");
    }
    closedir(d);
    return rc;
}

int kt_definitions_hash(const char *dir, char out[65], kt_error *err)
{
    kt_strlist files = {0};
    int rc = list_files(dir, "", 0, &files, err);
    struct sha256_ctx c;
    sha256_init(&c);
    if (rc == KT_OK && files.count)
        qsort(files.items, files.count, sizeof *files.items, cmp_str);
    for (size_t i = 0; rc == KT_OK && i < files.count; i++) {
        char full[4096], head[32];
        snprintf(full, sizeof full, "%s/%s", dir, files.items[i]);
        int fd = open(full, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            rc = kt_error_set(err, KT_EIO, "definitions '%s': %s", full, strerror(errno));
            if (fd >= 0)
                close(fd);
            break;
        }
        sha256_update(&c, strlen(files.items[i]) + 1, (const uint8_t *)files.items[i]);
        snprintf(head, sizeof head, "%020lld", (long long)st.st_size);
        sha256_update(&c, 20, (const uint8_t *)head);
        uint8_t buf[65536];
        ssize_t r;
        while ((r = read(fd, buf, sizeof buf)) > 0)
            sha256_update(&c, (size_t)r, buf);
        if (r < 0)
            rc = kt_error_set(err, KT_EIO, "definitions '%s': %s", full, strerror(errno));
        close(fd);
    }
    kt_strlist_release(&files);
    if (rc)
        return rc;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&c, sizeof d, d);
    for (size_t i = 0; i < sizeof d; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    return KT_OK;
}

/* "x.E01" "x.Ex01" "x.L01"-style: letters then digits or letters. */
static bool all_in(const char *s, const char *set)
{
    return s[0] && strspn(s, set) == strlen(s);
}

kt_evidence_kind kt_evidence_kind_of(const char *dir, const char *name)
{
    if (name[0] == '.')
        return KT_EVK_NONE;
    const char *dot = strrchr(name, '.');
    if (dot == NULL)
        return KT_EVK_NONE;
    const char *ext = dot + 1;
    static const char *const whole[] = {"raw", "dd", "img", "bin", "vhd", "vhdx"};
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++)
        if (strcasecmp(ext, whole[i]) == 0)
            return KT_EVK_FIRST;
    if (strcasecmp(ext, "vmdk") == 0) {
        /* The descriptor; its extents are x-flat.vmdk, x-s001.vmdk, x-f001.vmdk. */
        size_t n = (size_t)(dot - name);
        if (n >= 5 && strncasecmp(dot - 5, "-flat", 5) == 0)
            return KT_EVK_PART;
        const char *dash = memrchr(name, '-', n);
        if (dash && (dash[1] == 's' || dash[1] == 'f') && dot - dash - 2 == 3 &&
            strspn(dash + 2, "0123456789") == 3)
            return KT_EVK_PART;
        return KT_EVK_FIRST;
    }
    /* EWF: E01, Ex01 (and later segments E02..EZZ, Ex02..). */
    const char *seg = (ext[0] == 'E' || ext[0] == 'e')
                          ? ext + 1 + ((ext[1] == 'x' || ext[1] == 'X') && strlen(ext) == 4)
                          : NULL;
    if (seg && strlen(seg) == 2 &&
        all_in(seg, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
        return strcmp(seg, "01") == 0 ? KT_EVK_FIRST : KT_EVK_PART;
    /* Split raw: x.000 or x.001 first. */
    if (strlen(ext) >= 3 && all_in(ext, "0123456789")) {
        long k = strtol(ext, NULL, 10);
        if (k == 0)
            return KT_EVK_FIRST;
        if (k > 1)
            return KT_EVK_PART;
        char zero[4096];
        struct stat st;
        snprintf(zero, sizeof zero, "%s/%.*s%0*d", dir, (int)(ext - name), name, (int)strlen(ext),
                 0);
        return stat(zero, &st) == 0 ? KT_EVK_PART : KT_EVK_FIRST;
    }
    return KT_EVK_NONE;
}

static bool is_dir(const char *dir, const char *rel)
{
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

bool kt_dir_is_system_root(const char *dir)
{
    return is_dir(dir, "Windows/System32") || is_dir(dir, "WINDOWS/system32") ||
           (is_dir(dir, "etc") && is_dir(dir, "usr")) || is_dir(dir, "System/Library");
}

/* ---- the case summary ---- */

static const char *verdict_text(const kt_jv *v)
{
    if (v && v->type == KT_JV_BOOL)
        return v->b ? "true" : "false";
    return "null";
}

/* Items sorted by id, by index. */
static const kt_case_item *sort_base;
static int cmp_item(const void *a, const void *b)
{
    return strcmp(sort_base[*(const size_t *)a].id, sort_base[*(const size_t *)b].id);
}

/* One CSV field built of parts joined by "; ". */
typedef struct field {
    kt_buf b;
    bool any;
} field;

static int part(field *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int part(field *f, const char *fmt, ...)
{
    int rc = f->any ? kt_buf_append(&f->b, "; ", 2) : KT_OK;
    f->any = true;
    va_list ap;
    va_start(ap, fmt);
    if (rc == KT_OK)
        rc = kt_buf_vprintf(&f->b, fmt, ap);
    va_end(ap);
    return rc;
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

static const char *field_text(field *f)
{
    return f->b.data ? (const char *)f->b.data : "";
}

/* The columns of case.csv after the item's own. */
enum { C_SYSTEMS, C_HOSTS, C_PRODUCTS, C_INSTALLED, C_SIGS, C_STATE, C_NFIELDS };

/* The row's system columns, and the item's systems in case.json. */
static int item_systems(const kt_jv *f, kt_json *j, field *cols, field *verdicts)
{
    const kt_jv *systems = kt_jv_get(f, "systems");
    size_t ns = systems && systems->type == KT_JV_ARRAY ? systems->len : 0;
    int rc = kt_buf_printf(&cols[C_SYSTEMS].b, "%zu", ns);
    cols[C_SYSTEMS].any = true;
    kt_json_begin_array(j, "systems");
    for (size_t i = 0; rc == KT_OK && i < ns; i++) {
        const kt_jv *s = &systems->item[i];
        const char *host = nz(kt_jv_str(kt_jv_get(s, "hostname")));
        rc = part(&cols[C_HOSTS], "%s", host);
        kt_json_begin_object(j, NULL);
        kt_json_string(j, "os", kt_jv_str(kt_jv_get(s, "os")));
        kt_json_string(j, "hostname", host);
        const kt_jv *vs = kt_jv_get(s, "verdicts");
        kt_json_begin_object(j, "verdicts");
        for (int v = 0; rc == KT_OK && v < KT_V_COUNT; v++) {
            const char *name = kt_verdict_name((kt_verdict)v);
            const kt_jv *x = kt_jv_get(vs, name);
            if (x && x->type == KT_JV_BOOL)
                kt_json_bool(j, name, x->b);
            else
                kt_json_null(j, name);
            rc = part(&verdicts[v], "%s", verdict_text(x));
        }
        kt_json_end_object(j);
        const kt_jv *ps = kt_jv_get(s, "products");
        kt_json_begin_array(j, "products");
        for (size_t p = 0; rc == KT_OK && ps && ps->type == KT_JV_ARRAY && p < ps->len; p++) {
            const kt_jv *pr = &ps->item[p];
            const char *name = nz(kt_jv_str(kt_jv_get(pr, "name")));
            const char *ver = nz(kt_jv_str(kt_jv_get(pr, "version")));
            const char *inst = kt_jv_str(kt_jv_get(pr, "installed"));
            const char *sig = kt_jv_str(kt_jv_get(pr, "last_signature_update"));
            kt_json_begin_object(j, NULL);
            kt_json_string(j, "id", kt_jv_str(kt_jv_get(pr, "id")));
            kt_json_string(j, "name", name);
            kt_json_string(j, "version", ver);
            kt_json_string(j, "status", kt_jv_str(kt_jv_get(pr, "status")));
            kt_json_string(j, "installed", inst);
            kt_json_string(j, "last_signature_update", sig);
            kt_json_end_object(j);
            rc = part(&cols[C_PRODUCTS], "%s%s%s", name, ver[0] ? " " : "", ver);
            if (rc == KT_OK)
                rc = part(&cols[C_INSTALLED], "%s", inst ? inst : "none");
            if (rc == KT_OK)
                rc = part(&cols[C_SIGS], "%s", sig ? sig : "none");
        }
        kt_json_end_array(j);
        /* State at the cutoff, where the findings hold it. */
        const kt_jv *sa = kt_jv_get(s, "state_at");
        const kt_jv *cut = NULL;
        for (size_t k = 0; sa && sa->type == KT_JV_ARRAY && k < sa->len; k++) {
            const char *m = kt_jv_str(kt_jv_get(&sa->item[k], "milestone"));
            if (m && strcmp(m, "cutoff") == 0)
                cut = &sa->item[k];
        }
        if (cut == NULL) {
            kt_json_null(j, "state_at_cutoff");
        } else {
            const kt_jv *cp = kt_jv_get(cut, "products");
            kt_json_begin_array(j, "state_at_cutoff");
            for (size_t p = 0; rc == KT_OK && cp && cp->type == KT_JV_ARRAY && p < cp->len; p++) {
                const kt_jv *pr = &cp->item[p];
                const kt_jv *inst = kt_jv_get(pr, "installed");
                const char *id = nz(kt_jv_str(kt_jv_get(pr, "id")));
                const char *ver = kt_jv_str(kt_jv_get(pr, "version"));
                const char *sig = kt_jv_str(kt_jv_get(pr, "last_signature_update"));
                const char *state = inst && inst->type == KT_JV_BOOL
                                        ? (inst->b ? "installed" : "not installed")
                                        : "unknown";
                kt_json_begin_object(j, NULL);
                kt_json_string(j, "id", id);
                kt_json_string(j, "state", state);
                kt_json_string(j, "version", ver);
                kt_json_string(j, "last_signature_update", sig);
                kt_json_end_object(j);
                rc = part(&cols[C_STATE], "%s %s%s%s%s%s", id, state, ver ? " " : "", nz(ver),
                          sig ? ", signatures " : "", nz(sig));
            }
            kt_json_end_array(j);
        }
        kt_json_end_object(j);
    }
    kt_json_end_array(j);
    return rc ? rc : j->rc;
}

static int write_file(const char *outdir, const char *name, const kt_buf *b, kt_error *err)
{
    char tmp[KT_OUTDIR_PATH_MAX + 64], final[KT_OUTDIR_PATH_MAX + 64];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp-%ld", outdir, name, (long)getpid());
    snprintf(final, sizeof final, "%s/%s", outdir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return kt_error_set(err, KT_EIO, "cannot write '%s': %s", final, strerror(errno));
    int rc = kt_write_all(fd, b->data ? b->data : (const uint8_t *)"", b->len);
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, final) != 0)
        rc = -errno;
    if (rc) {
        unlink(tmp);
        return kt_error_set(err, KT_EIO, "cannot write '%s': %s", final, strerror(-rc));
    }
    return KT_OK;
}

static int csv_row(kt_buf *out, const char *const *cells, size_t n)
{
    int rc = KT_OK;
    for (size_t i = 0; rc == KT_OK && i < n; i++) {
        if (i)
            rc = kt_buf_append(out, ",", 1);
        if (rc == KT_OK)
            rc = kt_csv_cell(out, cells[i]);
    }
    return rc ? rc : kt_buf_append(out, "\r\n", 2);
}

#define NHEAD 7
#define NTAIL 2
#define NCOLS (NHEAD + C_NFIELDS + KT_V_COUNT + NTAIL)

/* An item's output file whole into b (at most KT_CASE_ITEM_FILE_MAX bytes). */
#define KT_CASE_ITEM_FILE_MAX ((int64_t)4 << 30)
static int read_item_file(const char *path, kt_buf *b, kt_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return kt_error_set(err, KT_EIO, "%s", strerror(e));
    }
    int rc = KT_OK;
    if (!S_ISREG(st.st_mode))
        rc = kt_error_set(err, KT_EFORMAT, "not a regular file");
    else if (st.st_size > KT_CASE_ITEM_FILE_MAX)
        rc = kt_error_set(err, KT_ELIMIT, "larger than %lld bytes",
                          (long long)KT_CASE_ITEM_FILE_MAX);
    else if (kt_buf_reserve(b, (size_t)st.st_size + 1) != KT_OK)
        rc = kt_error_set(err, KT_ENOMEM, "out of memory");
    while (rc == KT_OK) {
        if (b->len + 1 >= b->cap && kt_buf_reserve(b, 65536) != KT_OK) {
            rc = kt_error_set(err, KT_ENOMEM, "out of memory");
            break;
        }
        ssize_t r = read(fd, b->data + b->len, b->cap - b->len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = kt_error_set(err, KT_EIO, "%s", strerror(errno));
        if (r <= 0)
            break;
        b->len += (size_t)r;
        b->data[b->len] = '\0';
    }
    close(fd);
    return rc;
}

/* An older batch's case output not asked for this time. */
static int remove_output(const char *outdir, const char *name, kt_error *err)
{
    char path[KT_OUTDIR_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", outdir, name);
    if (unlink(path) != 0 && errno != ENOENT)
        return kt_error_set(err, KT_EIO, "cannot remove '%s': %s", path, strerror(errno));
    return KT_OK;
}

int kt_case_write(const char *outdir, const kt_case_item *items, size_t n, unsigned outputs,
                  bool *all_ok, kt_error *err)
{
    size_t *order = calloc(n ? n : 1, sizeof *order);
    if (order == NULL)
        return kt_error_set(err, KT_ENOMEM, "case summary: out of memory");
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    sort_base = items;
    qsort(order, n, sizeof *order, cmp_item);

    kt_buf json = {0}, csv = {0}, rows = {0}, page = {0}, dbbytes = {0}, itemdb = {0};
    kt_case_db *db = NULL;
    if ((outputs & KT_CASE_SQLITE_DB) && kt_case_db_new(&db) != KT_OK) {
        free(order);
        return kt_error_set(err, KT_ENOMEM, "case summary: out of memory");
    }
    kt_json j;
    kt_json_init(&j, &json);
    kt_json_begin_object(&j, NULL);
    kt_json_string(&j, "kavtrace_version", KT_VERSION);
    kt_json_begin_array(&j, "items");

    const char *head[NCOLS] = {"id",     "evidence", "custodian", "key_file", "notes",
                               "status", "message",  "systems",   "hostnames"};
    size_t h = NHEAD + 2;
    for (int v = 0; v < KT_V_COUNT; v++)
        head[h++] = kt_verdict_name((kt_verdict)v);
    head[h++] = "products";
    head[h++] = "installed";
    head[h++] = "last_signature_update";
    head[h++] = "state_at_cutoff";
    head[h++] = "warnings";
    head[h++] = "run_time_s";
    int rc = csv_row(&csv, head, NCOLS);
    size_t counts[5] = {0};
    static const char *const statuses[] = {"ok", "skipped", "failed", "timed-out", "not-run"};
    bool ok_all = true;

    for (size_t k = 0; rc == KT_OK && k < n; k++) {
        const kt_case_item *it = &items[order[k]];
        const char *status = it->status;
        char message[KT_ERROR_MSG_MAX + 64];
        kt_strlcpy(message, nz(it->message), sizeof message);
        kt_jv f = {0};
        bool have = false;
        if (strcmp(status, "ok") == 0 || strcmp(status, "skipped") == 0) {
            char path[KT_OUTDIR_PATH_MAX + 64];
            kt_error ferr = {0};
            snprintf(path, sizeof path, "%s/%s/findings.json", outdir, it->id);
            if (kt_jv_parse_file(path, &f, &ferr) == KT_OK) {
                have = true;
            } else if (ferr.code == KT_ENOMEM) {
                rc = kt_error_set(err, KT_ENOMEM, "case summary: out of memory");
                break;
            } else {
                status = "failed";
                snprintf(message, sizeof message, "outputs unreadable: %s", ferr.msg);
            }
        }
        if (db) {
            kt_case_db_item row = {.item = it->id,
                                   .status = status,
                                   .message = message[0] ? message : NULL,
                                   .custodian = it->custodian,
                                   .key_file = it->key_file,
                                   .notes = it->notes,
                                   .evidence = it->evidence};
            kt_error derr = {0};
            int drc = KT_OK;
            if (have) {
                char path[KT_OUTDIR_PATH_MAX + 64];
                snprintf(path, sizeof path, "%s/%s/%s", outdir, it->id, kt_writer_sqlite.file);
                itemdb.len = 0;
                drc = read_item_file(path, &itemdb, &derr);
                if (drc == KT_OK)
                    drc = kt_case_db_add(db, &row, itemdb.data, itemdb.len, &derr);
            }
            if (drc == KT_ENOMEM) {
                rc = kt_error_set(err, KT_ENOMEM, "case summary: out of memory");
                kt_jv_release(&f);
                break;
            }
            if (drc) {
                /* Its database unreadable: failed, in every output alike. */
                status = row.status = "failed";
                snprintf(message, sizeof message, "outputs unreadable: %s: %s",
                         kt_writer_sqlite.file, derr.msg);
                row.message = message;
                have = false;
                kt_jv_release(&f);
            }
            if ((drc || !have) && kt_case_db_add(db, &row, NULL, 0, &derr) != KT_OK) {
                rc = kt_error_set(err, KT_ENOMEM, "case summary: out of memory");
                break;
            }
        }
        for (size_t s = 0; s < 5; s++)
            counts[s] += strcmp(status, statuses[s]) == 0;
        ok_all = ok_all && (strcmp(status, "ok") == 0 || strcmp(status, "skipped") == 0);

        field cols[C_NFIELDS] = {0}, verdicts[KT_V_COUNT] = {0};
        kt_json_begin_object(&j, NULL);
        kt_json_string(&j, "id", it->id);
        kt_json_string(&j, "evidence", it->evidence);
        kt_json_string(&j, "custodian", it->custodian);
        kt_json_string(&j, "key_file", it->key_file);
        kt_json_string(&j, "notes", it->notes);
        kt_json_string(&j, "status", status);
        kt_json_string(&j, "message", message[0] ? message : NULL);
        kt_json_int(&j, "run_time_ms", it->run_ms);
        int64_t nwarn = -1;
        const kt_jv *w = kt_jv_get(&f, "warnings");
        if (have && w && w->type == KT_JV_ARRAY)
            nwarn = (int64_t)w->len;
        if (nwarn >= 0)
            kt_json_int(&j, "warnings", nwarn);
        else
            kt_json_null(&j, "warnings");
        if (have)
            rc = item_systems(&f, &j, cols, verdicts);
        else
            kt_json_null(&j, "systems");
        kt_json_end_object(&j);

        char nw[24] = "", rt[32];
        if (nwarn >= 0)
            snprintf(nw, sizeof nw, "%lld", (long long)nwarn);
        snprintf(rt, sizeof rt, "%lld.%03lld", (long long)(it->run_ms / 1000),
                 (long long)(it->run_ms % 1000));
        const char *row[NCOLS] = {it->id,
                                  it->evidence,
                                  nz(it->custodian),
                                  nz(it->key_file),
                                  nz(it->notes),
                                  status,
                                  message,
                                  field_text(&cols[C_SYSTEMS]),
                                  field_text(&cols[C_HOSTS])};
        size_t c = NHEAD + 2;
        for (int v = 0; v < KT_V_COUNT; v++)
            row[c++] = field_text(&verdicts[v]);
        row[c++] = field_text(&cols[C_PRODUCTS]);
        row[c++] = field_text(&cols[C_INSTALLED]);
        row[c++] = field_text(&cols[C_SIGS]);
        row[c++] = field_text(&cols[C_STATE]);
        row[c++] = nw;
        row[c++] = rt;
        if (rc == KT_OK)
            rc = csv_row(&csv, row, NCOLS);
        if (rc == KT_OK && (outputs & KT_CASE_HTML)) {
            char report[KT_OUTDIR_PATH_MAX + 64];
            struct stat st;
            snprintf(report, sizeof report, "%s/%s/%s", outdir, it->id, kt_writer_html.file);
            kt_case_html_item hi = {.id = it->id,
                                    .evidence = it->evidence,
                                    .custodian = it->custodian,
                                    .status = status,
                                    .message = message,
                                    .findings = have ? &f : NULL,
                                    .has_report =
                                        have && stat(report, &st) == 0 && S_ISREG(st.st_mode)};
            rc = kt_case_html_row(&rows, &hi);
        }
        for (size_t i = 0; i < C_NFIELDS; i++)
            kt_buf_release(&cols[i].b);
        for (size_t i = 0; i < KT_V_COUNT; i++)
            kt_buf_release(&verdicts[i].b);
        kt_jv_release(&f);
    }
    kt_json_end_array(&j);
    kt_json_begin_object(&j, "totals");
    kt_json_int(&j, "items", (int64_t)n);
    for (size_t s = 0; s < 5; s++)
        kt_json_int(&j, statuses[s], (int64_t)counts[s]);
    kt_json_end_object(&j);
    kt_json_end_object(&j);
    if (rc == KT_OK && j.rc == KT_OK)
        rc = kt_buf_append(&json, "\n", 1);
    else if (rc == KT_OK)
        rc = j.rc;
    if (rc && rc != KT_EIO)
        rc = kt_error_set(err, rc, "case summary: %s", kt_error_name(rc));
    if (rc == KT_OK)
        rc = write_file(outdir, KT_CASE_JSON, &json, err);
    if (rc == KT_OK)
        rc = write_file(outdir, KT_CASE_CSV, &csv, err);
    if (rc == KT_OK && (outputs & KT_CASE_HTML)) {
        rc = kt_case_html_page(&page, &rows, statuses, counts, 5, n);
        if (rc)
            rc = kt_error_set(err, rc, "case index: %s", kt_error_name(rc));
        else
            rc = write_file(outdir, KT_CASE_INDEX, &page, err);
    } else if (rc == KT_OK) {
        rc = remove_output(outdir, KT_CASE_INDEX, err);
    }
    if (rc == KT_OK && db) {
        rc = kt_case_db_finish(db, &dbbytes);
        if (rc)
            rc = kt_error_set(err, rc, "case database: %s", kt_error_name(rc));
        else
            rc = write_file(outdir, KT_CASE_SQLITE, &dbbytes, err);
    } else if (rc == KT_OK) {
        rc = remove_output(outdir, KT_CASE_SQLITE, err);
    }
    kt_case_db_free(db);
    kt_buf_release(&json);
    kt_buf_release(&csv);
    kt_buf_release(&rows);
    kt_buf_release(&page);
    kt_buf_release(&dbbytes);
    kt_buf_release(&itemdb);
    free(order);
    if (rc == KT_OK)
        *all_ok = ok_all;
    return rc;
}
