/*
 * verifier_tpm.c: the verifier's exchange with a device whose root of
 * trust is a TPM 2.0 (docs/attestation.md, "TPM 2.0 devices"), reached
 * through a tpm2-tss TCTI, with the pieces of waybill/tpm.h:
 *
 *   1. the EK certificate (TCG EK Credential Profile, NV 0x01c00002) must
 *      chain to a CA of the TPM vendor that manifested the device, and its
 *      key's SHA-256 must be the device id the ledger expects;
 *   2. an attestation key (AK) is bound to that EK by credential
 *      activation (TPM 2.0 Part 1 §24): MakeCredential in software to the
 *      EK public key and the AK's name, and only a TPM that holds both
 *      releases the secret;
 *   3. TPM2_Quote over PCRs 0-7 of the SHA-384 bank with the verifier's
 *      nonce as qualifying data, signed by that AK: signature, nonce and PCR
 *      digest are checked (wb_tpm_quote_verify);
 * and the result is a wb_evidence like any device's: the device id and one
 * measurement per PCR ("pcr0".."pcr7", SHA-384), which the ledger's rules
 * compare with the firmware the TPM vendor or the platform's firmware
 * vendor released (a PCR nobody released is firmware-unreleased).
 *
 * Public-key verifications: the EK certificate's signature (1 per
 * certificate up to the registered CA) and the quote's (1).
 */
#include "attest_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/identity.h"
#include "waybill/tpm.h"
#include "waybill/util.h"

#define TPM_PCR_MASK 0xffu /* PCRs 0-7: firmware, its configuration, the boot path */

static int fail(wb_evidence_failure *why, wb_evidence_failure f, int rc)
{
    *why = f;
    return rc;
}

static int fill_evidence(wb_evidence *ev, const wb_evidence_check *chk, const char *id,
                         const wb_tpm_pcrs *pcrs)
{
    size_t n = 0, size = wb_tpm_bank_size(pcrs->bank);
    memset(ev, 0, sizeof(*ev));
    memcpy(ev->nonce, chk->nonce, chk->nonce_len);
    ev->nonce_len = chk->nonce_len;
    snprintf(ev->device, sizeof(ev->device), "%s", id);
    ev->time = (int64_t)time(NULL);
    if (size != 48)
        return wb_error_set(WB_E_INVALID, "TPM quote: PCR bank %s, not sha384",
                            wb_tpm_bank_name(pcrs->bank));
    ev->measurements = calloc(WB_TPM_PCRS, sizeof(*ev->measurements));
    if (!ev->measurements)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    for (unsigned i = 0; i < WB_TPM_PCRS; i++) {
        if (!(pcrs->mask & (1u << i)))
            continue;
        snprintf(ev->measurements[n].component, sizeof(ev->measurements[n].component),
                 "pcr%u", i);
        wb_hex_encode(ev->measurements[n].digest, pcrs->value[i], size);
        n++;
    }
    ev->nmeasurements = n;
    return 0;
}

int vf_tpm_challenge(wb_evidence *ev, wb_evidence_failure *why, uint8_t digest[32],
                     const char *tcti, const wb_evidence_check *chk,
                     uint64_t *verifications)
{
    wb_tpm *t = NULL;
    uint8_t *ek = NULL, *ak = NULL, *cred = NULL, secret[WB_TPM_SECRET_LEN],
            answer[WB_TPM_SECRET_LEN];
    size_t ek_len = 0, ak_len = 0, cred_len = 0, answer_len = 0;
    char id[WB_IDENTITY_ID_HEX + 1];
    wb_tpm_evidence q;
    int rc;

    memset(&q, 0, sizeof(q));
    memset(ev, 0, sizeof(*ev));
    *why = WB_EV_OK;
    wb_sha256(digest, "", 0);
    rc = wb_tpm_open(&t, tcti);
    if (rc) {
        rc = fail(why, WB_EV_UNREACHABLE, wb_error_prefix(WB_E_IO, "TPM at %s", tcti));
        goto out;
    }
    /* 1. the identity */
    if ((rc = wb_tpm_ek_cert(t, &ek, &ek_len)) != 0) {
        rc = fail(why, WB_EV_FORMAT, rc);
        goto out;
    }
    {
        const uint8_t *chain[1] = {ek};
        size_t chain_len[1] = {ek_len};
        rc = wb_identity_verify(id, chain, chain_len, 1, chk->cas, chk->ca_len, chk->ncas);
        *verifications += 1;
        if (rc) {
            rc = fail(why, WB_EV_CHAIN, wb_error_prefix(rc, "TPM EK certificate"));
            goto out;
        }
    }
    if (chk->expect_device && strcmp(chk->expect_device, id) != 0) {
        rc = fail(why, WB_EV_IDENTITY,
                  wb_error_set(WB_E_VERIFY, "the TPM's EK is device %.16s..., not the "
                               "%.16s... that was challenged", id, chk->expect_device));
        goto out;
    }
    /* 2. the attestation key, bound to the EK */
    rc = wb_tpm_ak(t, &ak, &ak_len);
    if (rc == 0)
        rc = wb_tpm_make_credential(&cred, &cred_len, secret, ek, ek_len, ak, ak_len);
    if (rc) {
        rc = fail(why, WB_EV_FORMAT, rc);
        goto out;
    }
    rc = wb_tpm_activate(t, answer, &answer_len, cred, cred_len);
    if (rc == 0)
        rc = wb_tpm_activation_check(secret, answer, answer_len);
    if (rc) {
        rc = fail(why, WB_EV_CHAIN, wb_error_prefix(WB_E_VERIFY, "the attestation key is "
                                                    "not bound to the EK"));
        goto out;
    }
    /* 3. the quote */
    if ((rc = wb_tpm_quote(t, &q, chk->nonce, chk->nonce_len, WB_TPM_SHA384,
                           TPM_PCR_MASK)) != 0) {
        rc = fail(why, WB_EV_FORMAT, rc);
        goto out;
    }
    {
        wb_sha256_ctx *h = NULL;
        if (wb_sha256_new(&h) == 0) {
            wb_sha256_update(h, q.attest, q.attest_len);
            wb_sha256_update(h, q.sig, q.sig_len);
            wb_sha256_final(h, digest);
            wb_sha256_free(h);
        }
    }
    /* the values it reports must be the ones it quoted; what they should
     * be is the ledger's question (released firmware) */
    rc = wb_tpm_quote_verify(&q, ak, ak_len, chk->nonce, chk->nonce_len, &q.pcrs);
    *verifications += 1;
    if (rc) {
        rc = fail(why, WB_EV_SIGNATURE, rc);
        goto out;
    }
    rc = fill_evidence(ev, chk, id, &q.pcrs);
    if (rc)
        *why = WB_EV_FORMAT;
out:
    wb_tpm_evidence_cleanup(&q);
    wb_tpm_free(t);
    free(ek);
    free(ak);
    free(cred);
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(answer, sizeof(answer));
    return rc;
}
