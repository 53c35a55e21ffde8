/*
 * waybill/tpm.h: TPM 2.0 devices, both sides of the challenge
 * (docs/attestation.md, "TPM 2.0 devices").
 *
 * A device whose root of trust is a TPM 2.0 is identified by its endorsement
 * key (EK) certificate, read from the TPM's NV index 0x01c00002 (TCG EK
 * Credential Profile: RSA 2048 EK, template L-1); its device id is the
 * SHA-256 of that certificate's SubjectPublicKeyInfo (wb_identity_device_id)
 * and the certificate must chain to the TPM vendor's CA registered in the
 * ledger (wb_identity_verify). An EK can only decrypt, never sign, so the
 * evidence is signed by an attestation key (AK) that the verifier binds to
 * the EK first:
 *
 *   device (wb_tpm_*, over tpm2-tss ESAPI)   verifier (no TPM needed)
 *   wb_tpm_ek_cert, wb_tpm_ak         --->   wb_identity_verify (EK chain)
 *                                            wb_tpm_make_credential
 *                                              (TPM 2.0 Part 1 §24, in
 *                                              software, to the EK public
 *                                              and the AK's name)
 *   wb_tpm_activate (TPM2_ActivateCredential)  <---  credential
 *   the secret                        --->   wb_tpm_activation_check
 *                                            (only the TPM holding both the
 *                                            EK and the AK can answer)
 *                                     <---   fresh nonce
 *   wb_tpm_quote (TPM2_Quote over PCRs, --->  wb_tpm_quote_verify
 *   qualifyingData = nonce, AK-signed)        (signature with the bound AK,
 *                                             TPMS_ATTEST, nonce, selection,
 *                                             PCR digest, expected values)
 *
 * What crosses between the sides is TPM wire format (big-endian TPM 2.0
 * Part 2 structures), so any TPM stack can produce it:
 *   AK public    TPMT_PUBLIC, marshalled (ECC P-256, ECDSA with SHA-256,
 *                restricted signing, fixedTPM, fixedParent,
 *                sensitiveDataOrigin; anything else is refused);
 *   credential   TPM2B_ID_OBJECT ‖ TPM2B_ENCRYPTED_SECRET;
 *   quote        TPMS_ATTEST exactly as the TPM signed it, TPMT_SIGNATURE,
 *                and the values of the quoted PCRs.
 * Every byte from the other side is parsed by the bounded reader; nothing is
 * trusted before the signature (quote) or the HMAC (credential) checks.
 *
 * Measurements: PCRs are compared with expected values the verifier gives.
 * The mapping from the ledger's released firmware (SHA-384 digests) is the
 * SHA-384 PCR bank: a measured boot extends the component's SHA-384 digest
 * into its PCR, so wb_tpm_pcr_replay of the released digests, in boot
 * order, from a PCR's reset value (zero) is that PCR's expected value.
 * A SHA-256 bank is supported too, with expected values from elsewhere.
 *
 * Every function returns 0 or a negative WB_E_* code with a message that
 * names the step and what failed ("PCR 16 (sha384): quoted 3f2a..,
 * expected 9b10..").
 */
#ifndef WAYBILL_TPM_H
#define WAYBILL_TPM_H

#include <stddef.h>
#include <stdint.h>

#define WB_TPM_PCRS 24              /* PCRs 0..23 of a PC Client TPM */
#define WB_TPM_PCR_MAX 48           /* bytes of the largest PCR value (SHA-384) */
#define WB_TPM_SECRET_LEN 32        /* bytes of a credential secret */
#define WB_TPM_NAME_LEN 34          /* bytes of a SHA-256 object name: alg ‖ digest */
#define WB_TPM_NONCE_MIN 16         /* a verifier's nonce: at least 128 bits */
#define WB_TPM_NONCE_MAX 64         /* qualifyingData fits a TPM2B_DATA */
#define WB_TPM_PUBLIC_MAX 1024      /* bytes of an AK public (TPMT_PUBLIC) */
#define WB_TPM_ATTEST_MAX 1024      /* bytes of a TPMS_ATTEST */
#define WB_TPM_SIG_MAX 512          /* bytes of a TPMT_SIGNATURE */
#define WB_TPM_CREDENTIAL_MAX 1024  /* bytes of a credential */
#define WB_TPM_EK_CERT_NV 0x01c00002u /* NV index of the RSA 2048 EK certificate */

