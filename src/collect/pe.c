/* The `pe` source: Windows PE files whose version resource or
 * Authenticode signer names Kaspersky (kt_pe_read, kt_pe_kaspersky_name).
 * By default only the PEs the definition singles out by name or location
 * (`paths`) are read; with KT_COLLECT_DEEP (scan --deep) the `deep`
 * patterns too (every PE under the program folders). A PE that names no
 * Kaspersky legal form, or is no PE, is no find. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/pe.h"
#include "source.h"

/* Bytes of one PE read at most: larger ones are passed by, with a note. */
#define PE_MAX_READ ((size_t)64 << 20)

typedef struct spec {
    kt_file_part fp;
    kt_strlist deep; /* read as well with KT_COLLECT_DEEP */
} spec;

static void parse(kt_defs *c, yaml_node_t *n, kt_artifact *a)
{
    spec *s = defs_calloc(c, 1, sizeof *s);
    if (s == NULL)
        return;
    a->spec = s;
    static const char *const keys[] = {"paths", "deep",    "type",    "deleted",
                                       "times", "product", "version", NULL};
    defs_check_keys(c, n, "pe", keys);
    kt_file_part_parse(c, n, a, &s->fp);
    if (defs_get(c, n, "deep"))
        defs_strings(c, n, "deep", &s->deep, false, "pe");
    if (s->fp.ntimes == 0)
        defs_problem(c, n, "pe: give times: a find needs a time");
}

static void release(void *p)
{
    spec *s = p;
    if (s == NULL)
        return;
    kt_file_part_release(&s->fp);
    kt_strlist_release(&s->deep);
    free(s);
}

static void detail(const kt_artifact *a, char *buf, size_t len)
{
    const spec *s = a->spec;
    snprintf(buf, len, "%s", s && s->deep.count ? "deep" : "");
}

/* The Kaspersky legal name pe carries, and where ("signer", "CompanyName",
 * "LegalCopyright"); NULL when none. */
static const char *kaspersky_name(const kt_pe_info *pe, const char **where)
{
    const struct {
        const char *what, *text;
    } fields[] = {
        {"signer", pe->signer_subject},
        {"CompanyName", pe->company_name},
        {"LegalCopyright", pe->legal_copyright},
    };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        const char *name = fields[i].text ? kt_pe_kaspersky_name(fields[i].text) : NULL;
        if (name) {
            *where = fields[i].what;
            return name;
        }
    }
    return NULL;
}

static void found(kt_collector *c, const kt_artifact *a, const kt_find *f)
{
    if (f->st->size < 2 || (uint64_t)f->st->size > PE_MAX_READ) {
        if (f->st->size > 0 && (uint64_t)f->st->size > PE_MAX_READ)
            kt_collect_diag(c, KT_SEV_NOTE, "pe.size", f->path, a,
                            "a PE of %lld bytes, more than %zu: not read", (long long)f->st->size,
                            PE_MAX_READ);
        return;
    }
    /* A white-label find in a folder that names no host (Kaspersky's own)
     * is none: such a PE is not read. */
    kt_event_draft host;
    kt_emit_begin(c, a, f, &host);
    if (a->role == KT_ROLE_INTEGRATION && host.ev.product_name == NULL)
        return;
    kt_buf b = {0};
    if (kt_file_read(c, a, f, PE_MAX_READ, &b))
        return;
    kt_pe_info pe;
    kt_error err = {0};
    int rc = kt_pe_read(b.data, b.len, &pe, &err);
    kt_buf_release(&b);
    if (rc == KT_ENOMEM) {
        c->rc = KT_ENOMEM;
        return;
    }
    if (rc != KT_OK) /* not a PE (a script named .exe, a stand-in): no find */
        return;
    const char *where = NULL, *name = kaspersky_name(&pe, &where);
    if (name) {
        char what[KT_FS_PATH_MAX + 512];
        snprintf(what, sizeof what, " (%s%s: %s %s)", f->deleted ? "deleted: " : "", f->path, where,
                 name);
        /* the legal name is the find's version: findings.json's marker */
        kt_file_time_finds_as(c, a, &((const spec *)a->spec)->fp, f, name, what);
    }
    kt_pe_info_clear(&pe);
}

static void collect(kt_collector *c, const kt_artifact *a)
{
    const spec *s = a->spec;
    kt_file_walk(c, a, &s->fp, found);
    if ((c->flags & KT_COLLECT_DEEP) && s->deep.count) {
        kt_file_part deep = s->fp;
        deep.paths = s->deep;
        kt_file_walk(c, a, &deep, found);
    }
}

const kt_source_ops kt_source_pe = {
    .key = "pe",
    .summary = "Windows PE files whose version resource (CompanyName, LegalCopyright) or "
               "Authenticode signer names Kaspersky; `deep` patterns only with scan --deep",
    .parse = parse,
    .release = release,
    .detail = detail,
    .collect = collect,
};
