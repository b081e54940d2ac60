#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collection.h"
#include "kavtrace/inventory.h"

static int oom(kt_error *err)
{
    return kt_error_set(err, KT_ENOMEM, "out of memory");
}

/* What a reader must know of a system found on a volume or in one of its
 * shadow copies (prefix "" or "shadow copy N: "). */
static int system_warnings(kt_inventory_volume *iv, const kt_system *sys, const char *prefix,
                           kt_error *err)
{
    int index = iv->volume->index;
    /* A Windows system known by another marker than a hive that could not
     * be read: what that hive holds is not collected. */
    if (sys->os == KT_OS_WINDOWS && sys->software == NULL &&
        kt_diags_addf(&iv->warnings, KT_SEV_WARNING, "hive", index,
                      "Windows/System32/config/SOFTWARE", NULL,
                      "%sthe SOFTWARE hive could not be read (%s): its artifacts (product keys, "
                      "uninstall entries, Security Center) are not collected",
                      prefix, sys->software_error[0] ? sys->software_error : "unknown error"))
        return oom(err);
    if (sys->os == KT_OS_WINDOWS && sys->system == NULL &&
        kt_diags_addf(&iv->warnings, KT_SEV_WARNING, "hive", index,
                      "Windows/System32/config/SYSTEM", NULL,
                      "%sthe SYSTEM hive could not be read (%s): services, drivers and the time "
                      "zone are not read",
                      prefix, sys->system_error[0] ? sys->system_error : "unknown error"))
        return oom(err);
    for (size_t w = 0; w < sys->warnings.count; w++)
        if (kt_diags_addf(&iv->warnings, KT_SEV_WARNING, "system", index, NULL, NULL, "%s%s",
                          prefix, sys->warnings.items[w]))
            return oom(err);
    return KT_OK;
}

/* The shadow copies of an NTFS volume: each store's volume opened and
 * looked at for a system. Only out of memory is an error; a store that
 * cannot be read is a warning of the volume. */
static int take_stores(kt_inventory *inv, kt_inventory_volume *iv, kt_error *err)
{
    const kt_volume *v = iv->volume;
    kt_error e = {0};
    int rc = kt_vss_open(inv->img, v, &iv->vss, &e);
    if (rc == KT_ENOMEM)
        return oom(err);
    if (rc)
        return kt_diags_addf(&iv->warnings, KT_SEV_WARNING, "vss", v->index, NULL, NULL,
                             "the volume's shadow copies cannot be read: %s: what they hold "
                             "is not collected",
                             e.msg)
                   ? oom(err)
                   : KT_OK;
    size_t n = kt_vss_count(iv->vss);
    if (n == 0)
        return KT_OK;
    iv->stores = calloc(n, sizeof *iv->stores);
    if (iv->stores == NULL)
        return oom(err);
    iv->nstores = n;
    bool any_system = false;
    for (size_t i = 0; i < n; i++) {
        const kt_vss_store_info *si = kt_vss_store(iv->vss, i);
        kt_inventory_store *st = &iv->stores[i];
        st->info = si;
        st->volume = *v;
        st->volume.store = si->number;
        kt_strlcpy(st->volume.store_id, si->id, sizeof st->volume.store_id);
        st->volume.store_created = si->created;
        char t[KT_TIME_ISO_MAX], prefix[128];
        snprintf(prefix, sizeof prefix, "shadow copy %d (%s, created %s): ", si->number, si->id,
                 kt_time_format_iso(si->created, t));
        if (!si->readable) {
            if (kt_diags_addf(&iv->warnings, KT_SEV_WARNING, "vss", v->index, NULL, NULL,
                              "%scannot be read: %s: what it holds is not collected", prefix,
                              si->why))
                return oom(err);
            continue;
        }
        rc = kt_fs_open_store(iv->vss, i, &st->volume, &st->fs, &e);
        if (rc == KT_ENOMEM)
            return oom(err);
        if (rc) {
            if (kt_diags_addf(&iv->warnings, KT_SEV_WARNING, "vss", v->index, NULL, NULL,
                              "%sthe volume it holds cannot be opened: %s: what it holds is not "
                              "collected",
                              prefix, e.msg))
                return oom(err);
            continue;
        }
        kt_strlcpy(st->fs_type, kt_fs_type_name(st->fs), sizeof st->fs_type);
        rc = kt_system_detect(st->fs, &st->sys, &e);
        if (rc == KT_ENOMEM)
            return oom(err);
        if (rc) {
            kt_system_release(&st->sys);
            memset(&st->sys, 0, sizeof st->sys);
            if (kt_diags_addf(&iv->warnings, KT_SEV_WARNING, "vss", v->index, NULL, NULL, "%s%s",
                              prefix, e.msg))
                return oom(err);
            continue;
        }
        any_system = any_system || st->sys.os != KT_OS_NONE;
        rc = system_warnings(iv, &st->sys, prefix, err);
        if (rc)
            return rc;
    }
    if (any_system && iv->sys.os == KT_OS_NONE)
        inv->nsystems++;
    return KT_OK;
}

