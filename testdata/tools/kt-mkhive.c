/* kt-mkhive: build a Windows registry hive (regf) from a text spec, byte for
 * byte the same on every run.
 *
 * Usage: kt-mkhive SPEC OUT
 *
 * How: hivex can edit a hive but cannot create one, and it cannot set a key's
 * LastWrite time (a new key copies its parent's; commit leaves the base block
 * time alone).  So this tool
 *   1. writes an empty hive (base block + one hbin holding the root nk and its
 *      sk) into a memfd and opens it writable with hivex through
 *      /proc/self/fd/N (hivex opens by path only);
 *   2. adds keys and values in spec order and commits to OUT.tmp;
 *   3. rewrites every key's LastWrite, the base block time and checksum in
 *      OUT.tmp;
 *   4. re-reads OUT.tmp with hivex to confirm names and times, then renames it
 *      to OUT.  On any error OUT is left untouched and OUT.tmp is removed.
 * Nothing depends on the clock, the environment or memory addresses.
 *
 * Spec: UTF-8 text, one directive per line, fields separated by one TAB;
 * blank lines and lines starting with '#' are ignored; a trailing CR and a
 * leading BOM are dropped.
 *   hive-name  NAME          base block file name (0x30); Windows keeps only
 *                            the last 31 UTF-16 units, and so do we
 *   root-name  NAME          root key name, printable ASCII; default "ROOT"
 *   time       TIME          base block time and the root key's LastWrite;
 *                            default 2020-01-01T00:00:00Z
 *   key        PATH [TIME]   create PATH (and missing parents); TIME is its
 *                            LastWrite, the later line wins
 *   value      PATH NAME TYPE [DATA]
 *   log-format new|old       the transaction log format (default new)
 *   transaction              the lines after it are changes Windows has
 *                            written to the transaction logs only: OUT holds
 *                            the state before them, with its sequence
 *                            numbers one apart (a dirty hive), OUT.LOG1 the
 *                            pages that differ (new format: one HvLE log
 *                            entry, 4 KiB pages, Marvin32 hashes; old
 *                            format: a DIRT dirty vector and 512-byte
 *                            pages), OUT.LOG2 the other log of the pair,
 *                            empty (new format only)
 *   delete     PATH          after the build, delete PATH with its subkeys
 *                            and values: their cells are marked free and
 *                            keep their bytes (names, LastWrite, values),
 *                            as a deleted key's do in a Windows hive
 *   wipe       PATH          'delete', and then the key's own nk cell is
 *                            zeroed (reused and freed again): its values
 *                            stay in free cells without their key
 * PATH is relative to the root, '\'-separated; keys are matched ASCII
 * case-insensitively (as hivex and Windows do), spelled as first written.  An
 * empty PATH in a value line is the root key.  Keys without a time of their
 * own get the header time.  NAME "@" is the key's default (unnamed) value; a
 * value named twice keeps its first position and takes the later data.
 * TIME is YYYY-MM-DDTHH:MM:SS[.fffffff]Z (UTC, up to 7 digits = 100 ns).
 * TYPE and DATA:
 *   sz, expand_sz  text, stored UTF-16LE with a terminating NUL
 *   multi_sz       items separated by '|', each NUL-terminated, then one more
 *                  NUL; an empty DATA is an empty list
 *   dword, dword_be, qword   [-]decimal or 0xhex
 *   binary         hex bytes, e.g. "00 11 aa" or "0011aa"
 *   blob           "N SEED": N bytes of REG_BINARY, byte i = (i % 251) ^ SEED
 *                  (SEED 0-255); for big data without a megabyte of hex
 *   none           no DATA; type 0, empty data
 * Escapes in text: \t \n \\ and \| (literal '|').  Any other backslash is
 * literal, so %SystemRoot%\system32 needs no doubling, but C:\temp must be
 * written C:\\temp.  Names (paths, value names, hive-name) take no escapes.
 *
 * Exit: 0 done, 1 bad spec or failure ("SPEC:LINE: message"), 2 usage.
 *
 * Format references: Windows registry file format specification (Suhanov) and
 * libyal's REGF format notes; offsets below are from those and were checked
 * against hives written by Windows.
 */

#define _GNU_SOURCE /* memfd_create, getline */

#include <errno.h>
#include <fcntl.h>
#include <hivex.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Base block ("regf"), offsets from the start of the file. */
#define REGF_SIZE 0x1000u
#define REGF_SEQ1 0x04u /* primary sequence number */
#define REGF_SEQ2 0x08u /* secondary; equal to SEQ1 = cleanly written */
#define REGF_TIME 0x0Cu /* FILETIME of the last write */
#define REGF_MAJOR 0x14u
#define REGF_MINOR 0x18u
#define REGF_TYPE 0x1Cu      /* 0 = primary file */
#define REGF_FORMAT 0x20u    /* 1 = direct memory load */
#define REGF_ROOT 0x24u      /* root nk cell, relative to the first hbin */
#define REGF_BINS_SIZE 0x28u /* hive bins data size */
#define REGF_CLUSTER 0x2Cu   /* clustering factor */
#define REGF_NAME 0x30u      /* 64 bytes UTF-16LE, tail of the file path */
#define REGF_NAME_SIZE 64u
#define REGF_CSUM 0x1FCu /* XOR of the 127 LE dwords before it */

/* Hive bin header; cell offsets in the hive are relative to the first hbin,
 * i.e. file offset = cell offset + REGF_SIZE. */
#define HBIN_SIZE 0x1000u
#define HBIN_OFFSET 0x04u /* this bin's offset from the first hbin */
#define HBIN_BIN_SIZE 0x08u
#define HBIN_TIME 0x14u /* FILETIME, meaningful in the first bin only */
#define HBIN_HDR 0x20u

/* Key node cell ("nk"), offsets from the cell start (its size field).  A
 * hivex node handle is that cell's file offset, so LastWrite is at
 * handle + NK_LASTWRITE (verified against hives written by Windows and
 * against hivex_node_timestamp). */
#define NK_SIG 0x04u
#define NK_FLAGS 0x06u
#define NK_LASTWRITE 0x08u
#define NK_ACCESS 0x10u /* access bits (Windows 8+); 0 = not accessed */
#define NK_PARENT 0x14u
#define NK_NSUBKEYS 0x18u
#define NK_NVSUBKEYS 0x1Cu
#define NK_SUBKEYS 0x20u
#define NK_VSUBKEYS 0x24u
#define NK_NVALUES 0x28u
#define NK_VALUES 0x2Cu
#define NK_SK 0x30u
#define NK_CLASS 0x34u
#define NK_NAME_LEN 0x4Cu
#define NK_CLASS_LEN 0x4Eu
#define NK_NAME 0x50u

#define KEY_HIVE_ENTRY 0x0004u
#define KEY_NO_DELETE 0x0008u
#define KEY_COMP_NAME 0x0020u /* name stored as Latin-1, not UTF-16LE */

/* Security cell ("sk"), offsets from the cell start. */
#define SK_SIG 0x04u
#define SK_FLINK 0x08u
#define SK_BLINK 0x0Cu
#define SK_REFCOUNT 0x10u
#define SK_SD_SIZE 0x14u
#define SK_SD 0x18u

#define HCELL_NIL 0xFFFFFFFFu /* "no cell" */

#define EMPTY_HIVE_SIZE (REGF_SIZE + HBIN_SIZE)
#define ROOT_CELL HBIN_HDR /* root nk straight after the hbin header */

/* Limits.  Names: Windows' own maxima, in UTF-16 units. */
#define KEY_NAME_MAX 255u
#define VALUE_NAME_MAX 16383u
#define KEY_DEPTH_MAX 512u
/* Above 16344 bytes a version 1.4+ hive holds data in a big-data "db"
 * record: a segment count and the offset of a list of segment cells, each
 * with up to 16344 bytes. hivex does not write one, so such a value is
 * given to hivex with a placeholder and rewritten here (write_big). */
#define VALUE_DATA_MAX 16344u
#define BIG_DATA_MAX (1u << 20)
/* Only a sanity bound for reading our own output back. */
#define HIVE_FILE_MAX (256u * 1024u * 1024u)

#define FILETIME_PER_SEC 10000000LL
#define FILETIME_1601_TO_1970_SEC 11644473600LL

#define DEFAULT_ROOT_NAME "ROOT"
#define DEFAULT_TIME "2020-01-01T00:00:00Z"

/* A self-relative security descriptor for the root key (and, through hivex,
 * every key): owner Administrators, group SYSTEM, a DACL granting SYSTEM and
 * Administrators KEY_ALL_ACCESS and Users KEY_READ, inherited by subkeys. */
