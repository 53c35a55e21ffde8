/*
 * x509_link.c: one link of a certificate chain, on its own: was this
 * certificate issued by the holder of that one's key?
 *
 * DICE-style devices (TCG DICE Layering Architecture; the SPDM alias
 * certificate model) certify a fresh attestation ("alias") key with their
 * device identity key. The identity certificate is often an end-entity
 * certificate (CA:FALSE, no keyCertSign): a real RFC 5280 path validator
 * would refuse the link, yet the link is exactly what the device vouches
 * for. So this checks the two things that make the link and nothing else:
 * the child's issuer name is the parent's subject name (RFC 5280 §7.1, as
 * OpenSSL compares names: canonical encoding), and the child's signature
 * verifies with the parent's public key. Path rules (basic constraints,
 * key usage, path length, validity) are the caller's business; the
 * parent's own chain is validated separately (wb_identity_verify).
 */
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "crypto_int.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#define LINK_CERT_MAX 65536 /* bytes of one DER certificate */
#define NAME_SHOWN 120      /* characters of a name in messages */

/* a DER certificate of exactly len bytes, or NULL */
static X509 *parse_exact(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x;
    if (!der || len == 0 || len > LINK_CERT_MAX)
        return NULL;
    x = d2i_X509(NULL, &p, (long)len);
    if (x && p != der + len) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* "CN=...,O=..." (RFC 2253), "(empty)" for an empty name */
static void name_text(char *out, size_t cap, const X509_NAME *name)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL;
    long n = 0;
    if (b && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0)
        n = BIO_get_mem_data(b, &p);
    if (n > 0)
        snprintf(out, cap, "%.*s", (int)(n < NAME_SHOWN ? n : NAME_SHOWN), p);
    else
        snprintf(out, cap, "(empty)");
    BIO_free(b);
    ERR_clear_error();
}

int wb_x509_issued_by(const uint8_t *child_der, size_t child_len, const uint8_t *parent_der,
                      size_t parent_len)
{
    X509 *child = parse_exact(child_der, child_len);
    X509 *parent = parse_exact(parent_der, parent_len);
    EVP_PKEY *pk;
    char a[NAME_SHOWN + 8], b[NAME_SHOWN + 8];
    int rc = 0;

    if (!child || !parent) {
        X509_free(child);
        X509_free(parent);
        ERR_clear_error();
        return wb_error_set(WB_E_INVALID, "%s certificate is not one DER X.509 certificate "
                            "of at most %d bytes", !child ? "the issued" : "the issuer's",
                            LINK_CERT_MAX);
    }
    if (X509_NAME_cmp(X509_get_issuer_name(child), X509_get_subject_name(parent)) != 0) {
        name_text(a, sizeof(a), X509_get_issuer_name(child));
        name_text(b, sizeof(b), X509_get_subject_name(parent));
        rc = wb_error_set(WB_E_VERIFY, "its issuer name '%s' is not the subject name '%s'",
                          a, b);
    } else if (!(pk = X509_get0_pubkey(parent))) {
        rc = wb_crypto_ossl_fail(WB_E_VERIFY, "the issuer's public key cannot be read");
    } else if (X509_verify(child, pk) != 1) {
        rc = wb_crypto_ossl_fail(WB_E_VERIFY, "its signature does not verify with the "
                                 "issuer's public key");
    }
    X509_free(child);
    X509_free(parent);
    ERR_clear_error();
    return rc;
}
