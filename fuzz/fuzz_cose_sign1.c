/*
 * fuzz_cose_sign1.c: libFuzzer target for the strict CBOR loader and the
 * COSE_Sign1 decoder (waybill/cose.h), with the SCITT re-encodings on top.
 *
 * The input is decoded as a COSE_Sign1 (and, separately, as any strict
 * CBOR item). When it decodes, these must hold, or the target abort()s:
 *   - every span it exposes lies inside what it owns and has the length
 *     it claims; the unprotected map is a copy of input bytes;
 *   - the registered statement decodes again, with the same tag, protected
 *     bytes, payload and signature and an empty unprotected map, and
 *     registering it again gives the same bytes (re-encoding is canonical);
 *   - verification with the COSE working group's key "11" (ES256) returns a
 *     verdict, and 0 only for a protected alg of ES256;
 *   - splitting it as a transparent statement gives, when it succeeds, the
 *     same registered statement.
 * The seeds under corpus/fuzz_cose_sign1/ are RFC 9052 and cose-wg
 * examples, real SCITT statements and malformed variants.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/lib/cose/cose_int.h"
#include "waybill/cose.h"
#include "waybill/crypto.h"
#include "waybill/error.h"

static const uint8_t key11[65] = {
    0x04, 0xba, 0xc5, 0xb1, 0x1c, 0xad, 0x8f, 0x99, 0xf9, 0xc7, 0x2b, 0x05, 0xcf,
    0x4b, 0x9e, 0x26, 0xd2, 0x44, 0xdc, 0x18, 0x9f, 0x74, 0x52, 0x28, 0x25, 0x5a,
    0x21, 0x9a, 0x86, 0xd6, 0xa0, 0x9e, 0xff, 0x20, 0x13, 0x8b, 0xf8, 0x2d, 0xc1,
    0xb6, 0xd5, 0x62, 0xbe, 0x0f, 0xa5, 0x4a, 0xb7, 0x80, 0x4a, 0x3a, 0x64, 0xb6,
    0xd7, 0x2c, 0xcf, 0xed, 0x6b, 0x6f, 0xb6, 0xed, 0x28, 0xbb, 0xfc, 0x11, 0x7e};

static void check_registered(const wb_cose_sign1 *m)
{
    uint8_t *reg, *again;
    size_t reg_len, again_len;
    wb_cose_sign1 r;

    if (wb_scitt_registered_statement(&reg, &reg_len, m) != 0)
        return; /* only over the output limit */
    if (wb_cose_sign1_decode(&r, reg, reg_len, WB_COSE_MAX) != 0)
        abort();
    if (!r.tagged || r.protected_len != m->protected_len ||
        memcmp(r.protected_raw, m->protected_raw, m->protected_len) != 0 ||
        r.detached != m->detached || r.payload_len != m->payload_len ||
        (m->payload_len && memcmp(r.payload, m->payload, m->payload_len) != 0) ||
        r.sig_len != m->sig_len ||
        (m->sig_len && memcmp(r.signature, m->signature, m->sig_len) != 0) ||
        r.unprotected_len != 1 || r.unprotected_raw[0] != 0xa0 || r.hdr.alg != m->hdr.alg)
        abort();
    if (wb_scitt_registered_statement(&again, &again_len, &r) != 0 || again_len != reg_len ||
        memcmp(again, reg, reg_len) != 0)
        abort();
    free(again);
    wb_cose_sign1_cleanup(&r);
    free(reg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static wb_key *k11;
    wb_cose_verifier v;
    wb_cose_sign1 m;
    cbor_item_t *it;
    int rc;

    if (!k11 && wb_key_from_public_raw(&k11, WB_ALG_ES256, key11, sizeof(key11)) != 0)
        abort();
    if (wb_cbor_load(&it, data, size, WB_COSE_MAX, "fuzz") == 0)
        cbor_decref(&it);

    rc = wb_cose_sign1_decode(&m, data, size, WB_COSE_MAX);
    if (rc != 0) {
        if (m.priv || m.unprotected_raw || m.payload || m.signature)
            abort(); /* a failed decode leaves nothing */
        return 0;
    }
    if (m.protected_len > size || m.payload_len > size || m.sig_len > size ||
        m.unprotected_len == 0 || m.unprotected_len > size || !m.protected_raw ||
        !m.signature || (m.detached && m.payload) || (!m.detached && !m.payload) ||
        m.hdr.nx5chain > WB_COSE_X5CHAIN_MAX || m.hdr.kid.len > WB_COSE_KID_MAX ||
        m.hdr.ncrit > 16 || (m.unprotected_raw[0] & 0xe0) != 0xa0)
        abort();
    for (size_t i = 0; i < m.hdr.nx5chain; i++)
        if (!m.hdr.x5chain[i].ptr || m.hdr.x5chain[i].len == 0 ||
            m.hdr.x5chain[i].len > WB_COSE_CERT_MAX)
            abort();
    if ((m.hdr.iss && strlen(m.hdr.iss) > WB_COSE_TEXT_MAX) ||
        (m.hdr.cty && strlen(m.hdr.cty) > WB_COSE_TEXT_MAX))
        abort();
    (void)wb_scitt_statement_check(&m);
    check_registered(&m);

    if (wb_cose_verifier_for_key(&v, k11) != 0)
        abort();
    rc = wb_cose_sign1_verify(&m, &v, m.detached ? (const uint8_t *)"x" : NULL,
                              m.detached ? 1 : 0);
    if (rc == 0 && m.hdr.alg != WB_COSE_ALG_ES256)
        abort();
    if (rc != 0 && rc != WB_E_VERIFY)
        abort();

    {
        uint8_t *reg, *reg2;
        size_t reg_len, reg2_len, n;
        wb_cose_bytes *rs;
        if (wb_scitt_transparent_split(&reg, &reg_len, &rs, &n, data, size) == 0) {
            if (n == 0 || n > WB_COSE_RECEIPTS_MAX)
                abort();
            if (wb_scitt_registered_statement(&reg2, &reg2_len, &m) != 0 ||
                reg2_len != reg_len || memcmp(reg, reg2, reg_len) != 0)
                abort();
            free(reg2);
            free(reg);
            wb_scitt_receipts_free(rs, n);
        }
    }
    wb_cose_sign1_cleanup(&m);
    return 0;
}
