/* kavtrace batch: a whole evidence set. Items come from the command line,
 * a manifest or a folder; each is scanned by `kavtrace scan` in a process
 * of its own (its own process group, a wall-time and an address-space
 * limit), -j at a time, or as the tasks of a Slurm job array. A rerun
 * skips the items whose outputs are complete for the same evidence,
 * version and definitions. The case summary (case.json, case.csv) is
 * built from the items' folders and the batch's records of them. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "kavtrace/case.h"
#include "kavtrace/image.h"
#include "kavtrace/jsonread.h"
#include "kavtrace/output.h"
#include "kavtrace/time.h"
#include "kavtrace/writers.h"
#include "options.h"

#define KT_BATCH_DIR ".kavtrace-batch" /* in OUTDIR: the plan, the records, logs */
#define KT_BATCH_PLAN "plan.tsv"
#define KT_BATCH_PLAN_HEAD "kavtrace-batch-plan 1"
#define KT_BATCH_ID_MAX 200
#define KT_BATCH_MAX_ITEMS 1000000
#define KT_BATCH_MAX_DEPTH 16
#define KT_BATCH_MAX_JOBS 1024
#define KT_BATCH_TIMEOUT 14400.0 /* 4 h per item */
#define KT_BATCH_MEMORY 8192     /* MiB of address space per item */
#define KT_BATCH_GRACE_MS 3000   /* SIGTERM to SIGKILL */
#define EXIT_HASH_SAME 3         /* a worker's: the outputs still hold (--hash) */

typedef struct bitem {
    char id[KT_BATCH_ID_MAX + 16];
    char *evidence; /* absolute when it exists */
    char *custodian, *key_file, *notes;
    /* this run */
    const char *status;
    char message[600];
    int64_t run_ms;
    long max_rss_kib;
    pid_t pid;
    int64_t started_ms;
    bool timed_out;
    bool maybe_done; /* outputs complete: skipped, after the hash check with --hash */
    bool done;
} bitem;

/* --key-file given to batch: each passed to every item's scan. */
#define KT_BATCH_KEY_FILES 16

typedef struct bopts {
    const char *outdir_arg;
    char outdir[KT_OUTDIR_PATH_MAX];
    char state[KT_OUTDIR_PATH_MAX];
    const char *artifacts;
    char defs_dir[PATH_MAX];
    char defs_sha256[65];
    const char *formats;
    bool wants[16]; /* by kt_writers' index: the outputs -f asks for (or the default ones) */
    const char *manifest;
    const char *discover[64];
    int ndiscover;
    long jobs;
    double item_timeout;
    unsigned long long item_memory; /* MiB; 0: none */
    bool hash, force, quiet;
    bool slurm, dry_run;
    int throttle, chunk;
    const char *sbatch_args[32];
    int nsbatch;
    long task; /* --slurm-task, -1 */
    bool summarize;
    char key_files[KT_BATCH_KEY_FILES][PATH_MAX]; /* --key-file, absolute: every item's */
    int nkey_files;
    const char *faults[8]; /* ID=crash|hang|oom, tests only */
    int nfaults;
    char self[PATH_MAX];
} bopts;

typedef struct blist {
    bitem *items;
    size_t count, cap;
} blist;

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

/* A worker ended: its only effect is to cut the main loop's nap short. */
static void on_child(int sig)
{
    (void)sig;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void blist_release(blist *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].evidence);
        free(l->items[i].custodian);
        free(l->items[i].key_file);
        free(l->items[i].notes);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

static bitem *blist_add(blist *l)
{
    if (l->count >= KT_BATCH_MAX_ITEMS)
        return NULL;
    if (l->count == l->cap) {
        size_t n = l->cap ? l->cap * 2 : 16;
        bitem *p = realloc(l->items, n * sizeof *p);
        if (p == NULL)
            return NULL;
        l->items = p;
        l->cap = n;
    }
    bitem *it = &l->items[l->count++];
    memset(it, 0, sizeof *it);
    return it;
}

static char *dup_or_null(const char *s)
{
    return s && s[0] ? strdup(s) : NULL;
}

/* An id names a folder in OUTDIR: letters, digits, '.', '_', '-', not
 * starting with '.'. */
static bool id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > KT_BATCH_ID_MAX || id[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && !strchr("._-", id[i]))
            return false;
    return true;
}

static bool id_taken(const blist *l, const char *id, const bitem *self)
{
    for (size_t i = 0; i < l->count; i++)
        if (&l->items[i] != self && strcmp(l->items[i].id, id) == 0)
            return true;
    return false;
}

/* The id of an item without one: the evidence's name, every other byte
 * '_', unique in the batch (disk.raw, disk.raw-2). */
static void derive_id(const blist *l, bitem *it)
{
    char base[KT_BATCH_ID_MAX + 1];
    const char *p = it->evidence;
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    size_t b = n;
    while (b > 0 && p[b - 1] != '/')
        b--;
    size_t k = 0;
    for (size_t i = b; i < n && k < KT_BATCH_ID_MAX; i++)
        base[k++] = isalnum((unsigned char)p[i]) || strchr("._-", p[i]) ? p[i] : '_';
    base[k] = '\0';
    if (k == 0 || base[0] == '.')
        snprintf(base, sizeof base, "evidence%s", k ? base : "");
    kt_strlcpy(it->id, base, sizeof it->id);
    for (int s = 2; id_taken(l, it->id, it); s++)
        snprintf(it->id, sizeof it->id, "%s-%d", base, s);
}

/* path made absolute: relative ones from base (a folder, or NULL for the
 * current one), through realpath when it exists. */
static char *absolute(const char *path, const char *base)
{
    char joined[2 * PATH_MAX], real[PATH_MAX], cwd[PATH_MAX];
    if (path[0] == '/') {
        kt_strlcpy(joined, path, sizeof joined);
    } else {
        if (base == NULL)
            base = getcwd(cwd, sizeof cwd) ? cwd : ".";
        snprintf(joined, sizeof joined, "%s/%s", base, path);
    }
    return strdup(realpath(joined, real) ? real : joined);
}

static int add_item(blist *l, const char *evidence, const char *base, const char *id,
                    const char *custodian, const char *key_file, const char *notes)
{
    bitem *it = blist_add(l);
    if (it == NULL) {
        fprintf(stderr, "kavtrace: batch: out of memory, or more than %d items\n",
                KT_BATCH_MAX_ITEMS);
        return -1;
    }
    it->evidence = absolute(evidence, base);
    it->custodian = dup_or_null(custodian);
    it->notes = dup_or_null(notes);
    it->key_file = key_file && key_file[0] ? absolute(key_file, base) : NULL;
    if (it->evidence == NULL) {
        fprintf(stderr, "kavtrace: batch: out of memory\n");
        return -1;
    }
    if (id && id[0]) {
        if (!id_valid(id)) {
            kt_strlist hold = {0};
            fprintf(stderr,
                    "kavtrace: batch: item id '%s' is not a folder name: letters, digits, '.', "
                    "'_' and '-', not starting with '.', at most %d bytes\n",
                    kt_cli_text(&hold, id), KT_BATCH_ID_MAX);
            kt_strlist_release(&hold);
            return -1;
        }
        if (id_taken(l, id, it)) {
            fprintf(stderr, "kavtrace: batch: item id '%s' is given twice\n", id);
            return -1;
        }
        kt_strlcpy(it->id, id, sizeof it->id);
    } else {
        derive_id(l, it);
    }
    return 0;
}

