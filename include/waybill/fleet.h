/*
 * waybill/fleet.h: the fleet state derived from the log, who may say what,
 * the anomaly rules and the queries (docs/policy.md, docs/anomalies.md).
 *
 * Three steps run for every provenance entry, in log order, inside the
 * transaction that appends it (so the tables never disagree with the log):
 *   1. wb_fleet_authorize: may this issuer say this, given the state the log
 *      has built so far? (roles, scopes, governance, device chains). A
 *      refusal keeps the statement out of the log.
 *   2. wb_fleet_detect: does what it claims contradict the recorded state?
 *      Each contradiction becomes a finding, which the service signs and
 *      registers as an ordinary entry right after.
 *   3. wb_fleet_apply: update the tables.
 * Only step 3 is needed to rebuild the tables from the log
 * (wb_fleet_reindex); steps 1 and 3 are what an auditor replays.
 */
#ifndef WAYBILL_FLEET_H
#define WAYBILL_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "waybill/cose.h"
#include "waybill/prov.h"
#include "waybill/store.h"

/* what the rules are configured with (docs/policy.md) */
typedef struct {
    uint8_t (*admin_kids)[32];   /* kids of the operator admin keys */
    size_t nadmin;
    uint8_t service_kid[32];     /* the service's own key: signs findings */
    char service_name[WB_PROV_NAME_MAX + 1];
    double cvss_threshold;       /* open review issues at or above: a finding */
    int64_t attest_period_s;     /* production devices re-attested within */
} wb_fleet_config;

void wb_fleet_config_init(wb_fleet_config *c); /* threshold 7.0, period 86400 */

/* one log entry, decoded once for the three steps */
typedef struct {
    uint64_t index;
    uint8_t id[32];               /* entry id: SHA-256 of the registered statement */
    const wb_cose_sign1 *msg;     /* the registered statement, decoded */
    wb_kind kind;                 /* WB_KIND_NONE for a statement of another type */
    wb_prov_payload payload;      /* parsed when kind != NONE */
    const char *iss;              /* CWT iss */
    int64_t iat;
} wb_fleet_entry;

/*
 * wb_fleet_entry_decode decodes a registered statement (the bytes of a log
 * entry) and, for a waybill content type, parses its payload. Refusals are
 * WB_E_INVALID naming the field. Free with wb_fleet_entry_cleanup (the
 * wb_cose_sign1 is owned by the entry).
 */
int wb_fleet_entry_decode(wb_fleet_entry *e, uint64_t index, const uint8_t *stmt,
                          size_t len);
void wb_fleet_entry_cleanup(wb_fleet_entry *e);

/* creates the projection tables if missing */
int wb_fleet_schema(wb_store *s);

/*
 * wb_fleet_authorize: 0 if the signer may make this statement now;
 * WB_E_INVALID / WB_E_VERIFY with a message that names the field and the
 * rule otherwise. The signer is identified by the statement's kid (the
 * SHA-256 of a key registered by an issuer statement, an admin key or the
 * service key) or by its x5chain (anchored at an issuer's registered CA).
 */
int wb_fleet_authorize(wb_store *s, const wb_fleet_config *c, const wb_fleet_entry *e);

/* a finding the rules raised (to be signed and registered by the service) */
typedef struct {
    wb_prov_payload payload;      /* kind finding */
    char subject[WB_PROV_NAME_MAX + 1];
} wb_fleet_finding;

/*
 * wb_fleet_detect evaluates the anomaly rules for e against the state
 * before e and appends what it finds to *out (realloc'd; *n updated).
 */
int wb_fleet_detect(wb_store *s, const wb_fleet_config *c, const wb_fleet_entry *e,
                    wb_fleet_finding **out, size_t *n);
void wb_fleet_findings_free(wb_fleet_finding *f, size_t n);

