/* Building events: the one place that fills an event's common fields,
 * converts local times with the system's zone and hands events to the
 * timeline. */
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "source.h"

static bool same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static uint64_t mix(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return (h ^ (s ? 0xff : 0xfe)) * 0x100000001b3ull;
}

static uint64_t diag_hash(kt_severity sev, int volume, const char *code, const char *path,
                          const char *artifact, const char *message)
{
    uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)sev << 32 | (uint32_t)volume);
    return mix(mix(mix(mix(h, code), path), artifact), message);
}

/* Slot of the diagnostic's entry in the index, or of the free slot where
 * it would go. */
static size_t diag_slot(const kt_collector *c, uint64_t h, kt_severity sev, int volume,
                        const char *code, const char *path, const char *artifact, const char *msg)
{
    size_t mask = c->diag_index_cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        size_t at = c->diag_index[i];
        if (at == 0)
            return i;
        const kt_diag *d = &c->diags->items[at - 1];
        if (d->severity == sev && d->volume == volume && same(d->code, code) &&
            same(d->path, path) && same(d->artifact, artifact) && same(d->message, msg))
            return i;
    }
}

/* The index covers every diagnostic in the list (others add to it too);
 * false when out of memory. */
static bool diag_index_update(kt_collector *c)
{
    const kt_diags *l = c->diags;
    if (l->count < c->diag_indexed) { /* the list shrank: index it anew */
        memset(c->diag_index, 0, c->diag_index_cap * sizeof *c->diag_index);
        c->diag_indexed = 0;
    }
    if (2 * (l->count + 1) > c->diag_index_cap) {
        size_t cap = c->diag_index_cap ? c->diag_index_cap : 64;
        while (2 * (l->count + 1) > cap)
            cap *= 2;
        size_t *p = calloc(cap, sizeof *p);
        if (p == NULL)
            return false;
        free(c->diag_index);
        c->diag_index = p;
        c->diag_index_cap = cap;
        c->diag_indexed = 0;
    }
    for (; c->diag_indexed < l->count; c->diag_indexed++) {
        const kt_diag *d = &l->items[c->diag_indexed];
        uint64_t h = diag_hash(d->severity, d->volume, d->code, d->path, d->artifact, d->message);
        size_t s =
            diag_slot(c, h, d->severity, d->volume, d->code, d->path, d->artifact, d->message);
        if (c->diag_index[s] == 0)
            c->diag_index[s] = c->diag_indexed + 1;
    }
    return true;
}

void kt_collect_diag(kt_collector *c, kt_severity sev, const char *code, const char *path,
                     const kt_artifact *a, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Said once: several definitions walk the same damaged folder or key
     * (found through a hash index: a log may give a warning per record). */
    const char *artifact = a ? a->id : NULL;
    if (!diag_index_update(c)) {
        if (c->rc == KT_OK)
            c->rc = KT_ENOMEM;
        return;
    }
    /* On a data volume: a diagnostic of the system it serves (a loss
     * there is a loss of the system's findings); its path names the
     * volume. */
    int vol = c->system_vol->index;
    char where[KT_FS_PATH_MAX + 32];
    if (c->system_vol != c->vol && path) {
        snprintf(where, sizeof where, "volume %d: %s", c->vol->index, path);
        path = where;
    }
    uint64_t h = diag_hash(sev, vol, code, path, artifact, msg);
    size_t s = diag_slot(c, h, sev, vol, code, path, artifact, msg);
    if (c->diag_index[s] != 0)
        return;
    int rc = kt_diags_addf(c->diags, sev, code, vol, path, artifact, "%s", msg);
    if (rc != KT_OK && c->rc == KT_OK)
        c->rc = rc; /* a diagnostic lost would leave a result silently incomplete */
}

void **kt_collect_state(kt_collector *c, const kt_source_ops *s)
{
    for (size_t i = 0; i < kt_nsources && i < KT_SOURCES_MAX; i++)
        if (kt_sources[i] == s)
            return &c->state[i];
    return NULL;
}

/* A rule's map: the meaning of what was read, or nothing. */
static void apply_map(const kt_name_rule *r, char *out, size_t len)
{
    if (r->map_from.count == 0 || out[0] == '\0')
        return;
    for (size_t i = 0; i < r->map_from.count; i++)
        if (strcmp(out, r->map_from.items[i]) == 0) {
            kt_strlcpy(out, r->map_to.items[i], len);
            return;
        }
    out[0] = '\0';
}

void kt_collect_apply_regex(const kt_name_rule *r, const char *in, char *out, size_t len)
{
    out[0] = '\0';
    if (in == NULL)
        return;
    for (size_t i = 0; i < r->unless.count; i++)
        if (fnmatch(r->unless.items[i], in, FNM_CASEFOLD) == 0)
            return;
    if (!r->has_regex) {
        kt_strlcpy(out, in, len);
        apply_map(r, out, len);
        return;
    }
    regmatch_t m[2];
    if (regexec(&r->regex, in, 2, m, 0) == 0 && m[1].rm_so >= 0) {
        size_t n = (size_t)(m[1].rm_eo - m[1].rm_so);
        if (n >= len)
            n = len - 1;
        memcpy(out, in + m[1].rm_so, n);
        out[n] = '\0';
    }
    apply_map(r, out, len);
}

