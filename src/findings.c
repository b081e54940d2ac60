#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kavtrace/alloc.h"
#include "kavtrace/findings.h"

static const char *const verdict_names[KT_V_COUNT] = {
    [KT_V_EVER_INSTALLED] = "kaspersky_ever_installed",
    [KT_V_PRESENT_AT_ACQUISITION] = "kaspersky_present_at_acquisition",
    [KT_V_INSTALLED_AFTER_SALES_BAN] = "installed_after_sales_ban",
    [KT_V_SIGNATURE_UPDATE_AFTER_CUTOFF] = "signature_update_after_cutoff",
    [KT_V_CODEBASE_UPDATE_AFTER_CUTOFF] = "codebase_update_after_cutoff",
    [KT_V_KSN_AFTER_CUTOFF] = "ksn_after_cutoff",
    [KT_V_REMOVED_BEFORE_CUTOFF] = "removed_before_cutoff",
    [KT_V_MIGRATED_TO_ULTRAAV] = "migrated_to_ultraav",
    [KT_V_CODE_IN_OTHER_PRODUCTS] = "kaspersky_code_in_other_products",
};

const char *kt_verdict_name(kt_verdict v)
{
    return v < KT_V_COUNT ? verdict_names[v] : "?";
}

/* How long after a removal a migration target's install still counts as
 * the replacement (the September 2024 updates removed and installed in one
 * run). */
#define MIGRATION_WINDOW (INT64_C(24) * 3600 * KT_NS_PER_SEC)

/* ---- versions --------------------------------------------------------------- */

#define VERSION_PARTS 8

static int parse_version(const char *s, long *parts)
{
    int n = 0;
    while (s && *s && n < VERSION_PARTS) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s)
            return 0;
        parts[n++] = v;
        /* "12.1.0-1297": a package's build number is one more part */
        if (*end != '.' && *end != '-')
            return *end ? 0 : n;
        s = end + 1;
    }
    return n;
}

/* <0, 0 (one is a prefix of the other: the same release), >0 */
static int version_cmp(const char *a, const char *b)
{
    long x[VERSION_PARTS], y[VERSION_PARTS];
    int n = parse_version(a, x), m = parse_version(b, y);
    for (int i = 0; i < n && i < m; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

static int version_parts(const char *s)
{
    long x[VERSION_PARTS];
    return parse_version(s, x);
}

/* ---- grouping ------------------------------------------------------------------ */

typedef struct group {
    kt_product_finding f;
    const kt_product_def *def;
    const kt_event **ev;
    size_t nev;
} group;

static group *group_for(group **gs, size_t *n, const char *id, const char *vendor,
                        const kt_product_def *def)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*gs)[i].f.id, id) == 0)
            return &(*gs)[i];
    group *p = kt_realloc(*gs, (*n + 1) * sizeof *p);
    if (p == NULL)
        return NULL;
    *gs = p;
    group *g = &p[(*n)++];
    memset(g, 0, sizeof *g);
    g->def = def;
    kt_strlcpy(g->f.id, id, sizeof g->f.id);
    kt_strlcpy(g->f.vendor, vendor, sizeof g->f.vendor);
    if (def)
        kt_strlcpy(g->f.name, def->name, sizeof g->f.name);
    else
        snprintf(g->f.name, sizeof g->f.name, "%s (product not identified)", vendor);
    g->f.subject = strcmp(vendor, KT_SUBJECT_VENDOR) == 0;
    if (g->f.subject && def && def->exempt) {
        g->f.exempt = true;
        kt_strlcpy(g->f.exemption, def->exemption ? def->exemption : "", sizeof g->f.exemption);
    }
    return g;
}

static int add_event(group *g, const kt_event *e)
{
    const kt_event **p = kt_realloc(g->ev, (g->nev + 1) * sizeof *p);
    if (p == NULL)
        return KT_ENOMEM;
    g->ev = p;
    g->ev[g->nev++] = e;
    return kt_strlist_add(&g->f.ev_all, e->id);
}

/* ---- one product ----------------------------------------------------------------- */

/* Add an event id to l; a failure is remembered in *rc (an id dropped
 * from the evidence of a field would make the field's proof incomplete,
 * so it fails the findings instead). */
static void add_id(int *rc, kt_strlist *l, const char *id)
{
    if (*rc == KT_OK && kt_strlist_add(l, id) != KT_OK)
        *rc = KT_ENOMEM;
}

static void set_ids(int *rc, kt_strlist *l, const kt_event *const *ev, size_t n, kt_time t,
                    bool (*pick)(const kt_event *))
{
    for (size_t i = 0; i < n; i++)
        if (ev[i]->time == t && (pick == NULL || pick(ev[i])))
            add_id(rc, l, ev[i]->id);
}

static bool is_install(const kt_event *e)
{
    return e->category == KT_CAT_INSTALL;
}

static bool is_install_exact(const kt_event *e)
{
    return e->category == KT_CAT_INSTALL && e->precision != KT_PREC_DAY;
}

static bool is_install_record(const kt_event *e)
{
    return e->category == KT_CAT_INSTALL && e->artifact && e->artifact->installer_record;
}

static bool is_signature(const kt_event *e)
{
    return e->category == KT_CAT_SIGNATURE_UPDATE;
}

static bool is_ksn(const kt_event *e)
{
    return e->category == KT_CAT_KSN;
}

static bool is_execution(const kt_event *e)
{
    return e->category == KT_CAT_EXECUTION || e->category == KT_CAT_DETECTION;
}

static bool is_removal(const kt_event *e)
{
    return e->category == KT_CAT_REMOVAL;
}

/* A find on the volume as acquired, not deleted: what says a product is
 * there now. A deleted entry, or anything a shadow copy holds, is the
 * past. */
static bool live(const kt_event *e)
{
    return e->allocated && e->store == 0;
}

