#include <errno.h>
#include <hivex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hive_impl.h"
#include "kavtrace/buf.h"
#include "kavtrace/bytes.h"
#include "kavtrace/registry.h"

int kt_hive_find(kt_hive *hv, kt_hive_node from, const char *path, kt_hive_node *out,
                 kt_error *err);

struct kt_hive {
    hive_h *h;
    int fd;
    char name[256];
    const uint8_t *img; /* the hive's bytes (the memfd mapped read-only) */
    size_t len;
    /* keys recovered from free cells, read on first use */
    bool recovered;
    kt_hive_rkey *rkeys; /* nrkeys keys, then norphans orphan values */
    size_t nrkeys, norphans;
    /* a dirty hive replayed from its logs */
    kt_hive *unapplied;
    char replayed_from[600];
    char *log_notes;
};

/* A node handle of a recovered key: this bit and its index (hivex's
 * handles are file offsets, below 4 GiB). */
#define RKEY_BIT ((kt_hive_node)1 << 62)

static const kt_hive_rkey *rkey(const kt_hive *hv, kt_hive_node n)
{
    if (!(n & RKEY_BIT) || (n & ~RKEY_BIT) >= hv->nrkeys + hv->norphans)
        return NULL;
    return &hv->rkeys[n & ~RKEY_BIT];
}

/* The one place hivex's errno convention becomes a kt_error. */
static int hivex_error(kt_error *err, int code, const char *what)
{
    int e = errno;
    if (e == ENOTSUP || e == EINVAL)
        return kt_error_set(err, KT_EFORMAT, "%s: not a valid registry hive", what);
    if (e == ENOENT)
        return kt_error_set(err, KT_ENOTFOUND, "%s: not found", what);
    return kt_error_set(err, code, "%s: %s", what, e ? strerror(e) : "hivex error");
}

/* A value's type and length, read from its vk record without its data:
 * over KT_HIVE_MAX_VALUE it is refused before hivex reads (and allocates)
 * the data. */
static int value_meta(kt_hive *hv, hive_value_h v, const char *name, hive_type *t, size_t *len,
                      kt_error *err)
{
    errno = 0;
    if (hivex_value_type(hv->h, v, t, len) != 0)
        return hivex_error(err, KT_EFORMAT, name);
    if (*len > KT_HIVE_MAX_VALUE)
        return kt_error_set(err, KT_ELIMIT, "value '%s' too large", name);
    return KT_OK;
}

