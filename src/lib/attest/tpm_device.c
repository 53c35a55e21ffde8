/*
 * tpm_device.c: the device's side of a TPM 2.0 challenge (waybill/tpm.h),
 * over tpm2-tss's ESAPI and its TCTI loader, so one code path drives swtpm
 * in tests ("swtpm:host=127.0.0.1,port=P") and a machine's TPM
 * ("device:/dev/tpmrm0").
 *
 * Keys, both primaries of the endorsement hierarchy (TPM 2.0 Part 1 §14.3),
 * re-derived from its seed on every open, so nothing is left in the TPM's
 * NV memory and no owner authorisation is needed:
 *   - the EK, from template L-1 of the TCG EK Credential Profile 2.0
 *     (§B.3.3: RSA 2048, nameAlg SHA-256, AES-128-CFB, restricted decrypt,
 *     authPolicy = PolicySecret(TPM_RH_ENDORSEMENT)), which yields the key
 *     of the EK certificate at NV index 0x01c00002; that it does is
 *     checked here, so a mismatch is reported as such rather than as a
 *     failed activation later;
 *   - the AK, ECC P-256 with ECDSA/SHA-256, restricted signing, fixedTPM,
 *     fixedParent, sensitiveDataOrigin, userWithAuth (empty auth), noDA.
 * ActivateCredential uses the AK (admin role: its auth value, empty) and
 * the EK (user role: its policy, satisfied in a policy session with
 * TPM2_PolicySecret on the endorsement hierarchy, empty auth).
 *
 * The endorsement hierarchy's auth value is assumed empty, as it is on
 * swtpm and on a TPM whose owner did not set one.
 */
#include "waybill/tpm.h"
#include "waybill/error.h"
#include "waybill/identity.h"

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <stdlib.h>
#include <string.h>

struct wb_tpm {
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;
    ESYS_TR ek;
    ESYS_TR ak;
    uint8_t *ak_public;
    size_t ak_public_len;
};

/* TCG EK Credential Profile 2.0 §B.3.2 policy A: PolicySecret(TPM_RH_ENDORSEMENT) */
static const uint8_t ek_policy_a[32] = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
    0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
    0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
};

static int tss_fail(int code, const char *what, TSS2_RC rc)
{
    return wb_error_set(code, "TPM: %s: %s (0x%x)", what, Tss2_RC_Decode(rc), rc);
}

int wb_tpm_open(wb_tpm **out, const char *tcti)
{
    wb_tpm *t;
    TSS2_RC rc;

    *out = NULL;
    if (!tcti || !*tcti)
        return wb_error_set(WB_E_INVALID, "TPM: no TCTI given");
    if (!(t = calloc(1, sizeof(*t))))
        return wb_error_set(WB_E_NOMEM, "TPM: out of memory");
    t->ek = ESYS_TR_NONE;
    t->ak = ESYS_TR_NONE;
    rc = Tss2_TctiLdr_Initialize(tcti, &t->tcti);
    if (rc != TSS2_RC_SUCCESS) {
        free(t);
        return wb_error_set(WB_E_IO, "TPM: cannot connect through TCTI '%s': %s (0x%x)",
                            tcti, Tss2_RC_Decode(rc), rc);
    }
    rc = Esys_Initialize(&t->esys, t->tcti, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        int e = wb_error_set(WB_E_IO, "TPM: ESAPI over '%s': %s (0x%x)", tcti,
                             Tss2_RC_Decode(rc), rc);
        wb_tpm_free(t);
        return e;
    }
    rc = Esys_Startup(t->esys, TPM2_SU_CLEAR);
    if (rc != TSS2_RC_SUCCESS && rc != TPM2_RC_INITIALIZE) {
        int e = tss_fail(WB_E_IO, "TPM2_Startup", rc);
        wb_tpm_free(t);
        return e;
    }
    *out = t;
    return 0;
}