void kt_collect_component(const char *path, int i, char sep, char *out, size_t len)
{
    out[0] = '\0';
    const char *parts[KT_FS_MAX_DEPTH];
    size_t lens[KT_FS_MAX_DEPTH];
    int n = 0;
    for (const char *p = path; *p && n < KT_FS_MAX_DEPTH;) {
        size_t l = strcspn(p, (char[]){sep, 0});
        if (l) {
            parts[n] = p;
            lens[n++] = l;
        }
        p += l;
        while (*p == sep)
            p++;
    }
    int k = i < 0 ? n + i : i;
    if (k < 0 || k >= n)
        return;
    size_t l = lens[k] < len - 1 ? lens[k] : len - 1;
    memcpy(out, parts[k], l);
    out[l] = '\0';
}

static void resolve_name(const kt_name_rule *r, const kt_find *f, char *out, size_t len)
{
    char raw[512] = "";
    switch (r->from) {
    case KT_NAME_NONE:
        out[0] = '\0';
        return;
    case KT_NAME_FIXED:
        kt_strlcpy(raw, r->text, sizeof raw);
        break;
    case KT_NAME_VALUE:
        if (f->hive)
            kt_hive_value_string(f->hive, f->node, r->text, raw, sizeof raw, NULL);
        else if (f->dict)
            kt_plist_dict_string(f->dict, r->text, 0, raw, sizeof raw);
        break;
    case KT_NAME_KEY:
        if (f->key)
            kt_collect_component(f->key, -1, '\\', raw, sizeof raw);
        break;
    case KT_NAME_STRING:
        if (f->rec && r->component >= 0 && (size_t)r->component < f->rec->nstrings)
            kt_strlcpy(raw, f->rec->strings[r->component], sizeof raw);
        break;
    case KT_NAME_GROUP:
        if (f->line && r->component >= 0 && (size_t)r->component < f->ngroups &&
            f->groups[r->component].rm_so >= 0) {
            size_t n = (size_t)(f->groups[r->component].rm_eo - f->groups[r->component].rm_so);
            if (n >= sizeof raw)
                n = sizeof raw - 1;
            memcpy(raw, f->line + f->groups[r->component].rm_so, n);
            raw[n] = '\0';
        }
        break;
    case KT_NAME_PACKAGE: /* set by the package reader itself */
        break;
    case KT_NAME_COLUMN:
        if (f->columns && r->component >= 0 && (size_t)r->component < f->ncolumns &&
            f->columns[r->component])
            kt_strlcpy(raw, f->columns[r->component], sizeof raw);
        break;
    case KT_NAME_COMPONENT:
        if (f->key)
            kt_collect_component(f->key, r->component, '\\', raw, sizeof raw);
        else if (f->path)
            kt_collect_component(f->path, r->component, '/', raw, sizeof raw);
        break;
    }
    kt_collect_apply_regex(r, raw, out, len);
}

/* The product a find is about: by its name, but for a white-label find
 * (the name is the host product's: the component is the definition's) and
 * a bundled tool (no product of the system). */
static const char *product_id(kt_collector *c, const kt_artifact *a, const char *name)
{
    if (a->role == KT_ROLE_INTEGRATION)
        return a->component;
    if (a->role == KT_ROLE_BUNDLED_TOOL || a->role == KT_ROLE_HOST_PRODUCT)
        return NULL;
    const kt_product_def *p = kt_artifacts_product_for_os(c->set, a->vendor, a->os, name);
    return p ? p->id : NULL;
}

void kt_emit_begin(kt_collector *c, const kt_artifact *a, const kt_find *f, kt_event_draft *e)
{
    memset(e, 0, sizeof *e);
    kt_event *ev = &e->ev;
    ev->artifact = a;
    ev->category = a->category;
    ev->role = a->role;
    ev->vendor = a->vendor;
    ev->removal_method = a->removal_method;
    ev->volume = c->vol->index;
    ev->volume_offset = c->vol->offset;
    ev->data_volume = c->system_vol != c->vol;
    ev->system_volume = c->system_vol->index;
    ev->store = c->vol->store;
    ev->store_id = c->vol->store ? c->vol->store_id : NULL;
    ev->store_created = c->vol->store ? c->vol->store_created : KT_TIME_NONE;
    ev->fs = kt_fs_type_name(c->fs);
    resolve_name(&a->product, f, e->product, sizeof e->product);
    resolve_name(&a->version, f, e->version, sizeof e->version);
    ev->product_id = product_id(c, a, e->product);
    ev->product_name = e->product[0] ? e->product : NULL;
    ev->version = e->version[0] ? e->version : NULL;
    ev->allocated = true;
}

void kt_emit_product(kt_collector *c, const kt_artifact *a, kt_event_draft *e, const char *product)
{
    kt_collect_apply_regex(&a->product, product, e->product, sizeof e->product);
    e->ev.product_id = product_id(c, a, e->product);
    e->ev.product_name = e->product[0] ? e->product : NULL;
}

