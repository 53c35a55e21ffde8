/*
 * spki_verify.c: verification of ECDSA signatures made by outside parties
 * (waybill/crypto.h, "verify-only keys"), from the signer's
 * SubjectPublicKeyInfo (RFC 5280 §4.1.2.7, RFC 5480) alone.
 *
 * OCP SAFE security reviewers sign their reports with ECDSA P-521 and
 * SHA-512 (JOSE "ES512", RFC 7518 §3.4; COSE -36, RFC 9053 §2.1). waybill
 * never signs with that curve and deliberately does not hold it as a wb_key:
 * a wb_key is what may be a statement issuer, a device identity or a log
 * key, and each of those is P-256, P-384 or Ed25519. So the reviewers' keys
 * stay SPKI DER here and are only ever used to check a signature.
 *
 * Algorithms by their JOSE names: ES256 (P-256 + SHA-256), ES384 (P-384 +
 * SHA-384), ES512 (P-521 + SHA-512). The key's curve must be the algorithm's
 * curve (RFC 7518 §3.4), the signature is the raw r‖s of JOSE and COSE with
 * each integer left-padded to the coordinate size (32, 48, 66 bytes).
 */
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "crypto_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>

/* the largest DER ECDSA signature: P-521, SEQUENCE { 66-byte r, 66-byte s } */
#define SPKI_ECDSA_DER_MAX 139

typedef struct {
    const char *jose;  /* "ES512" */
    int nid;           /* the curve */
    size_t n;          /* bytes in one coordinate */
    const char *md;    /* OpenSSL digest name */
    const char *curve; /* "P-521", for messages */
} ecdsa_alg;

static const ecdsa_alg ecdsa_algs[] = {
    {"ES256", NID_X9_62_prime256v1, 32, "SHA2-256", "P-256"},
    {"ES384", NID_secp384r1, 48, "SHA2-384", "P-384"},
    {"ES512", NID_secp521r1, 66, "SHA2-512", "P-521"},
};

#define NALGS (sizeof(ecdsa_algs) / sizeof(ecdsa_algs[0]))

static const ecdsa_alg *alg_by_name(const char *jose)
{
    for (size_t i = 0; jose && i < NALGS; i++)
        if (strcmp(ecdsa_algs[i].jose, jose) == 0)
            return &ecdsa_algs[i];
    return NULL;
}

/* decodes spki (exactly, nothing trailing) into an EVP_PKEY */
static int spki_load(EVP_PKEY **out, const uint8_t *spki, size_t len)
{
    const unsigned char *p = spki;
    EVP_PKEY *pkey;

    *out = NULL;
    if (len == 0 || len > WB_PEM_MAX)
        return wb_error_set(WB_E_INVALID, "SubjectPublicKeyInfo is %zu bytes", len);
    pkey = d2i_PUBKEY(NULL, &p, (long)len);
    if (!pkey)
        return wb_crypto_ossl_fail(WB_E_INVALID, "cannot decode the SubjectPublicKeyInfo");
    if (p != spki + len) {
        EVP_PKEY_free(pkey);
        return wb_error_set(WB_E_INVALID, "SubjectPublicKeyInfo has trailing bytes");
    }
    *out = pkey;
    return 0;
}

/* the ECDSA algorithm of pkey's curve */
static int pkey_alg(const ecdsa_alg **out, const EVP_PKEY *pkey)
{
    char name[80];
    int nid, rc;

    *out = NULL;
    if (!EVP_PKEY_is_a(pkey, "EC")) {
        const char *t = EVP_PKEY_get0_type_name(pkey);
        ERR_clear_error();
        return wb_error_set(WB_E_INVALID,
                            "unsupported key type %s: want EC P-256, P-384 or P-521",
                            t ? t : "(unnamed)");
    }
    if ((rc = wb_crypto_ec_curve(pkey, &nid, name, sizeof(name))) != 0)
        return rc;
    for (size_t i = 0; i < NALGS; i++) {
        if (ecdsa_algs[i].nid == nid) {
            *out = &ecdsa_algs[i];
            return 0;
        }
    }
    return wb_error_set(WB_E_INVALID,
                        "unsupported key type: EC curve %s, want P-256, P-384 or P-521",
                        name);
}

