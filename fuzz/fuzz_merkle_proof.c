/*
 * fuzz_merkle_proof.c: libFuzzer target for the RFC 9162 §2.1.3.2 and
 * §2.1.4.2 proof verifiers, and for generation and verification agreeing
 * (waybill/merkle.h).
 *
 * Input: a u64 (big-endian: the leaf index, or the old size), a u64 (the
 * tree size, or the new size), then 32-byte hashes h0, h1, h2, ... and
 * possibly a shorter tail.
 *
 * 1. Both verifiers run on the raw input: inclusion of leaf h0 with proof
 *    h2... under root h1, consistency with proof h2... between roots h0 and
 *    h1; the _spans forms run on the same items plus the tail as a last,
 *    short item. They may accept or reject but must return 0 or WB_E_VERIFY.
 * 2. When 0 < size < 2^16, the same sizes are looked at in a fixed tree of
 *    2^16 distinct leaves (leaf i = MTH({be64(i)})): the generated inclusion
 *    proof of leaf (index mod size) and the consistency proof from the old
 *    size (the first u64 if it is in 1..size, else (index mod size) + 1)
 *    must verify against the tree's own leaf and roots,
 *    the input's proof h2... must verify against them exactly when it is the
 *    generated proof, the compact range loaded at size must give the root,
 *    and generation must never ask for a subtree outside the tree.
 *
 * Any disagreement abort()s, so that libFuzzer reports it as a crash. The
 * seeds under corpus/fuzz_merkle_proof/ include valid proofs of that tree.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/error.h"
#include "waybill/merkle.h"

#define HL WB_HASH_LEN
#define TREE_LOG 16
#define TREE_SIZE (UINT64_C(1) << TREE_LOG)
#define MAX_ITEMS 200 /* items looked at; more are cut off (>64 is refused) */

static uint8_t (*levels[TREE_LOG + 1])[HL];

static void die(const char *what, uint64_t a, uint64_t b)
{
    fprintf(stderr, "fuzz_merkle_proof: %s (a=%llu, b=%llu): %s\n", what,
            (unsigned long long)a, (unsigned long long)b, wb_error_message());
    abort();
}

static void build_tree(void)
{
    if (levels[0])
        return;
    for (unsigned l = 0; l <= TREE_LOG; l++) {
        levels[l] = calloc((size_t)(TREE_SIZE >> l), HL);
        if (!levels[l])
            die("out of memory", 0, 0);
    }
    for (uint64_t i = 0; i < TREE_SIZE; i++) {
        uint8_t be[8];
        for (int k = 0; k < 8; k++)
            be[k] = (uint8_t)(i >> (56 - 8 * k));
        wb_merkle_leaf_hash(levels[0][i], be, sizeof(be));
    }
    for (unsigned l = 1; l <= TREE_LOG; l++)
        for (uint64_t i = 0; i < (TREE_SIZE >> l); i++)
            wb_merkle_node_hash(levels[l][i], levels[l - 1][2 * i],
                                levels[l - 1][2 * i + 1]);
}

static int tree_fn(void *ctx, uint8_t out[HL], unsigned level, uint64_t index)
{
    uint64_t size = *(const uint64_t *)ctx;
    if (level > TREE_LOG || index >= (size >> level))
        die("generation read a subtree outside the tree", level, index);
    memcpy(out, levels[level][index], HL);
    return 0;
}

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void expect_verdict(int rc, const char *what, uint64_t a, uint64_t b)
{
    if (rc != 0 && rc != WB_E_VERIFY)
        die(what, a, b);
}

