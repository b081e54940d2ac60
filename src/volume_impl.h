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

#endif
