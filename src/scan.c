#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kavtrace/scan.h"

static kt_time now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return kt_time_from_unix(ts.tv_sec, ts.tv_nsec);
}

/* A scan system holds its kt_system by value, as its readers expect: a
 * copy of the inventory's description of it (names, version, zone name,
 * warnings), released with the scan. The host context (hives, zone)
 * stays the inventory's alone: collection reads it there. */
static int copy_system(kt_system *dst, const kt_system *src)
{
    *dst = *src;
    dst->software = dst->system = NULL;
    memset(&dst->zone, 0, sizeof dst->zone);
    memset(&dst->warnings, 0, sizeof dst->warnings);
    for (size_t i = 0; i < src->warnings.count; i++)
        if (kt_strlist_add(&dst->warnings, src->warnings.items[i]))
            return KT_ENOMEM;
    return KT_OK;
}

/* A volume with a filesystem but no system, live or in a shadow copy. */
static bool data_volume(const kt_inventory_volume *iv)
{
    if (iv->fs == NULL || iv->sys.os != KT_OS_NONE)
        return false;
    for (size_t k = 0; k < iv->nstores; k++)
        if (iv->stores[k].sys.os != KT_OS_NONE)
            return false;
    return true;
}

/* The data volumes' own metadata (their change journals, and those of
 * their shadow copies), for the image's Windows system: with one, every
 * NTFS data volume served it (D:, where programs or their quarantine may
 * live); with several, which one a data volume served is not known, and a
 * note says its journal is not read. */
static int data_volumes(const kt_artifact_set *set, kt_scan *out, const kt_volume *win_vol,
                        const kt_system *win, size_t nwin, kt_error *err)
{
    const kt_inventory *inv = &out->inv;
    for (size_t i = 0; i < inv->vols.count && nwin; i++) {
        const kt_inventory_volume *iv = &inv->volumes[i];
        if (!data_volume(iv) || kt_fs_get_kind(iv->fs) != KT_FS_NTFS)
            continue;
        if (nwin > 1) {
            if (kt_diags_addf(&out->warnings, KT_SEV_NOTE, "usn.data_volume", iv->volume->index,
                              NULL, NULL,
                              "volume %d holds no system and the image holds %zu Windows "
                              "systems: which one it served is not known, so its change "
                              "journal is not read",
                              iv->volume->index, nwin))
                return kt_error_set(err, KT_ENOMEM, "out of memory");
            continue;
        }
        int rc = kt_collect_data_volume(set, iv->fs, iv->volume, win_vol, win, &out->tl,
                                        &out->warnings, &out->stats, err);
        for (size_t k = 0; k < iv->nstores && rc == KT_OK; k++)
            if (iv->stores[k].fs)
                rc = kt_collect_data_volume(set, iv->stores[k].fs, &iv->stores[k].volume, win_vol,
                                            win, &out->tl, &out->warnings, &out->stats, err);
        if (rc)
            return rc;
    }
    return KT_OK;
}

int kt_scan_run(const kt_artifact_set *set, const char *path, kt_scan *out,
                kt_scan_progress progress, void *pctx, kt_error *err)
{
    out->started = now();
    int rc = kt_inventory_open(&out->inv, path, out->inventory_flags, out->keys, err);
    if (rc)
        return rc;
    const kt_inventory *inv = &out->inv;
    /* The image's Windows systems: how many, and the (last) one's. */
    const kt_volume *win_vol = NULL;
    const kt_system *win = NULL;
    size_t nwin = 0;
    out->systems = calloc(inv->nsystems ? inv->nsystems : 1, sizeof *out->systems);
    if (out->systems == NULL || kt_inventory_image_warnings(inv, &out->warnings))
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    for (size_t i = 0; i < inv->vols.count; i++) {
        const kt_inventory_volume *iv = &inv->volumes[i];
        const kt_volume *v = iv->volume;
        if (!v->fs[0])
            continue;
        char what[128];
        snprintf(what, sizeof what, "volume %d (%s)", v->index, v->fs);
        if (progress)
            progress(pctx, what);
        if (kt_inventory_volume_warnings(iv, &out->warnings))
            return kt_error_set(err, KT_ENOMEM, "out of memory");
        /* The system is the volume's own; on a volume wiped of it, the
         * newest shadow copy's that has one. */
        const kt_system *sys = iv->sys.os != KT_OS_NONE ? &iv->sys : NULL;
        for (size_t k = iv->nstores; sys == NULL && k > 0; k--)
            if (iv->stores[k - 1].sys.os != KT_OS_NONE)
                sys = &iv->stores[k - 1].sys;
        if (sys == NULL)
            continue;
        kt_scan_system *s = &out->systems[out->nsystems];
        s->volume = v;
        kt_strlcpy(s->fs, iv->fs_type, sizeof s->fs);
        if (copy_system(&s->sys, sys)) {
            kt_system_release(&s->sys);
            return kt_error_set(err, KT_ENOMEM, "out of memory");
        }
        out->nsystems++;
        if (sys->os == KT_OS_WINDOWS)
            win_vol = v, win = sys, nwin++;
        if (iv->sys.os != KT_OS_NONE) {
            rc = kt_collect_system(set, iv->fs, v, &iv->sys, out->collect_flags, &out->tl,
                                   &out->warnings, &out->stats, s->zone, sizeof s->zone, err);
            if (rc)
                return rc;
        }
        /* Each shadow copy like the volume itself: its events carry the
         * store (kt_event.store). */
        for (size_t k = 0; k < iv->nstores; k++) {
            const kt_inventory_store *st = &iv->stores[k];
            if (st->sys.os == KT_OS_NONE)
                continue;
            snprintf(what, sizeof what, "volume %d (%s), shadow copy %d", v->index, v->fs,
                     st->volume.store);
            if (progress)
                progress(pctx, what);
            char zone[sizeof s->zone];
            rc = kt_collect_system(set, st->fs, &st->volume, &st->sys, out->collect_flags, &out->tl,
                                   &out->warnings, &out->stats, zone, sizeof zone, err);
            if (rc)
                return rc;
            if (s->zone[0] == '\0')
                kt_strlcpy(s->zone, zone, sizeof s->zone);
        }
    }
    rc = data_volumes(set, out, win_vol, win, nwin, err);
    if (rc)
        return rc;
    /* Damage the collection's reads met without failing (an EWF chunk
     * that fails its checksum): a loss of the whole item. */
    kt_strlist damage = {0};
    rc = kt_image_read_damage(out->inv.img, &damage);
    for (size_t i = 0; i < damage.count && rc == KT_OK; i++)
        rc = kt_diags_addf(&out->warnings, KT_SEV_WARNING, "image", -1, NULL, NULL, "%s",
                           damage.items[i]);
    kt_strlist_release(&damage);
    if (rc)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    kt_timeline_finish(&out->tl, set);
    for (size_t i = 0; i < out->nsystems; i++) {
        rc = kt_findings_build(set, &out->tl, out->systems[i].volume->index,
                               &out->systems[i].findings, err);
        if (rc)
            return rc;
        if (kt_findings_account_losses(&out->systems[i].findings, &out->warnings) != KT_OK)
            return kt_error_set(err, KT_ENOMEM, "out of memory");
    }
    out->finished = now();
    /* What the process read in all (image, hives, definitions): the
     * "read only what is needed" figure. */
    FILE *io = fopen("/proc/self/io", "r");
    char line[128];
    while (io && fgets(line, sizeof line, io))
        if (strncmp(line, "rchar: ", 7) == 0)
            out->process_read = strtoull(line + 7, NULL, 10);
    if (io)
        fclose(io);
    return KT_OK;
}

