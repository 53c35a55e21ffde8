/*
 * test_personas.c: who may read what (docs/personas.md), as one table.
 *
 * A server configured from an INI file with one persona of every kind (two
 * suppliers, an integrator, a carrier, two datacenters, an auditor, an
 * admin, a metrics scraper) holds a simulated fleet of two datacenters:
 * one run of the simulator at AMS-1 (with a swapped part) and one at FRA-1
 * (with a failed attestation), sharing the suppliers and the integrator.
 * Every endpoint is then asked by every persona, plus an anonymous reader
 * and an unknown token, and the status must be the table's; for lists
 * (GET /fleet, /findings, /fleet?state=, /attest/plan/in-production) the
 * number of rows must be what the persona's scope holds, counted here
 * straight from the fleet tables. Every mismatch is printed, then the test
 * fails. Then /metrics must count exactly the table's refusals, and
 * `waybill audit` must succeed with the auditor's token and fail without
 * one (exit 4, HTTP 401 named).
 */
#include "wbtest_scitt.h"

#include <curl/curl.h>
#include <jansson.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "waybill/client.h"
#include "waybill/error.h"
#include "waybill/server.h"
#include "waybill/sim.h"
#include "waybill/store.h"
#include "waybill/util.h"

enum { PUB, BAD, SUPC, SUPF, INTEG, LOGI, DCA, DCF, AUD, ADM, MET, NP };

typedef struct {
    const char *name;   /* [persona NAME]; "" for anonymous */
    const char *kind;
    const char *scope;  /* "key = value" line, or NULL */
    const char *dev;    /* devices in scope: SQL with %s for the device column */
    const char *site;   /* datacenters: findings raised at the site are in scope */
    char token[WB_PERSONA_TOKEN_LEN + 1];
} persona;

static persona P[NP] = {
    [PUB] = {"", NULL, NULL, NULL, NULL, ""},
    [BAD] = {"", NULL, NULL, NULL, NULL, "wbp_not-a-token-of-this-service"},
    [SUPC] = {"sup-contoso", "supplier", "manufacturers = Contoso Silicon",
              "%s IN (SELECT id FROM fleet_devices WHERE manufacturer = 'Contoso Silicon')",
              NULL, ""},
    [SUPF] = {"sup-fabrikam", "supplier", "manufacturers = Fabrikam Trust",
              "%s IN (SELECT id FROM fleet_devices WHERE manufacturer = 'Fabrikam Trust')",
              NULL, ""},
    [INTEG] = {"woodgrove", "integrator", "issuers = woodgrove-integration",
               "%s IN (SELECT x.device FROM fleet_entry_devices x JOIN fleet_entries e ON "
               "e.idx = x.idx WHERE e.issuer = 'woodgrove-integration')", NULL, ""},
    [LOGI] = {"northwind", "logistics", "issuers = northwind-freight",
              "%s IN (SELECT x.device FROM fleet_entry_devices x JOIN fleet_entries e ON "
              "e.idx = x.idx WHERE e.issuer = 'northwind-freight')", NULL, ""},
    [DCA] = {"ams-ops", "datacenter", "sites = AMS-1",
             "%s IN (SELECT id FROM fleet_devices WHERE site = 'AMS-1')", "AMS-1", ""},
    [DCF] = {"fra-ops", "datacenter", "sites = FRA-1",
             "%s IN (SELECT id FROM fleet_devices WHERE site = 'FRA-1')", "FRA-1", ""},
    [AUD] = {"auditor", "auditor", NULL, "1 = 1 OR %s = ''", NULL, ""},
    [ADM] = {"admin", "admin", NULL, "1 = 1 OR %s = ''", NULL, ""},
    [MET] = {"prometheus", "metrics", NULL, NULL, NULL, ""},
};

static const char *const who_label[NP] = {"anonymous", "unknown token", "sup-contoso",
                                          "sup-fabrikam", "woodgrove", "northwind", "ams-ops",
                                          "fra-ops", "auditor", "admin", "prometheus"};

/* what a list answer is counted by */
enum { ROWS_NONE, ROWS_FLEET, ROWS_FINDINGS, ROWS_IDS, ROWS_UNITS };

typedef struct {
    const char *method;
    const char *path;     /* {name} placeholders, see fill() */
    const char *body;     /* POST */
    int rows;
    short status[NP];     /* PUB BAD SUPC SUPF INTEG LOGI DCA DCF AUD ADM MET */
} row;

