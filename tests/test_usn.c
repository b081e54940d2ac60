/* The NTFS change journal: the record decoder on hand-made records (V2,
 * V3, V4, page-tail zeros, damage of every kind), and scenario
 * kes-usn-removed (testdata/usn/), whose journal is the one trace of a KES
 * install and of its removal after the cutoff, against its ground truth
 * (testdata/usn/expected.tsv). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tsk/libtsk.h>
#include <tsk/fs/tsk_ntfs.h>

#include "kavtrace/fs.h"
#include "kavtrace/scan.h"
#include "kavtrace/usn.h"
#include "testutil.h"
#include "tsk_util.h"

static kt_artifact_set defs;

static void load_defs(void)
{
    load_shipped_artifacts(&defs);
}

static void unload_defs(void)
{
    kt_artifact_set_release(&defs);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* A V2 (version 2) or V3 record of name (ASCII) at p; its length. */
static size_t make_record(uint8_t *p, int version, uint64_t fref, uint64_t pref, int64_t usn,
                          uint64_t ft, uint32_t reason, uint32_t attrs, const char *name)
{
    size_t n = strlen(name), head = version == 2 ? 60 : 76, b = version == 2 ? 24 : 40;
    size_t len = (head + 2 * n + 7) / 8 * 8;
    memset(p, 0, len);
    put32(p, (uint32_t)len);
    put16(p + 4, (uint16_t)version);
    put64(p + 8, fref);
    put64(p + (version == 2 ? 16 : 24), pref);
    put64(p + b, (uint64_t)usn);
    put64(p + b + 8, ft);
    put32(p + b + 16, reason);
    put32(p + b + 28, attrs);
    put16(p + b + 32, (uint16_t)(2 * n));
    put16(p + b + 34, (uint16_t)head);
    for (size_t i = 0; i < n; i++)
        put16(p + head + 2 * i, (uint8_t)name[i]);
    return len;
}

/* 2024-05-14T09:12:30.2500001Z as FILETIME */
#define FT_2024 UINT64_C(133601515502500001)

START_TEST(decodes_v2_v3_skips_v4_and_zeros)
{
    uint8_t buf[4096] = {0};
    size_t o =
        make_record(buf, 2, UINT64_C(201) | UINT64_C(1) << 48, 5 | UINT64_C(5) << 48, 4096, FT_2024,
                    KT_USN_FILE_CREATE | KT_USN_CLOSE, KT_USN_ATTR_DIRECTORY, "Kaspersky Lab");
    size_t v3 = o + 48; /* 48 zero bytes between: an unused page tail */
    o = v3 + make_record(buf + v3, 3, 202 | UINT64_C(2) << 48, 201 | UINT64_C(1) << 48, 8192,
                         FT_2024 + 1, KT_USN_FILE_DELETE | KT_USN_CLOSE, 0x20, "avp.exe");
    size_t v4 = o; /* a range record: 64 bytes and one 16-byte extent */
    put32(buf + v4, 80);
    put16(buf + v4 + 4, 4);
    o += 80;

    size_t off = 0;
    kt_usn_record r;
    ck_assert_int_eq(kt_usn_next(buf, o, &off, &r, NULL), KT_USN_RECORD);
    ck_assert_uint_eq(r.major, 2);
    ck_assert_uint_eq(KT_USN_REF_ENTRY(r.file_ref), 201);
    ck_assert_uint_eq(KT_USN_REF_SEQ(r.file_ref), 1);
    ck_assert_uint_eq(KT_USN_REF_ENTRY(r.parent_ref), 5);
    ck_assert_int_eq(r.usn, 4096);
    ck_assert(r.time == truth_time("2024-05-14T09:12:30.2500001Z"));
    ck_assert_uint_eq(r.reason, KT_USN_FILE_CREATE | KT_USN_CLOSE);
    ck_assert_str_eq(r.name, "Kaspersky Lab");
    ck_assert_int_eq(kt_usn_next(buf, o, &off, &r, NULL), KT_USN_ZERO);
    ck_assert_uint_eq(off, v3);
    ck_assert_int_eq(kt_usn_next(buf, o, &off, &r, NULL), KT_USN_RECORD);
    ck_assert_uint_eq(r.major, 3);
    ck_assert_uint_eq(KT_USN_REF_ENTRY(r.file_ref), 202);
    ck_assert_uint_eq(KT_USN_REF_SEQ(r.file_ref), 2);
    ck_assert_uint_eq(KT_USN_REF_ENTRY(r.parent_ref), 201);
    ck_assert_int_eq(r.usn, 8192);
    ck_assert(r.time == truth_time("2024-05-14T09:12:30.2500002Z"));
    ck_assert_str_eq(r.name, "avp.exe");
    ck_assert_int_eq(kt_usn_next(buf, o, &off, &r, NULL), KT_USN_RANGE);
    ck_assert_uint_eq(off, o);

    char names[256];
    kt_usn_reason_names(KT_USN_FILE_DELETE | KT_USN_CLOSE | 0x4000000u, names, sizeof names);
    ck_assert_str_eq(names, "FILE_DELETE|CLOSE|0x4000000");
}
END_TEST

