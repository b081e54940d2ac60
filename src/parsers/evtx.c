/* The library's side of event logs: hand the log to kavtrace-evtx (see
 * include/kavtrace/evtx.h) and read back what it found. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kavtrace/evtx.h"

extern char **environ;

const char *kt_evtx_reader_path(void)
{
    const char *env = getenv("KAVTRACE_EVTX_READER");
    if (env && env[0])
        return env;
    static char path[4096];
    return kt_path_beside_exe("kavtrace-evtx", path, sizeof path) == 0 ? path : "kavtrace-evtx";
}

/* Undo the reader's escapes in place. */
static void unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r == '\\' && r[1]) {
            r++;
            *w++ = *r == 'n' ? '\n' : *r == 't' ? '\t' : *r == 'r' ? '\r' : *r;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

typedef struct pending {
    kt_evtx_record rec;
    char *provider, *computer;
    char *strings[KT_EVTX_MAX_STRINGS];
    size_t want, have;
    bool open;
} pending;

static void pending_clear(pending *p)
{
    free(p->provider);
    free(p->computer);
    for (size_t i = 0; i < p->have; i++)
        free(p->strings[i]);
    memset(p, 0, sizeof *p);
}

/* Read the reader's output; returns the callback's stop value or 0. */
static int read_output(FILE *in, kt_evtx_cb cb, void *ctx, kt_evtx_stats *stats,
                       kt_strlist *warnings, char *fatal, size_t fatal_len)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    pending p = {0};
    int stop = 0;
    while (!stop && (n = getline(&line, &cap, in)) > 0) {
        if (line[n - 1] == '\n')
            line[--n] = '\0';
        char kind = line[0];
        char *rest = n > 1 ? line + 2 : line + n;
        if (kind == 'R') {
            pending_clear(&p);
            unsigned long long id = 0, ft = 0;
            unsigned ev = 0;
            size_t chunk = 0;
            int rec = 0, ns = 0;
            if (sscanf(rest, "%llu\t%llu\t%u\t%zu\t%d\t%d", &id, &ft, &ev, &chunk, &rec, &ns) ==
                    6 &&
                ns >= 0 && ns <= KT_EVTX_MAX_STRINGS) {
                p.rec.record_id = id;
                p.rec.written = kt_time_from_filetime(ft);
                p.rec.event_id = ev;
                p.rec.chunk = chunk;
                p.rec.recovered = rec != 0;
                p.want = (size_t)ns;
                p.open = true;
            }
        } else if (kind == 'P' && p.open) {
            unescape(rest);
            p.provider = strdup(rest);
        } else if (kind == 'C' && p.open) {
            unescape(rest);
            p.computer = strdup(rest);
        } else if (kind == 'S' && p.open && p.have < p.want) {
            unescape(rest);
            p.strings[p.have++] = strdup(rest);
        } else if (kind == '.' && p.open) {
            p.rec.provider = p.provider ? p.provider : "";
            p.rec.computer = p.computer ? p.computer : "";
            p.rec.strings = (const char *const *)p.strings;
            p.rec.nstrings = p.have;
            stats->records++;
            stop = cb(ctx, &p.rec);
            pending_clear(&p);
        } else if (kind == 'W') {
            unescape(rest);
            kt_strlist_add(warnings, rest);
        } else if (kind == 'X') {
            size_t c = 0, pc = 0, r = 0;
            if (sscanf(rest, "%zu\t%zu\t%zu", &c, &pc, &r) == 3) {
                stats->chunks += c;
                stats->chunks_parsed += pc;
            }
        } else if (kind == 'E') {
            unescape(rest);
            kt_strlcpy(fatal, rest, fatal_len);
        }
    }
    pending_clear(&p);
    free(line);
    return stop;
}

int kt_evtx_walk(const uint8_t *data, size_t len, const kt_strlist *providers, kt_evtx_cb cb,
                 void *ctx, kt_evtx_stats *stats, kt_strlist *warnings, kt_error *err)
{
    if (len > KT_EVTX_MAX_SIZE)
        return kt_error_set(err, KT_ELIMIT, "event log of %zu bytes, over the limit", len);
    if (len < 8 || memcmp(data, "ElfFile\0", 8) != 0)
        return kt_error_set(err, KT_EFORMAT, "not an event log (no 'ElfFile' header)");
    const char *reader = kt_evtx_reader_path();
    int rc = KT_OK, in = -1, pipefd[2] = {-1, -1};
    pid_t pid = -1;
    FILE *out = NULL;
    char **argv = NULL;
    posix_spawn_file_actions_t fa;
    bool fa_ok = false;

    in = memfd_create("kavtrace-evtx", MFD_CLOEXEC);
    if (in < 0) {
        rc = kt_error_set(err, KT_EIO, "memfd_create: %s", strerror(errno));
        goto out;
    }
    for (size_t done = 0; done < len;) {
        ssize_t n = write(in, data + done, len - done);
        if (n <= 0) {
            rc = kt_error_set(err, KT_EIO, "staging the log: %s", strerror(errno));
            goto out;
        }
        done += (size_t)n;
    }
    lseek(in, 0, SEEK_SET);
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        rc = kt_error_set(err, KT_EIO, "pipe: %s", strerror(errno));
        goto out;
    }
    size_t np = providers ? providers->count : 0;
    argv = calloc(np + 2, sizeof *argv);
    if (argv == NULL) {
        rc = kt_error_set(err, KT_ENOMEM, "out of memory");
        goto out;
    }
    argv[0] = (char *)"kavtrace-evtx";
    for (size_t i = 0; i < np; i++)
        argv[i + 1] = providers->items[i];
    posix_spawn_file_actions_init(&fa);
    fa_ok = true;
    posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    int e = posix_spawn(&pid, reader, &fa, NULL, argv, environ);
    if (e != 0) {
        pid = -1;
        rc = kt_error_set(err, KT_EIO, "cannot run the event-log reader '%s': %s", reader,
                          strerror(e));
        goto out;
    }
    close(pipefd[1]);
    pipefd[1] = -1;
    out = fdopen(pipefd[0], "r");
    if (out == NULL) {
        rc = kt_error_set(err, KT_EIO, "reading the event-log reader: %s", strerror(errno));
        goto out;
    }
    pipefd[0] = -1;
    char fatal[512] = "";
    int stop = read_output(out, cb, ctx, stats, warnings, fatal, sizeof fatal);
    fclose(out);
    out = NULL;
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
    if (stop)
        rc = stop;
    else if (fatal[0])
        rc = kt_error_set(err, KT_EFORMAT, "%s", fatal);
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        rc = kt_error_set(err, KT_EFORMAT, "the event-log reader failed (%s %d)",
                          WIFSIGNALED(status) ? "signal" : "status",
                          WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
out:
    if (out)
        fclose(out);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 2; i++)
        if (pipefd[i] >= 0)
            close(pipefd[i]);
    if (in >= 0)
        close(in);
    free(argv);
    return rc;
}
