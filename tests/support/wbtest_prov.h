/*
 * wbtest_prov.h: helpers for tests that play parties of the provenance
 * journey against a running service: register a payload signed by a key,
 * register an issuer with the operator admin key, wait for a finding.
 */
#ifndef WBTEST_PROV_H
#define WBTEST_PROV_H

#include "wbtest.h"

#include <jansson.h>

#include "waybill/crypto.h"
#include "waybill/prov.h"

/*
 * registers p signed by key as iss (subject sub) at url; returns the HTTP
 * status (201 registered); detail gets the service's problem detail and
 * entry (may be NULL) the entry id
 */
long wbt_prov_submit(const char *url, const wb_key *key, const char *iss,
                     const wb_prov_payload *p, const char *sub, char *detail, size_t cap,
                     char entry[65]);

/*
 * registers issuer name (role, scope: its manufacturer for suppliers and
 * integrators, its site for datacenters and carriers) with signing key key
 * and CA certificates cas (DER), signed by the operator admin key; fails the
 * test if refused
 */
void wbt_prov_issuer(const char *url, const wb_key *admin, const char *name, wb_role role,
                     const char *scope, const wb_key *key, const uint8_t *const *cas,
                     const size_t *ca_len, size_t ncas);

/*
 * waits up to timeout_ms for an open finding of rule on device (GET
 * /findings) and returns it (json, caller decrefs), or NULL
 */
json_t *wbt_prov_wait_finding(const char *url, const char *device, const char *rule,
                              unsigned timeout_ms);

/* the open findings of device (GET /findings?device=), a JSON array */
json_t *wbt_prov_findings(const char *url, const char *device);

#endif
