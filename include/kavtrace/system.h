/* kavtrace: which operating system lives on a filesystem. */
#ifndef KAVTRACE_SYSTEM_H
#define KAVTRACE_SYSTEM_H

#include "kavtrace/buf.h"
#include "kavtrace/error.h"
#include "kavtrace/fs.h"
#include "kavtrace/registry.h"
#include "kavtrace/zone.h"

typedef enum kt_os {
    KT_OS_NONE,
    KT_OS_WINDOWS,
    KT_OS_LINUX,
    KT_OS_MACOS,
} kt_os;

typedef struct kt_system {
    kt_os os;
    char os_name[128];   /* "Windows 10 Pro", "Ubuntu 22.04.4 LTS", "macOS" */
    char os_version[64]; /* "21H2 (build 19044)", "22.04", "14.2" */
    char hostname[256];
    char timezone[128];  /* "Eastern Standard Time", "America/Chicago" */
    char marker[64];     /* the path that identified the system */
    kt_strlist warnings; /* unreadable details, each a sentence */
    /* The host context, loaded once here for everything after detection
     * (collection reads it, never the files again): */
    kt_hive *software, *system; /* Windows hives, NULL when unreadable */
    char software_error[256];   /* why, when one is NULL ("" when read) */
    char system_error[256];
    size_t software_size, system_size; /* their bytes */
    char controlset[32];               /* "ControlSet001" (Select\Current), "" if none */
    kt_zone zone;                      /* the zone local times are converted with */
    size_t zone_file_size;             /* bytes of the zone file read, 0 if none */
} kt_system;

/* Look for a system on fs, and load its host context (hives, time zone).
 * Returns 0 with sys->os == KT_OS_NONE when there is none; details that
 * cannot be read become warnings, not errors. Release with
 * kt_system_release (the hives and the zone with it). */
int kt_system_detect(kt_fs *fs, kt_system *sys, kt_error *err);
void kt_system_release(kt_system *sys);
/* Whether sys is Windows known only by the weakest marker, a "Program
 * Files" folder (no Windows folder, hive or boot file): on an image whose
 * other volume holds Windows, that volume's data volume (inventory.h). */
bool kt_system_programs_only(const kt_system *sys);
const char *kt_os_name(kt_os os);

#endif