#define ALL(x) {x, 401, x, x, x, x, x, x, x, x, x}
/* public endpoints: anyone, but an unknown token is 401 everywhere */
static const row TABLE[] = {
    {"GET", "/checkpoint", NULL, 0, ALL(200)},
    {"GET", "/tile/0/{tile0}", NULL, 0, ALL(200)},
    {"GET", "/proofs/consistency?old=1", NULL, 0, ALL(200)},
    {"GET", "/.well-known/scitt-keys", NULL, 0, ALL(200)},
    {"GET", "/.well-known/transparency-configuration", NULL, 0, ALL(200)},
    {"GET", "/healthz", NULL, 0, ALL(200)},
    {"GET", "/whoami", NULL, 0, ALL(200)},
    {"GET", "/witnesses", NULL, 0, ALL(404)},
    {"GET", "/audit/keys", NULL, 0, ALL(200)},
    {"GET", "/entries/{entry}", NULL, 0, ALL(200)},
    {"GET", "/nothing-here", NULL, 0, ALL(404)},
    /*                                                PUB  BAD  SUPC SUPF INTG LOGI DCA  DCF  AUD  ADM  MET */
    {"GET", "/tile/entries/{tile0}", NULL, 0,        {401, 401, 403, 403, 403, 403, 403, 403, 200, 200, 403}},
    {"GET", "/audit/fleet", NULL, 0,                 {401, 401, 403, 403, 403, 403, 403, 403, 200, 200, 403}},
    {"GET", "/metrics", NULL, 0,                     {401, 401, 403, 403, 403, 403, 403, 403, 403, 200, 200}},
    {"GET", "/entries/{entry}/statement", NULL, 0,   {401, 401, 200, 403, 200, 403, 200, 403, 200, 200, 403}},
    {"GET", "/entries/{fw_entry}/statement", NULL, 0, {401, 401, 403, 403, 403, 403, 403, 403, 200, 200, 403}},
    {"GET", "/devices/{partA}", NULL, 0,             {401, 401, 200, 403, 200, 403, 200, 403, 200, 200, 403}},
    {"GET", "/devices/{partA}/passport", NULL, 0,    {401, 401, 200, 403, 200, 403, 200, 403, 200, 200, 403}},
    {"GET", "/devices/{partB}", NULL, 0,             {401, 401, 200, 403, 200, 403, 403, 200, 200, 200, 403}},
    {"GET", "/devices/{tpmA}", NULL, 0,              {401, 401, 403, 200, 200, 403, 200, 403, 200, 200, 403}},
    {"GET", "/devices/{bladeA}", NULL, 0,            {401, 401, 403, 403, 200, 200, 200, 403, 200, 200, 403}},
    {"GET", "/devices/{bladeA}/tree", NULL, 0,       {401, 401, 403, 403, 200, 200, 200, 403, 200, 200, 403}},
    {"GET", "/devices/{unknown}", NULL, 0,           {401, 401, 403, 403, 403, 403, 403, 403, 404, 404, 403}},
    {"GET", "/shipments/{shipA}", NULL, 0,           {401, 401, 403, 403, 200, 200, 200, 403, 200, 200, 403}},
    {"GET", "/attest/plan/{bladeA}", NULL, 0,        {401, 401, 403, 403, 403, 403, 200, 403, 200, 200, 403}},
    {"GET", "/attest/plan/in-production", NULL, ROWS_UNITS,
                                                     {401, 401, 403, 403, 403, 403, 200, 200, 200, 200, 403}},
    {"POST", "/attest/check", "[{\"kind\": \"attestation\", \"site\": \"AMS-1\", \"target\": \"{bladeA}\"}]", 0,
                                                     {401, 401, 403, 403, 403, 403, 200, 403, 200, 200, 403}},
    {"GET", "/fleet", NULL, ROWS_FLEET,              {401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 403}},
    {"GET", "/fleet?state=in-production", NULL, ROWS_IDS,
                                                     {401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 403}},
    {"GET", "/findings", NULL, ROWS_FINDINGS,        {401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 403}},
    /* registration stays open: the statement's signature authenticates it */
    {"POST", "/entries", "not cose", 0,              {415, 415, 415, 415, 415, 415, 415, 415, 415, 415, 415}},
};

