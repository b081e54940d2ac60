/* EWF, VHD, VHDX and VMDK read through libewf, libvhdi and libvmdk, handed
 * to libtsk as an external image.
 *
 * EWF: libtsk's own reader keeps its libewf handle to itself, so a chunk
 * that fails its checksum while the scan reads it (libewf still returns
 * its bytes, as libtsk's reader does) could not be told; with the handle
 * here, kt_vdisk_checksum_errors says which sectors did.
 *
 * libtsk can open them itself, but its vhdi_open and vmdk_open, when the
 * library refuses a file, free their own structure and neither the library
 * handle nor their copy of the file names; and their read callbacks never
 * free the library's error object, so every failed read of a damaged
 * container (a grain or block past the end, a broken table) leaked. Here
 * every path frees what it made, and a failed read says what the library
 * said. */
#include <inttypes.h>
#include <libewf.h>
#include <libvhdi.h>
#include <libvmdk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsk_util.h"

typedef struct vdisk {
    TSK_IMG_INFO tsk; /* first: libtsk takes it for a TSK_IMG_INFO */
    libvhdi_file_t *vhdi;
    libvmdk_handle_t *vmdk;
    libewf_handle_t *ewf;
} vdisk;

/* libyal prints one line per level, innermost first: keep the first, which
 * names what actually failed. */
static void first_line(char *text)
{
    char *nl = strchr(text, '\n');
    if (nl)
        *nl = '\0';
}

static void vhdi_text(libvhdi_error_t **e, char *buf, size_t len)
{
    buf[0] = '\0';
    if (*e && libvhdi_error_backtrace_sprint(*e, buf, len) > 0)
        first_line(buf);
    libvhdi_error_free(e);
}

static void vmdk_text(libvmdk_error_t **e, char *buf, size_t len)
{
    buf[0] = '\0';
    if (*e && libvmdk_error_backtrace_sprint(*e, buf, len) > 0)
        first_line(buf);
    libvmdk_error_free(e);
}

static void ewf_text(libewf_error_t **e, char *buf, size_t len)
{
    buf[0] = '\0';
    if (*e && libewf_error_backtrace_sprint(*e, buf, len) > 0)
        first_line(buf);
    libewf_error_free(e);
}

static ssize_t vd_read(TSK_IMG_INFO *img, TSK_OFF_T off, char *buf, size_t len)
{
    vdisk *v = (vdisk *)img;
    char why[1024];
    ssize_t n;
    if (v->ewf) {
        libewf_error_t *e = NULL;
        n = libewf_handle_read_random(v->ewf, buf, len, (off64_t)off, &e);
        ewf_text(&e, why, sizeof why);
    } else if (v->vhdi) {
        libvhdi_error_t *e = NULL;
        n = libvhdi_file_read_buffer_at_offset(v->vhdi, buf, len, (off64_t)off, &e);
        vhdi_text(&e, why, sizeof why);
    } else {
        libvmdk_error_t *e = NULL;
        n = libvmdk_handle_read_buffer_at_offset(v->vmdk, buf, len, (off64_t)off, &e);
        vmdk_text(&e, why, sizeof why);
    }
    if (n < 0) {
        tsk_error_reset();
        tsk_error_set_errno(TSK_ERR_IMG_READ);
        tsk_error_set_errstr("%zu bytes at offset %" PRId64 ": %s", len, (int64_t)off,
                             why[0] ? why : "read failed");
    }
    return n;
}

static void vd_free(vdisk *v)
{
    if (v->vhdi) {
        libvhdi_file_close(v->vhdi, NULL);
        libvhdi_file_free(&v->vhdi, NULL);
    }
    if (v->vmdk) {
        libvmdk_handle_close(v->vmdk, NULL);
        libvmdk_handle_free(&v->vmdk, NULL);
    }
    if (v->ewf) {
        libewf_handle_close(v->ewf, NULL);
        libewf_handle_free(&v->ewf, NULL);
    }
    free(v);
}

static void vd_close(TSK_IMG_INFO *img)
{
    vd_free((vdisk *)img);
}

static void vd_imgstat(TSK_IMG_INFO *img, FILE *out)
{
    fprintf(out, "virtual disk, %" PRId64 " bytes\n", (int64_t)img->size);
}

/* Open the file with libvhdi (VHD, VHDX); false and why on refusal. The
 * handle is kept only when it opened. */
static bool open_vhdi(vdisk *v, const char *path, size64_t *size, char *why, size_t len)
{
    libvhdi_error_t *e = NULL;
    if (libvhdi_file_initialize(&v->vhdi, &e) != 1) {
        vhdi_text(&e, why, len);
        return false;
    }
    if (libvhdi_file_open(v->vhdi, path, LIBVHDI_OPEN_READ, &e) != 1) {
        vhdi_text(&e, why, len);
        libvhdi_file_free(&v->vhdi, NULL);
        return false;
    }
    if (libvhdi_file_get_media_size(v->vhdi, size, &e) != 1) {
        vhdi_text(&e, why, len);
        libvhdi_file_close(v->vhdi, NULL);
        libvhdi_file_free(&v->vhdi, NULL);
        return false;
    }
    return true;
}

