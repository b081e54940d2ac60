/* report.html: the item's findings for a reader, one self-contained file:
 * inline CSS and SVG, no script, nothing fetched (a Content-Security-Policy
 * forbids it), readable printed and on a narrow screen. Per system: the
 * verdicts with their evidence (each event id links to its row of the
 * events table), a timeline picture (the milestones as vertical lines,
 * each product's life as a bar from install or first find to removal or
 * acquisition, its updates and KSN finds as marks) and each product's
 * facts; then the warnings and every event. Text from the evidence is
 * escaped twice: kavtrace/text.h's \xHH for what is not UTF-8 or is a
 * control, then HTML's entities. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kavtrace/jsonread.h"
#include "kavtrace/provenance.h"
#include "kavtrace/text.h"
#include "kavtrace/writers.h"

#ifndef KT_VERSION
#define KT_VERSION "0"
#endif

typedef struct html {
    kt_buf *out;
    int rc;
    kt_buf esc;
} html;

static void raw(html *h, const char *s)
{
    if (h->rc == KT_OK)
        h->rc = kt_buf_append(h->out, s, strlen(s));
}

static void fmt(html *h, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void fmt(html *h, const char *f, ...)
{
    if (h->rc)
        return;
    va_list ap;
    va_start(ap, f);
    h->rc = kt_buf_vprintf(h->out, f, ap);
    va_end(ap);
}

/* Text as HTML: evidence escapes first, then & < > " '. NULL: "-". */
static void text(html *h, const char *s)
{
    if (h->rc)
        return;
    if (s == NULL) {
        raw(h, "-");
        return;
    }
    if (kt_text_needs_escape(s, KT_TEXT_CSV)) {
        h->esc.len = 0;
        if (kt_text_escape(&h->esc, s, KT_TEXT_CSV) != KT_OK) {
            h->rc = KT_ENOMEM;
            return;
        }
        s = (const char *)h->esc.data;
    }
    for (const char *p = s; h->rc == KT_OK && *p; p++) {
        switch (*p) {
        case '&':
            raw(h, "&amp;");
            break;
        case '<':
            raw(h, "&lt;");
            break;
        case '>':
            raw(h, "&gt;");
            break;
        case '"':
            raw(h, "&quot;");
            break;
        case '\'':
            raw(h, "&#39;");
            break;
        default:
            h->rc = kt_buf_append(h->out, p, 1);
        }
    }
}

static void when(html *h, kt_time t)
{
    char buf[KT_TIME_ISO_MAX];
    if (t == KT_TIME_NONE)
        raw(h, "-");
    else
        text(h, kt_time_format_iso(t, buf));
}

/* Event ids as links to their rows. */
static void links(html *h, const kt_strlist *l)
{
    if (l->count == 0)
        raw(h, "-");
    for (size_t i = 0; i < l->count; i++) {
        raw(h, i ? " <a href=\"#" : "<a href=\"#");
        text(h, l->items[i]);
        raw(h, "\">");
        text(h, l->items[i]);
        raw(h, "</a>");
    }
}

