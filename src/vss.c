/* The shadow copies of an NTFS volume, through the reader kavtrace-vss (see
 * kavtrace/vss.h and src/vss_proto.h). */
#include "kavtrace/vss.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kavtrace/helper.h"
#include "parsers/reader.h"
#include "vss_proto.h"

extern char **environ;

struct kt_vss {
    kt_image *img;
    int64_t base, size; /* the volume in the media */
    pid_t pid;
    int fd;         /* our end of the socket; -1 once the reader is gone */
    char dead[512]; /* why, once the reader failed */
    int64_t timeout_ms;
    kt_vss_store_info *stores;
    size_t count;
    uint8_t *buf; /* volume bytes for the reader */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Stop talking to the reader: every later call fails with why. */
static int fail(kt_vss *v, kt_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(kt_vss *v, kt_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->dead, sizeof v->dead, fmt, ap);
    va_end(ap);
    if (v->fd >= 0) {
        close(v->fd);
        v->fd = -1;
    }
    if (v->pid > 0) {
        kill(-v->pid, SIGKILL);
        waitpid(v->pid, NULL, 0);
        v->pid = 0;
    }
    return kt_error_set(err, KT_EIO, "shadow copy reader: %s", v->dead);
}

/* n bytes from the reader within the time limit; 0, or -1 (EOF, timeout
 * or error, in v->dead after fail). */
static int get(kt_vss *v, void *p, size_t n, kt_error *err)
{
    uint8_t *b = p;
    int64_t deadline = now_ms() + v->timeout_ms;
    while (n) {
        int64_t left = deadline - now_ms();
        struct pollfd pf = {.fd = v->fd, .events = POLLIN};
        int r = left > 0 ? poll(&pf, 1, left > INT32_MAX ? INT32_MAX : (int)left) : 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            return fail(v, err, "no answer within %.1f s (--helper-timeout)",
                        (double)v->timeout_ms / 1000);
        ssize_t got = r > 0 ? read(v->fd, b, n) : -1;
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            int status = 0;
            if (v->pid > 0 && waitpid(v->pid, &status, 0) == v->pid) {
                v->pid = 0;
                if (WIFSIGNALED(status))
                    return fail(v, err, "killed by signal %d (%s)", WTERMSIG(status),
                                strsignal(WTERMSIG(status)));
                return fail(v, err, "exited with status %d", WEXITSTATUS(status));
            }
            return fail(v, err, "ended its output");
        }
        b += got;
        n -= (size_t)got;
    }
    return 0;
}

