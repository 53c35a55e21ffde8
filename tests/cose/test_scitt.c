/*
 * test_scitt.c: SCITT statements (RFC 9943) on top of COSE_Sign1: the
 * signed-statement profile (one test per requirement, with its message),
 * registered statements (unprotected header emptied, tag and signature
 * kept, deterministic re-encoding) and transparent statements (receipts in
 * header 394: assemble, split, limits).
 */
#include "wbtest.h"

#include <string.h>

#include "waybill/cose.h"
#include "waybill/crypto.h"
#include "waybill/error.h"

static wb_key *issuer;
static wb_cose_signer signer;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(wb_key_generate(&issuer, WB_ALG_ES256), 0);
    assert_int_equal(wb_cose_signer_for_key(&signer, issuer), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    wb_key_free(issuer);
    return 0;
}

static void good_headers(wb_cose_headers *h)
{
    wb_cose_headers_init(h);
    h->alg = signer.alg;
    h->cty = "application/vnd.waybill.manifest+json";
    h->kid.ptr = (const uint8_t *)"acme-1";
    h->kid.len = 6;
    h->iss = "did:example:acme";
    h->sub = "rack-7";
}

/* signs a statement with headers h and unprotected map u (may be NULL) */
static void make(wb_cose_sign1 *m, uint8_t **out, size_t *len, const wb_cose_headers *h,
                 const char *u, size_t ulen, int detached)
{
    static const char payload[] = "{\"kind\":\"manifest\"}";
    if (wb_cose_sign1_create(out, len, h, (const uint8_t *)u, ulen, (const uint8_t *)payload,
                             sizeof(payload) - 1, detached, &signer) != 0)
        fail_msg("create: %s", wb_error_message());
    if (wb_cose_sign1_decode(m, *out, *len, WB_COSE_MAX) != 0)
        fail_msg("decode: %s", wb_error_message());
}

static void expect_profile(const wb_cose_headers *h, int detached, const char *msg)
{
    wb_cose_sign1 m;
    uint8_t *out;
    size_t len;
    int rc;

    make(&m, &out, &len, h, NULL, 0, detached);
    rc = wb_scitt_statement_check(&m);
    if (!msg) {
        if (rc != 0)
            fail_msg("statement check: %s", wb_error_message());
    } else {
        assert_int_equal(rc, WB_E_INVALID);
        if (strcmp(wb_error_message(), msg) != 0)
            fail_msg("message '%s', want '%s'", wb_error_message(), msg);
    }
    wb_cose_sign1_cleanup(&m);
    free(out);
}

static void test_statement_profile(void **state)
{
    wb_cose_headers h;

    (void)state;
    good_headers(&h);
    expect_profile(&h, 0, NULL);
    /* x5chain instead of kid */
    h.kid.len = 0;
    h.kid.ptr = NULL;
    h.x5chain[0].ptr = (const uint8_t *)"\x30\x00";
    h.x5chain[0].len = 2;
    h.nx5chain = 1;
    expect_profile(&h, 0, NULL);
    h.nx5chain = 0;
    expect_profile(&h, 0,
                   "statement: neither kid (4) nor x5chain (33) in the protected header");
    good_headers(&h);
    h.cty = NULL;
    expect_profile(&h, 0, "statement: no content type (3) in the protected header");
    h.cty_int = 50; /* application/json as a CoAP number */
    expect_profile(&h, 0, NULL);
    good_headers(&h);
    h.iss = NULL;
    h.sub = NULL;
    expect_profile(&h, 0, "statement: no CWT claims (15) in the protected header");
    h.sub = "x";
    expect_profile(&h, 0, "statement: CWT claims (15) have no iss (1)");
    h.iss = "";
    expect_profile(&h, 0, "statement: CWT claims (15) have no iss (1)");
    h.iss = "x";
    h.sub = NULL;
    expect_profile(&h, 0, "statement: CWT claims (15) have no sub (2)");
    good_headers(&h);
    expect_profile(&h, 1,
                   "statement: the payload is detached (nil); a signed statement must carry "
                   "it");
    {
        wb_cose_sign1 m;
        memset(&m, 0, sizeof(m));
        assert_int_equal(wb_scitt_statement_check(&m), WB_E_INVALID);
    }
}

