/*
 * audit_replay.c: the auditor's replay of every statement (docs/audit.md
 * "What is checked"): COSE_Sign1 decoding and signature (RFC 9052), the
 * signed-statement profile (RFC 9943), the signer (an operator admin key,
 * the service's own key for findings, an issuer registered in the ledger
 * before the entry, or an extra key the auditor was given), the
 * registration policy of docs/policy.md (wb_fleet_authorize) against the
 * state built from the entries before it, and the fleet tables
 * (wb_fleet_apply), all in the auditor's own store.
 *
 * Signatures are the expensive part, so a chunk is cut into runs that end
 * at each governance entry (issuer or revocation: they change who may
 * sign); within a run every signer is known from the state at its start,
 * so the run's signatures are verified on all cores, then the policy and
 * the tables are replayed in log order on one thread.
 */
#include "audit_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "waybill/cose.h"
#include "waybill/error.h"
#include "waybill/scitt.h"
#include "waybill/util.h"

/* a finding the rules raise for an entry, until the service registers it */
typedef struct {
    char id[65];
    uint64_t index;              /* the entry that raised it */
    char rule[WB_PROV_NAME_MAX + 1];
    char device[WB_DEVICE_ID_HEX + 1];
    wb_tag tag;
} expected_finding;

struct audit_replay {
    expected_finding *expected;
    size_t nexpected, cap_expected;
    uint64_t findings_raised, findings_registered;
    wb_store *state;
    const wb_audit_trust *trust;
    wb_fleet_config cfg;
    uint8_t (*admin_kids)[32];
    uint8_t (*issuer_kids)[32];
    unsigned threads;
    int allow_unknown;
    uint64_t statements, policy, unknown;
};

/* per entry of a run */
typedef struct {
    wb_fleet_entry e;
    int decoded;
    const wb_key *key;  /* the signer's key (borrowed), NULL: unknown */
    wb_key *owned;      /* x5chain leaf or ledger key (owned) */
    int rc;             /* result of the parallel step */
    char err[512];
} slot;

typedef struct {
    audit_replay *r;
    slot *slots;
} run_ctx;

