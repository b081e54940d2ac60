#include <plist/plist.h>
#include <stdlib.h>

#include "kavtrace/buf.h"
#include "kavtrace/plist.h"

int kt_plist_get_string(const void *data, size_t len, const char *key, char *out, size_t out_len,
                        kt_error *err)
{
    if (len == 0 || len > KT_PLIST_MAX_SIZE)
        return kt_error_set(err, KT_ELIMIT, "plist of %zu bytes", len);
    plist_t root = NULL;
    plist_from_memory(data, (uint32_t)len, &root);
    if (root == NULL)
        return kt_error_set(err, KT_EFORMAT, "not a property list");
    int rc = KT_OK;
    if (plist_get_node_type(root) != PLIST_DICT) {
        rc = kt_error_set(err, KT_EFORMAT, "property list is not a dictionary");
        goto out;
    }
    plist_t node = plist_dict_get_item(root, key);
    if (node == NULL || plist_get_node_type(node) != PLIST_STRING) {
        rc = kt_error_set(err, KT_ENOTFOUND, "no string '%s'", key);
        goto out;
    }
    char *s = NULL;
    plist_get_string_val(node, &s);
    kt_strlcpy(out, s ? s : "", out_len);
    free(s);
out:
    plist_free(root);
    return rc;
}
