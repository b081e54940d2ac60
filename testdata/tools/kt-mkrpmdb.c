/* kt-mkrpmdb: build an RPM database from a TAB-separated spec, with librpm
 * making the header blobs (headerNew, headerPut*, headerExport) and the
 * database written as rpm lays it out:
 *
 *   kt-mkrpmdb sqlite SPEC OUT      rpmdb.sqlite: Packages(hnum, blob), hnum from 1
 *   kt-mkrpmdb bdb SPEC OUT [be]    Berkeley DB hash "Packages" (libdb), keys the
 *                                   header numbers in the file's byte order
 *                                   (little-endian, or big-endian with "be")
 *   kt-mkrpmdb ndb SPEC OUT         rpm's ndb "Packages.db" (openSUSE), written
 *                                   here as rpm's lib/backend/ndb/rpmpkg.c lays
 *                                   it out (Debian's rpm is built without ndb):
 *                                   one slot page per 254 packages, blobs
 *                                   appended in spec order, package index and
 *                                   blob write time = row number and installtime
 *
 * SPEC rows: name, epoch ("-": none), version, release, arch ("-": none),
 * installtime (Unix seconds), description bytes (a filler that makes the
 * header large: Berkeley DB then keeps it on overflow pages). '#' lines and
 * blank lines are skipped. The output is the same for the same spec: rows
 * are inserted in order, and the stale bytes Berkeley DB leaves in its
 * pages are zeroed. */
#include <db.h>
#include <errno.h>
#include <rpm/header.h>
#include <rpm/rpmtag.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_ROWS 10000
#define MAX_DESC (1 << 20)

typedef struct row {
    char *f[7];
} row;

static const char *out_path; /* removed when the tool fails */

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "kt-mkrpmdb: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (out_path)
        unlink(out_path);
    exit(1);
}

static unsigned long num(const char *s, unsigned long max, const char *what)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > max || s[0] == '-')
        die("bad %s", what);
    return v;
}

static size_t load(const char *path, char **text, row *rows)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        die("cannot open '%s'", path);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (buf == NULL)
        die("out of memory");
    buf[len] = '\0';
    size_t count = 0;
    for (char *line = buf, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (count == MAX_ROWS)
            die("more than %d rows", MAX_ROWS);
        row *r = &rows[count++];
        for (int i = 0; i < 7; i++) {
            r->f[i] = line;
            char *tab = strchr(line, '\t');
            if (i < 6 && tab == NULL)
                die("row '%s' has fewer than 7 fields", r->f[0]);
            if (tab)
                *tab = '\0';
            line = tab ? tab + 1 : line + strlen(line);
        }
    }
    *text = buf;
    return count;
}

static void *header_blob(const row *r, unsigned int *size)
{
    Header h = headerNew();
    char *desc = NULL;
    int ok = headerPutString(h, RPMTAG_NAME, r->f[0]);
    if (strcmp(r->f[1], "-") != 0) {
        uint32_t epoch = (uint32_t)num(r->f[1], UINT32_MAX, "epoch");
        ok = ok && headerPutUint32(h, RPMTAG_EPOCH, &epoch, 1);
    }
    ok = ok && headerPutString(h, RPMTAG_VERSION, r->f[2]);
    ok = ok && headerPutString(h, RPMTAG_RELEASE, r->f[3]);
    if (strcmp(r->f[4], "-") != 0)
        ok = ok && headerPutString(h, RPMTAG_ARCH, r->f[4]);
    uint32_t itime = (uint32_t)num(r->f[5], UINT32_MAX, "installtime");
    ok = ok && headerPutUint32(h, RPMTAG_INSTALLTIME, &itime, 1);
    ok = ok && headerPutString(h, RPMTAG_OS, "linux");
    size_t dlen = num(r->f[6], MAX_DESC, "description size");
    if (dlen) {
        desc = malloc(dlen + 1);
        if (desc == NULL)
            die("out of memory");
        for (size_t i = 0; i < dlen; i++)
            desc[i] = (char)('a' + i % 26);
        desc[dlen] = '\0';
        ok = ok && headerPutString(h, RPMTAG_DESCRIPTION, desc);
    }
    if (!ok)
        die("librpm refused a tag of '%s'", r->f[0]);
    void *blob = headerExport(h, size);
    if (blob == NULL)
        die("headerExport failed for '%s'", r->f[0]);
    headerFree(h);
    free(desc);
    return blob;
}

static void sq(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        die("sqlite: %s", msg ? msg : "error");
}