typedef struct {
    char *dir;
    char url[64];
    wb_server *srv;
    wb_store *db;
    /* the placeholders */
    char tile0[32], entry[65], fw_entry[65], partA[65], partB[65], tpmA[65], bladeA[65],
        unknown[65], shipA[128];
} fixture;

static fixture F;

/* ---- the fleet tables, read directly ---- */

static int int_row(void *ctx, const wb_sql_value *c, size_t n)
{
    *(int64_t *)ctx = n && c[0].type == WB_SQL_INT ? c[0].i : -1;
    return 1;
}

static int text_row(void *ctx, const wb_sql_value *c, size_t n)
{
    char *out = ctx;
    if (n && c[0].type == WB_SQL_TEXT)
        snprintf(out, 128, "%s", c[0].s);
    return 1;
}

static int64_t sql_int(const char *sql)
{
    int64_t v = -1;
    if (wb_store_sql(F.db, sql, NULL, 0, int_row, &v) < 0)
        fail_msg("%s: %s", sql, wb_error_message());
    return v;
}

static void sql_text(char *out, const char *sql)
{
    out[0] = '\0';
    if (wb_store_sql(F.db, sql, NULL, 0, text_row, out) < 0)
        fail_msg("%s: %s", sql, wb_error_message());
    if (!out[0])
        fail_msg("no row: %s", sql);
}

/* the rows a persona's scope holds, counted from the tables */
static int64_t expected_rows(int p, int rows, const json_t *admin_units)
{
    char pred[1024], sql[2048];
    if (rows == ROWS_UNITS) {
        /* a datacenter's plan: the admin's units at its site */
        size_t i;
        json_t *u;
        int64_t n = 0;
        json_array_foreach(admin_units, i, u) {
            const char *site = json_string_value(json_object_get(u, "site"));
            n += !P[p].site || (site && strcmp(site, P[p].site) == 0);
        }
        return n;
    }
    if (rows == ROWS_FINDINGS) {
        snprintf(pred, sizeof(pred), P[p].dev, "device");
        snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM fleet_findings WHERE %s%s%s%s", pred,
                 P[p].site ? " OR site = '" : "", P[p].site ? P[p].site : "",
                 P[p].site ? "'" : "");
        return sql_int(sql);
    }
    snprintf(pred, sizeof(pred), P[p].dev, "id");
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM fleet_devices WHERE (%s)%s", pred,
             rows == ROWS_IDS ? " AND state = 'in-production'" : "");
    return sql_int(sql);
}

static int64_t rows_of(const uint8_t *body, size_t len, int rows)
{
    json_error_t err;
    json_t *o = json_loadb((const char *)body, len, 0, &err), *v = NULL;
    int64_t n = -1;
    if (!o)
        return -1;
    if (rows == ROWS_FLEET)
        n = json_integer_value(json_object_get(o, "devices"));
    else if (rows == ROWS_FINDINGS)
        v = o;
    else if (rows == ROWS_IDS)
        v = json_object_get(o, "ids");
    else if (rows == ROWS_UNITS)
        v = json_object_get(o, "units");
    if (v)
        n = json_is_array(v) ? (int64_t)json_array_size(v) : -1;
    json_decref(o);
    return n;
}

/* ---- requests ---- */

/* path with its {placeholders} filled in */
static void fill(char *out, size_t cap, const char *tmpl)
{
    const struct {
        const char *name;
        const char *value;
    } vars[] = {{"{tile0}", F.tile0}, {"{entry}", F.entry}, {"{fw_entry}", F.fw_entry},
                {"{partA}", F.partA}, {"{partB}", F.partB}, {"{tpmA}", F.tpmA},
                {"{bladeA}", F.bladeA}, {"{unknown}", F.unknown}, {"{shipA}", F.shipA}};
    size_t used = 0;
    while (*tmpl && used + 1 < cap) {
        size_t k, n = 0;
        for (k = 0; k < sizeof(vars) / sizeof(vars[0]); k++)
            if (strncmp(tmpl, vars[k].name, (n = strlen(vars[k].name))) == 0)
                break;
        if (k < sizeof(vars) / sizeof(vars[0])) {
            used += (size_t)snprintf(out + used, cap - used, "%s", vars[k].value);
            tmpl += n;
        } else {
            out[used++] = *tmpl++;
        }
    }
    out[used < cap ? used : cap - 1] = '\0';
}

