/*
 * store_pg.c: the PostgreSQL backend of the storage interface
 * (waybill/store.h), over libpq. Several waybill processes may share one
 * database; each wb_store is one connection.
 *
 * Schema (version 1), the same tables as the SQLite backend:
 *   wb_meta(name TEXT PRIMARY KEY, value TEXT)
 *   wb_blob(key BIGINT PRIMARY KEY, data BYTEA)    key = kind<<56|level<<48|index
 *   wb_state(id = 1, size BIGINT, root BYTEA, checkpoint BYTEA)
 *   wb_entry_id(id BYTEA PRIMARY KEY, idx BIGINT)  SHA-256 of an entry -> index
 * The tables are created in the first schema of the connection's
 * search_path (normally "public"); a conninfo with
 * options='-csearch_path=NAME' keeps several stores in one database.
 *
 * Writer serialisation: SQLite takes its write lock at BEGIN IMMEDIATE; here
 * wb_store_begin runs "BEGIN; SELECT pg_advisory_xact_lock(WB_PG_LOCK_NAMESPACE,
 * WB_PG_LOCK_WRITER)" in one round trip. The lock is held until COMMIT or
 * ROLLBACK, so two transactions (in one process or on two nodes) never
 * interleave, and because the isolation level is READ COMMITTED every
 * statement after the lock sees what the previous writer committed: a
 * compare-and-swap of the state inside a transaction cannot lose an update.
 * A transaction-level advisory lock, not SELECT ... FOR UPDATE on wb_state,
 * because it also holds before the first state row exists (log creation)
 * and around projection-only transactions. busy_timeout_ms becomes the
 * session's lock_timeout (default 10 s, like SQLite's busy timeout).
 *
 * Durability: COMMIT returns once PostgreSQL has flushed its WAL
 * (synchronous_commit = on, the server default); opt->sync_normal sets
 * synchronous_commit = off, which like SQLite's NORMAL may lose the last
 * transactions if the database server crashes, never corrupts.
 *
 * Differences from SQLite the upper layers must know (docs/architecture.md):
 *   - a failed statement inside a transaction aborts the transaction: every
 *     later statement fails until wb_store_rollback. The store's own
 *     operations never fail that way on expected conflicts (the entry id and
 *     the state are inserted with ON CONFLICT DO NOTHING and the row count
 *     decides WB_E_EXISTS / WB_E_CONFLICT);
 *   - text compares with the database's collation, so the database must
 *     sort bytewise like SQLite (LC_COLLATE C, POSIX or C.UTF-8): checked at
 *     open, because the fleet dump, reindex and every ORDER BY depend on it.
 */
#include "store_int.h"
#include "waybill/store.h"
#include "waybill/error.h"
#include "waybill/util.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQL_COLS_MAX 32     /* result columns passed to a row callback */
#define SQL_ARGS_MAX 64     /* parameters of one statement */
#define SQL_TEXT_MAX (1u << 20) /* a translated statement or script */
#define PREP_CACHE 64       /* prepared statements kept per connection */

/* PostgreSQL type OIDs (catalog/pg_type_d.h, stable since forever) */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_TEXT 25
#define OID_OID 26
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700

typedef struct {
    wb_store base;
    PGconn *conn;
    char where[160]; /* "host:port/dbname", for messages */
    int in_txn;
    int64_t last_changes;
    int sync_normal;
    int lock_timeout_ms;
    uint8_t *scratch; /* decoded BYTEA cells of the current row */
    size_t scratch_cap;
    /* statements of wb_store_sql prepared on this connection (see pg_prepared) */
    struct prep {
        const char *key;   /* the caller's SQL pointer */
        char *sql;         /* its text when prepared (the pointer may be reused) */
        char sig[SQL_ARGS_MAX + 1]; /* parameter types: i, t, b, n (NULL) */
        unsigned id;       /* statement name "wb<id>" */
    } prep[PREP_CACHE];
    int nprep;
    unsigned prep_clock, prep_ids;
} pg_store;

/* ---- errors ---- */

/* the message of a failed result or connection, without the final newline */
static void pg_message(char *out, size_t cap, PGconn *conn, const PGresult *res)
{
    const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    size_t n;
    if (!m || !*m)
        m = conn ? PQerrorMessage(conn) : "connection failed";
    snprintf(out, cap, "%s", m && *m ? m : "unknown error");
    n = strlen(out);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = '\0';
}

/* maps a failed result to a WB_E_* code: integrity violations (SQLSTATE
 * class 23) are WB_E_EXISTS like SQLite's SQLITE_CONSTRAINT */
