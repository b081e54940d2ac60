#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kavtrace/sqlite.h"
#include "testutil.h"

static void register_touch(sqlite3 *db);

/* A database image made by SQLite itself from SQL run on an empty
 * in-memory database (with touch() registered, when asked). */
static void make_db_with(const char *sql, bool with_touch, kt_buf *out)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    if (with_touch)
        register_touch(db);
    char *why = NULL;
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &why) == SQLITE_OK, "%s", why);
    sqlite3_int64 size = 0;
    unsigned char *bytes = sqlite3_serialize(db, "main", &size, 0);
    ck_assert_ptr_nonnull(bytes);
    out->len = 0;
    ck_assert_int_eq(kt_buf_append(out, bytes, (size_t)size), 0);
    sqlite3_free(bytes);
    sqlite3_close(db);
}

static void make_db(const char *sql, kt_buf *out)
{
    make_db_with(sql, false, out);
}

static kt_sqlite *open_ok(const kt_buf *b, uint64_t max_steps)
{
    kt_sqlite *s = NULL;
    kt_error err = {0};
    ck_assert_msg(kt_sqlite_open(b->data, b->len, max_steps, &s, &err) == 0, "%s", err.msg);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* The one integer a query gives; fails the test on an error. */
static long long one_int(kt_sqlite *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    ck_assert_msg(sqlite3_prepare_v2(kt_sqlite_db(s), sql, -1, &st, NULL) == SQLITE_OK, "%s: %s",
                  sql, kt_sqlite_errmsg(s));
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* What preparing sql gives: its result code, and the message in msg. */
static int prepare_rc(kt_sqlite *s, const char *sql, char *msg, size_t len)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(kt_sqlite_db(s), sql, -1, &st, NULL);
    snprintf(msg, len, "%s", kt_sqlite_errmsg(s));
    sqlite3_finalize(st);
    return rc;
}

/* What running sql gives: the result code of preparing it, else of its
 * first step; the message in msg. */
static int run_rc(kt_sqlite *s, const char *sql, char *msg, size_t len)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(kt_sqlite_db(s), sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    snprintf(msg, len, "%s", kt_sqlite_errmsg(s));
    sqlite3_finalize(st);
    return rc;
}

START_TEST(reads_a_private_copy_of_the_image)
{
    kt_buf b = {0};
    make_db("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3);", &b);
    kt_buf copy = {0};
    ck_assert_int_eq(kt_buf_append(&copy, b.data, b.len), 0);
    kt_sqlite *s = open_ok(&b, 0);
    /* the caller's bytes may go at once */
    memset(b.data, 0xEE, b.len);
    kt_buf_release(&b);
    ck_assert_int_eq(one_int(s, "SELECT sum(x) FROM t"), 6);
    ck_assert_int_eq(one_int(s, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"), 1);
    /* hardened as promised, read back from the connection */
    int v = -1;
    ck_assert_int_eq(sqlite3_db_config(kt_sqlite_db(s), SQLITE_DBCONFIG_DEFENSIVE, -1, &v),
                     SQLITE_OK);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(sqlite3_db_config(kt_sqlite_db(s), SQLITE_DBCONFIG_TRUSTED_SCHEMA, -1, &v),
                     SQLITE_OK);
    ck_assert_int_eq(v, 0);
    ck_assert(!kt_sqlite_over_budget(s));
    kt_sqlite_close(s);
    kt_sqlite_close(NULL);
    kt_buf_release(&copy);
}
END_TEST

START_TEST(refuses_every_statement_that_would_write)
{
    char dir[] = "/tmp/kt-test-sqlite-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    kt_buf b = {0};
    make_db("CREATE TABLE t(x); CREATE INDEX i ON t(x); INSERT INTO t VALUES (1);", &b);
    kt_buf before = {0};
    ck_assert_int_eq(kt_buf_append(&before, b.data, b.len), 0);
    kt_sqlite *s = open_ok(&b, 0);
    char attach[256], vacuum[256];
    snprintf(attach, sizeof attach, "ATTACH '%s/other.db' AS other", dir);
    snprintf(vacuum, sizeof vacuum, "VACUUM INTO '%s/copy.db'", dir);
    const char *writes[] = {
        "INSERT INTO t VALUES (2)",
        "UPDATE t SET x = 5",
        "DELETE FROM t",
        "CREATE TABLE u(y)",
        "CREATE TEMP TABLE u(y)",
        "DROP TABLE t",
        "ALTER TABLE t ADD COLUMN z",
        "CREATE INDEX j ON t(x)",
        "REPLACE INTO t VALUES (3)",
        attach,
        vacuum,
        "PRAGMA writable_schema = ON",
        "PRAGMA journal_mode = WAL",
        "PRAGMA user_version = 7",
        "BEGIN",
        "ANALYZE",
        "REINDEX",
        "VACUUM",
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT n FROM c",
    };
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        char msg[256];
        bool vac = strncmp(writes[i], "VACUUM", 6) == 0;
        ck_assert_msg(run_rc(s, writes[i], msg, sizeof msg) == SQLITE_AUTH, "%s: %s", writes[i],
                      msg);
        /* VACUUM reaches the authorizer only when it runs (it attaches its target) */
        ck_assert_str_eq(msg, vac ? "authorization denied" : "not authorized");
    }
    ck_assert_int_eq(one_int(s, "SELECT count(*) FROM t"), 1);
    kt_sqlite_close(s);
    /* nothing was written: not the caller's bytes, not a file */
    ck_assert_uint_eq(b.len, before.len);
    ck_assert_mem_eq(b.data, before.data, b.len);
    char path[300];
    snprintf(path, sizeof path, "%s/other.db", dir);
    ck_assert_int_ne(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/copy.db", dir);
    ck_assert_int_ne(access(path, F_OK), 0);
    ck_assert_int_eq(rmdir(dir), 0);
    kt_buf_release(&b);
    kt_buf_release(&before);
}
END_TEST

static int side_effects;

/* A function with a side effect, registered without SQLITE_INNOCUOUS. */
static void touch(sqlite3_context *c, int argc, sqlite3_value **argv)
{
    (void)argc, (void)argv;
    side_effects++;
    sqlite3_result_int(c, 1);
}

static void register_touch(sqlite3 *db)
{
    ck_assert_int_eq(sqlite3_create_function(db, "touch", 0, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                             NULL, touch, NULL, NULL),
                     SQLITE_OK);
}

/* A database whose schema calls touch(): SQLite calls it while the file
 * is made, so the schema is valid. */
static void make_db_calling_touch(const char *sql, kt_buf *out)
{
    make_db_with(sql, true, out);
}

START_TEST(schema_cannot_run_functions_with_side_effects)
{
    kt_buf b = {0};
    make_db_calling_touch("CREATE TABLE t(x);"
                          "CREATE TABLE log(x);"
                          "CREATE VIEW v AS SELECT x, touch() AS y FROM t;"
                          "CREATE VIEW loader AS SELECT load_extension('/nonexistent/evil') AS z;"
                          "CREATE TRIGGER tr AFTER INSERT ON t "
                          "BEGIN INSERT INTO log VALUES (touch()); END;"
                          "INSERT INTO t(x) VALUES (1);",
                          &b);
    kt_sqlite *s = open_ok(&b, 0);
    register_touch(kt_sqlite_db(s));
    side_effects = 0;
    char msg[256];
    /* the query may call it: it is the caller's function */
    ck_assert_int_eq(one_int(s, "SELECT touch()"), 1);
    ck_assert_int_eq(side_effects, 1);
    /* the file's views may not */
    ck_assert_int_ne(prepare_rc(s, "SELECT y FROM v", msg, sizeof msg), SQLITE_OK);
    ck_assert_str_eq(msg, "unsafe use of touch()");
    ck_assert_int_ne(prepare_rc(s, "SELECT z FROM loader", msg, sizeof msg), SQLITE_OK);
    ck_assert_str_eq(msg, "unsafe use of load_extension()");
    /* and its trigger cannot fire: nothing can be inserted */
    ck_assert_int_eq(prepare_rc(s, "INSERT INTO t(x) VALUES (2)", msg, sizeof msg), SQLITE_AUTH);
    ck_assert_int_eq(one_int(s, "SELECT count(*) FROM log"), 1);
    ck_assert_int_eq(one_int(s, "SELECT x FROM t"), 1);
    ck_assert_int_eq(side_effects, 1);
    kt_sqlite_close(s);

    /* A generated column that calls it makes the whole schema unreadable. */
    make_db_calling_touch("CREATE TABLE g(x, y AS (x + touch())); INSERT INTO g(x) VALUES (1);",
                          &b);
    s = open_ok(&b, 0);
    register_touch(kt_sqlite_db(s));
    side_effects = 0;
    ck_assert_int_ne(prepare_rc(s, "SELECT x FROM g", msg, sizeof msg), SQLITE_OK);
    ck_assert_str_eq(msg, "malformed database schema (g) - unsafe use of touch()");
    ck_assert_int_eq(side_effects, 0);
    kt_sqlite_close(s);
    kt_buf_release(&b);
}
END_TEST

START_TEST(stops_a_query_past_its_step_budget)
{
    kt_buf b = {0};
    make_db("CREATE TABLE t(x);"
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 300) "
            "INSERT INTO t SELECT n FROM c;",
            &b);
    /* 300^3 rows: tens of millions of steps */
    const char *heavy = "SELECT count(*) FROM t a, t b, t c";
    kt_sqlite *s = open_ok(&b, 200000);
    ck_assert_int_eq(one_int(s, "SELECT count(*) FROM t"), 300);
    ck_assert(!kt_sqlite_over_budget(s));
    uint64_t light = kt_sqlite_steps(s);
    ck_assert_uint_lt(light, 200000);
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(kt_sqlite_db(s), heavy, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_INTERRUPT);
    sqlite3_finalize(st);
    ck_assert(kt_sqlite_over_budget(s));
    ck_assert_uint_gt(kt_sqlite_steps(s), 200000);
    ck_assert_uint_le(kt_sqlite_steps(s), 200000 + KT_SQLITE_STEP_GRAIN);
    ck_assert_str_eq(kt_sqlite_errmsg(s), "over the budget of 200000 virtual-machine steps");
    /* the budget is the connection's: a later long query stops too */
    ck_assert_int_eq(sqlite3_prepare_v2(kt_sqlite_db(s), heavy, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_INTERRUPT);
    sqlite3_finalize(st);
    kt_sqlite_close(s);

    /* the default budget lets an ordinary query through and counts it */
    s = open_ok(&b, 0);
    ck_assert_int_eq(one_int(s, "SELECT count(*) FROM t a, t b"), 90000);
    ck_assert_uint_gt(kt_sqlite_steps(s), 0);
    ck_assert(!kt_sqlite_over_budget(s));
    kt_sqlite_close(s);
    kt_buf_release(&b);
}
END_TEST

START_TEST(reads_a_wal_mode_database_without_its_wal)
{
    char dir[] = "/tmp/kt-test-sqlite-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[300];
    snprintf(path, sizeof path, "%s/wal.db", dir);
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "PRAGMA journal_mode = WAL;"
                                  "CREATE TABLE t(x); INSERT INTO t VALUES (41);"
                                  "PRAGMA wal_checkpoint(TRUNCATE);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    kt_buf b = {0};
    file_load(path, &b);
    ck_assert_uint_ge(b.len, 100);
    ck_assert_uint_eq(b.data[18], 2);
    ck_assert_uint_eq(b.data[19], 2);
    kt_sqlite *s = open_ok(&b, 0);
    ck_assert_int_eq(one_int(s, "SELECT x + 1 FROM t"), 42);
    kt_sqlite_close(s);
    /* the header was changed on the copy only */
    ck_assert_uint_eq(b.data[18], 2);
    ck_assert_uint_eq(b.data[19], 2);
    unlink(path);
    snprintf(path, sizeof path, "%s/wal.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/wal.db-shm", dir);
    unlink(path);
    ck_assert_int_eq(rmdir(dir), 0);
    kt_buf_release(&b);
}
END_TEST

START_TEST(refuses_garbage_and_survives_damage)
{
    kt_sqlite *s = NULL;
    kt_error err = {0};
    uint8_t junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 131 + 7);
    ck_assert_int_eq(kt_sqlite_open(junk, sizeof junk, 0, &s, &err), KT_EFORMAT);
    ck_assert_str_eq(err.msg, "not an SQLite database");
    ck_assert_int_eq(kt_sqlite_open(NULL, 0, 0, &s, &err), KT_EFORMAT);
    ck_assert_int_eq(kt_sqlite_open((const uint8_t *)"SQLite format 3", 16, 0, &s, &err),
                     KT_EFORMAT);
    ck_assert_str_eq(err.msg, "not an SQLite database");
    ck_assert_ptr_null(s);

    /* the magic, then garbage: opens, and says so when read */
    memcpy(junk, "SQLite format 3", 16);
    ck_assert_int_eq(kt_sqlite_open(junk, sizeof junk, 0, &s, &err), 0);
    char msg[256];
    ck_assert_int_ne(prepare_rc(s, "SELECT * FROM sqlite_master", msg, sizeof msg), SQLITE_OK);
    ck_assert_str_eq(msg, "file is not a database");
    kt_sqlite_close(s);

    /* a real database cut short and bit-flipped all over: every table
     * read through, or an error, never a crash (ASan) */
    kt_buf b = {0};
    make_db("CREATE TABLE t(x, y); CREATE INDEX i ON t(y);"
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 500) "
            "INSERT INTO t SELECT n, randomblob(40) FROM c;",
            &b);
    for (size_t pos = 0; pos < b.len; pos += 61) {
        for (int cut = 0; cut < 2; cut++) {
            size_t len = cut ? pos : b.len;
            b.data[pos] ^= cut ? 0 : 0x5a;
            s = NULL;
            if (kt_sqlite_open(b.data, len, 1000000, &s, &err) == 0) {
                sqlite3_stmt *st = NULL;
                if (sqlite3_prepare_v2(kt_sqlite_db(s), "SELECT x, y FROM t ORDER BY y", -1, &st,
                                       NULL) == SQLITE_OK)
                    while (sqlite3_step(st) == SQLITE_ROW)
                        ;
                sqlite3_finalize(st);
                kt_sqlite_close(s);
            } else {
                ck_assert_int_eq(err.code, KT_EFORMAT);
            }
            b.data[pos] ^= cut ? 0 : 0x5a;
        }
    }
    kt_buf_release(&b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sqlite");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, reads_a_private_copy_of_the_image);
    tcase_add_test(tc, refuses_every_statement_that_would_write);
    tcase_add_test(tc, schema_cannot_run_functions_with_side_effects);
    tcase_add_test(tc, stops_a_query_past_its_step_budget);
    tcase_add_test(tc, reads_a_wal_mode_database_without_its_wal);
    tcase_add_test(tc, refuses_garbage_and_survives_damage);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