/* The same with libvmdk: the descriptor, then its extent files. */
static bool open_vmdk(vdisk *v, const char *path, size64_t *size, char *why, size_t len)
{
    libvmdk_error_t *e = NULL;
    if (libvmdk_handle_initialize(&v->vmdk, &e) != 1) {
        vmdk_text(&e, why, len);
        return false;
    }
    if (libvmdk_handle_open(v->vmdk, path, LIBVMDK_OPEN_READ, &e) != 1) {
        vmdk_text(&e, why, len);
        libvmdk_handle_free(&v->vmdk, NULL);
        return false;
    }
    if (libvmdk_handle_open_extent_data_files(v->vmdk, &e) != 1 ||
        libvmdk_handle_get_media_size(v->vmdk, size, &e) != 1) {
        vmdk_text(&e, why, len);
        libvmdk_handle_close(v->vmdk, NULL);
        libvmdk_handle_free(&v->vmdk, NULL);
        return false;
    }
    return true;
}

int kt_vdisk_open(bool vmdk, const char *path, TSK_IMG_INFO **out, kt_error *err)
{
    vdisk *v = calloc(1, sizeof *v);
    if (v == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    size64_t size = 0;
    char why[1024];
    bool ok = vmdk ? open_vmdk(v, path, &size, why, sizeof why)
                   : open_vhdi(v, path, &size, why, sizeof why);
    int rc = KT_OK;
    if (!ok)
        rc = kt_error_set(err, KT_EFORMAT, "cannot open as %s: %s", vmdk ? "vmdk" : "vhd",
                          why[0] ? why : "refused");
    else if (size > (size64_t)INT64_MAX)
        rc = kt_error_set(err, KT_ELIMIT, "media size %" PRIu64 " out of range", (uint64_t)size);
    TSK_IMG_INFO *img = NULL;
    if (rc == KT_OK) {
        img = tsk_img_open_external(v, (TSK_OFF_T)size, 512, vd_read, vd_close, vd_imgstat);
        if (img == NULL)
            rc = kt_tsk_error(err, KT_EFORMAT, "cannot open");
    }
    if (rc) {
        vd_free(v);
        return rc;
    }
    *out = img;
    return KT_OK;
}

int kt_vdisk_open_ewf(const kt_strlist *segments, TSK_IMG_INFO **out, kt_error *err)
{
    vdisk *v = calloc(1, sizeof *v);
    if (v == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    libewf_error_t *e = NULL;
    char why[1024];
    size64_t size = 0;
    uint32_t bps = 0;
    int rc = KT_OK;
    if (libewf_handle_initialize(&v->ewf, &e) != 1 ||
        libewf_handle_open(v->ewf, segments->items, (int)segments->count, LIBEWF_OPEN_READ, &e) !=
            1 ||
        libewf_handle_get_media_size(v->ewf, &size, &e) != 1 ||
        libewf_handle_get_bytes_per_sector(v->ewf, &bps, &e) != 1) {
        ewf_text(&e, why, sizeof why);
        rc = kt_error_set(err, KT_EFORMAT, "cannot open as ewf: %s", why[0] ? why : "refused");
    } else if (size > (size64_t)INT64_MAX || bps == 0 || bps > 65536) {
        rc = kt_error_set(err, KT_ELIMIT,
                          "media size %" PRIu64 " or sector size %" PRIu32 " out of range",
                          (uint64_t)size, bps);
    }
    TSK_IMG_INFO *img = NULL;
    if (rc == KT_OK) {
        img = tsk_img_open_external(v, (TSK_OFF_T)size, bps, vd_read, vd_close, vd_imgstat);
        if (img == NULL)
            rc = kt_tsk_error(err, KT_EFORMAT, "cannot open");
    }
    if (rc) {
        vd_free(v);
        return rc;
    }
    *out = img;
    return KT_OK;
}

int kt_vdisk_checksum_errors(TSK_IMG_INFO *img, kt_sector_range *ranges, size_t max, size_t *count)
{
    vdisk *v = (vdisk *)img;
    *count = 0;
    uint32_t n = 0;
    libewf_error_t *e = NULL;
    if (v->ewf == NULL)
        return KT_OK;
    if (libewf_handle_get_number_of_checksum_errors(v->ewf, &n, &e) != 1) {
        libewf_error_free(&e);
        return KT_EIO;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint64_t first = 0, sectors = 0;
        if (libewf_handle_get_checksum_error(v->ewf, i, &first, &sectors, &e) != 1) {
            libewf_error_free(&e);
            continue;
        }
        if (*count < max)
            ranges[*count] = (kt_sector_range){first, sectors};
        (*count)++;
    }
    return KT_OK;
}
