/* VHD, VHDX and VMDK read through libvhdi and libvmdk, handed to libtsk as
 * an external image.
 *
 * libtsk can open them itself, but its vhdi_open and vmdk_open, when the
 * library refuses a file, free their own structure and neither the library
 * handle nor their copy of the file names; and their read callbacks never
 * free the library's error object, so every failed read of a damaged
 * container (a grain or block past the end, a broken table) leaked. Here
 * every path frees what it made, and a failed read says what the library
 * said. */
#include <inttypes.h>
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

static ssize_t vd_read(TSK_IMG_INFO *img, TSK_OFF_T off, char *buf, size_t len)
{
    vdisk *v = (vdisk *)img;
    char why[1024];
    ssize_t n;
    if (v->vhdi) {
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
