/* The main job end to end: each synthetic Windows scenario, in several
 * containers, against its expected findings (testdata/scenarios/NAME/
 * expected.tsv), and the corpus's real images and hives, which must give
 * no Kaspersky finding and no crash. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "kavtrace/evtx.h"
#include "kavtrace/scan.h"
#include "kavtrace/tzif.h"
#include "kavtrace/writers.h"
#include "testutil.h"

/* A diagnostic as scan.log shows it (one buffer: use the result at once). */
static const char *wtext(const kt_diag *d)
{
    static char buf[4096];
    return kt_diag_text(d, buf, sizeof buf);
}

static kt_artifact_set defs;

static int count_msi(void *ctx, const kt_evtx_record *r)
{
    if (strcmp(r->provider, "MsiInstaller") == 0)
        (*(size_t *)ctx)++;
    return 0;
}

static void load_defs(void)
{
    load_shipped_artifacts(&defs);
}

static void unload_defs(void)
{
    kt_artifact_set_release(&defs);
}

static const char *tri_name(kt_tri v)
{
    return v == KT_TRUE ? "true" : v == KT_FALSE ? "false" : "null";
}

static void check_time(const char *scenario, const char *what, kt_time got, const char *want)
{
    char g[KT_TIME_ISO_MAX];
    kt_time_format_iso(got, g);
    if (strcmp(want, "null") == 0)
        ck_assert_msg(got == KT_TIME_NONE, "%s: %s is %s, want null", scenario, what, g);
    else
        ck_assert_msg(got == truth_time(want), "%s: %s is %s, want %s", scenario, what, g, want);
}

static void check_str(const char *scenario, const char *what, const char *got, const char *want)
{
    const char *g = got && got[0] ? got : "null";
    ck_assert_msg(strcmp(g, want) == 0, "%s: %s is '%s', want '%s'", scenario, what, g, want);
}

static const kt_product_finding *find_product(const kt_system_finding *f, const char *id)
{
    for (size_t i = 0; i < f->nproducts; i++)
        if (strcmp(f->products[i].id, id) == 0)
            return &f->products[i];
    return NULL;
}

/* integration:HOST host_product[_FIELD]: the uninstall entry that owns
 * its files (exactly one; null: none, or a tie). */
static void check_host_product(const char *name, const char *what, const kt_integration *g,
                               const char *field, const char *want, const char *at)
{
    const kt_host_product *o = g->nowners == 1 ? &g->owners[0] : NULL;
    if (strcmp(field, "") == 0)
        check_str(name, what, o ? o->display_name : NULL, want);
    else if (o == NULL)
        ck_abort_msg("%s: %s: no host product (%s)", at, what, g->host_product_reason);
    else if (strcmp(field, "_publisher") == 0)
        check_str(name, what, o->publisher, want);
    else if (strcmp(field, "_version") == 0)
        check_str(name, what, o->version, want);
    else if (strcmp(field, "_key") == 0)
        check_str(name, what, o->key, want);
    else if (strcmp(field, "_folder") == 0)
        check_str(name, what, o->folder, want);
    else if (strcmp(field, "_install_date") == 0)
        check_time(name, what, o->installed, want);
    else if (strcmp(field, "_key_written") == 0)
        check_time(name, what, o->key_written, want);
    else
        ck_abort_msg("%s: unknown integration field 'host_product%s'", at, field);
}

static const kt_integration *find_integration(const kt_system_finding *f, const char *host)
{
    for (size_t i = 0; i < f->nintegrations; i++)
        if (strcmp(f->integrations[i].host, host) == 0)
            return &f->integrations[i];
    return NULL;
}

/* A comma-separated list equals l as a set ("" for none). */
static void check_set(const char *what, const kt_strlist *l, const char *want)
{
    size_t n = 0;
    char copy[2048];
    kt_strlcpy(copy, want, sizeof copy);
    for (char *save = NULL, *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        bool in = false;
        for (size_t i = 0; i < l->count && !in; i++)
            in = strcmp(l->items[i], w) == 0;
        ck_assert_msg(in, "%s: '%s' not found", what, w);
        n++;
    }
    ck_assert_msg(n == l->count, "%s: %zu found, want %zu (%s)", what, l->count, n, want);
}

/* The state of product `id` at `when` (a milestone's id, or an ISO time:
 * then added to f with kt_findings_state_at, as --as-of does). */
static const kt_product_state *find_state(const kt_timeline *tl, kt_system_finding *f,
                                          const char *when, const char *id)
{
    kt_time t = KT_TIME_NONE;
    if (kt_time_parse_iso(when, &t) == KT_OK) {
        kt_error err = {0};
        ck_assert_msg(kt_findings_state_at(tl, t, NULL, f, &err) == 0, "%s", err.msg);
    }
    for (size_t i = 0; i < f->nstates; i++) {
        const kt_state_at *st = &f->states[i];
        if (t != KT_TIME_NONE ? st->time != t : strcmp(st->milestone, when) != 0)
            continue;
        for (size_t k = 0; k < st->nproducts; k++)
            if (strcmp(st->products[k].id, id) == 0)
                return &st->products[k];
    }
    return NULL;
}

/* Every event id behind a state's value is in the timeline, and a value
 * other than null has some. */
static void check_state_ids(const kt_timeline *tl, const char *what, const kt_strlist *ids,
                            bool known)
{
    ck_assert_msg(!known || ids->count > 0, "%s: no events behind it", what);
    for (size_t i = 0; i < ids->count; i++)
        ck_assert_msg(kt_timeline_find(tl, ids->items[i]) != NULL, "%s: no event %s", what,
                      ids->items[i]);
}

static void check_state(const char *name, const char *what, const kt_timeline *tl,
                        const kt_product_state *p, const char *field, const char *want)
{
    if (strcmp(field, "installed") == 0) {
        check_str(name, what, tri_name(p->installed), want);
        check_state_ids(tl, what, &p->ev_installed, p->installed != KT_NULL);
    } else if (strcmp(field, "version") == 0) {
        check_str(name, what, p->version, want);
        check_state_ids(tl, what, &p->ev_version, p->version[0] != '\0');
    } else if (strcmp(field, "last_signature_update") == 0) {
        check_time(name, what, p->last_signature_update, want);
        check_state_ids(tl, what, &p->ev_signature, p->last_signature_update != KT_TIME_NONE);
    } else if (strcmp(field, "last_codebase_update") == 0) {
        check_time(name, what, p->last_codebase_update, want);
        check_state_ids(tl, what, &p->ev_codebase, p->last_codebase_update != KT_TIME_NONE);
    } else if (strcmp(field, "ksn") == 0) {
        check_str(name, what, p->ksn_applies ? kt_ksn_name(p->ksn) : NULL, want);
        check_state_ids(tl, what, &p->ev_ksn, p->ksn_applies && p->ksn != KT_KSN_UNKNOWN);
    } else {
        ck_abort_msg("%s: unknown state field '%s'", what, field);
    }
}

static void check_scenario(const char *set, const char *name, const char *container)
{
    char file[512];
    snprintf(file, sizeof file, "%s/%s.%s", set, name, container);
    char *path = path_join(evidence_dir(), file);
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s: %s", file, err.msg);
    ck_assert_uint_eq(s.nsystems, 1);
    const kt_scan_system *sys = &s.systems[0];
    kt_system_finding *f = &s.systems[0].findings;

    char exp_name[512];
    snprintf(exp_name, sizeof exp_name, "%s/%s/expected.tsv", set, name);
    tsv t;
    truth_load(&t, exp_name);
    /* Strict in every scope: a row kind, field or count of fields this
     * loop does not know fails, naming the file and line, rather than
     * being skipped (a misspelt field would otherwise assert nothing). */
    for (size_t i = 0; i < t.count; i++) {
        tsv_row *r = &t.rows[i];
        char at[600];
        snprintf(at, sizeof at, "%s:%d", exp_name, r->line);
        const char *scope = r->f[0];
        bool event = strcmp(scope, "event") == 0;
        const char *form =
            event ? "event, artifact, time[, product[, version]]" : "scope, field, value";
        ck_assert_msg(event ? r->nfields >= 3 && r->nfields <= 5 : r->nfields == 3,
                      "%s: %d fields, want %s", at, r->nfields, form);
        const char *field = r->f[1], *want = r->f[2];
        for (size_t k = 0; k < i && !event; k++)
            ck_assert_msg(strcmp(t.rows[k].f[0], scope) != 0 || strcmp(t.rows[k].f[1], field) != 0,
                          "%s: %s %s again (line %d)", at, scope, field, t.rows[k].line);
        char what[800];
        snprintf(what, sizeof what, "%s: %s %s (%s)", at, scope, field, container);
        if (strcmp(scope, "system") == 0) {
            if (strcmp(field, "hostname") == 0)
                check_str(name, what, sys->sys.hostname, want);
            else if (strcmp(field, "timezone") == 0)
                check_str(name, what, sys->zone, want);
            else if (strcmp(field, "os") == 0)
                check_str(name, what, kt_os_name(sys->sys.os), want);
            else
                ck_abort_msg("%s: unknown system field '%s'", at, field);
        } else if (strcmp(scope, "verdict") == 0) {
            bool known = false;
            for (int v = 0; v < KT_V_COUNT; v++) {
                if (strcmp(kt_verdict_name((kt_verdict)v), field) != 0)
                    continue;
                known = true;
                check_str(name, what, tri_name(f->verdicts[v]), want);
            }
            ck_assert_msg(known, "%s: unknown verdict '%s'", at, field);
        } else if (strcmp(scope, "migration") == 0) {
            if (strcmp(field, "to") == 0)
                check_str(name, what, f->migrated ? f->migration_to : NULL, want);
            else if (strcmp(field, "time") == 0)
                check_time(name, what, f->migrated ? f->migration_time : KT_TIME_NONE, want);
            else
                ck_abort_msg("%s: unknown migration field '%s'", at, field);
        } else if (strncmp(scope, "product:", 8) == 0) {
            const kt_product_finding *p = find_product(f, scope + 8);
            ck_assert_msg(p != NULL, "%s: no product %s (%s)", at, scope + 8, container);
            if (strcmp(field, "version") == 0)
                check_str(name, what, p->version, want);
            else if (strcmp(field, "installed") == 0)
                check_time(name, what, p->installed, want);
            else if (strcmp(field, "first_seen") == 0)
                check_time(name, what, p->first_seen, want);
            else if (strcmp(field, "last_signature_update") == 0)
                check_time(name, what, p->last_signature_update, want);
            else if (strcmp(field, "last_codebase_update") == 0)
                check_time(name, what, p->last_codebase_update, want);
            else if (strcmp(field, "removed") == 0)
                check_time(name, what, p->removed, want);
            else if (strcmp(field, "status") == 0)
                check_str(name, what, kt_status_name(p->status), want);
            else if (strcmp(field, "removal_method") == 0)
                check_str(name, what, kt_removal_name(p->removal_method), want);
            else if (strcmp(field, "name") == 0)
                check_str(name, what, p->name, want);
            else if (strcmp(field, "ksn") == 0)
                check_str(name, what, kt_ksn_name(p->ksn), want);
            else if (strcmp(field, "last_ksn_evidence") == 0)
                check_time(name, what, p->last_ksn_evidence, want);
            else if (strcmp(field, "last_execution") == 0)
                check_time(name, what, p->last_execution, want);
            else if (strcmp(field, "coverage") == 0)
                check_str(name, what, !p->subject ? NULL : p->exempt ? "exempt" : "covered", want);
            else if (strcmp(field, "exemption") == 0)
                check_str(name, what, p->exempt ? p->exemption : NULL, want);
            else
                ck_abort_msg("%s: unknown product field '%s'", at, field);
        } else if (strncmp(scope, "integration:", 12) == 0) {
            /* integration:HOST: Kaspersky code inside that host product */
            const kt_integration *g = find_integration(f, scope + 12);
            ck_assert_msg(g != NULL, "%s: no integration %s (%s)", at, scope + 12, container);
            if (strcmp(field, "folder") == 0)
                check_str(name, what, g->folder[0] ? g->folder : NULL, want);
            else if (strcmp(field, "components") == 0)
                check_set(what, &g->components, want);
            else if (strcmp(field, "markers") == 0)
                check_set(what, &g->markers, want);
            else if (strcmp(field, "first_seen") == 0)
                check_time(name, what, g->first_seen, want);
            else if (strcmp(field, "last_bases_update") == 0)
                check_time(name, what, g->last_bases_update, want);
            else if (strcmp(field, "bases_updated_after_cutoff") == 0)
                check_str(name, what, g->bases_after_cutoff ? "true" : "false", want);
            else if (strncmp(field, "host_product", 12) == 0)
                check_host_product(name, what, g, field + 12, want, at);
            else
                ck_abort_msg("%s: unknown integration field '%s'", at, field);
        } else if (strncmp(scope, "tool:", 5) == 0) {
            /* tool:PATH: a Kaspersky tool a third party ships */
            bool hit = false;
            for (size_t k = 0; k < f->ntools && !hit; k++)
                hit = strcmp(f->tools[k].path, scope + 5) == 0 && strcmp(field, "name") == 0 &&
                      strcmp(f->tools[k].name, want) == 0;
            ck_assert_msg(hit, "%s: no bundled tool %s named %s (%s)", at, scope + 5, want,
                          container);
        } else if (strncmp(scope, "state:", 6) == 0) {
            /* state:WHEN:PRODUCT, WHEN a milestone's id or a UTC time */
            char when[64];
            const char *colon = strchr(scope + 6, ':');
            ck_assert_msg(colon && (size_t)(colon - scope - 6) < sizeof when,
                          "%s: want state:WHEN:PRODUCT", at);
            /* an ISO time has colons of its own: the product follows the last */
            colon = strrchr(scope, ':');
            snprintf(when, sizeof when, "%.*s", (int)(colon - scope - 6), scope + 6);
            const kt_product_state *p = find_state(&s.tl, f, when, colon + 1);
            ck_assert_msg(p != NULL, "%s: no state of %s at %s (%s)", at, colon + 1, when,
                          container);
            check_state(name, what, &s.tl, p, field, want);
        } else if (strcmp(scope, "timeline") == 0) {
            ck_assert_msg(strcmp(field, "events") == 0, "%s: unknown timeline field '%s'", at,
                          field);
            char n[32];
            snprintf(n, sizeof n, "%zu", s.tl.count);
            check_str(name, what, n, want);
        } else if (event) {
            /* event ARTIFACT TIME [PRODUCT [VERSION]]: that find, at that
             * instant, for that product and version. */
            bool hit = false;
            kt_time when = truth_time(want);
            for (size_t k = 0; k < s.tl.count && !hit; k++) {
                const kt_event *e = &s.tl.items[k];
                hit = e->time == when && strcmp(e->artifact->id, field) == 0 &&
                      (r->nfields < 4 || (e->product_id && strcmp(e->product_id, r->f[3]) == 0)) &&
                      (r->nfields < 5 || (e->version && strcmp(e->version, r->f[4]) == 0));
            }
            ck_assert_msg(hit, "%s: no event %s at %s%s%s%s%s (%s)", at, field, want,
                          r->nfields > 3 ? " for " : "", r->nfields > 3 ? r->f[3] : "",
                          r->nfields > 4 ? " " : "", r->nfields > 4 ? r->f[4] : "", container);
        } else {
            ck_abort_msg("%s: unknown scope '%s'", at, scope);
        }
    }
    /* No product the ground truth does not name. */
    for (size_t i = 0; i < f->nproducts; i++) {
        char scope[80];
        snprintf(scope, sizeof scope, "product:%s", f->products[i].id);
        bool named = false;
        for (size_t k = 0; k < t.count && !named; k++)
            named = strcmp(t.rows[k].f[0], scope) == 0;
        ck_assert_msg(named, "%s: unexpected product %s (%s)", name, f->products[i].id, container);
    }
    /* No integration nor bundled tool the ground truth does not name. */
    for (size_t i = 0; i < f->nintegrations; i++) {
        char scope[300];
        snprintf(scope, sizeof scope, "integration:%s", f->integrations[i].host);
        bool named = false;
        for (size_t k = 0; k < t.count && !named; k++)
            named = strcmp(t.rows[k].f[0], scope) == 0;
        ck_assert_msg(named, "%s: unexpected integration %s (%s)", name, f->integrations[i].host,
                      container);
    }
    for (size_t i = 0; i < f->ntools; i++) {
        char scope[1100];
        snprintf(scope, sizeof scope, "tool:%s", f->tools[i].path);
        bool named = false;
        for (size_t k = 0; k < t.count && !named; k++)
            named = strcmp(t.rows[k].f[0], scope) == 0;
        ck_assert_msg(named, "%s: unexpected bundled tool %s (%s)", name, f->tools[i].path,
                      container);
    }
    /* Every verdict and field is backed by events that exist. */
    for (int v = 0; v < KT_V_COUNT; v++)
        for (size_t k = 0; k < f->verdict_ev[v].count; k++)
            ck_assert_ptr_nonnull(kt_timeline_find(&s.tl, f->verdict_ev[v].items[k]));
    for (size_t i = 0; i < f->nproducts; i++)
        ck_assert_uint_gt(f->products[i].ev_all.count, 0);
    tsv_free(&t);
    kt_scan_release(&s);
    free(path);
}

