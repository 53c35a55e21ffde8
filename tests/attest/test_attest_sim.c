/*
 * test_attest_sim.c: the datacenter's part of the journey against a
 * simulated fleet (docs/attestation.md): a development-mode server, the
 * simulator run up to the carrier's receipt, the simulated devices on one
 * listener, then, through the verifier:
 *
 *   - intake of every shipment (custody and arrival attestation): pass;
 *   - a rack's pre-production attestation: every blade and the rack pass,
 *     and only then is everything in it in production; a rack whose blade
 *     failed stays out of production (production-gate);
 *   - each fault mode of the devices, set on its own blade between two
 *     rounds, is caught by the next periodic round with the right failed
 *     check, finding and tag, and every other unit still passes;
 *   - the server's scheduler ([attest] interval_s) re-attests everything in
 *     production by itself, and a swap made between two of its rounds is
 *     caught by the next one.
 */
#include "../sim/sim_test_util.h"

#include "wbtest_prov.h"

#include "waybill/verifier.h"

#define RACKS 3
#define BLADES 3
#define PARTS 4

static simfix fix;
static wb_sim_report rep;
static wb_sim_devices *devs;
static char devices_url[64], keyfile[4400];
static wb_key *dckey;

static void verifier_options(wb_verifier_options *o, wb_attest_phase phase)
{
    wb_verifier_options_init(o);
    o->ledger_url = fix.url;
    o->devices_url = devices_url;
    o->site = rep.site;
    o->issuer = WB_SIM_DATACENTER;
    o->key = dckey;
    o->phase = phase;
    o->timeout_ms = 3000;
}

static int setup(void **state)
{
    wb_sim_options o;
    wb_sim_devices_options d;
    (void)state;
    simfix_start(&fix, "attest-sim");
    simfix_options(&fix, &o, "fleet");
    o.racks = RACKS;
    o.blades = BLADES;
    o.parts = PARTS;
    o.until = WB_SIM_UNTIL_RECEIVED;
    if (wb_sim_run(&rep, &o) != 0)
        fail_msg("sim: %s", wb_error_message());
    wb_sim_devices_options_init(&d);
    d.dir = o.dir;
    if (wb_sim_devices_start(&devs, &d) != 0)
        fail_msg("sim devices: %s", wb_error_message());
    snprintf(devices_url, sizeof(devices_url), "http://127.0.0.1:%u",
             (unsigned)wb_sim_devices_port(devs));
    snprintf(keyfile, sizeof(keyfile), "%s/keys/%s.key", o.dir, WB_SIM_DATACENTER);
    assert_int_equal(wb_key_read_file(&dckey, keyfile), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    wb_sim_devices_stop(devs);
    wb_key_free(dckey);
    wb_sim_report_cleanup(&rep);
    simfix_stop(&fix);
    return 0;
}

static int text_row_cb(void *ctx, const wb_sql_value *cols, size_t n)
{
    char *out = ctx;
    snprintf(out, 4096, "%s", n > 0 && cols[0].type == WB_SQL_TEXT ? cols[0].s : "");
    return 1;
}

static const char *state_of(const char *id)
{
    static char out[4096];
    wb_sql_value a[1] = {WB_SQL_S(id)};
    out[0] = '\0';
    if (wb_store_sql(fix.db, "SELECT state FROM fleet_devices WHERE id = $1", a, 1,
                     text_row_cb, out) < 0)
        fail_msg("state: %s", wb_error_message());
    return out;
}

/* the blade b of shipment r (units: the rack, then its blades) */
static const char *blade(size_t r, size_t b)
{
    return rep.shipments[r].units[1 + b];
}

static const wb_verifier_result *result_of(const wb_verifier_report *r, const char *id)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->results[i].id, id) == 0)
            return &r->results[i];
    fail_msg("no result for %.16s", id);
    return NULL;
}

