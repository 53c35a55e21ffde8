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
#define LEADER_POLL_MS 250
#define COMPLETER_POLL_MS 5

static const char cluster_schema[] =
    "CREATE TABLE IF NOT EXISTS wb_pending (seq BIGSERIAL PRIMARY KEY, id BYTEA NOT NULL,"
    " statement BYTEA NOT NULL, node TEXT NOT NULL, own INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS wb_refused (seq BIGINT PRIMARY KEY, reason TEXT NOT NULL);";

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

typedef struct {
    int64_t seq;
} seq_row;

static int seq_of(void *vctx, const wb_sql_value *cols, size_t n)
{
    return int_row(vctx, cols, n);
}

/* writes tickets (a list) into wb_pending in one transaction */
static int forward(wb_service *svc, wb_store *s, wb_ticket *list)
{
    char node[64];
    int rc = wb_store_begin(s);
    snprintf(node, sizeof(node), "%d", (int)getpid());
    for (wb_ticket *t = list; rc == 0 && t; t = t->next) {
        wb_sql_value a[4] = {WB_SQL_B(t->id, 32), WB_SQL_B(t->statement, t->len),
                             WB_SQL_S(node), WB_SQL_I(t->own)};
        int64_t seq = -1;
        rc = wb_store_sql(s, "INSERT INTO wb_pending (id, statement, node, own) VALUES "
                             "($1, $2, $3, $4) RETURNING seq", a, 4, seq_of, &seq);
        rc = rc < 0 ? rc : 0;
        if (rc == 0 && seq < 0)
            rc = wb_error_set(WB_E_STORE, "wb_pending gave no sequence number");
        t->seq = seq;
    }
    if (rc == 0)
        rc = wb_store_commit(s);
    else
        wb_store_rollback(s);
    (void)svc;
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

int scitt_cluster_batch_hook(wb_service *svc, wb_store *store, wb_ticket **batch, size_t n)
{
    int rc = 0;
    (void)svc;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        wb_sql_value a[2] = {WB_SQL_I(batch[i]->seq), WB_SQL_S(batch[i]->err)};
        if (batch[i]->rc && batch[i]->rc != 1) {
            rc = wb_store_sql(store, "INSERT INTO wb_refused (seq, reason) VALUES ($1, $2) "
                                     "ON CONFLICT DO NOTHING", a, 2, NULL, NULL);
            rc = rc < 0 ? rc : 0;
        }
        if (rc == 0) {
            rc = wb_store_sql(store, "DELETE FROM wb_pending WHERE seq = $1", a, 1, NULL,
                              NULL);
            rc = rc < 0 ? rc : 0;
        }
    }
    return rc;
}

/* ---- 3. completing this node's requests ---- */

typedef struct {
    int found;
    char reason[256];
} refused_ctx;

static int refused_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    refused_ctx *c = vctx;
    if (n >= 1 && cols[0].type == WB_SQL_TEXT) {
        c->found = 1;
        snprintf(c->reason, sizeof(c->reason), "%s", cols[0].s);
    }
    return 0;
}

/* 1: done (t->rc / receipt set), 0: still waiting, < 0: error */
static int try_complete(wb_log *log, wb_ticket *t, uint64_t size)
{
    uint64_t idx;
    int rc = wb_store_get_entry_id(wb_log_store(log), t->id, &idx);
    if (rc == 0 && idx < size) {
        t->index = idx;
        t->rc = scitt_build_receipt(log, idx, size, &t->receipt, &t->receipt_len);
        if (t->rc)
            snprintf(t->err, sizeof(t->err), "%s", wb_error_message());
        return 1;
    }
    if (rc == 0 || rc == WB_E_NOTFOUND) {
        refused_ctx c = {0, ""};
        wb_sql_value a[1] = {WB_SQL_I(t->seq)};
        rc = wb_store_sql(wb_log_store(log), "SELECT reason FROM wb_refused WHERE seq = $1",
                          a, 1, refused_row, &c);
        if (rc < 0)
            return rc;
        if (c.found) {
            t->rc = WB_E_INVALID;
            snprintf(t->err, sizeof(t->err), "%s", c.reason);
            return 1;
        }
        return 0;
    }
    return rc;
}

static void *completer_main(void *arg)
{
    wb_service *svc = arg;
    scitt_cluster *c = svc->cluster;
    uint64_t seen = UINT64_MAX;
    while (!stopping(svc)) {
        wb_log *log;
        wb_ticket *list, *keep = NULL, *done = NULL;
        uint64_t size = 0;
        int rc;
        sleep_ms(COMPLETER_POLL_MS);
        pthread_mutex_lock(&svc->mu);
        list = c->waiting;
        c->waiting = NULL;
        pthread_mutex_unlock(&svc->mu);
        if (!list)
            continue;
        rc = scitt_thread_log(svc, &log);
        if (rc == 0)
            rc = wb_log_head(log, &size, NULL, NULL, NULL);
        for (wb_ticket *t = list, *next; t; t = next) {
            int r = 0;
            next = t->next;
            /* a refusal needs no new tree: look every time the size moved,
               and every 40 polls otherwise */
            if (rc == 0 && (size != seen || (t->polls++ % 40) == 0))
                r = try_complete(log, t, size);
            if (r == 1) {
                t->next = done;
                done = t;
            } else {
                t->next = keep;
                keep = t;
            }
        }
        if (rc == 0)
            seen = size;
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
