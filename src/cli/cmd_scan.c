/* kavtrace scan: the main job. For each evidence item: findings.json,
 * timeline.csv, timeline.jsonl, scan.log and manifest.json in a folder of
 * its own (kavtrace/output.h: written whole or left visibly partial), and
 * a short summary of the verdicts on stdout. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "kavtrace/case.h"
#include "kavtrace/helper.h"
#include "kavtrace/output.h"
#include "kavtrace/provenance.h"
#include "kavtrace/scan.h"
#include "kavtrace/writers.h"
#include "options.h"

/* An item's folder name at most this long: with ".NAME.partial-RUNID"
 * beside it, under the 255 bytes a name may have. */
#define KT_ITEM_NAME_MAX 200

/* --as-of instants at most (with the milestones', under KT_STATE_AT_MAX). */
#define KT_AS_OF_MAX 32

typedef struct opts {
    const char *outdir;
    const char *artifacts;
    bool formats[8];
    bool quiet;
    bool hash;
    bool no_vss;
    bool deep; /* read every PE under the program folders */
    kt_helper_limits helpers;
    kt_time as_of[KT_AS_OF_MAX];
    size_t nas_of;
    kt_provenance prov; /* the command line, redacted, and the host */
    /* --password, --key-file and --recovery-password as given (borrowed
     * from argv), read into keys once the command line is checked. */
    const char *key_args[KT_KEYS_MAX];
    kt_key_kind key_kind[KT_KEYS_MAX];
    size_t nkey_args;
    kt_keys keys;
} opts;

/* One evidence item of the run and the folder its outputs go to. */
typedef struct item {
    const char *path;                 /* as given */
    char final[KT_OUTDIR_PATH_MAX];   /* its folder, resolved */
    char name[KT_ITEM_NAME_MAX + 16]; /* with several items: final's name inside OUTDIR */
    bool planned;                     /* its place checked; false: refused, said why */
    kt_evidence_stamp stamp;          /* its files as stored, before the scan */
    bool stamped;
} item;

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
    kt_strlist hold = {0};
    fprintf(stderr, "kavtrace: %s: %s\n", kt_cli_text(&hold, ctx), kt_cli_text(&hold, what));
    kt_strlist_release(&hold);
}

static const char *tri(kt_tri v)
{
    return v == KT_TRUE ? "true" : v == KT_FALSE ? "false" : "null";
}

