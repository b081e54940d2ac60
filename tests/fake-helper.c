/* kt-fake-helper: a stand-in for kavtrace-evtx and kavtrace-prefetch that
 * misbehaves on purpose, for the helpers suite (tests/test_helpers.c).
 * Built for the tests only, without sanitizers (it must start under a
 * memory limit).
 *
 * It reads its input, a file of the test tree: "ElfFile\0" (an event log)
 * or 4 bytes and "SCCA" (a prefetch file), then at offset 8 the name of
 * what to do, up to a NUL or a newline:
 *   ok         a whole result and its end line
 *   sleep      the first part of a result, then sleep for ever (SIGTERM
 *              ignored)
 *   flood      warning lines for ever
 *   bytes      64 KiB lines for ever
 *   long-line  the first part of a result, then 5 MiB without a newline
 *   no-end     the first part of a result, and exit 0
 *   unknown    a whole result with lines of an unknown kind in it
 *   orphan     a whole result after forking a process that keeps the
 *              output open and sleeps ("W grandchild PID" says which)
 *   memory     address space in 1 MiB blocks, up to 1 GiB; when a block
 *              is refused "W allocation failed after N MiB" and exit 1
 *   segv       the first part of a result, then SIGSEGV
 *   stderr     a line to its standard error, then a whole result
 * The result is one record (event log; provider FakeProvider, event 1) or
 * one run time (prefetch), at a time from the input's bytes, so that each
 * file's event is its own. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_INPUT ((size_t)8 << 20)

static uint8_t input[MAX_INPUT];
static size_t input_len;
static int evtx; /* else prefetch */
static uint64_t record_id, filetime;

static void first_part(void)
{
    if (evtx)
        printf("R\t%llu\t%llu\t1\t0\t0\t1\nP\tFakeProvider\nC\tHOST\nS\t%s\n.\n",
               (unsigned long long)record_id, (unsigned long long)filetime,
               (const char *)input + 8);
    else
        printf("V\t30\nN\tFAKE.EXE\nH\t0000002A\n");
    fflush(stdout);
}

static void second_part(void)
{
    if (evtx)
        printf("X\t1\t1\t1\n");
    else
        printf("C\t1\nT\t%llu\n.\n", (unsigned long long)filetime);
    fflush(stdout);
}

static void sleep_for_ever(void)
{
    signal(SIGTERM, SIG_IGN);
    for (;;)
        pause();
}

static int memory(void)
{
    size_t mib = 0;
    for (; mib < 1024; mib++) {
        void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            printf("W\tallocation failed after %zu MiB\n", mib);
            return 1;
        }
        ((volatile char *)p)[0] = 1;
    }
    printf("W\tallocated %zu MiB\n", mib);
    first_part();
    second_part();
    return 0;
}

int main(void)
{
    ssize_t n;
    while (input_len < MAX_INPUT - 1 &&
           (n = read(STDIN_FILENO, input + input_len, MAX_INPUT - 1 - input_len)) > 0)
        input_len += (size_t)n;
    if (input_len < 8)
        return 2;
    evtx = memcmp(input, "ElfFile", 8) == 0;
    input[strcspn((char *)input + 8, "\n") + 8] = '\0';
    const char *mode = (const char *)input + 8;
    uint64_t h = 0;
    for (const char *p = mode; *p; p++)
        h = h * 31 + (uint8_t)*p;
    /* 2024-10-03, plus up to a day and a bit */
    record_id = h % 100000;
    filetime = 133724533610000000ull + record_id * 10000000ull;

    if (strcmp(mode, "ok") == 0) {
        first_part();
        second_part();
    } else if (strcmp(mode, "sleep") == 0) {
        first_part();
        sleep_for_ever();
    } else if (strcmp(mode, "flood") == 0) {
        for (;;)
            fputs("W\tflood\n", stdout);
    } else if (strcmp(mode, "bytes") == 0) {
        static char line[64 << 10];
        memset(line, 'x', sizeof line - 1);
        for (;;)
            printf("W\t%s\n", line);
    } else if (strcmp(mode, "long-line") == 0) {
        first_part();
        fputs("W\t", stdout);
        for (int i = 0; i < (5 << 20); i++)
            putchar('x');
        fflush(stdout);
    } else if (strcmp(mode, "no-end") == 0) {
        first_part();
    } else if (strcmp(mode, "unknown") == 0) {
        first_part();
        printf("Q\tnot a kind\n?\n");
        second_part();
    } else if (strcmp(mode, "orphan") == 0) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0)
            sleep_for_ever();
        printf("W\tgrandchild %d\n", (int)pid);
        first_part();
        second_part();
    } else if (strcmp(mode, "memory") == 0) {
        return memory();
    } else if (strcmp(mode, "stderr") == 0) {
        fputs("kt-fake-helper: a word on standard error\n", stderr);
        first_part();
        second_part();
    } else if (strcmp(mode, "segv") == 0) {
        first_part();
        raise(SIGSEGV);
    } else {
        printf("E\tunknown mode '%s'\n", mode);
        return 1;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
