#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kavtrace/json.h"
#include "kavtrace/output.h"
#include "kavtrace/provenance.h"
#include "kavtrace/writers.h"

int kt_run_id_new(char out[KT_RUN_ID_MAX], kt_error *err)
{
    struct timespec ts;
    struct tm tm;
    uint8_t r[8];
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || gmtime_r(&ts.tv_sec, &tm) == NULL)
        return kt_error_set(err, KT_EIO, "run id: no clock: %s", strerror(errno));
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return kt_error_set(err, KT_EIO, "run id: no random bytes: %s", strerror(errno));
    char t[32];
    strftime(t, sizeof t, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(out, KT_RUN_ID_MAX, "%s-%02x%02x%02x%02x%02x%02x%02x%02x", t, r[0], r[1], r[2], r[3],
             r[4], r[5], r[6], r[7]);
    return KT_OK;
}

int kt_write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        if (w == 0)
            return -EIO;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* What kavtrace writes into an item's folder. */
static bool ours(const char *name)
{
    if (strcmp(name, KT_SCAN_LOG_FILE) == 0 || strcmp(name, KT_MANIFEST_FILE) == 0 ||
        strcmp(name, KT_RUN_JSON_FILE) == 0)
        return true;
    for (size_t i = 0; i < kt_nwriters; i++)
        if (strcmp(name, kt_writers[i]->file) == 0)
            return true;
    return false;
}

