/*
 * test_properties.c: the Merkle module (RFC 9162 §2.1) against the RFC's own
 * recursive definitions, on in-memory trees.
 *
 * The reference side is written straight from the RFC text and shares no code
 * with src/lib/merkle: MTH by its recursion (§2.1.1), and "reference
 * verifiers" that rebuild the root(s) from a proof by walking the recursive
 * definitions of PATH (§2.1.3.1) and SUBPROOF (§2.1.4.1) backwards, instead
 * of the bit-walking algorithms of §2.1.3.2 and §2.1.4.2 that the module
 * implements. Node and leaf hashes on this side are computed with
 * wb_sha256 over explicit 0x00/0x01-prefixed buffers.
 *
 * What is checked:
 * - every tree size 1..1024: wb_merkle_root against the naive MTH; every
 *   leaf index an inclusion proof and every old size a consistency proof,
 *   generated through the callback, verified by the module and by the
 *   reference verifier, with at most 2·bitlen(n) + 1 callback calls per
 *   proof (O(log n)) and no call for a subtree outside the tree;
 * - the compact range: appending 1..2^17 leaves, its root against the naive
 *   MTH (<= 1024) and wb_merkle_root (beyond), the visitor reporting exactly
 *   the perfect subtrees each append completes, wb_merkle_compact_load at
 *   every size up to 1024 and at sampled sizes beyond;
 * - random sizes up to 10^5 and sizes next to powers of two, with sampled
 *   indexes and old sizes;
 * - trees of more than 2^32 leaves (up to 2^64 - 1) whose leaves repeat with
 *   period 2^10, a genuine RFC tree whose perfect subtrees can be computed
 *   without 2^32 hashes;
 * - mutations of sampled proofs: every bit of every proof hash, of the
 *   root(s) and of the leaf hash must make verification fail; a proof one
 *   hash shorter or longer must fail; every bit of the index and sizes is
 *   flipped and the module must give the reference verifier's answer (an
 *   inclusion proof does not by itself bind the tree size: the proof for
 *   leaf 0 of 8 leaves also verifies as leaf 0 of 7, so a flipped size may
 *   legitimately pass; a flipped index in a tree of distinct leaves never).
 *
 * WB_SLOW=1 samples more (the exhaustive sizes always run in full).
 */
#include "wbtest.h"

#include <string.h>
#include <time.h>

#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/merkle.h"

#define HL WB_HASH_LEN
#define TREE_LOG 17
#define TREE_MAX (UINT64_C(1) << TREE_LOG) /* 131072 leaves, above 10^5 */
#define EXHAUSTIVE 1024
#define PERIOD_LOG 10 /* big trees repeat the first 1024 leaves */

typedef uint8_t hash[HL];

static struct {
    hash *level[TREE_LOG + 1]; /* level[l][i]: perfect subtree (l, i) */
    hash *root;                /* root[n], n <= TREE_MAX, from the compact range */
    hash naive[EXHAUSTIVE + 1];/* naive MTH of the first n leaves */
    hash top[64];              /* periodic tree: subtrees above PERIOD_LOG */
    int slow;
    uint64_t rng;
} T;

/* ---- the reference side: RFC 9162 text, nothing from src/lib/merkle ---- */

static void ref_leaf(hash out, const void *data, size_t len)
{
    uint8_t buf[64];
    assert_true(len < sizeof(buf));
    buf[0] = 0x00;
    memcpy(buf + 1, data, len);
    assert_int_equal(wb_sha256(out, buf, len + 1), 0);
}

static void ref_node(hash out, const hash left, const hash right)
{
    uint8_t buf[1 + 2 * HL];
    buf[0] = 0x01;
    memcpy(buf + 1, left, HL);
    memcpy(buf + 1 + HL, right, HL);
    assert_int_equal(wb_sha256(out, buf, sizeof(buf)), 0);
}

/* k of the RFC: the largest power of two smaller than n (n >= 2) */
static uint64_t ref_split(uint64_t n)
{
    uint64_t k = 1;
    while (k < n - k) /* k * 2 < n, without overflow */
        k <<= 1;
    return k;
}

/* MTH(D[lo : lo+n]) by the RFC recursion, over the leaf table */
static void naive_mth(hash out, uint64_t lo, uint64_t n)
{
    hash l, r;
    uint64_t k;
    if (n == 1) {
        memcpy(out, T.level[0][lo], HL);
        return;
    }
    k = ref_split(n);
    naive_mth(l, lo, k);
    naive_mth(r, lo + k, n - k);
    ref_node(out, l, r);
}

/*
 * PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])    for m < k
 *              = PATH(m-k, D[k:n]) : MTH(D[0:k])  for m >= k
 * so the last hash of a proof is the top sibling; rebuild the root from it.
 */
