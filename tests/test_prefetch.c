/* Windows Prefetch files through kavtrace-prefetch (libscca): every real
 * file in the corpus with the values libscca's own tools (sccainfo,
 * pyscca) show for it, Windows 11's format and non-prefetch files refused
 * with clear errors, truncated and mangled input refused without a crash,
 * the synthetic files of testdata/windows/prefetch read back exactly as
 * their specs say, and the reader's failures reported. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kavtrace/helper.h"
#include "kavtrace/prefetch.h"
#include "testutil.h"

/* FILETIME to ns since 1970, done here rather than by the library. */
static kt_time ft(uint64_t filetime)
{
    return ((kt_time)filetime - INT64_C(116444736000000000)) * 100;
}

static void load(const char *rel, kt_buf *b)
{
    char *path = path_join(corpus_dir(), rel);
    file_load(path, b);
    free(path);
}

/* Values as sccainfo and pyscca 20200717 show them. */
static const struct corpus_pf {
    const char *path;
    uint32_t version;
    const char *name;
    uint32_t hash, runs;
    size_t nruns;
    uint64_t newest, oldest; /* FILETIMEs of the first and last stored run */
    bool compressed;
} corpus_pfs[] = {
    {"ericzimmerman-prefetch/XPPro/CMD.EXE-087B4001.pf", 17, "CMD.EXE", 0x087B4001, 2, 1,
     130073839092812500u, 130073839092812500u, false},
    {"ericzimmerman-prefetch/Vista/CMD.EXE-89305D47.pf", 23, "CMD.EXE", 0x89305D47, 3, 1,
     130974481955514245u, 130974481955514245u, false},
    {"ericzimmerman-prefetch/Win7/CMD.EXE-4A81B364.pf", 23, "CMD.EXE", 0x4A81B364, 2, 1,
     130974496025151093u, 130974496025151093u, false},
    {"plaso/winprefetch/PING.EXE-B29F6629.pf", 23, "PING.EXE", 0xB29F6629, 14, 1,
     129782124559329556u, 129782124559329556u, false},
    {"ericzimmerman-prefetch/Win8x/CMD.EXE-4A81B364.pf", 26, "CMD.EXE", 0x4A81B364, 2, 2,
     130974522141208485u, 130974522097460357u, false},
    {"plaso/winprefetch/TASKHOST.EXE-3AE259FC.pf", 26, "TASKHOST.EXE", 0x3AE259FC, 4, 4,
     130253748090378333u, 130253406736429375u, false},
    {"ericzimmerman-prefetch/Win10/CMD.EXE-D269B812.pf", 30, "CMD.EXE", 0xD269B812, 55, 8,
     130971028239810694u, 130948652615798615u, true},
    {"ericzimmerman-prefetch/Win10/DCODEDCODEDCODEDCODEDCODEDCOD-E65B9FE8.pf", 30,
     "DCODEDCODEDCODEDCODEDCODEDCOD", 0xE65B9FE8, 2, 2, 130971988457480759u, 130971988412158753u,
     true},
    {"plaso/winprefetch/NOTEPAD.EXE-D8414F97.pf", 30, "NOTEPAD.EXE", 0xD8414F97, 2, 2,
     132042381048777787u, 132042361808157052u, true},
    {"velociraptor/VELOCIRAPTOR.EXE-DB95245D.pf", 30, "VELOCIRAPTOR.EXE", 0xDB95245D, 30, 8,
     132898790250183773u, 132896220356158289u, true},
};
#define WIN11_PF "plaso/winprefetch/AM_DELTA_PATCH_1.443.990.0.EX-7037CF86.pf"
#define NOT_PF "ericzimmerman-prefetch/Bad/notAPrefetch.pf"
#define CMD10_PF "ericzimmerman-prefetch/Win10/CMD.EXE-D269B812.pf"
#define TASKHOST_PF "plaso/winprefetch/TASKHOST.EXE-3AE259FC.pf"

static kt_strlist found;

static int collect_pf(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    size_t n = strlen(path);
    if (type == FTW_F && n > 3 && strcasecmp(path + n - 3, ".pf") == 0)
        ck_assert_int_eq(kt_strlist_add(&found, path + strlen(corpus_dir()) + 1), 0);
    (void)ftw;
    return 0;
}