/* Open one volume's filesystem and look for a system on it. Only out of
 * memory is an error; anything else becomes a warning of the volume. */
static int take_live(kt_inventory *inv, kt_inventory_volume *iv, kt_error *err)
{
    const kt_volume *v = iv->volume;
    if (!v->fs[0])
        return KT_OK;
    kt_error e = {0};
    int rc = kt_fs_open_volume(inv->img, v, &iv->fs, &e);
    if (rc == KT_ENOMEM)
        return oom(err);
    if (rc)
        return kt_diags_addf(&iv->warnings, KT_SEV_WARNING, "filesystem", v->index, NULL, NULL,
                             "%s", e.msg)
                   ? oom(err)
                   : KT_OK;
    kt_strlcpy(iv->fs_type, kt_fs_type_name(iv->fs), sizeof iv->fs_type);
    rc = kt_system_detect(iv->fs, &iv->sys, &e);
    if (rc == KT_ENOMEM)
        return oom(err);
    if (rc) {
        kt_system_release(&iv->sys);
        memset(&iv->sys, 0, sizeof iv->sys);
        return kt_diags_addf(&iv->warnings, KT_SEV_WARNING, "system", v->index, NULL, NULL, "%s",
                             e.msg)
                   ? oom(err)
                   : KT_OK;
    }
    /* The lookups above read the $MFT: records it had to skip. */
    char msg[256];
    uint64_t damaged = kt_fs_damaged_records(iv->fs, msg, sizeof msg);
    if (damaged &&
        kt_diags_addf(&iv->warnings, KT_SEV_WARNING, "filesystem.mft", v->index, NULL, NULL,
                      "%llu damaged MFT record%s skipped (what they held is not "
                      "seen; first: %s)",
                      (unsigned long long)damaged, damaged == 1 ? "" : "s", msg))
        return oom(err);
    if (iv->sys.os == KT_OS_NONE)
        return KT_OK;
    inv->nsystems++;
    /* A triage collection holds what its targets chose: what it lacks is
     * not known to be absent. */
    if (v->collection_root &&
        kt_collection_check_sources(iv->fs, &iv->sys, v->index, &iv->warnings))
        return oom(err);
    return system_warnings(iv, &iv->sys, "", err);
}

static int take_volume(kt_inventory *inv, kt_inventory_volume *iv, unsigned flags, kt_error *err)
{
    int rc = take_live(inv, iv, err);
    /* Shadow copies are read from the image's own bytes: not inside an
     * unlocked volume. */
    if (rc == KT_OK && iv->fs && kt_fs_get_kind(iv->fs) == KT_FS_NTFS &&
        !(flags & KT_INVENTORY_NO_VSS) && iv->volume->crypt == NULL)
        rc = take_stores(inv, iv, err);
    return rc;
}

