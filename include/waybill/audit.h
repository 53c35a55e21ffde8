/*
 * waybill/audit.h: an independent audit of a waybill log (docs/audit.md).
 *
 * The auditor trusts nothing the operator serves except through keys it was
 * given (or pinned on its first run): it fetches every entry bundle and hash
 * tile (C2SP tlog-tiles), recomputes every RFC 9162 leaf and node hash,
 * checks the checkpoint's signature (C2SP signed-note / tlog-checkpoint) and
 * root, verifies every statement's COSE_Sign1 signature (RFC 9052), replays
 * the registration policy (docs/policy.md) in log order while rebuilding the
 * fleet state, and compares that state with what the server reports. Every
 * checkpoint it ever verified, and every leaf hash, is kept in its state
 * file, so a later run that sees history rewritten names the first entry
 * that changed and writes a fork proof that anyone can check.
 *
 * Layer: audit/ sits on top of the library; it replays prov/'s rules.
 */
#ifndef WAYBILL_AUDIT_H
#define WAYBILL_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "waybill/crypto.h"
#include "waybill/merkle.h"
#include "waybill/note.h"
#include "waybill/store.h"
#include "waybill/witness.h"

#define WB_FORK_PROOF_FORMAT "waybill.dev/fork-proof@v1"
#define WB_FORK_PROOF_MAX (4 * WB_NOTE_MAX)   /* largest fork proof file we read */
#define WB_AUDIT_CHUNK 4096                   /* entries per transaction and per
                                                 parallel verification round */
#define WB_FLEET_DUMP_FORMAT "waybill.dev/fleet-dump@v1"

/* ---- where the log comes from (audit_source.c) ---- */

typedef struct {
    /* the latest signed checkpoint (malloc'd) */
    int (*checkpoint)(void *ctx, char **note, size_t *len);
    /* hash tile (level, index) of width hashes, entry bundle index of width
       entries: exactly the bytes the tlog-tiles API serves (malloc'd) */
    int (*tile)(void *ctx, unsigned level, uint64_t index, unsigned width,
                uint8_t **data, size_t *len);
    int (*bundle)(void *ctx, uint64_t index, unsigned width, uint8_t **data, size_t *len);
    /* a consistency proof between two sizes (checked by the caller) */
    int (*consistency)(void *ctx, uint64_t old_size, uint64_t new_size,
                       uint8_t (*proof)[WB_HASH_LEN], size_t *n);
    /* the fleet state the server reports and the tree size it is for, as
       wb_fleet_dump text; WB_E_NOTFOUND if the log keeps none */
    int (*fleet)(void *ctx, uint64_t *size, char **dump, size_t *len);
    void (*free)(void *ctx);
    void *ctx;
    char what[512]; /* "https://..." or "store /path" (for messages) */
} wb_audit_source;

/* over the HTTP read API of a waybill server (tlog-tiles + /audit/fleet) */
int wb_audit_source_http(wb_audit_source *src, const char *base_url);
/* on a copy of a server's data directory (opened read-only) */
int wb_audit_source_store(wb_audit_source *src, const char *dir);
/* on a directory of static tiles (DIR/checkpoint, DIR/tile/...: waybill mirror) */
int wb_audit_source_dir(wb_audit_source *src, const char *dir);
void wb_audit_source_cleanup(wb_audit_source *src);

/* ---- what the auditor trusts ---- */

typedef struct {
    wb_note_key *log_key;        /* the log's checkpoint key (required) */
    wb_key *service_key;         /* the service's statement/receipt key (findings);
                                    may be NULL for a log without findings */
    char service_name[128];
    wb_key **admin;              /* operator admin keys (issuer statements) */
    size_t nadmin;
    wb_key **issuers;            /* extra kid issuers (non-provenance statements) */
    size_t nissuers;
} wb_audit_trust;

void wb_audit_trust_cleanup(wb_audit_trust *t);

/*
 * wb_audit_trust_from_state fills what t lacks (log key, service key and
 * name) and adds the admin keys pinned in the state file by earlier runs
 * (wb_audit_run pins what it was given). No state file: nothing to add.
 */
int wb_audit_trust_from_state(wb_audit_trust *t, const char *state_path);