static const char style[] =
    "<style>\n"
    ":root{--fg:#1b1b1b;--muted:#5c5c5c;--line:#d0d0d0;--true:#a40000;--false:#1d6b1d;"
    "--null:#8a5a00}\n"
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);"
    "margin:0 auto;max-width:1200px;padding:1rem;overflow-wrap:anywhere}\n"
    "h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.25rem;border-bottom:2px solid "
    "var(--line);padding-bottom:.2rem;margin-top:2rem}h3{font-size:1.05rem}\n"
    "table{border-collapse:collapse;width:100%;margin:.5rem 0}\n"
    "th,td{border:1px solid var(--line);padding:.25rem .4rem;text-align:left;"
    "vertical-align:top;overflow-wrap:anywhere}\n"
    "th{background:#f3f3f3}.meta{color:var(--muted)}\n"
    ".v-true{color:var(--true);font-weight:600}.v-false{color:var(--false)}"
    ".v-null{color:var(--null);font-style:italic}\n"
    "tr:target{background:#fff3b0}\n"
    ".scroll{overflow-x:auto}\n"
    "svg.timeline{width:100%;height:auto;border:1px solid var(--line);background:#fff}\n"
    "svg .milestone{stroke:#555;stroke-dasharray:4 3}svg .cutoff{stroke:var(--true);"
    "stroke-width:2;stroke-dasharray:none}\n"
    "svg .bar{fill:#7aa6d6}svg .bar.removed{fill:#b9b9b9}svg .bar.present{fill:#4f7fb8}\n"
    "svg .mark-signature_update{fill:#e07b00}svg .mark-codebase_update{fill:#8e44ad}"
    "svg .mark-ksn{fill:#c0392b}svg .mark-update{fill:#e0a800}\n"
    "svg text{font:11px sans-serif;fill:#222}\n"
    ".events td:nth-child(2){white-space:nowrap}\n"
    "@media (max-width:700px){body{font-size:14px;padding:.5rem}"
    "table.events,table.events tbody,table.events tr,table.events td{display:block;width:auto}"
    "table.events thead{display:none}table.events tr{border-bottom:2px solid var(--line)}}\n"
    "@media print{body{max-width:none;font-size:10pt}a{color:inherit;text-decoration:none}"
    "h2{break-before:page}h2:first-of-type{break-before:auto}tr,svg{break-inside:avoid}"
    ".scroll{overflow:visible}}\n"
    "</style>\n";

/* The picture's geometry. */
#define W 1000
#define LEFT 230
#define RIGHT 20
#define TOP 56
#define ROW 26

typedef struct span {
    kt_time from, to;
} span;

static double xpos(const span *sp, kt_time t)
{
    double f = sp->to > sp->from ? (double)(t - sp->from) / (double)(sp->to - sp->from) : 0;
    return LEFT + f * (W - LEFT - RIGHT);
}

static kt_time last_event(const kt_scan *s, int volume)
{
    kt_time t = KT_TIME_NONE;
    for (size_t i = 0; i < s->tl.count; i++)
        if (kt_event_system(&s->tl.items[i]) == volume && s->tl.items[i].time > t)
            t = s->tl.items[i].time;
    return t;
}

static kt_time product_start(const kt_product_finding *p)
{
    return p->installed != KT_TIME_NONE ? p->installed : p->first_seen;
}

