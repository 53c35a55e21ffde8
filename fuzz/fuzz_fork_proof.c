/*
 * fuzz_fork_proof.c: libFuzzer target for the fork proof reader
 * (wb_fork_proof_verify, docs/audit.md "Fork proofs"): JSON with two signed
 * checkpoints, a root and an RFC 9162 consistency proof.
 *
 * Inputs are checked both with the key the file names and with a fixed
 * test key (the seeds' checkpoints are signed with it, so they reach the
 * proof check). Invariants: a proof accepted with the fixed key names sizes
 * 0 < a <= b; nothing over WB_FORK_PROOF_MAX is read. Violations abort.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/audit.h"

/* a test key, published here: it signed the seed corpus */
static const char log_vkey[] =
    "example.com/log+73c796e4+AWJuELt8xSGyeUPB9zVZNYYu+G1O2RtYy4sU7QNizzBO";
static wb_note_key *key;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t a = 0, b = 0;
    char *file_key = NULL;
    if (!key && wb_note_verifier_parse(&key, log_vkey, strlen(log_vkey)) != 0)
        abort();
    if (wb_fork_proof_verify((const char *)data, size, key, NULL, &a, &b) == 0 &&
        (a == 0 || a > b || size > WB_FORK_PROOF_MAX))
        abort();
    if (wb_fork_proof_verify((const char *)data, size, NULL, &file_key, &a, &b) == 0 &&
        (!file_key || a == 0 || a > b))
        abort();
    free(file_key);
    return 0;
}
