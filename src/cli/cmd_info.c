/* kavtrace info: what an evidence item is, its volumes and its systems. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kavtrace/inventory.h"
#include "kavtrace/json.h"
#include "options.h"

static void human_size(int64_t n, char *buf, size_t len)
{
    const char *units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%lld bytes", (long long)n);
    else
        snprintf(buf, len, "%lld bytes (%.1f %s)", (long long)n, v, units[u]);
}

/* failed: the error that stopped the inventory, or NULL. Every text from
 * the evidence escaped for the terminal. */
static void print_text(FILE *out, const kt_inventory *inv, const kt_error *failed,
                       const kt_strlist *warnings)
{
    kt_strlist hold = {0};
#define T(x) kt_cli_text(&hold, (x))
    fprintf(out, "evidence: %s\n", T(inv->path));
    if (inv->img == NULL) {
        fprintf(out, "  error: %s\n", T(failed->msg));
        kt_strlist_release(&hold);
        return;
    }
    const kt_image_info *ii = kt_image_get_info(inv->img);
    char size[64];
    fprintf(out, "  format:   %s (%s)", ii->format_name, ii->format_desc);
    if (ii->segments.count > 1)
        fprintf(out, ", %zu segment files", ii->segments.count);
    fputc('\n', out);
    if (ii->format == KT_IMG_ARCHIVE) {
        human_size(ii->size, size, sizeof size);
        fprintf(out, "  size:     %s\n", size);
    } else if (ii->format != KT_IMG_DIR) {
        human_size(ii->size, size, sizeof size);
        fprintf(out, "  size:     %s, sector size %u\n", size, ii->sector_size);
    }
    if (ii->stored_md5[0])
        fprintf(out, "  stored md5:  %s\n", T(ii->stored_md5));
    if (ii->stored_sha1[0])
        fprintf(out, "  stored sha1: %s\n", T(ii->stored_sha1));
    for (size_t i = 0; i < ii->metadata.count; i++)
        fprintf(out, "  %s %s\n", i == 0 ? "metadata:" : "         ", T(ii->metadata.items[i]));
    if (failed) {
        fprintf(out, "  error: %s\n", T(failed->msg));
    } else {
        fprintf(out, "  volumes (%s):\n", T(inv->vols.scheme));
        fprintf(out, "    %-3s %-14s %-14s %-8s %s\n", "#", "offset", "length", "fs",
                "description");
        for (size_t i = 0; i < inv->vols.count; i++) {
            const kt_volume *v = &inv->vols.items[i];
            fprintf(out, "    %-3d %-14lld %-14lld %-8s %s\n", v->index, (long long)v->offset,
                    (long long)v->length, v->fs[0] ? T(v->fs) : "-", T(v->desc));
        }
        fprintf(out, "  systems:%s\n", inv->nsystems ? "" : " none found");
        for (size_t i = 0; i < inv->vols.count; i++) {
            const kt_system *s = &inv->volumes[i].sys;
            if (s->os == KT_OS_NONE)
                continue;
            fprintf(out, "    volume %d: %s: %s%s%s", inv->volumes[i].volume->index,
                    kt_os_name(s->os), T(s->os_name), s->os_version[0] ? " " : "",
                    T(s->os_version));
            if (s->hostname[0])
                fprintf(out, "; hostname %s", T(s->hostname));
            if (s->timezone[0])
                fprintf(out, "; time zone %s", T(s->timezone));
            fputc('\n', out);
        }
        bool any = false;
        for (size_t i = 0; i < inv->vols.count; i++) {
            const kt_inventory_volume *iv = &inv->volumes[i];
            for (size_t k = 0; k < iv->nstores; k++) {
                const kt_inventory_store *st = &iv->stores[k];
                char t[KT_TIME_ISO_MAX];
                if (!any)
                    fprintf(out, "  shadow copies:\n");
                any = true;
                fprintf(out, "    volume %d, store %d: %s, created %s", iv->volume->index,
                        st->volume.store, T(st->info->id),
                        kt_time_format_iso(st->info->created, t));
                if (st->sys.os != KT_OS_NONE)
                    fprintf(out, "; %s: %s%s%s", kt_os_name(st->sys.os), T(st->sys.os_name),
                            st->sys.hostname[0] ? ", hostname " : "", T(st->sys.hostname));
                else if (st->fs == NULL)
                    fprintf(out, "; not readable (see the warnings)");
                fputc('\n', out);
            }
        }
    }
    if (warnings->count)
        fprintf(out, "  warnings:\n");
    for (size_t i = 0; i < warnings->count; i++)
        fprintf(out, "    - %s\n", T(warnings->items[i]));
#undef T
    kt_strlist_release(&hold);
}