static void picture(html *h, const kt_scan *s, const kt_artifact_set *set, const kt_scan_system *ss)
{
    const kt_system_finding *f = &ss->findings;
    int vol = ss->volume->index;
    /* From the first milestone or product to the last event or milestone
     * (the acquisition is no later than the last find). */
    kt_time acq = last_event(s, vol);
    span sp = {INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < set->nmilestones; i++) {
        sp.from = set->milestones[i].time < sp.from ? set->milestones[i].time : sp.from;
        sp.to = set->milestones[i].time > sp.to ? set->milestones[i].time : sp.to;
    }
    for (size_t p = 0; p < f->nproducts; p++) {
        kt_time t = product_start(&f->products[p]);
        if (t != KT_TIME_NONE && t < sp.from)
            sp.from = t;
    }
    if (acq != KT_TIME_NONE && acq > sp.to)
        sp.to = acq;
    if (sp.from == INT64_MAX) {
        sp.from = 0;
        sp.to = 1;
    }
    int64_t pad = (sp.to - sp.from) / 40 + 1;
    sp.from -= pad;
    sp.to += pad;
    kt_time end = acq != KT_TIME_NONE ? acq : sp.to;
    int height = TOP + (int)(f->nproducts ? f->nproducts : 1) * ROW + 16;
    fmt(h,
        "<div class=\"scroll\"><svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" "
        "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"timeline of volume %d\">\n",
        W, height, vol);
    /* the years along the top */
    char y[KT_TIME_ISO_MAX];
    kt_time_format_iso(sp.from, y);
    int first_year = (y[0] - '0') * 1000 + (y[1] - '0') * 100 + (y[2] - '0') * 10 + (y[3] - '0');
    for (int yr = first_year + 1; yr < first_year + 60; yr++) {
        char iso[32];
        kt_time t;
        snprintf(iso, sizeof iso, "%04d-01-01T00:00:00Z", yr);
        if (kt_time_parse_iso(iso, &t) != 0 || t > sp.to)
            break;
        double x = xpos(&sp, t);
        fmt(h,
            "<line class=\"year\" x1=\"%.1f\" y1=\"12\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>"
            "<text x=\"%.1f\" y=\"%d\">%d</text>\n",
            x, x, height - 4, x + 2, height - 4, yr);
    }
    for (size_t i = 0; i < set->nmilestones; i++) {
        const kt_milestone *m = &set->milestones[i];
        double x = xpos(&sp, m->time);
        bool cut = strcmp(m->id, KT_MILESTONE_CUTOFF) == 0;
        fmt(h, "<g class=\"milestone-line\" data-milestone=\"");
        text(h, m->id);
        raw(h, "\"><title>");
        text(h, m->id);
        raw(h, " ");
        when(h, m->time);
        if (m->meaning) {
            raw(h, ": ");
            text(h, m->meaning);
        }
        fmt(h,
            "</title><line class=\"milestone%s\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
            "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
            cut ? " cutoff" : "", x, 14 + (int)(i % 3) * 12, x, height - 14, x,
            10 + (int)(i % 3) * 12);
        text(h, m->id);
        raw(h, "</text></g>\n");
    }
    for (size_t p = 0; p < f->nproducts; p++) {
        const kt_product_finding *pf = &f->products[p];
        int row = TOP + (int)p * ROW;
        kt_time from = product_start(pf);
        kt_time to = pf->removed != KT_TIME_NONE ? pf->removed : end;
        double x1 = xpos(&sp, from != KT_TIME_NONE ? from : sp.from);
        double x2 = xpos(&sp, to);
        if (x2 < x1 + 2)
            x2 = x1 + 2;
        fmt(h, "<g class=\"product-bar\" data-product=\"");
        text(h, pf->id);
        raw(h, "\"><text x=\"4\" y=\"");
        fmt(h, "%d\">", row + 14);
        char label[96];
        snprintf(label, sizeof label, "%.60s%s%.20s", pf->name, pf->version[0] ? " " : "",
                 pf->version);
        text(h, label);
        fmt(h, "</text><rect class=\"bar %s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"14\">",
            kt_status_name(pf->status), x1, row + 3, x2 - x1);
        raw(h, "<title>");
        text(h, pf->name);
        raw(h, ": ");
        when(h, from);
        raw(h, " to ");
        if (pf->removed != KT_TIME_NONE)
            when(h, pf->removed);
        else
            raw(h, "acquisition");
        raw(h, "</title></rect>\n");
        /* updates and KSN as marks, each linked to its event */
        for (size_t i = 0; i < s->tl.count; i++) {
            const kt_event *e = &s->tl.items[i];
            if (kt_event_system(e) != vol || e->product_id == NULL ||
                strcmp(e->product_id, pf->id) != 0)
                continue;
            if (e->category != KT_CAT_SIGNATURE_UPDATE && e->category != KT_CAT_CODEBASE_UPDATE &&
                e->category != KT_CAT_KSN && e->category != KT_CAT_UPDATE)
                continue;
            double x = xpos(&sp, e->time);
            fmt(h,
                "<a href=\"#%s\"><rect class=\"mark mark-%s\" x=\"%.1f\" y=\"%d\" width=\"3\" "
                "height=\"20\"><title>",
                e->id, kt_category_name(e->category), x - 1.5, row);
            text(h, e->id);
            raw(h, " ");
            text(h, kt_category_name(e->category));
            raw(h, " ");
            when(h, e->time);
            raw(h, "</title></rect></a>\n");
        }
        raw(h, "</g>\n");
    }
    raw(h, "</svg></div>\n");
}

