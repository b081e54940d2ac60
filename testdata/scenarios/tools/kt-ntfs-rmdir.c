/*
 * kt-ntfs-rmdir - delete directories from an NTFS volume that
 * kt-ntfs-populate has filled, keeping every manifest time.
 *
 * Usage: kt-ntfs-rmdir VOLUME_FILE MANIFEST
 *
 * Why: kt-ntfs-populate's 'deleted' kind makes deleted *files* only (its
 * parents must be live 'dir' lines).  A removed program leaves deleted
 * *directories* too: the folder itself is a freed MFT record whose
 * $FILE_NAME still names its old parent, and the files that were in it are
 * freed records whose $FILE_NAME names the deleted folder.  This tool adds
 * that, through libntfs-3g directly (no mount, no loop device, no FUSE).
 *
 * MANIFEST is a scenario manifest (testdata/scenarios/NAME/ntfs.tsv): the
 * kt-ntfs-populate format plus one more kind,
 *
 *   deleted-dir  a directory that is deleted after everything in it
 *
 * build-scenarios.sh gives kt-ntfs-populate the manifest with 'deleted-dir'
 * turned into 'dir' (so the folder and its 'deleted' children are made and
 * stamped as usual), then runs this tool on the original manifest, which
 *   1. deletes every 'deleted-dir' entry, last line first (children before
 *      parents), each with its eight manifest times written and synced
 *      first: ntfs_delete() frees the record without re-syncing $SI, and
 *      refuses a directory that still holds a live entry;
 *   2. stamps every live 'dir'/'file' entry again with its manifest times,
 *      because ntfs_delete() sets the parent's modified and MFT-changed
 *      times to "now" (the same last pass as kt-ntfs-populate's).
 * Nothing on the volume then depends on the clock of the run.
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

enum kind { K_LIVE, K_RMDIR };

struct entry {
    enum kind kind;
    unsigned long line;
    char *path;
    int64_t t[NTIMES]; /* NTFS ticks: SI c,m,mft,a then FN c,m,mft,a */
};

struct manifest {
    const char *name;
    struct entry *e;
    size_t n, cap;
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
    *ticks = ((days_from_civil(y, mo, d) - days_from_civil(1601, 1, 1)) * 86400 +
              (int64_t)h * 3600 + (int64_t)mi * 60 + se) *
                 10000000 +
             frac;
    return 0;
}

/* ------------------------------------------------------------- manifest */

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);

    if (!p) {
        perror("malloc");
        exit(1);
    }
    memcpy(p, s, n);
    return p;
}

/* Keeps dir/file lines (to stamp) and deleted-dir lines (to delete); the
 * other kinds are kt-ntfs-populate's business and already checked by it. */
static int parse_line(struct manifest *m, unsigned long lineno, char *line)
{
    char *f[NFIELDS];
    size_t nf = 0, i;
    char *p = line;
    struct entry e;

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
    if (!strcmp(f[0], "dir") || !strcmp(f[0], "file"))
        e.kind = K_LIVE;
    else if (!strcmp(f[0], "deleted-dir"))
        e.kind = K_RMDIR;
    else if (!strcmp(f[0], "stream") || !strcmp(f[0], "deleted"))
        return 0;
    else
        return errorf(m->name, lineno, "unknown kind '%s'", f[0]);
    for (i = 0; i < NTIMES; i++)
        if (parse_time(f[2 + i], &e.t[i]))
            return errorf(m->name, lineno, "time field %zu: bad time '%s'", i + 1, f[2 + i]);
    if (!f[1][0] || f[1][0] == '/')
        return errorf(m->name, lineno, "bad path '%s'", f[1]);
    e.path = xstrdup(f[1]);
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
    return 0;
}

