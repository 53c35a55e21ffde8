/*
 * waybill/identity.h: device identities from real root-of-trust certificates.
 *
 * A supplier's manifest carries, per device, the certificate chain of the
 * device's root of trust (RoT): the leaf is the device's identity
 * certificate (an SPDM responder certificate, a TPM endorsement key (EK)
 * certificate, a Caliptra DICE certificate), then the intermediates, as DER.
 * The device id is the lowercase hex SHA-256 of the leaf's
 * SubjectPublicKeyInfo DER (DESIGN.md "Provenance model"), and the chain
 * must validate to one of the CA certificates the supplier registered.
 *
 *   wb_identity_load       whatever a supplier or a TPM vendor publishes
 *                          (DER, PEM, concatenated DER, a TPM NV blob)
 *                          -> a list of DER certificates, in input order;
 *   wb_identity_device_id  the device id of a leaf certificate;
 *   wb_identity_verify     the chain validates to one of the CAs -> the id.
 *
 * Chains are leaf first. Note that SPDM certificate chains (and libspdm's
 * .certchain.der bundles) are root first: reverse them before verifying.
 * A chain whose leaf is itself one of the CAs (or has a CA's key) is refused,
 * which catches a root-first chain passed the wrong way round.
 *
 * Validity periods are not checked: see identity.c for why.
 */
#ifndef WAYBILL_IDENTITY_H
#define WAYBILL_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#define WB_IDENTITY_BLOB_MAX (1u << 20) /* bytes of one input to wb_identity_load */
#define WB_IDENTITY_CERT_MAX 65536      /* bytes of one DER certificate */
#define WB_IDENTITY_CERTS_MAX 16        /* certificates in one blob or one chain */
#define WB_IDENTITY_CAS_MAX 256         /* CA certificates given to wb_identity_verify */
#define WB_IDENTITY_ID_HEX 64           /* hex digits of a device id */

/*
 * wb_identity_load turns data into a list of DER X.509 certificates, in the
 * order they appear. Accepted, detected by content (never by file name):
 *   - one DER certificate;
 *   - concatenated DER certificates (libspdm .certchain.der bundles), split
 *     by each outer SEQUENCE length, with nothing between or after them;
 *   - PEM text with one or more "CERTIFICATE" blocks: line wrapping, CRLF,
 *     a single unwrapped base64 line, a missing final newline and an
 *     END line glued to the next BEGIN line are all fine; text outside the
 *     blocks is ignored; a block of any other type is refused;
 *   - a TPM NV blob: a TCG PC Client stored-certificate header (7 bytes,
 *     see identity.c) then one DER certificate whose length must equal the
 *     header's, then optional padding; or one DER certificate followed by
 *     padding. Padding is a run of one byte value, 0x00, 0x11 or 0xff.
 * Each certificate must parse as X.509 (a CSR or an attribute certificate
 * is refused, and said to be one). Limits: WB_IDENTITY_BLOB_MAX input bytes,
 * WB_IDENTITY_CERT_MAX bytes per certificate, WB_IDENTITY_CERTS_MAX
 * certificates.
 *
 * On success *der is a malloc'd array of *n malloc'd buffers with their
 * lengths in *len (free with wb_identity_free), and what (if not NULL, of
 * what_cap bytes) gets a short NUL-terminated description of what was found
 * ("TPM NV blob: header 10 01 00 04 64 10 02, ..."). On failure *der, *len
 * and *n are NULL/0 and the error message says what was wrong and where:
 * WB_E_INVALID, or WB_E_LIMIT for a limit.
 */
int wb_identity_load(uint8_t ***der, size_t **len, size_t *n, const uint8_t *data,
                     size_t data_len, char *what, size_t what_cap);

/* wb_identity_free frees what wb_identity_load returned; NULL is fine. */
void wb_identity_free(uint8_t **der, size_t *len, size_t n);

/*
 * wb_identity_device_id writes the device id of a DER certificate: the
 * lowercase hex SHA-256 of its SubjectPublicKeyInfo DER, NUL-terminated.
 * Any key OpenSSL can load works (EC, RSA, EdDSA). A key OpenSSL cannot load
 * is refused with a message naming the algorithm, e.g. the rsaesOaep key of
 * a TPM 1.2 EK, or ML-DSA under OpenSSL 3.0: a key nobody can use for a
 * signature or an attestation is no identity. WB_E_INVALID.
 */
int wb_identity_device_id(char out[WB_IDENTITY_ID_HEX + 1], const uint8_t *leaf,
                          size_t len);

/*
 * wb_identity_verify checks that chain[0..n) (DER, leaf first, then
 * intermediates in any order) validates with OpenSSL to one of the CA
 * certificates cas[0..ncas) (DER; each may be a root or an intermediate),
 * and writes the leaf's device id. What is checked: every signature on the
 * path, name chaining, CA basic constraints and key usage, path lengths,
 * critical extensions. What is not: validity periods, strict RFC 5280
 * profile rules (see identity.c). Chains with an algorithm OpenSSL cannot
 * handle are refused with a message naming it.
 *
 * Returns 0, WB_E_INVALID if a certificate does not parse, WB_E_LIMIT over
 * a limit, or WB_E_VERIFY with the reason (OpenSSL's, with the depth and
 * the certificate) if the chain does not validate. device_id is written
 * only on success.
 */
int wb_identity_verify(char device_id[WB_IDENTITY_ID_HEX + 1],
                       const uint8_t *const *chain, const size_t *chain_len, size_t n,
                       const uint8_t *const *cas, const size_t *ca_len, size_t ncas);

#endif
