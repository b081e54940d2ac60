/* The command line as a user runs it: golden outputs, exit codes, error
 * messages, and proof that evidence is never opened for writing. */
#include <stdbool.h>
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
    ck_assert(asprintf(&p, "%s/many/nonexistent.E01/scan.log", out) > 0);
    ck_assert(file_has(p, "ERROR"));
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
    ck_assert(file_has(p, "\"stored_md5_verified\": true"));
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
    kt_buf_release(&o);
    kt_buf_release(&e);
    free(args);
    unlink(yaml);
    free(yaml);
    rmdir(dir);
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
    return s;
}

KT_TEST_MAIN(suite)
