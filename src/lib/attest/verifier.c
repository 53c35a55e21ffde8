/*
 * verifier.c: the datacenter's verifier (waybill/verifier.h,
 * docs/attestation.md "Verifier"). For every unit of the targets' plans,
 * level by level (a rack's blades before the rack):
 *
 *   challenge   a fresh 32-byte nonce from the CSPRNG per unit, sent with a
 *               timeout; the answer is verified by wb_evidence_verify (or
 *               the TPM path), which checks signature, alias certificate,
 *               identity chain to the manifesting supplier's CAs, device id,
 *               nonce and age;
 *   dry run     the draft attestation statements go to the service's
 *               POST /attest/check, which runs the anomaly rules of
 *               docs/anomalies.md on them without writing: the findings
 *               they would raise decide the verdict, so the verifier and
 *               the ledger never disagree about what is wrong;
 *   register    each statement is signed with the datacenter's key and
 *               registered (POST /entries); the service raises the findings.
 *
 * Challenges run on a pool of threads (wb_parallel_for): a challenge is
 * mostly waiting on the device, the verification a handful of signature
 * checks. A device that does not answer is a result (failed check
 * "unreachable"), not an error.
 */
#include "attest_int.h"

#include <stdarg.h>
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

#define NONCE_LEN 32
#define CHECK_BODY_MAX 48000   /* bytes of drafts per dry-run request */
#define CHECK_BATCH_MAX 200    /* drafts per dry-run request (the service takes 256) */
#define REASONS_MAX 8          /* reasons kept in one statement */
#define REGISTER_WAIT_S 30

