/* kt-mkprefetch: write an uncompressed Windows Prefetch file (format version
 * 23, 26 or 30) from a text spec, byte for byte the same on every run.
 *
 * Usage: kt-mkprefetch SPEC OUT.pf
 *
 * Writes OUT.tmp and renames it to OUT; on any error OUT is left untouched
 * and OUT.tmp is removed. Nothing depends on the clock or the environment.
 * Windows names the file NAME-HASH.pf (HASH in upper-case hex); that is the
 * caller's business.
 *
 * Spec: UTF-8 text, one directive per line, fields separated by one TAB;
 * blank lines and lines starting with '#' are ignored; a trailing CR is
 * dropped.
 *   version   23 | 26 | 30
 *   executable NAME             at most 29 UTF-16 units
 *   hash      HHHHHHHH          8 hex digits
 *   runcount  N                 0..4294967295
 *   run       TIME              a last run time, newest first: exactly one
 *                               for version 23, one to eight for 26 and 30
 *   volume    PATH SERIAL TIME  device path, serial (8 hex digits), creation
 *   file      PATH              a file the program loaded, in load order; on
 *                               the volume (PATH starts with its path and a
 *                               backslash); at least one
 * version, executable, hash, runcount and volume appear exactly once. TIME
 * is YYYY-MM-DDTHH:MM:SS[.fffffff]Z (UTC, up to 100 ns). The run count must
 * be at least the number of run times.
 *
 * Exit: 0 done, 1 bad spec or failure ("SPEC:LINE: message"), 2 usage.
 *
 * What is written (offsets from libyal's "Windows Prefetch File (PF)
 * format"; all little-endian):
 *   - file header (84 bytes): version, "SCCA", 0x11, file size, executable
 *     name (UTF-16LE, 60 bytes, NUL-padded), hash, 0;
 *   - file information at 84: version 23 is 156 bytes (metrics at 0xF0),
 *     26 and 30 are 220 bytes (metrics at 0x130): offsets and counts of the
 *     metrics array, trace chains array, filename strings and volumes
 *     information; last run time(s) at 44 (one, or eight slots, unused ones
 *     0); run count at 68 (v23) or 124 (v26, v30);
 *   - metrics array: one 32-byte entry per file: trace chain index and
 *     count (one each), filename string offset (bytes, from the strings)
 *     and length (characters), flags 0x200, file reference 0 (not set);
 *   - trace chains array: one entry per file, 12 bytes (next index -1:
 *     end of chain, one block loaded) or, for version 30, 8 bytes;
 *   - filename strings: each path UTF-16LE with a terminator;
 *   - volumes information at the next multiple of 8: one volume entry (104
 *     bytes, version 30: 96) with the device path's offset and length,
 *     creation time, serial, file references offset and size, directory
 *     strings offset and count (repeated at 68, version 30: 64); then the
 *     device path; the file references (version 3, count, an unused 8-byte
 *     slot, one 0 per file); and the directory strings (UTF-16 length,
 *     characters, terminator): every directory below the volume root that
 *     holds a file, in the order the files name them. */

#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_SIZE 84u
#define NAME_FIELD 60u /* bytes: 29 UTF-16 units and a terminator */
#define MAX_RUNS 8
#define MAX_FILES 4096
#define MAX_DIRS 4096
#define MAX_PATH_UNITS 1024
#define METRICS_ENTRY 32u

static const char *spec_path;
static unsigned long spec_line;

__attribute__((format(printf, 1, 2))) static bool spec_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%lu: ", spec_path, spec_line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return false;
}