static int product_fields(group *g)
{
    int rc = KT_OK;
    kt_product_finding *f = &g->f;
    f->first_seen = f->installed = f->last_signature_update = f->last_codebase_update = f->removed =
        f->last_ksn_evidence = f->last_execution = KT_TIME_NONE;
    f->ksn = KT_KSN_UNKNOWN;
    f->removal_method = KT_REMOVAL_NONE;
    kt_time install_record = KT_TIME_NONE, install_exact = KT_TIME_NONE, install_day = KT_TIME_NONE;
    kt_time removed_by_tool = KT_TIME_NONE;
    bool named = false, registration = false, program = false, files_left = false;
    kt_removal method = KT_REMOVAL_NONE, method_other = KT_REMOVAL_NONE;
    kt_time ksn_off = KT_TIME_NONE;
    for (size_t i = 0; i < g->nev; i++) {
        const kt_event *e = g->ev[i];
        if (f->first_seen == KT_TIME_NONE || e->time < f->first_seen)
            f->first_seen = e->time;
        if (e->category == KT_CAT_INSTALL) {
            kt_time *slot = e->precision == KT_PREC_DAY ? &install_day : &install_exact;
            if (*slot == KT_TIME_NONE || e->time < *slot)
                *slot = e->time;
            /* The installer's own record of completing the install is the
             * install time, ahead of folder times (which a copy or a
             * restore can carry). */
            if (is_install_record(e) &&
                (install_record == KT_TIME_NONE || e->time < install_record))
                install_record = e->time;
        }
        if (e->category == KT_CAT_SIGNATURE_UPDATE &&
            (f->last_signature_update == KT_TIME_NONE || e->time > f->last_signature_update))
            f->last_signature_update = e->time;
        /* KSN: the newest find that shows it on or off decides. */
        if (e->category == KT_CAT_KSN && e->artifact && e->artifact->ksn_disabled) {
            if (ksn_off == KT_TIME_NONE || e->time > ksn_off)
                ksn_off = e->time;
        } else if (e->category == KT_CAT_KSN) {
            if (f->last_ksn_evidence == KT_TIME_NONE || e->time > f->last_ksn_evidence)
                f->last_ksn_evidence = e->time;
        }
        /* The product at work: programs run, services started, detections. */
        if ((e->category == KT_CAT_EXECUTION || e->category == KT_CAT_DETECTION) &&
            (f->last_execution == KT_TIME_NONE || e->time > f->last_execution))
            f->last_execution = e->time;
        if (e->category == KT_CAT_CODEBASE_UPDATE &&
            (f->last_codebase_update == KT_TIME_NONE || e->time > f->last_codebase_update))
            f->last_codebase_update = e->time;
        if (e->category == KT_CAT_REMOVAL) {
            /* A removal tool's own record (its log) says when it ran; it
             * beats the inference from folder times. */
            kt_time *slot = e->removal_method ? &removed_by_tool : &f->removed;
            if (*slot == KT_TIME_NONE || e->time > *slot)
                *slot = e->time;
        }
        /* How: a removal record's own method first (an MSI removal, the
         * remover's "removed" line), else a method any find names (the
         * remover downloaded or run). */
        kt_removal how = kt_removal_from_name(e->removal_method);
        if (how != KT_REMOVAL_NONE && e->category == KT_CAT_REMOVAL && method == KT_REMOVAL_NONE)
            method = how;
        if (how != KT_REMOVAL_NONE && method_other == KT_REMOVAL_NONE)
            method_other = how;
        /* A display name from the registry beats the definition's name. */
        if (!named && e->product_name && e->artifact &&
            e->artifact->product.from == KT_NAME_VALUE) {
            kt_strlcpy(f->name, e->product_name, sizeof f->name);
            named = true;
        }
        if (live(e) && e->role == KT_ROLE_REGISTRATION)
            registration = true;
        if (live(e) && e->role == KT_ROLE_PROGRAM)
            program = true;
        if (live(e) && (e->role == KT_ROLE_PROGRAM || e->role == KT_ROLE_RESIDUE))
            files_left = true;
    }
    if (f->last_ksn_evidence != KT_TIME_NONE &&
        (ksn_off == KT_TIME_NONE || f->last_ksn_evidence >= ksn_off))
        f->ksn = KT_KSN_ENABLED;
    else if (ksn_off != KT_TIME_NONE)
        f->ksn = KT_KSN_DISABLED;
    f->installed = install_record != KT_TIME_NONE  ? install_record
                   : install_exact != KT_TIME_NONE ? install_exact
                                                   : install_day;
    if (removed_by_tool != KT_TIME_NONE)
        f->removed = removed_by_tool;
    set_ids(&rc, &f->ev_installed, g->ev, g->nev, f->installed,
            install_record != KT_TIME_NONE  ? is_install_record
            : install_exact != KT_TIME_NONE ? is_install_exact
                                            : is_install);
    set_ids(&rc, &f->ev_first_seen, g->ev, g->nev, f->first_seen, NULL);
    set_ids(&rc, &f->ev_signature, g->ev, g->nev, f->last_signature_update, is_signature);
    set_ids(&rc, &f->ev_ksn, g->ev, g->nev,
            f->ksn == KT_KSN_DISABLED ? ksn_off : f->last_ksn_evidence, is_ksn);
    set_ids(&rc, &f->ev_execution, g->ev, g->nev, f->last_execution, is_execution);

    /* Versions: releases that are prefixes of one another are the same
     * ("21.3" and "21.3.10.391"); more than one release is a codebase
     * update, at the first sight of each newer one. */
    const char *best = NULL;
    for (size_t i = 0; i < g->nev; i++) {
        const char *v = g->ev[i]->version;
        if (v == NULL || version_parts(v) == 0)
            continue;
        if (best == NULL || version_cmp(v, best) > 0 ||
            (version_cmp(v, best) == 0 && version_parts(v) > version_parts(best)))
            best = v;
    }
    if (best) {
        kt_strlcpy(f->version, best, sizeof f->version);
        for (size_t i = 0; i < g->nev; i++)
            if (g->ev[i]->version && version_cmp(g->ev[i]->version, best) == 0 &&
                version_parts(g->ev[i]->version))
                add_id(&rc, &f->ev_version, g->ev[i]->id);
        const char *lowest = best;
        for (size_t i = 0; i < g->nev; i++) {
            const char *v = g->ev[i]->version;
            if (v && version_parts(v) && version_cmp(v, lowest) < 0)
                lowest = v;
        }
        /* For each release above the lowest, its first sighting. */
        for (size_t i = 0; i < g->nev; i++) {
            const char *v = g->ev[i]->version;
            if (!v || !version_parts(v) || version_cmp(v, lowest) == 0)
                continue;
            kt_time first = KT_TIME_NONE;
            for (size_t k = 0; k < g->nev; k++)
                if (g->ev[k]->version && version_parts(g->ev[k]->version) &&
                    version_cmp(g->ev[k]->version, v) == 0 &&
                    (first == KT_TIME_NONE || g->ev[k]->time < first))
                    first = g->ev[k]->time;
            if (first != KT_TIME_NONE &&
                (f->last_codebase_update == KT_TIME_NONE || first > f->last_codebase_update))
                f->last_codebase_update = first;
        }
        for (size_t i = 0; f->last_codebase_update != KT_TIME_NONE && i < g->nev; i++)
            if (g->ev[i]->time == f->last_codebase_update &&
                (g->ev[i]->category == KT_CAT_CODEBASE_UPDATE ||
                 (g->ev[i]->version && version_parts(g->ev[i]->version) &&
                  version_cmp(g->ev[i]->version, lowest) != 0)))
                add_id(&rc, &f->ev_codebase, g->ev[i]->id);
    }

    bool removal_seen = f->removed != KT_TIME_NONE || removed_by_tool != KT_TIME_NONE;
    if (registration && (program || !removal_seen)) {
        /* Registered without program files and with no removal seen:
         * either the files were deleted and the registration outlived
         * them, or the evidence does not hold them (a collection of
         * hives). Neither is a removal kavtrace can show. */
        f->status = program ? KT_STATUS_PRESENT : KT_STATUS_REGISTERED;
        f->removed = KT_TIME_NONE;
    } else {
        f->status = files_left ? KT_STATUS_RESIDUE : KT_STATUS_REMOVED;
        f->removal_method = method != KT_REMOVAL_NONE         ? method
                            : method_other != KT_REMOVAL_NONE ? method_other
                                                              : KT_REMOVAL_UNKNOWN;
        set_ids(&rc, &f->ev_removed, g->ev, g->nev, f->removed, is_removal);
    }
    for (size_t i = 0; i < g->nev; i++) {
        const kt_event *e = g->ev[i];
        bool reg = live(e) && e->role == KT_ROLE_REGISTRATION;
        bool files = live(e) && (e->role == KT_ROLE_PROGRAM || e->role == KT_ROLE_RESIDUE);
        if (reg || files)
            add_id(&rc, &f->ev_status, e->id);
    }
    return rc;
}

