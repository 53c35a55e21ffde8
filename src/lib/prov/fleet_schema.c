/*
 * fleet_schema.c: the fleet-state tables (docs/anomalies.md "State"), the
 * decoding of a log entry for the rules, the rebuild from the log
 * (`waybill reindex`) and a canonical dump used to prove the rebuilt tables
 * equal the incrementally built ones.
 *
 * Every table is derived from the log alone; each row says which entry made
 * it (idx columns). Numbers are integers only (CVSS scores in tenths), so the
 * same SQL runs on SQLite and PostgreSQL.
 */
#include "fleet_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/error.h"
#include "waybill/util.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS fleet_entries (idx INTEGER PRIMARY KEY, entry_id TEXT NOT NULL,"
    " kind TEXT NOT NULL, issuer TEXT NOT NULL, subject TEXT NOT NULL, iat INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS fleet_entry_devices (device TEXT NOT NULL, idx INTEGER NOT NULL,"
    " PRIMARY KEY (device, idx));"
    "CREATE TABLE IF NOT EXISTS fleet_issuers (name TEXT PRIMARY KEY, role TEXT NOT NULL,"
    " status TEXT NOT NULL, manufacturers TEXT NOT NULL, sites TEXT NOT NULL,"
    " added_idx INTEGER NOT NULL, changed_idx INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS fleet_issuer_keys (kid TEXT PRIMARY KEY, name TEXT NOT NULL,"
    " spki BLOB NOT NULL, idx INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS fleet_issuer_cas (name TEXT NOT NULL, n INTEGER NOT NULL,"
    " der BLOB NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (name, n));"
    "CREATE TABLE IF NOT EXISTS fleet_devices (id TEXT PRIMARY KEY, class TEXT NOT NULL,"
    " manufacturer TEXT NOT NULL, model TEXT NOT NULL, serial TEXT NOT NULL,"
    " issuer TEXT NOT NULL, manifest_idx INTEGER NOT NULL, state TEXT NOT NULL,"
    " site TEXT NOT NULL, revoked_idx INTEGER, decommissioned_idx INTEGER,"
    " attested_idx INTEGER, attested_iat INTEGER);"
    "CREATE TABLE IF NOT EXISTS fleet_placements (parent TEXT NOT NULL, slot TEXT NOT NULL,"
    " child TEXT NOT NULL, from_idx INTEGER NOT NULL, to_idx INTEGER,"
    " PRIMARY KEY (parent, slot, from_idx));"
    "CREATE INDEX IF NOT EXISTS fleet_placements_child ON fleet_placements (child);"
    "CREATE TABLE IF NOT EXISTS fleet_shipments (id TEXT PRIMARY KEY, from_site TEXT NOT NULL,"
    " to_site TEXT NOT NULL, seals TEXT NOT NULL, units TEXT NOT NULL,"
    " ship_idx INTEGER NOT NULL, receive_idx INTEGER, intake_idx INTEGER);"
    "CREATE TABLE IF NOT EXISTS fleet_firmware (digest TEXT PRIMARY KEY, class TEXT NOT NULL,"
    " vendor TEXT NOT NULL, fw_version TEXT NOT NULL, svn INTEGER NOT NULL,"
    " issuer TEXT NOT NULL, idx INTEGER NOT NULL, revoked_idx INTEGER);"
    "CREATE TABLE IF NOT EXISTS fleet_reviews (idx INTEGER PRIMARY KEY,"
    " firmware_digest TEXT NOT NULL, reviewer TEXT NOT NULL, issuer TEXT NOT NULL,"
    " max_cvss_tenths INTEGER NOT NULL, nissues INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS fleet_reviews_fw ON fleet_reviews (firmware_digest);"
    "CREATE TABLE IF NOT EXISTS fleet_revocations (idx INTEGER PRIMARY KEY,"
    " target_kind TEXT NOT NULL, target TEXT NOT NULL, issuer TEXT NOT NULL,"
    " reason TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS fleet_attestations (idx INTEGER PRIMARY KEY,"
    " device TEXT NOT NULL, site TEXT NOT NULL, phase TEXT NOT NULL, verdict TEXT NOT NULL,"
    " iat INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS fleet_attestations_device ON fleet_attestations (device);"
    "CREATE TABLE IF NOT EXISTS fleet_attestation_slots (idx INTEGER NOT NULL,"
    " slot TEXT NOT NULL, device TEXT NOT NULL, PRIMARY KEY (idx, slot));"
    "CREATE TABLE IF NOT EXISTS fleet_attestation_measurements (idx INTEGER NOT NULL,"
    " component TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (idx, component));"
    "CREATE TABLE IF NOT EXISTS fleet_findings (id TEXT PRIMARY KEY, rule TEXT NOT NULL,"
    " tag TEXT NOT NULL, device TEXT NOT NULL, site TEXT NOT NULL, reason TEXT NOT NULL,"
    " evidence TEXT NOT NULL, issuer TEXT NOT NULL, idx INTEGER NOT NULL,"
    " status TEXT NOT NULL, closed_idx INTEGER);"
    "CREATE INDEX IF NOT EXISTS fleet_findings_device ON fleet_findings (device);";