/* rpm lib/rpmdb.c dbiTags and the key type of each (lib/backend/sqlite.c). */
static const char *const indexes[][2] = {
    {"Name", "TEXT"},
    {"Basenames", "TEXT"},
    {"Group", "TEXT"},
    {"Requirename", "TEXT"},
    {"Providename", "TEXT"},
    {"Conflictname", "TEXT"},
    {"Obsoletename", "TEXT"},
    {"Triggername", "TEXT"},
    {"Dirnames", "TEXT"},
    {"Installtid", "INTEGER"},
    {"Sigmd5", "BLOB"},
    {"Sha1header", "TEXT"},
    {"Filetriggername", "TEXT"},
    {"Transfiletriggername", "TEXT"},
    {"Recommendname", "TEXT"},
    {"Suggestname", "TEXT"},
    {"Supplementname", "TEXT"},
    {"Enhancename", "TEXT"},
};

static void write_sqlite(const char *out, const row *rows, size_t n)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_open(out, &db) != SQLITE_OK)
        die("cannot create '%s'", out);
    /* rpm lib/backend/sqlite.c: the Packages table and the Name index. */
    sq(db, "PRAGMA journal_mode = DELETE");
    sq(db, "BEGIN");
    sq(db, "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)");
    /* rpm opens every index table; only Name is filled (rpm -qa needs none). */
    for (size_t i = 0; i < sizeof indexes / sizeof indexes[0]; i++) {
        char *sql = sqlite3_mprintf(
            "CREATE TABLE '%q' (key '%q' NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL, "
            "FOREIGN KEY (hnum) REFERENCES 'Packages'(hnum));"
            "CREATE INDEX '%q_key_idx' ON '%q'(key ASC)",
            indexes[i][0], indexes[i][1], indexes[i][0], indexes[i][0]);
        if (sql == NULL)
            die("out of memory");
        sq(db, sql);
        sqlite3_free(sql);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned int size = 0;
        void *blob = header_blob(&rows[i], &size);
        if (sqlite3_prepare_v2(db, "INSERT INTO Packages(hnum, blob) VALUES (?, ?)", -1, &st,
                               NULL) != SQLITE_OK ||
            sqlite3_bind_int64(st, 1, (sqlite3_int64)i + 1) != SQLITE_OK ||
            sqlite3_bind_blob(st, 2, blob, (int)size, SQLITE_TRANSIENT) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_DONE)
            die("sqlite: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        if (sqlite3_prepare_v2(db, "INSERT INTO Name(key, hnum, idx) VALUES (?, ?, 0)", -1, &st,
                               NULL) != SQLITE_OK ||
            sqlite3_bind_text(st, 1, rows[i].f[0], -1, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_bind_int64(st, 2, (sqlite3_int64)i + 1) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_DONE)
            die("sqlite: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        free(blob);
    }
    sq(db, "COMMIT");
    if (sqlite3_close(db) != SQLITE_OK)
        die("cannot close '%s'", out);
}

static void put_u32(uint32_t v, int big, unsigned char out[4])
{
    for (int i = 0; i < 4; i++)
        out[big ? 3 - i : i] = (unsigned char)(v >> (8 * i));
}

static unsigned rd16(const unsigned char *p, int big)
{
    return big ? (unsigned)(p[0] << 8 | p[1]) : (unsigned)(p[0] | p[1] << 8);
}

/* Berkeley DB leaves stale memory in a page's free space and in the unused
 * bytes of an off-page item: zero both, so that two builds are identical.
 * Also the file id (metadata page bytes 52..71), which is random. */
static void scrub(const char *out, int big)
{
    FILE *f = fopen(out, "r+b");
    unsigned char page[4096];
    if (f == NULL)
        die("cannot reopen '%s'", out);
    for (long no = 0; fread(page, 1, sizeof page, f) == sizeof page; no++) {
        if (no == 0) {
            memset(page + 52, 0, 20);
        } else if (page[25] == 2 || page[25] == 13) { /* hash pages */
            unsigned nent = rd16(page + 20, big), hf = rd16(page + 22, big);
            if (26 + 2 * nent > hf || hf > sizeof page)
                die("unexpected page layout in '%s'", out);
            memset(page + 26 + 2 * nent, 0, hf - 26 - 2 * nent);
            for (unsigned i = 0; i < nent; i++) {
                unsigned off = rd16(page + 26 + 2 * i, big);
                if (off + 4 <= sizeof page && page[off] == 3)
                    memset(page + off + 1, 0, 3);
            }
        } else {
            continue;
        }
        if (fseek(f, no * (long)sizeof page, SEEK_SET) != 0 ||
            fwrite(page, 1, sizeof page, f) != sizeof page || fseek(f, 0, SEEK_CUR) != 0)
            die("cannot rewrite '%s'", out);
    }
    if (fclose(f) != 0)
        die("cannot rewrite '%s'", out);
}

