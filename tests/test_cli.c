/* The command line as a user runs it: golden outputs, exit codes, error
 * messages, and proof that evidence is never opened for writing. */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

/* Replace the evidence directory with @EVIDENCE@ and hex digests (32 or
 * 40 hex digits: they change with mkntfs's random bytes) with @HASH@. */
static void normalise(const kt_buf *in, kt_buf *out)
{
    const char *dir = evidence_dir();
    size_t dlen = strlen(dir);
    const char *s = (const char *)in->data;
    ck_assert(kt_buf_reserve(out, 0) == 0);
    while (*s) {
        if (strncmp(s, dir, dlen) == 0) {
            kt_buf_append(out, "@EVIDENCE@", 10);
            s += dlen;
            continue;
        }
        size_t hex = strspn(s, "0123456789abcdef");
        if ((hex == 32 || hex == 40) &&
            (s == (const char *)in->data || s[-1] == ' ' || s[-1] == '"')) {
            kt_buf_append(out, "@HASH@", 6);
            s += hex;
            continue;
        }
        kt_buf_append(out, s, 1);
        s++;
    }
}

static void golden(const char *args, const char *golden_name, int want_status)
{
    char *cmd = NULL;
    ck_assert(asprintf(&cmd, "cd '%s' && '%s' %s", evidence_dir(), kavtrace_bin(), args) > 0);
    kt_buf out = {0}, norm = {0}, want = {0};
    int status = run_capture(cmd, &out, NULL);
    ck_assert_msg(status == want_status, "'%s' exited %d, want %d", args, status, want_status);
    normalise(&out, &norm);
    char *gpath = path_join(testdata_dir(), golden_name);
    FILE *f = fopen(gpath, "r");
    if (f == NULL || getenv("KT_UPDATE_GOLDEN")) {
        if (f)
            fclose(f);
        ck_assert_msg(getenv("KT_UPDATE_GOLDEN") != NULL, "no golden file %s", gpath);
        f = fopen(gpath, "w");
        ck_assert(f != NULL);
        fwrite(norm.data, 1, norm.len, f);
        fclose(f);
    } else {
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
            kt_buf_append(&want, chunk, n);
        fclose(f);
        kt_buf_reserve(&want, 0);
        ck_assert_msg(norm.len == want.len && memcmp(norm.data, want.data, norm.len) == 0,
                      "'kavtrace %s' differs from %s:\n--- got ---\n%s\n--- want ---\n%s", args,
                      golden_name, (char *)norm.data, (char *)want.data);
    }
    kt_buf_release(&out);
    kt_buf_release(&norm);
    kt_buf_release(&want);
    free(gpath);
    free(cmd);
}

START_TEST(info_prints_container_volumes_and_systems)
{
    golden("info windows.E01", "../tests/golden/info-windows-e01.txt", 0);
    golden("info linux.vhd macos-tree", "../tests/golden/info-linux-macos.txt", 0);
    golden("info --json linux.E01 bare-ntfs.vmdk", "../tests/golden/info-json.txt", 0);
}
END_TEST

static int run(const char *args, kt_buf *out, kt_buf *err)
{
    char *cmd = NULL;
    ck_assert(asprintf(&cmd, "'%s' %s", kavtrace_bin(), args) > 0);
    int status = run_capture(cmd, out, err);
    free(cmd);
    return status;
}

START_TEST(exit_status_and_messages_for_bad_input_and_usage)
{
    kt_buf out = {0}, err = {0};
    ck_assert_int_eq(run("info /nonexistent/disk.E01", &out, &err), 1);
    ck_assert_ptr_nonnull(strstr((char *)err.data,
                                 "kavtrace: evidence '/nonexistent/disk.E01': cannot open: No such "
                                 "file or directory"));
    kt_buf_release(&out);
    kt_buf_release(&err);

    /* One bad item among good ones: the good ones are still reported. */
    char *args = NULL;
    ck_assert(asprintf(&args, "info '%s/corrupt/random.img' '%s/linux.raw'", evidence_dir(),
                       evidence_dir()) > 0);
    ck_assert_int_eq(run(args, &out, &err), 1);
    ck_assert_ptr_nonnull(strstr((char *)err.data, "no partition table or filesystem recognised"));
    ck_assert_ptr_nonnull(strstr((char *)out.data, "Ubuntu 22.04.4 LTS"));
    free(args);
    kt_buf_release(&out);
    kt_buf_release(&err);

    struct {
        const char *args;
        const char *msg;
    } usage[] = {
        {"", "usage: kavtrace COMMAND"},
        {"frobnicate x", "unknown command 'frobnicate'"},
        {"info", "info: no evidence given"},
        {"info --bogus x", "info: unknown option '--bogus'"},
        {"scan --as-of 2024-09-29T04:00:00 x", "--as-of wants a UTC time"},
        {"scan --as-of 2024-13-01 x", "not '2024-13-01'"},
        {"scan --as-of 2024-09-29", "scan: no evidence given"},
    };
    for (size_t i = 0; i < sizeof usage / sizeof usage[0]; i++) {
        ck_assert_int_eq(run(usage[i].args, &out, &err), 2);
        ck_assert_msg(strstr((char *)err.data, usage[i].msg) != NULL, "'%s': stderr '%s'",
                      usage[i].args, (char *)err.data);
        kt_buf_release(&out);
        kt_buf_release(&err);
    }
    ck_assert_int_eq(run("--help", &out, &err), 0);
    ck_assert_ptr_nonnull(strstr((char *)out.data, "info"));
    kt_buf_release(&out);
    kt_buf_release(&err);
    ck_assert_int_eq(run("info --help", &out, &err), 0);
    ck_assert_ptr_nonnull(strstr((char *)out.data, "--json"));
    kt_buf_release(&out);
    kt_buf_release(&err);
}
END_TEST

/* One variant of each damaged region of the corruption campaign
 * (KT_CAMPAIGN_DIR, testdata/build-campaign.py): " 'DIR/ENTRY'" to scan
 * into entries, " 'v/NAME'" (its folder) into folders. */
static size_t campaign_sample(kt_buf *entries, kt_buf *folders)
{
    const char *dir = getenv("KT_CAMPAIGN_DIR");
    ck_assert_msg(dir && *dir, "KT_CAMPAIGN_DIR is not set");
    char *manifest = path_join(dir, "manifest.tsv");
    tsv m;
    tsv_load(&m, manifest);
    kt_buf seen = {0};
    size_t n = 0;
    for (size_t i = 0; i < m.count; i++) {
        tsv_row *r = &m.rows[i];
        ck_assert_int_eq(r->nfields, 5);
        char region[128];
        snprintf(region, sizeof region, "|%s|", r->f[3]);
        if (seen.data && strstr((char *)seen.data, region))
            continue;
        kt_buf_printf(&seen, "%s", region);
        kt_buf_printf(entries, " '%s/%s'", dir, r->f[2]);
        kt_buf_printf(folders, " 'v/%s'", r->f[0]);
        n++;
    }
    kt_buf_release(&seen);
    tsv_free(&m);
    free(manifest);
    return n;
}