/* Windows known on the volume (live or in a store) only by a "Program
 * Files" folder: no Windows folder, no hive. */
static bool programs_only(const kt_inventory_volume *iv, bool *any)
{
    *any = false;
    if (iv->sys.os != KT_OS_NONE && !kt_system_programs_only(&iv->sys))
        return false;
    *any = iv->sys.os != KT_OS_NONE;
    for (size_t k = 0; k < iv->nstores; k++) {
        if (iv->stores[k].sys.os != KT_OS_NONE && !kt_system_programs_only(&iv->stores[k].sys))
            return false;
        *any = *any || iv->stores[k].sys.os != KT_OS_NONE;
    }
    return *any;
}

/* A volume whose Windows is known only by a "Program Files" folder, on an
 * image where another volume holds Windows by its own files, is that
 * Windows' data volume (D:, programs installed to it), not a second
 * system whose hives are missing: its systems are dropped with the
 * warnings they gave ("hive", "system"), and a note says so. */
static int data_volumes(kt_inventory *inv, kt_error *err)
{
    int windows = -1;
    bool any;
    for (size_t i = 0; i < inv->vols.count && windows < 0; i++) {
        const kt_inventory_volume *iv = &inv->volumes[i];
        if (iv->sys.os == KT_OS_WINDOWS && !kt_system_programs_only(&iv->sys))
            windows = iv->volume->index;
    }
    for (size_t i = 0; i < inv->vols.count && windows >= 0; i++) {
        kt_inventory_volume *iv = &inv->volumes[i];
        if (!programs_only(iv, &any))
            continue;
        inv->nsystems--;
        kt_system_release(&iv->sys);
        memset(&iv->sys, 0, sizeof iv->sys);
        for (size_t k = 0; k < iv->nstores; k++) {
            kt_system_release(&iv->stores[k].sys);
            memset(&iv->stores[k].sys, 0, sizeof iv->stores[k].sys);
        }
        size_t n = 0;
        for (size_t w = 0; w < iv->warnings.count; w++) {
            const kt_diag *d = &iv->warnings.items[w];
            if (d->code && (strcmp(d->code, "hive") == 0 || strcmp(d->code, "system") == 0))
                continue;
            iv->warnings.items[n++] = *d;
        }
        iv->warnings.count = n;
        if (kt_diags_addf(&iv->warnings, KT_SEV_NOTE, "system.data_volume", iv->volume->index, NULL,
                          NULL,
                          "a 'Program Files' folder but no Windows folder or hive: a data volume "
                          "of the Windows on volume %d, not a system of its own",
                          windows))
            return oom(err);
    }
    return KT_OK;
}

int kt_inventory_init(kt_inventory *inv, const char *path, kt_error *err)
{
    return kt_inventory_open(inv, path, 0, NULL, err);
}

int kt_inventory_open(kt_inventory *inv, const char *path, unsigned flags, const kt_keys *keys,
                      kt_error *err)
{
    memset(inv, 0, sizeof *inv);
    kt_strlcpy(inv->digest.verification_note, "the evidence could not be opened",
               sizeof inv->digest.verification_note);
    inv->path = strdup(path);
    if (inv->path == NULL)
        return oom(err);
    int rc = kt_image_open(path, &inv->img, err);
    if (rc)
        return rc;
    inv->digest.verification = kt_image_verify(inv->img, NULL, inv->digest.verification_note,
                                               sizeof inv->digest.verification_note);
    rc = kt_volumes_scan_keys(inv->img, keys, &inv->vols, err);
    if (rc) {
        kt_error_prefix(err, "evidence '%s'", path);
        return rc;
    }
    inv->volumes = calloc(inv->vols.count ? inv->vols.count : 1, sizeof *inv->volumes);
    if (inv->volumes == NULL) {
        kt_volume_list_release(&inv->vols); /* volumes has vols.count entries */
        return oom(err);
    }
    for (size_t i = 0; i < inv->vols.count; i++)
        inv->volumes[i].volume = &inv->vols.items[i];
    for (size_t i = 0; i < inv->vols.count && rc == KT_OK; i++)
        rc = take_volume(inv, &inv->volumes[i], flags, err);
    if (rc == KT_OK)
        rc = data_volumes(inv, err);
    return rc;
}

