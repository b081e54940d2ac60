/* kavtrace (internal): run a reader program over bytes held in memory.
 *
 * The libyal parsers run in programs of their own (kavtrace-evtx,
 * kavtrace-prefetch): libewf and the libyal libraries export clashing
 * copies of the same helper libraries, and a malformed file then takes
 * down the reader, not the scan. kt_reader_run gives the program the bytes
 * as its standard input (a memfd: seekable, and readable by path through
 * /proc/self/fd/0) and hands its standard output back line by line (their
 * protocol, both sides of it, is src/reader_proto.h). Its standard error
 * is the caller's.
 *
 * Each run has the budget kavtrace/helper.h describes, for the input's
 * size under the limits in force: the program runs in a process group of
 * its own, with RLIMIT_AS, no core dumps and SIGKILL when this process
 * dies (PR_SET_PDEATHSIG); its output is read with poll() until the
 * deadline, and its own exit is watched (a pidfd, else waitid every
 * 50 ms), so that a process it leaves behind holding the pipe open does
 * not hold the run. */
#ifndef KAVTRACE_PARSERS_READER_H
#define KAVTRACE_PARSERS_READER_H

#include <stddef.h>
#include <stdint.h>

#include "kavtrace/error.h"

/* A longer output line stops the program (the protocol's longest line, an
 * event log string of 1 MiB with every byte escaped, is half of it). */
#define KT_READER_MAX_LINE ((size_t)4 << 20)

/* A client keeps the first KT_READER_MAX_WARNINGS warning lines of a run,
 * each cut to KT_READER_MAX_WARNING bytes, and counts the rest: a reader
 * that floods must not fill this process's memory with its warnings. */
#define KT_READER_MAX_WARNINGS 200
#define KT_READER_MAX_WARNING 1000

/* Called for each line of output, without its '\n' and NUL-terminated (a
 * last line without '\n' counts too). The callback may modify the line,
 * which lives until it returns. Return 0 to go on; anything else stops the
 * program (it is killed) and becomes kt_reader_run's return value. */
typedef int (*kt_reader_line_cb)(void *ctx, char *line);

/* Run the program at `path` (not searched for in $PATH) with argv (NULL-
 * terminated; argv[0] is what the program sees as its name) and
 * data[0..len) as its standard input, and call cb for each line it writes.
 * Returns 0 when the program exited with status 0 within its budget, the
 * callback's non-zero value when it stopped the run, else KT_ENOMEM or
 * KT_EIO with a message that names the program and says what happened:
 *   "cannot run '/usr/bin/kavtrace-evtx': No such file or directory"
 *   "'...' exited with status 1", "'...' killed by signal 11
 *     (Segmentation fault)", each followed by " (under a memory limit of
 *     N MiB)" when there was one (a helper out of memory fails so);
 *   "'...' was killed: still running after 30.0 s, its time limit for
 *     N bytes of input (--helper-timeout)";
 *   "'...' was killed: over N bytes of output, its limit for M bytes of
 *     input" (lines likewise); "'...' was killed: a line of output over
 *     N bytes";
 *   "'...' was killed: it exited, but a process it started still held
 *     its output open".
 * The program and every process of its group are killed (SIGTERM, then
 * SIGKILL after KT_HELPER_TERM_GRACE_MS) when the run stops early, and
 * sent SIGKILL when it ends; the program is always waited for, and no
 * descriptor is left open, in this process or in the program. */
int kt_reader_run(const char *path, char *const argv[], const uint8_t *data, size_t len,
                  kt_reader_line_cb cb, void *ctx, kt_error *err);

/* A new, empty input for kt_reader_run_fd (a memfd, close-on-exec), to
 * be written in pieces; -1 with errno on failure. The caller closes it. */
int kt_reader_input_new(void);
/* kt_reader_run with the len bytes written to fd (from kt_reader_input_new;
 * borrowed, left open) as the program's input: the caller never holds the
 * whole input in memory. */
int kt_reader_run_fd(const char *path, char *const argv[], int fd, size_t len, kt_reader_line_cb cb,
                     void *ctx, kt_error *err);

/* Where the reader program `name` is: $envvar when set and not empty, else
 * `name` in the running program's directory (written into buf), else
 * `name` itself. Returns the environment's string, buf or name. */
const char *kt_reader_path(const char *envvar, const char *name, char *buf, size_t len);

#endif