static void test_intake_and_preproduction(void **state)
{
    (void)state;
    for (size_t r = 0; r < rep.nshipments; r++) {
        wb_verifier_options o;
        wb_intake_report in;
        char *seals[2] = {rep.shipments[r].seals[0], rep.shipments[r].seals[1]};
        verifier_options(&o, WB_PHASE_ARRIVAL);
        if (wb_intake_run(&in, &o, rep.shipments[r].id, seals, 2) != 0)
            fail_msg("intake %s: %s", rep.shipments[r].id, wb_error_message());
        if (in.verdict != WB_VERDICT_PASS)
            fail_msg("intake %s failed: %s [%s]", rep.shipments[r].id, in.reason,
                     in.findings);
        assert_int_equal(in.attest.n, 1 + BLADES);
        assert_int_equal(in.attest.pass, 1 + BLADES);
        assert_int_equal(strlen(in.entry), 64);
        wb_intake_report_cleanup(&in);
    }
    /* racks 0 and 1 go to production; rack 2 waits */
    for (size_t r = 0; r < 2; r++) {
        wb_verifier_options o;
        wb_verifier_report vr;
        const char *target[1] = {rep.shipments[r].units[0]};
        verifier_options(&o, WB_PHASE_PREPRODUCTION);
        assert_string_equal(state_of(target[0]), "received");
        if (wb_verifier_run(&vr, &o, target, 1) != 0)
            fail_msg("pre-production: %s", wb_error_message());
        assert_int_equal(vr.n, 1 + BLADES);
        assert_int_equal(vr.pass, 1 + BLADES);
        /* the rack is challenged after its blades */
        assert_string_equal(vr.results[vr.n - 1].id, target[0]);
        wb_verifier_report_cleanup(&vr);
        assert_string_equal(state_of(target[0]), "in-production");
        for (size_t b = 0; b < BLADES; b++)
            assert_string_equal(state_of(blade(r, b)), "in-production");
    }
    assert_int_equal(sql_count(&fix, "SELECT count(*) FROM fleet_findings", NULL, 0), 0);
}

static void test_production_gate(void **state)
{
    wb_verifier_options o;
    wb_verifier_report vr;
    const char *rack = rep.shipments[2].units[0];
    (void)state;
    /* a blade of rack 2 answers with a bad signature: it fails, so the rack,
     * whose own answer is fine, must not enter production */
    assert_int_equal(wb_sim_devices_set_fault(devs, blade(2, 0), WB_SIM_FAULT_BAD_SIG), 0);
    verifier_options(&o, WB_PHASE_PREPRODUCTION);
    assert_int_equal(wb_verifier_run(&vr, &o, &rack, 1), 0);
    assert_int_equal(result_of(&vr, blade(2, 0))->verdict, WB_VERDICT_FAIL);
    assert_int_equal(result_of(&vr, rack)->verdict, WB_VERDICT_FAIL);
    assert_non_null(strstr(result_of(&vr, rack)->findings, "production-gate/investigate"));
    assert_int_equal(result_of(&vr, blade(2, 1))->verdict, WB_VERDICT_PASS);
    wb_verifier_report_cleanup(&vr);
    assert_string_equal(state_of(rack), "received");
    assert_string_equal(state_of(blade(2, 0)), "received");
    assert_string_equal(state_of(blade(2, 1)), "in-production");
    /* fixed: the blade passes, then the rack does and is in production */
    assert_int_equal(wb_sim_devices_set_fault(devs, blade(2, 0), WB_SIM_FAULT_NONE), 0);
    assert_int_equal(wb_verifier_run(&vr, &o, &rack, 1), 0);
    assert_int_equal(vr.pass, 1 + BLADES);
    wb_verifier_report_cleanup(&vr);
    assert_string_equal(state_of(rack), "in-production");
}

/* waits for a finding of rule whose reason names unit (its 12 first hex
 * digits); the finding (caller decrefs) or NULL */
static json_t *finding_about(const char *rule, const char *unit)
{
    char shortid[16];
    snprintf(shortid, sizeof(shortid), "%.12s", unit);
    for (int tries = 0; tries < 100; tries++) {
        json_t *all = wbt_prov_findings(fix.url, ""), *it;
        size_t k;
        json_array_foreach(all, k, it) {
            const char *r = json_string_value(json_object_get(it, "rule"));
            const char *reason = json_string_value(json_object_get(it, "reason"));
            if (r && strcmp(r, rule) == 0 && reason && strstr(reason, shortid)) {
                json_incref(it);
                json_decref(all);
                return it;
            }
        }
        json_decref(all);
        usleep(50000);
    }
    return NULL;
}

