#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libewf.h>
#include <nettle/md5.h>
#include <nettle/sha2.h>

#include "kavtrace/image.h"
#include "tsk_util.h"

#define SNIFF_HEAD 4096
#define SNIFF_TAIL 512

struct kt_image {
    char *path;
    kt_image_info info;
    TSK_IMG_INFO *tsk;
    kt_strlist warnings;
};

int kt_tsk_error(kt_error *err, int code, const char *context)
{
    const char *msg = tsk_error_get();
    char clean[KT_ERROR_MSG_MAX];
    size_t n = 0;
    if (msg != NULL) {
        /* libtsk messages span lines ("Error ...\n(... )"); fold them. */
        for (const char *p = msg; *p && n + 1 < sizeof clean; p++)
            clean[n++] = (*p == '\n' || *p == '\r') ? ' ' : *p;
    }
    while (n > 0 && clean[n - 1] == ' ')
        n--;
    clean[n] = '\0';
    tsk_error_reset();
    if (n == 0)
        return kt_error_set(err, code, "%s", context);
    return kt_error_set(err, code, "%s: %s", context, clean);
}

TSK_IMG_INFO *kt_image_tsk(kt_image *img)
{
    return img->tsk;
}

/* One recognisable container: its magic at an offset of the head, or of
 * the tail (negative offset), and whether kavtrace reads it. */
typedef struct sniff_rule {
    const char *name;
    int offset;
    const char *magic;
    size_t magic_len;
    bool supported;
} sniff_rule;

#define M(s) s, sizeof(s) - 1
static const sniff_rule sniff_rules[] = {
    {.name = "ewf", .offset = 0, M("EVF\x09\x0d\x0a\xff\x00"), .supported = true},
    {.name = "ewf logical evidence (L01)", .offset = 0, M("LVF\x09\x0d\x0a\xff\x00")},
    {.name = "ewf2 (Ex01)", .offset = 0, M("EVF2\x0d\x0a\x81\x00")},
    {.name = "ewf2 logical evidence (Lx01)", .offset = 0, M("LEF2\x0d\x0a\x81\x00")},
    {.name = "vhdx", .offset = 0, M("vhdxfile"), .supported = true},
    {.name = "vhd", .offset = 0, M("conectix"), .supported = true},
    {.name = "vhd", .offset = -512, M("conectix"), .supported = true},
    {.name = "vmdk", .offset = 0, M("KDMV"), .supported = true},
    {.name = "vmdk", .offset = 0, M("# Disk DescriptorFile"), .supported = true},
    {.name = "qcow", .offset = 0, M("QFI\xfb")},
    {.name = "vdi (VirtualBox)", .offset = 0x40, M("\x7f\x10\xda\xbe")},
    {.name = "aff", .offset = 0, M("AFF10\x0d\x0a\x00")},
    {.name = "apple disk image (dmg)", .offset = -512, M("koly")},
    {.name = "xz archive",
     .offset = 0,
     M("\xfd"
       "7zXZ\x00")},
    {.name = "gzip archive", .offset = 0, M("\x1f\x8b")},
    {.name = "bzip2 archive", .offset = 0, M("BZh")},
    {.name = "zip archive", .offset = 0, M("PK\x03\x04")},
    {.name = "7-zip archive", .offset = 0, M("7z\xbc\xaf\x27\x1c")},
    {.name = "zstd archive", .offset = 0, M("\x28\xb5\x2f\xfd")},
    {.name = "tar archive", .offset = 257, M("ustar")},
};
#undef M

const char *kt_image_sniff(const uint8_t *head, size_t head_len, const uint8_t *tail,
                           size_t tail_len, bool *supported)
{
    for (size_t i = 0; i < sizeof sniff_rules / sizeof sniff_rules[0]; i++) {
        const sniff_rule *r = &sniff_rules[i];
        const uint8_t *base = head;
        size_t len = head_len, off = (size_t)r->offset;
        if (r->offset < 0) {
            base = tail;
            len = tail_len;
            if ((size_t)-r->offset > len)
                continue;
            off = len - (size_t)-r->offset;
        }
        if (off + r->magic_len <= len && memcmp(base + off, r->magic, r->magic_len) == 0) {
            if (supported)
                *supported = r->supported;
            return r->name;
        }
    }
    if (supported)
        *supported = true;
    return NULL;
}

void kt_image_warn(kt_image *img, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kt_strlist_vaddf(&img->warnings, fmt, ap);
    va_end(ap);
}

const kt_strlist *kt_image_warnings(const kt_image *img)
{
    return &img->warnings;
}

const kt_image_info *kt_image_get_info(const kt_image *img)
{
    return &img->info;
}

const char *kt_image_path(const kt_image *img)
{
    return img->path;
}

