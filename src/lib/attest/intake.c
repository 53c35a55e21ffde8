/*
 * intake.c: taking in a shipment at a datacenter (waybill/verifier.h,
 * docs/attestation.md "Where it runs"): the custody check and the arrival
 * attestation of everything in it, recorded as one intake statement
 * (docs/statements.md, kind intake).
 *
 *   1. what was shipped: GET /shipments/{id} (units, seals, destination);
 *   2. every unit of the shipment is attested, phase arrival, as
 *      `waybill attest` does (each answer its own attestation statement);
 *   3. the intake statement: the seals the dock found intact, and for each
 *      shipped unit whose answer could be trusted, what it reported in its
 *      slots; the service's rules dry-run it (custody, seals, slots), and
 *      any finding or failed unit makes the verdict "fail".
 * A unit whose evidence could not be trusted is left out of the intake's
 * slot report: its attestation already says why, and a report from it
 * would be evidence of nothing.
 */
#include "attest_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/error.h"
#include "waybill/fleet.h"

static int shipped(const json_t *units, const char *id)
{
    const json_t *v;
    size_t i;
    json_array_foreach(units, i, v) {
        const char *s = json_string_value(v);
        if (s && strcmp(s, id) == 0)
            return 1;
    }
    return 0;
}

/* the intake payload from the shipment and the attestations */
static int build_intake(wb_p_intake *in, const wb_intake_report *r, const json_t *ship,
                        const char *site, const char *shipment, char *const *seals,
                        size_t nseals)
{
    const json_t *units = json_object_get(ship, "units");
    memset(in, 0, sizeof(*in));
    snprintf(in->site, sizeof(in->site), "%s", site);
    snprintf(in->shipment, sizeof(in->shipment), "%s", shipment);
    in->seals = (char **)seals;
    in->nseals = nseals;
    in->units = calloc(r->attest.n + 1, sizeof(*in->units));
    if (!in->units)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    in->verdict = WB_VERDICT_PASS;
    for (size_t i = 0; i < r->attest.n; i++) {
        const wb_verifier_result *x = &r->attest.results[i];
        if (x->verdict != WB_VERDICT_PASS)
            in->verdict = WB_VERDICT_FAIL;
        if (!shipped(units, x->id) || x->failed != WB_CHECK_NONE)
            continue;
        wb_p_intake_unit *u = &in->units[in->nunits++];
        snprintf(u->id, sizeof(u->id), "%s", x->id);
        u->found = x->seen;
        u->nfound = x->nseen;
    }
    return 0;
}

/* the findings the rules would raise for the intake */
static int dry_run_intake(wb_intake_report *r, const wb_verifier_options *o,
                          const wb_prov_payload *p)
{
    json_t *j, *body = json_array(), *answers = NULL;
    const json_t *findings, *f;
    size_t i, used = 0;
    char url_path[] = "/attest/check";
    int rc = body ? vf_payload_json(&j, p) : wb_error_set(WB_E_NOMEM, "out of memory");
    if (rc == 0) {
        json_array_append_new(body, j);
        rc = vf_post_json(&answers, o->ledger_url, url_path, body);
    }
    json_decref(body);
    if (rc)
        return rc;
    if (json_string_value(json_object_get(json_array_get(answers, 0), "error"))) {
        rc = wb_error_set(WB_E_INVALID, "the service refused the draft intake: %s",
                          json_string_value(json_object_get(json_array_get(answers, 0),
                                                            "error")));
        json_decref(answers);
        return rc;
    }
    findings = json_object_get(json_array_get(answers, 0), "findings");
    json_array_foreach(findings, i, f) {
        const char *rule = json_string_value(json_object_get(f, "rule"));
        const char *tag = json_string_value(json_object_get(f, "tag"));
        const char *reason = json_string_value(json_object_get(f, "reason"));
        int w = snprintf(r->findings + used, sizeof(r->findings) - used, "%s%s/%s",
                         used ? ", " : "", rule ? rule : "?", tag ? tag : "?");
        if (w > 0 && (size_t)w < sizeof(r->findings) - used)
            used += (size_t)w;
        if (r->nfindings++ == 0)
            snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
    }
    json_decref(answers);
    return 0;
}

int wb_intake_run(wb_intake_report *r, const wb_verifier_options *opt, const char *shipment,
                  char *const *seals, size_t nseals)
{
    wb_verifier_options o = *opt;
    char path[256];
    json_t *ship = NULL;
    const json_t *units, *v;
    const char **targets = NULL;
    size_t i, n = 0;
    vf_plan plan;
    wb_prov_payload p;
    int rc;

    memset(r, 0, sizeof(*r));
    o.phase = WB_PHASE_ARRIVAL;
    if ((rc = vf_options_check(&o)) != 0)
        return rc;
    if (!shipment || !shipment[0] || strlen(shipment) > WB_PROV_NAME_MAX || strchr(shipment, '/'))
        return wb_error_set(WB_E_INVALID, "intake: a shipment id is a name of at most %d "
                            "characters without '/'", WB_PROV_NAME_MAX);
    snprintf(path, sizeof(path), "/shipments/%s", shipment);
    if ((rc = vf_get_json(&ship, o.ledger_url, path, 60)) != 0)
        return wb_error_prefix(rc, "intake of %s", shipment);
    units = json_object_get(ship, "units");
    targets = calloc(json_array_size(units) + 1, sizeof(*targets));
    if (!targets) {
        json_decref(ship);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    json_array_foreach(units, i, v) {
        if (json_string_value(v))
            targets[n++] = json_string_value(v);
    }
    rc = n ? vf_plan_load(&plan, o.ledger_url, targets, n)
           : wb_error_set(WB_E_INVALID, "intake: shipment %s has no units", shipment);
    free(targets);
    if (rc == 0) {
        rc = vf_run_plan(&r->attest, &o, &plan);
        vf_plan_cleanup(&plan);
    }
    memset(&p, 0, sizeof(p));
    p.kind = WB_KIND_INTAKE;
    p.version = WB_PROV_VERSION;
    if (rc == 0)
        rc = build_intake(&p.u.intake, r, ship, o.site, shipment, seals, nseals);
    if (rc == 0)
        rc = dry_run_intake(r, &o, &p);
    if (rc == 0) {
        if (r->nfindings > 0)
            p.u.intake.verdict = WB_VERDICT_FAIL;
        r->verdict = p.u.intake.verdict;
        if (r->verdict == WB_VERDICT_FAIL && !r->reason[0])
            snprintf(r->reason, sizeof(r->reason), "a unit failed its arrival attestation");
        if (!o.dry_run)
            rc = vf_register(&o, &p, shipment, r->entry);
    }
    free(p.u.intake.units);
    json_decref(ship);
    if (rc)
        wb_intake_report_cleanup(r);
    return rc ? wb_error_prefix(rc, "intake of %s", shipment) : 0;
}

void wb_intake_report_cleanup(wb_intake_report *r)
{
    wb_verifier_report_cleanup(&r->attest);
    memset(r, 0, sizeof(*r));
}