/* Every scenario of testdata/SET with an expected.tsv, in `container`;
 * the directory-tree scenarios (tree.tsv: macOS) as their tree. */
static size_t scenarios_of(const char *set, const char *container)
{
    char *dir = path_join(testdata_dir(), set);
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "no %s", dir);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char rel[512];
        snprintf(rel, sizeof rel, "%s/%s/expected.tsv", set, de->d_name);
        char *p = path_join(testdata_dir(), rel);
        bool has = access(p, F_OK) == 0;
        free(p);
        snprintf(rel, sizeof rel, "%s/%s/tree.tsv", set, de->d_name);
        p = path_join(testdata_dir(), rel);
        bool tree = access(p, F_OK) == 0;
        free(p);
        if (!has)
            continue;
        check_scenario(set, de->d_name, tree ? "tree" : container);
        n++;
    }
    closedir(d);
    free(dir);
    return n;
}

static void each_scenario(const char *container)
{
    ck_assert_uint_ge(scenarios_of("scenarios", container), 6);
    ck_assert_uint_ge(scenarios_of("scenarios-unix", container), 4);
}

START_TEST(scenarios_in_split_e01)
{
    each_scenario("E01");
}
END_TEST

START_TEST(scenarios_in_vhd)
{
    each_scenario("vhd");
}
END_TEST

START_TEST(scenarios_in_vmdk)
{
    each_scenario("vmdk");
}
END_TEST

START_TEST(scenarios_in_qcow2)
{
    each_scenario("qcow2");
}
END_TEST

/* kesl-ubuntu's tree on XFS (big timestamps) in an LVM2 logical volume of
 * an RHEL-like GPT disk, raw and as QCOW2: the scenario's ground truth, and
 * event for event the timeline of its ext4 disk (times, artifacts, paths,
 * products). */
START_TEST(an_xfs_root_in_lvm2_gives_the_findings_of_the_same_tree_on_ext4)
{
    check_scenario("scenarios-unix", "kesl-ubuntu", "rhel.raw");
    check_scenario("scenarios-unix", "kesl-ubuntu", "rhel.qcow2");
    char *a_path = path_join(evidence_dir(), "scenarios-unix/kesl-ubuntu.raw");
    char *b_path = path_join(evidence_dir(), "scenarios-unix/kesl-ubuntu.rhel.raw");
    kt_scan a = {0}, b = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, a_path, &a, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_msg(kt_scan_run(&defs, b_path, &b, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(b.nsystems, 1);
    ck_assert_str_eq(b.systems[0].fs, "xfs");
    ck_assert_int_eq(b.systems[0].volume->index, 2);
    ck_assert_uint_gt(a.tl.count, 10);
    ck_assert_uint_eq(a.tl.count, b.tl.count);
    for (size_t i = 0; i < a.tl.count; i++) {
        const kt_event *x = &a.tl.items[i], *y = &b.tl.items[i];
        ck_assert_msg(
            x->time == y->time && x->artifact == y->artifact &&
                strcmp(x->path ? x->path : "", y->path ? y->path : "") == 0 &&
                strcmp(x->product_id ? x->product_id : "", y->product_id ? y->product_id : "") == 0,
            "event %zu: %s %s differs", i, x->id, x->path ? x->path : "");
    }
    for (int v = 0; v < KT_V_COUNT; v++)
        ck_assert_int_eq(a.systems[0].findings.verdicts[v], b.systems[0].findings.verdicts[v]);
    kt_scan_release(&a);
    kt_scan_release(&b);
    free(a_path);
    free(b_path);
}
END_TEST

/* kes-reg-history: every find says which state of the registry holds it,
 * and only the live (replayed) hive's is allocated. */
START_TEST(registry_history_says_which_state)
{
    char *path = path_join(evidence_dir(), "scenarios/kes-reg-history.raw");
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(s.warnings.count, 0);
    const struct {
        const char *time, *artifact, *says;
        bool allocated;
    } want[] = {
        {"2024-03-14T15:22:41.1875Z", "kaspersky.win.uninstall",
         "deleted key recovered from a free cell of SOFTWARE", false},
        {"2024-03-14T15:21:03.40625Z", "kaspersky.win.product-environment",
         "deleted key recovered from a free cell of SOFTWARE", false},
        {"2024-03-14T15:22:40.953125Z", "kaspersky.win.installer-properties",
         "older state: the hive copy Windows/System32/config/RegBack/SOFTWARE", false},
        {"2024-09-19T06:12:00Z", "kaspersky.win.last-successful-update",
         "older state: the hive copy Windows/System32/config/RegBack/SOFTWARE", false},
        {"2024-09-27T05:45:00Z", "kaspersky.win.last-successful-update",
         "older state: SOFTWARE without its transaction logs "
         "(Windows/System32/config/SOFTWARE.LOG1)",
         false},
        {"2024-10-14T22:10:00Z", "kaspersky.win.last-successful-update",
         "in SOFTWARE only as replayed from its transaction logs "
         "(Windows/System32/config/SOFTWARE.LOG1)",
         true},
    };
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        const kt_event *hit = NULL;
        for (size_t i = 0; i < s.tl.count && !hit; i++) {
            const kt_event *e = &s.tl.items[i];
            if (e->time == truth_time(want[w].time) &&
                strcmp(e->artifact->id, want[w].artifact) == 0)
                hit = e;
        }
        ck_assert_msg(hit, "no %s at %s", want[w].artifact, want[w].time);
        ck_assert_msg(strstr(hit->description, want[w].says), "%s: %s", want[w].time,
                      hit->description);
        ck_assert_msg(hit->allocated == want[w].allocated, "%s: allocated", want[w].time);
    }
    kt_scan_release(&s);
    free(path);
}
END_TEST

/* kes-reg-history2: a value recovered from a free cell without its key is
 * a find that says where it lies (hive, offset), never allocated, and no
 * product or verdict rests on it. */
START_TEST(a_value_without_its_key_is_listed_never_counted)
{
    char *path = path_join(evidence_dir(), "scenarios/kes-reg-history2.raw");
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    const kt_event *hit = NULL;
    for (size_t i = 0; i < s.tl.count && !hit; i++)
        if (strcmp(s.tl.items[i].artifact->id, "kaspersky.win.install-date") == 0)
            hit = &s.tl.items[i];
    ck_assert_msg(hit, "the orphan InstallDate is not a find");
    ck_assert(hit->time == truth_time("2024-06-10T15:31:22Z"));
    ck_assert_ptr_null(hit->key);
    ck_assert_str_eq(hit->hive, "SOFTWARE");
    ck_assert_str_eq(hit->value, "InstallDate");
    ck_assert(!hit->allocated);
    ck_assert_ptr_null(hit->product_id);
    ck_assert_msg(strstr(hit->description, "without its key, recovered from a free cell of "
                                           "SOFTWARE at offset 0x"),
                  "%s", hit->description);
    const kt_system_finding *f = &s.systems[0].findings;
    for (size_t p = 0; p < f->nproducts; p++)
        for (size_t k = 0; k < f->products[p].ev_all.count; k++)
            ck_assert_str_ne(f->products[p].ev_all.items[k], hit->id);
    for (int v = 0; v < KT_V_COUNT; v++)
        for (size_t k = 0; k < f->verdict_ev[v].count; k++)
            ck_assert_str_ne(f->verdict_ev[v].items[k], hit->id);
    kt_scan_release(&s);
    free(path);
}
END_TEST

static void put_bytes(const char *root, const char *rel, const kt_buf *b)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b->data, 1, b->len, f), b->len);
    fclose(f);
}

#define HIST2_HIVES "scenarios/hives/kes-reg-history2/"

/* kes-reg-history2: a dirty NTUSER.DAT and a dirty Amcache.hve are read
 * with their transaction logs replayed, as SOFTWARE and SYSTEM are; a
 * dirty user hive whose logs are gone is read as it stands, with a
 * warning. */
