/*
 * compact.c: the compact range of a growing RFC 9162 §2.1 Merkle tree, its
 * right edge: for a tree of size leaves, the roots of the perfect subtrees
 * that tile [0, size), one per set bit of size, largest (leftmost) first.
 *
 * This is all the state needed to append: a new leaf completes the perfect
 * subtrees of levels 1..t, where t is the number of trailing one bits of the
 * old size, so an append costs exactly t node hashes (one per completed
 * subtree, on average fewer than one), touches no memory but the struct and
 * never allocates. The RFC tree head is the right-to-left fold of the range:
 * MTH splits D[n] at the largest power of two below n, which is exactly the
 * leftmost perfect subtree.
 */
#include "waybill/merkle.h"
#include "waybill/error.h"

#include <string.h>

void wb_merkle_compact_init(wb_merkle_compact *c)
{
    memset(c, 0, sizeof(*c));
}

int wb_merkle_compact_load(wb_merkle_compact *c, uint64_t size,
                           wb_merkle_hash_fn fn, void *ctx)
{
    uint8_t hashes[64][WB_HASH_LEN];
    uint64_t begin = 0;

    /* read into a copy, so that c is unchanged if a read fails */
    for (unsigned level = 64; level-- > 0;) {
        uint64_t index;
        int rc;

        if (!((size >> level) & 1))
            continue;
        index = begin >> level;
        rc = fn(ctx, hashes[level], level, index);
        if (rc > 0)
            rc = wb_error_set(WB_E_INTERNAL, "Merkle hash callback returned %d",
                              rc);
        if (rc != 0)
            return wb_error_prefix(rc,
                                   "loading the right edge of the tree of %llu "
                                   "leaves: subtree at level %u, index %llu",
                                   (unsigned long long)size, level,
                                   (unsigned long long)index);
        begin += UINT64_C(1) << level;
    }
    for (unsigned level = 0; level < 64; level++)
        if ((size >> level) & 1)
            memcpy(c->hashes[level], hashes[level], WB_HASH_LEN);
    c->size = size;
    return 0;
}

int wb_merkle_compact_append(wb_merkle_compact *c,
                             const uint8_t leaf_hash[WB_HASH_LEN],
                             wb_merkle_visit_fn visit, void *ctx)
{
    uint64_t size = c->size;
    uint8_t cur[WB_HASH_LEN];
    unsigned level = 0;
    int rc;

    if (size == UINT64_MAX)
        return wb_error_set(WB_E_LIMIT,
                            "the tree is full: it holds 2^64-1 leaves");
    memcpy(cur, leaf_hash, WB_HASH_LEN);
    for (;;) {
        /* cur is the perfect subtree at level, index size >> level */
        if (visit && (rc = visit(ctx, level, size >> level, cur)) != 0) {
            if (rc > 0)
                rc = wb_error_set(WB_E_INTERNAL,
                                  "Merkle visitor returned %d", rc);
            /* nothing is committed yet: c still holds the old tree */
            return wb_error_prefix(rc,
                                   "appending leaf %llu: subtree at level %u, "
                                   "index %llu",
                                   (unsigned long long)size, level,
                                   (unsigned long long)(size >> level));
        }
        if (!((size >> level) & 1))
            break;
        wb_merkle_node_hash(cur, c->hashes[level], cur);
        level++;
    }
    /* levels below are now clear in size + 1; their slots are just stale */
    memcpy(c->hashes[level], cur, WB_HASH_LEN);
    c->size = size + 1;
    return 0;
}

void wb_merkle_compact_root(const wb_merkle_compact *c, uint8_t out[WB_HASH_LEN])
{
    uint8_t r[WB_HASH_LEN];
    unsigned level;

    if (c->size == 0) {
        wb_merkle_empty_root(out);
        return;
    }
    level = (unsigned)__builtin_ctzll(c->size);
    memcpy(r, c->hashes[level], WB_HASH_LEN);
    while (++level < 64)
        if ((c->size >> level) & 1)
            wb_merkle_node_hash(r, c->hashes[level], r);
    memcpy(out, r, WB_HASH_LEN);
}
