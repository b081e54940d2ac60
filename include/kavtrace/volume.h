/* kavtrace: volumes of an evidence item.
 *
 * Every partition of an MBR (with extended partitions) or GPT table, a bare
 * filesystem with no table, the volumes inside an APFS container, and the
 * collected roots of a triage collection (a KAPE drive folder, a
 * Velociraptor upload drive, UAC's "[root]"). Each volume says which
 * filesystem libtsk recognises in it, if any.
 */
#ifndef KAVTRACE_VOLUME_H
#define KAVTRACE_VOLUME_H

#include <stddef.h>
#include <stdint.h>

#include "kavtrace/error.h"
#include "kavtrace/image.h"
#include "kavtrace/keys.h"
#include "kavtrace/time.h"

#define KT_VOLUME_MAX 1024

/* An unlocked encrypted volume (opaque): owned by the kt_volume_list. */
typedef struct kt_crypt kt_crypt;

typedef struct kt_volume {
    int index;           /* position in the list, 0-based */
    int64_t offset;      /* bytes from the start of the media */
    int64_t length;      /* bytes */
    char scheme[16];     /* "gpt", "dos", "none", "apfs", "dir", "kape", "velociraptor", ... */
    char desc[192];      /* partition table description or volume name */
    char fs[16];         /* "ntfs", "fat32", "ext4", "apfs", ... or "" */
    int64_t pool_block;  /* APFS: the volume's block in the container; -1 otherwise */
    int collection_root; /* a triage collection's root N+1 (kt_image's collection); 0: none */
    /* A Volume Shadow Copy of the volume `index` (kavtrace/vss.h): the
     * store's number (1-based, oldest first), identifier and creation
     * time. store 0: the volume itself, as acquired. */
    int store;
    char store_id[40];
    kt_time store_created;
    /* An encrypted volume: its kind ("luks1", "luks2", "bitlocker"; ""
     * not encrypted) and, once unlocked with a key given, its plaintext
     * (borrowed from the list; NULL: locked), in which fs was probed. */
    char encryption[16];
    const kt_crypt *crypt;
} kt_volume;

typedef struct kt_volume_list {
    kt_volume *items;
    size_t count;
    char scheme[16];   /* the partitioning found: "gpt", "dos", "none", "dir", "kape", ... */
    kt_crypt **crypts; /* the unlocked volumes' plaintexts, owned */
    size_t ncrypts;
} kt_volume_list;

/* Find the volumes of img. Problems with single volumes (a corrupt GPT, a
 * partition whose numbers overflow, end before they start or point past
 * the end of the media: skipped; one that runs past the end: clamped to
 * it) become image warnings; every listed volume lies inside the media.
 * An error is returned only when nothing at all is recognised. On success
 * *out owns its items (kt_volume_list_release). */
int kt_volumes_scan(kt_image *img, kt_volume_list *out, kt_error *err);

/* The same, trying each of keys (NULL: none) on every encrypted volume
 * found (a LUKS1 volume kavtrace reads, see docs/evidence-access.md). An
 * unlocked volume is listed as a volume of its own kind with the
 * filesystem in its plaintext; one no key unlocks, one kavtrace refuses
 * (LUKS2, a cipher or key size libluksde does not read safely, BitLocker)
 * and one without keys are listed with their kind and identifiers and no
 * filesystem, and an image warning names each and says why. No message
 * holds a key. */
int kt_volumes_scan_keys(kt_image *img, const kt_keys *keys, kt_volume_list *out, kt_error *err);
void kt_volume_list_release(kt_volume_list *list);

#endif
