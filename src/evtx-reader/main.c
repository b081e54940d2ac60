/* kavtrace-evtx: parse a Windows event log with libevtx, in a process of
 * its own (see include/kavtrace/evtx.h), for kavtrace.
 *
 * usage: kavtrace-evtx [RULE...] < LOG
 *   RULE is -p PROVIDER, then for each clause the records must satisfy
 *   -g and one -s STRING per alternative (a bare PROVIDER is -p PROVIDER).
 *   With rules, a record is parsed and passed on only when its provider
 *   can be one of a rule's and, for each of that rule's clauses, one of
 *   its strings is in the record's bytes (UTF-16LE or 8-bit, ASCII letters
 *   in either case) or in a template of its chunk; a chunk with no such
 *   record is not parsed at all. Without rules every record is.
 * The log is read from standard input one 64 KiB chunk at a time.
 * Output, one item per line (the protocol of src/reader_proto.h):
 *   R id filetime event_id chunk recovered nstrings / P provider /
 *   C computer / S string (nstrings times) / .      a record (recovered:
 *                                                    0 or 1)
 *   W message                                        a warning
 *   X chunks parsed records                          the end line
 *   E message                                        fatal (exit 1) */
#include <errno.h>
#include <libevtx.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "kavtrace/bytes.h"
#include "reader_proto.h"

/* File header (libevtx docs, "Windows XML Event Log format" 2.1):
 * 0x00 "ElfFile\0", 0x08 first chunk number, 0x10 last chunk number,
 * 0x18 next record id, 0x2A number of chunks, 0x78 flags, 0x7C CRC32 of
 * bytes 0x00-0x77. 64 KiB chunks follow the 4 KiB header block; a chunk
 * has its first and last record ids at 0x18 and 0x20. */
#define FILE_HEADER_BLOCK 4096
#define CHUNK_SIZE 65536
#define READER_MAX_INPUT ((size_t)2 << 30)
#define MAX_STRINGS 256

static void put(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kt_proto_vsay(stdout, 'W', fmt, ap);
    va_end(ap);
}

/* ---- the record filter ---- */

#define MAX_NEEDLES 64 /* distinct strings searched for; more match anything */
#define MAX_RULES 256
#define MAX_GROUPS 16
#define MAX_ALTERNATIVES 32
#define NEEDLE_MAX 256 /* UTF-16 units */
#define MAX_RECORDS (CHUNK_SIZE / 24)
#define MAX_TEMPLATES 1024
#define RECORD_HEADER 24
#define CHUNK_HEADER 512
#define CHUNK_TEMPLATE_TABLE 0x180

/* A string searched for, in both its forms, every byte folded (fold()). */
typedef struct needle {
    uint8_t wide[2 * NEEDLE_MAX]; /* UTF-16LE */
    size_t wlen;
    uint8_t narrow[4 * NEEDLE_MAX]; /* the UTF-8 bytes (8-bit strings) */
    size_t nlen;
} needle;

/* A clause: one of its needles (indexes into the filter's); -1 is a
 * string that cannot be searched for, which makes the clause always true. */
typedef struct clause {
    int alt[MAX_ALTERNATIVES];
    size_t nalt;
} clause;

typedef struct rule {
    int provider;
    clause clauses[MAX_GROUPS];
    size_t nclauses;
} rule;

typedef struct filter {
    needle needles[MAX_NEEDLES];
    char *names[MAX_NEEDLES];
    size_t nneedles;
    rule rules[MAX_RULES];
    size_t nrules;
} filter;

static uint8_t fold(uint8_t b)
{
    return b >= 'A' && b <= 'Z' ? (uint8_t)(b + 32) : b;
}

