/* Source `prefetch`: Windows Prefetch files (libscca, in the
 * kavtrace-prefetch reader process), every stored run time an event. */
#include <stdio.h>
#include <stdlib.h>

#include "kavtrace/prefetch.h"
#include "source.h"

typedef struct spec {
    kt_file_part fp;
} spec;

static void parse(kt_defs *c, yaml_node_t *pf, kt_artifact *a)
{
    spec *s = defs_calloc(c, 1, sizeof *s);
    if (s == NULL)
        return;
    a->spec = s;
    static const char *const keys[] = {"paths", "deleted", "product", "version", NULL};
    defs_check_keys(c, pf, "prefetch", keys);
    kt_file_part_parse(c, pf, a, &s->fp);
    s->fp.type = 1;
}

static void release(void *p)
{
    spec *s = p;
    if (s == NULL)
        return;
    kt_file_part_release(&s->fp);
    free(s);
}

static void found(kt_collector *c, const kt_artifact *a, const kt_find *f)
{
    kt_buf b = {0};
    if (kt_file_read(c, a, f, KT_PREFETCH_MAX_SIZE, &b))
        return;
    kt_prefetch pf;
    kt_strlist w = {0};
    kt_error err = {0};
    int rc = kt_prefetch_read(b.data, b.len, &pf, &w, &err);
    if (rc != KT_OK) {
        kt_collect_diag(c, KT_SEV_WARNING, rc == KT_EIO ? "prefetch.helper" : "prefetch", f->path,
                        NULL, "%s", err.msg);
    } else {
        char what[KT_FS_PATH_MAX + 128];
        snprintf(what, sizeof what, " (%s%s: %s run %u times)", f->deleted ? "deleted: " : "",
                 f->path, pf.executable, pf.run_count);
        for (size_t i = 0; i < pf.nruns && !c->rc; i++) {
            char src[128], value[64];
            kt_event_draft e;
            kt_emit_begin(c, a, f, &e);
            e.ev.time = pf.runs[i];
            e.ev.precision = KT_PREC_100NS;
            snprintf(src, sizeof src, "prefetch v%u run time %zu of %zu%s", pf.version, i + 1,
                     pf.nruns, pf.compressed ? " (MAM compressed)" : "");
            e.ev.time_source = src;
            snprintf(value, sizeof value, "run count %u", pf.run_count);
            e.ev.value = value;
            kt_emit_file(&e, f);
            kt_emit(c, &e, what);
        }
    }
    for (size_t i = 0; i < w.count; i++)
        kt_collect_diag(c, KT_SEV_WARNING, "prefetch", f->path, NULL, "%s", w.items[i]);
    kt_strlist_release(&w);
    kt_buf_release(&b);
}

static void collect(kt_collector *c, const kt_artifact *a)
{
    const spec *s = a->spec;
    kt_file_walk(c, a, &s->fp, found);
}

const kt_source_ops kt_source_prefetch = {
    .key = "prefetch",
    .summary = "Windows Prefetch files: every stored run time, with the run count",
    .parse = parse,
    .release = release,
    .collect = collect,
};
