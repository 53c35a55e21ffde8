/*
 * waybill/cose.h: COSE_Sign1 (RFC 9052), COSE_Key (RFC 9052 §7), SCITT
 * signed and transparent statements (RFC 9943), and COSE Receipts
 * (RFC 9942) with the RFC9162_SHA256 (vds 1) and, for verification only,
 * CCF_LEDGER_SHA256 (vds 2) verifiable data structures. CBOR is libcbor.
 *
 * Encoding and decoding never call OpenSSL: signing and verification go
 * through wb_cose_signer / wb_cose_verifier, one small adapter interface
 * (src/lib/cose/adapter.c wraps wb_key; an HSM or TPM key is one more
 * adapter).
 *
 * Decoding is strict: the input must be one CBOR item with nothing after
 * it, no indefinite-length items, no duplicate map keys, within the size
 * limit, and the protected header must not name an unknown critical header.
 */
#ifndef WAYBILL_COSE_H
#define WAYBILL_COSE_H

#include <stddef.h>
#include <stdint.h>

#include "waybill/crypto.h"

/* algorithms (IANA COSE Algorithms) */
#define WB_COSE_ALG_ES256 (-7)
#define WB_COSE_ALG_EDDSA (-8)
#define WB_COSE_ALG_ES384 (-35)

/* header parameters */
#define WB_COSE_HDR_ALG 1
#define WB_COSE_HDR_CRIT 2
#define WB_COSE_HDR_CTY 3
#define WB_COSE_HDR_KID 4
#define WB_COSE_HDR_CWT 15       /* RFC 9597 CWT claims */
#define WB_COSE_HDR_X5CHAIN 33   /* RFC 9360 */
#define WB_COSE_HDR_RECEIPTS 394 /* RFC 9942 */
#define WB_COSE_HDR_VDS 395
#define WB_COSE_HDR_PROOFS 396
#define WB_COSE_PROOF_INCLUSION (-1)
#define WB_COSE_PROOF_CONSISTENCY (-2)

/* CWT claims (RFC 8392) */
#define WB_CWT_ISS 1
#define WB_CWT_SUB 2
#define WB_CWT_IAT 6

/* verifiable data structures (RFC 9942) */
#define WB_VDS_RFC9162_SHA256 1
#define WB_VDS_CCF_LEDGER_SHA256 2

/* limits */
#define WB_COSE_MAX (1024 * 1024) /* largest COSE object decoded at all */
#define WB_COSE_X5CHAIN_MAX 8     /* certificates in an x5chain */
#define WB_COSE_CERT_MAX 16384    /* bytes in one certificate */
#define WB_COSE_TEXT_MAX 1024     /* iss, sub, content type */
#define WB_COSE_KID_MAX 256
#define WB_COSE_RECEIPTS_MAX 16   /* receipts in one transparent statement */
#define WB_COSE_KEYSET_MAX 64     /* keys in one COSE_KeySet */

/* COSE alg <-> waybill alg; 0 / WB_ALG_NONE when unknown */
int64_t wb_cose_alg_from_wb(wb_alg alg);
wb_alg wb_cose_alg_to_wb(int64_t cose_alg);

/* ---- the crypto adapter ---- */
typedef struct {
    int64_t alg; /* COSE alg of the key */
    /* sign tbs; sig holds WB_SIG_MAX bytes; raw r||s for ECDSA */
    int (*sign)(void *ctx, uint8_t *sig, size_t *sig_len, const uint8_t *tbs,
                size_t tbs_len);
    void *ctx;
} wb_cose_signer;

typedef struct {
    int64_t alg;
    /* 0 if valid, WB_E_VERIFY if not */
    int (*verify)(void *ctx, const uint8_t *sig, size_t sig_len, const uint8_t *tbs,
                  size_t tbs_len);
    void *ctx;
} wb_cose_verifier;

/* adapters over a wb_key (the key must outlive the adapter) */
int wb_cose_signer_for_key(wb_cose_signer *out, const wb_key *key);
int wb_cose_verifier_for_key(wb_cose_verifier *out, const wb_key *key);

/* ---- headers ---- */
typedef struct {
    const uint8_t *ptr;
    size_t len;
} wb_cose_bytes;

/*
 * Parsed protected header of a COSE_Sign1. Pointers refer to memory owned
 * by the wb_cose_sign1 they came from (or, when encoding, by the caller).
 */
typedef struct {
    int64_t alg;           /* 0 if absent */
    const char *cty;       /* content type as text, NULL if absent or an int */
    int64_t cty_int;       /* content type as a CoAP number, -1 if absent */
    wb_cose_bytes kid;     /* len 0 if absent */
    wb_cose_bytes x5chain[WB_COSE_X5CHAIN_MAX]; /* DER, leaf first */
    size_t nx5chain;
    int has_cwt;
    const char *iss;       /* CWT claims in header 15 */
    const char *sub;
    int64_t iat;           /* 0 if absent */
    int64_t vds;           /* 395, 0 if absent */
    int64_t crit[16];      /* labels listed in crit (2), integers only */
    size_t ncrit;
} wb_cose_headers;