START_TEST(user_and_amcache_hives_replay_their_logs)
{
    char *path = path_join(evidence_dir(), "scenarios/kes-reg-history2.raw");
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    const struct {
        const char *time, *artifact, *hive, *says;
    } want[] = {
        {"2024-10-03T08:12:40.25Z", "kaspersky.win.user-settings", "Users/ana/NTUSER.DAT",
         "in Users/ana/NTUSER.DAT only as replayed from its transaction logs "
         "(Users/ana/NTUSER.DAT.LOG1)"},
        {"2024-10-05T07:40:13.5Z", "kaspersky.win.amcache-file", "Amcache.hve",
         "in Amcache.hve only as replayed from its transaction logs "
         "(Windows/appcompat/Programs/Amcache.hve.LOG1)"},
    };
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        const kt_event *hit = NULL;
        for (size_t i = 0; i < s.tl.count && !hit; i++)
            if (s.tl.items[i].time == truth_time(want[w].time) &&
                strcmp(s.tl.items[i].artifact->id, want[w].artifact) == 0)
                hit = &s.tl.items[i];
        ck_assert_msg(hit, "no %s at %s", want[w].artifact, want[w].time);
        ck_assert_str_eq(hit->hive, want[w].hive);
        ck_assert_msg(strstr(hit->description, want[w].says), "%s", hit->description);
        ck_assert(hit->allocated); /* the replayed hive is the live state */
        ck_assert_str_eq(hit->product_id, "kaspersky-kes");
    }
    ck_assert_uint_eq(s.warnings.count, 0);
    kt_scan_release(&s);
    free(path);

    /* The same hives without their logs (a tree): read as the files stand,
     * each with a warning, and the finds only the logs hold are not
     * there. */
    char root[] = "/tmp/kt-scan-logs-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(root));
    const struct {
        const char *from, *to;
    } files[] = {
        {HIST2_HIVES "SOFTWARE", "Windows/System32/config/SOFTWARE"},
        {HIST2_HIVES "SYSTEM", "Windows/System32/config/SYSTEM"},
        {HIST2_HIVES "NTUSER-ana.DAT", "Users/ana/NTUSER.DAT"},
        {HIST2_HIVES "Amcache.hve", "Windows/appcompat/Programs/Amcache.hve"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        kt_buf b = {0};
        char *from = path_join(evidence_dir(), files[i].from);
        file_load(from, &b);
        put_bytes(root, files[i].to, &b);
        kt_buf_release(&b);
        free(from);
    }
    memset(&s, 0, sizeof s);
    ck_assert_msg(kt_scan_run(&defs, root, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    const char *dirty[] = {"Users/ana/NTUSER.DAT", "Amcache.hve"};
    for (size_t k = 0; k < 2; k++) {
        bool warned = false;
        for (size_t i = 0; i < s.warnings.count; i++) {
            const kt_diag *d = &s.warnings.items[i];
            warned = warned || (d->code && strcmp(d->code, "hive.log") == 0 && d->path &&
                                strcmp(d->path, dirty[k]) == 0 &&
                                strstr(d->message, "read without its logs"));
        }
        ck_assert_msg(warned, "no hive.log warning for %s", dirty[k]);
    }
    for (size_t i = 0; i < s.tl.count; i++)
        ck_assert_msg(strcmp(s.tl.items[i].artifact->id, "kaspersky.win.user-settings") != 0 &&
                          strcmp(s.tl.items[i].artifact->id, "kaspersky.win.amcache-file") != 0,
                      "%s found without the logs", s.tl.items[i].artifact->id);
    kt_scan_release(&s);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* kes-reg-history2: a RegBack copy's free cells and the hives of a
 * previous install (Windows.old) are older states, each find naming its
 * copy, never allocated. */
START_TEST(hive_copies_and_their_free_cells_are_older_states)
{
    char *path = path_join(evidence_dir(), "scenarios/kes-reg-history2.raw");
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    const struct {
        const char *time, *version, *says;
    } want[] = {
        {"2024-06-10T15:31:25.5Z", "12.2.0.462",
         "older state: the hive copy Windows/System32/config/RegBack/SOFTWARE"},
        {"2024-06-02T09:20:11.25Z", "11.11.0.452",
         "deleted key recovered from a free cell of the hive copy "
         "Windows/System32/config/RegBack/SOFTWARE"},
        {"2023-05-02T10:15:31Z", "11.11.0.452",
         "older state: the hive copy Windows.old/Windows/System32/config/SOFTWARE"},
    };
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        const kt_event *hit = NULL;
        for (size_t i = 0; i < s.tl.count && !hit; i++)
            if (s.tl.items[i].time == truth_time(want[w].time) &&
                strcmp(s.tl.items[i].artifact->id, "kaspersky.win.uninstall") == 0)
                hit = &s.tl.items[i];
        ck_assert_msg(hit, "no uninstall entry at %s", want[w].time);
        ck_assert_str_eq(hit->version, want[w].version);
        ck_assert_msg(strstr(hit->description, want[w].says), "%s", hit->description);
        ck_assert(!hit->allocated);
    }
    const kt_product_finding *p = find_product(&s.systems[0].findings, "kaspersky-kes");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_ne(kt_status_name(p->status), "present");
    kt_scan_release(&s);
    free(path);
}
END_TEST

/* b's bytes as a C string (kt_buf keeps room for, but does not write, a
 * terminating NUL). */
static const char *cstr(kt_buf *b)
{
    ck_assert(kt_buf_reserve(b, 0) == 0);
    b->data[b->len] = '\0';
    return (const char *)b->data;
}

/* Keys for the LUKS scenarios, by file name in testdata/luks/: a
 * passphrase file's text as a password. */
static void add_pass(kt_keys *keys, const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "luks/%s", name);
    char *path = path_join(testdata_dir(), rel);
    kt_buf b = {0};
    file_load(path, &b);
    kt_error err = {0};
    ck_assert_msg(kt_keys_add_password(keys, cstr(&b), &err) == 0, "%s", err.msg);
    kt_buf_release(&b);
    free(path);
}

/* The events of volume va of a and of volume vb of b are the same, in the
 * same order: times, artifacts, paths, products. Returns how many. */
static size_t same_events(const kt_scan *a, int va, const kt_scan *b, int vb)
{
    size_t i = 0, k = 0, n = 0;
    for (;;) {
        while (i < a->tl.count && a->tl.items[i].volume != va)
            i++;
        while (k < b->tl.count && b->tl.items[k].volume != vb)
            k++;
        if (i == a->tl.count || k == b->tl.count) {
            ck_assert_msg(i == a->tl.count && k == b->tl.count, "%zu events, then only one side",
                          n);
            return n;
        }
        const kt_event *x = &a->tl.items[i++], *y = &b->tl.items[k++];
        ck_assert_msg(
            x->time == y->time && x->artifact == y->artifact &&
                strcmp(x->path ? x->path : "", y->path ? y->path : "") == 0 &&
                strcmp(x->product_id ? x->product_id : "", y->product_id ? y->product_id : "") == 0,
            "event %zu: %s %s differs", n, x->id, x->path ? x->path : "");
        n++;
    }
}

static const kt_scan_system *system_on(const kt_scan *s, int volume)
{
    for (size_t i = 0; i < s->nsystems; i++)
        if (s->systems[i].volume->index == volume)
            return &s->systems[i];
    ck_abort_msg("no system on volume %d", volume);
    return NULL;
}

/* The systems of the encrypted disk wrapped (in evidence_dir(), opened
 * with keys), one per volume 0..n-1, each with filesystem fs: each gives,
 * event for event, the timeline, hostname, products and verdicts of the
 * same system in its raw image raws[i] (whose findings the scenarios'
 * ground truth checks). */
static void check_same_as_raw(const char *wrapped, kt_keys *keys, const char *fs,
                              const char *const *raws, size_t n)
{
    char *path = path_join(evidence_dir(), wrapped);
    kt_scan l = {.keys = keys};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, path, &l, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(l.nsystems, n);
    for (size_t i = 0; i < n; i++) {
        char *raw = path_join(evidence_dir(), raws[i]);
        kt_scan r = {0};
        ck_assert_msg(kt_scan_run(&defs, raw, &r, NULL, NULL, &err) == 0, "%s", err.msg);
        ck_assert_uint_eq(r.nsystems, 1);
        ck_assert_uint_gt(same_events(&l, (int)i, &r, r.systems[0].volume->index), 10);
        const kt_scan_system *ls = system_on(&l, (int)i);
        ck_assert_str_eq(ls->fs, fs);
        ck_assert_str_eq(ls->sys.hostname, r.systems[0].sys.hostname);
        for (int v = 0; v < KT_V_COUNT; v++)
            ck_assert_int_eq(ls->findings.verdicts[v], r.systems[0].findings.verdicts[v]);
        ck_assert_uint_eq(ls->findings.nproducts, r.systems[0].findings.nproducts);
        kt_scan_release(&r);
        free(raw);
    }
    kt_scan_release(&l);
    free(path);
}

/* kesl-ubuntu's and kesl-astra's ext4 volumes, each in a LUKS1 partition
 * (XTS and CBC-ESSIV) of one disk, unlocked with their passwords: each
 * gives, event for event, the timeline and the verdicts of the same
 * system in its raw image (whose findings the scenarios' ground truth
 * checks). */
START_TEST(luks1_volumes_give_the_findings_of_the_same_systems_in_raw_images)
{
    kt_keys keys = {0};
    add_pass(&keys, "astra.pass");
    add_pass(&keys, "ubuntu.pass");
    static const char *const raws[] = {"scenarios-unix/kesl-ubuntu.raw",
                                       "scenarios-unix/kesl-astra.raw"};
    check_same_as_raw("scenarios-unix/kesl-ubuntu.luks.raw", &keys, "ext4", raws, 2);
    kt_keys_release(&keys);
}
END_TEST

/* kesl-rhel-removed's ext4 volume in a LUKS1 partition of cryptsetup
 * 2.x's default shape (aes-xts-plain64, 512-bit key), which kavtrace
 * decrypts itself (libluksde cannot read it safely): event for event and
 * verdict for verdict, the findings of the same system in its raw image
 * (before, the volume was refused and its verdicts left open). */
START_TEST(a_512_bit_xts_luks1_volume_gives_the_findings_of_the_same_system_in_a_raw_image)
{
    kt_keys keys = {0};
    add_pass(&keys, "wrong.pass");
    add_pass(&keys, "rhel.pass");
    static const char *const raws[] = {"scenarios-unix/kesl-rhel-removed.raw"};
    check_same_as_raw("scenarios-unix/kesl-rhel-removed.luks.raw", &keys, "ext4", raws, 1);
    kt_keys_release(&keys);
}
END_TEST

/* Only kesl-ubuntu's password (and a wrong one): its volume is scanned as
 * before, the other is a warning naming it, and the verdicts that were
 * false become null (a volume could not be read), the others unchanged. */
START_TEST(a_volume_no_key_unlocks_leaves_the_verdicts_open_and_the_rest_scanned)
{
    char *luks = path_join(evidence_dir(), "scenarios-unix/kesl-ubuntu.luks.raw");
    char *ubuntu = path_join(evidence_dir(), "scenarios-unix/kesl-ubuntu.raw");
    kt_keys keys = {0};
    add_pass(&keys, "wrong.pass");
    add_pass(&keys, "ubuntu.pass");
    kt_scan l = {.keys = &keys}, u = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, luks, &l, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_msg(kt_scan_run(&defs, ubuntu, &u, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(l.nsystems, 1);
    ck_assert_uint_gt(same_events(&l, 0, &u, u.systems[0].volume->index), 10);
    bool said = false;
    for (size_t i = 0; i < l.warnings.count; i++)
        said = said || (l.warnings.items[i].message &&
                        strstr(l.warnings.items[i].message, "partition 2 (volume 1") &&
                        strstr(l.warnings.items[i].message, "none of the 2 keys given unlocks it"));
    ck_assert_msg(said, "no warning names the locked volume");
    int nulled = 0;
    for (int v = 0; v < KT_V_COUNT; v++) {
        kt_tri want = u.systems[0].findings.verdicts[v];
        if (want == KT_FALSE) {
            want = KT_NULL;
            nulled++;
        }
        ck_assert_int_eq(l.systems[0].findings.verdicts[v], want);
    }
    ck_assert_int_gt(nulled, 0);
    kt_scan_release(&l);
    kt_scan_release(&u);
    kt_keys_release(&keys);
    free(luks);
    free(ubuntu);
}
END_TEST

/* Keys for the BitLocker scenarios, by file name in testdata/bde/: a
 * .recovery file's text as a recovery password, a .pass file's as a
 * password. */
static void add_bde_key(kt_keys *keys, const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "bde/%s", name);
    char *path = path_join(testdata_dir(), rel);
    kt_buf b = {0};
    file_load(path, &b);
    char *text = strdup(cstr(&b));
    text[strcspn(text, "\n")] = '\0';
    kt_error err = {0};
    int rc = strstr(name, ".recovery") ? kt_keys_add_recovery(keys, text, &err)
                                       : kt_keys_add_password(keys, text, &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
    free(text);
    kt_buf_release(&b);
    free(path);
}

/* kes-active's and kes-russian's NTFS volumes, each in a BitLocker
 * partition (AES-XTS-128 and AES-CBC-128) of one disk, unlocked with
 * their recovery passwords: each gives, event for event, the timeline
 * and the verdicts of the same system in its raw image (whose findings
 * the scenarios' ground truth checks). */
START_TEST(bitlocker_volumes_give_the_findings_of_the_same_systems_in_raw_images)
{
    kt_keys keys = {0};
    add_bde_key(&keys, "russian.recovery");
    add_bde_key(&keys, "active.recovery");
    static const char *const raws[] = {"scenarios/kes-active.raw", "scenarios/kes-russian.raw"};
    check_same_as_raw("scenarios/kes-active.bde.raw", &keys, "ntfs", raws, 2);
    kt_keys_release(&keys);
}
END_TEST

/* A wrong recovery password and kes-active's user password: kes-active's
 * volume is scanned as before, kes-russian's is a warning naming it, and
 * the verdicts that were false become null, the others unchanged. */
START_TEST(a_wrong_recovery_password_leaves_the_verdicts_open_and_the_rest_scanned)
{
    char *bde = path_join(evidence_dir(), "scenarios/kes-active.bde.raw");
    char *active = path_join(evidence_dir(), "scenarios/kes-active.raw");
    kt_keys keys = {0};
    add_bde_key(&keys, "wrong.recovery");
    add_bde_key(&keys, "active.pass");
    kt_scan l = {.keys = &keys}, u = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, bde, &l, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_msg(kt_scan_run(&defs, active, &u, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(l.nsystems, 1);
    ck_assert_uint_gt(same_events(&l, 0, &u, u.systems[0].volume->index), 10);
    bool said = false;
    for (size_t i = 0; i < l.warnings.count; i++)
        said = said ||
               (l.warnings.items[i].message &&
                strstr(l.warnings.items[i].message, "partition 2 (volume 1") &&
                strstr(l.warnings.items[i].message, "GUID 4b565455-0000-4000-8000-0000000bde02") &&
                strstr(l.warnings.items[i].message, "none of the 2 keys given unlocks it"));
    ck_assert_msg(said, "no warning names the locked volume");
    int nulled = 0;
    for (int v = 0; v < KT_V_COUNT; v++) {
        kt_tri want = u.systems[0].findings.verdicts[v];
        if (want == KT_FALSE) {
            want = KT_NULL;
            nulled++;
        }
        ck_assert_int_eq(l.systems[0].findings.verdicts[v], want);
    }
    ck_assert_int_gt(nulled, 0);
    kt_scan_release(&l);
    kt_scan_release(&u);
    kt_keys_release(&keys);
    free(bde);
    free(active);
}
END_TEST

START_TEST(scenarios_in_raw)
{
    each_scenario("raw");
}
END_TEST

/* A copy of evidence NAME in a new temporary folder, with COUNT zero bytes
 * written at byte OFFSET; the copy's path (freed by the caller). */
static char *damaged_copy(const char *name, long long offset, int count, char *dir)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *src = path_join(evidence_dir(), name);
    char *dst = path_join(dir, "damaged.raw");
    char cmd[4200];
    snprintf(cmd, sizeof cmd,
             "cp --sparse=always '%s' '%s' && dd if=/dev/zero of='%s' bs=1 count=%d seek=%lld "
             "conv=notrunc status=none",
             src, dst, dst, count, offset);
    ck_assert_int_eq(system(cmd), 0);
    free(src);
    return dst;
}

static bool coded(const kt_scan *s, const char *code, const char *part)
{
    for (size_t w = 0; w < s->warnings.count; w++)
        if (strcmp(s->warnings.items[w].code, code) == 0 &&
            strstr(wtext(&s->warnings.items[w]), part))
            return true;
    return false;
}

/* PEs (testdata/pe, in oem-suite): by default only those the definitions
 * single out by name are read (Fabrikam's Kave8.dll signed by AO Kaspersky
 * Lab); --deep reads every PE under the program folders and finds
 * Northwind's nwengine.dll, Northwind-branded but signed by AO Kaspersky
 * Lab, while nwremove.exe (a remover whose version resource merely names
 * Kaspersky) is no find. */
static bool has_marker(const kt_integration *g, const char *m)
{
    for (size_t i = 0; i < g->markers.count; i++)
        if (strcmp(g->markers.items[i], m) == 0)
            return true;
    return false;
}

START_TEST(deep_reads_every_pe_under_the_program_folders)
{
    char *path = path_join(evidence_dir(), "scenarios/oem-suite.E01");
    size_t files[2] = {0};
    for (int deep = 0; deep < 2; deep++) {
        kt_scan s = {.collect_flags = deep ? KT_COLLECT_DEEP : 0};
        kt_error err = {0};
        ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s", err.msg);
        const kt_system_finding *f = &s.systems[0].findings;
        files[deep] = s.stats.files_read;
        ck_assert_uint_eq(f->nintegrations, deep ? 2 : 1);
        const kt_integration *fab =
            f->integrations[0].host[0] == 'F' ? &f->integrations[0] : &f->integrations[1];
        ck_assert_str_eq(fab->host, "Fabrikam");
        ck_assert(has_marker(fab, "Kave8.dll (AO Kaspersky Lab)"));
        ck_assert(!has_marker(fab, "fsguard.exe"));
        if (deep) {
            const kt_integration *nw =
                fab == &f->integrations[0] ? &f->integrations[1] : &f->integrations[0];
            ck_assert_str_eq(nw->host, "Northwind Security");
            ck_assert_str_eq(nw->folder, "Program Files/Northwind Security");
            ck_assert_uint_eq(nw->markers.count, 1);
            ck_assert_str_eq(nw->markers.items[0], "nwengine.dll (AO Kaspersky Lab)");
            ck_assert_int_eq(nw->first_seen, truth_time("2024-09-02T10:41:12.65625Z"));
            /* its owner: pat's own uninstall entry, which names its folder
             * only by an unquoted UninstallString */
            ck_assert_uint_eq(nw->nowners, 1);
            ck_assert_str_eq(nw->owners[0].display_name, "Northwind Internet Security");
            ck_assert_str_eq(nw->owners[0].publisher, "Northwind Traders");
            ck_assert_str_eq(nw->owners[0].hive, "Users/pat/NTUSER.DAT");
            ck_assert_str_eq(nw->owners[0].folder,
                             "Program Files/Northwind Security/Internet Security");
            ck_assert_int_eq(nw->owners[0].installed, truth_time("2024-09-02T06:00:00Z"));
        }
        kt_scan_release(&s);
    }
    /* every PE under the program folders: the suite's two plain ones and
     * Northwind's two more than by name */
    ck_assert_uint_gt(files[1], files[0]);
    free(path);
}
END_TEST

/* No owner is no guess: the Scan Engine's integration on a Linux server
 * (no definition looks for the package that owns a folder there) has no
 * host product, and says why. */
START_TEST(an_integration_without_an_owner_says_why)
{
    char *path = path_join(evidence_dir(), "scenarios-unix/scan-engine.raw");
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    const kt_system_finding *f = &s.systems[0].findings;
    ck_assert_uint_eq(f->nintegrations, 1);
    ck_assert_uint_eq(f->integrations[0].nowners, 0);
    ck_assert_str_eq(f->integrations[0].host_product_reason,
                     "no definition looks for the product that owns a folder on linux");
    kt_scan_release(&s);
    free(path);
}
END_TEST

START_TEST(a_lost_software_hive_leaves_every_other_source_and_says_so)
{
    /* testdata/build-evidence.sh: kes-active with the MFT record of its
     * SOFTWARE hive zeroed. Windows is still found (its SYSTEM hive);
     * files, drivers, bases, event logs and Prefetch are still read. */
    char *path = path_join(evidence_dir(), "corrupt/kes-active-no-software.raw");
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(s.nsystems, 1);
    ck_assert_int_eq(s.systems[0].sys.os, KT_OS_WINDOWS);
    ck_assert_str_eq(s.systems[0].sys.hostname, "FIN-WS042");
    ck_assert(coded(&s, "hive", "Windows/System32/config/SOFTWARE"));
    const kt_system_finding *f = &s.systems[0].findings;
    ck_assert_int_eq(f->verdicts[KT_V_EVER_INSTALLED], KT_TRUE);
    ck_assert_uint_ge(f->nlosses, 1);
    size_t from_software = 0, from_files = 0, from_logs = 0, from_prefetch = 0;
    for (size_t i = 0; i < s.tl.count; i++) {
        const kt_event *e = &s.tl.items[i];
        from_software += e->hive && strcmp(e->hive, "SOFTWARE") == 0;
        from_files += e->path && strncmp(e->path, "ProgramData/Kaspersky Lab/", 26) == 0;
        from_logs += e->path && strstr(e->path, "winevt/Logs/") != NULL;
        from_prefetch += e->path && strncmp(e->path, "Windows/Prefetch/", 17) == 0;
    }
    ck_assert_uint_eq(from_software, 0);
    ck_assert_uint_ge(from_files, 1);
    ck_assert_uint_ge(from_logs, 1);
    ck_assert_uint_ge(from_prefetch, 1);
    /* What was false on the intact image is open now, and says why. */
    ck_assert_int_eq(f->verdicts[KT_V_INSTALLED_AFTER_SALES_BAN], KT_NULL);
    ck_assert(f->opened[KT_V_INSTALLED_AFTER_SALES_BAN]);
    kt_buf b = {0};
    ck_assert_int_eq(kt_writer_find("json")->write(&b, &s, &defs), 0);
    const char *json = (const char *)b.data;
    ck_assert_ptr_nonnull(strstr(json, "\"unread_sources\": [\n"));
    ck_assert_ptr_nonnull(strstr(json, "\"path\": \"Windows/System32/config/SOFTWARE\""));
    ck_assert_ptr_nonnull(strstr(json, "\"verdicts_left_open\": [\n"));
    kt_buf_release(&b);
    kt_scan_release(&s);
    free(path);
}
END_TEST

START_TEST(a_filesystem_that_fails_or_is_not_recognised_is_a_warning)
{
    /* kes-active's root directory record ($MFT entry 5; the $MFT starts at
     * cluster 4 of 4 KiB, the partition at sector 2048) zeroed: no system
     * can be found, and the filesystem's error says why. */
    char dir[] = "/tmp/kt-scan-noroot-XXXXXX";
    char *path =
        damaged_copy("scenarios/kes-active.raw", 2048LL * 512 + 4 * 4096 + 5 * 1024, 1024, dir);
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(s.nsystems, 0);
    ck_assert(coded(&s, "system", "no system found, and the filesystem failed"));
    kt_scan_release(&s);
    free(path);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);

    /* windows.raw's NTFS boot sector (partition 1 at sector 18432) zeroed:
     * the EFI partition is still read, the other one named as not read. */
    char dir2[] = "/tmp/kt-scan-noboot-XXXXXX";
    path = damaged_copy("windows.raw", 18432LL * 512, 512, dir2);
    memset(&s, 0, sizeof s);
    ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert(coded(&s, "image", "partition 2 (volume 1, 'Basic data partition'"));
    ck_assert(coded(&s, "image", "holds data but no filesystem kavtrace reads"));
    kt_scan_release(&s);
    free(path);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir2);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(corpus_images_give_no_kaspersky_finding)
{
    tsv t;
    truth_load(&t, "truth/corpus.tsv");
    for (size_t i = 0; i < t.count; i++) {
        tsv_row *r = &t.rows[i];
        if (strcmp(r->f[4], "ok") != 0)
            continue;
        char *path = strncmp(r->f[0], "unpacked:", 9) == 0
                         ? path_join(corpus_unpacked_dir(), r->f[0] + 9)
                         : path_join(corpus_dir(), r->f[0]);
        kt_scan s = {0};
        kt_error err = {0};
        ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s: %s", r->f[0],
                      err.msg);
        ck_assert_msg(s.tl.count == 0, "%s: %zu events", r->f[0], s.tl.count);
        /* "Never installed" only when every source was read; a system with
         * a source that could not be (Velociraptor's placeholder hives)
         * leaves it open and says so. */
        for (size_t k = 0; k < s.nsystems; k++) {
            const kt_system_finding *f = &s.systems[k].findings;
            ck_assert_int_eq(f->verdicts[KT_V_EVER_INSTALLED], f->nlosses ? KT_NULL : KT_FALSE);
            ck_assert(f->opened[KT_V_EVER_INSTALLED] == (f->nlosses > 0));
        }
        /* The writers cope with whatever came out. */
        for (size_t w = 0; w < kt_nwriters; w++) {
            kt_buf b = {0};
            ck_assert_int_eq(kt_writers[w]->write(&b, &s, &defs), 0);
            kt_buf_release(&b);
        }
        kt_scan_release(&s);
        free(path);
    }
    tsv_free(&t);
}
END_TEST

START_TEST(corpus_hives_and_event_logs_give_no_finding_and_corrupt_ones_warn)
{
    const char *trees[] = {"hive-trees/real-hives", "hive-trees/corrupt-system"};
    for (size_t i = 0; i < 2; i++) {
        char *path = path_join(corpus_unpacked_dir(), trees[i]);
        kt_scan s = {0};
        kt_error err = {0};
        ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s", err.msg);
        ck_assert_uint_eq(s.nsystems, 1);
        ck_assert_int_eq(s.systems[0].sys.os, KT_OS_WINDOWS);
        ck_assert_msg(s.tl.count == 0, "%s: %zu events", trees[i], s.tl.count);
        /* Damaged logs (real-hives) and a corrupt SYSTEM hive are sources not
         * read in full: "never installed" is left open. */
        ck_assert_uint_ge(s.systems[0].findings.nlosses, 1);
        ck_assert_int_eq(s.systems[0].findings.verdicts[KT_V_EVER_INSTALLED], KT_NULL);
        if (i == 0) {
            ck_assert_uint_eq(s.stats.hives_read, 9);
            /* Every event log of the corpus (11) was read (and none mentions
             * Kaspersky); the damaged ones warn. */
            ck_assert_uint_eq(s.stats.files_read, 11);
            ck_assert_uint_ge(s.warnings.count, 2);
        } else {
            /* The corrupt SYSTEM hive is a warning; the other hives are read. */
            bool warned = false;
            for (size_t w = 0; w < s.warnings.count; w++)
                warned = warned || strstr(wtext(&s.warnings.items[w]), "SYSTEM") != NULL;
            ck_assert_msg(warned, "no warning for the corrupt SYSTEM hive");
            ck_assert_uint_ge(s.stats.hives_read, 3);
        }
        kt_scan_release(&s);
        free(path);
    }
}
END_TEST

START_TEST(corpus_amcache_hives_are_read_and_give_no_finding)
{
    /* tests/unpack-corpus.sh: each corpus Amcache.hve in a tree of its own. */
    for (int i = 1; i <= 4; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "amcache-trees/%d", i);
        char *path = path_join(corpus_unpacked_dir(), rel);
        kt_scan s = {0};
        kt_error err = {0};
        ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s", err.msg);
        ck_assert_uint_eq(s.nsystems, 1);
        ck_assert_uint_eq(s.stats.hives_read, 2); /* SOFTWARE and Amcache.hve */
        ck_assert_msg(s.tl.count == 0, "%s: %zu events", rel, s.tl.count);
        /* No SYSTEM hive in the tree: services and drivers were not read,
         * so "never installed" is left open, and a warning says why. */
        ck_assert_int_eq(s.systems[0].findings.verdicts[KT_V_EVER_INSTALLED], KT_NULL);
        bool said = false;
        for (size_t w = 0; w < s.warnings.count; w++)
            said =
                said || (strcmp(s.warnings.items[w].code, "hive") == 0 &&
                         strstr(s.warnings.items[w].message, "SYSTEM hive could not be read (not "
                                                             "found)") != NULL);
        ck_assert_msg(said, "%s: no warning for the missing SYSTEM hive", rel);
        kt_scan_release(&s);
        free(path);
    }
}
END_TEST

START_TEST(corpus_package_logs_and_plist_parse_cleanly_and_give_no_finding)
{
    /* tests/unpack-corpus.sh: plaso's dpkg.log and apt history, Velociraptor's
     * dpkg status (Debian tree); plaso's InstallHistory.plist (macOS tree). */
    const struct {
        const char *tree;
        kt_os os;
        const char *zone;
        size_t files; /* the zone file and the package or plist files */
    } trees[] = {
        {"unix-trees/debian", KT_OS_LINUX, "Europe/Berlin", 4},
        {"unix-trees/macos", KT_OS_MACOS, "America/New_York", 2},
    };
    for (size_t i = 0; i < sizeof trees / sizeof trees[0]; i++) {
        char *path = path_join(corpus_unpacked_dir(), trees[i].tree);
        kt_scan s = {0};
        kt_error err = {0};
        ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s", err.msg);
        ck_assert_uint_eq(s.nsystems, 1);
        ck_assert_int_eq(s.systems[0].sys.os, trees[i].os);
        ck_assert_str_eq(s.systems[0].zone, trees[i].zone);
        /* nothing but the white-label search's note (Linux: it ran over
         * var/lib; macOS has no white-label definitions) */
        for (size_t w = 0; w < s.warnings.count; w++)
            ck_assert_msg(trees[i].os == KT_OS_LINUX && w == 0 &&
                              strcmp(s.warnings.items[w].code, KT_DIAG_WHITELABEL_SEARCHED) == 0,
                          "%s: warning: %s", trees[i].tree, wtext(&s.warnings.items[w]));
        ck_assert_uint_eq(s.stats.files_read, trees[i].files);
        ck_assert_msg(s.tl.count == 0, "%s: %zu events", trees[i].tree, s.tl.count);
        ck_assert_int_eq(s.systems[0].findings.verdicts[KT_V_EVER_INSTALLED], KT_FALSE);
        ck_assert_int_eq(s.systems[0].findings.verdicts[KT_V_CODE_IN_OTHER_PRODUCTS],
                         trees[i].os == KT_OS_LINUX ? KT_FALSE : KT_NULL);
        kt_scan_release(&s);
        free(path);
    }
}
END_TEST

static void put_file(const char *root, const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(linux_zone_named_but_missing_uses_the_built_in_rule)
{
    /* An Ubuntu tree whose /etc/localtime points at a zone file the image
     * does not have: the name is known, the rule comes from kavtrace's
     * table (agreeing with tzdata, test_tzif), and the scan says so. */
    char root[] = "/tmp/kt-scan-linux-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(root));
    /* No os-release (a minimal root): lsb-release tells the system. */
    put_file(root, "etc/lsb-release",
             "DISTRIB_ID=Ubuntu\nDISTRIB_DESCRIPTION=\"Ubuntu 22.04.4 LTS\"\n");
    put_file(root, "etc/hostname", "web-01\n");
    char link[1024];
    snprintf(link, sizeof link, "%s/etc/localtime", root);
    ck_assert_int_eq(symlink("/usr/share/zoneinfo/America/Chicago", link), 0);
    put_file(root, "var/lib/dpkg/status",
             "Package: kesl\nStatus: install ok installed\nArchitecture: amd64\n"
             "Version: 12.1.0-1297\nDescription: Kaspersky Endpoint Security for Linux\n\n"
             "Package: klnagent64\nStatus: deinstall ok config-files\nArchitecture: amd64\n"
             "Config-Version: 14.0.0-4490\nDescription: Kaspersky Network Agent\n\n");
    put_file(root, "var/log/dpkg.log",
             "2023-02-14 10:22:05 install kesl:amd64 <none> 12.0.0-6672\n"
             "2023-02-14 10:22:09 status installed kesl:amd64 12.0.0-6672\n"
             "2024-10-15 09:41:05 upgrade kesl:amd64 12.0.0-6672 12.1.0-1297\n");
    put_file(root, "opt/kaspersky/kesl/bin/kesl-control", "#!/bin/sh\n");
    put_file(root, "root/autoinstall.ini", "EULA_AGREED=yes\nUSE_KSN=yes\n");
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, root, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(s.nsystems, 1);
    ck_assert_int_eq(s.systems[0].sys.os, KT_OS_LINUX);
    ck_assert_str_eq(s.systems[0].sys.os_name, "Ubuntu 22.04.4 LTS");
    ck_assert_str_eq(s.systems[0].sys.hostname, "web-01");
    ck_assert_str_eq(s.systems[0].zone, "America/Chicago");
    kt_tzif_builtin_info tzdb;
    kt_tzif_builtin_about(&tzdb);
    char table[128];
    snprintf(table, sizeof table, "kavtrace's table from tzdata %s", tzdb.release);
    bool said = false;
    for (size_t w = 0; w < s.warnings.count; w++)
        said = said || (strstr(wtext(&s.warnings.items[w]), table) &&
                        strstr(wtext(&s.warnings.items[w]), "for America/Chicago"));
    ck_assert_msg(said, "no warning about the zone table");
    const kt_system_finding *f = &s.systems[0].findings;
    const kt_product_finding *p = find_product(f, "kaspersky-kesl");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(kt_status_name(p->status), "present");
    ck_assert_str_eq(p->version, "12.1.0-1297");
    ck_assert_int_eq(p->installed, truth_time("2023-02-14T16:22:05Z"));            /* CST */
    ck_assert_int_eq(p->last_codebase_update, truth_time("2024-10-15T14:41:05Z")); /* CDT */
    ck_assert_str_eq(kt_ksn_name(p->ksn), "enabled");
    ck_assert_int_eq(f->verdicts[KT_V_CODEBASE_UPDATE_AFTER_CUTOFF], KT_TRUE);
    ck_assert_int_eq(f->verdicts[KT_V_KSN_AFTER_CUTOFF], KT_TRUE);
    ck_assert_int_eq(f->verdicts[KT_V_PRESENT_AT_ACQUISITION], KT_TRUE);
    /* The agent was removed with its configuration files left: no
     * registration, residue; nothing dates its install, so whether any
     * product came after the sales ban stays open. */
    const kt_product_finding *agent = find_product(f, "kaspersky-klnagent");
    ck_assert_ptr_nonnull(agent);
    ck_assert_str_eq(kt_status_name(agent->status), "residue");
    ck_assert_str_eq(agent->version, "14.0.0-4490");
    ck_assert_int_eq(agent->installed, KT_TIME_NONE);
    ck_assert_int_eq(f->verdicts[KT_V_INSTALLED_AFTER_SALES_BAN], KT_NULL);
    kt_scan_release(&s);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static const kt_event *event_of(const kt_timeline *tl, const char *artifact, const char *when)
{
    for (size_t i = 0; i < tl->count; i++)
        if (strcmp(tl->items[i].artifact->id, artifact) == 0 &&
            tl->items[i].time == truth_time(when))
            return &tl->items[i];
    return NULL;
}

/* A Debian tree whose /etc/localtime names `zone`, a file the tree lacks,
 * with one dpkg.log: kavtrace's zone table converts its local times. */
static void scan_zone_tree(const char *zone, const char *log, kt_scan *s, char *root)
{
    put_file(root, "etc/os-release", "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian 12\"\n");
    char link[1024], target[256];
    snprintf(link, sizeof link, "%s/etc/localtime", root);
    snprintf(target, sizeof target, "/usr/share/zoneinfo/%s", zone);
    ck_assert_int_eq(symlink(target, link), 0);
    put_file(root, "var/log/dpkg.log", log);
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, root, s, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(s->nsystems, 1);
    ck_assert_str_eq(s->systems[0].zone, zone);
}

static void remove_tree(const char *root)
{
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}

/* put_file, then its modified time. */
static void put_file_at(const char *root, const char *rel, const char *text, const char *when)
{
    put_file(root, rel, text);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    kt_time t = truth_time(when);
    struct timeval tv[2] = {{t / KT_NS_PER_SEC, 0}, {t / KT_NS_PER_SEC, 0}};
    ck_assert_int_eq(utimes(path, tv), 0);
}

/* A file of ../shared/real-kaspersky (beside the corpus), as text. */
static char *real_file(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/../real-kaspersky/%s", corpus_dir(), rel);
    kt_buf b = {0};
    file_load(path, &b);
    ck_assert_int_eq(kt_buf_append(&b, "", 1), 0);
    return (char *)b.data;
}

static size_t events_of(const kt_timeline *tl, const char *artifact, const char *path)
{
    size_t n = 0;
    for (size_t i = 0; i < tl->count; i++)
        n += strcmp(tl->items[i].artifact->id, artifact) == 0 &&
             (!path || (tl->items[i].path && strcmp(tl->items[i].path, path) == 0));
    return n;
}

START_TEST(linux_answer_files_histories_and_kav4fs_with_the_shipped_definitions)
{
    /* The real answer files where admins put them (real-world-kaspersky.md
     * L1, L9), the package's template beside one, shell histories, KESL's
     * groups, the launcher's unit copy and a kav4fs install with its real
     * settings export. No zone: times are UTC. */
    char root[] = "/tmp/kt-scan-answers-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(root));
    put_file(root, "etc/os-release", "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian 12\"\n");
    char *setup = real_file("kesl-installer-comexr/setup.txt");
    char *tmpl = real_file("kesl-installer-comexr/autoinstall.ini");
    char *saferwall = real_file("linux-answer-files/saferwall-install.conf");
    char *salt = real_file("linux-answer-files/freeipa-salt-answers-kesl");
    char *docker = real_file("kav4fs-malice/docker.conf");
    char *settings = real_file("kav4fs-malice/settings.xml");
    put_file_at(root, "home/user/kesl-installer/kaspersky-installer/setup.txt", setup,
                "2024-08-05T16:11:48Z");
    put_file_at(root, "home/user/kesl-installer/kaspersky-installer/doc/autoinstall.ini", tmpl,
                "2024-08-05T16:05:12Z");
    put_file_at(root, "install.conf", saferwall, "2019-03-01T10:00:00Z");
    put_file_at(root, "opt/answers-kesl", salt, "2021-07-01T09:00:00Z");
    put_file_at(root, "etc/kaspersky/docker.conf", docker, "2019-02-10T01:00:00Z");
    put_file_at(root, "tmp/kav4fs.conf", docker, "2019-02-10T01:00:01Z");
    put_file_at(root, "root/.bash_history",
                "cd /tmp\nkesl-control --accept-ksn\n"
                "sudo /opt/kaspersky/kesl/bin/kesl-control --set-app-settings UseKSN=Yes\n"
                "man kesl-control\n",
                "2024-10-02T17:50:12Z");
    put_file_at(root, "home/user/.zsh_history",
                ": 1727461324:0;sudo kesl-control --set-app-settings UseKSN=No\n"
                ": 1727461351:0;kesl-control --get-app-settings | grep -i ksn\n",
                "2024-11-19T15:03:12Z");
    put_file_at(root, "etc/group", "root:x:0:\nkesladmin:x:478:\nkesluser:x:477:\nops:x:1000:\n",
                "2024-09-17T14:01:59Z");
    put_file_at(root, "etc/systemd/system/kesl.service", "[Unit]\n", "2024-11-18T07:31:09Z");
    put_file(root, "opt/kaspersky/kav4fs/bin/kav4fs-control", "stand-in\n");
    put_file_at(root, "var/opt/kaspersky/kav4fs/update/avbases/kdb-i386-0607g.xml", "stand-in\n",
                "2019-02-10T01:30:00Z");
    put_file(root, "etc/init.d/kav4fs-supervisor", "#!/bin/sh\n");
    put_file_at(root, "root/settings.xml", settings, "2019-02-11T08:00:00Z");
    free(setup), free(tmpl), free(saferwall), free(salt), free(docker), free(settings);

    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, root, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(s.nsystems, 1);
    const kt_timeline *tl = &s.tl;
    /* found by content, whatever the name; not the template, not kav4fs's */
    ck_assert_uint_eq(events_of(tl, "kaspersky.linux.autoinstall-ksn", NULL), 2);
    ck_assert_uint_eq(events_of(tl, "kaspersky.linux.autoinstall-ksn",
                                "home/user/kesl-installer/kaspersky-installer/setup.txt"),
                      1);
    ck_assert_uint_eq(events_of(tl, "kaspersky.linux.autoinstall-ksn", "install.conf"), 1);
    ck_assert_uint_eq(events_of(tl, "kaspersky.linux.autoinstall-no-ksn", NULL), 1);
    ck_assert_ptr_nonnull(
        event_of(tl, "kaspersky.linux.autoinstall-no-ksn", "2021-07-01T09:00:00Z"));
    /* histories: zsh's stamp, bash's file time (and the line that only
     * names kesl-control is none) */
    ck_assert_uint_eq(events_of(tl, "kaspersky.linux.history-ksn-plain", NULL), 2);
    const kt_event *e = event_of(tl, "kaspersky.linux.history-ksn-plain", "2024-10-02T17:50:12Z");
    ck_assert_ptr_nonnull(e);
    ck_assert_msg(strstr(e->time_source, "no time of its own"), "%s", e->time_source);
    ck_assert_uint_eq(events_of(tl, "kaspersky.linux.history-no-ksn", NULL), 1);
    ck_assert_ptr_nonnull(event_of(tl, "kaspersky.linux.history-no-ksn", "2024-09-27T18:22:04Z"));
    ck_assert_uint_eq(events_of(tl, "kaspersky.linux.history-ksn", NULL) +
                          events_of(tl, "kaspersky.linux.history-no-ksn-plain", NULL),
                      0);
    /* groups: dated by the file's last change, a presence */
    e = event_of(tl, "kaspersky.linux.groups", "2024-09-17T14:01:59Z");
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->category, KT_CAT_PRESENCE);
    /* /etc/systemd/system/kesl.service: the last start */
    e = event_of(tl, "kaspersky.linux.systemd-unit-started", "2024-11-18T07:31:09Z");
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->category, KT_CAT_EXECUTION);
    ck_assert_uint_eq(events_of(tl, "kaspersky.linux.systemd-unit", NULL), 0);
    /* kav4fs: its own product, installed as its settings export says */
    const kt_product_finding *p = find_product(&s.systems[0].findings, "kaspersky-kav4fs");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->name, "Kaspersky Anti-Virus for Linux File Server");
    ck_assert_int_eq(p->installed, truth_time("2018-11-25T18:36:12Z"));
    ck_assert_int_eq(p->last_signature_update, truth_time("2019-02-10T01:30:00Z"));
    ck_assert_str_eq(kt_status_name(p->status), "present");
    const kt_product_finding *k = find_product(&s.systems[0].findings, "kaspersky-kesl");
    ck_assert_ptr_nonnull(k);
    /* the newest KSN find: root's re-enabling, after ops turned it off */
    ck_assert_str_eq(kt_ksn_name(k->ksn), "enabled");
    kt_scan_release(&s);
    remove_tree(root);
}
END_TEST

