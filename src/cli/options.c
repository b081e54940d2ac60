#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "options.h"

#ifndef KT_ARTIFACTS_DIR
#define KT_ARTIFACTS_DIR "artifacts"
#endif

const char *kt_cli_artifacts_dir(const char *option)
{
    if (option)
        return option;
    const char *env = getenv("KAVTRACE_ARTIFACTS");
    if (env && env[0])
        return env;
    /* Installed next to the binary (bin/../share/kavtrace/artifacts)? */
    static char installed[4096];
    struct stat st;
    if (kt_path_beside_exe("../share/kavtrace/artifacts", installed, sizeof installed) == 0 &&
        stat(installed, &st) == 0 && S_ISDIR(st.st_mode))
        return installed;
    return KT_ARTIFACTS_DIR;
}

int kt_cli_load_artifacts_as(const char *cmd, const char *dir, bool verdicts, kt_artifact_set *set)
{
    kt_strlist problems = {0};
    kt_error err = {0};
    int rc = kt_artifacts_load(dir, set, &problems, &err);
    if (rc == KT_OK && verdicts) {
        rc = kt_artifacts_check_milestones(set, dir, &problems);
        if (rc == KT_ENOMEM)
            kt_error_set(&err, rc, "artifact definitions '%s': out of memory", dir);
        else if (rc)
            kt_error_set(&err, rc, "artifact definitions '%s': the verdicts' milestones", dir);
    }
    for (size_t i = 0; i < set->skipped.count; i++)
        fprintf(stderr, "kavtrace: %s: warning: %s\n", cmd, set->skipped.items[i]);
    for (size_t i = 0; i < problems.count; i++)
        fprintf(stderr, "%s\n", problems.items[i]);
    if (rc)
        fprintf(stderr, "kavtrace: %s: %s\n", cmd, err.msg);
    kt_strlist_release(&problems);
    return rc;
}

int kt_cli_load_artifacts(const char *cmd, const char *dir, kt_artifact_set *set)
{
    return kt_cli_load_artifacts_as(cmd, dir, true, set);
}
