/* Source `usn`: the NTFS change journal ($Extend/$UsnJrnl:$J) of a
 * Windows system's volume, read once through libtsk for every `usn`
 * artifact: each record (a CLOSE record, which sums up what was done to
 * a file while it was open, or a RENAME_OLD_NAME record) whose path
 * matches an artifact's path patterns is an event, dated to 100 ns.
 *
 * A record names its file and its parent folder by file reference (MFT
 * entry and sequence number). The folder's path is resolved from the
 * journal's own earlier records of folders (their create and rename
 * records, as they were at the record's time), else from the MFT, taken
 * only when the entry still has that sequence number: an entry reused
 * since is another folder, and the record's path is then partial, never
 * guessed (partial paths match no pattern; a note counts them). */
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsk_util.h"
#include "kavtrace/usn.h"
#include "source.h"

/* How much of $J is read at most (its allocated, non-sparse part). */
#define KT_USN_MAX_BYTES (INT64_C(4) << 30)
/* Folders the journal names that are remembered for path resolution. */
#define KT_USN_MAX_DIRS (1u << 22)
#define KT_USN_MAX_KEPT 100000
#define CHUNK (1u << 20)
#define NTFS_ROOT 5

typedef struct spec {
    kt_file_part fp;
} spec;

static void parse(kt_defs *c, yaml_node_t *n, kt_artifact *a)
{
    spec *s = defs_calloc(c, 1, sizeof *s);
    if (s == NULL)
        return;
    a->spec = s;
    static const char *const keys[] = {"paths", "type", "product", "version", NULL};
    defs_check_keys(c, n, "usn", keys);
    kt_file_part_parse(c, n, a, &s->fp);
}

static void release(void *p)
{
    spec *s = p;
    if (s == NULL)
        return;
    kt_file_part_release(&s->fp);
    free(s);
}

static void detail(const kt_artifact *a, char *buf, size_t len)
{
    const spec *s = a->spec;
    snprintf(buf, len, "%s", s->fp.type == 1 ? "file" : s->fp.type == 2 ? "directory" : "any");
}

/* ---- what a file reference names ---- */

typedef struct dir_entry {
    uint64_t ref; /* 0: free slot */
    uint64_t parent;
    char *name;    /* owned; NULL: the MFT does not hold ref (reused or unreadable) */
    bool from_mft; /* a lookup's result, else a journal record's */
} dir_entry;

typedef struct dir_map {
    dir_entry *slots;
    size_t cap, count;
} dir_map;

static uint64_t hash_ref(uint64_t r)
{
    r ^= r >> 33;
    r *= 0xff51afd7ed558ccdull;
    return r ^ (r >> 33);
}

static dir_entry *map_find(dir_map *m, uint64_t ref)
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = hash_ref(ref) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->slots[i].ref == ref)
            return &m->slots[i];
        if (m->slots[i].ref == 0)
            return NULL;
    }
}

/* The entry of ref, added when new; NULL when out of memory or full. */
static dir_entry *map_put(dir_map *m, uint64_t ref)
{
    dir_entry *e = map_find(m, ref);
    if (e)
        return e;
    if (m->count >= KT_USN_MAX_DIRS)
        return NULL;
    if (2 * (m->count + 1) > m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 1024;
        dir_entry *s = calloc(cap, sizeof *s);
        if (s == NULL)
            return NULL;
        for (size_t i = 0; i < m->cap; i++) {
            if (m->slots[i].ref == 0)
                continue;
            size_t k = hash_ref(m->slots[i].ref) & (cap - 1);
            while (s[k].ref)
                k = (k + 1) & (cap - 1);
            s[k] = m->slots[i];
        }
        free(m->slots);
        m->slots = s;
        m->cap = cap;
    }
    size_t k = hash_ref(ref) & (m->cap - 1);
    while (m->slots[k].ref)
        k = (k + 1) & (m->cap - 1);
    m->slots[k] = (dir_entry){.ref = ref};
    m->count++;
    return &m->slots[k];
}

