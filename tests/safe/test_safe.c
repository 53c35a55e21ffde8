/*
 * test_safe.c: importing OCP SAFE security reviews (waybill/safe.h) with the
 * six real signed reports of tests/vectors/ocp-safe/ (see its README):
 *
 *   - each verifies with its reviewer's published key, and only with it,
 *     and normalizes to the values asserted per report below; the JWS
 *     payload (what was signed) is the same JSON value as the .json file
 *     published next to it, though never the same bytes;
 *   - the four that name a SHA-384 import as review payloads that
 *     wb_prov_encode writes and wb_prov_parse reads back, and the read-back
 *     review re-verifies against its kept original; AMD 2023 and Caliptra
 *     2024 are refused by name (no SHA-384);
 *   - a changed byte anywhere in a JWS is refused; in the COSE_Sign, a
 *     changed byte is refused everywhere except inside the unprotected
 *     signer header (kid), which RFC 9052 leaves unsigned: there the result
 *     is refused or exactly the same review;
 *   - the normalization rules, JWS and COSE_Sign edge cases and a CoRIM with
 *     issues, each on inputs signed here with a P-521 key made for the test.
 */
#include "wbtest.h"

#include <jansson.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cose/cose_int.h"
#include "prov/safe_int.h"
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/prov.h"
#include "waybill/safe.h"
#include "waybill/util.h"

/* ---- the real reports ---- */

enum { K_SGS, K_ATREDIS, K_IOACTIVE, K_KEYSIGHT, K_KUDELSKI, K_NCC, K_TETREL, K_TOB, NKEYS };

static const char *const key_files[NKEYS] = {
    "ocp-safe/keys/OCP_SAFE_SFR_KEYS_SGS_BRS_2026_public.pem",
    "ocp-safe/keys/atredis_ocp_safe_ecdsa_p521.pub",
    "ocp-safe/keys/ioactive-ocp-safe-ecdsa-p521-pub.pem",
    "ocp-safe/keys/keysight_ocp_safe_ecdsa_p521_e1.pub",
    "ocp-safe/keys/kudelski_ocp_safe_ecdsa_p521.pub",
    "ocp-safe/keys/ocp_safe_ncc_group_ecdsa_p521.pub",
    "ocp-safe/keys/tetrel-ocp-sfr-signing-key.pub",
    "ocp-safe/keys/trail_of_bits_ocp_safe_ecdsa_p384.pem",
};

static char *keys[NKEYS];

typedef struct {
    const char *name, *signed_file, *json_file;
    int key;
    wb_safe_format format;
    const char *alg, *kid, *fv, *vendor, *product, *category, *fw_version, *sha384, *sha512,
        *digest32, *srp, *methodology, *date, *report_version, *cvss_version;
    int scope;
    size_t nissues, nfiles;
    unsigned quirks; /* exactly these */
    int imports;     /* names a SHA-384 */
} report_case;

static const report_case reports[] = {
    {"caliptra-2024-ioactive", "ocp-safe/caliptra-2024-ioactive/caliptra_fw_signed_report.jws",
     "ocp-safe/caliptra-2024-ioactive/caliptra_fw_report.json", K_IOACTIVE, WB_SAFE_FORMAT_JWS,
     "ES512", "IOActive - secp521r1", "1.1", "Microsoft Corporation", "Caliptra",
     "root_of_trust", "", "", "", "", "IOActive, Incorporated", "whitebox", "2024-04-26", "1.1",
     "3.1", 1, 1, 0,
     WB_SAFE_Q_SCOPE_STRING | WB_SAFE_Q_HASH_EMPTY | WB_SAFE_Q_SCORE_STRING |
         WB_SAFE_Q_CVE_EMPTY,
     0},
    {"amd-mi300x-2023-ncc", "ocp-safe/amd-mi300x-2023-ncc/OCP_SAFE_-_amd_mi300x_-_BL_-_Stage_1.jws",
     "ocp-safe/amd-mi300x-2023-ncc/OCP_SAFE_-_amd_mi300x_-_BL_-_Stage_1.json", K_NCC,
     WB_SAFE_FORMAT_JWS, "ES512", "NCC Group", "0.3", "Advanced Micro Devices",
     "AMD Instinct MI300X GPU", "GPU - BL - Stage 1 (mi300-stage1-bootloader.sbin)",
     "06.00.a1.00", "", "",
     "dae3d84ecc6b646fe39714886fdca74e26dc75db041aeb491feb6f87943ae2aa", "NCC Group",
     "whitebox", "2023-09-26", "1.3", "3.1", 0, 0, 0,
     WB_SAFE_Q_SCOPE_ABSENT | WB_SAFE_Q_HASH_EMPTY | WB_SAFE_Q_SHA512_HOLDS_32, 0},
    {"skhynix-peb110-2025-keysight",
     "ocp-safe/skhynix-peb110-2025-keysight/SK_hynix-PEB110-61082A50-Security-Evaluation_signed.jws",
     "ocp-safe/skhynix-peb110-2025-keysight/SK_hynix-PEB110-61082A50-Security-Evaluation.json",
     K_KEYSIGHT, WB_SAFE_FORMAT_JWS, "ES512", "Keysight", "1.1", "SK hynix",
     "PEB110 Enterprise SSD", "storage", "61082A50",
     "b460c323f18e98a9b948906a7e118df0cbb17cfcbc036c830151e16fa9ea9f524ae3db9bbc9fc990cff7aaaa76958249",
     "55e5cf70ccf1b111560070ae54a68ff5f8625ca73bb4a38c2ed5ef82baa33de51d2ee145945ae5350adef29b6638808818880f27da7172b141359b3fa93a3653",
     "", "Keysight Riscure", "whitebox", "2025-09-12", "1.0", "3.1", 1, 2, 1,
     WB_SAFE_Q_HEX_UPPER | WB_SAFE_Q_SCORE_STRING | WB_SAFE_Q_VECTOR_SLASH | WB_SAFE_Q_CVE_NULL,
     1},
    {"micron-7550-2026-keysight", "ocp-safe/micron-7550-2026-keysight/micron_7550_enterprise_ssd.jwt",
     "ocp-safe/micron-7550-2026-keysight/micron_7550_enterprise_ssd.json", K_KEYSIGHT,
     WB_SAFE_FORMAT_JWS, "ES512", "Keysight", "1.1", "Micron Technology, Inc",
     "Micron 7550 Enterprise SSD", "storage", "E5MS002",
     "70b1bc97e274870f60a26263f8d82a5fc184e3094bce5e7fcd66e6d3799166edd9f2e5e690332bc3da54a3895b6edfbe",
     "8772662c9bb448bfb9a1d507cfbd7bfb291ec92dfab04526b12e12c4c4775f010c4e2f29a3a013a82da32d2a174c022c97dca5df183918401d8b1371ae24531b",
     "", "Keysight Technologies Riscure, Inc.", "whitebox", "2025-08-13", "1.0", "3.1", 1, 0,
     0, WB_SAFE_Q_SCOPE_FLOAT | WB_SAFE_Q_DATE_UNPADDED, 1},
    {"rs-trusteddisk-2026-sgs",
     "ocp-safe/rs-trusteddisk-2026-sgs/PBA_TrustedDisk_RS_Scope_1_SFR_signed_SGS_BRSkey.jws",
     "ocp-safe/rs-trusteddisk-2026-sgs/PBA_TrustedDisk_RS_Scope_1_SFR_unsigned.json", K_SGS,
     WB_SAFE_FORMAT_JWS, "ES512", "OCP_SAFE_SFR_KEYS_SGS_BRS_2026", "2.1",
     "Rohde & Schwarz Cybersecurity GmbH", "PBA component of Trusted Disk application",
     "UEFI pre-boot authentication for partition decryption", "3.9.0",
     "4ba48a4578154981f331e7ea6db04f76364464966bb3635421f67138929de0d449b4c928b1353295e64e304080a1260d",
     "ea3cdcdaef73ce4f860fafc9671ec099e6b9c57844768815fa433778678716d8420c1e027096c3909172ac1bc014f1f985fb00aba6d9eb43222915164aa6b4e1",
     "", "SGS Brightsight B.V.", "whitebox", "2026-07-03", "1.0", "3.1", 1, 2, 14,
     WB_SAFE_Q_SCORE_STRING | WB_SAFE_Q_VECTOR_BARE | WB_SAFE_Q_CVE_NULL, 1},
    {"microsoft-hsm-2026-tetrel-cose",
     "ocp-safe/microsoft-hsm-2026-tetrel-cose/Microsoft-HSM-Layer-0-RoT_Final-Report_signed.cbor",
     "ocp-safe/microsoft-hsm-2026-tetrel-cose/Microsoft-HSM-Layer-0-RoT_Final-Report.json",
     K_TETREL, WB_SAFE_FORMAT_COSE_SIGN, "ES512", "tetrel-ocp-sfr-signing-key", "2.0",
     "Microsoft Corporation", "Microsoft HSM Cryptographic Module (Layer 0 RoT)",
     "" /* not in the CoRIM */, "3.4.2.4-50922174",
     "000103edd22b14622f727251751e5aff2f580e8d110c3c664fe1d0d63d4f929173111d3220a49da8c5f10f66c3897369",
     "", "", "Tetrel Security Inc.", "" /* not in the CoRIM */, "2026-04-20", "1.0",
     "" /* not in the CoRIM */, 1, 0, 0,
     WB_SAFE_Q_NO_ALG | WB_SAFE_Q_PROFILE_TLV | WB_SAFE_Q_COSE_HASH_IDS, 1},
};

#define NREPORTS (sizeof(reports) / sizeof(reports[0]))

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < NKEYS; i++)
        keys[i] = wbt_read_file(wbt_vector_path(key_files[i]), NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < NKEYS; i++)
        free(keys[i]);
    return 0;
}

static uint8_t *vec(const char *rel, size_t *len)
{
    return (uint8_t *)wbt_read_file(wbt_vector_path(rel), len);
}

static const char *const *all_keys(void)
{
    return (const char *const *)keys;
}

static const char *one_key[1];

static const char *const *key_list(int k)
{
    one_key[0] = keys[k];
    return one_key;
}