int wb_spki_from_pem(uint8_t **der, size_t *len, const char *pem, size_t pem_len)
{
    char *name = NULL;
    unsigned char *data = NULL;
    long dlen = 0;
    EVP_PKEY *pkey = NULL;
    uint8_t *copy;
    int rc;

    *der = NULL;
    *len = 0;
    if ((rc = wb_crypto_pem_read_one(&name, &data, &dlen, pem, pem_len)) != 0)
        return rc;
    if (strcmp(name, "PUBLIC KEY") != 0) {
        rc = wb_error_set(WB_E_INVALID, "PEM block is '%s', want 'PUBLIC KEY'", name);
        goto done;
    }
    /* only to be sure the bytes are one well-formed SPKI */
    if ((rc = spki_load(&pkey, data, (size_t)dlen)) != 0)
        goto done;
    EVP_PKEY_free(pkey);
    copy = malloc((size_t)dlen);
    if (!copy) {
        rc = wb_error_set(WB_E_NOMEM, "out of memory for a %ld-byte key", dlen);
        goto done;
    }
    memcpy(copy, data, (size_t)dlen);
    *der = copy;
    *len = (size_t)dlen;
done:
    OPENSSL_free(name);
    OPENSSL_clear_free(data, dlen > 0 ? (size_t)dlen : 0);
    return rc;
}

int wb_spki_ecdsa_alg(const char **jose_alg, const uint8_t *spki, size_t spki_len)
{
    EVP_PKEY *pkey;
    const ecdsa_alg *a;
    int rc;

    *jose_alg = NULL;
    if ((rc = spki_load(&pkey, spki, spki_len)) != 0)
        return rc;
    rc = pkey_alg(&a, pkey);
    EVP_PKEY_free(pkey);
    if (rc == 0)
        *jose_alg = a->jose;
    return rc;
}

int wb_spki_verify(const uint8_t *spki, size_t spki_len, const char *jose_alg,
                   const uint8_t *sig, size_t sig_len, const void *msg, size_t msg_len)
{
    static const uint8_t empty[1];
    const ecdsa_alg *want = alg_by_name(jose_alg), *have;
    uint8_t der[SPKI_ECDSA_DER_MAX + 16];
    size_t der_len;
    EVP_PKEY *pkey;
    EVP_MD_CTX *mctx;
    int rc;

    if (!want)
        return wb_error_set(WB_E_INVALID, "algorithm '%s' is not ES256, ES384 or ES512",
                            jose_alg ? jose_alg : "(none)");
    if ((rc = spki_load(&pkey, spki, spki_len)) != 0)
        return rc;
    if ((rc = pkey_alg(&have, pkey)) != 0) {
        EVP_PKEY_free(pkey);
        return rc;
    }
    if (have != want) {
        EVP_PKEY_free(pkey);
        return wb_error_set(WB_E_INVALID, "%s needs a %s key, this key is %s", want->jose,
                            want->curve, have->curve);
    }
    if (sig_len != 2 * want->n) {
        EVP_PKEY_free(pkey);
        return wb_error_set(WB_E_VERIFY, "%s signature is %zu bytes, want %zu (r‖s)",
                            want->jose, sig_len, 2 * want->n);
    }
    if (wb_ecdsa_raw_to_der(der, sizeof(der), &der_len, sig, want->n) != 0) {
        EVP_PKEY_free(pkey);
        return wb_error_set(WB_E_VERIFY, "%s signature: %s", want->jose,
                            wb_error_message());
    }
    if (!msg)
        msg = empty;
    mctx = EVP_MD_CTX_new();
    if (!mctx) {
        EVP_PKEY_free(pkey);
        return wb_error_set(WB_E_NOMEM, "out of memory for a verification context");
    }
    if (EVP_DigestVerifyInit_ex(mctx, NULL, want->md, NULL, NULL, pkey, NULL) != 1) {
        EVP_MD_CTX_free(mctx);
        EVP_PKEY_free(pkey);
        return wb_crypto_ossl_fail(WB_E_CRYPTO, "cannot start signature verification");
    }
    rc = EVP_DigestVerify(mctx, der, der_len, msg, msg_len);
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_free(pkey);
    ERR_clear_error(); /* a bad signature leaves reasons queued */
    if (rc != 1)
        return wb_error_set(WB_E_VERIFY, "%s signature does not verify", want->jose);
    return 0;
}
