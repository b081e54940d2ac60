/* LD_PRELOAD guard for the CLI tests.
 *
 * KT_GUARD_DIR, KT_GUARD_LOG: logs every open of a file under DIR to LOG
 * as "r PATH" or "W PATH" (any write, create or truncate flag), so a test
 * can show evidence is only ever opened for reading. Nothing is refused:
 * the test judges the log.
 *
 * KT_GUARD_FULL=NAME: a file whose name starts with NAME (NAME itself, or
 * a temporary NAME.tmp...) opened for writing is /dev/full instead, so
 * every write to it fails with ENOSPC as on a full disk.
 *
 * KT_GUARD_READONLY=DIR: creating, opening for writing, renaming or
 * removing anything under DIR fails with EROFS, as on a read-only
 * filesystem. Both work whoever runs the test, root included (root
 * ignores a directory's permissions). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WRITE_FLAGS (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)

/* path as an absolute path: relative ones against dirfd or the cwd. */
static void absolute(int dirfd, const char *path, char *out, size_t len)
{
    out[0] = '\0';
    if (path == NULL)
        return;
    if (path[0] == '/') {
        snprintf(out, len, "%s", path);
        return;
    }
    char base[4096] = "";
    if (dirfd == AT_FDCWD) {
        if (getcwd(base, sizeof base) == NULL)
            base[0] = '\0';
    } else {
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
        ssize_t n = readlink(link, base, sizeof base - 1);
        base[n > 0 ? n : 0] = '\0';
    }
    snprintf(out, len, "%s/%s", base, path);
}

/* Under $KT_GUARD_READONLY? */
static bool readonly(int dirfd, const char *path)
{
    const char *dir = getenv("KT_GUARD_READONLY");
    if (dir == NULL || dir[0] == '\0')
        return false;
    char abs[8192];
    absolute(dirfd, path, abs, sizeof abs);
    size_t n = strlen(dir);
    return strncmp(abs, dir, n) == 0 && (abs[n] == '/' || abs[n] == '\0');
}

/* Named $KT_GUARD_FULL...? */
static bool full(const char *path)
{
    const char *name = getenv("KT_GUARD_FULL");
    if (name == NULL || name[0] == '\0' || path == NULL)
        return false;
    const char *slash = strrchr(path, '/');
    return strncmp(slash ? slash + 1 : path, name, strlen(name)) == 0;
}

static void note(const char *path, int flags)
{
    const char *dir = getenv("KT_GUARD_DIR"), *log = getenv("KT_GUARD_LOG");
    if (!dir || !log || !path || strncmp(path, dir, strlen(dir)) != 0)
        return;
    int w = (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) != 0;
    int (*real_open)(const char *, int, ...) =
        (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    int fd = real_open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0)
        return;
    char line[4200];
    int n = snprintf(line, sizeof line, "%c %s\n", w ? 'W' : 'r', path);
    if (n > 0 && write(fd, line, (size_t)n) < 0)
        n = 0;
    close(fd);
}

/* What an open for writing meets instead of the file: -1 with errno set
 * (read-only), a descriptor of /dev/full, or -2 (go on). */
