/*
 * kt-ntfs-populate - populate an NTFS volume image from a manifest.
 *
 * Usage: kt-ntfs-populate VOLUME_FILE MANIFEST CONTENT_DIR
 *
 * The volume (a plain file, freshly made by mkntfs) is opened through
 * libntfs-3g directly: no mount, no loop device, no FUSE.
 *
 * Manifest: UTF-8, TAB-separated, one entry per line, '#' comments and
 * blank lines ignored, parents before children:
 *
 *   kind  path  si_created si_modified si_mft_changed si_accessed
 *               fn_created fn_modified fn_mft_changed fn_accessed  content
 *
 *   kind     dir | file | stream | deleted | reuse
 *   path     relative to the volume root, '/'-separated, case kept;
 *            for 'stream': FILE_PATH:STREAM_NAME
 *   times    YYYY-MM-DDTHH:MM:SS[.f{1,7}]Z (UTC, 100 ns resolution);
 *            all eight are '-' on (and only on) 'stream' lines
 *   content  '-' (empty; the only value allowed for 'dir'),
 *            'text:...' with escapes \n \r \t \\, or
 *            '@NAME' = the bytes of CONTENT_DIR/NAME; on a 'stream' line
 *            'sparse:N:' before 'text:' or '@' puts N bytes (a multiple
 *            of 4096) of sparse hole (no clusters) before the content, as
 *            the change journal's $J stream has its released head
 *
 * The system folder $Extend (MFT entry 11) is a parent without a line of
 * its own: '$Extend/$UsnJrnl' makes a change journal file there.
 *
 * How the times end up on disk (libntfs-3g 2022.10.3, see the notes at
 * the functions below):
 *  - $STANDARD_INFORMATION is written from ni->{creation,...}_time
 *    whenever the inode is synced (NInoSetDirty).
 *  - The $FILE_NAME attribute inside the MFT record is written only when
 *    the file is created: libntfs-3g never updates its times afterwards
 *    (ntfs_inode_sync_file_name() updates the copy in the parent's index
 *    only).  We therefore patch the record's $FILE_NAME times directly.
 *  - The copy of $FILE_NAME in the parent's $I30 index entry is written
 *    from ni->*_time when the inode is synced with NInoFileNameSetDirty.
 *    We sync once with the FN values in ni (index entry <- FN values),
 *    then put the SI values in ni and sync with only NInoSetDirty
 *    ($SI <- SI values, index entry untouched).
 *
 * Order of work:
 *  1. create every dir/file/deleted entry and every stream, in manifest
 *     order;
 *  2. stamp every live dir/file entry;
 *  3. stamp and delete the 'deleted' entries (only now: a freed MFT
 *     record would be reused by the next ntfs_create());
 *  4. create the 'reuse' files (each in the MFT record a deletion freed);
 *  5. stamp every live dir/file/reuse entry again (ntfs_delete()
 *     re-stamps the parent directory with "now").
 * Step 2 makes the slack left in directory indexes by step 3 hold manifest
 * times only, so the image does not depend on the clock of the run.
 *
 * Checks: a parent must be an earlier 'dir' line with the exact same
 * spelling; names are unique case-insensitively (as on Windows), may not
 * hold control characters or \ / : * ? " < > |, nor end in ' ' or '.'.
 *
 * Not like a volume Windows wrote (libntfs-3g's ntfs_create()): names are
 * in the POSIX namespace with no DOS 8.3 name; $STANDARD_INFORMATION is the
 * 48-byte NTFS 1.2 form (no owner/security id, no USN); each file has its
 * own $SECURITY_DESCRIPTOR attribute instead of an entry in $Secure; the
 * $UsnJrnl and $LogFile hold no history; MFT numbers start at 64.
 *
 * Errors: "MANIFEST:LINE: message" on stderr, exit 1.  Usage: exit 2.
 */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

/*
 * libntfs-3g headers are not self-contained: they need <stddef.h>,
 * <time.h>, <stdarg.h> and <sys/types.h> first (included above).  With
 * those, the 2022.10.3 headers compile cleanly under -Wall -Wextra
 * -Wshadow -Wformat=2 -Wvla (gcc 12, clang 14); the push/pop is where
 * a -Wno-... for a future header version would go.
 */
#pragma GCC diagnostic push
#include <ntfs-3g/types.h>
#include <ntfs-3g/endians.h>
#include <ntfs-3g/layout.h>
#include <ntfs-3g/volume.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/unistr.h>
#include <ntfs-3g/logging.h>
#pragma GCC diagnostic pop

#define NFIELDS 11
#define NTIMES 8
#define NTFS_MAX_NAME 255

