/*
 * test_evidence.c: attestation evidence (waybill/attest.h,
 * docs/attestation.md "Evidence"): signing and strict verification.
 *
 *   - valid evidence from DICE-style chains made here (supplier CA ->
 *     device identity certificate, an end-entity one -> alias certificate
 *     issued by the identity key), P-384, P-256 and Ed25519 alias keys, and
 *     with an intermediate CA between the supplier and the identity;
 *   - valid evidence from the real libspdm alias-model chain
 *     (tests/vectors/spdm/ecpNNN/bundle_responder.certchain_alias.der:
 *     ca ‖ inter ‖ alias CA ‖ alias leaf), signed with the leaf's real test
 *     key end_responder.key: the alias CA is the device identity, the real
 *     leaf the alias certificate, so the verifier meets libspdm's name
 *     forms and extensions (SAN otherName, critical EKU, the DMTF OID
 *     1.3.6.1.4.1.412.274.6); and the real responder certificate as an
 *     identity with an alias certificate issued here under its real key;
 *   - every failure, each named: wrong nonce (replay), stale and future
 *     time, a flipped signature byte, an alias certificate not issued by
 *     the identity (by name, by signature, and the real libspdm leaf under
 *     the wrong real certificate), an identity not under the CAs, a payload
 *     device id that is not the identity's, malformed CBOR (truncations,
 *     trailing bytes, untagged, wrong content type, unprotected headers,
 *     non-deterministic or unknown payload fields, a key twice or missing,
 *     an x5chain element that is not one DER certificate), unknown alg,
 *     oversize;
 *   - a payload byte or the nonce changed after signing (SIGNATURE), and
 *     the order of the checks (IDENTITY before SIGNATURE before STALE);
 *   - the real Caliptra DICE links that do not hold (FMC alias under the
 *     LDevID: issuer name; redacted RT alias: signature) fail as CHAIN.
 */
#include "wbtest.h"

#include <string.h>
#include <time.h>

#include "waybill/attest.h"
#include "waybill/cose.h"
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/identity.h"
#include "waybill/util.h"

/* device ids of the libspdm alias CAs (the "responder alias end cert"),
 * computed once with
 *   openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum */
#define ID_SPDM384_ALIAS_CA "61e43a759541a63477343a2e9b7a7ef5767b68993240cc8ff2ec5297e5aff8c7"
#define ID_SPDM256_ALIAS_CA "78bb5ae7e6763348056ebf8daca03f27d06588ed2dd47fba8a984a38e1fa3121"

#define MAX_AGE 300

/* ---- a DICE-style device made here ---- */

typedef struct {
    wb_key *ca_key, *id_key, *alias_key;
    uint8_t *ca, *id, *alias; /* DER */
    size_t ca_len, id_len, alias_len;
    char device[WB_DEVICE_ID_HEX + 1];
} device;

static void device_make(device *d, wb_alg alias_alg, const char *org)
{
    memset(d, 0, sizeof(*d));
    assert_int_equal(wb_key_generate(&d->ca_key, WB_ALG_ES384), 0);
    assert_int_equal(wb_x509_issue(&d->ca, &d->ca_len, d->ca_key, "Device Identity CA", org,
                                   d->ca_key, NULL, 0, 1, 1, 3650), 0);
    assert_int_equal(wb_key_generate(&d->id_key, WB_ALG_ES384), 0);
    assert_int_equal(wb_x509_issue(&d->id, &d->id_len, d->id_key, "CR-100 SN 0001", org,
                                   d->ca_key, d->ca, d->ca_len, 0, 2, 3650), 0);
    /* the alias certificate: issued by the identity key under the identity
     * certificate's name, although that one is not a CA */
    assert_int_equal(wb_key_generate(&d->alias_key, alias_alg), 0);
    assert_int_equal(wb_x509_issue(&d->alias, &d->alias_len, d->alias_key,
                                   "CR-100 SN 0001 alias", org, d->id_key, d->id, d->id_len, 0,
                                   3, 30), 0);
    assert_int_equal(wb_identity_device_id(d->device, d->id, d->id_len), 0);
}

static void device_free(device *d)
{
    wb_key_free(d->ca_key);
    wb_key_free(d->id_key);
    wb_key_free(d->alias_key);
    free(d->ca);
    free(d->id);
    free(d->alias);
}

static wb_measurement meas[2];
static wb_slot_entry slots[2];

/* evidence values for device id dev, time t */
static void ev_make(wb_evidence *ev, const char *dev, int64_t t)
{
    uint8_t h[WB_SHA384_LEN];
    memset(ev, 0, sizeof(*ev));
    for (size_t i = 0; i < 32; i++)
        ev->nonce[i] = (uint8_t)(0xa0 + i);
    ev->nonce_len = 32;
    snprintf(ev->device, sizeof(ev->device), "%s", dev);
    snprintf(meas[0].component, sizeof(meas[0].component), "rot");
    wb_sha384(h, "rot firmware 1.4.2", 18);
    wb_hex_encode(meas[0].digest, h, sizeof(h));
    snprintf(meas[1].component, sizeof(meas[1].component), "bmc");
    wb_sha384(h, "bmc firmware 2.14.3", 19);
    wb_hex_encode(meas[1].digest, h, sizeof(h));
    snprintf(slots[0].slot, sizeof(slots[0].slot), "nic0");
    memset(slots[0].id, 'a', WB_DEVICE_ID_HEX);
    slots[0].id[WB_DEVICE_ID_HEX] = '\0';
    snprintf(slots[1].slot, sizeof(slots[1].slot), "ssd0");
    memset(slots[1].id, '7', WB_DEVICE_ID_HEX);
    slots[1].id[WB_DEVICE_ID_HEX] = '\0';
    ev->measurements = meas;
    ev->nmeasurements = 2;
    ev->slots = slots;
    ev->nslots = 2;
    ev->time = t;
}

static uint8_t *sign_chain(size_t *len, const wb_evidence *ev, const wb_key *k,
                           const uint8_t *c0, size_t l0, const uint8_t *c1, size_t l1,
                           const uint8_t *c2, size_t l2)
{
    const uint8_t *chain[3] = {c0, c1, c2};
    size_t chain_len[3] = {l0, l1, l2};
    uint8_t *out = NULL;
    if (wb_evidence_sign(&out, len, ev, k, chain, chain_len, c2 ? 3 : 2) != 0)
        fail_msg("sign: %s", wb_error_message());
    return out;
}

static uint8_t *sign_dev(size_t *len, const device *d, const wb_evidence *ev)
{
    return sign_chain(len, ev, d->alias_key, d->alias, d->alias_len, d->id, d->id_len, NULL,
                      0);
}