static int ref_path(hash out, const hash leaf, uint64_t m, uint64_t n,
                    const hash *p, size_t len)
{
    hash sub;
    uint64_t k;
    if (n == 1) {
        if (len != 0)
            return 0;
        memcpy(out, leaf, HL);
        return 1;
    }
    if (len == 0)
        return 0;
    k = ref_split(n);
    if (m < k) {
        if (!ref_path(sub, leaf, m, k, p, len - 1))
            return 0;
        ref_node(out, sub, p[len - 1]);
    } else {
        if (!ref_path(sub, leaf, m - k, n - k, p, len - 1))
            return 0;
        ref_node(out, p[len - 1], sub);
    }
    return 1;
}

static int ref_inclusion(const hash leaf, uint64_t m, uint64_t n, const hash *p,
                         size_t len, const hash root)
{
    hash r;
    return m < n && ref_path(r, leaf, m, n, p, len) && memcmp(r, root, HL) == 0;
}

static size_t ref_path_len(uint64_t m, uint64_t n)
{
    uint64_t k;
    if (n == 1)
        return 0;
    k = ref_split(n);
    return 1 + (m < k ? ref_path_len(m, k) : ref_path_len(m - k, n - k));
}

/*
 * SUBPROOF(m, D[m], true)  = {}
 * SUBPROOF(m, D[m], false) = {MTH(D[m])}
 * SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])       m <= k
 *                      = SUBPROOF(m-k, D[k:n], false) : MTH(D[0:k]) m > k
 * Rebuilds the hash of the old part (old) and of the whole node (new).
 */
static int ref_sub(hash old, hash new_, uint64_t m, uint64_t n, int b,
                   const hash root1, const hash *p, size_t len)
{
    hash o, nw;
    uint64_t k;
    if (m == n) {
        if (b) {
            if (len != 0)
                return 0;
            memcpy(old, root1, HL);
            memcpy(new_, root1, HL);
        } else {
            if (len != 1)
                return 0;
            memcpy(old, p[0], HL);
            memcpy(new_, p[0], HL);
        }
        return 1;
    }
    if (len == 0)
        return 0;
    k = ref_split(n);
    if (m <= k) {
        if (!ref_sub(o, nw, m, k, b, root1, p, len - 1))
            return 0;
        memcpy(old, o, HL);
        ref_node(new_, nw, p[len - 1]);
    } else {
        if (!ref_sub(o, nw, m - k, n - k, 0, root1, p, len - 1))
            return 0;
        ref_node(old, p[len - 1], o);
        ref_node(new_, p[len - 1], nw);
    }
    return 1;
}

static int ref_consistency(uint64_t m, uint64_t n, const hash *p, size_t len,
                           const hash root1, const hash root2)
{
    hash o, nw;
    return m > 0 && m <= n && ref_sub(o, nw, m, n, 1, root1, p, len) &&
           memcmp(o, root1, HL) == 0 && memcmp(nw, root2, HL) == 0;
}

static size_t ref_sub_len(uint64_t m, uint64_t n, int b)
{
    uint64_t k;
    if (m == n)
        return b ? 0 : 1;
    k = ref_split(n);
    return 1 + (m <= k ? ref_sub_len(m, k, b) : ref_sub_len(m - k, n - k, 0));
}

/* ---- the tree behind the callback ---- */

typedef struct {
    uint64_t size;       /* callbacks must stay inside [0, size) */
    unsigned long calls;
    int periodic;        /* leaves repeat every 2^PERIOD_LOG */
} reader;

static int tree_fn(void *ctx, uint8_t out[HL], unsigned level, uint64_t index)
{
    reader *r = ctx;
    r->calls++;
    if (level > 63 || index >= (r->size >> level))
        fail_msg("callback asked for subtree (%u, %llu), outside the tree of "
                 "%llu leaves", level, (unsigned long long)index,
                 (unsigned long long)r->size);
    if (r->periodic) {
        if (level <= PERIOD_LOG)
            memcpy(out,
                   T.level[level][index & ((UINT64_C(1) << (PERIOD_LOG - level)) - 1)],
                   HL);
        else
            memcpy(out, T.top[level], HL);
    } else {
        assert_true(level <= TREE_LOG);
        memcpy(out, T.level[level][index], HL);
    }
    return 0;
}

static reader tree(uint64_t size)
{
    reader r = {size, 0, 0};
    return r;
}

static reader periodic(uint64_t size)
{
    reader r = {size, 0, 1};
    return r;
}

/* the leaf hash at index of the tree r reads */
static const uint8_t *leaf_of(const reader *r, uint64_t index)
{
    if (r->periodic)
        return T.level[0][index & ((UINT64_C(1) << PERIOD_LOG) - 1)];
    return T.level[0][index];
}