static int pg_fail(pg_store *s, const PGresult *res, const char *what, const char *sql)
{
    char msg[600];
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    int code = state && strncmp(state, "23", 2) == 0 ? WB_E_EXISTS : WB_E_STORE;
    pg_message(msg, sizeof(msg), s->conn, res);
    if (sql)
        return wb_error_set(code, "postgres %s: %s: %s: in \"%.120s\"", s->where, what, msg,
                            sql);
    return wb_error_set(code, "postgres %s: %s: %s", s->where, what, msg);
}

static void pg_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* NOTICEs (CREATE ... IF NOT EXISTS) are not errors */
}

/* ---- dialect ---- */

static int word_eq(const char *p, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp(p, w, n) == 0;
}

static int is_word(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* the next word at or after p (skipping white space); its length in *n */
static const char *next_word(const char *p, size_t *n)
{
    while (isspace((unsigned char)*p))
        p++;
    *n = 0;
    while (is_word(p[*n]))
        (*n)++;
    return p;
}

/*
 * pg_translate is the one place where the SQLite dialect the upper layers
 * write (waybill/store.h: $1..$n parameters, INTEGER/TEXT/BLOB) becomes
 * PostgreSQL. Outside quoted strings and identifiers, whole words only,
 * case-insensitively:
 *   INTEGER -> BIGINT (SQLite integers are 64-bit), BLOB -> BYTEA,
 *   REAL -> DOUBLE PRECISION,
 *   WITHOUT ROWID -> (dropped),
 *   INSERT OR IGNORE INTO t ... -> INSERT INTO t ... ON CONFLICT DO NOTHING
 *     (appended at the end of that statement, so not with RETURNING),
 *   INSERT OR REPLACE -> refused: write INSERT ... ON CONFLICT (key) DO
 *     UPDATE, which both databases run.
 * Everything else passes unchanged; the upper layers keep to SQL both
 * databases read alike (fleet_schema.c). *out is malloc'd.
 */
static int pg_translate(char **out, const char *sql)
{
    wb_buf b;
    const char *p = sql;
    int ignore_pending = 0;
    uint8_t *text;
    size_t len;

    wb_buf_init(&b, SQL_TEXT_MAX);
    while (*p) {
        char c = *p;
        if (c == '\'' || c == '"') { /* copy a quoted string or identifier */
            const char *q = p + 1;
            while (*q && !(*q == c && q[1] != c))
                q += *q == c ? 2 : 1;
            if (*q)
                q++;
            wb_buf_add(&b, p, (size_t)(q - p));
            p = q;
            continue;
        }
        if (c == '-' && p[1] == '-') { /* a comment, to the end of the line */
            const char *q = strchr(p, '\n');
            size_t n = q ? (size_t)(q - p) : strlen(p);
            wb_buf_add(&b, p, n);
            p += n;
            continue;
        }
        if (c == ';') {
            if (ignore_pending)
                wb_buf_add_str(&b, " ON CONFLICT DO NOTHING");
            ignore_pending = 0;
            wb_buf_add(&b, p++, 1);
            continue;
        }
        if (is_word(c) && (p == sql || !is_word(p[-1]))) {
            size_t n = 0, n2, n3;
            const char *w2, *w3;
            while (is_word(p[n]))
                n++;
            if (word_eq(p, n, "INTEGER")) {
                wb_buf_add_str(&b, "BIGINT");
            } else if (word_eq(p, n, "BLOB")) {
                wb_buf_add_str(&b, "BYTEA");
            } else if (word_eq(p, n, "REAL")) {
                wb_buf_add_str(&b, "DOUBLE PRECISION");
            } else if (word_eq(p, n, "WITHOUT") &&
                       (w2 = next_word(p + n, &n2), word_eq(w2, n2, "ROWID"))) {
                n = (size_t)(w2 + n2 - p);
            } else if (word_eq(p, n, "INSERT") &&
                       (w2 = next_word(p + n, &n2), word_eq(w2, n2, "OR")) &&
                       (w3 = next_word(w2 + n2, &n3), 1)) {
                if (word_eq(w3, n3, "IGNORE")) {
                    wb_buf_add_str(&b, "INSERT");
                    ignore_pending = 1;
                    n = (size_t)(w3 + n3 - p);
                } else {
                    wb_buf_cleanup(&b);
                    return wb_error_set(WB_E_INVALID, "postgres: INSERT OR %.*s has no "
                                        "PostgreSQL form; write INSERT ... ON CONFLICT: in "
                                        "\"%.120s\"", (int)n3, w3, sql);
                }
            } else {
                wb_buf_add(&b, p, n);
            }
            p += n;
            continue;
        }
        wb_buf_add(&b, p++, 1);
    }
    if (ignore_pending)
        wb_buf_add_str(&b, " ON CONFLICT DO NOTHING");
    if (wb_buf_finish(&b, &text, &len) != 0)
        return wb_error_prefix(WB_E_LIMIT, "postgres: statement too long to translate");
    *out = (char *)text;
    return 0;
}

/* ---- running statements ---- */

static int pg_session(pg_store *s);
static void prep_forget_all(pg_store *s);

/*
 * pg_exec runs sql with binary or text parameters as given and returns the
 * result in *out (PQclear it). A connection that broke outside a
 * transaction is reset once and the statement retried: after a database
 * failover the handle recovers by itself; inside a transaction the error
 * goes up (the transaction is lost anyway).
 */
static int pg_exec(pg_store *s, PGresult **out, const char *what, const char *sql,
                   int nparams, const Oid *types, const char *const *values,
                   const int *lengths, const int *formats, int result_binary)
{
    for (int attempt = 0;; attempt++) {
        PGresult *res = nparams || result_binary
                            ? PQexecParams(s->conn, sql, nparams, types, values, lengths,
                                           formats, result_binary)
                            : PQexec(s->conn, sql);
        ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            *out = res;
            return 0;
        }
        if (attempt == 0 && !s->in_txn && PQstatus(s->conn) == CONNECTION_BAD) {
            PQclear(res);
            PQreset(s->conn);
            prep_forget_all(s);
            if (PQstatus(s->conn) == CONNECTION_OK && pg_session(s) == 0)
                continue;
            return pg_fail(s, NULL, what, sql);
        }
        {
            int rc = pg_fail(s, res, what, sql);
            PQclear(res);
            return rc;
        }
    }
}

