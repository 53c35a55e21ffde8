/*
 * metrics.c: counters of the HTTP server and the service in the Prometheus
 * text exposition format (version 0.0.4), served at GET /metrics.
 */
#include "server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/error.h"
#include "waybill/util.h"

/* upper bounds of the latency histogram, in microseconds */
static const uint64_t latency_le_us[LATENCY_BUCKETS] = {
    1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000, 2000000, 5000000,
};

static const char *reason_names[REASON_COUNT] = {
    "invalid", "unauthenticated", "too_large", "unsupported_media_type", "queue_full",
    "internal",
};

void srv_count_status(wb_server *s, unsigned status)
{
    if (status / 100 < 6)
        __atomic_add_fetch(&s->status_counts[status / 100], 1, __ATOMIC_RELAXED);
}

void srv_count_reject(wb_server *s, int reason)
{
    if (reason >= 0 && reason < REASON_COUNT)
        __atomic_add_fetch(&s->rejections[reason], 1, __ATOMIC_RELAXED);
}

void srv_observe_latency(wb_server *s, uint64_t us)
{
    __atomic_add_fetch(&s->latency_us_sum, us, __ATOMIC_RELAXED);
    __atomic_add_fetch(&s->latency_count, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < LATENCY_BUCKETS; i++)
        if (us <= latency_le_us[i]) {
            __atomic_add_fetch(&s->latency_buckets[i], 1, __ATOMIC_RELAXED);
            break;
        }
}

static uint64_t ld(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

int srv_metrics_text(wb_server *s, char **out, size_t *len)
{
    static const char *size_le[8] = {"1", "10", "100", "1000", "10000", "100000",
                                     "1000000", "+Inf"};
    wb_service_stats st;
    wb_buf b;
    uint64_t cum = 0;
    uint8_t *text;
    int rc;

    wb_service_get_stats(s->svc, &st);
    wb_buf_init(&b, 1 << 16);
    wb_buf_printf(&b, "# HELP waybill_registrations_total Statements newly added to the log.\n"
                      "# TYPE waybill_registrations_total counter\n"
                      "waybill_registrations_total %llu\n",
                  (unsigned long long)st.registered);
    wb_buf_printf(&b, "# HELP waybill_duplicates_total Submissions of statements already in "
                      "the log.\n# TYPE waybill_duplicates_total counter\n"
                      "waybill_duplicates_total %llu\n",
                  (unsigned long long)st.duplicates);
    wb_buf_printf(&b, "# HELP waybill_rejections_total Refused registrations by reason.\n"
                      "# TYPE waybill_rejections_total counter\n");
    for (int i = 0; i < REASON_COUNT; i++)
        wb_buf_printf(&b, "waybill_rejections_total{reason=\"%s\"} %llu\n", reason_names[i],
                      (unsigned long long)ld(&s->rejections[i]));
    wb_buf_printf(&b, "# HELP waybill_batches_total Batches committed.\n"
                      "# TYPE waybill_batches_total counter\n"
                      "waybill_batches_total %llu\n"
                      "# HELP waybill_commit_failures_total Batches whose commit failed.\n"
                      "# TYPE waybill_commit_failures_total counter\n"
                      "waybill_commit_failures_total %llu\n",
                  (unsigned long long)st.batches, (unsigned long long)st.commit_failures);
    wb_buf_printf(&b, "# HELP waybill_batch_size Statements per batch.\n"
                      "# TYPE waybill_batch_size histogram\n");
    for (int i = 0; i < 8; i++) {
        cum += st.batch_entries_hist[i];
        wb_buf_printf(&b, "waybill_batch_size_bucket{le=\"%s\"} %llu\n", size_le[i],
                      (unsigned long long)cum);
    }
    wb_buf_printf(&b, "waybill_batch_size_count %llu\n", (unsigned long long)st.batches);
    wb_buf_printf(&b, "# HELP waybill_queue_depth Statements waiting for the sequencer.\n"
                      "# TYPE waybill_queue_depth gauge\nwaybill_queue_depth %llu\n"
                      "# HELP waybill_queue_full_total Registrations refused with 429.\n"
                      "# TYPE waybill_queue_full_total counter\nwaybill_queue_full_total %llu\n"
                      "# HELP waybill_tree_size Entries in the log.\n"
                      "# TYPE waybill_tree_size gauge\nwaybill_tree_size %llu\n",
                  (unsigned long long)st.queue_depth, (unsigned long long)st.queue_full,
                  (unsigned long long)st.tree_size);
    if (st.cluster)
        wb_buf_printf(&b, "# HELP waybill_cluster_sequencer 1 if this node sequences the "
                          "log (holds the lock).\n"
                          "# TYPE waybill_cluster_sequencer gauge\nwaybill_cluster_sequencer %d\n"
                          "# HELP waybill_cluster_takeovers_total Times this node became the "
                          "sequencer.\n# TYPE waybill_cluster_takeovers_total counter\n"
                          "waybill_cluster_takeovers_total %llu\n",
                      st.sequencer, (unsigned long long)st.takeovers);
    wb_buf_printf(&b, "# HELP waybill_registration_seconds Time from request to 201.\n"
                      "# TYPE waybill_registration_seconds histogram\n");
    cum = 0;
    for (int i = 0; i < LATENCY_BUCKETS; i++) {
        cum += ld(&s->latency_buckets[i]);
        wb_buf_printf(&b, "waybill_registration_seconds_bucket{le=\"%g\"} %llu\n",
                      (double)latency_le_us[i] / 1e6, (unsigned long long)cum);
    }
    wb_buf_printf(&b, "waybill_registration_seconds_bucket{le=\"+Inf\"} %llu\n"
                      "waybill_registration_seconds_sum %.6f\n"
                      "waybill_registration_seconds_count %llu\n",
                  (unsigned long long)ld(&s->latency_count),
                  (double)ld(&s->latency_us_sum) / 1e6,
                  (unsigned long long)ld(&s->latency_count));
    wb_buf_printf(&b, "# HELP waybill_http_responses_total Responses by status class.\n"
                      "# TYPE waybill_http_responses_total counter\n");
    for (int i = 1; i < 6; i++)
        wb_buf_printf(&b, "waybill_http_responses_total{code=\"%dxx\"} %llu\n", i,
                      (unsigned long long)ld(&s->status_counts[i]));
    if (s->sched) {
        wb_attest_scheduler_stats as;
        wb_attest_scheduler_get_stats(s->sched, &as);
        wb_buf_printf(&b, "# HELP waybill_attest_rounds_total Periodic attestation rounds "
                          "completed.\n# TYPE waybill_attest_rounds_total counter\n"
                          "waybill_attest_rounds_total %llu\n"
                          "# HELP waybill_attestations_total Periodic attestations by "
                          "verdict.\n# TYPE waybill_attestations_total counter\n"
                          "waybill_attestations_total{verdict=\"pass\"} %llu\n"
                          "waybill_attestations_total{verdict=\"fail\"} %llu\n"
                          "# HELP waybill_attest_unreachable_total Devices that did not "
                          "answer.\n# TYPE waybill_attest_unreachable_total counter\n"
                          "waybill_attest_unreachable_total %llu\n",
                      (unsigned long long)as.rounds, (unsigned long long)as.passed,
                      (unsigned long long)as.failed, (unsigned long long)as.unreachable);
    }
    srv_personas_metrics(s->personas, &b);
    srv_witnesses_metrics(s->witnesses, &b);
    rc = wb_buf_finish(&b, &text, len);
    if (rc == 0)
        *out = (char *)text;
    return rc;
}
