/*
 * evidence.c: attestation evidence (waybill/attest.h, docs/attestation.md
 * "Evidence"): a device's answer to a verifier's challenge, as a tagged
 * COSE_Sign1 (RFC 9052 §4.2) signed by its DICE-style alias key, with
 * x5chain (RFC 9360) [alias certificate, identity certificate,
 * intermediates...] in the protected header and a CBOR map payload
 * {1: nonce, 2: device id, 3: measurements, 4: slots, 5: time}.
 *
 * Signing writes the payload in deterministic CBOR (RFC 8949 §4.2.1).
 * Verifying decodes strictly (the cose module's loader: one item, definite
 * lengths, no duplicate keys, limits), refuses any payload that is not
 * exactly what this file would write for the same values (so one answer
 * has one encoding), and then checks, in the order attest.h gives and
 * naming the first check that fails:
 *
 *   1. structure: tag 18, alg ES384/ES256/EdDSA, content type, an empty
 *      unprotected header, an attached payload, 2..WB_EVIDENCE_CHAIN_MAX
 *      certificates in x5chain, each one DER X.509 certificate, the
 *      payload's fields                                       (WB_EV_FORMAT)
 *   2. the alias certificate is issued by the identity certificate (names
 *      and signature: wb_x509_issued_by; no path rules, a DICE identity
 *      certificate is often an end-entity one)                (WB_EV_CHAIN)
 *   3. the identity chain validates to one of the supplier CAs
 *      (wb_identity_verify, which also gives the device id)   (WB_EV_CHAIN)
 *   4. the payload's device id is the identity certificate's, and, when
 *      the verifier names the device it challenged, that one  (WB_EV_IDENTITY)
 *   5. the COSE signature verifies with the alias certificate's key, whose
 *      type is the alg's                                  (WB_EV_SIGNATURE)
 *   6. the nonce is the challenge (constant-time)              (WB_EV_STALE)
 *   7. the time is within max_age_s (default 300) of now, either way
 *                                                              (WB_EV_STALE)
 * Failed checks are WB_E_VERIFY; malformed evidence WB_E_INVALID (WB_E_LIMIT
 * over a limit). A check request that is itself wrong (no nonce, a nonce
 * out of 16..64 bytes, a negative max_age_s or now) is WB_E_INVALID with
 * WB_EV_FORMAT: the verifier's bug, but never a pass.
 *
 * On failure the caller still gets what the payload said (for its report;
 * wb_evidence_cleanup it), with the device id of the identity certificate
 * when that one parses: the name the certificate gives, not the payload's
 * claim.
 *
 * Cost: the public-key verifications of a good answer are steps 2, 3 and 5.
 * With the simulator's chains (x5chain [alias, identity, supplier CA], the
 * CA registered) that is 3: the alias certificate's signature (1), the
 * identity certificate's signature by the CA (1: OpenSSL does not check
 * the self-signature of a trust anchor) and the COSE signature (1). Each
 * intermediate CA between the identity and a registered CA adds one.
 */
#include "waybill/attest.h"
#include "waybill/cose.h"
#include "waybill/error.h"
#include "waybill/identity.h"
#include "waybill/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../cose/cose_int.h"

enum {
    EV_NONCE = 1,
    EV_DEVICE = 2,
    EV_MEASUREMENTS = 3,
    EV_SLOTS = 4,
    EV_TIME = 5,
};

void wb_evidence_cleanup(wb_evidence *ev)
{
    if (!ev)
        return;
    free(ev->measurements);
    free(ev->slots);
    memset(ev, 0, sizeof(*ev));
}

/* ---- values ---- */

static int is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static int is_device_id(const char *s)
{
    return strlen(s) == WB_DEVICE_ID_HEX && is_hex(s, WB_DEVICE_ID_HEX);
}

