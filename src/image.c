#include <inttypes.h>
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
#include <nettle/sha1.h>
#include <nettle/sha2.h>

#include "collection.h"
#include "kavtrace/image.h"
#include "image_impl.h"

#define SNIFF_HEAD 4096
#define SNIFF_TAIL 512

struct kt_image {
    char *path;
    kt_image_info info;
    TSK_IMG_INFO *tsk;
    kt_strlist warnings;
    kt_archive *archive; /* KT_IMG_ARCHIVE */
    kt_collection coll;  /* kind KT_COLL_NONE unless a triage collection */
};

kt_archive *kt_image_archive(kt_image *img)
{
    return img->archive;
}

const kt_collection *kt_image_collection(const kt_image *img)
{
    return &img->coll;
}

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
    {.name = "qcow", .offset = 0, M("QFI\xfb"), .supported = true},
    {.name = "vdi (VirtualBox)", .offset = 0x40, M("\x7f\x10\xda\xbe")},
    {.name = "aff", .offset = 0, M("AFF10\x0d\x0a\x00"), .supported = true},
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

#define READ_DAMAGE_LISTED 4 /* ranges named in the warning */

int kt_image_read_damage(kt_image *img, kt_strlist *out)
{
    if (img == NULL || img->tsk == NULL || img->info.format != KT_IMG_EWF)
        return KT_OK;
    kt_sector_range r[READ_DAMAGE_LISTED];
    size_t n = 0;
    if (kt_vdisk_checksum_errors(img->tsk, r, READ_DAMAGE_LISTED, &n) != KT_OK)
        return kt_strlist_add(out, "libewf cannot tell whether the chunks read so far passed "
                                   "their checksums: data read from the EWF set may be wrong");
    if (n == 0)
        return KT_OK;
    char where[256] = "";
    size_t at = 0;
    for (size_t i = 0; i < n && i < READ_DAMAGE_LISTED && at < sizeof where; i++)
        at += (size_t)snprintf(where + at, sizeof where - at, "%s%" PRIu64 "-%" PRIu64,
                               i ? ", " : "", r[i].first, r[i].first + r[i].count - 1);
    return kt_strlist_addf(out,
                           "%zu range%s of the EWF set's sectors (%s%s) failed their chunk "
                           "checksum or were missing when read: what the scan read from them may "
                           "be wrong",
                           n, n == 1 ? "" : "s", where, n > READ_DAMAGE_LISTED ? ", ..." : "");
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

/* A split raw image's part names: a stem and a suffix of n digits
 * ("x.000", "x.001", ...) or two letters ("x.aa", "x.ab", ...). */
typedef struct split_names {
    char name[KT_ERROR_MSG_MAX * 2];
    size_t stem, n;
    bool numeric;
    long limit; /* how many part names the suffix can spell */
} split_names;

/* Spell part idx into sp->name; returns its base name (borrowed). */
static const char *part_name(split_names *sp, long idx)
{
    if (sp->numeric) {
        snprintf(sp->name + sp->stem, sizeof sp->name - sp->stem, "%0*ld", (int)sp->n, idx);
    } else {
        sp->name[sp->stem] = (char)('a' + idx / 26);
        sp->name[sp->stem + 1] = (char)('a' + idx % 26);
        sp->name[sp->stem + 2] = '\0';
    }
    const char *slash = strrchr(sp->name, '/');
    return slash ? slash + 1 : sp->name;
}

/* Whether part idx is a regular file, and its size. */
static bool part_size(split_names *sp, long idx, int64_t *size)
{
    struct stat st;
    part_name(sp, idx);
    if (stat(sp->name, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    *size = st.st_size;
    return true;
}

/* Split raw: "x.000"/"x.001"/... or "x.aa"/"x.ab"/...; anything else, or a
 * lone part, is a single file. The parts are read from the first, as long
 * as they follow on from each other: a part missing in the middle, an
 * empty part, or a part other than the last whose size differs from the
 * first part's ends the set there (the data after it would be read at the
 * wrong offsets), and the evidence named by a later part is read from its
 * first. Each case is a warning naming the part. */
static int raw_segments(kt_image *img, const char *path, kt_strlist *segs, kt_error *err)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    split_names sp = {.n = dot ? strlen(dot + 1) : 0};
    bool numeric = sp.n >= 2 && sp.n <= 4, alpha = sp.n == 2;
    for (size_t i = 0; dot && i < sp.n; i++) {
        numeric = numeric && isdigit((unsigned char)dot[1 + i]);
        alpha = alpha && islower((unsigned char)dot[1 + i]);
    }
    sp.stem = dot ? (size_t)(dot - path) + 1 : 0;
    if (dot == NULL || (slash && dot < slash) || !(numeric || alpha) ||
        sp.stem + sp.n + 1 > sizeof sp.name)
        return kt_strlist_add(segs, path);
    memcpy(sp.name, path, sp.stem);
    sp.numeric = numeric;
    sp.limit = 26 * 26;
    if (numeric)
        for (size_t i = 1, lim = 10; i <= sp.n; i++, lim *= 10)
            sp.limit = lim < KT_IMAGE_MAX_SEGMENTS ? (long)lim : KT_IMAGE_MAX_SEGMENTS;
    long given = numeric ? strtol(dot + 1, NULL, 10) : (dot[1] - 'a') * 26 + (dot[2] - 'a');
    int64_t size = 0;
    long first = numeric && !part_size(&sp, 0, &size) ? 1 : 0;
    if (given >= sp.limit)
        return kt_strlist_add(segs, path);
    if (given > first) {
        if (!part_size(&sp, first, &size)) {
            /* "x.002" with no "x.001" before it: one file, unless a part
             * follows, when the start of the set is missing. */
            if (part_size(&sp, given + 1, &size))
                kt_image_warn(img,
                              "'%s' looks like a later part of a split image whose first part "
                              "'%s' is missing: read alone",
                              base, part_name(&sp, first));
            return kt_strlist_add(segs, path);
        }
        kt_image_warn(img, "'%s' is not the first part of a split image: read from '%s'", base,
                      part_name(&sp, first));
    }

    int64_t first_size = -1;
    long i = first;
    for (; i < sp.limit && part_size(&sp, i, &size); i++) {
        char part[KT_ERROR_MSG_MAX];
        kt_strlcpy(part, part_name(&sp, i), sizeof part);
        bool last = !part_size(&sp, i + 1, &(int64_t){0});
        const char *why = NULL;
        if (size == 0)
            why = "is empty";
        else if (first_size < 0)
            first_size = size;
        else if (size != first_size && !last)
            why = "differs in size from the first part";
        else if (size > first_size)
            kt_image_warn(img,
                          "split raw part '%s', the last, is %lld bytes, more than the %lld of "
                          "each part before it: parts of different images?",
                          part, (long long)size, (long long)first_size);
        if (size > 0) {
            part_name(&sp, i);
            int rc = kt_strlist_add(segs, sp.name);
            if (rc)
                return kt_error_set(err, rc, "out of memory");
        }
        if (why == NULL)
            continue;
        char sizes[96] = "";
        if (first_size > 0)
            snprintf(sizes, sizeof sizes, " (%lld bytes, the first part %lld)", (long long)size,
                     (long long)first_size);
        kt_image_warn(img, "split raw part '%s' %s%s%s%s%s", part, why, sizes,
                      last ? "" : ": the parts from '", last ? "" : part_name(&sp, i + 1),
                      last ? "" : "' on would be read at the wrong offsets and are left out");
        break;
    }
    if (i < sp.limit && !part_size(&sp, i, &size)) {
        /* A part missing in the middle: any part after it? */
        char missing[KT_ERROR_MSG_MAX];
        kt_strlcpy(missing, part_name(&sp, i), sizeof missing);
        for (long k = i + 1; k < sp.limit; k++) {
            if (part_size(&sp, k, &size)) {
                kt_image_warn(img,
                              "split raw part '%s' is missing: '%s' and the parts after it are "
                              "not read",
                              missing, part_name(&sp, k));
                break;
            }
        }
    }
    if (segs->count == 0)
        return kt_error_set(err, KT_EFORMAT, "the first part of the split image, '%s', is empty",
                            part_name(&sp, first));
    return KT_OK;
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
    {KT_IMG_QCOW, "qcow", "QEMU copy-on-write disk (QCOW)", TSK_IMG_TYPE_UNSUPP},
    {KT_IMG_AFF, "aff", "Advanced Forensic Format (AFF, through AFFLIB)", TSK_IMG_TYPE_AFF_AFF},
    {KT_IMG_DIR, "dir", "directory (mounted or extracted filesystem)", TSK_IMG_TYPE_UNSUPP},
    {KT_IMG_ARCHIVE, "archive", "triage collection archive, read in place", TSK_IMG_TYPE_UNSUPP},
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

/* What a triage collection is called in `info`. */
static const char *collection_desc(kt_collection_kind k)
{
    switch (k) {
    case KT_COLL_KAPE:
        return "KAPE target folder (triage collection)";
    case KT_COLL_VELOCIRAPTOR:
        return "Velociraptor offline collection (archive read in place)";
    case KT_COLL_UAC:
        return "UAC collection (archive read in place)";
    case KT_COLL_ROOT:
        return "archive of a filesystem root (read in place)";
    default:
        return NULL;
    }
}

/* An archive the sniffer named: a triage collection when libarchive reads
 * it as tar or zip and its layout is one kavtrace knows; otherwise refused
 * as before, with its name. */
static int open_archive(kt_image *img, const char *kind, kt_error *err)
{
    kt_error e = {0};
    int rc = kt_archive_open(img->path, &img->archive, &e);
    if (rc == KT_ENOMEM)
        return kt_error_set(err, rc, "out of memory");
    if (rc == KT_OK && (rc = kt_collection_of_archive(img->archive, &img->coll, err)) != KT_OK)
        return rc;
    if (img->archive == NULL || img->coll.kind == KT_COLL_NONE)
        return kt_error_set(
            err, KT_EUNSUPPORTED, "unsupported format: %s (%s; decompress it first)", kind,
            img->archive ? "no triage collection layout kavtrace knows in it" : e.msg);
    set_format(img, KT_IMG_ARCHIVE);
    struct stat st;
    img->info.size = stat(img->path, &st) == 0 ? st.st_size : 0;
    img->info.collection = kt_collection_kind_name(img->coll.kind);
    img->info.format_desc = collection_desc(img->coll.kind);
    if (kt_archive_damage(img->archive)[0])
        kt_image_warn(img, "%s", kt_archive_damage(img->archive));
    for (size_t i = 0; i < img->coll.warnings.count; i++)
        kt_image_warn(img, "%s", img->coll.warnings.items[i]);
    return kt_strlist_add(&img->info.segments, img->path);
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

/* A VHD's footer sits in its last 512 bytes; a dynamic or differencing
 * disk keeps a copy at offset 0. libvhdi reads only the one at the end and
 * ignores its checksum. With that footer intact, libtsk (libvhdi) reads
 * the disk. Without it, a dynamic disk whose copy is intact is read with
 * the copy (image_vhd.c), with a warning; anything else is refused with
 * what is wrong. A footer whose only fault is its checksum is left to
 * libvhdi, with a warning. */
static int vhd_footer(kt_image *img, const uint8_t *head, size_t head_len, const uint8_t *tail,
                      size_t tail_len, kt_error *err)
{
    const char *end = tail_len >= 512 ? kt_vhd_footer_problem(tail + tail_len - 512, 512)
                                      : "the file is shorter than a footer";
    if (end == NULL)
        return KT_OK;
    const char *copy = kt_vhd_footer_problem(head, head_len);
    if (copy != NULL) {
        if (strcmp(end, "checksum mismatch") == 0) {
            kt_image_warn(img,
                          "the VHD footer at the end fails its checksum and there is no intact "
                          "copy at offset 0: its fields may be wrong");
            return KT_OK;
        }
        return kt_error_set(err, KT_EFORMAT,
                            "the VHD footer at the end is damaged (%s) and its copy at offset 0 "
                            "is too (%s): cannot read the disk",
                            end, copy);
    }
    int rc = kt_vhd_img_open(img->path, head, &img->tsk, err);
    if (rc) {
        kt_error_prefix(err,
                        "the VHD footer at the end is damaged (%s), and with its copy at "
                        "offset 0",
                        end);
        return rc;
    }
    kt_image_warn(img, "the VHD footer at the end is damaged (%s): read with its copy at offset 0",
                  end);
    return KT_OK;
}

static int open_container(kt_image *img, kt_error *err)
{
    struct stat st;
    if (stat(img->path, &st) != 0)
        return kt_error_set(err, errno == ENOENT ? KT_ENOTFOUND : KT_EIO, "cannot open: %s",
                            strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        set_format(img, KT_IMG_DIR);
        int rc = kt_collection_of_dir(img->path, &img->coll, err);
        if (rc)
            return rc;
        if (img->coll.kind != KT_COLL_NONE) {
            img->info.collection = kt_collection_kind_name(img->coll.kind);
            img->info.format_desc = collection_desc(img->coll.kind);
            for (size_t i = 0; i < img->coll.warnings.count; i++)
                kt_image_warn(img, "%s", img->coll.warnings.items[i]);
        }
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
    if (!supported && kind && strstr(kind, " archive") && strcmp(kind, "7-zip archive") != 0)
        return open_archive(img, kind, err);
    if (!supported)
        return kt_error_set(err, KT_EUNSUPPORTED, "unsupported format: %s", kind);
    set_format(img, format_of(kind));

    switch (img->info.format) {
    case KT_IMG_EWF:
        rc = ewf_describe(img, err);
        break;
    case KT_IMG_RAW:
        rc = raw_segments(img, img->path, &img->info.segments, err);
        break;
    default:
        rc = kt_strlist_add(&img->info.segments, img->path);
        break;
    }
    if (rc)
        return rc;

    if (img->info.format == KT_IMG_RAW) {
        rc = kt_raw_img_open(&img->info.segments, &img->tsk, err);
        if (rc)
            return rc;
    } else if (img->info.format == KT_IMG_VHD &&
               (rc = vhd_footer(img, head, head_len, tail, tail_len, err)) != KT_OK) {
        return rc;
    }
    if (img->info.format == KT_IMG_EWF) {
        rc = kt_vdisk_open_ewf(&img->info.segments, &img->tsk, err);
        if (rc)
            return rc;
    }
    /* A VHD whose end footer is damaged is open already (its copy). */
    if (img->tsk == NULL && kt_vdisk_reads(img->info.format)) {
        rc = kt_vdisk_open(img->info.format, img->path, &img->tsk, err);
        if (rc)
            return rc;
    }
    if (img->tsk == NULL) {
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
    kt_archive_free(img->archive);
    kt_collection_release(&img->coll);
    free(img->path);
    free(img);
}

ssize_t kt_image_read(kt_image *img, int64_t off, void *buf, size_t len, kt_error *err)
{
    if (img->tsk == NULL)
        return kt_error_set(err, KT_EARG, "a directory or a collection has no media to read");
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

const char *kt_hash_status_name(kt_hash_status s)
{
    return s == KT_HASH_COMPLETE     ? "complete"
           : s == KT_HASH_INCOMPLETE ? "incomplete"
                                     : "not computed";
}

const char *kt_verification_name(kt_verification v)
{
    return v == KT_VERIFY_VERIFIED   ? "verified"
           : v == KT_VERIFY_MISMATCH ? "mismatch"
                                     : "not verified";
}

#define HASH_CHUNK (1u << 20)
#define HASH_SECTOR 512
/* Unreadable ranges kept exactly; past this many the count is a lower
 * bound and says so. */
#define HASH_MAX_RANGES 65536

typedef struct range {
    int64_t off, len;
} range;

/* The digests being computed and the ranges not read as stored. */
typedef struct hasher {
    struct sha256_ctx sha256;
    struct md5_ctx md5;
    struct sha1_ctx sha1;
    range *bad;
    size_t nbad, cap;
    bool cut;           /* more than HASH_MAX_RANGES ranges */
    bool read_errors;   /* a read failed */
    bool bad_checksums; /* libewf: chunks missing or failing their checksum */
} hasher;

static void update(hasher *h, const uint8_t *p, size_t n)
{
    sha256_update(&h->sha256, n, p);
    md5_update(&h->md5, n, p);
    sha1_update(&h->sha1, n, p);
}

static int add_bad(hasher *h, int64_t off, int64_t len)
{
    if (len <= 0)
        return KT_OK;
    if (h->nbad && h->bad[h->nbad - 1].off + h->bad[h->nbad - 1].len == off) {
        h->bad[h->nbad - 1].len += len; /* the sequential read's next sector */
        return KT_OK;
    }
    if (h->nbad == HASH_MAX_RANGES) {
        h->cut = true;
        return KT_OK;
    }
    if (h->nbad == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 64;
        range *p = realloc(h->bad, cap * sizeof *p);
        if (p == NULL)
            return KT_ENOMEM;
        h->bad = p;
        h->cap = cap;
    }
    h->bad[h->nbad++] = (range){off, len};
    return KT_OK;
}

static int range_cmp(const void *a, const void *b)
{
    const range *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* Read len bytes at off from the media through libtsk; what fails is
 * retried sector by sector, and a sector that still fails is zeros. */
static int read_tsk(kt_image *img, hasher *h, int64_t off, uint8_t *buf, size_t len)
{
    kt_error e = {0};
    ssize_t got = kt_image_read(img, off, buf, len, &e);
    if (got == (ssize_t)len)
        return KT_OK;
    size_t from = got > 0 ? (size_t)got / HASH_SECTOR * HASH_SECTOR : 0;
    for (size_t at = from; at < len; at += HASH_SECTOR) {
        size_t n = len - at < HASH_SECTOR ? len - at : HASH_SECTOR;
        ssize_t r = kt_image_read(img, off + (int64_t)at, buf + at, n, &e);
        size_t ok = r > 0 ? (size_t)r : 0;
        if (ok < n) {
            memset(buf + at + ok, 0, n - ok);
            h->read_errors = true;
            if (add_bad(h, off + (int64_t)(at + ok), (int64_t)(n - ok)))
                return KT_ENOMEM;
        }
    }
    return KT_OK;
}

static int hash_tsk(kt_image *img, hasher *h, uint8_t *buf, kt_hash_progress progress, void *ctx,
                    kt_error *err)
{
    int64_t size = img->info.size;
    for (int64_t done = 0; done < size;) {
        size_t want = size - done < (int64_t)HASH_CHUNK ? (size_t)(size - done) : HASH_CHUNK;
        if (read_tsk(img, h, done, buf, want))
            return kt_error_set(err, KT_ENOMEM, "out of memory");
        update(h, buf, want);
        done += (int64_t)want;
        if (progress)
            progress(ctx, done, size);
    }
    return KT_OK;
}

/* An EWF set read through libewf itself (libtsk keeps its handle to
 * itself): with zero_chunk_on_error a chunk that is missing or fails its
 * checksum reads as zeros and is listed among the checksum errors. */
static int hash_ewf(kt_image *img, hasher *h, uint8_t *buf, kt_hash_progress progress, void *ctx,
                    kt_error *err)
{
    libewf_handle_t *ewf = NULL;
    libewf_error_t *e = NULL;
    char why[512];
    int rc = KT_OK;
    size64_t media = 0;
    uint32_t chunk = 0, bps = 0, nerrors = 0;
    if (libewf_handle_initialize(&ewf, &e) != 1 ||
        libewf_handle_open(ewf, img->info.segments.items, (int)img->info.segments.count,
                           LIBEWF_OPEN_READ, &e) != 1 ||
        libewf_handle_set_read_zero_chunk_on_error(ewf, 1, &e) != 1 ||
        libewf_handle_get_media_size(ewf, &media, &e) != 1 ||
        libewf_handle_get_chunk_size(ewf, &chunk, &e) != 1 ||
        libewf_handle_get_bytes_per_sector(ewf, &bps, &e) != 1) {
        ewf_error_text(e, why, sizeof why);
        rc = kt_error_set(err, KT_EFORMAT, "libewf cannot read the EWF set: %s", why);
        goto out;
    }
    if ((int64_t)media != img->info.size || chunk == 0 || chunk > HASH_CHUNK || bps == 0) {
        rc = kt_error_set(err, KT_EFORMAT,
                          "libewf reads the EWF set as %llu bytes in chunks of %u, libtsk as %lld",
                          (unsigned long long)media, chunk, (long long)img->info.size);
        goto out;
    }
    int64_t size = img->info.size;
    for (int64_t done = 0; done < size;) {
        size_t want = size - done < (int64_t)HASH_CHUNK ? (size_t)(size - done) : HASH_CHUNK;
        ssize_t got = libewf_handle_read_random(ewf, buf, want, done, &e);
        libewf_error_free(&e);
        if (got != (ssize_t)want) {
            /* Chunk by chunk; a chunk libewf cannot give is zeros. */
            for (size_t at = 0; at < want; at += chunk) {
                size_t n = want - at < chunk ? want - at : chunk;
                ssize_t r = libewf_handle_read_random(ewf, buf + at, n, done + (int64_t)at, &e);
                libewf_error_free(&e);
                size_t ok = r > 0 ? (size_t)r : 0;
                if (ok < n) {
                    memset(buf + at + ok, 0, n - ok);
                    h->read_errors = true;
                    if (add_bad(h, done + (int64_t)(at + ok), (int64_t)(n - ok))) {
                        rc = kt_error_set(err, KT_ENOMEM, "out of memory");
                        goto out;
                    }
                }
            }
        }
        update(h, buf, want);
        done += (int64_t)want;
        if (progress)
            progress(ctx, done, size);
    }
    if (libewf_handle_get_number_of_checksum_errors(ewf, &nerrors, &e) != 1) {
        ewf_error_text(e, why, sizeof why);
        rc = kt_error_set(err, KT_EFORMAT, "libewf cannot list the checksum errors: %s", why);
        goto out;
    }
    for (uint32_t i = 0; i < nerrors; i++) {
        uint64_t first = 0, count = 0, off = 0, len = 0;
        if (libewf_handle_get_checksum_error(ewf, i, &first, &count, &e) != 1) {
            libewf_error_free(&e);
            continue;
        }
        h->bad_checksums = true;
        if (__builtin_mul_overflow(first, bps, &off) || off >= (uint64_t)size)
            continue;
        if (__builtin_mul_overflow(count, bps, &len) || len > (uint64_t)size - off)
            len = (uint64_t)size - off;
        if (add_bad(h, (int64_t)off, (int64_t)len)) {
            rc = kt_error_set(err, KT_ENOMEM, "out of memory");
            goto out;
        }
    }
out:
    libewf_error_free(&e);
    if (ewf) {
        libewf_handle_close(ewf, NULL);
        libewf_handle_free(&ewf, NULL);
    }
    return rc;
}

/* The ranges not read as stored, merged: how many bytes, from where. */
static void summarise(hasher *h, int64_t size, kt_image_digest *d)
{
    if (h->nbad > 1)
        qsort(h->bad, h->nbad, sizeof *h->bad, range_cmp);
    size_t ranges = 0;
    int64_t end = -1;
    for (size_t i = 0; i < h->nbad; i++) {
        int64_t a = h->bad[i].off, b = a + h->bad[i].len;
        if (a > end) {
            ranges++;
            d->unreadable += b - a;
            end = b;
        } else if (b > end) {
            d->unreadable += b - end;
            end = b;
        }
    }
    d->first_unreadable = h->nbad ? h->bad[0].off : -1;
    d->status = h->nbad ? KT_HASH_INCOMPLETE : KT_HASH_COMPLETE;
    if (h->nbad == 0)
        return;
    const char *cause = h->read_errors && h->bad_checksums
                            ? "read errors; libewf: chunks missing or failing their checksum"
                        : h->bad_checksums ? "libewf: chunks missing or failing their checksum"
                                           : "read errors";
    snprintf(d->why, sizeof d->why,
             "%s%lld of %lld bytes in %zu range%s from byte %lld could not be read as stored "
             "(%s); they were hashed as zeros",
             h->cut ? "at least " : "", (long long)d->unreadable, (long long)size, ranges,
             ranges == 1 ? "" : "s", (long long)d->first_unreadable, cause);
}

kt_verification kt_image_verify(const kt_image *img, const kt_image_digest *d, char *note,
                                size_t len)
{
    const kt_image_info *ii = &img->info;
    bool md5 = ii->stored_md5[0] != '\0', sha1 = ii->stored_sha1[0] != '\0';
    if (ii->format == KT_IMG_DIR) {
        kt_strlcpy(note, "a directory has no media to hash", len);
        return KT_VERIFY_NOT_VERIFIED;
    }
    if (ii->format == KT_IMG_ARCHIVE) {
        kt_strlcpy(note, "a collection archive is not hashed (hash the file itself)", len);
        return KT_VERIFY_NOT_VERIFIED;
    }
    if (!md5 && !sha1) {
        if (ii->format == KT_IMG_EWF)
            kt_strlcpy(note, "the EWF set stores no MD5 or SHA-1", len);
        else
            snprintf(note, len, "a %s image stores no hash to verify", ii->format_name);
        return KT_VERIFY_NOT_VERIFIED;
    }
    if (d == NULL || d->status == KT_HASH_NOT_COMPUTED) {
        kt_strlcpy(note, "the media was not hashed", len);
        return KT_VERIFY_NOT_VERIFIED;
    }
    if (d->status != KT_HASH_COMPLETE) {
        kt_strlcpy(note,
                   "the media could not be read in full, so its stored hashes cannot be "
                   "checked",
                   len);
        return KT_VERIFY_NOT_VERIFIED;
    }
    bool bad_md5 = md5 && strcmp(d->md5, ii->stored_md5) != 0;
    bool bad_sha1 = sha1 && strcmp(d->sha1, ii->stored_sha1) != 0;
    if (bad_md5 || bad_sha1) {
        snprintf(note, len, "the computed %s %s differs from the stored %s",
                 bad_md5 ? "MD5" : "SHA-1", bad_md5 ? d->md5 : d->sha1,
                 bad_md5 ? ii->stored_md5 : ii->stored_sha1);
        return KT_VERIFY_MISMATCH;
    }
    snprintf(note, len, "the computed %s equal%s the stored one%s",
             md5 && sha1 ? "MD5 and SHA-1"
             : md5       ? "MD5"
                         : "SHA-1",
             md5 && sha1 ? "" : "s", md5 && sha1 ? "s" : "");
    return KT_VERIFY_VERIFIED;
}

int kt_image_hash(kt_image *img, kt_image_digest *out, kt_hash_progress progress, void *ctx,
                  kt_error *err)
{
    if (img->tsk == NULL)
        return kt_error_set(err, KT_EARG, "a directory has no media to hash");
    uint8_t *buf = malloc(HASH_CHUNK);
    if (buf == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    hasher h = {0};
    sha256_init(&h.sha256);
    md5_init(&h.md5);
    sha1_init(&h.sha1);
    int rc = img->info.format == KT_IMG_EWF ? hash_ewf(img, &h, buf, progress, ctx, err)
                                            : hash_tsk(img, &h, buf, progress, ctx, err);
    if (rc == KT_OK) {
        kt_image_digest d = {0};
        uint8_t b[SHA256_DIGEST_SIZE];
        sha256_digest(&h.sha256, SHA256_DIGEST_SIZE, b);
        to_hex(b, SHA256_DIGEST_SIZE, d.sha256);
        md5_digest(&h.md5, MD5_DIGEST_SIZE, b);
        to_hex(b, MD5_DIGEST_SIZE, d.md5);
        sha1_digest(&h.sha1, SHA1_DIGEST_SIZE, b);
        to_hex(b, SHA1_DIGEST_SIZE, d.sha1);
        summarise(&h, img->info.size, &d);
        d.verification = kt_image_verify(img, &d, d.verification_note, sizeof d.verification_note);
        *out = d;
    }
    free(h.bad);
    free(buf);
    return rc;
}
