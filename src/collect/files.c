/* Source `files`: file and directory entries matching path patterns
 * (allocated and deleted), dated by their stored times, by a time in
 * their content (a line, every matching line, an XML attribute) or in
 * their name; optionally only when their content matches. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

typedef enum parse_format {
    PARSE_NONE,
    PARSE_LINE,  /* text lines against `regex`; group 1 of the first match is the time */
    PARSE_LINES, /* every matching line is a find of its own */
    PARSE_XML,   /* the root element's first present attribute of `attributes` */
} parse_format;

typedef struct spec {
    kt_file_part fp;
    parse_format parse;
    bool has_parse_regex;
    regex_t parse_regex;
    kt_strlist attributes;
    kt_time_pattern parse_time;
    bool date_from_name; /* a time-of-day pattern dated by name_time */
    bool has_name_time;
    regex_t name_regex;
    kt_time_pattern name_time;
    bool has_content_regex; /* the file counts only when its content matches */
    regex_t content_regex;
} spec;

/* ---- definitions ---- */

static void parse_content(kt_defs *c, yaml_node_t *f, spec *s)
{
    const char *content = defs_scalar(defs_get(c, f, "content"));
    if (content == NULL)
        return;
    int rc =
        regcomp(&s->content_regex, content, REG_EXTENDED | REG_ICASE | REG_NEWLINE | REG_NOSUB);
    if (rc != 0) {
        char msg[256];
        regerror(rc, &s->content_regex, msg, sizeof msg);
        defs_problem(c, defs_get(c, f, "content"), "files: bad content regex '%s': %s", content,
                     msg);
    } else {
        s->has_content_regex = true;
    }
}

static void parse_parse(kt_defs *c, yaml_node_t *f, yaml_node_t *p, spec *s)
{
    static const char *const pkeys[] = {"format", "regex", "attributes", "pattern",
                                        "zone",   "date",  NULL};
    defs_check_keys(c, p, "parse", pkeys);
    const char *fmt = defs_scalar(defs_get(c, p, "format"));
    if (fmt && (strcmp(fmt, "line") == 0 || strcmp(fmt, "lines") == 0)) {
        s->parse = fmt[4] ? PARSE_LINES : PARSE_LINE;
        const char *re = defs_scalar(defs_get(c, p, "regex"));
        if (re == NULL)
            defs_problem(c, p, "parse: a line parser needs 'regex'");
        else
            s->has_parse_regex = defs_regex(c, p, re, &s->parse_regex);
    } else if (fmt && strcmp(fmt, "xml") == 0) {
        s->parse = PARSE_XML;
        defs_strings(c, p, "attributes", &s->attributes, true, "parse");
    } else {
        defs_problem(c, p, "parse: format must be line, lines or xml");
    }
    const char *date = defs_scalar(defs_get(c, p, "date"));
    if (date && strcmp(date, "name") == 0)
        s->date_from_name = true;
    else if (date)
        defs_problem(c, defs_get(c, p, "date"), "parse: date can only be 'name' (from name_time)");
    defs_pattern(c, p, "parse", &s->parse_time, s->date_from_name ? PATTERN_TIME_ONLY : 0);
    if (s->date_from_name && !s->parse_time.time_only)
        defs_problem(c, p, "parse: with date: name the pattern is a time of day only");
    if (s->date_from_name && defs_get(c, f, "name_time") == NULL)
        defs_problem(c, p, "parse: date: name needs name_time");
}

static void parse(kt_defs *c, yaml_node_t *f, kt_artifact *a)
{
    spec *s = calloc(1, sizeof *s);
    if (s == NULL)
        return;
    a->spec = s;
    static const char *const keys[] = {"paths",     "type",    "deleted", "times",   "parse",
                                       "name_time", "product", "version", "content", NULL};
    defs_check_keys(c, f, "files", keys);
    kt_file_part_parse(c, f, a, &s->fp);
    parse_content(c, f, s);
    yaml_node_t *p = defs_get(c, f, "parse");
    if (p)
        parse_parse(c, f, p, s);
    yaml_node_t *nt = defs_get(c, f, "name_time");
    if (nt) {
        static const char *const nkeys[] = {"regex", "pattern", "zone", NULL};
        defs_check_keys(c, nt, "name_time", nkeys);
        const char *re = defs_scalar(defs_get(c, nt, "regex"));
        if (re == NULL)
            defs_problem(c, nt, "name_time: 'regex' is required");
        else
            s->has_name_time = defs_regex(c, nt, re, &s->name_regex);
        defs_pattern(c, nt, "name_time", &s->name_time, PATTERN_NO_YEAR);
    }
    if (s->fp.ntimes == 0 && s->parse == PARSE_NONE && !s->has_name_time)
        defs_problem(c, f, "files: give times, parse or name_time: a find needs a time");
}

