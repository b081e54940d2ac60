/* kavtrace-prefetch: read one Windows Prefetch file with libscca, in a
 * process of its own (see include/kavtrace/prefetch.h), for kavtrace.
 *
 * usage: kavtrace-prefetch < FILE.pf
 * The file may be uncompressed ("SCCA", format versions 17, 23, 26, 30) or
 * MAM-compressed (Windows 10 and later: Xpress Huffman), which libscca
 * decompresses. Standard input need not be seekable.
 * Output, one item per line (the protocol of src/reader_proto.h):
 *   Z                          the file is MAM-compressed (first, when so)
 *   V version                  format version, decimal
 *   N name                     executable name, UTF-8
 *   H hash                     prefetch hash, 8 hex digits
 *   C count                    run count, decimal
 *   T filetime                 a last run time (FILETIME, decimal), as
 *                              stored: newest first, non-zero ones only
 *                              (versions 17 and 23 store one, 26 and 30
 *                              up to eight)
 *   D filetime serial path     a volume: creation time (FILETIME), serial
 *                              number (8 hex digits), device path
 *   W message                  a warning
 *   .                          the end of a complete read (exit 0)
 *   E message                  the file cannot be read (exit 1): not a
 *                              prefetch file, a format libscca does not
 *                              support, or corrupt
 *   F message                  the reader itself failed (exit 2) */
#include <errno.h>
#include <inttypes.h>
#include <libscca.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kavtrace/bytes.h"
#include "reader_proto.h"
#include "xpress.h"

/* Limits on what the file may make this process do. */
#define MAX_INPUT ((size_t)64 << 20)          /* bytes read from stdin */
#define MAX_UNCOMPRESSED ((uint32_t)64 << 20) /* a MAM file's stated size */
#define MAX_TEXT 4096                         /* bytes of one name or path */
#define MAX_VOLUMES 64                        /* volumes listed */
#define MAX_CPU_SECONDS 60                    /* a looping parse is killed */

/* File header (libscca docs, "Windows Prefetch File (PF) format" 3.1):
 * 0x00 format version, 0x04 "SCCA", 0x0C file size, 0x10 executable name
 * (UTF-16LE, 60 bytes), 0x4C hash. A MAM file (2.1) starts "MAM" and a
 * method byte (0x04: Xpress Huffman), then the uncompressed size. */
#define HEADER_SIZE 84

/* The format version at 0x00 (of an uncompressed file); 0 when too short. */
static uint32_t version_of(const uint8_t *data, size_t len)
{
    uint32_t v = 0;
    return kt_rd_le32(data, len, 0, &v) ? v : 0;
}

static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kt_proto_vsay(stdout, 'W', fmt, ap);
    va_end(ap);
}

