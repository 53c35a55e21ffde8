/*
 * sequencer.c: the queue and the group commit of the transparency service
 * (DESIGN.md "Write path").
 *
 * HTTP threads queue checked statements as tickets. One sequencer thread
 * takes up to batch_max of them, or whatever arrived batch_interval_ms after
 * the first, and:
 *   1. resolves duplicates: a statement already in the log (same entry id)
 *      or twice in the batch gets the existing entry, never a second leaf;
 *   2. appends the new ones in one transaction (wb_log_append_hooked) whose
 *      hook records their entry ids and signs the receipt signature of the
 *      new tree size, so one fsync, one checkpoint signature and one receipt
 *      signature cover the whole batch;
 *   3. builds each ticket's receipt (consecutive proofs, served from the
 *      tile cache) and completes the tickets; waiters wake up.
 * A ticket is answered only after step 2 committed: nothing acknowledged is
 * ever lost. If the commit fails, every ticket of the batch fails with the
 * reason and nothing of the batch is in the log.
 */
#include "scitt_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "waybill/error.h"
#include "waybill/util.h"

static size_t bucket_of(const uint8_t id[32])
{
    return ((size_t)id[0] | (size_t)id[1] << 8) % INFLIGHT_BUCKETS;
}

wb_ticket *scitt_inflight_find(wb_service *svc, const uint8_t id[32])
{
    for (wb_ticket *t = svc->inflight[bucket_of(id)]; t; t = t->hnext)
        if (memcmp(t->id, id, 32) == 0)
            return t;
    return NULL;
}

static void inflight_remove(wb_service *svc, wb_ticket *t)
{
    wb_ticket **pp = &svc->inflight[bucket_of(t->id)];
    while (*pp && *pp != t)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = t->hnext;
    t->hnext = NULL;
}

/* the queue's and the caller's references; either may drop last */
static void ticket_unref(wb_ticket *t)
{
    if (__atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    free(t->statement);
    free(t->receipt);
    free(t);
}

void wb_ticket_release(wb_ticket *t)
{
    if (t)
        ticket_unref(t);
}

int wb_service_submit(wb_service *svc, wb_ticket **out, wb_registration *r,
                      wb_ticket_fn done, void *done_ctx)
{
    return scitt_submit(svc, out, r, done, done_ctx, 0);
}

int scitt_submit(wb_service *svc, wb_ticket **out, wb_registration *r, wb_ticket_fn done,
                 void *done_ctx, int own)
{
    wb_ticket *t = calloc(1, sizeof(*t));
    if (!t)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    pthread_mutex_lock(&svc->mu);
    if (svc->stopping) {
        pthread_mutex_unlock(&svc->mu);
        free(t);
        return wb_error_set(WB_E_INTERNAL, "the service is shutting down");
    }
    if (svc->queued >= svc->cfg.queue_max && !own) {
        svc->stats.queue_full++;
        pthread_mutex_unlock(&svc->mu);
        free(t);
        return wb_error_set(WB_E_LIMIT, "the registration queue is full (%zu statements "
                            "waiting); retry later", svc->cfg.queue_max);
    }
    t->statement = r->statement;
    t->len = r->len;
    memcpy(t->id, r->id, 32);
    r->statement = NULL;
    r->len = 0;
    clock_gettime(CLOCK_MONOTONIC, &t->queued_at);
    t->refs = 2; /* the caller's and the queue's */
    t->svc = svc;
    t->fn = done;
    t->fn_ctx = done_ctx;
    t->own = own;
    svc->queued++;
    if (svc->cluster) {
        /* cluster mode: into wb_pending, answered when the sequencer (any
           node) has integrated it (cluster.c) */
        t->hnext = svc->inflight[bucket_of(t->id)];
        svc->inflight[bucket_of(t->id)] = t;
        scitt_cluster_submit(svc, t);
        pthread_mutex_unlock(&svc->mu);
        *out = t;
        return 0;
    }
    if (svc->tail)
        svc->tail->next = t;
    else
        svc->head = t;
    svc->tail = t;
    t->hnext = svc->inflight[bucket_of(t->id)];
    svc->inflight[bucket_of(t->id)] = t;
    pthread_cond_signal(&svc->work);
    pthread_mutex_unlock(&svc->mu);
    *out = t;
    return 0;
}

void scitt_ticket_complete(wb_service *svc, wb_ticket *t)
{
    pthread_mutex_lock(&svc->mu);
    inflight_remove(svc, t);
    if (svc->cluster && !t->internal && svc->queued > 0)
        svc->queued--;
    __atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&svc->done);
    pthread_mutex_unlock(&svc->mu);
    if (t->fn)
        t->fn(t->fn_ctx, t);
    ticket_unref(t);
}