START_TEST(reads_every_corpus_prefetch_file)
{
    ck_assert_int_eq(nftw(corpus_dir(), collect_pf, 16, FTW_PHYS), 0);
    size_t matched = 0;
    for (size_t i = 0; i < found.count; i++) {
        const char *rel = found.items[i];
        kt_buf b = {0};
        load(rel, &b);
        kt_prefetch pf;
        kt_strlist w = {0};
        kt_error err = {0};
        int rc = kt_prefetch_read(b.data, b.len, &pf, &w, &err);
        const struct corpus_pf *want = NULL;
        for (size_t k = 0; k < sizeof corpus_pfs / sizeof corpus_pfs[0]; k++)
            if (strcmp(corpus_pfs[k].path, rel) == 0)
                want = &corpus_pfs[k];
        if (want == NULL) {
            /* A file added to the corpus later: read, or refused cleanly. */
            ck_assert_msg(rc == 0 || rc == KT_EFORMAT, "%s: %d %s", rel, rc, err.msg);
        } else {
            matched++;
            ck_assert_msg(rc == 0, "%s: %s", rel, err.msg);
            ck_assert_msg(w.count == 0, "%s: warning '%s'", rel, w.items[0]);
            ck_assert_uint_eq(pf.version, want->version);
            ck_assert_str_eq(pf.executable, want->name);
            ck_assert_uint_eq(pf.hash, want->hash);
            ck_assert_uint_eq(pf.run_count, want->runs);
            ck_assert_uint_eq(pf.nruns, want->nruns);
            ck_assert_int_eq(pf.runs[0], ft(want->newest));
            ck_assert_int_eq(pf.runs[pf.nruns - 1], ft(want->oldest));
            ck_assert(pf.compressed == want->compressed);
        }
        kt_strlist_release(&w);
        kt_buf_release(&b);
    }
    ck_assert_uint_eq(matched, sizeof corpus_pfs / sizeof corpus_pfs[0]);
    kt_strlist_release(&found);
}
END_TEST

START_TEST(windows_10_file_gives_all_eight_run_times_newest_first)
{
    /* As stored: the fourth is 0.3 ms after the third (Windows' order). */
    static const uint64_t want[8] = {
        130971028239810694u, 130968665427887265u, 130964236484058698u, 130964236487268912u,
        130964062909356554u, 130964062913441634u, 130960717496670183u, 130948652615798615u,
    };
    kt_buf b = {0};
    load(CMD10_PF, &b);
    kt_prefetch pf;
    kt_error err = {0};
    ck_assert_int_eq(kt_prefetch_read(b.data, b.len, &pf, NULL, &err), 0);
    ck_assert_uint_eq(pf.nruns, 8);
    for (size_t i = 0; i < 8; i++)
        ck_assert_int_eq(pf.runs[i], ft(want[i]));
    /* sccainfo: "Jan 12, 2016 20:07:03.981069400 UTC" */
    char iso[KT_TIME_ISO_MAX];
    ck_assert_str_eq(kt_time_format_iso(pf.runs[0], iso), "2016-01-12T20:07:03.9810694Z");
    kt_buf_release(&b);
}
END_TEST

