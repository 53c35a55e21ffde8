/*
 * tpm_verify.c: the verifier's side of a TPM 2.0 quote (waybill/tpm.h):
 * the AK public area and its name, the quote's signature, its TPMS_ATTEST,
 * and the PCR values against the expected ones.
 *
 * Structures (TPM 2.0 Library Part 2, big-endian, all parsed with the
 * bounded reader; TPM2B = u16 size ‖ bytes):
 *
 *   TPMT_PUBLIC (§12.2.4), the one AK shape accepted:
 *     u16 type = TPM_ALG_ECC (0x0023)   u16 nameAlg = TPM_ALG_SHA256
 *     u32 objectAttributes              TPM2B authPolicy
 *     TPMS_ECC_PARMS: u16 symmetric = TPM_ALG_NULL,
 *                     u16 scheme = TPM_ALG_ECDSA, u16 hashAlg = SHA256,
 *                     u16 curveID = TPM_ECC_NIST_P256, u16 kdf = TPM_ALG_NULL
 *     TPMS_ECC_POINT: TPM2B x, TPM2B y (at most 32 bytes each)
 *   Its name (§16) is nameAlg ‖ H_nameAlg(the marshalled TPMT_PUBLIC).
 *
 *   TPMT_SIGNATURE (§11.3.4): u16 sigAlg = ECDSA, u16 hash = SHA256,
 *     TPM2B r, TPM2B s.
 *
 *   TPMS_ATTEST (§10.12.12): u32 magic = TPM_GENERATED_VALUE (0xff544347),
 *     u16 type = TPM_ST_ATTEST_QUOTE (0x8018), TPM2B qualifiedSigner,
 *     TPM2B extraData, TPMS_CLOCK_INFO (u64 clock, u32 resetCount,
 *     u32 restartCount, u8 safe), u64 firmwareVersion, then TPMS_QUOTE_INFO:
 *     TPML_PCR_SELECTION (u32 count, count × {u16 hash, u8 sizeofSelect,
 *     sizeofSelect bytes, PCR i = bit i%8 of byte i/8}), TPM2B pcrDigest.
 *
 * TPM_GENERATED_VALUE is what makes a signed TPMS_ATTEST different from
 * anything a restricted key would sign for an outsider: the TPM refuses to
 * sign, with a restricted key, an outside digest of a message that starts
 * with it (Part 1 §17.6.1), so a verified signature over bytes beginning
 * with the magic was made by TPM2_Quote (or another attestation command,
 * which the type tells apart).
 */
#include "waybill/tpm.h"
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TPM_ALG_ECC 0x0023
#define TPM_ALG_SHA256 0x000b
#define TPM_ALG_NULL 0x0010
#define TPM_ALG_ECDSA 0x0018
#define TPM_ECC_NIST_P256 0x0003
#define TPM_GENERATED_VALUE 0xff544347u
#define TPM_ST_ATTEST_QUOTE 0x8018

/* TPMA_OBJECT bits (Part 2 §8.3) */
#define TPMA_FIXEDTPM 0x00000002u
#define TPMA_FIXEDPARENT 0x00000010u
#define TPMA_SENSITIVEDATAORIGIN 0x00000020u
#define TPMA_RESTRICTED 0x00010000u
#define TPMA_DECRYPT 0x00020000u
#define TPMA_SIGN 0x00040000u

const char *wb_tpm_bank_name(uint16_t bank)
{
    switch (bank) {
    case WB_TPM_SHA256:
        return "sha256";
    case WB_TPM_SHA384:
        return "sha384";
    default:
        return "unknown";
    }
}

size_t wb_tpm_bank_size(uint16_t bank)
{
    switch (bank) {
    case WB_TPM_SHA256:
        return WB_SHA256_LEN;
    case WB_TPM_SHA384:
        return WB_SHA384_LEN;
    default:
        return 0;
    }
}

static int bank_hash(uint8_t *out, uint16_t bank, const void *data, size_t len)
{
    return bank == WB_TPM_SHA256 ? wb_sha256(out, data, len) : wb_sha384(out, data, len);
}

