/* kt-mkevtx: write a Windows XML event log (EVTX) from a text spec, byte for
 * byte the same on every run.
 *
 * Usage: kt-mkevtx SPEC OUT.evtx
 *
 * Writes OUT.tmp and renames it to OUT; on any error OUT is left untouched
 * and OUT.tmp is removed.  Nothing depends on the clock, the environment or
 * memory addresses.
 *
 * Spec: UTF-8 text, one directive per line, fields separated by one TAB;
 * blank lines and lines starting with '#' are ignored; a trailing CR and a
 * leading BOM are dropped.
 *   record TIME PROVIDER GUID EVENTID LEVEL CHANNEL COMPUTER [DATA...]
 *   filler COUNT START STEP PROVIDER GUID EVENTID LEVEL CHANNEL COMPUTER [DATA...]
 *       COUNT records at START, START+STEP, ... (STEP in seconds, up to 7
 *       fraction digits, may be 0), all with the same data.
 *   execution PID TID
 *       ProcessID/ThreadID of the records that follow (default 0 0).
 * TIME is YYYY-MM-DDTHH:MM:SS[.fffffff]Z (UTC, up to 7 digits = 100 ns); it
 * is both TimeCreated and the record's written time.  GUID is
 * {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx} (kept as spelled) or "-" for none.
 * EVENTID 0..65535, LEVEL 0..255.  DATA is "Name=value" (<Data Name="Name">)
 * or "=value" (<Data>); Name is [A-Za-z_][A-Za-z0-9_.-]*.  Escapes in values:
 * \t \n \r \\; any other backslash is literal (C:\Users needs no doubling,
 * but C:\new must be written C:\\new).  Control characters other than TAB,
 * LF and CR (real Kaspersky payloads end their lines with CR LF) are
 * refused.  Records get ids 1, 2, ... in spec order; a spec without records
 * is an error.
 *
 * Exit: 0 done, 1 bad spec or failure ("SPEC:LINE: message"), 2 usage.
 *
 * What is written (as Windows does; offsets from libyal's "Windows XML Event
 * Log (EVTX)" notes and [MS-EVEN6]):
 *   - file header (4 KiB): "ElfFile\0", first/last chunk number, next record
 *     id, header size 128, version 3.1, header block size 4096, chunk count,
 *     flags 0 (clean), CRC32 of bytes 0..119 at 124;
 *   - 64 KiB chunks: "ElfChnk\0", first/last record number and id, header
 *     size 128, last record offset, free space offset, CRC32 of the records
 *     at 0x34, CRC32 of bytes 0..119 and 128..511 at 0x7C; the common string
 *     table (64 buckets at 0x80) and template table (32 buckets at 0x180)
 *     are filled, each bucket a chain through the entries' "next" fields;
 *   - records: 0x00002a2a, size, id, FILETIME, binary XML, size copy.  The
 *     binary XML is a fragment header and a template instance (0x0C) then an
 *     end-of-file token.  The first record of a chunk that uses a template
 *     carries its definition; later records of that chunk refer to it by
 *     offset.  Element and attribute names are likewise stored once per chunk
 *     (name hash: h = h * 65599 + c over UTF-16 units, low 16 bits).
 *   - one template per (provider, GUID, channel, computer, Data names)
 *     shape.  Provider, Guid, Channel, Computer and the Data names are literal
 *     text in the template, everything else is a substitution:
 *        0 Level u8, 1 Opcode u8 (0), 2 Task u16 (0), 3 EventID u16,
 *        4 Qualifiers u16 (0 without a GUID, else NULL: attribute omitted),
 *        5 Keywords hex64 (0x80000000000000), 6 TimeCreated FILETIME,
 *        7/8 ActivityID/RelatedActivityID NULL, 9/10 ProcessID/ThreadID u32,
 *        11 EventRecordID u64, 12 Version u8 (0), 13 UserID NULL,
 *        14.. the Data values (UTF-16 strings, no terminator).
 *     The template GUID is a hash of the shape, so it is stable across chunks
 *     and runs.
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define FILE_HDR_SIZE 0x1000u
#define CHUNK_SIZE 0x10000u
#define CHUNK_HDR_SIZE 0x200u
#define CHUNK_STRINGS 0x80u   /* 64 x u32 common string offsets */
#define CHUNK_TEMPLATES 0x180u /* 32 x u32 template pointers */
#define MAX_CHUNKS 0xFFFFu    /* the chunk count is 16 bits */

/* Binary XML tokens and value types ([MS-EVEN6] 2.2.12). */
enum {
	T_EOF = 0x00,
	T_OPEN = 0x01,
	T_OPEN_ATTRS = 0x41,
	T_CLOSE_START = 0x02,
	T_CLOSE_EMPTY = 0x03,
	T_END = 0x04,
	T_VALUE = 0x05,
	T_ATTR = 0x06,
	T_ATTR_MORE = 0x46,
	T_TEMPLATE = 0x0C,
	T_SUB = 0x0D,
	T_OPTSUB = 0x0E,
	T_FRAGMENT = 0x0F,
};
enum {
	V_NULL = 0x00,
	V_STRING = 0x01,
	V_U8 = 0x04,
	V_U16 = 0x06,
	V_U32 = 0x08,
	V_U64 = 0x0A,
	V_GUID = 0x0F,
	V_FILETIME = 0x11,
	V_SID = 0x13,
	V_HEX64 = 0x15,
};
#define NSUB_SYSTEM 14u
#define KEYWORDS_CLASSIC UINT64_C(0x0080000000000000)
#define EVENT_NS "http://schemas.microsoft.com/win/2004/08/events/event"

