/*
 * verify_ceiling.c: the ES256 verification ceiling of this machine, measured
 * in the same run as the service figures (issue 4, "Benchmark"): one thread
 * per online core, each calling wb_key_verify, exactly what the server calls
 * once per statement, on one fixed signature over a statement-sized message.
 * Verification is the only per-entry signature operation of a registration,
 * so this is the rate a perfect server could not beat on these cores.
 */
#include "service.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "waybill/crypto.h"
#include "waybill/error.h"

typedef struct {
    const wb_key *key;
    const uint8_t *sig;
    size_t sig_len;
    const uint8_t *msg;
    size_t msg_len;
    double seconds;
    uint64_t count;
    double elapsed;
    int failed;
} ceiling_job;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *ceiling_main(void *arg)
{
    ceiling_job *j = arg;
    double t0 = mono(), t;
    uint64_t n = 0;
    do {
        for (int i = 0; i < 100; i++)
            if (wb_key_verify(j->key, j->sig, j->sig_len, j->msg, j->msg_len) != 0)
                j->failed = 1;
        n += 100;
        t = mono() - t0;
    } while (t < j->seconds && !j->failed);
    j->count = n;
    j->elapsed = t;
    return NULL;
}

double bench_es256_ceiling(double seconds, size_t msg_len, int *threads)
{
    return bench_verify_ceiling(WB_ALG_ES256, seconds, msg_len, threads);
}

double bench_verify_ceiling(wb_alg alg, double seconds, size_t msg_len, int *threads)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int n = ncpu > 0 ? (int)ncpu : 1;
    wb_key *priv = NULL, *pub = NULL;
    uint8_t sig[WB_SIG_MAX], *msg = malloc(msg_len ? msg_len : 1);
    size_t sig_len = 0;
    ceiling_job *jobs = calloc((size_t)n, sizeof(*jobs));
    pthread_t *tids = calloc((size_t)n, sizeof(*tids));
    double total = 0;
    int ok = msg && jobs && tids;

    *threads = n;
    if (ok) {
        for (size_t i = 0; i < msg_len; i++)
            msg[i] = (uint8_t)(i * 31 + 7);
        ok = wb_key_generate(&priv, alg) == 0 &&
             wb_key_public_copy(&pub, priv) == 0 &&
             wb_key_sign(priv, sig, &sig_len, msg, msg_len) == 0;
        if (!ok)
            fprintf(stderr, "waybill-bench: signing key: %s\n", wb_error_message());
    }
    for (int i = 0; ok && i < n; i++) {
        jobs[i] = (ceiling_job){pub, sig, sig_len, msg, msg_len, seconds, 0, 0, 0};
        if (pthread_create(&tids[i], NULL, ceiling_main, &jobs[i]) != 0) {
            fprintf(stderr, "waybill-bench: cannot start a verification thread\n");
            n = i;
            ok = 0;
        }
    }
    for (int i = 0; i < n && tids; i++) {
        pthread_join(tids[i], NULL);
        if (jobs[i].failed) {
            fprintf(stderr, "waybill-bench: the fixed signature did not verify\n");
            ok = 0;
        }
        if (jobs[i].elapsed > 0)
            total += (double)jobs[i].count / jobs[i].elapsed;
    }
    wb_key_free(priv);
    wb_key_free(pub);
    free(msg);
    free(jobs);
    free(tids);
    return ok ? total : 0;
}