static int read_ends(const char *path, int64_t size, uint8_t *head, size_t *head_len, uint8_t *tail,
                     size_t *tail_len, kt_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kt_error_set(err, KT_EIO, "cannot open: %s", strerror(errno));
    int rc = KT_OK;
    ssize_t n = pread(fd, head, SNIFF_HEAD, 0);
    if (n < 0) {
        rc = kt_error_set(err, KT_EIO, "cannot read: %s", strerror(errno));
        goto out;
    }
    *head_len = (size_t)n;
    *tail_len = 0;
    if (size >= SNIFF_TAIL) {
        n = pread(fd, tail, SNIFF_TAIL, size - SNIFF_TAIL);
        if (n < 0) {
            rc = kt_error_set(err, KT_EIO, "cannot read: %s", strerror(errno));
            goto out;
        }
        *tail_len = (size_t)n;
    }
out:
    close(fd);
    return rc;
}

/* Split raw: "x.000"/"x.001"/... or "x.aa"/"x.ab"/...; the name given must be
 * the first segment. Anything else is a single file. */
static int raw_segments(const char *path, kt_strlist *segs)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    size_t n = dot ? strlen(dot + 1) : 0;
    bool numeric = n >= 2 && n <= 4, alpha = n == 2;
    for (size_t i = 0; dot && i < n; i++) {
        numeric = numeric && isdigit((unsigned char)dot[1 + i]);
        alpha = alpha && islower((unsigned char)dot[1 + i]);
    }
    if (dot == NULL || (slash && dot < slash) || !(numeric || alpha))
        return kt_strlist_add(segs, path);
    if (numeric) {
        long first = strtol(dot + 1, NULL, 10);
        if (first != 0 && first != 1)
            return kt_strlist_add(segs, path);
    } else if (strcmp(dot + 1, "aa") != 0) {
        return kt_strlist_add(segs, path);
    }
    size_t stem = (size_t)(dot - path) + 1;
    char name[KT_ERROR_MSG_MAX * 2];
    if (stem + n + 1 > sizeof name)
        return kt_strlist_add(segs, path);
    memcpy(name, path, stem);
    long start = numeric ? strtol(dot + 1, NULL, 10) : 0;
    for (long i = 0; i < KT_IMAGE_MAX_SEGMENTS; i++) {
        if (numeric) {
            snprintf(name + stem, sizeof name - stem, "%0*ld", (int)n, start + i);
        } else {
            if (i >= 26 * 26)
                break;
            name[stem] = (char)('a' + i / 26);
            name[stem + 1] = (char)('a' + i % 26);
            name[stem + 2] = '\0';
        }
        struct stat st;
        if (stat(name, &st) != 0 || !S_ISREG(st.st_mode))
            break;
        int rc = kt_strlist_add(segs, name);
        if (rc)
            return rc;
    }
    return segs->count ? KT_OK : kt_strlist_add(segs, path);
}

static void ewf_error_text(libewf_error_t *e, char *buf, size_t len)
{
    char raw[4096];
    buf[0] = '\0';
    if (e == NULL || libewf_error_sprint(e, raw, sizeof raw) <= 0)
        return;
    /* libyal prints one line per level, innermost first: keep the first,
     * which names what actually failed. */
    char *nl = strchr(raw, '\n');
    if (nl)
        *nl = '\0';
    kt_strlcpy(buf, raw, len);
}