/* what both sides require of the values, whoever made them */
static int check_values(const wb_evidence *ev, const char *what)
{
    if (ev->nonce_len < WB_NONCE_MIN || ev->nonce_len > WB_NONCE_MAX)
        return wb_error_set(WB_E_INVALID, "%s: nonce of %zu bytes, not %d to %d", what,
                            ev->nonce_len, WB_NONCE_MIN, WB_NONCE_MAX);
    if (!is_device_id(ev->device))
        return wb_error_set(WB_E_INVALID, "%s: device id is not %d lowercase hex digits",
                            what, WB_DEVICE_ID_HEX);
    if (ev->nmeasurements > WB_PROV_LIST_MAX || ev->nslots > WB_PROV_LIST_MAX)
        return wb_error_set(WB_E_LIMIT, "%s: %zu measurements and %zu slots; at most %d "
                            "of each", what, ev->nmeasurements, ev->nslots,
                            WB_PROV_LIST_MAX);
    if ((ev->nmeasurements && !ev->measurements) || (ev->nslots && !ev->slots))
        return wb_error_set(WB_E_INVALID, "%s: a list without its items", what);
    for (size_t i = 0; i < ev->nmeasurements; i++) {
        const wb_measurement *m = &ev->measurements[i];
        size_t n = strnlen(m->component, sizeof(m->component));
        if (n == 0 || n > WB_PROV_NAME_MAX)
            return wb_error_set(WB_E_INVALID, "%s: measurements[%zu]: component name is "
                                "empty or over %d bytes", what, i, WB_PROV_NAME_MAX);
        if (strnlen(m->digest, sizeof(m->digest)) != WB_DIGEST384_HEX ||
            !is_hex(m->digest, WB_DIGEST384_HEX))
            return wb_error_set(WB_E_INVALID, "%s: measurements[%zu] (%s): digest is not "
                                "%d lowercase hex digits (SHA-384)", what, i, m->component,
                                WB_DIGEST384_HEX);
        for (size_t k = 0; k < i; k++)
            if (strcmp(ev->measurements[k].component, m->component) == 0)
                return wb_error_set(WB_E_INVALID, "%s: component '%s' is measured twice",
                                    what, m->component);
    }
    for (size_t i = 0; i < ev->nslots; i++) {
        const wb_slot_entry *s = &ev->slots[i];
        size_t n = strnlen(s->slot, sizeof(s->slot));
        if (n == 0 || n > WB_PROV_NAME_MAX)
            return wb_error_set(WB_E_INVALID, "%s: slots[%zu]: slot name is empty or over "
                                "%d bytes", what, i, WB_PROV_NAME_MAX);
        if (!is_device_id(s->id))
            return wb_error_set(WB_E_INVALID, "%s: slots[%zu] (%s): device id is not %d "
                                "lowercase hex digits", what, i, s->slot, WB_DEVICE_ID_HEX);
        for (size_t k = 0; k < i; k++)
            if (strcmp(ev->slots[k].slot, s->slot) == 0)
                return wb_error_set(WB_E_INVALID, "%s: slot '%s' is listed twice", what,
                                    s->slot);
    }
    if (ev->time < 0)
        return wb_error_set(WB_E_INVALID, "%s: time %lld is before the epoch", what,
                            (long long)ev->time);
    return 0;
}

/* the payload, deterministic: keys 1..5 in order */
static int encode_payload(uint8_t **out, size_t *len, const wb_evidence *ev)
{
    wb_buf b;
    uint8_t digest[WB_SHA384_LEN];
    wb_buf_init(&b, WB_EVIDENCE_MAX);
    wb_cbor_put_head(&b, WB_CBOR_MAP, 5);
    wb_cbor_put_uint(&b, EV_NONCE);
    wb_cbor_put_bytes(&b, ev->nonce, ev->nonce_len);
    wb_cbor_put_uint(&b, EV_DEVICE);
    wb_cbor_put_text(&b, ev->device, WB_DEVICE_ID_HEX);
    wb_cbor_put_uint(&b, EV_MEASUREMENTS);
    wb_cbor_put_head(&b, WB_CBOR_ARRAY, ev->nmeasurements);
    for (size_t i = 0; i < ev->nmeasurements; i++) {
        const wb_measurement *m = &ev->measurements[i];
        if (wb_hex_decode(digest, sizeof(digest), m->digest, WB_DIGEST384_HEX) != 0) {
            wb_buf_cleanup(&b);
            return wb_error_prefix(WB_E_INVALID, "measurements[%zu]", i);
        }
        wb_cbor_put_head(&b, WB_CBOR_ARRAY, 2);
        wb_cbor_put_text(&b, m->component, strlen(m->component));
        wb_cbor_put_bytes(&b, digest, sizeof(digest));
    }
    wb_cbor_put_uint(&b, EV_SLOTS);
    wb_cbor_put_head(&b, WB_CBOR_ARRAY, ev->nslots);
    for (size_t i = 0; i < ev->nslots; i++) {
        wb_cbor_put_head(&b, WB_CBOR_ARRAY, 2);
        wb_cbor_put_text(&b, ev->slots[i].slot, strlen(ev->slots[i].slot));
        wb_cbor_put_text(&b, ev->slots[i].id, WB_DEVICE_ID_HEX);
    }
    wb_cbor_put_uint(&b, EV_TIME);
    wb_cbor_put_uint(&b, (uint64_t)ev->time);
    return wb_buf_finish(&b, out, len);
}

