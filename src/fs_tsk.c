#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs_impl.h"
#include "kavtrace/bytes.h"
#include "kavtrace/ntfs_mft.h"
#include "tsk_util.h"
#include "volume_impl.h"

/* A directory as opened once in a scan: libtsk's open reads the index
 * and checks every name against the others (quadratic in the directory's
 * size), and a scan passes through the same directories (the root,
 * Windows/System32) hundreds of times. The open's outcome is kept, a
 * failure too, and so is the full listing once one is asked for. */
typedef struct dir_cache {
    uint64_t inum;
    TSK_FS_DIR *dir;        /* NULL when the open failed */
    kt_error open_err;      /* that failure, as first reported */
    bool listed;            /* listing and list_rc are set */
    int list_rc;            /* KT_OK or what kt_dirent_add failed with */
    kt_dirent_list listing; /* every entry, deleted ones too */
    bool by_mft;            /* NTFS: names come from the $MFT, dir is NULL */
    bool carved;            /* slack is set (NTFS) */
    kt_dirent_list slack;   /* names only the index's slack still holds */
    kt_dirent_list damaged; /* live index names whose MFT record is damaged */
} dir_cache;

typedef struct tsk_impl {
    TSK_FS_INFO *fs;
    const TSK_POOL_INFO *pool;
    TSK_IMG_INFO *pool_img;  /* the volume's image inside the pool */
    TSK_IMG_INFO *store_img; /* a shadow copy's image (store_image), owned */
    dir_cache **dirs;        /* open addressing by inum; NULL is free */
    size_t ndirs, dirs_cap;
    /* NTFS: the $MFT, read once on the first lookup (ntfs_mft.h); names
     * are found there, not through libtsk's directory opens, which walk
     * every MFT entry through libtsk on the first open. When the pass
     * fails, libtsk's directory opens are used as before. */
    kt_mft *mft;
    bool mft_tried;
    kt_error mft_err;
} tsk_impl;

static TSK_FS_INFO *tfs(kt_fs *fs)
{
    return ((tsk_impl *)fs->impl)->fs;
}

static kt_file_type name_type(TSK_FS_NAME_TYPE_ENUM t)
{
    switch (t) {
    case TSK_FS_NAME_TYPE_REG:
        return KT_FT_REG;
    case TSK_FS_NAME_TYPE_DIR:
    case TSK_FS_NAME_TYPE_VIRT_DIR:
        return KT_FT_DIR;
    case TSK_FS_NAME_TYPE_LNK:
        return KT_FT_LINK;
    case TSK_FS_NAME_TYPE_UNDEF:
        return KT_FT_UNKNOWN;
    default:
        return KT_FT_OTHER;
    }
}

static kt_file_type meta_type(TSK_FS_META_TYPE_ENUM t)
{
    switch (t) {
    case TSK_FS_META_TYPE_REG:
        return KT_FT_REG;
    case TSK_FS_META_TYPE_DIR:
    case TSK_FS_META_TYPE_VIRT_DIR:
        return KT_FT_DIR;
    case TSK_FS_META_TYPE_LNK:
        return KT_FT_LINK;
    case TSK_FS_META_TYPE_UNDEF:
        return KT_FT_UNKNOWN;
    default:
        return KT_FT_OTHER;
    }
}

/* libtsk gives seconds and nanoseconds; 0/0 means the filesystem has no
 * such time (an ext inode without crtime, a FAT access date). */
static kt_time tt(time_t s, int64_t ns)
{
    if (s == 0 && ns == 0)
        return KT_TIME_NONE;
    return kt_time_from_unix((int64_t)s, ns);
}

/* FAT and exFAT keep local wall-clock times; libtsk turns them into
 * time_t with mktime(), i.e. in the host's zone. Undo that, so the stored
 * wall-clock value comes back as if it were UTC whatever the host's zone
 * (the analysed system's zone is applied later, with the event saying so). */
static kt_time wall_clock(kt_time t)
{
    if (t == KT_TIME_NONE)
        return t;
    time_t secs = (time_t)(t / KT_NS_PER_SEC);
    int64_t ns = t % KT_NS_PER_SEC;
    struct tm tm;
    if (localtime_r(&secs, &tm) == NULL)
        return t;
    return kt_time_from_unix((int64_t)timegm(&tm), ns);
}

static void fill_stat(const TSK_FS_FILE *f, kt_fs_kind kind, kt_stat *st)
{
    const TSK_FS_META *m = f->meta;
    memset(st, 0, sizeof *st);
    st->created = st->modified = st->changed = st->accessed = KT_TIME_NONE;
    st->fn_created = st->fn_modified = st->fn_changed = st->fn_accessed = KT_TIME_NONE;
    if (m == NULL) {
        st->inode = f->name ? f->name->meta_addr : 0;
        st->type = f->name ? name_type(f->name->type) : KT_FT_UNKNOWN;
        return;
    }
    st->inode = m->addr;
    st->type = meta_type(m->type);
    st->allocated = (m->flags & TSK_FS_META_FLAG_ALLOC) != 0;
    st->size = m->size;
    st->mode = (uint32_t)m->mode;
    st->created = tt(m->crtime, m->crtime_nano);
    st->modified = tt(m->mtime, m->mtime_nano);
    st->changed = tt(m->ctime, m->ctime_nano);
    st->accessed = tt(m->atime, m->atime_nano);
    if (kind == KT_FS_FAT || kind == KT_FS_EXFAT) {
        st->created = wall_clock(st->created);
        st->modified = wall_clock(st->modified);
        st->changed = wall_clock(st->changed);
        st->accessed = wall_clock(st->accessed);
    }
    if (kind == KT_FS_NTFS) {
        st->fn_created = tt(m->time2.ntfs.fn_crtime, m->time2.ntfs.fn_crtime_nano);
        st->fn_modified = tt(m->time2.ntfs.fn_mtime, m->time2.ntfs.fn_mtime_nano);
        st->fn_changed = tt(m->time2.ntfs.fn_ctime, m->time2.ntfs.fn_ctime_nano);
        st->fn_accessed = tt(m->time2.ntfs.fn_atime, m->time2.ntfs.fn_atime_nano);
        st->has_fn = st->fn_created != KT_TIME_NONE || st->fn_modified != KT_TIME_NONE;
    }
}

static bool skip_name(TSK_FS_INFO *f, const TSK_FS_NAME *n)
{
    if (n->name == NULL || strcmp(n->name, ".") == 0 || strcmp(n->name, "..") == 0)
        return true;
    /* libtsk's virtual "$OrphanFiles" folder is not on the disk. */
    return n->meta_addr == TSK_FS_ORPHANDIR_INUM(f);
}

/* ext4 extent trees are checked before libtsk walks one. A tree that
 * cannot be walked is damage worth naming, and libtsk's own walk
 * (ext2fs_extent_tree_index_count) leaks the block buffer of every level
 * above a node that fails (a bad magic, a block past the volume). Layout
 * and the depth limit from the kernel's fs/ext4/ext4_extents.h: a 12-byte
 * header (magic 0xf30a, entries, max, depth), then 12-byte entries; an
 * index entry names its child block at 4 (low 32 bits) and 8 (high 16). */
#define EXT4_EXTENT_MAGIC 0xf30a
#define EXT4_EXTENT_MAX_DEPTH 5
#define EXT4_EXTENT_MAX_NODES 4096 /* nodes read for one file */