/* Every cut of a record asks for more (never reads past the end); every
 * damaged field is a bad record, skipped 8 bytes at a time. */
START_TEST(damaged_records_are_refused_within_bounds)
{
    uint8_t rec[128];
    size_t len = make_record(rec, 2, 70 | UINT64_C(1) << 48, 5 | UINT64_C(5) << 48, 0, FT_2024,
                             KT_USN_CLOSE, 0, "klif.sys");
    kt_usn_record r;
    for (size_t cut = 1; cut < len; cut++) {
        uint8_t *p = malloc(cut); /* exact size: ASan sees any read past it */
        memcpy(p, rec, cut);
        size_t off = 0;
        kt_usn_status st = kt_usn_next(p, cut, &off, &r, NULL);
        ck_assert_msg(st == KT_USN_SHORT, "cut at %zu: %d", cut, st);
        ck_assert_uint_eq(off, 0);
        free(p);
    }
    struct {
        size_t at;
        uint32_t value;
        int width;
        const char *why;
    } damage[] = {
        {0, 61, 4, "multiple of 8"},       /* length */
        {0, 4096, 4, "too large"},         /* length */
        {0, 56, 4, "shorter than"},        /* length below V2's header */
        {4, 5, 2, "unknown major"},        /* version */
        {56, 200, 2, "file name outside"}, /* name length */
        {58, 20, 2, "file name outside"},  /* name offset inside the header */
        {56, 0, 2, "file name outside"},   /* no name */
        {32, 0, 4, "time stamp"},          /* FILETIME 0 */
        {24 + 7, 0x80, 1, "negative USN"}, /* USN's top byte */
    };
    for (size_t i = 0; i < sizeof damage / sizeof damage[0]; i++) {
        uint8_t p[128];
        memcpy(p, rec, len);
        if (damage[i].at == 32)
            memset(p + 32, 0, 8);
        else if (damage[i].width == 4)
            put32(p + damage[i].at, damage[i].value);
        else if (damage[i].width == 2)
            put16(p + damage[i].at, (uint16_t)damage[i].value);
        else
            p[damage[i].at] = (uint8_t)damage[i].value;
        size_t off = 0;
        const char *why = NULL;
        ck_assert_int_eq(kt_usn_next(p, len, &off, &r, &why), KT_USN_BAD);
        ck_assert_uint_eq(off, 8);
        ck_assert_msg(why && strstr(why, damage[i].why), "damage %zu: %s", i, why ? why : "-");
    }
    /* a V3 record whose ids use their high half is not NTFS's */
    uint8_t p[128];
    size_t l3 = make_record(p, 3, 70, 5, 0, FT_2024, KT_USN_CLOSE, 0, "x");
    put64(p + 16, 1);
    size_t off = 0;
    ck_assert_int_eq(kt_usn_next(p, l3, &off, &r, NULL), KT_USN_BAD);
    /* a zero length before other bytes is damage, not a page tail */
    uint8_t z[16] = {0, 0, 0, 0, 2, 0, 0, 0};
    off = 0;
    ck_assert_int_eq(kt_usn_next(z, sizeof z, &off, &r, NULL), KT_USN_BAD);
}
END_TEST

