/* kavtrace: an NTFS volume's master file table, read once, front to back.
 *
 * One sequential pass over the $MFT's data decodes, of every FILE record,
 * only what a scan needs: its sequence number, whether it is in use and a
 * directory, its names (each with its namespace and its parent's reference
 * and sequence), its $STANDARD_INFORMATION and $FILE_NAME times and its
 * data size. The names index every directory's children, live and deleted,
 * so that no directory's own index needs reading to find them.
 *
 * Every record is checked before it is trusted: its update sequence array
 * (the "fixups" that end each 512-byte sector), its header's offsets and
 * sizes, each attribute's length and each name's length. A record that
 * fails is counted and skipped, the rest of the table goes on.
 *
 * Layout (the on-disk structures, as documented by the Linux-NTFS project
 * and Carrier's "File System Forensic Analysis", ch. 13):
 *   FILE record: "FILE" at 0, update sequence offset u16 at 0x04 and count
 *   u16 at 0x06, sequence u16 at 0x10, first attribute offset u16 at 0x14,
 *   flags u16 at 0x16 (1 in use, 2 directory), bytes used u32 at 0x18,
 *   bytes allocated u32 at 0x1c, base record reference u64 at 0x20.
 *   Attribute: type u32 at 0 (0xffffffff ends the list), length u32 at 4,
 *   non-resident u8 at 8, name length u8 at 9; resident: value length u32
 *   at 0x10, value offset u16 at 0x14; non-resident: real size u64 at 0x30.
 *   $STANDARD_INFORMATION (0x10): created, modified, MFT changed, accessed
 *   (FILETIMEs at 0, 8, 16, 24). $FILE_NAME (0x30): parent reference u64 at
 *   0 (48-bit entry, 16-bit sequence), the same four times at 8..32, flags
 *   u32 at 56, name length (UTF-16 units) u8 at 64, namespace u8 at 65
 *   (0 POSIX, 1 Win32, 2 DOS, 3 Win32 and DOS), the name at 66. */
#ifndef KAVTRACE_NTFS_MFT_H
#define KAVTRACE_NTFS_MFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kavtrace/error.h"
#include "kavtrace/time.h"

/* Limits on what a record or a table may hold. */
#define KT_MFT_RECORD_MIN 256
#define KT_MFT_RECORD_MAX 65536
#define KT_MFT_MAX_NAMES 32           /* $FILE_NAME attributes kept of one record */
#define KT_MFT_NAME_MAX (255 * 3)     /* a name in UTF-8, without its NUL */
#define KT_MFT_MAX_ENTRIES (1u << 28) /* records in one table */

#define KT_MFT_NS_POSIX 0
#define KT_MFT_NS_WIN32 1
#define KT_MFT_NS_DOS 2
#define KT_MFT_NS_WIN32_DOS 3

/* The four times $STANDARD_INFORMATION and $FILE_NAME keep; KT_TIME_NONE
 * where the record has no such attribute. */
typedef struct kt_mft_times {
    kt_time created, modified, changed, accessed;
} kt_mft_times;

/* One record, decoded (kt_mft_record_decode). */
typedef struct kt_mft_record {
    uint16_t seq;
    bool in_use, dir;
    uint64_t base;   /* the base record's entry, 0 for a base record */
    kt_mft_times si; /* $STANDARD_INFORMATION */
    kt_mft_times fn; /* the first $FILE_NAME */
    int64_t size;    /* the unnamed $DATA's size, 0 without one */
    size_t nnames;   /* names beyond KT_MFT_MAX_NAMES are dropped */
    struct {
        uint64_t parent; /* entry number */
        uint16_t parent_seq;
        uint8_t ns;
        uint16_t len; /* bytes of name */
        char name[KT_MFT_NAME_MAX + 1];
    } names[KT_MFT_MAX_NAMES];
} kt_mft_record;

/* Decode the record of len bytes at rec (its fixups are applied in place,
 * so rec is changed) into out. KT_OK; KT_ENOTFOUND for a record that was
 * never written (no "FILE" signature, all zero); KT_EFORMAT with err set
 * for a damaged one (out is then undefined). */