static wb_evidence_check check_for(const uint8_t *const *cas, const size_t *ca_len,
                                   size_t ncas, const wb_evidence *sent, int64_t now)
{
    wb_evidence_check c;
    memset(&c, 0, sizeof(c));
    c.nonce = sent->nonce;
    c.nonce_len = sent->nonce_len;
    c.cas = cas;
    c.ca_len = ca_len;
    c.ncas = ncas;
    c.now = now;
    c.max_age_s = MAX_AGE;
    return c;
}

/* verify must fail with code, failure class f and a message containing want */
static void expect_fail_ev(wb_evidence *got, const uint8_t *data, size_t len,
                           const wb_evidence_check *c, int code, wb_evidence_failure f,
                           const char *want)
{
    wb_evidence_failure why = WB_EV_OK;
    int rc = wb_evidence_verify(got, &why, data, len, c);
    if (rc != code || why != f || !strstr(wb_error_message(), want))
        fail_msg("want %s/%s with '%s', got %s/%s: %s", wb_error_name(code),
                 wb_evidence_failure_name(f), want, wb_error_name(rc),
                 wb_evidence_failure_name(why), wb_error_message());
}

static void expect_fail(const uint8_t *data, size_t len, const wb_evidence_check *c, int code,
                        wb_evidence_failure f, const char *want)
{
    wb_evidence got;
    expect_fail_ev(&got, data, len, c, code, f, want);
    wb_evidence_cleanup(&got);
}

/* verify must pass */
static void expect_ok(wb_evidence *got, const uint8_t *data, size_t len,
                      const wb_evidence_check *c, const char *what)
{
    wb_evidence_failure why = WB_EV_FORMAT;
    if (wb_evidence_verify(got, &why, data, len, c) != 0)
        fail_msg("%s: %s", what, wb_error_message());
    assert_int_equal(why, WB_EV_OK);
}

static void expect_same(const wb_evidence *got, const wb_evidence *sent)
{
    assert_int_equal(got->nonce_len, sent->nonce_len);
    assert_memory_equal(got->nonce, sent->nonce, sent->nonce_len);
    assert_string_equal(got->device, sent->device);
    assert_int_equal(got->time, sent->time);
    assert_int_equal(got->nmeasurements, sent->nmeasurements);
    for (size_t i = 0; i < sent->nmeasurements; i++) {
        assert_string_equal(got->measurements[i].component, sent->measurements[i].component);
        assert_string_equal(got->measurements[i].digest, sent->measurements[i].digest);
    }
    assert_int_equal(got->nslots, sent->nslots);
    for (size_t i = 0; i < sent->nslots; i++) {
        assert_string_equal(got->slots[i].slot, sent->slots[i].slot);
        assert_string_equal(got->slots[i].id, sent->slots[i].id);
    }
}

/* ---- valid evidence ---- */

static void test_valid_generated(void **state)
{
    static const wb_alg algs[] = {WB_ALG_ES384, WB_ALG_ES256, WB_ALG_ED25519};
    static const int64_t cose_algs[] = {WB_COSE_ALG_ES384, WB_COSE_ALG_ES256,
                                        WB_COSE_ALG_EDDSA};
    int64_t now = (int64_t)time(NULL);
    (void)state;
    for (size_t a = 0; a < 3; a++) {
        device d;
        wb_evidence ev, got;
        wb_evidence_check c;
        wb_cose_sign1 m;
        const uint8_t *cas[1];
        size_t ca_len[1], len;
        uint8_t *e;
        device_make(&d, algs[a], "Contoso Silicon");
        ev_make(&ev, d.device, now);
        e = sign_dev(&len, &d, &ev);
        assert_true(len <= WB_EVIDENCE_MAX);
        /* the COSE shape attest.h promises */
        assert_int_equal(wb_cose_sign1_decode(&m, e, len, WB_EVIDENCE_MAX), 0);
        assert_true(m.tagged);
        assert_int_equal(m.hdr.alg, cose_algs[a]);
        assert_string_equal(m.hdr.cty, WB_EVIDENCE_CTY);
        assert_int_equal(m.hdr.nx5chain, 2);
        assert_int_equal(m.hdr.x5chain[0].len, d.alias_len);
        assert_memory_equal(m.hdr.x5chain[0].ptr, d.alias, d.alias_len);
        wb_cose_sign1_cleanup(&m);

        cas[0] = d.ca;
        ca_len[0] = d.ca_len;
        c = check_for(cas, ca_len, 1, &ev, 0); /* now: the clock */
        expect_ok(&got, e, len, &c, "verify");
        expect_same(&got, &ev);
        wb_evidence_cleanup(&got);
        wb_evidence_cleanup(&got); /* twice is harmless */

        /* at the edges of the window */
        c.now = now + MAX_AGE;
        expect_ok(&got, e, len, &c, "verify");
        wb_evidence_cleanup(&got);
        c.now = now - MAX_AGE;
        expect_ok(&got, e, len, &c, "verify");
        wb_evidence_cleanup(&got);
        free(e);
        device_free(&d);
    }
}

