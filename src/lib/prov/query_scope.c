/*
 * query_scope.c: what part of the fleet a reader may see (waybill/query.h,
 * docs/personas.md). A scope is a list of manufacturer names, sites or
 * issuer names; it becomes one SQL predicate over a device column (and a
 * site column), with the names as parameters, so the queries filter rows
 * in the store and never build SQL from the names themselves.
 */
#include "fleet_int.h"

#include <stdio.h>
#include <string.h>

#include "waybill/error.h"

/* "$first, $first+1, ..." for n names */
static int param_list(char *list, size_t cap, size_t n, int first)
{
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int k = snprintf(list + used, cap - used, "%s$%d", i ? ", " : "", first + (int)i);
        if (k < 0 || (size_t)k >= cap - used)
            return wb_error_set(WB_E_LIMIT, "scope: SQL too long");
        used += (size_t)k;
    }
    return 0;
}

int fleet_scope_sql(char *buf, size_t cap, const wb_query_scope *sc, const char *dev_col,
                    const char *site_col, int first, wb_sql_value *args)
{
    char list[WB_SCOPE_NAMES_MAX * 8];
    int k;
    if (!sc || sc->kind == WB_SCOPE_ALL) {
        k = snprintf(buf, cap, "1 = 1");
        return k < 0 || (size_t)k >= cap ? wb_error_set(WB_E_LIMIT, "scope: SQL too long") : 0;
    }
    if (sc->n == 0 || sc->n > WB_SCOPE_NAMES_MAX)
        return wb_error_set(WB_E_INVALID, "a scope names 1 to %d names", WB_SCOPE_NAMES_MAX);
    if ((k = param_list(list, sizeof(list), sc->n, first)) != 0)
        return k;
    for (size_t i = 0; i < sc->n; i++)
        args[i] = WB_SQL_S(sc->names[i]);
    switch (sc->kind) {
    case WB_SCOPE_MANUFACTURERS:
        k = snprintf(buf, cap, "%s IN (SELECT id FROM fleet_devices WHERE manufacturer IN (%s))",
                     dev_col, list);
        break;
    case WB_SCOPE_SITES:
        if (site_col)
            k = snprintf(buf, cap, "(%s IN (SELECT id FROM fleet_devices WHERE site IN (%s)) "
                         "OR %s IN (%s))", dev_col, list, site_col, list);
        else
            k = snprintf(buf, cap, "%s IN (SELECT id FROM fleet_devices WHERE site IN (%s))",
                         dev_col, list);
        break;
    case WB_SCOPE_ISSUERS:
        k = snprintf(buf, cap, "%s IN (SELECT sd.device FROM fleet_entry_devices sd JOIN "
                     "fleet_entries se ON se.idx = sd.idx WHERE se.issuer IN (%s))", dev_col,
                     list);
        break;
    default:
        return wb_error_set(WB_E_INVALID, "unknown scope kind %d", (int)sc->kind);
    }
    if (k < 0 || (size_t)k >= cap)
        return wb_error_set(WB_E_LIMIT, "scope: SQL too long");
    return (int)sc->n;
}

static int whole(const wb_query_scope *sc)
{
    return !sc || sc->kind == WB_SCOPE_ALL;
}

/* 1 if sql ($1 the thing, the scope's names after it) has a row */
static int exists(wb_store *s, const char *sql, const char *what, wb_sql_value *args,
                  int nargs)
{
    int64_t one = 0;
    int rc;
    args[0] = WB_SQL_S(what);
    rc = fleet_int(s, &one, sql, args, (size_t)nargs);
    if (rc == WB_E_NOTFOUND)
        return 0;
    return rc < 0 ? rc : 1;
}

int wb_query_device_in_scope(wb_store *s, const char *device, const wb_query_scope *sc)
{
    char pred[2048], sql[2300];
    wb_sql_value args[WB_SCOPE_NAMES_MAX + 1];
    int n;
    if (whole(sc))
        return 1;
    if ((n = fleet_scope_sql(pred, sizeof(pred), sc, "$1", NULL, 2, args + 1)) < 0)
        return n;
    snprintf(sql, sizeof(sql), "SELECT 1 WHERE %s", pred);
    return exists(s, sql, device, args, n + 1);
}

int wb_query_entry_in_scope(wb_store *s, const char *entry_id, const wb_query_scope *sc)
{
    char pred[2048], sql[4400];
    wb_sql_value args[WB_SCOPE_NAMES_MAX + 1];
    int n;
    if (whole(sc))
        return 1;
    if ((n = fleet_scope_sql(pred, sizeof(pred), sc, "x.device", NULL, 2, args + 1)) < 0)
        return n;
    if (sc->kind == WB_SCOPE_ISSUERS) {
        /* the issuer's own entries too, about devices or not */
        char list[WB_SCOPE_NAMES_MAX * 8];
        int rc = param_list(list, sizeof(list), (size_t)n, 2);
        if (rc)
            return rc;
        snprintf(sql, sizeof(sql), "SELECT 1 FROM fleet_entries e WHERE e.entry_id = $1 AND "
                 "(e.issuer IN (%s) OR EXISTS (SELECT 1 FROM fleet_entry_devices x WHERE "
                 "x.idx = e.idx AND %s))", list, pred);
    } else {
        snprintf(sql, sizeof(sql), "SELECT 1 FROM fleet_entries e WHERE e.entry_id = $1 AND "
                 "EXISTS (SELECT 1 FROM fleet_entry_devices x WHERE x.idx = e.idx AND %s)",
                 pred);
    }
    return exists(s, sql, entry_id, args, n + 1);
}

int wb_query_shipment_in_scope(wb_store *s, const char *shipment, const wb_query_scope *sc)
{
    char pred[2048], sql[2600];
    wb_sql_value args[WB_SCOPE_NAMES_MAX + 1];
    int n;
    if (whole(sc))
        return 1;
    if (sc->kind == WB_SCOPE_SITES) {
        char list[WB_SCOPE_NAMES_MAX * 8];
        int rc;
        if (sc->n == 0 || sc->n > WB_SCOPE_NAMES_MAX)
            return wb_error_set(WB_E_INVALID, "a scope names 1 to %d names",
                                WB_SCOPE_NAMES_MAX);
        if ((rc = param_list(list, sizeof(list), sc->n, 2)) != 0)
            return rc;
        n = (int)sc->n;
        for (int i = 0; i < n; i++)
            args[i + 1] = WB_SQL_S(sc->names[i]);
        snprintf(sql, sizeof(sql), "SELECT 1 FROM fleet_shipments sh WHERE sh.id = $1 AND "
                 "(sh.from_site IN (%s) OR sh.to_site IN (%s))", list, list);
    } else {
        if ((n = fleet_scope_sql(pred, sizeof(pred), sc, "x.device", NULL, 2, args + 1)) < 0)
            return n;
        snprintf(sql, sizeof(sql), "SELECT 1 FROM fleet_shipments sh WHERE sh.id = $1 AND "
                 "EXISTS (SELECT 1 FROM fleet_entry_devices x WHERE (x.idx = sh.ship_idx OR "
                 "x.idx = sh.receive_idx) AND %s)", pred);
    }
    return exists(s, sql, shipment, args, n + 1);
}