/* ---- small helpers ------------------------------------------------------- */

static const char *spec_path;
static unsigned long spec_line;

__attribute__((format(printf, 1, 2))) static void spec_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s:%lu: ", spec_path, spec_line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fputs("kt-mkevtx: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fputs("kt-mkevtx: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = xmalloc(n);
	memcpy(p, s, n);
	return p;
}

static void le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t crc(const uint8_t *p, size_t n)
{
	return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

static uint64_t fnv1a(const char *s, uint64_t basis)
{
	uint64_t h = basis;
	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/* ---- text ------------------------------------------------------------------ */

struct u16s {
	uint16_t *p;
	size_t n; /* UTF-16 units */
};

/* Strict UTF-8 to UTF-16.  C0 controls (and DEL, C1, U+FFFE/U+FFFF) are
 * refused, except TAB and LF when allow_tab_lf. */
static bool to_utf16(const char *s, bool allow_tab_lf, struct u16s *out, const char *what)
{
	size_t len = strlen(s);
	uint16_t *p = xmalloc(2 * len + 2);
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		uint8_t c = (uint8_t)s[i];
		uint32_t cp;
		size_t k;
		if (c < 0x80) {
			cp = c;
			k = 1;
		} else if (c >= 0xC2 && c <= 0xDF) {
			cp = c & 0x1Fu;
			k = 2;
		} else if (c >= 0xE0 && c <= 0xEF) {
			cp = c & 0x0Fu;
			k = 3;
		} else if (c >= 0xF0 && c <= 0xF4) {
			cp = c & 0x07u;
			k = 4;
		} else {
			goto bad_utf8;
		}
		if (i + k > len)
			goto bad_utf8;
		for (size_t j = 1; j < k; j++) {
			uint8_t cc = (uint8_t)s[i + j];
			if ((cc & 0xC0) != 0x80)
				goto bad_utf8;
			cp = cp << 6 | (cc & 0x3Fu);
		}
		if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			goto bad_utf8;
		if ((cp < 0x20 && !(allow_tab_lf && (cp == '\t' || cp == '\n' || cp == '\r'))) ||
		    (cp >= 0x7F && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF) {
			spec_error("%s: control character U+%04" PRIX32 " not allowed", what, cp);
			free(p);
			return false;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			p[n++] = (uint16_t)(0xD800 | (cp >> 10));
			p[n++] = (uint16_t)(0xDC00 | (cp & 0x3FF));
		} else {
			p[n++] = (uint16_t)cp;
		}
		i += k;
	}
	out->p = p;
	out->n = n;
	return true;
bad_utf8:
	spec_error("%s: invalid UTF-8", what);
	free(p);
	return false;
}

/* \t \n \r \\ -> TAB LF CR backslash; other backslashes stay. */
static char *unescape(const char *s)
{
	size_t len = strlen(s);
	char *o = xmalloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len && (s[i + 1] == 't' || s[i + 1] == 'n' || s[i + 1] == 'r' || s[i + 1] == '\\')) {
			o[n++] = s[i + 1] == 't' ? '\t' : s[i + 1] == 'n' ? '\n' : s[i + 1] == 'r' ? '\r' : '\\';
			i++;
		} else {
			o[n++] = s[i];
		}
	}
	o[n] = '\0';
	return o;
}

static bool valid_xml_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

/* ---- numbers and times -------------------------------------------------------- */

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (!*s)
		return false;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* Fixed-width decimal digits. */