START_TEST(evidence_is_never_opened_for_writing_and_stays_byte_identical)
{
    tsv c;
    truth_load(&c, "truth/containers.tsv");
    char log[] = "/tmp/kt-guard-XXXXXX";
    int fd = mkstemp(log);
    ck_assert(fd >= 0);
    close(fd);
    kt_buf files = {0}, out = {0};
    /* Every file of every container, hashed before and after. */
    char *cmd = NULL;
    ck_assert(
        asprintf(&cmd,
                 "cd '%s' && find . -maxdepth 2 -type f ! -name .stamp | sort | xargs sha256sum",
                 evidence_dir()) > 0);
    ck_assert_int_eq(run_capture(cmd, &files, NULL), 0);

    kt_buf args = {0};
    for (size_t i = 0; i < c.count; i++)
        kt_buf_printf(&args, " '%s/%s'", evidence_dir(), c.rows[i].f[1]);
    kt_buf_printf(&args, " '%s/corrupt/truncated.E01' '%s/corrupt/gpt-bad-header.raw'",
                  evidence_dir(), evidence_dir());
    char *guarded = NULL;
    ck_assert(asprintf(&guarded,
                       "KT_GUARD_DIR='%s' KT_GUARD_LOG='%s' LD_PRELOAD='%s' "
                       "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 '%s' info%s "
                       ">/dev/null",
                       evidence_dir(), log, getenv("KT_OPENGUARD"), kavtrace_bin(),
                       (char *)args.data) > 0);
    run_capture(guarded, &out, NULL);
    kt_buf_release(&out);
    /* The main job too, with its outputs elsewhere. */
    free(guarded);
    ck_assert(asprintf(&guarded,
                       "KT_GUARD_DIR='%s' KT_GUARD_LOG='%s' LD_PRELOAD='%s' "
                       "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 '%s' scan -q -o "
                       "/tmp/kt-guard-out.$$%s; rm -rf /tmp/kt-guard-out.$$",
                       evidence_dir(), log, getenv("KT_OPENGUARD"), kavtrace_bin(),
                       (char *)args.data) > 0);
    run_capture(guarded, &out, NULL);
    kt_buf_release(&out);

    /* The damaged variants of the campaign too, one of each region: hashed
     * (every file of the variant's folder, the evidence's own segments it
     * links included), scanned under the guard, hashed again. The campaign
     * test hashes every variant around its scan. */
    kt_buf variants = {0}, folders = {0}, camp = {0}, camp_after = {0};
    size_t nvariants = campaign_sample(&variants, &folders);
    ck_assert_uint_ge(nvariants, 20);
    char *camp_cmd = NULL, clog[] = "/tmp/kt-guard-XXXXXX";
    ck_assert(asprintf(&camp_cmd, "cd '%s' && find%s -type f | LC_ALL=C sort | xargs sha256sum",
                       getenv("KT_CAMPAIGN_DIR"), (char *)folders.data) > 0);
    ck_assert_int_eq(run_capture(camp_cmd, &camp, NULL), 0);
    fd = mkstemp(clog);
    ck_assert(fd >= 0);
    close(fd);
    free(guarded);
    ck_assert(asprintf(&guarded,
                       "KT_GUARD_DIR='%s' KT_GUARD_LOG='%s' LD_PRELOAD='%s' "
                       "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 '%s' scan -q -o "
                       "/tmp/kt-guard-camp.$$%s; rm -rf /tmp/kt-guard-camp.$$ "
                       "/tmp/.kt-guard-camp.$$.partial-*",
                       getenv("KT_CAMPAIGN_DIR"), clog, getenv("KT_OPENGUARD"), kavtrace_bin(),
                       (char *)variants.data) > 0);
    run_capture(guarded, &out, NULL);
    kt_buf_release(&out);
    ck_assert_int_eq(run_capture(camp_cmd, &camp_after, NULL), 0);
    ck_assert_msg(camp.len == camp_after.len && memcmp(camp.data, camp_after.data, camp.len) == 0,
                  "campaign variants changed:\n%s\nvs\n%s", (char *)camp.data,
                  (char *)camp_after.data);
    FILE *cf = fopen(clog, "r");
    ck_assert(cf != NULL);
    char cline[4200];
    size_t creads = 0;
    while (fgets(cline, sizeof cline, cf)) {
        ck_assert_msg(cline[0] != 'W', "campaign variant opened for writing: %s", cline);
        creads++;
    }
    fclose(cf);
    ck_assert_uint_ge(creads, nvariants);
    unlink(clog);
    free(camp_cmd);
    kt_buf_release(&variants);
    kt_buf_release(&folders);
    kt_buf_release(&camp);
    kt_buf_release(&camp_after);

    kt_buf after = {0};
    ck_assert_int_eq(run_capture(cmd, &after, NULL), 0);
    ck_assert_msg(files.len == after.len && memcmp(files.data, after.data, files.len) == 0,
                  "evidence changed:\n%s\nvs\n%s", (char *)files.data, (char *)after.data);

    kt_buf logged = {0};
    FILE *f = fopen(log, "r");
    ck_assert(f != NULL);
    char line[4200];
    size_t reads = 0;
    while (fgets(line, sizeof line, f)) {
        ck_assert_msg(line[0] != 'W', "evidence opened for writing: %s", line);
        reads++;
    }
    fclose(f);
    /* The guard saw the tool open the evidence (so the check is real). */
    ck_assert_uint_ge(reads, c.count);
    unlink(log);
    kt_buf_release(&logged);
    kt_buf_release(&after);
    kt_buf_release(&files);
    kt_buf_release(&args);
    free(guarded);
    free(cmd);
    tsv_free(&c);
}
END_TEST

static bool file_has(const char *path, const char *text)
{
    kt_buf b = {0};
    file_load(path, &b);
    b.data[b.len] = '\0'; /* file_load keeps room for it */
    bool found = strstr((char *)b.data, text) != NULL;
    kt_buf_release(&b);
    return found;
}

static size_t lines_with(const char *path, const char *text)
{
    kt_buf b = {0};
    file_load(path, &b);
    size_t n = 0;
    for (char *line = (char *)b.data; line && *line;) {
        char *end = strchr(line, '\n');
        if (end)
            *end = '\0';
        if (strstr(line, text))
            n++;
        line = end ? end + 1 : NULL;
    }
    kt_buf_release(&b);
    return n;
}

