/*
 * test_receipt.c: waybill's COSE receipts (RFC 9942, RFC9162_SHA256).
 *
 *   - every entry of every tree of 1..300 leaves gets a receipt, one
 *     signature per tree size shared by all its entries, and each verifies
 *     against its own registered statement and no other;
 *   - every byte of a receipt and of its statement matters;
 *   - wrong key, unknown kid, wrong index, wrong size, changed or missing
 *     path hashes are refused;
 *   - each structural rule (one inclusion proof, nothing else in 396, a
 *     detached payload, a vds) is refused with its message, on receipts that
 *     are otherwise validly signed;
 *   - a text kid (as other services write) is accepted.
 */
#include "wbtest.h"

#include <string.h>

#include "cose/cose_int.h"
#include "waybill/cose.h"
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/merkle.h"

#define NLEAVES 300
#define LEVELS 10

typedef struct {
    uint8_t *reg[NLEAVES];
    size_t reg_len[NLEAVES];
    uint8_t levels[LEVELS][NLEAVES][32]; /* perfect subtree hashes */
    wb_key *service;
    uint8_t kid[32];
} fixture;

static fixture *fx;

static int tree_fn(void *ctx, uint8_t out[32], unsigned level, uint64_t index)
{
    fixture *f = ctx;
    if (level >= LEVELS || ((index + 1) << level) > NLEAVES)
        return wb_error_set(WB_E_RANGE, "no subtree %u/%llu", level,
                            (unsigned long long)index);
    memcpy(out, f->levels[level][index], 32);
    return 0;
}

/* the service key for the waybill kid (SHA-256 of its SPKI) */
static int service_key(void *ctx, wb_cose_verifier *out, const uint8_t *kid, size_t kid_len,
                       int64_t alg)
{
    fixture *f = ctx;
    (void)alg;
    if (kid_len != 32 || memcmp(kid, f->kid, 32) != 0)
        return wb_error_set(WB_E_NOTFOUND, "no service key with that kid");
    return wb_cose_verifier_for_key(out, f->service);
}

static int any_key(void *ctx, wb_cose_verifier *out, const uint8_t *kid, size_t kid_len,
                   int64_t alg)
{
    (void)kid;
    (void)kid_len;
    (void)alg;
    return wb_cose_verifier_for_key(out, ctx);
}

static int setup(void **state)
{
    wb_key *issuer;
    wb_cose_signer s;
    uint8_t *spki;
    size_t spki_len;

    (void)state;
    fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    assert_int_equal(wb_key_generate(&issuer, WB_ALG_ES256), 0);
    assert_int_equal(wb_cose_signer_for_key(&s, issuer), 0);
    for (size_t i = 0; i < NLEAVES; i++) {
        char payload[64];
        wb_cose_headers h;
        wb_cose_sign1 m;
        uint8_t *st;
        size_t len;
        wb_cose_headers_init(&h);
        h.alg = s.alg;
        h.cty = "application/vnd.waybill.custody+json";
        h.kid.ptr = (const uint8_t *)"issuer";
        h.kid.len = 6;
        h.iss = "did:example:carrier";
        h.sub = "shipment";
        snprintf(payload, sizeof(payload), "{\"entry\":%zu}", i);
        /* an unprotected header that registration drops */
        assert_int_equal(wb_cose_sign1_create(&st, &len, &h,
                                              (const uint8_t *)"\xa1\x63tmp\x01", 6,
                                              (const uint8_t *)payload, strlen(payload), 0,
                                              &s),
                         0);
        assert_int_equal(wb_cose_sign1_decode(&m, st, len, WB_COSE_MAX), 0);
        assert_int_equal(wb_scitt_registered_statement(&fx->reg[i], &fx->reg_len[i], &m), 0);
        assert_int_equal(fx->reg_len[i], len - 5);
        wb_cose_sign1_cleanup(&m);
        free(st);
        wb_merkle_leaf_hash(fx->levels[0][i], fx->reg[i], fx->reg_len[i]);
    }
    for (unsigned l = 1; l < LEVELS; l++)
        for (size_t i = 0; ((i + 1) << l) <= NLEAVES; i++)
            wb_merkle_node_hash(fx->levels[l][i], fx->levels[l - 1][2 * i],
                                fx->levels[l - 1][2 * i + 1]);
    wb_key_free(issuer);
    assert_int_equal(wb_key_generate(&fx->service, WB_ALG_ES256), 0);
    assert_int_equal(wb_key_spki_der(fx->service, &spki, &spki_len), 0);
    assert_int_equal(wb_sha256(fx->kid, spki, spki_len), 0);
    free(spki);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < NLEAVES; i++)
        free(fx->reg[i]);
    wb_key_free(fx->service);
    free(fx);
    return 0;
}