static int extent_node(TSK_FS_INFO *f, const uint8_t *node, size_t len, int depth, int *budget,
                       kt_error *err)
{
    uint16_t magic = 0, entries = 0, node_depth = 0;
    kt_rd_le16(node, len, 0, &magic);
    kt_rd_le16(node, len, 2, &entries);
    kt_rd_le16(node, len, 6, &node_depth);
    if (magic != EXT4_EXTENT_MAGIC)
        return kt_error_set(err, KT_EFORMAT, "damaged extent tree: bad node magic 0x%04x", magic);
    if (entries > (len - 12) / 12)
        return kt_error_set(err, KT_EFORMAT, "damaged extent tree: %u entries in a %zu-byte node",
                            entries, len);
    if (depth < 0 ? node_depth > EXT4_EXTENT_MAX_DEPTH : node_depth != depth)
        return kt_error_set(err, KT_EFORMAT, "damaged extent tree: node depth %u", node_depth);
    if (node_depth == 0)
        return KT_OK;
    uint8_t *block = malloc(f->block_size);
    if (block == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    int rc = KT_OK;
    for (uint16_t i = 0; i < entries && rc == KT_OK; i++) {
        uint32_t lo = 0;
        uint16_t hi = 0;
        kt_rd_le32(node, len, 12 + 12 * (size_t)i + 4, &lo);
        kt_rd_le16(node, len, 12 + 12 * (size_t)i + 8, &hi);
        TSK_DADDR_T addr = (TSK_DADDR_T)hi << 32 | lo;
        if (--*budget < 0)
            rc =
                kt_error_set(err, KT_ELIMIT, "extent tree of over %d nodes", EXT4_EXTENT_MAX_NODES);
        else if (addr > f->last_block)
            rc = kt_error_set(err, KT_EFORMAT,
                              "damaged extent tree: node at block %" PRIuDADDR
                              ", past the volume's last block %" PRIuDADDR,
                              addr, f->last_block);
        else if (tsk_fs_read_block(f, addr, (char *)block, f->block_size) != (ssize_t)f->block_size)
            rc = kt_tsk_error(err, KT_EIO, "cannot read an extent tree node");
        else
            rc = extent_node(f, block, f->block_size, node_depth - 1, budget, err);
    }
    free(block);
    return rc;
}

/* KT_OK unless the file is an ext4 file whose extent tree is damaged. */
static int extents_ok(TSK_FS_INFO *f, const TSK_FS_FILE *file, kt_error *err)
{
    const TSK_FS_META *m = file->meta;
    if (!TSK_FS_TYPE_ISEXT(f->ftype) || m == NULL ||
        m->content_type != TSK_FS_META_CONTENT_TYPE_EXT4_EXTENTS || m->content_ptr == NULL ||
        m->content_len < 12 || f->block_size < 24)
        return KT_OK;
    int budget = EXT4_EXTENT_MAX_NODES;
    return extent_node(f, m->content_ptr, m->content_len, -1, &budget, err);
}

/* An ext directory's entries, checked as the kernel's ext4_check_dir_entry
 * (fs/ext4/dir.c) does: a record length of at least 12, a multiple of 4,
 * room for the name, inside its block; an inode number in range. libtsk
 * stops at a broken entry without a word, and the names after it would
 * then just be absent. An htree's index blocks pass: their one entry spans
 * the block. */
#define EXT_DIR_MAX_BYTES (64u << 20)

static int ext_dir_entries(TSK_FS_INFO *f, TSK_FS_FILE *file, kt_error *err)
{
    const TSK_FS_META *m = file->meta;
    if (m->type != TSK_FS_META_TYPE_DIR ||
        m->content_type == TSK_FS_META_CONTENT_TYPE_EXT4_INLINE || m->size <= 0)
        return KT_OK;
    size_t bs = f->block_size;
    size_t size = (size_t)m->size - (size_t)m->size % bs;
    if (size > EXT_DIR_MAX_BYTES)
        return kt_error_set(err, KT_ELIMIT, "directory of %zu bytes, over the limit", size);
    uint8_t *buf = malloc(size ? size : 1);
    if (buf == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    int rc = KT_OK;
    if (size &&
        tsk_fs_file_read(file, 0, (char *)buf, size, TSK_FS_FILE_READ_FLAG_NONE) != (ssize_t)size)
        rc = kt_tsk_error(err, KT_EIO, "cannot read the directory");
    for (size_t blk = 0; rc == KT_OK && blk < size; blk += bs) {
        for (size_t off = 0; off < bs;) {
            uint32_t ino = 0;
            uint16_t reclen = 0;
            kt_rd_le32(buf + blk, bs, off, &ino);
            kt_rd_le16(buf + blk, bs, off + 4, &reclen);
            size_t namelen = off + 6 < bs ? buf[blk + off + 6] : 0;
            if (reclen < 12 || reclen % 4 || reclen < ((8 + namelen + 3) & ~(size_t)3) ||
                off + reclen > bs || ino > f->last_inum) {
                rc = kt_error_set(err, KT_EFORMAT,
                                  "damaged directory block %zu: entry at %zu (inode %" PRIu32
                                  ", record length %u, name length %zu)",
                                  blk / bs, off, ino, reclen, namelen);
                break;
            }
            off += reclen;
        }
    }
    free(buf);
    return rc;
}

/* Before libtsk opens an ext directory (known by number): its extent tree
 * and its entries. */
static int dir_ok(TSK_FS_INFO *f, TSK_INUM_T inum, kt_error *err)
{
    if (!TSK_FS_TYPE_ISEXT(f->ftype))
        return KT_OK;
    TSK_FS_FILE *file = tsk_fs_file_open_meta(f, NULL, inum);
    if (file == NULL)
        return kt_tsk_error(err, KT_EIO, "cannot read metadata");
    int rc = extents_ok(f, file, err);
    if (rc == KT_OK && file->meta)
        rc = ext_dir_entries(f, file, err);
    tsk_fs_file_close(file);
    return rc;
}

/* An ext inode in use whose record says nothing (mode 0: zeroed, or a
 * file type that is none) or another type than the directory entry that
 * names it (ext4 keeps the type in both) is damage, not an empty file:
 * reading on would silently give nothing. Other filesystems take the name's
 * type from the record itself. */
static int ext_meta_ok(kt_fs *fs, const TSK_FS_FILE *f, kt_file_type named, kt_error *err)
{
    const TSK_FS_META *m = f->meta;
    if (fs->kind != KT_FS_EXT || m == NULL || !(m->flags & TSK_FS_META_FLAG_ALLOC))
        return KT_OK;
    kt_file_type t = meta_type(m->type);
    if (m->type == TSK_FS_META_TYPE_UNDEF)
        return kt_error_set(err, KT_EFORMAT,
                            "inode %" PRIuINUM " in use but empty or of no type "
                            "(damaged inode table?)",
                            m->addr);
    if (named != KT_FT_UNKNOWN && named != t)
        return kt_error_set(err, KT_EFORMAT,
                            "inode %" PRIuINUM " is not of the type its directory "
                            "entry says (damaged inode or directory?)",
                            m->addr);
    return KT_OK;
}

static kt_mft *ntfs_mft(kt_fs *fs);

static size_t dir_slot(const tsk_impl *t, uint64_t inum)
{
    size_t mask = t->dirs_cap - 1;
    size_t i = (size_t)((inum * 0x9E3779B97F4A7C15ull) >> 20) & mask;
    while (t->dirs[i] && t->dirs[i]->inum != inum)
        i = (i + 1) & mask;
    return i;
}

static bool dir_cache_grow(tsk_impl *t)
{
    size_t cap = t->dirs_cap ? 2 * t->dirs_cap : 256;
    dir_cache **old = t->dirs, **p = calloc(cap, sizeof *p);
    if (p == NULL)
        return false;
    size_t oldcap = t->dirs_cap;
    t->dirs = p;
    t->dirs_cap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i])
            t->dirs[dir_slot(t, old[i]->inum)] = old[i];
    free(old);
    return true;
}

