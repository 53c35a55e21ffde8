/*
 * x509.c: the public key of an X.509 certificate (RFC 5280), for keys that
 * arrive in certificates: an x5chain leaf (RFC 9360) or a transparency
 * service's certificate. Only the key is taken; nothing here validates the
 * certificate (path, time, usage), which is the caller's decision.
 *
 * The certificate is parsed with OpenSSL (strict DER, no trailing bytes);
 * its SubjectPublicKeyInfo is handed to wb_key_from_pem as a "PUBLIC KEY"
 * block, so that the key goes through exactly the same checks (algorithm
 * detection, named curves only) as every other key waybill reads.
 */
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/util.h"
#include "crypto_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#define WB_X509_MAX 65536 /* bytes of one DER certificate */

int wb_key_from_x509_der(wb_key **out, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    unsigned char *spki = NULL;
    X509 *cert;
    wb_buf pem;
    uint8_t *text = NULL;
    size_t text_len = 0;
    int n, rc;

    *out = NULL;
    if (len == 0 || len > WB_X509_MAX)
        return wb_error_set(WB_E_LIMIT, "certificate of %zu bytes (limit %d)", len,
                            WB_X509_MAX);
    cert = d2i_X509(NULL, &p, (long)len);
    if (!cert)
        return wb_crypto_ossl_fail(WB_E_INVALID, "not a DER X.509 certificate");
    if (p != der + len) {
        X509_free(cert);
        return wb_error_set(WB_E_INVALID, "certificate has %zu trailing bytes",
                            (size_t)(der + len - p));
    }
    n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &spki);
    X509_free(cert);
    if (n <= 0)
        return wb_crypto_ossl_fail(WB_E_INVALID, "certificate has no readable public key");

    /* PEM lines of 64 base64 characters (RFC 7468 §2) */
    wb_buf_init(&pem, WB_PEM_MAX);
    wb_buf_add_str(&pem, "-----BEGIN PUBLIC KEY-----\n");
    for (int off = 0; off < n; off += 48) {
        size_t chunk = (size_t)(n - off) < 48 ? (size_t)(n - off) : 48;
        wb_buf_add_base64(&pem, spki + off, chunk);
        wb_buf_add_u8(&pem, '\n');
    }
    wb_buf_add_str(&pem, "-----END PUBLIC KEY-----\n");
    OPENSSL_free(spki);
    if ((rc = wb_buf_finish(&pem, &text, &text_len)) != 0)
        return wb_error_prefix(rc, "certificate public key");
    rc = wb_key_from_pem(out, (const char *)text, text_len);
    free(text);
    if (rc)
        return wb_error_prefix(rc, "certificate");
    return 0;
}