static const char drop[] =
    "DROP TABLE IF EXISTS fleet_entries; DROP TABLE IF EXISTS fleet_entry_devices;"
    "DROP TABLE IF EXISTS fleet_issuers; DROP TABLE IF EXISTS fleet_issuer_keys;"
    "DROP TABLE IF EXISTS fleet_issuer_cas; DROP TABLE IF EXISTS fleet_devices;"
    "DROP TABLE IF EXISTS fleet_placements; DROP TABLE IF EXISTS fleet_shipments;"
    "DROP TABLE IF EXISTS fleet_firmware; DROP TABLE IF EXISTS fleet_reviews;"
    "DROP TABLE IF EXISTS fleet_revocations; DROP TABLE IF EXISTS fleet_attestations;"
    "DROP TABLE IF EXISTS fleet_attestation_slots;"
    "DROP TABLE IF EXISTS fleet_attestation_measurements;"
    "DROP TABLE IF EXISTS fleet_findings;";

int wb_fleet_schema(wb_store *s)
{
    return wb_store_sql_script(s, schema);
}

void wb_fleet_config_init(wb_fleet_config *c)
{
    memset(c, 0, sizeof(*c));
    c->cvss_threshold = 7.0;
    c->attest_period_s = 86400;
}

/* ---- small SQL helpers (fleet_int.h) ---- */

typedef struct {
    int found;
    int64_t i;
    char *buf;
    size_t cap;
} one_ctx;

static int one_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    one_ctx *c = vctx;
    c->found = 1;
    if (n == 0)
        return 1;
    if (c->buf) {
        if (cols[0].type == WB_SQL_TEXT)
            snprintf(c->buf, c->cap, "%s", cols[0].s);
        else if (cols[0].type == WB_SQL_INT)
            snprintf(c->buf, c->cap, "%lld", (long long)cols[0].i);
        else
            c->buf[0] = '\0';
    } else {
        c->i = cols[0].type == WB_SQL_INT ? cols[0].i : 0;
    }
    return 1; /* the first row is enough */
}

int fleet_int(wb_store *s, int64_t *out, const char *sql, const wb_sql_value *args, size_t n)
{
    one_ctx c = {0, 0, NULL, 0};
    int rc = wb_store_sql(s, sql, args, n, one_row, &c);
    if (rc < 0)
        return rc;
    if (!c.found)
        return WB_E_NOTFOUND;
    *out = c.i;
    return 0;
}

int fleet_text(wb_store *s, char *buf, size_t cap, const char *sql,
               const wb_sql_value *args, size_t n)
{
    one_ctx c = {0, 0, buf, cap};
    int rc;
    buf[0] = '\0';
    rc = wb_store_sql(s, sql, args, n, one_row, &c);
    if (rc < 0)
        return rc;
    return c.found ? 0 : WB_E_NOTFOUND;
}

int fleet_exec(wb_store *s, const char *sql, const wb_sql_value *args, size_t n)
{
    int rc = wb_store_sql(s, sql, args, n, NULL, NULL);
    return rc < 0 ? rc : 0;
}

