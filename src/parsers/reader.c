/* Running a reader program over bytes in memory, within its budget (see
 * reader.h and kavtrace/helper.h). */
#include "parsers/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kavtrace/buf.h"
#include "kavtrace/helper.h"

extern char **environ;

#define FIRST_BUFFER ((size_t)64 << 10)
/* How often the program's exit is looked for when there is no pidfd. */
#define TICK_MS 50

/* ---- limits ---- */

static kt_helper_limits current;
static bool current_set;

void kt_helper_limits_default(kt_helper_limits *l)
{
    l->timeout = KT_HELPER_TIMEOUT;
    l->timeout_per_mib = KT_HELPER_TIMEOUT_PER_MIB;
    l->memory = KT_HELPER_MEMORY;
#if defined(__SANITIZE_ADDRESS__)
    l->memory = 0;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    l->memory = 0;
#endif
#endif
}

void kt_helper_limits_set(const kt_helper_limits *l)
{
    current_set = l != NULL;
    if (l)
        current = *l;
}

void kt_helper_limits_get(kt_helper_limits *l)
{
    if (current_set)
        *l = current;
    else
        kt_helper_limits_default(l);
}

/* a + b * n, at most UINT64_MAX */
static uint64_t scaled(uint64_t a, uint64_t b, uint64_t n)
{
    if (b && n > (UINT64_MAX - a) / b)
        return UINT64_MAX;
    return a + b * n;
}

void kt_helper_budget_for(const kt_helper_limits *l, size_t len, kt_helper_budget *out)
{
    double ms = (l->timeout + l->timeout_per_mib * ((double)len / (1 << 20))) * 1000.0;
    out->timeout_ms = ms >= (double)INT64_MAX ? INT64_MAX : ms < 1 ? 1 : (int64_t)ms;
    out->memory = l->memory ? scaled(l->memory, KT_HELPER_MEMORY_PER_BYTE, len) : 0;
    out->output_bytes = scaled(KT_HELPER_OUTPUT, KT_HELPER_OUTPUT_PER_BYTE, len);
    out->output_lines = scaled(KT_HELPER_LINES, 1, len / KT_HELPER_BYTES_PER_LINE);
}

/* ---- starting the program ---- */

const char *kt_reader_path(const char *envvar, const char *name, char *buf, size_t len)
{
    const char *env = getenv(envvar);
    if (env && env[0])
        return env;
    return kt_path_beside_exe(name, buf, len) == 0 ? buf : name;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

/* A pipe, both ends close-on-exec and above 2; -1 with errno on failure. */
static int make_pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    fds[0] = above_stdio(fds[0]);
    fds[1] = above_stdio(fds[1]);
    return fds[0] < 0 || fds[1] < 0 ? -1 : 0;
}

int kt_reader_input_new(void)
{
    return above_stdio(memfd_create("kavtrace-reader-input", MFD_CLOEXEC));
}

/* data in a fresh memfd, at offset 0; -1 with errno on failure. */
static int stage(const uint8_t *data, size_t len)
{
    int fd = kt_reader_input_new();
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

/* What the child reports through its close-on-exec pipe when it cannot
 * start the program. */
enum { STAGE_LIMIT = 1, STAGE_EXEC };

/* In the child, between fork and exec: async-signal-safe calls only. */
static void child(pid_t parent, int in, int out, int report, const char *path, char *const argv[],
                  uint64_t memory)
{
    int msg[2];
    setpgid(0, 0);
    /* Killed when this process dies; if it died before that was asked,
     * the parent is another already. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(127);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    if (memory) {
        rlim_t m = memory > (uint64_t)RLIM_INFINITY ? RLIM_INFINITY : (rlim_t)memory;
        struct rlimit as = {m, m};
        if (setrlimit(RLIMIT_AS, &as) != 0) {
            msg[0] = STAGE_LIMIT;
            goto fail;
        }
    }
    /* No blocked signals, and none ignored but SIGTTOU (an ignored signal stays
     * so across exec): SIGPIPE ends the program when nobody reads its output,
     * SIGTERM stops it. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        sigaction(s, &dfl, NULL);
    /* In a group of its own it is in the background of a terminal: with
     * `stty tostop` a write to its standard error would stop it. */
    struct sigaction ign = dfl;
    ign.sa_handler = SIG_IGN;
    sigaction(SIGTTOU, &ign, NULL);
    if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0) {
        msg[0] = STAGE_EXEC;
        goto fail;
    }
    /* Whatever this process opened without O_CLOEXEC stays out too. */
    close_range(STDERR_FILENO + 1, ~0u, CLOSE_RANGE_CLOEXEC);
    execve(path, argv, environ);
    msg[0] = STAGE_EXEC;
fail:
    msg[1] = errno;
    ssize_t n = write(report, msg, sizeof msg);
    (void)n;
    _exit(127);
}

