/*
 * test_sim_received.c: `waybill sim --until received` (docs/simulator.md)
 * against a development-mode server, and what the run leaves for the
 * datacenter's own tools: DIR/attest/devices.json (sim_devfile.c) and the
 * shipments in the report.
 *
 *   - the command line run stops after the carrier's receipt: no intake,
 *     no attestation statement; every shipped unit and its parts are
 *     "received" in the ledger, spares "manufactured"; a custody-gap
 *     injection still raises its finding on the receipt;
 *   - devices.json (mode 0600) parses and describes every blade and rack:
 *     its chain validates to the integrator's CA and gives its id, its
 *     private key is the certificate's (it signs what the certificate's
 *     key verifies), its slots are the ledger's placements and, for a
 *     rack, its shipment's packing list; a blade measures firmware the
 *     ledger holds as released; spares and parts are all listed;
 *   - the report lists the shipments with their seals and units, as the
 *     ledger recorded them;
 *   - the injections that need the skipped phases are refused by name.
 */
#include "sim_test_util.h"

#include <jansson.h>
#include <sys/stat.h>

#include "waybill/identity.h"
#include "waybill/util.h"

#define RACKS 2
#define BLADES 3
#define PARTS 4

static int text_row(void *ctx, const wb_sql_value *cols, size_t n)
{
    char *out = ctx;
    snprintf(out, 4096, "%s", n > 0 && cols[0].type == WB_SQL_TEXT && cols[0].s ? cols[0].s
                                                                                : "");
    return 0;
}

/* the ids of a JSON array of strings, joined by newlines, as the ledger keeps units */
static void join_ids(char *out, size_t cap, const json_t *a, size_t from)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = from; i < json_array_size(a); i++)
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? "\n" : "",
                              json_string_value(json_array_get(a, i)));
}

static json_t *load_json(const char *path)
{
    json_error_t err;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!j)
        fail_msg("%s: line %d: %s", path, err.line, err.text);
    return j;
}

static uint8_t *b64_der(const json_t *v, size_t *len)
{
    const char *s = json_string_value(v);
    uint8_t *der;
    assert_non_null(s);
    der = malloc(strlen(s) + 1);
    assert_non_null(der);
    assert_int_equal(wb_base64_decode(der, strlen(s) + 1, len, s, strlen(s)), 0);
    return der;
}

/* the unit's identity: chain to the CA, key = certificate, id = both */
static void check_identity(const json_t *u, const uint8_t *ca, size_t ca_len)
{
    const char *id = json_string_value(json_object_get(u, "id"));
    const char *pem = json_string_value(json_object_get(u, "key"));
    const json_t *chain = json_object_get(u, "chain");
    const uint8_t *c[2], *cas[1] = {ca};
    size_t cl[2], cas_len[1] = {ca_len}, sig_len;
    uint8_t *der[2], sig[WB_SIG_MAX];
    char got[WB_IDENTITY_ID_HEX + 1];
    wb_key *key = NULL, *pub = NULL;
    static const char msg[] = "a challenge the identity key answers";

    assert_non_null(id);
    assert_non_null(pem);
    assert_int_equal(json_array_size(chain), 2);
    for (int i = 0; i < 2; i++) {
        der[i] = b64_der(json_array_get(chain, (size_t)i), &cl[i]);
        c[i] = der[i];
    }
    /* the second is the issuing CA itself */
    assert_int_equal(cl[1], ca_len);
    assert_memory_equal(der[1], ca, ca_len);
    if (wb_identity_verify(got, c, cl, 2, cas, cas_len, 1) != 0)
        fail_msg("unit %.16s: %s", id, wb_error_message());
    assert_string_equal(got, id);
    /* the private key is the certificate's */
    assert_int_equal(wb_key_from_pem(&key, pem, strlen(pem)), 0);
    assert_true(wb_key_is_private(key));
    assert_int_equal(wb_key_from_x509_der(&pub, der[0], cl[0]), 0);
    assert_int_equal(wb_key_sign(key, sig, &sig_len, msg, sizeof(msg)), 0);
    assert_int_equal(wb_key_verify(pub, sig, sig_len, msg, sizeof(msg)), 0);
    wb_key_free(key);
    wb_key_free(pub);
    free(der[0]);
    free(der[1]);
}

static void progress_quiet(void *ctx, const char *phase, size_t done, size_t total)
{
    (void)ctx;
    (void)phase;
    (void)done;
    (void)total;
}

