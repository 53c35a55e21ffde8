/*
 * fleet_policy.c: who may say what (docs/policy.md). The rules read only
 * the fleet tables, which are derived from the log before the entry, so the
 * decision for entry k can be replayed by anyone holding entries 0..k-1.
 *
 * Signers:
 *   - an operator admin key (named in the configuration): only governance
 *     statements (kind issuer), which add, update and retire issuers;
 *   - the service's own key: only findings;
 *   - a registered, active issuer, by the kid of one of its keys or by an
 *     x5chain that leads to one of its CA certificates; its CWT iss must be
 *     its registered name, its role must allow the kind, and its scope the
 *     manufacturer or site the statement names.
 * A supplier's manifest must carry, per device, the RoT certificate chain
 * to that supplier's registered CA, and the device id must be the SHA-256
 * of the leaf's public key (waybill/identity.h).
 */
#include "fleet_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/error.h"
#include "waybill/identity.h"
#include "waybill/util.h"

typedef enum { SIGNER_NONE, SIGNER_ADMIN, SIGNER_SERVICE, SIGNER_ISSUER } signer_kind;

typedef struct {
    signer_kind kind;
    char name[WB_PROV_NAME_MAX + 1];
    wb_role role;
    char status[16];
    char *manufacturers; /* newline-separated */
    char *sites;
    int64_t changed_idx; /* the entry that last set its CAs */
} signer;

static void signer_cleanup(signer *g)
{
    free(g->manufacturers);
    free(g->sites);
}

typedef struct {
    signer *g;
    int found;
} issuer_row_ctx;

static int issuer_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    issuer_row_ctx *c = vctx;
    if (n < 5)
        return 1;
    c->found = 1;
    c->g->changed_idx = cols[4].i;
    c->g->role = wb_role_from_name(cols[0].s ? cols[0].s : "");
    snprintf(c->g->status, sizeof(c->g->status), "%s", cols[1].s ? cols[1].s : "");
    c->g->manufacturers = strdup(cols[2].s ? cols[2].s : "");
    c->g->sites = strdup(cols[3].s ? cols[3].s : "");
    return 1;
}

static int load_issuer(wb_store *s, signer *g, const char *name)
{
    issuer_row_ctx c = {g, 0};
    wb_sql_value a[1] = {WB_SQL_S(name)};
    int rc = wb_store_sql(s, "SELECT role, status, manufacturers, sites, changed_idx FROM "
                             "fleet_issuers WHERE name = $1", a, 1, issuer_row, &c);
    if (rc < 0)
        return rc;
    if (!c.found)
        return WB_E_NOTFOUND;
    if (!g->manufacturers || !g->sites)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    snprintf(g->name, sizeof(g->name), "%s", name);
    g->kind = SIGNER_ISSUER;
    return 0;
}


typedef struct {
    uint8_t **der;
    size_t *len;
    size_t n;
} der_list;

static int der_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    der_list *l = vctx;
    uint8_t **d2;
    size_t *l2;
    if (n < 1 || cols[0].type != WB_SQL_BLOB)
        return 0;
    d2 = realloc(l->der, (l->n + 1) * sizeof(*d2));
    if (!d2)
        return 1;
    l->der = d2;
    l2 = realloc(l->len, (l->n + 1) * sizeof(*l2));
    if (!l2)
        return 1;
    l->len = l2;
    l->der[l->n] = malloc(cols[0].len ? cols[0].len : 1);
    if (!l->der[l->n])
        return 1;
    memcpy(l->der[l->n], cols[0].b, cols[0].len);
    l->len[l->n++] = cols[0].len;
    return 0;
}

static void der_list_free(der_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->der[i]);
    free(l->der);
    free(l->len);
    memset(l, 0, sizeof(*l));
}

static int load_cas(wb_store *s, const char *name, der_list *l)
{
    wb_sql_value a[1] = {WB_SQL_S(name)};
    int rc = wb_store_sql(s, "SELECT der FROM fleet_issuer_cas WHERE name = $1 ORDER BY n", a,
                          1, der_row, l);
    if (rc > 0)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    return rc;
}

