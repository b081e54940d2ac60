/* kavtrace: error object passed down by callers and filled in by callees.
 *
 * Functions return 0 on success or one of the negative KT_E* codes, and the
 * caller owns the kt_error they pass in. Each level may prefix context, so
 * the final message says where the failure happened:
 *   image 'disk.E01': volume 2: ntfs: cannot open $MFT
 */
#ifndef KAVTRACE_ERROR_H
#define KAVTRACE_ERROR_H

enum {
    KT_OK = 0,
    KT_EIO = -1,          /* the evidence or a file could not be read */
    KT_ENOMEM = -2,       /* out of memory */
    KT_EFORMAT = -3,      /* not the expected format, or corrupt */
    KT_EUNSUPPORTED = -4, /* recognised, but kavtrace cannot read it */
    KT_ENOTFOUND = -5,    /* no such path, key or value */
    KT_ELIMIT = -6,       /* a size or count is over a named limit */
    KT_EARG = -7,         /* the caller passed something wrong */
    KT_ELOOP = -8,        /* too many symbolic links */
};

#define KT_ERROR_MSG_MAX 512

typedef struct kt_error {
    int code;
    char msg[KT_ERROR_MSG_MAX];
} kt_error;

/* Set code and message (printf format); returns code so callers can
 * `return kt_error_set(err, KT_EIO, "...")`. err may be NULL. */
int kt_error_set(kt_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the message with context followed by ": ". err may be NULL. */
void kt_error_prefix(kt_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void kt_error_clear(kt_error *err);

/* A short lowercase name for a code ("i/o error", "unsupported", ...). */
const char *kt_error_name(int code);

#endif
