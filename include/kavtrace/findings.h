/* kavtrace: findings per system and product, and the verdicts.
 *
 * Built from a finished timeline; every field keeps the ids of the events
 * behind it. The rules are in docs/findings.md. */
#ifndef KAVTRACE_FINDINGS_H
#define KAVTRACE_FINDINGS_H

#include "kavtrace/artifacts.h"
#include "kavtrace/buf.h"
#include "kavtrace/diag.h"
#include "kavtrace/timeline.h"

/* The vendor the verdicts are about (their names are a contract). */
#define KT_SUBJECT_VENDOR "kaspersky"

typedef enum kt_tri {
    KT_NULL,
    KT_FALSE,
    KT_TRUE,
} kt_tri;

typedef enum kt_verdict {
    KT_V_EVER_INSTALLED,
    KT_V_PRESENT_AT_ACQUISITION,
    KT_V_INSTALLED_AFTER_SALES_BAN,
    KT_V_SIGNATURE_UPDATE_AFTER_CUTOFF,
    KT_V_CODEBASE_UPDATE_AFTER_CUTOFF,
    KT_V_KSN_AFTER_CUTOFF,
    KT_V_REMOVED_BEFORE_CUTOFF,
    KT_V_MIGRATED_TO_ULTRAAV,
    /* Kaspersky code inside another vendor's product (white label): true
     * with any integration; false only over a white-label search that ran
     * (a `whitelabel.searched` note of the system); null when it could
     * not (no program folder in the evidence, no definitions for the
     * system). */
    KT_V_CODE_IN_OTHER_PRODUCTS,
    KT_V_COUNT,
} kt_verdict;

const char *kt_verdict_name(kt_verdict v);

/* What is left of a product at acquisition. */
typedef enum kt_status {
    KT_STATUS_PRESENT,    /* registered, and its program files are there */
    KT_STATUS_REMOVED,    /* nothing of it is left */
    KT_STATUS_RESIDUE,    /* removed, but files outlived it (drivers, config files) */
    KT_STATUS_REGISTERED, /* registered, its program files not found: deleted by
                           * hand, or not in the evidence (a hives-only collection) */
} kt_status;

typedef enum kt_ksn {
    KT_KSN_UNKNOWN,
    KT_KSN_ENABLED,
    KT_KSN_DISABLED,
} kt_ksn;

/* How a product was removed. */
typedef enum kt_removal {
    KT_REMOVAL_NONE, /* not removed */
    KT_REMOVAL_UNKNOWN,
    KT_REMOVAL_MSI,
    KT_REMOVAL_KAVREMOVER,
    KT_REMOVAL_PACKAGE,
    KT_REMOVAL_UNINSTALLER,
    KT_REMOVAL_MIGRATION, /* the migration target arrived within a day of it */
    KT_REMOVAL_COUNT,
} kt_removal;

/* "present", "removed", "residue"; "enabled", "disabled", "unknown";
 * "msi", "kavremover", ... (NULL for KT_REMOVAL_NONE). */
const char *kt_status_name(kt_status s);
const char *kt_ksn_name(kt_ksn k);
const char *kt_removal_name(kt_removal r);
/* The method a definition's removal_method names; KT_REMOVAL_NONE when
 * `name` is none of them. */
kt_removal kt_removal_from_name(const char *name);

typedef struct kt_product_finding {
    char id[64];
    char vendor[32];
    char name[256];
    char version[64];
    kt_time first_seen, installed, last_signature_update, last_codebase_update, removed,
        last_ksn_evidence, last_execution;
    kt_ksn ksn;
    kt_status status;
    kt_removal removal_method; /* KT_REMOVAL_NONE unless removed */
    /* The subject vendor's products: covered (a subject of the verdicts)
     * or exempt (listed with its facts, never a verdict's subject; its
     * exemption family in `exemption`). A product found under no
     * definition (kaspersky-unidentified) is covered: every Kaspersky
     * product that is not threat intelligence, training or consulting is. */
    bool subject, exempt;
    char exemption[32];
    kt_strlist ev_all, ev_installed, ev_first_seen, ev_signature, ev_codebase, ev_removed,
        ev_status, ev_version, ev_ksn, ev_execution;
} kt_product_finding;

/* A product's state at one instant (docs/findings.md, "State at an
 * instant"), from the events at or before it and the removals after it. */
typedef struct kt_product_state {
    char id[64];
    kt_tri installed;
    char version[64]; /* "" unknown, or not installed then */
    kt_time last_signature_update, last_codebase_update;
    bool ksn_applies; /* false when not installed then: ksn is null */
    kt_ksn ksn;
    kt_strlist ev_installed, ev_version, ev_signature, ev_codebase, ev_ksn;
} kt_product_state;

/* The uninstall entry that owns an integration's files (role
 * host_product events of one key): the host product as Windows lists it. */
