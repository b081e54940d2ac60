/* The RPM database as SQLite (rpmdb.sqlite, RHEL 9, Fedora 33+; rpm
 * lib/backend/sqlite.c): table Packages(hnum, blob). */
#include <sqlite3.h>
#include <string.h>

#include "kavtrace/packages.h"
#include "packages_impl.h"
#include "rpm_impl.h"

static int deny_writes(void *p, int action, const char *a1, const char *a2, const char *a3,
                       const char *a4)
{
    (void)p, (void)a1, (void)a2, (void)a3, (void)a4;
    return action == SQLITE_SELECT || action == SQLITE_READ ? SQLITE_OK : SQLITE_DENY;
}

int kt_rpmi_sqlite(kt_pkg_run *r, const uint8_t *data, size_t len, kt_error *err)
{
    /* A private copy: a WAL-mode header (bytes 18, 19 = 2) is set to
     * rollback mode, which is how the file reads without its -wal. */
    unsigned char *copy = sqlite3_malloc64(len);
    if (copy == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    memcpy(copy, data, len);
    if (len > 19 && copy[18] == 2 && copy[19] == 2)
        copy[18] = copy[19] = 1;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    kt_buf scratch = {0};
    int rc = KT_OK;
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_PRIVATECACHE, NULL) !=
        SQLITE_OK) {
        sqlite3_free(copy);
        rc = kt_error_set(err, KT_ENOMEM, "sqlite: %s", db ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    if (sqlite3_deserialize(db, "main", copy, (sqlite3_int64)len, (sqlite3_int64)len,
                            SQLITE_DESERIALIZE_READONLY | SQLITE_DESERIALIZE_FREEONCLOSE) !=
        SQLITE_OK) {
        rc = kt_error_set(err, KT_EFORMAT, "sqlite: %s", sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_set_authorizer(db, deny_writes, NULL);
    if (sqlite3_prepare_v2(db, "SELECT hnum, blob FROM Packages ORDER BY hnum", -1, &st, NULL) !=
        SQLITE_OK) {
        rc = kt_error_set(err, KT_EFORMAT, "not an rpm database: %s", sqlite3_errmsg(db));
        goto out;
    }
    if ((rc = kt_pkgi_confirm(r)))
        goto out;
    size_t recno = 0;
    int step = SQLITE_DONE;
    while (rc == KT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        recno++;
        if (recno > KT_RPM_MAX_PACKAGES) {
            rc =
                kt_pkgi_warn(r, "more than %u packages: the rest is not read", KT_RPM_MAX_PACKAGES);
            break;
        }
        sqlite3_int64 hnum = sqlite3_column_int64(st, 0);
        if (sqlite3_column_type(st, 1) != SQLITE_BLOB) {
            rc = kt_pkgi_warn(r, "record %zu (hnum %lld): no header blob", recno, (long long)hnum);
            continue;
        }
        const uint8_t *blob = sqlite3_column_blob(st, 1);
        int n = sqlite3_column_bytes(st, 1);
        if (blob == NULL && n > 0) {
            rc = KT_ENOMEM;
            break;
        }
        rc = kt_rpmi_record(r, recno, (uint64_t)hnum, blob, (size_t)(n > 0 ? n : 0), &scratch);
    }
    if (rc == KT_OK && step != SQLITE_DONE)
        rc = kt_pkgi_warn(r, "sqlite: %s after record %zu: the rest is not read",
                          sqlite3_errmsg(db), recno);
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    kt_buf_release(&scratch);
    return rc;
}
