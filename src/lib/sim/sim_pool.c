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
#include "waybill/fleet.h"
#include "waybill/scitt.h"
#include "waybill/util.h"

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
    uint8_t *st = NULL;
    size_t len;
    int rc = wb_fleet_sign_statement(&st, &len, p, signer, kid, iss, sub, iat);
    if (rc)
        return wb_error_prefix(rc, "%s", label);
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

/* ---- a parallel for (wb_parallel_for), with the phase in the progress ---- */

typedef struct {
    const wb_sim_options *opt;
    const char *phase;
} phase_progress;

static void on_progress(void *ctx, size_t done, size_t total)
{
    phase_progress *pp = ctx;
    pp->opt->progress(pp->opt->progress_ctx, pp->phase, done, total);
}

int sim_parallel(unsigned threads, size_t n, int (*fn)(void *ctx, size_t i), void *ctx,
                 const wb_sim_options *opt, const char *phase)
{
    phase_progress pp = {opt, phase};
    int rc = wb_parallel_for(threads, n, fn, ctx, opt && opt->progress ? on_progress : NULL,
                             &pp);
    return rc == WB_E_INTERNAL ? wb_error_prefix(rc, "%s", phase) : rc;
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