/* ---- signing ---- */

int wb_evidence_sign(uint8_t **out, size_t *len, const wb_evidence *ev,
                     const wb_key *alias_key, const uint8_t *const *chain,
                     const size_t *chain_len, size_t nchain)
{
    wb_cose_headers h;
    wb_cose_signer signer;
    uint8_t *payload = NULL;
    size_t payload_len = 0;
    int rc;

    *out = NULL;
    *len = 0;
    if ((rc = check_values(ev, "evidence")) != 0)
        return rc;
    if (!alias_key || !wb_key_is_private(alias_key))
        return wb_error_set(WB_E_INVALID, "evidence: the alias key must be a private key");
    if (nchain < 2 || nchain > WB_EVIDENCE_CHAIN_MAX || !chain || !chain_len)
        return wb_error_set(WB_E_INVALID, "evidence: x5chain of %zu certificates; it needs "
                            "the alias and the identity certificate, at most %d in all",
                            nchain, WB_EVIDENCE_CHAIN_MAX);
    wb_cose_headers_init(&h);
    for (size_t i = 0; i < nchain; i++) {
        if (!chain[i] || chain_len[i] == 0 || chain_len[i] > WB_COSE_CERT_MAX)
            return wb_error_set(WB_E_INVALID, "evidence: certificate %zu is empty or over "
                                "%d bytes", i, WB_COSE_CERT_MAX);
        h.x5chain[i].ptr = chain[i];
        h.x5chain[i].len = chain_len[i];
    }
    h.nx5chain = nchain;
    h.cty = WB_EVIDENCE_CTY;
    if ((rc = wb_cose_signer_for_key(&signer, alias_key)) != 0)
        return wb_error_prefix(rc, "evidence: alias key");
    h.alg = signer.alg;
    if ((rc = encode_payload(&payload, &payload_len, ev)) != 0)
        return wb_error_prefix(rc, "evidence: payload");
    rc = wb_cose_sign1_create(out, len, &h, NULL, 0, payload, payload_len, 0, &signer);
    free(payload);
    if (rc)
        return wb_error_prefix(rc, "evidence");
    if (*len > WB_EVIDENCE_MAX) {
        size_t n = *len;
        free(*out);
        *out = NULL;
        *len = 0;
        return wb_error_set(WB_E_LIMIT, "evidence: %zu bytes, over the %d-byte limit", n,
                            WB_EVIDENCE_MAX);
    }
    return 0;
}

/* ---- decoding the payload ---- */

static int get_device_id(char out[WB_DEVICE_ID_HEX + 1], const cbor_item_t *it,
                         const char *what)
{
    size_t n;
    if (!cbor_isa_string(it))
        return wb_error_set(WB_E_INVALID, "evidence: payload: %s is %s, want a text string",
                            what, wb_cbor_type_name(it));
    n = cbor_string_length(it);
    if (n != WB_DEVICE_ID_HEX || !is_hex((const char *)cbor_string_handle(it), n))
        return wb_error_set(WB_E_INVALID, "evidence: payload: %s is not %d lowercase hex "
                            "digits", what, WB_DEVICE_ID_HEX);
    memcpy(out, cbor_string_handle(it), n);
    out[n] = '\0';
    return 0;
}

static int get_name(char out[WB_PROV_NAME_MAX + 1], const cbor_item_t *it, const char *what)
{
    char *s = NULL;
    int rc = wb_cbor_text_copy(&s, it, WB_PROV_NAME_MAX, what);
    if (rc)
        return wb_error_prefix(rc, "evidence: payload");
    if (!s[0]) {
        free(s);
        return wb_error_set(WB_E_INVALID, "evidence: payload: %s is empty", what);
    }
    memcpy(out, s, strlen(s) + 1);
    free(s);
    return 0;
}

