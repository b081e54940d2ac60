/* Private: the containers kavtrace reads itself and hands to libtsk as
 * external images (tsk_img_open_external), for what libtsk's own readers
 * do not do: a raw image of exactly the parts kavtrace chose, and a
 * dynamic VHD whose footer is damaged. */
#ifndef KT_IMAGE_IMPL_H
#define KT_IMAGE_IMPL_H

#include <stddef.h>
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

/* What is wrong with a VHD footer (signature, checksum), or NULL. */
const char *kt_vhd_footer_problem(const uint8_t *footer, size_t len);

/* A dynamic VHD at path read with footer, the footer's copy at offset 0
 * (512 bytes, checked by the caller), instead of the damaged one at the
 * end. path is borrowed and must outlive the image; on success *out is
 * released with tsk_img_close. */
int kt_vhd_img_open(const char *path, const uint8_t *footer, TSK_IMG_INFO **out, kt_error *err);

#endif
