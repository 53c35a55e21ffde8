/*
 * device_export.c: `waybill device export ID --url URL --out FILE`: the
 * device passport (docs/passport.md): one self-contained file that
 * `waybill verify --passport FILE` checks offline.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "waybill/client.h"
#include "waybill/error.h"
#include "waybill/passport.h"
#include "waybill/util.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_device_export = {
    .group = "device",
    .name = "export",
    .summary = "write a device passport, verifiable offline",
    .usage =
        "usage: waybill device export ID --url URL --out FILE [--json]\n"
        "\n"
        "Writes the passport of device ID: the transparent statements of every entry\n"
        "about the device, the racks and blades it is in, the firmware it was\n"
        "measured running and that firmware's reviews, and the governance entries of\n"
        "every issuer involved, each with a receipt against one signed checkpoint,\n"
        "plus the service's and the log's public keys. Check it anywhere with\n"
        "'waybill verify --passport FILE' (pin the keys with --service-key and\n"
        "--log-key). FILE is replaced if it exists.\n"
        "\n"
        "exit codes: 0 written, 2 usage, 4 unknown device, unreachable service or\n"
        "            unwritable file\n",
    .run = run,
};

static int run(int argc, char **argv)
{
    const char *url = NULL, *out = NULL;
    cli_opt opts[] = {{"--url", &url}, {"--out", &out}};
    char *pos[1], path[4200];
    cli_args a;
    wb_http_response r;
    json_t *report = NULL;
    int rc = cli_parse(&wb_cmd_device_export, argc, argv, opts, 2, &a, pos, 1);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!url || !out || a.npos != 1)
        return cli_usage_error(&wb_cmd_device_export, "expected ID, --url URL and --out FILE");
    snprintf(path, sizeof(path), "/devices/%.64s/passport", a.pos[0]);
    {
        char full[4400];
        rc = wb_http_join(full, sizeof(full), url, path);
        if (rc == 0)
            rc = wb_http_request(&r, "GET", full, NULL, 0, NULL, "application/cbor", 120);
    }
    if (rc)
        return cli_fail("device export", rc);
    if (r.status != 200) {
        char title[256], detail[1024];
        wb_http_problem(&r, title, sizeof(title), detail, sizeof(detail));
        rc = wb_error_set(r.status == 404 ? WB_E_NOTFOUND : WB_E_INTERNAL, "HTTP %ld %s: %s",
                          r.status, title, detail);
        wb_http_response_cleanup(&r);
        return cli_fail("device export", rc);
    }
    rc = wb_file_replace(out, r.body, r.len, 0644);
    /* say what it holds, as a verifier would see it (keys from the passport) */
    if (rc == 0)
        wb_passport_verify(&report, r.body, r.len, NULL);
    wb_http_response_cleanup(&r);
    if (rc)
        return cli_fail("device export", rc);
    if (a.json) {
        json_t *o = json_object();
        json_object_set_new(o, "out", json_string(out));
        json_object_set_new(o, "entries",
                            json_integer((json_int_t)json_array_size(
                                json_object_get(report, "entries"))));
        json_object_set_new(o, "tree_size", json_incref(json_object_get(report, "tree_size")));
        cli_print_json(o);
    } else {
        printf("passport of %.16s...: %s (%zu entries, checkpoint of %lld entries)\n",
               a.pos[0], out, json_array_size(json_object_get(report, "entries")),
               (long long)json_integer_value(json_object_get(report, "tree_size")));
        printf("verify it offline: waybill verify --passport %s\n", out);
    }
    json_decref(report);
    return 0;
}