START_TEST(scan_writes_its_outputs_and_refuses_bad_use)
{
    char out[] = "/tmp/kt-scan-XXXXXX";
    ck_assert(mkdtemp(out) != NULL);
    kt_buf o = {0}, e = {0};
    char *args = NULL;
    ck_assert(asprintf(&args, "scan -o '%s/one' '%s/windows.E01'", out, evidence_dir()) > 0);
    ck_assert_int_eq(run(args, &o, &e), 0);
    ck_assert_ptr_nonnull(strstr((char *)o.data, "kaspersky_ever_installed=false"));
    ck_assert_ptr_nonnull(
        strstr((char *)o.data, "at the cutoff (2024-09-29T04:00:00Z): no products"));
    const char *files[] = {"findings.json", "timeline.csv", "timeline.jsonl", "scan.log"};
    for (size_t i = 0; i < 4; i++) {
        char *p = NULL;
        ck_assert(asprintf(&p, "%s/one/%s", out, files[i]) > 0);
        ck_assert_msg(access(p, R_OK) == 0, "no %s", p);
        free(p);
    }
    char *p = NULL;
    ck_assert(asprintf(&p, "%s/one/timeline.csv", out) > 0);
    ck_assert(file_has(p, "id,time,time_source,precision"));
    free(p);
    ck_assert(asprintf(&p, "%s/one/findings.json", out) > 0);
    ck_assert(file_has(p, "\"kaspersky_ever_installed\": false"));
    free(p);
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(args);

    /* Several items: one folder each; a bad one fails alone. */
    ck_assert(asprintf(&args, "scan -q -f json -o '%s/many' '%s/linux.raw' /nonexistent.E01", out,
                       evidence_dir()) > 0);
    ck_assert_int_eq(run(args, &o, &e), 1);
    ck_assert_ptr_nonnull(strstr((char *)e.data, "cannot open: No such file"));
    ck_assert(asprintf(&p, "%s/many/linux.raw/findings.json", out) > 0);
    ck_assert_int_eq(access(p, R_OK), 0);
    free(p);
    ck_assert(asprintf(&p, "%s/many/linux.raw/timeline.csv", out) > 0);
    ck_assert_int_ne(access(p, R_OK), 0); /* only the format asked for */
    free(p);
    /* The failed item's folder stays partial, its log saying why. */
    ck_assert(asprintf(&p, "%s/many/nonexistent.E01", out) > 0);
    ck_assert_int_ne(access(p, F_OK), 0);
    free(p);
    ck_assert(asprintf(&p, "%s/many/.nonexistent.E01.partial-*/scan.log", out) > 0);
    glob_t g;
    ck_assert_int_eq(glob(p, 0, NULL, &g), 0);
    ck_assert_uint_eq(g.gl_pathc, 1);
    ck_assert(file_has(g.gl_pathv[0], "ERROR evidence '/nonexistent.E01': cannot open"));
    ck_assert_msg(strstr((char *)e.data, "outputs left incomplete in"), "%s", (char *)e.data);
    globfree(&g);
    free(p);
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(args);

    /* Diagnostics are records in findings.json and lines in scan.log and
     * on the terminal (a damaged GPT: the image's own warnings). */
    ck_assert(asprintf(&args, "scan -o '%s/gpt' '%s/corrupt/gpt-bad-header.raw'", out,
                       evidence_dir()) > 0);
    ck_assert_int_eq(run(args, &o, &e), 0);
    ck_assert_ptr_nonnull(
        strstr((char *)e.data, "kavtrace: warning: ") /* severity first, then the item */);
    ck_assert(asprintf(&p, "%s/gpt/findings.json", out) > 0);
    ck_assert(file_has(p, "\"severity\": \"warning\""));
    ck_assert(file_has(p, "\"code\": \"image\""));
    ck_assert(file_has(p, "\"volume\": null"));
    ck_assert(file_has(p, "\"message\": \"partitions read from the backup GPT header\""));
    free(p);
    ck_assert(asprintf(&p, "%s/gpt/scan.log", out) > 0);
    ck_assert(file_has(p, "WARNING partitions read from the backup GPT header"));
    free(p);
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(args);

    /* --hash: the media's SHA-256 and the EWF stored MD5 checked against it. */
    char sha[65];
    char *raw = path_join(evidence_dir(), "linux.raw");
    file_sha256(raw, sha);
    free(raw);
    ck_assert(asprintf(&args, "scan -q --hash -f json -o '%s/hash' '%s/linux.E01'", out,
                       evidence_dir()) > 0);
    ck_assert_int_eq(run(args, &o, &e), 0);
    ck_assert(asprintf(&p, "%s/hash/findings.json", out) > 0);
    char want[128];
    snprintf(want, sizeof want, "\"sha256\": \"%s\"", sha);
    ck_assert_msg(file_has(p, want), "findings.json lacks %s", want);
    ck_assert(file_has(p, "\"stored_hash_verification\": \"verified\""));
    free(p);
    /* scan.log names the digests once. */
    ck_assert(asprintf(&p, "%s/hash/scan.log", out) > 0);
    snprintf(want, sizeof want, "media sha256 %s md5 ", sha);
    ck_assert_msg(file_has(p, want), "scan.log lacks %s", want);
    ck_assert_uint_eq(lines_with(p, "sha256"), 1);
    free(p);
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(args);

    /* --as-of: the state at each time asked for, beside the milestones'; one
     * equal to the cutoff is the cutoff's entry, not a second one. */
    ck_assert(asprintf(&args,
                       "scan -q -f json --as-of 2024-10-15 --as-of 2024-09-29T04:00:00Z "
                       "-o '%s/asof' '%s/scenarios/kes-uninstalled.raw'",
                       out, evidence_dir()) > 0);
    ck_assert_int_eq(run(args, &o, &e), 0);
    ck_assert(asprintf(&p, "%s/asof/findings.json", out) > 0);
    ck_assert_uint_eq(lines_with(p, "\"milestone\": "), 4);
    ck_assert_uint_eq(lines_with(p, "\"milestone\": null"), 1);
    ck_assert_uint_eq(lines_with(p, "\"time\": \"2024-10-15T00:00:00Z\""), 1);
    ck_assert(file_has(p, "\"version\": \"12.6.0.438\""));
    free(p);
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(args);

    /* Never write into a directory given as evidence. */
    ck_assert(asprintf(&args, "scan -o '%s/macos-tree/out' '%s/macos-tree'", evidence_dir(),
                       evidence_dir()) > 0);
    ck_assert_int_eq(run(args, &o, &e), 1);
    ck_assert_ptr_nonnull(strstr((char *)e.data, "would be inside the evidence"));
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(args);

    ck_assert_int_eq(run("scan -f xml x", &o, &e), 2);
    ck_assert_ptr_nonnull(strstr((char *)e.data, "unknown format"));
    kt_buf_release(&o);
    kt_buf_release(&e);

    /* Broken definitions: FILE:LINE on stderr, exit 1. */
    char defs[600];
    snprintf(defs, sizeof defs, "%s/defs", out);
    ck_assert_int_eq(mkdir(defs, 0755), 0);
    char *yaml = path_join(defs, "x.yaml");
    FILE *f = fopen(yaml, "w");
    fputs("artifacts:\n  - id: x\n    category: nonsense\n", f);
    fclose(f);
    ck_assert(asprintf(&args, "artifacts check '%s'", defs) > 0);
    ck_assert_int_eq(run(args, &o, &e), 1);
    ck_assert_ptr_nonnull(strstr((char *)e.data, "x.yaml:3: unknown category 'nonsense'"));
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(args);
    ck_assert_int_eq(run("artifacts check", &o, &e), 0);
    ck_assert_ptr_nonnull(strstr((char *)o.data, ": ok"));
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(yaml);
    char *rm = NULL;
    ck_assert(asprintf(&rm, "rm -rf '%s'", out) > 0);
    ck_assert_int_eq(system(rm), 0);
    free(rm);
}
END_TEST

START_TEST(artifacts_list_shows_each_artifacts_backing)
{
    char dir[] = "/tmp/kt-cli-defs-XXXXXX";
    ck_assert(mkdtemp(dir) != NULL);
    char *yaml = path_join(dir, "a.yaml");
    FILE *f = fopen(yaml, "w");
    ck_assert(f != NULL);
    fputs(
        "vendor: acme\n"
        "artifacts:\n"
        "  - {id: acme.seen, description: seen on a real system, os: linux, category: install,\n"
        "     backing: {kind: real, ref: 'capture 7'}, files: {paths: [x], times: [si_modified]}}\n"
        "  - {id: acme.said, description: says nothing, os: linux, category: install,\n"
        "     files: {paths: [y], times: [si_modified]}}\n",
        f);
    fclose(f);
    char *args = NULL;
    ck_assert(asprintf(&args, "artifacts list '%s'", dir) > 0);
    kt_buf o = {0}, e = {0};
    ck_assert_int_eq(run(args, &o, &e), 0);
    const char *out = (const char *)o.data;
    /* The column after conf., the same width on every line. */
    const char *head = strstr(out, " conf.   backing     description\n");
    ck_assert_msg(head != NULL, "%s", out);
    const char *seen = strstr(out, "  acme.seen ");
    const char *said = strstr(out, "  acme.said ");
    ck_assert(seen && said);
    ck_assert_ptr_nonnull(strstr(seen, " medium  real        seen on a real system\n"));
    ck_assert_ptr_nonnull(strstr(said, " medium  unknown     says nothing\n"));
    kt_buf_release(&o);
    kt_buf_release(&e);

    /* The shipped set: every macOS artifact graded. */
    ck_assert_int_eq(run("artifacts list", &o, &e), 0);
    const char *tmp = strstr((const char *)o.data, "  kaspersky.mac.tmp-autoupdater ");
    ck_assert_ptr_nonnull(tmp);
    ck_assert_ptr_nonnull(strstr(tmp, " low     real        "));
    for (const char *l = strstr((const char *)o.data, "  kaspersky.mac."); l;
         l = strstr(l + 1, "  kaspersky.mac.")) {
        const char *nl = strchr(l, '\n');
        const char *unknown = strstr(l, " unknown ");
        ck_assert_msg(unknown == NULL || unknown > nl, "%.*s", (int)(nl - l), l);
    }
    /* Each product's coverage: covered, or exempt with its family; none
     * for another vendor's product. */
    const char *listing = (const char *)o.data;
    ck_assert_ptr_nonnull(strstr(listing, "  kaspersky-kes                kaspersky  covered  "));
    ck_assert_ptr_nonnull(strstr(
        listing, "  kaspersky-cybertrace         kaspersky  exempt (threat-intelligence)  "));
    ck_assert_ptr_nonnull(strstr(listing, "  ultraav                      ultraav    -  "));
    ck_assert_ptr_nonnull(strstr(listing, "  kaspersky-scan-engine        kaspersky  covered  "));
    ck_assert_ptr_nonnull(strstr(listing, "  kaspersky-kav-sdk            kaspersky  covered  "));
    /* The white-label definitions: role and Kaspersky component of each,
     * the bundled tools and the folders the search covers. */
    const char *white = strstr(listing, "\nwhite label:\n");
    ck_assert_ptr_nonnull(white);
    ck_assert_ptr_nonnull(strstr(white, "  kaspersky.whitelabel.win.sdk-key           windows  "
                                        "integration  kaspersky-kav-sdk      "));
    ck_assert_ptr_nonnull(strstr(white, "  kaspersky.whitelabel.linux.scan-engine-programs "));
    ck_assert_ptr_nonnull(strstr(white, " bundled_tool "));
    ck_assert_ptr_nonnull(strstr(white, "  kaspersky.whitelabel.win.searched          windows  "
                                        "searched     -  "));
    /* the general list of artifacts is before it: no white-label row after
     * "coverage:" */
    ck_assert_ptr_null(strstr(strstr(white, "\ncoverage:"), "whitelabel"));
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(args);
    unlink(yaml);
    free(yaml);
    rmdir(dir);
}
END_TEST

