/* The `owner` source: the uninstall entry of the product that owns an
 * integration's host folder (role host_product).
 *
 * Every entry under the definition's Uninstall keys (SOFTWARE, its
 * WOW6432Node twin, every user's NTUSER.DAT) names a folder: its
 * InstallLocation, else the folder of the program its UninstallString or
 * DisplayIcon runs (real entries often leave InstallLocation empty). For
 * each file an integration was found at, the entry whose folder holds it
 * most closely (the longest folder that is a whole-component prefix of the
 * file's path, without case) owns it; the host's owner is the entry that
 * owns most of its files. Entries that tie are all given (findings.json
 * then names none: two owners is no answer). An integration with no file
 * (a registry key only) or whose files no entry holds has no owner event:
 * findings.json says why. Runs when collection ends (finish), over what
 * the integration finds recorded (kt_collector's integration_paths). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "source.h"

/* Uninstall entries with a folder kept per system at most (~3 KiB each): more
 * is a warning. */
#define OWNER_MAX_ENTRIES 16384
#define OWNER_FOLDER_MAX 1024

typedef struct spec {
    kt_strlist keys;      /* in SOFTWARE */
    kt_strlist user_keys; /* in every user's NTUSER.DAT */
} spec;

static void parse(kt_defs *d, yaml_node_t *n, kt_artifact *a)
{
    spec *s = defs_calloc(d, 1, sizeof *s);
    if (s == NULL)
        return;
    a->spec = s;
    static const char *const keys[] = {"keys", "user_keys", NULL};
    defs_check_keys(d, n, "owner", keys);
    defs_strings(d, n, "keys", &s->keys, true, "owner");
    if (defs_get(d, n, "user_keys"))
        defs_strings(d, n, "user_keys", &s->user_keys, false, "owner");
    if (a->role != KT_ROLE_HOST_PRODUCT)
        defs_problem(d, n, "owner: the artifact's role must be host_product");
}

static void release(void *p)
{
    spec *s = p;
    if (s == NULL)
        return;
    kt_strlist_release(&s->keys);
    kt_strlist_release(&s->user_keys);
    free(s);
}

/* ---- the folder an entry names ---- */

/* Folders no product owns: an entry naming one (an uninstaller dropped in
 * C:\Windows) would own everything below it. */
static const char *const shared_folders[] = {
    "Windows",       "Windows/System32",    "Windows/SysWOW64", "Windows/Installer",
    "Program Files", "Program Files (x86)", "ProgramData",      "Users",
};

/* The environment variables uninstall entries use for folders, as they
 * read on the system drive. */
static const struct {
    const char *name, *value;
} env_vars[] = {
    {"%ProgramFiles%", "\\Program Files"},
    {"%ProgramFiles(x86)%", "\\Program Files (x86)"},
    {"%ProgramW6432%", "\\Program Files"},
    {"%CommonProgramFiles%", "\\Program Files\\Common Files"},
    {"%CommonProgramFiles(x86)%", "\\Program Files (x86)\\Common Files"},
    {"%ProgramData%", "\\ProgramData"},
    {"%ALLUSERSPROFILE%", "\\ProgramData"},
    {"%SystemRoot%", "\\Windows"},
    {"%windir%", "\\Windows"},
    {"%SystemDrive%", ""},
};

/* Registry text naming a folder or program to the volume's path of its
 * folder ("Program Files/Fabrikam/SecureSuite"): `program` reads the
 * first word (quoted, or up to ".exe") and takes its folder, dropping a
 * ",N" icon index. False when it names no folder of this volume (another
 * drive, MsiExec.exe without a path, a relative path, "..", a shared
 * folder). */