static void test_until_received(void **state)
{
    simfix f;
    char cmd[20000], path[4600], report_path[4600], text[4096];
    const char *bin = getenv("WB_BIN");
    json_t *rep, *dev, *units, *ships, *e;
    wb_sim_report r;
    uint8_t **ca;
    size_t *ca_len, nca, i, nblades = 0, nracks = 0;
    struct stat sb;
    const char *run;
    (void)state;
    if (!bin)
        skip();
    simfix_start(&f, "simrecv");
    snprintf(report_path, sizeof(report_path), "%s/out.json", f.dir);
    snprintf(cmd, sizeof(cmd),
             "'%s' sim --url %s --admin-key '%s' --dir '%s/fleet' --racks %d --blades %d "
             "--parts %d --seed 3 --until received --inject custody-gap --json > '%s'",
             bin, f.url, f.admin, f.dir, RACKS, BLADES, PARTS, report_path);
    if (system(cmd) != 0)
        fail_msg("%s failed", cmd);
    rep = load_json(report_path);
    run = json_string_value(json_object_get(rep, "run"));
    assert_non_null(run);
    assert_string_equal(json_string_value(json_object_get(rep, "until")), "received");

    /* nothing after the receipt */
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(rep, "statements_by_kind"), "intake")), 0);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(rep, "statements_by_kind"), "attestation")), 0);
    assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_attestations", NULL, 0), 0);
    /* the states: every shipped unit and its parts received, spares manufactured */
    memset(&r, 0, sizeof(r));
    snprintf(r.run, sizeof(r.run), "%s", run);
    r.devices = (size_t)json_integer_value(json_object_get(rep, "devices"));
    r.spares = (size_t)json_integer_value(json_object_get(rep, "spares"));
    r.by_state[WB_SIM_STATE_RECEIVED] = (size_t)json_integer_value(
        json_object_get(json_object_get(rep, "expected_states"), "received"));
    r.by_state[WB_SIM_STATE_MANUFACTURED] = (size_t)json_integer_value(
        json_object_get(json_object_get(rep, "expected_states"), "manufactured"));
    assert_int_equal(r.by_state[WB_SIM_STATE_RECEIVED], r.devices - r.spares);
    assert_int_equal(r.by_state[WB_SIM_STATE_MANUFACTURED], r.spares);
    check_states(&f, &r);
    /* custody-gap: its finding on the receipt, and only that one */
    {
        json_t *inj = json_array_get(json_object_get(rep, "injections"), 0);
        assert_string_equal(json_string_value(json_object_get(inj, "kind")), "custody-gap");
        assert_int_equal(json_array_size(json_object_get(inj, "expected_findings")), 1);
        assert_int_equal(settle(&f, 0, 1, 1.0, 30.0), 1);
        assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_findings WHERE rule = "
                                        "'custody-gap'", NULL, 0), 1);
    }

    /* the shipments, as the ledger has them */
    ships = json_object_get(rep, "shipments");
    assert_int_equal(json_array_size(ships), RACKS);
    json_array_foreach(ships, i, e) {
        const char *id = json_string_value(json_object_get(e, "id"));
        const json_t *seals = json_object_get(e, "seals"), *u = json_object_get(e, "units");
        char want[4096];
        wb_sql_value a[1] = {WB_SQL_S(id)};
        assert_int_equal(json_array_size(seals), 2);
        assert_int_equal(json_array_size(u), BLADES + 1);
        text[0] = '\0';
        assert_true(wb_store_sql(f.db, "SELECT units FROM fleet_shipments WHERE id = $1", a, 1,
                                 text_row, text) >= 0);
        if (!json_is_true(json_object_get(e, "shipped"))) {
            assert_string_equal(text, ""); /* never shipped: no shipment row */
            continue;
        }
        join_ids(want, sizeof(want), u, 0);
        assert_string_equal(text, want);
        assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_shipments WHERE id = $1 "
                                       "AND receive_idx IS NOT NULL AND intake_idx IS NULL",
                                   a, 1), 1);
    }

    /* devices.json */
    snprintf(path, sizeof(path), "%s/fleet/attest/devices.json", f.dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    dev = load_json(path);
    assert_string_equal(json_string_value(json_object_get(dev, "site")), "AMS-1");
    snprintf(path, sizeof(path), "%s/fleet/cas/woodgrove-integration-ca.pem", f.dir);
    assert_int_equal(wb_x509_pem_chain(&ca, &ca_len, &nca, path), 0);
    assert_int_equal(nca, 1);
    units = json_object_get(dev, "units");
    assert_int_equal(json_array_size(units), RACKS + RACKS * BLADES);
    json_array_foreach(units, i, e) {
        const char *id = json_string_value(json_object_get(e, "id"));
        const char *cls = json_string_value(json_object_get(e, "class"));
        const json_t *slots = json_object_get(e, "slots"), *meas = json_object_get(e, "measurements"),
                     *s;
        wb_sql_value a[1] = {WB_SQL_S(id)};
        size_t k;
        check_identity(e, ca[0], ca_len[0]);
        assert_non_null(json_string_value(json_object_get(e, "serial")));
        /* the slots are the ledger's placements under it, all of them */
        assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_placements WHERE parent = "
                                       "$1 AND to_idx IS NULL", a, 1),
                         (int64_t)json_array_size(slots));
        json_array_foreach(slots, k, s) {
            wb_sql_value b[3] = {WB_SQL_S(id),
                                 WB_SQL_S(json_string_value(json_object_get(s, "slot"))),
                                 WB_SQL_S(json_string_value(json_object_get(s, "id")))};
            assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_placements WHERE "
                                           "parent = $1 AND slot = $2 AND child = $3 AND "
                                           "to_idx IS NULL", b, 3), 1);
        }
        if (strcmp(cls, "rack") == 0) {
            /* a rack: its blades, as its shipment's packing list has them */
            char want[4096], got[4096];
            size_t n = 0;
            const json_t *sh;
            size_t m;
            nracks++;
            assert_int_equal(json_array_size(slots), BLADES);
            assert_int_equal(json_array_size(meas), 0);
            got[0] = '\0';
            json_array_foreach(slots, k, s)
                n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s", n ? "\n" : "",
                                      json_string_value(json_object_get(s, "id")));
            want[0] = '\0';
            json_array_foreach(ships, m, sh)
                if (strcmp(json_string_value(json_array_get(json_object_get(sh, "units"), 0)),
                           id) == 0)
                    join_ids(want, sizeof(want), json_object_get(sh, "units"), 1);
            assert_string_equal(got, want);
        } else {
            /* a blade: its parts, and released firmware in every slot */
            assert_string_equal(cls, "blade");
            nblades++;
            assert_int_equal(json_array_size(slots), PARTS);
            assert_int_equal(json_array_size(meas), PARTS);
            json_array_foreach(meas, k, s) {
                wb_sql_value b[1] = {
                    WB_SQL_S(json_string_value(json_object_get(s, "digest")))};
                assert_string_equal(json_string_value(json_object_get(s, "component")),
                                    json_string_value(json_object_get(
                                        json_array_get(slots, k), "slot")));
                assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_firmware WHERE "
                                               "digest = $1 AND revoked_idx IS NULL", b, 1),
                                 1);
            }
        }
    }
    assert_int_equal(nracks, RACKS);
    assert_int_equal(nblades, RACKS * BLADES);
    assert_int_equal(json_array_size(json_object_get(dev, "spares")), r.spares);
    assert_int_equal(json_array_size(json_object_get(dev, "parts")), RACKS * BLADES * PARTS);
    json_array_foreach(json_object_get(dev, "parts"), i, e) {
        wb_sql_value a[2] = {WB_SQL_S(json_string_value(json_object_get(e, "blade"))),
                             WB_SQL_S(json_string_value(json_object_get(e, "id")))};
        assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_placements WHERE parent = "
                                       "$1 AND child = $2 AND to_idx IS NULL", a, 2), 1);
    }
    wb_x509_chain_free(ca, ca_len, nca);
    json_decref(dev);
    json_decref(rep);
    simfix_stop(&f);
}

