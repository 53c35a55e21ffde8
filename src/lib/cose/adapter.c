/*
 * adapter.c: the crypto adapter of the COSE module. COSE code signs and
 * verifies only through wb_cose_signer / wb_cose_verifier; this file makes
 * them from a wb_key (waybill/crypto.h), whose raw r‖s ECDSA form is the
 * one COSE uses (RFC 9053 §2.1). An HSM or TPM key would be one more pair
 * of functions like these.
 *
 * Algorithm numbers are the IANA "COSE Algorithms" values of RFC 9053:
 * ES256 -7 (P-256 + SHA-256), ES384 -35 (P-384 + SHA-384), EdDSA -8
 * (waybill signs pure Ed25519 under it).
 */
#include "cose_int.h"

#include "waybill/error.h"

#include <string.h>

int64_t wb_cose_alg_from_wb(wb_alg alg)
{
    switch (alg) {
    case WB_ALG_ES256: return WB_COSE_ALG_ES256;
    case WB_ALG_ES384: return WB_COSE_ALG_ES384;
    case WB_ALG_ED25519: return WB_COSE_ALG_EDDSA;
    default: return 0;
    }
}

wb_alg wb_cose_alg_to_wb(int64_t cose_alg)
{
    switch (cose_alg) {
    case WB_COSE_ALG_ES256: return WB_ALG_ES256;
    case WB_COSE_ALG_ES384: return WB_ALG_ES384;
    case WB_COSE_ALG_EDDSA: return WB_ALG_ED25519;
    default: return WB_ALG_NONE;
    }
}

static int key_sign(void *ctx, uint8_t *sig, size_t *sig_len, const uint8_t *tbs,
                    size_t tbs_len)
{
    return wb_key_sign(ctx, sig, sig_len, tbs, tbs_len);
}

static int key_verify(void *ctx, const uint8_t *sig, size_t sig_len, const uint8_t *tbs,
                      size_t tbs_len)
{
    int rc = wb_key_verify(ctx, sig, sig_len, tbs, tbs_len);
    /* a malformed r‖s is a signature that does not verify */
    return rc == WB_E_INVALID ? WB_E_VERIFY : rc;
}

/* the key is only read; ctx is void * to fit every adapter */
static void *key_ctx(const wb_key *key)
{
    void *ctx;
    memcpy(&ctx, &key, sizeof(ctx));
    return ctx;
}

int wb_cose_signer_for_key(wb_cose_signer *out, const wb_key *key)
{
    memset(out, 0, sizeof(*out));
    if (!key)
        return wb_error_set(WB_E_INVALID, "COSE signer: no key");
    if (!wb_key_is_private(key))
        return wb_error_set(WB_E_INVALID, "COSE signer: the %s key is public",
                            wb_alg_name(wb_key_alg(key)));
    out->alg = wb_cose_alg_from_wb(wb_key_alg(key));
    if (out->alg == 0)
        return wb_error_set(WB_E_INVALID, "COSE signer: no COSE algorithm for the key");
    out->sign = key_sign;
    out->ctx = key_ctx(key);
    return 0;
}

int wb_cose_verifier_for_key(wb_cose_verifier *out, const wb_key *key)
{
    memset(out, 0, sizeof(*out));
    if (!key)
        return wb_error_set(WB_E_INVALID, "COSE verifier: no key");
    out->alg = wb_cose_alg_from_wb(wb_key_alg(key));
    if (out->alg == 0)
        return wb_error_set(WB_E_INVALID, "COSE verifier: no COSE algorithm for the key");
    out->verify = key_verify;
    out->ctx = key_ctx(key);
    return 0;
}