enum kind { K_DIR, K_FILE, K_STREAM, K_DELETED, K_REUSE };

struct entry {
    enum kind kind;
    unsigned long line;
    char *path;          /* file/dir path (for a stream: its file) */
    char *stream;        /* stream name, or NULL */
    int64_t t[NTIMES];   /* NTFS ticks: SI c,m,mft,a then FN c,m,mft,a */
    unsigned char *data; /* content (NULL when empty) */
    size_t data_len;
    int64_t hole;   /* stream: bytes of sparse hole before the content */
    size_t target;  /* stream: index of the entry it belongs to */
    int has_parent; /* 0: parent is the root directory; 2: $Extend */
    size_t parent;  /* index of the parent 'dir' entry */
    MFT_REF mref;   /* after creation */
};

struct manifest {
    const char *name;
    struct entry *e;
    size_t n, cap;
    /* the dir/file/deleted/reuse entries by path: open addressing, entry
     * index + 1 (0 is free), so that a manifest of a million lines is
     * checked in linear time */
    size_t *byname, byname_cap;
};

static int errorf(const char *file, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int errorf(const char *file, unsigned long line, const char *fmt, ...)
{
    va_list ap;

    if (line)
        fprintf(stderr, "%s:%lu: ", file, line);
    else
        fprintf(stderr, "%s: ", file);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

/* ---------------------------------------------------------------- files */

static int read_file(const char *path, unsigned char **out, size_t *len)
{
    FILE *f;
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    int err;

    *out = NULL;
    *len = 0;
    f = fopen(path, "rb");
    if (!f)
        return -1;
    for (;;) {
        size_t got;

        if (cap - n < 65536) {
            size_t ncap = cap ? cap * 2 : 65536;
            unsigned char *nb;

            if (ncap < cap) {
                errno = EFBIG;
                goto fail;
            }
            nb = realloc(buf, ncap);
            if (!nb)
                goto fail;
            buf = nb;
            cap = ncap;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                errno = EIO;
                goto fail;
            }
            break;
        }
    }
    fclose(f);
    *out = buf;
    *len = n;
    return 0;
fail:
    err = errno;
    fclose(f);
    free(buf);
    errno = err;
    return -1;
}

static char *xstrndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    if (!p) {
        perror("malloc");
        exit(1);
    }
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* ----------------------------------------------------------------- time */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int parse_digits(const char *s, int n, unsigned *out)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* "YYYY-MM-DDTHH:MM:SS[.f{1,7}]Z" -> 100 ns ticks since 1601-01-01 UTC */
static int parse_time(const char *s, int64_t *ticks)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y, mo, d, h, mi, se, frac = 0, dim;
    int64_t secs;
    size_t len = strlen(s), i = 19;

    if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return -1;
    if (parse_digits(s, 4, &y) || parse_digits(s + 5, 2, &mo) || parse_digits(s + 8, 2, &d) ||
        parse_digits(s + 11, 2, &h) || parse_digits(s + 14, 2, &mi) || parse_digits(s + 17, 2, &se))
        return -1;
    if (s[i] == '.') {
        int nd = 0;

        i++;
        while (s[i] >= '0' && s[i] <= '9') {
            if (++nd > 7)
                return -1;
            frac = frac * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        if (nd == 0)
            return -1;
        for (; nd < 7; nd++)
            frac *= 10;
    }
    if (s[i] != 'Z' || s[i + 1] != '\0')
        return -1;
    if (y < 1601 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59)
        return -1;
    dim = mdays[mo - 1];
    if (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        dim = 29;
    if (d > dim)
        return -1;
    secs = (days_from_civil(y, mo, d) - days_from_civil(1601, 1, 1)) * 86400 + (int64_t)h * 3600 +
           (int64_t)mi * 60 + se;
    *ticks = secs * 10000000 + frac;
    return 0;
}

/* ------------------------------------------------------------- manifest */

static int utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        unsigned c = *p, n, cp, i;

        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        for (i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        p += n + 1;
    }
    return 1;
}

/* Length in UTF-16 code units of a valid UTF-8 string. */
static size_t utf16_len(const char *s, size_t n)
{
    size_t i, units = 0;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c & 0xc0) != 0x80)
            units += (c >= 0xf0) ? 2 : 1;
    }
    return units;
}

/* Characters Windows does not allow in a file or stream name. */
static int bad_name_char(unsigned char c)
{
    return c < 0x20 || c == 0x7f || c == '\\' || c == '/' || c == ':' || c == '*' || c == '?' ||
           c == '"' || c == '<' || c == '>' || c == '|';
}

