/* kavtrace: what ran on what, for a second examiner to reproduce it: the
 * version and build, the definitions read (each file's SHA-256), the
 * command line with its secrets redacted, the examiner's host, the
 * evidence files, and (run.json) every output's SHA-256. */
#ifndef KAVTRACE_PROVENANCE_H
#define KAVTRACE_PROVENANCE_H

#include <stdbool.h>
#include <stddef.h>

#include "kavtrace/artifacts.h"
#include "kavtrace/buf.h"
#include "kavtrace/json.h"
#include "kavtrace/output.h"

struct kt_scan;

/* What the caller (the command line) knows of the run. Owned; release
 * with kt_provenance_release. */
typedef struct kt_provenance {
    kt_strlist command_line;              /* "kavtrace", "scan", ...: secrets redacted */
    char host[256];                       /* the examiner's machine (uname nodename) */
    char host_system[256];                /* "Linux 6.1.0-18-amd64 x86_64" */
    char definitions[KT_OUTDIR_PATH_MAX]; /* the definitions' folder as given */
} kt_provenance;

#define KT_REDACTED "<redacted>"

/* Copy args into out, each value of an option whose name holds password,
 * passphrase, key, secret, token or recovery replaced by KT_REDACTED:
 * "--password=x" becomes "--password=<redacted>", and "--key-file x" keeps
 * "--key-file" and redacts the next argument. Options kavtrace does not
 * have are redacted alike: a mistyped secret stays secret. 0 or KT_ENOMEM. */
int kt_args_redact(const char *const *args, size_t n, kt_strlist *out);

/* Fill p: the command line (redacted), the host, the definitions folder.
 * 0 or KT_ENOMEM; release with kt_provenance_release (also after an error). */
int kt_provenance_init(kt_provenance *p, const char *const *args, size_t n,
                       const char *definitions);
void kt_provenance_release(kt_provenance *p);

/* "gcc 12.2.0, RelWithDebInfo" and "libtsk 4.11.1, libewf 20140812, ...":
 * static strings. */
const char *kt_build_compiler(void);
const char *kt_build_libraries(void);

/* The members of findings.json's "provenance" object (j inside it). */
void kt_provenance_json(kt_json *j, const struct kt_scan *s, const kt_artifact_set *set);

/* The members of findings.json's and run.json's "evidence" object. */
void kt_evidence_json(kt_json *j, const struct kt_scan *s);

/* run.json: the run's provenance, with the name, size and SHA-256 of each
 * of files (the outputs written before it). 0 or KT_ENOMEM. */
#define KT_RUN_JSON_FILE "run.json"
int kt_run_json(kt_buf *out, const struct kt_scan *s, const kt_artifact_set *set,
                const kt_output_file *files, size_t nfiles);

#endif
