/*
 * sign1.c: COSE_Sign1 (RFC 9052 §4.2) decoding, verification and creation.
 *
 *   COSE_Sign1 = [ protected: bstr .cbor header_map / bstr .size 0,
 *                  unprotected: header_map,
 *                  payload: bstr / nil,
 *                  signature: bstr ]
 *   tagged with 18 or not (the application knows what it expects).
 *
 * The signature covers the Sig_structure of RFC 9052 §4.4,
 *   [ "Signature1", protected, external_aad, payload ],
 * with the protected bucket as the exact bytes that were received and an
 * empty external_aad (waybill has none). ECDSA signatures are r‖s (RFC 9053
 * §2.1), which is the form the crypto adapter speaks.
 *
 * A decoded wb_cose_sign1 keeps libcbor's item tree in priv; the header's
 * byte strings (kid, x5chain), the protected bucket, payload and signature
 * point into it, text claims into NUL-terminated copies, and the unprotected
 * map is copied from the input as it was encoded.
 */
#include "cose_int.h"

#include "waybill/error.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    cbor_item_t *root;  /* what was decoded: the array, or tag 18 around it */
    cbor_item_t *arr;   /* the COSE_Sign1 array (borrowed from root) */
    cbor_item_t *prot;  /* the decoded protected map, NULL if zero-length */
    wb_cose_strings strs;
} sign1_priv;

static void priv_free(sign1_priv *p)
{
    if (!p)
        return;
    if (p->root)
        cbor_decref(&p->root);
    if (p->prot)
        cbor_decref(&p->prot);
    wb_cose_strings_free(&p->strs);
    free(p);
}

void wb_cose_sign1_cleanup(wb_cose_sign1 *m)
{
    if (!m)
        return;
    priv_free(m->priv);
    free(m->unprotected_raw);
    memset(m, 0, sizeof(*m));
}

const cbor_item_t *wb_cose_sign1_unprotected(const wb_cose_sign1 *m)
{
    const sign1_priv *p = m->priv;
    return p ? cbor_array_handle(p->arr)[1] : NULL;
}

/* the byte span of the unprotected map in the (already validated) input */
static int unprotected_span(const uint8_t **at, size_t *n, const uint8_t *data,
                            size_t len, int tagged, const char *what)
{
    wb_reader r;
    unsigned major;
    uint64_t arg;
    size_t used;

    wb_reader_init(&r, data, len);
    if (tagged && !wb_cbor_head(&r, &major, &arg))
        goto bad;
    if (!wb_cbor_head(&r, &major, &arg) || major != WB_CBOR_ARRAY)
        goto bad;
    if (wb_cbor_scan(&used, r.ptr, r.len, what) != 0 || !wb_reader_skip(&r, used))
        goto bad;
    if (wb_cbor_scan(&used, r.ptr, r.len, what) != 0)
        goto bad;
    *at = r.ptr;
    *n = used;
    return 0;
bad:
    return wb_error_set(WB_E_INTERNAL, "%s: cannot find the unprotected header again",
                        what);
}

