#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const kt_command *const commands[] = {
    &kt_cmd_scan,
    &kt_cmd_batch,
    &kt_cmd_info,
    &kt_cmd_artifacts,
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

void kt_cli_print_usage(FILE *out, const kt_command *cmd)
{
    fprintf(out, "usage: kavtrace %s %s\n", cmd->name, cmd->usage);
}

int kt_cli_usage_error(const kt_command *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "kavtrace: %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    kt_cli_print_usage(stderr, cmd);
    return KT_EXIT_USAGE;
}

static void help(FILE *out)
{
    fprintf(out,
            "kavtrace %s: what happened to Kaspersky on a seized disk image, and when\n\n"
            "usage: kavtrace COMMAND [OPTIONS] EVIDENCE...\n\ncommands:\n",
            KT_VERSION);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\nEvidence is opened read-only: raw, split raw, E01, VMDK, VHD/VHDX, or a\n"
                 "directory. 'kavtrace COMMAND --help' describes a command.\n"
                 "Exit status: 0 done, 1 an evidence item or output failed, 2 usage error.\n");
}

int main(int argc, char **argv)
{
    /* libtsk turns FAT's local DOS times into time_t with mktime(): pin
     * the process zone to UTC so the host's zone never leaks into results. */
    setenv("TZ", "UTC", 1);
    tzset();

    if (argc < 2) {
        help(stderr);
        return KT_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        help(stdout);
        return KT_EXIT_OK;
    }
    if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0) {
        printf("kavtrace %s\n", KT_VERSION);
        return KT_EXIT_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i]->run(argc - 1, argv + 1);
    fprintf(stderr, "kavtrace: unknown command '%s'\n", name);
    help(stderr);
    return KT_EXIT_USAGE;
}
