/*
 * test_crypto.c: the crypto module (waybill/crypto.h). SHA-256/384 against
 * FIPS 180-2 Appendix B/D vectors, the Merkle fast path against the plain
 * hash, Ed25519 against RFC 8032 §7.1, ECDSA verification against RFC 6979
 * A.2.5 / A.2.6, sign/verify/tamper for every algorithm, PEM and file
 * round trips and rejects, raw public keys (including off-curve points), and
 * the strict DER <-> raw r‖s conversion.
 *
 * The spec vectors are short and kept inline, each next to the section it
 * comes from; the PEM fixtures at the end were made with the openssl
 * command-line tool from throwaway keys.
 */
#include "wbtest.h"

#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>

#include "waybill/crypto.h"
#include "waybill/error.h"

/* ---- helpers ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* decodes hex (either case) into out, failing the test unless it is n bytes */
static void unhex(uint8_t *out, size_t n, const char *hex)
{
    size_t len = strlen(hex);
    if (len != 2 * n)
        fail_msg("hex of %zu chars, want %zu bytes", len, n);
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            fail_msg("bad hex at %zu", 2 * i);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
}

static const wb_alg all_algs[] = {WB_ALG_ED25519, WB_ALG_ES256, WB_ALG_ES384};

/* ---- hashes (FIPS 180-2 Appendix B.1-B.3, D.1-D.3) ---- */

static const char fips_448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