/* a pair [a, b] */
static int get_pair(cbor_item_t **a, cbor_item_t **b, const cbor_item_t *it, const char *what)
{
    if (!cbor_isa_array(it) || cbor_array_size(it) != 2)
        return wb_error_set(WB_E_INVALID, "evidence: payload: %s is %s, want an array of "
                            "two", what, cbor_isa_array(it) ? "an array of another size"
                                                            : wb_cbor_type_name(it));
    *a = cbor_array_handle(it)[0];
    *b = cbor_array_handle(it)[1];
    return 0;
}

static int get_list(size_t *n, const cbor_item_t *it, const char *what)
{
    if (!cbor_isa_array(it))
        return wb_error_set(WB_E_INVALID, "evidence: payload: %s is %s, want an array",
                            what, wb_cbor_type_name(it));
    *n = cbor_array_size(it);
    if (*n > WB_PROV_LIST_MAX)
        return wb_error_set(WB_E_LIMIT, "evidence: payload: %s has %zu items, over the "
                            "limit of %d", what, *n, WB_PROV_LIST_MAX);
    return 0;
}

static int decode_measurements(wb_evidence *ev, const cbor_item_t *v)
{
    size_t n = 0;
    int rc = get_list(&n, v, "measurements (3)");
    if (rc)
        return rc;
    ev->measurements = calloc(n ? n : 1, sizeof(*ev->measurements));
    if (!ev->measurements)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        wb_measurement *m = &ev->measurements[i];
        cbor_item_t *c = NULL, *d = NULL;
        char what[64];
        snprintf(what, sizeof(what), "measurements[%zu]", i);
        if ((rc = get_pair(&c, &d, cbor_array_handle(v)[i], what)) != 0)
            return rc;
        snprintf(what, sizeof(what), "measurements[%zu] component", i);
        if ((rc = get_name(m->component, c, what)) != 0)
            return rc;
        if (!cbor_isa_bytestring(d) || cbor_bytestring_length(d) != WB_SHA384_LEN)
            return wb_error_set(WB_E_INVALID, "evidence: payload: measurements[%zu] (%s): "
                                "digest is not a byte string of %d bytes (SHA-384)", i,
                                m->component, WB_SHA384_LEN);
        wb_hex_encode(m->digest, wb_cbor_bytes(d), WB_SHA384_LEN);
        ev->nmeasurements++;
    }
    return 0;
}

static int decode_slots(wb_evidence *ev, const cbor_item_t *v)
{
    size_t n = 0;
    int rc = get_list(&n, v, "slots (4)");
    if (rc)
        return rc;
    ev->slots = calloc(n ? n : 1, sizeof(*ev->slots));
    if (!ev->slots)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        wb_slot_entry *s = &ev->slots[i];
        cbor_item_t *a = NULL, *b = NULL;
        char what[96];
        snprintf(what, sizeof(what), "slots[%zu]", i);
        if ((rc = get_pair(&a, &b, cbor_array_handle(v)[i], what)) != 0)
            return rc;
        snprintf(what, sizeof(what), "slots[%zu] slot", i);
        if ((rc = get_name(s->slot, a, what)) != 0)
            return rc;
        snprintf(what, sizeof(what), "slots[%zu] (%.40s) device id", i, s->slot);
        if ((rc = get_device_id(s->id, b, what)) != 0)
            return rc;
        ev->nslots++;
    }
    return 0;
}

