#include <errno.h>
#include <hivex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kavtrace/buf.h"
#include "kavtrace/registry.h"

int kt_hive_find(kt_hive *hv, kt_hive_node from, const char *path, kt_hive_node *out,
                 kt_error *err);

struct kt_hive {
    hive_h *h;
    int fd;
    char name[256];
};

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
    int64_t ft = hivex_node_timestamp(hv->h, (hive_node_h)node);
    return ft < 0 ? KT_TIME_NONE : kt_time_from_filetime((uint64_t)ft);
}

int kt_hive_value(kt_hive *hv, kt_hive_node node, const char *name, uint32_t *type, kt_buf *out,
                  kt_error *err)
{
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
