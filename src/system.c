#include <inttypes.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kavtrace/plist.h"
#include "kavtrace/registry.h"
#include "kavtrace/system.h"
#include "kavtrace/tzif.h"

#define SMALL_FILE_MAX ((size_t)1 << 20)

const char *kt_os_name(kt_os os)
{
    switch (os) {
    case KT_OS_WINDOWS:
        return "windows";
    case KT_OS_LINUX:
        return "linux";
    case KT_OS_MACOS:
        return "macos";
    case KT_OS_NONE:
        break;
    }
    return "none";
}

static void warn(kt_system *sys, const char *what, const kt_error *e)
{
    kt_strlist_addf(&sys->warnings, "%s: %s", what, e->msg);
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    size_t lead = strspn(s, " \t");
    memmove(s, s + lead, n - lead + 1);
}

/* ---- Windows ---------------------------------------------------------- */

/* Why a hive could not be read goes to why[] (collection reports it, with
 * what it costs); nothing is said here. */
static int open_hive(kt_fs *fs, const char *path, kt_hive **out, size_t *size, char *why,
                     size_t whylen)
{
    kt_buf b = {0}, lb[2] = {{0}};
    kt_error e = {0};
    int rc = kt_fs_read(fs, path, 0, KT_HIVE_MAX_SIZE, &b, &e);
    if (rc == KT_OK) {
        /* A dirty hive's transaction logs, applied in memory (registry.h);
         * a log that cannot be read is as if absent, and the hive says so. */
        char names[2][KT_FS_PATH_MAX];
        kt_hive_log logs[2] = {{0}};
        bool dirty = kt_hive_is_dirty((const uint8_t *)b.data, b.len);
        for (int i = 0; dirty && i < 2; i++) {
            kt_error le = {0};
            snprintf(names[i], sizeof names[i], "%s.LOG%d", path, i + 1);
            logs[i].name = names[i];
            if (kt_fs_read(fs, names[i], 0, KT_HIVE_MAX_SIZE, &lb[i], &le) == KT_OK) {
                logs[i].data = (const uint8_t *)lb[i].data;
                logs[i].len = lb[i].len;
            }
        }
        *size = b.len;
        rc = kt_hive_open_logged(b.data, b.len, logs, 2, path, out, &e);
    }
    if (rc)
        kt_strlcpy(why, rc == KT_ENOTFOUND ? "not found" : e.msg, whylen);
    kt_buf_release(&b);
    kt_buf_release(&lb[0]);
    kt_buf_release(&lb[1]);
    return rc;
}

static void windows_details(kt_fs *fs, kt_system *sys)
{
    kt_hive *sw = NULL, *sy = NULL;
    const char *cv = "Microsoft\\Windows NT\\CurrentVersion";
    if (open_hive(fs, "Windows/System32/config/SOFTWARE", &sw, &sys->software_size,
                  sys->software_error, sizeof sys->software_error) == KT_OK) {
        char build[32] = "", display[32] = "";
        kt_hive_get_string(sw, cv, "ProductName", sys->os_name, sizeof sys->os_name, NULL);
        kt_hive_get_string(sw, cv, "CurrentBuild", build, sizeof build, NULL);
        if (kt_hive_get_string(sw, cv, "DisplayVersion", display, sizeof display, NULL))
            kt_hive_get_string(sw, cv, "ReleaseId", display, sizeof display, NULL);
        /* Windows 11 still says "Windows 10" in ProductName; its builds
         * start at 22000. */
        if (strncmp(sys->os_name, "Windows 10", 10) == 0 && strtol(build, NULL, 10) >= 22000)
            sys->os_name[9] = '1';
        snprintf(sys->os_version, sizeof sys->os_version, "%s%s%s%s%s", display,
                 display[0] && build[0] ? " " : "", build[0] ? "(build " : "", build,
                 build[0] ? ")" : "");
    }
    if (open_hive(fs, "Windows/System32/config/SYSTEM", &sy, &sys->system_size, sys->system_error,
                  sizeof sys->system_error) == KT_OK) {
        uint32_t current = 0;
        kt_error e = {0};
        if (kt_hive_get_dword(sy, "Select", "Current", &current, &e) == KT_OK && current > 0 &&
            current < 1000) {
            snprintf(sys->controlset, sizeof sys->controlset, "ControlSet%03u", current);
            char cs[64];
            snprintf(cs, sizeof cs, "ControlSet%03u\\Control\\ComputerName\\ComputerName", current);
            kt_hive_get_string(sy, cs, "ComputerName", sys->hostname, sizeof sys->hostname, NULL);
            snprintf(cs, sizeof cs, "ControlSet%03u\\Control\\TimeZoneInformation", current);
            if (kt_hive_get_string(sy, cs, "TimeZoneKeyName", sys->timezone, sizeof sys->timezone,
                                   NULL))
                kt_hive_get_string(sy, cs, "StandardName", sys->timezone, sizeof sys->timezone,
                                   NULL);
        } else {
            warn(sys, "SYSTEM hive: no current control set", &e);
        }
        if (sys->controlset[0])
            kt_zone_load_windows(&sys->zone, sy, sys->controlset);
    }
    sys->software = sw;
    sys->system = sy;
}