/* Directory `inum` (at `dpath`, for messages), opened once per scan: the
 * cached entry, or NULL with err set (the open's failure, each time the
 * same; or out of memory). */
static dir_cache *dir_open(kt_fs *fs, uint64_t inum, const char *dpath, kt_error *err)
{
    tsk_impl *t = fs->impl;
    ntfs_mft(fs);
    if (2 * (t->ndirs + 1) > t->dirs_cap && !dir_cache_grow(t)) {
        kt_error_set(err, KT_ENOMEM, "out of memory");
        return NULL;
    }
    size_t i = dir_slot(t, inum);
    dir_cache *c = t->dirs[i];
    if (c == NULL) {
        if ((c = calloc(1, sizeof *c)) == NULL) {
            kt_error_set(err, KT_ENOMEM, "out of memory");
            return NULL;
        }
        c->inum = inum;
        /* A directory whose own record the pass could not decode is
         * opened by libtsk, which then says what is wrong with it. */
        kt_mft_entry e;
        c->by_mft = t->mft != NULL && kt_mft_get(t->mft, inum, &e) && e.dir;
        if (c->by_mft)
            ; /* the $MFT's names; the index is read only for its slack */
        else if (fs->dir_reads++, dir_ok(tfs(fs), (TSK_INUM_T)inum, &c->open_err))
            kt_error_prefix(&c->open_err, "directory '%s'", dpath[0] ? dpath : "/");
        else if ((c->dir = tsk_fs_dir_open_meta(tfs(fs), (TSK_INUM_T)inum)) == NULL)
            kt_tsk_error(&c->open_err, KT_EIO, "cannot open directory");
        t->dirs[i] = c;
        t->ndirs++;
    }
    if (c->dir == NULL && !c->by_mft) {
        if (err)
            *err = c->open_err;
        return NULL;
    }
    return c;
}

static void dir_cache_free(tsk_impl *t)
{
    for (size_t i = 0; i < t->dirs_cap; i++) {
        dir_cache *c = t->dirs[i];
        if (c == NULL)
            continue;
        if (c->dir)
            tsk_fs_dir_close(c->dir);
        kt_dirent_list_release(&c->listing);
        kt_dirent_list_release(&c->slack);
        kt_dirent_list_release(&c->damaged);
        free(c);
    }
    free(t->dirs);
    t->dirs = NULL;
    t->ndirs = t->dirs_cap = 0;
}

/* ---- NTFS: names from the $MFT, deleted names from index slack -------- */

static ssize_t mft_read(void *ctx, uint64_t off, void *buf, size_t len, kt_error *err)
{
    const TSK_FS_ATTR *a = ctx;
    size_t done = 0;
    while (done < len) {
        ssize_t got = tsk_fs_attr_read(a, (TSK_OFF_T)(off + done), (char *)buf + done, len - done,
                                       TSK_FS_FILE_READ_FLAG_NONE);
        if (got <= 0) {
            kt_tsk_error(err, KT_EIO, "read failed");
            return -1;
        }
        done += (size_t)got;
    }
    return (ssize_t)done;
}

/* Bytes per MFT record, from the boot sector: the signed byte at 0x40 is
 * clusters per record, or, negative, the size as 2^-n bytes; a cluster is
 * bytes per sector (u16 at 0x0b) times sectors per cluster (u8 at 0x0d). */
static int mft_record_size(TSK_FS_INFO *f, uint32_t *out, kt_error *err)
{
    uint8_t boot[512];
    if (tsk_fs_read(f, 0, (char *)boot, sizeof boot) != (ssize_t)sizeof boot)
        return kt_tsk_error(err, KT_EIO, "cannot read the boot sector");
    uint16_t bps = 0;
    kt_rd_le16(boot, sizeof boot, 0x0b, &bps);
    int8_t c = (int8_t)boot[0x40];
    uint64_t size = c < 0 ? (c > -31 ? 1ull << -c : 0) : (uint64_t)c * bps * boot[0x0d];
    if (size < KT_MFT_RECORD_MIN || size > KT_MFT_RECORD_MAX || size % 512)
        return kt_error_set(err, KT_EFORMAT, "the boot sector gives MFT records of %llu bytes",
                            (unsigned long long)size);
    *out = (uint32_t)size;
    return KT_OK;
}

/* The volume's $MFT table, read on first use; NULL on another filesystem
 * or when it cannot be read (mft_err says why; libtsk's directory opens
 * then answer instead). */
static kt_mft *ntfs_mft(kt_fs *fs)
{
    tsk_impl *t = fs->impl;
    if (fs->kind != KT_FS_NTFS || t->mft_tried)
        return t->mft;
    t->mft_tried = true;
    TSK_FS_FILE *f = tsk_fs_file_open_meta(tfs(fs), NULL, 0);
    const TSK_FS_ATTR *a = f ? tsk_fs_file_attr_get(f) : NULL;
    uint32_t rs = 0;
    /* The $MFT's $BITMAP: which records are in use (a blank one that is
     * was wiped). Unreadable, it is left out. */
    uint8_t *bits = NULL;
    size_t nbits = 0;
    const TSK_FS_ATTR *ba =
        f ? tsk_fs_file_attr_get_type(f, TSK_FS_ATTR_TYPE_NTFS_BITMAP, 0, 0) : NULL;
    if (a && ba && ba->size > 0 && (uint64_t)ba->size <= (uint64_t)a->size / 8 / 512 + 4096 &&
        (bits = malloc((size_t)ba->size)) != NULL) {
        kt_error e = {0};
        nbits = (size_t)ba->size;
        if (mft_read((void *)ba, 0, bits, nbits, &e) < 0)
            nbits = 0;
    }
    if (a == NULL || a->type != TSK_FS_ATTR_TYPE_NTFS_DATA || a->size <= 0)
        kt_tsk_error(&t->mft_err, KT_EIO, "cannot open the $MFT's data");
    else if (mft_record_size(tfs(fs), &rs, &t->mft_err) == KT_OK &&
             kt_mft_load(mft_read, (void *)a, (uint64_t)a->size, rs, bits, nbits, &t->mft,
                         &t->mft_err) == KT_OK) {
        fs->mft_passes++;
        fs->mft_bytes += kt_mft_bytes(t->mft);
        const char *first = NULL;
        fs->mft_damaged = kt_mft_damaged(t->mft, &first);
        if (first)
            kt_strlcpy(fs->mft_damage, first, sizeof fs->mft_damage);
    }
    free(bits);
    tsk_fs_file_close(f);
    tsk_error_reset();
    return t->mft;
}

const kt_mft *kt_fs_tsk_mft(kt_fs *fs)
{
    return ntfs_mft(fs);
}

/* Deleted names an NTFS directory's index keeps in its slack: the space
 * past each node's entries, where removed entries linger (all of a deleted
 * directory's index). An index node: entries offset u32 at 0, bytes used
 * u32 at 4, bytes allocated u32 at 8 (from the node header), in the
 * $INDEX_ROOT's value at 16 and in each "INDX" record of the
 * $INDEX_ALLOCATION at 24. An entry: file reference u64 at 0, length u16 at
 * 8, key length u16 at 10, the $FILE_NAME key at 16. */
#define NTFS_ATTR_IDXROOT 0x90
#define NTFS_ATTR_IDXALLOC 0xa0
#define NTFS_IDX_MAX_BYTES (128u << 20)

