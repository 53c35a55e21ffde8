/*
 * query_console.c: what the web console (docs/console.md) needs beyond the
 * plain queries, added to their JSON: when each finding was raised and
 * closed (for the chart of findings over time) and the entry that records
 * it, and where a device is placed now (for its place in the rack tree).
 * Read-only, like query.c.
 */
#include "waybill/query.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "waybill/error.h"

static void iso_time(char out[32], int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

typedef struct {
    int found;
    char entry_id[65];
    int64_t iat;
} entry_at;

static int entry_at_row(void *vctx, const wb_sql_value *c, size_t n)
{
    entry_at *x = vctx;
    if (n < 2 || c[0].type != WB_SQL_TEXT || c[1].type != WB_SQL_INT)
        return 1;
    snprintf(x->entry_id, sizeof(x->entry_id), "%s", c[0].s);
    x->iat = c[1].i;
    x->found = 1;
    return 1;
}

static int lookup(wb_store *s, int64_t idx, entry_at *x)
{
    wb_sql_value a[1] = {WB_SQL_I(idx)};
    int rc;
    memset(x, 0, sizeof(*x));
    rc = wb_store_sql(s, "SELECT entry_id, iat FROM fleet_entries WHERE idx = $1", a, 1,
                      entry_at_row, x);
    return rc < 0 ? rc : 0;
}

int wb_query_findings_times(wb_store *s, json_t *findings)
{
    json_t *f;
    size_t i;
    if (!json_is_array(findings))
        return 0;
    json_array_foreach(findings, i, f) {
        json_t *idx = json_object_get(f, "index"), *closed = json_object_get(f, "closed_index");
        entry_at x;
        char t[32];
        int rc;
        if (json_is_integer(idx)) {
            if ((rc = lookup(s, json_integer_value(idx), &x)) != 0)
                return rc;
            if (x.found) {
                iso_time(t, x.iat);
                json_object_set_new(f, "entry_id", json_string(x.entry_id));
                json_object_set_new(f, "time", json_string(t));
            }
        }
        if (json_is_integer(closed)) {
            if ((rc = lookup(s, json_integer_value(closed), &x)) != 0)
                return rc;
            if (x.found) {
                iso_time(t, x.iat);
                json_object_set_new(f, "closed_time", json_string(t));
            }
        }
    }
    return 0;
}

static int placement_row(void *vctx, const wb_sql_value *c, size_t n)
{
    json_t *o = vctx;
    if (n < 3 || c[0].type != WB_SQL_TEXT || c[1].type != WB_SQL_TEXT)
        return 1;
    json_object_set_new(o, "placed_in", json_pack("{s:s, s:s, s:I}", "parent", c[0].s, "slot",
                                                  c[1].s, "index", (json_int_t)c[2].i));
    return 1;
}

int wb_query_journey_placement(wb_store *s, json_t *journey)
{
    const char *device = json_string_value(json_object_get(journey, "device"));
    wb_sql_value a[1] = {WB_SQL_S(device)};
    int rc;
    if (!device)
        return 0;
    rc = wb_store_sql(s, "SELECT parent, slot, from_idx FROM fleet_placements WHERE child = $1 "
                         "AND to_idx IS NULL ORDER BY from_idx DESC", a, 1, placement_row,
                      journey);
    return rc < 0 ? rc : 0;
}
