#include <stdio.h>
#include <string.h>

#include "kavtrace/json.h"
#include "kavtrace/provenance.h"
#include "kavtrace/text.h"
#include "kavtrace/writers.h"

#ifndef KT_VERSION
#define KT_VERSION "0"
#endif

static void ids(kt_json *j, const char *key, const kt_strlist *l)
{
    kt_json_begin_array(j, key);
    for (size_t i = 0; i < l->count; i++)
        kt_json_string(j, NULL, l->items[i]);
    kt_json_end_array(j);
}

static void tri(kt_json *j, const char *key, kt_tri v)
{
    if (v == KT_NULL)
        kt_json_null(j, key);
    else
        kt_json_bool(j, key, v == KT_TRUE);
}

static void product(kt_json *j, const kt_product_finding *p)
{
    kt_json_begin_object(j, NULL);
    kt_json_string(j, "id", p->id);
    kt_json_string(j, "vendor", p->vendor);
    kt_json_string(j, "name", p->name);
    /* Kaspersky's products: covered by the Final Determination (the
     * verdicts' subjects) or exempt (listed only); null for other vendors. */
    kt_json_string(j, "coverage", !p->subject ? NULL : p->exempt ? "exempt" : "covered");
    kt_json_string(j, "exemption", p->exempt ? p->exemption : NULL);
    kt_json_string(j, "version", p->version[0] ? p->version : NULL);
    kt_json_time(j, "first_seen", p->first_seen);
    kt_json_time(j, "installed", p->installed);
    kt_json_time(j, "last_signature_update", p->last_signature_update);
    kt_json_time(j, "last_codebase_update", p->last_codebase_update);
    kt_json_string(j, "ksn", kt_ksn_name(p->ksn));
    kt_json_time(j, "last_ksn_evidence", p->last_ksn_evidence);
    kt_json_time(j, "last_execution", p->last_execution);
    kt_json_string(j, "status", kt_status_name(p->status));
    kt_json_time(j, "removed", p->removed);
    kt_json_string(j, "removal_method", kt_removal_name(p->removal_method));
    ids(j, "evidence_events", &p->ev_all);
    kt_json_begin_object(j, "evidence");
    ids(j, "version", &p->ev_version);
    ids(j, "first_seen", &p->ev_first_seen);
    ids(j, "installed", &p->ev_installed);
    ids(j, "last_signature_update", &p->ev_signature);
    ids(j, "last_codebase_update", &p->ev_codebase);
    ids(j, "last_ksn_evidence", &p->ev_ksn);
    ids(j, "last_execution", &p->ev_execution);
    ids(j, "status", &p->ev_status);
    ids(j, "removed", &p->ev_removed);
    kt_json_end_object(j);
    kt_json_end_object(j);
}

/* The shadow copies of a system's volume: each store, whether its volume
 * was opened and held a system, and the events found in it. null when
 * none were looked for (not NTFS, or KT_INVENTORY_NO_VSS). */
static void shadow_copies(kt_json *j, const kt_scan *s, const kt_volume *vol)
{
    const kt_inventory_volume *iv = NULL;
    for (size_t i = 0; i < s->inv.vols.count && iv == NULL; i++)
        if (s->inv.volumes[i].volume == vol)
            iv = &s->inv.volumes[i];
    bool looked = iv && iv->fs && kt_fs_get_kind(iv->fs) == KT_FS_NTFS &&
                  !(s->inventory_flags & KT_INVENTORY_NO_VSS);
    if (!looked) {
        kt_json_null(j, "shadow_copies");
        return;
    }
    kt_json_begin_array(j, "shadow_copies");
    for (size_t k = 0; k < iv->nstores; k++) {
        const kt_inventory_store *st = &iv->stores[k];
        kt_json_begin_object(j, NULL);
        kt_json_int(j, "store", st->volume.store);
        kt_json_string(j, "identifier", st->info->id[0] ? st->info->id : NULL);
        kt_json_string(j, "copy_identifier", st->info->copy_id[0] ? st->info->copy_id : NULL);
        kt_json_string(j, "copy_set_identifier", st->info->set_id[0] ? st->info->set_id : NULL);
        kt_json_time(j, "created", st->info->created);
        kt_json_bool(j, "scanned", st->sys.os != KT_OS_NONE);
        kt_json_begin_array(j, "events");
        for (size_t e = 0; e < s->tl.count; e++)
            if (s->tl.items[e].volume == vol->index && s->tl.items[e].store == st->volume.store)
                kt_json_string(j, NULL, s->tl.items[e].id);
        kt_json_end_array(j);
        kt_json_end_object(j);
    }
    kt_json_end_array(j);
}