static int carve(kt_fs *fs, uint64_t dir, const uint8_t *b, size_t len, kt_dirent_list *out)
{
    for (size_t off = 0; off + 16 + 66 <= len;) {
        uint64_t ref = 0, pref = 0, created = 0;
        uint16_t keylen = 0;
        uint32_t fflags = 0;
        uint8_t nlen = 0, ns = 0;
        kt_rd_le64(b, len, off, &ref);
        kt_rd_le16(b, len, off + 10, &keylen);
        const uint8_t *k = b + off + 16;
        size_t klen = len - off - 16 < keylen ? len - off - 16 : keylen;
        kt_rd_le64(k, klen, 0, &pref);
        kt_rd_le64(k, klen, 8, &created);
        kt_rd_le32(k, klen, 56, &fflags);
        kt_rd_u8(k, klen, 64, &nlen);
        kt_rd_u8(k, klen, 65, &ns);
        uint16_t first = 0;
        kt_rd_le16(k, klen, 66, &first);
        if (klen < 66 + 2 * (size_t)nlen || nlen == 0 || first == 0 ||
            (pref & 0xffffffffffffull) != dir || ns > KT_MFT_NS_WIN32_DOS || ns == KT_MFT_NS_DOS ||
            created == 0 || (ref & 0xffffffffffffull) > (uint64_t)tfs(fs)->last_inum) {
            off += 8;
            continue;
        }
        char name[KT_MFT_NAME_MAX + 1];
        kt_mft_utf8(k + 66, nlen, name);
        kt_stat st = {0};
        st.created = st.modified = st.changed = st.accessed = KT_TIME_NONE;
        st.fn_created = st.fn_modified = st.fn_changed = st.fn_accessed = KT_TIME_NONE;
        st.inode = ref & 0xffffffffffffull;
        st.type = (fflags & 0x10000000u) ? KT_FT_DIR : KT_FT_REG;
        int rc = kt_dirent_add(out, name, true, &st);
        if (rc)
            return rc;
        off += (16 + (size_t)keylen + 7) & ~(size_t)7;
    }
    return KT_OK;
}

/* The region [from, to) of node b (len bytes), clamped, carved. */
static int carve_region(kt_fs *fs, uint64_t dir, const uint8_t *b, size_t len, uint64_t from,
                        uint64_t to, kt_dirent_list *out)
{
    if (to > len)
        to = len;
    if (from >= to)
        return KT_OK;
    return carve(fs, dir, b + from, (size_t)(to - from), out);
}

/* An index node's slack (the whole of its entries when the directory is
 * deleted) into out, and with live, its entries in use into live: node
 * header at hdr of b. */
static int carve_node(kt_fs *fs, uint64_t dir, bool deleted, const uint8_t *b, size_t len,
                      size_t hdr, kt_dirent_list *out, kt_dirent_list *live)
{
    uint32_t first = 0, used = 0, alloc = 0;
    if (!kt_rd_le32(b, len, hdr, &first) || !kt_rd_le32(b, len, hdr + 4, &used) ||
        !kt_rd_le32(b, len, hdr + 8, &alloc))
        return KT_OK;
    int rc = KT_OK;
    if (live && !deleted)
        rc = carve_region(fs, dir, b, len, (uint64_t)hdr + first, (uint64_t)hdr + used, live);
    uint64_t from = (uint64_t)hdr + (deleted ? first : used);
    return rc ? rc : carve_region(fs, dir, b, len, from, (uint64_t)hdr + alloc, out);
}

static int read_attr(const TSK_FS_ATTR *a, uint8_t **out, size_t *len)
{
    TSK_OFF_T size = (a->flags & TSK_FS_ATTR_NONRES) ? a->nrd.allocsize : a->size;
    if (size <= 0 || (uint64_t)size > NTFS_IDX_MAX_BYTES)
        return KT_ELIMIT;
    uint8_t *b = malloc((size_t)size);
    if (b == NULL)
        return KT_ENOMEM;
    size_t done = 0;
    while (done < (size_t)size) {
        ssize_t got = tsk_fs_attr_read(a, (TSK_OFF_T)done, (char *)b + done, (size_t)size - done,
                                       TSK_FS_FILE_READ_FLAG_SLACK);
        if (got <= 0)
            break;
        done += (size_t)got;
    }
    *out = b;
    *len = done;
    return KT_OK;
}

/* The names only directory dir's index slack still holds, read once. */
static int ntfs_slack(kt_fs *fs, kt_mft *m, dir_cache *c)
{
    if (c->carved)
        return KT_OK;
    c->carved = true;
    fs->dir_reads++;
    TSK_FS_FILE *f = tsk_fs_file_open_meta(tfs(fs), NULL, (TSK_INUM_T)c->inum);
    if (f == NULL || f->meta == NULL) {
        tsk_fs_file_close(f);
        tsk_error_reset();
        return KT_OK;
    }
    bool deleted = !(f->meta->flags & TSK_FS_META_FLAG_ALLOC);
    int rc = KT_OK;
    uint32_t recsize = 0;
    /* With records the $MFT pass could not decode, the index's live names
     * too: a file whose record is damaged is still named, and reading it
     * then says what is wrong instead of the file passing unseen. */
    kt_dirent_list *live = kt_mft_damaged(m, NULL) ? &c->damaged : NULL;
    int n = tsk_fs_file_attr_getsize(f);
    for (int i = 0; i < n && rc == KT_OK; i++) {
        const TSK_FS_ATTR *a = tsk_fs_file_attr_get_idx(f, i);
        if (a == NULL || a->name == NULL || strcmp(a->name, "$I30") != 0 ||
            (a->type != NTFS_ATTR_IDXROOT && a->type != NTFS_ATTR_IDXALLOC))
            continue;
        uint8_t *b = NULL;
        size_t len = 0;
        if ((rc = read_attr(a, &b, &len)) == KT_ELIMIT) {
            rc = KT_OK;
            continue;
        }
        if (rc)
            break;
        if (a->type == NTFS_ATTR_IDXROOT) {
            /* The root: attribute type, collation, record size (u32 at 8), then a node. */
            kt_rd_le32(b, len, 8, &recsize);
            rc = carve_node(fs, c->inum, deleted, b, len, 16, &c->slack, live);
        } else {
            /* recsize: from the root, which comes first (attributes are in type order) */
            if (recsize >= 512 && recsize <= KT_MFT_RECORD_MAX && recsize % 512 == 0)
                for (size_t off = 0; off + recsize <= len && rc == KT_OK; off += recsize) {
                    if (memcmp(b + off, "INDX", 4) != 0 ||
                        kt_mft_fixups(b + off, recsize, NULL) != KT_OK)
                        continue;
                    rc = carve_node(fs, c->inum, deleted, b + off, recsize, 24, &c->slack, live);
                }
        }
        free(b);
    }
    tsk_fs_file_close(f);
    tsk_error_reset();
    return rc;
}

/* Whether the MFT record a name of index slack points at holds another
 * file now: in use, or free but naming another (a slack name is one the
 * $MFT did not have). Its metadata and data are then not the name's. */
static bool slack_reused(const kt_mft *m, uint64_t inum)
{
    kt_mft_entry e;
    kt_mft_name names[1];
    return !kt_mft_get(m, inum, &e) || e.in_use || kt_mft_names(m, inum, names, 1) > 0;
}

/* A name of the $MFT as an entry of the directory it names as parent. */
static bool mft_listed(const kt_mft *m, const kt_mft_name *n)
{
    return strcmp(n->name, ".") != 0 && strcmp(n->name, "..") != 0 && kt_mft_in_dir(m, n);
}