/* One piece of the summary; after a failure the rest are skipped. */
static void say(kt_buf *b, int *rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(kt_buf *b, int *rc, const char *fmt, ...)
{
    if (*rc)
        return;
    va_list ap;
    va_start(ap, fmt);
    *rc = kt_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

/* The verdicts in short, every text from the evidence escaped. where: the
 * folder the outputs are in, complete or not. */
static int summary(kt_buf *b, const kt_scan *s, const char *where, bool complete)
{
    kt_strlist hold = {0};
#define T(x) kt_cli_text(&hold, (x))
    int rc = KT_OK;
    /* Notes (how something was read) apart from warnings (what was not). */
    size_t notes = 0;
    for (size_t i = 0; i < s->warnings.count; i++)
        notes += s->warnings.items[i].severity == KT_SEV_NOTE;
    say(b, &rc, "%s: %zu system%s, %zu events, %zu warnings", T(s->inv.path), s->nsystems,
        s->nsystems == 1 ? "" : "s", s->tl.count, s->warnings.count - notes);
    if (notes)
        say(b, &rc, ", %zu note%s", notes, notes == 1 ? "" : "s");
    say(b, &rc, "\n");
    for (size_t i = 0; i < s->nsystems; i++) {
        const kt_scan_system *ss = &s->systems[i];
        say(b, &rc, "  volume %d (%s): %s %s%s%s%s%s\n", ss->volume->index, T(ss->fs),
            kt_os_name(ss->sys.os), T(ss->sys.os_name), ss->sys.hostname[0] ? ", host " : "",
            T(ss->sys.hostname), ss->zone[0] || ss->sys.timezone[0] ? ", zone " : "",
            T(ss->zone[0] ? ss->zone : ss->sys.timezone));
        const kt_system_finding *f = &ss->findings;
        for (size_t p = 0; p < f->nproducts; p++) {
            const kt_product_finding *pf = &f->products[p];
            char a[KT_TIME_ISO_MAX], c[KT_TIME_ISO_MAX];
            say(b, &rc, "    %s%s%s: %s; installed %s; last signature update %s", T(pf->name),
                pf->version[0] ? " " : "", T(pf->version), kt_status_name(pf->status),
                kt_time_format_iso(pf->installed, a),
                kt_time_format_iso(pf->last_signature_update, c));
            if (pf->last_codebase_update != KT_TIME_NONE)
                say(b, &rc, "; codebase update %s",
                    kt_time_format_iso(pf->last_codebase_update, c));
            if (pf->ksn != KT_KSN_UNKNOWN)
                say(b, &rc, "; KSN %s", kt_ksn_name(pf->ksn));
            if (pf->last_execution != KT_TIME_NONE)
                say(b, &rc, "; last at work %s", kt_time_format_iso(pf->last_execution, c));
            if (pf->removed != KT_TIME_NONE)
                say(b, &rc, "; removed %s (%s)", kt_time_format_iso(pf->removed, c),
                    kt_removal_name(pf->removal_method) ? kt_removal_name(pf->removal_method)
                                                        : "unknown");
            say(b, &rc, "\n");
        }
        if (f->migrated) {
            char t[KT_TIME_ISO_MAX];
            say(b, &rc, "    migrated to %s at %s\n", T(f->migration_to),
                kt_time_format_iso(f->migration_time, t));
        }
        for (size_t k = 0; k < f->nstates; k++) {
            const kt_state_at *st = &f->states[k];
            if (strcmp(st->milestone, KT_MILESTONE_CUTOFF) != 0)
                continue;
            char t[KT_TIME_ISO_MAX];
            say(b, &rc, "    at the cutoff (%s):", kt_time_format_iso(st->time, t));
            for (size_t p = 0; p < st->nproducts; p++) {
                const kt_product_state *ps = &st->products[p];
                say(b, &rc, "%s %s %s", p ? ";" : "", T(ps->id),
                    ps->installed == KT_TRUE    ? "installed"
                    : ps->installed == KT_FALSE ? "not installed"
                                                : "installed unknown");
                if (ps->version[0])
                    say(b, &rc, " %s", T(ps->version));
                if (ps->last_signature_update != KT_TIME_NONE)
                    say(b, &rc, ", signatures of %s",
                        kt_time_format_iso(ps->last_signature_update, t));
                if (ps->ksn_applies && ps->ksn != KT_KSN_UNKNOWN)
                    say(b, &rc, ", KSN %s", kt_ksn_name(ps->ksn));
            }
            say(b, &rc, "%s\n", st->nproducts ? "" : " no products");
        }
        /* Kaspersky code inside other products; bases updated at or after
         * the cutoff are named. */
        for (size_t k = 0; k < f->nintegrations; k++) {
            const kt_integration *g = &f->integrations[k];
            char t[KT_TIME_ISO_MAX];
            say(b, &rc, "    Kaspersky code inside %s%s%s%s: %s", T(g->host),
                g->folder[0] ? " (" : "", g->folder[0] ? T(g->folder) : "", g->folder[0] ? ")" : "",
                g->components.count ? T(g->components.items[0]) : "component unknown");
            if (g->nowners == 1)
                say(b, &rc, "; host product %s%s%s%s%s", T(g->owners[0].display_name),
                    g->owners[0].version[0] ? " " : "", T(g->owners[0].version),
                    g->owners[0].publisher[0] ? " by " : "", T(g->owners[0].publisher));
            if (g->last_bases_update != KT_TIME_NONE)
                say(b, &rc, "; bases of %s%s", kt_time_format_iso(g->last_bases_update, t),
                    g->bases_after_cutoff ? ", updated at or after the cutoff" : "");
            say(b, &rc, "\n");
        }
        for (size_t k = 0; k < f->ntools; k++)
            say(b, &rc, "    Kaspersky tool bundled by a third party: %s (%s)\n",
                T(f->tools[k].name), T(f->tools[k].path));
        say(b, &rc, "    verdicts:");
        for (int v = 0; v < KT_V_COUNT; v++)
            say(b, &rc, "%s %s=%s", v ? "," : "", kt_verdict_name((kt_verdict)v),
                tri(f->verdicts[v]));
        say(b, &rc, "\n");
    }
    say(b, &rc, complete ? "  written to %s/ (run %s)\n" : "  left incomplete in %s/ (run %s)\n",
        T(where), s->run_id);
#undef T
    kt_strlist_release(&hold);
    return rc;
}

/* An item's folder name inside OUTDIR: the evidence's own name; '.',
 * '..' or '/' name no folder, so then the name of what they are. */
static void item_name(const char *path, char *out, size_t len)
{
    char copy[PATH_MAX], real[PATH_MAX];
    kt_strlcpy(copy, path, sizeof copy);
    size_t n = strlen(copy);
    while (n > 1 && copy[n - 1] == '/')
        copy[--n] = '\0';
    const char *slash = strrchr(copy, '/');
    const char *base = slash ? slash + 1 : copy;
    bool usable = base[0] && strcmp(base, ".") != 0 && strcmp(base, "..") != 0;
    if (!usable && realpath(path, real) != NULL) {
        base = strrchr(real, '/') + 1;
        usable = base[0] != '\0';
    }
    /* Short enough for the partial folder's name beside it. */
    snprintf(out, len, "%.*s", KT_ITEM_NAME_MAX, usable ? base : "evidence");
}

/* Where an item's outputs go, checked before anything is read: never
 * into a directory given as evidence, never replacing one holding it or
 * holding what kavtrace did not write. 0, or -1 when refused (said). */
static int plan(item *it, const char *outdir, bool several, kt_strlist *names)
{
    kt_strlist hold = {0};
#define T(x) kt_cli_text(&hold, (x))
    int rc = 0;
    if (several) {
        char base[KT_ITEM_NAME_MAX + 1];
        item_name(it->path, base, sizeof base);
        /* Unique in the run: two disk.raw from two folders are disk.raw
         * and disk.raw-2. */
        kt_strlcpy(it->name, base, sizeof it->name);
        for (int k = 2;; k++) {
            bool taken = false;
            for (size_t i = 0; i < names->count && !taken; i++)
                taken = strcmp(names->items[i], it->name) == 0;
            if (!taken)
                break;
            snprintf(it->name, sizeof it->name, "%s-%d", base, k);
        }
        if (kt_strlist_add(names, it->name) != 0) {
            fprintf(stderr, "kavtrace: scan: out of memory\n");
            rc = -1;
        }
        int n = snprintf(it->final, sizeof it->final, "%s%s%s", outdir,
                         strcmp(outdir, "/") ? "/" : "", it->name);
        if (rc == 0 && (n < 0 || (size_t)n >= sizeof it->final)) {
            fprintf(stderr, "kavtrace: scan: output '%s/%s': path too long\n", T(outdir),
                    T(it->name));
            rc = -1;
        }
    } else {
        kt_strlcpy(it->final, outdir, sizeof it->final);
    }
    char ev[PATH_MAX];
    struct stat st;
    kt_error err = {0};
    if (rc == 0 && realpath(it->path, ev) != NULL) {
        if (stat(ev, &st) == 0 && S_ISDIR(st.st_mode) && kt_cli_path_within(it->final, ev)) {
            fprintf(stderr, "kavtrace: scan: output '%s' would be inside the evidence '%s'\n",
                    T(it->final), T(it->path));
            rc = -1;
        } else if (kt_cli_path_within(ev, it->final)) {
            fprintf(stderr, "kavtrace: scan: output '%s' holds the evidence '%s'\n", T(it->final),
                    T(it->path));
            rc = -1;
        }
    }
    /* Replacing the folder the user stands in would leave them in a
     * deleted one. */
    char cwd[PATH_MAX];
    if (rc == 0 && getcwd(cwd, sizeof cwd) != NULL && kt_cli_path_within(cwd, it->final)) {
        fprintf(stderr, "kavtrace: scan: output '%s' holds the current directory\n", T(it->final));
        rc = -1;
    }
    if (rc == 0 && kt_outdir_check(it->final, &err) != KT_OK) {
        fprintf(stderr,
                "kavtrace: scan: output '%s' %s: give a new or empty directory, or one kavtrace "
                "wrote\n",
                T(it->final), T(err.msg));
        rc = -1;
    }
#undef T
    kt_strlist_release(&hold);
    return rc;
}

/* Render each format asked for (formats: NULL for none) into the partial
 * folder, then scan.log with whatever failed. Returns how many outputs
 * failed. */
static size_t write_outputs(const bool *formats, const kt_artifact_set *set, kt_scan *s,
                            kt_outdir *od, kt_strlist *errors)
{
    kt_strlist hold = {0};
    size_t failed = 0;
    for (size_t w = 0; w <= kt_nwriters; w++) {
        bool log = w == kt_nwriters;
        if (!log && !(formats && formats[w]))
            continue;
        const char *file = log ? KT_SCAN_LOG_FILE : kt_writers[w]->file;
        kt_buf b = {0};
        kt_error err = {0};
        int rc = log ? kt_scan_log(&b, s, errors) : kt_writers[w]->write(&b, s, set);
        if (rc)
            kt_error_set(&err, rc, "cannot write '%s': %s", file, kt_error_name(rc));
        else
            rc = kt_outdir_write(od, file, &b, &err);
        kt_buf_release(&b);
        if (rc == KT_OK)
            continue;
        fprintf(stderr, "kavtrace: scan: '%s': %s\n", kt_cli_text(&hold, od->partial),
                kt_cli_text(&hold, err.msg));
        failed++;
        /* For the log, written last: what it could not hold. */
        if (!log && kt_strlist_add(errors, err.msg) != 0)
            failed++;
    }
    /* run.json after the log, so it holds every output's digest but the
     * manifest's. */
    if (formats) {
        kt_buf b = {0};
        kt_error err = {0};
        int rc = kt_run_json(&b, s, set, od->files, od->nfiles);
        if (rc)
            kt_error_set(&err, rc, "cannot write '%s': %s", KT_RUN_JSON_FILE, kt_error_name(rc));
        else
            rc = kt_outdir_write(od, KT_RUN_JSON_FILE, &b, &err);
        kt_buf_release(&b);
        if (rc) {
            fprintf(stderr, "kavtrace: scan: '%s': %s\n", kt_cli_text(&hold, od->partial),
                    kt_cli_text(&hold, err.msg));
            failed++;
        }
    }
    kt_strlist_release(&hold);
    return failed;
}

static int scan_one(const opts *o, const kt_artifact_set *set, const item *it, const char *run_id,
                    const char *defs_sha256)
{
    kt_strlist hold = {0};
#define T(x) kt_cli_text(&hold, (x))
    /* The folder first: a place that cannot be written fails before the
     * evidence is read. */
    kt_outdir od;
    kt_error err = {0};
    if (kt_outdir_begin(&od, it->final, run_id, &err) != KT_OK) {
        fprintf(stderr, "kavtrace: scan: %s\n", T(err.msg));
        kt_strlist_release(&hold);
        return KT_EXIT_ERROR;
    }
    kt_scan s = {.inventory_flags = o->no_vss ? KT_INVENTORY_NO_VSS : 0,
                 .collect_flags = o->deep ? KT_COLLECT_DEEP : 0,
                 .keys = &o->keys};
    bool tty = isatty(STDERR_FILENO) && !o->quiet;
    int rc = kt_scan_run(set, it->path, &s, tty ? progress : NULL, (void *)it->path, &err);
    kt_strlcpy(s.run_id, run_id, sizeof s.run_id);
    s.prov = &o->prov;
    int last = -1;
    if (rc == KT_OK && o->hash)
        rc = kt_scan_hash(&s, tty ? hash_progress : NULL, &last, &err);
    for (size_t i = 0; rc == KT_OK && i < s.nsystems; i++)
        for (size_t k = 0; rc == KT_OK && k < o->nas_of; k++)
            rc = kt_findings_state_at(&s.tl, o->as_of[k], NULL, &s.systems[i].findings, &err);
    if (rc == KT_OK)
        rc = kt_scan_evidence_files(&s, o->hash, &err);
    kt_strlist errors = {0};
    bool failed = false;
    if (rc) {
        fprintf(stderr, "kavtrace: %s\n", T(err.msg));
        failed = true;
        if (kt_strlist_add(&errors, err.msg) != 0)
            fprintf(stderr, "kavtrace: scan: out of memory\n");
    }
    /* A scan that failed still has its log, with the error. */
    if (write_outputs(rc == KT_OK ? o->formats : NULL, set, &s, &od, &errors) > 0)
        failed = true;
    int status = failed ? KT_EXIT_ERROR : KT_EXIT_OK;
    if (!failed) {
        const kt_image_info *ii = s.inv.img ? kt_image_get_info(s.inv.img) : NULL;
        kt_manifest_info mi = {
            .version = KT_VERSION,
            .evidence = s.inv.path ? s.inv.path : it->path,
            .evidence_size = ii && ii->format != KT_IMG_DIR ? ii->size : -1, /* a tree: none */
        };
        /* Stamped as it was when the scan began (a batch's rerun compares). */
        if (defs_sha256[0] && it->stamped) {
            mi.definitions_sha256 = defs_sha256;
            mi.evidence_files = it->stamp.files;
            mi.evidence_files_bytes = it->stamp.bytes;
            mi.evidence_files_mtime = it->stamp.mtime_ns;
        }
        if (kt_outdir_commit(&od, &mi, &err) != KT_OK) {
            fprintf(stderr, "kavtrace: scan: '%s': %s\n", T(od.partial), T(err.msg));
            failed = true;
            status = KT_EXIT_ERROR;
        } else if (kt_outdir_finish(&od, &err) != KT_OK) {
            /* The outputs are whole and in place; what is left is said. */
            fprintf(stderr, "kavtrace: scan: '%s': %s\n", T(od.final), T(err.msg));
            status = KT_EXIT_ERROR;
        }
    }
    if (failed) {
        char stale[KT_OUTDIR_PATH_MAX];
        if (kt_outdir_abandon(&od, stale, sizeof stale, &err) != KT_OK)
            fprintf(stderr, "kavtrace: scan: %s\n", T(err.msg));
        fprintf(stderr, "kavtrace: scan: %s: outputs left incomplete in '%s'%s%s%s\n", T(it->path),
                T(od.partial), stale[0] ? "; the older ones moved to '" : "", T(stale),
                stale[0] ? "'" : "");
    }
    if (rc == KT_OK && !o->quiet) {
        kt_buf b = {0};
        if (summary(&b, &s, failed ? od.partial : od.final, !failed) != KT_OK)
            fprintf(stderr, "kavtrace: scan: out of memory\n");
        else
            fwrite(b.data, 1, b.len, stdout); /* failures seen by the final fflush */
        kt_buf_release(&b);
    }
    for (size_t i = 0; rc == KT_OK && i < s.warnings.count && !o->quiet; i++) {
        char text[4096];
        fprintf(stderr, "kavtrace: %s: %s: %s\n", kt_severity_name(s.warnings.items[i].severity),
                T(it->path), T(kt_diag_text(&s.warnings.items[i], text, sizeof text)));
    }
#undef T
    kt_strlist_release(&errors);
    kt_strlist_release(&hold);
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

/* "json,csv,...": every format, or those written by default. */
static void format_names(char *out, size_t len, bool by_default)
{
    for (size_t i = 0; i < kt_nwriters; i++)
        if (!by_default || !kt_writers[i]->on_request)
            snprintf(out + strlen(out), len - strlen(out), "%s%s", out[0] ? "," : "",
                     kt_writers[i]->name);
}

static void help(void)
{
    kt_helper_limits dflt;
    kt_helper_limits_default(&dflt);
    kt_cli_print_usage(stdout, &kt_cmd_scan);
    char all[128] = "", dflt_formats[128] = "";
    format_names(all, sizeof all, false);
    format_names(dflt_formats, sizeof dflt_formats, true);
    printf("\n%s\n\n"
           "  -o, --output DIR     where to write (default ./kavtrace-out; with several\n"
           "                       evidence items, DIR/<evidence name>/ each). A folder\n"
           "                       is written aside (.NAME.partial-RUN) and takes its\n"
           "                       name, replacing an older run's, only when whole;\n"
           "                       one kavtrace did not write is never replaced\n"
           "  -f, --format LIST    comma-separated, of %s;\n"
           "                       default %s:\n",
           kt_cmd_scan.summary, all, dflt_formats);
    for (size_t i = 0; i < kt_nwriters; i++)
        printf("                         %-6s %s: %s\n", kt_writers[i]->name, kt_writers[i]->file,
               kt_writers[i]->summary);
    printf("  -a, --artifacts DIR  artifact definitions (default $KAVTRACE_ARTIFACTS or the\n"
           "                       built-in set)\n"
           "      --hash           read the whole media: SHA-256 and MD5 in findings.json,\n"
           "                       and the EWF stored MD5 checked against it\n"
           "      --no-vss         leave NTFS volumes' shadow copies alone (by default\n"
           "                       each store is scanned like the volume itself)\n"
           "      --deep           read every PE under the program folders for a\n"
           "                       Kaspersky signer or version resource (by default only\n"
           "                       the PEs the definitions single out by name)\n"
           "      --helper-timeout SECONDS\n"
           "                       time a helper (kavtrace-evtx, kavtrace-prefetch) gets\n"
           "                       for one file: SECONDS (default %g) plus %g s per MiB;\n"
           "                       kavtrace-vss gets SECONDS for each read of a store\n"
           "      --helper-memory MIB\n"
           "                       a helper's address space: MIB (default %llu; 0: no\n"
           "                       limit) plus %d bytes per byte of the file\n"
           "      --as-of TIME     also give each system's state (state_at in\n"
           "                       findings.json) at TIME, UTC: YYYY-MM-DD (midnight) or\n"
           "                       YYYY-MM-DDTHH:MM:SS[.fraction]Z; up to %d times; the\n"
           "                       state at sales_ban, vendor_cutoff and cutoff is always\n"
           "                       given\n"
           "      --password P     a passphrase for an encrypted volume (LUKS1, or a\n"
           "                       BitLocker user password); repeatable, each key tried\n"
           "                       on every encrypted volume\n"
           "      --key-file F     a key file (its bytes as they are, as cryptsetup\n"
           "                       --key-file; on BitLocker, a file holding a recovery\n"
           "                       password); repeatable\n"
           "      --recovery-password R\n"
           "                       a BitLocker recovery password (48 digits with dashes);\n"
           "                       repeatable. No key appears in any output\n"
           "  -q, --quiet          no summary, no progress\n"
           "scan.log (every warning) is always written, then run.json (what ran on what,\n"
           "each output's SHA-256), manifest.json (each file's size and SHA-256) last.\n",
           KT_HELPER_TIMEOUT, KT_HELPER_TIMEOUT_PER_MIB, (unsigned long long)(dflt.memory >> 20),
           KT_HELPER_MEMORY_PER_BYTE, KT_AS_OF_MAX);
}

/* --helper-timeout: seconds, more than 0 and at most a day. */
static bool parse_seconds(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0) || v > KT_HELPER_TIMEOUT_MAX)
        return false;
    *out = v;
    return true;
}

/* --helper-memory: whole MiB, 0 for none, at most 16 TiB. */
static bool parse_mib(const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > (1ull << 24))
        return false;
    *out = (uint64_t)v << 20;
    return true;
}