void wb_tpm_free(wb_tpm *t)
{
    if (!t)
        return;
    if (t->esys) {
        if (t->ak != ESYS_TR_NONE)
            Esys_FlushContext(t->esys, t->ak);
        if (t->ek != ESYS_TR_NONE)
            Esys_FlushContext(t->esys, t->ek);
        Esys_Finalize(&t->esys);
    }
    if (t->tcti)
        Tss2_TctiLdr_Finalize(&t->tcti);
    free(t->ak_public);
    free(t);
}

/* reads the whole NV index nv (its size from its public area) */
static int nv_read(wb_tpm *t, uint8_t **out, size_t *out_len, TPM2_HANDLE nv)
{
    ESYS_TR h = ESYS_TR_NONE;
    TPM2B_NV_PUBLIC *pub = NULL;
    TPMS_CAPABILITY_DATA *cap = NULL;
    TPMI_YES_NO more;
    uint16_t chunk = 512, size, off = 0;
    uint8_t *buf = NULL;
    TSS2_RC rc;
    int e = 0;

    rc = Esys_TR_FromTPMPublic(t->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &h);
    if (rc != TSS2_RC_SUCCESS)
        return wb_error_set(WB_E_NOTFOUND, "TPM: no NV index 0x%08x (no EK certificate "
                            "provisioned there): %s", nv, Tss2_RC_Decode(rc));
    rc = Esys_NV_ReadPublic(t->esys, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        e = tss_fail(WB_E_IO, "TPM2_NV_ReadPublic of the EK certificate index", rc);
        goto out;
    }
    size = pub->nvPublic.dataSize;
    if (size == 0) { /* a uint16_t, so under WB_IDENTITY_CERT_MAX */
        e = wb_error_set(WB_E_INVALID, "TPM: NV index 0x%08x holds %u bytes", nv, size);
        goto out;
    }
    /* the TPM's largest NV read; 512 if it will not say */
    rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                            TPM2_CAP_TPM_PROPERTIES, TPM2_PT_NV_BUFFER_MAX, 1, &more, &cap);
    if (rc == TSS2_RC_SUCCESS && cap->data.tpmProperties.count == 1 &&
        cap->data.tpmProperties.tpmProperty[0].property == TPM2_PT_NV_BUFFER_MAX &&
        cap->data.tpmProperties.tpmProperty[0].value >= 64 &&
        cap->data.tpmProperties.tpmProperty[0].value <= TPM2_MAX_NV_BUFFER_SIZE)
        chunk = (uint16_t)cap->data.tpmProperties.tpmProperty[0].value;
    if (!(buf = malloc(size))) {
        e = wb_error_set(WB_E_NOMEM, "TPM: out of memory");
        goto out;
    }
    while (off < size) {
        TPM2B_MAX_NV_BUFFER *data = NULL;
        uint16_t n = (uint16_t)(size - off < chunk ? size - off : chunk);
        rc = Esys_NV_Read(t->esys, h, h, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, n, off,
                          &data);
        if (rc != TSS2_RC_SUCCESS) {
            e = tss_fail(WB_E_IO, "TPM2_NV_Read of the EK certificate", rc);
            goto out;
        }
        if (data->size != n) {
            Esys_Free(data);
            e = wb_error_set(WB_E_IO, "TPM: NV read returned %u bytes, asked %u", data->size, n);
            goto out;
        }
        memcpy(buf + off, data->buffer, n);
        Esys_Free(data);
        off = (uint16_t)(off + n);
    }
    *out = buf;
    *out_len = size;
    buf = NULL;
out:
    free(buf);
    Esys_Free(pub);
    Esys_Free(cap);
    Esys_TR_Close(t->esys, &h);
    return e;
}

