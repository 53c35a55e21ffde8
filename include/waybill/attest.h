/*
 * waybill/attest.h: attestation evidence (docs/attestation.md) and its
 * verification: how a device's root of trust answers a verifier's
 * challenge, and how the verifier checks the answer before comparing it
 * with the ledger.
 *
 * Evidence is a tagged COSE_Sign1 (RFC 9052) signed by the device's
 * attestation ("alias") key, DICE-style:
 *
 *   protected  { 1: -35 (ES384) | -7 (ES256) | -8 (EdDSA),
 *                3: "application/vnd.waybill.evidence+cbor",
 *                33: [ alias certificate, identity certificate,
 *                      supplier intermediates... ] }        (x5chain, RFC 9360)
 *   payload    { 1: nonce      bstr, 16..64 bytes, the verifier's challenge
 *                2: device     tstr, the device id (hex SHA-256 of the
 *                              identity certificate's SubjectPublicKeyInfo)
 *                3: measurements [ [ component tstr, digest bstr 48 ] ... ]
 *                                SHA-384 per firmware component
 *                4: slots      [ [ slot tstr, device id tstr ] ... ]
 *                              the identities of the parts it can see
 *                5: time       uint, seconds since the epoch }
 *
 * The alias certificate is issued by the identity key (its issuer name is
 * the identity certificate's subject); the identity certificate chains to
 * the supplier CA registered in the ledger; the device id in the payload
 * must be the identity certificate's; the signature must verify with the
 * alias key; the nonce must be the one the verifier sent.
 */
#ifndef WAYBILL_ATTEST_H
#define WAYBILL_ATTEST_H

#include <stddef.h>
#include <stdint.h>

#include "waybill/crypto.h"
#include "waybill/prov.h"

#define WB_EVIDENCE_MAX 65536         /* bytes of one evidence */
#define WB_EVIDENCE_CTY "application/vnd.waybill.evidence+cbor"
#define WB_NONCE_MIN 16
#define WB_NONCE_MAX 64
#define WB_EVIDENCE_CHAIN_MAX 6

typedef struct {
    uint8_t nonce[WB_NONCE_MAX];
    size_t nonce_len;
    wb_device_id device;
    wb_measurement *measurements;     /* digest as lowercase hex (prov.h) */
    size_t nmeasurements;
    wb_slot_entry *slots;
    size_t nslots;
    int64_t time;
} wb_evidence;

void wb_evidence_cleanup(wb_evidence *ev);

/*
 * wb_evidence_sign makes evidence: ev signed by alias_key, with chain
 * (alias certificate first, then the identity certificate, then any
 * intermediates) in x5chain. Output malloc'd.
 */
int wb_evidence_sign(uint8_t **out, size_t *len, const wb_evidence *ev,
                     const wb_key *alias_key, const uint8_t *const *chain,
                     const size_t *chain_len, size_t nchain);

/*
 * Which check an answer failed: the verifier records it in the attestation
 * statement ("failed_check") and the anomaly rules map it to a finding
 * (docs/anomalies.md): FORMAT, CHAIN, IDENTITY and SIGNATURE to
 * evidence-invalid (evict), STALE to evidence-stale (investigate).
 */
typedef enum {
    WB_EV_OK = 0,
    WB_EV_FORMAT,      /* not well-formed evidence (COSE, CBOR, payload fields) */
    WB_EV_CHAIN,       /* x5chain does not lead to a trusted supplier CA, or the
                          alias certificate is not issued by the identity key */
    WB_EV_IDENTITY,    /* the identity is not the device that was challenged */
    WB_EV_SIGNATURE,   /* the signature does not verify with the alias key */
    WB_EV_STALE,       /* not the nonce that was sent (a replay), or too old */
    WB_EV_UNREACHABLE  /* no answer (set by the verifier, never by
                          wb_evidence_verify) */
} wb_evidence_failure;

/* "format", "chain", "identity", "signature", "stale", "unreachable" */
const char *wb_evidence_failure_name(wb_evidence_failure f);

/* what the verifier trusts and expects */
typedef struct {
    const uint8_t *nonce;             /* the challenge it sent */
    size_t nonce_len;
    const uint8_t *const *cas;        /* the supplier CAs the ledger registered */
    const size_t *ca_len;
    size_t ncas;
    int64_t now;                      /* 0: time(NULL) */
    int64_t max_age_s;                /* older (or future) evidence is stale;
                                         0: 300 s */
    const char *expect_device;        /* the device challenged, or NULL: any
                                         identity the CAs vouch for */
} wb_evidence_check;

/*
 * wb_evidence_verify decodes evidence strictly and checks, in order: the
 * COSE structure and alg; the alias certificate is issued by the identity
 * certificate's key; the identity chain leads to one of the CAs (as
 * wb_identity_verify); the payload's device id is the identity's; the
 * signature verifies with the alias key; the nonce is the challenge (a
 * replayed answer carries an old nonce); the time is within max_age_s.
 * On success ev holds the payload. WB_E_VERIFY (or WB_E_INVALID when
 * malformed) naming the first check that failed, and *why (may be NULL)
 * says which (WB_EV_OK on success). On failure ev still holds whatever of
 * the payload could be decoded (the device id at least when the identity
 * certificate parsed), for the verifier's report.
 */
int wb_evidence_verify(wb_evidence *ev, wb_evidence_failure *why, const uint8_t *data,
                       size_t len, const wb_evidence_check *chk);

#endif
