#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kavtrace/artifacts.h"
#include "testutil.h"

static const char *env_dir(const char *name)
{
    const char *v = getenv(name);
    ck_assert_msg(v != NULL && v[0] != '\0', "environment variable %s is not set", name);
    return v;
}

const char *evidence_dir(void)
{
    return env_dir("KT_EVIDENCE_DIR");
}

const char *testdata_dir(void)
{
    return env_dir("KT_TESTDATA_DIR");
}

const char *corpus_dir(void)
{
    return env_dir("KT_CORPUS_DIR");
}

const char *corpus_unpacked_dir(void)
{
    return env_dir("KT_CORPUS_UNPACKED");
}

const char *kavtrace_bin(void)
{
    return env_dir("KT_BIN");
}

char *path_join(const char *dir, const char *name)
{
    char *p = NULL;
    ck_assert(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

void file_load(const char *path, kt_buf *out)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open '%s'", path);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        ck_assert(kt_buf_append(out, chunk, n) == 0);
    fclose(f);
    ck_assert(kt_buf_reserve(out, 0) == 0);
}

void load_shipped_artifacts(kt_artifact_set *set)
{
    char *dir = path_join(testdata_dir(), "../artifacts");
    kt_strlist problems = {0};
    kt_error err = {0};
    int rc = kt_artifacts_load(dir, set, &problems, &err);
    ck_assert_msg(rc == 0, "%s: %s", err.msg, problems.count ? problems.items[0] : "");
    kt_strlist_release(&problems);
    free(dir);
}

void tsv_load(tsv *t, const char *path)
{
    memset(t, 0, sizeof *t);
    kt_buf b = {0};
    file_load(path, &b);
    t->text = (char *)b.data;
    size_t cap = 0;
    int line = 0;
    for (char *s = t->text; s && *s;) {
        char *nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        line++;
        if (*s != '#' && *s != '\0') {
            if (t->count == cap) {
                cap = cap ? cap * 2 : 64;
                t->rows = realloc(t->rows, cap * sizeof *t->rows);
                ck_assert(t->rows != NULL);
            }
            tsv_row *r = &t->rows[t->count++];
            memset(r, 0, sizeof *r);
            r->line = line;
            for (char *field = s; field && r->nfields < TSV_MAX_FIELDS;) {
                char *tab = strchr(field, '\t');
                if (tab)
                    *tab = '\0';
                r->f[r->nfields++] = field;
                field = tab ? tab + 1 : NULL;
            }
        }
        s = nl ? nl + 1 : NULL;
    }
}

void truth_load(tsv *t, const char *name)
{
    char *p = path_join(testdata_dir(), name);
    tsv_load(t, p);
    free(p);
}

void tsv_free(tsv *t)
{
    free(t->rows);
    free(t->text);
    memset(t, 0, sizeof *t);
}

kt_time truth_time(const char *s)
{
    kt_time t = 0;
    ck_assert_msg(kt_time_parse_iso(s, &t) == 0, "bad time '%s' in ground truth", s);
    return t;
}

void truth_text(const char *content, kt_buf *out)
{
    ck_assert_msg(strncmp(content, "text:", 5) == 0, "content '%s' is not text:", content);
    ck_assert(kt_buf_reserve(out, 0) == 0);
    for (const char *p = content + 5; *p; p++) {
        char c = *p;
        if (c == '\\' && p[1]) {
            p++;
            c = *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p == 't' ? '\t' : *p;
        }
        ck_assert(kt_buf_append(out, &c, 1) == 0);
    }
}

static void slurp(FILE *f, kt_buf *b)
{
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        ck_assert(kt_buf_append(b, chunk, n) == 0);
    ck_assert(kt_buf_reserve(b, 0) == 0);
}

int run_capture(const char *cmd, kt_buf *out, kt_buf *errout)
{
    char errfile[] = "/tmp/kt-test-stderr-XXXXXX";
    int fd = mkstemp(errfile);
    ck_assert(fd >= 0);
    close(fd);
    char *full = NULL;
    ck_assert(asprintf(&full, "%s 2>'%s'", cmd, errfile) > 0);
    FILE *p = popen(full, "r");
    ck_assert(p != NULL);
    slurp(p, out);
    int status = pclose(p);
    FILE *e = fopen(errfile, "r");
    if (e) {
        if (errout)
            slurp(e, errout);
        fclose(e);
    }
    unlink(errfile);
    free(full);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

char *script_file(const char *body)
{
    char path[] = "/tmp/kt-test-reader-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(chmod(path, 0700), 0);
    char *copy = strdup(path);
    ck_assert_ptr_nonnull(copy);
    return copy;
}

void file_sha256(const char *path, char out[65])
{
    char *cmd = NULL;
    ck_assert(asprintf(&cmd, "sha256sum '%s'", path) > 0);
    kt_buf b = {0};
    ck_assert_int_eq(run_capture(cmd, &b, NULL), 0);
    ck_assert(b.len >= 64);
    memcpy(out, b.data, 64);
    out[64] = '\0';
    kt_buf_release(&b);
    free(cmd);
}
