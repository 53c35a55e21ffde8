/*
 * encode.c: base64 (RFC 4648 §4, padded, canonical), lowercase hex, strict
 * decimal parsing, overflow-checked size math and constant-time compare.
 *
 * Decoders are strict on purpose: an identifier or a hash in a note, a
 * checkpoint or a proof must have exactly one accepted spelling, or two
 * parties could disagree about bytes that both "verified".
 */
#include "waybill/util.h"
#include "waybill/error.h"

#include <string.h>

int wb_size_add(size_t *out, size_t a, size_t b)
{
    if (a > SIZE_MAX - b)
        return wb_error_set(WB_E_LIMIT, "size %zu + %zu overflows", a, b);
    *out = a + b;
    return 0;
}

int wb_size_mul(size_t *out, size_t a, size_t b)
{
    if (a != 0 && b > SIZE_MAX / a)
        return wb_error_set(WB_E_LIMIT, "size %zu * %zu overflows", a, b);
    *out = a * b;
    return 0;
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t wb_base64_encoded_len(size_t n)
{
    if (n > (SIZE_MAX / 4) * 3 - 3)
        return 0;
    return (n + 2) / 3 * 4;
}

void wb_base64_encode(char *out, const void *in, size_t n)
{
    const uint8_t *p = in;
    size_t i, o = 0;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = b64chars[v >> 18];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = b64chars[(v >> 6) & 63];
        out[o++] = b64chars[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        out[o++] = b64chars[v >> 18];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        out[o++] = b64chars[v >> 18];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = b64chars[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int wb_base64_decode(uint8_t *out, size_t cap, size_t *n, const char *s,
                     size_t len)
{
    size_t o = 0;
    if (len % 4 != 0)
        return wb_error_set(WB_E_INVALID,
                            "base64: length %zu is not a multiple of 4", len);
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        size_t pad = 0, bytes;
        uint32_t w;
        for (size_t j = 0; j < 4; j++) {
            char c = s[i + j];
            if (c == '=' && i + 4 == len && j >= 2) {
                v[j] = 0;
                pad++;
                continue;
            }
            if (pad)
                return wb_error_set(WB_E_INVALID,
                                    "base64: data after padding at offset %zu",
                                    i + j);
            v[j] = b64val(c);
            if (v[j] < 0)
                return wb_error_set(WB_E_INVALID,
                                    "base64: invalid character 0x%02x at offset %zu",
                                    (unsigned char)c, i + j);
        }
        w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
            (uint32_t)v[3];
        if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
            return wb_error_set(WB_E_INVALID,
                                "base64: non-zero padding bits (non-canonical encoding)");
        bytes = 3 - pad;
        if (cap - o < bytes || o > cap)
            return wb_error_set(WB_E_INVALID,
                                "base64: decodes to more than %zu bytes", cap);
        out[o++] = (uint8_t)(w >> 16);
        if (bytes > 1)
            out[o++] = (uint8_t)(w >> 8);
        if (bytes > 2)
            out[o++] = (uint8_t)w;
    }
    *n = o;
    return 0;
}

void wb_hex_encode(char *out, const void *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *p = in;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int wb_hex_decode(uint8_t *out, size_t n, const char *s, size_t len)
{
    if (len != 2 * n || len / 2 != n)
        return wb_error_set(WB_E_INVALID,
                            "hex: expected %zu characters, got %zu", 2 * n, len);
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return wb_error_set(WB_E_INVALID,
                                "hex: invalid character at offset %zu "
                                "(lowercase 0-9a-f only)",
                                hi < 0 ? 2 * i : 2 * i + 1);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int wb_parse_u64(uint64_t *out, const char *s, size_t len)
{
    uint64_t v = 0;
    if (len == 0)
        return wb_error_set(WB_E_INVALID, "empty number");
    if (len > 1 && s[0] == '0')
        return wb_error_set(WB_E_INVALID, "number '%.*s' has a leading zero",
                            (int)(len > 32 ? 32 : len), s);
    for (size_t i = 0; i < len; i++) {
        unsigned d;
        if (s[i] < '0' || s[i] > '9')
            return wb_error_set(WB_E_INVALID,
                                "number '%.*s': '%c' is not a decimal digit",
                                (int)(len > 32 ? 32 : len), s,
                                (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?');
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return wb_error_set(WB_E_INVALID,
                                "number '%.*s' does not fit in 64 bits",
                                (int)(len > 32 ? 32 : len), s);
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int wb_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (uint8_t)(x[i] ^ y[i]);
    return d == 0;
}
