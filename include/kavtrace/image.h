/* kavtrace: evidence containers, opened read-only.
 *
 * An evidence item is a raw image, a split raw image (.000/.001, .001/.002,
 * .aa/.ab), an EWF set (.E01, .E02, ...), a VMDK, a VHD/VHDX, a QCOW
 * (versions 1 to 3, without a backing file), an AFF file, a directory
 * (a mounted or extracted filesystem root, or a KAPE target folder), or a
 * triage collection's archive (a Velociraptor zip, a UAC tarball: tar or
 * zip, read in place through libarchive). The container is recognised
 * from its own bytes, not its name; formats that kavtrace cannot read
 * (VDI, Ex01, other archives, ...) are refused with their name.
 */
#ifndef KAVTRACE_IMAGE_H
#define KAVTRACE_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "kavtrace/buf.h"
#include "kavtrace/error.h"

typedef enum kt_image_format {
    KT_IMG_RAW,
    KT_IMG_EWF,
    KT_IMG_VMDK,
    KT_IMG_VHD,
    KT_IMG_VHDX,
    KT_IMG_QCOW,
    KT_IMG_AFF,
    KT_IMG_DIR,
    KT_IMG_ARCHIVE, /* a triage collection's tar or zip, read in place */
} kt_image_format;

/* Hard limits on what a container may claim. */
#define KT_IMAGE_MAX_SEGMENTS 4096

typedef struct kt_image_info {
    kt_image_format format;
    const char *format_name; /* "raw", "ewf", "vmdk", "vhd", "vhdx", "qcow", "aff",
                              * "dir", "archive" */
    const char *format_desc; /* one human line */
    int64_t size;            /* media size in bytes (0 for a directory or an archive) */
    /* The triage collection the evidence is ("kape", "velociraptor",
     * "uac", "archive": a bare root in an archive), else NULL. */
    const char *collection;
    unsigned sector_size;
    kt_strlist segments; /* the files that make the image, in order */
    /* EWF only: stored hashes (lowercase hex, "" when absent) and the
     * acquisition metadata as "identifier=value" strings. */
    char stored_md5[33];
    char stored_sha1[41];
    kt_strlist metadata;
} kt_image_info;

typedef struct kt_image kt_image;

/* Open PATH read-only. On success *out owns the image; release it with
 * kt_image_free. On error *out is untouched and err says why. */
int kt_image_open(const char *path, kt_image **out, kt_error *err);

/* Release the image (NULL is a no-op). */
void kt_image_free(kt_image *img);

/* Borrowed; lives as long as img. */
const kt_image_info *kt_image_get_info(const kt_image *img);
const char *kt_image_path(const kt_image *img);

/* Read len bytes at off from the media. Returns the byte count read (short
 * at the end of the media) or a negative code. */
ssize_t kt_image_read(kt_image *img, int64_t off, void *buf, size_t len, kt_error *err);

/* Whether the media's digests are its hash. */
typedef enum kt_hash_status {
    KT_HASH_NOT_COMPUTED, /* the media was not read end to end */
    KT_HASH_COMPLETE,     /* every byte was read as stored: the digests are the media's */
    KT_HASH_INCOMPLETE,   /* some bytes could not be read, or failed their checksum */
} kt_hash_status;

/* A container's stored hashes (EWF) against the computed ones. */
typedef enum kt_verification {
    KT_VERIFY_NOT_VERIFIED, /* no stored hash, or no complete read to compare with */
    KT_VERIFY_VERIFIED,     /* every stored hash equals the computed one */
    KT_VERIFY_MISMATCH,     /* a stored hash differs from the computed one */
} kt_verification;

/* What reading the whole media found. The digests are of the bytes as
 * read, with every unreadable range (a read error, an EWF chunk that is
 * missing or fails its checksum) counted as zeros: they are the media's
 * hash only when status is KT_HASH_COMPLETE, and must never be shown as
 * it otherwise. */
typedef struct kt_image_digest {
    kt_hash_status status;
    char sha256[65]; /* lowercase hex */
    char md5[33];
    char sha1[41];
    int64_t unreadable;       /* bytes not read as stored */
    int64_t first_unreadable; /* the first such byte's offset; -1 when none */
    char why[256];            /* what was not read, "" when complete */
    kt_verification verification;
    char verification_note[256]; /* why, in one sentence */
} kt_image_digest;

/* "not computed", "complete", "incomplete"; "not verified", "verified",
 * "mismatch". */
const char *kt_hash_status_name(kt_hash_status s);
const char *kt_verification_name(kt_verification v);

/* Read the whole media end to end for its SHA-256, MD5 and SHA-1, and
 * check an EWF set's stored hashes against them. An EWF set is read
 * through libewf itself, which says which chunks are missing or fail their
 * checksum; other media through libtsk, a failed read retried sector by
 * sector. Unreadable bytes are no error: they make the digest incomplete.
 * progress (may be NULL) is called with the bytes done so far. Errors:
 * a directory (no media: KT_EARG), out of memory, an EWF set libewf will
 * not open. */
typedef void (*kt_hash_progress)(void *ctx, int64_t done, int64_t total);

/* The stored hashes of img against d (NULL: the media was not hashed):
 * the verdict and, in note, why ("the EWF set stores no MD5 or SHA-1",
 * "the media could not be read in full, ...", ...). */
kt_verification kt_image_verify(const kt_image *img, const kt_image_digest *d, char *note,
                                size_t len);

int kt_image_hash(kt_image *img, kt_image_digest *out, kt_hash_progress progress, void *ctx,
                  kt_error *err);

/* Damage met by the reads made so far that the reads themselves did not
 * fail on: EWF chunks that failed their checksum (libewf hands their
 * bytes on, as libtsk's reader does). One sentence per kind added to out;
 * KT_ENOMEM or 0. */
int kt_image_read_damage(kt_image *img, kt_strlist *out);

/* Warnings gathered while opening and reading (borrowed). */
const kt_strlist *kt_image_warnings(const kt_image *img);
void kt_image_warn(kt_image *img, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Recognise a container from its first bytes and its length (without
 * opening it as an image). Returns a short format name such as "qcow",
 * or NULL when nothing is recognised (likely raw). *supported tells whether
 * kavtrace reads it. Exposed for tests. */
const char *kt_image_sniff(const uint8_t *head, size_t head_len, const uint8_t *tail,
                           size_t tail_len, bool *supported);

#endif