static void test_statement_alg(void **state)
{
    /* an alg waybill cannot verify is refused by the profile, by number */
    static const uint8_t ps384[] = {
        0xd2, 0x84, 0x58, 0x18, 0xa5, 0x01, 0x38, 0x25, 0x03, 0x63, 'a',  '/',  'b',
        0x04, 0x41, 'k',  0x0f, 0xa2, 0x01, 0x61, 'i',  0x02, 0x61, 's',  0x19, 0x01,
        0x8b, 0x01, 0xa0, 0x41, 0x00, 0x41, 0x00};
    wb_cose_sign1 m;

    (void)state;
    if (wb_cose_sign1_decode(&m, ps384, sizeof(ps384), WB_COSE_MAX) != 0)
        fail_msg("%s", wb_error_message());
    assert_int_equal(wb_scitt_statement_check(&m), WB_E_INVALID);
    assert_string_equal(wb_error_message(), "statement: alg (1) is -38; waybill accepts ES256 "
                                            "(-7), ES384 (-35) and EdDSA (-8)");
    wb_cose_sign1_cleanup(&m);
    /* no alg at all */
    {
        static const uint8_t noalg[] = {0x84, 0x40, 0xa0, 0x40, 0x40};
        assert_int_equal(wb_cose_sign1_decode(&m, noalg, sizeof(noalg), 64), 0);
        assert_int_equal(wb_scitt_statement_check(&m), WB_E_INVALID);
        assert_string_equal(wb_error_message(),
                            "statement: no alg (1) in the protected header");
        wb_cose_sign1_cleanup(&m);
    }
}

static void test_registered_statement(void **state)
{
    wb_cose_headers h;
    wb_cose_sign1 m, r;
    wb_cose_verifier v;
    uint8_t *out, *reg, *reg2;
    size_t len, reg_len, reg2_len;
    static const char u[] = "\xa2\x19\x01\x8a\x81\x41\x00\x63tmp\x01"; /* {394: [h'00'], "tmp": 1} */

    (void)state;
    good_headers(&h);
    make(&m, &out, &len, &h, u, sizeof(u) - 1, 0);
    assert_int_equal(wb_scitt_registered_statement(&reg, &reg_len, &m), 0);
    assert_int_equal(reg_len, len - (sizeof(u) - 1) + 1);
    assert_int_equal(wb_cose_sign1_decode(&r, reg, reg_len, WB_COSE_MAX), 0);
    assert_true(r.tagged);
    assert_int_equal(r.unprotected_len, 1);
    assert_int_equal(r.unprotected_raw[0], 0xa0);
    assert_int_equal(r.protected_len, m.protected_len);
    assert_memory_equal(r.protected_raw, m.protected_raw, m.protected_len);
    assert_int_equal(wb_cose_verifier_for_key(&v, issuer), 0);
    assert_int_equal(wb_cose_sign1_verify(&r, &v, NULL, 0), 0);
    /* registering a registered statement changes nothing */
    assert_int_equal(wb_scitt_registered_statement(&reg2, &reg2_len, &r), 0);
    assert_int_equal(reg2_len, reg_len);
    assert_memory_equal(reg2, reg, reg_len);
    free(reg2);
    wb_cose_sign1_cleanup(&r);
    wb_cose_sign1_cleanup(&m);
    free(reg);
    free(out);
}

