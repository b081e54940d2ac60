/* kavtrace: the Volume Shadow Copy stores of an NTFS volume.
 *
 * Windows keeps each shadow copy as a store of the blocks that changed
 * since it was taken (libvshadow's "Volume Shadow Snapshot (VSS) format");
 * a store read over the current volume gives the volume as it was then.
 * libvshadow does that, in the reader program kavtrace-vss (libewf exports
 * clashing copies of libbfio, libcdata and libuna, see
 * src/vss-reader/main.c): the reader asks this process for the volume's
 * bytes and answers its reads of the stores. Each exchange has the
 * helpers' time limit (kavtrace/helper.h), and the reader their memory
 * limit.
 */
#ifndef KAVTRACE_VSS_H
#define KAVTRACE_VSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kavtrace/error.h"
#include "kavtrace/image.h"
#include "kavtrace/time.h"
#include "kavtrace/volume.h"

typedef struct kt_vss_store_info {
    int number;       /* 1-based, oldest first, as vshadowinfo numbers them */
    bool readable;    /* false: libvshadow could not open it (why says why) */
    char id[40];      /* store identifier GUID, lowercase */
    char copy_id[40]; /* shadow copy identifier */
    char set_id[40];  /* shadow copy set identifier */
    kt_time created;  /* the shadow copy's creation time, KT_TIME_NONE if unknown */
    int64_t size;     /* the volume's size when it was taken */
    uint32_t attributes;
    char why[256];
} kt_vss_store_info;

typedef struct kt_vss kt_vss;

/* Look for shadow copies on the NTFS volume vol of img (both borrowed;
 * they must outlive the result). A volume without any is KT_OK with
 * *out NULL (no reader is started when the volume header at 0x1e00 does
 * not have the VSS identifier). A reader that cannot be run, or that cannot read the
 * volume's catalog, is an error that says why. On success *out owns the
 * reader process; release with kt_vss_free. */
int kt_vss_open(kt_image *img, const kt_volume *vol, kt_vss **out, kt_error *err);
void kt_vss_free(kt_vss *vss);

size_t kt_vss_count(const kt_vss *vss);
/* Borrowed; lives as long as vss. i < kt_vss_count. */
const kt_vss_store_info *kt_vss_store(const kt_vss *vss, size_t i);

/* Read len bytes at off of the volume as store i holds it. Returns the
 * byte count or a negative code with err set (the reader's message). A
 * reader that died or broke the protocol fails every later read too. */
ssize_t kt_vss_read(kt_vss *vss, size_t i, int64_t off, void *buf, size_t len, kt_error *err);

#endif
