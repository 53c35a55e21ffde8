/*
 * cluster.c: several `waybill serve` nodes over one PostgreSQL database
 * (DESIGN.md "Multi-node", docs/deploy.md).
 *
 * Every node checks statements on its HTTP threads, as a single node does.
 * Then, instead of the in-memory sequencer queue:
 *   1. the node's forwarder thread writes its checked statements into
 *      wb_pending, all that arrived within a batch interval in one
 *      transaction: once that commits, no crash of any node loses them;
 *   2. exactly one node is the sequencer: the one whose leader thread holds
 *      the session-level advisory lock WB_CLUSTER_LOCK. Its sequencer thread
 *      takes pending rows in order, integrates them as one batch (the same
 *      group commit as a single node, sequencer.c) and deletes them, and
 *      records the ones the rules refused in wb_refused, in the append's
 *      own transaction;
 *   3. every node's completer thread answers its own waiting requests when
 *      their entries are in the tree (wb_entry_id), with a receipt built
 *      from the shared tiles and the stored receipt signature of the tree
 *      size, or with the refusal.
 * If the sequencer dies, its sessions end, PostgreSQL releases the lock and
 * another node's leader thread takes it at its next poll. Safety does not
 * rest on the lock: every append compare-and-swaps the tree size inside a
 * transaction that serialises writers, so two nodes that both believe they
 * are the sequencer cannot fork the log; one of them fails its batch and
 * the rows stay pending.
 */
#include "scitt_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "waybill/error.h"
#include "waybill/util.h"

#define WB_CLUSTER_LOCK 0x77617962 /* "wayb" */
/* a follower asks 40 times a second: cheap, and a takeover waits at most this */
#define LEADER_POLL_MS 25
#define COMPLETER_POLL_MS 5

static const char cluster_schema[] =
    "CREATE TABLE IF NOT EXISTS wb_pending (seq BIGSERIAL PRIMARY KEY, id BYTEA NOT NULL,"
    " statement BYTEA NOT NULL, node TEXT NOT NULL, own INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS wb_refused (seq BIGINT PRIMARY KEY, reason TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS wb_entry_id_by_idx ON wb_entry_id (idx);";

struct scitt_cluster {
    pthread_t leader_thread, forwarder_thread, completer_thread;
    int leader_started, forwarder_started, completer_started;
    int leader;                 /* atomic: this node holds the lock */
    wb_ticket *fwd_head, *fwd_tail; /* to write to wb_pending (svc->mu) */
    wb_ticket *waiting;         /* written, waiting for the sequencer (svc->mu) */
    pthread_cond_t fwd_cond;
    uint64_t takeovers;         /* times this node became the sequencer */
};

static void sleep_ms(unsigned ms)
{
    usleep(ms * 1000u);
}

static int stopping(wb_service *svc)
{
    int s;
    pthread_mutex_lock(&svc->mu);
    s = svc->stopping;
    pthread_mutex_unlock(&svc->mu);
    return s;
}

int scitt_cluster_is_leader(const wb_service *svc)
{
    return svc->cluster && __atomic_load_n(&svc->cluster->leader, __ATOMIC_ACQUIRE);
}

/* ---- 2. the lock ---- */

static int int_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    if (n >= 1 && cols[0].type == WB_SQL_INT)
        *(int64_t *)vctx = cols[0].i;
    return 0;
}

