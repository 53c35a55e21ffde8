/*
 * verify.c: checking Merkle proofs without the tree, RFC 9162 §2.1.3.2
 * (inclusion) and §2.1.4.2 (consistency).
 *
 * Both verifiers follow the RFC's steps literally: fn walks up from the leaf
 * (or from the old tree's last leaf) and sn from the new tree's last leaf;
 * the low bit of fn says on which side the next proof hash goes, and where
 * fn == sn the node is on the tree's right edge and levels without a sibling
 * are skipped. A proof passes only if sn reaches 0 exactly with the last
 * hash and the recomputed root(s) equal the given one(s).
 *
 * The number of hashes is a function of the sizes alone, so it is checked
 * before any hashing; a proof of the wrong length is rejected with a message
 * that says how many hashes were expected (the RFC loop would reject it too,
 * and still guards the arithmetic). Proofs of more than WB_MERKLE_MAX_PROOF
 * hashes are rejected before they are read.
 *
 * The _spans variants take proofs whose items arrive separately encoded
 * (JSON strings, CBOR byte strings): every item, the leaf hash and the roots
 * must be exactly WB_HASH_LEN bytes, except that two trees of equal size are
 * consistent iff their roots are the same bytes, whatever their length.
 * A consistency proof from size 0 is always rejected: everything extends
 * the empty tree, so it proves nothing, and accepting it would let a caller
 * skip the real check by claiming the old tree was empty.
 */
#include "waybill/merkle.h"
#include "waybill/error.h"

#include <string.h>

typedef unsigned long long ull;

static unsigned bitlen(uint64_t x)
{
    return x ? 64u - (unsigned)__builtin_clzll(x) : 0u;
}

static unsigned popcount(uint64_t x)
{
    return (unsigned)__builtin_popcountll(x);
}

/*
 * The hashes an inclusion proof of index in a tree of size leaves has: one
 * for every level below the point where the paths to index and to the last
 * leaf (size - 1) meet, where the node always has a sibling, plus one for
 * every left sibling on the shared right edge above it (the set bits of
 * index there). For index < size.
 */
static size_t inclusion_len(uint64_t index, uint64_t size)
{
    unsigned inner = bitlen(index ^ (size - 1));
    return inner + (inner < 64 ? popcount(index >> inner) : 0);
}

/*
 * The hashes a consistency proof from size1 to size2 has, 0 < size1 < size2:
 * the RFC path starts at the lowest node whose right edge is the old tree's
 * last leaf (levels where that leaf is a right child are skipped), and from
 * there counts like an inclusion proof, plus that starting node itself,
 * which the proof omits when it is the whole old tree (size1 a power of 2).
 */
static size_t consistency_len(uint64_t size1, uint64_t size2)
{
    uint64_t fn = size1 - 1, sn = size2 - 1;
    unsigned ones = (unsigned)__builtin_ctzll(~fn); /* fn < 2^64 - 1 here */
    unsigned inner;
    size_t len;

    fn >>= ones;
    sn >>= ones;
    inner = bitlen(fn ^ sn);
    len = 1 + inner + (inner < 64 ? popcount(fn >> inner) : 0);
    return (size1 & (size1 - 1)) == 0 ? len - 1 : len;
}