/* PCR banks, by their TPM_ALG_ID */
enum {
    WB_TPM_SHA256 = 0x000b,
    WB_TPM_SHA384 = 0x000c,
};

/* a set of PCRs of one bank and their values */
typedef struct {
    uint16_t bank;                  /* WB_TPM_SHA256 or WB_TPM_SHA384 */
    uint32_t mask;                  /* bit i set: PCR i is in the set (i < 24) */
    uint8_t value[WB_TPM_PCRS][WB_TPM_PCR_MAX]; /* bank digest size used */
} wb_tpm_pcrs;

/* the TPM evidence: a quote and the quoted PCR values, as it travels from
 * the device to the verifier */
typedef struct {
    uint8_t *attest;                /* TPMS_ATTEST, as signed (malloc'd) */
    size_t attest_len;
    uint8_t *sig;                   /* TPMT_SIGNATURE, marshalled (malloc'd) */
    size_t sig_len;
    wb_tpm_pcrs pcrs;               /* the quoted PCRs, read after the quote */
} wb_tpm_evidence;

/* wb_tpm_evidence_cleanup frees what ev holds and zeroes it; NULL is fine. */
void wb_tpm_evidence_cleanup(wb_tpm_evidence *q);

/* wb_tpm_bank_name: "sha256", "sha384", or "unknown" */
const char *wb_tpm_bank_name(uint16_t bank);
/* wb_tpm_bank_size: the digest size of a bank (32, 48), 0 if unsupported */
size_t wb_tpm_bank_size(uint16_t bank);

/*
 * wb_tpm_pcr_replay computes what a PCR of bank holds after it was reset to
 * zero and extended with n event digests (digests: n concatenated digests
 * of the bank's size): v = H(v ‖ d) for each. value gets the bank's size.
 */
int wb_tpm_pcr_replay(uint8_t *value, uint16_t bank, const uint8_t *digests, size_t n);

/* ======== device side: a TPM through tpm2-tss ESAPI (tpm_device.c) ======== */

typedef struct wb_tpm wb_tpm;

/*
 * wb_tpm_open connects to a TPM through the TCTI named by tcti (a tpm2-tss
 * TCTI loader string: "swtpm:host=127.0.0.1,port=2321", "device:/dev/tpmrm0")
 * and sends TPM2_Startup(CLEAR) (a TPM already started is fine).
 * Free with wb_tpm_free (NULL is fine).
 */
int wb_tpm_open(wb_tpm **out, const char *tcti);
void wb_tpm_free(wb_tpm *tpm);

/*
 * wb_tpm_ek_cert reads the EK certificate from NV index WB_TPM_EK_CERT_NV
 * as DER (malloc'd; NV padding removed, see wb_identity_load).
 */
int wb_tpm_ek_cert(wb_tpm *tpm, uint8_t **der, size_t *len);

/*
 * wb_tpm_ak makes the EK (TCG template L-1, checked against the EK
 * certificate's key) and the AK, a primary ECC P-256 restricted signing
 * key of the endorsement hierarchy, once per wb_tpm, and writes the AK's
 * public area (TPMT_PUBLIC, malloc'd) for the verifier.
 */
int wb_tpm_ak(wb_tpm *tpm, uint8_t **ak_public, size_t *len);

/*
 * wb_tpm_activate runs TPM2_ActivateCredential with the AK and the EK (under
 * the EK's policy, PolicySecret(endorsement)) on a credential from
 * wb_tpm_make_credential and writes the secret it releases (secret of
 * WB_TPM_SECRET_LEN bytes capacity; *secret_len its length). The TPM
 * refuses (WB_E_VERIFY, with its response code) a credential made for
 * another EK or another AK.
 */
int wb_tpm_activate(wb_tpm *tpm, uint8_t secret[WB_TPM_SECRET_LEN], size_t *secret_len,
                    const uint8_t *credential, size_t credential_len);