void wb_verifier_options_init(wb_verifier_options *o)
{
    memset(o, 0, sizeof(*o));
    o->phase = WB_PHASE_PERIODIC;
    o->timeout_ms = 5000;
    o->max_age_s = 300;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the ledger over HTTP ---- */

int vf_get_json(json_t **out, const char *base, const char *path, long timeout_s)
{
    char url[1024];
    wb_http_response resp;
    json_error_t jerr;
    int rc = wb_http_join(url, sizeof(url), base, path);
    *out = NULL;
    if (rc)
        return rc;
    rc = wb_http_request(&resp, "GET", url, NULL, 0, NULL, "application/json", timeout_s);
    if (rc)
        return wb_error_prefix(rc, "GET %s", url);
    if (resp.status != 200) {
        char title[128], detail[512];
        wb_http_problem(&resp, title, sizeof(title), detail, sizeof(detail));
        rc = wb_error_set(resp.status == 404 ? WB_E_NOTFOUND : WB_E_IO, "GET %s: %ld %s%s%s",
                          url, resp.status, title, detail[0] ? ": " : "", detail);
        wb_http_response_cleanup(&resp);
        return rc;
    }
    *out = json_loadb((const char *)resp.body, resp.len, 0, &jerr);
    wb_http_response_cleanup(&resp);
    if (!*out)
        return wb_error_set(WB_E_INVALID, "GET %s: not JSON: %s", url, jerr.text);
    return 0;
}

int vf_post_json(json_t **out, const char *base, const char *path, const json_t *body)
{
    char url[1024], *text;
    wb_http_response resp;
    json_error_t jerr;
    int rc = wb_http_join(url, sizeof(url), base, path);
    *out = NULL;
    if (rc)
        return rc;
    text = json_dumps(body, JSON_COMPACT);
    if (!text)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    rc = wb_http_request(&resp, "POST", url, (const uint8_t *)text, strlen(text),
                         "application/json", "application/json", 60);
    free(text);
    if (rc)
        return wb_error_prefix(rc, "POST %s", url);
    if (resp.status != 200) {
        char title[128], detail[512];
        wb_http_problem(&resp, title, sizeof(title), detail, sizeof(detail));
        rc = wb_error_set(resp.status == 404 ? WB_E_NOTFOUND : WB_E_IO,
                          "POST %s: %ld %s%s%s", url, resp.status, title,
                          detail[0] ? ": " : "", detail);
        wb_http_response_cleanup(&resp);
        return rc;
    }
    *out = json_loadb((const char *)resp.body, resp.len, 0, &jerr);
    wb_http_response_cleanup(&resp);
    if (!*out)
        return wb_error_set(WB_E_INVALID, "POST %s: not JSON: %s", url, jerr.text);
    return 0;
}

/* ---- the plan ---- */

static void unit_free(vf_unit *u)
{
    wb_evidence_cleanup(&u->ev);
    for (size_t i = 0; i < u->draft.nreasons; i++)
        free(u->draft.reasons[i]);
    free(u->draft.reasons);
    memset(&u->draft, 0, sizeof(u->draft));
}

void vf_plan_cleanup(vf_plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        unit_free(&p->units[i]);
    free(p->units);
    for (size_t i = 0; i < p->nsuppliers; i++) {
        for (size_t k = 0; k < p->suppliers[i].n; k++)
            free(p->suppliers[i].der[k]);
        free(p->suppliers[i].der);
        free(p->suppliers[i].len);
    }
    free(p->suppliers);
    memset(p, 0, sizeof(*p));
}

static int add_supplier(vf_plan *p, const char *name, const json_t *list)
{
    vf_supplier *s, *g;
    const json_t *v;
    size_t i;
    for (i = 0; i < p->nsuppliers; i++)
        if (strcmp(p->suppliers[i].name, name) == 0)
            return 0;
    g = realloc(p->suppliers, (p->nsuppliers + 1) * sizeof(*g));
    if (!g)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    p->suppliers = g;
    s = &g[p->nsuppliers++];
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->der = calloc(json_array_size(list) + 1, sizeof(*s->der));
    s->len = calloc(json_array_size(list) + 1, sizeof(*s->len));
    if (!s->der || !s->len)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    json_array_foreach(list, i, v) {
        const char *b64 = json_string_value(v);
        size_t n = b64 ? strlen(b64) : 0, got;
        uint8_t *der = malloc(n + 1);
        if (!der)
            return wb_error_set(WB_E_NOMEM, "out of memory");
        if (!b64 || wb_base64_decode(der, n + 1, &got, b64, n) != 0) {
            free(der);
            return wb_error_set(WB_E_INVALID, "plan: cas.%s[%zu]: not base64", name, i);
        }
        s->der[s->n] = der;
        s->len[s->n++] = got;
    }
    return 0;
}

static const vf_supplier *find_supplier(const vf_plan *p, const char *name)
{
    for (size_t i = 0; i < p->nsuppliers; i++)
        if (strcmp(p->suppliers[i].name, name) == 0)
            return &p->suppliers[i];
    return NULL;
}

/* merges one target's plan: a unit named twice keeps its deepest level */
static int merge_plan(vf_plan *p, const json_t *plan)
{
    const json_t *units = json_object_get(plan, "units"), *cas = json_object_get(plan, "cas"),
                 *u, *v;
    const char *name;
    size_t i;
    int rc;
    if (!json_is_array(units) || !json_is_object(cas))
        return wb_error_set(WB_E_INVALID, "plan: no units or cas");
    json_object_foreach((json_t *)cas, name, v) {
        if ((rc = add_supplier(p, name, v)) != 0)
            return rc;
    }
    json_array_foreach(units, i, u) {
        const char *id = json_string_value(json_object_get(u, "id"));
        const char *cls = json_string_value(json_object_get(u, "class"));
        const char *serial = json_string_value(json_object_get(u, "serial"));
        const char *sup = json_string_value(json_object_get(u, "supplier"));
        int depth = (int)json_integer_value(json_object_get(u, "depth"));
        vf_unit *x = NULL, *g;
        if (!id || strlen(id) != WB_DEVICE_ID_HEX)
            return wb_error_set(WB_E_INVALID, "plan: units[%zu]: no device id", i);
        for (size_t k = 0; k < p->n; k++)
            if (strcmp(p->units[k].id, id) == 0)
                x = &p->units[k];
        if (x) {
            if (depth > x->depth)
                x->depth = depth;
            continue;
        }
        g = realloc(p->units, (p->n + 1) * sizeof(*g));
        if (!g)
            return wb_error_set(WB_E_NOMEM, "out of memory");
        p->units = g;
        x = &g[p->n++];
        memset(x, 0, sizeof(*x));
        snprintf(x->id, sizeof(x->id), "%s", id);
        snprintf(x->cls, sizeof(x->cls), "%s", cls ? cls : "");
        snprintf(x->serial, sizeof(x->serial), "%s", serial ? serial : "");
        snprintf(x->supplier, sizeof(x->supplier), "%s", sup ? sup : "");
        x->depth = depth;
    }
    return 0;
}

int vf_plan_load(vf_plan *p, const char *ledger, const char *const *targets, size_t n)
{
    memset(p, 0, sizeof(*p));
    for (size_t i = 0; i < n; i++) {
        char path[256];
        json_t *plan;
        int rc;
        snprintf(path, sizeof(path), "/attest/plan/%s", targets[i]);
        rc = vf_get_json(&plan, ledger, path, 60);
        if (rc == 0) {
            rc = merge_plan(p, plan);
            json_decref(plan);
        }
        if (rc) {
            vf_plan_cleanup(p);
            return wb_error_prefix(rc, "target %s", targets[i]);
        }
    }
    for (size_t i = 0; i < p->n; i++)
        if (p->units[i].depth > p->max_depth)
            p->max_depth = p->units[i].depth;
    return 0;
}

/* ---- one challenge ---- */

static int add_reason(wb_p_attestation *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int add_reason(wb_p_attestation *a, const char *fmt, ...)
{
    char text[WB_PROV_TEXT_MAX + 1], **g;
    va_list ap;
    if (a->nreasons >= REASONS_MAX)
        return 0;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    g = realloc(a->reasons, (a->nreasons + 1) * sizeof(*g));
    if (!g)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    a->reasons = g;
    g[a->nreasons] = strdup(text);
    if (!g[a->nreasons])
        return wb_error_set(WB_E_NOMEM, "out of memory");
    a->nreasons++;
    return 0;
}

/* asks the device over HTTP; *answer malloc'd, or a transport failure */
static int ask_http(const char *devices, const char *id, const uint8_t *nonce, size_t nlen,
                    unsigned timeout_ms, uint8_t **answer, size_t *alen)
{
    char path[128], url[1024];
    wb_http_response resp;
    long timeout_s = (long)((timeout_ms + 999) / 1000);
    int rc;
    snprintf(path, sizeof(path), "/devices/%s/challenge", id);
    if ((rc = wb_http_join(url, sizeof(url), devices, path)) != 0)
        return rc;
    /* devices never see the ledger's bearer token */
    rc = wb_http_request_anon(&resp, "POST", url, nonce, nlen, "application/octet-stream",
                              "application/cose", timeout_s > 0 ? timeout_s : 1);
    if (rc)
        return rc;
    if (resp.status != 200) {
        rc = wb_error_set(WB_E_IO, "the device answered HTTP %ld", resp.status);
        wb_http_response_cleanup(&resp);
        return rc;
    }
    *answer = resp.body;
    *alen = resp.len;
    resp.body = NULL;
    wb_http_response_cleanup(&resp);
    return 0;
}

static const wb_verifier_tpm *tpm_of(const wb_verifier_options *o, const char *id)
{
    for (size_t i = 0; i < o->ntpms; i++)
        if (strcmp(o->tpms[i].id, id) == 0)
            return &o->tpms[i];
    return NULL;
}

/* the draft statement of unit u from what its device answered */
static int challenge_unit(vf_run *r, vf_unit *u)
{
    const wb_verifier_options *o = r->o;
    wb_p_attestation *a = &u->draft;
    uint8_t nonce[NONCE_LEN], h[32], *answer = NULL;
    size_t alen = 0;
    const vf_supplier *sup = find_supplier(r->plan, u->supplier);
    const wb_verifier_tpm *tpm = tpm_of(o, u->id);
    wb_evidence_check chk;
    wb_evidence_failure why = WB_EV_OK;
    double t0 = now_s();
    int rc;

    memset(a, 0, sizeof(*a));
    snprintf(a->site, sizeof(a->site), "%s", o->site);
    snprintf(a->target, sizeof(a->target), "%s", u->id);
    a->phase = o->phase;
    if ((rc = wb_random_bytes(nonce, sizeof(nonce))) != 0)
        return rc;
    wb_hex_encode(a->nonce, nonce, sizeof(nonce));
    memset(&chk, 0, sizeof(chk));
    chk.nonce = nonce;
    chk.nonce_len = sizeof(nonce);
    chk.cas = sup ? (const uint8_t *const *)sup->der : NULL;
    chk.ca_len = sup ? sup->len : NULL;
    chk.ncas = sup ? sup->n : 0;
    chk.max_age_s = o->max_age_s;
    chk.expect_device = u->id;

    if (tpm) {
        rc = vf_tpm_challenge(&u->ev, &why, h, tpm->tcti, &chk, &u->verifications);
        if (rc == WB_E_IO)
            why = WB_EV_UNREACHABLE;
    } else if (!o->devices_url) {
        rc = wb_error_set(WB_E_IO, "no devices URL and no TPM for this device");
        why = WB_EV_UNREACHABLE;
    } else {
        rc = ask_http(o->devices_url, u->id, nonce, sizeof(nonce), o->timeout_ms, &answer,
                      &alen);
        if (rc) {
            why = WB_EV_UNREACHABLE;
        } else {
            wb_sha256(h, answer, alen);
            rc = wb_evidence_verify(&u->ev, &why, answer, alen, &chk);
            u->verifications += why == WB_EV_OK || why >= WB_EV_SIGNATURE
                                    ? WB_EVIDENCE_VERIFICATIONS
                                    : 0;
        }
    }
    free(answer);
    u->challenge_ms = (now_s() - t0) * 1000.0;
    if (why == WB_EV_UNREACHABLE)
        wb_sha256(h, "", 0); /* no evidence: the SHA-256 of nothing */
    wb_hex_encode(a->evidence_digest, h, 32);
    if (rc == 0) {
        a->seen = u->ev.slots;
        a->nseen = u->ev.nslots;
        a->measurements = u->ev.measurements;
        a->nmeasurements = u->ev.nmeasurements;
        a->verdict = WB_VERDICT_PASS;
        return 0;
    }
    if (rc == WB_E_NOMEM)
        return rc;
    if (why == WB_EV_OK)
        why = WB_EV_FORMAT;
    a->verdict = WB_VERDICT_FAIL;
    a->failed_check = (wb_failed_check)why;
    return add_reason(a, "%s: %s", wb_failed_check_name(a->failed_check),
                      wb_error_message());
}

static int challenge_one(void *ctx, size_t i)
{
    vf_run *r = ctx;
    return challenge_unit(r, &r->plan->units[r->level[i]]);
}

/* ---- the dry run ---- */

static void note_findings(vf_unit *u, const json_t *findings)
{
    const json_t *f;
    size_t i, used = strlen(u->findings);
    json_array_foreach(findings, i, f) {
        const char *rule = json_string_value(json_object_get(f, "rule"));
        const char *tag = json_string_value(json_object_get(f, "tag"));
        const char *reason = json_string_value(json_object_get(f, "reason"));
        int w;
        u->nfindings++;
        if (reason)
            add_reason(&u->draft, "%s (%s): %s", rule ? rule : "?", tag ? tag : "?", reason);
        w = snprintf(u->findings + used, sizeof(u->findings) - used, "%s%s/%s",
                     used ? ", " : "", rule ? rule : "?", tag ? tag : "?");
        if (w > 0 && (size_t)w < sizeof(u->findings) - used)
            used += (size_t)w;
    }
    if (u->nfindings > 0)
        u->draft.verdict = WB_VERDICT_FAIL;
}

/* POSTs the drafts of units idx[0..n) and applies the answers */
static int check_chunk(vf_run *r, const size_t *idx, size_t n, json_t *drafts)
{
    json_t *answers;
    int rc = vf_post_json(&answers, r->o->ledger_url, "/attest/check", drafts);
    if (rc)
        return rc;
    if (!json_is_array(answers) || json_array_size(answers) != n) {
        json_decref(answers);
        return wb_error_set(WB_E_INVALID, "POST /attest/check: %zu answers for %zu drafts",
                            json_array_size(answers), n);
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *a = json_array_get(answers, i);
        const char *err = json_string_value(json_object_get(a, "error"));
        vf_unit *u = &r->plan->units[idx[i]];
        if (err) {
            rc = wb_error_set(WB_E_INVALID, "the service refused the draft attestation of "
                              "%.16s: %s", u->id, err);
            break;
        }
        note_findings(u, json_object_get(a, "findings"));
    }
    json_decref(answers);
    return rc;
}

/* a draft statement as the JSON the service parses */
int vf_payload_json(json_t **out, const wb_prov_payload *p)
{
    char *text = NULL;
    size_t len;
    json_error_t jerr;
    int rc = wb_prov_encode(&text, &len, p);
    *out = NULL;
    if (rc)
        return rc;
    *out = json_loadb(text, len, 0, &jerr);
    free(text);
    return *out ? 0 : wb_error_set(WB_E_INTERNAL, "encoded payload is not JSON: %s",
                                   jerr.text);
}

static int dry_run_level(vf_run *r, size_t nlevel)
{
    size_t *idx = calloc(CHECK_BATCH_MAX, sizeof(*idx)), n = 0, bytes = 0;
    json_t *drafts = json_array();
    int rc = idx && drafts ? 0 : wb_error_set(WB_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < nlevel; i++) {
        vf_unit *u = &r->plan->units[r->level[i]];
        wb_prov_payload p;
        json_t *j;
        char *text;
        memset(&p, 0, sizeof(p));
        p.kind = WB_KIND_ATTESTATION;
        p.version = WB_PROV_VERSION;
        p.u.attestation = u->draft;
        if ((rc = vf_payload_json(&j, &p)) != 0)
            break;
        text = json_dumps(j, JSON_COMPACT);
        if (!text) {
            json_decref(j);
            rc = wb_error_set(WB_E_NOMEM, "out of memory");
            break;
        }
        if (n > 0 && (bytes + strlen(text) > CHECK_BODY_MAX || n == CHECK_BATCH_MAX)) {
            rc = check_chunk(r, idx, n, drafts);
            json_array_clear(drafts);
            n = 0;
            bytes = 0;
        }
        bytes += strlen(text) + 1;
        free(text);
        json_array_append_new(drafts, j);
        idx[n++] = r->level[i];
    }
    if (rc == 0 && n > 0)
        rc = check_chunk(r, idx, n, drafts);
    json_decref(drafts);
    free(idx);
    return rc;
}

/* ---- registration ---- */

int vf_register(const wb_verifier_options *o, const wb_prov_payload *p, const char *sub,
                char entry[65])
{
    wb_cose_signer signer;
    uint8_t kid[32], *st = NULL;
    size_t len;
    wb_register_result res;
    int rc = wb_cose_signer_for_key(&signer, o->key);
    if (rc == 0)
        rc = wb_key_default_kid(kid, o->key);
    if (rc == 0)
        rc = wb_fleet_sign_statement(&st, &len, p, &signer, kid, o->issuer, sub, 0);
    if (rc)
        return rc;
    for (int attempt = 0;; attempt++) {
        memset(&res, 0, sizeof(res));
        rc = wb_client_register(&res, o->ledger_url, st, len, REGISTER_WAIT_S, NULL, NULL);
        /* a full queue or a dropped connection is worth another try */
        if ((rc == WB_E_INTERNAL || rc == WB_E_IO) && attempt < 20) {
            wb_register_result_cleanup(&res);
            usleep(100000u * (unsigned)(attempt + 1));
            continue;
        }
        break;
    }
    free(st);
    if (rc == 0) {
        const char *slash = strrchr(res.location, '/');
        snprintf(entry, 65, "%s", slash ? slash + 1 : "");
    } else if (rc == WB_E_INVALID) {
        rc = wb_error_set(rc, "the service refused the %s statement for %.16s: %s: %s",
                          wb_kind_name(p->kind), sub, res.title, res.detail);
    }
    wb_register_result_cleanup(&res);
    return rc;
}

static int register_one(void *ctx, size_t i)
{
    vf_run *r = ctx;
    vf_unit *u = &r->plan->units[r->level[i]];
    wb_prov_payload p;
    memset(&p, 0, sizeof(p));
    p.kind = WB_KIND_ATTESTATION;
    p.version = WB_PROV_VERSION;
    p.u.attestation = u->draft;
    return vf_register(r->o, &p, u->id, u->entry);
}

/* ---- the run ---- */

static void progress_cb(void *ctx, size_t done, size_t total)
{
    vf_run *r = ctx;
    (void)total;
    if (r->o->progress)
        r->o->progress(r->o->progress_ctx, r->done_before + done, r->plan->n);
}

static unsigned threads_for(const wb_verifier_options *o)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (o->threads)
        return o->threads;
    return (unsigned)(cores > 0 ? cores : 1) * 4;
}

static int run_levels(vf_run *r)
{
    unsigned threads = threads_for(r->o);
    int rc = 0;
    r->level = calloc(r->plan->n + 1, sizeof(*r->level));
    if (!r->level)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    for (int depth = r->plan->max_depth; rc == 0 && depth >= 0; depth--) {
        size_t n = 0;
        double t0;
        for (size_t i = 0; i < r->plan->n; i++)
            if (r->plan->units[i].depth == depth)
                r->level[n++] = i;
        if (n == 0)
            continue;
        t0 = now_s();
        rc = wb_parallel_for(threads, n, challenge_one, r, progress_cb, r);
        r->challenge_s += now_s() - t0;
        if (rc == 0)
            rc = dry_run_level(r, n);
        if (rc == 0 && !r->o->dry_run)
            rc = wb_parallel_for(threads, n, register_one, r, NULL, NULL);
        r->done_before += n;
    }
    free(r->level);
    r->level = NULL;
    return rc;
}

static int fill_report(wb_verifier_report *rep, vf_plan *plan)
{
    rep->results = calloc(plan->n + 1, sizeof(*rep->results));
    if (!rep->results)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    for (size_t i = 0; i < plan->n; i++) {
        vf_unit *u = &plan->units[i];
        wb_verifier_result *x = &rep->results[rep->n++];
        snprintf(x->id, sizeof(x->id), "%s", u->id);
        snprintf(x->cls, sizeof(x->cls), "%s", u->cls);
        snprintf(x->serial, sizeof(x->serial), "%s", u->serial);
        x->verdict = u->draft.verdict;
        x->failed = u->draft.failed_check;
        snprintf(x->reason, sizeof(x->reason), "%s",
                 u->draft.nreasons ? u->draft.reasons[0] : "");
        x->nfindings = u->nfindings;
        snprintf(x->findings, sizeof(x->findings), "%s", u->findings);
        snprintf(x->entry, sizeof(x->entry), "%s", u->entry);
        x->challenge_ms = u->challenge_ms;
        if (u->ev.nslots > 0 && x->failed == WB_CHECK_NONE) {
            x->seen = calloc(u->ev.nslots, sizeof(*x->seen));
            if (!x->seen)
                return wb_error_set(WB_E_NOMEM, "out of memory");
            memcpy(x->seen, u->ev.slots, u->ev.nslots * sizeof(*x->seen));
            x->nseen = u->ev.nslots;
        }
        rep->verifications += u->verifications;
        if (x->verdict == WB_VERDICT_PASS)
            rep->pass++;
        else
            rep->fail++;
        if (x->failed == WB_CHECK_UNREACHABLE)
            rep->unreachable++;
    }
    return 0;
}

int vf_run_plan(wb_verifier_report *rep, const wb_verifier_options *o, vf_plan *plan)
{
    vf_run r;
    int rc;
    double t0 = now_s();
    memset(&r, 0, sizeof(r));
    r.o = o;
    r.plan = plan;
    rc = run_levels(&r);
    if (rc == 0)
        rc = fill_report(rep, plan);
    rep->challenge_s = r.challenge_s;
    rep->elapsed_s = now_s() - t0;
    return rc;
}

int vf_options_check(const wb_verifier_options *o)
{
    if (!o->ledger_url)
        return wb_error_set(WB_E_INVALID, "verifier: no ledger URL");
    if (!o->site || !o->site[0])
        return wb_error_set(WB_E_INVALID, "verifier: no site (the datacenter site the "
                            "attestations are made at)");
    if (!o->dry_run && (!o->key || !o->issuer || !o->issuer[0]))
        return wb_error_set(WB_E_INVALID, "verifier: the datacenter's signing key and issuer "
                            "name are needed to register attestations");
    if (o->phase < WB_PHASE_ARRIVAL || o->phase > WB_PHASE_PERIODIC)
        return wb_error_set(WB_E_INVALID, "verifier: no phase");
    return 0;
}

int wb_verifier_run(wb_verifier_report *rep, const wb_verifier_options *o,
                    const char *const *targets, size_t ntargets)
{
    vf_plan plan;
    int rc;
    memset(rep, 0, sizeof(*rep));
    if ((rc = vf_options_check(o)) != 0)
        return rc;
    if (ntargets == 0)
        return wb_error_set(WB_E_INVALID, "verifier: no target");
    if ((rc = vf_plan_load(&plan, o->ledger_url, targets, ntargets)) != 0)
        return rc;
    rc = vf_run_plan(rep, o, &plan);
    vf_plan_cleanup(&plan);
    if (rc)
        wb_verifier_report_cleanup(rep);
    return rc;
}

void wb_verifier_report_cleanup(wb_verifier_report *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->results[i].seen);
    free(r->results);
    memset(r, 0, sizeof(*r));
}