/* ---- the manifest ---- */

/* The next CSV record (RFC 4180) from *p into cells; false at the end. */
static bool csv_record(const char **p, const char *end, kt_strlist *cells)
{
    if (*p >= end)
        return false;
    kt_buf cell = {0};
    const char *s = *p;
    for (;;) {
        bool quoted = s < end && *s == '"';
        cell.len = 0;
        if (quoted) {
            s++;
            while (s < end) {
                if (*s == '"' && s + 1 < end && s[1] == '"') {
                    kt_buf_append(&cell, "\"", 1);
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    break;
                } else {
                    kt_buf_append(&cell, s++, 1);
                }
            }
        }
        while (s < end && *s != ',' && *s != '\n' && *s != '\r')
            kt_buf_append(&cell, s++, 1);
        kt_buf_append(&cell, "", 1);
        kt_strlist_add(cells, (const char *)cell.data);
        if (s < end && *s == ',') {
            s++;
            continue;
        }
        if (s < end && *s == '\r')
            s++;
        if (s < end && *s == '\n')
            s++;
        break;
    }
    kt_buf_release(&cell);
    *p = s;
    return true;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    kt_buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (kt_buf_append(&b, chunk, n) != 0)
            break;
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad || kt_buf_append(&b, "", 1) != 0) {
        kt_buf_release(&b);
        errno = bad ? EIO : ENOMEM;
        return NULL;
    }
    *len = b.len - 1;
    return (char *)b.data;
}

static int column(const kt_strlist *head, const char *const *names)
{
    for (size_t i = 0; i < head->count; i++)
        for (size_t k = 0; names[k]; k++)
            if (strcasecmp(head->items[i], names[k]) == 0)
                return (int)i;
    return -1;
}

static const char *cell(const kt_strlist *row, int col)
{
    return col >= 0 && (size_t)col < row->count ? row->items[col] : NULL;
}

/* A manifest: CSV whose header names an `evidence` (or `path`) column,
 * with optional `id`, `custodian`, `key_file`, `notes`; else one path a
 * line ('#' comments). Relative paths are from the manifest's folder. */
static int read_manifest(blist *l, const char *path)
{
    size_t len = 0;
    char *text = slurp(path, &len);
    if (text == NULL) {
        fprintf(stderr, "kavtrace: batch: manifest '%s': %s\n", path, strerror(errno));
        return -1;
    }
    char *copy = strdup(path), base[PATH_MAX];
    char *slash = copy ? strrchr(copy, '/') : NULL;
    if (slash)
        *slash = '\0';
    char *absbase = absolute(slash ? (copy[0] ? copy : "/") : ".", NULL);
    kt_strlcpy(base, absbase ? absbase : ".", sizeof base);
    free(absbase);
    free(copy);
    int rc = 0;
    const char *p = text, *end = text + len;
    /* The header decides: a first record naming the evidence column. */
    kt_strlist head = {0};
    static const char *const ev_names[] = {"evidence", "path", NULL};
    static const char *const id_names[] = {"id", "item", "item_id", NULL};
    static const char *const cu_names[] = {"custodian", NULL};
    static const char *const key_names[] = {"key_file", "keyfile", "key", NULL};
    static const char *const no_names[] = {"notes", "note", NULL};
    const char *after = p;
    csv_record(&after, end, &head);
    int ev = column(&head, ev_names);
    if (ev >= 0) {
        int idc = column(&head, id_names), cu = column(&head, cu_names),
            key = column(&head, key_names), no = column(&head, no_names);
        p = after;
        for (int line = 2; rc == 0; line++) {
            kt_strlist row = {0};
            if (!csv_record(&p, end, &row))
                break;
            const char *e = cell(&row, ev);
            bool blank = row.count == 1 && row.items[0][0] == '\0';
            if (!blank && (e == NULL || e[0] == '\0')) {
                fprintf(stderr, "kavtrace: batch: manifest '%s': record %d has no evidence\n", path,
                        line);
                rc = -1;
            } else if (!blank) {
                rc = add_item(l, e, base, cell(&row, idc), cell(&row, cu), cell(&row, key),
                              cell(&row, no));
            }
            kt_strlist_release(&row);
        }
    } else {
        for (char *line = text; rc == 0 && line && *line;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            size_t n = strlen(line);
            while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
                line[--n] = '\0';
            if (n > 0 && line[0] != '#')
                rc = add_item(l, line, base, NULL, NULL, NULL, NULL);
            line = nl ? nl + 1 : NULL;
        }
    }
    kt_strlist_release(&head);
    free(text);
    return rc;
}

/* ---- discovery ---- */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every image (each set by its first file) and every system root under
 * dir, in byte order of their paths; OUTDIR is not looked into. */
static int discover(blist *l, const char *dir, const char *outdir, int depth)
{
    if (depth > KT_BATCH_MAX_DEPTH)
        return 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "kavtrace: batch: folder '%s': %s\n", dir, strerror(errno));
        return -1;
    }
    kt_strlist names = {0};
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            kt_strlist_add(&names, e->d_name);
    closedir(d);
    if (names.count)
        qsort(names.items, names.count, sizeof *names.items, cmp_names);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < names.count; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, names.items[i]);
        struct stat st, lst;
        if (lstat(path, &lst) != 0 || stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            char real[PATH_MAX];
            if (S_ISLNK(lst.st_mode) || (realpath(path, real) && strcmp(real, outdir) == 0))
                continue;
            if (kt_dir_is_system_root(path))
                rc = add_item(l, path, NULL, NULL, NULL, NULL, NULL);
            else
                rc = discover(l, path, outdir, depth + 1);
        } else if (S_ISREG(st.st_mode) &&
                   kt_evidence_kind_of(dir, names.items[i]) == KT_EVK_FIRST) {
            rc = add_item(l, path, NULL, NULL, NULL, NULL, NULL);
        }
    }
    kt_strlist_release(&names);
    return rc;
}

/* ---- the plan and the records (OUTDIR/.kavtrace-batch) ---- */

/* Tab, line breaks and backslash escaped: one field of a TSV line. */
static void put_field(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '\\')
            fputs("\\\\", f);
        else if (*s == '\t')
            fputs("\\t", f);
        else if (*s == '\n')
            fputs("\\n", f);
        else if (*s == '\r')
            fputs("\\r", f);
        else
            fputc(*s, f);
    }
}

static void unescape_field(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            *o++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

/* Write path whole: beside it first, then renamed into place. */
static int write_whole(const char *path, void (*fill)(FILE *, const void *), const void *ctx)
{
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    fill(f, ctx);
    int rc = fflush(f) == 0 && !ferror(f) && fsync(fileno(f)) == 0 ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc)
        unlink(tmp);
    return rc;
}

static void fill_plan(FILE *f, const void *ctx)
{
    const blist *l = ctx;
    fprintf(f, "%s\n", KT_BATCH_PLAN_HEAD);
    for (size_t i = 0; i < l->count; i++) {
        const bitem *it = &l->items[i];
        const char *fields[] = {it->id, it->evidence, it->custodian, it->key_file, it->notes};
        for (size_t k = 0; k < 5; k++) {
            if (k)
                fputc('\t', f);
            put_field(f, fields[k]);
        }
        fputc('\n', f);
    }
}

