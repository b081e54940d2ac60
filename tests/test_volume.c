#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "kavtrace/image.h"
#include "kavtrace/volume.h"
#include "luks_sectors.h"
#include "testutil.h"
#include "volume_impl.h"

static int scan(const char *path, kt_image **img, kt_volume_list *vols, kt_error *err)
{
    ck_assert_msg(kt_image_open(path, img, err) == 0, "%s", err->msg);
    return kt_volumes_scan(*img, vols, err);
}

START_TEST(finds_every_volume_of_every_container)
{
    tsv c, v, d;
    truth_load(&c, "truth/containers.tsv");
    truth_load(&v, "truth/volumes.tsv");
    truth_load(&d, "truth/disks.tsv");
    for (size_t i = 0; i < c.count; i++) {
        const char *disk = c.rows[i].f[0];
        char *path = path_join(evidence_dir(), c.rows[i].f[1]);
        kt_image *img = NULL;
        kt_volume_list vols = {0};
        kt_error err = {0};
        ck_assert_msg(scan(path, &img, &vols, &err) == 0, "%s: %s", path, err.msg);
        for (size_t k = 0; k < d.count; k++)
            if (strcmp(d.rows[k].f[0], disk) == 0)
                ck_assert_str_eq(vols.scheme, d.rows[k].f[2]);
        size_t want = 0;
        for (size_t k = 0; k < v.count; k++) {
            tsv_row *r = &v.rows[k];
            if (strcmp(r->f[0], disk) != 0)
                continue;
            want++;
            size_t idx = strtoul(r->f[1], NULL, 10);
            ck_assert_msg(idx < vols.count, "%s: no volume %zu", c.rows[i].f[1], idx);
            const kt_volume *vol = &vols.items[idx];
            ck_assert_int_eq(vol->offset, strtoll(r->f[2], NULL, 10));
            ck_assert_int_eq(vol->length, strtoll(r->f[3], NULL, 10));
            ck_assert_msg(strcmp(vol->fs, r->f[4]) == 0, "%s volume %zu: fs '%s', want '%s'",
                          c.rows[i].f[1], idx, vol->fs, r->f[4]);
            ck_assert_str_eq(vol->desc, r->f[5]);
        }
        ck_assert_msg(vols.count == want, "%s: %zu volumes, want %zu", c.rows[i].f[1], vols.count,
                      want);
        ck_assert_int_eq(kt_image_warnings(img)->count, 0);
        kt_volume_list_release(&vols);
        kt_image_free(img);
        free(path);
    }
    tsv_free(&c);
    tsv_free(&v);
    tsv_free(&d);
}
END_TEST

/* LVM2: every logical volume of the physical volume (in a GPT partition,
 * inside a QCOW2, or a bare disk) is a volume with its VG/LV name, its
 * place in the media and its filesystem. */
START_TEST(lists_every_lvm2_logical_volume_with_its_filesystem)
{
    tsv t;
    truth_load(&t, "linux-xfs/volumes.tsv");
    ck_assert_uint_eq(t.count, 8);
    for (size_t i = 0; i < t.count;) {
        const char *file = t.rows[i].f[0];
        char rel[256];
        snprintf(rel, sizeof rel, "scenarios-unix/%s", file);
        char *path = path_join(evidence_dir(), rel);
        kt_image *img = NULL;
        kt_volume_list vl = {0};
        kt_error err = {0};
        ck_assert_msg(kt_image_open(path, &img, &err) == 0, "%s", err.msg);
        ck_assert_msg(kt_volumes_scan(img, &vl, &err) == 0, "%s: %s", file, err.msg);
        size_t n = 0;
        for (; i < t.count && strcmp(t.rows[i].f[0], file) == 0; i++, n++) {
            tsv_row *r = &t.rows[i];
            size_t k = strtoul(r->f[1], NULL, 10);
            ck_assert_msg(k < vl.count, "%s: no volume %zu", file, k);
            const kt_volume *v = &vl.items[k];
            ck_assert_msg(
                v->offset == strtoll(r->f[2], NULL, 10) && v->length == strtoll(r->f[3], NULL, 10),
                "%s volume %zu: %lld+%lld", file, k, (long long)v->offset, (long long)v->length);
            ck_assert_str_eq(v->scheme, r->f[4]);
            ck_assert_str_eq(v->fs, r->f[5]);
            ck_assert_str_eq(v->desc, r->nfields > 6 ? r->f[6] : "");
        }
        ck_assert_msg(vl.count == n, "%s: %zu volumes, want %zu", file, vl.count, n);
        ck_assert_msg(kt_image_warnings(img)->count == 0, "%s: %s", file,
                      kt_image_warnings(img)->items[0]);
        kt_volume_list_release(&vl);
        kt_image_free(img);
        free(path);
    }
    tsv_free(&t);
}
END_TEST

/* A logical volume kavtrace cannot read (two segments, not one run of
 * extents) is named in a warning, never silently dropped;
 * the other volumes of its group are still listed. A bare physical volume
 * written by testdata/tools/kt-mklvm.py into a temporary file. */