/*
 * wb_cose_headers_init empties h for encoding: everything absent, which
 * for cty_int is -1 (a zeroed struct would say content type 0).
 */
void wb_cose_headers_init(wb_cose_headers *h);

/* A decoded COSE_Sign1; owns every byte it points to. */
typedef struct {
    int tagged;                /* had CBOR tag 18 */
    uint8_t *protected_raw;    /* contents of the protected bstr */
    size_t protected_len;
    wb_cose_headers hdr;       /* the protected header, parsed */
    uint8_t *unprotected_raw;  /* the unprotected map, as encoded */
    size_t unprotected_len;
    int detached;              /* payload was nil */
    uint8_t *payload;
    size_t payload_len;
    uint8_t *signature;
    size_t sig_len;
    void *priv;                /* decoder internals */
} wb_cose_sign1;

/*
 * wb_cose_sign1_decode decodes a tagged or untagged COSE_Sign1 of at most
 * max bytes (a larger max counts as WB_COSE_MAX). On failure *m is empty
 * (nothing to free, though wb_cose_sign1_cleanup is harmless)
 * and the message names the problem ("COSE_Sign1: protected header: map key
 * 4 appears twice").
 */
int wb_cose_sign1_decode(wb_cose_sign1 *m, const uint8_t *data, size_t len,
                         size_t max);
void wb_cose_sign1_cleanup(wb_cose_sign1 *m);

/*
 * wb_cose_sign1_verify checks the signature over Sig_structure
 * ["Signature1", protected, h'', payload] (RFC 9052 §4.4), using the
 * detached payload when m->detached. The verifier's alg must equal the
 * protected alg. 0, or WB_E_VERIFY with the reason.
 */
int wb_cose_sign1_verify(const wb_cose_sign1 *m, const wb_cose_verifier *v,
                         const uint8_t *detached_payload, size_t detached_len);

/*
 * encodes the protected header map of h (only the fields set, in
 * deterministic order; cty wins over cty_int; one x5chain certificate is
 * written as a bstr). Nothing set gives zero bytes, the empty bucket.
 */
int wb_cose_protected_encode(uint8_t **out, size_t *len, const wb_cose_headers *h);

/*
 * wb_cose_sign1_create encodes and signs a COSE_Sign1 (tagged) with the
 * protected header h (its alg must be the signer's), an unprotected map
 * given already encoded (NULL: empty map) and the payload (detached: the
 * payload is signed but encoded as nil).
 */
int wb_cose_sign1_create(uint8_t **out, size_t *len, const wb_cose_headers *h,
                         const uint8_t *unprotected, size_t unprotected_len,
                         const uint8_t *payload, size_t payload_len, int detached,
                         const wb_cose_signer *signer);

/* ---- SCITT statements (RFC 9943) ---- */

/*
 * wb_scitt_statement_check enforces the signed-statement profile on a
 * decoded COSE_Sign1: protected alg (ES256, ES384 or EdDSA), content type,
 * CWT claims with iss and sub, and kid or x5chain (at least one), an
 * attached payload; each failure names the header.
 */
int wb_scitt_statement_check(const wb_cose_sign1 *m);

/*
 * wb_scitt_registered_statement encodes the registered statement: m with
 * its unprotected header replaced by an empty map (always tagged 18, as RFC 9943 defines it).
 * Its RFC 9162 leaf hash is what receipts prove.
 */
int wb_scitt_registered_statement(uint8_t **out, size_t *len, const wb_cose_sign1 *m);

/*
 * wb_scitt_transparent_statement puts receipts (each an encoded COSE_Sign1)
 * into unprotected header 394 of a registered statement.
 */
int wb_scitt_transparent_statement(uint8_t **out, size_t *len,
                                   const uint8_t *registered, size_t registered_len,
                                   const wb_cose_bytes *receipts, size_t nreceipts);

/*
 * wb_scitt_transparent_split takes a transparent statement apart: the
 * registered statement (unprotected emptied, malloc'd) and its receipts
 * (malloc'd array of malloc'd copies). Free with wb_scitt_receipts_free.
 */
int wb_scitt_transparent_split(uint8_t **registered, size_t *registered_len,
                               wb_cose_bytes **receipts, size_t *nreceipts,
                               const uint8_t *ts, size_t ts_len);
void wb_scitt_receipts_free(wb_cose_bytes *receipts, size_t n);

/* ---- receipts (RFC 9942) ---- */

/* the protected header of a receipt: alg, kid, vds = 1, CWT {iss, iat} */
int wb_receipt_protected(uint8_t **out, size_t *len, int64_t alg,
                         const uint8_t *kid, size_t kid_len, const char *iss,
                         int64_t iat);

/*
 * wb_receipt_sign signs the tree root with a receipt protected header: the
 * signature over ["Signature1", protected, h'', root]. One per tree size,
 * shared by every entry proven against that root.
 */