static void *leader_main(void *arg)
{
    wb_service *svc = arg;
    scitt_cluster *c = svc->cluster;
    wb_sql_value a[1] = {WB_SQL_I(WB_CLUSTER_LOCK)};
    while (!stopping(svc)) {
        wb_log *log;
        int64_t got = 0;
        int rc = scitt_thread_log(svc, &log);
        if (rc == 0 && !__atomic_load_n(&c->leader, __ATOMIC_ACQUIRE)) {
            rc = wb_store_sql(wb_log_store(log), "SELECT CASE WHEN pg_try_advisory_lock($1) "
                              "THEN 1 ELSE 0 END", a, 1, int_row, &got);
            if (rc >= 0 && got == 1) {
                c->takeovers++;
                __atomic_store_n(&c->leader, 1, __ATOMIC_RELEASE);
                fprintf(stderr, "level=info msg=\"this node is now the sequencer\"\n");
                pthread_mutex_lock(&svc->mu);
                pthread_cond_broadcast(&svc->work);
                pthread_mutex_unlock(&svc->mu);
            }
        } else if (rc == 0) {
            /* still connected? a session that ended has lost the lock */
            rc = wb_store_sql(wb_log_store(log), "SELECT 1", NULL, 0, int_row, &got);
        }
        if (rc < 0) {
            if (__atomic_exchange_n(&c->leader, 0, __ATOMIC_ACQ_REL))
                fprintf(stderr, "level=warn msg=\"lost the database session: no longer the "
                                "sequencer\" err=\"%s\"\n", wb_error_message());
            /* a fresh connection next time */
            wb_log *old = pthread_getspecific(svc->tls_log);
            if (old) {
                pthread_setspecific(svc->tls_log, NULL);
                wb_log_close(old);
            }
        }
        sleep_ms(LEADER_POLL_MS);
    }
    return NULL;
}

/* ---- 1. forwarding ---- */

/*
 * INSERT ... VALUES (...), (...) RETURNING seq, id for 1..FORWARD_ROWS rows:
 * the texts are made once, so the store's prepared-statement cache (keyed
 * by the SQL's address) keeps one statement per row count
 */
#define FORWARD_ROWS 16 /* 4 parameters a row: the store binds at most 64 */
static char *forward_sql[FORWARD_ROWS + 1];
static pthread_once_t forward_once = PTHREAD_ONCE_INIT;

static void forward_sql_init(void)
{
    for (int k = 1; k <= FORWARD_ROWS; k++) {
        wb_buf b;
        uint8_t *out;
        size_t len;
        wb_buf_init(&b, 4096);
        wb_buf_add_str(&b, "INSERT INTO wb_pending (id, statement, node, own) VALUES ");
        for (int r = 0; r < k; r++)
            wb_buf_printf(&b, "%s($%d, $%d, $%d, $%d)", r ? ", " : "", 4 * r + 1, 4 * r + 2,
                          4 * r + 3, 4 * r + 4);
        wb_buf_add_str(&b, " RETURNING seq, id");
        if (wb_buf_finish(&b, &out, &len) == 0)
            forward_sql[k] = (char *)out;
    }
}

typedef struct {
    wb_ticket **t;
    size_t n;
    int rc;
} returned_ctx;

/* RETURNING seq, id: matched by id (rows may come back in any order) */
static int returned_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    returned_ctx *c = vctx;
    if (n < 2 || cols[0].type != WB_SQL_INT || cols[1].type != WB_SQL_BLOB || cols[1].len != 32)
        return 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->t[i]->seq == 0 && memcmp(c->t[i]->id, cols[1].b, 32) == 0) {
            c->t[i]->seq = cols[0].i;
            return 0;
        }
    return 0;
}

static int state_size_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    if (n >= 1 && cols[0].type == WB_SQL_INT)
        *(uint64_t *)vctx = (uint64_t)cols[0].i;
    return 0;
}

/*
 * writes tickets (a list) into wb_pending: one multi-row INSERT per
 * FORWARD_ROWS, each its own transaction (autocommit). It takes no writer
 * lock, so forwarding never waits for the sequencer's batch. Each ticket
 * learns a floor for its index: the tree size read before its row was
 * committed (no batch can integrate a row before it is committed).
 */