/* ---- Linux ------------------------------------------------------------ */

/* The value of KEY= in an os-release file, unquoted. */
static void os_release_value(const char *text, const char *key, char *out, size_t len)
{
    size_t klen = strlen(key);
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (n > klen && strncmp(line, key, klen) == 0 && line[klen] == '=') {
            const char *v = line + klen + 1;
            size_t vn = n - klen - 1;
            if (vn >= 2 && (v[0] == '"' || v[0] == '\'') && v[vn - 1] == v[0]) {
                v++;
                vn -= 2;
            }
            if (vn >= len)
                vn = len - 1;
            memcpy(out, v, vn);
            out[vn] = '\0';
            return;
        }
        line = end ? end + 1 : NULL;
    }
}

static void unix_timezone(kt_fs *fs, kt_system *sys, const char *localtime, const char *tzfile)
{
    char target[KT_FS_PATH_MAX];
    kt_stat st;
    if (kt_fs_stat(fs, localtime, 0, &st, NULL) == KT_OK && st.type == KT_FT_LINK &&
        kt_fs_readlink(fs, localtime, target, sizeof target, NULL) == KT_OK &&
        kt_tzif_zone_name(target, sys->timezone, sizeof sys->timezone) == KT_OK)
        return;
    kt_buf b = {0};
    if (tzfile && kt_fs_read(fs, tzfile, 0, SMALL_FILE_MAX, &b, NULL) == KT_OK) {
        char *nl = strchr((char *)b.data, '\n');
        if (nl)
            *nl = '\0';
        /* A zone name, checked as the link's target is. */
        char name[sizeof sys->timezone + 16];
        snprintf(name, sizeof name, "zoneinfo/%s", (const char *)b.data);
        trim(name);
        if (kt_tzif_zone_name(name, sys->timezone, sizeof sys->timezone) != KT_OK)
            sys->timezone[0] = '\0';
    }
    kt_buf_release(&b);
}

static void linux_hostname(kt_fs *fs, kt_system *sys)
{
    kt_buf b = {0};
    if (kt_fs_read(fs, "etc/hostname", 0, SMALL_FILE_MAX, &b, NULL) == KT_OK) {
        char *nl = strchr((char *)b.data, '\n');
        if (nl)
            *nl = '\0';
        kt_strlcpy(sys->hostname, (const char *)b.data, sizeof sys->hostname);
        trim(sys->hostname);
    }
    kt_buf_release(&b);
}

static void linux_details(kt_fs *fs, kt_system *sys)
{
    kt_buf b = {0};
    kt_error e = {0};
    if (kt_fs_read(fs, sys->marker, 0, SMALL_FILE_MAX, &b, &e) == KT_OK) {
        char version[64] = "";
        os_release_value((const char *)b.data, "PRETTY_NAME", sys->os_name, sizeof sys->os_name);
        if (!sys->os_name[0])
            os_release_value((const char *)b.data, "NAME", sys->os_name, sizeof sys->os_name);
        os_release_value((const char *)b.data, "VERSION_ID", version, sizeof version);
        kt_strlcpy(sys->os_version, version, sizeof sys->os_version);
    } else {
        warn(sys, sys->marker, &e);
    }
    kt_buf_release(&b);
    linux_hostname(fs, sys);
    unix_timezone(fs, sys, "etc/localtime", "etc/timezone");
}

/* A Linux root without os-release (a minimal or damaged one): known by
 * the distribution's other files; the name from lsb-release if any. */
static void linux_other_details(kt_fs *fs, kt_system *sys)
{
    kt_buf b = {0};
    if (kt_fs_read(fs, "etc/lsb-release", KT_FS_FOLLOW, SMALL_FILE_MAX, &b, NULL) == KT_OK)
        os_release_value((const char *)b.data, "DISTRIB_DESCRIPTION", sys->os_name,
                         sizeof sys->os_name);
    kt_buf_release(&b);
    linux_hostname(fs, sys);
    unix_timezone(fs, sys, "etc/localtime", "etc/timezone");
}

/* ---- macOS ------------------------------------------------------------ */

