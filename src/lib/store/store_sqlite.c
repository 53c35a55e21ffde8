/*
 * store_sqlite.c: the embedded SQLite backend of the storage interface
 * (waybill/store.h).
 *
 * One database file. Durability: WAL journal with synchronous=FULL by
 * default, so a COMMIT has reached the disk (the WAL is fsynced) before it
 * returns; synchronous=NORMAL is available for tests and bulk loads and is
 * documented as able to lose the last transactions on power loss.
 * Writers take the lock at BEGIN IMMEDIATE, so a compare-and-swap of the
 * state inside a transaction cannot interleave with another writer.
 *
 * Schema (version 1):
 *   wb_meta(name TEXT PRIMARY KEY, value TEXT)
 *   wb_blob(key INTEGER PRIMARY KEY, data BLOB)   key = kind<<56|level<<48|index
 *   wb_state(id = 1, size, root, checkpoint)
 *   wb_entry_id(id BLOB PRIMARY KEY, idx)          SHA-256 of an entry -> index
 * One integer primary key per blob keeps the B-tree small; blobs themselves
 * are tiles (at most 8 KiB) and entry bundles.
 */
#include "store_int.h"
#include "waybill/store.h"
#include "waybill/error.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


typedef struct {
    wb_store base;
    sqlite3 *db;
    char *path;
    int in_txn;
    sqlite3_stmt *get_blob;
    sqlite3_stmt *put_blob;
    sqlite3_stmt *get_state;
    sqlite3_stmt *upd_state;
    sqlite3_stmt *ins_state;
    sqlite3_stmt *get_id;
    sqlite3_stmt *put_id;
    /* prepared statements of wb_store_sql, by SQL text pointer */
    const char *cache_sql[64];
    sqlite3_stmt *cache_st[64];
    int ncache;
    unsigned cache_clock;
    int64_t last_changes;
} sq_store;

static int sq_fail(sq_store *s, const char *what)
{
    return wb_error_set(WB_E_STORE, "sqlite %s: %s: %s", s->path, what,
                        sqlite3_errmsg(s->db));
}