/* ---- outputs: where they go, whole or visibly partial, valid text ------- */

/* Text planted in a directory evidence: bytes that are not UTF-8, terminal
 * escape sequences (CSI, OSC ending in BEL, the one-byte C1 CSI 0x9b, raw
 * and as UTF-8), backspace, CR, and a literal backslash-x that must come
 * back as itself when the output is unescaped. */
static const char odd_os_name[] = "Evil\xff\xfe Linux \x1b[31mRED\x1b[0m\x07\x08\r\xc2\x9b"
                                  "2J \\x41";
static const char odd_host[] = "host\x1b]0;title\x07\xc0\xaf";
static const char odd_folder[] = "install_11.4.0.1234\xff\x1b[2J\x9b";
static const char odd_version[] = "11.4.0-1234\xff\x1b[5m";
static const char odd_log[] = "dpkg.log.1\x1b[31m"; /* matches dpkg.log.[0-9]*, holds a bad line */

static void put_file(const char *dir, const char *rel, const char *text)
{
    char *p = path_join(dir, rel);
    FILE *f = fopen(p, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", p);
    ck_assert(fwrite(text, 1, strlen(text), f) == strlen(text));
    ck_assert_int_eq(fclose(f), 0);
    free(p);
}

static void make_dirs(const char *dir, const char *rel)
{
    char *p = path_join(dir, rel);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        ck_assert_msg(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir %s", p);
        *s = '/';
    }
    ck_assert_msg(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir %s", p);
    free(p);
}

/* A Linux root as a directory tree, with the odd text above in its
 * os-release, hostname, a KESL install folder's name, a package version
 * and a log's name. */
static void build_odd_tree(const char *root)
{
    make_dirs(root, "etc");
    make_dirs(root, "var/log");
    make_dirs(root, "var/opt/kaspersky/kesl");
    char *text = NULL;
    ck_assert(asprintf(&text, "NAME=\"Evil\"\nPRETTY_NAME=\"%s\"\nVERSION_ID=\"22.04\"\n",
                       odd_os_name) > 0);
    put_file(root, "etc/os-release", text);
    free(text);
    ck_assert(asprintf(&text, "%s\n", odd_host) > 0);
    put_file(root, "etc/hostname", text);
    free(text);
    ck_assert(asprintf(&text, "var/opt/kaspersky/kesl/%s", odd_folder) > 0);
    make_dirs(root, text);
    free(text);
    ck_assert(asprintf(&text, "2023-03-01 10:00:00 install kesl:amd64 <none> %s\n", odd_version) >
              0);
    put_file(root, "var/log/dpkg.log", text);
    free(text);
    ck_assert(asprintf(&text, "var/log/%s", odd_log) > 0);
    put_file(root, text, "not a dpkg line \x1b[31m\xff\n");
    free(text);
}

static char *temp_dir(void)
{
    char t[] = "/tmp/kt-out-XXXXXX";
    ck_assert(mkdtemp(t) != NULL);
    char *copy = strdup(t);
    ck_assert(copy != NULL);
    return copy;
}

static void remove_dir(const char *dir)
{
    char *rm = NULL;
    ck_assert(asprintf(&rm, "rm -rf '%s'", dir) > 0);
    ck_assert_int_eq(system(rm), 0);
    free(rm);
}

static bool exists_at(const char *dir, const char *rel)
{
    char *p = path_join(dir, rel);
    struct stat st;
    bool yes = lstat(p, &st) == 0;
    free(p);
    return yes;
}

/* The names in dir that start with prefix, sorted, one per line. */
static void names_starting(const char *dir, const char *prefix, kt_buf *out)
{
    char *cmd = NULL;
    ck_assert(asprintf(&cmd, "cd '%s' && ls -A | grep '^%s' | sort || true", dir, prefix) > 0);
    ck_assert_int_eq(run_capture(cmd, out, NULL), 0);
    free(cmd);
}

/* Every file under dir with its size and SHA-256: to show it unchanged. */
static void tree_listing(const char *dir, kt_buf *out)
{
    char *cmd = NULL;
    ck_assert(asprintf(&cmd,
                       "cd '%s' && find . -printf '%%y %%s %%p\\n' | LC_ALL=C sort && find . "
                       "-type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum",
                       dir) > 0);
    ck_assert_int_eq(run_capture(cmd, out, NULL), 0);
    free(cmd);
}

/* Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF);
 * NULL, or what is wrong and where. Controls are allowed only as listed. */
static const char *text_problem(const kt_buf *b, const char *allowed, char *why, size_t len)
{
    const unsigned char *p = b->data;
    for (size_t i = 0; i < b->len;) {
        unsigned c = p[i];
        size_t n = c < 0x80             ? 1
                   : (c & 0xe0) == 0xc0 ? 2
                   : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4
                                        : 0;
        uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
        bool ok = n > 0 && i + n <= b->len;
        for (size_t k = 1; ok && k < n; k++) {
            ok = (p[i + k] & 0xc0) == 0x80;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
        ok = ok && cp >= min[n] && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
        if (!ok) {
            snprintf(why, len, "byte %zu (0x%02x) is not UTF-8", i, c);
            return why;
        }
        bool control = cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
        if (control && (cp >= 0x80 || strchr(allowed, (int)cp) == NULL)) {
            snprintf(why, len, "control character U+%04X at byte %zu", (unsigned)cp, i);
            return why;
        }
        i += n;
    }
    return NULL;
}

static void assert_terminal_safe(const kt_buf *b, const char *what)
{
    char why[128];
    const char *problem = text_problem(b, "\n", why, sizeof why);
    ck_assert_msg(problem == NULL, "%s: %s:\n%s", what, problem, (char *)b->data);
}

/* kavtrace's text escapes undone: \xHH is the byte HH. */
static void unescape(const char *s, size_t n, kt_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' && isxdigit((unsigned char)s[i + 2]) &&
            isxdigit((unsigned char)s[i + 3]) && sscanf(s + i + 2, "%2x", &v) == 1) {
            unsigned char byte = (unsigned char)v;
            ck_assert(kt_buf_append(out, &byte, 1) == 0);
            i += 3;
        } else {
            ck_assert(kt_buf_append(out, s + i, 1) == 0);
        }
    }
    ck_assert(kt_buf_append(out, "", 0) == 0);
}

/* An independent reader of the outputs (python3's json and hashlib):
 *   strings FILE    parse FILE strictly as UTF-8 JSON (JSON lines for
 *                   *.jsonl) and print each string in it, unescaped, in hex
 *   manifest DIR    check DIR/manifest.json against the files in DIR and
 *                   the run id in each of them; print "ok RUNID" */
static const char reader_py[] =
    "import hashlib, json, os, re, sys\n"
    "def unescape(s):\n"
    "    return re.sub(rb'\\\\x([0-9a-fA-F]{2})', lambda m: bytes([int(m.group(1), 16)]),\n"
    "                  s.encode('utf-8'))\n"
    "def docs(path):\n"
    "    data = open(path, 'rb').read().decode('utf-8')\n"
    "    if path.endswith('.jsonl'):\n"
    "        return [json.loads(l) for l in data.split('\\n') if l]\n"
    "    return [json.loads(data)]\n"
    "def strings(v):\n"
    "    if isinstance(v, str):\n"
    "        yield v\n"
    "    elif isinstance(v, dict):\n"
    "        for k, x in v.items():\n"
    "            yield k\n"
    "            yield from strings(x)\n"
    "    elif isinstance(v, list):\n"
    "        for x in v:\n"
    "            yield from strings(x)\n"
    "if sys.argv[1] == 'strings':\n"
    "    for d in docs(sys.argv[2]):\n"
    "        for s in strings(d):\n"
    "            print(unescape(s).hex())\n"
    "else:\n"
    "    d = sys.argv[2]\n"
    "    m = docs(os.path.join(d, 'manifest.json'))[0]\n"
    "    run = m['run_id']\n"
    "    listed = {f['name']: f for f in m['files']}\n"
    "    for name in sorted(os.listdir(d)):\n"
    "        if name == 'manifest.json':\n"
    "            continue\n"
    "        f = listed.pop(name, None)\n"
    "        assert f is not None, 'manifest lacks ' + name\n"
    "        data = open(os.path.join(d, name), 'rb').read()\n"
    "        assert f['size'] == len(data), name + ': size'\n"
    "        assert f['sha256'] == hashlib.sha256(data).hexdigest(), name + ': sha256'\n"
    "    assert not listed, 'listed but absent: ' + ' '.join(listed)\n"
    "    assert m['kavtrace_version'] and m['evidence']['path'], 'manifest: evidence'\n"
    "    if os.path.exists(os.path.join(d, 'findings.json')):\n"
    "        assert docs(os.path.join(d, 'findings.json'))[0]['run_id'] == run, 'findings.json'\n"
    "    if os.path.exists(os.path.join(d, 'timeline.jsonl')):\n"
    "        for e in docs(os.path.join(d, 'timeline.jsonl')):\n"
    "            assert e['run_id'] == run, 'timeline.jsonl'\n"
    "    first = open(os.path.join(d, 'scan.log'), 'rb').readline().decode('utf-8')\n"
    "    assert (' run %s ' % run) in first, 'scan.log: ' + first\n"
    "    print('ok', run, m['evidence']['path'], m['evidence']['size'])\n";

static void read_outputs(const char *what, const char *path, kt_buf *out)
{
    char py[] = "/tmp/kt-reader-XXXXXX";
    int fd = mkstemp(py);
    ck_assert(fd >= 0);
    ck_assert(write(fd, reader_py, strlen(reader_py)) == (ssize_t)strlen(reader_py));
    close(fd);
    char *cmd = NULL;
    ck_assert(asprintf(&cmd, "python3 '%s' %s '%s'", py, what, path) > 0);
    kt_buf err = {0};
    int status = run_capture(cmd, out, &err);
    ck_assert_msg(status == 0, "python3 %s %s: %s", what, path, (char *)err.data);
    unlink(py);
    kt_buf_release(&err);
    free(cmd);
}

static bool hex_listed(const kt_buf *list, const char *raw)
{
    char hex[1024] = "\n";
    for (size_t i = 0; raw[i] && 2 * i + 3 < sizeof hex; i++)
        snprintf(hex + 1 + 2 * i, 3, "%02x", (unsigned char)raw[i]);
    strcat(hex, "\n");
    kt_buf withnl = {0};
    ck_assert(kt_buf_append(&withnl, "\n", 1) == 0);
    ck_assert(kt_buf_append(&withnl, list->data, list->len) == 0);
    bool found = strstr((char *)withnl.data, hex) != NULL;
    kt_buf_release(&withnl);
    return found;
}

START_TEST(output_inside_directory_evidence_is_refused_however_named)
{
    char *tmp = temp_dir();
    char *tree = path_join(tmp, "ev");
    build_odd_tree(tree);
    char *link = path_join(tmp, "link");
    ck_assert_int_eq(symlink(tree, link), 0);
    kt_buf before = {0}, after = {0}, o = {0}, e = {0};
    tree_listing(tree, &before);

    /* Not there yet (judged by the deepest folder that is), through a
     * symbolic link, and the evidence itself. */
    const char *outs[] = {"ev/new/out", "ev/new/deeper/out", "link/out", "link/new/out", "ev",
                          "link"};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        char *args = NULL;
        ck_assert(asprintf(&args, "scan -q -o '%s/%s' '%s'", tmp, outs[i], tree) > 0);
        ck_assert_msg(run(args, &o, &e) == 1, "-o %s was accepted", outs[i]);
        ck_assert_msg(strstr((char *)e.data, "would be inside the evidence") != NULL, "-o %s: %s",
                      outs[i], (char *)e.data);
        kt_buf_release(&o);
        kt_buf_release(&e);
        free(args);
    }
    /* A way out through '..' after a folder that does not exist: fine,
     * but nothing may be made inside the evidence on the way. */
    char *args = NULL;
    ck_assert(asprintf(&args, "scan -q -o '%s/ev/new/../../elsewhere' '%s'", tmp, tree) > 0);
    ck_assert_int_eq(run(args, &o, &e), 0);
    ck_assert(exists_at(tmp, "elsewhere/findings.json"));
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(args);

    tree_listing(tree, &after);
    ck_assert_msg(before.len == after.len && memcmp(before.data, after.data, before.len) == 0,
                  "the evidence changed:\n%s\nvs\n%s", (char *)before.data, (char *)after.data);
    kt_buf_release(&before);
    kt_buf_release(&after);
    remove_dir(tmp);
    free(link);
    free(tree);
    free(tmp);
}
END_TEST