/* ---- watching it ---- */

typedef enum stop {
    RUNNING,
    DONE,        /* it exited and its output ended */
    BY_CALLBACK, /* rc is the callback's */
    FAILED,      /* rc and err are set */
    TIMED_OUT,
    TOO_MANY_BYTES,
    TOO_MANY_LINES,
    LINE_TOO_LONG,
    LEFT_BEHIND,
} stop;

typedef struct run {
    const char *path;
    size_t len;
    kt_helper_budget budget;
    pid_t pid;
    int pidfd; /* -1 when the kernel gives none */
    int fd;    /* its output; -1 once at its end */
    bool exited;
    int64_t started, deadline;
    uint64_t bytes, lines;
    char *buf; /* buf[start..have) is unconsumed; buf[start..scanned) has no '\n' */
    size_t cap, start, have, scanned;
    kt_reader_line_cb cb;
    void *ctx;
    int rc;
} run;

/* The program has exited (it stays a zombie, its group's id held, until
 * reap). */
static bool has_exited(run *r)
{
    if (!r->exited) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        r->exited =
            waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0;
    }
    return r->exited;
}

static stop deliver(run *r, char *line)
{
    if (++r->lines > r->budget.output_lines)
        return TOO_MANY_LINES;
    r->rc = r->cb(r->ctx, line);
    return r->rc ? BY_CALLBACK : RUNNING;
}

/* Hand on each whole line in the buffer. */
static stop lines(run *r)
{
    for (;;) {
        char *nl = memchr(r->buf + r->scanned, '\n', r->have - r->scanned);
        if (nl == NULL)
            break;
        *nl = '\0';
        size_t next = (size_t)(nl - r->buf) + 1;
        stop s = deliver(r, r->buf + r->start);
        if (s != RUNNING)
            return s;
        r->start = r->scanned = next;
    }
    r->scanned = r->have;
    if (r->have - r->start > KT_READER_MAX_LINE)
        return LINE_TOO_LONG;
    return RUNNING;
}

/* One read of its output. */
static stop read_some(run *r, kt_error *err)
{
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->have - r->start);
        r->have -= r->start;
        r->scanned -= r->start;
        r->start = 0;
    }
    if (r->cap - r->have < 2) {
        char *p = realloc(r->buf, r->cap * 2);
        if (p == NULL) {
            r->rc = kt_error_set(err, KT_ENOMEM, "out of memory");
            return FAILED;
        }
        r->buf = p;
        r->cap *= 2;
    }
    /* One byte stays free for the terminator of a last line without '\n'. */
    ssize_t n = read(r->fd, r->buf + r->have, r->cap - r->have - 1);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return RUNNING;
    if (n < 0) {
        r->rc =
            kt_error_set(err, KT_EIO, "reading the output of '%s': %s", r->path, strerror(errno));
        return FAILED;
    }
    if (n == 0) {
        close(r->fd);
        r->fd = -1;
        if (r->have > r->start) {
            r->buf[r->have] = '\0';
            stop s = deliver(r, r->buf + r->start);
            r->start = r->scanned = r->have;
            return s;
        }
        return RUNNING;
    }
    r->bytes += (uint64_t)n;
    if (r->bytes > r->budget.output_bytes)
        return TOO_MANY_BYTES;
    r->have += (size_t)n;
    return lines(r);
}

/* Read the output until it ends and the program has exited, or until
 * something stops the run. */
