/* kavtrace: findings per system and product, and the verdicts.
 *
 * Built from a finished timeline; every field keeps the ids of the events
 * behind it. The rules are in docs/findings.md. */
#ifndef KAVTRACE_FINDINGS_H
#define KAVTRACE_FINDINGS_H

#include "kavtrace/artifacts.h"
#include "kavtrace/buf.h"
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
    KT_V_COUNT,
} kt_verdict;

const char *kt_verdict_name(kt_verdict v);

typedef struct kt_product_finding {
    char id[64];
    char vendor[32];
    char name[256];
    char version[64];
    kt_time first_seen, installed, last_signature_update, last_codebase_update, removed,
        last_ksn_evidence, last_execution;
    const char *ksn;            /* "enabled", "disabled", "unknown" */
    const char *status;         /* "present", "removed", "residue" */
    const char *removal_method; /* "kavremover", "migration", "unknown", or NULL */
    kt_strlist ev_all, ev_installed, ev_first_seen, ev_signature, ev_codebase, ev_removed,
        ev_status, ev_version, ev_ksn, ev_execution;
} kt_product_finding;

typedef struct kt_system_finding {
    int volume;
    kt_product_finding *products;
    size_t nproducts;
    bool migrated;
    char migration_to[64];
    kt_time migration_time;
    kt_strlist migration_ev;
    kt_tri verdicts[KT_V_COUNT];
    kt_strlist verdict_ev[KT_V_COUNT];
} kt_system_finding;

/* Findings for the events of volume `volume` in tl. out is overwritten;
 * release with kt_system_finding_release. */
int kt_findings_build(const kt_artifact_set *set, const kt_timeline *tl, int volume,
                      kt_system_finding *out, kt_error *err);
void kt_system_finding_release(kt_system_finding *f);

#endif