/* The file cannot be read: exit status 1. */
static int bad_file(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad_file(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kt_proto_vsay(stdout, 'E', fmt, ap);
    va_end(ap);
    fflush(stdout);
    return 1;
}

/* The reader failed: exit status 2. */
static int failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int failed(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kt_proto_vsay(stdout, 'F', fmt, ap);
    va_end(ap);
    fflush(stdout);
    return 2;
}

/* libscca's innermost message, without its function name and full stop:
 * "unsupported format version" rather than a whole backtrace. */
static void cause(libscca_error_t *e, char *buf, size_t len)
{
    char text[2048];
    char *line = text;
    if (e == NULL || libscca_error_backtrace_sprint(e, text, sizeof text) <= 0)
        text[0] = '\0';
    line[strcspn(line, "\n")] = '\0';
    char *colon = strstr(line, ": ");
    if (colon && strncmp(line, "lib", 3) == 0)
        line = colon + 2;
    /* "invalid IO handle - unsupported format version": the part after
     * the dash says what is wrong with the file. */
    char *dash = strstr(line, " - ");
    if (dash && dash[3])
        line = dash + 3;
    size_t n = strlen(line);
    while (n && (line[n - 1] == '.' || line[n - 1] == ' ' || line[n - 1] == '\r'))
        line[--n] = '\0';
    snprintf(buf, len, "%s", n ? line : "no reason given");
}

/* All of stdin, at most MAX_INPUT + 1 bytes (one more says "too large"). */
static uint8_t *read_all(size_t *lenp, int *err)
{
    size_t cap = 64 << 10, len = 0;
    uint8_t *data = malloc(cap);
    if (data == NULL) {
        *err = ENOMEM;
        return NULL;
    }
    for (;;) {
        if (len == cap) {
            if (cap > MAX_INPUT)
                break;
            uint8_t *p = realloc(data, cap * 2);
            if (p == NULL) {
                free(data);
                *err = ENOMEM;
                return NULL;
            }
            data = p;
            cap *= 2;
        }
        ssize_t n = read(STDIN_FILENO, data + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *err = errno;
            free(data);
            return NULL;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    *lenp = len;
    return data;
}

/* libscca opens by path: the bytes go into a memfd, read through /proc.
 * 0: open; 1: libscca refused the file (*e says why); -1: this process
 * failed (errno says why). */
static int open_file(const uint8_t *data, size_t len, libscca_file_t **file, int *fd,
                     libscca_error_t **e)
{
    *fd = memfd_create("kavtrace-prefetch", MFD_CLOEXEC);
    if (*fd < 0)
        return -1;
    for (size_t done = 0; done < len;) {
        ssize_t n = write(*fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", *fd);
    if (libscca_file_initialize(file, e) != 1) {
        errno = ENOMEM;
        return -1;
    }
    return libscca_file_open(*file, path, LIBSCCA_OPEN_READ, e) == 1 ? 0 : 1;
}

static void emit_name(libscca_file_t *file)
{
    libscca_error_t *e = NULL;
    char why[512];
    size_t size = 0;
    char *name = NULL;
    if (libscca_file_get_utf8_executable_filename_size(file, &size, &e) != 1 || size == 0 ||
        size > MAX_TEXT || (name = malloc(size)) == NULL ||
        libscca_file_get_utf8_executable_filename(file, (uint8_t *)name, size, &e) != 1) {
        cause(e, why, sizeof why);
        warn("executable name unreadable (libscca: %s)", why);
        free(name);
        name = NULL; /* an empty name */
    }
    kt_proto_begin(stdout, 'N');
    kt_proto_put_text(stdout, name);
    kt_proto_end(stdout);
    free(name);
    libscca_error_free(&e);
}

static void emit_runs(libscca_file_t *file, uint32_t version)
{
    int stored = version >= 26 ? 8 : 1;
    for (int i = 0; i < stored; i++) {
        libscca_error_t *e = NULL;
        uint64_t ft = 0;
        if (libscca_file_get_last_run_time(file, i, &ft, &e) != 1) {
            char why[512];
            cause(e, why, sizeof why);
            warn("last run time %d unreadable (libscca: %s)", i + 1, why);
            libscca_error_free(&e);
            continue;
        }
        if (ft != 0) {
            kt_proto_begin(stdout, 'T');
            kt_proto_put_uint(stdout, ft);
            kt_proto_end(stdout);
        }
    }
}

static void emit_volumes(libscca_file_t *file)
{
    libscca_error_t *e = NULL;
    char why[512];
    int n = 0;
    if (libscca_file_get_number_of_volumes(file, &n, &e) != 1) {
        cause(e, why, sizeof why);
        warn("volume information unreadable (libscca: %s)", why);
        libscca_error_free(&e);
        return;
    }
    if (n > MAX_VOLUMES) {
        warn("%d volumes, only the first %d listed", n, MAX_VOLUMES);
        n = MAX_VOLUMES;
    }
    for (int i = 0; i < n; i++) {
        libscca_volume_information_t *v = NULL;
        uint64_t created = 0;
        uint32_t serial = 0;
        size_t size = 0;
        char *path = NULL;
        if (libscca_file_get_volume_information(file, i, &v, &e) != 1 ||
            libscca_volume_information_get_creation_time(v, &created, &e) != 1 ||
            libscca_volume_information_get_serial_number(v, &serial, &e) != 1 ||
            libscca_volume_information_get_utf8_device_path_size(v, &size, &e) != 1 || size == 0 ||
            size > MAX_TEXT || (path = malloc(size)) == NULL ||
            libscca_volume_information_get_utf8_device_path(v, (uint8_t *)path, size, &e) != 1) {
            cause(e, why, sizeof why);
            warn("volume %d unreadable (libscca: %s)", i + 1, why);
            libscca_error_free(&e);
        } else {
            kt_proto_begin(stdout, 'D');
            kt_proto_put_uint(stdout, created);
            kt_proto_put_hex32(stdout, serial);
            kt_proto_put_text(stdout, path);
            kt_proto_end(stdout);
        }
        free(path);
        /* Only forgets the pointer: the file owns its volumes. */
        libscca_volume_information_free(&v, NULL);
    }
}

/* A MAM file ("MAM" + method 4 + uncompressed size [+ CRC32 when the
 * method's high bit is set]) decompressed here; NULL when it cannot be. */
static uint8_t *decompress(const uint8_t *data, size_t len, size_t *out_len)
{
    if (len < 8 || memcmp(data, "MAM", 3) != 0 || (data[3] & 0x0F) != 4)
        return NULL;
    size_t header = data[3] & 0x80 ? 12 : 8;
    uint32_t size = 0;
    if (!kt_rd_le32(data, len, 4, &size) || size < HEADER_SIZE || size > MAX_UNCOMPRESSED ||
        len < header)
        return NULL;
    uint8_t *out = malloc(size);
    if (out == NULL)
        return NULL;
    if (kt_xpress_huffman_decompress(data + header, len - header, out, size) != 0) {
        free(out);
        return NULL;
    }
    *out_len = size;
    return out;
}

int main(void)
{
    /* A file that sends libscca into a loop costs a minute, not the scan. */
    struct rlimit cpu = {.rlim_cur = MAX_CPU_SECONDS, .rlim_max = MAX_CPU_SECONDS + 5};
    setrlimit(RLIMIT_CPU, &cpu);

    size_t len = 0;
    int rerr = 0;
    uint8_t *data = read_all(&len, &rerr);
    if (data == NULL)
        return failed("reading the input: %s", strerror(rerr));
    if (len > MAX_INPUT) {
        free(data);
        return bad_file("prefetch file over %zu bytes", MAX_INPUT);
    }
    bool compressed = len >= 8 && memcmp(data, "MAM", 3) == 0;
    bool plain = len >= 8 && memcmp(data + 4, "SCCA", 4) == 0;
    if (!compressed && !plain) {
        free(data);
        return bad_file("not a prefetch file (no 'SCCA' or 'MAM' signature)");
    }
    uint32_t stated_version = 0;
    if (compressed) {
        kt_proto_begin(stdout, 'Z');
        kt_proto_end(stdout);
        uint32_t size = 0;
        if (kt_rd_le32(data, len, 4, &size) && size > MAX_UNCOMPRESSED) {
            free(data);
            return bad_file("compressed prefetch file of %" PRIu32 " bytes uncompressed, over the "
                            "limit of %" PRIu32,
                            size, MAX_UNCOMPRESSED);
        }
    } else {
        stated_version = version_of(data, len);
        uint32_t size = 0;
        if (len >= HEADER_SIZE && kt_rd_le32(data, len, 12, &size) && size != len)
            warn("the header gives a file size of %" PRIu32 " bytes, the file has %zu", size, len);
    }

    /* Windows 11 writes format 31, laid out as format 30 (PECmd and
     * dissect.target read it so); libscca 20200717 refuses it, and for a
     * MAM file says so only after decompressing. Such a file is
     * decompressed here (Xpress Huffman) and handed over as format 30. */
    uint8_t *plain_copy = NULL;
    size_t plain_len = 0;
    uint32_t real_version = 0;
    bool own = compressed && getenv("KAVTRACE_PREFETCH_OWN_XPRESS") != NULL;
    if (own && (plain_copy = decompress(data, len, &plain_len)) == NULL) {
        free(data);
        return bad_file("corrupt prefetch file (Xpress Huffman stream does not decompress)");
    }
    if (!compressed && stated_version == 31) {
        data[0] = 30;
        real_version = 31;
    } else if (own && version_of(plain_copy, plain_len) == 31) {
        plain_copy[0] = 30;
        real_version = 31;
    }

    libscca_file_t *file = NULL;
    libscca_error_t *e = NULL;
    int fd = -1, rc = 0;
    int opened = own ? open_file(plain_copy, plain_len, &file, &fd, &e)
                     : open_file(data, len, &file, &fd, &e);
    int why_not = errno;
    if (opened > 0 && compressed && !own) {
        char why[512];
        cause(e, why, sizeof why);
        if (strstr(why, "unsupported") && (plain_copy = decompress(data, len, &plain_len)) &&
            version_of(plain_copy, plain_len) == 31 && memcmp(plain_copy + 4, "SCCA", 4) == 0) {
            plain_copy[0] = 30;
            real_version = 31;
            libscca_error_free(&e);
            libscca_file_free(&file, NULL);
            if (fd >= 0)
                close(fd);
            fd = -1;
            opened = open_file(plain_copy, plain_len, &file, &fd, &e);
            why_not = errno;
        }
    }
    free(data);
    free(plain_copy);
    if (opened < 0) {
        rc = failed("staging the input: %s", strerror(why_not));
        goto out;
    }
    if (opened > 0) {
        char why[512];
        cause(e, why, sizeof why);
        if (strstr(why, "unsupported") && stated_version)
            rc = bad_file("unsupported prefetch format version %" PRIu32 " (libscca: %s)",
                          stated_version, why);
        else if (strstr(why, "unsupported"))
            rc = bad_file("unsupported prefetch format (libscca: %s)", why);
        else
            rc = bad_file("corrupt prefetch file (libscca: %s)", why);
        goto out;
    }

    uint32_t version = 0, hash = 0, count = 0;
    if (libscca_file_get_format_version(file, &version, &e) != 1 ||
        libscca_file_get_prefetch_hash(file, &hash, &e) != 1 ||
        libscca_file_get_run_count(file, &count, &e) != 1) {
        char why[512];
        cause(e, why, sizeof why);
        rc = bad_file("corrupt prefetch file (libscca: %s)", why);
        goto out;
    }
    if (real_version) {
        version = real_version;
        warn("format %" PRIu32 " (Windows 11) read with format 30's layout", real_version);
    }
    kt_proto_begin(stdout, 'V');
    kt_proto_put_uint(stdout, version);
    kt_proto_end(stdout);
    emit_name(file);
    kt_proto_begin(stdout, 'H');
    kt_proto_put_hex32(stdout, hash);
    kt_proto_end(stdout);
    kt_proto_begin(stdout, 'C');
    kt_proto_put_uint(stdout, count);
    kt_proto_end(stdout);
    emit_runs(file, version);
    emit_volumes(file);
    kt_proto_begin(stdout, '.');
    kt_proto_end(stdout);
out:
    libscca_error_free(&e);
    if (opened == 0)
        libscca_file_close(file, NULL);
    if (file)
        libscca_file_free(&file, NULL);
    if (fd >= 0)
        close(fd);
    if (fflush(stdout) != 0 && rc == 0)
        rc = 2;
    return rc;
}