static int injected(int dirfd, const char *path, int flags)
{
    if (!(flags & WRITE_FLAGS))
        return -2;
    if (readonly(dirfd, path)) {
        errno = EROFS;
        return -1;
    }
    if (full(path)) {
        int (*real_open)(const char *, int, ...) =
            (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
        return real_open("/dev/full", O_WRONLY | O_CLOEXEC);
    }
    return -2;
}

static int mode_flags(const char *mode)
{
    return strpbrk(mode, "wa+") ? O_RDWR : O_RDONLY;
}

#define OPEN_LIKE(name)                                                                            \
    int name(const char *path, int flags, ...)                                                     \
    {                                                                                              \
        mode_t mode = 0;                                                                           \
        if (flags & (O_CREAT | O_TMPFILE)) {                                                       \
            va_list ap;                                                                            \
            va_start(ap, flags);                                                                   \
            mode = va_arg(ap, mode_t);                                                             \
            va_end(ap);                                                                            \
        }                                                                                          \
        note(path, flags);                                                                         \
        int fd = injected(AT_FDCWD, path, flags);                                                  \
        if (fd != -2)                                                                              \
            return fd;                                                                             \
        int (*real)(const char *, int, ...) =                                                      \
            (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, #name);                              \
        return real(path, flags, mode);                                                            \
    }
OPEN_LIKE(open)
OPEN_LIKE(open64)

#define OPENAT_LIKE(name)                                                                          \
    int name(int dirfd, const char *path, int flags, ...)                                          \
    {                                                                                              \
        mode_t mode = 0;                                                                           \
        if (flags & (O_CREAT | O_TMPFILE)) {                                                       \
            va_list ap;                                                                            \
            va_start(ap, flags);                                                                   \
            mode = va_arg(ap, mode_t);                                                             \
            va_end(ap);                                                                            \
        }                                                                                          \
        note(path, flags);                                                                         \
        int fd = injected(dirfd, path, flags);                                                     \
        if (fd != -2)                                                                              \
            return fd;                                                                             \
        int (*real)(int, const char *, int, ...) =                                                 \
            (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, #name);                         \
        return real(dirfd, path, flags, mode);                                                     \
    }
OPENAT_LIKE(openat)
OPENAT_LIKE(openat64)

#define FOPEN_LIKE(name)                                                                           \
    FILE *name(const char *path, const char *mode)                                                 \
    {                                                                                              \
        note(path, mode_flags(mode));                                                              \
        int fd = injected(AT_FDCWD, path, mode_flags(mode));                                       \
        if (fd == -1)                                                                              \
            return NULL;                                                                           \
        if (fd >= 0)                                                                               \
            return fdopen(fd, "w");                                                                \
        FILE *(*real)(const char *, const char *) =                                                \
            (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, #name);                      \
        return real(path, mode);                                                                   \
    }
FOPEN_LIKE(fopen)
FOPEN_LIKE(fopen64)

/* Changes to a directory's entries, refused under $KT_GUARD_READONLY. */
#define REFUSE(dirfd, path)                                                                        \
    do {                                                                                           \
        if (readonly(dirfd, path)) {                                                               \
            errno = EROFS;                                                                         \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)
#define NEXT(name, type) ((type)dlsym(RTLD_NEXT, name))

/* A read-only filesystem still says an existing directory exists. */
int mkdir(const char *path, mode_t mode)
{
    struct stat st;
    if (readonly(AT_FDCWD, path) && stat(path, &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    REFUSE(AT_FDCWD, path);
    return NEXT("mkdir", int (*)(const char *, mode_t))(path, mode);
}

int mkdirat(int dirfd, const char *path, mode_t mode)
{
    struct stat st;
    if (readonly(dirfd, path) && fstatat(dirfd, path, &st, 0) == 0) {
        errno = EEXIST;
        return -1;
    }
    REFUSE(dirfd, path);
    return NEXT("mkdirat", int (*)(int, const char *, mode_t))(dirfd, path, mode);
}

int rename(const char *from, const char *to)
{
    REFUSE(AT_FDCWD, from);
    REFUSE(AT_FDCWD, to);
    return NEXT("rename", int (*)(const char *, const char *))(from, to);
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
    REFUSE(fromfd, from);
    REFUSE(tofd, to);
    return NEXT("renameat", int (*)(int, const char *, int, const char *))(fromfd, from, tofd, to);
}

int unlink(const char *path)
{
    REFUSE(AT_FDCWD, path);
    return NEXT("unlink", int (*)(const char *))(path);
}

int unlinkat(int dirfd, const char *path, int flags)
{
    REFUSE(dirfd, path);
    return NEXT("unlinkat", int (*)(int, const char *, int))(dirfd, path, flags);
}

int rmdir(const char *path)
{
    REFUSE(AT_FDCWD, path);
    return NEXT("rmdir", int (*)(const char *))(path);
}
