/*
 * test_real_registration.c: real artifacts registered through a running
 * service, end to end. Suppliers are registered by governance statements
 * with the real CAs of their devices; their manifests carry the real
 * root-of-trust chains (DMTF libspdm P-256 and P-384 responders, the
 * STMicro TPM 2.0 EK under its RSA CAs) and register; a TPM 1.2 EK, whose
 * key type OpenSSL 3 cannot load, is refused with a reason that names it,
 * and nothing is written; a manifest whose id is not its certificate's key
 * is refused. A real OCP SAFE report (Micron 7550, signed by Keysight) is
 * imported and registered as a review that keeps the reviewer's signed
 * bytes, which still verify when read back from the ledger.
 */
#include "wbtest_prov.h"
#include "wbtest_scitt.h"

#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "waybill/error.h"
#include "waybill/identity.h"
#include "waybill/log.h"
#include "waybill/prov.h"
#include "waybill/safe.h"
#include "waybill/scitt.h"
#include "waybill/util.h"

static char *dir;
static char data[4200], url[64];
static wb_server *srv;
static wb_key *admin, *supplier, *tpmvendor, *reviewer;

/* registers payload p signed by key as iss; returns the HTTP status */
static long submit(const wb_key *key, const char *iss, const wb_prov_payload *p,
                   const char *sub, char *detail, size_t cap)
{
    return wbt_prov_submit(url, key, iss, p, sub, detail, cap, NULL);
}

static void add_bytes(uint8_t ***list, size_t **lens, size_t *n, const uint8_t *p, size_t len)
{
    *list = realloc(*list, (*n + 1) * sizeof(**list));
    *lens = realloc(*lens, (*n + 1) * sizeof(**lens));
    (*list)[*n] = malloc(len);
    memcpy((*list)[*n], p, len);
    (*lens)[(*n)++] = len;
}

/* the certificates of a real file (DER, PEM, bundle, NV blob) */
static void load_certs(const char *rel, uint8_t ***der, size_t **len, size_t *n)
{
    size_t blen;
    char *blob = wbt_read_file(wbt_vector_path(rel), &blen);
    if (wb_identity_load(der, len, n, (const uint8_t *)blob, blen, NULL, 0) != 0)
        fail_msg("%s: %s", rel, wb_error_message());
    free(blob);
}

static void register_issuer(const char *name, wb_role role, const char *mfr_or_site,
                            const wb_key *key, const char *const *ca_files, size_t ncas)
{
    uint8_t **cas = NULL;
    size_t *ca_len = NULL, n = 0;
    for (size_t i = 0; i < ncas; i++) {
        uint8_t **d = NULL;
        size_t *l = NULL, k = 0;
        load_certs(ca_files[i], &d, &l, &k);
        for (size_t j = 0; j < k; j++)
            add_bytes(&cas, &ca_len, &n, d[j], l[j]);
        wb_identity_free(d, l, k);
    }
    wbt_prov_issuer(url, admin, name, role, mfr_or_site, key, (const uint8_t *const *)cas,
                    ca_len, n);
    for (size_t i = 0; i < n; i++)
        free(cas[i]);
    free(cas);
    free(ca_len);
}

/* a manifest of one device: its real chain (leaf first) */
static long manifest(const wb_key *key, const char *iss, const char *mfr, wb_device_class cls,
                     const char *const *chain_files, size_t nfiles, const char *id_override,
                     char *detail, size_t cap, char id_out[65])
{
    wb_prov_payload p;
    wb_p_device *d;
    long status;
    memset(&p, 0, sizeof(p));
    p.kind = WB_KIND_MANIFEST;
    p.version = WB_PROV_VERSION;
    snprintf(p.u.manifest.manufacturer, sizeof(p.u.manifest.manufacturer), "%s", mfr);
    p.u.manifest.devices = calloc(1, sizeof(*d));
    p.u.manifest.ndevices = 1;
    d = &p.u.manifest.devices[0];
    d->cls = cls;
    snprintf(d->model, sizeof(d->model), "real sample");
    snprintf(d->serial, sizeof(d->serial), "SN-%u", (unsigned)time(NULL));
    for (size_t f = 0; f < nfiles; f++) {
        uint8_t **der = NULL;
        size_t *len = NULL, n = 0;
        load_certs(chain_files[f], &der, &len, &n);
        for (size_t i = 0; i < n && d->nchain < WB_PROV_CHAIN_MAX; i++) {
            d->chain[d->nchain] = der[i];
            d->chain_len[d->nchain++] = len[i];
            der[i] = NULL;
        }
        wb_identity_free(der, len, n);
    }
    /* the device id is computed like any verifier would: from the leaf */
    assert_int_equal(wb_device_id_of_cert(d->id, d->chain[0], d->chain_len[0]), 0);
    if (id_out)
        snprintf(id_out, 65, "%s", d->id);
    if (id_override)
        snprintf(d->id, sizeof(d->id), "%s", id_override);
    status = submit(key, iss, &p, d->id, detail, cap);
    wb_prov_payload_cleanup(&p);
    return status;
}