static int put(kt_vss *v, const void *p, size_t n, kt_error *err)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = send(v->fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return fail(v, err, "stopped reading: %s", strerror(errno));
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The reader's error text after an 'E'. */
static int get_text(kt_vss *v, char *out, size_t len, kt_error *err)
{
    uint8_t h[4];
    if (get(v, h, 4, err))
        return -1;
    uint32_t n = kt_vss_get32(h);
    if (n > KT_VSS_MAX_TEXT)
        return fail(v, err, "a message of %" PRIu32 " bytes", n);
    char text[KT_VSS_MAX_TEXT + 1];
    if (get(v, text, n, err))
        return -1;
    text[n] = '\0';
    kt_strlcpy(out, text, len);
    return 0;
}

/* Answer the reader's requests for volume bytes until it sends something
 * else; its type in *type. */
static int serve(kt_vss *v, uint8_t *type, kt_error *err)
{
    for (;;) {
        if (get(v, type, 1, err))
            return -1;
        if (*type != KT_VSS_NEED_VOLUME)
            return 0;
        uint8_t req[12];
        if (get(v, req, sizeof req, err))
            return -1;
        uint64_t off = kt_vss_get64(req);
        uint32_t len = kt_vss_get32(req + 8);
        if (len > KT_VSS_MAX_READ)
            return fail(v, err, "asked for %" PRIu32 " bytes at once", len);
        int64_t n = 0;
        if (off < (uint64_t)v->size) {
            if ((uint64_t)len > (uint64_t)v->size - off)
                len = (uint32_t)((uint64_t)v->size - off);
            kt_error e = {0};
            ssize_t r = kt_image_read(v->img, v->base + (int64_t)off, v->buf, len, &e);
            n = r < 0 ? -1 : r;
        }
        uint8_t rep[9] = {KT_VSS_VOLUME_DATA};
        kt_vss_put64(rep + 1, (uint64_t)n);
        if (put(v, rep, sizeof rep, err) || (n > 0 && put(v, v->buf, (size_t)n, err)))
            return -1;
    }
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void child(pid_t parent, int sock, const char *path, char *const argv[], uint64_t memory)
{
    setpgid(0, 0);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(127);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    if (memory) {
        struct rlimit as = {(rlim_t)memory, (rlim_t)memory};
        setrlimit(RLIMIT_AS, &as);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (dup2(sock, STDIN_FILENO) < 0 || dup2(sock, STDOUT_FILENO) < 0)
        _exit(127);
    close_range(STDERR_FILENO + 1, ~0u, CLOSE_RANGE_CLOEXEC);
    execve(path, argv, environ);
    _exit(127);
}

static int start(kt_vss *v, kt_error *err)
{
    char where[4096];
    const char *path = kt_reader_path("KAVTRACE_VSS_READER", "kavtrace-vss", where, sizeof where);
    kt_helper_limits l;
    kt_helper_limits_get(&l);
    v->timeout_ms = (int64_t)(l.timeout * 1000);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return kt_error_set(err, KT_EIO, "cannot run '%s': socketpair: %s", path, strerror(errno));
    char size[32];
    snprintf(size, sizeof size, "%" PRId64, v->size);
    char *argv[] = {(char *)"kavtrace-vss", size, NULL};
    pid_t parent = getpid();
    v->pid = fork();
    if (v->pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return kt_error_set(err, KT_EIO, "cannot run '%s': fork: %s", path, strerror(errno));
    }
    if (v->pid == 0)
        child(parent, sv[1], path, argv, l.memory);
    setpgid(v->pid, v->pid);
    close(sv[1]);
    v->fd = sv[0];
    return KT_OK;
}

/* The VSS identifier that starts the volume header, at 0x1e00 in $Boot. */
static const uint8_t vss_identifier[16] = {0x6b, 0x87, 0x08, 0x38, 0x76, 0xc1, 0x48, 0x4e,
                                           0xb7, 0xae, 0x04, 0x04, 0x6e, 0x6c, 0xc7, 0x52};
#define VSS_HEADER_OFFSET 0x1e00

int kt_vss_open(kt_image *img, const kt_volume *vol, kt_vss **out, kt_error *err)
{
    /* No volume header, no shadow copies: no reader to start. A header
     * that cannot be read is the reader's to report. */
    uint8_t id[16];
    kt_error e = {0};
    if (vol->length > VSS_HEADER_OFFSET + (int64_t)sizeof id &&
        kt_image_read(img, vol->offset + VSS_HEADER_OFFSET, id, sizeof id, &e) ==
            (ssize_t)sizeof id &&
        memcmp(id, vss_identifier, sizeof id) != 0) {
        *out = NULL;
        return KT_OK;
    }
    kt_vss *v = calloc(1, sizeof *v);
    if (v == NULL || (v->buf = malloc(KT_VSS_MAX_READ)) == NULL) {
        free(v);
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    }
    v->img = img;
    v->base = vol->offset;
    v->size = vol->length;
    v->fd = -1;
    int rc = start(v, err);
    uint8_t type = 0, h[4];
    if (rc == KT_OK && (serve(v, &type, err) || (type != KT_VSS_STORES && type != KT_VSS_FAILED)))
        rc = v->dead[0] ? KT_EIO : fail(v, err, "unexpected message %u", type);
    char text[KT_VSS_MAX_TEXT];
    if (rc == KT_OK && type == KT_VSS_FAILED) {
        rc = get_text(v, text, sizeof text, err) ? KT_EIO
                                                 : kt_error_set(err, KT_EFORMAT, "%s", text);
    }
    if (rc == KT_OK && get(v, h, 4, err))
        rc = KT_EIO;
    uint32_t count = rc == KT_OK ? kt_vss_get32(h) : 0;
    if (rc == KT_OK && count > KT_VSS_MAX_STORES)
        rc = fail(v, err, "%" PRIu32 " stores", count);
    if (rc == KT_OK && count == 0) {
        kt_vss_free(v);
        *out = NULL;
        return KT_OK;
    }
    if (rc == KT_OK && (v->stores = calloc(count, sizeof *v->stores)) == NULL)
        rc = kt_error_set(err, KT_ENOMEM, "out of memory");
    for (uint32_t i = 0; rc == KT_OK && i < count; i++) {
        uint8_t rec[KT_VSS_STORE_RECORD];
        if (get(v, rec, sizeof rec, err)) {
            rc = KT_EIO;
            break;
        }
        rec[sizeof rec - 1] = rec[47] = rec[87] = rec[127] = '\0';
        kt_vss_store_info *s = &v->stores[i];
        s->number = (int)i + 1;
        s->readable = rec[0] == 0;
        kt_strlcpy(s->id, (const char *)rec + 8, sizeof s->id);
        kt_strlcpy(s->copy_id, (const char *)rec + 48, sizeof s->copy_id);
        kt_strlcpy(s->set_id, (const char *)rec + 88, sizeof s->set_id);
        uint64_t ft = kt_vss_get64(rec + 128);
        s->created = ft ? kt_time_from_filetime(ft) : KT_TIME_NONE;
        uint64_t size = kt_vss_get64(rec + 136);
        s->size = size > (uint64_t)INT64_MAX ? 0 : (int64_t)size;
        s->attributes = kt_vss_get32(rec + 144);
        kt_strlcpy(s->why, (const char *)rec + 160, sizeof s->why);
        v->count++;
    }
    if (rc) {
        kt_vss_free(v);
        return rc;
    }
    *out = v;
    return KT_OK;
}

size_t kt_vss_count(const kt_vss *vss)
{
    return vss ? vss->count : 0;
}

const kt_vss_store_info *kt_vss_store(const kt_vss *vss, size_t i)
{
    return &vss->stores[i];
}

ssize_t kt_vss_read(kt_vss *v, size_t i, int64_t off, void *buf, size_t len, kt_error *err)
{
    if (v->fd < 0)
        return kt_error_set(err, KT_EIO, "shadow copy reader: %s", v->dead);
    if (i >= v->count || off < 0)
        return kt_error_set(err, KT_EARG, "no such store or offset");
    size_t done = 0;
    while (done < len) {
        uint32_t want = len - done > KT_VSS_MAX_READ ? KT_VSS_MAX_READ : (uint32_t)(len - done);
        uint8_t req[17] = {KT_VSS_READ};
        kt_vss_put32(req + 1, (uint32_t)i);
        kt_vss_put64(req + 5, (uint64_t)off + done);
        kt_vss_put32(req + 13, want);
        uint8_t type = 0, rep[8];
        if (put(v, req, sizeof req, err) || serve(v, &type, err))
            return KT_EIO;
        if (type != KT_VSS_DATA)
            return fail(v, err, "unexpected message %u", type);
        if (get(v, rep, sizeof rep, err))
            return KT_EIO;
        int64_t n = (int64_t)kt_vss_get64(rep);
        if (n < 0) {
            char text[KT_VSS_MAX_TEXT];
            uint8_t t = 0;
            if (get(v, &t, 1, err) || t != KT_VSS_FAILED || get_text(v, text, sizeof text, err))
                return v->fd < 0 ? KT_EIO : fail(v, err, "unexpected message %u", t);
            return kt_error_set(err, KT_EIO, "store %zu: %s", i + 1, text);
        }
        if ((uint64_t)n > want)
            return fail(v, err, "sent %" PRId64 " bytes for %" PRIu32, n, want);
        if (get(v, (uint8_t *)buf + done, (size_t)n, err))
            return KT_EIO;
        done += (size_t)n;
        if ((uint32_t)n < want)
            break;
    }
    return (ssize_t)done;
}

void kt_vss_free(kt_vss *v)
{
    if (v == NULL)
        return;
    if (v->fd >= 0)
        close(v->fd); /* the reader sees the end of its input and exits */
    if (v->pid > 0) {
        int64_t deadline = now_ms() + KT_HELPER_TERM_GRACE_MS;
        while (waitpid(v->pid, NULL, WNOHANG) == 0) {
            if (now_ms() > deadline) {
                kill(-v->pid, SIGKILL);
                waitpid(v->pid, NULL, 0);
                break;
            }
            struct timespec ts = {0, 5 * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    free(v->stores);
    free(v->buf);
    free(v);
}
