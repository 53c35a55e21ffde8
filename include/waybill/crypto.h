/*
 * waybill/crypto.h: hashes, signature keys and randomness, over OpenSSL 3
 * libcrypto. Nothing else in waybill calls OpenSSL for these.
 *
 * Algorithms: SHA-256, SHA-384; Ed25519 (RFC 8032, pure), ECDSA P-256 with
 * SHA-256 and ECDSA P-384 with SHA-384 (FIPS 186-4). ECDSA signatures cross
 * this interface in the fixed-size raw form r‖s that COSE uses (RFC 9053
 * §2.1): 64 bytes for P-256, 96 for P-384; wb_ecdsa_der_to_raw and
 * wb_ecdsa_raw_to_der convert from and to the DER form of X.509 and OpenSSL.
 *
 * Keys are opaque wb_key objects, public or private. PEM files are PKCS#8
 * ("PRIVATE KEY") for private keys and SubjectPublicKeyInfo ("PUBLIC KEY")
 * for public keys; private key files are written with mode 0600.
 */
#ifndef WAYBILL_CRYPTO_H
#define WAYBILL_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define WB_SHA256_LEN 32
#define WB_SHA384_LEN 48
#define WB_SIG_MAX 96        /* largest raw signature (ES384 r‖s) */
#define WB_PUBKEY_RAW_MAX 97 /* largest raw public key (P-384 uncompressed) */
#define WB_PEM_MAX 8192      /* largest PEM file we read */

typedef enum {
    WB_ALG_NONE = 0,
    WB_ALG_ED25519 = 1,
    WB_ALG_ES256 = 2, /* ECDSA P-256 + SHA-256 */
    WB_ALG_ES384 = 3, /* ECDSA P-384 + SHA-384 */
} wb_alg;

/* ---- hashes ---- */
int wb_sha256(uint8_t out[WB_SHA256_LEN], const void *data, size_t len);
int wb_sha384(uint8_t out[WB_SHA384_LEN], const void *data, size_t len);

/* Incremental SHA-256 (wraps an EVP_MD_CTX). */
typedef struct wb_sha256_ctx wb_sha256_ctx;
int wb_sha256_new(wb_sha256_ctx **out);
void wb_sha256_free(wb_sha256_ctx *ctx);
int wb_sha256_init(wb_sha256_ctx *ctx);
int wb_sha256_update(wb_sha256_ctx *ctx, const void *data, size_t len);
int wb_sha256_final(wb_sha256_ctx *ctx, uint8_t out[WB_SHA256_LEN]);
/*
 * wb_sha256_prefixed hashes the concatenation a‖b (with an optional one-byte
 * prefix when prefix >= 0) using a per-thread context: the fast path for
 * Merkle leaf and node hashes. Returns 0 or WB_E_CRYPTO (WB_E_INVALID if
 * prefix > 255).
 */
int wb_sha256_prefixed(uint8_t out[WB_SHA256_LEN], int prefix, const void *a,
                       size_t alen, const void *b, size_t blen);

/* ---- randomness ---- */
int wb_random_bytes(void *out, size_t len);

/* ---- keys ---- */
typedef struct wb_key wb_key;

const char *wb_alg_name(wb_alg alg);      /* "Ed25519", "ES256", "ES384" */
wb_alg wb_alg_from_name(const char *name); /* WB_ALG_NONE if unknown */
/* raw signature length for alg (64, 64, 96), 0 if unknown */
size_t wb_alg_sig_len(wb_alg alg);

int wb_key_generate(wb_key **out, wb_alg alg);
void wb_key_free(wb_key *key);
wb_alg wb_key_alg(const wb_key *key);
int wb_key_is_private(const wb_key *key);

/* PEM in memory: PKCS#8 private or SPKI public; alg is detected. */
int wb_key_from_pem(wb_key **out, const char *pem, size_t len);
/* writes PEM text (NUL-terminated, free with free()) */
int wb_key_to_pem(char **out, size_t *len, const wb_key *key, int private_part);
/* files: reading refuses files over WB_PEM_MAX; writing refuses to
 * overwrite (WB_E_EXISTS) and creates private keys with mode 0600 */