static void map_release(dir_map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].name);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

/* ---- the state: the journal read once per system ---- */

typedef struct kept {
    kt_usn_record rec; /* its name is the path's last component */
    char *path;        /* owned */
} kept;

typedef struct journal {
    bool read;
    kept *items;
    size_t count, cap;
    uint64_t bytes; /* read from $J */
    size_t records, bad, partial, dropped, mft_lookups;
    const char *bad_reason;
    TSK_FS_INFO *tfs;
    dir_map journal_dirs, mft_dirs;
} journal;

/* The folder ref as the MFT has it now: its name and parent, when the
 * entry still has ref's sequence number. */
static dir_entry *mft_dir(journal *j, uint64_t ref)
{
    dir_entry *e = map_find(&j->mft_dirs, ref);
    if (e)
        return e;
    e = map_put(&j->mft_dirs, ref);
    if (e == NULL)
        return NULL;
    e->from_mft = true;
    j->mft_lookups++;
    TSK_FS_FILE *f = tsk_fs_file_open_meta(j->tfs, NULL, (TSK_INUM_T)KT_USN_REF_ENTRY(ref));
    if (f && f->meta && f->meta->seq == KT_USN_REF_SEQ(ref)) {
        /* the Win32 name when there are two (a DOS 8.3 name beside it):
         * the longest */
        const TSK_FS_META_NAME_LIST *best = NULL;
        for (const TSK_FS_META_NAME_LIST *n = f->meta->name2; n; n = n->next)
            if (n->name[0] && (best == NULL || strlen(n->name) > strlen(best->name)))
                best = n;
        if (best) {
            e->name = strdup(best->name);
            e->parent = (uint64_t)best->par_inode | (uint64_t)(best->par_seq & 0xffff) << 48;
        }
    }
    tsk_fs_file_close(f);
    tsk_error_reset();
    return e;
}

/* The path of folder ref into out (""  for the root); false when a folder
 * on the way is known neither from the journal nor the MFT (out then
 * starts with "?" and holds what is known). */
static bool dir_path(journal *j, uint64_t ref, char *out, size_t len)
{
    const char *names[KT_FS_MAX_DEPTH];
    size_t n = 0;
    bool ok = true;
    while (KT_USN_REF_ENTRY(ref) != NTFS_ROOT) {
        const dir_entry *e = map_find(&j->journal_dirs, ref);
        if (e == NULL || e->name == NULL)
            e = mft_dir(j, ref);
        if (e == NULL || e->name == NULL || n == KT_FS_MAX_DEPTH) {
            ok = false;
            break;
        }
        names[n++] = e->name;
        ref = e->parent;
    }
    size_t o = 0;
    out[0] = '\0';
    if (!ok)
        o = (size_t)snprintf(out, len, "?");
    while (n > 0 && o < len) {
        int w = snprintf(out + o, len - o, "%s%s", o ? "/" : "", names[--n]);
        if (w < 0)
            break;
        o += (size_t)w;
    }
    return ok && o < len;
}

/* ---- patterns ---- */

static bool path_matches(const kt_file_part *fp, const char *path, uint32_t attributes)
{
    bool dir = attributes & KT_USN_ATTR_DIRECTORY;
    if ((fp->type == 1 && dir) || (fp->type == 2 && !dir))
        return false;
    for (size_t i = 0; i < fp->paths.count; i++)
        if (fnmatch(fp->paths.items[i], path, FNM_PATHNAME | FNM_CASEFOLD) == 0)
            return true;
    return false;
}

/* Whether any usn artifact of the system's OS may want path. */
static bool wanted(kt_collector *c, const char *path, uint32_t attributes)
{
    const char *os = kt_os_name(c->sys->os);
    for (size_t i = 0; i < c->set->nartifacts; i++) {
        const kt_artifact *a = &c->set->artifacts[i];
        if (a->source == &kt_source_usn && a->spec && a->os && strcmp(a->os, os) == 0 &&
            path_matches(&((const spec *)a->spec)->fp, path, attributes))
            return true;
    }
    return false;
}