/* ---- resolving signers (also used by the HTTP checks) ---- */

typedef struct {
    char *name;
    size_t cap;
    uint8_t *spki;
    size_t spki_len;
    int found;
} kid_ctx;

static int kid_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    kid_ctx *c = vctx;
    if (n < 2)
        return 1;
    c->found = 1;
    snprintf(c->name, c->cap, "%s", cols[0].s ? cols[0].s : "");
    if (cols[1].type == WB_SQL_BLOB) {
        c->spki = malloc(cols[1].len ? cols[1].len : 1);
        if (c->spki) {
            memcpy(c->spki, cols[1].b, cols[1].len);
            c->spki_len = cols[1].len;
        }
    }
    return 1;
}

int wb_fleet_issuer_by_kid(wb_store *s, const uint8_t *kid, size_t kid_len, char *name,
                           size_t cap, uint8_t **spki, size_t *spki_len)
{
    char hex[65];
    kid_ctx c = {name, cap, NULL, 0, 0};
    wb_sql_value a[1];
    int rc;
    if (kid_len != 32)
        return WB_E_NOTFOUND;
    wb_hex_encode(hex, kid, 32);
    a[0] = WB_SQL_S(hex);
    rc = wb_store_sql(s, "SELECT k.name, k.spki FROM fleet_issuer_keys k JOIN fleet_issuers i"
                         " ON i.name = k.name WHERE k.kid = $1 AND i.status = 'active'", a, 1,
                      kid_row, &c);
    if (rc < 0)
        return rc;
    if (!c.found)
        return WB_E_NOTFOUND;
    if (spki) {
        if (!c.spki)
            return wb_error_set(WB_E_NOMEM, "out of memory");
        *spki = c.spki;
        *spki_len = c.spki_len;
    } else {
        free(c.spki);
    }
    return 0;
}

typedef struct {
    char (*names)[WB_PROV_NAME_MAX + 1];
    size_t n;
} names_ctx;

static int name_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    names_ctx *c = vctx;
    void *grown;
    if (n < 1)
        return 0;
    grown = realloc(c->names, (c->n + 1) * sizeof(*c->names));
    if (!grown)
        return 1;
    c->names = grown;
    snprintf(c->names[c->n++], WB_PROV_NAME_MAX + 1, "%s", cols[0].s ? cols[0].s : "");
    return 0;
}

int wb_fleet_issuer_by_chain(wb_store *s, const uint8_t *const *der, const size_t *len,
                             size_t n, char *name, size_t cap)
{
    names_ctx c = {NULL, 0};
    int rc = wb_store_sql(s, "SELECT DISTINCT i.name FROM fleet_issuers i JOIN "
                             "fleet_issuer_cas c ON c.name = i.name WHERE i.status = 'active' "
                             "ORDER BY i.name", NULL, 0, name_row, &c);
    if (rc > 0)
        rc = wb_error_set(WB_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < c.n; i++) {
        der_list cas = {0};
        wb_x509_anchors *a = NULL;
        rc = load_cas(s, c.names[i], &cas);
        if (rc == 0 && cas.n)
            rc = wb_x509_anchors_from_der(&a, (const uint8_t *const *)cas.der, cas.len, cas.n);
        if (rc == 0 && a && wb_x509_chain_verify(a, der, len, n, 0) == 0) {
            snprintf(name, cap, "%s", c.names[i]);
            wb_x509_anchors_free(a);
            der_list_free(&cas);
            free(c.names);
            return 0;
        }
        wb_x509_anchors_free(a);
        der_list_free(&cas);
    }
    free(c.names);
    return rc ? rc : WB_E_NOTFOUND;
}

