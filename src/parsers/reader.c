/* Running a reader program over bytes in memory (see reader.h). */
#include "parsers/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kavtrace/buf.h"

extern char **environ;

#define FIRST_BUFFER ((size_t)64 << 10)

const char *kt_reader_path(const char *envvar, const char *name, char *buf, size_t len)
{
    const char *env = getenv(envvar);
    if (env && env[0])
        return env;
    return kt_path_beside_exe(name, buf, len) == 0 ? buf : name;
}

/* The descriptor moved above 2 (still close-on-exec) when it is 0, 1 or 2,
 * as it is when the caller runs with a standard stream closed: the child's
 * dup2 onto 0 and 1 must not overwrite one of its own sources. */
static int above_stdio(int fd)
{
    if (fd < 0 || fd > STDERR_FILENO)
        return fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    int e = errno;
    close(fd);
    errno = e;
    return moved;
}

/* data in a fresh memfd, at offset 0; -1 with errno on failure. */
static int stage(const uint8_t *data, size_t len)
{
    int fd = above_stdio(memfd_create("kavtrace-reader-input", MFD_CLOEXEC));
    if (fd < 0)
        return -1;
    for (size_t done = 0; done < len;) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            errno = e;
            return -1;
        }
        done += (size_t)n;
    }
    if (lseek(fd, 0, SEEK_SET) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Hand each line read from fd to cb; returns 0 at end of output, the
 * callback's stop value, or an error. */
static int read_lines(int fd, const char *path, kt_reader_line_cb cb, void *ctx, kt_error *err)
{
    size_t cap = FIRST_BUFFER, start = 0, have = 0, scanned = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    int rc = KT_OK;
    for (;;) {
        /* buf[start..have) is unconsumed; buf[start..scanned) has no '\n'. */
        char *nl = memchr(buf + scanned, '\n', have - scanned);
        if (nl) {
            *nl = '\0';
            size_t next = (size_t)(nl - buf) + 1;
            rc = cb(ctx, buf + start);
            if (rc)
                break;
            start = scanned = next;
            continue;
        }
        scanned = have;
        if (have - start > KT_READER_MAX_LINE) {
            rc = kt_error_set(err, KT_ELIMIT, "'%s' wrote a line over %zu bytes", path,
                              KT_READER_MAX_LINE);
            break;
        }
        if (start > 0) {
            memmove(buf, buf + start, have - start);
            have -= start;
            scanned -= start;
            start = 0;
        }
        if (cap - have < 2) {
            char *p = realloc(buf, cap * 2);
            if (p == NULL) {
                rc = kt_error_set(err, KT_ENOMEM, "out of memory");
                break;
            }
            buf = p;
            cap *= 2;
        }
        /* One byte stays free for the terminator of a last line without '\n'. */
        ssize_t n = read(fd, buf + have, cap - have - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = kt_error_set(err, KT_EIO, "reading the output of '%s': %s", path, strerror(errno));
            break;
        }
        if (n == 0) {
            if (have > start) {
                buf[have] = '\0';
                rc = cb(ctx, buf + start);
            }
            break;
        }
        have += (size_t)n;
    }
    free(buf);
    return rc;
}

static int reap(pid_t pid, int *status)
{
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

int kt_reader_run(const char *path, char *const argv[], const uint8_t *data, size_t len,
                  kt_reader_line_cb cb, void *ctx, kt_error *err)
{
    int rc = KT_OK, in = -1, out[2] = {-1, -1};
    pid_t pid = -1;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    bool fa_ok = false, attr_ok = false;
    sigset_t none, pipe_only;
    int e, status = 0;

    in = stage(data, len);
    if (in < 0) {
        rc = kt_error_set(err, KT_EIO, "staging the input of '%s': %s", path, strerror(errno));
        goto out;
    }
    if (pipe2(out, O_CLOEXEC) != 0) {
        rc = kt_error_set(err, KT_EIO, "pipe: %s", strerror(errno));
        goto out;
    }
    out[0] = above_stdio(out[0]);
    out[1] = above_stdio(out[1]);
    if (out[0] < 0 || out[1] < 0) {
        rc = kt_error_set(err, KT_EIO, "pipe: %s", strerror(errno));
        goto out;
    }
    /* dup2 clears close-on-exec on the copies; everything else of ours
     * stays closed in the program. */
    e = posix_spawn_file_actions_init(&fa);
    fa_ok = e == 0;
    if (e == 0)
        e = posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
    if (e == 0)
        e = posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    /* The program starts with no blocked signals and with SIGPIPE's
     * default action even when the caller ignores it, so that it ends when
     * nobody reads its output any more. */
    if (e == 0) {
        e = posix_spawnattr_init(&attr);
        attr_ok = e == 0;
    }
    sigemptyset(&none);
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    if (e == 0)
        e = posix_spawnattr_setsigmask(&attr, &none);
    if (e == 0)
        e = posix_spawnattr_setsigdefault(&attr, &pipe_only);
    if (e == 0)
        e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (e == 0)
        e = posix_spawn(&pid, path, &fa, &attr, argv, environ);
    if (e != 0) {
        pid = -1;
        rc = kt_error_set(err, KT_EIO, "cannot run '%s': %s", path, strerror(e));
        goto out;
    }
    close(out[1]);
    out[1] = -1;
    close(in);
    in = -1;

    rc = read_lines(out[0], path, cb, ctx, err);
    if (rc != KT_OK)
        kill(pid, SIGKILL);
    if (reap(pid, &status) != 0) {
        if (rc == KT_OK)
            rc = kt_error_set(err, KT_EIO, "waiting for '%s': %s", path, strerror(errno));
    } else if (rc == KT_OK && WIFSIGNALED(status)) {
        rc = kt_error_set(err, KT_EIO, "'%s' killed by signal %d (%s)", path, WTERMSIG(status),
                          strsignal(WTERMSIG(status)));
    } else if (rc == KT_OK && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
        rc = kt_error_set(err, KT_EIO, "'%s' exited with status %d", path, WEXITSTATUS(status));
    }
    pid = -1;
out:
    if (pid > 0) {
        kill(pid, SIGKILL);
        reap(pid, NULL);
    }
    if (attr_ok)
        posix_spawnattr_destroy(&attr);
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 2; i++)
        if (out[i] >= 0)
            close(out[i]);
    if (in >= 0)
        close(in);
    return rc;
}