/* s (UTF-8) as a needle; false when it is empty, too long or not UTF-8. */
static bool make_needle(const char *s, needle *n)
{
    size_t len = strlen(s);
    if (len == 0 || len > NEEDLE_MAX)
        return false;
    n->wlen = 0;
    for (size_t i = 0; i < len;) {
        const uint8_t *p = (const uint8_t *)s + i;
        uint32_t cp;
        size_t k = p[0] < 0x80             ? 1
                   : (p[0] & 0xE0) == 0xC0 ? 2
                   : (p[0] & 0xF0) == 0xE0 ? 3
                   : (p[0] & 0xF8) == 0xF0 ? 4
                                           : 0;
        if (k == 0 || i + k > len)
            return false;
        cp = k == 1 ? p[0] : (uint32_t)(p[0] & (0x7F >> k));
        for (size_t j = 1; j < k; j++) {
            if ((p[j] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (p[j] & 0x3F);
        }
        i += k;
        uint16_t units[2] = {(uint16_t)cp, 0};
        size_t nu = 1;
        if (cp > 0x10FFFF)
            return false;
        if (cp > 0xFFFF) {
            units[0] = (uint16_t)(0xD800 + ((cp - 0x10000) >> 10));
            units[1] = (uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF));
            nu = 2;
        }
        for (size_t u = 0; u < nu; u++) {
            if (n->wlen + 2 > sizeof n->wide)
                return false;
            n->wide[n->wlen++] = fold((uint8_t)units[u]);
            n->wide[n->wlen++] = fold((uint8_t)(units[u] >> 8));
        }
    }
    for (size_t i = 0; i < len; i++)
        n->narrow[i] = fold((uint8_t)s[i]);
    n->nlen = len;
    return true;
}

/* The needle for s, shared with an earlier use of the same string; -1 when
 * s cannot be searched for (or there are too many). */
static int needle_for(filter *f, char *s)
{
    for (size_t i = 0; i < f->nneedles; i++)
        if (strcmp(f->names[i], s) == 0)
            return (int)i;
    if (f->nneedles == MAX_NEEDLES || !make_needle(s, &f->needles[f->nneedles]))
        return -1;
    f->names[f->nneedles] = s;
    return (int)f->nneedles++;
}

/* The rules of the command line; false (with a message) on bad usage. */
static bool parse_rules(int argc, char **argv, filter *f)
{
    rule *r = NULL;
    clause *c = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-p") == 0 || a[0] != '-') {
            if (a[0] == '-' && ++i == argc)
                return false;
            if (f->nrules == MAX_RULES)
                return false;
            r = &f->rules[f->nrules++];
            memset(r, 0, sizeof *r);
            r->provider = needle_for(f, argv[i]);
            c = NULL;
        } else if (strcmp(a, "-g") == 0) {
            if (r == NULL || r->nclauses == MAX_GROUPS)
                return false;
            c = &r->clauses[r->nclauses++];
            c->nalt = 0;
        } else if (strcmp(a, "-s") == 0) {
            if (c == NULL || ++i == argc)
                return false;
            if (c->nalt < MAX_ALTERNATIVES)
                c->alt[c->nalt++] = needle_for(f, argv[i]);
            else
                c->alt[MAX_ALTERNATIVES - 1] = -1; /* too many: always true */
        } else {
            return false;
        }
    }
    return true;
}

/* ---- one chunk's raw bytes ---- */

typedef struct span {
    size_t start, end;
} span;

/* What the filter finds in a chunk before anything is parsed. */
typedef struct scan {
    uint8_t folded[CHUNK_SIZE];
    span records[MAX_RECORDS];
    uint64_t record_ids[MAX_RECORDS];
    uint64_t in_record[MAX_RECORDS]; /* bit n: needle n is in the record's bytes */
    size_t nrecords;
    span templates[MAX_TEMPLATES];
    size_t ntemplates;
    bool templates_known; /* every template a record uses is in templates */
    size_t slack;         /* where the records found end */
    uint64_t anywhere;    /* bit n: needle n is in the chunk */
    uint64_t in_template; /* bit n: needle n is in a template */
    uint64_t in_slack;    /* bit n: needle n is after the records found */
} scan;

static void add_template(scan *s, const uint8_t *chunk, size_t at)
{
    uint32_t size = 0;
    if (at < CHUNK_HEADER || !kt_rd_le32(chunk, CHUNK_SIZE, at + 20, &size) ||
        s->ntemplates == MAX_TEMPLATES) {
        s->templates_known = false;
        return;
    }
    for (size_t i = 0; i < s->ntemplates; i++)
        if (s->templates[i].start == at)
            return;
    size_t end = (size_t)size > CHUNK_SIZE - at - 24 ? CHUNK_SIZE : at + 24 + size;
    s->templates[s->ntemplates++] = (span){at, end};
}

static bool is_template(const scan *s, size_t at)
{
    for (size_t i = 0; i < s->ntemplates; i++)
        if (s->templates[i].start == at)
            return true;
    return false;
}

/* The chunk's records and templates: the template table's chains, and the
 * definitions records carry inline (binary XML: fragment header 0F 01 01
 * 00, template instance 0C 01, template id, definition offset; the
 * definition follows when the offset is its own). A record that uses a
 * template found in neither makes templates_known false. */