static int run(int argc, char **argv)
{
    opts o = {.outdir = "kavtrace-out"};
    kt_helper_limits_default(&o.helpers);
    for (size_t i = 0; i < kt_nwriters; i++)
        o.formats[i] = !kt_writers[i]->on_request;
    static const struct option lopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},
        {"artifacts", required_argument, NULL, 'a'},
        {"quiet", no_argument, NULL, 'q'},
        {"hash", no_argument, NULL, 'H'},
        {"no-vss", no_argument, NULL, 'V'},
        {"deep", no_argument, NULL, 'D'},
        {"helper-timeout", required_argument, NULL, 'T'},
        {"helper-memory", required_argument, NULL, 'M'},
        {"as-of", required_argument, NULL, 'A'},
        {"password", required_argument, NULL, 'P'},
        {"key-file", required_argument, NULL, 'K'},
        {"recovery-password", required_argument, NULL, 'R'},
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
            if (parse_formats(&o, optarg) != 0) {
                char all[128] = "";
                format_names(all, sizeof all, false);
                return kt_cli_usage_error(&kt_cmd_scan, "unknown format in '%s' (%s)", optarg, all);
            }
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
        case 'V':
            o.no_vss = true;
            break;
        case 'D':
            o.deep = true;
            break;
        case 'T':
            if (!parse_seconds(optarg, &o.helpers.timeout))
                return kt_cli_usage_error(&kt_cmd_scan,
                                          "--helper-timeout wants seconds, more than 0 and at "
                                          "most %g, not '%s'",
                                          KT_HELPER_TIMEOUT_MAX, optarg);
            break;
        case 'M':
            if (!parse_mib(optarg, &o.helpers.memory))
                return kt_cli_usage_error(&kt_cmd_scan,
                                          "--helper-memory wants whole MiB (0: no limit), not "
                                          "'%s'",
                                          optarg);
            break;
        case 'A':
            if (o.nas_of >= KT_AS_OF_MAX)
                return kt_cli_usage_error(&kt_cmd_scan, "--as-of given more than %d times",
                                          KT_AS_OF_MAX);
            if (kt_time_parse_iso(optarg, &o.as_of[o.nas_of]) != KT_OK)
                return kt_cli_usage_error(&kt_cmd_scan,
                                          "--as-of wants a UTC time, YYYY-MM-DD or "
                                          "YYYY-MM-DDTHH:MM:SS[.fraction]Z, not '%s'",
                                          optarg);
            o.nas_of++;
            break;
        case 'P':
        case 'K':
        case 'R':
            if (o.nkey_args >= KT_KEYS_MAX)
                return kt_cli_usage_error(&kt_cmd_scan, "more than %d keys given", KT_KEYS_MAX);
            o.key_kind[o.nkey_args] = c == 'K'   ? KT_KEY_FILE
                                      : c == 'R' ? KT_KEY_RECOVERY
                                                 : KT_KEY_PASSWORD;
            o.key_args[o.nkey_args++] = optarg;
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
    kt_strlist hold = {0};
    kt_error err = {0};
    char run_id[KT_RUN_ID_MAX], outdir[KT_OUTDIR_PATH_MAX];
    struct stat st;
    if (kt_run_id_new(run_id, &err) != KT_OK) {
        fprintf(stderr, "kavtrace: scan: %s\n", err.msg);
        return KT_EXIT_ERROR;
    }
    if (kt_cli_resolve_path(o.outdir, outdir, sizeof outdir) != 0) {
        fprintf(stderr, "kavtrace: scan: output '%s': %s\n", kt_cli_text(&hold, o.outdir),
                strerror(errno));
        kt_strlist_release(&hold);
        return KT_EXIT_ERROR;
    }
    if (stat(outdir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "kavtrace: scan: output '%s' exists and is not a directory\n",
                kt_cli_text(&hold, o.outdir));
        kt_strlist_release(&hold);
        return KT_EXIT_ERROR;
    }
    kt_strlist_release(&hold);
    kt_helper_limits_set(&o.helpers);
    /* The command line as run, its secrets redacted: "kavtrace scan ...". */
    const char **args = calloc((size_t)argc + 1, sizeof *args);
    if (args == NULL) {
        fprintf(stderr, "kavtrace: scan: out of memory\n");
        return KT_EXIT_ERROR;
    }
    args[0] = "kavtrace";
    for (int i = 0; i < argc; i++)
        args[i + 1] = argv[i];
    int prc =
        kt_provenance_init(&o.prov, args, (size_t)argc + 1, kt_cli_artifacts_dir(o.artifacts));
    free(args);
    if (prc != KT_OK) {
        kt_provenance_release(&o.prov);
        fprintf(stderr, "kavtrace: scan: out of memory\n");
        return KT_EXIT_ERROR;
    }
    kt_artifact_set set = {0};
    if (kt_cli_load_artifacts("scan", kt_cli_artifacts_dir(o.artifacts), &set) != 0) {
        kt_artifact_set_release(&set);
        kt_provenance_release(&o.prov);
        return KT_EXIT_ERROR;
    }
    for (size_t i = 0; i < o.nkey_args; i++) {
        if (kt_cli_add_key("scan", o.key_kind[i], o.key_args[i], &o.keys) != 0) {
            kt_keys_release(&o.keys);
            kt_artifact_set_release(&set);
            kt_provenance_release(&o.prov);
            return KT_EXIT_USAGE;
        }
    }
    int status = KT_EXIT_OK;
    size_t n = (size_t)(argc - optind);
    item *items = calloc(n, sizeof *items);
    kt_strlist names = {0};
    if (items == NULL) {
        fprintf(stderr, "kavtrace: scan: out of memory\n");
        status = KT_EXIT_ERROR;
        n = 0;
    }
    /* Every item's place first, then the scans: a bad place fails its
     * item alone, before anything is read. */
    for (size_t i = 0; i < n; i++) {
        items[i].path = argv[optind + (int)i];
        items[i].planned = plan(&items[i], outdir, n > 1, &names) == 0;
        if (!items[i].planned)
            status = KT_EXIT_ERROR;
    }
    /* The definitions' hash, for the manifest (a batch's rerun compares). */
    char defs_sha256[65] = "";
    kt_error herr = {0};
    if (n && kt_definitions_hash(kt_cli_artifacts_dir(o.artifacts), defs_sha256, &herr) != KT_OK)
        defs_sha256[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!items[i].planned)
            continue;
        items[i].stamped = kt_evidence_stamp_get(items[i].path, &items[i].stamp, &herr) == KT_OK;
        if (scan_one(&o, &set, &items[i], run_id, defs_sha256) != KT_EXIT_OK)
            status = KT_EXIT_ERROR;
    }
    free(items);
    kt_keys_release(&o.keys);
    kt_strlist_release(&names);
    kt_artifact_set_release(&set);
    kt_provenance_release(&o.prov);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "kavtrace: scan: cannot write the summary: %s\n", strerror(errno));
        status = KT_EXIT_ERROR;
    }
    return status;
}

const kt_command kt_cmd_scan = {
    .name = "scan",
    .summary = "find every Kaspersky trace, build the timeline and the findings",
    .usage = "[-o OUTDIR] [-f FORMATS] [-a ARTIFACTS_DIR] [--hash] [--no-vss] [--deep] [--as-of "
             "TIME]... [--password P]... [--key-file F]... [--recovery-password R]... [-q] "
             "EVIDENCE...",
    .run = run,
};