static void test_valid_empty_lists_and_intermediate(void **state)
{
    device d;
    wb_key *inter_key = NULL;
    uint8_t *inter = NULL, *id = NULL, *alias = NULL, *e;
    size_t inter_len, id_len, alias_len, len;
    wb_evidence ev, got;
    wb_evidence_check c;
    const uint8_t *cas[2];
    size_t ca_len[2];
    char dev[WB_DEVICE_ID_HEX + 1];
    (void)state;
    device_make(&d, WB_ALG_ES384, "Litware Networks");

    /* a NIC: no slots, one measurement; a nonce at each size limit */
    ev_make(&ev, d.device, 1700000000);
    ev.nslots = 0;
    ev.slots = NULL;
    ev.nmeasurements = 1;
    for (size_t n = WB_NONCE_MIN; n <= WB_NONCE_MAX; n += WB_NONCE_MAX - WB_NONCE_MIN) {
        ev.nonce_len = n;
        e = sign_dev(&len, &d, &ev);
        cas[0] = d.ca;
        ca_len[0] = d.ca_len;
        c = check_for(cas, ca_len, 1, &ev, 1700000000);
        expect_ok(&got, e, len, &c, "verify");
        expect_same(&got, &ev);
        wb_evidence_cleanup(&got);
        free(e);
    }

    /* supplier root -> intermediate -> identity -> alias, the intermediate
     * in x5chain; the root or the intermediate as the anchor */
    assert_int_equal(wb_key_generate(&inter_key, WB_ALG_ES384), 0);
    assert_int_equal(wb_x509_issue(&inter, &inter_len, inter_key, "Litware Issuing CA 7",
                                   "Litware Networks", d.ca_key, d.ca, d.ca_len, 1, 9, 3650),
                     0);
    assert_int_equal(wb_x509_issue(&id, &id_len, d.id_key, "LN-400 SN 42", "Litware Networks",
                                   inter_key, inter, inter_len, 0, 10, 3650), 0);
    assert_int_equal(wb_x509_issue(&alias, &alias_len, d.alias_key, "LN-400 SN 42 alias",
                                   "Litware Networks", d.id_key, id, id_len, 0, 11, 30), 0);
    assert_int_equal(wb_identity_device_id(dev, id, id_len), 0);
    assert_string_equal(dev, d.device); /* the same identity key */
    ev_make(&ev, dev, 1700000000);
    e = sign_chain(&len, &ev, d.alias_key, alias, alias_len, id, id_len, inter, inter_len);
    cas[0] = d.ca;
    ca_len[0] = d.ca_len;
    c = check_for(cas, ca_len, 1, &ev, 1700000000);
    expect_ok(&got, e, len, &c, "verify");
    wb_evidence_cleanup(&got);
    cas[0] = inter;
    ca_len[0] = inter_len;
    expect_ok(&got, e, len, &c, "verify");
    wb_evidence_cleanup(&got);
    free(e);
    /* without the intermediate in x5chain, the root alone is not enough */
    e = sign_chain(&len, &ev, d.alias_key, alias, alias_len, id, id_len, NULL, 0);
    cas[0] = d.ca;
    ca_len[0] = d.ca_len;
    expect_fail(e, len, &c, WB_E_VERIFY, WB_EV_CHAIN,
                "identity certificate is not under the supplier CAs");
    free(e);
    wb_key_free(inter_key);
    free(inter);
    free(id);
    free(alias);
    device_free(&d);
}

/* ---- the real libspdm alias model ---- */

typedef struct {
    uint8_t **der;
    size_t *len;
    size_t n;
} certs;

static void load_certs(certs *c, const char *rel)
{
    size_t n;
    char *data = wbt_read_file(wbt_vector_path(rel), &n);
    if (wb_identity_load(&c->der, &c->len, &c->n, (const uint8_t *)data, n, NULL, 0) != 0)
        fail_msg("%s: %s", rel, wb_error_message());
    free(data);
}

static wb_key *load_key(const char *rel)
{
    wb_key *k = NULL;
    if (wb_key_read_file(&k, wbt_vector_path(rel)) != 0)
        fail_msg("%s: %s", rel, wb_error_message());
    return k;
}

static void real_alias_chain(const char *curve, const char *want_id, int64_t cose_alg)
{
    char rel[256], dev[WB_DEVICE_ID_HEX + 1];
    certs bundle, responder, other;
    wb_key *leaf_key, *k = NULL;
    wb_evidence ev, got;
    wb_evidence_check c;
    wb_cose_sign1 m;
    const uint8_t *cas[1];
    size_t ca_len[1], len;
    uint8_t *e;

    /* ca ‖ inter ‖ alias CA ‖ alias leaf, root first as SPDM orders it */
    snprintf(rel, sizeof(rel), "spdm/%s/bundle_responder.certchain_alias.der", curve);
    load_certs(&bundle, rel);
    assert_int_equal(bundle.n, 4);
    snprintf(rel, sizeof(rel), "spdm/%s/end_responder.key", curve);
    leaf_key = load_key(rel);

    /* the alias CA is the device identity: its id is the device's */
    assert_int_equal(wb_identity_device_id(dev, bundle.der[2], bundle.len[2]), 0);
    assert_string_equal(dev, want_id);
    ev_make(&ev, dev, (int64_t)time(NULL));
    /* x5chain leaf first: alias leaf, alias CA (identity), intermediate */
    e = sign_chain(&len, &ev, leaf_key, bundle.der[3], bundle.len[3], bundle.der[2],
                   bundle.len[2], bundle.der[1], bundle.len[1]);
    assert_int_equal(wb_cose_sign1_decode(&m, e, len, WB_EVIDENCE_MAX), 0);
    assert_int_equal(m.hdr.alg, cose_alg);
    wb_cose_sign1_cleanup(&m);
    cas[0] = bundle.der[0];
    ca_len[0] = bundle.len[0];
    c = check_for(cas, ca_len, 1, &ev, 0);
    expect_ok(&got, e, len, &c, "verify");
    expect_same(&got, &ev);
    wb_evidence_cleanup(&got);
    /* the intermediate as the anchor works too */
    cas[0] = bundle.der[1];
    ca_len[0] = bundle.len[1];
    expect_ok(&got, e, len, &c, "verify");
    wb_evidence_cleanup(&got);
    /* another curve's real CA is not this device's supplier */
    snprintf(rel, sizeof(rel), "spdm/%s/ca.cert",
             strcmp(curve, "ecp384") == 0 ? "ecp256" : "ecp384");
    load_certs(&other, rel);
    cas[0] = other.der[0];
    ca_len[0] = other.len[0];
    expect_fail(e, len, &c, WB_E_VERIFY, WB_EV_CHAIN,
                "identity certificate is not under the supplier CAs");
    free(e);

    /* the real alias leaf under the real plain responder certificate: the
     * leaf names the alias CA as its issuer, and it is a different key */
    snprintf(rel, sizeof(rel), "spdm/%s/end_responder.cert", curve);
    load_certs(&responder, rel);
    assert_int_equal(wb_identity_device_id(dev, responder.der[0], responder.len[0]), 0);
    ev_make(&ev, dev, (int64_t)time(NULL));
    e = sign_chain(&len, &ev, leaf_key, bundle.der[3], bundle.len[3], responder.der[0],
                   responder.len[0], bundle.der[1], bundle.len[1]);
    cas[0] = bundle.der[0];
    ca_len[0] = bundle.len[0];
    c = check_for(cas, ca_len, 1, &ev, 0);
    expect_fail(e, len, &c, WB_E_VERIFY, WB_EV_CHAIN,
                "the alias certificate is not issued by the "
                "identity certificate's key");
    assert_non_null(strstr(wb_error_message(), "issuer name"));
    assert_non_null(strstr(wb_error_message(), "responder alias end cert"));
    free(e);

    /* the real responder certificate (SAN otherName, critical EKU) as the
     * identity of a DICE device whose alias certificate is issued here
     * under its real key: a template of the real layout */
    {
        wb_alg alg = wb_key_alg(leaf_key);
        uint8_t *alias = NULL;
        size_t alias_len;
        assert_int_equal(wb_key_generate(&k, alg), 0);
        assert_int_equal(wb_x509_issue(&alias, &alias_len, k, "responder alias", "ACME",
                                       leaf_key, responder.der[0], responder.len[0], 0, 77, 30),
                         0);
        e = sign_chain(&len, &ev, k, alias, alias_len, responder.der[0], responder.len[0],
                       bundle.der[1], bundle.len[1]);
        expect_ok(&got, e, len, &c, "verify");
        assert_string_equal(got.device, dev);
        wb_evidence_cleanup(&got);
        free(e);
        /* signed by the responder key itself instead of the alias key */
        e = sign_chain(&len, &ev, leaf_key, alias, alias_len, responder.der[0],
                       responder.len[0], bundle.der[1], bundle.len[1]);
        expect_fail(e, len, &c, WB_E_VERIFY, WB_EV_SIGNATURE,
                    "signature does not verify with the alias key");
        free(e);
        free(alias);
    }
    wb_key_free(k);
    wb_key_free(leaf_key);
    wb_identity_free(bundle.der, bundle.len, bundle.n);
    wb_identity_free(responder.der, responder.len, responder.n);
    wb_identity_free(other.der, other.len, other.n);
}

