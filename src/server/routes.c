/*
 * routes.c: the read side of the HTTP API (docs/http-api.md):
 *
 *   GET /entries/{id}                  receipt (SCRAPI); 204 while pending;
 *                                      ?witnessed=1: with a witnessed checkpoint
 *   GET /entries/{id}/statement        transparent statement
 *   GET /.well-known/scitt-keys        COSE Key Set of the receipt key
 *   GET /.well-known/scitt-keys/{kid}  one COSE Key (kid base64url or hex)
 *   GET /.well-known/transparency-configuration
 *   GET /checkpoint                    C2SP checkpoint (signed note), with the
 *                                      witnesses' cosignatures gathered for it
 *   GET /witnesses                     the witness policy's state (JSON)
 *   GET /tile/<L>/<N>[.p/<W>], /tile/entries/<N>[.p/<W>]   C2SP tlog-tiles
 *   GET /proofs/consistency?old=N[&new=M]   consistency proof (docs/proofs.md)
 *   GET /devices/{id}                  a device's journey (JSON, with receipts)
 *   GET /devices/{id}/tree             the tree under a rack or blade
 *   GET /devices/{id}/passport         the device passport (CBOR);
 *                                      ?witnessed=1: against a cosigned checkpoint
 *   GET /fleet[?state=S]               fleet compliance
 *   GET /findings[?status=&tag=&device=&rule=]
 *   GET /metrics, GET /healthz
 *   GET /ui/, /ui/<file>               the web console's static files (ui.c)
 *
 * Every route is authorized by persona first (persona.c, docs/personas.md);
 * a scoped persona sees only the devices, entries, shipments and findings
 * in its scope, and lists are filtered to them.
 */
#include "server_int.h"

#include <cbor.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/audit.h"
#include "waybill/error.h"
#include "waybill/fleet.h"
#include "waybill/log.h"
#include "waybill/passport.h"
#include "waybill/query.h"
#include "waybill/util.h"

static enum MHD_Result respond(wb_server *s, struct MHD_Connection *c, unsigned status,
                               const char *ctype, void *body, size_t len,
                               const char *cache)
{
    struct MHD_Response *resp = srv_response(s, status, ctype, body, len);
    enum MHD_Result ret;
    if (!resp)
        return MHD_NO;
    if (cache)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
    ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result problem(wb_server *s, struct MHD_Connection *c, unsigned status,
                               const char *title, const char *detail)
{
    uint8_t *body;
    size_t len;
    if (wb_cbor_problem(&body, &len, title, detail, 0) != 0)
        return MHD_NO;
    return respond(s, c, status, "application/concise-problem-details+cbor", body, len,
                   NULL);
}

static enum MHD_Result lib_error(wb_server *s, struct MHD_Connection *c, int rc)
{
    switch (rc) {
    case WB_E_NOTFOUND:
        return problem(s, c, MHD_HTTP_NOT_FOUND, "Not found", wb_error_message());
    case WB_E_INVALID:
    case WB_E_RANGE:
    case WB_E_LIMIT:
        return problem(s, c, MHD_HTTP_BAD_REQUEST, "Bad request", wb_error_message());
    default:
        srv_log("error", "msg=\"read failed\" err=\"%s\"", wb_error_message());
        return problem(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal error",
                       wb_error_message());
    }
}

/* "/entries/<64 hex>" with an optional suffix; 1 if it matched */
static int parse_entry_url(const char *url, uint8_t id[32], const char **suffix)
{
    const char *p = url + strlen("/entries/");
    size_t n = 0;
    while (p[n] && p[n] != '/')
        n++;
    if (n != 64 || wb_hex_decode(id, 32, p, 64) != 0)
        return 0;
    *suffix = p + 64;
    return 1;
}

/* ?witnessed=1 (or true) */
static int witnessed_arg(struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "witnessed");
    return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
}

