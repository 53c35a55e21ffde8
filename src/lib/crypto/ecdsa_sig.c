/*
 * ecdsa_sig.c: conversion between the two forms of an ECDSA signature
 * (waybill/crypto.h): the DER form of X.509 and OpenSSL,
 *
 *     Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }   (RFC 5480 §2.2.3,
 *                                                              X.690 §8.3, §10)
 *
 * and the fixed-size raw form r‖s of COSE (RFC 9053 §2.1), each integer
 * big-endian and left-padded to n bytes, the size of one coordinate.
 *
 * The parser is written by hand over the bounded reader rather than with
 * d2i_ECDSA_SIG: the structure is tiny, the rules are exactly DER's (definite
 * and minimal lengths, minimal non-negative integers, nothing trailing), it
 * needs no allocation and no OpenSSL, and because it accepts only the one
 * canonical encoding, raw_to_der(der_to_raw(x)) == x for every accepted x,
 * which the fuzz target fuzz/fuzz_ecdsa_der.c checks.
 */
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/util.h"

#include <string.h>

/* the largest coordinate accepted: 66 bytes, P-521 */
#define WB_ECDSA_N_MAX 66

#define DER_SEQUENCE 0x30
#define DER_INTEGER 0x02

static int check_n(size_t n)
{
    if (n == 0 || n > WB_ECDSA_N_MAX)
        return wb_error_set(WB_E_INVALID,
                            "ECDSA coordinate size %zu, want 1 to %d bytes", n,
                            WB_ECDSA_N_MAX);
    return 0;
}

/*
 * der_get_len reads a definite length in its minimal form: one byte below
 * 0x80, or 0x81 L (L >= 0x80), or 0x82 LL (LL >= 0x100). Longer lengths
 * cannot occur in a signature and are refused.
 */
static int der_get_len(wb_reader *r, size_t *len, const char *what)
{
    uint8_t b, b1;
    uint16_t b2;

    if (!wb_reader_get_u8(r, &b))
        return wb_error_set(WB_E_INVALID, "ECDSA DER signature: %s: length missing",
                            what);
    if (b < 0x80) {
        *len = b;
        return 0;
    }
    switch (b) {
    case 0x80:
        return wb_error_set(WB_E_INVALID,
                            "ECDSA DER signature: %s: indefinite length", what);
    case 0x81:
        if (!wb_reader_get_u8(r, &b1))
            return wb_error_set(WB_E_INVALID,
                                "ECDSA DER signature: %s: length truncated", what);
        if (b1 < 0x80)
            return wb_error_set(WB_E_INVALID,
                                "ECDSA DER signature: %s: long-form length %u where "
                                "the short form suffices",
                                what, (unsigned)b1);
        *len = b1;
        return 0;
    case 0x82:
        if (!wb_reader_get_u16be(r, &b2))
            return wb_error_set(WB_E_INVALID,
                                "ECDSA DER signature: %s: length truncated", what);
        if (b2 < 0x100)
            return wb_error_set(WB_E_INVALID,
                                "ECDSA DER signature: %s: two-byte length %u where "
                                "one byte suffices",
                                what, (unsigned)b2);
        *len = b2;
        return 0;
    default:
        return wb_error_set(WB_E_INVALID,
                            "ECDSA DER signature: %s: %u-byte length field is too long",
                            what, (unsigned)(b & 0x7f));
    }
}

/* reads one minimal, non-negative INTEGER into out[0..n), left-padded */
static int der_get_uint(wb_reader *r, uint8_t *out, size_t n, const char *what)
{
    const uint8_t *p;
    uint8_t tag;
    size_t len;
    int rc;

    if (!wb_reader_get_u8(r, &tag))
        return wb_error_set(WB_E_INVALID, "ECDSA DER signature: %s missing", what);
    if (tag != DER_INTEGER)
        return wb_error_set(WB_E_INVALID,
                            "ECDSA DER signature: %s has tag 0x%02x, want INTEGER (0x02)",
                            what, (unsigned)tag);
    if ((rc = der_get_len(r, &len, what)) != 0)
        return rc;
    if (!wb_reader_get_bytes(r, &p, len))
        return wb_error_set(WB_E_INVALID,
                            "ECDSA DER signature: %s is %zu bytes but only %zu remain",
                            what, len, wb_reader_left(r));
    if (len == 0)
        return wb_error_set(WB_E_INVALID, "ECDSA DER signature: %s is an empty INTEGER",
                            what);
    if (p[0] & 0x80)
        return wb_error_set(WB_E_INVALID, "ECDSA DER signature: %s is negative", what);
    if (p[0] == 0x00 && len > 1) {
        if (!(p[1] & 0x80))
            return wb_error_set(WB_E_INVALID,
                                "ECDSA DER signature: %s has a superfluous leading zero "
                                "(not minimal DER)",
                                what);
        p++;
        len--;
    }
    if (len > n)
        return wb_error_set(WB_E_INVALID,
                            "ECDSA DER signature: %s is %zu bytes, over the %zu-byte "
                            "coordinate size",
                            what, len, n);
    memset(out, 0, n - len);
    memcpy(out + (n - len), p, len);
    return 0;
}

