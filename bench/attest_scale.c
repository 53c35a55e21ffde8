/*
 * attest_scale.c: section 8 of `make bench`, attestation at scale (issue 6,
 * "Benchmark"; docs/performance.md, "Attestation").
 *
 *   1. The ceiling: P-384 signature verifications per second on every core
 *      of this machine, measured now (bench_verify_ceiling).
 *   2. A fresh `waybill serve --dev` child process, and a clean fleet of
 *      10,000 attesting units (250 racks of 39 blades; 1 part per blade)
 *      taken to production by the simulator in this process, its P-384
 *      identities on every core; this set-up is timed apart and is not in
 *      the rates.
 *   3. The simulated devices on one listener in this process (`waybill sim
 *      devices`): each unit signs its evidence with a P-384 alias key.
 *   4. A warm-up round, dry run: every unit makes its alias key and alias
 *      certificate on its first challenge; nothing is registered.
 *   5. A measured dry run: challenge, verification (3 P-384 verifications
 *      per unit: the alias certificate by the identity key, the identity
 *      certificate by the supplier CA, the evidence by the alias key), the
 *      service's dry run of the rules (POST /attest/check); nothing written.
 *   6. A measured periodic round as the server's scheduler runs it: the
 *      same, plus one attestation statement per unit signed by the
 *      datacenter (ES256) and registered with the service (201, durable).
 *   Rates: units/s; the ratio to the ceiling is units/s x 3 / (P-384
 *   verifications/s), the share of the machine's verification capacity the
 *   verifier's own checks use. The devices (a P-384 signature per answer),
 *   the service (an ES256 verification, the rules and the projection per
 *   statement) and the verifier share the same two cores, so the ratio is
 *   far from 1; the CPU split says where the time goes.
 *   7. Every unit passed, and the fleet has no finding.
 */
#include "prov_scale.h"
#include "service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "waybill/error.h"
#include "waybill/sim.h"
#include "waybill/verifier.h"

#define RACKS 250
#define BLADES 39          /* per rack: 250 x (1 + 39) = 10,000 units */
#define PARTS 1            /* per blade: its rot */
#define SEED 8
#define VERIFICATIONS_PER_UNIT 3

typedef struct {
    double elapsed, server_cpu, self_cpu, busy;
    wb_verifier_report rep;
} round_result;

static int run_round(round_result *r, const wb_verifier_options *o, const prov_server *srv)
{
    const char *target = "in-production";
    double t0 = prov_mono(), s0 = prov_proc_cpu(srv->pid), c0 = prov_self_cpu(),
           b0 = prov_machine_busy();
    int rc = wb_verifier_run(&r->rep, o, &target, 1);
    r->elapsed = prov_mono() - t0;
    r->server_cpu = prov_proc_cpu(srv->pid) - s0;
    r->self_cpu = prov_self_cpu() - c0;
    r->busy = prov_machine_busy() - b0;
    if (rc)
        fprintf(stderr, "waybill-bench: attestation round: %s\n", wb_error_message());
    return rc;
}

static void print_round(const char *what, const round_result *r, double ceiling)
{
    double rate = (double)r->rep.n / r->elapsed;
    printf("   %-34s %6zu units in %6.1f s = %7.1f units/s; x %d / ceiling = %.3f\n", what,
           r->rep.n, r->elapsed, rate, VERIFICATIONS_PER_UNIT,
           rate * VERIFICATIONS_PER_UNIT / ceiling);
    printf("   %-34s passed %zu, failed %zu; CPU: server %.2f cores, devices + verifier "
           "%.2f, rest %.2f\n", "", r->rep.pass, r->rep.fail, r->server_cpu / r->elapsed,
           r->self_cpu / r->elapsed,
           r->busy >= 0 ? (r->busy - r->server_cpu - r->self_cpu) / r->elapsed : 0.0);
}