static void *xmalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (p == NULL) {
        fputs("kt-mkprefetch: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t align8(uint32_t v)
{
    return (v + 7u) & ~7u;
}

/* ---- text ---------------------------------------------------------------- */

typedef struct u16s {
    uint16_t *p;
    uint32_t n; /* UTF-16 units, without a terminator */
} u16s;

/* Strict UTF-8 to UTF-16; control characters are refused. */
static bool to_utf16(const char *s, const char *what, u16s *out)
{
    size_t len = strlen(s);
    uint16_t *p = xmalloc(2 * len + 2);
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        uint8_t c = (uint8_t)s[i];
        uint32_t cp;
        size_t k;
        if (c < 0x80) {
            cp = c;
            k = 1;
        } else if (c >= 0xC2 && c <= 0xDF) {
            cp = c & 0x1Fu;
            k = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            cp = c & 0x0Fu;
            k = 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            cp = c & 0x07u;
            k = 4;
        } else {
            free(p);
            return spec_error("%s: invalid UTF-8", what);
        }
        bool ok = i + k <= len;
        for (size_t j = 1; ok && j < k; j++) {
            uint8_t cc = (uint8_t)s[i + j];
            ok = (cc & 0xC0) == 0x80;
            cp = cp << 6 | (cc & 0x3Fu);
        }
        if (!ok || (k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            free(p);
            return spec_error("%s: invalid UTF-8", what);
        }
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
            free(p);
            return spec_error("%s: control character U+%04" PRIX32 " not allowed", what, cp);
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            p[n++] = (uint16_t)(0xD800 | (cp >> 10));
            p[n++] = (uint16_t)(0xDC00 | (cp & 0x3FF));
        } else {
            p[n++] = (uint16_t)cp;
        }
        i += k;
    }
    if (n > MAX_PATH_UNITS) {
        free(p);
        return spec_error("%s: longer than %d UTF-16 units", what, MAX_PATH_UNITS);
    }
    out->p = p;
    out->n = (uint32_t)n;
    return true;
}

/* The string and its terminator, as UTF-16LE at p. */
static void put_u16s(uint8_t *p, const u16s *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        put16(p + 2 * i, s->p[i]);
    put16(p + 2 * s->n, 0);
}

/* ---- numbers and times ----------------------------------------------------- */

static bool parse_uint(const char *s, int base, int width, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    int n = 0;
    for (; *s; s++, n++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else
            return false;
        if (v > (max - d) / (unsigned)base)
            return false;
        v = v * (unsigned)base + d;
    }
    if (n == 0 || (width && n != width))
        return false;
    *out = v;
    return true;
}

static bool digits(const char *s, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

static bool leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* ISO 8601 UTC to FILETIME (100 ns since 1601-01-01). */
static bool parse_time(const char *s, uint64_t *out)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y, mo, d, h, mi, sec;
    if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
        return false;
    const char *p = s + 19;
    uint64_t frac = 0;
    if (*p == '.') {
        int n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++) {
            if (n == 7)
                return false;
            frac = frac * 10 + (uint64_t)(*p - '0');
        }
        if (n == 0)
            return false;
        for (; n < 7; n++)
            frac *= 10;
    }
    if (strcmp(p, "Z") != 0 || y < 1601 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 ||
        sec > 59 || d > mdays[mo - 1] + (mo == 2 && leap(y)))
        return false;
    uint64_t days = 0;
    for (unsigned yy = 1601; yy < y; yy++)
        days += leap(yy) ? 366 : 365;
    for (unsigned m = 1; m < mo; m++)
        days += mdays[m - 1] + (m == 2 && leap(y));
    days += d - 1;
    *out = (days * 86400 + h * 3600u + mi * 60u + sec) * UINT64_C(10000000) + frac;
    return true;
}

/* ---- the spec ------------------------------------------------------------------ */

typedef struct spec {
    unsigned version;
    u16s name;
    uint32_t hash;
    uint32_t run_count;
    uint64_t runs[MAX_RUNS];
    size_t nruns;
    u16s volume;
    char *volume_utf8;
    uint32_t serial;
    uint64_t volume_created;
    u16s files[MAX_FILES];
    char *files_utf8[MAX_FILES];
    size_t nfiles;
    u16s dirs[MAX_DIRS];
    char *dirs_utf8[MAX_DIRS];
    size_t ndirs;
    bool seen[5]; /* version executable hash runcount volume */
} spec;

