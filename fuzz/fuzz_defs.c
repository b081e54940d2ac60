/* libFuzzer harness: the artifact definitions loader (src/artifacts.c,
 * src/defs_yaml.c and each source's part of a definition in
 * src/collect/). The input is one definitions file, alone in a directory,
 * loaded and checked as `kavtrace artifacts check` does. Besides not
 * crashing, a load must keep its word: it succeeds only without problems,
 * and every problem names the file (or the directory) it is about. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kavtrace/artifacts.h"

static char dir[64], file[96];

static void cleanup(void)
{
    unlink(file);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (dir[0] == '\0') {
        snprintf(dir, sizeof dir, "/tmp/kt-fuzz-defs-XXXXXX");
        if (mkdtemp(dir) == NULL)
            abort();
        snprintf(file, sizeof file, "%s/f.yaml", dir);
        atexit(cleanup);
    }
    FILE *f = fopen(file, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        abort();
    kt_artifact_set set = {0};
    kt_strlist problems = {0};
    kt_error err = {0};
    int rc = kt_artifacts_load(dir, &set, &problems, &err);
    if (rc == KT_OK) {
        if (problems.count != 0)
            abort();
        kt_artifacts_check_milestones(&set, dir, &problems);
        char detail[64];
        for (size_t i = 0; i < set.nartifacts; i++)
            kt_artifact_source_detail(&set.artifacts[i], detail, sizeof detail);
        for (size_t i = 0; i < set.nproducts; i++)
            kt_artifacts_product_for_os(&set, set.products[i].vendor, "windows", "Kaspersky");
    } else if (rc == KT_EFORMAT && problems.count == 0) {
        abort();
    }
    for (size_t i = 0; i < problems.count; i++)
        if (strncmp(problems.items[i], dir, strlen(dir)) != 0)
            abort();
    kt_strlist_release(&problems);
    kt_artifact_set_release(&set);
    return 0;
}
