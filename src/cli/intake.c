/*
 * intake.c: `waybill intake SHIPMENT`: take a shipment in at a datacenter:
 * the custody check (shipped here, seals intact) and the arrival
 * attestation of everything in it, recorded as attestation statements and
 * one intake statement (waybill/verifier.h, docs/attestation.md).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "waybill/error.h"
#include "waybill/verifier.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_intake = {
    .group = NULL,
    .name = "intake",
    .summary = "take a shipment in: custody check and arrival attestation",
    .usage =
        "usage: waybill intake SHIPMENT --url URL --devices URL --site SITE\n"
        "                      --issuer NAME --key FILE --seals S1,S2,... [options]\n"
        "\n"
        "Reads what SHIPMENT carried from the ledger, attests every unit of it (phase\n"
        "arrival: each rack and blade answers a fresh challenge; one attestation\n"
        "statement each) and registers the intake statement: the seals the dock\n"
        "found intact, what each unit reported in its slots, and the verdict. The\n"
        "ledger's rules check custody (shipped to this site, seals as shipped, units\n"
        "as shipped) and every slot; whatever does not match is a finding.\n"
        "\n"
        "options:\n"
        "  --seals LIST      the seal ids found intact, comma-separated; --seals none\n"
        "                    if the shipment came unsealed or every seal was broken\n"
        "  --url, --devices, --tpm, --site, --issuer, --key, --threads, --timeout-ms,\n"
        "  --max-age, --dry-run, --json: as for `waybill attest`\n"
        "\n"
        "exit codes: 0 taken in, 1 the intake or an attestation failed, 2 usage,\n"
        "            3 refused by the service, 4 unknown shipment or unreachable\n"
        "            service, 5 internal\n",
    .run = run,
};

#define SEALS_MAX 64

static int run(int argc, char **argv)
{
    cli_verifier v;
    const char *seals_s = NULL;
    cli_opt opts[] = {{"--url", &v.url},         {"--devices", &v.devices},
                      {"--tpm", &v.tpm},         {"--site", &v.site},
                      {"--issuer", &v.issuer},   {"--key", &v.key_file},
                      {"--threads", &v.threads}, {"--timeout-ms", &v.timeout},
                      {"--max-age", &v.max_age}, {"--seals", &seals_s}};
    char *pos[1], *seals[SEALS_MAX], *copy = NULL;
    size_t nseals = 0;
    cli_args a;
    wb_intake_report rep;
    int rc;

    memset(&v, 0, sizeof(v));
    v.dry_run = cli_take_flag(&argc, argv, "--dry-run");
    rc = cli_parse(&wb_cmd_intake, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &a, pos,
                   1);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos != 1)
        return cli_usage_error(&wb_cmd_intake, "expected one SHIPMENT");
    if (!seals_s)
        return cli_usage_error(&wb_cmd_intake, "--seals LIST is required: the seals found "
                                               "intact, or none");
    if (strcmp(seals_s, "none") != 0) {
        char *save = NULL, *tok;
        copy = strdup(seals_s);
        if (!copy)
            return cli_fail("intake", wb_error_set(WB_E_NOMEM, "out of memory"));
        for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (nseals == SEALS_MAX) {
                free(copy);
                return cli_usage_error(&wb_cmd_intake, "--seals: more than %d seals",
                                       SEALS_MAX);
            }
            seals[nseals++] = tok;
        }
    }
    if ((rc = cli_verifier_setup(&v, &wb_cmd_intake)) != 0) {
        free(copy);
        return rc;
    }
    rc = wb_intake_run(&rep, &v.o, a.pos[0], seals, nseals);
    cli_verifier_cleanup(&v);
    free(copy);
    if (rc)
        return cli_fail("intake", rc);
    if (a.json) {
        json_t *o = json_object();
        char *text = NULL;
        if (o && wb_verifier_report_json(&text, &rep.attest) == 0) {
            json_t *att = json_loads(text, 0, NULL);
            json_object_set_new(o, "shipment", json_string(a.pos[0]));
            json_object_set_new(o, "verdict",
                                json_string(rep.verdict == WB_VERDICT_PASS ? "pass" : "fail"));
            json_object_set_new(o, "reason", json_string(rep.reason));
            json_object_set_new(o, "rules", json_string(rep.findings));
            json_object_set_new(o, "entry_id", json_string(rep.entry));
            json_object_set_new(o, "attestations", att ? att : json_null());
            cli_print_json(o);
        }
        free(text);
    } else {
        cli_verifier_print(&rep.attest);
        printf("intake of %s: %s%s%s\n", a.pos[0],
               rep.verdict == WB_VERDICT_PASS ? "PASS" : "FAIL",
               rep.entry[0] ? ", entry " : "", rep.entry);
        if (rep.nfindings)
            printf("     findings: %s\n     %s\n", rep.findings, rep.reason);
        else if (rep.verdict != WB_VERDICT_PASS)
            printf("     %s\n", rep.reason);
    }
    rc = rep.verdict == WB_VERDICT_PASS ? WB_EXIT_OK : WB_EXIT_VERIFY;
    wb_intake_report_cleanup(&rep);
    return rc;
}
