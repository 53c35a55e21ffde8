/*
 * sim_devices.c: `waybill sim devices`: play the attesting units (blades
 * and racks) of a simulated fleet on one HTTP listener, each answering a
 * verifier's challenge with evidence signed by its own alias key, some
 * with a fault on purpose (waybill/sim.h, docs/attestation.md "The device
 * side").
 */
#include "cli.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "waybill/error.h"
#include "waybill/sim.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_sim_devices = {
    .group = "sim",
    .name = "devices",
    .summary = "play a simulated fleet's devices: answer attestation challenges",
    .usage =
        "usage: waybill sim devices --dir DIR [--listen ADDR:PORT] [--port-file F]\n"
        "                           [--fault ID=MODE]... [--alias-alg es384|es256|ed25519]\n"
        "                           [--threads N]\n"
        "\n"
        "Plays every blade and rack of the fleet that `waybill sim --dir DIR` wrote\n"
        "(DIR/attest/devices.json) on one HTTP listener, until SIGINT or SIGTERM,\n"
        "and prints its URL. Each unit answers a challenge with evidence signed by\n"
        "a fresh alias key that its identity key certifies (docs/attestation.md):\n"
        "\n"
        "  POST /devices/{id}/challenge  body: the nonce, 16 to 64 raw bytes\n"
        "                                (application/octet-stream)\n"
        "                                -> 200 application/cose evidence\n"
        "  GET  /devices                 -> JSON: every unit and its fault\n"
        "  GET  /devices/{id}            -> JSON: that unit\n"
        "  POST /devices/{id}/fault      body: a mode name (text/plain) -> 204\n"
        "\n"
        "  --listen A:P      address and port (default 127.0.0.1:0: a free port)\n"
        "  --port-file F     write the port to F once listening (for scripts)\n"
        "  --fault ID=MODE   unit ID starts with a fault; repeatable. Modes:\n"
        "                      swap      its first slot reports a manifested spare\n"
        "                      clone     its first slot reports another unit's part\n"
        "                      unknown   its first slot reports an identity nobody\n"
        "                                manifested\n"
        "                      rogue-fw  its first measurement is an image nobody\n"
        "                                released (blades)\n"
        "                      stale     replays its last answer (or one an hour old)\n"
        "                      bad-sig   a byte of its signature flipped\n"
        "                      impostor  signed under a CA the ledger never registered\n"
        "                      offline   closes the connection without an answer\n"
        "                      none      answers truly\n"
        "  --alias-alg A     the alias keys' algorithm (default es384)\n"
        "  --threads N       HTTP threads (default: one per core)\n"
        "\n"
        "exit codes: 0 stopped by a signal, 2 usage, 3 bad devices.json or fault,\n"
        "            4 missing files, unknown unit or cannot listen, 5 internal failure\n",
    .run = run,
};


/* "ID=MODE" */
static int apply_fault(wb_sim_devices *d, const char *spec)
{
    const char *eq = strchr(spec, '=');
    char id[128];
    wb_sim_fault f = WB_SIM_FAULT_NONE;
    int rc;
    if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof(id))
        return wb_error_set(WB_E_INVALID, "--fault '%.80s': want ID=MODE", spec);
    memcpy(id, spec, (size_t)(eq - spec));
    id[eq - spec] = '\0';
    if ((rc = wb_sim_fault_parse(&f, eq + 1)) != 0 ||
        (rc = wb_sim_devices_set_fault(d, id, f)) != 0)
        return wb_error_prefix(rc, "--fault %.80s", spec);
    return 0;
}

static int parse_alg(wb_alg *out, const char *s)
{
    if (strcasecmp(s, "es384") == 0)
        *out = WB_ALG_ES384;
    else if (strcasecmp(s, "es256") == 0)
        *out = WB_ALG_ES256;
    else if (strcasecmp(s, "ed25519") == 0 || strcasecmp(s, "eddsa") == 0)
        *out = WB_ALG_ED25519;
    else
        return -1;
    return 0;
}