static void release(void *p)
{
    spec *s = p;
    if (s == NULL)
        return;
    kt_file_part_release(&s->fp);
    if (s->has_parse_regex)
        regfree(&s->parse_regex);
    kt_strlist_release(&s->attributes);
    defs_pattern_release(&s->parse_time);
    if (s->has_name_time)
        regfree(&s->name_regex);
    defs_pattern_release(&s->name_time);
    if (s->has_content_regex)
        regfree(&s->content_regex);
    free(s);
}

static void detail(const kt_artifact *a, char *buf, size_t len)
{
    const spec *s = a->spec;
    const char *d = s == NULL                 ? ""
                    : s->parse == PARSE_LINE  ? "line"
                    : s->parse == PARSE_LINES ? "lines"
                    : s->parse == PARSE_XML   ? "xml"
                    : s->has_name_time        ? "name"
                                              : "";
    kt_strlcpy(buf, d, len);
}

/* ---- collection ---- */

/* The first time in the file's content (line regex or XML attribute). */
static bool content_time(kt_collector *c, const kt_artifact *a, const kt_find *f, kt_time *t,
                         char *src, size_t srclen, const char **zone)
{
    const spec *s = a->spec;
    kt_buf b = {0};
    if (kt_file_read(c, a, f, KT_COLLECT_MAX_PARSE, &b))
        return false;
    bool ok = false;
    char text[128] = "";
    if (s->parse == PARSE_LINE) {
        for (char *line = (char *)b.data; line && *line && !ok;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            regmatch_t m[2];
            if (regexec(&s->parse_regex, line, 2, m, 0) == 0 && m[1].rm_so >= 0) {
                size_t n = (size_t)(m[1].rm_eo - m[1].rm_so);
                if (n < sizeof text) {
                    memcpy(text, line + m[1].rm_so, n);
                    text[n] = '\0';
                    ok = kt_time_pattern_parse(&s->parse_time, text, t) == KT_OK;
                }
            }
            line = nl ? nl + 1 : NULL;
        }
        if (ok)
            snprintf(src, srclen, "content '%s'", text);
    } else if (s->parse == PARSE_XML && b.len < (size_t)INT32_MAX) {
        xmlDocPtr doc = xmlReadMemory((const char *)b.data, (int)b.len, f->path, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
        for (size_t i = 0; root && i < s->attributes.count && !ok; i++) {
            xmlChar *v = xmlGetProp(root, (const xmlChar *)s->attributes.items[i]);
            if (v) {
                kt_strlcpy(text, (const char *)v, sizeof text);
                ok = kt_time_pattern_parse(&s->parse_time, text, t) == KT_OK;
                if (ok)
                    snprintf(src, srclen, "root attribute %s='%s'", s->attributes.items[i], text);
                xmlFree(v);
            }
        }
        if (doc)
            xmlFreeDoc(doc);
        else
            kt_collect_diag(c, KT_SEV_WARNING, "file.parse", f->path, a, "not well-formed XML");
    }
    kt_buf_release(&b);
    if (!ok) {
        kt_collect_diag(c, KT_SEV_WARNING, "file.parse", f->path, a,
                        "no time found in its content");
        return false;
    }
    kt_collect_convert(c, &s->parse_time, t, src, srclen, zone);
    return true;
}

#define DAY_NS (INT64_C(86400) * KT_NS_PER_SEC)

/* The wall-clock time in the file's name (name_time), not yet converted. */
static bool name_time(kt_collector *c, const kt_artifact *a, const kt_find *f, kt_time *t,
                      char *text, size_t tlen)
{
    const spec *s = a->spec;
    char name[512];
    kt_collect_component(f->path, -1, '/', name, sizeof name);
    regmatch_t m[2];
    if (regexec(&s->name_regex, name, 2, m, 0) != 0 || m[1].rm_so < 0 ||
        (size_t)(m[1].rm_eo - m[1].rm_so) >= tlen)
        return false;
    memcpy(text, name + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
    text[m[1].rm_eo - m[1].rm_so] = '\0';
    if (kt_time_pattern_parse(&s->name_time, text, t) != KT_OK) {
        kt_collect_diag(c, KT_SEV_WARNING, "file.name-time", f->path, a,
                        "name time '%s' is not valid", text);
        return false;
    }
    if (s->name_time.no_year) {
        /* The year of the file's creation, or the one before when the
         * date would lie more than a day after the file was made. */
        kt_time made = f->st->created != KT_TIME_NONE ? f->st->created : f->st->modified;
        if (made == KT_TIME_NONE)
            return false;
        char iso[KT_TIME_ISO_MAX], with[160];
        kt_time_format_iso(made, iso);
        int year = (int)strtol(iso, NULL, 10);
        kt_time_pattern tp = s->name_time;
        char pattern[160];
        snprintf(pattern, sizeof pattern, "%%Y|%s", s->name_time.pattern);
        tp.pattern = pattern;
        tp.no_year = false;
        for (int k = 0; k < 2; k++, year--) {
            snprintf(with, sizeof with, "%04d|%s", year, text);
            if (kt_time_pattern_parse(&tp, with, t) != KT_OK)
                continue; /* 29 February of a common year */
            if (*t <= made + DAY_NS)
                break;
        }
        if (*t > made + DAY_NS)
            return false;
        snprintf(with, sizeof with, "%s, year %d from the file's creation", text, year);
        kt_strlcpy(text, with, tlen);
    }
    return true;
}

#define MAX_LINE_FINDS 10000 /* per file */

/* One matching line as an event. */
static void line_find(kt_collector *c, const kt_artifact *a, const kt_find *f, const char *line,
                      const regmatch_t *m, size_t lineno, const char *text, kt_time t,
                      const char *dated_by)
{
    const spec *s = a->spec;
    kt_find lf = *f;
    lf.line = line;
    lf.groups = m;
    lf.ngroups = 10;
    char src[600], value[64], what[KT_FS_PATH_MAX + 600];
    kt_event_draft e;
    kt_emit_begin(c, a, &lf, &e);
    if (dated_by)
        snprintf(src, sizeof src, "line %zu '%s', dated by the file name '%s'", lineno, text,
                 dated_by);
    else
        snprintf(src, sizeof src, "line %zu '%s'", lineno, text);
    kt_collect_convert(c, &s->parse_time, &t, src, sizeof src, &e.ev.zone);
    e.ev.time = t;
    e.ev.precision = s->parse_time.precision;
    e.ev.time_source = src;
    snprintf(value, sizeof value, "line %zu", lineno);
    e.ev.value = value;
    kt_emit_file(&e, f);
    snprintf(what, sizeof what, " (%s%s line %zu: %.400s)", f->deleted ? "deleted: " : "", f->path,
             lineno, line);
    kt_emit(c, &e, what);
}

/* parse: lines: every line the regex matches is a find. With date: name,
 * the line's time of day takes its date from the file name, a day later
 * each time the clock goes backwards (a log that runs past midnight). */
static void parse_lines(kt_collector *c, const kt_artifact *a, const kt_find *f)
{
    const spec *s = a->spec;
    kt_time day = KT_TIME_NONE, prev = 0;
    char ntext[128];
    if (s->date_from_name) {
        kt_time start;
        if (!s->has_name_time || !name_time(c, a, f, &start, ntext, sizeof ntext))
            return;
        day = start - ((start % DAY_NS) + DAY_NS) % DAY_NS;
        prev = start - day;
    }
    kt_buf b = {0};
    if (kt_file_read(c, a, f, KT_COLLECT_MAX_PARSE, &b))
        return;
    size_t lineno = 0, finds = 0;
    for (char *line = (char *)b.data; line && *line && !c->rc;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r')
            line[ll - 1] = '\0';
        regmatch_t m[10];
        char text[128];
        kt_time t;
        if (regexec(&s->parse_regex, line, 10, m, 0) == 0 && m[1].rm_so >= 0 &&
            (size_t)(m[1].rm_eo - m[1].rm_so) < sizeof text) {
            memcpy(text, line + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
            text[m[1].rm_eo - m[1].rm_so] = '\0';
            if (kt_time_pattern_parse(&s->parse_time, text, &t) != KT_OK) {
                kt_collect_diag(c, KT_SEV_WARNING, "file.line-time", f->path, a,
                                "line %zu: time '%s' is not valid", lineno, text);
            } else if (++finds > MAX_LINE_FINDS) {
                kt_collect_diag(c, KT_SEV_WARNING, "limit.lines", f->path, a,
                                "more than %d matching lines; the rest are skipped",
                                MAX_LINE_FINDS);
                break;
            } else {
                if (day != KT_TIME_NONE) {
                    if (t < prev)
                        day += DAY_NS;
                    prev = t;
                    t += day;
                }
                line_find(c, a, f, line, m, lineno, text, t, day != KT_TIME_NONE ? ntext : NULL);
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    kt_buf_release(&b);
}

/* content: the file counts only when its content matches. */
static bool content_matches(kt_collector *c, const kt_artifact *a, const kt_find *f)
{
    const spec *s = a->spec;
    /* Answer and settings files are small; a large file in /tmp is not
     * one, and is passed by without reading it. */
    if (f->st->size > KT_COLLECT_MAX_PARSE)
        return false;
    kt_buf b = {0};
    if (kt_file_read(c, a, f, KT_COLLECT_MAX_PARSE, &b))
        return false;
    if (kt_buf_append(&b, "", 1) != KT_OK) {
        kt_buf_release(&b);
        c->rc = KT_ENOMEM;
        return false;
    }
    bool hit = regexec(&s->content_regex, (const char *)b.data, 0, NULL, 0) == 0;
    kt_buf_release(&b);
    return hit;
}

static void found(kt_collector *c, const kt_artifact *a, const kt_find *f)
{
    const spec *s = a->spec;
    if (s->has_content_regex && !content_matches(c, a, f))
        return;
    char what[KT_FS_PATH_MAX + 64];
    snprintf(what, sizeof what, " (%s%s)", f->deleted ? "deleted: " : "", f->path);
    kt_file_time_finds(c, a, &s->fp, f, what);
    kt_event_draft e;
    if (s->parse == PARSE_LINES) {
        parse_lines(c, a, f);
    } else if (s->parse != PARSE_NONE) {
        kt_emit_begin(c, a, f, &e);
        char src[600];
        if (content_time(c, a, f, &e.ev.time, src, sizeof src, &e.ev.zone)) {
            kt_emit_file(&e, f);
            e.ev.precision = s->parse_time.precision;
            e.ev.time_source = src;
            kt_emit(c, &e, what);
        }
    }
    if (s->has_name_time && !s->date_from_name) {
        kt_emit_begin(c, a, f, &e);
        char text[128], src[600];
        if (!name_time(c, a, f, &e.ev.time, text, sizeof text))
            return;
        snprintf(src, sizeof src, "file name '%s'", text);
        kt_collect_convert(c, &s->name_time, &e.ev.time, src, sizeof src, &e.ev.zone);
        kt_emit_file(&e, f);
        e.ev.precision = s->name_time.precision;
        e.ev.time_source = src;
        kt_emit(c, &e, what);
    }
}

static void collect(kt_collector *c, const kt_artifact *a)
{
    const spec *s = a->spec;
    kt_file_walk(c, a, &s->fp, found);
}

const kt_source_ops kt_source_files = {
    .key = "files",
    .summary = "file and directory entries matching path patterns, allocated and deleted; "
               "dated by stored times, a time in their content or in their name",
    .parse = parse,
    .release = release,
    .detail = detail,
    .collect = collect,
};