/* The state at one instant; null for what does not apply or is not known. */
static void state_at(kt_json *j, const kt_state_at *st)
{
    kt_json_begin_object(j, NULL);
    kt_json_time(j, "time", st->time);
    kt_json_string(j, "milestone", st->milestone[0] ? st->milestone : NULL);
    kt_json_begin_array(j, "products");
    for (size_t i = 0; i < st->nproducts; i++) {
        const kt_product_state *p = &st->products[i];
        kt_json_begin_object(j, NULL);
        kt_json_string(j, "id", p->id);
        tri(j, "installed", p->installed);
        kt_json_string(j, "version", p->version[0] ? p->version : NULL);
        kt_json_time(j, "last_signature_update", p->last_signature_update);
        kt_json_time(j, "last_codebase_update", p->last_codebase_update);
        kt_json_string(j, "ksn", p->ksn_applies ? kt_ksn_name(p->ksn) : NULL);
        kt_json_begin_object(j, "evidence");
        ids(j, "installed", &p->ev_installed);
        ids(j, "version", &p->ev_version);
        ids(j, "last_signature_update", &p->ev_signature);
        ids(j, "last_codebase_update", &p->ev_codebase);
        ids(j, "ksn", &p->ev_ksn);
        kt_json_end_object(j);
        kt_json_end_object(j);
    }
    kt_json_end_array(j);
    kt_json_end_object(j);
}

void kt_evidence_json(kt_json *j, const kt_scan *s)
{
    const kt_image_info *ii = kt_image_get_info(s->inv.img);
    kt_json_string(j, "path", s->inv.path);
    kt_json_string(j, "format", ii->format_name);
    kt_json_int(j, "size", ii->size);
    /* Each file of the evidence: its size, and its SHA-256 with --hash. */
    kt_json_begin_array(j, "files");
    for (size_t i = 0; i < s->nfiles; i++) {
        kt_json_begin_object(j, NULL);
        kt_json_string(j, "path", s->files[i].path);
        if (s->files[i].size >= 0)
            kt_json_int(j, "size", s->files[i].size);
        else
            kt_json_null(j, "size");
        kt_json_string(j, "sha256", s->files[i].sha256[0] ? s->files[i].sha256 : NULL);
        kt_json_end_object(j);
    }
    kt_json_end_array(j);
    /* Hashes only with --hash: otherwise kavtrace reads only what it needs.
     * The digests are there only when the whole media was read as stored. */
    const kt_media_digest *d = &s->inv.digest;
    kt_json_string(j, "sha256", d->sha256[0] ? d->sha256 : NULL);
    kt_json_string(j, "md5", d->md5[0] ? d->md5 : NULL);
    kt_json_string(j, "sha1", d->sha1[0] ? d->sha1 : NULL);
    kt_json_string(j, "hash_status", kt_hash_status_name(d->status));
    kt_json_string(j, "hash_incomplete", d->incomplete[0] ? d->incomplete : NULL);
    kt_json_string(j, "stored_md5", ii->stored_md5[0] ? ii->stored_md5 : NULL);
    kt_json_string(j, "stored_sha1", ii->stored_sha1[0] ? ii->stored_sha1 : NULL);
    kt_json_string(j, "stored_hash_verification", kt_verification_name(d->verification));
    kt_json_string(j, "stored_hash_verification_note", d->verification_note);
}

/* Kaspersky code inside other products: each host with its components,
 * markers and bases date; the Kaspersky tools third parties ship; the
 * program folders the search covered. */
