/*
 * test_sim.c: the fleet simulator against a real development-mode server,
 * and through it the anomaly rules (docs/anomalies.md) end to end:
 *   - a clean fleet raises no finding, and every device ends in the state
 *     its journey implies;
 *   - every anomaly the simulator injects, all in one run and then each on
 *     its own, is found: a finding with the right rule and tag, on the right
 *     device, whose evidence lists the entries that prove it, and nothing
 *     else is flagged;
 *   - what the simulator says about its options and its report.
 */
#include "sim_test_util.h"

#include "waybill/fleet.h"
#include "waybill/log.h"
#include "waybill/prov.h"

typedef struct {
    char id[65];
    char rule[WB_PROV_NAME_MAX + 1];
    char tag[16];
    char device[65];
    char evidence[1024];
    char issuer[WB_PROV_NAME_MAX + 1];
    char reason[WB_PROV_TEXT_MAX + 1];
    int used;
} finding_row;

typedef struct {
    finding_row *rows;
    size_t n;
} findings;

static int finding_cb(void *ctx, const wb_sql_value *cols, size_t n)
{
    findings *f = ctx;
    finding_row *r;
    void *g;
    if (n < 7)
        return 1;
    g = realloc(f->rows, (f->n + 1) * sizeof(*f->rows));
    if (!g)
        return 1;
    f->rows = g;
    r = &f->rows[f->n++];
    memset(r, 0, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "%s", cols[0].s);
    snprintf(r->rule, sizeof(r->rule), "%s", cols[1].s);
    snprintf(r->tag, sizeof(r->tag), "%s", cols[2].s);
    snprintf(r->device, sizeof(r->device), "%s", cols[3].s);
    snprintf(r->evidence, sizeof(r->evidence), "%s", cols[4].s);
    snprintf(r->issuer, sizeof(r->issuer), "%s", cols[5].s);
    snprintf(r->reason, sizeof(r->reason), "%s", cols[6].s);
    return 0;
}

static findings load_findings(simfix *f, int64_t since)
{
    findings out = {NULL, 0};
    wb_sql_value a[1] = {WB_SQL_I(since)};
    assert_true(wb_store_sql(f->db, "SELECT id, rule, tag, device, evidence, issuer, reason "
                                    "FROM fleet_findings WHERE idx >= $1 ORDER BY idx", a, 1,
                             finding_cb, &out) >= 0);
    return out;
}

static void print_findings(const findings *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        print_message("  finding %s/%s device %.12s: %s\n", fs->rows[i].rule, fs->rows[i].tag,
                      fs->rows[i].device, fs->rows[i].reason);
}

/* evidence is the newline-separated list of entry ids */
static int has_evidence(const finding_row *r, const char *entry)
{
    const char *p = strstr(r->evidence, entry);
    return entry[0] && p && (p == r->evidence || p[-1] == '\n') &&
           (p[64] == '\0' || p[64] == '\n');
}

/*
 * every expected finding of the report matches exactly one finding row (rule,
 * tag, device and evidence), and every finding row is matched: nothing else
 * is flagged
 */
