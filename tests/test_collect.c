/* The collector stage on small trees, one source at a time: definitions
 * written by the test, a directory tree built by the test, and a sink
 * that keeps every event collection sends, before the timeline sorts or
 * merges anything. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "collect/source.h"
#include "kavtrace/collect.h"
#include "kavtrace/image.h"
#include "kavtrace/volume.h"
#include "testutil.h"

/* ---- a sink that keeps copies ---- */

typedef struct kept {
    char artifact[96], time[KT_TIME_ISO_MAX], source[400], product[96], version[64], path[256],
        key[256], category[32];
} kept;

typedef struct sink {
    kept *items;
    size_t count;
} sink;

static int keep(void *p, const kt_event *e)
{
    sink *s = p;
    kept *k = realloc(s->items, (s->count + 1) * sizeof *k);
    ck_assert_ptr_nonnull(k);
    s->items = k;
    k = &s->items[s->count++];
    memset(k, 0, sizeof *k);
    snprintf(k->artifact, sizeof k->artifact, "%s", e->artifact->id);
    kt_time_format_iso(e->time, k->time);
    snprintf(k->source, sizeof k->source, "%s", e->time_source ? e->time_source : "");
    snprintf(k->product, sizeof k->product, "%s", e->product_id ? e->product_id : "-");
    snprintf(k->version, sizeof k->version, "%s", e->version ? e->version : "-");
    snprintf(k->path, sizeof k->path, "%s", e->path ? e->path : "-");
    snprintf(k->key, sizeof k->key, "%s", e->key ? e->key : "-");
    snprintf(k->category, sizeof k->category, "%s", kt_category_name(e->category));
    return 0;
}

/* The events of artifact id, in the order they were sent. */
static size_t count_of(const sink *s, const char *id)
{
    size_t n = 0;
    for (size_t i = 0; i < s->count; i++)
        n += strcmp(s->items[i].artifact, id) == 0;
    return n;
}

static const kept *find(const sink *s, const char *id, const char *time)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->items[i].artifact, id) == 0 && strcmp(s->items[i].time, time) == 0)
            return &s->items[i];
    ck_abort_msg("no event of %s at %s", id, time);
    return NULL;
}

/* ---- a tree, its definitions, one collection ---- */

static void put(const char *root, const char *rel, const char *text, const char *mtime)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    if (text) {
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        fclose(f);
    } else {
        mkdir(path, 0755);
    }
    if (mtime) {
        kt_time t = truth_time(mtime);
        struct timeval tv[2] = {{t / KT_NS_PER_SEC, 0}, {t / KT_NS_PER_SEC, 0}};
        ck_assert_int_eq(utimes(path, tv), 0);
    }
}

typedef struct run {
    char root[64], defs_dir[64];
    kt_artifact_set set;
    sink got;
    kt_diags warnings;
    kt_collect_stats stats;
    char zone[128];
} run;

static void begin(run *r, const char *yaml)
{
    memset(r, 0, sizeof *r);
    snprintf(r->root, sizeof r->root, "/tmp/kt-collect-XXXXXX");
    snprintf(r->defs_dir, sizeof r->defs_dir, "/tmp/kt-collect-defs-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(r->root));
    ck_assert_ptr_nonnull(mkdtemp(r->defs_dir));
    put(r->defs_dir, "test.yaml", yaml, NULL);
}

static void collect(run *r)
{
    kt_strlist problems = {0};
    kt_error err = {0};
    int rc = kt_artifacts_load(r->defs_dir, &r->set, &problems, &err);
    ck_assert_msg(rc == 0, "%s: %s", err.msg, problems.count ? problems.items[0] : "");
    kt_strlist_release(&problems);
    kt_image *img = NULL;
    ck_assert_msg(kt_image_open(r->root, &img, &err) == 0, "%s", err.msg);
    kt_volume_list vols = {0};
    ck_assert_int_eq(kt_volumes_scan(img, &vols, &err), 0);
    ck_assert_uint_eq(vols.count, 1);
    kt_fs *fs = NULL;
    ck_assert_int_eq(kt_fs_open_volume(img, &vols.items[0], &fs, &err), 0);
    kt_system sys;
    ck_assert_int_eq(kt_system_detect(fs, &sys, &err), 0);
    ck_assert_int_ne(sys.os, KT_OS_NONE);
    kt_event_sink s = {.ctx = &r->got, .add = keep};
    ck_assert_int_eq(kt_collect_system_to(&r->set, fs, &vols.items[0], &sys, 0, &s, &r->warnings,
                                          &r->stats, r->zone, sizeof r->zone, &err),
                     0);
    kt_system_release(&sys);
    kt_fs_free(fs);
    kt_volume_list_release(&vols);
    kt_image_free(img);
}

static void end(run *r)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", r->root, r->defs_dir);
    ck_assert_int_eq(system(cmd), 0);
    free(r->got.items);
    kt_diags_release(&r->warnings);
    kt_artifact_set_release(&r->set);
}

static const char linux_defs[] =
    "vendor: tv\n"
    "products:\n"
    "  - {id: tv-agent, name: TV Agent, match: ['tvagent*']}\n"
    "artifacts:\n"
    "  - id: t.folder\n"
    "    description: program folder\n"
    "    os: linux\n"
    "    category: presence\n"
    "    role: program\n"
    "    files: {paths: ['opt/tv*/*'], type: directory, times: [si_modified],\n"
    "            product: {component: -1},\n"
    "            version: {component: -1, regex: '^tv(.*)$', map: {'agent': '7.1'}}}\n"
    "  - id: t.log\n"
    "    description: a log line\n"
    "    os: linux\n"
    "    category: execution\n"
    "    files:\n"
    "      paths: ['var/log/tv/*.log']\n"
    "      parse: {format: lines, regex: '^([0-9-]+ [0-9:]+) started (tv[a-z]+) ([0-9.]+)',\n"
    "              pattern: '%Y-%m-%d %H:%M:%S', zone: local}\n"
    "      product: {group: 2}\n"
    "      version: {group: 3}\n"
    "  - id: t.answer\n"
    "    description: an answer file\n"
    "    os: linux\n"
    "    category: ksn\n"
    "    files: {paths: ['etc/tv/*.ini'], content: '^USE_KSN=yes', times: [si_modified]}\n"
    "  - id: t.dpkg\n"
    "    description: dpkg\n"
    "    os: linux\n"
    "    category: install\n"
    "    packages: {format: dpkg-log, paths: ['var/log/dpkg.log'], names: ['tvagent*'],\n"
    "               actions: {install: install, remove: removal}, product: {package: true}}\n"
    "  - id: t.db\n"
    "    description: a detection\n"
    "    os: linux\n"
    "    category: detection\n"
    "    sqlite: {paths: ['var/opt/tv/d.db'], query: 'SELECT t, name FROM d ORDER BY t',\n"
    "             encoding: unix, product: {column: 1}}\n"
    "  - id: t.mac-only\n"
    "    description: never on Linux\n"
    "    os: macos\n"
    "    category: presence\n"
    "    files: {paths: ['opt/*'], times: [si_modified]}\n";