static stop watch(run *r, kt_error *err)
{
    for (;;) {
        if (r->fd < 0 && has_exited(r))
            return DONE;
        int64_t left = r->deadline - now_ms();
        if (left <= 0)
            return TIMED_OUT;
        /* Once it has exited, what it wrote is all in the pipe: read on
         * without waiting, and a pipe with nothing in it and no end is held
         * open by some other process. */
        bool was_exited = r->exited;
        int wait = left > INT_MAX ? INT_MAX : (int)left;
        if (was_exited)
            wait = 0;
        else if (r->pidfd < 0 && wait > TICK_MS)
            wait = TICK_MS;
        struct pollfd p[2] = {{.fd = r->fd, .events = POLLIN},
                              {.fd = was_exited ? -1 : r->pidfd, .events = POLLIN}};
        int n = poll(p, 2, wait);
        if (n < 0 && errno != EINTR) {
            r->rc = kt_error_set(err, KT_EIO, "waiting for '%s': %s", r->path, strerror(errno));
            return FAILED;
        }
        if (n < 0)
            continue;
        has_exited(r);
        if (r->fd >= 0 && p[0].revents) {
            stop s = read_some(r, err);
            if (s != RUNNING)
                return s;
        } else if (r->fd >= 0 && was_exited) {
            return LEFT_BEHIND;
        }
    }
}

static void signal_group(pid_t pid, int sig)
{
    if (killpg(pid, sig) != 0)
        kill(pid, sig);
}

/* SIGTERM to its group, SIGKILL after the grace time (to the group again:
 * what it started may outlive it). */
static void terminate(run *r)
{
    signal_group(r->pid, SIGTERM);
    int64_t until = now_ms() + KT_HELPER_TERM_GRACE_MS;
    while (!has_exited(r)) {
        int64_t left = until - now_ms();
        if (left <= 0)
            break;
        int wait = left > INT_MAX ? INT_MAX : (int)left;
        if (r->pidfd < 0 && wait > TICK_MS)
            wait = TICK_MS;
        struct pollfd p = {.fd = r->pidfd, .events = POLLIN};
        poll(&p, 1, wait);
    }
    signal_group(r->pid, SIGKILL);
}

static int reap(pid_t pid, int *status)
{
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

/* " (under a memory limit of N MiB)", or "" */
static const char *memory_note(const run *r, char *buf, size_t len)
{
    buf[0] = '\0';
    if (r->budget.memory)
        snprintf(buf, len, " (under a memory limit of %llu MiB)",
                 (unsigned long long)(r->budget.memory >> 20));
    return buf;
}

/* The run's result from how it stopped and the program's status. */
static int verdict(run *r, stop how, bool reaped, int status, kt_error *err)
{
    char note[64];
    switch (how) {
    case BY_CALLBACK:
    case FAILED:
        return r->rc;
    case TIMED_OUT:
        return kt_error_set(err, KT_EIO,
                            "'%s' was killed: still running after %.1f s, its time limit for %zu "
                            "bytes of input (--helper-timeout)",
                            r->path, (double)r->budget.timeout_ms / 1000.0, r->len);
    case TOO_MANY_BYTES:
        return kt_error_set(err, KT_EIO,
                            "'%s' was killed: over %llu bytes of output, its limit for %zu bytes "
                            "of input",
                            r->path, (unsigned long long)r->budget.output_bytes, r->len);
    case TOO_MANY_LINES:
        return kt_error_set(err, KT_EIO,
                            "'%s' was killed: over %llu lines of output, its limit for %zu bytes "
                            "of input",
                            r->path, (unsigned long long)r->budget.output_lines, r->len);
    case LINE_TOO_LONG:
        return kt_error_set(err, KT_EIO, "'%s' was killed: a line of output over %zu bytes",
                            r->path, KT_READER_MAX_LINE);
    case LEFT_BEHIND:
        return kt_error_set(err, KT_EIO,
                            "'%s' was killed: it exited, but a process it started still held "
                            "its output open",
                            r->path);
    case RUNNING:
    case DONE:
        break;
    }
    if (!reaped)
        return kt_error_set(err, KT_EIO, "waiting for '%s': %s", r->path, strerror(errno));
    if (WIFSIGNALED(status))
        return kt_error_set(err, KT_EIO, "'%s' killed by signal %d (%s)%s", r->path,
                            WTERMSIG(status), strsignal(WTERMSIG(status)),
                            memory_note(r, note, sizeof note));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return kt_error_set(err, KT_EIO, "'%s' exited with status %d%s", r->path,
                            WEXITSTATUS(status), memory_note(r, note, sizeof note));
    return KT_OK;
}

/* The child's report: 0 when the program started (the pipe closed on
 * exec), else an error. */
static int started(run *r, int fd, kt_error *err)
{
    int msg[2];
    ssize_t n;
    do
        n = read(fd, msg, sizeof msg);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof msg)
        return KT_OK;
    reap(r->pid, NULL);
    r->pid = -1;
    if (msg[0] == STAGE_LIMIT)
        return kt_error_set(err, KT_EIO, "cannot limit the memory of '%s' to %llu bytes: %s",
                            r->path, (unsigned long long)r->budget.memory, strerror(msg[1]));
    return kt_error_set(err, KT_EIO, "cannot run '%s': %s", r->path, strerror(msg[1]));
}