/* protected header and signature for the tree of size leaves */
static void sign_tree(uint8_t **prot, size_t *prot_len, uint8_t *sig, size_t *sig_len,
                      uint8_t root[32], uint64_t size)
{
    wb_cose_signer s;

    assert_int_equal(wb_merkle_root(root, size, tree_fn, fx), 0);
    assert_int_equal(wb_receipt_protected(prot, prot_len, WB_COSE_ALG_ES256, fx->kid, 32,
                                          "waybill.example", 1700000000 + (int64_t)size),
                     0);
    assert_int_equal(wb_cose_signer_for_key(&s, fx->service), 0);
    if (wb_receipt_sign(sig, sig_len, *prot, *prot_len, root, &s) != 0)
        fail_msg("receipt sign: %s", wb_error_message());
}

static void make_receipt(uint8_t **out, size_t *len, uint64_t index, uint64_t size)
{
    uint8_t *prot, sig[WB_SIG_MAX], root[32], path[WB_MERKLE_MAX_PROOF][32];
    size_t prot_len, sig_len, n;

    sign_tree(&prot, &prot_len, sig, &sig_len, root, size);
    assert_int_equal(wb_merkle_inclusion_proof(path, &n, index, size, tree_fn, fx), 0);
    assert_int_equal(wb_receipt_encode(out, len, prot, prot_len, sig, sig_len, size, index,
                                       (const uint8_t (*)[32])path, n),
                     0);
    free(prot);
}

/* ---- every entry of every tree ---- */

static void test_batches_of_1_to_300(void **state)
{
    size_t verified = 0;

    (void)state;
    for (uint64_t size = 1; size <= NLEAVES; size++) {
        uint8_t *prot, sig[WB_SIG_MAX], root[32];
        size_t prot_len, sig_len;

        sign_tree(&prot, &prot_len, sig, &sig_len, root, size); /* once per tree */
        for (uint64_t i = 0; i < size; i++) {
            uint8_t path[WB_MERKLE_MAX_PROOF][32], *r;
            size_t n, rlen;
            wb_receipt_info info;

            assert_int_equal(wb_merkle_inclusion_proof(path, &n, i, size, tree_fn, fx), 0);
            assert_int_equal(wb_receipt_encode(&r, &rlen, prot, prot_len, sig, sig_len, size,
                                               i, (const uint8_t (*)[32])path, n),
                             0);
            if (wb_receipt_verify(&info, r, rlen, fx->reg[i], fx->reg_len[i], service_key,
                                  fx) != 0)
                fail_msg("size %llu index %llu: %s", (unsigned long long)size,
                         (unsigned long long)i, wb_error_message());
            assert_int_equal(info.vds, 1);
            assert_int_equal(info.alg, WB_COSE_ALG_ES256);
            assert_int_equal(info.tree_size, size);
            assert_int_equal(info.leaf_index, i);
            assert_int_equal(info.kid_len, 32);
            assert_memory_equal(info.kid, fx->kid, 32);
            assert_string_equal(info.iss, "waybill.example");
            assert_int_equal(info.iat, 1700000000 + (int64_t)size);
            assert_memory_equal(info.root, root, 32);
            verified++;
            /* and not for a neighbour's statement */
            if (size > 1 && (i % 7 == 0 || size < 20)) {
                uint64_t j = (i + 1) % size;
                assert_int_equal(wb_receipt_verify(&info, r, rlen, fx->reg[j],
                                                   fx->reg_len[j], service_key, fx),
                                 WB_E_VERIFY);
                assert_int_equal(info.vds, 0); /* cleared on failure */
            }
            free(r);
        }
        free(prot);
    }
    assert_int_equal(verified, NLEAVES * (NLEAVES + 1) / 2);
}