/* from + ms */
static void add_ms(struct timespec *ts, const struct timespec *from, unsigned ms)
{
    *ts = *from;
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void deadline_after(struct timespec *ts, unsigned ms)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    add_ms(ts, &now, ms);
}

int wb_ticket_wait(wb_ticket *t, unsigned timeout_ms)
{
    wb_service *svc = t->svc;
    struct timespec deadline;
    int done;
    deadline_after(&deadline, timeout_ms);
    pthread_mutex_lock(&svc->mu);
    while (!(done = wb_ticket_done(t)))
        if (pthread_cond_timedwait(&svc->done, &svc->mu, &deadline) == ETIMEDOUT) {
            done = wb_ticket_done(t);
            break;
        }
    pthread_mutex_unlock(&svc->mu);
    return done;
}

int wb_ticket_done(wb_ticket *t)
{
    return __atomic_load_n(&t->done, __ATOMIC_ACQUIRE);
}

int wb_ticket_result(wb_ticket *t, uint8_t **receipt, size_t *receipt_len,
                     uint64_t *index)
{
    if (!wb_ticket_done(t))
        return wb_error_set(WB_E_INTERNAL, "ticket is still pending");
    if (t->rc)
        return wb_error_set(t->rc, "%s", t->err);
    if (receipt) {
        *receipt = malloc(t->receipt_len);
        if (!*receipt)
            return wb_error_set(WB_E_NOMEM, "out of memory");
        memcpy(*receipt, t->receipt, t->receipt_len);
        *receipt_len = t->receipt_len;
    }
    if (index)
        *index = t->index;
    return 0;
}

const uint8_t *wb_ticket_id(const wb_ticket *t)
{
    return t->id;
}

/* ---- the sequencer thread ---- */

typedef struct {
    wb_service *svc;
    wb_ticket **fresh; /* the tickets that may become new entries, in order */
    size_t nfresh;
    uint8_t *admitted; /* per fresh ticket, filled by the log during the append */
    wb_ticket **batch; /* every ticket of the batch (cluster: the pending rows) */
    size_t n;
    int ran;           /* the commit hook ran */
} hook_ctx;

/* the admission hook of the layer above, per fresh statement */
static int batch_admit(void *vctx, wb_store *store, size_t i, uint64_t index)
{
    hook_ctx *h = vctx;
    wb_ticket *t = h->fresh[i];
    int v = h->svc->cfg.hooks.admit(h->svc->cfg.hooks.ctx, store, index, t->statement, t->len);
    if (v > 0) {
        t->rc = WB_E_INVALID;
        snprintf(t->err, sizeof(t->err), "%s", wb_error_message());
    }
    return v;
}

static int batch_hook(void *vctx, wb_store *store, uint64_t first, uint64_t new_size,
                      const uint8_t root[32])
{
    hook_ctx *h = vctx;
    uint64_t idx = first;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < h->nfresh; i++)
        if (h->admitted[i])
            rc = wb_store_put_entry_id(store, h->fresh[i]->id, idx++);
    if (rc == 0)
        rc = scitt_store_receipt_sig(h->svc, store, new_size, root);
    if (rc == 0 && h->svc->cluster)
        rc = scitt_cluster_batch_hook(h->svc, store, h->batch, h->n);
    h->ran = 1;
    return rc;
}