/* ---- macOS trees --------------------------------------------------------------- */

/* A macOS root: SystemVersion.plist, /etc a link into /private and
 * /etc/localtime naming America/New_York, a zone file the tree lacks
 * (kavtrace's table converts local times). */
static void mac_tree(const char *root)
{
    put_file(root, "System/Library/CoreServices/SystemVersion.plist",
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n"
             "\t<key>ProductName</key>\n\t<string>macOS</string>\n"
             "\t<key>ProductVersion</key>\n\t<string>14.6.1</string>\n</dict>\n</plist>\n");
    put_file(root, "private/etc/hosts", "127.0.0.1\tlocalhost\n");
    char link[1024];
    snprintf(link, sizeof link, "%s/etc", root);
    ck_assert_int_eq(symlink("private/etc", link), 0);
    snprintf(link, sizeof link, "%s/private/etc/localtime", root);
    ck_assert_int_eq(symlink("/var/db/timezone/zoneinfo/America/New_York", link), 0);
}

/* One InstallHistory.plist dictionary (XML). */
static void history_entry(kt_buf *b, const char *date, const char *name, const char *version,
                          const char *package)
{
    char d[1024];
    int n = snprintf(d, sizeof d,
                     "\t<dict>\n\t\t<key>date</key>\n\t\t<date>%s</date>\n"
                     "\t\t<key>displayName</key>\n\t\t<string>%s</string>\n"
                     "\t\t<key>displayVersion</key>\n\t\t<string>%s</string>\n"
                     "\t\t<key>packageIdentifiers</key>\n\t\t<array>\n"
                     "\t\t\t<string>%s</string>\n\t\t</array>\n"
                     "\t\t<key>processName</key>\n\t\t<string>installer</string>\n\t</dict>\n",
                     date, name, version, package);
    ck_assert_int_eq(kt_buf_append(b, d, (size_t)n), 0);
}

