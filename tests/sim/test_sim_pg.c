/*
 * test_sim_pg.c: `waybill serve` with its store in PostgreSQL, end to end.
 * A development-mode server (in process, wb_server_start) on a PostgreSQL 15
 * cluster started for the test ([service] database):
 *   - statements register with 201 and receipts that verify; a restarted
 *     server on the same database continues the same log;
 *   - a small fleet simulation with every anomaly injected (2 racks of 6
 *     blades of 3 parts) raises exactly the findings it must, in the fleet
 *     tables in the same database;
 *   - those tables equal, byte for byte (wb_fleet_dump), both a rebuild from
 *     the log in PostgreSQL (`waybill reindex`) and a rebuild of the same
 *     log's entries into SQLite; the queries behind the HTTP API answer the
 *     same on both.
 */
#include "sim_test_util.h"
#include "wbtest_pg.h"

#include <jansson.h>

#include "waybill/fleet.h"
#include "waybill/log.h"
#include "waybill/query.h"

static wbt_pg PG;

/* a development-mode server on data (made here if missing) over PG */
static wb_server *pg_server(const char *data, char *url, size_t cap)
{
    wb_server_config cfg;
    wb_server *srv = NULL;
    struct stat sb;
    if (stat(data, &sb) != 0)
        assert_int_equal(mkdir(data, 0700), 0);
    wb_server_config_init(&cfg);
    assert_int_equal(wb_server_config_dev(&cfg, data), 0);
    cfg.service.sync_normal = 1;
    cfg.service.database = strdup(PG.conninfo);
    cfg.fleet.overdue_scan_s = 1;
    free(cfg.listen);
    cfg.listen = strdup("127.0.0.1:0");
    if (wb_server_start(&srv, &cfg) != 0)
        fail_msg("server start: %s", wb_error_message());
    wb_server_config_cleanup(&cfg);
    wbt_server_url(url, cap, srv);
    return srv;
}

static void register_ok(const char *url, const wb_key *key, int i)
{
    wb_http_response r;
    wb_receipt_info info;
    char payload[64];
    uint8_t *st;
    size_t len;
    snprintf(payload, sizeof(payload), "{\"n\": %d}", i);
    st = wbt_statement(&len, key, "acme", "device-7f3a", "application/json", payload, NULL,
                       0);
    wbt_post(&r, url, st, len, "application/cose");
    if (r.status != 201)
        fail_msg("POST /entries: HTTP %ld: %.*s", r.status, (int)r.len, r.body);
    if (wbt_verify_receipt(url, r.body, r.len, st, len, &info) != 0)
        fail_msg("receipt: %s", wb_error_message());
    assert_true(info.leaf_index < info.tree_size);
    wb_http_response_cleanup(&r);
    free(st);
}

static int read_entry(void *ctx, uint64_t index, uint8_t **data, size_t *len)
{
    return wb_log_entry(ctx, index, data, len);
}

static int finding_match(void *ctx, const wb_sql_value *cols, size_t n)
{
    (void)cols;
    (void)n;
    (*(int *)ctx)++;
    return 0;
}

/* the JSON of a query on both stores is the same */
static void same_json(json_t *a, json_t *b, const char *what)
{
    char *sa = json_dumps(a, JSON_SORT_KEYS), *sb = json_dumps(b, JSON_SORT_KEYS);
    assert_non_null(sa);
    assert_non_null(sb);
    if (strcmp(sa, sb) != 0)
        fail_msg("%s differs:\n  postgres %.400s\n  sqlite   %.400s", what, sa, sb);
    free(sa);
    free(sb);
    json_decref(a);
    json_decref(b);
}

static void progress_quiet(void *ctx, const char *phase, size_t done, size_t total)
{
    (void)ctx;
    (void)phase;
    (void)done;
    (void)total;
}

