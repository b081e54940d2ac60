/* Xpress Huffman decompression ([MS-XCA] 2.2) for MAM prefetch files. */
#ifndef KT_XPRESS_H
#define KT_XPRESS_H

#include <stddef.h>
#include <stdint.h>

/* Decompress in[0..in_len) into exactly out_len bytes of out. 0, or -1
 * when the input is not a valid stream of that length. */
int kt_xpress_huffman_decompress(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len);

#endif