static void test_receipt_layout(void **state)
{
    uint8_t *r;
    size_t len;
    wb_cose_sign1 m;
    const cbor_item_t *vdp, *list;

    (void)state;
    make_receipt(&r, &len, 5, 13);
    assert_memory_equal(r, "\xd2\x84", 2);
    assert_int_equal(wb_cose_sign1_decode(&m, r, len, len), 0);
    assert_true(m.detached);
    assert_int_equal(m.hdr.alg, WB_COSE_ALG_ES256);
    assert_int_equal(m.hdr.vds, WB_VDS_RFC9162_SHA256);
    assert_int_equal(m.hdr.kid.len, 32);
    assert_string_equal(m.hdr.iss, "waybill.example");
    assert_int_equal(m.hdr.iat, 1700000013);
    assert_null(m.hdr.sub);
    /* {396: {-1: [bstr .cbor [13, 5, [4 hashes]]]}} */
    assert_memory_equal(m.unprotected_raw, "\xa1\x19\x01\x8c\xa1\x20\x81\x58\x8c\x83\x0d\x05\x84",
                        13);
    vdp = wb_cbor_map_get_int(wb_cose_sign1_unprotected(&m), 396);
    list = wb_cbor_map_get_int(vdp, -1);
    assert_int_equal(cbor_array_size(list), 1);
    wb_cose_sign1_cleanup(&m);
    free(r);
}

/*
 * Every byte of the receipt and of the statement matters, with one
 * exception that RFC 9942 builds in: the signature covers the root, not
 * the tree size, and an RFC 9162 inclusion path has the same shape for
 * leaf 6 in trees of 9 to 16 leaves. So changing the tree size byte 11
 * (0x0b) to 9, 10, 12..15 still verifies: the statement is still proven
 * in the same signed tree, only the size claimed beside it is wrong. The
 * test checks that this is the only thing that ever gets through, and
 * that such a receipt still proves the same root.
 */
static void test_every_byte_matters(void **state)
{
    static const uint8_t masks[] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff};
    uint8_t *r, root[32];
    size_t len, size_pos, relabelled = 0;
    wb_receipt_info info;

    (void)state;
    make_receipt(&r, &len, 6, 11);
    assert_int_equal(wb_receipt_verify(&info, r, len, fx->reg[6], fx->reg_len[6], service_key,
                                       fx),
                     0);
    memcpy(root, info.root, 32);
    /* the proof is [11, 6, [...]]: find the bytes 0x83 0x0b 0x06 0x84 */
    for (size_pos = 0; size_pos + 4 <= len; size_pos++)
        if (memcmp(r + size_pos, "\x83\x0b\x06\x84", 4) == 0)
            break;
    assert_true(size_pos + 4 <= len);
    size_pos++;
    for (size_t pos = 0; pos < len; pos++)
        for (size_t k = 0; k < sizeof(masks); k++) {
            r[pos] ^= masks[k];
            if (wb_receipt_verify(&info, r, len, fx->reg[6], fx->reg_len[6], service_key,
                                  fx) == 0) {
                if (pos != size_pos || info.tree_size < 9 || info.tree_size > 16 ||
                    info.tree_size == 11 || info.leaf_index != 6 ||
                    memcmp(info.root, root, 32) != 0)
                    fail_msg("receipt byte %zu ^ 0x%02x still verifies", pos, masks[k]);
                relabelled++;
            }
            r[pos] ^= masks[k];
        }
    /* 11 ^ 1 = 10, 11 ^ 2 = 9, 11 ^ 4 = 15 */
    assert_int_equal(relabelled, 3);
    for (size_t pos = 0; pos < fx->reg_len[6]; pos++)
        for (size_t k = 0; k < sizeof(masks); k++) {
            fx->reg[6][pos] ^= masks[k];
            if (wb_receipt_verify(NULL, r, len, fx->reg[6], fx->reg_len[6], service_key,
                                  fx) == 0)
                fail_msg("statement byte %zu ^ 0x%02x still verifies", pos, masks[k]);
            fx->reg[6][pos] ^= masks[k];
        }
    assert_int_equal(wb_receipt_verify(NULL, r, len, fx->reg[6], fx->reg_len[6], service_key,
                                       fx),
                     0);
    free(r);
}