static void verdicts(html *h, const kt_system_finding *f)
{
    raw(h, "<table class=\"verdicts\"><thead><tr><th>verdict</th><th>answer</th>"
           "<th>backing</th><th>evidence</th></tr></thead><tbody>\n");
    for (int v = 0; v < KT_V_COUNT; v++) {
        const char *name = kt_verdict_name((kt_verdict)v);
        const char *ans = f->verdicts[v] == KT_TRUE    ? "true"
                          : f->verdicts[v] == KT_FALSE ? "false"
                                                       : "null";
        fmt(h,
            "<tr class=\"verdict\" data-verdict=\"%s\"><th>%s</th><td class=\"v-%s\">%s%s</td>"
            "<td>%s</td><td>",
            name, name, ans, ans, f->opened[v] ? " (a source could not be read)" : "",
            f->verdict_ev[v].count ? kt_backing_name(f->verdict_backing[v]) : "-");
        links(h, &f->verdict_ev[v]);
        raw(h, "</td></tr>\n");
    }
    raw(h, "</tbody></table>\n");
}

static void fact(html *h, const char *name, kt_time t, const kt_strlist *ev)
{
    fmt(h, "<tr><th>%s</th><td>", name);
    when(h, t);
    raw(h, "</td><td>");
    links(h, ev);
    raw(h, "</td></tr>\n");
}

static void products(html *h, const kt_system_finding *f)
{
    for (size_t p = 0; p < f->nproducts; p++) {
        const kt_product_finding *pf = &f->products[p];
        raw(h, "<h3 class=\"product\" data-product=\"");
        text(h, pf->id);
        raw(h, "\">");
        text(h, pf->name);
        if (pf->version[0]) {
            raw(h, " ");
            text(h, pf->version);
        }
        raw(h, " <span class=\"meta\">(");
        text(h, pf->vendor);
        raw(h, ", ");
        text(h, pf->id);
        raw(h, ")</span></h3>\n<table class=\"facts\"><tbody>\n");
        fmt(h, "<tr><th>status at acquisition</th><td>%s</td><td>", kt_status_name(pf->status));
        links(h, &pf->ev_status);
        raw(h, "</td></tr>\n");
        fact(h, "first seen", pf->first_seen, &pf->ev_first_seen);
        fact(h, "installed", pf->installed, &pf->ev_installed);
        fact(h, "last signature update", pf->last_signature_update, &pf->ev_signature);
        fact(h, "last codebase update", pf->last_codebase_update, &pf->ev_codebase);
        fmt(h, "<tr><th>KSN</th><td>%s, last evidence ", kt_ksn_name(pf->ksn));
        when(h, pf->last_ksn_evidence);
        raw(h, "</td><td>");
        links(h, &pf->ev_ksn);
        raw(h, "</td></tr>\n");
        fact(h, "last at work", pf->last_execution, &pf->ev_execution);
        fact(h, "removed", pf->removed, &pf->ev_removed);
        fmt(h, "<tr><th>removal method</th><td>%s</td><td></td></tr>\n",
            kt_removal_name(pf->removal_method) ? kt_removal_name(pf->removal_method) : "-");
        raw(h, "</tbody></table>\n");
    }
    if (f->migrated) {
        raw(h, "<p class=\"migration\">Migrated to ");
        text(h, f->migration_to);
        raw(h, " at ");
        when(h, f->migration_time);
        raw(h, ": ");
        links(h, &f->migration_ev);
        raw(h, "</p>\n");
    }
}

