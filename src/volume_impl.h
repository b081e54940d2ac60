/* Private: what volume.c shares with the volume systems read in files of
 * their own (volume_lvm.c). */
#ifndef KT_VOLUME_IMPL_H
#define KT_VOLUME_IMPL_H

#include "kavtrace/volume.h"
#include "tsk_util.h"

/* Name the filesystem at byte off of timg ("ntfs", "ext4", "xfs", ...), or
 * leave fs empty. Never keeps it open. */
void kt_volume_probe_fs(TSK_IMG_INFO *timg, int64_t off, char *fs, size_t len);

/* Append v to list (its index set); KT_ELIMIT past KT_VOLUME_MAX. */
int kt_volume_add(kt_volume_list *list, const kt_volume *v);

/* Whether the len bytes at off of timg start as an LVM2 physical volume
 * (a "LABELONE" label of type "LVM2 001" in one of its first 4 sectors). */
bool kt_lvm_is_pv(TSK_IMG_INFO *timg, int64_t off, int64_t len);

/* The logical volumes of the LVM2 physical volume of len bytes at off,
 * read with libvslvm, appended to list: each one whose extents lie in one
 * run on this physical volume is a volume of its own (scheme "lvm", its
 * VG/LV name, its filesystem probed). One that cannot be read in place (on
 * several physical volumes, striped, out of order, past the end) is a
 * warning of img naming it, as is a volume group libvslvm refuses. where
 * names the partition in those warnings. Returns how many volumes were
 * added holding a filesystem, or KT_ENOMEM / KT_ELIMIT. */
int kt_lvm_add_volumes(kt_image *img, TSK_IMG_INFO *timg, int64_t off, int64_t len,
                       const char *where, kt_volume_list *list);

/* An encrypted volume's header (crypt.c): its kind ("luks1", "luks2",
 * "bitlocker"), what `info` calls it (kind and identifiers), and why
 * kavtrace will not unlock it ("" when it may try). */
typedef struct kt_crypt_header {
    char kind[16];
    char what[160];
    char refusal[224];
} kt_crypt_header;

/* Whether the len bytes at off of timg start as an encrypted volume. */
bool kt_crypt_detect(TSK_IMG_INFO *timg, int64_t off, int64_t len, kt_crypt_header *out);

/* Try each key on the LUKS1 or BitLocker volume of len bytes at off of
 * timg (whose header kt_crypt_detect accepted). KT_OK: *out owns the unlocked volume
 * (kt_crypt_free; timg must outlive it) and *which is the key that
 * unlocked it; KT_ENOTFOUND: no key opens a key slot (or protector);
 * KT_EFORMAT: the header is not one kavtrace reads, or libluksde or libbde
 * refused the volume (why, which never holds a key); KT_ENOMEM. */
int kt_crypt_unlock(TSK_IMG_INFO *timg, int64_t off, int64_t len, const kt_keys *keys,
                    kt_crypt **out, size_t *which, char *why, size_t why_len);

/* Who decrypts the unlocked volume's payload: "libluksde", or "kavtrace"
 * (nettle) for what Debian's libluksde cannot read safely (static). */
const char *kt_crypt_decrypter(const kt_crypt *c);

/* Release an unlocked volume; NULL is a no-op. */
void kt_crypt_free(kt_crypt *c);

/* The unlocked volume's plaintext, as a libtsk image (borrowed: lives as
 * long as c). */
TSK_IMG_INFO *kt_crypt_tsk(const kt_crypt *c);

/* The media a filesystem reader opens for vol: the unlocked plaintext at
 * offset 0, or img's own at the volume's offset. NULL: img has no media
 * (a directory). */
TSK_IMG_INFO *kt_volume_media(kt_image *img, const kt_volume *vol, int64_t *offset);

#endif
