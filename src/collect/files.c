/* Source `files`: file and directory entries matching path patterns
 * (allocated and deleted), dated by their stored times, by a time in
 * their content (a line, every matching line, an XML attribute) or in
 * their name; optionally only when their content matches. */
#include <errno.h>
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

/* name_time `groups`: at most this many, each 1..9. */
#define NAME_GROUPS_MAX 4

typedef struct spec {
    kt_file_part fp;
    parse_format parse;
    bool has_parse_regex;
    regex_t parse_regex;
    kt_strlist attributes;
    kt_time_pattern parse_time;
    bool time_modified; /* lines without a time: the file's modified time */
    bool has_stamp;     /* a line of its own before a matching line gives its time */
    regex_t stamp_regex;
    bool date_from_name; /* a time-of-day pattern dated by name_time */
    bool has_name_time;
    regex_t name_regex;
    int name_groups[NAME_GROUPS_MAX]; /* the groups read, joined by spaces */
    size_t nname_groups;
    kt_time_pattern name_time;
    regex_t *content; /* the file counts only when its content matches every one */
    size_t ncontent;
    bool assignments; /* content_form: assignments (or ini) */
    bool ini;         /* content_form: ini: [section] lines and ';' comments too */
    size_t max_size;  /* files larger are passed by unread (content and parse) */
} spec;

/* Files one artifact reads to test their content, at most (a search with
 * "**" over home directories meets many small files). */
#define MAX_CONTENT_READS 5000

/* ---- definitions ---- */

/* name_time's `groups` (default [1]): the regex groups whose texts, joined
 * by one space, the pattern reads, so a name whose date and time are set
 * apart by optional words (KES's "date10.03_time09.15") needs no second
 * definition. Each must be a group of the regex. */
static void parse_name_groups(kt_defs *c, yaml_node_t *nt, spec *s)
{
    s->name_groups[0] = 1;
    s->nname_groups = 1;
    yaml_node_t *g = defs_get(c, nt, "groups");
    if (g == NULL)
        return;
    kt_strlist l = {0};
    defs_strings(c, nt, "groups", &l, true, "name_time");
    if (l.count == 0 || l.count > NAME_GROUPS_MAX) {
        defs_problem(c, g, "name_time: groups: give 1 to %d group numbers", NAME_GROUPS_MAX);
        kt_strlist_release(&l);
        return;
    }
    size_t ngroups = s->has_name_time ? s->name_regex.re_nsub : 9;
    s->nname_groups = 0;
    for (size_t i = 0; i < l.count; i++) {
        const char *v = l.items[i];
        if (v[0] < '1' || v[0] > '9' || v[1] != '\0' || (size_t)(v[0] - '0') > ngroups) {
            defs_problem(c, g, "name_time: groups: '%s' is not a group of the regex", v);
            continue;
        }
        s->name_groups[s->nname_groups++] = v[0] - '0';
    }
    kt_strlist_release(&l);
}

static void parse_content(kt_defs *c, yaml_node_t *f, spec *s)
{
    kt_strlist res = {0};
    defs_strings(c, f, "content", &res, false, "files");
    s->content = defs_calloc(c, res.count ? res.count : 1, sizeof *s->content);
    for (size_t i = 0; s->content && i < res.count; i++)
        if (defs_content_regex(c, defs_get(c, f, "content"), res.items[i],
                               &s->content[s->ncontent]))
            s->ncontent++;
    kt_strlist_release(&res);
    const char *form = defs_scalar(defs_get(c, f, "content_form"));
    if (form && strcmp(form, "assignments") == 0)
        s->assignments = true;
    else if (form && strcmp(form, "ini") == 0)
        s->assignments = s->ini = true;
    else if (form || defs_get(c, f, "content_form"))
        defs_problem(c, defs_get(c, f, "content_form"),
                     "files: content_form can only be 'assignments' or 'ini'");
    s->max_size = KT_COLLECT_MAX_PARSE;
    yaml_node_t *ms = defs_get(c, f, "max_size");
    if (ms) {
        const char *v = defs_scalar(ms);
        char *end = NULL;
        errno = 0;
        unsigned long long n = v ? strtoull(v, &end, 10) : 0;
        if (!v || errno || end == v || *end || v[0] == '-' || n == 0 || n > KT_COLLECT_MAX_PARSE)
            defs_problem(c, ms, "files: max_size must be bytes, 1 to %u", KT_COLLECT_MAX_PARSE);
        else
            s->max_size = (size_t)n;
    }
}

