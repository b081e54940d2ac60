/* XFS, read with libfsxfs (libtsk 4.11 has no XFS), through a libbfio
 * handle over the volume in whatever container holds it.
 *
 * Timestamps: Debian's libfsxfs (20201117) reads every inode time as
 * 32-bit seconds and nanoseconds. XFS with the big-timestamp feature
 * (mkfs.xfs's default since xfsprogs 5.15, so RHEL 9 and later) stores an
 * inode whose di_flags2 has XFS_DIFLAG2_BIGTIME with each time as one
 * 64-bit count of nanoseconds since 1901-12-13T20:45:52Z (the smallest
 * 32-bit Unix time), which that reading turns into nonsense around 1998.
 * On such a filesystem the inode core is read here and its four times
 * decoded by the flag of each inode (xfs_format.h, xfs_inode_buf.c):
 *
 *   superblock  sb_blocksize @4 (be32), sb_agblocks @84 (be32),
 *               sb_inodesize @104 (be16), sb_inopblog @123, sb_agblklog @124,
 *               sb_features_incompat @216 (be32; BIGTIME = 1 << 3)
 *   inode core  "IN" @0, di_version @4, di_atime @32, di_mtime @40,
 *               di_ctime @48 (8 bytes each), di_flags2 @120 (be64;
 *               BIGTIME = 1 << 3), di_crtime @144, di_ino @152 (v3 only)
 *   time        legacy: be32 seconds (signed), be32 nanoseconds;
 *               bigtime: be64 nanoseconds, Unix time + 2^31 seconds
 *
 * Everywhere else libfsxfs's times are used as they are. */
#include "bfio_img.h" /* first: libfsxfs.h's libbfio entry points */

#include <inttypes.h>
#include <libfsxfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs_impl.h"
#include "kavtrace/bytes.h"
#include "volume_impl.h"

KT_LIBYAL_TEXT(libfsxfs)

#define XFS_SB_FEAT_INCOMPAT_BIGTIME (1u << 3)
#define XFS_DIFLAG2_BIGTIME (UINT64_C(1) << 3)
#define XFS_BIGTIME_EPOCH_OFFSET INT64_C(2147483648)
#define XFS_ROOT_INUM_OFFSET 56 /* sb_rootino, be64 */

typedef struct xfs_impl {
    TSK_IMG_INFO *timg;
    int64_t offset, length; /* the volume in the media */
    libbfio_handle_t *io;
    libfsxfs_volume_t *vol;
    bool bigtime; /* the superblock's incompat feature */
    uint32_t blocksize, agblocks;
    uint16_t inodesize;
    uint8_t inopblog, agblklog;
} xfs_impl;

static xfs_impl *impl(kt_fs *fs)
{
    return fs->impl;
}

static kt_file_type mode_type(uint32_t m)
{
    if (S_ISREG(m))
        return KT_FT_REG;
    if (S_ISDIR(m))
        return KT_FT_DIR;
    if (S_ISLNK(m))
        return KT_FT_LINK;
    return KT_FT_OTHER;
}

static int entry(kt_fs *fs, uint64_t inum, libfsxfs_file_entry_t **out, kt_error *err)
{
    libfsxfs_error_t *e = NULL;
    if (libfsxfs_volume_get_file_entry_by_inode(impl(fs)->vol, inum, out, &e) != 1) {
        char why[512];
        libfsxfs_text(&e, why, sizeof why);
        return kt_error_set(err, KT_EIO, "inode %" PRIu64 ": %s", inum,
                            why[0] ? why : "cannot be read");
    }
    return KT_OK;
}

/* One inode-core time: legacy (signed seconds, nanoseconds) or big. */
static kt_time core_time(const uint8_t *core, size_t len, size_t off, bool big)
{
    uint64_t v = 0;
    if (!kt_rd_be64(core, len, off, &v))
        return KT_TIME_NONE;
    if (big) {
        int64_t secs = (int64_t)(v / 1000000000u) - XFS_BIGTIME_EPOCH_OFFSET;
        return kt_time_from_unix(secs, (int64_t)(v % 1000000000u));
    }
    int64_t secs = (int32_t)(uint32_t)(v >> 32);
    uint32_t ns = (uint32_t)v;
    return kt_time_from_unix(secs, ns < 1000000000u ? ns : 0);
}

