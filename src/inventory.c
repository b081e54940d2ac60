#include <stdlib.h>
#include <string.h>

#include "collection.h"
#include "kavtrace/inventory.h"

static int oom(kt_error *err)
{
    return kt_error_set(err, KT_ENOMEM, "out of memory");
}

/* Open one volume's filesystem and look for a system on it. Only out of
 * memory is an error; anything else becomes a warning of the volume. */
static int take_volume(kt_inventory *inv, kt_inventory_volume *iv, kt_error *err)
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
    if (iv->sys.os == KT_OS_NONE)
        return KT_OK;
    inv->nsystems++;
    /* A triage collection holds what its targets chose: what it lacks is
     * not known to be absent. */
    if (v->collection_root &&
        kt_collection_check_sources(iv->fs, &iv->sys, v->index, &iv->warnings))
        return oom(err);
    /* A Windows system known by another marker than a hive that could not
     * be read: what that hive holds is not collected. */
    const kt_system *sys = &iv->sys;
    if (sys->os == KT_OS_WINDOWS && sys->software == NULL &&
        kt_diags_addf(&iv->warnings, KT_SEV_WARNING, "hive", v->index,
                      "Windows/System32/config/SOFTWARE", NULL,
                      "the SOFTWARE hive could not be read (%s): its artifacts (product keys, "
                      "uninstall entries, Security Center) are not collected",
                      sys->software_error[0] ? sys->software_error : "unknown error"))
        return oom(err);
    if (sys->os == KT_OS_WINDOWS && sys->system == NULL &&
        kt_diags_addf(&iv->warnings, KT_SEV_WARNING, "hive", v->index,
                      "Windows/System32/config/SYSTEM", NULL,
                      "the SYSTEM hive could not be read (%s): services, drivers and the time "
                      "zone are not read",
                      sys->system_error[0] ? sys->system_error : "unknown error"))
        return oom(err);
    for (size_t w = 0; w < iv->sys.warnings.count; w++)
        if (kt_diags_addf(&iv->warnings, KT_SEV_WARNING, "system", v->index, NULL, NULL, "%s",
                          iv->sys.warnings.items[w]))
            return oom(err);
    return KT_OK;
}

int kt_inventory_init(kt_inventory *inv, const char *path, kt_error *err)
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
    rc = kt_volumes_scan(inv->img, &inv->vols, err);
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
        rc = take_volume(inv, &inv->volumes[i], err);
    return rc;
}

void kt_inventory_release(kt_inventory *inv)
{
    if (inv == NULL)
        return;
    for (size_t i = 0; inv->volumes && i < inv->vols.count; i++) {
        kt_inventory_volume *iv = &inv->volumes[i];
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