START_TEST(names_a_logical_volume_it_cannot_read_in_place)
{
    char dir[] = "/tmp/kt-lvm-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char spec[64], disk[64], *cmd = NULL;
    snprintf(spec, sizeof spec, "%s/spec", dir);
    snprintf(disk, sizeof disk, "%s/pv.raw", dir);
    FILE *f = fopen(spec, "w");
    ck_assert_ptr_nonnull(f);
    fputs("vg=data\nvg_id=KVTVG0xSPLITxxxxxxxxxxxxxxxxxx01\n"
          "pv_id=KVTPV0xSPLITxxxxxxxxxxxxxxxxxx01\nextent_sectors=8192\n"
          "pe_start_sectors=2048\nhost=test\ntime=1700000000\ndevice=/dev/sdb\n"
          "lv=split:KVTLV0xSPLITxxxxxxxxxxxxxxxxxx01:0:2,5:1\n"
          "lv=whole:KVTLV0xWHOLExxxxxxxxxxxxxxxxxx01:2:3\n",
          f);
    fclose(f);
    char *tool = path_join(testdata_dir(), "tools/kt-mklvm.py");
    ck_assert(asprintf(&cmd, "truncate -s 40M '%s' && python3 '%s' '%s' 0 41943040 '%s'", disk,
                       tool, disk, spec) > 0);
    kt_buf out = {0}, errout = {0};
    ck_assert_msg(run_capture(cmd, &out, &errout) == 0, "%s",
                  errout.data ? (char *)errout.data : "");
    kt_image *img = NULL;
    kt_volume_list vl = {0};
    kt_error err = {0};
    ck_assert_msg(kt_image_open(disk, &img, &err) == 0, "%s", err.msg);
    ck_assert_msg(kt_volumes_scan(img, &vl, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(vl.count, 1);
    ck_assert_str_eq(vl.items[0].desc, "LVM2 logical volume data/whole");
    ck_assert_int_eq(vl.items[0].offset, 1048576 + 2 * 4194304);
    ck_assert_int_eq(vl.items[0].length, 3 * 4194304);
    const kt_strlist *w = kt_image_warnings(img);
    ck_assert_uint_eq(w->count, 1);
    /* libvslvm 20181227 cannot give a logical volume of several segments
     * at all (it fails on the second segment's physical volume): the
     * warning names it by its place in the group. */
    ck_assert_msg(strstr(w->items[0], "the whole image: logical volume 1 of 'data' cannot be "
                                      "read (libvslvm_") != NULL &&
                      strstr(w->items[0], "): not scanned") != NULL,
                  "%s", w->items[0]);
    kt_volume_list_release(&vl);
    kt_image_free(img);
    kt_buf_release(&out);
    kt_buf_release(&errout);
    unlink(spec);
    unlink(disk);
    rmdir(dir);
    free(cmd);
    free(tool);
}
END_TEST

START_TEST(reads_the_corpus_images_or_refuses_them_by_name)
{
    tsv t;
    truth_load(&t, "truth/corpus.tsv");
    for (size_t i = 0; i < t.count; i++) {
        tsv_row *r = &t.rows[i];
        char *path = strncmp(r->f[0], "unpacked:", 9) == 0
                         ? path_join(corpus_unpacked_dir(), r->f[0] + 9)
                         : path_join(corpus_dir(), r->f[0]);
        kt_image *img = NULL;
        kt_volume_list vols = {0};
        kt_error err = {0};
        int rc = kt_image_open(path, &img, &err);
        if (strcmp(r->f[4], "ok") != 0) {
            ck_assert_msg(rc != 0, "%s opened, want refusal", r->f[0]);
            ck_assert_msg(strstr(err.msg, r->f[4]) != NULL, "%s: '%s' lacks '%s'", r->f[0], err.msg,
                          r->f[4]);
            free(path);
            continue;
        }
        ck_assert_msg(rc == 0, "%s: %s", r->f[0], err.msg);
        ck_assert_str_eq(kt_image_get_info(img)->format_name, r->f[1]);
        ck_assert_msg(kt_volumes_scan(img, &vols, &err) == 0, "%s: %s", r->f[0], err.msg);
        ck_assert_str_eq(vols.scheme, r->f[2]);
        char fslist[256] = "";
        for (size_t k = 0; k < vols.count; k++) {
            if (k)
                strncat(fslist, ",", sizeof fslist - strlen(fslist) - 1);
            strncat(fslist, vols.items[k].fs, sizeof fslist - strlen(fslist) - 1);
        }
        ck_assert_msg(strcmp(fslist, r->f[3]) == 0, "%s: filesystems '%s', want '%s'", r->f[0],
                      fslist, r->f[3]);
        kt_volume_list_release(&vols);
        kt_image_free(img);
        free(path);
    }
    tsv_free(&t);
}
END_TEST

START_TEST(reads_a_gpt_with_a_bad_header_from_its_backup)
{
    char *p = path_join(evidence_dir(), "corrupt/gpt-bad-header.raw");
    kt_image *img = NULL;
    kt_volume_list vols = {0};
    kt_error err = {0};
    ck_assert_msg(scan(p, &img, &vols, &err) == 0, "%s", err.msg);
    const kt_strlist *w = kt_image_warnings(img);
    ck_assert_int_ge(w->count, 2);
    ck_assert_ptr_nonnull(strstr(w->items[0], "GPT header at LBA 1 is corrupt"));
    ck_assert_ptr_nonnull(strstr(w->items[0], "backup header at LBA 131071 is valid"));
    /* The same partitions as the intact disk (truth/volumes.tsv). */
    ck_assert_str_eq(vols.scheme, "gpt");
    ck_assert_uint_eq(vols.count, 2);
    ck_assert_int_eq(vols.items[0].offset, 1048576);
    ck_assert_int_eq(vols.items[0].length, 8388608);
    ck_assert_str_eq(vols.items[0].fs, "fat16");
    ck_assert_int_eq(vols.items[1].offset, 9437184);
    ck_assert_int_eq(vols.items[1].length, 50331648);
    ck_assert_str_eq(vols.items[1].fs, "ntfs");
    ck_assert_str_eq(vols.items[1].desc, "Basic data partition (from the backup GPT)");
    kt_volume_list_release(&vols);
    kt_image_free(img);
    free(p);
}
END_TEST

START_TEST(warns_about_partitions_past_the_end)
{
    char *p = path_join(evidence_dir(), "corrupt/truncated.raw");
    kt_image *img = NULL;
    kt_volume_list vols = {0};
    kt_error err = {0};
    ck_assert_msg(scan(p, &img, &vols, &err) == 0, "%s", err.msg);
    const kt_strlist *w = kt_image_warnings(img);
    bool past_end = false;
    for (size_t i = 0; i < w->count; i++)
        past_end = past_end || strstr(w->items[i], "runs past the end of the image") != NULL;
    ck_assert_msg(past_end, "no warning about the truncated partition");
    kt_volume_list_release(&vols);
    kt_image_free(img);
    free(p);
}
END_TEST

START_TEST(skips_gpt_entries_whose_sectors_do_not_fit_a_byte_offset)
{
    /* Found by fuzz_volume: libtsk passes on a GPT entry whose first LBA is
     * past 2^54 (or whose last is before its first) and the byte offset
     * wrapped negative. Such an entry is skipped with a warning (it starts
     * past the end of the image, or ends before it starts); the others are
     * read. The disk is a seed of the fuzz corpus
     * (fuzz/corpus/make-seeds.py). */
    char *p = path_join(testdata_dir(), "../fuzz/corpus/volume/gpt-entry-out-of-range.raw");
    kt_image *img = NULL;
    kt_volume_list vols = {0};
    kt_error err = {0};
    ck_assert_msg(scan(p, &img, &vols, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(vols.scheme, "gpt");
    ck_assert_uint_eq(vols.count, 2);
    ck_assert_int_eq(vols.items[0].offset, 40 * 512);
    ck_assert_int_eq(vols.items[1].offset, 51 * 512);
    ck_assert_int_eq(vols.items[1].length, 10 * 512);
    const kt_strlist *w = kt_image_warnings(img);
    size_t skipped = 0;
    for (size_t i = 0; i < w->count; i++)
        skipped += strstr(w->items[i], ": skipped") != NULL;
    ck_assert_uint_eq(skipped, 2);
    kt_volume_list_release(&vols);
    kt_image_free(img);
    free(p);
}
END_TEST

START_TEST(refuses_random_bytes_and_a_zeroed_mft_clearly)
{
    const char *cases[] = {"corrupt/random.img", "corrupt/ntfs-zeroed-mft.raw"};
    for (size_t i = 0; i < 2; i++) {
        char *p = path_join(evidence_dir(), cases[i]);
        kt_image *img = NULL;
        kt_volume_list vols = {.count = 99};
        kt_error err = {0};
        ck_assert_int_eq(scan(p, &img, &vols, &err), KT_EFORMAT);
        ck_assert_int_eq(vols.count, 99); /* untouched on error */
        ck_assert_ptr_nonnull(strstr(err.msg, "no partition table or filesystem recognised"));
        kt_image_free(img);
        free(p);
    }
}
END_TEST

/* ---- partition tables built in the test ----------------------------------- */

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void put_at(const char *path, int64_t off, const void *p, size_t n)
{
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseeko(f, off, SEEK_SET), 0);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static char *blank_image(const char *dir, const char *name, int64_t size)
{
    char *path = path_join(dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(ftruncate(fileno(f), size), 0);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

/* A protective MBR, both GPT headers and both entry arrays (UEFI 2.x 5.3:
 * 128 entries of 128 bytes at LBA 2 and before the backup header in the
 * last sector), with valid CRC32s: only the entries' numbers are odd. */
typedef struct gpt_part {
    uint64_t first, last;
} gpt_part;

static void write_gpt(const char *path, int64_t size, const gpt_part *parts, size_t n)
{
    uint64_t last = (uint64_t)size / 512 - 1;
    uint8_t mbr[512] = {0};
    mbr[446 + 4] = 0xEE;
    put_le(mbr + 446 + 8, 1, 4);
    put_le(mbr + 446 + 12, last, 4);
    mbr[510] = 0x55;
    mbr[511] = 0xAA;
    put_at(path, 0, mbr, sizeof mbr);

    static uint8_t ents[128 * 128];
    memset(ents, 0, sizeof ents);
    for (size_t i = 0; i < n; i++) {
        uint8_t *e = ents + 128 * i;
        /* Type: Linux filesystem data; unique GUID from the index. */
        static const uint8_t type[16] = {0xAF, 0x3D, 0xC6, 0x0F, 0x83, 0x84, 0x72, 0x47,
                                         0x8E, 0x79, 0x3D, 0x69, 0xD8, 0x47, 0x7D, 0xE4};
        memcpy(e, type, 16);
        e[16] = (uint8_t)(i + 1);
        put_le(e + 0x20, parts[i].first, 8);
        put_le(e + 0x28, parts[i].last, 8);
        e[0x38] = 'p';
        e[0x3A] = (uint8_t)('1' + i);
    }
    uint32_t ents_crc = crc32_of(ents, sizeof ents);
    for (int backup = 0; backup < 2; backup++) {
        uint8_t h[512] = {0};
        uint64_t self = backup ? last : 1, other = backup ? 1 : last;
        uint64_t table = backup ? last - 32 : 2;
        memcpy(h, "EFI PART", 8);
        put_le(h + 8, 0x00010000, 4);
        put_le(h + 12, 92, 4);
        put_le(h + 24, self, 8);
        put_le(h + 32, other, 8);
        put_le(h + 40, 34, 8);
        put_le(h + 48, last - 33, 8);
        h[56] = 0x4B; /* disk GUID */
        put_le(h + 72, table, 8);
        put_le(h + 80, 128, 4);
        put_le(h + 84, 128, 4);
        put_le(h + 88, ents_crc, 4);
        put_le(h + 16, crc32_of(h, 92), 4);
        put_at(path, (int64_t)table * 512, ents, sizeof ents);
        put_at(path, (int64_t)self * 512, h, sizeof h);
    }
}

static bool has_warning(kt_image *img, const char *a, const char *b)
{
    const kt_strlist *w = kt_image_warnings(img);
    for (size_t i = 0; i < w->count; i++)
        if (strstr(w->items[i], a) && (b == NULL || strstr(w->items[i], b)))
            return true;
    return false;
}

static void dump_warnings(kt_image *img)
{
    const kt_strlist *w = kt_image_warnings(img);
    for (size_t i = 0; i < w->count; i++)
        fprintf(stderr, "  warning: %s\n", w->items[i]);
}

START_TEST(checks_gpt_entries_against_overflow_and_the_image_size)
{
    char dir[] = "/tmp/kt-gpt-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const int64_t size = 8 << 20; /* 16384 sectors */
    const uint64_t huge = 1ull << 61;
    const gpt_part parts[] = {
        {2048, 4095},        /* p1: fine */
        {4096, 8191},        /* p2: fine */
        {huge, huge + 100},  /* p3: 2^61 x 512 overflows 64 bits: skipped */
        {8192, 8192 + huge}, /* p4: 2^61 sectors long: clamped to the end */
        {12288, 20479},      /* p5: runs 4 MiB past the end: clamped */
        {20000, 20100},      /* p6: starts past the end: skipped */
        {16000, 15000},      /* p7: ends before it starts: skipped */
    };
    char *path = blank_image(dir, "odd.gpt", size);
    write_gpt(path, size, parts, sizeof parts / sizeof parts[0]);

    kt_image *img = NULL;
    kt_volume_list vols = {0};
    kt_error err = {0};
    ck_assert_msg(scan(path, &img, &vols, &err) == 0, "%s", err.msg);
    dump_warnings(img);
    ck_assert_str_eq(vols.scheme, "gpt");
    const struct {
        int64_t offset, length;
    } want[] = {
        {2048 * 512, 2048 * 512},
        {4096 * 512, 4096 * 512},
        {8192 * 512, size - 8192 * 512},
        {12288 * 512, size - 12288 * 512},
    };
    ck_assert_uint_eq(vols.count, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < vols.count; i++) {
        ck_assert_int_eq(vols.items[i].offset, want[i].offset);
        ck_assert_int_eq(vols.items[i].length, want[i].length);
        ck_assert_int_le(vols.items[i].offset + vols.items[i].length, size);
    }
    ck_assert(has_warning(img, "partition 3 ", "skipped"));
    ck_assert(has_warning(img, "partition 4 ", "clamped to the 4194304 bytes present"));
    ck_assert(has_warning(img, "partition 5 ", "clamped to the 2097152 bytes present"));
    ck_assert(
        has_warning(img, "partition 6 ", "past the end of the image (8388608 bytes): skipped"));
    ck_assert(has_warning(img, "partition 7 ",
                          "ends at sector 15000, before it starts at 16000: skipped"));
    kt_volume_list_release(&vols);
    kt_image_free(img);
    unlink(path);
    free(path);
    rmdir(dir);
}
END_TEST

/* An MBR whose extended partition holds a chain of EBRs (each EBR's
 * logical entry is relative to the EBR, the link to the next EBR to the
 * extended partition's start). */
static void mbr_entry(uint8_t *sec, int slot, uint8_t type, uint32_t start, uint32_t count)
{
    uint8_t *e = sec + 446 + 16 * slot;
    e[4] = type;
    put_le(e + 8, start, 4);
    put_le(e + 12, count, 4);
    sec[510] = 0x55;
    sec[511] = 0xAA;
}

START_TEST(checks_mbr_and_ebr_chain_partitions_against_the_image_size)
{
    char dir[] = "/tmp/kt-mbr-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const int64_t size = 8 << 20; /* 16384 sectors */
    char *path = blank_image(dir, "odd.mbr", size);
    uint8_t mbr[512] = {0}, ebr1[512] = {0}, ebr2[512] = {0};
    mbr_entry(mbr, 0, 0x83, 2048, 2048);         /* 1: fine */
    mbr_entry(mbr, 1, 0x05, 4096, 0xFFFFFF00u);  /* extended, far past the end */
    mbr_entry(ebr1, 0, 0x83, 2048, 2048);        /* 5: sectors 6144..8191, fine */
    mbr_entry(ebr1, 1, 0x05, 8192, 8192);        /* next EBR at 4096 + 8192 */
    mbr_entry(ebr2, 0, 0x83, 2048, 0x7FFFFFFFu); /* 6: from 14336, runs past the end */
    mbr_entry(ebr2, 1, 0x05, 0x70000000u, 2048); /* next EBR past the end */
    put_at(path, 0, mbr, sizeof mbr);
    put_at(path, 4096 * 512, ebr1, sizeof ebr1);
    put_at(path, (4096 + 8192) * 512, ebr2, sizeof ebr2);

    kt_image *img = NULL;
    kt_volume_list vols = {0};
    kt_error err = {0};
    ck_assert_msg(scan(path, &img, &vols, &err) == 0, "%s", err.msg);
    dump_warnings(img);
    ck_assert_str_eq(vols.scheme, "dos");
    ck_assert_uint_eq(vols.count, 3);
    ck_assert_int_eq(vols.items[0].offset, 2048 * 512);
    ck_assert_int_eq(vols.items[0].length, 2048 * 512);
    ck_assert_int_eq(vols.items[1].offset, 6144 * 512);
    ck_assert_int_eq(vols.items[1].length, 2048 * 512);
    ck_assert_int_eq(vols.items[2].offset, 14336 * 512);
    ck_assert_int_eq(vols.items[2].length, size - 14336 * 512);
    ck_assert(has_warning(img, "partition 6 ", "clamped to the 1048576 bytes present"));
    kt_volume_list_release(&vols);
    kt_image_free(img);

    /* A chain whose second EBR links to itself ends there; what was read
     * stays. */
    mbr_entry(ebr2, 1, 0x05, 8192, 8192);
    put_at(path, (4096 + 8192) * 512, ebr2, sizeof ebr2);
    ck_assert_msg(scan(path, &img, &vols, &err) == 0, "%s", err.msg);
    dump_warnings(img);
    ck_assert_uint_ge(vols.count, 2);
    for (size_t i = 0; i < vols.count; i++)
        ck_assert_int_le(vols.items[i].offset + vols.items[i].length, size);
    kt_volume_list_release(&vols);
    kt_image_free(img);
    unlink(path);
    free(path);
    rmdir(dir);
}
END_TEST

/* LUKS1 alone, LUKS2 in a GPT partition, a BitLocker boot sector
 * (truth/encrypted.tsv): each listed with its kind and identifiers, no
 * filesystem, and a warning that it is not unlocked (before, the LUKS
 * images were "no partition table or filesystem recognised"). */
START_TEST(lists_encrypted_volumes_with_their_kind_and_a_warning)
{
    tsv t;
    truth_load(&t, "truth/encrypted.tsv");
    ck_assert_uint_eq(t.count, 3);
    for (size_t i = 0; i < t.count; i++) {
        const tsv_row *r = &t.rows[i];
        char *path = path_join(evidence_dir(), r->f[0]);
        kt_image *img = NULL;
        kt_error err = {0};
        ck_assert_msg(kt_image_open(path, &img, &err) == 0, "%s: %s", r->f[0], err.msg);
        kt_volume_list vl = {0};
        ck_assert_msg(kt_volumes_scan(img, &vl, &err) == 0, "%s: %s", r->f[0], err.msg);
        size_t idx = (size_t)atoi(r->f[1]);
        ck_assert_uint_gt(vl.count, idx);
        ck_assert_str_eq(vl.items[idx].desc, r->f[2]);
        ck_assert_str_eq(vl.items[idx].fs, "");
        ck_assert_ptr_null(vl.items[idx].crypt);
        ck_assert_str_eq(vl.items[idx].encryption, strncmp(r->f[2], "LUKS1", 5) == 0 ? "luks1"
                                                   : strncmp(r->f[2], "LUKS2", 5) == 0
                                                       ? "luks2"
                                                       : "bitlocker");
        const kt_strlist *w = kt_image_warnings(img);
        bool said = false;
        for (size_t k = 0; k < w->count; k++)
            said =
                said || (strstr(w->items[k], r->f[2]) && strstr(w->items[k], "no key was given") &&
                         strstr(w->items[k], "verdicts are left open"));
        ck_assert_msg(said, "%s: no warning that it is not unlocked", r->f[0]);
        kt_volume_list_release(&vl);
        kt_image_free(img);
        free(path);
    }
    tsv_free(&t);
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

/* Keys from testdata/luks/ by file name: each passphrase file once as a
 * password (its text), each *.key as a key file. */
static void luks_keys(kt_keys *keys, const char *names)
{
    char list[256];
    snprintf(list, sizeof list, "%s", names);
    for (char *save = NULL, *n = strtok_r(list, " ", &save); n; n = strtok_r(NULL, " ", &save)) {
        char rel[128];
        snprintf(rel, sizeof rel, "luks/%s", n);
        char *path = path_join(testdata_dir(), rel);
        kt_error err = {0};
        if (strstr(n, ".key")) {
            ck_assert_msg(kt_keys_add_file(keys, path, &err) == 0, "%s", err.msg);
        } else {
            kt_buf b = {0};
            file_load(path, &b);
            ck_assert_msg(kt_keys_add_password(keys, cstr(&b), &err) == 0, "%s", err.msg);
            kt_buf_release(&b);
        }
        free(path);
    }
}

static char *pass_text(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "luks/%s", name);
    char *path = path_join(testdata_dir(), rel);
    kt_buf b = {0};
    file_load(path, &b);
    free(path);
    char *t = strdup(cstr(&b));
    kt_buf_release(&b);
    return t;
}

static bool any_warning_has(kt_image *img, const char *text)
{
    const kt_strlist *w = kt_image_warnings(img);
    for (size_t k = 0; k < w->count; k++)
        if (strstr(w->items[k], text))
            return true;
    return false;
}

/* Every LUKS1 volume of truth/luks.tsv that kavtrace reads, unlocked with
 * each of its keys alone (a password, or a key file): listed as unlocked
 * with its kind, UUID and cipher, the filesystem inside probed (before,
 * it was listed locked with no filesystem), and no warning about it. */
START_TEST(unlocks_luks1_volumes_with_a_password_or_a_key_file)
{
    tsv t;
    truth_load(&t, "truth/luks.tsv");
    size_t tried = 0;
    for (size_t i = 0; i < t.count; i++) {
        const tsv_row *r = &t.rows[i];
        if (strcmp(r->f[6], "-") == 0)
            continue;
        char list[128];
        snprintf(list, sizeof list, "%s", r->f[7]);
        for (char *save = NULL, *k = strtok_r(list, " ", &save); k;
             k = strtok_r(NULL, " ", &save)) {
            char *path = path_join(evidence_dir(), r->f[0]);
            kt_image *img = NULL;
            kt_error err = {0};
            kt_keys keys = {0};
            luks_keys(&keys, k);
            ck_assert_msg(kt_image_open(path, &img, &err) == 0, "%s: %s", r->f[0], err.msg);
            kt_volume_list vl = {0};
            ck_assert_msg(kt_volumes_scan_keys(img, &keys, &vl, &err) == 0, "%s", err.msg);
            size_t idx = (size_t)atoi(r->f[1]);
            ck_assert_uint_gt(vl.count, idx);
            const kt_volume *v = &vl.items[idx];
            char want[160];
            snprintf(want, sizeof want,
                     "LUKS1 encrypted volume, UUID %s (%s, %s-bit key), unlocked", r->f[2], r->f[3],
                     r->f[4]);
            ck_assert_str_eq(v->desc, want);
            ck_assert_str_eq(v->fs, r->f[6]);
            ck_assert_str_eq(v->encryption, "luks1");
            ck_assert_ptr_nonnull(v->crypt);
            ck_assert_msg(!any_warning_has(img, r->f[2]), "%s: a warning about volume %zu", r->f[0],
                          idx);
            kt_volume_list_release(&vl);
            kt_image_free(img);
            kt_keys_release(&keys);
            free(path);
            tried++;
        }
    }
    ck_assert_uint_eq(tried, 4);
    tsv_free(&t);
}
END_TEST

/* A wrong key: the volume is listed locked, a warning names it and says
 * no key unlocks it, and no message holds the key; the other volume,
 * whose key was given, is still unlocked. */
START_TEST(a_wrong_key_is_named_without_the_key_and_other_volumes_still_unlock)
{
    char *path = path_join(evidence_dir(), "scenarios-unix/kesl-ubuntu.luks.raw");
    kt_image *img = NULL;
    kt_error err = {0};
    kt_keys keys = {0};
    luks_keys(&keys, "wrong.pass ubuntu.pass");
    ck_assert_msg(kt_image_open(path, &img, &err) == 0, "%s", err.msg);
    kt_volume_list vl = {0};
    ck_assert_msg(kt_volumes_scan_keys(img, &keys, &vl, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(vl.count, 2);
    ck_assert_ptr_nonnull(vl.items[0].crypt);
    ck_assert_str_eq(vl.items[0].fs, "ext4");
    ck_assert_ptr_null(vl.items[1].crypt);
    ck_assert_str_eq(vl.items[1].fs, "");
    ck_assert(any_warning_has(img, "partition 2 (volume 1"));
    ck_assert(any_warning_has(img, "UUID 4b565455-0000-4000-8000-00000000c112"));
    ck_assert(any_warning_has(img, "none of the 2 keys given unlocks it"));
    const char *secrets[] = {"wrong.pass", "ubuntu.pass", "astra.pass"};
    const kt_strlist *w = kt_image_warnings(img);
    for (size_t i = 0; i < 3; i++) {
        char *secret = pass_text(secrets[i]);
        for (size_t k = 0; k < w->count; k++)
            ck_assert_msg(strstr(w->items[k], secret) == NULL, "a key in: %s", w->items[k]);
        free(secret);
    }
    kt_volume_list_release(&vl);
    kt_image_free(img);
    kt_keys_release(&keys);
    free(path);
}
END_TEST

/* What kavtrace does not read is refused from the header, with the
 * reason, before libluksde sees it: a cipher other than AES (a LUKS1
 * header naming serpent), and LUKS2. (A 512-bit XTS key, refused before,
 * is now read: decrypts_every_luks1_mode_libluksde_cannot_read_itself.) */
START_TEST(refuses_luks2_and_a_cipher_it_does_not_read_with_the_reason)
{
    static const struct {
        const char *file, *reason;
    } cases[] = {
        {"luks1-serpent.img", "the cipher serpent-xts-plain64 with a 512-bit key is not one "
                              "kavtrace reads"},
        {"luks2-gpt.raw", "LUKS2 is not read: Debian's libluksde 20200205 reads LUKS1 only"},
    };
    for (size_t i = 0; i < 2; i++) {
        char *path = path_join(evidence_dir(), cases[i].file);
        kt_image *img = NULL;
        kt_error err = {0};
        kt_keys keys = {0};
        luks_keys(&keys, "ubuntu.pass");
        ck_assert_msg(kt_image_open(path, &img, &err) == 0, "%s", err.msg);
        kt_volume_list vl = {0};
        ck_assert_msg(kt_volumes_scan_keys(img, &keys, &vl, &err) == 0, "%s", err.msg);
        ck_assert_uint_eq(vl.count, 1);
        ck_assert_ptr_null(vl.items[0].crypt);
        ck_assert_msg(any_warning_has(img, cases[i].reason), "%s: not refused with the reason",
                      cases[i].file);
        ck_assert(any_warning_has(img, "that kavtrace cannot unlock"));
        kt_volume_list_release(&vl);
        kt_image_free(img);
        kt_keys_release(&keys);
        free(path);
    }
}
END_TEST

/* Every LUKS1 mode and key size kavtrace reads (truth/luks-modes.tsv, one
 * volume each around the same payload): unlocked, its payload read back
 * whole and at an offset across sectors, byte for byte; and decrypted by
 * libluksde only where it reads the volume right. The others (a 512-bit
 * XTS key, 192-bit CBC, 128-bit CBC-ESSIV) kavtrace decrypts itself: were
 * they handed to libluksde, the process would abort (stack smashing, a
 * corrupt heap) or the volume stay locked. */
START_TEST(decrypts_every_luks1_mode_libluksde_cannot_read_itself)
{
    tsv t;
    truth_load(&t, "truth/luks-modes.tsv");
    char *payload_path = path_join(evidence_dir(), "luks-modes/payload.bin");
    kt_buf payload = {0};
    file_load(payload_path, &payload);
    ck_assert_uint_eq(payload.len, 65536);
    size_t ours = 0;
    uint8_t *got = malloc(payload.len);
    ck_assert_ptr_nonnull(got);
    for (size_t i = 0; i < t.count; i++) {
        const tsv_row *r = &t.rows[i];
        char rel[128];
        snprintf(rel, sizeof rel, "luks-modes/%s", r->f[0]);
        char *path = path_join(evidence_dir(), rel);
        kt_image *img = NULL;
        kt_error err = {0};
        kt_keys keys = {0};
        luks_keys(&keys, "wrong.pass ubuntu.pass");
        ck_assert_msg(kt_image_open(path, &img, &err) == 0, "%s: %s", r->f[0], err.msg);
        kt_volume_list vl = {0};
        ck_assert_msg(kt_volumes_scan_keys(img, &keys, &vl, &err) == 0, "%s", err.msg);
        ck_assert_uint_eq(vl.count, 1);
        const kt_crypt *c = vl.items[0].crypt;
        ck_assert_msg(c != NULL, "%s: not unlocked", r->f[0]);
        ck_assert_str_eq(kt_crypt_decrypter(c), r->f[3]);
        ours += strcmp(r->f[3], "kavtrace") == 0;
        TSK_IMG_INFO *plain = kt_crypt_tsk(c);
        ck_assert_int_eq(plain->size, (TSK_OFF_T)payload.len);
        memset(got, 0, payload.len);
        ck_assert_int_eq(tsk_img_read(plain, 0, (char *)got, payload.len), (ssize_t)payload.len);
        ck_assert_msg(memcmp(got, payload.data, payload.len) == 0, "%s: the payload differs",
                      r->f[0]);
        memset(got, 0, payload.len);
        ck_assert_int_eq(tsk_img_read(plain, 1000, (char *)got, 40000), 40000);
        ck_assert_msg(memcmp(got, payload.data + 1000, 40000) == 0, "%s: at 1000, it differs",
                      r->f[0]);
        kt_volume_list_release(&vl);
        kt_image_free(img);
        kt_keys_release(&keys);
        free(path);
    }
    ck_assert_uint_eq(t.count, 13);
    ck_assert_uint_eq(ours, 6);
    free(got);
    kt_buf_release(&payload);
    free(payload_path);
    tsv_free(&t);
}
END_TEST

static void unhex(const char *hex, uint8_t *out, size_t n)
{
    ck_assert_uint_eq(strlen(hex), 2 * n);
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

/* IEEE 1619-2007 vector 10 (XTS-AES-256, 512-byte data unit 0xff; the
 * plaintext 00..ff twice): key 1, key 2, the ciphertext. */
#define IEEE10_KEY                                                                                 \
    "2718281828459045235360287471352662497757247093699959574966967627"                             \
    "3141592653589793238462643383279502884197169399375105820974944592"
#define IEEE10_CT                                                                                  \
    "1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b"                             \
    "5d31e276f8fe4a8d66b317f9ac683f44680a86ac35adfc3345befecb4bb188fd"                             \
    "5776926c49a3095eb108fd1098baec70aaa66999a72a82f27d848b21d4a741b0"                             \
    "c5cd4d5fff9dac89aeba122961d03a757123e9870f8acf1000020887891429ca"                             \
    "2a3e7a7d7df7b10355165c8b9a6d0a7de8b062c4500dc4cd120c0f7418dae3d0"                             \
    "b5781c34803fa75421c790dfe1de1834f280d7667b327f6c8cd7557e12ac3a0f"                             \
    "93ec05c52e0493ef31a12d3d9260f79a289d6a379bc70c50841473d1a8cc81ec"                             \
    "583e9645e07b8d9670655ba5bbcfecc6dc3966380ad8fecb17b6ba02469a020a"                             \
    "84e18e8f84252070c13e9f1f289be54fbc481457778f616015e1327a02b140f1"                             \
    "505eb309326d68378f8374595c849d84f4c333ec4423885143cb47bd71c5edae"                             \
    "9be69a2ffeceb1bec9de244fbe15992b11b77c040f12bd8f6a975a44a0f90c29"                             \
    "a9abc3d4d893927284c58754cce294529f8614dcd2aba991925fedc4ae74ffac"                             \
    "6e333b93eb4aff0479da9a410e4450e0dd7ae4c6e2910900575da401fc07059f"                             \
    "645e8b7e9bfdef33943054ff84011493c27b3429eaedb4ed5376441a77ed4385"                             \
    "1ad77f16f541dfd269d50d6a5f14fb0aab1cbb4c1550be97f7ab4066193c4caa"                             \
    "773dad38014bd2092fa755c824bb5e54c4f36ffda9fcea70b9c6e693e148c151"

/* The sector function, on vectors computed apart from nettle: IEEE 1619
 * vector 10 as a 512-bit aes-xts-plain64 sector 0xff; the same sector
 * 2^32 + 0xff, which plain (32 bits) reads as 0xff and plain64 does not;
 * and the rest decrypting 00..ff twice as ciphertext, the plaintext's
 * SHA-256 from Python's `cryptography` (OpenSSL) with the IV made as
 * dm-crypt does (key: IEEE 1619 vector 4's for XTS-128, bytes 00, 01, ...
 * for CBC; ESSIV's IV the sector encrypted under SHA-256 of the key). */
START_TEST(decrypts_sectors_as_ieee_1619_and_dm_crypt_do)
{
    static const struct {
        kt_luks_spec spec;
        const char *key; /* hex; NULL: 00, 01, ... */
        uint64_t sector;
        bool ieee_ct;       /* the ciphertext IEEE 1619 vector 10's, else 00..ff twice */
        const char *sha256; /* of the plaintext; NULL: 00..ff twice */
    } cases[] = {
        {{true, KT_LUKS_IV_PLAIN64, 64}, IEEE10_KEY, 0xff, true, NULL},
        {{true, KT_LUKS_IV_PLAIN, 64}, IEEE10_KEY, 0x1000000ffull, true, NULL},
        {{true, KT_LUKS_IV_PLAIN64, 64},
         IEEE10_KEY,
         0x1000000ffull,
         true,
         "716098a48d0a749dc625fc45f7b7c3d48d817b3f6faa2d2b5f844391edc2360a"},
        {{true, KT_LUKS_IV_PLAIN64, 32},
         "2718281828459045235360287471352631415926535897932384626433832795",
         0,
         false,
         "307b108dd5656ad74cd627e218e65567abd6c7cd016dda0c0de8c0420aa3ab76"},
        {{false, KT_LUKS_IV_ESSIV_SHA256, 16},
         NULL,
         7,
         false,
         "9f091b1b1b9573a2d74fbacdeec9a215fab655b2be4758be83f97d14e0a0e7b9"},
        {{false, KT_LUKS_IV_ESSIV_SHA256, 32},
         NULL,
         7,
         false,
         "dd5ef7cd02b4651fc6df3650e548c1dced62e4e0efc9a27a424796a03b37f38f"},
        {{false, KT_LUKS_IV_PLAIN64, 24},
         NULL,
         0x100000001ull,
         false,
         "0680c9e587d2f651c90c60fa2a0854ae4fc1ab93e1c3af28280473795a198b18"},
        {{false, KT_LUKS_IV_PLAIN, 24},
         NULL,
         0x100000001ull,
         false,
         "94f02be86edd0dd376d6ea53429fa222567b30dc5dd5752f62630612596b74a6"},
    };
    uint8_t pattern[512];
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t key[64], buf[512];
        size_t kb = cases[i].spec.key_bytes;
        if (cases[i].key)
            unhex(cases[i].key, key, kb);
        else
            for (size_t k = 0; k < kb; k++)
                key[k] = (uint8_t)k;
        if (cases[i].ieee_ct)
            unhex(IEEE10_CT, buf, sizeof buf);
        else
            memcpy(buf, pattern, sizeof buf);
        kt_luks_cipher *c = kt_luks_cipher_new(&cases[i].spec, key);
        ck_assert_ptr_nonnull(c);
        kt_luks_decrypt(c, cases[i].sector, buf, sizeof buf);
        kt_luks_cipher_free(c);
        if (cases[i].sha256 == NULL) {
            ck_assert_msg(memcmp(buf, pattern, sizeof buf) == 0, "case %zu differs", i);
            continue;
        }
        uint8_t want[SHA256_DIGEST_SIZE], got[SHA256_DIGEST_SIZE];
        unhex(cases[i].sha256, want, sizeof want);
        struct sha256_ctx h;
        sha256_init(&h);
        sha256_update(&h, sizeof buf, buf);
        sha256_digest(&h, sizeof got, got);
        ck_assert_msg(memcmp(got, want, sizeof got) == 0, "case %zu differs", i);
    }
}
END_TEST

/* Keys from testdata/bde/ by file name: a .recovery file's text as a
 * recovery password (or, as key_file says, the file itself as a key
 * file), a .pass file's text as a password; a .BEK file (the evidence's
 * bde/, written by build-bde.sh) as a key file. */
static void bde_keys(kt_keys *keys, const char *names, bool key_file)
{
    char list[256];
    snprintf(list, sizeof list, "%s", names);
    for (char *save = NULL, *n = strtok_r(list, " ", &save); n; n = strtok_r(NULL, " ", &save)) {
        char rel[128];
        snprintf(rel, sizeof rel, "bde/%s", n);
        bool bek = strstr(n, ".BEK") != NULL;
        char *path = path_join(bek ? evidence_dir() : testdata_dir(), rel);
        kt_error err = {0};
        kt_buf b = {0};
        file_load(path, &b);
        char *text = strdup(bek ? "" : cstr(&b));
        text[strcspn(text, "\n")] = '\0';
        int rc = bek || (key_file && strstr(n, ".recovery")) ? kt_keys_add_file(keys, path, &err)
                 : strstr(n, ".recovery") ? kt_keys_add_recovery(keys, text, &err)
                                          : kt_keys_add_password(keys, text, &err);
        ck_assert_msg(rc == 0, "%s", err.msg);
        free(text);
        kt_buf_release(&b);
        free(path);
    }
}

/* Every BitLocker volume of truth/bde.tsv: without a key, listed locked
 * with its GUID, encryption method and key protectors and a warning;
 * unlocked with each of its keys alone (a recovery password, as given or
 * in a key file, a user password, or a .BEK startup key): listed unlocked, the filesystem
 * inside probed, and no warning about it. */
START_TEST(unlocks_bitlocker_volumes_with_a_recovery_password_or_a_password)
{
    tsv t;
    truth_load(&t, "truth/bde.tsv");
    ck_assert_uint_eq(t.count, 2);
    size_t tried = 0;
    for (size_t i = 0; i < t.count; i++) {
        const tsv_row *r = &t.rows[i];
        size_t idx = (size_t)atoi(r->f[1]);
        char *path = path_join(evidence_dir(), r->f[0]);
        kt_image *img = NULL;
        kt_error err = {0};
        ck_assert_msg(kt_image_open(path, &img, &err) == 0, "%s: %s", r->f[0], err.msg);
        kt_volume_list vl = {0};
        ck_assert_msg(kt_volumes_scan(img, &vl, &err) == 0, "%s", err.msg);
        ck_assert_uint_gt(vl.count, idx);
        ck_assert_str_eq(vl.items[idx].desc, r->f[2]);
        ck_assert_str_eq(vl.items[idx].encryption, "bitlocker");
        ck_assert_str_eq(vl.items[idx].fs, "");
        ck_assert_ptr_null(vl.items[idx].crypt);
        ck_assert(any_warning_has(img, "no key was given"));
        kt_volume_list_release(&vl);
        kt_image_free(img);
        char list[128];
        snprintf(list, sizeof list, "%s", r->f[5]);
        for (char *save = NULL, *k = strtok_r(list, " ", &save); k;
             k = strtok_r(NULL, " ", &save)) {
            for (int as_file = 0; as_file <= (strstr(k, ".recovery") != NULL); as_file++) {
                kt_keys keys = {0};
                bde_keys(&keys, k, as_file);
                ck_assert_msg(kt_image_open(path, &img, &err) == 0, "%s", err.msg);
                ck_assert_msg(kt_volumes_scan_keys(img, &keys, &vl, &err) == 0, "%s", err.msg);
                const kt_volume *v = &vl.items[idx];
                char want[160];
                snprintf(want, sizeof want, "%s, unlocked", r->f[2]);
                ck_assert_str_eq(v->desc, want);
                ck_assert_str_eq(v->fs, r->f[4]);
                ck_assert_str_eq(v->encryption, "bitlocker");
                ck_assert_ptr_nonnull(v->crypt);
                const char *guid = strstr(r->f[2], "GUID ");
                char id[48];
                snprintf(id, sizeof id, "%.41s", guid);
                ck_assert_msg(!any_warning_has(img, id), "%s: a warning about volume %zu with %s",
                              r->f[0], idx, k);
                kt_volume_list_release(&vl);
                kt_image_free(img);
                kt_keys_release(&keys);
                tried++;
            }
        }
        free(path);
    }
    ck_assert_uint_eq(tried, 6);
    tsv_free(&t);
}
END_TEST

/* What libbde must not be given is refused from the header, with the
 * reason: a BitLocker boot sector with no Windows 7 identifier, and a
 * copy of a BitLocker volume whose first metadata entry claims to run
 * past its block. */
START_TEST(refuses_a_bitlocker_volume_libbde_must_not_read_with_the_reason)
{
    char tmp[] = "/tmp/kt-bde-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    char *src = path_join(evidence_dir(), "scenarios/kes-active.bde.raw");
    char *bad = path_join(tmp, "bad-entry.raw");
    char *cmd = NULL;
    /* Volume 0 starts at 1 MiB; its header's first metadata offset (at
     * 176) gives the block; its first entry's size is at 64 + 48. */
    ck_assert(
        asprintf(
            &cmd,
            "cp --sparse=always '%s' '%s' && off=$(od -An -tu8 -j $((1048576 + 176)) -N8 '%s') && "
            "printf '\\377\\177' | dd of='%s' bs=1 seek=$((1048576 + off + 112)) "
            "conv=notrunc status=none",
            src, bad, src, bad) > 0);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    static const char *const reasons[] = {
        "it is not of the Windows 7 and later form",
        "its FVE metadata entry at 48 runs past its block",
    };
    for (size_t i = 0; i < 2; i++) {
        char *path = i == 0 ? path_join(evidence_dir(), "bitlocker-bootsector.img") : strdup(bad);
        kt_image *img = NULL;
        kt_error err = {0};
        kt_keys keys = {0};
        bde_keys(&keys, "active.recovery", false);
        ck_assert_msg(kt_image_open(path, &img, &err) == 0, "%s", err.msg);
        kt_volume_list vl = {0};
        ck_assert_msg(kt_volumes_scan_keys(img, &keys, &vl, &err) == 0, "%s", err.msg);
        ck_assert_ptr_null(vl.items[0].crypt);
        ck_assert_str_eq(vl.items[0].encryption, "bitlocker");
        ck_assert_msg(any_warning_has(img, reasons[i]), "%s: not refused with the reason", path);
        ck_assert(any_warning_has(img, "that kavtrace cannot unlock"));
        kt_volume_list_release(&vl);
        kt_image_free(img);
        kt_keys_release(&keys);
        free(path);
    }
    ck_assert_int_eq(unlink(bad), 0);
    ck_assert_int_eq(rmdir(tmp), 0);
    free(src);
    free(bad);
}
END_TEST

/* A key is tried only where the volume has a protector of its kind (libbde
 * reports a key for a missing protector as an error, not a wrong key): on
 * a copy of kes-active's BitLocker volume whose recovery-password
 * protector is made a TPM one, a recovery password given first is passed
 * over and the user password after it unlocks the volume. */
START_TEST(a_key_for_a_protector_the_volume_lacks_is_not_tried)
{
    char tmp[] = "/tmp/kt-bde-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    char *src = path_join(evidence_dir(), "scenarios/kes-active.bde.raw");
    char *tpm = path_join(tmp, "tpm.raw");
    char *cmd = NULL;
    /* The first metadata block (offset at 176 of volume 0, which starts at
     * 1 MiB): entries from 112, the description (62 bytes) first, then the
     * recovery-password VMK, whose protection type is at 8 + 26 of it. */
    ck_assert(asprintf(&cmd,
                       "cp --sparse=always '%s' '%s' && "
                       "at=$((1048576 + $(od -An -tu8 -j $((1048576 + 176)) -N8 '%s') + 112 + "
                       "62 + 34)) && [ \"$(od -An -tx1 -j $at -N2 '%s')\" = ' 00 08' ] && "
                       "printf '\\000\\001' | dd of='%s' bs=1 seek=$at conv=notrunc status=none",
                       src, tpm, src, src, tpm) > 0);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    kt_image *img = NULL;
    kt_error err = {0};
    kt_keys keys = {0};
    bde_keys(&keys, "active.recovery active.pass", false);
    ck_assert_msg(kt_image_open(tpm, &img, &err) == 0, "%s", err.msg);
    kt_volume_list vl = {0};
    ck_assert_msg(kt_volumes_scan_keys(img, &keys, &vl, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(vl.items[0].desc, "BitLocker encrypted volume, GUID "
                                       "4b565455-0000-4000-8000-0000000bde01 (AES-XTS-128; TPM, "
                                       "password, startup key), unlocked");
    ck_assert_ptr_nonnull(vl.items[0].crypt);
    ck_assert_str_eq(vl.items[0].fs, "ntfs");
    ck_assert(!any_warning_has(img, "cannot open"));
    kt_volume_list_release(&vl);
    kt_image_free(img);
    kt_keys_release(&keys);
    ck_assert_int_eq(unlink(tpm), 0);
    ck_assert_int_eq(rmdir(tmp), 0);
    free(src);
    free(tpm);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("volume");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, finds_every_volume_of_every_container);
    tcase_add_test(tc, reads_the_corpus_images_or_refuses_them_by_name);
    tcase_add_test(tc, lists_every_lvm2_logical_volume_with_its_filesystem);
    tcase_add_test(tc, names_a_logical_volume_it_cannot_read_in_place);
    tcase_add_test(tc, reads_a_gpt_with_a_bad_header_from_its_backup);
    tcase_add_test(tc, warns_about_partitions_past_the_end);
    tcase_add_test(tc, refuses_random_bytes_and_a_zeroed_mft_clearly);
    tcase_add_test(tc, skips_gpt_entries_whose_sectors_do_not_fit_a_byte_offset);
    tcase_add_test(tc, checks_gpt_entries_against_overflow_and_the_image_size);
    tcase_add_test(tc, checks_mbr_and_ebr_chain_partitions_against_the_image_size);
    tcase_add_test(tc, lists_encrypted_volumes_with_their_kind_and_a_warning);
    tcase_add_test(tc, unlocks_luks1_volumes_with_a_password_or_a_key_file);
    tcase_add_test(tc, a_wrong_key_is_named_without_the_key_and_other_volumes_still_unlock);
    tcase_add_test(tc, refuses_luks2_and_a_cipher_it_does_not_read_with_the_reason);
    tcase_add_test(tc, decrypts_every_luks1_mode_libluksde_cannot_read_itself);
    tcase_add_test(tc, decrypts_sectors_as_ieee_1619_and_dm_crypt_do);
    tcase_add_test(tc, unlocks_bitlocker_volumes_with_a_recovery_password_or_a_password);
    tcase_add_test(tc, refuses_a_bitlocker_volume_libbde_must_not_read_with_the_reason);
    tcase_add_test(tc, a_key_for_a_protector_the_volume_lacks_is_not_tried);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