static unsigned bitlen(uint64_t x)
{
    unsigned n = 0;
    while (x) {
        n++;
        x >>= 1;
    }
    return n;
}

/* the callback budget of one proof: O(log n) */
static unsigned long budget(uint64_t n)
{
    return 2ul * bitlen(n) + 1;
}

static int setup(void **state)
{
    (void)state;
    T.slow = getenv("WB_SLOW") != NULL;
    T.rng = wbt_seed("merkle properties");
    for (unsigned l = 0; l <= TREE_LOG; l++) {
        T.level[l] = calloc((size_t)(TREE_MAX >> l), sizeof(hash));
        assert_non_null(T.level[l]);
    }
    for (uint64_t i = 0; i < TREE_MAX; i++) {
        uint8_t data[16] = "leaf";
        for (int b = 0; b < 8; b++)
            data[8 + b] = (uint8_t)(i >> (56 - 8 * b));
        ref_leaf(T.level[0][i], data, sizeof(data));
    }
    for (unsigned l = 1; l <= TREE_LOG; l++)
        for (uint64_t i = 0; i < (TREE_MAX >> l); i++)
            ref_node(T.level[l][i], T.level[l - 1][2 * i],
                     T.level[l - 1][2 * i + 1]);
    memcpy(T.top[PERIOD_LOG], T.level[PERIOD_LOG][0], HL);
    for (unsigned l = PERIOD_LOG + 1; l < 64; l++)
        ref_node(T.top[l], T.top[l - 1], T.top[l - 1]);
    for (uint64_t n = 1; n <= EXHAUSTIVE; n++)
        naive_mth(T.naive[n], 0, n);
    /*
     * roots of every size up to TREE_MAX: MTH splits off the largest perfect
     * subtree on the left, so the root is the right-to-left fold of the
     * perfect subtrees for the set bits of n (checked against the naive MTH
     * in test_roots)
     */
    T.root = calloc((size_t)TREE_MAX + 1, sizeof(hash));
    assert_non_null(T.root);
    assert_int_equal(wb_sha256(T.root[0], "", 0), 0);
    for (uint64_t n = 1; n <= TREE_MAX; n++) {
        hash acc;
        uint64_t end = n;
        int have = 0;
        for (unsigned l = 0; l <= TREE_LOG; l++) {
            if (!((n >> l) & 1))
                continue;
            end -= UINT64_C(1) << l;
            if (have) {
                ref_node(acc, T.level[l][end >> l], acc);
            } else {
                memcpy(acc, T.level[l][end >> l], HL);
                have = 1;
            }
        }
        memcpy(T.root[n], acc, HL);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (unsigned l = 0; l <= TREE_LOG; l++)
        free(T.level[l]);
    free(T.root);
    return 0;
}

static uint64_t rnd(uint64_t bound) /* uniform enough in [0, bound) */
{
    return wbt_rand(&T.rng) % bound;
}

/* ---- generation + verification of one proof ---- */

static unsigned long max_calls_ratio_num, max_calls_ratio_den = 1;

static void note_calls(unsigned long calls, uint64_t n)
{
    if (calls > budget(n))
        fail_msg("%lu callback calls for one proof in a tree of %llu leaves, "
                 "over the budget of %lu", calls, (unsigned long long)n,
                 budget(n));
    if (calls * max_calls_ratio_den > max_calls_ratio_num * bitlen(n)) {
        max_calls_ratio_num = calls;
        max_calls_ratio_den = bitlen(n);
    }
}

static void check_inclusion(reader *r, uint64_t m, const hash root, int with_ref)
{
    hash proof[WB_MERKLE_MAX_PROOF];
    size_t n;
    int rc;

    r->calls = 0;
    rc = wb_merkle_inclusion_proof(proof, &n, m, r->size, tree_fn, r);
    if (rc != 0)
        fail_msg("inclusion proof %llu/%llu: %s", (unsigned long long)m,
                 (unsigned long long)r->size, wb_error_message());
    note_calls(r->calls, r->size);
    rc = wb_merkle_inclusion_verify(leaf_of(r, m), m, r->size,
                                    (const hash *)proof, n, root);
    if (rc != 0)
        fail_msg("inclusion proof %llu/%llu does not verify: %s",
                 (unsigned long long)m, (unsigned long long)r->size,
                 wb_error_message());
    if (with_ref) {
        assert_int_equal(n, ref_path_len(m, r->size));
        if (!ref_inclusion(leaf_of(r, m), m, r->size, (const hash *)proof, n, root))
            fail_msg("inclusion proof %llu/%llu fails the RFC 9162 PATH "
                     "reference", (unsigned long long)m,
                     (unsigned long long)r->size);
    }
}

static void check_consistency(reader *r, uint64_t m, const hash root1,
                              const hash root2, int with_ref)
{
    hash proof[WB_MERKLE_MAX_PROOF];
    size_t n;
    int rc;

    r->calls = 0;
    rc = wb_merkle_consistency_proof(proof, &n, m, r->size, tree_fn, r);
    if (rc != 0)
        fail_msg("consistency proof %llu->%llu: %s", (unsigned long long)m,
                 (unsigned long long)r->size, wb_error_message());
    note_calls(r->calls, r->size);
    rc = wb_merkle_consistency_verify(m, r->size, (const hash *)proof, n, root1,
                                      root2);
    if (rc != 0)
        fail_msg("consistency proof %llu->%llu does not verify: %s",
                 (unsigned long long)m, (unsigned long long)r->size,
                 wb_error_message());
    if (with_ref) {
        assert_int_equal(n, ref_sub_len(m, r->size, 1));
        if (!ref_consistency(m, r->size, (const hash *)proof, n, root1, root2))
            fail_msg("consistency proof %llu->%llu fails the RFC 9162 SUBPROOF "
                     "reference", (unsigned long long)m,
                     (unsigned long long)r->size);
    }
}

/* ---- exhaustive sizes 1..1024 ---- */

static void test_roots(void **state)
{
    hash h, empty;
    (void)state;

    for (uint64_t n = 1; n <= EXHAUSTIVE; n++) {
        reader r = tree(n);
        assert_int_equal(wb_merkle_root(h, n, tree_fn, &r), 0);
        if (memcmp(h, T.naive[n], HL) != 0)
            fail_msg("wb_merkle_root(%llu) differs from the naive MTH",
                     (unsigned long long)n);
        assert_true(r.calls == (unsigned long)__builtin_popcountll(n));
        assert_memory_equal(T.root[n], T.naive[n], HL);
    }
    {
        const uint64_t sizes[] = {1025, 4097, 65535, 65536, 65537, 100000, TREE_MAX};
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            naive_mth(h, 0, sizes[i]);
            assert_memory_equal(h, T.root[sizes[i]], HL);
        }
    }
    /* the empty tree: SHA-256("") without any callback */
    {
        reader r = tree(0);
        assert_int_equal(wb_sha256(empty, "", 0), 0);
        assert_int_equal(wb_merkle_root(h, 0, tree_fn, &r), 0);
        assert_memory_equal(h, empty, HL);
        assert_int_equal(r.calls, 0);
    }
    /* any range, aligned or not, is MTH of that sub-list */
    for (uint64_t b = 0; b < 70; b++)
        for (uint64_t e = b + 1; e <= 70; e++) {
            hash want;
            reader r = tree(e);
            naive_mth(want, b, e - b);
            assert_int_equal(wb_merkle_range_hash(h, b, e, tree_fn, &r), 0);
            if (memcmp(h, want, HL) != 0)
                fail_msg("range [%llu, %llu) differs from the naive MTH",
                         (unsigned long long)b, (unsigned long long)e);
        }
    printf("roots of sizes 0..%d (and 7 larger) and 2485 ranges match the "
           "naive MTH\n", EXHAUSTIVE);
}

