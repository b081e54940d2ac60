#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kavtrace/fs.h"
#include "kavtrace/image.h"
#include "kavtrace/inventory.h"
#include "kavtrace/ntfs_mft.h"
#include "kavtrace/volume.h"
#include "testutil.h"

typedef struct opened {
    kt_image *img;
    kt_volume_list vols;
    kt_fs *fs;
} opened;

static void open_volume(opened *o, const char *dir, const char *file, size_t index)
{
    char *path = path_join(dir, file);
    kt_error err = {0};
    memset(o, 0, sizeof *o);
    ck_assert_msg(kt_image_open(path, &o->img, &err) == 0, "%s", err.msg);
    ck_assert_msg(kt_volumes_scan(o->img, &o->vols, &err) == 0, "%s", err.msg);
    ck_assert_uint_gt(o->vols.count, index);
    ck_assert_msg(kt_fs_open_volume(o->img, &o->vols.items[index], &o->fs, &err) == 0, "%s",
                  err.msg);
    free(path);
}

static void close_volume(opened *o)
{
    kt_fs_free(o->fs);
    kt_volume_list_release(&o->vols);
    kt_image_free(o->img);
}

static void assert_time(const char *what, const char *path, kt_time got, const char *want)
{
    kt_time w = truth_time(want);
    char g[KT_TIME_ISO_MAX];
    ck_assert_msg(got == w, "%s: %s is %s, want %s", path, what, kt_time_format_iso(got, g), want);
}

static void assert_content(kt_fs *fs, const char *path, int flags, const char *content)
{
    kt_buf want = {0}, got = {0};
    kt_error err = {0};
    truth_text(content, &want);
    ck_assert_msg(kt_fs_read(fs, path, flags, 1 << 20, &got, &err) == 0, "%s: %s", path, err.msg);
    ck_assert_msg(got.len == want.len && memcmp(got.data, want.data, got.len) == 0,
                  "%s: content differs (%zu bytes, want %zu)", path, got.len, want.len);
    kt_buf_release(&want);
    kt_buf_release(&got);
}

/* A deleted entry must not be found by lookup and must be listed by
 * list_deleted in its parent; returns its listing entry's stat. */
static kt_stat assert_deleted(kt_fs *fs, const char *path)
{
    kt_stat st;
    ck_assert_msg(kt_fs_stat(fs, path, 0, &st, NULL) == KT_ENOTFOUND,
                  "deleted '%s' found by lookup", path);
    char parent[KT_FS_PATH_MAX];
    kt_strlcpy(parent, path, sizeof parent);
    char *slash = strrchr(parent, '/');
    const char *name = slash ? slash + 1 : path;
    if (slash)
        *slash = '\0';
    else
        parent[0] = '\0';
    kt_dirent_list del = {0};
    kt_error err = {0};
    ck_assert_msg(kt_fs_list_deleted(fs, parent, &del, &err) == 0, "%s", err.msg);
    bool found = false;
    for (size_t i = 0; i < del.count; i++) {
        ck_assert(del.items[i].deleted);
        if (strcmp(del.items[i].name, name) == 0) {
            found = true;
            st = del.items[i].st;
        }
    }
    ck_assert_msg(found, "deleted '%s' not listed in '%s'", name, parent);
    kt_dirent_list_release(&del);
    return st;
}

/* ---- NTFS ------------------------------------------------------------- */

static void check_ntfs_manifest(kt_fs *fs)
{
    tsv t;
    truth_load(&t, "windows/ntfs.tsv");
    ck_assert_int_ge(t.count, 20);
    size_t files = 0, deleted = 0, streams = 0;
    for (size_t i = 0; i < t.count; i++) {
        tsv_row *r = &t.rows[i];
        const char *kind = r->f[0], *path = r->f[1], *content = r->f[10];
        if (strcmp(kind, "stream") == 0) {
            /* A stream of a deleted file is read through its deleted name. */
            char base[KT_FS_PATH_MAX];
            kt_strlcpy(base, path, sizeof base);
            *strrchr(base, ':') = '\0';
            assert_content(fs, path, kt_fs_exists(fs, base) ? 0 : KT_FS_DELETED, content);
            streams++;
            continue;
        }
        kt_stat st;
        if (strcmp(kind, "deleted") == 0) {
            st = assert_deleted(fs, path);
            ck_assert(!st.allocated);
            deleted++;
        } else {
            kt_error err = {0};
            ck_assert_msg(kt_fs_stat(fs, path, 0, &st, &err) == 0, "%s", err.msg);
            ck_assert_int_eq(st.type, strcmp(kind, "dir") == 0 ? KT_FT_DIR : KT_FT_REG);
            ck_assert(st.allocated);
            files++;
        }
        assert_time("$SI created", path, st.created, r->f[2]);
        assert_time("$SI modified", path, st.modified, r->f[3]);
        assert_time("$SI MFT changed", path, st.changed, r->f[4]);
        assert_time("$SI accessed", path, st.accessed, r->f[5]);
        ck_assert(st.has_fn);
        assert_time("$FN created", path, st.fn_created, r->f[6]);
        assert_time("$FN modified", path, st.fn_modified, r->f[7]);
        assert_time("$FN MFT changed", path, st.fn_changed, r->f[8]);
        assert_time("$FN accessed", path, st.fn_accessed, r->f[9]);
        if (strcmp(kind, "file") == 0 && strncmp(content, "text:", 5) == 0)
            assert_content(fs, path, 0, content);
        if (strcmp(kind, "deleted") == 0 && strncmp(content, "text:", 5) == 0)
            assert_content(fs, path, KT_FS_DELETED, content);
    }
    ck_assert_uint_ge(deleted, 2);
    ck_assert_uint_ge(streams, 1);
    ck_assert_uint_ge(files, 15);
    tsv_free(&t);
}

START_TEST(ntfs_times_streams_and_deleted_entries_match_ground_truth)
{
    const char *containers[] = {"windows.E01", "windows.vhd", "windows.vmdk", "windows.split.000"};
    for (size_t i = 0; i < sizeof containers / sizeof containers[0]; i++) {
        opened o;
        open_volume(&o, evidence_dir(), containers[i], 1);
        ck_assert_int_eq(kt_fs_get_kind(o.fs), KT_FS_NTFS);
        check_ntfs_manifest(o.fs);
        close_volume(&o);
    }
    opened o;
    open_volume(&o, evidence_dir(), "bare-ntfs.vmdk", 0);
    check_ntfs_manifest(o.fs);
    close_volume(&o);
}
END_TEST

START_TEST(ntfs_lookup_ignores_case_and_reports_disk_names)
{
    opened o;
    open_volume(&o, evidence_dir(), "windows.E01", 1);
    ck_assert(kt_fs_case_insensitive(o.fs));
    char resolved[KT_FS_PATH_MAX];
    kt_error err = {0};
    ck_assert_msg(kt_fs_resolve(o.fs, "WINDOWS\\system32\\CONFIG\\software", resolved,
                                sizeof resolved, &err) == 0,
                  "%s", err.msg);
    ck_assert_str_eq(resolved, "Windows/System32/config/SOFTWARE");
    kt_buf hive = {0};
    ck_assert_int_eq(kt_fs_read(o.fs, "windows/system32/config/SYSTEM", 0, 64 << 20, &hive, &err),
                     0);
    ck_assert_mem_eq(hive.data, "regf", 4);
    kt_buf_release(&hive);
    ck_assert_int_eq(kt_fs_read(o.fs, "Windows/System32/config/SOFTWARE", 0, 16, &hive, &err),
                     KT_ELIMIT);
    ck_assert_int_eq(kt_fs_read(o.fs, "Windows", 0, 1 << 20, &hive, &err), KT_EARG);
    ck_assert_int_eq(kt_fs_stat(o.fs, "Windows/NoSuchDir/x", 0, &(kt_stat){0}, &err), KT_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "Windows/NoSuchDir"));
    close_volume(&o);
}
END_TEST

