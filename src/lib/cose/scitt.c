/*
 * scitt.c: SCITT signed, registered and transparent statements (RFC 9943).
 *
 * A signed statement is a COSE_Sign1 whose protected header carries alg,
 * content type, CWT claims (RFC 9597) with iss and sub, and kid or x5chain
 * to find the issuer's key. The transparency service registers it with the
 * unprotected header emptied (the *registered statement*, the bytes its
 * receipts prove), and hands back a *transparent statement*: the registered
 * statement with its receipts, each an encoded COSE_Sign1 in a byte string,
 * in unprotected header 394 (RFC 9942 §4.1).
 *
 * Re-encoding is deterministic (shortest heads, definite lengths) and keeps
 * the protected bucket, payload and signature byte for byte, and tag 18 if
 * the statement had it; the signature covers nothing else, so re-encoding
 * never invalidates it.
 */
#include "cose_int.h"

#include "waybill/error.h"

#include <stdlib.h>
#include <string.h>

int wb_scitt_statement_check(const wb_cose_sign1 *m)
{
    const wb_cose_headers *h = &m->hdr;

    if (!m->priv)
        return wb_error_set(WB_E_INVALID, "statement: not a decoded COSE_Sign1");
    if (h->alg == 0)
        return wb_error_set(WB_E_INVALID, "statement: no alg (1) in the protected header");
    if (wb_cose_alg_to_wb(h->alg) == WB_ALG_NONE)
        return wb_error_set(WB_E_INVALID,
                            "statement: alg (1) is %lld; waybill accepts ES256 (-7), "
                            "ES384 (-35) and EdDSA (-8)",
                            (long long)h->alg);
    if (!h->cty && h->cty_int < 0)
        return wb_error_set(WB_E_INVALID,
                            "statement: no content type (3) in the protected header");
    if (!h->has_cwt)
        return wb_error_set(WB_E_INVALID,
                            "statement: no CWT claims (15) in the protected header");
    if (!h->iss || !h->iss[0])
        return wb_error_set(WB_E_INVALID, "statement: CWT claims (15) have no iss (1)");
    if (!h->sub || !h->sub[0])
        return wb_error_set(WB_E_INVALID, "statement: CWT claims (15) have no sub (2)");
    if (h->kid.len == 0 && h->nx5chain == 0)
        return wb_error_set(WB_E_INVALID,
                            "statement: neither kid (4) nor x5chain (33) in the protected "
                            "header");
    if (m->detached)
        return wb_error_set(WB_E_INVALID,
                            "statement: the payload is detached (nil); a signed statement "
                            "must carry it");
    return 0;
}

/*
 * reencode writes m with its unprotected header replaced by {} (n == 0) or
 * by {394: [receipts...]}, always with CBOR tag 18. RFC 9943 defines signed,
 * registered and transparent statements as #6.18(COSE_Sign1); the tag is not
 * signed, so an untagged submission is the same statement and must become
 * the same entry (and other verifiers, such as @transmute/cose, require it).
 */
static int reencode(uint8_t **out, size_t *len, const wb_cose_sign1 *m,
                    const wb_cose_bytes *receipts, size_t n)
{
    wb_buf b;
    int rc;

    wb_buf_init(&b, WB_COSE_MAX);
    wb_cbor_put_head(&b, WB_CBOR_TAG, WB_CBOR_TAG_SIGN1);
    wb_cbor_put_head(&b, WB_CBOR_ARRAY, 4);
    wb_cbor_put_bytes(&b, m->protected_raw, m->protected_len);
    if (n == 0) {
        wb_cbor_put_head(&b, WB_CBOR_MAP, 0);
    } else {
        wb_cbor_put_head(&b, WB_CBOR_MAP, 1);
        wb_cbor_put_uint(&b, WB_COSE_HDR_RECEIPTS);
        wb_cbor_put_head(&b, WB_CBOR_ARRAY, n);
        for (size_t i = 0; i < n; i++)
            wb_cbor_put_bytes(&b, receipts[i].ptr, receipts[i].len);
    }
    if (m->detached)
        wb_cbor_put_nil(&b);
    else
        wb_cbor_put_bytes(&b, m->payload, m->payload_len);
    wb_cbor_put_bytes(&b, m->signature, m->sig_len);
    if ((rc = wb_buf_finish(&b, out, len)) != 0)
        return wb_error_prefix(rc, "statement");
    return 0;
}

int wb_scitt_registered_statement(uint8_t **out, size_t *len, const wb_cose_sign1 *m)
{
    *out = NULL;
    *len = 0;
    if (!m->priv)
        return wb_error_set(WB_E_INVALID, "statement: not a decoded COSE_Sign1");
    return reencode(out, len, m, NULL, 0);
}