/* who signed e: admin, the service, or a registered issuer */
static int identify(wb_store *s, const wb_fleet_config *c, const wb_fleet_entry *e,
                    signer *g)
{
    const wb_cose_headers *h = &e->msg->hdr;
    char name[WB_PROV_NAME_MAX + 1];
    int rc;
    memset(g, 0, sizeof(*g));
    if (h->nx5chain > 0) {
        const uint8_t *der[WB_COSE_X5CHAIN_MAX];
        size_t len[WB_COSE_X5CHAIN_MAX];
        for (size_t i = 0; i < h->nx5chain; i++) {
            der[i] = h->x5chain[i].ptr;
            len[i] = h->x5chain[i].len;
        }
        rc = wb_fleet_issuer_by_chain(s, der, len, h->nx5chain, name, sizeof(name));
    } else {
        if (h->kid.len == 32) {
            for (size_t i = 0; i < c->nadmin; i++)
                if (memcmp(c->admin_kids[i], h->kid.ptr, 32) == 0) {
                    g->kind = SIGNER_ADMIN;
                    snprintf(g->name, sizeof(g->name), "admin");
                    return 0;
                }
            if (memcmp(c->service_kid, h->kid.ptr, 32) == 0) {
                g->kind = SIGNER_SERVICE;
                snprintf(g->name, sizeof(g->name), "%s", c->service_name);
                return 0;
            }
        }
        rc = wb_fleet_issuer_by_kid(s, h->kid.ptr, h->kid.len, name, sizeof(name), NULL, NULL);
    }
    if (rc == WB_E_NOTFOUND)
        return wb_error_set(WB_E_VERIFY, "%s: the signer is not an active issuer registered "
                            "in the ledger (waybill issuer add)", wb_kind_name(e->kind));
    if (rc)
        return rc;
    return load_issuer(s, g, name);
}

/* which roles may register which kinds */
static int role_allows(wb_role r, wb_kind k)
{
    switch (k) {
    case WB_KIND_MANIFEST:
        return r == WB_ROLE_SUPPLIER || r == WB_ROLE_INTEGRATOR;
    case WB_KIND_ASSEMBLY:
        return r == WB_ROLE_INTEGRATOR;
    case WB_KIND_REPLACEMENT:
        return r == WB_ROLE_INTEGRATOR || r == WB_ROLE_DATACENTER;
    case WB_KIND_CUSTODY:
        return r == WB_ROLE_LOGISTICS;
    case WB_KIND_INTAKE:
    case WB_KIND_ATTESTATION:
    case WB_KIND_FINDING:
    case WB_KIND_RESOLUTION:
    case WB_KIND_DECOMMISSION:
        return r == WB_ROLE_DATACENTER;
    case WB_KIND_FIRMWARE:
        return r == WB_ROLE_FIRMWARE_VENDOR;
    case WB_KIND_REVIEW:
        return r == WB_ROLE_REVIEWER;
    case WB_KIND_REVOCATION:
        return r != WB_ROLE_AUDITOR && r != WB_ROLE_NONE;
    default:
        return 0;
    }
}

static int need_site(const signer *g, const char *site, const char *kind, const char *field)
{
    if (fleet_list_has(g->sites, site))
        return 0;
    return wb_error_set(WB_E_INVALID, "%s: %s '%s' is not one of the sites issuer '%s' "
                        "is registered for", kind, field, site, g->name);
}

/* the site a device is at ("" if unknown) */
static void device_site(wb_store *s, const char *id, char site[WB_PROV_NAME_MAX + 1])
{
    wb_sql_value a[1] = {WB_SQL_S(id)};
    if (fleet_text(s, site, WB_PROV_NAME_MAX + 1,
                   "SELECT site FROM fleet_devices WHERE id = $1", a, 1) != 0)
        site[0] = '\0';
}

/*
 * Chains already verified: a statement's device chains are checked when it
 * arrives (HTTP thread) and again when its turn in the log comes
 * (sequencer). The second check may reuse the first only if nothing it
 * depends on changed: the key covers the issuer, the entry that last set its
 * CAs, and every certificate of the chain; the value is the device id. A
 * direct-mapped table: a collision only costs a re-verification.
 */