static void put_history(const char *root, const kt_buf *entries)
{
    kt_buf b = {0};
    const char *head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n"
                       "<array>\n";
    ck_assert_int_eq(kt_buf_append(&b, head, strlen(head)), 0);
    ck_assert_int_eq(kt_buf_append(&b, entries->data, entries->len), 0);
    ck_assert_int_eq(kt_buf_append(&b, "</array>\n</plist>\n", 19), 0);
    put_file(root, "Library/Receipts/InstallHistory.plist", (const char *)b.data);
    kt_buf_release(&b);
}

/* The events of `artifact`, with their product ids. */
static size_t events_for(const kt_timeline *tl, const char *artifact, const char *product)
{
    size_t n = 0;
    for (size_t i = 0; i < tl->count; i++)
        n += strcmp(tl->items[i].artifact->id, artifact) == 0 &&
             (product ? tl->items[i].product_id && strcmp(tl->items[i].product_id, product) == 0
                      : tl->items[i].product_id == NULL);
    return n;
}

static bool warned(const kt_scan *s, const char *a, const char *b);

static void put_link_at(const char *root, const char *rel, const char *target)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    ck_assert_int_eq(system(cmd), 0);
    *slash = '/';
    ck_assert_int_eq(symlink(target, path), 0);
}

START_TEST(astra_packages_saved_outputs_exports_and_old_services_with_the_shipped_definitions)
{
    /* Astra Linux SE with KESL and the Network Agent as Astra builds them
     * (kesl-astra, kesl-gui-astra, klnagent64-astra 11.1.0-3013, L10);
     * the product's state as its own commands print it, kept by an admin
     * and by Checkmk's agent (L12); a settings export (L15); bash history
     * stamps; KESL 11.1's kesl-supervisor with SysV links (L13); its log
     * folders (L14); etc/opt/kaspersky per product (C13). No zone: UTC. */
    char root[] = "/tmp/kt-scan-astra-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(root));
    put_file(
        root, "etc/os-release",
        "PRETTY_NAME=\"Astra Linux\"\nNAME=\"Astra Linux\"\nID=astra\nVERSION_ID=1.7_x86-64\n");
    put_file_at(root, "var/lib/dpkg/status",
                "Package: kesl-astra\nStatus: install ok installed\nArchitecture: amd64\n"
                "Version: 11.1.0-3013\n\n"
                "Package: kesl-gui-astra\nStatus: install ok installed\nArchitecture: amd64\n"
                "Version: 11.1.0-3013\n\n"
                "Package: klnagent64-astra\nStatus: install ok installed\nArchitecture: amd64\n"
                "Version: 11.0.0-29\n\n"
                "Package: keslint\nStatus: install ok installed\nArchitecture: all\n"
                "Version: 1.0\n\n",
                "2021-03-02T10:05:00Z");
    put_file(root, "var/log/dpkg.log",
             "2021-03-02 09:58:01 install klnagent64-astra:amd64 <none> 11.0.0-29\n"
             "2021-03-02 10:01:12 install kesl-astra:amd64 <none> 11.1.0-3013\n"
             "2021-03-02 10:01:40 install kesl-gui-astra:amd64 <none> 11.1.0-3013\n"
             "2021-03-02 10:02:00 install keslint:all <none> 1.0\n");
    put_file(root, "var/log/apt/history.log",
             "\nStart-Date: 2021-03-02  10:01:10\nCommandline: apt install ./kesl-astra.deb\n"
             "Install: kesl-astra:amd64 (11.1.0-3013)\nEnd-Date: 2021-03-02  10:01:39\n");
    put_file_at(root, "var/lib/dpkg/info/kesl-astra.list", "/.\n", "2021-03-02T10:01:13Z");
    put_file_at(root, "var/lib/dpkg/info/klnagent64-astra.list", "/.\n", "2021-03-02T09:58:02Z");
    put_file(root, "opt/kaspersky/kesl/bin/kesl-control", "stand-in\n");
    put_file(root, "opt/kaspersky/klnagent64/sbin/klnagent", "stand-in\n");
    /* the Network Agent's answers: no KSN */
    put_file(root, "opt/kaspersky/klnagent64/lib/bin/setup/autoanswers.conf",
             "KLNAGENT_SERVER=ksc.example.local\nKLNAGENT_PORT=14000\nKLNAGENT_USESSL=Y\n"
             "EULA_ACCEPTED=1\n");
    /* kesl-control --app-info > /root/kesl-app-info.txt (KESL 10's real
     * wording, Checkmk's example) */
    put_file_at(root, "root/kesl-app-info.txt",
                "Name:                                       Kaspersky Endpoint Security 11.1.0 "
                "for Linux\n"
                "Version:                                    11.1.0.3013\n"
                "Last release date of databases:             2024-09-14 04:11:00\n"
                "KSN state:                                  On\n",
                "2024-09-14T09:00:00Z");
    /* Checkmk's cache of its kaspersky_av plugin: ': ' written as '|' */
    put_file_at(root, "var/lib/check_mk_agent/cache/plugins_kaspersky_av.cache",
                "<<<kaspersky_av_kesl_updates:sep(124)>>>\n"
                "Name|Kaspersky Endpoint Security 11.1.0 for Linux\n"
                "Version|11.1.0.3013\n"
                "Last release date of databases|2024-11-17 22:40:00\n"
                "Anti-virus databases loaded|Yes\n"
                "KSN state|Off\n"
                "<<<kaspersky_av_tasks>>>\n"
                "Name: Scan_My_Computer\n",
                "2024-11-18T06:00:00Z");
    /* a note that quotes the output is none */
    put_file(root, "home/user/notes.txt",
             "Check the bases with kesl-control --app-info; it prints\n"
             "  Last release date of databases: 2018-08-23 04:11:00\n"
             "  KSN state: Off\n"
             "UseKSN=Yes is what we want, says the wiki.\n");
    /* kav4fs-control --get-stat Update, saved (names no product: joins KESL) */
    put_file_at(root, "tmp/update-stat.txt",
                "Current AV databases date:     2024-11-19 03:54:00\n"
                "Last AV databases update date: 2024-11-19 09:00:40\n"
                "Current AV databases state:    UpToDate\n",
                "2024-11-19T09:01:00Z");
    /* kav4fs-control --app-info, the real output */
    char *appinfo = real_file("kav4fs-malice/av_version.out");
    put_file_at(root, "root/av_version.out", appinfo, "2019-02-10T02:00:00Z");
    free(appinfo);
    /* kesl-control -E --query > events.txt */
    put_file_at(root, "root/events.txt",
                "EventType=ThreatDetected\nEventId=2544\nDate=2024-10-01 22:12:16\n"
                "FileName=/eicar\nDetectName=EICAR-Test-File\n\n"
                "EventType=UpdateComplete\nEventId=2601\nDate=2024-10-02 01:00:05\n"
                "AVBasesDate=2024-10-01 20:30:00\n",
                "2024-10-02T01:05:00Z");
    /* kesl-control --export-settings --file /opt/kaspersky/kesl/kesl_full.ini */
    put_file_at(root, "opt/kaspersky/kesl/kesl_full.ini",
                "; exported\n[General]\nUseKSN=No\nUseSyslog=No\n"
                "EventsStoragePath=/var/opt/kaspersky/kesl/private/storage/events.db\n"
                "[ScanScope.item_0000]\nPath=/\n",
                "2024-10-20T12:00:00Z");
    /* bash with HISTTIMEFORMAT: each command after its stamp */
    put_file_at(root, "root/.bash_history",
                "kesl-control --accept-ksn\n#1727600000\n"
                "kesl-control --set-app-settings UseKSN=No\n#1727600100\nls\n",
                "2024-11-20T10:00:00Z");
    /* KESL 11.1's service, SysV style */
    put_file(root, "etc/init.d/kesl-supervisor", "#!/bin/sh\n");
    put_link_at(root, "etc/rc2.d/S20kesl-supervisor", "../init.d/kesl-supervisor");
    put_link_at(root, "etc/rc0.d/K01kesl-supervisor", "../init.d/kesl-supervisor");
    put_link_at(root, "etc/rc2.d/S20keslint", "../init.d/keslint");
    put_file(root, "etc/systemd/system/kesl-supervisor.service", "[Unit]\n");
    put_file(root, "var/log/kaspersky/kesl-user/kesl-gui.log", "stand-in\n");
    put_file(root, "var/log/kaspersky/kesl-service/kesl.log", "stand-in\n");
    put_file(root, "etc/opt/kaspersky/kesl/kesl.conf", "stand-in\n");
    put_file(root, "etc/opt/kaspersky/klnagent/klnagent.conf", "stand-in\n");

    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, root, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(s.nsystems, 1);
    const kt_timeline *tl = &s.tl;
    const kt_system_finding *f = &s.systems[0].findings;
    /* L10: every Astra package is its product's, in every package source;
     * keslint is nobody's */
    ck_assert_uint_eq(events_for(tl, "kaspersky.linux.dpkg-status", "kaspersky-kesl"), 2);
    ck_assert_uint_eq(events_for(tl, "kaspersky.linux.dpkg-status", "kaspersky-klnagent"), 1);
    ck_assert_uint_eq(events_for(tl, "kaspersky.linux.dpkg-log", "kaspersky-kesl"), 2);
    ck_assert_uint_eq(events_for(tl, "kaspersky.linux.dpkg-log", "kaspersky-klnagent"), 1);
    ck_assert_uint_eq(events_for(tl, "kaspersky.linux.apt-history", "kaspersky-kesl"), 1);
    ck_assert_uint_eq(events_for(tl, "kaspersky.linux.dpkg-info", "kaspersky-kesl"), 1);
    ck_assert_uint_eq(events_for(tl, "kaspersky.linux.dpkg-info", "kaspersky-klnagent"), 1);
    for (size_t i = 0; i < tl->count; i++)
        ck_assert_msg(!tl->items[i].product_name || !strstr(tl->items[i].product_name, "keslint"),
                      "%s", tl->items[i].description);
    const kt_product_finding *k = find_product(f, "kaspersky-kesl");
    ck_assert_ptr_nonnull(k);
    ck_assert_str_eq(kt_status_name(k->status), "present");
    ck_assert_str_eq(k->version, "11.1.0-3013");
    ck_assert_int_eq(k->installed, truth_time("2021-03-02T10:01:10Z")); /* apt's Start-Date */
    const kt_product_finding *agent = find_product(f, "kaspersky-klnagent");
    ck_assert_ptr_nonnull(agent);
    ck_assert_str_eq(agent->version, "11.0.0-29");
    ck_assert_int_eq(agent->installed, truth_time("2021-03-02T09:58:01Z"));
    /* L12: the bases' release date from the admin's output and Checkmk's
     * cache; the update statistics join KESL; the newest decides */
    ck_assert_ptr_nonnull(event_of(tl, "kaspersky.linux.app-info-bases", "2024-09-14T04:11:00Z"));
    ck_assert_ptr_nonnull(event_of(tl, "kaspersky.linux.app-info-bases", "2024-11-17T22:40:00Z"));
    ck_assert_uint_eq(events_of(tl, "kaspersky.linux.app-info-bases", NULL), 2);
    /* (the events name no product; the product's fields take them) */
    ck_assert_uint_eq(events_for(tl, "kaspersky.linux.update-stat", NULL), 2);
    ck_assert_int_eq(k->last_signature_update, truth_time("2024-11-19T09:00:40Z"));
    /* events exported: each record's Date, the bases' date */
    ck_assert_uint_eq(events_of(tl, "kaspersky.linux.events-export", NULL), 2);
    ck_assert_ptr_nonnull(event_of(tl, "kaspersky.linux.events-export", "2024-10-02T01:00:05Z"));
    ck_assert_ptr_nonnull(
        event_of(tl, "kaspersky.linux.events-export-bases", "2024-10-01T20:30:00Z"));
    /* KSN: on in the admin's output, the history's --accept-ksn (the
     * file's time) and off by the stamped line, the export and Checkmk's
     * "KSN state|Off"; the newest is the undated --accept-ksn */
    const kt_event *e = event_of(tl, "kaspersky.linux.app-info-ksn", "2024-09-14T09:00:00Z");
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_nonnull(event_of(tl, "kaspersky.linux.app-info-no-ksn", "2024-11-18T06:00:00Z"));
    ck_assert_uint_eq(events_of(tl, "kaspersky.linux.app-info-no-ksn", NULL), 1);
    e = event_of(tl, "kaspersky.linux.history-no-ksn-plain", "2024-09-29T08:53:20Z");
    ck_assert_ptr_nonnull(e);
    ck_assert_msg(strstr(e->time_source, "stamped '1727600000' on line 2"), "%s", e->time_source);
    ck_assert_ptr_nonnull(
        event_of(tl, "kaspersky.linux.history-ksn-plain", "2024-11-20T10:00:00Z"));
    ck_assert_ptr_nonnull(
        event_of(tl, "kaspersky.linux.settings-export-no-ksn", "2024-10-20T12:00:00Z"));
    ck_assert_uint_eq(events_of(tl, "kaspersky.linux.settings-export-ksn", NULL), 0);
    ck_assert_str_eq(kt_ksn_name(k->ksn), "enabled");
    /* the note and the Network Agent's answers give nothing */
    for (size_t i = 0; i < tl->count; i++) {
        const char *p = tl->items[i].path ? tl->items[i].path : "";
        ck_assert_msg(strcmp(p, "home/user/notes.txt") != 0 && !strstr(p, "autoanswers.conf"),
                      "%s: %s", tl->items[i].artifact->id, p);
    }
    /* kav4fs: installed as its saved --app-info says (local = UTC here) */
    const kt_product_finding *fs = find_product(f, "kaspersky-kav4fs");
    ck_assert_ptr_nonnull(fs);
    ck_assert_int_eq(fs->installed, truth_time("2019-02-10T01:04:56Z"));
    /* L13, L14: the old service, its runlevel links (not keslint's), logs */
    ck_assert_uint_eq(events_for(tl, "kaspersky.linux.init-enabled", "kaspersky-kesl"), 2);
    ck_assert_uint_eq(events_of(tl, "kaspersky.linux.init-enabled", NULL), 2);
    ck_assert_uint_eq(events_for(tl, "kaspersky.linux.systemd-unit", "kaspersky-kesl"), 1);
    ck_assert_uint_eq(events_for(tl, "kaspersky.linux.log", "kaspersky-kesl"), 2);
    /* C13: etc/opt/kaspersky's entries name their products */
    ck_assert_uint_eq(events_for(tl, "kaspersky.linux.config-folder", "kaspersky-kesl"), 1);
    ck_assert_uint_eq(events_for(tl, "kaspersky.linux.config-folder", "kaspersky-klnagent"), 1);
    ck_assert_uint_eq(events_of(tl, "kaspersky.linux.config-folder", NULL), 2);
    kt_scan_release(&s);
    remove_tree(root);
}
END_TEST