typedef struct {
    wb_sim_fault fault;
    wb_failed_check failed; /* of the faulty blade */
    const char *rule;       /* a finding it must raise */
    const char *tag;
} fault_case;

static void test_each_fault_is_caught(void **state)
{
    static const fault_case cases[] = {
        {WB_SIM_FAULT_SWAP, WB_CHECK_NONE, "unauthorized-swap", "evict"},
        {WB_SIM_FAULT_CLONE, WB_CHECK_NONE, "clone", "evict"},
        {WB_SIM_FAULT_UNKNOWN, WB_CHECK_NONE, "unknown-identity", "evict"},
        {WB_SIM_FAULT_ROGUE_FW, WB_CHECK_NONE, "firmware-unreleased", "evict"},
        {WB_SIM_FAULT_STALE, WB_CHECK_STALE, "evidence-stale", "investigate"},
        {WB_SIM_FAULT_BAD_SIG, WB_CHECK_SIGNATURE, "evidence-invalid", "evict"},
        {WB_SIM_FAULT_IMPOSTOR, WB_CHECK_CHAIN, "evidence-invalid", "evict"},
        {WB_SIM_FAULT_OFFLINE, WB_CHECK_UNREACHABLE, "attestation-overdue", "investigate"},
    };
    const char *target[1] = {"in-production"};
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const fault_case *c = &cases[i];
        const char *victim = blade(i / BLADES, i % BLADES);
        wb_verifier_options o;
        wb_verifier_report vr;
        const wb_verifier_result *x;
        char want[128];
        json_t *f;
        verifier_options(&o, WB_PHASE_PERIODIC);
        /* the stale fault replays an earlier answer: give it one to replay */
        if (c->fault == WB_SIM_FAULT_STALE) {
            assert_int_equal(wb_verifier_run(&vr, &o, &victim, 1), 0);
            assert_int_equal(vr.pass, 1);
            wb_verifier_report_cleanup(&vr);
        }
        assert_int_equal(wb_sim_devices_set_fault(devs, victim, c->fault), 0);
        if (wb_verifier_run(&vr, &o, target, 1) != 0)
            fail_msg("%s: %s", wb_sim_fault_name(c->fault), wb_error_message());
        assert_int_equal(vr.n, RACKS * (1 + BLADES));
        x = result_of(&vr, victim);
        if (x->verdict != WB_VERDICT_FAIL)
            fail_msg("%s on %.16s was not caught", wb_sim_fault_name(c->fault), victim);
        assert_int_equal(x->failed, c->failed);
        snprintf(want, sizeof(want), "%s/%s", c->rule, c->tag);
        if (!strstr(x->findings, want))
            fail_msg("%s: findings \"%s\", want %s", wb_sim_fault_name(c->fault), x->findings,
                     want);
        /* every other unit is untouched */
        for (size_t k = 0; k < vr.n; k++)
            if (&vr.results[k] != x && vr.results[k].verdict != WB_VERDICT_PASS)
                fail_msg("%s on %.16s: %.16s failed too: %s", wb_sim_fault_name(c->fault),
                         victim, vr.results[k].id, vr.results[k].reason);
        assert_int_equal(vr.fail, 1);
        assert_int_equal(vr.unreachable, c->failed == WB_CHECK_UNREACHABLE ? 1 : 0);
        wb_verifier_report_cleanup(&vr);
        /* the ledger raised it (about the part for slot findings) */
        f = finding_about(c->rule, victim);
        if (!f)
            fail_msg("%s: no %s finding in the ledger", wb_sim_fault_name(c->fault), c->rule);
        assert_string_equal(json_string_value(json_object_get(f, "tag")), c->tag);
        json_decref(f);
        assert_int_equal(wb_sim_devices_set_fault(devs, victim, WB_SIM_FAULT_NONE), 0);
    }
}