/* fails the test with the message if rc != want */
#define EXPECT(want, expr)                                                                  \
    do {                                                                                    \
        int rc_ = (expr);                                                                   \
        if (rc_ != (want))                                                                  \
            fail_msg("%s: %d (%s), want %d", #expr, rc_, wb_error_message(), (want));       \
    } while (0)

/* refused with code and a message holding msg */
static void refused(int rc, int code, const char *msg)
{
    if (rc != code)
        fail_msg("got %d (%s), want %d with '%s'", rc, wb_error_message(), code,
                 msg ? msg : "");
    if (msg && !strstr(wb_error_message(), msg))
        fail_msg("message '%s' lacks '%s'", wb_error_message(), msg);
}

static void check_report(const report_case *c, const wb_safe_report *r)
{
    assert_int_equal(r->format, c->format);
    assert_string_equal(r->alg, c->alg);
    assert_string_equal(r->kid, c->kid);
    assert_string_equal(r->framework_version, c->fv);
    assert_string_equal(r->vendor, c->vendor);
    assert_string_equal(r->product, c->product);
    assert_string_equal(r->category, c->category);
    assert_string_equal(r->fw_version, c->fw_version);
    assert_string_equal(r->fw_sha384, c->sha384);
    assert_string_equal(r->fw_sha512, c->sha512);
    assert_string_equal(r->fw_digest32, c->digest32);
    assert_string_equal(r->srp, c->srp);
    assert_string_equal(r->methodology, c->methodology);
    assert_string_equal(r->completion_date, c->date);
    assert_string_equal(r->report_version, c->report_version);
    assert_string_equal(r->cvss_version, c->cvss_version);
    assert_int_equal(r->scope_number, c->scope);
    assert_int_equal(r->nissues, c->nissues);
    assert_int_equal(r->nfiles, c->nfiles);
    if (r->quirks != c->quirks)
        fail_msg("%s: quirks 0x%x, want 0x%x", c->name, r->quirks, c->quirks);
    assert_non_null(r->repo_tag);
}

/* every report verifies with its key, among all eight, and normalizes */
static void test_real_reports(void **state)
{
    (void)state;
    for (size_t i = 0; i < NREPORTS; i++) {
        const report_case *c = &reports[i];
        wb_safe_report r;
        size_t len;
        uint8_t *data = vec(c->signed_file, &len);

        fprintf(stderr, "%s\n", c->name);
        EXPECT(0, wb_safe_report_verify(&r, data, len, all_keys(), NKEYS));
        assert_int_equal(r.key_index, c->key);
        check_report(c, &r);
        wb_safe_report_cleanup(&r);

        /* its own key alone is enough */
        EXPECT(0, wb_safe_report_verify(&r, data, len, key_list(c->key), 1));
        assert_int_equal(r.key_index, 0);
        wb_safe_report_cleanup(&r);
        free(data);
    }
}

/* the per-report details that the table does not hold */
static void test_real_report_details(void **state)
{
    wb_safe_report r;
    size_t len;
    uint8_t *data;

    (void)state;
    /* SK hynix: two issues, bare-slash vectors, null cves; an UPPERCASE manifest hash */
    data = vec(reports[2].signed_file, &len);
    EXPECT(0, wb_safe_report_verify(&r, data, len, all_keys(), NKEYS));
    assert_string_equal(r.issues[0].title, "Integer underflow leads to OOB Write");
    assert_true(r.issues[0].cvss_score == 3.7);
    assert_string_equal(r.issues[0].cvss_vector, "CVSS:3.1/AV:P/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L");
    assert_string_equal(r.issues[0].cwe, "CWE-787");
    assert_string_equal(r.issues[0].cve, "");
    assert_true(r.issues[1].cvss_score == 2.3);
    assert_string_equal(r.issues[1].cvss_vector, "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:N/I:N/A:L");
    assert_string_equal(r.issues[1].cwe, "CWE-119");
    assert_string_equal(r.files[0].name, "./PEB110.zip");
    assert_string_equal(r.files[0].hash,
                        "603e04aeda9ed24c41390499a7102f557c410cef1e7790b027961d0750b289c5"
                        "089347e5d83bdfede184f921e34a16419090b32b51413d16279390cdfedb3ba7");
    assert_string_equal(r.repo_tag, "");
    wb_safe_report_cleanup(&r);
    free(data);

    /* Caliptra: a prefixed vector, an empty cve, a 0.0 score, URLs as repo_tag */
    data = vec(reports[0].signed_file, &len);
    EXPECT(0, wb_safe_report_verify(&r, data, len, all_keys(), NKEYS));
    assert_string_equal(r.issues[0].title,
                        "Mailbox component has multiple high-level implementations");
    assert_true(r.issues[0].cvss_score == 0.0);
    assert_string_equal(r.issues[0].cvss_vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N");
    assert_string_equal(r.issues[0].cwe, "CWE-1041");
    assert_non_null(strstr(r.issues[0].description, "MboxCsr"));
    assert_true(strncmp(r.repo_tag, "https://github.com/chipsalliance/caliptra-sw/tree/", 50) ==
                0);
    wb_safe_report_cleanup(&r);
    free(data);

    /* R&S: bare vectors, 14 manifest files */
    data = vec(reports[4].signed_file, &len);
    EXPECT(0, wb_safe_report_verify(&r, data, len, all_keys(), NKEYS));
    assert_true(r.issues[0].cvss_score == 2.1);
    assert_string_equal(r.issues[0].cvss_vector, "CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:N/A:N");
    assert_string_equal(r.issues[1].title,
                        "PIN Sequence Observation via Fixed On-Screen Keyboard Layout");
    assert_string_equal(r.files[13].name, "efi/XhciDxe.efi");
    assert_string_equal(r.repo_tag, "TrustedDisk-3.9.0");
    wb_safe_report_cleanup(&r);
    free(data);

    /* AMD: the git commit as repo_tag */
    data = vec(reports[1].signed_file, &len);
    EXPECT(0, wb_safe_report_verify(&r, data, len, all_keys(), NKEYS));
    assert_string_equal(r.repo_tag, "dbf5ee6bc70f2700667285c30debddeb3629d08d");
    wb_safe_report_cleanup(&r);
    free(data);
}

/*
 * What was signed is the JWS payload: never the bytes of the .json next to
 * it, always the same JSON value. The COSE report's CoRIM says what its
 * .json says, for the fields a CoRIM carries.
 */
static void test_payload_vs_published_json(void **state)
{
    (void)state;
    for (size_t i = 0; i < NREPORTS; i++) {
        const report_case *c = &reports[i];
        size_t len, jlen;
        uint8_t *data = vec(c->signed_file, &len), *json = vec(c->json_file, &jlen);
        wb_safe_report a, b;

        fprintf(stderr, "%s\n", c->name);
        if (c->format == WB_SAFE_FORMAT_JWS) {
            wb_safe_jws j;
            json_t *x, *y;
            EXPECT(0, wb_safe_jws_decode(&j, data, len));
            assert_false(j.payload_len == jlen && memcmp(j.payload, json, jlen) == 0);
            x = json_loadb((const char *)j.payload, j.payload_len, 0, NULL);
            y = json_loadb((const char *)json, jlen, 0, NULL);
            assert_non_null(x);
            assert_non_null(y);
            assert_true(json_equal(x, y));
            json_decref(x);
            json_decref(y);
            wb_safe_jws_cleanup(&j);
        }
        EXPECT(0, wb_safe_report_verify(&a, data, len, all_keys(), NKEYS));
        EXPECT(0, wb_safe_sfr_parse(&b, json, jlen));
        assert_string_equal(a.framework_version, b.framework_version);
        assert_string_equal(a.vendor, b.vendor);
        assert_string_equal(a.product, b.product);
        assert_string_equal(a.fw_version, b.fw_version);
        assert_string_equal(a.fw_sha384, b.fw_sha384);
        assert_string_equal(a.fw_sha512, b.fw_sha512);
        assert_string_equal(a.srp, b.srp);
        assert_string_equal(a.completion_date, b.completion_date);
        assert_string_equal(a.report_version, b.report_version);
        assert_int_equal(a.scope_number, b.scope_number);
        assert_int_equal(a.nissues, b.nissues);
        if (c->format == WB_SAFE_FORMAT_COSE_SIGN) {
            /* what only the JSON says */
            assert_string_equal(b.category, "RoT Firmware");
            assert_string_equal(b.methodology, "Whitebox Review");
            assert_string_equal(b.cvss_version, "4.0");
        }
        wb_safe_report_cleanup(&a);
        wb_safe_report_cleanup(&b);
        free(data);
        free(json);
    }
}

/* a review payload written, read back and re-verified against its original */
static void test_import(void **state)
{
    (void)state;
    for (size_t i = 0; i < NREPORTS; i++) {
        const report_case *c = &reports[i];
        wb_prov_payload p, back;
        wb_safe_report r;
        size_t len, jlen;
        uint8_t *data = vec(c->signed_file, &len);
        char *json, fw[64];
        int rc;

        fprintf(stderr, "%s\n", c->name);
        rc = wb_safe_import(&p, &r, data, len, all_keys(), NKEYS);
        EXPECT(0, rc);
        check_report(c, &r);
        if (!c->imports) {
            /* no SHA-384: imported, naming no image, and saying why */
            assert_string_equal(p.u.review.firmware_digest, "");
            assert_non_null(wb_safe_digest_note(&r));
            assert_non_null(strstr(wb_safe_digest_note(&r), c->digest32[0] ? "32-byte value"
                                                                           : "no firmware hash"));
        } else {
            assert_null(wb_safe_digest_note(&r));
        }
        assert_int_equal(p.kind, WB_KIND_REVIEW);
        assert_int_equal(p.version, WB_PROV_VERSION);
        assert_string_equal(p.u.review.firmware_digest, c->sha384);
        assert_string_equal(p.u.review.reviewer, c->srp);
        snprintf(fw, sizeof(fw), "OCP SAFE SFR %s", c->fv);
        assert_string_equal(p.u.review.framework, fw);
        assert_int_equal(p.u.review.nissues, c->nissues);
        for (size_t k = 0; k < c->nissues; k++) {
            assert_string_equal(p.u.review.issues[k].title, r.issues[k].title);
            assert_true(p.u.review.issues[k].cvss == r.issues[k].cvss_score);
            assert_string_equal(p.u.review.issues[k].cve, "");
        }
        assert_string_equal(p.u.review.original_format, wb_safe_format_name(c->format));
        assert_int_equal(p.u.review.original_len, len);
        assert_memory_equal(p.u.review.original, data, len);
        EXPECT(0, wb_safe_verify_original(&p.u.review, all_keys(), NKEYS));

        /* as JSON and back, the way a statement carries it */
        EXPECT(0, wb_prov_encode(&json, &jlen, &p));
        EXPECT(0, wb_prov_parse(&back, WB_KIND_REVIEW, (const uint8_t *)json, jlen));
        assert_string_equal(back.u.review.firmware_digest, c->sha384);
        assert_int_equal(back.u.review.original_len, len);
        assert_memory_equal(back.u.review.original, data, len);
        EXPECT(0, wb_safe_verify_original(&back.u.review, key_list(c->key), 1));
        wb_prov_payload_cleanup(&back);
        free(json);

        wb_prov_payload_cleanup(&p);
        wb_safe_report_cleanup(&r);
        free(data);
    }
}

/* a stored review whose fields or original do not match is refused */
static void test_verify_original_mismatch(void **state)
{
    const report_case *c = &reports[2]; /* SK hynix: two issues */
    wb_prov_payload p;
    wb_p_review *rv = &p.u.review;
    size_t len;
    uint8_t *data = vec(c->signed_file, &len);
    char saved[WB_PROV_TEXT_MAX + 1];

    (void)state;
    EXPECT(0, wb_safe_import(&p, NULL, data, len, all_keys(), NKEYS));
    EXPECT(0, wb_safe_verify_original(rv, key_list(K_KEYSIGHT), 1));

    rv->firmware_digest[0] = rv->firmware_digest[0] == 'a' ? 'b' : 'a';
    refused(wb_safe_verify_original(rv, all_keys(), NKEYS), WB_E_VERIFY, "firmware_digest");
    memcpy(rv->firmware_digest, c->sha384, sizeof(rv->firmware_digest));

    memcpy(saved, rv->reviewer, sizeof(rv->reviewer));
    strcpy(rv->reviewer, "Someone Else");
    refused(wb_safe_verify_original(rv, all_keys(), NKEYS), WB_E_VERIFY, "reviewer");
    memcpy(rv->reviewer, saved, sizeof(rv->reviewer));

    strcpy(rv->framework, "OCP SAFE SFR 9.9");
    refused(wb_safe_verify_original(rv, all_keys(), NKEYS), WB_E_VERIFY, "framework");
    strcpy(rv->framework, "OCP SAFE SFR 1.1");

    rv->issues[1].cvss = 9.8;
    refused(wb_safe_verify_original(rv, all_keys(), NKEYS), WB_E_VERIFY, "issues[1].cvss");
    rv->issues[1].cvss = 2.3;

    memcpy(saved, rv->issues[0].title, sizeof(rv->issues[0].title));
    strcpy(rv->issues[0].title, "Nothing to see");
    refused(wb_safe_verify_original(rv, all_keys(), NKEYS), WB_E_VERIFY, "issues[0].title");
    memcpy(rv->issues[0].title, saved, sizeof(rv->issues[0].title));

    strcpy(rv->issues[0].cve, "CVE-2025-0001");
    refused(wb_safe_verify_original(rv, all_keys(), NKEYS), WB_E_VERIFY, "issues[0].cve");
    rv->issues[0].cve[0] = '\0';

    rv->nissues = 1;
    refused(wb_safe_verify_original(rv, all_keys(), NKEYS), WB_E_VERIFY, "1 issues");
    rv->nissues = 2;

    free(rv->original_format);
    rv->original_format = strdup("cose-sign");
    refused(wb_safe_verify_original(rv, all_keys(), NKEYS), WB_E_VERIFY, "original_format");
    free(rv->original_format);
    rv->original_format = strdup("pdf");
    refused(wb_safe_verify_original(rv, all_keys(), NKEYS), WB_E_INVALID, "original_format");
    free(rv->original_format);
    rv->original_format = strdup("jws");

    rv->original[100] ^= 0x01;
    assert_int_not_equal(wb_safe_verify_original(rv, all_keys(), NKEYS), 0);
    rv->original[100] ^= 0x01;

    /* the wrong reviewer's key */
    refused(wb_safe_verify_original(rv, key_list(K_NCC), 1), WB_E_VERIFY, "does not verify");
    EXPECT(0, wb_safe_verify_original(rv, all_keys(), NKEYS));

    wb_prov_payload_cleanup(&p);
    free(data);
}

/* every report is refused by every key but its own */
static void test_wrong_keys(void **state)
{
    (void)state;
    for (size_t i = 0; i < NREPORTS; i++) {
        const report_case *c = &reports[i];
        const char *others[NKEYS];
        size_t n = 0, len;
        uint8_t *data = vec(c->signed_file, &len);
        wb_safe_report r;
        wb_prov_payload p;

        for (int k = 0; k < NKEYS; k++)
            if (k != c->key)
                others[n++] = keys[k];
        refused(wb_safe_report_verify(&r, data, len, others, n), WB_E_VERIFY, NULL);
        assert_int_equal(r.format, WB_SAFE_FORMAT_NONE);
        refused(wb_safe_import(&p, NULL, data, len, others, n), WB_E_VERIFY, NULL);
        assert_int_equal(p.kind, WB_KIND_NONE);
        /* a P-384 key cannot have made a P-521 signature: said so */
        refused(wb_safe_report_verify(&r, data, len, key_list(K_TOB), 1), WB_E_VERIFY,
                c->format == WB_SAFE_FORMAT_JWS ? "none of the 1 reviewer keys is a P-521"
                                                : "no signature verifies");
        free(data);
    }
    /* no keys, bad keys */
    {
        size_t len;
        uint8_t *data = vec(reports[2].signed_file, &len);
        wb_safe_report r;
        const char *bad[1] = {"-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n"};
        const char *cert[1] = {"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"};
        refused(wb_safe_report_verify(&r, data, len, all_keys(), 0), WB_E_INVALID,
                "no reviewer key");
        refused(wb_safe_report_verify(&r, data, len, bad, 1), WB_E_INVALID, "reviewer key 1");
        refused(wb_safe_report_verify(&r, data, len, cert, 1), WB_E_INVALID, "PUBLIC KEY");
        free(data);
    }
}

/* ---- changed bytes ---- */

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * Positions across every JWS (all of the header, the dots and the
 * signature; a sample of the payload), each changed to another base64url
 * character (so that it still decodes, unless pad bits make it
 * non-canonical) and XORed with 0x01 (often not base64url any more): all
 * refused.
 */
static void test_jws_changed_bytes(void **state)
{
    size_t total = 0;

    (void)state;
    for (size_t i = 0; i < NREPORTS; i++) {
        const report_case *c = &reports[i];
        size_t len, d1, d2;
        uint8_t *data;

        if (c->format != WB_SAFE_FORMAT_JWS)
            continue;
        data = vec(c->signed_file, &len);
        d1 = (size_t)((uint8_t *)memchr(data, '.', len) - data);
        d2 = d1 + 1 + (size_t)((uint8_t *)memchr(data + d1 + 1, '.', len - d1 - 1) - (data + d1 + 1));
        for (size_t pos = 0; pos < len; pos++) {
            /* every position of the header, the two dots and the signature;
             * in the payload, the first and last 16 and every 7th */
            if (pos > d1 + 16 && pos + 16 < d2 && pos % 7 != 0)
                continue;
            uint8_t orig = data[pos];
            const char *at = strchr(b64url_alphabet, orig);
            uint8_t subs[2];
            subs[0] = at && orig != '.' ? (uint8_t)b64url_alphabet[((size_t)(at - b64url_alphabet) + 1 + pos % 63) % 64]
                                        : (uint8_t)'A';
            subs[1] = orig ^ 0x01;
            for (int s = 0; s < 2; s++) {
                wb_safe_report r;
                int rc;
                data[pos] = subs[s];
                rc = wb_safe_report_verify(&r, data, len, key_list(c->key), 1);
                if (rc == 0)
                    fail_msg("%s: byte %zu changed 0x%02x -> 0x%02x still verifies", c->name,
                             pos, orig, subs[s]);
                assert_int_equal(r.format, WB_SAFE_FORMAT_NONE);
                total++;
            }
            data[pos] = orig;
        }
        free(data);
    }
    fprintf(stderr, "%zu changed JWS refused\n", total);
}

/*
 * The COSE_Sign: each byte XORed with 0x01, 0x80 and 0xff. Refused
 * everywhere except in the signer's unprotected header {4: kid}, which the
 * signature does not cover (RFC 9052 §3): a change there may still verify,
 * and then gives exactly the same review.
 */
static void test_cose_changed_bytes(void **state)
{
    const report_case *c = &reports[5];
    static const uint8_t kid[] = "tetrel-ocp-sfr-signing-key";
    size_t len, kid_at = 0, total = 0, unsigned_ok = 0;
    uint8_t *data = vec(c->signed_file, &len);
    static const uint8_t flips[] = {0x01, 0x80, 0xff};

    (void)state;
    for (size_t i = 0; i + sizeof(kid) - 1 <= len; i++)
        if (memcmp(data + i, kid, sizeof(kid) - 1) == 0)
            kid_at = i;
    assert_true(kid_at > 4);
    /* the unprotected map a1 04 58 1a <26 bytes> */
    assert_memory_equal(data + kid_at - 4, "\xa1\x04\x58\x1a", 4);
    for (size_t pos = 0; pos < len; pos++) {
        int in_unprotected = pos >= kid_at - 4 && pos < kid_at + sizeof(kid) - 1;
        for (size_t f = 0; f < sizeof(flips); f++) {
            wb_safe_report r;
            int rc;
            data[pos] ^= flips[f];
            rc = wb_safe_report_verify(&r, data, len, key_list(c->key), 1);
            data[pos] ^= flips[f];
            total++;
            if (rc != 0)
                continue;
            if (!in_unprotected)
                fail_msg("byte %zu ^ 0x%02x still verifies", pos, flips[f]);
            unsigned_ok++;
            assert_string_equal(r.fw_sha384, c->sha384);
            assert_string_equal(r.srp, c->srp);
            assert_string_equal(r.vendor, c->vendor);
            assert_string_equal(r.product, c->product);
            assert_string_equal(r.completion_date, c->date);
            assert_int_equal(r.nissues, 0);
            wb_safe_report_cleanup(&r);
        }
    }
    fprintf(stderr, "%zu changed COSE_Sign: %zu inside the unsigned kid header verify\n",
            total, unsigned_ok);
    assert_true(unsigned_ok > 0); /* the kid really is unsigned */
    free(data);
}

/* ---- normalization rules, on JSON ---- */

/* a minimal report around the given device, audit and issue fragments */
static int sfr(wb_safe_report *r, const char *device_extra, const char *audit_extra,
               const char *issue)
{
    char buf[4096];
    snprintf(buf, sizeof(buf),
             "{\"review_framework_version\":\"1.1\","
             "\"device\":{\"vendor\":\"V\",\"product\":\"P\"%s},"
             "\"audit\":{\"srp\":\"S\",\"completion_date\":\"2025-09-12\","
             "\"cvss_version\":\"3.1\"%s,\"issues\":[%s]}}",
             device_extra, audit_extra, issue);
    return wb_safe_sfr_parse(r, (const uint8_t *)buf, strlen(buf));
}

static void test_scope_number(void **state)
{
    static const struct {
        const char *audit;
        int scope;
        unsigned quirk;
    } ok[] = {
        {"", 0, WB_SAFE_Q_SCOPE_ABSENT},
        {",\"scope_number\":\"1\"", 1, WB_SAFE_Q_SCOPE_STRING},
        {",\"scope_number\":1", 1, 0},
        {",\"scope_number\":1.0", 1, WB_SAFE_Q_SCOPE_FLOAT},
        {",\"scope_number\":\"3\"", 3, WB_SAFE_Q_SCOPE_STRING},
        {",\"scope_number\":2e0", 2, WB_SAFE_Q_SCOPE_FLOAT},
    };
    static const char *const bad[] = {
        ",\"scope_number\":1.5",  ",\"scope_number\":0",    ",\"scope_number\":-1",
        ",\"scope_number\":100",  ",\"scope_number\":\"01\"", ",\"scope_number\":\"one\"",
        ",\"scope_number\":\"\"", ",\"scope_number\":\"1.0\"", ",\"scope_number\":true",
        ",\"scope_number\":null", ",\"scope_number\":[1]",
    };
    wb_safe_report r;

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        EXPECT(0, sfr(&r, "", ok[i].audit, ""));
        assert_int_equal(r.scope_number, ok[i].scope);
        assert_int_equal(r.quirks, ok[i].quirk);
        wb_safe_report_cleanup(&r);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fprintf(stderr, "scope %s\n", bad[i]);
        refused(sfr(&r, "", bad[i], ""), WB_E_INVALID, "audit.scope_number");
    }
}

static void test_completion_date(void **state)
{
    static const struct {
        const char *in, *out;
        int unpadded;
    } ok[] = {
        {"2025-8-13", "2025-08-13", 1},  {"2025-08-13", "2025-08-13", 0},
        {"2025-8-3", "2025-08-03", 1},   {"2025-12-3", "2025-12-03", 1},
        {"2024-2-29", "2024-02-29", 1},  {"2000-02-29", "2000-02-29", 0},
        {"2023-09-26", "2023-09-26", 0},
    };
    static const char *const bad[] = {
        "2025-2-29", "1900-02-29", "2025-13-01", "2025-0-1",   "2025-04-31", "25-08-13",
        "2025-08-13T00:00:00Z", "2025/08/13", "2025-008-13", "2025-08-130", " 2025-08-13",
        "",          "13.08.2025", "1969-12-31",
    };
    wb_safe_report r;

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char buf[512];
        snprintf(buf, sizeof(buf),
                 "{\"review_framework_version\":\"1.1\",\"device\":{\"vendor\":\"V\","
                 "\"product\":\"P\"},\"audit\":{\"srp\":\"S\",\"completion_date\":\"%s\","
                 "\"scope_number\":1,\"issues\":[]}}",
                 ok[i].in);
        EXPECT(0, wb_safe_sfr_parse(&r, (const uint8_t *)buf, strlen(buf)));
        assert_string_equal(r.completion_date, ok[i].out);
        assert_int_equal(!!(r.quirks & WB_SAFE_Q_DATE_UNPADDED), ok[i].unpadded);
        wb_safe_report_cleanup(&r);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char buf[512];
        snprintf(buf, sizeof(buf),
                 "{\"review_framework_version\":\"1.1\",\"device\":{\"vendor\":\"V\","
                 "\"product\":\"P\"},\"audit\":{\"srp\":\"S\",\"completion_date\":\"%s\","
                 "\"issues\":[]}}",
                 bad[i]);
        fprintf(stderr, "date '%s'\n", bad[i]);
        refused(wb_safe_sfr_parse(&r, (const uint8_t *)buf, strlen(buf)), WB_E_INVALID,
                "audit.completion_date");
    }
    {
        const char *j = "{\"review_framework_version\":\"1.1\",\"device\":{\"vendor\":\"V\","
                        "\"product\":\"P\"},\"audit\":{\"srp\":\"S\",\"completion_date\":"
                        "20250813,\"issues\":[]}}";
        refused(wb_safe_sfr_parse(&r, (const uint8_t *)j, strlen(j)), WB_E_INVALID,
                "want a string");
    }
}