static void linux_tree(const char *root)
{
    put(root, "etc/os-release", "NAME=\"Debian GNU/Linux\"\n", NULL);
    put(root, "opt/tv/tvagent", NULL, "2023-03-01T10:00:00Z");
    put(root, "opt/tvx/notes.txt", "not a directory\n", "2023-03-02T10:00:00Z");
    put(root, "var/log/tv/a.log",
        "2024-10-01 08:00:00 started tvagent 1.2.3\n"
        "noise\n"
        "2024-10-02 09:30:00 started tvagent 1.2.4\n"
        "2024-13-02 09:30:00 started tvagent 9.9\n",
        NULL);
    put(root, "etc/tv/yes.ini", "EULA=yes\nUSE_KSN=yes\n", "2024-05-05T05:05:05Z");
    put(root, "etc/tv/no.ini", "USE_KSN=no\n", "2024-05-06T05:05:05Z");
    put(root, "var/log/dpkg.log",
        "2023-02-14 10:22:05 install tvagent:amd64 <none> 1.2.3\n"
        "2023-02-14 10:22:06 install other:amd64 <none> 1.0\n"
        "2024-12-01 11:00:00 remove tvagent:amd64 1.2.4 <none>\n",
        NULL);
    char db[1024];
    snprintf(db, sizeof db, "%s/var/opt/tv/d.db", root);
    put(root, "var/opt/tv/.keep", "", NULL);
    sqlite3 *h = NULL;
    ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(h,
                                  "CREATE TABLE d (t INTEGER, name TEXT);"
                                  "INSERT INTO d VALUES (1727600000, 'tvagent');"
                                  "INSERT INTO d VALUES (0, 'no time');"
                                  "INSERT INTO d VALUES (1727700000, 'tvagent');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(h);
}

START_TEST(files_packages_and_sqlite_of_a_linux_tree)
{
    run r;
    begin(&r, linux_defs);
    linux_tree(r.root);
    collect(&r);
    /* files: only the directory entry that fits the type, its mtime. */
    ck_assert_uint_eq(count_of(&r.got, "t.folder"), 1);
    const kept *k = find(&r.got, "t.folder", "2023-03-01T10:00:00Z");
    ck_assert_str_eq(k->path, "opt/tv/tvagent");
    ck_assert_str_eq(k->product, "tv-agent");
    ck_assert_str_eq(k->source, "modified");
    ck_assert_str_eq(k->version, "7.1"); /* "agent" through the version rule's map */
    /* lines: every valid matching line; no zone here, so taken as UTC and
     * said; the invalid date is a warning. */
    ck_assert_uint_eq(count_of(&r.got, "t.log"), 2);
    k = find(&r.got, "t.log", "2024-10-02T09:30:00Z");
    ck_assert_str_eq(k->version, "1.2.4");
    ck_assert_str_eq(k->product, "tv-agent");
    ck_assert_str_eq(k->source, "line 3 '2024-10-02 09:30:00', local, zone unknown: taken as UTC");
    ck_assert_uint_eq(r.warnings.count, 3);
    ck_assert_str_eq(r.warnings.items[0].code, "zone"); /* no zone: the times say so */
    ck_assert_ptr_null(r.warnings.items[0].path);
    const kt_diag *d = &r.warnings.items[1];
    ck_assert_str_eq(d->code, "file.line-time");
    ck_assert_int_eq(d->severity, KT_SEV_WARNING);
    ck_assert_int_eq(d->volume, 0);
    ck_assert_str_eq(d->path, "var/log/tv/a.log");
    ck_assert_str_eq(d->artifact, "t.log");
    ck_assert_str_eq(d->message, "line 4: time '2024-13-02 09:30:00' is not valid");
    char text[512];
    ck_assert_str_eq(kt_diag_text(d, text, sizeof text),
                     "volume 0: 'var/log/tv/a.log': line 4: time '2024-13-02 09:30:00' is not "
                     "valid (artifact t.log)");
    ck_assert_str_eq(r.warnings.items[2].code, "sqlite.time");
    /* content: only the file whose content matches. */
    ck_assert_uint_eq(count_of(&r.got, "t.answer"), 1);
    ck_assert_str_eq(find(&r.got, "t.answer", "2024-05-05T05:05:05Z")->path, "etc/tv/yes.ini");
    /* packages: the matching package's actions, each its category. */
    ck_assert_uint_eq(count_of(&r.got, "t.dpkg"), 2);
    k = find(&r.got, "t.dpkg", "2023-02-14T10:22:05Z");
    ck_assert_str_eq(k->category, "install");
    ck_assert_str_eq(k->product, "tv-agent");
    ck_assert_str_eq(find(&r.got, "t.dpkg", "2024-12-01T11:00:00Z")->category, "removal");
    /* sqlite: rows with a time; the one without is a warning. */
    ck_assert_uint_eq(count_of(&r.got, "t.db"), 2);
    k = find(&r.got, "t.db", "2024-09-29T08:53:20Z");
    ck_assert_str_eq(k->source, "column t = 1727600000 (Unix time, UTC)");
    ck_assert_str_eq(k->product, "tv-agent");
    /* os: macos artifacts never run on Linux. */
    ck_assert_uint_eq(count_of(&r.got, "t.mac-only"), 0);
    ck_assert_uint_eq(r.got.count, 8);
    ck_assert_uint_ge(r.stats.files_read, 4);
    ck_assert_uint_eq(r.stats.events, 8);
    end(&r);
}
END_TEST

static const char windows_defs[] = "vendor: tv\n"
                                   "artifacts:\n"
                                   "  - id: t.current\n"
                                   "    description: CurrentVersion\n"
                                   "    os: windows\n"
                                   "    category: install\n"
                                   "    registry:\n"
                                   "      hive: SOFTWARE\n"
                                   "      keys: ['microsoft\\Windows*\\Current*']\n"
                                   "      where: {ProductName: 'Windows 1*'}\n"
                                   "      version: {value: CurrentBuild}\n"
                                   "      times:\n"
                                   "        - {key_written: true}\n"
                                   "        - {value: InstallDate, encoding: unix}\n"
                                   "        - {value: InstallTime, encoding: unix_or_filetime}\n"
                                   "  - id: t.filtered\n"
                                   "    description: filtered out\n"
                                   "    os: windows\n"
                                   "    category: install\n"
                                   "    registry:\n"
                                   "      hive: SOFTWARE\n"
                                   "      keys: ['Microsoft\\Windows NT\\CurrentVersion']\n"
                                   "      where: {ProductName: 'Windows 7*'}\n"
                                   "      times: [{key_written: true}]\n";

START_TEST(registry_keys_by_pattern_and_value)
{
    run r;
    begin(&r, windows_defs);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s/Windows/System32/config' && cp '%s/hives/SOFTWARE' '%s/hives/SYSTEM' "
             "'%s/Windows/System32/config/'",
             r.root, evidence_dir(), evidence_dir(), r.root);
    ck_assert_int_eq(system(cmd), 0);
    collect(&r);
    /* A literal component matched in any case, globs for the rest; the
     * key's last write and two value encodings. */
    ck_assert_uint_eq(count_of(&r.got, "t.current"), 3);
    const kept *k = find(&r.got, "t.current", "2022-01-13T09:02:44.7316028Z");
    ck_assert_str_eq(k->key, "Microsoft\\Windows NT\\CurrentVersion");
    ck_assert_str_eq(k->source, "key last written");
    ck_assert_str_eq(k->version, "19044");
    ck_assert_uint_eq(count_of(&r.got, "t.current"), 3);
    ck_assert_str_eq(r.got.items[1].time, "2022-01-10T08:15:30Z");
    ck_assert_str_eq(r.got.items[1].source, "InstallDate (Unix seconds)");
    ck_assert_str_eq(r.got.items[2].time, "2022-01-10T08:15:30Z");
    ck_assert_str_eq(r.got.items[2].source, "InstallTime (FILETIME)");
    ck_assert_uint_eq(count_of(&r.got, "t.filtered"), 0);
    /* The zone comes from the SYSTEM hive detection loaded. */
    ck_assert_str_eq(r.zone, "Eastern Standard Time");
    ck_assert_uint_eq(r.stats.hives_read, 2);
    end(&r);
}
END_TEST