/* 503 "Not yet witnessed" with Retry-After: 1 */
static enum MHD_Result not_yet_witnessed(wb_server *s, struct MHD_Connection *c,
                                         const char *why)
{
    struct MHD_Response *resp;
    uint8_t *body;
    size_t blen;
    enum MHD_Result ret;
    if (wb_cbor_problem(&body, &blen, "Not yet witnessed", why, 0) != 0)
        return MHD_NO;
    resp = MHD_create_response_from_buffer(blen, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "application/concise-problem-details+cbor");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    srv_count_status(s, MHD_HTTP_SERVICE_UNAVAILABLE);
    ret = MHD_queue_response(c, MHD_HTTP_SERVICE_UNAVAILABLE, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* what a scoped persona may see: a device (0), a log entry (1), a shipment (2) */
static int in_scope(wb_server *s, const srv_persona *who, int what, const char *name)
{
    const wb_query_scope *sc = srv_persona_scope(who);
    wb_store *store;
    int rc;
    if (!sc)
        return 1;
    if (wb_service_thread_store(s->svc, &store) != 0)
        return 0;
    rc = what == 0   ? wb_query_device_in_scope(store, name, sc)
         : what == 1 ? wb_query_entry_in_scope(store, name, sc)
                     : wb_query_shipment_in_scope(store, name, sc);
    return rc == 1; /* unknown, or a store without fleet tables: not in scope */
}

/* 403 naming the thing and the persona */
static enum MHD_Result out_of_scope(wb_server *s, struct MHD_Connection *c,
                                    const srv_persona *who, const char *what, const char *name)
{
    char detail[300];
    snprintf(detail, sizeof(detail), "%s %.80s is not in the scope of persona %s (%s)", what,
             name, srv_persona_name(who), wb_persona_kind_name(srv_persona_kind(who)));
    return srv_refuse(s, c, who, detail);
}

static enum MHD_Result get_entry(wb_server *s, struct MHD_Connection *c, const char *url,
                                 const srv_persona *who)
{
    uint8_t id[32], *out = NULL;
    size_t len = 0;
    const char *suffix;
    int rc;
    if (!parse_entry_url(url, id, &suffix))
        return problem(s, c, MHD_HTTP_NOT_FOUND, "Not found",
                       "an entry id is 64 lowercase hex digits: the SHA-256 of the "
                       "registered statement");
    if (strcmp(suffix, "/statement") == 0) {
        char hex[65];
        wb_hex_encode(hex, id, 32);
        if (!in_scope(s, who, 1, hex))
            return out_of_scope(s, c, who, "entry", hex);
    }
    if (witnessed_arg(c) && (suffix[0] == '\0' || strcmp(suffix, "/statement") == 0)) {
        char why[200] = "";
        if (!s->witnesses)
            return problem(s, c, MHD_HTTP_NOT_FOUND, "No witnesses",
                           "this log has no witnesses configured ([witness] policy)");
        rc = srv_witnesses_receipt(s->witnesses, id, suffix[0] != '\0', &out, &len, why,
                                   sizeof(why));
        if (rc == 2) /* registered, but no witness cosigned a tree holding it yet */
            return not_yet_witnessed(s, c, why);
    } else if (strcmp(suffix, "/statement") == 0) {
        rc = wb_service_transparent(s->svc, id, &out, &len);
    } else if (suffix[0] == '\0') {
        rc = wb_service_receipt(s->svc, id, &out, &len, NULL);
    } else {
        return problem(s, c, MHD_HTTP_NOT_FOUND, "Not found", "no such resource");
    }
    if (rc == 1) {
        /* queued, not yet committed (SCRAPI: 204 with Retry-After) */
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ret;
        if (!resp)
            return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        srv_count_status(s, MHD_HTTP_NO_CONTENT);
        ret = MHD_queue_response(c, MHD_HTTP_NO_CONTENT, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    if (rc)
        return lib_error(s, c, rc);
    return respond(s, c, MHD_HTTP_OK, "application/cose", out, len, "no-cache");
}

/*
 * the transparency configuration with the server's own resources added: the
 * service (the library) knows the log, the server knows its witnesses
 */
static int get_configuration(wb_server *s, uint8_t **out, size_t *len)
{
    struct cbor_load_result res;
    cbor_item_t *from, *to;
    unsigned char *buf = NULL;
    size_t cap = 0, n;
    int rc = wb_service_configuration(s->svc, out, len);
    if (rc || !s->witnesses)
        return rc;
    /* our own encoding: one definite map of text pairs */
    from = cbor_load(*out, *len, &res);
    if (!from || !cbor_isa_map(from)) {
        if (from)
            cbor_decref(&from);
        return wb_error_set(WB_E_INTERNAL, "transparency configuration: not a CBOR map");
    }
    to = cbor_new_definite_map(cbor_map_size(from) + 1);
    for (size_t i = 0; to && i < cbor_map_size(from); i++)
        cbor_map_add(to, cbor_map_handle(from)[i]); /* shares the items (incref) */
    if (to) {
        struct cbor_pair w = {cbor_move(cbor_build_string("witnesses")),
                              cbor_move(cbor_build_string("/witnesses"))};
        cbor_map_add(to, w);
    }
    n = to ? cbor_serialize_alloc(to, &buf, &cap) : 0;
    cbor_decref(&from);
    if (to)
        cbor_decref(&to);
    free(*out);
    *out = NULL;
    if (n == 0)
        return wb_error_set(WB_E_NOMEM, "out of memory encoding the configuration");
    *out = buf;
    *len = n;
    return 0;
}

static enum MHD_Result get_consistency(wb_server *s, struct MHD_Connection *c)
{
    const char *old_s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "old");
    const char *new_s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "new");
    uint64_t old_size, new_size;
    char *text = NULL;
    size_t len;
    int rc;
    if (!old_s || wb_parse_u64(&old_size, old_s, strlen(old_s)) != 0)
        return problem(s, c, MHD_HTTP_BAD_REQUEST, "Bad request",
                       "give the older tree size as ?old=N (and optionally &new=M)");
    if (new_s) {
        if (wb_parse_u64(&new_size, new_s, strlen(new_s)) != 0)
            return problem(s, c, MHD_HTTP_BAD_REQUEST, "Bad request",
                           "new must be a decimal tree size");
    } else {
        new_size = 0; /* the latest tree */
    }
    rc = wb_service_consistency(s->svc, old_size, new_size, &text, &len);
    if (rc == 0)
        rc = srv_witnesses_proof(s->witnesses, &text, &len);
    if (rc) {
        free(text);
        return lib_error(s, c, rc);
    }
    return respond(s, c, MHD_HTTP_OK, "text/plain; charset=utf-8", text, len, "no-cache");
}

static enum MHD_Result send_json(wb_server *s, struct MHD_Connection *c, json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text)
        return problem(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal error",
                       "out of memory encoding JSON");
    return respond(s, c, MHD_HTTP_OK, "application/json", text, strlen(text), "no-store");
}

/* the receipt of each journey entry, base64, so the answer stands alone */
static void add_receipts(wb_server *s, json_t *journey)
{
    json_t *entries = json_object_get(journey, "entries"), *e;
    size_t i;
    json_array_foreach(entries, i, e) {
        const char *hex = json_string_value(json_object_get(e, "entry_id"));
        uint8_t id[32], *receipt;
        size_t rlen;
        if (!hex || wb_hex_decode(id, 32, hex, strlen(hex)) != 0)
            continue;
        if (wb_service_receipt(s->svc, id, &receipt, &rlen, NULL) == 0) {
            char *b64 = malloc(wb_base64_encoded_len(rlen) + 1);
            if (b64) {
                wb_base64_encode(b64, receipt, rlen);
                json_object_set_new(e, "receipt", json_string(b64));
                free(b64);
            }
            free(receipt);
        }
    }
}

static enum MHD_Result get_device(wb_server *s, struct MHD_Connection *c, const char *url,
                                  const srv_persona *who)
{
    const char *p = url + strlen("/devices/");
    char id[WB_DEVICE_ID_HEX + 1];
    size_t n = strcspn(p, "/");
    const char *suffix = p + n;
    wb_store *store;
    json_t *o = NULL;
    int rc;
    uint8_t raw[32];
    if (n != WB_DEVICE_ID_HEX || wb_hex_decode(raw, 32, p, n) != 0)
        return problem(s, c, MHD_HTTP_NOT_FOUND, "Not found",
                       "a device id is 64 lowercase hex digits: the SHA-256 of its root of "
                       "trust's public key");
    memcpy(id, p, n);
    id[n] = '\0';
    if (!in_scope(s, who, 0, id))
        return out_of_scope(s, c, who, "device", id);
    if (strcmp(suffix, "/passport") == 0) {
        uint8_t *pp = NULL;
        size_t len = 0;
        if (witnessed_arg(c)) {
            char why[300] = "";
            if (!s->witnesses)
                return problem(s, c, MHD_HTTP_NOT_FOUND, "No witnesses",
                               "this log has no witnesses configured ([witness] policy)");
            rc = srv_witnesses_passport(s->witnesses, id, &pp, &len, why, sizeof(why));
            if (rc == 2)
                return not_yet_witnessed(s, c, why);
        } else {
            rc = wb_passport_build(&pp, &len, s->svc, id);
        }
        if (rc)
            return lib_error(s, c, rc);
        return respond(s, c, MHD_HTTP_OK, "application/cbor", pp, len, "no-store");
    }
    rc = wb_service_thread_store(s->svc, &store);
    if (rc == 0) {
        if (suffix[0] == '\0')
            rc = wb_query_journey(&o, store, id);
        else if (strcmp(suffix, "/tree") == 0)
            rc = wb_query_tree(&o, store, id);
        else
            return problem(s, c, MHD_HTTP_NOT_FOUND, "Not found", "no such resource");
    }
    if (rc)
        return lib_error(s, c, rc);
    if (suffix[0] == '\0') {
        add_receipts(s, o);
        /* for the console: where it is placed, when its findings were raised */
        if (wb_query_journey_placement(store, o) != 0 ||
            wb_query_findings_times(store, json_object_get(o, "findings")) != 0) {
            json_decref(o);
            return lib_error(s, c, WB_E_IO);
        }
    }
    return send_json(s, c, o);
}

/* GET /attest/plan/{device id | in-production} and GET /shipments/{id} */
/* a datacenter's plan of every unit in production: the units at its sites */
static void plan_to_scope(json_t *plan, const wb_query_scope *sc)
{
    json_t *units = json_object_get(plan, "units"), *kept = json_array();
    json_t *u;
    size_t i;
    json_array_foreach(units, i, u) {
        const char *site = json_string_value(json_object_get(u, "site"));
        for (size_t k = 0; site && k < sc->n; k++)
            if (strcmp(site, sc->names[k]) == 0) {
                json_array_append(kept, u);
                break;
            }
    }
    json_object_set_new(plan, "units", kept);
}

static enum MHD_Result get_plan(wb_server *s, struct MHD_Connection *c, const char *url,
                                const srv_persona *who)
{
    wb_store *store;
    json_t *o = NULL;
    int plan = strncmp(url, "/attest/plan/", 13) == 0;
    const char *what = url + (plan ? 13 : strlen("/shipments/"));
    int rc;
    if (!what[0] || strlen(what) > WB_PROV_NAME_MAX || strchr(what, '/'))
        return problem(s, c, MHD_HTTP_NOT_FOUND, "Not found",
                       plan ? "/attest/plan/ takes a device id or in-production"
                            : "/shipments/ takes a shipment id");
    if (!wb_fleet_service_config(s->svc))
        return problem(s, c, MHD_HTTP_NOT_FOUND, "Not found",
                       "this service keeps no fleet state");
    if (!plan && !in_scope(s, who, 2, what))
        return out_of_scope(s, c, who, "shipment", what);
    if (plan && strcmp(what, "in-production") != 0 && !in_scope(s, who, 0, what))
        return out_of_scope(s, c, who, "device", what);
    rc = wb_service_thread_store(s->svc, &store);
    if (rc == 0)
        rc = plan ? wb_query_attest_plan(&o, store, what) : wb_query_shipment(&o, store, what);
    if (rc)
        return lib_error(s, c, rc);
    if (plan && srv_persona_scope(who) && srv_persona_scope(who)->kind == WB_SCOPE_SITES)
        plan_to_scope(o, srv_persona_scope(who));
    return send_json(s, c, o);
}

#define CHECK_MAX 256 /* attestations in one dry run */

/* one dry run: {"findings": [...]} or {"error": "..."} */
static json_t *dry_run_one(wb_store *store, const wb_fleet_config *cfg, const json_t *item)
{
    json_t *res = json_object(), *list = json_array();
    const char *kind_name = json_string_value(json_object_get(item, "kind"));
    wb_kind kind = kind_name ? wb_kind_from_name(kind_name) : WB_KIND_NONE;
    wb_fleet_entry e;
    wb_fleet_finding *f = NULL;
    size_t n = 0;
    char *text = json_dumps(item, JSON_COMPACT);
    int rc;
    memset(&e, 0, sizeof(e));
    if (!res || !list || !text) {
        json_decref(res);
        json_decref(list);
        free(text);
        return NULL;
    }
    if (kind != WB_KIND_ATTESTATION && kind != WB_KIND_INTAKE)
        rc = wb_error_set(WB_E_INVALID, "kind: a dry run takes an attestation or an intake");
    else
        rc = wb_prov_parse(&e.payload, kind, (const uint8_t *)text, strlen(text));
    free(text);
    if (rc == 0) {
        e.kind = kind;
        rc = wb_fleet_dry_run(store, cfg, &e, &f, &n);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const wb_p_finding *p = &f[i].payload.u.finding;
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "rule", p->rule, "tag",
                                              wb_tag_name(p->tag), "device", p->device,
                                              "reason", p->reason));
    }
    if (rc == 0)
        json_object_set_new(res, "findings", list);
    else {
        json_decref(list);
        json_object_set_new(res, "error", json_string(wb_error_message()));
    }
    wb_fleet_findings_free(f, n);
    wb_prov_payload_cleanup(&e.payload);
    return res;
}

