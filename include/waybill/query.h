/*
 * waybill/query.h: the questions a datacenter asks of the fleet state
 * (docs/queries.md), answered as JSON (jansson) from the fleet tables, for
 * the HTTP API and the command line alike.
 */
#ifndef WAYBILL_QUERY_H
#define WAYBILL_QUERY_H

#include <jansson.h>

#include "waybill/store.h"

/*
 * A device's journey: what the ledger knows of it and every entry that
 * concerns it, in log order ({"device", "class", ..., "entries": [{"index",
 * "entry_id", "kind", "issuer", "subject", "iat", "time"}], "findings"}).
 * WB_E_NOTFOUND if the ledger never mentioned it.
 */
int wb_query_journey(json_t **out, wb_store *s, const char *device);

/*
 * The tree under a rack or blade: each slot's expected device (from
 * assemblies and replacements) and the device the latest attestation of the
 * parent saw there, recursively ({"id", "class", "slots": [{"slot",
 * "expected", "last_attested", "match", "tree": {...}}]}).
 */
int wb_query_tree(json_t **out, wb_store *s, const char *device);

/* fleet compliance: devices by state and site, open findings by tag; with
 * state != NULL also the ids of the devices in that state */
int wb_query_fleet(json_t **out, wb_store *s, const char *state);

/* findings, newest first; each filter may be NULL */
int wb_query_findings(json_t **out, wb_store *s, const char *status, const char *tag,
                      const char *device, const char *rule);

/*
 * A scope: the part of the fleet a reader may see (docs/personas.md).
 * A device is in scope when its manifest names one of the manufacturers
 * (WB_SCOPE_MANUFACTURERS), when it is now at one of the sites
 * (WB_SCOPE_SITES), or when an entry about it was signed by one of the
 * issuers (WB_SCOPE_ISSUERS). A finding is in scope when its device is, or
 * (sites) when it was raised at one of the sites. NULL or WB_SCOPE_ALL: the
 * whole fleet. At most WB_SCOPE_NAMES_MAX names.
 */
typedef enum {
    WB_SCOPE_ALL = 0,
    WB_SCOPE_MANUFACTURERS,
    WB_SCOPE_SITES,
    WB_SCOPE_ISSUERS,
} wb_scope_kind;

#define WB_SCOPE_NAMES_MAX 64

typedef struct {
    wb_scope_kind kind;
    char *const *names;
    size_t n;
} wb_query_scope;

/* wb_query_fleet and wb_query_findings over the devices and findings in scope
 * only: the counts, the ids and the rows of a scope, never the others' */
int wb_query_fleet_scoped(json_t **out, wb_store *s, const char *state,
                          const wb_query_scope *scope);
int wb_query_findings_scoped(json_t **out, wb_store *s, const char *status, const char *tag,
                             const char *device, const char *rule,
                             const wb_query_scope *scope);

/*
 * 1 if the thing is in scope, 0 if not (or unknown), a negative WB_E_*
 * on a store error: a device (by id); a log entry (by entry id, lowercase
 * hex: an entry about a device in scope, or, for WB_SCOPE_ISSUERS, signed
 * by one of the issuers; entries the fleet tables do not know are in no
 * scope but WB_SCOPE_ALL); a shipment (sites: shipped from or to one of
 * them; otherwise one of its units is in scope).
 */
int wb_query_device_in_scope(wb_store *s, const char *device, const wb_query_scope *scope);
int wb_query_entry_in_scope(wb_store *s, const char *entry_id, const wb_query_scope *scope);
int wb_query_shipment_in_scope(wb_store *s, const char *shipment,
                               const wb_query_scope *scope);

/*
 * The entries a passport of device holds: the device's own, those of its
 * ancestors (the parents it is placed in, transitively, as of now), those
 * of the firmware its last attestation measured and of the reviews of that
 * firmware, and the governance entries of every issuer that signed one of
 * them. Log indexes, ascending, without duplicates (malloc'd).
 */
int wb_query_passport_entries(uint64_t **idx, size_t *n, wb_store *s, const char *device);

/*
 * What a verifier challenges for target (a device id, or "in-production":
 * every unit in production): {"target", "units": [{"id", "class", "state",
 * "site", "serial", "supplier", "depth", "slots"}], "cas": {supplier:
 * [base64 DER CA certificates]}}. Units are the devices that answer
 * challenges: the target and every part-holding device under it (a rack's
 * blades), deepest first so a rack comes after its blades; for
 * "in-production", every part-holding or unplaced device in production,
 * racks last. WB_E_NOTFOUND for a device the ledger never mentioned.
 */
int wb_query_attest_plan(json_t **out, wb_store *s, const char *target);

/* a shipment: {"shipment", "from", "to", "seals", "units", "ship_index",
 * "receive_index", "intake_index"}; WB_E_NOTFOUND if never shipped */
int wb_query_shipment(json_t **out, wb_store *s, const char *shipment);

/*
 * For the web console (docs/console.md, query_console.c):
 * wb_query_findings_times adds to each finding of an array (wb_query_findings,
 * a journey's "findings") "entry_id" and "time" (ISO 8601, its iat) of the
 * finding's own entry and, once closed, "closed_time";
 * wb_query_journey_placement adds "placed_in": {"parent", "slot", "index"} to
 * a journey when the device is placed in a parent now.
 */
int wb_query_findings_times(wb_store *s, json_t *findings);
int wb_query_journey_placement(wb_store *s, json_t *journey);

#endif