#define H96 "70b1bc97e274870f60a26263f8d82a5fc184e3094bce5e7fcd66e6d3799166edd9f2e5e690332bc3da54a3895b6edfbe"
#define H128 "8772662c9bb448bfb9a1d507cfbd7bfb291ec92dfab04526b12e12c4c4775f010c4e2f29a3a013a82da32d2a174c022c97dca5df183918401d8b1371ae24531b"
#define H64 "dae3d84ecc6b646fe39714886fdca74e26dc75db041aeb491feb6f87943ae2aa"

static void test_hashes(void **state)
{
    wb_safe_report r;
    char upper[97];

    (void)state;
    /* empty */
    EXPECT(0, sfr(&r, ",\"fw_hash_sha2_384\":\"\",\"fw_hash_sha2_512\":\"\"", "", ""));
    assert_string_equal(r.fw_sha384, "");
    assert_string_equal(r.fw_sha512, "");
    assert_int_equal(r.quirks, WB_SAFE_Q_HASH_EMPTY | WB_SAFE_Q_SCOPE_ABSENT);
    wb_safe_report_cleanup(&r);
    /* absent */
    EXPECT(0, sfr(&r, "", "", ""));
    assert_string_equal(r.fw_sha384, "");
    assert_int_equal(r.quirks, WB_SAFE_Q_SCOPE_ABSENT);
    wb_safe_report_cleanup(&r);
    /* both */
    EXPECT(0, sfr(&r, ",\"fw_hash_sha2_384\":\"" H96 "\",\"fw_hash_sha2_512\":\"" H128 "\"", "",
                  ""));
    assert_string_equal(r.fw_sha384, H96);
    assert_string_equal(r.fw_sha512, H128);
    wb_safe_report_cleanup(&r);
    /* upper case is lowered */
    for (size_t i = 0; i < 96; i++)
        upper[i] = (char)(H96[i] >= 'a' ? H96[i] - 32 : H96[i]);
    upper[96] = '\0';
    {
        char dev[256];
        snprintf(dev, sizeof(dev), ",\"fw_hash_sha2_384\":\"%s\"", upper);
        EXPECT(0, sfr(&r, dev, "", ""));
        assert_string_equal(r.fw_sha384, H96);
        assert_true(r.quirks & WB_SAFE_Q_HEX_UPPER);
        wb_safe_report_cleanup(&r);
    }
    /* AMD: 32 bytes in the SHA-512 field -> kept aside, never the SHA-512 */
    EXPECT(0, sfr(&r, ",\"fw_hash_sha2_384\":\"\",\"fw_hash_sha2_512\":\"" H64 "\"", "", ""));
    assert_string_equal(r.fw_sha512, "");
    assert_string_equal(r.fw_sha384, "");
    assert_string_equal(r.fw_digest32, H64);
    assert_true(r.quirks & WB_SAFE_Q_SHA512_HOLDS_32);
    wb_safe_report_cleanup(&r);
    /* anything else is refused */
    refused(sfr(&r, ",\"fw_hash_sha2_512\":\"" H96 "\"", "", ""), WB_E_INVALID,
            "device.fw_hash_sha2_512: 48 bytes");
    refused(sfr(&r, ",\"fw_hash_sha2_384\":\"" H64 "\"", "", ""), WB_E_INVALID,
            "device.fw_hash_sha2_384: 32 bytes");
    refused(sfr(&r, ",\"fw_hash_sha2_384\":\"" H128 "\"", "", ""), WB_E_INVALID,
            "device.fw_hash_sha2_384: 64 bytes");
    refused(sfr(&r, ",\"fw_hash_sha2_384\":\"" H96 "0\"", "", ""), WB_E_INVALID,
            "hex digits");
    refused(sfr(&r, ",\"fw_hash_sha2_384\":\"g" H96 "0\"", "", ""), WB_E_INVALID,
            "not a hex digit");
    refused(sfr(&r, ",\"fw_hash_sha2_384\":null", "", ""), WB_E_INVALID, "want a string");
    refused(sfr(&r, ",\"fw_hash_sha2_384\":\" " H96 "\"", "", ""), WB_E_INVALID,
            "hex digits");
    /* manifest hashes */
    EXPECT(0, sfr(&r, ",\"manifest\":[{\"file_name\":\"a\",\"file_hash\":\"" H64 "\"}]", "",
                  ""));
    assert_int_equal(r.nfiles, 1);
    assert_string_equal(r.files[0].hash, H64);
    wb_safe_report_cleanup(&r);
    refused(sfr(&r, ",\"manifest\":[{\"file_name\":\"a\",\"file_hash\":\"abcd\"}]", "", ""),
            WB_E_INVALID, "device.manifest[0].file_hash: 2 bytes");
    refused(sfr(&r, ",\"manifest\":[{\"file_name\":\"a\"}]", "", ""), WB_E_INVALID,
            "device.manifest[0].file_hash: missing");
    refused(sfr(&r, ",\"manifest\":{}", "", ""), WB_E_INVALID, "want an array");
}