/* runs sql without parameters and discards the result */
static int pg_simple(pg_store *s, const char *what, const char *sql)
{
    PGresult *res = NULL;
    int rc = pg_exec(s, &res, what, sql, 0, NULL, NULL, NULL, NULL, 0);
    if (rc == 0)
        PQclear(res);
    return rc;
}

static int pg_session(pg_store *s)
{
    char sql[256];
    PQsetNoticeProcessor(s->conn, pg_quiet, NULL);
    if (PQsetClientEncoding(s->conn, "UTF8") != 0)
        return pg_fail(s, NULL, "set client encoding", NULL);
    snprintf(sql, sizeof(sql),
             "SET lock_timeout = %d; SET synchronous_commit = %s; SET bytea_output = hex;"
             " SET statement_timeout = 0",
             s->lock_timeout_ms, s->sync_normal ? "off" : "on");
    return pg_simple(s, "session settings", sql);
}

static void put_i64(uint8_t out[8], int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--, u >>= 8)
        out[i] = (uint8_t)u;
}

static int64_t get_i64(const char *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | (uint8_t)p[i];
    return (int64_t)u;
}

static int64_t blob_rowkey(wb_blob_key key)
{
    return (int64_t)(((uint64_t)key.kind << 56) | ((uint64_t)key.level << 48) | key.index);
}

/* a binary int8 cell of row 0, or -1 if it is not one */
static int cell_i64(const PGresult *res, int col, int64_t *v)
{
    if (PQgetisnull(res, 0, col) || PQgetlength(res, 0, col) != 8)
        return -1;
    *v = get_i64(PQgetvalue(res, 0, col));
    return 0;
}

static int dup_cell(const PGresult *res, int col, uint8_t **data, size_t *len)
{
    int n = PQgetlength(res, 0, col);
    uint8_t *copy = malloc(n > 0 ? (size_t)n : 1);
    if (!copy)
        return wb_error_set(WB_E_NOMEM, "store: out of memory reading a blob");
    if (n > 0)
        memcpy(copy, PQgetvalue(res, 0, col), (size_t)n);
    *data = copy;
    *len = (size_t)n;
    return 0;
}

/* ---- the operations ---- */

static int pg_get_blob(wb_store *base, wb_blob_key key, uint8_t **data, size_t *len)
{
    pg_store *s = (pg_store *)base;
    uint8_t k[8];
    const char *values[1] = {(const char *)k};
    const int lengths[1] = {8}, formats[1] = {1};
    const Oid types[1] = {OID_INT8};
    PGresult *res = NULL;
    int rc;

    put_i64(k, blob_rowkey(key));
    rc = pg_exec(s, &res, "read blob", "SELECT data FROM wb_blob WHERE key = $1", 1, types,
                 values, lengths, formats, 1);
    if (rc)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return wb_error_set(WB_E_NOTFOUND, "store: no %s %u/%llu",
                            key.kind == WB_BLOB_TILE     ? "tile"
                            : key.kind == WB_BLOB_BUNDLE ? "entry bundle"
                                                         : "checkpoint",
                            key.level, (unsigned long long)key.index);
    }
    rc = dup_cell(res, 0, data, len);
    PQclear(res);
    return rc;
}