static void events(html *h, const kt_scan *s)
{
    fmt(h,
        "<h2 id=\"events\">Events (%zu)</h2>\n<div class=\"scroll\"><table class=\"events\">"
        "<thead><tr><th>id</th><th>time (UTC)</th><th>category</th><th>product</th>"
        "<th>what</th><th>where</th><th>time source</th><th>phase</th></tr></thead><tbody>\n",
        s->tl.count);
    for (size_t i = 0; i < s->tl.count && h->rc == KT_OK; i++) {
        const kt_event *e = &s->tl.items[i];
        fmt(h, "<tr id=\"%s\" class=\"event\"><td><a href=\"#%s\">%s</a></td><td>", e->id, e->id,
            e->id);
        when(h, e->time);
        fmt(h, "</td><td>%s</td><td>", kt_category_name(e->category));
        text(h, e->product_id);
        raw(h, "</td><td>");
        text(h, e->description);
        fmt(h, "</td><td>volume %d ", e->volume);
        if (e->path)
            text(h, e->path);
        if (e->hive) {
            text(h, e->hive);
            raw(h, "\\");
            text(h, e->key);
            if (e->value) {
                raw(h, " ");
                text(h, e->value);
            }
        }
        raw(h, "</td><td>");
        text(h, e->time_source);
        raw(h, "</td><td>");
        text(h, e->phase);
        raw(h, "</td></tr>\n");
    }
    raw(h, "</tbody></table></div>\n");
}