static const char *check_name(const char *s, size_t n, int is_stream)
{
    size_t i;

    if (n == 0)
        return "empty name component";
    if (!is_stream && ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')))
        return "'.' and '..' are not allowed in paths";
    for (i = 0; i < n; i++)
        if (bad_name_char((unsigned char)s[i]))
            return "name contains a character Windows does not allow (control, \\ / : * ? \" < > "
                   "|)";
    if (!is_stream && (s[n - 1] == ' ' || s[n - 1] == '.'))
        return "name ends with a space or a dot";
    if (utf16_len(s, n) > NTFS_MAX_NAME)
        return "name longer than 255 UTF-16 units";
    return NULL;
}

static const char *check_path(const char *p)
{
    const char *c = p, *slash;
    const char *msg;

    if (*p == '\0')
        return "empty path";
    for (;;) {
        slash = strchr(c, '/');
        msg = check_name(c, slash ? (size_t)(slash - c) : strlen(c), 0);
        if (msg)
            return msg;
        if (!slash)
            return NULL;
        c = slash + 1;
    }
}

/* Decode a text: field. */
static int unescape(const char *s, unsigned char **out, size_t *len, const char **msg)
{
    size_t n = strlen(s), i, o = 0;
    unsigned char *buf = malloc(n ? n : 1);

    if (!buf) {
        perror("malloc");
        exit(1);
    }
    for (i = 0; i < n; i++) {
        if (s[i] != '\\') {
            buf[o++] = (unsigned char)s[i];
            continue;
        }
        switch (s[++i]) {
        case 'n':
            buf[o++] = '\n';
            break;
        case 'r':
            buf[o++] = '\r';
            break;
        case 't':
            buf[o++] = '\t';
            break;
        case '\\':
            buf[o++] = '\\';
            break;
        case '\0':
            *msg = "text: ends with a lone backslash";
            free(buf);
            return -1;
        default:
            *msg = "text: unknown escape (only \\n \\r \\t \\\\)";
            free(buf);
            return -1;
        }
    }
    if (o == 0) {
        free(buf);
        buf = NULL;
    }
    *out = buf;
    *len = o;
    return 0;
}

static size_t path_hash(const char *path, size_t nlen)
{
    size_t h = 1469598103934665603u;
    size_t i;

    for (i = 0; i < nlen; i++)
        h = (h ^ (unsigned char)path[i]) * 1099511628211u;
    return h;
}

/* Find an earlier dir/file/deleted entry by exact (case-sensitive) path. */
static int find_path(const struct manifest *m, const char *path, size_t nlen, size_t *idx)
{
    size_t i;

    if (!m->byname_cap)
        return 0;
    for (i = path_hash(path, nlen) & (m->byname_cap - 1); m->byname[i];
         i = (i + 1) & (m->byname_cap - 1)) {
        const struct entry *e = &m->e[m->byname[i] - 1];

        if (strlen(e->path) == nlen && !memcmp(e->path, path, nlen)) {
            *idx = m->byname[i] - 1;
            return 1;
        }
    }
    return 0;
}

/* Index entry idx (not a stream) by its path. */
static void index_path(struct manifest *m, size_t idx)
{
    size_t i;

    if (2 * (idx + 1) > m->byname_cap) {
        size_t cap = m->byname_cap ? 2 * m->byname_cap : 1024, *old = m->byname, k;

        m->byname = calloc(cap, sizeof(*m->byname));
        if (!m->byname) {
            perror("kt-ntfs-populate");
            exit(1);
        }
        for (k = 0; k < m->byname_cap; k++)
            if (old[k]) {
                const char *p = m->e[old[k] - 1].path;

                for (i = path_hash(p, strlen(p)) & (cap - 1); m->byname[i]; i = (i + 1) & (cap - 1))
                    ;
                m->byname[i] = old[k];
            }
        free(old);
        m->byname_cap = cap;
    }
    for (i = path_hash(m->e[idx].path, strlen(m->e[idx].path)) & (m->byname_cap - 1); m->byname[i];
         i = (i + 1) & (m->byname_cap - 1))
        ;
    m->byname[i] = idx + 1;
}

static int parse_line(struct manifest *m, unsigned long lineno, char *line, const char *content_dir)
{
    char *f[NFIELDS];
    size_t nf = 0, i;
    char *p = line;
    struct entry e;
    const char *msg;
    char *colon, *slash;

    memset(&e, 0, sizeof(e));
    e.line = lineno;
    for (;;) {
        char *tab = strchr(p, '\t');

        if (nf < NFIELDS)
            f[nf] = p;
        nf++;
        if (!tab)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    if (nf != NFIELDS)
        return errorf(m->name, lineno, "expected %d TAB-separated fields, found %zu", NFIELDS, nf);
    if (!strcmp(f[0], "dir"))
        e.kind = K_DIR;
    else if (!strcmp(f[0], "file"))
        e.kind = K_FILE;
    else if (!strcmp(f[0], "stream"))
        e.kind = K_STREAM;
    else if (!strcmp(f[0], "deleted"))
        e.kind = K_DELETED;
    else if (!strcmp(f[0], "reuse"))
        e.kind = K_REUSE;
    else
        return errorf(m->name, lineno,
                      "unknown kind '%s' (expected dir, file, stream, deleted or reuse)", f[0]);

    if (!utf8_valid(f[1]))
        return errorf(m->name, lineno, "path is not valid UTF-8");
    colon = strchr(f[1], ':');
    if (e.kind == K_STREAM) {
        if (!colon)
            return errorf(m->name, lineno, "stream path must be FILE:STREAM");
        *colon = '\0';
        msg = check_name(colon + 1, strlen(colon + 1), 1);
        if (msg)
            return errorf(m->name, lineno, "stream name: %s", msg);
    } else if (colon) {
        return errorf(m->name, lineno, "':' is only allowed on 'stream' lines");
    }
    msg = check_path(f[1]);
    if (msg)
        return errorf(m->name, lineno, "path '%s': %s", f[1], msg);

    for (i = 0; i < NTIMES; i++) {
        const char *ts = f[2 + i];

        if (e.kind == K_STREAM) {
            if (strcmp(ts, "-"))
                return errorf(m->name, lineno, "time field %zu must be '-' on a stream line",
                              i + 1);
        } else if (!strcmp(ts, "-")) {
            return errorf(m->name, lineno, "time field %zu: '-' is only allowed on stream lines",
                          i + 1);
        } else if (parse_time(ts, &e.t[i])) {
            return errorf(m->name, lineno,
                          "time field %zu: bad time '%s' (want YYYY-MM-DDTHH:MM:SS[.fffffff]Z)",
                          i + 1, ts);
        }
    }

    /* Resolve the parent / the stream's file against earlier lines. */
    if (e.kind == K_STREAM) {
        if (!find_path(m, f[1], strlen(f[1]), &e.target))
            return errorf(m->name, lineno, "stream's file '%s' is not declared on an earlier line",
                          f[1]);
        for (i = 0; i < m->n; i++)
            if (m->e[i].kind == K_STREAM && m->e[i].target == e.target &&
                !strcmp(m->e[i].stream, colon + 1))
                return errorf(m->name, lineno, "duplicate stream (line %lu)", m->e[i].line);
    } else {
        size_t dup;

        slash = strrchr(f[1], '/');
        if (slash) {
            e.has_parent = 1;
            if (slash - f[1] == 7 && !memcmp(f[1], "$Extend", 7))
                e.has_parent = 2;
            else if (!find_path(m, f[1], (size_t)(slash - f[1]), &e.parent))
                return errorf(m->name, lineno,
                              "parent directory '%.*s' is not declared on an earlier 'dir' line",
                              (int)(slash - f[1]), f[1]);
            if (e.has_parent == 1 && m->e[e.parent].kind != K_DIR)
                return errorf(m->name, lineno, "parent '%s' is not a 'dir' (line %lu)",
                              m->e[e.parent].path, m->e[e.parent].line);
        }
        if (find_path(m, f[1], strlen(f[1]), &dup))
            return errorf(m->name, lineno, "duplicate path (line %lu)", m->e[dup].line);
    }

    /* Content. */
    if (!strncmp(f[10], "sparse:", 7)) {
        char *end = NULL;
        long long hole;

        if (e.kind != K_STREAM)
            return errorf(m->name, lineno, "'sparse:' is only allowed on 'stream' lines");
        errno = 0;
        hole = strtoll(f[10] + 7, &end, 10);
        if (errno || end == f[10] + 7 || *end != ':' || hole <= 0 || hole % 4096 ||
            hole > (1LL << 40))
            return errorf(m->name, lineno, "sparse:N: N must be a positive multiple of 4096");
        e.hole = hole;
        f[10] = end + 1;
    }
    if (!strcmp(f[10], "-")) {
        /* empty */
    } else if (e.kind == K_DIR) {
        return errorf(m->name, lineno, "content of a dir must be '-'");
    } else if (!strncmp(f[10], "text:", 5)) {
        if (unescape(f[10] + 5, &e.data, &e.data_len, &msg))
            return errorf(m->name, lineno, "%s", msg);
    } else if (f[10][0] == '@') {
        const char *name = f[10] + 1;
        size_t plen;
        char *path;
        const char *c;

        if (!*name || name[0] == '/')
            return errorf(m->name, lineno, "bad content file name '%s'", f[10]);
        for (c = name; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL)
            if (!strncmp(c, "..", 2) && (c[2] == '/' || !c[2]))
                return errorf(m->name, lineno, "content file name must not contain '..'");
        plen = strlen(content_dir) + 1 + strlen(name) + 1;
        path = malloc(plen);
        if (!path) {
            perror("malloc");
            exit(1);
        }
        snprintf(path, plen, "%s/%s", content_dir, name);
        if (read_file(path, &e.data, &e.data_len)) {
            int err = errno;

            errorf(m->name, lineno, "cannot read content file '%s': %s", path, strerror(err));
            free(path);
            return -1;
        }
        free(path);
        if (e.data_len == 0) {
            free(e.data);
            e.data = NULL;
        }
    } else {
        return errorf(m->name, lineno, "content must be '-', 'text:...' or '@NAME'");
    }

    e.path = xstrndup(f[1], strlen(f[1]));
    if (e.kind == K_STREAM)
        e.stream = xstrndup(colon + 1, strlen(colon + 1));
    if (m->n == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        struct entry *ne = realloc(m->e, ncap * sizeof(*ne));

        if (!ne) {
            perror("realloc");
            exit(1);
        }
        m->e = ne;
        m->cap = ncap;
    }
    m->e[m->n++] = e;
    if (e.kind != K_STREAM)
        index_path(m, m->n - 1);
    return 0;
}

static int load_manifest(struct manifest *m, const char *content_dir)
{
    unsigned char *buf;
    size_t len, pos = 0;
    unsigned long lineno = 0;
    int rc = 0;

    if (read_file(m->name, &buf, &len))
        return errorf(m->name, 0, "cannot read: %s", strerror(errno));
    if (len && memchr(buf, '\0', len)) {
        free(buf);
        return errorf(m->name, 0, "contains a NUL byte");
    }
    while (pos < len && !rc) {
        unsigned char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        char *line = xstrndup((const char *)buf + pos, end - pos);
        const char *c = line;

        lineno++;
        pos = end + 1;
        while (*c == ' ' || *c == '\t')
            c++;
        if (strchr(line, '\r'))
            rc = errorf(m->name, lineno,
                        "carriage return in line (CRLF line endings? use \\r in text:)");
        else if (*c != '\0' && line[0] != '#')
            rc = parse_line(m, lineno, line, content_dir);
        free(line);
    }
    free(buf);
    return rc;
}

static void free_manifest(struct manifest *m)
{
    size_t i;

    for (i = 0; i < m->n; i++) {
        free(m->e[i].path);
        free(m->e[i].stream);
        free(m->e[i].data);
    }
    free(m->e);
    free(m->byname);
}

/* ------------------------------------------------------------------ NTFS */

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
}

static int to_ucs(const char *s, ntfschar **u)
{
    int n;

    *u = NULL;
    n = ntfs_mbstoucs(s, u);
    if (n <= 0 || n > NTFS_MAX_NAME) {
        free(*u);
        *u = NULL;
        if (n > 0)
            errno = ENAMETOOLONG;
        return -1;
    }
    return n;
}

static int write_at(ntfs_attr *na, s64 base, const unsigned char *data, size_t len)
{
    size_t off = 0;

    while (off < len) {
        s64 w = ntfs_attr_pwrite(na, base + (s64)off, (s64)(len - off), data + off);

        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        off += (size_t)w;
    }
    return 0;
}

static int write_all(ntfs_attr *na, const unsigned char *data, size_t len)
{
    return write_at(na, 0, data, len);
}

/*
 * A stream with a sparse head: made non-resident, grown to the hole's size
 * with ntfs_attr_truncate() (which leaves a hole: no clusters, the
 * attribute marked sparse), then the content written after it.
 */
static int write_sparse(ntfs_inode *ni, const ntfschar *uname, int ulen, const struct entry *e)
{
    ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, (ntfschar *)uname, (u32)ulen);
    int rc = 0;

    if (!na)
        return -1;
    if (!NAttrNonResident(na) && ntfs_attr_force_non_resident(na))
        rc = -1;
    if (!rc && ntfs_attr_truncate(na, e->hole))
        rc = -1;
    if (!rc && e->data_len && write_at(na, e->hole, e->data, e->data_len))
        rc = -1;
    ntfs_attr_close(na);
    return rc;
}