int kt_outdir_check(const char *final, kt_error *err)
{
    struct stat st;
    if (lstat(final, &st) != 0)
        return errno == ENOENT ? KT_OK
                               : kt_error_set(err, KT_EIO, "cannot read: %s", strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return kt_error_set(err, KT_EARG, "exists and is not a directory");
    DIR *d = opendir(final);
    if (d == NULL)
        return kt_error_set(err, KT_EIO, "cannot read: %s", strerror(errno));
    int rc = KT_OK;
    struct dirent *de;
    while (rc == KT_OK && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (!ours(de->d_name) || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            rc = kt_error_set(err, KT_EARG, "holds '%s', which kavtrace did not write", de->d_name);
    }
    closedir(d);
    return rc;
}

/* final split: its parent folder and its name. */
static int split(const char *final, char *parent, const char **name, kt_error *err)
{
    const char *slash = strrchr(final, '/');
    if (final[0] != '/' || slash == NULL || slash[1] == '\0' || strcmp(slash + 1, ".") == 0 ||
        strcmp(slash + 1, "..") == 0 || strlen(final) >= KT_OUTDIR_PATH_MAX)
        return kt_error_set(err, KT_EARG, "'%s' is not a folder's absolute path", final);
    size_t n = slash == final ? 1 : (size_t)(slash - final);
    memcpy(parent, final, n);
    parent[n] = '\0';
    *name = slash + 1;
    return KT_OK;
}

/* PARENT/<prefix>NAME<suffix>RUNID beside final. */
static int beside(const kt_outdir *o, const char *prefix, const char *suffix, char *out, size_t len,
                  kt_error *err)
{
    char parent[KT_OUTDIR_PATH_MAX];
    const char *name;
    int rc = split(o->final, parent, &name, err);
    if (rc)
        return rc;
    int n = snprintf(out, len, "%s%s%s%s%s%s", parent, strcmp(parent, "/") ? "/" : "", prefix, name,
                     suffix, o->run_id);
    if (n < 0 || (size_t)n >= len)
        return kt_error_set(err, KT_ELIMIT, "'%s': path too long", o->final);
    return KT_OK;
}

static int mkdirs(const char *path)
{
    char buf[KT_OUTDIR_PATH_MAX];
    if (kt_strlcpy(buf, path, sizeof buf) >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int kt_outdir_begin(kt_outdir *o, const char *final, const char *run_id, kt_error *err)
{
    memset(o, 0, sizeof *o);
    char parent[KT_OUTDIR_PATH_MAX];
    const char *name;
    if (kt_strlcpy(o->final, final, sizeof o->final) >= sizeof o->final)
        return kt_error_set(err, KT_ELIMIT, "'%s': path too long", final);
    kt_strlcpy(o->run_id, run_id, sizeof o->run_id);
    int rc = split(o->final, parent, &name, err);
    if (rc == KT_OK)
        rc = beside(o, ".", ".partial-", o->partial, sizeof o->partial, err);
    if (rc)
        return rc;
    if (mkdirs(parent) != 0)
        return kt_error_set(err, KT_EIO, "cannot create '%s': %s", parent, strerror(errno));
    if (mkdir(o->partial, 0755) != 0)
        return kt_error_set(err, KT_EIO, "cannot create '%s': %s", o->partial, strerror(errno));
    return KT_OK;
}

/* A flush the filesystem cannot do (a device) is no failure. */
static int sync_fd(int fd)
{
    return fsync(fd) == 0 || errno == EINVAL || errno == EROFS ? 0 : -errno;
}

static int sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = sync_fd(fd);
    close(fd);
    return rc;
}

static void sha256_hex(const kt_buf *b, char out[65])
{
    struct sha256_ctx c;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_init(&c);
    sha256_update(&c, b->len, b->data ? b->data : (const uint8_t *)"");
    sha256_digest(&c, sizeof d, d);
    for (size_t i = 0; i < sizeof d; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

int kt_outdir_write(kt_outdir *o, const char *name, const kt_buf *b, kt_error *err)
{
    if (o->nfiles == KT_OUTDIR_MAX_FILES || strlen(name) >= sizeof o->files[0].name ||
        strchr(name, '/'))
        return kt_error_set(err, KT_EARG, "cannot write '%s': not a file name kavtrace writes",
                            name);
    char path[KT_OUTDIR_PATH_MAX + 80];
    snprintf(path, sizeof path, "%s/%s", o->partial, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return kt_error_set(err, KT_EIO, "cannot write '%s': %s", name, strerror(errno));
    int e = kt_write_all(fd, b->data, b->len);
    if (e == 0)
        e = sync_fd(fd);
    if (close(fd) != 0 && e == 0)
        e = -errno;
    if (e) {
        unlink(path);
        return kt_error_set(err, KT_EIO, "cannot write '%s': %s", name, strerror(-e));
    }
    kt_output_file *f = &o->files[o->nfiles++];
    kt_strlcpy(f->name, name, sizeof f->name);
    f->size = b->len;
    sha256_hex(b, f->sha256);
    return KT_OK;
}

static int manifest(const kt_outdir *o, const kt_manifest_info *info, kt_buf *out)
{
    kt_json j;
    kt_json_init(&j, out);
    kt_json_begin_object(&j, NULL);
    kt_json_string(&j, "kavtrace_version", info->version);
    kt_json_string(&j, "run_id", o->run_id);
    kt_json_begin_object(&j, "evidence");
    kt_json_string(&j, "path", info->evidence);
    if (info->evidence_size >= 0)
        kt_json_int(&j, "size", info->evidence_size);
    else
        kt_json_null(&j, "size");
    if (info->definitions_sha256) {
        kt_json_int(&j, "files", info->evidence_files);
        if (info->evidence_files_bytes >= 0)
            kt_json_int(&j, "files_bytes", info->evidence_files_bytes);
        else
            kt_json_null(&j, "files_bytes");
        kt_json_time(&j, "files_mtime", info->evidence_files_mtime);
    }
    kt_json_end_object(&j);
    if (info->definitions_sha256)
        kt_json_string(&j, "definitions_sha256", info->definitions_sha256);
    kt_json_begin_array(&j, "files");
    for (size_t i = 0; i < o->nfiles; i++) {
        kt_json_begin_object(&j, NULL);
        kt_json_string(&j, "name", o->files[i].name);
        kt_json_int(&j, "size", (int64_t)o->files[i].size);
        kt_json_string(&j, "sha256", o->files[i].sha256);
        kt_json_end_object(&j);
    }
    kt_json_end_array(&j);
    kt_json_end_object(&j);
    return j.rc;
}

/* Delete an older run's folder: only what kt_outdir_check allows in one. */
static int remove_old(const char *dir, kt_error *err)
{
    int rc = kt_outdir_check(dir, err);
    if (rc)
        return rc;
    DIR *d = opendir(dir);
    if (d == NULL)
        return kt_error_set(err, KT_EIO, "cannot read '%s': %s", dir, strerror(errno));
    struct dirent *de;
    while (rc == KT_OK && (de = readdir(d)) != NULL)
        if (ours(de->d_name) && unlinkat(dirfd(d), de->d_name, 0) != 0)
            rc = kt_error_set(err, KT_EIO, "cannot remove '%s/%s': %s", dir, de->d_name,
                              strerror(errno));
    closedir(d);
    if (rc == KT_OK && rmdir(dir) != 0)
        rc = kt_error_set(err, KT_EIO, "cannot remove '%s': %s", dir, strerror(errno));
    return rc;
}

int kt_outdir_commit(kt_outdir *o, const kt_manifest_info *info, kt_error *err)
{
    kt_buf b = {0};
    int rc = manifest(o, info, &b);
    if (rc)
        rc = kt_error_set(err, rc, "cannot write '%s': out of memory", KT_MANIFEST_FILE);
    else
        rc = kt_outdir_write(o, KT_MANIFEST_FILE, &b, err);
    kt_buf_release(&b);
    if (rc == KT_OK)
        rc = beside(o, ".", ".old-", o->old, sizeof o->old, err);
    if (rc)
        return rc;
    int e = sync_dir(o->partial);
    if (e)
        return kt_error_set(err, KT_EIO, "cannot flush '%s': %s", o->partial, strerror(-e));
    o->replaced = rename(o->final, o->old) == 0;
    if (!o->replaced && errno != ENOENT)
        return kt_error_set(err, KT_EIO, "cannot move the older '%s' aside: %s", o->final,
                            strerror(errno));
    if (rename(o->partial, o->final) != 0) {
        rc = kt_error_set(err, KT_EIO, "cannot rename '%s' to '%s': %s", o->partial, o->final,
                          strerror(errno));
        if (o->replaced && rename(o->old, o->final) != 0)
            kt_error_prefix(err, "the older outputs are in '%s'", o->old);
        o->replaced = false;
        return rc;
    }
    return KT_OK;
}

int kt_outdir_finish(kt_outdir *o, kt_error *err)
{
    char parent[KT_OUTDIR_PATH_MAX];
    const char *name;
    int rc = split(o->final, parent, &name, err);
    if (rc)
        return rc;
    int e = sync_dir(parent);
    if (e)
        return kt_error_set(err, KT_EIO, "cannot flush '%s': %s", parent, strerror(-e));
    if (o->replaced && remove_old(o->old, err) != KT_OK) {
        kt_error_prefix(err, "the older outputs are left in '%s'", o->old);
        return KT_EIO;
    }
    o->replaced = false;
    return KT_OK;
}

int kt_outdir_abandon(kt_outdir *o, char *stale, size_t len, kt_error *err)
{
    stale[0] = '\0';
    char path[KT_OUTDIR_PATH_MAX];
    int rc = beside(o, "", ".stale-", path, sizeof path, err);
    if (rc)
        return rc;
    /* The name is the final one's with a suffix: never hidden. */
    if (rename(o->final, path) != 0)
        return errno == ENOENT ? KT_OK
                               : kt_error_set(err, KT_EIO, "cannot rename the older '%s': %s",
                                              o->final, strerror(errno));
    kt_strlcpy(stale, path, len);
    return KT_OK;
}