static void test_inclusion_exhaustive(void **state)
{
    unsigned long proofs = 0;
    (void)state;

    for (uint64_t n = 1; n <= EXHAUSTIVE; n++) {
        reader r = tree(n);
        for (uint64_t m = 0; m < n; m++) {
            check_inclusion(&r, m, T.naive[n], 1);
            proofs++;
        }
    }
    printf("inclusion: %lu proofs (every index of every size 1..%d) generated "
           "and verified, by the module and the PATH reference\n",
           proofs, EXHAUSTIVE);
    assert_int_equal(proofs, EXHAUSTIVE * (EXHAUSTIVE + 1) / 2);
}

static void test_consistency_exhaustive(void **state)
{
    unsigned long proofs = 0;
    (void)state;

    for (uint64_t n = 1; n <= EXHAUSTIVE; n++) {
        reader r = tree(n);
        for (uint64_t m = 1; m <= n; m++) {
            check_consistency(&r, m, T.naive[m], T.naive[n], 1);
            proofs++;
        }
    }
    printf("consistency: %lu proofs (every old size of every size 1..%d) "
           "generated and verified, by the module and the SUBPROOF "
           "reference\n", proofs, EXHAUSTIVE);
    assert_int_equal(proofs, EXHAUSTIVE * (EXHAUSTIVE + 1) / 2);
    printf("most callback calls per proof (relative to log n): %lu for a "
           "tree size of %lu bits\n",
           max_calls_ratio_num, max_calls_ratio_den);
}

/* ---- the compact range ---- */

typedef struct {
    unsigned count;
    unsigned level[65];
    uint64_t index[65];
    hash h[65];
    int fail_at; /* level at which to fail, -1 for never */
} visits;