START_TEST(reads_windows_11_format_with_format_30_layout)
{
    /* libscca refuses format 31 after decompressing it; the reader then
     * decompresses the file itself and hands it over as format 30. The
     * hash matches the file's name; the run time is February 2026. */
    kt_buf b = {0};
    load(WIN11_PF, &b);
    kt_prefetch pf = {.version = 99};
    kt_strlist w = {0};
    kt_error err = {0};
    ck_assert_msg(kt_prefetch_read(b.data, b.len, &pf, &w, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(pf.version, 31);
    ck_assert_str_eq(pf.executable, "AM_DELTA_PATCH_1.443.990.0.EX");
    ck_assert_uint_eq(pf.hash, 0x7037CF86);
    ck_assert_uint_eq(pf.run_count, 1);
    ck_assert_uint_eq(pf.nruns, 1);
    ck_assert_int_eq(pf.runs[0], ft(134146862246686325u));
    ck_assert(pf.compressed);
    ck_assert_uint_eq(w.count, 1);
    ck_assert_ptr_nonnull(
        strstr(w.items[0], "format 31 (Windows 11) read with format 30's layout"));
    kt_strlist_release(&w);
    kt_buf_release(&b);
}
END_TEST

START_TEST(own_xpress_huffman_decompression_matches_libscca)
{
    /* Every MAM file of the corpus read through the reader's own
     * decompressor gives what libscca's gives. */
    static const char *mam[] = {
        CMD10_PF, "ericzimmerman-prefetch/Win10/DCODEDCODEDCODEDCODEDCODEDCOD-E65B9FE8.pf",
        "plaso/winprefetch/NOTEPAD.EXE-D8414F97.pf", "velociraptor/VELOCIRAPTOR.EXE-DB95245D.pf"};
    for (size_t i = 0; i < sizeof mam / sizeof mam[0]; i++) {
        kt_buf b = {0};
        load(mam[i], &b);
        kt_prefetch theirs, ours;
        kt_error err = {0};
        ck_assert_int_eq(kt_prefetch_read(b.data, b.len, &theirs, NULL, &err), 0);
        setenv("KAVTRACE_PREFETCH_OWN_XPRESS", "1", 1);
        int rc = kt_prefetch_read(b.data, b.len, &ours, NULL, &err);
        unsetenv("KAVTRACE_PREFETCH_OWN_XPRESS");
        ck_assert_msg(rc == 0, "%s: %s", mam[i], err.msg);
        ck_assert_msg(memcmp(&theirs, &ours, sizeof ours) == 0, "%s differs", mam[i]);
        /* Cut short or damaged, the stream is refused, never overrun. */
        for (size_t cut = 8; cut < b.len; cut += b.len / 7 + 1) {
            setenv("KAVTRACE_PREFETCH_OWN_XPRESS", "1", 1);
            rc = kt_prefetch_read(b.data, cut, &ours, NULL, &err);
            unsetenv("KAVTRACE_PREFETCH_OWN_XPRESS");
            ck_assert_msg(rc == KT_EFORMAT, "%s cut at %zu: %d %s", mam[i], cut, rc, err.msg);
        }
        for (size_t k = 12; k < b.len; k += 97)
            b.data[k] ^= 0x5A;
        setenv("KAVTRACE_PREFETCH_OWN_XPRESS", "1", 1);
        rc = kt_prefetch_read(b.data, b.len, &ours, NULL, &err);
        unsetenv("KAVTRACE_PREFETCH_OWN_XPRESS");
        ck_assert_msg(rc == 0 || rc == KT_EFORMAT, "%s damaged: %d %s", mam[i], rc, err.msg);
        kt_buf_release(&b);
    }
}
END_TEST

START_TEST(refuses_what_is_not_a_prefetch_file)
{
    kt_buf b = {0};
    load(NOT_PF, &b);
    kt_prefetch pf;
    kt_error err = {0};
    ck_assert_int_eq(kt_prefetch_read(b.data, b.len, &pf, NULL, &err), KT_EFORMAT);
    ck_assert_str_eq(err.msg, "not a prefetch file (no 'SCCA' or 'MAM' signature)");
    kt_buf_release(&b);
    ck_assert_int_eq(kt_prefetch_read((const uint8_t *)"", 0, &pf, NULL, &err), KT_EFORMAT);
    ck_assert_int_eq(kt_prefetch_read(NULL, 0, &pf, NULL, &err), KT_EFORMAT);
    ck_assert_int_eq(kt_prefetch_read((const uint8_t *)"MZ\x90\0\3\0\0\0\4\0", 10, &pf, NULL, &err),
                     KT_EFORMAT);
    /* Over the limit: refused before anything is read or run. */
    uint8_t *big = calloc(KT_PREFETCH_MAX_SIZE + 1, 1);
    ck_assert_ptr_nonnull(big);
    memcpy(big + 4, "SCCA", 4);
    ck_assert_int_eq(kt_prefetch_read(big, KT_PREFETCH_MAX_SIZE + 1, &pf, NULL, &err), KT_ELIMIT);
    free(big);
}
END_TEST

/* A fixed sequence of pseudo-random bytes (the test must not vary). */
static uint32_t lcg(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

static void expect_refused(const char *what, const uint8_t *data, size_t len)
{
    kt_prefetch pf = {.version = 99};
    kt_strlist w = {0};
    kt_error err = {0};
    int rc = kt_prefetch_read(data, len, &pf, &w, &err);
    ck_assert_msg(rc == KT_EFORMAT, "%s: %d '%s'", what, rc, err.msg);
    ck_assert_msg(err.msg[0] != '\0', "%s: no message", what);
    ck_assert_uint_eq(pf.version, 99);
    kt_strlist_release(&w);
}

START_TEST(refuses_truncated_and_garbage_input)
{
    static const char *files[] = {TASKHOST_PF, CMD10_PF};
    for (size_t f = 0; f < 2; f++) {
        kt_buf b = {0};
        load(files[f], &b);
        static const size_t cuts[] = {8, 83, 100, 300, 1000};
        for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
            char what[128];
            snprintf(what, sizeof what, "%s cut to %zu bytes", files[f], cuts[c]);
            expect_refused(what, b.data, cuts[c]);
        }
        kt_buf_release(&b);
    }
    /* A MAM header over noise, and one that claims 4 GiB uncompressed. */
    uint8_t mam[4096];
    uint32_t seed = 7;
    for (size_t i = 0; i < sizeof mam; i++)
        mam[i] = (uint8_t)lcg(&seed);
    memcpy(mam, "MAM\x04\x00\x40\x00\x00", 8);
    expect_refused("MAM header and noise", mam, sizeof mam);
    memcpy(mam, "MAM\x04\xf0\xff\xff\xff", 8);
    expect_refused("MAM claiming 4 GiB", mam, sizeof mam);
    memcpy(mam, "MAM\x03\x00\x40\x00\x00", 8);
    expect_refused("MAM with another method", mam, sizeof mam);
    /* An SCCA header over noise. */
    memcpy(mam, "\x1e\0\0\0SCCA\x11\0\0\0\0\x10\0\0", 16);
    expect_refused("SCCA header and noise", mam, sizeof mam);
}
END_TEST

START_TEST(survives_bit_flips)
{
    static const char *files[] = {TASKHOST_PF, CMD10_PF,
                                  "ericzimmerman-prefetch/XPPro/"
                                  "CMD.EXE-087B4001.pf"};
    uint32_t seed = 20240929;
    size_t read = 0, refused = 0;
    for (size_t f = 0; f < 3; f++) {
        kt_buf orig = {0};
        load(files[f], &orig);
        for (int round = 0; round < 40; round++) {
            kt_buf b = {0};
            ck_assert_int_eq(kt_buf_append(&b, orig.data, orig.len), 0);
            int flips = 1 + (int)(lcg(&seed) % 16);
            for (int k = 0; k < flips; k++) {
                size_t at = 8 + lcg(&seed) % (b.len - 8); /* keep the signature */
                b.data[at] ^= (uint8_t)(1u << (lcg(&seed) % 8));
            }
            kt_prefetch pf;
            kt_strlist w = {0};
            kt_error err = {0};
            int rc = kt_prefetch_read(b.data, b.len, &pf, &w, &err);
            ck_assert_msg(rc == 0 || rc == KT_EFORMAT, "%s round %d: %d '%s'", files[f], round, rc,
                          err.msg);
            if (rc == 0) {
                read++;
                ck_assert_uint_le(pf.nruns, KT_PREFETCH_MAX_RUNS);
                ck_assert_uint_lt(strlen(pf.executable), sizeof pf.executable);
            } else {
                refused++;
            }
            kt_strlist_release(&w);
            kt_buf_release(&b);
        }
        kt_buf_release(&orig);
    }
    ck_assert_uint_eq(read + refused, 120);
}
END_TEST

/* The spec's values, read here independently of kt-mkprefetch. */
typedef struct spec_values {
    uint32_t version, hash, runs;
    char name[64];
    kt_time run[KT_PREFETCH_MAX_RUNS];
    size_t nrun;
} spec_values;

static void spec_load(const char *path, spec_values *v)
{
    tsv t;
    tsv_load(&t, path);
    memset(v, 0, sizeof *v);
    for (size_t i = 0; i < t.count; i++) {
        const tsv_row *r = &t.rows[i];
        ck_assert_int_ge(r->nfields, 2);
        const char *k = r->f[0], *val = r->f[1];
        if (strcmp(k, "version") == 0)
            v->version = (uint32_t)strtoul(val, NULL, 10);
        else if (strcmp(k, "executable") == 0)
            snprintf(v->name, sizeof v->name, "%s", val);
        else if (strcmp(k, "hash") == 0)
            v->hash = (uint32_t)strtoul(val, NULL, 16);
        else if (strcmp(k, "runcount") == 0)
            v->runs = (uint32_t)strtoul(val, NULL, 10);
        else if (strcmp(k, "run") == 0 && v->nrun < KT_PREFETCH_MAX_RUNS)
            v->run[v->nrun++] = truth_time(val);
    }
    tsv_free(&t);
}

START_TEST(reads_back_synthetic_files_exactly_as_specified)
{
    const char *mk = getenv("KT_MKPREFETCH");
    ck_assert_ptr_nonnull(mk);
    char *dir = path_join(testdata_dir(), "windows/prefetch");
    char tmp[] = "/tmp/kt-test-prefetch-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    size_t specs = 0;
    bool saw_after_cutoff = false;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".spec") != 0)
            continue;
        specs++;
        char *spec = path_join(dir, e->d_name);
        spec_values want;
        spec_load(spec, &want);
        /* Named as Windows names it: NAME-HASH.pf. */
        char stem[256], windows_name[256];
        snprintf(stem, sizeof stem, "%.*s", (int)(n - 5), e->d_name);
        snprintf(windows_name, sizeof windows_name, "%s-%08X", want.name, want.hash);
        ck_assert_str_eq(stem, windows_name);
        char out[512], cmd[2048];
        snprintf(out, sizeof out, "%s/%s.pf", tmp, stem);
        snprintf(cmd, sizeof cmd, "'%s' '%s' '%s'", mk, spec, out);
        kt_buf so = {0}, se = {0};
        ck_assert_msg(run_capture(cmd, &so, &se) == 0, "%s: %s", cmd, (char *)se.data);
        kt_buf_release(&so);
        kt_buf_release(&se);

        kt_buf b = {0};
        file_load(out, &b);
        kt_prefetch pf;
        kt_strlist w = {0};
        kt_error err = {0};
        ck_assert_msg(kt_prefetch_read(b.data, b.len, &pf, &w, &err) == 0, "%s: %s", stem, err.msg);
        ck_assert_msg(w.count == 0, "%s: warning '%s'", stem, w.items[0]);
        ck_assert_uint_eq(pf.version, want.version);
        ck_assert_str_eq(pf.executable, want.name);
        ck_assert_uint_eq(pf.hash, want.hash);
        ck_assert_uint_eq(pf.run_count, want.runs);
        ck_assert_uint_eq(pf.nruns, want.nrun);
        for (size_t i = 0; i < want.nrun; i++)
            ck_assert_int_eq(pf.runs[i], want.run[i]);
        ck_assert(!pf.compressed);
        if (pf.nruns && pf.runs[0] > truth_time("2024-09-29T04:00:00Z"))
            saw_after_cutoff = true;
        kt_strlist_release(&w);
        kt_buf_release(&b);
        unlink(out);
        free(spec);
    }
    closedir(d);
    rmdir(tmp);
    free(dir);
    ck_assert_uint_ge(specs, 2);
    ck_assert(saw_after_cutoff);
}
END_TEST