int wb_key_read_file(wb_key **out, const char *path);
int wb_key_write_file(const wb_key *key, const char *path, int private_part);

/*
 * Raw public key: Ed25519 32 bytes (RFC 8032), EC uncompressed point
 * 0x04‖X‖Y (65 / 97 bytes). *len is in/out: capacity in, length out.
 */
int wb_key_public_raw(const wb_key *key, uint8_t *out, size_t *len);
int wb_key_from_public_raw(wb_key **out, wb_alg alg, const uint8_t *raw,
                           size_t len);
/* Ed25519 private seed (32 bytes) in and out, for the signed-note key form */
int wb_key_ed25519_seed(const wb_key *key, uint8_t seed[32]);
int wb_key_from_ed25519_seed(wb_key **out, const uint8_t seed[32]);
/* SubjectPublicKeyInfo DER (malloc'd; EC points uncompressed) */
int wb_key_spki_der(const wb_key *key, uint8_t **out, size_t *len);
/* a new public-only key with the same public part (from a public key: a
 * shared, reference-counted OpenSSL key, so cheap and thread-safe) */
int wb_key_public_copy(wb_key **out, const wb_key *key);

/*
 * wb_key_sign signs msg (hashing it with the algorithm's hash for ECDSA;
 * pure Ed25519 otherwise). sig must hold WB_SIG_MAX bytes; *sig_len gets the
 * raw length. wb_key_verify returns 0 if sig is valid, WB_E_VERIFY if not.
 */
int wb_key_sign(const wb_key *key, uint8_t *sig, size_t *sig_len,
                const void *msg, size_t msg_len);
int wb_key_verify(const wb_key *key, const uint8_t *sig, size_t sig_len,
                  const void *msg, size_t msg_len);

/*
 * ECDSA signature conversion. n is the size of one coordinate (32, 48, or
 * 66 for the verify-only P-521 below).
 * der_to_raw rejects anything but a DER SEQUENCE of two INTEGERs that fit in
 * n bytes; raw_to_der writes minimal DER into out (cap bytes).
 */
int wb_ecdsa_der_to_raw(uint8_t *raw, size_t n, const uint8_t *der,
                        size_t der_len);
int wb_ecdsa_raw_to_der(uint8_t *der, size_t cap, size_t *der_len,
                        const uint8_t *raw, size_t n);

/* ---- X.509 ---- */

/* the public key of a DER certificate (x509.c) */
int wb_key_from_x509_der(wb_key **out, const uint8_t *der, size_t len);

/*
 * wb_x509_pem_chain reads every certificate of a PEM file, in file order, as
 * DER (a malloc'd array of malloc'd buffers); free with wb_x509_chain_free.
 */
int wb_x509_pem_chain(uint8_t ***der, size_t **len, size_t *n, const char *path);
void wb_x509_chain_free(uint8_t **der, size_t *len, size_t n);

/*
 * wb_x509_issue makes an X.509 v3 certificate (x509_issue.c) for the public
 * part of subject_key, named CN=cn, O=org, signed by issuer_key whose own
 * certificate is issuer_der (NULL: self-signed, issuer_key = subject_key).
 * is_ca: basicConstraints CA:TRUE and keyCertSign, else CA:FALSE and
 * digitalSignature; both critical. Valid from a day ago for days days.
 * For simulators and tests: suppliers' CAs and device identities.
 */
int wb_x509_issue(uint8_t **der, size_t *len, const wb_key *subject_key, const char *cn,
                  const char *org, const wb_key *issuer_key, const uint8_t *issuer_der,
                  size_t issuer_len, int is_ca, uint64_t serial, int days);
/*
 * wb_x509_issue_tls makes a TLS end-entity certificate like wb_x509_issue
 * (CA:FALSE, digitalSignature) under the CA issuer_der, with subjectAltName
 * san in OpenSSL's syntax ("IP:127.0.0.1,DNS:localhost", or NULL) and
 * extKeyUsage clientAuth (client != 0) or serverAuth. For tests.
 */