/* ---- reading $J ---- */

static void record(kt_collector *c, journal *j, const kt_usn_record *r)
{
    j->records++;
    char parent[KT_FS_PATH_MAX];
    bool resolved = dir_path(j, r->parent_ref, parent, sizeof parent);
    /* A folder's name and parent as of this record, for the records after. */
    if ((r->attributes & KT_USN_ATTR_DIRECTORY) && !(r->reason & KT_USN_RENAME_OLD_NAME)) {
        dir_entry *e = map_put(&j->journal_dirs, r->file_ref);
        char *name = e ? strdup(r->name) : NULL;
        if (name) {
            free(e->name);
            e->name = name;
            e->parent = r->parent_ref;
        } else if (c->rc == KT_OK && j->journal_dirs.count < KT_USN_MAX_DIRS) {
            c->rc = KT_ENOMEM;
        }
    }
    if (!(r->reason & (KT_USN_CLOSE | KT_USN_RENAME_OLD_NAME)))
        return; /* its CLOSE record, later, holds its reasons too */
    if (!resolved) {
        j->partial++;
        return;
    }
    char path[KT_FS_PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s%s%s", parent, parent[0] ? "/" : "", r->name) >=
        sizeof path)
        return;
    if (!wanted(c, path, r->attributes))
        return;
    if (j->count == KT_USN_MAX_KEPT) {
        j->dropped++;
        return;
    }
    if (j->count == j->cap) {
        size_t cap = j->cap ? 2 * j->cap : 64;
        kept *p = realloc(j->items, cap * sizeof *p);
        if (p == NULL) {
            c->rc = KT_ENOMEM;
            return;
        }
        j->items = p;
        j->cap = cap;
    }
    kept *k = &j->items[j->count];
    k->rec = *r;
    if ((k->path = strdup(path)) == NULL) {
        c->rc = KT_ENOMEM;
        return;
    }
    j->count++;
}

/* Decode buf[0..len): records wholly inside; the offset where a record
 * runs past the end (or len). */
static size_t decode(kt_collector *c, journal *j, const uint8_t *buf, size_t len, bool last)
{
    size_t off = 0;
    while (off < len && !c->rc) {
        kt_usn_record r;
        const char *why = NULL;
        size_t at = off;
        kt_usn_status st = kt_usn_next(buf, len, &off, &r, &why);
        if (st == KT_USN_SHORT) {
            if (!last)
                return at;
            j->bad++;
            j->bad_reason = "record cut at the end of the journal";
            return len;
        }
        if (st == KT_USN_BAD) {
            j->bad++;
            if (j->bad_reason == NULL)
                j->bad_reason = why;
        } else if (st == KT_USN_RECORD) {
            record(c, j, &r);
        }
    }
    return len;
}

/* The stream's bytes from off to end (no sparse run inside), in chunks. */
static int read_range(kt_collector *c, journal *j, const TSK_FS_ATTR *attr, int64_t off,
                      int64_t end, uint8_t *buf, kt_error *err)
{
    size_t carry = 0;
    while (off < end && !c->rc) {
        size_t want = CHUNK;
        if ((int64_t)want > end - off)
            want = (size_t)(end - off);
        if (j->bytes + want > (uint64_t)KT_USN_MAX_BYTES)
            return kt_error_set(err, KT_ELIMIT,
                                "more than %" PRId64 " bytes in use: the rest "
                                "not read",
                                KT_USN_MAX_BYTES);
        ssize_t got =
            tsk_fs_attr_read(attr, off, (char *)buf + carry, want, TSK_FS_FILE_READ_FLAG_NONE);
        if (got != (ssize_t)want)
            return kt_tsk_error(err, KT_EIO, "cannot read $J");
        j->bytes += want;
        off += (int64_t)want;
        size_t have = carry + want;
        size_t used = decode(c, j, buf, have, off >= end);
        carry = have - used;
        memmove(buf, buf + used, carry);
    }
    return KT_OK;
}