/*
 * Real Caliptra 2.x DICE certificates (tests/vectors/identity/caliptra):
 * the FMC alias certificate is signed by the LDevID key but names its
 * issuer "Caliptra 2.0 Ecc384 LDevID" while the LDevID says "2.1"; the
 * redacted RT alias certificate names the redacted FMC alias, whose
 * signature does not hold. As x5chain [alias, identity] both are refused
 * at the link, whatever key signed the evidence: CHAIN, not a crash.
 */
static void test_real_caliptra_links(void **state)
{
    static const char *const pairs[][2] = {
        {"identity/caliptra/fmc_alias_cert_ecc.der", "identity/caliptra/ldevid_cert_ecc.der"},
        {"identity/caliptra/rt_alias_cert_redacted.der",
         "identity/caliptra/rom-latest_fmc_alias_cert_redacted.der"},
    };
    static const char *const why[] = {"issuer name", "signature does not verify"};
    device d;
    (void)state;
    device_make(&d, WB_ALG_ES384, "Contoso Silicon");
    for (size_t i = 0; i < 2; i++) {
        certs alias, id;
        wb_evidence ev;
        wb_evidence_check c;
        const uint8_t *cas[1] = {d.ca};
        size_t ca_len[1] = {d.ca_len}, len;
        char dev[WB_DEVICE_ID_HEX + 1];
        uint8_t *e;
        load_certs(&alias, pairs[i][0]);
        load_certs(&id, pairs[i][1]);
        assert_int_equal(wb_identity_device_id(dev, id.der[0], id.len[0]), 0);
        ev_make(&ev, dev, 1767225600);
        e = sign_chain(&len, &ev, d.alias_key, alias.der[0], alias.len[0], id.der[0],
                       id.len[0], NULL, 0);
        c = check_for(cas, ca_len, 1, &ev, 1767225600);
        expect_fail(e, len, &c, WB_E_VERIFY, WB_EV_CHAIN,
                    "the alias certificate is not issued by the identity certificate's key");
        assert_non_null(strstr(wb_error_message(), why[i]));
        free(e);
        wb_identity_free(alias.der, alias.len, alias.n);
        wb_identity_free(id.der, id.len, id.n);
    }
    device_free(&d);
}

static void test_real_libspdm_alias_p384(void **state)
{
    (void)state;
    real_alias_chain("ecp384", ID_SPDM384_ALIAS_CA, WB_COSE_ALG_ES384);
}

static void test_real_libspdm_alias_p256(void **state)
{
    (void)state;
    real_alias_chain("ecp256", ID_SPDM256_ALIAS_CA, WB_COSE_ALG_ES256);
}

/* ---- every failure, named ---- */

typedef struct {
    device d, other;
    const uint8_t *cas[1];
    size_t ca_len[1];
    wb_evidence ev;
    wb_evidence_check c;
    int64_t now;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    device_make(&f->d, WB_ALG_ES384, "Contoso Silicon");
    device_make(&f->other, WB_ALG_ES384, "Fabrikam Trust");
    f->now = 1767225600; /* 2026-01-01 */
    ev_make(&f->ev, f->d.device, f->now);
    f->cas[0] = f->d.ca;
    f->ca_len[0] = f->d.ca_len;
    f->c = check_for(f->cas, f->ca_len, 1, &f->ev, f->now);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    device_free(&f->d);
    device_free(&f->other);
    free(f);
    return 0;
}

static void test_wrong_nonce(void **state)
{
    fixture *f = *state;
    uint8_t other[32];
    size_t len;
    uint8_t *e = sign_dev(&len, &f->d, &f->ev);
    wb_evidence_check c = f->c;
    memcpy(other, f->ev.nonce, sizeof(other));
    other[31] ^= 1;
    c.nonce = other;
    expect_fail(e, len, &c, WB_E_VERIFY, WB_EV_STALE,
                "evidence: nonce is not the challenge (a replayed "
                "answer?)");
    /* a prefix of the challenge is not the challenge */
    c.nonce = f->ev.nonce;
    c.nonce_len = 16;
    expect_fail(e, len, &c, WB_E_VERIFY, WB_EV_STALE, "nonce is not the challenge");
    /* a challenge the verifier should never send */
    c.nonce_len = 8;
    expect_fail(e, len, &c, WB_E_INVALID, WB_EV_FORMAT, "evidence check: the challenge must be");
    c = f->c;
    c.max_age_s = -1;
    expect_fail(e, len, &c, WB_E_INVALID, WB_EV_FORMAT, "max_age_s is negative");
    free(e);
}

static void test_stale_and_future(void **state)
{
    fixture *f = *state;
    wb_evidence ev = f->ev;
    size_t len;
    uint8_t *e;
    ev.time = f->now - MAX_AGE - 1;
    e = sign_dev(&len, &f->d, &ev);
    expect_fail(e, len, &f->c, WB_E_VERIFY, WB_EV_STALE,
                "s old, over the 300 s allowed (a stale answer?)");
    free(e);
    ev.time = f->now + MAX_AGE + 1;
    e = sign_dev(&len, &f->d, &ev);
    expect_fail(e, len, &f->c, WB_E_VERIFY, WB_EV_STALE, "s in the future");
    free(e);
    ev.time = 0;
    e = sign_dev(&len, &f->d, &ev);
    expect_fail(e, len, &f->c, WB_E_VERIFY, WB_EV_STALE, "a stale answer?");
    free(e);
}

