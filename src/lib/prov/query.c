/*
 * query.c: the fleet queries (waybill/query.h) over the fleet tables, as
 * JSON. Read-only: they run on any thread's own store handle.
 */
#include "fleet_int.h"
#include "waybill/query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "waybill/error.h"
#include "waybill/util.h"

static json_t *jstr_or_null(const wb_sql_value *v)
{
    return v->type == WB_SQL_TEXT ? json_string(v->s) : json_null();
}

static void iso_time(char out[32], int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- journey ---- */

static int device_row(void *vctx, const wb_sql_value *c, size_t n)
{
    json_t *o = vctx;
    if (n < 12)
        return 1;
    json_object_set_new(o, "class", jstr_or_null(&c[0]));
    json_object_set_new(o, "manufacturer", jstr_or_null(&c[1]));
    json_object_set_new(o, "model", jstr_or_null(&c[2]));
    json_object_set_new(o, "serial", jstr_or_null(&c[3]));
    json_object_set_new(o, "supplier", jstr_or_null(&c[4]));
    json_object_set_new(o, "manifest_index", json_integer(c[5].i));
    json_object_set_new(o, "state", jstr_or_null(&c[6]));
    json_object_set_new(o, "site", jstr_or_null(&c[7]));
    json_object_set_new(o, "revoked", json_boolean(c[8].type == WB_SQL_INT));
    json_object_set_new(o, "decommissioned", json_boolean(c[9].type == WB_SQL_INT));
    if (c[10].type == WB_SQL_INT) {
        char t[32];
        iso_time(t, c[11].i);
        json_object_set_new(o, "last_attested_index", json_integer(c[10].i));
        json_object_set_new(o, "last_attested", json_string(t));
    }
    return 1;
}

static int entry_row(void *vctx, const wb_sql_value *c, size_t n)
{
    json_t *arr = vctx, *o = json_object();
    char t[32];
    if (n < 6)
        return 1;
    iso_time(t, c[5].i);
    json_object_set_new(o, "index", json_integer(c[0].i));
    json_object_set_new(o, "entry_id", jstr_or_null(&c[1]));
    json_object_set_new(o, "kind", jstr_or_null(&c[2]));
    json_object_set_new(o, "issuer", jstr_or_null(&c[3]));
    json_object_set_new(o, "subject", jstr_or_null(&c[4]));
    json_object_set_new(o, "iat", json_integer(c[5].i));
    json_object_set_new(o, "time", json_string(t));
    json_array_append_new(arr, o);
    return 0;
}

static int finding_row(void *vctx, const wb_sql_value *c, size_t n)
{
    json_t *arr = vctx, *o = json_object(), *ev = json_array();
    if (n < 11)
        return 1;
    json_object_set_new(o, "id", jstr_or_null(&c[0]));
    json_object_set_new(o, "rule", jstr_or_null(&c[1]));
    json_object_set_new(o, "tag", jstr_or_null(&c[2]));
    json_object_set_new(o, "device", jstr_or_null(&c[3]));
    json_object_set_new(o, "site", jstr_or_null(&c[4]));
    json_object_set_new(o, "reason", jstr_or_null(&c[5]));
    if (c[6].type == WB_SQL_TEXT) {
        const char *p = c[6].s;
        while (*p) {
            const char *end = strchr(p, '\n');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            json_array_append_new(ev, json_stringn(p, len));
            p = end ? end + 1 : p + len;
        }
    }
    json_object_set_new(o, "evidence", ev);
    json_object_set_new(o, "issuer", jstr_or_null(&c[7]));
    json_object_set_new(o, "index", json_integer(c[8].i));
    json_object_set_new(o, "status", jstr_or_null(&c[9]));
    if (c[10].type == WB_SQL_INT)
        json_object_set_new(o, "closed_index", json_integer(c[10].i));
    json_array_append_new(arr, o);
    return 0;
}

#define FINDING_COLS "id, rule, tag, device, site, reason, evidence, issuer, idx, status, closed_idx"

int wb_query_journey(json_t **out, wb_store *s, const char *device)
{
    json_t *o = json_object(), *entries = json_array(), *findings = json_array();
    wb_sql_value a[1] = {WB_SQL_S(device)};
    int rc;
    json_object_set_new(o, "device", json_string(device));
    rc = wb_store_sql(s, "SELECT class, manufacturer, model, serial, issuer, manifest_idx, "
                         "state, site, revoked_idx, decommissioned_idx, attested_idx, "
                         "attested_iat FROM fleet_devices WHERE id = $1", a, 1, device_row, o);
    if (rc >= 0)
        rc = wb_store_sql(s, "SELECT e.idx, e.entry_id, e.kind, e.issuer, e.subject, e.iat "
                             "FROM fleet_entry_devices d JOIN fleet_entries e ON e.idx = d.idx "
                             "WHERE d.device = $1 ORDER BY e.idx", a, 1, entry_row, entries);
    if (rc >= 0)
        rc = wb_store_sql(s, "SELECT " FINDING_COLS " FROM fleet_findings WHERE device = $1 "
                             "ORDER BY idx", a, 1, finding_row, findings);
    if (rc < 0 || (json_array_size(entries) == 0 && !json_object_get(o, "class"))) {
        json_decref(o);
        json_decref(entries);
        json_decref(findings);
        return rc < 0 ? rc
                      : wb_error_set(WB_E_NOTFOUND, "the ledger has no entry about device %s",
                                     device);
    }
    json_object_set_new(o, "entries", entries);
    json_object_set_new(o, "findings", findings);
    *out = o;
    return 0;
}

/* ---- tree ---- */

typedef struct {
    json_t *slots;
} slots_ctx;

static int slot_row(void *vctx, const wb_sql_value *c, size_t n)
{
    slots_ctx *x = vctx;
    json_t *o = json_object();
    if (n < 2)
        return 1;
    json_object_set_new(o, "slot", jstr_or_null(&c[0]));
    json_object_set_new(o, "expected", jstr_or_null(&c[1]));
    json_array_append_new(x->slots, o);
    return 0;
}

static int build_tree(json_t **out, wb_store *s, const char *device, int depth)
{
    json_t *o = json_object(), *slots = json_array();
    slots_ctx x = {slots};
    wb_sql_value a[1] = {WB_SQL_S(device)};
    char cls[32] = "", seen[WB_DEVICE_ID_HEX + 1];
    int64_t att_idx = -1;
    size_t i;
    json_t *slot;
    int rc;

    json_object_set_new(o, "id", json_string(device));
    if (fleet_text(s, cls, sizeof(cls), "SELECT class FROM fleet_devices WHERE id = $1", a,
                   1) == 0)
        json_object_set_new(o, "class", json_string(cls));
    rc = wb_store_sql(s, "SELECT slot, child FROM fleet_placements WHERE parent = $1 AND "
                         "to_idx IS NULL ORDER BY slot", a, 1, slot_row, &x);
    if (rc < 0) {
        json_decref(o);
        json_decref(slots);
        return rc;
    }
    /* the latest attestation of this device, and what it saw */
    if (fleet_int(s, &att_idx, "SELECT idx FROM fleet_attestations WHERE device = $1 ORDER "
                               "BY idx DESC", a, 1) == 0)
        json_object_set_new(o, "last_attestation_index", json_integer(att_idx));
    json_array_foreach(slots, i, slot) {
        const char *name = json_string_value(json_object_get(slot, "slot"));
        const char *expected = json_string_value(json_object_get(slot, "expected"));
        if (att_idx >= 0) {
            wb_sql_value b[2] = {WB_SQL_I(att_idx), WB_SQL_S(name)};
            if (fleet_text(s, seen, sizeof(seen), "SELECT device FROM fleet_attestation_slots "
                                                  "WHERE idx = $1 AND slot = $2", b, 2) == 0) {
                json_object_set_new(slot, "last_attested", json_string(seen));
                json_object_set_new(slot, "match",
                                    json_boolean(expected && strcmp(seen, expected) == 0));
            } else {
                json_object_set_new(slot, "last_attested", json_null());
                json_object_set_new(slot, "match", json_false());
            }
        }
        if (expected && depth < 8) {
            json_t *sub = NULL;
            wb_sql_value c[1] = {WB_SQL_S(expected)};
            int64_t kids;
            if (fleet_int(s, &kids, "SELECT COUNT(*) FROM fleet_placements WHERE parent = $1 "
                                    "AND to_idx IS NULL", c, 1) == 0 && kids > 0 &&
                build_tree(&sub, s, expected, depth + 1) == 0)
                json_object_set_new(slot, "tree", sub);
        }
    }
    json_object_set_new(o, "slots", slots);
    *out = o;
    return 0;
}

int wb_query_tree(json_t **out, wb_store *s, const char *device)
{
    int64_t known;
    wb_sql_value a[1] = {WB_SQL_S(device)};
    if (fleet_int(s, &known, "SELECT 1 FROM fleet_devices WHERE id = $1", a, 1) != 0)
        return wb_error_set(WB_E_NOTFOUND, "device %s is not in the ledger", device);
    return build_tree(out, s, device, 0);
}

/* ---- fleet compliance ---- */

static int count_row(void *vctx, const wb_sql_value *c, size_t n)
{
    json_t *o = vctx;
    if (n < 2)
        return 1;
    json_object_set_new(o, c[0].type == WB_SQL_TEXT && c[0].s[0] ? c[0].s : "(none)",
                        json_integer(c[1].i));
    return 0;
}

static int id_row(void *vctx, const wb_sql_value *c, size_t n)
{
    if (n >= 1)
        json_array_append_new(vctx, jstr_or_null(&c[0]));
    return 0;
}

int wb_query_fleet(json_t **out, wb_store *s, const char *state)
{
    return wb_query_fleet_scoped(out, s, state, NULL);
}

int wb_query_findings(json_t **out, wb_store *s, const char *status, const char *tag,
                      const char *device, const char *rule)
{
    return wb_query_findings_scoped(out, s, status, tag, device, rule, NULL);
}

/* sql with %s replaced by the predicate (one or two of it) */
#define SCOPED(buf, fmt, ...) snprintf(buf, sizeof(buf), fmt, __VA_ARGS__)

int wb_query_fleet_scoped(json_t **out, wb_store *s, const char *state,
                          const wb_query_scope *scope)
{
    json_t *o, *by_state, *by_site, *by_tag, *by_rule;
    int64_t total = 0, open = 0, tagged = 0;
    /* dev: the devices in scope; fnd: the findings in scope; names are $1.. */
    char dev[2100], fnd[2100], sql[2600];
    wb_sql_value a[WB_SCOPE_NAMES_MAX + 1];
    size_t n;
    int rc = fleet_scope_sql(dev, sizeof(dev), scope, "id", NULL, 1, a);
    if (rc >= 0)
        rc = fleet_scope_sql(fnd, sizeof(fnd), scope, "device", "site", 1, a);
    if (rc < 0)
        return rc;
    n = (size_t)rc;
    o = json_object();
    by_state = json_object();
    by_site = json_object();
    by_tag = json_object();
    by_rule = json_object();
    SCOPED(sql, "SELECT state, COUNT(*) FROM fleet_devices WHERE %s GROUP BY state ORDER BY "
           "state", dev);
    rc = wb_store_sql(s, sql, a, n, count_row, by_state);
    if (rc >= 0) {
        SCOPED(sql, "SELECT site, COUNT(*) FROM fleet_devices WHERE %s GROUP BY site ORDER BY "
               "site", dev);
        rc = wb_store_sql(s, sql, a, n, count_row, by_site);
    }
    if (rc >= 0) {
        SCOPED(sql, "SELECT tag, COUNT(*) FROM fleet_findings WHERE status = 'open' AND %s "
               "GROUP BY tag ORDER BY tag", fnd);
        rc = wb_store_sql(s, sql, a, n, count_row, by_tag);
    }
    if (rc >= 0) {
        SCOPED(sql, "SELECT rule, COUNT(*) FROM fleet_findings WHERE status = 'open' AND %s "
               "GROUP BY rule ORDER BY rule", fnd);
        rc = wb_store_sql(s, sql, a, n, count_row, by_rule);
    }
    if (rc >= 0) {
        SCOPED(sql, "SELECT COUNT(*) FROM fleet_devices WHERE %s", dev);
        rc = fleet_int(s, &total, sql, a, n);
    }
    if (rc >= 0) {
        SCOPED(sql, "SELECT COUNT(*) FROM fleet_findings WHERE status = 'open' AND %s", fnd);
        rc = fleet_int(s, &open, sql, a, n);
    }
    if (rc >= 0) {
        SCOPED(sql, "SELECT COUNT(DISTINCT device) FROM fleet_findings WHERE status = 'open' "
               "AND device <> '' AND %s", fnd);
        rc = fleet_int(s, &tagged, sql, a, n);
    }
    json_object_set_new(o, "devices", json_integer(total));
    json_object_set_new(o, "by_state", by_state);
    json_object_set_new(o, "by_site", by_site);
    json_object_set_new(o, "tagged_devices", json_integer(tagged));
    json_object_set_new(o, "open_findings", json_integer(open));
    json_object_set_new(o, "open_findings_by_tag", by_tag);
    json_object_set_new(o, "open_findings_by_rule", by_rule);
    if (rc >= 0 && state) {
        json_t *ids = json_array();
        a[n] = WB_SQL_S(state);
        if (strcmp(state, "tagged") == 0) {
            /* devices with an open finding in scope, and themselves in scope */
            SCOPED(sql, "SELECT DISTINCT device FROM fleet_findings WHERE status = 'open' AND "
                   "device <> '' AND %s ORDER BY device", fnd);
            rc = wb_store_sql(s, sql, a, n, id_row, ids);
        } else {
            /* SQLite numbers "$N" parameters in the order they first appear */
            SCOPED(sql, "SELECT id FROM fleet_devices WHERE %s AND state = $%zu ORDER BY id",
                   dev, n + 1);
            rc = wb_store_sql(s, sql, a, n + 1, id_row, ids);
        }
        json_object_set_new(o, "state", json_string(state));
        json_object_set_new(o, "ids", ids);
    }
    if (rc < 0) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}

int wb_query_findings_scoped(json_t **out, wb_store *s, const char *status, const char *tag,
                             const char *device, const char *rule,
                             const wb_query_scope *scope)
{
    json_t *arr;
    char fnd[2100], sql[2600];
    wb_sql_value a[WB_SCOPE_NAMES_MAX + 4];
    size_t n;
    int rc = fleet_scope_sql(fnd, sizeof(fnd), scope, "device", "site", 5, a + 4);
    if (rc < 0)
        return rc;
    n = (size_t)rc;
    a[0] = WB_SQL_S(status);
    a[1] = WB_SQL_S(tag);
    a[2] = WB_SQL_S(device);
    a[3] = WB_SQL_S(rule);
    /* each column comparison before its "IS NULL": PostgreSQL types a
       parameter from its first use, and NULL alone says nothing */
    SCOPED(sql, "SELECT " FINDING_COLS " FROM fleet_findings WHERE "
           "(status = $1 OR $1 IS NULL) AND (tag = $2 OR $2 IS NULL) AND "
           "(device = $3 OR $3 IS NULL) AND (rule = $4 OR $4 IS NULL) AND %s "
           "ORDER BY idx DESC", fnd);
    arr = json_array();
    rc = wb_store_sql(s, sql, a, 4 + n, finding_row, arr);
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}

/* ---- passport contents ---- */

typedef struct {
    uint64_t *idx;
    size_t n, cap;
} idx_set;

static int add_idx(idx_set *x, int64_t v)
{
    for (size_t i = 0; i < x->n; i++)
        if (x->idx[i] == (uint64_t)v)
            return 0;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 64;
        uint64_t *g = realloc(x->idx, cap * sizeof(*g));
        if (!g)
            return 1;
        x->idx = g;
        x->cap = cap;
    }
    x->idx[x->n++] = (uint64_t)v;
    return 0;
}

