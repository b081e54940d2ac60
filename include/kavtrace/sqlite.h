/* kavtrace: SQLite databases from the evidence, read-only from memory.
 *
 * Every SQLite reader (the RPM database, Kaspersky's databases) opens its
 * database image with kt_sqlite_open. The image is copied into memory the
 * connection owns (sqlite3_deserialize, read-only): no file is opened,
 * written or looked for (no -wal, no -journal), and the caller's bytes are
 * never changed. The connection is hardened against a hostile file and a
 * careless query:
 *
 *  - a WAL-mode header (bytes 18 and 19 = 2) is set to rollback mode (1)
 *    on the copy: the database reads as it would without its -wal file;
 *  - SQLITE_DBCONFIG_DEFENSIVE is on and SQLITE_DBCONFIG_TRUSTED_SCHEMA
 *    off: a view, trigger, index or generated column of the file cannot
 *    call a function that is not innocuous ("unsafe use of f()");
 *  - an authorizer allows only SELECT, reading columns and calling
 *    functions: any other statement (a write, ATTACH, PRAGMA, a recursive
 *    query ...) fails to prepare with SQLITE_AUTH ("not authorized");
 *  - a budget of virtual-machine steps for the life of the connection,
 *    over all its statements: past it the running statement (and every
 *    later one that needs more than KT_SQLITE_STEP_GRAIN steps) stops
 *    with SQLITE_INTERRUPT. */
#ifndef KAVTRACE_SQLITE_H
#define KAVTRACE_SQLITE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/error.h"

/* The default budget of virtual-machine steps: a bound on any query. */
#define KT_SQLITE_MAX_STEPS UINT64_C(50000000)
/* Steps are counted, and the budget checked, in units of this many. */
#define KT_SQLITE_STEP_GRAIN 1000

typedef struct kt_sqlite kt_sqlite;

/* Open a copy of the database image data[0..len) with a budget of
 * max_steps (0: KT_SQLITE_MAX_STEPS). data may be released once this
 * returns. On success *out owns the connection (kt_sqlite_close); on error
 * *out is untouched and err says why:
 *   KT_EFORMAT "not an SQLite database" (no "SQLite format 3" header, or
 *   shorter than one); KT_EFORMAT "sqlite: cannot load the database image:
 *   ..."; KT_ELIMIT for an image over INT64_MAX bytes; KT_ENOMEM;
 *   KT_EUNSUPPORTED when the SQLite library refuses one of
 *   the settings above (too old a version). A damaged file can still open:
 *   its damage shows when a statement reads it (SQLITE_NOTADB,
 *   SQLITE_CORRUPT). */
int kt_sqlite_open(const uint8_t *data, size_t len, uint64_t max_steps, kt_sqlite **out,
                   kt_error *err);

/* Closes the connection and frees the copy; NULL is a no-op. Finalize the
 * statements first. */
void kt_sqlite_close(kt_sqlite *s);

/* The connection, borrowed: it lives until kt_sqlite_close. */
sqlite3 *kt_sqlite_db(const kt_sqlite *s);

/* Steps used so far, in whole KT_SQLITE_STEP_GRAINs. */
uint64_t kt_sqlite_steps(const kt_sqlite *s);

/* Whether the budget stopped a statement. */
bool kt_sqlite_over_budget(const kt_sqlite *s);

/* The last error for a message: "over the budget of N virtual-machine
 * steps" when the budget stopped a statement, else sqlite3_errmsg's.
 * Lives until the next call on the connection. */
const char *kt_sqlite_errmsg(kt_sqlite *s);

#endif
