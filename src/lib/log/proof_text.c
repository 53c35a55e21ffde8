/*
 * proof_text.c: proofs as text, and their offline verification.
 *
 * Inclusion proofs use C2SP tlog-proof (c2sp.org/tlog-proof@v1):
 *
 *   c2sp.org/tlog-proof@v1
 *   [extra <base64>]
 *   index <decimal, no leading zeros>
 *   <base64 hash>            zero or more, leaf's sibling first
 *   <empty line>
 *   <the signed checkpoint, verbatim>
 *
 * C2SP has no text form for consistency proofs, so waybill uses the same
 * shape with its own header (documented in docs/proofs.md):
 *
 *   waybill.dev/consistency-proof@v1
 *   old <decimal tree size of the older checkpoint>
 *   <base64 hash>            zero or more, RFC 9162 §2.1.4 order
 *   <empty line>
 *   <the signed checkpoint of the newer tree, verbatim>
 *
 * Verification opens the checkpoint with the log's verifier key (signed-note),
 * requires its origin to be the key's name, and checks the RFC 9162 proof
 * against the checkpoint's size and root.
 */
#include "waybill/log.h"
#include "waybill/error.h"
#include "waybill/util.h"

#include <stdlib.h>
#include <string.h>

#define EXTRA_MAX 4096

int wb_proof_text_format(char **out, size_t *len, const wb_proof_text *p)
{
    wb_buf b;
    uint8_t *s;
    int rc;

    if (p->nhashes > WB_MERKLE_MAX_PROOF)
        return wb_error_set(WB_E_LIMIT, "proof has %zu hashes, at most %d",
                            p->nhashes, WB_MERKLE_MAX_PROOF);
    wb_buf_init(&b, WB_PROOF_TEXT_MAX);
    if (p->consistency) {
        wb_buf_add_str(&b, WB_CONSISTENCY_PROOF_HEADER "\n");
        wb_buf_printf(&b, "old %llu\n", (unsigned long long)p->old_size);
    } else {
        wb_buf_add_str(&b, WB_TLOG_PROOF_HEADER "\n");
        if (p->extra_len > 0) {
            wb_buf_add_str(&b, "extra ");
            wb_buf_add_base64(&b, p->extra, p->extra_len);
            wb_buf_add_str(&b, "\n");
        }
        wb_buf_printf(&b, "index %llu\n", (unsigned long long)p->index);
    }
    for (size_t i = 0; i < p->nhashes; i++) {
        wb_buf_add_base64(&b, p->hashes[i], WB_HASH_LEN);
        wb_buf_add_str(&b, "\n");
    }
    wb_buf_add_str(&b, "\n");
    wb_buf_add(&b, p->checkpoint, p->checkpoint_len);
    rc = wb_buf_finish(&b, &s, len);
    if (rc)
        return rc;
    *out = (char *)s;
    return 0;
}

static int line_is(const wb_reader *line, const char *s)
{
    size_t n = strlen(s);
    return wb_reader_left(line) == n && memcmp(line->ptr, s, n) == 0;
}

/* "<word> <decimal>" */
static int parse_number_line(const wb_reader *line, const char *word, uint64_t *out,
                             unsigned lineno)
{
    size_t n = strlen(word);
    if (wb_reader_left(line) <= n + 1 || memcmp(line->ptr, word, n) != 0 ||
        line->ptr[n] != ' ')
        return wb_error_set(WB_E_INVALID, "proof line %u: expected '%s <number>'",
                            lineno, word);
    if (wb_parse_u64(out, (const char *)line->ptr + n + 1, wb_reader_left(line) - n - 1))
        return wb_error_prefix(WB_E_INVALID, "proof line %u", lineno);
    return 0;
}