int audit_replay_new(audit_replay **out, wb_store *state, const wb_audit_trust *trust,
                     unsigned threads, int allow_unknown)
{
    audit_replay *r = calloc(1, sizeof(*r));
    int rc = 0;
    if (!r)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    r->state = state;
    r->trust = trust;
    /* 0: every core */
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 && n < 1024 ? (unsigned)n : 1;
    }
    r->threads = threads;
    r->allow_unknown = allow_unknown;
    wb_fleet_config_init(&r->cfg);
    r->admin_kids = calloc(trust->nadmin + 1, 32);
    r->issuer_kids = calloc(trust->nissuers + 1, 32);
    if (!r->admin_kids || !r->issuer_kids)
        rc = wb_error_set(WB_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < trust->nadmin; i++)
        rc = wb_key_default_kid(r->admin_kids[i], trust->admin[i]);
    for (size_t i = 0; rc == 0 && i < trust->nissuers; i++)
        rc = wb_key_default_kid(r->issuer_kids[i], trust->issuers[i]);
    r->cfg.admin_kids = r->admin_kids;
    r->cfg.nadmin = trust->nadmin;
    if (rc == 0 && trust->service_key)
        rc = wb_key_default_kid(r->cfg.service_kid, trust->service_key);
    snprintf(r->cfg.service_name, sizeof(r->cfg.service_name), "%s", trust->service_name);
    if (rc) {
        audit_replay_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void audit_replay_free(audit_replay *r)
{
    if (!r)
        return;
    free(r->admin_kids);
    free(r->issuer_kids);
    free(r->expected);
    free(r);
}

void audit_replay_counts(const audit_replay *r, uint64_t *statements, uint64_t *policy,
                         uint64_t *unknown)
{
    *statements = r->statements;
    *policy = r->policy;
    *unknown = r->unknown;
}

/* a key the auditor was given for this kid (admin, service, extra issuer) */
static const wb_key *static_key(const audit_replay *r, const wb_cose_bytes *kid)
{
    if (kid->len != 32)
        return NULL;
    for (size_t i = 0; i < r->trust->nadmin; i++)
        if (memcmp(r->admin_kids[i], kid->ptr, 32) == 0)
            return r->trust->admin[i];
    if (r->trust->service_key && memcmp(r->cfg.service_kid, kid->ptr, 32) == 0)
        return r->trust->service_key;
    for (size_t i = 0; i < r->trust->nissuers; i++)
        if (memcmp(r->issuer_kids[i], kid->ptr, 32) == 0)
            return r->trust->issuers[i];
    return NULL;
}

static int verify_sig(const wb_cose_sign1 *m, const wb_key *key)
{
    wb_cose_verifier v;
    int rc = wb_cose_verifier_for_key(&v, key);
    if (rc)
        return rc;
    if (v.alg != m->hdr.alg)
        return wb_error_set(WB_E_VERIFY, "alg %lld does not match the signer's %s key",
                            (long long)m->hdr.alg, wb_alg_name(wb_key_alg(key)));
    rc = wb_cose_sign1_verify(m, &v, NULL, 0);
    return rc ? wb_error_prefix(WB_E_VERIFY, "signature") : 0;
}

/* parallel step: decode, profile, and the signature when the key is known */
static int verify_one(void *vctx, size_t i)
{
    run_ctx *c = vctx;
    slot *s = &c->slots[i];
    int rc = 0;
    if (!s->decoded)
        return 0; /* decode failed serially: reported there */
    rc = wb_scitt_statement_check(s->e.msg);
    if (rc == 0 && s->e.msg->hdr.nx5chain > 0 && !s->owned) {
        rc = wb_key_from_x509_der(&s->owned, s->e.msg->hdr.x5chain[0].ptr,
                                  s->e.msg->hdr.x5chain[0].len);
        if (rc)
            rc = wb_error_prefix(WB_E_VERIFY, "x5chain[0]");
        else
            s->key = s->owned;
    }
    if (rc == 0 && s->key)
        rc = verify_sig(s->e.msg, s->key);
    s->rc = rc;
    if (rc)
        snprintf(s->err, sizeof(s->err), "%s", wb_error_message());
    return 0; /* every slot is judged; the first failure is found in order */
}

static int is_governance(const wb_fleet_entry *e)
{
    return e->kind == WB_KIND_ISSUER || e->kind == WB_KIND_REVOCATION;
}

/* the key of a ledger-registered issuer, as of the state now */
static int ledger_key(audit_replay *r, slot *s)
{
    uint8_t *spki = NULL;
    size_t spki_len;
    char name[WB_PROV_NAME_MAX + 1];
    const wb_cose_bytes *kid = &s->e.msg->hdr.kid;
    int rc = wb_fleet_issuer_by_kid(r->state, kid->ptr, kid->len, name, sizeof(name), &spki,
                                    &spki_len);
    if (rc)
        return rc;
    rc = wb_fleet_key_from_spki(&s->owned, spki, spki_len);
    free(spki);
    if (rc == 0)
        s->key = s->owned;
    return rc;
}

/* a signer the auditor cannot check: a failure unless allowed */
static int unknown_signer(audit_replay *r, slot *s)
{
    char hex[65];
    const wb_cose_headers *h = &s->e.msg->hdr;
    r->unknown++;
    if (r->allow_unknown)
        return 0;
    if (h->nx5chain > 0)
        return wb_error_set(WB_E_VERIFY, "its x5chain leads to no issuer CA registered in "
                            "the ledger before it");
    wb_hex_encode(hex, h->kid.ptr, h->kid.len > 32 ? 32 : h->kid.len);
    return wb_error_set(WB_E_VERIFY, "kid %s is not an admin key, the service's key or an "
                        "issuer registered in the ledger before it", hex);
}

static int x5chain_known(audit_replay *r, const wb_cose_headers *h)
{
    const uint8_t *der[WB_COSE_X5CHAIN_MAX];
    size_t len[WB_COSE_X5CHAIN_MAX];
    char name[WB_PROV_NAME_MAX + 1];
    for (size_t i = 0; i < h->nx5chain; i++) {
        der[i] = h->x5chain[i].ptr;
        len[i] = h->x5chain[i].len;
    }
    return wb_fleet_issuer_by_chain(r->state, der, len, h->nx5chain, name, sizeof(name)) == 0;
}

/*
 * The anomaly rules, replayed: what the service's rules raise for e (against
 * the state before e, as the service ran them) must later be registered as
 * a finding entry; a finding entry settles the one with its id.
 */
static int expect_findings(audit_replay *r, const wb_fleet_entry *e)
{
    wb_fleet_finding *f = NULL;
    size_t n = 0;
    int rc;
    if (e->kind == WB_KIND_FINDING) {
        const char *id = e->payload.u.finding.finding_id;
        for (size_t i = 0; i < r->nexpected; i++)
            if (strcmp(r->expected[i].id, id) == 0) {
                r->expected[i] = r->expected[--r->nexpected];
                r->findings_registered++;
                break;
            }
    }
    rc = wb_fleet_detect(r->state, &r->cfg, e, &f, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const wb_p_finding *p = &f[i].payload.u.finding;
        int dup = 0;
        for (size_t k = 0; k < r->nexpected && !dup; k++)
            dup = strcmp(r->expected[k].id, p->finding_id) == 0;
        if (dup)
            continue;
        if (r->nexpected == r->cap_expected) {
            size_t cap = r->cap_expected ? 2 * r->cap_expected : 64;
            expected_finding *g = realloc(r->expected, cap * sizeof(*g));
            if (!g) {
                rc = wb_error_set(WB_E_NOMEM, "out of memory");
                break;
            }
            r->expected = g;
            r->cap_expected = cap;
        }
        {
            expected_finding *x = &r->expected[r->nexpected++];
            snprintf(x->id, sizeof(x->id), "%s", p->finding_id);
            snprintf(x->rule, sizeof(x->rule), "%s", p->rule);
            snprintf(x->device, sizeof(x->device), "%s", p->device);
            x->tag = p->tag;
            x->index = e->index;
            r->findings_raised++;
        }
    }
    wb_fleet_findings_free(f, n);
    return rc;
}

int audit_replay_missing(const audit_replay *r, uint64_t before, uint64_t *index,
                         char *why, size_t cap, uint64_t *pending)
{
    const expected_finding *first = NULL;
    *pending = 0;
    for (size_t i = 0; i < r->nexpected; i++) {
        const expected_finding *x = &r->expected[i];
        if (x->index >= before) {
            (*pending)++;
            continue;
        }
        if (!first || x->index < first->index)
            first = x;
    }
    if (!first)
        return 0;
    *index = first->index;
    snprintf(why, cap, "entry %llu raises the finding %s (%s, %s, device %.16s...), but the "
             "service never registered it", (unsigned long long)first->index, first->rule,
             wb_tag_name(first->tag), first->id, first->device[0] ? first->device : "-");
    return 1;
}

void audit_replay_findings(const audit_replay *r, uint64_t *raised, uint64_t *registered)
{
    *raised = r->findings_raised;
    *registered = r->findings_registered;
}

/* serial step for one entry: signer, policy, tables */
static int judge(audit_replay *r, slot *s, wb_audit_failure *failure)
{
    const wb_cose_headers *h = &s->e.msg->hdr;
    int rc = s->rc;
    *failure = WB_AUDIT_STATEMENT;
    if (rc)
        return wb_error_set(WB_E_VERIFY, "%s", s->err);
    if (h->nx5chain > 0) {
        /* signature verified with the leaf; the chain must lead somewhere
           the auditor trusts: for provenance kinds the policy checks it */
        r->statements++;
        if (s->e.kind == WB_KIND_NONE && !x5chain_known(r, h) &&
            (rc = unknown_signer(r, s)) != 0)
            return rc;
    } else if (s->key) {
        r->statements++;
    } else if (s->e.kind == WB_KIND_NONE || h->kid.len != 32) {
        if ((rc = unknown_signer(r, s)) != 0)
            return rc;
    } else {
        /* provenance statement by an issuer the policy will name */
        if (ledger_key(r, s) != 0) {
            *failure = WB_AUDIT_POLICY;
            rc = unknown_signer(r, s);
            if (rc)
                return rc;
        } else if ((rc = verify_sig(s->e.msg, s->key)) != 0) {
            return rc;
        } else {
            r->statements++;
        }
    }
    if (s->e.kind != WB_KIND_NONE) {
        *failure = WB_AUDIT_POLICY;
        rc = wb_fleet_authorize(r->state, &r->cfg, &s->e);
        if (rc)
            return rc == WB_E_INVALID ? wb_error_set(WB_E_VERIFY, "%s", wb_error_message())
                                      : rc;
        r->policy++;
        rc = expect_findings(r, &s->e);
        if (rc)
            return rc;
    }
    rc = wb_fleet_apply(r->state, &s->e);
    if (rc == WB_E_INVALID || rc == WB_E_VERIFY) {
        *failure = WB_AUDIT_POLICY;
        return wb_error_set(WB_E_VERIFY, "%s", wb_error_message());
    }
    return rc;
}

static void slots_free(slot *slots, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        wb_key_free(slots[i].owned);
        if (slots[i].decoded)
            wb_fleet_entry_cleanup(&slots[i].e);
    }
    free(slots);
}

