/* kavtrace: one filesystem interface over libtsk volumes and directories.
 *
 * Paths use '/', are relative to the filesystem root (on NTFS, FAT and
 * exFAT, whose names never hold one, a '\' is read as '/'; on ext, HFS+,
 * APFS and in a directory it is a name character, as Linux and macOS keep
 * it), and are looked up case-insensitively on NTFS, FAT, exFAT, HFS+ and
 * APFS, as Windows and macOS do, and exactly on ext and ISO9660. A path
 * may name an NTFS alternate data stream as "dir/file:stream".
 *
 * Lookups never follow a symbolic link in the last component unless
 * KT_FS_FOLLOW is given; links in the middle of a path are followed.
 * Links are resolved inside the evidence: an absolute target starts at the
 * evidence's root and ".." stops at it, so nothing outside is ever read.
 */
#ifndef KAVTRACE_FS_H
#define KAVTRACE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/buf.h"
#include "kavtrace/error.h"
#include "kavtrace/image.h"
#include "kavtrace/time.h"
#include "kavtrace/volume.h"
#include "kavtrace/vss.h"

/* Limits on what a path or a listing may reach. */
#define KT_FS_PATH_MAX 4096
#define KT_FS_MAX_DEPTH 256
#define KT_FS_MAX_LINKS 40
#define KT_FS_MAX_DIRENTS 1000000

typedef enum kt_fs_kind {
    KT_FS_NTFS,
    KT_FS_FAT,
    KT_FS_EXFAT,
    KT_FS_EXT,
    KT_FS_XFS,
    KT_FS_HFS,
    KT_FS_APFS,
    KT_FS_ISO9660,
    KT_FS_HOSTDIR,
    KT_FS_OTHER,
} kt_fs_kind;

typedef enum kt_file_type {
    KT_FT_UNKNOWN,
    KT_FT_REG,
    KT_FT_DIR,
    KT_FT_LINK,
    KT_FT_OTHER,
} kt_file_type;

/* Where an entry lives and its metadata. On NTFS the four main times are
 * $STANDARD_INFORMATION's and fn_* are the $FILE_NAME times; on other
 * filesystems has_fn is false. A time the filesystem does not keep is
 * KT_TIME_NONE. */
typedef struct kt_stat {
    uint64_t inode; /* MFT entry on NTFS, inode on ext, ... */
    kt_file_type type;
    bool allocated;
    int64_t size;
    uint32_t mode;
    kt_time created, modified, changed, accessed;
    bool has_fn;
    kt_time fn_created, fn_modified, fn_changed, fn_accessed;
} kt_stat;

typedef struct kt_dirent {
    char *name;   /* owned */
    bool deleted; /* name or metadata is unallocated */
    kt_stat st;
} kt_dirent;

typedef struct kt_dirent_list {
    kt_dirent *items;
    size_t count;
    size_t cap;
} kt_dirent_list;

typedef struct kt_fs kt_fs;

#define KT_FS_FOLLOW 0x1  /* follow a symbolic link in the last component */
#define KT_FS_DELETED 0x2 /* where no allocated name matches, take a deleted one */

/* Open the filesystem on a volume of img (borrowed; must outlive the fs). */
int kt_fs_open_volume(kt_image *img, const kt_volume *vol, kt_fs **out, kt_error *err);
/* Open the NTFS volume vol as shadow copy store i of vss holds it (vss
 * borrowed; must outlive the fs). */
int kt_fs_open_store(kt_vss *vss, size_t i, const kt_volume *vol, kt_fs **out, kt_error *err);
void kt_fs_free(kt_fs *fs);

kt_fs_kind kt_fs_get_kind(const kt_fs *fs);
/* "ntfs", "fat32", "ext4", "hfs+", "apfs", "dir", ... (borrowed) */
const char *kt_fs_type_name(const kt_fs *fs);
bool kt_fs_case_insensitive(const kt_fs *fs);

int kt_fs_stat(kt_fs *fs, const char *path, int flags, kt_stat *st, kt_error *err);
bool kt_fs_exists(kt_fs *fs, const char *path);

/* List a directory's allocated entries (and, with include_deleted, the
 * deleted names that remain in it; the path may then run through deleted
 * directories too), without "." and "..", sorted by name.
 * *out must be zero-initialised; release with kt_dirent_list_release. */