int wb_proof_text_parse(wb_proof_text *p, const char *text, size_t len)
{
    wb_reader r, line;
    unsigned lineno = 1;
    int rc;

    memset(p, 0, sizeof(*p));
    if (len > WB_PROOF_TEXT_MAX)
        return wb_error_set(WB_E_LIMIT, "proof is %zu bytes, over the %d-byte limit",
                            len, WB_PROOF_TEXT_MAX);
    wb_reader_init(&r, text, len);
    if (!wb_reader_get_until(&r, &line, '\n'))
        return wb_error_set(WB_E_INVALID, "proof line 1: no header line");
    if (line_is(&line, WB_TLOG_PROOF_HEADER))
        p->consistency = 0;
    else if (line_is(&line, WB_CONSISTENCY_PROOF_HEADER))
        p->consistency = 1;
    else
        return wb_error_set(WB_E_INVALID, "proof line 1: header is not '"
                            WB_TLOG_PROOF_HEADER "' or '" WB_CONSISTENCY_PROOF_HEADER "'");

    lineno++;
    if (!wb_reader_get_until(&r, &line, '\n'))
        return wb_error_set(WB_E_INVALID, "proof line %u: truncated", lineno);
    if (!p->consistency && wb_reader_left(&line) >= 6 &&
        memcmp(line.ptr, "extra ", 6) == 0) {
        size_t enc = wb_reader_left(&line) - 6;
        if (enc == 0 || enc > wb_base64_encoded_len(EXTRA_MAX))
            return wb_error_set(WB_E_INVALID, "proof line %u: extra data is empty or "
                                "over %d bytes", lineno, EXTRA_MAX);
        p->extra = malloc(EXTRA_MAX);
        if (!p->extra)
            return wb_error_set(WB_E_NOMEM, "out of memory");
        rc = wb_base64_decode(p->extra, EXTRA_MAX, &p->extra_len,
                              (const char *)line.ptr + 6, enc);
        if (rc) {
            wb_proof_text_cleanup(p);
            return wb_error_prefix(rc, "proof line %u: extra", lineno);
        }
        lineno++;
        if (!wb_reader_get_until(&r, &line, '\n')) {
            wb_proof_text_cleanup(p);
            return wb_error_set(WB_E_INVALID, "proof line %u: truncated", lineno);
        }
    }
    rc = p->consistency ? parse_number_line(&line, "old", &p->old_size, lineno)
                        : parse_number_line(&line, "index", &p->index, lineno);
    if (rc) {
        wb_proof_text_cleanup(p);
        return rc;
    }
    for (;;) {
        size_t n;
        lineno++;
        if (!wb_reader_get_until(&r, &line, '\n')) {
            wb_proof_text_cleanup(p);
            return wb_error_set(WB_E_INVALID, "proof line %u: truncated before the "
                                "empty line and checkpoint", lineno);
        }
        if (wb_reader_left(&line) == 0)
            break;
        if (p->nhashes == WB_MERKLE_MAX_PROOF) {
            wb_proof_text_cleanup(p);
            return wb_error_set(WB_E_LIMIT, "proof line %u: more than %d hashes",
                                lineno, WB_MERKLE_MAX_PROOF);
        }
        rc = wb_base64_decode(p->hashes[p->nhashes], WB_HASH_LEN, &n,
                              (const char *)line.ptr, wb_reader_left(&line));
        if (rc == 0 && n != WB_HASH_LEN)
            rc = wb_error_set(WB_E_INVALID, "hash is %zu bytes, not 32", n);
        if (rc) {
            wb_proof_text_cleanup(p);
            return wb_error_prefix(WB_E_INVALID, "proof line %u", lineno);
        }
        p->nhashes++;
    }
    if (wb_reader_left(&r) == 0) {
        wb_proof_text_cleanup(p);
        return wb_error_set(WB_E_INVALID, "proof line %u: no checkpoint after the "
                            "empty line", lineno + 1);
    }
    p->checkpoint = (const char *)r.ptr;
    p->checkpoint_len = wb_reader_left(&r);
    return 0;
}

void wb_proof_text_cleanup(wb_proof_text *p)
{
    free(p->extra);
    p->extra = NULL;
    p->extra_len = 0;
}

