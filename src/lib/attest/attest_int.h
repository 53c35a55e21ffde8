/*
 * attest_int.h: what the verifier's files share (verifier.c: plans,
 * challenges, dry runs, registration; intake.c: shipments; verifier_tpm.c:
 * devices whose root of trust is a TPM).
 */
#ifndef WAYBILL_ATTEST_INT_H
#define WAYBILL_ATTEST_INT_H

#include <jansson.h>

#include "waybill/verifier.h"

/*
 * public-key verifications in one evidence that passes: the alias
 * certificate's signature (by the identity key), the identity
 * certificate's (by the supplier CA), the COSE signature (by the alias key)
 */
#ifndef WB_EVIDENCE_VERIFICATIONS
#define WB_EVIDENCE_VERIFICATIONS 3
#endif

typedef struct {
    char name[WB_PROV_NAME_MAX + 1];
    uint8_t **der;               /* its CA certificates */
    size_t *len;
    size_t n;
} vf_supplier;

typedef struct {
    wb_device_id id;
    char cls[16];
    char serial[WB_PROV_NAME_MAX + 1];
    char supplier[WB_PROV_NAME_MAX + 1];
    int depth;                   /* challenged deepest first */
    wb_evidence ev;              /* what the device answered, once verified */
    wb_p_attestation draft;      /* the statement (seen and measurements point
                                    into ev) */
    size_t nfindings;
    char findings[WB_VERIFIER_FINDINGS_TEXT];
    char entry[65];
    double challenge_ms;
    uint64_t verifications;
} vf_unit;

typedef struct {
    vf_unit *units;
    size_t n;
    int max_depth;
    vf_supplier *suppliers;
    size_t nsuppliers;
} vf_plan;

typedef struct {
    const wb_verifier_options *o;
    vf_plan *plan;
    size_t *level;               /* indexes of the units of the level at work */
    size_t done_before;
    double challenge_s;
} vf_run;

int vf_options_check(const wb_verifier_options *o);
int vf_get_json(json_t **out, const char *base, const char *path, long timeout_s);
int vf_post_json(json_t **out, const char *base, const char *path, const json_t *body);
int vf_plan_load(vf_plan *p, const char *ledger, const char *const *targets, size_t n);
void vf_plan_cleanup(vf_plan *p);
int vf_run_plan(wb_verifier_report *rep, const wb_verifier_options *o, vf_plan *plan);
int vf_payload_json(json_t **out, const wb_prov_payload *p);
/* signs p with o's key and registers it; entry gets the entry id */
int vf_register(const wb_verifier_options *o, const wb_prov_payload *p, const char *sub,
                char entry[65]);
json_t *vf_report_object(const wb_verifier_report *r);

/*
 * vf_tpm_challenge: the whole exchange with a TPM reached through tcti
 * (verifier_tpm.c): EK certificate and chain, attestation key bound to the
 * EK by credential activation, quote over the PCRs with chk->nonce. ev and
 * *why as wb_evidence_verify; WB_E_IO when the TPM cannot be reached;
 * *verifications counts the signature checks made.
 */
int vf_tpm_challenge(wb_evidence *ev, wb_evidence_failure *why, uint8_t digest[32],
                     const char *tcti, const wb_evidence_check *chk,
                     uint64_t *verifications);

#endif
