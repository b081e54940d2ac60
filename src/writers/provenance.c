#include <libewf.h>
#include <libvhdi.h>
#include <libvmdk.h>
#include <libxml/xmlversion.h>
#include <lzma.h>
#include <nettle/version.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <tsk/libtsk.h>
#include <yaml.h>
#include <zlib.h>

#include "kavtrace/provenance.h"
#include "kavtrace/scan.h"

#ifndef KT_VERSION
#define KT_VERSION "0"
#endif
#ifndef KT_BUILD_TYPE
#define KT_BUILD_TYPE "unknown"
#endif

/* Option names whose value is a secret. */
static bool secret_option(const char *name, size_t len)
{
    static const char *const words[] = {"password", "passphrase", "key",
                                        "secret",   "token",      "recovery"};
    char lower[128];
    if (len >= sizeof lower)
        len = sizeof lower - 1;
    for (size_t i = 0; i < len; i++)
        lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    lower[len] = '\0';
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(lower, words[i]))
            return true;
    return false;
}

int kt_args_redact(const char *const *args, size_t n, kt_strlist *out)
{
    bool next_secret = false, options = true;
    for (size_t i = 0; i < n; i++) {
        const char *a = args[i];
        int rc;
        if (next_secret) {
            rc = kt_strlist_add(out, KT_REDACTED);
            next_secret = false;
        } else if (options && strcmp(a, "--") == 0) {
            options = false; /* what follows is evidence, not options */
            rc = kt_strlist_add(out, a);
        } else if (options && strncmp(a, "--", 2) == 0 && a[2]) {
            const char *eq = strchr(a, '=');
            size_t len = eq ? (size_t)(eq - a) : strlen(a);
            if (!secret_option(a + 2, len - 2))
                rc = kt_strlist_add(out, a);
            else if (eq)
                rc = kt_strlist_addf(out, "%.*s=" KT_REDACTED, (int)len, a);
            else {
                rc = kt_strlist_add(out, a);
                next_secret = true;
            }
        } else {
            rc = kt_strlist_add(out, a);
        }
        if (rc != KT_OK)
            return KT_ENOMEM;
    }
    return KT_OK;
}

int kt_provenance_init(kt_provenance *p, const char *const *args, size_t n, const char *definitions)
{
    memset(p, 0, sizeof *p);
    struct utsname u;
    if (uname(&u) == 0) {
        kt_strlcpy(p->host, u.nodename, sizeof p->host);
        snprintf(p->host_system, sizeof p->host_system, "%s %s %s", u.sysname, u.release,
                 u.machine);
    }
    kt_strlcpy(p->definitions, definitions ? definitions : "", sizeof p->definitions);
    return kt_args_redact(args, n, &p->command_line);
}

void kt_provenance_release(kt_provenance *p)
{
    if (p == NULL)
        return;
    kt_strlist_release(&p->command_line);
}

const char *kt_build_compiler(void)
{
#if defined(__clang__)
    return "clang " __clang_version__ ", " KT_BUILD_TYPE;
#elif defined(__GNUC__)
    return "gcc " __VERSION__ ", " KT_BUILD_TYPE;
#else
    return "unknown compiler, " KT_BUILD_TYPE;
#endif
}

const char *kt_build_libraries(void)
{
    static char buf[512];
    if (buf[0] == '\0')
        snprintf(buf, sizeof buf,
                 "libtsk %s, libewf %s, libvhdi %s, libvmdk %s, sqlite %s, libxml2 %s, "
                 "libyaml %s, zlib %s, liblzma %s, nettle %d.%d",
                 tsk_version_get_str(), libewf_get_version(), libvhdi_get_version(),
                 libvmdk_get_version(), sqlite3_libversion(), LIBXML_DOTTED_VERSION,
                 yaml_get_version_string(), zlibVersion(), lzma_version_string(),
                 nettle_version_major(), nettle_version_minor());
    return buf;
}

/* The definitions: their folder and each file, named inside it. */
static void definitions(kt_json *j, const kt_provenance *p, const kt_artifact_set *set)
{
    kt_json_begin_object(j, "definitions");
    kt_json_string(j, "dir", p && p->definitions[0] ? p->definitions : NULL);
    kt_json_begin_array(j, "files");
    size_t dlen = p ? strlen(p->definitions) : 0;
    while (dlen > 1 && p->definitions[dlen - 1] == '/')
        dlen--;
    for (size_t i = 0; i < set->files.count; i++) {
        const char *f = set->files.items[i];
        if (dlen && strncmp(f, p->definitions, dlen) == 0 && f[dlen] == '/')
            f += dlen + 1;
        kt_json_begin_object(j, NULL);
        kt_json_string(j, "file", f);
        kt_json_string(j, "sha256",
                       i < set->sha256.count && set->sha256.items[i][0] ? set->sha256.items[i]
                                                                        : NULL);
        kt_json_end_object(j);
    }
    kt_json_end_array(j);
    kt_json_end_object(j);
}

void kt_provenance_json(kt_json *j, const kt_scan *s, const kt_artifact_set *set)
{
    const kt_provenance *p = s->prov;
    kt_json_string(j, "kavtrace_version", KT_VERSION);
    kt_json_string(j, "compiler", kt_build_compiler());
    kt_json_string(j, "libraries", kt_build_libraries());
    kt_json_begin_array(j, "command_line");
    for (size_t i = 0; p && i < p->command_line.count; i++)
        kt_json_string(j, NULL, p->command_line.items[i]);
    kt_json_end_array(j);
    kt_json_string(j, "examiner_host", p && p->host[0] ? p->host : NULL);
    kt_json_string(j, "examiner_system", p && p->host_system[0] ? p->host_system : NULL);
    definitions(j, p, set);
}

int kt_run_json(kt_buf *out, const kt_scan *s, const kt_artifact_set *set,
                const kt_output_file *files, size_t nfiles)
{
    kt_json j;
    kt_json_init(&j, out);
    kt_json_begin_object(&j, NULL);
    kt_json_string(&j, "run_id", s->run_id[0] ? s->run_id : NULL);
    kt_json_time(&j, "started", s->started);
    kt_json_time(&j, "finished", s->finished);
    kt_provenance_json(&j, s, set);
    kt_json_begin_object(&j, "evidence");
    kt_evidence_json(&j, s);
    kt_json_end_object(&j);
    kt_json_begin_array(&j, "outputs");
    for (size_t i = 0; i < nfiles; i++) {
        kt_json_begin_object(&j, NULL);
        kt_json_string(&j, "name", files[i].name);
        kt_json_int(&j, "size", (int64_t)files[i].size);
        kt_json_string(&j, "sha256", files[i].sha256);
        kt_json_end_object(&j);
    }
    kt_json_end_array(&j);
    kt_json_end_object(&j);
    return j.rc;
}