int wb_tpm_pcr_replay(uint8_t *value, uint16_t bank, const uint8_t *digests, size_t n)
{
    size_t hl = wb_tpm_bank_size(bank);
    uint8_t buf[2 * WB_TPM_PCR_MAX];
    int rc;

    if (hl == 0)
        return wb_error_set(WB_E_INVALID, "PCR bank 0x%04x: only sha256 and sha384", bank);
    memset(value, 0, hl);
    for (size_t i = 0; i < n; i++) {
        memcpy(buf, value, hl);
        memcpy(buf + hl, digests + i * hl, hl);
        if ((rc = bank_hash(value, bank, buf, 2 * hl)) != 0)
            return rc;
    }
    return 0;
}

/* a TPM2B into a sub-reader */
static int get_tpm2b(wb_reader *r, wb_reader *out)
{
    return wb_reader_get_u16_prefixed(r, out);
}

/* the AK's public point, parsed and checked */
typedef struct {
    uint8_t point[65]; /* 0x04 ‖ x ‖ y */
} ak_key;

/* copies a TPM2B coordinate of at most 32 bytes right-aligned into out[32] */
static int get_coord(wb_reader *r, uint8_t out[32])
{
    wb_reader c;
    size_t n;

    if (!get_tpm2b(r, &c))
        return 0;
    n = wb_reader_left(&c);
    if (n == 0 || n > 32)
        return 0;
    memset(out, 0, 32);
    return wb_reader_copy(&c, out + 32 - n, n);
}

static int ak_parse(ak_key *ak, uint8_t name[WB_TPM_NAME_LEN], const uint8_t *pub,
                    size_t len)
{
    wb_reader r, policy;
    uint16_t type, name_alg, sym, scheme, hash, curve, kdf;
    uint32_t attrs;
    const uint32_t need = TPMA_FIXEDTPM | TPMA_FIXEDPARENT | TPMA_SENSITIVEDATAORIGIN |
                          TPMA_RESTRICTED | TPMA_SIGN;
    int rc;

    if (len == 0 || len > WB_TPM_PUBLIC_MAX)
        return wb_error_set(WB_E_INVALID, "AK public: %zu bytes (1..%u)", len,
                            WB_TPM_PUBLIC_MAX);
    wb_reader_init(&r, pub, len);
    if (!wb_reader_get_u16be(&r, &type) || !wb_reader_get_u16be(&r, &name_alg) ||
        !wb_reader_get_u32be(&r, &attrs) || !get_tpm2b(&r, &policy))
        return wb_error_set(WB_E_INVALID, "AK public: truncated TPMT_PUBLIC header");
    if (type != TPM_ALG_ECC)
        return wb_error_set(WB_E_INVALID,
                            "AK public: key type 0x%04x, only ECC (0x0023) P-256 AKs are accepted",
                            type);
    if (name_alg != TPM_ALG_SHA256)
        return wb_error_set(WB_E_INVALID, "AK public: nameAlg 0x%04x, expected SHA-256",
                            name_alg);
    if ((attrs & need) != need || (attrs & TPMA_DECRYPT))
        return wb_error_set(WB_E_INVALID,
                            "AK public: attributes 0x%08x are not a restricted signing key "
                            "that never left its TPM (need fixedTPM, fixedParent, "
                            "sensitiveDataOrigin, restricted, sign; not decrypt)",
                            attrs);
    if (!wb_reader_get_u16be(&r, &sym))
        return wb_error_set(WB_E_INVALID, "AK public: truncated parameters");
    if (sym != TPM_ALG_NULL)
        return wb_error_set(WB_E_INVALID,
                            "AK public: symmetric 0x%04x, a signing key has none", sym);
    if (!wb_reader_get_u16be(&r, &scheme) || !wb_reader_get_u16be(&r, &hash) ||
        !wb_reader_get_u16be(&r, &curve) || !wb_reader_get_u16be(&r, &kdf))
        return wb_error_set(WB_E_INVALID, "AK public: truncated ECC parameters");
    if (scheme != TPM_ALG_ECDSA || hash != TPM_ALG_SHA256)
        return wb_error_set(WB_E_INVALID,
                            "AK public: scheme 0x%04x/0x%04x, expected ECDSA with SHA-256",
                            scheme, hash);
    if (curve != TPM_ECC_NIST_P256)
        return wb_error_set(WB_E_INVALID, "AK public: curve 0x%04x, expected NIST P-256",
                            curve);
    if (kdf != TPM_ALG_NULL)
        return wb_error_set(WB_E_INVALID, "AK public: kdf 0x%04x, expected none", kdf);
    ak->point[0] = 0x04;
    if (!get_coord(&r, ak->point + 1) || !get_coord(&r, ak->point + 33))
        return wb_error_set(WB_E_INVALID, "AK public: bad point (coordinates of 1..32 bytes)");
    if (wb_reader_left(&r) != 0)
        return wb_error_set(WB_E_INVALID, "AK public: %zu bytes after the TPMT_PUBLIC",
                            wb_reader_left(&r));
    name[0] = TPM_ALG_SHA256 >> 8;
    name[1] = TPM_ALG_SHA256 & 0xff;
    if ((rc = wb_sha256(name + 2, pub, len)) != 0)
        return rc;
    return 0;
}

