/* Collection of one system: every artifact of its OS, each by its
 * source's collect (the table in sources.c), then each source's finish. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

/* Kavtrace's zone table standing in for a zone file the image lacks is a
 * note (the times are converted, and say how); a zone file that is there
 * but unreadable, or no zone at all, is a warning. */
static kt_severity zone_severity(const kt_zone *z)
{
    return z->kind == KT_ZONE_TABLE && !z->file_unreadable ? KT_SEV_NOTE : KT_SEV_WARNING;
}

/* A hive with, when it is dirty, its transaction logs beside it (PATH.LOG1,
 * PATH.LOG2) applied in memory as the system hives' are (registry.h); a
 * log that cannot be read is as if absent, and the hive says so. */
static kt_hive *load_hive(kt_collector *c, const char *path)
{
    kt_buf b = {0}, lb[2] = {{0}};
    kt_error err = {0};
    kt_hive *h = NULL;
    if (kt_fs_read(c->fs, path, 0, KT_HIVE_MAX_SIZE, &b, &err) == KT_OK) {
        c->stats->hives_read++;
        c->stats->bytes_read += b.len;
        char names[2][KT_FS_PATH_MAX];
        kt_hive_log logs[2] = {{0}};
        bool dirty = kt_hive_is_dirty((const uint8_t *)b.data, b.len);
        for (int i = 0; dirty && i < 2; i++) {
            kt_error le = {0};
            snprintf(names[i], sizeof names[i], "%s.LOG%d", path, i + 1);
            logs[i].name = names[i];
            if (kt_fs_read(c->fs, names[i], 0, KT_HIVE_MAX_SIZE, &lb[i], &le) == KT_OK) {
                c->stats->bytes_read += lb[i].len;
                logs[i].data = (const uint8_t *)lb[i].data;
                logs[i].len = lb[i].len;
            }
        }
        if (kt_hive_open_logged(b.data, b.len, logs, 2, path, &h, &err) != KT_OK)
            kt_collect_diag(c, KT_SEV_WARNING, "hive", path, NULL, "%s", err.msg);
    } else if (err.code != KT_ENOTFOUND) {
        kt_collect_diag(c, KT_SEV_WARNING, "hive", path, NULL, "%s", err.msg);
    }
    kt_buf_release(&b);
    kt_buf_release(&lb[0]);
    kt_buf_release(&lb[1]);
    return h;
}

/* Windows: the hives detection did not load (Amcache, every user's
 * NTUSER.DAT); SOFTWARE and SYSTEM come with the system. */
static void load_windows(kt_collector *c)
{
    const kt_system *sys = c->sys;
    if (sys->software) {
        c->stats->hives_read++;
        c->stats->bytes_read += sys->software_size;
    }
    if (sys->system) {
        c->stats->hives_read++;
        c->stats->bytes_read += sys->system_size;
    }
    if (kt_fs_exists(c->fs, "Windows/appcompat/Programs/Amcache.hve"))
        c->amcache = load_hive(c, "Windows/appcompat/Programs/Amcache.hve");
    if (sys->system && !sys->controlset[0])
        kt_collect_diag(c, KT_SEV_WARNING, "hive", "Windows/System32/config/SYSTEM", NULL,
                        "no Select\\Current: services not read");
    for (size_t i = 0; i < sys->zone.notes.count; i++)
        kt_collect_diag(c, zone_severity(&sys->zone), "zone", NULL, NULL, "%s",
                        sys->zone.notes.items[i]);
    kt_dirent_list users = {0};
    if (kt_fs_list(c->fs, "Users", false, &users, NULL) != KT_OK)
        return;
    c->users = calloc(users.count ? users.count : 1, sizeof *c->users);
    for (size_t i = 0; c->users && i < users.count; i++) {
        if (users.items[i].st.type != KT_FT_DIR)
            continue;
        struct kt_user_hive *u = &c->users[c->nusers];
        snprintf(u->path, sizeof u->path, "Users/%s/NTUSER.DAT", users.items[i].name);
        if (!kt_fs_exists(c->fs, u->path))
            continue;
        if ((u->hive = load_hive(c, u->path)) != NULL)
            c->nusers++;
    }
    kt_dirent_list_release(&users);
}

static void load_unix(kt_collector *c)
{
    if (c->sys->zone_file_size) {
        c->stats->files_read++;
        c->stats->bytes_read += c->sys->zone_file_size;
    }
    for (size_t i = 0; i < c->sys->zone.notes.count; i++)
        kt_collect_diag(c, zone_severity(&c->sys->zone), "zone", NULL, NULL, "%s",
                        c->sys->zone.notes.items[i]);
}

