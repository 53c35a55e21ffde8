/*
 * waybill/witnessed.h: a witnessed checkpoint carried by a COSE receipt
 * (docs/receipts.md, "Witnessed receipts").
 *
 * An RFC 9942 receipt signs only its tree root. To let a client check,
 * offline, that the tree it proves inclusion in was also seen by witnesses
 * (a split view would need them to cosign two inconsistent checkpoints),
 * the log adds two private-use labels to the receipt's unprotected header:
 *
 *   -70001  tstr: the log's signed checkpoint (C2SP signed note) with the
 *           witnesses' cosignature lines (tlog-cosignature)
 *   -70002  bstr .cbor [tree_size_1, tree_size_2, [* bstr 32]]: an RFC 9162
 *           consistency proof from the receipt's tree to the checkpoint's
 *           (the shape of RFC 9942's consistency-proof)
 *
 * Neither is covered by the receipt signature, and neither needs to be:
 * the checkpoint carries its own signatures (the log's key and each
 * witness's), and the proof binds the receipt's root to it.
 */
#ifndef WAYBILL_WITNESSED_H
#define WAYBILL_WITNESSED_H

#include <stddef.h>
#include <stdint.h>

#include "waybill/cose.h"
#include "waybill/merkle.h"
#include "waybill/witness.h"

#define WB_RECEIPT_HDR_WITNESSED_CHECKPOINT (-70001)
#define WB_RECEIPT_HDR_WITNESSED_PROOF (-70002)

/* ---- encoding (src/lib/cose/receipt_witnessed.c) ---- */

/*
 * wb_receipt_witnessed_attach: a copy of receipt (malloc'd) with the
 * checkpoint and the consistency proof from size1 (the receipt's tree) to
 * size2 (the checkpoint's) in its unprotected header. A receipt that
 * already carries them is refused (WB_E_INVALID).
 */
int wb_receipt_witnessed_attach(uint8_t **out, size_t *len, const uint8_t *receipt,
                                size_t receipt_len, const char *checkpoint, size_t cp_len,
                                uint64_t size1, uint64_t size2,
                                const uint8_t (*proof)[WB_HASH_LEN], size_t nproof);

typedef struct {
    char *checkpoint;      /* malloc'd, NUL-terminated */
    size_t checkpoint_len;
    uint64_t size1, size2;
    uint8_t proof[WB_MERKLE_MAX_PROOF][WB_HASH_LEN];
    size_t nproof;
} wb_receipt_witnessed;

/*
 * wb_receipt_witnessed_get reads them back: WB_E_NOTFOUND if the receipt
 * carries none, WB_E_INVALID if they are malformed (one without the other,
 * wrong types, a hash that is not 32 bytes, more than 64 hashes).
 */
int wb_receipt_witnessed_get(wb_receipt_witnessed *w, const uint8_t *receipt, size_t len);
void wb_receipt_witnessed_cleanup(wb_receipt_witnessed *w);

/* ---- verification (src/lib/scitt/witnessed.c) ---- */

typedef struct {
    uint64_t size;         /* the witnessed checkpoint's tree size */
    size_t ncosigned;      /* policy witnesses whose cosignature verified */
} wb_witnessed_info;

/*
 * wb_receipt_witnessed_verify: for a receipt already verified (info from
 * wb_receipt_verify, vds 1), the witnessed checkpoint it carries verifies
 * with log_key, names the receipt's issuer as its origin, is cosigned by a
 * quorum of policy's witnesses (wb_witness_policy_check), and the
 * consistency proof leads from the receipt's (tree_size, root) to the
 * checkpoint's. WB_E_NOTFOUND (with a message saying how to get one) when
 * the receipt carries no witnessed checkpoint; WB_E_VERIFY with the reason
 * otherwise. out may be NULL.
 */
int wb_receipt_witnessed_verify(wb_witnessed_info *out, const wb_receipt_info *info,
                                const uint8_t *receipt, size_t len,
                                const wb_witness_policy *policy, const wb_note_key *log_key);

#endif