static int ntfs_child(kt_fs *fs, kt_mft *m, dir_cache *c, const char *name, int flags, kt_node *out,
                      char *actual, size_t actual_len, kt_file_type *type)
{
    /* Best match: allocated before deleted, exact before case-folded. */
    const char *hit = NULL;
    uint64_t hit_inum = 0;
    kt_file_type hit_type = KT_FT_UNKNOWN;
    bool hit_slack = false;
    int best = 0;
    size_t first = 0, n = kt_mft_children(m, c->inum, &first);
    for (size_t i = first; i < first + n && best < 4; i++) {
        kt_mft_name nm;
        kt_mft_child(m, i, &nm);
        int score = strcmp(nm.name, name) == 0                                    ? 2
                    : fs->case_insensitive && kt_name_casecmp(nm.name, name) == 0 ? 1
                                                                                  : 0;
        if (!score || !mft_listed(m, &nm))
            continue;
        kt_mft_entry e;
        bool alloc = kt_mft_get(m, nm.entry, &e) && e.in_use;
        if (!alloc && !(flags & KT_FS_DELETED))
            continue;
        if (alloc)
            score += 2;
        if (score > best) {
            best = score;
            hit = nm.name;
            hit_inum = nm.entry;
            hit_type = e.dir ? KT_FT_DIR : KT_FT_REG;
        }
    }
    if (hit == NULL && kt_mft_damaged(m, NULL)) {
        int rc = ntfs_slack(fs, m, c);
        if (rc)
            return rc;
        for (size_t i = 0; i < c->damaged.count && best < 2; i++) {
            const kt_dirent *de = &c->damaged.items[i];
            kt_mft_entry e;
            int score = strcmp(de->name, name) == 0                                    ? 2
                        : fs->case_insensitive && kt_name_casecmp(de->name, name) == 0 ? 1
                                                                                       : 0;
            if (score > best && !kt_mft_get(m, de->st.inode, &e)) {
                best = score;
                hit = de->name;
                hit_inum = de->st.inode;
                hit_type = de->st.type;
            }
        }
    }
    if (hit == NULL && (flags & KT_FS_DELETED)) {
        int rc = ntfs_slack(fs, m, c);
        if (rc)
            return rc;
        for (size_t i = 0; i < c->slack.count && best < 2; i++) {
            const kt_dirent *de = &c->slack.items[i];
            int score = strcmp(de->name, name) == 0                                    ? 2
                        : fs->case_insensitive && kt_name_casecmp(de->name, name) == 0 ? 1
                                                                                       : 0;
            if (score > best) {
                best = score;
                hit = de->name;
                hit_inum = de->st.inode;
                hit_type = de->st.type;
                hit_slack = true;
            }
        }
    }
    if (hit == NULL)
        return KT_ENOTFOUND;
    out->inum = hit_inum;
    out->reused = false;
    if (hit_slack)
        out->reused = slack_reused(m, hit_inum);
    kt_strlcpy(actual, hit, actual_len);
    *type = hit_type;
    return KT_OK;
}

/* Every entry of an NTFS directory, deleted ones too: the $MFT's names,
 * then the slack's not already among them. Metadata as libtsk reads it. */
static int ntfs_list_all(kt_fs *fs, kt_mft *m, dir_cache *c, kt_dirent_list *out)
{
    int rc = KT_OK;
    size_t first = 0, n = kt_mft_children(m, c->inum, &first);
    for (size_t i = first; i < first + n && rc == KT_OK; i++) {
        kt_mft_name nm;
        kt_mft_child(m, i, &nm);
        if (!mft_listed(m, &nm))
            continue;
        kt_mft_entry e = {0};
        bool alloc = kt_mft_get(m, nm.entry, &e) && e.in_use;
        kt_stat st;
        TSK_FS_FILE *f = tsk_fs_file_open_meta(tfs(fs), NULL, (TSK_INUM_T)nm.entry);
        if (f && f->meta) {
            fill_stat(f, fs->kind, &st);
        } else {
            TSK_FS_FILE none = {0};
            fill_stat(&none, fs->kind, &st);
            st.inode = nm.entry;
            st.type = e.dir ? KT_FT_DIR : KT_FT_REG;
            tsk_error_reset();
        }
        tsk_fs_file_close(f);
        if (!alloc)
            st.allocated = false;
        rc = kt_dirent_add(out, nm.name, !alloc, &st);
    }
    if (rc == KT_OK)
        rc = ntfs_slack(fs, m, c);
    for (size_t i = 0; i < c->damaged.count && rc == KT_OK; i++) {
        kt_mft_entry e;
        if (!kt_mft_get(m, c->damaged.items[i].st.inode, &e))
            rc = kt_dirent_add(out, c->damaged.items[i].name, false, &c->damaged.items[i].st);
    }
    for (size_t i = 0; i < c->slack.count && rc == KT_OK; i++) {
        kt_dirent *de = &c->slack.items[i];
        bool dup = false;
        for (size_t k = 0; k < out->count && !dup; k++)
            dup =
                out->items[k].st.inode == de->st.inode && strcmp(out->items[k].name, de->name) == 0;
        for (size_t k = 0; k < i && !dup; k++)
            dup = c->slack.items[k].st.inode == de->st.inode &&
                  strcmp(c->slack.items[k].name, de->name) == 0;
        if (dup)
            continue;
        kt_stat st = de->st;
        if (!slack_reused(m, st.inode)) {
            TSK_FS_FILE *f = tsk_fs_file_open_meta(tfs(fs), NULL, (TSK_INUM_T)st.inode);
            if (f && f->meta && !(f->meta->flags & TSK_FS_META_FLAG_ALLOC))
                fill_stat(f, fs->kind, &st);
            else
                tsk_error_reset();
            tsk_fs_file_close(f);
        }
        st.allocated = false;
        rc = kt_dirent_add(out, de->name, true, &st);
    }
    return rc;
}

static int child(kt_fs *fs, const kt_node *dir, const char *dpath, const char *name, int flags,
                 kt_node *out, char *actual, size_t actual_len, kt_file_type *type, kt_error *err)
{
    kt_error e = {0};
    dir_cache *c = dir_open(fs, dir->inum, dpath, &e);
    if (c == NULL) {
        if (err)
            *err = e;
        return e.code;
    }
    kt_mft *m = ntfs_mft(fs);
    if (c->by_mft)
        return ntfs_child(fs, m, c, name, flags, out, actual, actual_len, type);
    TSK_FS_DIR *d = c->dir;
    int rc;
    /* Best match: allocated before deleted, exact before case-folded. */
    const TSK_FS_NAME *hit = NULL;
    int best = 0;
    size_t n = tsk_fs_dir_getsize(d);
    for (size_t i = 0; i < n && best < 4; i++) {
        const TSK_FS_NAME *nm = tsk_fs_dir_get_name(d, i);
        if (nm == NULL || skip_name(tfs(fs), nm))
            continue;
        bool alloc = (nm->flags & TSK_FS_NAME_FLAG_ALLOC) != 0;
        if (!alloc && !(flags & KT_FS_DELETED))
            continue;
        int score = strcmp(nm->name, name) == 0                                    ? 2
                    : fs->case_insensitive && kt_name_casecmp(nm->name, name) == 0 ? 1
                                                                                   : 0;
        if (score && alloc)
            score += 2;
        if (score > best) {
            best = score;
            hit = nm;
        }
    }
    rc = KT_ENOTFOUND;
    if (hit) {
        out->inum = hit->meta_addr;
        kt_strlcpy(actual, hit->name, actual_len);
        *type = name_type(hit->type);
        rc = KT_OK;
        bool alloc = (hit->flags & TSK_FS_NAME_FLAG_ALLOC) != 0;
        if (*type == KT_FT_UNKNOWN || (alloc && fs->kind == KT_FS_EXT)) {
            TSK_FS_FILE *f = tsk_fs_file_open_meta(tfs(fs), NULL, hit->meta_addr);
            if (f && f->meta && *type == KT_FT_UNKNOWN)
                *type = meta_type(f->meta->type);
            else if (f && f->meta)
                rc = ext_meta_ok(fs, f, *type, err);
            tsk_fs_file_close(f);
            tsk_error_reset();
        }
    }
    return rc;
}

