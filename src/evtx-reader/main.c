/* kavtrace-evtx: parse a Windows event log with libevtx, in a process of
 * its own (see include/kavtrace/evtx.h), for kavtrace.
 *
 * usage: kavtrace-evtx [PROVIDER...] < LOG
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

static bool mentions(const uint8_t *chunk, char **names, int n)
{
    for (int i = 0; i < n; i++) {
        uint8_t w[512];
        size_t len = strlen(names[i]);
        if (len == 0 || 2 * len > sizeof w)
            continue;
        for (size_t k = 0; k < len; k++) {
            w[2 * k] = (uint8_t)names[i][k];
            w[2 * k + 1] = 0;
        }
        if (memmem(chunk, CHUNK_SIZE, w, 2 * len))
            return true;
    }
    return false;
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

/* One chunk as a one-chunk log (libevtx opens by path: a memfd). */
static size_t parse_chunk(const uint8_t *header, const uint8_t *chunk, size_t index,
                          size_t *records)
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
    libevtx_file_get_number_of_records(file, &n, NULL);
    for (int i = 0; i < n; i++) {
        libevtx_record_t *r = NULL;
        if (libevtx_file_get_record_by_index(file, i, &r, &e) != 1) {
            if (bad++ == 0)
                error_text(e, why, sizeof why);
            libevtx_error_free(&e);
            continue;
        }
        emit(r, index, false);
        (*records)++;
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
        emit(r, index, true);
        (*records)++;
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

int main(int argc, char **argv)
{
    size_t cap = 1 << 20, len = 0;
    uint8_t *data = malloc(cap);
    while (data) {
        if (len == cap) {
            if (cap >= READER_MAX_INPUT) {
                kt_proto_say(stdout, 'E', "event log too large");
                return 1;
            }
            uint8_t *p = realloc(data, cap * 2);
            if (p == NULL)
                break;
            data = p;
            cap *= 2;
        }
        ssize_t n = read(STDIN_FILENO, data + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    if (data == NULL) {
        kt_proto_say(stdout, 'E', "out of memory");
        return 1;
    }
    if (len < FILE_HEADER_BLOCK || memcmp(data, "ElfFile\0", 8) != 0) {
        kt_proto_say(stdout, 'E', "not an event log (no 'ElfFile' header)");
        free(data);
        return 1;
    }
    uint32_t crc = 0;
    bool header_ok = kt_rd_le32(data, len, 0x7C, &crc) && (uint32_t)crc32(0, data, 0x78) == crc;
    if (!header_ok)
        warn("file header CRC32 mismatch (the log may be dirty)");
    /* Chunks are used in order (wrapping round when the log is full):
     * an empty one the header counts, or one before a used chunk, was lost. */
    uint16_t counted = 0;
    kt_rd_le16(data, len, 0x2A, &counted);
    size_t first_empty = SIZE_MAX;
    size_t nchunks = (len - FILE_HEADER_BLOCK) / CHUNK_SIZE, parsed = 0, records = 0;
    if ((len - FILE_HEADER_BLOCK) % CHUNK_SIZE)
        warn("%zu trailing bytes after the last whole chunk",
             (len - FILE_HEADER_BLOCK) % CHUNK_SIZE);
    for (size_t i = 0; i < nchunks; i++) {
        const uint8_t *chunk = data + FILE_HEADER_BLOCK + i * CHUNK_SIZE;
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
        if (argc > 1 && !mentions(chunk, argv + 1, argc - 1))
            continue;
        parsed += parse_chunk(data, chunk, i, &records);
    }
    kt_proto_begin(stdout, 'X');
    kt_proto_put_uint(stdout, nchunks);
    kt_proto_put_uint(stdout, parsed);
    kt_proto_put_uint(stdout, records);
    kt_proto_end(stdout);
    free(data);
    return fflush(stdout) == 0 ? 0 : 1;
}
