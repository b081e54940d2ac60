/* LD_PRELOAD guard for the CLI tests: logs every open of a file under
 * $KT_GUARD_DIR to $KT_GUARD_LOG as "r PATH" or "W PATH" (any write,
 * create or truncate flag), so a test can show evidence is only ever
 * opened for reading. Nothing is refused: the test judges the log. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
        FILE *(*real)(const char *, const char *) =                                                \
            (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, #name);                      \
        return real(path, mode);                                                                   \
    }
FOPEN_LIKE(fopen)
FOPEN_LIKE(fopen64)