static int run(int argc, char **argv)
{
    const char *dir = NULL, *listen = NULL, *port_file = NULL, *threads = NULL, *alg = NULL;
    cli_opt opts[] = {{"--dir", &dir},
                      {"--listen", &listen},
                      {"--port-file", &port_file},
                      {"--threads", &threads},
                      {"--alias-alg", &alg}};
    char **args = calloc((size_t)argc + 1, sizeof(*args)), *pos[1];
    const char **faults = calloc((size_t)argc + 1, sizeof(*faults));
    int nargs = 0, nfaults = 0, rc, sig = 0;
    unsigned long long nthreads = 0;
    wb_sim_devices_options o;
    wb_sim_devices *d = NULL;
    cli_args a;
    sigset_t set;

    if (!args || !faults) {
        free(args);
        free(faults);
        return cli_fail("sim devices", wb_error_set(WB_E_NOMEM, "out of memory"));
    }
    /* --fault repeats: collect every one, hand the rest to the parser */
    for (int i = 0; i < argc; i++) {
        if (i > 0 && strcmp(argv[i], "--fault") == 0) {
            if (i + 1 >= argc) {
                free(args);
                free(faults);
                return cli_usage_error(&wb_cmd_sim_devices, "option --fault needs a value");
            }
            faults[nfaults++] = argv[++i];
        }
        else if (i > 0 && strncmp(argv[i], "--fault=", 8) == 0)
            faults[nfaults++] = argv[i] + 8;
        else
            args[nargs++] = argv[i];
    }
    wb_sim_devices_options_init(&o);
    rc = cli_parse(&wb_cmd_sim_devices, nargs, args, opts, sizeof(opts) / sizeof(opts[0]), &a,
                   pos, 0);
    free(args);
    if (rc == 0 && !dir)
        rc = cli_usage_error(&wb_cmd_sim_devices, "--dir is required");
    if (rc == 0 && threads)
        rc = cli_parse_u64(&wb_cmd_sim_devices, "--threads", threads, &nthreads);
    if (rc == 0 && nthreads > 1024)
        rc = cli_usage_error(&wb_cmd_sim_devices, "--threads %llu is too many", nthreads);
    if (rc == 0 && alg && parse_alg(&o.alias_alg, alg) != 0)
        rc = cli_usage_error(&wb_cmd_sim_devices, "--alias-alg '%s': want es384, es256 or "
                             "ed25519", alg);
    if (rc) {
        free(faults);
        return rc < 0 ? 0 : rc;
    }
    o.dir = dir;
    if (listen)
        o.listen = listen;
    o.threads = (unsigned)nthreads;

    /* signals are taken by this thread; blocked before the HTTP threads start */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    rc = wb_sim_devices_start(&d, &o);
    for (int i = 0; rc == 0 && i < nfaults; i++)
        rc = apply_fault(d, faults[i]);
    free(faults);
    if (rc == 0 && port_file)
        rc = cli_write_port_file(port_file, wb_sim_devices_port(d));
    if (rc) {
        wb_sim_devices_stop(d);
        return cli_fail("sim devices", rc);
    }
    {
        const char *colon = strrchr(o.listen, ':');
        int hl = (int)(colon ? (size_t)(colon - o.listen) : strlen(o.listen));
        printf("http://%.*s:%u\n", hl, o.listen, wb_sim_devices_port(d));
        fflush(stdout);
        fprintf(stderr, "waybill sim devices: %zu units of %s listening on http://%.*s:%u\n",
                wb_sim_devices_count(d), dir, hl, o.listen, wb_sim_devices_port(d));
    }
    sigwait(&set, &sig);
    wb_sim_devices_stop(d);
    fprintf(stderr, "waybill sim devices: stopped (signal %d)\n", sig);
    return WB_EXIT_OK;
}