int wb_receipt_sign(uint8_t *sig, size_t *sig_len, const uint8_t *prot,
                    size_t prot_len, const uint8_t root[32],
                    const wb_cose_signer *signer);

/*
 * wb_receipt_encode assembles a receipt: COSE_Sign1 (tagged) with that
 * protected header, unprotected {396: {-1: [bstr .cbor [tree_size,
 * leaf_index, [path...]]]}}, nil payload and the shared signature.
 */
int wb_receipt_encode(uint8_t **out, size_t *len, const uint8_t *prot,
                      size_t prot_len, const uint8_t *sig, size_t sig_len,
                      uint64_t tree_size, uint64_t leaf_index,
                      const uint8_t (*path)[32], size_t npath);

/* what a verified receipt says */
typedef struct {
    int64_t vds;          /* 1 or 2 */
    int64_t alg;
    uint8_t kid[WB_COSE_KID_MAX];
    size_t kid_len;
    char iss[WB_COSE_TEXT_MAX + 1];
    int64_t iat;
    /*
     * vds 1, as the proof says. The signature covers the root, not these
     * (RFC 9942): an RFC 9162 path has the same shape for one leaf index in
     * a range of tree sizes, so the size is proven only up to that range.
     * Check it against a checkpoint (consistency proof) before relying on it.
     */
    uint64_t tree_size;
    uint64_t leaf_index;
    uint8_t root[32];     /* the root the signature covers */
} wb_receipt_info;

/*
 * Finds the verifier for a receipt's kid and alg: 0 and *out filled, or
 * WB_E_NOTFOUND ("no service key with kid ...").
 */
typedef int (*wb_receipt_key_fn)(void *ctx, wb_cose_verifier *out,
                                 const uint8_t *kid, size_t kid_len, int64_t alg);

/*
 * wb_receipt_verify checks that receipt proves the registered statement
 * (its unprotected header must already be empty: see
 * wb_scitt_registered_statement / wb_scitt_transparent_split):
 *   vds 1 (RFC9162_SHA256): leaf = SHA-256(0x00 ‖ statement), RFC 9162
 *     inclusion path to a root, signature over that root;
 *   vds 2 (CCF_LEDGER_SHA256): the CCF leaf from the proof's write-set
 *     digest, commit evidence and claims digest (which must equal
 *     SHA-256(statement)), the CCF path to a root, signature over the root.
 * Fills info (may be NULL). WB_E_VERIFY with the reason on any mismatch.
 */
int wb_receipt_verify(wb_receipt_info *info, const uint8_t *receipt,
                      size_t receipt_len, const uint8_t *statement,
                      size_t statement_len, wb_receipt_key_fn keys, void *keys_ctx);

/* ---- COSE_Key (RFC 9052 §7, RFC 9053 §7) ---- */

/*
 * wb_cose_key_encode writes the public part of key as a COSE_Key map:
 * OKP (kty 1, crv 6 Ed25519, x) or EC2 (kty 2, crv 1/2, x, y), with kid
 * (3) alg. wb_cose_key_decode reads one (public keys only: a key with its
 * private part d is refused); kid (may be NULL) must hold WB_COSE_KID_MAX
 * bytes, *kid_len gets its length (0 if the key has none).
 */
int wb_cose_key_encode(uint8_t **out, size_t *len, const wb_key *key,
                       const uint8_t *kid, size_t kid_len);
int wb_cose_key_decode(wb_key **out, uint8_t *kid, size_t *kid_len,
                       const uint8_t *data, size_t len);
/* a COSE_KeySet: an array of COSE_Key */
int wb_cose_keyset_encode(uint8_t **out, size_t *len, const wb_key *const *keys,
                          const wb_cose_bytes *kids, size_t n);

/* one key of a decoded COSE_KeySet */
typedef struct {
    wb_key *key;
    uint8_t kid[WB_COSE_KID_MAX];
    size_t kid_len;
} wb_cose_keyset_entry;

/*
 * wb_cose_keyset_decode reads a COSE_KeySet (at most WB_COSE_KEYSET_MAX
 * keys, every one public and supported, or the whole set is refused).
 * Free with wb_cose_keyset_free.
 */
int wb_cose_keyset_decode(wb_cose_keyset_entry **out, size_t *n, const uint8_t *data,
                          size_t len);
void wb_cose_keyset_free(wb_cose_keyset_entry *keys, size_t n);

/* ---- CBOR problem details (RFC 9290) ---- */
/*
 * {-1: title, -2: detail, -4: response-code}, each only when given (NULL
 * strings are left out). RFC 9290's response-code is a CoAP code (4.04 is
 * 4*32+4 = 132), so the HTTP status is written in that form when it has
 * one (status > 0, last two digits below 32); -3 is "instance", a URI.
 * Text that is not valid UTF-8 is repaired ('?'), never refused.
 */
int wb_cbor_problem(uint8_t **out, size_t *len, const char *title,
                    const char *detail, int status);

#endif