static void spec_free(spec *s)
{
    free(s->name.p);
    free(s->volume.p);
    free(s->volume_utf8);
    for (size_t i = 0; i < s->nfiles; i++) {
        free(s->files[i].p);
        free(s->files_utf8[i]);
    }
    for (size_t i = 0; i < s->ndirs; i++) {
        free(s->dirs[i].p);
        free(s->dirs_utf8[i]);
    }
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);
    memcpy(p, s, n);
    return p;
}

static bool once(spec *s, int which, const char *name)
{
    if (s->seen[which])
        return spec_error("%s given twice", name);
    s->seen[which] = true;
    return true;
}

static bool directive(spec *s, char **f, size_t n)
{
    uint64_t v = 0;
    const char *d = f[0];
    size_t want = strcmp(d, "volume") == 0 ? 4 : 2;
    if (strcmp(d, "version") && strcmp(d, "executable") && strcmp(d, "hash") &&
        strcmp(d, "runcount") && strcmp(d, "run") && strcmp(d, "volume") && strcmp(d, "file"))
        return spec_error(
            strchr(d, ' ') ? "'%s': fields are separated by one TAB" : "unknown directive '%s'", d);
    if (n != want)
        return spec_error("%s takes %zu field(s), separated by one TAB", d, want - 1);
    if (strcmp(d, "version") == 0) {
        if (!once(s, 0, d))
            return false;
        if (!parse_uint(f[1], 10, 0, 99, &v) || (v != 23 && v != 26 && v != 30))
            return spec_error("bad version '%s' (23, 26 or 30)", f[1]);
        s->version = (unsigned)v;
    } else if (strcmp(d, "executable") == 0) {
        if (!once(s, 1, d) || !to_utf16(f[1], "executable", &s->name))
            return false;
        if (s->name.n == 0 || 2 * s->name.n + 2 > NAME_FIELD)
            return spec_error("executable name of %" PRIu32 " UTF-16 units (1 to %u)", s->name.n,
                              NAME_FIELD / 2 - 1);
    } else if (strcmp(d, "hash") == 0) {
        if (!once(s, 2, d))
            return false;
        if (!parse_uint(f[1], 16, 8, UINT32_MAX, &v))
            return spec_error("bad hash '%s' (8 hex digits)", f[1]);
        s->hash = (uint32_t)v;
    } else if (strcmp(d, "runcount") == 0) {
        if (!once(s, 3, d))
            return false;
        if (!parse_uint(f[1], 10, 0, UINT32_MAX, &v))
            return spec_error("bad run count '%s'", f[1]);
        s->run_count = (uint32_t)v;
    } else if (strcmp(d, "run") == 0) {
        if (s->nruns == MAX_RUNS)
            return spec_error("more than %d run times", MAX_RUNS);
        if (!parse_time(f[1], &s->runs[s->nruns]))
            return spec_error("bad time '%s'", f[1]);
        if (s->nruns > 0 && s->runs[s->nruns] > s->runs[s->nruns - 1])
            return spec_error("run times go newest first");
        s->nruns++;
    } else if (strcmp(d, "volume") == 0) {
        if (!once(s, 4, d) || !to_utf16(f[1], "volume path", &s->volume))
            return false;
        if (s->volume.n == 0 || f[1][strlen(f[1]) - 1] == '\\')
            return spec_error("volume path empty or ending in a backslash");
        s->volume_utf8 = xstrdup(f[1]);
        if (!parse_uint(f[2], 16, 8, UINT32_MAX, &v))
            return spec_error("bad volume serial '%s' (8 hex digits)", f[2]);
        s->serial = (uint32_t)v;
        if (!parse_time(f[3], &s->volume_created))
            return spec_error("bad time '%s'", f[3]);
    } else {
        if (s->nfiles == MAX_FILES)
            return spec_error("more than %d files", MAX_FILES);
        size_t vl = s->volume_utf8 ? strlen(s->volume_utf8) : 0;
        if (!s->volume_utf8 || strncmp(f[1], s->volume_utf8, vl) != 0 || f[1][vl] != '\\' ||
            f[1][vl + 1] == '\0' || f[1][strlen(f[1]) - 1] == '\\')
            return spec_error("file '%s' is not a file on the volume (give the volume first)",
                              f[1]);
        if (!to_utf16(f[1], "file", &s->files[s->nfiles]))
            return false;
        s->files_utf8[s->nfiles++] = xstrdup(f[1]);
    }
    return true;
}

