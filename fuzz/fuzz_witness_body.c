/*
 * fuzz_witness_body.c: libFuzzer target for the tlog-witness add-checkpoint
 * body parser (wb_witness_body_parse) and the witness's answer to a body
 * (wb_witness_handle, on a witness with one known log and state in memory).
 *
 * Each input meets a fresh in-memory witness that knows one log
 * (example.com/log, whose fixed test key signed the seeds, so that they
 * reach the consistency and fork checks) and has cosigned its tree of the
 * 8 leaves "0".."7", so the outcome depends on the input alone.
 *
 * Invariants: a parsed body has at most 63 proof hashes and none from old
 * size 0, its note lies inside the input and is not empty; every answer is
 * one of the statuses tlog-witness allows, a 200 is one cosignature line.
 * Violations abort.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/witness.h"

/* test keys, published here: the log's private key signs the seed corpus */
static const char log_vkey[] =
    "example.com/log+73c796e4+AWJuELt8xSGyeUPB9zVZNYYu+G1O2RtYy4sU7QNizzBO";
static const char log_skey[] =
    "PRIVATE+KEY+example.com/log+73c796e4+AXN9E+ObQGgR94ycKl7zQtli0AhBcxYS63O9zeqwh0dY";
static wb_note_key *wkey;
static char *first; /* "old 0\n\n" and the signed checkpoint of size 8 */
static size_t first_len;

static void init(void)
{
    wb_note_key *lk = NULL;
    wb_merkle_compact c;
    wb_checkpoint cp;
    char *body = NULL, *note = NULL;
    size_t blen = 0, nlen = 0;

    if (wb_cosig_key_generate(&wkey, "witness.example/fuzz") != 0 ||
        wb_note_signer_parse(&lk, log_skey, strlen(log_skey)) != 0)
        abort();
    wb_merkle_compact_init(&c);
    for (int i = 0; i < 8; i++) {
        uint8_t h[WB_HASH_LEN];
        char d = (char)('0' + i);
        wb_merkle_leaf_hash(h, &d, 1);
        if (wb_merkle_compact_append(&c, h, NULL, NULL) != 0)
            abort();
    }
    memset(&cp, 0, sizeof(cp));
    strcpy(cp.origin, "example.com/log");
    cp.size = 8;
    wb_merkle_compact_root(&c, cp.root);
    if (wb_checkpoint_format(&body, &blen, &cp) != 0 ||
        wb_note_sign(&note, &nlen, body, blen, &lk, 1) != 0)
        abort();
    first_len = 7 + nlen;
    first = malloc(first_len);
    if (!first)
        abort();
    memcpy(first, "old 0\n\n", 7);
    memcpy(first + 7, note, nlen);
    free(body);
    free(note);
    wb_note_key_free(lk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wb_witness_body *b = malloc(sizeof(*b));
    const char *in = (const char *)data;
    char *resp = NULL;
    size_t resp_len = 0;
    int status = 0;

    if (!b)
        return 0;
    wb_witness *witness = NULL;

    if (!wkey)
        init();
    if (wb_witness_open(&witness, ":memory:", wkey) != 0 ||
        wb_witness_add_log(witness, log_vkey) != 0 ||
        wb_witness_handle(witness, first, first_len, &status, &resp, &resp_len) != 0 ||
        status != 200)
        abort();
    free(resp);
    resp = NULL;
    if (wb_witness_body_parse(b, in, size) == 0) {
        if (b->nproof > WB_WITNESS_MAX_PROOF || (b->old_size == 0 && b->nproof != 0) ||
            b->note_len == 0 || b->note < in || b->note + b->note_len != in + size)
            abort();
    }
    free(b);
    if (wb_witness_handle(witness, in, size, &status, &resp, &resp_len) != 0)
        abort(); /* an in-memory state does not fail */
    wb_witness_close(witness);
    if (!resp || strlen(resp) != resp_len || resp_len == 0 || resp[resp_len - 1] != '\n')
        abort();
    if (status == 200 && (strncmp(resp, "\xe2\x80\x94 witness.example/fuzz ", 24) != 0 ||
                          memchr(resp, '\n', resp_len) != resp + resp_len - 1))
        abort();
    if (status != 200 && status != 400 && status != 403 && status != 404 && status != 409 &&
        status != 422)
        abort();
    free(resp);
    return 0;
}
