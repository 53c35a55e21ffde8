/*
 * note_int.h: helpers shared by the files of src/lib/note (not public).
 *
 * The character rules of C2SP signed-note ("Signed notes MUST be valid UTF-8
 * and MUST NOT contain any ASCII control characters (those below U+0020)
 * other than newline") and its key-name rule ("Key names MUST be non-empty
 * and MUST NOT contain any Unicode spaces or plus (U+002B) characters") are
 * used by the note parser, the key parser and the checkpoint parser alike,
 * so that every string they accept can appear in a signed note.
 */
#ifndef WAYBILL_NOTE_INT_H
#define WAYBILL_NOTE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "waybill/note.h"

/*
 * note_check_chars checks that p[0..n) is valid UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF) with no control character
 * below U+0020 except '\n'. On failure the message reads
 * "<what> line <L>: ..." where L counts lines from first_line.
 */
int note_check_chars(const uint8_t *p, size_t n, const char *what,
                     size_t first_line);

/*
 * note_check_name checks a key name: 1..WB_NOTE_NAME_MAX bytes (WB_E_LIMIT
 * beyond), valid UTF-8, no control character, no Unicode White_Space
 * character and no '+'. what names the context for the message.
 */
int note_check_name(const uint8_t *p, size_t n, const char *what);

/*
 * Keys of one signature type (key.c): WB_NOTE_SIGTYPE_ED25519 (0x01) for
 * note signatures, WB_NOTE_SIGTYPE_COSIG (0x04) for witness cosignatures.
 * The public wb_note_* functions are these with type 0x01, wb_cosig_* with
 * 0x04; a string of the other type is refused with a message naming it.
 */
int note_key_generate(wb_note_key **out, const char *name, uint8_t type);
int note_signer_parse(wb_note_key **out, const char *s, size_t len, uint8_t type);
int note_verifier_parse(wb_note_key **out, const char *s, size_t len, uint8_t type);
uint8_t note_key_type(const wb_note_key *k);

/*
 * note_cosig_check (cosig.c) verifies the bytes of one cosignature line
 * (after the key ID: 8-byte big-endian timestamp and the Ed25519
 * signature) by the type-0x04 key k over the note text; *t gets the
 * timestamp. WB_E_VERIFY, naming the reason, if it does not verify.
 */
int note_cosig_check(const wb_note_key *k, const uint8_t *sig, size_t sig_len,
                     const char *text, size_t text_len, uint64_t *t);

/* note_wipe overwrites n bytes at p with zeros in a way the compiler keeps */
void note_wipe(void *p, size_t n);

#endif
