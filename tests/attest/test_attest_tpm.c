/*
 * test_attest_tpm.c: a device whose root of trust is a real TPM 2.0
 * (swtpm), attested by the verifier through the ledger (waybill/verifier.h,
 * docs/attestation.md "TPM 2.0 devices").
 *
 * The journey: the operator registers a TPM vendor (its EK CA is the CA
 * swtpm_localca issues EK certificates with), a firmware vendor, a reviewer
 * and a datacenter; the vendor manifests the TPM by its EK certificate; the
 * platform "boots", measuring eight firmware components into PCRs 0-7 of
 * the SHA-384 bank; the firmware vendor releases the reference value of
 * each PCR and the reviewer reviews each. Then the verifier, talking to the
 * TPM through its TCTI:
 *   - a good TPM passes: EK chain, credential activation, quote, and every
 *     PCR is released, reviewed firmware; no finding;
 *   - after a PCR is extended again (firmware changed), it fails and the
 *     ledger raises firmware-unreleased (evict);
 *   - a different TPM (its own EK, same vendor CA) answering for the first
 *     fails the identity check: evidence-invalid (evict);
 *   - a TPM whose EK certificate no registered CA issued fails the chain
 *     check: evidence-invalid (evict);
 *   - a TPM that cannot be reached raises attestation-overdue (investigate).
 * Every statement the verifier registers is in the log; nothing else is
 * touched (the findings name only the TPM device).
 */
#include "wbtest_prov.h"
#include "wbtest_scitt.h"
#include "wbtest_swtpm.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "waybill/error.h"
#include "waybill/identity.h"
#include "waybill/tpm.h"
#include "waybill/util.h"
#include "waybill/verifier.h"

#define SITE "AMS-1"
#define VENDOR "Test TPM Vendor"
#define NPCRS 8

static char *dir;
static char url[64], cakey[4300], cacert[4300], rogue_key[4300], rogue_cert[4300];
static wb_server *srv;
static wb_key *admin, *vendor, *fwvendor, *reviewer, *dc;
static uint8_t *ca_der;
static size_t ca_len;
static wbt_swtpm tpm_a;
static char id_a[WB_IDENTITY_ID_HEX + 1];


/* a CA (ES256) written as PEM key and certificate; DER returned if asked */
static void make_ca(const char *name, const char *key_path, const char *cert_path,
                    uint8_t **der_out, size_t *len_out)
{
    wb_key *k = NULL;
    uint8_t *der;
    size_t len, plen;
    char *pem;
    assert_int_equal(wb_key_generate(&k, WB_ALG_ES256), 0);
    assert_int_equal(wb_x509_issue(&der, &len, k, name, "waybill test", k, NULL, 0, 1, 1,
                                   3650), 0);
    assert_int_equal(wb_key_to_pem(&pem, &plen, k, 1), 0);
    wbt_write_file(key_path, pem, strlen(pem));
    free(pem);
    assert_int_equal(wb_x509_der_to_pem(&pem, der, len), 0);
    wbt_write_file(cert_path, pem, strlen(pem));
    free(pem);
    wb_key_free(k);
    if (der_out) {
        *der_out = der;
        *len_out = len;
    } else {
        free(der);
    }
}

/* the firmware measured into PCR i */
static void component(uint8_t out[WB_SHA384_LEN], unsigned i)
{
    char name[64];
    snprintf(name, sizeof(name), "platform firmware component %u", i);
    assert_int_equal(wb_sha384(out, name, strlen(name)), 0);
}

/* boots TPM t: one component into each of PCRs 0-7; the EK cert if asked */
static void boot(const wbt_swtpm *t, uint8_t **ek, size_t *ek_len)
{
    wb_tpm *tpm = NULL;
    if (wb_tpm_open(&tpm, t->tcti) != 0)
        fail_msg("wb_tpm_open: %s", wb_error_message());
    for (unsigned i = 0; i < NPCRS; i++) {
        uint8_t d[WB_SHA384_LEN];
        component(d, i);
        assert_int_equal(wb_tpm_pcr_extend(tpm, i, WB_TPM_SHA384, d), 0);
    }
    if (ek && wb_tpm_ek_cert(tpm, ek, ek_len) != 0)
        fail_msg("wb_tpm_ek_cert: %s", wb_error_message());
    wb_tpm_free(tpm);
}