/* the injections that need what a run stopped at the receipt skips */
static void test_until_received_refuses(void **state)
{
    static const wb_sim_inject refused[] = {
        WB_SIM_SWAP,          WB_SIM_CLONE,          WB_SIM_UNKNOWN,
        WB_SIM_SEAL_MISMATCH, WB_SIM_REVOKED_FW,     WB_SIM_UNRELEASED_FW,
        WB_SIM_VULNERABLE_FW, WB_SIM_UNREVIEWED_FW,  WB_SIM_REVOKED_DEVICE,
        WB_SIM_ATTEST_FAIL,   WB_SIM_OVERDUE,
    };
    wb_sim_options o;
    wb_sim_report r;
    wb_sim_until u;
    (void)state;
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        wb_sim_options_init(&o);
        o.url = "http://127.0.0.1:9"; /* never reached: refused before */
        o.admin_key_file = "/nonexistent";
        o.dir = "/nonexistent";
        o.until = WB_SIM_UNTIL_RECEIVED;
        o.inject = 1u << refused[i] | 1u << WB_SIM_CUSTODY_GAP;
        o.progress = progress_quiet;
        assert_int_equal(wb_sim_run(&r, &o), WB_E_INVALID);
        assert_non_null(strstr(wb_error_message(), wb_sim_inject_name(refused[i])));
        assert_non_null(strstr(wb_error_message(), "until received"));
        assert_null(strstr(wb_error_message(), "custody-gap cannot"));
    }
    assert_int_equal(wb_sim_until_parse(&u, "received"), 0);
    assert_int_equal(u, WB_SIM_UNTIL_RECEIVED);
    assert_int_equal(wb_sim_until_parse(&u, "all"), 0);
    assert_int_equal(u, WB_SIM_UNTIL_ALL);
    assert_int_equal(wb_sim_until_parse(&u, "intake"), WB_E_INVALID);
    assert_string_equal(wb_sim_until_name(WB_SIM_UNTIL_RECEIVED), "received");
    /* and on the command line: a usage error naming them */
    if (getenv("WB_BIN")) {
        char cmd[4400];
        snprintf(cmd, sizeof(cmd), "'%s' sim --url http://127.0.0.1:9 --admin-key /x --dir /x "
                 "--until intake 2>/dev/null", getenv("WB_BIN"));
        assert_int_equal(WEXITSTATUS(system(cmd)), 2);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_until_received_refuses),
        cmocka_unit_test(test_until_received),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