int wb_tpm_ak_name(uint8_t name[WB_TPM_NAME_LEN], const uint8_t *ak_public, size_t len)
{
    ak_key ak;
    return ak_parse(&ak, name, ak_public, len);
}

void wb_tpm_evidence_cleanup(wb_tpm_evidence *q)
{
    if (!q)
        return;
    free(q->attest);
    free(q->sig);
    memset(q, 0, sizeof(*q));
}

/* TPMT_SIGNATURE (ECDSA/SHA-256) -> raw r‖s */
static int sig_parse(uint8_t raw[64], const uint8_t *sig, size_t len)
{
    wb_reader r;
    uint16_t alg, hash;

    if (len == 0 || len > WB_TPM_SIG_MAX)
        return wb_error_set(WB_E_INVALID, "quote signature: %zu bytes (1..%u)", len,
                            WB_TPM_SIG_MAX);
    wb_reader_init(&r, sig, len);
    if (!wb_reader_get_u16be(&r, &alg) || !wb_reader_get_u16be(&r, &hash))
        return wb_error_set(WB_E_INVALID, "quote signature: truncated TPMT_SIGNATURE");
    if (alg != TPM_ALG_ECDSA || hash != TPM_ALG_SHA256)
        return wb_error_set(WB_E_VERIFY,
                            "quote signature: algorithm 0x%04x/0x%04x, the AK signs "
                            "ECDSA (0x0018) with SHA-256 (0x000b)",
                            alg, hash);
    if (!get_coord(&r, raw) || !get_coord(&r, raw + 32) || wb_reader_left(&r) != 0)
        return wb_error_set(WB_E_INVALID,
                            "quote signature: malformed r, s (1..32 bytes each, nothing after)");
    return 0;
}

/* what a verifier needs from a TPMS_ATTEST of a quote */
typedef struct {
    wb_reader extra;
    uint16_t bank;
    uint32_t mask;
    int nbanks;
    wb_reader pcr_digest;
} quote_info;