static void submit_ok(const wb_key *key, const char *iss, const wb_prov_payload *p,
                      const char *sub)
{
    char detail[1024];
    long status = wbt_prov_submit(url, key, iss, p, sub, detail, sizeof(detail), NULL);
    if (status != 201)
        fail_msg("%s by %s: HTTP %ld: %s", wb_kind_name(p->kind), iss, status, detail);
}

/* the vendor releases the reference value of each PCR; the reviewer reviews it */
static void release_reference_values(void)
{
    for (unsigned i = 0; i < NPCRS; i++) {
        uint8_t d[WB_SHA384_LEN], pcr[WB_SHA384_LEN];
        wb_prov_payload p;
        component(d, i);
        assert_int_equal(wb_tpm_pcr_replay(pcr, WB_TPM_SHA384, d, 1), 0);
        memset(&p, 0, sizeof(p));
        p.kind = WB_KIND_FIRMWARE;
        p.version = WB_PROV_VERSION;
        p.u.firmware.cls = WB_CLASS_TPM;
        snprintf(p.u.firmware.vendor, sizeof(p.u.firmware.vendor), "Test Platform Vendor");
        snprintf(p.u.firmware.fw_version, sizeof(p.u.firmware.fw_version), "2.1 pcr%u", i);
        wb_hex_encode(p.u.firmware.digest, pcr, sizeof(pcr));
        p.u.firmware.svn = 1;
        submit_ok(fwvendor, "fwvendor", &p, p.u.firmware.digest);
        memset(&p, 0, sizeof(p));
        p.kind = WB_KIND_REVIEW;
        p.version = WB_PROV_VERSION;
        wb_hex_encode(p.u.review.firmware_digest, pcr, sizeof(pcr));
        snprintf(p.u.review.reviewer, sizeof(p.u.review.reviewer), "Test Review Lab");
        snprintf(p.u.review.framework, sizeof(p.u.review.framework), "OCP SAFE SFR v1");
        submit_ok(reviewer, "reviewer", &p, p.u.review.firmware_digest);
    }
}

static void manifest_tpm(const uint8_t *ek, size_t ek_len)
{
    wb_prov_payload p;
    wb_p_device *d;
    memset(&p, 0, sizeof(p));
    p.kind = WB_KIND_MANIFEST;
    p.version = WB_PROV_VERSION;
    snprintf(p.u.manifest.manufacturer, sizeof(p.u.manifest.manufacturer), VENDOR);
    d = calloc(1, sizeof(*d));
    assert_non_null(d);
    p.u.manifest.devices = d;
    p.u.manifest.ndevices = 1;
    assert_int_equal(wb_identity_device_id(d->id, ek, ek_len), 0);
    d->cls = WB_CLASS_TPM;
    snprintf(d->model, sizeof(d->model), "swtpm 0.7");
    snprintf(d->serial, sizeof(d->serial), "TPM-A-0001");
    d->chain[0] = malloc(ek_len);
    assert_non_null(d->chain[0]);
    memcpy(d->chain[0], ek, ek_len);
    d->chain_len[0] = ek_len;
    d->nchain = 1;
    submit_ok(vendor, "tpmvendor", &p, d->id);
    snprintf(id_a, sizeof(id_a), "%s", d->id);
    wb_prov_payload_cleanup(&p);
}

