/*
 * waybill/verifier.h: the datacenter's verifier (docs/attestation.md,
 * "Verifier"): challenge every root of trust of a target with a fresh
 * nonce, check the answer, compare it with the ledger, and record the
 * verdict as an attestation statement; and the intake of a shipment.
 *
 * For each unit the ledger's plan names (GET /attest/plan/{target}):
 *   1. a fresh random nonce, sent to the device with a timeout
 *      (POST {devices}/devices/{id}/challenge, or through a TPM TCTI);
 *   2. the evidence's signature, alias certificate and identity chain to a
 *      CA of the supplier that manifested the device (wb_evidence_verify);
 *      the nonce and time (stale or replayed answers are refused);
 *   3.-5. what the device reports (its identity, what sits in each slot,
 *      its firmware measurements) against the ledger: the service runs its
 *      anomaly rules on the draft statement without writing anything
 *      (POST /attest/check), so the verdict and the findings come from one
 *      set of rules (docs/anomalies.md);
 * then signs the attestation statement (verdict, reasons, what it saw)
 * with the datacenter's key and registers it; the service raises the
 * findings. Units are challenged in parallel, level by level (a rack's
 * blades before the rack).
 */
#ifndef WAYBILL_VERIFIER_H
#define WAYBILL_VERIFIER_H

#include <stddef.h>
#include <stdint.h>

#include "waybill/attest.h"
#include "waybill/crypto.h"
#include "waybill/prov.h"

/* a device whose root of trust is a TPM, reached through a TCTI */
typedef struct {
    wb_device_id id;
    char tcti[256];              /* "swtpm:host=127.0.0.1,port=2321" */
} wb_verifier_tpm;

typedef struct {
    const char *ledger_url;      /* the waybill service */
    const char *devices_url;     /* where devices answer challenges (may be NULL
                                    when every device is a TPM) */
    const wb_verifier_tpm *tpms; /* devices reached through a TPM */
    size_t ntpms;
    const char *site;            /* the datacenter site the statements name */
    const char *issuer;          /* the datacenter's issuer name (CWT iss) */
    const wb_key *key;           /* its signing key; NULL with dry_run */
    wb_attest_phase phase;
    unsigned threads;            /* parallel challenges; 0: 4 per core */
    unsigned timeout_ms;         /* per challenge; 0: 5000 */
    int64_t max_age_s;           /* evidence older than this is stale; 0: 300 */
    int dry_run;                 /* check, register nothing */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *progress_ctx;
    /* the periodic scheduler only: a round starts when gate(gate_ctx) says 1
       (asked again a second later otherwise); several servers over one
       database run the rounds on the sequencer only (docs/deploy.md) */
    int (*gate)(void *ctx);
    void *gate_ctx;
} wb_verifier_options;

void wb_verifier_options_init(wb_verifier_options *o);

#define WB_VERIFIER_FINDINGS_TEXT 512

typedef struct {
    wb_device_id id;
    char cls[16];
    char serial[WB_PROV_NAME_MAX + 1];
    wb_verdict verdict;
    wb_failed_check failed;      /* NONE unless the answer was not trusted */
    char reason[WB_PROV_TEXT_MAX + 1];          /* the first reason, "" on pass */
    size_t nfindings;            /* findings the ledger's rules raise */
    char findings[WB_VERIFIER_FINDINGS_TEXT];   /* "rule/tag, ..." */
    wb_slot_entry *seen;         /* what it reported (malloc'd) */
    size_t nseen;
    char entry[65];              /* the attestation statement's entry id */
    double challenge_ms;         /* nonce to verified evidence */
} wb_verifier_result;

typedef struct {
    wb_verifier_result *results; /* in plan order */
    size_t n;
    size_t pass, fail, unreachable;
    double elapsed_s;            /* the whole run */
    double challenge_s;          /* wall time of the challenge-and-verify steps */
    uint64_t verifications;      /* public-key signature verifications performed */
} wb_verifier_report;

/*
 * wb_verifier_run attests every unit of each target (a device id, or
 * "in-production" for every unit in production) and, unless dry_run,
 * registers one attestation statement per unit. A unit that fails is a
 * result, not an error: errors are for a ledger that cannot be read or
 * refuses a statement (WB_E_IO, WB_E_INVALID with the service's detail),
 * or a target it does not know (WB_E_NOTFOUND).
 */
int wb_verifier_run(wb_verifier_report *r, const wb_verifier_options *o,
                    const char *const *targets, size_t ntargets);
void wb_verifier_report_cleanup(wb_verifier_report *r);

/* the report as JSON (malloc'd, NUL-terminated) */
int wb_verifier_report_json(char **out, const wb_verifier_report *r);

/* ---- intake ---- */

typedef struct {
    wb_verifier_report attest;   /* the arrival attestations */
    wb_verdict verdict;
    char reason[WB_PROV_TEXT_MAX + 1];
    size_t nfindings;
    char findings[WB_VERIFIER_FINDINGS_TEXT];
    char entry[65];              /* the intake statement */
} wb_intake_report;

/*
 * wb_intake_run takes in a shipment at o->site: reads what was shipped
 * (GET /shipments/{id}), attests every unit of it (phase arrival), and
 * registers the intake statement: the seals found intact (seals; NULL
 * means none were given: the intake then fails unless nothing was
 * sealed), what each unit reported in its slots, and the verdict.
 */
int wb_intake_run(wb_intake_report *r, const wb_verifier_options *o, const char *shipment,
                  char *const *seals, size_t nseals);
void wb_intake_report_cleanup(wb_intake_report *r);

/* ---- periodic re-attestation (the server's scheduler) ---- */

typedef struct wb_attest_scheduler wb_attest_scheduler;

typedef struct {
    uint64_t rounds;             /* rounds completed */
    uint64_t attested, passed, failed, unreachable;
    uint64_t errors;             /* slices that could not run (ledger errors) */
} wb_attest_scheduler_stats;

/*
 * wb_attest_scheduler_start attests every unit in production once per
 * interval_s, phase periodic, spread over the interval, on a thread of
 * its own, until wb_attest_scheduler_stop. o is copied (its key must
 * outlive the scheduler).
 */
int wb_attest_scheduler_start(wb_attest_scheduler **out, const wb_verifier_options *o,
                              unsigned interval_s);
void wb_attest_scheduler_get_stats(wb_attest_scheduler *s, wb_attest_scheduler_stats *out);

void wb_attest_scheduler_stop(wb_attest_scheduler *s);

#endif