static void find_layout(scan *s, const uint8_t *chunk)
{
    s->nrecords = s->ntemplates = 0;
    s->slack = CHUNK_HEADER;
    s->templates_known = true;
    for (size_t b = 0; b < 32; b++) {
        uint32_t at = 0;
        kt_rd_le32(chunk, CHUNK_SIZE, CHUNK_TEMPLATE_TABLE + 4 * b, &at);
        for (int hops = 0; at != 0 && hops < MAX_TEMPLATES; hops++) {
            add_template(s, chunk, at);
            if (!kt_rd_le32(chunk, CHUNK_SIZE, at, &at))
                break;
        }
    }
    uint32_t sig, size, size2, defat;
    for (size_t off = CHUNK_HEADER; s->nrecords < MAX_RECORDS; off += size) {
        if (!kt_rd_le32(chunk, CHUNK_SIZE, off, &sig) || sig != 0x00002a2a ||
            !kt_rd_le32(chunk, CHUNK_SIZE, off + 4, &size) || size < RECORD_HEADER + 4 ||
            size > CHUNK_SIZE - off || !kt_rd_le32(chunk, CHUNK_SIZE, off + size - 4, &size2) ||
            size2 != size)
            break;
        s->records[s->nrecords] = (span){off, off + size};
        kt_rd_le64(chunk, CHUNK_SIZE, off + 8, &s->record_ids[s->nrecords]);
        s->in_record[s->nrecords++] = 0;
        s->slack = off + size;
        const uint8_t *x = chunk + off + RECORD_HEADER;
        if (size >= RECORD_HEADER + 14 && x[0] == 0x0F && x[4] == 0x0C &&
            kt_rd_le32(chunk, CHUNK_SIZE, off + RECORD_HEADER + 10, &defat)) {
            if (defat == off + RECORD_HEADER + 14)
                add_template(s, chunk, defat);
            else if (!is_template(s, defat))
                s->templates_known = false;
        }
    }
}

static bool inside(const span *v, size_t n, size_t at, size_t *hint)
{
    while (*hint < n && v[*hint].end <= at)
        (*hint)++;
    return *hint < n && v[*hint].start <= at;
}

static void find_needle(scan *s, const uint8_t *p, size_t len, int n)
{
    uint64_t bit = (uint64_t)1 << n;
    size_t rec = 0;
    for (const uint8_t *at = s->folded, *end = s->folded + CHUNK_SIZE;
         (at = memmem(at, (size_t)(end - at), p, len)) != NULL; at++) {
        size_t off = (size_t)(at - s->folded);
        s->anywhere |= bit;
        for (size_t t = 0; t < s->ntemplates; t++)
            if (s->templates[t].start <= off && off < s->templates[t].end)
                s->in_template |= bit;
        if (off >= s->slack)
            s->in_slack |= bit;
        else if (inside(s->records, s->nrecords, off, &rec))
            s->in_record[rec] |= bit;
    }
}

/* Whether a rule can match a record with these needles (-1: any). */
static bool rule_may_match(const rule *r, uint64_t present)
{
    if (r->provider >= 0 && !(present >> r->provider & 1))
        return false;
    for (size_t c = 0; c < r->nclauses; c++) {
        bool any = false;
        for (size_t a = 0; a < r->clauses[c].nalt && !any; a++)
            any = r->clauses[c].alt[a] < 0 || (present >> r->clauses[c].alt[a] & 1);
        if (!any)
            return false;
    }
    return true;
}

static bool may_match(const filter *f, uint64_t present)
{
    for (size_t i = 0; i < f->nrules; i++)
        if (rule_may_match(&f->rules[i], present))
            return true;
    return false;
}

/* Fill s for the chunk; false when no record of it can match. */
static bool prefilter(const filter *f, scan *s, const uint8_t *chunk)
{
    for (size_t i = 0; i < CHUNK_SIZE; i++)
        s->folded[i] = fold(chunk[i]);
    s->anywhere = s->in_template = s->in_slack = 0;
    find_layout(s, chunk);
    for (size_t n = 0; n < f->nneedles; n++) {
        find_needle(s, f->needles[n].wide, f->needles[n].wlen, (int)n);
        find_needle(s, f->needles[n].narrow, f->needles[n].nlen, (int)n);
    }
    /* A template a record uses but the filter could not place: what the
     * chunk holds anywhere may be in it. */
    if (!s->templates_known)
        s->in_template = s->anywhere;
    if (!may_match(f, s->anywhere))
        return false;
    for (size_t r = 0; r < s->nrecords; r++)
        if (may_match(f, s->in_record[r] | s->in_template))
            return true;
    /* records libevtx may recover from after the last one found */
    return may_match(f, s->in_slack | s->in_template);
}

/* Whether the record with this id (libevtx's) may match; one the walk
 * did not see (recovered from the slack) is judged by the slack. */
