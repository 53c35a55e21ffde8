/*
 * safe_cose.c: COSE_Sign (RFC 9052 §4.1, CBOR tag 98), the multi-signer
 * COSE structure in which OCP SAFE reviewers may wrap a CoRIM report:
 *
 *   COSE_Sign = [ protected: bstr, unprotected: map, payload: bstr,
 *                 signatures: [+ COSE_Signature] ]
 *   COSE_Signature = [ protected: bstr, unprotected: map, signature: bstr ]
 *
 * Each signature covers (§4.4) the Sig_structure
 *   [ "Signature", body_protected, sign_protected, external_aad = h'', payload ]
 * encoded as deterministic CBOR.
 *
 * What the real file (Microsoft HSM, signed by Tetrel) has, and how it is
 * handled:
 *   - both protected headers are empty byte strings and no header anywhere
 *     carries alg (label 1). With no alg, the algorithm is the one the
 *     reviewer key's curve implies (P-521 -> ES512, P-384 -> ES384, P-256 ->
 *     ES256). That opens no downgrade: each curve has exactly one hash here,
 *     so the key, which the verifier chose, fixes the algorithm. The report
 *     records it as the WB_SAFE_Q_NO_ALG quirk. When alg is present (in the
 *     signer's protected or unprotected header, not both) it must be ES256
 *     (-7), ES384 (-35) or ES512 (-36) and match the key's curve.
 *   - the signer's kid (4) is in the unprotected header, a bstr of ASCII
 *     text. It is not signed (nothing in an unprotected header is), so it is
 *     kept only to be shown and never selects or trusts a key.
 *   - crit (2) anywhere is refused: no extension is implemented.
 * The payload must be attached (a detached one is refused) and is the CoRIM
 * (safe_corim.c). The whole object goes through the strict CBOR loader
 * (no indefinite lengths, no duplicate map keys, nothing trailing).
 */
#include "safe_int.h"

#include "cose/cose_int.h"
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/util.h"

#include <stdio.h>
#include <string.h>

#define TAG_COSE_SIGN 98
#define COSE_ALG_ES512 (-36)

static const char *jose_of_cose(int64_t alg)
{
    switch (alg) {
    case WB_COSE_ALG_ES256: return "ES256";
    case WB_COSE_ALG_ES384: return "ES384";
    case COSE_ALG_ES512: return "ES512";
    default: return NULL;
    }
}

/* kid as text for messages and the report: printable ASCII as is (cut to
 * fit), anything else described */
static void kid_text(char *out, size_t cap, const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] > 0x7e)
            break;
    if (i == n) {
        size_t m = n < cap - 1 ? n : cap - 1;
        memcpy(out, p, m);
        out[m] = '\0';
    } else {
        snprintf(out, cap, "(%zu bytes, not text)", n);
    }
}

/*
 * header_labels reads alg (1), crit (2) and kid (4) from a header map,
 * ignoring the labels it does not use (RFC 9052 §3: unknown labels that are
 * not critical are ignored).
 */
static int header_labels(const cbor_item_t *map, int64_t *alg, char *kid, size_t kid_cap,
                         const char *what)
{
    cbor_item_t *a, *k;

    if (!cbor_isa_map(map))
        return wb_error_set(WB_E_INVALID, "%s is %s, want a map", what,
                            wb_cbor_type_name(map));
    if (wb_cbor_map_get_int(map, WB_COSE_HDR_CRIT))
        return wb_error_set(WB_E_INVALID,
                            "%s: crit (2) names extensions this verifier does not "
                            "implement",
                            what);
    a = wb_cbor_map_get_int(map, WB_COSE_HDR_ALG);
    if (a) {
        if (*alg != 0)
            return wb_error_set(WB_E_INVALID,
                                "%s: alg (1) is in both the protected and the "
                                "unprotected header",
                                what);
        if (!wb_cbor_int64(a, alg) || !jose_of_cose(*alg))
            return wb_error_set(WB_E_INVALID,
                                "%s: alg (1) is not ES256 (-7), ES384 (-35) or ES512 (-36)",
                                what);
    }
    k = wb_cbor_map_get_int(map, WB_COSE_HDR_KID);
    if (k && kid) {
        if (cbor_isa_bytestring(k))
            kid_text(kid, kid_cap, wb_cbor_bytes(k), cbor_bytestring_length(k));
        else if (cbor_isa_string(k))
            kid_text(kid, kid_cap, cbor_string_handle(k), cbor_string_length(k));
        else
            return wb_error_set(WB_E_INVALID, "%s: kid (4) is %s, want a byte string", what,
                                wb_cbor_type_name(k));
    }
    return 0;
}