typedef struct {
    slot *slots;
    const audit_entry *entries;
    uint64_t first;
} decode_ctx;

/* parallel step 1: decode (COSE, payload JSON) */
static int decode_one(void *vctx, size_t i)
{
    decode_ctx *c = vctx;
    slot *s = &c->slots[i];
    int rc = wb_fleet_entry_decode(&s->e, c->first + i, c->entries[i].data,
                                   c->entries[i].len);
    if (rc == WB_E_NOMEM)
        return rc;
    s->decoded = rc == 0;
    s->rc = rc;
    if (rc)
        snprintf(s->err, sizeof(s->err), "%s", wb_error_message());
    return 0;
}

int audit_replay_chunk(audit_replay *r, const audit_entry *entries, size_t n,
                       uint64_t first, uint64_t *bad, wb_audit_failure *failure)
{
    slot *slots = calloc(n ? n : 1, sizeof(*slots));
    decode_ctx dc = {slots, entries, first};
    size_t a = 0, ndecoded = n;
    int rc;
    if (!slots)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    rc = wb_parallel_for(r->threads, n, decode_one, &dc, NULL, NULL);
    if (rc) {
        slots_free(slots, n);
        return rc;
    }
    /* entries after one that does not decode are not judged */
    for (size_t i = 0; i < n; i++)
        if (!slots[i].decoded) {
            ndecoded = i;
            break;
        }
    while (rc == 0 && a < ndecoded) {
        size_t b = a;
        /* a run ends with the first governance entry */
        while (b < ndecoded && !is_governance(&slots[b].e))
            b++;
        if (b < ndecoded)
            b++;
        for (size_t i = a; i < b; i++)
            if (slots[i].e.msg->hdr.nx5chain == 0)
                slots[i].key = static_key(r, &slots[i].e.msg->hdr.kid);
        /* ledger issuers' keys as of the run's start */
        for (size_t i = a; i < b; i++)
            if (!slots[i].key && slots[i].e.msg->hdr.nx5chain == 0 &&
                slots[i].e.kind != WB_KIND_NONE && slots[i].e.msg->hdr.kid.len == 32)
                (void)ledger_key(r, &slots[i]);
        rc = wb_parallel_for(r->threads, b - a, verify_one, &(run_ctx){r, slots + a}, NULL,
                             NULL);
        for (size_t i = a; rc == 0 && i < b; i++) {
            rc = judge(r, &slots[i], failure);
            if (rc == WB_E_VERIFY)
                *bad = first + i;
        }
        a = b;
    }
    if (rc == 0 && ndecoded < n) {
        *bad = first + ndecoded;
        *failure = WB_AUDIT_STATEMENT;
        rc = wb_error_set(WB_E_VERIFY, "not a valid signed statement: %s",
                          slots[ndecoded].err);
    }
    slots_free(slots, n);
    return rc;
}
