#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kavtrace/image.h"
#include "testutil.h"

static kt_image *open_ok(const char *path)
{
    kt_image *img = NULL;
    kt_error err = {0};
    int rc = kt_image_open(path, &img, &err);
    ck_assert_msg(rc == 0, "cannot open '%s': %s", path, err.msg);
    return img;
}

static int open_fails(const char *path, kt_error *err)
{
    kt_image *img = (kt_image *)0x1;
    int rc = kt_image_open(path, &img, err);
    ck_assert_msg(rc < 0, "'%s' opened but should not", path);
    ck_assert_msg(img == (kt_image *)0x1, "out parameter written on error");
    ck_assert_msg(strstr(err->msg, path) != NULL, "message does not name the evidence: %s",
                  err->msg);
    return rc;
}

START_TEST(opens_every_container_with_its_format_size_and_segments)
{
    tsv c, d;
    truth_load(&c, "truth/containers.tsv");
    truth_load(&d, "truth/disks.tsv");
    ck_assert_int_ge(c.count, 10);
    for (size_t i = 0; i < c.count; i++) {
        tsv_row *r = &c.rows[i];
        char *path = path_join(evidence_dir(), r->f[1]);
        kt_image *img = open_ok(path);
        const kt_image_info *ii = kt_image_get_info(img);
        ck_assert_msg(strcmp(ii->format_name, r->f[2]) == 0, "%s: format %s, want %s", r->f[1],
                      ii->format_name, r->f[2]);
        ck_assert_msg(ii->segments.count == strtoul(r->f[3], NULL, 10), "%s: %zu segments, want %s",
                      r->f[1], ii->segments.count, r->f[3]);
        for (size_t k = 0; k < d.count; k++)
            if (strcmp(d.rows[k].f[0], r->f[0]) == 0)
                ck_assert_msg(ii->size == strtoll(d.rows[k].f[1], NULL, 10),
                              "%s: size %lld, want %s", r->f[1], (long long)ii->size,
                              d.rows[k].f[1]);
        ck_assert_int_eq(kt_image_warnings(img)->count, 0);
        kt_image_free(img);
        free(path);
    }
    tsv_free(&c);
    tsv_free(&d);
}
END_TEST

START_TEST(reads_the_same_bytes_through_every_container)
{
    char *raw = path_join(evidence_dir(), "windows.raw");
    const char *others[] = {"windows.E01",   "windows.vhd", "windows.vmdk",
                            "windows.qcow2", "windows.aff", "windows.split.000"};
    kt_image *a = open_ok(raw);
    /* Offsets across the split-raw and E01 segment boundaries (16 MiB). */
    const int64_t offs[] = {0, 512, 9437184, 16777216 - 100, 33554432 - 7, 67108864 - 512};
    for (size_t k = 0; k < sizeof others / sizeof others[0]; k++) {
        char *p = path_join(evidence_dir(), others[k]);
        kt_image *b = open_ok(p);
        for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
            char x[512], y[512];
            kt_error err = {0};
            ck_assert_int_eq(kt_image_read(a, offs[i], x, sizeof x, &err), sizeof x);
            ck_assert_int_eq(kt_image_read(b, offs[i], y, sizeof y, &err), sizeof y);
            ck_assert_msg(memcmp(x, y, sizeof x) == 0, "%s differs at %lld", others[k],
                          (long long)offs[i]);
        }
        kt_image_free(b);
        free(p);
    }
    kt_image_free(a);
    free(raw);
}
END_TEST

