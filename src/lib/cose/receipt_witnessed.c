/*
 * receipt_witnessed.c: the witnessed checkpoint and consistency proof a
 * receipt may carry in its unprotected header (waybill/witnessed.h,
 * docs/receipts.md "Witnessed receipts"). Bytes only: what they prove is
 * checked in src/lib/scitt/witnessed.c.
 *
 * The receipt is re-assembled around its protected bytes and signature,
 * which are copied unchanged, so its signature still verifies.
 */
#include "waybill/witnessed.h"

#include <stdlib.h>
#include <string.h>

#include "cose_int.h"
#include "waybill/error.h"
#include "waybill/note.h"
#include "waybill/util.h"

int wb_receipt_witnessed_attach(uint8_t **out, size_t *len, const uint8_t *receipt,
                                size_t receipt_len, const char *checkpoint, size_t cp_len,
                                uint64_t size1, uint64_t size2,
                                const uint8_t (*proof)[WB_HASH_LEN], size_t nproof)
{
    wb_cose_sign1 m;
    const cbor_item_t *unprot;
    wb_reader r;
    unsigned major;
    uint64_t count;
    wb_buf b, pb;
    uint8_t *pbytes = NULL;
    size_t plen = 0;
    int rc;

    *out = NULL;
    *len = 0;
    if (nproof > WB_MERKLE_MAX_PROOF || cp_len == 0 || cp_len > WB_NOTE_MAX)
        return wb_error_set(WB_E_LIMIT, "witnessed receipt: a checkpoint of %zu bytes with "
                            "%zu proof hashes is over the limits", cp_len, nproof);
    rc = wb_cose_sign1_decode_ex(&m, receipt, receipt_len, WB_COSE_MAX, WB_COSE_KID_TEXT_OK,
                                 "receipt");
    if (rc)
        return rc;
    unprot = wb_cose_sign1_unprotected(&m);
    if (wb_cbor_map_get_int(unprot, WB_RECEIPT_HDR_WITNESSED_CHECKPOINT) ||
        wb_cbor_map_get_int(unprot, WB_RECEIPT_HDR_WITNESSED_PROOF)) {
        wb_cose_sign1_cleanup(&m);
        return wb_error_set(WB_E_INVALID, "receipt: it already carries a witnessed "
                            "checkpoint (%d)", WB_RECEIPT_HDR_WITNESSED_CHECKPOINT);
    }
    /* the unprotected map as encoded: its head, then its pairs, kept as they are */
    wb_reader_init(&r, m.unprotected_raw, m.unprotected_len);
    if (!wb_cbor_head(&r, &major, &count) || major != WB_CBOR_MAP) {
        wb_cose_sign1_cleanup(&m);
        return wb_error_set(WB_E_INTERNAL, "receipt: cannot re-read the unprotected map");
    }
    /* [size1, size2, [hashes]] */
    wb_buf_init(&pb, (size_t)WB_MERKLE_MAX_PROOF * 40 + 64);
    wb_cbor_put_head(&pb, WB_CBOR_ARRAY, 3);
    wb_cbor_put_uint(&pb, size1);
    wb_cbor_put_uint(&pb, size2);
    wb_cbor_put_head(&pb, WB_CBOR_ARRAY, nproof);
    for (size_t i = 0; i < nproof; i++)
        wb_cbor_put_bytes(&pb, proof[i], WB_HASH_LEN);
    rc = wb_buf_finish(&pb, &pbytes, &plen);

    wb_buf_init(&b, WB_COSE_MAX);
    if (m.tagged)
        wb_cbor_put_head(&b, WB_CBOR_TAG, WB_CBOR_TAG_SIGN1);
    wb_cbor_put_head(&b, WB_CBOR_ARRAY, 4);
    wb_cbor_put_bytes(&b, m.protected_raw, m.protected_len);
    wb_cbor_put_head(&b, WB_CBOR_MAP, count + 2);
    wb_buf_add(&b, m.unprotected_raw + (m.unprotected_len - wb_reader_left(&r)),
               wb_reader_left(&r));
    wb_cbor_put_int(&b, WB_RECEIPT_HDR_WITNESSED_CHECKPOINT);
    wb_cbor_put_text(&b, checkpoint, cp_len);
    wb_cbor_put_int(&b, WB_RECEIPT_HDR_WITNESSED_PROOF);
    wb_cbor_put_bytes(&b, pbytes, plen);
    if (m.detached)
        wb_cbor_put_nil(&b);
    else
        wb_cbor_put_bytes(&b, m.payload, m.payload_len);
    wb_cbor_put_bytes(&b, m.signature, m.sig_len);
    if (rc == 0)
        rc = wb_buf_finish(&b, out, len);
    else
        wb_buf_cleanup(&b);
    free(pbytes);
    wb_cose_sign1_cleanup(&m);
    return rc;
}