/* The four times of inode inum from its inode core, on a filesystem with
 * big timestamps. False when the inode cannot be located or is not what
 * it should be (then libfsxfs's times stand, with the caller's warning). */
static bool raw_times(xfs_impl *x, uint64_t inum, kt_stat *st)
{
    uint64_t agno = inum >> (x->agblklog + x->inopblog);
    uint64_t agbno = (inum >> x->inopblog) & ((UINT64_C(1) << x->agblklog) - 1);
    uint64_t slot = inum & ((UINT64_C(1) << x->inopblog) - 1);
    uint64_t block = agno * x->agblocks + agbno, off;
    if (block > UINT64_MAX / x->blocksize ||
        __builtin_add_overflow(block * x->blocksize, slot * x->inodesize, &off) ||
        off + 176 > (uint64_t)x->length)
        return false;
    uint8_t core[176];
    ssize_t n =
        tsk_img_read(x->timg, (TSK_OFF_T)(x->offset + (int64_t)off), (char *)core, sizeof core);
    tsk_error_reset();
    uint64_t flags2 = 0, ino = 0;
    if (n != (ssize_t)sizeof core || memcmp(core, "IN", 2) != 0 || core[4] != 3 ||
        !kt_rd_be64(core, sizeof core, 120, &flags2) || !kt_rd_be64(core, sizeof core, 152, &ino) ||
        ino != inum)
        return false;
    bool big = (flags2 & XFS_DIFLAG2_BIGTIME) != 0;
    st->accessed = core_time(core, sizeof core, 32, big);
    st->modified = core_time(core, sizeof core, 40, big);
    st->changed = core_time(core, sizeof core, 48, big);
    st->created = core_time(core, sizeof core, 144, big);
    return true;
}

static kt_time lib_time(int (*get)(libfsxfs_file_entry_t *, int64_t *, libfsxfs_error_t **),
                        libfsxfs_file_entry_t *fe)
{
    int64_t t = 0;
    return get(fe, &t, NULL) == 1 ? t : KT_TIME_NONE;
}

static int fill_stat(kt_fs *fs, libfsxfs_file_entry_t *fe, kt_stat *st, kt_error *err)
{
    uint64_t inum = 0, size = 0;
    uint16_t mode = 0;
    if (libfsxfs_file_entry_get_inode_number(fe, &inum, NULL) != 1 ||
        libfsxfs_file_entry_get_file_mode(fe, &mode, NULL) != 1 ||
        libfsxfs_file_entry_get_size(fe, &size, NULL) != 1 || size > INT64_MAX)
        return kt_error_set(err, KT_EIO, "an inode's mode or size cannot be read");
    memset(st, 0, sizeof *st);
    st->inode = inum;
    st->type = mode_type(mode);
    st->allocated = true;
    st->size = (int64_t)size;
    st->mode = mode;
    st->fn_created = st->fn_modified = st->fn_changed = st->fn_accessed = KT_TIME_NONE;
    if (impl(fs)->bigtime && raw_times(impl(fs), inum, st))
        return KT_OK;
    st->created = lib_time(libfsxfs_file_entry_get_creation_time, fe);
    st->modified = lib_time(libfsxfs_file_entry_get_modification_time, fe);
    st->changed = lib_time(libfsxfs_file_entry_get_inode_change_time, fe);
    st->accessed = lib_time(libfsxfs_file_entry_get_access_time, fe);
    if (impl(fs)->bigtime)
        return kt_error_set(err, KT_EFORMAT,
                            "inode %" PRIu64 ": its inode core cannot be read for its times", inum);
    return KT_OK;
}