static int load_manifest(struct manifest *m)
{
    FILE *f = fopen(m->name, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    int rc = 0;

    if (!f)
        return errorf(m->name, 0, "cannot open: %s", strerror(errno));
    while (!rc && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        if (!len || line[0] == '#')
            continue;
        rc = parse_line(m, lineno, line);
    }
    free(line);
    fclose(f);
    return rc;
}

static void free_manifest(struct manifest *m)
{
    size_t i;

    for (i = 0; i < m->n; i++)
        free(m->e[i].path);
    free(m->e);
}

/* ------------------------------------------------------------------ NTFS */

static ntfs_inode *open_path(ntfs_volume *vol, const char *path)
{
    size_t n = strlen(path) + 2;
    char *abs = malloc(n);
    ntfs_inode *ni;

    if (!abs) {
        perror("malloc");
        exit(1);
    }
    snprintf(abs, n, "/%s", path);
    ni = ntfs_pathname_to_inode(vol, NULL, abs);
    free(abs);
    return ni;
}

static void set_ni_times(ntfs_inode *ni, const int64_t t[4])
{
    ni->creation_time = cpu_to_sle64(t[0]);
    ni->last_data_change_time = cpu_to_sle64(t[1]);
    ni->last_mft_change_time = cpu_to_sle64(t[2]);
    ni->last_access_time = cpu_to_sle64(t[3]);
}

/* The four times into every $FILE_NAME of the MFT record (libntfs-3g only
 * writes them at creation; see kt-ntfs-populate.c). */
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

/* $FN (record and parent index entry) <- FN times, then $SI <- SI times;
 * the SI times are synced by the caller's next sync or close. */
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

static int remove_dir(ntfs_volume *vol, struct manifest *m, size_t i)
{
    struct entry *e = &m->e[i];
    const char *slash = strrchr(e->path, '/');
    const char *base = slash ? slash + 1 : e->path;
    ntfs_inode *ni, *dir_ni;
    ntfschar *uname = NULL;
    int ulen, err;

    ni = open_path(vol, e->path);
    if (!ni)
        return errorf(m->name, e->line, "cannot open '%s': %s", e->path, strerror(errno));
    if (!(ni->mrec->flags & MFT_RECORD_IS_DIRECTORY)) {
        ntfs_inode_close(ni);
        return errorf(m->name, e->line, "'%s' is not a directory", e->path);
    }
    if (stamp_times(ni, e) || ntfs_inode_sync(ni)) {
        err = errno;
        ntfs_inode_close(ni);
        return errorf(m->name, e->line, "cannot set times of '%s': %s", e->path, strerror(err));
    }
    ulen = ntfs_mbstoucs(base, &uname);
    if (ulen <= 0 || ulen > NTFS_MAX_NAME) {
        free(uname);
        ntfs_inode_close(ni);
        return errorf(m->name, e->line, "cannot convert name '%s'", base);
    }
    if (slash) {
        char *parent = malloc((size_t)(slash - e->path) + 1);

        if (!parent) {
            perror("malloc");
            exit(1);
        }
        memcpy(parent, e->path, (size_t)(slash - e->path));
        parent[slash - e->path] = '\0';
        dir_ni = open_path(vol, parent);
        free(parent);
    } else {
        dir_ni = ntfs_inode_open(vol, FILE_root);
    }
    if (!dir_ni) {
        err = errno;
        free(uname);
        ntfs_inode_close(ni);
        return errorf(m->name, e->line, "cannot open parent of '%s': %s", e->path, strerror(err));
    }
    /* Closes ni and dir_ni, also on failure; ENOTEMPTY if a live entry is
     * still in the directory. */
    if (ntfs_delete(vol, NULL, ni, dir_ni, uname, (u8)ulen)) {
        err = errno;
        free(uname);
        return errorf(m->name, e->line, "cannot delete '%s': %s%s", e->path, strerror(err),
                      err == ENOTEMPTY ? " (a 'dir' or 'file' line inside it?)" : "");
    }
    free(uname);
    return 0;
}

static int stamp_live(ntfs_volume *vol, struct manifest *m)
{
    size_t i;

    for (i = 0; i < m->n; i++) {
        struct entry *e = &m->e[i];
        ntfs_inode *ni;

        if (e->kind != K_LIVE)
            continue;
        ni = open_path(vol, e->path);
        if (!ni)
            return errorf(m->name, e->line, "cannot open '%s': %s", e->path, strerror(errno));
        if (stamp_times(ni, e)) {
            int err = errno;

            ntfs_inode_close(ni);
            return errorf(m->name, e->line, "cannot set times of '%s': %s", e->path,
                          strerror(err));
        }
        if (ntfs_inode_close(ni))
            return errorf(m->name, e->line, "cannot close '%s': %s", e->path, strerror(errno));
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct manifest m;
    ntfs_volume *vol;
    size_t i;
    int rc = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: %s VOLUME_FILE MANIFEST\n", argc > 0 ? argv[0] : "kt-ntfs-rmdir");
        return 2;
    }
    memset(&m, 0, sizeof(m));
    m.name = argv[2];
    if (load_manifest(&m)) {
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
    if (ntfs_set_ignore_case(vol)) {
        errorf(argv[1], 0, "cannot set case-insensitive look-ups");
        ntfs_umount(vol, FALSE);
        free_manifest(&m);
        return 1;
    }
    for (i = m.n; i-- > 0 && !rc;)
        if (m.e[i].kind == K_RMDIR)
            rc = remove_dir(vol, &m, i);
    if (!rc)
        rc = stamp_live(vol, &m);
    if (ntfs_umount(vol, FALSE) && !rc)
        rc = errorf(argv[1], 0, "cannot close NTFS volume: %s", strerror(errno));
    free_manifest(&m);
    return rc ? 1 : 0;
}