static long request(int p, const char *method, const char *path, const char *body,
                    wb_http_response *r)
{
    char url[1024];
    wb_http_join(url, sizeof(url), F.url, path);
    assert_int_equal(wb_http_set_token(P[p].token[0] ? P[p].token : NULL), 0);
    if (wb_http_request(r, method, url, (const uint8_t *)body, body ? strlen(body) : 0,
                        strcmp(path, "/entries") == 0 ? "text/plain" : "application/json",
                        NULL, 60) != 0)
        fail_msg("%s %s: %s", method, url, wb_error_message());
    wb_http_set_token(NULL);
    return r->status;
}

/* the WWW-Authenticate header of an anonymous GET (libcurl directly) */
static size_t on_hdr(char *p, size_t size, size_t n, void *ctx)
{
    char *out = ctx;
    if (size * n > 17 && strncasecmp(p, "WWW-Authenticate:", 17) == 0)
        snprintf(out, 256, "%.*s", (int)(size * n - 2), p);
    return size * n;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

static void www_authenticate(char out[256], const char *path)
{
    char url[1024];
    CURL *c = curl_easy_init();
    out[0] = '\0';
    snprintf(url, sizeof(url), "%s%s", F.url, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_hdr);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_perform(c);
    curl_easy_cleanup(c);
}

/* ---- setup: the configuration, the server, two sites' fleets ---- */

static void write_config(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "[service]\nname = localhost/waybill-dev\ndata_dir = data\ndev = true\n"
               "listen = 127.0.0.1:0\n[batch]\ndurability = normal\n");
    for (int p = SUPC; p < NP; p++) {
        uint8_t d[32];
        char hex[65];
        assert_int_equal(wb_persona_token_new(P[p].token, d), 0);
        wb_hex_encode(hex, d, 32);
        fprintf(f, "[persona %s]\nkind = %s\n", P[p].name, P[p].kind);
        if (P[p].scope)
            fprintf(f, "%s\n", P[p].scope);
        if (p == AUD) {
            /* the auditor's token from a file, the others' digests inline */
            char tf[4400];
            snprintf(tf, sizeof(tf), "%s/auditor.token", F.dir);
            wbt_write_file(tf, P[p].token, strlen(P[p].token));
            fprintf(f, "token_file = auditor.token\n");
        } else {
            fprintf(f, "token_sha256 = %s\n", hex);
        }
    }
    fclose(f);
}

static void run_sim(const char *sub, const char *site, const char *dc, const char *inject,
                    uint64_t seed)
{
    wb_sim_options o;
    wb_sim_report r;
    char dir[4400], admin[4400];
    unsigned mask = 0;
    snprintf(dir, sizeof(dir), "%s/%s", F.dir, sub);
    snprintf(admin, sizeof(admin), "%s/data/admin.key", F.dir);
    wb_sim_options_init(&o);
    o.url = F.url;
    o.admin_key_file = admin;
    o.dir = dir;
    o.racks = 1;
    o.blades = 2;
    o.parts = 6;
    o.seed = seed;
    o.site = site;
    o.datacenter = dc;
    assert_int_equal(wb_sim_inject_parse(&mask, inject), 0);
    o.inject = mask;
    if (wb_sim_run(&r, &o) != 0)
        fail_msg("sim at %s: %s", site, wb_error_message());
    wb_sim_report_cleanup(&r);
}

/* the service registers findings in the batch after their trigger */
static void settle(int64_t want)
{
    int64_t last = -1;
    int stable = 0;
    for (int i = 0; i < 300 && stable < 10; i++) {
        int64_t n = sql_int("SELECT COUNT(*) FROM fleet_entries");
        int64_t f = sql_int("SELECT COUNT(*) FROM fleet_findings");
        stable = n == last && f >= want ? stable + 1 : 0;
        last = n;
        usleep(100000);
    }
}