#define ISSUE(score, extra) "{\"title\":\"T\",\"cvss_score\":" score extra "}"

static void test_cvss_score(void **state)
{
    static const struct {
        const char *score;
        double v;
        int string;
    } ok[] = {
        {"\"0.0\"", 0.0, 1}, {"\"3.7\"", 3.7, 1}, {"\"2.1\"", 2.1, 1}, {"\"10.0\"", 10.0, 1},
        {"\"10\"", 10.0, 1}, {"\"7\"", 7.0, 1},   {"3.7", 3.7, 0},     {"9", 9.0, 0},
        {"0", 0.0, 0},       {"10.0", 10.0, 0},
    };
    static const char *const bad[] = {
        "\"10.1\"", "\"-1\"", "\"3.75\"", "3.75", "\"3,7\"", "\" 3.7\"", "\"03.7\"", "\"\"",
        "null",     "\"3.\"", "\".7\"",   "11",   "-0.1",    "\"1e1\"",  "\"+3.7\"", "true",
        "\"3.7 \"",
    };
    wb_safe_report r;

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char is[128];
        snprintf(is, sizeof(is), "{\"title\":\"T\",\"cvss_score\":%s}", ok[i].score);
        EXPECT(0, sfr(&r, "", ",\"scope_number\":1", is));
        assert_true(r.issues[0].cvss_score == ok[i].v);
        assert_int_equal(!!(r.quirks & WB_SAFE_Q_SCORE_STRING), ok[i].string);
        wb_safe_report_cleanup(&r);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char is[128];
        snprintf(is, sizeof(is), "{\"title\":\"T\",\"cvss_score\":%s}", bad[i]);
        fprintf(stderr, "score %s\n", bad[i]);
        refused(sfr(&r, "", "", is), WB_E_INVALID, "audit.issues[0].cvss_score");
    }
    refused(sfr(&r, "", "", "{\"title\":\"T\"}"), WB_E_INVALID,
            "audit.issues[0].cvss_score: missing");
}

static void test_cvss_vector(void **state)
{
    static const struct {
        const char *in, *out;
        unsigned quirk;
    } ok[] = {
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N",
         "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0},
        {"/AV:P/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L", "CVSS:3.1/AV:P/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L",
         WB_SAFE_Q_VECTOR_SLASH},
        {"AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:N/A:N", "CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:N/A:N",
         WB_SAFE_Q_VECTOR_BARE},
        {"", "", 0},
    };
    static const char *const bad[] = {
        "CVSS:3.0/AV:N/AC:L", /* another version than the report's 3.1 */
        "CVSS:/AV:N",         "CVSS:3.1",  "CVSS:9.9/AV:N", "AV:N/",  "AV:N//AC:L",
        "garbage",            "AV=N",      "/",             "AV:N AC:L", "AVXYZ:N",
    };
    wb_safe_report r;

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char is[256];
        snprintf(is, sizeof(is), "{\"title\":\"T\",\"cvss_score\":1,\"cvss_vector\":\"%s\"}",
                 ok[i].in);
        EXPECT(0, sfr(&r, "", ",\"scope_number\":1", is));
        assert_string_equal(r.issues[0].cvss_vector, ok[i].out);
        assert_int_equal(r.quirks, ok[i].quirk);
        wb_safe_report_cleanup(&r);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char is[256];
        snprintf(is, sizeof(is), "{\"title\":\"T\",\"cvss_score\":1,\"cvss_vector\":\"%s\"}",
                 bad[i]);
        fprintf(stderr, "vector '%s'\n", bad[i]);
        refused(sfr(&r, "", "", is), WB_E_INVALID, "audit.issues[0].cvss_vector");
    }
    /* CVSS 4.0 keeps its prefix; 2.0 vectors have none */
    {
        const char *j = "{\"review_framework_version\":\"2.0\",\"device\":{\"vendor\":\"V\","
                        "\"product\":\"P\"},\"audit\":{\"srp\":\"S\",\"completion_date\":"
                        "\"2026-04-20\",\"cvss_version\":\"4.0\",\"issues\":[{\"title\":\"T\","
                        "\"cvss_score\":\"5.3\",\"cvss_vector\":\"AV:N/AC:L/AT:N/PR:N/UI:N/"
                        "VC:L/VI:N/VA:N/SC:N/SI:N/SA:N\"}]}}";
        EXPECT(0, wb_safe_sfr_parse(&r, (const uint8_t *)j, strlen(j)));
        assert_string_equal(r.issues[0].cvss_vector,
                            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N");
        wb_safe_report_cleanup(&r);
        j = "{\"review_framework_version\":\"0.3\",\"device\":{\"vendor\":\"V\","
            "\"product\":\"P\"},\"audit\":{\"srp\":\"S\",\"completion_date\":\"2020-01-01\","
            "\"cvss_version\":\"2.0\",\"issues\":[{\"title\":\"T\",\"cvss_score\":4.3,"
            "\"cvss_vector\":\"AV:N/AC:M/Au:N/C:N/I:P/A:N\"}]}}";
        EXPECT(0, wb_safe_sfr_parse(&r, (const uint8_t *)j, strlen(j)));
        assert_string_equal(r.issues[0].cvss_vector, "AV:N/AC:M/Au:N/C:N/I:P/A:N");
        wb_safe_report_cleanup(&r);
        /* no cvss_version: only a prefixed vector says which */
        j = "{\"review_framework_version\":\"1.1\",\"device\":{\"vendor\":\"V\","
            "\"product\":\"P\"},\"audit\":{\"srp\":\"S\",\"completion_date\":\"2020-01-01\","
            "\"issues\":[{\"title\":\"T\",\"cvss_score\":4.3,\"cvss_vector\":\"AV:N/AC:L\"}]}}";
        refused(wb_safe_sfr_parse(&r, (const uint8_t *)j, strlen(j)), WB_E_INVALID,
                "names no cvss_version");
        j = "{\"review_framework_version\":\"1.1\",\"device\":{\"vendor\":\"V\","
            "\"product\":\"P\"},\"audit\":{\"srp\":\"S\",\"completion_date\":\"2020-01-01\","
            "\"issues\":[{\"title\":\"T\",\"cvss_score\":4.3,\"cvss_vector\":"
            "\"CVSS:3.1/AV:N/AC:L\"}]}}";
        EXPECT(0, wb_safe_sfr_parse(&r, (const uint8_t *)j, strlen(j)));
        assert_string_equal(r.issues[0].cvss_vector, "CVSS:3.1/AV:N/AC:L");
        wb_safe_report_cleanup(&r);
        j = "{\"review_framework_version\":\"1.1\",\"device\":{\"vendor\":\"V\","
            "\"product\":\"P\"},\"audit\":{\"srp\":\"S\",\"completion_date\":\"2020-01-01\","
            "\"cvss_version\":\"3.2\",\"issues\":[]}}";
        refused(wb_safe_sfr_parse(&r, (const uint8_t *)j, strlen(j)), WB_E_INVALID,
                "audit.cvss_version");
    }
}

static void test_cve(void **state)
{
    static const struct {
        const char *extra, *cve;
        unsigned quirk;
    } ok[] = {
        {",\"cve\":\"\"", "", WB_SAFE_Q_CVE_EMPTY},
        {",\"cve\":null", "", WB_SAFE_Q_CVE_NULL},
        {"", "", 0},
        {",\"cve\":\"CVE-2024-12345\"", "CVE-2024-12345", 0},
        {",\"cve\":\"CVE-2014-1000\"", "CVE-2014-1000", 0},
        {",\"cwe\":null,\"cve\":\"\"", "", WB_SAFE_Q_CVE_EMPTY},
    };
    static const char *const bad[] = {
        ",\"cve\":\"cve-2024-1234\"", ",\"cve\":\"CVE-2024-123\"", ",\"cve\":\"CVE-24-12345\"",
        ",\"cve\":\"CVE-2024-1234, CVE-2024-5678\"", ",\"cve\":5", ",\"cve\":[]",
        ",\"cve\":\"CVE-2024-12345-\"",
    };
    wb_safe_report r;

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char is[256];
        snprintf(is, sizeof(is), "{\"title\":\"T\",\"cvss_score\":1%s}", ok[i].extra);
        EXPECT(0, sfr(&r, "", ",\"scope_number\":1", is));
        assert_string_equal(r.issues[0].cve, ok[i].cve);
        assert_int_equal(r.quirks, ok[i].quirk);
        wb_safe_report_cleanup(&r);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char is[256];
        snprintf(is, sizeof(is), "{\"title\":\"T\",\"cvss_score\":1%s}", bad[i]);
        fprintf(stderr, "cve %s\n", bad[i]);
        refused(sfr(&r, "", "", is), WB_E_INVALID, "audit.issues[0].cve");
    }
}