START_TEST(output_that_is_a_file_or_holds_other_files_fails_before_the_scan)
{
    char *tmp = temp_dir();
    char *tree = path_join(tmp, "ev");
    build_odd_tree(tree);
    put_file(tmp, "notes.txt", "mine\n");
    kt_buf o = {0}, e = {0};
    char *args = NULL;
    ck_assert(asprintf(&args, "scan -o '%s/notes.txt' '%s'", tmp, tree) > 0);
    ck_assert_int_eq(run(args, &o, &e), 1);
    ck_assert_msg(strstr((char *)e.data, "notes.txt' exists and is not a directory") != NULL, "%s",
                  (char *)e.data);
    ck_assert_msg(o.len == 0, "scanned anyway: %s", (char *)o.data); /* no summary: no scan */
    kt_buf n = {0};
    char *notes = path_join(tmp, "notes.txt");
    file_load(notes, &n);
    ck_assert_str_eq((char *)n.data, "mine\n");
    free(notes);
    kt_buf_release(&n);
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(args);

    /* A folder with files kavtrace did not write is never replaced. */
    make_dirs(tmp, "mine");
    put_file(tmp, "mine/notes.txt", "mine\n");
    ck_assert(asprintf(&args, "scan -o '%s/mine' '%s'", tmp, tree) > 0);
    ck_assert_int_eq(run(args, &o, &e), 1);
    ck_assert_msg(strstr((char *)e.data, "'notes.txt', which kavtrace did not write") != NULL, "%s",
                  (char *)e.data);
    ck_assert_msg(o.len == 0, "scanned anyway: %s", (char *)o.data);
    ck_assert(exists_at(tmp, "mine/notes.txt"));
    ck_assert(!exists_at(tmp, "mine/findings.json"));
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(args);

    /* Nor the folder the user stands in (even an empty one). */
    make_dirs(tmp, "here");
    ck_assert(asprintf(&args, "cd '%s/here' && '%s' scan -o . '%s'", tmp, kavtrace_bin(), tree) >
              0);
    ck_assert_int_eq(run_capture(args, &o, &e), 1);
    ck_assert_msg(strstr((char *)e.data, "here' holds the current directory"), "%s",
                  (char *)e.data);
    ck_assert_msg(o.len == 0, "scanned anyway: %s", (char *)o.data);
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(args);
    remove_dir(tmp);
    free(tree);
    free(tmp);
}
END_TEST

START_TEST(each_item_gets_a_folder_of_its_own_inside_outdir)
{
    char *tmp = temp_dir();
    char *a = path_join(tmp, "a/ev"), *b = path_join(tmp, "b/ev");
    build_odd_tree(a);
    build_odd_tree(b);
    kt_buf o = {0}, e = {0}, f = {0};
    char *args = NULL;
    ck_assert(asprintf(&args, "scan -q -f json -o '%s/out' '%s' '%s'", tmp, a, b) > 0);
    ck_assert_int_eq(run(args, &o, &e), 0);
    char *p = path_join(tmp, "out/ev/findings.json");
    file_load(p, &f);
    free(p);
    char want[600];
    snprintf(want, sizeof want, "\"path\": \"%s\"", a);
    ck_assert_msg(strstr((char *)f.data, want), "out/ev is not %s", a);
    kt_buf_release(&f);
    p = path_join(tmp, "out/ev-2/findings.json");
    file_load(p, &f);
    free(p);
    snprintf(want, sizeof want, "\"path\": \"%s\"", b);
    ck_assert_msg(strstr((char *)f.data, want), "out/ev-2 is not %s", b);
    kt_buf_release(&f);
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(args);

    /* '.' and '..' name no folder: the item is named by what they are. */
    make_dirs(tmp, "p");
    ck_assert(asprintf(&args, "cd '%s/etc' && '%s' scan -q -f json -o '%s/p/out' .. '%s/.'", a,
                       kavtrace_bin(), tmp, b) > 0);
    ck_assert_int_eq(run_capture(args, &o, &e), 0);
    ck_assert_msg(exists_at(tmp, "p/out/ev/findings.json"), "%s", (char *)e.data);
    ck_assert(exists_at(tmp, "p/out/ev-2/findings.json"));
    ck_assert(!exists_at(tmp, "p/out/findings.json"));
    ck_assert(!exists_at(tmp, "p/findings.json"));
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(args);
    remove_dir(tmp);
    free(a);
    free(b);
    free(tmp);
}
END_TEST