static void white_label(kt_json *j, const kt_system_finding *f)
{
    kt_json_begin_array(j, "integrations");
    for (size_t i = 0; i < f->nintegrations; i++) {
        const kt_integration *g = &f->integrations[i];
        kt_json_begin_object(j, NULL);
        kt_json_begin_object(j, "host");
        kt_json_string(j, "name", g->host);
        kt_json_string(j, "folder", g->folder[0] ? g->folder : NULL);
        kt_json_end_object(j);
        /* the uninstall entry that owns its files: exactly one, else null
         * and why */
        const kt_host_product *o = g->nowners == 1 ? &g->owners[0] : NULL;
        if (o) {
            kt_json_begin_object(j, "host_product");
            kt_json_string(j, "display_name", o->display_name[0] ? o->display_name : NULL);
            kt_json_string(j, "publisher", o->publisher[0] ? o->publisher : NULL);
            kt_json_string(j, "version", o->version[0] ? o->version : NULL);
            kt_json_time(j, "install_date", o->installed);
            kt_json_time(j, "key_written", o->key_written);
            kt_json_string(j, "hive", o->hive);
            kt_json_string(j, "key", o->key);
            kt_json_string(j, "folder", o->folder);
            ids(j, "evidence", &o->ev);
            kt_json_end_object(j);
        } else {
            kt_json_null(j, "host_product");
        }
        kt_json_string(j, "host_product_reason", o ? NULL : g->host_product_reason);
        ids(j, "components", &g->components);
        ids(j, "markers", &g->markers);
        kt_json_time(j, "first_seen", g->first_seen);
        kt_json_time(j, "last_bases_update", g->last_bases_update);
        kt_json_bool(j, "bases_updated_after_cutoff", g->bases_after_cutoff);
        kt_json_begin_object(j, "evidence");
        ids(j, "all", &g->ev_all);
        ids(j, "first_seen", &g->ev_first_seen);
        ids(j, "last_bases_update", &g->ev_bases);
        kt_json_end_object(j);
        kt_json_end_object(j);
    }
    kt_json_end_array(j);
    kt_json_begin_array(j, "bundled_tools");
    for (size_t i = 0; i < f->ntools; i++) {
        const kt_bundled_tool *t = &f->tools[i];
        kt_json_begin_object(j, NULL);
        kt_json_string(j, "name", t->name);
        kt_json_string(j, "path", t->path);
        kt_json_time(j, "first_seen", t->first_seen);
        ids(j, "evidence_events", &t->ev);
        kt_json_end_object(j);
    }
    kt_json_end_array(j);
    kt_json_bool(j, "whitelabel_searched", f->whitelabel_searched);
}

