/* Shared command-line helpers. */
#ifndef KT_CLI_OPTIONS_H
#define KT_CLI_OPTIONS_H

#include <stdbool.h>

#include "kavtrace/artifacts.h"

/* The definitions directory: --artifacts, else $KAVTRACE_ARTIFACTS, else
 * the one installed or built with kavtrace. */
const char *kt_cli_artifacts_dir(const char *option);

/* Load definitions; on problems print them to stderr and return non-zero.
 * `verdicts`: the set must also hold the milestones the verdicts are
 * measured against (a scan, `artifacts check`). Files passed by (a FIFO
 * named *.yaml) are warnings on stderr. */
int kt_cli_load_artifacts_as(const char *cmd, const char *dir, bool verdicts, kt_artifact_set *set);
/* The same, for the verdicts (as a scan). */
int kt_cli_load_artifacts(const char *cmd, const char *dir, kt_artifact_set *set);

#endif