static int forward(wb_service *svc, wb_store *s, wb_ticket *list)
{
    char node[32];
    uint64_t floor = 0;
    wb_ticket *chunk[FORWARD_ROWS];
    wb_sql_value args[4 * FORWARD_ROWS];
    wb_ticket *t = list;
    int rc;
    (void)svc;
    pthread_once(&forward_once, forward_sql_init);
    snprintf(node, sizeof(node), "%d", (int)getpid());
    rc = wb_store_sql(s, "SELECT size FROM wb_state WHERE id = 1", NULL, 0, state_size_row,
                      &floor);
    rc = rc < 0 ? rc : 0;
    while (rc == 0 && t) {
        size_t k = 0;
        returned_ctx rctx;
        for (; t && k < FORWARD_ROWS; t = t->next, k++) {
            chunk[k] = t;
            t->seq = 0;
            t->floor = floor;
            args[4 * k] = WB_SQL_B(t->id, 32);
            args[4 * k + 1] = WB_SQL_B(t->statement, t->len);
            args[4 * k + 2] = WB_SQL_S(node);
            args[4 * k + 3] = WB_SQL_I(t->own);
        }
        if (!forward_sql[k])
            return wb_error_set(WB_E_NOMEM, "out of memory");
        rctx.t = chunk;
        rctx.n = k;
        rctx.rc = 0;
        rc = wb_store_sql(s, forward_sql[k], args, 4 * k, returned_row, &rctx);
        rc = rc < 0 ? rc : 0;
        for (size_t i = 0; rc == 0 && i < k; i++)
            if (chunk[i]->seq <= 0)
                rc = wb_error_set(WB_E_STORE, "wb_pending gave no sequence number");
    }
    /* a chunk that failed may have committed the chunks before it: those
       are durable and will be sequenced; this node still fails them all,
       their clients retry and get the same entry */
    return rc;
}

static void *forwarder_main(void *arg)
{
    wb_service *svc = arg;
    scitt_cluster *c = svc->cluster;
    pthread_mutex_lock(&svc->mu);
    for (;;) {
        wb_ticket *list, *last;
        wb_log *log;
        int rc;
        while (!c->fwd_head && !svc->stopping)
            pthread_cond_wait(&c->fwd_cond, &svc->mu);
        if (!c->fwd_head && svc->stopping)
            break;
        list = c->fwd_head;
        c->fwd_head = c->fwd_tail = NULL;
        pthread_mutex_unlock(&svc->mu);
        rc = scitt_thread_log(svc, &log);
        if (rc == 0)
            rc = forward(svc, wb_log_store(log), list);
        pthread_mutex_lock(&svc->mu);
        if (rc) {
            /* nothing of this transaction is durable: the requests fail now
             * (their clients retry), none is answered as registered */
            char msg[200];
            snprintf(msg, sizeof(msg), "%s", wb_error_message());
            pthread_mutex_unlock(&svc->mu);
            fprintf(stderr, "level=error msg=\"forwarding to the database failed\" "
                            "err=\"%s\"\n", msg);
            {
                wb_log *old = pthread_getspecific(svc->tls_log);
                if (old) {
                    pthread_setspecific(svc->tls_log, NULL);
                    wb_log_close(old);
                }
            }
            for (wb_ticket *t = list, *next; t; t = next) {
                next = t->next;
                t->next = NULL;
                t->rc = WB_E_STORE;
                snprintf(t->err, sizeof(t->err), "the database could not queue the "
                         "statement: %s", msg);
                scitt_ticket_complete(svc, t);
            }
            pthread_mutex_lock(&svc->mu);
            continue;
        }
        for (last = list; last->next; last = last->next)
            ;
        last->next = c->waiting;
        c->waiting = list;
    }
    pthread_mutex_unlock(&svc->mu);
    return NULL;
}

int scitt_cluster_submit(wb_service *svc, wb_ticket *t)
{
    scitt_cluster *c = svc->cluster;
    /* svc->mu held by the caller */
    if (c->fwd_tail)
        c->fwd_tail->next = t;
    else
        c->fwd_head = t;
    c->fwd_tail = t;
    pthread_cond_signal(&c->fwd_cond);
    return 0;
}

/* ---- 2. the sequencer's side ---- */

typedef struct {
    wb_service *svc;
    wb_ticket **batch;
    size_t cap, n;
    int rc;
} take_ctx;

