/* kavtrace: what one evidence item holds, opened once: the image, its
 * volumes, each volume's filesystem and the system on it.
 *
 *   image -> volumes -> filesystems -> systems
 *
 * `kavtrace info` shows an inventory; the scan collects from the systems
 * in one. Every volume with a filesystem kavtrace recognises is opened and
 * looked at for a system. A filesystem that will not open, and a system's
 * unreadable details, are warnings of that volume; the other volumes are
 * still opened.
 *
 * Every NTFS volume's Volume Shadow Copies (kavtrace/vss.h) are looked for
 * too, unless KT_INVENTORY_NO_VSS: each store's volume is opened and
 * looked at for a system like the volume itself. A store that cannot be
 * read, or whose filesystem will not open, is a warning of the volume.
 */
#ifndef KAVTRACE_INVENTORY_H
#define KAVTRACE_INVENTORY_H

#include <stddef.h>

#include "kavtrace/buf.h"
#include "kavtrace/error.h"
#include "kavtrace/fs.h"
#include "kavtrace/diag.h"
#include "kavtrace/image.h"
#include "kavtrace/system.h"
#include "kavtrace/volume.h"
#include "kavtrace/vss.h"

/* One shadow copy store of a volume, opened. */
typedef struct kt_inventory_store {
    kt_volume volume;              /* the volume's description, with the store's number, identifier
                                      and creation time */
    const kt_vss_store_info *info; /* borrowed from the volume's vss */
    kt_fs *fs;                     /* owned; NULL when it could not be opened (see warnings) */
    char fs_type[16];
    kt_system sys; /* sys.os == KT_OS_NONE: no system in the store */
} kt_inventory_store;

typedef struct kt_inventory_volume {
    const kt_volume *volume;    /* borrowed from the inventory's vols */
    kt_fs *fs;                  /* owned; NULL when the volume has no filesystem kavtrace
                                   recognises, or it could not be opened (see warnings) */
    char fs_type[16];           /* the opened filesystem's kt_fs_type_name; "" without fs */
    kt_system sys;              /* sys.os == KT_OS_NONE: no system on this volume */
    kt_diags warnings;          /* why fs could not be opened, or the system's unreadable
                                   details; the same for its shadow copies */
    kt_vss *vss;                /* owned; NULL: no shadow copies, or not looked for */
    kt_inventory_store *stores; /* kt_vss_count(vss) entries, oldest first */
    size_t nstores;
} kt_inventory_volume;

/* The whole media's hash, once kt_inventory_hash has read it, and what the
 * container's stored hashes (EWF) say against it. */
typedef struct kt_media_digest {
    kt_hash_status status; /* KT_HASH_NOT_COMPUTED until kt_inventory_hash */
    /* The media's digests, lowercase hex: "" unless status is
     * KT_HASH_COMPLETE. An incomplete read's digests are not the media's
     * and are not kept. */
    char sha256[65];
    char md5[33];
    char sha1[41];
    char incomplete[256];         /* what could not be read; "" unless KT_HASH_INCOMPLETE */
    kt_verification verification; /* the stored hashes against the computed ones */
    char verification_note[256];  /* why, also before hashing ("the media was not hashed") */
} kt_media_digest;

typedef struct kt_inventory {
    char *path;                   /* the evidence as given */
    kt_image *img;                /* NULL when the evidence could not be opened */
    kt_volume_list vols;          /* empty when no volume could be found */
    kt_inventory_volume *volumes; /* vols.count entries, in the order of vols.items */
    size_t nsystems;              /* volumes with a system (sys.os is not KT_OS_NONE, or
                                     one of its shadow copies has one) */
    kt_media_digest digest;
} kt_inventory;

/* Open the evidence at path and take its inventory into *inv (any previous
 * content is overwritten, not released). An image that cannot be opened,
 * or in which no volume at all is found, is an error ("evidence 'PATH':
 * ..."); inv then keeps what was found before it (the image, when only the
 * volumes failed), for the caller to show. Out of memory is an error too.
 * Release with kt_inventory_release, after an error as well. */
int kt_inventory_init(kt_inventory *inv, const char *path, kt_error *err);
/* The same with flags: KT_INVENTORY_NO_VSS leaves shadow copies alone;
 * and keys (NULL: none), tried on every encrypted volume
 * (kt_volumes_scan_keys; borrowed for the call only). An unlocked volume
 * is then read like any other (its shadow copies excepted). */
#define KT_INVENTORY_NO_VSS 0x1
int kt_inventory_open(kt_inventory *inv, const char *path, unsigned flags, const kt_keys *keys,
                      kt_error *err);

/* Close every filesystem and the image and free everything; inv is left
 * zeroed. NULL is a no-op. */
void kt_inventory_release(kt_inventory *inv);

/* Append every warning to out, in order: the image's (container and
 * volume problems), then each volume's. Returns 0 or KT_ENOMEM. */
int kt_inventory_warnings(const kt_inventory *inv, kt_diags *out);
/* The image's warnings alone; one volume's alone. */
int kt_inventory_image_warnings(const kt_inventory *inv, kt_diags *out);
int kt_inventory_volume_warnings(const kt_inventory_volume *iv, kt_diags *out);

/* Read the whole media once for its SHA-256, MD5 and SHA-1 into
 * inv->digest, and check an EWF set's stored MD5 and SHA-1 against them
 * (kt_image_hash). Bytes that cannot be read are no error: the digest is
 * then KT_HASH_INCOMPLETE, with no digests and the reason, and the stored
 * hashes are not verified. progress (may be NULL) is called with the bytes
 * done so far. A directory has no media: nothing is read and 0 is returned
 * with the digest left as it was. Errors ("evidence 'PATH': ...", the
 * digest left as it was): out of memory, an EWF set libewf will not open. */
int kt_inventory_hash(kt_inventory *inv, kt_hash_progress progress, void *progress_ctx,
                      kt_error *err);

#endif
