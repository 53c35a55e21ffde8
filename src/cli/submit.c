/*
 * submit.c: `waybill submit`: register a signed statement with a
 * transparency service over HTTP (SCITT SCRAPI, draft-ietf-scitt-scrapi-11
 * §2.1.2), wait for the receipt, and write the receipt and the transparent
 * statement (the registered statement with the receipt in header 394).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "waybill/client.h"
#include "waybill/cose.h"
#include "waybill/error.h"
#include "waybill/scitt.h"
#include "waybill/util.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_submit = {
    .group = NULL,
    .name = "submit",
    .summary = "register a signed statement with a service and get its receipt",
    .usage =
        "usage: waybill submit --url URL STATEMENT [--receipt FILE]\n"
        "                      [--transparent FILE] [--wait SECONDS] [--json]\n"
        "\n"
        "POSTs STATEMENT (a COSE_Sign1 from 'waybill sign') to URL/entries. The\n"
        "service answers with the receipt once the statement is durable in its log\n"
        "(201), or tells us to poll (202): submit then polls the entry until the\n"
        "receipt is there or --wait seconds passed. Submitting the same statement\n"
        "again returns the same entry.\n"
        "\n"
        "Writes the receipt (default STATEMENT.receipt) and the transparent\n"
        "statement (default STATEMENT.transparent), replacing older ones. Check\n"
        "either offline with 'waybill verify'.\n"
        "\n"
        "options:\n"
        "  --wait S   how long to wait for a pending registration (default 60)\n"
        "  --json     print {\"entry_id\", \"receipt\", \"transparent\", \"status\"}\n"
        "\n"
        "exit codes: 0 registered, 2 usage, 3 refused by the service (the reason is\n"
        "            printed), 4 a file is missing or the service cannot be reached,\n"
        "            5 the service failed (5xx, 429) or the registration is still pending\n",
    .run = run,
};

static void on_poll(void *ctx, const char *url)
{
    if (!*(int *)ctx)
        fprintf(stderr, "waybill submit: registration pending, polling %s\n", url);
}

static int run(int argc, char **argv)
{
    const char *url = NULL, *receipt_s = NULL, *ts_s = NULL, *wait_s = NULL;
    cli_opt opts[] = {{"--url", &url}, {"--receipt", &receipt_s},
                      {"--transparent", &ts_s}, {"--wait", &wait_s}};
    char *pos[1], rpath[4200], tpath[4200];
    cli_args a;
    uint8_t *stmt = NULL, *receipt = NULL, *reg = NULL, *ts = NULL;
    size_t slen = 0, rlen = 0, reglen = 0, tslen = 0;
    unsigned long long wait = 60;
    wb_register_result res;
    wb_cose_sign1 m;
    int rc, exit_code = 0, decoded = 0;
    long final_status = 0;

    memset(&res, 0, sizeof(res));
    rc = cli_parse(&wb_cmd_submit, argc, argv, opts, 4, &a, pos, 1);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!url || a.npos != 1)
        return cli_usage_error(&wb_cmd_submit, "expected --url URL and one STATEMENT file");
    if (wait_s && (rc = cli_parse_u64(&wb_cmd_submit, "--wait", wait_s, &wait)))
        return rc;
    snprintf(rpath, sizeof(rpath), "%s", receipt_s ? receipt_s : "");
    snprintf(tpath, sizeof(tpath), "%s", ts_s ? ts_s : "");
    if (!receipt_s)
        snprintf(rpath, sizeof(rpath), "%s.receipt", a.pos[0]);
    if (!ts_s)
        snprintf(tpath, sizeof(tpath), "%s.transparent", a.pos[0]);

    rc = wb_file_read(a.pos[0], WB_STATEMENT_MAX + 1, &stmt, &slen);
    if (rc == 0 && slen > WB_STATEMENT_MAX)
        rc = wb_error_set(WB_E_LIMIT, "%s is over the %d-byte statement limit", a.pos[0],
                          WB_STATEMENT_MAX);
    /* decode locally first: a malformed file is our problem, not the service's */
    if (rc == 0 && (rc = wb_cose_sign1_decode(&m, stmt, slen, WB_STATEMENT_MAX)) == 0)
        decoded = 1;
    if (rc)
        goto out;
    rc = wb_client_register(&res, url, stmt, slen, (unsigned)wait, on_poll, &a.json);
    if (rc) {
        if (res.status)
            exit_code = cli_fail("submit", rc);
        goto out;
    }
    final_status = res.status;
    receipt = res.receipt;
    rlen = res.receipt_len;
    res.receipt = NULL;
    /* the transparent statement: registered statement + receipt in 394 */
    rc = wb_scitt_registered_statement(&reg, &reglen, &m);
    if (rc == 0) {
        wb_cose_bytes rb = {receipt, rlen};
        rc = wb_scitt_transparent_statement(&ts, &tslen, reg, reglen, &rb, 1);
    }
    if (rc == 0)
        rc = wb_file_replace(rpath, receipt, rlen, 0644);
    if (rc == 0)
        rc = wb_file_replace(tpath, ts, tslen, 0644);
    if (rc == 0) {
        uint8_t id[32];
        char hex[65];
        wb_sha256(id, reg, reglen);
        wb_hex_encode(hex, id, 32);
        if (a.json) {
            json_t *o = json_object();
            json_object_set_new(o, "entry_id", json_string(hex));
            json_object_set_new(o, "status", json_integer(final_status));
            json_object_set_new(o, "receipt", json_string(rpath));
            json_object_set_new(o, "transparent", json_string(tpath));
            cli_print_json(o);
        } else {
            printf("registered: entry %s\nreceipt: %s\ntransparent statement: %s\n", hex,
                   rpath, tpath);
        }
    }
out:
    if (rc && !exit_code)
        exit_code = cli_fail("submit", rc);
    if (decoded)
        wb_cose_sign1_cleanup(&m);
    wb_register_result_cleanup(&res);
    free(stmt);
    free(receipt);
    free(reg);
    free(ts);
    return exit_code;
}