/* Registry time values as products write them: Unix seconds in a DWORD or
 * as a digit string, FILETIMEs, and the "never" markers (zero, all bits
 * set, empty), which give no event and no warning. */
static const char never_defs[] = "vendor: tv\n"
                                 "artifacts:\n"
                                 "  - id: t.times\n"
                                 "    description: times\n"
                                 "    os: windows\n"
                                 "    category: execution\n"
                                 "    registry:\n"
                                 "      hive: SOFTWARE\n"
                                 "      keys: ['TV\\Times']\n"
                                 "      times:\n"
                                 "        - {value: UnixDword, encoding: unix}\n"
                                 "        - {value: UnixString, encoding: unix}\n"
                                 "        - {value: Filetime, encoding: filetime}\n"
                                 "        - {value: OnesDword, encoding: unix}\n"
                                 "        - {value: OnesQword, encoding: filetime}\n"
                                 "        - {value: OnesQwordEither, encoding: unix_or_filetime}\n"
                                 "        - {value: OnesString, encoding: unix}\n"
                                 "        - {value: ZeroDword, encoding: unix}\n"
                                 "        - {value: ZeroQword, encoding: filetime}\n"
                                 "        - {value: Empty, encoding: filetime}\n"
                                 "        - {value: EmptyString, encoding: unix}\n"
                                 "        - {value: Missing, encoding: unix}\n"
                                 "        - {value: NotDigits, encoding: unix}\n"
                                 "        - {value: ShortBinary, encoding: filetime}\n";

static void put_link(const char *root, const char *rel, const char *target, const char *mtime);

/* The cell of the first key (sig "nk") or value ("vk") record called
 * `name` in a hive's bytes: cells are 8-byte aligned from the first hbin
 * at 0x1000; a cell is its size (4 bytes), then the record. */
static size_t cell_named(const kt_buf *h, const char *sig, const char *name)
{
    size_t n = strlen(name), name_at = sig[0] == 'n' ? 4 + 0x4C : 4 + 0x14;
    size_t len_at = sig[0] == 'n' ? 4 + 0x48 : 4 + 2;
    for (size_t c = 0x1000; c + name_at + n <= h->len; c += 8)
        if (memcmp(h->data + c + 4, sig, 2) == 0 &&
            (h->data[c + len_at] | h->data[c + len_at + 1] << 8) == (int)n &&
            memcmp(h->data + c + name_at, name, n) == 0)
            return c;
    ck_abort_msg("no %s cell '%s'", sig, name);
    return 0;
}

static size_t warnings_of(const run *r, const char *code, const char *path_part, const char *text)
{
    size_t n = 0;
    for (size_t i = 0; i < r->warnings.count; i++) {
        const kt_diag *d = &r->warnings.items[i];
        n += strcmp(d->code, code) == 0 &&
             (!path_part || (d->path && strstr(d->path, path_part))) &&
             (!text || strstr(d->message, text));
    }
    return n;
}

START_TEST(damaged_registry_keys_and_values_are_warnings_not_absences)
{
    run r;
    char defs[4096];
    snprintf(defs, sizeof defs,
             "%s"
             "  - id: t.zip\n"
             "    description: 7-Zip\n"
             "    os: windows\n"
             "    category: install\n"
             "    registry: {hive: SOFTWARE, keys: ['Microsoft\\Windows\\CurrentVersion\\"
             "Uninstall\\7-Zip'], times: [{key_written: true}]}\n"
             "  - id: t.zip-again\n"
             "    description: 7-Zip, another definition\n"
             "    os: windows\n"
             "    category: install\n"
             "    registry: {hive: SOFTWARE, keys: ['Microsoft\\Windows\\CurrentVersion\\"
             "Uninstall\\7-Zip'], times: [{key_written: true}]}\n",
             windows_defs);
    begin(&r, defs);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s/Windows/System32/config' && cp '%s/hives/SOFTWARE' '%s/hives/SYSTEM' "
             "'%s/Windows/System32/config/'",
             r.root, evidence_dir(), evidence_dir(), r.root);
    ck_assert_int_eq(system(cmd), 0);
    char hive[1024];
    snprintf(hive, sizeof hive, "%s/Windows/System32/config/SOFTWARE", r.root);
    kt_buf h = {0};
    file_load(hive, &h);
    /* InstallTime's data offset far outside the hive; 7-Zip's key record
     * no longer an "nk" */
    size_t vk = cell_named(&h, "vk", "InstallTime"), nk = cell_named(&h, "nk", "7-Zip");
    static const uint8_t far[4] = {0xf0, 0xff, 0xff, 0x7f};
    memcpy(h.data + vk + 4 + 8, far, 4);
    h.data[nk + 4] = 'x';
    FILE *f = fopen(hive, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(h.data, 1, h.len, f), h.len);
    ck_assert_int_eq(fclose(f), 0);
    kt_buf_release(&h);
    collect(&r);
    /* the key written and InstallDate still; InstallTime said unreadable */
    ck_assert_uint_eq(count_of(&r.got, "t.current"), 2);
    ck_assert_uint_eq(warnings_of(&r, "hive", "CurrentVersion", "InstallTime"), 1);
    /* the damaged key: said once for both definitions, not taken as absent */
    ck_assert_uint_eq(count_of(&r.got, "t.zip") + count_of(&r.got, "t.zip-again"), 0);
    ck_assert_uint_eq(warnings_of(&r, "hive", "Uninstall", "7-Zip"), 1);
    end(&r);
}
END_TEST