static void test_bad_signature(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *e = sign_dev(&len, &f->d, &f->ev);
    /* every byte of the signature (the last 96 bytes) */
    for (size_t i = len - 96; i < len; i++) {
        e[i] ^= 0x01;
        expect_fail(e, len, &f->c, WB_E_VERIFY, WB_EV_SIGNATURE,
                    "evidence: signature does not verify with "
                    "the alias key");
        e[i] ^= 0x01;
    }
    free(e);
    /* signed by a key that is not the alias certificate's */
    {
        wb_evidence ev = f->ev;
        e = sign_chain(&len, &ev, f->other.alias_key, f->d.alias, f->d.alias_len, f->d.id,
                       f->d.id_len, NULL, 0);
        expect_fail(e, len, &f->c, WB_E_VERIFY, WB_EV_SIGNATURE,
                    "signature does not verify with the alias");
        free(e);
    }
}

/* a payload byte changed after signing: the signature no longer holds */
static void test_tampered_payload(void **state)
{
    fixture *f = *state;
    size_t len, off;
    uint8_t *e = sign_dev(&len, &f->d, &f->ev);
    wb_cose_sign1 m;
    wb_evidence got;
    /* the last byte of the first digest: still well-formed, still 48 bytes */
    assert_int_equal(wb_cose_sign1_decode(&m, e, len, WB_EVIDENCE_MAX), 0);
    for (off = 0; off + 1 < len; off++)
        if (e[off] == 0x58 && e[off + 1] == 0x30)
            break;
    assert_true(off + 2 + WB_SHA384_LEN < len);
    wb_cose_sign1_cleanup(&m);
    e[off + 2 + WB_SHA384_LEN - 1] ^= 0x80;
    expect_fail_ev(&got, e, len, &f->c, WB_E_VERIFY, WB_EV_SIGNATURE,
                   "signature does not verify with the alias key");
    /* what the payload now says is reported, and is not what was signed */
    assert_int_equal(got.nmeasurements, 2);
    assert_string_not_equal(got.measurements[0].digest, meas[0].digest);
    wb_evidence_cleanup(&got);
    /* the nonce changed instead (a replay dressed up): also the signature */
    e[off + 2 + WB_SHA384_LEN - 1] ^= 0x80;
    for (off = 0; off + 1 < len; off++)
        if (e[off] == 0x58 && e[off + 1] == 0x20 && e[off + 2] == 0xa0)
            break;
    assert_true(off + 1 < len);
    e[off + 2] ^= 0x01;
    expect_fail(e, len, &f->c, WB_E_VERIFY, WB_EV_SIGNATURE, "signature does not verify");
    free(e);
}

/* IDENTITY comes before SIGNATURE: the order attest.h and the docs give */
static void test_check_order(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *e = sign_dev(&len, &f->d, &f->ev);
    wb_evidence_check c = f->c;
    e[len - 1] ^= 0x01; /* a bad signature */
    c.expect_device = f->other.device;
    expect_fail(e, len, &c, WB_E_VERIFY, WB_EV_IDENTITY, "the device challenged");
    c.expect_device = f->d.device;
    expect_fail(e, len, &c, WB_E_VERIFY, WB_EV_SIGNATURE, "signature does not verify");
    /* and a stale nonce under a bad signature is a bad signature */
    c.nonce = f->other.alias;
    expect_fail(e, len, &c, WB_E_VERIFY, WB_EV_SIGNATURE, "signature does not verify");
    free(e);
}

static void test_alias_not_issued_by_identity(void **state)
{
    fixture *f = *state;
    uint8_t *alias = NULL, *e;
    size_t alias_len, len;
    /* issued by another device's identity: another issuer name */
    e = sign_chain(&len, &f->ev, f->other.alias_key, f->other.alias, f->other.alias_len,
                   f->d.id, f->d.id_len, NULL, 0);
    expect_fail(e, len, &f->c, WB_E_VERIFY, WB_EV_CHAIN,
                "evidence: the alias certificate is not issued by the "
                "identity certificate's key");
    assert_non_null(strstr(wb_error_message(), "issuer name"));
    free(e);
    /* the identity's name, but signed by another key (a forged alias) */
    assert_int_equal(wb_x509_issue(&alias, &alias_len, f->d.alias_key, "forged alias",
                                   "Contoso Silicon", f->other.id_key, f->d.id, f->d.id_len, 0,
                                   99, 30), 0);
    e = sign_chain(&len, &f->ev, f->d.alias_key, alias, alias_len, f->d.id, f->d.id_len, NULL,
                   0);
    expect_fail(e, len, &f->c, WB_E_VERIFY, WB_EV_CHAIN,
                "evidence: the alias certificate is not issued by the "
                "identity certificate's key");
    assert_non_null(strstr(wb_error_message(), "signature does not verify with the issuer"));
    free(e);
    free(alias);
    /* an alias certificate that is the identity certificate itself */
    e = sign_chain(&len, &f->ev, f->d.id_key, f->d.id, f->d.id_len, f->d.id, f->d.id_len, NULL,
                   0);
    expect_fail(e, len, &f->c, WB_E_VERIFY, WB_EV_CHAIN,
                "the alias certificate is not issued by the identity");
    free(e);
}

static void test_identity_not_under_cas(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *e = sign_dev(&len, &f->d, &f->ev);
    wb_evidence_check c = f->c;
    const uint8_t *cas[1] = {f->other.ca};
    size_t ca_len[1] = {f->other.ca_len};
    c.cas = cas;
    c.ca_len = ca_len;
    expect_fail(e, len, &c, WB_E_VERIFY, WB_EV_CHAIN,
                "evidence: identity certificate is not under the "
                "supplier CAs");
    c.ncas = 0;
    expect_fail(e, len, &c, WB_E_VERIFY, WB_EV_CHAIN,
                "identity certificate is not under the supplier CAs");
    free(e);
    /* a self-made "CA" with the supplier's name: names alone do not chain */
    {
        wb_key *fake_key = NULL;
        uint8_t *fake = NULL;
        size_t fake_len;
        assert_int_equal(wb_key_generate(&fake_key, WB_ALG_ES384), 0);
        assert_int_equal(wb_x509_issue(&fake, &fake_len, fake_key, "Device Identity CA",
                                       "Contoso Silicon", fake_key, NULL, 0, 1, 1, 3650), 0);
        e = sign_dev(&len, &f->d, &f->ev);
        c = f->c;
        cas[0] = fake;
        ca_len[0] = fake_len;
        c.cas = cas;
        c.ca_len = ca_len;
        expect_fail(e, len, &c, WB_E_VERIFY, WB_EV_CHAIN, "not under the supplier CAs");
        free(e);
        free(fake);
        wb_key_free(fake_key);
    }
}

