/*
 * fuzz_evidence.c: libFuzzer target for wb_evidence_verify
 * (src/lib/attest/evidence.c): attestation evidence as a device sends it,
 * a tagged COSE_Sign1 with an x5chain and a CBOR payload, decoded
 * strictly and checked (alias link, identity chain, device id, signature,
 * nonce, time).
 *
 * So that inputs can get past the chain check, the verifier trusts the
 * last certificate of the input's own x5chain when it has three or more
 * (the seeds carry [alias, identity, supplier CA] and the real libspdm
 * [alias leaf, alias CA, intermediate]); the challenge is the 32 bytes
 * 00 01 .. 1f and the clock 2026-01-01, as in the seeds.
 *
 * The seeds were made once by small throwaway programs over the library
 * (wb_evidence_sign, then a byte or a field changed and signed again): one
 * good answer per alias algorithm and the real libspdm alias chains, and
 * one bad answer per check (named bad_<what>, e.g. bad_alias_other_issuer:
 * CHAIN, bad_dup_payload_key: FORMAT, bad_tampered_payload: SIGNATURE).
 *
 * Invariants checked, aborting on violation:
 *   - 0 exactly when the failure class is WB_EV_OK; a failure has a
 *     message and a class from FORMAT to STALE (never UNREACHABLE);
 *     FORMAT is WB_E_INVALID or WB_E_LIMIT (malformed), every later class
 *     WB_E_VERIFY (a check failed);
 *   - accepted evidence carries the challenge, a 64-digit lowercase hex
 *     device id, SHA-384 hex digests, non-empty names, at most
 *     WB_PROV_LIST_MAX of each, a time within the window;
 *   - verifying it again gives the same answer, and naming its own device
 *     as the one challenged still passes while naming another fails with
 *     WB_EV_IDENTITY.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/attest.h"
#include "waybill/cose.h"
#include "waybill/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1767225600 /* 2026-01-01, the seeds' time */

static int is_hex(const char *s, size_t n)
{
    if (strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static void check_accepted(const wb_evidence *ev, const uint8_t *nonce)
{
    if (ev->nonce_len != 32 || memcmp(ev->nonce, nonce, 32) != 0 ||
        !is_hex(ev->device, WB_DEVICE_ID_HEX) || ev->nmeasurements > WB_PROV_LIST_MAX ||
        ev->nslots > WB_PROV_LIST_MAX || ev->time < NOW - 300 || ev->time > NOW + 300)
        abort();
    for (size_t i = 0; i < ev->nmeasurements; i++)
        if (!ev->measurements[i].component[0] ||
            !is_hex(ev->measurements[i].digest, WB_DIGEST384_HEX))
            abort();
    for (size_t i = 0; i < ev->nslots; i++)
        if (!ev->slots[i].slot[0] || !is_hex(ev->slots[i].id, WB_DEVICE_ID_HEX))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t nonce[32];
    const uint8_t *cas[1];
    size_t ca_len[1];
    wb_cose_sign1 m;
    wb_evidence ev, again;
    wb_evidence_failure why = WB_EV_UNREACHABLE, why2;
    wb_evidence_check c;
    int decoded, rc;

    for (size_t i = 0; i < sizeof(nonce); i++)
        nonce[i] = (uint8_t)i;
    memset(&c, 0, sizeof(c));
    c.nonce = nonce;
    c.nonce_len = sizeof(nonce);
    c.now = NOW;
    c.max_age_s = 300;
    decoded = wb_cose_sign1_decode(&m, data, size, WB_EVIDENCE_MAX) == 0;
    if (decoded && m.hdr.nx5chain >= 3) {
        cas[0] = m.hdr.x5chain[m.hdr.nx5chain - 1].ptr;
        ca_len[0] = m.hdr.x5chain[m.hdr.nx5chain - 1].len;
        c.cas = cas;
        c.ca_len = ca_len;
        c.ncas = 1;
    }

    rc = wb_evidence_verify(&ev, &why, data, size, &c);
    if ((rc == 0) != (why == WB_EV_OK))
        abort();
    if (rc != 0 && (wb_error_message()[0] == '\0' || why < WB_EV_FORMAT || why > WB_EV_STALE))
        abort();
    if (rc != 0 && rc != WB_E_NOMEM &&
        (why == WB_EV_FORMAT ? rc != WB_E_INVALID && rc != WB_E_LIMIT : rc != WB_E_VERIFY))
        abort();
    if (rc == 0) {
        check_accepted(&ev, nonce);
        if (wb_evidence_verify(&again, &why2, data, size, &c) != 0 || why2 != WB_EV_OK ||
            strcmp(again.device, ev.device) != 0 || again.nmeasurements != ev.nmeasurements)
            abort();
        wb_evidence_cleanup(&again);
        c.expect_device = ev.device;
        if (wb_evidence_verify(&again, &why2, data, size, &c) != 0)
            abort();
        wb_evidence_cleanup(&again);
        c.expect_device = "0000000000000000000000000000000000000000000000000000000000000000";
        if (strcmp(ev.device, c.expect_device) != 0 &&
            (wb_evidence_verify(&again, &why2, data, size, &c) != WB_E_VERIFY ||
             why2 != WB_EV_IDENTITY))
            abort();
        wb_evidence_cleanup(&again);
    }
    wb_evidence_cleanup(&ev);
    if (decoded)
        wb_cose_sign1_cleanup(&m);
    return 0;
}