static int record(void *ctx, unsigned level, uint64_t index, const uint8_t h[HL])
{
    visits *v = ctx;
    assert_true(v->count < 65);
    if ((int)level == v->fail_at)
        return wb_error_set(WB_E_STORE, "disk full");
    v->level[v->count] = level;
    v->index[v->count] = index;
    memcpy(v->h[v->count], h, HL);
    v->count++;
    return 0;
}

/* the set-bit slots and size of two compact ranges are equal */
static void compact_equal(const wb_merkle_compact *a, const wb_merkle_compact *b)
{
    assert_true(a->size == b->size);
    for (unsigned l = 0; l < 64; l++)
        if ((a->size >> l) & 1)
            assert_memory_equal(a->hashes[l], b->hashes[l], HL);
}

static void test_compact(void **state)
{
    wb_merkle_compact c, loaded;
    unsigned long loads = 0, checked_roots = 0;
    (void)state;

    wb_merkle_compact_init(&c);
    assert_true(c.size == 0);
    {
        hash h;
        wb_merkle_compact_root(&c, h);
        assert_memory_equal(h, T.root[0], HL);
    }
    for (uint64_t s = 1; s <= TREE_MAX; s++) {
        visits v = {0};
        unsigned tz = (unsigned)__builtin_ctzll(s);

        v.fail_at = -1;
        assert_int_equal(wb_merkle_compact_append(&c, T.level[0][s - 1], record, &v), 0);
        assert_true(c.size == s);
        /* exactly the perfect subtrees ending at leaf s, lowest first */
        assert_int_equal(v.count, tz + 1);
        for (unsigned i = 0; i <= tz; i++) {
            assert_int_equal(v.level[i], i);
            assert_true(v.index[i] == (s >> i) - 1);
            assert_memory_equal(v.h[i], T.level[i][(s >> i) - 1], HL);
        }
        {
            hash h;
            wb_merkle_compact_root(&c, h);
            assert_memory_equal(h, T.root[s], HL);
            checked_roots++;
        }
        if (s <= EXHAUSTIVE || s % 997 == 0 || (s & (s - 1)) == 0 ||
            ((s + 1) & s) == 0) {
            reader r = tree(s);
            hash h;
            wb_merkle_compact_init(&loaded);
            assert_int_equal(wb_merkle_compact_load(&loaded, s, tree_fn, &r), 0);
            assert_int_equal(r.calls, (unsigned long)__builtin_popcountll(s));
            compact_equal(&c, &loaded);
            wb_merkle_compact_root(&loaded, h);
            assert_memory_equal(h, T.root[s], HL);
            r.calls = 0;
            assert_int_equal(wb_merkle_root(h, s, tree_fn, &r), 0);
            assert_memory_equal(h, T.root[s], HL);
            loads++;
        }
    }
    printf("compact range: %llu appends, visitor and root checked after "
           "each (%lu roots), %lu loads\n",
           (unsigned long long)TREE_MAX, checked_roots, loads);
}

/* a failing visitor leaves the compact range as it was */
static void test_compact_visitor_failure(void **state)
{
    wb_merkle_compact c, before;
    reader r = tree(7);
    visits v = {0};
    hash root_before, root_after;
    (void)state;

    assert_int_equal(wb_merkle_compact_load(&c, 7, tree_fn, &r), 0);
    before = c;
    wb_merkle_compact_root(&c, root_before);
    v.fail_at = 2; /* leaf 7 completes levels 0..3: fail half-way */
    wb_error_clear();
    assert_int_equal(wb_merkle_compact_append(&c, T.level[0][7], record, &v),
                     WB_E_STORE);
    assert_non_null(strstr(wb_error_message(), "disk full"));
    assert_int_equal(v.count, 2);
    assert_memory_equal(&c, &before, sizeof(c));
    wb_merkle_compact_root(&c, root_after);
    assert_memory_equal(root_after, root_before, HL);
    /* and the append then works */
    v.count = 0;
    v.fail_at = -1;
    assert_int_equal(wb_merkle_compact_append(&c, T.level[0][7], record, &v), 0);
    assert_int_equal(v.count, 4);
    wb_merkle_compact_root(&c, root_after);
    assert_memory_equal(root_after, T.naive[8], HL);
}

/* ---- random sizes up to 10^5 and sizes next to powers of two ---- */

static void sample_size(uint64_t n, unsigned per_size, unsigned long *proofs)
{
    reader r = tree(n);
    hash root;

    assert_int_equal(wb_merkle_root(root, n, tree_fn, &r), 0);
    assert_memory_equal(root, T.root[n], HL);
    for (unsigned i = 0; i < per_size; i++) {
        uint64_t m = i == 0 ? 0 : i == 1 ? n - 1 : rnd(n);
        uint64_t old = i == 0 ? 1 : i == 1 ? n : 1 + rnd(n);
        check_inclusion(&r, m, T.root[n], 1);
        check_consistency(&r, old, T.root[old], T.root[n], 1);
        *proofs += 2;
    }
    /* old sizes that are powers of two (the proof omits the old root) */
    for (uint64_t old = 1; old <= n; old <<= 1) {
        check_consistency(&r, old, T.root[old], T.root[n], 1);
        (*proofs)++;
    }
}