static int read_journal(kt_collector *c, journal *j, kt_error *err)
{
    /* The path is resolved from the volume's own $MFT table (kt_fs_stat),
     * then the file opened by its entry: libtsk's path lookup would open
     * the root directory through libtsk, whose first directory open walks
     * every MFT entry, reading the whole $MFT a second time. */
    kt_stat st;
    if (kt_fs_stat(c->fs, "$Extend/$UsnJrnl", 0, &st, NULL) != KT_OK)
        return kt_error_set(err, KT_ENOTFOUND, "no change journal");
    TSK_FS_FILE *f = tsk_fs_file_open_meta(j->tfs, NULL, (TSK_INUM_T)st.inode);
    if (f == NULL) {
        tsk_error_reset();
        return kt_error_set(err, KT_ENOTFOUND, "no change journal");
    }
    const TSK_FS_ATTR *attr = NULL;
    int n = tsk_fs_file_attr_getsize(f);
    for (int i = 0; i < n && attr == NULL; i++) {
        const TSK_FS_ATTR *a = tsk_fs_file_attr_get_idx(f, i);
        if (a && a->type == TSK_FS_ATTR_TYPE_NTFS_DATA && a->name && strcmp(a->name, "$J") == 0)
            attr = a;
    }
    int rc = KT_OK;
    uint8_t *buf = NULL;
    if (attr == NULL) {
        rc = kt_error_set(err, KT_ENOTFOUND, "no $J stream");
        goto out;
    }
    if ((buf = malloc(CHUNK + KT_USN_RECORD_MAX)) == NULL) {
        rc = KT_ENOMEM;
        goto out;
    }
    if (attr->flags & TSK_FS_ATTR_RES) {
        rc = read_range(c, j, attr, 0, attr->size, buf, err);
        goto out;
    }
    /* The runs in use, adjacent ones as one range; a sparse run (the
     * journal's released head) is never read. */
    int64_t bs = j->tfs->block_size, size = attr->nrd.initsize;
    int64_t start = -1, end = -1;
    for (const TSK_FS_ATTR_RUN *r = attr->nrd.run; r && rc == KT_OK; r = r->next) {
        int64_t a = (int64_t)r->offset * bs, b = a + (int64_t)r->len * bs;
        if (b > size)
            b = size;
        bool data = !(r->flags & (TSK_FS_ATTR_RUN_FLAG_SPARSE | TSK_FS_ATTR_RUN_FLAG_FILLER));
        if (data && a < b && a == end) {
            end = b;
            continue;
        }
        if (start >= 0)
            rc = read_range(c, j, attr, start, end, buf, err);
        start = end = -1;
        if (data && a < b)
            start = a, end = b;
    }
    if (rc == KT_OK && start >= 0)
        rc = read_range(c, j, attr, start, end, buf, err);
out:
    free(buf);
    tsk_fs_file_close(f);
    return rc;
}