static bool digits(const char *s, int n, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* ".fffffff" (1..7 digits) at s, to 100 ns units; advances *s. */
static bool fraction(const char **s, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;
	const char *p = *s;
	if (*p != '.') {
		*out = 0;
		return true;
	}
	for (p++; *p >= '0' && *p <= '9'; p++) {
		if (++n > 7)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (n == 0)
		return false;
	for (; n < 7; n++)
		v *= 10;
	*s = p;
	*out = v;
	return true;
}

static bool leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* ISO 8601 UTC to FILETIME (100 ns since 1601-01-01). */
static bool parse_time(const char *s, uint64_t *out)
{
	static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h, mi, sec;
	uint64_t frac;
	if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':' ||
	    !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return false;
	const char *p = s + 19;
	if (!fraction(&p, &frac) || strcmp(p, "Z") != 0)
		return false;
	if (y < 1601 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
		return false;
	if (d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return false;
	uint64_t days = 0;
	for (unsigned yy = 1601; yy < y; yy++)
		days += leap(yy) ? 366 : 365;
	for (unsigned m = 1; m < mo; m++)
		days += mdays[m - 1] + (m == 2 && leap(y));
	days += d - 1;
	*out = ((days * 86400 + h * 3600u + mi * 60u + sec) * UINT64_C(10000000)) + frac;
	return true;
}

/* Seconds with up to 7 fraction digits, to 100 ns units. */
static bool parse_step(const char *s, uint64_t *out)
{
	const char *dot = strchr(s, '.');
	size_t ilen = dot ? (size_t)(dot - s) : strlen(s);
	if (ilen == 0 || ilen > 12)
		return false;
	uint64_t secs = 0;
	for (size_t i = 0; i < ilen; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		secs = secs * 10 + (uint64_t)(s[i] - '0');
	}
	uint64_t frac = 0;
	const char *p = s + ilen;
	if (!fraction(&p, &frac) || *p)
		return false;
	*out = secs * UINT64_C(10000000) + frac;
	return true;
}

static bool valid_guid(const char *s)
{
	static const char form[] = "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}";
	if (strlen(s) != sizeof form - 1)
		return false;
	for (size_t i = 0; form[i]; i++) {
		if (form[i] == 'x') {
			char c = s[i];
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
				return false;
		} else if (s[i] != form[i]) {
			return false;
		}
	}
	return true;
}

/* ---- shapes (one template each) ------------------------------------------------- */

struct shape {
	char *key;
	uint64_t hash;
	struct u16s provider, guid, channel, computer; /* guid.p NULL: none */
	size_t ndata;
	char **names; /* NULL entries: unnamed <Data> */
	uint8_t tguid[16];
	uint32_t gen;     /* chunk generation in which def_off is valid */
	uint32_t def_off; /* template definition offset in that chunk */
};

static struct shape **shapes;
static size_t nshapes, shape_cap; /* open-addressed table, cap a power of 2 */

static void shapes_grow(void)
{
	size_t ncap = shape_cap ? shape_cap * 2 : 64;
	struct shape **n = xmalloc(ncap * sizeof *n);
	memset(n, 0, ncap * sizeof *n);
	for (size_t i = 0; i < shape_cap; i++) {
		if (!shapes[i])
			continue;
		size_t j = shapes[i]->hash & (ncap - 1);
		while (n[j])
			j = (j + 1) & (ncap - 1);
		n[j] = shapes[i];
	}
	free(shapes);
	shapes = n;
	shape_cap = ncap;
}

/* key: the fields joined with 0x1F, data names as "=name" or "-" */
static struct shape *shape_get(const char *provider, const char *guid, const char *channel,
			       const char *computer, size_t ndata, char *const *names)
{
	size_t klen = strlen(provider) + strlen(guid) + strlen(channel) + strlen(computer) + 8;
	for (size_t i = 0; i < ndata; i++)
		klen += (names[i] ? strlen(names[i]) : 0) + 2;
	char *key = xmalloc(klen);
	size_t n = 0;
	const char *parts[4] = {provider, guid, channel, computer};
	for (int i = 0; i < 4; i++) {
		size_t l = strlen(parts[i]);
		memcpy(key + n, parts[i], l);
		n += l;
		key[n++] = '\x1f';
	}
	for (size_t i = 0; i < ndata; i++) {
		if (names[i]) {
			size_t l = strlen(names[i]);
			key[n++] = '=';
			memcpy(key + n, names[i], l);
			n += l;
		} else {
			key[n++] = '-';
		}
		key[n++] = '\x1f';
	}
	key[n] = '\0';
	uint64_t h = fnv1a(key, UINT64_C(0xcbf29ce484222325));
	if (shape_cap) {
		for (size_t j = h & (shape_cap - 1); shapes[j]; j = (j + 1) & (shape_cap - 1))
			if (shapes[j]->hash == h && strcmp(shapes[j]->key, key) == 0) {
				free(key);
				return shapes[j];
			}
	}
	struct shape *s = xmalloc(sizeof *s);
	memset(s, 0, sizeof *s);
	s->key = key;
	s->hash = h;
	if (!to_utf16(provider, false, &s->provider, "provider") ||
	    !to_utf16(channel, false, &s->channel, "channel") ||
	    !to_utf16(computer, false, &s->computer, "computer") ||
	    (strcmp(guid, "-") != 0 && !to_utf16(guid, false, &s->guid, "guid"))) {
		free(s->provider.p);
		free(s->channel.p);
		free(s->computer.p);
		free(s->key);
		free(s);
		return NULL;
	}
	s->ndata = ndata;
	s->names = xmalloc(ndata * sizeof *s->names);
	for (size_t i = 0; i < ndata; i++)
		s->names[i] = names[i] ? xstrdup(names[i]) : NULL;
	/* Template GUID: two FNV-1a hashes of the shape, tagged with the tool. */
	uint64_t a = fnv1a(key, UINT64_C(0x6b742d6d6b657674)); /* "kt-mkevt" */
	uint64_t b = fnv1a(key, a ^ UINT64_C(0x9e3779b97f4a7c15));
	le64(s->tguid, a);
	le64(s->tguid + 8, b);
	if (2 * (nshapes + 1) > shape_cap)
		shapes_grow();
	size_t j = h & (shape_cap - 1);
	while (shapes[j])
		j = (j + 1) & (shape_cap - 1);
	shapes[j] = s;
	nshapes++;
	return s;
}

static void shapes_free(void)
{
	for (size_t i = 0; i < shape_cap; i++) {
		struct shape *s = shapes[i];
		if (!s)
			continue;
		for (size_t k = 0; k < s->ndata; k++)
			free(s->names[k]);
		free(s->names);
		free(s->provider.p);
		free(s->guid.p);
		free(s->channel.p);
		free(s->computer.p);
		free(s->key);
		free(s);
	}
	free(shapes);
}

/* ---- the writer ---------------------------------------------------------------- */

struct name_ent {
	const char *name;
	uint32_t off;
};

struct writer {
	FILE *f;
	const char *path;
	uint8_t chunk[CHUNK_SIZE];
	uint32_t pos;      /* next free byte in the chunk */
	bool overflow;     /* a put ran past the chunk */
	uint32_t last_rec; /* offset of the last record */
	uint64_t first_id, last_id;
	uint32_t nrec; /* records in the current chunk */
	uint32_t gen;  /* chunk generation, for shape->def_off */
	uint64_t nchunks;
	uint64_t next_id;
	struct name_ent *names;
	size_t nnames, names_cap;
};

static void put(struct writer *w, const void *p, size_t n)
{
	if (w->overflow || n > CHUNK_SIZE - w->pos) {
		w->overflow = true;
		return;
	}
	memcpy(w->chunk + w->pos, p, n);
	w->pos += (uint32_t)n;
}

static void put8(struct writer *w, uint8_t v)
{
	put(w, &v, 1);
}

static void put16(struct writer *w, uint16_t v)
{
	uint8_t b[2];
	le16(b, v);
	put(w, b, 2);
}

static void put32(struct writer *w, uint32_t v)
{
	uint8_t b[4];
	le32(b, v);
	put(w, b, 4);
}

static void put64(struct writer *w, uint64_t v)
{
	uint8_t b[8];
	le64(b, v);
	put(w, b, 8);
}

static void put_u16s(struct writer *w, const struct u16s *s)
{
	for (size_t i = 0; i < s->n && !w->overflow; i++)
		put16(w, s->p[i]);
}

static void patch32(struct writer *w, uint32_t at, uint32_t v)
{
	if (!w->overflow)
		le32(w->chunk + at, v);
}

/* A name reference: the chunk offset of the name, stored inline right after
 * the reference the first time the chunk uses it. */
static void put_name(struct writer *w, const char *name)
{
	for (size_t i = 0; i < w->nnames; i++)
		if (strcmp(w->names[i].name, name) == 0) {
			put32(w, w->names[i].off);
			return;
		}
	uint32_t off = w->pos + 4;
	size_t len = strlen(name); /* ASCII: valid_xml_name or a fixed name */
	uint16_t hash = 0;
	for (size_t i = 0; i < len; i++)
		hash = (uint16_t)(hash * 65599u + (uint8_t)name[i]);
	uint32_t slot = CHUNK_STRINGS + 4u * (hash % 64u);
	put32(w, off);
	put32(w, rd32(w->chunk + slot)); /* next in this bucket */
	put16(w, hash);
	put16(w, (uint16_t)len);
	for (size_t i = 0; i < len; i++)
		put16(w, (uint8_t)name[i]);
	put16(w, 0);
	if (w->overflow)
		return;
	le32(w->chunk + slot, off);
	if (w->nnames == w->names_cap) {
		w->names_cap = w->names_cap ? 2 * w->names_cap : 64;
		w->names = xrealloc(w->names, w->names_cap * sizeof *w->names);
	}
	w->names[w->nnames].name = name;
	w->names[w->nnames].off = off;
	w->nnames++;
}

struct elem {
	uint32_t start, attrs_at;
	bool attrs;
};

static struct elem open_elem(struct writer *w, const char *name, bool attrs)
{
	struct elem e = {w->pos, 0, attrs};
	put8(w, attrs ? T_OPEN_ATTRS : T_OPEN);
	put16(w, 0xFFFF); /* dependency: none */
	put32(w, 0);      /* data size, patched by end_elem */
	put_name(w, name);
	if (attrs) {
		e.attrs_at = w->pos;
		put32(w, 0); /* attribute list size, patched by close_start */
	}
	return e;
}

static void attr_name(struct writer *w, const char *name, bool more)
{
	put8(w, more ? T_ATTR_MORE : T_ATTR);
	put_name(w, name);
}

static void value_text(struct writer *w, const struct u16s *s)
{
	put8(w, T_VALUE);
	put8(w, V_STRING);
	put16(w, (uint16_t)s->n);
	put_u16s(w, s);
}

static void subst(struct writer *w, bool optional, uint16_t index, uint8_t type)
{
	put8(w, optional ? T_OPTSUB : T_SUB);
	put16(w, index);
	put8(w, type);
}

/* Close the start tag: '>' (content follows) or '/>' (empty element). */
static void close_start(struct writer *w, struct elem *e, bool empty)
{
	if (e->attrs)
		patch32(w, e->attrs_at, w->pos - (e->attrs_at + 4));
	put8(w, empty ? T_CLOSE_EMPTY : T_CLOSE_START);
	if (empty)
		patch32(w, e->start + 3, w->pos - (e->start + 7));
}

static void end_elem(struct writer *w, struct elem *e)
{
	put8(w, T_END);
	patch32(w, e->start + 3, w->pos - (e->start + 7));
}

/* <NAME>[optional substitution]</NAME> */
static void sub_elem(struct writer *w, const char *name, bool optional, uint16_t index, uint8_t type)
{
	struct elem e = open_elem(w, name, false);
	close_start(w, &e, false);
	subst(w, optional, index, type);
	end_elem(w, &e);
}

static void text_elem(struct writer *w, const char *name, const struct u16s *text)
{
	struct elem e = open_elem(w, name, false);
	close_start(w, &e, false);
	value_text(w, text);
	end_elem(w, &e);
}

/* The template definition at w->pos: next, GUID, size, then the fragment. */
static void put_template(struct writer *w, struct shape *s)
{
	static struct u16s ns;
	static uint16_t ns_buf[sizeof EVENT_NS];
	if (!ns.p) {
		for (size_t i = 0; i < sizeof EVENT_NS - 1; i++)
			ns_buf[i] = (uint8_t)EVENT_NS[i];
		ns.p = ns_buf;
		ns.n = sizeof EVENT_NS - 1;
	}
	uint32_t def = w->pos;
	uint32_t slot = CHUNK_TEMPLATES + 4u * (rd32(s->tguid) % 32u);
	put32(w, rd32(w->chunk + slot)); /* next template in this bucket */
	put(w, s->tguid, 16);
	uint32_t size_at = w->pos;
	put32(w, 0);

	put8(w, T_FRAGMENT);
	put8(w, 1);
	put8(w, 1);
	put8(w, 0);
	struct elem ev = open_elem(w, "Event", true);
	attr_name(w, "xmlns", false);
	value_text(w, &ns);
	close_start(w, &ev, false);

	struct elem sys = open_elem(w, "System", false);
	close_start(w, &sys, false);

	struct elem e = open_elem(w, "Provider", true);
	attr_name(w, "Name", s->guid.p != NULL);
	value_text(w, &s->provider);
	if (s->guid.p) {
		attr_name(w, "Guid", false);
		value_text(w, &s->guid);
	}
	close_start(w, &e, true);

	e = open_elem(w, "EventID", true);
	attr_name(w, "Qualifiers", false);
	subst(w, true, 4, V_U16);
	close_start(w, &e, false);
	subst(w, true, 3, V_U16);
	end_elem(w, &e);

	sub_elem(w, "Version", true, 12, V_U8);
	sub_elem(w, "Level", true, 0, V_U8);
	sub_elem(w, "Task", true, 2, V_U16);
	sub_elem(w, "Opcode", true, 1, V_U8);
	sub_elem(w, "Keywords", true, 5, V_HEX64);

	e = open_elem(w, "TimeCreated", true);
	attr_name(w, "SystemTime", false);
	subst(w, false, 6, V_FILETIME);
	close_start(w, &e, true);

	sub_elem(w, "EventRecordID", true, 11, V_U64);

	e = open_elem(w, "Correlation", true);
	attr_name(w, "ActivityID", true);
	subst(w, true, 7, V_GUID);
	attr_name(w, "RelatedActivityID", false);
	subst(w, true, 8, V_GUID);
	close_start(w, &e, true);

	e = open_elem(w, "Execution", true);
	attr_name(w, "ProcessID", true);
	subst(w, true, 9, V_U32);
	attr_name(w, "ThreadID", false);
	subst(w, true, 10, V_U32);
	close_start(w, &e, true);

	text_elem(w, "Channel", &s->channel);
	text_elem(w, "Computer", &s->computer);

	e = open_elem(w, "Security", true);
	attr_name(w, "UserID", false);
	subst(w, true, 13, V_SID);
	close_start(w, &e, true);

	end_elem(w, &sys);

	struct elem data = open_elem(w, "EventData", false);
	close_start(w, &data, s->ndata == 0);
	if (s->ndata) {
		for (size_t i = 0; i < s->ndata; i++) {
			e = open_elem(w, "Data", s->names[i] != NULL);
			if (s->names[i]) {
				attr_name(w, "Name", false);
				struct u16s nm;
				uint16_t buf[256];
				size_t len = strlen(s->names[i]);
				if (len > 256) {
					w->overflow = true; /* reported as too large */
					return;
				}
				for (size_t k = 0; k < len; k++)
					buf[k] = (uint8_t)s->names[i][k];
				nm.p = buf;
				nm.n = len;
				value_text(w, &nm);
			}
			close_start(w, &e, false);
			subst(w, false, (uint16_t)(NSUB_SYSTEM + i), V_STRING);
			end_elem(w, &e);
		}
		end_elem(w, &data);
	}
	end_elem(w, &ev);
	put8(w, T_EOF);
	patch32(w, size_at, w->pos - (size_at + 4));
	if (!w->overflow)
		le32(w->chunk + slot, def);
}

struct event {
	struct shape *shape;
	uint64_t time;
	uint16_t id;
	uint8_t level;
	uint32_t pid, tid;
	struct u16s *values; /* shape->ndata */
};

/* Appends one record; false if it does not fit (the chunk is unchanged). */
static bool put_record(struct writer *w, const struct event *ev, uint64_t rid)
{
	struct shape *s = ev->shape;
	uint32_t start = w->pos;
	size_t nnames = w->nnames;
	uint8_t tables[CHUNK_HDR_SIZE - CHUNK_STRINGS];
	memcpy(tables, w->chunk + CHUNK_STRINGS, sizeof tables);
	w->overflow = false;

	put32(w, 0x00002a2a);
	put32(w, 0); /* size */
	put64(w, rid);
	put64(w, ev->time);

	put8(w, T_FRAGMENT);
	put8(w, 1);
	put8(w, 1);
	put8(w, 0);
	put8(w, T_TEMPLATE);
	put8(w, 1);
	put32(w, rd32(s->tguid));
	bool resident = s->gen != w->gen;
	if (resident) {
		uint32_t def = w->pos + 4;
		put32(w, def);
		put_template(w, s);
	} else {
		put32(w, s->def_off);
	}

	/* Substitution values: descriptors (size, type), then the data. */
	uint32_t nsub = NSUB_SYSTEM + (uint32_t)s->ndata;
	put32(w, nsub);
	struct {
		uint16_t size;
		uint8_t type;
	} d[NSUB_SYSTEM] = {
		{1, V_U8},       {1, V_U8},  {2, V_U16},      {2, V_U16}, {2, V_U16}, {8, V_HEX64}, {8, V_FILETIME},
		{0, V_NULL},     {0, V_NULL}, {4, V_U32},     {4, V_U32}, {8, V_U64}, {1, V_U8},    {0, V_NULL},
	};
	if (s->guid.p) { /* manifest provider: no Qualifiers */
		d[4].size = 0;
		d[4].type = V_NULL;
	}
	for (uint32_t i = 0; i < NSUB_SYSTEM; i++) {
		put16(w, d[i].size);
		put8(w, d[i].type);
		put8(w, 0);
	}
	for (size_t i = 0; i < s->ndata; i++) {
		if (ev->values[i].n > 0x7FFF) {
			w->overflow = true;
			break;
		}
		put16(w, (uint16_t)(2 * ev->values[i].n));
		put8(w, V_STRING);
		put8(w, 0);
	}
	put8(w, ev->level);
	put8(w, 0);  /* Opcode */
	put16(w, 0); /* Task */
	put16(w, ev->id);
	if (!s->guid.p)
		put16(w, 0); /* Qualifiers */
	put64(w, KEYWORDS_CLASSIC);
	put64(w, ev->time);
	put32(w, ev->pid);
	put32(w, ev->tid);
	put64(w, rid);
	put8(w, 0); /* Version */
	for (size_t i = 0; i < s->ndata; i++)
		put_u16s(w, &ev->values[i]);
	put8(w, T_EOF);
	uint32_t size = w->pos + 4 - start;
	put32(w, size);

	if (w->overflow) {
		memset(w->chunk + start, 0, w->pos - start);
		w->pos = start;
		w->nnames = nnames;
		memcpy(w->chunk + CHUNK_STRINGS, tables, sizeof tables);
		w->overflow = false;
		return false;
	}
	le32(w->chunk + start + 4, size);
	if (resident) {
		s->gen = w->gen;
		s->def_off = start + 24 + 4 + 10;
	}
	if (w->nrec == 0)
		w->first_id = rid;
	w->last_id = rid;
	w->last_rec = start;
	w->nrec++;
	return true;
}

static void chunk_reset(struct writer *w)
{
	memset(w->chunk, 0, sizeof w->chunk);
	w->pos = CHUNK_HDR_SIZE;
	w->nrec = 0;
	w->nnames = 0;
	w->gen++;
}

static bool chunk_flush(struct writer *w)
{
	if (w->nrec == 0)
		return true;
	if (w->nchunks >= MAX_CHUNKS) {
		fprintf(stderr, "%s: too many chunks (the header counts at most %u)\n", w->path, MAX_CHUNKS);
		return false;
	}
	uint8_t *c = w->chunk;
	memcpy(c, "ElfChnk", 8);
	le64(c + 0x08, w->first_id); /* record numbers == ids in a fresh log */
	le64(c + 0x10, w->last_id);
	le64(c + 0x18, w->first_id);
	le64(c + 0x20, w->last_id);
	le32(c + 0x28, 128);
	le32(c + 0x2C, w->last_rec);
	le32(c + 0x30, w->pos);
	le32(c + 0x34, crc(c + CHUNK_HDR_SIZE, w->pos - CHUNK_HDR_SIZE));
	uint32_t h = crc32(crc32(0L, Z_NULL, 0), c, 0x78);
	h = crc32(h, c + 0x80, CHUNK_HDR_SIZE - 0x80);
	le32(c + 0x7C, h);
	if (fwrite(c, CHUNK_SIZE, 1, w->f) != 1) {
		fprintf(stderr, "%s: write failed: %s\n", w->path, strerror(errno));
		return false;
	}
	w->nchunks++;
	chunk_reset(w);
	return true;
}

static bool emit(struct writer *w, const struct event *ev)
{
	uint64_t rid = w->next_id;
	if (!put_record(w, ev, rid)) {
		bool fresh = w->nrec == 0;
		if (!fresh && !chunk_flush(w))
			return false;
		if (fresh || !put_record(w, ev, rid)) {
			spec_error("record %" PRIu64 " does not fit in a 64 KiB chunk", rid);
			return false;
		}
	}
	w->next_id++;
	return true;
}

static bool write_header(struct writer *w)
{
	uint8_t h[FILE_HDR_SIZE];
	memset(h, 0, sizeof h);
	memcpy(h, "ElfFile", 8);
	le64(h + 8, 0);
	le64(h + 16, w->nchunks ? w->nchunks - 1 : 0);
	le64(h + 24, w->next_id);
	le32(h + 32, 128);
	le16(h + 36, 1);
	le16(h + 38, 3);
	le16(h + 40, FILE_HDR_SIZE);
	le16(h + 42, (uint16_t)w->nchunks);
	le32(h + 120, 0); /* flags: clean, not full */
	le32(h + 124, crc(h, 120));
	if (fseek(w->f, 0, SEEK_SET) != 0 || fwrite(h, sizeof h, 1, w->f) != 1) {
		fprintf(stderr, "%s: write failed: %s\n", w->path, strerror(errno));
		return false;
	}
	return true;
}

/* ---- the spec ------------------------------------------------------------------ */

#define MAX_FIELDS 4096

/* Splits line in place on TAB. */
static size_t split(char *line, char **f)
{
	size_t n = 0;
	f[n++] = line;
	for (char *p = line; *p; p++)
		if (*p == '\t') {
			*p = '\0';
			if (n == MAX_FIELDS)
				return n + 1;
			f[n++] = p + 1;
		}
	return n;
}

/* Fields PROVIDER GUID EVENTID LEVEL CHANNEL COMPUTER DATA... into ev. */
static bool parse_event(char **f, size_t n, struct event *ev)
{
	const char *provider = f[0], *guid = f[1], *channel = f[4], *computer = f[5];
	uint64_t v;
	if (!*provider || !*channel || !*computer) {
		spec_error("empty provider, channel or computer");
		return false;
	}
	if (strcmp(guid, "-") != 0 && !valid_guid(guid)) {
		spec_error("bad provider GUID '%s' (want {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx} or -)", guid);
		return false;
	}
	if (!parse_u64(f[2], 0xFFFF, &v)) {
		spec_error("bad event id '%s' (0..65535)", f[2]);
		return false;
	}
	ev->id = (uint16_t)v;
	if (!parse_u64(f[3], 0xFF, &v)) {
		spec_error("bad level '%s' (0..255)", f[3]);
		return false;
	}
	ev->level = (uint8_t)v;
	size_t nd = n - 6;
	char **names = xmalloc(nd * sizeof *names);
	ev->values = xmalloc(nd * sizeof *ev->values);
	size_t done = 0;
	bool ok = true;
	for (size_t i = 0; i < nd && ok; i++) {
		char *item = f[6 + i];
		char *eq = strchr(item, '=');
		if (!eq) {
			spec_error("data item %zu '%s': want Name=value or =value", i + 1, item);
			ok = false;
			break;
		}
		*eq = '\0';
		names[i] = eq == item ? NULL : item;
		if (names[i] && (!valid_xml_name(names[i]) || strlen(names[i]) > 256)) {
			spec_error("data item %zu: bad name '%s' (want [A-Za-z_][A-Za-z0-9_.-]*, at most 256)",
				   i + 1, names[i]);
			ok = false;
			break;
		}
		char *val = unescape(eq + 1);
		char what[64];
		snprintf(what, sizeof what, "data item %zu", i + 1);
		ok = to_utf16(val, true, &ev->values[i], what);
		free(val);
		if (ok) {
			done++;
			if (ev->values[i].n > 0x7FFF) {
				spec_error("data item %zu: longer than 32767 UTF-16 units", i + 1);
				ok = false;
			}
		}
	}
	if (ok) {
		ev->shape = shape_get(provider, guid, channel, computer, nd, names);
		ok = ev->shape != NULL;
	}
	free(names);
	if (!ok) {
		for (size_t i = 0; i < done; i++)
			free(ev->values[i].p);
		free(ev->values);
		ev->values = NULL;
	}
	return ok;
}

static void event_free(struct event *ev)
{
	if (!ev->values)
		return;
	for (size_t i = 0; i < ev->shape->ndata; i++)
		free(ev->values[i].p);
	free(ev->values);
	ev->values = NULL;
}

static bool run(FILE *in, struct writer *w)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	char **f = xmalloc((MAX_FIELDS + 1) * sizeof *f);
	uint32_t pid = 0, tid = 0;
	bool ok = true;
	spec_line = 0;
	while (ok && (len = getline(&line, &cap, in)) >= 0) {
		spec_line++;
		if ((size_t)len != strlen(line)) {
			spec_error("NUL byte in line");
			ok = false;
			break;
		}
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		char *p = line;
		if (spec_line == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
			p += 3;
		const char *q = p + strspn(p, " \t");
		if (!*q || *q == '#')
			continue;
		size_t n = split(p, f);
		if (n > MAX_FIELDS) {
			spec_error("more than %d fields", MAX_FIELDS);
			ok = false;
		} else if (strcmp(f[0], "execution") == 0) {
			uint64_t a, b;
			if (n != 3 || !parse_u64(f[1], UINT32_MAX, &a) || !parse_u64(f[2], UINT32_MAX, &b)) {
				spec_error("want: execution<TAB>PID<TAB>TID (32-bit decimal)");
				ok = false;
			} else {
				pid = (uint32_t)a;
				tid = (uint32_t)b;
			}
		} else if (strcmp(f[0], "record") == 0) {
			struct event ev = {0};
			if (n < 8) {
				spec_error("want: record TIME PROVIDER GUID EVENTID LEVEL CHANNEL COMPUTER [DATA...], "
					   "one TAB between fields");
				ok = false;
			} else if (!parse_time(f[1], &ev.time)) {
				spec_error("bad time '%s' (want YYYY-MM-DDTHH:MM:SS[.fffffff]Z, valid and >= 1601)",
					   f[1]);
				ok = false;
			} else if ((ok = parse_event(f + 2, n - 2, &ev))) {
				ev.pid = pid;
				ev.tid = tid;
				ok = emit(w, &ev);
				event_free(&ev);
			}
		} else if (strcmp(f[0], "filler") == 0) {
			struct event ev = {0};
			uint64_t count, start, step;
			if (n < 10) {
				spec_error("want: filler COUNT START STEP PROVIDER GUID EVENTID LEVEL CHANNEL "
					   "COMPUTER [DATA...], one TAB between fields");
				ok = false;
			} else if (!parse_u64(f[1], UINT64_C(100000000), &count)) {
				spec_error("bad count '%s' (0..100000000)", f[1]);
				ok = false;
			} else if (!parse_time(f[2], &start)) {
				spec_error("bad start time '%s'", f[2]);
				ok = false;
			} else if (!parse_step(f[3], &step)) {
				spec_error("bad step '%s' (seconds, up to 7 fraction digits)", f[3]);
				ok = false;
			} else if (count > 1 && step > (UINT64_MAX / 2 - start) / (count - 1)) {
				spec_error("filler times overflow");
				ok = false;
			} else if ((ok = parse_event(f + 4, n - 4, &ev))) {
				ev.pid = pid;
				ev.tid = tid;
				for (uint64_t k = 0; k < count && ok; k++) {
					ev.time = start + k * step;
					ok = emit(w, &ev);
				}
				event_free(&ev);
			}
		} else if (strchr(f[0], ' ')) {
			spec_error("unknown directive '%.40s' (fields are separated by one TAB, not spaces)", f[0]);
			ok = false;
		} else {
			spec_error("unknown directive '%s' (record, filler or execution)", f[0]);
			ok = false;
		}
	}
	if (ok && ferror(in)) {
		fprintf(stderr, "%s: read error\n", spec_path);
		ok = false;
	}
	if (ok && w->next_id == 1) {
		/* A header without chunks reads as corrupted (libevtx). */
		spec_error("no records (give at least one record or a filler with COUNT > 0)");
		ok = false;
	}
	free(f);
	free(line);
	return ok;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fputs("usage: kt-mkevtx SPEC OUT.evtx\n", stderr);
		return 2;
	}
	spec_path = argv[1];
	const char *out = argv[2];
	FILE *in = fopen(spec_path, "r");
	if (!in) {
		fprintf(stderr, "%s: cannot open: %s\n", spec_path, strerror(errno));
		return 1;
	}
	size_t olen = strlen(out);
	char *tmp = xmalloc(olen + 5);
	memcpy(tmp, out, olen);
	memcpy(tmp + olen, ".tmp", 5);

	struct writer *w = xmalloc(sizeof *w);
	memset(w, 0, sizeof *w);
	w->path = tmp;
	w->next_id = 1;
	chunk_reset(w);
	bool ok = true;
	w->f = fopen(tmp, "wb");
	if (!w->f) {
		fprintf(stderr, "%s: cannot create: %s\n", tmp, strerror(errno));
		ok = false;
	}
	if (ok) {
		static const uint8_t zero[FILE_HDR_SIZE];
		if (fwrite(zero, sizeof zero, 1, w->f) != 1) {
			fprintf(stderr, "%s: write failed: %s\n", tmp, strerror(errno));
			ok = false;
		}
	}
	ok = ok && run(in, w) && chunk_flush(w) && write_header(w);
	fclose(in);
	if (w->f && fclose(w->f) != 0 && ok) {
		fprintf(stderr, "%s: close failed: %s\n", tmp, strerror(errno));
		ok = false;
	}
	if (ok && rename(tmp, out) != 0) {
		fprintf(stderr, "%s: cannot rename to %s: %s\n", tmp, out, strerror(errno));
		ok = false;
	}
	if (!ok && w->f)
		remove(tmp);
	free(w->names);
	free(w);
	free(tmp);
	shapes_free();
	return ok ? 0 : 1;
}