static void put_json(kt_json *j, const kt_inventory *inv, const kt_error *failed,
                     const kt_strlist *warnings, bool no_vss)
{
    kt_json_begin_object(j, NULL);
    kt_json_string(j, "path", inv->path);
    if (inv->img == NULL) {
        kt_json_string(j, "error", failed->msg);
        kt_json_end_object(j);
        return;
    }
    const kt_image_info *ii = kt_image_get_info(inv->img);
    kt_json_string(j, "format", ii->format_name);
    kt_json_string(j, "format_description", ii->format_desc);
    if (ii->collection)
        kt_json_string(j, "collection", ii->collection);
    kt_json_int(j, "size", ii->size);
    kt_json_int(j, "sector_size", ii->sector_size);
    kt_json_begin_array(j, "segments");
    for (size_t i = 0; i < ii->segments.count; i++)
        kt_json_string(j, NULL, ii->segments.items[i]);
    kt_json_end_array(j);
    kt_json_string(j, "stored_md5", ii->stored_md5[0] ? ii->stored_md5 : NULL);
    kt_json_string(j, "stored_sha1", ii->stored_sha1[0] ? ii->stored_sha1 : NULL);
    kt_json_begin_object(j, "metadata");
    for (size_t i = 0; i < ii->metadata.count; i++) {
        char key[64];
        const char *eq = strchr(ii->metadata.items[i], '=');
        size_t n = eq ? (size_t)(eq - ii->metadata.items[i]) : 0;
        if (n == 0 || n >= sizeof key)
            continue;
        memcpy(key, ii->metadata.items[i], n);
        key[n] = '\0';
        kt_json_string(j, key, eq + 1);
    }
    kt_json_end_object(j);
    kt_json_string(j, "error", failed ? failed->msg : NULL);
    kt_json_string(j, "partitioning", failed ? NULL : inv->vols.scheme);
    kt_json_begin_array(j, "volumes");
    for (size_t i = 0; i < inv->vols.count; i++) {
        const kt_volume *v = &inv->vols.items[i];
        kt_json_begin_object(j, NULL);
        kt_json_int(j, "index", v->index);
        kt_json_int(j, "offset", v->offset);
        kt_json_int(j, "length", v->length);
        kt_json_string(j, "scheme", v->scheme);
        kt_json_string(j, "description", v->desc);
        kt_json_string(j, "fs", v->fs[0] ? v->fs : NULL);
        if (v->pool_block >= 0)
            kt_json_int(j, "pool_block", v->pool_block);
        if (v->encryption[0]) {
            kt_json_string(j, "encryption", v->encryption);
            kt_json_bool(j, "unlocked", v->crypt != NULL);
        }
        const kt_inventory_volume *iv = &inv->volumes[i];
        if (iv->fs && kt_fs_get_kind(iv->fs) == KT_FS_NTFS && !no_vss) {
            kt_json_begin_array(j, "shadow_copies");
            for (size_t k = 0; k < iv->nstores; k++) {
                const kt_inventory_store *st = &iv->stores[k];
                const kt_vss_store_info *si = st->info;
                kt_json_begin_object(j, NULL);
                kt_json_int(j, "store", si->number);
                kt_json_string(j, "identifier", si->id[0] ? si->id : NULL);
                kt_json_string(j, "copy_identifier", si->copy_id[0] ? si->copy_id : NULL);
                kt_json_string(j, "copy_set_identifier", si->set_id[0] ? si->set_id : NULL);
                kt_json_time(j, "created", si->created);
                kt_json_int(j, "volume_size", si->size);
                kt_json_int(j, "attribute_flags", si->attributes);
                kt_json_bool(j, "readable", st->fs != NULL);
                if (st->sys.os != KT_OS_NONE) {
                    kt_json_begin_object(j, "system");
                    kt_json_string(j, "os", kt_os_name(st->sys.os));
                    kt_json_string(j, "name", st->sys.os_name);
                    kt_json_string(j, "hostname", st->sys.hostname[0] ? st->sys.hostname : NULL);
                    kt_json_end_object(j);
                } else {
                    kt_json_null(j, "system");
                }
                kt_json_end_object(j);
            }
            kt_json_end_array(j);
        } else if (v->fs[0] && strcmp(v->fs, "ntfs") == 0) {
            kt_json_null(j, "shadow_copies");
        }
        kt_json_end_object(j);
    }
    kt_json_end_array(j);
    kt_json_begin_array(j, "systems");
    for (size_t i = 0; i < inv->vols.count; i++) {
        const kt_system *s = &inv->volumes[i].sys;
        if (s->os == KT_OS_NONE)
            continue;
        kt_json_begin_object(j, NULL);
        kt_json_int(j, "volume", inv->volumes[i].volume->index);
        kt_json_string(j, "os", kt_os_name(s->os));
        kt_json_string(j, "name", s->os_name);
        kt_json_string(j, "version", s->os_version[0] ? s->os_version : NULL);
        kt_json_string(j, "hostname", s->hostname[0] ? s->hostname : NULL);
        kt_json_string(j, "timezone", s->timezone[0] ? s->timezone : NULL);
        kt_json_string(j, "found_by", s->marker);
        kt_json_end_object(j);
    }
    kt_json_end_array(j);
    kt_json_begin_array(j, "warnings");
    for (size_t i = 0; i < warnings->count; i++)
        kt_json_string(j, NULL, warnings->items[i]);
    kt_json_end_array(j);
    kt_json_end_object(j);
}