START_TEST(ntfs_the_mft_is_read_once_and_no_index_twice)
{
    /* Lookups and listings through the same directories, over and over
     * (as a scan's definitions do): the $MFT is read once, whole, on the
     * first lookup (names, live and deleted, are found there); a
     * directory's index only for its slack, once; the answers stay the
     * same. */
    opened o;
    open_volume(&o, evidence_dir(), "windows.raw", 1);
    kt_error err = {0};
    kt_stat first = {0}, mft = {0};
    uint64_t bytes = 0;
    ck_assert_uint_eq(kt_fs_mft_passes(o.fs, &bytes), 0);
    ck_assert_msg(kt_fs_stat(o.fs, "Windows/System32/config/SOFTWARE", 0, &first, &err) == 0, "%s",
                  err.msg);
    ck_assert_uint_eq(kt_fs_mft_passes(o.fs, &bytes), 1);
    ck_assert_int_eq(kt_fs_stat(o.fs, "$MFT", 0, &mft, &err), 0);
    ck_assert_int_gt(mft.size, 0);
    ck_assert_uint_eq(bytes, (uint64_t)mft.size);
    ck_assert_uint_eq(kt_fs_dir_reads(o.fs), 0);
    for (int i = 0; i < 50; i++) {
        kt_stat st = {0};
        ck_assert_int_eq(kt_fs_stat(o.fs, "windows/system32/CONFIG/software", 0, &st, &err), 0);
        ck_assert_uint_eq(st.inode, first.inode);
        ck_assert_int_eq(
            kt_fs_stat(o.fs, "Windows/System32/config/NoSuchHive", KT_FS_DELETED, &st, &err),
            KT_ENOTFOUND);
        kt_dirent_list l = {0}, d = {0};
        ck_assert_int_eq(kt_fs_list(o.fs, "Windows/System32/config", false, &l, &err), 0);
        ck_assert_int_eq(kt_fs_list(o.fs, "Windows/System32/config", true, &d, &err), 0);
        ck_assert_uint_ge(d.count, l.count);
        bool found = false;
        for (size_t k = 0; k < l.count; k++)
            found = found || (strcmp(l.items[k].name, "SOFTWARE") == 0 && !l.items[k].deleted &&
                              l.items[k].st.inode == first.inode);
        ck_assert(found);
        kt_dirent_list_release(&l);
        kt_dirent_list_release(&d);
    }
    ck_assert_uint_eq(kt_fs_mft_passes(o.fs, &bytes), 1);
    ck_assert_uint_eq(bytes, (uint64_t)mft.size);
    ck_assert_uint_eq(kt_fs_dir_reads(o.fs), 1); /* config's slack, for the deleted names */
    ck_assert_uint_eq(kt_fs_damaged_records(o.fs, NULL, 0), 0);
    /* the same table answers by MFT reference, with no other read */
    const kt_mft *m = kt_fs_ntfs_mft(o.fs);
    ck_assert_ptr_nonnull(m);
    kt_mft_entry e;
    ck_assert(kt_mft_get(m, first.inode, &e) && e.in_use && !e.dir);
    kt_mft_name names[2];
    ck_assert_uint_eq(kt_mft_names(m, first.inode, names, 2), 1);
    ck_assert_str_eq(names[0].name, "SOFTWARE");
    kt_stat config;
    ck_assert_int_eq(kt_fs_stat(o.fs, "Windows/System32/config", 0, &config, &err), 0);
    ck_assert_uint_eq(names[0].parent, config.inode);
    ck_assert_uint_eq(kt_fs_mft_passes(o.fs, NULL), 1);
    close_volume(&o);
}
END_TEST

START_TEST(lists_a_directory_sorted_without_deleted_entries)
{
    opened o;
    open_volume(&o, evidence_dir(), "windows.raw", 1);
    kt_dirent_list l = {0};
    kt_error err = {0};
    ck_assert_int_eq(kt_fs_list(o.fs, "Users", false, &l, &err), 0);
    ck_assert_uint_ge(l.count, 2);
    for (size_t i = 0; i < l.count; i++) {
        ck_assert(!l.items[i].deleted);
        if (i)
            ck_assert_int_lt(strcmp(l.items[i - 1].name, l.items[i].name), 0);
    }
    kt_dirent_list_release(&l);
    close_volume(&o);
}
END_TEST

/* ---- ext4 ------------------------------------------------------------- */

START_TEST(ext4_times_to_the_nanosecond_links_and_deleted_entries)
{
    const char *containers[] = {"linux.E01", "linux.vhd", "linux.split.aa"};
    for (size_t c = 0; c < sizeof containers / sizeof containers[0]; c++) {
        opened o;
        open_volume(&o, evidence_dir(), containers[c], 0);
        ck_assert_int_eq(kt_fs_get_kind(o.fs), KT_FS_EXT);
        tsv t;
        truth_load(&t, "linux/ext4.tsv");
        size_t deleted = 0, links = 0;
        for (size_t i = 0; i < t.count; i++) {
            tsv_row *r = &t.rows[i];
            const char *kind = r->f[0], *path = r->f[1], *content = r->f[6];
            kt_stat st;
            kt_error err = {0};
            if (strcmp(kind, "deleted") == 0) {
                st = assert_deleted(o.fs, path);
                deleted++;
            } else {
                ck_assert_msg(kt_fs_stat(o.fs, path, 0, &st, &err) == 0, "%s", err.msg);
            }
            if (strcmp(kind, "symlink") == 0) {
                char target[KT_FS_PATH_MAX];
                ck_assert_int_eq(st.type, KT_FT_LINK);
                ck_assert_int_eq(kt_fs_readlink(o.fs, path, target, sizeof target, &err), 0);
                ck_assert_str_eq(target, content);
                links++;
            }
            assert_time("crtime", path, st.created, r->f[2]);
            assert_time("mtime", path, st.modified, r->f[3]);
            assert_time("ctime", path, st.changed, r->f[4]);
            assert_time("atime", path, st.accessed, r->f[5]);
            ck_assert(!st.has_fn);
            if (strcmp(kind, "file") == 0 && strncmp(content, "text:", 5) == 0)
                assert_content(o.fs, path, 0, content);
        }
        ck_assert_uint_eq(deleted, 2);
        ck_assert_uint_eq(links, 3);
        tsv_free(&t);
        close_volume(&o);
    }
}
END_TEST

START_TEST(ext4_lookup_is_case_sensitive)
{
    opened o;
    open_volume(&o, evidence_dir(), "linux.raw", 0);
    ck_assert(!kt_fs_case_insensitive(o.fs));
    ck_assert(kt_fs_exists(o.fs, "etc/hostname"));
    ck_assert(!kt_fs_exists(o.fs, "ETC/hostname"));
    ck_assert(!kt_fs_exists(o.fs, "etc/HOSTNAME"));
    close_volume(&o);
}
END_TEST

/* ---- XFS (libfsxfs), on the RHEL-like disk ---------------------------- */

