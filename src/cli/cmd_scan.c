/* kavtrace scan: the main job. For each evidence item: findings.json,
 * timeline.csv, timeline.jsonl and scan.log in the output directory, and a
 * short summary of the verdicts on stdout. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "kavtrace/scan.h"
#include "kavtrace/writers.h"
#include "options.h"

typedef struct opts {
    const char *outdir;
    const char *artifacts;
    bool formats[8];
    bool quiet;
    bool hash;
} opts;

static int mkdirs(const char *path)
{
    char buf[4096];
    if (kt_strlcpy(buf, path, sizeof buf) >= sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* Write atomically: a temporary file in the same directory, then rename. */
static int write_file(const char *dir, const char *name, const kt_buf *b)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (f == NULL)
        return -1;
    bool ok = fwrite(b->data ? (const void *)b->data : "", 1, b->len, f) == b->len;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void hash_progress(void *ctx, int64_t done, int64_t total)
{
    int *last = ctx;
    int pct = total ? (int)(done * 100 / total) : 100;
    if (pct / 5 != *last / 5 || done == total) {
        fprintf(stderr, "\rkavtrace: hashing the media: %3d%%%s", pct, done == total ? "\n" : "");
        *last = pct;
    }
}

static void progress(void *ctx, const char *what)
{
    const char *path = ctx;
    fprintf(stderr, "kavtrace: %s: %s\n", path, what);
}

static const char *tri(kt_tri v)
{
    return v == KT_TRUE ? "true" : v == KT_FALSE ? "false" : "null";
}

static void summary(FILE *out, const kt_scan *s, const char *outdir)
{
    fprintf(out, "%s: %zu system%s, %zu events, %zu warnings\n", s->inv.path, s->nsystems,
            s->nsystems == 1 ? "" : "s", s->tl.count, s->warnings.count);
    for (size_t i = 0; i < s->nsystems; i++) {
        const kt_scan_system *ss = &s->systems[i];
        fprintf(out, "  volume %d (%s): %s %s%s%s%s%s\n", ss->volume->index, ss->fs,
                kt_os_name(ss->sys.os), ss->sys.os_name, ss->sys.hostname[0] ? ", host " : "",
                ss->sys.hostname, ss->zone[0] || ss->sys.timezone[0] ? ", zone " : "",
                ss->zone[0] ? ss->zone : ss->sys.timezone);
        const kt_system_finding *f = &ss->findings;
        for (size_t p = 0; p < f->nproducts; p++) {
            const kt_product_finding *pf = &f->products[p];
            char a[KT_TIME_ISO_MAX], b[KT_TIME_ISO_MAX], c[KT_TIME_ISO_MAX];
            fprintf(out, "    %s%s%s: %s; installed %s; last signature update %s", pf->name,
                    pf->version[0] ? " " : "", pf->version, kt_status_name(pf->status),
                    kt_time_format_iso(pf->installed, a),
                    kt_time_format_iso(pf->last_signature_update, b));
            if (pf->last_codebase_update != KT_TIME_NONE)
                fprintf(out, "; codebase update %s",
                        kt_time_format_iso(pf->last_codebase_update, c));
            if (pf->ksn != KT_KSN_UNKNOWN)
                fprintf(out, "; KSN %s", kt_ksn_name(pf->ksn));
            if (pf->last_execution != KT_TIME_NONE)
                fprintf(out, "; last at work %s", kt_time_format_iso(pf->last_execution, c));
            if (pf->removed != KT_TIME_NONE)
                fprintf(out, "; removed %s (%s)", kt_time_format_iso(pf->removed, c),
                        kt_removal_name(pf->removal_method) ? kt_removal_name(pf->removal_method)
                                                            : "unknown");
            fputc('\n', out);
        }
        if (f->migrated) {
            char t[KT_TIME_ISO_MAX];
            fprintf(out, "    migrated to %s at %s\n", f->migration_to,
                    kt_time_format_iso(f->migration_time, t));
        }
        fprintf(out, "    verdicts:");
        for (int v = 0; v < KT_V_COUNT; v++)
            fprintf(out, "%s %s=%s", v ? "," : "", kt_verdict_name((kt_verdict)v),
                    tri(f->verdicts[v]));
        fputc('\n', out);
    }
    fprintf(out, "  written to %s/\n", outdir);
}