int wb_tpm_ek_cert(wb_tpm *t, uint8_t **der, size_t *len)
{
    uint8_t *blob = NULL, **certs = NULL;
    size_t blob_len = 0, *lens = NULL, n = 0;
    int rc;

    *der = NULL;
    *len = 0;
    if ((rc = nv_read(t, &blob, &blob_len, WB_TPM_EK_CERT_NV)) != 0)
        return rc;
    rc = wb_identity_load(&certs, &lens, &n, blob, blob_len, NULL, 0);
    free(blob);
    if (rc != 0)
        return wb_error_prefix(rc, "TPM: EK certificate at NV 0x%08x", WB_TPM_EK_CERT_NV);
    if (n != 1) {
        wb_identity_free(certs, lens, n);
        return wb_error_set(WB_E_INVALID, "TPM: NV 0x%08x holds %zu certificates, expected one",
                            WB_TPM_EK_CERT_NV, n);
    }
    *der = certs[0];
    *len = lens[0];
    certs[0] = NULL;
    wb_identity_free(certs, lens, n);
    return 0;
}

/* the RSA modulus of a certificate's key, 256 bytes */
static int cert_modulus(uint8_t n[256], const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    EVP_PKEY *pk = x ? X509_get0_pubkey(x) : NULL;
    BIGNUM *bn = NULL;
    int ok = pk && EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA &&
             EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &bn) &&
             BN_num_bytes(bn) == 256 && BN_bn2binpad(bn, n, 256) == 256;
    BN_free(bn);
    X509_free(x);
    if (!ok)
        return wb_error_set(WB_E_INVALID,
                            "TPM: the EK certificate's key is not RSA 2048 (only template "
                            "L-1 EKs are supported)");
    return 0;
}

static int create_ek(wb_tpm *t)
{
    TPM2B_SENSITIVE_CREATE sens = {0};
    TPM2B_PUBLIC tmpl = {0};
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION pcrs = {0};
    TPM2B_PUBLIC *pub = NULL;
    uint8_t *cert = NULL, mod[256];
    size_t cert_len = 0;
    TSS2_RC rc;
    int e;

    TPMT_PUBLIC *p = &tmpl.publicArea;
    p->type = TPM2_ALG_RSA;
    p->nameAlg = TPM2_ALG_SHA256;
    p->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                          TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
                          TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
    p->authPolicy.size = sizeof(ek_policy_a);
    memcpy(p->authPolicy.buffer, ek_policy_a, sizeof(ek_policy_a));
    p->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
    p->parameters.rsaDetail.symmetric.keyBits.aes = 128;
    p->parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
    p->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
    p->parameters.rsaDetail.keyBits = 2048;
    p->parameters.rsaDetail.exponent = 0;
    p->unique.rsa.size = 256; /* 256 zero bytes */

    if ((e = wb_tpm_ek_cert(t, &cert, &cert_len)) != 0)
        return e;
    e = cert_modulus(mod, cert, cert_len);
    free(cert);
    if (e != 0)
        return e;
    rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                            ESYS_TR_NONE, &sens, &tmpl, &outside, &pcrs, &t->ek, &pub, NULL,
                            NULL, NULL);
    if (rc != TSS2_RC_SUCCESS)
        return tss_fail(WB_E_IO, "creating the EK (template L-1)", rc);
    e = 0;
    if (pub->publicArea.unique.rsa.size != 256 ||
        memcmp(pub->publicArea.unique.rsa.buffer, mod, 256) != 0)
        e = wb_error_set(WB_E_VERIFY,
                         "TPM: the EK made from template L-1 is not the key of the EK "
                         "certificate at NV 0x%08x", WB_TPM_EK_CERT_NV);
    Esys_Free(pub);
    return e;
}

