/*
 * wbtest_prov.c: parties of the provenance journey for tests
 * (wbtest_prov.h).
 */
#include "wbtest_prov.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "waybill/client.h"
#include "waybill/cose.h"
#include "waybill/error.h"
#include "waybill/fleet.h"
#include "waybill/scitt.h"

long wbt_prov_submit(const char *url, const wb_key *key, const char *iss,
                     const wb_prov_payload *p, const char *sub, char *detail, size_t cap,
                     char entry[65])
{
    wb_cose_signer signer;
    uint8_t kid[32], *st = NULL;
    size_t slen;
    wb_register_result res;
    long status;
    assert_int_equal(wb_cose_signer_for_key(&signer, key), 0);
    assert_int_equal(wb_key_default_kid(kid, key), 0);
    if (wb_fleet_sign_statement(&st, &slen, p, &signer, kid, iss, sub, 0) != 0)
        fail_msg("sign %s: %s", wb_kind_name(p->kind), wb_error_message());
    memset(&res, 0, sizeof(res));
    wb_client_register(&res, url, st, slen, 30, NULL, NULL);
    status = res.status;
    if (detail)
        snprintf(detail, cap, "%s", res.detail);
    if (entry) {
        const char *slash = strrchr(res.location, '/');
        snprintf(entry, 65, "%s", slash ? slash + 1 : "");
    }
    wb_register_result_cleanup(&res);
    free(st);
    return status;
}

static void add_bytes(uint8_t ***list, size_t **lens, size_t *n, const uint8_t *p, size_t len)
{
    *list = realloc(*list, (*n + 1) * sizeof(**list));
    *lens = realloc(*lens, (*n + 1) * sizeof(**lens));
    assert_non_null(*list);
    assert_non_null(*lens);
    (*list)[*n] = malloc(len);
    assert_non_null((*list)[*n]);
    memcpy((*list)[*n], p, len);
    (*lens)[(*n)++] = len;
}

void wbt_prov_issuer(const char *url, const wb_key *admin, const char *name, wb_role role,
                     const char *scope, const wb_key *key, const uint8_t *const *cas,
                     const size_t *ca_len, size_t ncas)
{
    wb_prov_payload p;
    wb_p_issuer *is = &p.u.issuer;
    uint8_t *spki;
    size_t spki_len;
    char detail[1024];
    memset(&p, 0, sizeof(p));
    p.kind = WB_KIND_ISSUER;
    p.version = WB_PROV_VERSION;
    is->action = WB_ISSUER_ADD;
    snprintf(is->name, sizeof(is->name), "%s", name);
    is->role = role;
    if (scope && (role == WB_ROLE_SUPPLIER || role == WB_ROLE_INTEGRATOR)) {
        is->manufacturers = calloc(1, sizeof(char *));
        is->manufacturers[0] = strdup(scope);
        is->nmanufacturers = 1;
    } else if (scope && (role == WB_ROLE_DATACENTER || role == WB_ROLE_LOGISTICS)) {
        is->sites = calloc(1, sizeof(char *));
        is->sites[0] = strdup(scope);
        is->nsites = 1;
    }
    assert_int_equal(wb_key_spki_der(key, &spki, &spki_len), 0);
    add_bytes(&is->keys, &is->key_lens, &is->nkeys, spki, spki_len);
    free(spki);
    for (size_t i = 0; i < ncas; i++)
        add_bytes(&is->cas, &is->ca_lens, &is->ncas, cas[i], ca_len[i]);
    if (wbt_prov_submit(url, admin, "operator", &p, name, detail, sizeof(detail), NULL) != 201)
        fail_msg("issuer %s: %s", name, detail);
    wb_prov_payload_cleanup(&p);
}

json_t *wbt_prov_findings(const char *url, const char *device)
{
    char u[512];
    wb_http_response r;
    json_t *j;
    snprintf(u, sizeof(u), "%s/findings?device=%s", url, device);
    if (wb_http_request(&r, "GET", u, NULL, 0, NULL, "application/json", 10) != 0)
        fail_msg("GET %s: %s", u, wb_error_message());
    assert_int_equal(r.status, 200);
    j = json_loadb((const char *)r.body, r.len, 0, NULL);
    wb_http_response_cleanup(&r);
    assert_non_null(j);
    return j;
}

json_t *wbt_prov_wait_finding(const char *url, const char *device, const char *rule,
                              unsigned timeout_ms)
{
    for (unsigned waited = 0;; waited += 50) {
        json_t *all = wbt_prov_findings(url, device), *f;
        size_t i;
        json_array_foreach(all, i, f) {
            const char *r = json_string_value(json_object_get(f, "rule"));
            if (r && strcmp(r, rule) == 0) {
                json_incref(f);
                json_decref(all);
                return f;
            }
        }
        json_decref(all);
        if (waited >= timeout_ms)
            return NULL;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
}