/* what is not an SFR field, or not of its type, or missing, is refused */
static void test_strict_fields(void **state)
{
    static const struct {
        const char *json, *msg;
    } bad[] = {
        {"{\"review_framework_version\":\"1.1\",\"device\":{\"vendor\":\"V\",\"product\":\"P\"},"
         "\"audit\":{\"srp\":\"S\",\"completion_date\":\"2020-01-01\",\"issues\":[]},\"x\":1}",
         "x: unknown field"},
        {"{\"review_framework_version\":\"1.1\",\"device\":{\"vendor\":\"V\",\"product\":\"P\","
         "\"serial\":\"1\"},\"audit\":{\"srp\":\"S\",\"completion_date\":\"2020-01-01\","
         "\"issues\":[]}}",
         "device.serial: unknown field"},
        {"{\"review_framework_version\":\"1.1\",\"device\":{\"vendor\":\"V\",\"product\":\"P\"},"
         "\"audit\":{\"srp\":\"S\",\"completion_date\":\"2020-01-01\",\"issues\":[],"
         "\"solid\":1}}",
         "audit.solid: unknown field"},
        {"{\"review_framework_version\":\"1.1\",\"device\":{\"vendor\":\"V\",\"product\":\"P\"},"
         "\"audit\":{\"srp\":\"S\",\"completion_date\":\"2020-01-01\",\"cvss_version\":\"3.1\","
         "\"issues\":[{\"title\":\"T\",\"cvss_score\":1,\"severity\":\"low\"}]}}",
         "audit.issues[0].severity: unknown field"},
        {"{\"review_framework_version\":\"1.1\",\"device\":{\"vendor\":\"V\",\"vendor\":\"W\","
         "\"product\":\"P\"},\"audit\":{\"srp\":\"S\",\"completion_date\":\"2020-01-01\","
         "\"issues\":[]}}",
         "duplicate"},
        {"{\"review_framework_version\":\"1.1\",\"device\":{\"product\":\"P\"},"
         "\"audit\":{\"srp\":\"S\",\"completion_date\":\"2020-01-01\",\"issues\":[]}}",
         "device.vendor: missing"},
        {"{\"review_framework_version\":\"1.1\",\"device\":{\"vendor\":\"\",\"product\":\"P\"},"
         "\"audit\":{\"srp\":\"S\",\"completion_date\":\"2020-01-01\",\"issues\":[]}}",
         "device.vendor: empty"},
        {"{\"review_framework_version\":\"1.1\",\"device\":{\"vendor\":7,\"product\":\"P\"},"
         "\"audit\":{\"srp\":\"S\",\"completion_date\":\"2020-01-01\",\"issues\":[]}}",
         "device.vendor: is an integer, want a string"},
        {"{\"review_framework_version\":\"1.1\",\"device\":{\"vendor\":\"V\",\"product\":\"P\"},"
         "\"audit\":{\"completion_date\":\"2020-01-01\",\"issues\":[]}}",
         "audit.srp: missing"},
        {"{\"review_framework_version\":\"1.1\",\"device\":{\"vendor\":\"V\",\"product\":\"P\"},"
         "\"audit\":{\"srp\":\"S\",\"issues\":[]}}",
         "audit.completion_date: missing"},
        {"{\"review_framework_version\":\"1.1\",\"device\":{\"vendor\":\"V\",\"product\":\"P\"},"
         "\"audit\":{\"srp\":\"S\",\"completion_date\":\"2020-01-01\"}}",
         "audit.issues: is missing"},
        {"{\"review_framework_version\":1.1,\"device\":{\"vendor\":\"V\",\"product\":\"P\"},"
         "\"audit\":{\"srp\":\"S\",\"completion_date\":\"2020-01-01\",\"issues\":[]}}",
         "review_framework_version: is a number"},
        {"{\"review_framework_version\":\"v1\",\"device\":{\"vendor\":\"V\",\"product\":\"P\"},"
         "\"audit\":{\"srp\":\"S\",\"completion_date\":\"2020-01-01\",\"issues\":[]}}",
         "not a version"},
        {"{\"review_framework_version\":\"1.1\",\"audit\":{\"srp\":\"S\",\"completion_date\":"
         "\"2020-01-01\",\"issues\":[]}}",
         "device: is missing"},
        {"[1,2]", "want an object"},
        {"{\"review_framework_version\":\"1.1\"", "report JSON"},
        {"", "report JSON"},
        {"{\"review_framework_version\":\"1.1\",\"device\":{\"vendor\":\"V\\u0000\",\"product\":"
         "\"P\"},\"audit\":{\"srp\":\"S\",\"completion_date\":\"2020-01-01\",\"issues\":[]}}",
         "report JSON"},
        {"{\"review_framework_version\":\"1.1\",\"device\":{\"vendor\":\"V\",\"product\":\"P\"},"
         "\"audit\":{\"srp\":\"S\",\"completion_date\":\"2020-01-01\",\"issues\":[{\"cvss_score\":"
         "1}]}}",
         "audit.issues[0].title: missing"},
    };
    wb_safe_report r;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fprintf(stderr, "strict %zu\n", i);
        refused(wb_safe_sfr_parse(&r, (const uint8_t *)bad[i].json, strlen(bad[i].json)),
                WB_E_INVALID, bad[i].msg);
        assert_null(r.issues);
        assert_null(r.repo_tag);
    }
    /* limits */
    {
        char *big = malloc(WB_SAFE_REPORT_MAX + 2);
        assert_non_null(big);
        memset(big, ' ', WB_SAFE_REPORT_MAX + 1);
        refused(wb_safe_sfr_parse(&r, (const uint8_t *)big, WB_SAFE_REPORT_MAX + 1),
                WB_E_LIMIT, "limit");
        free(big);
    }
    {
        char name[300], dev[400];
        memset(name, 'n', 200);
        name[200] = '\0';
        snprintf(dev, sizeof(dev), ",\"fw_version\":\"%s\"", name);
        refused(sfr(&r, dev, "", ""), WB_E_LIMIT, "device.fw_version");
    }
}

/* ---- signing inputs here, with keys made for the test ---- */

/* an EC key on curve (OpenSSL name) and its SPKI PEM */
static EVP_PKEY *test_key(const char *curve, char **pem)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
    uint8_t *der = NULL;
    int n;
    char *b64, *out;
    size_t blen;

    assert_non_null(k);
    n = i2d_PUBKEY(k, &der);
    assert_true(n > 0);
    blen = wb_base64_encoded_len((size_t)n);
    b64 = malloc(blen + 1);
    out = malloc(blen + 128);
    assert_non_null(b64);
    assert_non_null(out);
    wb_base64_encode(b64, der, (size_t)n);
    /* one long line is fine for OpenSSL's PEM reader only up to 64 per line */
    {
        size_t o = (size_t)sprintf(out, "-----BEGIN PUBLIC KEY-----\n");
        for (size_t i = 0; i < blen; i += 64) {
            size_t m = blen - i < 64 ? blen - i : 64;
            memcpy(out + o, b64 + i, m);
            o += m;
            out[o++] = '\n';
        }
        sprintf(out + o, "-----END PUBLIC KEY-----\n");
    }
    OPENSSL_free(der);
    free(b64);
    *pem = out;
    return k;
}

/* raw r‖s ECDSA signature of msg with k (coordinate size n, digest md) */
static size_t test_sign(uint8_t *raw, EVP_PKEY *k, size_t n, const char *md, const void *msg,
                        size_t len)
{
    uint8_t der[200];
    size_t dlen = sizeof(der);
    EVP_MD_CTX *c = EVP_MD_CTX_new();

    assert_non_null(c);
    assert_int_equal(EVP_DigestSignInit_ex(c, NULL, md, NULL, NULL, k, NULL), 1);
    assert_int_equal(EVP_DigestSign(c, der, &dlen, msg, len), 1);
    EVP_MD_CTX_free(c);
    assert_int_equal(wb_ecdsa_der_to_raw(raw, n, der, dlen), 0);
    return 2 * n;
}

static void b64url(wb_buf *b, const void *p, size_t n)
{
    size_t l = wb_base64_encoded_len(n);
    char *s = malloc(l + 1);
    assert_non_null(s);
    wb_base64_encode(s, p, n);
    for (size_t i = 0; i < l && s[i] != '='; i++)
        wb_buf_add_u8(b, (uint8_t)(s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i]));
    free(s);
}

/* a JWS compact of header and payload signed with k; sig_adjust changes the
 * signature length (+1 appends a byte, -1 drops one) */
static char *make_jws(const char *header, const char *payload, EVP_PKEY *k, size_t n,
                      const char *md, int sig_adjust)
{
    wb_buf b;
    uint8_t raw[140], *out;
    size_t len, slen;

    wb_buf_init(&b, 1 << 20);
    b64url(&b, header, strlen(header));
    wb_buf_add_u8(&b, '.');
    b64url(&b, payload, strlen(payload));
    slen = test_sign(raw, k, n, md, b.data, b.len);
    wb_buf_add_u8(&b, '.');
    if (sig_adjust > 0)
        raw[slen++] = 0x00;
    else if (sig_adjust < 0)
        slen--;
    b64url(&b, raw, slen);
    assert_int_equal(wb_buf_finish(&b, &out, &len), 0);
    return (char *)out;
}

static const char sk_payload[] =
    "{\"review_framework_version\":\"1.1\",\"device\":{\"vendor\":\"V\",\"product\":\"P\","
    "\"fw_version\":\"1\",\"fw_hash_sha2_384\":\"" H96 "\"},\"audit\":{\"srp\":\"Test SRP\","
    "\"completion_date\":\"2025-8-13\",\"scope_number\":1,\"cvss_version\":\"3.1\","
    "\"issues\":[{\"title\":\"T\",\"cvss_score\":\"9.8\",\"cvss_vector\":\"AV:N/AC:L/PR:N/UI:N/"
    "S:U/C:H/I:H/A:H\",\"cve\":\"CVE-2024-12345\"}]}}";

static int verify_str(wb_safe_report *r, const char *jws, const char *pem)
{
    const char *k[1] = {pem};
    return wb_safe_report_verify(r, (const uint8_t *)jws, strlen(jws), k, 1);
}