static void check_findings(simfix *f, const wb_sim_report *r, int64_t since)
{
    size_t want = 0;
    int64_t got;
    findings fs;
    for (size_t i = 0; i < r->ninjections; i++)
        want += r->injections[i].nexpect;
    got = settle(f, since, (int64_t)want, 1.5, 30.0);
    fs = load_findings(f, since);
    if ((size_t)got != want || fs.n != want) {
        print_findings(&fs);
        fail_msg("%lld findings, the injections account for %zu", (long long)got, want);
    }
    for (size_t i = 0; i < r->ninjections; i++) {
        const wb_sim_injection *in = &r->injections[i];
        for (size_t k = 0; k < in->nexpect; k++) {
            const wb_sim_expect *e = &in->expect[k];
            size_t matches = 0;
            for (size_t j = 0; j < fs.n; j++) {
                finding_row *row = &fs.rows[j];
                int ok = !row->used && strcmp(row->rule, e->rule) == 0 &&
                         strcmp(row->tag, wb_tag_name(e->tag)) == 0 &&
                         strcmp(row->device, e->device) == 0;
                for (size_t m = 0; ok && m < e->nevidence; m++)
                    ok = has_evidence(row, e->evidence[m]);
                if (ok && matches++ == 0)
                    row->used = 1;
            }
            if (matches != 1) {
                print_findings(&fs);
                fail_msg("injection %s (%s): %zu findings match %s/%s on device '%.12s' with "
                         "evidence %.12s... (want exactly 1)", wb_sim_inject_name(in->kind),
                         in->what, matches, e->rule, wb_tag_name(e->tag), e->device,
                         e->nevidence ? e->evidence[0] : "");
            }
            assert_true(e->nevidence > 0);
        }
    }
    /* every finding is the service's own, and its evidence entries exist */
    for (size_t j = 0; j < fs.n; j++) {
        assert_true(fs.rows[j].used);
        assert_string_equal(fs.rows[j].issuer, "localhost/waybill-dev");
        for (const char *p = fs.rows[j].evidence; *p;) {
            char id[65];
            wb_sql_value a[1];
            snprintf(id, sizeof(id), "%.64s", p);
            a[0] = WB_SQL_S(id);
            assert_int_equal(sql_count(f, "SELECT count(*) FROM fleet_entries WHERE "
                                          "entry_id = $1", a, 1), 1);
            p += 64;
            if (*p == '\n')
                p++;
        }
    }
    free(fs.rows);
}

static void progress_quiet(void *ctx, const char *phase, size_t done, size_t total)
{
    (void)ctx;
    (void)phase;
    (void)done;
    (void)total;
}

static void run_sim(wb_sim_report *r, const wb_sim_options *o)
{
    if (wb_sim_run(r, o) != 0)
        fail_msg("sim: %s", wb_error_message());
    print_message("sim: %zu devices, %zu statements in %.2f s (identities %.2f s, journey "
                  "%.2f s), %zu injections\n", r->devices, r->statements, r->elapsed_s,
                  r->keygen_s, r->register_s, r->ninjections);
}

