/*
 * waybill/log.h: the verifiable log: a Merkle tree (RFC 9162) stored as
 * C2SP tlog-tiles, entry bundles and a signed C2SP checkpoint.
 *
 * A log lives in a directory:
 *   DIR/waybill.db   the store (SQLite): tiles, entry bundles, state
 *   DIR/log.key      the signer key, "PRIVATE+KEY+<origin>+<id>+<key>", 0600
 *   DIR/log.pub      the verifier key, "<origin>+<id>+<key>"
 * or, with wb_log_init_store / wb_log_open_store, its keys in a directory
 * and its store anywhere (a PostgreSQL database shared by several nodes).
 *
 * wb_log_append integrates a batch of entries: it computes their leaf
 * hashes, extends the tiles, appends to the entry bundles and writes those,
 * the new tree size, root and a freshly signed checkpoint in one durable
 * transaction. Either the whole batch is in the log or none of it is.
 *
 * Tiles (tlog-tiles): tile level L holds the hashes at tree level 8·L;
 * tile index N holds hashes N·256 .. N·256+255 of that level. A tile with
 * fewer than 256 hashes is partial (served as .p/<W>). Entry bundle N holds
 * entries N·256 .. in order, each as a big-endian uint16 length and the
 * bytes, so one entry is at most 65,535 bytes.
 */
#ifndef WAYBILL_LOG_H
#define WAYBILL_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "waybill/merkle.h"
#include "waybill/note.h"
#include "waybill/store.h"

#define WB_TILE_HEIGHT 8
#define WB_TILE_WIDTH 256
#define WB_ENTRY_MAX 65535           /* bytes in one entry (uint16 prefix) */
#define WB_LOG_BATCH_MAX 100000      /* entries in one append */
#define WB_ORIGIN_MAX 255            /* bytes in the origin line */
#define WB_TILE_PATH_MAX 96          /* longest "tile/..." path we build */
#define WB_BUNDLE_MAX (WB_TILE_WIDTH * (2 + WB_ENTRY_MAX))

/*
 * A wb_log handle is not thread-safe (its tile cache and SQLite connection
 * are its own): use one handle per thread. Several handles, in one process
 * or many, may use the same log at once.
 */
typedef struct wb_log wb_log;

typedef struct {
    int sync_normal; /* SQLite synchronous=NORMAL (tests, bulk loads) */
    int manual_checkpoint; /* the owner calls wb_store_maintain between batches */
} wb_log_options;

/*
 * wb_log_init creates DIR (and missing parents) with the store, an Ed25519
 * log key named origin, and the signed checkpoint of the empty tree. DIR may
 * exist and hold other files; it is refused (WB_E_EXISTS) if it holds any of
 * waybill.db, log.key, log.pub. The log is built in a sibling directory and
 * renamed into place, so an interrupted init leaves no half-made log.
 */
int wb_log_init(const char *dir, const char *origin);

/* wb_log_open opens an existing log; the signer key is loaded if present. */
int wb_log_open(wb_log **out, const char *dir, const wb_log_options *opt);

/*
 * wb_log_init_store makes a new log in store (borrowed; opened with
 * create), with its keys in key_dir: key_dir/log.key and log.pub are used
 * if both exist (their key must be named origin), made (with key_dir) if
 * neither does; one without the other is WB_E_EXISTS. WB_E_EXISTS too if
 * the store already holds a log. On failure keys made here are removed.
 */
int wb_log_init_store(const char *key_dir, wb_store *store, const char *origin);
/*
 * wb_log_open_store opens the log in store with its keys in key_dir
 * (log.pub required, log.key loaded if present). The log owns store from
 * the call on: wb_log_close closes it, and so does a failed open. opt may
 * be NULL; its options are SQLite's and apply when the store is opened.
 */
int wb_log_open_store(wb_log **out, const char *key_dir, wb_store *store,
                      const wb_log_options *opt);