static int sq_exec(sq_store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = wb_error_set(WB_E_STORE, "sqlite %s: %s: %s", s->path, sql,
                              msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

static sqlite3_int64 blob_rowkey(wb_blob_key key)
{
    return (sqlite3_int64)(((uint64_t)key.kind << 56) | ((uint64_t)key.level << 48) |
                           key.index);
}

static int sq_get_blob(wb_store *base, wb_blob_key key, uint8_t **data, size_t *len)
{
    sq_store *s = (sq_store *)base;
    sqlite3_stmt *st = s->get_blob;
    int rc;

    sqlite3_bind_int64(st, 1, blob_rowkey(key));
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const void *p = sqlite3_column_blob(st, 0);
        int n = sqlite3_column_bytes(st, 0);
        uint8_t *copy = malloc(n > 0 ? (size_t)n : 1);
        if (!copy) {
            sqlite3_reset(st);
            return wb_error_set(WB_E_NOMEM, "store: out of memory reading blob");
        }
        if (n > 0)
            memcpy(copy, p, (size_t)n);
        *data = copy;
        *len = (size_t)n;
        sqlite3_reset(st);
        return 0;
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return wb_error_set(WB_E_NOTFOUND, "store: no %s %u/%llu",
                            key.kind == WB_BLOB_TILE     ? "tile"
                            : key.kind == WB_BLOB_BUNDLE ? "entry bundle"
                                                         : "checkpoint",
                            key.level, (unsigned long long)key.index);
    return sq_fail(s, "read blob");
}

static int sq_put_blob(wb_store *base, wb_blob_key key, const uint8_t *data, size_t len)
{
    sq_store *s = (sq_store *)base;
    sqlite3_stmt *st = s->put_blob;
    int rc;

    if (len > INT32_MAX)
        return wb_error_set(WB_E_LIMIT, "store: blob of %zu bytes too large", len);
    sqlite3_bind_int64(st, 1, blob_rowkey(key));
    sqlite3_bind_blob(st, 2, len ? data : (const void *)"", (int)len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return sq_fail(s, "write blob");
    return 0;
}

static int sq_get_state(wb_store *base, wb_store_state *out)
{
    sq_store *s = (sq_store *)base;
    sqlite3_stmt *st = s->get_state;
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW) {
        const void *root = sqlite3_column_blob(st, 1);
        const void *cp = sqlite3_column_blob(st, 2);
        int cplen = sqlite3_column_bytes(st, 2);
        sqlite3_int64 size = sqlite3_column_int64(st, 0);
        if (size < 0 || sqlite3_column_bytes(st, 1) != 32 || cplen < 0) {
            sqlite3_reset(st);
            return wb_error_set(WB_E_CORRUPT, "store %s: state row is malformed",
                                s->path);
        }
        out->size = (uint64_t)size;
        memcpy(out->root, root, 32);
        out->checkpoint = malloc((size_t)cplen + 1);
        if (!out->checkpoint) {
            sqlite3_reset(st);
            return wb_error_set(WB_E_NOMEM, "store: out of memory reading state");
        }
        if (cplen > 0)
            memcpy(out->checkpoint, cp, (size_t)cplen);
        out->checkpoint[cplen] = '\0';
        out->checkpoint_len = (size_t)cplen;
        sqlite3_reset(st);
        return 0;
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return wb_error_set(WB_E_NOTFOUND, "store %s: no log state yet", s->path);
    return sq_fail(s, "read state");
}

static int sq_cas_state(wb_store *base, uint64_t expected, const wb_store_state *stt)
{
    sq_store *s = (sq_store *)base;
    sqlite3_stmt *st = expected == WB_STORE_NO_STATE ? s->ins_state : s->upd_state;
    int rc;

    if (stt->size > INT64_MAX || stt->checkpoint_len > INT32_MAX ||
        (expected != WB_STORE_NO_STATE && expected > INT64_MAX))
        return wb_error_set(WB_E_INVALID, "store: state out of range");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)stt->size);
    sqlite3_bind_blob(st, 2, stt->root, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, stt->checkpoint ? stt->checkpoint : "",
                      (int)stt->checkpoint_len, SQLITE_STATIC);
    if (expected != WB_STORE_NO_STATE)
        sqlite3_bind_int64(st, 4, (sqlite3_int64)expected);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_CONSTRAINT)
        return wb_error_set(WB_E_CONFLICT, "store: a log state already exists");
    if (rc != SQLITE_DONE)
        return sq_fail(s, "write state");
    if (sqlite3_changes(s->db) != 1)
        return wb_error_set(WB_E_CONFLICT,
                            "store: tree size is no longer %llu (another writer?)",
                            (unsigned long long)expected);
    return 0;
}

static int sq_get_entry_id(wb_store *base, const uint8_t id[32], uint64_t *index)
{
    sq_store *s = (sq_store *)base;
    sqlite3_stmt *st = s->get_id;
    int rc;
    sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        sqlite3_int64 v = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (v < 0)
            return wb_error_set(WB_E_CORRUPT, "store %s: negative entry index", s->path);
        *index = (uint64_t)v;
        return 0;
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return wb_error_set(WB_E_NOTFOUND, "no entry with that id");
    return sq_fail(s, "read entry id");
}

static int sq_put_entry_id(wb_store *base, const uint8_t id[32], uint64_t index)
{
    sq_store *s = (sq_store *)base;
    sqlite3_stmt *st = s->put_id;
    int rc;
    sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_CONSTRAINT)
        return wb_error_set(WB_E_EXISTS, "entry id already recorded");
    if (rc != SQLITE_DONE)
        return sq_fail(s, "write entry id");
    return 0;
}