/* (a) a clean fleet: no finding, every device where its journey took it */
static void test_clean_fleet(void **state)
{
    simfix f;
    wb_sim_options o;
    wb_sim_report r;
    char path[4600];
    struct stat st;
    (void)state;
    simfix_start(&f, "sim-clean");
    simfix_options(&f, &o, "fleet");
    o.racks = 2;
    o.blades = 4;
    o.parts = 6;
    o.seed = 42;
    o.progress = progress_quiet;
    run_sim(&r, &o);

    /* 2 racks, 8 blades, 48 parts, one spare of each of 5 classes per rack */
    assert_int_equal(r.devices, 2 + 8 + 48 + 10);
    assert_int_equal(r.spares, 10);
    assert_int_equal(r.by_class[WB_CLASS_RACK], 2);
    assert_int_equal(r.by_class[WB_CLASS_BLADE], 8);
    assert_int_equal(r.by_class[WB_CLASS_ROT], 8 + 2);
    assert_int_equal(r.by_class[WB_CLASS_SSD], 16 + 2);
    assert_int_equal(r.by_state[WB_SIM_STATE_IN_PRODUCTION], 58);
    assert_int_equal(r.by_state[WB_SIM_STATE_MANUFACTURED], 10);
    assert_int_equal(r.by_state[WB_SIM_STATE_RECEIVED], 0);
    assert_int_equal(r.ninjections, 0);
    assert_int_equal(r.by_kind[WB_KIND_ISSUER], 10);
    assert_int_equal(r.by_kind[WB_KIND_ASSEMBLY], 8 + 2);
    assert_int_equal(r.by_kind[WB_KIND_CUSTODY], 4);
    assert_int_equal(r.by_kind[WB_KIND_INTAKE], 2);
    assert_int_equal(r.by_kind[WB_KIND_ATTESTATION], 8 + 8 + 2);
    assert_int_equal(r.by_kind[WB_KIND_FIRMWARE], 5);
    assert_int_equal(r.by_kind[WB_KIND_REVIEW], 5);

    /* nothing is flagged, everything registered is in the log once */
    assert_int_equal(settle(&f, 0, 0, 1.5, 30.0), 0);
    assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_findings", NULL, 0), 0);
    assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_entries", NULL, 0),
                     (int64_t)r.statements);
    assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_devices", NULL, 0),
                     (int64_t)r.devices);
    assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_issuers WHERE status = "
                                   "'active'", NULL, 0), 10);
    /* every blade is placed in its rack, every part in its blade */
    assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_placements WHERE to_idx IS "
                                   "NULL", NULL, 0), 8 + 48);
    assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_shipments WHERE receive_idx "
                                   "IS NOT NULL AND intake_idx IS NOT NULL", NULL, 0), 2);
    assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_attestations WHERE verdict = "
                                   "'pass'", NULL, 0), 18);
    check_states(&f, &r);

    /* the keys, certificates and report are in the working directory */
    snprintf(path, sizeof(path), "%s/keys/ams1-operations.key", o.dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof(path), "%s/cas/contoso-silicon-ca.pem", o.dir);
    assert_int_equal(stat(path, &st), 0);
    snprintf(path, sizeof(path), "%s/devices/tailspin-storage.pem", o.dir);
    assert_int_equal(stat(path, &st), 0);
    snprintf(path, sizeof(path), "%s/report.json", o.dir);
    assert_int_equal(stat(path, &st), 0);
    {
        /* the device certificates chain to the CA the ledger registered */
        uint8_t **der, **ca;
        size_t *len, *calen, n, nca;
        wb_x509_anchors *anchors;
        char cap[4600];
        snprintf(path, sizeof(path), "%s/devices/contoso-silicon.pem", o.dir);
        snprintf(cap, sizeof(cap), "%s/cas/contoso-silicon-ca.pem", o.dir);
        assert_int_equal(wb_x509_pem_chain(&der, &len, &n, path), 0);
        assert_int_equal(n, 8 + 2);
        assert_int_equal(wb_x509_pem_chain(&ca, &calen, &nca, cap), 0);
        assert_int_equal(wb_x509_anchors_from_der(&anchors, (const uint8_t *const *)ca, calen,
                                                  nca), 0);
        for (size_t i = 0; i < n; i++) {
            wb_device_id id;
            wb_sql_value a[1];
            assert_int_equal(wb_x509_chain_verify(anchors, (const uint8_t *const *)&der[i],
                                                  &len[i], 1, 0), 0);
            assert_int_equal(wb_device_id_of_cert(id, der[i], len[i]), 0);
            a[0] = WB_SQL_S(id);
            assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_devices WHERE id = $1 "
                                           "AND class = 'rot' AND manufacturer = 'Contoso "
                                           "Silicon'", a, 1), 1);
        }
        wb_x509_anchors_free(anchors);
        wb_x509_chain_free(der, len, n);
        wb_x509_chain_free(ca, calen, nca);
    }
    wb_sim_report_cleanup(&r);
    simfix_stop(&f);
}

static int read_entry(void *ctx, uint64_t index, uint8_t **data, size_t *len)
{
    return wb_log_entry(ctx, index, data, len);
}

/* the fleet tables rebuilt from the log alone equal the ones the service
 * built entry by entry (`waybill reindex --check`), findings included */
