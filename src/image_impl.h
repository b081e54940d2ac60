/* Private: the containers kavtrace reads itself and hands to libtsk as
 * external images (tsk_img_open_external), for what libtsk's own readers
 * do not do: a raw image of exactly the parts kavtrace chose, and a
 * dynamic VHD whose footer is damaged. */
#ifndef KT_IMAGE_IMPL_H
#define KT_IMAGE_IMPL_H

#include <stdint.h>

#include "kavtrace/buf.h"
#include "kavtrace/error.h"
#include "tsk_util.h"

/* A raw image made of parts (a single file or block device, or the parts
 * of a split image) read one after the other, exactly as listed: libtsk's
 * own raw reader would look for sibling parts by itself. parts is
 * borrowed and must outlive the image; on success *out is released with
 * tsk_img_close. */
int kt_raw_img_open(const kt_strlist *parts, TSK_IMG_INFO **out, kt_error *err);

#endif