#define CHAIN_CACHE (1u << 16)
static struct {
    uint8_t key[32];
    char id[65];
} chain_cache[CHAIN_CACHE];
static pthread_mutex_t chain_mu = PTHREAD_MUTEX_INITIALIZER;

static void chain_key(uint8_t out[32], const signer *g, const wb_p_device *d)
{
    wb_buf b;
    wb_buf_init(&b, 1u << 20);
    wb_buf_add_str(&b, g->name);
    wb_buf_add_u8(&b, 0);
    wb_buf_add_u64be(&b, (uint64_t)g->changed_idx);
    for (size_t i = 0; i < d->nchain; i++) {
        wb_buf_add_u64be(&b, d->chain_len[i]);
        wb_buf_add(&b, d->chain[i], d->chain_len[i]);
    }
    if (wb_buf_error(&b) || wb_sha256(out, b.data, b.len) != 0)
        memset(out, 0, 32); /* all-zero keys are never stored */
    wb_buf_cleanup(&b);
}

static int chain_cached(const uint8_t key[32], char id[65])
{
    static const uint8_t zero[32];
    size_t slot = ((size_t)key[0] | (size_t)key[1] << 8) % CHAIN_CACHE;
    int hit;
    if (!memcmp(key, zero, 32))
        return 0;
    pthread_mutex_lock(&chain_mu);
    hit = memcmp(chain_cache[slot].key, key, 32) == 0;
    if (hit)
        memcpy(id, chain_cache[slot].id, 65);
    pthread_mutex_unlock(&chain_mu);
    return hit;
}

static void chain_remember(const uint8_t key[32], const char id[65])
{
    size_t slot = ((size_t)key[0] | (size_t)key[1] << 8) % CHAIN_CACHE;
    pthread_mutex_lock(&chain_mu);
    memcpy(chain_cache[slot].key, key, 32);
    memcpy(chain_cache[slot].id, id, 65);
    pthread_mutex_unlock(&chain_mu);
}

static int check_manifest(wb_store *s, const signer *g, const wb_p_manifest *p)
{
    der_list cas = {0};
    int rc;
    if (!fleet_list_has(g->manufacturers, p->manufacturer))
        return wb_error_set(WB_E_INVALID, "manifest: manufacturer '%s' is not one issuer "
                            "'%s' is registered for", p->manufacturer, g->name);
    for (size_t i = 0; i < p->ndevices; i++) {
        wb_device_class cls = p->devices[i].cls;
        int composite = cls == WB_CLASS_BLADE || cls == WB_CLASS_RACK;
        if (g->role == WB_ROLE_INTEGRATOR && !composite)
            return wb_error_set(WB_E_INVALID, "manifest: devices[%zu].class '%s': an "
                                "integrator manifests only blades and racks", i,
                                wb_class_name(cls));
        if (g->role == WB_ROLE_SUPPLIER && composite)
            return wb_error_set(WB_E_INVALID, "manifest: devices[%zu].class '%s': blades and "
                                "racks are manifested by their integrator", i,
                                wb_class_name(cls));
    }
    rc = load_cas(s, g->name, &cas);
    if (rc == 0 && cas.n == 0)
        rc = wb_error_set(WB_E_INVALID, "manifest: issuer '%s' has no registered CA to "
                          "check its devices' certificate chains against", g->name);
    for (size_t i = 0; rc == 0 && i < p->ndevices; i++) {
        const wb_p_device *d = &p->devices[i];
        char id[65];
        uint8_t key[32];
        chain_key(key, g, d);
        if (chain_cached(key, id)) {
            rc = 0;
        } else {
            rc = wb_identity_verify(id, (const uint8_t *const *)d->chain, d->chain_len,
                                    d->nchain, (const uint8_t *const *)cas.der, cas.len, cas.n);
            if (rc == 0)
                chain_remember(key, id);
        }
        if (rc)
            rc = wb_error_prefix(WB_E_INVALID, "manifest: devices[%zu].chain does not lead "
                                 "to a CA of issuer '%s'", i, g->name);
        else if (strcmp(id, d->id) != 0)
            rc = wb_error_set(WB_E_INVALID, "manifest: devices[%zu].id is not the SHA-256 of "
                              "its certificate's public key (that is %s)", i, id);
    }
    der_list_free(&cas);
    return rc;
}