static int run_staged(const char *path, char *const argv[], int in, size_t len,
                      kt_reader_line_cb cb, void *ctx, kt_error *err);

int kt_reader_run(const char *path, char *const argv[], const uint8_t *data, size_t len,
                  kt_reader_line_cb cb, void *ctx, kt_error *err)
{
    int in = stage(data, len);
    if (in < 0)
        return kt_error_set(err, KT_EIO, "staging the input of '%s': %s", path, strerror(errno));
    return run_staged(path, argv, in, len, cb, ctx, err);
}

int kt_reader_run_fd(const char *path, char *const argv[], int fd, size_t len, kt_reader_line_cb cb,
                     void *ctx, kt_error *err)
{
    int in = above_stdio(fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1));
    if (in < 0 || lseek(in, 0, SEEK_SET) != 0) {
        int e = errno;
        if (in >= 0)
            close(in);
        return kt_error_set(err, KT_EIO, "staging the input of '%s': %s", path, strerror(e));
    }
    return run_staged(path, argv, in, len, cb, ctx, err);
}

/* The run over the staged input `in` (taken: closed here). */
static int run_staged(const char *path, char *const argv[], int in, size_t len,
                      kt_reader_line_cb cb, void *ctx, kt_error *err)
{
    kt_helper_limits lim;
    kt_helper_limits_get(&lim);
    run r = {.path = path, .len = len, .pid = -1, .pidfd = -1, .fd = -1, .cb = cb, .ctx = ctx};
    kt_helper_budget_for(&lim, len, &r.budget);
    int rc = KT_OK, out[2] = {-1, -1}, report[2] = {-1, -1};

    r.cap = FIRST_BUFFER;
    r.buf = malloc(r.cap);
    if (r.buf == NULL) {
        rc = kt_error_set(err, KT_ENOMEM, "out of memory");
        goto out;
    }
    if (make_pipe(out) != 0 || make_pipe(report) != 0) {
        rc = kt_error_set(err, KT_EIO, "pipe: %s", strerror(errno));
        goto out;
    }
    pid_t self = getpid();
    r.pid = fork();
    if (r.pid < 0) {
        rc = kt_error_set(err, KT_EIO, "cannot run '%s': fork: %s", path, strerror(errno));
        goto out;
    }
    if (r.pid == 0)
        child(self, in, out[1], report[1], path, argv, r.budget.memory);
    /* Also here, so that a signal to the group cannot come before it is
     * one (it fails once the program runs, which is fine). */
    setpgid(r.pid, r.pid);
    r.started = now_ms();
    r.deadline = r.started + r.budget.timeout_ms;
    close(out[1]);
    out[1] = -1;
    close(report[1]);
    report[1] = -1;
    close(in);
    in = -1;
    rc = started(&r, report[0], err);
    if (rc != KT_OK)
        goto out;

    r.pidfd = pidfd_open(r.pid, 0);
    r.fd = out[0];
    out[0] = -1;
    stop how = watch(&r, err);
    if (how != DONE)
        terminate(&r);
    else
        signal_group(r.pid, SIGKILL); /* what it started and left behind */
    int status = 0;
    bool reaped = reap(r.pid, &status) == 0;
    r.pid = -1;
    rc = verdict(&r, how, reaped, status, err);
out:
    if (r.pid > 0) {
        signal_group(r.pid, SIGKILL);
        reap(r.pid, NULL);
    }
    if (r.pidfd >= 0)
        close(r.pidfd);
    if (r.fd >= 0)
        close(r.fd);
    for (int i = 0; i < 2; i++) {
        if (out[i] >= 0)
            close(out[i]);
        if (report[i] >= 0)
            close(report[i]);
    }
    if (in >= 0)
        close(in);
    free(r.buf);
    return rc;
}
