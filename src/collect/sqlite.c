/* Source `sqlite`: rows of a read-only SELECT on an SQLite database (a
 * private in-memory copy), each dated by its first column; or the list of
 * the database's tables, dated by the file's times. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kavtrace/sqlite.h"
#include "source.h"

#define SQLITE_MAX_ROWS 100000 /* per database and artifact */

typedef struct spec {
    kt_file_part fp;
    char *query;                 /* SELECT; the first column is the time unless `tables` */
    kt_encoding column_encoding; /* of the time column */
    bool tables;                 /* record the database's tables, not rows */
} spec;

/* ---- definitions ---- */

static void parse(kt_defs *c, yaml_node_t *q, kt_artifact *a)
{
    spec *s = defs_calloc(c, 1, sizeof *s);
    if (s == NULL)
        return;
    a->spec = s;
    static const char *const keys[] = {"paths",    "type",   "deleted", "times",   "query",
                                       "encoding", "tables", "product", "version", NULL};
    defs_check_keys(c, q, "sqlite", keys);
    kt_file_part_parse(c, q, a, &s->fp);
    s->tables = defs_bool(c, q, "tables", false);
    s->query = defs_dup(c, q, "query", false, "sqlite");
    if ((s->query != NULL) == s->tables)
        defs_problem(c, q, "sqlite: give either 'query' (rows) or 'tables: true'");
    if (s->query && strncasecmp(s->query, "select ", 7) != 0)
        defs_problem(c, defs_get(c, q, "query"), "sqlite: the query must be a SELECT");
    const char *enc = defs_str(c, q, "encoding", "sqlite");
    if (s->query) {
        if (enc && strcmp(enc, "filetime") == 0)
            s->column_encoding = KT_ENC_FILETIME;
        else if (enc && strcmp(enc, "unix") == 0)
            s->column_encoding = KT_ENC_UNIX;
        else
            defs_problem(c, q, "sqlite: the time column's encoding must be filetime or unix");
    } else if (enc) {
        defs_problem(c, defs_get(c, q, "encoding"),
                     "sqlite: 'encoding' is for a query's time column");
    }
    if (s->tables && s->fp.ntimes == 0)
        defs_problem(c, q, "sqlite: tables need a file time to date them ('times')");
}

static void release(void *p)
{
    spec *s = p;
    if (s == NULL)
        return;
    kt_file_part_release(&s->fp);
    free(s->query);
    free(s);
}

static void detail(const kt_artifact *a, char *buf, size_t len)
{
    const spec *s = a->spec;
    kt_strlcpy(buf, s && s->tables ? "tables" : "rows", len);
}

/* ---- collection ---- */

static void wal_note(kt_collector *c, const kt_find *f)
{
    char wal[KT_FS_PATH_MAX + 8];
    kt_stat st;
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    if (kt_fs_stat(c->fs, wal, f->deleted ? KT_FS_DELETED : 0, &st, NULL) == KT_OK && st.size > 0)
        kt_collect_diag(c, KT_SEV_WARNING, "sqlite.wal", f->path, NULL,
                        "its write-ahead log (%llu bytes) is not applied: changes "
                        "not yet written back to the database are not read",
                        (unsigned long long)st.size);
}

static void tables(kt_collector *c, const kt_artifact *a, const kt_find *f, kt_sqlite *conn)
{
    sqlite3 *db = kt_sqlite_db(conn);
    const spec *s = a->spec;
    sqlite3_stmt *st = NULL, *cnt = NULL;
    kt_buf list = {0};
    if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK) {
        kt_collect_diag(c, KT_SEV_WARNING, "sqlite", f->path, NULL, "SQLite: %s",
                        sqlite3_errmsg(db));
        return;
    }
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (name == NULL)
            continue;
        char *q = sqlite3_mprintf("SELECT count(*) FROM \"%w\"", name);
        long long rows = -1;
        if (q && sqlite3_prepare_v2(db, q, -1, &cnt, NULL) == SQLITE_OK &&
            sqlite3_step(cnt) == SQLITE_ROW)
            rows = sqlite3_column_int64(cnt, 0);
        sqlite3_finalize(cnt);
        cnt = NULL;
        sqlite3_free(q);
        char item[300];
        int len = rows >= 0
                      ? snprintf(item, sizeof item, "%s%s (%lld rows)", n ? ", " : "", name, rows)
                      : snprintf(item, sizeof item, "%s%s (unreadable)", n ? ", " : "", name);
        if (kt_buf_append(&list, item, (size_t)len < sizeof item ? (size_t)len : sizeof item - 1))
            c->rc = KT_ENOMEM;
        n++;
    }
    sqlite3_finalize(st);
    if (kt_buf_append(&list, "", 1))
        c->rc = KT_ENOMEM;
    if (c->rc) {
        kt_buf_release(&list);
        return;
    }
    char what[KT_FS_PATH_MAX + 2048];
    snprintf(what, sizeof what, " (%s%s: %zu tables: %.1900s)", f->deleted ? "deleted: " : "",
             f->path, n, n ? (const char *)list.data : "none");
    kt_buf_release(&list);
    kt_file_time_finds(c, a, &s->fp, f, what);
}

