/* The line protocol of kavtrace's reader programs: both sides of it, the
 * encoder the programs write with (src/evtx-reader, src/prefetch-reader)
 * and the decoder the library reads with (src/parsers/evtx.c, prefetch.c).
 * reader_proto.c uses nothing but the C library: it is compiled into the
 * library and into each program.
 *
 * A line is one kind byte (printable ASCII), then each field after a TAB,
 * then '\n'. A text field has \ TAB LF CR escaped as \\ \t \n \r; numbers
 * are decimal, or 8 upper-case hex digits. A program's output ends with
 * its end line; the kinds and fields of each program are listed in its
 * main.c. The decoder is strict: an empty line, an unknown escape, a
 * missing TAB, too many fields, and anything after the end line are
 * malformed, and so is a line of a kind the session does not know; each
 * client counts a line whose fields do not suit its kind as malformed
 * too. A client reports what it counted (kt_proto_problems): output that
 * breaks the protocol is never taken for an empty result. */
#ifndef KT_READER_PROTO_H
#define KT_READER_PROTO_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- encoder ---- */

/* A line is written in parts: kt_proto_begin, the fields, kt_proto_end. */
void kt_proto_begin(FILE *f, char kind);
void kt_proto_put_text(FILE *f, const char *s); /* NULL is written as "" */
void kt_proto_put_uint(FILE *f, uint64_t v);
void kt_proto_put_hex32(FILE *f, uint32_t v);
void kt_proto_end(FILE *f);

/* A whole line of one text field, printf-formatted (a warning, an error),
 * cut at 1023 bytes. */
void kt_proto_say(FILE *f, char kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void kt_proto_vsay(FILE *f, char kind, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* ---- decoder ---- */

#define KT_PROTO_MAX_FIELDS 8

/* One decoded line: its fields point into the line, unescaped in place. */
typedef struct kt_proto_line {
    char kind;
    size_t nfields;
    char *field[KT_PROTO_MAX_FIELDS];
} kt_proto_line;

/* Decode line (NUL-terminated, without its '\n') in place into *out;
 * false when it is malformed (*out is then unusable). */
bool kt_proto_parse(char *line, kt_proto_line *out);

/* A whole number field in base 10 or 16 (no sign, no space, no "0x"), at
 * most max: true and *v, else false and *v untouched. */
bool kt_proto_number(const char *s, int base, uint64_t max, uint64_t *v);

/* One program's output, read line by line. */
typedef struct kt_proto_session {
    char end;               /* the kind of the end line */
    const char *kinds;      /* the kinds the program writes; NULL: any */
    size_t lines;           /* lines read */
    size_t malformed;       /* of which malformed */
    size_t first_malformed; /* 1-based line number of the first */
    char first_why[80];     /* what was wrong with it */
    bool ended;             /* the end line was read */
} kt_proto_session;

/* Decode the session's next line: true for a well-formed line of a known
 * kind, which the caller then acts on (an end line also sets s->ended);
 * false, and counted, for a malformed one, one of an unknown kind, and
 * any line after the end line. */
bool kt_proto_next(kt_proto_session *s, char *line, kt_proto_line *out);

/* The caller found the line last read malformed for its kind; why says
 * how (printf format), kept for the first one. */
void kt_proto_reject(kt_proto_session *s, const char *why, ...)
    __attribute__((format(printf, 2, 3)));

/* What was wrong with the session's output, as the rest of a sentence
 * whose subject is the program: "wrote 2 malformed lines (the first: line
 * 4, unknown kind 'Q') and ended without its end line"; "" when nothing
 * was. Returns buf. */
char *kt_proto_problems(const kt_proto_session *s, char *buf, size_t len);

#endif