static const char *tri_name(kt_tri v)
{
    return v == KT_TRUE ? "true" : v == KT_FALSE ? "false" : "null";
}

static void check_time(const char *what, kt_time got, const char *want)
{
    char g[KT_TIME_ISO_MAX];
    kt_time_format_iso(got, g);
    if (strcmp(want, "null") == 0)
        ck_assert_msg(got == KT_TIME_NONE, "%s is %s, want null", what, g);
    else
        ck_assert_msg(got == truth_time(want), "%s is %s, want %s", what, g, want);
}

static void check_str(const char *what, const char *got, const char *want)
{
    const char *g = got && got[0] ? got : "null";
    ck_assert_msg(strcmp(g, want) == 0, "%s is '%s', want '%s'", what, g, want);
}

static const kt_product_finding *product(const kt_system_finding *f, const char *id)
{
    for (size_t k = 0; k < f->nproducts; k++)
        if (strcmp(f->products[k].id, id) == 0)
            return &f->products[k];
    return NULL;
}

static const kt_product_state *state(const kt_system_finding *f, const char *milestone,
                                     const char *id)
{
    for (size_t i = 0; i < f->nstates; i++)
        if (strcmp(f->states[i].milestone, milestone) == 0)
            for (size_t k = 0; k < f->states[i].nproducts; k++)
                if (strcmp(f->states[i].products[k].id, id) == 0)
                    return &f->states[i].products[k];
    return NULL;
}

static void scan(const char *path, kt_scan *s)
{
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, path, s, NULL, NULL, &err) == 0, "%s: %s", path, err.msg);
    ck_assert_uint_eq(s->nsystems, 1);
}

static bool has_diag(const kt_scan *s, const char *code, const char *text)
{
    for (size_t i = 0; i < s->warnings.count; i++) {
        const kt_diag *d = &s->warnings.items[i];
        if (d->code && strcmp(d->code, code) == 0 && strstr(d->message, text))
            return true;
    }
    return false;
}

/* The scan against a ground truth (usn/expected.tsv): every verdict,
 * product field, state and event it names, and no other change-journal
 * event. An event row may name its volume and store (otherwise: the
 * system's volume, store 0); one on another volume than the system's
 * must be marked as found on a data volume of it. lossy: a source was
 * read only in part, so a verdict's false is null. */
