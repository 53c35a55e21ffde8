/*
 * witness.c: a transparency-log witness, C2SP tlog-witness
 * (https://c2sp.org/tlog-witness, "add-checkpoint"), cosigning with
 * tlog-cosignature/v1 (cosig.c).
 *
 * State is one SQLite file (WAL, synchronous=FULL): one row per known log,
 * keyed by its origin (the name of the log's verifier key), with the key and
 * the latest checkpoint this witness cosigned for it (size, root, and the
 * signed note with the cosignature appended). A log that was never cosigned
 * has size 0 and no root.
 *
 * wb_witness_handle answers one add-checkpoint body, in the order of the spec:
 *   400  malformed body, checkpoint or note; old size above the checkpoint's
 *   404  the checkpoint's origin is not a known log
 *   403  no signature by the log's key verifies
 *   409  old size is not the size this witness last cosigned: body "<size>\n"
 *        (text/x.tlog.size); or old size equals the checkpoint size and the
 *        roots differ (a fork at one size: a message, text/plain)
 *   422  the consistency proof from the stored root at old size does not
 *        verify to the checkpoint's root (or is not empty for equal sizes)
 *   200  the cosignature line, after the new state is durable
 * The check of the old size and the update of the state happen under one
 * mutex and one IMMEDIATE transaction (which also serialises other processes
 * on the same file), so two requests can never both be cosigned from the same
 * old state: the race the spec describes cannot roll the stored size back.
 * A checkpoint at the cosigned size with the cosigned root is cosigned again.
 */
#include "waybill/witness.h"

#include "waybill/error.h"
#include "waybill/util.h"

#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROOF_LINE 44 /* base64 of 32 bytes, padded */
#define MSG_MAX 1024  /* largest error message we answer */

