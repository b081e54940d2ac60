/* kavtrace: Linux package history.
 *
 * Parsers of package databases and package-manager logs read from a seized
 * image as bytes in memory: dpkg's status file and log, apt's history log,
 * the RPM database (SQLite rpmdb.sqlite, the older Berkeley DB Packages
 * and openSUSE's ndb Packages.db) and the dnf, yum and zypper logs. Each
 * turns its source into package events, one call of a callback per event. They know formats, not
 * products: matching names against definitions and converting local times
 * with the image's zone are the caller's.
 *
 * Times are reported as written: a log line without a UTC offset gives a
 * `local` time (the wall-clock reading encoded as if it were UTC); a source
 * with an offset or in Unix seconds gives UTC.
 *
 * Malformed lines or records become warnings naming the line (or record)
 * and parsing goes on; at most KT_PKG_MAX_WARNINGS per file, then one
 * "N more" line. Only out of memory, an over-limit input or a file that is
 * not that format at all is an error. */
#ifndef KAVTRACE_PACKAGES_H
#define KAVTRACE_PACKAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/buf.h"
#include "kavtrace/error.h"
#include "kavtrace/time.h"

#define KT_PKG_MAX_WARNINGS 20
/* RPM database limits: header blob size, index entries per header,
 * packages per database. */
#define KT_RPM_MAX_HEADER ((size_t)64 << 20)
#define KT_RPM_MAX_TAGS 65535u
#define KT_RPM_MAX_PACKAGES 1000000u
#define KT_RPMDB_MAX_SIZE ((size_t)4 << 30)

typedef enum kt_pkg_action {
    KT_PKG_STATE,   /* a database's record of an installed (or half-removed) package */
    KT_PKG_INSTALL, /* includes dpkg's install over left-over config files */
    KT_PKG_UPGRADE,
    KT_PKG_DOWNGRADE,
    KT_PKG_REINSTALL, /* the same version again */
    KT_PKG_REMOVE,    /* dpkg/apt remove (config files stay), rpm erase */
    KT_PKG_PURGE,
    KT_PKG_ACTION_COUNT,
} kt_pkg_action;

/* One package event. Every pointer is borrowed and lives only during the
 * callback; copy what you keep. */
typedef struct kt_pkg_event {
    kt_pkg_action action;
    const char *name;        /* without ":arch" */
    const char *version;     /* installed, upgraded to, or removed; NULL when not known */
    const char *old_version; /* the replaced version (upgrade, downgrade, reinstall, dpkg's
                              * install over config files); else NULL */
    const char *arch;        /* NULL when not known */
    const char *state;       /* dpkg status ("install ok installed"); else NULL */
    bool has_time;
    kt_time time; /* when `local`, the wall-clock time encoded as if UTC */
    bool local;   /* wall-clock time of the analysed system, zone unknown */
    kt_precision precision;
    size_t line;        /* 1-based line where the event (or its block) starts;
                         * rpm databases: 1-based record number */
    const char *detail; /* apt: "Commandline: ...; Requested-By: ...; Error: ..." (what
                         * the block has); dnf/yum: the log line; rpm: "hnum N";
                         * may be NULL */
} kt_pkg_event;

/* Return non-zero to stop; the parser then returns that value. */
typedef int (*kt_pkg_cb)(void *ctx, const kt_pkg_event *e);

/* "state", "install", "upgrade", "downgrade", "reinstall", "remove", "purge". */
const char *kt_pkg_action_name(kt_pkg_action a);

/* /var/lib/dpkg/status: one KT_PKG_STATE event per stanza, no time. The
 * version is Version, or Config-Version when only that is left (a package
 * removed without purge). line = the stanza's first line. */
int kt_pkg_parse_dpkg_status(const uint8_t *data, size_t len, kt_pkg_cb cb, void *ctx,
                             kt_strlist *warnings, kt_error *err);

/* /var/log/dpkg.log (and rotated copies, already decompressed): the
 * `install`, `upgrade`, `remove` and `purge` lines, local time. As dpkg
 * writes them (src/main/unpack.c), `install` means the package was not
 * installed or only had config files left (OLD is then the config files'
 * version, else "<none>"), `upgrade` means it was installed: UPGRADE,
 * DOWNGRADE or REINSTALL by comparing OLD and NEW. `status`, `configure`,
 * `trigproc`, `startup` and `conffile` lines are well-formed but carry no
 * package event and are skipped: an interrupted install still shows as its
 * `install` line. */
int kt_pkg_parse_dpkg_log(const uint8_t *data, size_t len, kt_pkg_cb cb, void *ctx,
                          kt_strlist *warnings, kt_error *err);

/* /var/log/apt/history.log: one event per package of each block's
 * Install/Upgrade/Downgrade/Reinstall/Remove/Purge lists; time = the
 * block's Start-Date (local), line = the block's first line, detail =
 * "Commandline: ...; Requested-By: ..." (whichever the block has). */
int kt_pkg_parse_apt_history(const uint8_t *data, size_t len, kt_pkg_cb cb, void *ctx,
                             kt_strlist *warnings, kt_error *err);

/* An RPM database file: rpmdb.sqlite (RHEL 9, Fedora 33+) read from
 * memory, never written, the Berkeley DB hash file Packages (RHEL <= 8,
 * either byte order) or rpm's ndb Packages.db (openSUSE, SLES 15 SP3+).
 * One KT_PKG_STATE event per package header: time = INSTALLTIME (UTC),
 * version = [EPOCH:]VERSION-RELEASE, line = 1-based record number in the
 * database's order (ndb: package-index order), detail = "hnum N" (ndb:
 * the package index). The sqlite file alone is read: transactions still
 * in rpmdb.sqlite-wal are not seen. */