static int run(int argc, char **argv)
{
    bool json = false, no_vss = false;
    kt_keys keys = {0};
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"no-vss", no_argument, NULL, 'V'},
        {"password", required_argument, NULL, 'P'},
        {"key-file", required_argument, NULL, 'K'},
        {"recovery-password", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+jh", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'V':
            no_vss = true;
            break;
        case 'P':
        case 'K':
        case 'R':
            if (kt_cli_add_key("info",
                               c == 'K'   ? KT_KEY_FILE
                               : c == 'R' ? KT_KEY_RECOVERY
                                          : KT_KEY_PASSWORD,
                               optarg, &keys) != 0) {
                kt_keys_release(&keys);
                return KT_EXIT_USAGE;
            }
            break;
        case 'h':
            kt_keys_release(&keys);
            kt_cli_print_usage(stdout, &kt_cmd_info);
            printf("\n%s\n\n  --json          print JSON instead of text\n"
                   "  --no-vss        do not look for Volume Shadow Copies on NTFS volumes\n"
                   "  --password P    a passphrase for an encrypted volume (LUKS1, or a\n"
                   "                  BitLocker user password); repeatable, each key tried on\n"
                   "                  every encrypted volume\n"
                   "  --key-file F    a key file (its bytes as they are, as cryptsetup\n"
                   "                  --key-file; on BitLocker, a file holding a recovery\n"
                   "                  password); repeatable\n"
                   "  --recovery-password R\n"
                   "                  a BitLocker recovery password (48 digits with dashes);\n"
                   "                  repeatable. No key appears in any output\n",
                   kt_cmd_info.summary);
            return KT_EXIT_OK;
        default:
            kt_keys_release(&keys);
            return kt_cli_usage_error(&kt_cmd_info, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) {
        kt_keys_release(&keys);
        return kt_cli_usage_error(&kt_cmd_info, "no evidence given");
    }

    int status = KT_EXIT_OK;
    kt_buf out = {0};
    kt_json j;
    kt_json_init(&j, &out);
    if (json) {
        kt_json_begin_object(&j, NULL);
        kt_json_string(&j, "kavtrace_version", KT_VERSION);
        kt_json_begin_array(&j, "evidence");
    }
    for (int i = optind; i < argc; i++) {
        kt_inventory inv;
        kt_error err = {0};
        kt_strlist warnings = {0};
        kt_diags diags = {0};
        int rc = kt_inventory_open(&inv, argv[i], no_vss ? KT_INVENTORY_NO_VSS : 0, &keys, &err);
        int wrc = kt_inventory_warnings(&inv, &diags);
        for (size_t d = 0; d < diags.count && wrc == KT_OK; d++) {
            char text[4096];
            wrc = kt_strlist_add(&warnings, kt_diag_text(&diags.items[d], text, sizeof text));
        }
        kt_diags_release(&diags);
        if (wrc != KT_OK && rc == KT_OK)
            rc = kt_error_set(&err, KT_ENOMEM, "out of memory");
        if (rc) {
            kt_strlist hold = {0};
            fprintf(stderr, "kavtrace: %s\n", kt_cli_text(&hold, err.msg));
            kt_strlist_release(&hold);
            status = KT_EXIT_ERROR;
        }
        if (json)
            put_json(&j, &inv, rc ? &err : NULL, &warnings, no_vss);
        else
            print_text(stdout, &inv, rc ? &err : NULL, &warnings);
        kt_strlist_release(&warnings);
        kt_inventory_release(&inv);
    }
    if (json) {
        kt_json_end_array(&j);
        kt_json_end_object(&j);
        if (j.rc || fwrite(out.data, 1, out.len, stdout) != out.len) {
            fprintf(stderr, "kavtrace: info: cannot write output\n");
            status = KT_EXIT_ERROR;
        }
    }
    kt_buf_release(&out);
    kt_keys_release(&keys);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "kavtrace: info: cannot write output\n");
        status = KT_EXIT_ERROR;
    }
    return status;
}

const kt_command kt_cmd_info = {
    .name = "info",
    .summary = "show an evidence item's container, volumes and systems",
    .usage = "[--json] [--no-vss] [--password P]... [--key-file F]... [--recovery-password R]... "
             "EVIDENCE...",
    .run = run,
};