/* A manifest time, '=' meaning the column before's. */
static const char *resolved(tsv_row *r, int col, int first)
{
    while (col > first && strcmp(r->f[col], "=") == 0)
        col--;
    return r->f[col];
}

/* /boot: XFS without big timestamps, read by libfsxfs's own decoding
 * (signed seconds: a 1969 time too); the root logical volume: XFS with big
 * timestamps, which Debian's libfsxfs reads as 1998: decoded from the inode
 * core. Every time to the nanosecond, links, contents, listings. */
START_TEST(xfs_times_of_both_formats_links_contents_and_listings)
{
    const char *containers[] = {"scenarios-unix/kesl-ubuntu.rhel.raw",
                                "scenarios-unix/kesl-ubuntu.rhel.qcow2"};
    for (size_t c = 0; c < sizeof containers / sizeof containers[0]; c++) {
        opened o;
        open_volume(&o, evidence_dir(), containers[c], 0);
        ck_assert_int_eq(kt_fs_get_kind(o.fs), KT_FS_XFS);
        ck_assert_str_eq(kt_fs_type_name(o.fs), "xfs");
        ck_assert(!kt_fs_case_insensitive(o.fs));
        tsv t;
        truth_load(&t, "linux-xfs/boot.tsv");
        size_t links = 0, files = 0;
        for (size_t i = 0; i < t.count; i++) {
            tsv_row *r = &t.rows[i];
            const char *kind = r->f[0], *path = strcmp(r->f[1], ".") == 0 ? "" : r->f[1];
            kt_stat st;
            kt_error err = {0};
            ck_assert_msg(kt_fs_stat(o.fs, path, 0, &st, &err) == 0, "%s: %s", path, err.msg);
            assert_time("crtime", r->f[1], st.created, r->f[3]);
            assert_time("mtime", r->f[1], st.modified, r->f[4]);
            assert_time("ctime", r->f[1], st.changed, r->f[5]);
            assert_time("atime", r->f[1], st.accessed, r->f[6]);
            if (strcmp(kind, "symlink") == 0) {
                char target[KT_FS_PATH_MAX];
                ck_assert_int_eq(st.type, KT_FT_LINK);
                ck_assert_int_eq(kt_fs_readlink(o.fs, path, target, sizeof target, &err), 0);
                ck_assert_str_eq(target, r->f[2]);
                links++;
            } else if (strcmp(kind, "file") == 0) {
                char rel[256];
                snprintf(rel, sizeof rel, "linux-xfs/%s", r->f[2]);
                char *src = path_join(testdata_dir(), rel);
                kt_buf want = {0}, got = {0};
                file_load(src, &want);
                ck_assert_msg(kt_fs_read(o.fs, path, 0, 1 << 20, &got, &err) == 0, "%s", err.msg);
                ck_assert(got.len == want.len && memcmp(got.data, want.data, got.len) == 0);
                ck_assert_int_eq(st.size, (int64_t)want.len);
                kt_buf_release(&want);
                kt_buf_release(&got);
                free(src);
                files++;
            } else {
                ck_assert_int_eq(st.type, KT_FT_DIR);
            }
        }
        ck_assert_uint_eq(links, 1);
        ck_assert_uint_eq(files, 2);
        /* The link followed; a listing with its entries' own times. */
        kt_stat st;
        kt_error err = {0};
        ck_assert_int_eq(kt_fs_stat(o.fs, "vmlinuz", KT_FS_FOLLOW, &st, &err), 0);
        ck_assert_int_eq(st.type, KT_FT_REG);
        kt_dirent_list l = {0};
        ck_assert_int_eq(kt_fs_list(o.fs, "loader/entries", false, &l, &err), 0);
        ck_assert_uint_eq(l.count, 1);
        ck_assert_str_eq(l.items[0].name, "rhel-5.14.0-427.el9.conf");
        assert_time("mtime", "listed", l.items[0].st.modified, "2024-05-02T09:20:00.75Z");
        kt_dirent_list_release(&l);
        ck_assert(!kt_fs_exists(o.fs, "LOADER"));
        tsv_free(&t);
        close_volume(&o);

        /* The root LV: the kesl-ubuntu tree with its ext4 times. */
        open_volume(&o, evidence_dir(), containers[c], 2);
        ck_assert_int_eq(kt_fs_get_kind(o.fs), KT_FS_XFS);
        truth_load(&t, "scenarios-unix/kesl-ubuntu/ext4.tsv");
        size_t checked = 0;
        for (size_t i = 0; i < t.count; i++) {
            tsv_row *r = &t.rows[i];
            const char *path = r->f[1];
            if (strcmp(path, "lost+found") == 0)
                continue;
            ck_assert_msg(kt_fs_stat(o.fs, path, 0, &st, &err) == 0, "%s: %s", path, err.msg);
            assert_time("crtime", path, st.created, resolved(r, 2, 2));
            assert_time("mtime", path, st.modified, resolved(r, 3, 2));
            assert_time("ctime", path, st.changed, resolved(r, 4, 2));
            assert_time("atime", path, st.accessed, resolved(r, 5, 2));
            if (strcmp(r->f[0], "file") == 0 && strncmp(r->f[6], "text:", 5) == 0)
                assert_content(o.fs, path, 0, r->f[6]);
            checked++;
        }
        ck_assert_uint_ge(checked, 100);
        tsv_free(&t);
        close_volume(&o);
    }
}
END_TEST

/* ---- damaged ext4: copies of linux.raw with one thing broken ---- */