int kt_pkg_parse_rpmdb(const uint8_t *data, size_t len, kt_pkg_cb cb, void *ctx,
                       kt_strlist *warnings, kt_error *err);

/* One RPM header blob as the database stores it (index count, data size,
 * index entries, data store; no lead or magic): fills *e (action STATE)
 * with pointers into scratch, which the caller owns and releases. */
int kt_rpm_header_read(const uint8_t *blob, size_t len, kt_pkg_event *e, kt_buf *scratch,
                       kt_error *err);

/* /var/log/dnf.rpm.log, /var/log/dnf.log (also dnf5.log): lines
 * "TIME LEVEL Action: NEVRA" with TIME ISO 8601 and an offset ("+0000",
 * "+02:00", "Z"): UTC. Installed/Install, Upgrade, Downgrade, Reinstall,
 * Erase/Erased, Obsoleted; the old side of an upgrade (Upgraded,
 * Downgraded, Reinstalled) gives old_version to the pending new side of
 * the same name and arch, or an event of its own when there is none. Other
 * lines are skipped. */
int kt_pkg_parse_dnf_log(const uint8_t *data, size_t len, kt_pkg_cb cb, void *ctx,
                         kt_strlist *warnings, kt_error *err);

/* /var/log/yum.log: "Mon DD HH:MM:SS Installed|Updated|Erased: [E:]NVRA"
 * (Erased may name the package alone). The lines carry no year:
 * year_hint is the year of the file's last line (e.g. its modification
 * time's); earlier lines go back a year at each month that goes
 * backwards. Local time. */
int kt_pkg_parse_yum_log(const uint8_t *data, size_t len, int year_hint, kt_pkg_cb cb, void *ctx,
                         kt_strlist *warnings, kt_error *err);

/* /var/log/zypp/history (zypper, openSUSE and SLES; rotated copies
 * already decompressed): lines "TIME|ACTION|FIELD|..." with TIME
 * "YYYY-MM-DD HH:MM:SS" local, '#' comments skipped. `install` (NAME,
 * EDITION, ARCH, REQBY, REPO-ALIAS, CHECKSUM) and `remove` (NAME, EDITION,
 * ARCH, REQBY) lines are events; zypper writes an update as an install
 * of the new edition, so an install of a name and arch the file already
 * shows installed (no remove since) is an UPGRADE, DOWNGRADE or REINSTALL
 * by rpm's version order, with old_version. detail = "requested by R;
 * repository A; command: C (by U)" of what the line has, C the last
 * `command` line before it (zypper's own command line). Other actions
 * (repositories, patches) are skipped. */
int kt_pkg_parse_zypp_history(const uint8_t *data, size_t len, kt_pkg_cb cb, void *ctx,
                              kt_strlist *warnings, kt_error *err);

/* Compare two Debian version strings ([epoch:]upstream[-revision]) as dpkg
 * does: <0, 0, >0. Not a valid version (a non-numeric epoch) compares as
 * its plain text after the valid ones. */
int kt_deb_version_cmp(const char *a, const char *b);

/* Split "name-[epoch:]version-release.arch" (or "epoch:name-...") into its
 * parts, written as NUL-terminated strings into out (replaced). Returns 0
 * or KT_EFORMAT. version is "[epoch:]version-release". */
typedef struct kt_nevra {
    const char *name, *version, *arch;
} kt_nevra;
int kt_rpm_split_nevra(const char *s, size_t len, kt_nevra *nevra, kt_buf *out);

/* Compare two rpm versions "[epoch:]version[-release]" in rpm's order
 * (rpmvercmp: numbers as numbers, '~' before anything, '^' after the
 * end): <0, 0, >0. A missing epoch is 0. */
int kt_rpm_version_cmp(const char *a, const char *b);

#define KT_GZIP_MAX_OUTPUT ((size_t)1 << 30)

/* Decompress a gzip file (one or more members, as logrotate and `cat a.gz
 * b.gz` make) appending to out, at most limit bytes (0 = KT_GZIP_MAX_OUTPUT).
 * Over the limit: KT_ELIMIT. Truncated or corrupt input: KT_EFORMAT, and
 * out keeps every byte that did decompress before the damage (a rotated
 * log cut short still gives its first lines). Trailing zero bytes after a
 * member (padding) are ignored. */
int kt_gunzip(const uint8_t *data, size_t len, size_t limit, kt_buf *out, kt_error *err);

#define KT_XZ_MAX_OUTPUT ((size_t)1 << 30)
/* The decoder's memory at most: xz -9 needs 65 MiB, the largest preset. */
#define KT_XZ_MAX_MEMORY ((uint64_t)256 << 20)

/* Decompress an xz file (one or more streams, with the zero padding xz
 * allows between them) appending to out, at most limit bytes (0 =
 * KT_XZ_MAX_OUTPUT), as kt_gunzip does: over the limit KT_ELIMIT;
 * truncated or corrupt input KT_EFORMAT, out keeping every byte that did
 * decompress before the damage. A stream that needs more than
 * KT_XZ_MAX_MEMORY to decode: KT_ELIMIT. */
int kt_unxz(const uint8_t *data, size_t len, size_t limit, kt_buf *out, kt_error *err);

#endif