/* clang-format off */
static const unsigned char root_sd[] = {
    0x01, 0x00, 0x04, 0x80,         /* rev 1; SE_SELF_RELATIVE|SE_DACL_PRESENT */
    0x60, 0x00, 0x00, 0x00,         /* owner at 0x60 */
    0x70, 0x00, 0x00, 0x00,         /* group at 0x70 */
    0x00, 0x00, 0x00, 0x00,         /* no SACL */
    0x14, 0x00, 0x00, 0x00,         /* DACL at 0x14 */
    /* 0x14: ACL rev 2, size 0x4C, 3 ACEs */
    0x02, 0x00, 0x4C, 0x00, 0x03, 0x00, 0x00, 0x00,
    /* 0x1C: ACCESS_ALLOWED, CONTAINER_INHERIT, size 20, KEY_ALL_ACCESS, S-1-5-18 */
    0x00, 0x02, 0x14, 0x00, 0x3F, 0x00, 0x0F, 0x00,
    0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x12, 0x00, 0x00, 0x00,
    /* 0x30: ACCESS_ALLOWED, CONTAINER_INHERIT, size 24, KEY_ALL_ACCESS, S-1-5-32-544 */
    0x00, 0x02, 0x18, 0x00, 0x3F, 0x00, 0x0F, 0x00,
    0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
    0x20, 0x00, 0x00, 0x00, 0x20, 0x02, 0x00, 0x00,
    /* 0x48: ACCESS_ALLOWED, CONTAINER_INHERIT, size 24, KEY_READ, S-1-5-32-545 */
    0x00, 0x02, 0x18, 0x00, 0x19, 0x00, 0x02, 0x00,
    0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
    0x20, 0x00, 0x00, 0x00, 0x21, 0x02, 0x00, 0x00,
    /* 0x60: owner S-1-5-32-544 */
    0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
    0x20, 0x00, 0x00, 0x00, 0x20, 0x02, 0x00, 0x00,
    /* 0x70: group S-1-5-18 */
    0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x12, 0x00, 0x00, 0x00,
};
/* clang-format on */

/* ---- errors ------------------------------------------------------------ */

struct err {
    char msg[1024];
};

static int fail(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sets the message; returns -1 so callers can `return fail(...)`. */
static int fail(struct err *e, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* Prepends "CONTEXT: " to the message. */
static void prefix(struct err *e, const char *fmt, ...)
{
    char ctx[512];
    size_t nctx, nold = strnlen(e->msg, sizeof e->msg - 1);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ctx, sizeof ctx, fmt, ap);
    va_end(ap);
    nctx = strlen(ctx) + 2; /* "CONTEXT: " */
    /* ctx is at most 511 bytes, so nctx < sizeof e->msg; the old message is
     * cut at the end if both do not fit. */
    if (nold > sizeof e->msg - 1 - nctx)
        nold = sizeof e->msg - 1 - nctx;
    memmove(e->msg + nctx, e->msg, nold);
    e->msg[nctx + nold] = '\0';
    memcpy(e->msg, ctx, nctx - 2);
    memcpy(e->msg + nctx - 2, ": ", 2);
}

/* ---- little-endian bytes ----------------------------------------------- */

static void wr16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void wr32(unsigned char *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void wr64(unsigned char *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint16_t rd16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static size_t round8(size_t n)
{
    return (n + 7u) & ~(size_t)7u;
}

/* 0x1FC: XOR of the base block's first 127 dwords.  Windows writes 1 for a
 * sum of 0 and 0xFFFFFFFE for 0xFFFFFFFF, but hivex compares the raw XOR and
 * rewrites it so on commit; we keep the raw value so hivex accepts the file. */
static uint32_t regf_checksum(const unsigned char *base)
{
    uint32_t sum = 0;

    for (size_t off = 0; off < REGF_CSUM; off += 4)
        sum ^= rd32(base + off);
    return sum;
}

/* ---- growable byte buffer ---------------------------------------------- */

struct buf {
    unsigned char *p;
    size_t len, cap;
};

static int buf_put(struct buf *b, const void *src, size_t n)
{
    if (n > SIZE_MAX - b->len)
        return -1;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n) {
            if (cap > SIZE_MAX / 2)
                return -1;
            cap *= 2;
        }
        unsigned char *p = realloc(b->p, cap);
        if (p == NULL)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
    return 0;
}

static void buf_release(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Grows *arr (of elem-sized items, *cap of them) to hold at least need. */
static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 4;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem)
            return -1;
        ncap *= 2;
    }
    void *p = realloc(*arr, ncap * elem);
    if (p == NULL)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* ---- UTF-8 / UTF-16 ---------------------------------------------------- */

/* Decodes one code point at s[*i] (n bytes in s), strictly per RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF. */
static int utf8_next(const char *s, size_t n, size_t *i, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t at = *i, need;
    uint32_t c = u[at], min;

    if (c < 0x80) {
        *cp = c;
        *i = at + 1;
        return 0;
    }
    if ((c & 0xE0) == 0xC0) {
        need = 1;
        c &= 0x1F;
        min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        need = 2;
        c &= 0x0F;
        min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        need = 3;
        c &= 0x07;
        min = 0x10000;
    } else {
        return -1;
    }
    if (n - at - 1 < need)
        return -1;
    for (size_t k = 1; k <= need; k++) {
        if ((u[at + k] & 0xC0) != 0x80)
            return -1;
        c = c << 6 | (u[at + k] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return -1;
    *cp = c;
    *i = at + 1 + need;
    return 0;
}

static int put_utf16(struct buf *b, uint32_t cp)
{
    unsigned char u[4];

    if (cp < 0x10000) {
        wr16(u, (uint16_t)cp);
        return buf_put(b, u, 2);
    }
    cp -= 0x10000;
    wr16(u, (uint16_t)(0xD800 + (cp >> 10)));
    wr16(u + 2, (uint16_t)(0xDC00 + (cp & 0x3FF)));
    return buf_put(b, u, 4);
}

/* Checks a name (key component, value name): valid UTF-8, no control
 * characters, at most max UTF-16 units. */
static int check_name(const char *s, size_t n, size_t max, const char *what, struct err *e)
{
    size_t i = 0, units = 0;
    uint32_t cp;

    while (i < n) {
        if (utf8_next(s, n, &i, &cp) != 0)
            return fail(e, "%s '%.*s' is not valid UTF-8", what, (int)(n > 200 ? 200 : n), s);
        if (cp < 0x20 || cp == 0x7F)
            return fail(e, "%s '%.*s' contains a control character", what, (int)(n > 200 ? 200 : n),
                        s);
        units += cp < 0x10000 ? 1 : 2;
    }
    if (units > max)
        return fail(e, "%s '%.40s...' is %zu UTF-16 units long (max %zu)", what, s, units, max);
    return 0;
}

/* ---- value data encoders ----------------------------------------------- */

static int oom(struct err *e)
{
    return fail(e, "out of memory");
}

/* Text to UTF-16LE.  multi: '|' separates items and the list gets a second
 * terminating NUL.  See the header for the escapes. */
static int encode_text(const char *s, bool multi, struct buf *out, struct err *e)
{
    size_t n = strlen(s), i = 0, item_units = 0;
    uint32_t cp;

    if (multi && n == 0)
        return put_utf16(out, 0) == 0 ? 0 : oom(e); /* empty list */
    while (i < n) {
        if (s[i] == '\\' && i + 1 < n) {
            char c = s[i + 1];
            cp = c == 't' ? '\t' : c == 'n' ? '\n' : c == '\\' ? '\\' : c == '|' ? '|' : 0;
            if (cp != 0)
                i += 2;
            else {
                cp = '\\'; /* not an escape: keep it */
                i += 1;
            }
        } else if (multi && s[i] == '|') {
            /* An empty item would end the list early for every reader. */
            if (item_units == 0)
                return fail(e, "empty multi_sz item at byte %zu", i + 1);
            if (put_utf16(out, 0) != 0)
                return oom(e);
            item_units = 0;
            i++;
            continue;
        } else if (utf8_next(s, n, &i, &cp) != 0) {
            return fail(e, "string data is not valid UTF-8 at byte %zu", i + 1);
        }
        if (put_utf16(out, cp) != 0)
            return oom(e);
        item_units++;
    }
    if (multi && item_units == 0)
        return fail(e, "empty multi_sz item at the end (trailing '|')");
    if (put_utf16(out, 0) != 0 || (multi && put_utf16(out, 0) != 0))
        return oom(e);
    return 0;
}

static int enc_sz(const char *s, struct buf *out, struct err *e)
{
    return encode_text(s, false, out, e);
}

static int enc_multi_sz(const char *s, struct buf *out, struct err *e)
{
    return encode_text(s, true, out, e);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* [-]decimal or 0xhex into `bits` two's-complement bits.  Hand-rolled:
 * strtoull accepts blanks and '+', and quietly negates "-1". */
static int parse_int(const char *s, unsigned bits, uint64_t *out)
{
    const uint64_t umax = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
    const uint64_t negmax = (uint64_t)1 << (bits - 1); /* |INTn_MIN| */
    bool neg = false;
    uint64_t v = 0;

    if (*s == '-') {
        neg = true;
        s++;
    }
    if (!neg && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        if (*s == '\0')
            return -1;
        for (; *s; s++) {
            int d = hexval(*s);
            if (d < 0 || v > umax >> 4)
                return -1;
            v = v << 4 | (uint64_t)d;
        }
    } else {
        const uint64_t lim = neg ? negmax : umax;
        if (*s == '\0')
            return -1;
        for (; *s; s++) {
            if (*s < '0' || *s > '9')
                return -1;
            uint64_t d = (uint64_t)(*s - '0');
            if (v > (lim - d) / 10)
                return -1;
            v = v * 10 + d;
        }
    }
    if (neg)
        v = (0 - v) & umax;
    *out = v;
    return 0;
}

static int enc_int(const char *s, unsigned bits, bool big_endian, struct buf *out, struct err *e)
{
    unsigned char b[8];
    unsigned nbytes = bits / 8;
    uint64_t v;

    if (parse_int(s, bits, &v) != 0)
        return fail(e,
                    "bad %u-bit number '%s' (want decimal, -decimal "
                    "or 0xhex, in range)",
                    bits, s);
    for (unsigned i = 0; i < nbytes; i++) {
        unsigned shift = 8 * (big_endian ? nbytes - 1 - i : i);
        b[i] = (unsigned char)(v >> shift);
    }
    return buf_put(out, b, nbytes) == 0 ? 0 : oom(e);
}

static int enc_dword(const char *s, struct buf *out, struct err *e)
{
    return enc_int(s, 32, false, out, e);
}

static int enc_dword_be(const char *s, struct buf *out, struct err *e)
{
    return enc_int(s, 32, true, out, e);
}

static int enc_qword(const char *s, struct buf *out, struct err *e)
{
    return enc_int(s, 64, false, out, e);
}

/* Hex bytes; spaces separate groups, each group an even number of digits. */
static int enc_binary(const char *s, struct buf *out, struct err *e)
{
    size_t i = 0;

    while (s[i]) {
        if (s[i] == ' ') {
            i++;
            continue;
        }
        size_t start = i;
        while (s[i] && s[i] != ' ')
            i++;
        if ((i - start) % 2 != 0)
            return fail(e, "odd number of hex digits in '%.*s'", (int)(i - start), s + start);
        for (size_t k = start; k < i; k += 2) {
            int hi = hexval(s[k]), lo = hexval(s[k + 1]);
            if (hi < 0 || lo < 0)
                return fail(e, "bad hex byte '%.2s'", s + k);
            unsigned char byte = (unsigned char)(hi << 4 | lo);
            if (buf_put(out, &byte, 1) != 0)
                return oom(e);
        }
    }
    return 0;
}

static int enc_blob(const char *s, struct buf *out, struct err *e)
{
    uint64_t n, seed;
    const char *sp = strchr(s, ' ');
    char num[32];

    if (sp == NULL || (size_t)(sp - s) >= sizeof num)
        return fail(e, "blob takes \"N SEED\"");
    memcpy(num, s, (size_t)(sp - s));
    num[sp - s] = '\0';
    if (parse_int(num, 32, &n) != 0 || parse_int(sp + 1, 8, &seed) != 0 || n == 0 ||
        n > BIG_DATA_MAX)
        return fail(e, "blob takes \"N SEED\" (N 1 to %u, SEED 0 to 255)", BIG_DATA_MAX);
    for (uint64_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)((i % 251) ^ seed);
        if (buf_put(out, &b, 1) != 0)
            return oom(e);
    }
    return 0;
}

static int enc_none(const char *s, struct buf *out, struct err *e)
{
    (void)out;
    if (s[0] != '\0')
        return fail(e, "type none takes no data");
    return 0;
}

struct vtype {
    const char *name;
    hive_type type;
    bool needs_data; /* the DATA field must be present (it may be empty) */
    int (*encode)(const char *text, struct buf *out, struct err *e);
};

static const struct vtype vtypes[] = {
    {.name = "sz", .type = hive_t_REG_SZ, .needs_data = true, .encode = enc_sz},
    {.name = "expand_sz", .type = hive_t_REG_EXPAND_SZ, .needs_data = true, .encode = enc_sz},
    {.name = "multi_sz", .type = hive_t_REG_MULTI_SZ, .needs_data = true, .encode = enc_multi_sz},
    {.name = "dword", .type = hive_t_REG_DWORD, .needs_data = true, .encode = enc_dword},
    {.name = "dword_be",
     .type = hive_t_REG_DWORD_BIG_ENDIAN,
     .needs_data = true,
     .encode = enc_dword_be},
    {.name = "qword", .type = hive_t_REG_QWORD, .needs_data = true, .encode = enc_qword},
    {.name = "binary", .type = hive_t_REG_BINARY, .needs_data = true, .encode = enc_binary},
    {.name = "blob", .type = hive_t_REG_BINARY, .needs_data = true, .encode = enc_blob},
    {.name = "none", .type = hive_t_REG_NONE, .needs_data = false, .encode = enc_none},
};

/* ---- time -------------------------------------------------------------- */

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* YYYY-MM-DDTHH:MM:SS[.fffffff]Z to FILETIME (100 ns since 1601 UTC). */
static int parse_time(const char *s, int64_t *ft, struct err *e)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y, mo, d, h, mi, sec, frac = 0;
    size_t n = strlen(s), i = 19;

    if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec))
        goto bad;
    if (s[i] == '.') {
        size_t start = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start || i - start > 7 || digits(s + start, i - start, &frac))
            goto bad;
        for (size_t k = i - start; k < 7; k++)
            frac *= 10;
    }
    if (i != n - 1 || s[i] != 'Z')
        goto bad;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1601 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
        d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 || sec > 59)
        return fail(e,
                    "time '%s' is out of range (years 1601-9999, no "
                    "leap seconds)",
                    s);
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    *ft = (secs + FILETIME_1601_TO_1970_SEC) * FILETIME_PER_SEC + frac;
    return 0;