START_TEST(unreadable_folders_and_text_with_nul_bytes_are_warnings)
{
    run r;
    begin(&r,
          "vendor: tv\n"
          "artifacts:\n"
          "  - id: t.a\n"
          "    description: under a looping folder\n"
          "    os: linux\n"
          "    category: presence\n"
          "    files: {paths: ['opt/loop/tv/*'], times: [si_modified]}\n"
          "  - id: t.b\n"
          "    description: under it too\n"
          "    os: linux\n"
          "    category: presence\n"
          "    files: {paths: ['opt/loop/tv/*.ini'], times: [si_modified]}\n"
          "  - id: t.ksn\n"
          "    description: an answer file\n"
          "    os: linux\n"
          "    category: ksn\n"
          "    files: {paths: ['etc/tv/*.ini'], content: '^USE_KSN=yes', times: [si_modified]}\n"
          "  - id: t.status\n"
          "    description: dpkg status\n"
          "    os: linux\n"
          "    category: presence\n"
          "    packages: {format: dpkg-status, paths: ['var/lib/dpkg/status'], names: ['tv*'],\n"
          "               actions: {state: presence}, product: {package: true}}\n");
    put(r.root, "etc/os-release", "NAME=\"Debian GNU/Linux\"\n", NULL);
    put(r.root, "opt/x", "", NULL);
    put_link(r.root, "opt/loop", "loop", "2024-01-01T00:00:00Z");
    put(r.root, "etc/tv/lost.ini", "", "2024-05-05T05:05:05Z");
    char path[1100];
    snprintf(path, sizeof path, "%s/etc/tv/lost.ini", r.root);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    static const char lost[] = "\0\0\0\0USE_KSN=yes\n"; /* a zeroed block, then the text */
    ck_assert_uint_eq(fwrite(lost, 1, sizeof lost - 1, f), sizeof lost - 1);
    fclose(f);
    put(r.root, "var/lib/dpkg/status",
        "Package: tvagent\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\n\n",
        NULL);
    put_link(r.root, "var/lib/dpkg/info", "info", "2024-01-01T00:00:00Z");
    collect(&r);
    /* too many levels of links: said once, whatever the definitions */
    ck_assert_uint_eq(warnings_of(&r, "dir.lookup", "opt/loop", NULL), 1);
    ck_assert_uint_eq(warnings_of(&r, "file.text", "etc/tv/lost.ini", "NUL byte at offset 0"), 1);
    ck_assert_uint_eq(count_of(&r.got, "t.ksn"), 0);
    ck_assert_uint_eq(warnings_of(&r, "file.stat", "var/lib/dpkg/info/tvagent.list", NULL), 1);
    end(&r);
}
END_TEST

START_TEST(registry_times_read_digit_strings_and_skip_never_markers)
{
    run r;
    begin(&r, never_defs);
    put(r.defs_dir, "SOFTWARE.spec",
        "key\tTV\\Times\t2021-01-01T00:00:00Z\n"
        "value\tTV\\Times\tUnixDword\tdword\t1608352852\n"
        "value\tTV\\Times\tUnixString\tsz\t1608352944\n"
        "value\tTV\\Times\tFiletime\tqword\t132528263631366975\n"
        "value\tTV\\Times\tOnesDword\tdword\t0xFFFFFFFF\n"
        "value\tTV\\Times\tOnesQword\tqword\t0xFFFFFFFFFFFFFFFF\n"
        "value\tTV\\Times\tOnesQwordEither\tqword\t0xFFFFFFFFFFFFFFFF\n"
        "value\tTV\\Times\tOnesString\tsz\t4294967295\n"
        "value\tTV\\Times\tZeroDword\tdword\t0\n"
        "value\tTV\\Times\tZeroQword\tqword\t0\n"
        "value\tTV\\Times\tEmpty\tsz\t\n"
        "value\tTV\\Times\tEmptyString\tsz\t\n"
        "value\tTV\\Times\tNotDigits\tsz\t1608352852 \n"
        "value\tTV\\Times\tShortBinary\tbinary\t0102\n",
        NULL);
    put(r.defs_dir, "SYSTEM.spec", "value\tSelect\tCurrent\tdword\t1\n", NULL);
    put(r.root, "Windows/System32/config/.keep", "", NULL);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "'%s' '%s/SOFTWARE.spec' '%s/Windows/System32/config/SOFTWARE' && "
             "'%s' '%s/SYSTEM.spec' '%s/Windows/System32/config/SYSTEM'",
             getenv("KT_MKHIVE"), r.defs_dir, r.root, getenv("KT_MKHIVE"), r.defs_dir, r.root);
    ck_assert_int_eq(system(cmd), 0);
    collect(&r);
    ck_assert_uint_eq(count_of(&r.got, "t.times"), 3);
    ck_assert_str_eq(find(&r.got, "t.times", "2020-12-19T04:40:52Z")->source,
                     "UnixDword (Unix seconds)");
    ck_assert_str_eq(find(&r.got, "t.times", "2020-12-19T04:42:24Z")->source,
                     "UnixString '1608352944' (Unix seconds)");
    ck_assert_str_eq(find(&r.got, "t.times", "2020-12-19T04:39:23.1366975Z")->source,
                     "Filetime (FILETIME)");
    /* Only the two values in no time encoding at all warn. */
    size_t bad = 0;
    for (size_t i = 0; i < r.warnings.count; i++) {
        const kt_diag *d = &r.warnings.items[i];
        if (strcmp(d->code, "registry.time") != 0)
            continue;
        bad++;
        ck_assert_msg(strstr(d->message, "'NotDigits'") || strstr(d->message, "'ShortBinary'"),
                      "%s", d->message);
    }
    ck_assert_uint_eq(bad, 2);
    end(&r);
}
END_TEST

