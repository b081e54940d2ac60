/* kavtrace.sqlite: the item's findings and timeline as one SQLite
 * database (schema: docs/sqlite.md). Built in memory, in a fixed order,
 * and serialised (sqlite3_serialize): the same scan gives the same bytes
 * but for the run's own fields. Text from the evidence is stored as
 * findings.json has it (kavtrace/text.h's \xHH escapes), so every value is
 * valid UTF-8. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/text.h"
#include "kavtrace/writers.h"

#ifndef KT_VERSION
#define KT_VERSION "0"
#endif

/* Every row carries its item (item_id): a batch's case.sqlite holds many
 * items' rows in this same schema (kt_case_sqlite_*, below). */
const char kt_sqlite_schema[] =
    "PRAGMA page_size=4096;"
    "CREATE TABLE items(item_id INTEGER PRIMARY KEY, item TEXT UNIQUE, status TEXT,"
    " message TEXT, custodian TEXT, key_file TEXT, notes TEXT, run_id TEXT, path TEXT,"
    " format TEXT, size INTEGER, sha256 TEXT, md5 TEXT, sha1 TEXT, hash_status TEXT,"
    " stored_md5 TEXT, stored_sha1 TEXT, stored_hash_verification TEXT);"
    "CREATE TABLE runs(item_id INTEGER REFERENCES items, run_id TEXT,"
    " kavtrace_version TEXT NOT NULL, started TEXT, finished TEXT, events INTEGER,"
    " files_read INTEGER, bytes_read INTEGER);"
    "CREATE TABLE milestones(milestone TEXT PRIMARY KEY, time TEXT, time_ns INTEGER NOT NULL,"
    " date_only INTEGER NOT NULL);"
    "CREATE TABLE systems(system_id INTEGER PRIMARY KEY, item_id INTEGER REFERENCES items,"
    " volume INTEGER, volume_offset INTEGER, fs TEXT, os TEXT, os_name TEXT, hostname TEXT,"
    " timezone TEXT, migrated_to TEXT, migration_time TEXT, migration_time_ns INTEGER);"
    "CREATE TABLE products(product_row INTEGER PRIMARY KEY, item_id INTEGER REFERENCES items,"
    " system_id INTEGER REFERENCES systems,"
    " product TEXT, vendor TEXT, name TEXT, version TEXT, first_seen TEXT, first_seen_ns INTEGER,"
    " installed TEXT, installed_ns INTEGER, last_signature_update TEXT,"
    " last_signature_update_ns INTEGER, last_codebase_update TEXT,"
    " last_codebase_update_ns INTEGER, ksn TEXT, last_ksn_evidence TEXT,"
    " last_ksn_evidence_ns INTEGER, last_execution TEXT, last_execution_ns INTEGER,"
    " status TEXT, removed TEXT, removed_ns INTEGER, removal_method TEXT);"
    "CREATE TABLE product_evidence(item_id INTEGER REFERENCES items,"
    " product_row INTEGER REFERENCES products, field TEXT, event_id TEXT,"
    " FOREIGN KEY(item_id, event_id) REFERENCES events(item_id, event_id));"
    "CREATE TABLE verdicts(item_id INTEGER REFERENCES items, system_id INTEGER REFERENCES systems,"
    " verdict TEXT, value INTEGER, backing TEXT, left_open INTEGER NOT NULL);"
    "CREATE TABLE verdict_evidence(item_id INTEGER REFERENCES items,"
    " system_id INTEGER REFERENCES systems, verdict TEXT, event_id TEXT,"
    " FOREIGN KEY(item_id, event_id) REFERENCES events(item_id, event_id));"
    "CREATE TABLE events(item_id INTEGER NOT NULL REFERENCES items, event_id TEXT NOT NULL,"
    " time TEXT, time_ns INTEGER NOT NULL,"
    " time_source TEXT, precision TEXT, zone TEXT, category TEXT, vendor TEXT, product TEXT,"
    " product_name TEXT, version TEXT, artifact TEXT, confidence TEXT, description TEXT,"
    " volume INTEGER, fs TEXT, path TEXT, inode INTEGER, allocated INTEGER, hive TEXT, key TEXT,"
    " value TEXT, phase TEXT, nearest_milestone TEXT, seconds_from_milestone INTEGER,"
    " PRIMARY KEY(item_id, event_id));"
    "CREATE INDEX events_time ON events(time_ns);"
    "CREATE INDEX events_product ON events(product, time_ns);"
    "CREATE INDEX events_category ON events(category, time_ns);"
    "CREATE TABLE warnings(item_id INTEGER NOT NULL REFERENCES items, seq INTEGER NOT NULL,"
    " severity TEXT, code TEXT, volume INTEGER, path TEXT, artifact TEXT, message TEXT,"
    " PRIMARY KEY(item_id, seq));"
    /* The common questions, by findings.json's rules (docs/findings.md):
     * a product there at the cutoff was installed (or first seen) before
     * it and was present at acquisition, or removed at or after it, or
     * removed at a time nothing shows. Each row names its item. */
    "CREATE VIEW products_at_cutoff AS SELECT i.item, s.volume, p.* FROM products p"
    " JOIN systems s USING (system_id) JOIN items i ON i.item_id = p.item_id,"
    " milestones m WHERE m.milestone = 'cutoff'"
    " AND COALESCE(p.installed_ns, p.first_seen_ns) < m.time_ns"
    " AND (p.status = 'present' OR p.removed_ns IS NULL OR p.removed_ns >= m.time_ns);"
    /* a product's last signature or codebase update at or after the cutoff */
    "CREATE VIEW updates_after_cutoff AS"
    " SELECT p.item_id, i.item, s.volume, p.product_row, p.vendor, p.product, p.name,"
    " 'signature' AS kind, p.last_signature_update AS time, p.last_signature_update_ns AS time_ns"
    " FROM products p JOIN systems s USING (system_id) JOIN items i ON i.item_id = p.item_id,"
    " milestones m WHERE m.milestone = 'cutoff' AND p.last_signature_update_ns >= m.time_ns"
    " UNION ALL SELECT p.item_id, i.item, s.volume, p.product_row, p.vendor, p.product, p.name,"
    " 'codebase', p.last_codebase_update, p.last_codebase_update_ns"
    " FROM products p JOIN systems s USING (system_id) JOIN items i ON i.item_id = p.item_id,"
    " milestones m WHERE m.milestone = 'cutoff' AND p.last_codebase_update_ns >= m.time_ns;"
    /* every update event at or after the cutoff, not only the last */
    "CREATE VIEW update_events_after_cutoff AS SELECT i.item, e.* FROM events e"
    " JOIN items i ON i.item_id = e.item_id, milestones m"
    " WHERE m.milestone = 'cutoff' AND e.time_ns >= m.time_ns"
    " AND e.category IN ('signature_update', 'codebase_update');"
    "CREATE VIEW verdict_table AS SELECT v.item_id, i.item, s.volume, v.verdict,"
    " CASE v.value WHEN 1 THEN 'true' WHEN 0 THEN 'false' ELSE 'null' END AS answer,"
    " v.backing, v.left_open FROM verdicts v JOIN systems s USING (system_id)"
    " JOIN items i ON i.item_id = v.item_id;";

