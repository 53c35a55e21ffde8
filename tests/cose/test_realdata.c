/*
 * test_realdata.c: COSE objects made by other implementations
 * (tests/vectors/cose/, see its README).
 *
 *   - uvm_0.2.10.cose, a transparent statement from Azure Code Transparency
 *     with a CCF_LEDGER_SHA256 (vds 2) receipt: the receipt verifies against
 *     the service key found among esrp-cts-db.json's certificates by its kid
 *     (ASCII hex of SHA-256 of the key's SPKI), and every single-byte change
 *     of the receipt or the registered statement is refused;
 *   - cosesign1tool-scitt-a3be7e5.cose, an ES256 signed statement with an
 *     x5chain, verified with its leaf certificate's key;
 *   - cts-hashv-cwtclaims-b64url.cose, whose pre-standard CCF receipt is not
 *     a COSE_Sign1 and is refused with a message saying so;
 *   - scitt-examples hello.txt.cbor, an ES384 statement with a detached
 *     payload, verified with the COSE_Key public-key.cbor.
 */
#include "wbtest.h"

#include <jansson.h>
#include <string.h>

#include "waybill/cose.h"
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/util.h"

/* ---- helpers ---- */

static uint8_t *vec(const char *rel, size_t *len)
{
    return (uint8_t *)wbt_read_file(wbt_vector_path(rel), len);
}

static void hex_of(char *out, const uint8_t *p, size_t n)
{
    wb_hex_encode(out, p, n);
}

/* the service keys of esrp-cts-db.json, each with its kid */
typedef struct {
    wb_key *keys[16];
    char kids[16][65];
    size_t n;
    int lookups;
} service_keys;

static void load_service_keys(service_keys *sk)
{
    size_t len;
    char *text = wbt_read_file(wbt_vector_path("cose/scitt-ccf-ledger/esrp-cts-db.json"),
                               &len);
    json_error_t err;
    json_t *root = json_loads(text, 0, &err), *params;
    size_t i;
    json_t *p;

    memset(sk, 0, sizeof(*sk));
    if (!root)
        fail_msg("esrp-cts-db.json: %s", err.text);
    params = json_object_get(root, "parameters");
    assert_true(json_is_array(params));
    json_array_foreach(params, i, p) {
        const char *b64 = json_string_value(json_object_get(p, "serviceCertificate"));
        uint8_t der[4096], *spki, digest[32];
        size_t der_len, spki_len;
        wb_key *k;

        assert_non_null(b64);
        assert_int_equal(wb_base64_decode(der, sizeof(der), &der_len, b64, strlen(b64)), 0);
        if (wb_key_from_x509_der(&k, der, der_len) != 0)
            fail_msg("service certificate %zu: %s", i, wb_error_message());
        assert_int_equal(wb_key_spki_der(k, &spki, &spki_len), 0);
        assert_int_equal(wb_sha256(digest, spki, spki_len), 0);
        free(spki);
        assert_true(sk->n < 16);
        hex_of(sk->kids[sk->n], digest, 32);
        sk->keys[sk->n++] = k;
    }
    json_decref(root);
    free(text);
    assert_int_equal(sk->n, 8);
}

static void free_service_keys(service_keys *sk)
{
    for (size_t i = 0; i < sk->n; i++)
        wb_key_free(sk->keys[i]);
}

/* the receipt kid is the ASCII hex of SHA-256(SPKI); the JSON's alg is ignored */
static int find_service_key(void *ctx, wb_cose_verifier *out, const uint8_t *kid,
                            size_t kid_len, int64_t alg)
{
    service_keys *sk = ctx;

    (void)alg;
    sk->lookups++;
    for (size_t i = 0; i < sk->n; i++)
        if (kid_len == 64 && memcmp(kid, sk->kids[i], 64) == 0)
            return wb_cose_verifier_for_key(out, sk->keys[i]);
    return wb_error_set(WB_E_NOTFOUND, "no service key with kid %.*s", (int)kid_len,
                        (const char *)kid);
}

/* a key that is not the service's */
static int wrong_key(void *ctx, wb_cose_verifier *out, const uint8_t *kid, size_t kid_len,
                     int64_t alg)
{
    (void)kid;
    (void)kid_len;
    (void)alg;
    return wb_cose_verifier_for_key(out, ctx);
}

typedef struct {
    uint8_t *ts, *reg;
    size_t ts_len, reg_len;
    wb_cose_bytes *receipts;
    size_t nreceipts;
} uvm_parts;

