#include <plist/plist.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/buf.h"
#include "kavtrace/plist.h"

/* A string node's text, up to its first NUL: libplist 2.2's
 * plist_get_string_val asserts (aborts) on a string with a NUL inside,
 * which a damaged binary plist can hold. */
static void copy_string(plist_t node, char *out, size_t out_len)
{
    uint64_t n = 0;
    const char *p = plist_get_string_ptr(node, &n);
    if (p == NULL || out_len == 0) {
        if (out_len)
            out[0] = '\0';
        return;
    }
    const char *nul = memchr(p, '\0', (size_t)n);
    size_t len = nul ? (size_t)(nul - p) : (size_t)n;
    if (len >= out_len)
        len = out_len - 1;
    memcpy(out, p, len);
    out[len] = '\0';
}

/* Parse data (XML or binary) into *root. */
static int load(const void *data, size_t len, plist_t *root, kt_error *err)
{
    if (len == 0 || len > KT_PLIST_MAX_SIZE)
        return kt_error_set(err, KT_ELIMIT, "plist of %zu bytes", len);
    plist_from_memory(data, (uint32_t)len, root);
    if (*root == NULL)
        return kt_error_set(err, KT_EFORMAT, "not a property list");
    return KT_OK;
}

int kt_plist_get_string(const void *data, size_t len, const char *key, char *out, size_t out_len,
                        kt_error *err)
{
    return kt_plist_get_path_string(data, len, key, out, out_len, err);
}

int kt_plist_get_path_string(const void *data, size_t len, const char *path, char *out,
                             size_t out_len, kt_error *err)
{
    plist_t root = NULL;
    int rc = load(data, len, &root, err);
    if (rc != KT_OK)
        return rc;
    if (plist_get_node_type(root) != PLIST_DICT) {
        rc = kt_error_set(err, KT_EFORMAT, "property list is not a dictionary");
        goto out;
    }
    /* Down the dictionaries, one '/'-separated key at a time. */
    plist_t node = root;
    for (const char *k = path; node && *k;) {
        size_t n = strcspn(k, "/");
        char key[256];
        if (n >= sizeof key || plist_get_node_type(node) != PLIST_DICT) {
            node = NULL;
            break;
        }
        memcpy(key, k, n);
        key[n] = '\0';
        node = plist_dict_get_item(node, key);
        k += n + (k[n] == '/');
    }
    if (node == NULL || plist_get_node_type(node) != PLIST_STRING) {
        rc = kt_error_set(err, KT_ENOTFOUND, "no string '%s'", path);
        goto out;
    }
    copy_string(node, out, out_len);
out:
    plist_free(root);
    return rc;
}

/* ---- records: the dictionaries of a property list ---------------------------- */

struct kt_plist_dict {
    plist_t node;
};

/* Seconds from 1970 to 2001-01-01, the epoch of plist dates. */
#define MAC_EPOCH_OFFSET INT64_C(978307200)

int kt_plist_each_dict(const void *data, size_t len, kt_plist_dict_cb cb, void *ctx, kt_error *err)
{
    plist_t root = NULL;
    int rc = load(data, len, &root, err);
    if (rc != KT_OK)
        return rc;
    if (plist_get_node_type(root) == PLIST_DICT) {
        kt_plist_dict d = {root};
        rc = cb(ctx, &d, 0);
    } else if (plist_get_node_type(root) == PLIST_ARRAY) {
        uint32_t n = plist_array_get_size(root);
        for (uint32_t i = 0; i < n && rc == KT_OK; i++) {
            plist_t item = plist_array_get_item(root, i);
            if (item && plist_get_node_type(item) == PLIST_DICT) {
                kt_plist_dict d = {item};
                rc = cb(ctx, &d, i);
            }
        }
    } else {
        rc = kt_error_set(err, KT_EFORMAT, "property list is neither an array nor a dictionary");
    }
    plist_free(root);
    return rc;
}

int kt_plist_dict_string(const kt_plist_dict *d, const char *key, size_t index, char *out,
                         size_t out_len)
{
    plist_t node = plist_dict_get_item(d->node, key);
    if (node && plist_get_node_type(node) == PLIST_ARRAY)
        node =
            index < plist_array_get_size(node) ? plist_array_get_item(node, (uint32_t)index) : NULL;
    else if (index > 0)
        node = NULL;
    if (node == NULL || plist_get_node_type(node) != PLIST_STRING)
        return KT_ENOTFOUND;
    copy_string(node, out, out_len);
    return KT_OK;
}

kt_time kt_plist_dict_date(const kt_plist_dict *d, const char *key)
{
    plist_t node = plist_dict_get_item(d->node, key);
    if (node == NULL || plist_get_node_type(node) != PLIST_DATE)
        return KT_TIME_NONE;
    int32_t sec = 0, usec = 0;
    plist_get_date_val(node, &sec, &usec);
    if (usec < 0 || usec > 999999)
        return KT_TIME_NONE;
    return kt_time_from_unix((int64_t)sec + MAC_EPOCH_OFFSET, (int64_t)usec * 1000);
}