static void macos_details(kt_fs *fs, kt_system *sys)
{
    kt_buf b = {0};
    kt_error e = {0};
    if (kt_fs_read(fs, sys->marker, 0, SMALL_FILE_MAX, &b, &e) == KT_OK) {
        char build[32] = "", version[32] = "";
        if (kt_plist_get_string(b.data, b.len, "ProductName", sys->os_name, sizeof sys->os_name,
                                &e))
            warn(sys, sys->marker, &e);
        kt_plist_get_string(b.data, b.len, "ProductVersion", version, sizeof version, NULL);
        kt_plist_get_string(b.data, b.len, "ProductBuildVersion", build, sizeof build, NULL);
        snprintf(sys->os_version, sizeof sys->os_version, "%s%s%s%s", version,
                 build[0] ? " (build " : "", build, build[0] ? ")" : "");
    } else {
        warn(sys, sys->marker, &e);
    }
    kt_buf_release(&b);
    /* The Bonjour name (what `scutil --get LocalHostName` says). */
    static const char *const prefs[] = {
        "Library/Preferences/SystemConfiguration/preferences.plist",
        "private/var/db/SystemConfiguration/preferences.plist",
    };
    for (size_t i = 0; i < sizeof prefs / sizeof prefs[0] && !sys->hostname[0]; i++) {
        if (kt_fs_read(fs, prefs[i], KT_FS_FOLLOW, SMALL_FILE_MAX, &b, NULL) == KT_OK)
            kt_plist_get_path_string(b.data, b.len, "System/Network/HostNames/LocalHostName",
                                     sys->hostname, sizeof sys->hostname, NULL);
        kt_buf_release(&b);
    }
    unix_timezone(fs, sys, "etc/localtime", NULL);
}

/* ---- detection table ---------------------------------------------------- */

/* Each system is known by more than one marker, so that one damaged or
 * missing file (a zeroed SOFTWARE hive record) does not hide the system:
 * what could be read is still collected, and the hive that could not is a
 * warning. The weaker markers (folders any disk may hold) come after every
 * other system's own files. */
static const struct {
    kt_os os;
    const char *marker;
    kt_file_type type;
    void (*details)(kt_fs *fs, kt_system *sys);
} systems[] = {
    {KT_OS_WINDOWS, "Windows/System32/config/SOFTWARE", KT_FT_REG, windows_details},
    {KT_OS_WINDOWS, "Windows/System32/config/SYSTEM", KT_FT_REG, windows_details},
    {KT_OS_WINDOWS, "Windows/System32/ntoskrnl.exe", KT_FT_REG, windows_details},
    {KT_OS_WINDOWS, "Windows/System32/winload.exe", KT_FT_REG, windows_details},
    {KT_OS_WINDOWS, "Windows/System32/config", KT_FT_DIR, windows_details},
    {KT_OS_LINUX, "etc/os-release", KT_FT_REG, linux_details},
    {KT_OS_LINUX, "usr/lib/os-release", KT_FT_REG, linux_details},
    {KT_OS_MACOS, "System/Library/CoreServices/SystemVersion.plist", KT_FT_REG, macos_details},
    {KT_OS_LINUX, "etc/lsb-release", KT_FT_REG, linux_other_details},
    {KT_OS_LINUX, "etc/debian_version", KT_FT_REG, linux_other_details},
    {KT_OS_LINUX, "etc/redhat-release", KT_FT_REG, linux_other_details},
    {KT_OS_LINUX, "var/lib/dpkg/status", KT_FT_REG, linux_other_details},
    {KT_OS_LINUX, "var/lib/rpm/rpmdb.sqlite", KT_FT_REG, linux_other_details},
    {KT_OS_WINDOWS, "Windows/System32", KT_FT_DIR, windows_details},
    {KT_OS_WINDOWS, "bootmgr", KT_FT_REG, windows_details},
    {KT_OS_WINDOWS, "Boot/BCD", KT_FT_REG, windows_details},
    {KT_OS_WINDOWS, "Program Files", KT_FT_DIR, windows_details},
};

bool kt_system_programs_only(const kt_system *sys)
{
    return sys->os == KT_OS_WINDOWS && strcmp(sys->marker, "Program Files") == 0;
}

/* ---- no system: absence or damage? --------------------------------- */

/* Files reached from the root before a filesystem with no system is taken
 * for a data volume: a root or inode table that damage has made
 * unreadable reaches a handful at most. */
#define REACH_ENOUGH 1000
#define REACH_DEPTH 8

/* Count the allocated entries below dir, up to `want`. A directory that
 * cannot be listed is skipped (its own error surfaces if it matters). */