/* Every directory between the volume root and a file, first mention first. */
static bool derive_dirs(spec *s)
{
    size_t vl = strlen(s->volume_utf8);
    bool ok = true;
    for (size_t i = 0; ok && i < s->nfiles; i++) {
        char *path = xstrdup(s->files_utf8[i]);
        for (char *p = path + vl + 1; ok && (p = strchr(p, '\\')) != NULL; p++) {
            *p = '\0';
            size_t k = 0;
            while (k < s->ndirs && strcmp(s->dirs_utf8[k], path) != 0)
                k++;
            if (k == s->ndirs && s->ndirs == MAX_DIRS)
                ok = spec_error("more than %d directories", MAX_DIRS);
            else if (k == s->ndirs && (ok = to_utf16(path, "directory", &s->dirs[k])))
                s->dirs_utf8[s->ndirs++] = xstrdup(path);
            *p = '\\';
        }
        free(path);
    }
    return ok;
}

static size_t split(char *line, char **f, size_t max)
{
    size_t n = 0;
    f[n++] = line;
    for (char *p = line; (p = strchr(p, '\t')) != NULL && n < max;) {
        *p++ = '\0';
        f[n++] = p;
    }
    return n;
}

static bool read_spec(FILE *in, spec *s)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    bool ok = true;
    while (ok && (len = getline(&line, &cap, in)) >= 0) {
        spec_line++;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        char *f[8];
        size_t n = split(line, f, 8);
        ok = directive(s, f, n);
    }
    free(line);
    if (!ok)
        return false;
    static const char *names[5] = {"version", "executable", "hash", "runcount", "volume"};
    for (int i = 0; i < 5; i++)
        if (!s->seen[i])
            return spec_error("no %s", names[i]);
    if (s->nfiles == 0)
        return spec_error("no files");
    if (s->nruns == 0 || (s->version == 23 && s->nruns != 1))
        return spec_error("version %u needs %s, the spec gives %zu", s->version,
                          s->version == 23 ? "exactly one run time" : "one to eight run times",
                          s->nruns);
    if (s->run_count < s->nruns)
        return spec_error("run count %" PRIu32 " below the %zu run times given", s->run_count,
                          s->nruns);
    return derive_dirs(s);
}

/* ---- the file ------------------------------------------------------------------- */