START_TEST(legacy_linux_products_kes4lwks_and_kav4proxy_are_their_own)
{
    /* real-world-kaspersky.md L11: KES 8 for Linux Workstations and
     * Anti-Virus for Linux Proxy Server, each a product of its own (their
     * bases are no KESL signature updates). */
    char root[] = "/tmp/kt-scan-legacy-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(root));
    put_file(root, "etc/os-release", "NAME=\"CentOS Linux\"\nPRETTY_NAME=\"CentOS Linux 6\"\n");
    put_file(root, "opt/kaspersky/kes4lwks/bin/kes4lwks-control", "stand-in\n");
    put_file(root, "var/opt/kaspersky/kes4lwks/db/state", "stand-in\n");
    put_file(root, "opt/kaspersky/kav4proxy/sbin/kav4proxy-kavicapserver", "stand-in\n");
    put_file_at(root, "var/opt/kaspersky/kav4proxy/bases/av-i386-0607g.xml", "stand-in\n",
                "2019-05-14T03:10:00Z");
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, root, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    const kt_system_finding *f = &s.systems[0].findings;
    ck_assert_uint_eq(f->nproducts, 2);
    const kt_product_finding *ws = find_product(f, "kaspersky-kes4lwks");
    const kt_product_finding *px = find_product(f, "kaspersky-kav4proxy");
    ck_assert_ptr_nonnull(ws);
    ck_assert_ptr_nonnull(px);
    ck_assert_str_eq(kt_status_name(ws->status), "residue");
    ck_assert_int_eq(px->last_signature_update, truth_time("2019-05-14T03:10:00Z"));
    ck_assert_uint_eq(events_for(&s.tl, "kaspersky.linux.program-folder", "kaspersky-kes4lwks"), 1);
    ck_assert_uint_eq(events_for(&s.tl, "kaspersky.linux.program-folder", "kaspersky-kav4proxy"),
                      1);
    kt_scan_release(&s);
    remove_tree(root);
}
END_TEST

START_TEST(agent_only_linux_is_no_kesl)
{
    /* Only the Network Agent (klnagent64-astra) and its configuration
     * folder etc/opt/kaspersky/klnagent (real-world-kaspersky.md C13): no
     * anti-virus is reported. */
    char root[] = "/tmp/kt-scan-agent-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(root));
    put_file(root, "etc/os-release", "NAME=\"Astra Linux\"\nPRETTY_NAME=\"Astra Linux\"\n");
    put_file(root, "var/lib/dpkg/status",
             "Package: klnagent64-astra\nStatus: install ok installed\nArchitecture: amd64\n"
             "Version: 11.0.0-29\n\n");
    put_file(root, "var/log/dpkg.log",
             "2021-03-02 09:58:01 install klnagent64-astra:amd64 <none> 11.0.0-29\n");
    put_file(root, "opt/kaspersky/klnagent64/sbin/klnagent", "stand-in\n");
    put_file(root, "etc/opt/kaspersky/klnagent/klnagent.conf", "stand-in\n");
    put_file(root, "var/opt/kaspersky/klnagent/1103/hostid.dat", "stand-in\n");
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, root, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    const kt_system_finding *f = &s.systems[0].findings;
    ck_assert_uint_eq(f->nproducts, 1);
    ck_assert_str_eq(f->products[0].id, "kaspersky-klnagent");
    ck_assert_str_eq(kt_status_name(f->products[0].status), "present");
    ck_assert_uint_eq(events_for(&s.tl, "kaspersky.linux.config-folder", "kaspersky-klnagent"), 1);
    kt_scan_release(&s);
    remove_tree(root);
}
END_TEST

START_TEST(rotated_zypper_histories_compressed_with_xz_and_gzip_are_read)
{
    /* logrotate on openSUSE compresses zypper's history with xz; gzip
     * too where configured so. The same history in each form gives the
     * same install, each file's line its own event. */
    char root[] = "/tmp/kt-scan-zypp-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(root));
    put_file(root, "etc/os-release",
             "NAME=\"openSUSE Leap\"\nPRETTY_NAME=\"openSUSE Leap 15.5\"\n");
    char *plain = path_join(testdata_dir(), "linux/packages/zypp-history");
    char *xz = path_join(testdata_dir(), "linux/packages/zypp-history.multi.xz");
    char *trunc = path_join(testdata_dir(), "linux/packages/zypp-history.truncated.xz");
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s/var/log/zypp' && cp '%s' '%s/var/log/zypp/history-20241001.xz' && "
             "gzip -n -c '%s' > '%s/var/log/zypp/history-20240901.gz' && "
             "cp '%s' '%s/var/log/zypp/history-20240801.xz'",
             root, xz, root, plain, root, trunc, root);
    ck_assert_int_eq(system(cmd), 0);
    free(plain), free(xz), free(trunc);
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, root, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    size_t from_xz = 0, from_gz = 0, from_cut = 0;
    for (size_t i = 0; i < s.tl.count; i++) {
        const kt_event *e = &s.tl.items[i];
        if (strcmp(e->artifact->id, "kaspersky.linux.zypp-history") != 0)
            continue;
        from_xz += strcmp(e->path, "var/log/zypp/history-20241001.xz") == 0;
        from_gz += strcmp(e->path, "var/log/zypp/history-20240901.gz") == 0;
        from_cut += strcmp(e->path, "var/log/zypp/history-20240801.xz") == 0;
    }
    /* the fixture's kesl lines: install, upgrade, reinstall, downgrade,
     * remove, install, and kesl-gui's remove */
    ck_assert_uint_eq(from_xz, 7);
    ck_assert_uint_eq(from_gz, 7);
    /* the truncated one: its first lines (the install), and a warning */
    ck_assert_uint_ge(from_cut, 1);
    ck_assert_uint_lt(from_cut, 7);
    ck_assert(warned(&s, "history-20240801.xz", "xz: truncated after"));
    /* (the fixture's own bad lines are warned about in each form) */
    ck_assert(!warned(&s, "history-20241001.xz", "xz:"));
    ck_assert(warned(&s, "history-20241001.xz", "line 14: not a"));
    kt_scan_release(&s);
    remove_tree(root);
}
END_TEST

