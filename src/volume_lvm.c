/* LVM2 logical volumes, read with libvslvm (volume_impl.h).
 *
 * libvslvm reads the physical volume's label and its volume group's text
 * metadata (through a libbfio handle over the partition, in whatever
 * container holds it). A logical volume whose segments are each one
 * stripe on this physical volume, in one ascending run of extents, lies
 * in the media as one range: the data area's start (pe_start, from the
 * PV header: libvslvm does not give it) plus its first extent's offset.
 * Such a volume is read in place like a partition. The rest are named in
 * a warning and not scanned: kavtrace does not assemble a volume from
 * several ranges or devices. */
#include "bfio_img.h" /* first: libvslvm.h's libbfio entry points */

#include <inttypes.h>
#include <libvslvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kavtrace/bytes.h"
#include "volume_impl.h"

KT_LIBYAL_TEXT(libvslvm)

/* Limits on what the metadata may claim. */
#define LVM_MAX_LVS 256
#define LVM_MAX_SEGMENTS 1024

/* The label: "LABELONE" at the start of one of the first 4 sectors, its
 * own sector number at 8, the PV header's offset in it at 20, "LVM2 001"
 * at 24. The PV header: the PV's UUID (32), the device size (8), then
 * the data areas as (offset, size) pairs from the start of the PV. */
static bool label_of(TSK_IMG_INFO *timg, int64_t off, int64_t len, uint8_t *sectors, size_t *at)
{
    if (len < 4 * 512 || tsk_img_read(timg, (TSK_OFF_T)off, (char *)sectors, 4 * 512) != 4 * 512) {
        tsk_error_reset();
        return false;
    }
    for (size_t s = 0; s < 4; s++) {
        const uint8_t *l = sectors + 512 * s;
        uint64_t num = 0;
        if (memcmp(l, "LABELONE", 8) == 0 && memcmp(l + 24, "LVM2 001", 8) == 0 &&
            kt_rd_le64(l, 512, 8, &num) && num == s) {
            *at = 512 * s;
            return true;
        }
    }
    return false;
}

bool kt_lvm_is_pv(TSK_IMG_INFO *timg, int64_t off, int64_t len)
{
    uint8_t sectors[4 * 512];
    size_t at = 0;
    return label_of(timg, off, len, sectors, &at);
}

/* pe_start in bytes, and the PV's UUID (32 characters, no dashes). */
static bool pv_header(TSK_IMG_INFO *timg, int64_t off, int64_t len, uint64_t *pe_start,
                      char uuid[33])
{
    uint8_t sectors[4 * 512];
    size_t at = 0;
    uint32_t hdr = 0;
    if (!label_of(timg, off, len, sectors, &at) ||
        !kt_rd_le32(sectors, sizeof sectors, at + 20, &hdr))
        return false;
    size_t pv = at + hdr;
    if (pv + 32 + 8 + 16 > sizeof sectors ||
        !kt_rd_le64(sectors, sizeof sectors, pv + 40, pe_start))
        return false;
    memcpy(uuid, sectors + pv, 32);
    uuid[32] = '\0';
    return true;
}

static void undash(const char *in, char *out, size_t len)
{
    size_t n = 0;
    for (; *in && n + 1 < len; in++)
        if (*in != '-')
            out[n++] = *in;
    out[n] = '\0';
}

/* Where logical volume lv lies in this PV's data area (bytes from its
 * start), or why it cannot be read in place. */
