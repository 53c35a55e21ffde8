/*
 * ccf.c: inclusion proofs of the CCF_LEDGER_SHA256 verifiable data
 * structure (vds 2), as CCF-based transparency services (Azure Code
 * Transparency, scitt-ccf-ledger) write them in COSE receipts. Verification
 * only: waybill's own receipts are RFC9162_SHA256.
 *
 * The proof (one bstr in the receipt's 396/-1 array) is the map
 *   { 1: [ write_set_digest: bstr 32, commit_evidence: tstr,
 *          claims_digest: bstr 32 ],
 *     2: [ * [ left: bool, hash: bstr 32 ] ] }
 * and CCF's tree differs from RFC 9162's in two ways that matter:
 *   - the leaf is SHA-256(write_set_digest ‖ SHA-256(commit_evidence) ‖
 *     claims_digest), with no 0x00 prefix;
 *   - an inner node is SHA-256(left ‖ right), with no 0x01 prefix, and each
 *     path step says on which side its hash goes (left = true: the step's
 *     hash is the left child).
 * The claims digest is what binds the leaf to the statement: it must be
 * SHA-256 of the registered statement (the signed statement with its
 * unprotected header emptied). The write-set digest and the commit evidence
 * are CCF's own and are taken as given; the signature over the root covers
 * them.
 */
#include "cose_int.h"

#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/merkle.h"

#include <string.h>

#define CCF_PROOF_MAX 16384 /* bytes of one encoded CCF proof */

static int get_digest(const uint8_t **out, const cbor_item_t *it, const char *name)
{
    if (!cbor_isa_bytestring(it) || cbor_bytestring_length(it) != 32)
        return wb_error_set(WB_E_INVALID,
                            "receipt: CCF proof %s is %s of %zu bytes, want 32 bytes", name,
                            wb_cbor_type_name(it),
                            cbor_isa_bytestring(it) ? cbor_bytestring_length(it) : 0);
    *out = wb_cbor_bytes(it);
    return 0;
}

static int ccf_walk(uint8_t root[32], const cbor_item_t *map, const uint8_t *statement,
                    size_t statement_len)
{
    const cbor_item_t *leaf = NULL, *path = NULL;
    struct cbor_pair *p = cbor_map_handle(map);
    const uint8_t *wsd = NULL, *cd = NULL; /* NULL: quiets -O3 maybe-uninitialized */
    const cbor_item_t *ce;
    cbor_item_t **le, **steps;
    uint8_t buf[96], want[32];
    size_t nsteps;
    int rc;

    for (size_t i = 0; i < cbor_map_size(map); i++) {
        int64_t k;
        char key[48];
        if (wb_cbor_int64(p[i].key, &k) && k == 1) {
            leaf = p[i].value;
        } else if (wb_cbor_int64(p[i].key, &k) && k == 2) {
            path = p[i].value;
        } else {
            wb_cbor_key_text(key, sizeof(key), p[i].key);
            return wb_error_set(WB_E_INVALID, "receipt: CCF proof has an unknown key %s",
                                key);
        }
    }
    if (!leaf || !path)
        return wb_error_set(WB_E_INVALID, "receipt: CCF proof lacks its %s",
                            !leaf ? "leaf (1)" : "path (2)");
    if (!cbor_isa_array(leaf) || cbor_array_size(leaf) != 3)
        return wb_error_set(WB_E_INVALID,
                            "receipt: CCF proof leaf (1) is %s, want [write_set_digest, "
                            "commit_evidence, claims_digest]",
                            wb_cbor_type_name(leaf));
    le = cbor_array_handle(leaf);
    if ((rc = get_digest(&wsd, le[0], "write-set digest")) != 0 ||
        (rc = get_digest(&cd, le[2], "claims digest")) != 0)
        return rc;
    ce = le[1];
    if (!cbor_isa_string(ce) || cbor_string_length(ce) > WB_COSE_TEXT_MAX)
        return wb_error_set(WB_E_INVALID,
                            "receipt: CCF proof commit evidence is %s, want text of at "
                            "most %d bytes",
                            wb_cbor_type_name(ce), WB_COSE_TEXT_MAX);
    if (!cbor_isa_array(path))
        return wb_error_set(WB_E_INVALID, "receipt: CCF proof path (2) is %s, want an "
                                          "array",
                            wb_cbor_type_name(path));
    nsteps = cbor_array_size(path);
    if (nsteps > WB_MERKLE_MAX_PROOF)
        return wb_error_set(WB_E_INVALID,
                            "receipt: CCF proof path has %zu steps, over the limit of %d",
                            nsteps, WB_MERKLE_MAX_PROOF);

    /* the claims digest binds the leaf to this statement */
    if ((rc = wb_sha256(want, statement, statement_len)) != 0)
        return rc;
    if (memcmp(want, cd, 32) != 0)
        return wb_error_set(WB_E_VERIFY,
                            "receipt: the CCF claims digest is not SHA-256 of the "
                            "registered statement");

    memcpy(buf, wsd, 32);
    if ((rc = wb_sha256(buf + 32, cbor_string_handle(ce), cbor_string_length(ce))) != 0)
        return rc;
    memcpy(buf + 64, cd, 32);
    if ((rc = wb_sha256(root, buf, 96)) != 0)
        return rc;

    steps = cbor_array_handle(path);
    for (size_t i = 0; i < nsteps; i++) {
        cbor_item_t **st;
        const uint8_t *h;
        if (!cbor_isa_array(steps[i]) || cbor_array_size(steps[i]) != 2 ||
            !wb_cbor_is_bool(cbor_array_handle(steps[i])[0]))
            return wb_error_set(WB_E_INVALID,
                                "receipt: CCF proof path step %zu is %s, want [left: bool, "
                                "hash: bstr]",
                                i, wb_cbor_type_name(steps[i]));
        st = cbor_array_handle(steps[i]);
        if (!cbor_isa_bytestring(st[1]) || cbor_bytestring_length(st[1]) != 32)
            return wb_error_set(WB_E_INVALID,
                                "receipt: CCF proof path step %zu hash is not 32 bytes", i);
        h = wb_cbor_bytes(st[1]);
        if (wb_cbor_bool(st[0])) {
            memcpy(buf, h, 32);
            memcpy(buf + 32, root, 32);
        } else {
            memcpy(buf, root, 32);
            memcpy(buf + 32, h, 32);
        }
        if ((rc = wb_sha256(root, buf, 64)) != 0)
            return rc;
    }
    return 0;
}

int wb_ccf_root(uint8_t root[32], const uint8_t *proof, size_t proof_len,
                const uint8_t *statement, size_t statement_len)
{
    cbor_item_t *map = NULL;
    int rc;

    if ((rc = wb_cbor_load(&map, proof, proof_len, CCF_PROOF_MAX,
                           "receipt: CCF inclusion proof")) != 0)
        return rc;
    if (!cbor_isa_map(map))
        rc = wb_error_set(WB_E_INVALID, "receipt: CCF inclusion proof is %s, want a map",
                          wb_cbor_type_name(map));
    else
        rc = ccf_walk(root, map, statement, statement_len);
    cbor_decref(&map);
    return rc;
}