static int read_proof(wb_receipt_witnessed *w, const cbor_item_t *it)
{
    cbor_item_t *arr = NULL, **e, **h;
    int64_t s1, s2;
    int rc;
    if (!cbor_isa_bytestring(it))
        return wb_error_set(WB_E_INVALID, "receipt: witnessed proof (%d) is %s, want a "
                            "bstr .cbor [size1, size2, [hashes]]",
                            WB_RECEIPT_HDR_WITNESSED_PROOF, wb_cbor_type_name(it));
    rc = wb_cbor_load(&arr, wb_cbor_bytes(it), cbor_bytestring_length(it), 65536,
                      "receipt: witnessed proof");
    if (rc)
        return rc;
    if (!cbor_isa_array(arr) || cbor_array_size(arr) != 3) {
        cbor_decref(&arr);
        return wb_error_set(WB_E_INVALID, "receipt: witnessed proof is not [size1, size2, "
                            "[hashes]]");
    }
    e = cbor_array_handle(arr);
    if (!cbor_isa_uint(e[0]) || !cbor_isa_uint(e[1]) || !wb_cbor_int64(e[0], &s1) ||
        !wb_cbor_int64(e[1], &s2) || !cbor_isa_array(e[2]) ||
        cbor_array_size(e[2]) > WB_MERKLE_MAX_PROOF) {
        cbor_decref(&arr);
        return wb_error_set(WB_E_INVALID, "receipt: witnessed proof: sizes must be unsigned "
                            "integers and the proof an array of at most %d hashes",
                            WB_MERKLE_MAX_PROOF);
    }
    w->size1 = (uint64_t)s1;
    w->size2 = (uint64_t)s2;
    w->nproof = cbor_array_size(e[2]);
    h = cbor_array_handle(e[2]);
    for (size_t i = 0; i < w->nproof; i++) {
        if (!cbor_isa_bytestring(h[i]) || cbor_bytestring_length(h[i]) != WB_HASH_LEN) {
            cbor_decref(&arr);
            return wb_error_set(WB_E_INVALID, "receipt: witnessed proof: hash %zu is not "
                                "32 bytes", i);
        }
        memcpy(w->proof[i], wb_cbor_bytes(h[i]), WB_HASH_LEN);
    }
    cbor_decref(&arr);
    return 0;
}

int wb_receipt_witnessed_get(wb_receipt_witnessed *w, const uint8_t *receipt, size_t len)
{
    wb_cose_sign1 m;
    const cbor_item_t *unprot, *cp, *pr;
    int rc;

    memset(w, 0, sizeof(*w));
    rc = wb_cose_sign1_decode_ex(&m, receipt, len, WB_COSE_MAX, WB_COSE_KID_TEXT_OK,
                                 "receipt");
    if (rc)
        return rc;
    unprot = wb_cose_sign1_unprotected(&m);
    cp = wb_cbor_map_get_int(unprot, WB_RECEIPT_HDR_WITNESSED_CHECKPOINT);
    pr = wb_cbor_map_get_int(unprot, WB_RECEIPT_HDR_WITNESSED_PROOF);
    if (!cp && !pr)
        rc = wb_error_set(WB_E_NOTFOUND, "the receipt carries no witnessed checkpoint "
                          "(unprotected %d and %d): fetch it witnessed, with GET "
                          "/entries/{id}/statement?witnessed=1",
                          WB_RECEIPT_HDR_WITNESSED_CHECKPOINT, WB_RECEIPT_HDR_WITNESSED_PROOF);
    else if (!cp || !pr)
        rc = wb_error_set(WB_E_INVALID, "receipt: a witnessed %s without its %s",
                          cp ? "checkpoint" : "proof", cp ? "proof" : "checkpoint");
    else if (!cbor_isa_string(cp))
        rc = wb_error_set(WB_E_INVALID, "receipt: witnessed checkpoint (%d) is %s, want "
                          "text", WB_RECEIPT_HDR_WITNESSED_CHECKPOINT, wb_cbor_type_name(cp));
    if (rc == 0)
        rc = wb_cbor_text_copy(&w->checkpoint, cp, WB_NOTE_MAX,
                               "receipt: witnessed checkpoint");
    if (rc == 0) {
        w->checkpoint_len = strlen(w->checkpoint);
        rc = read_proof(w, pr);
    }
    wb_cose_sign1_cleanup(&m);
    if (rc)
        wb_receipt_witnessed_cleanup(w);
    return rc;
}

void wb_receipt_witnessed_cleanup(wb_receipt_witnessed *w)
{
    if (!w)
        return;
    free(w->checkpoint);
    memset(w, 0, sizeof(*w));
}
