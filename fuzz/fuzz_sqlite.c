/* libFuzzer harness: SQLite database images opened by kt_sqlite_open
 * (src/parsers/sqlite.c) and read as kavtrace reads them: the table list,
 * then every row of every table and view, under a small step budget. */
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/sqlite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    kt_sqlite *s = NULL;
    if (kt_sqlite_open(data, len, 200000, &s, NULL) != KT_OK)
        return 0;
    sqlite3 *db = kt_sqlite_db(s);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                           "ORDER BY name",
                           -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(st, 0);
            char *q = name ? sqlite3_mprintf("SELECT * FROM \"%w\"", name) : NULL;
            sqlite3_stmt *rows = NULL;
            if (q && sqlite3_prepare_v2(db, q, -1, &rows, NULL) == SQLITE_OK)
                while (sqlite3_step(rows) == SQLITE_ROW)
                    for (int i = 0; i < sqlite3_column_count(rows); i++)
                        sqlite3_column_text(rows, i);
            sqlite3_finalize(rows);
            sqlite3_free(q);
        }
    }
    sqlite3_finalize(st);
    kt_sqlite_close(s);
    return 0;
}