int wb_merkle_inclusion_verify(const uint8_t leaf_hash[WB_HASH_LEN],
                               uint64_t index, uint64_t size,
                               const uint8_t (*proof)[WB_HASH_LEN], size_t n,
                               const uint8_t root[WB_HASH_LEN])
{
    uint8_t r[WB_HASH_LEN];
    uint64_t fn, sn;
    size_t need;

    /* step 1 */
    if (index >= size)
        return wb_error_set(WB_E_VERIFY,
                            "inclusion proof: leaf index %llu is not below the "
                            "tree size %llu",
                            (ull)index, (ull)size);
    if (n > WB_MERKLE_MAX_PROOF)
        return wb_error_set(WB_E_VERIFY,
                            "inclusion proof has %zu hashes, over the limit of %d",
                            n, WB_MERKLE_MAX_PROOF);
    need = inclusion_len(index, size);
    if (n != need)
        return wb_error_set(WB_E_VERIFY,
                            "inclusion proof has %zu hashes, a tree of %llu "
                            "leaves needs %zu for index %llu",
                            n, (ull)size, need, (ull)index);
    /* steps 2 and 3 */
    fn = index;
    sn = size - 1;
    memcpy(r, leaf_hash, WB_HASH_LEN);
    /* step 4 */
    for (size_t i = 0; i < n; i++) {
        if (sn == 0)
            return wb_error_set(WB_E_VERIFY,
                                "inclusion proof of leaf %llu in a tree of %llu "
                                "leaves: hash %zu is past the root",
                                (ull)index, (ull)size, i);
        if ((fn & 1) || fn == sn) {
            wb_merkle_node_hash(r, proof[i], r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            wb_merkle_node_hash(r, r, proof[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    /* step 5 */
    if (sn != 0)
        return wb_error_set(WB_E_VERIFY,
                            "inclusion proof of leaf %llu in a tree of %llu "
                            "leaves ends below the root",
                            (ull)index, (ull)size);
    if (memcmp(r, root, WB_HASH_LEN) != 0)
        return wb_error_set(WB_E_VERIFY,
                            "inclusion proof of leaf %llu in a tree of %llu "
                            "leaves does not lead to the given root",
                            (ull)index, (ull)size);
    return 0;
}

/* the checks on the sizes alone, shared with the _spans variant */
static int consistency_sizes(uint64_t size1, uint64_t size2, size_t n)
{
    if (size1 == 0)
        return wb_error_set(WB_E_VERIFY,
                            "consistency proof from the empty tree (size 0) "
                            "proves nothing");
    if (size1 > size2)
        return wb_error_set(WB_E_VERIFY,
                            "consistency proof: the old size %llu is larger "
                            "than the new size %llu",
                            (ull)size1, (ull)size2);
    if (n > WB_MERKLE_MAX_PROOF)
        return wb_error_set(WB_E_VERIFY,
                            "consistency proof has %zu hashes, over the limit "
                            "of %d",
                            n, WB_MERKLE_MAX_PROOF);
    if (size1 == size2 && n != 0)
        return wb_error_set(WB_E_VERIFY,
                            "consistency proof between trees of equal size "
                            "%llu must be empty, it has %zu hashes",
                            (ull)size1, n);
    return 0;
}

static int equal_roots(uint64_t size, const uint8_t *root1, size_t len1,
                       const uint8_t *root2, size_t len2)
{
    if (len1 != len2 || (len1 != 0 && memcmp(root1, root2, len1) != 0))
        return wb_error_set(WB_E_VERIFY,
                            "two trees of %llu leaves have different roots",
                            (ull)size);
    return 0;
}

int wb_merkle_consistency_verify(uint64_t size1, uint64_t size2,
                                 const uint8_t (*proof)[WB_HASH_LEN], size_t n,
                                 const uint8_t root1[WB_HASH_LEN],
                                 const uint8_t root2[WB_HASH_LEN])
{
    uint8_t fr[WB_HASH_LEN], sr[WB_HASH_LEN];
    uint64_t fn, sn;
    size_t need, i = 0;
    int rc;

    rc = consistency_sizes(size1, size2, n);
    if (rc != 0)
        return rc;
    if (size1 == size2)
        return equal_roots(size1, root1, WB_HASH_LEN, root2, WB_HASH_LEN);
    /* step 1: the proof is not empty (need >= 1 when size1 < size2) */
    need = consistency_len(size1, size2);
    if (n != need)
        return wb_error_set(WB_E_VERIFY,
                            "consistency proof has %zu hashes, from %llu to "
                            "%llu leaves needs %zu",
                            n, (ull)size1, (ull)size2, need);
    /* steps 3 and 4 */
    fn = size1 - 1;
    sn = size2 - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    /* steps 2 and 5: a power-of-two old tree is itself the first node */
    if ((size1 & (size1 - 1)) == 0) {
        memcpy(fr, root1, WB_HASH_LEN);
    } else {
        memcpy(fr, proof[0], WB_HASH_LEN);
        i = 1;
    }
    memcpy(sr, fr, WB_HASH_LEN);
    /* step 6 */
    for (; i < n; i++) {
        if (sn == 0)
            return wb_error_set(WB_E_VERIFY,
                                "consistency proof from %llu to %llu leaves: "
                                "hash %zu is past the root",
                                (ull)size1, (ull)size2, i);
        if ((fn & 1) || fn == sn) {
            wb_merkle_node_hash(fr, proof[i], fr);
            wb_merkle_node_hash(sr, proof[i], sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            wb_merkle_node_hash(sr, sr, proof[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    /* step 7 */
    if (sn != 0)
        return wb_error_set(WB_E_VERIFY,
                            "consistency proof from %llu to %llu leaves ends "
                            "below the new root",
                            (ull)size1, (ull)size2);
    if (memcmp(fr, root1, WB_HASH_LEN) != 0)
        return wb_error_set(WB_E_VERIFY,
                            "consistency proof from %llu to %llu leaves does "
                            "not lead to the old root",
                            (ull)size1, (ull)size2);
    if (memcmp(sr, root2, WB_HASH_LEN) != 0)
        return wb_error_set(WB_E_VERIFY,
                            "consistency proof from %llu to %llu leaves does "
                            "not lead to the new root",
                            (ull)size1, (ull)size2);
    return 0;
}

/* copies n items of exactly WB_HASH_LEN bytes; what names the proof */
static int gather(uint8_t (*out)[WB_HASH_LEN], const wb_span *proof, size_t n,
                  const char *what)
{
    if (n > WB_MERKLE_MAX_PROOF)
        return wb_error_set(WB_E_VERIFY, "%s has %zu hashes, over the limit of %d",
                            what, n, WB_MERKLE_MAX_PROOF);
    for (size_t i = 0; i < n; i++) {
        if (proof[i].len != WB_HASH_LEN)
            return wb_error_set(WB_E_VERIFY, "%s hash %zu is %zu bytes, not %d",
                                what, i, proof[i].len, WB_HASH_LEN);
        memcpy(out[i], proof[i].ptr, WB_HASH_LEN);
    }
    return 0;
}

static int check_len(wb_span s, const char *what)
{
    if (s.len != WB_HASH_LEN)
        return wb_error_set(WB_E_VERIFY, "%s is %zu bytes, not %d", what, s.len,
                            WB_HASH_LEN);
    return 0;
}

int wb_merkle_inclusion_verify_spans(wb_span leaf_hash, uint64_t index,
                                     uint64_t size, const wb_span *proof,
                                     size_t n, wb_span root)
{
    uint8_t items[WB_MERKLE_MAX_PROOF][WB_HASH_LEN];
    int rc;

    if ((rc = check_len(leaf_hash, "inclusion proof: the leaf hash")) != 0 ||
        (rc = check_len(root, "inclusion proof: the root")) != 0 ||
        (rc = gather(items, proof, n, "inclusion proof")) != 0)
        return rc;
    return wb_merkle_inclusion_verify(leaf_hash.ptr, index, size,
                                      (const uint8_t(*)[WB_HASH_LEN])items, n,
                                      root.ptr);
}

int wb_merkle_consistency_verify_spans(uint64_t size1, uint64_t size2,
                                       const wb_span *proof, size_t n,
                                       wb_span root1, wb_span root2)
{
    uint8_t items[WB_MERKLE_MAX_PROOF][WB_HASH_LEN];
    int rc;

    if ((rc = consistency_sizes(size1, size2, n)) != 0)
        return rc;
    if (size1 == size2)
        return equal_roots(size1, root1.ptr, root1.len, root2.ptr, root2.len);
    if ((rc = check_len(root1, "consistency proof: the old root")) != 0 ||
        (rc = check_len(root2, "consistency proof: the new root")) != 0 ||
        (rc = gather(items, proof, n, "consistency proof")) != 0)
        return rc;
    return wb_merkle_consistency_verify(size1, size2,
                                        (const uint8_t(*)[WB_HASH_LEN])items, n,
                                        root1.ptr, root2.ptr);
}