void kt_inventory_release(kt_inventory *inv)
{
    if (inv == NULL)
        return;
    for (size_t i = 0; inv->volumes && i < inv->vols.count; i++) {
        kt_inventory_volume *iv = &inv->volumes[i];
        for (size_t s = 0; s < iv->nstores; s++) {
            kt_fs_free(iv->stores[s].fs);
            kt_system_release(&iv->stores[s].sys);
        }
        free(iv->stores);
        kt_vss_free(iv->vss);
        kt_fs_free(iv->fs);
        kt_system_release(&iv->sys);
        kt_diags_release(&iv->warnings);
    }
    free(inv->volumes);
    kt_volume_list_release(&inv->vols);
    kt_image_free(inv->img);
    free(inv->path);
    memset(inv, 0, sizeof *inv);
}

int kt_inventory_image_warnings(const kt_inventory *inv, kt_diags *out)
{
    int rc = KT_OK;
    if (inv->img) {
        const kt_strlist *iw = kt_image_warnings(inv->img);
        for (size_t i = 0; i < iw->count && rc == KT_OK; i++)
            rc = kt_diags_addf(out, KT_SEV_WARNING, "image", -1, NULL, NULL, "%s", iw->items[i]);
        /* What a triage collector's own records say. */
        const kt_strlist *cn = &kt_image_collection(inv->img)->notes;
        for (size_t i = 0; i < cn->count && rc == KT_OK; i++)
            rc = kt_diags_addf(out, KT_SEV_NOTE, "collection", -1, NULL, NULL, "%s", cn->items[i]);
    }
    return rc;
}

int kt_inventory_volume_warnings(const kt_inventory_volume *iv, kt_diags *out)
{
    int rc = KT_OK;
    for (size_t w = 0; w < iv->warnings.count && rc == KT_OK; w++)
        rc = kt_diags_add(out, &iv->warnings.items[w]);
    return rc;
}

int kt_inventory_warnings(const kt_inventory *inv, kt_diags *out)
{
    int rc = kt_inventory_image_warnings(inv, out);
    for (size_t i = 0; inv->volumes && i < inv->vols.count && rc == KT_OK; i++)
        rc = kt_inventory_volume_warnings(&inv->volumes[i], out);
    return rc;
}

int kt_inventory_hash(kt_inventory *inv, kt_hash_progress progress, void *progress_ctx,
                      kt_error *err)
{
    if (inv->img == NULL)
        return kt_error_set(err, KT_EARG, "evidence '%s': not opened", inv->path);
    const kt_image_info *ii = kt_image_get_info(inv->img);
    if (ii->format == KT_IMG_DIR || ii->format == KT_IMG_ARCHIVE)
        return KT_OK;
    kt_image_digest d;
    int rc = kt_image_hash(inv->img, &d, progress, progress_ctx, err);
    if (rc) {
        kt_error_prefix(err, "evidence '%s'", inv->path);
        return rc;
    }
    kt_media_digest *md = &inv->digest;
    memset(md, 0, sizeof *md);
    md->status = d.status;
    if (d.status == KT_HASH_COMPLETE) {
        memcpy(md->sha256, d.sha256, sizeof md->sha256);
        memcpy(md->md5, d.md5, sizeof md->md5);
        memcpy(md->sha1, d.sha1, sizeof md->sha1);
    } else {
        kt_strlcpy(md->incomplete, d.why, sizeof md->incomplete);
    }
    md->verification = d.verification;
    kt_strlcpy(md->verification_note, d.verification_note, sizeof md->verification_note);
    return KT_OK;
}