static void test_registered_is_tagged_and_reencoded(void **state)
{
    /* untagged, with non-shortest heads: [bstr(24-form) {1:-7}, {4: h'31'}, h'', h''] */
    static const uint8_t in[] = {0x84, 0x58, 0x03, 0xa1, 0x01, 0x26, 0xa1, 0x04,
                                 0x41, 0x31, 0x58, 0x00, 0x40};
    static const uint8_t want[] = {0xd2, 0x84, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0x40, 0x40};
    wb_cose_sign1 m;
    uint8_t *reg;
    size_t reg_len;

    (void)state;
    assert_int_equal(wb_cose_sign1_decode(&m, in, sizeof(in), 64), 0);
    assert_false(m.tagged);
    assert_int_equal(wb_scitt_registered_statement(&reg, &reg_len, &m), 0);
    assert_int_equal(reg_len, sizeof(want));
    assert_memory_equal(reg, want, sizeof(want));
    free(reg);
    wb_cose_sign1_cleanup(&m);
    /* a detached statement stays detached */
    {
        static const uint8_t det[] = {0xd2, 0x84, 0x40, 0xa1, 0x04, 0x41, 0x31, 0xf6, 0x40};
        assert_int_equal(wb_cose_sign1_decode(&m, det, sizeof(det), 64), 0);
        assert_int_equal(wb_scitt_registered_statement(&reg, &reg_len, &m), 0);
        assert_int_equal(reg_len, 6);
        assert_memory_equal(reg, "\xd2\x84\x40\xa0\xf6\x40", 6);
        free(reg);
        wb_cose_sign1_cleanup(&m);
    }
    {
        wb_cose_sign1 empty;
        memset(&empty, 0, sizeof(empty));
        assert_int_equal(wb_scitt_registered_statement(&reg, &reg_len, &empty), WB_E_INVALID);
    }
}

/* a syntactically valid receipt-shaped COSE_Sign1, content irrelevant here */
static void fake_receipt(uint8_t **out, size_t *len, uint8_t n)
{
    wb_cose_headers h;
    wb_cose_headers_init(&h);
    h.alg = signer.alg;
    h.vds = 1;
    h.iat = n + 1;
    assert_int_equal(wb_cose_sign1_create(out, len, &h, (const uint8_t *)"\xa1\x19\x01\x8c\xa0",
                                          5, &n, 1, 1, &signer),
                     0);
}

static void test_transparent_round_trip(void **state)
{
    wb_cose_headers h;
    wb_cose_sign1 m;
    uint8_t *out, *reg, *ts, *reg2;
    size_t len, reg_len, ts_len, reg2_len, n;
    wb_cose_bytes rs[3], *got;

    (void)state;
    good_headers(&h);
    make(&m, &out, &len, &h, "\xa1\x63tmp\x01", 6, 0);
    free(out);
    assert_int_equal(wb_scitt_registered_statement(&reg, &reg_len, &m), 0);
    for (uint8_t i = 0; i < 3; i++) {
        uint8_t *r;
        size_t rl;
        fake_receipt(&r, &rl, i);
        rs[i].ptr = r;
        rs[i].len = rl;
    }
    for (size_t k = 1; k <= 3; k++) {
        wb_cose_sign1 t;
        assert_int_equal(wb_scitt_transparent_statement(&ts, &ts_len, reg, reg_len, rs, k), 0);
        assert_int_equal(wb_cose_sign1_decode(&t, ts, ts_len, WB_COSE_MAX), 0);
        assert_true(t.tagged);
        assert_memory_equal(t.unprotected_raw, "\xa1\x19\x01\x8a", 4);
        assert_int_equal(t.unprotected_raw[4], 0x80 + k);
        wb_cose_sign1_cleanup(&t);
        assert_int_equal(wb_scitt_transparent_split(&reg2, &reg2_len, &got, &n, ts, ts_len), 0);
        assert_int_equal(n, k);
        assert_int_equal(reg2_len, reg_len);
        assert_memory_equal(reg2, reg, reg_len);
        for (size_t i = 0; i < k; i++) {
            assert_int_equal(got[i].len, rs[i].len);
            assert_memory_equal(got[i].ptr, rs[i].ptr, rs[i].len);
        }
        wb_scitt_receipts_free(got, n);
        free(reg2);
        free(ts);
    }
    /* a transparent statement is not a registered statement */
    assert_int_equal(wb_scitt_transparent_statement(&ts, &ts_len, reg, reg_len, rs, 1), 0);
    assert_int_equal(wb_scitt_transparent_statement(&out, &len, ts, ts_len, rs, 1),
                     WB_E_INVALID);
    assert_string_equal(wb_error_message(),
                        "registered statement: the unprotected header is not empty");
    free(ts);
    for (size_t i = 0; i < 3; i++)
        free((void *)(uintptr_t)rs[i].ptr);
    wb_cose_sign1_cleanup(&m);
    free(reg);
}

