/* Private: the backends behind kt_fs (libtsk volumes, XFS through
 * libfsxfs, host directories).
 *
 * The generic layer in fs.c walks paths, follows links and splits NTFS
 * stream names; a backend only answers questions about one node, named by
 * its inode number (libtsk) and by its resolved path (directories). */
#ifndef KT_FS_IMPL_H
#define KT_FS_IMPL_H

#include "kavtrace/fs.h"

typedef struct kt_node {
    uint64_t inum;
    /* NTFS: a deleted name only an index's slack keeps, whose MFT record
     * now holds another file: its metadata and data are not the named
     * file's. */
    bool reused;
} kt_node;

typedef struct kt_fs_ops {
    const char *name;
    /* Find an allocated entry of directory `dir` (resolved path `dpath`)
     * called `name`: exactly, else case-insensitively when the fs is.
     * With KT_FS_DELETED a deleted name is taken when no allocated one
     * matches. Fill the child's node, its on-disk name and its type. */
    int (*child)(kt_fs *fs, const kt_node *dir, const char *dpath, const char *name, int flags,
                 kt_node *out, char *actual, size_t actual_len, kt_file_type *type, kt_error *err);
    int (*stat)(kt_fs *fs, const kt_node *n, const char *path, kt_stat *st, kt_error *err);
    int (*list)(kt_fs *fs, const kt_node *dir, const char *path, bool include_deleted,
                kt_dirent_list *out, kt_error *err);
    /* list, but only the entries want takes, read no further than it
     * needs; NULL: list filtered. */
    int (*list_some)(kt_fs *fs, const kt_node *dir, const char *path, bool include_deleted,
                     kt_fs_want want, void *ctx, kt_dirent_list *out, kt_error *err);
    int (*read)(kt_fs *fs, const kt_node *n, const char *path, const char *stream, size_t limit,
                kt_buf *out, kt_error *err);
    /* read, a piece of at most KT_FS_PIECE bytes at a time; NULL: read
     * whole, then handed on. */
    int (*read_pieces)(kt_fs *fs, const kt_node *n, const char *path, const char *stream,
                       size_t limit, kt_fs_piece_cb cb, void *ctx, kt_error *err);
    int (*readlink)(kt_fs *fs, const kt_node *n, const char *path, char *buf, size_t len,
                    kt_error *err);
    /* How many files and directories the filesystem's own counters say
     * are in use, reserved records left out; NULL or KT_EUNSUPPORTED where
     * the filesystem keeps no such count. */
    int (*in_use)(kt_fs *fs, uint64_t *count, kt_error *err);
    void (*close)(kt_fs *fs);
} kt_fs_ops;

struct kt_fs {
    const kt_fs_ops *ops;
    kt_fs_kind kind;
    char type_name[16];
    bool case_insensitive;
    bool has_streams;
    /* Windows filesystems never hold a '\\' in a name, so one is read as
     * '/'; elsewhere (ext, HFS+, APFS, a directory) it is a name character. */
    bool backslash_separates;
    kt_node root;
    uint64_t dir_reads; /* directories opened (kt_fs_dir_reads) */
    /* NTFS: passes over the $MFT, their bytes, damaged records and the
     * first one's message (kt_fs_mft_passes, kt_fs_damaged_records). */
    uint64_t mft_passes, mft_bytes, mft_damaged;
    char mft_damage[256];
    void *impl;
};

extern const kt_fs_ops kt_fs_tsk_ops;
extern const kt_fs_ops kt_fs_host_ops;
extern const kt_fs_ops kt_fs_xfs_ops;

int kt_fs_tsk_open(kt_image *img, const kt_volume *vol, kt_fs *fs, kt_error *err);
/* The NTFS volume's $MFT table, read on first use (fs_tsk.c). */
const kt_mft *kt_fs_tsk_mft(kt_fs *fs);
int kt_fs_tsk_open_store(kt_vss *vss, size_t store, const kt_volume *vol, kt_fs *fs, kt_error *err);
int kt_fs_host_open(const char *root, kt_fs *fs, kt_error *err);
/* XFS through libfsxfs (fs_xfs.c). */
int kt_fs_xfs_open(kt_image *img, const kt_volume *vol, kt_fs *fs, kt_error *err);

/* Shared helpers. */
int kt_dirent_add(kt_dirent_list *l, const char *name, bool deleted, const kt_stat *st);
void kt_dirent_sort(kt_dirent_list *l);
/* ASCII case-insensitive compare: names of Windows and macOS volumes. */
int kt_name_casecmp(const char *a, const char *b);

#endif
