/*
 * sim.c: `waybill sim`: generate a fleet with its own keys and certificates
 * and play its journey from the factory to production through a running
 * service, injecting anomalies on request (waybill/sim.h).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "waybill/error.h"
#include "waybill/sim.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_sim = {
    .group = NULL,
    .name = "sim",
    .summary = "simulate a fleet's journey from factory to production",
    .usage =
        "usage: waybill sim --url URL --admin-key KEY --dir DIR [--racks N] [--blades N]\n"
        "                   [--parts N] [--seed S] [--inject LIST] [--until all|received]\n"
        "                   [--workers N] [--json]\n"
        "\n"
        "Makes a fleet with its own keys and certificates: five suppliers (platform\n"
        "RoT, TPM, BMC, NIC, SSD), each with a P-384 device identity CA and a P-384\n"
        "RoT identity per part; an integrator with blades and racks; a carrier; a\n"
        "datacenter with site AMS-1; a firmware vendor and a security reviewer. The\n"
        "operator admin key KEY registers every party at the service at URL; then\n"
        "the parties register the journey: manifests, firmware releases and\n"
        "reviews, blade and rack assemblies, shipments with seals, the intake at the\n"
        "site, arrival and pre-production attestations. A clean run raises no finding.\n"
        "\n"
        "  --racks N      racks (default 2)\n"
        "  --blades N     blades per rack, at most 255 (default 4)\n"
        "  --parts N      parts per blade, at most 256 (default 6): rot, tpm, bmc,\n"
        "                 then NICs and SSDs\n"
        "  --seed S       shapes the fleet, the victims of injections, serials and\n"
        "                 nonces (default 1); keys are always fresh\n"
        "  --inject LIST  comma-separated anomalies, each on its own blade or\n"
        "                 shipment, or 'all':\n"
        "                   swap            a part replaced by a spare without a\n"
        "                                   replacement statement (seen at intake)\n"
        "                   clone           a blade's RoT presents another blade's RoT\n"
        "                                   identity (arrival attestation)\n"
        "                   unknown         a part no supplier manifested (intake)\n"
        "                   custody-gap     a rack received under a shipment never\n"
        "                                   shipped\n"
        "                   seal-mismatch   a seal replaced in transit (intake)\n"
        "                   revoked-fw      firmware revoked by its vendor, then measured\n"
        "                   unreleased-fw   firmware nobody released, measured\n"
        "                   vulnerable-fw   firmware whose review has a CVSS 9.8 issue\n"
        "                   unreviewed-fw   firmware released without a review\n"
        "                   revoked-device  a part revoked by its supplier, then seen\n"
        "                   attest-fail     an attestation fails with nothing else wrong\n"
        "                   overdue         a blade's last attestation is 7 days old\n"
        "                                   (found by the service's periodic scan)\n"
        "  --site SITE    the datacenter's site (default AMS-1); with --datacenter,\n"
        "                 a second run puts a second site's fleet in the same ledger\n"
        "  --datacenter NAME  the datacenter's issuer name (default ams1-operations)\n"
        "  --until STOP   all (default): the whole journey, to production;\n"
        "                 received: stop after the carrier's receipt of every\n"
        "                 shipment, leaving the intake and the attestations to\n"
        "                 `waybill intake` and `waybill attest` against\n"
        "                 `waybill sim devices`; only custody-gap can be injected\n"
        "  --workers N    statements in flight (default 16)\n"
        "  --json         print the report as JSON\n"
        "\n"
        "DIR receives the parties' keys (keys/), their CAs (cas/), the device\n"
        "certificates (devices/<maker>.pem), devices.tsv, attest/devices.json (what\n"
        "every blade and rack holds and reports, with its identity private key:\n"
        "mode 0600, for `waybill sim devices`) and report.json: the shipments, what\n"
        "was injected where, and which findings, with which evidence entries, the\n"
        "rules must raise. Progress goes to stderr on a terminal.\n"
        "\n"
        "exit codes: 0 done, 2 usage, 3 a statement was refused (the reason is\n"
        "            printed), 4 the service cannot be reached or a file cannot be\n"
        "            written, 5 internal failure\n",
    .run = run,
};

typedef struct {
    int tty;
    char phase[32];
} progress_ctx;

static void progress(void *vctx, const char *phase, size_t done, size_t total)
{
    progress_ctx *c = vctx;
    if (!c->tty)
        return;
    if (strcmp(c->phase, phase) != 0) {
        if (c->phase[0])
            fprintf(stderr, "\n");
        snprintf(c->phase, sizeof(c->phase), "%s", phase);
    }
    fprintf(stderr, "\r  %-20s %zu / %zu", phase, done, total);
}

static int parse_uint(const char *what, const char *s, unsigned *out)
{
    unsigned long long v;
    int rc = cli_parse_u64(&wb_cmd_sim, what, s, &v);
    if (rc)
        return rc;
    if (v > 1000000u)
        return cli_usage_error(&wb_cmd_sim, "%s %s is too large", what, s);
    *out = (unsigned)v;
    return 0;
}

static void print_text(const wb_sim_report *r, const wb_sim_options *o)
{
    printf("fleet: %u racks x %u blades x %u parts at %s (run %s, seed %llu)\n", r->racks,
           r->blades, r->parts, r->site, r->run, (unsigned long long)r->seed);
    printf("devices: %zu manifested (%zu racks, %zu blades, %zu parts, %zu spares)\n",
           r->devices, r->by_class[WB_CLASS_RACK], r->by_class[WB_CLASS_BLADE],
           r->devices - r->by_class[WB_CLASS_RACK] - r->by_class[WB_CLASS_BLADE] - r->spares,
           r->spares);
    printf("statements: %zu registered in %.1f s (%.0f/s); identities made in %.1f s; "
           "%.1f s in all\n", r->statements, r->register_s,
           r->register_s > 0 ? (double)r->statements / r->register_s : 0.0, r->keygen_s,
           r->elapsed_s);
    printf("  by kind:");
    for (int k = 1; k < WB_KIND_COUNT; k++)
        if (r->by_kind[k])
            printf(" %s %zu", wb_kind_name((wb_kind)k), r->by_kind[k]);
    printf("\n  expected states:");
    for (int s = 0; s < WB_SIM_STATE_COUNT; s++)
        if (r->by_state[s])
            printf(" %s %zu", wb_sim_state_name((wb_sim_state)s), r->by_state[s]);
    printf("\n");
    if (r->ninjections == 0)
        printf("injected: nothing; the service should raise no finding\n");
    for (size_t i = 0; i < r->ninjections; i++) {
        const wb_sim_injection *in = &r->injections[i];
        printf("injected %s: %s\n", wb_sim_inject_name(in->kind), in->what);
        printf("  trigger entry %s\n", in->trigger);
        for (size_t k = 0; k < in->nexpect; k++) {
            const wb_sim_expect *e = &in->expect[k];
            printf("  expect %s/%s", e->rule, wb_tag_name(e->tag));
            if (e->device[0])
                printf(" on %.16s", e->device);
            printf(", evidence");
            for (size_t m = 0; m < e->nevidence; m++)
                printf(" %.16s", e->evidence[m]);
            printf("\n");
        }
    }
    if (r->until == WB_SIM_UNTIL_RECEIVED) {
        printf("stopped after the receipt: %zu shipment%s to take in at %s\n", r->nshipments,
               r->nshipments == 1 ? "" : "s", r->site);
        for (size_t i = 0; i < r->nshipments; i++)
            printf("  %s: %zu units, seals %s %s%s\n", r->shipments[i].id,
                   r->shipments[i].nunits, r->shipments[i].seals[0], r->shipments[i].seals[1],
                   r->shipments[i].shipped ? "" : " (never shipped)");
        printf("devices: %s/attest/devices.json (waybill sim devices --dir %s)\n", o->dir,
               o->dir);
    }
    printf("report: %s/report.json\n", o->dir);
    printf("explore:\n  waybill fleet --url %s\n  waybill findings --url %s\n"
           "  waybill device tree %s --url %s\n  waybill device show %s --url %s\n",
           o->url, o->url, r->sample_rack, o->url, r->sample_blade, o->url);
}

static int run(int argc, char **argv)
{
    const char *url = NULL, *admin = NULL, *dir = NULL, *racks = NULL, *blades = NULL,
               *parts = NULL, *seed = NULL, *inject = NULL, *workers = NULL, *until = NULL,
               *site = NULL, *datacenter = NULL;
    cli_opt opts[] = {{"--url", &url},         {"--admin-key", &admin}, {"--dir", &dir},
                      {"--racks", &racks},     {"--blades", &blades},   {"--parts", &parts},
                      {"--seed", &seed},       {"--inject", &inject},   {"--workers", &workers},
                      {"--until", &until},     {"--site", &site},       {"--datacenter", &datacenter}};
    progress_ctx pc = {isatty(2), ""};
    char *pos[1];
    cli_args a;
    wb_sim_options o;
    wb_sim_report r;
    int rc;

    rc = cli_parse(&wb_cmd_sim, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &a, pos, 0);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos != 0)
        return cli_usage_error(&wb_cmd_sim, "unexpected argument '%s'", a.pos[0]);
    if (!url || !admin || !dir)
        return cli_usage_error(&wb_cmd_sim, "--url, --admin-key and --dir are required");
    wb_sim_options_init(&o);
    o.url = url;
    o.admin_key_file = admin;
    o.dir = dir;
    if (site)
        o.site = site;
    if (datacenter)
        o.datacenter = datacenter;
    if ((racks && (rc = parse_uint("--racks", racks, &o.racks)) != 0) ||
        (blades && (rc = parse_uint("--blades", blades, &o.blades)) != 0) ||
        (parts && (rc = parse_uint("--parts", parts, &o.parts)) != 0) ||
        (workers && (rc = parse_uint("--workers", workers, &o.workers)) != 0))
        return rc;
    if (seed) {
        unsigned long long v;
        if ((rc = cli_parse_u64(&wb_cmd_sim, "--seed", seed, &v)) != 0)
            return rc;
        o.seed = v;
    }
    if (inject && wb_sim_inject_parse(&o.inject, inject) != 0)
        return cli_usage_error(&wb_cmd_sim, "--inject: %s", wb_error_message());
    if (until && wb_sim_until_parse(&o.until, until) != 0)
        return cli_usage_error(&wb_cmd_sim, "--until: %s", wb_error_message());
    if (o.workers == 0)
        return cli_usage_error(&wb_cmd_sim, "--workers must be at least 1");
    o.progress = progress;
    o.progress_ctx = &pc;
    if (pc.tty)
        fprintf(stderr, "waybill sim: %u racks x %u blades x %u parts -> %s\n", o.racks,
                o.blades, o.parts, url);
    rc = wb_sim_run(&r, &o);
    if (pc.tty && pc.phase[0])
        fprintf(stderr, "\n");
    if (rc)
        return cli_fail("sim", rc);
    if (a.json) {
        char *json = NULL;
        rc = wb_sim_report_json(&json, &r);
        if (rc == 0)
            printf("%s\n", json);
        free(json);
    } else {
        print_text(&r, &o);
    }
    wb_sim_report_cleanup(&r);
    return rc ? cli_fail("sim", rc) : WB_EXIT_OK;
}