bad:
    return fail(e, "bad time '%s' (want YYYY-MM-DDTHH:MM:SS[.fffffff]Z)", s);
}

/* ---- the spec tree ----------------------------------------------------- */

struct value {
    char *name; /* UTF-8; "" is the default value */
    hive_type type;
    unsigned char *data; /* owned; NULL when len == 0 */
    size_t len;
};

struct key {
    char *name;        /* UTF-8, as first spelled */
    char *path;        /* "A\B" for messages; "" for the root */
    int64_t lastwrite; /* FILETIME, when has_time */
    bool has_time;
    hive_node_h node;        /* hivex handle (nk cell file offset) once built */
    bool deleted;            /* 'delete': removed after the build, left in free cells */
    bool wiped;              /* 'wipe': deleted, then its nk cell zeroed */
    uint32_t nvalues, vlist; /* its value count and list before the delete */
    struct key **kids;
    size_t nkids, capkids;
    struct value *vals;
    size_t nvals, capvals;
};

static bool any_big(const struct key *k)
{
    for (size_t i = 0; i < k->nvals; i++)
        if (k->vals[i].len > VALUE_DATA_MAX)
            return true;
    for (size_t i = 0; i < k->nkids; i++)
        if (any_big(k->kids[i]))
            return true;
    return false;
}

struct spec {
    const char *file;
    unsigned char hive_name[REGF_NAME_SIZE]; /* UTF-16LE, NUL-padded */
    char root_name[KEY_NAME_MAX + 1];
    int64_t time;
    size_t hive_name_line, root_name_line, time_line; /* 0 = not given */
    struct key *root;
    bool any_deleted;
    bool base_only;  /* stop at 'transaction': the primary file's state */
    bool in_txn;     /* past the 'transaction' line */
    size_t txn_line; /* 0 = no transaction */
    bool old_log;    /* 'log-format old' */
    size_t log_format_line;
};

static void key_free(struct key *k)
{
    if (k == NULL)
        return;
    for (size_t i = 0; i < k->nkids; i++)
        key_free(k->kids[i]);
    for (size_t i = 0; i < k->nvals; i++) {
        free(k->vals[i].name);
        free(k->vals[i].data);
    }
    free(k->kids);
    free(k->vals);
    free(k->name);
    free(k->path);
    free(k);
}

/* ASCII case-insensitive equality of s (n bytes) and NUL-terminated t. */
static bool name_eq(const char *s, size_t n, const char *t)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char a = (unsigned char)s[i], b = (unsigned char)t[i];
        if (b == '\0')
            return false;
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b + 32);
        if (a != b)
            return false;
    }
    return t[n] == '\0';
}

static struct key *key_new(const struct key *parent, const char *name, size_t n)
{
    struct key *k = calloc(1, sizeof *k);
    if (k == NULL)
        return NULL;
    k->name = dup_n(name, n);
    if (parent == NULL || parent->path[0] == '\0') {
        k->path = dup_n(name, n);
    } else {
        size_t plen = strlen(parent->path);
        if (plen < SIZE_MAX - n - 2)
            k->path = malloc(plen + 1 + n + 1);
        if (k->path != NULL) {
            memcpy(k->path, parent->path, plen);
            k->path[plen] = '\\';
            memcpy(k->path + plen + 1, name, n);
            k->path[plen + 1 + n] = '\0';
        }
    }
    if (k->name == NULL || k->path == NULL) {
        key_free(k);
        return NULL;
    }
    return k;
}

/* Finds the key at path under the root, creating missing ones. */
static int key_walk(struct spec *s, const char *path, struct key **out, struct err *e)
{
    struct key *cur = s->root;
    const char *p = path;
    unsigned depth = 0;

    while (*path != '\0') { /* "" is the root itself */
        const char *end = strchr(p, '\\');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        struct key *kid = NULL;

        if (n == 0)
            return fail(e,
                        "empty key name in path '%s' (leading, "
                        "trailing or doubled backslash)",
                        path);
        if (++depth > KEY_DEPTH_MAX)
            return fail(e, "path '%.60s...' is deeper than %u keys", path, KEY_DEPTH_MAX);
        if (check_name(p, n, KEY_NAME_MAX, "key name", e) != 0)
            return -1;
        for (size_t i = 0; i < cur->nkids && kid == NULL; i++)
            if (name_eq(p, n, cur->kids[i]->name))
                kid = cur->kids[i];
        if (kid == NULL) {
            if (grow((void **)&cur->kids, &cur->capkids, cur->nkids + 1, sizeof *cur->kids) != 0)
                return oom(e);
            kid = key_new(cur, p, n);
            if (kid == NULL)
                return oom(e);
            cur->kids[cur->nkids++] = kid;
        }
        cur = kid;
        if (end == NULL)
            break;
        p = end + 1;
    }
    *out = cur;
    return 0;
}