static int setup(void **state)
{
    wb_server_config cfg;
    wb_store_options so;
    char ini[4400], data[4400], path[4600];
    uint64_t size;
    (void)state;
    memset(&F, 0, sizeof(F));
    F.dir = wbt_tmpdir("personas");
    snprintf(ini, sizeof(ini), "%s/service.ini", F.dir);
    snprintf(data, sizeof(data), "%s/data", F.dir);
    write_config(ini);
    wb_server_config_init(&cfg);
    if (wb_server_config_load(&cfg, ini) != 0)
        fail_msg("%s", wb_error_message());
    assert_int_equal(cfg.npersonas, NP - SUPC);
    assert_int_equal(wb_server_config_dev(&cfg, data), 0);
    if (wb_server_start(&F.srv, &cfg) != 0)
        fail_msg("start: %s", wb_error_message());
    wb_server_config_cleanup(&cfg);
    wbt_server_url(F.url, sizeof(F.url), F.srv);

    run_sim("ams", "AMS-1", "ams1-operations", "swap", 7);
    run_sim("fra", "FRA-1", "fra1-operations", "attest-fail", 8);

    memset(&so, 0, sizeof(so));
    so.busy_timeout_ms = 10000;
    snprintf(path, sizeof(path), "%s/waybill.db", data);
    if (wb_store_open_sqlite(&F.db, path, &so) != 0)
        fail_msg("open %s: %s", path, wb_error_message());
    settle(2);

    size = wbt_tree_size(F.url);
    if (size >= 256)
        snprintf(F.tile0, sizeof(F.tile0), "000");
    else
        snprintf(F.tile0, sizeof(F.tile0), "000.p/%llu", (unsigned long long)size);
    sql_text(F.partA, "SELECT id FROM fleet_devices WHERE site = 'AMS-1' AND manufacturer = "
                      "'Contoso Silicon' ORDER BY id");
    sql_text(F.partB, "SELECT id FROM fleet_devices WHERE site = 'FRA-1' AND manufacturer = "
                      "'Contoso Silicon' ORDER BY id");
    sql_text(F.tpmA, "SELECT id FROM fleet_devices WHERE site = 'AMS-1' AND manufacturer = "
                     "'Fabrikam Trust' ORDER BY id");
    sql_text(F.bladeA, "SELECT id FROM fleet_devices WHERE site = 'AMS-1' AND class = 'blade' "
                       "ORDER BY id");
    {
        char sql[512];
        snprintf(sql, sizeof(sql), "SELECT e.entry_id FROM fleet_entries e JOIN "
                 "fleet_entry_devices x ON x.idx = e.idx WHERE x.device = '%s' AND e.kind = "
                 "'manifest'", F.partA);
        sql_text(F.entry, sql);
    }
    sql_text(F.fw_entry, "SELECT entry_id FROM fleet_entries WHERE kind = 'firmware' ORDER BY "
                         "idx");
    sql_text(F.shipA, "SELECT id FROM fleet_shipments WHERE to_site = 'AMS-1' ORDER BY id");
    memset(F.unknown, 'a', 64);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    wb_store_close(F.db);
    wb_server_stop(F.srv);
    if (!getenv("WB_KEEP"))
        wbt_rmtree(F.dir);
    free(F.dir);
    return 0;
}

/* ---- the table ---- */

