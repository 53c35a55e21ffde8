/*
 * waybill/witness.h: witness cosignatures of checkpoints, per C2SP
 * tlog-cosignature (cosignature/v1, Ed25519, signature type 0x04) and
 * tlog-witness (the add-checkpoint protocol), and the k-of-n witness policy
 * that the log server and clients apply (docs/audit.md "Witnesses").
 *
 * Layer: note/ (cosignatures, policy) and audit/ (witness server state,
 * client). Nothing here knows the SCITT or fleet layers.
 */
#ifndef WAYBILL_WITNESS_H
#define WAYBILL_WITNESS_H

#include <stddef.h>
#include <stdint.h>

#include "waybill/merkle.h"
#include "waybill/note.h"

#define WB_NOTE_SIGTYPE_COSIG 0x04  /* tlog-cosignature/v1 key type */
#define WB_WITNESS_MAX 32           /* witnesses in one policy */

/* ---- tlog-cosignature (src/lib/note/cosig.c) ---- */

/* a fresh Ed25519 witness key (signature type 0x04) named name */
int wb_cosig_key_generate(wb_note_key **out, const char *name);
/* "PRIVATE+KEY+<name>+<id>+<b64>" / "<name>+<id>+<b64>" with type 0x04;
 * wb_note_signer_string / wb_note_verifier_string write them back. A
 * type-0x01 note key is refused here, and a witness key by the wb_note_*
 * parsers; wb_note_sign refuses a witness key. */
int wb_cosig_signer_parse(wb_note_key **out, const char *s, size_t len);
int wb_cosig_verifier_parse(wb_note_key **out, const char *s, size_t len);

/*
 * wb_cosig_sign: one signature line "— <name> <base64(keyid||time||sig)>\n"
 * (malloc'd, NUL-terminated) cosigning the checkpoint body (the note text,
 * ending in '\n') at UNIX time t.
 */
int wb_cosig_sign(char **line, size_t *len, const wb_note_key *witness,
                  const char *body, size_t body_len, uint64_t t);

/*
 * wb_cosig_verify: among the signatures of an opened note, the one by this
 * witness key; verifies it over note->text and returns its timestamp.
 * WB_E_NOTFOUND if the witness did not sign, WB_E_VERIFY if its signature
 * is bad.
 */
int wb_cosig_verify(const wb_note *note, const wb_note_key *witness, uint64_t *t);

/* ---- witness policy (src/lib/note/policy.c) ----
 *
 * Text file, one directive per line, '#' comments:
 *   log <vkey>                  optional: the log's checkpoint key
 *   witness <name> <vkey> [URL] a witness (URL: where the log submits)
 *   quorum <k>                  how many witnesses must cosign (default: all)
 */
typedef struct {
    char *log_vkey;                 /* may be NULL */
    size_t nwitness;
    struct {
        char name[64];
        wb_note_key *key;
        char *url;                  /* may be NULL */
    } witness[WB_WITNESS_MAX];
    size_t quorum;
} wb_witness_policy;

int wb_witness_policy_parse(wb_witness_policy *p, const char *text, size_t len);
int wb_witness_policy_load(wb_witness_policy *p, const char *path);
void wb_witness_policy_cleanup(wb_witness_policy *p);

/*
 * wb_witness_policy_check: the signed checkpoint (a note) verifies with the
 * log key and carries valid cosignatures of at least quorum distinct policy
 * witnesses. *ncosigned (may be NULL) gets how many did. WB_E_VERIFY names
 * how many were needed and which were missing or bad.
 */
int wb_witness_policy_check(const wb_witness_policy *p, const char *signed_cp,
                            size_t len, const wb_note_key *log_key, size_t *ncosigned);

/* ---- tlog-witness client (src/lib/audit/witness_client.c) ---- */

