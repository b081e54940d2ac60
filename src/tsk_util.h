/* Private: the one place libtsk's error convention is translated. */
#ifndef KT_TSK_UTIL_H
#define KT_TSK_UTIL_H

#include <tsk/libtsk.h>

#include "kavtrace/error.h"
#include "kavtrace/image.h"

/* Set err from libtsk's thread-local error (if any) with context, reset
 * libtsk's error, and return code. */
int kt_tsk_error(kt_error *err, int code, const char *context);

/* The libtsk image of an opened kt_image (borrowed), NULL for a directory. */
TSK_IMG_INFO *kt_image_tsk(kt_image *img);

/* The libtsk filesystem behind fs (borrowed, lives as long as fs), NULL
 * when fs is not read by libtsk (a directory, XFS). For readers of what
 * kt_fs does not give (the NTFS change journal's runs, MFT entries by
 * number). */
struct kt_fs;
TSK_FS_INFO *kt_fs_tsk_info(struct kt_fs *fs);

/* A VMDK, VHD/VHDX or QCOW opened with libvmdk, libvhdi or libqcow and
 * handed to libtsk as an external image (vdisk.c). On success *out is
 * owned by the caller (tsk_img_close releases it); on refusal nothing is
 * left open and err gives the library's reason. */
int kt_vdisk_open(kt_image_format format, const char *path, TSK_IMG_INFO **out, kt_error *err);
/* Whether kt_vdisk_open reads format. */
bool kt_vdisk_reads(kt_image_format format);

/* An EWF set (its segment files, borrowed) read through libewf, handed to
 * libtsk the same way; the media reads as libtsk's own EWF reader would. */
int kt_vdisk_open_ewf(const kt_strlist *segments, TSK_IMG_INFO **out, kt_error *err);

typedef struct kt_sector_range {
    uint64_t first, count;
} kt_sector_range;

/* The sector ranges whose chunks failed their checksum (or were missing)
 * in the reads made so far of an image from kt_vdisk_open_ewf: up to max
 * of them into ranges, *count the total. Another image: none. Returns 0,
 * or KT_EIO when libewf cannot tell. */
int kt_vdisk_checksum_errors(TSK_IMG_INFO *img, kt_sector_range *ranges, size_t max, size_t *count);

#endif