static void test_every_persona_every_endpoint(void **state)
{
    size_t nrows = sizeof(TABLE) / sizeof(TABLE[0]);
    int refused401[NP] = {0}, refused403[NP] = {0};
    int failures = 0, checked = 0;
    json_t *admin_units = NULL;
    char path[1024], body[1024];
    wb_http_response r;
    (void)state;

    /* the scopes are not empty, and they differ: the counts mean something */
    assert_true(expected_rows(SUPC, ROWS_FLEET, NULL) > 0);
    assert_true(expected_rows(DCA, ROWS_FLEET, NULL) > 0);
    assert_true(expected_rows(DCA, ROWS_FLEET, NULL) < expected_rows(ADM, ROWS_FLEET, NULL));
    assert_true(expected_rows(DCA, ROWS_FINDINGS, NULL) > 0);
    assert_true(expected_rows(DCF, ROWS_FINDINGS, NULL) > 0);
    assert_true(expected_rows(SUPF, ROWS_FINDINGS, NULL) <
                expected_rows(ADM, ROWS_FINDINGS, NULL));

    /* the admin's plan, which the datacenters' must be the site's part of */
    assert_int_equal(request(ADM, "GET", "/attest/plan/in-production", NULL, &r), 200);
    {
        json_error_t err;
        json_t *o = json_loadb((const char *)r.body, r.len, 0, &err);
        assert_non_null(o);
        admin_units = json_incref(json_object_get(o, "units"));
        json_decref(o);
    }
    wb_http_response_cleanup(&r);

    print_message("%-44s", "");
    for (int p = 0; p < NP; p++)
        print_message(" %.5s", who_label[p]);
    print_message("\n");
    for (size_t i = 0; i < nrows; i++) {
        const row *t = &TABLE[i];
        char line[512];
        size_t used = 0;
        fill(path, sizeof(path), t->path);
        if (t->body)
            fill(body, sizeof(body), t->body);
        used += (size_t)snprintf(line, sizeof(line), "%-4s %-39.39s", t->method, t->path);
        for (int p = 0; p < NP; p++) {
            long got = request(p, t->method, path, t->body ? body : NULL, &r);
            int ok = got == t->status[p];
            checked++;
            if (ok && (got == 401 || got == 403) &&
                strcmp(r.content_type, "application/concise-problem-details+cbor") != 0) {
                print_message("  %s %s as %s: %ld with Content-Type '%s'\n", t->method, path,
                              who_label[p], got, r.content_type);
                ok = 0;
            }
            if (!ok)
                print_message("  %s %s as %s: HTTP %ld, the table says %d (%.200s)\n",
                              t->method, path, who_label[p], got, t->status[p],
                              r.content_type[0] == 'a' && strstr(r.content_type, "json")
                                  ? (const char *)r.body
                                  : "");
            if (ok && got == 200 && t->rows) {
                int64_t want = expected_rows(p, t->rows, admin_units);
                int64_t have = rows_of(r.body, r.len, t->rows);
                if (have != want) {
                    print_message("  %s %s as %s: %lld rows, the scope holds %lld\n",
                                  t->method, path, who_label[p], (long long)have,
                                  (long long)want);
                    ok = 0;
                }
                used += (size_t)snprintf(line + used, sizeof(line) - used, " %3ld/%-2lld", got,
                                         (long long)have);
            } else {
                used += (size_t)snprintf(line + used, sizeof(line) - used, " %3ld%s  ", got,
                                         ok ? " " : "!");
            }
            failures += !ok;
            refused401[p] += got == 401;
            refused403[p] += got == 403;
            wb_http_response_cleanup(&r);
        }
        print_message("%s\n", line);
    }
    json_decref(admin_units);
    if (failures)
        fail_msg("%d of %d requests did not answer as the table says", failures, checked);

    /* an anonymous refusal says how to authenticate */
    {
        char h[256];
        www_authenticate(h, "/fleet");
        if (!strstr(h, "Bearer"))
            fail_msg("401 without WWW-Authenticate: Bearer ('%s')", h);
    }

    /* /metrics counted exactly the table's refusals (and the one above) */
    assert_int_equal(request(ADM, "GET", "/metrics", NULL, &r), 200);
    {
        char want[256];
        snprintf(want, sizeof(want),
                 "waybill_reads_refused_total{status=\"401\",persona=\"public\"} %d\n",
                 refused401[PUB] + 1);
        if (!strstr((const char *)r.body, want))
            fail_msg("/metrics lacks '%s'", want);
        snprintf(want, sizeof(want),
                 "waybill_reads_refused_total{status=\"401\",persona=\"unknown\"} %d\n",
                 refused401[BAD]);
        if (!strstr((const char *)r.body, want))
            fail_msg("/metrics lacks '%s'", want);
        for (int p = SUPC; p < NP; p++) {
            snprintf(want, sizeof(want),
                     "waybill_reads_refused_total{status=\"403\",persona=\"%s\"} %d\n",
                     P[p].name, refused403[p]);
            if (!strstr((const char *)r.body, want))
                fail_msg("/metrics lacks '%s'", want);
        }
    }
    wb_http_response_cleanup(&r);
}

/* ---- waybill audit with and without the auditor's token ---- */