static int write_json(kt_buf *out, const kt_scan *s, const kt_artifact_set *set)
{
    kt_json j;
    kt_json_init(&j, out);
    kt_json_begin_object(&j, NULL);
    kt_json_string(&j, "kavtrace_version", KT_VERSION);
    kt_json_string(&j, "run_id", s->run_id[0] ? s->run_id : NULL);
    kt_json_begin_object(&j, "evidence");
    kt_evidence_json(&j, s);
    kt_json_end_object(&j);
    kt_json_begin_array(&j, "milestones");
    for (size_t i = 0; i < set->nmilestones; i++) {
        kt_json_begin_object(&j, NULL);
        kt_json_string(&j, "id", set->milestones[i].id);
        if (set->milestones[i].date_only) {
            char buf[KT_TIME_ISO_MAX];
            kt_time_format_iso(set->milestones[i].time, buf);
            buf[10] = '\0';
            kt_json_string(&j, "date", buf);
        } else {
            kt_json_time(&j, "time", set->milestones[i].time);
        }
        kt_json_end_object(&j);
    }
    kt_json_end_array(&j);
    kt_json_begin_array(&j, "systems");
    for (size_t i = 0; i < s->nsystems; i++) {
        const kt_scan_system *ss = &s->systems[i];
        const kt_system_finding *f = &ss->findings;
        kt_json_begin_object(&j, NULL);
        kt_json_begin_object(&j, "volume");
        kt_json_int(&j, "index", ss->volume->index);
        kt_json_int(&j, "offset", ss->volume->offset);
        kt_json_string(&j, "fs", ss->fs);
        kt_json_end_object(&j);
        kt_json_string(&j, "os", kt_os_name(ss->sys.os));
        kt_json_string(&j, "os_name", ss->sys.os_name);
        kt_json_string(&j, "hostname", ss->sys.hostname[0] ? ss->sys.hostname : NULL);
        kt_json_string(&j, "timezone",
                       ss->zone[0]           ? ss->zone
                       : ss->sys.timezone[0] ? ss->sys.timezone
                                             : NULL);
        shadow_copies(&j, s, ss->volume);
        kt_json_begin_array(&j, "products");
        for (size_t p = 0; p < f->nproducts; p++)
            product(&j, &f->products[p]);
        kt_json_end_array(&j);
        if (f->migrated) {
            kt_json_begin_object(&j, "migration");
            kt_json_string(&j, "to", f->migration_to);
            kt_json_time(&j, "time", f->migration_time);
            ids(&j, "evidence_events", &f->migration_ev);
            kt_json_end_object(&j);
        } else {
            kt_json_null(&j, "migration");
        }
        white_label(&j, f);
        kt_json_begin_array(&j, "state_at");
        for (size_t k = 0; k < f->nstates; k++)
            state_at(&j, &f->states[k]);
        kt_json_end_array(&j);
        kt_json_begin_object(&j, "verdicts");
        for (int v = 0; v < KT_V_COUNT; v++)
            tri(&j, kt_verdict_name((kt_verdict)v), f->verdicts[v]);
        kt_json_end_object(&j);
        kt_json_begin_object(&j, "verdict_evidence");
        for (int v = 0; v < KT_V_COUNT; v++)
            ids(&j, kt_verdict_name((kt_verdict)v), &f->verdict_ev[v]);
        kt_json_end_object(&j);
        /* What backs the events behind each verdict; null: no event is. */
        kt_json_begin_object(&j, "verdict_backing");
        for (int v = 0; v < KT_V_COUNT; v++)
            kt_json_string(&j, kt_verdict_name((kt_verdict)v),
                           f->verdict_ev[v].count ? kt_backing_name(f->verdict_backing[v]) : NULL);
        kt_json_end_object(&j);
        /* What could not be read, and the "no" answers it leaves open. */
        kt_json_begin_array(&j, "unread_sources");
        for (size_t w = 0; w < s->warnings.count; w++) {
            const kt_diag *dg = &s->warnings.items[w];
            if ((dg->volume >= 0 && dg->volume != f->volume) || !kt_diag_is_loss(dg))
                continue;
            kt_json_begin_object(&j, NULL);
            kt_json_string(&j, "code", dg->code);
            kt_json_string(&j, "path", dg->path);
            kt_json_string(&j, "message", dg->message);
            kt_json_end_object(&j);
        }
        kt_json_end_array(&j);
        kt_json_begin_array(&j, "verdicts_left_open");
        for (int v = 0; v < KT_V_COUNT; v++)
            if (f->opened[v])
                kt_json_string(&j, NULL, kt_verdict_name((kt_verdict)v));
        kt_json_end_array(&j);
        kt_json_end_object(&j);
    }
    kt_json_end_array(&j);
    kt_json_begin_array(&j, "warnings");
    for (size_t i = 0; i < s->warnings.count; i++) {
        const kt_diag *dg = &s->warnings.items[i];
        char text[4096];
        kt_json_begin_object(&j, NULL);
        kt_json_string(&j, "severity", kt_severity_name(dg->severity));
        kt_json_string(&j, "code", dg->code);
        if (dg->volume >= 0)
            kt_json_int(&j, "volume", dg->volume);
        else
            kt_json_null(&j, "volume");
        kt_json_string(&j, "path", dg->path);
        kt_json_string(&j, "artifact", dg->artifact);
        kt_json_string(&j, "message", dg->message);
        kt_json_string(&j, "text", kt_diag_text(dg, text, sizeof text));
        kt_json_end_object(&j);
    }
    kt_json_end_array(&j);
    kt_json_begin_object(&j, "run");
    kt_json_time(&j, "started", s->started);
    kt_json_time(&j, "finished", s->finished);
    kt_json_int(&j, "events", (int64_t)s->tl.count);
    kt_json_int(&j, "files_read", (int64_t)s->stats.files_read);
    kt_json_int(&j, "hives_read", (int64_t)s->stats.hives_read);
    kt_json_int(&j, "bytes_read", (int64_t)s->stats.bytes_read);
    kt_json_int(&j, "process_bytes_read", (int64_t)s->process_read);
    kt_json_end_object(&j);
    /* What ran on what (run.json has it too, with the outputs' digests). */
    kt_json_begin_object(&j, "provenance");
    kt_provenance_json(&j, s, set);
    kt_json_end_object(&j);
    kt_json_end_object(&j);
    return j.rc;
}

