#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kavtrace/error.h"

int kt_error_set(kt_error *err, int code, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
    return code;
}

void kt_error_prefix(kt_error *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    char prefix[KT_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Shift the message right and put "prefix: " in front, truncating. */
    size_t plen = strlen(prefix), mlen = strlen(err->msg), cap = sizeof err->msg - 1;
    if (plen + 2 > cap)
        plen = cap - 2;
    if (plen + 2 + mlen > cap)
        mlen = cap - plen - 2;
    memmove(err->msg + plen + 2, err->msg, mlen);
    memcpy(err->msg, prefix, plen);
    err->msg[plen] = ':';
    err->msg[plen + 1] = ' ';
    err->msg[plen + 2 + mlen] = '\0';
}

void kt_error_clear(kt_error *err)
{
    if (err == NULL)
        return;
    err->code = KT_OK;
    err->msg[0] = '\0';
}

const char *kt_error_name(int code)
{
    switch (code) {
    case KT_OK:
        return "ok";
    case KT_EIO:
        return "i/o error";
    case KT_ENOMEM:
        return "out of memory";
    case KT_EFORMAT:
        return "bad format";
    case KT_EUNSUPPORTED:
        return "unsupported";
    case KT_ENOTFOUND:
        return "not found";
    case KT_ELIMIT:
        return "over limit";
    case KT_EARG:
        return "bad argument";
    case KT_ELOOP:
        return "too many links";
    }
    return "error";
}
