/* libFuzzer harness: Xpress Huffman (src/prefetch-reader/xpress.c). The
 * first two bytes give the output size (up to 64 KiB + 2 blocks' worth). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "xpress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len < 3)
        return 0;
    size_t out_len = ((size_t)data[0] | (size_t)data[1] << 8) * 3 + 1;
    uint8_t *out = malloc(out_len);
    if (out) {
        kt_xpress_huffman_decompress(data + 2, len - 2, out, out_len);
        free(out);
    }
    return 0;
}