static void test_wrong_key_and_kid(void **state)
{
    uint8_t *r;
    size_t len;
    wb_key *other;

    (void)state;
    make_receipt(&r, &len, 0, 4);
    assert_int_equal(wb_key_generate(&other, WB_ALG_ES256), 0);
    assert_int_equal(wb_receipt_verify(NULL, r, len, fx->reg[0], fx->reg_len[0], any_key,
                                       other),
                     WB_E_VERIFY);
    assert_string_equal(wb_error_message(),
                        "receipt: COSE_Sign1: ES256 signature does not verify");
    wb_key_free(other);
    assert_int_equal(wb_key_generate(&other, WB_ALG_ED25519), 0);
    assert_int_equal(wb_receipt_verify(NULL, r, len, fx->reg[0], fx->reg_len[0], any_key,
                                       other),
                     WB_E_VERIFY);
    assert_non_null(strstr(wb_error_message(), "but the key is for -8 (EdDSA)"));
    wb_key_free(other);
    {
        uint8_t saved = fx->kid[0];
        fx->kid[0] ^= 1;
        assert_int_equal(wb_receipt_verify(NULL, r, len, fx->reg[0], fx->reg_len[0],
                                           service_key, fx),
                         WB_E_NOTFOUND);
        assert_string_equal(wb_error_message(), "receipt: no service key with that kid");
        fx->kid[0] = saved;
    }
    assert_int_equal(wb_receipt_verify(NULL, r, len, fx->reg[0], fx->reg_len[0], NULL, NULL),
                     WB_E_INVALID);
    free(r);
}

static void test_wrong_index_size_path(void **state)
{
    uint8_t *prot, sig[WB_SIG_MAX], root[32], path[WB_MERKLE_MAX_PROOF][32], *r;
    size_t prot_len, sig_len, n, len;
    const uint64_t size = 21, index = 9;

    (void)state;
    sign_tree(&prot, &prot_len, sig, &sig_len, root, size);
    assert_int_equal(wb_merkle_inclusion_proof(path, &n, index, size, tree_fn, fx), 0);
    assert_true(n >= 3);
#define TRY(sz, ix, np, rc_want, msg)                                                       \
    do {                                                                                    \
        assert_int_equal(wb_receipt_encode(&r, &len, prot, prot_len, sig, sig_len, sz, ix,  \
                                           (const uint8_t (*)[32])path, np),                \
                         0);                                                                \
        assert_int_equal(wb_receipt_verify(NULL, r, len, fx->reg[index],                    \
                                           fx->reg_len[index], service_key, fx),            \
                         rc_want);                                                          \
        if (!strstr(wb_error_message(), msg))                                               \
            fail_msg("'%s' lacks '%s'", wb_error_message(), msg);                           \
        free(r);                                                                            \
    } while (0)
    TRY(size, index, n, 0, "");
    TRY(size, index + 1, n, WB_E_VERIFY, "does not verify");
    TRY(size, index - 1, n, WB_E_VERIFY, "");
    /* the signature covers the root, not the size: the path of leaf 9 has
     * the same shape in every tree of 17..32 leaves (see above) */
    TRY(size + 1, index, n, 0, "");
    TRY(17, index, n, 0, "");
    TRY(16, index, n, WB_E_VERIFY, "");
    TRY(33, index, n, WB_E_VERIFY, "");
    TRY(size * 4, index, n, WB_E_VERIFY, "too short");
    TRY(size, index, n - 1, WB_E_VERIFY, "too short");
    path[n][0] = 0x55;
    TRY(size, index, n + 1, WB_E_VERIFY, "more hashes than a tree of 21 leaves needs");
    path[1][7] ^= 0x10;
    TRY(size, index, n, WB_E_VERIFY, "does not verify");
    path[1][7] ^= 0x10;
    TRY(size, index, n, 0, "");
#undef TRY
    /* the encoder refuses an index past the tree */
    assert_int_equal(wb_receipt_encode(&r, &len, prot, prot_len, sig, sig_len, 5, 5,
                                       (const uint8_t (*)[32])path, 0),
                     WB_E_RANGE);
    assert_int_equal(wb_receipt_encode(&r, &len, prot, prot_len, sig, sig_len, 5, 1,
                                       (const uint8_t (*)[32])path, 65),
                     WB_E_INVALID);
    free(prot);
}

