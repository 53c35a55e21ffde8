/*
 * test_sim_10k.c: no false findings on a clean simulated fleet of 10,000
 * devices (issue 5, "Done when"): 20 racks of 20 blades of 24 parts, plus
 * 100 spare parts, through a real development-mode server; every device
 * ends in production (spares in the warehouse) and nothing is flagged.
 * It prints how long the run took; it asserts no time.
 */
#include "sim_test_util.h"

/* one line per phase: how many, how long */
static void progress(void *ctx, const char *phase, size_t done, size_t total)
{
    static char last[32];
    static double since;
    (void)ctx;
    if (since == 0)
        since = now_s();
    if (done == total && strcmp(last, phase) != 0) {
        snprintf(last, sizeof(last), "%s", phase);
        print_message("  %-20s %6zu  %5.1f s\n", phase, total, now_s() - since);
        since = now_s();
    }
}

static void test_clean_10k(void **state)
{
    simfix f;
    wb_sim_options o;
    wb_sim_report r;
    double t0;
    (void)state;
    simfix_start(&f, "sim-10k");
    simfix_options(&f, &o, "fleet");
    o.racks = 20;
    o.blades = 20;
    o.parts = 24;
    o.seed = 10000;
    o.write_files = 0;
    o.progress = progress;
    t0 = now_s();
    if (wb_sim_run(&r, &o) != 0)
        fail_msg("sim: %s", wb_error_message());
    print_message("sim: %zu devices (%zu spares), %zu statements in %.1f s: identities "
                  "%.1f s, journey %.1f s (%.0f statements/s)\n", r.devices, r.spares,
                  r.statements, r.elapsed_s, r.keygen_s, r.register_s,
                  (double)r.statements / r.register_s);
    assert_true(r.devices >= 10000);
    assert_int_equal(r.devices, 20 + 400 + 9600 + 100);
    assert_int_equal(r.by_state[WB_SIM_STATE_IN_PRODUCTION], 20 + 400 + 9600);
    assert_int_equal(r.by_state[WB_SIM_STATE_MANUFACTURED], 100);

    /* nothing flagged; every statement in the log once; every device where
     * its journey took it */
    assert_int_equal(settle(&f, 0, 0, 1.5, 60.0), 0);
    assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_findings", NULL, 0), 0);
    assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_entries", NULL, 0),
                     (int64_t)r.statements);
    assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_devices", NULL, 0),
                     (int64_t)r.devices);
    assert_int_equal(sql_count(&f, "SELECT count(*) FROM fleet_placements WHERE to_idx IS "
                                   "NULL", NULL, 0), 400 + 9600);
    check_states(&f, &r);
    print_message("total with checks: %.1f s\n", now_s() - t0);
    wb_sim_report_cleanup(&r);
    simfix_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_10k),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