static int setup(void **state)
{
    char data[4200], path[4400];
    uint8_t *ek = NULL;
    size_t ek_len = 0;
    const uint8_t *cas[1];
    size_t cas_len[1];
    (void)state;
    dir = wbt_tmpdir("attest-tpm");
    snprintf(data, sizeof(data), "%s/data", dir);
    srv = wbt_dev_server(data, url, sizeof(url), 0);
    snprintf(path, sizeof(path), "%s/admin.key", data);
    assert_int_equal(wb_key_read_file(&admin, path), 0);
    assert_int_equal(wb_key_generate(&vendor, WB_ALG_ES256), 0);
    assert_int_equal(wb_key_generate(&fwvendor, WB_ALG_ES256), 0);
    assert_int_equal(wb_key_generate(&reviewer, WB_ALG_ES256), 0);
    assert_int_equal(wb_key_generate(&dc, WB_ALG_ES256), 0);

    snprintf(cakey, sizeof(cakey), "%s/vendor-ca.key", dir);
    snprintf(cacert, sizeof(cacert), "%s/vendor-ca.pem", dir);
    make_ca("Test TPM Vendor EK CA", cakey, cacert, &ca_der, &ca_len);
    snprintf(rogue_key, sizeof(rogue_key), "%s/rogue-ca.key", dir);
    snprintf(rogue_cert, sizeof(rogue_cert), "%s/rogue-ca.pem", dir);
    make_ca("Rogue EK CA", rogue_key, rogue_cert, NULL, NULL);

    cas[0] = ca_der;
    cas_len[0] = ca_len;
    wbt_prov_issuer(url, admin, "tpmvendor", WB_ROLE_SUPPLIER, VENDOR, vendor, cas, cas_len,
                    1);
    wbt_prov_issuer(url, admin, "fwvendor", WB_ROLE_FIRMWARE_VENDOR, NULL, fwvendor, NULL,
                    NULL, 0);
    wbt_prov_issuer(url, admin, "reviewer", WB_ROLE_REVIEWER, NULL, reviewer, NULL, NULL, 0);
    wbt_prov_issuer(url, admin, "dc", WB_ROLE_DATACENTER, SITE, dc, NULL, NULL, 0);

    wbt_swtpm_start(&tpm_a, dir, "tpm-a", cakey, cacert);
    boot(&tpm_a, &ek, &ek_len);
    manifest_tpm(ek, ek_len);
    free(ek);
    release_reference_values();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    wbt_swtpm_stop(&tpm_a);
    wb_server_stop(srv);
    wb_key_free(admin);
    wb_key_free(vendor);
    wb_key_free(fwvendor);
    wb_key_free(reviewer);
    wb_key_free(dc);
    free(ca_der);
    wbt_rmtree(dir);
    free(dir);
    return 0;
}

/* attests the TPM device id_a, reached through tcti; one result */
static void attest(wb_verifier_report *rep, const char *tcti)
{
    wb_verifier_options o;
    wb_verifier_tpm t;
    const char *targets[1] = {id_a};
    wb_verifier_options_init(&o);
    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "%s", id_a);
    snprintf(t.tcti, sizeof(t.tcti), "%s", tcti);
    o.ledger_url = url;
    o.tpms = &t;
    o.ntpms = 1;
    o.site = SITE;
    o.issuer = "dc";
    o.key = dc;
    o.phase = WB_PHASE_PERIODIC;
    o.timeout_ms = 2000;
    if (wb_verifier_run(rep, &o, targets, 1) != 0)
        fail_msg("verifier: %s", wb_error_message());
    assert_int_equal(rep->n, 1);
    assert_string_equal(rep->results[0].id, id_a);
    assert_int_equal(strlen(rep->results[0].entry), 64); /* registered */
}

static void expect_finding(const char *rule, const char *tag)
{
    json_t *f = wbt_prov_wait_finding(url, id_a, rule, 10000);
    if (!f)
        fail_msg("no %s finding for the TPM", rule);
    assert_string_equal(json_string_value(json_object_get(f, "tag")), tag);
    json_decref(f);
}

