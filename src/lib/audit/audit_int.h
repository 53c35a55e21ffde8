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

/*
 * audit_replay_missing: 1 and the first entry (and why) whose finding the
 * rules raise but the service never registered, among entries before
 * `before`; *pending counts those at or after it (the service may register
 * them after this checkpoint).
 */
int audit_replay_missing(const audit_replay *r, uint64_t before, uint64_t *index,
                         char *why, size_t cap, uint64_t *pending);
void audit_replay_findings(const audit_replay *r, uint64_t *raised, uint64_t *registered);

/* counters for the report */
void audit_replay_counts(const audit_replay *r, uint64_t *statements, uint64_t *policy,
                         uint64_t *unknown);

#endif