static int check_revocation(wb_store *s, const wb_fleet_config *c, const signer *g,
                            const wb_p_revocation *p)
{
    char owner[WB_PROV_NAME_MAX + 1] = "";
    wb_sql_value a[1] = {WB_SQL_S(p->target)};
    int rc = 0;
    switch (p->target_kind) {
    case WB_REVOKE_DEVICE:
        rc = fleet_text(s, owner, sizeof(owner),
                        "SELECT issuer FROM fleet_devices WHERE id = $1", a, 1);
        break;
    case WB_REVOKE_FIRMWARE:
        rc = fleet_text(s, owner, sizeof(owner),
                        "SELECT issuer FROM fleet_firmware WHERE digest = $1", a, 1);
        break;
    case WB_REVOKE_KEY:
        rc = fleet_text(s, owner, sizeof(owner),
                        "SELECT name FROM fleet_issuer_keys WHERE kid = $1", a, 1);
        break;
    case WB_REVOKE_FINDING:
        (void)c;
        if (g->role != WB_ROLE_DATACENTER)
            return wb_error_set(WB_E_INVALID, "revocation: only a datacenter may withdraw a "
                                "finding");
        rc = fleet_text(s, owner, sizeof(owner),
                        "SELECT id FROM fleet_findings WHERE id = $1 AND status = 'open'", a, 1);
        if (rc == WB_E_NOTFOUND)
            return wb_error_set(WB_E_INVALID, "revocation: target: no open finding %s",
                                p->target);
        return rc;
    }
    if (rc == WB_E_NOTFOUND)
        return wb_error_set(WB_E_INVALID, "revocation: target: nothing in the ledger is %s",
                            p->target);
    if (rc)
        return rc;
    if (strcmp(owner, g->name) != 0)
        return wb_error_set(WB_E_INVALID, "revocation: only '%s', who registered %s, may "
                            "revoke it", owner, p->target);
    return 0;
}

static int check_issuer(wb_store *s, const wb_p_issuer *p)
{
    char status[16];
    wb_sql_value a[1] = {WB_SQL_S(p->name)};
    int rc = fleet_text(s, status, sizeof(status),
                        "SELECT status FROM fleet_issuers WHERE name = $1", a, 1);
    if (rc && rc != WB_E_NOTFOUND)
        return rc;
    if (p->action == WB_ISSUER_ADD && rc == 0)
        return wb_error_set(WB_E_INVALID, "issuer: name '%s' is already registered (%s); use "
                            "update", p->name, status);
    if (p->action != WB_ISSUER_ADD && rc == WB_E_NOTFOUND)
        return wb_error_set(WB_E_INVALID, "issuer: no issuer named '%s' to %s", p->name,
                            p->action == WB_ISSUER_UPDATE ? "update" : "retire");
    if (p->action != WB_ISSUER_ADD && strcmp(status, "active") != 0)
        return wb_error_set(WB_E_INVALID, "issuer: '%s' is retired", p->name);
    /* a key belongs to one issuer */
    for (size_t i = 0; i < p->nkeys; i++) {
        uint8_t kid[32];
        char hex[65], owner[WB_PROV_NAME_MAX + 1];
        wb_sql_value k[1];
        wb_sha256(kid, p->keys[i], p->key_lens[i]);
        wb_hex_encode(hex, kid, 32);
        k[0] = WB_SQL_S(hex);
        if (fleet_text(s, owner, sizeof(owner),
                       "SELECT name FROM fleet_issuer_keys WHERE kid = $1", k, 1) == 0 &&
            strcmp(owner, p->name) != 0)
            return wb_error_set(WB_E_INVALID, "issuer: keys[%zu] is already a key of issuer "
                                "'%s'", i, owner);
    }
    return 0;
}