static void test_tree_of_one_has_an_empty_path(void **state)
{
    uint8_t *r;
    size_t len;
    wb_cose_sign1 m;

    (void)state;
    make_receipt(&r, &len, 0, 1);
    assert_int_equal(wb_cose_sign1_decode(&m, r, len, len), 0);
    /* [1, 0, []] */
    assert_memory_equal(m.unprotected_raw + 7, "\x44\x83\x01\x00\x80", 5);
    wb_cose_sign1_cleanup(&m);
    assert_int_equal(wb_receipt_verify(NULL, r, len, fx->reg[0], fx->reg_len[0], service_key,
                                       fx),
                     0);
    free(r);
}

/*
 * Hand-built receipts: protected header prot_hex, unprotected given as CBOR
 * hex, payload nil or attached, signed correctly over the right root so that
 * only the structure can be at fault.
 */
static int custom_receipt(const char *unprot_hex, int attached, const uint8_t *prot,
                          size_t prot_len)
{
    uint8_t sig[WB_SIG_MAX], root[32], path[WB_MERKLE_MAX_PROOF][32];
    size_t sig_len, n, ulen = 0;
    uint8_t unprot[1024];
    wb_cose_signer s;
    wb_buf b;
    int rc;

    for (const char *p = unprot_hex; *p; p += 2) {
        unsigned v;
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        assert_int_equal(sscanf(p, "%2x", &v), 1);
        unprot[ulen++] = (uint8_t)v;
    }
    assert_int_equal(wb_merkle_root(root, 3, tree_fn, fx), 0);
    assert_int_equal(wb_merkle_inclusion_proof(path, &n, 2, 3, tree_fn, fx), 0);
    assert_int_equal(n, 1);
    assert_int_equal(wb_cose_signer_for_key(&s, fx->service), 0);
    assert_int_equal(wb_cose_sign_tbs(sig, &sig_len, prot, prot_len, root, 32, &s), 0);
    wb_buf_init(&b, 4096);
    wb_cbor_put_head(&b, WB_CBOR_TAG, 18);
    wb_cbor_put_head(&b, WB_CBOR_ARRAY, 4);
    wb_cbor_put_bytes(&b, prot, prot_len);
    /* "P" in the unprotected hex stands for the proof bstr [3, 2, [path]] */
    for (size_t i = 0; i < ulen; i++) {
        if (unprot[i] == 0xee) {
            wb_buf proof;
            wb_buf_init(&proof, 256);
            wb_cbor_put_head(&proof, WB_CBOR_ARRAY, 3);
            wb_cbor_put_uint(&proof, 3);
            wb_cbor_put_uint(&proof, 2);
            wb_cbor_put_head(&proof, WB_CBOR_ARRAY, 1);
            wb_cbor_put_bytes(&proof, path[0], 32);
            wb_cbor_put_bytes(&b, proof.data, proof.len);
            wb_buf_cleanup(&proof);
        } else {
            wb_buf_add_u8(&b, unprot[i]);
        }
    }
    if (attached)
        wb_cbor_put_bytes(&b, root, 32);
    else
        wb_cbor_put_nil(&b);
    wb_cbor_put_bytes(&b, sig, sig_len);
    assert_int_equal(wb_buf_error(&b), 0);
    rc = wb_receipt_verify(NULL, b.data, b.len, fx->reg[2], fx->reg_len[2], service_key, fx);
    wb_buf_cleanup(&b);
    return rc;
}