static int log_file(const kt_scan *s, const char *outdir, const char *error)
{
    kt_buf b = {0};
    int rc = kt_scan_log(&b, s, error) == KT_OK ? write_file(outdir, KT_SCAN_LOG_FILE, &b) : -1;
    kt_buf_release(&b);
    return rc;
}

/* OUTDIR for one item: OUTDIR itself, or OUTDIR/<evidence name>. */
static void item_dir(const opts *o, const char *path, bool several, char *out, size_t len)
{
    if (!several) {
        kt_strlcpy(out, o->outdir, len);
        return;
    }
    char copy[4096];
    kt_strlcpy(copy, path, sizeof copy);
    size_t n = strlen(copy);
    while (n > 1 && copy[n - 1] == '/')
        copy[--n] = '\0';
    snprintf(out, len, "%s/%s", o->outdir, basename(copy));
}

/* Output inside a directory given as evidence would change the evidence. */
static bool inside(const char *dir, const char *evidence)
{
    char a[4096], b[4096];
    struct stat st;
    if (stat(evidence, &st) != 0 || !S_ISDIR(st.st_mode) || realpath(evidence, b) == NULL)
        return false;
    if (realpath(dir, a) == NULL) {
        /* Not there yet: judge by its parent. */
        char copy[4096];
        kt_strlcpy(copy, dir, sizeof copy);
        if (realpath(dirname(copy), a) == NULL)
            return false;
    }
    size_t n = strlen(b);
    return strncmp(a, b, n) == 0 && (a[n] == '/' || a[n] == '\0');
}

static int scan_one(const opts *o, const kt_artifact_set *set, const char *path, bool several)
{
    char dir[4096];
    item_dir(o, path, several, dir, sizeof dir);
    if (inside(dir, path)) {
        fprintf(stderr, "kavtrace: scan: output '%s' would be inside the evidence '%s'\n", dir,
                path);
        return KT_EXIT_ERROR;
    }
    kt_scan s = {0};
    kt_error err = {0};
    bool tty = isatty(STDERR_FILENO) && !o->quiet;
    int rc = kt_scan_run(set, path, &s, tty ? progress : NULL, (void *)path, &err);
    if (mkdirs(dir) != 0) {
        fprintf(stderr, "kavtrace: scan: cannot create '%s': %s\n", dir, strerror(errno));
        kt_scan_release(&s);
        return KT_EXIT_ERROR;
    }
    int status = KT_EXIT_OK;
    int last = -1;
    if (rc == KT_OK && o->hash)
        rc = kt_inventory_hash(&s.inv, tty ? hash_progress : NULL, &last, &err);
    if (rc) {
        fprintf(stderr, "kavtrace: %s\n", err.msg);
        log_file(&s, dir, err.msg);
        kt_scan_release(&s);
        return KT_EXIT_ERROR;
    }
    for (size_t w = 0; w < kt_nwriters; w++) {
        if (!o->formats[w])
            continue;
        kt_buf b = {0};
        if (kt_writers[w]->write(&b, &s, set) != KT_OK ||
            write_file(dir, kt_writers[w]->file, &b) != 0) {
            fprintf(stderr, "kavtrace: scan: cannot write '%s/%s': %s\n", dir, kt_writers[w]->file,
                    strerror(errno));
            status = KT_EXIT_ERROR;
        }
        kt_buf_release(&b);
    }
    if (log_file(&s, dir, NULL) != 0) {
        fprintf(stderr, "kavtrace: scan: cannot write '%s/%s'\n", dir, KT_SCAN_LOG_FILE);
        status = KT_EXIT_ERROR;
    }
    if (!o->quiet)
        summary(stdout, &s, dir);
    for (size_t i = 0; i < s.warnings.count && !o->quiet; i++) {
        char text[4096];
        fprintf(stderr, "kavtrace: %s: %s: %s\n", kt_severity_name(s.warnings.items[i].severity),
                path, kt_diag_text(&s.warnings.items[i], text, sizeof text));
    }
    kt_scan_release(&s);
    return status;
}

