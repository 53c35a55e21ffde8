/*
 * fuzz_receipt.c: libFuzzer target for COSE receipt verification
 * (wb_receipt_verify: RFC9162_SHA256 and CCF_LEDGER_SHA256 proofs) and the
 * transparent-statement splitter.
 *
 * The input is taken two ways:
 *   1. as a transparent statement: split into the registered statement and
 *      its receipts, each receipt verified against that statement;
 *   2. as one receipt, verified against the fixed registered statement
 *      [h'', {}, h'', h''] (84 40 a0 40 40).
 * Keys: any kid finds, by alg, the RFC 8032 §7.1 TEST 1 Ed25519 key, the
 * COSE working group's P-256 key "11", or the P-384 key of the Azure Code
 * Transparency service in tests/vectors/cose (its receipt is a seed, so
 * the CCF path and the signature check are reached). Seeds with waybill
 * receipts were signed with the Ed25519 key.
 *
 * Verification may accept or refuse; when it accepts, the reported vds,
 * alg and sizes must be consistent, and verifying again must agree. Any
 * violation abort()s.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/cose.h"
#include "waybill/crypto.h"
#include "waybill/error.h"

static const uint8_t ed_seed[32] = {
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
static const uint8_t p256[65] = {
    0x04, 0xba, 0xc5, 0xb1, 0x1c, 0xad, 0x8f, 0x99, 0xf9, 0xc7, 0x2b, 0x05, 0xcf,
    0x4b, 0x9e, 0x26, 0xd2, 0x44, 0xdc, 0x18, 0x9f, 0x74, 0x52, 0x28, 0x25, 0x5a,
    0x21, 0x9a, 0x86, 0xd6, 0xa0, 0x9e, 0xff, 0x20, 0x13, 0x8b, 0xf8, 0x2d, 0xc1,
    0xb6, 0xd5, 0x62, 0xbe, 0x0f, 0xa5, 0x4a, 0xb7, 0x80, 0x4a, 0x3a, 0x64, 0xb6,
    0xd7, 0x2c, 0xcf, 0xed, 0x6b, 0x6f, 0xb6, 0xed, 0x28, 0xbb, 0xfc, 0x11, 0x7e};
/* esrp-cts-db.confidential-ledger.azure.com, kid da7694f1...e849 */
static const uint8_t p384[97] = {
    0x04, 0x19, 0xe4, 0x3f, 0xa8, 0x0d, 0xd9, 0xc5, 0x8a, 0x1a, 0x6a, 0x7d, 0xc3, 0xd2,
    0x70, 0x3b, 0xc6, 0xb8, 0x8c, 0x72, 0x68, 0x8c, 0xa9, 0x0d, 0x14, 0x35, 0x8d, 0x43,
    0x2e, 0xce, 0xc2, 0xe6, 0x42, 0x04, 0x68, 0x8f, 0xd1, 0x2f, 0xfd, 0x9d, 0xb9, 0x17,
    0x06, 0xd4, 0x88, 0xba, 0x83, 0xef, 0x3e, 0xb8, 0xa8, 0x91, 0xaf, 0x85, 0x14, 0xf1,
    0xa5, 0xee, 0x99, 0xc0, 0x3c, 0xc2, 0xee, 0x8b, 0x39, 0xab, 0x47, 0xd2, 0xa2, 0xf6,
    0x02, 0x31, 0x72, 0xdf, 0xff, 0x22, 0x07, 0x1d, 0xe6, 0x6e, 0xdd, 0x5f, 0xa1, 0x2e,
    0x71, 0x34, 0x79, 0x57, 0x72, 0x13, 0x0c, 0x2d, 0x34, 0x82, 0xbd, 0x12, 0xe7};

static wb_key *keys[3]; /* Ed25519, P-256, P-384 */

static int find_key(void *ctx, wb_cose_verifier *out, const uint8_t *kid, size_t kid_len,
                    int64_t alg)
{
    (void)ctx;
    (void)kid;
    (void)kid_len;
    switch (alg) {
    case WB_COSE_ALG_EDDSA: return wb_cose_verifier_for_key(out, keys[0]);
    case WB_COSE_ALG_ES256: return wb_cose_verifier_for_key(out, keys[1]);
    case WB_COSE_ALG_ES384: return wb_cose_verifier_for_key(out, keys[2]);
    default: return wb_error_set(WB_E_NOTFOUND, "no key for alg %lld", (long long)alg);
    }
}

static void verify(const uint8_t *r, size_t rlen, const uint8_t *st, size_t slen)
{
    wb_receipt_info info;
    int rc = wb_receipt_verify(&info, r, rlen, st, slen, find_key, NULL);

    if (rc != 0) {
        if (info.vds != 0 || info.alg != 0)
            abort(); /* a refused receipt reports nothing */
        return;
    }
    if ((info.vds != 1 && info.vds != 2) || wb_cose_alg_to_wb(info.alg) == WB_ALG_NONE ||
        info.kid_len > WB_COSE_KID_MAX || strlen(info.iss) > WB_COSE_TEXT_MAX)
        abort();
    if (info.vds == 1 && info.leaf_index >= info.tree_size)
        abort();
    if (info.vds == 2 && (info.tree_size != 0 || info.leaf_index != 0))
        abort();
    if (wb_receipt_verify(NULL, r, rlen, st, slen, find_key, NULL) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t tiny[] = {0x84, 0x40, 0xa0, 0x40, 0x40};
    uint8_t *reg;
    size_t reg_len, n;
    wb_cose_bytes *rs;

    if (!keys[0] && (wb_key_from_ed25519_seed(&keys[0], ed_seed) != 0 ||
                     wb_key_from_public_raw(&keys[1], WB_ALG_ES256, p256, sizeof(p256)) != 0 ||
                     wb_key_from_public_raw(&keys[2], WB_ALG_ES384, p384, sizeof(p384)) != 0))
        abort();

    if (wb_scitt_transparent_split(&reg, &reg_len, &rs, &n, data, size) == 0) {
        for (size_t i = 0; i < n; i++)
            verify(rs[i].ptr, rs[i].len, reg, reg_len);
        free(reg);
        wb_scitt_receipts_free(rs, n);
    }
    verify(data, size, tiny, sizeof(tiny));
    return 0;
}