static int read_plan(blist *l, const char *state)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", state, KT_BATCH_PLAN);
    size_t len;
    char *text = slurp(path, &len);
    if (text == NULL) {
        fprintf(stderr, "kavtrace: batch: no batch plan '%s': %s\n", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    if (line == NULL || strcmp(line, KT_BATCH_PLAN_HEAD) != 0) {
        fprintf(stderr, "kavtrace: batch: '%s' is not a batch plan\n", path);
        rc = -1;
    }
    while (rc == 0 && (line = strtok_r(NULL, "\n", &save)) != NULL) {
        char *f[5] = {0};
        int k = 0;
        for (char *p = line; k < 5; k++) {
            char *tab = strchr(p, '\t');
            if (tab)
                *tab = '\0';
            f[k] = p;
            unescape_field(f[k]);
            if (tab == NULL)
                break;
            p = tab + 1;
        }
        bitem *it = blist_add(l);
        if (it == NULL || k < 4 || !id_valid(f[0])) {
            fprintf(stderr, "kavtrace: batch: '%s': a line that is not an item\n", path);
            rc = -1;
            break;
        }
        kt_strlcpy(it->id, f[0], sizeof it->id);
        it->evidence = strdup(f[1]);
        it->custodian = dup_or_null(f[2]);
        it->key_file = dup_or_null(f[3]);
        it->notes = dup_or_null(f[4]);
    }
    free(text);
    return rc;
}

static void record_path(const bopts *o, const char *id, char *out, size_t len)
{
    snprintf(out, len, "%s/status/%s", o->state, id);
}

static void fill_record(FILE *f, const void *ctx)
{
    const bitem *it = ctx;
    fprintf(f, "%s\t%lld\t%ld\t", it->status, (long long)it->run_ms, it->max_rss_kib);
    put_field(f, it->message);
    fputc('\n', f);
}

/* This run's outcome of an item, for the case summary (a Slurm task's
 * is read by the summary job). */
static void write_record(const bopts *o, const bitem *it)
{
    char path[PATH_MAX];
    record_path(o, it->id, path, sizeof path);
    if (write_whole(path, fill_record, it) != 0)
        fprintf(stderr, "kavtrace: batch: cannot write '%s': %s\n", path, strerror(errno));
}

/* An item's record back; "not-run" when there is none. */
static void read_record(const bopts *o, bitem *it)
{
    char path[PATH_MAX];
    record_path(o, it->id, path, sizeof path);
    size_t len;
    char *text = slurp(path, &len);
    it->status = "not-run";
    kt_strlcpy(it->message, "no record of it: the item was not run to its end", sizeof it->message);
    if (text == NULL)
        return;
    static const char *const statuses[] = {"ok", "skipped", "failed", "timed-out", "not-run"};
    char *f[4] = {0};
    char *p = text;
    for (int k = 0; k < 4 && p; k++) {
        char *tab = strchr(p, k < 3 ? '\t' : '\n');
        if (tab)
            *tab = '\0';
        f[k] = p;
        p = tab ? tab + 1 : NULL;
    }
    for (size_t s = 0; f[3] && s < sizeof statuses / sizeof statuses[0]; s++) {
        if (strcmp(f[0], statuses[s]) == 0) {
            it->status = statuses[s];
            it->run_ms = strtoll(f[1], NULL, 10);
            it->max_rss_kib = strtol(f[2], NULL, 10);
            unescape_field(f[3]);
            kt_strlcpy(it->message, f[3], sizeof it->message);
        }
    }
    free(text);
}

/* ---- resuming ---- */

/* -f's list (NULL: scan's default formats) into o->wants; -1 for a name
 * that is no format. */
static int parse_formats(bopts *o, const char *list)
{
    for (size_t i = 0; i < kt_nwriters && i < sizeof o->wants; i++)
        o->wants[i] = list == NULL && !kt_writers[i]->on_request;
    while (list && *list) {
        size_t n = strcspn(list, ",");
        char name[32];
        if (n == 0 || n >= sizeof name)
            return -1;
        memcpy(name, list, n);
        name[n] = '\0';
        const kt_writer *w = kt_writer_find(name);
        if (w == NULL)
            return -1;
        for (size_t i = 0; i < kt_nwriters && i < sizeof o->wants; i++)
            o->wants[i] = o->wants[i] || kt_writers[i] == w;
        list += n + (list[n] == ',');
    }
    return 0;
}

static bool wants(const bopts *o, const kt_writer *w)
{
    for (size_t i = 0; i < kt_nwriters && i < sizeof o->wants; i++)
        if (kt_writers[i] == w)
            return o->wants[i];
    return false;
}

/* The manifest lists every output this batch asks for (an earlier run
 * with other formats is scanned again, so the case outputs find them). */
static bool has_formats(const bopts *o, const kt_jv *m)
{
    const kt_jv *files = kt_jv_get(m, "files");
    for (size_t i = 0; i < kt_nwriters && i < sizeof o->wants; i++) {
        bool found = !o->wants[i];
        for (size_t k = 0; !found && files && files->type == KT_JV_ARRAY && k < files->len; k++) {
            const char *name = kt_jv_str(kt_jv_get(&files->item[k], "name"));
            found = name && strcmp(name, kt_writers[i]->file) == 0;
        }
        if (!found)
            return false;
    }
    return true;
}

/* The item's folder holds a complete run (manifest.json, written last)
 * for this evidence as it is now, this version and these definitions.
 * With --hash its findings must hold the media's SHA-256 (checked by the
 * worker). */
static bool outputs_complete(const bopts *o, const bitem *it)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s/%s", o->outdir, it->id, KT_MANIFEST_FILE);
    kt_jv m = {0};
    kt_error err = {0};
    if (kt_jv_parse_file(path, &m, &err) != KT_OK)
        return false;
    kt_evidence_stamp st;
    bool ok = kt_evidence_stamp_get(it->evidence, &st, &err) == KT_OK;
    const kt_jv *ev = kt_jv_get(&m, "evidence");
    const char *ver = kt_jv_str(kt_jv_get(&m, "kavtrace_version"));
    const char *defs = kt_jv_str(kt_jv_get(&m, "definitions_sha256"));
    const char *evpath = kt_jv_str(kt_jv_get(ev, "path"));
    const char *mtime = kt_jv_str(kt_jv_get(ev, "files_mtime"));
    const kt_jv *bytes = kt_jv_get(ev, "files_bytes");
    int64_t files = -1, b = -1;
    char iso[KT_TIME_ISO_MAX];
    ok = ok && has_formats(o, &m) && ver && strcmp(ver, KT_VERSION) == 0 && defs &&
         strcmp(defs, o->defs_sha256) == 0 && evpath && strcmp(evpath, it->evidence) == 0 &&
         kt_jv_int(kt_jv_get(ev, "files"), &files) && files == st.files && mtime &&
         strcmp(mtime, kt_time_format_iso(st.mtime_ns, iso)) == 0 && bytes &&
         (bytes->type == KT_JV_NULL ? st.bytes < 0 : kt_jv_int(bytes, &b) && b == st.bytes);
    kt_jv_release(&m);
    if (ok && o->hash) {
        /* The scan that wrote them hashed the media too. */
        snprintf(path, sizeof path, "%s/%s/findings.json", o->outdir, it->id);
        kt_jv f = {0};
        ok = kt_jv_parse_file(path, &f, &err) == KT_OK;
        const kt_jv *hs = kt_jv_get(kt_jv_get(&f, "evidence"), "hash_status");
        const char *h = kt_jv_str(hs);
        ok = ok && h && (strcmp(h, "complete") == 0 || st.bytes < 0);
        kt_jv_release(&f);
    }
    return ok;
}

