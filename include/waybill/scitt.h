/*
 * waybill/scitt.h: the transparency service core (RFC 9943 SCITT): checks
 * and registers signed statements, batches them into the log (group
 * commit), and issues RFC 9942 receipts. The HTTP layer (server.h) and the
 * command line sit on top of it; the provenance rules plug in through the
 * registration policy hook.
 *
 * Registration of one statement:
 *   1. wb_service_check: decode (strict COSE), the signed-statement profile,
 *      issuer authentication (kid of a registered key, or an x5chain to a
 *      trust anchor), the registration policy. CPU-bound and thread-safe:
 *      HTTP worker threads run it in parallel. Produces the registered
 *      statement and its entry id.
 *   2. wb_service_submit: queue it for the sequencer; WB_E_LIMIT when the
 *      queue is full (the HTTP layer answers 429).
 *   3. the sequencer thread takes up to batch_max statements or waits
 *      batch_interval_ms, drops those already in the log (same entry id:
 *      same statement), appends the rest in one durable transaction with one
 *      checkpoint signature and one receipt signature, then completes every
 *      ticket of the batch with its receipt.
 */
#ifndef WAYBILL_SCITT_H
#define WAYBILL_SCITT_H

#include <stddef.h>
#include <stdint.h>

#include "waybill/cose.h"
#include "waybill/crypto.h"

#define WB_STATEMENT_MAX 65535 /* a statement is one log entry */
#define WB_ENTRY_ID_HEX 64

typedef struct wb_service wb_service;

/* ---- registration policy ---- */

/* what the policy sees of an authenticated statement */
typedef struct {
    const wb_cose_sign1 *msg;  /* the decoded statement */
    const char *issuer;        /* configured name of the issuer that matched */
    const wb_key *key;         /* the key that verified the signature */
    int by_x5chain;            /* 1: authenticated by certificate chain */
    const char *content_type;  /* protected cty as text ("" if numeric) */
} wb_statement_view;

/*
 * The registration policy hook: return 0 to accept, or a negative WB_E_*
 * code with a message naming the field and the rule to refuse. Runs on
 * HTTP worker threads, concurrently: it must be thread-safe.
 */
typedef struct {
    int (*check)(void *ctx, const wb_statement_view *st);
    void *ctx;
} wb_policy;

#include "waybill/store.h"

/*
 * Hooks through which a layer above (the provenance rules, prov/) takes part
 * in registration without the service knowing about it. Every member may be
 * NULL. store is the calling thread's own handle of the log's store.
 */
typedef struct {
    void *ctx;
    /* once, on the sequencer's store, when the service opens (create tables) */
    int (*open)(void *ctx, wb_store *store, struct wb_service *svc);
    /* HTTP threads: signers the configuration does not know (issuers the
     * ledger registered): 0 and *key (owned by the caller) and name, or
     * WB_E_NOTFOUND */
    int (*resolve_kid)(void *ctx, wb_store *store, const uint8_t *kid, size_t kid_len,
                       wb_key **key, char *name, size_t cap);
    int (*resolve_chain)(void *ctx, wb_store *store, const uint8_t *const *der,
                         const size_t *len, size_t n, char *name, size_t cap);
    /* HTTP threads: check an authenticated statement early (may read state) */
    int (*check)(void *ctx, wb_store *store, const wb_statement_view *st);
    /* sequencer, in the batch transaction, in log order: admit (0), refuse
     * (> 0, message set) or fail the batch (< 0) the statement at index */
    int (*admit)(void *ctx, wb_store *store, uint64_t index, const uint8_t *stmt,
                 size_t len);
    /* sequencer: a batch starts / ended (committed = 0: rolled back) */
    void (*batch_begin)(void *ctx);
    void (*batch_end)(void *ctx, struct wb_service *svc, wb_store *store, int committed);
    /* sequencer, about once a second while nothing is queued */
    void (*idle)(void *ctx, struct wb_service *svc, wb_store *store);
    void (*destroy)(void *ctx);
} wb_service_hooks;

