/*
 * cosig.c: witness cosignatures of checkpoints, C2SP tlog-cosignature
 * (https://c2sp.org/tlog-cosignature, "Format" and "Ed25519 signed message").
 *
 * A cosignature is a signed-note signature line by a witness key of
 * signature type 0x04: its key ID is
 *     SHA-256(name || 0x0A || 0x04 || 32-byte Ed25519 public key)[:4]
 * and its bytes after the key ID are a timestamped_signature, the POSIX
 * time as a big-endian u64 (at most 2^63 - 1) then the 64-byte Ed25519
 * signature over the message
 *     "cosignature/v1\n" "time <decimal, no leading zeroes>\n" <note body>
 * where the note body is the checkpoint text with its final newline and
 * without any signature line. The fixed header line separates this message
 * from every ordinary note signature, and the type byte separates the key
 * IDs, so a witness key never verifies an ordinary note signature and a
 * log key never verifies a cosignature.
 *
 * Keys are wb_note_key objects of type 0x04 (key.c), written as vkeys
 * "<name>+<id>+<base64(0x04 || key)>" and "PRIVATE+KEY+<name>+<id>+...";
 * wb_note_signer_string and wb_note_verifier_string format them.
 */
#include "waybill/witness.h"

#include "note/note_int.h"
#include "waybill/error.h"
#include "waybill/util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define COSIG_SIG_LEN 64                     /* Ed25519 signature */
#define COSIG_BYTES (8 + COSIG_SIG_LEN)      /* timestamped_signature */
#define COSIG_TIME_MAX ((uint64_t)INT64_MAX) /* "MUST NOT exceed 2^63 - 1" */

static const char cosig_header[] = "cosignature/v1\n";
/* "— ": U+2014 EM DASH in UTF-8, then a space */
static const uint8_t sig_prefix[4] = {0xE2, 0x80, 0x94, 0x20};

int wb_cosig_key_generate(wb_note_key **out, const char *name)
{
    return note_key_generate(out, name, WB_NOTE_SIGTYPE_COSIG);
}

int wb_cosig_signer_parse(wb_note_key **out, const char *s, size_t len)
{
    return note_signer_parse(out, s, len, WB_NOTE_SIGTYPE_COSIG);
}

int wb_cosig_verifier_parse(wb_note_key **out, const char *s, size_t len)
{
    return note_verifier_parse(out, s, len, WB_NOTE_SIGTYPE_COSIG);
}

/* cosig_message builds the signed message (malloc'd) for body at time t */
static int cosig_message(uint8_t **out, size_t *len, const char *body, size_t body_len,
                         uint64_t t)
{
    wb_buf b;

    wb_buf_init(&b, WB_NOTE_MAX + 64);
    wb_buf_add_str(&b, cosig_header);
    wb_buf_printf(&b, "time %" PRIu64 "\n", t);
    wb_buf_add(&b, body, body_len);
    return wb_buf_finish(&b, out, len);
}

/* check_body: a checkpoint body that may be cosigned (a valid note text) */
static int check_body(const char *body, size_t len)
{
    if (!body || len == 0)
        return wb_error_set(WB_E_INVALID, "cosignature: the checkpoint body is empty");
    if (len > WB_NOTE_MAX)
        return wb_error_set(WB_E_LIMIT,
                            "cosignature: checkpoint body of %zu bytes, over the "
                            "%d-byte note limit",
                            len, WB_NOTE_MAX);
    if (body[len - 1] != '\n')
        return wb_error_set(WB_E_INVALID,
                            "cosignature: the checkpoint body does not end in a newline");
    return note_check_chars((const uint8_t *)body, len, "cosignature: checkpoint body", 1);
}

