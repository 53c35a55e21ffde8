/*
 * attest.c: `waybill attest TARGET...`: challenge every root of trust of
 * the targets (racks, blades, devices, or "in-production") with fresh
 * nonces, check the answers against the ledger and register one
 * attestation statement per unit (waybill/verifier.h, docs/attestation.md).
 * Also the options `waybill intake` shares (cli_verifier_setup).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "waybill/error.h"
#include "waybill/verifier.h"

static int run(int argc, char **argv);

#define VERIFIER_OPTIONS                                                                  \
    "  --url URL         the waybill service (the ledger)\n"                              \
    "  --devices URL     where the devices answer challenges (POST\n"                     \
    "                    URL/devices/ID/challenge, e.g. `waybill sim devices`)\n"         \
    "  --tpm ID=TCTI     device ID is a TPM 2.0 reached through TCTI\n"                   \
    "                    (e.g. swtpm:host=127.0.0.1,port=2321)\n"                         \
    "  --site SITE       the datacenter site the statements name\n"                       \
    "  --issuer NAME     the datacenter's issuer name in the ledger\n"                    \
    "  --key FILE        the datacenter's private signing key (PEM)\n"                    \
    "  --threads N       challenges in flight (default 4 per core)\n"                     \
    "  --timeout-ms N    per challenge (default 5000)\n"                                  \
    "  --max-age S       older evidence is stale (default 300)\n"                         \
    "  --dry-run         check and report, register nothing\n"                            \
    "  --json            print the report as JSON\n"

const wb_cli_cmd wb_cmd_attest = {
    .group = NULL,
    .name = "attest",
    .summary = "challenge roots of trust and record attestations in the ledger",
    .usage =
        "usage: waybill attest TARGET... --url URL --devices URL --site SITE\n"
        "                      --issuer NAME --key FILE [--phase PHASE] [options]\n"
        "\n"
        "TARGET is a device id (a rack: the rack and each blade in it; a blade; a\n"
        "stand-alone root of trust) or in-production (every unit in production).\n"
        "Each unit gets a fresh random nonce; its answer must be signed by an\n"
        "attestation key certified by its identity, chaining to a CA of the supplier\n"
        "that manifested it, with that nonce, recent. What it reports (the parts in\n"
        "its slots, its firmware measurements) is checked by the ledger's rules; the\n"
        "verdict and the reasons go into one attestation statement per unit, and the\n"
        "service raises the findings (docs/anomalies.md). A rack is attested after its\n"
        "blades; with --phase pre-production it enters production only once every\n"
        "blade in it has passed.\n"
        "\n"
        "options:\n"
        "  --phase PHASE     arrival, pre-production or periodic (default periodic)\n"
        VERIFIER_OPTIONS
        "\n"
        "exit codes: 0 every unit passed, 1 a unit failed, 2 usage, 3 refused by the\n"
        "            service, 4 unknown target or unreachable service, 5 internal\n",
    .run = run,
};

typedef struct {
    int tty;
    size_t last;
} progress_ctx;

static void progress(void *vctx, size_t done, size_t total)
{
    progress_ctx *c = vctx;
    if (!c->tty || (done == c->last && done != total))
        return;
    c->last = done;
    fprintf(stderr, "\r  attesting %zu / %zu units", done, total);
    if (done == total)
        fprintf(stderr, "\n");
}

int cli_verifier_setup(cli_verifier *v, const wb_cli_cmd *cmd)
{
    unsigned long long n;
    int rc;
    wb_verifier_options_init(&v->o);
    if (!v->url || !v->site)
        return cli_usage_error(cmd, "--url URL and --site SITE are required");
    if (!v->dry_run && (!v->issuer || !v->key_file))
        return cli_usage_error(cmd, "--issuer NAME and --key FILE are required (or "
                                    "--dry-run)");
    if (!v->devices && !v->tpm)
        return cli_usage_error(cmd, "--devices URL or --tpm ID=TCTI is required");
    v->o.ledger_url = v->url;
    v->o.devices_url = v->devices;
    v->o.site = v->site;
    v->o.issuer = v->issuer;
    v->o.dry_run = v->dry_run;
    if (v->threads) {
        if ((rc = cli_parse_u64(cmd, "--threads", v->threads, &n)) != 0)
            return rc;
        if (n == 0 || n > 1024)
            return cli_usage_error(cmd, "--threads %s: 1 to 1024", v->threads);
        v->o.threads = (unsigned)n;
    }
    if (v->timeout) {
        if ((rc = cli_parse_u64(cmd, "--timeout-ms", v->timeout, &n)) != 0)
            return rc;
        if (n < 10 || n > 600000)
            return cli_usage_error(cmd, "--timeout-ms %s: 10 to 600000", v->timeout);
        v->o.timeout_ms = (unsigned)n;
    }
    if (v->max_age) {
        if ((rc = cli_parse_u64(cmd, "--max-age", v->max_age, &n)) != 0)
            return rc;
        if (n == 0 || n > 86400)
            return cli_usage_error(cmd, "--max-age %s: 1 to 86400 seconds", v->max_age);
        v->o.max_age_s = (int64_t)n;
    }
    if (v->tpm) {
        const char *eq = strchr(v->tpm, '=');
        if (!eq || eq - v->tpm != WB_DEVICE_ID_HEX || strlen(eq + 1) == 0 ||
            strlen(eq + 1) >= sizeof(v->tpm_one.tcti))
            return cli_usage_error(cmd, "--tpm %s: expected DEVICE-ID=TCTI", v->tpm);
        memcpy(v->tpm_one.id, v->tpm, WB_DEVICE_ID_HEX);
        v->tpm_one.id[WB_DEVICE_ID_HEX] = '\0';
        snprintf(v->tpm_one.tcti, sizeof(v->tpm_one.tcti), "%s", eq + 1);
        v->o.tpms = &v->tpm_one;
        v->o.ntpms = 1;
    }
    if (v->key_file && (rc = wb_key_read_file(&v->key, v->key_file)) != 0)
        return cli_fail(cmd->name, rc);
    if (v->key && !wb_key_is_private(v->key)) {
        fprintf(stderr, "waybill %s: %s is a public key; the datacenter's private key "
                        "signs the attestations\n", cmd->name, v->key_file);
        return WB_EXIT_INPUT;
    }
    v->o.key = v->key;
    return 0;
}

void cli_verifier_cleanup(cli_verifier *v)
{
    wb_key_free(v->key);
    v->key = NULL;
}

void cli_verifier_print(const wb_verifier_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        const wb_verifier_result *x = &r->results[i];
        printf("%s %-6s %-14s %.16s...%s%s\n", x->verdict == WB_VERDICT_PASS ? "PASS" : "FAIL",
               x->cls, x->serial, x->id, x->entry[0] ? "  entry " : "",
               x->entry[0] ? x->entry : "");
        if (x->verdict != WB_VERDICT_PASS) {
            if (x->nfindings)
                printf("     findings: %s\n", x->findings);
            printf("     %s\n", x->reason);
        }
    }
    printf("%zu units: %zu passed, %zu failed (%zu unreachable) in %.2f s\n", r->n, r->pass,
           r->fail, r->unreachable, r->elapsed_s);
}

static int run(int argc, char **argv)
{
    cli_verifier v;
    const char *phase = NULL;
    cli_opt opts[] = {{"--url", &v.url},         {"--devices", &v.devices},
                      {"--tpm", &v.tpm},         {"--site", &v.site},
                      {"--issuer", &v.issuer},   {"--key", &v.key_file},
                      {"--threads", &v.threads}, {"--timeout-ms", &v.timeout},
                      {"--max-age", &v.max_age}, {"--phase", &phase}};
    char *pos[64];
    cli_args a;
    wb_verifier_report rep;
    progress_ctx pc = {isatty(2), (size_t)-1};
    int rc;

    memset(&v, 0, sizeof(v));
    v.dry_run = cli_take_flag(&argc, argv, "--dry-run");
    rc = cli_parse(&wb_cmd_attest, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &a, pos,
                   64);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos < 1)
        return cli_usage_error(&wb_cmd_attest, "expected at least one TARGET");
    if ((rc = cli_verifier_setup(&v, &wb_cmd_attest)) != 0)
        return rc;
    if (phase) {
        if (strcmp(phase, "arrival") == 0)
            v.o.phase = WB_PHASE_ARRIVAL;
        else if (strcmp(phase, "pre-production") == 0)
            v.o.phase = WB_PHASE_PREPRODUCTION;
        else if (strcmp(phase, "periodic") == 0)
            v.o.phase = WB_PHASE_PERIODIC;
        else {
            cli_verifier_cleanup(&v);
            return cli_usage_error(&wb_cmd_attest, "--phase %s: arrival, pre-production or "
                                                   "periodic", phase);
        }
    }
    v.o.progress = progress;
    v.o.progress_ctx = &pc;
    rc = wb_verifier_run(&rep, &v.o, (const char *const *)a.pos, (size_t)a.npos);
    cli_verifier_cleanup(&v);
    if (rc)
        return cli_fail("attest", rc);
    if (a.json) {
        char *text;
        if (wb_verifier_report_json(&text, &rep) == 0) {
            printf("%s\n", text);
            free(text);
        }
    } else {
        cli_verifier_print(&rep);
    }
    rc = rep.fail ? WB_EXIT_VERIFY : WB_EXIT_OK;
    wb_verifier_report_cleanup(&rep);
    return rc;
}
