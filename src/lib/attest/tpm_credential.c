/*
 * tpm_credential.c: TPM2_MakeCredential in software, the verifier's half of
 * credential activation (waybill/tpm.h; TPM 2.0 Library Part 1 §24
 * "Credential Protection", Part 3 §12.6, Part 1 §11.4.9.2 KDFa, Part 1
 * Annex B.10.3 RSA secret sharing).
 *
 * For an EK with nameAlg H = SHA-256 and symmetric AES-128-CFB (TCG EK
 * Credential Profile template L-1, RSA 2048), and an AK named N:
 *
 *   seed      random, |H| = 32 bytes
 *   secret    EK-RSA-OAEP(seed), OAEP with H and MGF1-H, label "IDENTITY\0"
 *   symKey    KDFa(H, seed, "STORAGE", N, "", 128)
 *   encIdent  AES-128-CFB(symKey, IV = 0, TPM2B_DIGEST(credential))
 *   hmacKey   KDFa(H, seed, "INTEGRITY", "", "", 256)
 *   outerHMAC HMAC-H(hmacKey, encIdent ‖ N)
 *   credentialBlob (TPM2B_ID_OBJECT) = TPM2B(outerHMAC) ‖ encIdent
 *
 *   KDFa(H, K, label, U, V, bits) = the first bits of
 *     HMAC-H(K, [i]32 ‖ label ‖ 0x00 ‖ U ‖ V ‖ [bits]32), i = 1, 2, ...
 *
 * The TPM's TPM2_ActivateCredential decrypts the seed with the EK's private
 * key, recomputes the HMAC with the name of the object it was handed as the
 * AK, and only then decrypts the credential: a different EK gets a
 * different seed, a different AK a different name, and both fail the
 * integrity check. The verifier does not need a TPM of its own.
 *
 * RSA-OAEP, AES-CFB and HMAC are called from OpenSSL here rather than
 * through waybill/crypto.h, which holds waybill's own signature keys; these
 * are TPM wire-format primitives that nothing else in waybill uses.
 */
#include "waybill/tpm.h"
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/util.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <stdlib.h>
#include <string.h>

#define EK_RSA_BITS 2048
#define EK_SYM_BYTES 16 /* AES-128 */
#define SEED_LEN 32     /* |SHA-256| */

/* KDFa with HMAC-SHA-256 (Part 1 §11.4.9.2), out of bits/8 bytes */
static int kdfa(uint8_t *out, size_t out_len, const uint8_t *key, size_t key_len,
                const char *label, const uint8_t *u, size_t u_len)
{
    uint8_t msg[4 + 16 + 1 + WB_TPM_NAME_LEN + 4], block[32];
    size_t label_len = strlen(label), done = 0;
    uint32_t bits = (uint32_t)(out_len * 8);

    if (label_len > 16 || u_len > WB_TPM_NAME_LEN)
        return wb_error_set(WB_E_INTERNAL, "KDFa: label or context too long");
    for (uint32_t i = 1; done < out_len; i++) {
        size_t n = 0;
        unsigned int md_len = 0;

        msg[n++] = (uint8_t)(i >> 24);
        msg[n++] = (uint8_t)(i >> 16);
        msg[n++] = (uint8_t)(i >> 8);
        msg[n++] = (uint8_t)i;
        memcpy(msg + n, label, label_len);
        n += label_len;
        msg[n++] = 0x00;
        if (u_len) {
            memcpy(msg + n, u, u_len);
            n += u_len;
        }
        msg[n++] = (uint8_t)(bits >> 24);
        msg[n++] = (uint8_t)(bits >> 16);
        msg[n++] = (uint8_t)(bits >> 8);
        msg[n++] = (uint8_t)bits;
        if (!HMAC(EVP_sha256(), key, (int)key_len, msg, n, block, &md_len) || md_len != 32)
            return wb_error_set(WB_E_CRYPTO, "KDFa: HMAC-SHA-256 failed");
        size_t take = out_len - done < 32 ? out_len - done : 32;
        memcpy(out + done, block, take);
        done += take;
    }
    OPENSSL_cleanse(block, sizeof(block));
    return 0;
}

/* the EK's public key from its certificate, checked to be RSA 2048 */
static int ek_key(EVP_PKEY **out, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    EVP_PKEY *pk;

    if (!x || p != der + len) {
        X509_free(x);
        return wb_error_set(WB_E_INVALID, "EK certificate: not one DER X.509 certificate");
    }
    pk = X509_get_pubkey(x);
    X509_free(x);
    if (!pk)
        return wb_error_set(WB_E_INVALID, "EK certificate: its public key does not load");
    if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pk) != EK_RSA_BITS) {
        int bits = EVP_PKEY_get_bits(pk);
        const char *type = EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA ? "RSA" :
                           EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC  ? "ECC" : "other";
        EVP_PKEY_free(pk);
        return wb_error_set(WB_E_INVALID,
                            "EK certificate: key type %s, %d bits; credential activation "
                            "is implemented for RSA 2048 EKs (template L-1) only",
                            type, bits);
    }
    *out = pk;
    return 0;
}

