/*
 * x509_chain.c: X.509 certification path validation (RFC 5280 §6) for
 * x5chain (RFC 9360) statements, done by OpenSSL's verifier against a set
 * of trust anchors named in the configuration.
 *
 * Anchors may be roots or intermediates: X509_V_FLAG_PARTIAL_CHAIN lets a
 * path end at any trusted certificate, so an operator can trust a supplier's
 * issuing CA without trusting everything its root signed. Strict mode is not
 * forced: real supplier chains (e.g. libspdm's samples) have non-critical
 * basicConstraints that X509_V_FLAG_X509_STRICT rejects.
 */
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "crypto_int.h"

#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

struct wb_x509_anchors {
    X509_STORE *store;
    size_t count;
};

void wb_x509_anchors_free(wb_x509_anchors *a)
{
    if (!a)
        return;
    X509_STORE_free(a->store);
    free(a);
}

static int load_file(wb_x509_anchors *a, const char *path)
{
    BIO *bio = BIO_new_file(path, "r");
    X509 *cert;
    size_t before = a->count;
    if (!bio)
        return wb_crypto_ossl_fail(WB_E_NOTFOUND, path);
    while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (X509_STORE_add_cert(a->store, cert) != 1) {
            X509_free(cert);
            BIO_free(bio);
            return wb_crypto_ossl_fail(WB_E_INVALID, path);
        }
        X509_free(cert);
        a->count++;
    }
    BIO_free(bio);
    ERR_clear_error(); /* the read that ended the loop */
    if (a->count == before)
        return wb_error_set(WB_E_INVALID, "%s: no PEM certificate found", path);
    return 0;
}

int wb_x509_anchors_load(wb_x509_anchors **out, const char *const *files, size_t n)
{
    wb_x509_anchors *a = calloc(1, sizeof(*a));
    int rc = 0;
    if (!a || !(a->store = X509_STORE_new())) {
        free(a);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = load_file(a, files[i]);
    if (rc) {
        wb_x509_anchors_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

static X509 *parse_der(const uint8_t *der, size_t len);

int wb_x509_anchors_from_der(wb_x509_anchors **out, const uint8_t *const *der,
                             const size_t *len, size_t n)
{
    wb_x509_anchors *a = calloc(1, sizeof(*a));
    if (!a || !(a->store = X509_STORE_new())) {
        free(a);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        X509 *c = parse_der(der[i], len[i]);
        if (!c || X509_STORE_add_cert(a->store, c) != 1) {
            X509_free(c);
            wb_x509_anchors_free(a);
            ERR_clear_error();
            return wb_error_set(WB_E_INVALID, "trust anchor %zu is not a DER certificate", i);
        }
        X509_free(c);
        a->count++;
    }
    *out = a;
    return 0;
}

static X509 *parse_der(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x;
    if (len > LONG_MAX)
        return NULL;
    x = d2i_X509(NULL, &p, (long)len);
    if (x && p != der + len) { /* trailing bytes */
        X509_free(x);
        return NULL;
    }
    return x;
}

int wb_x509_chain_verify(const wb_x509_anchors *a, const uint8_t *const *der,
                         const size_t *len, size_t n, int64_t t)
{
    X509 *leaf = NULL;
    STACK_OF(X509) *untrusted = NULL;
    X509_STORE_CTX *ctx = NULL;
    int rc = 0;

    if (!a)
        return wb_error_set(WB_E_VERIFY, "x5chain: no trust anchors configured");
    if (n == 0)
        return wb_error_set(WB_E_INVALID, "x5chain: empty");
    leaf = parse_der(der[0], len[0]);
    if (!leaf) {
        ERR_clear_error();
        return wb_error_set(WB_E_INVALID, "x5chain[0]: not a DER certificate");
    }
    untrusted = sk_X509_new_null();
    ctx = X509_STORE_CTX_new();
    if (!untrusted || !ctx) {
        rc = wb_error_set(WB_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 1; i < n; i++) {
        X509 *c = parse_der(der[i], len[i]);
        if (!c) {
            ERR_clear_error();
            rc = wb_error_set(WB_E_INVALID, "x5chain[%zu]: not a DER certificate", i);
            goto out;
        }
        if (!sk_X509_push(untrusted, c)) {
            X509_free(c);
            rc = wb_error_set(WB_E_NOMEM, "out of memory");
            goto out;
        }
    }
    if (X509_STORE_CTX_init(ctx, a->store, leaf, untrusted) != 1) {
        rc = wb_crypto_ossl_fail(WB_E_CRYPTO, "x5chain: verifier setup");
        goto out;
    }
    X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
    if (t != 0)
        X509_STORE_CTX_set_time(ctx, 0, (time_t)t);
    if (X509_verify_cert(ctx) != 1) {
        int err = X509_STORE_CTX_get_error(ctx);
        rc = wb_error_set(WB_E_VERIFY, "x5chain: certificate at depth %d: %s",
                          X509_STORE_CTX_get_error_depth(ctx),
                          X509_verify_cert_error_string(err));
        ERR_clear_error();
    }
out:
    X509_STORE_CTX_free(ctx);
    sk_X509_pop_free(untrusted, X509_free);
    X509_free(leaf);
    return rc;
}

void wb_x509_chain_free(uint8_t **der, size_t *len, size_t n)
{
    for (size_t i = 0; der && i < n; i++)
        free(der[i]);
    free(der);
    free(len);
}

int wb_x509_pem_chain(uint8_t ***der_out, size_t **len_out, size_t *n_out,
                      const char *path)
{
    BIO *bio = BIO_new_file(path, "r");
    uint8_t **der = NULL;
    size_t *len = NULL, n = 0;
    X509 *cert;
    int rc = 0;
    if (!bio)
        return wb_crypto_ossl_fail(WB_E_NOTFOUND, path);
    while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        unsigned char *p = NULL;
        int k = i2d_X509(cert, &p);
        uint8_t **d2 = realloc(der, (n + 1) * sizeof(*der));
        size_t *l2 = d2 ? realloc(len, (n + 1) * sizeof(*len)) : NULL;
        X509_free(cert);
        if (d2)
            der = d2;
        if (l2)
            len = l2;
        if (k <= 0 || !d2 || !l2) {
            OPENSSL_free(p);
            rc = wb_error_set(WB_E_NOMEM, "%s: cannot encode certificate %zu", path, n);
            break;
        }
        der[n] = malloc((size_t)k);
        if (!der[n]) {
            OPENSSL_free(p);
            rc = wb_error_set(WB_E_NOMEM, "out of memory");
            break;
        }
        memcpy(der[n], p, (size_t)k);
        len[n++] = (size_t)k;
        OPENSSL_free(p);
    }
    BIO_free(bio);
    ERR_clear_error();
    if (rc == 0 && n == 0)
        rc = wb_error_set(WB_E_INVALID, "%s: no PEM certificate found", path);
    if (rc) {
        wb_x509_chain_free(der, len, n);
        return rc;
    }
    *der_out = der;
    *len_out = len;
    *n_out = n;
    return 0;
}