static int write_html(kt_buf *out, const kt_scan *s, const kt_artifact_set *set)
{
    html h = {.out = out};
    raw(&h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'\">\n<title>kavtrace report: ");
    text(&h, s->inv.path);
    raw(&h, "</title>\n");
    raw(&h, style);
    raw(&h, "</head><body>\n<header><h1>kavtrace report</h1>\n<p class=\"meta\">Evidence <b>");
    text(&h, s->inv.path);
    raw(&h, "</b>");
    const kt_image_info *ii = kt_image_get_info(s->inv.img);
    fmt(&h, " (%s, %lld bytes)", ii->format_name, (long long)ii->size);
    if (s->inv.digest.sha256[0])
        fmt(&h, ", SHA-256 %s", s->inv.digest.sha256);
    fmt(&h, "<br>kavtrace %s, run ", KT_VERSION);
    text(&h, s->run_id[0] ? s->run_id : NULL);
    raw(&h, ", started ");
    when(&h, s->started);
    fmt(&h, "<br>%zu system%s, %zu events, %zu warnings. Times are UTC. Milestones: ", s->nsystems,
        s->nsystems == 1 ? "" : "s", s->tl.count, s->warnings.count);
    for (size_t i = 0; i < set->nmilestones; i++) {
        text(&h, set->milestones[i].id);
        raw(&h, " ");
        when(&h, set->milestones[i].time);
        raw(&h, i + 1 < set->nmilestones ? ", " : ".");
    }
    raw(&h, "</p></header>\n");
    if (s->nsystems == 0)
        raw(&h, "<h2>No system found</h2>\n");
    for (size_t i = 0; i < s->nsystems; i++) {
        const kt_scan_system *ss = &s->systems[i];
        fmt(&h, "<section class=\"system\" data-volume=\"%d\"><h2>Volume %d (", ss->volume->index,
            ss->volume->index);
        text(&h, ss->fs);
        fmt(&h, "): %s ", kt_os_name(ss->sys.os));
        text(&h, ss->sys.os_name);
        if (ss->sys.hostname[0]) {
            raw(&h, ", host ");
            text(&h, ss->sys.hostname);
        }
        raw(&h, "</h2>\n<h3>Verdicts</h3>\n");
        verdicts(&h, &ss->findings);
        raw(&h, "<h3>Timeline</h3>\n");
        picture(&h, s, set, ss);
        fmt(&h,
            "<p class=\"meta\">Bars: each product from its install (or first find) to its "
            "removal or the acquisition; marks: signature (orange), codebase (purple) and "
            "other updates (yellow), KSN (red); dashed lines: the milestones, the cutoff "
            "solid red.</p>\n<h3>Products (%zu)</h3>\n",
            ss->findings.nproducts);
        products(&h, &ss->findings);
        raw(&h, "</section>\n");
    }
    fmt(&h, "<h2 id=\"warnings\">Warnings (%zu)</h2>\n", s->warnings.count);
    if (s->warnings.count) {
        raw(&h, "<ul class=\"warnings\">\n");
        for (size_t i = 0; i < s->warnings.count; i++) {
            char buf[4096];
            fmt(&h, "<li class=\"warning\">%s: ", kt_severity_name(s->warnings.items[i].severity));
            text(&h, kt_diag_text(&s->warnings.items[i], buf, sizeof buf));
            raw(&h, "</li>\n");
        }
        raw(&h, "</ul>\n");
    }
    events(&h, s);
    raw(&h, "<footer class=\"meta\"><p>Written by kavtrace ");
    text(&h, KT_VERSION);
    raw(&h, "; what ran on what is in run.json.</p></footer>\n</body></html>\n");
    kt_buf_release(&h.esc);
    return h.rc;
}

const kt_writer kt_writer_html = {
    .name = "html",
    .file = "report.html",
    .summary = "a report to read and print: verdicts, evidence, products, a timeline picture",
    .write = write_html,
};

/* ---- index.html: a batch's items, one row each ---- */

static const char index_style[] =
    "<style>\n"
    "body{max-width:1500px}\n"
    "table.items th,table.items td{overflow-wrap:break-word}\n"
    "table.items .evidence,table.items .message{overflow-wrap:anywhere;font-size:.85rem;"
    "font-weight:normal}\n"
    "table.items td.id{min-width:9rem}table.items td.status{min-width:5rem;max-width:16rem}\n"
    "table.items td.verdict{white-space:nowrap}table.items td.products{min-width:14rem}\n"
    "table.items td.verdict span{display:block}\n"
    "table.items .product{margin-bottom:.25rem}\n"
    "table.items th.v{font-size:.8rem;font-weight:600}\n"
    "tr.item.status-failed td.status,tr.item.status-timed-out td.status,"
    "tr.item.status-not-run td.status{color:var(--true);font-weight:600}\n"
    "@media (max-width:700px){"
    "table.items,table.items tbody,table.items tr,table.items td{display:block;width:auto}"
    "table.items thead{display:none}table.items tr{border-bottom:2px solid var(--line)}"
    "table.items td::before{content:attr(data-label) ': ';font-weight:600}"
    "table.items td.verdict span{display:inline;margin-right:.4rem}}\n"
    "@media print{table.items{font-size:8pt}}\n"
    "</style>\n";

/* A verdict's name as a column head: "ever installed", "KSN after cutoff". */
static void verdict_label(html *h, const char *name)
{
    if (strncmp(name, "kaspersky_", 10) == 0)
        name += 10;
    for (const char *p = name; h->rc == KT_OK && *p; p++) {
        if (*p == '_') {
            raw(h, " ");
        } else if (p == name && strncmp(p, "ksn", 3) == 0) {
            raw(h, "KSN");
            p += 2;
        } else if (strncmp(p, "ultraav", 7) == 0) {
            raw(h, "UltraAV");
            p += 6;
        } else {
            h->rc = kt_buf_append(h->out, p, 1);
        }
    }
}

/* The item's folder name in a URL path: every byte but unreserved ones
 * percent-encoded. */
static void href_segment(html *h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; h->rc == KT_OK && *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~')
            h->rc = kt_buf_append(h->out, p, 1);
        else
            fmt(h, "%%%02X", *p);
    }
}

static const char *jstr(const kt_jv *v, const char *key)
{
    return kt_jv_str(kt_jv_get(v, key));
}

static size_t jlen(const kt_jv *v, kt_jv_type type)
{
    return v && v->type == type ? v->len : 0;
}