START_TEST(outputs_carry_the_run_id_and_a_manifest_of_what_is_there)
{
    char *tmp = temp_dir();
    char *tree = path_join(tmp, "ev");
    build_odd_tree(tree);
    kt_buf o = {0}, e = {0}, first = {0}, second = {0};
    char *args = NULL;
    ck_assert(asprintf(&args, "scan -q -o '%s/out' '%s'", tmp, tree) > 0);
    ck_assert_int_eq(run(args, &o, &e), 0);
    char *out = path_join(tmp, "out");
    read_outputs("manifest", out, &first);
    ck_assert_msg(strncmp((char *)first.data, "ok ", 3) == 0, "%s", (char *)first.data);
    char want[600];
    snprintf(want, sizeof want, " %s ", tree);
    ck_assert_msg(strstr((char *)first.data, want), "%s", (char *)first.data);
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(args);

    /* Again with json alone: the folder is replaced whole, so no timeline
     * of the first run is left looking current, and nothing is left aside. */
    ck_assert(asprintf(&args, "scan -q -f json -o '%s/out' '%s'", tmp, tree) > 0);
    ck_assert_int_eq(run(args, &o, &e), 0);
    ck_assert(!exists_at(tmp, "out/timeline.csv"));
    ck_assert(!exists_at(tmp, "out/timeline.jsonl"));
    read_outputs("manifest", out, &second);
    ck_assert_msg(strncmp((char *)second.data, "ok ", 3) == 0, "%s", (char *)second.data);
    ck_assert_msg(strcmp((char *)first.data, (char *)second.data) != 0, "same run id twice: %s",
                  (char *)first.data);
    kt_buf aside = {0};
    names_starting(tmp, "\\.", &aside);
    ck_assert_msg(aside.len == 0, "left beside the output: %s", (char *)aside.data);
    kt_buf_release(&aside);
    kt_buf_release(&o);
    kt_buf_release(&e);
    kt_buf_release(&first);
    kt_buf_release(&second);
    free(args);
    remove_dir(tmp);
    free(out);
    free(tree);
    free(tmp);
}
END_TEST

/* b's bytes as a C string (kt_buf keeps room for, but does not write, a
 * terminating NUL). */
static const char *cstr(kt_buf *b)
{
    ck_assert(kt_buf_reserve(b, 0) == 0);
    b->data[b->len] = '\0';
    return (const char *)b->data;
}

/* No key in any output: a scan of the LUKS disk with a password, a key
 * file and a wrong password writes every format, the terminal output and
 * the log, and none holds a key (run.json's command line has them
 * redacted); `info --json` lists both volumes unlocked and the locked
 * ones with their kind; batch passes a manifest's key_file to the scan. */
START_TEST(keys_unlock_luks_volumes_and_never_appear_in_any_output)
{
    char *tmp = temp_dir();
    char *ev = path_join(evidence_dir(), "scenarios-unix/kesl-ubuntu.luks.raw");
    char *pass_dir = path_join(testdata_dir(), "luks");
    kt_buf astra = {0}, wrong = {0}, o = {0}, e = {0}, g = {0}, ge = {0};
    char *p = NULL;
    ck_assert(asprintf(&p, "%s/astra.pass", pass_dir) > 0);
    file_load(p, &astra);
    free(p);
    ck_assert(asprintf(&p, "%s/wrong.pass", pass_dir) > 0);
    file_load(p, &wrong);
    free(p);
    char *args = NULL;
    ck_assert(asprintf(&args,
                       "scan -f json,csv,jsonl,body,sqlite,html -o '%s/out' --password '%s' "
                       "--key-file '%s/ubuntu.key' --password='%s' '%s'",
                       tmp, cstr(&wrong), pass_dir, cstr(&astra), ev) > 0);
    ck_assert_int_eq(run(args, &o, &e), 0);
    free(args);
    ck_assert_msg(strstr(cstr(&o), "volume 0") && strstr(cstr(&o), "volume 1"), "%s",
                  (char *)o.data);
    /* grep every file for each key (a key file's whole contents too). */
    const char *keys[] = {"astra.pass", "wrong.pass", "ubuntu.pass", "ubuntu.key"};
    for (size_t i = 0; i < 4; i++) {
        char *cmd = NULL;
        ck_assert(asprintf(&cmd, "grep -rlaF -f '%s/%s' '%s/out'", pass_dir, keys[i], tmp) > 0);
        ck_assert_int_eq(run_capture(cmd, &g, &ge), 1); /* 1: no line selected */
        ck_assert_msg(g.len == 0, "%s in: %s", keys[i], cstr(&g));
        free(cmd);
        ck_assert_msg(!strstr(cstr(&o), cstr(&astra)) && !strstr(cstr(&e), cstr(&astra)) &&
                          !strstr(cstr(&e), cstr(&wrong)),
                      "a key on the terminal");
    }
    ck_assert(asprintf(&p, "%s/out/run.json", tmp) > 0);
    ck_assert(file_has(p, "\"--password=<redacted>\""));
    free(p);
    kt_buf_release(&o);
    kt_buf_release(&e);

    ck_assert(asprintf(&args, "info --json --key-file '%s/ubuntu.key' '%s'", pass_dir, ev) > 0);
    ck_assert_int_eq(run(args, &o, &e), 0);
    free(args);
    ck_assert_msg(strstr(cstr(&o), "\"encryption\": \"luks1\"") &&
                      strstr(cstr(&o), "\"unlocked\": true") &&
                      strstr(cstr(&o), "\"unlocked\": false"),
                  "%s", cstr(&o));
    kt_buf_release(&o);
    kt_buf_release(&e);

    ck_assert(asprintf(&p, "%s/manifest.csv", tmp) > 0);
    FILE *m = fopen(p, "w");
    ck_assert_ptr_nonnull(m);
    fprintf(m, "id,evidence,key_file\nluks,%s,%s/ubuntu.key\n", ev, pass_dir);
    fclose(m);
    ck_assert(asprintf(&args, "batch -q -j 1 -o '%s/case' -m '%s'", tmp, p) > 0);
    ck_assert_int_eq(run(args, &o, &e), 0);
    free(args);
    free(p);
    ck_assert(asprintf(&p, "%s/case/luks/findings.json", tmp) > 0);
    ck_assert(file_has(p, "\"hostname\": \"app-srv-07\""));
    free(p);
    kt_buf_release(&o);
    kt_buf_release(&e);
    kt_buf_release(&g);
    kt_buf_release(&ge);
    kt_buf_release(&astra);
    kt_buf_release(&wrong);
    remove_dir(tmp);
    free(tmp);
    free(ev);
    free(pass_dir);
}
END_TEST

/* BitLocker recovery passwords, given as --recovery-password and in a key
 * file, and a wrong user password: the scan unlocks both volumes, no
 * output holds a key (run.json has --recovery-password's value
 * redacted); `info --json` lists them as BitLocker, unlocked; batch
 * passes a manifest's key_file holding a recovery password to the scan. */
