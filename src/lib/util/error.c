/*
 * error.c: the per-thread error message behind wb_error_set (waybill/error.h).
 *
 * A fixed thread-local buffer; formatting never allocates, so an
 * out-of-memory error can still be reported.
 */
#include "waybill/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char wb_errbuf[WB_ERROR_MAX];

int wb_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(wb_errbuf, sizeof(wb_errbuf), fmt, ap);
    va_end(ap);
    return code;
}

int wb_error_prefix(int code, const char *fmt, ...)
{
    char prefix[WB_ERROR_MAX];
    char old[WB_ERROR_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, wb_errbuf, sizeof(old));
    {
        size_t n = strlen(prefix);
        if (n > sizeof(wb_errbuf) - 3)
            n = sizeof(wb_errbuf) - 3;
        memcpy(wb_errbuf, prefix, n);
        memcpy(wb_errbuf + n, ": ", 2);
        n += 2;
        size_t rest = strlen(old);
        if (rest > sizeof(wb_errbuf) - 1 - n)
            rest = sizeof(wb_errbuf) - 1 - n;
        memcpy(wb_errbuf + n, old, rest);
        wb_errbuf[n + rest] = '\0';
    }
    return code;
}

const char *wb_error_message(void)
{
    return wb_errbuf;
}

void wb_error_clear(void)
{
    wb_errbuf[0] = '\0';
}

const char *wb_error_name(int code)
{
    switch (code) {
    case WB_OK: return "WB_OK";
    case WB_E_INVALID: return "WB_E_INVALID";
    case WB_E_NOMEM: return "WB_E_NOMEM";
    case WB_E_IO: return "WB_E_IO";
    case WB_E_CRYPTO: return "WB_E_CRYPTO";
    case WB_E_VERIFY: return "WB_E_VERIFY";
    case WB_E_NOTFOUND: return "WB_E_NOTFOUND";
    case WB_E_EXISTS: return "WB_E_EXISTS";
    case WB_E_CONFLICT: return "WB_E_CONFLICT";
    case WB_E_RANGE: return "WB_E_RANGE";
    case WB_E_LIMIT: return "WB_E_LIMIT";
    case WB_E_STORE: return "WB_E_STORE";
    case WB_E_INTERNAL: return "WB_E_INTERNAL";
    case WB_E_CORRUPT: return "WB_E_CORRUPT";
    default: return "WB_E_UNKNOWN";
    }
}