int kt_csv_cell(kt_buf *out, const char *s)
{
    if (s == NULL)
        return KT_OK;
    /* Controls but line feeds, and bytes that are not UTF-8, escaped first
     * (kavtrace/text.h): a cell is UTF-8 text, its lines LF-separated. */
    kt_buf esc = {0};
    if (kt_text_needs_escape(s, KT_TEXT_CSV)) {
        if (kt_text_escape(&esc, s, KT_TEXT_CSV) != KT_OK) {
            kt_buf_release(&esc);
            return KT_ENOMEM;
        }
        s = (const char *)esc.data;
    }
    bool risky = strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0';
    bool quote = risky || strpbrk(s, ",\"\r\n") != NULL;
    int rc = quote ? kt_buf_append(out, "\"", 1) : KT_OK;
    if (rc == KT_OK && risky)
        rc = kt_buf_append(out, "'", 1);
    for (const char *p = s; rc == KT_OK && *p; p++)
        rc = *p == '"' ? kt_buf_append(out, "\"\"", 2) : kt_buf_append(out, p, 1);
    if (rc == KT_OK && quote)
        rc = kt_buf_append(out, "\"", 1);
    kt_buf_release(&esc);
    return rc;
}

static const char *const csv_columns[] = {
    "id",
    "time",
    "time_source",
    "precision",
    "zone",
    "category",
    "vendor",
    "product",
    "product_name",
    "version",
    "artifact",
    "confidence",
    "description",
    "volume",
    "vss_store",
    "vss_store_id",
    "vss_created",
    "fs",
    "path",
    "inode",
    "allocated",
    "hive",
    "key",
    "value",
    "phase",
    "nearest_milestone",
    "seconds_from_milestone",
};

static int write_csv(kt_buf *out, const kt_scan *s, const kt_artifact_set *set)
{
    (void)set;
    int rc = KT_OK;
    size_t ncol = sizeof csv_columns / sizeof csv_columns[0];
    for (size_t c = 0; c < ncol && rc == KT_OK; c++)
        rc = kt_buf_printf(out, "%s%s", csv_columns[c], c + 1 < ncol ? "," : "\r\n");
    for (size_t i = 0; i < s->tl.count && rc == KT_OK; i++) {
        const kt_event *e = &s->tl.items[i];
        char t[KT_TIME_ISO_MAX], vol[16], inode[32], dist[32], store[16], created[KT_TIME_ISO_MAX];
        snprintf(vol, sizeof vol, "%d", e->volume);
        snprintf(store, sizeof store, "%d", e->store);
        kt_time_format_iso(e->store_created, created);
        snprintf(inode, sizeof inode, "%llu", (unsigned long long)e->inode);
        snprintf(dist, sizeof dist, "%lld", (long long)e->distance);
        const char *cells[] = {
            e->id,
            kt_time_format_iso(e->time, t),
            e->time_source,
            kt_precision_name(e->precision),
            e->zone,
            kt_category_name(e->category),
            e->vendor,
            e->product_id,
            e->product_name,
            e->version,
            e->artifact ? e->artifact->id : NULL,
            e->artifact ? e->artifact->confidence : NULL,
            e->description,
            vol,
            e->store ? store : NULL,
            e->store ? e->store_id : NULL,
            e->store ? created : NULL,
            e->fs,
            e->path,
            e->path ? inode : NULL,
            e->path ? (e->allocated ? "true" : "false") : NULL,
            e->hive,
            e->key,
            e->value,
            e->phase,
            e->nearest,
            NULL,
        };
        for (size_t c = 0; c + 1 < ncol && rc == KT_OK; c++) {
            rc = kt_csv_cell(out, cells[c]);
            if (rc == KT_OK)
                rc = kt_buf_append(out, ",", 1);
        }
        /* A number, never a formula: written as is. */
        if (rc == KT_OK)
            rc = kt_buf_printf(out, "%s\r\n", dist);
    }
    return rc;
}