int kt_fs_list(kt_fs *fs, const char *path, bool include_deleted, kt_dirent_list *out,
               kt_error *err);
/* Which entries kt_fs_list_some takes: by name and the type the directory
 * entry gives (KT_FT_UNKNOWN where it gives none: take it to learn it). */
typedef bool (*kt_fs_want)(void *ctx, const char *name, kt_file_type type);
/* kt_fs_list, but only the entries `want` takes. Where the directory names
 * each entry's type (ext, NTFS through libtsk) only their metadata is
 * read: a search for a few names in a large directory reads no record of
 * the others. */
int kt_fs_list_some(kt_fs *fs, const char *path, bool include_deleted, kt_fs_want want, void *ctx,
                    kt_dirent_list *out, kt_error *err);
/* Only the deleted entries of a directory. */
int kt_fs_list_deleted(kt_fs *fs, const char *path, kt_dirent_list *out, kt_error *err);
void kt_dirent_list_release(kt_dirent_list *list);

/* How many times a directory's entries were read from the volume since
 * it was opened. A volume libtsk reads opens each directory once, however
 * many lookups and listings pass through it (0 for a directory tree). */
uint64_t kt_fs_dir_reads(const kt_fs *fs);

/* NTFS: how many times the $MFT was read whole since the volume was opened
 * (once, on the first lookup: names, live and deleted, are found in it;
 * a directory's own index is read only for the deleted names its slack
 * keeps), and *bytes the bytes those passes read. 0 elsewhere. */
uint64_t kt_fs_mft_passes(const kt_fs *fs, uint64_t *bytes);

/* NTFS on a libtsk volume: the volume's $MFT table (kavtrace/ntfs_mft.h),
 * read now if no lookup has read it yet; borrowed, valid until kt_fs_free.
 * NULL on another filesystem or when the $MFT cannot be read. With it, an
 * MFT reference (a USN record's file or parent) resolves to its entry's
 * sequence, flags and names without another read of the volume. */
typedef struct kt_mft kt_mft;
const kt_mft *kt_fs_ntfs_mft(kt_fs *fs);

/* NTFS: MFT records the pass found damaged (bad update sequence, header,
 * attribute or name out of bounds) and skipped; msg (len bytes) gets the
 * first one's message. 0 elsewhere. */
uint64_t kt_fs_damaged_records(const kt_fs *fs, char *msg, size_t len);

/* How many files and directories the filesystem's own counters say are
 * in use, its reserved records left out (ext: the superblock's inode
 * counts). KT_EUNSUPPORTED where it keeps no such count. */
int kt_fs_in_use(kt_fs *fs, uint64_t *count, kt_error *err);

/* Read a whole file, or "file:stream", into out (zero-initialised; the
 * caller releases it). More than limit bytes is KT_ELIMIT. flags: 0 or
 * KT_FS_DELETED (a deleted file's data may since have been overwritten). */
int kt_fs_read(kt_fs *fs, const char *path, int flags, size_t limit, kt_buf *out, kt_error *err);

/* kt_fs_read, a piece at a time: cb gets the file's bytes in order, in
 * pieces of at most KT_FS_PIECE bytes (borrowed until it returns), so a
 * large file is never held whole (a directory tree and libtsk volumes;
 * other filesystems read it whole first). cb returns 0 to go on; another
 * value stops the read and is returned. */
#define KT_FS_PIECE ((size_t)1 << 20)
typedef int (*kt_fs_piece_cb)(void *ctx, const uint8_t *data, size_t len);
int kt_fs_read_pieces(kt_fs *fs, const char *path, int flags, size_t limit, kt_fs_piece_cb cb,
                      void *ctx, kt_error *err);

/* The target of a symbolic link, as stored. */
int kt_fs_readlink(kt_fs *fs, const char *path, char *buf, size_t len, kt_error *err);

/* The path that PATH leads to once every link is followed, inside the
 * evidence ("etc/localtime" -> "usr/share/zoneinfo/America/Chicago").
 * Names come in their on-disk case. */
int kt_fs_resolve(kt_fs *fs, const char *path, char *buf, size_t len, kt_error *err);

#endif