/* a protected header: an empty bstr, or a bstr holding a map */
static int protected_labels(const cbor_item_t *b, int64_t *alg, char *kid, size_t kid_cap,
                            const char *what)
{
    cbor_item_t *map;
    int rc;

    if (!cbor_isa_bytestring(b))
        return wb_error_set(WB_E_INVALID, "%s is %s, want a byte string", what,
                            wb_cbor_type_name(b));
    if (cbor_bytestring_length(b) == 0)
        return 0;
    if ((rc = wb_cbor_load(&map, wb_cbor_bytes(b), cbor_bytestring_length(b),
                           cbor_bytestring_length(b), what)) != 0)
        return rc;
    rc = header_labels(map, alg, kid, kid_cap, what);
    cbor_decref(&map);
    return rc;
}

int wb_safe_cose_decode(wb_safe_cose *c, const uint8_t *data, size_t len)
{
    cbor_item_t *arr, **e, **sigs;
    int64_t body_alg = 0;
    size_t n;
    int rc;

    memset(c, 0, sizeof(*c));
    if ((rc = wb_cbor_load(&c->root, data, len, WB_SAFE_REPORT_MAX, "COSE_Sign")) != 0)
        return rc;
    if (!cbor_isa_tag(c->root)) {
        rc = wb_error_set(WB_E_INVALID, "COSE_Sign: is %s, want tag 98",
                          wb_cbor_type_name(c->root));
        goto fail;
    }
    if (cbor_tag_value(c->root) != TAG_COSE_SIGN) {
        rc = wb_error_set(WB_E_INVALID, "COSE_Sign: tag %llu%s, want 98 (COSE_Sign)",
                          (unsigned long long)cbor_tag_value(c->root),
                          cbor_tag_value(c->root) == WB_CBOR_TAG_SIGN1 ? " (COSE_Sign1)" : "");
        goto fail;
    }
    arr = wb_cbor_tag_inner(c->root);
    if (!cbor_isa_array(arr) || cbor_array_size(arr) != 4) {
        rc = wb_error_set(WB_E_INVALID, "COSE_Sign: want an array of 4");
        goto fail;
    }
    e = cbor_array_handle(arr);
    if ((rc = protected_labels(e[0], &body_alg, NULL, 0, "COSE_Sign: body protected header")) !=
            0 ||
        (rc = header_labels(e[1], &body_alg, NULL, 0, "COSE_Sign: body unprotected header")) !=
            0)
        goto fail;
    c->body_prot = wb_cbor_bytes(e[0]);
    c->body_prot_len = cbor_bytestring_length(e[0]);
    if (wb_cbor_is_nil(e[2])) {
        rc = wb_error_set(WB_E_INVALID, "COSE_Sign: the payload is detached; the report must "
                                        "be attached");
        goto fail;
    }
    if (!cbor_isa_bytestring(e[2])) {
        rc = wb_error_set(WB_E_INVALID, "COSE_Sign: payload is %s, want a byte string",
                          wb_cbor_type_name(e[2]));
        goto fail;
    }
    c->payload = wb_cbor_bytes(e[2]);
    c->payload_len = cbor_bytestring_length(e[2]);
    if (!cbor_isa_array(e[3]) || cbor_array_size(e[3]) == 0) {
        rc = wb_error_set(WB_E_INVALID, "COSE_Sign: signatures must be a non-empty array");
        goto fail;
    }
    n = cbor_array_size(e[3]);
    if (n > WB_SAFE_SIGNERS_MAX) {
        rc = wb_error_set(WB_E_LIMIT, "COSE_Sign: %zu signatures, over the %d limit", n,
                          WB_SAFE_SIGNERS_MAX);
        goto fail;
    }
    sigs = cbor_array_handle(e[3]);
    for (size_t i = 0; i < n; i++) {
        wb_safe_cose_signer *s = &c->signers[i];
        cbor_item_t **f;
        char what[64];

        snprintf(what, sizeof(what), "COSE_Sign: signature %zu", i);
        if (!cbor_isa_array(sigs[i]) || cbor_array_size(sigs[i]) != 3) {
            rc = wb_error_set(WB_E_INVALID, "%s: want an array of 3", what);
            goto fail;
        }
        f = cbor_array_handle(sigs[i]);
        snprintf(what, sizeof(what), "COSE_Sign: signature %zu protected header", i);
        if ((rc = protected_labels(f[0], &s->alg, s->kid, sizeof(s->kid), what)) != 0)
            goto fail;
        snprintf(what, sizeof(what), "COSE_Sign: signature %zu unprotected header", i);
        if ((rc = header_labels(f[1], &s->alg, s->kid, sizeof(s->kid), what)) != 0)
            goto fail;
        if (!cbor_isa_bytestring(f[2])) {
            rc = wb_error_set(WB_E_INVALID, "COSE_Sign: signature %zu is %s, want a byte "
                                            "string",
                              i, wb_cbor_type_name(f[2]));
            goto fail;
        }
        s->prot = wb_cbor_bytes(f[0]);
        s->prot_len = cbor_bytestring_length(f[0]);
        s->sig = wb_cbor_bytes(f[2]);
        s->sig_len = cbor_bytestring_length(f[2]);
        c->nsigners = i + 1;
    }
    return 0;
fail:
    wb_safe_cose_cleanup(c);
    return rc;
}

