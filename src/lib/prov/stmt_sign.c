/*
 * stmt_sign.c: a provenance payload as a signed statement (RFC 9943 §3 via
 * RFC 9052 COSE_Sign1): protected alg, content type
 * application/vnd.waybill.<kind>+json, CWT claims {iss, sub, iat} and the
 * signer's kid; the JSON payload attached. One place for the simulator,
 * the verifier and the command line.
 */
#include "waybill/fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "waybill/error.h"
#include "waybill/scitt.h"

int wb_fleet_sign_statement(uint8_t **out, size_t *len, const wb_prov_payload *p,
                            const wb_cose_signer *signer, const uint8_t kid[32],
                            const char *iss, const char *sub, int64_t iat)
{
    char cty[96], *json = NULL;
    size_t json_len;
    wb_cose_headers h;
    int rc = wb_prov_encode(&json, &json_len, p);
    *out = NULL;
    *len = 0;
    if (rc)
        return rc;
    snprintf(cty, sizeof(cty), "application/vnd.waybill.%s+json", wb_kind_name(p->kind));
    wb_cose_headers_init(&h);
    h.alg = signer->alg;
    h.cty = cty;
    h.has_cwt = 1;
    h.iss = iss;
    h.sub = sub;
    h.iat = iat ? iat : (int64_t)time(NULL);
    h.kid.ptr = kid;
    h.kid.len = 32;
    rc = wb_cose_sign1_create(out, len, &h, NULL, 0, (const uint8_t *)json, json_len, 0,
                              signer);
    free(json);
    if (rc == 0 && *len > WB_STATEMENT_MAX) {
        free(*out);
        *out = NULL;
        return wb_error_set(WB_E_LIMIT, "%s statement: %zu bytes, over the %d-byte "
                            "statement limit", wb_kind_name(p->kind), *len, WB_STATEMENT_MAX);
    }
    return rc;
}