static int decode_payload(wb_evidence *ev, const uint8_t *p, size_t len)
{
    static const char *const names[] = {"", "nonce (1)", "device (2)", "measurements (3)",
                                        "slots (4)", "time (5)"};
    cbor_item_t *it = NULL, *vals[6] = {NULL};
    uint8_t *again = NULL;
    size_t again_len = 0;
    int rc = wb_cbor_load(&it, p, len, WB_EVIDENCE_MAX, "evidence: payload");
    if (rc)
        return rc;
    if (!cbor_isa_map(it)) {
        rc = wb_error_set(WB_E_INVALID, "evidence: payload is %s, want a map",
                          wb_cbor_type_name(it));
        goto out;
    }
    for (size_t i = 0; i < cbor_map_size(it); i++) {
        const struct cbor_pair *kv = &cbor_map_handle(it)[i];
        int64_t k;
        if (!wb_cbor_int64(kv->key, &k) || k < EV_NONCE || k > EV_TIME) {
            char key[64];
            wb_cbor_key_text(key, sizeof(key), kv->key);
            rc = wb_error_set(WB_E_INVALID, "evidence: payload: unknown key %s", key);
            goto out;
        }
        vals[k] = kv->value;
    }
    for (int k = EV_NONCE; k <= EV_TIME; k++)
        if (!vals[k]) {
            rc = wb_error_set(WB_E_INVALID, "evidence: payload: no %s", names[k]);
            goto out;
        }
    if (!cbor_isa_bytestring(vals[EV_NONCE]) ||
        cbor_bytestring_length(vals[EV_NONCE]) < WB_NONCE_MIN ||
        cbor_bytestring_length(vals[EV_NONCE]) > WB_NONCE_MAX) {
        rc = wb_error_set(WB_E_INVALID, "evidence: payload: nonce (1) is not a byte string "
                          "of %d to %d bytes", WB_NONCE_MIN, WB_NONCE_MAX);
        goto out;
    }
    ev->nonce_len = cbor_bytestring_length(vals[EV_NONCE]);
    memcpy(ev->nonce, wb_cbor_bytes(vals[EV_NONCE]), ev->nonce_len);
    if ((rc = get_device_id(ev->device, vals[EV_DEVICE], "device (2)")) != 0 ||
        (rc = decode_measurements(ev, vals[EV_MEASUREMENTS])) != 0 ||
        (rc = decode_slots(ev, vals[EV_SLOTS])) != 0)
        goto out;
    if (!cbor_isa_uint(vals[EV_TIME]) || !wb_cbor_int64(vals[EV_TIME], &ev->time)) {
        rc = wb_error_set(WB_E_INVALID, "evidence: payload: time (5) is %s, want an "
                          "unsigned integer (seconds since the epoch)",
                          wb_cbor_type_name(vals[EV_TIME]));
        goto out;
    }
    if ((rc = check_values(ev, "evidence: payload")) != 0)
        goto out;
    /* one encoding per answer: what we would write, byte for byte */
    if ((rc = encode_payload(&again, &again_len, ev)) != 0)
        goto out;
    if (again_len != len || memcmp(again, p, len) != 0)
        rc = wb_error_set(WB_E_INVALID, "evidence: payload is not in deterministic CBOR "
                          "(RFC 8949 §4.2.1: shortest heads, keys 1 to 5 in order)");
out:
    free(again);
    cbor_decref(&it);
    return rc;
}

/* ---- verifying ---- */

#define DEFAULT_MAX_AGE_S 300

const char *wb_evidence_failure_name(wb_evidence_failure f)
{
    switch (f) {
    case WB_EV_OK:
        return "ok";
    case WB_EV_FORMAT:
        return "format";
    case WB_EV_CHAIN:
        return "chain";
    case WB_EV_IDENTITY:
        return "identity";
    case WB_EV_SIGNATURE:
        return "signature";
    case WB_EV_STALE:
        return "stale";
    case WB_EV_UNREACHABLE:
        return "unreachable";
    }
    return "?";
}

static int check_request(const wb_evidence_check *chk)
{
    if (!chk)
        return wb_error_set(WB_E_INVALID, "evidence check: nothing to check against");
    if (!chk->nonce || chk->nonce_len < WB_NONCE_MIN || chk->nonce_len > WB_NONCE_MAX)
        return wb_error_set(WB_E_INVALID, "evidence check: the challenge must be %d to %d "
                            "bytes", WB_NONCE_MIN, WB_NONCE_MAX);
    if (chk->max_age_s < 0)
        return wb_error_set(WB_E_INVALID, "evidence check: max_age_s is negative");
    if (chk->now < 0)
        return wb_error_set(WB_E_INVALID, "evidence check: now is before the epoch");
    return 0;
}

static const char *alg_text(int64_t alg)
{
    switch (alg) {
    case WB_COSE_ALG_ES384:
        return "ES384";
    case WB_COSE_ALG_ES256:
        return "ES256";
    case WB_COSE_ALG_EDDSA:
        return "EdDSA";
    default:
        return "?";
    }
}