START_TEST(fat_times_are_local_and_converted_with_the_zone)
{
    /* FAT stores wall-clock times: a Linux root on FAT whose zone is
     * America/Chicago (named in etc/timezone; no zone file, so kavtrace's
     * table converts). 10:00 on 2024-07-01 is CDT: 15:00Z. */
    run r;
    begin(&r, "vendor: tv\n"
              "artifacts:\n"
              "  - id: t.fat\n"
              "    description: folder on FAT\n"
              "    os: linux\n"
              "    category: presence\n"
              "    files: {paths: ['opt/tv'], type: directory, times: [si_modified]}\n");
    char manifest[1100], img[1100], cmd[4096];
    snprintf(manifest, sizeof manifest, "%s/fat.tsv", r.defs_dir);
    put(r.defs_dir, "fat.tsv",
        "dir\tetc\t2024-01-01T00:00:00Z\t-\n"
        "file\tetc/os-release\t2024-01-01T00:00:00Z\ttext:NAME=Debian\\n\n"
        "file\tetc/timezone\t2024-01-01T00:00:00Z\ttext:America/Chicago\\n\n"
        "dir\topt\t2024-01-01T00:00:00Z\t-\n"
        "dir\topt/tv\t2024-07-01T10:00:00Z\t-\n",
        NULL);
    /* The tree is replaced by the FAT image itself. */
    snprintf(img, sizeof img, "%s/fat.img", r.defs_dir);
    snprintf(cmd, sizeof cmd,
             "'%s/build-fat.sh' '%s' 8192 4B565433 TVFAT '%s' 16 && rm -rf '%s' && cp '%s' '%s'",
             testdata_dir(), img, manifest, r.root, img, r.root);
    ck_assert_int_eq(system(cmd), 0);
    unlink(manifest);
    unlink(img);
    collect(&r);
    ck_assert_uint_eq(count_of(&r.got, "t.fat"), 1);
    const kept *k = find(&r.got, "t.fat", "2024-07-01T15:00:00Z");
    ck_assert_msg(strncmp(k->source,
                          "modified (FAT local time), local, converted with America/Chicago "
                          "(kavtrace's table from tzdata ",
                          95) == 0,
                  "%s", k->source);
    ck_assert_str_eq(r.zone, "America/Chicago");
    end(&r);
}
END_TEST

/* ---- searches with "**", content tests, links, undated lines ---- */

static void put_link(const char *root, const char *rel, const char *target, const char *mtime)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    ck_assert_int_eq(symlink(target, path), 0);
    kt_time t = truth_time(mtime);
    struct timeval tv[2] = {{t / KT_NS_PER_SEC, 0}, {t / KT_NS_PER_SEC, 0}};
    ck_assert_int_eq(lutimes(path, tv), 0);
}

static size_t index_of(const sink *s, const char *id, const char *path)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->items[i].artifact, id) == 0 && strcmp(s->items[i].path, path) == 0)
            return i;
    ck_abort_msg("no event of %s for %s", id, path);
    return 0;
}

static bool has_event_for(const sink *s, const char *id, const char *path)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->items[i].artifact, id) == 0 && strcmp(s->items[i].path, path) == 0)
            return true;
    return false;
}

START_TEST(any_depth_searches_shallowest_first_and_stop_at_their_bounds)
{
    run r;
    begin(&r, "vendor: tv\n"
              "artifacts:\n"
              "  - id: t.any\n"
              "    description: any text file\n"
              "    os: linux\n"
              "    category: presence\n"
              "    files: {paths: ['home/**/*.txt'], type: file, times: [si_modified]}\n");
    put(r.root, "etc/os-release", "NAME=\"Debian GNU/Linux\"\n", NULL);
    put(r.root, "home/a/b/c/deep.txt", "3\n", "2024-01-03T00:00:00Z");
    put(r.root, "home/top.txt", "0\n", "2024-01-01T00:00:00Z");
    put(r.root, "home/a/one.txt", "1\n", "2024-01-02T00:00:00Z");
    /* "**" stands for at most 6 folders */
    put(r.root, "home/1/2/3/4/5/6/six.txt", "6\n", "2024-01-06T00:00:00Z");
    put(r.root, "home/1/2/3/4/5/6/7/seven.txt", "7\n", "2024-01-07T00:00:00Z");
    collect(&r);
    /* breadth first: the home folder, then each depth in turn */
    size_t top = index_of(&r.got, "t.any", "home/top.txt"),
           one = index_of(&r.got, "t.any", "home/a/one.txt"),
           deep = index_of(&r.got, "t.any", "home/a/b/c/deep.txt"),
           six = index_of(&r.got, "t.any", "home/1/2/3/4/5/6/six.txt");
    ck_assert(top < one && one < deep && deep < six);
    ck_assert(!has_event_for(&r.got, "t.any", "home/1/2/3/4/5/6/7/seven.txt"));
    ck_assert_uint_eq(count_of(&r.got, "t.any"), 4);
    ck_assert_uint_eq(r.warnings.count, 1); /* no zone, nothing else */
    end(&r);

    /* A vendor folder of more folders than the old bound (4096), as real
     * program folders are (Microsoft Office, Common Files): searched
     * whole, no warning (a warning would leave verdicts null). */
    begin(&r, "vendor: tv\n"
              "artifacts:\n"
              "  - id: t.any\n"
              "    description: any text file\n"
              "    os: linux\n"
              "    category: presence\n"
              "    files: {paths: ['home/**/*.txt'], type: file, times: [si_modified]}\n");
    put(r.root, "etc/os-release", "NAME=\"Debian GNU/Linux\"\n", NULL);
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/home/w", r.root);
    put(r.root, "home/w/d0000/first.txt", "x\n", "2024-01-08T00:00:00Z");
    for (int i = 1; i < 4200; i++) {
        snprintf(dir, sizeof dir, "%s/home/w/d%04d", r.root, i);
        ck_assert_int_eq(mkdir(dir, 0755), 0);
    }
    put(r.root, "home/w/d4199/late.txt", "x\n", "2024-01-08T00:00:00Z");
    put(r.root, "home/zz/shallow.txt", "z\n", "2024-01-09T00:00:00Z");
    collect(&r);
    ck_assert(has_event_for(&r.got, "t.any", "home/zz/shallow.txt"));
    ck_assert(has_event_for(&r.got, "t.any", "home/w/d0000/first.txt"));
    ck_assert(has_event_for(&r.got, "t.any", "home/w/d4199/late.txt"));
    for (size_t i = 0; i < r.warnings.count; i++)
        ck_assert_str_ne(r.warnings.items[i].code, "limit.search");
    end(&r);
}
END_TEST