static int parse_formats(opts *o, const char *list)
{
    memset(o->formats, 0, sizeof o->formats);
    char copy[256];
    kt_strlcpy(copy, list, sizeof copy);
    for (char *p = copy; *p;) {
        size_t n = strcspn(p, ",");
        char name[32];
        if (n == 0 || n >= sizeof name)
            return -1;
        memcpy(name, p, n);
        name[n] = '\0';
        const kt_writer *w = kt_writer_find(name);
        if (w == NULL)
            return -1;
        for (size_t i = 0; i < kt_nwriters; i++)
            if (kt_writers[i] == w)
                o->formats[i] = true;
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

static void help(void)
{
    kt_cli_print_usage(stdout, &kt_cmd_scan);
    printf("\n%s\n\n"
           "  -o, --output DIR     where to write (default ./kavtrace-out; with several\n"
           "                       evidence items, DIR/<evidence name>/ each)\n"
           "  -f, --format LIST    comma-separated, default json,csv,jsonl:\n",
           kt_cmd_scan.summary);
    for (size_t i = 0; i < kt_nwriters; i++)
        printf("                         %-6s %s: %s\n", kt_writers[i]->name, kt_writers[i]->file,
               kt_writers[i]->summary);
    printf("  -a, --artifacts DIR  artifact definitions (default $KAVTRACE_ARTIFACTS or the\n"
           "                       built-in set)\n"
           "      --hash           read the whole media: SHA-256 and MD5 in findings.json,\n"
           "                       and the EWF stored MD5 checked against it\n"
           "  -q, --quiet          no summary, no progress\n"
           "scan.log (every warning) is always written.\n");
}

static int run(int argc, char **argv)
{
    opts o = {.outdir = "kavtrace-out"};
    for (size_t i = 0; i < kt_nwriters; i++)
        o.formats[i] = true;
    static const struct option lopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},
        {"artifacts", required_argument, NULL, 'a'},
        {"quiet", no_argument, NULL, 'q'},
        {"hash", no_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+o:f:a:qh", lopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            o.outdir = optarg;
            break;
        case 'f':
            if (parse_formats(&o, optarg) != 0)
                return kt_cli_usage_error(&kt_cmd_scan, "unknown format in '%s' (json, csv, jsonl)",
                                          optarg);
            break;
        case 'a':
            o.artifacts = optarg;
            break;
        case 'q':
            o.quiet = true;
            break;
        case 'H':
            o.hash = true;
            break;
        case 'h':
            help();
            return KT_EXIT_OK;
        default:
            return kt_cli_usage_error(&kt_cmd_scan, "unknown option or missing value '%s'",
                                      argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return kt_cli_usage_error(&kt_cmd_scan, "no evidence given");
    kt_artifact_set set = {0};
    if (kt_cli_load_artifacts("scan", kt_cli_artifacts_dir(o.artifacts), &set) != 0) {
        kt_artifact_set_release(&set);
        return KT_EXIT_ERROR;
    }
    int status = KT_EXIT_OK;
    bool several = argc - optind > 1;
    for (int i = optind; i < argc; i++)
        if (scan_one(&o, &set, argv[i], several) != KT_EXIT_OK)
            status = KT_EXIT_ERROR;
    kt_artifact_set_release(&set);
    if (fflush(stdout) != 0)
        status = KT_EXIT_ERROR;
    return status;
}

const kt_command kt_cmd_scan = {
    .name = "scan",
    .summary = "find every Kaspersky trace, build the timeline and the findings",
    .usage = "[-o OUTDIR] [-f json,csv,jsonl] [-a ARTIFACTS_DIR] [--hash] [-q] EVIDENCE...",
    .run = run,
};