int wb_cosig_sign(char **line, size_t *len, const wb_note_key *witness,
                  const char *body, size_t body_len, uint64_t t)
{
    uint8_t data[4 + 8 + WB_SIG_MAX];
    uint8_t *msg = NULL;
    size_t msg_len = 0, sig_len = 0;
    uint8_t *p = NULL;
    size_t plen = 0;
    uint32_t id;
    wb_buf b;
    int rc;

    *line = NULL;
    if (len)
        *len = 0;
    if (!witness || note_key_type(witness) != WB_NOTE_SIGTYPE_COSIG)
        return wb_error_set(WB_E_INVALID,
                            "cosignature: the key is not a witness key (type 0x04)");
    if (!wb_key_is_private(wb_note_key_key(witness)))
        return wb_error_set(WB_E_INVALID, "cosignature: witness %s+%08x has no private key",
                            wb_note_key_name(witness), (unsigned)wb_note_key_id(witness));
    if (t > COSIG_TIME_MAX)
        return wb_error_set(WB_E_INVALID,
                            "cosignature: timestamp %" PRIu64 " is over 2^63 - 1", t);
    rc = check_body(body, body_len);
    if (rc != 0)
        return rc;
    rc = cosig_message(&msg, &msg_len, body, body_len, t);
    if (rc != 0)
        return wb_error_prefix(rc, "cosignature");
    rc = wb_key_sign(wb_note_key_key(witness), data + 12, &sig_len, msg, msg_len);
    free(msg);
    if (rc != 0)
        return wb_error_prefix(rc, "cosignature by %s", wb_note_key_name(witness));
    if (sig_len != COSIG_SIG_LEN)
        return wb_error_set(WB_E_INTERNAL, "cosignature: Ed25519 gave %zu bytes", sig_len);
    id = wb_note_key_id(witness);
    for (int i = 0; i < 4; i++)
        data[i] = (uint8_t)(id >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        data[4 + i] = (uint8_t)(t >> (56 - 8 * i));

    wb_buf_init(&b, 1024);
    wb_buf_add(&b, sig_prefix, sizeof(sig_prefix));
    wb_buf_add_str(&b, wb_note_key_name(witness));
    wb_buf_add_u8(&b, ' ');
    wb_buf_add_base64(&b, data, 4 + COSIG_BYTES);
    wb_buf_add_u8(&b, '\n');
    rc = wb_buf_finish(&b, &p, &plen);
    if (rc != 0)
        return wb_error_prefix(rc, "cosignature line");
    *line = (char *)p;
    if (len)
        *len = plen;
    return 0;
}

int note_cosig_check(const wb_note_key *k, const uint8_t *sig, size_t sig_len,
                     const char *text, size_t text_len, uint64_t *t)
{
    wb_reader r;
    const uint8_t *ed;
    uint8_t *msg = NULL;
    size_t msg_len = 0;
    uint64_t ts = 0;
    int rc;

    if (note_key_type(k) != WB_NOTE_SIGTYPE_COSIG)
        return wb_error_set(WB_E_INTERNAL, "cosignature check with a non-witness key");
    if (sig_len != COSIG_BYTES)
        return wb_error_set(WB_E_VERIFY,
                            "cosignature by %s+%08x is %zu bytes after the key ID, not "
                            "%d (8-byte time, 64-byte Ed25519 signature)",
                            wb_note_key_name(k), (unsigned)wb_note_key_id(k), sig_len,
                            COSIG_BYTES);
    wb_reader_init(&r, sig, sig_len);
    if (!wb_reader_get_u64be(&r, &ts) || !wb_reader_get_bytes(&r, &ed, COSIG_SIG_LEN))
        return wb_error_set(WB_E_INTERNAL, "cosignature: short signature");
    if (ts > COSIG_TIME_MAX)
        return wb_error_set(WB_E_VERIFY,
                            "cosignature by %s+%08x: timestamp %" PRIu64
                            " is over 2^63 - 1",
                            wb_note_key_name(k), (unsigned)wb_note_key_id(k), ts);
    rc = cosig_message(&msg, &msg_len, text, text_len, ts);
    if (rc != 0)
        return wb_error_prefix(rc, "cosignature");
    rc = wb_key_verify(wb_note_key_key(k), ed, COSIG_SIG_LEN, msg, msg_len);
    free(msg);
    if (rc == WB_E_VERIFY)
        return wb_error_set(WB_E_VERIFY,
                            "cosignature by %s+%08x (time %" PRIu64 ") does not verify",
                            wb_note_key_name(k), (unsigned)wb_note_key_id(k), ts);
    if (rc != 0)
        return wb_error_prefix(rc, "cosignature by %s", wb_note_key_name(k));
    *t = ts;
    return 0;
}

int wb_cosig_verify(const wb_note *note, const wb_note_key *witness, uint64_t *t)
{
    uint64_t best = 0;
    size_t found = 0;

    if (t)
        *t = 0;
    if (!witness || note_key_type(witness) != WB_NOTE_SIGTYPE_COSIG)
        return wb_error_set(WB_E_INVALID,
                            "cosignature: the key is not a witness key (type 0x04)");
    if (!note || !note->text)
        return wb_error_set(WB_E_INVALID, "cosignature: no opened note");
    /* every line by this key must verify (as signed-note asks of a known key) */
    for (size_t i = 0; i < note->nsigs; i++) {
        const wb_note_sig *s = &note->sigs[i];
        uint64_t ts = 0;
        int rc;

        if (s->key_id != wb_note_key_id(witness) ||
            strcmp(s->name, wb_note_key_name(witness)) != 0)
            continue;
        rc = note_cosig_check(witness, s->sig, s->sig_len, note->text, note->text_len, &ts);
        if (rc != 0)
            return rc;
        if (found == 0 || ts > best)
            best = ts;
        found++;
    }
    if (found == 0)
        return wb_error_set(WB_E_NOTFOUND, "no cosignature by witness %s+%08x",
                            wb_note_key_name(witness), (unsigned)wb_note_key_id(witness));
    if (t)
        *t = best;
    return 0;
}