static int pg_put_blob(wb_store *base, wb_blob_key key, const uint8_t *data, size_t len)
{
    pg_store *s = (pg_store *)base;
    uint8_t k[8];
    const char *values[2] = {(const char *)k, len ? (const char *)data : ""};
    int lengths[2] = {8, (int)len};
    const int formats[2] = {1, 1};
    const Oid types[2] = {OID_INT8, OID_BYTEA};
    PGresult *res = NULL;
    int rc;

    if (len > INT32_MAX)
        return wb_error_set(WB_E_LIMIT, "store: blob of %zu bytes too large", len);
    put_i64(k, blob_rowkey(key));
    rc = pg_exec(s, &res, "write blob",
                 "INSERT INTO wb_blob (key, data) VALUES ($1, $2) "
                 "ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data",
                 2, types, values, lengths, formats, 0);
    if (rc == 0)
        PQclear(res);
    return rc;
}

static int pg_get_state(wb_store *base, wb_store_state *out)
{
    pg_store *s = (pg_store *)base;
    PGresult *res = NULL;
    int64_t size;
    int rc = pg_exec(s, &res, "read state",
                     "SELECT size, root, checkpoint FROM wb_state WHERE id = 1", 0, NULL, NULL,
                     NULL, NULL, 1);
    if (rc)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return wb_error_set(WB_E_NOTFOUND, "store %s: no log state yet", s->where);
    }
    if (cell_i64(res, 0, &size) != 0 || size < 0 || PQgetlength(res, 0, 1) != 32) {
        PQclear(res);
        return wb_error_set(WB_E_CORRUPT, "store %s: state row is malformed", s->where);
    }
    out->size = (uint64_t)size;
    memcpy(out->root, PQgetvalue(res, 0, 1), 32);
    {
        size_t n = (size_t)PQgetlength(res, 0, 2);
        out->checkpoint = malloc(n + 1);
        if (!out->checkpoint) {
            PQclear(res);
            return wb_error_set(WB_E_NOMEM, "store: out of memory reading state");
        }
        memcpy(out->checkpoint, PQgetvalue(res, 0, 2), n);
        out->checkpoint[n] = '\0';
        out->checkpoint_len = n;
    }
    PQclear(res);
    return 0;
}

static int pg_cas_state(wb_store *base, uint64_t expected, const wb_store_state *stt)
{
    pg_store *s = (pg_store *)base;
    uint8_t size[8], exp[8];
    const char *values[4] = {(const char *)size, (const char *)stt->root,
                             stt->checkpoint ? stt->checkpoint : "", (const char *)exp};
    int lengths[4] = {8, 32, (int)stt->checkpoint_len, 8};
    const int formats[4] = {1, 1, 1, 1};
    const Oid types[4] = {OID_INT8, OID_BYTEA, OID_BYTEA, OID_INT8};
    int insert = expected == WB_STORE_NO_STATE;
    PGresult *res = NULL;
    int rc;

    if (stt->size > INT64_MAX || stt->checkpoint_len > INT32_MAX ||
        (!insert && expected > INT64_MAX))
        return wb_error_set(WB_E_INVALID, "store: state out of range");
    put_i64(size, (int64_t)stt->size);
    put_i64(exp, insert ? 0 : (int64_t)expected);
    rc = pg_exec(s, &res, "write state",
                 insert ? "INSERT INTO wb_state (id, size, root, checkpoint) "
                          "VALUES (1, $1, $2, $3) ON CONFLICT DO NOTHING"
                        : "UPDATE wb_state SET size = $1, root = $2, checkpoint = $3 "
                          "WHERE id = 1 AND size = $4",
                 insert ? 3 : 4, types, values, lengths, formats, 0);
    if (rc)
        return rc;
    rc = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    if (!rc && insert)
        return wb_error_set(WB_E_CONFLICT, "store: a log state already exists");
    if (!rc)
        return wb_error_set(WB_E_CONFLICT,
                            "store: tree size is no longer %llu (another writer?)",
                            (unsigned long long)expected);
    return 0;
}

