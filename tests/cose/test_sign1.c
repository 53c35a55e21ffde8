/*
 * test_sign1.c: COSE_Sign1 (waybill/cose.h) against published vectors and
 * every decoding rule.
 *
 * Vectors, kept inline next to their source:
 *   - RFC 9052 Appendix C.2.1 "Single ECDSA Signature" (ES256, key "11" of
 *     the COSE working group's examples);
 *   - cose-wg/Examples sign1-tests/sign-pass-01..03 and sign-fail-01..07,
 *     ecdsa-examples/ecdsa-sig-02 (ES384, key "P384") and
 *     eddsa-examples/eddsa-sig-01 (Ed25519 with the RFC 8032 §7.1 TEST 1 key:
 *     Ed25519 is deterministic, so signing reproduces the bytes exactly).
 * Then one test per decoding rule, each asserting the code and the message,
 * and create/verify round trips for ES256, ES384 and EdDSA.
 */
#include "wbtest.h"

#include <string.h>

#include "cose/cose_int.h"
#include "waybill/cose.h"
#include "waybill/crypto.h"
#include "waybill/error.h"

/* ---- helpers ---- */

static uint8_t *unhex(const char *hex, size_t *len)
{
    size_t n = 0, cap = strlen(hex) / 2 + 1;
    uint8_t *out = malloc(cap);
    int hi = -1;

    assert_non_null(out);
    for (const char *p = hex; *p; p++) {
        int v = 0;
        if (*p == ' ' || *p == '\n')
            continue;
        if (*p >= '0' && *p <= '9')
            v = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            v = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            v = *p - 'A' + 10;
        else
            fail_msg("bad hex character '%c'", *p);
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    assert_true(hi < 0);
    *len = n;
    return out;
}

static wb_key *pub_key(wb_alg alg, const char *x_hex, const char *y_hex)
{
    char raw_hex[512];
    size_t len;
    uint8_t *raw;
    wb_key *k;

    if (y_hex)
        snprintf(raw_hex, sizeof(raw_hex), "04%s%s", x_hex, y_hex);
    else
        snprintf(raw_hex, sizeof(raw_hex), "%s", x_hex);
    raw = unhex(raw_hex, &len);
    if (wb_key_from_public_raw(&k, alg, raw, len) != 0)
        fail_msg("key: %s", wb_error_message());
    free(raw);
    return k;
}

/* the COSE working group's key "11" (P-256) */
static const char key11_x[] = "bac5b11cad8f99f9c72b05cf4b9e26d244dc189f745228255a219a86d6a09eff";
static const char key11_y[] = "20138bf82dc1b6d562be0fa54ab7804a3a64b6d72ccfed6b6fb6ed28bbfc117e";
/* key "P384" */
static const char keyp384_x[] = "9132723f6292b010619dbe248d698c17b58756c639e7150f81bee4eb8ac37236"
                                "ad0a1a19d67be32a66263e1e524d129c";
static const char keyp384_y[] = "98cd3078c554d832ac603c4326410ff61662459b41f1f3df5dbcc83598ff7c5e"
                                "d8411ca735679d1c4cb3009397d9ef2c";
/* RFC 8032 §7.1 TEST 1 */
static const char ed_seed[] = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char ed_pub[] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

static const char content[] = "This is the content.";

/* decode hex, verify with key: returns the verify code (decode must pass) */
static int decode_verify(const char *hex, const wb_key *key)
{
    size_t len;
    uint8_t *data = unhex(hex, &len);
    wb_cose_sign1 m;
    wb_cose_verifier v;
    int rc;

    if (wb_cose_sign1_decode(&m, data, len, WB_COSE_MAX) != 0)
        fail_msg("decode: %s", wb_error_message());
    assert_int_equal(wb_cose_verifier_for_key(&v, key), 0);
    rc = wb_cose_sign1_verify(&m, &v, NULL, 0);
    wb_cose_sign1_cleanup(&m);
    free(data);
    return rc;
}

/* decode hex expecting failure rc with message containing want */
static void decode_expect(const char *hex, int rc_want, const char *want)
{
    size_t len;
    uint8_t *data = unhex(hex, &len);
    wb_cose_sign1 m;
    int rc = wb_cose_sign1_decode(&m, data, len, WB_COSE_MAX);

    if (rc != rc_want)
        fail_msg("%s: got %s (%s), want %s", hex, wb_error_name(rc),
                 rc ? wb_error_message() : "", wb_error_name(rc_want));
    if (rc == 0) {
        wb_cose_sign1_cleanup(&m);
    } else {
        assert_null(m.priv);
        assert_null(m.unprotected_raw);
        if (!strstr(wb_error_message(), want))
            fail_msg("%s: message '%s' lacks '%s'", hex, wb_error_message(), want);
    }
    free(data);
}

/* a COSE_Sign1 around a protected map (hex), an unprotected map (hex) */
static void hdr_expect(const char *prot_map, const char *unprot, int rc_want,
                       const char *want)
{
    char hex[4096];
    size_t plen = 0;
    for (const char *c = prot_map; *c; c++)
        plen += *c != ' ';
    /* protected: bstr head for plen/2 bytes (< 256 here) */
    if (plen / 2 < 24)
        snprintf(hex, sizeof(hex), "d284 %02zx %s %s f6 40", 0x40 + plen / 2, prot_map,
                 unprot);
    else
        snprintf(hex, sizeof(hex), "d284 58%02zx %s %s f6 40", plen / 2, prot_map, unprot);
    decode_expect(hex, rc_want, want);
}

/* ---- published vectors ---- */

static void test_rfc9052_c21(void **state)
{
    /* RFC 9052 Appendix C.2.1 */
    static const char c21[] =
        "d28443a10126a10442313154546869732069732074686520636f6e74656e742e5840"
        "8eb33e4ca31d1c465ab05aac34cc6b23d58fef5c083106c4d25a91aef0b0117e"
        "2af9a291aa32e14ab834dc56ed2a223444547e01f11d3b0916e5a4c345cacb36";
    wb_key *k = pub_key(WB_ALG_ES256, key11_x, key11_y);
    size_t len;
    uint8_t *data = unhex(c21, &len);
    wb_cose_sign1 m;

    (void)state;
    assert_int_equal(decode_verify(c21, k), 0);
    assert_int_equal(wb_cose_sign1_decode(&m, data, len, WB_COSE_MAX), 0);
    assert_true(m.tagged);
    assert_int_equal(m.hdr.alg, WB_COSE_ALG_ES256);
    assert_int_equal(m.hdr.kid.len, 0); /* kid '11' is unprotected */
    assert_int_equal(m.unprotected_len, 5);
    assert_memory_equal(m.unprotected_raw, "\xa1\x04\x42\x31\x31", 5);
    assert_int_equal(m.payload_len, strlen(content));
    assert_memory_equal(m.payload, content, m.payload_len);
    assert_int_equal(m.sig_len, 64);
    /* any flipped signature bit fails */
    m.signature[10] ^= 0x04;
    {
        wb_cose_verifier v;
        assert_int_equal(wb_cose_verifier_for_key(&v, k), 0);
        assert_int_equal(wb_cose_sign1_verify(&m, &v, NULL, 0), WB_E_VERIFY);
        assert_non_null(strstr(wb_error_message(), "COSE_Sign1: ES256 signature does not "
                                                    "verify"));
    }
    wb_cose_sign1_cleanup(&m);
    wb_cose_sign1_cleanup(&m); /* harmless twice */
    free(data);
    wb_key_free(k);
}

static void test_cose_wg_sign1_tests(void **state)
{
    /* cose-wg/Examples sign1-tests */
    static const char pass03[] = /* untagged */
        "8443A10126A10442313154546869732069732074686520636F6E74656E742E5840"
        "EAE868ECC176883766C5DC5BA5B8DCA25DAB3C2E56A551CE5705B793914348E1"
        "9F43D6C6BA654472DA301B645B293C9BA939295B97C4BDB847782BFF384C5794";
    static const char pass01[] = /* alg only in the unprotected header */
        "D28441A0A201260442313154546869732069732074686520636F6E74656E742E5840"
        "EAE868ECC176883766C5DC5BA5B8DCA25DAB3C2E56A551CE5705B793914348E1"
        "1A02E5F0344BF2D4EE5C7FD75A68A9F5E0B3CC1F1FC1409C189566586FF9D610";
    static const char pass02[] = /* external AAD 11aa22bb33cc44dd55006699 */
        "D28443A10126A10442313154546869732069732074686520636F6E74656E742E5840"
        "EAE868ECC176883766C5DC5BA5B8DCA25DAB3C2E56A551CE5705B793914348E1"
        "55388B10C4F1B59A6733EAB416870A945111A4B2FBDBEF33A77234B1DEFF2F9B";
    static const char fail01[] = /* tag 998 */
        "D903E68443A10126A10442313154546869732069732074686520636F6E74656E742E5840"
        "EAE868ECC176883766C5DC5BA5B8DCA25DAB3C2E56A551CE5705B793914348E1"
        "9F43D6C6BA654472DA301B645B293C9BA939295B97C4BDB847782BFF384C5794";
    static const char fail02[] = /* payload changed */
        "D28443A10126A10442313154546869732069732074686520636F6E74656E742F5840"
        "EAE868ECC176883766C5DC5BA5B8DCA25DAB3C2E56A551CE5705B793914348E1"
        "9F43D6C6BA654472DA301B645B293C9BA939295B97C4BDB847782BFF384C5794";
    static const char fail03[] = /* alg -999 */
        "D28445A1013903E6A10442313154546869732069732074686520636F6E74656E742E5840"
        "EAE868ECC176883766C5DC5BA5B8DCA25DAB3C2E56A551CE5705B793914348E1"
        "9F43D6C6BA654472DA301B645B293C9BA939295B97C4BDB847782BFF384C5794";
    static const char fail04[] = /* alg "unknown" */
        "D2844AA10167756E6B6E6F776EA10442313154546869732069732074686520636F6E74656E742E"
        "5840EAE868ECC176883766C5DC5BA5B8DCA25DAB3C2E56A551CE5705B793914348E1"
        "9F43D6C6BA654472DA301B645B293C9BA939295B97C4BDB847782BFF384C5794";
    static const char fail06[] = /* content type added to the protected header */
        "D28445A201260300A10442313154546869732069732074686520636F6E74656E742E5840"
        "EAE868ECC176883766C5DC5BA5B8DCA25DAB3C2E56A551CE5705B793914348E1"
        "9F43D6C6BA654472DA301B645B293C9BA939295B97C4BDB847782BFF384C5794";
    static const char fail07[] = /* content type removed from the protected header */
        "D28443A10126A10442313154546869732069732074686520636F6E74656E742E5840"
        "EAE868ECC176883766C5DC5BA5B8DCA25DAB3C2E56A551CE5705B793914348E1"
        "72727F48461FABBBA2E343492DDECAC3983686250BC68E9F1A7A07D41225B59F";
    wb_key *k = pub_key(WB_ALG_ES256, key11_x, key11_y);

    (void)state;
    assert_int_equal(decode_verify(pass03, k), 0);
    /* waybill requires alg in the protected header and has no external AAD */
    assert_int_equal(decode_verify(pass01, k), WB_E_VERIFY);
    assert_non_null(strstr(wb_error_message(), "no alg (1) in the protected header"));
    assert_int_equal(decode_verify(pass02, k), WB_E_VERIFY);
    /* every failure case fails */
    decode_expect(fail01, WB_E_INVALID, "CBOR tag 998, want 18 (COSE_Sign1) or no tag");
    assert_int_equal(decode_verify(fail02, k), WB_E_VERIFY);
    assert_int_equal(decode_verify(fail03, k), WB_E_VERIFY);
    assert_non_null(strstr(wb_error_message(), "protected alg is -999 (unsupported) but the "
                                                "key is for -7 (ES256)"));
    decode_expect(fail04, WB_E_INVALID, "alg (1) is the text 'unknown'");
    assert_int_equal(decode_verify(fail06, k), WB_E_VERIFY);
    assert_int_equal(decode_verify(fail07, k), WB_E_VERIFY);
    wb_key_free(k);
}

static void test_sig_structure_bytes(void **state)
{
    /* sign-pass-03 intermediates.ToBeSign_hex */
    static const char tbs[] = "846A5369676E61747572653143A101264054546869732069732074686520"
                              "636F6E74656E742E";
    size_t len;
    uint8_t *want = unhex(tbs, &len);
    wb_buf b;

    (void)state;
    wb_buf_init(&b, 1024);
    wb_cose_sig_structure(&b, (const uint8_t *)"\xa1\x01\x26", 3, (const uint8_t *)content,
                          strlen(content));
    assert_int_equal(b.len, len);
    assert_memory_equal(b.data, want, len);
    wb_buf_cleanup(&b);
    free(want);
}

static void test_cose_wg_es384(void **state)
{
    /* ecdsa-examples/ecdsa-sig-02 */
    static const char sig02[] =
        "D28444A1013822A104445033383454546869732069732074686520636F6E74656E742E5860"
        "B8F85EFF78C88F5351CED2F1887B79B296490795594B62E41E22529BB90208B7"
        "D8CDDD4A46D0E9C986464D83D0A5D1EDF39B3E2C5750364230D0E8D76460D880"
        "8E76C83830FBBD1978CC174066EB437F17887979ECF027DCC9D51BAF6C4FD8C0";
    wb_key *k = pub_key(WB_ALG_ES384, keyp384_x, keyp384_y);
    wb_key *k256 = pub_key(WB_ALG_ES256, key11_x, key11_y);

    (void)state;
    assert_int_equal(decode_verify(sig02, k), 0);
    assert_int_equal(decode_verify(sig02, k256), WB_E_VERIFY);
    assert_non_null(strstr(wb_error_message(), "protected alg is -35 (ES384) but the key "
                                                "is for -7 (ES256)"));
    wb_key_free(k);
    wb_key_free(k256);
}

static void test_cose_wg_eddsa_reproduced(void **state)
{
    /* eddsa-examples/eddsa-sig-01: protected {1: -8, 3: 0}, unprotected {4: '11'} */
    static const char sig01[] =
        "D28445A201270300A10442313154546869732069732074686520636F6E74656E742E5840"
        "7142FD2FF96D56DB85BEE905A76BA1D0B7321A95C8C4D3607C5781932B7AFB87"
        "11497DFA751BF40B58B3BCC32300B1487F3DB34085EEF013BF08F4A44D6FEF0D";
    size_t len, seed_len;
    uint8_t *want = unhex(sig01, &len), *seed = unhex(ed_seed, &seed_len), *out;
    wb_key *pub = pub_key(WB_ALG_ED25519, ed_pub, NULL), *priv;
    wb_cose_signer s;
    wb_cose_headers h;
    size_t out_len;

    (void)state;
    assert_int_equal(decode_verify(sig01, pub), 0);
    assert_int_equal(wb_key_from_ed25519_seed(&priv, seed), 0);
    assert_int_equal(wb_cose_signer_for_key(&s, priv), 0);
    assert_int_equal(s.alg, WB_COSE_ALG_EDDSA);
    wb_cose_headers_init(&h);
    h.alg = WB_COSE_ALG_EDDSA;
    h.cty_int = 0;
    assert_int_equal(wb_cose_sign1_create(&out, &out_len, &h,
                                          (const uint8_t *)"\xa1\x04\x42\x31\x31", 5,
                                          (const uint8_t *)content, strlen(content), 0, &s),
                     0);
    assert_int_equal(out_len, len);
    assert_memory_equal(out, want, len);
    free(out);
    free(want);
    free(seed);
    wb_key_free(pub);
    wb_key_free(priv);
}

/* ---- decoding rules, one each ---- */

#define ES256_PROT "43a10126"

static void test_reject_trailing_bytes(void **state)
{
    (void)state;
    decode_expect("d284" ES256_PROT "a0 f6 40 00", WB_E_INVALID,
                  "COSE_Sign1: 1 trailing bytes after the CBOR item");
}

static void test_reject_indefinite(void **state)
{
    (void)state;
    decode_expect("d29f" ES256_PROT "a0f640ff", WB_E_INVALID,
                  "COSE_Sign1: indefinite-length array at byte 1");
    decode_expect("d284" ES256_PROT "bfff f6 40", WB_E_INVALID,
                  "indefinite-length map at byte 6");
    decode_expect("d284" ES256_PROT "a0 5f4100ff 40", WB_E_INVALID,
                  "indefinite-length byte string at byte 7");
    /* inside the protected bucket */
    decode_expect("d284 44 bf0126ff a0 f6 40", WB_E_INVALID,
                  "COSE_Sign1: protected header: indefinite-length map at byte 0");
}

static void test_reject_duplicate_keys(void **state)
{
    (void)state;
    decode_expect("d284 45a2012601 26 a0f640", WB_E_INVALID,
                  "COSE_Sign1: protected header: map key 1 appears twice");
    decode_expect("d284 49a3 0126 0441 31 1804 40 a0 f6 40", WB_E_INVALID,
                  "COSE_Sign1: protected header: map key 4 appears twice");
    decode_expect("d284" ES256_PROT "a2 04 4131 04 4132 f6 40", WB_E_INVALID,
                  "COSE_Sign1: map key 4 appears twice in [1]");
    decode_expect("d284 4aa2 0126 0fa2 0161 61 0100 a0 f6 40", WB_E_INVALID,
                  "map key 1 appears twice in [15]");
}

static void test_reject_over_limit(void **state)
{
    size_t len;
    uint8_t *data = unhex("d284" ES256_PROT "a0 f6 40", &len);
    wb_cose_sign1 m;

    (void)state;
    assert_int_equal(wb_cose_sign1_decode(&m, data, len, len - 1), WB_E_LIMIT);
    assert_string_equal(wb_error_message(), "COSE_Sign1: 9 bytes, over the 8-byte limit");
    assert_int_equal(wb_cose_sign1_decode(&m, data, len, len), 0);
    wb_cose_sign1_cleanup(&m);
    free(data);
    /* max above WB_COSE_MAX counts as WB_COSE_MAX */
    data = calloc(1, (size_t)WB_COSE_MAX + 1);
    assert_non_null(data);
    assert_int_equal(wb_cose_sign1_decode(&m, data, (size_t)WB_COSE_MAX + 1, SIZE_MAX),
                     WB_E_LIMIT);
    free(data);
}

static void test_reject_wrong_structure(void **state)
{
    (void)state;
    decode_expect("d862 84" ES256_PROT "a0f640", WB_E_INVALID, "CBOR tag 98, want 18");
    decode_expect("d2 a0", WB_E_INVALID, "COSE_Sign1 is a map, want an array of 4");
    decode_expect("d2 d2 84" ES256_PROT "a0f640", WB_E_INVALID,
                  "COSE_Sign1 is a tagged item, want an array of 4");
    decode_expect("d283" ES256_PROT "a0f6", WB_E_INVALID, "COSE_Sign1 is an array of 3, want 4");
    decode_expect("85" ES256_PROT "a0f64040", WB_E_INVALID, "array of 5, want 4");
    decode_expect("d284 a0 a0 f6 40", WB_E_INVALID,
                  "COSE_Sign1: protected header is a map, want a byte string");
    decode_expect("d284 4101 a0 f6 40", WB_E_INVALID,
                  "COSE_Sign1: protected header is an unsigned integer, want a map");
    decode_expect("d284 44a1012600 a0 f6 40", WB_E_INVALID,
                  "COSE_Sign1: protected header: 1 trailing bytes");
    decode_expect("d284" ES256_PROT "80 f6 40", WB_E_INVALID,
                  "COSE_Sign1: unprotected header is an array, want a map");
    decode_expect("d284" ES256_PROT "a0 60 40", WB_E_INVALID,
                  "COSE_Sign1: payload is a text string, want a byte string or nil");
    decode_expect("d284" ES256_PROT "a0 f7 40", WB_E_INVALID,
                  "payload is undefined, want a byte string or nil");
    /* libcbor 0.8 asserts if asked whether a float is nil: it is never asked */
    decode_expect("d284" ES256_PROT "a0 fa3f800000 40", WB_E_INVALID,
                  "payload is a float, want a byte string or nil");
    decode_expect("d284" ES256_PROT "a0 f93c00 40", WB_E_INVALID, "payload is a float");
    decode_expect("d284" ES256_PROT "a0 f6 f6", WB_E_INVALID,
                  "COSE_Sign1: signature is nil, want a byte string");
}

static void test_empty_protected_forms(void **state)
{
    size_t len;
    uint8_t *data;
    wb_cose_sign1 m;

    (void)state;
    /* a zero-length bstr and an encoded empty map both mean "nothing" */
    data = unhex("84 40 a0 f6 40", &len);
    assert_int_equal(wb_cose_sign1_decode(&m, data, len, 100), 0);
    assert_false(m.tagged);
    assert_int_equal(m.protected_len, 0);
    assert_non_null(m.protected_raw);
    assert_int_equal(m.hdr.alg, 0);
    assert_int_equal(m.hdr.cty_int, -1);
    assert_true(m.detached);
    assert_null(m.payload);
    assert_int_equal(m.sig_len, 0);
    wb_cose_sign1_cleanup(&m);
    free(data);
    data = unhex("84 41a0 a0 40 40", &len);
    assert_int_equal(wb_cose_sign1_decode(&m, data, len, 100), 0);
    assert_int_equal(m.protected_len, 1);
    assert_false(m.detached);
    assert_int_equal(m.payload_len, 0);
    assert_non_null(m.payload);
    wb_cose_sign1_cleanup(&m);
    free(data);
}

static void test_crit_rules(void **state)
{
    size_t len;
    uint8_t *data;
    wb_cose_sign1 m;

    (void)state;
    /* crit naming understood labels that are present: fine */
    data = unhex("d284 4ca3 0126 028201 18 21 1821 41 00 a0 f6 40", &len);
    if (wb_cose_sign1_decode(&m, data, len, 100) != 0)
        fail_msg("%s", wb_error_message());
    assert_int_equal(m.hdr.ncrit, 2);
    assert_int_equal(m.hdr.crit[0], 1);
    assert_int_equal(m.hdr.crit[1], 33);
    assert_int_equal(m.hdr.nx5chain, 1);
    wb_cose_sign1_cleanup(&m);
    free(data);

    hdr_expect("a3 0126 02811863 1863 00", "a0", WB_E_INVALID,
               "COSE_Sign1: protected header: crit (2) lists header 99, which waybill does "
               "not understand");
    hdr_expect("a3 0126 02816178 6178 00", "a0", WB_E_INVALID,
               "crit (2) lists header \"x\", which waybill does not understand");
    hdr_expect("a2 0126 0280", "a0", WB_E_INVALID, "crit (2) is empty");
    hdr_expect("a2 0126 0281 04", "a0", WB_E_INVALID,
               "crit (2) lists header 4, which is not in the protected header");
    hdr_expect("a2 0126 02 01", "a0", WB_E_INVALID, "crit (2) is an unsigned integer, want an "
                                                   "array of labels");
    hdr_expect("a2 0126 0281 40", "a0", WB_E_INVALID, "crit (2) element 0 is a byte string");
    hdr_expect("a2 0126 0291 01010101010101010101010101010101 01", "a0", WB_E_LIMIT,
               "crit (2) lists 17 labels, over the limit of 16");
    hdr_expect("a1 0126", "a1 0281 01", WB_E_INVALID,
               "COSE_Sign1: crit (2) is in the unprotected header; it must be protected");
}

static void test_bucket_rules(void **state)
{
    (void)state;
    hdr_expect("a1 0126", "a1 0126", WB_E_INVALID,
               "COSE_Sign1: header 1 is in both the protected and the unprotected header");
    hdr_expect("a2 0126 6178 00", "a1 6178 00", WB_E_INVALID,
               "header \"x\" is in both the protected and the unprotected header");
    hdr_expect("a2 0126 4100 00", "a0", WB_E_INVALID,
               "protected header: header label is a byte string, want an integer or text");
    hdr_expect("a1 0126", "a1 4100 00", WB_E_INVALID,
               "unprotected header label is a byte string");
    /* text labels and unknown integer labels are fine and ignored */
    hdr_expect("a3 0126 6178 00 1903e8 00", "a2 6179 00 3903e7 00", 0, NULL);
}

static void test_alg_rules(void **state)
{
    (void)state;
    hdr_expect("a1 0140", "a0", WB_E_INVALID,
               "protected header: alg (1) is a byte string, want an integer");
    hdr_expect("a1 01 6545533235 36", "a0", WB_E_INVALID, "alg (1) is the text 'ES256'");
    hdr_expect("a1 0100", "a0", WB_E_INVALID, "alg (1) is 0, a reserved value");
    hdr_expect("a1 01 1b8000000000000000", "a0", WB_E_INVALID,
               "alg (1) is an unsigned integer, want an integer");
}

static void test_kid_rules(void **state)
{
    char prot[1200];
    size_t o;

    (void)state;
    hdr_expect("a2 0126 0401", "a0", WB_E_INVALID,
               "protected header: kid (4) is an unsigned integer, want a byte string");
    hdr_expect("a2 0126 046131", "a0", WB_E_INVALID,
               "kid (4) is a text string, want a byte string");
    hdr_expect("a2 0126 0440", "a0", WB_E_INVALID, "kid (4) is empty");
    /* 256 bytes is the limit */
    o = (size_t)snprintf(prot, sizeof(prot), "a2 0126 04 590100");
    for (int i = 0; i < 256; i++)
        o += (size_t)snprintf(prot + o, sizeof(prot) - o, "6b");
    {
        char hex[1400];
        /* 1+2 (map, alg) + 1 (label) + 3 (bstr head) + 256 */
        snprintf(hex, sizeof(hex), "d284 59%04x %s a0 f6 40", 1 + 2 + 1 + 3 + 256, prot);
        decode_expect(hex, 0, NULL);
        o = (size_t)snprintf(prot, sizeof(prot), "a2 0126 04 590101");
        for (int i = 0; i < 257; i++)
            o += (size_t)snprintf(prot + o, sizeof(prot) - o, "6b");
        snprintf(hex, sizeof(hex), "d284 59%04x %s a0 f6 40", 1 + 2 + 1 + 3 + 257, prot);
        decode_expect(hex, WB_E_LIMIT, "kid (4) is 257 bytes, over the 256-byte limit");
    }
}

static void test_cty_rules(void **state)
{
    size_t len;
    uint8_t *data;
    wb_cose_sign1 m;

    (void)state;
    hdr_expect("a2 0126 0320", "a0", WB_E_INVALID,
               "content type (3) is a negative integer, want a text string or a CoAP "
               "Content-Format number");
    hdr_expect("a2 0126 031a00010000", "a0", WB_E_INVALID, "content type (3) is an unsigned");
    hdr_expect("a2 0126 03 6b746578742f706c61696e20", "a0", WB_E_INVALID,
               "content type (3) 'text/plain ' is not a media type");
    hdr_expect("a2 0126 03 6474657874", "a0", WB_E_INVALID, "'text' is not a media type");
    hdr_expect("a2 0126 03 60", "a0", WB_E_INVALID, "'' is not a media type");
    hdr_expect("a2 0126 03 63612f00", "a0", WB_E_INVALID,
               "content type (3) holds a NUL character");
    data = unhex("d284 46a2012603 1832 a0 f6 40", &len);
    assert_int_equal(wb_cose_sign1_decode(&m, data, len, 100), 0);
    assert_null(m.hdr.cty);
    assert_int_equal(m.hdr.cty_int, 50);
    wb_cose_sign1_cleanup(&m);
    free(data);
}

static void test_x5chain_rules(void **state)
{
    size_t len;
    uint8_t *data;
    wb_cose_sign1 m;

    (void)state;
    data = unhex("d284 4da2 0126 1821 83 4101 4202 02 4103 a0 f6 40", &len);
    if (wb_cose_sign1_decode(&m, data, len, 100) != 0)
        fail_msg("%s", wb_error_message());
    assert_int_equal(m.hdr.nx5chain, 3);
    assert_int_equal(m.hdr.x5chain[1].len, 2);
    assert_memory_equal(m.hdr.x5chain[1].ptr, "\x02\x02", 2);
    wb_cose_sign1_cleanup(&m);
    free(data);

    hdr_expect("a2 0126 1821 01", "a0", WB_E_INVALID,
               "x5chain (33) is an unsigned integer, want a byte string or an array");
    hdr_expect("a2 0126 1821 80", "a0", WB_E_INVALID, "x5chain (33) is an empty array");
    hdr_expect("a2 0126 1821 82 4101 6101", "a0", WB_E_INVALID,
               "x5chain (33) element 1 is a text string, want a byte string");
    hdr_expect("a2 0126 1821 40", "a0", WB_E_INVALID, "x5chain (33) element 0 is empty");
    hdr_expect("a2 0126 1821 89 410141014101410141014101410141014101", "a0", WB_E_LIMIT,
               "x5chain (33) has 9 certificates, over the limit of 8");
    hdr_expect("a2 0126 1821 88 41014101410141014101410141014101", "a0", 0, NULL);
}

static void test_x5chain_cert_limit(void **state)
{
    /* one certificate of WB_COSE_CERT_MAX + 1 bytes */
    size_t n = WB_COSE_CERT_MAX + 1, plen = 1 + 2 + 2 + 3 + n;
    size_t len = 2 + 3 + plen + 3;
    uint8_t *d = calloc(1, len), *p = d;
    wb_cose_sign1 m;

    (void)state;
    assert_non_null(d);
    *p++ = 0xd2;
    *p++ = 0x84;
    *p++ = 0x59;
    *p++ = (uint8_t)(plen >> 8);
    *p++ = (uint8_t)plen;
    memcpy(p, "\xa2\x01\x26\x18\x21\x59", 6);
    p += 6;
    *p++ = (uint8_t)(n >> 8);
    *p++ = (uint8_t)n;
    p += n;
    memcpy(p, "\xa0\xf6\x40", 3);
    assert_int_equal(wb_cose_sign1_decode(&m, d, len, WB_COSE_MAX), WB_E_LIMIT);
    assert_non_null(strstr(wb_error_message(), "x5chain (33) element 0 is 16385 bytes, over "
                                               "the 16384-byte limit"));
    free(d);
}

static void test_cwt_rules(void **state)
{
    size_t len;
    uint8_t *data;
    wb_cose_sign1 m;

    (void)state;
    /* iat plain and tagged 1, private claims left alone */
    data = unhex("d284 58 19 a2 0126 0f a4 0161 61 0262 6162 06c1 1a6949b3ff 6373766e 1868"
                 " a0 f6 40",
                 &len);
    if (wb_cose_sign1_decode(&m, data, len, 100) != 0)
        fail_msg("%s", wb_error_message());
    assert_true(m.hdr.has_cwt);
    assert_string_equal(m.hdr.iss, "a");
    assert_string_equal(m.hdr.sub, "ab");
    assert_int_equal(m.hdr.iat, 1766437887);
    wb_cose_sign1_cleanup(&m);
    free(data);
    hdr_expect("a2 0126 0fa1 06 3a000f423f", "a0", 0, NULL); /* negative iat: an int */

    hdr_expect("a2 0126 0f80", "a0", WB_E_INVALID,
               "protected header: CWT claims (15) is an array, want a map");
    hdr_expect("a2 0126 0fa1 0101", "a0", WB_E_INVALID,
               "CWT claim iss (15/1) is an unsigned integer, want a text string");
    hdr_expect("a2 0126 0fa1 0241 61", "a0", WB_E_INVALID,
               "CWT claim sub (15/2) is a byte string, want a text string");
    hdr_expect("a2 0126 0fa1 0262 6100", "a0", WB_E_INVALID,
               "CWT claim sub (15/2) holds a NUL character");
    hdr_expect("a2 0126 0fa1 0661 31", "a0", WB_E_INVALID,
               "CWT claim iat (15/6) is a text string, want an integer");
    hdr_expect("a2 0126 0fa1 06c1 fb41da5a4dbffc0000", "a0", WB_E_INVALID,
               "CWT claim iat (15/6) is a float, want an integer");
    hdr_expect("a2 0126 0fa1 06c0 61 31", "a0", WB_E_INVALID,
               "CWT claim iat (15/6) is a tagged item");
    hdr_expect("a2 0126 0fa1 4100 00", "a0", WB_E_INVALID,
               "CWT claims (15) key is a byte string, want an integer or text");
}

static void test_cwt_text_limit(void **state)
{
    (void)state;
    /* iss of 1024 bytes is fine, 1025 is not */
    for (size_t n = 1024; n <= 1025; n++) {
        size_t plen = 1 + 2 + 1 + 1 + 1 + 3 + n, len = 2 + 3 + plen + 3;
        uint8_t *d = calloc(1, len), *p = d;
        wb_cose_sign1 m;
        int rc;
        assert_non_null(d);
        memcpy(p, "\xd2\x84\x59", 3);
        p += 3;
        *p++ = (uint8_t)(plen >> 8);
        *p++ = (uint8_t)plen;
        memcpy(p, "\xa2\x01\x26\x0f\xa1\x01\x79", 7);
        p += 7;
        *p++ = (uint8_t)(n >> 8);
        *p++ = (uint8_t)n;
        memset(p, 'i', n);
        p += n;
        memcpy(p, "\xa0\xf6\x40", 3);
        rc = wb_cose_sign1_decode(&m, d, len, WB_COSE_MAX);
        if (n == 1024) {
            assert_int_equal(rc, 0);
            assert_int_equal(strlen(m.hdr.iss), 1024);
            wb_cose_sign1_cleanup(&m);
        } else {
            assert_int_equal(rc, WB_E_LIMIT);
            assert_non_null(strstr(wb_error_message(), "CWT claim iss (15/1) is 1025 bytes, "
                                                       "over the 1024-byte limit"));
        }
        free(d);
    }
}

static void test_vds_rules(void **state)
{
    size_t len;
    uint8_t *data;
    wb_cose_sign1 m;

    (void)state;
    hdr_expect("a2 0126 19018b 6131", "a0", WB_E_INVALID,
               "vds (395) is a text string, want an integer");
    hdr_expect("a2 0126 19018b 00", "a0", WB_E_INVALID, "vds (395) is 0, a reserved value");
    data = unhex("d284 47a2 0126 19018b 02 a0 f6 40", &len);
    assert_int_equal(wb_cose_sign1_decode(&m, data, len, 100), 0);
    assert_int_equal(m.hdr.vds, 2);
    wb_cose_sign1_cleanup(&m);
    free(data);
}

static void test_nesting_in_unprotected(void **state)
{
    (void)state;
    /* tag, array, map, then 14 more arrays: the 17th level */
    decode_expect("d284" ES256_PROT "a1 00 818181818181818181818181 80 f6 40", 0, NULL);
    decode_expect("d284" ES256_PROT "a1 00 81818181818181818181818181 80 f6 40", WB_E_LIMIT,
                  "nested deeper than 16 levels");
}

/* ---- create and verify ---- */

static void test_round_trip_all_algs(void **state)
{
    static const wb_alg algs[] = {WB_ALG_ES256, WB_ALG_ES384, WB_ALG_ED25519};
    static const uint8_t cert1[] = {0x30, 0x01, 0x02}, cert2[] = {0x30, 0x03};

    (void)state;
    for (size_t a = 0; a < 3; a++) {
        for (int detached = 0; detached < 2; detached++) {
            wb_key *k, *other;
            wb_cose_signer s;
            wb_cose_verifier v, vo;
            wb_cose_headers h;
            wb_cose_sign1 m;
            uint8_t *out;
            size_t len;

            assert_int_equal(wb_key_generate(&k, algs[a]), 0);
            assert_int_equal(wb_key_generate(&other, algs[a]), 0);
            assert_int_equal(wb_cose_signer_for_key(&s, k), 0);
            assert_int_equal(wb_cose_verifier_for_key(&v, k), 0);
            assert_int_equal(wb_cose_verifier_for_key(&vo, other), 0);
            wb_cose_headers_init(&h);
            h.alg = s.alg;
            h.cty = "application/vnd.waybill.manifest+json";
            h.kid.ptr = (const uint8_t *)"kid-1";
            h.kid.len = 5;
            h.has_cwt = 1;
            h.iss = "did:example:acme";
            h.sub = "device/42";
            h.iat = 1700000000;
            h.x5chain[0].ptr = cert1;
            h.x5chain[0].len = sizeof(cert1);
            h.x5chain[1].ptr = cert2;
            h.x5chain[1].len = sizeof(cert2);
            h.nx5chain = 2;
            h.crit[0] = WB_COSE_HDR_CWT;
            h.ncrit = 1;
            if (wb_cose_sign1_create(&out, &len, &h, NULL, 0, (const uint8_t *)content,
                                     strlen(content), detached, &s) != 0)
                fail_msg("create: %s", wb_error_message());
            if (wb_cose_sign1_decode(&m, out, len, WB_COSE_MAX) != 0)
                fail_msg("decode: %s", wb_error_message());
            assert_true(m.tagged);
            assert_int_equal(m.detached, detached);
            assert_int_equal(m.hdr.alg, s.alg);
            assert_string_equal(m.hdr.cty, h.cty);
            assert_int_equal(m.hdr.kid.len, 5);
            assert_memory_equal(m.hdr.kid.ptr, "kid-1", 5);
            assert_string_equal(m.hdr.iss, h.iss);
            assert_string_equal(m.hdr.sub, h.sub);
            assert_int_equal(m.hdr.iat, h.iat);
            assert_int_equal(m.hdr.nx5chain, 2);
            assert_memory_equal(m.hdr.x5chain[1].ptr, cert2, sizeof(cert2));
            assert_int_equal(m.hdr.ncrit, 1);
            assert_int_equal(m.unprotected_len, 1);
            assert_int_equal(m.sig_len, wb_alg_sig_len(algs[a]));
            if (detached) {
                assert_int_equal(wb_cose_sign1_verify(&m, &v, (const uint8_t *)content,
                                                      strlen(content)),
                                 0);
                assert_int_equal(wb_cose_sign1_verify(&m, &v, (const uint8_t *)content,
                                                      strlen(content) - 1),
                                 WB_E_VERIFY);
                assert_int_equal(wb_cose_sign1_verify(&m, &v, NULL, 0), WB_E_VERIFY);
            } else {
                assert_int_equal(wb_cose_sign1_verify(&m, &v, NULL, 0), 0);
                assert_int_equal(wb_cose_sign1_verify(&m, &v, (const uint8_t *)"x", 1),
                                 WB_E_INVALID);
                assert_non_null(strstr(wb_error_message(), "payload is attached"));
            }
            assert_int_equal(wb_cose_sign1_verify(&m, &vo, detached ? (const uint8_t *)content
                                                                    : NULL,
                                                  detached ? strlen(content) : 0),
                             WB_E_VERIFY);
            wb_cose_sign1_cleanup(&m);
            /* every byte of the message matters */
            for (size_t pos = 0; pos < len; pos++) {
                int rc;
                out[pos] ^= 0x01;
                rc = wb_cose_sign1_decode(&m, out, len, WB_COSE_MAX);
                if (rc == 0) {
                    rc = wb_cose_sign1_verify(&m, &v,
                                              m.detached ? (const uint8_t *)content : NULL,
                                              m.detached ? strlen(content) : 0);
                    wb_cose_sign1_cleanup(&m);
                }
                out[pos] ^= 0x01;
                if (rc == 0)
                    fail_msg("%s: byte %zu flipped still verifies", wb_alg_name(algs[a]), pos);
            }
            free(out);
            wb_key_free(k);
            wb_key_free(other);
        }
    }
}

static void test_create_refusals(void **state)
{
    wb_key *k;
    wb_cose_signer s;
    wb_cose_headers h;
    uint8_t *out;
    size_t len;

    (void)state;
    assert_int_equal(wb_key_generate(&k, WB_ALG_ES256), 0);
    assert_int_equal(wb_cose_signer_for_key(&s, k), 0);
    wb_cose_headers_init(&h);
    assert_int_equal(wb_cose_sign1_create(&out, &len, &h, NULL, 0, NULL, 0, 0, &s),
                     WB_E_INVALID);
    assert_string_equal(wb_error_message(), "COSE_Sign1: the protected header has no alg");
    h.alg = WB_COSE_ALG_ES384;
    assert_int_equal(wb_cose_sign1_create(&out, &len, &h, NULL, 0, NULL, 0, 0, &s),
                     WB_E_INVALID);
    assert_string_equal(wb_error_message(), "COSE_Sign1: protected alg -35 (ES384) but the "
                                            "signer is -7 (ES256)");
    h.alg = WB_COSE_ALG_ES256;
    assert_int_equal(wb_cose_sign1_create(&out, &len, &h, (const uint8_t *)"\x80", 1, NULL, 0,
                                          0, &s),
                     WB_E_INVALID);
    assert_string_equal(wb_error_message(), "COSE_Sign1: unprotected header is an array, "
                                            "want a map");
    assert_int_equal(wb_cose_sign1_create(&out, &len, &h, (const uint8_t *)"\xa1\x01", 2, NULL,
                                          0, 0, &s),
                     WB_E_INVALID);
    /* a caller's unprotected map goes through as given */
    assert_int_equal(wb_cose_sign1_create(&out, &len, &h, (const uint8_t *)"\xa1\x04\x41\x6b",
                                          4, NULL, 0, 0, &s),
                     0);
    {
        wb_cose_sign1 m;
        wb_cose_verifier v;
        assert_int_equal(wb_cose_sign1_decode(&m, out, len, len), 0);
        assert_int_equal(m.unprotected_len, 4);
        assert_int_equal(m.payload_len, 0);
        assert_int_equal(wb_cose_verifier_for_key(&v, k), 0);
        assert_int_equal(wb_cose_sign1_verify(&m, &v, NULL, 0), 0);
        wb_cose_sign1_cleanup(&m);
    }
    free(out);
    /* a public key cannot sign */
    {
        wb_key *pub;
        assert_int_equal(wb_key_public_copy(&pub, k), 0);
        assert_int_equal(wb_cose_signer_for_key(&s, pub), WB_E_INVALID);
        wb_key_free(pub);
    }
    wb_key_free(k);
}

static void test_protected_encoding(void **state)
{
    wb_cose_headers h;
    uint8_t *out;
    size_t len, wlen;
    uint8_t *want;

    (void)state;
    wb_cose_headers_init(&h);
    assert_int_equal(wb_cose_protected_encode(&out, &len, &h), 0);
    assert_int_equal(len, 0); /* the empty bucket */
    free(out);

    /* keys in deterministic order: 1, 3, 4, 15, 33, 395 */
    h.alg = -7;
    h.cty = "a/b";
    h.kid.ptr = (const uint8_t *)"k";
    h.kid.len = 1;
    h.iss = "i";
    h.iat = 24;
    h.x5chain[0].ptr = (const uint8_t *)"\x30";
    h.x5chain[0].len = 1;
    h.nx5chain = 1;
    h.vds = 1;
    assert_int_equal(wb_cose_protected_encode(&out, &len, &h), 0);
    want = unhex("a6 0126 0363612f62 04416b 0fa2 016169 061818 1821 4130 19018b 01", &wlen);
    assert_int_equal(len, wlen);
    assert_memory_equal(out, want, len);
    free(out);
    free(want);

    /* a zeroed struct says content type 0: wb_cose_headers_init avoids that */
    memset(&h, 0, sizeof(h));
    h.alg = -8;
    assert_int_equal(wb_cose_protected_encode(&out, &len, &h), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(out, "\xa2\x01\x27\x03\x00", 5);
    free(out);

    h.nx5chain = 9;
    assert_int_equal(wb_cose_protected_encode(&out, &len, &h), WB_E_LIMIT);
}

static void test_alg_mapping(void **state)
{
    (void)state;
    assert_int_equal(wb_cose_alg_from_wb(WB_ALG_ES256), -7);
    assert_int_equal(wb_cose_alg_from_wb(WB_ALG_ES384), -35);
    assert_int_equal(wb_cose_alg_from_wb(WB_ALG_ED25519), -8);
    assert_int_equal(wb_cose_alg_from_wb(WB_ALG_NONE), 0);
    assert_int_equal(wb_cose_alg_to_wb(-7), WB_ALG_ES256);
    assert_int_equal(wb_cose_alg_to_wb(-35), WB_ALG_ES384);
    assert_int_equal(wb_cose_alg_to_wb(-8), WB_ALG_ED25519);
    assert_int_equal(wb_cose_alg_to_wb(-38), WB_ALG_NONE);
    assert_int_equal(wb_cose_alg_to_wb(0), WB_ALG_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc9052_c21),
        cmocka_unit_test(test_cose_wg_sign1_tests),
        cmocka_unit_test(test_sig_structure_bytes),
        cmocka_unit_test(test_cose_wg_es384),
        cmocka_unit_test(test_cose_wg_eddsa_reproduced),
        cmocka_unit_test(test_reject_trailing_bytes),
        cmocka_unit_test(test_reject_indefinite),
        cmocka_unit_test(test_reject_duplicate_keys),
        cmocka_unit_test(test_reject_over_limit),
        cmocka_unit_test(test_reject_wrong_structure),
        cmocka_unit_test(test_empty_protected_forms),
        cmocka_unit_test(test_crit_rules),
        cmocka_unit_test(test_bucket_rules),
        cmocka_unit_test(test_alg_rules),
        cmocka_unit_test(test_kid_rules),
        cmocka_unit_test(test_cty_rules),
        cmocka_unit_test(test_x5chain_rules),
        cmocka_unit_test(test_x5chain_cert_limit),
        cmocka_unit_test(test_cwt_rules),
        cmocka_unit_test(test_cwt_text_limit),
        cmocka_unit_test(test_vds_rules),
        cmocka_unit_test(test_nesting_in_unprotected),
        cmocka_unit_test(test_round_trip_all_algs),
        cmocka_unit_test(test_create_refusals),
        cmocka_unit_test(test_protected_encoding),
        cmocka_unit_test(test_alg_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