int wb_fleet_authorize(wb_store *s, const wb_fleet_config *c, const wb_fleet_entry *e)
{
    signer g;
    const char *kind = wb_kind_name(e->kind);
    int rc;

    if (e->kind == WB_KIND_NONE)
        return 0; /* not a provenance statement: the provenance policy does not apply */
    rc = identify(s, c, e, &g);
    if (rc) {
        signer_cleanup(&g);
        return rc;
    }
    if (e->kind == WB_KIND_ISSUER) {
        rc = g.kind == SIGNER_ADMIN
                 ? check_issuer(s, &e->payload.u.issuer)
                 : wb_error_set(WB_E_INVALID, "issuer: governance statements must be signed "
                                "by an operator admin key");
        signer_cleanup(&g);
        return rc;
    }
    if (g.kind == SIGNER_ADMIN) {
        signer_cleanup(&g);
        return wb_error_set(WB_E_INVALID, "%s: the admin key signs only governance (issuer) "
                            "statements", kind);
    }
    if (g.kind == SIGNER_SERVICE) {
        signer_cleanup(&g);
        return e->kind == WB_KIND_FINDING
                   ? 0
                   : wb_error_set(WB_E_INVALID, "%s: the service key signs only findings",
                                  kind);
    }
    if (strcmp(g.status, "active") != 0)
        rc = wb_error_set(WB_E_INVALID, "%s: issuer '%s' is retired", kind, g.name);
    else if (strcmp(e->iss, g.name) != 0)
        rc = wb_error_set(WB_E_INVALID, "%s: CWT iss '%s' is not the name of the signing "
                          "issuer '%s'", kind, e->iss, g.name);
    else if (!role_allows(g.role, e->kind))
        rc = wb_error_set(WB_E_INVALID, "%s: issuer '%s' has role %s, which may not register "
                          "%s statements", kind, g.name, wb_role_name(g.role), kind);
    if (rc) {
        signer_cleanup(&g);
        return rc;
    }
    switch (e->kind) {
    case WB_KIND_MANIFEST:
        rc = check_manifest(s, &g, &e->payload.u.manifest);
        break;
    case WB_KIND_INTAKE:
        rc = need_site(&g, e->payload.u.intake.site, kind, "site");
        break;
    case WB_KIND_ATTESTATION:
        rc = need_site(&g, e->payload.u.attestation.site, kind, "site");
        break;
    case WB_KIND_DECOMMISSION:
        rc = need_site(&g, e->payload.u.decommission.site, kind, "site");
        break;
    case WB_KIND_FINDING:
        if (e->payload.u.finding.site[0])
            rc = need_site(&g, e->payload.u.finding.site, kind, "site");
        break;
    case WB_KIND_REPLACEMENT:
        if (g.role == WB_ROLE_DATACENTER) {
            char site[WB_PROV_NAME_MAX + 1];
            device_site(s, e->payload.u.replacement.parent, site);
            rc = need_site(&g, site, kind, "parent's site");
        }
        break;
    case WB_KIND_RESOLUTION: {
        char site[WB_PROV_NAME_MAX + 1];
        wb_sql_value a[1] = {WB_SQL_S(e->payload.u.resolution.finding_id)};
        rc = fleet_text(s, site, sizeof(site),
                        "SELECT site FROM fleet_findings WHERE id = $1 AND status = 'open'",
                        a, 1);
        if (rc == WB_E_NOTFOUND)
            rc = wb_error_set(WB_E_INVALID, "resolution: finding: no open finding %s",
                              e->payload.u.resolution.finding_id);
        else if (rc == 0 && site[0])
            rc = need_site(&g, site, kind, "the finding's site");
        break;
    }
    case WB_KIND_REVOCATION:
        rc = check_revocation(s, c, &g, &e->payload.u.revocation);
        break;
    default:
        break;
    }
    signer_cleanup(&g);
    return rc;
}