int kt_mft_record_decode(uint8_t *rec, size_t len, kt_mft_record *out, kt_error *err);

/* Apply the update sequence array of a FILE or INDX record of len bytes
 * (a multiple of 512) in place: KT_OK, or KT_EFORMAT with err set when the
 * array does not fit or a sector does not end in its number (torn write). */
int kt_mft_fixups(uint8_t *rec, size_t len, kt_error *err);

/* n (at most 255) UTF-16LE units at p as UTF-8 in out, NUL-terminated; an
 * unpaired surrogate becomes U+FFFD. Returns the bytes written. */
size_t kt_mft_utf8(const uint8_t *p, size_t n, char out[KT_MFT_NAME_MAX + 1]);

typedef struct kt_mft kt_mft;

/* Reads len bytes at off of the $MFT's data into buf: the bytes read, or
 * -1 with err set. */
typedef ssize_t (*kt_mft_read_fn)(void *ctx, uint64_t off, void *buf, size_t len, kt_error *err);

/* Read the $MFT of size bytes (records of rec_size bytes) through read,
 * front to back in large runs, into a new table (*out, owned by the caller,
 * kt_mft_free releases it). A damaged record is counted (kt_mft_damaged),
 * not an error; a failed read or out of memory is. So is a blank record
 * (all zero: never written) that the $MFT's $BITMAP (bitmap, bitmap_len
 * bytes, bit i for record i; NULL when unknown) says is in use: it was
 * wiped. (Windows leaves the reserved records 16 to 23 blank.) */
int kt_mft_load(kt_mft_read_fn read, void *ctx, uint64_t size, uint32_t rec_size,
                const uint8_t *bitmap, size_t bitmap_len, kt_mft **out, kt_error *err);
void kt_mft_free(kt_mft *m);

/* What one entry of the table says; false past its end or for a record
 * that was never written or is damaged. */
typedef struct kt_mft_entry {
    uint16_t seq;
    bool in_use, dir;
} kt_mft_entry;
bool kt_mft_get(const kt_mft *m, uint64_t entry, kt_mft_entry *out);

/* One name of an entry: borrowed, valid while the table lives. */
typedef struct kt_mft_name {
    uint64_t entry; /* the entry named */
    uint64_t parent;
    uint16_t parent_seq;
    uint8_t ns;
    const char *name; /* UTF-8 */
} kt_mft_name;

/* The names of entry (DOS 8.3 names left out when the entry has a long
 * one): up to max into out, the count returned. */
size_t kt_mft_names(const kt_mft *m, uint64_t entry, kt_mft_name *out, size_t max);

/* The names whose parent reference names entry `parent`, live or not,
 * whatever the parent sequence they carry (the caller picks the one it
 * means), DOS 8.3 names left out, in the order of their entries. Returns
 * how many; *first is the position of the first for kt_mft_child. */
size_t kt_mft_children(const kt_mft *m, uint64_t parent, size_t *first);
/* The i-th name of the children index (from kt_mft_children's first on). */
void kt_mft_child(const kt_mft *m, size_t i, kt_mft_name *out);
/* Whether name n (a child of n->parent) was in that directory as the
 * directory is now: its parent sequence is the directory's own while the
 * directory's record is in use, and the one before (deletion increments
 * it) while it is not. A name whose directory's record was since reused,
 * or that was never a directory, is no child of what the record holds now. */
bool kt_mft_in_dir(const kt_mft *m, const kt_mft_name *n);

/* The times and size of an entry not in use (a deleted file's, while its
 * record is not reused): true when known. */
bool kt_mft_deleted(const kt_mft *m, uint64_t entry, kt_mft_times *si, kt_mft_times *fn,
                    int64_t *size);

/* Records in the table; damaged records (and the first one's message);
 * reads made and bytes read to build it. */
uint64_t kt_mft_count(const kt_mft *m);
uint64_t kt_mft_damaged(const kt_mft *m, const char **first);
uint64_t kt_mft_reads(const kt_mft *m);
uint64_t kt_mft_bytes(const kt_mft *m);

#endif