/* ---- verdicts ------------------------------------------------------------------- */

static void ids_from(int *rc, kt_strlist *dst, const kt_strlist *src)
{
    for (size_t i = 0; i < src->count; i++)
        add_id(rc, dst, src->items[i]);
}

/* Whether a product was there past the cutoff: still present, removed at
 * or after it, or removed at a time nothing shows. */
static bool past_cutoff(const kt_product_finding *p, kt_time t_cut)
{
    return p->status == KT_STATUS_PRESENT || p->removed == KT_TIME_NONE ||
           (t_cut != KT_TIME_NONE && p->removed >= t_cut);
}

static bool ksn_off_event(const kt_event *e)
{
    return e->category == KT_CAT_KSN && e->artifact && e->artifact->ksn_disabled;
}

/* KSN after the cutoff, for one product (docs/findings.md). */
static kt_tri ksn_vote(const group *g, kt_time t_cut)
{
    const kt_product_finding *f = &g->f;
    if (f->last_ksn_evidence != KT_TIME_NONE && t_cut != KT_TIME_NONE &&
        f->last_ksn_evidence >= t_cut)
        return KT_TRUE; /* in use after the cutoff */
    if (!past_cutoff(f, t_cut))
        return KT_FALSE;
    if (f->ksn == KT_KSN_ENABLED)
        return KT_TRUE; /* on, and nothing later turns it off */
    if (f->ksn == KT_KSN_UNKNOWN)
        return KT_NULL;
    /* Off by its newest find. The state at the cutoff is that of the
     * newest find at or before it (on wins a tie, as for `ksn`). */
    kt_time on = KT_TIME_NONE, off = KT_TIME_NONE, first = KT_TIME_NONE;
    bool first_off = false;
    for (size_t i = 0; i < g->nev; i++) {
        const kt_event *e = g->ev[i];
        if (e->category != KT_CAT_KSN)
            continue;
        if (first == KT_TIME_NONE || e->time < first || (e->time == first && !ksn_off_event(e))) {
            first = e->time;
            first_off = ksn_off_event(e);
        }
        if (t_cut == KT_TIME_NONE || e->time > t_cut)
            continue;
        kt_time *slot = ksn_off_event(e) ? &off : &on;
        if (*slot == KT_TIME_NONE || e->time > *slot)
            *slot = e->time;
    }
    if (on != KT_TIME_NONE && (off == KT_TIME_NONE || on >= off))
        return KT_NULL; /* on at the cutoff, off by a later find: since when is not known */
    if (off != KT_TIME_NONE)
        return KT_FALSE; /* off at the cutoff, and nothing later turns it on */
    /* Every KSN find is after the cutoff, all of them off: off from the
     * start only if it was turned off at or before the install (the
     * KSN Statement declined during setup). */
    return first_off && f->installed != KT_TIME_NONE && first <= f->installed ? KT_FALSE : KT_NULL;
}

static int verdicts(kt_system_finding *s, const kt_artifact_set *set, const kt_tri *ksn_votes)
{
    int rc = KT_OK;
    const kt_milestone *ban = kt_artifacts_milestone(set, KT_MILESTONE_SALES_BAN);
    const kt_milestone *cut = kt_artifacts_milestone(set, KT_MILESTONE_CUTOFF);
    kt_time t_ban = ban ? ban->time : KT_TIME_NONE, t_cut = cut ? cut->time : KT_TIME_NONE;
    size_t subject = 0;
    bool present = false, unknown_install = false, after_ban = false;
    bool sig_after = false, sig_unknown = false, code_after = false;
    bool ksn_after = false, ksn_unknown = false;
    kt_strlist ksn_true = {0}, ksn_false = {0}; /* the events behind each answer */
    bool still_at_cutoff = false, removal_unknown = false, registered_only = false;
    kt_strlist *ev = s->verdict_ev;
    for (size_t i = 0; i < s->nproducts; i++) {
        kt_product_finding *p = &s->products[i];
        /* Over the covered products only: an exempt one (CyberTrace) is
         * listed, never a subject. */
        if (!p->subject || p->exempt)
            continue;
        subject++;
        ids_from(&rc, &ev[KT_V_EVER_INSTALLED], &p->ev_first_seen);
        bool is_present = p->status == KT_STATUS_PRESENT;
        if (is_present) {
            present = true;
            ids_from(&rc, &ev[KT_V_PRESENT_AT_ACQUISITION], &p->ev_status);
        } else if (p->status == KT_STATUS_REGISTERED) {
            registered_only = true;
        }
        if (p->installed == KT_TIME_NONE)
            unknown_install = true;
        else if (t_ban != KT_TIME_NONE && p->installed >= t_ban) {
            after_ban = true;
            ids_from(&rc, &ev[KT_V_INSTALLED_AFTER_SALES_BAN], &p->ev_installed);
        }
        bool past_cut = past_cutoff(p, t_cut);
        if (past_cut) {
            still_at_cutoff = still_at_cutoff || is_present || p->removed != KT_TIME_NONE;
            removal_unknown = removal_unknown || (!is_present && p->removed == KT_TIME_NONE);
        }
        if (p->last_signature_update != KT_TIME_NONE && t_cut != KT_TIME_NONE &&
            p->last_signature_update >= t_cut) {
            sig_after = true;
            ids_from(&rc, &ev[KT_V_SIGNATURE_UPDATE_AFTER_CUTOFF], &p->ev_signature);
        } else if (p->last_signature_update == KT_TIME_NONE && past_cut) {
            /* A product without signatures (a VPN) leaves nothing open. */
            const kt_product_def *def = kt_artifacts_product(set, p->id);
            sig_unknown = sig_unknown || !(def && def->no_signatures);
        }
        if (p->last_codebase_update != KT_TIME_NONE && t_cut != KT_TIME_NONE &&
            p->last_codebase_update >= t_cut) {
            code_after = true;
            ids_from(&rc, &ev[KT_V_CODEBASE_UPDATE_AFTER_CUTOFF], &p->ev_codebase);
        }
        ksn_after = ksn_after || ksn_votes[i] == KT_TRUE;
        ksn_unknown = ksn_unknown || ksn_votes[i] == KT_NULL;
        if (ksn_votes[i] == KT_TRUE) {
            /* KSN on, and the product there past the cutoff */
            ids_from(&rc, &ksn_true, &p->ev_ksn);
            ids_from(&rc, &ksn_true, is_present ? &p->ev_status : &p->ev_removed);
        } else if (ksn_votes[i] == KT_FALSE) {
            /* off at the cutoff, or gone before it */
            ids_from(&rc, &ksn_false, past_cut ? &p->ev_ksn : &p->ev_removed);
        }
        if (!is_present && p->removed != KT_TIME_NONE)
            ids_from(&rc, &ev[KT_V_REMOVED_BEFORE_CUTOFF], &p->ev_removed);
    }
    kt_tri *v = s->verdicts;
    v[KT_V_EVER_INSTALLED] = subject ? KT_TRUE : KT_FALSE;
    v[KT_V_PRESENT_AT_ACQUISITION] = present ? KT_TRUE : registered_only ? KT_NULL : KT_FALSE;
    v[KT_V_INSTALLED_AFTER_SALES_BAN] = after_ban ? KT_TRUE : unknown_install ? KT_NULL : KT_FALSE;
    v[KT_V_SIGNATURE_UPDATE_AFTER_CUTOFF] = sig_after ? KT_TRUE : sig_unknown ? KT_NULL : KT_FALSE;
    v[KT_V_CODEBASE_UPDATE_AFTER_CUTOFF] = code_after ? KT_TRUE : KT_FALSE;
    v[KT_V_KSN_AFTER_CUTOFF] = !subject      ? KT_FALSE
                               : ksn_after   ? KT_TRUE
                               : ksn_unknown ? KT_NULL
                                             : KT_FALSE;
    v[KT_V_REMOVED_BEFORE_CUTOFF] = !subject          ? KT_NULL
                                    : still_at_cutoff ? KT_FALSE
                                    : removal_unknown ? KT_NULL
                                                      : KT_TRUE;
    if (v[KT_V_KSN_AFTER_CUTOFF] != KT_NULL)
        ids_from(&rc, &ev[KT_V_KSN_AFTER_CUTOFF],
                 v[KT_V_KSN_AFTER_CUTOFF] == KT_TRUE ? &ksn_true : &ksn_false);
    kt_strlist_release(&ksn_true);
    kt_strlist_release(&ksn_false);
    v[KT_V_MIGRATED_TO_ULTRAAV] = s->migrated ? KT_TRUE : KT_FALSE;
    if (s->migrated)
        ids_from(&rc, &ev[KT_V_MIGRATED_TO_ULTRAAV], &s->migration_ev);
    if (v[KT_V_REMOVED_BEFORE_CUTOFF] != KT_TRUE)
        kt_strlist_release(&ev[KT_V_REMOVED_BEFORE_CUTOFF]);
    return rc;
}