/* cluster: a batch that appended nothing still consumes its pending rows */
static int cluster_consume(wb_service *svc, wb_ticket **batch, size_t n)
{
    wb_store *store = wb_log_store(svc->seq_log);
    int rc = wb_store_begin(store);
    if (rc == 0)
        rc = scitt_cluster_batch_hook(svc, store, batch, n);
    if (rc == 0)
        rc = wb_store_commit(store);
    else
        wb_store_rollback(store);
    return rc;
}

static int hist_bucket(size_t n)
{
    int b = 0;
    size_t lim = 1;
    while (b < 7 && n > lim) {
        lim *= 10;
        b++;
    }
    return b;
}

/* integrates one batch; every ticket gets index/rc */
static void run_batch(wb_service *svc, wb_ticket **batch, size_t n)
{
    wb_log *log = svc->seq_log;
    wb_store *store = wb_log_store(log);
    wb_ticket **fresh = calloc(n, sizeof(*fresh));
    wb_entry *entries = calloc(n, sizeof(*entries));
    uint8_t *admitted = calloc(n ? n : 1, 1);
    size_t nfresh = 0, dups = 0, nadmitted = 0;
    uint64_t first = 0, size = 0;
    int rc = (!fresh || !entries || !admitted) ? wb_error_set(WB_E_NOMEM, "out of memory") : 0;

    /* duplicates: already in the log, or earlier in this batch */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        wb_ticket *t = batch[i];
        uint64_t idx;
        int found = wb_store_get_entry_id(store, t->id, &idx);
        if (found == 0) {
            t->index = idx;
            dups++;
            continue;
        }
        if (found != WB_E_NOTFOUND) {
            rc = found;
            break;
        }
        t->index = UINT64_MAX;
        for (size_t k = 0; k < nfresh; k++)
            if (memcmp(fresh[k]->id, t->id, 32) == 0) {
                t->index = k; /* fixed up after the append */
                t->rc = 1;    /* marks "same as fresh[k]" */
                dups++;
                break;
            }
        if (t->index == UINT64_MAX) {
            entries[nfresh].data = t->statement;
            entries[nfresh].len = t->len;
            fresh[nfresh++] = t;
        }
    }
    if (svc->cfg.hooks.batch_begin)
        svc->cfg.hooks.batch_begin(svc->cfg.hooks.ctx);
    if (rc == 0 && nfresh > 0) {
        hook_ctx h = {svc, fresh, nfresh, admitted, batch, n, 0};
        wb_log_hooks hooks = {svc->cfg.hooks.admit ? batch_admit : NULL, batch_hook, &h,
                              admitted, 0};
        rc = wb_log_append_hooked(log, entries, nfresh, &first, &hooks);
        nadmitted = hooks.nadmitted;
        if (rc == 0 && svc->cluster && !h.ran)
            rc = cluster_consume(svc, batch, n);
    } else if (rc == 0 && svc->cluster) {
        rc = cluster_consume(svc, batch, n);
    }
    if (rc == 0)
        rc = wb_log_head(log, &size, NULL, NULL, NULL);
    if (rc == 0) {
        uint64_t idx = first;
        for (size_t k = 0; k < nfresh; k++)
            fresh[k]->index = admitted[k] ? idx++ : UINT64_MAX;
        for (size_t i = 0; i < n; i++)
            if (batch[i]->rc == 1) { /* a duplicate of fresh[index] in this batch */
                wb_ticket *orig = fresh[batch[i]->index];
                batch[i]->index = orig->index;
                batch[i]->rc = orig->rc;
                snprintf(batch[i]->err, sizeof(batch[i]->err), "%s", orig->err);
            }
        for (size_t i = 0; i < n; i++) {
            wb_ticket *t = batch[i];
            if (t->rc || t->index == UINT64_MAX) {
                if (!t->rc)
                    t->rc = WB_E_INVALID;
                continue; /* refused at admission: never entered the log */
            }
            if (t->internal)
                continue; /* its node builds the receipt (cluster.c) */
            t->rc = scitt_build_receipt(log, t->index, size, &t->receipt, &t->receipt_len);
            if (t->rc)
                snprintf(t->err, sizeof(t->err), "%s", wb_error_message());
        }
    } else {
        char msg[256];
        snprintf(msg, sizeof(msg), "commit failed: %s", wb_error_message());
        fprintf(stderr, "level=error msg=\"batch failed\" entries=%zu err=\"%s\"\n", n, msg);
        for (size_t i = 0; i < n; i++) {
            batch[i]->rc = rc;
            snprintf(batch[i]->err, sizeof(batch[i]->err), "%s", msg);
        }
    }
    /* the layer above queues what the batch raised (findings) before the
     * batch's submitters hear back, so whatever a submitter sends next is
     * sequenced after those */
    if (svc->cfg.hooks.batch_end)
        svc->cfg.hooks.batch_end(svc->cfg.hooks.ctx, svc, store, rc == 0);
    pthread_mutex_lock(&svc->mu);
    if (rc == 0) {
        svc->stats.registered += nadmitted;
        svc->stats.refused_at_sequencing += nfresh - nadmitted;
        svc->stats.duplicates += dups;
        svc->stats.batches++;
        svc->stats.batch_entries_hist[hist_bucket(n)]++;
        svc->stats.tree_size = size;
    } else {
        svc->stats.commit_failures++;
    }
    for (size_t i = 0; i < n; i++) {
        inflight_remove(svc, batch[i]);
        __atomic_store_n(&batch[i]->done, 1, __ATOMIC_RELEASE);
    }
    pthread_cond_broadcast(&svc->done);
    pthread_mutex_unlock(&svc->mu);
    /* completion callbacks run without the lock (they may resume I/O) */
    for (size_t i = 0; i < n; i++)
        if (batch[i]->fn)
            batch[i]->fn(batch[i]->fn_ctx, batch[i]);
    for (size_t i = 0; i < n; i++)
        ticket_unref(batch[i]);
    free(fresh);
    free(entries);
    free(admitted);
}