static void test_device_id_not_identity(void **state)
{
    fixture *f = *state;
    wb_evidence ev = f->ev;
    size_t len;
    uint8_t *e;
    snprintf(ev.device, sizeof(ev.device), "%s", f->other.device);
    e = sign_dev(&len, &f->d, &ev);
    expect_fail(e, len, &f->c, WB_E_VERIFY, WB_EV_IDENTITY, "is not the identity certificate's");
    free(e);
}

static uint8_t *raw_sign1(size_t *len, const fixture *f, const uint8_t *payload, size_t plen,
                          const char *cty, const uint8_t *unprot, size_t ulen);

/* the device challenged; and what a failure still reports */
static void test_expect_device_and_report(void **state)
{
    fixture *f = *state;
    wb_evidence_check c = f->c;
    wb_evidence got, ev = f->ev;
    size_t len;
    uint8_t *e = sign_dev(&len, &f->d, &f->ev);
    c.expect_device = f->d.device;
    expect_ok(&got, e, len, &c, "expected device");
    wb_evidence_cleanup(&got);
    /* another device answered (a clone, a swapped part): its signed
     * identity is named */
    c.expect_device = f->other.device;
    expect_fail_ev(&got, e, len, &c, WB_E_VERIFY, WB_EV_IDENTITY, "the device challenged");
    assert_string_equal(got.device, f->d.device);
    assert_int_equal(got.nmeasurements, 2);
    wb_evidence_cleanup(&got);
    /* a replayed answer: the payload is there for the report */
    c = f->c;
    c.nonce = f->other.alias; /* any 32 other bytes */
    expect_fail_ev(&got, e, len, &c, WB_E_VERIFY, WB_EV_STALE, "nonce is not the challenge");
    assert_string_equal(got.device, f->d.device);
    assert_int_equal(got.nmeasurements, 2);
    assert_string_equal(got.measurements[1].digest, meas[1].digest);
    assert_int_equal(got.nslots, 2);
    assert_int_equal(got.time, f->now);
    wb_evidence_cleanup(&got);
    /* not under the CAs: the identity certificate still names the device */
    c = f->c;
    c.ncas = 0;
    expect_fail_ev(&got, e, len, &c, WB_E_VERIFY, WB_EV_CHAIN, "not under the supplier CAs");
    assert_string_equal(got.device, f->d.device);
    wb_evidence_cleanup(&got);
    free(e);
    /* a payload that claims another device: the certificate's id is
     * reported, not the claim */
    snprintf(ev.device, sizeof(ev.device), "%s", f->other.device);
    e = sign_dev(&len, &f->d, &ev);
    expect_fail_ev(&got, e, len, &f->c, WB_E_VERIFY, WB_EV_IDENTITY,
                   "is not the identity certificate's");
    assert_string_equal(got.device, f->d.device);
    wb_evidence_cleanup(&got);
    free(e);
    /* a malformed payload in a good envelope: still the certificate's id */
    e = raw_sign1(&len, f, (const uint8_t *)"\xa0", 1, WB_EVIDENCE_CTY, NULL, 0);
    expect_fail_ev(&got, e, len, &f->c, WB_E_INVALID, WB_EV_FORMAT, "payload: no nonce (1)");
    assert_string_equal(got.device, f->d.device);
    wb_evidence_cleanup(&got);
    free(e);
    /* max_age_s 0 is 300 s */
    c = f->c;
    c.max_age_s = 0;
    ev = f->ev;
    ev.time = f->now - 299;
    e = sign_dev(&len, &f->d, &ev);
    expect_ok(&got, e, len, &c, "299 s old");
    wb_evidence_cleanup(&got);
    free(e);
    ev.time = f->now - 301;
    e = sign_dev(&len, &f->d, &ev);
    expect_fail(e, len, &c, WB_E_VERIFY, WB_EV_STALE, "over the 300 s allowed");
    free(e);
}

/* a COSE_Sign1 with any header and payload, signed by the device's alias */
static uint8_t *raw_sign1(size_t *len, const fixture *f, const uint8_t *payload, size_t plen,
                          const char *cty, const uint8_t *unprot, size_t ulen)
{
    wb_cose_headers h;
    wb_cose_signer s;
    uint8_t *out = NULL;
    wb_cose_headers_init(&h);
    assert_int_equal(wb_cose_signer_for_key(&s, f->d.alias_key), 0);
    h.alg = s.alg;
    h.cty = cty;
    h.x5chain[0].ptr = f->d.alias;
    h.x5chain[0].len = f->d.alias_len;
    h.x5chain[1].ptr = f->d.id;
    h.x5chain[1].len = f->d.id_len;
    h.nx5chain = 2;
    if (wb_cose_sign1_create(&out, len, &h, unprot, ulen, payload, plen, 0, &s) != 0)
        fail_msg("sign1: %s", wb_error_message());
    return out;
}

/* the payload the signer writes for f->ev */
static uint8_t *good_payload(size_t *plen, const fixture *f)
{
    size_t len;
    wb_cose_sign1 m;
    uint8_t *e = sign_dev(&len, &f->d, &f->ev), *p;
    assert_int_equal(wb_cose_sign1_decode(&m, e, len, WB_EVIDENCE_MAX), 0);
    p = malloc(m.payload_len);
    assert_non_null(p);
    memcpy(p, m.payload, m.payload_len);
    *plen = m.payload_len;
    wb_cose_sign1_cleanup(&m);
    free(e);
    return p;
}

