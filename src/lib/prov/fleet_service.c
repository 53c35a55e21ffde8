/*
 * fleet_service.c: the provenance rules inside the transparency service
 * (wb_fleet_attach). Implements the service's hooks (waybill/scitt.h):
 *   - resolve_kid / resolve_chain: a statement signed by an operator admin
 *     key or by an issuer the ledger registered authenticates like one
 *     named in the configuration;
 *   - check (HTTP threads): the payload schema and an early authorization
 *     against the fleet state as it is now, so most refusals are immediate;
 *   - admit (sequencer, in the batch transaction, in log order): the
 *     authoritative authorization against the state built by every earlier
 *     entry, the anomaly rules, and the update of the fleet tables;
 *   - batch_end: the findings of a committed batch are signed by the
 *     service and registered; those of a rolled-back batch are dropped;
 *   - idle: the attestation-overdue scan.
 */
#include "fleet_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "waybill/error.h"
#include "waybill/scitt.h"
#include "waybill/util.h"

typedef struct {
    wb_fleet_config cfg;
    wb_key **admin;            /* public admin keys, parallel to cfg.admin_kids */
    wb_fleet_finding *pending; /* findings of the batch being sequenced */
    size_t npending;
    unsigned overdue_scan_s;
    int64_t last_scan;
} fleet_ctx;

void wb_fleet_options_init(wb_fleet_options *o)
{
    memset(o, 0, sizeof(*o));
    o->cvss_threshold = 7.0;
    o->attest_period_s = 86400;
    o->overdue_scan_s = 300;
}

void wb_fleet_options_cleanup(wb_fleet_options *o)
{
    for (size_t i = 0; i < o->nadmin_key_files; i++)
        free(o->admin_key_files[i]);
    free(o->admin_key_files);
    memset(o, 0, sizeof(*o));
}

int wb_fleet_key_from_spki(wb_key **out, const uint8_t *spki, size_t len)
{
    wb_buf b;
    uint8_t *pem;
    size_t pem_len;
    int rc;
    char *b64 = malloc(wb_base64_encoded_len(len) + 1);
    if (!b64)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    wb_base64_encode(b64, spki, len);
    wb_buf_init(&b, 16384);
    wb_buf_add_str(&b, "-----BEGIN PUBLIC KEY-----\n");
    /* 64-character lines; stop at the end of the text, not at b64[i] past it */
    for (size_t i = 0, blen = strlen(b64); i < blen; i += 64) {
        size_t n = blen - i;
        wb_buf_add(&b, b64 + i, n > 64 ? 64 : n);
        wb_buf_add_str(&b, "\n");
    }
    wb_buf_add_str(&b, "-----END PUBLIC KEY-----\n");
    free(b64);
    rc = wb_buf_finish(&b, &pem, &pem_len);
    if (rc == 0) {
        rc = wb_key_from_pem(out, (const char *)pem, pem_len);
        free(pem);
    }
    return rc;
}

static int resolve_kid(void *vctx, wb_store *store, const uint8_t *kid, size_t kid_len,
                       wb_key **key, char *name, size_t cap)
{
    fleet_ctx *c = vctx;
    uint8_t *spki = NULL;
    size_t spki_len;
    int rc;
    if (kid_len == 32)
        for (size_t i = 0; i < c->cfg.nadmin; i++)
            if (memcmp(c->cfg.admin_kids[i], kid, 32) == 0) {
                snprintf(name, cap, "admin");
                return wb_key_public_copy(key, c->admin[i]);
            }
    rc = wb_fleet_issuer_by_kid(store, kid, kid_len, name, cap, &spki, &spki_len);
    if (rc)
        return rc;
    rc = wb_fleet_key_from_spki(key, spki, spki_len);
    free(spki);
    return rc;
}

static int resolve_chain(void *vctx, wb_store *store, const uint8_t *const *der,
                         const size_t *len, size_t n, char *name, size_t cap)
{
    (void)vctx;
    return wb_fleet_issuer_by_chain(store, der, len, n, name, cap);
}

/* the statement of an HTTP request as a fleet entry (the message is borrowed) */
static int view_entry(wb_fleet_entry *e, const wb_statement_view *st)
{
    memset(e, 0, sizeof(*e));
    e->msg = st->msg;
    e->iss = st->msg->hdr.iss ? st->msg->hdr.iss : "";
    e->iat = st->msg->hdr.iat;
    e->kind = wb_kind_from_content_type(st->content_type);
    if (e->kind == WB_KIND_NONE)
        return 0;
    return wb_prov_parse(&e->payload, e->kind, st->msg->payload, st->msg->payload_len);
}

static int check(void *vctx, wb_store *store, const wb_statement_view *st)
{
    fleet_ctx *c = vctx;
    wb_fleet_entry e;
    int rc = view_entry(&e, st);
    if (rc)
        return rc;
    if (e.kind != WB_KIND_NONE) {
        rc = wb_fleet_authorize(store, &c->cfg, &e);
        wb_prov_payload_cleanup(&e.payload);
    }
    return rc;
}

static int admit(void *vctx, wb_store *store, uint64_t index, const uint8_t *stmt,
                 size_t len)
{
    fleet_ctx *c = vctx;
    wb_fleet_entry e;
    int rc = wb_fleet_entry_decode(&e, index, stmt, len);
    if (rc)
        return rc == WB_E_INVALID || rc == WB_E_LIMIT ? 1 : rc;
    rc = wb_fleet_authorize(store, &c->cfg, &e);
    if (rc == WB_E_INVALID || rc == WB_E_VERIFY) {
        wb_fleet_entry_cleanup(&e);
        return 1; /* refused: the message names the rule */
    }
    if (rc == 0)
        rc = wb_fleet_detect(store, &c->cfg, &e, &c->pending, &c->npending);
    if (rc == 0)
        rc = wb_fleet_apply(store, &e);
    wb_fleet_entry_cleanup(&e);
    return rc < 0 ? rc : 0;
}