static const kt_event *event_by_id(const kt_timeline *tl, const char *id);

/* ---- white label ---------------------------------------------------------------- */

static bool has(const kt_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i], s) == 0)
            return true;
    return false;
}

static void add_once(int *rc, kt_strlist *l, const char *s)
{
    if (s && *s && !has(l, s))
        add_id(rc, l, s);
}

/* The host's folder: e's path up to the component that names the host
 * ("Program Files/Acme Shield" of "Program Files/Acme Shield/av/appinfo.kli"). */
static void host_folder(const kt_event *e, char *out, size_t len)
{
    out[0] = '\0';
    if (e->path == NULL || e->product_name == NULL)
        return;
    size_t hl = strlen(e->product_name);
    for (const char *p = e->path; *p;) {
        size_t l = strcspn(p, "/");
        if (l == hl && strncasecmp(p, e->product_name, l) == 0) {
            snprintf(out, len, "%.*s", (int)(p - e->path + l), e->path);
            return;
        }
        p += l;
        while (*p == '/')
            p++;
    }
}

/* What a find found: a file's name (with its version: the legal name a
 * PE carries), or a registry key and value. */
static void marker_of(const kt_event *e, char *out, size_t len)
{
    if (e->path) {
        /* a PE's: with the Kaspersky legal name it carries (its version) */
        const char *slash = strrchr(e->path, '/');
        snprintf(out, len, "%s%s%s%s", slash ? slash + 1 : e->path, e->version ? " (" : "",
                 e->version ? e->version : "", e->version ? ")" : "");
    } else if (e->key) {
        snprintf(out, len, "%s%s%s", e->key, e->value ? "\\" : "", e->value ? e->value : "");
    } else {
        kt_strlcpy(out, e->artifact ? e->artifact->id : "", len);
    }
}

static bool is_bases(const kt_event *e)
{
    return e->category == KT_CAT_SIGNATURE_UPDATE;
}

/* The uninstall entries that own each integration's files (role
 * host_product, named by the host: src/collect/owner.c), one per key, and
 * why there is no host product when there is not exactly one. */
static int host_products(kt_system_finding *out, const kt_artifact_set *set, const kt_timeline *tl,
                         int volume)
{
    int rc = KT_OK;
    for (size_t i = 0; i < tl->count && rc == KT_OK; i++) {
        const kt_event *e = &tl->items[i];
        if (e->volume != volume || e->role != KT_ROLE_HOST_PRODUCT || e->product_name == NULL)
            continue;
        kt_integration *g = NULL;
        for (size_t k = 0; k < out->nintegrations && g == NULL; k++)
            if (strcasecmp(out->integrations[k].host, e->product_name) == 0)
                g = &out->integrations[k];
        if (g == NULL)
            continue;
        kt_host_product *o = NULL;
        for (size_t k = 0; k < g->nowners && o == NULL; k++)
            if (strcmp(g->owners[k].key, e->key ? e->key : "") == 0 &&
                strcmp(g->owners[k].hive, e->hive ? e->hive : "") == 0)
                o = &g->owners[k];
        if (o == NULL) {
            o = kt_realloc(g->owners, (g->nowners + 1) * sizeof *o);
            if (o == NULL)
                return KT_ENOMEM;
            g->owners = o;
            o = &o[g->nowners++];
            memset(o, 0, sizeof *o);
            o->installed = o->key_written = KT_TIME_NONE;
            kt_strlcpy(o->hive, e->hive ? e->hive : "", sizeof o->hive);
            kt_strlcpy(o->key, e->key ? e->key : "", sizeof o->key);
            kt_strlcpy(o->display_name, e->display_name ? e->display_name : "",
                       sizeof o->display_name);
            kt_strlcpy(o->publisher, e->publisher ? e->publisher : "", sizeof o->publisher);
            kt_strlcpy(o->version, e->version ? e->version : "", sizeof o->version);
            kt_strlcpy(o->folder, e->install_folder ? e->install_folder : "", sizeof o->folder);
        }
        if (e->category == KT_CAT_INSTALL)
            o->installed = e->time;
        else
            o->key_written = e->time;
        add_id(&rc, &o->ev, e->id);
    }
    for (size_t k = 0; k < out->nintegrations; k++) {
        kt_integration *g = &out->integrations[k];
        char *r = g->host_product_reason;
        size_t len = sizeof g->host_product_reason;
        bool files = false;
        const char *os = NULL;
        for (size_t i = 0; i < g->ev_all.count; i++) {
            const kt_event *e = event_by_id(tl, g->ev_all.items[i]);
            files = files || (e && e->path);
            if (e && e->artifact && e->artifact->os)
                os = e->artifact->os;
        }
        /* whether any definition looks for owners on the host's system */
        bool looked = false;
        for (size_t i = 0; os && i < set->nartifacts && !looked; i++)
            looked = set->artifacts[i].role == KT_ROLE_HOST_PRODUCT && set->artifacts[i].os &&
                     strcmp(set->artifacts[i].os, os) == 0;
        if (g->nowners > 1) {
            size_t n =
                (size_t)snprintf(r, len, "%zu uninstall entries own its files alike:", g->nowners);
            for (size_t i = 0; i < g->nowners && n < len; i++)
                n += (size_t)snprintf(r + n, len - n, "%s '%s' (%s)", i ? "," : "",
                                      g->owners[i].display_name, g->owners[i].key);
        } else if (g->nowners == 0 && !looked) {
            snprintf(r, len, "no definition looks for the product that owns a folder on %s",
                     os ? os : "this system");
        } else if (g->nowners == 0) {
            kt_strlcpy(r,
                       files ? "no uninstall entry names a folder that holds its files"
                             : "found in the registry only: no folder of its to match an "
                               "uninstall entry against",
                       len);
        }
    }
    return rc;
}