static bool lv_range(libvslvm_logical_volume_t *lv, const char *pv_name, uint64_t *start,
                     uint64_t *size, char *why, size_t why_len)
{
    int nseg = 0;
    if (libvslvm_logical_volume_get_number_of_segments(lv, &nseg, NULL) != 1 || nseg <= 0 ||
        nseg > LVM_MAX_SEGMENTS) {
        snprintf(why, why_len, "%d segments", nseg);
        return false;
    }
    uint64_t next_lv = 0, next_pv = 0;
    bool ok = true;
    for (int i = 0; i < nseg && ok; i++) {
        libvslvm_segment_t *seg = NULL;
        libvslvm_stripe_t *st = NULL;
        off64_t seg_off = 0, data = 0;
        size64_t seg_size = 0;
        int nstripes = 0;
        char name[64] = "";
        ok = libvslvm_logical_volume_get_segment(lv, i, &seg, NULL) == 1 &&
             libvslvm_segment_get_offset(seg, &seg_off, NULL) == 1 &&
             libvslvm_segment_get_size(seg, &seg_size, NULL) == 1 &&
             libvslvm_segment_get_number_of_stripes(seg, &nstripes, NULL) == 1;
        if (ok && nstripes != 1) {
            snprintf(why, why_len, "segment %d has %d stripes", i + 1, nstripes);
            ok = false;
        }
        if (ok)
            ok = libvslvm_segment_get_stripe(seg, 0, &st, NULL) == 1 &&
                 libvslvm_stripe_get_physical_volume_name(st, name, sizeof name, NULL) == 1 &&
                 libvslvm_stripe_get_data_area_offset(st, &data, NULL) == 1;
        if (ok && strcmp(name, pv_name) != 0) {
            snprintf(why, why_len, "segment %d lies on another physical volume (%s)", i + 1, name);
            ok = false;
        }
        if (ok && (seg_off < 0 || data < 0 || (uint64_t)seg_off != next_lv ||
                   (i > 0 && (uint64_t)data != next_pv))) {
            snprintf(why, why_len, "its %d segments are not one run of extents", nseg);
            ok = false;
        }
        if (ok) {
            if (i == 0)
                *start = (uint64_t)data;
            next_lv = (uint64_t)seg_off + seg_size;
            next_pv = (uint64_t)data + seg_size;
        } else if (!why[0]) {
            snprintf(why, why_len, "segment %d cannot be read", i + 1);
        }
        libvslvm_stripe_free(&st, NULL);
        libvslvm_segment_free(&seg, NULL);
    }
    *size = next_lv;
    return ok;
}

/* The name of this PV in the volume group ("pv0", ...), by its UUID. */
static bool pv_name_of(libvslvm_volume_group_t *vg, const char *uuid, char *name, size_t len)
{
    int n = 0;
    if (libvslvm_volume_group_get_number_of_physical_volumes(vg, &n, NULL) != 1)
        return false;
    for (int i = 0; i < n && i < LVM_MAX_LVS; i++) {
        libvslvm_physical_volume_t *pv = NULL;
        char id[80] = "", plain[80];
        bool found = libvslvm_volume_group_get_physical_volume(vg, i, &pv, NULL) == 1 &&
                     libvslvm_physical_volume_get_identifier(pv, id, sizeof id, NULL) == 1;
        undash(id, plain, sizeof plain);
        found = found && strcmp(plain, uuid) == 0 &&
                libvslvm_physical_volume_get_name(pv, name, len, NULL) == 1;
        libvslvm_physical_volume_free(&pv, NULL);
        if (found)
            return true;
    }
    return false;
}

static bool is_swap(TSK_IMG_INFO *timg, int64_t off)
{
    char sig[10];
    bool swap = tsk_img_read(timg, (TSK_OFF_T)(off + 4096 - 10), sig, sizeof sig) == sizeof sig &&
                memcmp(sig, "SWAPSPACE2", 10) == 0;
    tsk_error_reset();
    return swap;
}