static void parse_parse(kt_defs *c, yaml_node_t *f, yaml_node_t *p, spec *s)
{
    static const char *const pkeys[] = {"format", "regex", "attributes", "pattern", "zone",
                                        "date",   "time",  "stamp",      NULL};
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
    const char *stamp = defs_scalar(defs_get(c, p, "stamp"));
    if (stamp && s->parse == PARSE_LINES) {
        /* bash's HISTTIMEFORMAT: '#<seconds>' on the line before the command */
        s->has_stamp = defs_regex(c, p, stamp, &s->stamp_regex);
        if (defs_get(c, p, "pattern") == NULL)
            defs_problem(c, p, "parse: stamp needs the pattern of its time");
        if (defs_get(c, p, "date"))
            defs_problem(c, defs_get(c, p, "date"), "parse: stamp takes no date");
    } else if (stamp || defs_get(c, p, "stamp")) {
        defs_problem(c, defs_get(c, p, "stamp"), "parse: stamp is a regex, with format: lines");
    }
    const char *tm = defs_scalar(defs_get(c, p, "time"));
    if (tm && strcmp(tm, "modified") == 0 && s->parse == PARSE_LINES) {
        /* the lines carry no time: no pattern, no zone (but a stamp's) */
        s->time_modified = true;
        if (!s->has_stamp &&
            (defs_get(c, p, "pattern") || defs_get(c, p, "zone") || defs_get(c, p, "date")))
            defs_problem(c, p, "parse: time: modified takes no pattern, zone or date");
        if (!s->has_stamp)
            return;
    } else if (tm || defs_get(c, p, "time")) {
        defs_problem(c, defs_get(c, p, "time"),
                     "parse: time can only be 'modified', with format: lines");
    }
    const char *date = defs_str(c, p, "date", "parse");
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
    spec *s = defs_calloc(c, 1, sizeof *s);
    if (s == NULL)
        return;
    a->spec = s;
    static const char *const keys[] = {"paths",     "type",    "deleted", "times",   "parse",
                                       "name_time", "product", "version", "content", "content_form",
                                       "max_size",  "names",   NULL};
    defs_check_keys(c, f, "files", keys);
    kt_file_part_parse(c, f, a, &s->fp);
    defs_strings(c, f, "names", &s->fp.names, false, "files");
    parse_content(c, f, s);
    yaml_node_t *p = defs_get(c, f, "parse");
    if (p)
        parse_parse(c, f, p, s);
    yaml_node_t *nt = defs_get(c, f, "name_time");
    if (nt) {
        static const char *const nkeys[] = {"regex", "groups", "pattern", "zone", NULL};
        defs_check_keys(c, nt, "name_time", nkeys);
        const char *re = defs_scalar(defs_get(c, nt, "regex"));
        if (re == NULL)
            defs_problem(c, nt, "name_time: 'regex' is required");
        else
            s->has_name_time = defs_regex(c, nt, re, &s->name_regex);
        parse_name_groups(c, nt, s);
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
    if (s->has_stamp)
        regfree(&s->stamp_regex);
    kt_strlist_release(&s->attributes);
    defs_pattern_release(&s->parse_time);
    if (s->has_name_time)
        regfree(&s->name_regex);
    defs_pattern_release(&s->name_time);
    for (size_t i = 0; i < s->ncontent; i++)
        regfree(&s->content[i]);
    free(s->content);
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
    if (kt_file_read(c, a, f, s->max_size, &b))
        return false;
    kt_text_nul(c, a, f, &b);
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
    regmatch_t m[10];
    if (regexec(&s->name_regex, name, 10, m, 0) != 0)
        return false;
    /* The pattern reads the groups joined by spaces; the source shows the
     * name from the first group to the last, as it is spelled. */
    char joined[160];
    size_t n = 0;
    regoff_t from = -1, to = -1;
    for (size_t i = 0; i < s->nname_groups; i++) {
        const regmatch_t *g = &m[s->name_groups[i]];
        if (g->rm_so < 0 || n + (size_t)(g->rm_eo - g->rm_so) + 2 > sizeof joined)
            return false;
        if (i > 0)
            joined[n++] = ' ';
        memcpy(joined + n, name + g->rm_so, (size_t)(g->rm_eo - g->rm_so));
        n += (size_t)(g->rm_eo - g->rm_so);
        if (from < 0 || g->rm_so < from)
            from = g->rm_so;
        if (g->rm_eo > to)
            to = g->rm_eo;
    }
    joined[n] = '\0';
    if ((size_t)(to - from) >= tlen)
        return false;
    memcpy(text, name + from, (size_t)(to - from));
    text[to - from] = '\0';
    if (kt_time_pattern_parse(&s->name_time, joined, t) != KT_OK) {
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
        char iso[KT_TIME_ISO_MAX], with[200];
        kt_time_format_iso(made, iso);
        int year = (int)strtol(iso, NULL, 10);
        kt_time_pattern tp = s->name_time;
        char pattern[160];
        snprintf(pattern, sizeof pattern, "%%Y|%s", s->name_time.pattern);
        tp.pattern = pattern;
        tp.no_year = false;
        for (int k = 0; k < 2; k++, year--) {
            snprintf(with, sizeof with, "%04d|%s", year, joined);
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

/* How a matching line is dated. */
typedef enum line_dating {
    LINE_OWN,      /* its own text (group 1 of the regex) */
    LINE_STAMP,    /* a stamp line right before it */
    LINE_MODIFIED, /* none: the file's modified time */
} line_dating;

/* One matching line as an event. `text` is the time read (its own, or the
 * stamp's on line `stamp_line`). */
static void line_find(kt_collector *c, const kt_artifact *a, const kt_find *f, const char *line,
                      const regmatch_t *m, size_t lineno, line_dating how, const char *text,
                      size_t stamp_line, kt_time t, const char *dated_by)
{
    const spec *s = a->spec;
    kt_find lf = *f;
    lf.line = line;
    lf.groups = m;
    lf.ngroups = 10;
    char src[600], value[64], what[KT_FS_PATH_MAX + 600];
    kt_event_draft e;
    kt_emit_begin(c, a, &lf, &e);
    if (how == LINE_MODIFIED) {
        /* a shell history's line: written at or before the file was */
        snprintf(src, sizeof src,
                 "line %zu has no time of its own: the file's modified time, the latest the "
                 "line can have been written",
                 lineno);
        e.ev.precision = kt_file_precision(c);
    } else {
        if (how == LINE_STAMP)
            snprintf(src, sizeof src, "line %zu, stamped '%s' on line %zu", lineno, text,
                     stamp_line);
        else if (dated_by)
            snprintf(src, sizeof src, "line %zu '%s', dated by the file name '%s'", lineno, text,
                     dated_by);
        else
            snprintf(src, sizeof src, "line %zu '%s'", lineno, text);
        kt_collect_convert(c, &s->parse_time, &t, src, sizeof src, &e.ev.zone);
        e.ev.precision = s->parse_time.precision;
    }
    e.ev.time = t;
    e.ev.time_source = src;
    snprintf(value, sizeof value, "line %zu", lineno);
    e.ev.value = value;
    kt_emit_file(&e, f);
    snprintf(what, sizeof what, " (%s%s line %zu: %.400s)", f->deleted ? "deleted: " : "", f->path,
             lineno, line);
    kt_emit(c, &e, what);
}

/* Group 1 of m in line, copied into text (false when it does not fit). */
static bool group_text(const char *line, const regmatch_t *m, char *text, size_t len)
{
    if (m[1].rm_so < 0 || (size_t)(m[1].rm_eo - m[1].rm_so) >= len)
        return false;
    memcpy(text, line + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
    text[m[1].rm_eo - m[1].rm_so] = '\0';
    return true;
}

/* parse: lines: every line the regex matches is a find. With date: name,
 * the line's time of day takes its date from the file name, a day later
 * each time the clock goes backwards (a log that runs past midnight).
 * With stamp, a line matching it gives its time to the line right after
 * it (bash's HISTTIMEFORMAT writes '#<seconds>' before each command); a
 * matching line without one takes the file's modified time (time:
 * modified) or is none. */
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
    if (kt_file_read(c, a, f, s->max_size, &b))
        return;
    kt_text_nul(c, a, f, &b);
    size_t lineno = 0, finds = 0, stamp_line = 0;
    kt_time stamp_time = KT_TIME_NONE;
    char stamp[128] = "";
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
        kt_time t = KT_TIME_NONE;
        line_dating how = LINE_OWN;
        bool hit = false;
        if (s->has_stamp && regexec(&s->stamp_regex, line, 2, m, 0) == 0) {
            /* a stamp is no command; it dates the next line */
            stamp_line = 0;
            if (group_text(line, m, stamp, sizeof stamp)) {
                if (kt_time_pattern_parse(&s->parse_time, stamp, &stamp_time) == KT_OK)
                    stamp_line = lineno;
                else
                    kt_collect_diag(c, KT_SEV_WARNING, "file.line-time", f->path, a,
                                    "line %zu: stamp '%s' is not valid", lineno, stamp);
            }
        } else if (regexec(&s->parse_regex, line, 10, m, 0) == 0) {
            if (s->has_stamp && stamp_line && stamp_line + 1 == lineno) {
                how = LINE_STAMP;
                t = stamp_time;
                kt_strlcpy(text, stamp, sizeof text);
                hit = true;
            } else if (s->time_modified) {
                how = LINE_MODIFIED;
                t = f->st->modified;
                text[0] = '\0';
                hit = t != KT_TIME_NONE;
            } else if (!s->has_stamp && group_text(line, m, text, sizeof text)) {
                if (kt_time_pattern_parse(&s->parse_time, text, &t) != KT_OK)
                    kt_collect_diag(c, KT_SEV_WARNING, "file.line-time", f->path, a,
                                    "line %zu: time '%s' is not valid", lineno, text);
                else
                    hit = true;
            }
        }
        if (hit && ++finds > MAX_LINE_FINDS) {
            kt_collect_diag(c, KT_SEV_WARNING, "limit.lines", f->path, a,
                            "more than %d matching lines; the rest are skipped", MAX_LINE_FINDS);
            break;
        }
        if (hit) {
            if (how == LINE_OWN && day != KT_TIME_NONE) {
                if (t < prev)
                    day += DAY_NS;
                prev = t;
                t += day;
            }
            line_find(c, a, f, line, m, lineno, how, text, stamp_line, t,
                      day != KT_TIME_NONE ? ntext : NULL);
        }
        line = nl ? nl + 1 : NULL;
    }
    kt_buf_release(&b);
}

/* content_form: assignments: every line blank, a '#' comment or NAME=...
 * (NAME a shell-style name): an answer file, not a page or a note that
 * quotes one. ini also takes '[section]' lines and ';' comments (a
 * settings export). Text only: a NUL byte fails. */
static bool assignments_only(const char *p, size_t len, bool ini)
{
    if (memchr(p, '\0', len))
        return false;
    for (const char *end = p + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end, *q = p;
        while (q < e && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (ini && q < e && *q == '[') {
            const char *r = e;
            while (r > q && (r[-1] == ' ' || r[-1] == '\t' || r[-1] == '\r'))
                r--;
            if (r - q < 3 || r[-1] != ']')
                return false;
        } else if (q < e && *q != '#' && !(ini && *q == ';')) {
            if (!((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || *q == '_'))
                return false;
            while (q < e && ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') ||
                             (*q >= '0' && *q <= '9') || *q == '_' || (ini && *q == '.')))
                q++;
            while (q < e && (*q == ' ' || *q == '\t'))
                q++;
            if (q == e || *q != '=')
                return false;
        }
        p = nl ? nl + 1 : end;
    }
    return true;
}

typedef struct content_state {
    size_t reads;
    bool capped;
} content_state;

static content_state *cstate(kt_collector *c)
{
    return (content_state *)*kt_collect_state(c, &kt_source_files);
}

/* content: the file counts only when its content matches. */
static bool content_matches(kt_collector *c, const kt_artifact *a, const kt_find *f)
{
    const spec *s = a->spec;
    /* Answer and settings files are small; a larger file is not one, and
     * is passed by without reading it. */
    if (f->st->size < 0 || (uint64_t)f->st->size > s->max_size)
        return false;
    content_state *cs = cstate(c);
    if (cs && cs->reads >= MAX_CONTENT_READS) {
        cs->capped = true;
        return false;
    }
    if (cs)
        cs->reads++;
    kt_buf b = {0};
    if (kt_file_read(c, a, f, s->max_size, &b))
        return false;
    kt_text_nul(c, a, f, &b);
    if (kt_buf_append(&b, "", 1) != KT_OK) {
        kt_buf_release(&b);
        c->rc = KT_ENOMEM;
        return false;
    }
    bool hit = !s->assignments || assignments_only((const char *)b.data, b.len - 1, s->ini);
    for (size_t i = 0; hit && i < s->ncontent; i++)
        hit = regexec(&s->content[i], (const char *)b.data, 0, NULL, 0) == 0;
    kt_buf_release(&b);
    return hit;
}

static void found(kt_collector *c, const kt_artifact *a, const kt_find *f)
{
    const spec *s = a->spec;
    if ((s->ncontent || s->assignments) && !content_matches(c, a, f))
        return;
    char what[2 * KT_FS_PATH_MAX + 64], target[KT_FS_PATH_MAX] = "";
    if (f->st->type == KT_FT_LINK && !f->deleted &&
        kt_fs_readlink(c->fs, f->path, target, sizeof target, NULL) != KT_OK)
        target[0] = '\0';
    snprintf(what, sizeof what, " (%s%s%s%s)", f->deleted ? "deleted: " : "", f->path,
             target[0] ? " -> " : "", target);
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
    content_state cs = {0};
    void **slot = kt_collect_state(c, &kt_source_files);
    if (slot)
        *slot = &cs;
    kt_file_walk(c, a, &s->fp, found);
    if (slot)
        *slot = NULL;
    if (cs.capped)
        kt_collect_diag(c, KT_SEV_WARNING, "limit.content", NULL, a,
                        "content of more than %d files tested: the rest is passed by unread",
                        MAX_CONTENT_READS);
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
