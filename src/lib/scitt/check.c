/*
 * check.c: validation of a submitted signed statement (RFC 9943 §5 "signed
 * statement" and §6 "registration"): strict COSE decoding, the statement
 * profile, issuer authentication, content type and the registration policy.
 * Nothing here writes; it runs on HTTP worker threads in parallel.
 *
 * Issuer authentication, in this order:
 *   - x5chain (33) present: the statement must verify with the leaf
 *     certificate's key, and the chain must lead to the trust anchor of a
 *     configured issuer (that issuer then applies) or to a global anchor.
 *     In development mode a chain that leads nowhere is accepted with a
 *     loud issuer name "untrusted-x5chain".
 *   - otherwise kid (4): the kid must be that of a configured issuer key
 *     (or, in development mode, of a key file in DIR/issuers/), and the
 *     statement must verify with that key.
 */
#include "scitt_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/error.h"
#include "waybill/util.h"

static int verify_with(const wb_cose_sign1 *m, const wb_key *key)
{
    wb_cose_verifier v;
    int rc = wb_cose_verifier_for_key(&v, key);
    if (rc)
        return rc;
    if (v.alg != m->hdr.alg)
        return wb_error_set(WB_E_VERIFY, "statement alg %lld does not match the "
                            "issuer's %s key", (long long)m->hdr.alg,
                            wb_alg_name(wb_key_alg(key)));
    rc = wb_cose_sign1_verify(m, &v, NULL, 0);
    return rc ? wb_error_prefix(WB_E_VERIFY, "statement signature") : 0;
}

static const wb_issuer *find_kid(const wb_issuer *list, size_t n, const wb_cose_bytes *kid)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].key && list[i].kid_len == kid->len &&
            memcmp(list[i].kid, kid->ptr, kid->len) == 0)
            return &list[i];
    return NULL;
}

static int content_type_allowed(const wb_issuer *is, const char *cty)
{
    if (!is || is->ncontent_types == 0)
        return 1;
    for (size_t i = 0; i < is->ncontent_types; i++)
        if (strcmp(is->content_types[i], cty) == 0)
            return 1;
    return 0;
}

static int auth_x5chain(wb_service *svc, const wb_cose_sign1 *m, wb_key **key,
                        const wb_issuer **issuer, const char **name)
{
    const uint8_t *der[WB_COSE_X5CHAIN_MAX];
    size_t len[WB_COSE_X5CHAIN_MAX];
    int rc;

    for (size_t i = 0; i < m->hdr.nx5chain; i++) {
        der[i] = m->hdr.x5chain[i].ptr;
        len[i] = m->hdr.x5chain[i].len;
    }
    rc = wb_key_from_x509_der(key, der[0], len[0]);
    if (rc)
        return wb_error_prefix(WB_E_INVALID, "x5chain[0]");
    rc = verify_with(m, *key);
    if (rc)
        return rc;
    /* the first configured issuer whose anchor the chain leads to */
    for (size_t i = 0; i < svc->cfg.nissuers; i++) {
        if (!svc->issuer_anchors || !svc->issuer_anchors[i])
            continue;
        if (wb_x509_chain_verify(svc->issuer_anchors[i], der, len, m->hdr.nx5chain, 0) == 0) {
            *issuer = &svc->cfg.issuers[i];
            *name = svc->cfg.issuers[i].name;
            return 0;
        }
    }
    if (svc->cfg.hooks.resolve_chain) {
        wb_log *log;
        static _Thread_local char name_buf[128];
        if (scitt_thread_log(svc, &log) == 0 &&
            svc->cfg.hooks.resolve_chain(svc->cfg.hooks.ctx, wb_log_store(log), der, len,
                                         m->hdr.nx5chain, name_buf, sizeof(name_buf)) == 0) {
            *name = name_buf;
            return 0;
        }
    }
    if (svc->anchors) {
        rc = wb_x509_chain_verify(svc->anchors, der, len, m->hdr.nx5chain, 0);
        if (rc == 0) {
            *name = "x5chain";
            return 0;
        }
        if (!svc->cfg.dev)
            return rc;
    }
    if (svc->cfg.dev) {
        *name = "untrusted-x5chain";
        return 0;
    }
    return wb_error_set(WB_E_VERIFY, "x5chain: no configured trust anchor accepts "
                        "this certificate chain");
}

/*
 * dev mode: a key dropped into DIR/issuers counts without a restart. The
 * list may be replaced by a reload, so the match is copied out under dev_mu:
 * its name into name, its key into *key (owned by the caller).
 */
static int auth_dev_kid(wb_service *svc, const wb_cose_sign1 *m, wb_key **key,
                        char *name, size_t cap)
{
    const wb_issuer *is;
    int rc;
    pthread_mutex_lock(&svc->dev_mu);
    is = find_kid(svc->dev_issuers, svc->ndev_issuers, &m->hdr.kid);
    if (!is) {
        scitt_dev_issuers_clear(svc);
        if (scitt_load_dev_issuers(svc) != 0)
            scitt_dev_issuers_clear(svc);
        is = find_kid(svc->dev_issuers, svc->ndev_issuers, &m->hdr.kid);
    }
    rc = is ? wb_key_public_copy(key, is->key) : WB_E_NOTFOUND;
    if (is)
        snprintf(name, cap, "%s", is->name);
    pthread_mutex_unlock(&svc->dev_mu);
    return rc;
}