static void ewf_hash(libewf_handle_t *h, const char *id, char *out, size_t out_len)
{
    uint8_t val[128];
    libewf_error_t *e = NULL;
    out[0] = '\0';
    if (libewf_handle_get_utf8_hash_value(h, (const uint8_t *)id, strlen(id), val, sizeof val,
                                          &e) == 1) {
        kt_strlcpy(out, (const char *)val, out_len);
        for (char *p = out; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    libewf_error_free(&e);
}

/* Read the segment list, stored hashes and case metadata straight from
 * libewf: libtsk does not expose them. */
static int ewf_describe(kt_image *img, kt_error *err)
{
    char **names = NULL;
    int count = 0, rc = KT_OK;
    libewf_error_t *e = NULL;
    libewf_handle_t *h = NULL;
    char why[512];

    if (libewf_glob(img->path, strlen(img->path), LIBEWF_FORMAT_UNKNOWN, &names, &count, &e) != 1) {
        ewf_error_text(e, why, sizeof why);
        rc = kt_error_set(err, KT_EFORMAT, "cannot find the EWF segment files: %s", why);
        goto out;
    }
    if (count <= 0 || count > KT_IMAGE_MAX_SEGMENTS) {
        rc = kt_error_set(err, KT_ELIMIT, "EWF set has %d segment files", count);
        goto out;
    }
    for (int i = 0; i < count; i++) {
        rc = kt_strlist_add(&img->info.segments, names[i]);
        if (rc)
            goto out;
    }
    if (libewf_handle_initialize(&h, &e) != 1 ||
        libewf_handle_open(h, names, count, LIBEWF_OPEN_READ, &e) != 1) {
        ewf_error_text(e, why, sizeof why);
        rc = kt_error_set(err, KT_EFORMAT, "corrupt or truncated EWF set: %s", why);
        goto out;
    }
    if (libewf_handle_segment_files_corrupted(h, &e) == 1)
        kt_image_warn(
            img, "EWF set is corrupted or truncated: libewf reports damaged or missing sections");
    ewf_hash(h, "MD5", img->info.stored_md5, sizeof img->info.stored_md5);
    ewf_hash(h, "SHA1", img->info.stored_sha1, sizeof img->info.stored_sha1);

    uint32_t nvalues = 0;
    if (libewf_handle_get_number_of_header_values(h, &nvalues, &e) == 1) {
        for (uint32_t i = 0; i < nvalues && i < 64; i++) {
            uint8_t id[64], val[1024];
            size_t idsize = 0;
            if (libewf_handle_get_header_value_identifier_size(h, i, &idsize, &e) != 1 ||
                idsize > sizeof id ||
                libewf_handle_get_header_value_identifier(h, i, id, sizeof id, &e) != 1) {
                libewf_error_free(&e);
                continue;
            }
            if (libewf_handle_get_utf8_header_value(h, id, idsize - 1, val, sizeof val, &e) == 1 &&
                val[0] != '\0') {
                rc = kt_strlist_addf(&img->info.metadata, "%s=%s", (const char *)id,
                                     (const char *)val);
                if (rc)
                    goto out;
            }
            libewf_error_free(&e);
        }
    }
out:
    libewf_error_free(&e);
    if (h) {
        libewf_handle_close(h, NULL);
        libewf_handle_free(&h, NULL);
    }
    if (names)
        libewf_glob_free(names, count, NULL);
    return rc;
}

static const struct {
    kt_image_format format;
    const char *name;
    const char *desc;
    TSK_IMG_TYPE_ENUM tsk;
} formats[] = {
    {KT_IMG_RAW, "raw", "raw image", TSK_IMG_TYPE_RAW},
    {KT_IMG_EWF, "ewf", "Expert Witness Format (EnCase E01)", TSK_IMG_TYPE_EWF_EWF},
    {KT_IMG_VMDK, "vmdk", "VMware virtual disk (VMDK)", TSK_IMG_TYPE_VMDK_VMDK},
    {KT_IMG_VHD, "vhd", "Microsoft virtual hard disk (VHD)", TSK_IMG_TYPE_VHD_VHD},
    {KT_IMG_VHDX, "vhdx", "Microsoft virtual hard disk v2 (VHDX)", TSK_IMG_TYPE_VHD_VHD},
    {KT_IMG_DIR, "dir", "directory (mounted or extracted filesystem)", TSK_IMG_TYPE_UNSUPP},
};

static void set_format(kt_image *img, kt_image_format f)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        if (formats[i].format == f) {
            img->info.format = f;
            img->info.format_name = formats[i].name;
            img->info.format_desc = formats[i].desc;
        }
    }
}

static TSK_IMG_TYPE_ENUM tsk_type(kt_image_format f)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (formats[i].format == f)
            return formats[i].tsk;
    return TSK_IMG_TYPE_UNSUPP;
}

static kt_image_format format_of(const char *name)
{
    if (name == NULL)
        return KT_IMG_RAW;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(formats[i].name, name) == 0)
            return formats[i].format;
    return KT_IMG_RAW;
}