/*
 * cluster mode: while this node holds the lock, whatever is pending in the
 * database forms the next batch; a batch closes at batch_max or when the
 * rows run out, polled every few milliseconds
 */
static void cluster_loop(wb_service *svc, wb_ticket **batch, size_t cap)
{
    struct timespec last_idle = {0, 0};
    unsigned poll_ms = svc->cfg.batch_interval_ms < 5 ? svc->cfg.batch_interval_ms : 5;
    if (poll_ms == 0)
        poll_ms = 1;
    for (;;) {
        struct timespec now, until;
        size_t n = 0;
        int rc;
        pthread_mutex_lock(&svc->mu);
        if (svc->stopping) {
            pthread_mutex_unlock(&svc->mu);
            break;
        }
        if (!scitt_cluster_is_leader(svc)) {
            deadline_after(&until, 100);
            pthread_cond_timedwait(&svc->work, &svc->mu, &until);
            pthread_mutex_unlock(&svc->mu);
            continue;
        }
        pthread_mutex_unlock(&svc->mu);
        rc = scitt_cluster_take(svc, batch, cap, &n);
        if (rc) {
            fprintf(stderr, "level=error msg=\"sequencer: reading wb_pending failed\" "
                            "err=\"%s\"\n", wb_error_message());
            usleep(100 * 1000);
            continue;
        }
        if (n > 0) {
            run_batch(svc, batch, n);
            continue;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (svc->cfg.hooks.idle && now.tv_sec > last_idle.tv_sec) {
            last_idle = now;
            svc->cfg.hooks.idle(svc->cfg.hooks.ctx, svc, wb_log_store(svc->seq_log));
        }
        usleep(poll_ms * 1000u);
    }
}

static void *sequencer_main(void *arg)
{
    wb_service *svc = arg;
    size_t cap = svc->cfg.batch_max;
    wb_ticket **batch = calloc(cap, sizeof(*batch));
    unsigned since_checkpoint = 0;
    if (!batch) {
        fprintf(stderr, "level=error msg=\"sequencer: out of memory\"\n");
        return NULL;
    }
    if (svc->cluster) {
        cluster_loop(svc, batch, cap);
        free(batch);
        return NULL;
    }
    pthread_mutex_lock(&svc->mu);
    for (;;) {
        struct timespec deadline;
        size_t n = 0;
        while (!svc->head && !svc->stopping) {
            if (svc->cfg.hooks.idle) {
                /* wake once a second to let the layer above run its timers */
                struct timespec tick;
                deadline_after(&tick, 1000);
                if (pthread_cond_timedwait(&svc->work, &svc->mu, &tick) == ETIMEDOUT &&
                    !svc->head && !svc->stopping) {
                    pthread_mutex_unlock(&svc->mu);
                    svc->cfg.hooks.idle(svc->cfg.hooks.ctx, svc, wb_log_store(svc->seq_log));
                    pthread_mutex_lock(&svc->mu);
                }
            } else {
                pthread_cond_wait(&svc->work, &svc->mu);
            }
        }
        if (!svc->head && svc->stopping)
            break;
        /*
         * group commit: wait for a full batch or the interval, whichever
         * first. The interval counts from when the oldest statement was
         * queued, not from now: statements that arrived while the previous
         * batch was committing have already waited that long.
         */
        add_ms(&deadline, &svc->head->queued_at, svc->cfg.batch_interval_ms);
        while (svc->queued < cap && !svc->stopping) {
            if (pthread_cond_timedwait(&svc->work, &svc->mu, &deadline) == ETIMEDOUT)
                break;
        }
        while (svc->head && n < cap) {
            wb_ticket *t = svc->head;
            svc->head = t->next;
            if (!svc->head)
                svc->tail = NULL;
            t->next = NULL;
            svc->queued--;
            batch[n++] = t;
        }
        pthread_mutex_unlock(&svc->mu);
        run_batch(svc, batch, n);
        /* the WAL checkpoint runs here, after the batch was answered, not
         * inside a commit that clients wait for: at once when idle, and
         * every 16 batches under load so the WAL stays small */
        if (++since_checkpoint >= 16 || !__atomic_load_n(&svc->head, __ATOMIC_RELAXED)) {
            if (wb_store_maintain(wb_log_store(svc->seq_log)) != 0)
                fprintf(stderr, "level=warn msg=\"WAL checkpoint failed\" err=\"%s\"\n",
                        wb_error_message());
            since_checkpoint = 0;
        }
        pthread_mutex_lock(&svc->mu);
    }
    pthread_mutex_unlock(&svc->mu);
    free(batch);
    return NULL;
}

int scitt_sequencer_start(wb_service *svc)
{
    pthread_condattr_t attr;
    /* the work condition is waited on with CLOCK_MONOTONIC deadlines */
    pthread_cond_destroy(&svc->work);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&svc->work, &attr);
    pthread_cond_destroy(&svc->done);
    pthread_cond_init(&svc->done, &attr);
    pthread_condattr_destroy(&attr);
    if (svc->cfg.database) {
        int rc = scitt_cluster_start(svc);
        if (rc)
            return rc;
    }
    if (pthread_create(&svc->thread, NULL, sequencer_main, svc) != 0)
        return wb_error_set(WB_E_INTERNAL, "cannot start the sequencer thread");
    svc->thread_started = 1;
    return 0;
}

void scitt_sequencer_stop(wb_service *svc)
{
    pthread_mutex_lock(&svc->mu);
    svc->stopping = 1;
    pthread_cond_broadcast(&svc->work);
    pthread_mutex_unlock(&svc->mu);
    if (svc->thread_started)
        pthread_join(svc->thread, NULL);
    svc->thread_started = 0;
    scitt_cluster_stop(svc);
}