typedef struct {
    char *slot;
    size_t cap;
    char *child;
    int found;
} gate_ctx;

static int gate_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    gate_ctx *g = vctx;
    if (n < 2)
        return 1;
    g->found = 1;
    snprintf(g->slot, g->cap, "%s", cols[0].s ? cols[0].s : "");
    snprintf(g->child, 65, "%s", cols[1].s ? cols[1].s : "");
    return 1;
}

int fleet_unattested_child(wb_store *s, const char *parent, char *slot, size_t slot_cap,
                           char child[65])
{
    gate_ctx g = {slot, slot_cap, child, 0};
    wb_sql_value a[1] = {WB_SQL_S(parent)};
    int rc = wb_store_sql(s, "SELECT p.slot, p.child FROM fleet_placements p JOIN fleet_devices d "
                             "ON d.id = p.child WHERE p.parent = $1 AND p.to_idx IS NULL AND "
                             "d.state <> 'in-production' AND EXISTS (SELECT 1 FROM "
                             "fleet_placements q WHERE q.parent = p.child AND q.to_idx IS "
                             "NULL) ORDER BY p.slot LIMIT 1", a, 1, gate_row, &g);
    if (rc < 0)
        return rc;
    return g.found;
}

int fleet_entry_hex(wb_store *s, int64_t idx, char out[65])
{
    wb_sql_value a[1] = {WB_SQL_I(idx)};
    int rc = fleet_text(s, out, 65, "SELECT entry_id FROM fleet_entries WHERE idx = $1", a, 1);
    return rc == WB_E_NOTFOUND ? 0 : rc;
}

int fleet_touch(wb_store *s, const wb_fleet_entry *e, const char *device)
{
    wb_sql_value a[2] = {WB_SQL_S(device), WB_SQL_I(e->index)};
    if (!device || !device[0])
        return 0;
    return fleet_exec(s, "INSERT INTO fleet_entry_devices (device, idx) VALUES ($1, $2) "
                         "ON CONFLICT DO NOTHING", a, 2);
}

/* ---- newline-separated lists ---- */

int fleet_list_join(char **out, const char *const *items, size_t n)
{
    wb_buf b;
    uint8_t *t;
    size_t len;
    int rc;
    wb_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < n; i++) {
        if (i)
            wb_buf_add_str(&b, "\n");
        wb_buf_add_str(&b, items[i]);
    }
    rc = wb_buf_finish(&b, &t, &len);
    if (rc == 0)
        *out = (char *)t;
    return rc;
}

int fleet_list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    const char *p = list;
    while (p && *p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && memcmp(p, item, n) == 0)
            return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