static void uvm_split(uvm_parts *u)
{
    u->ts = vec("cose/scitt-ccf-ledger/uvm_0.2.10.cose", &u->ts_len);
    if (wb_scitt_transparent_split(&u->reg, &u->reg_len, &u->receipts, &u->nreceipts, u->ts,
                                   u->ts_len) != 0)
        fail_msg("split: %s", wb_error_message());
    assert_int_equal(u->nreceipts, 1);
}

static void uvm_free(uvm_parts *u)
{
    free(u->ts);
    free(u->reg);
    wb_scitt_receipts_free(u->receipts, u->nreceipts);
}

/* ---- the Azure Code Transparency transparent statement ---- */

static void test_uvm_statement_headers(void **state)
{
    wb_cose_sign1 m;
    uint8_t *ts;
    size_t len;

    (void)state;
    ts = vec("cose/scitt-ccf-ledger/uvm_0.2.10.cose", &len);
    if (wb_cose_sign1_decode(&m, ts, len, WB_COSE_MAX) != 0)
        fail_msg("decode: %s", wb_error_message());
    assert_true(m.tagged);
    assert_int_equal(m.hdr.alg, -38); /* PS384 */
    assert_true(m.hdr.has_cwt);
    assert_string_equal(m.hdr.iss, "did:x509:0:sha256:I__iuL25oXEVFdTP_aBLx_eT1RPHbCQ_"
                                   "ECBQfYZpt9s::eku:1.3.6.1.4.1.311.76.59.1.2");
    assert_string_equal(m.hdr.sub, "ContainerPlat-AMD-UVM");
    assert_int_equal(m.hdr.iat, 1766437887); /* written as 1(1766437887) */
    assert_int_equal(m.hdr.nx5chain, 3);
    assert_null(m.hdr.cty); /* only the hash-envelope 259 */
    assert_int_equal(m.payload_len, 48);
    assert_int_equal(m.sig_len, 384);
    /* PS384 is not a statement algorithm waybill accepts */
    assert_int_equal(wb_scitt_statement_check(&m), WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "alg (1) is -38"));
    {
        wb_key *k = NULL;
        assert_int_equal(wb_key_from_x509_der(&k, m.hdr.x5chain[0].ptr,
                                              m.hdr.x5chain[0].len),
                         WB_E_INVALID);
        assert_non_null(strstr(wb_error_message(), "RSA"));
    }
    wb_cose_sign1_cleanup(&m);
    free(ts);
}

static void test_uvm_receipt_verifies(void **state)
{
    static const char claims_digest[] =
        "a60138fb1591fe6c433b41128b0349cf3636bce74fc8c2e7140bc13b74612649";
    service_keys sk;
    uvm_parts u;
    wb_receipt_info info;
    uint8_t digest[32];
    char hex[65];

    (void)state;
    load_service_keys(&sk);
    uvm_split(&u);
    /* the claims digest in the receipt is SHA-256 of the registered statement */
    assert_int_equal(wb_sha256(digest, u.reg, u.reg_len), 0);
    hex_of(hex, digest, 32);
    assert_string_equal(hex, claims_digest);

    if (wb_receipt_verify(&info, u.receipts[0].ptr, u.receipts[0].len, u.reg, u.reg_len,
                          find_service_key, &sk) != 0)
        fail_msg("receipt: %s", wb_error_message());
    assert_int_equal(info.vds, WB_VDS_CCF_LEDGER_SHA256);
    assert_int_equal(info.alg, WB_COSE_ALG_ES384); /* the JSON says ES256 */
    assert_string_equal(info.iss, "esrp-cts-db.confidential-ledger.azure.com");
    assert_int_equal(info.iat, 1766437888);
    assert_int_equal(info.kid_len, 64);
    assert_memory_equal(info.kid, "da7694f16def5a056ca96afb21e89a9450e4cc875e2de351da76d99544a3e849", 64);
    hex_of(hex, info.root, 32);
    assert_true(strncmp(hex, "9a9b4394", 8) == 0);
    assert_true(strcmp(hex + 60, "0466") == 0);

    /* four certificates carry that key; the receipt names it, not a cert */
    {
        size_t same = 0;
        for (size_t i = 0; i < sk.n; i++)
            same += memcmp(sk.kids[i], info.kid, 64) == 0;
        assert_int_equal(same, 4);
    }
    uvm_free(&u);
    free_service_keys(&sk);
}

static void test_uvm_reassembles_byte_for_byte(void **state)
{
    uvm_parts u;
    uint8_t *again;
    size_t len;

    (void)state;
    uvm_split(&u);
    assert_int_equal(wb_scitt_transparent_statement(&again, &len, u.reg, u.reg_len,
                                                    u.receipts, u.nreceipts),
                     0);
    assert_int_equal(len, u.ts_len);
    assert_memory_equal(again, u.ts, len);
    free(again);
    uvm_free(&u);
}