static void test_structure_rules(void **state)
{
    uint8_t *prot;
    size_t prot_len;

    (void)state;
    assert_int_equal(wb_receipt_protected(&prot, &prot_len, WB_COSE_ALG_ES256, fx->kid, 32,
                                          "waybill.example", 1),
                     0);
    /* 0xee marks where the proof bstr goes */
    assert_int_equal(custom_receipt("a1 19018c a1 20 81 ee", 0, prot, prot_len), 0);
    assert_int_equal(custom_receipt("a1 19018c a1 20 82 ee ee", 0, prot, prot_len),
                     WB_E_INVALID);
    assert_string_equal(wb_error_message(),
                        "receipt: 2 inclusion proofs (396/-1); waybill accepts exactly one");
    assert_int_equal(custom_receipt("a1 19018c a1 20 80", 0, prot, prot_len), WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "0 inclusion proofs"));
    assert_int_equal(custom_receipt("a1 19018c a2 20 81 ee 21 81 ee", 0, prot, prot_len),
                     WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "consistency proofs (-2)"));
    assert_int_equal(custom_receipt("a1 19018c a2 20 81 ee 22 00", 0, prot, prot_len),
                     WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "unknown proof type -3"));
    assert_int_equal(custom_receipt("a1 19018c a1 21 81 ee", 0, prot, prot_len), WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "consistency proofs"));
    assert_int_equal(custom_receipt("a0", 0, prot, prot_len), WB_E_INVALID);
    assert_string_equal(wb_error_message(),
                        "receipt: no proofs (396) in the unprotected header");
    assert_int_equal(custom_receipt("a1 19018c 80", 0, prot, prot_len), WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "proofs (396) is an array, want a map"));
    assert_int_equal(custom_receipt("a1 19018c a1 20 ee", 0, prot, prot_len), WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "inclusion proofs (396/-1) is a byte string"));
    assert_int_equal(custom_receipt("a1 19018c a1 20 81 00", 0, prot, prot_len), WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "inclusion proof is an unsigned integer"));
    assert_int_equal(custom_receipt("a1 19018c a1 20 81 43 830302", 0, prot, prot_len),
                     WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "receipt: inclusion proof: truncated"));
    assert_int_equal(custom_receipt("a1 19018c a1 20 81 45 8303028140", 0, prot, prot_len),
                     WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "inclusion path hash 0 is a byte string of 0 "
                                               "bytes, want 32"));
    assert_int_equal(custom_receipt("a1 19018c a1 20 81 44 83030280", 0, prot, prot_len),
                     WB_E_VERIFY);
    assert_int_equal(custom_receipt("a1 19018c a1 20 81 44 83200280", 0, prot, prot_len),
                     WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "inclusion proof is not [tree_size"));
    assert_int_equal(custom_receipt("a1 19018c a1 20 81 ee", 1, prot, prot_len), WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "payload is attached"));
    free(prot);

    /* protected headers: no vds, another vds, no alg */
    {
        static const struct {
            const char *prot;
            const char *msg;
        } bad[] = {
            {"\xa2\x01\x26\x04\x40", "kid (4) is empty"},
            {"\xa1\x01\x26", "no vds (395) in the protected header"},
            {"\xa2\x01\x26\x19\x01\x8b\x03", "vds (395) 3 is not supported"},
            {"\xa1\x19\x01\x8b\x01", "no alg (1) in the protected header"},
        };
        static const size_t bad_len[] = {5, 3, 7, 5};
        for (size_t i = 0; i < 4; i++) {
            int rc = custom_receipt("a1 19018c a1 20 81 ee", 0, (const uint8_t *)bad[i].prot,
                                    bad_len[i]);
            assert_int_equal(rc, WB_E_INVALID);
            if (!strstr(wb_error_message(), bad[i].msg))
                fail_msg("'%s' lacks '%s'", wb_error_message(), bad[i].msg);
        }
    }
}

