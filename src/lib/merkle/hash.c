/*
 * hash.c: the RFC 9162 §2.1.1 Merkle Tree Hash primitives (waybill/merkle.h).
 *
 *   leaf hash   SHA-256(0x00 ‖ d)
 *   node hash   SHA-256(0x01 ‖ left ‖ right)
 *   empty tree  SHA-256("")
 *
 * The one-byte prefixes keep leaves and interior nodes in separate domains,
 * so that no leaf can be passed off as a node (second preimage resistance).
 *
 * These functions cannot fail on valid input: wb_sha256_prefixed fails only
 * when OpenSSL cannot allocate its per-thread context. A Merkle hash that
 * silently came out wrong would be worse than stopping, and threading an
 * error code through every verifier step for an out-of-memory condition
 * would buy nothing, so they abort() with a message instead.
 *
 * out may be the same array as left or right: SHA-256 absorbs its whole
 * input before it writes the digest.
 */
#include "waybill/merkle.h"
#include "waybill/crypto.h"
#include "waybill/error.h"

#include <stdio.h>
#include <stdlib.h>

static void hash_failed(const char *what)
{
    fprintf(stderr, "waybill: fatal: Merkle %s hash failed: %s\n", what,
            wb_error_message());
    abort();
}

void wb_merkle_leaf_hash(uint8_t out[WB_HASH_LEN], const void *data, size_t len)
{
    if (wb_sha256_prefixed(out, 0x00, data, len, NULL, 0) != 0)
        hash_failed("leaf");
}

void wb_merkle_node_hash(uint8_t out[WB_HASH_LEN], const uint8_t left[WB_HASH_LEN],
                         const uint8_t right[WB_HASH_LEN])
{
    if (wb_sha256_prefixed(out, 0x01, left, WB_HASH_LEN, right, WB_HASH_LEN) != 0)
        hash_failed("node");
}

void wb_merkle_empty_root(uint8_t out[WB_HASH_LEN])
{
    if (wb_sha256_prefixed(out, -1, NULL, 0, NULL, 0) != 0)
        hash_failed("empty-tree");
}