static bool record_wanted(const filter *f, const scan *s, uint64_t id, size_t *hint)
{
    for (size_t k = 0; k < s->nrecords; k++) {
        size_t r = (*hint + k) % s->nrecords;
        if (s->record_ids[r] == id) {
            *hint = r + 1;
            return may_match(f, s->in_record[r] | s->in_template);
        }
    }
    return may_match(f, s->in_slack | s->in_template);
}

static void error_text(libevtx_error_t *e, char *buf, size_t len)
{
    buf[0] = '\0';
    if (e == NULL || libevtx_error_sprint(e, buf, len) <= 0)
        return;
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = '\0';
}

static void emit(libevtx_record_t *r, size_t chunk, bool recovered)
{
    uint64_t id = 0, written = 0;
    uint32_t event = 0;
    char provider[256] = "", computer[256] = "";
    libevtx_record_get_identifier(r, &id, NULL);
    libevtx_record_get_event_identifier(r, &event, NULL);
    libevtx_record_get_written_time(r, &written, NULL);
    libevtx_record_get_utf8_source_name(r, (uint8_t *)provider, sizeof provider, NULL);
    libevtx_record_get_utf8_computer_name(r, (uint8_t *)computer, sizeof computer, NULL);
    int n = 0;
    if (libevtx_record_get_number_of_strings(r, &n, NULL) != 1 || n < 0)
        n = 0;
    if (n > MAX_STRINGS)
        n = MAX_STRINGS;
    kt_proto_begin(stdout, 'R');
    kt_proto_put_uint(stdout, id);
    kt_proto_put_uint(stdout, written);
    kt_proto_put_uint(stdout, event);
    kt_proto_put_uint(stdout, chunk);
    kt_proto_put_uint(stdout, recovered);
    kt_proto_put_uint(stdout, (uint64_t)n);
    kt_proto_end(stdout);
    kt_proto_begin(stdout, 'P');
    kt_proto_put_text(stdout, provider);
    kt_proto_end(stdout);
    kt_proto_begin(stdout, 'C');
    kt_proto_put_text(stdout, computer);
    kt_proto_end(stdout);
    for (int i = 0; i < n; i++) {
        size_t size = 0;
        char *s = NULL;
        if (libevtx_record_get_utf8_string_size(r, i, &size, NULL) == 1 && size > 0 &&
            size <= (1u << 20) && (s = malloc(size)) != NULL &&
            libevtx_record_get_utf8_string(r, i, (uint8_t *)s, size, NULL) != 1)
            s[0] = '\0';
        kt_proto_begin(stdout, 'S');
        kt_proto_put_text(stdout, s);
        kt_proto_end(stdout);
        free(s);
    }
    kt_proto_begin(stdout, '.');
    kt_proto_end(stdout);
}

/* Whether libevtx's record may match the filter (f NULL: every one does). */
static bool wanted(const filter *f, const scan *s, libevtx_record_t *r, size_t *hint)
{
    uint64_t id = 0;
    return f == NULL || libevtx_record_get_identifier(r, &id, NULL) != 1 ||
           record_wanted(f, s, id, hint);
}

/* One chunk as a one-chunk log (libevtx opens by path: a memfd); with a
 * filter, only the records it wants are passed on. */
