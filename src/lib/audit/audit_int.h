/*
 * audit_int.h: what audit.c (the walk over the tree) and audit_replay.c
 * (statements, policy and fleet state) share.
 */
#ifndef WAYBILL_AUDIT_INT_H
#define WAYBILL_AUDIT_INT_H

#include "waybill/audit.h"
#include "waybill/fleet.h"
#include "waybill/store.h"

/* one entry of a chunk: its bytes point into a fetched bundle */
typedef struct {
    const uint8_t *data;
    size_t len;
} audit_entry;

typedef struct audit_replay audit_replay;

/* the statement checks over the auditor's state store */
int audit_replay_new(audit_replay **out, wb_store *state, const wb_audit_trust *trust,
                     unsigned threads, int allow_unknown);
void audit_replay_free(audit_replay *r);

/*
 * audit_replay_chunk verifies and applies entries [first, first + n) in
 * order. Returns 0 when all pass; otherwise sets *bad (the index),
 * *failure (WB_AUDIT_STATEMENT or WB_AUDIT_POLICY) and the error message,
 * and returns WB_E_VERIFY. Other errors are failures of the auditor.
 */
int audit_replay_chunk(audit_replay *r, const audit_entry *entries, size_t n,
                       uint64_t first, uint64_t *bad, wb_audit_failure *failure);

/* counters for the report */
void audit_replay_counts(const audit_replay *r, uint64_t *statements, uint64_t *policy,
                         uint64_t *unknown);

#endif