int wb_x509_issue_tls(uint8_t **der, size_t *len, const wb_key *subject_key, const char *cn,
                      const wb_key *issuer_key, const uint8_t *issuer_der, size_t issuer_len,
                      uint64_t serial, int days, const char *san, int client);
/* DER certificate -> PEM text (malloc'd, NUL-terminated) */
int wb_x509_der_to_pem(char **pem, const uint8_t *der, size_t len);

/*
 * wb_x509_issued_by checks one link on its own (x509_link.c), as a DICE
 * alias certificate hangs under its device identity certificate: child's
 * issuer name equals parent's subject name, and child's signature verifies
 * with parent's public key. Nothing else: parent need not be a CA (DICE
 * identity certificates often are not), validity is not looked at. 0;
 * WB_E_VERIFY saying which of the two failed; WB_E_INVALID if either is
 * not one DER certificate.
 */
int wb_x509_issued_by(const uint8_t *child_der, size_t child_len, const uint8_t *parent_der,
                      size_t parent_len);

/* a set of trust anchors loaded from PEM files (x509_chain.c) */
typedef struct wb_x509_anchors wb_x509_anchors;

/*
 * wb_x509_anchors_load reads every certificate of each PEM file into one
 * anchor set. An anchor may be a root or an intermediate (partial chains
 * ending at any anchor are accepted).
 */
int wb_x509_anchors_load(wb_x509_anchors **out, const char *const *files, size_t n);
/* the same from DER certificates in memory */
int wb_x509_anchors_from_der(wb_x509_anchors **out, const uint8_t *const *der,
                             const size_t *len, size_t n);
void wb_x509_anchors_free(wb_x509_anchors *a);

/*
 * wb_x509_chain_verify checks that the chain der[0..n) (leaf first, then
 * intermediates in any order) leads to one of the anchors, with OpenSSL's
 * path validation (signatures, validity at time t (0: now), CA constraints).
 * WB_E_VERIFY with OpenSSL's reason and the depth otherwise; WB_E_INVALID
 * if a certificate does not parse.
 */
int wb_x509_chain_verify(const wb_x509_anchors *a, const uint8_t *const *der,
                         const size_t *len, size_t n, int64_t t);

/* ---- verify-only keys of outside signers (spki_verify.c) ---- */
/*
 * Some parties sign with algorithms that waybill never signs with and that a
 * wb_key deliberately does not hold: OCP SAFE security reviewers sign their
 * reports with ECDSA P-521 + SHA-512 (ES512). A wb_key is what may be an
 * issuer, a device identity or a log key, all P-256, P-384 or Ed25519; these
 * functions only ever check a signature, from the signer's
 * SubjectPublicKeyInfo DER. Algorithms by JOSE name (RFC 7518 §3.4): ES256
 * (P-256 + SHA-256), ES384 (P-384 + SHA-384), ES512 (P-521 + SHA-512); the
 * signature is raw r‖s (64, 96, 132 bytes).
 */

/* wb_spki_from_pem reads one PEM "PUBLIC KEY" block (at most WB_PEM_MAX
 * bytes) as SPKI DER (malloc'd), checking that it decodes */
int wb_spki_from_pem(uint8_t **der, size_t *len, const char *pem, size_t pem_len);

/* the JOSE ECDSA algorithm of an SPKI's curve ("ES512" for P-521, a static
 * string); WB_E_INVALID for any other key type or curve */
int wb_spki_ecdsa_alg(const char **jose_alg, const uint8_t *spki, size_t spki_len);

/*
 * wb_spki_verify checks sig over msg with the public key spki under
 * jose_alg. 0 if valid; WB_E_VERIFY if the signature is wrong (or has the
 * wrong length); WB_E_INVALID for an unknown algorithm, a key that does not
 * decode, or a key whose curve is not the algorithm's.
 */
int wb_spki_verify(const uint8_t *spki, size_t spki_len, const char *jose_alg,
                   const uint8_t *sig, size_t sig_len, const void *msg, size_t msg_len);

#endif
