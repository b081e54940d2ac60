/* kavtrace: diagnostics. What could not be read, or how something was
 * read that a reader must know, as a record: severity, a stable code,
 * where (volume, path, artifact) and the message itself. Every stage
 * adds to one list (kt_diags); scan.log, findings.json, the summary and
 * the terminal render it, the one place a location is put in front of a
 * message. */
#ifndef KAVTRACE_DIAG_H
#define KAVTRACE_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "kavtrace/strpool.h"

typedef enum kt_severity {
    KT_SEV_WARNING, /* something could not be read: what depends on it may be unknown */
    KT_SEV_NOTE,    /* how something was read, which a reader of the result must know */
} kt_severity;

typedef struct kt_diag {
    kt_severity severity;
    const char *code;     /* stable, lowercase: "image", "volume", "file.read", "zone.table", ... */
    int volume;           /* the volume's index, -1 for the evidence item itself */
    const char *path;     /* inside the volume (or a hive's key path), or NULL */
    const char *artifact; /* the definition's id, or NULL */
    const char *message;  /* the sentence, without the location */
} kt_diag;

/* A list of diagnostics that owns its copies. Zero-initialise; release
 * with kt_diags_release. */
typedef struct kt_diags {
    kt_diag *items;
    size_t count, cap;
    kt_strpool strings; /* the copies of the records' strings */
} kt_diags;

/* Add a copy of d. Returns 0 or KT_ENOMEM (the list is then unchanged). */
int kt_diags_add(kt_diags *l, const kt_diag *d);
/* The same with a printf message. */
int kt_diags_addf(kt_diags *l, kt_severity sev, const char *code, int volume, const char *path,
                  const char *artifact, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
int kt_diags_vaddf(kt_diags *l, kt_severity sev, const char *code, int volume, const char *path,
                   const char *artifact, const char *fmt, va_list ap);
void kt_diags_release(kt_diags *l);

/* Whether d says that a source (an image region, a filesystem, a hive, a
 * log, a database, a file, a directory) or part of it could not be read,
 * so that what it holds may be missing: every warning except those about
 * one value's time (codes ending ".time", ".date", "-time") and the time
 * zone ("zone"). A "no" answer cannot rest on a scan with such a loss. */
bool kt_diag_is_loss(const kt_diag *d);

/* The note a white-label search leaves for each program folder it
 * covered (src/collect/emit.c); kt_findings_account_losses reads it. */
#define KT_DIAG_WHITELABEL_SEARCHED "whitelabel.searched"

/* "warning", "note". */
const char *kt_severity_name(kt_severity s);

/* One line: "volume 1: 'Windows/x.log': the message (artifact a.b)";
 * "volume" is left out for the evidence item, the path when there is
 * none. Returns buf. */
char *kt_diag_text(const kt_diag *d, char *buf, size_t len);

#endif