static void check_truth_file(const kt_scan *s, const char *file, bool lossy)
{
    const kt_scan_system *sys = &s->systems[0];
    const kt_system_finding *f = &sys->findings;
    tsv t;
    truth_load(&t, file);
    size_t nevents = 0;
    for (size_t i = 0; i < t.count; i++) {
        tsv_row *r = &t.rows[i];
        const char *scope = r->f[0];
        char what[256];
        snprintf(what, sizeof what, "%s:%d", file, r->line);
        if (strcmp(scope, "event") == 0) {
            ck_assert(r->nfields == 5 || r->nfields == 7);
            int volume = r->nfields == 7 ? atoi(r->f[5]) : sys->volume->index;
            int store = r->nfields == 7 ? atoi(r->f[6]) : 0;
            bool found = false;
            for (size_t k = 0; k < s->tl.count && !found; k++) {
                const kt_event *e = &s->tl.items[k];
                found =
                    e->artifact && strcmp(kt_artifact_source(e->artifact), "usn") == 0 &&
                    e->volume == volume && e->store == store &&
                    e->data_volume == (volume != sys->volume->index) &&
                    kt_event_system(e) == sys->volume->index && e->time == truth_time(r->f[1]) &&
                    strcmp(kt_category_name(e->category), r->f[2]) == 0 && e->path &&
                    strcmp(e->path, r->f[3]) == 0 && e->value && strcmp(e->value, r->f[4]) == 0 &&
                    e->precision == KT_PREC_100NS && !e->allocated;
            }
            ck_assert_msg(found, "%s: no such event", what);
            nevents++;
            continue;
        }
        ck_assert_msg(r->nfields == 3, "%s: %d fields", what, r->nfields);
        const char *field = r->f[1], *want = r->f[2];
        if (strcmp(scope, "system") == 0) {
            check_str(what, strcmp(field, "os") == 0 ? kt_os_name(sys->sys.os) : sys->sys.hostname,
                      want);
        } else if (strcmp(scope, "verdict") == 0) {
            bool known = false;
            for (int v = 0; v < KT_V_COUNT; v++)
                if (strcmp(kt_verdict_name((kt_verdict)v), field) == 0) {
                    known = true;
                    check_str(what, tri_name(f->verdicts[v]),
                              lossy && strcmp(want, "false") == 0 ? "null" : want);
                }
            ck_assert_msg(known, "%s: unknown verdict", what);
        } else if (strncmp(scope, "product:", 8) == 0) {
            const kt_product_finding *p = product(f, scope + 8);
            ck_assert_msg(p != NULL, "%s: no such product", what);
            if (strcmp(field, "version") == 0)
                check_str(what, p->version, want);
            else if (strcmp(field, "installed") == 0)
                check_time(what, p->installed, want);
            else if (strcmp(field, "removed") == 0)
                check_time(what, p->removed, want);
            else if (strcmp(field, "status") == 0)
                check_str(what, kt_status_name(p->status), want);
            else if (strcmp(field, "removal_method") == 0)
                check_str(what, kt_removal_name(p->removal_method), want);
            else
                ck_abort_msg("%s: unknown field", what);
        } else if (strncmp(scope, "state:", 6) == 0) {
            char id[64], key[32];
            ck_assert(sscanf(field, "%63s %31s", id, key) == 2);
            const kt_product_state *ps = state(f, scope + 6, id);
            ck_assert_msg(ps != NULL, "%s: no state", what);
            if (strcmp(key, "installed") == 0)
                check_str(what, tri_name(ps->installed), want);
            else if (strcmp(key, "version") == 0)
                check_str(what, ps->version, want);
            else
                ck_abort_msg("%s: unknown field", what);
        } else {
            ck_abort_msg("%s: unknown scope '%s'", what, scope);
        }
    }
    size_t usn_events = 0;
    for (size_t k = 0; k < s->tl.count; k++)
        if (s->tl.items[k].artifact &&
            strcmp(kt_artifact_source(s->tl.items[k].artifact), "usn") == 0)
            usn_events++;
    ck_assert_uint_eq(usn_events, nevents);
    tsv_free(&t);
}

static void check_truth(const kt_scan *s, bool lossy)
{
    check_truth_file(s, "usn/expected.tsv", lossy);
}

START_TEST(the_journal_dates_the_removal_after_the_cutoff)
{
    char *path = path_join(evidence_dir(), "usn/kes-usn-removed.raw");
    kt_scan s = {0};
    scan(path, &s);
    check_truth(&s, false);
    /* the record whose parent entry was reused since: partial, said so */
    ck_assert(has_diag(&s, "usn.partial", "1 of 22 records"));
    ck_assert(!has_diag(&s, "usn", "damaged"));
    kt_scan_release(&s);
    free(path);
}
END_TEST

/* The journal is opened by its entry, found in the volume's own $MFT
 * table, not by libtsk's path lookup: that opens the root directory
 * through libtsk, whose first directory open reads every MFT entry again
 * (on a 100k-entry volume, 98 MiB more) to build its orphan map. After
 * the scan, libtsk has no orphan map: it never opened a directory. */