static int create_ak(wb_tpm *t)
{
    TPM2B_SENSITIVE_CREATE sens = {0};
    TPM2B_PUBLIC tmpl = {0};
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION pcrs = {0};
    TPM2B_PUBLIC *pub = NULL;
    uint8_t buf[WB_TPM_PUBLIC_MAX];
    size_t off = 0;
    TSS2_RC rc;

    TPMT_PUBLIC *p = &tmpl.publicArea;
    p->type = TPM2_ALG_ECC;
    p->nameAlg = TPM2_ALG_SHA256;
    p->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                          TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                          TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
    p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
    p->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
    p->parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
    p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;

    rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                            ESYS_TR_NONE, &sens, &tmpl, &outside, &pcrs, &t->ak, &pub, NULL,
                            NULL, NULL);
    if (rc != TSS2_RC_SUCCESS)
        return tss_fail(WB_E_IO, "creating the AK", rc);
    rc = Tss2_MU_TPMT_PUBLIC_Marshal(&pub->publicArea, buf, sizeof(buf), &off);
    Esys_Free(pub);
    if (rc != TSS2_RC_SUCCESS)
        return tss_fail(WB_E_INTERNAL, "marshalling the AK public area", rc);
    if (!(t->ak_public = malloc(off)))
        return wb_error_set(WB_E_NOMEM, "TPM: out of memory");
    memcpy(t->ak_public, buf, off);
    t->ak_public_len = off;
    return 0;
}

int wb_tpm_ak(wb_tpm *t, uint8_t **ak_public, size_t *len)
{
    int rc;

    *ak_public = NULL;
    *len = 0;
    if (t->ek == ESYS_TR_NONE && (rc = create_ek(t)) != 0)
        return rc;
    if (t->ak == ESYS_TR_NONE && (rc = create_ak(t)) != 0)
        return rc;
    if (!(*ak_public = malloc(t->ak_public_len)))
        return wb_error_set(WB_E_NOMEM, "TPM: out of memory");
    memcpy(*ak_public, t->ak_public, t->ak_public_len);
    *len = t->ak_public_len;
    return 0;
}

int wb_tpm_activate(wb_tpm *t, uint8_t secret[WB_TPM_SECRET_LEN], size_t *secret_len,
                    const uint8_t *credential, size_t credential_len)
{
    TPM2B_ID_OBJECT blob = {0};
    TPM2B_ENCRYPTED_SECRET enc = {0};
    TPMT_SYM_DEF sym = {.algorithm = TPM2_ALG_NULL};
    TPM2B_NONCE empty_nonce = {0};
    TPM2B_DIGEST empty_digest = {0};
    TPM2B_DIGEST *info = NULL;
    ESYS_TR session = ESYS_TR_NONE;
    size_t off = 0;
    TSS2_RC rc;
    int e = 0;

    *secret_len = 0;
    if (t->ak == ESYS_TR_NONE || t->ek == ESYS_TR_NONE)
        return wb_error_set(WB_E_INVALID, "TPM: activate before the AK was made (wb_tpm_ak)");
    if (!credential || credential_len > WB_TPM_CREDENTIAL_MAX ||
        Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(credential, credential_len, &off, &blob) !=
            TSS2_RC_SUCCESS ||
        Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(credential, credential_len, &off, &enc) !=
            TSS2_RC_SUCCESS ||
        off != credential_len)
        return wb_error_set(WB_E_INVALID, "TPM: the credential is not TPM2B_ID_OBJECT ‖ "
                            "TPM2B_ENCRYPTED_SECRET");

    rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                               ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256,
                               &session);
    if (rc != TSS2_RC_SUCCESS)
        return tss_fail(WB_E_IO, "starting the EK policy session", rc);
    rc = Esys_PolicySecret(t->esys, ESYS_TR_RH_ENDORSEMENT, session, ESYS_TR_PASSWORD,
                           ESYS_TR_NONE, ESYS_TR_NONE, &empty_nonce, &empty_digest,
                           &empty_nonce, 0, NULL, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        e = tss_fail(WB_E_IO, "TPM2_PolicySecret(endorsement) for the EK", rc);
        goto out;
    }
    rc = Esys_ActivateCredential(t->esys, t->ak, t->ek, ESYS_TR_PASSWORD, session,
                                 ESYS_TR_NONE, &blob, &enc, &info);
    if (rc != TSS2_RC_SUCCESS) {
        /* libtpms answers an EK that cannot decrypt the seed with
         * TPM_RC_FAILURE (0x101), not TPM_RC_VALUE, without entering
         * failure mode; a wrong AK name gives TPM_RC_INTEGRITY */
        e = wb_error_set(WB_E_VERIFY,
                         "TPM: TPM2_ActivateCredential refused the credential: it was made "
                         "for another EK or another AK (the TPM said: %s, 0x%x)",
                         Tss2_RC_Decode(rc), rc);
        goto out;
    }
    if (info->size > WB_TPM_SECRET_LEN) {
        e = wb_error_set(WB_E_VERIFY, "TPM: activated a %u-byte credential, more than %u",
                         info->size, WB_TPM_SECRET_LEN);
        goto out;
    }
    memcpy(secret, info->buffer, info->size);
    *secret_len = info->size;