static void test_sha256_fips180(void **state)
{
    (void)state;
    uint8_t out[WB_SHA256_LEN], want[WB_SHA256_LEN];
    char *million = malloc(1000000);
    wb_sha256_ctx *ctx;

    assert_non_null(million);
    memset(million, 'a', 1000000);

    assert_int_equal(wb_sha256(out, "abc", 3), 0);
    unhex(want, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_memory_equal(out, want, 32);

    assert_int_equal(wb_sha256(out, "", 0), 0);
    unhex(want, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_memory_equal(out, want, 32);
    assert_int_equal(wb_sha256(out, NULL, 0), 0);
    assert_memory_equal(out, want, 32);

    assert_int_equal(wb_sha256(out, fips_448, strlen(fips_448)), 0);
    unhex(want, 32, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    assert_memory_equal(out, want, 32);

    unhex(want, 32, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    assert_int_equal(wb_sha256(out, million, 1000000), 0);
    assert_memory_equal(out, want, 32);

    /* incremental, in uneven pieces */
    assert_int_equal(wb_sha256_new(&ctx), 0);
    for (size_t off = 0, step = 1; off < 1000000; off += step, step = step * 3 + 1) {
        size_t n = off + step > 1000000 ? 1000000 - off : step;
        assert_int_equal(wb_sha256_update(ctx, million + off, n), 0);
    }
    assert_int_equal(wb_sha256_final(ctx, out), 0);
    assert_memory_equal(out, want, 32);
    /* finished: update and final refuse until init */
    assert_int_equal(wb_sha256_update(ctx, "x", 1), WB_E_INVALID);
    assert_int_equal(wb_sha256_final(ctx, out), WB_E_INVALID);
    assert_int_equal(wb_sha256_init(ctx), 0);
    assert_int_equal(wb_sha256_update(ctx, "ab", 2), 0);
    assert_int_equal(wb_sha256_update(ctx, NULL, 0), 0);
    assert_int_equal(wb_sha256_update(ctx, "c", 1), 0);
    assert_int_equal(wb_sha256_final(ctx, out), 0);
    unhex(want, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_memory_equal(out, want, 32);
    wb_sha256_free(ctx);
    wb_sha256_free(NULL);
    free(million);
}

static void test_sha384_fips180(void **state)
{
    (void)state;
    uint8_t out[WB_SHA384_LEN], want[WB_SHA384_LEN];
    char *million = malloc(1000000);

    assert_non_null(million);
    memset(million, 'a', 1000000);

    assert_int_equal(wb_sha384(out, "abc", 3), 0);
    unhex(want, 48,
          "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
          "8086072ba1e7cc2358baeca134c825a7");
    assert_memory_equal(out, want, 48);

    assert_int_equal(wb_sha384(out, "", 0), 0);
    unhex(want, 48,
          "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da"
          "274edebfe76f65fbd51ad2f14898b95b");
    assert_memory_equal(out, want, 48);

    assert_int_equal(wb_sha384(out, fips_448, strlen(fips_448)), 0);
    unhex(want, 48,
          "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6"
          "b0455a8520bc4e6f5fe95b1fe3c8452b");
    assert_memory_equal(out, want, 48);

    assert_int_equal(wb_sha384(out, million, 1000000), 0);
    unhex(want, 48,
          "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b"
          "07b8b3dc38ecc4ebae97ddd87f3d8985");
    assert_memory_equal(out, want, 48);
    free(million);
}

static void test_sha256_prefixed(void **state)
{
    (void)state;
    uint64_t seed = wbt_seed("test_sha256_prefixed");
    uint8_t a[300], b[300], cat[601], out[32], want[32];
    static const int prefixes[] = {-1, 0, 1, 0x7f, 0xff};
    static const size_t lens[] = {0, 1, 31, 32, 33, 64, 95, 96, 150, 191, 192, 193, 300};

    for (size_t i = 0; i < sizeof(a); i++) {
        a[i] = (uint8_t)wbt_rand(&seed);
        b[i] = (uint8_t)wbt_rand(&seed);
    }
    for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++)
        for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
            for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
                size_t n = 0;
                if (prefixes[p] >= 0)
                    cat[n++] = (uint8_t)prefixes[p];
                memcpy(cat + n, a, lens[i]);
                n += lens[i];
                memcpy(cat + n, b, lens[j]);
                n += lens[j];
                assert_int_equal(wb_sha256(want, cat, n), 0);
                assert_int_equal(
                    wb_sha256_prefixed(out, prefixes[p], a, lens[i], b, lens[j]), 0);
                assert_memory_equal(out, want, 32);
            }

    /* RFC 9162 §2.1.1: the hash of an empty leaf is SHA-256(0x00) */
    assert_int_equal(wb_sha256_prefixed(out, 0, NULL, 0, NULL, 0), 0);
    unhex(want, 32, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    assert_memory_equal(out, want, 32);

    assert_int_equal(wb_sha256_prefixed(out, 256, a, 1, b, 1), WB_E_INVALID);
}

/* several threads hashing at once each get their own context */
struct hash_job {
    uint8_t tag;
    int ok;
};

static void *hash_thread(void *arg)
{
    struct hash_job *job = arg;
    uint8_t l[32], r[32], cat[65], out[32], want[32];

    job->ok = 1;
    memset(l, job->tag, sizeof(l));
    for (int i = 0; i < 2000; i++) {
        memset(r, (uint8_t)i, sizeof(r));
        cat[0] = 0x01;
        memcpy(cat + 1, l, 32);
        memcpy(cat + 33, r, 32);
        if (wb_sha256_prefixed(out, 1, l, 32, r, 32) != 0 || wb_sha256(want, cat, 65) != 0 ||
            memcmp(out, want, 32) != 0)
            job->ok = 0;
        memcpy(l, out, 32);
    }
    return NULL;
}

static void test_sha256_threads(void **state)
{
    (void)state;
    pthread_t th[8];
    struct hash_job jobs[8];

    for (int i = 0; i < 8; i++) {
        jobs[i].tag = (uint8_t)i;
        assert_int_equal(pthread_create(&th[i], NULL, hash_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_true(jobs[i].ok);
    }
}

static void test_random(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    assert_int_equal(wb_random_bytes(a, sizeof(a)), 0);
    assert_int_equal(wb_random_bytes(b, sizeof(b)), 0);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_int_equal(wb_random_bytes(a, 0), 0);
}

static void test_alg_names(void **state)
{
    (void)state;
    assert_string_equal(wb_alg_name(WB_ALG_ED25519), "Ed25519");
    assert_string_equal(wb_alg_name(WB_ALG_ES256), "ES256");
    assert_string_equal(wb_alg_name(WB_ALG_ES384), "ES384");
    assert_non_null(wb_alg_name(WB_ALG_NONE));
    assert_int_equal(wb_alg_from_name("Ed25519"), WB_ALG_ED25519);
    assert_int_equal(wb_alg_from_name("ES256"), WB_ALG_ES256);
    assert_int_equal(wb_alg_from_name("ES384"), WB_ALG_ES384);
    assert_int_equal(wb_alg_from_name("es256"), WB_ALG_NONE);
    assert_int_equal(wb_alg_from_name("RS256"), WB_ALG_NONE);
    assert_int_equal(wb_alg_from_name(NULL), WB_ALG_NONE);
    assert_int_equal(wb_alg_sig_len(WB_ALG_ED25519), 64);
    assert_int_equal(wb_alg_sig_len(WB_ALG_ES256), 64);
    assert_int_equal(wb_alg_sig_len(WB_ALG_ES384), 96);
    assert_int_equal(wb_alg_sig_len(WB_ALG_NONE), 0);
    assert_int_equal(wb_key_alg(NULL), WB_ALG_NONE);
    assert_int_equal(wb_key_is_private(NULL), 0);
    wb_key_free(NULL);
}

/* ---- Ed25519: RFC 8032 §7.1 ---- */

static const struct {
    const char *name, *seed, *pub, *msg, *sig;
} rfc8032[] = {
    {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3"
     "9701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3"
     "613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f"
     "760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
    {"TEST SHA(abc)", "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
     "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc"
     "7c66431e0303dca179c138ac17ad9bef1177331a704"},
};

static void test_ed25519_rfc8032(void **state)
{
    (void)state;
    for (size_t v = 0; v < sizeof(rfc8032) / sizeof(rfc8032[0]); v++) {
        uint8_t seed[32], pub[32], sig[64], msg[64], got[WB_SIG_MAX], raw[WB_PUBKEY_RAW_MAX];
        uint8_t seed2[32], *spki;
        size_t mlen = strlen(rfc8032[v].msg) / 2, glen, rlen = sizeof(raw), slen;
        wb_key *key, *pubkey;

        fprintf(stderr, "RFC 8032 %s\n", rfc8032[v].name);
        unhex(seed, 32, rfc8032[v].seed);
        unhex(pub, 32, rfc8032[v].pub);
        unhex(sig, 64, rfc8032[v].sig);
        unhex(msg, mlen, rfc8032[v].msg);

        assert_int_equal(wb_key_from_ed25519_seed(&key, seed), 0);
        assert_int_equal(wb_key_alg(key), WB_ALG_ED25519);
        assert_true(wb_key_is_private(key));
        assert_int_equal(wb_key_public_raw(key, raw, &rlen), 0);
        assert_int_equal(rlen, 32);
        assert_memory_equal(raw, pub, 32);

        assert_int_equal(wb_key_sign(key, got, &glen, msg, mlen), 0);
        assert_int_equal(glen, 64);
        assert_memory_equal(got, sig, 64);
        assert_int_equal(wb_key_verify(key, sig, 64, msg, mlen), 0);

        assert_int_equal(wb_key_ed25519_seed(key, seed2), 0);
        assert_memory_equal(seed2, seed, 32);

        /* the public key alone verifies; its SPKI is RFC 8410's */
        assert_int_equal(wb_key_from_public_raw(&pubkey, WB_ALG_ED25519, pub, 32), 0);
        assert_false(wb_key_is_private(pubkey));
        assert_int_equal(wb_key_verify(pubkey, sig, 64, msg, mlen), 0);
        sig[0] ^= 1;
        assert_int_equal(wb_key_verify(pubkey, sig, 64, msg, mlen), WB_E_VERIFY);
        assert_int_equal(ERR_peek_error(), 0);
        assert_int_equal(wb_key_ed25519_seed(pubkey, seed2), WB_E_INVALID);
        assert_int_equal(wb_key_spki_der(pubkey, &spki, &slen), 0);
        assert_int_equal(slen, 44);
        assert_memory_equal(spki, "\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00", 12);
        assert_memory_equal(spki + 12, pub, 32);
        free(spki);

        wb_key_free(pubkey);
        wb_key_free(key);
    }
}

/* ---- ECDSA: RFC 6979 A.2.5 (P-256) and A.2.6 (P-384), message "sample" ---- */

static const struct {
    const char *name;
    wb_alg alg;
    size_t n;
    const char *ux, *uy, *r, *s;
    const char *spki_prefix; /* RFC 5480 SPKI up to the BIT STRING's point */
} rfc6979[] = {
    {"A.2.5 P-256 SHA-256", WB_ALG_ES256, 32,
     "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6",
     "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299",
     "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
     "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8",
     "3059301306072a8648ce3d020106082a8648ce3d030107034200"},
    {"A.2.6 P-384 SHA-384", WB_ALG_ES384, 48,
     "EC3A4E415B4E19A4568618029F427FA5DA9A8BC4AE92E02E06AAE5286B300C64"
     "DEF8F0EA9055866064A254515480BC13",
     "8015D9B72D7D57244EA8EF9AC0C621896708A59367F9DFB9F54CA84B3F1C9DB1"
     "288B231C3AE0D4FE7344FD2533264720",
     "94EDBB92A5ECB8AAD4736E56C691916B3F88140666CE9FA73D64C4EA95AD133C"
     "81A648152E44ACF96E36DD1E80FABE46",
     "99EF4AEB15F178CEA1FE40DB2603138F130E740A19624526203B6351D0A3A94F"
     "A329C145786E679E7B82C71A38628AC8",
     "3076301006072a8648ce3d020106052b81040022036200"},
};

static void test_ecdsa_rfc6979_verify(void **state)
{
    (void)state;
    for (size_t v = 0; v < sizeof(rfc6979) / sizeof(rfc6979[0]); v++) {
        size_t n = rfc6979[v].n, plen = strlen(rfc6979[v].spki_prefix) / 2, slen;
        uint8_t point[WB_PUBKEY_RAW_MAX], raw[WB_PUBKEY_RAW_MAX], sig[WB_SIG_MAX];
        uint8_t prefix[32], *spki, der[128], back[WB_SIG_MAX];
        size_t rlen = sizeof(raw), dlen;
        wb_key *key;

        fprintf(stderr, "RFC 6979 %s\n", rfc6979[v].name);
        point[0] = 0x04;
        unhex(point + 1, n, rfc6979[v].ux);
        unhex(point + 1 + n, n, rfc6979[v].uy);
        unhex(sig, n, rfc6979[v].r);
        unhex(sig + n, n, rfc6979[v].s);
        unhex(prefix, plen, rfc6979[v].spki_prefix);

        assert_int_equal(wb_key_from_public_raw(&key, rfc6979[v].alg, point, 1 + 2 * n), 0);
        assert_int_equal(wb_key_alg(key), rfc6979[v].alg);
        assert_false(wb_key_is_private(key));
        assert_int_equal(wb_key_public_raw(key, raw, &rlen), 0);
        assert_int_equal(rlen, 1 + 2 * n);
        assert_memory_equal(raw, point, rlen);

        assert_int_equal(wb_key_verify(key, sig, 2 * n, "sample", 6), 0);
        assert_int_equal(wb_key_verify(key, sig, 2 * n, "sample", 5), WB_E_VERIFY);
        assert_int_equal(wb_key_verify(key, sig, 2 * n, "Sample", 6), WB_E_VERIFY);
        sig[n - 1] ^= 0x01; /* one bit of r */
        assert_int_equal(wb_key_verify(key, sig, 2 * n, "sample", 6), WB_E_VERIFY);
        sig[n - 1] ^= 0x01;
        sig[n] ^= 0x80; /* one bit of s */
        assert_int_equal(wb_key_verify(key, sig, 2 * n, "sample", 6), WB_E_VERIFY);
        sig[n] ^= 0x80;
        assert_int_equal(ERR_peek_error(), 0);

        /* r and s both have their top bit set: DER pads each with 0x00 */
        assert_int_equal(wb_ecdsa_raw_to_der(der, sizeof(der), &dlen, sig, n), 0);
        assert_int_equal(dlen, 2 + 2 * (3 + n));
        assert_int_equal(der[0], 0x30);
        assert_int_equal(der[1], 2 * (3 + n));
        assert_int_equal(der[2], 0x02);
        assert_int_equal(der[3], n + 1);
        assert_int_equal(der[4], 0x00);
        assert_memory_equal(der + 5, sig, n);
        assert_int_equal(wb_ecdsa_der_to_raw(back, n, der, dlen), 0);
        assert_memory_equal(back, sig, 2 * n);

        /* SPKI is RFC 5480's named-curve form with the uncompressed point */
        assert_int_equal(wb_key_spki_der(key, &spki, &slen), 0);
        assert_int_equal(slen, plen + 1 + 2 * n);
        assert_memory_equal(spki, prefix, plen);
        assert_memory_equal(spki + plen, point, 1 + 2 * n);
        free(spki);
        wb_key_free(key);
    }
}

/* ---- every algorithm: generate, sign, verify, tamper ---- */

static void test_sign_verify_tamper(void **state)
{
    (void)state;
    static const char msg_text[] = "waybill entry 1042";
    for (size_t a = 0; a < 3; a++) {
        wb_alg alg = all_algs[a];
        uint8_t sig[WB_SIG_MAX], sig2[WB_SIG_MAX], msg[sizeof(msg_text) - 1];
        size_t slen, slen2, mlen = sizeof(msg);
        wb_key *key, *other, *pub;

        fprintf(stderr, "%s\n", wb_alg_name(alg));
        memcpy(msg, msg_text, mlen);
        assert_int_equal(wb_key_generate(&key, alg), 0);
        assert_int_equal(wb_key_alg(key), alg);
        assert_true(wb_key_is_private(key));
        assert_int_equal(wb_key_sign(key, sig, &slen, msg, mlen), 0);
        assert_int_equal(slen, wb_alg_sig_len(alg));
        assert_int_equal(wb_key_verify(key, sig, slen, msg, mlen), 0);

        /* every single-bit change of the signature or the message fails */
        for (size_t i = 0; i < slen * 8; i++) {
            sig[i / 8] ^= (uint8_t)(1u << (i % 8));
            assert_int_equal(wb_key_verify(key, sig, slen, msg, mlen), WB_E_VERIFY);
            sig[i / 8] ^= (uint8_t)(1u << (i % 8));
        }
        for (size_t i = 0; i < mlen * 8; i++) {
            msg[i / 8] ^= (uint8_t)(1u << (i % 8));
            assert_int_equal(wb_key_verify(key, sig, slen, msg, mlen), WB_E_VERIFY);
            msg[i / 8] ^= (uint8_t)(1u << (i % 8));
        }
        assert_int_equal(ERR_peek_error(), 0);
        assert_int_equal(wb_key_verify(key, sig, slen, msg, mlen), 0);

        /* wrong length: WB_E_VERIFY with a message saying so */
        assert_int_equal(wb_key_verify(key, sig, slen - 1, msg, mlen), WB_E_VERIFY);
        {
            char want[80];
            snprintf(want, sizeof(want), "%s signature is %zu bytes, want %zu",
                     wb_alg_name(alg), slen - 1, slen);
            assert_string_equal(wb_error_message(), want);
        }
        assert_int_equal(wb_key_verify(key, sig, 0, msg, mlen), WB_E_VERIFY);

        /* a different key of the same algorithm does not verify it */
        assert_int_equal(wb_key_generate(&other, alg), 0);
        assert_int_equal(wb_key_verify(other, sig, slen, msg, mlen), WB_E_VERIFY);

        /* the public copy verifies but cannot sign */
        assert_int_equal(wb_key_public_copy(&pub, key), 0);
        assert_false(wb_key_is_private(pub));
        assert_int_equal(wb_key_alg(pub), alg);
        assert_int_equal(wb_key_verify(pub, sig, slen, msg, mlen), 0);
        assert_int_equal(wb_key_sign(pub, sig2, &slen2, msg, mlen), WB_E_INVALID);

        /* the empty message */
        assert_int_equal(wb_key_sign(key, sig2, &slen2, NULL, 0), 0);
        assert_int_equal(wb_key_verify(pub, sig2, slen2, "", 0), 0);
        assert_int_equal(wb_key_verify(pub, sig2, slen2, "x", 1), WB_E_VERIFY);

        /* ECDSA signatures are randomized, Ed25519 ones are not */
        assert_int_equal(wb_key_sign(key, sig2, &slen2, msg, mlen), 0);
        if (alg == WB_ALG_ED25519)
            assert_memory_equal(sig, sig2, slen);
        else
            assert_memory_not_equal(sig, sig2, slen);
        assert_int_equal(wb_key_verify(pub, sig2, slen2, msg, mlen), 0);

        wb_key_free(pub);
        wb_key_free(other);
        wb_key_free(key);
    }
    {
        wb_key *key;
        assert_int_equal(wb_key_generate(&key, WB_ALG_NONE), WB_E_INVALID);
        assert_null(key);
    }
}

/* ---- PEM ---- */

/* a throwaway P-256 key in the forms the PEM reader must accept or refuse */
static const char pem_p256_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEDc8m77pjqYIOf4/qZIVvrCGs5gye\n"
    "/sPSGTqG2isWlfNGTj7DT2uXsbBWjtGIpV04fCa/ja9azcdnYb9guJzH5g==\n"
    "-----END PUBLIC KEY-----\n";
static const char pem_p256_compressed[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgACDc8m77pjqYIOf4/qZIVvrCGs5gye\n"
    "/sPSGTqG2isWlfM=\n"
    "-----END PUBLIC KEY-----\n";
static const char pem_p256_explicit[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBSzCCAQMGByqGSM49AgEwgfcCAQEwLAYHKoZIzj0BAQIhAP////8AAAABAAAA\n"
    "AAAAAAAAAAAA////////////////MFsEIP////8AAAABAAAAAAAAAAAAAAAA////\n"
    "///////////8BCBaxjXYqjqT57PrvVV2mIa8ZR0GsMxTsPY7zjw+J9JgSwMVAMSd\n"
    "NgiG5wSTamZ44ROdJreBn36QBEEEaxfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5\n"
    "RdiYwpZP40Li/hp/m47n60p8D54WK84zV2sxXs7LtkBoN79R9QIhAP////8AAAAA\n"
    "//////////+85vqtpxeehPO5ysL8YyVRAgEBA0IABA3PJu+6Y6mCDn+P6mSFb6wh\n"
    "rOYMnv7D0hk6htorFpXzRk4+w09rl7GwVo7RiKVdOHwmv42vWs3HZ2G/YLicx+Y=\n"
    "-----END PUBLIC KEY-----\n";
static const char pem_p256_legacy[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIBtXGQ571aDSSuWIeuIzeI+v4aVealYDDS920qjvsY2goAoGCCqGSM49\n"
    "AwEHoUQDQgAEDc8m77pjqYIOf4/qZIVvrCGs5gye/sPSGTqG2isWlfNGTj7DT2uX\n"
    "sbBWjtGIpV04fCa/ja9azcdnYb9guJzH5g==\n"
    "-----END EC PRIVATE KEY-----\n";
static const char pem_rsa_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAMq1KXBuXktg2JcajYF8E6/xsnyPVDo9\n"
    "60alEaPE7ZwqZtfFTr8cp4SdhmbWBRBbOo4mY3SrdyiT2mIGegSDi4UCAwEAAQ==\n"
    "-----END PUBLIC KEY-----\n";
static const char pem_p521_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQAaYl8ZQ6NoqdlLOCFhw1in3gFPbGY\n"
    "czVc8KJ5dI+84fz7+HtgwqF6ph794jpLNZDa13QU6Wb9YWMvWJ3RkvIKZsUA90jN\n"
    "OE38R81UQ1EVL9iYkp7yTxb58bJIVfSecARU4MK7ac3gyHps0EpQtt5dzRXr6axo\n"
    "ECQUGFAVOsDz5dOXu4U=\n"
    "-----END PUBLIC KEY-----\n";
static const char pem_secp256k1_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAE8TkVBQnbgwKD8jd2hpRKI+F8aSRrw1RN\n"
    "3OtwcFvAQxZh6ym+Dc45OC8vTv9BhOfx6R5yp4EJGQBP4tyZ+jTI4Q==\n"
    "-----END PUBLIC KEY-----\n";
static const char pem_x25519_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VuAyEAiGZuQ1KQpXB+JpgOt1STVgJm+L1t21sP0LcdwWZyMEQ=\n"
    "-----END PUBLIC KEY-----\n";
static const char pem_ed448_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MEMwBQYDK2VxAzoAcyolWJ0neLwnWlDtA+DA73QtzTFLP7jazX0QH6ND2WwFU7/r\n"
    "a3eII/mldwooog5OLL8crcR6lZoA\n"
    "-----END PUBLIC KEY-----\n";

static int from_pem_str(wb_key **out, const char *pem)
{
    return wb_key_from_pem(out, pem, strlen(pem));
}

static void test_pem_roundtrip(void **state)
{
    (void)state;
    for (size_t a = 0; a < 3; a++) {
        wb_alg alg = all_algs[a];
        wb_key *key, *priv, *pub;
        char *pem;
        size_t len, r1 = WB_PUBKEY_RAW_MAX, r2 = WB_PUBKEY_RAW_MAX, slen;
        uint8_t raw1[WB_PUBKEY_RAW_MAX], raw2[WB_PUBKEY_RAW_MAX], sig[WB_SIG_MAX];

        assert_int_equal(wb_key_generate(&key, alg), 0);
        assert_int_equal(wb_key_public_raw(key, raw1, &r1), 0);

        /* private: PKCS#8 */
        assert_int_equal(wb_key_to_pem(&pem, &len, key, 1), 0);
        assert_int_equal(strlen(pem), len);
        assert_memory_equal(pem, "-----BEGIN PRIVATE KEY-----\n", 28);
        assert_int_equal(wb_key_from_pem(&priv, pem, len), 0);
        free(pem);
        assert_int_equal(wb_key_alg(priv), alg);
        assert_true(wb_key_is_private(priv));
        assert_int_equal(wb_key_public_raw(priv, raw2, &r2), 0);
        assert_int_equal(r1, r2);
        assert_memory_equal(raw1, raw2, r1);
        assert_int_equal(wb_key_sign(priv, sig, &slen, "m", 1), 0);
        assert_int_equal(wb_key_verify(key, sig, slen, "m", 1), 0);

        /* public: SPKI */
        assert_int_equal(wb_key_to_pem(&pem, &len, key, 0), 0);
        assert_memory_equal(pem, "-----BEGIN PUBLIC KEY-----\n", 27);
        assert_int_equal(wb_key_from_pem(&pub, pem, len), 0);
        assert_int_equal(wb_key_alg(pub), alg);
        assert_false(wb_key_is_private(pub));
        assert_int_equal(wb_key_verify(pub, sig, slen, "m", 1), 0);
        /* text around the block is allowed (RFC 7468 §2), a second block is not */
        {
            size_t n = len + 64;
            char *wrapped = malloc(2 * n);
            assert_non_null(wrapped);
            snprintf(wrapped, 2 * n, "a comment\n%strailing text\n", pem);
            wb_key *k2;
            assert_int_equal(from_pem_str(&k2, wrapped), 0);
            wb_key_free(k2);
            snprintf(wrapped, 2 * n, "%s%s", pem, pem);
            assert_int_equal(from_pem_str(&k2, wrapped), WB_E_INVALID);
            assert_null(k2);
            free(wrapped);
        }
        free(pem);
        /* a public key has no private part to write */
        assert_int_equal(wb_key_to_pem(&pem, &len, pub, 1), WB_E_INVALID);
        assert_null(pem);

        wb_key_free(pub);
        wb_key_free(priv);
        wb_key_free(key);
    }
}

static void test_pem_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *name, *pem, *msg;
    } bad[] = {
        {"RSA", pem_rsa_pub, "unsupported key type"},
        {"P-521", pem_p521_pub, "unsupported key type"},
        {"secp256k1", pem_secp256k1_pub, "unsupported key type"},
        {"X25519", pem_x25519_pub, "unsupported key type"},
        {"Ed448", pem_ed448_pub, "unsupported key type"},
        {"explicit curve parameters", pem_p256_explicit, "unsupported key type"},
        {"legacy EC PRIVATE KEY", pem_p256_legacy, "EC PRIVATE KEY"},
        {"garbage", "hello world\n", "no PEM"},
        {"empty", "", "no PEM"},
        {"certificate label",
         "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n", "CERTIFICATE"},
        {"encrypted label",
         "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n",
         "ENCRYPTED"},
        {"not DER", "-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n",
         "cannot decode"},
        {"bad base64", "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n",
         "no PEM"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wb_key *key = (wb_key *)1;
        fprintf(stderr, "reject %s\n", bad[i].name);
        assert_int_equal(from_pem_str(&key, bad[i].pem), WB_E_INVALID);
        assert_null(key);
        if (!strstr(wb_error_message(), bad[i].msg))
            fail_msg("%s: message '%s' lacks '%s'", bad[i].name, wb_error_message(),
                     bad[i].msg);
        assert_int_equal(ERR_peek_error(), 0);
    }
    {
        char *big = malloc(WB_PEM_MAX + 2);
        wb_key *key;
        assert_non_null(big);
        memset(big, ' ', WB_PEM_MAX + 1);
        big[WB_PEM_MAX + 1] = '\0';
        assert_int_equal(from_pem_str(&key, big), WB_E_LIMIT);
        free(big);
    }
}

/* a compressed point is accepted and held, and re-encoded, uncompressed */
static void test_pem_compressed_point(void **state)
{
    (void)state;
    wb_key *c, *u;
    uint8_t raw_c[WB_PUBKEY_RAW_MAX], raw_u[WB_PUBKEY_RAW_MAX], *spki_c, *spki_u;
    size_t lc = sizeof(raw_c), lu = sizeof(raw_u), sc, su;

    assert_int_equal(from_pem_str(&c, pem_p256_compressed), 0);
    assert_int_equal(from_pem_str(&u, pem_p256_pub), 0);
    assert_int_equal(wb_key_alg(c), WB_ALG_ES256);
    assert_int_equal(wb_key_public_raw(c, raw_c, &lc), 0);
    assert_int_equal(wb_key_public_raw(u, raw_u, &lu), 0);
    assert_int_equal(lc, 65);
    assert_int_equal(raw_c[0], 0x04);
    assert_memory_equal(raw_c, raw_u, 65);
    assert_int_equal(wb_key_spki_der(c, &spki_c, &sc), 0);
    assert_int_equal(wb_key_spki_der(u, &spki_u, &su), 0);
    assert_int_equal(sc, 91);
    assert_int_equal(su, 91);
    assert_memory_equal(spki_c, spki_u, 91);
    free(spki_c);
    free(spki_u);
    wb_key_free(c);
    wb_key_free(u);
}

/* ---- files ---- */

static void test_key_files(void **state)
{
    (void)state;
    char *dir = wbt_tmpdir("crypto");
    char priv_path[4200], pub_path[4200], big_path[4200], missing[4200];
    mode_t old = umask(022);

    snprintf(missing, sizeof(missing), "%s/no/such/dir/key.pem", dir);
    snprintf(big_path, sizeof(big_path), "%s/big.pem", dir);
    for (size_t a = 0; a < 3; a++) {
        wb_key *key, *back;
        struct stat st;
        char *before, *after;
        size_t blen, alen, slen;
        uint8_t sig[WB_SIG_MAX];

        snprintf(priv_path, sizeof(priv_path), "%s/%s.key", dir, wb_alg_name(all_algs[a]));
        snprintf(pub_path, sizeof(pub_path), "%s/%s.pub", dir, wb_alg_name(all_algs[a]));
        assert_int_equal(wb_key_generate(&key, all_algs[a]), 0);

        assert_int_equal(wb_key_write_file(key, priv_path, 1), 0);
        assert_int_equal(stat(priv_path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(wb_key_write_file(key, pub_path, 0), 0);
        assert_int_equal(stat(pub_path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0644);

        /* never overwrites, and leaves the existing file as it was */
        before = wbt_read_file(priv_path, &blen);
        {
            wb_key *other;
            assert_int_equal(wb_key_generate(&other, all_algs[a]), 0);
            assert_int_equal(wb_key_write_file(other, priv_path, 1), WB_E_EXISTS);
            assert_non_null(strstr(wb_error_message(), priv_path));
            assert_int_equal(wb_key_write_file(other, pub_path, 0), WB_E_EXISTS);
            wb_key_free(other);
        }
        after = wbt_read_file(priv_path, &alen);
        assert_int_equal(alen, blen);
        assert_memory_equal(before, after, blen);
        free(before);
        free(after);

        assert_int_equal(wb_key_read_file(&back, priv_path), 0);
        assert_true(wb_key_is_private(back));
        assert_int_equal(wb_key_alg(back), all_algs[a]);
        assert_int_equal(wb_key_sign(back, sig, &slen, "f", 1), 0);
        assert_int_equal(wb_key_verify(key, sig, slen, "f", 1), 0);
        wb_key_free(back);

        assert_int_equal(wb_key_read_file(&back, pub_path), 0);
        assert_false(wb_key_is_private(back));
        assert_int_equal(wb_key_verify(back, sig, slen, "f", 1), 0);
        wb_key_free(back);

        /* a public key cannot be written as a private one */
        assert_int_equal(wb_key_public_copy(&back, key), 0);
        snprintf(priv_path, sizeof(priv_path), "%s/%s.nopriv", dir,
                 wb_alg_name(all_algs[a]));
        assert_int_equal(wb_key_write_file(back, priv_path, 1), WB_E_INVALID);
        assert_int_equal(access(priv_path, F_OK), -1);
        wb_key_free(back);
        wb_key_free(key);
    }
    {
        wb_key *key;
        FILE *f;
        assert_int_equal(wb_key_read_file(&key, missing), WB_E_NOTFOUND);
        assert_int_equal(wb_key_read_file(&key, dir), WB_E_INVALID);
        f = fopen(big_path, "wb");
        assert_non_null(f);
        for (int i = 0; i < WB_PEM_MAX + 1; i++)
            fputc(' ', f);
        fclose(f);
        assert_int_equal(wb_key_read_file(&key, big_path), WB_E_LIMIT);
        assert_non_null(strstr(wb_error_message(), "limit"));
        assert_int_equal(wb_key_generate(&key, WB_ALG_ED25519), 0);
        assert_int_equal(wb_key_write_file(key, missing, 1), WB_E_IO);
        wb_key_free(key);
    }
    umask(old);
    wbt_rmtree(dir);
    free(dir);
}

/* ---- raw public keys and seeds ---- */

static void test_raw_public(void **state)
{
    (void)state;
    for (size_t a = 0; a < 3; a++) {
        wb_alg alg = all_algs[a];
        wb_key *key, *pub, *bad;
        uint8_t raw[WB_PUBKEY_RAW_MAX], raw2[WB_PUBKEY_RAW_MAX], sig[WB_SIG_MAX];
        size_t len = sizeof(raw), len2 = sizeof(raw2), small, slen;

        assert_int_equal(wb_key_generate(&key, alg), 0);
        assert_int_equal(wb_key_public_raw(key, raw, &len), 0);
        assert_int_equal(len, alg == WB_ALG_ED25519 ? 32 : alg == WB_ALG_ES256 ? 65 : 97);
        small = len - 1;
        assert_int_equal(wb_key_public_raw(key, raw2, &small), WB_E_INVALID);

        assert_int_equal(wb_key_from_public_raw(&pub, alg, raw, len), 0);
        assert_int_equal(wb_key_alg(pub), alg);
        assert_false(wb_key_is_private(pub));
        assert_int_equal(wb_key_public_raw(pub, raw2, &len2), 0);
        assert_int_equal(len2, len);
        assert_memory_equal(raw, raw2, len);
        assert_int_equal(wb_key_sign(key, sig, &slen, "raw", 3), 0);
        assert_int_equal(wb_key_verify(pub, sig, slen, "raw", 3), 0);

        /* wrong length, and the wrong algorithm's length */
        assert_int_equal(wb_key_from_public_raw(&bad, alg, raw, len - 1), WB_E_INVALID);
        assert_null(bad);
        assert_int_equal(wb_key_from_public_raw(&bad, WB_ALG_NONE, raw, len), WB_E_INVALID);

        if (alg != WB_ALG_ED25519) {
            size_t n = (len - 1) / 2;
            /* off the curve: change the last bit of Y */
            raw[len - 1] ^= 1;
            assert_int_equal(wb_key_from_public_raw(&bad, alg, raw, len), WB_E_INVALID);
            assert_null(bad);
            assert_int_equal(ERR_peek_error(), 0);
            raw[len - 1] ^= 1;
            /* a compressed or hybrid prefix is refused */
            raw[0] = 0x02;
            assert_int_equal(wb_key_from_public_raw(&bad, alg, raw, len), WB_E_INVALID);
            raw[0] = 0x06;
            assert_int_equal(wb_key_from_public_raw(&bad, alg, raw, len), WB_E_INVALID);
            /* (0, 0) and coordinates >= p */
            memset(raw + 1, 0, 2 * n);
            raw[0] = 0x04;
            assert_int_equal(wb_key_from_public_raw(&bad, alg, raw, len), WB_E_INVALID);
            memset(raw + 1, 0xff, 2 * n);
            assert_int_equal(wb_key_from_public_raw(&bad, alg, raw, len), WB_E_INVALID);
            /* an EC key has no Ed25519 seed */
            uint8_t seed[32];
            assert_int_equal(wb_key_ed25519_seed(key, seed), WB_E_INVALID);
        }
        wb_key_free(pub);
        wb_key_free(key);
    }
    {
        /* the ES384 key is not an ES256 key of another length */
        wb_key *k, *bad;
        uint8_t raw[WB_PUBKEY_RAW_MAX];
        size_t len = sizeof(raw);
        assert_int_equal(wb_key_generate(&k, WB_ALG_ES384), 0);
        assert_int_equal(wb_key_public_raw(k, raw, &len), 0);
        assert_int_equal(wb_key_from_public_raw(&bad, WB_ALG_ES256, raw, len), WB_E_INVALID);
        wb_key_free(k);
    }
    {
        /* seeds round-trip */
        uint8_t seed[32], seed2[32], raw1[32], raw2[32];
        size_t l1 = 32, l2 = 32;
        wb_key *k, *k2;
        assert_int_equal(wb_key_generate(&k, WB_ALG_ED25519), 0);
        assert_int_equal(wb_key_ed25519_seed(k, seed), 0);
        assert_int_equal(wb_key_from_ed25519_seed(&k2, seed), 0);
        assert_int_equal(wb_key_ed25519_seed(k2, seed2), 0);
        assert_memory_equal(seed, seed2, 32);
        assert_int_equal(wb_key_public_raw(k, raw1, &l1), 0);
        assert_int_equal(wb_key_public_raw(k2, raw2, &l2), 0);
        assert_memory_equal(raw1, raw2, 32);
        wb_key_free(k2);
        wb_key_free(k);
    }
}

/* ---- DER <-> raw ---- */

static void expect_der(const char *name, size_t n, const char *der_hex, const char *raw_hex)
{
    uint8_t der[256], raw[2 * 66], want[2 * 66], back[256];
    size_t dlen = strlen(der_hex) / 2, blen;

    fprintf(stderr, "DER ok: %s\n", name);
    unhex(der, dlen, der_hex);
    unhex(want, 2 * n, raw_hex);
    assert_int_equal(wb_ecdsa_der_to_raw(raw, n, der, dlen), 0);
    assert_memory_equal(raw, want, 2 * n);
    assert_int_equal(wb_ecdsa_raw_to_der(back, sizeof(back), &blen, raw, n), 0);
    assert_int_equal(blen, dlen);
    assert_memory_equal(back, der, dlen);
}

static void expect_der_reject(const char *name, size_t n, const char *der_hex,
                              const char *msg)
{
    uint8_t der[256], raw[2 * 66];
    size_t dlen = strlen(der_hex) / 2;

    fprintf(stderr, "DER reject: %s\n", name);
    unhex(der, dlen, der_hex);
    memset(raw, 0xaa, sizeof(raw));
    assert_int_equal(wb_ecdsa_der_to_raw(raw, n, der, dlen), WB_E_INVALID);
    if (!strstr(wb_error_message(), msg))
        fail_msg("%s: message '%s' lacks '%s'", name, wb_error_message(), msg);
    for (size_t i = 0; i < 2 * n; i++)
        assert_int_equal(raw[i], 0xaa); /* untouched on failure */
}

#define Z31 "00000000000000000000000000000000000000000000000000000000000000"
#define FF32 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

static void test_ecdsa_der(void **state)
{
    (void)state;
    /* RFC 6979 A.2.5's signature in DER: both integers 0x00-padded */
    expect_der("RFC 6979 A.2.5", 32,
               "3046022100EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
               "022100F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8",
               "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
               "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8");
    expect_der("RFC 6979 A.2.6", 48,
               "3066023100"
               "94EDBB92A5ECB8AAD4736E56C691916B3F88140666CE9FA73D64C4EA95AD133C"
               "81A648152E44ACF96E36DD1E80FABE46"
               "023100"
               "99EF4AEB15F178CEA1FE40DB2603138F130E740A19624526203B6351D0A3A94F"
               "A329C145786E679E7B82C71A38628AC8",
               "94EDBB92A5ECB8AAD4736E56C691916B3F88140666CE9FA73D64C4EA95AD133C"
               "81A648152E44ACF96E36DD1E80FABE46"
               "99EF4AEB15F178CEA1FE40DB2603138F130E740A19624526203B6351D0A3A94F"
               "A329C145786E679E7B82C71A38628AC8");
    /* short integers are left-padded with zeros */
    expect_der("one-byte r and s", 32, "3006020101020102", Z31 "01" Z31 "02");
    expect_der("zero r and s", 32, "3006020100020100", Z31 "00" Z31 "00");
    expect_der("0x80 needs a pad byte", 32, "300802020080020200ff", Z31 "80" Z31 "ff");
    expect_der("all ones", 32,
               "3046022100" FF32 "022100" FF32, FF32 FF32);
    expect_der("P-256-sized into n=48", 48, "3006020101020102",
               "00000000000000000000000000000000" Z31 "01"
               "00000000000000000000000000000000" Z31 "02");

    expect_der_reject("empty", 32, "", "empty");
    expect_der_reject("wrong outer tag", 32, "3106020101020102", "tag 0x31");
    expect_der_reject("wrong integer tag", 32, "3006030101020102", "tag 0x03");
    expect_der_reject("trailing byte", 32, "300602010102010200", "trailing");
    expect_der_reject("bytes after s", 32, "30080201010201020500", "after s");
    expect_der_reject("SEQUENCE too long", 32, "3007020101020102", "remain");
    expect_der_reject("integer too long", 32, "3006020101020202", "remain");
    expect_der_reject("only r", 32, "3003020101", "s missing");
    expect_der_reject("long form where short suffices", 32, "308106020101020102",
                      "short form");
    expect_der_reject("long-form integer length", 32, "300702810101020102", "short form");
    expect_der_reject("two-byte length", 32, "30820006020101020102", "one byte");
    expect_der_reject("negative r", 32, "3006020180020102", "negative");
    expect_der_reject("negative s", 32, "30060201010201ff", "negative");
    expect_der_reject("non-minimal r", 32, "300702020001020102", "leading zero");
    expect_der_reject("non-minimal zero", 32, "300702020000020100", "leading zero");
    expect_der_reject("empty integer", 32, "30050200020102", "empty INTEGER");
    expect_der_reject("r of 33 bytes", 32, "3026022101" FF32 "020101", "over the 32-byte");
    expect_der_reject("P-384-sized into n=32", 32,
                      "3066023100"
                      "94EDBB92A5ECB8AAD4736E56C691916B3F88140666CE9FA73D64C4EA95AD133C"
                      "81A648152E44ACF96E36DD1E80FABE46"
                      "023100"
                      "99EF4AEB15F178CEA1FE40DB2603138F130E740A19624526203B6351D0A3A94F"
                      "A329C145786E679E7B82C71A38628AC8",
                      "over the 32-byte");
    expect_der_reject("5-byte length field", 32, "3085000000000602010102010200", "too long");
    expect_der_reject("length missing", 32, "30", "length missing");
}

/* the indefinite-length case, on its own to keep the hex honest */
static void test_ecdsa_der_more(void **state)
{
    (void)state;
    uint8_t raw[96], der[128];
    size_t dlen;
    uint64_t seed = wbt_seed("test_ecdsa_der_more");

    expect_der_reject("indefinite length", 32, "30800201010201020000", "indefinite");

    /* bad sizes */
    assert_int_equal(wb_ecdsa_der_to_raw(raw, 0, (const uint8_t *)"\x30\x00", 2),
                     WB_E_INVALID);
    assert_int_equal(wb_ecdsa_raw_to_der(der, sizeof(der), &dlen, raw, 67), WB_E_INVALID);
    memset(raw, 0xff, sizeof(raw));
    assert_int_equal(wb_ecdsa_raw_to_der(der, 71, &dlen, raw, 32), WB_E_INVALID);
    assert_int_equal(wb_ecdsa_raw_to_der(der, 72, &dlen, raw, 32), 0);
    assert_int_equal(dlen, 72);
    assert_int_equal(wb_ecdsa_raw_to_der(der, 104, &dlen, raw, 48), 0);
    assert_int_equal(dlen, 104);

    /* random raw values, many with leading zero bytes, round-trip */
    for (int it = 0; it < 2000; it++) {
        size_t n = (it & 1) ? 48 : 32;
        uint8_t back[96];
        for (size_t i = 0; i < 2 * n; i++)
            raw[i] = (uint8_t)wbt_rand(&seed);
        /* zero a random prefix of r and of s */
        memset(raw, 0, wbt_rand(&seed) % (n + 1));
        memset(raw + n, 0, wbt_rand(&seed) % (n + 1));
        if (it % 7 == 0)
            raw[wbt_rand(&seed) % n] |= 0x80;
        assert_int_equal(wb_ecdsa_raw_to_der(der, sizeof(der), &dlen, raw, n), 0);
        assert_int_equal(wb_ecdsa_der_to_raw(back, n, der, dlen), 0);
        assert_memory_equal(back, raw, 2 * n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_fips180),
        cmocka_unit_test(test_sha384_fips180),
        cmocka_unit_test(test_sha256_prefixed),
        cmocka_unit_test(test_sha256_threads),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_alg_names),
        cmocka_unit_test(test_ed25519_rfc8032),
        cmocka_unit_test(test_ecdsa_rfc6979_verify),
        cmocka_unit_test(test_sign_verify_tamper),
        cmocka_unit_test(test_pem_roundtrip),
        cmocka_unit_test(test_pem_rejects),
        cmocka_unit_test(test_pem_compressed_point),
        cmocka_unit_test(test_key_files),
        cmocka_unit_test(test_raw_public),
        cmocka_unit_test(test_ecdsa_der),
        cmocka_unit_test(test_ecdsa_der_more),
    };
    return cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
}