static int write_jsonl(kt_buf *out, const kt_scan *s, const kt_artifact_set *set)
{
    (void)set;
    int rc = KT_OK;
    for (size_t i = 0; i < s->tl.count && rc == KT_OK; i++) {
        const kt_event *e = &s->tl.items[i];
        char t[KT_TIME_ISO_MAX];
        kt_buf line = {0};
        struct {
            const char *k, *v;
        } f[] = {
            {"message", e->description},
            {"datetime", kt_time_format_iso(e->time, t)},
            {"timestamp_desc", e->time_source},
            {"event_id", e->id},
            {"precision", kt_precision_name(e->precision)},
            {"zone", e->zone},
            {"category", kt_category_name(e->category)},
            {"vendor", e->vendor},
            {"product", e->product_id},
            {"product_name", e->product_name},
            {"version", e->version},
            {"artifact", e->artifact ? e->artifact->id : NULL},
            {"confidence", e->artifact ? e->artifact->confidence : NULL},
            {"fs", e->fs},
            {"path", e->path},
            {"hive", e->hive},
            {"key", e->key},
            {"value", e->value},
            {"phase", e->phase},
            {"nearest_milestone", e->nearest},
            {"vss_store_id", e->store ? e->store_id : NULL},
        };
        rc = kt_buf_append(&line, "{", 1);
        for (size_t k = 0; k < sizeof f / sizeof f[0] && rc == KT_OK; k++) {
            if (f[k].v == NULL)
                continue;
            rc = kt_buf_printf(&line, "%s", k ? ", " : "");
            if (rc == KT_OK)
                rc = kt_json_quote(&line, f[k].k);
            if (rc == KT_OK)
                rc = kt_buf_append(&line, ": ", 2);
            if (rc == KT_OK)
                rc = kt_json_quote(&line, f[k].v);
        }
        /* Timesketch wants microseconds since 1970. */
        int64_t us = e->time / 1000;
        if (rc == KT_OK)
            rc = kt_buf_printf(&line,
                               ", \"timestamp\": %lld, \"volume\": %d, \"seconds_from_milestone\": "
                               "%lld%s%s",
                               (long long)us, e->volume, (long long)e->distance,
                               e->path ? ", \"allocated\": " : "",
                               e->path ? (e->allocated ? "true" : "false") : "");
        /* The run on every line: Timesketch keeps it with each event. */
        char created[KT_TIME_ISO_MAX];
        if (rc == KT_OK && e->store)
            rc = kt_buf_printf(&line, ", \"vss_store\": %d, \"vss_created\": \"%s\"", e->store,
                               kt_time_format_iso(e->store_created, created));
        if (rc == KT_OK && s->run_id[0])
            rc = kt_buf_append(&line, ", \"run_id\": ", 12);
        if (rc == KT_OK && s->run_id[0])
            rc = kt_json_quote(&line, s->run_id);
        if (rc == KT_OK)
            rc = kt_buf_append(&line, "}\n", 2);
        if (rc == KT_OK)
            rc = kt_buf_append(out, line.data, line.len);
        kt_buf_release(&line);
    }
    return rc;
}

const kt_writer kt_writer_json = {
    .name = "json",
    .file = "findings.json",
    .summary = "findings and verdicts per system and product, with the events behind them",
    .write = write_json,
};
const kt_writer kt_writer_csv = {
    .name = "csv",
    .file = "timeline.csv",
    .summary = "the timeline as RFC 4180 CSV (spreadsheets, SQLite .import)",
    .write = write_csv,
};
const kt_writer kt_writer_jsonl = {
    .name = "jsonl",
    .file = "timeline.jsonl",
    .summary = "the timeline as JSON lines for Timesketch",
    .write = write_jsonl,
};

const kt_writer *const kt_writers[] = {&kt_writer_json, &kt_writer_csv,    &kt_writer_jsonl,
                                       &kt_writer_body, &kt_writer_sqlite, &kt_writer_html};
const size_t kt_nwriters = sizeof kt_writers / sizeof kt_writers[0];

const kt_writer *kt_writer_find(const char *name)
{
    for (size_t i = 0; i < kt_nwriters; i++)
        if (strcmp(kt_writers[i]->name, name) == 0)
            return kt_writers[i];
    return NULL;
}