START_TEST(the_journal_is_found_without_reading_the_mft_again)
{
    char *path = path_join(evidence_dir(), "usn/kes-usn-removed.raw");
    kt_scan s = {0};
    scan(path, &s);
    check_truth(&s, false);
    kt_fs *fs = NULL;
    for (size_t i = 0; i < s.inv.vols.count && fs == NULL; i++)
        if (s.inv.volumes[i].fs && kt_fs_get_kind(s.inv.volumes[i].fs) == KT_FS_NTFS)
            fs = s.inv.volumes[i].fs;
    ck_assert_ptr_nonnull(fs);
    ck_assert_uint_eq(kt_fs_mft_passes(fs, NULL), 1);
    const NTFS_INFO *ntfs = (const NTFS_INFO *)kt_fs_tsk_info(fs);
    ck_assert_ptr_nonnull(ntfs);
    ck_assert_ptr_null(ntfs->orphan_map);
    kt_scan_release(&s);
    free(path);
}
END_TEST

/* KES installed to the data volume D:\Program Files and removed after
 * the cutoff: the data volume (Program Files but no Windows folder) is
 * not a system of its own; its journal, and the journal inside its shadow
 * copy (events marked with the store), are the system's, and date the
 * install and the removal. */
START_TEST(a_data_volume_journal_and_its_shadow_copy_are_read)
{
    char *path = path_join(evidence_dir(), "usn/kes-usn-datavol.raw");
    kt_scan s = {0};
    scan(path, &s);
    ck_assert_int_eq(s.systems[0].volume->index, 0);
    check_truth_file(&s, "usn/expected-datavol.tsv", false);
    ck_assert(has_diag(&s, "system.data_volume", "data volume of the Windows on volume 0"));
    const kt_event *store = NULL;
    for (size_t k = 0; k < s.tl.count; k++)
        if (s.tl.items[k].store == 1)
            store = &s.tl.items[k];
    ck_assert(store != NULL);
    check_str("store id", store->store_id, "4b55534e-0000-4000-8000-000000001006");
    check_time("store created", store->store_created, "2024-10-06T02:00:07.7654321Z");
    kt_scan_release(&s);
    free(path);
}
END_TEST

/* The image's bytes of $J: its first page after the sparse head, found by
 * its first record's name (UTF-16LE "Mozilla Firefox"). */
static size_t find_utf16(const kt_buf *img, const char *name)
{
    uint8_t pat[64];
    size_t n = strlen(name);
    for (size_t i = 0; i < n; i++)
        put16(pat + 2 * i, (uint8_t)name[i]);
    for (size_t i = 0; i + 2 * n <= img->len; i++)
        if (memcmp(img->data + i, pat, 2 * n) == 0)
            return i;
    ck_abort_msg("'%s' not in the image", name);
    return 0;
}

/* Damage in the journal: a warning naming it, every other record still
 * read (the damaged one is an unrelated folder's), and the journal counted
 * as read in part: no false verdict rests on it. */
START_TEST(a_damaged_record_is_a_warning_and_the_rest_is_read)
{
    char *src = path_join(evidence_dir(), "usn/kes-usn-removed.raw");
    kt_buf img = {0};
    file_load(src, &img);
    size_t name = find_utf16(&img, "Mozilla Firefox");
    /* the first record starts 60 bytes before its name (V2) */
    put32(img.data + name - 60, 13);
    char tmpl[] = "/tmp/kt-usn-XXXXXX";
    int fd = mkstemp(tmpl);
    ck_assert_int_ge(fd, 0);
    ck_assert(write(fd, img.data, img.len) == (ssize_t)img.len);
    close(fd);
    kt_scan s = {0};
    scan(tmpl, &s);
    ck_assert(has_diag(&s, "usn", "damaged record"));
    check_truth(&s, true);
    kt_scan_release(&s);
    unlink(tmpl);
    kt_buf_release(&img);
    free(src);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("usn");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_unchecked_fixture(tc, load_defs, unload_defs);
    tcase_add_test(tc, decodes_v2_v3_skips_v4_and_zeros);
    tcase_add_test(tc, damaged_records_are_refused_within_bounds);
    tcase_add_test(tc, the_journal_dates_the_removal_after_the_cutoff);
    tcase_add_test(tc, a_damaged_record_is_a_warning_and_the_rest_is_read);
    tcase_add_test(tc, the_journal_is_found_without_reading_the_mft_again);
    tcase_add_test(tc, a_data_volume_journal_and_its_shadow_copy_are_read);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