/* The real reader, put back after each test (CK_FORK=no: a failed test
 * must not leave a stand-in reader to the tests after it). */
static char *real_reader;

static void save_reader(void)
{
    const char *r = getenv("KAVTRACE_PREFETCH_READER");
    ck_assert_ptr_nonnull(r);
    real_reader = strdup(r);
}

static void restore_reader(void)
{
    setenv("KAVTRACE_PREFETCH_READER", real_reader, 1);
}

static void drop_reader(void)
{
    free(real_reader);
    real_reader = NULL;
}

/* A stand-in reader: a shell script at a temporary path. */
static char *fake_reader(const char *body)
{
    return script_file(body);
}

static size_t open_fds(void)
{
    size_t n = 0;
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

START_TEST(reports_reader_failures_clearly)
{
    kt_buf b = {0};
    load(TASKHOST_PF, &b);
    size_t fds = open_fds();
    kt_prefetch pf = {.version = 99};
    kt_error err = {0};

    setenv("KAVTRACE_PREFETCH_READER", "/nonexistent/kavtrace-prefetch", 1);
    ck_assert_str_eq(kt_prefetch_reader_path(), "/nonexistent/kavtrace-prefetch");
    ck_assert_int_eq(kt_prefetch_read(b.data, b.len, &pf, NULL, &err), KT_EIO);
    ck_assert_str_eq(err.msg,
                     "cannot run '/nonexistent/kavtrace-prefetch': No such file or directory");

    struct {
        const char *script, *message;
    } cases[] = {
        {"exit 3", "' exited with status 3"},
        {"kill -SEGV $$", "' killed by signal 11 (Segmentation fault)"},
        {"printf 'V\\t30\\nC\\t1\\n'", "' ended without its end line"},
        {"printf 'V\\tthirty\\nC\\t1\\n.\\n'",
         "' wrote 1 malformed line (the first: line 1, a line of kind 'V' with wrong fields)"},
        {"printf 'C\\t1\\n.\\n'", "' gave no format version"},
        {"printf 'V\\t30\\n.\\n'", "' gave no run count"},
        {"printf 'F\\tout of memory\\n'; exit 2", "': out of memory"},
    };
    kt_helper_limits lim;
    kt_helper_limits_get(&lim);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *script = fake_reader(cases[i].script);
        setenv("KAVTRACE_PREFETCH_READER", script, 1);
        ck_assert_int_eq(kt_prefetch_read(b.data, b.len, &pf, NULL, &err), KT_EIO);
        /* an exit or a signal names the memory limit it ran under */
        char want[512], note[64] = "";
        if (lim.memory && (strncmp(cases[i].message, "' exited", 8) == 0 ||
                           strncmp(cases[i].message, "' killed", 8) == 0))
            snprintf(note, sizeof note, " (under a memory limit of %llu MiB)",
                     (unsigned long long)((lim.memory + KT_HELPER_MEMORY_PER_BYTE * b.len) >> 20));
        snprintf(want, sizeof want, "'%s%s%s", script, cases[i].message, note);
        ck_assert_str_eq(err.msg, want);
        unlink(script);
        free(script);
    }
    /* The reader gets the file on stdin, and none of our descriptors: no
     * memfd and no second copy of its output pipe above fd 2. */
    char *script = fake_reader("n=$(wc -c)\n"
                               "out=$(readlink /proc/$$/fd/1)\n"
                               "for f in /proc/$$/fd/*; do\n"
                               "  [ \"${f##*/}\" -gt 2 ] || continue\n"
                               "  case \"$(readlink \"$f\")\" in\n"
                               "  *memfd:kavtrace*|\"$out\") printf 'W\\tleaked %s\\n' \"$f\";;\n"
                               "  esac\n"
                               "done\n"
                               "printf 'V\\t30\\nN\\tX\\\\tY\\nH\\t0000002A\\nC\\t%s\\n' \"$n\"\n"
                               "printf 'T\\t133724533617312456\\n.\\n'");
    setenv("KAVTRACE_PREFETCH_READER", script, 1);
    kt_strlist w = {0};
    ck_assert_int_eq(kt_prefetch_read(b.data, b.len, &pf, &w, &err), 0);
    ck_assert_uint_eq(pf.run_count, b.len);
    ck_assert_str_eq(pf.executable, "X\tY");
    ck_assert_uint_eq(pf.hash, 42);
    ck_assert_uint_eq(pf.nruns, 1);
    ck_assert_int_eq(pf.runs[0], truth_time("2024-10-03T18:22:41.7312456Z"));
    ck_assert_msg(w.count == 0, "%s", w.items[0]);
    kt_strlist_release(&w);
    unlink(script);
    free(script);

    restore_reader();
    ck_assert_uint_eq(open_fds(), fds);
    kt_buf_release(&b);
}
END_TEST