static void test_transparent_refusals(void **state)
{
    wb_cose_headers h;
    wb_cose_sign1 m;
    uint8_t *out, *reg, *ts, *r;
    size_t len, reg_len, ts_len, rl, n;
    wb_cose_bytes rs[WB_COSE_RECEIPTS_MAX + 1], *got;
    uint8_t *sreg;
    size_t sreg_len;

    (void)state;
    good_headers(&h);
    make(&m, &out, &len, &h, NULL, 0, 0);
    assert_int_equal(wb_scitt_registered_statement(&reg, &reg_len, &m), 0);
    fake_receipt(&r, &rl, 1);
    for (size_t i = 0; i <= WB_COSE_RECEIPTS_MAX; i++) {
        rs[i].ptr = r;
        rs[i].len = rl;
    }
    assert_int_equal(wb_scitt_transparent_statement(&ts, &ts_len, reg, reg_len, rs, 0),
                     WB_E_INVALID);
    assert_string_equal(wb_error_message(), "transparent statement: no receipts");
    assert_int_equal(wb_scitt_transparent_statement(&ts, &ts_len, reg, reg_len, rs,
                                                    WB_COSE_RECEIPTS_MAX + 1),
                     WB_E_LIMIT);
    assert_int_equal(wb_scitt_transparent_statement(&ts, &ts_len, reg, reg_len, rs,
                                                    WB_COSE_RECEIPTS_MAX),
                     0);
    free(ts);
    /* a receipt that is not a COSE_Sign1 */
    rs[1].ptr = (const uint8_t *)"\x82\x01\x02";
    rs[1].len = 3;
    assert_int_equal(wb_scitt_transparent_statement(&ts, &ts_len, reg, reg_len, rs, 2),
                     WB_E_INVALID);
    assert_string_equal(wb_error_message(),
                        "transparent statement: receipt 1 is an array of 2, want 4 "
                        "(protected, unprotected, payload, signature)");
    /* split: no 394, 394 of the wrong type, a receipt not in a bstr */
    assert_int_equal(wb_scitt_transparent_split(&sreg, &sreg_len, &got, &n, reg, reg_len),
                     WB_E_INVALID);
    assert_string_equal(wb_error_message(),
                        "transparent statement: no receipts (394) in the unprotected header");
    {
        static const uint8_t a[] = {0x84, 0x40, 0xa1, 0x19, 0x01, 0x8a, 0x80, 0x40, 0x40};
        static const uint8_t b[] = {0x84, 0x40, 0xa1, 0x19, 0x01, 0x8a, 0x41, 0x00, 0x40, 0x40};
        static const uint8_t c[] = {0x84, 0x40, 0xa1, 0x19, 0x01, 0x8a, 0x82, 0x41,
                                    0x00, 0x61, 0x00, 0x40, 0x40};
        assert_int_equal(wb_scitt_transparent_split(&sreg, &sreg_len, &got, &n, a, sizeof(a)),
                         WB_E_INVALID);
        assert_non_null(strstr(wb_error_message(), "receipts (394) is an empty array"));
        assert_int_equal(wb_scitt_transparent_split(&sreg, &sreg_len, &got, &n, b, sizeof(b)),
                         WB_E_INVALID);
        assert_non_null(strstr(wb_error_message(), "receipts (394) is a byte string"));
        assert_int_equal(wb_scitt_transparent_split(&sreg, &sreg_len, &got, &n, c, sizeof(c)),
                         WB_E_INVALID);
        assert_non_null(strstr(wb_error_message(), "receipt 1 is a text string"));
        assert_null(got);
        assert_null(sreg);
    }
    wb_scitt_receipts_free(NULL, 0);
    free(r);
    free(reg);
    free(out);
    wb_cose_sign1_cleanup(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statement_profile),
        cmocka_unit_test(test_statement_alg),
        cmocka_unit_test(test_registered_statement),
        cmocka_unit_test(test_registered_is_tagged_and_reencoded),
        cmocka_unit_test(test_transparent_round_trip),
        cmocka_unit_test(test_transparent_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