typedef struct db {
    sqlite3 *h;
    sqlite3_stmt *st;
    int col;
    int rc;
    kt_buf esc;
} db;

static void prepare(db *d, const char *sql)
{
    if (d->rc)
        return;
    sqlite3_finalize(d->st);
    d->st = NULL;
    d->col = 0;
    if (sqlite3_prepare_v2(d->h, sql, -1, &d->st, NULL) != SQLITE_OK)
        d->rc = KT_ENOMEM;
}

/* Text as the JSON outputs have it: valid UTF-8, \xHH for the rest. */
static void text(db *d, const char *s)
{
    if (d->rc)
        return;
    int i = ++d->col;
    if (s == NULL) {
        sqlite3_bind_null(d->st, i);
        return;
    }
    if (kt_text_needs_escape(s, KT_TEXT_UTF8)) {
        d->esc.len = 0;
        if (kt_text_escape(&d->esc, s, KT_TEXT_UTF8) != KT_OK) {
            d->rc = KT_ENOMEM;
            return;
        }
        s = (const char *)d->esc.data;
    }
    if (sqlite3_bind_text(d->st, i, s, -1, SQLITE_TRANSIENT) != SQLITE_OK)
        d->rc = KT_ENOMEM;
}

static void integer(db *d, int64_t v)
{
    if (d->rc == KT_OK)
        sqlite3_bind_int64(d->st, ++d->col, v);
}