static void write_bdb(const char *out, const row *rows, size_t n, int big)
{
    DB *db = NULL;
    unlink(out);
    if (db_create(&db, NULL, 0) != 0)
        die("db_create failed");
    db->set_pagesize(db, 4096);
    db->set_lorder(db, big ? 4321 : 1234);
    int rc = db->open(db, NULL, out, NULL, DB_HASH, DB_CREATE | DB_EXCL, 0644);
    if (rc != 0)
        die("cannot create: %s", db_strerror(rc));
    /* rpm keeps its next-instance counter under key 0. */
    unsigned char kb[4], vb[4];
    DBT key = {.data = kb, .size = 4}, val = {.data = vb, .size = 4};
    put_u32(0, big, kb);
    put_u32((uint32_t)n + 1, big, vb);
    if ((rc = db->put(db, NULL, &key, &val, 0)) != 0)
        die("put: %s", db_strerror(rc));
    for (size_t i = 0; i < n; i++) {
        unsigned int size = 0;
        void *blob = header_blob(&rows[i], &size);
        put_u32((uint32_t)i + 1, big, kb);
        DBT data = {.data = blob, .size = size};
        if ((rc = db->put(db, NULL, &key, &data, 0)) != 0)
            die("put: %s", db_strerror(rc));
        free(blob);
    }
    if ((rc = db->close(db, 0)) != 0)
        die("close: %s", db_strerror(rc));
    scrub(out, big);
}

static void le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* rpmpkg.c: a 32-byte file header, then slot pages of 4096 bytes (16-byte
 * slots "Slot" pkgidx blkoff blkcnt; the header takes the first two), then
 * 16-byte blocks of blobs: "BlbS" pkgidx time length, the header blob,
 * zeros, Adler-32 of all before it, length, "BlbE". */
static void write_ndb(const char *out, const row *rows, size_t n)
{
    size_t npages = (n + 2 + 255) / 256;
    size_t fileblks = npages * 256;
    unsigned char **blobs = calloc(n ? n : 1, sizeof *blobs);
    unsigned int *sizes = calloc(n ? n : 1, sizeof *sizes);
    if (blobs == NULL || sizes == NULL)
        die("out of memory");
    size_t total = npages * 4096;
    for (size_t i = 0; i < n; i++) {
        blobs[i] = header_blob(&rows[i], &sizes[i]);
        total += (16 + (size_t)sizes[i] + 12 + 15) / 16 * 16;
    }
    unsigned char *f = calloc(total, 1);
    if (f == NULL)
        die("out of memory");
    memcpy(f, "RpmP", 4);
    le32(f + 4, 0);
    le32(f + 8, (uint32_t)n + 1); /* generation: one per slot written, after the first */
    le32(f + 12, (uint32_t)npages);
    le32(f + 16, (uint32_t)n + 1);
    for (size_t slot = 2; slot < npages * 256; slot++)
        memcpy(f + slot * 16, "Slot", 4);
    for (size_t i = 0; i < n; i++) {
        uint32_t blkcnt = (uint32_t)((16 + (size_t)sizes[i] + 12 + 15) / 16);
        unsigned char *sl = f + (i + 2) * 16, *b = f + fileblks * 16;
        le32(sl + 4, (uint32_t)i + 1);
        le32(sl + 8, (uint32_t)fileblks);
        le32(sl + 12, blkcnt);
        memcpy(b, "BlbS", 4);
        le32(b + 4, (uint32_t)i + 1);
        le32(b + 8, (uint32_t)num(rows[i].f[5], UINT32_MAX, "installtime"));
        le32(b + 12, sizes[i]);
        memcpy(b + 16, blobs[i], sizes[i]);
        size_t tail = (size_t)blkcnt * 16 - 12;
        le32(b + tail, (uint32_t)adler32(1L, b, (uInt)tail));
        le32(b + tail + 4, sizes[i]);
        memcpy(b + tail + 8, "BlbE", 4);
        fileblks += blkcnt;
        free(blobs[i]);
    }
    FILE *o = fopen(out, "wb");
    if (o == NULL || fwrite(f, 1, total, o) != total || fclose(o) != 0)
        die("cannot write '%s'", out);
    free(f);
    free(blobs);
    free(sizes);
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5 ||
        (strcmp(argv[1], "sqlite") && strcmp(argv[1], "bdb") && strcmp(argv[1], "ndb")) ||
        (argc == 5 && (strcmp(argv[1], "bdb") || strcmp(argv[4], "be")))) {
        fprintf(stderr, "usage: kt-mkrpmdb sqlite|ndb SPEC OUT | kt-mkrpmdb bdb SPEC OUT [be]\n");
        return 2;
    }
    static row rows[MAX_ROWS];
    char *text = NULL;
    size_t n = load(argv[2], &text, rows);
    unlink(argv[3]);
    out_path = argv[3];
    if (strcmp(argv[1], "sqlite") == 0)
        write_sqlite(argv[3], rows, n);
    else if (strcmp(argv[1], "ndb") == 0)
        write_ndb(argv[3], rows, n);
    else
        write_bdb(argv[3], rows, n, argc == 5);
    free(text);
    return 0;
}