size_t fleet_list_count(const char *list)
{
    size_t n = 0;
    if (!list || !*list)
        return 0;
    for (const char *p = list; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        n++;
    return n;
}

/* ---- decoding an entry ---- */

int wb_fleet_entry_decode(wb_fleet_entry *e, uint64_t index, const uint8_t *stmt,
                          size_t len)
{
    wb_cose_sign1 *m = calloc(1, sizeof(*m));
    int rc;
    memset(e, 0, sizeof(*e));
    if (!m)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    e->index = index;
    rc = wb_sha256(e->id, stmt, len);
    if (rc == 0)
        rc = wb_cose_sign1_decode(m, stmt, len, WB_COSE_MAX);
    if (rc) {
        free(m);
        return rc;
    }
    e->msg = m;
    e->iss = m->hdr.iss ? m->hdr.iss : "";
    e->iat = m->hdr.iat;
    e->kind = m->hdr.cty ? wb_kind_from_content_type(m->hdr.cty) : WB_KIND_NONE;
    if (e->kind != WB_KIND_NONE) {
        rc = wb_prov_parse(&e->payload, e->kind, m->payload, m->payload_len);
        if (rc) {
            wb_fleet_entry_cleanup(e);
            return rc;
        }
    }
    return 0;
}

void wb_fleet_entry_cleanup(wb_fleet_entry *e)
{
    if (e->msg) {
        wb_cose_sign1_cleanup((wb_cose_sign1 *)e->msg);
        free((void *)e->msg);
    }
    if (e->kind != WB_KIND_NONE)
        wb_prov_payload_cleanup(&e->payload);
    memset(e, 0, sizeof(*e));
}

/* ---- rebuild ---- */

int wb_fleet_reindex(wb_store *s, uint64_t size, wb_fleet_entry_fn fn, void *ctx,
                     void (*progress)(void *ctx, uint64_t done, uint64_t total))
{
    int rc = wb_store_begin(s);
    if (rc)
        return rc;
    rc = wb_store_sql_script(s, drop);
    if (rc == 0)
        rc = wb_fleet_schema(s);
    for (uint64_t i = 0; rc == 0 && i < size; i++) {
        uint8_t *data;
        size_t len;
        wb_fleet_entry e;
        rc = fn(ctx, i, &data, &len);
        if (rc)
            break;
        /* an entry that no longer decodes is applied as a foreign one: the
         * rebuild must not stop where the live service did not */
        if (wb_fleet_entry_decode(&e, i, data, len) == 0) {
            rc = wb_fleet_apply(s, &e);
            wb_fleet_entry_cleanup(&e);
        }
        free(data);
        if (progress && (i + 1) % 10000 == 0)
            progress(ctx, i + 1, size);
    }
    if (rc == 0)
        rc = wb_store_commit(s);
    else
        wb_store_rollback(s);
    if (rc == 0 && progress)
        progress(ctx, size, size);
    return rc;
}

/* ---- canonical dump ---- */

static int dump_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    wb_buf *b = vctx;
    for (size_t i = 0; i < n; i++) {
        if (i)
            wb_buf_add_str(b, "|");
        switch (cols[i].type) {
        case WB_SQL_INT:
            wb_buf_printf(b, "%lld", (long long)cols[i].i);
            break;
        case WB_SQL_TEXT:
            wb_buf_add_str(b, cols[i].s);
            break;
        case WB_SQL_BLOB:
            wb_buf_add_hex(b, cols[i].b, cols[i].len);
            break;
        default:
            wb_buf_add_str(b, "NULL");
        }
    }
    wb_buf_add_str(b, "\n");
    return wb_buf_error(b) ? 1 : 0;
}

int wb_fleet_dump(wb_store *s, char **out, size_t *len)
{
    static const char *queries[] = {
        "SELECT * FROM fleet_entries ORDER BY idx",
        "SELECT * FROM fleet_entry_devices ORDER BY device, idx",
        "SELECT * FROM fleet_issuers ORDER BY name",
        "SELECT * FROM fleet_issuer_keys ORDER BY kid",
        "SELECT * FROM fleet_issuer_cas ORDER BY name, n",
        "SELECT * FROM fleet_devices ORDER BY id",
        "SELECT * FROM fleet_placements ORDER BY parent, slot, from_idx",
        "SELECT * FROM fleet_shipments ORDER BY id",
        "SELECT * FROM fleet_firmware ORDER BY digest",
        "SELECT * FROM fleet_reviews ORDER BY idx",
        "SELECT * FROM fleet_revocations ORDER BY idx",
        "SELECT * FROM fleet_attestations ORDER BY idx",
        "SELECT * FROM fleet_attestation_slots ORDER BY idx, slot",
        "SELECT * FROM fleet_attestation_measurements ORDER BY idx, component",
        "SELECT * FROM fleet_findings ORDER BY id",
    };
    wb_buf b;
    uint8_t *text;
    int rc = 0;
    wb_buf_init(&b, 256u << 20);
    for (size_t i = 0; rc == 0 && i < sizeof(queries) / sizeof(queries[0]); i++) {
        wb_buf_printf(&b, "== %s\n", queries[i]);
        rc = wb_store_sql(s, queries[i], NULL, 0, dump_row, &b);
        if (rc > 0)
            rc = wb_buf_error(&b);
    }
    if (rc) {
        wb_buf_cleanup(&b);
        return rc;
    }
    rc = wb_buf_finish(&b, &text, len);
    if (rc == 0)
        *out = (char *)text;
    return rc;
}
