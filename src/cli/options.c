#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kavtrace/text.h"
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

const char *kt_cli_text(kt_strlist *hold, const char *s)
{
    if (s == NULL || !kt_text_needs_escape(s, KT_TEXT_PLAIN))
        return s;
    kt_buf b = {0};
    const char *r = "?";
    if (kt_text_escape(&b, s, KT_TEXT_PLAIN) == KT_OK && kt_strlist_add(hold, (char *)b.data) == 0)
        r = hold->items[hold->count - 1];
    kt_buf_release(&b);
    return r;
}

int kt_cli_resolve_path(const char *path, char *out, size_t len)
{
    char abs[2 * PATH_MAX], cur[PATH_MAX] = "", real[PATH_MAX];
    if (path[0] == '/') {
        kt_strlcpy(abs, path, sizeof abs);
    } else {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd) == NULL)
            return -1;
        snprintf(abs, sizeof abs, "%s/%s", cwd, path);
    }
    /* cur: resolved so far ("" is the root); past `exist` bytes it names
     * folders that do not exist yet, whose '..' is taken by name. */
    size_t exist = 0;
    bool missing = false;
    char *save = NULL;
    for (char *c = strtok_r(abs, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0) {
            char *slash = strrchr(cur, '/');
            if (slash)
                *slash = '\0';
            missing = missing && strlen(cur) > exist;
            continue;
        }
        size_t n = strlen(cur);
        if (n + 1 + strlen(c) >= sizeof cur) {
            errno = ENAMETOOLONG;
            return -1;
        }
        snprintf(cur + n, sizeof cur - n, "/%s", c);
        if (missing)
            continue;
        struct stat st;
        if (lstat(cur, &st) != 0) {
            if (errno != ENOENT)
                return -1;
            missing = true;
            exist = n;
            continue;
        }
        /* There: every link in it resolved, as the kernel will. */
        if (realpath(cur, real) == NULL)
            return -1;
        kt_strlcpy(cur, strcmp(real, "/") == 0 ? "" : real, sizeof cur);
    }
    if (kt_strlcpy(out, cur[0] ? cur : "/", len) >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

bool kt_cli_path_within(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (strcmp(dir, "/") == 0)
        return true;
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

int kt_cli_add_key(const char *cmd, kt_key_kind kind, const char *arg, kt_keys *keys)
{
    static const char *const options[] = {
        [KT_KEY_PASSWORD] = "--password",
        [KT_KEY_FILE] = "--key-file",
        [KT_KEY_RECOVERY] = "--recovery-password",
    };
    kt_error err = {0};
    int rc = kind == KT_KEY_FILE       ? kt_keys_add_file(keys, arg, &err)
             : kind == KT_KEY_RECOVERY ? kt_keys_add_recovery(keys, arg, &err)
                                       : kt_keys_add_password(keys, arg, &err);
    if (rc) {
        kt_strlist hold = {0};
        fprintf(stderr, "kavtrace: %s: %s: %s\n", cmd, options[kind], kt_cli_text(&hold, err.msg));
        kt_strlist_release(&hold);
    }
    return rc;
}