static void test_replayed_answer_is_refused(void **state)
{
    /* the stale case above replays a real, once-valid answer: the nonce is
     * the check that refuses it, and nothing of it is recorded as seen */
    const char *victim = blade(2, 2);
    wb_verifier_options o;
    wb_verifier_report vr;
    (void)state;
    verifier_options(&o, WB_PHASE_PERIODIC);
    assert_int_equal(wb_verifier_run(&vr, &o, &victim, 1), 0);
    assert_int_equal(vr.pass, 1);
    wb_verifier_report_cleanup(&vr);
    assert_int_equal(wb_sim_devices_set_fault(devs, victim, WB_SIM_FAULT_STALE), 0);
    assert_int_equal(wb_verifier_run(&vr, &o, &victim, 1), 0);
    assert_int_equal(vr.results[0].failed, WB_CHECK_STALE);
    assert_non_null(strstr(vr.results[0].reason, "nonce"));
    assert_int_equal(vr.results[0].nseen, 0);
    wb_verifier_report_cleanup(&vr);
    assert_int_equal(wb_sim_devices_set_fault(devs, victim, WB_SIM_FAULT_NONE), 0);
}

/* restarts the server with periodic attestation every interval_s */
static void restart_with_scheduler(unsigned interval_s)
{
    wb_server_config cfg;
    wb_server_stop(fix.srv);
    fix.srv = NULL;
    wb_server_config_init(&cfg);
    assert_int_equal(wb_server_config_dev(&cfg, fix.data), 0);
    cfg.service.sync_normal = 1;
    free(cfg.listen);
    cfg.listen = strdup(fix.url + strlen("http://")); /* the same address and port */
    cfg.attest.devices_url = strdup(devices_url);
    cfg.attest.key_file = strdup(keyfile);
    cfg.attest.issuer = strdup(WB_SIM_DATACENTER);
    cfg.attest.site = strdup(rep.site);
    cfg.attest.interval_s = interval_s;
    cfg.attest.timeout_ms = 2000;
    if (wb_server_start(&fix.srv, &cfg) != 0)
        fail_msg("restart: %s", wb_error_message());
    wb_server_config_cleanup(&cfg);
}

static int64_t attestations_of(const char *id, const char *verdict)
{
    wb_sql_value a[2] = {WB_SQL_S(id), WB_SQL_S(verdict)};
    return sql_count(&fix, "SELECT count(*) FROM fleet_attestations WHERE device = $1 AND "
                           "verdict = $2 AND phase = 'periodic'", a, 2);
}

static void test_scheduler_catches_swap_between_rounds(void **state)
{
    const char *victim = blade(2, 1), *other = rep.shipments[0].units[0];
    int64_t before = attestations_of(other, "pass"), base;
    json_t *f;
    (void)state;
    restart_with_scheduler(2);
    /* a first round by the scheduler: every unit passes */
    for (int i = 0; i < 100 && attestations_of(other, "pass") < before + 1; i++)
        usleep(100000);
    assert_true(attestations_of(other, "pass") >= before + 1);
    base = attestations_of(victim, "fail");
    /* swapped in service, between two rounds */
    assert_int_equal(wb_sim_devices_set_fault(devs, victim, WB_SIM_FAULT_SWAP), 0);
    for (int i = 0; i < 100 && attestations_of(victim, "fail") == base; i++)
        usleep(100000);
    assert_true(attestations_of(victim, "fail") > base);
    f = finding_about("unauthorized-swap", victim);
    if (!f)
        fail_msg("the scheduler's round did not raise the swap");
    assert_string_equal(json_string_value(json_object_get(f, "tag")), "evict");
    json_decref(f);
    /* the next rounds do not raise it again while it is open */
    {
        int64_t n0 = sql_count(&fix, "SELECT count(*) FROM fleet_findings WHERE rule = "
                                     "'unauthorized-swap'", NULL, 0);
        int64_t fails = attestations_of(victim, "fail");
        for (int i = 0; i < 100 && attestations_of(victim, "fail") < fails + 1; i++)
            usleep(100000);
        assert_true(attestations_of(victim, "fail") >= fails + 1);
        usleep(300000);
        assert_int_equal(sql_count(&fix, "SELECT count(*) FROM fleet_findings WHERE rule = "
                                         "'unauthorized-swap'", NULL, 0), n0);
    }
    assert_int_equal(wb_sim_devices_set_fault(devs, victim, WB_SIM_FAULT_NONE), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intake_and_preproduction),
        cmocka_unit_test(test_production_gate),
        cmocka_unit_test(test_each_fault_is_caught),
        cmocka_unit_test(test_replayed_answer_is_refused),
        cmocka_unit_test(test_scheduler_catches_swap_between_rounds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
