/*
 * sim_fault.c: `waybill sim fault`: set a fault on one unit of a running
 * `waybill sim devices` (POST /devices/{id}/fault), so that a demo or an
 * operator can swap a part "in service" between two attestation rounds.
 */
#include "cli.h"

#include <string.h>

#include "waybill/client.h"
#include "waybill/error.h"
#include "waybill/sim.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_sim_fault = {
    .group = "sim",
    .name = "fault",
    .summary = "set a simulated device's fault (swap, clone, rogue-fw, ...) while it runs",
    .usage =
        "usage: waybill sim fault --devices URL ID MODE\n"
        "\n"
        "Tells the simulated devices at URL (`waybill sim devices`) that unit ID\n"
        "answers its next challenges with fault MODE: swap, clone, unknown, rogue-fw,\n"
        "stale, bad-sig, impostor, offline, or none to answer truly again (see\n"
        "`waybill sim devices --help`).\n"
        "\n"
        "exit codes: 0 set, 2 usage, 3 mode refused, 4 unknown unit or unreachable\n",
    .run = run,
};

static int run(int argc, char **argv)
{
    const char *devices = NULL;
    cli_opt opts[] = {{"--devices", &devices}};
    char *pos[2], path[160], url[1024];
    cli_args a;
    wb_sim_fault f = WB_SIM_FAULT_NONE;
    wb_http_response resp;
    int rc = cli_parse(&wb_cmd_sim_fault, argc, argv, opts, 1, &a, pos, 2);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!devices || a.npos != 2)
        return cli_usage_error(&wb_cmd_sim_fault, "expected --devices URL, a unit ID and a "
                                                  "MODE");
    if (strlen(a.pos[0]) != WB_DEVICE_ID_HEX)
        return cli_usage_error(&wb_cmd_sim_fault, "%s: a unit id is 64 hex digits", a.pos[0]);
    if (wb_sim_fault_parse(&f, a.pos[1]) != 0)
        return cli_usage_error(&wb_cmd_sim_fault, "%s", wb_error_message());
    snprintf(path, sizeof(path), "/devices/%s/fault", a.pos[0]);
    if ((rc = wb_http_join(url, sizeof(url), devices, path)) != 0)
        return cli_fail("sim fault", rc);
    /* the simulated devices are not the ledger: no bearer token for them */
    rc = wb_http_request_anon(&resp, "POST", url, (const uint8_t *)a.pos[1],
                              strlen(a.pos[1]), "text/plain", NULL, 10);
    if (rc)
        return cli_fail("sim fault", rc);
    if (resp.status != 204) {
        rc = wb_error_set(resp.status == 404 ? WB_E_NOTFOUND : WB_E_INVALID,
                          "the devices answered %ld: %.200s", resp.status,
                          resp.body ? (const char *)resp.body : "");
        wb_http_response_cleanup(&resp);
        return cli_fail("sim fault", rc);
    }
    wb_http_response_cleanup(&resp);
    printf("unit %.16s...: %s\n", a.pos[0], wb_sim_fault_name(f));
    return 0;
}