START_TEST(refuses_malformed_reader_output)
{
    kt_buf b = {0};
    load(TASKHOST_PF, &b);
    kt_prefetch pf;
    kt_error err = {0};
    /* A whole result, then each line broken in one way: the result is
     * refused, as a whole, with the same error. */
    const char *good = "V\\t30\\nN\\tX\\nH\\t0000002A\\nC\\t3\\nT\\t133724533617312456\\n"
                       "D\\t130922646062049644\\t66F451BC\\t\\\\\\\\VOLUME\\n";
    static const struct {
        const char *line, *why;
    } bad[] = {
        {"\\n", "not a line of the protocol"},                   /* an empty line */
        {"Q\\tx\\n", "unknown kind 'Q'"},                        /* an unknown kind */
        {"Zx\\n", "not a line of the protocol"},                 /* no TAB after the kind */
        {"Z\\tx\\n", "a line of kind 'Z' with wrong fields"},    /* a field where there is none */
        {"N\\tbad\\\\q\\n", "not a line of the protocol"},       /* an unknown escape */
        {"H\\t0x2A\\n", "a line of kind 'H' with wrong fields"}, /* a hash with a prefix */
        {"T\\t-5\\n", "a line of kind 'T' with wrong fields"},   /* a negative time */
        {"C\\t4294967296\\n", "a line of kind 'C' with wrong fields"}, /* a count over 32 bits */
        {"D\\t1\\t2\\n", "a line of kind 'D' with wrong fields"}, /* a volume short of its path */
        {"W\\n", "a line of kind 'W' with wrong fields"},         /* a warning without its text */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[1024];
        snprintf(body, sizeof body, "cat >/dev/null; printf '%s%s.\\n'", good, bad[i].line);
        char *script = fake_reader(body);
        setenv("KAVTRACE_PREFETCH_READER", script, 1);
        ck_assert_msg(kt_prefetch_read(b.data, b.len, &pf, NULL, &err) == KT_EIO, "case %zu", i);
        char want[512];
        snprintf(want, sizeof want, "'%s' wrote 1 malformed line (the first: line 7, %s)", script,
                 bad[i].why);
        ck_assert_str_eq(err.msg, want);
        unlink(script);
        free(script);
    }
    /* the same lines with nothing broken, and a line after the end */
    for (int after = 0; after < 2; after++) {
        char body[1024];
        snprintf(body, sizeof body, "cat >/dev/null; printf '%s.\\n%s'", good,
                 after ? "W\\tlate\\n" : "");
        char *script = fake_reader(body);
        setenv("KAVTRACE_PREFETCH_READER", script, 1);
        kt_strlist w = {0};
        ck_assert_int_eq(kt_prefetch_read(b.data, b.len, &pf, &w, &err), after ? KT_EIO : 0);
        if (!after) {
            ck_assert_str_eq(pf.executable, "X");
            ck_assert_uint_eq(pf.hash, 42);
            ck_assert_uint_eq(pf.run_count, 3);
            ck_assert_uint_eq(pf.nruns, 1);
        } else {
            char want[512];
            snprintf(want, sizeof want,
                     "'%s' wrote 1 malformed line (the first: line 8, after the end line)", script);
            ck_assert_str_eq(err.msg, want);
        }
        ck_assert_uint_eq(w.count, 0);
        kt_strlist_release(&w);
        unlink(script);
        free(script);
    }
    restore_reader();
    kt_buf_release(&b);
}
END_TEST