static void test_malformed(void **state)
{
    fixture *f = *state;
    size_t len, plen, n;
    uint8_t *e = sign_dev(&len, &f->d, &f->ev), *g, *p;
    wb_evidence got;

    /* every truncation, and a trailing byte */
    for (size_t cut = 0; cut < len; cut++) {
        wb_evidence_failure why = WB_EV_OK;
        int rc = wb_evidence_verify(&got, &why, e, cut, &f->c);
        assert_int_equal(rc, WB_E_INVALID);
        assert_int_equal(why, WB_EV_FORMAT);
        assert_null(got.measurements);
    }
    g = malloc(len + 1);
    memcpy(g, e, len);
    g[len] = 0x00;
    expect_fail(g, len + 1, &f->c, WB_E_INVALID, WB_EV_FORMAT, "evidence");
    /* untagged: the same COSE_Sign1 without tag 18 (0xd2) */
    assert_int_equal(e[0], 0xd2);
    expect_fail(e + 1, len - 1, &f->c, WB_E_INVALID, WB_EV_FORMAT, "not a tagged COSE_Sign1");
    /* garbage */
    memset(g, 0xff, len);
    expect_fail(g, len, &f->c, WB_E_INVALID, WB_EV_FORMAT, "evidence");
    free(g);
    free(e);

    p = good_payload(&plen, f);
    /* the good payload in a hand-made envelope verifies: the envelope is right */
    e = raw_sign1(&len, f, p, plen, WB_EVIDENCE_CTY, NULL, 0);
    expect_ok(&got, e, len, &f->c, "verify");
    wb_evidence_cleanup(&got);
    free(e);
    /* another content type */
    e = raw_sign1(&len, f, p, plen, "application/cbor", NULL, 0);
    expect_fail(e, len, &f->c, WB_E_INVALID, WB_EV_FORMAT,
                "content type (3) is 'application/cbor'");
    free(e);
    e = raw_sign1(&len, f, p, plen, NULL, NULL, 0);
    expect_fail(e, len, &f->c, WB_E_INVALID, WB_EV_FORMAT, "content type (3) is absent");
    free(e);
    /* something in the unprotected header: a kid the signature does not cover */
    {
        static const uint8_t unprot[] = {0xa1, 0x04, 0x41, 0x01};
        e = raw_sign1(&len, f, p, plen, WB_EVIDENCE_CTY, unprot, sizeof(unprot));
        expect_fail(e, len, &f->c, WB_E_INVALID, WB_EV_FORMAT, "unprotected header is not empty");
        free(e);
    }
    /* payload: one byte changed in the map head: another key count */
    g = malloc(plen + 16);
    memcpy(g, p, plen);
    g[0] = 0xa4;
    e = raw_sign1(&len, f, g, plen, WB_EVIDENCE_CTY, NULL, 0);
    expect_fail(e, len, &f->c, WB_E_INVALID, WB_EV_FORMAT, "evidence: payload");
    free(e);
    /* an unknown key 6 */
    g[0] = 0xa6;
    g[plen] = 0x06;
    g[plen + 1] = 0x00;
    e = raw_sign1(&len, f, g, plen + 2, WB_EVIDENCE_CTY, NULL, 0);
    expect_fail(e, len, &f->c, WB_E_INVALID, WB_EV_FORMAT, "evidence: payload: unknown key 6");
    free(e);
    /* time (the last item, 1a xx xx xx xx) in a longer head than needed */
    assert_int_equal(p[plen - 5], 0x1a);
    memcpy(g, p, plen - 5);
    g[plen - 5] = 0x1b;
    memset(g + plen - 4, 0, 4);
    memcpy(g + plen, p + plen - 4, 4);
    e = raw_sign1(&len, f, g, plen + 4, WB_EVIDENCE_CTY, NULL, 0);
    expect_fail(e, len, &f->c, WB_E_INVALID, WB_EV_FORMAT, "not in deterministic CBOR");
    free(e);
    /* a key twice (time, 5, again at the end): strict decoding refuses it */
    memcpy(g, p, plen);
    g[0] = 0xa6;
    g[plen] = 0x05;
    g[plen + 1] = 0x00;
    e = raw_sign1(&len, f, g, plen + 2, WB_EVIDENCE_CTY, NULL, 0);
    expect_fail(e, len, &f->c, WB_E_INVALID, WB_EV_FORMAT, "appears twice");
    free(e);
    /* time (5) missing: the map says 4 keys and ends before it */
    assert_int_equal(p[plen - 6], 0x05);
    memcpy(g, p, plen - 6);
    g[0] = 0xa4;
    e = raw_sign1(&len, f, g, plen - 6, WB_EVIDENCE_CTY, NULL, 0);
    expect_fail(e, len, &f->c, WB_E_INVALID, WB_EV_FORMAT, "payload: no time (5)");
    free(e);
    /* an x5chain element that is not a certificate */
    {
        wb_cose_headers h;
        wb_cose_signer sg;
        static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
        wb_cose_headers_init(&h);
        assert_int_equal(wb_cose_signer_for_key(&sg, f->d.alias_key), 0);
        h.alg = sg.alg;
        h.cty = WB_EVIDENCE_CTY;
        h.x5chain[0].ptr = f->d.alias;
        h.x5chain[0].len = f->d.alias_len;
        h.x5chain[1].ptr = junk;
        h.x5chain[1].len = sizeof(junk);
        h.nx5chain = 2;
        assert_int_equal(wb_cose_sign1_create(&e, &len, &h, NULL, 0, p, plen, 0, &sg), 0);
        expect_fail(e, len, &f->c, WB_E_INVALID, WB_EV_FORMAT, "evidence: x5chain[1]");
        free(e);
        /* the identity certificate with a byte after it */
        g = realloc(g, f->d.id_len + 1 > plen + 16 ? f->d.id_len + 1 : plen + 16);
        assert_non_null(g);
        memcpy(g, f->d.id, f->d.id_len);
        g[f->d.id_len] = 0x00;
        h.x5chain[1].ptr = g;
        h.x5chain[1].len = f->d.id_len + 1;
        assert_int_equal(wb_cose_sign1_create(&e, &len, &h, NULL, 0, p, plen, 0, &sg), 0);
        expect_fail(e, len, &f->c, WB_E_INVALID, WB_EV_FORMAT, "evidence: x5chain[1]");
        free(e);
    }
    /* not a map at all */
    e = raw_sign1(&len, f, (const uint8_t *)"\x80", 1, WB_EVIDENCE_CTY, NULL, 0);
    expect_fail(e, len, &f->c, WB_E_INVALID, WB_EV_FORMAT,
                "evidence: payload is an array, want a map");
    free(e);
    /* a digest of the wrong length: 0x58 0x30 (48) -> 0x58 0x2f, one byte shorter */
    for (n = 0; n + 1 < plen; n++)
        if (p[n] == 0x58 && p[n + 1] == 0x30)
            break;
    assert_true(n + 1 < plen);
    memcpy(g, p, n);
    g[n] = 0x58;
    g[n + 1] = 0x2f;
    memcpy(g + n + 2, p + n + 3, plen - n - 3);
    e = raw_sign1(&len, f, g, plen - 1, WB_EVIDENCE_CTY, NULL, 0);
    expect_fail(e, len, &f->c, WB_E_INVALID, WB_EV_FORMAT,
                "digest is not a byte string of 48 bytes");
    free(e);
    free(g);
    free(p);

    /* the signer refuses what the verifier would */
    {
        wb_evidence ev = f->ev;
        wb_measurement twice[2];
        uint8_t *out = NULL;
        const uint8_t *chain[1] = {f->d.alias};
        size_t chain_len[1] = {f->d.alias_len};
        ev.nonce_len = 15;
        assert_int_equal(wb_evidence_sign(&out, &len, &ev, f->d.alias_key, chain, chain_len, 1),
                         WB_E_INVALID);
        ev.nonce_len = 32;
        assert_int_equal(wb_evidence_sign(&out, &len, &ev, f->d.alias_key, chain, chain_len, 1),
                         WB_E_INVALID);
        assert_non_null(strstr(wb_error_message(), "x5chain of 1 certificates"));
        twice[0] = meas[0];
        twice[1] = meas[0];
        ev.measurements = twice;
        e = NULL;
        {
            const uint8_t *c2[2] = {f->d.alias, f->d.id};
            size_t l2[2] = {f->d.alias_len, f->d.id_len};
            assert_int_equal(wb_evidence_sign(&out, &len, &ev, f->d.alias_key, c2, l2, 2),
                             WB_E_INVALID);
            assert_non_null(strstr(wb_error_message(), "component 'rot' is measured twice"));
            ev.measurements = meas;
            snprintf(ev.device, sizeof(ev.device), "%s", "ABCDEF");
            assert_int_equal(wb_evidence_sign(&out, &len, &ev, f->d.alias_key, c2, l2, 2),
                             WB_E_INVALID);
        }
        assert_null(out);
    }
}