static int idx_row(void *vctx, const wb_sql_value *c, size_t n)
{
    if (n < 1 || c[0].type != WB_SQL_INT)
        return 0;
    return add_idx(vctx, c[0].i);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int wb_query_passport_entries(uint64_t **out, size_t *n, wb_store *s, const char *device)
{
    idx_set x = {0};
    char cur[WB_DEVICE_ID_HEX + 1];
    int rc = 0;
    snprintf(cur, sizeof(cur), "%s", device);
    /* the device and each parent above it, as placed now */
    for (int depth = 0; depth < 16 && rc >= 0; depth++) {
        wb_sql_value a[1] = {WB_SQL_S(cur)};
        char parent[WB_DEVICE_ID_HEX + 1];
        rc = wb_store_sql(s, "SELECT idx FROM fleet_entry_devices WHERE device = $1", a, 1,
                          idx_row, &x);
        if (rc < 0 || fleet_text(s, parent, sizeof(parent),
                                 "SELECT parent FROM fleet_placements WHERE child = $1 AND "
                                 "to_idx IS NULL", a, 1) != 0)
            break;
        snprintf(cur, sizeof(cur), "%s", parent);
    }
    /* the release and the reviews of every firmware that an attestation in
     * the set measured */
    for (size_t i = 0, n0 = x.n; rc >= 0 && i < n0; i++) {
        wb_sql_value a[1] = {WB_SQL_I((int64_t)x.idx[i])};
        rc = wb_store_sql(s, "SELECT f.idx FROM fleet_attestation_measurements m JOIN "
                             "fleet_firmware f ON f.digest = m.digest WHERE m.idx = $1",
                          a, 1, idx_row, &x);
        if (rc >= 0)
            rc = wb_store_sql(s, "SELECT r.idx FROM fleet_attestation_measurements m JOIN "
                                 "fleet_reviews r ON r.firmware_digest = m.digest WHERE "
                                 "m.idx = $1", a, 1, idx_row, &x);
    }
    /* the governance entries of every issuer that signed one of them */
    for (size_t i = 0; rc >= 0 && i < x.n; i++) {
        wb_sql_value a[1] = {WB_SQL_I((int64_t)x.idx[i])};
        char issuer[WB_PROV_NAME_MAX + 1];
        if (fleet_text(s, issuer, sizeof(issuer),
                       "SELECT issuer FROM fleet_entries WHERE idx = $1", a, 1) == 0) {
            wb_sql_value b[1] = {WB_SQL_S(issuer)};
            rc = wb_store_sql(s, "SELECT idx FROM fleet_entries WHERE kind = 'issuer' AND "
                                 "subject = $1", b, 1, idx_row, &x);
        }
    }
    if (rc > 0)
        rc = wb_error_set(WB_E_NOMEM, "out of memory");
    if (rc < 0) {
        free(x.idx);
        return rc;
    }
    if (x.n)
        qsort(x.idx, x.n, sizeof(*x.idx), cmp_u64);
    *out = x.idx;
    *n = x.n;
    return 0;
}