START_TEST(reader_reads_a_pipe)
{
    /* Standard input need not be a seekable file. */
    char *path = path_join(corpus_dir(), CMD10_PF);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cat '%s' | '%s'", path, real_reader);
    kt_buf out = {0};
    ck_assert_int_eq(run_capture(cmd, &out, NULL), 0);
    ck_assert_str_eq((char *)out.data, "Z\nV\t30\nN\tCMD.EXE\nH\tD269B812\nC\t55\n"
                                       "T\t130971028239810694\nT\t130968665427887265\n"
                                       "T\t130964236484058698\nT\t130964236487268912\n"
                                       "T\t130964062909356554\nT\t130964062913441634\n"
                                       "T\t130960717496670183\nT\t130948652615798615\n"
                                       "D\t130922646062049644\t66F451BC\t"
                                       "\\\\VOLUME{01d12173f395296c-66f451bc}\n"
                                       "D\t130922674662434681\t8C9F49EC\t"
                                       "\\\\VOLUME{01d1217a9c4c6779-8c9f49ec}\n.\n");
    kt_buf_release(&out);
    free(path);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("prefetch");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_unchecked_fixture(tc, save_reader, drop_reader);
    tcase_add_checked_fixture(tc, NULL, restore_reader);
    tcase_add_test(tc, reads_every_corpus_prefetch_file);
    tcase_add_test(tc, windows_10_file_gives_all_eight_run_times_newest_first);
    tcase_add_test(tc, reads_windows_11_format_with_format_30_layout);
    tcase_add_test(tc, own_xpress_huffman_decompression_matches_libscca);
    tcase_add_test(tc, refuses_what_is_not_a_prefetch_file);
    tcase_add_test(tc, refuses_truncated_and_garbage_input);
    tcase_add_test(tc, survives_bit_flips);
    tcase_add_test(tc, reads_back_synthetic_files_exactly_as_specified);
    tcase_add_test(tc, reports_reader_failures_clearly);
    tcase_add_test(tc, refuses_malformed_reader_output);
    tcase_add_test(tc, reader_reads_a_pipe);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
