/* The writers as the library renders them: the run log (scan.log), text
 * from evidence escaped, and the output folder written whole. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kavtrace/json.h"
#include "kavtrace/output.h"
#include "kavtrace/provenance.h"
#include "kavtrace/scan.h"
#include "kavtrace/text.h"
#include "kavtrace/writers.h"
#include "testutil.h"

static kt_artifact_set defs;

static void load_defs(void)
{
    load_shipped_artifacts(&defs);
}

static void unload_defs(void)
{
    kt_artifact_set_release(&defs);
}

/* How many lines of text start with prefix. */
static size_t count_lines_starting(const char *text, const char *prefix)
{
    size_t n = 0, len = strlen(prefix);
    for (const char *line = text; line && *line;) {
        if (strncmp(line, prefix, len) == 0)
            n++;
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    return n;
}

START_TEST(scan_log_says_each_thing_once_in_order)
{
    char *path = path_join(evidence_dir(), "corrupt/truncated.raw");
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_msg(kt_inventory_hash(&s.inv, NULL, NULL, &err) == 0, "%s", err.msg);
    kt_buf b = {0};
    ck_assert_int_eq(kt_scan_log(&b, &s, NULL), 0);
    const char *log = (const char *)b.data;

    /* "kavtrace VERSION scan of PATH", then "started TIME". */
    char tail[4200];
    snprintf(tail, sizeof tail, " scan of %s", path);
    const char *nl = strchr(log, '\n');
    ck_assert_ptr_nonnull(nl);
    ck_assert_msg(strncmp(log, "kavtrace ", 9) == 0 && (size_t)(nl - log) > strlen(tail) &&
                      strncmp(nl - strlen(tail), tail, strlen(tail)) == 0 &&
                      strncmp(nl + 1, "started ", 8) == 0,
                  "%s", log);
    /* each diagnostic once: its warnings, and its notes (the white-label
     * search's) */
    size_t notes = 0;
    for (size_t i = 0; i < s.warnings.count; i++)
        notes += s.warnings.items[i].severity == KT_SEV_NOTE;
    ck_assert_uint_eq(count_lines_starting(log, "WARNING "), s.warnings.count - notes);
    ck_assert_uint_eq(count_lines_starting(log, "WARNING "), 3);
    ck_assert_uint_eq(count_lines_starting(log, "events "), 1);
    ck_assert_uint_eq(count_lines_starting(log, "media sha256 "), 1);
    ck_assert_uint_eq(count_lines_starting(log, "finished "), 1);
    ck_assert_uint_eq(count_lines_starting(log, "ERROR "), 0);
    char media[128];
    snprintf(media, sizeof media, "media sha256 %s md5 %s\n", s.inv.digest.sha256,
             s.inv.digest.md5);
    const char *w = strstr(log, "\nWARNING "), *e = strstr(log, "\nevents "),
               *m = strstr(log, media), *f = strstr(log, "\nfinished ");
    ck_assert(w && e && m && f);
    ck_assert(w < e && e < m && m < f);
    ck_assert_int_eq(log[b.len - 1], '\n');
    kt_buf_release(&b);
    kt_scan_release(&s);
    free(path);
}
END_TEST

START_TEST(scan_log_of_a_failed_scan_has_its_error_and_no_end)
{
    char *path = path_join(evidence_dir(), "corrupt/random.img");
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_int_ne(kt_scan_run(&defs, path, &s, NULL, NULL, &err), 0);
    kt_buf b = {0};
    kt_strlist errors = {0};
    ck_assert_int_eq(kt_strlist_add(&errors, err.msg), 0);
    ck_assert_int_eq(kt_scan_log(&b, &s, &errors), 0);
    kt_strlist_release(&errors);
    const char *log = (const char *)b.data;
    char line[700];
    snprintf(line, sizeof line, "\nERROR %s\n", err.msg);
    ck_assert_ptr_nonnull(strstr(log, line));
    ck_assert_uint_eq(count_lines_starting(log, "events 0, "), 1);
    ck_assert_uint_eq(count_lines_starting(log, "finished "), 0);
    ck_assert_uint_eq(count_lines_starting(log, "media "), 0);
    kt_buf_release(&b);
    kt_scan_release(&s);
    free(path);
}
END_TEST

/* ---- text from evidence ---------------------------------------------- */

/* kavtrace/text.h undone: every \xHH back to the byte HH. */
static void unescape(const char *s, kt_buf *out)
{
    for (size_t i = 0; s[i]; i++) {
        unsigned v;
        if (s[i] == '\\' && s[i + 1] == 'x' && isxdigit((unsigned char)s[i + 2]) &&
            isxdigit((unsigned char)s[i + 3]) && sscanf(s + i + 2, "%2x", &v) == 1) {
            unsigned char b = (unsigned char)v;
            ck_assert(kt_buf_append(out, &b, 1) == 0);
            i += 3;
        } else {
            ck_assert(kt_buf_append(out, s + i, 1) == 0);
        }
    }
    ck_assert(kt_buf_append(out, "", 0) == 0);
}

/* A JSON string kt_json_quote wrote, decoded (its escapes only). */
static void json_unquote(const char *q, kt_buf *out)
{
    ck_assert_int_eq(q[0], '"');
    for (size_t i = 1; q[i] != '"'; i++) {
        ck_assert_msg(q[i] != '\0' && (unsigned char)q[i] >= 0x20, "raw control in %s", q);
        char c = q[i];
        if (c == '\\') {
            c = q[++i];
            if (c == 'u') {
                unsigned v;
                ck_assert(sscanf(q + i + 1, "%4x", &v) == 1 && v < 0xa0);
                /* kavtrace writes \u only for C0, DEL and C1 */
                uint8_t u[2] = {(uint8_t)(0xc0 | v >> 6), (uint8_t)(0x80 | (v & 0x3f))};
                uint8_t one = (uint8_t)v;
                ck_assert(kt_buf_append(out, v < 0x80 ? &one : u, v < 0x80 ? 1 : 2) == 0);
                i += 4;
                continue;
            }
            c = c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c;
        }
        ck_assert(kt_buf_append(out, &c, 1) == 0);
    }
    ck_assert(kt_buf_append(out, "", 0) == 0);
}

START_TEST(text_escapes_bytes_and_controls_reversibly)
{
    struct {
        const char *in, *plain, *json;
    } cases[] = {
        {"plain text", "plain text", "\"plain text\""},
        {"caf\xc3\xa9 \xd0\x96 \xe2\x82\xac \xf0\x9f\x98\x80",
         "caf\xc3\xa9 \xd0\x96 \xe2\x82\xac \xf0\x9f\x98\x80",
         "\"caf\xc3\xa9 \xd0\x96 \xe2\x82\xac \xf0\x9f\x98\x80\""},
        {"bad\xff\xfe", "bad\\xff\\xfe", "\"bad\\\\xff\\\\xfe\""},
        {"\x1b[31mred\x07", "\\x1b[31mred\\x07", "\"\\u001b[31mred\\u0007\""},
        {"C1 \xc2\x9b"
         "2J, raw \x9b",
         "C1 \\xc2\\x9b2J, raw \\x9b", "\"C1 \\u009b2J, raw \\\\x9b\""},
        {"del\x7f bs\x08 cr\r lf\n tab\t", "del\\x7f bs\\x08 cr\\x0d lf\\x0a tab\\x09",
         "\"del\\u007f bs\\u0008 cr\\r lf\\n tab\\t\""},
        /* overlong '/', a surrogate, past U+10FFFF, a cut sequence */
        {"\xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82",
         "\\xc0\\xaf \\xed\\xa0\\x80 \\xf4\\x90\\x80\\x80 \\xe2\\x82",
         "\"\\\\xc0\\\\xaf \\\\xed\\\\xa0\\\\x80 \\\\xf4\\\\x90\\\\x80\\\\x80 \\\\xe2\\\\x82\""},
        /* A backslash: as it is, unless it would read as an escape. */
        {"C:\\Windows\\x86\\x4g \\x41", "C:\\Windows\\x5cx86\\x4g \\x5cx41",
         "\"C:\\\\Windows\\\\x5cx86\\\\x4g \\\\x5cx41\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kt_buf p = {0}, j = {0}, back = {0};
        ck_assert_int_eq(kt_text_escape(&p, cases[i].in, KT_TEXT_PLAIN), 0);
        ck_assert(kt_buf_append(&p, "", 0) == 0);
        ck_assert_str_eq((char *)p.data, cases[i].plain);
        ck_assert(kt_text_needs_escape(cases[i].in, KT_TEXT_PLAIN) ==
                  (strcmp(cases[i].in, cases[i].plain) != 0));
        ck_assert_int_eq(kt_json_quote(&j, cases[i].in), 0);
        ck_assert_str_eq((char *)j.data, cases[i].json);
        unescape((char *)p.data, &back);
        ck_assert_str_eq((char *)back.data, cases[i].in);
        kt_buf_release(&p);
        kt_buf_release(&j);
        kt_buf_release(&back);
    }
}
END_TEST

/* kavtrace/text.h undone, as unescape, without an assertion per byte (a
 * loop of thousands would flood Check's forked reporting). */
static bool gives_back(const char *escaped, const char *want)
{
    size_t o = 0;
    for (size_t i = 0; escaped[i]; i++, o++) {
        unsigned v;
        char c = escaped[i];
        if (c == '\\' && escaped[i + 1] == 'x' && isxdigit((unsigned char)escaped[i + 2]) &&
            isxdigit((unsigned char)escaped[i + 3]) && sscanf(escaped + i + 2, "%2x", &v) == 1) {
            c = (char)v;
            i += 3;
        }
        if (want[o] != c)
            return false;
    }
    return want[o] == '\0';
}

/* UTF-8 throughout, and no control character but those allowed. */
static bool valid(const kt_buf *b, kt_text_mode mode)
{
    uint32_t cp;
    for (size_t i = 0; i < b->len;) {
        size_t len = kt_utf8_decode(b->data + i, b->len - i, &cp);
        if (len == 0 || (mode != KT_TEXT_UTF8 && kt_text_is_control(cp) &&
                         !(mode == KT_TEXT_CSV && cp == '\n')))
            return false;
        i += len;
    }
    return true;
}

START_TEST(escaped_text_is_valid_utf8_and_gives_back_every_byte)
{
    /* Random byte strings (a fixed seed): each mode's output is valid
     * UTF-8 without the controls it escapes, and unescapes to the input;
     * kt_json_quote's too, once its JSON escapes are read. */
    uint32_t x = 2463534242u;
    int bad = -1, bad_mode = -1;
    for (int round = 0; round < 2000 && bad < 0; round++) {
        char in[64];
        size_t n = 1 + round % 62;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            /* Biased towards backslash, 'x', hex digits and UTF-8 leads. */
            static const char some[] = "\\x4f\xc2\x9b\xe2\x82\xac\x1b";
            in[i] = x % 3 == 0 ? some[(x >> 8) % (sizeof some - 1)] : (char)((x >> 8) & 0xff);
            if (in[i] == '\0')
                in[i] = 'a';
        }
        in[n] = '\0';
        for (int m = 0; m < 4 && bad < 0; m++) {
            kt_buf e = {0}, dec = {0};
            kt_text_mode mode = m == 0 ? KT_TEXT_UTF8 : m == 1 ? KT_TEXT_PLAIN : KT_TEXT_CSV;
            int rc = m < 3 ? kt_text_escape(&e, in, mode) : kt_json_quote(&e, in);
            if (rc == 0)
                rc = kt_buf_append(&e, "", 0);
            if (rc == 0 && m == 3)
                json_unquote((char *)e.data, &dec);
            if (rc != 0 || (m < 3 && !valid(&e, mode)) ||
                !gives_back(m < 3 ? (char *)e.data : (char *)dec.data, in))
                bad = round, bad_mode = m;
            kt_buf_release(&e);
            kt_buf_release(&dec);
        }
    }
    ck_assert_msg(bad < 0, "round %d, mode %d (3: JSON)", bad, bad_mode);
}
END_TEST

START_TEST(csv_cells_hold_escaped_text)
{
    struct {
        const char *in, *out;
    } cases[] = {
        {"\x1b[2J\xff", "\\x1b[2J\\xff"},
        {"a,\xff", "\"a,\\xff\""},
        {"two\nlines\r\n", "\"two\nlines\\x0d\n\""},
        {"\t=1", "\\x09=1"}, /* escaped, so no longer a formula */
        {"=1\x1b", "\"'=1\\x1b\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kt_buf b = {0};
        ck_assert_int_eq(kt_csv_cell(&b, cases[i].in), 0);
        ck_assert_str_eq((char *)b.data, cases[i].out);
        kt_buf_release(&b);
    }
}
END_TEST

START_TEST(scan_log_escapes_text_from_the_evidence)
{
    kt_scan s = {0};
    s.inv.path = "ev\x1b]0;x\x07";
    kt_strlcpy(s.run_id, "20240101T000000Z-0011223344556677", sizeof s.run_id);
    ck_assert_int_eq(kt_diags_addf(&s.warnings, KT_SEV_WARNING, "file.read", 0,
                                   "var/log/a\x1b[31m\xff", NULL, "line 1: '%s'", "\r\x9b"),
                     0);
    kt_strlist errors = {0};
    ck_assert_int_eq(kt_strlist_add(&errors, "cannot write 'x\ny'"), 0);
    kt_buf b = {0};
    ck_assert_int_eq(kt_scan_log(&b, &s, &errors), 0);
    const char *log = (const char *)b.data;
    ck_assert_msg(strncmp(log, "kavtrace ", 9) == 0 &&
                      strstr(log, " run 20240101T000000Z-0011223344556677 scan of "
                                  "ev\\x1b]0;x\\x07\nstarted "),
                  "%s", log);
    ck_assert_ptr_nonnull(strstr(log, "\nERROR cannot write 'x\\x0ay'\n"));
    ck_assert_ptr_nonnull(
        strstr(log, "\nWARNING volume 0: 'var/log/a\\x1b[31m\\xff': line 1: '\\x0d\\x9b'\n"));
    ck_assert_uint_eq(count_lines_starting(log, "finished "), 0);
    for (size_t i = 0; i < b.len; i++)
        ck_assert_msg(b.data[i] == '\n' || (b.data[i] >= 0x20 && b.data[i] < 0x7f),
                      "byte 0x%02x at %zu", b.data[i], i);
    kt_buf_release(&b);
    kt_strlist_release(&errors);
    kt_diags_release(&s.warnings);
}
END_TEST

/* ---- the output folder ------------------------------------------------- */

START_TEST(a_full_device_fails_a_write_with_enospc)
{
    int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    char data[100] = "findings";
    ck_assert_int_eq(kt_write_all(fd, data, sizeof data), -ENOSPC);
    ck_assert_int_eq(kt_write_all(fd, data, 0), 0);
    close(fd);
}
END_TEST

START_TEST(run_ids_name_the_start_and_differ)
{
    char a[KT_RUN_ID_MAX], b[KT_RUN_ID_MAX];
    kt_error err = {0};
    ck_assert_int_eq(kt_run_id_new(a, &err), 0);
    ck_assert_int_eq(kt_run_id_new(b, &err), 0);
    ck_assert_uint_eq(strlen(a), 33);
    ck_assert(a[8] == 'T' && a[15] == 'Z' && a[16] == '-');
    ck_assert_uint_eq(strspn(a + 17, "0123456789abcdef"), 16);
    ck_assert_str_ne(a, b);
}
END_TEST

static bool there(const char *dir, const char *name)
{
    char p[8192];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat st;
    return lstat(p, &st) == 0;
}

START_TEST(outdir_is_written_aside_then_put_in_place_whole)
{
    char tmp[] = "/tmp/kt-outdir-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    char final[256];
    snprintf(final, sizeof final, "%s/deeper/out", tmp);
    kt_outdir o;
    kt_error err = {0};
    kt_buf b = {0};
    ck_assert(kt_buf_append(&b, "{}\n", 3) == 0);
    kt_manifest_info mi = {.version = "1", .evidence = "disk.raw", .evidence_size = 42};

    /* First run: nothing at final until the commit. */
    ck_assert_int_eq(kt_outdir_begin(&o, final, "R1", &err), 0);
    ck_assert_str_eq(strrchr(o.partial, '/'), "/.out.partial-R1");
    ck_assert_int_eq(kt_outdir_write(&o, "findings.json", &b, &err), 0);
    ck_assert_int_eq(kt_outdir_write(&o, "scan.log", &b, &err), 0);
    ck_assert(!there(final, "."));
    ck_assert_int_eq(kt_outdir_commit(&o, &mi, &err), 0);
    ck_assert_int_eq(kt_outdir_finish(&o, &err), 0);
    ck_assert(there(final, "findings.json") && there(final, "manifest.json"));
    ck_assert(!there(o.partial, "."));
    ck_assert_int_eq(kt_outdir_check(final, &err), 0);

    /* Second run, fewer files: the older folder replaced whole, gone. */
    ck_assert_int_eq(kt_outdir_begin(&o, final, "R2", &err), 0);
    ck_assert_int_eq(kt_outdir_write(&o, "scan.log", &b, &err), 0);
    ck_assert_int_eq(kt_outdir_commit(&o, &mi, &err), 0);
    ck_assert_int_eq(kt_outdir_finish(&o, &err), 0);
    ck_assert(!there(final, "findings.json") && there(final, "scan.log"));
    ck_assert(!there(o.old, "."));

    /* Third run fails: partial kept, the older one made stale. */
    ck_assert_int_eq(kt_outdir_begin(&o, final, "R3", &err), 0);
    char stale[4096];
    ck_assert_int_eq(kt_outdir_abandon(&o, stale, sizeof stale, &err), 0);
    ck_assert_str_eq(strrchr(stale, '/'), "/out.stale-R3");
    ck_assert(there(stale, "manifest.json") && there(o.partial, "."));
    ck_assert(!there(final, "."));

    /* What kavtrace did not write is never replaced. */
    ck_assert_int_eq(mkdir(final, 0755), 0);
    char notes[512];
    snprintf(notes, sizeof notes, "%s/notes.txt", final);
    FILE *f = fopen(notes, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(kt_outdir_check(final, &err), KT_EARG);
    ck_assert_str_eq(err.msg, "holds 'notes.txt', which kavtrace did not write");
    ck_assert_int_eq(kt_outdir_check(notes, &err), KT_EARG);
    ck_assert_str_eq(err.msg, "exists and is not a directory");
    /* A name that is not one of its files is refused. */
    ck_assert_int_eq(kt_outdir_begin(&o, "/relative/..", "R4", &err), KT_EARG);
    kt_buf_release(&b);
    char rm[300];
    snprintf(rm, sizeof rm, "rm -rf '%s'", tmp);
    ck_assert_int_eq(system(rm), 0);
}
END_TEST

/* --hash over media that cannot be read in full: findings.json and
 * scan.log say so, and neither shows the digest of what was read as the
 * media's hash. */
START_TEST(an_incomplete_hash_is_said_and_never_shown_as_the_medias)
{
    char *path = path_join(evidence_dir(), "corrupt/ewf-flip.E01");
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    size_t before = s.warnings.count;
    ck_assert_msg(kt_scan_hash(&s, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(s.warnings.count, before + 1);
    const kt_diag *w = &s.warnings.items[before];
    ck_assert_str_eq(w->code, "hash");
    ck_assert_int_eq(w->severity, KT_SEV_WARNING);
    ck_assert_ptr_nonnull(strstr(w->message, "the media could not be read in full: 32768 of "));
    ck_assert_ptr_nonnull(strstr(w->message, "no hash of the media is reported"));

    kt_buf j = {0};
    ck_assert_int_eq(kt_writer_json.write(&j, &s, &defs), 0);
    const char *json = (const char *)j.data;
    ck_assert_ptr_nonnull(strstr(json, "\"sha256\": null,"));
    ck_assert_ptr_nonnull(strstr(json, "\"md5\": null,"));
    ck_assert_ptr_nonnull(strstr(json, "\"sha1\": null,"));
    ck_assert_ptr_nonnull(strstr(json, "\"hash_status\": \"incomplete\""));
    ck_assert_ptr_nonnull(strstr(json, "\"hash_incomplete\": \"32768 of 67108864 bytes"));
    ck_assert_ptr_nonnull(strstr(json, "\"stored_hash_verification\": \"not verified\""));
    ck_assert_ptr_nonnull(strstr(json, "\"code\": \"hash\""));
    kt_buf_release(&j);

    kt_buf b = {0};
    ck_assert_int_eq(kt_scan_log(&b, &s, NULL), 0);
    const char *log = (const char *)b.data;
    ck_assert_uint_eq(count_lines_starting(log, "media sha256 "), 0);
    ck_assert_uint_eq(count_lines_starting(log, "WARNING the media could not be read in full: "),
                      1);
    ck_assert_uint_eq(count_lines_starting(log, "stored hash not verified: the media could not be "
                                                "read in full"),
                      1);
    kt_buf_release(&b);
    kt_scan_release(&s);
    free(path);

    /* A set that reads cleanly but no longer matches its stored hash. */
    path = path_join(evidence_dir(), "corrupt/ewf-alter.E01");
    memset(&s, 0, sizeof s);
    ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    before = s.warnings.count;
    ck_assert_msg(kt_scan_hash(&s, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(s.warnings.count, before + 1);
    ck_assert_ptr_nonnull(strstr(s.warnings.items[before].message,
                                 "the media does not match the hash stored with it: the "
                                 "computed MD5 "));
    ck_assert_int_eq(kt_writer_json.write(&j, &s, &defs), 0);
    json = (const char *)j.data;
    char want[128];
    snprintf(want, sizeof want, "\"sha256\": \"%s\"", s.inv.digest.sha256);
    ck_assert_ptr_nonnull(strstr(json, want));
    ck_assert_ptr_nonnull(strstr(json, "\"hash_status\": \"complete\""));
    ck_assert_ptr_nonnull(strstr(json, "\"stored_hash_verification\": \"mismatch\""));
    kt_buf_release(&j);
    kt_scan_release(&s);
    free(path);
}
END_TEST

/* A secret on the command line never reaches run.json or findings.json:
 * the value of any option named like a key or password, given as
 * --opt=value or as --opt value, options kavtrace does not have too. */
START_TEST(command_line_secrets_are_redacted)
{
    const char *args[] = {
        "kavtrace",
        "scan",
        "--password=hunter2",
        "--key-file",
        "/keys/bl.bek",
        "--recovery-password",
        "111111-222222",
        "--Passphrase=x y",
        "-o",
        "out",
        "--hash",
        "--token",
        "t0k",
        "--",
        "--key-file",
        "disk.E01",
    };
    const char *want[] = {
        "kavtrace",
        "scan",
        "--password=<redacted>",
        "--key-file",
        "<redacted>",
        "--recovery-password",
        "<redacted>",
        "--Passphrase=<redacted>",
        "-o",
        "out",
        "--hash",
        "--token",
        "<redacted>",
        "--",
        "--key-file",
        "disk.E01",
    };
    size_t n = sizeof args / sizeof args[0];
    kt_strlist out = {0};
    ck_assert_int_eq(kt_args_redact(args, n, &out), KT_OK);
    ck_assert_uint_eq(out.count, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(out.items[i], want[i]);
    kt_strlist_release(&out);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("writers");
    TCase *tc = tcase_create("log");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, load_defs, unload_defs);
    tcase_add_test(tc, scan_log_says_each_thing_once_in_order);
    tcase_add_test(tc, scan_log_of_a_failed_scan_has_its_error_and_no_end);
    tcase_add_test(tc, an_incomplete_hash_is_said_and_never_shown_as_the_medias);
    suite_add_tcase(s, tc);
    TCase *text = tcase_create("text");
    tcase_add_test(text, text_escapes_bytes_and_controls_reversibly);
    tcase_add_test(text, escaped_text_is_valid_utf8_and_gives_back_every_byte);
    tcase_add_test(text, csv_cells_hold_escaped_text);
    tcase_add_test(text, scan_log_escapes_text_from_the_evidence);
    suite_add_tcase(s, text);
    TCase *out = tcase_create("output");
    tcase_add_test(out, a_full_device_fails_a_write_with_enospc);
    tcase_add_test(out, run_ids_name_the_start_and_differ);
    tcase_add_test(out, outdir_is_written_aside_then_put_in_place_whole);
    tcase_add_test(out, command_line_secrets_are_redacted);
    suite_add_tcase(s, out);
    return s;
}

KT_TEST_MAIN(suite)
