/*
 * query_attest.c: what a verifier asks the ledger before it challenges
 * hardware (docs/attestation.md, "Verifier"): which units of a target
 * answer attestation challenges, which supplier CAs their identities must
 * chain to, and what a shipment was (for an intake). Read-only, as JSON,
 * like the other queries (query.c).
 *
 * An attesting unit is a device that holds parts (a blade reports its
 * parts by slot, a rack its blades) or a device that is not placed in
 * anything (a stand-alone root of trust such as a TPM). Parts inside a
 * blade are seen through the blade's answer, not challenged one by one.
 */
#include "fleet_int.h"
#include "waybill/query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/error.h"
#include "waybill/util.h"

#define PLAN_DEPTH_MAX 8 /* rack > blade > part, with room to spare */

typedef struct {
    json_t *units;
    json_t *issuers; /* name -> true, the suppliers whose CAs are needed */
} plan_ctx;

static json_t *jstr(const wb_sql_value *v)
{
    return v->type == WB_SQL_TEXT ? json_string(v->s) : json_null();
}

static int unit_row(void *vctx, const wb_sql_value *c, size_t n)
{
    plan_ctx *p = vctx;
    json_t *u;
    if (n < 8)
        return 1;
    u = json_object();
    if (!u)
        return 1;
    json_object_set_new(u, "id", jstr(&c[0]));
    json_object_set_new(u, "class", jstr(&c[1]));
    json_object_set_new(u, "state", jstr(&c[2]));
    json_object_set_new(u, "site", jstr(&c[3]));
    json_object_set_new(u, "serial", jstr(&c[4]));
    json_object_set_new(u, "supplier", jstr(&c[5]));
    json_object_set_new(u, "depth", json_integer(c[6].i));
    json_object_set_new(u, "slots", json_integer(c[7].i));
    if (c[5].type == WB_SQL_TEXT)
        json_object_set_new(p->issuers, c[5].s, json_true());
    json_array_append_new(p->units, u);
    return 0;
}

static int ca_row(void *vctx, const wb_sql_value *c, size_t n)
{
    json_t *list = vctx;
    char *b64;
    if (n < 1 || c[0].type != WB_SQL_BLOB)
        return 0;
    b64 = malloc(wb_base64_encoded_len(c[0].len) + 1);
    if (!b64)
        return 1;
    wb_base64_encode(b64, c[0].b, c[0].len);
    json_array_append_new(list, json_string(b64));
    free(b64);
    return 0;
}

/* the columns of unit_row */
#define UNIT_COLUMNS(DEPTH)                                                                  \
    "SELECT d.id, d.class, d.state, d.site, d.serial, d.issuer, " DEPTH ", (SELECT COUNT(*) " \
    "FROM fleet_placements q WHERE q.parent = d.id AND q.to_idx IS NULL)"
#define HOLDS_PARTS \
    "EXISTS (SELECT 1 FROM fleet_placements q WHERE q.parent = d.id AND q.to_idx IS NULL)"
#define UNPLACED \
    "NOT EXISTS (SELECT 1 FROM fleet_placements q WHERE q.child = d.id AND q.to_idx IS NULL)"
/* a unit holding units (a rack holding blades) */
#define HOLDS_UNITS                                                                          \
    "EXISTS (SELECT 1 FROM fleet_placements q JOIN fleet_placements r ON r.parent = q.child " \
    "AND r.to_idx IS NULL WHERE q.parent = d.id AND q.to_idx IS NULL)"

/* every unit in production; racks (depth 0) after the blades they hold
 * (depth 1), as for one rack */
static const char production_sql[] =
    UNIT_COLUMNS("CASE WHEN " HOLDS_UNITS " THEN 0 ELSE 1 END")
    " FROM fleet_devices d WHERE d.state = 'in-production' AND (" HOLDS_PARTS " OR "
    UNPLACED ") ORDER BY " HOLDS_UNITS ", d.id";

/* the target ($1) and every part-holding unit under it, deepest first (to
 * $2 levels), so that a rack is challenged after its blades */
static const char target_sql[] =
    "WITH RECURSIVE tree(id, depth) AS (SELECT $1, 0 UNION SELECT q.child, t.depth + 1 "
    "FROM fleet_placements q JOIN tree t ON q.parent = t.id WHERE q.to_idx IS NULL AND "
    "t.depth < $2) " UNIT_COLUMNS("t.depth")
    " FROM tree t JOIN fleet_devices d ON d.id = t.id WHERE t.depth = 0 OR " HOLDS_PARTS
    " ORDER BY t.depth DESC, d.id";