/* Integrations (role integration, one per host) and bundled tools (role
 * bundled_tool, one per file) of volume `volume`, and the verdict's true. */
static int white_label(kt_system_finding *out, const kt_artifact_set *set, const kt_timeline *tl,
                       int volume)
{
    const kt_milestone *cut = kt_artifacts_milestone(set, KT_MILESTONE_CUTOFF);
    int rc = KT_OK;
    for (size_t i = 0; i < tl->count && rc == KT_OK; i++) {
        const kt_event *e = &tl->items[i];
        if (kt_event_system(e) != volume)
            continue;
        char text[1024];
        if (e->role == KT_ROLE_BUNDLED_TOOL) {
            const char *path = e->path ? e->path : "";
            kt_bundled_tool *t = NULL;
            for (size_t k = 0; k < out->ntools && t == NULL; k++)
                if (strcmp(out->tools[k].path, path) == 0)
                    t = &out->tools[k];
            if (t == NULL) {
                t = kt_realloc(out->tools, (out->ntools + 1) * sizeof *t);
                if (t == NULL)
                    return KT_ENOMEM;
                out->tools = t;
                t = &t[out->ntools++];
                memset(t, 0, sizeof *t);
                t->first_seen = KT_TIME_NONE;
                kt_strlcpy(t->path, path, sizeof t->path);
                marker_of(e, text, sizeof text);
                kt_strlcpy(t->name, e->product_name ? e->product_name : text, sizeof t->name);
            }
            if (t->first_seen == KT_TIME_NONE || e->time < t->first_seen)
                t->first_seen = e->time;
            add_id(&rc, &t->ev, e->id);
            continue;
        }
        if (e->role != KT_ROLE_INTEGRATION || e->product_name == NULL)
            continue;
        kt_integration *g = NULL;
        for (size_t k = 0; k < out->nintegrations && g == NULL; k++)
            if (strcasecmp(out->integrations[k].host, e->product_name) == 0)
                g = &out->integrations[k];
        if (g == NULL) {
            g = kt_realloc(out->integrations, (out->nintegrations + 1) * sizeof *g);
            if (g == NULL)
                return KT_ENOMEM;
            out->integrations = g;
            g = &g[out->nintegrations++];
            memset(g, 0, sizeof *g);
            g->first_seen = g->last_bases_update = KT_TIME_NONE;
            kt_strlcpy(g->host, e->product_name, sizeof g->host);
        }
        if (g->folder[0] == '\0')
            host_folder(e, g->folder, sizeof g->folder);
        add_once(&rc, &g->components, e->product_id);
        marker_of(e, text, sizeof text);
        add_once(&rc, &g->markers, text);
        add_id(&rc, &g->ev_all, e->id);
        if (g->first_seen == KT_TIME_NONE || e->time < g->first_seen)
            g->first_seen = e->time;
        if (is_bases(e) && (g->last_bases_update == KT_TIME_NONE || e->time > g->last_bases_update))
            g->last_bases_update = e->time;
    }
    rc = rc ? rc : host_products(out, set, tl, volume);
    /* The events behind first_seen and the bases date. */
    for (size_t k = 0; k < out->nintegrations && rc == KT_OK; k++) {
        kt_integration *g = &out->integrations[k];
        for (size_t i = 0; i < g->ev_all.count; i++) {
            const kt_event *e = event_by_id(tl, g->ev_all.items[i]);
            if (e && e->time == g->first_seen)
                add_id(&rc, &g->ev_first_seen, e->id);
            if (e && is_bases(e) && e->time == g->last_bases_update)
                add_id(&rc, &g->ev_bases, e->id);
        }
        g->bases_after_cutoff =
            cut && g->last_bases_update != KT_TIME_NONE && g->last_bases_update >= cut->time;
        ids_from(&rc, &out->verdict_ev[KT_V_CODE_IN_OTHER_PRODUCTS], &g->ev_first_seen);
    }
    out->verdicts[KT_V_CODE_IN_OTHER_PRODUCTS] = out->nintegrations ? KT_TRUE : KT_NULL;
    return rc;
}

/* ---- backing ------------------------------------------------------------------- */

/* The event numbered `id`: kt_timeline_finish numbers them in order, so
 * "E000123" is the 123rd (a search when it is not). */
static const kt_event *event_by_id(const kt_timeline *tl, const char *id)
{
    unsigned long n = id[0] == 'E' ? strtoul(id + 1, NULL, 10) : 0;
    if (n >= 1 && n <= tl->count && strcmp(tl->items[n - 1].id, id) == 0)
        return &tl->items[n - 1];
    return kt_timeline_find(tl, id);
}

/* Each verdict's backing: the strongest that the definitions of the events
 * behind it name (real > vendor-doc > third-party > inferred > unknown). */
static void verdict_backing(kt_system_finding *s, const kt_timeline *tl)
{
    for (int v = 0; v < KT_V_COUNT; v++) {
        kt_backing best = KT_BACKING_UNKNOWN;
        for (size_t i = 0; i < s->verdict_ev[v].count; i++) {
            const kt_event *e = event_by_id(tl, s->verdict_ev[v].items[i]);
            if (e && e->artifact && e->artifact->backing > best)
                best = e->artifact->backing;
        }
        s->verdict_backing[v] = best;
    }
}

/* ---- state at an instant ------------------------------------------------------- */

#define DAY_NS (INT64_C(86400) * KT_NS_PER_SEC)

/* The milestones a system's state is always given at. */
static const char *const state_milestones[] = {KT_MILESTONE_SALES_BAN, "vendor_cutoff",
                                               KT_MILESTONE_CUTOFF};

/* An event shows the product there at its time: its install, its updates,
 * KSN, work, configuration, or a registration or program file (not a
 * leftover file, whose times can be those of the removal). */
static bool shows_installed(const kt_event *e)
{
    switch (e->category) {
    case KT_CAT_INSTALL:
    case KT_CAT_SIGNATURE_UPDATE:
    case KT_CAT_CODEBASE_UPDATE:
    case KT_CAT_UPDATE:
    case KT_CAT_KSN:
    case KT_CAT_EXECUTION:
    case KT_CAT_DETECTION:
        return true;
    case KT_CAT_REMOVAL:
        return false;
    default:
        return e->role == KT_ROLE_REGISTRATION || e->role == KT_ROLE_PROGRAM;
    }
}

/* Whether e is at or before t for certain: a day-precision time (a local
 * date's midnight) counts only when its whole day is. */
static bool by(const kt_event *e, kt_time t)
{
    return e->precision == KT_PREC_DAY ? e->time <= t - DAY_NS : e->time <= t;
}

/* A day-precision event whose day holds t: before or after it, unknown. */
static bool straddles(const kt_event *e, kt_time t)
{
    return e->precision == KT_PREC_DAY && e->time <= t && t - DAY_NS < e->time;
}

static void ids_at(int *rc, kt_strlist *l, const kt_event *const *ev, size_t n, kt_time t,
                   kt_time at, bool (*pick)(const kt_event *))
{
    for (size_t i = 0; i < n; i++)
        if (ev[i]->time == at && by(ev[i], t) && pick(ev[i]))
            add_id(rc, l, ev[i]->id);
}

