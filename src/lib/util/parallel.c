/*
 * parallel.c: a parallel for (wb_parallel_for in util.h): fn(ctx, i) for
 * every i in [0, n) on a few threads that take the next index from an
 * atomic counter; the calling thread waits, reporting progress every
 * 200 ms. The first failure stops the others from taking new work, and its
 * code and message are the result.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "waybill/error.h"
#include "waybill/util.h"

typedef struct {
    int (*fn)(void *ctx, size_t i);
    void *ctx;
    size_t n;
    atomic_size_t next;
    atomic_size_t done;
    atomic_int failed;
    int rc;                   /* the first failure, under mu */
    char err[1024];
    size_t err_index;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned running;
} pfor;

static void *pfor_main(void *arg)
{
    pfor *p = arg;
    for (;;) {
        size_t i;
        int rc;
        if (atomic_load(&p->failed))
            break;
        i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n)
            break;
        rc = p->fn(p->ctx, i);
        if (rc) {
            pthread_mutex_lock(&p->mu);
            if (!atomic_load(&p->failed)) {
                p->rc = rc;
                p->err_index = i;
                snprintf(p->err, sizeof(p->err), "%s", wb_error_message());
                atomic_store(&p->failed, 1);
            }
            pthread_mutex_unlock(&p->mu);
            break;
        }
        atomic_fetch_add(&p->done, 1);
    }
    pthread_mutex_lock(&p->mu);
    p->running--;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int wb_parallel_for(unsigned threads, size_t n, int (*fn)(void *ctx, size_t i), void *ctx,
                    void (*progress)(void *pctx, size_t done, size_t total), void *pctx)
{
    pfor p;
    pthread_t *tids;
    unsigned started = 0;
    if (n == 0)
        return 0;
    if (threads == 0)
        threads = 1;
    if (threads > n)
        threads = (unsigned)n;
    memset(&p, 0, sizeof(p));
    p.fn = fn;
    p.ctx = ctx;
    p.n = n;
    atomic_init(&p.next, 0);
    atomic_init(&p.done, 0);
    atomic_init(&p.failed, 0);
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    tids = calloc(threads, sizeof(*tids));
    if (!tids)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    pthread_mutex_lock(&p.mu);
    for (unsigned t = 0; t < threads; t++) {
        if (pthread_create(&tids[t], NULL, pfor_main, &p) != 0)
            break;
        started++;
        p.running++;
    }
    if (started == 0) {
        pthread_mutex_unlock(&p.mu);
        free(tids);
        return wb_error_set(WB_E_INTERNAL, "cannot start a thread");
    }
    while (p.running > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&p.cv, &p.mu, &ts);
        if (progress) {
            size_t done = atomic_load(&p.done);
            pthread_mutex_unlock(&p.mu);
            progress(pctx, done, n);
            pthread_mutex_lock(&p.mu);
        }
    }
    pthread_mutex_unlock(&p.mu);
    for (unsigned t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    free(tids);
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv);
    if (atomic_load(&p.failed))
        return wb_error_set(p.rc, "%s", p.err);
    if (progress)
        progress(pctx, n, n);
    return 0;
}
