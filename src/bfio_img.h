/* Private: a libbfio handle over a byte range of a libtsk image, so the
 * libyal libraries that read a volume through libbfio (libvslvm, libfsxfs)
 * read it inside whatever container holds it (raw, E01, VMDK, QCOW, ...). */
#ifndef KT_BFIO_IMG_H
#define KT_BFIO_IMG_H

/* The libyal headers declare their libbfio entry points only when told
 * libbfio is there. */
#ifndef HAVE_LIBBFIO
#define HAVE_LIBBFIO 1
#endif
#include <libbfio.h>

#include "kavtrace/error.h"
#include "tsk_util.h"

/* A handle reading len bytes of img from off; img is borrowed and must
 * outlive the handle. On success *out is released with
 * libbfio_handle_free. */
int kt_bfio_img_open(TSK_IMG_INFO *img, int64_t off, int64_t len, libbfio_handle_t **out,
                     kt_error *err);

/* The first line of a libyal backtrace (the innermost failure), then the
 * error object freed; "" when there is none. Each library's error type
 * is a pointer to an opaque struct with the same sprint/free pair. */
#define KT_LIBYAL_TEXT(lib)                                                                        \
    static void lib##_text(lib##_error_t **e, char *buf, size_t len)                               \
    {                                                                                              \
        buf[0] = '\0';                                                                             \
        if (*e && lib##_error_backtrace_sprint(*e, buf, len) > 0) {                                \
            char *nl = strchr(buf, '\n');                                                          \
            if (nl)                                                                                \
                *nl = '\0';                                                                        \
        }                                                                                          \
        lib##_error_free(e);                                                                       \
    }

#endif