static uint8_t *build(const spec *s, uint32_t *size)
{
    bool v23 = s->version == 23, v30 = s->version == 30;
    uint32_t info_size = v23 ? 156u : 220u;
    uint32_t trace_entry = v30 ? 8u : 12u;
    uint32_t volume_entry = v30 ? 96u : 104u;
    uint32_t n = (uint32_t)s->nfiles;

    uint32_t metrics = HEADER_SIZE + info_size;
    uint32_t traces = metrics + n * METRICS_ENTRY;
    uint32_t names = traces + n * trace_entry;
    uint32_t names_size = 0;
    for (size_t i = 0; i < s->nfiles; i++)
        names_size += 2 * s->files[i].n + 2;
    uint32_t volumes = align8(names + names_size);
    uint32_t device = volume_entry; /* offsets from here on are from `volumes` */
    uint32_t refs = align8(device + 2 * s->volume.n + 2);
    uint32_t refs_size = 16 + 8 * n;
    uint32_t dirs = align8(refs + refs_size);
    uint32_t dirs_size = 0;
    for (size_t i = 0; i < s->ndirs; i++)
        dirs_size += 2 + 2 * s->dirs[i].n + 2;
    uint32_t volumes_size = dirs + dirs_size;
    uint32_t total = volumes + volumes_size;
    uint8_t *b = xmalloc(total);

    put32(b + 0x00, s->version);
    memcpy(b + 0x04, "SCCA", 4);
    put32(b + 0x08, 0x11);
    put32(b + 0x0C, total);
    put_u16s(b + 0x10, &s->name);
    put32(b + 0x4C, s->hash);

    uint8_t *fi = b + HEADER_SIZE;
    put32(fi + 0, metrics);
    put32(fi + 4, n);
    put32(fi + 8, traces);
    put32(fi + 12, n);
    put32(fi + 16, names);
    put32(fi + 20, names_size);
    put32(fi + 24, volumes);
    put32(fi + 28, 1);
    put32(fi + 32, volumes_size);
    for (size_t i = 0; i < s->nruns; i++)
        put64(fi + 44 + 8 * i, s->runs[i]);
    put32(fi + (v23 ? 68 : 124), s->run_count);

    uint32_t name_off = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *m = b + metrics + i * METRICS_ENTRY;
        put32(m + 0, i);
        put32(m + 4, 1);
        put32(m + 8, 1);
        put32(m + 12, name_off);
        put32(m + 16, s->files[i].n);
        put32(m + 20, 0x200);
        uint8_t *t = b + traces + i * trace_entry;
        if (v30) {
            put32(t + 0, 1);
            t[4] = 2;
            t[5] = 1;
            put16(t + 6, 1);
        } else {
            put32(t + 0, UINT32_MAX);
            put32(t + 4, 1);
            t[8] = 2;
            t[9] = 1;
            put16(t + 10, 1);
        }
        put_u16s(b + names + name_off, &s->files[i]);
        name_off += 2 * s->files[i].n + 2;
    }

    uint8_t *vol = b + volumes;
    put32(vol + 0, device);
    put32(vol + 4, s->volume.n);
    put64(vol + 8, s->volume_created);
    put32(vol + 16, s->serial);
    put32(vol + 20, refs);
    put32(vol + 24, refs_size);
    put32(vol + 28, dirs);
    put32(vol + 32, (uint32_t)s->ndirs);
    put32(vol + (v30 ? 64 : 68), (uint32_t)s->ndirs);
    put_u16s(vol + device, &s->volume);
    put32(vol + refs, 3);
    put32(vol + refs + 4, n);
    uint32_t at = dirs;
    for (size_t i = 0; i < s->ndirs; i++) {
        put16(vol + at, (uint16_t)s->dirs[i].n);
        put_u16s(vol + at + 2, &s->dirs[i]);
        at += 2 + 2 * s->dirs[i].n + 2;
    }
    *size = total;
    return b;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fputs("usage: kt-mkprefetch SPEC OUT.pf\n", stderr);
        return 2;
    }
    spec_path = argv[1];
    FILE *in = fopen(spec_path, "r");
    if (in == NULL) {
        perror(spec_path);
        return 1;
    }
    spec *s = xmalloc(sizeof *s);
    bool ok = read_spec(in, s);
    fclose(in);
    uint32_t size = 0;
    uint8_t *b = ok ? build(s, &size) : NULL;
    spec_free(s);
    free(s);
    if (!ok)
        return 1;

    size_t plen = strlen(argv[2]);
    char *tmp = xmalloc(plen + 5);
    memcpy(tmp, argv[2], plen);
    memcpy(tmp + plen, ".tmp", 5);
    FILE *out = fopen(tmp, "wb");
    ok = out != NULL && fwrite(b, 1, size, out) == size;
    if (out && fclose(out) != 0)
        ok = false;
    if (ok && rename(tmp, argv[2]) != 0)
        ok = false;
    if (!ok) {
        perror(argv[2]);
        remove(tmp);
    }
    free(tmp);
    free(b);
    return ok ? 0 : 1;
}
