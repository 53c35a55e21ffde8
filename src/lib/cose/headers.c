/*
 * headers.c: COSE header parameters (RFC 9052 §3) of a COSE_Sign1, parsed
 * from the protected bucket into a wb_cose_headers and encoded back.
 *
 * Parameters waybill reads, with the types it accepts:
 *   1 alg      int, not 0 (a text alg names nothing waybill can verify)
 *   2 crit     [+ label], 1..16 labels, each present in the protected bucket
 *              and one waybill understands: 1, 2, 3, 4, 15, 33, 394, 395, 396
 *              (RFC 9052 §3.1: a message with a critical parameter the
 *              recipient does not process must be rejected)
 *   3 cty      tstr (a media type: no leading or trailing white space, one
 *              '/') or uint 0..65535 (a CoAP Content-Format)
 *   4 kid      bstr of 1..WB_COSE_KID_MAX bytes (text too, for receipts of
 *              other services, with WB_COSE_KID_TEXT_OK)
 *   15 CWT claims (RFC 9597) map: iss (1) tstr, sub (2) tstr, iat (6) int,
 *              also accepted as tag 1 (epoch date) around an int, as Azure
 *              Code Transparency writes it although RFC 8392 omits the tag;
 *              other claims are left alone
 *   33 x5chain (RFC 9360) one bstr, or an array of 1..8 bstr, leaf first
 *   395 vds    (RFC 9942) int, not 0
 * Other labels are ignored unless crit names them. Labels are integers or
 * text (RFC 9052 §3); anything else is malformed.
 *
 * The unprotected bucket is checked against the protected one: crit must not
 * be in it, and no label may be in both (RFC 9052 §3: "the same label
 * SHOULD NOT occur in both", which waybill makes a must).
 */
#include "cose_int.h"

#include "waybill/error.h"

#include <stdlib.h>
#include <string.h>

void wb_cose_strings_free(wb_cose_strings *s)
{
    free(s->cty);
    free(s->iss);
    free(s->sub);
    memset(s, 0, sizeof(*s));
}