void wb_safe_cose_cleanup(wb_safe_cose *c)
{
    if (!c)
        return;
    if (c->root)
        cbor_decref(&c->root);
    memset(c, 0, sizeof(*c));
}

int wb_safe_cose_verify(const wb_safe_cose *c, const wb_safe_key *keys, size_t nkeys,
                        size_t *key_index, size_t *signer_index, const char **alg,
                        unsigned *quirks)
{
    size_t tried = 0;
    wb_buf b;
    int rc;

    for (size_t s = 0; s < c->nsigners; s++) {
        const wb_safe_cose_signer *sg = &c->signers[s];
        static const char ctx[] = "Signature";

        wb_buf_init(&b, c->payload_len + c->body_prot_len + sg->prot_len + 64);
        wb_cbor_put_head(&b, WB_CBOR_ARRAY, 5);
        wb_cbor_put_text(&b, ctx, sizeof(ctx) - 1);
        wb_cbor_put_bytes(&b, c->body_prot, c->body_prot_len);
        wb_cbor_put_bytes(&b, sg->prot, sg->prot_len);
        wb_cbor_put_bytes(&b, NULL, 0); /* external_aad */
        wb_cbor_put_bytes(&b, c->payload, c->payload_len);
        if ((rc = wb_buf_error(&b)) != 0) {
            wb_buf_cleanup(&b);
            return rc;
        }
        for (size_t k = 0; k < nkeys; k++) {
            const char *a = sg->alg ? jose_of_cose(sg->alg) : keys[k].alg;
            if (strcmp(a, keys[k].alg) != 0)
                continue; /* a key of another curve cannot have made it */
            tried++;
            rc = wb_spki_verify(keys[k].der, keys[k].len, a, sg->sig, sg->sig_len, b.data,
                                b.len);
            if (rc == 0) {
                wb_buf_cleanup(&b);
                *key_index = k;
                *signer_index = s;
                *alg = a;
                if (!sg->alg)
                    *quirks |= WB_SAFE_Q_NO_ALG;
                return 0;
            }
            if (rc != WB_E_VERIFY) {
                wb_buf_cleanup(&b);
                return wb_error_prefix(rc, "reviewer key %zu", k + 1);
            }
        }
        wb_buf_cleanup(&b);
    }
    if (tried == 0)
        return wb_error_set(WB_E_VERIFY,
                            "COSE_Sign (kid \"%s\"): none of the %zu reviewer keys is of "
                            "the signature's algorithm",
                            c->signers[0].kid, nkeys);
    return wb_error_set(WB_E_VERIFY,
                        "COSE_Sign (kid \"%s\"%s): no signature verifies with the %zu "
                        "reviewer key%s",
                        c->signers[0].kid, c->nsigners > 1 ? ", ..." : "", nkeys,
                        nkeys == 1 ? "" : "s");
}