/* The name of sub-entry i of directory d, and the entry (to free). */
static bool sub_entry(libfsxfs_file_entry_t *d, int i, libfsxfs_file_entry_t **c, char *name,
                      size_t len)
{
    size_t nlen = 0;
    if (libfsxfs_file_entry_get_sub_file_entry_by_index(d, i, c, NULL) != 1)
        return false;
    if (libfsxfs_file_entry_get_utf8_name_size(*c, &nlen, NULL) == 1 && nlen > 0 && nlen <= len &&
        libfsxfs_file_entry_get_utf8_name(*c, (uint8_t *)name, len, NULL) == 1)
        return true;
    libfsxfs_file_entry_free(c, NULL);
    return false;
}

/* libfsxfs 20201117's lookup by name fails (-1, no error) for names that
 * are there: the directory's entries are compared here instead. */
static int child(kt_fs *fs, const kt_node *dir, const char *dpath, const char *name, int flags,
                 kt_node *out, char *actual, size_t actual_len, kt_file_type *type, kt_error *err)
{
    (void)dpath;
    (void)flags; /* libfsxfs gives no deleted names */
    libfsxfs_file_entry_t *d = NULL;
    int rc = entry(fs, dir->inum, &d, err);
    if (rc)
        return rc;
    int count = 0;
    if (libfsxfs_file_entry_get_number_of_sub_file_entries(d, &count, NULL) != 1 || count < 0) {
        rc = kt_error_set(err, KT_EIO, "directory inode %" PRIu64 " cannot be listed", dir->inum);
        goto out;
    }
    rc = KT_ENOTFOUND;
    for (int i = 0; i < count && (size_t)i < KT_FS_MAX_DIRENTS && rc == KT_ENOTFOUND; i++) {
        libfsxfs_file_entry_t *c = NULL;
        char cname[1024];
        if (!sub_entry(d, i, &c, cname, sizeof cname))
            continue;
        uint64_t inum = 0;
        uint16_t mode = 0;
        if (strcmp(cname, name) == 0) {
            if (libfsxfs_file_entry_get_inode_number(c, &inum, NULL) != 1 ||
                libfsxfs_file_entry_get_file_mode(c, &mode, NULL) != 1) {
                rc = kt_error_set(err, KT_EIO, "'%s': its inode cannot be read", name);
            } else {
                out->inum = inum;
                *type = mode_type(mode);
                kt_strlcpy(actual, cname, actual_len);
                rc = KT_OK;
            }
        }
        libfsxfs_file_entry_free(&c, NULL);
    }
out:
    libfsxfs_file_entry_free(&d, NULL);
    return rc;
}

static int do_stat(kt_fs *fs, const kt_node *n, const char *path, kt_stat *st, kt_error *err)
{
    (void)path;
    libfsxfs_file_entry_t *fe = NULL;
    int rc = entry(fs, n->inum, &fe, err);
    if (rc == KT_OK)
        rc = fill_stat(fs, fe, st, err);
    libfsxfs_file_entry_free(&fe, NULL);
    return rc;
}

static int list(kt_fs *fs, const kt_node *dir, const char *path, bool include_deleted,
                kt_dirent_list *out, kt_error *err)
{
    (void)path;
    (void)include_deleted;
    libfsxfs_file_entry_t *d = NULL;
    int rc = entry(fs, dir->inum, &d, err);
    if (rc)
        return rc;
    int count = 0;
    if (libfsxfs_file_entry_get_number_of_sub_file_entries(d, &count, NULL) != 1 || count < 0) {
        rc = kt_error_set(err, KT_EIO, "directory inode %" PRIu64 " cannot be listed", dir->inum);
        goto out;
    }
    if ((size_t)count > KT_FS_MAX_DIRENTS) {
        rc = kt_error_set(err, KT_ELIMIT, "directory inode %" PRIu64 ": %d entries", dir->inum,
                          count);
        goto out;
    }
    for (int i = 0; i < count && rc == KT_OK; i++) {
        libfsxfs_file_entry_t *c = NULL;
        char name[1024];
        kt_stat st;
        kt_error ignored = {0};
        if (!sub_entry(d, i, &c, name, sizeof name)) {
            rc = kt_error_set(err, KT_EIO, "directory inode %" PRIu64 ": entry %d cannot be read",
                              dir->inum, i);
            break;
        }
        /* An entry whose inode core cannot be read for its times is listed
         * with what is known, so that a stat or read of it reports the
         * damage rather than the name going missing. */
        if (fill_stat(fs, c, &st, &ignored) != KT_OK) {
            uint64_t inum = 0;
            uint16_t mode = 0;
            libfsxfs_file_entry_get_inode_number(c, &inum, NULL);
            libfsxfs_file_entry_get_file_mode(c, &mode, NULL);
            memset(&st, 0, sizeof st);
            st.inode = inum;
            st.type = mode_type(mode);
            st.mode = mode;
            st.allocated = true;
            st.created = st.modified = st.changed = st.accessed = KT_TIME_NONE;
            st.fn_created = st.fn_modified = st.fn_changed = st.fn_accessed = KT_TIME_NONE;
        }
        if (kt_dirent_add(out, name, false, &st) != KT_OK)
            rc = kt_error_set(err, KT_ENOMEM, "out of memory");
        libfsxfs_file_entry_free(&c, NULL);
    }
out:
    libfsxfs_file_entry_free(&d, NULL);
    return rc;
}