typedef struct {
    int status;        /* HTTP status: 200, 409, 4xx, 0 when unreachable */
    char *cosig;       /* 200: the signature line(s) the witness returned */
    size_t cosig_len;
    uint64_t size;     /* 409: the witness's latest size for this log */
    char *detail;      /* error text for anything but 200 */
} wb_witness_reply;

/*
 * wb_witness_add_checkpoint POSTs "old <old>\n<proof lines>\n<checkpoint>"
 * to URL/add-checkpoint (tlog-witness) with a timeout in milliseconds.
 * Returns 0 whenever the witness answered (look at reply->status), an
 * error when it could not be reached.
 */
int wb_witness_add_checkpoint(wb_witness_reply *reply, const char *url, uint64_t old_size,
                              const uint8_t (*proof)[WB_HASH_LEN], size_t nproof,
                              const char *signed_cp, size_t len, long timeout_ms);
void wb_witness_reply_cleanup(wb_witness_reply *reply);

/* ---- the witness itself (src/lib/audit/witness.c) ---- */

#define WB_WITNESS_MAX_PROOF 63 /* consistency proof lines tlog-witness allows */
/* largest add-checkpoint body: the old line, 63 proof lines, a note */
#define WB_WITNESS_BODY_MAX (32 + WB_WITNESS_MAX_PROOF * 45 + 1 + WB_NOTE_MAX)

/*
 * An add-checkpoint request body, parsed (wb_witness_body_parse): the old
 * size, the consistency proof, and the signed checkpoint (pointing into the
 * body; not yet verified). Strict: "old <decimal without leading zeroes>\n",
 * each proof line exactly the 44-character padded base64 of a 32-byte hash
 * with its '\n', at most 63 of them and none when old is 0, the empty line,
 * then a non-empty note. WB_E_INVALID or WB_E_LIMIT (answer 400) otherwise.
 */
typedef struct {
    uint64_t old_size;
    size_t nproof;
    uint8_t proof[WB_WITNESS_MAX_PROOF][WB_HASH_LEN];
    const char *note; /* into the body */
    size_t note_len;
} wb_witness_body;

int wb_witness_body_parse(wb_witness_body *b, const char *body, size_t len);

/*
 * wb_witness_content_type: the Content-Type of a wb_witness_handle answer:
 * "text/x.tlog.size" for a 409 whose body is the witness's size, else
 * "text/plain; charset=utf-8".
 */
const char *wb_witness_content_type(int status, const char *resp, size_t len);

typedef struct wb_witness wb_witness;

/*
 * A witness's state lives in a SQLite file: the logs it knows (origin and
 * verifier key) and, per log, the latest checkpoint it cosigned. It never
 * cosigns a checkpoint that is not consistent with that one. wb_witness_open
 * keeps its own copy of the signer (a type-0x04 private key); the log's
 * origin is the name of its vkey. One wb_witness may be used from many
 * threads, and several processes may share the file.
 */
int wb_witness_open(wb_witness **out, const char *db_path, const wb_note_key *signer);
int wb_witness_add_log(wb_witness *w, const char *log_vkey);
void wb_witness_close(wb_witness *w);

/*
 * wb_witness_latest: the latest cosigned size and root of the log with this
 * origin (0 and the empty-tree root if never cosigned) and, if note is not
 * NULL, the stored signed checkpoint with the cosignature (malloc'd; NULL if
 * none). WB_E_NOTFOUND for an unknown log.
 */
int wb_witness_latest(wb_witness *w, const char *origin, uint64_t *size,
                      uint8_t root[WB_HASH_LEN], char **note);

/*
 * wb_witness_handle: one add-checkpoint request body. Sets *status (200,
 * 400, 403, 404, 409, 422) and a malloc'd response body: the cosignature
 * line for 200, the witness's size "<n>\n" for 409, a message otherwise.
 * Returns an error only for storage failures (then answer 500).
 */
int wb_witness_handle(wb_witness *w, const char *body, size_t len, int *status,
                      char **resp, size_t *resp_len);

#endif