static bool is_codebase(const kt_event *e)
{
    return e->category == KT_CAT_CODEBASE_UPDATE;
}

static bool has_version(const kt_event *e)
{
    return e->version && version_parts(e->version) > 0;
}

/* The product at work: updated, run, detecting, talking to KSN. */
static bool at_work(const kt_event *e)
{
    return shows_installed(e) && e->category != KT_CAT_INSTALL && e->category != KT_CAT_PRESENCE &&
           e->category != KT_CAT_MIGRATION && e->category != KT_CAT_CONFIG;
}

/* Whether e, found in a shadow copy taken after t, shows the product
 * there when the copy was taken: it shows it installed, and no removal in
 * the same copy comes after it. */
static bool store_shows_after(const kt_event *e, const kt_event *const *ev, size_t n, kt_time t)
{
    if (e->store == 0 || e->store_created == KT_TIME_NONE || e->store_created <= t ||
        !shows_installed(e))
        return false;
    for (size_t k = 0; k < n; k++)
        if (ev[k]->store == e->store && ev[k]->volume == e->volume &&
            ev[k]->category == KT_CAT_REMOVAL && ev[k]->time >= e->time)
            return false;
    return true;
}

/* The state of product p (its events ev) at t (docs/findings.md). */
static int product_state(const kt_product_finding *p, const kt_event *const *ev, size_t n,
                         kt_time t, kt_product_state *s)
{
    int rc = KT_OK;
    memset(s, 0, sizeof *s);
    kt_strlcpy(s->id, p->id, sizeof s->id);
    s->last_signature_update = s->last_codebase_update = KT_TIME_NONE;
    kt_time seen = KT_TIME_NONE, gone = KT_TIME_NONE, install_after = KT_TIME_NONE;
    bool before_t = false, seen_after = false;
    /* A shadow copy taken after t that still holds the product: the first
     * such copy, and its newest event showing the product. */
    const kt_event *store_after = NULL;
    for (size_t i = 0; i < n; i++) {
        const kt_event *e = ev[i];
        if (store_shows_after(e, ev, n, t) &&
            (store_after == NULL || e->store_created < store_after->store_created ||
             (e->store_created == store_after->store_created && e->time > store_after->time)))
            store_after = e;
        if (by(e, t)) {
            before_t = true;
            kt_time *slot = e->category == KT_CAT_REMOVAL ? &gone
                            : shows_installed(e)          ? &seen
                                                          : NULL;
            if (slot && (*slot == KT_TIME_NONE || e->time > *slot))
                *slot = e->time;
        } else if (!straddles(e, t)) { /* surely after t */
            if (e->category == KT_CAT_INSTALL &&
                (install_after == KT_TIME_NONE || e->time < install_after))
                install_after = e->time;
            if (at_work(e))
                seen_after = true;
        }
    }
    /* Gone at acquisition with its removal dated by nothing: whether the
     * removal came before t cannot be told, unless the product is seen at
     * work after t (an update, a run: from any copy of the past, a hive's
     * free cells or logs, a shadow copy), or a shadow copy taken after t
     * still holds it: its removal came after that. */
    seen_after = seen_after || store_after != NULL;
    bool undated = (p->status == KT_STATUS_REMOVED || p->status == KT_STATUS_RESIDUE) &&
                   p->removed == KT_TIME_NONE;
    bool gone_undated = undated && !seen_after;
    if (gone != KT_TIME_NONE && (seen == KT_TIME_NONE || gone >= seen)) {
        s->installed = KT_FALSE; /* removed, and nothing after shows it back by t */
        ids_at(&rc, &s->ev_installed, ev, n, t, gone, is_removal);
    } else if (seen != KT_TIME_NONE && !gone_undated) {
        s->installed = KT_TRUE; /* there, and no removal by t */
        ids_at(&rc, &s->ev_installed, ev, n, t, seen, shows_installed);
        /* and the shadow copy after t that shows it lasted */
        bool listed = false;
        for (size_t i = 0; store_after && i < s->ev_installed.count && !listed; i++)
            listed = strcmp(s->ev_installed.items[i], store_after->id) == 0;
        if (store_after && undated && !listed)
            add_id(&rc, &s->ev_installed, store_after->id);
    } else if (!before_t && install_after != KT_TIME_NONE) {
        /* Nothing by t, an install surely after it: not yet installed (a
         * local date of that day is the same install). */
        s->installed = KT_FALSE;
        for (size_t i = 0; i < n; i++)
            if (ev[i]->category == KT_CAT_INSTALL && ev[i]->time == install_after)
                add_id(&rc, &s->ev_installed, ev[i]->id);
    } else {
        s->installed = KT_NULL;
    }

    /* The newest signature update and KSN find by t. */
    kt_time on = KT_TIME_NONE, off = KT_TIME_NONE;
    for (size_t i = 0; i < n; i++) {
        const kt_event *e = ev[i];
        if (!by(e, t))
            continue;
        if (is_signature(e) &&
            (s->last_signature_update == KT_TIME_NONE || e->time > s->last_signature_update))
            s->last_signature_update = e->time;
        if (is_ksn(e)) {
            kt_time *slot = ksn_off_event(e) ? &off : &on;
            if (*slot == KT_TIME_NONE || e->time > *slot)
                *slot = e->time;
        }
    }
    ids_at(&rc, &s->ev_signature, ev, n, t, s->last_signature_update, is_signature);
    s->ksn_applies = s->installed != KT_FALSE;
    if (s->ksn_applies) {
        s->ksn = on != KT_TIME_NONE && (off == KT_TIME_NONE || on >= off) ? KT_KSN_ENABLED
                 : off != KT_TIME_NONE                                    ? KT_KSN_DISABLED
                                                                          : KT_KSN_UNKNOWN;
        if (s->ksn != KT_KSN_UNKNOWN)
            ids_at(&rc, &s->ev_ksn, ev, n, t, s->ksn == KT_KSN_ENABLED ? on : off, is_ksn);
    }

    /* Versions seen by t: the highest is the version then (releases that
     * are prefixes of one another are one); a codebase update is a
     * codebase_update event or the first sighting of a release above the
     * lowest, as for the product. */
    const char *best = NULL, *lowest = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *v = ev[i]->version;
        if (!by(ev[i], t) || !has_version(ev[i]))
            continue;
        if (best == NULL || version_cmp(v, best) > 0 ||
            (version_cmp(v, best) == 0 && version_parts(v) > version_parts(best)))
            best = v;
        if (lowest == NULL || version_cmp(v, lowest) < 0)
            lowest = v;
    }
    for (size_t i = 0; i < n; i++) {
        const kt_event *e = ev[i];
        if (!by(e, t))
            continue;
        bool newer = lowest && has_version(e) && version_cmp(e->version, lowest) != 0;
        if (newer) {
            /* only the first sighting of that release */
            for (size_t k = 0; k < n && newer; k++)
                newer = !(by(ev[k], t) && has_version(ev[k]) &&
                          version_cmp(ev[k]->version, e->version) == 0 && ev[k]->time < e->time);
        }
        if ((is_codebase(e) || newer) &&
            (s->last_codebase_update == KT_TIME_NONE || e->time > s->last_codebase_update))
            s->last_codebase_update = e->time;
    }
    for (size_t i = 0; s->last_codebase_update != KT_TIME_NONE && i < n; i++)
        if (ev[i]->time == s->last_codebase_update && by(ev[i], t) &&
            (is_codebase(ev[i]) ||
             (has_version(ev[i]) && version_cmp(ev[i]->version, lowest) != 0)))
            add_id(&rc, &s->ev_codebase, ev[i]->id);
    if (best && s->installed != KT_FALSE) {
        kt_strlcpy(s->version, best, sizeof s->version);
        for (size_t i = 0; i < n; i++)
            if (by(ev[i], t) && has_version(ev[i]) && version_cmp(ev[i]->version, best) == 0)
                add_id(&rc, &s->ev_version, ev[i]->id);
    }
    return rc;
}