static int sq_get_meta(wb_store *base, const char *name, char **value)
{
    sq_store *s = (sq_store *)base;
    sqlite3_stmt *st;
    int rc;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM wb_meta WHERE name = ?1", -1,
                           &st, NULL) != SQLITE_OK)
        return sq_fail(s, "prepare meta read");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(st, 0);
        *value = strdup(v ? (const char *)v : "");
        sqlite3_finalize(st);
        return *value ? 0 : wb_error_set(WB_E_NOMEM, "store: out of memory");
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return wb_error_set(WB_E_NOTFOUND, "store %s: no metadata '%s'", s->path, name);
    return sq_fail(s, "read meta");
}

static int sq_put_meta(wb_store *base, const char *name, const char *value)
{
    sq_store *s = (sq_store *)base;
    sqlite3_stmt *st;
    int rc;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO wb_meta(name, value) VALUES (?1, ?2)",
                           -1, &st, NULL) != SQLITE_OK)
        return sq_fail(s, "prepare meta write");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sq_fail(s, "write meta");
}

/*
 * Prepared statements are cached by their SQL text pointer: the projection
 * passes string literals, so a pointer usually identifies a statement for
 * the life of the program. A pointer that now holds other text (a buffer
 * reused for another query) is caught by comparing the statement's own
 * text and re-prepared in place. The cache is small and linear; misses
 * prepare anew.
 */
#define SQL_CACHE 64

static sqlite3_stmt *sq_cached(sq_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    for (int i = 0; i < s->ncache; i++)
        if (s->cache_sql[i] == sql) {
            st = s->cache_st[i];
            if (strcmp(sqlite3_sql(st), sql) != 0) {
                sqlite3_stmt *fresh = NULL;
                if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &fresh,
                                       NULL) != SQLITE_OK)
                    return NULL;
                sqlite3_finalize(st);
                s->cache_st[i] = st = fresh;
                return st;
            }
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return st;
        }
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        return NULL;
    if (s->ncache < SQL_CACHE) {
        s->cache_sql[s->ncache] = sql;
        s->cache_st[s->ncache++] = st;
    } else {
        int victim = (int)(s->cache_clock++ % SQL_CACHE);
        sqlite3_finalize(s->cache_st[victim]);
        s->cache_sql[victim] = sql;
        s->cache_st[victim] = st;
    }
    return st;
}

static int sq_sql(wb_store *base, const char *sql, const wb_sql_value *args, size_t nargs,
                  wb_sql_row_fn row, void *ctx)
{
    sq_store *s = (sq_store *)base;
    sqlite3_stmt *st = sq_cached(s, sql);
    wb_sql_value cols[32];
    int rc, stop = 0;

    if (!st)
        return wb_error_set(WB_E_STORE, "sqlite: %s: in \"%.120s\"", sqlite3_errmsg(s->db),
                            sql);
    for (size_t i = 0; i < nargs; i++) {
        int idx = (int)i + 1;
        switch (args[i].type) {
        case WB_SQL_INT:
            sqlite3_bind_int64(st, idx, args[i].i);
            break;
        case WB_SQL_TEXT:
            sqlite3_bind_text(st, idx, args[i].s, -1, SQLITE_STATIC);
            break;
        case WB_SQL_BLOB:
            if (args[i].len > INT32_MAX)
                return wb_error_set(WB_E_LIMIT, "sqlite: blob too large");
            sqlite3_bind_blob(st, idx, args[i].len ? (const void *)args[i].b : "",
                              (int)args[i].len, SQLITE_STATIC);
            break;
        default:
            sqlite3_bind_null(st, idx);
        }
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int n = sqlite3_column_count(st);
        if (!row)
            continue;
        if (n > 32)
            n = 32;
        for (int c = 0; c < n; c++) {
            memset(&cols[c], 0, sizeof(cols[c]));
            switch (sqlite3_column_type(st, c)) {
            case SQLITE_INTEGER:
                cols[c].type = WB_SQL_INT;
                cols[c].i = sqlite3_column_int64(st, c);
                break;
            case SQLITE_TEXT:
                cols[c].type = WB_SQL_TEXT;
                cols[c].s = (const char *)sqlite3_column_text(st, c);
                cols[c].len = (size_t)sqlite3_column_bytes(st, c);
                break;
            case SQLITE_BLOB:
                cols[c].type = WB_SQL_BLOB;
                cols[c].b = sqlite3_column_blob(st, c);
                cols[c].len = (size_t)sqlite3_column_bytes(st, c);
                break;
            case SQLITE_FLOAT:
                cols[c].type = WB_SQL_INT;
                cols[c].i = (int64_t)sqlite3_column_double(st, c);
                break;
            default:
                cols[c].type = WB_SQL_NULL;
            }
        }
        stop = row(ctx, cols, (size_t)n);
        if (stop)
            break;
    }
    if (!stop && rc != SQLITE_DONE) {
        int err = wb_error_set(rc == SQLITE_CONSTRAINT ? WB_E_EXISTS : WB_E_STORE,
                               "sqlite: %s: in \"%.120s\"", sqlite3_errmsg(s->db), sql);
        sqlite3_reset(st);
        return err;
    }
    s->last_changes = sqlite3_changes64(s->db);
    sqlite3_reset(st);
    return stop;
}

