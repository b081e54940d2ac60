/* EWF, VHD, VHDX, VMDK and QCOW read through libewf, libvhdi, libvmdk and
 * libqcow, handed to libtsk as an external image.
 *
 * EWF: libtsk's own reader keeps its libewf handle to itself, so a chunk
 * that fails its checksum while the scan reads it (libewf still returns
 * its bytes, as libtsk's reader does) could not be told; with the handle
 * here, kt_vdisk_checksum_errors says which sectors did.
 *
 * libtsk can open VHD and VMDK itself, but its vhdi_open and vmdk_open,
 * when the library refuses a file, free their own structure and neither
 * the library handle nor their copy of the file names; and their read
 * callbacks never free the library's error object, so every failed read of
 * a damaged container (a grain or block past the end, a broken table)
 * leaked. Here every path frees what it made, and a failed read says what
 * the library said. libtsk has no QCOW reader at all.
 *
 * A QCOW overlay (a backing file named in its header) holds only the
 * clusters written after the snapshot: read alone its other clusters are
 * zeros, so it is refused, naming the backing file. So is an encrypted
 * QCOW (no key to give). */
#include <inttypes.h>
#include <libewf.h>
#include <libqcow.h>
#include <libvhdi.h>
#include <libvmdk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsk_util.h"

/* One library: open the file (false and why on refusal, nothing left
 * open), read at an offset, close. */
typedef struct vdisk_lib {
    kt_image_format format;
    const char *name;
    bool (*open)(const char *path, void **h, size64_t *size, char *why, size_t len);
    ssize_t (*read)(void *h, char *buf, size_t len, int64_t off, char *why, size_t why_len);
    void (*close)(void *h);
} vdisk_lib;

typedef struct vdisk {
    TSK_IMG_INFO tsk; /* first: libtsk takes it for a TSK_IMG_INFO */
    const vdisk_lib *lib;
    void *h;
} vdisk;

/* libyal prints one line per level, innermost first: keep the first, which
 * names what actually failed. */
static void first_line(char *text)
{
    char *nl = strchr(text, '\n');
    if (nl)
        *nl = '\0';
}