static void test_random_sizes(void **state)
{
    unsigned long proofs = 0, sizes = 0;
    unsigned count = T.slow ? 2000 : 200;
    unsigned per_size = T.slow ? 64 : 16;
    (void)state;

    for (unsigned i = 0; i < count; i++) {
        sample_size(1 + rnd(100000), per_size, &proofs);
        sizes++;
    }
    for (unsigned k = 1; k <= TREE_LOG; k++) {
        uint64_t p = UINT64_C(1) << k;
        sample_size(p - 1, per_size, &proofs);
        sample_size(p, per_size, &proofs);
        if (p + 1 <= TREE_MAX)
            sample_size(p + 1, per_size, &proofs), sizes++;
        sizes += 2;
    }
    printf("random and 2^k+-1 sizes: %lu sizes up to %llu, %lu proofs\n",
           sizes, (unsigned long long)TREE_MAX, proofs);
}

/* ---- trees of more than 2^32 leaves ---- */

static void test_big_trees(void **state)
{
    const uint64_t sizes[] = {
        (UINT64_C(1) << 32) - 1, UINT64_C(1) << 32, (UINT64_C(1) << 32) + 1,
        (UINT64_C(1) << 32) + 12345, (UINT64_C(3) << 32) + 7,
        (UINT64_C(1) << 40) + 0x123456789ull, UINT64_C(0x00f0f0f0f0f0f0f1),
        (UINT64_C(1) << 63) - 1, UINT64_C(1) << 63, (UINT64_C(1) << 63) + 5,
        UINT64_MAX - 1, UINT64_MAX,
    };
    unsigned long proofs = 0, limited = 0;
    (void)state;

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint64_t n = sizes[i];
        reader r = periodic(n);
        wb_merkle_compact c;
        hash root, croot;

        assert_int_equal(wb_merkle_root(root, n, tree_fn, &r), 0);
        r.calls = 0;
        assert_int_equal(wb_merkle_compact_load(&c, n, tree_fn, &r), 0);
        wb_merkle_compact_root(&c, croot);
        assert_memory_equal(root, croot, HL);

        for (unsigned j = 0; j < 24; j++) {
            uint64_t m = j == 0 ? 0 : j == 1 ? n - 1 : j == 2 ? n / 2 : rnd(n);
            uint64_t old = j == 0 ? 1 : j == 1 ? n : j == 2 ? n - 1
                         : j == 3 ? (UINT64_C(1) << 32) : 1 + rnd(n);
            hash proof[WB_MERKLE_MAX_PROOF], oldroot;
            size_t len;
            int rc;

            if (old > n)
                old = n;
            check_inclusion(&r, m, root, 1);
            proofs++;
            r.size = old;
            assert_int_equal(wb_merkle_root(oldroot, old, tree_fn, &r), 0);
            r.size = n;
            if (ref_sub_len(old, n, 1) <= WB_MERKLE_MAX_PROOF) {
                check_consistency(&r, old, oldroot, root, 1);
                proofs++;
            } else {
                /* only trees of more than 2^63 leaves need more */
                assert_true(n > (UINT64_C(1) << 63));
                rc = wb_merkle_consistency_proof(proof, &len, old, n, tree_fn, &r);
                assert_int_equal(rc, WB_E_LIMIT);
                limited++;
            }
        }
        /* appending to a loaded range goes on where it stopped */
        if (n < UINT64_MAX) {
            visits v = {0};
            reader r1 = periodic(n + 1);
            v.fail_at = -1;
            assert_int_equal(wb_merkle_compact_append(&c, leaf_of(&r1, n), record, &v), 0);
            assert_int_equal(v.count, (unsigned)__builtin_ctzll(n + 1) + 1);
            assert_true(v.index[v.count - 1] == ((n + 1) >> (v.count - 1)) - 1);
            wb_merkle_compact_root(&c, croot);
            assert_int_equal(wb_merkle_root(root, n + 1, tree_fn, &r1), 0);
            assert_memory_equal(root, croot, HL);
        } else {
            wb_error_clear();
            assert_int_equal(wb_merkle_compact_append(&c, T.level[0][0], NULL, NULL),
                             WB_E_LIMIT);
            assert_true(c.size == UINT64_MAX);
        }
    }
    printf("big trees: %zu sizes from 2^32-1 to 2^64-1, %lu proofs, %lu "
           "consistency proofs over 64 hashes refused\n",
           sizeof(sizes) / sizeof(sizes[0]), proofs, limited);
}