static void check_reindex(simfix *f)
{
    wb_log *log;
    uint64_t size;
    char *before, *after;
    size_t lb, la;
    wb_store_close(f->db);
    f->db = NULL;
    wb_server_stop(f->srv);
    f->srv = NULL;
    assert_int_equal(wb_log_open(&log, f->data, NULL), 0);
    assert_int_equal(wb_log_head(log, &size, NULL, NULL, NULL), 0);
    assert_int_equal(wb_fleet_dump(wb_log_store(log), &before, &lb), 0);
    assert_int_equal(wb_fleet_reindex(wb_log_store(log), size, read_entry, log, NULL), 0);
    assert_int_equal(wb_fleet_dump(wb_log_store(log), &after, &la), 0);
    assert_int_equal(la, lb);
    assert_memory_equal(after, before, la);
    assert_non_null(strstr(after, "firmware-revoked"));
    free(before);
    free(after);
    wb_log_close(log);
}

/*
 * (a') blades large enough that one rack's intake would pass the 64 KiB
 * statement limit (12 blades of 60 parts: ~70 KB of slots): the simulator
 * splits it into several intake statements, and the fleet is still clean.
 */
static void test_large_blades_split_intake(void **state)
{
    simfix f;
    wb_sim_options o;
    wb_sim_report r;
    (void)state;
    simfix_start(&f, "sim-split");
    simfix_options(&f, &o, "fleet");
    o.racks = 1;
    o.blades = 12;
    o.parts = 60;
    o.seed = 60;
    o.write_files = 0;
    o.progress = progress_quiet;
    run_sim(&r, &o);
    assert_int_equal(r.devices, 1 + 12 + 720 + 5);
    assert_true(r.by_kind[WB_KIND_INTAKE] >= 2);
    assert_int_equal(settle(&f, 0, 0, 1.5, 30.0), 0);
    assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_findings", NULL, 0), 0);
    assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_shipments WHERE intake_idx IS "
                                   "NOT NULL", NULL, 0), 1);
    assert_int_equal(r.by_state[WB_SIM_STATE_IN_PRODUCTION], 1 + 12 + 720);
    check_states(&f, &r);
    wb_sim_report_cleanup(&r);
    simfix_stop(&f);
}

/* (b) every injection at once, each on its own device */
static void test_every_anomaly_found(void **state)
{
    simfix f;
    wb_sim_options o;
    wb_sim_report r;
    (void)state;
    simfix_start(&f, "sim-all");
    simfix_options(&f, &o, "fleet");
    o.racks = 3;
    o.blades = 5;
    o.parts = 6;
    o.seed = 7;
    assert_int_equal(wb_sim_inject_parse(&o.inject, "all"), 0);
    run_sim(&r, &o);
    assert_int_equal(r.ninjections, WB_SIM_INJECT_COUNT);
    for (size_t i = 0; i < r.ninjections; i++) {
        const wb_sim_injection *in = &r.injections[i];
        print_message("  %-15s %s\n", wb_sim_inject_name(in->kind), in->what);
        assert_int_equal(strlen(in->trigger), 64);
        assert_true(in->nexpect >= 1);
        /* blade-level injections are on different devices */
        for (size_t k = 0; k < i; k++)
            if (in->device[0] && r.injections[k].device[0])
                assert_string_not_equal(in->device, r.injections[k].device);
    }
    check_findings(&f, &r, 0);
    check_states(&f, &r);
    check_reindex(&f);
    wb_sim_report_cleanup(&r);
    simfix_stop(&f);
}

/* (b) each injection on its own, one run after the other on one ledger:
 * the parties of an earlier run are updated, not added again */