static MFT_REF parent_mref(const struct manifest *m, const struct entry *e)
{
    return e->has_parent == 2 ? (MFT_REF)FILE_Extend
           : e->has_parent    ? m->e[e->parent].mref
                              : (MFT_REF)FILE_root;
}

static int create_entry(ntfs_volume *vol, struct manifest *m, size_t i)
{
    struct entry *e = &m->e[i];
    ntfs_inode *dir_ni, *ni;
    ntfschar *uname;
    int ulen, rc = 0;
    u64 found;

    ulen = to_ucs(base_name(e->path), &uname);
    if (ulen < 0)
        return errorf(m->name, e->line, "cannot convert name '%s': %s", base_name(e->path),
                      strerror(errno));
    dir_ni = ntfs_inode_open(vol, parent_mref(m, e));
    if (!dir_ni) {
        free(uname);
        return errorf(m->name, e->line, "cannot open parent of '%s': %s", e->path, strerror(errno));
    }
    /*
     * ntfs_create() only refuses an exact (case-sensitive) duplicate and
     * would happily add "a" beside "A" (POSIX namespace); Windows would
     * not.  The lookup is case-insensitive since ntfs_set_ignore_case().
     */
    found = ntfs_inode_lookup_by_name(dir_ni, uname, ulen);
    if (found != (u64)-1 || errno != ENOENT) {
        int err = errno;

        free(uname);
        ntfs_inode_close(dir_ni);
        if (found != (u64)-1)
            return errorf(m->name, e->line,
                          "cannot create '%s': the name exists (NTFS names are case-insensitive)",
                          e->path);
        return errorf(m->name, e->line, "cannot look up '%s': %s", e->path, strerror(err));
    }
    ni = ntfs_create(dir_ni, const_cpu_to_le32(0), uname, (u8)ulen,
                     e->kind == K_DIR ? S_IFDIR : S_IFREG);
    free(uname);
    if (!ni) {
        int err = errno;

        ntfs_inode_close(dir_ni);
        return errorf(m->name, e->line, "cannot create '%s': %s", e->path, strerror(err));
    }
    e->mref = MK_MREF(ni->mft_no, le16_to_cpu(ni->mrec->sequence_number));
    if (e->data_len) {
        ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);

        if (!na || write_all(na, e->data, e->data_len))
            rc = errorf(m->name, e->line, "cannot write '%s': %s", e->path, strerror(errno));
        if (na)
            ntfs_attr_close(na);
    }
    /*
     * Close the child while we hold the parent with close_in_dir: a plain
     * close may sync the $FILE_NAME index entry and so open the parent a
     * second time, which libntfs-3g's inode cache does not allow.
     */
    if (ntfs_inode_close_in_dir(ni, dir_ni) && !rc)
        rc = errorf(m->name, e->line, "cannot close '%s': %s", e->path, strerror(errno));
    if (ntfs_inode_close(dir_ni) && !rc)
        rc = errorf(m->name, e->line, "cannot close parent of '%s': %s", e->path, strerror(errno));
    return rc;
}