/* Takes ownership of name and data (on success and failure alike). */
static int key_set_value(struct key *k, char *name, hive_type type, unsigned char *data, size_t len,
                         struct err *e)
{
    for (size_t i = 0; i < k->nvals; i++) {
        struct value *v = &k->vals[i];
        if (name_eq(name, strlen(name), v->name)) {
            free(name); /* keep the first spelling and position */
            free(v->data);
            v->type = type;
            v->data = data;
            v->len = len;
            return 0;
        }
    }
    if (grow((void **)&k->vals, &k->capvals, k->nvals + 1, sizeof *k->vals) != 0) {
        free(name);
        free(data);
        return oom(e);
    }
    k->vals[k->nvals++] = (struct value){.name = name, .type = type, .data = data, .len = len};
    return 0;
}

/* ---- directives -------------------------------------------------------- */

static int once(size_t *seen, size_t line, const char *what, struct err *e)
{
    if (*seen != 0)
        return fail(e, "'%s' given twice (first on line %zu)", what, *seen);
    *seen = line;
    return 0;
}

static int do_hive_name(struct spec *s, char **f, size_t nf, size_t line, struct err *e)
{
    struct buf u16 = {0};
    size_t n = strlen(f[1]), i = 0, units, keep, from;
    uint32_t cp;
    int rc = -1;

    (void)nf;
    if (once(&s->hive_name_line, line, "hive-name", e) != 0)
        goto out;
    while (i < n) {
        if (utf8_next(f[1], n, &i, &cp) != 0) {
            fail(e, "hive-name is not valid UTF-8");
            goto out;
        }
        if (put_utf16(&u16, cp) != 0) {
            oom(e);
            goto out;
        }
    }
    /* Windows keeps the path's last 31 UTF-16 units and a NUL (seen in
     * hives it wrote: "nts and Settings\joe\ntuser.dat"). */
    units = u16.len / 2;
    keep = units < REGF_NAME_SIZE / 2 - 1 ? units : REGF_NAME_SIZE / 2 - 1;
    from = units - keep;
    if (keep > 0 && (rd16(u16.p + 2 * from) & 0xFC00u) == 0xDC00u) {
        from++; /* do not start on the low half of a surrogate pair */
        keep--;
    }
    memset(s->hive_name, 0, sizeof s->hive_name);
    if (keep > 0)
        memcpy(s->hive_name, u16.p + 2 * from, 2 * keep);
    rc = 0;
out:
    buf_release(&u16);
    return rc;
}

static int do_root_name(struct spec *s, char **f, size_t nf, size_t line, struct err *e)
{
    size_t n = strlen(f[1]);

    (void)nf;
    if (once(&s->root_name_line, line, "root-name", e) != 0)
        return -1;
    /* Printable ASCII keeps the root nk in the one-byte (compressed)
     * name form and small enough for the first hbin. */
    if (n == 0 || n > KEY_NAME_MAX)
        return fail(e, "root-name must be 1 to %u characters", KEY_NAME_MAX);
    for (size_t i = 0; i < n; i++)
        if (f[1][i] < 0x20 || f[1][i] > 0x7E || f[1][i] == '\\')
            return fail(e, "root-name must be printable ASCII "
                           "without '\\'");
    memcpy(s->root_name, f[1], n + 1);
    return 0;
}

static int do_time(struct spec *s, char **f, size_t nf, size_t line, struct err *e)
{
    (void)nf;
    if (once(&s->time_line, line, "time", e) != 0)
        return -1;
    return parse_time(f[1], &s->time, e);
}

static int do_key(struct spec *s, char **f, size_t nf, size_t line, struct err *e)
{
    struct key *k;
    int64_t ft = 0;

    (void)line;
    if (f[1][0] == '\0')
        return fail(e, "key path is empty (the root's time is set by "
                       "'time')");
    if (nf == 3 && parse_time(f[2], &ft, e) != 0)
        return -1;
    if (key_walk(s, f[1], &k, e) != 0)
        return -1;
    if (nf == 3) {
        k->lastwrite = ft; /* a later line for the same key wins */
        k->has_time = true;
    }
    return 0;
}

static int do_transaction(struct spec *s, char **f, size_t nf, size_t line, struct err *e)
{
    (void)f;
    (void)nf;
    if (once(&s->txn_line, line, "transaction", e) != 0)
        return -1;
    s->in_txn = true;
    return 0;
}

static int do_log_format(struct spec *s, char **f, size_t nf, size_t line, struct err *e)
{
    (void)nf;
    if (s->in_txn)
        return fail(e, "'log-format' must come before 'transaction'");
    if (once(&s->log_format_line, line, "log-format", e) != 0)
        return -1;
    if (strcmp(f[1], "new") != 0 && strcmp(f[1], "old") != 0)
        return fail(e, "log-format is 'new' (HvLE entries) or 'old' (DIRT vector)");
    s->old_log = strcmp(f[1], "old") == 0;
    return 0;
}

static int do_delete(struct spec *s, char **f, size_t nf, size_t line, struct err *e)
{
    struct key *k;

    (void)nf;
    (void)line;
    if (f[1][0] == '\0')
        return fail(e, "the root key cannot be deleted");
    if (key_walk(s, f[1], &k, e) != 0)
        return -1;
    k->deleted = true;
    k->wiped = strcmp(f[0], "wipe") == 0;
    s->any_deleted = true;
    return 0;
}

static int do_value(struct spec *s, char **f, size_t nf, size_t line, struct err *e)
{
    const struct vtype *vt = NULL;
    struct buf data = {0};
    struct key *k;
    char *name = NULL;
    const char *vname = strcmp(f[2], "@") == 0 ? "" : f[2];
    int rc = -1;

    (void)line;
    for (size_t i = 0; i < sizeof vtypes / sizeof vtypes[0]; i++)
        if (strcmp(f[3], vtypes[i].name) == 0)
            vt = &vtypes[i];
    if (vt == NULL) {
        fail(e,
             "unknown value type '%s' (sz, expand_sz, multi_sz, "
             "dword, dword_be, qword, binary, none)",
             f[3]);
        goto out;
    }
    if (vt->needs_data && nf < 5) {
        fail(e, "value of type %s needs a DATA field", vt->name);
        goto out;
    }
    if (f[2][0] == '\0') {
        fail(e, "value name is empty (use '@' for the default value)");
        goto out;
    }
    if (check_name(vname, strlen(vname), VALUE_NAME_MAX, "value name", e) != 0)
        goto out;
    if (vt->encode(nf == 5 ? f[4] : "", &data, e) != 0) {
        prefix(e, "value '%s'", f[2]);
        goto out;
    }
    if (data.len > BIG_DATA_MAX) {
        fail(e, "value '%s' has %zu bytes of data (max %u)", f[2], data.len, BIG_DATA_MAX);
        goto out;
    }
    if (key_walk(s, f[1], &k, e) != 0)
        goto out;
    name = dup_n(vname, strlen(vname));
    if (name == NULL) {
        oom(e);
        goto out;
    }
    rc = key_set_value(k, name, vt->type, data.p, data.len, e);
    data.p = NULL; /* ownership passed */
out:
    buf_release(&data);
    return rc;
}

struct directive {
    const char *name;
    size_t min_fields, max_fields; /* counting the directive itself */
    const char *shape;
    int (*apply)(struct spec *s, char **f, size_t nf, size_t line, struct err *e);
};

static const struct directive directives[] = {
    {.name = "hive-name",
     .min_fields = 2,
     .max_fields = 2,
     .shape = "hive-name<TAB>NAME",
     .apply = do_hive_name},
    {.name = "root-name",
     .min_fields = 2,
     .max_fields = 2,
     .shape = "root-name<TAB>NAME",
     .apply = do_root_name},
    {.name = "time", .min_fields = 2, .max_fields = 2, .shape = "time<TAB>TIME", .apply = do_time},
    {.name = "key",
     .min_fields = 2,
     .max_fields = 3,
     .shape = "key<TAB>PATH[<TAB>TIME]",
     .apply = do_key},
    {.name = "transaction",
     .min_fields = 1,
     .max_fields = 1,
     .shape = "transaction",
     .apply = do_transaction},
    {.name = "log-format",
     .min_fields = 2,
     .max_fields = 2,
     .shape = "log-format<TAB>new|old",
     .apply = do_log_format},
    {.name = "delete",
     .min_fields = 2,
     .max_fields = 2,
     .shape = "delete<TAB>PATH",
     .apply = do_delete},
    {.name = "wipe",
     .min_fields = 2,
     .max_fields = 2,
     .shape = "wipe<TAB>PATH",
     .apply = do_delete},
    {.name = "value",
     .min_fields = 4,
     .max_fields = 5,
     .shape = "value<TAB>PATH<TAB>NAME<TAB>TYPE[<TAB>DATA]",
     .apply = do_value},
};