/* a signer that claims ES512 (-36) and signs with the P-384 alias key */
static int claim_sign(void *ctx, uint8_t *sig, size_t *sig_len, const uint8_t *tbs,
                      size_t tbs_len)
{
    return wb_key_sign(ctx, sig, sig_len, tbs, tbs_len);
}

static void test_unknown_alg(void **state)
{
    fixture *f = *state;
    wb_cose_headers h;
    wb_cose_signer s = {-36, claim_sign, f->d.alias_key};
    uint8_t *p, *e = NULL;
    size_t plen, len;
    p = good_payload(&plen, f);
    wb_cose_headers_init(&h);
    h.alg = -36;
    h.cty = WB_EVIDENCE_CTY;
    h.x5chain[0].ptr = f->d.alias;
    h.x5chain[0].len = f->d.alias_len;
    h.x5chain[1].ptr = f->d.id;
    h.x5chain[1].len = f->d.id_len;
    h.nx5chain = 2;
    assert_int_equal(wb_cose_sign1_create(&e, &len, &h, NULL, 0, p, plen, 0, &s), 0);
    expect_fail(e, len, &f->c, WB_E_INVALID, WB_EV_FORMAT,
                "evidence: alg -36 is not ES384 (-35), ES256 (-7) "
                "or EdDSA (-8)");
    free(e);
    /* a known alg that is not the alias key's */
    s.alg = WB_COSE_ALG_ES256;
    h.alg = WB_COSE_ALG_ES256;
    assert_int_equal(wb_cose_sign1_create(&e, &len, &h, NULL, 0, p, plen, 0, &s), 0);
    expect_fail(e, len, &f->c, WB_E_VERIFY, WB_EV_SIGNATURE,
                "evidence: alg ES256, but the alias key is ES384");
    free(e);
    free(p);
}

static void test_oversize(void **state)
{
    fixture *f = *state;
    uint8_t *big = calloc(1, WB_EVIDENCE_MAX + 1), *out = NULL;
    wb_evidence ev = f->ev;
    wb_measurement *m = calloc(WB_PROV_LIST_MAX, sizeof(*m));
    wb_slot_entry *s = calloc(WB_PROV_LIST_MAX, sizeof(*s));
    const uint8_t *chain[2] = {f->d.alias, f->d.id};
    size_t chain_len[2] = {f->d.alias_len, f->d.id_len}, len;
    assert_non_null(big);
    assert_non_null(m);
    assert_non_null(s);
    expect_fail(big, WB_EVIDENCE_MAX + 1, &f->c, WB_E_LIMIT, WB_EV_FORMAT,
                "over the 65536-byte limit");
    /* 256 measurements and 256 slots with the longest names: too large to sign */
    for (size_t i = 0; i < WB_PROV_LIST_MAX; i++) {
        char tag[16];
        snprintf(tag, sizeof(tag), "%05zu", i);
        memset(m[i].component, 'c', WB_PROV_NAME_MAX); /* calloc'd: NUL-terminated */
        memcpy(m[i].component, tag, 5);
        memcpy(m[i].digest, meas[0].digest, sizeof(m[i].digest));
        memset(s[i].slot, 's', WB_PROV_NAME_MAX);
        memcpy(s[i].slot, tag, 5);
        memcpy(s[i].id, slots[0].id, sizeof(s[i].id));
    }
    ev.measurements = m;
    ev.nmeasurements = WB_PROV_LIST_MAX;
    ev.slots = s;
    ev.nslots = WB_PROV_LIST_MAX;
    assert_int_equal(wb_evidence_sign(&out, &len, &ev, f->d.alias_key, chain, chain_len, 2),
                     WB_E_LIMIT);
    assert_null(out);
    /* one more than the list limit */
    ev.nslots = 0;
    ev.nmeasurements = WB_PROV_LIST_MAX + 1;
    assert_int_equal(wb_evidence_sign(&out, &len, &ev, f->d.alias_key, chain, chain_len, 2),
                     WB_E_LIMIT);
    /* the most that fits verifies */
    ev.nmeasurements = 100;
    assert_int_equal(wb_evidence_sign(&out, &len, &ev, f->d.alias_key, chain, chain_len, 2), 0);
    {
        wb_evidence got;
        expect_ok(&got, out, len, &f->c, "verify");
        assert_int_equal(got.nmeasurements, 100);
        wb_evidence_cleanup(&got);
    }
    free(out);
    free(big);
    free(m);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_generated),
        cmocka_unit_test(test_valid_empty_lists_and_intermediate),
        cmocka_unit_test(test_real_libspdm_alias_p384),
        cmocka_unit_test(test_real_libspdm_alias_p256),
        cmocka_unit_test(test_real_caliptra_links),
        cmocka_unit_test_setup_teardown(test_wrong_nonce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_and_future, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_signature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_payload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alias_not_issued_by_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_not_under_cas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_id_not_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expect_device_and_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_alg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversize, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
