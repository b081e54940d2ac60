/* Shared command-line helpers. */
#ifndef KT_CLI_OPTIONS_H
#define KT_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "kavtrace/artifacts.h"
#include "kavtrace/buf.h"
#include "kavtrace/keys.h"

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

/* Text for the terminal (text from evidence, error messages that quote
 * it): s itself when it holds nothing to escape, else a copy with every
 * control character and byte that is not UTF-8 escaped (kavtrace/text.h),
 * owned by *hold until kt_strlist_release. NULL for NULL; "?" when out of
 * memory. */
const char *kt_cli_text(kt_strlist *hold, const char *s);

/* path as the kernel will find it once made: absolute, every '.', '..'
 * and symbolic link of the part that exists resolved (realpath of its
 * deepest existing folder), the rest (not there yet) appended with its
 * '.' and '..' taken by name. 0, or -1 with errno. */
int kt_cli_resolve_path(const char *path, char *out, size_t len);

/* path is dir or inside it (both resolved). */
bool kt_cli_path_within(const char *path, const char *dir);

/* --password P / --key-file F / --recovery-password R (kind): add the key
 * to keys. On error print it (naming the option and a key file's path,
 * never a key) as cmd's and return non-zero. */
int kt_cli_add_key(const char *cmd, kt_key_kind kind, const char *arg, kt_keys *keys);

#endif
