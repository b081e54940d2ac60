/* `kavtrace scan` pinned byte for byte: the real command line on every
 * scenario (the split E01 of each disk, the macOS one as its directory
 * tree), its four output files, its summary and its messages compared with
 * tests/golden/scan/NAME/. Only what differs between runs and machines is
 * replaced before comparing: the run's id, start and finish, the bytes the
 * process read, the version, the output directory, and in a directory
 * tree the values its builder cannot pin (inode numbers, birth and change
 * times). KT_UPDATE_GOLDEN=1 writes the golden files instead. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#ifndef KT_VERSION
#error "KT_VERSION: the version the tool reports, from CMake"
#endif

typedef struct scenario {
    const char *set;       /* testdata/SET, evidence/SET */
    const char *name;      /* testdata/SET/NAME/expected.tsv */
    const char *container; /* evidence/SET/NAME.CONTAINER */
} scenario;

static const scenario scenarios[] = {
    {.set = "scenarios", .name = "kes-active", .container = "E01"},
    {.set = "scenarios", .name = "consumer-migrated", .container = "E01"},
    {.set = "scenarios", .name = "kavremover-early", .container = "E01"},
    {.set = "scenarios", .name = "clean-decoys", .container = "E01"},
    {.set = "scenarios", .name = "kes-uninstalled", .container = "E01"},
    {.set = "scenarios", .name = "ksws-server", .container = "E01"},
    {.set = "scenarios", .name = "kes-russian", .container = "E01"},
    {.set = "scenarios", .name = "consumer-vpn", .container = "E01"},
    {.set = "scenarios", .name = "kes-upgraded-late", .container = "E01"},
    {.set = "usn", .name = "kes-usn-removed", .container = "raw"},
    {.set = "scenarios", .name = "kes-reg-history", .container = "E01"},
    {.set = "scenarios", .name = "kes-reg-history2", .container = "E01"},
    {.set = "scenarios", .name = "oem-suite", .container = "E01"},
    {.set = "scenarios-unix", .name = "kesl-ubuntu", .container = "E01"},
    {.set = "scenarios-unix", .name = "kesl-rhel-removed", .container = "E01"},
    {.set = "scenarios-unix", .name = "linux-decoys", .container = "E01"},
    {.set = "scenarios-unix", .name = "kesl-opensuse-installer", .container = "E01"},
    {.set = "scenarios-unix", .name = "kesl-astra", .container = "E01"},
    {.set = "scenarios-unix", .name = "cybertrace-only", .container = "E01"},
    {.set = "scenarios-unix", .name = "scan-engine", .container = "E01"},
    {.set = "scenarios-unix", .name = "kaspersky-mac-removed", .container = "tree"},
    {.set = "scenarios-unix", .name = "kes-mac-managed", .container = "tree"},
};
#define NSCENARIOS (int)(sizeof scenarios / sizeof scenarios[0])

/* What one scan gives: its four files (in this order), its summary on
 * stdout and its messages on stderr. */
#define NOUTPUTS 6
static const char *const outputs[NOUTPUTS] = {
    "findings.json", "timeline.csv", "timeline.jsonl", "scan.log", "stdout.txt", "stderr.txt",
};
enum { FINDINGS, CSV, JSONL, LOG, SUMMARY, MESSAGES };

typedef struct scan_result {
    kt_buf out[NOUTPUTS];
} scan_result;

static void result_release(scan_result *r)
{
    for (int i = 0; i < NOUTPUTS; i++)
        kt_buf_release(&r->out[i]);
}

static char *evidence_path(const scenario *sc)
{
    char *p = NULL;
    ck_assert(asprintf(&p, "%s/%s/%s.%s", evidence_dir(), sc->set, sc->name, sc->container) > 0);
    return p;
}

