/* kavtrace artifacts list|check [DIR]: what the definitions cover. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "options.h"

/* The artifact's source and what it reads there: "registry:SOFTWARE",
 * "files:lines", "evtx". */
static void source_name(const kt_artifact *a, char *buf, size_t len)
{
    char detail[64];
    kt_artifact_source_detail(a, detail, sizeof detail);
    snprintf(buf, len, "%s%s%s", kt_artifact_source(a), detail[0] ? ":" : "", detail);
}

static int list(const kt_artifact_set *set)
{
    printf("milestones:\n");
    for (size_t i = 0; i < set->nmilestones; i++) {
        char t[KT_TIME_ISO_MAX];
        printf("  %-14s %-22s %s\n", set->milestones[i].id,
               kt_time_format_iso(set->milestones[i].time, t),
               set->milestones[i].meaning ? set->milestones[i].meaning : "");
    }
    printf("products:\n");
    for (size_t i = 0; i < set->nproducts; i++) {
        const kt_product_def *p = &set->products[i];
        char cov[64] = "-";
        if (p->exempt)
            snprintf(cov, sizeof cov, "exempt (%s)", p->exemption ? p->exemption : "?");
        else if (p->has_coverage)
            snprintf(cov, sizeof cov, "covered");
        printf("  %-28s %-10s %-32s %s%s\n", p->id, p->vendor, cov, p->name,
               p->migration_target ? " (migration target)" : "");
    }
    printf("artifacts:\n  %-42s %-8s %-20s %-16s %-7s %-11s %s\n", "id", "os", "source", "category",
           "conf.", "backing", "description");
    size_t per_cat[KT_CAT_COUNT] = {0};
    for (size_t i = 0; i < set->nartifacts; i++) {
        const kt_artifact *a = &set->artifacts[i];
        char source[96];
        source_name(a, source, sizeof source);
        printf("  %-42s %-8s %-20s %-16s %-7s %-11s %s\n", a->id, a->os, source,
               kt_category_name(a->category), a->confidence, kt_backing_name(a->backing),
               a->description);
        per_cat[a->category]++;
    }
    /* Kaspersky code inside other products: the definitions that find it,
     * the bundled tools, the folders the search covers and the uninstall
     * entries that name its host product. */
    printf("white label:\n");
    size_t nwhite = 0;
    for (size_t i = 0; i < set->nartifacts; i++) {
        const kt_artifact *a = &set->artifacts[i];
        if (a->role != KT_ROLE_INTEGRATION && a->role != KT_ROLE_BUNDLED_TOOL &&
            a->role != KT_ROLE_SEARCHED && a->role != KT_ROLE_HOST_PRODUCT)
            continue;
        printf("  %-42s %-8s %-12s %-22s %s\n", a->id, a->os, kt_role_name(a->role),
               a->component ? a->component : "-", a->description);
        nwhite++;
    }
    if (nwhite == 0)
        printf("  none: kaspersky_code_in_other_products stays null\n");
    printf("coverage:");
    for (int c = 0; c < KT_CAT_COUNT; c++)
        if (per_cat[c])
            printf(" %s %zu;", kt_category_name((kt_category)c), per_cat[c]);
    printf(" %zu artifacts, %zu products, %zu milestones in %zu files\n", set->nartifacts,
           set->nproducts, set->nmilestones, set->files.count);
    return KT_EXIT_OK;
}

static int run(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc >= 2) {
            kt_cli_print_usage(stdout, &kt_cmd_artifacts);
            printf("\n  list [DIR]   the milestones, products and artifacts the definitions cover\n"
                   "  check [DIR]  validate definitions, and that the verdicts' milestones\n"
                   "               (sales_ban, cutoff) are there; problems as FILE:LINE: message\n"
                   "DIR defaults to --artifacts's default: $KAVTRACE_ARTIFACTS or the built-in "
                   "set.\n");
            return KT_EXIT_OK;
        }
        return kt_cli_usage_error(&kt_cmd_artifacts, "say list or check");
    }
    const char *verb = argv[1];
    if (strcmp(verb, "list") != 0 && strcmp(verb, "check") != 0)
        return kt_cli_usage_error(&kt_cmd_artifacts, "unknown verb '%s'", verb);
    if (argc > 3)
        return kt_cli_usage_error(&kt_cmd_artifacts, "too many arguments");
    const char *dir = kt_cli_artifacts_dir(argc == 3 ? argv[2] : NULL);
    kt_artifact_set set = {0};
    bool check = strcmp(verb, "check") == 0;
    /* check: the set must be fit to scan with, the verdicts' milestones too */
    int rc =
        kt_cli_load_artifacts_as(check ? "artifacts check" : "artifacts list", dir, check, &set);
    int status = KT_EXIT_OK;
    if (rc)
        status = KT_EXIT_ERROR;
    else if (strcmp(verb, "list") == 0)
        status = list(&set);
    else
        printf("%s: %zu files, %zu milestones, %zu products, %zu artifacts, %zu patterns: ok\n",
               dir, set.files.count, set.nmilestones, set.nproducts, set.nartifacts, set.npatterns);
    kt_artifact_set_release(&set);
    return status;
}

const kt_command kt_cmd_artifacts = {
    .name = "artifacts",
    .summary = "list or check the artifact definitions",
    .usage = "list|check [DIR]",
    .run = run,
};