static int sq_sql_script(wb_store *base, const char *script)
{
    return sq_exec((sq_store *)base, script);
}

static int64_t sq_changes(wb_store *base)
{
    return ((sq_store *)base)->last_changes;
}

static int sq_maintain(wb_store *base)
{
    sq_store *s = (sq_store *)base;
    if (sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) !=
        SQLITE_OK)
        return sq_fail(s, "WAL checkpoint");
    return 0;
}

static int sq_begin(wb_store *base)
{
    sq_store *s = (sq_store *)base;
    int rc;
    if (s->in_txn)
        return wb_error_set(WB_E_INTERNAL, "store: transaction already open");
    rc = sq_exec(s, "BEGIN IMMEDIATE");
    if (rc == 0)
        s->in_txn = 1;
    return rc;
}

static int sq_commit(wb_store *base)
{
    sq_store *s = (sq_store *)base;
    int rc;
    if (!s->in_txn)
        return wb_error_set(WB_E_INTERNAL, "store: commit without a transaction");
    rc = sq_exec(s, "COMMIT");
    if (rc != 0) {
        /* a failed COMMIT may leave the transaction open: undo it */
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    s->in_txn = 0;
    return rc;
}

static int sq_rollback(wb_store *base)
{
    sq_store *s = (sq_store *)base;
    if (!s->in_txn)
        return 0;
    s->in_txn = 0;
    if (sqlite3_get_autocommit(s->db))
        return 0; /* SQLite already rolled back after an error */
    return sq_exec(s, "ROLLBACK");
}

static void sq_close(wb_store *base)
{
    sq_store *s = (sq_store *)base;
    if (s->in_txn)
        sq_rollback(base);
    sqlite3_finalize(s->get_blob);
    sqlite3_finalize(s->put_blob);
    sqlite3_finalize(s->get_state);
    sqlite3_finalize(s->upd_state);
    sqlite3_finalize(s->ins_state);
    sqlite3_finalize(s->get_id);
    sqlite3_finalize(s->put_id);
    for (int i = 0; i < s->ncache; i++)
        sqlite3_finalize(s->cache_st[i]);
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

static const wb_store_ops sq_ops = {
    .name = "sqlite",
    .get_blob = sq_get_blob,
    .put_blob = sq_put_blob,
    .get_state = sq_get_state,
    .cas_state = sq_cas_state,
    .get_entry_id = sq_get_entry_id,
    .put_entry_id = sq_put_entry_id,
    .get_meta = sq_get_meta,
    .put_meta = sq_put_meta,
    .sql = sq_sql,
    .sql_script = sq_sql_script,
    .changes = sq_changes,
    .maintain = sq_maintain,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .close = sq_close,
};

static const char schema_sql[] = WB_STORE_SCHEMA_SQL;

static int sq_prepare(sq_store *s, sqlite3_stmt **st, const char *sql)
{
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) !=
        SQLITE_OK)
        return sq_fail(s, "prepare statement");
    return 0;
}