void kt_emit_version(const kt_artifact *a, kt_event_draft *e, const char *version)
{
    kt_collect_apply_regex(&a->version, version, e->version, sizeof e->version);
    e->ev.version = e->version[0] ? e->version : NULL;
}

void kt_emit_file(kt_event_draft *e, const kt_find *f)
{
    e->ev.path = f->path;
    e->ev.inode = f->st->inode;
    e->ev.allocated = !f->deleted;
}

void kt_emit(kt_collector *c, kt_event_draft *e, const char *what)
{
    kt_event *ev = &e->ev;
    /* A program folder the white-label search covered: said in one note
     * when collection ends (the verdict kaspersky_code_in_other_products
     * is false only over a search that ran), never an event. */
    if (ev->role == KT_ROLE_SEARCHED) {
        const char *where = ev->path ? ev->path : ev->key ? ev->key : "";
        size_t n = strlen(c->searched);
        snprintf(c->searched + n, sizeof c->searched - n, "%s'%s'", n ? ", " : "", where);
        return;
    }
    /* A white-label find names its host: one whose host rule gives
     * nothing (a folder that is Kaspersky's own, excluded by `unless`) is
     * no integration. */
    if (ev->role == KT_ROLE_INTEGRATION && ev->product_name == NULL)
        return;
    /* Where an integration's files are: the host_product source finds the
     * uninstall entry that owns them. */
    if (ev->role == KT_ROLE_INTEGRATION && ev->path && c->rc == KT_OK &&
        (kt_strlist_add(&c->integration_paths, ev->path) != KT_OK ||
         kt_strlist_add(&c->integration_hosts, ev->product_name) != KT_OK)) {
        c->rc = KT_ENOMEM;
        return;
    }
    /* A product without anti-virus signatures (a VPN: the KTS 21.2
     * capture's KSDE5.2 keeps its own LastSuccessfulUpdate) updates its
     * components, not signatures. */
    const kt_product_def *p = kt_artifacts_product(c->set, ev->product_id);
    if (p && p->no_signatures && ev->category == KT_CAT_SIGNATURE_UPDATE)
        ev->category = KT_CAT_UPDATE;
    char desc[1024];
    snprintf(desc, sizeof desc, "%s%s%s%s%s%s", ev->artifact->description,
             ev->product_name ? ": " : "", ev->product_name ? ev->product_name : "",
             ev->version ? " " : "", ev->version ? ev->version : "", what);
    ev->description = desc;
    int rc = c->sink->add(c->sink->ctx, ev);
    ev->description = NULL;
    if (rc && c->rc == KT_OK)
        c->rc = rc;
    else if (rc == KT_OK)
        c->stats->events++;
}

void kt_emit_searched(kt_collector *c)
{
    if (c->searched[0])
        kt_collect_diag(c, KT_SEV_NOTE, KT_DIAG_WHITELABEL_SEARCHED, NULL, NULL,
                        "searched for Kaspersky code inside other products in %s", c->searched);
}

bool kt_collect_to_utc(kt_collector *c, kt_time *t, int *flags)
{
    kt_time utc;
    if (kt_zone_to_utc(c->zone, *t, &utc, flags) != KT_OK)
        return false;
    *t = utc;
    return true;
}

void kt_collect_convert(kt_collector *c, const kt_time_pattern *tp, kt_time *t, char *src,
                        size_t srclen, const char **zone)
{
    size_t n = strlen(src);
    int flags = KT_TZ_EXACT;
    *zone = NULL;
    if (tp->unix_seconds) {
        snprintf(src + n, srclen - n, ", Unix seconds (UTC)");
    } else if (tp->has_offset) {
        snprintf(src + n, srclen - n, ", with its UTC offset");
    } else if (!tp->local) {
        snprintf(src + n, srclen - n, ", UTC");
    } else if (kt_collect_to_utc(c, t, &flags)) {
        *zone = c->zone->name;
        char table[160] = "";
        if (c->zone->kind == KT_ZONE_TABLE) {
            const kt_tzif_builtin_info *tb = &c->zone->table;
            int k = snprintf(table, sizeof table,
                             " (kavtrace's table from tzdata %s: no zone file in the image)",
                             tb->release);
            if (*t > tb->released) {
                c->zone_late++;
                snprintf(table + k, sizeof table - (size_t)k,
                         " (after that release: a later change of the zone's rules is not in it)");
            } else if (*t < tb->from) {
                c->zone_early++;
                snprintf(table + k, sizeof table - (size_t)k,
                         " (before the table's start: the zone's offset then is assumed)");
            }
        }
        snprintf(src + n, srclen - n, ", local, converted with %s%s%s", c->zone->name, table,
                 flags == KT_TZ_AMBIGUOUS     ? " (a repeated hour: the first of its two instants)"
                 : flags == KT_TZ_NONEXISTENT ? " (an hour the clock skipped)"
                                              : "");
    } else {
        snprintf(src + n, srclen - n, ", local, zone unknown: taken as UTC");
    }
}