static void remove_tree(const char *dir)
{
    char *cmd = NULL;
    ck_assert(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

/* Run `kavtrace scan -o OUTDIR EVIDENCE` from the evidence directory, with
 * the evidence named relative to it, and read what it wrote. */
static void scan(const scenario *sc, const char *outdir, scan_result *r)
{
    char *artifacts = path_join(testdata_dir(), "../artifacts");
    char *cmd = NULL;
    ck_assert(asprintf(&cmd, "cd '%s' && '%s' scan -a '%s' -o '%s' '%s/%s.%s'", evidence_dir(),
                       kavtrace_bin(), artifacts, outdir, sc->set, sc->name, sc->container) > 0);
    memset(r, 0, sizeof *r);
    int status = run_capture(cmd, &r->out[SUMMARY], &r->out[MESSAGES]);
    ck_assert_msg(status == 0, "%s: scan exited %d: %s", sc->name, status,
                  (char *)r->out[MESSAGES].data);
    for (int i = 0; i < NOUTPUTS; i++) {
        if (i == SUMMARY || i == MESSAGES)
            continue;
        char *p = path_join(outdir, outputs[i]);
        file_load(p, &r->out[i]);
        free(p);
    }
    /* An empty output (stderr, linux-decoys' timeline.jsonl) as "": a
     * reserve alone leaves a fresh buffer's first byte unwritten. */
    for (int i = 0; i < NOUTPUTS; i++)
        ck_assert(kt_buf_append(&r->out[i], "", 0) == 0);
    free(cmd);
    free(artifacts);
}

/* ---- normalisation ------------------------------------------------------ */

/* Replace every occurrence of `from` in b by `to`. */
static void replace_all(kt_buf *b, const char *from, const char *to)
{
    size_t flen = strlen(from);
    if (flen == 0 || b->len == 0)
        return;
    kt_buf out = {0};
    ck_assert(kt_buf_reserve(&out, 0) == 0);
    const char *s = (const char *)b->data, *end = s + b->len;
    for (const char *hit; (hit = strstr(s, from)) != NULL; s = hit + flen) {
        ck_assert(kt_buf_append(&out, s, (size_t)(hit - s)) == 0);
        ck_assert(kt_buf_append(&out, to, strlen(to)) == 0);
    }
    ck_assert(kt_buf_append(&out, s, (size_t)(end - s)) == 0);
    kt_buf_release(b);
    *b = out;
}

typedef enum { V_TIME, V_COUNT, V_VERSION, V_RUN_ID, V_TEXT, V_SHA256 } value_kind;

/* A value on one line of a file that differs from run to run: the line
 * starts with `start`, the value follows `before` (or `start` when NULL)
 * and runs to `until` (or to the end of the line when ""). Each rule must
 * match exactly one line: a missing field is a failure, not a no-op. */
typedef struct run_rule {
    int file;
    const char *start, *before, *until;
    value_kind kind;
    const char *with;
    bool many; /* one line or more (the definitions' digests) */
} run_rule;

static const run_rule run_rules[] = {
    {FINDINGS, "  \"kavtrace_version\": \"", NULL, "\"", V_VERSION, "@VERSION@", false},
    {FINDINGS, "    \"started\": \"", NULL, "\"", V_TIME, "@TIME@", false},
    {FINDINGS, "    \"finished\": \"", NULL, "\"", V_TIME, "@TIME@", false},
    {FINDINGS, "    \"process_bytes_read\": ", NULL, "", V_COUNT, "@BYTES@", false},
    /* the provenance: the build and the examiner's host, and the
     * definitions' digests (they change with every edit of a definition) */
    {FINDINGS, "    \"kavtrace_version\": \"", NULL, "\"", V_VERSION, "@VERSION@", false},
    {FINDINGS, "    \"compiler\": \"", NULL, "\"", V_TEXT, "@COMPILER@", false},
    {FINDINGS, "    \"libraries\": \"", NULL, "\"", V_TEXT, "@LIBRARIES@", false},
    {FINDINGS, "    \"examiner_host\": \"", NULL, "\"", V_TEXT, "@HOST@", false},
    {FINDINGS, "    \"examiner_system\": \"", NULL, "\"", V_TEXT, "@SYSTEM@", false},
    {FINDINGS, "          \"sha256\": \"", NULL, "\"", V_SHA256, "@SHA256@", true},
    {LOG, "kavtrace ", NULL, " run ", V_VERSION, "@VERSION@", false},
    {LOG, "started ", NULL, "", V_TIME, "@TIME@", false},
    {LOG, "events ", ", bytes read by the process ", "", V_COUNT, "@BYTES@", false},
    {LOG, "finished ", NULL, "", V_TIME, "@TIME@", false},
};

static void check_value(const char *what, value_kind kind, const char *v)
{
    kt_time t;
    switch (kind) {
    case V_TIME:
        ck_assert_msg(kt_time_parse_iso(v, &t) == 0, "%s: '%s' is not a time", what, v);
        break;
    case V_COUNT:
        ck_assert_msg(v[0] && strspn(v, "0123456789") == strlen(v), "%s: '%s' is not a count", what,
                      v);
        break;
    case V_VERSION:
        ck_assert_msg(strcmp(v, KT_VERSION) == 0, "%s: version '%s', the build is %s", what, v,
                      KT_VERSION);
        break;
    case V_TEXT:
        ck_assert_msg(v[0] != '\0', "%s: empty", what);
        break;
    case V_SHA256:
        ck_assert_msg(strlen(v) == 64 && strspn(v, "0123456789abcdef") == 64,
                      "%s: '%s' is not a SHA-256", what, v);
        break;
    case V_RUN_ID: {
        /* YYYYMMDDTHHMMSSZ-<16 hex digits>: the run's UTC start, 64 random bits */
        char iso[32];
        ck_assert_msg(strlen(v) == 33 && v[8] == 'T' && v[15] == 'Z' && v[16] == '-' &&
                          strspn(v, "0123456789") == 8 && strspn(v + 9, "0123456789") == 6 &&
                          strspn(v + 17, "0123456789abcdef") == 16,
                      "%s: '%s' is not a run id", what, v);
        snprintf(iso, sizeof iso, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", v, v + 4, v + 6, v + 9, v + 11,
                 v + 13);
        check_value(what, V_TIME, iso);
        break;
    }
    }
}

static void apply_run_rule(kt_buf *b, const run_rule *rule, const char *what)
{
    kt_buf out = {0};
    ck_assert(kt_buf_reserve(&out, 0) == 0);
    size_t slen = strlen(rule->start), matched = 0;
    for (char *line = (char *)b->data; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char *from = NULL, *to = NULL;
        if (len >= slen && strncmp(line, rule->start, slen) == 0) {
            const char *before = rule->before ? rule->before : rule->start;
            char *p = memmem(line, len, before, strlen(before));
            if (p) {
                from = p + strlen(before);
                to = rule->until[0] ? memmem(from, len - (size_t)(from - line), rule->until,
                                             strlen(rule->until))
                                    : line + len;
            }
        }
        if (from && to) {
            char value[256];
            size_t vlen = (size_t)(to - from);
            ck_assert_msg(vlen < sizeof value, "%s: value too long on '%.*s'", what, (int)len,
                          line);
            memcpy(value, from, vlen);
            value[vlen] = '\0';
            check_value(what, rule->kind, value);
            ck_assert(kt_buf_append(&out, line, (size_t)(from - line)) == 0);
            ck_assert(kt_buf_append(&out, rule->with, strlen(rule->with)) == 0);
            ck_assert(kt_buf_append(&out, to, (size_t)(line + len - to)) == 0);
            matched++;
        } else {
            ck_assert(kt_buf_append(&out, line, len) == 0);
        }
        if (nl)
            ck_assert(kt_buf_append(&out, "\n", 1) == 0);
        line = nl ? nl + 1 : NULL;
    }
    ck_assert_msg(matched == 1 || (rule->many && matched > 1), "%s: %zu lines start '%s', want %s",
                  what, matched, rule->start, rule->many ? "1 or more" : "exactly 1");
    kt_buf_release(b);
    *b = out;
}

/* The run's id: taken from findings.json, checked, and replaced wherever
 * it stands (findings.json, every line of timeline.jsonl, scan.log, the
 * summary). timeline.csv carries none: it must be left as written. */
static void normalise_run_id(scan_result *r, const char *name)
{
    static const char key[] = "\n  \"run_id\": \"";
    const char *p = strstr((const char *)r->out[FINDINGS].data, key);
    ck_assert_msg(p != NULL, "%s: findings.json has no run_id", name);
    p += strlen(key);
    char id[64], what[256];
    size_t n = strcspn(p, "\"");
    ck_assert_msg(n < sizeof id, "%s: run_id too long", name);
    memcpy(id, p, n);
    id[n] = '\0';
    snprintf(what, sizeof what, "%s: findings.json: run_id", name);
    check_value(what, V_RUN_ID, id);
    kt_buf csv = r->out[CSV];
    ck_assert_msg(csv.len == 0 || memmem(csv.data, csv.len, id, n) == NULL,
                  "%s: timeline.csv names the run", name);
    for (int i = 0; i < NOUTPUTS; i++)
        replace_all(&r->out[i], id, "@RUNID@");
}

/* The run's own values: start, finish, bytes the process read, version. */
static void normalise_run(scan_result *r, const char *name)
{
    for (size_t i = 0; i < sizeof run_rules / sizeof run_rules[0]; i++) {
        char what[256];
        snprintf(what, sizeof what, "%s: %s", name, outputs[run_rules[i].file]);
        apply_run_rule(&r->out[run_rules[i].file], &run_rules[i], what);
    }
}

/* ---- a directory tree's host values ------------------------------------- */

/* A tree is built on the host's filesystem, which gives each entry an inode
 * number, a birth time and a change time of its own: the builder can pin
 * modified and access times only. Those values stand in the timeline as
 * the host gave them; the tests check they are the host's and replace
 * them. */
static kt_strlist host_times;

static void note_host_time(struct statx_timestamp t)
{
    char iso[KT_TIME_ISO_MAX];
    kt_time_format_iso(kt_time_from_unix(t.tv_sec, t.tv_nsec), iso);
    ck_assert(kt_strlist_add(&host_times, iso) == 0);
}

static int note_host_times(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    struct statx sx;
    int flags = AT_SYMLINK_NOFOLLOW, mask = STATX_BASIC_STATS | STATX_BTIME;
    ck_assert_msg(statx(AT_FDCWD, path, flags, mask, &sx) == 0, "cannot stat %s", path);
    if (sx.stx_mask & STATX_BTIME)
        note_host_time(sx.stx_btime);
    note_host_time(sx.stx_ctime);
    return 0;
}

/* One CSV record of kavtrace's timeline (RFC 4180, CRLF): each cell's raw
 * bytes, quotes included. */
#define CSV_MAX_CELLS 32
typedef struct csv_record {
    int ncells;
    const char *cell[CSV_MAX_CELLS];
    size_t len[CSV_MAX_CELLS];
} csv_record;

/* Parse the record at *s; advance *s past its CRLF. */
static void csv_next(const char **s, csv_record *rec, const char *what)
{
    const char *p = *s;
    rec->ncells = 0;
    for (;;) {
        ck_assert_msg(rec->ncells < CSV_MAX_CELLS, "%s: too many cells", what);
        const char *start = p;
        if (*p == '"') {
            for (p++; *p && !(p[0] == '"' && p[1] != '"'); p += p[0] == '"' ? 2 : 1)
                ;
            ck_assert_msg(*p == '"', "%s: unterminated quoted cell", what);
            p++;
        } else {
            p += strcspn(p, ",\r\n\"");
        }
        rec->cell[rec->ncells] = start;
        rec->len[rec->ncells++] = (size_t)(p - start);
        if (*p == ',') {
            p++;
            continue;
        }
        ck_assert_msg(p[0] == '\r' && p[1] == '\n', "%s: record does not end in CRLF", what);
        *s = p + 2;
        return;
    }
}

/* A cell's text, unquoted. */
static void csv_text(const csv_record *rec, int i, char *out, size_t size)
{
    const char *c = rec->cell[i];
    size_t n = rec->len[i], o = 0;
    bool quoted = n >= 2 && c[0] == '"';
    for (size_t k = quoted ? 1 : 0; k < (quoted ? n - 1 : n) && o + 1 < size; k++) {
        out[o++] = c[k];
        if (quoted && c[k] == '"')
            k++;
    }
    out[o] = '\0';
}

static int csv_column(const csv_record *header, const char *name)
{
    char text[64];
    for (int i = 0; i < header->ncells; i++) {
        csv_text(header, i, text, sizeof text);
        if (strcmp(text, name) == 0)
            return i;
    }
    ck_abort_msg("timeline.csv has no column '%s'", name);
    return -1;
}

static ino_t tree_inode(const char *root, const char *rel)
{
    char *p = path_join(root, rel);
    struct stat st;
    ck_assert_msg(lstat(p, &st) == 0, "no %s in the tree", p);
    free(p);
    return st.st_ino;
}

/* timeline.csv of a tree: every entry's inode, checked to be the host's,
 * and the distance to the nearest milestone of a host time. Returns how
 * many events have a host time. */
static size_t normalise_tree_csv(kt_buf *b, const char *root, const char *what)
{
    const char *s = (const char *)b->data, *end = s + b->len;
    csv_record header, rec;
    csv_next(&s, &header, what);
    int c_time = csv_column(&header, "time"), c_fs = csv_column(&header, "fs");
    int c_path = csv_column(&header, "path"), c_inode = csv_column(&header, "inode");
    int c_dist = csv_column(&header, "seconds_from_milestone");
    kt_buf out = {0};
    ck_assert(kt_buf_append(&out, b->data, (size_t)(s - (const char *)b->data)) == 0);
    size_t host = 0;
    while (s < end) {
        csv_next(&s, &rec, what);
        ck_assert_msg(rec.ncells == header.ncells, "%s: %d cells, the header has %d", what,
                      rec.ncells, header.ncells);
        char fs[16], path[4096], inode[32], time[KT_TIME_ISO_MAX];
        csv_text(&rec, c_fs, fs, sizeof fs);
        csv_text(&rec, c_path, path, sizeof path);
        csv_text(&rec, c_inode, inode, sizeof inode);
        csv_text(&rec, c_time, time, sizeof time);
        bool dir = strcmp(fs, "dir") == 0 && path[0];
        if (dir)
            ck_assert_msg(strtoull(inode, NULL, 10) == (unsigned long long)tree_inode(root, path),
                          "%s: inode %s of %s is not the tree's", what, inode, path);
        host += strcmp(time, "@HOSTTIME@") == 0;
        for (int i = 0; i < rec.ncells; i++) {
            const char *cell = rec.cell[i];
            size_t len = rec.len[i];
            if (dir && i == c_inode)
                cell = "@INODE@", len = 7;
            else if (i == c_dist && strcmp(time, "@HOSTTIME@") == 0)
                cell = "@HOSTTIME@", len = 10;
            ck_assert(kt_buf_append(&out, cell, len) == 0);
            ck_assert(kt_buf_append(&out, i + 1 < rec.ncells ? "," : "\r\n",
                                    i + 1 < rec.ncells ? 1 : 2) == 0);
        }
    }
    kt_buf_release(b);
    *b = out;
    return host;
}

/* In one JSONL line, the number after `"key": ` replaced by `with`. */
static void jsonl_number(kt_buf *out, const char *line, size_t len, const char *key,
                         const char *with, const char *what)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = memmem(line, len, pat, strlen(pat));
    ck_assert_msg(p != NULL, "%s: no %s in '%.*s'", what, key, (int)len, line);
    p += strlen(pat);
    size_t n = strspn(p, "-0123456789");
    ck_assert_msg(n > 0, "%s: %s is not a number", what, key);
    ck_assert(kt_buf_append(out, line, (size_t)(p - line)) == 0);
    ck_assert(kt_buf_append(out, with, strlen(with)) == 0);
    ck_assert(kt_buf_append(out, p + n, len - (size_t)(p + n - line)) == 0);
}

/* timeline.jsonl of a tree: the microseconds and the distance to the
 * nearest milestone of a host time. Returns how many events have one. */
static size_t normalise_tree_jsonl(kt_buf *b, const char *what)
{
    size_t n = 0;
    kt_buf out = {0};
    ck_assert(kt_buf_reserve(&out, 0) == 0);
    for (char *line = (char *)b->data; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        static const char host[] = "\"datetime\": \"@HOSTTIME@\"";
        if (memmem(line, len, host, strlen(host))) {
            kt_buf a = {0};
            jsonl_number(&a, line, len, "timestamp", "@HOSTTIME@", what);
            jsonl_number(&out, (char *)a.data, a.len, "seconds_from_milestone", "@HOSTTIME@", what);
            kt_buf_release(&a);
            n++;
        } else {
            ck_assert(kt_buf_append(&out, line, len) == 0);
        }
        if (nl)
            ck_assert(kt_buf_append(&out, "\n", 1) == 0);
        line = nl ? nl + 1 : NULL;
    }
    kt_buf_release(b);
    *b = out;
    return n;
}

static void normalise_tree(scan_result *r, const scenario *sc)
{
    char *root = evidence_path(sc);
    ck_assert(nftw(root, note_host_times, 16, FTW_PHYS) == 0);
    for (int i = 0; i < NOUTPUTS; i++)
        for (size_t k = 0; k < host_times.count; k++)
            replace_all(&r->out[i], host_times.items[k], "@HOSTTIME@");
    kt_strlist_release(&host_times);
    char what[256];
    snprintf(what, sizeof what, "%s: timeline.csv", sc->name);
    size_t csv = normalise_tree_csv(&r->out[CSV], root, what);
    snprintf(what, sizeof what, "%s: timeline.jsonl", sc->name);
    size_t jsonl = normalise_tree_jsonl(&r->out[JSONL], what);
    ck_assert_msg(csv == jsonl, "%s: %zu host times in timeline.csv, %zu in timeline.jsonl",
                  sc->name, csv, jsonl);
    free(root);
}

/* Everything that differs between runs and machines, replaced. */
static void normalise(scan_result *r, const scenario *sc, const char *outdir)
{
    char *artifacts = path_join(testdata_dir(), "../artifacts");
    for (int i = 0; i < NOUTPUTS; i++) {
        replace_all(&r->out[i], outdir, "@OUT@");
        replace_all(&r->out[i], evidence_dir(), "@EVIDENCE@");
        replace_all(&r->out[i], artifacts, "@ARTIFACTS@");
    }
    free(artifacts);
    normalise_run_id(r, sc->name);
    normalise_run(r, sc->name);
    if (strcmp(sc->container, "tree") == 0)
        normalise_tree(r, sc);
}

/* ---- golden files ------------------------------------------------------- */

static char *golden_dir(const char *name)
{
    char *p = NULL;
    ck_assert(asprintf(&p, "%s/../tests/golden/scan/%s", testdata_dir(), name) > 0);
    return p;
}

static void write_file(const char *path, const kt_buf *b)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert(fwrite(b->data, 1, b->len, f) == b->len);
    ck_assert(fclose(f) == 0);
}