START_TEST(macos_install_log_reads_installds_real_lines)
{
    /* installd's real wording (real-world-kaspersky.md M4, C9): the
     * version in bare parentheses, empty when the package has none; the
     * line's own offset names the instant, whatever the system's zone
     * (America/New_York here); a host name can be empty. The quoted form
     * the definitions once wanted was never seen and is no find. */
    char root[] = "/tmp/kt-scan-installlog-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(root));
    mac_tree(root);
    put_file(root, "private/var/log/install.log",
             "2020-12-22 12:02:09+01 MacBook-Pro installd[465]: Installed \"McAfee Agent\" ()\n"
             "2020-12-22 12:03:17+01 MacBook-Pro installd[465]: Installed \"OneDrive\" "
             "(20.169.0823)\n"
             "2020-12-22 12:54:18+01 MacBook-Pro installd[663]: Installed \"Kaspersky Internet "
             "Security\" (21.0.0.464)\n"
             "2020-12-22 13:25:10+01 MacBook-Pro installd[769]: Installed \"Kaspersky Security "
             "Center Network Agent\" ()\n"
             "2020-12-22 13:30:02+01 MacBook-Pro installd[769]: PackageKit: Installed "
             "\"Kaspersky Internet Security\" (\"21.0.0.464\")\n"
             "2021-03-02 09:15:40+05:30  installd[541]: Installed \"Kaspersky Internet "
             "Security\" (21.0.1.212)\n"
             "2021-05-04 10:00:07+02 MacBook-Pro Kaspersky Uninstaller[4821]: Uninstalled "
             "\"Kaspersky Internet Security\" (21.0.1.212)\n");
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, root, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(s.nsystems, 1);
    ck_assert_int_eq(s.systems[0].sys.os, KT_OS_MACOS);
    ck_assert_str_eq(s.systems[0].zone, "America/New_York");
    const kt_timeline *tl = &s.tl;
    ck_assert_uint_eq(events_of(tl, "kaspersky.mac.install-log", NULL), 3);
    /* +01: 12:54:18 is 11:54:18Z (New York would say 17:54:18Z) */
    const kt_event *e = event_of(tl, "kaspersky.mac.install-log", "2020-12-22T11:54:18Z");
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e->version, "21.0.0.464");
    ck_assert_str_eq(e->product_id, "kaspersky-mac");
    ck_assert_msg(strstr(e->time_source, "with its UTC offset"), "%s", e->time_source);
    ck_assert_ptr_null(e->zone);
    /* (): no version; the agent's line is the agent's */
    e = event_of(tl, "kaspersky.mac.install-log", "2020-12-22T12:25:10Z");
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_null(e->version);
    ck_assert_str_eq(e->product_id, "kaspersky-klnagent");
    /* +05:30 and no host name */
    e = event_of(tl, "kaspersky.mac.install-log", "2021-03-02T03:45:40Z");
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e->version, "21.0.1.212");
    e = event_of(tl, "kaspersky.mac.install-log-uninstall", "2021-05-04T08:00:07Z");
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e->version, "21.0.1.212");
    ck_assert_uint_eq(events_of(tl, "kaspersky.mac.install-log-uninstall", NULL), 1);
    const kt_product_finding *p = find_product(&s.systems[0].findings, "kaspersky-mac");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->installed, truth_time("2020-12-22T11:54:18Z"));
    ck_assert_str_eq(p->version, "21.0.1.212");
    ck_assert_int_eq(p->removed, truth_time("2021-05-04T08:00:07Z"));
    kt_scan_release(&s);
    remove_tree(root);
}
END_TEST

START_TEST(macos_network_agent_alone_is_not_kaspersky_for_mac)
{
    /* A Mac with only the Network Agent (real-world-kaspersky.md C13, M2):
     * its package id com.kaspersky.klnagent.core in InstallHistory.plist
     * and the receipts, its old-style receipt, install.log line, folder,
     * daemon and trace log are the agent's. Kaspersky for Mac is not
     * reported; the installer's klinstalltype, which names no product,
     * has no product to join. */
    char root[] = "/tmp/kt-scan-klnagent-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(root));
    mac_tree(root);
    kt_buf h = {0};
    history_entry(&h, "2024-01-15T14:02:31Z", "macOS 14.2.1", "14.2.1", "com.apple.pkg.macOS");
    history_entry(&h, "2024-02-06T19:05:40Z", "Kaspersky Security Center Network Agent",
                  "14.2.0.26", "com.kaspersky.klnagent.core");
    put_history(root, &h);
    kt_buf_release(&h);
    put_file(root, "private/var/db/receipts/com.kaspersky.klnagent.core.plist",
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n"
             "\t<key>InstallDate</key>\n\t<date>2024-02-06T19:05:40Z</date>\n"
             "\t<key>PackageIdentifier</key>\n\t<string>com.kaspersky.klnagent.core</string>\n"
             "\t<key>PackageVersion</key>\n\t<string>14.2.0.26</string>\n</dict>\n</plist>\n");
    put_file_at(root, "Library/Receipts/Kaspersky Network Agent.pkg/Contents/Info.plist",
                "<plist version=\"1.0\"><dict><key>CFBundleIdentifier</key>"
                "<string>com.kaspersky.klnagent</string></dict></plist>\n",
                "2012-05-10T08:00:00Z");
    put_file(root, "private/var/log/install.log",
             "2024-02-06 14:05:40-05 ACME-MBP installd[611]: Installed \"Kaspersky Security "
             "Center Network Agent\" (14.2.0.26)\n");
    put_file_at(root, "Library/Application Support/Kaspersky Lab/klnagent/Binaries/klnagchk",
                "stand-in\n", "2024-02-06T19:05:37Z");
    put_file_at(root, "Library/LaunchDaemons/com.kaspersky.klnagent.plist", "<plist/>\n",
                "2024-02-06T19:05:39Z");
    put_file_at(root, "Library/Logs/klnagent_trace.log", "stand-in\n", "2024-11-18T09:12:00Z");
    put_file_at(root, "private/tmp/klinstalltype", "stand-in\n", "2024-11-18T09:10:00Z");
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, root, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(s.nsystems, 1);
    const kt_system_finding *f = &s.systems[0].findings;
    const kt_timeline *tl = &s.tl;
    ck_assert_ptr_null(find_product(f, "kaspersky-mac"));
    for (size_t i = 0; i < tl->count; i++)
        ck_assert_msg(!tl->items[i].product_id ||
                          strcmp(tl->items[i].product_id, "kaspersky-mac") != 0,
                      "%s: %s", tl->items[i].artifact->id, tl->items[i].description);
    const char *agent = "kaspersky-klnagent";
    ck_assert_uint_eq(events_for(tl, "kaspersky.mac.install-history", agent), 1);
    ck_assert_uint_eq(events_for(tl, "kaspersky.mac.receipt", agent), 1);
    ck_assert_uint_ge(events_for(tl, "kaspersky.mac.receipt-legacy", agent), 1);
    ck_assert_uint_eq(events_for(tl, "kaspersky.mac.install-log", agent), 1);
    ck_assert_uint_ge(events_for(tl, "kaspersky.mac.support-folder", agent), 1);
    ck_assert_uint_eq(events_for(tl, "kaspersky.mac.binaries-config", agent), 1);
    ck_assert_uint_ge(events_for(tl, "kaspersky.mac.launchd", agent), 1);
    ck_assert_uint_eq(events_for(tl, "kaspersky.mac.klnagent-log", agent), 1);
    /* the agent's old receipt holds no com.kaspersky.kav id */
    ck_assert_uint_eq(events_of(tl, "kaspersky.mac.receipt-legacy-id", NULL), 0);
    ck_assert_uint_ge(events_for(tl, "kaspersky.mac.tmp-install-type", NULL), 1);
    const kt_product_finding *p = find_product(f, agent);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->name, "Kaspersky Security Center Network Agent");
    ck_assert_str_eq(p->version, "14.2.0.26");
    ck_assert_int_eq(p->installed, truth_time("2024-02-06T19:05:40Z"));
    ck_assert_int_eq(p->last_execution, truth_time("2024-11-18T09:12:00Z"));
    ck_assert_str_eq(kt_status_name(p->status), "present");
    kt_scan_release(&s);
    remove_tree(root);
}
END_TEST