static int structure(const wb_cose_sign1 *m)
{
    if (!m->tagged)
        return wb_error_set(WB_E_INVALID, "evidence: not a tagged COSE_Sign1 (CBOR tag 18)");
    if (m->hdr.alg != WB_COSE_ALG_ES384 && m->hdr.alg != WB_COSE_ALG_ES256 &&
        m->hdr.alg != WB_COSE_ALG_EDDSA)
        return wb_error_set(WB_E_INVALID, "evidence: alg %lld is not ES384 (-35), ES256 "
                            "(-7) or EdDSA (-8)", (long long)m->hdr.alg);
    if (!m->hdr.cty || strcmp(m->hdr.cty, WB_EVIDENCE_CTY) != 0)
        return wb_error_set(WB_E_INVALID, "evidence: content type (3) is %s%s%s, want %s",
                            m->hdr.cty ? "'" : "", m->hdr.cty ? m->hdr.cty : "absent",
                            m->hdr.cty ? "'" : "", WB_EVIDENCE_CTY);
    if (m->unprotected_len != 1) /* 0xa0: nothing the signature does not cover */
        return wb_error_set(WB_E_INVALID, "evidence: the unprotected header is not empty");
    if (m->detached)
        return wb_error_set(WB_E_INVALID, "evidence: the payload is detached");
    if (m->hdr.nx5chain < 2)
        return wb_error_set(WB_E_INVALID, "evidence: x5chain (33) has %zu certificate%s; it "
                            "needs the alias and the identity certificate", m->hdr.nx5chain,
                            m->hdr.nx5chain == 1 ? "" : "s");
    if (m->hdr.nx5chain > WB_EVIDENCE_CHAIN_MAX)
        return wb_error_set(WB_E_LIMIT, "evidence: x5chain (33) has %zu certificates, over "
                            "the limit of %d", m->hdr.nx5chain, WB_EVIDENCE_CHAIN_MAX);
    /* each one DER certificate (parsed only; the chain checks come later) */
    for (size_t i = 0; i < m->hdr.nx5chain; i++) {
        const wb_cose_bytes *c = &m->hdr.x5chain[i];
        uint8_t **der = NULL;
        size_t *len = NULL, n = 0;
        int rc = wb_identity_load(&der, &len, &n, c->ptr, c->len, NULL, 0);
        int one = rc == 0 && n == 1 && len[0] == c->len && memcmp(der[0], c->ptr, c->len) == 0;
        wb_identity_free(der, len, n);
        if (rc)
            return wb_error_prefix(rc == WB_E_LIMIT ? WB_E_LIMIT : WB_E_INVALID,
                                   "evidence: x5chain[%zu]", i);
        if (!one)
            return wb_error_set(WB_E_INVALID, "evidence: x5chain[%zu] is not one DER X.509 "
                                "certificate", i);
    }
    return 0;
}

/*
 * The checks after decoding, in attest.h's order; *f gets the failure
 * class of the first that fails.
 */