/* In a worker: the media's SHA-256 now against the one in the findings. */
static bool same_hash(const bopts *o, const bitem *it)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s/findings.json", o->outdir, it->id);
    kt_jv f = {0};
    kt_error err = {0};
    bool same = false;
    if (kt_jv_parse_file(path, &f, &err) == KT_OK) {
        const char *want = kt_jv_str(kt_jv_get(kt_jv_get(&f, "evidence"), "sha256"));
        struct stat st;
        if (stat(it->evidence, &st) == 0 && S_ISDIR(st.st_mode)) {
            same = true; /* a tree has no media: its stamp decides */
        } else if (want) {
            kt_image *img = NULL;
            kt_image_digest d;
            if (kt_image_open(it->evidence, &img, &err) == KT_OK &&
                kt_image_hash(img, &d, NULL, NULL, &err) == KT_OK)
                same = d.status == KT_HASH_COMPLETE && strcmp(d.sha256, want) == 0;
            kt_image_free(img);
        }
    }
    kt_jv_release(&f);
    return same;
}

/* ---- the workers ---- */

static void test_fault(const bopts *o, const bitem *it)
{
    const char *eq = NULL;
    for (int i = 0; i < o->nfaults && eq == NULL; i++) {
        const char *f = o->faults[i], *e = strrchr(f, '=');
        if (e && strlen(it->id) == (size_t)(e - f) && strncmp(f, it->id, (size_t)(e - f)) == 0)
            eq = e;
    }
    if (eq == NULL)
        return;
    if (strcmp(eq + 1, "crash") == 0) {
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    } else if (strcmp(eq + 1, "hang") == 0) {
        for (;;)
            pause();
    } else if (strcmp(eq + 1, "oom") == 0) {
        /* Touch memory until the limit refuses more, as a scan would. */
        for (;;) {
            char *p = malloc(16 << 20);
            if (p == NULL) {
                fprintf(stderr, "kavtrace: out of memory\n");
                _exit(KT_EXIT_ERROR);
            }
            memset(p, 1, 16 << 20);
        }
    }
}

/* In the child: its own process group (so a timeout kills its helpers
 * too), the memory limit, stdout and stderr to its log, then the scan. */
static void worker(const bopts *o, const bitem *it)
{
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s/logs/%s.log", o->state, it->id);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
        dup2(devnull, STDIN_FILENO);
    if (o->item_memory) {
        /* The soft limit: a helper may still set its own, lower or higher. */
        struct rlimit rl;
        getrlimit(RLIMIT_AS, &rl);
        rlim_t want = (rlim_t)o->item_memory << 20;
        rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
        setrlimit(RLIMIT_AS, &rl);
    }
    if (it->maybe_done && o->hash && same_hash(o, it))
        _exit(EXIT_HASH_SAME);
    test_fault(o, it);
    char final[KT_OUTDIR_PATH_MAX + KT_BATCH_ID_MAX + 2];
    snprintf(final, sizeof final, "%s/%s", o->outdir, it->id);
    const char *argv[20 + 2 * KT_BATCH_KEY_FILES];
    int n = 0;
    argv[n++] = o->self;
    argv[n++] = "scan";
    argv[n++] = "-q";
    argv[n++] = "-o";
    argv[n++] = final;
    argv[n++] = "-a";
    argv[n++] = o->defs_dir;
    if (o->formats) {
        argv[n++] = "-f";
        argv[n++] = o->formats;
    }
    if (o->hash)
        argv[n++] = "--hash";
    /* Key files by path: a password on a command line is visible to every
     * user of the machine (ps), so batch takes none. */
    for (int k = 0; k < o->nkey_files; k++) {
        argv[n++] = "--key-file";
        argv[n++] = o->key_files[k];
    }
    if (it->key_file) {
        argv[n++] = "--key-file";
        argv[n++] = it->key_file;
    }
    argv[n++] = "--";
    argv[n++] = it->evidence;
    argv[n] = NULL;
    execv(o->self, (char *const *)argv);
    fprintf(stderr, "kavtrace: batch: cannot run '%s': %s\n", o->self, strerror(errno));
    _exit(127);
}

/* The last line the worker wrote, for the record. */
static void last_log_line(const bopts *o, const bitem *it, char *out, size_t len)
{
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s/logs/%s.log", o->state, it->id);
    size_t n;
    char *text = slurp(log, &n);
    out[0] = '\0';
    if (text == NULL)
        return;
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    char *start = memrchr(text, '\n', n);
    start = start ? start + 1 : text;
    if (strncmp(start, "kavtrace: ", 10) == 0)
        start += 10;
    snprintf(out, len, "%.300s", start);
    free(text);
}

static void finished(const bopts *o, bitem *it, int wstatus, const struct rusage *ru)
{
    it->run_ms = now_ms() - it->started_ms;
    it->max_rss_kib = ru->ru_maxrss;
    it->done = true;
    it->pid = 0;
    char last[320], path[PATH_MAX + 64];
    last_log_line(o, it, last, sizeof last);
    struct stat st;
    snprintf(path, sizeof path, "%s/%s/%s", o->outdir, it->id, KT_MANIFEST_FILE);
    if (it->timed_out) {
        it->status = "timed-out";
        snprintf(it->message, sizeof it->message, "killed after the item timeout of %g s",
                 o->item_timeout);
    } else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == EXIT_HASH_SAME) {
        it->status = "skipped";
        it->run_ms = 0;
        snprintf(it->message, sizeof it->message, "complete from an earlier run (hash checked)");
    } else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0 && stat(path, &st) == 0) {
        it->status = "ok";
        it->message[0] = '\0';
    } else if (WIFSIGNALED(wstatus)) {
        it->status = "failed";
        snprintf(it->message, sizeof it->message, "the scan died by signal %d (%s)",
                 WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
    } else {
        it->status = "failed";
        snprintf(it->message, sizeof it->message, "the scan failed (exit status %d)%s%s",
                 WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1, last[0] ? ": " : "", last);
    }
    write_record(o, it);
}

