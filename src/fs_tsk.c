#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs_impl.h"
#include "kavtrace/bytes.h"
#include "tsk_util.h"

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
} dir_cache;

typedef struct tsk_impl {
    TSK_FS_INFO *fs;
    const TSK_POOL_INFO *pool;
    TSK_IMG_INFO *pool_img;  /* the volume's image inside the pool */
    TSK_IMG_INFO *store_img; /* a shadow copy's image (store_image), owned */
    dir_cache **dirs;        /* open addressing by inum; NULL is free */
    size_t ndirs, dirs_cap;
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
        fs->dir_reads++;
        if (dir_ok(tfs(fs), (TSK_INUM_T)inum, &c->open_err))
            kt_error_prefix(&c->open_err, "directory '%s'", dpath[0] ? dpath : "/");
        else if ((c->dir = tsk_fs_dir_open_meta(tfs(fs), (TSK_INUM_T)inum)) == NULL)
            kt_tsk_error(&c->open_err, KT_EIO, "cannot open directory");
        t->dirs[i] = c;
        t->ndirs++;
    }
    if (c->dir == NULL) {
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
        free(c);
    }
    free(t->dirs);
    t->dirs = NULL;
    t->ndirs = t->dirs_cap = 0;
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

static int do_stat(kt_fs *fs, const kt_node *n, const char *path, kt_stat *st, kt_error *err)
{
    (void)path;
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
        c->list_rc = list_all(fs, c->dir, &c->listing);
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
    TSK_IMG_INFO *timg = kt_image_tsk(img);
    if (timg == NULL)
        return kt_error_set(err, KT_EARG, "no media to open a filesystem on");
    tsk_impl *t = calloc(1, sizeof *t);
    if (t == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    fs->impl = t;
    fs->ops = &kt_fs_tsk_ops;
    if (vol->pool_block >= 0) {
        t->pool = tsk_pool_open_img_sing(timg, vol->offset, TSK_POOL_TYPE_DETECT);
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
        t->fs = tsk_fs_open_img(timg, vol->offset, type);
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