static void agree(uint64_t a, uint64_t size, const uint8_t (*in)[HL], size_t n)
{
    uint8_t proof[WB_MERKLE_MAX_PROOF][HL], root[HL], old_root[HL], h[HL];
    uint64_t index = a % size, sz = size;
    uint64_t old = a >= 1 && a <= size ? a : index + 1;
    wb_merkle_compact c;
    size_t len;
    int same, rc;

    if (wb_merkle_root(root, size, tree_fn, &sz) != 0)
        die("root", a, size);
    if (wb_merkle_compact_load(&c, size, tree_fn, &sz) != 0)
        die("compact load", a, size);
    wb_merkle_compact_root(&c, h);
    if (memcmp(h, root, HL) != 0)
        die("compact root differs from the root", a, size);

    if (wb_merkle_inclusion_proof(proof, &len, index, size, tree_fn, &sz) != 0)
        die("inclusion proof", index, size);
    if (wb_merkle_inclusion_verify(levels[0][index], index, size,
                                   (const uint8_t(*)[HL])proof, len, root) != 0)
        die("generated inclusion proof does not verify", index, size);
    same = n == len && (n == 0 || memcmp(in, proof, n * HL) == 0);
    rc = wb_merkle_inclusion_verify(levels[0][index], index, size, in, n, root);
    expect_verdict(rc, "inclusion verdict", index, size);
    if ((rc == 0) != same)
        die("an inclusion proof other than the generated one verifies", index, size);

    sz = old;
    if (wb_merkle_root(old_root, old, tree_fn, &sz) != 0)
        die("old root", old, size);
    sz = size;
    if (wb_merkle_consistency_proof(proof, &len, old, size, tree_fn, &sz) != 0)
        die("consistency proof", old, size);
    if (wb_merkle_consistency_verify(old, size, (const uint8_t(*)[HL])proof, len,
                                     old_root, root) != 0)
        die("generated consistency proof does not verify", old, size);
    same = n == len && (n == 0 || memcmp(in, proof, n * HL) == 0);
    rc = wb_merkle_consistency_verify(old, size, in, n, old_root, root);
    expect_verdict(rc, "consistency verdict", old, size);
    if ((rc == 0) != same)
        die("a consistency proof other than the generated one verifies", old, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t zero[HL];
    const uint8_t (*hashes)[HL];
    const uint8_t *h0 = zero, *h1 = zero;
    wb_span spans[MAX_ITEMS + 1], s0 = {zero, 0}, s1 = {zero, 0};
    size_t nh, n, ns, tail;
    uint64_t a, b;
    int rc;

    if (size < 16)
        return 0;
    a = be64(data);
    b = be64(data + 8);
    data += 16;
    size -= 16;
    nh = size / HL;
    tail = size % HL;
    if (nh > MAX_ITEMS + 2)
        nh = MAX_ITEMS + 2, tail = 0;
    hashes = (const uint8_t(*)[HL])data;
    if (nh > 0)
        h0 = hashes[0], s0.ptr = h0, s0.len = HL;
    if (nh > 1)
        h1 = hashes[1], s1.ptr = h1, s1.len = HL;
    n = nh > 2 ? nh - 2 : 0;

    /* 1: the raw input */
    rc = wb_merkle_inclusion_verify(h0, a, b, hashes + 2 * (nh > 2), n, h1);
    expect_verdict(rc, "inclusion_verify", a, b);
    rc = wb_merkle_consistency_verify(a, b, hashes + 2 * (nh > 2), n, h0, h1);
    expect_verdict(rc, "consistency_verify", a, b);
    for (ns = 0; ns < n; ns++) {
        spans[ns].ptr = hashes[2 + ns];
        spans[ns].len = HL;
    }
    if (tail) {
        spans[ns].ptr = data + nh * HL;
        spans[ns].len = tail;
        ns++;
    }
    rc = wb_merkle_inclusion_verify_spans(s0, a, b, spans, ns, s1);
    expect_verdict(rc, "inclusion_verify_spans", a, b);
    rc = wb_merkle_consistency_verify_spans(a, b, spans, ns, s0, s1);
    expect_verdict(rc, "consistency_verify_spans", a, b);
    /* equal sizes: roots of any length, here h0/h1 cut by the tail */
    if (tail && nh == 0) {
        wb_span t = {data, tail};
        rc = wb_merkle_consistency_verify_spans(a, b, NULL, 0, t, t);
        expect_verdict(rc, "consistency_verify_spans (short roots)", a, b);
        if (a != 0 && a == b && rc != 0)
            die("equal sizes and equal roots rejected", a, b);
    }

    /* 2: generation and verification agree */
    if (b > 0 && b < TREE_SIZE) {
        build_tree();
        agree(a, b, hashes + 2 * (nh > 2), n);
    }
    return 0;
}