static int reach(kt_fs *fs, const char *dir, int depth, uint64_t want, uint64_t *reached)
{
    kt_dirent_list l = {0};
    int rc = kt_fs_list(fs, dir, false, &l, NULL);
    if (rc == KT_ENOMEM)
        return rc;
    if (rc)
        return KT_OK;
    for (size_t i = 0; i < l.count && *reached < want && rc == KT_OK; i++) {
        (*reached)++;
        if (l.items[i].st.type != KT_FT_DIR || depth + 1 >= REACH_DEPTH)
            continue;
        char path[KT_FS_PATH_MAX];
        if (snprintf(path, sizeof path, "%s%s%s", dir, dir[0] ? "/" : "", l.items[i].name) >=
            (int)sizeof path)
            continue;
        rc = reach(fs, path, depth + 1, want, reached);
    }
    kt_dirent_list_release(&l);
    return rc;
}

/* No marker was found. That is a data volume, unless the filesystem says
 * otherwise: a root directory that cannot be listed, an NTFS root without
 * its metadata files, or (ext) far fewer files reachable from the root
 * than the superblock counts in use: a damaged root inode, inode table or
 * group descriptor hides every file, and a system with them, while each
 * lookup answers only "not found". Such a volume is an error here, and a
 * warning of the volume in the inventory. */
static int check_no_system(kt_fs *fs, kt_error *err)
{
    kt_dirent_list l = {0};
    kt_error e = {0};
    int rc = kt_fs_list(fs, "", false, &l, &e);
    size_t root_entries = l.count;
    kt_dirent_list_release(&l);
    if (rc == KT_ENOMEM)
        return kt_error_set(err, rc, "out of memory");
    if (rc)
        return kt_error_set(
            err, rc, "no system found, and the root directory could not be listed: %s", e.msg);
    if (kt_fs_get_kind(fs) == KT_FS_NTFS && root_entries == 0)
        return kt_error_set(err, KT_EFORMAT,
                            "no system found, and the NTFS root directory lists nothing, not even "
                            "the filesystem's own files ($MFT, ...): it is damaged");
    uint64_t in_use = 0;
    if (kt_fs_in_use(fs, &in_use, &e) != KT_OK)
        return KT_OK;
    uint64_t want = in_use / 2 < REACH_ENOUGH ? in_use / 2 : REACH_ENOUGH;
    uint64_t reached = 0;
    if (reach(fs, "", 0, want, &reached) == KT_ENOMEM)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    if (reached >= want)
        return KT_OK;
    return kt_error_set(err, KT_EFORMAT,
                        "no system found, and only %" PRIu64 " of the %" PRIu64
                        " files and directories the filesystem counts in use can be reached from "
                        "its root: its superblock, root directory, inode table or group "
                        "descriptors are damaged, and a system on this volume may be hidden",
                        reached, in_use);
}

int kt_system_detect(kt_fs *fs, kt_system *sys, kt_error *err)
{
    memset(sys, 0, sizeof *sys);
    /* The first error other than "no such file": a filesystem that fails
     * while its markers are looked up may hide a system. */
    kt_error first = {0};
    int first_rc = KT_OK;
    for (size_t i = 0; i < sizeof systems / sizeof systems[0]; i++) {
        kt_stat st;
        kt_error e = {0};
        int rc = kt_fs_stat(fs, systems[i].marker, KT_FS_FOLLOW, &st, &e);
        if (rc == KT_ENOMEM)
            return kt_error_set(err, rc, "out of memory");
        if (rc != KT_OK && rc != KT_ENOTFOUND && first_rc == KT_OK) {
            first_rc = rc;
            first = e;
            kt_error_prefix(&first, "'%s'", systems[i].marker);
        }
        if (rc != KT_OK || st.type != systems[i].type)
            continue;
        sys->os = systems[i].os;
        kt_strlcpy(sys->marker, systems[i].marker, sizeof sys->marker);
        systems[i].details(fs, sys);
        if (sys->os != KT_OS_WINDOWS)
            kt_zone_load_unix(&sys->zone, fs, sys->timezone, &sys->zone_file_size);
        if (!sys->os_name[0])
            kt_strlcpy(sys->os_name, kt_os_name(sys->os), sizeof sys->os_name);
        return KT_OK;
    }
    if (first_rc != KT_OK)
        return kt_error_set(err, first_rc, "no system found, and the filesystem failed: %s",
                            first.msg);
    return check_no_system(fs, err);
}

void kt_system_release(kt_system *sys)
{
    if (sys == NULL)
        return;
    kt_strlist_release(&sys->warnings);
    kt_hive_free(sys->software);
    kt_hive_free(sys->system);
    kt_zone_release(&sys->zone);
    memset(sys, 0, sizeof *sys);
}