static void test_uvm_receipt_refuses_wrong_inputs(void **state)
{
    service_keys sk;
    uvm_parts u;
    wb_key *other;
    int rc;

    (void)state;
    load_service_keys(&sk);
    uvm_split(&u);

    /* another P-384 key */
    assert_int_equal(wb_key_generate(&other, WB_ALG_ES384), 0);
    rc = wb_receipt_verify(NULL, u.receipts[0].ptr, u.receipts[0].len, u.reg, u.reg_len,
                           wrong_key, other);
    assert_int_equal(rc, WB_E_VERIFY);
    assert_non_null(strstr(wb_error_message(), "does not verify"));
    wb_key_free(other);

    /* a P-256 key: the receipt is ES384 */
    assert_int_equal(wb_key_generate(&other, WB_ALG_ES256), 0);
    rc = wb_receipt_verify(NULL, u.receipts[0].ptr, u.receipts[0].len, u.reg, u.reg_len,
                           wrong_key, other);
    assert_int_equal(rc, WB_E_VERIFY);
    assert_non_null(strstr(wb_error_message(), "-35"));
    wb_key_free(other);

    /* the transparent statement itself is not the registered statement */
    rc = wb_receipt_verify(NULL, u.receipts[0].ptr, u.receipts[0].len, u.ts, u.ts_len,
                           find_service_key, &sk);
    assert_int_equal(rc, WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "unprotected header is not empty"));

    /* another statement */
    {
        size_t len;
        uint8_t *other_st = vec("cose/scitt-ccf-ledger/cosesign1tool-scitt-a3be7e5.cose",
                                &len);
        rc = wb_receipt_verify(NULL, u.receipts[0].ptr, u.receipts[0].len, other_st, len,
                               find_service_key, &sk);
        assert_int_equal(rc, WB_E_VERIFY);
        assert_non_null(strstr(wb_error_message(), "claims digest"));
        free(other_st);
    }
    uvm_free(&u);
    free_service_keys(&sk);
}

/*
 * Every single-byte change, at every position, of the receipt and of the
 * registered statement: the 8 one-bit flips and the complement. Each
 * must be refused (parse error, proof mismatch or bad signature).
 */
static void test_uvm_every_byte_matters(void **state)
{
    static const uint8_t masks[] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff};
    service_keys sk;
    uvm_parts u;
    size_t tried = 0;

    (void)state;
    load_service_keys(&sk);
    uvm_split(&u);
    for (int which = 0; which < 2; which++) {
        size_t n = which == 0 ? u.receipts[0].len : u.reg_len;
        uint8_t *copy = malloc(n);
        assert_non_null(copy);
        memcpy(copy, which == 0 ? u.receipts[0].ptr : u.reg, n);
        for (size_t pos = 0; pos < n; pos++) {
            for (size_t k = 0; k < sizeof(masks); k++) {
                int rc;
                copy[pos] ^= masks[k];
                if (which == 0)
                    rc = wb_receipt_verify(NULL, copy, n, u.reg, u.reg_len,
                                           find_service_key, &sk);
                else
                    rc = wb_receipt_verify(NULL, u.receipts[0].ptr, u.receipts[0].len, copy,
                                           n, find_service_key, &sk);
                copy[pos] ^= masks[k];
                if (rc == 0)
                    fail_msg("%s byte %zu ^ 0x%02x still verifies",
                             which == 0 ? "receipt" : "statement", pos, masks[k]);
                tried++;
            }
        }
        free(copy);
    }
    fprintf(stderr, "uvm: %zu single-byte changes refused (receipt %zu bytes, "
                    "statement %zu bytes)\n",
            tried, u.receipts[0].len, u.reg_len);
    uvm_free(&u);
    free_service_keys(&sk);
}

/* ---- the other samples ---- */