out:
    if (info) {
        memset(info, 0, sizeof(*info));
        Esys_Free(info);
    }
    Esys_FlushContext(t->esys, session);
    return e;
}

static int pcr_selection(TPML_PCR_SELECTION *sel, uint16_t bank, uint32_t mask)
{
    if (wb_tpm_bank_size(bank) == 0)
        return wb_error_set(WB_E_INVALID, "TPM: PCR bank 0x%04x, only sha256 and sha384", bank);
    if (mask == 0 || (mask >> WB_TPM_PCRS) != 0)
        return wb_error_set(WB_E_INVALID, "TPM: PCR selection 0x%08x (PCRs 0..23, not none)",
                            mask);
    memset(sel, 0, sizeof(*sel));
    sel->count = 1;
    sel->pcrSelections[0].hash = bank;
    sel->pcrSelections[0].sizeofSelect = 3;
    sel->pcrSelections[0].pcrSelect[0] = (uint8_t)mask;
    sel->pcrSelections[0].pcrSelect[1] = (uint8_t)(mask >> 8);
    sel->pcrSelections[0].pcrSelect[2] = (uint8_t)(mask >> 16);
    return 0;
}

int wb_tpm_pcr_read(wb_tpm *t, wb_tpm_pcrs *out, uint16_t bank, uint32_t mask)
{
    TPML_PCR_SELECTION sel;
    size_t hl = wb_tpm_bank_size(bank);
    uint32_t left = mask;
    int rc;

    if ((rc = pcr_selection(&sel, bank, mask)) != 0)
        return rc;
    memset(out, 0, sizeof(*out));
    out->bank = bank;
    out->mask = mask;
    /* a TPM returns at most 8 values per read: ask again for the rest */
    while (left) {
        TPML_PCR_SELECTION *got = NULL;
        TPML_DIGEST *vals = NULL;
        uint32_t got_mask = 0, counter = 0;
        TSS2_RC trc;
        size_t k = 0;

        pcr_selection(&sel, bank, left);
        trc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, &counter,
                            &got, &vals);
        if (trc != TSS2_RC_SUCCESS)
            return tss_fail(WB_E_IO, "TPM2_PCR_Read", trc);
        for (uint32_t i = 0; i < got->count; i++) {
            if (got->pcrSelections[i].hash != bank)
                continue;
            for (unsigned b = 0; b < got->pcrSelections[i].sizeofSelect && b < 3; b++)
                got_mask |= (uint32_t)got->pcrSelections[i].pcrSelect[b] << (8 * b);
        }
        got_mask &= left;
        for (unsigned i = 0; i < WB_TPM_PCRS; i++) {
            if (!(got_mask & (1u << i)))
                continue;
            if (k >= vals->count || vals->digests[k].size != hl) {
                Esys_Free(got);
                Esys_Free(vals);
                return wb_error_set(WB_E_IO, "TPM: PCR_Read returned values that do not "
                                    "match its selection");
            }
            memcpy(out->value[i], vals->digests[k].buffer, hl);
            k++;
        }
        Esys_Free(got);
        Esys_Free(vals);
        if (got_mask == 0)
            return wb_error_set(WB_E_IO, "TPM: the %s bank has none of the PCRs asked for "
                                "(is the bank active?)", wb_tpm_bank_name(bank));
        left &= ~got_mask;
    }
    return 0;
}