static int take_row(void *vctx, const wb_sql_value *cols, size_t ncols)
{
    take_ctx *c = vctx;
    wb_ticket *t;
    if (ncols < 4 || cols[0].type != WB_SQL_INT || cols[1].type != WB_SQL_BLOB ||
        cols[1].len != 32 || cols[2].type != WB_SQL_BLOB || c->n >= c->cap)
        return 0;
    t = calloc(1, sizeof(*t));
    if (t)
        t->statement = malloc(cols[2].len ? cols[2].len : 1);
    if (!t || !t->statement) {
        free(t);
        c->rc = wb_error_set(WB_E_NOMEM, "out of memory");
        return 1;
    }
    memcpy(t->statement, cols[2].b, cols[2].len);
    t->len = cols[2].len;
    memcpy(t->id, cols[1].b, 32);
    t->seq = cols[0].i;
    t->own = cols[3].type == WB_SQL_INT ? (int)cols[3].i : 0;
    t->internal = 1;
    t->refs = 1;
    t->svc = c->svc;
    c->batch[c->n++] = t;
    return 0;
}

int scitt_cluster_take(wb_service *svc, wb_ticket **batch, size_t cap, size_t *n)
{
    take_ctx c = {svc, batch, cap, 0, 0};
    wb_sql_value a[1] = {WB_SQL_I(cap)};
    int rc = wb_store_sql(wb_log_store(svc->seq_log), "SELECT seq, id, statement, own FROM "
                          "wb_pending ORDER BY seq LIMIT $1", a, 1, take_row, &c);
    *n = c.n;
    if (c.rc)
        return c.rc;
    return rc < 0 ? rc : 0;
}

/* "{1,2,3}": a bigint[] literal of the tickets' seqs, for = ANY($1::bigint[]) */
static int seq_array(char **out, wb_ticket **t, size_t n, int refused_only)
{
    wb_buf b;
    uint8_t *text;
    size_t len;
    int first = 1, rc;
    wb_buf_init(&b, 16 + n * 21);
    wb_buf_add_str(&b, "{");
    for (size_t i = 0; i < n; i++) {
        if (refused_only && !(t[i]->rc && t[i]->rc != 1))
            continue;
        wb_buf_printf(&b, "%s%lld", first ? "" : ",", (long long)t[i]->seq);
        first = 0;
    }
    wb_buf_add_str(&b, "}");
    rc = wb_buf_finish(&b, &text, &len);
    if (rc == 0)
        *out = (char *)text;
    return rc;
}

int scitt_cluster_batch_hook(wb_service *svc, wb_store *store, wb_ticket **batch, size_t n)
{
    char *seqs = NULL;
    int rc;
    (void)svc;
    /* refusals are rare: one row each */
    for (size_t i = 0; i < n; i++) {
        wb_sql_value a[2] = {WB_SQL_I(batch[i]->seq), WB_SQL_S(batch[i]->err)};
        if (!(batch[i]->rc && batch[i]->rc != 1))
            continue;
        rc = wb_store_sql(store, "INSERT INTO wb_refused (seq, reason) VALUES ($1, $2) "
                                 "ON CONFLICT DO NOTHING", a, 2, NULL, NULL);
        if (rc < 0)
            return rc;
    }
    /* exactly the rows taken: a row with a smaller seq may commit later */
    rc = seq_array(&seqs, batch, n, 0);
    if (rc == 0) {
        wb_sql_value a[1] = {WB_SQL_S(seqs)};
        rc = wb_store_sql(store, "DELETE FROM wb_pending WHERE seq = ANY($1::bigint[])", a,
                          1, NULL, NULL);
        rc = rc < 0 ? rc : 0;
    }
    free(seqs);
    return rc;
}

/* ---- 3. completing this node's requests ---- */

typedef struct {
    wb_ticket **t;
    size_t n;
} found_ctx;

/* an entry id of the range: the waiting tickets with that id get its index */
static int range_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    found_ctx *c = vctx;
    if (n < 2 || cols[0].type != WB_SQL_BLOB || cols[0].len != 32 || cols[1].type != WB_SQL_INT)
        return 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->t[i]->index == UINT64_MAX && memcmp(c->t[i]->id, cols[0].b, 32) == 0)
            c->t[i]->index = (uint64_t)cols[1].i;
    return 0;
}