static void test_jws_edge_cases(void **state)
{
    char *pem521, *pem384, *pem256, *jws, *bad;
    EVP_PKEY *k521 = test_key("P-521", &pem521), *k384 = test_key("P-384", &pem384),
             *k256 = test_key("P-256", &pem256);
    const char *h512 = "{\"alg\":\"ES512\",\"kid\":\"Test SRP\",\"typ\":\"JWT\"}";
    wb_safe_report r;
    wb_prov_payload p;
    const char *k[1];
    size_t n;

    (void)state;
    /* the good ones: ES512, ES384, ES256 */
    jws = make_jws(h512, sk_payload, k521, 66, "SHA2-512", 0);
    EXPECT(0, verify_str(&r, jws, pem521));
    assert_string_equal(r.alg, "ES512");
    assert_string_equal(r.kid, "Test SRP");
    assert_string_equal(r.issues[0].cve, "CVE-2024-12345");
    assert_string_equal(r.issues[0].cvss_vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
    wb_safe_report_cleanup(&r);
    k[0] = pem521;
    EXPECT(0, wb_safe_import(&p, NULL, (const uint8_t *)jws, strlen(jws), k, 1));
    assert_string_equal(p.u.review.issues[0].cve, "CVE-2024-12345");
    assert_true(p.u.review.issues[0].cvss == 9.8);
    EXPECT(0, wb_safe_verify_original(&p.u.review, k, 1));
    wb_prov_payload_cleanup(&p);
    /* a P-384 key cannot verify ES512 */
    refused(verify_str(&r, jws, pem384), WB_E_VERIFY, "none of the 1 reviewer keys is a P-521");
    n = strlen(jws);

    /* padding present */
    bad = malloc(n + 8);
    assert_non_null(bad);
    snprintf(bad, n + 8, "%s=", jws);
    refused(verify_str(&r, bad, pem521), WB_E_INVALID, "padding");
    {
        /* '=' after the header part */
        const char *dot = strchr(jws, '.');
        size_t h = (size_t)(dot - jws);
        snprintf(bad, n + 8, "%.*s=%s", (int)h, jws, dot);
        refused(verify_str(&r, bad, pem521), WB_E_INVALID, "padding");
    }
    /* bad base64url: standard alphabet, space, newline, other bytes */
    {
        static const char subs[] = {'+', '/', ' ', '\n', '*', '\0' + 1, '~'};
        for (size_t i = 0; i < sizeof(subs); i++) {
            memcpy(bad, jws, n + 1);
            bad[10] = subs[i];
            refused(verify_str(&r, bad, pem521), WB_E_INVALID, "JWS header");
        }
        snprintf(bad, n + 8, "%s\n", jws);
        refused(verify_str(&r, bad, pem521), WB_E_INVALID, "not even a final newline");
        snprintf(bad, n + 8, "%s\r\n", jws);
        refused(verify_str(&r, bad, pem521), WB_E_INVALID, "not base64url");
    }
    /* a non-canonical last character: the 44-byte header takes 59 characters,
     * the last of which holds 2 pad bits; setting one is refused */
    {
        const char *dot = strchr(jws, '.');
        size_t h = (size_t)(dot - jws);
        const char *at = strchr(b64url_alphabet, jws[h - 1]);
        assert_int_equal(h, 59);
        memcpy(bad, jws, n + 1);
        bad[h - 1] = b64url_alphabet[(size_t)(at - b64url_alphabet) ^ 1];
        refused(verify_str(&r, bad, pem521), WB_E_INVALID, "non-zero padding bits");
    }
    /* parts */
    refused(verify_str(&r, "abc.def", pem521), WB_E_INVALID, "2 parts");
    refused(verify_str(&r, "a.b.c.d", pem521), WB_E_INVALID, "4 parts");
    refused(verify_str(&r, "a.b.c.d.e", pem521), WB_E_INVALID, "JWE");
    refused(verify_str(&r, "..", pem521), WB_E_INVALID, "neither a JWS");
    refused(verify_str(&r, "e..", pem521), WB_E_INVALID, "JWS header");
    free(jws);

    /* alg none, unknown algs, a missing alg */
    {
        static const struct {
            const char *hdr, *msg;
        } hdrs[] = {
            {"{\"alg\":\"none\"}", "alg \"none\""},
            {"{\"alg\":\"HS256\"}", "not supported"},
            {"{\"alg\":\"RS256\"}", "not supported"},
            {"{\"alg\":\"EdDSA\"}", "not supported"},
            {"{\"alg\":\"es512\"}", "not supported"},
            {"{\"alg\":\"ES512 \"}", "not supported"},
            {"{\"typ\":\"JWT\"}", "no \"alg\""},
            {"{\"alg\":512}", "not a string"},
            {"{\"alg\":\"ES512\",\"alg\":\"none\"}", "duplicate"},
            {"{\"alg\":\"ES512\",\"crit\":[\"exp\"],\"exp\":1}", "crit"},
            {"{\"alg\":\"ES512\",\"b64\":false}", "b64"},
            {"{\"alg\":\"ES512\",\"kid\":7}", "kid"},
            {"[\"ES512\"]", "not a JSON object"},
            {"not json", "not JSON"},
        };
        for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
            jws = make_jws(hdrs[i].hdr, sk_payload, k521, 66, "SHA2-512", 0);
            fprintf(stderr, "header %s\n", hdrs[i].hdr);
            refused(verify_str(&r, jws, pem521), WB_E_INVALID, hdrs[i].msg);
            free(jws);
        }
        /* an unsecured JWS as RFC 7515 §A.5 writes it: empty signature */
        {
            wb_buf b;
            uint8_t *o;
            size_t ol;
            wb_buf_init(&b, 1 << 16);
            b64url(&b, "{\"alg\":\"none\"}", 14);
            wb_buf_add_u8(&b, '.');
            b64url(&b, sk_payload, strlen(sk_payload));
            wb_buf_add_u8(&b, '.');
            assert_int_equal(wb_buf_finish(&b, &o, &ol), 0);
            refused(verify_str(&r, (char *)o, pem521), WB_E_INVALID, "alg \"none\"");
            free(o);
        }
    }
    /* wrong signature lengths */
    jws = make_jws(h512, sk_payload, k521, 66, "SHA2-512", 1);
    refused(verify_str(&r, jws, pem521), WB_E_INVALID, "133 bytes, want 132");
    free(jws);
    jws = make_jws(h512, sk_payload, k521, 66, "SHA2-512", -1);
    refused(verify_str(&r, jws, pem521), WB_E_INVALID, "131 bytes, want 132");
    free(jws);
    /* an ES384 signature (96 bytes) under an ES512 header */
    jws = make_jws(h512, sk_payload, k384, 48, "SHA2-384", 0);
    refused(verify_str(&r, jws, pem384), WB_E_INVALID, "96 bytes, want 132");
    free(jws);
    /* a signature of all zeros: refused by the verifier */
    {
        wb_buf b;
        uint8_t zero[132] = {0}, *o;
        size_t ol;
        wb_buf_init(&b, 1 << 16);
        b64url(&b, h512, strlen(h512));
        wb_buf_add_u8(&b, '.');
        b64url(&b, sk_payload, strlen(sk_payload));
        wb_buf_add_u8(&b, '.');
        b64url(&b, zero, sizeof(zero));
        assert_int_equal(wb_buf_finish(&b, &o, &ol), 0);
        refused(verify_str(&r, (char *)o, pem521), WB_E_VERIFY, "does not verify");
        free(o);
    }
    /* ES384 and ES256 */
    jws = make_jws("{\"alg\":\"ES384\"}", sk_payload, k384, 48, "SHA2-384", 0);
    EXPECT(0, verify_str(&r, jws, pem384));
    assert_string_equal(r.alg, "ES384");
    assert_string_equal(r.kid, "");
    wb_safe_report_cleanup(&r);
    refused(verify_str(&r, jws, pem521), WB_E_VERIFY, "P-384");
    free(jws);
    jws = make_jws("{\"alg\":\"ES256\"}", sk_payload, k256, 32, "SHA2-256", 0);
    EXPECT(0, verify_str(&r, jws, pem256));
    assert_string_equal(r.alg, "ES256");
    wb_safe_report_cleanup(&r);
    free(jws);
    /* signed fine, but not a report: refused after the signature checks out */
    jws = make_jws(h512, "{\"hello\":1}", k521, 66, "SHA2-512", 0);
    refused(verify_str(&r, jws, pem521), WB_E_INVALID, "hello: unknown field");
    free(jws);
    /* a report without a SHA-384 imports with no firmware_digest, and says why */
    {
        wb_safe_report rep;
        char pl[1024];
        snprintf(pl, sizeof(pl),
                 "{\"review_framework_version\":\"1.1\",\"device\":{\"vendor\":\"V\","
                 "\"product\":\"P\",\"fw_hash_sha2_384\":\"\",\"fw_hash_sha2_512\":\"%s\"},"
                 "\"audit\":{\"srp\":\"S\",\"completion_date\":\"2020-01-01\",\"issues\":[]}}",
                 H128);
        jws = make_jws(h512, pl, k521, 66, "SHA2-512", 0);
        k[0] = pem521;
        EXPECT(0, wb_safe_import(&p, &rep, (const uint8_t *)jws, strlen(jws), k, 1));
        assert_string_equal(p.u.review.firmware_digest, "");
        assert_non_null(strstr(wb_safe_digest_note(&rep), "only a SHA-512"));
        wb_prov_payload_cleanup(&p);
        wb_safe_report_cleanup(&rep);
        free(jws);
    }
    /* plain JSON and other things */
    refused(verify_str(&r, sk_payload, pem521), WB_E_INVALID, "plain JSON");
    refused(verify_str(&r, "", pem521), WB_E_INVALID, "empty");
    refused(verify_str(&r, "\x01\x02", pem521), WB_E_INVALID, "first byte 0x01");

    free(bad);
    free(pem521);
    free(pem384);
    free(pem256);
    EVP_PKEY_free(k521);
    EVP_PKEY_free(k384);
    EVP_PKEY_free(k256);
}

/* ---- COSE_Sign and CoRIM, built here ---- */

/* the CoRIM payload of the real COSE_Sign */
static uint8_t *real_corim(size_t *len)
{
    size_t n;
    uint8_t *data = vec(reports[5].signed_file, &n), *out;
    wb_safe_cose c;
    EXPECT(0, wb_safe_cose_decode(&c, data, n));
    out = malloc(c.payload_len);
    assert_non_null(out);
    memcpy(out, c.payload, c.payload_len);
    *len = c.payload_len;
    wb_safe_cose_cleanup(&c);
    free(data);
    return out;
}

typedef struct {
    const uint8_t *body_prot; /* encoded map or NULL */
    size_t body_prot_len;
    const uint8_t *sign_prot;
    size_t sign_prot_len;
    const uint8_t *unprot; /* encoded signer unprotected map, NULL: {} */
    size_t unprot_len;
    int detached;
    int garbage_first; /* a first signer whose signature is wrong */
    uint64_t tag;
} cose_opts;

static uint8_t *make_cose(size_t *out_len, const cose_opts *o, const uint8_t *payload,
                          size_t plen, EVP_PKEY *k, size_t n, const char *md)
{
    wb_buf tbs, b;
    uint8_t sig[140], *out;
    size_t slen;
    static const char ctx[] = "Signature";

    wb_buf_init(&tbs, 1 << 20);
    wb_cbor_put_head(&tbs, WB_CBOR_ARRAY, 5);
    wb_cbor_put_text(&tbs, ctx, sizeof(ctx) - 1);
    wb_cbor_put_bytes(&tbs, o->body_prot, o->body_prot_len);
    wb_cbor_put_bytes(&tbs, o->sign_prot, o->sign_prot_len);
    wb_cbor_put_bytes(&tbs, NULL, 0);
    wb_cbor_put_bytes(&tbs, payload, plen);
    assert_int_equal(wb_buf_error(&tbs), 0);
    slen = test_sign(sig, k, n, md, tbs.data, tbs.len);
    wb_buf_cleanup(&tbs);

    wb_buf_init(&b, 1 << 20);
    wb_cbor_put_head(&b, WB_CBOR_TAG, o->tag ? o->tag : 98);
    wb_cbor_put_head(&b, WB_CBOR_ARRAY, 4);
    wb_cbor_put_bytes(&b, o->body_prot, o->body_prot_len);
    wb_cbor_put_head(&b, WB_CBOR_MAP, 0);
    if (o->detached)
        wb_cbor_put_nil(&b);
    else
        wb_cbor_put_bytes(&b, payload, plen);
    wb_cbor_put_head(&b, WB_CBOR_ARRAY, o->garbage_first ? 2 : 1);
    if (o->garbage_first) {
        uint8_t junk[132];
        memset(junk, 0x42, sizeof(junk));
        wb_cbor_put_head(&b, WB_CBOR_ARRAY, 3);
        wb_cbor_put_bytes(&b, o->sign_prot, o->sign_prot_len);
        wb_cbor_put_head(&b, WB_CBOR_MAP, 0);
        wb_cbor_put_bytes(&b, junk, sizeof(junk));
    }
    wb_cbor_put_head(&b, WB_CBOR_ARRAY, 3);
    wb_cbor_put_bytes(&b, o->sign_prot, o->sign_prot_len);
    if (o->unprot)
        wb_buf_add(&b, o->unprot, o->unprot_len);
    else
        wb_cbor_put_head(&b, WB_CBOR_MAP, 0);
    wb_cbor_put_bytes(&b, sig, slen);
    assert_int_equal(wb_buf_finish(&b, &out, out_len), 0);
    return out;
}

static int verify_bytes(wb_safe_report *r, const uint8_t *d, size_t n, const char *pem)
{
    const char *k[1] = {pem};
    return wb_safe_report_verify(r, d, n, k, 1);
}