#define MAX_FIELDS 5u

/* Parses one line (no newline; modified in place). */
static int parse_line(struct spec *s, char *line, size_t lineno, struct err *e)
{
    char *f[MAX_FIELDS];
    size_t nf = 0;
    const struct directive *d = NULL;
    char *p = line;

    for (const char *q = line; *q == ' ' || *q == '\t'; q++)
        if (q[1] == '\0' || q[1] == '#')
            return 0; /* blank, or an indented comment */
    if (line[0] == '\0' || line[0] == '#')
        return 0;
    for (;;) {
        char *tab = strchr(p, '\t');
        if (nf == MAX_FIELDS)
            return fail(e, "too many TAB-separated fields (a TAB "
                           "inside data is written \\t)");
        f[nf++] = p;
        if (tab == NULL)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    for (size_t i = 0; i < sizeof directives / sizeof directives[0]; i++)
        if (strcmp(f[0], directives[i].name) == 0)
            d = &directives[i];
    if (d == NULL) {
        if (strchr(f[0], ' ') != NULL)
            return fail(e,
                        "unknown directive '%.40s' (fields are "
                        "separated by one TAB, not spaces)",
                        f[0]);
        return fail(e, "unknown directive '%.40s'", f[0]);
    }
    if (nf < d->min_fields || nf > d->max_fields)
        return fail(e, "'%s' takes %s, got %zu fields", d->name, d->shape, nf);
    if (s->base_only && s->in_txn)
        return 0; /* the primary file's state ends at 'transaction' */
    return d->apply(s, f, nf, lineno, e);
}

static int parse_spec(struct spec *s, struct err *e)
{
    FILE *fp = NULL;
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    int rc = -1;

    fp = fopen(s->file, "rb");
    if (fp == NULL) {
        fail(e, "kt-mkhive: cannot open spec '%s': %s", s->file, strerror(errno));
        goto out;
    }
    while ((n = getline(&line, &cap, fp)) != -1) {
        size_t len = (size_t)n;
        char *text = line;

        lineno++;
        if (memchr(line, '\0', len) != NULL) {
            fail(e, "%s:%zu: NUL byte in line", s->file, lineno);
            goto out;
        }
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        if (lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0)
            text += 3;
        if (parse_line(s, text, lineno, e) != 0) {
            prefix(e, "%s:%zu", s->file, lineno);
            goto out;
        }
    }
    if (ferror(fp)) {
        fail(e, "kt-mkhive: cannot read spec '%s': %s", s->file, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(line);
    if (fp != NULL)
        fclose(fp);
    return rc;
}

/* ---- the empty hive ---------------------------------------------------- */

/* Base block + one hbin: root nk, its sk, then one free cell. */
static void build_empty_hive(const struct spec *s, unsigned char img[EMPTY_HIVE_SIZE])
{
    const size_t name_len = strlen(s->root_name);
    const size_t nk_size = round8(NK_NAME + name_len);
    const size_t sk_cell = ROOT_CELL + nk_size;
    const size_t sk_size = round8(SK_SD + sizeof root_sd);
    const size_t free_cell = sk_cell + sk_size;
    unsigned char *base = img, *bin = img + REGF_SIZE;
    unsigned char *nk = bin + ROOT_CELL, *sk = bin + sk_cell;

    memset(img, 0, EMPTY_HIVE_SIZE);

    memcpy(base, "regf", 4);
    wr32(base + REGF_SEQ1, 1);
    wr32(base + REGF_SEQ2, 1);
    wr64(base + REGF_TIME, (uint64_t)s->time);
    wr32(base + REGF_MAJOR, 1);
    wr32(base + REGF_MINOR, 5); /* Windows 10 writes 1.5 */
    wr32(base + REGF_TYPE, 0);
    wr32(base + REGF_FORMAT, 1);
    wr32(base + REGF_ROOT, ROOT_CELL);
    wr32(base + REGF_BINS_SIZE, HBIN_SIZE);
    wr32(base + REGF_CLUSTER, 1);
    memcpy(base + REGF_NAME, s->hive_name, REGF_NAME_SIZE);
    wr32(base + REGF_CSUM, regf_checksum(base));

    memcpy(bin, "hbin", 4);
    wr32(bin + HBIN_OFFSET, 0);
    wr32(bin + HBIN_BIN_SIZE, HBIN_SIZE);
    wr64(bin + HBIN_TIME, (uint64_t)s->time);

    /* Allocated cells carry their size negated. */
    wr32(nk, (uint32_t) - (int32_t)nk_size);
    memcpy(nk + NK_SIG, "nk", 2);
    wr16(nk + NK_FLAGS, KEY_HIVE_ENTRY | KEY_NO_DELETE | KEY_COMP_NAME);
    wr64(nk + NK_LASTWRITE, (uint64_t)s->time);
    wr32(nk + NK_ACCESS, 0);
    /* Windows stores a master-hive cell index here (0x278, 0x638, 0x7c0...
     * in real hives), meaningless inside the file; HCELL_NIL says so. */
    wr32(nk + NK_PARENT, HCELL_NIL);
    wr32(nk + NK_NSUBKEYS, 0);
    wr32(nk + NK_NVSUBKEYS, 0);
    wr32(nk + NK_SUBKEYS, HCELL_NIL);
    wr32(nk + NK_VSUBKEYS, HCELL_NIL);
    wr32(nk + NK_NVALUES, 0);
    wr32(nk + NK_VALUES, HCELL_NIL);
    wr32(nk + NK_SK, (uint32_t)sk_cell);
    wr32(nk + NK_CLASS, HCELL_NIL);
    wr16(nk + NK_NAME_LEN, (uint16_t)name_len);
    wr16(nk + NK_CLASS_LEN, 0);
    memcpy(nk + NK_NAME, s->root_name, name_len);

    /* The only sk: its list links point to itself; hivex bumps the
     * refcount for every key it adds. */
    wr32(sk, (uint32_t) - (int32_t)sk_size);
    memcpy(sk + SK_SIG, "sk", 2);
    wr32(sk + SK_FLINK, (uint32_t)sk_cell);
    wr32(sk + SK_BLINK, (uint32_t)sk_cell);
    wr32(sk + SK_REFCOUNT, 1);
    wr32(sk + SK_SD_SIZE, (uint32_t)sizeof root_sd);
    memcpy(sk + SK_SD, root_sd, sizeof root_sd);

    wr32(bin + free_cell, (uint32_t)(HBIN_SIZE - free_cell));
}

static int write_all(int fd, const unsigned char *p, size_t n, off_t at)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, at);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
        at += w;
    }
    return 0;
}

static int read_all(int fd, unsigned char *p, size_t n)
{
    off_t at = 0;

    while (n > 0) {
        ssize_t r = pread(fd, p, n, at);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO; /* file shrank under us */
            return -1;
        }
        p += r;
        n -= (size_t)r;
        at += r;
    }
    return 0;
}

static char *concat(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *s;

    if (na > SIZE_MAX - nb - 1)
        return NULL;
    s = malloc(na + nb + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, a, na);
    memcpy(s + na, b, nb + 1);
    return s;
}

/* Opens the empty hive writable with hivex.  It goes through a memfd seen
 * as /proc/self/fd/N; where that is impossible (no memfd, no /proc), through
 * a file beside OUT that is unlinked as soon as hivex has read it. */
static hive_h *open_template(const struct spec *s, const char *out, struct err *e)
{
    unsigned char img[EMPTY_HIVE_SIZE];
    char path[64];
    char *tmpl = NULL;
    hive_h *h = NULL;
    int fd;

    build_empty_hive(s, img);
    fd = memfd_create("kt-mkhive", MFD_CLOEXEC);
    if (fd >= 0) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        if (write_all(fd, img, sizeof img, 0) == 0)
            h = hivex_open(path, HIVEX_OPEN_WRITE);
        close(fd);
        fd = -1;
        if (h != NULL)
            goto out;
    }
    tmpl = concat(out, ".empty.XXXXXX");
    if (tmpl == NULL) {
        oom(e);
        goto out;
    }
    fd = mkstemp(tmpl);
    if (fd < 0) {
        fail(e, "cannot create '%s': %s", tmpl, strerror(errno));
        goto out;
    }
    if (write_all(fd, img, sizeof img, 0) != 0) {
        fail(e, "cannot write '%s': %s", tmpl, strerror(errno));
        goto out;
    }
    h = hivex_open(tmpl, HIVEX_OPEN_WRITE);
    if (h == NULL)
        fail(e, "hivex refused the empty hive: %s", strerror(errno));
out:
    if (fd >= 0) {
        close(fd);
        if (tmpl != NULL)
            unlink(tmpl);
    }
    free(tmpl);
    return h;
}

/* ---- adding keys and values -------------------------------------------- */

