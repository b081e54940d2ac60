/* kavtrace: evidence containers, opened read-only.
 *
 * An evidence item is a raw image, a split raw image (.000/.001, .001/.002,
 * .aa/.ab), an EWF set (.E01, .E02, ...), a VMDK, a VHD/VHDX, or a
 * directory (a mounted or extracted filesystem root). The container is
 * recognised from its own bytes, not its name; formats that kavtrace cannot
 * read (QCOW, VDI, Ex01, archives, ...) are refused with their name.
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
    KT_IMG_DIR,
} kt_image_format;

/* Hard limits on what a container may claim. */
#define KT_IMAGE_MAX_SEGMENTS 4096

typedef struct kt_image_info {
    kt_image_format format;
    const char *format_name; /* "raw", "ewf", "vmdk", "vhd", "vhdx", "dir" */
    const char *format_desc; /* one human line */
    int64_t size;            /* media size in bytes (0 for a directory) */
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

/* Hash the whole media (SHA-256 and MD5, lowercase hex) by reading it end
 * to end; progress (may be NULL) is called with the bytes done so far.
 * A directory has no media: KT_EARG. */
typedef void (*kt_hash_progress)(void *ctx, int64_t done, int64_t total);
int kt_image_hash(kt_image *img, char sha256[65], char md5[33], kt_hash_progress progress,
                  void *ctx, kt_error *err);

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