static int refused_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    found_ctx *c = vctx;
    if (n < 2 || cols[0].type != WB_SQL_INT || cols[1].type != WB_SQL_TEXT)
        return 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->t[i]->seq == cols[0].i && c->t[i]->index == UINT64_MAX && !c->t[i]->rc) {
            c->t[i]->rc = WB_E_INVALID;
            snprintf(c->t[i]->err, sizeof(c->t[i]->err), "%s", cols[1].s);
        }
    return 0;
}

/*
 * One pass over the waiting tickets, in a few queries however many wait:
 * the tree size S; the entry ids of [lo, S) where lo is the lowest index
 * any of them could still have (its floor, or where the last pass stopped
 * for it); the refusals among their seqs. A ticket whose statement was
 * already in the log long before (a duplicate) is not in any such range:
 * after a while it is looked up by its id.
 */
static int complete_pass(wb_log *log, wb_ticket **t, size_t n)
{
    wb_store *s = wb_log_store(log);
    uint64_t size = 0, lo = UINT64_MAX;
    found_ctx c = {t, n};
    uint8_t *sig = NULL;
    size_t siglen = 0;
    char *seqs = NULL;
    int rc = wb_log_head(log, &size, NULL, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        uint64_t from = t[i]->checked > t[i]->floor ? t[i]->checked : t[i]->floor;
        t[i]->index = UINT64_MAX;
        lo = from < lo ? from : lo;
    }
    if (rc == 0 && lo < size) {
        wb_sql_value a[2] = {WB_SQL_I(lo), WB_SQL_I(size)};
        rc = wb_store_sql(s, "SELECT id, idx FROM wb_entry_id WHERE idx >= $1 AND idx < $2",
                          a, 2, range_row, &c);
        rc = rc < 0 ? rc : 0;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (t[i]->index != UINT64_MAX || t[i]->polls++ < 40 || t[i]->polls % 20 != 0)
            continue;
        if (wb_store_get_entry_id(s, t[i]->id, &t[i]->index) != 0)
            t[i]->index = UINT64_MAX;
    }
    if (rc == 0)
        rc = seq_array(&seqs, t, n, 0);
    if (rc == 0) {
        wb_sql_value a[1] = {WB_SQL_S(seqs)};
        rc = wb_store_sql(s, "SELECT seq, reason FROM wb_refused WHERE seq = ANY($1::bigint[])",
                          a, 1, refused_row, &c);
        rc = rc < 0 ? rc : 0;
    }
    free(seqs);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (t[i]->index == UINT64_MAX || t[i]->index >= size) {
            t[i]->checked = size;
            continue;
        }
        if (!sig && (rc = scitt_receipt_sig(log, size, &sig, &siglen)) != 0)
            break;
        t[i]->rc = scitt_build_receipt_with(log, t[i]->index, size, sig, siglen, &t[i]->receipt,
                                            &t[i]->receipt_len);
        if (t[i]->rc)
            snprintf(t[i]->err, sizeof(t[i]->err), "%s", wb_error_message());
    }
    free(sig);
    return rc;
}