static void fmt_dur(int64_t ms, char *out, size_t len)
{
    int64_t s = ms / 1000;
    if (s >= 3600)
        snprintf(out, len, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
                 (long long)(s % 60));
    else
        snprintf(out, len, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

typedef struct progress_state {
    bool tty;
    int64_t start, last_draw;
    size_t total, done, running, worked; /* worked: done by a scan, not skipped */
    int64_t worked_ms;
} progress_state;

static void draw(const bopts *o, progress_state *ps, bool force)
{
    if (!ps->tty || o->quiet)
        return;
    int64_t t = now_ms();
    if (!force && t - ps->last_draw < 1000)
        return;
    ps->last_draw = t;
    char el[32], left[32] = "?";
    fmt_dur(t - ps->start, el, sizeof el);
    if (ps->worked > 0) {
        /* What is left at the pace so far, over the workers. */
        size_t rest = ps->total - ps->done;
        long par = o->jobs < (long)rest ? o->jobs : (long)rest;
        int64_t est =
            par ? (int64_t)(ps->worked_ms / (int64_t)ps->worked * (int64_t)rest / par) : 0;
        fmt_dur(est, left, sizeof left);
    }
    fprintf(stderr, "\r\033[Kkavtrace: batch: %zu/%zu done, %zu running, %s elapsed, about %s left",
            ps->done, ps->total, ps->running, el, left);
}

static void said(const bopts *o, progress_state *ps, const bitem *it)
{
    if (o->quiet)
        return;
    kt_strlist hold = {0};
    if (ps->tty)
        fputs("\r\033[K", stderr);
    fprintf(stderr, "kavtrace: batch: [%zu/%zu] %s: %s%s%s\n", ps->done, ps->total, it->id,
            it->status, it->message[0] ? ": " : "", kt_cli_text(&hold, it->message));
    kt_strlist_release(&hold);
    draw(o, ps, true);
}

/* Run the items of idx (n of them), -j at a time. Returns 0 when every one
 * is ok or skipped. An interrupt stops the workers (SIGTERM, then SIGKILL)
 * and leaves the items not finished without a record. */
static int run_items(bopts *o, blist *l, const size_t *idx, size_t n)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct sigaction sc = {.sa_handler = on_child, .sa_flags = SA_NOCLDSTOP};
    sigemptyset(&sc.sa_mask);
    sigaction(SIGCHLD, &sc, NULL);
    progress_state ps = {.tty = isatty(STDERR_FILENO) != 0, .start = now_ms(), .total = n};
    size_t next = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        bitem *it = &l->items[idx[i]];
        char path[PATH_MAX];
        record_path(o, it->id, path, sizeof path);
        unlink(path); /* this run's outcome, or none */
        it->maybe_done = !o->force && outputs_complete(o, it);
        if (it->key_file && access(it->key_file, R_OK) != 0) {
            it->status = "failed";
            snprintf(it->message, sizeof it->message, "key file '%s': %s", it->key_file,
                     strerror(errno));
            it->done = true;
        } else if (it->maybe_done && !o->hash) {
            it->status = "skipped";
            snprintf(it->message, sizeof it->message, "complete from an earlier run");
            it->done = true;
        }
        if (it->done) {
            write_record(o, it);
            ps.done++;
            said(o, &ps, it);
        }
    }
    while (!stop_signal) {
        while (!stop_signal && ps.running < (size_t)o->jobs && next < n) {
            bitem *it = &l->items[idx[next++]];
            if (it->done)
                continue;
            fflush(NULL);
            it->started_ms = now_ms();
            pid_t pid = fork();
            if (pid == 0)
                worker(o, it);
            if (pid < 0) {
                it->status = "failed";
                snprintf(it->message, sizeof it->message, "cannot start a worker: %s",
                         strerror(errno));
                it->done = true;
                write_record(o, it);
                ps.done++;
                said(o, &ps, it);
                continue;
            }
            setpgid(pid, pid); /* as the child does: no race with a kill */
            it->pid = pid;
            ps.running++;
        }
        if (ps.running == 0 && next >= n)
            break;
        int ws;
        struct rusage ru;
        pid_t pid = wait4(-1, &ws, WNOHANG, &ru);
        if (pid > 0) {
            for (size_t i = 0; i < n; i++) {
                bitem *it = &l->items[idx[i]];
                if (it->pid != pid)
                    continue;
                finished(o, it, ws, &ru);
                ps.running--;
                ps.done++;
                if (strcmp(it->status, "skipped") != 0) {
                    ps.worked++;
                    ps.worked_ms += it->run_ms;
                }
                said(o, &ps, it);
            }
            continue;
        }
        /* Timeouts: the whole process group, SIGKILL (a hung scan need not
         * answer SIGTERM). */
        int64_t t = now_ms();
        for (size_t i = 0; i < n; i++) {
            bitem *it = &l->items[idx[i]];
            if (it->pid > 0 && !it->timed_out &&
                (double)(t - it->started_ms) > o->item_timeout * 1000.0) {
                it->timed_out = true;
                kill(-it->pid, SIGKILL);
            }
        }
        draw(o, &ps, false);
        struct timespec nap = {0, 50 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    if (stop_signal) {
        /* Stop the workers; what they had not finished stays partial, and
         * has no record: a rerun does it again. */
        if (ps.tty && !o->quiet)
            fputs("\r\033[K", stderr);
        fprintf(stderr, "kavtrace: batch: %s: stopping %zu running item%s\n",
                strsignal(stop_signal), ps.running, ps.running == 1 ? "" : "s");
        for (size_t i = 0; i < n; i++)
            if (l->items[idx[i]].pid > 0)
                kill(-l->items[idx[i]].pid, SIGTERM);
        int64_t until = now_ms() + KT_BATCH_GRACE_MS;
        while (ps.running > 0) {
            int ws;
            pid_t pid = waitpid(-1, &ws, WNOHANG);
            if (pid > 0) {
                for (size_t i = 0; i < n; i++)
                    if (l->items[idx[i]].pid == pid)
                        l->items[idx[i]].pid = 0;
                ps.running--;
                continue;
            }
            if (pid < 0)
                break;
            if (now_ms() > until)
                for (size_t i = 0; i < n; i++)
                    if (l->items[idx[i]].pid > 0)
                        kill(-l->items[idx[i]].pid, SIGKILL);
            struct timespec nap = {0, 20 * 1000 * 1000};
            nanosleep(&nap, NULL);
        }
        rc = -1;
    }
    if (ps.tty && !o->quiet)
        fputs("\r\033[K", stderr);
    for (size_t i = 0; i < n; i++) {
        const char *s = l->items[idx[i]].status;
        if (s == NULL || (strcmp(s, "ok") != 0 && strcmp(s, "skipped") != 0))
            rc = -1;
    }
    return rc;
}

/* ---- the case summary ---- */

static int summarize(const bopts *o, blist *l)
{
    kt_case_item *rows = calloc(l->count ? l->count : 1, sizeof *rows);
    if (rows == NULL) {
        fprintf(stderr, "kavtrace: batch: out of memory\n");
        return KT_EXIT_ERROR;
    }
    for (size_t i = 0; i < l->count; i++) {
        bitem *it = &l->items[i];
        read_record(o, it);
        rows[i] = (kt_case_item){.id = it->id,
                                 .evidence = it->evidence,
                                 .custodian = it->custodian,
                                 .key_file = it->key_file,
                                 .notes = it->notes,
                                 .status = it->status,
                                 .message = it->message,
                                 .run_ms = it->run_ms};
    }
    bool all_ok = false;
    kt_error err = {0};
    unsigned outputs = (wants(o, &kt_writer_html) ? KT_CASE_HTML : 0) |
                       (wants(o, &kt_writer_sqlite) ? KT_CASE_SQLITE_DB : 0);
    int rc = kt_case_write(o->outdir, rows, l->count, outputs, &all_ok, &err);
    free(rows);
    if (rc) {
        fprintf(stderr, "kavtrace: batch: %s\n", err.msg);
        return KT_EXIT_ERROR;
    }
    if (!o->quiet) {
        size_t c[5] = {0};
        static const char *const names[] = {"ok", "skipped", "failed", "timed-out", "not-run"};
        for (size_t i = 0; i < l->count; i++)
            for (size_t s = 0; s < 5; s++)
                c[s] += strcmp(l->items[i].status, names[s]) == 0;
        printf("%zu item%s: %zu ok, %zu skipped, %zu failed, %zu timed out, %zu not run\n"
               "case summary: %s/%s, %s/%s",
               l->count, l->count == 1 ? "" : "s", c[0], c[1], c[2], c[3], c[4], o->outdir,
               KT_CASE_JSON, o->outdir, KT_CASE_CSV);
        if (outputs & KT_CASE_HTML)
            printf(", %s/%s", o->outdir, KT_CASE_INDEX);
        if (outputs & KT_CASE_SQLITE_DB)
            printf(", %s/%s", o->outdir, KT_CASE_SQLITE);
        printf("\n");
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "kavtrace: batch: cannot write the summary: %s\n", strerror(errno));
        return KT_EXIT_ERROR;
    }
    return all_ok ? KT_EXIT_OK : KT_EXIT_ERROR;
}

/* ---- Slurm ---- */

/* s in single quotes for sh. */
static void sh_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    }
    fputc('\'', f);
}

