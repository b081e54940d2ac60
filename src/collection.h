/* Private: triage collections (a KAPE target folder, a Velociraptor
 * offline-collector zip, a UAC tarball) read in place.
 *
 * An archive is indexed once through libarchive (tar, zip; gzip, bzip2,
 * xz, zstd filters), nothing extracted: entries are read again from the
 * archive when a file's content is asked for. A collection's layout says
 * where each collected filesystem root sits (a drive folder, an upload
 * accessor's drive, UAC's "[root]"), and the collector's own records give
 * the original file times where it keeps them (KAPE's CopyLog, UAC's
 * bodyfile). */
#ifndef KT_COLLECTION_H
#define KT_COLLECTION_H

#include <stdbool.h>
#include <stddef.h>

#include "kavtrace/buf.h"
#include "kavtrace/diag.h"
#include "kavtrace/error.h"
#include "kavtrace/fs.h"
#include "kavtrace/system.h"

/* Limits on what an archive or a collector's log may claim. */
#define KT_ARCHIVE_MAX_ENTRIES 2000000
#define KT_COLLECTION_MAX_ROOTS 64
#define KT_COLLECTION_LOG_MAX (256u << 20)

typedef struct kt_arc_entry {
    char *path; /* member name, "./" and leading '/' removed, no trailing '/' (owned) */
    kt_file_type type;
    int64_t size;
    uint32_t mode;
    kt_time mtime, atime, ctime, btime; /* KT_TIME_NONE where the format keeps none */
    char *link;                         /* a symbolic link's target (owned), else NULL */
    size_t ordinal;                     /* its header's position in the archive */
} kt_arc_entry;

typedef struct kt_archive kt_archive;

/* Index the archive at path: KT_EFORMAT when libarchive does not read it
 * as tar or zip. On success *out is released with kt_archive_free. */
int kt_archive_open(const char *path, kt_archive **out, kt_error *err);
void kt_archive_free(kt_archive *a);
/* "zip", "GNU tar format (gzip)", ... (borrowed). */
const char *kt_archive_format(const kt_archive *a);
/* Why the index stops before the archive's end (a damaged or truncated
 * archive: the entries before the damage are indexed), "" when whole
 * (borrowed). */
const char *kt_archive_damage(const kt_archive *a);
size_t kt_archive_count(const kt_archive *a);
const kt_arc_entry *kt_archive_entry(const kt_archive *a, size_t i);
/* The entry named exactly path, or NULL. */
const kt_arc_entry *kt_archive_find(const kt_archive *a, const char *path);
/* Read entry i's content into out (zero-initialised), at most limit bytes
 * (KT_ELIMIT above it). */
int kt_archive_read(kt_archive *a, size_t i, size_t limit, kt_buf *out, kt_error *err);

/* Which collector laid the evidence out. */
typedef enum kt_collection_kind {
    KT_COLL_NONE,
    KT_COLL_KAPE,         /* drive folders C/, D/, ... and KAPE's logs */
    KT_COLL_VELOCIRAPTOR, /* uploads/<accessor>/<drive>/..., percent-encoded */
    KT_COLL_UAC,          /* [root]/<original path> */
    KT_COLL_ROOT,         /* an archive of a bare filesystem root (etc/, usr/, ...) */
} kt_collection_kind;

/* "kape", "velociraptor", "uac", "archive" */
const char *kt_collection_kind_name(kt_collection_kind k);

/* One collected filesystem root. */
#define KT_COLLECTION_MAX_PREFIXES 4

/* One collected filesystem root: the folder(s) inside the evidence that
 * hold it ("C", "uploads/auto/C%3A", "[root]"; "" for the whole tree).
 * Velociraptor may upload one drive through two accessors (auto, ntfs):
 * both folders are one root, the first holding a path wins. */
typedef struct kt_collection_root {
    char prefix[KT_COLLECTION_MAX_PREFIXES][256];
    size_t nprefix;
    char name[64]; /* "C:", "/" */
    bool percent;  /* names below it are percent-encoded (Velociraptor) */
} kt_collection_root;

typedef struct kt_collection {
    kt_collection_kind kind;
    kt_collection_root roots[KT_COLLECTION_MAX_ROOTS];
    size_t nroots;
    kt_strlist notes;    /* what the collector's own records say, one sentence each */
    kt_strlist warnings; /* what they say was not collected (errors, skipped files) */
} kt_collection;

/* The layout of a directory given as evidence: a KAPE target folder (a
 * drive-letter folder holding a Windows root, or KAPE's CopyLog beside
 * one), else kind KT_COLL_NONE. */
int kt_collection_of_dir(const char *dir, kt_collection *out, kt_error *err);
/* The layout of an indexed archive; KT_COLL_NONE when it is none of the
 * known ones. */
int kt_collection_of_archive(kt_archive *a, kt_collection *out, kt_error *err);
void kt_collection_release(kt_collection *c);

/* Percent-decode n bytes of a Velociraptor name ("C%3A" -> "C:") into out;
 * a '%' not followed by two hex digits stays as it is. */
void kt_collection_decode(const char *in, size_t n, char *out, size_t len);

/* Original times of collected files, keyed by their path below a root. */
typedef struct kt_times_row {
    char *key; /* path below the root, '/'-separated; folded to lower case when the
                  table is case-insensitive (owned) */
    kt_time created, modified, changed, accessed;
} kt_times_row;

typedef struct kt_times {
    kt_times_row *rows;
    size_t count, cap;
    bool fold;
    char source[64]; /* "KAPE CopyLog", "UAC bodyfile" */
} kt_times;

/* The row for path, or NULL. */
const kt_times_row *kt_times_find(const kt_times *t, const char *path);
void kt_times_release(kt_times *t);

/* The times KAPE's CopyLog(s) in dir record for files of drive `drive`
 * ("C"); an empty table when there is no CopyLog. Unparsable rows are
 * counted in *bad. */
int kt_kape_times(const char *dir, const char *drive, kt_times *out, size_t *bad, kt_error *err);
/* The times UAC's bodyfile in the archive records for files below root
 * (bodyfile/bodyfile.txt beside "[root]"); an empty table when none. */
int kt_uac_times(kt_archive *a, const kt_collection_root *root, kt_times *out, size_t *bad,
                 kt_error *err);

/* A collection is not a disk: what it lacks may simply not have been
 * collected. Add to diags one `collection` warning of volume `volume` for
 * each source of sys's artifacts that fs does not hold (program folders,
 * hives, event logs, package databases, ...), naming what is therefore
 * not collected. */
int kt_collection_check_sources(kt_fs *fs, const kt_system *sys, int volume, kt_diags *diags);

/* The image's archive (NULL unless KT_IMG_ARCHIVE) and collection
 * (kind KT_COLL_NONE when it is none); both live as long as img. */
struct kt_image;
kt_archive *kt_image_archive(struct kt_image *img);
const kt_collection *kt_image_collection(const struct kt_image *img);

/* Backends over a collection root. Both take times (heap-allocated, or
 * NULL) whatever they return: its rows stand for the times of the files
 * they name. The archive one borrows a, which must outlive the fs. */
int kt_fs_archive_open(kt_archive *a, const kt_collection_root *root, bool case_insensitive,
                       kt_times *times, kt_fs *fs, kt_error *err);
int kt_fs_host_open_times(const char *root, kt_times *times, kt_fs *fs, kt_error *err);

#endif