static void null(db *d)
{
    if (d->rc == KT_OK)
        sqlite3_bind_null(d->st, ++d->col);
}

/* A time as ISO text and as nanoseconds (for comparing: the text's
 * fraction varies in length); two columns. */
static void when(db *d, kt_time t)
{
    char buf[KT_TIME_ISO_MAX];
    if (t == KT_TIME_NONE) {
        null(d);
        null(d);
        return;
    }
    text(d, kt_time_format_iso(t, buf));
    integer(d, t);
}

static void step(db *d)
{
    if (d->rc)
        return;
    if (sqlite3_step(d->st) != SQLITE_DONE)
        d->rc = KT_ENOMEM;
    sqlite3_reset(d->st);
    sqlite3_clear_bindings(d->st);
    d->col = 0;
}

static void ids(db *d, const char *sql, int64_t owner, const char *field, const kt_strlist *l)
{
    prepare(d, sql);
    for (size_t i = 0; i < l->count; i++) {
        integer(d, owner);
        text(d, field);
        text(d, l->items[i]);
        step(d);
    }
}

static void product(db *d, int64_t system, int64_t row, const kt_product_finding *p)
{
    prepare(d, "INSERT INTO products VALUES(?,1,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    integer(d, row);
    integer(d, system);
    text(d, p->id);
    text(d, p->vendor);
    text(d, p->name);
    text(d, p->version[0] ? p->version : NULL);
    when(d, p->first_seen);
    when(d, p->installed);
    when(d, p->last_signature_update);
    when(d, p->last_codebase_update);
    text(d, kt_ksn_name(p->ksn));
    when(d, p->last_ksn_evidence);
    when(d, p->last_execution);
    text(d, kt_status_name(p->status));
    when(d, p->removed);
    text(d, kt_removal_name(p->removal_method));
    step(d);
    static const char ins[] = "INSERT INTO product_evidence VALUES(1,?,?,?)";
    struct {
        const char *field;
        const kt_strlist *l;
    } ev[] = {
        {"version", &p->ev_version},
        {"first_seen", &p->ev_first_seen},
        {"installed", &p->ev_installed},
        {"last_signature_update", &p->ev_signature},
        {"last_codebase_update", &p->ev_codebase},
        {"last_ksn_evidence", &p->ev_ksn},
        {"last_execution", &p->ev_execution},
        {"status", &p->ev_status},
        {"removed", &p->ev_removed},
    };
    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++)
        ids(d, ins, row, ev[i].field, ev[i].l);
}

/* The run's start and end with all nine digits: a fixed length, so two
 * runs' databases differ in those bytes only. */
static const char *run_time(kt_time t, char buf[KT_TIME_ISO_MAX])
{
    if (t == KT_TIME_NONE)
        return NULL;
    char iso[KT_TIME_ISO_MAX];
    kt_time_format_iso(t - t % KT_NS_PER_SEC, iso);
    iso[19] = '\0'; /* YYYY-MM-DDTHH:MM:SS */
    snprintf(buf, KT_TIME_ISO_MAX, "%s.%09lldZ", iso, (long long)(t % KT_NS_PER_SEC));
    return buf;
}

