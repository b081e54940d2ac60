/* kavtrace command line: one entry per command in main.c's table. */
#ifndef KT_CLI_H
#define KT_CLI_H

#include <stdio.h>

#define KT_EXIT_OK 0
#define KT_EXIT_ERROR 1
#define KT_EXIT_USAGE 2

typedef struct kt_command {
    const char *name;
    const char *summary;
    const char *usage;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} kt_command;

extern const kt_command kt_cmd_info;
extern const kt_command kt_cmd_scan;
extern const kt_command kt_cmd_batch;
extern const kt_command kt_cmd_artifacts;

/* "kavtrace: <cmd>: message" on stderr, and the usage line. Returns 2. */
int kt_cli_usage_error(const kt_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void kt_cli_print_usage(FILE *out, const kt_command *cmd);

#endif