/* one allowed issuer */
typedef struct {
    char *name;             /* for logs, errors and the policy */
    wb_key *key;            /* kid route: the issuer's public key */
    uint8_t kid[WB_COSE_KID_MAX];
    size_t kid_len;         /* the kid statements carry (default SHA-256(SPKI)) */
    char *anchor_file;      /* x5chain route: PEM file of trust anchors */
    char **content_types;   /* allowed content types; NULL: any */
    size_t ncontent_types;
} wb_issuer;

/* ---- service configuration ---- */
typedef struct {
    char *name;              /* service name: log origin and receipt iss */
    char *data_dir;          /* the log directory (see log.h): keys, and the
                                SQLite store unless database is set */
    char *database;          /* PostgreSQL conninfo of the store, or NULL for
                                SQLite in data_dir; every thread's log handle
                                then has its own connection */
    char *receipt_key_file;  /* PEM private key that signs receipts */
    int dev;                 /* development mode (see docs/configuration.md) */
    size_t batch_max;        /* entries per batch */
    unsigned batch_interval_ms;
    size_t queue_max;        /* statements waiting for the sequencer */
    unsigned register_wait_ms; /* how long POST /entries waits for the commit */
    int sync_normal;         /* SQLite synchronous=NORMAL (not durable on power loss) */
    wb_issuer *issuers;
    size_t nissuers;
    char **anchor_files;     /* global x5chain trust anchors (any issuer name) */
    size_t nanchor_files;
    wb_policy policy;        /* extra rules after authentication (may be empty) */
    wb_service_hooks hooks;  /* the provenance layer's part (may be empty) */
} wb_service_config;

void wb_service_config_init(wb_service_config *c); /* the defaults */
void wb_service_config_cleanup(wb_service_config *c);

/*
 * wb_service_open opens the log in data_dir (creating log and receipt key
 * in dev mode when missing), loads keys and trust anchors, and starts the
 * sequencer thread.
 */
int wb_service_open(wb_service **out, const wb_service_config *cfg);
/* stops the sequencer after the batch in progress; fails pending tickets */
void wb_service_close(wb_service *svc);

/* ---- registration ---- */

/* the result of wb_service_check, owned by the caller */
typedef struct {
    uint8_t *statement;   /* the registered statement (unprotected emptied) */
    size_t len;
    uint8_t id[32];       /* SHA-256(statement): the entry id */
    char issuer[128];
} wb_registration;

void wb_registration_cleanup(wb_registration *r);

/*
 * wb_service_check validates a submitted COSE_Sign1. On refusal it returns
 * WB_E_INVALID (malformed, profile), WB_E_LIMIT (too large), WB_E_VERIFY
 * (bad signature or chain) or WB_E_NOTFOUND / WB_E_EXISTS never; the message
 * says what was wrong. Nothing is written.
 */
int wb_service_check(wb_service *svc, wb_registration *out, const uint8_t *body,
                     size_t len);

typedef struct wb_ticket wb_ticket;

/* called on the sequencer thread when a ticket completes (may be NULL) */
typedef void (*wb_ticket_fn)(void *ctx, wb_ticket *t);

/*
 * wb_service_submit queues r (taking ownership of r->statement) and returns a
 * ticket, referenced once for the caller. WB_E_LIMIT when the queue is full.
 * done (optional) is called once the ticket completes, from the sequencer.
 */
int wb_service_submit(wb_service *svc, wb_ticket **out, wb_registration *r,
                      wb_ticket_fn done, void *done_ctx);
/* waits up to timeout_ms; 1 if complete, 0 if still pending */
int wb_ticket_wait(wb_ticket *t, unsigned timeout_ms);
/* 1 if complete */
int wb_ticket_done(wb_ticket *t);
/*
 * after completion: 0 and the receipt (malloc'd) and index, or the error
 * that failed the batch (message copied into the thread's error)
 */
int wb_ticket_result(wb_ticket *t, uint8_t **receipt, size_t *receipt_len,
                     uint64_t *index);
const uint8_t *wb_ticket_id(const wb_ticket *t);
void wb_ticket_release(wb_ticket *t);

