/* Shared command-line helpers. */
#ifndef KT_CLI_OPTIONS_H
#define KT_CLI_OPTIONS_H

#include "kavtrace/artifacts.h"

/* The definitions directory: --artifacts, else $KAVTRACE_ARTIFACTS, else
 * the one installed or built with kavtrace. */
const char *kt_cli_artifacts_dir(const char *option);

/* Load definitions; on problems print them to stderr and return non-zero. */
int kt_cli_load_artifacts(const char *cmd, const char *dir, kt_artifact_set *set);

#endif
