/*
 * reader.c: the bounded reader (waybill/util.h), after BoringSSL's CBS.
 *
 * Every get checks the remaining length before touching a byte and returns
 * 1 on success, 0 when the input is too short (the reader is then unchanged).
 */
#include "waybill/util.h"

#include <string.h>

void wb_reader_init(wb_reader *r, const void *data, size_t len)
{
    r->ptr = data;
    r->len = data ? len : 0;
}

size_t wb_reader_left(const wb_reader *r)
{
    return r->len;
}

int wb_reader_get_bytes(wb_reader *r, const uint8_t **out, size_t n)
{
    if (r->len < n)
        return 0;
    *out = r->ptr;
    r->ptr += n;
    r->len -= n;
    return 1;
}

int wb_reader_skip(wb_reader *r, size_t n)
{
    const uint8_t *p;
    return wb_reader_get_bytes(r, &p, n);
}

int wb_reader_copy(wb_reader *r, void *out, size_t n)
{
    const uint8_t *p;
    if (!wb_reader_get_bytes(r, &p, n))
        return 0;
    if (n)
        memcpy(out, p, n);
    return 1;
}

int wb_reader_get_sub(wb_reader *r, wb_reader *out, size_t n)
{
    const uint8_t *p;
    if (!wb_reader_get_bytes(r, &p, n))
        return 0;
    wb_reader_init(out, p, n);
    return 1;
}

static int get_be(wb_reader *r, uint64_t *out, size_t n)
{
    const uint8_t *p;
    uint64_t v = 0;
    if (!wb_reader_get_bytes(r, &p, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    *out = v;
    return 1;
}

int wb_reader_get_u8(wb_reader *r, uint8_t *out)
{
    uint64_t v;
    if (!get_be(r, &v, 1))
        return 0;
    *out = (uint8_t)v;
    return 1;
}

int wb_reader_get_u16be(wb_reader *r, uint16_t *out)
{
    uint64_t v;
    if (!get_be(r, &v, 2))
        return 0;
    *out = (uint16_t)v;
    return 1;
}

int wb_reader_get_u32be(wb_reader *r, uint32_t *out)
{
    uint64_t v;
    if (!get_be(r, &v, 4))
        return 0;
    *out = (uint32_t)v;
    return 1;
}

int wb_reader_get_u64be(wb_reader *r, uint64_t *out)
{
    return get_be(r, out, 8);
}

int wb_reader_get_u16_prefixed(wb_reader *r, wb_reader *out)
{
    wb_reader save = *r;
    uint16_t n;
    if (!wb_reader_get_u16be(r, &n) || !wb_reader_get_sub(r, out, n)) {
        *r = save;
        return 0;
    }
    return 1;
}

int wb_reader_get_until(wb_reader *r, wb_reader *out, uint8_t c)
{
    const uint8_t *end;
    if (r->len == 0)
        return 0;
    end = memchr(r->ptr, c, r->len);
    if (!end)
        return 0;
    wb_reader_init(out, r->ptr, (size_t)(end - r->ptr));
    r->len -= (size_t)(end - r->ptr) + 1;
    r->ptr = end + 1;
    return 1;
}