int kt_lvm_add_volumes(kt_image *img, TSK_IMG_INFO *timg, int64_t off, int64_t len,
                       const char *where, kt_volume_list *list)
{
    uint64_t pe_start = 0;
    char uuid[33];
    if (!pv_header(timg, off, len, &pe_start, uuid) || pe_start >= (uint64_t)len) {
        kt_image_warn(img, "%s: an LVM2 physical volume whose header is damaged: not scanned",
                      where);
        return 0;
    }
    kt_error e = {0};
    libbfio_handle_t *io = NULL;
    if (kt_bfio_img_open(timg, off, len, &io, &e))
        return KT_ENOMEM;
    libvslvm_handle_t *h = NULL;
    libvslvm_volume_group_t *vg = NULL;
    libvslvm_error_t *le = NULL;
    char why[512] = "", vgname[64] = "", pvname[64] = "";
    int with_fs = 0;
    if (libvslvm_handle_initialize(&h, &le) != 1 ||
        libvslvm_handle_open_file_io_handle(h, io, LIBVSLVM_OPEN_READ, &le) != 1 ||
        libvslvm_handle_get_volume_group(h, &vg, &le) != 1 ||
        libvslvm_volume_group_get_name(vg, vgname, sizeof vgname, &le) != 1) {
        libvslvm_text(&le, why, sizeof why);
        kt_image_warn(img,
                      "%s: LVM2 physical volume, but its volume group cannot be read (%s): "
                      "not scanned",
                      where, why[0] ? why : "refused");
        goto out;
    }
    if (!pv_name_of(vg, uuid, pvname, sizeof pvname)) {
        kt_image_warn(img,
                      "%s: LVM2 physical volume %s is not in the metadata of its volume "
                      "group '%s': not scanned",
                      where, uuid, vgname);
        goto out;
    }
    int nlv = 0;
    libvslvm_volume_group_get_number_of_logical_volumes(vg, &nlv, NULL);
    if (nlv < 0 || nlv > LVM_MAX_LVS) {
        kt_image_warn(img, "%s: volume group '%s' claims %d logical volumes: not scanned", where,
                      vgname, nlv);
        goto out;
    }
    uint64_t area = (uint64_t)len - pe_start;
    for (int i = 0; i < nlv; i++) {
        libvslvm_logical_volume_t *lv = NULL;
        char lvname[64] = "?";
        uint64_t start = 0, size = 0;
        why[0] = '\0';
        if (libvslvm_volume_group_get_logical_volume(vg, i, &lv, &le) != 1) {
            libvslvm_text(&le, why, sizeof why);
            kt_image_warn(img, "%s: logical volume %d of '%s' cannot be read (%s): not scanned",
                          where, i + 1, vgname, why);
            continue;
        }
        libvslvm_logical_volume_get_name(lv, lvname, sizeof lvname, NULL);
        bool ok = lv_range(lv, pvname, &start, &size, why, sizeof why);
        libvslvm_logical_volume_free(&lv, NULL);
        if (ok && (start > area || size > area - start)) {
            snprintf(why, sizeof why, "it runs past the end of the physical volume");
            ok = false;
        }
        if (!ok) {
            kt_image_warn(img,
                          "%s: logical volume '%s/%s' cannot be read in place (%s): not "
                          "scanned",
                          where, vgname, lvname, why);
            continue;
        }
        kt_volume v = {
            .offset = off + (int64_t)(pe_start + start), .length = (int64_t)size, .pool_block = -1};
        kt_strlcpy(v.scheme, "lvm", sizeof v.scheme);
        kt_volume_probe_fs(timg, v.offset, v.fs, sizeof v.fs);
        snprintf(v.desc, sizeof v.desc, "LVM2 logical volume %s/%s%s", vgname, lvname,
                 !v.fs[0] && is_swap(timg, v.offset) ? " (swap)" : "");
        with_fs += v.fs[0] != '\0';
        int rc = kt_volume_add(list, &v);
        if (rc) {
            with_fs = rc;
            break;
        }
    }
out:
    libvslvm_volume_group_free(&vg, NULL);
    if (h) {
        libvslvm_handle_close(h, NULL);
        libvslvm_handle_free(&h, NULL);
    }
    libbfio_handle_free(&io, NULL);
    return with_fs;
}
