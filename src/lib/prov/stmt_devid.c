/*
 * stmt_devid.c: the device id of a root-of-trust certificate
 * (docs/statements.md "Device ids"): the lowercase hex SHA-256 of the
 * certificate's SubjectPublicKeyInfo, DER-encoded (RFC 5280 §4.1.2.7).
 *
 * The key is hashed, never loaded: a TPM EK is RSA, and a TPM 1.2 EK's key
 * is even an rsaesOaep SPKI that OpenSSL 3 cannot load at all, yet each
 * still has one well-defined id. So this goes straight from the parsed
 * certificate to the SPKI bytes (OpenSSL re-encodes the SPKI it read, which
 * for DER input gives back the same bytes), not through wb_key. The input
 * must be exactly one DER certificate: a TCG NV header or padding around it
 * is the caller's to strip.
 */
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/prov.h"
#include "waybill/util.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>

int wb_device_id_of_cert(wb_device_id out, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    unsigned char *spki = NULL;
    uint8_t hash[WB_SHA256_LEN];
    X509 *cert;
    int n, rc;

    out[0] = '\0';
    if (!der || len == 0 || len > WB_PROV_CERT_MAX)
        return wb_error_set(WB_E_INVALID, "certificate of %zu bytes (1 to %d)", len,
                            WB_PROV_CERT_MAX);
    cert = d2i_X509(NULL, &p, (long)len);
    if (!cert) {
        ERR_clear_error();
        return wb_error_set(WB_E_INVALID, "not a DER X.509 certificate");
    }
    if (p != der + len) {
        X509_free(cert);
        return wb_error_set(WB_E_INVALID,
                            "certificate followed by %zu bytes that are not part of it",
                            (size_t)(der + len - p));
    }
    n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &spki);
    X509_free(cert);
    if (n <= 0) {
        ERR_clear_error();
        return wb_error_set(WB_E_INVALID, "certificate has no encodable public key");
    }
    rc = wb_sha256(hash, spki, (size_t)n);
    OPENSSL_free(spki);
    if (rc)
        return rc;
    wb_hex_encode(out, hash, sizeof(hash));
    return 0;
}