/* Where got and want first differ: line number and both lines. */
static void first_difference(const kt_buf *got, const kt_buf *want, char *msg, size_t size)
{
    const char *g = (const char *)got->data, *w = (const char *)want->data;
    int line = 1;
    size_t i = 0, start = 0;
    for (; i < got->len && i < want->len && g[i] == w[i]; i++)
        if (g[i] == '\n')
            line++, start = i + 1;
    int glen = (int)strcspn(g + start, "\n"), wlen = (int)strcspn(w + start, "\n");
    snprintf(msg, size, "line %d:\n  got:  %.*s\n  want: %.*s", line, glen > 300 ? 300 : glen,
             g + start, wlen > 300 ? 300 : wlen, w + start);
}

START_TEST(scan_outputs_match_golden_files)
{
    const scenario *sc = &scenarios[_i];
    char tmp[] = "/tmp/kt-golden-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    char *outdir = path_join(tmp, "out");
    scan_result r;
    scan(sc, outdir, &r);
    normalise(&r, sc, outdir);

    char *gdir = golden_dir(sc->name);
    bool update = getenv("KT_UPDATE_GOLDEN") != NULL;
    if (update) {
        char *cmd = NULL;
        ck_assert(asprintf(&cmd, "mkdir -p '%s'", gdir) > 0);
        ck_assert_int_eq(system(cmd), 0);
        free(cmd);
    }
    for (int i = 0; i < NOUTPUTS; i++) {
        char *gpath = path_join(gdir, outputs[i]);
        if (update) {
            write_file(gpath, &r.out[i]);
            free(gpath);
            continue;
        }
        ck_assert_msg(access(gpath, R_OK) == 0, "no golden file %s (KT_UPDATE_GOLDEN=1 writes it)",
                      gpath);
        kt_buf want = {0};
        file_load(gpath, &want);
        ck_assert(kt_buf_append(&want, "", 0) == 0);
        if (r.out[i].len != want.len || memcmp(r.out[i].data, want.data, want.len) != 0) {
            /* Keep what this run gave, for diff -u. */
            char *got = NULL;
            ck_assert(asprintf(&got, "%s/%s.normalised", tmp, outputs[i]) > 0);
            write_file(got, &r.out[i]);
            char where[1024];
            first_difference(&r.out[i], &want, where, sizeof where);
            ck_abort_msg("%s: %s differs from tests/golden/scan/%s/%s at %s\n"
                         "(all of it: diff -u %s %s; KT_UPDATE_GOLDEN=1 rewrites the golden files)",
                         sc->name, outputs[i], sc->name, outputs[i], where, gpath, got);
        }
        kt_buf_release(&want);
        free(gpath);
    }
    result_release(&r);
    remove_tree(tmp);
    free(gdir);
    free(outdir);
}
END_TEST

