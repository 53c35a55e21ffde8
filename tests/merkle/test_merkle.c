/*
 * test_merkle.c: unit tests of the Merkle module (RFC 9162 §2.1): the hash
 * primitives against known answers, small trees worked by hand, argument
 * and limit checks, error messages, callback failures, the byte-level
 * (_spans) verifiers and the compact range's edge cases. The exhaustive and
 * randomised checks are in test_properties.c, the RFC vectors in
 * test_vectors.c.
 */
#include "wbtest.h"

#include <string.h>

#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/merkle.h"
#include "waybill/util.h"

#define HL WB_HASH_LEN
typedef uint8_t hash[HL];

static void unhex(hash out, const char *s)
{
    assert_int_equal(wb_hex_decode(out, HL, s, 2 * HL), 0);
}

/* a tree of up to 64 leaves "leaf <i>", read through the callback */
typedef struct {
    hash leaf[64];
    uint64_t size;
    unsigned long calls;
    int fail_level; /* fail for this level (-1: never) */
    int fail_code;
} small_tree;

static void small_init(small_tree *t, uint64_t size)
{
    memset(t, 0, sizeof(*t));
    t->size = size;
    t->fail_level = -1;
    for (int i = 0; i < 64; i++) {
        char name[16];
        snprintf(name, sizeof(name), "leaf %d", i);
        wb_merkle_leaf_hash(t->leaf[i], name, strlen(name));
    }
}

static void small_hash(const small_tree *t, hash out, unsigned level,
                       uint64_t index)
{
    hash l, r;
    if (level == 0) {
        memcpy(out, t->leaf[index], HL);
        return;
    }
    small_hash(t, l, level - 1, 2 * index);
    small_hash(t, r, level - 1, 2 * index + 1);
    wb_merkle_node_hash(out, l, r);
}

static int small_fn(void *ctx, uint8_t out[HL], unsigned level, uint64_t index)
{
    small_tree *t = ctx;
    t->calls++;
    if ((int)level == t->fail_level)
        return t->fail_code > 0 ? t->fail_code
                                : wb_error_set(t->fail_code, "tile %u/%llu is missing",
                                               level, (unsigned long long)index);
    assert_true(level < 7 && index < (t->size >> level));
    small_hash(t, out, level, index);
    return 0;
}