int wb_cose_sign1_decode_ex(wb_cose_sign1 *m, const uint8_t *data, size_t len,
                            size_t max, unsigned flags, const char *what)
{
    sign1_priv *p;
    cbor_item_t **e;
    const uint8_t *uspan = NULL; /* NULL, 0: quiets -O3 maybe-uninitialized */
    size_t ulen = 0;
    char pwhat[64];
    int rc;

    memset(m, 0, sizeof(*m));
    if (max > WB_COSE_MAX)
        max = WB_COSE_MAX;
    p = calloc(1, sizeof(*p));
    if (!p)
        return wb_error_set(WB_E_NOMEM, "out of memory decoding a %s", what);
    if ((rc = wb_cbor_load(&p->root, data, len, max, what)) != 0)
        goto fail;
    p->arr = p->root;
    if (cbor_isa_tag(p->root)) {
        if (cbor_tag_value(p->root) != WB_CBOR_TAG_SIGN1) {
            rc = wb_error_set(WB_E_INVALID,
                              "%s: CBOR tag %llu, want 18 (COSE_Sign1) or no tag", what,
                              (unsigned long long)cbor_tag_value(p->root));
            goto fail;
        }
        m->tagged = 1;
        p->arr = wb_cbor_tag_inner(p->root);
    }
    if (!cbor_isa_array(p->arr)) {
        rc = wb_error_set(WB_E_INVALID, "%s is %s, want an array of 4", what,
                          wb_cbor_type_name(p->arr));
        goto fail;
    }
    if (cbor_array_size(p->arr) != 4) {
        rc = wb_error_set(WB_E_INVALID, "%s is an array of %zu, want 4 (protected, "
                                        "unprotected, payload, signature)",
                          what, cbor_array_size(p->arr));
        goto fail;
    }
    e = cbor_array_handle(p->arr);
    if (!cbor_isa_bytestring(e[0])) {
        rc = wb_error_set(WB_E_INVALID, "%s: protected header is %s, want a byte string",
                          what, wb_cbor_type_name(e[0]));
        goto fail;
    }
    if (!cbor_isa_map(e[1])) {
        rc = wb_error_set(WB_E_INVALID, "%s: unprotected header is %s, want a map", what,
                          wb_cbor_type_name(e[1]));
        goto fail;
    }
    if (!cbor_isa_bytestring(e[2]) && !wb_cbor_is_nil(e[2])) {
        rc = wb_error_set(WB_E_INVALID, "%s: payload is %s, want a byte string or nil",
                          what, wb_cbor_type_name(e[2]));
        goto fail;
    }
    if (!cbor_isa_bytestring(e[3])) {
        rc = wb_error_set(WB_E_INVALID, "%s: signature is %s, want a byte string", what,
                          wb_cbor_type_name(e[3]));
        goto fail;
    }

    /* the protected bucket: a map in a byte string, or nothing at all */
    snprintf(pwhat, sizeof(pwhat), "%s: protected header", what);
    m->protected_raw = wb_cbor_bytes(e[0]);
    m->protected_len = cbor_bytestring_length(e[0]);
    if (m->protected_len > 0) {
        if ((rc = wb_cbor_load(&p->prot, m->protected_raw, m->protected_len,
                               m->protected_len, pwhat)) != 0)
            goto fail;
        if (!cbor_isa_map(p->prot)) {
            rc = wb_error_set(WB_E_INVALID, "%s is %s, want a map", pwhat,
                              wb_cbor_type_name(p->prot));
            goto fail;
        }
    }
    if ((rc = wb_cose_headers_parse(&m->hdr, &p->strs, p->prot, flags, pwhat)) != 0)
        goto fail;
    if ((rc = wb_cose_unprotected_check(e[1], p->prot, what)) != 0)
        goto fail;

    if ((rc = unprotected_span(&uspan, &ulen, data, len, m->tagged, what)) != 0)
        goto fail;
    m->unprotected_raw = malloc(ulen);
    if (!m->unprotected_raw) {
        rc = wb_error_set(WB_E_NOMEM, "out of memory for a %zu-byte header", ulen);
        goto fail;
    }
    memcpy(m->unprotected_raw, uspan, ulen);
    m->unprotected_len = ulen;

    if (wb_cbor_is_nil(e[2])) {
        m->detached = 1;
    } else {
        m->payload = wb_cbor_bytes(e[2]);
        m->payload_len = cbor_bytestring_length(e[2]);
    }
    m->signature = wb_cbor_bytes(e[3]);
    m->sig_len = cbor_bytestring_length(e[3]);
    m->priv = p;
    return 0;

fail:
    free(m->unprotected_raw);
    priv_free(p);
    memset(m, 0, sizeof(*m));
    return rc;
}

int wb_cose_sign1_decode(wb_cose_sign1 *m, const uint8_t *data, size_t len, size_t max)
{
    return wb_cose_sign1_decode_ex(m, data, len, max, 0, "COSE_Sign1");
}

/* ---- Sig_structure ---- */

void wb_cose_sig_structure(wb_buf *b, const uint8_t *prot, size_t prot_len,
                           const uint8_t *payload, size_t payload_len)
{
    static const char ctx[] = "Signature1";

    wb_cbor_put_head(b, WB_CBOR_ARRAY, 4);
    wb_cbor_put_text(b, ctx, sizeof(ctx) - 1);
    wb_cbor_put_bytes(b, prot, prot_len);
    wb_cbor_put_bytes(b, NULL, 0); /* external_aad */
    wb_cbor_put_bytes(b, payload, payload_len);
}

/* room for a Sig_structure around prot_len + payload_len bytes */
static int tbs_max(size_t *max, size_t prot_len, size_t payload_len)
{
    if (wb_size_add(max, prot_len, payload_len) != 0 || wb_size_add(max, *max, 64) != 0)
        return wb_error_set(WB_E_LIMIT, "Sig_structure size overflows");
    return 0;
}

static const char *alg_label(int64_t alg)
{
    switch (alg) {
    case WB_COSE_ALG_ES256: return "ES256";
    case WB_COSE_ALG_ES384: return "ES384";
    case WB_COSE_ALG_EDDSA: return "EdDSA";
    default: return "unsupported";
    }
}