START_TEST(scanning_twice_gives_identical_outputs)
{
    /* Both runs write to the same directory, so even the summary is the
     * same but for the run id; timeline.csv must be byte-identical as
     * written, timeline.jsonl and the summary after replacing the run id,
     * the findings and the log also the run's start, finish and the bytes
     * the process read (which varies from run to run under
     * AddressSanitizer). */
    const scenario *sc = &scenarios[_i];
    char tmp[] = "/tmp/kt-twice-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    char *outdir = path_join(tmp, "out");
    scan_result a, b;
    scan(sc, outdir, &a);
    remove_tree(outdir);
    scan(sc, outdir, &b);
    ck_assert_msg(a.out[CSV].len == b.out[CSV].len &&
                      memcmp(a.out[CSV].data, b.out[CSV].data, a.out[CSV].len) == 0,
                  "%s: timeline.csv differs between two scans", sc->name);
    normalise_run_id(&a, sc->name);
    normalise_run_id(&b, sc->name);
    for (int i = 0; i < NOUTPUTS; i++) {
        if (i == FINDINGS || i == LOG)
            continue;
        ck_assert_msg(a.out[i].len == b.out[i].len &&
                          memcmp(a.out[i].data, b.out[i].data, a.out[i].len) == 0,
                      "%s: %s differs between two scans", sc->name, outputs[i]);
    }
    normalise_run(&a, sc->name);
    normalise_run(&b, sc->name);
    for (int i = 0; i < NOUTPUTS; i++) {
        char where[1024];
        first_difference(&a.out[i], &b.out[i], where, sizeof where);
        ck_assert_msg(a.out[i].len == b.out[i].len &&
                          memcmp(a.out[i].data, b.out[i].data, a.out[i].len) == 0,
                      "%s: %s differs between two scans at %s", sc->name, outputs[i], where);
    }
    result_release(&a);
    result_release(&b);
    remove_tree(tmp);
    free(outdir);
}
END_TEST

