/* The RPM database as SQLite (rpmdb.sqlite, RHEL 9, Fedora 33+; rpm
 * lib/backend/sqlite.c): table Packages(hnum, blob). */
#include "kavtrace/packages.h"
#include "kavtrace/sqlite.h"
#include "packages_impl.h"
#include "rpm_impl.h"

int kt_rpmi_sqlite(kt_pkg_run *r, const uint8_t *data, size_t len, kt_error *err)
{
    kt_sqlite *s = NULL;
    sqlite3_stmt *st = NULL;
    kt_buf scratch = {0};
    int rc = kt_sqlite_open(data, len, 0, &s, err);
    if (rc)
        return rc;
    sqlite3 *db = kt_sqlite_db(s);
    if (sqlite3_prepare_v2(db, "SELECT hnum, blob FROM Packages ORDER BY hnum", -1, &st, NULL) !=
        SQLITE_OK) {
        rc = kt_error_set(err, KT_EFORMAT, "not an rpm database: %s", kt_sqlite_errmsg(s));
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
                          kt_sqlite_errmsg(s), recno);
out:
    sqlite3_finalize(st);
    kt_sqlite_close(s);
    kt_buf_release(&scratch);
    return rc;
}