static void product_state_release(kt_product_state *s)
{
    kt_strlist_release(&s->ev_installed);
    kt_strlist_release(&s->ev_version);
    kt_strlist_release(&s->ev_signature);
    kt_strlist_release(&s->ev_codebase);
    kt_strlist_release(&s->ev_ksn);
}

static void state_release(kt_state_at *st)
{
    for (size_t i = 0; i < st->nproducts; i++)
        product_state_release(&st->products[i]);
    kt_free(st->products);
}

/* A lost source could hold what shows a product there: "not installed"
 * is then not known. */
static void state_losses(kt_state_at *st, size_t nlosses)
{
    for (size_t i = 0; nlosses && i < st->nproducts; i++) {
        kt_product_state *p = &st->products[i];
        if (p->installed != KT_FALSE)
            continue;
        p->installed = KT_NULL;
        p->ksn_applies = true;
        p->ksn = KT_KSN_UNKNOWN;
        kt_strlist_release(&p->ev_installed);
    }
}

int kt_findings_state_at(const kt_timeline *tl, kt_time t, const char *milestone,
                         kt_system_finding *f, kt_error *err)
{
    size_t at = 0;
    while (at < f->nstates && f->states[at].time < t)
        at++;
    if (at < f->nstates && f->states[at].time == t)
        return KT_OK;
    if (f->nstates >= KT_STATE_AT_MAX)
        return kt_error_set(err, KT_ELIMIT, "more than %d instants to give the state at",
                            KT_STATE_AT_MAX);
    kt_state_at st = {.time = t};
    kt_strlcpy(st.milestone, milestone ? milestone : "", sizeof st.milestone);
    st.products = kt_calloc(f->nproducts ? f->nproducts : 1, sizeof *st.products);
    const kt_event **ev = NULL;
    int rc = st.products ? KT_OK : KT_ENOMEM;
    for (size_t i = 0; i < f->nproducts && rc == KT_OK; i++) {
        const kt_product_finding *p = &f->products[i];
        const kt_event **grown =
            kt_realloc(ev, (p->ev_all.count ? p->ev_all.count : 1) * sizeof *ev);
        if (grown == NULL) {
            rc = KT_ENOMEM;
            break;
        }
        ev = grown;
        size_t n = 0;
        for (size_t k = 0; k < p->ev_all.count; k++) {
            const kt_event *e = event_by_id(tl, p->ev_all.items[k]);
            /* A shadow copy holds the volume as it was when taken: a time
             * it holds that is later (a wrong clock) dates nothing. */
            if (e && !(e->store && e->store_created != KT_TIME_NONE && e->time > e->store_created))
                ev[n++] = e;
        }
        rc = product_state(p, ev, n, t, &st.products[i]);
        st.nproducts = i + 1;
    }
    kt_free(ev);
    kt_state_at *grown =
        rc == KT_OK ? kt_realloc(f->states, (f->nstates + 1) * sizeof *grown) : NULL;
    if (grown == NULL) {
        state_release(&st);
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    }
    f->states = grown;
    state_losses(&st, f->nlosses);
    memmove(&f->states[at + 1], &f->states[at], (f->nstates - at) * sizeof *f->states);
    f->states[at] = st;
    f->nstates++;
    return KT_OK;
}

static const char *const removal_names[KT_REMOVAL_COUNT] = {
    [KT_REMOVAL_NONE] = NULL,
    [KT_REMOVAL_UNKNOWN] = "unknown",
    [KT_REMOVAL_MSI] = "msi",
    [KT_REMOVAL_KAVREMOVER] = "kavremover",
    [KT_REMOVAL_PACKAGE] = "package",
    [KT_REMOVAL_UNINSTALLER] = "uninstaller",
    [KT_REMOVAL_MIGRATION] = "migration",
};

const char *kt_removal_name(kt_removal r)
{
    return r < KT_REMOVAL_COUNT ? removal_names[r] : NULL;
}

kt_removal kt_removal_from_name(const char *name)
{
    for (int r = KT_REMOVAL_UNKNOWN; name && r < KT_REMOVAL_COUNT; r++)
        if (strcmp(name, removal_names[r]) == 0)
            return (kt_removal)r;
    return KT_REMOVAL_NONE;
}

const char *kt_status_name(kt_status s)
{
    switch (s) {
    case KT_STATUS_PRESENT:
        return "present";
    case KT_STATUS_REMOVED:
        return "removed";
    case KT_STATUS_RESIDUE:
        return "residue";
    case KT_STATUS_REGISTERED:
        return "registered";
    }
    return "?";
}

const char *kt_ksn_name(kt_ksn k)
{
    switch (k) {
    case KT_KSN_ENABLED:
        return "enabled";
    case KT_KSN_DISABLED:
        return "disabled";
    case KT_KSN_UNKNOWN:
        break;
    }
    return "unknown";
}

