/* kavtrace: the limits every helper program runs under.
 *
 * The libyal parsers run in programs of their own (kavtrace-evtx,
 * kavtrace-prefetch; see evtx.h, prefetch.h). A helper gets one file, and
 * for it a budget scaled by the file's size: a deadline, a memory limit
 * (RLIMIT_AS, set in the helper before it starts) and a limit on the
 * bytes and lines of output read from it. A helper that goes over its
 * budget, dies by a signal, or exits and leaves a process holding its
 * output open is killed with its whole process group (SIGTERM, then
 * SIGKILL after KT_HELPER_TERM_GRACE_MS) and reaped; its file gets a
 * warning and the scan goes on with the next one.
 *
 * The limits are process-wide: a program sets them once, before it scans
 * (kavtrace scan's --helper-timeout and --helper-memory). */
#ifndef KAVTRACE_HELPER_H
#define KAVTRACE_HELPER_H

#include <stddef.h>
#include <stdint.h>

/* Defaults: 30 s and 1 s more per MiB of input (libevtx reads about
 * 12 MiB/s on one core, so a whole 2 GiB log has more than ten times what
 * it needs); 1 GiB of address space plus 4 bytes per byte of input (a
 * helper holds its input and grows its buffer by doubling). */
#define KT_HELPER_TIMEOUT 30.0
#define KT_HELPER_TIMEOUT_PER_MIB 1.0
#define KT_HELPER_TIMEOUT_MAX 86400.0
#define KT_HELPER_MEMORY ((uint64_t)1 << 30)
#define KT_HELPER_MEMORY_PER_BYTE 4
/* Output read from a helper: 1 MiB and 8 bytes per byte of input, 4096
 * lines and one per 4 bytes of input (an event log's records give a tenth
 * of that and less: 0.3 bytes and 0.015 lines per byte in the corpus). */
#define KT_HELPER_OUTPUT ((uint64_t)1 << 20)
#define KT_HELPER_OUTPUT_PER_BYTE 8
#define KT_HELPER_LINES 4096
#define KT_HELPER_BYTES_PER_LINE 4
/* Time a killed helper gets between SIGTERM and SIGKILL. */
#define KT_HELPER_TERM_GRACE_MS 500

typedef struct kt_helper_limits {
    double timeout;         /* seconds per file, before the size allowance; > 0 */
    double timeout_per_mib; /* seconds more per MiB of input; >= 0 */
    uint64_t memory;        /* bytes of address space before the size allowance; 0: no limit */
} kt_helper_limits;

/* What one helper run over one file may take. */
typedef struct kt_helper_budget {
    int64_t timeout_ms;
    uint64_t memory; /* RLIMIT_AS in bytes; 0: none */
    uint64_t output_bytes;
    uint64_t output_lines;
} kt_helper_budget;

/* The defaults above. A build with AddressSanitizer has no memory limit by
 * default: its helpers reserve terabytes of address space for shadow
 * memory and could not start under one. */
void kt_helper_limits_default(kt_helper_limits *l);

/* The limits of every helper run from now on (a copy is kept); NULL puts
 * the defaults back. */
void kt_helper_limits_set(const kt_helper_limits *l);

/* The limits in force (the defaults until kt_helper_limits_set). */
void kt_helper_limits_get(kt_helper_limits *l);

/* The budget for a file of len bytes under l; every figure saturates
 * instead of overflowing. */
void kt_helper_budget_for(const kt_helper_limits *l, size_t len, kt_helper_budget *out);

#endif