static int text_kid_key(void *ctx, wb_cose_verifier *out, const uint8_t *kid, size_t kid_len,
                        int64_t alg)
{
    (void)alg;
    if (kid_len != 7 || memcmp(kid, "svc-key", 7) != 0)
        return wb_error_set(WB_E_NOTFOUND, "no key");
    return wb_cose_verifier_for_key(out, ctx);
}

static void test_text_kid_accepted(void **state)
{
    /* {1: -7, 4: "svc-key", 395: 1} */
    static const uint8_t prot[] = {0xa3, 0x01, 0x26, 0x04, 0x67, 's', 'v', 'c', '-',
                                   'k',  'e',  'y',  0x19, 0x01, 0x8b, 0x01};
    uint8_t sig[WB_SIG_MAX], root[32], path[WB_MERKLE_MAX_PROOF][32], *r;
    size_t sig_len, n, len;
    wb_cose_signer s;
    wb_cose_sign1 m;

    (void)state;
    assert_int_equal(wb_merkle_root(root, 2, tree_fn, fx), 0);
    assert_int_equal(wb_merkle_inclusion_proof(path, &n, 1, 2, tree_fn, fx), 0);
    assert_int_equal(wb_cose_signer_for_key(&s, fx->service), 0);
    /* wb_receipt_sign makes waybill receipts, whose kid is a bstr */
    assert_int_equal(wb_receipt_sign(sig, &sig_len, prot, sizeof(prot), root, &s),
                     WB_E_INVALID);
    assert_int_equal(wb_cose_sign_tbs(sig, &sig_len, prot, sizeof(prot), root, 32, &s), 0);
    assert_int_equal(wb_receipt_encode(&r, &len, prot, sizeof(prot), sig, sig_len, 2, 1,
                                       (const uint8_t (*)[32])path, n),
                     0);
    if (wb_receipt_verify(NULL, r, len, fx->reg[1], fx->reg_len[1], text_kid_key,
                          fx->service) != 0)
        fail_msg("%s", wb_error_message());
    /* a statement may not have a text kid */
    assert_int_equal(wb_cose_sign1_decode(&m, r, len, len), WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "kid (4) is a text string"));
    free(r);
}

static void test_receipt_header_and_sign_refusals(void **state)
{
    uint8_t *prot, sig[WB_SIG_MAX], root[32] = {0};
    size_t prot_len, sig_len;
    wb_cose_signer s;
    wb_key *ed;

    (void)state;
    assert_int_equal(wb_receipt_protected(&prot, &prot_len, -38, fx->kid, 32, "x", 1),
                     WB_E_INVALID);
    assert_int_equal(wb_receipt_protected(&prot, &prot_len, WB_COSE_ALG_ES256, fx->kid, 257,
                                          "x", 1),
                     WB_E_INVALID);
    assert_int_equal(wb_receipt_protected(&prot, &prot_len, WB_COSE_ALG_ES256, fx->kid, 32,
                                          "x", 1),
                     0);
    assert_int_equal(wb_key_generate(&ed, WB_ALG_ED25519), 0);
    assert_int_equal(wb_cose_signer_for_key(&s, ed), 0);
    assert_int_equal(wb_receipt_sign(sig, &sig_len, prot, prot_len, root, &s), WB_E_INVALID);
    assert_string_equal(wb_error_message(), "receipt: protected alg -7 but the signer is -8");
    assert_int_equal(wb_receipt_sign(sig, &sig_len, (const uint8_t *)"\xa1\x01\x27", 3, root,
                                     &s),
                     WB_E_INVALID);
    assert_string_equal(wb_error_message(), "receipt: protected vds (395) is 0, want 1");
    assert_int_equal(wb_receipt_sign(sig, &sig_len, (const uint8_t *)"\xa1\x01", 2, root, &s),
                     WB_E_INVALID);
    wb_key_free(ed);
    free(prot);
}