static const scenario *listed(const char *set, const char *name)
{
    for (int i = 0; i < NSCENARIOS; i++)
        if ((!set || strcmp(scenarios[i].set, set) == 0) && strcmp(scenarios[i].name, name) == 0)
            return &scenarios[i];
    return NULL;
}

static bool exists(const char *dir, const char *name, const char *file)
{
    char *p = NULL;
    ck_assert(asprintf(&p, "%s/%s/%s", dir, name, file) > 0);
    bool yes = access(p, F_OK) == 0;
    free(p);
    return yes;
}

START_TEST(every_scenario_has_golden_files)
{
    /* Every scenario with ground truth is in the table, as its tree when it
     * is one; every golden folder belongs to a scenario of the table. */
    const char *sets[] = {"scenarios", "scenarios-unix"};
    int found = 0;
    for (size_t s = 0; s < 2; s++) {
        char *dir = path_join(testdata_dir(), sets[s]);
        DIR *d = opendir(dir);
        ck_assert_msg(d != NULL, "no %s", dir);
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.' || !exists(dir, de->d_name, "expected.tsv"))
                continue;
            const scenario *sc = listed(sets[s], de->d_name);
            ck_assert_msg(sc != NULL, "scenario %s/%s has no golden test", sets[s], de->d_name);
            bool tree = exists(dir, de->d_name, "tree.tsv");
            ck_assert_msg(tree == (strcmp(sc->container, "tree") == 0),
                          "scenario %s is scanned as %s", sc->name, sc->container);
            found++;
        }
        closedir(d);
        free(dir);
    }
    /* A scenario with a set of its own (testdata/usn/) has its ground truth
     * at the set's top. */
    int in_sets = 0;
    for (int i = 0; i < NSCENARIOS; i++) {
        if (strcmp(scenarios[i].set, "scenarios") == 0 ||
            strcmp(scenarios[i].set, "scenarios-unix") == 0) {
            in_sets++;
            continue;
        }
        char *dir = path_join(testdata_dir(), scenarios[i].set);
        ck_assert_msg(exists(dir, ".", "expected.tsv"), "scenario %s has no ground truth",
                      scenarios[i].name);
        free(dir);
    }
    ck_assert_int_eq(found, in_sets);

    char *gdir = golden_dir("");
    DIR *d = opendir(gdir);
    if (d == NULL) {
        ck_assert_msg(getenv("KT_UPDATE_GOLDEN") != NULL, "no %s", gdir);
    } else {
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            ck_assert_msg(de->d_name[0] == '.' || listed(NULL, de->d_name) != NULL,
                          "tests/golden/scan/%s belongs to no scenario", de->d_name);
        closedir(d);
    }
    free(gdir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("scan_golden");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, every_scenario_has_golden_files);
    tcase_add_loop_test(tc, scan_outputs_match_golden_files, 0, NSCENARIOS);
    tcase_add_loop_test(tc, scanning_twice_gives_identical_outputs, 0, NSCENARIOS);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