static int pg_get_entry_id(wb_store *base, const uint8_t id[32], uint64_t *index)
{
    pg_store *s = (pg_store *)base;
    const char *values[1] = {(const char *)id};
    const int lengths[1] = {32}, formats[1] = {1};
    const Oid types[1] = {OID_BYTEA};
    PGresult *res = NULL;
    int64_t v;
    int rc = pg_exec(s, &res, "read entry id", "SELECT idx FROM wb_entry_id WHERE id = $1",
                     1, types, values, lengths, formats, 1);
    if (rc)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return wb_error_set(WB_E_NOTFOUND, "no entry with that id");
    }
    rc = cell_i64(res, 0, &v);
    PQclear(res);
    if (rc != 0 || v < 0)
        return wb_error_set(WB_E_CORRUPT, "store %s: bad entry index", s->where);
    *index = (uint64_t)v;
    return 0;
}

static int pg_put_entry_id(wb_store *base, const uint8_t id[32], uint64_t index)
{
    pg_store *s = (pg_store *)base;
    uint8_t idx[8];
    const char *values[2] = {(const char *)id, (const char *)idx};
    const int lengths[2] = {32, 8}, formats[2] = {1, 1};
    const Oid types[2] = {OID_BYTEA, OID_INT8};
    PGresult *res = NULL;
    int rc;
    put_i64(idx, (int64_t)index);
    /* ON CONFLICT DO NOTHING: a duplicate must not abort the transaction */
    rc = pg_exec(s, &res, "write entry id",
                 "INSERT INTO wb_entry_id (id, idx) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                 2, types, values, lengths, formats, 0);
    if (rc)
        return rc;
    rc = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    return rc ? 0 : wb_error_set(WB_E_EXISTS, "entry id already recorded");
}

static int pg_get_meta(wb_store *base, const char *name, char **value)
{
    pg_store *s = (pg_store *)base;
    const char *values[1] = {name};
    const Oid types[1] = {OID_TEXT};
    PGresult *res = NULL;
    int rc = pg_exec(s, &res, "read meta", "SELECT value FROM wb_meta WHERE name = $1", 1,
                     types, values, NULL, NULL, 0);
    if (rc)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return wb_error_set(WB_E_NOTFOUND, "store %s: no metadata '%s'", s->where, name);
    }
    *value = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return *value ? 0 : wb_error_set(WB_E_NOMEM, "store: out of memory");
}

