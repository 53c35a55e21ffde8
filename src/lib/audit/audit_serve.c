/*
 * audit_serve.c: what a waybill server publishes for auditors
 * (docs/audit.md, docs/http-api.md "Audit"):
 *   GET /audit/fleet  "waybill.dev/fleet-dump@v1\nsize <N>\n\n" and the fleet
 *                     tables as wb_fleet_dump text, for tree size N exactly;
 *   GET /audit/keys   the keys an auditor pins on its first run: the log's
 *                     checkpoint key, the service's key and name, the admin
 *                     keys (SPKI DER, hex).
 * An auditor that already has the keys out of band never needs the second.
 */
#include "waybill/audit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/error.h"
#include "waybill/fleet.h"
#include "waybill/scitt.h"
#include "waybill/util.h"

int wb_audit_fleet_document(wb_store *s, char **out, size_t *len)
{
    /* the sequencer changes the tables and the tree size in one
       transaction: a dump between two equal sizes is the state of that size */
    for (int attempt = 0; attempt < 20; attempt++) {
        wb_store_state before, after;
        char *dump = NULL;
        size_t dl;
        wb_buf b;
        int rc = wb_store_get_state(s, &before);
        if (rc == WB_E_NOTFOUND) {
            memset(&before, 0, sizeof(before));
            rc = 0;
        } else if (rc) {
            return rc;
        }
        wb_store_state_cleanup(&before);
        rc = wb_fleet_dump(s, &dump, &dl);
        if (rc)
            return rc;
        rc = wb_store_get_state(s, &after);
        if (rc == WB_E_NOTFOUND) {
            memset(&after, 0, sizeof(after));
            rc = 0;
        }
        wb_store_state_cleanup(&after);
        if (rc == 0 && after.size != before.size) {
            free(dump);
            continue;
        }
        if (rc == 0) {
            wb_buf_init(&b, dl + 128);
            wb_buf_printf(&b, "%s\nsize %llu\n\n", WB_FLEET_DUMP_FORMAT,
                          (unsigned long long)after.size);
            wb_buf_add(&b, dump, dl);
            rc = wb_buf_finish(&b, (uint8_t **)out, len);
        }
        free(dump);
        return rc;
    }
    return wb_error_set(WB_E_CONFLICT, "the log kept growing while the fleet state was read; "
                        "try again");
}

static json_t *spki_json(const wb_key *k)
{
    uint8_t *der;
    size_t len;
    char *hex;
    json_t *v;
    if (wb_key_spki_der(k, &der, &len) != 0)
        return NULL;
    hex = malloc(2 * len + 1);
    if (!hex) {
        free(der);
        return NULL;
    }
    wb_hex_encode(hex, der, len);
    v = json_string(hex);
    free(hex);
    free(der);
    return v;
}

int wb_audit_keys_json(json_t **out, wb_service *svc)
{
    json_t *o = json_object(), *admins = json_array();
    const wb_key *const *keys = NULL;
    size_t n = 0;
    char *vkey = NULL;
    int rc = wb_service_log_key(svc, &vkey);
    if (rc == 0 && (!o || !admins))
        rc = wb_error_set(WB_E_NOMEM, "out of memory");
    if (rc == 0 && wb_fleet_admin_keys(svc, &keys, &n) == 0)
        for (size_t i = 0; i < n; i++)
            json_array_append_new(admins, spki_json(keys[i]));
    if (rc == 0) {
        json_object_set_new(o, "log_key", json_string(vkey));
        json_object_set_new(o, "service", json_string(wb_service_name(svc)));
        json_object_set_new(o, "service_key", spki_json(wb_service_key_pair(svc)));
        json_object_set(o, "admin_keys", admins);
    }
    free(vkey);
    json_decref(admins);
    if (rc) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}