static void test_good_tpm_passes(void **state)
{
    wb_verifier_report rep;
    json_t *all;
    (void)state;
    attest(&rep, tpm_a.tcti);
    if (rep.results[0].verdict != WB_VERDICT_PASS)
        fail_msg("a good TPM failed: %s [%s]", rep.results[0].reason,
                 rep.results[0].findings);
    assert_int_equal(rep.results[0].nfindings, 0);
    assert_int_equal(rep.pass, 1);
    /* EK chain and quote: at least two signature verifications */
    assert_true(rep.verifications >= 2);
    wb_verifier_report_cleanup(&rep);
    all = wbt_prov_findings(url, id_a);
    assert_int_equal(json_array_size(all), 0);
    json_decref(all);
}

static void test_changed_pcr_is_unreleased_firmware(void **state)
{
    wb_verifier_report rep;
    wb_tpm *tpm = NULL;
    uint8_t d[WB_SHA384_LEN];
    (void)state;
    /* something else got measured into PCR 2 */
    assert_int_equal(wb_sha384(d, "rogue option rom", 16), 0);
    assert_int_equal(wb_tpm_open(&tpm, tpm_a.tcti), 0);
    assert_int_equal(wb_tpm_pcr_extend(tpm, 2, WB_TPM_SHA384, d), 0);
    wb_tpm_free(tpm);
    attest(&rep, tpm_a.tcti);
    assert_int_equal(rep.results[0].verdict, WB_VERDICT_FAIL);
    assert_int_equal(rep.results[0].failed, WB_CHECK_NONE); /* the evidence is good */
    assert_non_null(strstr(rep.results[0].findings, "firmware-unreleased/evict"));
    assert_int_equal(rep.results[0].nfindings, 1); /* only PCR 2 */
    wb_verifier_report_cleanup(&rep);
    expect_finding("firmware-unreleased", "evict");
}

static void test_other_tpm_fails_identity(void **state)
{
    wbt_swtpm b;
    wb_verifier_report rep;
    (void)state;
    wbt_swtpm_start(&b, dir, "tpm-b", cakey, cacert);
    boot(&b, NULL, NULL);
    attest(&rep, b.tcti);
    wbt_swtpm_stop(&b);
    assert_int_equal(rep.results[0].verdict, WB_VERDICT_FAIL);
    assert_int_equal(rep.results[0].failed, WB_CHECK_IDENTITY);
    assert_non_null(strstr(rep.results[0].findings, "evidence-invalid/evict"));
    wb_verifier_report_cleanup(&rep);
    expect_finding("evidence-invalid", "evict");
}

static void test_unregistered_ca_fails_chain(void **state)
{
    wbt_swtpm c;
    wb_verifier_report rep;
    (void)state;
    wbt_swtpm_start(&c, dir, "tpm-c", rogue_key, rogue_cert);
    attest(&rep, c.tcti);
    wbt_swtpm_stop(&c);
    assert_int_equal(rep.results[0].verdict, WB_VERDICT_FAIL);
    assert_int_equal(rep.results[0].failed, WB_CHECK_CHAIN);
    assert_non_null(strstr(rep.results[0].reason, "chain"));
    wb_verifier_report_cleanup(&rep);
}

static void test_unreachable_is_overdue(void **state)
{
    wb_verifier_report rep;
    (void)state;
    /* nothing listens on port 1 */
    attest(&rep, "swtpm:host=127.0.0.1,port=1");
    assert_int_equal(rep.results[0].verdict, WB_VERDICT_FAIL);
    assert_int_equal(rep.results[0].failed, WB_CHECK_UNREACHABLE);
    assert_int_equal(rep.unreachable, 1);
    wb_verifier_report_cleanup(&rep);
    expect_finding("attestation-overdue", "investigate");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_tpm_passes),
        cmocka_unit_test(test_changed_pcr_is_unreleased_firmware),
        cmocka_unit_test(test_other_tpm_fails_identity),
        cmocka_unit_test(test_unregistered_ca_fails_chain),
        cmocka_unit_test(test_unreachable_is_overdue),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