static int add_stream(ntfs_volume *vol, struct manifest *m, size_t i)
{
    struct entry *e = &m->e[i];
    ntfs_inode *ni;
    ntfschar *uname;
    int ulen, rc = 0;
    static const u8 empty[1];

    ulen = to_ucs(e->stream, &uname);
    if (ulen < 0)
        return errorf(m->name, e->line, "cannot convert stream name '%s': %s", e->stream,
                      strerror(errno));
    ni = ntfs_inode_open(vol, m->e[e->target].mref);
    if (!ni) {
        free(uname);
        return errorf(m->name, e->line, "cannot open '%s': %s", e->path, strerror(errno));
    }
    if (ntfs_attr_exist(ni, AT_DATA, uname, (u32)ulen))
        rc = errorf(m->name, e->line, "'%s' already has a stream named '%s'", e->path, e->stream);
    else if (ntfs_attr_add(ni, AT_DATA, uname, (u8)ulen, e->data && !e->hole ? e->data : empty,
                           e->hole ? 0 : (s64)e->data_len))
        rc = errorf(m->name, e->line, "cannot add stream '%s:%s': %s", e->path, e->stream,
                    strerror(errno));
    else if (e->hole && write_sparse(ni, uname, ulen, e))
        rc = errorf(m->name, e->line, "cannot write sparse stream '%s:%s': %s", e->path,
                    e->stream, strerror(errno));
    free(uname);
    if (ntfs_inode_close(ni) && !rc)
        rc = errorf(m->name, e->line, "cannot close '%s': %s", e->path, strerror(errno));
    return rc;
}