static int run_audit(const char *token, const char *out)
{
    const char *bin = getenv("WB_BIN");
    char cmd[8192];
    int st;
    if (!bin)
        fail_msg("WB_BIN is not set (run through ctest)");
    snprintf(cmd, sizeof(cmd), "XDG_STATE_HOME='%s/state%s' WAYBILL_TOKEN= '%s' audit %s%s%s "
             ">'%s' 2>&1", F.dir, token ? "-a" : "-b", bin, F.url, token ? " --token " : "",
             token ? token : "", out);
    st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_audit_needs_the_auditors_token(void **state)
{
    char out[4400], *text;
    int rc;
    (void)state;
    snprintf(out, sizeof(out), "%s/audit-with.txt", F.dir);
    rc = run_audit(P[AUD].token, out);
    text = wbt_read_file(out, NULL);
    if (rc != 0 || !strstr(text, "verdict:    OK"))
        fail_msg("waybill audit --token (auditor): exit %d\n%s", rc, text);
    free(text);

    snprintf(out, sizeof(out), "%s/audit-without.txt", F.dir);
    rc = run_audit(NULL, out);
    text = wbt_read_file(out, NULL);
    if (rc != 4 || !strstr(text, "401"))
        fail_msg("waybill audit without a token: exit %d (want 4, naming HTTP 401)\n%s", rc,
                 text);
    free(text);
}

/* ---- configuration refusals: each names the section and what is wrong ---- */

static void test_config_refusals(void **state)
{
    static const char digest[] =
        "token_sha256 = 502b131a999fb9e928b45cf178db868f8061da3fb7a338edb051c3f057ce42c3\n";
    static const struct {
        const char *section;
        const char *says;
    } bad[] = {
        {"[persona a]\nmanufacturers = X\n%s", "needs a kind"},
        {"[persona a]\nkind = supplier\n%s", "kind supplier needs manufacturers"},
        {"[persona a]\nkind = supplier\nsites = AMS-1\n%s", "needs manufacturers, not sites"},
        {"[persona a]\nkind = auditor\nsites = AMS-1\n%s", "takes no manufacturers"},
        {"[persona a]\nkind = datacenter\nsites = AMS-1\n", "needs a credential"},
        {"[persona a]\nkind = public\n%s", "needs no section"},
        {"[persona a]\nkind = root\n%s", "is not supplier"},
        {"[persona a]\nkind = admin\ntoken_sha256 = 12ab\n", "is not a SHA-256"},
        {"[persona a]\nkind = admin\ncert_sha256 = zz\n", "is not a SHA-256"},
        {"[persona a]\nkind = admin\ntoken_file = missing.token\n", "missing.token"},
        {"[persona a]\nkind = admin\n%s[persona b]\nkind = auditor\n%s", "share a token"},
        {"[persona a b]\nkind = admin\n%s", "a persona name"},
        {"[persona a]\nkind = admin\ncolour = red\n%s", "colour"},
    };
    char *dir = wbt_tmpdir("persona-config"), ini[4400], text[2048];
    (void)state;
    snprintf(ini, sizeof(ini), "%s/bad.ini", dir);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wb_server_config cfg;
        int used = snprintf(text, sizeof(text), "[service]\nname = t\ndata_dir = d\n");
        int rc;
        snprintf(text + used, sizeof(text) - (size_t)used, bad[i].section, digest, digest);
        wbt_write_file(ini, text, strlen(text));
        wb_server_config_init(&cfg);
        rc = wb_server_config_load(&cfg, ini);
        if (rc == 0 || !strstr(wb_error_message(), bad[i].says))
            fail_msg("%s: rc %d, '%s' (want '%s')", bad[i].section, rc, wb_error_message(),
                     bad[i].says);
        wb_server_config_cleanup(&cfg);
    }
    /* a fingerprint as openssl prints it (upper case, colons) is accepted */
    snprintf(text, sizeof(text), "[service]\nname = t\ndata_dir = d\n[persona m]\n"
             "kind = metrics\ncert_sha256 = "
             "50:2B:13:1A:99:9F:B9:E9:28:B4:5C:F1:78:DB:86:8F:80:61:DA:3F:B7:A3:38:ED:B0:51:"
             "C3:F0:57:CE:42:C3\n");
    wbt_write_file(ini, text, strlen(text));
    {
        wb_server_config cfg;
        wb_server_config_init(&cfg);
        if (wb_server_config_load(&cfg, ini) != 0)
            fail_msg("%s", wb_error_message());
        assert_int_equal(cfg.npersonas, 1);
        assert_int_equal(cfg.personas[0].ncerts, 1);
        assert_int_equal(cfg.personas[0].certs[0][0], 0x50);
        wb_server_config_cleanup(&cfg);
    }
    wbt_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_persona_every_endpoint),
        cmocka_unit_test(test_audit_needs_the_auditors_token),
        cmocka_unit_test(test_config_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