static int attest_parse(quote_info *qi, const uint8_t *attest, size_t len)
{
    wb_reader r, signer, sel;
    uint32_t magic, count;
    uint16_t type;
    uint64_t u64;
    uint32_t u32;
    uint8_t u8;

    if (len == 0 || len > WB_TPM_ATTEST_MAX)
        return wb_error_set(WB_E_INVALID, "quote: TPMS_ATTEST of %zu bytes (1..%u)", len,
                            WB_TPM_ATTEST_MAX);
    wb_reader_init(&r, attest, len);
    if (!wb_reader_get_u32be(&r, &magic) || !wb_reader_get_u16be(&r, &type))
        return wb_error_set(WB_E_INVALID, "quote: truncated TPMS_ATTEST");
    if (magic != TPM_GENERATED_VALUE)
        return wb_error_set(WB_E_VERIFY,
                            "quote: magic 0x%08x is not TPM_GENERATED_VALUE (0xff544347): "
                            "not made by a TPM",
                            magic);
    if (type != TPM_ST_ATTEST_QUOTE)
        return wb_error_set(WB_E_VERIFY,
                            "quote: attestation type 0x%04x is not TPM_ST_ATTEST_QUOTE (0x8018)",
                            type);
    if (!get_tpm2b(&r, &signer) || !get_tpm2b(&r, &qi->extra) ||
        !wb_reader_get_u64be(&r, &u64) || !wb_reader_get_u32be(&r, &u32) ||
        !wb_reader_get_u32be(&r, &u32) || !wb_reader_get_u8(&r, &u8) ||
        !wb_reader_get_u64be(&r, &u64) || !wb_reader_get_u32be(&r, &count))
        return wb_error_set(WB_E_INVALID, "quote: truncated TPMS_ATTEST");
    if (count > 16)
        return wb_error_set(WB_E_INVALID, "quote: %u PCR selections (at most 16)", count);
    qi->nbanks = 0;
    qi->mask = 0;
    qi->bank = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint16_t hash;
        uint8_t size;
        uint32_t mask = 0;

        if (!wb_reader_get_u16be(&r, &hash) || !wb_reader_get_u8(&r, &size) ||
            !wb_reader_get_sub(&r, &sel, size))
            return wb_error_set(WB_E_INVALID, "quote: truncated PCR selection");
        for (uint8_t b = 0; b < size; b++) {
            uint8_t bits;
            if (!wb_reader_get_u8(&sel, &bits))
                return wb_error_set(WB_E_INTERNAL, "quote: PCR selection");
            if (bits != 0 && b >= 3)
                return wb_error_set(WB_E_VERIFY, "quote: selects a PCR above 23");
            if (b < 3)
                mask |= (uint32_t)bits << (8 * b);
        }
        if (mask == 0)
            continue; /* an empty selection for a bank selects nothing */
        qi->nbanks++;
        qi->bank = hash;
        qi->mask = mask;
    }
    if (!get_tpm2b(&r, &qi->pcr_digest))
        return wb_error_set(WB_E_INVALID, "quote: truncated pcrDigest");
    if (wb_reader_left(&r) != 0)
        return wb_error_set(WB_E_INVALID, "quote: %zu bytes after the TPMS_ATTEST",
                            wb_reader_left(&r));
    return 0;
}

/* "0, 7, 16" for a mask */
static void mask_text(char *out, size_t cap, uint32_t mask)
{
    size_t n = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < WB_TPM_PCRS && n < cap; i++) {
        if (mask & (1u << i)) {
            int k = snprintf(out + n, cap - n, "%s%u", n ? "," : "", i);
            if (k < 0)
                break;
            n += (size_t)k;
        }
    }
    if (n == 0)
        snprintf(out, cap, "none");
}

/* the first 8 bytes of a digest in hex, for a message */
static void short_hex(char out[17], const uint8_t *d)
{
    wb_hex_encode(out, d, 8);
}