static bool volume_folder(const char *raw, bool program, char drive, char *out, size_t len)
{
    char text[OWNER_FOLDER_MAX];
    while (*raw == ' ' || *raw == '\t')
        raw++;
    if (*raw == '"') {
        const char *end = strchr(raw + 1, '"');
        if (end == NULL || (size_t)(end - raw - 1) >= sizeof text)
            return false;
        snprintf(text, sizeof text, "%.*s", (int)(end - raw - 1), raw + 1);
    } else if (kt_strlcpy(text, raw, sizeof text) >= sizeof text) {
        return false;
    }
    if (program && raw[0] != '"') {
        /* unquoted: the program ends at ".exe" (its path may hold spaces) */
        for (char *p = text; *p; p++)
            if (strncasecmp(p, ".exe", 4) == 0 && (p[4] == '\0' || strchr(" ,/", p[4]))) {
                p[4] = '\0';
                break;
            }
    }
    if (program) { /* an icon's ",0" */
        char *comma = strrchr(text, ',');
        if (comma && comma[1 + strspn(comma + 1, "-0123456789 ")] == '\0')
            *comma = '\0';
    }
    /* environment variables, then the drive */
    char path[OWNER_FOLDER_MAX];
    const char *rest = text;
    path[0] = '\0';
    if (text[0] == '%') {
        size_t i = 0, n = sizeof env_vars / sizeof *env_vars;
        while (i < n && strncasecmp(text, env_vars[i].name, strlen(env_vars[i].name)) != 0)
            i++;
        if (i == n)
            return false;
        kt_strlcpy(path, env_vars[i].value, sizeof path);
        rest = text + strlen(env_vars[i].name);
    } else if ((text[0] | 0x20) == (drive | 0x20) && text[1] == ':' &&
               (text[2] == '\\' || text[2] == '/')) {
        rest = text + 2;
    } else {
        return false;
    }
    size_t pl = strlen(path);
    if (kt_strlcpy(path + pl, rest, sizeof path - pl) >= sizeof path - pl)
        return false;
    /* components joined by '/', without "." and empty ones; ".." refused */
    size_t o = 0, last = 0;
    out[0] = '\0';
    for (const char *p = path; *p;) {
        size_t l = strcspn(p, "\\/");
        if (l == 2 && p[0] == '.' && p[1] == '.')
            return false;
        if (l > 0 && !(l == 1 && p[0] == '.')) {
            if (o + (o > 0) + l >= len)
                return false;
            last = o;
            o += (size_t)snprintf(out + o, len - o, "%s%.*s", o ? "/" : "", (int)l, p);
        }
        p += l;
        while (*p == '\\' || *p == '/')
            p++;
    }
    if (program) /* its folder */
        o = last;
    out[o] = '\0';
    if (o == 0)
        return false;
    for (size_t i = 0; i < sizeof shared_folders / sizeof *shared_folders; i++)
        if (strcasecmp(out, shared_folders[i]) == 0)
            return false;
    return true;
}