static void *completer_main(void *arg)
{
    wb_service *svc = arg;
    scitt_cluster *c = svc->cluster;
    wb_ticket **arr = NULL;
    size_t cap = 0;
    while (!stopping(svc)) {
        wb_log *log;
        wb_ticket *list, *keep = NULL, *done = NULL;
        size_t n = 0;
        int rc;
        sleep_ms(COMPLETER_POLL_MS);
        pthread_mutex_lock(&svc->mu);
        list = c->waiting;
        c->waiting = NULL;
        pthread_mutex_unlock(&svc->mu);
        if (!list)
            continue;
        for (wb_ticket *t = list; t; t = t->next)
            n++;
        if (n > cap) {
            wb_ticket **grown = realloc(arr, n * sizeof(*arr));
            if (!grown) {
                pthread_mutex_lock(&svc->mu);
                wb_ticket *last = list;
                while (last->next)
                    last = last->next;
                last->next = c->waiting;
                c->waiting = list;
                pthread_mutex_unlock(&svc->mu);
                continue;
            }
            arr = grown;
            cap = n;
        }
        n = 0;
        for (wb_ticket *t = list; t; t = t->next)
            arr[n++] = t;
        rc = scitt_thread_log(svc, &log);
        if (rc == 0)
            rc = complete_pass(log, arr, n);
        for (size_t i = 0; i < n; i++) {
            wb_ticket *t = arr[i];
            int finished = rc == 0 && (t->rc || t->receipt);
            if (finished) {
                t->next = done;
                done = t;
            } else {
                t->next = keep;
                keep = t;
            }
        }
        pthread_mutex_lock(&svc->mu);
        if (keep) {
            wb_ticket *last = keep;
            while (last->next)
                last = last->next;
            last->next = c->waiting;
            c->waiting = keep;
        }
        pthread_mutex_unlock(&svc->mu);
        for (wb_ticket *t = done, *next; t; t = next) {
            next = t->next;
            t->next = NULL;
            scitt_ticket_complete(svc, t);
        }
        if (rc) {
            wb_log *old = pthread_getspecific(svc->tls_log);
            if (old) {
                pthread_setspecific(svc->tls_log, NULL);
                wb_log_close(old);
            }
        }
    }
    free(arr);
    return NULL;
}

/* ---- life cycle ---- */

int scitt_cluster_start(wb_service *svc)
{
    scitt_cluster *c = calloc(1, sizeof(*c));
    int rc;
    if (!c)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    pthread_cond_init(&c->fwd_cond, NULL);
    svc->cluster = c;
    rc = wb_store_sql_script(wb_log_store(svc->seq_log), cluster_schema);
    if (rc)
        return wb_error_prefix(rc, "cluster tables");
    if (pthread_create(&c->leader_thread, NULL, leader_main, svc) == 0)
        c->leader_started = 1;
    if (pthread_create(&c->forwarder_thread, NULL, forwarder_main, svc) == 0)
        c->forwarder_started = 1;
    if (pthread_create(&c->completer_thread, NULL, completer_main, svc) == 0)
        c->completer_started = 1;
    if (!c->leader_started || !c->forwarder_started || !c->completer_started)
        return wb_error_set(WB_E_INTERNAL, "cannot start the cluster threads");
    return 0;
}

/* svc->stopping is set; the sequencer thread has stopped */
void scitt_cluster_stop(wb_service *svc)
{
    scitt_cluster *c = svc->cluster;
    wb_ticket *rest;
    if (!c)
        return;
    pthread_mutex_lock(&svc->mu);
    pthread_cond_broadcast(&c->fwd_cond);
    pthread_mutex_unlock(&svc->mu);
    if (c->forwarder_started)
        pthread_join(c->forwarder_thread, NULL);
    if (c->completer_started)
        pthread_join(c->completer_thread, NULL);
    if (c->leader_started)
        pthread_join(c->leader_thread, NULL);
    /* requests still waiting: their statements are durable in wb_pending and
     * will be sequenced; this node cannot answer them any more */
    pthread_mutex_lock(&svc->mu);
    rest = c->waiting;
    c->waiting = NULL;
    pthread_mutex_unlock(&svc->mu);
    for (wb_ticket *t = rest, *next; t; t = next) {
        next = t->next;
        t->next = NULL;
        t->rc = WB_E_INTERNAL;
        snprintf(t->err, sizeof(t->err), "the node is shutting down; the statement is queued "
                 "and will be registered: poll its entry");
        scitt_ticket_complete(svc, t);
    }
    pthread_cond_destroy(&c->fwd_cond);
    free(c);
    svc->cluster = NULL;
}

uint64_t scitt_cluster_takeovers(const wb_service *svc)
{
    return svc->cluster ? svc->cluster->takeovers : 0;
}