int wb_query_attest_plan(json_t **out, wb_store *s, const char *target)
{
    plan_ctx p;
    const char *name;
    json_t *v, *cas;
    wb_sql_value a[2] = {WB_SQL_S(target), WB_SQL_I(PLAN_DEPTH_MAX)};
    int rc;
    int production = strcmp(target, "in-production") == 0;

    *out = NULL;
    if (!production) {
        int64_t known;
        if (fleet_int(s, &known, "SELECT 1 FROM fleet_devices WHERE id = $1", a, 1) != 0)
            return wb_error_set(WB_E_NOTFOUND, "device %s is not in the ledger", target);
    }
    p.units = json_array();
    p.issuers = json_object();
    cas = json_object();
    if (!p.units || !p.issuers || !cas) {
        json_decref(p.units);
        json_decref(p.issuers);
        json_decref(cas);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    if (production)
        rc = wb_store_sql(s, production_sql, NULL, 0, unit_row, &p);
    else
        rc = wb_store_sql(s, target_sql, a, 2, unit_row, &p);
    json_object_foreach(p.issuers, name, v) {
        json_t *list;
        wb_sql_value b[1] = {WB_SQL_S(name)};
        if (rc < 0)
            break;
        list = json_array();
        if (!list) {
            rc = WB_E_NOMEM;
            break;
        }
        json_object_set_new(cas, name, list);
        rc = wb_store_sql(s, "SELECT der FROM fleet_issuer_cas WHERE name = $1 ORDER BY n", b,
                          1, ca_row, list);
    }
    json_decref(p.issuers);
    if (rc < 0) {
        json_decref(p.units);
        json_decref(cas);
        return rc == WB_E_NOMEM ? wb_error_set(rc, "out of memory")
                                : wb_error_prefix(rc, "attestation plan of %s", target);
    }
    *out = json_object();
    if (!*out) {
        json_decref(p.units);
        json_decref(cas);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    json_object_set_new(*out, "target", json_string(target));
    json_object_set_new(*out, "units", p.units);
    json_object_set_new(*out, "cas", cas);
    return 0;
}

/* ---- shipments ---- */

static json_t *split_list(const char *list)
{
    json_t *a = json_array();
    const char *p = list;
    while (a && p && *p) {
        size_t n = strcspn(p, "\n");
        if (n > 0)
            json_array_append_new(a, json_stringn(p, n));
        p += n;
        if (*p == '\n')
            p++;
    }
    return a;
}

static int ship_row(void *vctx, const wb_sql_value *c, size_t n)
{
    json_t *o = vctx;
    if (n < 7)
        return 1;
    json_object_set_new(o, "from", jstr(&c[0]));
    json_object_set_new(o, "to", jstr(&c[1]));
    json_object_set_new(o, "seals", split_list(c[2].type == WB_SQL_TEXT ? c[2].s : ""));
    json_object_set_new(o, "units", split_list(c[3].type == WB_SQL_TEXT ? c[3].s : ""));
    json_object_set_new(o, "ship_index", json_integer(c[4].i));
    json_object_set_new(o, "receive_index",
                        c[5].type == WB_SQL_INT ? json_integer(c[5].i) : json_null());
    json_object_set_new(o, "intake_index",
                        c[6].type == WB_SQL_INT ? json_integer(c[6].i) : json_null());
    return 1;
}

int wb_query_shipment(json_t **out, wb_store *s, const char *shipment)
{
    json_t *o = json_object();
    wb_sql_value a[1] = {WB_SQL_S(shipment)};
    int rc;
    *out = NULL;
    if (!o)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    json_object_set_new(o, "shipment", json_string(shipment));
    rc = wb_store_sql(s, "SELECT from_site, to_site, seals, units, ship_idx, receive_idx, "
                         "intake_idx FROM fleet_shipments WHERE id = $1", a, 1, ship_row, o);
    if (rc < 0) {
        json_decref(o);
        return wb_error_prefix(rc, "shipment %s", shipment);
    }
    if (!json_object_get(o, "units")) {
        json_decref(o);
        return wb_error_set(WB_E_NOTFOUND, "shipment %s was never shipped", shipment);
    }
    *out = o;
    return 0;
}
