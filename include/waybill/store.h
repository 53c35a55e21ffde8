/*
 * waybill/store.h: the storage interface under the log.
 *
 * The log keeps its tree as tlog tiles and entry bundles: blobs that only
 * ever grow (a partial tile is extended until it holds 256 hashes, then it
 * never changes again) plus one small state row (tree size, root hash,
 * latest signed checkpoint). So a backend needs only:
 *
 *   - get / put a blob by key (put replaces: a partial tile grows in place),
 *   - read the state and compare-and-swap it (expected tree size → new state),
 *   - transactions: everything between begin and commit lands together or
 *     not at all, and commit returns only once it is durable,
 *   - a few named metadata values (origin, schema version),
 *   - an index from entry id (32 bytes: SHA-256 of the entry) to its
 *     position, so the same statement is never logged twice.
 *
 * The SQLite backend (store_sqlite.c) is the embedded default; the
 * PostgreSQL backend (store_pg.c) lets several processes on several machines
 * share one store. Both implement the same operations table; nothing above
 * this layer knows which one it talks to.
 */
#ifndef WAYBILL_STORE_H
#define WAYBILL_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    WB_BLOB_TILE = 1,   /* a hash tile: level, index as in tlog-tiles */
    WB_BLOB_BUNDLE = 2, /* an entry bundle: level 0, index = entry / 256 */
    WB_BLOB_CHECKPOINT = 3, /* the signed checkpoint of tree size = index */
    WB_BLOB_RECEIPT_SIG = 4, /* the receipt signature of tree size = index */
} wb_blob_kind;

typedef struct {
    uint8_t kind;   /* wb_blob_kind */
    uint8_t level;  /* tile level (0..63) */
    uint64_t index; /* tile index, < 2^48 */
} wb_blob_key;

#define WB_BLOB_INDEX_MAX ((UINT64_C(1) << 48) - 1)
#define WB_STORE_META_MAX 4096 /* largest metadata value */

typedef struct {
    uint64_t size;         /* leaves in the tree */
    uint8_t root[32];      /* RFC 9162 root of those leaves */
    char *checkpoint;      /* signed checkpoint note for that size */
    size_t checkpoint_len;
} wb_store_state;

void wb_store_state_cleanup(wb_store_state *st);

/* A wb_store handle belongs to one thread at a time. */
typedef struct wb_store wb_store;

/*
 * SQL for the fleet-state projection, which lives in the same database so
 * that it changes in the same transaction as the log. Statements are
 * written once for both backends: parameters are $1, $2, ... (in order of
 * first use), types are INTEGER (64-bit), TEXT and BLOB.
 */
typedef enum { WB_SQL_NULL = 0, WB_SQL_INT, WB_SQL_TEXT, WB_SQL_BLOB } wb_sql_type;

typedef struct {
    wb_sql_type type;
    int64_t i;
    const char *s;     /* TEXT: NUL-terminated */
    const uint8_t *b;  /* BLOB */
    size_t len;        /* BLOB length (TEXT: ignored) */
} wb_sql_value;

#define WB_SQL_I(v) ((wb_sql_value){WB_SQL_INT, (int64_t)(v), NULL, NULL, 0})
static inline wb_sql_value wb_sql_text(const char *v)
{
    wb_sql_value x = {v ? WB_SQL_TEXT : WB_SQL_NULL, 0, v, NULL, 0};
    return x;
}
#define WB_SQL_S(v) wb_sql_text(v)
#define WB_SQL_B(p, n) ((wb_sql_value){WB_SQL_BLOB, 0, NULL, (p), (n)})
#define WB_SQL_NUL ((wb_sql_value){WB_SQL_NULL, 0, NULL, NULL, 0})

/* one result row: cols[0..ncols); values valid only during the call;
 * return non-zero to stop (that value is returned by wb_store_sql) */
typedef int (*wb_sql_row_fn)(void *ctx, const wb_sql_value *cols, size_t ncols);

typedef struct {
    const char *name; /* "sqlite", "postgres" */
    int (*get_blob)(wb_store *s, wb_blob_key key, uint8_t **data, size_t *len);
    int (*put_blob)(wb_store *s, wb_blob_key key, const uint8_t *data, size_t len);
    int (*get_state)(wb_store *s, wb_store_state *out);
    int (*cas_state)(wb_store *s, uint64_t expected_size, const wb_store_state *st);
    int (*get_entry_id)(wb_store *s, const uint8_t id[32], uint64_t *index);
    int (*put_entry_id)(wb_store *s, const uint8_t id[32], uint64_t index);
    int (*get_meta)(wb_store *s, const char *name, char **value);
    int (*put_meta)(wb_store *s, const char *name, const char *value);
    int (*sql)(wb_store *s, const char *sql, const wb_sql_value *args, size_t nargs,
               wb_sql_row_fn row, void *ctx);
    int (*sql_script)(wb_store *s, const char *script);
    int (*begin)(wb_store *s);
    int64_t (*changes)(wb_store *s);
    int (*maintain)(wb_store *s);
    int (*commit)(wb_store *s);
    int (*rollback)(wb_store *s);
    void (*close)(wb_store *s);
} wb_store_ops;

