/*
 * fleet.c: `waybill fleet --url URL`: fleet compliance: devices by state
 * and site, tagged devices and open findings by tag (GET /fleet).
 */
#include "cli.h"

#include <string.h>

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_fleet = {
    .group = NULL,
    .name = "fleet",
    .summary = "fleet compliance: devices by state, open findings by tag",
    .usage =
        "usage: waybill fleet --url URL [--state S] [--json]\n"
        "\n"
        "Counts the devices the ledger knows by state (manufactured, assembled,\n"
        "in-transit, received, in-production, removed, decommissioned) and by site,\n"
        "the devices tagged by an open finding, and the open findings by tag\n"
        "(evict, investigate, remediate) and rule. With --state S (or --state tagged)\n"
        "also lists the ids of those devices.\n"
        "\n"
        "exit codes: 0 printed, 2 usage, 4 unreachable service\n",
    .run = run,
};

static void print_counts(const char *title, json_t *o)
{
    const char *k;
    json_t *v;
    printf("%s\n", title);
    json_object_foreach(o, k, v)
        printf("  %-16s %lld\n", k, (long long)json_integer_value(v));
}

static int run(int argc, char **argv)
{
    const char *url = NULL, *state = NULL;
    cli_opt opts[] = {{"--url", &url}, {"--state", &state}};
    char *pos[1], path[256];
    cli_args a;
    json_t *o = NULL, *id;
    size_t i;
    int rc = cli_parse(&wb_cmd_fleet, argc, argv, opts, 2, &a, pos, 0);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!url)
        return cli_usage_error(&wb_cmd_fleet, "--url URL is required");
    snprintf(path, sizeof(path), "/fleet%s%.64s", state ? "?state=" : "", state ? state : "");
    rc = cli_get_json(&o, url, path);
    if (rc)
        return cli_fail("fleet", rc);
    if (a.json) {
        cli_print_json(o);
        return 0;
    }
    printf("devices: %lld, tagged by an open finding: %lld\n",
           (long long)json_integer_value(json_object_get(o, "devices")),
           (long long)json_integer_value(json_object_get(o, "tagged_devices")));
    print_counts("by state:", json_object_get(o, "by_state"));
    print_counts("by site:", json_object_get(o, "by_site"));
    printf("open findings: %lld\n", (long long)json_integer_value(json_object_get(o,
                                                                  "open_findings")));
    print_counts("by tag:", json_object_get(o, "open_findings_by_tag"));
    print_counts("by rule:", json_object_get(o, "open_findings_by_rule"));
    if (state) {
        printf("%s:\n", state);
        json_array_foreach(json_object_get(o, "ids"), i, id)
            printf("  %s\n", json_string_value(id));
    }
    json_decref(o);
    return 0;
}