int wb_scitt_transparent_statement(uint8_t **out, size_t *len, const uint8_t *registered,
                                   size_t registered_len, const wb_cose_bytes *receipts,
                                   size_t nreceipts)
{
    wb_cose_sign1 m, r;
    int rc;

    *out = NULL;
    *len = 0;
    if (nreceipts == 0)
        return wb_error_set(WB_E_INVALID, "transparent statement: no receipts");
    if (nreceipts > WB_COSE_RECEIPTS_MAX)
        return wb_error_set(WB_E_LIMIT,
                            "transparent statement: %zu receipts, over the limit of %d",
                            nreceipts, WB_COSE_RECEIPTS_MAX);
    for (size_t i = 0; i < nreceipts; i++) {
        char what[32];
        snprintf(what, sizeof(what), "receipt %zu", i);
        if ((rc = wb_cose_sign1_decode_ex(&r, receipts[i].ptr, receipts[i].len,
                                          WB_COSE_MAX, WB_COSE_KID_TEXT_OK, what)) != 0)
            return wb_error_prefix(rc, "transparent statement");
        wb_cose_sign1_cleanup(&r);
    }
    if ((rc = wb_cose_sign1_decode_ex(&m, registered, registered_len, WB_COSE_MAX, 0,
                                      "registered statement")) != 0)
        return rc;
    if (m.unprotected_len != 1) {
        wb_cose_sign1_cleanup(&m);
        return wb_error_set(WB_E_INVALID,
                            "registered statement: the unprotected header is not empty");
    }
    rc = reencode(out, len, &m, receipts, nreceipts);
    wb_cose_sign1_cleanup(&m);
    return rc;
}

void wb_scitt_receipts_free(wb_cose_bytes *receipts, size_t n)
{
    if (!receipts)
        return;
    for (size_t i = 0; i < n; i++)
        free((void *)(uintptr_t)receipts[i].ptr);
    free(receipts);
}

int wb_scitt_transparent_split(uint8_t **registered, size_t *registered_len,
                               wb_cose_bytes **receipts, size_t *nreceipts,
                               const uint8_t *ts, size_t ts_len)
{
    wb_cose_sign1 m;
    const cbor_item_t *list;
    cbor_item_t **e;
    wb_cose_bytes *rs = NULL;
    size_t n = 0;
    int rc;

    *registered = NULL;
    *registered_len = 0;
    *receipts = NULL;
    *nreceipts = 0;
    if ((rc = wb_cose_sign1_decode_ex(&m, ts, ts_len, WB_COSE_MAX, 0,
                                      "transparent statement")) != 0)
        return rc;
    list = wb_cbor_map_get_int(wb_cose_sign1_unprotected(&m), WB_COSE_HDR_RECEIPTS);
    if (!list) {
        rc = wb_error_set(WB_E_INVALID,
                          "transparent statement: no receipts (394) in the unprotected "
                          "header");
        goto done;
    }
    if (!cbor_isa_array(list) || cbor_array_size(list) == 0) {
        rc = wb_error_set(WB_E_INVALID,
                          "transparent statement: receipts (394) is %s, want a non-empty "
                          "array of byte strings",
                          cbor_isa_array(list) ? "an empty array" : wb_cbor_type_name(list));
        goto done;
    }
    n = cbor_array_size(list);
    if (n > WB_COSE_RECEIPTS_MAX) {
        rc = wb_error_set(WB_E_LIMIT,
                          "transparent statement: %zu receipts, over the limit of %d", n,
                          WB_COSE_RECEIPTS_MAX);
        goto done;
    }
    e = cbor_array_handle(list);
    rs = calloc(n, sizeof(*rs));
    if (!rs) {
        rc = wb_error_set(WB_E_NOMEM, "out of memory for %zu receipts", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t *copy;
        size_t len;
        if (!cbor_isa_bytestring(e[i])) {
            rc = wb_error_set(WB_E_INVALID,
                              "transparent statement: receipt %zu is %s, want a byte "
                              "string holding a COSE_Sign1",
                              i, wb_cbor_type_name(e[i]));
            goto done;
        }
        len = cbor_bytestring_length(e[i]);
        copy = malloc(len ? len : 1);
        if (!copy) {
            rc = wb_error_set(WB_E_NOMEM, "out of memory for a %zu-byte receipt", len);
            goto done;
        }
        if (len)
            memcpy(copy, wb_cbor_bytes(e[i]), len);
        rs[i].ptr = copy;
        rs[i].len = len;
    }
    if ((rc = reencode(registered, registered_len, &m, NULL, 0)) != 0)
        goto done;
    *receipts = rs;
    *nreceipts = n;
    rs = NULL;
done:
    wb_scitt_receipts_free(rs, n);
    wb_cose_sign1_cleanup(&m);
    return rc;
}