static void test_cosesign1tool_statement(void **state)
{
    wb_cose_sign1 m;
    wb_cose_verifier v;
    wb_key *k;
    uint8_t *st, *reg;
    size_t len, reg_len;

    (void)state;
    st = vec("cose/scitt-ccf-ledger/cosesign1tool-scitt-a3be7e5.cose", &len);
    if (wb_cose_sign1_decode(&m, st, len, WB_COSE_MAX) != 0)
        fail_msg("decode: %s", wb_error_message());
    assert_int_equal(m.hdr.alg, WB_COSE_ALG_ES256);
    assert_string_equal(m.hdr.cty, "application/cose");
    assert_string_equal(m.hdr.sub, "unknown.intent");
    assert_int_equal(m.hdr.iat, 1763991918);
    assert_int_equal(m.hdr.nx5chain, 2);
    assert_int_equal(m.payload_len, 10301);
    if (wb_scitt_statement_check(&m) != 0)
        fail_msg("statement check: %s", wb_error_message());
    assert_int_equal(wb_key_from_x509_der(&k, m.hdr.x5chain[0].ptr, m.hdr.x5chain[0].len), 0);
    assert_int_equal(wb_cose_verifier_for_key(&v, k), 0);
    if (wb_cose_sign1_verify(&m, &v, NULL, 0) != 0)
        fail_msg("verify: %s", wb_error_message());
    /* its unprotected header is already empty: registering changes nothing */
    assert_int_equal(wb_scitt_registered_statement(&reg, &reg_len, &m), 0);
    assert_int_equal(reg_len, len);
    assert_memory_equal(reg, st, len);
    free(reg);
    wb_key_free(k);
    wb_cose_sign1_cleanup(&m);
    free(st);
}

static void test_legacy_ccf_receipt_refused(void **state)
{
    uint8_t *ts, *reg;
    size_t len, reg_len, n;
    wb_cose_bytes *rs;
    service_keys sk;

    (void)state;
    load_service_keys(&sk);
    ts = vec("cose/scitt-ccf-ledger/cts-hashv-cwtclaims-b64url.cose", &len);
    assert_int_equal(wb_scitt_transparent_split(&reg, &reg_len, &rs, &n, ts, len), 0);
    assert_int_equal(n, 1);
    assert_int_equal(wb_receipt_verify(NULL, rs[0].ptr, rs[0].len, reg, reg_len,
                                       find_service_key, &sk),
                     WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "array of 2, want 4"));
    assert_int_equal(sk.lookups, 0);
    free(reg);
    wb_scitt_receipts_free(rs, n);
    free(ts);
    free_service_keys(&sk);
}

static void test_scitt_examples_detached_es384(void **state)
{
    uint8_t *st, *key, *payload, kid[WB_COSE_KID_MAX];
    size_t st_len, key_len, payload_len, kid_len;
    wb_cose_sign1 m;
    wb_cose_verifier v;
    wb_key *k;

    (void)state;
    st = vec("cose/scitt-examples/hello.txt.cbor", &st_len);
    key = vec("cose/scitt-examples/public-key.cbor", &key_len);
    payload = vec("cose/scitt-examples/hello.txt", &payload_len);
    if (wb_cose_key_decode(&k, kid, &kid_len, key, key_len) != 0)
        fail_msg("COSE_Key: %s", wb_error_message());
    assert_int_equal(wb_key_alg(k), WB_ALG_ES384);
    assert_int_equal(kid_len, 32);
    if (wb_cose_sign1_decode(&m, st, st_len, WB_COSE_MAX) != 0)
        fail_msg("decode: %s", wb_error_message());
    assert_true(m.detached);
    assert_int_equal(m.hdr.alg, WB_COSE_ALG_ES384);
    assert_string_equal(m.hdr.cty, "text/plain");
    assert_int_equal(m.hdr.kid.len, 32);
    assert_memory_equal(m.hdr.kid.ptr, kid, 32);
    assert_false(m.hdr.has_cwt); /* draft label 13, not 15 */
    assert_int_equal(wb_cose_verifier_for_key(&v, k), 0);
    if (wb_cose_sign1_verify(&m, &v, payload, payload_len) != 0)
        fail_msg("verify: %s", wb_error_message());
    payload[0] ^= 1;
    assert_int_equal(wb_cose_sign1_verify(&m, &v, payload, payload_len), WB_E_VERIFY);
    /* the profile wants CWT claims and an attached payload */
    assert_int_equal(wb_scitt_statement_check(&m), WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "CWT claims (15)"));
    wb_cose_sign1_cleanup(&m);
    wb_key_free(k);
    free(st);
    free(key);
    free(payload);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uvm_statement_headers),
        cmocka_unit_test(test_uvm_receipt_verifies),
        cmocka_unit_test(test_uvm_reassembles_byte_for_byte),
        cmocka_unit_test(test_uvm_receipt_refuses_wrong_inputs),
        cmocka_unit_test(test_uvm_every_byte_matters),
        cmocka_unit_test(test_cosesign1tool_statement),
        cmocka_unit_test(test_legacy_ccf_receipt_refused),
        cmocka_unit_test(test_scitt_examples_detached_es384),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
