/*
 * receipt.c: COSE Receipts (RFC 9942): waybill's receipts of inclusion in
 * an RFC9162_SHA256 log (vds 1), and verification of those and of CCF
 * receipts (vds 2, see ccf.c).
 *
 * A receipt is a COSE_Sign1 (tag 18):
 *   protected    {1: alg, 4: kid, 15: {1: iss, 6: iat}, 395: vds}
 *   unprotected  {396: {-1: [ bstr .cbor inclusion proof ]}}
 *   payload      nil: the tree root, detached (RFC 9942 §5.2.1)
 *   signature    over ["Signature1", protected, h'', root]
 * For vds 1 the inclusion proof is
 *   [tree_size: uint, leaf_index: uint, inclusion_path: [* bstr 32]]
 * (RFC 9942 §5.2). Its CDDL writes the path as [+ bstr]; a tree of one leaf
 * has an empty path, which waybill writes and accepts.
 *
 * The root depends only on the tree size, so one signature serves every
 * entry of a batch: wb_receipt_sign signs the root once, wb_receipt_encode
 * puts that signature beside each entry's own proof.
 *
 * What a receipt does not prove: RFC 9942 signs the root, and the tree size
 * and leaf index sit unsigned beside it. For a given size the index is fixed
 * by the path, but the path of leaf i has the same shape in every tree size
 * of a range (leaf 6: sizes 9..16), so a receipt whose size was changed
 * within that range still verifies, for the same root. wb_receipt_info
 * reports the size as claimed; callers check it against a checkpoint.
 *
 * Verification recomputes the root from the registered statement and the
 * proof, then checks the signature over it with the key the caller's
 * wb_receipt_key_fn finds for the receipt's kid. A receipt must carry
 * exactly one inclusion proof and nothing else in 396: several proofs under
 * one signature have no agreed meaning, and a consistency proof is not a
 * receipt of inclusion.
 */
#include "cose_int.h"

#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/merkle.h"

#include <stdlib.h>
#include <string.h>

#define RFC9162_PROOF_MAX 4096 /* bytes of one encoded inclusion proof */

typedef unsigned long long ull;

int wb_receipt_protected(uint8_t **out, size_t *len, int64_t alg, const uint8_t *kid,
                         size_t kid_len, const char *iss, int64_t iat)
{
    wb_cose_headers h;

    *out = NULL;
    *len = 0;
    if (wb_cose_alg_to_wb(alg) == WB_ALG_NONE)
        return wb_error_set(WB_E_INVALID, "receipt: unsupported alg %lld", (long long)alg);
    if (kid_len > WB_COSE_KID_MAX || (!kid && kid_len))
        return wb_error_set(WB_E_INVALID, "receipt: kid of %zu bytes", kid_len);
    wb_cose_headers_init(&h);
    h.alg = alg;
    h.kid.ptr = kid;
    h.kid.len = kid_len;
    h.has_cwt = 1;
    h.iss = iss;
    h.iat = iat;
    h.vds = WB_VDS_RFC9162_SHA256;
    return wb_cose_protected_encode(out, len, &h);
}

int wb_receipt_sign(uint8_t *sig, size_t *sig_len, const uint8_t *prot, size_t prot_len,
                    const uint8_t root[32], const wb_cose_signer *signer)
{
    cbor_item_t *map = NULL;
    wb_cose_headers h;
    wb_cose_strings s = {0};
    int rc;

    *sig_len = 0;
    if (!signer)
        return wb_error_set(WB_E_INVALID, "receipt: no signer");
    /* the header must be a receipt header for this signer */
    if ((rc = wb_cbor_load(&map, prot, prot_len, WB_COSE_MAX,
                           "receipt: protected header")) != 0)
        return rc;
    rc = wb_cose_headers_parse(&h, &s, map, 0, "receipt: protected header");
    if (rc == 0 && h.vds != WB_VDS_RFC9162_SHA256)
        rc = wb_error_set(WB_E_INVALID, "receipt: protected vds (395) is %lld, want 1",
                          (long long)h.vds);
    if (rc == 0 && h.alg != signer->alg)
        rc = wb_error_set(WB_E_INVALID,
                          "receipt: protected alg %lld but the signer is %lld",
                          (long long)h.alg, (long long)signer->alg);
    wb_cose_strings_free(&s);
    cbor_decref(&map);
    if (rc)
        return rc;
    return wb_cose_sign_tbs(sig, sig_len, prot, prot_len, root, 32, signer);
}