int kt_hive_open_mem(const void *data, size_t len, const char *name, kt_hive **out, kt_error *err)
{
    if (len > KT_HIVE_MAX_SIZE)
        return kt_error_set(err, KT_ELIMIT, "hive '%s': %zu bytes, over the limit", name, len);
    kt_hive *hv = calloc(1, sizeof *hv);
    if (hv == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    kt_strlcpy(hv->name, name, sizeof hv->name);
    int rc = KT_OK;
    hv->fd = -1;
    hv->fd = memfd_create("kavtrace-hive", MFD_CLOEXEC);
    if (hv->fd < 0) {
        rc = kt_error_set(err, KT_EIO, "memfd_create: %s", strerror(errno));
        goto out;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(hv->fd, (const char *)data + done, len - done);
        if (n <= 0) {
            rc = kt_error_set(err, KT_EIO, "memfd write: %s", strerror(errno));
            goto out;
        }
        done += (size_t)n;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", hv->fd);
    if (len) {
        void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, hv->fd, 0);
        if (m == MAP_FAILED) {
            rc = kt_error_set(err, KT_EIO, "mmap: %s", strerror(errno));
            goto out;
        }
        hv->img = m;
        hv->len = len;
    }
    errno = 0;
    hv->h = hivex_open(path, 0);
    if (hv->h == NULL)
        rc = hivex_error(err, KT_EFORMAT, "cannot open");
out:
    if (rc) {
        kt_error_prefix(err, "hive '%s'", name);
        kt_hive_free(hv);
        return rc;
    }
    *out = hv;
    return KT_OK;
}

void kt_hive_free(kt_hive *hv)
{
    if (hv == NULL)
        return;
    if (hv->h)
        hivex_close(hv->h);
    if (hv->img)
        munmap((void *)hv->img, hv->len);
    kt_hive_rkeys_free(hv->rkeys, hv->nrkeys + hv->norphans);
    kt_hive_free(hv->unapplied);
    free(hv->log_notes);
    if (hv->fd >= 0)
        close(hv->fd);
    free(hv);
}

static int find_key(kt_hive *hv, const char *key, hive_node_h *out, kt_error *err)
{
    kt_hive_node n;
    int rc = kt_hive_find(hv, 0, key, &n, err);
    if (rc == KT_OK)
        *out = (hive_node_h)n;
    return rc;
}

static int find_value(kt_hive *hv, const char *key, const char *value, hive_value_h *out,
                      kt_error *err)
{
    hive_node_h node;
    int rc = find_key(hv, key, &node, err);
    if (rc)
        return rc;
    errno = 0;
    hive_value_h v = hivex_node_get_value(hv->h, node, value);
    if (v == 0)
        return errno ? hivex_error(err, KT_EFORMAT, key)
                     : kt_error_set(err, KT_ENOTFOUND, "value '%s\\%s' not found", key, value);
    *out = v;
    return KT_OK;
}

int kt_hive_get_string(kt_hive *hv, const char *key, const char *value, char *out, size_t len,
                       kt_error *err)
{
    hive_value_h v;
    hive_type t;
    size_t vlen;
    int rc = find_value(hv, key, value, &v, err);
    if (rc == KT_OK)
        rc = value_meta(hv, v, value, &t, &vlen, err);
    if (rc)
        return rc;
    errno = 0;
    char *s = hivex_value_string(hv->h, v);
    if (s == NULL)
        return hivex_error(err, KT_EFORMAT, value);
    kt_strlcpy(out, s, len);
    free(s);
    return KT_OK;
}

int kt_hive_get_dword(kt_hive *hv, const char *key, const char *value, uint32_t *out, kt_error *err)
{
    hive_value_h v;
    hive_type t;
    size_t vlen;
    int rc = find_value(hv, key, value, &v, err);
    if (rc == KT_OK)
        rc = value_meta(hv, v, value, &t, &vlen, err);
    if (rc)
        return rc;
    errno = 0;
    int32_t d = hivex_value_dword(hv->h, v);
    if (errno)
        return hivex_error(err, KT_EFORMAT, value);
    *out = (uint32_t)d;
    return KT_OK;
}

int kt_hive_key_time(kt_hive *hv, const char *key, kt_time *out, kt_error *err)
{
    hive_node_h node;
    int rc = find_key(hv, key, &node, err);
    if (rc)
        return rc;
    errno = 0;
    int64_t ft = hivex_node_timestamp(hv->h, node);
    if (ft < 0)
        return hivex_error(err, KT_EFORMAT, key);
    *out = kt_time_from_filetime((uint64_t)ft);
    return KT_OK;
}

kt_hive_node kt_hive_root(kt_hive *hv)
{
    return hivex_root(hv->h);
}

int kt_hive_find(kt_hive *hv, kt_hive_node from, const char *path, kt_hive_node *out, kt_error *err)
{
    hive_node_h node = from ? (hive_node_h)from : hivex_root(hv->h);
    char part[256];
    const char *p = path;
    int depth = 0;
    while (node && *p) {
        size_t n = strcspn(p, "\\");
        if (n >= sizeof part || ++depth > 512)
            return kt_error_set(err, KT_ELIMIT, "key path too long");
        memcpy(part, p, n);
        part[n] = '\0';
        p += n;
        while (*p == '\\')
            p++;
        if (n == 0)
            continue;
        errno = 0;
        node = hivex_node_get_child(hv->h, node, part);
        if (node == 0 && errno)
            return hivex_error(err, KT_EFORMAT, path);
    }
    if (node == 0)
        return kt_error_set(err, KT_ENOTFOUND, "key '%s' not found", path);
    *out = node;
    return KT_OK;
}

int kt_hive_children(kt_hive *hv, kt_hive_node node, kt_hive_node **out, size_t *count,
                     kt_error *err)
{
    if (node & RKEY_BIT) { /* recovered keys are listed by kt_hive_deleted */
        *out = malloc(sizeof **out);
        *count = 0;
        return *out ? KT_OK : kt_error_set(err, KT_ENOMEM, "out of memory");
    }
    errno = 0;
    hive_node_h *kids = hivex_node_children(hv->h, (hive_node_h)node);
    if (kids == NULL)
        return hivex_error(err, KT_EFORMAT, "subkeys");
    size_t n = 0;
    while (kids[n] && n < KT_HIVE_MAX_CHILDREN)
        n++;
    kt_hive_node *copy = malloc((n ? n : 1) * sizeof *copy);
    if (copy == NULL) {
        free(kids);
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        copy[i] = kids[i];
    free(kids);
    *out = copy;
    *count = n;
    return KT_OK;
}

int kt_hive_node_name(kt_hive *hv, kt_hive_node node, char *buf, size_t len)
{
    const kt_hive_rkey *r = rkey(hv, node);
    if (r && r->orphan)
        return KT_EFORMAT; /* its key is not known */
    if (r) {
        const char *last = strrchr(r->path, '\\');
        kt_strlcpy(buf, last ? last + 1 : r->path, len);
        return KT_OK;
    }
    if (node & RKEY_BIT)
        return KT_EFORMAT;
    char *name = hivex_node_name(hv->h, (hive_node_h)node);
    if (name == NULL)
        return KT_EFORMAT;
    kt_strlcpy(buf, name, len);
    free(name);
    return KT_OK;
}

/* The value `name` of a key; KT_ENOTFOUND when it has none. */
static int node_value(kt_hive *hv, hive_node_h node, const char *name, hive_value_h *out,
                      kt_error *err)
{
    errno = 0;
    hive_value_h v = hivex_node_get_value(hv->h, node, name);
    if (v == 0)
        return errno ? hivex_error(err, KT_EFORMAT, name)
                     : kt_error_set(err, KT_ENOTFOUND, "no value '%s'", name);
    *out = v;
    return KT_OK;
}

kt_time kt_hive_node_time(kt_hive *hv, kt_hive_node node)
{
    const kt_hive_rkey *r = rkey(hv, node);
    if (r || (node & RKEY_BIT))
        return r ? r->written : KT_TIME_NONE;
    int64_t ft = hivex_node_timestamp(hv->h, (hive_node_h)node);
    return ft < 0 ? KT_TIME_NONE : kt_time_from_filetime((uint64_t)ft);
}

/* The value `name` of recovered key r (matched without case, "" or "@"
 * for the default value); KT_ENOTFOUND when absent or its data is gone. */
static int rvalue(const kt_hive_rkey *r, const char *name, const kt_hive_rvalue **out,
                  kt_error *err)
{
    const char *want = strcmp(name, "@") == 0 ? "" : name;
    for (size_t i = 0; i < r->nvalues; i++) {
        const kt_hive_rvalue *v = &r->values[i];
        if (strcasecmp(v->name, want) != 0)
            continue;
        if (!v->intact)
            return kt_error_set(err, KT_ENOTFOUND, "value '%s': data overwritten", name);
        *out = v;
        return KT_OK;
    }
    return kt_error_set(err, KT_ENOTFOUND, "no value '%s'", name);
}

/* A REG_SZ's UTF-16LE bytes as UTF-8 (up to the first NUL). */
static void utf16_text(const uint8_t *p, size_t n, char *buf, size_t len)
{
    size_t units = 0;
    while (units < n / 2 && (p[2 * units] | p[2 * units + 1]))
        units++;
    kt_utf16le_to_utf8(p, units, buf, len);
}

int kt_hive_value(kt_hive *hv, kt_hive_node node, const char *name, uint32_t *type, kt_buf *out,
                  kt_error *err)
{
    const kt_hive_rkey *r = rkey(hv, node);
    if (r) {
        const kt_hive_rvalue *rv;
        int rc = rvalue(r, name, &rv, err);
        if (rc == KT_OK)
            rc = kt_buf_append(out, rv->data ? (const char *)rv->data : "", rv->len);
        if (rc == KT_OK)
            *type = rv->type;
        return rc;
    }
    hive_value_h v;
    int found = node_value(hv, (hive_node_h)node, name, &v, err);
    if (found)
        return found;
    hive_type t;
    size_t len = 0;
    int rc = value_meta(hv, v, name, &t, &len, err);
    if (rc)
        return rc;
    errno = 0;
    char *data = hivex_value_value(hv->h, v, &t, &len);
    if (data == NULL)
        return hivex_error(err, KT_EFORMAT, name);
    rc = kt_buf_append(out, data, len);
    free(data);
    if (rc == KT_OK)
        *type = (uint32_t)t;
    return rc;
}

int kt_hive_value_string(kt_hive *hv, kt_hive_node node, const char *name, char *buf, size_t len,
                         kt_error *err)
{
    const kt_hive_rkey *r = rkey(hv, node);
    if (r) {
        const kt_hive_rvalue *rv;
        uint32_t d;
        int rc = rvalue(r, name, &rv, err);
        if (rc)
            return rc;
        if (rv->type == KT_REG_DWORD && kt_rd_le32(rv->data, rv->len, 0, &d))
            snprintf(buf, len, "%u", (unsigned)d);
        else if (rv->type == KT_REG_SZ || rv->type == KT_REG_EXPAND_SZ)
            utf16_text(rv->data, rv->len, buf, len);
        else
            return kt_error_set(err, KT_EFORMAT, "value '%s' is not a string", name);
        return KT_OK;
    }
    hive_value_h v;
    int found = node_value(hv, (hive_node_h)node, name, &v, err);
    if (found)
        return found;
    hive_type t;
    size_t vlen;
    int rc = value_meta(hv, v, name, &t, &vlen, err);
    if (rc)
        return rc;
    if (t == hive_t_REG_DWORD) {
        snprintf(buf, len, "%u", (unsigned)hivex_value_dword(hv->h, v));
        return KT_OK;
    }
    if (t != hive_t_REG_SZ && t != hive_t_REG_EXPAND_SZ)
        return kt_error_set(err, KT_EFORMAT, "value '%s' is not a string", name);
    char *s = hivex_value_string(hv->h, v);
    if (s == NULL)
        return hivex_error(err, KT_EFORMAT, name);
    kt_strlcpy(buf, s, len);
    free(s);
    return KT_OK;
}

/* Recover once; a recovered key the live tree has at the same path with the
 * same LastWrite is an old copy of a live key (a cell moved), not a
 * deleted one, and is left out. Orphan values stay, after the keys. */
static int recover(kt_hive *hv, kt_error *err)
{
    if (hv->recovered)
        return KT_OK;
    kt_hive_rkey *keys = NULL;
    size_t n = 0;
    int rc = kt_hive_cells_recover(hv->img, hv->len, &keys, &n, err);
    if (rc != KT_OK)
        return rc;
    size_t kept = 0, orphans = 0;
    for (size_t i = 0; i < n; i++) {
        kt_hive_node live;
        kt_error e = {0};
        bool same = !keys[i].orphan && !keys[i].partial &&
                    kt_hive_find(hv, 0, keys[i].path, &live, &e) == KT_OK &&
                    kt_hive_node_time(hv, live) == keys[i].written;
        if (same) {
            free(keys[i].path);
            for (size_t v = 0; v < keys[i].nvalues; v++)
                free(keys[i].values[v].data);
            free(keys[i].values);
            continue;
        }
        orphans += keys[i].orphan;
        keys[kept++] = keys[i];
    }
    hv->rkeys = keys;
    hv->nrkeys = kept - orphans;
    hv->norphans = orphans;
    hv->recovered = true;
    return KT_OK;
}

int kt_hive_deleted(kt_hive *hv, size_t *count, kt_error *err)
{
    int rc = recover(hv, err);
    if (rc)
        kt_error_prefix(err, "hive '%s': free cells", hv->name);
    else
        *count = hv->nrkeys;
    return rc;
}

kt_hive_node kt_hive_deleted_node(kt_hive *hv, size_t i, const char **path, bool *partial)
{
    if (!hv->recovered || i >= hv->nrkeys)
        return 0;
    *path = hv->rkeys[i].path;
    *partial = hv->rkeys[i].partial;
    return RKEY_BIT | i;
}

int kt_hive_orphans(kt_hive *hv, size_t *count, kt_error *err)
{
    int rc = recover(hv, err);
    if (rc)
        kt_error_prefix(err, "hive '%s': free cells", hv->name);
    else
        *count = hv->norphans;
    return rc;
}

kt_hive_node kt_hive_orphan_node(kt_hive *hv, size_t i, const char **name, uint32_t *offset)
{
    if (!hv->recovered || i >= hv->norphans)
        return 0;
    const kt_hive_rkey *r = &hv->rkeys[hv->nrkeys + i];
    *name = r->values[0].name;
    *offset = r->offset;
    return RKEY_BIT | (hv->nrkeys + i);
}

static char *dup_text(const char *a, const char *b)
{
    size_t n = strlen(a) + (b ? strlen(b) + 1 : 0) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s", a, b ? "\n" : "", b ? b : "");
    return p;
}

int kt_hive_open_logged(const void *data, size_t len, const kt_hive_log *logs, size_t nlogs,
                        const char *name, kt_hive **out, kt_error *err)
{
    bool any = false;
    for (size_t i = 0; i < nlogs; i++)
        any |= logs[i].data != NULL;
    if (!kt_hive_is_dirty(data, len) || len > KT_HIVE_MAX_SIZE)
        return kt_hive_open_mem(data, len, name, out, err);
    kt_hive_replayed r;
    kt_error e = {0};
    int rc = any ? kt_hive_replay(data, len, logs, nlogs, &r, &e)
                 : kt_error_set(&e, KT_ENOTFOUND, "no transaction log (.LOG1, .LOG2) beside it");
    if (!any)
        memset(&r, 0, sizeof r);
    kt_hive *hv = NULL;
    if (rc == KT_ENOMEM) {
        kt_hive_replayed_release(&r);
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    }
    if (rc != KT_OK) {
        /* The primary file alone: what it holds, and why not more. Intact
         * logs with no entry past the primary file are no loss (a partial
         * reconcile leaves a hive so): nothing to say then. */
        bool quiet = any && rc == KT_ENOTFOUND && r.notes == NULL;
        rc = kt_hive_open_mem(data, len, name, &hv, err);
        if (rc == KT_OK && !quiet) {
            char msg[700];
            snprintf(msg, sizeof msg,
                     "dirty hive (its sequence numbers differ), read without its logs: %s", e.msg);
            hv->log_notes = dup_text(msg, r.notes);
        }
        kt_hive_replayed_release(&r);
        if (rc == KT_OK)
            *out = hv;
        return rc;
    }
    kt_hive *old = NULL;
    rc = kt_hive_open_mem(r.data, r.len, name, &hv, &e);
    if (rc != KT_OK) {
        /* The replay gave something hivex refuses: the primary file alone. */
        kt_hive_replayed_release(&r);
        rc = kt_hive_open_mem(data, len, name, &hv, err);
        if (rc == KT_OK)
            hv->log_notes = dup_text("dirty hive: the hive replayed from its logs cannot be "
                                     "read, read without them",
                                     NULL);
        if (rc == KT_OK)
            *out = hv;
        return rc;
    }
    rc = kt_hive_open_mem(data, len, name, &old, err);
    if (rc != KT_OK) {
        kt_hive_free(hv);
        kt_hive_replayed_release(&r);
        return rc;
    }
    hv->unapplied = old;
    size_t o = 0;
    for (size_t i = 0; i < r.nused && o < sizeof hv->replayed_from; i++)
        o += (size_t)snprintf(hv->replayed_from + o, sizeof hv->replayed_from - o, "%s%s",
                              i ? ", " : "", r.used[i]);
    if (r.notes)
        hv->log_notes = dup_text(r.notes, NULL);
    kt_hive_replayed_release(&r);
    *out = hv;
    return KT_OK;
}

kt_hive *kt_hive_unapplied(kt_hive *h)
{
    return h->unapplied;
}

const char *kt_hive_replayed_from(kt_hive *h)
{
    return h->unapplied ? h->replayed_from : NULL;
}

const char *kt_hive_log_notes(kt_hive *h)
{
    return h->log_notes;
}
