/*
 * cbor_write.c: deterministic CBOR encoding (RFC 8949 §4.2.1) into a capped
 * wb_buf: every head in its shortest form, every length definite. Map keys
 * are written in the order callers give them, which they choose sorted by
 * their encoded bytes (1, 2, 3, 4, 15, 33, 395, then -1, -2, -3 ...).
 *
 * Errors are the buffer's sticky error, checked once by the caller.
 */
#include "cose_int.h"

#include <string.h>

void wb_cbor_put_head(wb_buf *b, unsigned major, uint64_t arg)
{
    uint8_t ib = (uint8_t)(major << 5);

    if (arg < 24) {
        wb_buf_add_u8(b, (uint8_t)(ib | arg));
    } else if (arg <= 0xff) {
        wb_buf_add_u8(b, ib | 24);
        wb_buf_add_u8(b, (uint8_t)arg);
    } else if (arg <= 0xffff) {
        wb_buf_add_u8(b, ib | 25);
        wb_buf_add_u16be(b, (uint16_t)arg);
    } else if (arg <= 0xffffffffu) {
        wb_buf_add_u8(b, ib | 26);
        wb_buf_add_u32be(b, (uint32_t)arg);
    } else {
        wb_buf_add_u8(b, ib | 27);
        wb_buf_add_u64be(b, arg);
    }
}

void wb_cbor_put_uint(wb_buf *b, uint64_t v)
{
    wb_cbor_put_head(b, WB_CBOR_UINT, v);
}

void wb_cbor_put_int(wb_buf *b, int64_t v)
{
    if (v >= 0)
        wb_cbor_put_head(b, WB_CBOR_UINT, (uint64_t)v);
    else
        wb_cbor_put_head(b, WB_CBOR_NEGINT, (uint64_t)(-1 - v));
}

void wb_cbor_put_bytes(wb_buf *b, const uint8_t *p, size_t n)
{
    wb_cbor_put_head(b, WB_CBOR_BYTES, n);
    wb_buf_add(b, p, n);
}

void wb_cbor_put_text(wb_buf *b, const char *s, size_t n)
{
    wb_cbor_put_head(b, WB_CBOR_TEXT, n);
    wb_buf_add(b, s, n);
}

void wb_cbor_put_bool(wb_buf *b, int v)
{
    wb_buf_add_u8(b, v ? 0xf5 : 0xf4);
}

void wb_cbor_put_nil(wb_buf *b)
{
    wb_buf_add_u8(b, 0xf6);
}