static void test_statement_must_be_registered(void **state)
{
    uint8_t *r;
    size_t len;

    (void)state;
    make_receipt(&r, &len, 0, 2);
    assert_int_equal(wb_receipt_verify(NULL, r, len, (const uint8_t *)"\x80", 1, service_key,
                                       fx),
                     WB_E_INVALID);
    assert_string_equal(wb_error_message(), "receipt: the statement is not a COSE_Sign1");
    assert_int_equal(wb_receipt_verify(NULL, r, len, NULL, 0, service_key, fx), WB_E_INVALID);
    assert_int_equal(wb_receipt_verify(NULL, r, len, (const uint8_t *)"\xd3\x84\x40\xa0", 4,
                                       service_key, fx),
                     WB_E_INVALID);
    assert_int_equal(wb_receipt_verify(NULL, r, len, (const uint8_t *)"\x84\x40\xa1\x01\x02",
                                       5, service_key, fx),
                     WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "unprotected header is not empty"));
    free(r);
}

static void test_every_algorithm(void **state)
{
    static const wb_alg algs[] = {WB_ALG_ES256, WB_ALG_ES384, WB_ALG_ED25519};

    (void)state;
    for (size_t a = 0; a < 3; a++) {
        uint8_t *prot, sig[WB_SIG_MAX], root[32], path[WB_MERKLE_MAX_PROOF][32], *r;
        size_t prot_len, sig_len, n, len;
        wb_cose_signer s;
        wb_receipt_info info;
        wb_key *k;

        assert_int_equal(wb_key_generate(&k, algs[a]), 0);
        assert_int_equal(wb_cose_signer_for_key(&s, k), 0);
        assert_int_equal(wb_receipt_protected(&prot, &prot_len, s.alg, (const uint8_t *)"k", 1,
                                              NULL, 0),
                         0);
        assert_int_equal(wb_merkle_root(root, 77, tree_fn, fx), 0);
        assert_int_equal(wb_receipt_sign(sig, &sig_len, prot, prot_len, root, &s), 0);
        assert_int_equal(sig_len, wb_alg_sig_len(algs[a]));
        assert_int_equal(wb_merkle_inclusion_proof(path, &n, 76, 77, tree_fn, fx), 0);
        assert_int_equal(wb_receipt_encode(&r, &len, prot, prot_len, sig, sig_len, 77, 76,
                                           (const uint8_t (*)[32])path, n),
                         0);
        assert_int_equal(wb_receipt_verify(&info, r, len, fx->reg[76], fx->reg_len[76],
                                           any_key, k),
                         0);
        assert_int_equal(info.alg, s.alg);
        assert_string_equal(info.iss, "");
        assert_int_equal(info.iat, 0);
        free(r);
        free(prot);
        wb_key_free(k);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_of_1_to_300),
        cmocka_unit_test(test_receipt_layout),
        cmocka_unit_test(test_every_byte_matters),
        cmocka_unit_test(test_wrong_key_and_kid),
        cmocka_unit_test(test_wrong_index_size_path),
        cmocka_unit_test(test_tree_of_one_has_an_empty_path),
        cmocka_unit_test(test_structure_rules),
        cmocka_unit_test(test_text_kid_accepted),
        cmocka_unit_test(test_receipt_header_and_sign_refusals),
        cmocka_unit_test(test_statement_must_be_registered),
        cmocka_unit_test(test_every_algorithm),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