static int understood(int64_t label)
{
    switch (label) {
    case WB_COSE_HDR_ALG:
    case WB_COSE_HDR_CRIT:
    case WB_COSE_HDR_CTY:
    case WB_COSE_HDR_KID:
    case WB_COSE_HDR_CWT:
    case WB_COSE_HDR_X5CHAIN:
    case WB_COSE_HDR_RECEIPTS:
    case WB_COSE_HDR_VDS:
    case WB_COSE_HDR_PROOFS:
        return 1;
    default:
        return 0;
    }
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int parse_cty(wb_cose_headers *h, wb_cose_strings *s, const cbor_item_t *v,
                     const char *what)
{
    int64_t n;

    if (cbor_isa_string(v)) {
        char name[96];
        size_t len;
        int rc;
        snprintf(name, sizeof(name), "%s: content type (3)", what);
        if ((rc = wb_cbor_text_copy(&s->cty, v, WB_COSE_TEXT_MAX, name)) != 0)
            return rc;
        len = strlen(s->cty);
        if (len == 0 || is_space(s->cty[0]) || is_space(s->cty[len - 1]) ||
            !strchr(s->cty, '/'))
            return wb_error_set(WB_E_INVALID,
                                "%s: content type (3) '%s' is not a media type "
                                "(type/subtype, no surrounding white space)",
                                what, s->cty);
        h->cty = s->cty;
        return 0;
    }
    if (cbor_isa_uint(v) && wb_cbor_int64(v, &n) && n <= 65535) {
        h->cty_int = n;
        return 0;
    }
    return wb_error_set(WB_E_INVALID,
                        "%s: content type (3) is %s, want a text string or a CoAP "
                        "Content-Format number",
                        what, wb_cbor_type_name(v));
}

static int parse_kid(wb_cose_headers *h, const cbor_item_t *v, unsigned flags,
                     const char *what)
{
    size_t len;

    if (cbor_isa_bytestring(v)) {
        len = cbor_bytestring_length(v);
        h->kid.ptr = wb_cbor_bytes(v);
    } else if (cbor_isa_string(v) && (flags & WB_COSE_KID_TEXT_OK)) {
        len = cbor_string_length(v);
        h->kid.ptr = cbor_string_handle(v);
    } else {
        return wb_error_set(WB_E_INVALID, "%s: kid (4) is %s, want a byte string", what,
                            wb_cbor_type_name(v));
    }
    if (len == 0) {
        h->kid.ptr = NULL;
        return wb_error_set(WB_E_INVALID, "%s: kid (4) is empty", what);
    }
    if (len > WB_COSE_KID_MAX) {
        h->kid.ptr = NULL;
        return wb_error_set(WB_E_LIMIT, "%s: kid (4) is %zu bytes, over the %d-byte limit",
                            what, len, WB_COSE_KID_MAX);
    }
    h->kid.len = len;
    return 0;
}

static int add_cert(wb_cose_headers *h, const cbor_item_t *c, size_t i, const char *what)
{
    size_t len;

    if (!cbor_isa_bytestring(c))
        return wb_error_set(WB_E_INVALID,
                            "%s: x5chain (33) element %zu is %s, want a byte string", what,
                            i, wb_cbor_type_name(c));
    len = cbor_bytestring_length(c);
    if (len == 0)
        return wb_error_set(WB_E_INVALID, "%s: x5chain (33) element %zu is empty", what, i);
    if (len > WB_COSE_CERT_MAX)
        return wb_error_set(WB_E_LIMIT,
                            "%s: x5chain (33) element %zu is %zu bytes, over the "
                            "%d-byte limit",
                            what, i, len, WB_COSE_CERT_MAX);
    h->x5chain[h->nx5chain].ptr = wb_cbor_bytes(c);
    h->x5chain[h->nx5chain].len = len;
    h->nx5chain++;
    return 0;
}

static int parse_x5chain(wb_cose_headers *h, const cbor_item_t *v, const char *what)
{
    size_t n;
    cbor_item_t **e;

    if (cbor_isa_bytestring(v))
        return add_cert(h, v, 0, what);
    if (!cbor_isa_array(v))
        return wb_error_set(WB_E_INVALID,
                            "%s: x5chain (33) is %s, want a byte string or an array of "
                            "them",
                            what, wb_cbor_type_name(v));
    n = cbor_array_size(v);
    if (n == 0)
        return wb_error_set(WB_E_INVALID, "%s: x5chain (33) is an empty array", what);
    if (n > WB_COSE_X5CHAIN_MAX)
        return wb_error_set(WB_E_LIMIT,
                            "%s: x5chain (33) has %zu certificates, over the limit of %d",
                            what, n, WB_COSE_X5CHAIN_MAX);
    e = cbor_array_handle(v);
    for (size_t i = 0; i < n; i++) {
        int rc = add_cert(h, e[i], i, what);
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_cwt(wb_cose_headers *h, wb_cose_strings *s, const cbor_item_t *v,
                     const char *what)
{
    struct cbor_pair *p;
    char name[96];
    int rc;

    if (!cbor_isa_map(v))
        return wb_error_set(WB_E_INVALID, "%s: CWT claims (15) is %s, want a map", what,
                            wb_cbor_type_name(v));
    p = cbor_map_handle(v);
    for (size_t i = 0; i < cbor_map_size(v); i++) {
        int64_t k;
        const cbor_item_t *val = p[i].value;

        if (!wb_cbor_int64(p[i].key, &k)) {
            if (cbor_isa_string(p[i].key))
                continue; /* a private claim name */
            return wb_error_set(WB_E_INVALID,
                                "%s: CWT claims (15) key is %s, want an integer or text",
                                what, wb_cbor_type_name(p[i].key));
        }
        switch (k) {
        case WB_CWT_ISS:
            snprintf(name, sizeof(name), "%s: CWT claim iss (15/1)", what);
            if ((rc = wb_cbor_text_copy(&s->iss, val, WB_COSE_TEXT_MAX, name)) != 0)
                return rc;
            h->iss = s->iss;
            break;
        case WB_CWT_SUB:
            snprintf(name, sizeof(name), "%s: CWT claim sub (15/2)", what);
            if ((rc = wb_cbor_text_copy(&s->sub, val, WB_COSE_TEXT_MAX, name)) != 0)
                return rc;
            h->sub = s->sub;
            break;
        case WB_CWT_IAT: {
            const cbor_item_t *t = val;
            int64_t iat;
            if (cbor_isa_tag(t) && cbor_tag_value(t) == WB_CBOR_TAG_EPOCH)
                t = wb_cbor_tag_inner(t);
            if (!wb_cbor_int64(t, &iat))
                return wb_error_set(WB_E_INVALID,
                                    "%s: CWT claim iat (15/6) is %s, want an integer "
                                    "(seconds since 1970)",
                                    what, wb_cbor_type_name(t));
            h->iat = iat;
            break;
        }
        default:
            break;
        }
    }
    h->has_cwt = 1;
    return 0;
}

static int parse_crit(wb_cose_headers *h, const cbor_item_t *v, const cbor_item_t *map,
                      const char *what)
{
    cbor_item_t **e;
    size_t n;

    if (!cbor_isa_array(v))
        return wb_error_set(WB_E_INVALID, "%s: crit (2) is %s, want an array of labels",
                            what, wb_cbor_type_name(v));
    n = cbor_array_size(v);
    if (n == 0)
        return wb_error_set(WB_E_INVALID, "%s: crit (2) is empty; it must list at least "
                                          "one label",
                            what);
    if (n > sizeof(h->crit) / sizeof(h->crit[0]))
        return wb_error_set(WB_E_LIMIT, "%s: crit (2) lists %zu labels, over the limit "
                                        "of %zu",
                            what, n, sizeof(h->crit) / sizeof(h->crit[0]));
    e = cbor_array_handle(v);
    for (size_t i = 0; i < n; i++) {
        int64_t label;
        char key[48];
        if (!wb_cbor_int64(e[i], &label)) {
            if (cbor_isa_string(e[i])) {
                wb_cbor_key_text(key, sizeof(key), e[i]);
                return wb_error_set(WB_E_INVALID,
                                    "%s: crit (2) lists header %s, which waybill does "
                                    "not understand",
                                    what, key);
            }
            return wb_error_set(WB_E_INVALID,
                                "%s: crit (2) element %zu is %s, want a label", what, i,
                                wb_cbor_type_name(e[i]));
        }
        if (!understood(label))
            return wb_error_set(WB_E_INVALID,
                                "%s: crit (2) lists header %lld, which waybill does not "
                                "understand",
                                what, (long long)label);
        if (!wb_cbor_map_get_int(map, label))
            return wb_error_set(WB_E_INVALID,
                                "%s: crit (2) lists header %lld, which is not in the "
                                "protected header",
                                what, (long long)label);
        h->crit[h->ncrit++] = label;
    }
    return 0;
}

int wb_cose_headers_parse(wb_cose_headers *h, wb_cose_strings *s, const cbor_item_t *map,
                          unsigned flags, const char *what)
{
    struct cbor_pair *p;
    int rc = 0;

    memset(h, 0, sizeof(*h));
    h->cty_int = -1;
    if (!map)
        return 0; /* an empty protected bucket */
    if (!cbor_isa_map(map))
        return wb_error_set(WB_E_INVALID, "%s is %s, want a map", what,
                            wb_cbor_type_name(map));
    p = cbor_map_handle(map);
    for (size_t i = 0; i < cbor_map_size(map) && rc == 0; i++) {
        const cbor_item_t *v = p[i].value;
        int64_t label;

        if (!wb_cbor_int64(p[i].key, &label)) {
            if (cbor_isa_string(p[i].key))
                continue;
            return wb_error_set(WB_E_INVALID,
                                "%s: header label is %s, want an integer or text", what,
                                wb_cbor_type_name(p[i].key));
        }
        switch (label) {
        case WB_COSE_HDR_ALG:
            if (!wb_cbor_int64(v, &h->alg)) {
                if (cbor_isa_string(v))
                    return wb_error_set(WB_E_INVALID,
                                        "%s: alg (1) is the text '%.*s'; waybill knows "
                                        "only integer algorithms",
                                        what,
                                        (int)(cbor_string_length(v) > 64
                                                  ? 64
                                                  : cbor_string_length(v)),
                                        (const char *)cbor_string_handle(v));
                return wb_error_set(WB_E_INVALID, "%s: alg (1) is %s, want an integer",
                                    what, wb_cbor_type_name(v));
            }
            if (h->alg == 0)
                return wb_error_set(WB_E_INVALID, "%s: alg (1) is 0, a reserved value",
                                    what);
            break;
        case WB_COSE_HDR_CRIT:
            rc = parse_crit(h, v, map, what);
            break;
        case WB_COSE_HDR_CTY:
            rc = parse_cty(h, s, v, what);
            break;
        case WB_COSE_HDR_KID:
            rc = parse_kid(h, v, flags, what);
            break;
        case WB_COSE_HDR_CWT:
            rc = parse_cwt(h, s, v, what);
            break;
        case WB_COSE_HDR_X5CHAIN:
            rc = parse_x5chain(h, v, what);
            break;
        case WB_COSE_HDR_VDS:
            if (!wb_cbor_int64(v, &h->vds))
                return wb_error_set(WB_E_INVALID, "%s: vds (395) is %s, want an integer",
                                    what, wb_cbor_type_name(v));
            if (h->vds == 0)
                return wb_error_set(WB_E_INVALID, "%s: vds (395) is 0, a reserved value",
                                    what);
            break;
        default:
            break;
        }
    }
    return rc;
}

int wb_cose_unprotected_check(const cbor_item_t *unprot, const cbor_item_t *prot,
                              const char *what)
{
    struct cbor_pair *p;

    if (!cbor_isa_map(unprot))
        return wb_error_set(WB_E_INVALID, "%s: unprotected header is %s, want a map",
                            what, wb_cbor_type_name(unprot));
    p = cbor_map_handle(unprot);
    for (size_t i = 0; i < cbor_map_size(unprot); i++) {
        char key[48];
        int64_t label = 0;

        if (!wb_cbor_int64(p[i].key, &label) && !cbor_isa_string(p[i].key))
            return wb_error_set(WB_E_INVALID,
                                "%s: unprotected header label is %s, want an integer or "
                                "text",
                                what, wb_cbor_type_name(p[i].key));
        wb_cbor_key_text(key, sizeof(key), p[i].key);
        if (cbor_isa_string(p[i].key) && !prot)
            continue;
        if (!cbor_isa_string(p[i].key) && label == WB_COSE_HDR_CRIT)
            return wb_error_set(WB_E_INVALID,
                                "%s: crit (2) is in the unprotected header; it must be "
                                "protected",
                                what);
        if (prot) {
            struct cbor_pair *q = cbor_map_handle(prot);
            for (size_t j = 0; j < cbor_map_size(prot); j++) {
                int64_t l2;
                int same;
                if (cbor_isa_string(p[i].key))
                    same = cbor_isa_string(q[j].key) &&
                           cbor_string_length(q[j].key) == cbor_string_length(p[i].key) &&
                           memcmp(cbor_string_handle(q[j].key),
                                  cbor_string_handle(p[i].key),
                                  cbor_string_length(p[i].key)) == 0;
                else
                    same = wb_cbor_int64(q[j].key, &l2) && l2 == label;
                if (same)
                    return wb_error_set(WB_E_INVALID,
                                        "%s: header %s is in both the protected and the "
                                        "unprotected header",
                                        what, key);
            }
        }
    }
    return 0;
}

/* ---- encoding ---- */

int wb_cose_protected_encode(uint8_t **out, size_t *len, const wb_cose_headers *h)
{
    wb_buf b;
    size_t n = 0;
    int cwt = h->has_cwt || h->iss || h->sub || h->iat != 0;
    int cty = h->cty != NULL || h->cty_int >= 0;

    *out = NULL;
    *len = 0;
    if (h->ncrit > sizeof(h->crit) / sizeof(h->crit[0]) ||
        h->nx5chain > WB_COSE_X5CHAIN_MAX || h->kid.len > WB_COSE_KID_MAX)
        return wb_error_set(WB_E_LIMIT,
                            "protected header: %zu crit labels, %zu certificates or a "
                            "%zu-byte kid is over its limit",
                            h->ncrit, h->nx5chain, h->kid.len);
    if (h->cty && strlen(h->cty) > WB_COSE_TEXT_MAX)
        return wb_error_set(WB_E_LIMIT, "protected header: content type over %d bytes",
                            WB_COSE_TEXT_MAX);
    if ((h->iss && strlen(h->iss) > WB_COSE_TEXT_MAX) ||
        (h->sub && strlen(h->sub) > WB_COSE_TEXT_MAX))
        return wb_error_set(WB_E_LIMIT, "protected header: iss or sub over %d bytes",
                            WB_COSE_TEXT_MAX);
    for (size_t i = 0; i < h->nx5chain; i++)
        if (h->x5chain[i].len == 0 || h->x5chain[i].len > WB_COSE_CERT_MAX)
            return wb_error_set(WB_E_INVALID,
                                "protected header: x5chain element %zu is %zu bytes", i,
                                h->x5chain[i].len);

    n = (size_t)(h->alg != 0) + (size_t)(h->ncrit > 0) + (size_t)cty +
        (size_t)(h->kid.len > 0) + (size_t)cwt + (size_t)(h->nx5chain > 0) +
        (size_t)(h->vds != 0);
    wb_buf_init(&b, WB_COSE_MAX);
    if (n == 0) /* RFC 9052 §3: no protected parameters is a zero-length bstr */
        return wb_buf_finish(&b, out, len);
    wb_cbor_put_head(&b, WB_CBOR_MAP, n);
    if (h->alg != 0) {
        wb_cbor_put_uint(&b, WB_COSE_HDR_ALG);
        wb_cbor_put_int(&b, h->alg);
    }
    if (h->ncrit > 0) {
        wb_cbor_put_uint(&b, WB_COSE_HDR_CRIT);
        wb_cbor_put_head(&b, WB_CBOR_ARRAY, h->ncrit);
        for (size_t i = 0; i < h->ncrit; i++)
            wb_cbor_put_int(&b, h->crit[i]);
    }
    if (cty) {
        wb_cbor_put_uint(&b, WB_COSE_HDR_CTY);
        if (h->cty)
            wb_cbor_put_text(&b, h->cty, strlen(h->cty));
        else
            wb_cbor_put_uint(&b, (uint64_t)h->cty_int);
    }
    if (h->kid.len > 0) {
        wb_cbor_put_uint(&b, WB_COSE_HDR_KID);
        wb_cbor_put_bytes(&b, h->kid.ptr, h->kid.len);
    }
    if (cwt) {
        size_t m = (size_t)(h->iss != NULL) + (size_t)(h->sub != NULL) +
                   (size_t)(h->iat != 0);
        wb_cbor_put_uint(&b, WB_COSE_HDR_CWT);
        wb_cbor_put_head(&b, WB_CBOR_MAP, m);
        if (h->iss) {
            wb_cbor_put_uint(&b, WB_CWT_ISS);
            wb_cbor_put_text(&b, h->iss, strlen(h->iss));
        }
        if (h->sub) {
            wb_cbor_put_uint(&b, WB_CWT_SUB);
            wb_cbor_put_text(&b, h->sub, strlen(h->sub));
        }
        if (h->iat != 0) {
            wb_cbor_put_uint(&b, WB_CWT_IAT);
            wb_cbor_put_int(&b, h->iat);
        }
    }
    if (h->nx5chain > 0) {
        wb_cbor_put_uint(&b, WB_COSE_HDR_X5CHAIN);
        if (h->nx5chain == 1) { /* RFC 9360 §2: one certificate is a bstr */
            wb_cbor_put_bytes(&b, h->x5chain[0].ptr, h->x5chain[0].len);
        } else {
            wb_cbor_put_head(&b, WB_CBOR_ARRAY, h->nx5chain);
            for (size_t i = 0; i < h->nx5chain; i++)
                wb_cbor_put_bytes(&b, h->x5chain[i].ptr, h->x5chain[i].len);
        }
    }
    if (h->vds != 0) {
        wb_cbor_put_uint(&b, WB_COSE_HDR_VDS);
        wb_cbor_put_int(&b, h->vds);
    }
    return wb_buf_finish(&b, out, len);
}

void wb_cose_headers_init(wb_cose_headers *h)
{
    memset(h, 0, sizeof(*h));
    h->cty_int = -1;
}