static void test_cose_edge_cases(void **state)
{
    char *pem521, *pem384;
    EVP_PKEY *k521 = test_key("P-521", &pem521), *k384 = test_key("P-384", &pem384);
    size_t clen, len;
    uint8_t *corim = real_corim(&clen), *d;
    static const uint8_t alg512[] = {0xa1, 0x01, 0x38, 0x23};  /* {1: -36} */
    static const uint8_t alg384[] = {0xa1, 0x01, 0x38, 0x22};  /* {1: -35} */
    static const uint8_t alg_eddsa[] = {0xa1, 0x01, 0x27};     /* {1: -8} */
    static const uint8_t crit[] = {0xa2, 0x01, 0x38, 0x23, 0x02, 0x81, 0x18, 0x63}; /* crit [99] */
    static const uint8_t unprot_alg[] = {0xa1, 0x01, 0x38, 0x23};
    static const uint8_t unprot_kid_text[] = {0xa1, 0x04, 0x64, 't', 'e', 's', 't'};
    static const uint8_t unprot_kid_int[] = {0xa1, 0x04, 0x01};
    wb_safe_report r;
    cose_opts o;

    (void)state;
    /* no alg anywhere (like the real one): inferred from the key */
    memset(&o, 0, sizeof(o));
    d = make_cose(&len, &o, corim, clen, k521, 66, "SHA2-512");
    EXPECT(0, verify_bytes(&r, d, len, pem521));
    assert_string_equal(r.alg, "ES512");
    assert_true(r.quirks & WB_SAFE_Q_NO_ALG);
    assert_string_equal(r.fw_sha384, reports[5].sha384);
    wb_safe_report_cleanup(&r);
    refused(verify_bytes(&r, d, len, pem384), WB_E_VERIFY, NULL);
    free(d);

    /* alg in the signer's protected header */
    o.sign_prot = alg512;
    o.sign_prot_len = sizeof(alg512);
    d = make_cose(&len, &o, corim, clen, k521, 66, "SHA2-512");
    EXPECT(0, verify_bytes(&r, d, len, pem521));
    assert_false(r.quirks & WB_SAFE_Q_NO_ALG);
    wb_safe_report_cleanup(&r);
    free(d);
    /* in the unprotected header: too */
    o.unprot = unprot_alg;
    o.unprot_len = sizeof(unprot_alg);
    d = make_cose(&len, &o, corim, clen, k521, 66, "SHA2-512");
    refused(verify_bytes(&r, d, len, pem521), WB_E_INVALID, "in both");
    free(d);
    o.sign_prot = NULL;
    o.sign_prot_len = 0;
    d = make_cose(&len, &o, corim, clen, k521, 66, "SHA2-512");
    EXPECT(0, verify_bytes(&r, d, len, pem521));
    wb_safe_report_cleanup(&r);
    free(d);
    o.unprot = NULL;
    /* alg ES384 with a P-521 key; EdDSA */
    o.sign_prot = alg384;
    o.sign_prot_len = sizeof(alg384);
    d = make_cose(&len, &o, corim, clen, k521, 66, "SHA2-512");
    refused(verify_bytes(&r, d, len, pem521), WB_E_VERIFY, "none of the 1 reviewer keys");
    free(d);
    d = make_cose(&len, &o, corim, clen, k384, 48, "SHA2-384");
    EXPECT(0, verify_bytes(&r, d, len, pem384));
    assert_string_equal(r.alg, "ES384");
    wb_safe_report_cleanup(&r);
    free(d);
    o.sign_prot = alg_eddsa;
    o.sign_prot_len = sizeof(alg_eddsa);
    d = make_cose(&len, &o, corim, clen, k521, 66, "SHA2-512");
    refused(verify_bytes(&r, d, len, pem521), WB_E_INVALID, "alg (1) is not");
    free(d);
    /* crit */
    o.sign_prot = crit;
    o.sign_prot_len = sizeof(crit);
    d = make_cose(&len, &o, corim, clen, k521, 66, "SHA2-512");
    refused(verify_bytes(&r, d, len, pem521), WB_E_INVALID, "crit");
    free(d);
    o.sign_prot = NULL;
    o.sign_prot_len = 0;
    o.body_prot = crit;
    o.body_prot_len = sizeof(crit);
    d = make_cose(&len, &o, corim, clen, k521, 66, "SHA2-512");
    refused(verify_bytes(&r, d, len, pem521), WB_E_INVALID, "body protected header: crit");
    free(d);
    o.body_prot = NULL;
    o.body_prot_len = 0;
    /* a text kid is shown; an integer kid is refused */
    o.unprot = unprot_kid_text;
    o.unprot_len = sizeof(unprot_kid_text);
    d = make_cose(&len, &o, corim, clen, k521, 66, "SHA2-512");
    EXPECT(0, verify_bytes(&r, d, len, pem521));
    assert_string_equal(r.kid, "test");
    wb_safe_report_cleanup(&r);
    free(d);
    o.unprot = unprot_kid_int;
    o.unprot_len = sizeof(unprot_kid_int);
    d = make_cose(&len, &o, corim, clen, k521, 66, "SHA2-512");
    refused(verify_bytes(&r, d, len, pem521), WB_E_INVALID, "kid (4)");
    free(d);
    o.unprot = NULL;
    /* detached payload */
    o.detached = 1;
    d = make_cose(&len, &o, corim, clen, k521, 66, "SHA2-512");
    refused(verify_bytes(&r, d, len, pem521), WB_E_INVALID, "detached");
    free(d);
    o.detached = 0;
    /* a first signature that is wrong, a second that verifies */
    o.garbage_first = 1;
    d = make_cose(&len, &o, corim, clen, k521, 66, "SHA2-512");
    EXPECT(0, verify_bytes(&r, d, len, pem521));
    wb_safe_report_cleanup(&r);
    free(d);
    o.garbage_first = 0;
    /* COSE_Sign1's tag, another tag */
    o.tag = 18;
    d = make_cose(&len, &o, corim, clen, k521, 66, "SHA2-512");
    refused(verify_bytes(&r, d, len, pem521), WB_E_INVALID, "COSE_Sign1");
    free(d);
    o.tag = 99;
    d = make_cose(&len, &o, corim, clen, k521, 66, "SHA2-512");
    refused(verify_bytes(&r, d, len, pem521), WB_E_INVALID, "tag 99");
    free(d);
    o.tag = 0;
    /* trailing bytes after the real one */
    {
        size_t n;
        uint8_t *real = vec(reports[5].signed_file, &n), *longer = malloc(n + 1);
        assert_non_null(longer);
        memcpy(longer, real, n);
        longer[n] = 0x00;
        refused(verify_bytes(&r, longer, n + 1, keys[K_TETREL]), WB_E_INVALID, "trailing");
        free(longer);
        free(real);
    }

    free(corim);
    free(pem521);
    free(pem384);
    EVP_PKEY_free(k521);
    EVP_PKEY_free(k384);
}

/* a CoRIM built here, with the options the one real file does not use */
typedef struct {
    int profile_tlv;     /* wrap the OID as a DER TLV like the real file */
    int profile_42623;   /* the OID the specification's comment names */
    int profile_other;
    int ni_hash_ids;     /* 7 / 8 instead of -43 / -44 */
    int issues;          /* add two issues */
    int jil;             /* the second issue is a JIL rating */
    int cond_sha_other;  /* the condition names a different SHA-384 */
    int two_fw;          /* two fw-identifiers */
    int no_creator;      /* the entity is not the manifest creator */
    int unknown_sfr_key; /* sfr key 9 */
    int other_model;     /* the condition's model differs */
    int src_manifest;    /* a fw-identifier src-manifest (17 levels deep) */
} corim_opts;

static void put_text(wb_buf *b, const char *s)
{
    wb_cbor_put_text(b, s, strlen(s));
}

static void put_env(wb_buf *b, const char *model)
{
    wb_cbor_put_head(b, WB_CBOR_MAP, 1);
    wb_cbor_put_int(b, 0);
    wb_cbor_put_head(b, WB_CBOR_MAP, 2);
    wb_cbor_put_int(b, 1);
    put_text(b, "ACME Inc.");
    wb_cbor_put_int(b, 2);
    put_text(b, model);
}

static void put_digests(wb_buf *b, const corim_opts *o, uint8_t fill)
{
    uint8_t h384[48], h512[64];
    memset(h384, fill, sizeof(h384));
    memset(h512, 0x55, sizeof(h512));
    wb_cbor_put_head(b, WB_CBOR_ARRAY, 2);
    wb_cbor_put_head(b, WB_CBOR_ARRAY, 2);
    wb_cbor_put_int(b, o->ni_hash_ids ? 7 : -43);
    wb_cbor_put_bytes(b, h384, sizeof(h384));
    wb_cbor_put_head(b, WB_CBOR_ARRAY, 2);
    wb_cbor_put_int(b, o->ni_hash_ids ? 8 : -44);
    wb_cbor_put_bytes(b, h512, sizeof(h512));
}

static void put_issue(wb_buf *b, const char *title, const char *score, const char *vector,
                      const char *version, const char *cve)
{
    wb_cbor_put_head(b, WB_CBOR_MAP, cve ? 5 : 4);
    wb_cbor_put_int(b, 0);
    put_text(b, title);
    wb_cbor_put_int(b, 1);
    put_text(b, "a description");
    wb_cbor_put_int(b, 2);
    if (!score) { /* a JIL rating */
        wb_cbor_put_head(b, WB_CBOR_MAP, 1);
        wb_cbor_put_int(b, 0);
        put_text(b, "Moderate");
    } else {
        wb_cbor_put_head(b, WB_CBOR_MAP, version ? 3 : 2);
        wb_cbor_put_int(b, 0);
        put_text(b, score);
        wb_cbor_put_int(b, 1);
        put_text(b, vector);
        if (version) {
            wb_cbor_put_int(b, 2);
            put_text(b, version);
        }
    }
    wb_cbor_put_int(b, 3);
    put_text(b, "CWE-111");
    if (cve) {
        wb_cbor_put_int(b, 4);
        put_text(b, cve);
    }
}

static uint8_t *make_corim(size_t *len, const corim_opts *o)
{
    wb_buf comid, b;
    uint8_t *out;
    uint64_t nsfr = 5u + (o->issues ? 1u : 0u) + (o->unknown_sfr_key ? 1u : 0u);

    /* the CoMID */
    wb_buf_init(&comid, 1 << 16);
    wb_cbor_put_head(&comid, WB_CBOR_MAP, 2);
    wb_cbor_put_int(&comid, 1);
    wb_cbor_put_head(&comid, WB_CBOR_MAP, 1);
    wb_cbor_put_int(&comid, 0);
    put_text(&comid, "acme-review-comid-001");
    wb_cbor_put_int(&comid, 4);
    wb_cbor_put_head(&comid, WB_CBOR_MAP, 1);
    wb_cbor_put_int(&comid, 10);
    wb_cbor_put_head(&comid, WB_CBOR_ARRAY, 1);
    wb_cbor_put_head(&comid, WB_CBOR_ARRAY, 2);
    /* conditions */
    wb_cbor_put_head(&comid, WB_CBOR_ARRAY, 1);
    wb_cbor_put_head(&comid, WB_CBOR_ARRAY, 2);
    put_env(&comid, o->other_model ? "Coyote" : "RoadRunner Trap");
    wb_cbor_put_head(&comid, WB_CBOR_ARRAY, 1);
    wb_cbor_put_head(&comid, WB_CBOR_MAP, 1);
    wb_cbor_put_int(&comid, 1);
    wb_cbor_put_head(&comid, WB_CBOR_MAP, 1);
    wb_cbor_put_int(&comid, 2);
    put_digests(&comid, o, o->cond_sha_other ? 0x99 : 0xab);
    /* endorsements */
    wb_cbor_put_head(&comid, WB_CBOR_ARRAY, 1);
    wb_cbor_put_head(&comid, WB_CBOR_ARRAY, 2);
    put_env(&comid, "RoadRunner Trap");
    wb_cbor_put_head(&comid, WB_CBOR_ARRAY, 1);
    wb_cbor_put_head(&comid, WB_CBOR_MAP, 1);
    wb_cbor_put_int(&comid, 1);
    wb_cbor_put_head(&comid, WB_CBOR_MAP, 1);
    wb_cbor_put_int(&comid, -1);
    wb_cbor_put_head(&comid, WB_CBOR_MAP, nsfr);
    wb_cbor_put_int(&comid, 0);
    put_text(&comid, "1.1");
    wb_cbor_put_int(&comid, 1);
    put_text(&comid, "1.2");
    wb_cbor_put_int(&comid, 2);
    wb_cbor_put_head(&comid, WB_CBOR_TAG, 1);
    wb_cbor_put_int(&comid, 1687651200); /* 2023-06-25 */
    wb_cbor_put_int(&comid, 3);
    wb_cbor_put_int(&comid, 2);
    if (o->issues) {
        wb_cbor_put_int(&comid, 5);
        wb_cbor_put_head(&comid, WB_CBOR_ARRAY, 2);
        put_issue(&comid, "Memory corruption", "7.9", "AV:L/AC:L/PR:L/UI:N/S:C/C:L/I:H/A:L",
                  "3.1", NULL);
        if (o->jil)
            put_issue(&comid, "Glitch", NULL, NULL, NULL, NULL);
        else
            put_issue(&comid, "Debug commands", "8.7", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:L",
                      NULL, "CVE-2014-10000");
    }
    wb_cbor_put_int(&comid, 4);
    wb_cbor_put_head(&comid, WB_CBOR_ARRAY, o->two_fw ? 2 : 1);
    for (int i = 0; i < (o->two_fw ? 2 : 1); i++) {
        wb_cbor_put_head(&comid, WB_CBOR_MAP, o->src_manifest ? 4 : 3);
        wb_cbor_put_int(&comid, 0);
        wb_cbor_put_head(&comid, WB_CBOR_MAP, 2);
        wb_cbor_put_int(&comid, 0);
        put_text(&comid, "1.2.3");
        wb_cbor_put_int(&comid, 1);
        put_text(&comid, "semver");
        wb_cbor_put_int(&comid, 1);
        put_digests(&comid, o, 0xab);
        wb_cbor_put_int(&comid, 2);
        put_text(&comid, "v1.2.3");
        if (o->src_manifest) {
            wb_cbor_put_int(&comid, 3);
            wb_cbor_put_head(&comid, WB_CBOR_MAP, 2);
            wb_cbor_put_int(&comid, 0);
            put_digests(&comid, o, 0x01);
            wb_cbor_put_int(&comid, 1);
            wb_cbor_put_head(&comid, WB_CBOR_ARRAY, 1);
            wb_cbor_put_head(&comid, WB_CBOR_MAP, 2);
            wb_cbor_put_int(&comid, 0);
            put_text(&comid, "a.bin");
            wb_cbor_put_int(&comid, 1);
            put_digests(&comid, o, 0x01);
        }
    }
    if (o->unknown_sfr_key) {
        wb_cbor_put_int(&comid, 9);
        put_text(&comid, "?");
    }
    assert_int_equal(wb_buf_error(&comid), 0);

    /* the CoRIM */
    wb_buf_init(&b, 1 << 16);
    wb_cbor_put_head(&b, WB_CBOR_TAG, 501);
    wb_cbor_put_head(&b, WB_CBOR_MAP, 4);
    wb_cbor_put_int(&b, 0);
    put_text(&b, "acme-trap-audit");
    wb_cbor_put_int(&b, 1);
    wb_cbor_put_head(&b, WB_CBOR_ARRAY, 1);
    wb_cbor_put_head(&b, WB_CBOR_TAG, 506);
    wb_cbor_put_bytes(&b, comid.data, comid.len);
    wb_cbor_put_int(&b, 3);
    wb_cbor_put_head(&b, WB_CBOR_TAG, 111);
    {
        uint8_t oid[12] = {0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xf4, 0x17, 0x01, 0x01};
        if (o->profile_42623) {
            oid[8] = 0xcc;
            oid[9] = 0x7f;
        }
        if (o->profile_other)
            oid[11] = 0x02;
        if (o->profile_tlv)
            wb_cbor_put_bytes(&b, oid, sizeof(oid));
        else
            wb_cbor_put_bytes(&b, oid + 2, sizeof(oid) - 2);
    }
    wb_cbor_put_int(&b, 5);
    wb_cbor_put_head(&b, WB_CBOR_ARRAY, 1);
    wb_cbor_put_head(&b, WB_CBOR_MAP, 2);
    wb_cbor_put_int(&b, 0);
    put_text(&b, "My Pentest Corporation");
    wb_cbor_put_int(&b, 2);
    wb_cbor_put_head(&b, WB_CBOR_ARRAY, 1);
    wb_cbor_put_int(&b, o->no_creator ? 2 : 1);
    wb_buf_cleanup(&comid);
    assert_int_equal(wb_buf_finish(&b, &out, len), 0);
    return out;
}