int wb_ecdsa_der_to_raw(uint8_t *raw, size_t n, const uint8_t *der, size_t der_len)
{
    uint8_t tmp[2 * WB_ECDSA_N_MAX];
    wb_reader r, seq;
    uint8_t tag;
    size_t len;
    int rc;

    if ((rc = check_n(n)) != 0)
        return rc;
    wb_reader_init(&r, der, der_len);
    if (!wb_reader_get_u8(&r, &tag))
        return wb_error_set(WB_E_INVALID, "ECDSA DER signature is empty");
    if (tag != DER_SEQUENCE)
        return wb_error_set(WB_E_INVALID,
                            "ECDSA DER signature has tag 0x%02x, want SEQUENCE (0x30)",
                            (unsigned)tag);
    if ((rc = der_get_len(&r, &len, "SEQUENCE")) != 0)
        return rc;
    if (!wb_reader_get_sub(&r, &seq, len))
        return wb_error_set(WB_E_INVALID,
                            "ECDSA DER signature: SEQUENCE is %zu bytes but only %zu "
                            "remain",
                            len, wb_reader_left(&r));
    if (wb_reader_left(&r) != 0)
        return wb_error_set(WB_E_INVALID,
                            "ECDSA DER signature: %zu trailing bytes after the SEQUENCE",
                            wb_reader_left(&r));
    if ((rc = der_get_uint(&seq, tmp, n, "r")) != 0 ||
        (rc = der_get_uint(&seq, tmp + n, n, "s")) != 0)
        return rc;
    if (wb_reader_left(&seq) != 0)
        return wb_error_set(WB_E_INVALID,
                            "ECDSA DER signature: %zu bytes after s inside the SEQUENCE",
                            wb_reader_left(&seq));
    memcpy(raw, tmp, 2 * n);
    return 0;
}

/* the minimal DER INTEGER body of the n-byte big-endian v: skip, then pad */
static size_t int_body(const uint8_t *v, size_t n, size_t *skip, int *pad)
{
    size_t i = 0;
    while (i + 1 < n && v[i] == 0)
        i++;
    *skip = i;
    *pad = (v[i] & 0x80) != 0;
    return (n - i) + (size_t)*pad;
}

static uint8_t *put_int(uint8_t *p, const uint8_t *v, size_t n)
{
    size_t skip;
    int pad;
    size_t len = int_body(v, n, &skip, &pad);

    *p++ = DER_INTEGER;
    *p++ = (uint8_t)len; /* <= WB_ECDSA_N_MAX + 1 < 0x80: short form */
    if (pad)
        *p++ = 0x00;
    memcpy(p, v + skip, n - skip);
    return p + (n - skip);
}

int wb_ecdsa_raw_to_der(uint8_t *der, size_t cap, size_t *der_len,
                        const uint8_t *raw, size_t n)
{
    size_t skip, content, total;
    int pad;
    uint8_t *p = der;
    int rc;

    if ((rc = check_n(n)) != 0)
        return rc;
    content = 2 + int_body(raw, n, &skip, &pad) + 2 + int_body(raw + n, n, &skip, &pad);
    total = (content < 0x80 ? 2u : 3u) + content;
    if (total > cap)
        return wb_error_set(WB_E_INVALID,
                            "ECDSA DER signature needs %zu bytes, buffer holds %zu",
                            total, cap);
    *p++ = DER_SEQUENCE;
    if (content >= 0x80)
        *p++ = 0x81;
    *p++ = (uint8_t)content;
    p = put_int(p, raw, n);
    p = put_int(p, raw + n, n);
    *der_len = (size_t)(p - der);
    return 0;
}