static int pg_put_meta(wb_store *base, const char *name, const char *value)
{
    pg_store *s = (pg_store *)base;
    const char *values[2] = {name, value};
    const Oid types[2] = {OID_TEXT, OID_TEXT};
    PGresult *res = NULL;
    int rc = pg_exec(s, &res, "write meta",
                     "INSERT INTO wb_meta (name, value) VALUES ($1, $2) "
                     "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                     2, types, values, NULL, NULL, 0);
    if (rc == 0)
        PQclear(res);
    return rc;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* decodes a text-format BYTEA ("\x" then hex, bytea_output = hex) */
static int decode_bytea(uint8_t *out, const char *v, size_t vlen, size_t *n)
{
    if (vlen < 2 || v[0] != '\\' || v[1] != 'x' || vlen % 2 != 0)
        return -1;
    *n = (vlen - 2) / 2;
    for (size_t i = 0; i < *n; i++) {
        int hi = hexval(v[2 + 2 * i]), lo = hexval(v[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* one result row as wb_sql_values (text-format result) */
static int row_values(pg_store *s, const PGresult *res, int r, wb_sql_value *cols, int n)
{
    size_t need = 0, used = 0;
    for (int c = 0; c < n; c++)
        if (PQftype(res, c) == OID_BYTEA && !PQgetisnull(res, r, c))
            need += (size_t)PQgetlength(res, r, c) / 2 + 1;
    if (need > s->scratch_cap) {
        uint8_t *g = realloc(s->scratch, need);
        if (!g)
            return wb_error_set(WB_E_NOMEM, "postgres: out of memory reading a row");
        s->scratch = g;
        s->scratch_cap = need;
    }
    for (int c = 0; c < n; c++) {
        const char *v = PQgetvalue(res, r, c);
        size_t vlen = (size_t)PQgetlength(res, r, c);
        memset(&cols[c], 0, sizeof(cols[c]));
        if (PQgetisnull(res, r, c)) {
            cols[c].type = WB_SQL_NULL;
            continue;
        }
        switch (PQftype(res, c)) {
        case OID_INT2:
        case OID_INT4:
        case OID_INT8:
        case OID_OID:
            cols[c].type = WB_SQL_INT;
            cols[c].i = strtoll(v, NULL, 10);
            break;
        case OID_BOOL:
            cols[c].type = WB_SQL_INT;
            cols[c].i = v[0] == 't';
            break;
        case OID_BYTEA: {
            size_t bn;
            if (decode_bytea(s->scratch + used, v, vlen, &bn) != 0)
                return wb_error_set(WB_E_STORE, "postgres %s: unreadable bytea value",
                                    s->where);
            cols[c].type = WB_SQL_BLOB;
            cols[c].b = s->scratch + used;
            cols[c].len = bn;
            used += bn + 1;
            break;
        }
        default: /* text, varchar, numeric, float...: the value's text */
            cols[c].type = WB_SQL_TEXT;
            cols[c].s = v;
            cols[c].len = vlen;
        }
    }
    return 0;
}

static void prep_forget_all(pg_store *s)
{
    for (int i = 0; i < s->nprep; i++)
        free(s->prep[i].sql);
    s->nprep = 0;
}

/*
 * pg_prepared finds or makes the prepared statement for sql with these
 * parameter types, like the SQLite backend's cache: keyed by the SQL text
 * pointer (the upper layers pass string literals), checked against the
 * text, and by the parameter types (a NULL leaves its type to PostgreSQL,
 * so a statement run with and without NULLs is prepared once for each).
 * PQexecParams would parse and plan every call; a prepared statement
 * halves the time of the projection's small statements. PostgreSQL
 * re-plans by itself when a table is dropped and made again (reindex).
 */
static int pg_prepared(pg_store *s, char name[16], const char *sql, const char *sig,
                       int nparams, const Oid *types)
{
    struct prep *p = NULL;
    char *text = NULL;
    PGresult *res = NULL;
    int rc;

    for (int i = 0; i < s->nprep; i++)
        if (s->prep[i].key == sql && strcmp(s->prep[i].sig, sig) == 0 &&
            strcmp(s->prep[i].sql, sql) == 0) {
            snprintf(name, 16, "wb%u", s->prep[i].id);
            return 0;
        }
    rc = pg_translate(&text, sql);
    if (rc)
        return rc;
    if (s->nprep < PREP_CACHE) {
        p = &s->prep[s->nprep++];
    } else { /* evict round robin; its server side goes too */
        char sqlbuf[48];
        p = &s->prep[s->prep_clock++ % PREP_CACHE];
        snprintf(sqlbuf, sizeof(sqlbuf), "DEALLOCATE wb%u", p->id);
        PQclear(PQexec(s->conn, sqlbuf));
        free(p->sql);
    }
    memset(p, 0, sizeof(*p));
    p->id = ++s->prep_ids;
    snprintf(name, 16, "wb%u", p->id);
    res = PQprepare(s->conn, name, text, nparams, types);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = pg_fail(s, res, "prepare", text);
        PQclear(res);
        free(text);
        s->nprep--; /* the failed entry is the last one or an evicted slot */
        if (p != &s->prep[s->nprep])
            *p = s->prep[s->nprep];
        return rc;
    }
    PQclear(res);
    free(text);
    p->key = sql;
    p->sql = strdup(sql);
    snprintf(p->sig, sizeof(p->sig), "%s", sig);
    if (!p->sql) {
        s->nprep--;
        if (p != &s->prep[s->nprep])
            *p = s->prep[s->nprep];
        return wb_error_set(WB_E_NOMEM, "postgres: out of memory");
    }
    return 0;
}

static int pg_sql(wb_store *base, const char *sql, const wb_sql_value *args, size_t nargs,
                  wb_sql_row_fn row, void *ctx)
{
    pg_store *s = (pg_store *)base;
    Oid types[SQL_ARGS_MAX];
    const char *values[SQL_ARGS_MAX];
    int lengths[SQL_ARGS_MAX], formats[SQL_ARGS_MAX];
    uint8_t ints[SQL_ARGS_MAX][8];
    wb_sql_value cols[SQL_COLS_MAX];
    char sig[SQL_ARGS_MAX + 1], name[16];
    PGresult *res = NULL;
    int rc, stop = 0;

    if (nargs > SQL_ARGS_MAX)
        return wb_error_set(WB_E_LIMIT, "postgres: more than %d parameters", SQL_ARGS_MAX);
    for (size_t i = 0; i < nargs; i++) {
        types[i] = 0; /* NULL: PostgreSQL infers the type from the statement */
        values[i] = NULL;
        lengths[i] = 0;
        formats[i] = 0;
        switch (args[i].type) {
        case WB_SQL_INT:
            types[i] = OID_INT8;
            put_i64(ints[i], args[i].i);
            values[i] = (const char *)ints[i];
            lengths[i] = 8;
            formats[i] = 1;
            sig[i] = 'i';
            break;
        case WB_SQL_TEXT:
            types[i] = OID_TEXT;
            values[i] = args[i].s;
            sig[i] = 't';
            break;
        case WB_SQL_BLOB:
            if (args[i].len > INT32_MAX)
                return wb_error_set(WB_E_LIMIT, "postgres: blob too large");
            types[i] = OID_BYTEA;
            values[i] = args[i].len ? (const char *)args[i].b : "";
            lengths[i] = (int)args[i].len;
            formats[i] = 1;
            sig[i] = 'b';
            break;
        default:
            sig[i] = 'n';
            break;
        }
    }
    sig[nargs] = '\0';
    for (int attempt = 0;; attempt++) {
        ExecStatusType st;
        rc = pg_prepared(s, name, sql, sig, (int)nargs, types);
        if (rc == 0) {
            res = PQexecPrepared(s->conn, name, (int)nargs, values, lengths, formats, 0);
            st = PQresultStatus(res);
            if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
                break;
            rc = pg_fail(s, res, "query", sql);
            PQclear(res);
        }
        /* a connection that broke outside a transaction: once more on a new
           one, whose prepared statements are gone (see pg_exec) */
        if (attempt > 0 || s->in_txn || PQstatus(s->conn) != CONNECTION_BAD)
            return rc;
        PQreset(s->conn);
        prep_forget_all(s);
        if (PQstatus(s->conn) != CONNECTION_OK || pg_session(s) != 0)
            return rc;
    }
    if (row && PQresultStatus(res) == PGRES_TUPLES_OK) {
        int nrows = PQntuples(res), n = PQnfields(res);
        if (n > SQL_COLS_MAX)
            n = SQL_COLS_MAX;
        for (int r = 0; r < nrows && !stop; r++) {
            rc = row_values(s, res, r, cols, n);
            if (rc) {
                PQclear(res);
                return rc;
            }
            stop = row(ctx, cols, (size_t)n);
        }
    }
    {
        const char *t = PQcmdTuples(res);
        s->last_changes = t && *t ? strtoll(t, NULL, 10) : 0;
    }
    PQclear(res);
    return stop;
}

static int pg_sql_script(wb_store *base, const char *script)
{
    pg_store *s = (pg_store *)base;
    char *text = NULL;
    int rc = pg_translate(&text, script);
    if (rc)
        return rc;
    rc = pg_simple(s, "script", text);
    free(text);
    return rc;
}

static int64_t pg_changes(wb_store *base)
{
    return ((pg_store *)base)->last_changes;
}

static int pg_maintain(wb_store *base)
{
    (void)base; /* autovacuum does PostgreSQL's housekeeping */
    return 0;
}

#define LOCK_SQL(objid)                                                                     \
    "BEGIN; SELECT pg_advisory_xact_lock(" WB_STR(WB_PG_LOCK_NAMESPACE) ", " WB_STR(objid) ")"
#define WB_STR_(x) #x
#define WB_STR(x) WB_STR_(x)

static int pg_begin(wb_store *base)
{
    pg_store *s = (pg_store *)base;
    int rc;
    if (s->in_txn)
        return wb_error_set(WB_E_INTERNAL, "store: transaction already open");
    rc = pg_simple(s, "begin", LOCK_SQL(WB_PG_LOCK_WRITER));
    if (rc == 0) {
        s->in_txn = 1;
    } else if (PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
        PQclear(PQexec(s->conn, "ROLLBACK")); /* the lock wait timed out */
    }
    return rc;
}

static int pg_commit(wb_store *base)
{
    pg_store *s = (pg_store *)base;
    PGresult *res = NULL;
    int rc;
    if (!s->in_txn)
        return wb_error_set(WB_E_INTERNAL, "store: commit without a transaction");
    rc = pg_exec(s, &res, "commit", "COMMIT", 0, NULL, NULL, NULL, NULL, 0);
    if (rc == 0) {
        /* COMMIT of a transaction that failed earlier answers ROLLBACK */
        if (strcmp(PQcmdStatus(res), "COMMIT") != 0)
            rc = wb_error_set(WB_E_STORE, "postgres %s: the transaction failed earlier and "
                              "was rolled back", s->where);
        PQclear(res);
    } else if (PQstatus(s->conn) == CONNECTION_OK &&
               PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
        PQclear(PQexec(s->conn, "ROLLBACK"));
    }
    s->in_txn = 0;
    return rc;
}

static int pg_rollback(wb_store *base)
{
    pg_store *s = (pg_store *)base;
    if (!s->in_txn)
        return 0;
    s->in_txn = 0;
    if (PQstatus(s->conn) != CONNECTION_OK)
        return 0; /* the server rolled back when the connection went */
    return pg_simple(s, "rollback", "ROLLBACK");
}

static void pg_close(wb_store *base)
{
    pg_store *s = (pg_store *)base;
    if (s->in_txn)
        pg_rollback(base);
    PQfinish(s->conn);
    prep_forget_all(s);
    free(s->scratch);
    free(s);
}

static const wb_store_ops pg_ops = {
    .name = "postgres",
    .get_blob = pg_get_blob,
    .put_blob = pg_put_blob,
    .get_state = pg_get_state,
    .cas_state = pg_cas_state,
    .get_entry_id = pg_get_entry_id,
    .put_entry_id = pg_put_entry_id,
    .get_meta = pg_get_meta,
    .put_meta = pg_put_meta,
    .sql = pg_sql,
    .sql_script = pg_sql_script,
    .changes = pg_changes,
    .maintain = pg_maintain,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .close = pg_close,
};

static const char schema_sql[] = WB_STORE_SCHEMA_SQL;

/* 1 if the store's tables exist in this database (search_path), else 0 */
static int pg_has_schema(pg_store *s, int *has)
{
    PGresult *res = NULL;
    int rc = pg_exec(s, &res, "look for the schema",
                     "SELECT to_regclass('wb_meta') IS NOT NULL", 0, NULL, NULL, NULL, NULL, 0);
    if (rc)
        return rc;
    *has = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return 0;
}

/* text must sort bytewise, as in SQLite (see the top of this file) */
static int pg_check_collation(pg_store *s)
{
    PGresult *res = NULL;
    int ok;
    int rc = pg_exec(s, &res, "check the collation",
                     "SELECT 'B' < 'a' AND 'a-b' < 'ab' AND 'Z' < '_'", 0, NULL, NULL, NULL,
                     NULL, 0);
    if (rc)
        return rc;
    ok = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (!ok)
        return wb_error_set(WB_E_INVALID, "postgres %s: the database does not sort text "
                            "bytewise; create it with LC_COLLATE 'C' (CREATE DATABASE ... "
                            "TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C')",
                            s->where);
    return 0;
}

int wb_store_open_postgres(wb_store **out, const char *conninfo, const wb_store_options *opt)
{
    wb_store_options defaults = {0};
    pg_store *s;
    char *version = NULL;
    int rc, has = 0;

    if (!opt)
        opt = &defaults;
    s = calloc(1, sizeof(*s));
    if (!s)
        return wb_error_set(WB_E_NOMEM, "store: out of memory");
    s->base.ops = &pg_ops;
    s->sync_normal = opt->sync_normal;
    s->lock_timeout_ms = opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : 10000;
    s->conn = PQconnectdb(conninfo);
    if (!s->conn) {
        free(s);
        return wb_error_set(WB_E_NOMEM, "postgres: out of memory connecting");
    }
    if (PQstatus(s->conn) != CONNECTION_OK) {
        char msg[600];
        pg_message(msg, sizeof(msg), s->conn, NULL);
        pg_close(&s->base);
        /* the conninfo may hold a password: name the parts libpq parsed, if any */
        return wb_error_set(WB_E_STORE, "postgres: cannot connect: %s", msg);
    }
    snprintf(s->where, sizeof(s->where), "%s:%s/%s",
             PQhost(s->conn) ? PQhost(s->conn) : "", PQport(s->conn) ? PQport(s->conn) : "",
             PQdb(s->conn) ? PQdb(s->conn) : "");
    rc = pg_session(s);
    if (rc == 0)
        rc = pg_check_collation(s);
    if (rc == 0 && opt->create) {
        /* under the writer lock, so two nodes creating at once do not race */
        rc = pg_begin(&s->base);
        if (rc == 0)
            rc = pg_has_schema(s, &has);
        if (rc == 0 && has)
            rc = wb_error_set(WB_E_EXISTS, "store %s already exists; refusing to overwrite",
                              s->where);
        if (rc == 0)
            rc = pg_sql_script(&s->base, schema_sql);
        if (rc == 0)
            rc = pg_commit(&s->base);
        else
            pg_rollback(&s->base);
    } else if (rc == 0) {
        rc = pg_has_schema(s, &has);
        if (rc == 0 && !has)
            rc = wb_error_set(WB_E_NOTFOUND, "store %s does not exist (the database holds "
                              "no waybill tables)", s->where);
    }
    if (rc == 0) {
        rc = pg_get_meta(&s->base, "schema_version", &version);
        if (rc == WB_E_NOTFOUND)
            rc = wb_error_set(WB_E_CORRUPT, "%s is not a waybill store (%s)", s->where,
                              wb_error_message());
        else if (rc == 0 && strcmp(version, SCHEMA_VERSION) != 0)
            rc = wb_error_set(WB_E_CORRUPT, "%s has store schema version %s, this "
                              "waybill reads version " SCHEMA_VERSION, s->where, version);
        free(version);
    }
    if (rc) {
        pg_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}
