/*
 * fuzz_proof_text.c: libFuzzer target for the tlog-proof / consistency-proof
 * text parser (wb_proof_text_parse). A proof that parses must format back to
 * the same bytes, and verifying it against a fixed key must not crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/log.h"

/* the key of the log that made the seed proofs; entry 5 of it is "entry 6\n" */
static const char VKEY[] = "example.com/fuzz+6a376833+ASGGj4/AuCUnJ11kTt6rQIQUAwOxUTH3iCV0n6pYLW8W";
static const uint8_t ENTRY[] = "entry 6\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wb_proof_text p;
    char *text;
    size_t len;
    static wb_note_key *key;
    if (!key && wb_note_verifier_parse(&key, VKEY, strlen(VKEY)) != 0)
        key = NULL;
    if (wb_proof_text_parse(&p, (const char *)data, size) != 0)
        return 0;
    if (wb_proof_text_format(&text, &len, &p) != 0)
        abort();
    if (len != size || memcmp(text, data, size) != 0)
        abort();
    free(text);
    if (key) {
        if (p.consistency)
            wb_log_verify_consistency(&p, p.checkpoint, p.checkpoint_len, key, NULL);
        else
            wb_log_verify_inclusion(&p, ENTRY, sizeof(ENTRY) - 1, key, NULL);
    }
    wb_proof_text_cleanup(&p);
    return 0;
}