START_TEST(recovery_passwords_unlock_bitlocker_volumes_and_never_appear_in_any_output)
{
    char *tmp = temp_dir();
    char *ev = path_join(evidence_dir(), "scenarios/kes-active.bde.raw");
    char *key_dir = path_join(testdata_dir(), "bde");
    kt_buf active = {0}, o = {0}, e = {0}, g = {0}, ge = {0};
    char *p = NULL;
    ck_assert(asprintf(&p, "%s/active.recovery", key_dir) > 0);
    file_load(p, &active);
    free(p);
    active.data[strcspn(cstr(&active), "\n")] = '\0';
    char *args = NULL;
    ck_assert(asprintf(&args,
                       "scan -f json,csv,jsonl,body,sqlite,html -o '%s/out' --password "
                       "wrong-user-password --recovery-password '%s' --key-file "
                       "'%s/russian.recovery' '%s'",
                       tmp, cstr(&active), key_dir, ev) > 0);
    ck_assert_int_eq(run(args, &o, &e), 0);
    free(args);
    ck_assert_msg(strstr(cstr(&o), "volume 0") && strstr(cstr(&o), "volume 1"), "%s", cstr(&o));
    const char *keys[] = {"active.recovery", "russian.recovery", "active.pass"};
    for (size_t i = 0; i < 3; i++) {
        char *cmd = NULL;
        ck_assert(asprintf(&cmd, "grep -rlaF -f '%s/%s' '%s/out'", key_dir, keys[i], tmp) > 0);
        ck_assert_int_eq(run_capture(cmd, &g, &ge), 1); /* 1: no line selected */
        ck_assert_msg(g.len == 0, "%s in: %s", keys[i], cstr(&g));
        free(cmd);
    }
    ck_assert_msg(!strstr(cstr(&o), cstr(&active)) && !strstr(cstr(&e), cstr(&active)),
                  "a key on the terminal");
    ck_assert(asprintf(&p, "%s/out/run.json", tmp) > 0);
    ck_assert(file_has(p, "\"--recovery-password\",\n"));
    ck_assert(file_has(p, "\"<redacted>\""));
    free(p);
    kt_buf_release(&o);
    kt_buf_release(&e);

    ck_assert(asprintf(&args, "info --json --key-file '%s/active.recovery' '%s'", key_dir, ev) > 0);
    ck_assert_int_eq(run(args, &o, &e), 0);
    free(args);
    ck_assert_msg(strstr(cstr(&o), "\"encryption\": \"bitlocker\"") &&
                      strstr(cstr(&o), "\"unlocked\": true") &&
                      strstr(cstr(&o), "\"unlocked\": false") &&
                      strstr(cstr(&o), "GUID 4b565455-0000-4000-8000-0000000bde02 (AES-CBC-128; "
                                       "recovery password)"),
                  "%s", cstr(&o));
    kt_buf_release(&o);
    kt_buf_release(&e);

    ck_assert(asprintf(&p, "%s/manifest.csv", tmp) > 0);
    FILE *m = fopen(p, "w");
    ck_assert_ptr_nonnull(m);
    fprintf(m, "id,evidence,key_file\nbde,%s,%s/active.recovery\n", ev, key_dir);
    fclose(m);
    ck_assert(asprintf(&args, "batch -q -j 1 -o '%s/case' -m '%s'", tmp, p) > 0);
    ck_assert_int_eq(run(args, &o, &e), 0);
    free(args);
    free(p);
    ck_assert(asprintf(&p, "%s/case/bde/findings.json", tmp) > 0);
    ck_assert(file_has(p, "\"hostname\": \"FIN-WS042\""));
    free(p);
    ck_assert(asprintf(&args, "grep -rlaF -f '%s/active.recovery' '%s/case'", key_dir, tmp) > 0);
    ck_assert_int_eq(run_capture(args, &g, &ge), 1);
    free(args);
    kt_buf_release(&o);
    kt_buf_release(&e);
    kt_buf_release(&g);
    kt_buf_release(&ge);
    kt_buf_release(&active);
    remove_dir(tmp);
    free(tmp);
    free(ev);
    free(key_dir);
}
END_TEST

/* kavtrace with the guard preloaded and env set (e.g. KT_GUARD_FULL=x). */
static int run_guarded(const char *env, const char *args, kt_buf *out, kt_buf *err)
{
    char *cmd = NULL;
    ck_assert(asprintf(&cmd,
                       "%s LD_PRELOAD='%s' ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 "
                       "'%s' %s",
                       env, getenv("KT_OPENGUARD"), kavtrace_bin(), args) > 0);
    int status = run_capture(cmd, out, err);
    free(cmd);
    return status;
}

START_TEST(a_full_disk_leaves_the_item_partial_and_the_older_run_stale)
{
    char *tmp = temp_dir();
    char *tree = path_join(tmp, "ev");
    build_odd_tree(tree);
    kt_buf o = {0}, e = {0}, names = {0}, log = {0};
    char *args = NULL;
    ck_assert(asprintf(&args, "scan -q -o '%s/out' '%s'", tmp, tree) > 0);
    ck_assert_int_eq(run(args, &o, &e), 0);
    kt_buf_release(&o);
    kt_buf_release(&e);

    ck_assert_int_eq(run_guarded("KT_GUARD_FULL=timeline.csv", args, &o, &e), 1);
    ck_assert_msg(strstr((char *)e.data, "timeline.csv") &&
                      strstr((char *)e.data, "No space left on device"),
                  "%s", (char *)e.data);
    /* The older run's folder is no longer where the current one would be. */
    ck_assert_msg(!exists_at(tmp, "out"), "the older run's output still looks current");
    names_starting(tmp, "out\\.stale-", &names);
    ck_assert_msg(names.len > 0, "no out.stale-*: %s", (char *)e.data);
    char *stale = NULL;
    ck_assert(asprintf(&stale, "%.*s/manifest.json", (int)strcspn((char *)names.data, "\n"),
                       (char *)names.data) > 0);
    ck_assert(exists_at(tmp, stale)); /* kept whole, only renamed */
    free(stale);
    kt_buf_release(&names);
    /* This run's outputs stay, named as partial, without a manifest; its
     * scan.log says what failed. */
    names_starting(tmp, "\\.out\\.partial-", &names);
    ck_assert_msg(names.len > 0, "no .out.partial-*: %s", (char *)e.data);
    char *partial = NULL;
    ck_assert(asprintf(&partial, "%s/%.*s", tmp, (int)strcspn((char *)names.data, "\n"),
                       (char *)names.data) > 0);
    ck_assert(!exists_at(partial, "manifest.json"));
    ck_assert_msg(strstr((char *)e.data, partial) != NULL, "stderr names not %s: %s", partial,
                  (char *)e.data);
    char *logp = path_join(partial, "scan.log");
    file_load(logp, &log);
    ck_assert_msg(
        strstr((char *)log.data, "\nERROR cannot write 'timeline.csv': No space left on device\n"),
        "%s", (char *)log.data);
    ck_assert_ptr_null(strstr((char *)log.data, "\nfinished "));
    free(logp);
    free(partial);
    kt_buf_release(&log);
    kt_buf_release(&names);
    kt_buf_release(&o);
    kt_buf_release(&e);

    /* The log and the manifest fail the run too, with their reason. */
    const char *files[] = {"scan.log", "manifest.json", "findings.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char env[64];
        snprintf(env, sizeof env, "KT_GUARD_FULL=%s", files[i]);
        ck_assert_int_eq(run_guarded(env, args, &o, &e), 1);
        ck_assert_msg(strstr((char *)e.data, files[i]) &&
                          strstr((char *)e.data, "No space left on device"),
                      "%s: %s", files[i], (char *)e.data);
        ck_assert_msg(!exists_at(tmp, "out"), "%s: out", files[i]);
        kt_buf_release(&o);
        kt_buf_release(&e);
    }
    free(args);

    /* The summary on a full stdout: said on stderr, exit 1. */
    ck_assert(asprintf(&args, "'%s' scan -o '%s/out' '%s' >/dev/full", kavtrace_bin(), tmp, tree) >
              0);
    ck_assert_int_eq(run_capture(args, &o, &e), 1);
    ck_assert_msg(strstr((char *)e.data, "No space left on device"), "%s", (char *)e.data);
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(args);
    remove_dir(tmp);
    free(tree);
    free(tmp);
}
END_TEST

START_TEST(a_read_only_output_location_fails_before_the_scan)
{
    char *tmp = temp_dir();
    char *tree = path_join(tmp, "ev");
    build_odd_tree(tree);
    make_dirs(tmp, "ro");
    kt_buf o = {0}, e = {0};
    char *env = NULL, *args = NULL;
    /* The guard's log shows whether the evidence was read at all. */
    ck_assert(asprintf(&env, "KT_GUARD_READONLY='%s/ro' KT_GUARD_DIR='%s' KT_GUARD_LOG='%s/opened'",
                       tmp, tree, tmp) > 0);
    ck_assert(asprintf(&args, "scan -o '%s/ro/out' '%s'", tmp, tree) > 0);
    ck_assert_int_eq(run_guarded(env, args, &o, &e), 1);
    ck_assert_msg(strstr((char *)e.data, "Read-only file system"), "%s", (char *)e.data);
    ck_assert_msg(o.len == 0, "scanned anyway: %s", (char *)o.data);
    ck_assert_msg(!exists_at(tmp, "opened"), "the evidence was read before the output was made");
    kt_buf names = {0};
    names_starting(tmp, "", &names);
    ck_assert_str_eq((char *)names.data, "ev\nro\n");
    kt_buf_release(&names);
    ck_assert(!exists_at(tmp, "ro/out"));
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(args);
    free(env);
    remove_dir(tmp);
    free(tree);
    free(tmp);
}
END_TEST