enum MHD_Result srv_route_check(wb_server *s, struct MHD_Connection *c, const uint8_t *body,
                                size_t len)
{
    const wb_fleet_config *cfg = wb_fleet_service_config(s->svc);
    const srv_persona *who = NULL;
    enum MHD_Result refused;
    json_error_t jerr;
    json_t *in, *out, *item;
    wb_store *store;
    size_t i;
    int rc;
    if (!srv_authorize(s, c, "POST", "/attest/check", &who, &refused))
        return refused;
    if (!cfg)
        return problem(s, c, MHD_HTTP_NOT_FOUND, "Not found",
                       "this service keeps no fleet state");
    in = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!in || !json_is_array(in) || json_array_size(in) > CHECK_MAX) {
        char detail[256];
        if (!in)
            snprintf(detail, sizeof(detail), "body: not JSON: %s (line %d)", jerr.text,
                     jerr.line);
        else
            snprintf(detail, sizeof(detail), "body: a JSON array of at most %d attestation "
                     "or intake payloads", CHECK_MAX);
        json_decref(in);
        return problem(s, c, MHD_HTTP_BAD_REQUEST, "Bad request", detail);
    }
    /* a datacenter dry-runs what happens at its own sites, to its own devices */
    json_array_foreach(in, i, item) {
        const wb_query_scope *sc = srv_persona_scope(who);
        const char *site = json_string_value(json_object_get(item, "site"));
        const char *target = json_string_value(json_object_get(item, "target"));
        int ok = !sc;
        for (size_t k = 0; !ok && site && sc->kind == WB_SCOPE_SITES && k < sc->n; k++)
            ok = strcmp(site, sc->names[k]) == 0;
        if (ok && sc && target && strlen(target) <= WB_PROV_NAME_MAX)
            ok = in_scope(s, who, 0, target);
        if (!ok) {
            /* site points into in: answer before freeing it */
            enum MHD_Result r = out_of_scope(s, c, who, "a dry run at site",
                                             site ? site : "(none)");
            json_decref(in);
            return r;
        }
    }
    rc = wb_service_thread_store(s->svc, &store);
    if (rc) {
        json_decref(in);
        return lib_error(s, c, rc);
    }
    out = json_array();
    json_array_foreach(in, i, item) {
        json_t *r = out ? dry_run_one(store, cfg, item) : NULL;
        if (!r) {
            json_decref(out);
            out = NULL;
            break;
        }
        json_array_append_new(out, r);
    }
    json_decref(in);
    if (!out)
        return problem(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal error",
                       "out of memory");
    return send_json(s, c, out);
}