/* What is known of a name only index slack keeps, its record reused. */
static void reused_stat(const kt_node *n, kt_file_type type, kt_stat *st)
{
    TSK_FS_FILE none = {0};
    fill_stat(&none, KT_FS_NTFS, st);
    st->inode = n->inum;
    st->type = type;
}

static int do_stat(kt_fs *fs, const kt_node *n, const char *path, kt_stat *st, kt_error *err)
{
    (void)path;
    if (n->reused) {
        reused_stat(n, KT_FT_REG, st);
        return KT_OK;
    }
    TSK_FS_FILE *f = tsk_fs_file_open_meta(tfs(fs), NULL, (TSK_INUM_T)n->inum);
    if (f == NULL)
        return kt_tsk_error(err, KT_EIO, "cannot read metadata");
    int rc = ext_meta_ok(fs, f, KT_FT_UNKNOWN, err);
    if (rc == KT_OK)
        fill_stat(f, fs->kind, st);
    tsk_fs_file_close(f);
    return rc;
}

/* A deleted name's own metadata record. libtsk hands a deleted NTFS name
 * an empty record when the name's sequence number no longer matches the
 * MFT entry's (deletion bumps it), so read the entry by number. Its times
 * are the deleted file's only while the entry is still unallocated; once
 * reused they belong to another file and are dropped. */
static void deleted_stat(kt_fs *fs, const TSK_FS_NAME *nm, kt_stat *st)
{
    if (st->created != KT_TIME_NONE || st->modified != KT_TIME_NONE)
        return;
    TSK_FS_FILE *f = tsk_fs_file_open_meta(tfs(fs), NULL, nm->meta_addr);
    if (f && f->meta && !(f->meta->flags & TSK_FS_META_FLAG_ALLOC))
        fill_stat(f, fs->kind, st);
    else
        tsk_error_reset();
    tsk_fs_file_close(f);
}

/* Entry i of the directory into out, if it is one (a damaged record is
 * listed as what its name says, so that reading it reports the damage
 * instead of the file passing unseen). */
static int add_entry(kt_fs *fs, TSK_FS_DIR *d, size_t i, kt_dirent_list *out)
{
    TSK_FS_FILE *f = tsk_fs_dir_get(d, i);
    if (f == NULL) {
        tsk_error_reset();
        return KT_OK;
    }
    const TSK_FS_NAME *nm = f->name;
    if (nm == NULL || skip_name(tfs(fs), nm)) {
        tsk_fs_file_close(f);
        return KT_OK;
    }
    kt_stat st;
    fill_stat(f, fs->kind, &st);
    if ((nm->flags & TSK_FS_NAME_FLAG_ALLOC) && ext_meta_ok(fs, f, KT_FT_UNKNOWN, NULL))
        st.type = name_type(nm->type);
    bool deleted = !(nm->flags & TSK_FS_NAME_FLAG_ALLOC) ||
                   (f->meta && !(f->meta->flags & TSK_FS_META_FLAG_ALLOC));
    if (!(nm->flags & TSK_FS_NAME_FLAG_ALLOC)) {
        deleted_stat(fs, nm, &st);
        st.allocated = false;
    }
    int rc = kt_dirent_add(out, nm->name, deleted, &st);
    tsk_fs_file_close(f);
    return rc;
}

/* Every entry of the directory, deleted ones too, into out. */
static int list_all(kt_fs *fs, TSK_FS_DIR *d, kt_dirent_list *out)
{
    int rc = KT_OK;
    size_t n = tsk_fs_dir_getsize(d);
    for (size_t i = 0; i < n && rc == KT_OK; i++)
        rc = add_entry(fs, d, i, out);
    return rc;
}

static int list(kt_fs *fs, const kt_node *dir, const char *path, bool include_deleted,
                kt_dirent_list *out, kt_error *err)
{
    kt_error e = {0};
    dir_cache *c = dir_open(fs, dir->inum, path, &e);
    if (c == NULL) {
        if (err)
            *err = e;
        return e.code;
    }
    /* Listed once; each call takes its copy (the entries it asks for, up
     * to where the first listing stopped). */
    if (!c->listed) {
        c->list_rc = c->by_mft ? ntfs_list_all(fs, ntfs_mft(fs), c, &c->listing)
                               : list_all(fs, c->dir, &c->listing);
        c->listed = true;
    }
    int rc = KT_OK;
    for (size_t i = 0; i < c->listing.count && rc == KT_OK; i++) {
        const kt_dirent *de = &c->listing.items[i];
        if (!de->deleted || include_deleted)
            rc = kt_dirent_add(out, de->name, de->deleted, &de->st);
    }
    if (rc == KT_OK)
        rc = c->list_rc;
    if (rc)
        return kt_error_set(err, rc, "directory listing too large");
    return KT_OK;
}

/* The entries `want` takes, by name and the type the directory entry
 * gives: the metadata of only those is read (a search for a few names in
 * a large directory reads no record of the others). A directory listed
 * whole before is filtered from its listing. */
static int list_some(kt_fs *fs, const kt_node *dir, const char *path, bool include_deleted,
                     kt_fs_want want, void *ctx, kt_dirent_list *out, kt_error *err)
{
    kt_error e = {0};
    dir_cache *c = dir_open(fs, dir->inum, path, &e);
    if (c == NULL) {
        if (err)
            *err = e;
        return e.code;
    }
    /* On NTFS the $MFT table already holds every entry's name and times:
     * listing it whole reads nothing more. */
    if (!c->listed && c->by_mft) {
        c->list_rc = ntfs_list_all(fs, ntfs_mft(fs), c, &c->listing);
        c->listed = true;
    }
    int rc = KT_OK;
    if (c->listed) {
        for (size_t i = 0; i < c->listing.count && rc == KT_OK; i++) {
            const kt_dirent *de = &c->listing.items[i];
            if ((!de->deleted || include_deleted) && want(ctx, de->name, de->st.type))
                rc = kt_dirent_add(out, de->name, de->deleted, &de->st);
        }
        if (rc == KT_OK)
            rc = c->list_rc;
    } else {
        kt_dirent_list one = {0};
        size_t n = tsk_fs_dir_getsize(c->dir);
        for (size_t i = 0; i < n && rc == KT_OK; i++) {
            const TSK_FS_NAME *nm = tsk_fs_dir_get_name(c->dir, i);
            if (nm == NULL || skip_name(tfs(fs), nm) ||
                (!(nm->flags & TSK_FS_NAME_FLAG_ALLOC) && !include_deleted) ||
                !want(ctx, nm->name, name_type(nm->type)))
                continue;
            rc = add_entry(fs, c->dir, i, &one);
            for (size_t k = 0; k < one.count && rc == KT_OK; k++)
                if (!one.items[k].deleted || include_deleted)
                    rc = kt_dirent_add(out, one.items[k].name, one.items[k].deleted,
                                       &one.items[k].st);
            kt_dirent_list_release(&one);
        }
    }
    if (rc)
        return kt_error_set(err, rc, "directory listing too large");
    return KT_OK;
}

