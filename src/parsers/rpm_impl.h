/* Shared by the RPM database readers (rpm_header.c, rpmdb_sqlite.c,
 * rpmdb_bdb.c, rpmdb_ndb.c); not part of the public API. Each reader is handed a whole
 * database file, already checked against KT_RPMDB_MAX_SIZE, and reports
 * through the run r (see packages_impl.h). */
#ifndef KT_RPM_IMPL_H
#define KT_RPM_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/buf.h"
#include "kavtrace/error.h"
#include "packages_impl.h"

/* 0x0c of a Berkeley DB file's metadata page, in the writer's byte order. */
#define KT_BDB_HASH_MAGIC 0x00061561u
#define KT_BDB_BTREE_MAGIC 0x00053162u

/* One database record, recno counted from 1: the header blob's package as
 * an event, or a warning naming the record. 0, the callback's stop value
 * or KT_ENOMEM. scratch is the caller's, reused between records. */
int kt_rpmi_record(kt_pkg_run *r, size_t recno, uint64_t hnum, const uint8_t *blob, size_t len,
                   kt_buf *scratch);

/* rpmdb.sqlite (data starts "SQLite format 3"). */
int kt_rpmi_sqlite(kt_pkg_run *r, const uint8_t *data, size_t len, kt_error *err);

/* Whether data holds a Berkeley DB file with that magic, in either byte order. */
bool kt_rpmi_bdb_magic(const uint8_t *data, size_t len, uint32_t magic);
/* A Berkeley DB hash file Packages (kt_rpmi_bdb_magic KT_BDB_HASH_MAGIC, len >= 512). */
int kt_rpmi_bdb(kt_pkg_run *r, const uint8_t *data, size_t len, kt_error *err);

/* 0x00 of an ndb Packages.db: "RpmP" little-endian. */
#define KT_NDB_MAGIC 0x506d7052u
/* Whether data starts with the ndb magic. */
bool kt_rpmi_ndb_magic(const uint8_t *data, size_t len);
/* rpm's ndb Packages.db (kt_rpmi_ndb_magic). */
int kt_rpmi_ndb(kt_pkg_run *r, const uint8_t *data, size_t len, kt_error *err);

#endif
