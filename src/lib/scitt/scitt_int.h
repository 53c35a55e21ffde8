/*
 * scitt_int.h: the transparency service's internals, shared by its files
 * (service.c: life cycle, keys and reads; check.c: validation;
 * sequencer.c: queue and group commit).
 */
#ifndef WAYBILL_SCITT_INT_H
#define WAYBILL_SCITT_INT_H

#include <pthread.h>
#include <time.h>

#include "waybill/log.h"
#include "waybill/scitt.h"

/* a queued statement and, once its batch commits, its result */
struct wb_ticket {
    uint8_t *statement;
    size_t len;
    uint8_t id[32];
    int refs;                 /* guarded by the service mutex */
    int done;                 /* guarded by the service mutex */
    int rc;                   /* 0 or the error of the batch */
    char err[256];
    uint64_t index;
    uint8_t *receipt;
    size_t receipt_len;
    wb_ticket_fn fn;
    void *fn_ctx;
    struct timespec queued_at; /* CLOCK_MONOTONIC; a batch closes interval_ms after
                                * its first statement was queued */
    struct wb_ticket *next;   /* queue link */
    struct wb_ticket *hnext;  /* in-flight table link */
    struct wb_service *svc;
    /* cluster mode (cluster.c) */
    int64_t seq;              /* its row in wb_pending */
    uint64_t floor;           /* its index will be at least this (cluster.c) */
    uint64_t checked;         /* entries below this were searched for it */
    int own;                  /* the service's own statement (findings) */
    int internal;             /* taken from wb_pending by the sequencer: nobody
                                 waits on it here */
    unsigned polls;
};

typedef struct scitt_cluster scitt_cluster;

#define INFLIGHT_BUCKETS 4096

struct wb_service {
    wb_service_config cfg;    /* deep copy */
    wb_key *receipt_key;
    wb_cose_signer signer;
    uint8_t kid[32];
    wb_x509_anchors *anchors;          /* global anchors, NULL if none */
    wb_x509_anchors **issuer_anchors;  /* per issuer (NULL entries) */
    pthread_mutex_t dev_mu;            /* guards dev_issuers (reloaded live) */
    wb_issuer *dev_issuers;            /* dev mode: the .pem keys in DIR/issuers */
    size_t ndev_issuers;
    pthread_key_t tls_log;             /* per-thread read handle */
    wb_log *seq_log;                   /* the sequencer's own handle */

    pthread_mutex_t mu;
    pthread_cond_t work;      /* sequencer: something queued or stopping */
    pthread_cond_t done;      /* waiters: a batch completed */
    wb_ticket *head, *tail;
    size_t queued;
    wb_ticket *inflight[INFLIGHT_BUCKETS];
    int stopping;
    pthread_t thread;
    int thread_started;
    wb_service_stats stats;   /* guarded by mu */
    scitt_cluster *cluster;   /* several nodes over PostgreSQL, or NULL */
};

/* the calling thread's read handle of the log */
int scitt_thread_log(wb_service *svc, wb_log **out);
/* the receipt for index against tree size (its receipt signature must exist) */
int scitt_build_receipt(wb_log *log, uint64_t index, uint64_t size, uint8_t **out,
                        size_t *len);
/* the stored receipt signature of tree size (malloc'd), and a receipt from it */
int scitt_receipt_sig(wb_log *log, uint64_t size, uint8_t **blob, size_t *len);
int scitt_build_receipt_with(wb_log *log, uint64_t index, uint64_t size, const uint8_t *blob,
                             size_t blen, uint8_t **out, size_t *len);
/* sign and store the receipt signature for tree size (inside a transaction) */
int scitt_store_receipt_sig(wb_service *svc, wb_store *store, uint64_t size,
                            const uint8_t root[32]);
/* dev mode: the issuer keys of DIR/issuers (dev_mu held) */
int scitt_load_dev_issuers(wb_service *svc);
void scitt_dev_issuers_clear(wb_service *svc);
int scitt_sequencer_start(wb_service *svc);
/* wb_service_submit; own = 1: the service's own statement, never refused for
 * a full queue */
int scitt_submit(wb_service *svc, wb_ticket **out, wb_registration *r, wb_ticket_fn done,
                 void *done_ctx, int own);
void scitt_sequencer_stop(wb_service *svc);
/* in-flight lookup (mutex held): the queued ticket with this id, or NULL */
wb_ticket *scitt_inflight_find(wb_service *svc, const uint8_t id[32]);
/* answers one ticket (rc/receipt set): done, waiters woken, callback, unref;
 * called without svc->mu */
void scitt_ticket_complete(wb_service *svc, wb_ticket *t);

/* ---- cluster mode (cluster.c) ---- */
int scitt_cluster_start(wb_service *svc);
/* svc->stopping set, the sequencer thread joined */
void scitt_cluster_stop(wb_service *svc);
int scitt_cluster_is_leader(const wb_service *svc);
/* queue a checked statement for wb_pending (svc->mu held) */
int scitt_cluster_submit(wb_service *svc, wb_ticket *t);
/* the sequencer: up to cap pending rows, in order, as internal tickets */
int scitt_cluster_take(wb_service *svc, wb_ticket **batch, size_t cap, size_t *n);
/* inside the batch's transaction: pending rows deleted, refusals recorded */
int scitt_cluster_batch_hook(wb_service *svc, wb_store *store, wb_ticket **batch, size_t n);
uint64_t scitt_cluster_takeovers(const wb_service *svc);

#endif