int kt_findings_build(const kt_artifact_set *set, const kt_timeline *tl, int volume,
                      kt_system_finding *out, kt_error *err)
{
    memset(out, 0, sizeof *out);
    out->volume = volume;
    out->migration_time = KT_TIME_NONE;
    group *gs = NULL;
    size_t n = 0;
    int rc = KT_OK;
    /* Identified events first, so unidentified ones can join a product. */
    for (int pass = 0; pass < 2 && rc == KT_OK; pass++) {
        for (size_t i = 0; i < tl->count && rc == KT_OK; i++) {
            const kt_event *e = &tl->items[i];
            /* A registry value without its key (a free cell's orphan,
             * matched by name only) is listed, never counted. */
            if (kt_event_system(e) != volume || e->vendor == NULL ||
                (pass == 0) != (e->product_id != NULL) || e->role == KT_ROLE_INTEGRATION ||
                e->role == KT_ROLE_BUNDLED_TOOL || e->role == KT_ROLE_HOST_PRODUCT ||
                (e->hive && e->key == NULL))
                continue;
            group *g = NULL;
            if (e->product_id) {
                g = group_for(&gs, &n, e->product_id, e->vendor,
                              kt_artifacts_product(set, e->product_id));
            } else {
                /* A find that names no known product joins the vendor's
                 * first primary product seen, in definition order, only
                 * when its artifact says it may (`join: primary`: a shared
                 * driver, the removal tool); else it stays unidentified. */
                bool may_join = e->artifact && e->artifact->join_primary;
                for (size_t d = 0; may_join && d < set->nproducts && g == NULL; d++) {
                    const kt_product_def *def = &set->products[d];
                    if (!def->primary || !def->vendor || strcmp(def->vendor, e->vendor) != 0)
                        continue;
                    for (size_t k = 0; k < n && g == NULL; k++)
                        if (gs[k].def == def)
                            g = &gs[k];
                }
                if (g == NULL) {
                    char id[64];
                    snprintf(id, sizeof id, "%s-unidentified", e->vendor);
                    g = group_for(&gs, &n, id, e->vendor, NULL);
                }
            }
            rc = g ? add_event(g, e) : KT_ENOMEM;
        }
    }
    if (rc) {
        for (size_t i = 0; i < n; i++) {
            kt_free(gs[i].ev);
            kt_strlist_release(&gs[i].f.ev_all);
        }
        kt_free(gs);
        return kt_error_set(err, rc, "out of memory");
    }
    /* A group with nothing that shows an install (only a downloaded removal
     * tool, say) is not a product on this system; its events stay in the
     * timeline. */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        bool installed = false;
        for (size_t k = 0; k < gs[i].nev && !installed; k++) {
            const kt_event *e = gs[i].ev[k];
            installed = e->role != KT_ROLE_NONE || e->category == KT_CAT_INSTALL ||
                        e->category == KT_CAT_SIGNATURE_UPDATE ||
                        e->category == KT_CAT_CODEBASE_UPDATE || e->category == KT_CAT_UPDATE;
        }
        if (installed) {
            gs[kept++] = gs[i];
        } else {
            kt_free(gs[i].ev);
            kt_strlist_release(&gs[i].f.ev_all);
        }
    }
    n = kept;
    out->products = kt_calloc(n ? n : 1, sizeof *out->products);
    if (out->products == NULL) {
        for (size_t i = 0; i < n; i++) {
            kt_free(gs[i].ev);
            kt_strlist_release(&gs[i].f.ev_all);
        }
        kt_free(gs);
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    }
    const kt_milestone *cut = kt_artifacts_milestone(set, KT_MILESTONE_CUTOFF);
    kt_tri *ksn_votes = kt_calloc(n ? n : 1, sizeof *ksn_votes);
    if (ksn_votes == NULL)
        rc = KT_ENOMEM;
    bool subject = false;
    for (size_t i = 0; i < n && rc == KT_OK; i++) {
        if (product_fields(&gs[i]) != KT_OK)
            rc = KT_ENOMEM;
        ksn_votes[i] = ksn_vote(&gs[i], cut ? cut->time : KT_TIME_NONE);
        subject = subject || (gs[i].f.subject && !gs[i].f.exempt);
    }
    /* Migration: the target installed on a system that had the subject. */
    for (size_t i = 0; i < n && subject; i++) {
        if (!gs[i].def || !gs[i].def->migration_target)
            continue;
        kt_time t = gs[i].f.installed != KT_TIME_NONE ? gs[i].f.installed : gs[i].f.first_seen;
        out->migrated = true;
        kt_strlcpy(out->migration_to, gs[i].f.name, sizeof out->migration_to);
        out->migration_time = t;
        ids_from(&rc, &out->migration_ev,
                 gs[i].f.installed != KT_TIME_NONE ? &gs[i].f.ev_installed
                                                   : &gs[i].f.ev_first_seen);
        /* A subject product removed up to a day before it: replaced by it. */
        for (size_t k = 0; k < n; k++) {
            kt_product_finding *p = &gs[k].f;
            if (p->subject && !p->exempt && p->removed != KT_TIME_NONE && t >= p->removed &&
                t - p->removed <= MIGRATION_WINDOW && p->removal_method == KT_REMOVAL_UNKNOWN)
                p->removal_method = KT_REMOVAL_MIGRATION;
        }
    }
    for (size_t i = 0; i < n; i++) {
        out->products[i] = gs[i].f;
        kt_free(gs[i].ev);
    }
    out->nproducts = n;
    kt_free(gs);
    if (rc == KT_OK)
        rc = verdicts(out, set, ksn_votes);
    kt_free(ksn_votes);
    if (rc == KT_OK)
        rc = white_label(out, set, tl, volume);
    if (rc == KT_OK)
        verdict_backing(out, tl);
    for (size_t i = 0; rc == KT_OK && i < sizeof state_milestones / sizeof *state_milestones; i++) {
        const kt_milestone *m = kt_artifacts_milestone(set, state_milestones[i]);
        if (m)
            rc = kt_findings_state_at(tl, m->time, m->id, out, err);
    }
    if (rc != KT_OK) {
        kt_system_finding_release(out);
        return kt_error_set(err, rc, "out of memory");
    }
    return KT_OK;
}

void kt_system_finding_release(kt_system_finding *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->nproducts; i++) {
        kt_product_finding *p = &f->products[i];
        kt_strlist_release(&p->ev_all);
        kt_strlist_release(&p->ev_installed);
        kt_strlist_release(&p->ev_first_seen);
        kt_strlist_release(&p->ev_signature);
        kt_strlist_release(&p->ev_codebase);
        kt_strlist_release(&p->ev_removed);
        kt_strlist_release(&p->ev_status);
        kt_strlist_release(&p->ev_version);
        kt_strlist_release(&p->ev_ksn);
        kt_strlist_release(&p->ev_execution);
    }
    kt_free(f->products);
    for (size_t i = 0; i < f->nintegrations; i++) {
        kt_integration *g = &f->integrations[i];
        for (size_t k = 0; k < g->nowners; k++)
            kt_strlist_release(&g->owners[k].ev);
        kt_free(g->owners);
        kt_strlist_release(&g->components);
        kt_strlist_release(&g->markers);
        kt_strlist_release(&g->ev_all);
        kt_strlist_release(&g->ev_first_seen);
        kt_strlist_release(&g->ev_bases);
    }
    kt_free(f->integrations);
    for (size_t i = 0; i < f->ntools; i++)
        kt_strlist_release(&f->tools[i].ev);
    kt_free(f->tools);
    for (size_t i = 0; i < f->nstates; i++)
        state_release(&f->states[i]);
    kt_free(f->states);
    kt_strlist_release(&f->migration_ev);
    for (int v = 0; v < KT_V_COUNT; v++)
        kt_strlist_release(&f->verdict_ev[v]);
    memset(f, 0, sizeof *f);
}

int kt_findings_account_losses(kt_system_finding *f, const kt_diags *diags)
{
    for (size_t i = 0; i < diags->count; i++) {
        const kt_diag *d = &diags->items[i];
        if (d->volume == f->volume && d->code && strcmp(d->code, KT_DIAG_WHITELABEL_SEARCHED) == 0)
            f->whitelabel_searched = true;
    }
    if (f->verdicts[KT_V_CODE_IN_OTHER_PRODUCTS] == KT_NULL && f->whitelabel_searched)
        f->verdicts[KT_V_CODE_IN_OTHER_PRODUCTS] = KT_FALSE;
    f->nlosses = 0;
    for (size_t i = 0; i < diags->count; i++) {
        const kt_diag *d = &diags->items[i];
        if ((d->volume < 0 || d->volume == f->volume) && kt_diag_is_loss(d))
            f->nlosses++;
    }
    if (f->nlosses == 0)
        return KT_OK;
    for (size_t i = 0; i < f->nstates; i++)
        state_losses(&f->states[i], f->nlosses);
    for (int v = 0; v < KT_V_COUNT; v++) {
        if (f->verdicts[v] != KT_FALSE)
            continue;
        f->verdicts[v] = KT_NULL;
        f->opened[v] = true;
        kt_strlist_release(&f->verdict_ev[v]);
    }
    return KT_OK;
}