/* The systems' columns: hosts, a verdict each, products. */
static void item_systems(html *h, const kt_jv *findings)
{
    const kt_jv *systems = kt_jv_get(findings, "systems");
    size_t ns = jlen(systems, KT_JV_ARRAY);
    raw(h, "<td class=\"hosts\" data-label=\"systems\">");
    if (ns == 0)
        raw(h, "no system found");
    for (size_t i = 0; i < ns; i++) {
        const kt_jv *s = &systems->item[i];
        int64_t vol = -1;
        kt_jv_int(kt_jv_get(kt_jv_get(s, "volume"), "index"), &vol);
        fmt(h, "<div class=\"system\" data-system=\"%zu\">", i);
        raw(h, "<span class=\"host\">");
        const char *host = jstr(s, "hostname");
        text(h, host && host[0] ? host : "(no hostname)");
        raw(h, "</span>");
        raw(h, " <span class=\"meta\">(");
        text(h, jstr(s, "os"));
        fmt(h, ", volume %lld)</span></div>", (long long)vol);
    }
    raw(h, "</td>");
    for (int v = 0; v < KT_V_COUNT; v++) {
        const char *name = kt_verdict_name((kt_verdict)v);
        fmt(h, "<td class=\"verdict\" data-verdict=\"%s\" data-label=\"", name);
        verdict_label(h, name);
        raw(h, "\">");
        for (size_t i = 0; i < ns; i++) {
            const kt_jv *x = kt_jv_get(kt_jv_get(&systems->item[i], "verdicts"), name);
            const char *ans = x && x->type == KT_JV_BOOL ? (x->b ? "true" : "false") : "null";
            fmt(h, "<span class=\"v-%s\" data-system=\"%zu\">%s</span>", ans, i, ans);
        }
        raw(h, "</td>");
    }
    raw(h, "<td class=\"products\" data-label=\"products\">");
    size_t shown = 0;
    for (size_t i = 0; i < ns; i++) {
        const kt_jv *s = &systems->item[i];
        const kt_jv *ps = kt_jv_get(s, "products");
        /* The products at the cutoff, where the findings hold them. */
        const kt_jv *sa = kt_jv_get(s, "state_at"), *cut = NULL;
        for (size_t k = 0; k < jlen(sa, KT_JV_ARRAY); k++) {
            const char *m = jstr(&sa->item[k], "milestone");
            if (m && strcmp(m, "cutoff") == 0)
                cut = kt_jv_get(&sa->item[k], "products");
        }
        for (size_t p = 0; p < jlen(ps, KT_JV_ARRAY); p++, shown++) {
            const kt_jv *pr = &ps->item[p];
            const char *id = jstr(pr, "id");
            fmt(h, "<div class=\"product\" data-system=\"%zu\" data-product=\"", i);
            text(h, id);
            raw(h, "\"><b>");
            text(h, jstr(pr, "name"));
            raw(h, "</b>");
            if (jstr(pr, "version")) {
                raw(h, " ");
                text(h, jstr(pr, "version"));
            }
            raw(h, " <span class=\"meta\">");
            text(h, jstr(pr, "status"));
            raw(h, "</span>");
            if (cut) {
                const kt_jv *st = NULL;
                for (size_t k = 0; k < jlen(cut, KT_JV_ARRAY); k++)
                    if (id && jstr(&cut->item[k], "id") &&
                        strcmp(jstr(&cut->item[k], "id"), id) == 0)
                        st = &cut->item[k];
                const kt_jv *inst = kt_jv_get(st, "installed");
                const char *state = inst && inst->type == KT_JV_BOOL
                                        ? (inst->b ? "installed" : "not installed")
                                        : "unknown";
                fmt(h, "<br><span class=\"at-cutoff\" data-state=\"%s\">at the cutoff: %s", state,
                    state);
                if (inst && inst->type == KT_JV_BOOL && inst->b && jstr(st, "version")) {
                    raw(h, " ");
                    text(h, jstr(st, "version"));
                }
                raw(h, "</span>");
            }
            raw(h, "</div>");
        }
    }
    if (shown == 0)
        raw(h, "none");
    raw(h, "</td>");
}

