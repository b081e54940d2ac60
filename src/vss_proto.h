/* kavtrace (internal): what kavtrace and its reader kavtrace-vss say to
 * each other, both sides (src/vss.c, src/vss-reader/main.c). Integers are
 * little-endian.
 *
 * The reader starts by asking for the volume's bytes as libvshadow needs
 * them, then sends the stores:
 *   reader:   'V' off:u64 len:u32          "send me len bytes at off"
 *   kavtrace: 'v' n:i64 bytes[n]           the bytes (n < 0: unreadable)
 *   reader:   'S' count:u32, then count records of KT_VSS_STORE_RECORD
 *             bytes: [0] 1 when libvshadow could not open the store;
 *             identifier at 8, copy identifier at 48, copy set identifier
 *             at 88 (NUL-terminated GUID text), creation FILETIME u64 at
 *             128, volume size u64 at 136, attribute flags u32 at 144, and
 *             at 160 why the store could not be opened (NUL-terminated)
 *   reader:   'E' len:u32 text[len]        the volume's shadow copies cannot
 *             be read (the reader then exits)
 * then answers reads until its input closes:
 *   kavtrace: 'R' store:u32 off:u64 len:u32
 *   reader:   any number of 'V' (answered with 'v'), then
 *             'D' n:i64 bytes[n], or 'D' -1 followed by 'E' len text
 */
#ifndef KT_VSS_PROTO_H
#define KT_VSS_PROTO_H

#include <stdint.h>

#define KT_VSS_NEED_VOLUME 'V'
#define KT_VSS_VOLUME_DATA 'v'
#define KT_VSS_STORES 'S'
#define KT_VSS_FAILED 'E'
#define KT_VSS_READ 'R'
#define KT_VSS_DATA 'D'

#define KT_VSS_STORE_RECORD 512
/* Windows keeps at most 64 shadow copies of a volume (512 with a
 * registry setting). */
#define KT_VSS_MAX_STORES 512
/* The most bytes one read asks for, either way. */
#define KT_VSS_MAX_READ ((uint32_t)4 << 20)
/* The longest error text accepted. */
#define KT_VSS_MAX_TEXT 4096

static inline void kt_vss_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void kt_vss_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t kt_vss_get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint64_t kt_vss_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

#endif