static void set_ni_times(ntfs_inode *ni, const int64_t t[4])
{
    ni->creation_time = cpu_to_sle64(t[0]);
    ni->last_data_change_time = cpu_to_sle64(t[1]);
    ni->last_mft_change_time = cpu_to_sle64(t[2]);
    ni->last_access_time = cpu_to_sle64(t[3]);
}

/*
 * Write the four times into every $FILE_NAME attribute of the MFT record.
 * libntfs-3g itself only sets them in ntfs_create() (to "now") and never
 * again: ntfs_inode_sync() updates the parent's index entry, not these.
 * The sizes are made to match what the index entry gets (libntfs-3g
 * would otherwise leave allocated_size updated but data_size at 0).
 */
static int set_record_fn_times(ntfs_inode *ni, const int64_t t[4])
{
    ntfs_attr_search_ctx *ctx = ntfs_attr_get_search_ctx(ni, NULL);
    int found = 0;

    if (!ctx)
        return -1;
    while (!ntfs_attr_lookup(AT_FILE_NAME, AT_UNNAMED, 0, CASE_SENSITIVE, 0, NULL, 0, ctx)) {
        FILE_NAME_ATTR *fn =
            (FILE_NAME_ATTR *)((u8 *)ctx->attr + le16_to_cpu(ctx->attr->value_offset));

        fn->creation_time = cpu_to_sle64(t[0]);
        fn->last_data_change_time = cpu_to_sle64(t[1]);
        fn->last_mft_change_time = cpu_to_sle64(t[2]);
        fn->last_access_time = cpu_to_sle64(t[3]);
        if (!(ni->mrec->flags & MFT_RECORD_IS_DIRECTORY)) {
            fn->data_size = cpu_to_sle64(ni->data_size);
            fn->allocated_size = cpu_to_sle64(ni->allocated_size);
        }
        ntfs_inode_mark_dirty(ctx->ntfs_ino);
        found++;
    }
    ntfs_attr_put_search_ctx(ctx);
    if (errno != ENOENT)
        return -1;
    if (!found) {
        errno = ENOENT;
        return -1;
    }
    return 0;
}