static void batch_begin(void *vctx)
{
    fleet_ctx *c = vctx;
    wb_fleet_findings_free(c->pending, c->npending);
    c->pending = NULL;
    c->npending = 0;
}

static void register_findings(fleet_ctx *c, wb_service *svc, wb_fleet_finding *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *json = NULL;
        size_t len;
        int rc = wb_prov_encode(&json, &len, &f[i].payload);
        if (rc == 0)
            rc = wb_service_register_own(svc, "application/vnd.waybill.finding+json",
                                         f[i].subject, (const uint8_t *)json, len);
        if (rc)
            fprintf(stderr, "level=error msg=\"finding not registered\" rule=%s err=\"%s\"\n",
                    f[i].payload.u.finding.rule, wb_error_message());
        else
            fprintf(stderr, "level=info msg=\"finding\" rule=%s tag=%s device=%.16s\n",
                    f[i].payload.u.finding.rule, wb_tag_name(f[i].payload.u.finding.tag),
                    f[i].payload.u.finding.device);
        free(json);
    }
    (void)c;
}

static void batch_end(void *vctx, wb_service *svc, wb_store *store, int committed)
{
    fleet_ctx *c = vctx;
    (void)store;
    if (committed)
        register_findings(c, svc, c->pending, c->npending);
    batch_begin(c);
}

static void idle(void *vctx, wb_service *svc, wb_store *store)
{
    fleet_ctx *c = vctx;
    int64_t now = (int64_t)time(NULL);
    wb_fleet_finding *f = NULL;
    size_t n = 0;
    if (now - c->last_scan < (int64_t)c->overdue_scan_s)
        return;
    c->last_scan = now;
    if (wb_fleet_overdue(store, &c->cfg, now, &f, &n) == 0)
        register_findings(c, svc, f, n);
    wb_fleet_findings_free(f, n);
}

static int open_hook(void *vctx, wb_store *store, wb_service *svc)
{
    fleet_ctx *c = vctx;
    size_t kl;
    const uint8_t *kid = wb_service_kid(svc, &kl);
    memcpy(c->cfg.service_kid, kid, 32);
    snprintf(c->cfg.service_name, sizeof(c->cfg.service_name), "%s", wb_service_name(svc));
    c->last_scan = (int64_t)time(NULL);
    return wb_fleet_schema(store);
}

static void destroy(void *vctx)
{
    fleet_ctx *c = vctx;
    batch_begin(c);
    for (size_t i = 0; i < c->cfg.nadmin; i++)
        wb_key_free(c->admin[i]);
    free(c->admin);
    free(c->cfg.admin_kids);
    free(c);
}

const wb_fleet_config *wb_fleet_service_config(const wb_service *svc)
{
    const wb_service_hooks *h = wb_service_get_hooks(svc);
    if (!h || h->check != check || !h->ctx)
        return NULL;
    return &((const fleet_ctx *)h->ctx)->cfg;
}

int wb_fleet_attach(void *service_config, const wb_fleet_options *opt)
{
    wb_service_config *sc = service_config;
    fleet_ctx *c = calloc(1, sizeof(*c));
    int rc = 0;
    if (!c)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    wb_fleet_config_init(&c->cfg);
    c->cfg.cvss_threshold = opt->cvss_threshold;
    c->cfg.attest_period_s = opt->attest_period_s;
    c->overdue_scan_s = opt->overdue_scan_s ? opt->overdue_scan_s : 300;
    if (opt->nadmin_key_files) {
        c->admin = calloc(opt->nadmin_key_files, sizeof(*c->admin));
        c->cfg.admin_kids = calloc(opt->nadmin_key_files, sizeof(*c->cfg.admin_kids));
        if (!c->admin || !c->cfg.admin_kids)
            rc = wb_error_set(WB_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; rc == 0 && i < opt->nadmin_key_files; i++) {
        wb_key *k = NULL;
        rc = wb_key_read_file(&k, opt->admin_key_files[i]);
        if (rc == 0 && wb_key_is_private(k)) {
            wb_key *pub;
            rc = wb_key_public_copy(&pub, k);
            wb_key_free(k);
            k = rc == 0 ? pub : NULL;
        }
        if (rc == 0)
            rc = wb_key_default_kid(c->cfg.admin_kids[i], k);
        if (rc) {
            wb_key_free(k);
            rc = wb_error_prefix(rc, "admin key %s", opt->admin_key_files[i]);
            break;
        }
        c->admin[c->cfg.nadmin++] = k;
    }
    if (rc) {
        destroy(c);
        return rc;
    }
    sc->hooks.ctx = c;
    sc->hooks.open = open_hook;
    sc->hooks.resolve_kid = resolve_kid;
    sc->hooks.resolve_chain = resolve_chain;
    sc->hooks.check = check;
    sc->hooks.admit = admit;
    sc->hooks.batch_begin = batch_begin;
    sc->hooks.batch_end = batch_end;
    sc->hooks.idle = idle;
    sc->hooks.destroy = destroy;
    return 0;
}

int wb_fleet_admin_keys(const wb_service *svc, const wb_key *const **keys, size_t *n)
{
    const wb_service_hooks *h = wb_service_get_hooks(svc);
    const fleet_ctx *c;
    if (!h || h->check != check || !h->ctx)
        return WB_E_NOTFOUND;
    c = h->ctx;
    *keys = (const wb_key *const *)c->admin;
    *n = c->cfg.nadmin;
    return 0;
}