/* The walker's bound, on a tree in memory: a folder of `wide` folders,
 * each holding a file "hit". Below the bound every one is found; past it
 * the search stops (any_cut), having found what it entered. */
typedef struct vnode {
    int depth;
} vnode;

static int wide;

static void vlist(void *arg, const char *path, const void *node, bool last, kt_walk_each each,
                  void *walk)
{
    (void)arg;
    (void)path;
    const vnode *n = node;
    char name[16];
    if (n->depth == 0) {
        vnode kid = {1};
        for (int i = 0; i < wide; i++) {
            snprintf(name, sizeof name, "d%06d", i);
            each(walk, name, &kid);
        }
    } else if (n->depth == 1 && last) {
        vnode kid = {2};
        each(walk, "hit", &kid);
    }
}

static bool vmatch(void *arg, const char *path, const void *node)
{
    (void)arg;
    (void)path;
    return ((const vnode *)node)->depth == 2;
}

START_TEST(the_any_depth_bound_is_for_pathological_trees)
{
    const int sizes[] = {5000, KT_WALK_ANY_NODES - 1, KT_WALK_ANY_NODES + 10};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        wide = sizes[k];
        kt_walk w = {.sep = '/',
                     .path_max = KT_FS_PATH_MAX,
                     .node_size = sizeof(vnode),
                     .max_matches = (size_t)1 << 20,
                     .list = vlist,
                     .match = vmatch};
        vnode root = {0};
        kt_walk_run(&w, "**/hit", "", &root);
        ck_assert(!w.nomem);
        if (wide < KT_WALK_ANY_NODES) {
            ck_assert_uint_eq(w.any_cut, 0);
            ck_assert_uint_eq(w.matches, (size_t)wide);
        } else {
            /* the root and KT_WALK_ANY_NODES - 1 of its folders entered */
            ck_assert_uint_eq(w.any_cut, 1);
            ck_assert_uint_eq(w.matches, KT_WALK_ANY_NODES - 1);
        }
    }
}
END_TEST

START_TEST(content_tests_every_regex_and_the_assignments_form)
{
    run r;
    begin(&r, "vendor: tv\n"
              "artifacts:\n"
              "  - id: t.answer\n"
              "    description: an answer file\n"
              "    os: linux\n"
              "    category: ksn\n"
              "    files:\n"
              "      paths: ['*', 'home/**/*']\n"
              "      type: file\n"
              "      max_size: 200\n"
              "      content_form: assignments\n"
              "      content: ['^EULA_AGREED=', "
              "'^[[:space:]]*USE_KSN[[:space:]]*=[[:space:]]*yes[[:space:]]*$']\n"
              "      times: [si_modified]\n");
    put(r.root, "etc/os-release", "NAME=\"Debian GNU/Linux\"\n", NULL);
    put(r.root, "install.conf", "# answers\nEULA_AGREED=yes\nUSE_KSN = yes\n",
        "2024-02-01T00:00:00Z");
    put(r.root, "home/u/inst/kaspersky-installer/setup.txt",
        "#DO NOT EDIT\n\nEULA_AGREED=yes\r\nUSE_KSN=Yes\r\nGROUP_CLEAN=no", "2024-02-02T00:00:00Z");
    /* the package's template: every key commented out */
    put(r.root, "home/u/inst/kaspersky-installer/doc/autoinstall.ini",
        "# Use KSN: yes|no (required)\n#EULA_AGREED=\n#USE_KSN=\n", NULL);
    /* a page quoting an answer file */
    put(r.root, "home/u/howto.html", "<pre>\nEULA_AGREED=yes\nUSE_KSN=yes\n</pre>\n", NULL);
    /* a note with a line of prose */
    put(r.root, "home/u/notes", "EULA_AGREED=yes\nUSE_KSN=yes\nremember to reboot\n", NULL);
    put(r.root, "home/u/ksn-only.ini", "USE_KSN=yes\n", NULL);
    put(r.root, "home/u/no.ini", "EULA_AGREED=yes\nUSE_KSN=no\n", NULL);
    char big[400];
    snprintf(big, sizeof big, "EULA_AGREED=yes\nUSE_KSN=yes\n#%0250d\n", 0);
    put(r.root, "home/u/big.ini", big, NULL);
    char bin[64] = "EULA_AGREED=yes\nUSE_KSN=yes\n";
    put(r.root, "home/u/bin.dat", bin, NULL);
    char path[1100];
    snprintf(path, sizeof path, "%s/home/u/bin.dat", r.root);
    FILE *f = fopen(path, "ab");
    ck_assert_ptr_nonnull(f);
    fputc(0, f);
    fclose(f);
    collect(&r);
    ck_assert_uint_eq(count_of(&r.got, "t.answer"), 2);
    ck_assert_str_eq(find(&r.got, "t.answer", "2024-02-01T00:00:00Z")->path, "install.conf");
    ck_assert_str_eq(find(&r.got, "t.answer", "2024-02-02T00:00:00Z")->path,
                     "home/u/inst/kaspersky-installer/setup.txt");
    end(&r);
}
END_TEST

START_TEST(names_pass_by_other_files_unread)
{
    /* A search over a home directory reads only the files whose names
     * fit (without case): the answer files are found, files of the same
     * content with a cache's names are not, and are not even read. */
    run r;
    begin(&r, "vendor: tv\n"
              "artifacts:\n"
              "  - id: t.answer\n"
              "    description: an answer file\n"
              "    os: linux\n"
              "    category: ksn\n"
              "    files:\n"
              "      paths: ['home/**/*']\n"
              "      names: ['*.txt', '*ANSWER*']\n"
              "      type: file\n"
              "      content: '^USE_KSN=yes'\n"
              "      times: [si_modified]\n");
    put(r.root, "etc/os-release", "NAME=\"Debian GNU/Linux\"\n", NULL);
    put(r.root, "home/u/inst/setup.TXT", "USE_KSN=yes\n", "2024-02-02T00:00:00Z");
    put(r.root, "home/u/answers-kesl", "USE_KSN=yes\n", "2024-02-03T00:00:00Z");
    for (int i = 0; i < 40; i++) {
        char name[64];
        snprintf(name, sizeof name, "home/u/.cache/app/f%03d", i);
        put(r.root, name, "USE_KSN=yes\n", NULL);
    }
    collect(&r);
    ck_assert_uint_eq(count_of(&r.got, "t.answer"), 2);
    ck_assert_str_eq(find(&r.got, "t.answer", "2024-02-02T00:00:00Z")->path,
                     "home/u/inst/setup.TXT");
    ck_assert_str_eq(find(&r.got, "t.answer", "2024-02-03T00:00:00Z")->path, "home/u/answers-kesl");
    ck_assert_uint_eq(r.stats.files_read, 2);
    end(&r);
}
END_TEST

