/*
 * fuzz_note.c: libFuzzer target for the C2SP signed-note parsers
 * (wb_note_open, wb_note_verifier_parse, wb_note_signer_parse).
 *
 * The input is opened as a signed note against the published Go example
 * verifier (PeterNeumann), so inputs derived from the seed corpus reach the
 * signature check. Invariants checked, aborting on violation:
 *   - an opened note's text is a prefix of the input, ends in '\n', and at
 *     least one signature is verified; every signature has bytes;
 *   - a key string that parses formats back to exactly the input (key
 *     strings have one spelling).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/note.h"

static const char go_vkey[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

static void check_key_round_trip(const char *s, size_t len, int signer)
{
    wb_note_key *k = NULL;
    char *back = NULL;
    int rc = signer ? wb_note_signer_parse(&k, s, len) : wb_note_verifier_parse(&k, s, len);
    if (rc != 0)
        return;
    rc = signer ? wb_note_signer_string(&back, k) : wb_note_verifier_string(&back, k);
    if (rc != 0 || strlen(back) != len || memcmp(back, s, len) != 0)
        abort();
    free(back);
    wb_note_key_free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static wb_note_key *verifier;
    const char *msg = (const char *)data;
    wb_note n;

    if (!verifier && wb_note_verifier_parse(&verifier, go_vkey, sizeof(go_vkey) - 1) != 0)
        abort();

    if (wb_note_open(&n, msg, size, &verifier, 1) == 0) {
        size_t nverified = 0;
        if (n.text != msg || n.text_len == 0 || n.text_len >= size ||
            msg[n.text_len - 1] != '\n' || n.nsigs == 0)
            abort();
        for (size_t i = 0; i < n.nsigs; i++) {
            if (n.sigs[i].sig_len == 0 || !n.sigs[i].sig || n.sigs[i].name[0] == '\0')
                abort();
            nverified += (size_t)n.sigs[i].verified;
        }
        if (nverified == 0)
            abort();
        wb_note_cleanup(&n);
    } else if (n.sigs || n.nsigs || n.text) {
        abort(); /* a failed open leaves nothing to free */
    }

    check_key_round_trip(msg, size, 0);
    check_key_round_trip(msg, size, 1);
    return 0;
}