/* RSA-OAEP-SHA-256 with label "IDENTITY\0"; out of 256 bytes */
static int oaep_encrypt(uint8_t *out, size_t *out_len, EVP_PKEY *pk, const uint8_t *in,
                        size_t in_len)
{
    static const char label[] = "IDENTITY"; /* with its NUL: 9 bytes */
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    unsigned char *lab = OPENSSL_malloc(sizeof(label));
    int ok;

    if (lab)
        memcpy(lab, label, sizeof(label));
    ok = ctx && lab && EVP_PKEY_encrypt_init(ctx) > 0 &&
         EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
         EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) > 0 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) > 0 &&
         EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, lab, (int)sizeof(label)) > 0;
    if (ok)
        lab = NULL; /* owned by ctx now */
    ok = ok && EVP_PKEY_encrypt(ctx, out, out_len, in, in_len) > 0;
    OPENSSL_free(lab);
    EVP_PKEY_CTX_free(ctx);
    if (!ok)
        return wb_error_set(WB_E_CRYPTO, "credential: RSA-OAEP encryption to the EK failed");
    return 0;
}

/* AES-128-CFB with a zero IV */
static int cfb_encrypt(uint8_t *out, const uint8_t key[EK_SYM_BYTES], const uint8_t *in,
                       size_t len)
{
    static const uint8_t iv[16];
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n1 = 0, n2 = 0;
    int ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_128_cfb128(), NULL, key, iv) > 0 &&
             EVP_EncryptUpdate(ctx, out, &n1, in, (int)len) > 0 &&
             EVP_EncryptFinal_ex(ctx, out + n1, &n2) > 0 && (size_t)(n1 + n2) == len;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok)
        return wb_error_set(WB_E_CRYPTO, "credential: AES-128-CFB failed");
    return 0;
}

int wb_tpm_make_credential(uint8_t **credential, size_t *len,
                           uint8_t secret[WB_TPM_SECRET_LEN], const uint8_t *ek_cert,
                           size_t ek_cert_len, const uint8_t *ak_public, size_t ak_len)
{
    uint8_t name[WB_TPM_NAME_LEN], seed[SEED_LEN], sym[EK_SYM_BYTES], hkey[32];
    uint8_t plain[2 + WB_TPM_SECRET_LEN], enc[sizeof(plain)], mac[32];
    uint8_t hmsg[sizeof(enc) + WB_TPM_NAME_LEN], rsa_out[EK_RSA_BITS / 8];
    size_t rsa_len = sizeof(rsa_out);
    unsigned int mac_len = 0;
    EVP_PKEY *pk = NULL;
    wb_buf b;
    int rc;

    *credential = NULL;
    *len = 0;
    if ((rc = wb_tpm_ak_name(name, ak_public, ak_len)) != 0)
        return rc;
    if ((rc = ek_key(&pk, ek_cert, ek_cert_len)) != 0)
        return rc;
    if ((rc = wb_random_bytes(secret, WB_TPM_SECRET_LEN)) != 0 ||
        (rc = wb_random_bytes(seed, sizeof(seed))) != 0)
        goto out;
    if ((rc = oaep_encrypt(rsa_out, &rsa_len, pk, seed, sizeof(seed))) != 0)
        goto out;
    if ((rc = kdfa(sym, sizeof(sym), seed, sizeof(seed), "STORAGE", name, sizeof(name))) != 0 ||
        (rc = kdfa(hkey, sizeof(hkey), seed, sizeof(seed), "INTEGRITY", NULL, 0)) != 0)
        goto out;
    /* the credential as a TPM2B_DIGEST, encrypted */
    plain[0] = 0;
    plain[1] = WB_TPM_SECRET_LEN;
    memcpy(plain + 2, secret, WB_TPM_SECRET_LEN);
    if ((rc = cfb_encrypt(enc, sym, plain, sizeof(plain))) != 0)
        goto out;
    memcpy(hmsg, enc, sizeof(enc));
    memcpy(hmsg + sizeof(enc), name, sizeof(name));
    if (!HMAC(EVP_sha256(), hkey, (int)sizeof(hkey), hmsg, sizeof(hmsg), mac, &mac_len) ||
        mac_len != sizeof(mac)) {
        rc = wb_error_set(WB_E_CRYPTO, "credential: HMAC-SHA-256 failed");
        goto out;
    }
    /* TPM2B_ID_OBJECT { TPM2B_DIGEST integrityHMAC ‖ encIdentity } ‖
     * TPM2B_ENCRYPTED_SECRET */
    wb_buf_init(&b, WB_TPM_CREDENTIAL_MAX);
    wb_buf_add_u16be(&b, (uint16_t)(2 + sizeof(mac) + sizeof(enc)));
    wb_buf_add_u16be(&b, (uint16_t)sizeof(mac));
    wb_buf_add(&b, mac, sizeof(mac));
    wb_buf_add(&b, enc, sizeof(enc));
    wb_buf_add_u16be(&b, (uint16_t)rsa_len);
    wb_buf_add(&b, rsa_out, rsa_len);
    rc = wb_buf_finish(&b, credential, len);
out:
    EVP_PKEY_free(pk);
    OPENSSL_cleanse(seed, sizeof(seed));
    OPENSSL_cleanse(sym, sizeof(sym));
    OPENSSL_cleanse(hkey, sizeof(hkey));
    OPENSSL_cleanse(plain, sizeof(plain));
    if (rc != 0)
        OPENSSL_cleanse(secret, WB_TPM_SECRET_LEN);
    return rc;
}

int wb_tpm_activation_check(const uint8_t secret[WB_TPM_SECRET_LEN], const uint8_t *answer,
                            size_t answer_len)
{
    if (!answer || answer_len != WB_TPM_SECRET_LEN ||
        CRYPTO_memcmp(secret, answer, WB_TPM_SECRET_LEN) != 0)
        return wb_error_set(WB_E_VERIFY,
                            "credential activation: the answer is not the secret, so the AK "
                            "is not bound to this EK (not in the same TPM)");
    return 0;
}
