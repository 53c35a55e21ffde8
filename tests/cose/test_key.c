/*
 * test_key.c: COSE_Key and COSE_KeySet (RFC 9052 §7, RFC 9053 §7) for
 * Ed25519, P-256 and P-384 public keys: exact encodings of published keys,
 * round trips, and every refusal (private part, compressed points, other
 * curves and types, alg that does not fit) with its message; then Concise
 * Problem Details (RFC 9290).
 */
#include "wbtest.h"

#include <string.h>

#include "cose/cose_int.h"
#include "waybill/cose.h"
#include "waybill/crypto.h"
#include "waybill/error.h"

static uint8_t *unhex(const char *hex, size_t *len)
{
    size_t n = 0, cap = strlen(hex) / 2 + 1;
    uint8_t *out = malloc(cap);
    int hi = -1;

    assert_non_null(out);
    for (const char *p = hex; *p; p++) {
        int v = 0;
        if (*p == ' ')
            continue;
        v = (*p >= '0' && *p <= '9') ? *p - '0' : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10 : -1;
        assert_true(v >= 0);
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    *len = n;
    return out;
}

/* the COSE working group's key "11" (P-256) and RFC 8032 §7.1 TEST 1 */
#define K11_X "bac5b11cad8f99f9c72b05cf4b9e26d244dc189f745228255a219a86d6a09eff"
#define K11_Y "20138bf82dc1b6d562be0fa54ab7804a3a64b6d72ccfed6b6fb6ed28bbfc117e"
#define ED_X "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"

static wb_key *raw_key(wb_alg alg, const char *hex)
{
    size_t len;
    uint8_t *raw = unhex(hex, &len);
    wb_key *k;
    assert_int_equal(wb_key_from_public_raw(&k, alg, raw, len), 0);
    free(raw);
    return k;
}

static void expect_encoding(const wb_key *k, const char *kid, const char *want_hex)
{
    size_t len, wlen;
    uint8_t *out, *want = unhex(want_hex, &wlen);

    assert_int_equal(wb_cose_key_encode(&out, &len, k, (const uint8_t *)kid,
                                        kid ? strlen(kid) : 0),
                     0);
    assert_int_equal(len, wlen);
    assert_memory_equal(out, want, len);
    free(out);
    free(want);
}

static void test_published_keys_encode_exactly(void **state)
{
    wb_key *p256 = raw_key(WB_ALG_ES256, "04" K11_X K11_Y);
    wb_key *ed = raw_key(WB_ALG_ED25519, ED_X);

    (void)state;
    expect_encoding(p256, "11",
                    "a6 01 02 02 42 3131 03 26 20 01 21 5820" K11_X " 22 5820" K11_Y);
    expect_encoding(p256, NULL, "a5 01 02 03 26 20 01 21 5820" K11_X " 22 5820" K11_Y);
    expect_encoding(ed, NULL, "a4 01 01 03 27 20 06 21 5820" ED_X);
    wb_key_free(p256);
    wb_key_free(ed);
}

static void test_round_trips(void **state)
{
    static const wb_alg algs[] = {WB_ALG_ED25519, WB_ALG_ES256, WB_ALG_ES384};

    (void)state;
    for (size_t a = 0; a < 3; a++) {
        wb_key *k, *back;
        uint8_t *out, kid[WB_COSE_KID_MAX], raw1[WB_PUBKEY_RAW_MAX], raw2[WB_PUBKEY_RAW_MAX];
        size_t len, kid_len, r1 = sizeof(raw1), r2 = sizeof(raw2);
        uint8_t long_kid[WB_COSE_KID_MAX];

        memset(long_kid, 0x6b, sizeof(long_kid));
        assert_int_equal(wb_key_generate(&k, algs[a]), 0);
        /* the private key encodes its public part only */
        assert_int_equal(wb_cose_key_encode(&out, &len, k, long_kid, sizeof(long_kid)), 0);
        assert_int_equal(wb_cose_key_decode(&back, kid, &kid_len, out, len), 0);
        assert_int_equal(kid_len, sizeof(long_kid));
        assert_memory_equal(kid, long_kid, kid_len);
        assert_int_equal(wb_key_alg(back), algs[a]);
        assert_false(wb_key_is_private(back));
        assert_int_equal(wb_key_public_raw(k, raw1, &r1), 0);
        assert_int_equal(wb_key_public_raw(back, raw2, &r2), 0);
        assert_int_equal(r1, r2);
        assert_memory_equal(raw1, raw2, r1);
        wb_key_free(back);
        /* kid may be ignored */
        assert_int_equal(wb_cose_key_decode(&back, NULL, NULL, out, len), 0);
        wb_key_free(back);
        free(out);
        assert_int_equal(wb_cose_key_encode(&out, &len, k, long_kid, sizeof(long_kid) + 1),
                         WB_E_INVALID);
        wb_key_free(k);
    }
}

static void key_expect(const char *hex, int rc_want, const char *want)
{
    size_t len;
    uint8_t *data = unhex(hex, &len), kid[WB_COSE_KID_MAX];
    size_t kid_len = 99;
    wb_key *k = (wb_key *)1;
    int rc = wb_cose_key_decode(&k, kid, &kid_len, data, len);

    if (rc != rc_want)
        fail_msg("%s: got %s (%s)", hex, wb_error_name(rc), wb_error_message());
    if (rc == 0) {
        wb_key_free(k);
    } else {
        assert_null(k);
        if (!strstr(wb_error_message(), want))
            fail_msg("%s: '%s' lacks '%s'", hex, wb_error_message(), want);
    }
    free(data);
}

static void test_decode_refusals(void **state)
{
    (void)state;
    /* the good P-256 key, and unknown parameters ignored */
    key_expect("a5 01 02 03 26 20 01 21 5820" K11_X " 22 5820" K11_Y, 0, NULL);
    key_expect("a7 01 02 03 26 20 01 21 5820" K11_X " 22 5820" K11_Y " 04 81 02 6178 00", 0,
               NULL);
    key_expect("a5 01 02 20 01 21 5820" K11_X " 22 5820" K11_Y " 23 5820" K11_X,
               WB_E_INVALID, "COSE_Key: holds a private key (d, -4); only public keys");
    key_expect("a5 01 02 03 26 20 01 21 5820" K11_X " 22 f5", WB_E_INVALID,
               "compressed point (y is a bool) is not supported");
    key_expect("a5 01 02 03 26 20 01 21 5820" K11_X " 22 f93c00", WB_E_INVALID,
               "y (-3) must be a 32-byte string");
    key_expect("a4 01 02 20 01 21 5820" K11_X " 22 5820" K11_X, WB_E_INVALID,
               "not a point on P-256");
    key_expect("a4 01 02 03 38 22 20 01 21 5820" K11_X, WB_E_INVALID,
               "COSE_Key: alg (3) -35 does not fit the key; want -7 (ES256)");
    key_expect("a3 01 02 20 01 21 5820" K11_X, WB_E_INVALID,
               "COSE_Key: y (-3) must be a 32-byte string for ES256");
    key_expect("a4 01 02 20 01 21 5818 bac5b11cad8f99f9c72b05cf4b9e26d244dc189f74522825 22 5820" K11_Y, WB_E_INVALID,
               "x (-2) must be a 32-byte string");
    key_expect("a4 01 02 20 03 21 40 22 40", WB_E_INVALID,
               "COSE_Key: EC2 curve 3 is not supported; want 1 (P-256) or 2 (P-384)");
    key_expect("a3 01 01 20 04 21 5820" ED_X, WB_E_INVALID,
               "COSE_Key: OKP curve 4 is not supported; want 6 (Ed25519)");
    key_expect("a3 01 01 20 06 21 5820" ED_X, 0, NULL);
    key_expect("a4 01 01 20 06 21 5820" ED_X " 22 40", WB_E_INVALID,
               "an OKP key has no y (-3)");
    key_expect("a4 01 01 03 26 20 06 21 5820" ED_X, WB_E_INVALID,
               "alg (3) -7 does not fit the key; want -8 (Ed25519)");
    key_expect("a2 01 04 20 00", WB_E_INVALID, "kty 4 is not supported");
    key_expect("a2 01 63 454332 20 01", WB_E_INVALID, "kty (1) is a text string");
    key_expect("a1 20 01", WB_E_INVALID, "COSE_Key: no kty (1)");
    key_expect("a1 01 02", WB_E_INVALID, "COSE_Key: no crv (-1)");
    key_expect("a2 01 02 20 61 31", WB_E_INVALID, "crv (-1) is a text string");
    key_expect("a3 01 01 02 61 31 20 06", WB_E_INVALID, "kid (2) is a text string");
    key_expect("a3 01 01 03 40 20 06", WB_E_INVALID, "alg (3) is a byte string");
    key_expect("a2 01 01 40 00", WB_E_INVALID, "COSE_Key: label is a byte string");
    key_expect("80", WB_E_INVALID, "COSE_Key is an array, want a map");
    key_expect("a2 01 01 01 01", WB_E_INVALID, "COSE_Key: map key 1 appears twice");
    key_expect("a1 01", WB_E_INVALID, "COSE_Key: truncated");
}

static void test_keyset(void **state)
{
    static const wb_alg algs[] = {WB_ALG_ES256, WB_ALG_ED25519, WB_ALG_ES384};
    wb_key *keys[3];
    wb_cose_bytes kids[3] = {{(const uint8_t *)"a", 1}, {(const uint8_t *)"bb", 2}, {NULL, 0}};
    wb_cose_keyset_entry *set;
    uint8_t *out;
    size_t len, n;

    (void)state;
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(wb_key_generate(&keys[i], algs[i]), 0);
    assert_int_equal(wb_cose_keyset_encode(&out, &len, (const wb_key *const *)keys, kids, 3), 0);
    assert_int_equal(out[0], 0x83);
    assert_int_equal(wb_cose_keyset_decode(&set, &n, out, len), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(wb_key_alg(set[i].key), algs[i]);
        assert_int_equal(set[i].kid_len, kids[i].len);
        if (kids[i].len)
            assert_memory_equal(set[i].kid, kids[i].ptr, kids[i].len);
    }
    wb_cose_keyset_free(set, n);
    free(out);
    /* no kids at all */
    assert_int_equal(wb_cose_keyset_encode(&out, &len, (const wb_key *const *)keys, NULL, 3), 0);
    assert_int_equal(wb_cose_keyset_decode(&set, &n, out, len), 0);
    assert_int_equal(set[1].kid_len, 0);
    wb_cose_keyset_free(set, n);
    free(out);
    /* empty */
    assert_int_equal(wb_cose_keyset_encode(&out, &len, NULL, NULL, 0), 0);
    assert_int_equal(len, 1);
    assert_int_equal(wb_cose_keyset_decode(&set, &n, out, len), 0);
    assert_int_equal(n, 0);
    wb_cose_keyset_free(set, n);
    free(out);
    /* one bad key spoils the set */
    {
        size_t blen;
        uint8_t *bad = unhex("82 a3 01 01 20 06 21 5820" ED_X " a1 01 01", &blen);
        assert_int_equal(wb_cose_keyset_decode(&set, &n, bad, blen), WB_E_INVALID);
        assert_string_equal(wb_error_message(), "COSE_KeySet key 1: COSE_Key: no crv (-1)");
        assert_null(set);
        free(bad);
        bad = unhex("a0", &blen);
        assert_int_equal(wb_cose_keyset_decode(&set, &n, bad, blen), WB_E_INVALID);
        assert_string_equal(wb_error_message(), "COSE_KeySet is a map, want an array");
        free(bad);
    }
    /* over the limit */
    {
        wb_key *many[WB_COSE_KEYSET_MAX + 1];
        uint8_t big[3 + WB_COSE_KEYSET_MAX + 1];
        for (size_t i = 0; i <= WB_COSE_KEYSET_MAX; i++)
            many[i] = keys[0];
        assert_int_equal(wb_cose_keyset_encode(&out, &len, (const wb_key *const *)many, NULL,
                                               WB_COSE_KEYSET_MAX + 1),
                         WB_E_LIMIT);
        big[0] = 0x98;
        big[1] = WB_COSE_KEYSET_MAX + 1;
        memset(big + 2, 0xa0, WB_COSE_KEYSET_MAX + 1);
        assert_int_equal(wb_cose_keyset_decode(&set, &n, big, 2 + WB_COSE_KEYSET_MAX + 1),
                         WB_E_LIMIT);
        assert_string_equal(wb_error_message(), "COSE_KeySet: 65 keys, over the limit of 64");
    }
    for (size_t i = 0; i < 3; i++)
        wb_key_free(keys[i]);
}

/* ---- RFC 9290 problem details ---- */

static void expect_problem(const char *title, const char *detail, int status,
                           const char *want_hex)
{
    size_t len, wlen;
    uint8_t *out, *want = unhex(want_hex, &wlen);
    cbor_item_t *it;

    assert_int_equal(wb_cbor_problem(&out, &len, title, detail, status), 0);
    if (len != wlen || memcmp(out, want, len) != 0) {
        char got[512];
        wb_hex_encode(got, out, len < 200 ? len : 200);
        fail_msg("problem: got %s, want %s", got, want_hex);
    }
    /* and it is strict CBOR */
    assert_int_equal(wb_cbor_load(&it, out, len, len, "problem"), 0);
    cbor_decref(&it);
    free(out);
    free(want);
}

static void test_problem_details(void **state)
{
    (void)state;
    /* the SCITT SCRAPI example: title and detail */
    expect_problem("Bad Signature Algorithm", "Signing algorithm 'WalnutDSA' not supported", 0,
                   "a2 20 77 426164205369676e617475726520416c676f726974686d"
                   " 21 78 2b 5369676e696e6720616c676f726974686d202757616c6e75744453"
                   "4127206e6f7420737570706f72746564");
    /* response-code (-4) as the CoAP form of the HTTP status */
    expect_problem("x", NULL, 400, "a2 20 6178 23 1880");
    expect_problem(NULL, "y", 404, "a2 21 6179 23 1884");
    expect_problem(NULL, NULL, 413, "a1 23 188d");
    expect_problem(NULL, NULL, 429, "a1 23 189d");
    expect_problem(NULL, NULL, 503, "a1 23 18a3");
    expect_problem("t", NULL, 451, "a1 20 6174"); /* no CoAP form: left out */
    expect_problem("t", NULL, 99, "a1 20 6174");
    expect_problem("t", NULL, -1, "a1 20 6174");
    expect_problem("", "", 0, "a2 20 60 21 60");
    /* text that is not UTF-8 is repaired, not refused */
    expect_problem("\xff" "a\xe2\x82", "\xc3\xa9", 0, "a2 20 64 3f613f3f 21 62 c3a9");
    {
        uint8_t *out;
        size_t len;
        assert_int_equal(wb_cbor_problem(&out, &len, NULL, NULL, 0), WB_E_INVALID);
        /* long text is cut */
        char *big = malloc(10000);
        assert_non_null(big);
        memset(big, 'a', 9999);
        big[9999] = '\0';
        assert_int_equal(wb_cbor_problem(&out, &len, big, NULL, 500), 0);
        assert_int_equal(len, 1 + 1 + 3 + 4096 + 1 + 2);
        free(out);
        free(big);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_keys_encode_exactly),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_decode_refusals),
        cmocka_unit_test(test_keyset),
        cmocka_unit_test(test_problem_details),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