static int checks(wb_evidence_failure *f, const wb_cose_sign1 *m, const wb_evidence *got,
                  const wb_evidence_check *chk)
{
    const uint8_t *chain[WB_EVIDENCE_CHAIN_MAX];
    size_t chain_len[WB_EVIDENCE_CHAIN_MAX];
    char id[WB_IDENTITY_ID_HEX + 1];
    int64_t now, max_age = chk->max_age_s ? chk->max_age_s : DEFAULT_MAX_AGE_S;
    wb_key *alias = NULL;
    wb_cose_verifier v;
    int rc;

    for (size_t i = 0; i < m->hdr.nx5chain; i++) {
        chain[i] = m->hdr.x5chain[i].ptr;
        chain_len[i] = m->hdr.x5chain[i].len;
    }
    /* 2. the alias certificate hangs under the identity */
    *f = WB_EV_CHAIN;
    if ((rc = wb_x509_issued_by(chain[0], chain_len[0], chain[1], chain_len[1])) != 0)
        return wb_error_prefix(rc == WB_E_NOMEM ? rc : WB_E_VERIFY, "evidence: the alias "
                               "certificate is not issued by the identity certificate's key");
    /* 3. the identity under a supplier CA */
    rc = wb_identity_verify(id, chain + 1, chain_len + 1, m->hdr.nx5chain - 1, chk->cas,
                            chk->ca_len, chk->ncas);
    if (rc)
        return wb_error_prefix(rc, "evidence: identity certificate is not under the supplier "
                               "CAs");
    /* 4. the device says who it is, and is the one challenged */
    *f = WB_EV_IDENTITY;
    if (strcmp(got->device, id) != 0)
        return wb_error_set(WB_E_VERIFY, "evidence: the payload's device id %.16s... is not "
                            "the identity certificate's %.16s...", got->device, id);
    if (chk->expect_device && strcmp(chk->expect_device, id) != 0)
        return wb_error_set(WB_E_VERIFY, "evidence: the identity is device %.16s..., not "
                            "%.16s..., the device challenged (a clone, or another part in "
                            "its place?)", id, chk->expect_device);
    /* 5. signed by the alias key */
    *f = WB_EV_SIGNATURE;
    if ((rc = wb_key_from_x509_der(&alias, chain[0], chain_len[0])) != 0)
        return wb_error_prefix(WB_E_VERIFY, "evidence: alias certificate key");
    rc = wb_cose_verifier_for_key(&v, alias);
    if (rc)
        rc = wb_error_prefix(WB_E_VERIFY, "evidence: alias key");
    else if (v.alg != m->hdr.alg)
        rc = wb_error_set(WB_E_VERIFY, "evidence: alg %s, but the alias key is %s",
                          alg_text(m->hdr.alg), alg_text(v.alg));
    else if (wb_cose_sign1_verify(m, &v, NULL, 0) != 0)
        rc = wb_error_set(WB_E_VERIFY, "evidence: signature does not verify with the alias "
                          "key");
    wb_key_free(alias);
    if (rc)
        return rc;
    /* 6. an answer to this challenge */
    *f = WB_EV_STALE;
    if (got->nonce_len != chk->nonce_len ||
        !wb_ct_equal(got->nonce, chk->nonce, got->nonce_len))
        return wb_error_set(WB_E_VERIFY, "evidence: nonce is not the challenge (a replayed "
                            "answer?)");
    /* 7. and a fresh one (both non-negative: the differences cannot overflow) */
    now = chk->now ? chk->now : (int64_t)time(NULL);
    if (now - got->time > max_age)
        return wb_error_set(WB_E_VERIFY, "evidence: time %lld is %lld s old, over the %lld s "
                            "allowed (a stale answer?)", (long long)got->time,
                            (long long)(now - got->time), (long long)max_age);
    if (got->time - now > max_age)
        return wb_error_set(WB_E_VERIFY, "evidence: time %lld is %lld s in the future, over "
                            "the %lld s allowed (the device's clock?)", (long long)got->time,
                            (long long)(got->time - now), (long long)max_age);
    *f = WB_EV_OK;
    return 0;
}

int wb_evidence_verify(wb_evidence *ev, wb_evidence_failure *why, const uint8_t *data,
                       size_t len, const wb_evidence_check *chk)
{
    wb_evidence_failure f = WB_EV_FORMAT;
    wb_cose_sign1 m;
    char cert_id[WB_IDENTITY_ID_HEX + 1] = "", msg[WB_ERROR_MAX];
    int rc, rc2;

    memset(ev, 0, sizeof(*ev));
    memset(&m, 0, sizeof(m));
    if (why)
        *why = WB_EV_FORMAT;
    if ((rc = check_request(chk)) != 0)
        return rc;
    if (!data || len == 0)
        return wb_error_set(WB_E_INVALID, "evidence: empty");
    if (len > WB_EVIDENCE_MAX)
        return wb_error_set(WB_E_LIMIT, "evidence: %zu bytes, over the %d-byte limit", len,
                            WB_EVIDENCE_MAX);

    /* 1. structure; the payload is decoded even when the envelope is
     * wrong, for the verifier's report */
    if ((rc = wb_cose_sign1_decode(&m, data, len, WB_EVIDENCE_MAX)) != 0)
        return wb_error_prefix(rc, "evidence");
    rc = structure(&m);
    snprintf(msg, sizeof(msg), "%s", wb_error_message());
    if (m.hdr.nx5chain >= 2 &&
        wb_identity_device_id(cert_id, m.hdr.x5chain[1].ptr, m.hdr.x5chain[1].len) != 0)
        cert_id[0] = '\0';
    if (!m.detached) {
        rc2 = decode_payload(ev, m.payload, m.payload_len);
        if (rc == 0)
            rc = rc2;
        else /* the envelope's failure is the first */
            wb_error_set(rc, "%s", msg);
    }
    if (rc == 0)
        rc = checks(&f, &m, ev, chk);
    wb_cose_sign1_cleanup(&m);
    if (rc && cert_id[0]) /* who the certificate says answered, not the payload's claim */
        memcpy(ev->device, cert_id, sizeof(cert_id));
    if (why)
        *why = rc ? f : WB_EV_OK;
    return rc;
}
