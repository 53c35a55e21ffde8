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
