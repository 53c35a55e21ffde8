/*
 * sim_pool.c: the simulator's statements in flight. A phase of the journey
 * is a batch of signed statements that do not depend on each other; it is
 * registered with several requests in flight (each a wb_client_register:
 * POST /entries, then the receipt), and the next phase starts only when
 * every receipt of this one is back, so that the log holds, say, every
 * manifest before the first assembly that names its devices.
 *
 * Statements are SCITT signed statements (RFC 9943) as src/cli/issuer.c
 * makes them: protected alg, cty application/vnd.waybill.<kind>+json,
 * CWT claims {iss: the issuer's registered name, sub, iat}, kid = SHA-256
 * of the signer's SPKI.
 */
#include "sim_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "waybill/client.h"
#include "waybill/error.h"
#include "waybill/scitt.h"

/* ---- small things ---- */

uint64_t sim_rand(uint64_t *s)
{
    /* splitmix64: any seed, including 0, gives a good sequence */
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void sim_hex_rand(char *out, size_t nbytes, uint64_t *state)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < nbytes; i++) {
        uint8_t b = (uint8_t)sim_rand(state);
        out[2 * i] = hex[b >> 4];
        out[2 * i + 1] = hex[b & 15];
    }
    out[2 * nbytes] = '\0';
}

double sim_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- signing ---- */

static int add_job(sim_batch *b, size_t *index, uint8_t *st, size_t len, wb_kind kind,
                   const char *label)
{
    sim_job *j;
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        sim_job *g = realloc(b->jobs, cap * sizeof(*g));
        if (!g) {
            free(st);
            return wb_error_set(WB_E_NOMEM, "out of memory");
        }
        b->jobs = g;
        b->cap = cap;
    }
    j = &b->jobs[b->n];
    memset(j, 0, sizeof(*j));
    j->st = st;
    j->len = len;
    j->kind = kind;
    snprintf(j->label, sizeof(j->label), "%s", label);
    if (index)
        *index = b->n;
    b->n++;
    return 0;
}

static int sign_common(sim_batch *b, size_t *index, const wb_cose_signer *signer,
                       const uint8_t kid[32], const char *iss, const wb_prov_payload *p,
                       const char *sub, int64_t iat, const char *label)
{
    char cty[96], *json = NULL;
    size_t json_len, len;
    uint8_t *st = NULL;
    wb_cose_headers h;
    int rc = wb_prov_encode(&json, &json_len, p);
    if (rc)
        return wb_error_prefix(rc, "%s", label);
    snprintf(cty, sizeof(cty), "application/vnd.waybill.%s+json", wb_kind_name(p->kind));
    wb_cose_headers_init(&h);
    h.alg = signer->alg;
    h.cty = cty;
    h.has_cwt = 1;
    h.iss = iss;
    h.sub = sub;
    h.iat = iat;
    h.kid.ptr = kid;
    h.kid.len = 32;
    rc = wb_cose_sign1_create(&st, &len, &h, NULL, 0, (const uint8_t *)json, json_len, 0,
                              signer);
    free(json);
    if (rc)
        return wb_error_prefix(rc, "%s", label);
    if (len > WB_STATEMENT_MAX) {
        free(st);
        return wb_error_set(WB_E_LIMIT, "%s: %zu bytes, over the %d-byte statement limit",
                            label, len, WB_STATEMENT_MAX);
    }
    return add_job(b, index, st, len, p->kind, label);
}

int sim_sign(sim_batch *b, size_t *index, const sim_party *party, const wb_prov_payload *p,
             const char *sub, int64_t iat, const char *label)
{
    return sign_common(b, index, &party->signer, party->kid, party->def->name, p, sub,
                       iat ? iat : (int64_t)time(NULL), label);
}

int sim_sign_admin(sim_batch *b, size_t *index, const wb_key *admin,
                   const wb_cose_signer *signer, const uint8_t kid[32],
                   const wb_prov_payload *p, const char *sub, const char *label)
{
    (void)admin;
    return sign_common(b, index, signer, kid, "operator", p, sub, (int64_t)time(NULL),
                       label);
}

void sim_batch_cleanup(sim_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->jobs[i].st);
    free(b->jobs);
    memset(b, 0, sizeof(*b));
}

/* ---- a parallel for, with progress from the calling thread ---- */

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

int sim_parallel(unsigned threads, size_t n, int (*fn)(void *ctx, size_t i), void *ctx,
                 const wb_sim_options *opt, const char *phase)
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
        return wb_error_set(WB_E_INTERNAL, "%s: cannot start a thread", phase);
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
        if (opt && opt->progress) {
            size_t done = atomic_load(&p.done);
            pthread_mutex_unlock(&p.mu);
            opt->progress(opt->progress_ctx, phase, done, n);
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
    if (opt && opt->progress)
        opt->progress(opt->progress_ctx, phase, n, n);
    return 0;
}

/* ---- registration ---- */

typedef struct {
    sim_batch *b;
    const wb_sim_options *opt;
} reg_ctx;

/* one statement: POST, receipt; transient failures (the service is busy,
 * a connection dropped) are retried, a refusal is not */
static int register_one(void *vctx, size_t i)
{
    reg_ctx *c = vctx;
    sim_job *j = &c->b->jobs[i];
    wb_register_result res;
    int rc = 0;
    for (int attempt = 0; attempt < 6; attempt++) {
        if (attempt)
            usleep((useconds_t)(200000u << (attempt - 1)));
        rc = wb_client_register(&res, c->opt->url, j->st, j->len, 120, NULL, NULL);
        if (rc == 0) {
            const char *slash = strrchr(res.location, '/');
            snprintf(j->entry, sizeof(j->entry), "%s", slash ? slash + 1 : "");
            wb_register_result_cleanup(&res);
            if (strlen(j->entry) != 64)
                return wb_error_set(WB_E_INTERNAL, "%s: the service answered without an "
                                    "entry id in its Location", j->label);
            return 0;
        }
        wb_register_result_cleanup(&res);
        if (rc == WB_E_INVALID || rc == WB_E_NOTFOUND)
            break;
    }
    j->rc = rc;
    return wb_error_prefix(rc, "%s", j->label);
}

int sim_register(sim_register_ctx *rc, sim_batch *b, const char *phase)
{
    reg_ctx c = {b, rc->opt};
    int r = sim_parallel(rc->opt->workers ? rc->opt->workers : 16, b->n, register_one, &c,
                         rc->opt, phase);
    if (r)
        return r;
    for (size_t i = 0; i < b->n; i++) {
        rc->registered++;
        if (b->jobs[i].kind > 0 && b->jobs[i].kind < WB_KIND_COUNT)
            rc->by_kind[b->jobs[i].kind]++;
    }
    return 0;
}
