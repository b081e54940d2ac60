/* kavtrace (internal): run a reader program over bytes held in memory.
 *
 * The libyal parsers run in programs of their own (kavtrace-evtx,
 * kavtrace-prefetch): libewf and the libyal libraries export clashing
 * copies of the same helper libraries, and a malformed file then takes
 * down the reader, not the scan. kt_reader_run gives the program the bytes
 * as its standard input (a memfd: seekable, and readable by path through
 * /proc/self/fd/0) and hands its standard output back line by line (their
 * protocol, both sides of it, is src/reader_proto.h). Its standard error
 * is the caller's. */
#ifndef KAVTRACE_PARSERS_READER_H
#define KAVTRACE_PARSERS_READER_H

#include <stddef.h>
#include <stdint.h>

#include "kavtrace/error.h"

/* A longer output line stops the reader with KT_ELIMIT. */
#define KT_READER_MAX_LINE ((size_t)64 << 20)

/* Called for each line of output, without its '\n' and NUL-terminated (a
 * last line without '\n' counts too). The callback may modify the line,
 * which lives until it returns. Return 0 to go on; anything else stops the
 * program (it is killed) and becomes kt_reader_run's return value. */
typedef int (*kt_reader_line_cb)(void *ctx, char *line);

/* Run the program at `path` (not searched for in $PATH) with argv (NULL-
 * terminated; argv[0] is what the program sees as its name) and
 * data[0..len) as its standard input, and call cb for each line it writes.
 * Returns 0 when the program exited with status 0, the callback's non-zero
 * value when it stopped the run, else an error naming the program:
 * KT_EIO when it cannot be started, its output cannot be read, or it exits
 * with another status or dies by a signal ("'/usr/bin/kavtrace-evtx'
 * exited with status 1"); KT_ELIMIT for a line over KT_READER_MAX_LINE;
 * KT_ENOMEM. The program is always waited for; no descriptor is left
 * open, in this process or in the program. */
int kt_reader_run(const char *path, char *const argv[], const uint8_t *data, size_t len,
                  kt_reader_line_cb cb, void *ctx, kt_error *err);

/* Where the reader program `name` is: $envvar when set and not empty, else
 * `name` in the running program's directory (written into buf), else
 * `name` itself. Returns the environment's string, buf or name. */
const char *kt_reader_path(const char *envvar, const char *name, char *buf, size_t len);

#endif