typedef struct {
    const char *state_path;      /* the auditor's state file (SQLite) */
    const char *const *checkpoints; /* extra signed checkpoints to check against */
    const size_t *checkpoint_lens;
    size_t ncheckpoints;
    const char *fork_out;        /* where to write a fork proof (NULL: no file) */
    int allow_unknown;           /* entries by signers the auditor does not know
                                    are counted, not failures */
    int no_resume;               /* start over even if an audit was interrupted */
    unsigned threads;            /* signature verification threads (0: cores) */
    unsigned chunk;              /* entries per transaction, a multiple of 256
                                    (0: WB_AUDIT_CHUNK) */
    const wb_witness_policy *policy; /* the latest checkpoint must be
                                    cosigned by a quorum of these (may be NULL) */
    unsigned witness_wait_ms;    /* how long to wait for the witnesses to catch
                                    up with the log's newest checkpoint */
    void (*progress)(void *ctx, uint64_t done, uint64_t total, uint64_t first);
    void *progress_ctx;
} wb_audit_options;

typedef enum {
    WB_AUDIT_OK = 0,
    WB_AUDIT_CHECKPOINT,   /* the checkpoint does not verify or its root is wrong */
    WB_AUDIT_BUNDLE,       /* an entry bundle is missing or malformed */
    WB_AUDIT_LEAF,         /* an entry's hash differs from the tile's */
    WB_AUDIT_TILE,         /* a tile hash differs from the recomputed one */
    WB_AUDIT_STATEMENT,    /* an entry is not a valid signed statement / bad signature */
    WB_AUDIT_POLICY,       /* the registration policy would have refused it */
    WB_AUDIT_FLEET,        /* the server's fleet state differs from the rebuilt one */
    WB_AUDIT_FORK,         /* two signed checkpoints that cannot both be true */
    WB_AUDIT_ROLLBACK,     /* the log is smaller than a checkpoint seen before */
    WB_AUDIT_FINDING,      /* the rules raise a finding the service never registered */
} wb_audit_failure;

typedef struct {
    wb_audit_failure failure;
    uint64_t bad_index;          /* first bad entry, UINT64_MAX if none applies */
    char reason[1024];
    uint64_t size;               /* tree size audited */
    uint8_t root[WB_HASH_LEN];
    uint64_t first;              /* where this run started (resume) */
    uint64_t statements;         /* signatures verified */
    uint64_t policy;             /* provenance entries whose policy was replayed */
    uint64_t unknown;            /* entries by signers unknown to the auditor */
    uint64_t checkpoints;        /* earlier / given checkpoints found consistent */
    size_t cosigned;             /* witnesses of the policy that cosigned the head */
    uint64_t findings_raised;    /* findings the replayed anomaly rules raise */
    uint64_t findings_registered; /* of those, registered as finding entries */
    uint64_t findings_pending;   /* raised after the last checkpoint this auditor
                                    verified before: may still be registered */
    int fleet_compared;          /* 1 if the fleet state was compared */
    int fork_written;            /* 1 if a fork proof went to opts->fork_out */
    double seconds;
} wb_audit_report;

const char *wb_audit_failure_name(wb_audit_failure f);

/*
 * wb_audit_run audits src against trust, keeping its state in
 * opts->state_path. Returns 0 when the audit ran to a verdict (look at
 * report->failure), an error when it could not (unreachable, storage).
 */
int wb_audit_run(wb_audit_report *report, wb_audit_source *src, const wb_audit_trust *trust,
                 const wb_audit_options *opts);

/* ---- what a server publishes for auditors (audit_serve.c) ---- */

struct wb_service;
struct json_t;
/* the /audit/fleet document: header with the tree size, then the dump */
int wb_audit_fleet_document(wb_store *s, char **out, size_t *len);
/* the /audit/keys JSON: log_key, service, service_key, admin_keys (SPKI hex) */
int wb_audit_keys_json(struct json_t **out, struct wb_service *svc);

/* ---- fork proofs (fork.c) ---- */

/*
 * A fork proof (JSON, WB_FORK_PROOF_FORMAT): the log key, two checkpoints
 * signed by it (A of size m, B of size n >= m), the root of B's tree at
 * size m and a consistency proof from it to B. Both signatures verify, the
 * proof verifies, and the root at m differs from A's root (or m == n and
 * the roots differ): the log signed two histories.
 */
int wb_fork_proof_write(const char *path, const wb_note_key *log_key, const char *cp_a,
                        size_t len_a, const char *cp_b, size_t len_b,
                        const uint8_t root_b_at_a[WB_HASH_LEN],
                        const uint8_t (*proof)[WB_HASH_LEN], size_t nproof);
/*
 * wb_fork_proof_verify: 0 if the file proves a fork; WB_E_VERIFY saying why
 * not. log_key may be NULL: then the key in the file is used and returned
 * in key_out (malloc'd verifier string; the caller must compare it with the
 * log's published key).
 */
int wb_fork_proof_verify(const char *json, size_t len, const wb_note_key *log_key,
                         char **key_out, uint64_t *size_a, uint64_t *size_b);

#endif