START_TEST(reports_ewf_stored_hashes_and_case_metadata)
{
    char *path = path_join(evidence_dir(), "windows.E01");
    kt_image *img = open_ok(path);
    const kt_image_info *ii = kt_image_get_info(img);
    /* The stored hashes are those of the raw disk the E01 was made from. */
    char *raw = path_join(evidence_dir(), "windows.raw");
    char *cmd = NULL;
    ck_assert(asprintf(&cmd, "md5sum '%s' | cut -c1-32; sha1sum '%s' | cut -c1-40", raw, raw) > 0);
    kt_buf out = {0};
    ck_assert_int_eq(run_capture(cmd, &out, NULL), 0);
    char md5[33], sha1[41];
    ck_assert_int_eq(sscanf((char *)out.data, "%32s %40s", md5, sha1), 2);
    ck_assert_str_eq(ii->stored_md5, md5);
    ck_assert_str_eq(ii->stored_sha1, sha1);
    bool has_case = false;
    for (size_t i = 0; i < ii->metadata.count; i++)
        has_case = has_case || strcmp(ii->metadata.items[i], "case_number=KT-2024-017") == 0;
    ck_assert_msg(has_case, "case number missing from EWF metadata");
    kt_buf_release(&out);
    free(cmd);
    free(raw);
    kt_image_free(img);
    free(path);
}
END_TEST

START_TEST(refuses_missing_empty_and_random_inputs)
{
    kt_error err = {0};
    char *p = path_join(evidence_dir(), "does-not-exist.E01");
    ck_assert_int_eq(open_fails(p, &err), KT_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "No such file"));
    free(p);

    p = path_join(evidence_dir(), "corrupt/empty.img");
    ck_assert_int_eq(open_fails(p, &err), KT_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "empty file"));
    free(p);
}
END_TEST

START_TEST(names_unsupported_containers)
{
    kt_error err = {0};
    char *p = path_join(corpus_dir(), "dfir-orc/ntfs.vhd.xz");
    ck_assert_int_eq(open_fails(p, &err), KT_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "xz archive"));
    free(p);
}
END_TEST

/* A QCOW overlay holds only what changed since its backing file was
 * frozen: read alone, the rest would be zeros. Refused, naming it; so is
 * an encrypted QCOW. */
