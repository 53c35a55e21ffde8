/*
 * x509_issue.c: making X.509 v3 certificates (RFC 5280) with OpenSSL, for
 * the simulator and the tests: supplier CAs and device RoT identities whose
 * chains the ledger then checks exactly as it checks real ones, and TLS
 * server and client certificates (RFC 5280 §4.2.1.6 subjectAltName,
 * §4.2.1.12 extKeyUsage) for the TLS tests.
 */
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "crypto_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return 0;
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return 1;
}

/* san and eku in OpenSSL's configuration syntax ("IP:127.0.0.1,DNS:localhost",
 * "serverAuth"), or NULL */
static int issue(uint8_t **der, size_t *len, const wb_key *subject_key, const char *cn,
                 const char *org, const wb_key *issuer_key, const uint8_t *issuer_der,
                 size_t issuer_len, int is_ca, uint64_t serial, int days, const char *san,
                 const char *eku)
{
    X509 *cert = X509_new(), *issuer = NULL;
    X509_NAME *name;
    const EVP_MD *md = NULL;
    unsigned char *out = NULL;
    int n, rc = 0;

    if (!cert)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    if (issuer_der) {
        const unsigned char *p = issuer_der;
        if (issuer_len > LONG_MAX || !(issuer = d2i_X509(NULL, &p, (long)issuer_len))) {
            X509_free(cert);
            return wb_crypto_ossl_fail(WB_E_INVALID, "issuer certificate");
        }
    }
    switch (wb_key_alg(issuer_key)) {
    case WB_ALG_ES256:
        md = EVP_sha256();
        break;
    case WB_ALG_ES384:
        md = EVP_sha384();
        break;
    default:
        md = NULL; /* Ed25519 signs without a separate digest */
    }
    X509_set_version(cert, X509_VERSION_3);
    ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert), serial);
    X509_gmtime_adj(X509_getm_notBefore(cert), -86400L);
    X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 86400L);
    name = X509_get_subject_name(cert);
    if (org)
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)org, -1,
                                   -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                               0);
    X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
    if (X509_set_pubkey(cert, wb_crypto_key_pkey(subject_key)) != 1)
        rc = wb_crypto_ossl_fail(WB_E_CRYPTO, "certificate public key");
    if (rc == 0 &&
        (!add_ext(cert, issuer ? issuer : cert, NID_basic_constraints,
                  is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE") ||
         !add_ext(cert, issuer ? issuer : cert, NID_key_usage,
                  is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") ||
         !add_ext(cert, issuer ? issuer : cert, NID_subject_key_identifier, "hash") ||
         (issuer && !add_ext(cert, issuer, NID_authority_key_identifier, "keyid:always")) ||
         (san && !add_ext(cert, issuer ? issuer : cert, NID_subject_alt_name, san)) ||
         (eku && !add_ext(cert, issuer ? issuer : cert, NID_ext_key_usage, eku))))
        rc = wb_crypto_ossl_fail(WB_E_CRYPTO, "certificate extensions");
    if (rc == 0 && X509_sign(cert, wb_crypto_key_pkey(issuer_key), md) <= 0)
        rc = wb_crypto_ossl_fail(WB_E_CRYPTO, "certificate signature");
    if (rc == 0) {
        n = i2d_X509(cert, &out);
        if (n <= 0)
            rc = wb_crypto_ossl_fail(WB_E_CRYPTO, "certificate encoding");
        else if (!(*der = malloc((size_t)n)))
            rc = wb_error_set(WB_E_NOMEM, "out of memory");
        else {
            memcpy(*der, out, (size_t)n);
            *len = (size_t)n;
        }
        OPENSSL_free(out);
    }
    X509_free(cert);
    X509_free(issuer);
    return rc;
}

int wb_x509_issue(uint8_t **der, size_t *len, const wb_key *subject_key, const char *cn,
                  const char *org, const wb_key *issuer_key, const uint8_t *issuer_der,
                  size_t issuer_len, int is_ca, uint64_t serial, int days)
{
    return issue(der, len, subject_key, cn, org, issuer_key, issuer_der, issuer_len, is_ca,
                 serial, days, NULL, NULL);
}

int wb_x509_issue_tls(uint8_t **der, size_t *len, const wb_key *subject_key, const char *cn,
                      const wb_key *issuer_key, const uint8_t *issuer_der, size_t issuer_len,
                      uint64_t serial, int days, const char *san, int client)
{
    if (!issuer_der)
        return wb_error_set(WB_E_INVALID, "a TLS certificate needs an issuing CA");
    return issue(der, len, subject_key, cn, NULL, issuer_key, issuer_der, issuer_len, 0,
                 serial, days, san, client ? "clientAuth" : "serverAuth");
}

int wb_x509_der_to_pem(char **pem, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x;
    BIO *bio;
    char *data;
    long n;
    int rc = 0;
    if (len > LONG_MAX || !(x = d2i_X509(NULL, &p, (long)len)))
        return wb_crypto_ossl_fail(WB_E_INVALID, "certificate");
    bio = BIO_new(BIO_s_mem());
    if (!bio || PEM_write_bio_X509(bio, x) != 1) {
        rc = wb_crypto_ossl_fail(WB_E_CRYPTO, "PEM encoding");
    } else {
        n = BIO_get_mem_data(bio, &data);
        *pem = malloc((size_t)n + 1);
        if (!*pem)
            rc = wb_error_set(WB_E_NOMEM, "out of memory");
        else {
            memcpy(*pem, data, (size_t)n);
            (*pem)[n] = '\0';
        }
    }
    BIO_free(bio);
    X509_free(x);
    return rc;
}