/* A sparse copy of the evidence's linux.raw in a new temporary directory. */
static char *linux_copy(char dir[32])
{
    snprintf(dir, 32, "/tmp/kt-fs-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *src = path_join(evidence_dir(), "linux.raw"), *dst = path_join(dir, "linux.raw");
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

static void patch(const char *path, uint64_t off, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseeko(f, (off_t)off, SEEK_SET), 0);
    ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static uint32_t le32_at(const uint8_t *b, size_t off)
{
    return (uint32_t)b[off] | (uint32_t)b[off + 1] << 8 | (uint32_t)b[off + 2] << 16 |
           (uint32_t)b[off + 3] << 24;
}

/* Where linux.raw's ext4 volume (sector 2048, testdata/build-evidence.sh)
 * keeps inode N, and the first block of a file whose inode has a depth-0
 * extent tree: from the superblock and group descriptor, read here
 * independently of libtsk. */
#define EXT4_AT (2048u * 512u)

static uint64_t inode_at(const char *img, uint64_t inum, uint8_t out[256])
{
    FILE *f = fopen(img, "rb");
    ck_assert_ptr_nonnull(f);
    uint8_t sb[1024], gd[64];
    ck_assert_int_eq(fseeko(f, EXT4_AT + 1024, SEEK_SET), 0);
    ck_assert_uint_eq(fread(sb, 1, sizeof sb, f), sizeof sb);
    uint64_t bs = 1024u << le32_at(sb, 0x18), ipg = le32_at(sb, 0x28);
    uint64_t isz = (uint64_t)sb[0x58] | (uint64_t)sb[0x59] << 8;
    uint64_t group = (inum - 1) / ipg, index = (inum - 1) % ipg;
    ck_assert_uint_eq(group, 0);
    ck_assert_int_eq(fseeko(f, (off_t)(EXT4_AT + bs), SEEK_SET), 0); /* descriptors: block 1 */
    ck_assert_uint_eq(fread(gd, 1, sizeof gd, f), sizeof gd);
    uint64_t at = EXT4_AT + le32_at(gd, 8) * bs + index * isz;
    ck_assert_int_eq(fseeko(f, (off_t)at, SEEK_SET), 0);
    ck_assert_uint_eq(fread(out, 1, 256, f), 256);
    fclose(f);
    return at;
}

static uint64_t first_block_at(const uint8_t inode[256])
{
    ck_assert_uint_eq(le32_at(inode, 0x28) & 0xffff, 0xf30a);     /* extent header */
    ck_assert_uint_eq(inode[0x28 + 6] | inode[0x28 + 7] << 8, 0); /* depth 0 */
    return EXT4_AT + (uint64_t)le32_at(inode, 0x28 + 12 + 8) * 4096;
}

static uint64_t inode_of(const char *img, const char *path)
{
    opened o;
    open_volume(&o, "", img, 0);
    kt_stat st;
    kt_error err = {0};
    ck_assert_msg(kt_fs_stat(o.fs, path, 0, &st, &err) == 0, "%s", err.msg);
    close_volume(&o);
    return st.inode;
}

/* ---- NTFS: records freed and reused (windows/ntfs-reuse.tsv) ---------- */

#define TASK_NAME "-a-long-enough-name-to-fill-index-records.xml"

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseeko(f, 0, SEEK_END), 0);
    *len = (size_t)ftello(f);
    uint8_t *b = malloc(*len);
    ck_assert_ptr_nonnull(b);
    rewind(f);
    ck_assert_uint_eq(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

/* Where ASCII text first appears as UTF-16LE in b at or after from. */
static size_t find_utf16(const uint8_t *b, size_t len, size_t from, const char *text)
{
    size_t n = strlen(text);
    for (size_t i = from; i + 2 * n <= len; i++) {
        size_t k = 0;
        while (k < n && b[i + 2 * k] == (uint8_t)text[k] && b[i + 2 * k + 1] == 0)
            k++;
        if (k == n)
            return i;
    }
    return SIZE_MAX;
}

static char *reuse_copy(char dir[32])
{
    snprintf(dir, 32, "/tmp/kt-fs-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *src = path_join(evidence_dir(), "ntfs/reuse.raw"), *dst = path_join(dir, "reuse.raw");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp --sparse=always '%s' '%s'", src, dst);
    ck_assert_int_eq(system(cmd), 0);
    free(src);
    return dst;
}

START_TEST(ntfs_a_reused_record_keeps_no_name_and_a_free_one_stays_deleted)
{
    opened o;
    open_volume(&o, evidence_dir(), "ntfs/reuse.raw", 0);
    kt_error err = {0};
    kt_stat st;
    kt_buf b = {0};
    /* the files that took the freed records are live files like any other */
    ck_assert_int_eq(kt_fs_read(o.fs, "Big/reused-2.xml", 0, 64, &b, &err), 0);
    ck_assert_str_eq((const char *)b.data, "reused 2");
    kt_buf_release(&b);
    /* a deleted file whose record is free still is where it was */
    ck_assert_msg(kt_fs_stat(o.fs, "Tasks/zz-gone.xml", KT_FS_DELETED, &st, &err) == 0, "%s",
                  err.msg);
    ck_assert(!st.allocated);
    ck_assert_int_eq(st.modified, truth_time("2023-03-01T10:00:00Z"));
    ck_assert_int_eq(kt_fs_read(o.fs, "Tasks/zz-gone.xml", KT_FS_DELETED, 64, &b, &err), 0);
    ck_assert_str_eq((const char *)b.data, "gone");
    kt_buf_release(&b);
    ck_assert_int_eq(kt_fs_stat(o.fs, "Tasks/zz-gone.xml", 0, &st, &err), KT_ENOTFOUND);
    /* a deleted name whose record another file took is gone from the
     * $MFT; the index's slack may keep it (libtsk 4.11's fls does not
     * show it: it drops slack names created after 2020). Found as deleted,
     * it never passes for the file that has the record now. */
    kt_dirent_list l = {0};
    ck_assert_int_eq(kt_fs_list(o.fs, "Big", true, &l, &err), 0);
    size_t live = 0;
    for (size_t i = 0; i < l.count; i++) {
        const kt_dirent *de = &l.items[i];
        if (!de->deleted) {
            live++;
            continue;
        }
        ck_assert_msg(strncmp(de->name, "task-41", 7) == 0 ||
                          strncmp(de->name, "task-62", 7) == 0 ||
                          strncmp(de->name, "task-75", 7) == 0,
                      "%s", de->name);
        ck_assert(!de->st.allocated);
        ck_assert_int_eq(de->st.modified, KT_TIME_NONE);
        char path[128];
        snprintf(path, sizeof path, "Big/%s", de->name);
        ck_assert_int_eq(kt_fs_stat(o.fs, path, 0, &st, &err), KT_ENOTFOUND);
        ck_assert_int_eq(kt_fs_stat(o.fs, path, KT_FS_DELETED, &st, &err), 0);
        ck_assert_int_eq(st.modified, KT_TIME_NONE);
        ck_assert_int_eq(kt_fs_read(o.fs, path, KT_FS_DELETED, 64, &b, &err), KT_ENOTFOUND);
        ck_assert_ptr_nonnull(strstr(err.msg, "now holds another file"));
    }
    ck_assert_uint_eq(live, 80);
    ck_assert_uint_gt(l.count, live); /* the slack does keep some */
    kt_dirent_list_release(&l);
    ck_assert_uint_eq(kt_fs_mft_passes(o.fs, NULL), 1);
    close_volume(&o);
}
END_TEST

START_TEST(ntfs_a_name_only_in_index_slack_is_found_deleted)
{
    /* A copy of an index entry put in the slack of its INDX record, its
     * name changed: a name the $MFT does not hold (its record belongs to
     * another file), as a B-tree split or a removal leaves them. libtsk's
     * directory listing finds such names; the scan must too. */
    char dir[32];
    char *img = reuse_copy(dir);
    size_t len = 0;
    uint8_t *b = slurp(img, &len);
    size_t entry = 0, elen = 0, rec = 0;
    char name[128];
    for (int n = 0; n < 80 && !elen; n++) {
        snprintf(name, sizeof name, "task-%02d" TASK_NAME, n);
        for (size_t p = find_utf16(b, len, 0, name); p != SIZE_MAX;
             p = find_utf16(b, len, p + 1, name)) {
            size_t r = p & ~(size_t)4095, e = p - 66 - 16;
            if (memcmp(b + r, "INDX", 4) != 0)
                continue;
            size_t l = b[e + 8] | (size_t)b[e + 9] << 8;
            if (e % 512 + l <= 510) { /* no sector end inside: no fixup in it */
                entry = e;
                elen = l;
                rec = r;
                break;
            }
        }
    }
    ck_assert_uint_gt(elen, 0);
    uint32_t used = le32_at(b, rec + 28), alloc = le32_at(b, rec + 32);
    size_t q = (rec + 24 + used + 7) & ~(size_t)7;
    if (q % 512 + elen > 510)
        q = (q | 511) + 1 + 8;
    ck_assert_uint_le(q + elen, rec + 24 + alloc);
    uint8_t copy[512];
    memcpy(copy, b + entry, elen);
    memcpy(copy + 16 + 66, "g\0o\0n\0e\0", 8);
    patch(img, q, copy, elen);
    char gone[128];
    snprintf(gone, sizeof gone, "Big/gone%s", name + 4);
    char task[128];
    snprintf(task, sizeof task, "Big/%s", name);

    opened o;
    open_volume(&o, "", img, 0);
    kt_error err = {0};
    kt_stat st, live;
    ck_assert_int_eq(kt_fs_stat(o.fs, task, 0, &live, &err), 0);
    ck_assert_int_eq(kt_fs_stat(o.fs, gone, 0, &st, &err), KT_ENOTFOUND);
    ck_assert_msg(kt_fs_stat(o.fs, gone, KT_FS_DELETED, &st, &err) == 0, "%s", err.msg);
    kt_dirent_list l = {0};
    ck_assert_int_eq(kt_fs_list(o.fs, "Big", true, &l, &err), 0);
    int seen = 0;
    for (size_t i = 0; i < l.count; i++)
        if (strcmp(l.items[i].name, gone + 4) == 0) {
            seen++;
            ck_assert(l.items[i].deleted);
            ck_assert_uint_eq(l.items[i].st.inode, live.inode);
        }
    ck_assert_int_eq(seen, 1);
    kt_dirent_list_release(&l);
    ck_assert_int_eq(kt_fs_list(o.fs, "Big", false, &l, &err), 0);
    ck_assert_uint_eq(l.count, 80);
    kt_dirent_list_release(&l);
    close_volume(&o);
    free(b);
    drop_copy(img, dir);
}
END_TEST

START_TEST(ntfs_a_damaged_mft_record_is_a_warning_and_the_rest_is_read)
{
    char dir[32];
    char *img = reuse_copy(dir);
    uint64_t inum = inode_of(img, "Tasks/aa-live.xml");
    size_t len = 0;
    uint8_t *b = slurp(img, &len);
    /* its FILE record: the record number at 0x2c, its name inside */
    size_t at = SIZE_MAX;
    for (size_t r = 0; r + 1024 <= len && at == SIZE_MAX; r += 1024)
        if (memcmp(b + r, "FILE", 4) == 0 && le32_at(b, r + 0x2c) == inum &&
            find_utf16(b + r, 1024, 0, "aa-live.xml") != SIZE_MAX)
            at = r;
    ck_assert_uint_ne(at, SIZE_MAX);
    uint8_t torn[2] = {(uint8_t)(b[at + 510] ^ 0xff), b[at + 511]};
    patch(img, at + 510, torn, 2); /* a torn write: the sector's end is not the number */
    free(b);

    opened o;
    open_volume(&o, "", img, 0);
    kt_error err = {0};
    kt_stat st;
    ck_assert_int_eq(kt_fs_stat(o.fs, "Big/reused-3.xml", 0, &st, &err), 0);
    /* the file is still named (its directory's index says so): reading
     * it is an error that says what is wrong, not an absence */
    ck_assert_int_eq(kt_fs_stat(o.fs, "Tasks/aa-live.xml", 0, &st, &err), KT_EIO);
    kt_dirent_list l = {0};
    ck_assert_int_eq(kt_fs_list(o.fs, "Tasks", false, &l, &err), 0);
    ck_assert_uint_eq(l.count, 1);
    ck_assert_str_eq(l.items[0].name, "aa-live.xml");
    ck_assert_uint_eq(l.items[0].st.inode, inum);
    kt_dirent_list_release(&l);
    char msg[256];
    ck_assert_uint_eq(kt_fs_damaged_records(o.fs, msg, sizeof msg), 1);
    char want[64];
    snprintf(want, sizeof want, "MFT entry %llu:", (unsigned long long)inum);
    ck_assert_msg(strstr(msg, want) && strstr(msg, "update sequence"), "%s", msg);
    close_volume(&o);

    /* and the volume's warnings say so */
    kt_inventory inv;
    ck_assert_int_eq(kt_inventory_open(&inv, img, KT_INVENTORY_NO_VSS, NULL, &err), 0);
    ck_assert_uint_eq(inv.vols.count, 1);
    const kt_diags *w = &inv.volumes[0].warnings;
    bool warned = false;
    for (size_t i = 0; i < w->count; i++)
        warned = warned || (strcmp(w->items[i].code, "filesystem.mft") == 0 &&
                            strstr(w->items[i].message, "1 damaged MFT record skipped"));
    ck_assert(warned);
    kt_inventory_release(&inv);
    drop_copy(img, dir);
}
END_TEST

START_TEST(ext4_a_damaged_extent_tree_is_named)
{
    char dir[32];
    char *img = linux_copy(dir);
    uint8_t ino[256];
    uint64_t at = inode_at(img, inode_of(img, "etc/hostname"), ino);
    /* depth 5 over a leaf: libtsk would read the file's data as index
     * nodes (and leak a block buffer at each level it leaves) */
    static const uint8_t depth[2] = {5, 0};
    patch(img, at + 0x28 + 6, depth, 2);
    opened o;
    open_volume(&o, "", img, 0);
    kt_buf b = {0};
    kt_error err = {0};
    int rc = kt_fs_read(o.fs, "etc/hostname", 0, 1 << 20, &b, &err);
    ck_assert_int_eq(rc, KT_EFORMAT);
    ck_assert_msg(strstr(err.msg, "damaged extent tree") != NULL, "%s", err.msg);
    kt_buf_release(&b);
    close_volume(&o);
    drop_copy(img, dir);
}
END_TEST

START_TEST(ext4_an_inode_in_use_but_zeroed_is_an_error_not_an_empty_file)
{
    char dir[32];
    char *img = linux_copy(dir);
    uint8_t ino[256];
    uint64_t inum = inode_of(img, "etc/hostname");
    uint64_t at = inode_at(img, inum, ino);
    static const uint8_t zero[256];
    patch(img, at, zero, sizeof zero);
    opened o;
    open_volume(&o, "", img, 0);
    kt_buf b = {0};
    kt_error err = {0};
    ck_assert_int_eq(kt_fs_read(o.fs, "etc/hostname", 0, 1 << 20, &b, &err), KT_EFORMAT);
    ck_assert_msg(strstr(err.msg, "in use but empty") != NULL, "%s", err.msg);
    kt_stat st;
    ck_assert_int_eq(kt_fs_stat(o.fs, "etc/hostname", 0, &st, &err), KT_EFORMAT);
    /* a listing shows it as what its name says, so reading it reports */
    kt_dirent_list l = {0};
    ck_assert_msg(kt_fs_list(o.fs, "etc", false, &l, &err) == 0, "%s", err.msg);
    bool listed = false;
    for (size_t i = 0; i < l.count; i++)
        if (strcmp(l.items[i].name, "hostname") == 0)
            listed = l.items[i].st.type == KT_FT_REG;
    ck_assert(listed);
    kt_dirent_list_release(&l);
    kt_buf_release(&b);
    close_volume(&o);
    drop_copy(img, dir);
}
END_TEST

START_TEST(ext4_an_entry_of_another_type_than_its_inode_is_an_error)
{
    char dir[32];
    char *img = linux_copy(dir);
    uint8_t ino[256];
    inode_at(img, inode_of(img, "etc"), ino);
    uint64_t blk = first_block_at(ino);
    /* find "hostname" in etc's first block and say it is a directory */
    uint8_t block[4096];
    FILE *f = fopen(img, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseeko(f, (off_t)blk, SEEK_SET), 0);
    ck_assert_uint_eq(fread(block, 1, sizeof block, f), sizeof block);
    fclose(f);
    size_t off = 0;
    while (off + 8 < sizeof block &&
           !(block[off + 6] == 8 && memcmp(block + off + 8, "hostname", 8) == 0))
        off += (size_t)(block[off + 4] | block[off + 5] << 8);
    ck_assert_uint_lt(off + 8, sizeof block);
    static const uint8_t dir_type = 2;
    patch(img, blk + off + 7, &dir_type, 1);
    opened o;
    open_volume(&o, "", img, 0);
    kt_stat st;
    kt_error err = {0};
    ck_assert_int_eq(kt_fs_stat(o.fs, "etc/hostname", 0, &st, &err), KT_EFORMAT);
    ck_assert_msg(strstr(err.msg, "not of the type its directory entry says") != NULL, "%s",
                  err.msg);
    close_volume(&o);
    drop_copy(img, dir);
}
END_TEST

START_TEST(ext4_a_damaged_directory_block_is_an_error_not_an_absence)
{
    char dir[32];
    char *img = linux_copy(dir);
    uint8_t ino[256];
    inode_at(img, inode_of(img, "etc"), ino);
    static const uint8_t zero[4096];
    patch(img, first_block_at(ino), zero, sizeof zero);
    opened o;
    open_volume(&o, "", img, 0);
    kt_stat st;
    kt_error err = {0};
    /* libtsk alone finds no entry and says nothing: "not found" */
    int rc = kt_fs_stat(o.fs, "etc/hostname", 0, &st, &err);
    ck_assert_int_eq(rc, KT_EFORMAT);
    ck_assert_msg(strstr(err.msg, "directory 'etc': damaged directory block 0") != NULL, "%s",
                  err.msg);
    kt_dirent_list l = {0};
    ck_assert_int_eq(kt_fs_list(o.fs, "etc", false, &l, &err), KT_EFORMAT);
    /* the other directories are whole */
    ck_assert_msg(kt_fs_stat(o.fs, "usr", 0, &st, &err) == 0, "%s", err.msg);
    close_volume(&o);
    drop_copy(img, dir);
}
END_TEST

START_TEST(symlinks_resolve_inside_the_evidence)
{
    opened o;
    open_volume(&o, evidence_dir(), "linux.vmdk", 0);
    char r[KT_FS_PATH_MAX];
    kt_error err = {0};
    ck_assert_int_eq(kt_fs_resolve(o.fs, "etc/localtime-link", r, sizeof r, &err), 0);
    ck_assert_str_eq(r, "usr/share/zoneinfo/America/Chicago");
    /* An absolute target starts at the evidence's root, not the host's. */
    ck_assert_int_eq(kt_fs_resolve(o.fs, "etc/abs-link", r, sizeof r, &err), 0);
    ck_assert_str_eq(r, "usr/share/zoneinfo/America/Chicago");
    kt_buf a = {0}, b = {0};
    ck_assert_int_eq(kt_fs_read(o.fs, "etc/abs-link", 0, 1 << 20, &a, &err), 0);
    ck_assert_int_eq(kt_fs_read(o.fs, "etc/localtime", 0, 1 << 20, &b, &err), 0);
    ck_assert_uint_eq(a.len, b.len);
    ck_assert_mem_eq(a.data, "TZif", 4);
    ck_assert_mem_eq(a.data, b.data, a.len);
    kt_buf_release(&a);
    kt_buf_release(&b);
    /* "../../../../etc/passwd" stops at the root: the image has no
     * etc/passwd, and the host's is never read. */
    ck_assert_int_eq(kt_fs_resolve(o.fs, "etc/evil-link", r, sizeof r, &err), KT_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "etc/passwd"));
    ck_assert_int_eq(kt_fs_read(o.fs, "etc/evil-link", 0, 1 << 20, &a, &err), KT_ENOTFOUND);
    ck_assert_ptr_null(a.data);
    /* lstat semantics by default, stat with KT_FS_FOLLOW. */
    kt_stat st;
    ck_assert_int_eq(kt_fs_stat(o.fs, "etc/abs-link", 0, &st, &err), 0);
    ck_assert_int_eq(st.type, KT_FT_LINK);
    ck_assert_int_eq(kt_fs_stat(o.fs, "etc/abs-link", KT_FS_FOLLOW, &st, &err), 0);
    ck_assert_int_eq(st.type, KT_FT_REG);
    close_volume(&o);
}
END_TEST

/* ---- FAT -------------------------------------------------------------- */

static void check_fat(const char *file, size_t index, const char *manifest)
{
    opened o;
    open_volume(&o, evidence_dir(), file, index);
    ck_assert_int_eq(kt_fs_get_kind(o.fs), KT_FS_FAT);
    tsv t;
    truth_load(&t, manifest);
    for (size_t i = 0; i < t.count; i++) {
        tsv_row *r = &t.rows[i];
        kt_stat st;
        kt_error err = {0};
        ck_assert_msg(kt_fs_stat(o.fs, r->f[1], 0, &st, &err) == 0, "%s", err.msg);
        assert_time("modified", r->f[1], st.modified, r->f[2]);
        if (strcmp(r->f[0], "file") == 0)
            assert_content(o.fs, r->f[1], 0, r->f[3]);
    }
    /* FAT is case-insensitive. */
    ck_assert(kt_fs_exists(o.fs, "efi") || kt_fs_exists(o.fs, "BACKUP"));
    tsv_free(&t);
    close_volume(&o);
}

START_TEST(fat_volumes_match_ground_truth)
{
    check_fat("windows.E01", 0, "fat/esp.tsv");
    check_fat("linux.E01", 1, "fat/data.tsv");
}
END_TEST

/* ---- directory evidence --------------------------------------------------- */

START_TEST(directory_tree_links_stay_inside_the_tree)
{
    char *root = path_join(evidence_dir(), "macos-tree");
    kt_image *img = NULL;
    kt_volume_list vols = {0};
    kt_fs *fs = NULL;
    kt_error err = {0};
    ck_assert_int_eq(kt_image_open(root, &img, &err), 0);
    ck_assert_int_eq(kt_volumes_scan(img, &vols, &err), 0);
    ck_assert_int_eq(kt_fs_open_volume(img, &vols.items[0], &fs, &err), 0);
    kt_buf b = {0};
    ck_assert_msg(kt_fs_read(fs, "escape", 0, 1 << 20, &b, &err) == 0, "%s", err.msg);
    ck_assert_ptr_nonnull(strstr((char *)b.data, "evidence-passwd"));
    kt_buf_release(&b);
    char r[KT_FS_PATH_MAX];
    ck_assert_int_eq(kt_fs_resolve(fs, "etc/localtime", r, sizeof r, &err), 0);
    ck_assert_str_eq(r, "usr/share/zoneinfo.default/America/New_York");
    kt_stat st;
    ck_assert_int_eq(kt_fs_stat(fs, "users/CAROL/notes.txt", 0, &st, &err), 0);
    assert_time("mtime", "Users/carol/Notes.txt", st.modified, "2024-03-05T09:12:44.123456789Z");
    kt_dirent_list del = {0};
    ck_assert_int_eq(kt_fs_list_deleted(fs, "Users", &del, &err), 0);
    ck_assert_uint_eq(del.count, 0);
    kt_fs_free(fs);
    kt_volume_list_release(&vols);
    kt_image_free(img);
    free(root);
}
END_TEST

/* ---- a backslash in a Linux name ------------------------------------------ */

/* Both a directory "kaspersky" holding "x" and a file named "kaspersky\x":
 * on ext4 and in a directory tree the backslash is a name character, so
 * each path reaches its own file. */
static const struct {
    const char *path;
    const char *content;
} bslash_files[] = {
    {"var/log/kaspersky/x", "the directory's child\n"},
    {"var/log/kaspersky\\x", "a name with a backslash\n"},
    {"opt/kaspersky/kesl/evil", "kesl's child\n"},
    {"opt/kaspersky/kesl\\evil", "not inside kesl\n"},
};

static void write_file(const char *root, const char *rel, const char *content)
{
    char *path = path_join(root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        ck_assert_msg(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s", path);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(content, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
    free(path);
}

static void check_backslash_names(kt_fs *fs)
{
    for (size_t i = 0; i < sizeof bslash_files / sizeof bslash_files[0]; i++) {
        kt_buf b = {0};
        kt_error err = {0};
        ck_assert_msg(kt_fs_read(fs, bslash_files[i].path, 0, 1 << 20, &b, &err) == 0, "%s: %s",
                      bslash_files[i].path, err.msg);
        ck_assert_msg(b.len == strlen(bslash_files[i].content) &&
                          memcmp(b.data, bslash_files[i].content, b.len) == 0,
                      "'%s' read as '%.*s'", bslash_files[i].path, (int)b.len, (char *)b.data);
        kt_buf_release(&b);
        char r[KT_FS_PATH_MAX];
        ck_assert_int_eq(kt_fs_resolve(fs, bslash_files[i].path, r, sizeof r, &err), 0);
        ck_assert_str_eq(r, bslash_files[i].path);
    }
    /* What a listing names is what a lookup of the joined path finds. */
    kt_dirent_list l = {0};
    kt_error err = {0};
    ck_assert_int_eq(kt_fs_list(fs, "var/log", false, &l, &err), 0);
    ck_assert_uint_eq(l.count, 2);
    for (size_t i = 0; i < l.count; i++) {
        char path[KT_FS_PATH_MAX];
        snprintf(path, sizeof path, "var/log/%s", l.items[i].name);
        kt_stat st;
        ck_assert_msg(kt_fs_stat(fs, path, 0, &st, &err) == 0, "%s: %s", path, err.msg);
        ck_assert_msg(st.inode == l.items[i].st.inode, "'%s' leads to another entry", path);
    }
    kt_dirent_list_release(&l);
    ck_assert(!kt_fs_exists(fs, "var/log/kaspersky\\y"));
}

START_TEST(a_backslash_is_a_name_character_on_ext4_and_in_a_tree)
{
    char tmp[] = "/tmp/kt-bslash-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    char *tree = path_join(tmp, "tree");
    ck_assert_int_eq(mkdir(tree, 0755), 0);
    for (size_t i = 0; i < sizeof bslash_files / sizeof bslash_files[0]; i++)
        write_file(tree, bslash_files[i].path, bslash_files[i].content);

    /* Directory evidence. */
    kt_image *img = NULL;
    kt_volume_list vols = {0};
    kt_fs *fs = NULL;
    kt_error err = {0};
    ck_assert_int_eq(kt_image_open(tree, &img, &err), 0);
    ck_assert_int_eq(kt_volumes_scan(img, &vols, &err), 0);
    ck_assert_int_eq(kt_fs_open_volume(img, &vols.items[0], &fs, &err), 0);
    check_backslash_names(fs);
    kt_fs_free(fs);
    kt_volume_list_release(&vols);
    kt_image_free(img);

    /* The same tree copied into an ext4 volume (mke2fs -d). */
    char *cmd = NULL;
    ck_assert(asprintf(&cmd,
                       "PATH=$PATH:/sbin:/usr/sbin E2FSPROGS_FAKE_TIME=1732968000 mke2fs -q -F -t "
                       "ext4 -U 4b565442-0000-4000-8000-000000000001 -E root_owner=0:0 -d '%s' "
                       "'%s/ext4.img' 4M",
                       tree, tmp) > 0);
    kt_buf out = {0}, errout = {0};
    ck_assert_msg(run_capture(cmd, &out, &errout) == 0, "mke2fs: %s",
                  errout.data ? (char *)errout.data : "");
    opened o;
    open_volume(&o, tmp, "ext4.img", 0);
    ck_assert_int_eq(kt_fs_get_kind(o.fs), KT_FS_EXT);
    check_backslash_names(o.fs);
    close_volume(&o);
    kt_buf_release(&out);
    kt_buf_release(&errout);
    free(cmd);

    ck_assert(asprintf(&cmd, "rm -rf '%s'", tmp) > 0);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(tree);
}
END_TEST

/* Bytes this process has read so far (/proc/self/io's rchar). */
static unsigned long long process_read(void)
{
    FILE *io = fopen("/proc/self/io", "r");
    ck_assert_ptr_nonnull(io);
    char line[128];
    unsigned long long n = 0;
    while (fgets(line, sizeof line, io))
        if (strncmp(line, "rchar: ", 7) == 0)
            n = strtoull(line + 7, NULL, 10);
    fclose(io);
    return n;
}

static bool only_setup(void *ctx, const char *name, kt_file_type type)
{
    (void)ctx;
    (void)type;
    return strcmp(name, "setup.txt") == 0;
}

static bool nothing(void *ctx, const char *name, kt_file_type type)
{
    (void)ctx;
    (void)name;
    (void)type;
    return false;
}

static bool directories(void *ctx, const char *name, kt_file_type type)
{
    (void)ctx;
    (void)name;
    return type == KT_FT_DIR || type == KT_FT_UNKNOWN;
}

/* Bytes read by listing home/u/cache on a newly opened ext4 volume: all
 * of it, only setup.txt, or only the directories. */
static unsigned long long listing_read(const char *dir, kt_fs_want want, size_t *count)
{
    opened o;
    open_volume(&o, dir, "ext4.img", 0);
    ck_assert_int_eq(kt_fs_get_kind(o.fs), KT_FS_EXT);
    kt_dirent_list l = {0};
    kt_error err = {0};
    unsigned long long before = process_read();
    int rc = want ? kt_fs_list_some(o.fs, "home/u/cache", false, want, NULL, &l, &err)
                  : kt_fs_list(o.fs, "home/u/cache", false, &l, &err);
    unsigned long long read = process_read() - before;
    ck_assert_msg(rc == 0, "%s", err.msg);
    *count = l.count;
    if (want == only_setup) {
        ck_assert_uint_eq(l.count, 1);
        ck_assert_str_eq(l.items[0].name, "setup.txt");
        ck_assert_int_eq(l.items[0].st.type, KT_FT_REG);
        ck_assert_int_eq(l.items[0].st.size, 12);
        ck_assert_int_ne(l.items[0].st.modified, KT_TIME_NONE);
    }
    kt_dirent_list_release(&l);
    close_volume(&o);
    return read;
}

typedef struct pieces {
    kt_buf all;
    size_t count;
} pieces;

static int add_piece(void *ctx, const uint8_t *data, size_t len)
{
    pieces *p = ctx;
    ck_assert_uint_le(len, KT_FS_PIECE);
    p->count++;
    return kt_buf_append(&p->all, data, len);
}

/* kt_fs_read_pieces gives the bytes kt_fs_read does, in pieces. */
static void assert_pieces(kt_fs *fs, const char *path, size_t want_pieces)
{
    kt_buf whole = {0};
    pieces p = {0};
    kt_error err = {0};
    ck_assert_msg(kt_fs_read(fs, path, 0, 1 << 30, &whole, &err) == 0, "%s", err.msg);
    ck_assert_msg(kt_fs_read_pieces(fs, path, 0, 1 << 30, add_piece, &p, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(p.count, want_pieces);
    ck_assert(p.all.len == whole.len && memcmp(p.all.data, whole.data, whole.len) == 0);
    ck_assert_int_eq(kt_fs_read_pieces(fs, path, 0, whole.len - 1, add_piece, &p, &err), KT_ELIMIT);
    kt_buf_release(&whole);
    kt_buf_release(&p.all);
}

START_TEST(ext_listing_some_reads_only_the_records_it_takes)
{
    /* 4000 files in one directory: their inode records are 1 MiB; its
     * entries are a few blocks. A listing for one name reads the entries
     * and that one record, not the other 3999. */
    char tmp[] = "/tmp/kt-listsome-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    char *tree = path_join(tmp, "tree");
    ck_assert_int_eq(mkdir(tree, 0755), 0);
    write_file(tree, "home/u/cache/setup.txt", "USE_KSN=yes\n");
    write_file(tree, "home/u/cache/sub/x", "x");
    char *big = malloc(5 * KT_FS_PIECE / 2 + 1);
    ck_assert_ptr_nonnull(big);
    for (size_t i = 0; i < 5 * KT_FS_PIECE / 2; i++)
        big[i] = (char)('a' + i % 23);
    big[5 * KT_FS_PIECE / 2] = '\0';
    write_file(tree, "home/u/big", big);
    free(big);
    for (int i = 0; i < 4000; i++) {
        char name[64];
        snprintf(name, sizeof name, "home/u/cache/f%05d", i);
        write_file(tree, name, "x");
    }
    char *cmd = NULL;
    ck_assert(asprintf(&cmd,
                       "PATH=$PATH:/sbin:/usr/sbin E2FSPROGS_FAKE_TIME=1732968000 mke2fs -q -F -t "
                       "ext4 -b 4096 -N 8192 -I 256 -E root_owner=0:0 -d '%s' '%s/ext4.img' 40M",
                       tree, tmp) > 0);
    kt_buf out = {0}, errout = {0};
    ck_assert_msg(run_capture(cmd, &out, &errout) == 0, "mke2fs: %s",
                  errout.data ? (char *)errout.data : "");
    size_t all_count, none_count, one_count, dir_count;
    unsigned long long all = listing_read(tmp, NULL, &all_count);
    unsigned long long none = listing_read(tmp, nothing, &none_count);
    unsigned long long one = listing_read(tmp, only_setup, &one_count);
    unsigned long long dirs = listing_read(tmp, directories, &dir_count);
    ck_assert_uint_eq(all_count, 4002);
    ck_assert_uint_eq(none_count, 0);
    ck_assert_uint_eq(dir_count, 1);
    /* Reading the directory itself (its entries, wherever mke2fs put
     * their blocks) is what a listing of no entry costs; the 4002 records
     * of 256 bytes come on top for the whole listing, one or two of
     * libtsk's 64 KiB cache lines for one record. */
    ck_assert_msg(all >= none + 4002ull * 256, "whole listing read %llu bytes, its entries %llu",
                  all, none);
    ck_assert_msg(one <= none + 2 * 65536ull, "listing one name read %llu bytes, the entries %llu",
                  one, none);
    ck_assert_msg(dirs <= none + 2 * 65536ull,
                  "listing the directories read %llu bytes, the entries %llu", dirs, none);
    /* a file of two and a half pieces, on ext4 and in the tree */
    opened o;
    open_volume(&o, tmp, "ext4.img", 0);
    assert_pieces(o.fs, "home/u/big", 3);
    close_volume(&o);
    open_volume(&o, tree, "", 0);
    assert_pieces(o.fs, "home/u/big", 3);
    close_volume(&o);
    kt_buf_release(&out);
    kt_buf_release(&errout);
    free(cmd);
    ck_assert(asprintf(&cmd, "rm -rf '%s'", tmp) > 0);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(tree);
}
END_TEST

/* ---- real filesystems from the corpus ---------------------------------- */

START_TEST(reads_corpus_ntfs_stream_hfs_and_apfs_files)
{
    opened o;
    open_volume(&o, corpus_dir(), "velociraptor/test.ntfs.dd.E01", 0);
    kt_buf b = {0};
    kt_error err = {0};
    ck_assert_msg(kt_fs_read(o.fs, "folder a/Folder B/Hello world text document.txt:goodbye.txt", 0,
                             1 << 20, &b, &err) == 0,
                  "%s", err.msg);
    ck_assert_uint_gt(b.len, 0);
    kt_buf_release(&b);
    ck_assert_int_eq(kt_fs_read(o.fs, "Folder A/Folder B/Hello world text document.txt:nosuch", 0,
                                1 << 20, &b, &err),
                     KT_ENOTFOUND);
    close_volume(&o);

    open_volume(&o, corpus_dir(), "dfvfs/hfsplus.raw", 0);
    ck_assert_int_eq(kt_fs_get_kind(o.fs), KT_FS_HFS);
    ck_assert_msg(kt_fs_read(o.fs, "A_DIRECTORY/a_file", 0, 1 << 20, &b, &err) == 0, "%s", err.msg);
    ck_assert_uint_gt(b.len, 0);
    kt_buf_release(&b);
    close_volume(&o);

    open_volume(&o, corpus_dir(), "dfvfs/apfs.raw", 0);
    ck_assert_int_eq(kt_fs_get_kind(o.fs), KT_FS_APFS);
    kt_dirent_list l = {0};
    ck_assert_msg(kt_fs_list(o.fs, "", false, &l, &err) == 0, "%s", err.msg);
    ck_assert_uint_gt(l.count, 0);
    kt_dirent_list_release(&l);
    close_volume(&o);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("fs");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, ntfs_times_streams_and_deleted_entries_match_ground_truth);
    tcase_add_test(tc, ntfs_lookup_ignores_case_and_reports_disk_names);
    tcase_add_test(tc, lists_a_directory_sorted_without_deleted_entries);
    tcase_add_test(tc, ntfs_the_mft_is_read_once_and_no_index_twice);
    tcase_add_test(tc, ntfs_a_reused_record_keeps_no_name_and_a_free_one_stays_deleted);
    tcase_add_test(tc, ntfs_a_name_only_in_index_slack_is_found_deleted);
    tcase_add_test(tc, ntfs_a_damaged_mft_record_is_a_warning_and_the_rest_is_read);
    tcase_add_test(tc, ext_listing_some_reads_only_the_records_it_takes);
    tcase_add_test(tc, ext4_times_to_the_nanosecond_links_and_deleted_entries);
    tcase_add_test(tc, ext4_lookup_is_case_sensitive);
    tcase_add_test(tc, xfs_times_of_both_formats_links_contents_and_listings);
    tcase_add_test(tc, ext4_a_damaged_extent_tree_is_named);
    tcase_add_test(tc, ext4_an_inode_in_use_but_zeroed_is_an_error_not_an_empty_file);
    tcase_add_test(tc, ext4_an_entry_of_another_type_than_its_inode_is_an_error);
    tcase_add_test(tc, ext4_a_damaged_directory_block_is_an_error_not_an_absence);
    tcase_add_test(tc, symlinks_resolve_inside_the_evidence);
    tcase_add_test(tc, fat_volumes_match_ground_truth);
    tcase_add_test(tc, directory_tree_links_stay_inside_the_tree);
    tcase_add_test(tc, reads_corpus_ntfs_stream_hfs_and_apfs_files);
    tcase_add_test(tc, a_backslash_is_a_name_character_on_ext4_and_in_a_tree);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