typedef struct script_ctx {
    const bopts *o;
    size_t items;
    bool summary;
} script_ctx;

static void fill_script(FILE *f, const void *ctx)
{
    const script_ctx *c = ctx;
    const bopts *o = c->o;
    size_t tasks = (c->items + (size_t)o->chunk - 1) / (size_t)o->chunk;
    fprintf(f, "#!/bin/sh\n");
    if (c->summary) {
        fprintf(f, "#SBATCH --job-name=kavtrace-case\n#SBATCH --ntasks=1\n"
                   "#SBATCH --time=60\n");
        fprintf(f, "#SBATCH --output=%s/slurm/case-%%j.out\n", o->state);
    } else {
        /* The task's time: its items' timeouts and two minutes more, so
         * kavtrace's own timeout, which records the item, comes first. */
        double secs = o->item_timeout * o->chunk + 120;
        fprintf(f, "#SBATCH --job-name=kavtrace-batch\n#SBATCH --array=0-%zu%%%d\n", tasks - 1,
                o->throttle);
        fprintf(f, "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n#SBATCH --time=%lld\n",
                (long long)((secs + 59) / 60));
        if (o->item_memory)
            fprintf(f, "#SBATCH --mem=%lluM\n", o->item_memory);
        fprintf(f, "#SBATCH --output=%s/slurm/task-%%A_%%a.out\n", o->state);
    }
    for (int i = 0; i < o->nsbatch; i++)
        fprintf(f, "#SBATCH %s\n", o->sbatch_args[i]);
    fprintf(f, "exec ");
    sh_quote(f, o->self);
    fprintf(f, " batch -q -o ");
    sh_quote(f, o->outdir);
    if (c->summary) {
        fprintf(f, " --summarize");
        if (o->formats) {
            fprintf(f, " -f ");
            sh_quote(f, o->formats);
        }
        fprintf(f, "\n");
        return;
    }
    fprintf(f, " --slurm-task \"$SLURM_ARRAY_TASK_ID\" --slurm-chunk %d -a ", o->chunk);
    sh_quote(f, o->defs_dir);
    if (o->formats) {
        fprintf(f, " -f ");
        sh_quote(f, o->formats);
    }
    for (int k = 0; k < o->nkey_files; k++) {
        fprintf(f, " --key-file ");
        sh_quote(f, o->key_files[k]);
    }
    fprintf(f, " --item-timeout %g --item-memory %llu%s%s\n", o->item_timeout, o->item_memory,
            o->hash ? " --hash" : "", o->force ? " --force" : "");
}

/* Run sbatch --parsable with args; its job id into out. */
static int sbatch(const char *const *args, char *out, size_t len)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pfd[1], STDOUT_FILENO);
        close(pfd[0]);
        close(pfd[1]);
        execvp("sbatch", (char *const *)args);
        fprintf(stderr, "kavtrace: batch: cannot run sbatch: %s\n", strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < len && (r = read(pfd[0], out + n, len - n - 1)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        n += (size_t)r;
    }
    close(pfd[0]);
    out[n] = '\0';
    out[strcspn(out, ";\n")] = '\0';
    int ws;
    if (pid < 0 || waitpid(pid, &ws, 0) < 0 || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0 ||
        out[0] == '\0')
        return -1;
    return 0;
}

static int submit(const bopts *o, const blist *l)
{
    script_ctx array = {o, l->count, false}, summary = {o, l->count, true};
    if (o->dry_run) {
        printf("# %s/slurm/array.sh\n", o->state);
        fill_script(stdout, &array);
        printf("# %s/slurm/case.sh, after the array ends (--dependency=afterany:ARRAY_JOB)\n",
               o->state);
        fill_script(stdout, &summary);
        return fflush(stdout) == 0 ? KT_EXIT_OK : KT_EXIT_ERROR;
    }
    char a[PATH_MAX], s[PATH_MAX], dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/slurm", o->state);
    snprintf(a, sizeof a, "%s/array.sh", dir);
    snprintf(s, sizeof s, "%s/case.sh", dir);
    if ((mkdir(dir, 0755) != 0 && errno != EEXIST) || write_whole(a, fill_script, &array) != 0 ||
        write_whole(s, fill_script, &summary) != 0) {
        fprintf(stderr, "kavtrace: batch: cannot write the Slurm scripts in '%s': %s\n", dir,
                strerror(errno));
        return KT_EXIT_ERROR;
    }
    char job[64], job2[64], dep[96];
    const char *args1[] = {"sbatch", "--parsable", a, NULL};
    if (sbatch(args1, job, sizeof job) != 0) {
        fprintf(stderr, "kavtrace: batch: sbatch refused the job array '%s'\n", a);
        return KT_EXIT_ERROR;
    }
    snprintf(dep, sizeof dep, "--dependency=afterany:%s", job);
    const char *args2[] = {"sbatch", "--parsable", dep, s, NULL};
    if (sbatch(args2, job2, sizeof job2) != 0) {
        fprintf(stderr,
                "kavtrace: batch: sbatch refused the case summary job '%s' (the array %s "
                "was submitted)\n",
                s, job);
        return KT_EXIT_ERROR;
    }
    if (!o->quiet)
        printf("submitted job array %s (%zu item%s) and the case summary job %s\n"
               "case summary, once it has run: %s/%s\n",
               job, l->count, l->count == 1 ? "" : "s", job2, o->outdir, KT_CASE_CSV);
    printf("%s %s\n", job, job2);
    return fflush(stdout) == 0 ? KT_EXIT_OK : KT_EXIT_ERROR;
}

/* ---- the command ---- */