/* ---- mutations ---- */

typedef struct {
    unsigned long rejected, index_flips, size_flips;
    unsigned long incl_size_passed, cons_size1_passed, cons_size2_passed;
} mutstats;

static void flip(uint8_t *h, unsigned bit)
{
    h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
}

static void mutate_inclusion(reader *r, uint64_t m, const hash root, int distinct,
                             mutstats *st)
{
    hash proof[WB_MERKLE_MAX_PROOF + 1], leaf, rt;
    size_t n;
    uint64_t size = r->size;

    assert_int_equal(wb_merkle_inclusion_proof(proof, &n, m, size, tree_fn, r), 0);
    memcpy(leaf, leaf_of(r, m), HL);
    memcpy(rt, root, HL);
#define INCL(lf, idx, sz, p, len, rt_)                                         \
    wb_merkle_inclusion_verify(lf, idx, sz, (const hash *)(p), len, rt_)
    assert_int_equal(INCL(leaf, m, size, proof, n, rt), 0);
    for (size_t i = 0; i < n; i++)
        for (unsigned b = 0; b < 8 * HL; b++) {
            flip(proof[i], b);
            assert_int_equal(INCL(leaf, m, size, proof, n, rt), WB_E_VERIFY);
            flip(proof[i], b);
            st->rejected++;
        }
    for (unsigned b = 0; b < 8 * HL; b++) {
        flip(rt, b);
        assert_int_equal(INCL(leaf, m, size, proof, n, rt), WB_E_VERIFY);
        flip(rt, b);
        flip(leaf, b);
        assert_int_equal(INCL(leaf, m, size, proof, n, rt), WB_E_VERIFY);
        flip(leaf, b);
        st->rejected += 2;
    }
    /* one hash fewer, at either end; one more, at either end */
    if (n > 0) {
        assert_int_equal(INCL(leaf, m, size, proof, n - 1, rt), WB_E_VERIFY);
        assert_int_equal(INCL(leaf, m, size, proof + 1, n - 1, rt), WB_E_VERIFY);
        st->rejected += 2;
    }
    if (n < WB_MERKLE_MAX_PROOF) {
        hash longer[WB_MERKLE_MAX_PROOF + 1];
        memcpy(proof[n], rt, HL);
        assert_int_equal(INCL(leaf, m, size, proof, n + 1, rt), WB_E_VERIFY);
        memcpy(longer[0], leaf, HL);
        memcpy(longer + 1, proof, n * HL);
        assert_int_equal(INCL(leaf, m, size, longer, n + 1, rt), WB_E_VERIFY);
        st->rejected += 2;
    }
    /* every bit of the index and of the size */
    for (unsigned b = 0; b < 64; b++) {
        uint64_t m2 = m ^ (UINT64_C(1) << b), s2 = size ^ (UINT64_C(1) << b);
        int got = INCL(leaf, m2, size, proof, n, rt);
        int want = ref_inclusion(leaf, m2, size, (const hash *)proof, n, rt);
        if ((got == 0) != want || (distinct && got == 0))
            fail_msg("leaf %llu of %llu verified as leaf %llu: module %d, "
                     "reference %d", (unsigned long long)m,
                     (unsigned long long)size, (unsigned long long)m2, got, want);
        st->index_flips++;
        got = INCL(leaf, m, s2, proof, n, rt);
        want = ref_inclusion(leaf, m, s2, (const hash *)proof, n, rt);
        if ((got == 0) != want)
            fail_msg("leaf %llu of %llu checked as a tree of %llu: module %d, "
                     "reference %d", (unsigned long long)m,
                     (unsigned long long)size, (unsigned long long)s2, got, want);
        st->size_flips++;
        st->incl_size_passed += got == 0;
    }
#undef INCL
}