static void test_serve_on_postgres(void **state)
{
    simfix f;
    wb_key *acme;
    char path[4400];
    wb_sim_options o;
    wb_sim_report r;
    size_t want = 0;
    uint64_t size, size_before;
    wb_log *log;
    wb_store *sq;
    wb_store_options so = {.create = 1, .sync_normal = 1};
    char *pg_dump, *pg_again, *sq_dump;
    size_t lp, la, ls;
    (void)state;

    memset(&f, 0, sizeof(f));
    f.dir = wbt_tmpdir("sim-pg");
    snprintf(f.data, sizeof(f.data), "%s/data", f.dir);
    snprintf(f.admin, sizeof(f.admin), "%s/admin.key", f.data);
    f.srv = pg_server(f.data, f.url, sizeof(f.url));
    /* the log lives in PostgreSQL: no SQLite file in the data directory */
    snprintf(path, sizeof(path), "%s/waybill.db", f.data);
    {
        struct stat sb;
        assert_int_not_equal(stat(path, &sb), 0);
    }
    if (wb_store_open_postgres(&f.db, PG.conninfo, NULL) != 0)
        fail_msg("open: %s", wb_error_message());

    /* registrations and receipts; the same log after a restart */
    assert_int_equal(wb_key_generate(&acme, WB_ALG_ES256), 0);
    snprintf(path, sizeof(path), "%s/issuers", f.data);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/issuers/acme.pem", f.data);
    assert_int_equal(wb_key_write_file(acme, path, 0), 0);
    for (int i = 0; i < 5; i++)
        register_ok(f.url, acme, i);
    size_before = wbt_tree_size(f.url);
    assert_true(size_before >= 5);
    wb_server_stop(f.srv);
    f.srv = pg_server(f.data, f.url, sizeof(f.url));
    assert_true(wbt_tree_size(f.url) == size_before);
    register_ok(f.url, acme, 5);
    assert_true(wbt_tree_size(f.url) == size_before + 1);

    /* a small fleet, every anomaly (one blade each, two for clone) */
    simfix_options(&f, &o, "fleet");
    o.racks = 2;
    o.blades = 6;
    o.parts = 3;
    o.seed = 7;
    assert_int_equal(wb_sim_inject_parse(&o.inject, "all"), 0);
    o.progress = progress_quiet;
    if (wb_sim_run(&r, &o) != 0)
        fail_msg("sim: %s", wb_error_message());
    assert_int_equal(r.ninjections, WB_SIM_INJECT_COUNT);
    for (size_t i = 0; i < r.ninjections; i++)
        want += r.injections[i].nexpect;
    assert_true(want >= 1);
    assert_int_equal(settle(&f, 0, (int64_t)want, 1.5, 20.0), (int64_t)want);
    for (size_t i = 0; i < r.ninjections; i++)
    for (size_t k = 0; k < r.injections[i].nexpect; k++) {
        const wb_sim_expect *e = &r.injections[i].expect[k];
        wb_sql_value a[3] = {WB_SQL_S(e->rule), WB_SQL_S(wb_tag_name(e->tag)),
                             WB_SQL_S(e->device)};
        int n = 0;
        assert_true(wb_store_sql(f.db, "SELECT id FROM fleet_findings WHERE rule = $1 AND "
                                       "tag = $2 AND device = $3", a, 3, finding_match,
                                 &n) >= 0);
        if (n < 1)
            fail_msg("%s: no finding %s/%s on '%.12s'", wb_sim_inject_name(r.injections[i].kind),
                     e->rule, wb_tag_name(e->tag), e->device);
    }
    check_states(&f, &r);
    wb_store_close(f.db);
    f.db = NULL;
    wb_server_stop(f.srv);
    f.srv = NULL;

    /* the tables equal a rebuild in PostgreSQL and a rebuild in SQLite */
    {
        wb_store *st;
        assert_int_equal(wb_store_open_postgres(&st, PG.conninfo, NULL), 0);
        assert_int_equal(wb_log_open_store(&log, f.data, st, NULL), 0);
    }
    assert_int_equal(wb_log_head(log, &size, NULL, NULL, NULL), 0);
    assert_int_equal(wb_fleet_dump(wb_log_store(log), &pg_dump, &lp), 0);
    assert_non_null(strstr(pg_dump, "fleet_findings"));
    snprintf(path, sizeof(path), "%s/rebuilt.db", f.dir);
    assert_int_equal(wb_store_open_sqlite(&sq, path, &so), 0);
    assert_int_equal(wb_fleet_reindex(sq, size, read_entry, log, NULL), 0);
    assert_int_equal(wb_fleet_dump(sq, &sq_dump, &ls), 0);
    if (ls != lp || memcmp(sq_dump, pg_dump, lp) != 0) {
        wbt_write_file("/tmp/wb-fleet-pg.txt", pg_dump, lp);
        wbt_write_file("/tmp/wb-fleet-sqlite.txt", sq_dump, ls);
        fail_msg("the PostgreSQL tables differ from the SQLite rebuild (see "
                 "/tmp/wb-fleet-{pg,sqlite}.txt)");
    }
    {
        json_t *a, *b;
        assert_int_equal(wb_query_attest_plan(&a, wb_log_store(log), "in-production"), 0);
        assert_int_equal(wb_query_attest_plan(&b, sq, "in-production"), 0);
        same_json(a, b, "attest plan");
        assert_int_equal(wb_query_fleet(&a, wb_log_store(log), "in-production"), 0);
        assert_int_equal(wb_query_fleet(&b, sq, "in-production"), 0);
        same_json(a, b, "fleet");
        if (wb_query_findings(&a, wb_log_store(log), NULL, NULL, NULL, NULL) != 0)
            fail_msg("findings: %s", wb_error_message());
        assert_int_equal(wb_query_findings(&b, sq, NULL, NULL, NULL, NULL), 0);
        same_json(a, b, "findings");
        /* a device's journey, its tree and a shipment */
        assert_int_equal(wb_query_journey(&a, wb_log_store(log), r.injections[0].device), 0);
        assert_int_equal(wb_query_journey(&b, sq, r.injections[0].device), 0);
        same_json(a, b, "journey");
        assert_int_equal(wb_query_tree(&a, wb_log_store(log), r.injections[0].unit), 0);
        assert_int_equal(wb_query_tree(&b, sq, r.injections[0].unit), 0);
        same_json(a, b, "tree");
        assert_int_equal(wb_query_shipment(&a, wb_log_store(log), r.shipments[0].id), 0);
        assert_int_equal(wb_query_shipment(&b, sq, r.shipments[0].id), 0);
        same_json(a, b, "shipment");
    }
    wb_sim_report_cleanup(&r);
    if (wb_fleet_reindex(wb_log_store(log), size, read_entry, log, NULL) != 0)
        fail_msg("reindex: %s", wb_error_message());
    assert_int_equal(wb_fleet_dump(wb_log_store(log), &pg_again, &la), 0);
    assert_int_equal(la, lp);
    assert_memory_equal(pg_again, pg_dump, lp);
    /* the command an operator runs: the rebuilt tables equal the ones there */
    if (getenv("WB_BIN")) {
        char cmd[6000];
        snprintf(cmd, sizeof(cmd), "'%.500s' reindex '%.4200s' --database '%.600s' --check "
                 ">/dev/null",
                 getenv("WB_BIN"), f.data, PG.conninfo);
        assert_int_equal(system(cmd), 0);
    }
    free(pg_dump);
    free(pg_again);
    free(sq_dump);
    wb_store_close(sq);
    wb_log_close(log);
    wb_key_free(acme);
    wbt_rmtree(f.dir);
    free(f.dir);
}

static int group_setup(void **state)
{
    (void)state;
    wbt_pg_start(&PG, "simpg");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    wbt_pg_stop(&PG);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serve_on_postgres),
    };
    return cmocka_run_group_tests_name("sim/postgres", tests, group_setup, group_teardown);
}