int wb_store_open_sqlite(wb_store **out, const char *path, const wb_store_options *opt)
{
    wb_store_options defaults = {0};
    struct stat sb;
    sq_store *s;
    int exists, rc, flags;
    char *version = NULL;
    char pragma[128];

    if (!opt)
        opt = &defaults;
    exists = stat(path, &sb) == 0;
    if (opt->create && exists)
        return wb_error_set(WB_E_EXISTS, "store %s already exists; refusing to overwrite",
                            path);
    if (!opt->create && !exists)
        return wb_error_set(WB_E_NOTFOUND, "store %s does not exist", path);

    s = calloc(1, sizeof(*s));
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return wb_error_set(WB_E_NOMEM, "store: out of memory");
    }
    s->base.ops = &sq_ops;
    flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
            (opt->create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        rc = s->db ? sq_fail(s, "open")
                   : wb_error_set(WB_E_NOMEM, "sqlite: out of memory opening %s", path);
        sq_close(&s->base);
        return rc;
    }
    sqlite3_extended_result_codes(s->db, 0);
    snprintf(pragma, sizeof(pragma),
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA busy_timeout=%d;"
             "PRAGMA wal_autocheckpoint=%d;",
             opt->sync_normal ? "NORMAL" : "FULL",
             opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : 10000,
             opt->manual_checkpoint ? 0 : 1000);
    rc = sq_exec(s, pragma);
    if (rc == 0 && opt->create) {
        rc = sq_exec(s, "BEGIN IMMEDIATE");
        if (rc == 0)
            rc = sq_exec(s, schema_sql);
        if (rc == 0)
            rc = sq_exec(s, "COMMIT");
        else
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    if (rc == 0) {
        rc = sq_get_meta(&s->base, "schema_version", &version);
        if (rc == WB_E_NOTFOUND || rc == WB_E_STORE)
            rc = wb_error_set(WB_E_CORRUPT, "%s is not a waybill store (%s)", path,
                              wb_error_message());
        else if (rc == 0 && strcmp(version, SCHEMA_VERSION) != 0)
            rc = wb_error_set(WB_E_CORRUPT, "%s has store schema version %s, this "
                              "waybill reads version " SCHEMA_VERSION, path, version);
        free(version);
    }
    if (rc == 0)
        rc = sq_prepare(s, &s->get_blob, "SELECT data FROM wb_blob WHERE key = ?1");
    if (rc == 0)
        rc = sq_prepare(s, &s->put_blob,
                        "INSERT OR REPLACE INTO wb_blob(key, data) VALUES (?1, ?2)");
    if (rc == 0)
        rc = sq_prepare(s, &s->get_state,
                        "SELECT size, root, checkpoint FROM wb_state WHERE id = 1");
    if (rc == 0)
        rc = sq_prepare(s, &s->upd_state,
                        "UPDATE wb_state SET size = ?1, root = ?2, checkpoint = ?3 "
                        "WHERE id = 1 AND size = ?4");
    if (rc == 0)
        rc = sq_prepare(s, &s->ins_state,
                        "INSERT INTO wb_state(id, size, root, checkpoint) "
                        "VALUES (1, ?1, ?2, ?3)");
    if (rc == 0)
        rc = sq_prepare(s, &s->get_id, "SELECT idx FROM wb_entry_id WHERE id = ?1");
    if (rc == 0)
        rc = sq_prepare(s, &s->put_id, "INSERT INTO wb_entry_id(id, idx) VALUES (?1, ?2)");
    if (rc != 0) {
        sq_close(&s->base);
        if (opt->create)
            unlink(path);
        return rc;
    }
    *out = &s->base;
    return 0;
}