json_t *vf_report_object(const wb_verifier_report *r)
{
    json_t *o = json_object(), *list = json_array();
    if (!o || !list) {
        json_decref(o);
        json_decref(list);
        return NULL;
    }
    for (size_t i = 0; i < r->n; i++) {
        const wb_verifier_result *x = &r->results[i];
        json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:f}", "device",
                              x->id, "class", x->cls, "serial", x->serial, "verdict",
                              x->verdict == WB_VERDICT_PASS ? "pass" : "fail", "failed_check",
                              wb_failed_check_name(x->failed), "reason", x->reason,
                              "findings", (json_int_t)x->nfindings, "rules", x->findings,
                              "entry_id", x->entry, "challenge_ms", x->challenge_ms);
        if (e)
            json_array_append_new(list, e);
    }
    json_object_set_new(o, "units", json_integer((json_int_t)r->n));
    json_object_set_new(o, "pass", json_integer((json_int_t)r->pass));
    json_object_set_new(o, "fail", json_integer((json_int_t)r->fail));
    json_object_set_new(o, "unreachable", json_integer((json_int_t)r->unreachable));
    json_object_set_new(o, "elapsed_s", json_real(r->elapsed_s));
    json_object_set_new(o, "verifications", json_integer((json_int_t)r->verifications));
    json_object_set_new(o, "results", list);
    return o;
}

int wb_verifier_report_json(char **out, const wb_verifier_report *r)
{
    json_t *o = vf_report_object(r);
    *out = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return *out ? 0 : wb_error_set(WB_E_NOMEM, "out of memory");
}