static int add_values(hive_h *h, const struct key *k, struct err *e)
{
    static char empty[1];       /* hivex memcpy()s from .value even for len 0 */
    static char placeholder[8]; /* big data: written by write_big */
    hive_set_value *sv = NULL;
    int rc = -1;

    if (k->nvals == 0)
        return 0;
    sv = calloc(k->nvals, sizeof *sv);
    if (sv == NULL) {
        oom(e);
        goto out;
    }
    for (size_t i = 0; i < k->nvals; i++) {
        const struct value *v = &k->vals[i];
        sv[i].key = v->name;
        sv[i].t = v->type;
        sv[i].len = v->len > VALUE_DATA_MAX ? sizeof placeholder : v->len;
        sv[i].value = v->len > VALUE_DATA_MAX ? placeholder : v->len ? (char *)v->data : empty;
    }
    /* One call per key: hivex_node_set_value rewrites the whole value list
     * each time, leaving a freed copy behind for every value. */
    if (hivex_node_set_values(h, k->node, k->nvals, sv, 0) != 0) {
        fail(e, "hivex cannot set values of key '%s': %s", k->path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(sv);
    return rc;
}

/* Pre-order, in spec order, so the cell layout follows the spec. */
static int add_tree(hive_h *h, struct key *k, struct err *e)
{
    if (add_values(h, k, e) != 0)
        return -1;
    for (size_t i = 0; i < k->nkids; i++) {
        struct key *kid = k->kids[i];
        kid->node = hivex_node_add_child(h, k->node, kid->name);
        if (kid->node == 0)
            return fail(e, "hivex cannot add key '%s': %s", kid->path, strerror(errno));
        if (add_tree(h, kid, e) != 0)
            return -1;
    }
    return 0;
}

/* ---- big data ---------------------------------------------------------- */

#define DB_SEGMENT 16344u

static int cell_put(struct buf *b, const unsigned char *rec, size_t n)
{
    unsigned char size[4];
    size_t total = round8(4 + n);
    static const unsigned char zero[8];

    wr32(size, (uint32_t) - (int32_t)total);
    if (buf_put(b, size, 4) != 0 || buf_put(b, rec, n) != 0 || buf_put(b, zero, total - 4 - n) != 0)
        return -1;
    return 0;
}

/* The big values of key k (given to hivex with a placeholder): each gets a
 * "db" record, its segment list and its segments in the new hbin `bin`
 * (whose first cell is at hive offset at), and its placeholder cell is
 * freed and zeroed. */
static int big_values(unsigned char *img, size_t size, const struct key *k, uint32_t at,
                      struct buf *bin, struct err *e)
{
    size_t off = k->node;
    uint32_t nvals = rd32(img + off + NK_NVALUES), vlist = rd32(img + off + NK_VALUES);

    for (size_t i = 0; i < k->nvals && !k->deleted; i++) {
        const struct value *v = &k->vals[i];
        if (v->len <= VALUE_DATA_MAX)
            continue;
        size_t list = REGF_SIZE + (size_t)vlist, vk, data;
        if (nvals != k->nvals || list + 8 + 4 * i > size)
            return fail(e, "key '%s': value list not as written", k->path);
        vk = REGF_SIZE + (size_t)rd32(img + list + 4 + 4 * i);
        if (vk + 0x18 > size || memcmp(img + vk + 4, "vk", 2) != 0)
            return fail(e, "key '%s': value %zu is not a vk cell", k->path, i);
        data = REGF_SIZE + (size_t)rd32(img + vk + 12);
        if (data + 8 > size || (int32_t)rd32(img + data) >= 0)
            return fail(e, "key '%s': placeholder of '%s' not found", k->path, v->name);
        uint32_t cell = (uint32_t) - (int32_t)rd32(img + data);
        if (cell > size - data)
            return fail(e, "key '%s': bad placeholder cell", k->path);
        wr32(img + data, cell); /* freed */
        memset(img + data + 4, 0, cell - 4);
        size_t nseg = (v->len + DB_SEGMENT - 1) / DB_SEGMENT;
        uint32_t db = at + (uint32_t)bin->len;
        uint32_t listoff = db + 16;
        uint32_t seg = listoff + (uint32_t)round8(4 + 4 * nseg);
        unsigned char rec[8], *ls = malloc(4 * nseg);
        if (ls == NULL)
            return oom(e);
        memcpy(rec, "db", 2);
        wr16(rec + 2, (uint16_t)nseg);
        wr32(rec + 4, listoff);
        for (size_t j = 0; j < nseg; j++) {
            wr32(ls + 4 * j, seg);
            size_t n = j + 1 < nseg ? DB_SEGMENT : v->len - j * DB_SEGMENT;
            seg += (uint32_t)round8(4 + n);
        }
        int rc = cell_put(bin, rec, sizeof rec) != 0 || cell_put(bin, ls, 4 * nseg) != 0;
        free(ls);
        for (size_t j = 0; j < nseg && rc == 0; j++) {
            size_t n = j + 1 < nseg ? DB_SEGMENT : v->len - j * DB_SEGMENT;
            rc = cell_put(bin, v->data + j * DB_SEGMENT, n);
        }
        if (rc != 0)
            return oom(e);
        wr32(img + vk + 8, (uint32_t)v->len);
        wr32(img + vk + 12, db);
    }
    for (size_t i = 0; i < k->nkids; i++)
        if (big_values(img, size, k->kids[i], at, bin, e) != 0)
            return -1;
    return 0;
}

/* Data over 16344 bytes as Windows stores it: one hbin appended to the
 * committed file holds every big value's db record, list and segments. */
static int write_big(const char *path, const struct spec *s, struct err *e)
{
    unsigned char *img = NULL;
    struct buf bin = {0};
    struct stat st;
    int fd, rc = -1;

    if (!any_big(s->root))
        return 0;
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < (off_t)EMPTY_HIVE_SIZE ||
        st.st_size > (off_t)HIVE_FILE_MAX || st.st_size % HBIN_SIZE != 0) {
        fail(e, "cannot read '%s'", path);
        goto out;
    }
    size_t size = (size_t)st.st_size;
    img = malloc(size);
    if (img == NULL) {
        oom(e);
        goto out;
    }
    if (read_all(fd, img, size) != 0) {
        fail(e, "cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    uint32_t at = (uint32_t)(size - REGF_SIZE + HBIN_HDR);
    if (big_values(img, size, s->root, at, &bin, e) != 0)
        goto out;
    size_t hsize = (HBIN_HDR + bin.len + HBIN_SIZE - 1) / HBIN_SIZE * HBIN_SIZE;
    unsigned char *hb = calloc(1, hsize);
    if (hb == NULL) {
        oom(e);
        goto out;
    }
    memcpy(hb, "hbin", 4);
    wr32(hb + HBIN_OFFSET, (uint32_t)(size - REGF_SIZE));
    wr32(hb + HBIN_BIN_SIZE, (uint32_t)hsize);
    memcpy(hb + HBIN_HDR, bin.p, bin.len);
    if (hsize > HBIN_HDR + bin.len) /* the rest: one free cell */
        wr32(hb + HBIN_HDR + bin.len, (uint32_t)(hsize - HBIN_HDR - bin.len));
    wr32(img + REGF_BINS_SIZE, (uint32_t)(size - REGF_SIZE + hsize));
    if (write_all(fd, img, size, 0) != 0 || write_all(fd, hb, hsize, (off_t)size) != 0 ||
        fsync(fd) != 0)
        fail(e, "cannot write '%s': %s", path, strerror(errno));
    else
        rc = 0;
    free(hb);
out:
    if (fd >= 0)
        close(fd);
    free(img);
    buf_release(&bin);
    return rc;
}

/* A deleted key's big values: hivex frees the db record only; Windows
 * frees its segment list and segments too. */
static int free_big(unsigned char *img, size_t size, size_t nk, struct err *e)
{
    uint32_t nvals = rd32(img + nk + NK_NVALUES);
    size_t list = REGF_SIZE + (size_t)rd32(img + nk + NK_VALUES);

    for (uint32_t i = 0; nvals != 0 && nvals != HCELL_NIL && i < nvals; i++) {
        if (list + 8 + 4 * (size_t)i > size)
            return fail(e, "deleted key at 0x%zx: bad value list", nk);
        size_t vk = REGF_SIZE + (size_t)rd32(img + list + 4 + 4 * i);
        if (vk + 0x18 > size || rd32(img + vk + 8) <= VALUE_DATA_MAX ||
            (rd32(img + vk + 8) & 0x80000000u))
            continue;
        size_t db = REGF_SIZE + (size_t)rd32(img + vk + 12);
        if (db + 12 > size || memcmp(img + db + 4, "db", 2) != 0)
            return fail(e, "deleted key at 0x%zx: no db record", nk);
        size_t nseg = rd16(img + db + 6), sl = REGF_SIZE + (size_t)rd32(img + db + 8);
        if (sl + 4 + 4 * nseg > size)
            return fail(e, "deleted key at 0x%zx: bad segment list", nk);
        for (size_t j = 0; j <= nseg; j++) {
            size_t c = j == nseg ? sl : REGF_SIZE + (size_t)rd32(img + sl + 4 + 4 * j);
            if (c + 4 > size)
                return fail(e, "deleted key at 0x%zx: bad segment", nk);
            int32_t cs = (int32_t)rd32(img + c);
            if (cs < 0)
                wr32(img + c, (uint32_t)-cs);
        }
    }
    return 0;
}

/* ---- LastWrite patching and read-back ---------------------------------- */

static int64_t key_time(const struct spec *s, const struct key *k)
{
    return k != s->root && k->has_time ? k->lastwrite : s->time;
}

/* hivex zeroes the value count and list of a key it deletes; Windows
 * leaves them in the freed nk cell, so they are written back (with the
 * LastWrite) to make the free cells look like a Windows hive's. */
static int restore_deleted(unsigned char *img, size_t size, const struct key *k, struct err *e)
{
    size_t off = k->node;

    if (off < REGF_SIZE + HBIN_HDR || off > size - NK_NAME || (int32_t)rd32(img + off) <= 0 ||
        memcmp(img + off + NK_SIG, "nk", 2) != 0)
        return fail(e, "deleted key '%s': 0x%zx is not a free nk cell", k->path, off);
    wr32(img + off + NK_NVALUES, k->nvalues);
    wr32(img + off + NK_VALUES, k->vlist);
    if (free_big(img, size, off, e) != 0)
        return -1;
    if (k->wiped) {
        uint32_t cell = rd32(img + off);
        if (cell > size - off)
            return fail(e, "wiped key '%s': bad cell size", k->path);
        memset(img + off + 4, 0, cell - 4);
    }
    for (size_t i = 0; i < k->nkids; i++)
        if (restore_deleted(img, size, k->kids[i], e) != 0)
            return -1;
    return 0;
}

static int patch_key(unsigned char *img, size_t size, const struct spec *s, struct key *k,
                     bool live_only, struct err *e)
{
    size_t off = k->node;

    if (live_only && k->deleted)
        return restore_deleted(img, size, k, e);

    if (off < REGF_SIZE + HBIN_HDR || off > size - NK_NAME || (int32_t)rd32(img + off) >= 0 ||
        memcmp(img + off + NK_SIG, "nk", 2) != 0)
        return fail(e,
                    "key '%s': hivex handle 0x%zx is not an allocated "
                    "nk cell in the committed file",
                    k->path, off);
    wr64(img + off + NK_LASTWRITE, (uint64_t)key_time(s, k));
    if (!live_only) {
        k->nvalues = rd32(img + off + NK_NVALUES);
        k->vlist = rd32(img + off + NK_VALUES);
    }
    for (size_t i = 0; i < k->nkids; i++)
        if (patch_key(img, size, s, k->kids[i], live_only, e) != 0)
            return -1;
    return 0;
}

/* hivex_commit writes its buffer as is, so node handles are file offsets
 * in the output too; patch_key checks that before writing. */
static int patch_times(const char *path, const struct spec *s, bool live_only, struct err *e)
{
    unsigned char *img = NULL;
    struct stat st;
    size_t size;
    int fd, rc = -1;

    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fail(e, "cannot open '%s': %s", path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        fail(e, "cannot stat '%s': %s", path, strerror(errno));
        goto out;
    }
    if (st.st_size < (off_t)EMPTY_HIVE_SIZE || st.st_size > (off_t)HIVE_FILE_MAX ||
        st.st_size % HBIN_SIZE != 0) {
        fail(e, "'%s' has unexpected size %jd after commit", path, (intmax_t)st.st_size);
        goto out;
    }
    size = (size_t)st.st_size;
    img = malloc(size);
    if (img == NULL) {
        oom(e);
        goto out;
    }
    if (read_all(fd, img, size) != 0) {
        fail(e, "cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    if (patch_key(img, size, s, s->root, live_only, e) != 0)
        goto out;
    wr64(img + REGF_TIME, (uint64_t)s->time);
    wr64(img + REGF_SIZE + HBIN_TIME, (uint64_t)s->time);
    wr32(img + REGF_CSUM, regf_checksum(img));
    if (write_all(fd, img, REGF_SIZE, 0) != 0 ||
        write_all(fd, img + REGF_SIZE, size - REGF_SIZE, REGF_SIZE) != 0 || fsync(fd) != 0) {
        fail(e, "cannot write '%s': %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = fail(e, "cannot close '%s': %s", path, strerror(errno));
    free(img);
    return rc;
}

static int verify_key(hive_h *h, const struct spec *s, const struct key *k, struct err *e)
{
    const char *want = k == s->root ? s->root_name : k->name;
    int64_t t = hivex_node_timestamp(h, k->node);
    char *name = hivex_node_name(h, k->node);
    int rc = -1;

    if (name == NULL || strcmp(name, want) != 0) {
        fail(e, "read-back: key '%s' is named '%s'", k->path, name ? name : "(unreadable)");
        goto out;
    }
    if (t != key_time(s, k)) {
        fail(e, "read-back: key '%s' LastWrite %" PRId64 ", want %" PRId64, k->path, t,
             key_time(s, k));
        goto out;
    }
    size_t live = 0;
    for (size_t i = 0; i < k->nkids; i++)
        live += !k->kids[i]->deleted;
    if (hivex_node_nr_children(h, k->node) != live ||
        hivex_node_nr_values(h, k->node) != k->nvals) {
        fail(e, "read-back: key '%s' has wrong subkey or value count", k->path);
        goto out;
    }
    for (size_t i = 0; i < k->nvals; i++) {
        const struct value *v = &k->vals[i];
        hive_type vt;
        size_t len = 0;
        hive_value_h vh = v->len > VALUE_DATA_MAX ? hivex_node_get_value(h, k->node, v->name) : 0;
        char *d = vh ? hivex_value_value(h, vh, &vt, &len) : NULL;
        bool same = d != NULL && len == v->len && memcmp(d, v->data, len) == 0;
        free(d);
        if (v->len > VALUE_DATA_MAX && !same) {
            fail(e, "read-back: big value '%s' of key '%s' differs", v->name, k->path);
            goto out;
        }
    }
    for (size_t i = 0; i < k->nkids; i++)
        if (!k->kids[i]->deleted && verify_key(h, s, k->kids[i], e) != 0)
            goto out;
    rc = 0;
out:
    free(name);
    return rc;
}

static int verify(const char *path, const struct spec *s, struct err *e)
{
    hive_h *h = hivex_open(path, 0);
    int rc = -1;

    if (h == NULL) {
        fail(e, "hivex cannot re-open the result: %s", strerror(errno));
        goto out;
    }
    if (hivex_last_modified(h) != s->time) {
        fail(e, "read-back: base block time differs");
        goto out;
    }
    rc = verify_key(h, s, s->root, e);
out:
    if (h != NULL)
        hivex_close(h);
    return rc;
}

static int delete_tree(hive_h *h, const struct key *k, struct err *e)
{
    for (size_t i = 0; i < k->nkids; i++) {
        const struct key *kid = k->kids[i];
        if (kid->deleted) {
            if (hivex_node_delete_child(h, kid->node) != 0)
                return fail(e, "hivex cannot delete key '%s': %s", kid->path, strerror(errno));
        } else if (delete_tree(h, kid, e) != 0) {
            return -1;
        }
    }
    return 0;
}

/* 'delete': the keys (with their subkeys and values) were built and dated
 * like the others; hivex now unlinks them, which marks their cells free
 * without wiping them (as Windows does), and the live keys are dated
 * again. */
static int delete_keys(const struct spec *s, const char *tmp, struct err *e)
{
    hive_h *h;
    int rc = -1;

    if (!s->any_deleted)
        return 0;
    h = hivex_open(tmp, HIVEX_OPEN_WRITE);
    if (h == NULL)
        return fail(e, "hivex cannot re-open '%s': %s", tmp, strerror(errno));
    if (delete_tree(h, s->root, e) != 0)
        goto out;
    if (hivex_commit(h, tmp, 0) != 0) {
        fail(e, "hivex cannot write '%s': %s", tmp, strerror(errno));
        goto out;
    }
    rc = patch_times(tmp, s, true, e);
out:
    hivex_close(h);
    return rc;
}

/* Builds the hive into tmp. */
static int build(struct spec *s, const char *out, const char *tmp, struct err *e)
{
    hive_h *h = open_template(s, out, e);
    int rc = -1;

    if (h == NULL)
        goto out;
    s->root->node = hivex_root(h);
    if (s->root->node == 0) {
        fail(e, "hivex found no root key: %s", strerror(errno));
        goto out;
    }
    if (add_tree(h, s->root, e) != 0)
        goto out;
    if (hivex_commit(h, tmp, 0) != 0) {
        fail(e, "hivex cannot write '%s': %s", tmp, strerror(errno));
        goto out;
    }
    if (write_big(tmp, s, e) != 0 || patch_times(tmp, s, false, e) != 0 ||
        delete_keys(s, tmp, e) != 0 || verify(tmp, s, e) != 0)
        goto out;
    rc = 0;
out:
    if (h != NULL)
        hivex_close(h);
    return rc;
}

/* ---- transaction logs ------------------------------------------------- */

#define SECTOR 512u
#define MARVIN_SEED UINT64_C(0x82EF4D887A4E55C5)

static uint32_t rotl32(uint32_t v, int n)
{
    return v << n | v >> (32 - n);
}

/* Marvin32 as the .NET runtime defines it (checked there against its test
 * vectors); hive log entries are hashed with MARVIN_SEED. */
static void marvin_round(uint32_t *lo, uint32_t *hi)
{
    *hi ^= *lo;
    *lo = rotl32(*lo, 20);
    *lo += *hi;
    *hi = rotl32(*hi, 9);
    *hi ^= *lo;
    *lo = rotl32(*lo, 27);
    *lo += *hi;
    *hi = rotl32(*hi, 19);
}

static uint64_t marvin32(const unsigned char *d, size_t len, uint64_t seed)
{
    uint32_t lo = (uint32_t)seed, hi = (uint32_t)(seed >> 32), tail = 0x80;
    size_t i = 0;

    for (; i + 4 <= len; i += 4) {
        lo += rd32(d + i);
        marvin_round(&lo, &hi);
    }
    for (size_t k = len - i; k-- > 0;) /* the last 0-3 bytes, then 0x80 */
        tail = tail << 8 | d[i + k];
    lo += tail;
    marvin_round(&lo, &hi);
    marvin_round(&lo, &hi);
    return (uint64_t)hi << 32 | lo;
}

static int slurp(const char *path, unsigned char **out, size_t *len, struct err *e)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = -1;

    *out = NULL;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0 || st.st_size > (off_t)HIVE_FILE_MAX) {
        fail(e, "cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    *len = (size_t)st.st_size;
    *out = malloc(*len);
    if (*out == NULL) {
        oom(e);
        goto out;
    }
    if (read_all(fd, *out, *len) != 0) {
        fail(e, "cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc != 0) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

static int spill(const char *path, const unsigned char *p, size_t n, struct err *e)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = 0;

    if (fd < 0 || write_all(fd, p, n, 0) != 0)
        rc = fail(e, "cannot write '%s': %s", path, strerror(errno));
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = fail(e, "cannot close '%s': %s", path, strerror(errno));
    return rc;
}

/* The log's first sector: the primary's base block as a log's (type 1 old,
 * 6 new), sequence numbers seq, its checksum. */
static void log_base(unsigned char *dst, const unsigned char *primary, uint32_t type, uint32_t seq,
                     uint32_t bins)
{
    memcpy(dst, primary, SECTOR);
    wr32(dst + REGF_SEQ1, seq);
    wr32(dst + REGF_SEQ2, seq);
    wr32(dst + REGF_TYPE, type);
    wr32(dst + REGF_BINS_SIZE, bins);
    wr32(dst + REGF_CSUM, regf_checksum(dst));
}

/* 'transaction': before = the primary file's state, after = with the
 * logged changes. OUT gets `before` marked dirty (primary sequence number
 * one ahead of the secondary); OUT.LOG1 holds what differs, as one log entry
 * (new format: HvLE with 4 KiB dirty pages and Marvin32 hashes) or a dirty
 * vector (old format: DIRT, 512-byte pages); OUT.LOG2 is the other log of
 * the pair, holding no entry (new format: a base block of the previous
 * sequence number; old format: not written). */
static int write_logged(const char *before_path, const char *after_path, const char *out, bool old,
                        struct err *e)
{
    unsigned char *a = NULL, *b = NULL, *log = NULL;
    size_t alen = 0, blen = 0, loglen = 0;
    char *log1 = concat(out, ".LOG1"), *log2 = concat(out, ".LOG2");
    int rc = -1;

    if (log1 == NULL || log2 == NULL) {
        oom(e);
        goto out;
    }
    if (slurp(before_path, &a, &alen, e) != 0 || slurp(after_path, &b, &blen, e) != 0)
        goto out;
    uint32_t seq = rd32(a + REGF_SEQ2), bins = (uint32_t)(blen - REGF_SIZE);
    size_t pages = bins / (old ? SECTOR : HBIN_SIZE), unit = old ? SECTOR : HBIN_SIZE, ndirty = 0;
    for (size_t i = 0; i < pages; i++) {
        size_t at = REGF_SIZE + i * unit;
        ndirty += at + unit > alen || memcmp(a + at, b + at, unit) != 0;
    }
    if (ndirty == 0) {
        fail(e, "'transaction' changes nothing");
        goto out;
    }
    if (old) {
        size_t vec = (pages + 7) / 8, data = (SECTOR + 4 + vec + SECTOR - 1) / SECTOR * SECTOR;
        loglen = data + ndirty * SECTOR;
        log = calloc(1, loglen);
        if (log == NULL) {
            oom(e);
            goto out;
        }
        log_base(log, b, 1, seq, bins);
        memcpy(log + SECTOR, "DIRT", 4);
        for (size_t i = 0; i < pages; i++) {
            size_t at = REGF_SIZE + i * SECTOR;
            if (at + SECTOR <= alen && memcmp(a + at, b + at, SECTOR) == 0)
                continue;
            log[SECTOR + 4 + i / 8] |= (unsigned char)(1u << (i % 8));
            memcpy(log + data, b + at, SECTOR);
            data += SECTOR;
        }
    } else {
        size_t head = 40 + 8 * ndirty;
        size_t size = (head + ndirty * HBIN_SIZE + SECTOR - 1) / SECTOR * SECTOR;
        loglen = SECTOR + size;
        log = calloc(1, loglen);
        if (log == NULL) {
            oom(e);
            goto out;
        }
        log_base(log, b, 6, seq, bins);
        unsigned char *en = log + SECTOR;
        memcpy(en, "HvLE", 4);
        wr32(en + 4, (uint32_t)size);
        wr32(en + 8, 0);
        wr32(en + 12, seq);
        wr32(en + 16, bins);
        wr32(en + 20, (uint32_t)ndirty);
        size_t ref = 40, data = head;
        for (size_t i = 0; i < pages; i++) {
            size_t at = REGF_SIZE + i * HBIN_SIZE;
            if (at + HBIN_SIZE <= alen && memcmp(a + at, b + at, HBIN_SIZE) == 0)
                continue;
            wr32(en + ref, (uint32_t)(i * HBIN_SIZE));
            wr32(en + ref + 4, HBIN_SIZE);
            memcpy(en + data, b + at, HBIN_SIZE);
            ref += 8;
            data += HBIN_SIZE;
        }
        wr64(en + 24, marvin32(en + 40, size - 40, MARVIN_SEED));
        wr64(en + 32, marvin32(en, 32, MARVIN_SEED));
    }
    /* The primary file: `before`, dirty. */
    wr32(a + REGF_SEQ1, seq + 1);
    wr32(a + REGF_CSUM, regf_checksum(a));
    if (spill(out, a, alen, e) != 0 || spill(log1, log, loglen, e) != 0)
        goto out;
    if (!old) {
        unsigned char empty[SECTOR];
        log_base(empty, a, 6, seq - 1, (uint32_t)(alen - REGF_SIZE));
        if (spill(log2, empty, sizeof empty, e) != 0)
            goto out;
    }
    rc = 0;
out:
    free(a);
    free(b);
    free(log);
    free(log1);
    free(log2);
    return rc;
}

static void usage(FILE *to)
{
    fputs("usage: kt-mkhive SPEC OUT\n"
          "Build a Windows registry hive OUT from the text spec SPEC\n"
          "(format described at the top of kt-mkhive.c).\n",
          to);
}

int main(int argc, char **argv)
{
    struct spec s = {0}, base = {0};
    char *before = NULL;
    struct err e = {{0}};
    char *tmp = NULL;
    int rc = 1;

    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc != 3 || argv[1][0] == '\0' || argv[2][0] == '\0') {
        usage(stderr);
        return 2;
    }
    s.file = argv[1];
    memcpy(s.root_name, DEFAULT_ROOT_NAME, sizeof DEFAULT_ROOT_NAME);
    if (parse_time(DEFAULT_TIME, &s.time, &e) != 0)
        goto out;
    s.root = key_new(NULL, "", 0);
    tmp = concat(argv[2], ".tmp");
    if (s.root == NULL || tmp == NULL) {
        oom(&e);
        prefix(&e, "kt-mkhive");
        goto out;
    }
    if (parse_spec(&s, &e) != 0)
        goto out;
    if (build(&s, argv[2], tmp, &e) != 0) {
        prefix(&e, "kt-mkhive: %s", argv[2]);
        goto out;
    }
    if (s.txn_line != 0) {
        /* The primary file's state: the spec again, up to 'transaction'. */
        base.file = argv[1];
        memcpy(base.root_name, DEFAULT_ROOT_NAME, sizeof DEFAULT_ROOT_NAME);
        base.base_only = true;
        base.root = key_new(NULL, "", 0);
        before = concat(argv[2], ".before.tmp");
        if (base.root == NULL || before == NULL) {
            oom(&e);
            goto out;
        }
        if (parse_time(DEFAULT_TIME, &base.time, &e) != 0 || parse_spec(&base, &e) != 0)
            goto out;
        if (build(&base, argv[2], before, &e) != 0 ||
            write_logged(before, tmp, argv[2], s.old_log, &e) != 0) {
            prefix(&e, "kt-mkhive: %s", argv[2]);
            goto out;
        }
        unlink(before);
        unlink(tmp);
        rc = 0;
        goto out;
    }
    if (rename(tmp, argv[2]) != 0) {
        fail(&e, "kt-mkhive: cannot rename '%s' to '%s': %s", tmp, argv[2], strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (rc != 0) {
        fprintf(stderr, "%s\n", e.msg);
        if (tmp != NULL)
            unlink(tmp); /* never leave a partial result */
        if (before != NULL)
            unlink(before);
    }
    free(tmp);
    free(before);
    key_free(s.root);
    key_free(base.root);
    return rc;
}