struct wb_witness {
    sqlite3 *db;
    pthread_mutex_t mu;
    wb_note_key *signer; /* our copy */
    char *path;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS witness_log ("
    " origin TEXT PRIMARY KEY NOT NULL,"
    " vkey TEXT NOT NULL,"
    " size INTEGER NOT NULL DEFAULT 0,"
    " root BLOB,"
    " note TEXT,"
    " updated INTEGER NOT NULL DEFAULT 0);";

/* ---- the request body ---- */

int wb_witness_body_parse(wb_witness_body *b, const char *body, size_t len)
{
    wb_reader r, line;
    const uint8_t *p;
    int rc;

    memset(b, 0, sizeof(*b));
    if (!body || len == 0)
        return wb_error_set(WB_E_INVALID, "add-checkpoint: empty body");
    if (len > WB_WITNESS_BODY_MAX)
        return wb_error_set(WB_E_LIMIT, "add-checkpoint: body of %zu bytes, over %d", len,
                            WB_WITNESS_BODY_MAX);
    wb_reader_init(&r, body, len);
    if (!wb_reader_get_until(&r, &line, '\n'))
        return wb_error_set(WB_E_INVALID, "add-checkpoint line 1: no newline");
    if (!wb_reader_get_bytes(&line, &p, 4) || memcmp(p, "old ", 4) != 0)
        return wb_error_set(WB_E_INVALID, "add-checkpoint line 1: does not start with 'old '");
    if (wb_reader_left(&line) > 20)
        return wb_error_set(WB_E_INVALID, "add-checkpoint line 1: old size too long");
    rc = wb_parse_u64(&b->old_size, (const char *)line.ptr, wb_reader_left(&line));
    if (rc != 0)
        return wb_error_prefix(rc, "add-checkpoint line 1: old size");
    for (;;) {
        size_t n = 0, lineno = b->nproof + 2;
        if (!wb_reader_get_until(&r, &line, '\n'))
            return wb_error_set(WB_E_INVALID,
                                "add-checkpoint line %zu: no empty line before the "
                                "checkpoint",
                                lineno);
        if (wb_reader_left(&line) == 0)
            break;
        if (b->nproof == WB_WITNESS_MAX_PROOF)
            return wb_error_set(WB_E_LIMIT,
                                "add-checkpoint: over %d consistency proof lines",
                                WB_WITNESS_MAX_PROOF);
        if (wb_reader_left(&line) != PROOF_LINE)
            return wb_error_set(WB_E_INVALID,
                                "add-checkpoint line %zu: a proof line is %zu characters, "
                                "not the %d of a base64 SHA-256 hash",
                                lineno, wb_reader_left(&line), PROOF_LINE);
        rc = wb_base64_decode(b->proof[b->nproof], WB_HASH_LEN, &n, (const char *)line.ptr,
                              PROOF_LINE);
        if (rc != 0)
            return wb_error_prefix(rc, "add-checkpoint line %zu", lineno);
        if (n != WB_HASH_LEN)
            return wb_error_set(WB_E_INVALID, "add-checkpoint line %zu: %zu-byte hash",
                                lineno, n);
        b->nproof++;
    }
    if (b->old_size == 0 && b->nproof != 0)
        return wb_error_set(WB_E_INVALID,
                            "add-checkpoint: a proof from old size 0 must be empty, it "
                            "has %zu lines",
                            b->nproof);
    if (wb_reader_left(&r) == 0)
        return wb_error_set(WB_E_INVALID, "add-checkpoint: no checkpoint after the empty line");
    b->note = (const char *)r.ptr;
    b->note_len = wb_reader_left(&r);
    return 0;
}

const char *wb_witness_content_type(int status, const char *resp, size_t len)
{
    size_t i = 0;
    if (status == 409 && resp && len >= 2 && resp[len - 1] == '\n') {
        while (i < len - 1 && resp[i] >= '0' && resp[i] <= '9')
            i++;
        if (i == len - 1)
            return "text/x.tlog.size";
    }
    return "text/plain; charset=utf-8";
}

/* ---- state ---- */

static int db_fail(wb_witness *w, const char *what)
{
    return wb_error_set(WB_E_STORE, "witness state %s: %s: %s", w->path, what,
                        sqlite3_errmsg(w->db));
}

static int db_exec(wb_witness *w, const char *sql)
{
    if (sqlite3_exec(w->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(w, sql);
    return 0;
}

int wb_witness_open(wb_witness **out, const char *db_path, const wb_note_key *signer)
{
    wb_witness *w;
    char *s = NULL;
    int rc;

    *out = NULL;
    if (!signer || !wb_key_is_private(wb_note_key_key(signer)))
        return wb_error_set(WB_E_INVALID, "witness: needs a private witness key");
    w = calloc(1, sizeof(*w));
    if (!w || !(w->path = strdup(db_path))) {
        free(w);
        return wb_error_set(WB_E_NOMEM, "witness: out of memory");
    }
    pthread_mutex_init(&w->mu, NULL);
    /* a copy of the key, through its string: the type must be 0x04 */
    rc = wb_note_signer_string(&s, signer);
    if (rc == 0) {
        rc = wb_cosig_signer_parse(&w->signer, s, strlen(s));
    }
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
    if (rc != 0) {
        wb_witness_close(w);
        return wb_error_prefix(rc, "witness key");
    }
    if (sqlite3_open_v2(db_path, &w->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        rc = w->db ? db_fail(w, "open")
                   : wb_error_set(WB_E_STORE, "witness state %s: cannot open", db_path);
        wb_witness_close(w);
        return rc;
    }
    sqlite3_busy_timeout(w->db, 10000);
    rc = db_exec(w, "PRAGMA journal_mode=WAL;");
    if (rc == 0)
        rc = db_exec(w, "PRAGMA synchronous=FULL;");
    if (rc == 0)
        rc = db_exec(w, schema);
    if (rc != 0) {
        wb_witness_close(w);
        return rc;
    }
    *out = w;
    return 0;
}

void wb_witness_close(wb_witness *w)
{
    if (!w)
        return;
    if (w->db)
        sqlite3_close(w->db);
    wb_note_key_free(w->signer);
    pthread_mutex_destroy(&w->mu);
    free(w->path);
    free(w);
}

int wb_witness_add_log(wb_witness *w, const char *log_vkey)
{
    wb_note_key *k = NULL;
    sqlite3_stmt *st = NULL;
    int rc, step;

    if (!log_vkey)
        return wb_error_set(WB_E_INVALID, "witness: no log key given");
    rc = wb_note_verifier_parse(&k, log_vkey, strlen(log_vkey));
    if (rc != 0)
        return wb_error_prefix(rc, "witness: log key");
    pthread_mutex_lock(&w->mu);
    if (sqlite3_prepare_v2(w->db,
                           "INSERT INTO witness_log (origin, vkey) VALUES (?1, ?2) "
                           "ON CONFLICT (origin) DO NOTHING",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(w, "add log");
        goto out;
    }
    sqlite3_bind_text(st, 1, wb_note_key_name(k), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, log_vkey, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = db_fail(w, "add log");
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    /* an origin already known must have this very key */
    if (sqlite3_prepare_v2(w->db, "SELECT vkey FROM witness_log WHERE origin = ?1", -1, &st,
                           NULL) != SQLITE_OK) {
        rc = db_fail(w, "add log");
        goto out;
    }
    sqlite3_bind_text(st, 1, wb_note_key_name(k), -1, SQLITE_TRANSIENT);
    step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        rc = db_fail(w, "add log");
        goto out;
    }
    if (strcmp((const char *)sqlite3_column_text(st, 0), log_vkey) != 0)
        rc = wb_error_set(WB_E_EXISTS,
                          "witness: log '%s' is already known with another key (%s)",
                          wb_note_key_name(k), (const char *)sqlite3_column_text(st, 0));
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&w->mu);
    wb_note_key_free(k);
    return rc;
}

int wb_witness_latest(wb_witness *w, const char *origin, uint64_t *size,
                      uint8_t root[WB_HASH_LEN], char **note)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    *size = 0;
    if (note)
        *note = NULL;
    pthread_mutex_lock(&w->mu);
    if (sqlite3_prepare_v2(w->db, "SELECT size, root, note FROM witness_log WHERE origin = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(w, "latest");
        goto out;
    }
    sqlite3_bind_text(st, 1, origin, -1, SQLITE_TRANSIENT);
    step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        rc = wb_error_set(WB_E_NOTFOUND, "witness: log '%s' is not known", origin);
        goto out;
    }
    if (step != SQLITE_ROW) {
        rc = db_fail(w, "latest");
        goto out;
    }
    *size = (uint64_t)sqlite3_column_int64(st, 0);
    if (sqlite3_column_type(st, 1) == SQLITE_BLOB && sqlite3_column_bytes(st, 1) == WB_HASH_LEN)
        memcpy(root, sqlite3_column_blob(st, 1), WB_HASH_LEN);
    else
        wb_merkle_empty_root(root);
    if (note && sqlite3_column_type(st, 2) == SQLITE_TEXT) {
        *note = strdup((const char *)sqlite3_column_text(st, 2));
        if (!*note)
            rc = wb_error_set(WB_E_NOMEM, "witness: out of memory");
    }
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

/* ---- add-checkpoint ---- */

/* answer sets a status and a malloc'd "message\n" body; returns 0 or NOMEM */
static int answer(int *status, char **resp, size_t *resp_len, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int answer(int *status, char **resp, size_t *resp_len, int code, const char *fmt, ...)
{
    char msg[MSG_MAX];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof(msg) - 2)
        n = (int)sizeof(msg) - 2;
    msg[n] = '\n';
    msg[n + 1] = '\0';
    *resp = strdup(msg);
    if (!*resp)
        return wb_error_set(WB_E_NOMEM, "witness: out of memory");
    *resp_len = (size_t)n + 1;
    *status = code;
    return 0;
}

/* the log row read under the transaction */
typedef struct {
    char vkey[1024];
    uint64_t size;
    uint8_t root[WB_HASH_LEN];
} log_row;

/* read_log: 0 and the row, WB_E_NOTFOUND, or a storage error */
static int read_log(wb_witness *w, const char *origin, log_row *row)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    if (sqlite3_prepare_v2(w->db, "SELECT vkey, size, root FROM witness_log WHERE origin = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(w, "read log");
    sqlite3_bind_text(st, 1, origin, -1, SQLITE_TRANSIENT);
    step = sqlite3_step(st);
    if (step == SQLITE_DONE)
        rc = WB_E_NOTFOUND;
    else if (step != SQLITE_ROW)
        rc = db_fail(w, "read log");
    else {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if (!v || strlen(v) >= sizeof(row->vkey))
            rc = wb_error_set(WB_E_CORRUPT, "witness state: log '%s' has a bad key", origin);
        else
            snprintf(row->vkey, sizeof(row->vkey), "%s", v);
        row->size = (uint64_t)sqlite3_column_int64(st, 1);
        if (sqlite3_column_type(st, 2) == SQLITE_BLOB &&
            sqlite3_column_bytes(st, 2) == WB_HASH_LEN)
            memcpy(row->root, sqlite3_column_blob(st, 2), WB_HASH_LEN);
        else if (row->size == 0)
            wb_merkle_empty_root(row->root);
        else if (rc == 0)
            rc = wb_error_set(WB_E_CORRUPT, "witness state: log '%s' at size %" PRIu64
                              " has no root", origin, row->size);
    }
    sqlite3_finalize(st);
    return rc;
}

static int write_log(wb_witness *w, const char *origin, uint64_t size,
                     const uint8_t root[WB_HASH_LEN], const char *note, size_t note_len)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (sqlite3_prepare_v2(w->db,
                           "UPDATE witness_log SET size = ?2, root = ?3, note = ?4, "
                           "updated = ?5 WHERE origin = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(w, "update log");
    sqlite3_bind_text(st, 1, origin, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)size);
    sqlite3_bind_blob(st, 3, root, WB_HASH_LEN, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, note, (int)note_len, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
    if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(w->db) != 1)
        rc = db_fail(w, "update log");
    sqlite3_finalize(st);
    return rc;
}

/*
 * decide: under the lock and the transaction, checks the request against the
 * stored state and, if it passes, cosigns and stores. Returns a storage error
 * or 0 with *status set.
 */
static int decide(wb_witness *w, const wb_witness_body *b, const char *origin, int *status,
                  char **resp, size_t *resp_len)
{
    log_row row;
    wb_note_key *lk = NULL;
    wb_note note;
    wb_checkpoint cp;
    char *line = NULL, *stored = NULL;
    size_t line_len = 0;
    wb_buf sb;
    uint8_t *sp = NULL;
    size_t sp_len = 0;
    int rc;

    memset(&cp, 0, sizeof(cp));
    rc = read_log(w, origin, &row);
    if (rc == WB_E_NOTFOUND)
        return answer(status, resp, resp_len, 404, "unknown log origin '%s'", origin);
    if (rc != 0)
        return rc;
    rc = wb_note_verifier_parse(&lk, row.vkey, strlen(row.vkey));
    if (rc != 0)
        return wb_error_prefix(WB_E_CORRUPT, "witness state: log '%s' key", origin);
    rc = wb_note_open(&note, b->note, b->note_len, &lk, 1);
    wb_note_key_free(lk);
    if (rc == WB_E_VERIFY)
        return answer(status, resp, resp_len, 403, "%s", wb_error_message());
    if (rc == WB_E_INVALID || rc == WB_E_LIMIT)
        return answer(status, resp, resp_len, 400, "%s", wb_error_message());
    if (rc != 0)
        return rc;
    rc = wb_checkpoint_parse(&cp, note.text, note.text_len);
    if (rc != 0) {
        wb_note_cleanup(&note);
        if (rc == WB_E_INVALID || rc == WB_E_LIMIT)
            return answer(status, resp, resp_len, 400, "checkpoint: %s", wb_error_message());
        return rc;
    }
    if (b->old_size > cp.size) {
        rc = answer(status, resp, resp_len, 400,
                    "old size %" PRIu64 " is above the checkpoint size %" PRIu64, b->old_size,
                    cp.size);
        goto out;
    }
    if (b->old_size != row.size) {
        char num[32];
        int n = snprintf(num, sizeof(num), "%" PRIu64 "\n", row.size);
        *resp = strdup(num);
        if (!*resp) {
            rc = wb_error_set(WB_E_NOMEM, "witness: out of memory");
            goto out;
        }
        *resp_len = (size_t)n;
        *status = 409;
        rc = 0;
        goto out;
    }
    if (b->old_size == cp.size) {
        if (memcmp(row.root, cp.root, WB_HASH_LEN) != 0) {
            rc = answer(status, resp, resp_len, 409,
                        "checkpoint of size %" PRIu64 " has a root other than the one "
                        "this witness cosigned at that size: the log forked",
                        cp.size);
            goto out;
        }
        if (b->nproof != 0) {
            rc = answer(status, resp, resp_len, 422,
                        "a consistency proof between equal sizes must be empty, it has "
                        "%zu hashes",
                        b->nproof);
            goto out;
        }
    } else if (b->old_size > 0) {
        rc = wb_merkle_consistency_verify(b->old_size, cp.size,
                                          (const uint8_t(*)[WB_HASH_LEN])b->proof, b->nproof,
                                          row.root, cp.root);
        if (rc == WB_E_VERIFY) {
            rc = answer(status, resp, resp_len, 422, "%s", wb_error_message());
            goto out;
        }
        if (rc != 0)
            goto out;
    }

    /* cosign, store, commit (the caller commits): durable before the answer */
    rc = wb_cosig_sign(&line, &line_len, w->signer, note.text, note.text_len,
                       (uint64_t)time(NULL));
    if (rc != 0)
        goto out;
    wb_buf_init(&sb, WB_NOTE_MAX + 1024);
    wb_buf_add(&sb, b->note, b->note_len);
    wb_buf_add(&sb, line, line_len);
    rc = wb_buf_finish(&sb, &sp, &sp_len);
    stored = (char *)sp;
    if (rc == 0)
        rc = write_log(w, origin, cp.size, cp.root, stored, sp_len);
    if (rc != 0) {
        free(line);
        goto out;
    }
    *resp = line;
    *resp_len = line_len;
    *status = 200;
out:
    free(stored);
    wb_checkpoint_cleanup(&cp);
    wb_note_cleanup(&note);
    return rc;
}

int wb_witness_handle(wb_witness *w, const char *body, size_t len, int *status, char **resp,
                      size_t *resp_len)
{
    wb_witness_body *b;
    wb_note probe;
    char origin[WB_NOTE_NAME_MAX + 1];
    const char *nl;
    size_t olen;
    int rc;

    *status = 500;
    *resp = NULL;
    *resp_len = 0;
    b = malloc(sizeof(*b));
    if (!b)
        return wb_error_set(WB_E_NOMEM, "witness: out of memory");
    rc = wb_witness_body_parse(b, body, len);
    if (rc != 0) {
        rc = answer(status, resp, resp_len, 400, "%s", wb_error_message());
        goto done;
    }
    /* the note's syntax, before any key is looked up: with no verifier a
     * well-formed note fails only with WB_E_VERIFY (no known signer) */
    rc = wb_note_open(&probe, b->note, b->note_len, NULL, 0);
    if (rc == 0)
        wb_note_cleanup(&probe);
    if (rc != 0 && rc != WB_E_VERIFY) {
        rc = answer(status, resp, resp_len, 400, "checkpoint: %s", wb_error_message());
        goto done;
    }
    /* the origin is the first line of the checkpoint */
    nl = memchr(b->note, '\n', b->note_len);
    olen = nl ? (size_t)(nl - b->note) : 0;
    if (olen == 0 || olen > WB_NOTE_NAME_MAX) {
        rc = answer(status, resp, resp_len, 400,
                    "checkpoint: the origin line is empty or over %d bytes",
                    WB_NOTE_NAME_MAX);
        goto done;
    }
    memcpy(origin, b->note, olen);
    origin[olen] = '\0';

    pthread_mutex_lock(&w->mu);
    rc = db_exec(w, "BEGIN IMMEDIATE;");
    if (rc == 0) {
        rc = decide(w, b, origin, status, resp, resp_len);
        if (rc == 0 && *status == 200)
            rc = db_exec(w, "COMMIT;");
        if (rc != 0 || *status != 200)
            (void)sqlite3_exec(w->db, "ROLLBACK;", NULL, NULL, NULL);
    }
    pthread_mutex_unlock(&w->mu);
    if (rc != 0) {
        free(*resp);
        *resp = NULL;
        *resp_len = 0;
        *status = 500;
    }
done:
    free(b);
    return rc;
}