static void help(unsigned long long memory)
{
    kt_cli_print_usage(stdout, &kt_cmd_batch);
    printf("\n%s\n\n"
           "Evidence: the EVIDENCE arguments, the items of a manifest, and every image\n"
           "(each split or EWF set once) and system root folder found under a folder.\n"
           "Each item is scanned by 'kavtrace scan' in a process of its own into\n"
           "OUTDIR/ID/; case.json, case.csv (and by -f index.html, case.sqlite) in\n"
           "OUTDIR hold one row per item.\n\n"
           "  -o, --output DIR       where to write (default ./kavtrace-out)\n"
           "  -m, --manifest FILE    CSV with a header naming 'evidence' (and optional\n"
           "                         'id', 'custodian', 'key_file', 'notes'), or one path\n"
           "                         a line; relative paths are from FILE's folder\n"
           "  -d, --discover DIR     every image and system root under DIR\n"
           "  -j, --jobs N           items at a time (default: the number of cores)\n"
           "      --item-timeout SECONDS  wall time an item gets (default %g)\n"
           "      --item-memory MIB  address space of an item's scan (default %llu; 0: none)\n"
           "      --force            scan every item again, complete or not\n"
           "      --hash             hash each medium (as scan --hash); a rerun then\n"
           "                         skips an item only if the hash is unchanged\n"
           "  -a, --artifacts DIR    artifact definitions\n"
           "  -f, --format LIST      as scan's; html adds the case's index.html, sqlite\n"
           "                         its case.sqlite\n"
           "  -q, --quiet            no progress, no summary\n"
           "      --key-file F       a key file for encrypted volumes, given to every\n"
           "                         item's scan (as the manifest's key_file is to its\n"
           "                         item's); repeatable. batch takes no --password: a\n"
           "                         password on a command line is visible in ps\n"
           "      --summarize        (re)build the case summary in OUTDIR only\n"
           "      --slurm            submit a Slurm job array (one task per chunk of\n"
           "                         items) and a case summary job after it, instead\n"
           "      --dry-run          with --slurm: print the scripts, submit nothing\n"
           "      --slurm-chunk N    items per array task (default 1)\n"
           "      --slurm-throttle N array tasks at a time (default 8)\n"
           "      --sbatch ARG       an #SBATCH line for both jobs (e.g. --partition=x)\n"
           "An item whose outputs are complete (manifest.json) for the same evidence\n"
           "(size and modification time of its files), version and definitions is\n"
           "skipped. Exit status: 0 every item ok or skipped, 1 not, 2 usage.\n",
           kt_cmd_batch.summary, KT_BATCH_TIMEOUT, memory);
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

enum {
    O_TIMEOUT = 256,
    O_MEMORY,
    O_FORCE,
    O_HASH,
    O_SUMMARIZE,
    O_SLURM,
    O_DRY,
    O_CHUNK,
    O_THROTTLE,
    O_SBATCH,
    O_TASK,
    O_FAULT,
    O_KEY_FILE,
};

static int run(int argc, char **argv)
{
    bopts o = {.outdir_arg = "kavtrace-out",
               .item_timeout = KT_BATCH_TIMEOUT,
               .item_memory = KT_BATCH_MEMORY,
               .throttle = 8,
               .chunk = 1,
               .task = -1};
#if defined(__SANITIZE_ADDRESS__)
    o.item_memory = 0; /* shadow memory: no address-space limit */
#endif
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    o.jobs = cores > 0 ? cores : 1;
    static const struct option lopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"manifest", required_argument, NULL, 'm'},
        {"discover", required_argument, NULL, 'd'},
        {"jobs", required_argument, NULL, 'j'},
        {"artifacts", required_argument, NULL, 'a'},
        {"format", required_argument, NULL, 'f'},
        {"quiet", no_argument, NULL, 'q'},
        {"item-timeout", required_argument, NULL, O_TIMEOUT},
        {"item-memory", required_argument, NULL, O_MEMORY},
        {"force", no_argument, NULL, O_FORCE},
        {"hash", no_argument, NULL, O_HASH},
        {"summarize", no_argument, NULL, O_SUMMARIZE},
        {"slurm", no_argument, NULL, O_SLURM},
        {"dry-run", no_argument, NULL, O_DRY},
        {"slurm-chunk", required_argument, NULL, O_CHUNK},
        {"slurm-throttle", required_argument, NULL, O_THROTTLE},
        {"sbatch", required_argument, NULL, O_SBATCH},
        {"slurm-task", required_argument, NULL, O_TASK},
        {"test-fault", required_argument, NULL, O_FAULT},
        {"key-file", required_argument, NULL, O_KEY_FILE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    long v;
    char *end;
    while ((c = getopt_long(argc, argv, "+o:m:d:j:a:f:qh", lopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            o.outdir_arg = optarg;
            break;
        case 'm':
            if (o.manifest)
                return kt_cli_usage_error(&kt_cmd_batch, "one --manifest at a time");
            o.manifest = optarg;
            break;
        case 'd':
            if (o.ndiscover == (int)(sizeof o.discover / sizeof o.discover[0]))
                return kt_cli_usage_error(&kt_cmd_batch, "too many --discover");
            o.discover[o.ndiscover++] = optarg;
            break;
        case 'j':
            if (!parse_long(optarg, 1, KT_BATCH_MAX_JOBS, &o.jobs))
                return kt_cli_usage_error(&kt_cmd_batch, "-j wants 1 to %d, not '%s'",
                                          KT_BATCH_MAX_JOBS, optarg);
            break;
        case 'a':
            o.artifacts = optarg;
            break;
        case 'f':
            o.formats = optarg;
            break;
        case 'q':
            o.quiet = true;
            break;
        case O_TIMEOUT:
            errno = 0;
            o.item_timeout = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(o.item_timeout > 0) ||
                o.item_timeout > 30 * 86400.0)
                return kt_cli_usage_error(&kt_cmd_batch,
                                          "--item-timeout wants seconds, more than 0 and at most "
                                          "30 days, not '%s'",
                                          optarg);
            break;
        case O_MEMORY:
            if (!parse_long(optarg, 0, 1L << 24, &v))
                return kt_cli_usage_error(
                    &kt_cmd_batch, "--item-memory wants whole MiB (0: no limit), not '%s'", optarg);
            o.item_memory = (unsigned long long)v;
            break;
        case O_FORCE:
            o.force = true;
            break;
        case O_HASH:
            o.hash = true;
            break;
        case O_SUMMARIZE:
            o.summarize = true;
            break;
        case O_SLURM:
            o.slurm = true;
            break;
        case O_DRY:
            o.dry_run = true;
            break;
        case O_CHUNK:
        case O_THROTTLE:
            if (!parse_long(optarg, 1, 100000, &v))
                return kt_cli_usage_error(&kt_cmd_batch, "%s wants 1 to 100000, not '%s'",
                                          argv[optind - 1], optarg);
            *(c == O_CHUNK ? &o.chunk : &o.throttle) = (int)v;
            break;
        case O_SBATCH:
            if (o.nsbatch == (int)(sizeof o.sbatch_args / sizeof o.sbatch_args[0]) ||
                strpbrk(optarg, "\n\r"))
                return kt_cli_usage_error(&kt_cmd_batch, "--sbatch: too many, or a line break");
            o.sbatch_args[o.nsbatch++] = optarg;
            break;
        case O_TASK:
            if (!parse_long(optarg, 0, KT_BATCH_MAX_ITEMS, &o.task))
                return kt_cli_usage_error(&kt_cmd_batch, "--slurm-task wants a task number");
            break;
        case O_FAULT:
            if (o.nfaults == (int)(sizeof o.faults / sizeof o.faults[0]))
                return kt_cli_usage_error(&kt_cmd_batch, "too many --test-fault");
            o.faults[o.nfaults++] = optarg;
            break;
        case O_KEY_FILE: {
            if (o.nkey_files == KT_BATCH_KEY_FILES)
                return kt_cli_usage_error(&kt_cmd_batch, "more than %d --key-file",
                                          KT_BATCH_KEY_FILES);
            char *abs = o.key_files[o.nkey_files];
            if (realpath(optarg, abs) == NULL || access(abs, R_OK) != 0) {
                fprintf(stderr, "kavtrace: batch: key file '%s': %s\n", optarg, strerror(errno));
                return KT_EXIT_USAGE;
            }
            o.nkey_files++;
            break;
        }
        case 'h':
            help(o.item_memory);
            return KT_EXIT_OK;
        default:
            return kt_cli_usage_error(&kt_cmd_batch, "unknown option or missing value '%s'",
                                      argv[optind - 1]);
        }
    }
    bool from_plan = o.summarize || o.task >= 0;
    bool given = optind < argc || o.manifest || o.ndiscover;
    if (from_plan && given)
        return kt_cli_usage_error(&kt_cmd_batch,
                                  "--summarize and --slurm-task take the items of OUTDIR's plan, "
                                  "no evidence");
    if (!from_plan && !given)
        return kt_cli_usage_error(&kt_cmd_batch, "no evidence, --manifest or --discover given");
    if (parse_formats(&o, o.formats) != 0)
        return kt_cli_usage_error(&kt_cmd_batch, "bad --format list '%s'", o.formats);
    if (o.dry_run && !o.slurm)
        return kt_cli_usage_error(&kt_cmd_batch, "--dry-run goes with --slurm");
    if (o.slurm && from_plan)
        return kt_cli_usage_error(&kt_cmd_batch, "--slurm plans a batch: give its evidence");

    ssize_t sn = readlink("/proc/self/exe", o.self, sizeof o.self - 1);
    if (sn <= 0) {
        fprintf(stderr, "kavtrace: batch: cannot find its own program: %s\n", strerror(errno));
        return KT_EXIT_ERROR;
    }
    o.self[sn] = '\0';
    if (kt_cli_resolve_path(o.outdir_arg, o.outdir, sizeof o.outdir) != 0) {
        fprintf(stderr, "kavtrace: batch: output '%s': %s\n", o.outdir_arg, strerror(errno));
        return KT_EXIT_ERROR;
    }
    snprintf(o.state, sizeof o.state, "%s/%s", o.outdir, KT_BATCH_DIR);
    const char *defs = kt_cli_artifacts_dir(o.artifacts);
    char *absdefs = absolute(defs, NULL);
    kt_strlcpy(o.defs_dir, absdefs ? absdefs : defs, sizeof o.defs_dir);
    free(absdefs);

    blist l = {0};
    int status = KT_EXIT_OK;
    if (from_plan) {
        if (read_plan(&l, o.state) != 0) {
            blist_release(&l);
            return KT_EXIT_ERROR;
        }
        if (o.summarize) {
            status = summarize(&o, &l);
            blist_release(&l);
            return status;
        }
    } else {
        int rc = 0;
        for (int i = optind; rc == 0 && i < argc; i++)
            rc = add_item(&l, argv[i], NULL, NULL, NULL, NULL, NULL);
        if (rc == 0 && o.manifest)
            rc = read_manifest(&l, o.manifest);
        for (int i = 0; rc == 0 && i < o.ndiscover; i++) {
            char *d = absolute(o.discover[i], NULL);
            size_t before = l.count;
            rc = d ? discover(&l, d, o.outdir, 0) : -1;
            if (rc == 0 && l.count == before)
                fprintf(stderr, "kavtrace: batch: warning: no evidence found under '%s'\n",
                        o.discover[i]);
            free(d);
        }
        if (rc == 0 && l.count == 0) {
            fprintf(stderr, "kavtrace: batch: no evidence items\n");
            rc = -1;
        }
        if (rc != 0) {
            blist_release(&l);
            return KT_EXIT_USAGE;
        }
    }

    /* The state folder, its plan, and this run's records. */
    struct stat st;
    if (stat(o.outdir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "kavtrace: batch: output '%s' exists and is not a directory\n", o.outdir);
        blist_release(&l);
        return KT_EXIT_ERROR;
    }
    char sub[PATH_MAX];
    bool made = true;
    if (!o.dry_run) {
        char mk[PATH_MAX];
        snprintf(mk, sizeof mk, "%s", o.outdir);
        for (char *p = mk + 1; *p; p++) {
            if (*p != '/')
                continue;
            *p = '\0';
            mkdir(mk, 0755);
            *p = '/';
        }
        static const char *const subs[] = {"", "/status", "/logs"};
        made = mkdir(o.outdir, 0755) == 0 || errno == EEXIST;
        for (size_t i = 0; made && i < 3; i++) {
            snprintf(sub, sizeof sub, "%s%s", o.state, subs[i]);
            made = mkdir(sub, 0755) == 0 || errno == EEXIST;
        }
        if (!made)
            fprintf(stderr, "kavtrace: batch: cannot make '%s': %s\n", sub, strerror(errno));
    }
    kt_error err = {0};
    if (made && kt_definitions_hash(o.defs_dir, o.defs_sha256, &err) != KT_OK) {
        fprintf(stderr, "kavtrace: batch: %s\n", err.msg);
        made = false;
    }
    snprintf(sub, sizeof sub, "%s/%s", o.state, KT_BATCH_PLAN);
    if (made && !from_plan && !o.dry_run && write_whole(sub, fill_plan, &l) != 0) {
        fprintf(stderr, "kavtrace: batch: cannot write '%s': %s\n", sub, strerror(errno));
        made = false;
    }
    if (!made) {
        blist_release(&l);
        return KT_EXIT_ERROR;
    }
    if (o.slurm) {
        for (size_t i = 0; !o.dry_run && i < l.count; i++) {
            record_path(&o, l.items[i].id, sub, sizeof sub);
            unlink(sub);
        }
        status = submit(&o, &l);
        blist_release(&l);
        return status;
    }

    /* The items this process runs: all, or a Slurm task's chunk. */
    size_t first = 0, count = l.count;
    if (o.task >= 0) {
        first = (size_t)o.task * (size_t)o.chunk;
        count = first < l.count ? l.count - first : 0;
        if (count > (size_t)o.chunk)
            count = (size_t)o.chunk;
        o.jobs = 1;
    }
    size_t *idx = calloc(count ? count : 1, sizeof *idx);
    if (idx == NULL) {
        blist_release(&l);
        return KT_EXIT_ERROR;
    }
    for (size_t i = 0; i < count; i++)
        idx[i] = first + i;
    int rc = run_items(&o, &l, idx, count);
    free(idx);
    if (o.task >= 0)
        status = rc == 0 ? KT_EXIT_OK : KT_EXIT_ERROR;
    else
        status = summarize(&o, &l);
    if (stop_signal)
        status = KT_EXIT_ERROR;
    blist_release(&l);
    return status;
}

const kt_command kt_cmd_batch = {
    .name = "batch",
    .summary = "scan a whole evidence set in parallel, resumable, with a case summary",
    .usage = "[-o OUTDIR] [-j N] [-m MANIFEST] [-d DIR] [--item-timeout S] [--item-memory MIB] "
             "[--force] [--hash] [--key-file F]... [--slurm [--dry-run]] [-q] [EVIDENCE...]",
    .run = run,
};