static int open_container(kt_image *img, kt_error *err)
{
    struct stat st;
    if (stat(img->path, &st) != 0)
        return kt_error_set(err, errno == ENOENT ? KT_ENOTFOUND : KT_EIO, "cannot open: %s",
                            strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        set_format(img, KT_IMG_DIR);
        return kt_strlist_add(&img->info.segments, img->path);
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        return kt_error_set(err, KT_EFORMAT, "not a regular file, block device or directory");
    int64_t size = st.st_size;
    if (S_ISBLK(st.st_mode)) {
        int fd = open(img->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return kt_error_set(err, KT_EIO, "cannot open: %s", strerror(errno));
        off_t end = lseek(fd, 0, SEEK_END);
        close(fd);
        size = end > 0 ? end : 0;
    }
    if (size == 0)
        return kt_error_set(err, KT_EFORMAT, "empty file (0 bytes): not a disk image");

    uint8_t head[SNIFF_HEAD], tail[SNIFF_TAIL];
    size_t head_len = 0, tail_len = 0;
    int rc = read_ends(img->path, size, head, &head_len, tail, &tail_len, err);
    if (rc)
        return rc;
    bool supported = true;
    const char *kind = kt_image_sniff(head, head_len, tail, tail_len, &supported);
    if (!supported)
        return kt_error_set(err, KT_EUNSUPPORTED, "unsupported format: %s", kind);
    set_format(img, format_of(kind));

    switch (img->info.format) {
    case KT_IMG_EWF:
        rc = ewf_describe(img, err);
        break;
    case KT_IMG_RAW:
        rc = raw_segments(img->path, &img->info.segments);
        break;
    default:
        rc = kt_strlist_add(&img->info.segments, img->path);
        break;
    }
    if (rc)
        return rc;

    if (img->info.format == KT_IMG_VMDK || img->info.format == KT_IMG_VHD ||
        img->info.format == KT_IMG_VHDX) {
        rc = kt_vdisk_open(img->info.format == KT_IMG_VMDK, img->path, &img->tsk, err);
        if (rc)
            return rc;
    } else {
        img->tsk = tsk_img_open_utf8((int)img->info.segments.count,
                                     (const char *const *)img->info.segments.items,
                                     tsk_type(img->info.format), 0);
    }
    if (img->tsk == NULL) {
        char what[64];
        snprintf(what, sizeof what, "cannot open as %s", img->info.format_name);
        return kt_tsk_error(err, KT_EFORMAT, what);
    }
    img->info.size = img->tsk->size;
    img->info.sector_size = img->tsk->sector_size;
    if (img->info.format == KT_IMG_RAW && img->info.size % 512 != 0)
        kt_image_warn(img, "image size %lld is not a multiple of 512 bytes: truncated image?",
                      (long long)img->info.size);
    return KT_OK;
}

int kt_image_open(const char *path, kt_image **out, kt_error *err)
{
    kt_image *img = calloc(1, sizeof *img);
    if (img == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    img->path = strdup(path);
    int rc = img->path ? open_container(img, err) : kt_error_set(err, KT_ENOMEM, "out of memory");
    if (rc) {
        kt_error_prefix(err, "evidence '%s'", path);
        kt_image_free(img);
        return rc;
    }
    *out = img;
    return KT_OK;
}

void kt_image_free(kt_image *img)
{
    if (img == NULL)
        return;
    if (img->tsk)
        tsk_img_close(img->tsk);
    kt_strlist_release(&img->info.segments);
    kt_strlist_release(&img->info.metadata);
    kt_strlist_release(&img->warnings);
    free(img->path);
    free(img);
}

ssize_t kt_image_read(kt_image *img, int64_t off, void *buf, size_t len, kt_error *err)
{
    if (img->tsk == NULL)
        return kt_error_set(err, KT_EARG, "a directory has no media to read");
    if (off < 0 || off >= img->info.size)
        return 0;
    if ((int64_t)len > img->info.size - off)
        len = (size_t)(img->info.size - off);
    ssize_t n = tsk_img_read(img->tsk, off, buf, len);
    if (n < 0)
        return kt_tsk_error(err, KT_EIO, "read failed");
    return n;
}

static void to_hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

#define HASH_CHUNK (1u << 20)

int kt_image_hash(kt_image *img, char sha256[65], char md5[33], kt_hash_progress progress,
                  void *ctx, kt_error *err)
{
    if (img->tsk == NULL)
        return kt_error_set(err, KT_EARG, "a directory has no media to hash");
    uint8_t *buf = malloc(HASH_CHUNK);
    if (buf == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    struct sha256_ctx s;
    struct md5_ctx m;
    sha256_init(&s);
    md5_init(&m);
    int64_t size = img->info.size, done = 0;
    int rc = KT_OK;
    while (done < size) {
        size_t want = size - done < (int64_t)HASH_CHUNK ? (size_t)(size - done) : HASH_CHUNK;
        ssize_t got = kt_image_read(img, done, buf, want, err);
        if (got <= 0) {
            rc = got < 0 ? (int)got
                         : kt_error_set(err, KT_EIO, "media ends at %lld of %lld bytes",
                                        (long long)done, (long long)size);
            kt_error_prefix(err, "hashing at offset %lld", (long long)done);
            goto out;
        }
        sha256_update(&s, (size_t)got, buf);
        md5_update(&m, (size_t)got, buf);
        done += got;
        if (progress)
            progress(ctx, done, size);
    }
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&s, sizeof d, d);
    to_hex(d, SHA256_DIGEST_SIZE, sha256);
    md5_digest(&m, MD5_DIGEST_SIZE, d);
    to_hex(d, MD5_DIGEST_SIZE, md5);
out:
    free(buf);
    return rc;
}