static void test_corim(void **state)
{
    corim_opts o;
    wb_safe_report r;
    uint8_t *c, h384[48];
    char hex[97];
    size_t len;

    (void)state;
    memset(h384, 0xab, sizeof(h384));
    wb_hex_encode(hex, h384, sizeof(h384));

    /* the specification's form: OID content bytes, NI hash ids, issues */
    memset(&o, 0, sizeof(o));
    o.ni_hash_ids = 1;
    o.issues = 1;
    o.profile_42623 = 1;
    c = make_corim(&len, &o);
    EXPECT(0, wb_safe_corim_parse(&r, c, len));
    assert_int_equal(r.quirks, WB_SAFE_Q_VECTOR_BARE); /* as the upstream example writes them */
    assert_string_equal(r.vendor, "ACME Inc.");
    assert_string_equal(r.product, "RoadRunner Trap");
    assert_string_equal(r.srp, "My Pentest Corporation");
    assert_string_equal(r.framework_version, "1.1");
    assert_string_equal(r.report_version, "1.2");
    assert_string_equal(r.completion_date, "2023-06-25");
    assert_int_equal(r.scope_number, 2);
    assert_string_equal(r.fw_version, "1.2.3");
    assert_string_equal(r.repo_tag, "v1.2.3");
    assert_string_equal(r.fw_sha384, hex);
    assert_int_equal(strlen(r.fw_sha512), 128);
    assert_string_equal(r.cvss_version, "3.1");
    assert_int_equal(r.nissues, 2);
    assert_string_equal(r.issues[0].title, "Memory corruption");
    assert_true(r.issues[0].cvss_score == 7.9);
    assert_string_equal(r.issues[0].cvss_vector, "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:C/C:L/I:H/A:L");
    assert_string_equal(r.issues[0].cwe, "CWE-111");
    assert_string_equal(r.issues[0].description, "a description");
    assert_string_equal(r.issues[1].cve, "CVE-2014-10000");
    assert_true(r.issues[1].cvss_score == 8.7);
    wb_safe_report_cleanup(&r);
    free(c);

    /* the real file's forms: TLV-wrapped OID, COSE hash ids */
    memset(&o, 0, sizeof(o));
    o.profile_tlv = 1;
    c = make_corim(&len, &o);
    EXPECT(0, wb_safe_corim_parse(&r, c, len));
    assert_int_equal(r.quirks, WB_SAFE_Q_PROFILE_TLV | WB_SAFE_Q_COSE_HASH_IDS);
    assert_int_equal(r.nissues, 0);
    assert_non_null(r.issues);
    wb_safe_report_cleanup(&r);
    free(c);

    /* refused */
    {
        static const struct {
            corim_opts o;
            const char *msg;
        } bad[] = {
            {{.profile_other = 1}, "not the OCP SAFE SFR profile"},
            {{.issues = 1, .jil = 1}, "not a CVSS assessment"},
            {{.cond_sha_other = 1}, "a second, different SHA-384"},
            {{.two_fw = 1}, "2 entries"},
            {{.no_creator = 1}, "no manifest creator"},
            {{.unknown_sfr_key = 1}, "unknown key 9"},
            {{.other_model = 1}, "condition names device"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            c = make_corim(&len, &bad[i].o);
            fprintf(stderr, "corim %s\n", bad[i].msg);
            refused(wb_safe_corim_parse(&r, c, len), WB_E_INVALID, bad[i].msg);
            assert_null(r.issues);
            free(c);
        }
    }
    /*
     * A src-manifest's file digests sit 17 containers deep, one more than
     * the strict CBOR loader's WB_CBOR_DEPTH_MAX: refused, and said so.
     */
    memset(&o, 0, sizeof(o));
    o.src_manifest = 1;
    c = make_corim(&len, &o);
    refused(wb_safe_corim_parse(&r, c, len), WB_E_LIMIT, "nested deeper than 16 levels");
    free(c);

    /* not a CoRIM */
    refused(wb_safe_corim_parse(&r, (const uint8_t *)"\xa0", 1), WB_E_INVALID, "tag 501");
    refused(wb_safe_corim_parse(&r, (const uint8_t *)"\xd9\x01\xf5\xa0", 4), WB_E_INVALID,
            "CoRIM id");
}

/* ---- the command line ---- */

/* runs the waybill binary with args; returns its exit code, output in out */
static int run_cli(char *out, size_t cap, const char *args)
{
    const char *bin = getenv("WB_BIN");
    char cmd[20100];
    FILE *f;
    size_t n;
    int st;

    snprintf(cmd, sizeof(cmd), "%s %s 2>&1", bin, args);
    f = popen(cmd, "r");
    assert_non_null(f);
    n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli(void **state)
{
    char out[16384], args[20000], *dir, path[4200], kp[2][4096], rp[4096], rp2[4096];
    json_t *j;

    (void)state;
    if (!getenv("WB_BIN"))
        skip();
    if (run_cli(out, sizeof(out), "review import --help") != 0) {
        fprintf(stderr, "'waybill review import' is not registered yet: skipped\n");
        skip();
    }
    dir = wbt_tmpdir("safe");
    snprintf(kp[0], sizeof(kp[0]), "%s", wbt_vector_path(key_files[K_KEYSIGHT]));
    snprintf(kp[1], sizeof(kp[1]), "%s", wbt_vector_path(key_files[K_TETREL]));
    snprintf(rp, sizeof(rp), "%s", wbt_vector_path(reports[2].signed_file));
    snprintf(path, sizeof(path), "%s/review.json", dir);

    snprintf(args, sizeof(args),
             "review import '%s' --reviewer-key '%s' --reviewer-key='%s' --out '%s' --json", rp,
             kp[1], kp[0], path);
    assert_int_equal(run_cli(out, sizeof(out), args), 0);
    j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "format")), "jws");
    assert_string_equal(json_string_value(json_object_get(j, "reviewer")), "Keysight Riscure");
    assert_string_equal(json_string_value(json_object_get(j, "reviewer_key")), kp[0]);
    assert_string_equal(json_string_value(json_object_get(j, "firmware_digest")),
                        reports[2].sha384);
    assert_int_equal(json_array_size(json_object_get(j, "issues")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "quirks")), 4);
    json_decref(j);
    {
        /* the file is a review payload that re-verifies */
        size_t len;
        char *text = wbt_read_file(path, &len);
        wb_prov_payload p;
        EXPECT(0, wb_prov_parse(&p, WB_KIND_REVIEW, (const uint8_t *)text, len));
        EXPECT(0, wb_safe_verify_original(&p.u.review, key_list(K_KEYSIGHT), 1));
        wb_prov_payload_cleanup(&p);
        free(text);
    }
    /* not over an existing file */
    assert_int_equal(run_cli(out, sizeof(out), args), 4);
    /* the wrong key: 1 */
    snprintf(args, sizeof(args), "review import '%s' --reviewer-key '%s' --out '%s/x.json'", rp,
             kp[1], dir);
    assert_int_equal(run_cli(out, sizeof(out), args), 1);
    assert_non_null(strstr(out, "does not verify"));
    /* AMD: no SHA-384: imported, with a note */
    snprintf(rp2, sizeof(rp2), "%s", wbt_vector_path(reports[1].signed_file));
    snprintf(args, sizeof(args), "review import '%s' --reviewer-key '%s' --out '%s/y.json'",
             rp2, wbt_vector_path(key_files[K_NCC]), dir); /* one static path buffer */
    assert_int_equal(run_cli(out, sizeof(out), args), 0);
    assert_non_null(strstr(out, "32-byte value"));
    /* the COSE one, plain output */
    snprintf(args, sizeof(args), "review import '%s' --reviewer-key '%s' --out '%s/z.json'",
             wbt_vector_path(reports[5].signed_file), kp[1], dir);
    assert_int_equal(run_cli(out, sizeof(out), args), 0);
    assert_non_null(strstr(out, "cose-sign ES512"));
    /* usage */
    assert_int_equal(run_cli(out, sizeof(out), "review import"), 2);
    snprintf(args, sizeof(args), "review import '%s' --out '%s/w.json'", rp, dir);
    assert_int_equal(run_cli(out, sizeof(out), args), 2);
    snprintf(args, sizeof(args), "review import '%s' --reviewer-key", rp);
    assert_int_equal(run_cli(out, sizeof(out), args), 2);
    wbt_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_reports),
        cmocka_unit_test(test_real_report_details),
        cmocka_unit_test(test_payload_vs_published_json),
        cmocka_unit_test(test_import),
        cmocka_unit_test(test_verify_original_mismatch),
        cmocka_unit_test(test_wrong_keys),
        cmocka_unit_test(test_jws_changed_bytes),
        cmocka_unit_test(test_cose_changed_bytes),
        cmocka_unit_test(test_scope_number),
        cmocka_unit_test(test_completion_date),
        cmocka_unit_test(test_hashes),
        cmocka_unit_test(test_cvss_score),
        cmocka_unit_test(test_cvss_vector),
        cmocka_unit_test(test_cve),
        cmocka_unit_test(test_strict_fields),
        cmocka_unit_test(test_jws_edge_cases),
        cmocka_unit_test(test_cose_edge_cases),
        cmocka_unit_test(test_corim),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
