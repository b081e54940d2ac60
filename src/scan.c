#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kavtrace/scan.h"

static kt_time now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return kt_time_from_unix(ts.tv_sec, ts.tv_nsec);
}

int kt_scan_run(const kt_artifact_set *set, const char *path, kt_scan *out,
                kt_scan_progress progress, void *pctx, kt_error *err)
{
    out->started = now();
    out->path = strdup(path);
    if (out->path == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    int rc = kt_image_open(path, &out->img, err);
    if (rc)
        return rc;
    rc = kt_volumes_scan(out->img, &out->vols, err);
    if (rc) {
        kt_error_prefix(err, "evidence '%s'", path);
        return rc;
    }
    const kt_strlist *iw = kt_image_warnings(out->img);
    for (size_t i = 0; i < iw->count; i++)
        kt_strlist_add(&out->warnings, iw->items[i]);
    out->systems = calloc(out->vols.count ? out->vols.count : 1, sizeof *out->systems);
    if (out->systems == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    for (size_t i = 0; i < out->vols.count; i++) {
        const kt_volume *v = &out->vols.items[i];
        if (!v->fs[0])
            continue;
        char what[128];
        snprintf(what, sizeof what, "volume %d (%s)", v->index, v->fs);
        if (progress)
            progress(pctx, what);
        kt_fs *fs = NULL;
        kt_error e = {0};
        if (kt_fs_open_volume(out->img, v, &fs, &e)) {
            kt_strlist_addf(&out->warnings, "%s", e.msg);
            continue;
        }
        kt_scan_system *s = &out->systems[out->nsystems];
        kt_system_detect(fs, &s->sys, &e);
        if (s->sys.os == KT_OS_NONE) {
            kt_system_release(&s->sys);
            kt_fs_free(fs);
            continue;
        }
        s->volume = v;
        kt_strlcpy(s->fs, kt_fs_type_name(fs), sizeof s->fs);
        for (size_t w = 0; w < s->sys.warnings.count; w++)
            kt_strlist_addf(&out->warnings, "volume %d: %s", v->index, s->sys.warnings.items[w]);
        out->nsystems++;
        rc = kt_collect_system(set, fs, v, &s->sys, &out->tl, &out->warnings, &out->stats, s->zone,
                               sizeof s->zone, err);
        kt_fs_free(fs);
        if (rc)
            return rc;
    }
    kt_timeline_finish(&out->tl, set);
    for (size_t i = 0; i < out->nsystems; i++) {
        rc = kt_findings_build(set, &out->tl, out->systems[i].volume->index,
                               &out->systems[i].findings, err);
        if (rc)
            return rc;
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
    kt_strlist_release(&s->warnings);
    kt_volume_list_release(&s->vols);
    kt_image_free(s->img);
    free(s->path);
    memset(s, 0, sizeof *s);
}
