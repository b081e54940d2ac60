/* libFuzzer harness: package databases and logs, gunzip and unxz
 * (src/parsers/packages.c, rpm_header.c, rpmdb_*.c, dnf_log.c, yum_log.c,
 * zypp_history.c, gzip.c, xz.c). The first byte picks the format; rpmdb takes
 * SQLite, Berkeley DB and ndb files by their magic. */
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/packages.h"

static int count(void *ctx, const kt_pkg_event *e)
{
    size_t *n = ctx;
    (void)e;
    ++*n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = len - 1, events = 0;
    kt_strlist w = {0};
    kt_error err = {0};
    switch (data[0] % 9) {
    case 0:
        kt_pkg_parse_dpkg_status(p, n, count, &events, &w, &err);
        break;
    case 1:
        kt_pkg_parse_dpkg_log(p, n, count, &events, &w, &err);
        break;
    case 2:
        kt_pkg_parse_apt_history(p, n, count, &events, &w, &err);
        break;
    case 3:
        kt_pkg_parse_rpmdb(p, n, count, &events, &w, &err);
        break;
    case 4:
        kt_pkg_parse_dnf_log(p, n, count, &events, &w, &err);
        break;
    case 5:
        kt_pkg_parse_yum_log(p, n, 2024, count, &events, &w, &err);
        break;
    case 6:
        kt_pkg_parse_zypp_history(p, n, count, &events, &w, &err);
        break;
    case 7: {
        kt_buf out = {0};
        kt_gunzip(p, n, 1 << 20, &out, &err);
        kt_buf_release(&out);
        break;
    }
    default: {
        kt_buf out = {0};
        kt_unxz(p, n, 1 << 20, &out, &err);
        kt_buf_release(&out);
    }
    }
    kt_strlist_release(&w);
    return 0;
}