static void fill(db *d, const kt_scan *s, const kt_artifact_set *set)
{
    if (sqlite3_exec(d->h, kt_sqlite_schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(d->h, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        d->rc = KT_ENOMEM;
        return;
    }
    char t[KT_TIME_ISO_MAX];
    prepare(d, "INSERT INTO runs VALUES(1,?,?,?,?,?,?,?)");
    text(d, s->run_id[0] ? s->run_id : NULL);
    text(d, KT_VERSION);
    text(d, run_time(s->started, t));
    text(d, run_time(s->finished, t));
    integer(d, (int64_t)s->tl.count);
    integer(d, (int64_t)s->stats.files_read);
    integer(d, (int64_t)s->stats.bytes_read);
    step(d);

    const kt_image_info *ii = kt_image_get_info(s->inv.img);
    const kt_media_digest *md = &s->inv.digest;
    prepare(d, "INSERT INTO items VALUES(1,NULL,'ok',NULL,NULL,NULL,NULL,?,?,?,?,?,?,?,?,?,?,?)");
    text(d, s->run_id[0] ? s->run_id : NULL);
    text(d, s->inv.path);
    text(d, ii->format_name);
    integer(d, ii->size);
    text(d, md->sha256[0] ? md->sha256 : NULL);
    text(d, md->md5[0] ? md->md5 : NULL);
    text(d, md->sha1[0] ? md->sha1 : NULL);
    text(d, kt_hash_status_name(md->status));
    text(d, ii->stored_md5[0] ? ii->stored_md5 : NULL);
    text(d, ii->stored_sha1[0] ? ii->stored_sha1 : NULL);
    text(d, kt_verification_name(md->verification));
    step(d);

    prepare(d, "INSERT INTO milestones VALUES(?,?,?,?)");
    for (size_t i = 0; i < set->nmilestones; i++) {
        text(d, set->milestones[i].id);
        when(d, set->milestones[i].time);
        integer(d, set->milestones[i].date_only);
        step(d);
    }

    int64_t prow = 0;
    for (size_t i = 0; i < s->nsystems; i++) {
        const kt_scan_system *ss = &s->systems[i];
        const kt_system_finding *f = &ss->findings;
        int64_t sys = (int64_t)i + 1;
        prepare(d, "INSERT INTO systems VALUES(?,1,?,?,?,?,?,?,?,?,?,?)");
        integer(d, sys);
        integer(d, ss->volume->index);
        integer(d, ss->volume->offset);
        text(d, ss->fs);
        text(d, kt_os_name(ss->sys.os));
        text(d, ss->sys.os_name);
        text(d, ss->sys.hostname[0] ? ss->sys.hostname : NULL);
        text(d, ss->zone[0] ? ss->zone : ss->sys.timezone[0] ? ss->sys.timezone : NULL);
        text(d, f->migrated ? f->migration_to : NULL);
        when(d, f->migrated ? f->migration_time : KT_TIME_NONE);
        step(d);
        for (size_t p = 0; p < f->nproducts; p++)
            product(d, sys, ++prow, &f->products[p]);
        for (int v = 0; v < KT_V_COUNT; v++) {
            const char *name = kt_verdict_name((kt_verdict)v);
            prepare(d, "INSERT INTO verdicts VALUES(1,?,?,?,?,?)");
            integer(d, sys);
            text(d, name);
            if (f->verdicts[v] == KT_NULL)
                null(d);
            else
                integer(d, f->verdicts[v] == KT_TRUE);
            text(d, f->verdict_ev[v].count ? kt_backing_name(f->verdict_backing[v]) : NULL);
            integer(d, f->opened[v]);
            step(d);
            ids(d, "INSERT INTO verdict_evidence VALUES(1,?,?,?)", sys, name, &f->verdict_ev[v]);
        }
    }

    prepare(d, "INSERT INTO events VALUES(1,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    for (size_t i = 0; i < s->tl.count && d->rc == KT_OK; i++) {
        const kt_event *e = &s->tl.items[i];
        text(d, e->id);
        when(d, e->time);
        text(d, e->time_source);
        text(d, kt_precision_name(e->precision));
        text(d, e->zone);
        text(d, kt_category_name(e->category));
        text(d, e->vendor);
        text(d, e->product_id);
        text(d, e->product_name);
        text(d, e->version);
        text(d, e->artifact ? e->artifact->id : NULL);
        text(d, e->artifact ? e->artifact->confidence : NULL);
        text(d, e->description);
        integer(d, e->volume);
        text(d, e->fs);
        text(d, e->path);
        if (e->path) {
            integer(d, (int64_t)e->inode);
            integer(d, e->allocated);
        } else {
            null(d);
            null(d);
        }
        text(d, e->hive);
        text(d, e->key);
        text(d, e->value);
        text(d, e->phase);
        text(d, e->nearest);
        integer(d, e->distance);
        step(d);
    }

    prepare(d, "INSERT INTO warnings VALUES(1,?,?,?,?,?,?,?)");
    for (size_t i = 0; i < s->warnings.count; i++) {
        const kt_diag *dg = &s->warnings.items[i];
        integer(d, (int64_t)i + 1);
        text(d, kt_severity_name(dg->severity));
        text(d, dg->code);
        if (dg->volume >= 0)
            integer(d, dg->volume);
        else
            null(d);
        text(d, dg->path);
        text(d, dg->artifact);
        text(d, dg->message);
        step(d);
    }
    sqlite3_finalize(d->st);
    d->st = NULL;
    if (d->rc == KT_OK && sqlite3_exec(d->h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        d->rc = KT_ENOMEM;
}

static int write_sqlite(kt_buf *out, const kt_scan *s, const kt_artifact_set *set)
{
    db d = {0};
    if (sqlite3_open_v2(":memory:", &d.h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        sqlite3_close(d.h);
        return KT_ENOMEM;
    }
    fill(&d, s, set);
    sqlite3_finalize(d.st);
    if (d.rc == KT_OK) {
        sqlite3_int64 n = 0;
        unsigned char *p = sqlite3_serialize(d.h, "main", &n, 0);
        if (p == NULL || kt_buf_append(out, p, (size_t)n) != KT_OK)
            d.rc = KT_ENOMEM;
        sqlite3_free(p);
    }
    sqlite3_close(d.h);
    kt_buf_release(&d.esc);
    return d.rc;
}

const kt_writer kt_writer_sqlite = {
    .name = "sqlite",
    .file = "kavtrace.sqlite",
    .summary = "findings, verdicts, events and warnings as an SQLite database",
    .on_request = true,
    .write = write_sqlite,
};

/* ---- case.sqlite: a batch's items in the same schema ---- */

struct kt_case_db {
    sqlite3 *h;
    int64_t items;
    kt_buf esc, sql;
};

int kt_case_db_new(kt_case_db **out)
{
    kt_case_db *c = calloc(1, sizeof *c);
    if (c == NULL)
        return KT_ENOMEM;
    /* "it": each item's kavtrace.sqlite in turn, deserialised into it. */
    if (sqlite3_open_v2(":memory:", &c->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(c->h, kt_sqlite_schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(c->h, "ATTACH ':memory:' AS it", NULL, NULL, NULL) != SQLITE_OK) {
        kt_case_db_free(c);
        return KT_ENOMEM;
    }
    *out = c;
    return KT_OK;
}

void kt_case_db_free(kt_case_db *c)
{
    if (c == NULL)
        return;
    sqlite3_close(c->h);
    kt_buf_release(&c->esc);
    kt_buf_release(&c->sql);
    free(c);
}

/* Case text as the items' text: valid UTF-8, \xHH for the rest. */
static int bind_text(kt_case_db *c, sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL)
        return sqlite3_bind_null(st, i) == SQLITE_OK ? KT_OK : KT_ENOMEM;
    if (kt_text_needs_escape(s, KT_TEXT_UTF8)) {
        c->esc.len = 0;
        if (kt_text_escape(&c->esc, s, KT_TEXT_UTF8) != KT_OK)
            return KT_ENOMEM;
        s = (const char *)c->esc.data;
    }
    return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) == SQLITE_OK ? KT_OK : KT_ENOMEM;
}

/* The tables copied from an item's database, each in its stored order. */
static const struct {
    const char *table, *order;
} merged[] = {
    {"items", "rowid"},          {"runs", "rowid"},
    {"milestones", "rowid"},     {"systems", "system_id"},
    {"products", "product_row"}, {"product_evidence", "rowid"},
    {"verdicts", "rowid"},       {"verdict_evidence", "rowid"},
    {"events", "rowid"},         {"warnings", "seq"},
};

/* What a column of main.TABLE takes from the item's row: ?1 the item's
 * new id, ?2 and ?3 what its system ids and product rows are moved by,
 * ?4..?9 the case's own columns of items. */
static const char *column_source(const char *table, const char *col)
{
    static const char *const own[] = {"item",      "status",   "message",
                                      "custodian", "key_file", "notes"};
    static const char *const param[] = {"?4", "?5", "?6", "?7", "?8", "?9"};
    if (strcmp(col, "item_id") == 0)
        return "?1";
    if (strcmp(col, "system_id") == 0)
        return "system_id + ?2";
    if (strcmp(col, "product_row") == 0)
        return "product_row + ?3";
    for (size_t i = 0; strcmp(table, "items") == 0 && i < sizeof own / sizeof own[0]; i++)
        if (strcmp(col, own[i]) == 0)
            return param[i];
    return NULL;
}

/* INSERT INTO main.T SELECT ... FROM it.T ORDER BY ..., its columns by
 * name (main's schema: an item database that lacks one fails). */
static int merge_sql(kt_case_db *c, size_t t)
{
    const char *table = merged[t].table;
    c->sql.len = 0;
    int rc = kt_buf_printf(&c->sql, "INSERT %sINTO main.%s SELECT ",
                           strcmp(table, "milestones") == 0 ? "OR IGNORE " : "", table);
    char q[96];
    snprintf(q, sizeof q, "PRAGMA main.table_info(%s)", table);
    sqlite3_stmt *st = NULL;
    if (rc == KT_OK && sqlite3_prepare_v2(c->h, q, -1, &st, NULL) != SQLITE_OK)
        rc = KT_EFORMAT;
    for (int n = 0; rc == KT_OK && sqlite3_step(st) == SQLITE_ROW; n++) {
        const char *col = (const char *)sqlite3_column_text(st, 1);
        const char *src = column_source(table, col);
        rc = kt_buf_printf(&c->sql, "%s%s%s%s", n ? ", " : "", src ? src : "\"", src ? "" : col,
                           src ? "" : "\"");
    }
    sqlite3_finalize(st);
    if (rc == KT_OK)
        rc = kt_buf_printf(&c->sql, " FROM it.%s ORDER BY %s", table, merged[t].order);
    return rc;
}

static int64_t max_of(kt_case_db *c, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = 0;
    if (sqlite3_prepare_v2(c->h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The item's rows from its database, in one transaction. */
static int merge_item(kt_case_db *c, const kt_case_db_item *it, kt_error *err)
{
    int64_t sys_off = max_of(c, "SELECT COALESCE(MAX(system_id), 0) FROM main.systems");
    int64_t prow_off = max_of(c, "SELECT COALESCE(MAX(product_row), 0) FROM main.products");
    int rc = sqlite3_exec(c->h, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? KT_OK : KT_ENOMEM;
    for (size_t t = 0; rc == KT_OK && t < sizeof merged / sizeof merged[0]; t++) {
        rc = merge_sql(c, t);
        sqlite3_stmt *st = NULL;
        if (rc == KT_OK &&
            sqlite3_prepare_v2(c->h, (const char *)c->sql.data, -1, &st, NULL) != SQLITE_OK) {
            rc = kt_error_set(err, KT_EFORMAT, "table %s: %s", merged[t].table,
                              sqlite3_errmsg(c->h));
            break;
        }
        const char *own[] = {it->item,      it->status,   it->message,
                             it->custodian, it->key_file, it->notes};
        /* A statement has the parameters up to the last its table uses. */
        int np = rc == KT_OK ? sqlite3_bind_parameter_count(st) : 0;
        int64_t nums[] = {c->items + 1, sys_off, prow_off};
        for (int i = 0; rc == KT_OK && i < 3 && i < np; i++)
            if (sqlite3_bind_int64(st, i + 1, nums[i]) != SQLITE_OK)
                rc = KT_ENOMEM;
        for (int i = 0; rc == KT_OK && i < 6 && 4 + i <= np; i++)
            rc = bind_text(c, st, 4 + i, own[i]);
        if (rc == KT_OK && sqlite3_step(st) != SQLITE_DONE)
            rc = kt_error_set(err, KT_EFORMAT, "table %s: %s", merged[t].table,
                              sqlite3_errmsg(c->h));
        if (rc == KT_OK && strcmp(merged[t].table, "items") == 0 && sqlite3_changes(c->h) != 1)
            rc = kt_error_set(err, KT_EFORMAT, "%d items, not one", sqlite3_changes(c->h));
        sqlite3_finalize(st);
    }
    if (rc == KT_ENOMEM)
        kt_error_set(err, KT_ENOMEM, "out of memory");
    else if (rc == KT_EFORMAT && err->code != KT_EFORMAT)
        kt_error_set(err, KT_EFORMAT, "%s", sqlite3_errmsg(c->h));
    if (rc == KT_OK && sqlite3_exec(c->h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = kt_error_set(err, KT_ENOMEM, "out of memory");
    if (rc)
        sqlite3_exec(c->h, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int kt_case_db_add(kt_case_db *c, const kt_case_db_item *it, const uint8_t *item_db, size_t len,
                   kt_error *err)
{
    if (item_db) {
        /* A copy the connection owns and frees; read-only, so nothing the
         * merge does can change it. */
        unsigned char *copy = sqlite3_malloc64(len ? len : 1);
        if (copy == NULL)
            return kt_error_set(err, KT_ENOMEM, "out of memory");
        memcpy(copy, item_db, len);
        if (sqlite3_deserialize(c->h, "it", copy, (sqlite3_int64)len, (sqlite3_int64)len,
                                SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY) !=
            SQLITE_OK)
            return kt_error_set(err, KT_EFORMAT, "not an SQLite database");
        /* Its schema read first: a file that is no database fails here. */
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(c->h, "SELECT count(*) FROM it.sqlite_master", -1, &st, NULL) ==
                             SQLITE_OK &&
                         sqlite3_step(st) == SQLITE_ROW
                     ? KT_OK
                     : kt_error_set(err, KT_EFORMAT, "%s", sqlite3_errmsg(c->h));
        sqlite3_finalize(st);
        if (rc == KT_OK)
            rc = merge_item(c, it, err);
        /* The item's database released: an empty one in its place. */
        sqlite3_exec(c->h, "DETACH it; ATTACH ':memory:' AS it", NULL, NULL, NULL);
        if (rc)
            return rc;
    } else {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(c->h,
                                    "INSERT INTO items(item_id, item, status, message, custodian,"
                                    " key_file, notes, path) VALUES(?,?,?,?,?,?,?,?)",
                                    -1, &st, NULL) == SQLITE_OK
                     ? KT_OK
                     : KT_ENOMEM;
        const char *own[] = {it->item,     it->status, it->message, it->custodian,
                             it->key_file, it->notes,  it->evidence};
        if (rc == KT_OK && sqlite3_bind_int64(st, 1, c->items + 1) != SQLITE_OK)
            rc = KT_ENOMEM;
        for (int i = 0; rc == KT_OK && i < 7; i++)
            rc = bind_text(c, st, 2 + i, own[i]);
        if (rc == KT_OK && sqlite3_step(st) != SQLITE_DONE)
            rc = KT_ENOMEM;
        sqlite3_finalize(st);
        if (rc)
            return kt_error_set(err, rc, "out of memory");
    }
    c->items++;
    return KT_OK;
}

int kt_case_db_finish(kt_case_db *c, kt_buf *out)
{
    sqlite3_int64 n = 0;
    unsigned char *p = sqlite3_serialize(c->h, "main", &n, 0);
    int rc = p == NULL || kt_buf_append(out, p, (size_t)n) != KT_OK ? KT_ENOMEM : KT_OK;
    sqlite3_free(p);
    return rc;
}