int kt_case_html_row(kt_buf *out, const kt_case_html_item *it)
{
    html h = {.out = out};
    raw(&h, "<tr class=\"item status-");
    text(&h, it->status);
    raw(&h, "\" data-id=\"");
    text(&h, it->id);
    raw(&h, "\" data-status=\"");
    text(&h, it->status);
    raw(&h, "\"><td class=\"id\" data-label=\"item\">");
    if (it->has_report) {
        raw(&h, "<a class=\"report\" href=\"");
        href_segment(&h, it->id);
        raw(&h, "/report.html\">");
        text(&h, it->id);
        raw(&h, "</a>");
    } else {
        text(&h, it->id);
    }
    raw(&h, "<br><span class=\"meta evidence\">");
    text(&h, it->evidence);
    raw(&h, "</span>");
    if (it->custodian) {
        raw(&h, "<br><span class=\"meta\">custodian <span class=\"custodian\">");
        text(&h, it->custodian);
        raw(&h, "</span></span>");
    }
    raw(&h, "</td><td class=\"status\" data-label=\"status\">");
    text(&h, it->status);
    if (it->message && it->message[0]) {
        raw(&h, "<br><span class=\"meta message\">");
        text(&h, it->message);
        raw(&h, "</span>");
    }
    raw(&h, "</td>");
    if (it->findings) {
        item_systems(&h, it->findings);
        const kt_jv *w = kt_jv_get(it->findings, "warnings");
        fmt(&h, "<td class=\"warnings\" data-label=\"warnings\">%zu</td>", jlen(w, KT_JV_ARRAY));
    } else {
        fmt(&h, "<td class=\"none\" colspan=\"%d\">no findings</td>", KT_V_COUNT + 3);
    }
    raw(&h, "</tr>\n");
    kt_buf_release(&h.esc);
    return h.rc;
}

int kt_case_html_page(kt_buf *out, const kt_buf *rows, const char *const *statuses,
                      const size_t *counts, size_t nstatuses, size_t items)
{
    html h = {.out = out};
    raw(&h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'\">\n<title>kavtrace case index</title>\n");
    raw(&h, style);
    raw(&h, index_style);
    fmt(&h,
        "</head><body>\n<header><h1>kavtrace case index</h1>\n<p class=\"meta\">%zu item%s:", items,
        items == 1 ? "" : "s");
    for (size_t s = 0; s < nstatuses; s++)
        fmt(&h, "%s <span class=\"total\" data-status=\"%s\">%zu</span> %s", s ? "," : "",
            statuses[s], counts[s], statuses[s]);
    raw(&h, ".<br>Each item's verdicts per system (in system order), its products at "
            "acquisition and at the cutoff, and its warnings; the item's name opens its "
            "report. Times are UTC.</p></header>\n");
    raw(&h, "<div class=\"scroll\"><table class=\"items\"><thead><tr><th>item</th>"
            "<th>status</th><th>systems</th>");
    for (int v = 0; v < KT_V_COUNT; v++) {
        const char *name = kt_verdict_name((kt_verdict)v);
        fmt(&h, "<th class=\"v\" title=\"%s\">", name);
        verdict_label(&h, name);
        raw(&h, "</th>");
    }
    raw(&h, "<th>products</th><th>warnings</th></tr></thead><tbody>\n");
    if (h.rc == KT_OK && rows->len)
        h.rc = kt_buf_append(out, rows->data, rows->len);
    fmt(&h,
        "</tbody></table></div>\n<footer class=\"meta\"><p>Written by kavtrace %s from the "
        "items' outputs; case.json and case.csv hold the same rows.</p></footer>\n"
        "</body></html>\n",
        KT_VERSION);
    kt_buf_release(&h.esc);
    return h.rc;
}