void wb_log_close(wb_log *log);

const char *wb_log_origin(const wb_log *log);
/* the verifier key (owned by the log) */
const wb_note_key *wb_log_verifier(const wb_log *log);
/* the store under the log (owned by the log) */
wb_store *wb_log_store(wb_log *log);

/* a span of bytes to append */
typedef struct {
    const uint8_t *data;
    size_t len;
} wb_entry;

/*
 * wb_log_append appends n entries as one batch and signs one checkpoint;
 * *first gets the index of the first. Every entry must be 1..65,535 bytes;
 * on any error nothing is written (the message names the entry).
 */
int wb_log_append(wb_log *log, const wb_entry *entries, size_t n,
                  uint64_t *first);

/*
 * A hook run inside the append transaction, after the batch is integrated
 * and before the commit: what it writes to the store lands atomically with
 * the batch (the transparency service records entry ids and the receipt
 * signature of the new tree size there). A non-zero return aborts the
 * whole append.
 */
typedef int (*wb_log_batch_hook)(void *ctx, wb_store *store, uint64_t first,
                                 uint64_t new_size, const uint8_t root[WB_HASH_LEN]);

/*
 * Admission, inside the same transaction, in order, before entry i is
 * integrated: index is the position it would take. Return 0 to admit it,
 * a positive value to leave it out (later entries move up), a negative
 * WB_E_* code to abort the whole append.
 */
typedef int (*wb_log_admit_fn)(void *ctx, wb_store *store, size_t i, uint64_t index);

typedef struct {
    wb_log_admit_fn admit; /* may be NULL: every entry is admitted */
    wb_log_batch_hook commit; /* may be NULL */
    void *ctx;
    uint8_t *admitted;     /* out, n flags (may be NULL) */
    size_t nadmitted;      /* out: how many went in */
} wb_log_hooks;

/*
 * wb_log_append_hooked appends like wb_log_append, with the hooks. If no
 * entry is admitted nothing is written (no checkpoint) and *first is the
 * current size.
 */
int wb_log_append_hooked(wb_log *log, const wb_entry *entries, size_t n,
                         uint64_t *first, wb_log_hooks *hooks);

/* current tree size, root and signed checkpoint (malloc'd, may be NULL) */
int wb_log_head(wb_log *log, uint64_t *size, uint8_t root[WB_HASH_LEN],
                char **checkpoint, size_t *checkpoint_len);

/*
 * the signed checkpoint the log issued for tree size size (malloc'd);
 * WB_E_NOTFOUND if no batch ended at that size
 */
int wb_log_checkpoint_at(wb_log *log, uint64_t size, char **checkpoint,
                         size_t *checkpoint_len);

/* proofs against the tree of size leaves (size <= current size) */
int wb_log_inclusion_proof(wb_log *log, uint8_t (*proof)[WB_HASH_LEN], size_t *n,
                           uint64_t index, uint64_t size);
int wb_log_consistency_proof(wb_log *log, uint8_t (*proof)[WB_HASH_LEN],
                             size_t *n, uint64_t size1, uint64_t size2);
/* the root of the tree of size leaves (size <= current size) */
int wb_log_root_at(wb_log *log, uint8_t root[WB_HASH_LEN], uint64_t size);

/* one entry's bytes (malloc'd) and its leaf hash */
int wb_log_entry(wb_log *log, uint64_t index, uint8_t **data, size_t *len);
int wb_log_leaf_hash(wb_log *log, uint64_t index, uint8_t out[WB_HASH_LEN]);

/*
 * Tiles as served by tlog-tiles: width is the number of hashes (entries)
 * wanted, 1..256; a request past the current tree is WB_E_NOTFOUND.
 * The result is malloc'd: width·32 bytes for a hash tile, the bundle bytes
 * of the first width entries for an entry bundle.
 */