/* timeline.csv as RFC 4180 says it: records end in CRLF; a cell is either
 * bare (no quote, comma, CR or LF) or quoted with inner quotes doubled;
 * every record has the header's number of cells. Returns the records. */
static size_t check_csv(const kt_buf *b, kt_strlist *cells)
{
    const char *s = (const char *)b->data, *end = s + b->len;
    size_t records = 0;
    int header = -1;
    while (s < end) {
        int n = 0;
        for (;;) {
            kt_buf cell = {0};
            if (*s == '"') {
                for (s++; s < end; s++) {
                    if (*s == '"' && s + 1 < end && s[1] == '"')
                        s++;
                    else if (*s == '"')
                        break;
                    ck_assert(kt_buf_append(&cell, s, 1) == 0);
                }
                ck_assert_msg(s < end, "record %zu: unterminated quoted cell", records + 1);
                s++;
            } else {
                size_t len = strcspn(s, ",\"\r\n");
                ck_assert(kt_buf_append(&cell, s, len) == 0);
                s += len;
                ck_assert_msg(*s != '"', "record %zu: a quote inside a bare cell", records + 1);
            }
            ck_assert(kt_buf_append(&cell, "", 0) == 0);
            ck_assert(kt_strlist_add(cells, (char *)cell.data) == 0);
            kt_buf_release(&cell);
            n++;
            if (*s == ',') {
                s++;
                continue;
            }
            ck_assert_msg(s + 1 < end && s[0] == '\r' && s[1] == '\n',
                          "record %zu does not end in CRLF", records + 1);
            s += 2;
            break;
        }
        if (header < 0)
            header = n;
        ck_assert_msg(n == header, "record %zu: %d cells, the header has %d", records + 1, n,
                      header);
        records++;
    }
    return records;
}

START_TEST(text_from_evidence_is_valid_json_csv_and_safe_on_a_terminal)
{
    char *tmp = temp_dir();
    char *tree = path_join(tmp, "ev");
    build_odd_tree(tree);
    kt_buf o = {0}, e = {0}, b = {0}, strings = {0};
    char *args = NULL;
    ck_assert(asprintf(&args, "scan -o '%s/out' '%s'", tmp, tree) > 0);
    ck_assert_int_eq(run(args, &o, &e), 0);
    assert_terminal_safe(&o, "stdout");
    assert_terminal_safe(&e, "stderr");
    /* The summary shows the text, escaped. */
    ck_assert_msg(strstr((char *)o.data, "Evil\\xff\\xfe Linux \\x1b[31mRED\\x1b[0m\\x07\\x08\\x0d"
                                         "\\xc2\\x9b2J \\x5cx41"),
                  "%s", (char *)o.data);
    ck_assert_msg(strstr((char *)e.data, "'var/log/dpkg.log.1\\x1b[31m'"), "%s", (char *)e.data);
    char *log = path_join(tmp, "out/scan.log");
    file_load(log, &b);
    assert_terminal_safe(&b, "scan.log");
    ck_assert_msg(strstr((char *)b.data, "WARNING volume 0: 'var/log/dpkg.log.1\\x1b[31m': "), "%s",
                  (char *)b.data);
    kt_buf_release(&b);

    /* findings.json and timeline.jsonl parse as strict UTF-8 JSON, and
     * their text unescapes to the bytes of the evidence. */
    char *findings = path_join(tmp, "out/findings.json");
    read_outputs("strings", findings, &strings);
    ck_assert_msg(hex_listed(&strings, odd_os_name), "os name: %s", (char *)strings.data);
    ck_assert_msg(hex_listed(&strings, odd_host), "hostname: %s", (char *)strings.data);
    kt_buf_release(&strings);
    char *jsonl = path_join(tmp, "out/timeline.jsonl");
    read_outputs("strings", jsonl, &strings);
    char folder[256];
    snprintf(folder, sizeof folder, "var/opt/kaspersky/kesl/%s", odd_folder);
    ck_assert_msg(hex_listed(&strings, folder), "folder: %s", (char *)strings.data);
    ck_assert_msg(hex_listed(&strings, odd_version), "version: %s", (char *)strings.data);
    kt_buf_release(&strings);

    /* timeline.csv: RFC 4180, UTF-8, no control character but the CRLFs. */
    char *csv = path_join(tmp, "out/timeline.csv");
    file_load(csv, &b);
    char why[128];
    const char *problem = text_problem(&b, "\r\n", why, sizeof why);
    ck_assert_msg(problem == NULL, "timeline.csv: %s", problem);
    kt_strlist cells = {0};
    ck_assert_uint_ge(check_csv(&b, &cells), 3);
    bool found_folder = false, found_version = false;
    for (size_t i = 0; i < cells.count; i++) {
        kt_buf raw = {0};
        unescape(cells.items[i], strlen(cells.items[i]), &raw);
        found_folder = found_folder || strcmp((char *)raw.data, folder) == 0;
        found_version = found_version || strcmp((char *)raw.data, odd_version) == 0;
        kt_buf_release(&raw);
    }
    ck_assert(found_folder && found_version);
    kt_strlist_release(&cells);
    kt_buf_release(&b);
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(args);

    /* info: as text, safe on the terminal; as JSON, valid. */
    ck_assert(asprintf(&args, "info '%s'", tree) > 0);
    ck_assert_int_eq(run(args, &o, &e), 0);
    assert_terminal_safe(&o, "info");
    assert_terminal_safe(&e, "info's stderr");
    ck_assert_msg(strstr((char *)o.data, "hostname host\\x1b]0;title\\x07\\xc0\\xaf"), "%s",
                  (char *)o.data);
    free(args);
    kt_buf_release(&o);
    kt_buf_release(&e);
    ck_assert(asprintf(&args, "'%s' info --json '%s' > '%s/info.json'", kavtrace_bin(), tree, tmp) >
              0);
    ck_assert_int_eq(run_capture(args, &o, &e), 0);
    char *info = path_join(tmp, "info.json");
    read_outputs("strings", info, &strings);
    ck_assert_msg(hex_listed(&strings, odd_os_name), "info os name: %s", (char *)strings.data);
    kt_buf_release(&strings);
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(args);
    free(info);
    free(csv);
    free(jsonl);
    free(findings);
    free(log);
    remove_dir(tmp);
    free(tree);
    free(tmp);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, info_prints_container_volumes_and_systems);
    tcase_add_test(tc, exit_status_and_messages_for_bad_input_and_usage);
    tcase_add_test(tc, evidence_is_never_opened_for_writing_and_stays_byte_identical);
    tcase_add_test(tc, scan_writes_its_outputs_and_refuses_bad_use);
    tcase_add_test(tc, artifacts_list_shows_each_artifacts_backing);
    suite_add_tcase(s, tc);
    TCase *out = tcase_create("output");
    tcase_set_timeout(out, 300);
    tcase_add_test(out, output_inside_directory_evidence_is_refused_however_named);
    tcase_add_test(out, output_that_is_a_file_or_holds_other_files_fails_before_the_scan);
    tcase_add_test(out, each_item_gets_a_folder_of_its_own_inside_outdir);
    tcase_add_test(out, outputs_carry_the_run_id_and_a_manifest_of_what_is_there);
    tcase_add_test(out, keys_unlock_luks_volumes_and_never_appear_in_any_output);
    tcase_add_test(out, recovery_passwords_unlock_bitlocker_volumes_and_never_appear_in_any_output);
    tcase_add_test(out, a_full_disk_leaves_the_item_partial_and_the_older_run_stale);
    tcase_add_test(out, a_read_only_output_location_fails_before_the_scan);
    tcase_add_test(out, text_from_evidence_is_valid_json_csv_and_safe_on_a_terminal);
    suite_add_tcase(s, out);
    return s;
}

KT_TEST_MAIN(suite)
