/*
 * witnessed.c: checks the witnessed checkpoint a receipt carries
 * (waybill/witnessed.h, docs/receipts.md "Witnessed receipts"): the log
 * signed it, a quorum of the policy's witnesses cosigned it
 * (tlog-cosignature), and an RFC 9162 consistency proof leads from the
 * receipt's tree to it, so the receipt's root is in the tree the witnesses
 * saw.
 */
#include "waybill/witnessed.h"

#include <string.h>

#include "waybill/error.h"
#include "waybill/log.h"
#include "waybill/util.h"

int wb_receipt_witnessed_verify(wb_witnessed_info *out, const wb_receipt_info *info,
                                const uint8_t *receipt, size_t len,
                                const wb_witness_policy *policy, const wb_note_key *log_key)
{
    wb_receipt_witnessed w;
    wb_checkpoint cp;
    size_t ncosigned = 0;
    int rc;

    if (out)
        memset(out, 0, sizeof(*out));
    if (info->vds != WB_VDS_RFC9162_SHA256)
        return wb_error_set(WB_E_VERIFY, "a witness policy applies to RFC9162_SHA256 "
                            "receipts (vds 1), not vds %lld", (long long)info->vds);
    rc = wb_receipt_witnessed_get(&w, receipt, len);
    if (rc)
        return rc;
    rc = wb_witness_policy_check(policy, w.checkpoint, w.checkpoint_len, log_key, &ncosigned);
    if (rc)
        rc = wb_error_prefix(rc == WB_E_INVALID ? rc : WB_E_VERIFY, "witnessed checkpoint");
    if (rc == 0) {
        rc = wb_checkpoint_open(&cp, w.checkpoint, w.checkpoint_len, log_key);
        if (rc) {
            wb_receipt_witnessed_cleanup(&w);
            return wb_error_prefix(rc, "witnessed checkpoint");
        }
        if (strcmp(cp.origin, info->iss) != 0)
            rc = wb_error_set(WB_E_VERIFY, "the witnessed checkpoint is of log '%s', the "
                              "receipt was issued by '%s'", cp.origin, info->iss);
        else if (w.size1 != info->tree_size || w.size2 != cp.size)
            rc = wb_error_set(WB_E_VERIFY, "the witnessed proof goes from size %llu to %llu; "
                              "the receipt's tree has %llu entries and the checkpoint %llu",
                              (unsigned long long)w.size1, (unsigned long long)w.size2,
                              (unsigned long long)info->tree_size,
                              (unsigned long long)cp.size);
        else if (wb_merkle_consistency_verify(w.size1, w.size2,
                                              (const uint8_t(*)[WB_HASH_LEN])w.proof,
                                              w.nproof, info->root, cp.root) != 0)
            rc = wb_error_set(WB_E_VERIFY, "the receipt's tree (%llu entries) is not "
                              "consistent with the witnessed checkpoint (%llu entries): "
                              "the consistency proof does not verify",
                              (unsigned long long)w.size1, (unsigned long long)w.size2);
        if (rc == 0 && out) {
            out->size = cp.size;
            out->ncosigned = ncosigned;
        }
        wb_checkpoint_cleanup(&cp);
    }
    wb_receipt_witnessed_cleanup(&w);
    return rc;
}