int wb_log_read_tile(wb_log *log, unsigned level, uint64_t index, unsigned width,
                     uint8_t **data, size_t *len);
int wb_log_read_bundle(wb_log *log, uint64_t index, unsigned width,
                       uint8_t **data, size_t *len);

/*
 * wb_log_check re-derives the whole tree from the entry bundles and
 * compares it with everything stored: every entry bundle parses, every tile
 * at every level equals the hashes recomputed from the entries, the root
 * matches the state, and the latest checkpoint verifies with the log's key
 * and names that size and root. WB_E_CORRUPT with the first bad place.
 */
int wb_log_check(wb_log *log, uint64_t *checked);

/* ---- tlog-tiles paths (tile.c) ---- */

/* width of tile (level, index) in a tree of size leaves: 0..256 */
unsigned wb_tile_width(unsigned level, uint64_t index, uint64_t size);
/* width of entry bundle index in a tree of size leaves: 0..256 */
unsigned wb_bundle_width(uint64_t index, uint64_t size);

typedef struct {
    int entries;     /* 1 for tile/entries/..., 0 for a hash tile */
    unsigned level;  /* hash tile level (0..63) */
    uint64_t index;
    unsigned width;  /* 256 for a full tile, 1..255 for .p/<W> */
} wb_tile_ref;

/*
 * wb_tile_path formats "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]"
 * with N in the x001/x234/067 form; out holds WB_TILE_PATH_MAX bytes.
 */
int wb_tile_path(char *out, size_t cap, const wb_tile_ref *ref);
/* parses such a path exactly (no leading '/'); WB_E_INVALID otherwise */
int wb_tile_path_parse(wb_tile_ref *ref, const char *path, size_t len);

/* walks an entry bundle: count entries; WB_E_CORRUPT if malformed */
int wb_bundle_count(const uint8_t *bundle, size_t len, unsigned *count);

/* ---- C2SP tlog-proof text (proof_text.c) ---- */

#define WB_TLOG_PROOF_HEADER "c2sp.org/tlog-proof@v1"
#define WB_CONSISTENCY_PROOF_HEADER "waybill.dev/consistency-proof@v1"
#define WB_PROOF_TEXT_MAX (WB_NOTE_MAX + 8192)

typedef struct {
    int consistency;  /* 0: tlog-proof (inclusion), 1: consistency */
    uint64_t index;   /* inclusion: the leaf index */
    uint64_t old_size; /* consistency: the older tree size */
    uint8_t hashes[WB_MERKLE_MAX_PROOF][WB_HASH_LEN];
    size_t nhashes;
    uint8_t *extra;   /* tlog-proof "extra" line, decoded (malloc'd) */
    size_t extra_len;
    const char *checkpoint; /* the signed checkpoint, points into the text */
    size_t checkpoint_len;
} wb_proof_text;

int wb_proof_text_format(char **out, size_t *len, const wb_proof_text *p);
/* parses; p->checkpoint points into text */
int wb_proof_text_parse(wb_proof_text *p, const char *text, size_t len);
void wb_proof_text_cleanup(wb_proof_text *p);

/*
 * Verification, offline: opens checkpoint with the verifier key, checks
 * the proof against it. For inclusion, leaf is the entry's bytes. The
 * checkpoint's parsed body is returned in cp when cp is not NULL.
 */
int wb_log_verify_inclusion(const wb_proof_text *p, const uint8_t *entry,
                            size_t entry_len, const wb_note_key *verifier,
                            wb_checkpoint *cp);
/* old_checkpoint: the older signed checkpoint, same verifier */
int wb_log_verify_consistency(const wb_proof_text *p, const char *old_checkpoint,
                              size_t old_len, const wb_note_key *verifier,
                              wb_checkpoint *cp);
/* opens a signed checkpoint and parses its body */
int wb_checkpoint_open(wb_checkpoint *cp, const char *signed_note, size_t len,
                       const wb_note_key *verifier);

#endif