/* what auditors fetch (docs/audit.md) */
static enum MHD_Result get_audit(wb_server *s, struct MHD_Connection *c, const char *url)
{
    wb_store *store;
    char *doc = NULL;
    size_t len;
    int rc;
    if (strcmp(url, "/audit/keys") == 0) {
        json_t *o = NULL;
        rc = wb_audit_keys_json(&o, s->svc);
        return rc ? lib_error(s, c, rc) : send_json(s, c, o);
    }
    if (!wb_fleet_service_config(s->svc))
        return problem(s, c, MHD_HTTP_NOT_FOUND, "Not found",
                       "this log keeps no fleet state (no provenance rules)");
    rc = wb_service_thread_store(s->svc, &store);
    if (rc == 0)
        rc = wb_audit_fleet_document(store, &doc, &len);
    if (rc)
        return lib_error(s, c, rc);
    return respond(s, c, MHD_HTTP_OK, "text/plain; charset=utf-8", doc, len, "no-cache");
}

static const char *arg(struct MHD_Connection *c, const char *name)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    return v && v[0] ? v : NULL;
}

enum MHD_Result srv_route_get(wb_server *s, struct MHD_Connection *c, const char *method,
                              const char *url)
{
    uint8_t *out = NULL;
    size_t len = 0;
    const srv_persona *who = NULL;
    enum MHD_Result refused;
    int rc;

    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        if (strcmp(url, "/entries") == 0)
            return problem(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, "Method not allowed",
                           "/entries takes POST with an application/cose body");
        return problem(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, "Method not allowed",
                       "this resource is read-only (GET)");
    }
    /* who is asking, and whether that persona may use this endpoint at all
     * (docs/personas.md); per-object scopes are checked by each route */
    if (!srv_authorize(s, c, method, url, &who, &refused))
        return refused;
    if (strncmp(url, "/entries/", 9) == 0)
        return get_entry(s, c, url, who);
    if (strcmp(url, "/ui") == 0 || strncmp(url, "/ui/", 4) == 0)
        return srv_route_ui(s, c, url);
    if (strcmp(url, "/checkpoint") == 0) {
        char *note = NULL;
        rc = wb_service_checkpoint(s->svc, &note, &len);
        if (rc == 0)
            rc = srv_witnesses_cosign(s->witnesses, &note, &len);
        if (rc) {
            free(note);
            return lib_error(s, c, rc);
        }
        /* mutable: caching beyond a few seconds is wrong (tlog-tiles) */
        return respond(s, c, MHD_HTTP_OK, "text/plain; charset=utf-8", note, len,
                       "no-cache, max-age=0");
    }
    if (strcmp(url, "/witnesses") == 0) {
        json_t *o;
        if (!s->witnesses)
            return problem(s, c, MHD_HTTP_NOT_FOUND, "No witnesses",
                           "this log has no witnesses configured ([witness] policy)");
        if (!(o = srv_witnesses_json(s->witnesses)))
            return problem(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal error",
                           "out of memory");
        return send_json(s, c, o);
    }
    if (strncmp(url, "/tile/", 6) == 0) {
        rc = wb_service_tile(s->svc, url + 1, strlen(url + 1), &out, &len);
        if (rc)
            return lib_error(s, c, rc);
        /* immutable once served */
        return respond(s, c, MHD_HTTP_OK, "application/octet-stream", out, len,
                       "public, max-age=31536000, immutable");
    }
    if (strcmp(url, "/.well-known/scitt-keys") == 0) {
        rc = wb_service_keys(s->svc, &out, &len);
        if (rc)
            return lib_error(s, c, rc);
        return respond(s, c, MHD_HTTP_OK, "application/cbor", out, len, "max-age=3600");
    }
    if (strncmp(url, "/.well-known/scitt-keys/", 24) == 0) {
        rc = wb_service_key(s->svc, url + 24, &out, &len);
        if (rc == WB_E_NOTFOUND)
            return problem(s, c, MHD_HTTP_NOT_FOUND, "No such key",
                           "No key could be found for this kid value");
        if (rc)
            return lib_error(s, c, rc);
        return respond(s, c, MHD_HTTP_OK, "application/cbor", out, len, "max-age=3600");
    }
    if (strcmp(url, "/.well-known/transparency-configuration") == 0) {
        rc = get_configuration(s, &out, &len);
        if (rc)
            return lib_error(s, c, rc);
        return respond(s, c, MHD_HTTP_OK, "application/cbor", out, len, "max-age=3600");
    }
    if (strcmp(url, "/proofs/consistency") == 0)
        return get_consistency(s, c);
    if (strcmp(url, "/audit/fleet") == 0 || strcmp(url, "/audit/keys") == 0)
        return get_audit(s, c, url);
    if (strncmp(url, "/devices/", 9) == 0)
        return get_device(s, c, url, who);
    if (strncmp(url, "/attest/plan/", 13) == 0 || strncmp(url, "/shipments/", 11) == 0)
        return get_plan(s, c, url, who);
    if (strcmp(url, "/fleet") == 0 || strcmp(url, "/findings") == 0) {
        wb_store *store;
        json_t *o = NULL;
        rc = wb_service_thread_store(s->svc, &store);
        if (rc == 0)
            rc = url[1] == 'f' && url[2] == 'l'
                     ? wb_query_fleet_scoped(&o, store, arg(c, "state"),
                                             srv_persona_scope(who))
                     : wb_query_findings_scoped(&o, store, arg(c, "status"), arg(c, "tag"),
                                                arg(c, "device"), arg(c, "rule"),
                                                srv_persona_scope(who));
        if (rc == 0 && url[2] == 'i' && (rc = wb_query_findings_times(store, o)) != 0)
            json_decref(o);
        if (rc)
            return lib_error(s, c, rc);
        return send_json(s, c, o);
    }
    if (strcmp(url, "/metrics") == 0) {
        char *text;
        rc = srv_metrics_text(s, &text, &len);
        if (rc)
            return lib_error(s, c, rc);
        return respond(s, c, MHD_HTTP_OK, "text/plain; version=0.0.4", text, len, "no-store");
    }
    if (strcmp(url, "/whoami") == 0) {
        /* the persona the credentials name (anonymous: public), for the
           console's header; it says nothing the caller does not hold */
        json_t *o = json_object();
        json_object_set_new(o, "persona", json_string(who ? srv_persona_name(who) : "public"));
        json_object_set_new(o, "kind", json_string(who ? wb_persona_kind_name(
                                                             srv_persona_kind(who))
                                                       : "public"));
        return send_json(s, c, o);
    }
    if (strcmp(url, "/healthz") == 0) {
        char *ok = strdup("ok\n");
        return respond(s, c, MHD_HTTP_OK, "text/plain", ok, ok ? 3 : 0, "no-store");
    }
    return problem(s, c, MHD_HTTP_NOT_FOUND, "Not found", "no such resource");
}
