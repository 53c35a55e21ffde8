/*
 * waybill/note.h: C2SP signed-note and tlog-checkpoint.
 *
 * signed-note (https://c2sp.org/signed-note): a UTF-8 text ending in a
 * newline, an empty line, then signature lines "— <name> <base64(keyid‖sig)>"
 * (U+2014 EM DASH). The key ID is the first 4 bytes of
 * SHA-256(name ‖ 0x0A ‖ signature-type ‖ public key); Ed25519 is type 0x01.
 * Verifier keys are written "<name>+<8 hex digits key ID>+<base64(type‖key)>";
 * signer keys "PRIVATE+KEY+<name>+<key ID>+<base64(type‖seed)>".
 *
 * tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the note text is the
 * origin line, the tree size in decimal, the base64 root hash, then optional
 * extension lines.
 */
#ifndef WAYBILL_NOTE_H
#define WAYBILL_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "waybill/crypto.h"

#define WB_NOTE_MAX 65536        /* largest note we parse, in bytes */
#define WB_NOTE_MAX_SIGS 100     /* most signature lines we accept */
#define WB_NOTE_NAME_MAX 255     /* longest key name */
#define WB_NOTE_SIGTYPE_ED25519 0x01
#define WB_CHECKPOINT_MAX_EXT 32 /* most extension lines in a checkpoint */

/* A signer or verifier: a key name, its 4-byte key ID and the key. */
typedef struct wb_note_key wb_note_key;

/* a fresh Ed25519 signer named name */
int wb_note_key_generate(wb_note_key **out, const char *name);
/* parse "PRIVATE+KEY+<name>+<id>+<b64>" (signer) */
int wb_note_signer_parse(wb_note_key **out, const char *s, size_t len);
/* parse "<name>+<id>+<b64>" (verifier) */
int wb_note_verifier_parse(wb_note_key **out, const char *s, size_t len);
/* a verifier key given as "<name>+<id>+<b64>" or as a file holding one */
int wb_note_verifier_load(wb_note_key **out, const char *arg);
/* the string forms (malloc'd, NUL-terminated) */
int wb_note_signer_string(char **out, const wb_note_key *k);
int wb_note_verifier_string(char **out, const wb_note_key *k);
const char *wb_note_key_name(const wb_note_key *k);
uint32_t wb_note_key_id(const wb_note_key *k);
/* the underlying crypto key (owned by k) */
const wb_key *wb_note_key_key(const wb_note_key *k);
void wb_note_key_free(wb_note_key *k);

/*
 * wb_note_sign signs text (which must be a valid note text: UTF-8, no
 * control characters but '\n', ending in '\n') with each signer and returns
 * the signed note (malloc'd, NUL-terminated).
 */
int wb_note_sign(char **out, size_t *out_len, const char *text, size_t text_len,
                 wb_note_key *const *signers, size_t nsigners);

/* One signature line of an opened note. */
typedef struct {
    char name[WB_NOTE_NAME_MAX + 1];
    uint32_t key_id;
    uint8_t *sig; /* signature bytes after the key ID (malloc'd, freed by
                     wb_note_cleanup): unknown keys' signatures may be
                     kilobytes long (post-quantum), and must be kept */
    size_t sig_len;
    int verified; /* 1 if a given verifier checked it */
} wb_note_sig;

typedef struct {
    const char *text; /* points into the caller's message; not NUL-terminated */
    size_t text_len;  /* includes the final '\n' */
    wb_note_sig *sigs;
    size_t nsigs;
} wb_note;

/*
 * wb_note_open parses msg and checks its signatures against verifiers.
 * It fails with WB_E_INVALID if msg is not a well-formed signed note,
 * WB_E_VERIFY if a signature from a known key (same name and key ID) is bad
 * or if no verifier's signature is present. Signatures from unknown keys
 * are kept with verified = 0. note->text points into msg.
 */
int wb_note_open(wb_note *note, const char *msg, size_t len,
                 wb_note_key *const *verifiers, size_t nverifiers);
void wb_note_cleanup(wb_note *note);

/* ---- tlog-checkpoint ---- */
typedef struct {
    char origin[WB_NOTE_NAME_MAX + 1];
    uint64_t size;
    uint8_t root[32];
    size_t next;                             /* extension lines */
    char *ext[WB_CHECKPOINT_MAX_EXT];        /* each malloc'd, no '\n' */
} wb_checkpoint;

/* body text of a checkpoint (malloc'd, NUL-terminated, ends in '\n') */
int wb_checkpoint_format(char **out, size_t *len, const wb_checkpoint *cp);
/* parses a checkpoint body (the note text, not the signed note) */
int wb_checkpoint_parse(wb_checkpoint *cp, const char *text, size_t len);
void wb_checkpoint_cleanup(wb_checkpoint *cp);

#endif