START_TEST(links_to_directories_count_as_directories)
{
    run r;
    begin(&r, "vendor: tv\n"
              "artifacts:\n"
              "  - id: t.dir\n"
              "    description: a program folder\n"
              "    os: linux\n"
              "    category: install\n"
              "    files: {paths: ['opt/k/*'], type: directory, times: [si_modified]}\n");
    put(r.root, "etc/os-release", "NAME=\"Debian GNU/Linux\"\n", NULL);
    put(r.root, "var/k/install_1.0/opt/k/prog/bin/run", "#!/bin/sh\n", NULL);
    put(r.root, "var/k/file", "not a folder\n", NULL);
    put(r.root, "opt/k/real", NULL, "2024-03-01T00:00:00Z");
    put_link(r.root, "opt/k/prog", "../../var/k/install_1.0/opt/k/prog", "2024-03-02T00:00:00Z");
    put_link(r.root, "opt/k/abs", "/var/k/install_1.0/opt/k/prog", "2024-03-03T00:00:00Z");
    put_link(r.root, "opt/k/dangling", "../../var/k/gone", "2024-03-04T00:00:00Z");
    put_link(r.root, "opt/k/to-file", "../../var/k/file", "2024-03-05T00:00:00Z");
    collect(&r);
    ck_assert_uint_eq(count_of(&r.got, "t.dir"), 3);
    ck_assert_str_eq(find(&r.got, "t.dir", "2024-03-01T00:00:00Z")->path, "opt/k/real");
    /* the link's own time: when it was made */
    ck_assert_str_eq(find(&r.got, "t.dir", "2024-03-02T00:00:00Z")->path, "opt/k/prog");
    ck_assert_str_eq(find(&r.got, "t.dir", "2024-03-03T00:00:00Z")->path, "opt/k/abs");
    end(&r);
}
END_TEST

START_TEST(history_lines_with_and_without_their_time)
{
    run r;
    begin(&r, "vendor: tv\n"
              "artifacts:\n"
              "  - id: t.timed\n"
              "    description: a command with its time\n"
              "    os: linux\n"
              "    category: ksn\n"
              "    files:\n"
              "      paths: ['home/*/.zsh_history']\n"
              "      parse: {format: lines, regex: '^: ([0-9]+):[0-9]+;.*go', pattern: '%s'}\n"
              "  - id: t.undated\n"
              "    description: a command without its time\n"
              "    os: linux\n"
              "    category: ksn\n"
              "    files:\n"
              "      paths: ['home/*/.zsh_history']\n"
              "      parse: {format: lines, regex: '^([^:].*go)', time: modified}\n");
    put(r.root, "etc/os-release", "NAME=\"Debian GNU/Linux\"\n", NULL);
    put(r.root, "home/u/.zsh_history",
        ": 1727600000:0;go now\nplain go\n: 99999999999999:0;go too far\nstop\nsudo go\n",
        "2024-11-01T00:00:00Z");
    collect(&r);
    ck_assert_uint_eq(count_of(&r.got, "t.timed"), 1);
    const kept *k = find(&r.got, "t.timed", "2024-09-29T08:53:20Z");
    ck_assert_str_eq(k->source, "line 1 '1727600000', Unix seconds (UTC)");
    ck_assert_uint_eq(count_of(&r.got, "t.undated"), 2);
    k = find(&r.got, "t.undated", "2024-11-01T00:00:00Z");
    ck_assert_str_eq(k->source, "line 2 has no time of its own: the file's modified time, the "
                                "latest the line can have been written");
    /* 14 digits is no Unix time: a warning, not an event */
    bool said = false;
    for (size_t i = 0; i < r.warnings.count; i++)
        said = said || strcmp(r.warnings.items[i].message,
                              "line 3: time '99999999999999' is not valid") == 0;
    ck_assert(said);
    end(&r);
}
END_TEST

START_TEST(name_times_read_the_groups_given)
{
    run r;
    begin(&r, "vendor: tv\n"
              "artifacts:\n"
              "  - id: t.trace\n"
              "    description: a trace file\n"
              "    os: linux\n"
              "    category: execution\n"
              "    files:\n"
              "      paths: ['var/tr/*.log']\n"
              "      name_time:\n"
              "        regex: '_(date)?([0-9]{2}\\.[0-9]{2})_(time)?([0-9]{2}\\.[0-9]{2})_pid'\n"
              "        groups: [2, 4]\n"
              "        pattern: '%m.%d %H.%M'\n"
              "        zone: utc\n");
    put(r.root, "etc/os-release", "NAME=\"Debian GNU/Linux\"\n", NULL);
    put(r.root, "var/tr/KES21.15_10.03_09.15_pid1.log", "x\n", "2024-10-05T00:00:00Z");
    put(r.root, "var/tr/KES21.15_date10.04_time10.16_pid2.log", "x\n", "2024-10-05T00:00:00Z");
    put(r.root, "var/tr/KES21.15_dateXX.XX_timeXX.XX_pid3.log", "x\n", "2024-10-05T00:00:00Z");
    collect(&r);
    /* A directory's files were made when the test put them there: the year
     * is the host's, so only the rest of the time is asserted. */
    ck_assert_uint_eq(count_of(&r.got, "t.trace"), 2);
    static const char *const want[][2] = {{"-10-03T09:15:00Z", "'10.03_09.15, year "},
                                          {"-10-04T10:16:00Z", "'10.04_time10.16, year "}};
    for (size_t w = 0; w < 2; w++) {
        bool seen = false;
        for (size_t i = 0; i < r.got.count; i++) {
            const kept *k = &r.got.items[i];
            seen = seen || (strcmp(k->artifact, "t.trace") == 0 &&
                            strcmp(k->time + 4, want[w][0]) == 0 && strstr(k->source, want[w][1]));
        }
        ck_assert_msg(seen, "no trace event at ....%s", want[w][0]);
    }
    end(&r);
}
END_TEST

