/* SQLite databases opened read-only from memory (see kavtrace/sqlite.h). */
#include "kavtrace/sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 0x00: "SQLite format 3\0"; the header is 100 bytes; 0x12, 0x13: the
 * file format write and read versions, 2 for WAL mode. */
#define SQLITE_HEADER 100
#define SQLITE_WRITE_VERSION 18
#define SQLITE_READ_VERSION 19

struct kt_sqlite {
    sqlite3 *db;
    uint64_t steps, max_steps;
    bool over;
    char msg[96];
};

/* Only reading: no statement can change anything, even in memory. */
static int authorize(void *p, int action, const char *a1, const char *a2, const char *a3,
                     const char *a4)
{
    (void)p, (void)a1, (void)a2, (void)a3, (void)a4;
    return action == SQLITE_SELECT || action == SQLITE_READ || action == SQLITE_FUNCTION
               ? SQLITE_OK
               : SQLITE_DENY;
}

static int progress(void *p)
{
    kt_sqlite *s = p;
    s->steps += KT_SQLITE_STEP_GRAIN;
    if (s->steps > s->max_steps)
        s->over = true;
    return s->over;
}

/* Set a boolean option and read it back: an SQLite that does not know the
 * option (older than 3.31 for TRUSTED_SCHEMA) must not run unhardened. */
static bool config(sqlite3 *db, int op, int want)
{
    int got = -1;
    return sqlite3_db_config(db, op, want, &got) == SQLITE_OK && got == want;
}

int kt_sqlite_open(const uint8_t *data, size_t len, uint64_t max_steps, kt_sqlite **out,
                   kt_error *err)
{
    if (data == NULL || len < SQLITE_HEADER || memcmp(data, "SQLite format 3", 16) != 0)
        return kt_error_set(err, KT_EFORMAT, "not an SQLite database");
    if ((uint64_t)len > (uint64_t)INT64_MAX)
        return kt_error_set(err, KT_ELIMIT, "sqlite: database of %zu bytes", len);
    kt_sqlite *s = calloc(1, sizeof *s);
    unsigned char *copy = sqlite3_malloc64(len);
    int rc = KT_OK;
    if (s == NULL || copy == NULL) {
        sqlite3_free(copy);
        rc = kt_error_set(err, KT_ENOMEM, "out of memory");
        goto out;
    }
    s->max_steps = max_steps ? max_steps : KT_SQLITE_MAX_STEPS;
    memcpy(copy, data, len);
    if (copy[SQLITE_WRITE_VERSION] == 2 && copy[SQLITE_READ_VERSION] == 2)
        copy[SQLITE_WRITE_VERSION] = copy[SQLITE_READ_VERSION] = 1;
    if (sqlite3_open_v2(":memory:", &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_PRIVATECACHE,
                        NULL) != SQLITE_OK) {
        sqlite3_free(copy);
        rc = kt_error_set(err, KT_ENOMEM, "sqlite: %s",
                          s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto out;
    }
    /* The connection owns the copy from here, even when this fails. */
    if (sqlite3_deserialize(s->db, "main", copy, (sqlite3_int64)len, (sqlite3_int64)len,
                            SQLITE_DESERIALIZE_READONLY | SQLITE_DESERIALIZE_FREEONCLOSE) !=
        SQLITE_OK) {
        rc = kt_error_set(err, KT_EFORMAT, "sqlite: cannot load the database image: %s",
                          sqlite3_errmsg(s->db));
        goto out;
    }
    if (!config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1) ||
        !config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0) ||
        sqlite3_set_authorizer(s->db, authorize, NULL) != SQLITE_OK) {
        rc = kt_error_set(err, KT_EUNSUPPORTED, "sqlite %s: cannot make the connection read-only",
                          sqlite3_libversion());
        goto out;
    }
    sqlite3_progress_handler(s->db, KT_SQLITE_STEP_GRAIN, progress, s);
out:
    if (rc) {
        kt_sqlite_close(s);
        return rc;
    }
    *out = s;
    return KT_OK;
}

void kt_sqlite_close(kt_sqlite *s)
{
    if (s == NULL)
        return;
    sqlite3_close(s->db);
    free(s);
}

sqlite3 *kt_sqlite_db(const kt_sqlite *s)
{
    return s->db;
}

uint64_t kt_sqlite_steps(const kt_sqlite *s)
{
    return s->steps;
}

bool kt_sqlite_over_budget(const kt_sqlite *s)
{
    return s->over;
}

const char *kt_sqlite_errmsg(kt_sqlite *s)
{
    if (!s->over)
        return sqlite3_errmsg(s->db);
    snprintf(s->msg, sizeof s->msg, "over the budget of %llu virtual-machine steps",
             (unsigned long long)s->max_steps);
    return s->msg;
}