int wb_checkpoint_open(wb_checkpoint *cp, const char *signed_note, size_t len,
                       const wb_note_key *verifier)
{
    wb_note note;
    wb_note_key *keys[1] = {(wb_note_key *)verifier};
    int rc;

    memset(cp, 0, sizeof(*cp));
    rc = wb_note_open(&note, signed_note, len, keys, 1);
    if (rc)
        return wb_error_prefix(rc, "checkpoint");
    rc = wb_checkpoint_parse(cp, note.text, note.text_len);
    wb_note_cleanup(&note);
    if (rc)
        return rc;
    if (strcmp(cp->origin, wb_note_key_name(verifier)) != 0) {
        rc = wb_error_set(WB_E_VERIFY, "checkpoint origin '%s' is not the log '%s' "
                          "that the key names", cp->origin, wb_note_key_name(verifier));
        wb_checkpoint_cleanup(cp);
        return rc;
    }
    return 0;
}

int wb_log_verify_inclusion(const wb_proof_text *p, const uint8_t *entry,
                            size_t entry_len, const wb_note_key *verifier,
                            wb_checkpoint *out)
{
    wb_checkpoint cp;
    uint8_t leaf[WB_HASH_LEN];
    int rc;

    if (p->consistency)
        return wb_error_set(WB_E_INVALID, "this is a consistency proof, not an "
                            "inclusion proof");
    rc = wb_checkpoint_open(&cp, p->checkpoint, p->checkpoint_len, verifier);
    if (rc)
        return rc;
    if (p->index >= cp.size) {
        rc = wb_error_set(WB_E_VERIFY, "index %llu is not in the checkpoint's tree of "
                          "size %llu", (unsigned long long)p->index,
                          (unsigned long long)cp.size);
    } else {
        wb_merkle_leaf_hash(leaf, entry, entry_len);
        rc = wb_merkle_inclusion_verify(leaf, p->index, cp.size,
                                        (const uint8_t (*)[WB_HASH_LEN])p->hashes,
                                        p->nhashes, cp.root);
        if (rc)
            rc = wb_error_prefix(rc, "entry %llu in tree of size %llu",
                                 (unsigned long long)p->index,
                                 (unsigned long long)cp.size);
    }
    if (rc == 0 && out)
        *out = cp;
    else
        wb_checkpoint_cleanup(&cp);
    return rc;
}

int wb_log_verify_consistency(const wb_proof_text *p, const char *old_checkpoint,
                              size_t old_len, const wb_note_key *verifier,
                              wb_checkpoint *out)
{
    wb_checkpoint oldcp, cp;
    int rc;

    if (!p->consistency)
        return wb_error_set(WB_E_INVALID, "this is an inclusion proof, not a "
                            "consistency proof");
    rc = wb_checkpoint_open(&oldcp, old_checkpoint, old_len, verifier);
    if (rc)
        return wb_error_prefix(rc, "old");
    rc = wb_checkpoint_open(&cp, p->checkpoint, p->checkpoint_len, verifier);
    if (rc) {
        wb_checkpoint_cleanup(&oldcp);
        return wb_error_prefix(rc, "new");
    }
    if (oldcp.size != p->old_size)
        rc = wb_error_set(WB_E_VERIFY, "the proof is from size %llu, the old checkpoint "
                          "has size %llu", (unsigned long long)p->old_size,
                          (unsigned long long)oldcp.size);
    else if (oldcp.size == 0)
        rc = wb_error_set(WB_E_VERIFY, "the old checkpoint is of the empty tree: every "
                          "tree extends it, there is nothing to prove");
    else {
        rc = wb_merkle_consistency_verify(oldcp.size, cp.size,
                                          (const uint8_t (*)[WB_HASH_LEN])p->hashes,
                                          p->nhashes, oldcp.root, cp.root);
        if (rc)
            rc = wb_error_prefix(rc, "size %llu to %llu", (unsigned long long)oldcp.size,
                                 (unsigned long long)cp.size);
    }
    wb_checkpoint_cleanup(&oldcp);
    if (rc == 0 && out)
        *out = cp;
    else
        wb_checkpoint_cleanup(&cp);
    return rc;
}