/* What the zone table's conversions leave to say. */
static void zone_summary(kt_collector *c)
{
    const kt_zone *z = c->zone;
    if (c->zone_late)
        kt_collect_diag(c, KT_SEV_NOTE, "zone.table-release", NULL, NULL,
                        "%zu local time%s later than tzdata %s's release converted "
                        "with kavtrace's table for %s: a change of the zone's rules after that "
                        "release is not in it (each event's time source says so)",
                        c->zone_late, c->zone_late == 1 ? "" : "s", z->table.release, z->name);
    if (c->zone_early)
        kt_collect_diag(c, KT_SEV_NOTE, "zone.table-start", NULL, NULL,
                        "%zu local time%s before the start of kavtrace's table for %s, "
                        "converted with the zone's offset at its start (each event's time source "
                        "says so)",
                        c->zone_early, c->zone_early == 1 ? "" : "s", z->name);
}

int kt_collect_system(const kt_artifact_set *set, kt_fs *fs, const kt_volume *vol,
                      const kt_system *sys, unsigned flags, kt_timeline *tl, kt_diags *diags,
                      kt_collect_stats *stats, char *zone, size_t zone_len, kt_error *err)
{
    kt_event_sink sink = kt_timeline_sink(tl);
    return kt_collect_system_to(set, fs, vol, sys, flags, &sink, diags, stats, zone, zone_len, err);
}

int kt_collect_system_to(const kt_artifact_set *set, kt_fs *fs, const kt_volume *vol,
                         const kt_system *sys, unsigned flags, kt_event_sink *sink, kt_diags *diags,
                         kt_collect_stats *stats, char *zone, size_t zone_len, kt_error *err)
{
    kt_collector c = {.set = set,
                      .fs = fs,
                      .vol = vol,
                      .system_vol = vol,
                      .sys = sys,
                      .flags = flags,
                      .sink = sink,
                      .diags = diags,
                      .stats = stats,
                      .zone = &sys->zone};
    const char *os = kt_os_name(sys->os);
    if (sys->os == KT_OS_WINDOWS)
        load_windows(&c);
    else if (sys->os == KT_OS_LINUX || sys->os == KT_OS_MACOS)
        load_unix(&c);
    kt_strlcpy(zone, sys->zone.kind != KT_ZONE_NONE ? sys->zone.name : "", zone_len);
    for (size_t i = 0; i < set->nartifacts && !c.rc; i++) {
        const kt_artifact *a = &set->artifacts[i];
        if (a->os == NULL || strcmp(a->os, os) != 0 || a->source == NULL || a->spec == NULL)
            continue;
        a->source->collect(&c, a);
    }
    for (size_t i = 0; i < kt_nsources; i++)
        if (kt_sources[i]->finish)
            kt_sources[i]->finish(&c);
    zone_summary(&c);
    kt_emit_searched(&c);
    free(c.seen);
    free(c.diag_index);
    kt_strlist_release(&c.integration_paths);
    kt_strlist_release(&c.integration_hosts);
    kt_hive_free(c.amcache);
    for (size_t u = 0; u < c.nusers; u++)
        kt_hive_free(c.users[u].hive);
    free(c.users);
    if (c.rc)
        return kt_error_set(err, c.rc, "out of memory while collecting");
    return KT_OK;
}

int kt_collect_data_volume(const kt_artifact_set *set, kt_fs *fs, const kt_volume *vol,
                           const kt_volume *system_vol, const kt_system *sys, kt_timeline *tl,
                           kt_diags *diags, kt_collect_stats *stats, kt_error *err)
{
    kt_event_sink sink = kt_timeline_sink(tl);
    kt_collector c = {.set = set,
                      .fs = fs,
                      .vol = vol,
                      .system_vol = system_vol,
                      .sys = sys,
                      .sink = &sink,
                      .diags = diags,
                      .stats = stats,
                      .zone = &sys->zone};
    const char *os = kt_os_name(sys->os);
    for (size_t i = 0; i < set->nartifacts && !c.rc; i++) {
        const kt_artifact *a = &set->artifacts[i];
        if (a->os == NULL || strcmp(a->os, os) != 0 || a->source == NULL || a->spec == NULL ||
            !a->source->data_volumes)
            continue;
        a->source->collect(&c, a);
    }
    for (size_t i = 0; i < kt_nsources; i++)
        if (kt_sources[i]->finish && kt_sources[i]->data_volumes)
            kt_sources[i]->finish(&c);
    free(c.seen);
    free(c.diag_index);
    if (c.rc)
        return kt_error_set(err, c.rc, "out of memory while collecting");
    return KT_OK;
}