int wb_receipt_encode(uint8_t **out, size_t *len, const uint8_t *prot, size_t prot_len,
                      const uint8_t *sig, size_t sig_len, uint64_t tree_size,
                      uint64_t leaf_index, const uint8_t (*path)[32], size_t npath)
{
    wb_buf b, proof;
    int rc;

    *out = NULL;
    *len = 0;
    if (leaf_index >= tree_size)
        return wb_error_set(WB_E_RANGE, "receipt: leaf index %llu is not below the tree "
                                        "size %llu",
                            (ull)leaf_index, (ull)tree_size);
    if (npath > WB_MERKLE_MAX_PROOF || (npath && !path))
        return wb_error_set(WB_E_INVALID, "receipt: inclusion path of %zu hashes", npath);
    if (prot_len == 0 || sig_len == 0 || sig_len > WB_SIG_MAX)
        return wb_error_set(WB_E_INVALID,
                            "receipt: protected header of %zu bytes, signature of %zu",
                            prot_len, sig_len);

    wb_buf_init(&proof, RFC9162_PROOF_MAX);
    wb_cbor_put_head(&proof, WB_CBOR_ARRAY, 3);
    wb_cbor_put_uint(&proof, tree_size);
    wb_cbor_put_uint(&proof, leaf_index);
    wb_cbor_put_head(&proof, WB_CBOR_ARRAY, npath);
    for (size_t i = 0; i < npath; i++)
        wb_cbor_put_bytes(&proof, path[i], 32);
    if ((rc = wb_buf_error(&proof)) != 0) {
        wb_buf_cleanup(&proof);
        return rc;
    }

    wb_buf_init(&b, WB_COSE_MAX);
    wb_cbor_put_head(&b, WB_CBOR_TAG, WB_CBOR_TAG_SIGN1);
    wb_cbor_put_head(&b, WB_CBOR_ARRAY, 4);
    wb_cbor_put_bytes(&b, prot, prot_len);
    wb_cbor_put_head(&b, WB_CBOR_MAP, 1);
    wb_cbor_put_uint(&b, WB_COSE_HDR_PROOFS);
    wb_cbor_put_head(&b, WB_CBOR_MAP, 1);
    wb_cbor_put_int(&b, WB_COSE_PROOF_INCLUSION);
    wb_cbor_put_head(&b, WB_CBOR_ARRAY, 1);
    wb_cbor_put_bytes(&b, proof.data, proof.len);
    wb_cbor_put_nil(&b);
    wb_cbor_put_bytes(&b, sig, sig_len);
    wb_buf_cleanup(&proof);
    return wb_buf_finish(&b, out, len);
}

/* ---- verification ---- */

/*
 * The statement must be a registered statement: a COSE_Sign1 whose
 * unprotected header is the empty map. Only its first bytes are read.
 */
static int check_registered(const uint8_t *st, size_t len)
{
    wb_reader r;
    unsigned major;
    uint64_t arg;
    size_t used;
    uint8_t next;

    wb_reader_init(&r, st, len);
    if (!wb_cbor_head(&r, &major, &arg))
        goto bad;
    if (major == WB_CBOR_TAG) {
        if (arg != WB_CBOR_TAG_SIGN1 || !wb_cbor_head(&r, &major, &arg))
            goto bad;
    }
    if (major != WB_CBOR_ARRAY || arg != 4)
        goto bad;
    if (wb_cbor_scan(&used, r.ptr, r.len, "statement") != 0 || !wb_reader_skip(&r, used))
        return wb_error_prefix(WB_E_INVALID, "receipt");
    if (!wb_reader_get_u8(&r, &next))
        goto bad;
    if (next != 0xa0)
        return wb_error_set(WB_E_INVALID,
                            "receipt: the statement's unprotected header is not empty; "
                            "receipts prove the registered statement (see "
                            "wb_scitt_transparent_split)");
    return 0;
bad:
    return wb_error_set(WB_E_INVALID, "receipt: the statement is not a COSE_Sign1");
}