/* Whether folder holds path: a whole-component prefix, without case. */
static bool holds(const char *folder, const char *path)
{
    size_t n = strlen(folder);
    return strncasecmp(folder, path, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* ---- the entries ---- */

typedef struct entry {
    kt_hive *hive;
    kt_hive_node node;
    const char *hive_name;
    char key[512];
    char name[256], publisher[256], version[128], date[32];
    const char *from; /* the value that named the folder */
    char raw[OWNER_FOLDER_MAX];
    char folder[OWNER_FOLDER_MAX];
    size_t votes;
} entry;

typedef struct entries {
    entry *items;
    size_t count, cap;
    bool cut;
} entries;

static void value(kt_hive *h, kt_hive_node n, const char *name, char *out, size_t len)
{
    if (kt_hive_value_string(h, n, name, out, len, NULL) != KT_OK)
        out[0] = '\0';
}

/* The entries under key `path` of hive h: the ones naming a folder. */
static void read_entries(kt_collector *c, const kt_artifact *a, kt_hive *h, const char *hive_name,
                         const char *path, char drive, entries *es)
{
    kt_hive_node parent;
    kt_error err = {0};
    int rc = kt_hive_find(h, kt_hive_root(h), path, &parent, &err);
    if (rc != KT_OK) {
        if (rc != KT_ENOTFOUND)
            kt_collect_diag(c, KT_SEV_WARNING, "hive", path, a, "%s: %s", hive_name, err.msg);
        return;
    }
    kt_hive_node *kids = NULL;
    size_t nkids = 0;
    if (kt_hive_children(h, parent, &kids, &nkids, &err) != KT_OK) {
        kt_collect_diag(c, KT_SEV_WARNING, "hive", path, a, "%s: %s", hive_name, err.msg);
        return;
    }
    static const struct {
        const char *value;
        bool program;
    } namers[] = {{"InstallLocation", false}, {"UninstallString", true}, {"DisplayIcon", true}};
    for (size_t k = 0; k < nkids && c->rc == KT_OK; k++) {
        if (es->count >= OWNER_MAX_ENTRIES) {
            es->cut = true;
            break;
        }
        if (es->count == es->cap) {
            size_t cap = es->cap ? 2 * es->cap : 64;
            entry *p = realloc(es->items, cap * sizeof *p);
            if (p == NULL) {
                c->rc = KT_ENOMEM;
                break;
            }
            es->items = p;
            es->cap = cap;
        }
        entry *e = &es->items[es->count];
        memset(e, 0, sizeof *e);
        char name[256];
        if (kt_hive_node_name(h, kids[k], name, sizeof name) != KT_OK)
            continue;
        snprintf(e->key, sizeof e->key, "%s\\%s", path, name);
        for (size_t v = 0; v < sizeof namers / sizeof *namers && e->from == NULL; v++) {
            value(h, kids[k], namers[v].value, e->raw, sizeof e->raw);
            if (e->raw[0] &&
                volume_folder(e->raw, namers[v].program, drive, e->folder, sizeof e->folder))
                e->from = namers[v].value;
        }
        if (e->from == NULL)
            continue;
        e->hive = h;
        e->node = kids[k];
        e->hive_name = hive_name;
        value(h, kids[k], "DisplayName", e->name, sizeof e->name);
        value(h, kids[k], "Publisher", e->publisher, sizeof e->publisher);
        value(h, kids[k], "DisplayVersion", e->version, sizeof e->version);
        value(h, kids[k], "InstallDate", e->date, sizeof e->date);
        es->count++;
    }
    free(kids);
}

/* The system drive's letter: SystemRoot's ("C:\Windows"), else C. */
static char system_drive(const kt_collector *c)
{
    char root[64];
    if (c->sys->software &&
        kt_hive_get_string(c->sys->software, "Microsoft\\Windows NT\\CurrentVersion", "SystemRoot",
                           root, sizeof root, NULL) == KT_OK &&
        ((root[0] | 0x20) >= 'a' && (root[0] | 0x20) <= 'z') && root[1] == ':')
        return root[0];
    return 'C';
}

/* ---- the events ---- */

static void emit_owner(kt_collector *c, const kt_artifact *a, const entry *o, const char *host,
                       size_t nfiles)
{
    kt_find f = {.hive = o->hive, .node = o->node, .hive_name = o->hive_name, .key = o->key};
    char what[OWNER_FOLDER_MAX * 2 + 800];
    snprintf(what, sizeof what, " ('%s'%s%s, %s '%s': %s holds %zu of its %zu file%s)", o->name,
             o->publisher[0] ? " by " : "", o->publisher, o->from, o->raw, o->folder, o->votes,
             nfiles, nfiles == 1 ? "" : "s");
    /* when the entry was last written, and the day it says it installed */
    for (int t = 0; t < 2; t++) {
        kt_event_draft e;
        kt_emit_begin(c, a, &f, &e);
        kt_strlcpy(e.product, host, sizeof e.product);
        e.ev.product_name = e.product;
        e.ev.product_id = NULL;
        kt_emit_version(a, &e, o->version);
        e.ev.hive = o->hive_name;
        e.ev.key = o->key;
        e.ev.display_name = o->name[0] ? o->name : NULL;
        e.ev.publisher = o->publisher[0] ? o->publisher : NULL;
        e.ev.install_folder = o->folder;
        char src[200];
        if (t == 0) {
            e.ev.time = kt_hive_node_time(o->hive, o->node);
            e.ev.precision = KT_PREC_100NS;
            e.ev.category = KT_CAT_PRESENCE;
            snprintf(src, sizeof src, "key last written");
            if (e.ev.time == KT_TIME_NONE)
                continue;
        } else {
            kt_time_pattern ymd = {.pattern = "%Y%m%d", .local = true, .precision = KT_PREC_DAY};
            if (o->date[0] == '\0' || kt_time_pattern_parse(&ymd, o->date, &e.ev.time) != KT_OK)
                continue;
            e.ev.precision = KT_PREC_DAY;
            e.ev.category = KT_CAT_INSTALL;
            e.ev.value = "InstallDate";
            if (kt_collect_to_utc(c, &e.ev.time, NULL)) {
                e.ev.zone = c->zone->name;
                snprintf(src, sizeof src, "InstallDate '%s' (local date, converted with %s)",
                         o->date, c->zone->name);
            } else {
                snprintf(src, sizeof src,
                         "InstallDate '%s' (local date, zone unknown: taken as UTC)", o->date);
            }
        }
        e.ev.time_source = src;
        kt_emit(c, &e, what);
    }
}

/* The owners of host's files among es: each file's closest folder votes;
 * the entries with the most votes own the host. */
static void own(kt_collector *c, const kt_artifact *a, entries *es, const char *host)
{
    const kt_strlist *paths = &c->integration_paths, *hosts = &c->integration_hosts;
    for (size_t i = 0; i < es->count; i++)
        es->items[i].votes = 0;
    size_t nfiles = 0;
    for (size_t p = 0; p < paths->count; p++) {
        if (strcasecmp(hosts->items[p], host) != 0)
            continue;
        bool again = false; /* another time of a file already counted */
        for (size_t q = 0; q < p && !again; q++)
            again = strcmp(paths->items[q], paths->items[p]) == 0 &&
                    strcasecmp(hosts->items[q], host) == 0;
        if (again)
            continue;
        nfiles++;
        size_t best = 0;
        for (size_t i = 0; i < es->count; i++)
            if (holds(es->items[i].folder, paths->items[p]) && strlen(es->items[i].folder) > best)
                best = strlen(es->items[i].folder);
        for (size_t i = 0; best && i < es->count; i++)
            if (strlen(es->items[i].folder) == best && holds(es->items[i].folder, paths->items[p]))
                es->items[i].votes++;
    }
    size_t most = 0;
    for (size_t i = 0; i < es->count; i++)
        if (es->items[i].votes > most)
            most = es->items[i].votes;
    for (size_t i = 0; most && i < es->count && c->rc == KT_OK; i++)
        if (es->items[i].votes == most)
            emit_owner(c, a, &es->items[i], host, nfiles);
}

/* collect: remember the artifact; the matching runs when every other
 * artifact has run (finish). */
typedef struct state {
    const kt_artifact *artifacts[8];
    size_t count;
} state;

static void collect(kt_collector *c, const kt_artifact *a)
{
    void **slot = kt_collect_state(c, &kt_source_owner);
    if (slot == NULL)
        return;
    if (*slot == NULL && (*slot = calloc(1, sizeof(state))) == NULL) {
        c->rc = KT_ENOMEM;
        return;
    }
    state *st = *slot;
    if (st->count < sizeof st->artifacts / sizeof *st->artifacts)
        st->artifacts[st->count++] = a;
}

static void run(kt_collector *c, const kt_artifact *a)
{
    const spec *s = a->spec;
    entries es = {0};
    char drive = system_drive(c);
    for (size_t k = 0; c->sys->software && k < s->keys.count; k++)
        read_entries(c, a, c->sys->software, "SOFTWARE", s->keys.items[k], drive, &es);
    for (size_t u = 0; u < c->nusers; u++)
        for (size_t k = 0; k < s->user_keys.count; k++)
            read_entries(c, a, c->users[u].hive, c->users[u].path, s->user_keys.items[k], drive,
                         &es);
    /* a note, not a loss: no verdict reads the host product */
    if (es.cut)
        kt_collect_diag(c, KT_SEV_NOTE, "limit.owner", NULL, a,
                        "more than %d uninstall entries: the rest are not matched to "
                        "integrations",
                        OWNER_MAX_ENTRIES);
    /* each host once, in the order its first file was found */
    const kt_strlist *hosts = &c->integration_hosts;
    for (size_t h = 0; h < hosts->count && c->rc == KT_OK; h++) {
        bool again = false;
        for (size_t q = 0; q < h && !again; q++)
            again = strcasecmp(hosts->items[q], hosts->items[h]) == 0;
        if (!again)
            own(c, a, &es, hosts->items[h]);
    }
    free(es.items);
}

static void finish(kt_collector *c)
{
    void **slot = kt_collect_state(c, &kt_source_owner);
    state *st = slot ? *slot : NULL;
    for (size_t i = 0; st && i < st->count && c->rc == KT_OK; i++)
        if (c->integration_paths.count)
            run(c, st->artifacts[i]);
    free(st);
    if (slot)
        *slot = NULL;
}

const kt_source_ops kt_source_owner = {
    .key = "owner",
    .summary = "the uninstall entry (InstallLocation, else the folder of UninstallString or "
               "DisplayIcon) whose folder holds an integration's files: its host product",
    .parse = parse,
    .release = release,
    .collect = collect,
    .finish = finish,
};
