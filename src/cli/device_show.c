/*
 * device_show.c: `waybill device show ID --url URL`: a device's journey,
 * every ledger entry that concerns it in log order (GET /devices/{id}).
 */
#include "cli.h"

#include <string.h>

#include "waybill/error.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_device_show = {
    .group = "device",
    .name = "show",
    .summary = "a device's journey: every entry about it, in log order",
    .usage =
        "usage: waybill device show ID --url URL [--json]\n"
        "\n"
        "Prints what the ledger at URL knows of device ID (the hex SHA-256 of its root\n"
        "of trust's public key): its manifest, state and site, then every entry that\n"
        "concerns it in log order (index, time, kind, issuer, entry id) and its\n"
        "findings. --json prints the service's answer, which carries each entry's\n"
        "receipt (base64) so it can be verified offline.\n"
        "\n"
        "exit codes: 0 printed, 2 usage, 4 unknown device or unreachable service\n",
    .run = run,
};

static int run(int argc, char **argv)
{
    const char *url = NULL;
    cli_opt opts[] = {{"--url", &url}};
    char *pos[1], path[256];
    cli_args a;
    json_t *o = NULL, *e;
    size_t i;
    int rc = cli_parse(&wb_cmd_device_show, argc, argv, opts, 1, &a, pos, 1);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!url || a.npos != 1)
        return cli_usage_error(&wb_cmd_device_show, "expected a device ID and --url URL");
    snprintf(path, sizeof(path), "/devices/%.64s", a.pos[0]);
    rc = cli_get_json(&o, url, path);
    if (rc)
        return cli_fail("device show", rc);
    if (a.json) {
        cli_print_json(o);
        return 0;
    }
    printf("device %s\n", a.pos[0]);
    printf("  class %s, %s %s, serial %s (manifested by %s)\n",
           cli_str(o, "class", "?"),
           cli_str(o, "manufacturer", "?"),
           cli_str(o, "model", ""),
           cli_str(o, "serial", "?"),
           cli_str(o, "supplier", "nobody: never manifested"));
    printf("  state %s%s%s%s\n", cli_str(o, "state", "unknown"),
           json_string_length(json_object_get(o, "site")) ? ", at " : "",
           cli_str(o, "site", ""),
           json_is_true(json_object_get(o, "revoked")) ? ", REVOKED" : "");
    printf("\n  %-7s %-20s %-12s %-22s %s\n", "index", "time", "kind", "issuer", "entry id");
    json_array_foreach(json_object_get(o, "entries"), i, e)
        printf("  %-7lld %-20s %-12s %-22.22s %.16s...\n",
               (long long)json_integer_value(json_object_get(e, "index")),
               json_string_value(json_object_get(e, "time")),
               json_string_value(json_object_get(e, "kind")),
               json_string_value(json_object_get(e, "issuer")),
               json_string_value(json_object_get(e, "entry_id")));
    if (json_array_size(json_object_get(o, "findings"))) {
        printf("\n  findings:\n");
        json_array_foreach(json_object_get(o, "findings"), i, e)
            printf("  - [%s] %s %s: %s\n", json_string_value(json_object_get(e, "status")),
                   json_string_value(json_object_get(e, "tag")),
                   json_string_value(json_object_get(e, "rule")),
                   json_string_value(json_object_get(e, "reason")));
    }
    json_decref(o);
    return 0;
}