static size_t parse_chunk(const uint8_t *header, const uint8_t *chunk, size_t index,
                          const filter *flt, const scan *sc, size_t *records)
{
    uint8_t head[FILE_HEADER_BLOCK];
    uint64_t last_record = 0;
    kt_rd_le64(chunk, CHUNK_SIZE, 0x20, &last_record);
    memcpy(head, header, sizeof head);
    put(head + 0x08, 0, 8);
    put(head + 0x10, 0, 8);
    put(head + 0x18, last_record + 1, 8);
    put(head + 0x2A, 1, 2);
    put(head + 0x78, 0, 4);
    put(head + 0x7C, (uint32_t)crc32(0, head, 0x78), 4);
    int fd = memfd_create("kavtrace-evtx-chunk", MFD_CLOEXEC);
    if (fd < 0) {
        warn("chunk %zu: memfd_create: %s", index, strerror(errno));
        return 0;
    }
    size_t parsed = 0;
    libevtx_file_t *file = NULL;
    libevtx_error_t *e = NULL;
    char path[64], why[1024];
    if (write(fd, head, sizeof head) != (ssize_t)sizeof head ||
        write(fd, chunk, CHUNK_SIZE) != CHUNK_SIZE) {
        warn("chunk %zu: cannot stage it in memory", index);
        goto out;
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (libevtx_file_initialize(&file, &e) != 1 ||
        libevtx_file_open(file, path, LIBEVTX_OPEN_READ, &e) != 1) {
        error_text(e, why, sizeof why);
        warn("chunk %zu: unreadable (%s)", index, why);
        goto out;
    }
    parsed = 1;
    int n = 0, bad = 0;
    size_t hint = 0;
    libevtx_file_get_number_of_records(file, &n, NULL);
    for (int i = 0; i < n; i++) {
        libevtx_record_t *r = NULL;
        if (libevtx_file_get_record_by_index(file, i, &r, &e) != 1) {
            if (bad++ == 0)
                error_text(e, why, sizeof why);
            libevtx_error_free(&e);
            continue;
        }
        if (wanted(flt, sc, r, &hint)) {
            emit(r, index, false);
            (*records)++;
        }
        libevtx_record_free(&r, NULL);
    }
    if (bad)
        warn("chunk %zu: %d of %d records unreadable (%s)", index, bad, n, why);
    n = 0;
    libevtx_file_get_number_of_recovered_records(file, &n, NULL);
    for (int i = 0; i < n; i++) {
        libevtx_record_t *r = NULL;
        if (libevtx_file_get_recovered_record_by_index(file, i, &r, NULL) != 1)
            continue;
        if (wanted(flt, sc, r, &hint)) {
            emit(r, index, true);
            (*records)++;
        }
        libevtx_record_free(&r, NULL);
    }
out:
    libevtx_error_free(&e);
    if (file) {
        libevtx_file_close(file, NULL);
        libevtx_file_free(&file, NULL);
    }
    close(fd);
    return parsed;
}

/* Read len bytes, or fewer at the end of the input; the count read. */
static size_t read_full(uint8_t *p, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = read(STDIN_FILENO, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    return done;
}

int main(int argc, char **argv)
{
    static filter flt;
    static scan sc;
    static uint8_t header[FILE_HEADER_BLOCK], chunk[CHUNK_SIZE];
    if (!parse_rules(argc, argv, &flt)) {
        kt_proto_say(stdout, 'E', "usage: kavtrace-evtx [-p PROVIDER [-g -s STRING...]...] < LOG");
        return 1;
    }
    const filter *f = flt.nrules ? &flt : NULL;
    if (read_full(header, sizeof header) < sizeof header || memcmp(header, "ElfFile\0", 8) != 0) {
        kt_proto_say(stdout, 'E', "not an event log (no 'ElfFile' header)");
        return 1;
    }
    uint32_t crc = 0;
    bool header_ok =
        kt_rd_le32(header, sizeof header, 0x7C, &crc) && (uint32_t)crc32(0, header, 0x78) == crc;
    if (!header_ok)
        warn("file header CRC32 mismatch (the log may be dirty)");
    /* Chunks are used in order (wrapping round when the log is full):
     * an empty one the header counts, or one before a used chunk, was lost. */
    uint16_t counted = 0;
    kt_rd_le16(header, sizeof header, 0x2A, &counted);
    size_t first_empty = SIZE_MAX;
    size_t nchunks = 0, parsed = 0, records = 0, got;
    uint64_t total = FILE_HEADER_BLOCK;
    for (size_t i = 0; (got = read_full(chunk, CHUNK_SIZE)) > 0; i++) {
        total += got;
        if (total > READER_MAX_INPUT) {
            kt_proto_say(stdout, 'E', "event log too large");
            return 1;
        }
        if (got < CHUNK_SIZE) {
            warn("%zu trailing bytes after the last whole chunk", got);
            break;
        }
        nchunks++;
        if (memcmp(chunk, "ElfChnk\0", 8) != 0) {
            uint64_t signature = 0;
            if (kt_rd_le64(chunk, CHUNK_SIZE, 0, &signature) && signature != 0)
                warn("chunk %zu: bad signature, skipped", i);
            else if (header_ok && i < counted)
                warn("chunk %zu: empty, though the header counts %u chunks (lost?)", i,
                     (unsigned)counted);
            else if (first_empty == SIZE_MAX)
                first_empty = i;
            continue;
        }
        if (first_empty != SIZE_MAX) {
            warn("chunk %zu: empty, though chunk %zu after it is in use (lost?)", first_empty, i);
            first_empty = SIZE_MAX;
        }
        if (f && !prefilter(f, &sc, chunk))
            continue;
        parsed += parse_chunk(header, chunk, i, f, &sc, &records);
    }
    kt_proto_begin(stdout, 'X');
    kt_proto_put_uint(stdout, nchunks);
    kt_proto_put_uint(stdout, parsed);
    kt_proto_put_uint(stdout, records);
    kt_proto_end(stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}