int bench_attest(const char *waybill, const char *base)
{
    prov_server srv;
    wb_sim_options so;
    wb_sim_report rep;
    wb_sim_devices_options dopt;
    wb_sim_devices *devs = NULL;
    wb_verifier_options vo;
    round_result warm, dry, periodic;
    char dir[4200], fleet[4300], admin[4400], keyfile[4500], durl[64];
    wb_key *dc = NULL;
    double ceiling, t0;
    int threads, rc = 1;
    char *body = NULL;
    size_t blen;

    memset(&warm, 0, sizeof(warm));
    memset(&dry, 0, sizeof(dry));
    memset(&periodic, 0, sizeof(periodic));
    memset(&rep, 0, sizeof(rep));
    printf("\n8. Attestation: %d units challenged through the server\n",
           RACKS * (1 + BLADES));
    ceiling = bench_verify_ceiling(WB_ALG_ES384, 2.0, 64, &threads);
    if (ceiling <= 0)
        return 1;
    printf("   P-384 verification ceiling (the same run): %.0f verifications/s on %d "
           "threads\n", ceiling, threads);
    snprintf(dir, sizeof(dir), "%s/attest-server", base);
    snprintf(fleet, sizeof(fleet), "%s/attest-fleet", base);
    if (prov_server_start(&srv, waybill, dir) != 0)
        return 1;
    snprintf(admin, sizeof(admin), "%s/admin.key", srv.dir);
    wb_sim_options_init(&so);
    so.url = srv.url;
    so.admin_key_file = admin;
    so.dir = fleet;
    so.racks = RACKS;
    so.blades = BLADES;
    so.parts = PARTS;
    so.seed = SEED;
    so.workers = 32;
    t0 = prov_mono();
    if (wb_sim_run(&rep, &so) != 0) {
        fprintf(stderr, "waybill-bench: sim: %s\n", wb_error_message());
        prov_server_show_log(&srv);
        goto out;
    }
    printf("   set-up (not in the rates): %zu devices to production in %.1f s "
           "(identities %.1f s)\n", rep.devices, prov_mono() - t0, rep.keygen_s);
    wb_sim_devices_options_init(&dopt);
    dopt.dir = fleet;
    if (wb_sim_devices_start(&devs, &dopt) != 0) {
        fprintf(stderr, "waybill-bench: sim devices: %s\n", wb_error_message());
        goto out;
    }
    snprintf(durl, sizeof(durl), "http://127.0.0.1:%u", (unsigned)wb_sim_devices_port(devs));
    snprintf(keyfile, sizeof(keyfile), "%s/keys/%s.key", fleet, WB_SIM_DATACENTER);
    if (wb_key_read_file(&dc, keyfile) != 0) {
        fprintf(stderr, "waybill-bench: %s\n", wb_error_message());
        goto out;
    }
    wb_verifier_options_init(&vo);
    vo.ledger_url = srv.url;
    vo.devices_url = durl;
    vo.site = rep.site;
    vo.issuer = WB_SIM_DATACENTER;
    vo.key = dc;
    vo.phase = WB_PHASE_PERIODIC;
    vo.timeout_ms = 30000;
    vo.dry_run = 1;
    if (run_round(&warm, &vo, &srv) != 0 || run_round(&dry, &vo, &srv) != 0)
        goto out;
    vo.dry_run = 0;
    if (run_round(&periodic, &vo, &srv) != 0)
        goto out;
    print_round("warm-up (alias keys made), dry run", &warm, ceiling);
    print_round("dry run (checked, nothing written)", &dry, ceiling);
    print_round("periodic round (registered)", &periodic, ceiling);
    printf("   verifications per unit: %d P-384 (alias certificate, identity certificate, "
           "evidence)\n", VERIFICATIONS_PER_UNIT);
    printf("   one unit: %.2f ms of wall time, %.2f ms of CPU (server %.2f)\n",
           periodic.elapsed * 1000.0 / (double)periodic.rep.n,
           (periodic.server_cpu + periodic.self_cpu) * 1000.0 / (double)periodic.rep.n,
           periodic.server_cpu * 1000.0 / (double)periodic.rep.n);
    {
        long st = prov_get(&body, &blen, srv.url, "/fleet");
        json_t *f = st == 200 ? json_loadb(body, blen, 0, NULL) : NULL;
        long long open = f ? (long long)json_integer_value(json_object_get(f, "open_findings"))
                           : -1;
        int clean = periodic.rep.fail == 0 && dry.rep.fail == 0 && open == 0 &&
                    periodic.rep.n == (size_t)(RACKS * (1 + BLADES));
        printf("   %s: %zu of %zu units passed every round, %lld open findings\n",
               clean ? "clean" : "NOT CLEAN", periodic.rep.pass, periodic.rep.n, open);
        json_decref(f);
        rc = clean ? 0 : 1;
    }
out:
    free(body);
    wb_verifier_report_cleanup(&warm.rep);
    wb_verifier_report_cleanup(&dry.rep);
    wb_verifier_report_cleanup(&periodic.rep);
    wb_sim_devices_stop(devs);
    wb_key_free(dc);
    wb_sim_report_cleanup(&rep);
    prov_server_stop(&srv);
    return rc;
}