/* kid route: a configured issuer's key, or in dev mode a DIR/issuers key */
static int auth_kid(wb_service *svc, const wb_cose_sign1 *m, const wb_key **key,
                    wb_key **owned, const wb_issuer **issuer, char *name, size_t cap)
{
    const wb_issuer *is = find_kid(svc->cfg.issuers, svc->cfg.nissuers, &m->hdr.kid);
    char hex[2 * 32 + 1];
    if (is) {
        *key = is->key;
        *issuer = is;
        snprintf(name, cap, "%s", is->name);
        return verify_with(m, is->key);
    }
    if (svc->cfg.hooks.resolve_kid) {
        wb_log *log;
        if (scitt_thread_log(svc, &log) == 0 &&
            svc->cfg.hooks.resolve_kid(svc->cfg.hooks.ctx, wb_log_store(log), m->hdr.kid.ptr,
                                       m->hdr.kid.len, owned, name, cap) == 0) {
            *key = *owned;
            return verify_with(m, *owned);
        }
    }
    if (svc->cfg.dev && auth_dev_kid(svc, m, owned, name, cap) == 0) {
        *key = *owned;
        return verify_with(m, *owned);
    }
    {
        size_t n = m->hdr.kid.len > 32 ? 32 : m->hdr.kid.len;
        wb_hex_encode(hex, m->hdr.kid.ptr, n);
        return wb_error_set(WB_E_VERIFY, "kid %s%s is not the key of any registered "
                            "issuer", hex, m->hdr.kid.len > 32 ? "..." : "");
    }
}

int wb_service_check(wb_service *svc, wb_registration *out, const uint8_t *body,
                     size_t len)
{
    wb_cose_sign1 m;
    wb_key *owned_key = NULL;
    const wb_key *key = NULL;
    const wb_issuer *issuer = NULL;
    const char *name = NULL;
    char namebuf[128];
    char cty[WB_COSE_TEXT_MAX + 1];
    int rc;

    memset(out, 0, sizeof(*out));
    if (len > WB_STATEMENT_MAX)
        return wb_error_set(WB_E_LIMIT, "statement is %zu bytes, over the %d-byte limit "
                            "(one log entry)", len, WB_STATEMENT_MAX);
    rc = wb_cose_sign1_decode(&m, body, len, WB_STATEMENT_MAX);
    if (rc)
        return rc;
    rc = wb_scitt_statement_check(&m);
    if (rc == 0) {
        if (m.hdr.nx5chain > 0) {
            rc = auth_x5chain(svc, &m, &owned_key, &issuer, &name);
            key = owned_key;
        } else {
            rc = auth_kid(svc, &m, &key, &owned_key, &issuer, namebuf, sizeof(namebuf));
            name = namebuf;
        }
    }
    if (rc == 0) {
        if (m.hdr.cty)
            snprintf(cty, sizeof(cty), "%s", m.hdr.cty);
        else
            snprintf(cty, sizeof(cty), "%lld", (long long)m.hdr.cty_int);
        if (!content_type_allowed(issuer, cty))
            rc = wb_error_set(WB_E_INVALID, "issuer '%s' may not register content type "
                              "'%s'", name, cty);
    }
    if (rc == 0 && svc->cfg.policy.check) {
        wb_statement_view view = {&m, name, key, m.hdr.nx5chain > 0,
                                  m.hdr.cty ? m.hdr.cty : ""};
        rc = svc->cfg.policy.check(svc->cfg.policy.ctx, &view);
    }
    if (rc == 0 && svc->cfg.hooks.check) {
        wb_statement_view view = {&m, name, key, m.hdr.nx5chain > 0,
                                  m.hdr.cty ? m.hdr.cty : ""};
        wb_log *log;
        rc = scitt_thread_log(svc, &log);
        if (rc == 0)
            rc = svc->cfg.hooks.check(svc->cfg.hooks.ctx, wb_log_store(log), &view);
    }
    if (rc == 0)
        rc = wb_scitt_registered_statement(&out->statement, &out->len, &m);
    if (rc == 0)
        rc = wb_sha256(out->id, out->statement, out->len);
    if (rc == 0)
        snprintf(out->issuer, sizeof(out->issuer), "%s", name);
    if (rc == 0 && out->len > WB_STATEMENT_MAX)
        rc = wb_error_set(WB_E_LIMIT, "registered statement is %zu bytes, over the "
                          "%d-byte entry limit", out->len, WB_STATEMENT_MAX);
    if (rc)
        wb_registration_cleanup(out);
    wb_key_free(owned_key);
    wb_cose_sign1_cleanup(&m);
    return rc;
}
