/* The table of sources: it drives the definitions loader (which YAML key
 * names which source), collection, `artifacts list` and the source list
 * of docs/artifacts.md. One line per source (source.h says how to add
 * one). */
#include <string.h>

#include "source.h"

/* owner last: its finish matches what the others found */
const kt_source_ops *const kt_sources[] = {
    &kt_source_registry, &kt_source_files, &kt_source_evtx, &kt_source_sqlite, &kt_source_prefetch,
    &kt_source_packages, &kt_source_plist, &kt_source_usn,  &kt_source_pe,     &kt_source_owner,
};
const size_t kt_nsources = sizeof kt_sources / sizeof kt_sources[0];

_Static_assert(sizeof kt_sources / sizeof kt_sources[0] <= KT_SOURCES_MAX,
               "KT_SOURCES_MAX is too small for the table");

size_t kt_source_count(void)
{
    return kt_nsources;
}

const char *kt_source_key(size_t i)
{
    return i < kt_nsources ? kt_sources[i]->key : NULL;
}

const char *kt_source_summary(size_t i)
{
    return i < kt_nsources ? kt_sources[i]->summary : NULL;
}

const char *kt_artifact_source(const kt_artifact *a)
{
    return a->source ? a->source->key : "?";
}

void kt_artifact_source_detail(const kt_artifact *a, char *buf, size_t len)
{
    buf[0] = '\0';
    if (a->source && a->source->detail && a->spec)
        a->source->detail(a, buf, len);
}