static void test_each_anomaly_alone(void **state)
{
    simfix f;
    (void)state;
    simfix_start(&f, "sim-each");
    for (int k = 0; k < WB_SIM_INJECT_COUNT; k++) {
        wb_sim_options o;
        wb_sim_report r;
        char sub[32];
        int64_t since = sql_count(&f, "SELECT count(*) FROM fleet_entries", NULL, 0);
        snprintf(sub, sizeof(sub), "run-%d", k);
        simfix_options(&f, &o, sub);
        o.racks = 2;
        o.blades = 3;
        o.parts = 4;
        o.seed = 100 + (uint64_t)k;
        o.inject = 1u << k;
        o.write_files = 0;
        run_sim(&r, &o);
        print_message("  %-15s %s\n", wb_sim_inject_name((wb_sim_inject)k),
                      r.injections[0].what);
        assert_int_equal(r.ninjections, 1);
        assert_int_equal(r.injections[0].kind, k);
        check_findings(&f, &r, since);
        check_states(&f, &r);
        wb_sim_report_cleanup(&r);
    }
    /* ten parties, each registered once and updated by every later run */
    assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_issuers", NULL, 0), 10);
    assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_entries WHERE kind = 'issuer'",
                               NULL, 0), 10 * WB_SIM_INJECT_COUNT);
    simfix_stop(&f);
}

static void test_options_and_names(void **state)
{
    unsigned mask;
    wb_sim_options o;
    wb_sim_report r;
    simfix f;
    (void)state;
    assert_int_equal(wb_sim_inject_parse(&mask, "swap, clone,custody-gap"), 0);
    assert_int_equal(mask, (1u << WB_SIM_SWAP) | (1u << WB_SIM_CLONE) |
                               (1u << WB_SIM_CUSTODY_GAP));
    assert_int_equal(wb_sim_inject_parse(&mask, "all"), 0);
    assert_int_equal(mask, (1u << WB_SIM_INJECT_COUNT) - 1);
    assert_int_equal(wb_sim_inject_parse(&mask, ""), 0);
    assert_int_equal(mask, 0);
    assert_int_equal(wb_sim_inject_parse(&mask, "swap,teleport"), WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "'teleport'"));
    for (int k = 0; k < WB_SIM_INJECT_COUNT; k++) {
        assert_int_equal(wb_sim_inject_parse(&mask, wb_sim_inject_name((wb_sim_inject)k)), 0);
        assert_int_equal(mask, 1u << k);
    }

    /* a fleet too small for what is asked, and limits, refused before any key */
    simfix_start(&f, "sim-opts");
    simfix_options(&f, &o, "fleet");
    o.racks = 1;
    o.blades = 2;
    o.inject = (1u << WB_SIM_CLONE) | (1u << WB_SIM_SWAP);
    assert_int_equal(wb_sim_run(&r, &o), WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "need 3 blades"));
    o.inject = (1u << WB_SIM_CUSTODY_GAP) | (1u << WB_SIM_SEAL_MISMATCH);
    assert_int_equal(wb_sim_run(&r, &o), WB_E_INVALID);
    o.inject = 0;
    o.blades = 256;
    assert_int_equal(wb_sim_run(&r, &o), WB_E_INVALID);
    o.blades = 2;
    o.parts = 0;
    assert_int_equal(wb_sim_run(&r, &o), WB_E_INVALID);
    /* a wrong admin key: the governance statement is refused, the run stops */
    {
        wb_key *k;
        char path[4600];
        snprintf(path, sizeof(path), "%s/stranger.key", f.dir);
        assert_int_equal(wb_key_generate(&k, WB_ALG_ES256), 0);
        assert_int_equal(wb_key_write_file(k, path, 1), 0);
        wb_key_free(k);
        o.parts = 2;
        o.admin_key_file = path;
        assert_int_not_equal(wb_sim_run(&r, &o), 0);
        assert_non_null(strstr(wb_error_message(), "issuer add contoso-silicon"));
    }
    assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_entries", NULL, 0), 0);
    simfix_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_and_names),
        cmocka_unit_test(test_clean_fleet),
        cmocka_unit_test(test_large_blades_split_intake),
        cmocka_unit_test(test_every_anomaly_found),
        cmocka_unit_test(test_each_anomaly_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