/* RFC 9162 §2.1.3.2: the root the path leads to from leaf at index of size */
static int rfc9162_root(uint8_t root[32], const uint8_t leaf[32], uint64_t index,
                        uint64_t size, const uint8_t (*path)[32], size_t n)
{
    uint64_t fn = index, sn = size - 1;

    if (index >= size)
        return wb_error_set(WB_E_VERIFY,
                            "receipt: leaf index %llu is not below the tree size %llu",
                            (ull)index, (ull)size);
    memcpy(root, leaf, 32);
    for (size_t i = 0; i < n; i++) {
        if (sn == 0)
            return wb_error_set(WB_E_VERIFY,
                                "receipt: inclusion path has more hashes than a tree of "
                                "%llu leaves needs",
                                (ull)size);
        if ((fn & 1) || fn == sn) {
            wb_merkle_node_hash(root, path[i], root);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            wb_merkle_node_hash(root, root, path[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return wb_error_set(WB_E_VERIFY,
                            "receipt: inclusion path is too short for leaf %llu of %llu",
                            (ull)index, (ull)size);
    return 0;
}

static int rfc9162_verify(uint8_t root[32], wb_receipt_info *info, const uint8_t *proof,
                          size_t proof_len, const uint8_t *statement, size_t statement_len)
{
    uint8_t leaf[32], (*path)[32] = NULL;
    cbor_item_t *it = NULL, **e, **pe;
    uint64_t size, index;
    size_t n;
    int rc;

    if ((rc = wb_cbor_load(&it, proof, proof_len, RFC9162_PROOF_MAX,
                           "receipt: inclusion proof")) != 0)
        return rc;
    if (!cbor_isa_array(it) || cbor_array_size(it) != 3 ||
        !cbor_isa_uint(cbor_array_handle(it)[0]) ||
        !cbor_isa_uint(cbor_array_handle(it)[1]) ||
        !cbor_isa_array(cbor_array_handle(it)[2])) {
        rc = wb_error_set(WB_E_INVALID,
                          "receipt: inclusion proof is not [tree_size: uint, leaf_index: "
                          "uint, inclusion_path: [bstr...]]");
        goto done;
    }
    e = cbor_array_handle(it);
    size = cbor_get_int(e[0]);
    index = cbor_get_int(e[1]);
    n = cbor_array_size(e[2]);
    if (n > WB_MERKLE_MAX_PROOF) {
        rc = wb_error_set(WB_E_INVALID,
                          "receipt: inclusion path has %zu hashes, over the limit of %d", n,
                          WB_MERKLE_MAX_PROOF);
        goto done;
    }
    path = malloc(n ? n * 32 : 1);
    if (!path) {
        rc = wb_error_set(WB_E_NOMEM, "out of memory for an inclusion path");
        goto done;
    }
    pe = cbor_array_handle(e[2]);
    for (size_t i = 0; i < n; i++) {
        if (!cbor_isa_bytestring(pe[i]) || cbor_bytestring_length(pe[i]) != 32) {
            rc = wb_error_set(WB_E_INVALID,
                              "receipt: inclusion path hash %zu is %s of %zu bytes, want "
                              "32 bytes",
                              i, wb_cbor_type_name(pe[i]),
                              cbor_isa_bytestring(pe[i]) ? cbor_bytestring_length(pe[i])
                                                         : 0);
            goto done;
        }
        memcpy(path[i], wb_cbor_bytes(pe[i]), 32);
    }
    wb_merkle_leaf_hash(leaf, statement, statement_len);
    if ((rc = rfc9162_root(root, leaf, index, size, path, n)) != 0)
        goto done;
    if ((rc = wb_merkle_inclusion_verify(leaf, index, size, path, n, root)) != 0) {
        rc = wb_error_prefix(rc, "receipt");
        goto done;
    }
    if (info) {
        info->tree_size = size;
        info->leaf_index = index;
    }
done:
    free(path);
    cbor_decref(&it);
    return rc;
}

/* the one inclusion proof in the receipt's 396 map */
static int get_proof(const uint8_t **proof, size_t *len, const wb_cose_sign1 *r)
{
    const cbor_item_t *vdp = wb_cbor_map_get_int(wb_cose_sign1_unprotected(r),
                                                 WB_COSE_HDR_PROOFS);
    const cbor_item_t *list = NULL;
    struct cbor_pair *p;

    if (!vdp)
        return wb_error_set(WB_E_INVALID,
                            "receipt: no proofs (396) in the unprotected header");
    if (!cbor_isa_map(vdp))
        return wb_error_set(WB_E_INVALID, "receipt: proofs (396) is %s, want a map",
                            wb_cbor_type_name(vdp));
    p = cbor_map_handle(vdp);
    for (size_t i = 0; i < cbor_map_size(vdp); i++) {
        int64_t k;
        char key[48];
        if (wb_cbor_int64(p[i].key, &k) && k == WB_COSE_PROOF_INCLUSION) {
            list = p[i].value;
            continue;
        }
        if (wb_cbor_int64(p[i].key, &k) && k == WB_COSE_PROOF_CONSISTENCY)
            return wb_error_set(WB_E_INVALID,
                                "receipt: proofs (396) hold consistency proofs (-2); a "
                                "receipt of inclusion carries only inclusion proofs (-1)");
        wb_cbor_key_text(key, sizeof(key), p[i].key);
        return wb_error_set(WB_E_INVALID, "receipt: proofs (396) have an unknown proof "
                                          "type %s",
                            key);
    }
    if (!list)
        return wb_error_set(WB_E_INVALID, "receipt: no inclusion proof (396/-1)");
    if (!cbor_isa_array(list))
        return wb_error_set(WB_E_INVALID,
                            "receipt: inclusion proofs (396/-1) is %s, want an array",
                            wb_cbor_type_name(list));
    if (cbor_array_size(list) != 1)
        return wb_error_set(WB_E_INVALID,
                            "receipt: %zu inclusion proofs (396/-1); waybill accepts "
                            "exactly one",
                            cbor_array_size(list));
    if (!cbor_isa_bytestring(cbor_array_handle(list)[0]))
        return wb_error_set(WB_E_INVALID, "receipt: inclusion proof is %s, want a byte "
                                          "string",
                            wb_cbor_type_name(cbor_array_handle(list)[0]));
    *proof = wb_cbor_bytes(cbor_array_handle(list)[0]);
    *len = cbor_bytestring_length(cbor_array_handle(list)[0]);
    return 0;
}

int wb_receipt_verify(wb_receipt_info *info, const uint8_t *receipt, size_t receipt_len,
                      const uint8_t *statement, size_t statement_len, wb_receipt_key_fn keys,
                      void *keys_ctx)
{
    wb_cose_sign1 r;
    wb_cose_verifier v;
    const uint8_t *proof = NULL; /* NULL, 0: quiets -O3 maybe-uninitialized */
    size_t proof_len = 0;
    uint8_t root[32];
    int rc;

    if (info)
        memset(info, 0, sizeof(*info));
    if (!keys)
        return wb_error_set(WB_E_INVALID, "receipt: no key lookup");
    if ((rc = check_registered(statement, statement_len)) != 0)
        return rc;
    if ((rc = wb_cose_sign1_decode_ex(&r, receipt, receipt_len, WB_COSE_MAX,
                                      WB_COSE_KID_TEXT_OK, "receipt")) != 0)
        return rc;
    if (!r.detached) {
        rc = wb_error_set(WB_E_INVALID, "receipt: the payload is attached; a receipt's "
                                        "payload, the tree root, must be detached (nil)");
        goto done;
    }
    if (r.hdr.alg == 0) {
        rc = wb_error_set(WB_E_INVALID, "receipt: no alg (1) in the protected header");
        goto done;
    }
    if (r.hdr.vds == 0) {
        rc = wb_error_set(WB_E_INVALID, "receipt: no vds (395) in the protected header");
        goto done;
    }
    if (r.hdr.vds != WB_VDS_RFC9162_SHA256 && r.hdr.vds != WB_VDS_CCF_LEDGER_SHA256) {
        rc = wb_error_set(WB_E_INVALID,
                          "receipt: vds (395) %lld is not supported; waybill verifies 1 "
                          "(RFC9162_SHA256) and 2 (CCF_LEDGER_SHA256)",
                          (long long)r.hdr.vds);
        goto done;
    }
    if ((rc = get_proof(&proof, &proof_len, &r)) != 0)
        goto done;
    if (r.hdr.vds == WB_VDS_RFC9162_SHA256)
        rc = rfc9162_verify(root, info, proof, proof_len, statement, statement_len);
    else
        rc = wb_ccf_root(root, proof, proof_len, statement, statement_len);
    if (rc)
        goto done;

    memset(&v, 0, sizeof(v));
    if ((rc = keys(keys_ctx, &v, r.hdr.kid.ptr, r.hdr.kid.len, r.hdr.alg)) != 0) {
        rc = wb_error_prefix(rc, "receipt");
        goto done;
    }
    if ((rc = wb_cose_sign1_verify(&r, &v, root, sizeof(root))) != 0) {
        rc = wb_error_prefix(rc, "receipt");
        goto done;
    }
    if (info) {
        info->vds = r.hdr.vds;
        info->alg = r.hdr.alg;
        memcpy(info->kid, r.hdr.kid.ptr ? r.hdr.kid.ptr : (const uint8_t *)"",
               r.hdr.kid.len);
        info->kid_len = r.hdr.kid.len;
        if (r.hdr.iss)
            snprintf(info->iss, sizeof(info->iss), "%s", r.hdr.iss);
        info->iat = r.hdr.iat;
        memcpy(info->root, root, sizeof(root));
    }
done:
    if (rc && info)
        memset(info, 0, sizeof(*info));
    wb_cose_sign1_cleanup(&r);
    return rc;
}
