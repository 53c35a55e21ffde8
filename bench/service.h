/*
 * service.h: the transparency-service part of `make bench` (issue 4): the
 * ES256 verification ceiling of this machine (verify_ceiling.c), a raw-socket
 * HTTP/1.1 load generator (loadgen.c) and the run that ties them to a
 * `waybill serve --dev` child process (service.c).
 */
#ifndef WAYBILL_BENCH_SERVICE_H
#define WAYBILL_BENCH_SERVICE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "waybill/crypto.h"

/* ---- verify_ceiling.c ---- */

/*
 * bench_es256_ceiling runs one thread per online core, each calling
 * wb_key_verify on one fixed ES256 signature over msg_len bytes for about
 * seconds; returns verifications/s summed over the threads (0 on failure)
 * and the thread count in *threads.
 */
double bench_es256_ceiling(double seconds, size_t msg_len, int *threads);
/* the same for a key of alg (WB_ALG_ES384: the P-384 ceiling) */
double bench_verify_ceiling(wb_alg alg, double seconds, size_t msg_len, int *threads);

/* ---- loadgen.c ---- */

typedef struct {
    const uint8_t *data;  /* one COSE_Sign1, owned by the caller */
    size_t len;
} load_body;

typedef struct {
    struct sockaddr_in addr;
    unsigned conns;        /* keep-alive connections */
    const load_body *bodies;
    size_t nbodies;        /* each is sent at most once, in order */
    double seconds;        /* length of the measured window */
    double warmup;         /* closed loop: seconds before the window */
    double rate;           /* 0: closed loop; > 0: open loop, requests/s */
    size_t keep_every;     /* keep the receipt of every k-th 201 (0: none) */
    /* called when the measured window starts (0) and ends (1); may be NULL */
    void (*mark)(void *ctx, int end);
    void *mark_ctx;
    /* several servers (section 10): when naddrs > 0, connection i goes to
     * addrs[i % naddrs] instead of addr */
    const struct sockaddr_in *addrs;
    unsigned naddrs;
    int keep_times;        /* record when each 201 of the window completed */
} load_params;

typedef struct {
    size_t body;           /* index into bodies */
    uint8_t *receipt;      /* malloc'd */
    size_t len;
    double t;              /* when it was complete (CLOCK_MONOTONIC, s) */
} load_receipt;

typedef struct {
    size_t sent;           /* requests written (warm-up included) */
    size_t done;           /* responses read (warm-up included) */
    size_t ok;             /* 201s completed inside the window */
    size_t non201;         /* other statuses inside the window */
    size_t status[6];      /* every response by class: 1xx..5xx ([1]..[5]) */
    size_t transport_errors; /* resets, closes with a request in flight */
    double window;         /* seconds actually measured */
    uint32_t *lat_us;      /* latency of each 201 in the window, sorted */
    size_t nlat;
    double client_cpu;     /* CPU seconds of this process in the window */
    double max_lag_ms;     /* open loop: worst delay of a send behind schedule */
    size_t lagged;         /* open loop: sends more than 1 ms behind schedule */
    int exhausted;         /* ran out of statements before the time was up */
    load_receipt *receipts;
    size_t nreceipts;
    double *t_ok;          /* keep_times: completion times (CLOCK_MONOTONIC, s) of
                              the window's 201s, in order */
    size_t nt_ok;
} load_result;

/*
 * load_run drives POST /entries over p->conns connections from one epoll
 * thread. Closed loop: every connection sends its next statement as soon as
 * its previous answer is complete; latency is from the first byte written to
 * the last byte of the answer. Open loop: statement i is due at
 * start + i / rate and goes out on any idle connection; latency counts from
 * the due time, so a client that falls behind cannot hide queueing
 * (coordinated omission). 0, or -1 with a message on stderr.
 */
int load_run(load_result *r, const load_params *p);
void load_result_cleanup(load_result *r);
/* the q-quantile (0..1) of the sorted latencies, in ms */
double load_quantile_ms(const load_result *r, double q);

/* ---- statements.c: the pre-signed registrations of sections 6, 7 and 10 ---- */

#include "waybill/cose.h"

#define BENCH_NISSUERS 50

typedef struct {
    wb_key *key;
    wb_cose_signer signer;
    uint8_t kid[32];
    char iss[64];        /* "https://supplier-NN.example" */
} bench_issuer;

/* BENCH_NISSUERS fresh ES256 issuers (keys in memory); -1 with a message */
int bench_issuers_make(bench_issuer *is);
/* DIR (made here) with their public keys as DIR/issuers/supplier-NN.pem: the
 * development-mode way of registering them with `waybill serve --dev DIR` */
int bench_issuers_write(const bench_issuer *is, const char *dir);
void bench_issuers_free(bench_issuer *is);
/* n distinct device-manifest statements (statement i by issuer i % 50), signed
 * on every core; the average statement and payload sizes (may be NULL) */
int bench_sign_all(load_body *bodies, size_t n, const bench_issuer *is, double *avg_stmt,
                   double *avg_payload);

/* ---- service.c ---- */

typedef struct {
    const char *waybill;   /* the waybill binary (default: next to waybill-bench) */
    const char *base;      /* scratch directory */
    unsigned conns;        /* closed-loop connections (default: 128, then 512) */
    double seconds;        /* each closed-loop window (default 5) */
    size_t statements;     /* pre-signed statements (default 180,000) */
    /* out, when set: the higher closed-loop rate (registrations/s) and the
     * statements' average size, for section 7's ratio */
    double *rate_out;
    double *bytes_out;
} bench_service_opts;

/* prints section 6 of `make bench`; 0, or 1 on a failure already reported */
int bench_service(const bench_service_opts *o);

#endif