START_TEST(macos_vendor_uninstall_leaves_install_history_and_residue)
{
    /* Kaspersky's uninstaller forgets the com.kaspersky.kav.* receipts and
     * deletes the program (real-world-kaspersky.md M6): InstallHistory.plist
     * alone still shows the install. Then what the uninstall script leaves
     * or a user's account keeps: per-user caches and preferences, legacy
     * Safari extensions and their storage, old-style receipts, kernel and
     * system extensions. */
    char root[] = "/tmp/kt-scan-macresidue-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(root));
    mac_tree(root);
    kt_buf h = {0};
    history_entry(&h, "2021-01-10T10:00:00Z", "Kaspersky Internet Security", "21.0.0.464",
                  "com.kaspersky.kav.core");
    history_entry(&h, "2021-02-01T09:30:00Z", "Microsoft Word", "16.45", "com.microsoft.word");
    put_history(root, &h);
    kt_buf_release(&h);
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, root, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    const kt_system_finding *f = &s.systems[0].findings;
    const kt_product_finding *p = find_product(f, "kaspersky-mac");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(f->nproducts, 1);
    ck_assert_int_eq(p->installed, truth_time("2021-01-10T10:00:00Z"));
    ck_assert_str_eq(p->version, "21.0.0.464");
    ck_assert_str_eq(kt_status_name(p->status), "removed");
    ck_assert_int_eq(f->verdicts[KT_V_EVER_INSTALLED], KT_TRUE);
    ck_assert_int_eq(f->verdicts[KT_V_PRESENT_AT_ACQUISITION], KT_FALSE);
    kt_scan_release(&s);

    struct {
        const char *path, *artifact;
    } left[] = {
        {"Users/anna/Library/Caches/com.kaspersky.kav_agent/Cache.db", NULL},
        {"Users/anna/Library/Preferences/com.kaspersky.kav2012.plist",
         "kaspersky.mac.user-preferences"},
        {"Library/Caches/com.kaspersky.kav/state", NULL},
        {"Users/anna/Library/Safari/Extensions/KasperskyURLAdvisor.safariextz",
         "kaspersky.mac.safari-extension"},
        {"Users/anna/Library/Safari/LocalStorage/"
         "safari-extension_com.kaspersky.urla-2y8xe5cq94_0.localstorage",
         "kaspersky.mac.safari-extension-data"},
        {"Library/Receipts/Kaspersky Anti-Virus.pkg/Contents/Archive.bom", NULL},
        {"System/Library/Extensions/klif.kext/Contents/Info.plist", NULL},
        {"Library/Application Support/Kaspersky Lab/klif/klif.kext/Contents/Info.plist", NULL},
        {"Library/SystemExtensions/6C9F3F2B-4E7A-4D59-9C1E-2F4B8A0D7E11/"
         "com.kaspersky.kav.sysext.systemextension/Contents/Info.plist",
         NULL},
        /* not Kaspersky's: a forum's preferences */
        {"Users/anna/Library/Preferences/com.kasperskyfans.forum.plist", NULL},
    };
    for (size_t i = 0; i < sizeof left / sizeof left[0]; i++)
        put_file_at(root, left[i].path, "stand-in\n", "2021-04-20T12:00:00Z");
    /* old receipts with generic names: Kaspersky's Core.pkg names its
     * package inside, another vendor's oas.pkg does not */
    put_file_at(root, "Library/Receipts/Core.pkg/Contents/Info.plist",
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n"
                "\t<key>CFBundleIdentifier</key>\n\t<string>com.kaspersky.kav.core</string>\n"
                "</dict>\n</plist>\n",
                "2009-06-02T11:00:00Z");
    put_file_at(root, "Library/Receipts/oas.pkg/Contents/Info.plist",
                "<plist version=\"1.0\"><dict><key>CFBundleIdentifier</key>"
                "<string>com.example.oas</string></dict></plist>\n",
                "2009-06-02T11:00:00Z");
    ck_assert_msg(kt_scan_run(&defs, root, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    const kt_timeline *tl = &s.tl;
    for (size_t i = 0; i < sizeof left / sizeof left[0]; i++)
        if (left[i].artifact)
            ck_assert_msg(event_of(tl, left[i].artifact, "2021-04-20T12:00:00Z"), "no %s",
                          left[i].artifact);
    const char *kav = "kaspersky-mac";
    ck_assert_uint_ge(events_for(tl, "kaspersky.mac.user-caches", kav), 1);
    ck_assert_uint_ge(events_for(tl, "kaspersky.mac.caches", kav), 1);
    ck_assert_uint_ge(events_for(tl, "kaspersky.mac.receipt-legacy", kav), 1);
    ck_assert_uint_ge(events_for(tl, "kaspersky.mac.kext", kav), 2);
    ck_assert_uint_ge(events_for(tl, "kaspersky.mac.sysext", kav), 1);
    ck_assert_ptr_nonnull(event_of(tl, "kaspersky.mac.receipt-legacy-id", "2009-06-02T11:00:00Z"));
    ck_assert_uint_eq(events_of(tl, "kaspersky.mac.receipt-legacy-id",
                                "Library/Receipts/oas.pkg/Contents/Info.plist"),
                      0);
    ck_assert_uint_eq(events_of(tl, "kaspersky.mac.user-preferences", NULL), 1);
    f = &s.systems[0].findings;
    ck_assert_uint_eq(f->nproducts, 1);
    p = find_product(f, kav);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->installed, truth_time("2021-01-10T10:00:00Z"));
    ck_assert_str_eq(kt_status_name(p->status), "residue");
    ck_assert_int_eq(f->verdicts[KT_V_PRESENT_AT_ACQUISITION], KT_FALSE);
    kt_scan_release(&s);
    remove_tree(root);
}
END_TEST

/* The event of `artifact` at `when`, converted by the table of `release`. */
static const kt_event *table_event(const kt_scan *s, const char *when, const char *release)
{
    const kt_event *e = event_of(&s->tl, "kaspersky.linux.dpkg-log", when);
    ck_assert_msg(e != NULL, "no dpkg.log event at %s", when);
    char want[128];
    snprintf(want, sizeof want, "kavtrace's table from tzdata %s", release);
    ck_assert_msg(strstr(e->time_source, want), "time source: %s", e->time_source);
    return e;
}

static bool warned(const kt_scan *s, const char *a, const char *b)
{
    for (size_t w = 0; w < s->warnings.count; w++)
        if (strstr(wtext(&s->warnings.items[w]), a) &&
            (!b || strstr(wtext(&s->warnings.items[w]), b)))
            return true;
    return false;
}

START_TEST(zone_table_converts_with_the_zone_history)
{
    /* Winnipeg keeps -05 all year from 2026-11-01: 10:00:01 is 15:00:01Z
     * both in July 2025 (CDT) and in November 2026. The second is past the
     * table's tzdata release: the time source and the log say so. */
    kt_tzif_builtin_info tzdb;
    kt_tzif_builtin_about(&tzdb);
    char root[] = "/tmp/kt-scan-winnipeg-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(root));
    kt_scan s = {0};
    scan_zone_tree("America/Winnipeg",
                   "2025-07-01 10:00:01 install kesl:amd64 <none> 12.1.0-1297\n"
                   "2026-11-15 10:00:01 upgrade kesl:amd64 12.1.0-1297 12.2.0-2412\n",
                   &s, root);
    const kt_event *e = table_event(&s, "2025-07-01T15:00:01Z", tzdb.release);
    ck_assert_ptr_null(strstr(e->time_source, "after that release"));
    ck_assert_str_eq(e->zone, "America/Winnipeg");
    e = table_event(&s, "2026-11-15T15:00:01Z", tzdb.release);
    ck_assert_msg(strstr(e->time_source, "after that release"), "%s", e->time_source);
    char table[128];
    snprintf(table, sizeof table, "kavtrace's table from tzdata %s", tzdb.release);
    ck_assert(warned(&s, table, "for America/Winnipeg"));
    ck_assert(warned(&s, "1 local time later than tzdata", tzdb.release));
    kt_scan_release(&s);
    remove_tree(root);

    /* Mexico City kept daylight time until October 2022 (the old table's
     * one current rule said -06 for it). */
    char root2[] = "/tmp/kt-scan-mexico-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(root2));
    memset(&s, 0, sizeof s);
    scan_zone_tree("America/Mexico_City",
                   "2021-07-01 10:00:00 install kesl:amd64 <none> 11.2.0-4528\n"
                   "2023-07-01 10:00:00 upgrade kesl:amd64 11.2.0-4528 12.0.0-6672\n"
                   "1969-07-01 10:00:00 install kesl:amd64 <none> 1.0-1\n",
                   &s, root2);
    table_event(&s, "2021-07-01T15:00:00Z", tzdb.release);
    table_event(&s, "2023-07-01T16:00:00Z", tzdb.release);
    ck_assert(!warned(&s, "later than tzdata", NULL));
    /* Before the table's start (1970) the zone's offset is assumed, and
     * said to be. */
    e = table_event(&s, "1969-07-01T16:00:00Z", tzdb.release);
    ck_assert_msg(strstr(e->time_source, "before the table's start"), "%s", e->time_source);
    ck_assert(warned(&s, "1 local time before the start of kavtrace's table", NULL));
    kt_scan_release(&s);
    remove_tree(root2);
}
END_TEST

START_TEST(rhel_rpm_database_and_yum_log_date_install_and_upgrade)
{
    /* A RHEL 8 tree: kesl installed by yum in March 2024 (EST) and updated
     * in October (EDT); the rpm database holds the updated version with the
     * update's INSTALLTIME. yum.log has no year: its modified time gives it. */
    char root[] = "/tmp/kt-scan-rhel-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(root));
    put_file(root, "etc/redhat-release", "Red Hat Enterprise Linux release 8.9 (Ootpa)\n");
    put_file(root, "etc/hostname", "db-01\n");
    char link[1024];
    snprintf(link, sizeof link, "%s/etc/localtime", root);
    ck_assert_int_eq(symlink("../usr/share/zoneinfo/America/New_York", link), 0);
    put_file(root, "var/log/yum.log",
             "Mar 04 10:00:00 Installed: kesl-11.4.0-7146.x86_64\n"
             "Oct 15 09:41:05 Updated: kesl-11.4.0-8000.x86_64\n");
    char path[1100], cmd[2300];
    snprintf(cmd, sizeof cmd, "touch -d 2024-11-01T00:00:00Z '%s/var/log/yum.log'", root);
    ck_assert_int_eq(system(cmd), 0);
    put_file(root, "rpm.tsv",
             "bash\t-\t5.1.8\t6.el9\tx86_64\t1680000000\t0\n"
             "kesl\t-\t11.4.0\t8000\tx86_64\t1728999665\t0\n");
    put_file(root, "var/lib/rpm/.keep", "");
    snprintf(cmd, sizeof cmd, "'%s' sqlite '%s/rpm.tsv' '%s/var/lib/rpm/rpmdb.sqlite'",
             getenv("KT_MKRPMDB"), root, root);
    ck_assert_int_eq(system(cmd), 0);
    put_file(root, "opt/kaspersky/kesl/bin/kesl-control", "#!/bin/sh\n");
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, root, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(s.nsystems, 1);
    ck_assert_int_eq(s.systems[0].sys.os, KT_OS_LINUX);
    const kt_system_finding *f = &s.systems[0].findings;
    const kt_product_finding *p = find_product(f, "kaspersky-kesl");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(kt_status_name(p->status),
                     "present"); /* the rpm entry and the program folder */
    ck_assert_str_eq(p->version, "11.4.0-8000");
    ck_assert_int_eq(p->installed, truth_time("2024-03-04T15:00:00Z"));            /* EST */
    ck_assert_int_eq(p->last_codebase_update, truth_time("2024-10-15T13:41:05Z")); /* EDT */
    const kt_event *rpm = event_of(&s.tl, "kaspersky.linux.rpmdb", "2024-10-15T13:41:05Z");
    ck_assert_ptr_nonnull(rpm); /* INSTALLTIME 1728999665, UTC */
    ck_assert_str_eq(rpm->version, "11.4.0-8000");
    ck_assert_int_eq(f->verdicts[KT_V_INSTALLED_AFTER_SALES_BAN], KT_FALSE);
    ck_assert_int_eq(f->verdicts[KT_V_CODEBASE_UPDATE_AFTER_CUTOFF], KT_TRUE);
    kt_scan_release(&s);
    snprintf(path, sizeof path, "rm -rf '%s'", root);
    ck_assert_int_eq(system(path), 0);
}
END_TEST

START_TEST(event_logs_give_exact_msi_service_and_detection_events)
{
    /* The specs in testdata/windows/evtx are the ground truth of this tree. */
    char *path = path_join(evidence_dir(), "evtx-tree");
    kt_scan s = {0};
    kt_error err = {0};
    ck_assert_msg(kt_scan_run(&defs, path, &s, NULL, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(s.warnings.count, 0);
    struct {
        const char *artifact, *when;
        kt_category category;
    } want[] = {
        {"kaspersky.win.evtx-service-installed", "2022-03-16T14:29:58.0000001Z", KT_CAT_INSTALL},
        {"kaspersky.win.evtx-service-installed", "2022-03-16T14:29:59.5Z", KT_CAT_INSTALL},
        {"kaspersky.win.evtx-msi-installed", "2022-03-16T14:30:00.1234567Z", KT_CAT_INSTALL},
        {"kaspersky.win.evtx-msi-install-status", "2022-03-16T14:30:00.1234567Z", KT_CAT_INSTALL},
        {"kaspersky.win.evtx-security-center", "2022-03-16T14:31:12.5Z", KT_CAT_CONFIG},
        {"kaspersky.win.evtx-kes-detection", "2023-11-02T09:15:27.25Z", KT_CAT_DETECTION},
        /* "Database release date:  11/1/2023 8:40:00 PM", EDT */
        {"kaspersky.win.evtx-kes-bases-date", "2023-11-02T00:40:00Z", KT_CAT_SIGNATURE_UPDATE},
        {"kaspersky.win.evtx-kes-detection", "2024-07-05T14:02:11.5Z", KT_CAT_DETECTION},
        /* "Database release date:  7/5/2024 7:30:00 AM", EDT */
        {"kaspersky.win.evtx-kes-bases-date", "2024-07-05T11:30:00Z", KT_CAT_SIGNATURE_UPDATE},
        {"kaspersky.win.evtx-kes-ksn-verdict", "2024-07-05T14:02:11.5Z", KT_CAT_KSN},
        {"kaspersky.win.evtx-msi-removed", "2024-08-01T10:00:00.7654321Z", KT_CAT_REMOVAL},
        {"kaspersky.win.evtx-msi-remove-status", "2024-08-01T10:00:00.7654321Z", KT_CAT_REMOVAL},
        /* testdata/windows/hives/Amcache-kes.spec: key LastWrite times */
        {"kaspersky.win.amcache-application", "2022-03-16T14:35:10.1000001Z", KT_CAT_PRESENCE},
        {"kaspersky.win.amcache-file", "2022-03-16T14:36:02.9876543Z", KT_CAT_EXECUTION},
    };
    /* Exactly these: Notepad++'s MSI event and Amcache entry and ESET's service
     * are not Kaspersky. */
    ck_assert_uint_eq(s.tl.count, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const kt_event *e = event_of(&s.tl, want[i].artifact, want[i].when);
        ck_assert_msg(e != NULL, "no %s at %s", want[i].artifact, want[i].when);
        ck_assert_int_eq(e->category, want[i].category);
        if (e->path)
            ck_assert_ptr_nonnull(strstr(e->path, "winevt/Logs/"));
        else
            ck_assert_str_eq(e->hive, "Amcache.hve");
    }
    const kt_event *v =
        event_of(&s.tl, "kaspersky.win.evtx-msi-install-status", "2022-03-16T14:30:00.1234567Z");
    ck_assert_str_eq(v->version, "11.11.0.452");
    ck_assert_str_eq(v->product_id, "kaspersky-kes");
    /* The MSI removal's own time is the removal time. */
    const kt_system_finding *f = &s.systems[0].findings;
    ck_assert_uint_eq(f->nproducts, 1);
    const kt_product_finding *p = &f->products[0];
    ck_assert_str_eq(p->id, "kaspersky-kes");
    ck_assert_str_eq(kt_status_name(p->status), "removed");
    /* The installer's record beats the service install two seconds before;
     * the newest bases date and the KSN verdict come from the KES log. */
    ck_assert_int_eq(p->installed, truth_time("2022-03-16T14:30:00.1234567Z"));
    ck_assert_int_eq(p->first_seen, truth_time("2022-03-16T14:29:58.0000001Z"));
    ck_assert_int_eq(p->removed, truth_time("2024-08-01T10:00:00.7654321Z"));
    ck_assert_str_eq(kt_removal_name(p->removal_method), "msi");
    ck_assert_int_eq(p->last_signature_update, truth_time("2024-07-05T11:30:00Z"));
    ck_assert_str_eq(kt_ksn_name(p->ksn), "enabled");
    ck_assert_int_eq(p->last_ksn_evidence, truth_time("2024-07-05T14:02:11.5Z"));
    ck_assert_int_eq(p->last_execution, truth_time("2024-07-05T14:02:11.5Z"));
    ck_assert_int_eq(f->verdicts[KT_V_KSN_AFTER_CUTOFF], KT_FALSE);
    ck_assert_int_eq(f->verdicts[KT_V_SIGNATURE_UPDATE_AFTER_CUTOFF], KT_FALSE);
    ck_assert_str_eq(p->version, "11.11.0.452");
    ck_assert_int_eq(f->verdicts[KT_V_REMOVED_BEFORE_CUTOFF], KT_TRUE);
    ck_assert_int_eq(f->verdicts[KT_V_INSTALLED_AFTER_SALES_BAN], KT_FALSE);
    kt_scan_release(&s);
    free(path);
}
END_TEST

START_TEST(event_log_reader_reports_junk_and_selects_chunks)
{
    kt_evtx_stats st = {0};
    kt_strlist w = {0};
    kt_error err = {0};
    ck_assert_int_eq(kt_evtx_walk((const uint8_t *)"not a log", 9, NULL, NULL, NULL, &st, &w, &err),
                     KT_EFORMAT);
    /* A 21-chunk log with MSI records in two chunks: only those are parsed. */
    char *path =
        path_join(evidence_dir(), "evtx-tree/Windows/System32/winevt/Logs/Application.evtx");
    kt_buf b = {0};
    file_load(path, &b);
    kt_strlist prov = {0};
    kt_strlist_add(&prov, "MsiInstaller");
    size_t msi = 0;
    ck_assert_int_eq(kt_evtx_walk(b.data, b.len, &prov, count_msi, &msi, &st, &w, &err), 0);
    ck_assert_uint_eq(st.chunks, 21);
    ck_assert_uint_eq(st.chunks_parsed, 2);
    ck_assert_uint_eq(msi, 5);
    /* A flipped chunk signature is a warning; the rest is still read. */
    b.data[4096 + 65536 * 10] ^= 0xff;
    kt_evtx_stats st2 = {0};
    ck_assert_int_eq(kt_evtx_walk(b.data, b.len, NULL, count_msi, &msi, &st2, &w, &err), 0);
    ck_assert_uint_eq(st2.chunks_parsed, 20);
    bool warned = false;
    for (size_t i = 0; i < w.count; i++)
        warned = warned || strstr(w.items[i], "chunk 10: bad signature") != NULL;
    ck_assert(warned);
    kt_strlist_release(&prov);
    kt_strlist_release(&w);
    kt_buf_release(&b);
    free(path);
}
END_TEST

START_TEST(csv_cells_are_quoted_and_formula_safe)
{
    struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"=cmd|' /C calc'!A0", "\"'=cmd|' /C calc'!A0\""},
        {"+1", "\"'+1\""},
        {"-2", "\"'-2\""},
        {"@SUM(A1)", "\"'@SUM(A1)\""},
        {"two\nlines", "\"two\nlines\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kt_buf b = {0};
        ck_assert_int_eq(kt_csv_cell(&b, cases[i].in), 0);
        ck_assert_str_eq((char *)b.data, cases[i].out);
        kt_buf_release(&b);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("scan");
    TCase *tc = tcase_create("core");
    tcase_add_unchecked_fixture(tc, load_defs, unload_defs);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, scenarios_in_split_e01);
    tcase_add_test(tc, deep_reads_every_pe_under_the_program_folders);
    tcase_add_test(tc, an_integration_without_an_owner_says_why);
    tcase_add_test(tc, scenarios_in_vhd);
    tcase_add_test(tc, scenarios_in_vmdk);
    tcase_add_test(tc, scenarios_in_qcow2);
    tcase_add_test(tc, luks1_volumes_give_the_findings_of_the_same_systems_in_raw_images);
    tcase_add_test(tc,
                   a_512_bit_xts_luks1_volume_gives_the_findings_of_the_same_system_in_a_raw_image);
    tcase_add_test(tc, a_volume_no_key_unlocks_leaves_the_verdicts_open_and_the_rest_scanned);
    tcase_add_test(tc, bitlocker_volumes_give_the_findings_of_the_same_systems_in_raw_images);
    tcase_add_test(tc, a_wrong_recovery_password_leaves_the_verdicts_open_and_the_rest_scanned);
    tcase_add_test(tc, an_xfs_root_in_lvm2_gives_the_findings_of_the_same_tree_on_ext4);
    tcase_add_test(tc, scenarios_in_raw);
    tcase_add_test(tc, registry_history_says_which_state);
    tcase_add_test(tc, a_value_without_its_key_is_listed_never_counted);
    tcase_add_test(tc, user_and_amcache_hives_replay_their_logs);
    tcase_add_test(tc, hive_copies_and_their_free_cells_are_older_states);
    tcase_add_test(tc, a_lost_software_hive_leaves_every_other_source_and_says_so);
    tcase_add_test(tc, a_filesystem_that_fails_or_is_not_recognised_is_a_warning);
    tcase_add_test(tc, corpus_images_give_no_kaspersky_finding);
    tcase_add_test(tc, corpus_hives_and_event_logs_give_no_finding_and_corrupt_ones_warn);
    tcase_add_test(tc, corpus_amcache_hives_are_read_and_give_no_finding);
    tcase_add_test(tc, corpus_package_logs_and_plist_parse_cleanly_and_give_no_finding);
    tcase_add_test(tc, linux_zone_named_but_missing_uses_the_built_in_rule);
    tcase_add_test(tc, zone_table_converts_with_the_zone_history);
    tcase_add_test(tc, linux_answer_files_histories_and_kav4fs_with_the_shipped_definitions);
    tcase_add_test(
        tc, astra_packages_saved_outputs_exports_and_old_services_with_the_shipped_definitions);
    tcase_add_test(tc, agent_only_linux_is_no_kesl);
    tcase_add_test(tc, legacy_linux_products_kes4lwks_and_kav4proxy_are_their_own);
    tcase_add_test(tc, rotated_zypper_histories_compressed_with_xz_and_gzip_are_read);
    tcase_add_test(tc, macos_install_log_reads_installds_real_lines);
    tcase_add_test(tc, macos_network_agent_alone_is_not_kaspersky_for_mac);
    tcase_add_test(tc, macos_vendor_uninstall_leaves_install_history_and_residue);
    tcase_add_test(tc, rhel_rpm_database_and_yum_log_date_install_and_upgrade);
    tcase_add_test(tc, event_logs_give_exact_msi_service_and_detection_events);
    tcase_add_test(tc, event_log_reader_reports_junk_and_selects_chunks);
    tcase_add_test(tc, csv_cells_are_quoted_and_formula_safe);
    suite_add_tcase(s, tc);
    return s;
}

KT_TEST_MAIN(suite)