static void row(kt_collector *c, const kt_artifact *a, const kt_find *f, sqlite3_stmt *st,
                size_t rows, kt_time t, sqlite3_int64 raw)
{
    const spec *s = a->spec;
    int ncol = sqlite3_column_count(st);
    const char *cols[16] = {0};
    int n = ncol < 16 ? ncol : 16;
    for (int i = 0; i < n; i++)
        cols[i] = (const char *)sqlite3_column_text(st, i);
    kt_find rf = *f;
    rf.columns = cols;
    rf.ncolumns = (size_t)n;
    char src[200], value[64], what[KT_FS_PATH_MAX + 1024];
    kt_event_draft e;
    kt_emit_begin(c, a, &rf, &e);
    e.ev.time = t;
    e.ev.precision = s->column_encoding == KT_ENC_FILETIME ? KT_PREC_100NS : KT_PREC_SECOND;
    snprintf(src, sizeof src, "column %s = %lld (%s, UTC)", sqlite3_column_name(st, 0),
             (long long)raw, s->column_encoding == KT_ENC_FILETIME ? "FILETIME" : "Unix time");
    e.ev.time_source = src;
    snprintf(value, sizeof value, "row %zu", rows);
    e.ev.value = value;
    kt_emit_file(&e, f);
    size_t len = (size_t)snprintf(what, sizeof what, " (%s%s row %zu",
                                  f->deleted ? "deleted: " : "", f->path, rows);
    for (int i = 1; i < n && len < sizeof what; i++)
        len += (size_t)snprintf(what + len, sizeof what - len, "%s%s=%.200s", i > 1 ? "; " : ": ",
                                sqlite3_column_name(st, i), cols[i] ? cols[i] : "NULL");
    if (len < sizeof what)
        snprintf(what + len, sizeof what - len, ")");
    kt_emit(c, &e, what);
}

static void rows(kt_collector *c, const kt_artifact *a, const kt_find *f, kt_sqlite *conn)
{
    sqlite3 *db = kt_sqlite_db(conn);
    const spec *s = a->spec;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, s->query, -1, &st, NULL) != SQLITE_OK) {
        kt_collect_diag(c, KT_SEV_WARNING, "sqlite.query", f->path, a, "query: %s",
                        sqlite3_errmsg(db));
        return;
    }
    size_t n = 0, bad = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && !c->rc) {
        if (++n > SQLITE_MAX_ROWS) {
            kt_collect_diag(c, KT_SEV_WARNING, "limit.rows", f->path, a,
                            "more than %d rows; the rest are skipped", SQLITE_MAX_ROWS);
            break;
        }
        sqlite3_int64 raw = sqlite3_column_int64(st, 0);
        kt_time t = KT_TIME_NONE;
        if (sqlite3_column_type(st, 0) == SQLITE_INTEGER && raw > 0)
            t = s->column_encoding == KT_ENC_FILETIME ? kt_time_from_filetime((uint64_t)raw)
                                                      : kt_time_from_unix(raw, 0);
        if (t == KT_TIME_NONE)
            bad++;
        else
            row(c, a, f, st, n, t, raw);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        kt_collect_diag(c, KT_SEV_WARNING, "sqlite.query", f->path, a, "query stopped: %s",
                        kt_sqlite_errmsg(conn));
    if (bad)
        kt_collect_diag(c, KT_SEV_WARNING, "sqlite.time", f->path, a,
                        "%zu rows have no usable time", bad);
    sqlite3_finalize(st);
}

static void found(kt_collector *c, const kt_artifact *a, const kt_find *f)
{
    const spec *s = a->spec;
    kt_buf b = {0};
    if (kt_file_read(c, a, f, KT_COLLECT_MAX_DB, &b))
        return;
    if (!s->tables) { /* its file times, if the definition asks for them */
        char what[KT_FS_PATH_MAX + 64];
        snprintf(what, sizeof what, " (%s%s)", f->deleted ? "deleted: " : "", f->path);
        kt_file_time_finds(c, a, &s->fp, f, what);
    }
    kt_sqlite *conn = NULL;
    kt_error err = {0};
    if (kt_sqlite_open(b.data, b.len, 0, &conn, &err) != KT_OK) {
        if (err.code == KT_ENOMEM)
            c->rc = KT_ENOMEM;
        else
            kt_collect_diag(c, KT_SEV_WARNING, "sqlite", f->path, NULL, "%s", err.msg);
    } else {
        wal_note(c, f);
        if (s->tables)
            tables(c, a, f, conn);
        else
            rows(c, a, f, conn);
        kt_sqlite_close(conn);
    }
    kt_buf_release(&b);
}

static void collect(kt_collector *c, const kt_artifact *a)
{
    const spec *s = a->spec;
    kt_file_walk(c, a, &s->fp, found);
}

const kt_source_ops kt_source_sqlite = {
    .key = "sqlite",
    .summary = "rows of a read-only SELECT on an SQLite database, dated by their first column; "
               "or its tables, dated by the file's times",
    .parse = parse,
    .release = release,
    .detail = detail,
    .collect = collect,
};