struct wb_store {
    const wb_store_ops *ops;
};

typedef struct {
    int create;        /* 1: create a new store, failing if one exists */
    int sync_normal;   /* SQLite: synchronous=NORMAL instead of FULL */
    int manual_checkpoint; /* SQLite: no WAL checkpoint inside commits; the
                              owner calls wb_store_maintain when idle */
    int busy_timeout_ms;
} wb_store_options;

/*
 * wb_store_open_sqlite opens (or with opt->create, creates) the SQLite store
 * at path: WAL journal, synchronous=FULL unless opt->sync_normal.
 * WB_E_NOTFOUND if it does not exist and create is 0; WB_E_EXISTS if it
 * exists and create is 1.
 */
int wb_store_open_sqlite(wb_store **out, const char *path,
                         const wb_store_options *opt);

/*
 * wb_store_open_postgres connects to the PostgreSQL database named by
 * conninfo (a libpq connection string: "postgresql://user@host:port/db" or
 * "host=... port=... dbname=...") and opens the store in it, or with
 * opt->create creates its tables: WB_E_NOTFOUND if the database holds no
 * store and create is 0, WB_E_EXISTS if it holds one and create is 1,
 * WB_E_STORE if the server cannot be reached. The database must sort text
 * bytewise (LC_COLLATE C or C.UTF-8), as SQLite does. opt->sync_normal sets
 * synchronous_commit = off; busy_timeout_ms is the lock_timeout (default
 * 10 s). One connection per handle, which belongs to one thread at a time.
 */
int wb_store_open_postgres(wb_store **out, const char *conninfo,
                           const wb_store_options *opt);

/*
 * PostgreSQL advisory locks (two-key form: namespace, object). Every
 * wb_store_begin on PostgreSQL takes (WB_PG_LOCK_NAMESPACE, WB_PG_LOCK_WRITER)
 * for the transaction, the counterpart of SQLite's BEGIN IMMEDIATE: writers
 * on every node are serialised. Other objects in the namespace are free for
 * other uses (such as a session-level sequencer lock).
 */
#define WB_PG_LOCK_NAMESPACE 2004443697 /* "wyb1" */
#define WB_PG_LOCK_WRITER 1

/* ---- thin dispatchers, so callers read wb_store_put_blob(s, ...) ---- */
/* WB_E_NOTFOUND if no such blob */
int wb_store_get_blob(wb_store *s, wb_blob_key key, uint8_t **data, size_t *len);
int wb_store_put_blob(wb_store *s, wb_blob_key key, const uint8_t *data, size_t len);
/* WB_E_NOTFOUND before the first state was written */
int wb_store_get_state(wb_store *s, wb_store_state *out);
/*
 * wb_store_cas_state replaces the state if its tree size is still
 * expected_size (UINT64_MAX: only if there is no state yet);
 * WB_E_CONFLICT otherwise.
 */
int wb_store_cas_state(wb_store *s, uint64_t expected_size, const wb_store_state *st);
/* entry id -> index; WB_E_NOTFOUND if unknown, WB_E_EXISTS if already set */
int wb_store_get_entry_id(wb_store *s, const uint8_t id[32], uint64_t *index);
int wb_store_put_entry_id(wb_store *s, const uint8_t id[32], uint64_t index);
int wb_store_get_meta(wb_store *s, const char *name, char **value);
int wb_store_put_meta(wb_store *s, const char *name, const char *value);
/*
 * wb_store_sql runs one statement with parameters, calling row for each
 * result row (row may be NULL). wb_store_sql_script runs several
 * ';'-separated statements without parameters (schema creation).
 */
int wb_store_sql(wb_store *s, const char *sql, const wb_sql_value *args, size_t nargs,
                 wb_sql_row_fn row, void *ctx);
int wb_store_sql_script(wb_store *s, const char *script);
/* rows changed by the last wb_store_sql */
int64_t wb_store_sql_changes(wb_store *s);
/*
 * wb_store_maintain does housekeeping that would otherwise happen inside a
 * commit (SQLite: a passive WAL checkpoint); a writer calls it between
 * batches, after answering the last one.
 */
int wb_store_maintain(wb_store *s);
int wb_store_begin(wb_store *s);
int wb_store_commit(wb_store *s);
int wb_store_rollback(wb_store *s);
/* accepts NULL; rolls back an open transaction */
void wb_store_close(wb_store *s);

#define WB_STORE_NO_STATE UINT64_MAX

#endif