static const TSK_FS_ATTR *find_stream(TSK_FS_FILE *f, const char *stream)
{
    int n = tsk_fs_file_attr_getsize(f);
    for (int i = 0; i < n; i++) {
        const TSK_FS_ATTR *a = tsk_fs_file_attr_get_idx(f, i);
        if (a && a->type == TSK_FS_ATTR_TYPE_NTFS_DATA && a->name &&
            kt_name_casecmp(a->name, stream) == 0)
            return a;
    }
    return NULL;
}

/* The file's data (or named stream) attribute, checked and within limit:
 * *file is open on success (the caller closes it); *attr NULL for an empty
 * file without one. */
static int data_attr(kt_fs *fs, const kt_node *node, const char *stream, size_t limit,
                     TSK_FS_FILE **file, const TSK_FS_ATTR **attr, kt_error *err)
{
    if (node->reused)
        return kt_error_set(err, KT_ENOTFOUND,
                            "a deleted name only the directory's index keeps; its MFT record "
                            "%llu now holds another file",
                            (unsigned long long)node->inum);
    TSK_FS_FILE *f = tsk_fs_file_open_meta(tfs(fs), NULL, (TSK_INUM_T)node->inum);
    if (f == NULL)
        return kt_tsk_error(err, KT_EIO, "cannot read metadata");
    int rc = ext_meta_ok(fs, f, KT_FT_UNKNOWN, err);
    if (rc == KT_OK)
        rc = extents_ok(tfs(fs), f, err);
    const TSK_FS_ATTR *a = NULL;
    if (rc == KT_OK) {
        a = stream ? find_stream(f, stream) : tsk_fs_file_attr_get(f);
        if (a == NULL) {
            tsk_error_reset();
            if (stream)
                rc = kt_error_set(err, KT_ENOTFOUND, "no stream '%s'", stream);
            else if (!(f->meta && f->meta->size == 0))
                rc = kt_error_set(err, KT_EFORMAT, "no data attribute");
            /* else an empty file, which may have no data attribute */
        } else if (a->size < 0 || (uint64_t)a->size > limit) {
            rc = kt_error_set(err, KT_ELIMIT, "%lld bytes, over the %zu-byte limit",
                              (long long)a->size, limit);
        }
    }
    if (rc) {
        tsk_fs_file_close(f);
        return rc;
    }
    *file = f;
    *attr = a;
    return KT_OK;
}

static int do_read(kt_fs *fs, const kt_node *node, const char *path, const char *stream,
                   size_t limit, kt_buf *out, kt_error *err)
{
    (void)path;
    TSK_FS_FILE *f = NULL;
    const TSK_FS_ATTR *a = NULL;
    int rc = data_attr(fs, node, stream, limit, &f, &a, err);
    if (rc || a == NULL)
        goto out;
    size_t size = (size_t)a->size;
    rc = kt_buf_reserve(out, size);
    if (rc) {
        rc = kt_error_set(err, rc, "out of memory");
        goto out;
    }
    size_t done = 0;
    while (done < size) {
        ssize_t got = tsk_fs_attr_read(a, (TSK_OFF_T)done, (char *)out->data + done, size - done,
                                       TSK_FS_FILE_READ_FLAG_NONE);
        if (got <= 0) {
            rc = kt_tsk_error(err, KT_EIO, "read failed");
            goto out;
        }
        done += (size_t)got;
    }
    out->len = size;
    out->data[size] = '\0';
out:
    tsk_fs_file_close(f);
    return rc;
}

/* The same, a piece at a time. */
static int do_read_pieces(kt_fs *fs, const kt_node *node, const char *path, const char *stream,
                          size_t limit, kt_fs_piece_cb cb, void *ctx, kt_error *err)
{
    (void)path;
    TSK_FS_FILE *f = NULL;
    const TSK_FS_ATTR *a = NULL;
    int rc = data_attr(fs, node, stream, limit, &f, &a, err);
    if (rc)
        return rc;
    uint8_t *piece = a ? malloc(KT_FS_PIECE) : NULL;
    if (a && piece == NULL)
        rc = kt_error_set(err, KT_ENOMEM, "out of memory");
    size_t size = a ? (size_t)a->size : 0;
    for (size_t done = 0; rc == KT_OK && done < size;) {
        size_t want = size - done < KT_FS_PIECE ? size - done : KT_FS_PIECE;
        ssize_t got =
            tsk_fs_attr_read(a, (TSK_OFF_T)done, (char *)piece, want, TSK_FS_FILE_READ_FLAG_NONE);
        if (got <= 0)
            rc = kt_tsk_error(err, KT_EIO, "read failed");
        else
            rc = cb(ctx, piece, (size_t)got);
        done += got > 0 ? (size_t)got : 0;
    }
    free(piece);
    tsk_fs_file_close(f);
    return rc;
}

static int do_readlink(kt_fs *fs, const kt_node *node, const char *path, char *buf, size_t len,
                       kt_error *err)
{
    TSK_FS_FILE *f = tsk_fs_file_open_meta(tfs(fs), NULL, (TSK_INUM_T)node->inum);
    if (f == NULL)
        return kt_tsk_error(err, KT_EIO, "cannot read metadata");
    int rc = KT_OK;
    if (f->meta && f->meta->link && f->meta->link[0]) {
        if (kt_strlcpy(buf, f->meta->link, len) >= len)
            rc = kt_error_set(err, KT_ELIMIT, "link target too long");
        goto out;
    }
    /* A slow symlink keeps its target in a data block. */
    kt_buf b = {0};
    rc = do_read(fs, node, path, NULL, KT_FS_PATH_MAX - 1, &b, err);
    if (rc == KT_OK) {
        if (b.len == 0 || memchr(b.data, '\0', b.len))
            rc = kt_error_set(err, KT_EFORMAT, "'%s': unreadable link target", path);
        else
            kt_strlcpy(buf, (const char *)b.data, len);
    }
    kt_buf_release(&b);
out:
    tsk_fs_file_close(f);
    return rc;
}

static void do_close(kt_fs *fs)
{
    tsk_impl *t = fs->impl;
    if (t == NULL)
        return;
    dir_cache_free(t);
    kt_mft_free(t->mft);
    if (t->fs)
        tsk_fs_close(t->fs);
    if (t->pool_img)
        tsk_img_close(t->pool_img);
    if (t->pool)
        tsk_pool_close(t->pool);
    if (t->store_img)
        tsk_img_close(t->store_img);
    free(t);
    fs->impl = NULL;
}

/* ext2/3/4 keep the count of inodes in use in the superblock (1024 bytes
 * into the volume): s_inodes_count at 0, s_free_inodes_count at 16, the
 * revision at 76 and s_first_ino, the first inode not reserved, at 84
 * (11 in revision 0). The reserved inodes (root, journal, resize) are
 * marked in use from mkfs on and are left out. */
static int do_in_use(kt_fs *fs, uint64_t *count, kt_error *err)
{
    if (fs->kind != KT_FS_EXT)
        return kt_error_set(err, KT_EUNSUPPORTED, "no count of files in use");
    uint8_t sb[1024];
    if (tsk_fs_read(tfs(fs), 1024, (char *)sb, sizeof sb) != (ssize_t)sizeof sb)
        return kt_tsk_error(err, KT_EIO, "cannot read the superblock");
    uint32_t inodes = 0, free_inodes = 0, rev = 0, first = 11;
    kt_rd_le32(sb, sizeof sb, 0, &inodes);
    kt_rd_le32(sb, sizeof sb, 16, &free_inodes);
    kt_rd_le32(sb, sizeof sb, 76, &rev);
    if (rev >= 1)
        kt_rd_le32(sb, sizeof sb, 84, &first);
    if (free_inodes > inodes || first < 1 || first > inodes)
        return kt_error_set(err, KT_EFORMAT,
                            "the superblock's inode counts do not add up (%" PRIu32
                            " inodes, %" PRIu32 " free, first %" PRIu32 ")",
                            inodes, free_inodes, first);
    uint64_t used = (uint64_t)inodes - free_inodes;
    *count = used > first - 1 ? used - (first - 1) : 0;
    return KT_OK;
}