int wb_tpm_pcr_extend(wb_tpm *t, unsigned pcr, uint16_t bank, const uint8_t *digest)
{
    TPML_DIGEST_VALUES d = {0};
    size_t hl = wb_tpm_bank_size(bank);
    TSS2_RC rc;

    if (hl == 0)
        return wb_error_set(WB_E_INVALID, "TPM: PCR bank 0x%04x, only sha256 and sha384", bank);
    if (pcr >= WB_TPM_PCRS)
        return wb_error_set(WB_E_INVALID, "TPM: PCR %u (0..23)", pcr);
    d.count = 1;
    d.digests[0].hashAlg = bank;
    memcpy(bank == WB_TPM_SHA256 ? d.digests[0].digest.sha256 : d.digests[0].digest.sha384,
           digest, hl);
    rc = Esys_PCR_Extend(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                         ESYS_TR_NONE, &d);
    if (rc != TSS2_RC_SUCCESS)
        return wb_error_set(WB_E_IO, "TPM: extending PCR %u (%s): %s (0x%x)", pcr,
                            wb_tpm_bank_name(bank), Tss2_RC_Decode(rc), rc);
    return 0;
}

int wb_tpm_quote(wb_tpm *t, wb_tpm_evidence *q, const uint8_t *nonce, size_t nonce_len,
                 uint16_t bank, uint32_t mask)
{
    TPML_PCR_SELECTION sel;
    TPM2B_DATA data = {0};
    TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL};
    TPM2B_ATTEST *attest = NULL;
    TPMT_SIGNATURE *sig = NULL;
    uint8_t buf[WB_TPM_SIG_MAX];
    size_t off = 0;
    TSS2_RC rc;
    int e;

    memset(q, 0, sizeof(*q));
    if (t->ak == ESYS_TR_NONE)
        return wb_error_set(WB_E_INVALID, "TPM: quote before the AK was made (wb_tpm_ak)");
    if (!nonce || nonce_len == 0 || nonce_len > WB_TPM_NONCE_MAX ||
        nonce_len > sizeof(data.buffer))
        return wb_error_set(WB_E_INVALID, "TPM: nonce of %zu bytes (1..%u)", nonce_len,
                            WB_TPM_NONCE_MAX);
    if ((e = pcr_selection(&sel, bank, mask)) != 0)
        return e;
    data.size = (uint16_t)nonce_len;
    memcpy(data.buffer, nonce, nonce_len);
    rc = Esys_Quote(t->esys, t->ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &data,
                    &scheme, &sel, &attest, &sig);
    if (rc != TSS2_RC_SUCCESS)
        return tss_fail(WB_E_IO, "TPM2_Quote", rc);
    e = 0;
    if (Tss2_MU_TPMT_SIGNATURE_Marshal(sig, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS) {
        e = wb_error_set(WB_E_INTERNAL, "TPM: marshalling the quote signature");
        goto out;
    }
    q->attest = malloc(attest->size ? attest->size : 1);
    q->sig = malloc(off);
    if (!q->attest || !q->sig) {
        e = wb_error_set(WB_E_NOMEM, "TPM: out of memory");
        goto out;
    }
    memcpy(q->attest, attest->attestationData, attest->size);
    q->attest_len = attest->size;
    memcpy(q->sig, buf, off);
    q->sig_len = off;
    e = wb_tpm_pcr_read(t, &q->pcrs, bank, mask);
out:
    Esys_Free(attest);
    Esys_Free(sig);
    if (e != 0)
        wb_tpm_evidence_cleanup(q);
    return e;
}