void kt_scan_release(kt_scan *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nsystems; i++) {
        kt_system_release(&s->systems[i].sys);
        kt_system_finding_release(&s->systems[i].findings);
    }
    free(s->systems);
    kt_timeline_release(&s->tl);
    kt_diags_release(&s->warnings);
    kt_inventory_release(&s->inv);
    for (size_t i = 0; i < s->nfiles; i++)
        free(s->files[i].path);
    free(s->files);
    memset(s, 0, sizeof *s);
}

int kt_scan_hash(kt_scan *s, kt_hash_progress progress, void *progress_ctx, kt_error *err)
{
    int rc = kt_inventory_hash(&s->inv, progress, progress_ctx, err);
    if (rc)
        return rc;
    const kt_media_digest *d = &s->inv.digest;
    if (d->status == KT_HASH_INCOMPLETE)
        rc = kt_diags_addf(&s->warnings, KT_SEV_WARNING, "hash", -1, NULL, NULL,
                           "the media could not be read in full: %s: no hash of the media is "
                           "reported",
                           d->incomplete);
    if (rc == KT_OK && d->verification == KT_VERIFY_MISMATCH)
        rc = kt_diags_addf(&s->warnings, KT_SEV_WARNING, "hash", -1, NULL, NULL,
                           "the media does not match the hash stored with it: %s",
                           d->verification_note);
    return rc ? kt_error_set(err, rc, "out of memory") : KT_OK;
}

/* The SHA-256 of a whole file, read in 1 MiB pieces. */
static int file_sha256(const char *path, char out[65])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct sha256_ctx c;
    sha256_init(&c);
    static uint8_t buf[1 << 20];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            sha256_update(&c, (size_t)n, buf);
    int e = n < 0 ? -errno : 0;
    close(fd);
    if (e)
        return e;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&c, sizeof d, d);
    for (size_t i = 0; i < sizeof d; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    return 0;
}

int kt_scan_evidence_files(kt_scan *s, bool hash, kt_error *err)
{
    const kt_image_info *ii = s->inv.img ? kt_image_get_info(s->inv.img) : NULL;
    if (ii == NULL || ii->segments.count == 0)
        return KT_OK;
    s->files = calloc(ii->segments.count, sizeof *s->files);
    if (s->files == NULL)
        return kt_error_set(err, KT_ENOMEM, "evidence files: out of memory");
    for (size_t i = 0; i < ii->segments.count; i++) {
        kt_evidence_file *f = &s->files[s->nfiles];
        f->path = strdup(ii->segments.items[i]);
        if (f->path == NULL)
            return kt_error_set(err, KT_ENOMEM, "evidence files: out of memory");
        s->nfiles++;
        struct stat st;
        int e = stat(f->path, &st) == 0 ? 0 : -errno;
        f->size = e ? -1 : (int64_t)st.st_size;
        if (e == 0 && hash)
            e = file_sha256(f->path, f->sha256);
        if (e && kt_diags_addf(&s->warnings, KT_SEV_WARNING, "evidence.file", -1, f->path, NULL,
                               "cannot read the evidence file: %s", strerror(-e)) != KT_OK)
            return kt_error_set(err, KT_ENOMEM, "evidence files: out of memory");
    }
    return KT_OK;
}
