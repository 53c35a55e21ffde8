/*
 * device_export.c: `waybill device export ID --url URL --out FILE
 * [--witnessed]`: the device passport (docs/queries.md, "Passports"): one
 * self-contained file that `waybill verify --passport FILE` checks offline.
 * With --witnessed it asks for the passport made against the newest
 * checkpoint a quorum of the log's witnesses cosigned (?witnessed=1), and
 * waits while the service says that none holds the device's entries yet.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
        "usage: waybill device export ID --url URL --out FILE [--witnessed [--wait S]]\n"
        "                             [--json]\n"
        "\n"
        "Writes the passport of device ID: the transparent statements of every entry\n"
        "about the device, the racks and blades it is in, the firmware it was\n"
        "measured running and that firmware's reviews, and the governance entries of\n"
        "every issuer involved, each with a receipt against one signed checkpoint,\n"
        "plus the service's and the log's public keys. Check it anywhere with\n"
        "'waybill verify --passport FILE' (pin the keys with --service-key and\n"
        "--log-key). FILE is replaced if it exists.\n"
        "\n"
        "  --witnessed  the passport made against the newest checkpoint a quorum of\n"
        "               the log's witnesses cosigned, which it carries with their\n"
        "               cosignatures (check it with 'waybill verify --passport FILE\n"
        "               --witness-policy POLICY'); the log must have witnesses\n"
        "  --wait S     with --witnessed: while no such checkpoint holds every entry\n"
        "               about the device yet, ask again for up to S seconds\n"
        "               (default 60; 0: do not wait)\n"
        "\n"
        "exit codes: 0 written, 2 usage, 4 unknown device, a log without witnesses,\n"
        "            not yet witnessed after --wait, unreachable service or\n"
        "            unwritable file\n",
    .run = run,
};

/* GET path, again while the service answers 503 with Retry-After, for up to wait_s */
static int fetch(wb_http_response *r, const char *url, const char *path,
                 unsigned long long wait_s)
{
    char full[4400];
    time_t until = time(NULL) + (time_t)wait_s;
    int rc = wb_http_join(full, sizeof(full), url, path);
    while (rc == 0) {
        rc = wb_http_request(r, "GET", full, NULL, 0, NULL, "application/cbor", 120);
        if (rc || r->status != 503 || r->retry_after < 0 ||
            time(NULL) + r->retry_after > until)
            break;
        sleep(r->retry_after > 0 ? (unsigned)r->retry_after : 1u);
        wb_http_response_cleanup(r);
    }
    return rc;
}

static int run(int argc, char **argv)
{
    const char *url = NULL, *out = NULL, *wait_s = NULL;
    cli_opt opts[] = {{"--url", &url}, {"--out", &out}, {"--wait", &wait_s}};
    char *pos[1], path[4200];
    cli_args a;
    wb_http_response r;
    json_t *report = NULL;
    unsigned long long wait = 60;
    int witnessed = cli_take_flag(&argc, argv, "--witnessed");
    int rc = cli_parse(&wb_cmd_device_export, argc, argv, opts, 3, &a, pos, 1);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!url || !out || a.npos != 1)
        return cli_usage_error(&wb_cmd_device_export, "expected ID, --url URL and --out FILE");
    if (wait_s && !witnessed)
        return cli_usage_error(&wb_cmd_device_export, "--wait goes with --witnessed");
    if (wait_s && (rc = cli_parse_u64(&wb_cmd_device_export, "--wait", wait_s, &wait)) != 0)
        return rc;
    snprintf(path, sizeof(path), "/devices/%.64s/passport%s", a.pos[0],
             witnessed ? "?witnessed=1" : "");
    rc = fetch(&r, url, path, witnessed ? wait : 0);
    if (rc)
        return cli_fail("device export", rc);
    if (r.status != 200) {
        char title[256], detail[1024];
        wb_http_problem(&r, title, sizeof(title), detail, sizeof(detail));
        rc = wb_error_set(r.status == 404   ? WB_E_NOTFOUND
                          : r.status == 503 ? WB_E_IO
                                            : WB_E_INTERNAL,
                          "HTTP %ld %s: %s", r.status, title, detail);
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
        json_object_set_new(o, "witnessed", json_boolean(witnessed));
        cli_print_json(o);
    } else {
        printf("passport of %.16s...: %s (%zu entries, checkpoint of %lld entries)\n",
               a.pos[0], out, json_array_size(json_object_get(report, "entries")),
               (long long)json_integer_value(json_object_get(report, "tree_size")));
        printf("verify it offline: waybill verify --passport %s%s\n", out,
               witnessed ? " --witness-policy POLICY" : "");
    }
    json_decref(report);
    return 0;
}