/*
 * Put an entry's eight times on disk: $SI, the $FILE_NAME in the MFT record
 * and the $FILE_NAME copy in the parent's index entry.
 *
 * ntfs_inode_sync() writes $SI from ni->*_time, and, only when
 * NInoFileNameDirty is set, the parent's index entry from the same
 * ni->*_time.  So: sync once with the FN times in ni and FileNameDirty
 * (index entry <- FN; $SI <- FN for the moment), then put the SI times in
 * ni and mark only Dirty: the next sync (ntfs_inode_close(), or
 * ntfs_inode_sync()) rewrites $SI and leaves the index entry alone.
 * Nothing in libntfs-3g sets FileNameDirty again unless the inode's times
 * are updated (ntfs_inode_update_times()), which we never trigger on it.
 *
 * On return the SI times are in ni and ni is dirty but not yet synced.
 */
static int stamp_times(ntfs_inode *ni, const struct entry *e)
{
    if (set_record_fn_times(ni, e->t + 4))
        return -1;
    set_ni_times(ni, e->t + 4);
    NInoFileNameSetDirty(ni);
    NInoSetDirty(ni);
    if (ntfs_inode_sync(ni))
        return -1;
    set_ni_times(ni, e->t);
    NInoSetDirty(ni);
    return 0;
}

/* Stamp and delete one 'deleted' entry. */
static int delete_entry(ntfs_volume *vol, struct manifest *m, size_t i)
{
    struct entry *e = &m->e[i];
    ntfs_inode *ni, *dir_ni;
    ntfschar *uname;
    int ulen, err;

    ni = ntfs_inode_open(vol, e->mref);
    if (!ni)
        return errorf(m->name, e->line, "cannot open '%s': %s", e->path, strerror(errno));
    /*
     * ntfs_delete() keeps the last $FILE_NAME in the record (as Windows
     * does), frees the record without re-syncing $STANDARD_INFORMATION
     * (skipped once MFT_RECORD_IN_USE is clear) and removes the parent's
     * index entry (whose bytes may stay behind as slack).  So every time
     * is written, and synced, before the delete.
     */
    if (stamp_times(ni, e) || ntfs_inode_sync(ni)) {
        err = errno;
        ntfs_inode_close(ni);
        return errorf(m->name, e->line, "cannot set times of '%s': %s", e->path, strerror(err));
    }
    ulen = to_ucs(base_name(e->path), &uname);
    if (ulen < 0) {
        err = errno;
        ntfs_inode_close(ni);
        return errorf(m->name, e->line, "cannot convert name: %s", strerror(err));
    }
    /* Open the parent only now: the sync above opens it by itself, and
     * libntfs-3g must not have one inode open twice. */
    dir_ni = ntfs_inode_open(vol, parent_mref(m, e));
    if (!dir_ni) {
        err = errno;
        free(uname);
        ntfs_inode_close(ni);
        return errorf(m->name, e->line, "cannot open parent of '%s': %s", e->path, strerror(err));
    }
    /*
     * ntfs_delete() closes both ni and dir_ni, even on failure, and sets
     * the parent's modified and MFT-changed times to "now": the parent is
     * stamped again afterwards, in the last pass.
     */
    if (ntfs_delete(vol, NULL, ni, dir_ni, uname, (u8)ulen)) {
        err = errno;
        free(uname);
        return errorf(m->name, e->line, "cannot delete '%s': %s", e->path, strerror(err));
    }
    free(uname);
    return 0;
}

