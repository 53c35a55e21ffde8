/*
 * tree.c: reading a Merkle tree through a wb_merkle_hash_fn: the tree head
 * MTH (RFC 9162 §2.1.1), inclusion proofs PATH (§2.1.3.1) and consistency
 * proofs PROOF/SUBPROOF (§2.1.4.1).
 *
 * The RFC defines all three recursively over the list of leaves, splitting
 * D[n] at k, the largest power of two smaller than n. Here the tree can only
 * be read through the callback, which answers with the hash of a *perfect*
 * subtree (level l, index i: leaves [i·2^l, (i+1)·2^l)), the unit the log
 * keeps in its tiles. The proof recursions are unrolled into one walk from
 * the root down to the leaf (or down to the old tree's edge) that records
 * the sibling of every node it passes; the proof is that list read from the
 * bottom up, which is the order the RFC's concatenations produce.
 *
 * Every sibling on such a walk is a perfect subtree except at most one: the
 * right sibling of the first step that turns left covers [lo+k, size) and
 * may be ragged (after that step the walk is inside a perfect subtree). Its
 * hash is folded from the perfect subtrees that tile it, one per set bit of
 * its width. A proof therefore costs at most 2·64 callback calls, O(log n).
 */
#include "waybill/merkle.h"
#include "waybill/error.h"

#include <string.h>

/* number of significant bits of x (0 for 0) */
static unsigned bitlen(uint64_t x)
{
    return x ? 64u - (unsigned)__builtin_clzll(x) : 0u;
}

/* RFC 9162 k: the largest power of two smaller than n, for n >= 2 */
static uint64_t split_point(uint64_t n)
{
    return UINT64_C(1) << (bitlen(n - 1) - 1);
}

static int subtree(uint8_t out[WB_HASH_LEN], unsigned level, uint64_t index,
                   wb_merkle_hash_fn fn, void *ctx)
{
    int rc = fn(ctx, out, level, index);
    if (rc == 0)
        return 0;
    if (rc > 0)
        return wb_error_set(WB_E_INTERNAL,
                            "Merkle hash callback returned %d for the subtree "
                            "at level %u, index %llu",
                            rc, level, (unsigned long long)index);
    return wb_error_prefix(rc, "Merkle subtree at level %u, index %llu", level,
                           (unsigned long long)index);
}

/*
 * MTH(D[begin:end]) for begin < end. A range that is a node of the tree
 * (begin a multiple of the smallest power of two >= its width) costs one
 * callback per set bit of its width, and the recursion only ever goes right,
 * at most 64 deep. Any other range is still hashed exactly as the RFC
 * defines MTH of that sub-list, but its unaligned pieces have to be split
 * down to aligned ones, which may cost up to one callback per leaf; the
 * proof functions below never ask for such a range.
 */
static int range_hash(uint8_t out[WB_HASH_LEN], uint64_t begin, uint64_t end,
                      wb_merkle_hash_fn fn, void *ctx)
{
    uint64_t n = end - begin;
    uint8_t left[WB_HASH_LEN], right[WB_HASH_LEN];
    uint64_t k;
    int rc;

    if ((n & (n - 1)) == 0 && (begin & (n - 1)) == 0) {
        unsigned level = (unsigned)__builtin_ctzll(n);
        return subtree(out, level, begin >> level, fn, ctx);
    }
    k = split_point(n);
    rc = range_hash(left, begin, begin + k, fn, ctx);
    if (rc != 0)
        return rc;
    rc = range_hash(right, begin + k, end, fn, ctx);
    if (rc != 0)
        return rc;
    wb_merkle_node_hash(out, left, right);
    return 0;
}

int wb_merkle_range_hash(uint8_t out[WB_HASH_LEN], uint64_t begin, uint64_t end,
                         wb_merkle_hash_fn fn, void *ctx)
{
    if (begin >= end)
        return wb_error_set(WB_E_RANGE,
                            "Merkle range [%llu, %llu) holds no leaves",
                            (unsigned long long)begin, (unsigned long long)end);
    return range_hash(out, begin, end, fn, ctx);
}

int wb_merkle_root(uint8_t out[WB_HASH_LEN], uint64_t size,
                   wb_merkle_hash_fn fn, void *ctx)
{
    int rc;

    if (size == 0) {
        wb_merkle_empty_root(out);
        return 0;
    }
    rc = range_hash(out, 0, size, fn, ctx);
    if (rc != 0)
        return wb_error_prefix(rc, "root of the tree of %llu leaves",
                               (unsigned long long)size);
    return 0;
}