#define ERROR_TEXT(lib)                                                                            \
    static void lib##_text(lib##_error_t **e, char *buf, size_t len)                               \
    {                                                                                              \
        buf[0] = '\0';                                                                             \
        if (*e && lib##_error_backtrace_sprint(*e, buf, len) > 0)                                  \
            first_line(buf);                                                                       \
        lib##_error_free(e);                                                                       \
    }
ERROR_TEXT(libvhdi)
ERROR_TEXT(libvmdk)
ERROR_TEXT(libqcow)
ERROR_TEXT(libewf)
#undef ERROR_TEXT

/* ---- libvhdi: VHD, VHDX ---- */

static bool vhdi_open(const char *path, void **h, size64_t *size, char *why, size_t len)
{
    libvhdi_file_t *f = NULL;
    libvhdi_error_t *e = NULL;
    if (libvhdi_file_initialize(&f, &e) != 1) {
        libvhdi_text(&e, why, len);
        return false;
    }
    if (libvhdi_file_open(f, path, LIBVHDI_OPEN_READ, &e) != 1) {
        libvhdi_text(&e, why, len);
        libvhdi_file_free(&f, NULL);
        return false;
    }
    if (libvhdi_file_get_media_size(f, size, &e) != 1) {
        libvhdi_text(&e, why, len);
        libvhdi_file_close(f, NULL);
        libvhdi_file_free(&f, NULL);
        return false;
    }
    *h = f;
    return true;
}

static ssize_t vhdi_read(void *h, char *buf, size_t len, int64_t off, char *why, size_t why_len)
{
    libvhdi_error_t *e = NULL;
    ssize_t n = libvhdi_file_read_buffer_at_offset(h, buf, len, (off64_t)off, &e);
    libvhdi_text(&e, why, why_len);
    return n;
}

static void vhdi_close(void *h)
{
    libvhdi_file_t *f = h;
    libvhdi_file_close(f, NULL);
    libvhdi_file_free(&f, NULL);
}

/* ---- libvmdk: the descriptor, then its extent files ---- */

static bool vmdk_open(const char *path, void **h, size64_t *size, char *why, size_t len)
{
    libvmdk_handle_t *f = NULL;
    libvmdk_error_t *e = NULL;
    if (libvmdk_handle_initialize(&f, &e) != 1) {
        libvmdk_text(&e, why, len);
        return false;
    }
    if (libvmdk_handle_open(f, path, LIBVMDK_OPEN_READ, &e) != 1) {
        libvmdk_text(&e, why, len);
        libvmdk_handle_free(&f, NULL);
        return false;
    }
    if (libvmdk_handle_open_extent_data_files(f, &e) != 1 ||
        libvmdk_handle_get_media_size(f, size, &e) != 1) {
        libvmdk_text(&e, why, len);
        libvmdk_handle_close(f, NULL);
        libvmdk_handle_free(&f, NULL);
        return false;
    }
    *h = f;
    return true;
}

static ssize_t vmdk_read(void *h, char *buf, size_t len, int64_t off, char *why, size_t why_len)
{
    libvmdk_error_t *e = NULL;
    ssize_t n = libvmdk_handle_read_buffer_at_offset(h, buf, len, (off64_t)off, &e);
    libvmdk_text(&e, why, why_len);
    return n;
}

static void vmdk_close(void *h)
{
    libvmdk_handle_t *f = h;
    libvmdk_handle_close(f, NULL);
    libvmdk_handle_free(&f, NULL);
}

/* ---- libqcow: QCOW versions 1 to 3 ---- */

/* Why a QCOW that opened cannot be read alone, or "" when it can. */
static void qcow_refusal(libqcow_file_t *f, char *why, size_t len)
{
    why[0] = '\0';
    size_t n = 0;
    if (libqcow_file_get_utf8_backing_filename_size(f, &n, NULL) == 1 && n > 1) {
        char name[512] = "";
        if (n <= sizeof name &&
            libqcow_file_get_utf8_backing_filename(f, (uint8_t *)name, n, NULL) != 1)
            name[0] = '\0';
        snprintf(why, len,
                 "an overlay on the backing file '%s': it holds only what changed since, and "
                 "kavtrace does not read backing files (give the merged image: qemu-img "
                 "convert -O raw)",
                 name[0] ? name : "(name too long)");
        return;
    }
    uint32_t method = LIBQCOW_ENCRYPTION_METHOD_NONE;
    if (libqcow_file_get_encryption_method(f, &method, NULL) == 1 &&
        method != LIBQCOW_ENCRYPTION_METHOD_NONE)
        snprintf(why, len, "encrypted (method %" PRIu32 "): kavtrace takes no QCOW key", method);
}

static bool qcow_open(const char *path, void **h, size64_t *size, char *why, size_t len)
{
    libqcow_file_t *f = NULL;
    libqcow_error_t *e = NULL;
    if (libqcow_file_initialize(&f, &e) != 1) {
        libqcow_text(&e, why, len);
        return false;
    }
    if (libqcow_file_open(f, path, LIBQCOW_OPEN_READ, &e) != 1) {
        libqcow_text(&e, why, len);
        libqcow_file_free(&f, NULL);
        return false;
    }
    qcow_refusal(f, why, len);
    if (why[0] == '\0' && libqcow_file_get_media_size(f, size, &e) != 1)
        libqcow_text(&e, why, len);
    if (why[0]) {
        libqcow_file_close(f, NULL);
        libqcow_file_free(&f, NULL);
        return false;
    }
    *h = f;
    return true;
}

static ssize_t qcow_read(void *h, char *buf, size_t len, int64_t off, char *why, size_t why_len)
{
    libqcow_error_t *e = NULL;
    ssize_t n = libqcow_file_read_buffer_at_offset(h, buf, len, (off64_t)off, &e);
    libqcow_text(&e, why, why_len);
    return n;
}

static void qcow_close(void *h)
{
    libqcow_file_t *f = h;
    libqcow_file_close(f, NULL);
    libqcow_file_free(&f, NULL);
}

static const vdisk_lib libs[] = {
    {.format = KT_IMG_VHD,
     .name = "vhd",
     .open = vhdi_open,
     .read = vhdi_read,
     .close = vhdi_close},
    {.format = KT_IMG_VHDX,
     .name = "vhdx",
     .open = vhdi_open,
     .read = vhdi_read,
     .close = vhdi_close},
    {.format = KT_IMG_VMDK,
     .name = "vmdk",
     .open = vmdk_open,
     .read = vmdk_read,
     .close = vmdk_close},
    {.format = KT_IMG_QCOW,
     .name = "qcow",
     .open = qcow_open,
     .read = qcow_read,
     .close = qcow_close},
};

/* ---- libewf: an EWF set, opened from its segment list ---- */

static ssize_t ewf_read(void *h, char *buf, size_t len, int64_t off, char *why, size_t why_len)
{
    libewf_error_t *e = NULL;
    ssize_t n = libewf_handle_read_random(h, buf, len, (off64_t)off, &e);
    libewf_text(&e, why, why_len);
    return n;
}

static void ewf_close(void *h)
{
    libewf_handle_t *f = h;
    libewf_handle_close(f, NULL);
    libewf_handle_free(&f, NULL);
}

/* Not in libs: opened by kt_vdisk_open_ewf, from many files. */
static const vdisk_lib ewf_lib = {
    .format = KT_IMG_EWF, .name = "ewf", .open = NULL, .read = ewf_read, .close = ewf_close};

static ssize_t vd_read(TSK_IMG_INFO *img, TSK_OFF_T off, char *buf, size_t len)
{
    vdisk *v = (vdisk *)img;
    char why[1024];
    ssize_t n = v->lib->read(v->h, buf, len, (int64_t)off, why, sizeof why);
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
    if (v->h)
        v->lib->close(v->h);
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

bool kt_vdisk_reads(kt_image_format format)
{
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++)
        if (libs[i].format == format)
            return true;
    return false;
}

int kt_vdisk_open(kt_image_format format, const char *path, TSK_IMG_INFO **out, kt_error *err)
{
    const vdisk_lib *lib = NULL;
    for (size_t i = 0; i < sizeof libs / sizeof libs[0] && lib == NULL; i++)
        if (libs[i].format == format)
            lib = &libs[i];
    if (lib == NULL)
        return kt_error_set(err, KT_EARG, "no virtual-disk library for this format");
    vdisk *v = calloc(1, sizeof *v);
    if (v == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    v->lib = lib;
    size64_t size = 0;
    char why[1024] = "";
    int rc = KT_OK;
    if (!lib->open(path, &v->h, &size, why, sizeof why))
        rc = kt_error_set(err, KT_EFORMAT, "cannot open as %s: %s", lib->name,
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
    v->lib = &ewf_lib;
    libewf_handle_t *h = NULL;
    libewf_error_t *e = NULL;
    char why[1024];
    size64_t size = 0;
    uint32_t bps = 0;
    int rc = KT_OK;
    if (libewf_handle_initialize(&h, &e) != 1) {
        libewf_text(&e, why, sizeof why);
        rc = kt_error_set(err, KT_EFORMAT, "cannot open as ewf: %s", why[0] ? why : "refused");
    } else if (libewf_handle_open(h, segments->items, (int)segments->count, LIBEWF_OPEN_READ, &e) !=
               1) {
        libewf_text(&e, why, sizeof why);
        libewf_handle_free(&h, NULL);
        rc = kt_error_set(err, KT_EFORMAT, "cannot open as ewf: %s", why[0] ? why : "refused");
    } else {
        v->h = h;
        if (libewf_handle_get_media_size(h, &size, &e) != 1 ||
            libewf_handle_get_bytes_per_sector(h, &bps, &e) != 1) {
            libewf_text(&e, why, sizeof why);
            rc = kt_error_set(err, KT_EFORMAT, "cannot open as ewf: %s", why);
        } else if (size > (size64_t)INT64_MAX || bps == 0 || bps > 65536) {
            rc = kt_error_set(err, KT_ELIMIT,
                              "media size %" PRIu64 " or sector size %" PRIu32 " out of range",
                              (uint64_t)size, bps);
        }
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
    if (v->lib != &ewf_lib)
        return KT_OK;
    uint32_t n = 0;
    libewf_error_t *e = NULL;
    if (libewf_handle_get_number_of_checksum_errors(v->h, &n, &e) != 1) {
        libewf_error_free(&e);
        return KT_EIO;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint64_t first = 0, sectors = 0;
        if (libewf_handle_get_checksum_error(v->h, i, &first, &sectors, &e) != 1) {
            libewf_error_free(&e);
            continue;
        }
        if (*count < max)
            ranges[*count] = (kt_sector_range){first, sectors};
        (*count)++;
    }
    return KT_OK;
}