typedef struct kt_host_product {
    char display_name[256], publisher[256], version[128];
    char hive[1024], key[512];
    char folder[1024];   /* the folder it names, on the volume */
    kt_time installed;   /* its InstallDate (a local date), KT_TIME_NONE */
    kt_time key_written; /* its key's LastWrite, KT_TIME_NONE */
    kt_strlist ev;
} kt_host_product;

/* Kaspersky code inside another vendor's product: the finds of one host
 * (role integration, grouped by the host's name without case). */
typedef struct kt_integration {
    char host[256];            /* the host product: the vendor's folder or key name */
    char folder[1024];         /* the host's folder ("Program Files/Acme Shield"), "" unknown */
    kt_strlist components;     /* the Kaspersky components' product ids */
    kt_strlist markers;        /* what was found: file names, registry keys and values */
    kt_time first_seen;        /* the earliest find */
    kt_time last_bases_update; /* the newest bases date (an update index's
                                * date, kdb.stt, bases file times) */
    bool bases_after_cutoff;   /* last_bases_update at or after the cutoff */
    kt_strlist ev_all, ev_first_seen, ev_bases;
    /* The uninstall entries that own its files (role host_product): one
     * is its host product; none or several (a tie) is no answer, and
     * host_product_reason says why. */
    kt_host_product *owners;
    size_t nowners;
    char host_product_reason[512];
} kt_integration;

/* A standalone Kaspersky tool shipped by a third party (role
 * bundled_tool): listed, never a product nor an integration. */
typedef struct kt_bundled_tool {
    char name[256];
    char path[1024];
    kt_time first_seen;
    kt_strlist ev;
} kt_bundled_tool;

/* The state of every product of a system at `time`: a milestone's instant
 * (milestone its id) or one asked for (--as-of; milestone ""). */
typedef struct kt_state_at {
    kt_time time;
    char milestone[32];
    kt_product_state *products; /* one per kt_system_finding product, in its order */
    size_t nproducts;
} kt_state_at;

/* How many instants a system's state is given at: the milestones' and
 * those asked for. */
#define KT_STATE_AT_MAX 64

typedef struct kt_system_finding {
    int volume;
    kt_product_finding *products;
    size_t nproducts;
    bool migrated;
    char migration_to[64];
    kt_time migration_time;
    kt_strlist migration_ev;
    kt_integration *integrations;
    size_t nintegrations;
    kt_bundled_tool *tools;
    size_t ntools;
    /* The white-label search ran over the system's program folders (its
     * note, KT_DIAG_WHITELABEL_SEARCHED, names them). */
    bool whitelabel_searched;
    kt_tri verdicts[KT_V_COUNT];
    kt_strlist verdict_ev[KT_V_COUNT];
    /* The strongest backing among the definitions of the events in
     * verdict_ev[v] (KT_BACKING_UNKNOWN when none of them says); meaningless
     * when verdict_ev[v] is empty. */
    kt_backing verdict_backing[KT_V_COUNT];
    /* Sources of this system (or of the whole item) that could not be
     * read, wholly or in part (kt_diag_is_loss), and the verdicts that
     * would have been false and are null for it. */
    size_t nlosses;
    bool opened[KT_V_COUNT];
    /* The state at each instant, in time order (kt_findings_build gives
     * the milestones sales_ban, vendor_cutoff and cutoff; kt_findings_state_at
     * adds others). */
    kt_state_at *states;
    size_t nstates;
} kt_system_finding;

/* Findings for the events of volume `volume` in tl. out is overwritten;
 * release with kt_system_finding_release. */
int kt_findings_build(const kt_artifact_set *set, const kt_timeline *tl, int volume,
                      kt_system_finding *out, kt_error *err);
void kt_system_finding_release(kt_system_finding *f);

/* A "no" needs every source read: when diags hold a loss of f's volume or
 * of the whole item, every false verdict of f becomes null (opened[v] says
 * which) and nlosses counts them. First, kaspersky_code_in_other_products
 * without an integration becomes false when the white-label search ran
 * over f's volume (its `whitelabel.searched` note; whitelabel_searched
 * says so), and stays null when it did not. Returns 0. */
int kt_findings_account_losses(kt_system_finding *f, const kt_diags *diags);

/* Add f's state at instant t (milestone: its id, or NULL for an instant
 * asked for), from the events of tl that f was built from. An instant
 * already there is not added again (a milestone's id is kept). With
 * f->nlosses set, a state's installed false is null. Returns 0, KT_ELIMIT
 * past KT_STATE_AT_MAX instants, or KT_ENOMEM (err says; f keeps the
 * states it had). */
int kt_findings_state_at(const kt_timeline *tl, kt_time t, const char *milestone,
                         kt_system_finding *f, kt_error *err);

#endif
