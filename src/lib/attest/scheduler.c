/*
 * scheduler.c: periodic re-attestation (waybill/verifier.h,
 * docs/attestation.md "Where it runs"): every unit in production is
 * challenged again once per interval, the work spread evenly over the
 * interval rather than in one burst, so that a part swapped in service is
 * caught at the next round and the devices, the verifier and the ledger
 * see a steady trickle.
 *
 * A round: the plan of "in-production" (blades before racks), split into
 * S = min(units, interval in seconds) slices; slice k starts at
 * round start + k * interval / S. A device that does not answer is
 * recorded as unreachable, which the rules raise as attestation-overdue.
 * The thread stops promptly when asked (a timed wait on a condition).
 */
#include "attest_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "waybill/error.h"

struct wb_attest_scheduler {
    wb_verifier_options o;
    char *ledger, *devices, *site, *issuer;
    unsigned interval_s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping;
    wb_attest_scheduler_stats stats;
};

/* 1 if this process should run the next round */
static int gate_open(wb_attest_scheduler *s)
{
    return !s->o.gate || s->o.gate(s->o.gate_ctx);
}

static void deadline_at(struct timespec *ts, double t)
{
    ts->tv_sec = (time_t)t;
    ts->tv_nsec = (long)((t - (double)ts->tv_sec) * 1e9);
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* waits until monotonic time t; 1 if asked to stop */
static int wait_until(wb_attest_scheduler *s, double t)
{
    struct timespec ts;
    int stop;
    deadline_at(&ts, t);
    pthread_mutex_lock(&s->mu);
    while (!s->stopping && mono_now() < t)
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    stop = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

/* the units [from, to) of plan as a plan of their own (CAs shared) */
static int run_slice(wb_attest_scheduler *s, vf_plan *plan, size_t from, size_t to)
{
    vf_plan part = *plan;
    wb_verifier_report rep;
    int rc;
    part.units = plan->units + from;
    part.n = to - from;
    part.max_depth = 0;
    for (size_t i = 0; i < part.n; i++)
        if (part.units[i].depth > part.max_depth)
            part.max_depth = part.units[i].depth;
    memset(&rep, 0, sizeof(rep));
    rc = vf_run_plan(&rep, &s->o, &part);
    pthread_mutex_lock(&s->mu);
    s->stats.attested += rep.n;
    s->stats.passed += rep.pass;
    s->stats.failed += rep.fail;
    s->stats.unreachable += rep.unreachable;
    if (rc)
        s->stats.errors++;
    pthread_mutex_unlock(&s->mu);
    if (rc)
        fprintf(stderr, "level=error msg=\"attestation round\" err=\"%s\"\n",
                wb_error_message());
    for (size_t i = 0; i < rep.n; i++)
        if (rep.results[i].verdict != WB_VERDICT_PASS)
            fprintf(stderr, "level=warn msg=\"attestation failed\" device=%.16s class=%s "
                            "rules=\"%s\" reason=\"%s\"\n",
                    rep.results[i].id, rep.results[i].cls, rep.results[i].findings,
                    rep.results[i].reason);
    wb_verifier_report_cleanup(&rep);
    return rc;
}

static void *scheduler_main(void *arg)
{
    wb_attest_scheduler *s = arg;
    const char *target = "in-production";
    for (;;) {
        double start = mono_now(), interval = (double)s->interval_s;
        vf_plan plan;
        size_t slices;
        int rc;
        if (!gate_open(s)) {
            if (wait_until(s, start + 1))
                break;
            continue;
        }
        rc = vf_plan_load(&plan, s->ledger, &target, 1);
        if (rc) {
            fprintf(stderr, "level=error msg=\"attestation round: no plan\" err=\"%s\"\n",
                    wb_error_message());
            if (wait_until(s, start + (interval < 10 ? interval : 10)))
                break;
            continue;
        }
        slices = plan.n < s->interval_s ? plan.n : s->interval_s;
        for (size_t k = 0; k < slices; k++) {
            size_t from = plan.n * k / slices, to = plan.n * (k + 1) / slices;
            if (wait_until(s, start + interval * (double)k / (double)slices))
                break;
            run_slice(s, &plan, from, to);
        }
        vf_plan_cleanup(&plan);
        pthread_mutex_lock(&s->mu);
        s->stats.rounds++;
        pthread_mutex_unlock(&s->mu);
        if (wait_until(s, start + interval))
            break;
    }
    return NULL;
}

int wb_attest_scheduler_start(wb_attest_scheduler **out, const wb_verifier_options *o,
                              unsigned interval_s)
{
    wb_attest_scheduler *s;
    int rc = vf_options_check(o);
    *out = NULL;
    if (rc)
        return rc;
    if (interval_s == 0)
        return wb_error_set(WB_E_INVALID, "attestation interval: at least 1 s");
    s = calloc(1, sizeof(*s));
    if (!s)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    s->o = *o;
    s->o.phase = WB_PHASE_PERIODIC;
    s->o.progress = NULL;
    s->ledger = strdup(o->ledger_url);
    s->devices = o->devices_url ? strdup(o->devices_url) : NULL;
    s->site = strdup(o->site);
    s->issuer = o->issuer ? strdup(o->issuer) : NULL;
    if (!s->ledger || !s->site || (o->devices_url && !s->devices) || (o->issuer && !s->issuer)) {
        wb_attest_scheduler_stop(s);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    s->o.ledger_url = s->ledger;
    s->o.devices_url = s->devices;
    s->o.site = s->site;
    s->o.issuer = s->issuer;
    s->interval_s = interval_s;
    pthread_mutex_init(&s->mu, NULL);
    {
        pthread_condattr_t a;
        pthread_condattr_init(&a);
        pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
        pthread_cond_init(&s->cv, &a);
        pthread_condattr_destroy(&a);
    }
    if (pthread_create(&s->thread, NULL, scheduler_main, s) != 0) {
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        s->interval_s = 0; /* not started */
        wb_attest_scheduler_stop(s);
        return wb_error_set(WB_E_INTERNAL, "cannot start the attestation scheduler");
    }
    *out = s;
    return 0;
}

void wb_attest_scheduler_get_stats(wb_attest_scheduler *s, wb_attest_scheduler_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    pthread_mutex_unlock(&s->mu);
}

void wb_attest_scheduler_stop(wb_attest_scheduler *s)
{
    if (!s)
        return;
    if (s->interval_s) { /* started */
        pthread_mutex_lock(&s->mu);
        s->stopping = 1;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
    }
    free(s->ledger);
    free(s->devices);
    free(s->site);
    free(s->issuer);
    free(s);
}