/*
 * wb_fleet_dry_run: the findings an attestation or intake e would raise if
 * it were registered now, writing nothing (the verifier's verdict). Open
 * findings it would repeat are included. e needs kind and payload only.
 */
int wb_fleet_dry_run(wb_store *s, const wb_fleet_config *c, const wb_fleet_entry *e,
                     wb_fleet_finding **out, size_t *n);

/* applies e to the tables */
int wb_fleet_apply(wb_store *s, const wb_fleet_entry *e);

/*
 * wb_fleet_overdue lists production devices whose last passing attestation
 * is older than c->attest_period_s at time now (rule attestation-overdue);
 * findings already open for a device are not raised again.
 */
int wb_fleet_overdue(wb_store *s, const wb_fleet_config *c, int64_t now,
                     wb_fleet_finding **out, size_t *n);

/* ---- resolving signers (for the HTTP checks) ---- */

/* the active issuer a kid belongs to: name and SPKI DER (malloc'd) */
int wb_fleet_issuer_by_kid(wb_store *s, const uint8_t *kid, size_t kid_len, char *name,
                           size_t cap, uint8_t **spki, size_t *spki_len);
/* the active issuer whose registered CA anchors this chain */
int wb_fleet_issuer_by_chain(wb_store *s, const uint8_t *const *der, const size_t *len,
                             size_t n, char *name, size_t cap);

/* ---- rebuilding ---- */

/*
 * wb_fleet_reindex drops the tables and rebuilds them from entries
 * [0, size) read by fn, applying step 3 only. progress (may be NULL) is
 * called every 10,000 entries.
 */
typedef int (*wb_fleet_entry_fn)(void *ctx, uint64_t index, uint8_t **data, size_t *len);
int wb_fleet_reindex(wb_store *s, uint64_t size, wb_fleet_entry_fn fn, void *ctx,
                     void (*progress)(void *ctx, uint64_t done, uint64_t total));

/* ---- running inside the transparency service ---- */

typedef struct {
    char **admin_key_files;      /* PEM public keys of the operator admins */
    size_t nadmin_key_files;
    double cvss_threshold;       /* default 7.0 */
    int64_t attest_period_s;     /* default 86400 */
    unsigned overdue_scan_s;     /* how often to look for overdue devices (300) */
} wb_fleet_options;

void wb_fleet_options_init(wb_fleet_options *o);
void wb_fleet_options_cleanup(wb_fleet_options *o);

/*
 * wb_fleet_attach makes the provenance rules part of a service: it fills
 * cfg->hooks so that ledger-registered issuers and admin keys authenticate,
 * every statement is authorized and applied to the fleet tables as it is
 * sequenced, and findings are signed by the service and registered.
 */
struct wb_service_config;
int wb_fleet_attach(void *service_config, const wb_fleet_options *opt);

/* the rules' configuration of a service with wb_fleet_attach, else NULL */
struct wb_service;
const wb_fleet_config *wb_fleet_service_config(const struct wb_service *svc);
/* the operator admin keys of such a service (owned by it); WB_E_NOTFOUND if none */
int wb_fleet_admin_keys(const struct wb_service *svc, const wb_key *const **keys, size_t *n);

/*
 * wb_fleet_sign_statement: p as a signed statement (cty
 * application/vnd.waybill.<kind>+json, CWT iss, sub, iat (0: now), kid),
 * malloc'd; WB_E_LIMIT over WB_STATEMENT_MAX.
 */
int wb_fleet_sign_statement(uint8_t **out, size_t *len, const wb_prov_payload *p,
                            const wb_cose_signer *signer, const uint8_t kid[32],
                            const char *iss, const char *sub, int64_t iat);

/* the SPKI DER of a public key as a wb_key */
int wb_fleet_key_from_spki(wb_key **out, const uint8_t *spki, size_t len);

/* a canonical text dump of every table, rows sorted (tests compare two) */
int wb_fleet_dump(wb_store *s, char **out, size_t *len);

#endif