/* Stamp one live dir/file entry. */
static int stamp_entry(ntfs_volume *vol, struct manifest *m, size_t i)
{
    struct entry *e = &m->e[i];
    ntfs_inode *ni;

    ni = ntfs_inode_open(vol, e->mref);
    if (!ni)
        return errorf(m->name, e->line, "cannot open '%s': %s", e->path, strerror(errno));
    if (stamp_times(ni, e)) {
        int err = errno;

        ntfs_inode_close(ni);
        return errorf(m->name, e->line, "cannot set times of '%s': %s", e->path, strerror(err));
    }
    if (ntfs_inode_close(ni))
        return errorf(m->name, e->line, "cannot close '%s': %s", e->path, strerror(errno));
    return 0;
}

static int stamp_live(ntfs_volume *vol, struct manifest *m)
{
    size_t i;

    for (i = 0; i < m->n; i++)
        if ((m->e[i].kind == K_DIR || m->e[i].kind == K_FILE || m->e[i].kind == K_REUSE) &&
            stamp_entry(vol, m, i))
            return -1;
    return 0;
}

int main(int argc, char **argv)
{
    struct manifest m;
    ntfs_volume *vol;
    size_t i;
    int rc = 0;

    if (argc != 4) {
        fprintf(stderr, "usage: %s VOLUME_FILE MANIFEST CONTENT_DIR\n",
                argc > 0 ? argv[0] : "kt-ntfs-populate");
        return 2;
    }
    memset(&m, 0, sizeof(m));
    m.name = argv[2];
    if (load_manifest(&m, argv[3])) {
        free_manifest(&m);
        return 1;
    }

    ntfs_log_set_handler(ntfs_log_handler_stderr);
    vol = ntfs_mount(argv[1], NTFS_MNT_NONE);
    if (!vol) {
        errorf(argv[1], 0, "cannot open NTFS volume: %s", strerror(errno));
        free_manifest(&m);
        return 1;
    }
    /* Windows semantics for name look-ups (see create_entry()). */
    if (ntfs_set_ignore_case(vol)) {
        errorf(argv[1], 0, "cannot set case-insensitive look-ups");
        ntfs_umount(vol, FALSE);
        free_manifest(&m);
        return 1;
    }

    for (i = 0; i < m.n && !rc; i++)
        if (m.e[i].kind != K_REUSE)
            rc = m.e[i].kind == K_STREAM ? add_stream(vol, &m, i) : create_entry(vol, &m, i);
    /*
     * Live entries are stamped before the deletions too: removing an index
     * entry moves its siblings and leaves stale bytes in the directory's
     * slack, which must hold manifest times, not the time of the run.
     */
    if (!rc)
        rc = stamp_live(vol, &m);
    for (i = 0; i < m.n && !rc; i++)
        if (m.e[i].kind == K_DELETED)
            rc = delete_entry(vol, &m, i);
    /* 'reuse' files come after the deletions, on the volume mounted anew:
     * libntfs-3g's allocator then searches from the first user record, so
     * each takes the lowest record free, one a 'deleted' entry left (as
     * Windows reuses records), instead of a record past all the others. */
    for (i = 0; i < m.n && m.e[i].kind != K_REUSE; i++)
        ;
    if (!rc && i < m.n) {
        if (ntfs_umount(vol, FALSE)) {
            rc = errorf(argv[1], 0, "cannot close NTFS volume: %s", strerror(errno));
            free_manifest(&m);
            return 1;
        }
        vol = ntfs_mount(argv[1], NTFS_MNT_NONE);
        if (!vol || ntfs_set_ignore_case(vol)) {
            errorf(argv[1], 0, "cannot open NTFS volume again: %s", strerror(errno));
            if (vol)
                ntfs_umount(vol, FALSE);
            free_manifest(&m);
            return 1;
        }
    }
    for (; i < m.n && !rc; i++)
        if (m.e[i].kind == K_REUSE)
            rc = create_entry(vol, &m, i);
    if (!rc)
        rc = stamp_live(vol, &m);

    if (ntfs_umount(vol, FALSE) && !rc)
        rc = errorf(argv[1], 0, "cannot close NTFS volume: %s", strerror(errno));
    free_manifest(&m);
    return rc ? 1 : 0;
}
