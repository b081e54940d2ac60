/* LZ77 + Huffman ("Xpress Huffman") decompression, as [MS-XCA] 2.2
 * describes it, for Windows 10 and 11 Prefetch files (MAM\x04).
 *
 * The stream is a series of blocks, each producing up to 64 KiB: a table
 * of 512 four-bit code lengths (256 bytes), then a bit stream read in
 * little-endian 16-bit words, most significant bit first. Symbols 0-255
 * are literals; 256-511 are matches: the low four bits a length (15: more
 * in the next byte, 255 there: in the next 16-bit word), the high four the
 * number of offset bits that follow. Every read is bounds-checked; bad
 * input gives -1, never a read or write out of bounds. */
#include <stdint.h>
#include <string.h>

#include "kavtrace/bytes.h"
#include "xpress.h"

#define SYMBOLS 512
#define MAX_CODE_BITS 15
#define BLOCK_OUTPUT 65536

typedef struct table {
    uint16_t symbol[1 << MAX_CODE_BITS]; /* by the next 15 bits */
    uint8_t length[SYMBOLS];
} table;

/* Canonical codes: by length, then by symbol. */
static int build(table *t, const uint8_t *lengths)
{
    for (int s = 0; s < SYMBOLS; s++)
        t->length[s] = (uint8_t)((lengths[s / 2] >> (4 * (s & 1))) & 15);
    uint32_t code = 0;
    int any = 0;
    for (int len = 1; len <= MAX_CODE_BITS; len++) {
        for (int s = 0; s < SYMBOLS; s++) {
            if (t->length[s] != len)
                continue;
            uint32_t first = code << (MAX_CODE_BITS - len);
            uint32_t count = 1u << (MAX_CODE_BITS - len);
            if (first + count > (1u << MAX_CODE_BITS))
                return -1; /* over-subscribed */
            for (uint32_t i = 0; i < count; i++)
                t->symbol[first + i] = (uint16_t)s;
            code++;
            any = 1;
        }
        code <<= 1;
    }
    /* An incomplete code leaves prefixes unassigned (the caller marks
     * them): meeting one is an error. */
    return any ? 0 : -1;
}

typedef struct stream {
    const uint8_t *in;
    size_t len, pos;
    uint32_t bits; /* the next bits, most significant first */
    int extra;     /* bits held beyond the 16 that must stay valid */
    int missing;   /* words read past the end (zeros) */
} stream;

static int word(stream *s, uint32_t *w)
{
    uint16_t v;
    if (!kt_rd_le16(s->in, s->len, s->pos, &v))
        return -1;
    *w = v;
    s->pos += 2;
    return 0;
}

static int consume(stream *s, int n)
{
    s->bits <<= n;
    s->extra -= n;
    if (s->extra < 0) {
        uint32_t w;
        /* At the very end there may be no word left for bits that are
         * not needed; needing them is an error (see the caller). */
        if (word(s, &w) != 0) {
            w = 0;
            s->missing++;
        }
        s->bits |= w << (-s->extra);
        s->extra += 16;
    }
    return 0;
}

int kt_xpress_huffman_decompress(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
    static table t;
    size_t o = 0, ipos = 0;
    while (o < out_len) {
        if (ipos + 256 + 4 > in_len)
            return -1;
        /* Reject codes that claim more room than 15 bits give. */
        memset(t.symbol, 0xFF, sizeof t.symbol);
        if (build(&t, in + ipos) != 0)
            return -1;
        stream s = {.in = in, .len = in_len, .pos = ipos + 256};
        uint32_t w1, w2;
        if (word(&s, &w1) || word(&s, &w2))
            return -1;
        s.bits = w1 << 16 | w2;
        s.extra = 16;
        size_t block_end = o + BLOCK_OUTPUT < out_len ? o + BLOCK_OUTPUT : out_len;
        while (o < block_end) {
            /* More symbols to decode from words that are not there: the
             * stream is cut short. */
            if (s.missing > 1)
                return -1;
            uint16_t sym = t.symbol[s.bits >> (32 - MAX_CODE_BITS)];
            if (sym >= SYMBOLS || t.length[sym] == 0)
                return -1;
            consume(&s, t.length[sym]);
            if (sym < 256) {
                out[o++] = (uint8_t)sym;
                continue;
            }
            sym -= 256;
            uint32_t length = sym & 15, offset_bits = sym >> 4;
            if (length == 15) {
                uint8_t more;
                if (!kt_rd_u8(s.in, s.len, s.pos++, &more))
                    return -1;
                length = more;
                if (length == 255) {
                    uint32_t w;
                    if (word(&s, &w))
                        return -1;
                    if (w < 15)
                        return -1;
                    length = w - 15;
                }
                length += 15;
            }
            length += 3;
            uint32_t offset = offset_bits ? (s.bits >> 1) >> (31 - offset_bits) : 0;
            offset += 1u << offset_bits;
            consume(&s, (int)offset_bits);
            if (offset > o || length > out_len - o)
                return -1;
            for (uint32_t i = 0; i < length; i++, o++)
                out[o] = out[o - offset];
        }
        ipos = s.pos;
    }
    return 0;
}