START_TEST(bash_history_stamps_date_the_command_after_them)
{
    /* HISTTIMEFORMAT set: bash writes '#<Unix seconds>' before each
     * command. A command right after a stamp has that time; one without
     * (typed before HISTTIMEFORMAT was set) the file's modified time. */
    run r;
    begin(&r, "vendor: tv\n"
              "artifacts:\n"
              "  - id: t.bash\n"
              "    description: a command, stamped or not\n"
              "    os: linux\n"
              "    category: ksn\n"
              "    files:\n"
              "      paths: ['root/.bash_history']\n"
              "      parse: {format: lines, regex: '^([^:#]*go.*)', stamp: '^#([0-9]{9,11})$',\n"
              "              pattern: '%s', time: modified}\n"
              "  - id: t.stamped-only\n"
              "    description: a stamped command\n"
              "    os: linux\n"
              "    category: ksn\n"
              "    files:\n"
              "      paths: ['root/.bash_history']\n"
              "      parse: {format: lines, regex: '^([^:#]*go.*)', stamp: '^#([0-9]+)$',\n"
              "              pattern: '%s'}\n");
    put(r.root, "etc/os-release", "NAME=\"Debian GNU/Linux\"\n", NULL);
    put(r.root, "root/.bash_history",
        "plain go\n#1727600000\ngo now\nls\n#1727600100\nstop\ngo later\n#1727600200\r\n"
        "sudo go\r\n#99999999999999\ngo bad\n",
        "2024-11-01T00:00:00Z");
    collect(&r);
    ck_assert_uint_eq(count_of(&r.got, "t.bash"), 5);
    const kept *k = find(&r.got, "t.bash", "2024-09-29T08:53:20Z");
    ck_assert_str_eq(k->source, "line 3, stamped '1727600000' on line 2, Unix seconds (UTC)");
    k = find(&r.got, "t.bash", "2024-09-29T08:56:40Z");
    ck_assert_str_eq(k->source, "line 9, stamped '1727600200' on line 8, Unix seconds (UTC)");
    /* plain go (1), go later (7: its stamp dates 'stop'), go bad (11: no
     * valid stamp): the file's time */
    size_t undated = 0;
    for (size_t i = 0; i < r.got.count; i++)
        undated += strcmp(r.got.items[i].artifact, "t.bash") == 0 &&
                   strcmp(r.got.items[i].time, "2024-11-01T00:00:00Z") == 0 &&
                   strstr(r.got.items[i].source, "no time of its own") != NULL;
    ck_assert_uint_eq(undated, 3);
    /* without time: modified a line with no stamp is none */
    ck_assert_uint_eq(count_of(&r.got, "t.stamped-only"), 2);
    bool said = false;
    for (size_t i = 0; i < r.warnings.count; i++)
        said = said || strcmp(r.warnings.items[i].message,
                              "line 10: stamp '99999999999999' is not valid") == 0;
    ck_assert(said);
    end(&r);
}
END_TEST

START_TEST(definitions_of_searches_and_times_are_checked)
{
    static const char *const bad[] = {
        "    files: {paths: ['home/a**/x'], times: [si_modified]}\n",
        "    files: {paths: ['home/**/b/**'], times: [si_modified]}\n",
        "    files: {paths: ['x'], content_form: toml, content: 'a', times: [si_modified]}\n",
        "    files: {paths: ['x'], max_size: 0, times: [si_modified]}\n",
        "    files: {paths: ['x'], max_size: 99999999999, times: [si_modified]}\n",
        "    files: {paths: ['x'], parse: {format: line, regex: '(a)', time: modified}}\n",
        "    files: {paths: ['x'], parse: {format: lines, regex: '(a)', time: modified, "
        "pattern: '%s'}}\n",
        "    files: {paths: ['x'], parse: {format: lines, regex: '(a)', pattern: '%Y %s'}}\n",
        "    files: {paths: ['x'], name_time: {regex: '(a)(b)', groups: [3], pattern: '%Y'}}\n",
        "    files: {paths: ['x'], name_time: {regex: '(a)(b)', groups: [0], pattern: '%Y'}}\n",
        "    files: {paths: ['x'], name_time: {regex: '(a)', groups: [1, 1, 1, 1, 1], "
        "pattern: '%Y'}}\n",
        "    files: {paths: ['x'], parse: {format: lines, regex: '(a)', stamp: '^#([0-9]+)$'}}\n",
        "    files: {paths: ['x'], parse: {format: line, regex: '(a)', stamp: '^#([0-9]+)$', "
        "pattern: '%s'}}\n",
        "    files: {paths: ['x'], parse: {format: lines, regex: '(a)', stamp: '^#[0-9]+$', "
        "pattern: '%s'}}\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run r;
        char yaml[1024];
        snprintf(yaml, sizeof yaml,
                 "vendor: tv\nartifacts:\n  - id: t.bad\n    description: bad\n    os: linux\n"
                 "    category: presence\n%s",
                 bad[i]);
        begin(&r, yaml);
        kt_strlist problems = {0};
        kt_error err = {0};
        ck_assert_msg(kt_artifacts_load(r.defs_dir, &r.set, &problems, &err) == KT_EFORMAT,
                      "accepted: %s", bad[i]);
        ck_assert_uint_ge(problems.count, 1);
        kt_strlist_release(&problems);
        end(&r);
    }
    kt_time_pattern p = {.pattern = "%s"};
    ck_assert_int_eq(kt_time_pattern_compile(&p), 0);
    ck_assert(p.unix_seconds && !p.time_only && !p.no_year);
    ck_assert_int_eq(p.precision, KT_PREC_SECOND);
    kt_time t;
    ck_assert_int_eq(kt_time_pattern_parse(&p, "1543170972", &t), 0);
    ck_assert_int_eq(t, truth_time("2018-11-25T18:36:12Z"));
    ck_assert_int_eq(kt_time_pattern_parse(&p, "", &t), KT_EFORMAT);
    ck_assert_int_eq(kt_time_pattern_parse(&p, "123456789012", &t), KT_EFORMAT);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("collect");
    TCase *tc = tcase_create("sources");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, files_packages_and_sqlite_of_a_linux_tree);
    tcase_add_test(tc, registry_keys_by_pattern_and_value);
    tcase_add_test(tc, registry_times_read_digit_strings_and_skip_never_markers);
    tcase_add_test(tc, damaged_registry_keys_and_values_are_warnings_not_absences);
    tcase_add_test(tc, unreadable_folders_and_text_with_nul_bytes_are_warnings);
    tcase_add_test(tc, fat_times_are_local_and_converted_with_the_zone);
    tcase_add_test(tc, any_depth_searches_shallowest_first_and_stop_at_their_bounds);
    tcase_add_test(tc, the_any_depth_bound_is_for_pathological_trees);
    tcase_add_test(tc, content_tests_every_regex_and_the_assignments_form);
    tcase_add_test(tc, names_pass_by_other_files_unread);
    tcase_add_test(tc, links_to_directories_count_as_directories);
    tcase_add_test(tc, history_lines_with_and_without_their_time);
    tcase_add_test(tc, name_times_read_the_groups_given);
    tcase_add_test(tc, bash_history_stamps_date_the_command_after_them);
    tcase_add_test(tc, definitions_of_searches_and_times_are_checked);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