int wb_cose_sign1_verify(const wb_cose_sign1 *m, const wb_cose_verifier *v,
                         const uint8_t *detached_payload, size_t detached_len)
{
    const uint8_t *payload;
    size_t payload_len, max;
    wb_buf b;
    int rc;

    if (!m || !m->priv || !v || !v->verify)
        return wb_error_set(WB_E_INVALID, "COSE_Sign1 verify: no message or no verifier");
    if (m->hdr.alg == 0)
        return wb_error_set(WB_E_VERIFY, "COSE_Sign1: no alg (1) in the protected header");
    if (v->alg != m->hdr.alg)
        return wb_error_set(WB_E_VERIFY,
                            "COSE_Sign1: protected alg is %lld (%s) but the key is for "
                            "%lld (%s)",
                            (long long)m->hdr.alg, alg_label(m->hdr.alg),
                            (long long)v->alg, alg_label(v->alg));
    if (m->detached) {
        if (!detached_payload && detached_len > 0)
            return wb_error_set(WB_E_INVALID, "COSE_Sign1: detached payload missing");
        payload = detached_payload;
        payload_len = detached_len;
    } else {
        if (detached_payload)
            return wb_error_set(WB_E_INVALID, "COSE_Sign1: the payload is attached; a "
                                              "detached payload was given too");
        payload = m->payload;
        payload_len = m->payload_len;
    }
    if ((rc = tbs_max(&max, m->protected_len, payload_len)) != 0)
        return rc;
    wb_buf_init(&b, max);
    wb_cose_sig_structure(&b, m->protected_raw, m->protected_len, payload, payload_len);
    if ((rc = wb_buf_error(&b)) != 0) {
        wb_buf_cleanup(&b);
        return rc;
    }
    rc = v->verify(v->ctx, m->signature, m->sig_len, b.data, b.len);
    wb_buf_cleanup(&b);
    if (rc == WB_E_VERIFY)
        return wb_error_prefix(rc, "COSE_Sign1");
    return rc;
}

/* ---- creation ---- */

int wb_cose_sign_tbs(uint8_t *sig, size_t *sig_len, const uint8_t *prot, size_t prot_len,
                     const uint8_t *payload, size_t payload_len,
                     const wb_cose_signer *signer)
{
    size_t max;
    wb_buf b;
    int rc;

    *sig_len = 0;
    if (!signer || !signer->sign)
        return wb_error_set(WB_E_INVALID, "COSE_Sign1: no signer");
    if ((rc = tbs_max(&max, prot_len, payload_len)) != 0)
        return rc;
    wb_buf_init(&b, max);
    wb_cose_sig_structure(&b, prot, prot_len, payload, payload_len);
    if ((rc = wb_buf_error(&b)) != 0) {
        wb_buf_cleanup(&b);
        return rc;
    }
    rc = signer->sign(signer->ctx, sig, sig_len, b.data, b.len);
    wb_buf_cleanup(&b);
    if (rc == 0 && (*sig_len == 0 || *sig_len > WB_SIG_MAX))
        return wb_error_set(WB_E_INTERNAL, "COSE_Sign1: signer returned %zu bytes",
                            *sig_len);
    return rc;
}

int wb_cose_sign1_create(uint8_t **out, size_t *len, const wb_cose_headers *h,
                         const uint8_t *unprotected, size_t unprotected_len,
                         const uint8_t *payload, size_t payload_len, int detached,
                         const wb_cose_signer *signer)
{
    static const uint8_t empty_map[] = {0xa0};
    uint8_t *prot = NULL, sig[WB_SIG_MAX];
    size_t prot_len = 0, sig_len = 0;
    wb_buf b;
    int rc;

    *out = NULL;
    *len = 0;
    if (!signer)
        return wb_error_set(WB_E_INVALID, "COSE_Sign1: no signer");
    if (h->alg == 0)
        return wb_error_set(WB_E_INVALID, "COSE_Sign1: the protected header has no alg");
    if (h->alg != signer->alg)
        return wb_error_set(WB_E_INVALID,
                            "COSE_Sign1: protected alg %lld (%s) but the signer is %lld "
                            "(%s)",
                            (long long)h->alg, alg_label(h->alg), (long long)signer->alg,
                            alg_label(signer->alg));
    if (!payload && payload_len > 0)
        return wb_error_set(WB_E_INVALID, "COSE_Sign1: payload missing");
    if (unprotected) {
        /* the caller's map must be one strict CBOR map */
        cbor_item_t *u = NULL;
        if ((rc = wb_cbor_load(&u, unprotected, unprotected_len, WB_COSE_MAX,
                               "COSE_Sign1: unprotected header")) != 0)
            return rc;
        rc = cbor_isa_map(u) ? 0
                             : wb_error_set(WB_E_INVALID,
                                            "COSE_Sign1: unprotected header is %s, want "
                                            "a map",
                                            wb_cbor_type_name(u));
        cbor_decref(&u);
        if (rc)
            return rc;
    } else {
        unprotected = empty_map;
        unprotected_len = sizeof(empty_map);
    }
    if ((rc = wb_cose_protected_encode(&prot, &prot_len, h)) != 0)
        return rc;
    if ((rc = wb_cose_sign_tbs(sig, &sig_len, prot, prot_len, payload, payload_len,
                               signer)) != 0) {
        free(prot);
        return rc;
    }
    wb_buf_init(&b, WB_COSE_MAX);
    wb_cbor_put_head(&b, WB_CBOR_TAG, WB_CBOR_TAG_SIGN1);
    wb_cbor_put_head(&b, WB_CBOR_ARRAY, 4);
    wb_cbor_put_bytes(&b, prot, prot_len);
    wb_buf_add(&b, unprotected, unprotected_len);
    if (detached)
        wb_cbor_put_nil(&b);
    else
        wb_cbor_put_bytes(&b, payload, payload_len);
    wb_cbor_put_bytes(&b, sig, sig_len);
    free(prot);
    rc = wb_buf_finish(&b, out, len);
    if (rc)
        return wb_error_prefix(rc, "COSE_Sign1");
    return 0;
}
