/* libFuzzer harness: the $MFT pass (src/ntfs_mft.c). The input is an
 * $MFT of 1024-byte records (a partial last record left out), read
 * through the loader as a volume's would be; then every entry and every
 * directory's children are asked for, as the filesystem layer does. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kavtrace/ntfs_mft.h"

typedef struct input {
    const uint8_t *data;
    size_t len;
} input;

static ssize_t read_input(void *ctx, uint64_t off, void *buf, size_t len, kt_error *err)
{
    const input *in = ctx;
    if (off >= in->len)
        return kt_error_set(err, KT_EIO, "read past the end"), -1;
    size_t n = in->len - (size_t)off < len ? in->len - (size_t)off : len;
    memcpy(buf, in->data + off, n);
    return (ssize_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    input in = {data, len - len % 1024};
    kt_mft *m = NULL;
    if (in.len == 0 || kt_mft_load(read_input, &in, in.len, 1024, NULL, 0, &m, NULL) != KT_OK)
        return 0;
    for (uint64_t e = 0; e < kt_mft_count(m); e++) {
        kt_mft_entry ent;
        kt_mft_name names[4], child;
        kt_mft_times si, fn;
        int64_t size;
        kt_mft_get(m, e, &ent);
        kt_mft_names(m, e, names, 4);
        kt_mft_deleted(m, e, &si, &fn, &size);
        size_t first = 0, n = kt_mft_children(m, e, &first);
        for (size_t i = first; i < first + n; i++) {
            kt_mft_child(m, i, &child);
            kt_mft_in_dir(m, &child);
        }
    }
    kt_mft_free(m);
    return 0;
}
