/* The system's time zone: Windows TZI, the image's TZif, or kavtrace's
 * table; one conversion call for all three. */
#include <stdio.h>
#include <string.h>

#include "kavtrace/zone.h"

void kt_zone_load_windows(kt_zone *z, kt_hive *system, const char *controlset)
{
    kt_error err = {0};
    if (kt_wintz_from_hive(system, controlset, &z->wintz, &err) == KT_OK) {
        z->kind = KT_ZONE_WINDOWS;
        kt_strlcpy(z->name, z->wintz.name, sizeof z->name);
    } else {
        kt_strlist_addf(&z->notes, "no time zone (%s): local times are left as UTC", err.msg);
    }
}

void kt_zone_load_unix(kt_zone *z, kt_fs *fs, const char *name, size_t *bytes_read)
{
    kt_buf b = {0};
    kt_error err = {0};
    if (kt_fs_read(fs, "etc/localtime", KT_FS_FOLLOW, KT_TZIF_MAX_SIZE, &b, &err) == KT_OK &&
        kt_tzif_parse(b.data, b.len, &z->tzif, &err) == KT_OK) {
        z->kind = KT_ZONE_TZIF;
        if (bytes_read)
            *bytes_read = b.len;
        if (name[0])
            kt_strlcpy(z->name, name, sizeof z->name);
        else
            snprintf(z->name, sizeof z->name, "etc/localtime (%s)",
                     kt_tzif_footer(z->tzif)[0] ? kt_tzif_footer(z->tzif) : "no name");
        kt_buf_release(&b);
        return;
    }
    kt_buf_release(&b);
    z->file_unreadable = err.code != KT_ENOTFOUND;
    /* The zone is named (the link's target, etc/timezone) but its file is
     * not in the image, or unreadable: kavtrace's table, if it has it. */
    kt_error e2 = {0};
    if (name[0] && kt_tzif_builtin(name, &z->tzif, &z->table, &e2) == KT_OK) {
        z->kind = KT_ZONE_TABLE;
        kt_strlcpy(z->name, name, sizeof z->name);
        char from[KT_TIME_ISO_MAX], rel[KT_TIME_ISO_MAX];
        kt_strlist_addf(&z->notes,
                        "etc/localtime: %s: local times are converted with kavtrace's table "
                        "from tzdata %s (released %s) for %s, whose transitions it lists "
                        "from %s",
                        err.msg, z->table.release, kt_time_format_iso(z->table.released, rel),
                        z->name, kt_time_format_iso(z->table.from, from));
        return;
    }
    kt_strlist_addf(&z->notes,
                    "no time zone (etc/localtime: %s%s%s): local times are taken as UTC and "
                    "say so",
                    err.msg, name[0] ? "; " : "", name[0] ? e2.msg : "");
}

void kt_zone_release(kt_zone *z)
{
    if (z == NULL)
        return;
    kt_tzif_free(z->tzif);
    kt_strlist_release(&z->notes);
    memset(z, 0, sizeof *z);
}

int kt_zone_to_utc(const kt_zone *z, kt_time local, kt_time *utc, int *flags)
{
    if (flags)
        *flags = KT_TZ_EXACT;
    switch (z->kind) {
    case KT_ZONE_NONE:
        return KT_ENOTFOUND;
    case KT_ZONE_WINDOWS:
        if (local == KT_TIME_NONE)
            return KT_EARG;
        *utc = kt_wintz_to_utc(&z->wintz, local);
        return KT_OK;
    case KT_ZONE_TZIF:
    case KT_ZONE_TABLE:
        return kt_tzif_local_to_utc(z->tzif, local, utc, flags);
    }
    return KT_ENOTFOUND;
}
