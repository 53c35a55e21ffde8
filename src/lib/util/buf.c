/*
 * buf.c: the capped, growable output buffer (waybill/util.h), after
 * BoringSSL's CBB: a maximum size and a sticky error, so a long sequence of
 * appends is checked once at the end.
 */
#include "waybill/util.h"
#include "waybill/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wb_buf_init(wb_buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

void wb_buf_cleanup(wb_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->err = 0;
}

void wb_buf_reset(wb_buf *b)
{
    b->len = 0;
    b->err = 0;
}

int wb_buf_error(const wb_buf *b)
{
    return b->err;
}

/* reserve room for len+n+1 bytes (the +1 keeps a NUL terminator possible) */
static int buf_reserve(wb_buf *b, size_t n)
{
    size_t need, newcap;
    uint8_t *p;

    if (b->err)
        return b->err;
    if (wb_size_add(&need, b->len, n) != 0 || need > b->max) {
        b->err = wb_error_set(WB_E_LIMIT,
                              "output of %zu+%zu bytes exceeds its %zu-byte limit",
                              b->len, n, b->max);
        return b->err;
    }
    if (need + 1 <= b->cap)
        return 0;
    newcap = b->cap ? b->cap : 64;
    while (newcap < need + 1)
        newcap = newcap > SIZE_MAX / 2 ? need + 1 : newcap * 2;
    p = realloc(b->data, newcap);
    if (!p) {
        b->err = wb_error_set(WB_E_NOMEM, "out of memory growing a buffer to %zu bytes",
                              newcap);
        return b->err;
    }
    b->data = p;
    b->cap = newcap;
    return 0;
}

uint8_t *wb_buf_extend(wb_buf *b, size_t n)
{
    uint8_t *p;
    if (buf_reserve(b, n) != 0)
        return NULL;
    p = b->data + b->len;
    b->len += n;
    b->data[b->len] = 0;
    return p;
}

int wb_buf_add(wb_buf *b, const void *p, size_t n)
{
    uint8_t *dst = wb_buf_extend(b, n);
    if (!dst)
        return b->err;
    if (n)
        memcpy(dst, p, n);
    return 0;
}

int wb_buf_add_u8(wb_buf *b, uint8_t v)
{
    return wb_buf_add(b, &v, 1);
}

static int add_be(wb_buf *b, uint64_t v, size_t n)
{
    uint8_t *dst = wb_buf_extend(b, n);
    if (!dst)
        return b->err;
    for (size_t i = n; i > 0; i--) {
        dst[i - 1] = (uint8_t)v;
        v >>= 8;
    }
    return 0;
}

int wb_buf_add_u16be(wb_buf *b, uint16_t v)
{
    return add_be(b, v, 2);
}

int wb_buf_add_u32be(wb_buf *b, uint32_t v)
{
    return add_be(b, v, 4);
}

int wb_buf_add_u64be(wb_buf *b, uint64_t v)
{
    return add_be(b, v, 8);
}

int wb_buf_add_str(wb_buf *b, const char *s)
{
    return wb_buf_add(b, s, strlen(s));
}

int wb_buf_printf(wb_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    uint8_t *dst;

    if (b->err)
        return b->err;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->err = wb_error_set(WB_E_INVALID, "bad format string");
        return b->err;
    }
    dst = wb_buf_extend(b, (size_t)n);
    if (!dst)
        return b->err;
    va_start(ap, fmt);
    vsnprintf((char *)dst, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return 0;
}

int wb_buf_add_base64(wb_buf *b, const void *p, size_t n)
{
    size_t enc = wb_base64_encoded_len(n);
    uint8_t *dst;
    if (enc == 0 && n != 0) {
        b->err = wb_error_set(WB_E_LIMIT, "base64 of %zu bytes overflows", n);
        return b->err;
    }
    /* extend by enc+1 so the encoder's NUL fits, then drop it */
    dst = wb_buf_extend(b, enc + 1);
    if (!dst)
        return b->err;
    wb_base64_encode((char *)dst, p, n);
    b->len--;
    return 0;
}

int wb_buf_add_hex(wb_buf *b, const void *p, size_t n)
{
    uint8_t *dst;
    size_t enc;
    if (wb_size_mul(&enc, n, 2) != 0 || wb_size_add(&enc, enc, 1) != 0) {
        b->err = wb_error_set(WB_E_LIMIT, "hex of %zu bytes overflows", n);
        return b->err;
    }
    dst = wb_buf_extend(b, enc);
    if (!dst)
        return b->err;
    wb_hex_encode((char *)dst, p, n);
    b->len--;
    return 0;
}

int wb_buf_finish(wb_buf *b, uint8_t **out, size_t *len)
{
    int err = b->err;
    if (err) {
        wb_buf_cleanup(b);
        return err;
    }
    if (!b->data && buf_reserve(b, 0) != 0) {
        err = b->err;
        wb_buf_cleanup(b);
        return err;
    }
    b->data[b->len] = 0;
    *out = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return 0;
}