START_TEST(refuses_a_qcow_overlay_and_an_encrypted_qcow)
{
    kt_error err = {0};
    char *p = path_join(evidence_dir(), "corrupt/qcow-overlay.qcow2");
    ck_assert_int_eq(open_fails(p, &err), KT_EFORMAT);
    ck_assert_msg(strstr(err.msg, "cannot open as qcow: an overlay on the backing file "
                                  "'../linux.qcow2'") != NULL,
                  "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(err.msg, "does not read backing files"));
    free(p);
    p = path_join(evidence_dir(), "corrupt/qcow-encrypted.qcow2");
    ck_assert_int_eq(open_fails(p, &err), KT_EFORMAT);
    ck_assert_msg(strstr(err.msg, "cannot open as qcow: encrypted (method 2)") != NULL, "%s",
                  err.msg);
    free(p);
}
END_TEST

START_TEST(sniffs_container_magic)
{
    struct {
        const char *head;
        size_t len;
        const char *want;
        bool supported;
    } cases[] = {
        {"QFI\xfb\0\0\0\3", 8, "qcow", true},
        {"AFF10\x0d\x0a\x00", 8, "aff", true},
        {"\0\0\0\0\0\0\0\0", 8, NULL, true},
        {"EVF\x09\x0d\x0a\xff\x00\x01", 9, "ewf", true},
        {"EVF2\x0d\x0a\x81\x00", 8, "ewf2 (Ex01)", false},
        {"vhdxfile", 8, "vhdx", true},
        {"KDMV\1\0\0\0", 8, "vmdk", true},
        {"PK\x03\x04", 4, "zip archive", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool sup = !cases[i].supported;
        const char *name =
            kt_image_sniff((const uint8_t *)cases[i].head, cases[i].len, NULL, 0, &sup);
        if (cases[i].want == NULL) {
            ck_assert_ptr_null(name);
            continue;
        }
        ck_assert_ptr_nonnull(name);
        ck_assert_str_eq(name, cases[i].want);
        ck_assert_int_eq(sup, cases[i].supported);
    }
    uint8_t tail[512] = {0};
    memcpy(tail, "conectix", 8);
    bool sup = false;
    ck_assert_str_eq(kt_image_sniff((const uint8_t *)"\0\0\0\0", 4, tail, sizeof tail, &sup),
                     "vhd");
    ck_assert(sup);
    ck_assert_ptr_null(kt_image_sniff((const uint8_t *)"\xebR\x90NTFS    ", 11, NULL, 0, &sup));
}
END_TEST

START_TEST(warns_about_a_truncated_ewf_set)
{
    char *p = path_join(evidence_dir(), "corrupt/truncated.E01");
    kt_image *img = NULL;
    kt_error err = {0};
    int rc = kt_image_open(p, &img, &err);
    /* libewf may refuse the set outright or open it damaged: either way the
     * user is told, and nothing crashes. */
    if (rc == 0) {
        const kt_strlist *w = kt_image_warnings(img);
        ck_assert_int_ge(w->count, 1);
        ck_assert_ptr_nonnull(strstr(w->items[0], "corrupted or truncated"));
        char buf[4096];
        for (int64_t off = 0; off < kt_image_get_info(img)->size; off += 8 << 20)
            kt_image_read(img, off, buf, sizeof buf, &err);
        kt_image_free(img);
    } else {
        ck_assert_ptr_nonnull(strstr(err.msg, "EWF"));
    }
    free(p);
}
END_TEST

/* ---- split raw parts, built in a temp dir ---------------------------------- */

/* A part of `size` bytes whose every 512-byte sector starts with its
 * sector number in the whole set (from first_sector). */
static void write_part(const char *dir, const char *name, int64_t size, int64_t first_sector)
{
    char *path = path_join(dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    uint8_t sec[512];
    for (int64_t off = 0; off < size; off += 512) {
        memset(sec, 0xA5, sizeof sec);
        int64_t n = first_sector + off / 512;
        memcpy(sec, &n, sizeof n);
        size_t len = size - off < 512 ? (size_t)(size - off) : 512;
        ck_assert_uint_eq(fwrite(sec, 1, len, f), len);
    }
    ck_assert_int_eq(fclose(f), 0);
    free(path);
}

static kt_image *open_split(const char *dir, const char *name, size_t segments, int64_t size)
{
    char *path = path_join(dir, name);
    kt_image *img = open_ok(path);
    const kt_image_info *ii = kt_image_get_info(img);
    const kt_strlist *w = kt_image_warnings(img);
    for (size_t i = 0; i < w->count; i++)
        fprintf(stderr, "  %s: warning: %s\n", name, w->items[i]);
    ck_assert_str_eq(ii->format_name, "raw");
    ck_assert_msg(ii->segments.count == segments, "%s: %zu segments, want %zu", name,
                  ii->segments.count, segments);
    ck_assert_msg(ii->size == size, "%s: size %lld, want %lld", name, (long long)ii->size,
                  (long long)size);
    free(path);
    return img;
}

static bool warned(kt_image *img, const char *a, const char *b)
{
    const kt_strlist *w = kt_image_warnings(img);
    for (size_t i = 0; i < w->count; i++)
        if (strstr(w->items[i], a) && (b == NULL || strstr(w->items[i], b)))
            return true;
    return false;
}

START_TEST(warns_about_odd_split_raw_parts_and_names_them)
{
    char dir[] = "/tmp/kt-split-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const int64_t P = 64 << 10, S = P / 512;

    /* A good set: equal parts, a shorter last one, no warning; every
     * sector is where its number says. */
    write_part(dir, "good.000", P, 0);
    write_part(dir, "good.001", P, S);
    write_part(dir, "good.002", 10240, 2 * S);
    kt_image *img = open_split(dir, "good.000", 3, 2 * P + 10240);
    ck_assert_uint_eq(kt_image_warnings(img)->count, 0);
    for (int64_t sec = 0; sec < 2 * S + 20; sec += 7) {
        int64_t n = -1;
        kt_error err = {0};
        ck_assert_int_eq(kt_image_read(img, sec * 512, &n, sizeof n, &err), sizeof n);
        ck_assert_int_eq(n, sec);
    }
    kt_image_free(img);

    /* A part missing in the middle: the set ends before it. */
    write_part(dir, "gap.000", P, 0);
    write_part(dir, "gap.001", P, S);
    write_part(dir, "gap.003", P, 3 * S);
    img = open_split(dir, "gap.000", 2, 2 * P);
    ck_assert(warned(img, "split raw part 'gap.002' is missing", "'gap.003'"));
    kt_image_free(img);

    /* A short part that is not the last: the later ones would be
     * misplaced and are left out. */
    write_part(dir, "short.001", P, 0);
    write_part(dir, "short.002", 1000, S);
    write_part(dir, "short.003", P, 2 * S);
    img = open_split(dir, "short.001", 2, P + 1000);
    ck_assert(warned(img, "split raw part 'short.002' differs in size",
                     "(1000 bytes, the first part 65536): the parts from 'short.003' on"));
    kt_image_free(img);

    /* An empty part. */
    write_part(dir, "empty.aa", P, 0);
    write_part(dir, "empty.ab", 0, S);
    write_part(dir, "empty.ac", P, S);
    img = open_split(dir, "empty.aa", 1, P);
    ck_assert(warned(img, "split raw part 'empty.ab' is empty", "'empty.ac'"));
    kt_image_free(img);

    /* Out of order: the evidence names the second part; the set is read
     * from its first. */
    write_part(dir, "order.000", P, 0);
    write_part(dir, "order.001", P, S);
    write_part(dir, "order.002", P, 2 * S);
    img = open_split(dir, "order.001", 3, 3 * P);
    ck_assert(warned(img, "'order.001' is not the first part", "read from 'order.000'"));
    int64_t n = -1;
    kt_error err = {0};
    ck_assert_int_eq(kt_image_read(img, 0, &n, sizeof n, &err), sizeof n);
    ck_assert_int_eq(n, 0);
    kt_image_free(img);

    /* The first part missing: the later part is read alone. */
    write_part(dir, "nofirst.002", P, 2 * S);
    write_part(dir, "nofirst.003", P, 3 * S);
    img = open_split(dir, "nofirst.002", 1, P);
    ck_assert(warned(img, "'nofirst.002' looks like a later part", "'nofirst.001' is missing"));
    kt_image_free(img);

    /* A last part larger than the others. */
    write_part(dir, "big.000", P, 0);
    write_part(dir, "big.001", 2 * P, S);
    img = open_split(dir, "big.000", 2, 3 * P);
    ck_assert(warned(img, "split raw part 'big.001', the last, is 131072 bytes", NULL));
    kt_image_free(img);

    char *cmd = NULL;
    ck_assert(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}
END_TEST

/* ---- hashing the media ------------------------------------------------------- */

static void sha256_of(const char *cmd, char out[65])
{
    kt_buf o = {0};
    ck_assert_int_eq(run_capture(cmd, &o, NULL), 0);
    ck_assert_uint_ge(o.len, 64);
    memcpy(out, o.data, 64);
    out[64] = '\0';
    kt_buf_release(&o);
}

static kt_image_digest hash_of(const char *name)
{
    char *path = path_join(evidence_dir(), name);
    kt_image *img = open_ok(path);
    kt_image_digest d;
    kt_error err = {0};
    memset(&d, 0x5A, sizeof d);
    ck_assert_msg(kt_image_hash(img, &d, NULL, NULL, &err) == 0, "%s: %s", name, err.msg);
    kt_image_free(img);
    free(path);
    return d;
}

START_TEST(hashes_complete_media_and_verifies_the_stored_hashes)
{
    char want[65];
    char *raw = path_join(evidence_dir(), "windows.raw");
    file_sha256(raw, want);
    const char *same[] = {"windows.raw", "windows.E01", "windows.vhd", "windows.split.000"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        kt_image_digest d = hash_of(same[i]);
        ck_assert_int_eq(d.status, KT_HASH_COMPLETE);
        ck_assert_msg(strcmp(d.sha256, want) == 0, "%s: %s", same[i], d.sha256);
        ck_assert_int_eq(d.unreadable, 0);
        ck_assert_int_eq(d.first_unreadable, -1);
        ck_assert_str_eq(d.why, "");
        if (strcmp(same[i], "windows.E01") == 0) {
            ck_assert_int_eq(d.verification, KT_VERIFY_VERIFIED);
            ck_assert_str_eq(d.verification_note,
                             "the computed MD5 and SHA-1 equal the stored ones");
        } else {
            ck_assert_int_eq(d.verification, KT_VERIFY_NOT_VERIFIED);
            ck_assert_ptr_nonnull(strstr(d.verification_note, "stores no hash"));
        }
    }
    free(raw);
}
END_TEST

START_TEST(an_ewf_chunk_failing_its_checksum_makes_the_hash_incomplete)
{
    /* build-evidence.sh flipped a byte of the chunk at 16121856 (32 KiB):
     * libewf reads it as zeros and lists it among its checksum errors. */
    kt_image_digest d = hash_of("corrupt/ewf-flip.E01");
    ck_assert_int_eq(d.status, KT_HASH_INCOMPLETE);
    ck_assert_int_eq(d.unreadable, 32768);
    ck_assert_int_eq(d.first_unreadable, 16121856);
    ck_assert_msg(strstr(d.why, "32768 of 67108864 bytes in 1 range from byte 16121856") &&
                      strstr(d.why, "checksum"),
                  "%s", d.why);
    ck_assert_int_eq(d.verification, KT_VERIFY_NOT_VERIFIED);
    ck_assert_str_eq(d.verification_note,
                     "the media could not be read in full, so its stored hashes cannot be checked");
    /* The digest is of the media with that chunk as zeros, not the media's. */
    char want[65], media[65];
    char *raw = path_join(evidence_dir(), "windows.raw"), *cmd = NULL;
    ck_assert(asprintf(&cmd,
                       "(head -c 16121856 '%s'; head -c 32768 /dev/zero; tail -c +16154625 '%s') "
                       "| sha256sum",
                       raw, raw) > 0);
    sha256_of(cmd, want);
    file_sha256(raw, media);
    ck_assert_str_eq(d.sha256, want);
    ck_assert_str_ne(d.sha256, media);
    free(cmd);
    free(raw);
}
END_TEST

START_TEST(an_ewf_chunk_failing_its_checksum_when_read_is_damage_of_the_scan)
{
    /* The same flipped chunk (sectors 31488-31551), met by an ordinary
     * read: its bytes come back (as libtsk's own reader gave them), and
     * the image then says the chunk failed its checksum. */
    char *path = path_join(evidence_dir(), "corrupt/ewf-flip.E01");
    kt_image *img = open_ok(path);
    uint8_t buf[4096];
    kt_error e = {0};
    kt_strlist damage = {0};
    ck_assert_int_eq(kt_image_read(img, 0, buf, sizeof buf, &e), (ssize_t)sizeof buf);
    ck_assert_int_eq(kt_image_read_damage(img, &damage), 0);
    ck_assert_uint_eq(damage.count, 0);
    ck_assert_int_eq(kt_image_read(img, 16121856 + 1024, buf, sizeof buf, &e), (ssize_t)sizeof buf);
    ck_assert_int_eq(kt_image_read_damage(img, &damage), 0);
    ck_assert_uint_eq(damage.count, 1);
    ck_assert_msg(strstr(damage.items[0], "1 range of the EWF set's sectors (31488-31551) failed "
                                          "their chunk checksum") != NULL,
                  "%s", damage.items[0]);
    kt_strlist_release(&damage);
    kt_image_free(img);
    free(path);
    /* An intact set reads without a word. */
    path = path_join(evidence_dir(), "windows.E01");
    img = open_ok(path);
    for (int64_t off = 0; off < 67108864; off += 1048576)
        ck_assert_int_eq(kt_image_read(img, off, buf, sizeof buf, &e), (ssize_t)sizeof buf);
    ck_assert_int_eq(kt_image_read_damage(img, &damage), 0);
    ck_assert_uint_eq(damage.count, 0);
    kt_image_free(img);
    free(path);
}
END_TEST

START_TEST(an_altered_ewf_set_is_a_stored_hash_mismatch)
{
    /* The chunk altered with its Adler-32 recomputed reads cleanly. */
    kt_image_digest d = hash_of("corrupt/ewf-alter.E01");
    ck_assert_int_eq(d.status, KT_HASH_COMPLETE);
    ck_assert_int_eq(d.verification, KT_VERIFY_MISMATCH);
    char *path = path_join(evidence_dir(), "corrupt/ewf-alter.E01");
    kt_image *img = open_ok(path);
    char want[160];
    snprintf(want, sizeof want, "the computed MD5 %s differs from the stored %s", d.md5,
             kt_image_get_info(img)->stored_md5);
    ck_assert_str_eq(d.verification_note, want);
    kt_image_free(img);
    free(path);
}
END_TEST

START_TEST(a_truncated_ewf_set_hashes_incomplete_never_as_the_media)
{
    /* Only the first 4 MB of the first segment: libewf finds no chunk at
     * all and reads 64 MiB of zeros. */
    kt_image_digest d = hash_of("corrupt/truncated.E01");
    ck_assert_int_eq(d.status, KT_HASH_INCOMPLETE);
    ck_assert_int_eq(d.unreadable, 67108864);
    ck_assert_int_eq(d.first_unreadable, 0);
    ck_assert_int_eq(d.verification, KT_VERIFY_NOT_VERIFIED);
    ck_assert_str_eq(d.verification_note, "the EWF set stores no MD5 or SHA-1");
}
END_TEST

START_TEST(a_read_error_makes_the_hash_incomplete_and_says_where)
{
    char dir[] = "/tmp/kt-hash-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const int64_t P = 64 << 10, S = P / 512;
    write_part(dir, "r.000", P, 0);
    write_part(dir, "r.001", P, S);
    write_part(dir, "r.002", P, 2 * S);
    char *path = path_join(dir, "r.000"), *second = path_join(dir, "r.001");
    kt_image *img = open_ok(path);
    /* The second part shrinks once the image is open: its last 55536
     * bytes can no longer be read. */
    ck_assert_int_eq(truncate(second, 10000), 0);
    kt_image_digest d;
    kt_error err = {0};
    ck_assert_msg(kt_image_hash(img, &d, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(d.status, KT_HASH_INCOMPLETE);
    ck_assert_int_eq(d.unreadable, P - 10000);
    ck_assert_int_eq(d.first_unreadable, P + 10000);
    ck_assert_msg(strstr(d.why, "55536 of 196608 bytes in 1 range from byte 75536") &&
                      strstr(d.why, "read errors"),
                  "%s", d.why);
    ck_assert_int_eq(d.verification, KT_VERIFY_NOT_VERIFIED);
    kt_image_free(img);
    char *cmd = NULL;
    ck_assert(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(second);
    free(path);
}
END_TEST

/* ---- a VHD without its footer ------------------------------------------------ */

START_TEST(reads_a_dynamic_vhd_with_a_damaged_footer_from_its_copy)
{
    char *path = path_join(evidence_dir(), "corrupt/vhd-no-footer.vhd");
    kt_image *img = open_ok(path);
    const kt_image_info *ii = kt_image_get_info(img);
    ck_assert_str_eq(ii->format_name, "vhd");
    ck_assert_int_eq(ii->size, 67108864);
    const kt_strlist *w = kt_image_warnings(img);
    ck_assert_uint_eq(w->count, 1);
    ck_assert_str_eq(w->items[0], "the VHD footer at the end is damaged (no 'conectix' "
                                  "signature): read with its copy at offset 0");
    /* The same bytes as the disk it was made from, end to end. */
    char want[65];
    char *raw = path_join(evidence_dir(), "windows.raw");
    file_sha256(raw, want);
    kt_image_digest d;
    kt_error err = {0};
    ck_assert_msg(kt_image_hash(img, &d, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(d.status, KT_HASH_COMPLETE);
    ck_assert_str_eq(d.sha256, want);
    kt_image_free(img);
    free(raw);
    free(path);

    /* Both footers damaged: refused, saying what is wrong with each. */
    path = path_join(evidence_dir(), "corrupt/vhd-no-footers.vhd");
    ck_assert_int_eq(open_fails(path, &err), KT_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "the VHD footer at the end is damaged (no 'conectix' "
                                          "signature) and its copy at offset 0 is too (checksum "
                                          "mismatch): cannot read the disk"));
    free(path);

    /* The copy names a dynamic header that is damaged, or whose numbers
     * make no sense: refused, saying so (the header is at byte 512). */
    char dir[] = "/tmp/kt-vhd-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    kt_buf vhd = {0};
    path = path_join(evidence_dir(), "corrupt/vhd-no-footer.vhd");
    file_load(path, &vhd);
    free(path);
    ck_assert_mem_eq(vhd.data + 512, "cxsparse", 8);
    const struct {
        size_t at;
        uint8_t value;
        bool fix_sum;
        const char *msg;
    } cases[] = {
        {512 + 40, 0x42, false,
         "the dynamic disk header at byte 512 is missing or fails its "
         "checksum"},
        {512 + 28, 0xFF, true, "the dynamic disk header claims 4278190112 blocks"},
        {512 + 35, 0x01, true, "blocks of 2097153 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kt_buf b = {0};
        ck_assert_int_eq(kt_buf_append(&b, vhd.data, vhd.len), 0);
        b.data[cases[i].at] = cases[i].value;
        if (cases[i].fix_sum) {
            uint32_t sum = 0;
            for (size_t k = 0; k < 1024; k++)
                if (k < 36 || k >= 40)
                    sum += b.data[512 + k];
            sum = ~sum;
            for (int k = 0; k < 4; k++)
                b.data[512 + 36 + k] = (uint8_t)(sum >> (24 - 8 * k));
        }
        path = path_join(dir, "damaged.vhd");
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(b.data, 1, b.len, f), b.len);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_eq(open_fails(path, &err), KT_EFORMAT);
        ck_assert_msg(strstr(err.msg, cases[i].msg) != NULL, "%s", err.msg);
        unlink(path);
        free(path);
        kt_buf_release(&b);
    }
    kt_buf_release(&vhd);
    rmdir(dir);
}
END_TEST

/* A copy of evidence file `name` in a new temporary directory (sparse). */
static char *copy_of(const char *name, char dir[32])
{
    snprintf(dir, 32, "/tmp/kt-image-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *src = path_join(evidence_dir(), name), *dst = path_join(dir, name);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp --sparse=always '%s' '%s'", src, dst);
    ck_assert_int_eq(system(cmd), 0);
    free(src);
    return dst;
}

static void drop_copy(char *path, const char *dir)
{
    unlink(path);
    rmdir(dir);
    free(path);
}

/* Bytes at off of the file (negative: from its end). */
static void patch(const char *path, long long off, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseeko(f, (off_t)off, off < 0 ? SEEK_END : SEEK_SET), 0);
    ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(refuses_a_vhd_with_a_damaged_header_saying_why)
{
    /* A dynamic VHD (footer, its copy at 0, the dynamic header at 512)
     * whose dynamic header lost its "cxsparse" signature: libtsk's own VHD
     * opener left libvhdi's handle behind here (a leak the sanitizer build
     * reports); the reason is libvhdi's innermost message. */
    char dir[32];
    char *p = copy_of("windows.vhd", dir);
    patch(p, 512 + 7, "X", 1);
    kt_error err = {0};
    open_fails(p, &err);
    ck_assert_msg(strstr(err.msg, "cannot open as vhd: libvhdi_dynamic_disk_header_read_data: "
                                  "unsupported signature") != NULL,
                  "%s", err.msg);
    drop_copy(p, dir);
}
END_TEST

START_TEST(a_failed_read_of_a_damaged_vmdk_is_an_error_saying_where)
{
    /* The first grain's table entry points far past the file: the read
     * fails (libtsk's own VMDK reader leaked libvmdk's error each time). */
    char dir[32];
    char *p = copy_of("windows.vmdk", dir);
    FILE *f = fopen(p, "rb");
    ck_assert_ptr_nonnull(f);
    uint8_t h[512], gde[4];
    ck_assert_uint_eq(fread(h, 1, sizeof h, f), sizeof h);
    ck_assert_int_eq(memcmp(h, "KDMV", 4), 0);
    uint64_t gd = 0;
    for (int i = 7; i >= 0; i--)
        gd = gd << 8 | h[56 + i]; /* SparseExtentHeader.gdOffset, in sectors */
    ck_assert_int_eq(fseeko(f, (off_t)(gd * 512), SEEK_SET), 0);
    ck_assert_uint_eq(fread(gde, 1, 4, f), 4);
    fclose(f);
    uint64_t gt =
        (uint64_t)gde[0] | (uint64_t)gde[1] << 8 | (uint64_t)gde[2] << 16 | (uint64_t)gde[3] << 24;
    static const uint8_t far[4] = {0xf0, 0xff, 0xff, 0x7f};
    patch(p, (long long)(gt * 512), far, sizeof far);
    kt_image *img = open_ok(p);
    char buf[512];
    kt_error err = {0};
    ck_assert_int_lt(kt_image_read(img, 0, buf, sizeof buf, &err), 0);
    ck_assert_msg(strstr(err.msg, "512 bytes at offset 0: libvmdk") != NULL, "%s", err.msg);
    /* the grains the damage does not touch still read */
    ck_assert_int_eq(kt_image_read(img, 40 << 20, buf, sizeof buf, &err), (ssize_t)sizeof buf);
    kt_image_free(img);
    drop_copy(p, dir);
}
END_TEST

START_TEST(treats_a_directory_as_evidence)
{
    char *p = path_join(evidence_dir(), "macos-tree");
    kt_image *img = open_ok(p);
    ck_assert_int_eq(kt_image_get_info(img)->format, KT_IMG_DIR);
    char buf[16];
    kt_error err = {0};
    ck_assert_int_lt(kt_image_read(img, 0, buf, sizeof buf, &err), 0);
    kt_image_free(img);
    free(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, opens_every_container_with_its_format_size_and_segments);
    tcase_add_test(tc, reads_the_same_bytes_through_every_container);
    tcase_add_test(tc, reports_ewf_stored_hashes_and_case_metadata);
    tcase_add_test(tc, refuses_missing_empty_and_random_inputs);
    tcase_add_test(tc, names_unsupported_containers);
    tcase_add_test(tc, refuses_a_qcow_overlay_and_an_encrypted_qcow);
    tcase_add_test(tc, sniffs_container_magic);
    tcase_add_test(tc, warns_about_a_truncated_ewf_set);
    tcase_add_test(tc, refuses_a_vhd_with_a_damaged_header_saying_why);
    tcase_add_test(tc, a_failed_read_of_a_damaged_vmdk_is_an_error_saying_where);
    tcase_add_test(tc, treats_a_directory_as_evidence);
    tcase_add_test(tc, warns_about_odd_split_raw_parts_and_names_them);
    tcase_add_test(tc, hashes_complete_media_and_verifies_the_stored_hashes);
    tcase_add_test(tc, an_ewf_chunk_failing_its_checksum_makes_the_hash_incomplete);
    tcase_add_test(tc, an_ewf_chunk_failing_its_checksum_when_read_is_damage_of_the_scan);
    tcase_add_test(tc, an_altered_ewf_set_is_a_stored_hash_mismatch);
    tcase_add_test(tc, a_truncated_ewf_set_hashes_incomplete_never_as_the_media);
    tcase_add_test(tc, a_read_error_makes_the_hash_incomplete_and_says_where);
    tcase_add_test(tc, reads_a_dynamic_vhd_with_a_damaged_footer_from_its_copy);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