/* ---- reads (any thread; each thread uses its own store connection) ---- */

/*
 * wb_service_receipt: the receipt for entry id against the latest tree.
 * WB_E_NOTFOUND if unknown; WB_E_EXISTS... never; 1 (positive) if the entry
 * is queued but not yet committed (the HTTP layer answers 204).
 */
int wb_service_receipt(wb_service *svc, const uint8_t id[32], uint8_t **receipt,
                       size_t *len, uint64_t *index);
/* the transparent statement: registered statement + receipt in header 394 */
int wb_service_transparent(wb_service *svc, const uint8_t id[32], uint8_t **out,
                           size_t *len);
/* the latest signed checkpoint */
int wb_service_checkpoint(wb_service *svc, char **note, size_t *len);
/*
 * the transparent statement of the entry at index, with its receipt made
 * against the tree of size leaves (a size the log signed: see
 * wb_service_checkpoint), so that every receipt of a bundle proves
 * inclusion under the same root as its checkpoint
 */
int wb_service_transparent_at(wb_service *svc, uint64_t index, uint64_t size, uint8_t **out,
                              size_t *len);
/* the calling thread's own handle of the log's store (owned by the service) */
int wb_service_thread_store(wb_service *svc, wb_store **out);
/* the log's verifier key string ("<origin>+<id>+<key>", malloc'd) */
int wb_service_log_key(wb_service *svc, char **out);
/* a tile or entry bundle by its tlog-tiles path */
int wb_service_tile(wb_service *svc, const char *path, size_t path_len,
                    uint8_t **data, size_t *len);
/* consistency proof text (log.h format) between two checkpoint sizes;
 * new_size 0 means the latest */
int wb_service_consistency(wb_service *svc, uint64_t old_size, uint64_t new_size,
                           char **text, size_t *len);
/* COSE Key Set of the receipt key(s) (application/cbor) */
int wb_service_keys(wb_service *svc, uint8_t **out, size_t *len);
/* one COSE_Key by kid (raw or base64url); WB_E_NOTFOUND */
int wb_service_key(wb_service *svc, const char *kid_text, uint8_t **out, size_t *len);
/* the transparency configuration (CBOR map) */
int wb_service_configuration(wb_service *svc, uint8_t **out, size_t *len);
const char *wb_service_name(const wb_service *svc);
/* the hooks the service runs (the provenance layer finds its own context) */
const wb_service_hooks *wb_service_get_hooks(const wb_service *svc);
/* the receipt signer's kid */
const uint8_t *wb_service_kid(const wb_service *svc, size_t *len);

/*
 * wb_service_register_own signs a statement with the service's own key
 * (protected: alg, cty, CWT {iss = service name, sub, iat}, kid) and queues
 * it like any other, without a waiter and regardless of queue_max: the
 * service's findings. Runs on any thread.
 */
int wb_service_register_own(wb_service *svc, const char *content_type, const char *sub,
                            const uint8_t *payload, size_t len);
/* the service's own key (owned by the service) */
const wb_key *wb_service_key_pair(const wb_service *svc);

/* ---- counters for /metrics ---- */
typedef struct {
    uint64_t registered;      /* new entries committed */
    uint64_t duplicates;      /* submissions that were already in the log */
    uint64_t batches;
    uint64_t batch_entries_hist[8]; /* batch sizes: <=1, 10, 100, 1k, 10k, more */
    uint64_t queue_depth;
    uint64_t queue_full;      /* 429s */
    uint64_t commit_failures;
    uint64_t refused_at_sequencing; /* refused by the admission hook */
    uint64_t tree_size;
    int cluster;              /* several nodes over PostgreSQL */
    int sequencer;            /* this node sequences (always 1 on one node) */
    uint64_t takeovers;       /* times this node became the sequencer */
} wb_service_stats;

void wb_service_get_stats(wb_service *svc, wb_service_stats *out);

/* the SHA-256 of a key's SPKI DER: waybill's default kid */
int wb_key_default_kid(uint8_t kid[32], const wb_key *key);

#endif