static int do_read(kt_fs *fs, const kt_node *n, const char *path, const char *stream, size_t limit,
                   kt_buf *out, kt_error *err)
{
    (void)path;
    if (stream)
        return kt_error_set(err, KT_EUNSUPPORTED, "XFS keeps no named streams");
    libfsxfs_file_entry_t *fe = NULL;
    int rc = entry(fs, n->inum, &fe, err);
    if (rc)
        return rc;
    uint16_t mode = 0;
    uint64_t size = 0;
    if (libfsxfs_file_entry_get_file_mode(fe, &mode, NULL) != 1 || !S_ISREG(mode) ||
        libfsxfs_file_entry_get_size(fe, &size, NULL) != 1) {
        rc = kt_error_set(err, KT_EARG, "not a regular file");
        goto out;
    }
    if (size > limit) {
        rc =
            kt_error_set(err, KT_ELIMIT, "%" PRIu64 " bytes, over the %zu-byte limit", size, limit);
        goto out;
    }
    if (kt_buf_reserve(out, (size_t)size)) {
        rc = kt_error_set(err, KT_ENOMEM, "out of memory");
        goto out;
    }
    while (out->len < size) {
        libfsxfs_error_t *e = NULL;
        size_t want = (size_t)size - out->len;
        if (want > (1u << 20))
            want = 1u << 20;
        ssize_t got = libfsxfs_file_entry_read_buffer_at_offset(fe, out->data + out->len, want,
                                                                (off64_t)out->len, &e);
        if (got <= 0) {
            char why[512];
            libfsxfs_text(&e, why, sizeof why);
            rc = kt_error_set(err, KT_EIO, "read failed at byte %zu of %" PRIu64 ": %s", out->len,
                              size, why[0] ? why : "no data");
            goto out;
        }
        out->len += (size_t)got;
    }
    out->data[out->len] = '\0';
out:
    libfsxfs_file_entry_free(&fe, NULL);
    return rc;
}

static int do_readlink(kt_fs *fs, const kt_node *n, const char *path, char *buf, size_t len,
                       kt_error *err)
{
    libfsxfs_file_entry_t *fe = NULL;
    int rc = entry(fs, n->inum, &fe, err);
    if (rc)
        return rc;
    size_t need = 0;
    if (libfsxfs_file_entry_get_utf8_symbolic_link_target_size(fe, &need, NULL) != 1 || need == 0)
        rc = kt_error_set(err, KT_EARG, "'%s' is not a symbolic link", path);
    else if (need > len)
        rc = kt_error_set(err, KT_ELIMIT, "link target too long");
    else if (libfsxfs_file_entry_get_utf8_symbolic_link_target(fe, (uint8_t *)buf, len, NULL) != 1)
        rc = kt_error_set(err, KT_EIO, "cannot read link '%s'", path);
    libfsxfs_file_entry_free(&fe, NULL);
    return rc;
}