/*
 * wb_tpm_quote has the AK quote the PCRs of bank in mask (bits 0..23) with
 * qualifyingData = nonce (1..WB_TPM_NONCE_MAX bytes), then reads their
 * values into q->pcrs. q is overwritten; free with wb_tpm_evidence_cleanup.
 */
int wb_tpm_quote(wb_tpm *tpm, wb_tpm_evidence *q, const uint8_t *nonce, size_t nonce_len,
                 uint16_t bank, uint32_t mask);

/* wb_tpm_pcr_read reads the PCRs of bank in mask into out */
int wb_tpm_pcr_read(wb_tpm *tpm, wb_tpm_pcrs *out, uint16_t bank, uint32_t mask);

/*
 * wb_tpm_pcr_extend extends PCR pcr of bank with digest (the bank's size),
 * as a measured boot does with each component it loads: PCR = H(PCR ‖ d).
 */
int wb_tpm_pcr_extend(wb_tpm *tpm, unsigned pcr, uint16_t bank, const uint8_t *digest);

/* ======== verifier side: no TPM needed (tpm_credential.c, tpm_verify.c) ======== */

/*
 * wb_tpm_ak_name checks that ak_public (TPMT_PUBLIC) is an AK the verifier
 * accepts (ECC P-256, ECDSA/SHA-256, nameAlg SHA-256, restricted signing,
 * fixedTPM, fixedParent, sensitiveDataOrigin, not a decryption key, nothing
 * after it) and writes its TPM name: 0x000b ‖ SHA-256(TPMT_PUBLIC).
 */
int wb_tpm_ak_name(uint8_t name[WB_TPM_NAME_LEN], const uint8_t *ak_public, size_t len);

/*
 * wb_tpm_make_credential is TPM2_MakeCredential in software (TPM 2.0 Part 1
 * §24, Part 3 §12.6): a fresh random secret, protected so that only a TPM
 * that holds both the EK of ek_cert (DER; RSA 2048 with template L-1:
 * nameAlg SHA-256, AES-128-CFB) and a loaded object named like the AK
 * (wb_tpm_ak_name) can release it. *credential (malloc'd) goes to the
 * device, secret stays with the verifier for wb_tpm_activation_check.
 */
int wb_tpm_make_credential(uint8_t **credential, size_t *len,
                           uint8_t secret[WB_TPM_SECRET_LEN], const uint8_t *ek_cert,
                           size_t ek_cert_len, const uint8_t *ak_public, size_t ak_len);

/*
 * wb_tpm_activation_check compares the device's answer with the secret, in
 * constant time: 0 if equal, WB_E_VERIFY ("the AK is not bound to the EK")
 * otherwise.
 */
int wb_tpm_activation_check(const uint8_t secret[WB_TPM_SECRET_LEN], const uint8_t *answer,
                            size_t answer_len);

/*
 * wb_tpm_quote_verify checks a quote against the AK public that the
 * verifier bound to the EK, in order:
 *   1. the signature is ECDSA P-256/SHA-256 and verifies with the AK over
 *      q->attest (a quote from another TPM, or a modified one, fails here);
 *   2. q->attest is a TPMS_ATTEST with magic TPM_GENERATED_VALUE and type
 *      TPM_ST_ATTEST_QUOTE, nothing after it;
 *   3. its extraData is nonce (WB_TPM_NONCE_MIN..WB_TPM_NONCE_MAX bytes;
 *      an old quote replayed carries an old nonce);
 *   4. its PCR selection is exactly expected->bank / expected->mask;
 *   5. q->pcrs is that selection and its values hash (SHA-256, the AK's
 *      scheme hash, in PCR order) to the quote's pcrDigest;
 *   6. every PCR equals its expected value; a mismatch names the PCR.
 * 0, or WB_E_VERIFY / WB_E_INVALID naming the first check that failed.
 */
int wb_tpm_quote_verify(const wb_tpm_evidence *q, const uint8_t *ak_public, size_t ak_len,
                        const uint8_t *nonce, size_t nonce_len, const wb_tpm_pcrs *expected);

#endif
