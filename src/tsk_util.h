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

/* A VMDK, VHD/VHDX or QCOW opened with libvmdk, libvhdi or libqcow and
 * handed to libtsk as an external image (vdisk.c). On success *out is
 * owned by the caller (tsk_img_close releases it); on refusal nothing is
 * left open and err gives the library's reason. */
int kt_vdisk_open(kt_image_format format, const char *path, TSK_IMG_INFO **out, kt_error *err);
/* Whether kt_vdisk_open reads format. */
bool kt_vdisk_reads(kt_image_format format);

#endif