static journal *load(kt_collector *c)
{
    journal **slot = (journal **)kt_collect_state(c, &kt_source_usn);
    if (slot == NULL)
        return NULL;
    if (*slot)
        return *slot;
    journal *j = calloc(1, sizeof *j);
    if (j == NULL) {
        c->rc = KT_ENOMEM;
        return NULL;
    }
    *slot = j;
    j->read = true;
    j->tfs = kt_fs_tsk_info(c->fs);
    if (j->tfs == NULL || kt_fs_get_kind(c->fs) != KT_FS_NTFS)
        return j; /* no NTFS: no journal to read */
    kt_error err = {0};
    int rc = read_journal(c, j, &err);
    c->stats->bytes_read += j->bytes;
    if (j->bytes)
        c->stats->files_read++;
    /* No journal (turned off, or a volume that never had one): nothing
     * to read, as for an event log that is not there. */
    if (rc == KT_ENOMEM)
        c->rc = rc;
    else if (rc != KT_OK && rc != KT_ENOTFOUND)
        kt_collect_diag(c, KT_SEV_WARNING, "usn", "$Extend/$UsnJrnl:$J", NULL, "%s", err.msg);
    if (j->bad)
        kt_collect_diag(c, KT_SEV_WARNING, "usn", "$Extend/$UsnJrnl:$J", NULL,
                        "%zu damaged record%s skipped (first: %s)", j->bad, j->bad == 1 ? "" : "s",
                        j->bad_reason ? j->bad_reason : "?");
    if (j->partial)
        kt_collect_diag(c, KT_SEV_NOTE, "usn.partial", "$Extend/$UsnJrnl:$J", NULL,
                        "%zu of %zu record%s name a folder neither the journal nor the MFT still "
                        "holds (entry reused or gone): their paths are partial and match no "
                        "definition",
                        j->partial, j->records, j->records == 1 ? "" : "s");
    if (j->dropped)
        kt_collect_diag(c, KT_SEV_WARNING, "limit.usn", "$Extend/$UsnJrnl:$J", NULL,
                        "more than %d matching records: %zu not kept", KT_USN_MAX_KEPT, j->dropped);
    map_release(&j->journal_dirs);
    map_release(&j->mft_dirs);
    return j;
}

/* ---- events ---- */

static void collect(kt_collector *c, const kt_artifact *a)
{
    const spec *s = a->spec;
    journal *j = load(c);
    for (size_t i = 0; j && i < j->count && !c->rc; i++) {
        const kept *k = &j->items[i];
        const kt_usn_record *r = &k->rec;
        if (!path_matches(&s->fp, k->path, r->attributes))
            continue;
        kt_stat st = {.inode = KT_USN_REF_ENTRY(r->file_ref),
                      .type = r->attributes & KT_USN_ATTR_DIRECTORY ? KT_FT_DIR : KT_FT_REG};
        kt_find f = {.path = k->path, .st = &st, .deleted = true};
        kt_event_draft e;
        kt_emit_begin(c, a, &f, &e);
        /* A create is the artifact's own meaning (an install); a delete
         * is a removal; anything else shows the entry there then. */
        if (r->reason & KT_USN_FILE_DELETE)
            e.ev.category = KT_CAT_REMOVAL;
        else if (!(r->reason & KT_USN_FILE_CREATE))
            e.ev.category = KT_CAT_PRESENCE;
        e.ev.time = r->time;
        e.ev.precision = KT_PREC_100NS;
        e.ev.time_source = "USN record time stamp";
        char reasons[512], value[640], what[KT_FS_PATH_MAX + 700];
        kt_usn_reason_names(r->reason, reasons, sizeof reasons);
        snprintf(value, sizeof value, "USN %" PRId64 ": %s (file reference %" PRIu64 "-%u)", r->usn,
                 reasons, (uint64_t)KT_USN_REF_ENTRY(r->file_ref),
                 (unsigned)KT_USN_REF_SEQ(r->file_ref));
        e.ev.value = value;
        kt_emit_file(&e, &f);
        snprintf(what, sizeof what, " (change journal: %s, %s)", reasons, k->path);
        kt_emit(c, &e, what);
    }
}

static void finish(kt_collector *c)
{
    journal **slot = (journal **)kt_collect_state(c, &kt_source_usn);
    if (slot == NULL || *slot == NULL)
        return;
    journal *j = *slot;
    for (size_t i = 0; i < j->count; i++)
        free(j->items[i].path);
    free(j->items);
    map_release(&j->journal_dirs);
    map_release(&j->mft_dirs);
    free(j);
    *slot = NULL;
}

const kt_source_ops kt_source_usn = {
    .key = "usn",
    .summary = "NTFS change journal records ($UsnJrnl:$J) whose resolved paths match path "
               "patterns: creates (install), deletes (removal), other changes, to 100 ns",
    .parse = parse,
    .release = release,
    .detail = detail,
    .collect = collect,
    .finish = finish,
    .data_volumes = true,
};