static void do_close(kt_fs *fs)
{
    xfs_impl *x = fs->impl;
    if (x == NULL)
        return;
    if (x->vol) {
        libfsxfs_volume_close(x->vol, NULL);
        libfsxfs_volume_free(&x->vol, NULL);
    }
    libbfio_handle_free(&x->io, NULL);
    free(x);
    fs->impl = NULL;
}

const kt_fs_ops kt_fs_xfs_ops = {
    .name = "xfs",
    .child = child,
    .stat = do_stat,
    .list = list,
    .read = do_read,
    .readlink = do_readlink,
    .close = do_close,
};

/* The superblock's geometry, for locating inodes, and its features. */
static int superblock(xfs_impl *x, uint64_t *root, kt_error *err)
{
    uint8_t sb[512];
    uint32_t incompat = 0;
    uint16_t version = 0;
    if (tsk_img_read(x->timg, (TSK_OFF_T)x->offset, (char *)sb, sizeof sb) != (ssize_t)sizeof sb)
        return kt_tsk_error(err, KT_EIO, "cannot read the XFS superblock");
    if (memcmp(sb, "XFSB", 4) != 0 || !kt_rd_be32(sb, sizeof sb, 4, &x->blocksize) ||
        !kt_rd_be64(sb, sizeof sb, XFS_ROOT_INUM_OFFSET, root) ||
        !kt_rd_be32(sb, sizeof sb, 84, &x->agblocks) || !kt_rd_be16(sb, sizeof sb, 100, &version) ||
        !kt_rd_be16(sb, sizeof sb, 104, &x->inodesize))
        return kt_error_set(err, KT_EFORMAT, "no XFS superblock");
    x->inopblog = sb[123];
    x->agblklog = sb[124];
    if (x->blocksize < 512 || x->blocksize > 65536 || x->inodesize < 256 ||
        x->inodesize > x->blocksize || x->inopblog > 16 || x->agblklog > 31 || x->agblocks == 0)
        return kt_error_set(err, KT_EFORMAT, "XFS superblock with impossible geometry");
    /* The incompat features exist from version 5 (v5 = CRCs) on. */
    if ((version & 0xf) >= 5 && kt_rd_be32(sb, sizeof sb, 216, &incompat))
        x->bigtime = (incompat & XFS_SB_FEAT_INCOMPAT_BIGTIME) != 0;
    return KT_OK;
}

int kt_fs_xfs_open(kt_image *img, const kt_volume *vol, kt_fs *fs, kt_error *err)
{
    int64_t off = 0;
    TSK_IMG_INFO *timg = kt_volume_media(img, vol, &off);
    if (timg == NULL)
        return kt_error_set(err, KT_EARG, "no media to open a filesystem on");
    int64_t len = vol->crypt ? (int64_t)timg->size : vol->length;
    xfs_impl *x = calloc(1, sizeof *x);
    if (x == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    *x = (xfs_impl){.timg = timg, .offset = off, .length = len};
    fs->impl = x;
    fs->ops = &kt_fs_xfs_ops;
    uint64_t root = 0;
    int rc = superblock(x, &root, err);
    if (rc == KT_OK)
        rc = kt_bfio_img_open(timg, off, len, &x->io, err);
    libfsxfs_error_t *e = NULL;
    if (rc == KT_OK &&
        (libfsxfs_volume_initialize(&x->vol, &e) != 1 ||
         libfsxfs_volume_open_file_io_handle(x->vol, x->io, LIBFSXFS_OPEN_READ, &e) != 1)) {
        char why[512];
        libfsxfs_text(&e, why, sizeof why);
        libfsxfs_volume_free(&x->vol, NULL);
        rc = kt_error_set(err, KT_EFORMAT, "libfsxfs cannot open the XFS volume: %s",
                          why[0] ? why : "refused");
    }
    if (rc) {
        do_close(fs);
        return rc;
    }
    fs->kind = KT_FS_XFS;
    kt_strlcpy(fs->type_name, "xfs", sizeof fs->type_name);
    fs->root.inum = root;
    fs->case_insensitive = false;
    fs->has_streams = false;
    fs->backslash_separates = false;
    return KT_OK;
}