static void mutate_consistency(reader *r, uint64_t m, const hash root1,
                               const hash root2, mutstats *st)
{
    hash proof[WB_MERKLE_MAX_PROOF + 1], r1, r2;
    size_t n;
    uint64_t size = r->size;

    assert_int_equal(wb_merkle_consistency_proof(proof, &n, m, size, tree_fn, r), 0);
    memcpy(r1, root1, HL);
    memcpy(r2, root2, HL);
#define CONS(s1, s2, p, len)                                                   \
    wb_merkle_consistency_verify(s1, s2, (const hash *)(p), len, r1, r2)
    assert_int_equal(CONS(m, size, proof, n), 0);
    for (size_t i = 0; i < n; i++)
        for (unsigned b = 0; b < 8 * HL; b++) {
            flip(proof[i], b);
            assert_int_equal(CONS(m, size, proof, n), WB_E_VERIFY);
            flip(proof[i], b);
            st->rejected++;
        }
    for (unsigned b = 0; b < 8 * HL; b++) {
        flip(r1, b);
        assert_int_equal(CONS(m, size, proof, n), WB_E_VERIFY);
        flip(r1, b);
        flip(r2, b);
        assert_int_equal(CONS(m, size, proof, n), WB_E_VERIFY);
        flip(r2, b);
        st->rejected += 2;
    }
    if (n > 0) {
        assert_int_equal(CONS(m, size, proof, n - 1), WB_E_VERIFY);
        assert_int_equal(CONS(m, size, proof + 1, n - 1), WB_E_VERIFY);
        st->rejected += 2;
    }
    if (n < WB_MERKLE_MAX_PROOF) {
        hash longer[WB_MERKLE_MAX_PROOF + 1];
        memcpy(proof[n], r2, HL);
        assert_int_equal(CONS(m, size, proof, n + 1), WB_E_VERIFY);
        memcpy(longer[0], r1, HL);
        memcpy(longer + 1, proof, n * HL);
        assert_int_equal(CONS(m, size, longer, n + 1), WB_E_VERIFY);
        st->rejected += 2;
    }
    for (unsigned b = 0; b < 64; b++) {
        uint64_t m2 = m ^ (UINT64_C(1) << b), s2 = size ^ (UINT64_C(1) << b);
        int got = CONS(m2, size, proof, n);
        int want = ref_consistency(m2, size, (const hash *)proof, n, r1, r2);
        st->cons_size1_passed += got == 0;
        if ((got == 0) != want)
            fail_msg("consistency %llu->%llu checked as %llu->%llu: module %d, "
                     "reference %d", (unsigned long long)m,
                     (unsigned long long)size, (unsigned long long)m2,
                     (unsigned long long)size, got, want);
        got = CONS(m, s2, proof, n);
        want = ref_consistency(m, s2, (const hash *)proof, n, r1, r2);
        if ((got == 0) != want)
            fail_msg("consistency %llu->%llu checked as %llu->%llu: module %d, "
                     "reference %d", (unsigned long long)m,
                     (unsigned long long)size, (unsigned long long)m,
                     (unsigned long long)s2, got, want);
        st->size_flips += 2;
        st->cons_size2_passed += got == 0;
    }
#undef CONS
}

static void test_mutations(void **state)
{
    mutstats st = {0};
    unsigned samples = T.slow ? 400 : 40;
    unsigned long proofs = 0;
    (void)state;

    for (unsigned i = 0; i < samples; i++) {
        /* half of the trees small, where edges are dense */
        uint64_t n = i % 2 ? 1 + rnd(EXHAUSTIVE) : 1 + rnd(100000);
        reader r = tree(n);
        uint64_t m = rnd(n), old = 1 + rnd(n);
        if (i == 0)
            n = 8, r = tree(8), m = 0, old = 7; /* the size-7/8 lookalike */
        mutate_inclusion(&r, m, T.root[n], 1, &st);
        mutate_consistency(&r, old, T.root[old], T.root[n], &st);
        proofs += 2;
    }
    /* and in trees of more than 2^32 leaves */
    for (unsigned i = 0; i < (T.slow ? 20u : 4u); i++) {
        uint64_t n = (UINT64_C(1) << 32) + rnd(UINT64_C(1) << 40);
        reader r = periodic(n);
        uint64_t m = rnd(n), old = 1 + rnd(n);
        hash root, oldroot;
        assert_int_equal(wb_merkle_root(root, n, tree_fn, &r), 0);
        r.size = old;
        assert_int_equal(wb_merkle_root(oldroot, old, tree_fn, &r), 0);
        r.size = n;
        mutate_inclusion(&r, m, root, 0, &st);
        mutate_consistency(&r, old, oldroot, root, &st);
        proofs += 2;
    }
    printf("mutations of %lu proofs: %lu hash/root/leaf bit flips and length "
           "changes all rejected; %lu index flips all rejected; %lu size flips "
           "agree with the reference, of which verify (as the reference says "
           "they must): %lu inclusion tree sizes, %lu old sizes, %lu new "
           "sizes\n",
           proofs, st.rejected, st.index_flips, st.size_flips,
           st.incl_size_passed, st.cons_size1_passed, st.cons_size2_passed);
    /* most flips must fail, or the comparison would prove little */
    assert_true(st.incl_size_passed + st.cons_size1_passed +
                    st.cons_size2_passed < st.size_flips / 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roots),
        cmocka_unit_test(test_inclusion_exhaustive),
        cmocka_unit_test(test_consistency_exhaustive),
        cmocka_unit_test(test_compact),
        cmocka_unit_test(test_compact_visitor_failure),
        cmocka_unit_test(test_random_sizes),
        cmocka_unit_test(test_big_trees),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests_name("merkle_properties", tests, setup, teardown);
}