/* the walk collects siblings top-down; proofs list them bottom-up */
static void reverse(uint8_t (*proof)[WB_HASH_LEN], size_t n)
{
    uint8_t tmp[WB_HASH_LEN];

    for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
        memcpy(tmp, proof[i], WB_HASH_LEN);
        memcpy(proof[i], proof[j - 1], WB_HASH_LEN);
        memcpy(proof[j - 1], tmp, WB_HASH_LEN);
    }
}

/*
 * PATH(m, D[n]): below a node [lo, hi) of width n >= 2 the leaf is in the
 * left child [lo, lo+k) or the right one [lo+k, hi); the proof gets the hash
 * of the other child. Each step at least halves the width (rounded up to a
 * power of two), so there are at most 64 steps.
 */
int wb_merkle_inclusion_proof(uint8_t (*proof)[WB_HASH_LEN], size_t *n,
                              uint64_t index, uint64_t size,
                              wb_merkle_hash_fn fn, void *ctx)
{
    uint64_t lo = 0, hi = size;
    size_t count = 0;

    *n = 0;
    if (index >= size)
        return wb_error_set(WB_E_RANGE,
                            "inclusion proof: leaf index %llu is not below the "
                            "tree size %llu",
                            (unsigned long long)index, (unsigned long long)size);
    while (hi - lo > 1) {
        uint64_t k = split_point(hi - lo);
        int rc;

        if (index - lo < k) {
            rc = range_hash(proof[count], lo + k, hi, fn, ctx);
            hi = lo + k;
        } else {
            rc = range_hash(proof[count], lo, lo + k, fn, ctx);
            lo += k;
        }
        if (rc != 0)
            return wb_error_prefix(rc,
                                   "inclusion proof of leaf %llu in the tree of "
                                   "%llu leaves",
                                   (unsigned long long)index,
                                   (unsigned long long)size);
        count++;
    }
    reverse(proof, count);
    *n = count;
    return 0;
}

/*
 * PROOF(m, D[n]) = SUBPROOF(m, D[n], true). The walk keeps lo <= m <= hi.
 * When the old tree ends inside the left child (m - lo <= k) the proof gets
 * the right child and the walk goes left; otherwise it gets the left child
 * (wholly inside the old tree) and goes right. It stops at the node that is
 * exactly the old tree's part of [lo, hi); that node's hash is in the proof
 * unless it is the whole old tree, i.e. unless the walk never went right
 * (lo == 0): that is the RFC's flag b, which the verifier replaces by the
 * old root it already has.
 */
int wb_merkle_consistency_proof(uint8_t (*proof)[WB_HASH_LEN], size_t *n,
                                uint64_t size1, uint64_t size2,
                                wb_merkle_hash_fn fn, void *ctx)
{
    uint64_t lo = 0, hi = size2;
    size_t count = 0;

    *n = 0;
    if (size1 == 0 || size1 > size2)
        return wb_error_set(WB_E_RANGE,
                            "consistency proof from %llu to %llu leaves: the "
                            "sizes must satisfy 0 < size1 <= size2",
                            (unsigned long long)size1, (unsigned long long)size2);
    for (;;) {
        uint64_t width = hi - lo, m = size1 - lo, k = 0;
        uint64_t begin, end;
        int rc, last = m == width;

        if (last) {
            if (lo == 0)
                break;
            begin = lo;
            end = hi;
        } else {
            k = split_point(width);
            begin = m <= k ? lo + k : lo;
            end = m <= k ? hi : lo + k;
        }
        if (count == WB_MERKLE_MAX_PROOF)
            return wb_error_set(WB_E_LIMIT,
                                "consistency proof from %llu to %llu leaves "
                                "needs more than %d hashes (trees over 2^63 "
                                "leaves are not supported)",
                                (unsigned long long)size1,
                                (unsigned long long)size2, WB_MERKLE_MAX_PROOF);
        rc = range_hash(proof[count], begin, end, fn, ctx);
        if (rc != 0)
            return wb_error_prefix(rc,
                                   "consistency proof from %llu to %llu leaves",
                                   (unsigned long long)size1,
                                   (unsigned long long)size2);
        count++;
        if (last)
            break;
        if (m <= k)
            hi = lo + k;
        else
            lo += k;
    }
    reverse(proof, count);
    *n = count;
    return 0;
}