int wb_tpm_quote_verify(const wb_tpm_evidence *q, const uint8_t *ak_public, size_t ak_len,
                        const uint8_t *nonce, size_t nonce_len, const wb_tpm_pcrs *expected)
{
    ak_key ak;
    uint8_t name[WB_TPM_NAME_LEN], raw[64], digest[WB_SHA256_LEN];
    uint8_t concat[WB_TPM_PCRS * WB_TPM_PCR_MAX];
    quote_info qi;
    wb_key *key = NULL;
    size_t hl, n = 0;
    char a[80], b[80];
    int rc;

    if (!q || !q->attest || !q->sig || !nonce || !expected)
        return wb_error_set(WB_E_INVALID, "quote: missing input");
    if (nonce_len < WB_TPM_NONCE_MIN || nonce_len > WB_TPM_NONCE_MAX)
        return wb_error_set(WB_E_INVALID, "quote: a nonce of %zu bytes (%u..%u)", nonce_len,
                            WB_TPM_NONCE_MIN, WB_TPM_NONCE_MAX);
    if ((rc = ak_parse(&ak, name, ak_public, ak_len)) != 0)
        return rc;
    if ((hl = wb_tpm_bank_size(expected->bank)) == 0)
        return wb_error_set(WB_E_INVALID, "expected PCRs: bank 0x%04x, only sha256 and sha384",
                            expected->bank);
    if (expected->mask == 0 || (expected->mask >> WB_TPM_PCRS) != 0)
        return wb_error_set(WB_E_INVALID, "expected PCRs: selection 0x%08x (PCRs 0..23, not none)",
                            expected->mask);

    /* 1. the signature, before anything in the attest bytes is believed */
    if ((rc = sig_parse(raw, q->sig, q->sig_len)) != 0)
        return rc;
    if ((rc = wb_key_from_public_raw(&key, WB_ALG_ES256, ak.point, sizeof(ak.point))) != 0)
        return wb_error_prefix(rc, "AK public");
    rc = wb_key_verify(key, raw, sizeof(raw), q->attest, q->attest_len);
    wb_key_free(key);
    if (rc == WB_E_VERIFY)
        return wb_error_set(WB_E_VERIFY,
                            "quote signature does not verify with the AK bound to this EK "
                            "(a quote from another TPM, or modified)");
    if (rc != 0)
        return wb_error_prefix(rc, "quote signature");

    /* 2. a quote */
    if ((rc = attest_parse(&qi, q->attest, q->attest_len)) != 0)
        return rc;

    /* 3. this challenge's */
    if (wb_reader_left(&qi.extra) != nonce_len ||
        memcmp(qi.extra.ptr, nonce, nonce_len) != 0)
        return wb_error_set(WB_E_VERIFY,
                            "quote: qualifyingData is not this challenge's nonce "
                            "(a stale or replayed quote)");

    /* 4. of the PCRs asked for */
    if (qi.nbanks != 1 || qi.bank != expected->bank || qi.mask != expected->mask) {
        mask_text(a, sizeof(a), qi.mask);
        mask_text(b, sizeof(b), expected->mask);
        if (qi.nbanks > 1)
            return wb_error_set(WB_E_VERIFY, "quote: selects PCRs of %d banks, expected %s {%s}",
                                qi.nbanks, wb_tpm_bank_name(expected->bank), b);
        return wb_error_set(WB_E_VERIFY, "quote: PCR selection %s {%s}, expected %s {%s}",
                            wb_tpm_bank_name(qi.bank), a, wb_tpm_bank_name(expected->bank), b);
    }

    /* 5. the values sent are the values quoted */
    if (q->pcrs.bank != expected->bank || q->pcrs.mask != expected->mask)
        return wb_error_set(WB_E_VERIFY,
                            "quote: the PCR values sent are not of the quoted selection");
    for (unsigned i = 0; i < WB_TPM_PCRS; i++) {
        if (expected->mask & (1u << i)) {
            memcpy(concat + n, q->pcrs.value[i], hl);
            n += hl;
        }
    }
    if ((rc = wb_sha256(digest, concat, n)) != 0)
        return rc;
    if (wb_reader_left(&qi.pcr_digest) != sizeof(digest) ||
        memcmp(qi.pcr_digest.ptr, digest, sizeof(digest)) != 0)
        return wb_error_set(WB_E_VERIFY,
                            "quote: the PCR values sent do not hash to the quoted pcrDigest "
                            "(altered, or extended between the quote and the read)");

    /* 6. the values expected */
    {
        int bad = 0, first = -1;
        for (unsigned i = 0; i < WB_TPM_PCRS; i++) {
            if ((expected->mask & (1u << i)) &&
                memcmp(q->pcrs.value[i], expected->value[i], hl) != 0) {
                if (first < 0)
                    first = (int)i;
                bad++;
            }
        }
        if (first >= 0) {
            char qh[17], eh[17];
            short_hex(qh, q->pcrs.value[first]);
            short_hex(eh, expected->value[first]);
            return wb_error_set(WB_E_VERIFY,
                                "PCR %d (%s): quoted %s.., expected %s.. (%d PCR%s differ: "
                                "firmware other than the released measurements)",
                                first, wb_tpm_bank_name(expected->bank), qh, eh, bad,
                                bad == 1 ? "" : "s");
        }
    }
    return 0;
}