const kt_fs_ops kt_fs_tsk_ops = {
    .name = "tsk",
    .child = child,
    .stat = do_stat,
    .list = list,
    .list_some = list_some,
    .read = do_read,
    .read_pieces = do_read_pieces,
    .readlink = do_readlink,
    .in_use = do_in_use,
    .close = do_close,
};

static kt_fs_kind kind_of(TSK_FS_TYPE_ENUM t)
{
    if (TSK_FS_TYPE_ISNTFS(t))
        return KT_FS_NTFS;
    if (t == TSK_FS_TYPE_EXFAT)
        return KT_FS_EXFAT;
    if (TSK_FS_TYPE_ISFAT(t))
        return KT_FS_FAT;
    if (TSK_FS_TYPE_ISEXT(t))
        return KT_FS_EXT;
    if (TSK_FS_TYPE_ISHFS(t))
        return KT_FS_HFS;
    if (TSK_FS_TYPE_ISAPFS(t))
        return KT_FS_APFS;
    if (TSK_FS_TYPE_ISISO9660(t))
        return KT_FS_ISO9660;
    return KT_FS_OTHER;
}

/* A shadow copy store as an image of its own for libtsk: reads go to the
 * reader (kavtrace/vss.h). */
typedef struct store_image {
    TSK_IMG_INFO tsk; /* first: libtsk takes it for a TSK_IMG_INFO */
    kt_vss *vss;      /* borrowed */
    size_t store;
} store_image;

static ssize_t store_read(TSK_IMG_INFO *img, TSK_OFF_T off, char *buf, size_t len)
{
    store_image *s = (store_image *)img;
    kt_error e = {0};
    ssize_t n = kt_vss_read(s->vss, s->store, (int64_t)off, buf, len, &e);
    if (n < 0) {
        tsk_error_reset();
        tsk_error_set_errno(TSK_ERR_IMG_READ);
        tsk_error_set_errstr("%zu bytes at offset %" PRId64 ": %s", len, (int64_t)off, e.msg);
    }
    return n;
}

static void store_close(TSK_IMG_INFO *img)
{
    free(img);
}

static void store_imgstat(TSK_IMG_INFO *img, FILE *out)
{
    fprintf(out, "shadow copy store, %" PRId64 " bytes\n", (int64_t)img->size);
}

static void set_props(kt_fs *fs, const kt_volume *vol);

int kt_fs_tsk_open_store(kt_vss *vss, size_t store, const kt_volume *vol, kt_fs *fs, kt_error *err)
{
    const kt_vss_store_info *si = kt_vss_store(vss, store);
    int64_t size = si->size > 0 ? si->size : vol->length;
    store_image *s = calloc(1, sizeof *s);
    tsk_impl *t = calloc(1, sizeof *t);
    if (s == NULL || t == NULL) {
        free(s);
        free(t);
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    }
    s->vss = vss;
    s->store = store;
    fs->impl = t;
    fs->ops = &kt_fs_tsk_ops;
    t->store_img =
        tsk_img_open_external(s, (TSK_OFF_T)size, 512, store_read, store_close, store_imgstat);
    if (t->store_img == NULL) {
        free(s);
        do_close(fs);
        return kt_tsk_error(err, KT_EFORMAT, "cannot open");
    }
    t->fs = tsk_fs_open_img(t->store_img, 0, TSK_FS_TYPE_NTFS);
    if (t->fs == NULL) {
        do_close(fs);
        return kt_tsk_error(err, KT_EFORMAT, "no filesystem recognised");
    }
    set_props(fs, vol);
    return KT_OK;
}

int kt_fs_tsk_open(kt_image *img, const kt_volume *vol, kt_fs *fs, kt_error *err)
{
    int64_t off = 0;
    TSK_IMG_INFO *timg = kt_volume_media(img, vol, &off);
    if (timg == NULL)
        return kt_error_set(err, KT_EARG, "no media to open a filesystem on");
    tsk_impl *t = calloc(1, sizeof *t);
    if (t == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    fs->impl = t;
    fs->ops = &kt_fs_tsk_ops;
    if (vol->pool_block >= 0) {
        t->pool = tsk_pool_open_img_sing(timg, off, TSK_POOL_TYPE_DETECT);
        if (t->pool == NULL) {
            do_close(fs);
            return kt_tsk_error(err, KT_EFORMAT, "cannot open the APFS container");
        }
        /* Debian's libtsk 4.11 does not export tsk_fs_open_pool; the pool's
         * own per-volume image is what it would use. */
        t->pool_img = t->pool->get_img_info(t->pool, (TSK_DADDR_T)vol->pool_block);
        if (t->pool_img == NULL) {
            do_close(fs);
            return kt_tsk_error(err, KT_EFORMAT, "cannot open the APFS volume");
        }
        t->fs = tsk_fs_open_img(t->pool_img, 0, TSK_FS_TYPE_APFS_DETECT);
    } else {
        /* The type the volume scan found; detection only when it found none. */
        TSK_FS_TYPE_ENUM type = vol->fs[0] ? tsk_fs_type_toid_utf8(vol->fs) : TSK_FS_TYPE_DETECT;
        if (type == TSK_FS_TYPE_UNSUPP)
            type = TSK_FS_TYPE_DETECT;
        t->fs = tsk_fs_open_img(timg, off, type);
    }
    if (t->fs == NULL) {
        do_close(fs);
        return kt_tsk_error(err, KT_EFORMAT, "no filesystem recognised");
    }
    set_props(fs, vol);
    return KT_OK;
}

/* What kt_fs says about the opened filesystem. */
static void set_props(kt_fs *fs, const kt_volume *vol)
{
    tsk_impl *t = fs->impl;
    fs->kind = kind_of(t->fs->ftype);
    kt_strlcpy(fs->type_name, tsk_fs_type_toname(t->fs->ftype), sizeof fs->type_name);
    fs->root.inum = t->fs->root_inum;
    fs->has_streams = fs->kind == KT_FS_NTFS;
    fs->backslash_separates =
        fs->kind == KT_FS_NTFS || fs->kind == KT_FS_FAT || fs->kind == KT_FS_EXFAT;
    /* Windows and (by default) macOS compare names without case; APFS
     * says per volume. */
    fs->case_insensitive = fs->kind == KT_FS_NTFS || fs->kind == KT_FS_FAT ||
                           fs->kind == KT_FS_EXFAT || fs->kind == KT_FS_HFS ||
                           fs->kind == KT_FS_APFS || fs->kind == KT_FS_ISO9660;
    if (fs->kind == KT_FS_APFS && t->pool) {
        for (const TSK_POOL_VOLUME_INFO *pv = t->pool->vol_list; pv; pv = pv->next)
            if ((int64_t)pv->block == vol->pool_block &&
                (pv->flags & TSK_POOL_VOLUME_FLAG_CASE_SENSITIVE))
                fs->case_insensitive = false;
    }
}

TSK_FS_INFO *kt_fs_tsk_info(kt_fs *fs)
{
    return fs && fs->ops == &kt_fs_tsk_ops ? tfs(fs) : NULL;
}