static uint64_t tree_size(void)
{
    return wbt_tree_size(url);
}

static int setup(void **state)
{
    char path[4400];
    (void)state;
    dir = wbt_tmpdir("realreg");
    snprintf(data, sizeof(data), "%s/data", dir);
    srv = wbt_dev_server(data, url, sizeof(url), 0);
    snprintf(path, sizeof(path), "%s/admin.key", data);
    assert_int_equal(wb_key_read_file(&admin, path), 0);
    assert_int_equal(wb_key_generate(&supplier, WB_ALG_ES256), 0);
    assert_int_equal(wb_key_generate(&tpmvendor, WB_ALG_ES256), 0);
    assert_int_equal(wb_key_generate(&reviewer, WB_ALG_ES256), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    wb_server_stop(srv);
    wb_key_free(admin);
    wb_key_free(supplier);
    wb_key_free(tpmvendor);
    wb_key_free(reviewer);
    wbt_rmtree(dir);
    free(dir);
    return 0;
}

static void test_spdm_and_tpm_identities(void **state)
{
    const char *spdm_cas[] = {"identity/libspdm/ecp384/ca.cert.der", "spdm/ecp256/ca.cert"};
    const char *tpm_cas[] = {"identity/tpm-ek/stmicro-tpm20-rsa-chain/STM_RSA_RT.pem",
                             "identity/tpm-ek/stmicro-tpm12-nv-header/STM_RSA_02I.pem"};
    char detail[1024], id[65];
    uint64_t before;
    (void)state;
    register_issuer("dmtf-samples", WB_ROLE_SUPPLIER, "DMTF", supplier, spdm_cas, 2);
    register_issuer("stmicro", WB_ROLE_SUPPLIER, "STMicroelectronics", tpmvendor, tpm_cas, 2);

    /* SPDM P-384: the concatenated bundle, root first as libspdm ships it,
     * reversed into leaf first */
    {
        const char *leaf[] = {"identity/libspdm/ecp384/end_responder.cert.der",
                              "spdm/ecp384/inter.cert.der"};
        assert_int_equal(manifest(supplier, "dmtf-samples", "DMTF", WB_CLASS_ROT, leaf, 2, NULL,
                                  detail, sizeof(detail), id), 201);
    }
    /* SPDM P-256 */
    {
        const char *leaf[] = {"spdm/ecp256/end_responder.cert", "spdm/ecp256/inter.cert.der"};
        assert_int_equal(manifest(supplier, "dmtf-samples", "DMTF", WB_CLASS_ROT, leaf, 2, NULL,
                                  detail, sizeof(detail), id), 201);
    }
    /* STMicro TPM 2.0: EK (RSA) <- intermediate 06 <- STM root */
    {
        const char *ek[] = {"identity/tpm-ek/stmicro-tpm20-rsa-chain/ek_ST33HTPHAHD4.crt",
                            "identity/tpm-ek/stmicro-tpm20-rsa-chain/STM_RSA_06I.pem"};
        assert_int_equal(manifest(tpmvendor, "stmicro", "STMicroelectronics", WB_CLASS_TPM, ek,
                                  2, NULL, detail, sizeof(detail), id), 201);
        assert_string_equal(id, "15f0537b191c07431b829abcda82d8a6002a7add7465981186a0c3bce93d1849");
    }
    /* STMicro TPM 1.2: loaded from its NV blob, refused by name; nothing written */
    before = tree_size();
    {
        const char *ek[] = {"identity/tpm-ek/stmicro-tpm12-nv-header/ek_cert_untouched.cer"};
        assert_int_equal(manifest(tpmvendor, "stmicro", "STMicroelectronics", WB_CLASS_TPM, ek,
                                  1, NULL, detail, sizeof(detail), id), 400);
        if (!strstr(detail, "rsaesOaep"))
            fail_msg("TPM 1.2 refusal does not name the key type: %s", detail);
    }
    /* a typed id is not an identity: the id must be the certificate's key */
    {
        const char *leaf[] = {"spdm/ecp256/end_responder.cert", "spdm/ecp256/inter.cert.der"};
        assert_int_equal(manifest(supplier, "dmtf-samples", "DMTF", WB_CLASS_ROT, leaf, 2,
                                  "00000000000000000000000000000000000000000000000000000000000000aa",
                                  detail, sizeof(detail), id), 400);
        assert_non_null(strstr(detail, "is not the SHA-256"));
    }
    /* a chain to another supplier's CA */
    {
        const char *leaf[] = {"spdm/ecp256/end_responder.cert", "spdm/ecp256/inter.cert.der"};
        assert_int_equal(manifest(tpmvendor, "stmicro", "STMicroelectronics", WB_CLASS_ROT, leaf,
                                  2, NULL, detail, sizeof(detail), id), 400);
        assert_non_null(strstr(detail, "does not lead to a CA"));
    }
    assert_true(tree_size() == before);
}

static void test_real_review_registers(void **state)
{
    const char *no_cas[] = {NULL};
    size_t len, klen;
    char *report = wbt_read_file(
        wbt_vector_path("ocp-safe/micron-7550-2026-keysight/micron_7550_enterprise_ssd.jwt"),
        &len);
    char *key = wbt_read_file(wbt_vector_path("ocp-safe/keys/keysight_ocp_safe_ecdsa_p521_e1.pub"),
                              &klen);
    const char *keys[1] = {key};
    wb_prov_payload p;
    wb_safe_report rep;
    char detail[1024];
    (void)state;
    (void)no_cas;
    register_issuer("keysight", WB_ROLE_REVIEWER, NULL, reviewer, NULL, 0);
    if (wb_safe_import(&p, &rep, (const uint8_t *)report, len, keys, 1) != 0)
        fail_msg("import: %s", wb_error_message());
    assert_int_equal(submit(reviewer, "keysight", &p, p.u.review.firmware_digest, detail,
                            sizeof(detail)), 201);
    wb_safe_report_cleanup(&rep);
    wb_prov_payload_cleanup(&p);

    /* read it back from the ledger: the reviewer's bytes still verify */
    {
        wb_log *log;
        uint64_t size;
        uint8_t *e;
        size_t elen;
        wb_cose_sign1 m;
        wb_prov_payload back;
        assert_int_equal(wb_log_open(&log, data, NULL), 0);
        assert_int_equal(wb_log_head(log, &size, NULL, NULL, NULL), 0);
        assert_int_equal(wb_log_entry(log, size - 1, &e, &elen), 0);
        assert_int_equal(wb_cose_sign1_decode(&m, e, elen, WB_COSE_MAX), 0);
        assert_int_equal(wb_prov_parse(&back, WB_KIND_REVIEW, m.payload, m.payload_len), 0);
        assert_int_equal(wb_safe_verify_original(&back.u.review, keys, 1), 0);
        assert_int_equal(back.u.review.original_len, len);
        assert_memory_equal(back.u.review.original, report, len);
        wb_prov_payload_cleanup(&back);
        wb_cose_sign1_cleanup(&m);
        free(e);
        wb_log_close(log);
    }
    free(report);
    free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spdm_and_tpm_identities),
        cmocka_unit_test(test_real_review_registers),
    };
    return cmocka_run_group_tests_name("prov/real_registration", tests, setup, teardown);
}