static void test_hash_known_answers(void **state)
{
    hash h, want, l, r, buf2;
    uint8_t buf[1 + 2 * HL];
    (void)state;

    /* SHA-256("") and SHA-256(0x00): the empty tree and the empty leaf */
    wb_merkle_empty_root(h);
    unhex(want, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_memory_equal(h, want, HL);
    wb_merkle_leaf_hash(h, "", 0);
    unhex(want, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    assert_memory_equal(h, want, HL);
    wb_merkle_leaf_hash(h, NULL, 0);
    assert_memory_equal(h, want, HL);

    /* leaf = SHA-256(0x00 ‖ d), node = SHA-256(0x01 ‖ l ‖ r) */
    buf[0] = 0x00;
    memcpy(buf + 1, "hello", 5);
    assert_int_equal(wb_sha256(want, buf, 6), 0);
    wb_merkle_leaf_hash(h, "hello", 5);
    assert_memory_equal(h, want, HL);
    memcpy(l, h, HL);
    wb_merkle_leaf_hash(r, "world", 5);
    buf[0] = 0x01;
    memcpy(buf + 1, l, HL);
    memcpy(buf + 1 + HL, r, HL);
    assert_int_equal(wb_sha256(want, buf, sizeof(buf)), 0);
    wb_merkle_node_hash(h, l, r);
    assert_memory_equal(h, want, HL);
    /* order matters, and out may alias an input */
    wb_merkle_node_hash(buf2, r, l);
    assert_memory_not_equal(buf2, want, HL);
    memcpy(h, l, HL);
    wb_merkle_node_hash(h, h, r);
    assert_memory_equal(h, want, HL);
    memcpy(h, r, HL);
    wb_merkle_node_hash(h, l, h);
    assert_memory_equal(h, want, HL);
    /* a leaf is never a node: 0x00 vs 0x01 */
    {
        uint8_t two[2 * HL];
        memcpy(two, l, HL);
        memcpy(two + HL, r, HL);
        wb_merkle_leaf_hash(h, two, sizeof(two));
        assert_memory_not_equal(h, want, HL);
    }
}

/*
 * The tree of 7 leaves d0..d6 of the examples in RFC 9162 §2.1.5:
 *              hash
 *             /    \
 *            k      l
 *           / \    / \
 *          g   h  i   j(d6)
 *         / \ / \ / \
 *        a  b c d e  f
 * PATH(3) = [c, g, l], PATH(4) = [f, j, k]
 * PROOF(3, D7) = [c, d, g, l], PROOF(4, D7) = [l], PROOF(6, D7) = [i, j, k]
 */
static void test_rfc_example_tree(void **state)
{
    small_tree t;
    hash a, b, c, d, e, f, j, g, hh, i, k, l, root, proof[WB_MERKLE_MAX_PROOF];
    size_t n;
    (void)state;

    small_init(&t, 7);
    memcpy(a, t.leaf[0], HL);
    memcpy(b, t.leaf[1], HL);
    memcpy(c, t.leaf[2], HL);
    memcpy(d, t.leaf[3], HL);
    memcpy(e, t.leaf[4], HL);
    memcpy(f, t.leaf[5], HL);
    memcpy(j, t.leaf[6], HL);
    wb_merkle_node_hash(g, a, b);
    wb_merkle_node_hash(hh, c, d);
    wb_merkle_node_hash(i, e, f);
    wb_merkle_node_hash(k, g, hh);
    wb_merkle_node_hash(l, i, j);
    wb_merkle_node_hash(root, k, l);

    {
        hash got;
        assert_int_equal(wb_merkle_root(got, 7, small_fn, &t), 0);
        assert_memory_equal(got, root, HL);
    }
    assert_int_equal(wb_merkle_inclusion_proof(proof, &n, 3, 7, small_fn, &t), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(proof[0], c, HL);
    assert_memory_equal(proof[1], g, HL);
    assert_memory_equal(proof[2], l, HL);
    assert_int_equal(wb_merkle_inclusion_verify(d, 3, 7, (const hash *)proof, n, root), 0);

    assert_int_equal(wb_merkle_inclusion_proof(proof, &n, 4, 7, small_fn, &t), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(proof[0], f, HL);
    assert_memory_equal(proof[1], j, HL);
    assert_memory_equal(proof[2], k, HL);
    assert_int_equal(wb_merkle_inclusion_verify(e, 4, 7, (const hash *)proof, n, root), 0);

    /* the last leaf of an odd tree: its sibling comes two levels up */
    assert_int_equal(wb_merkle_inclusion_proof(proof, &n, 6, 7, small_fn, &t), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(proof[0], i, HL);
    assert_memory_equal(proof[1], k, HL);

    {
        hash old3, ab;
        wb_merkle_node_hash(ab, a, b);
        wb_merkle_node_hash(old3, ab, c);
        assert_int_equal(wb_merkle_consistency_proof(proof, &n, 3, 7, small_fn, &t), 0);
        assert_int_equal(n, 4);
        assert_memory_equal(proof[0], c, HL);
        assert_memory_equal(proof[1], d, HL);
        assert_memory_equal(proof[2], g, HL);
        assert_memory_equal(proof[3], l, HL);
        assert_int_equal(wb_merkle_consistency_verify(3, 7, (const hash *)proof, n,
                                                      old3, root), 0);
    }
    assert_int_equal(wb_merkle_consistency_proof(proof, &n, 4, 7, small_fn, &t), 0);
    assert_int_equal(n, 1);
    assert_memory_equal(proof[0], l, HL);
    assert_int_equal(wb_merkle_consistency_verify(4, 7, (const hash *)proof, n, k, root), 0);
    {
        hash old6;
        wb_merkle_node_hash(old6, k, i);
        assert_int_equal(wb_merkle_consistency_proof(proof, &n, 6, 7, small_fn, &t), 0);
        assert_int_equal(n, 3);
        assert_memory_equal(proof[0], i, HL);
        assert_memory_equal(proof[1], j, HL);
        assert_memory_equal(proof[2], k, HL);
        assert_int_equal(wb_merkle_consistency_verify(6, 7, (const hash *)proof, n,
                                                      old6, root), 0);
    }
    /* equal sizes: an empty proof */
    assert_int_equal(wb_merkle_consistency_proof(proof, &n, 7, 7, small_fn, &t), 0);
    assert_int_equal(n, 0);
    assert_int_equal(wb_merkle_consistency_verify(7, 7, (const hash *)proof, 0, root, root), 0);
}

static void test_generation_arguments(void **state)
{
    small_tree t;
    hash proof[WB_MERKLE_MAX_PROOF], h;
    size_t n = 99;
    (void)state;

    small_init(&t, 8);
    wb_error_clear();
    assert_int_equal(wb_merkle_inclusion_proof(proof, &n, 8, 8, small_fn, &t), WB_E_RANGE);
    assert_int_equal(n, 0);
    assert_string_equal(wb_error_message(),
                        "inclusion proof: leaf index 8 is not below the tree size 8");
    assert_int_equal(wb_merkle_inclusion_proof(proof, &n, 0, 0, small_fn, &t), WB_E_RANGE);
    assert_int_equal(wb_merkle_consistency_proof(proof, &n, 0, 8, small_fn, &t), WB_E_RANGE);
    assert_non_null(strstr(wb_error_message(), "0 < size1 <= size2"));
    assert_int_equal(wb_merkle_consistency_proof(proof, &n, 0, 0, small_fn, &t), WB_E_RANGE);
    assert_int_equal(wb_merkle_consistency_proof(proof, &n, 9, 8, small_fn, &t), WB_E_RANGE);
    assert_int_equal(wb_merkle_range_hash(h, 3, 3, small_fn, &t), WB_E_RANGE);
    assert_int_equal(wb_merkle_range_hash(h, 4, 3, small_fn, &t), WB_E_RANGE);
    assert_int_equal(t.calls, 0);
    /* a tree of one leaf: the root is the leaf, the proof is empty */
    assert_int_equal(wb_merkle_inclusion_proof(proof, &n, 0, 1, small_fn, &t), 0);
    assert_int_equal(n, 0);
    assert_int_equal(wb_merkle_root(h, 1, small_fn, &t), 0);
    assert_memory_equal(h, t.leaf[0], HL);
}

/* a failing callback: its code and message come back, with where */
static void test_callback_failure(void **state)
{
    small_tree t;
    hash proof[WB_MERKLE_MAX_PROOF], h;
    size_t n;
    wb_merkle_compact c, before;
    (void)state;

    small_init(&t, 13);
    t.fail_level = 2;
    t.fail_code = WB_E_STORE;
    wb_error_clear();
    assert_int_equal(wb_merkle_inclusion_proof(proof, &n, 0, 13, small_fn, &t), WB_E_STORE);
    assert_int_equal(n, 0);
    assert_string_equal(wb_error_message(),
                        "inclusion proof of leaf 0 in the tree of 13 leaves: Merkle "
                        "subtree at level 2, index 2: tile 2/2 is missing");
    assert_int_equal(wb_merkle_consistency_proof(proof, &n, 5, 13, small_fn, &t), WB_E_STORE);
    assert_non_null(strstr(wb_error_message(), "consistency proof from 5 to 13 leaves"));
    assert_non_null(strstr(wb_error_message(), "is missing"));
    assert_int_equal(wb_merkle_root(h, 13, small_fn, &t), WB_E_STORE);
    assert_non_null(strstr(wb_error_message(), "root of the tree of 13 leaves"));
    assert_int_equal(wb_merkle_range_hash(h, 8, 13, small_fn, &t), WB_E_STORE);

    /* a failed load leaves the compact range as it was */
    t.fail_level = -1;
    assert_int_equal(wb_merkle_compact_load(&c, 5, small_fn, &t), 0);
    before = c;
    t.fail_level = 2;
    assert_int_equal(wb_merkle_compact_load(&c, 13, small_fn, &t), WB_E_STORE);
    assert_non_null(strstr(wb_error_message(), "tree of 13 leaves"));
    assert_memory_equal(&c, &before, sizeof(c));

    /* a callback that breaks the contract (positive) is an internal error */
    t.fail_code = 1;
    assert_int_equal(wb_merkle_inclusion_proof(proof, &n, 0, 13, small_fn, &t), WB_E_INTERNAL);
    assert_int_equal(wb_merkle_compact_load(&c, 13, small_fn, &t), WB_E_INTERNAL);
    assert_memory_equal(&c, &before, sizeof(c));
}

static void test_verify_messages(void **state)
{
    small_tree t;
    hash proof[WB_MERKLE_MAX_PROOF], root, root1, bad;
    size_t n;
    (void)state;

    small_init(&t, 8);
    assert_int_equal(wb_merkle_root(root, 8, small_fn, &t), 0);
    assert_int_equal(wb_merkle_inclusion_proof(proof, &n, 2, 8, small_fn, &t), 0);
    assert_int_equal(n, 3);
    /* too many, too few */
    assert_int_equal(wb_merkle_inclusion_verify(t.leaf[2], 2, 8, (const hash *)proof, 5, root),
                     WB_E_VERIFY);
    assert_string_equal(wb_error_message(),
                        "inclusion proof has 5 hashes, a tree of 8 leaves needs 3 for index 2");
    assert_int_equal(wb_merkle_inclusion_verify(t.leaf[2], 2, 8, (const hash *)proof, 2, root),
                     WB_E_VERIFY);
    assert_int_equal(wb_merkle_inclusion_verify(t.leaf[2], 8, 8, (const hash *)proof, 3, root),
                     WB_E_VERIFY);
    assert_string_equal(wb_error_message(),
                        "inclusion proof: leaf index 8 is not below the tree size 8");
    assert_int_equal(wb_merkle_inclusion_verify(t.leaf[3], 2, 8, (const hash *)proof, 3, root),
                     WB_E_VERIFY);
    assert_string_equal(wb_error_message(),
                        "inclusion proof of leaf 2 in a tree of 8 leaves does not "
                        "lead to the given root");
    /* over the limit: refused before the proof is read (NULL here) */
    assert_int_equal(wb_merkle_inclusion_verify(t.leaf[2], 2, 8, NULL, 65, root), WB_E_VERIFY);
    assert_string_equal(wb_error_message(),
                        "inclusion proof has 65 hashes, over the limit of 64");
    assert_int_equal(wb_merkle_inclusion_verify(t.leaf[2], 2, 8, NULL, SIZE_MAX, root),
                     WB_E_VERIFY);
    assert_int_equal(wb_merkle_consistency_verify(3, 8, NULL, 1000, root, root), WB_E_VERIFY);
    assert_non_null(strstr(wb_error_message(), "over the limit of 64"));

    /* consistency */
    assert_int_equal(wb_merkle_root(root1, 3, small_fn, &t), 0);
    assert_int_equal(wb_merkle_consistency_proof(proof, &n, 3, 8, small_fn, &t), 0);
    assert_int_equal(wb_merkle_consistency_verify(3, 8, (const hash *)proof, n, root1, root), 0);
    assert_int_equal(wb_merkle_consistency_verify(3, 8, (const hash *)proof, n - 1, root1, root),
                     WB_E_VERIFY);
    assert_string_equal(wb_error_message(),
                        "consistency proof has 3 hashes, from 3 to 8 leaves needs 4");
    assert_int_equal(wb_merkle_consistency_verify(3, 8, (const hash *)proof, 0, root1, root),
                     WB_E_VERIFY);
    memcpy(bad, root1, HL);
    bad[31] ^= 1;
    assert_int_equal(wb_merkle_consistency_verify(3, 8, (const hash *)proof, n, bad, root),
                     WB_E_VERIFY);
    assert_non_null(strstr(wb_error_message(), "does not lead to the old root"));
    assert_int_equal(wb_merkle_consistency_verify(3, 8, (const hash *)proof, n, root1, bad),
                     WB_E_VERIFY);
    assert_non_null(strstr(wb_error_message(), "does not lead to the new root"));
    assert_int_equal(wb_merkle_consistency_verify(0, 8, (const hash *)proof, n, root1, root),
                     WB_E_VERIFY);
    assert_non_null(strstr(wb_error_message(), "size 0"));
    assert_int_equal(wb_merkle_consistency_verify(0, 0, (const hash *)proof, 0, root, root),
                     WB_E_VERIFY);
    assert_int_equal(wb_merkle_consistency_verify(9, 8, (const hash *)proof, 0, root, root),
                     WB_E_VERIFY);
    assert_non_null(strstr(wb_error_message(), "larger than the new size"));
    /* equal sizes: empty proof and the same root */
    assert_int_equal(wb_merkle_consistency_verify(8, 8, (const hash *)proof, 0, root, root), 0);
    assert_int_equal(wb_merkle_consistency_verify(8, 8, (const hash *)proof, 1, root, root),
                     WB_E_VERIFY);
    assert_int_equal(wb_merkle_consistency_verify(8, 8, (const hash *)proof, 0, root, bad),
                     WB_E_VERIFY);
}

static wb_span S(const void *p, size_t len)
{
    wb_span s = {p, len};
    return s;
}

static void test_spans(void **state)
{
    small_tree t;
    hash proof[WB_MERKLE_MAX_PROOF], root, root1;
    wb_span items[WB_MERKLE_MAX_PROOF + 2];
    uint8_t long_item[33] = {0};
    size_t n;
    (void)state;

    small_init(&t, 6);
    assert_int_equal(wb_merkle_root(root, 6, small_fn, &t), 0);
    assert_int_equal(wb_merkle_inclusion_proof(proof, &n, 4, 6, small_fn, &t), 0);
    for (size_t i = 0; i < n; i++)
        items[i] = S(proof[i], HL);
    assert_int_equal(wb_merkle_inclusion_verify_spans(S(t.leaf[4], HL), 4, 6, items, n,
                                                      S(root, HL)), 0);
    /* wrong lengths anywhere */
    items[1] = S(proof[1], 31);
    assert_int_equal(wb_merkle_inclusion_verify_spans(S(t.leaf[4], HL), 4, 6, items, n,
                                                      S(root, HL)), WB_E_VERIFY);
    assert_string_equal(wb_error_message(), "inclusion proof hash 1 is 31 bytes, not 32");
    memcpy(long_item, proof[1], HL);
    items[1] = S(long_item, 33);
    assert_int_equal(wb_merkle_inclusion_verify_spans(S(t.leaf[4], HL), 4, 6, items, n,
                                                      S(root, HL)), WB_E_VERIFY);
    items[1] = S(proof[1], HL);
    assert_int_equal(wb_merkle_inclusion_verify_spans(S(t.leaf[4], 31), 4, 6, items, n,
                                                      S(root, HL)), WB_E_VERIFY);
    assert_int_equal(wb_merkle_inclusion_verify_spans(S(t.leaf[4], HL), 4, 6, items, n,
                                                      S(root, 0)), WB_E_VERIFY);
    assert_int_equal(wb_merkle_inclusion_verify_spans(S(t.leaf[4], HL), 4, 6, NULL, 65,
                                                      S(root, HL)), WB_E_VERIFY);

    /* consistency 2 -> 6 */
    assert_int_equal(wb_merkle_root(root1, 2, small_fn, &t), 0);
    assert_int_equal(wb_merkle_consistency_proof(proof, &n, 2, 6, small_fn, &t), 0);
    for (size_t i = 0; i < n; i++)
        items[i] = S(proof[i], HL);
    assert_int_equal(wb_merkle_consistency_verify_spans(2, 6, items, n, S(root1, HL),
                                                        S(root, HL)), 0);
    items[n] = S("", 0); /* trailing garbage */
    assert_int_equal(wb_merkle_consistency_verify_spans(2, 6, items, n + 1, S(root1, HL),
                                                        S(root, HL)), WB_E_VERIFY);
    assert_int_equal(wb_merkle_consistency_verify_spans(2, 6, items, n, S(root1, 12),
                                                        S(root, HL)), WB_E_VERIFY);
    assert_int_equal(wb_merkle_consistency_verify_spans(2, 6, items, n, S(root1, HL),
                                                        S(root, 33)), WB_E_VERIFY);
    /* equal sizes: roots compared as bytes of any length, proof empty */
    assert_int_equal(wb_merkle_consistency_verify_spans(3, 3, NULL, 0, S("don't care", 10),
                                                        S("don't care", 10)), 0);
    assert_int_equal(wb_merkle_consistency_verify_spans(3, 3, NULL, 0, S("", 0), S("", 0)), 0);
    assert_int_equal(wb_merkle_consistency_verify_spans(3, 3, NULL, 0, S("ab", 2), S("a", 1)),
                     WB_E_VERIFY);
    assert_int_equal(wb_merkle_consistency_verify_spans(3, 3, NULL, 0, S("ab", 2), S("ac", 2)),
                     WB_E_VERIFY);
    assert_int_equal(wb_merkle_consistency_verify_spans(3, 3, items, 1, S(root, HL),
                                                        S(root, HL)), WB_E_VERIFY);
    /* size 0 never, whatever else */
    assert_int_equal(wb_merkle_consistency_verify_spans(0, 0, NULL, 0, S("x", 1), S("x", 1)),
                     WB_E_VERIFY);
    assert_int_equal(wb_merkle_consistency_verify_spans(0, 6, items, n, S(root1, HL),
                                                        S(root, HL)), WB_E_VERIFY);
    assert_int_equal(wb_merkle_consistency_verify_spans(7, 6, NULL, 0, S(root, HL),
                                                        S(root, HL)), WB_E_VERIFY);
}

static void test_compact_basics(void **state)
{
    small_tree t;
    wb_merkle_compact c;
    hash h, want;
    (void)state;

    small_init(&t, 64);
    wb_merkle_compact_init(&c);
    wb_merkle_compact_root(&c, h);
    wb_merkle_empty_root(want);
    assert_memory_equal(h, want, HL);
    /* load of size 0 is the empty range, with no callback */
    assert_int_equal(wb_merkle_compact_load(&c, 0, small_fn, &t), 0);
    assert_int_equal(t.calls, 0);
    assert_true(c.size == 0);
    for (uint64_t s = 1; s <= 64; s++) {
        t.size = s;
        assert_int_equal(wb_merkle_compact_append(&c, t.leaf[s - 1], NULL, NULL), 0);
        wb_merkle_compact_root(&c, h);
        assert_int_equal(wb_merkle_root(want, s, small_fn, &t), 0);
        assert_memory_equal(h, want, HL);
    }
    /* the struct is plain data: a copy goes on independently */
    {
        wb_merkle_compact copy = c;
        small_init(&t, 64);
        assert_int_equal(wb_merkle_compact_append(&copy, t.leaf[0], NULL, NULL), 0);
        assert_true(copy.size == 65 && c.size == 64);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_known_answers),
        cmocka_unit_test(test_rfc_example_tree),
        cmocka_unit_test(test_generation_arguments),
        cmocka_unit_test(test_callback_failure),
        cmocka_unit_test(test_verify_messages),
        cmocka_unit_test(test_spans),
        cmocka_unit_test(test_compact_basics),
    };
    return cmocka_run_group_tests_name("merkle", tests, NULL, NULL);
}
