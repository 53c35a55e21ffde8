/*
 * waybill/merkle.h: RFC 9162 §2.1 Merkle tree hashing and proofs.
 *
 *   leaf hash  MTH({d})   = SHA-256(0x00 ‖ d)
 *   node hash  MTH(D[n])  = SHA-256(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n])),
 *              k the largest power of two smaller than n
 *   empty tree MTH({})    = SHA-256("")
 *
 * Proof *generation* reads the tree through a callback that returns the hash
 * of a perfect subtree: level l, index i is the root of leaves
 * [i·2^l, (i+1)·2^l). The log layer answers it from tlog tiles; tests answer
 * it from an in-memory array. Proof *verification* needs no tree at all.
 *
 * A compact range (wb_merkle_compact) keeps the right edge of a growing tree
 * (at most 64 perfect-subtree hashes) so that leaves can be appended in O(1)
 * amortised hashes; every perfect subtree it completes is reported through a
 * visitor, which is how the log learns the new tile hashes.
 */
#ifndef WAYBILL_MERKLE_H
#define WAYBILL_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define WB_HASH_LEN 32
/* an inclusion or consistency proof of a tree of at most 2^63 leaves has at
 * most 64 hashes; anything longer is rejected before it is read */
#define WB_MERKLE_MAX_PROOF 64

void wb_merkle_leaf_hash(uint8_t out[WB_HASH_LEN], const void *data, size_t len);
void wb_merkle_node_hash(uint8_t out[WB_HASH_LEN], const uint8_t left[WB_HASH_LEN],
                         const uint8_t right[WB_HASH_LEN]);
void wb_merkle_empty_root(uint8_t out[WB_HASH_LEN]);

/*
 * Tree access for proof generation: write into out the hash of the perfect
 * subtree at (level, index); return 0 or a negative WB_E_* code (with the
 * error message set), which the caller passes on.
 */
typedef int (*wb_merkle_hash_fn)(void *ctx, uint8_t out[WB_HASH_LEN],
                                 unsigned level, uint64_t index);

/* the root of the tree of the first size leaves (size 0: the empty root) */
int wb_merkle_root(uint8_t out[WB_HASH_LEN], uint64_t size,
                   wb_merkle_hash_fn fn, void *ctx);

/* hash of the (not necessarily perfect) subtree over leaves [begin, end) */
int wb_merkle_range_hash(uint8_t out[WB_HASH_LEN], uint64_t begin, uint64_t end,
                         wb_merkle_hash_fn fn, void *ctx);

/*
 * RFC 9162 §2.1.3.1 inclusion proof of leaf index in the tree of size leaves.
 * proof must hold WB_MERKLE_MAX_PROOF hashes; *n gets the count.
 * WB_E_RANGE if index >= size.
 */
int wb_merkle_inclusion_proof(uint8_t (*proof)[WB_HASH_LEN], size_t *n,
                              uint64_t index, uint64_t size,
                              wb_merkle_hash_fn fn, void *ctx);

/*
 * RFC 9162 §2.1.4.1 consistency proof between sizes size1 <= size2.
 * WB_E_RANGE unless 0 < size1 <= size2. size1 == size2 gives an empty proof.
 */
int wb_merkle_consistency_proof(uint8_t (*proof)[WB_HASH_LEN], size_t *n,
                                uint64_t size1, uint64_t size2,
                                wb_merkle_hash_fn fn, void *ctx);

/*
 * RFC 9162 §2.1.3.2: 0 if proof shows leaf_hash at index in the tree of size
 * leaves with the given root; WB_E_VERIFY (message says why) otherwise.
 */
int wb_merkle_inclusion_verify(const uint8_t leaf_hash[WB_HASH_LEN],
                               uint64_t index, uint64_t size,
                               const uint8_t (*proof)[WB_HASH_LEN], size_t n,
                               const uint8_t root[WB_HASH_LEN]);

/*
 * RFC 9162 §2.1.4.2: 0 if proof shows the tree of size2 leaves with root2
 * extends the tree of size1 leaves with root1; WB_E_VERIFY otherwise.
 * A proof from size 0 is rejected (it proves nothing); size1 == size2 needs
 * an empty proof and equal roots.
 */
int wb_merkle_consistency_verify(uint64_t size1, uint64_t size2,
                                 const uint8_t (*proof)[WB_HASH_LEN], size_t n,
                                 const uint8_t root1[WB_HASH_LEN],
                                 const uint8_t root2[WB_HASH_LEN]);

/*
 * Byte-level variants for proofs that arrive as a list of separately
 * encoded items (JSON, CBOR arrays): every item and root must be exactly 32
 * bytes, except that when the two sizes are equal the roots are compared as
 * byte strings of any length.
 */
typedef struct {
    const uint8_t *ptr;
    size_t len;
} wb_span;

int wb_merkle_inclusion_verify_spans(wb_span leaf_hash, uint64_t index,
                                     uint64_t size, const wb_span *proof,
                                     size_t n, wb_span root);
int wb_merkle_consistency_verify_spans(uint64_t size1, uint64_t size2,
                                       const wb_span *proof, size_t n,
                                       wb_span root1, wb_span root2);

/* ---- compact range: the right edge of a growing tree ---- */
typedef struct {
    uint64_t size;                    /* leaves so far */
    uint8_t hashes[64][WB_HASH_LEN];  /* hashes[l]: perfect subtree at level l
                                         if bit l of size is set */
} wb_merkle_compact;

/* visitor for each perfect subtree completed by an append */
typedef int (*wb_merkle_visit_fn)(void *ctx, unsigned level, uint64_t index,
                                  const uint8_t hash[WB_HASH_LEN]);

void wb_merkle_compact_init(wb_merkle_compact *c);
/* loads the right edge of an existing tree of size leaves through fn */
int wb_merkle_compact_load(wb_merkle_compact *c, uint64_t size,
                           wb_merkle_hash_fn fn, void *ctx);
/*
 * appends one leaf hash; visit (may be NULL) is called for the leaf itself
 * (level 0) and every perfect subtree the append completes, lowest first.
 */
int wb_merkle_compact_append(wb_merkle_compact *c,
                             const uint8_t leaf_hash[WB_HASH_LEN],
                             wb_merkle_visit_fn visit, void *ctx);
void wb_merkle_compact_root(const wb_merkle_compact *c,
                            uint8_t out[WB_HASH_LEN]);

#endif
