/*
 * findings.c: `waybill findings --url URL`: the findings, newest first,
 * with filters (GET /findings).
 */
#include "cli.h"

#include <string.h>

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_findings = {
    .group = NULL,
    .name = "findings",
    .summary = "list findings (anomalies) with their tag and evidence",
    .usage =
        "usage: waybill findings --url URL [--status open|resolved|withdrawn]\n"
        "                        [--tag evict|investigate|remediate] [--device ID]\n"
        "                        [--rule R] [--json]\n"
        "\n"
        "Lists findings newest first: rule, tag, device, site, the reason and the ids\n"
        "of the entries that prove it (docs/anomalies.md). Default: open findings.\n"
        "\n"
        "exit codes: 0 printed, 2 usage, 4 unreachable service\n",
    .run = run,
};

static int run(int argc, char **argv)
{
    const char *url = NULL, *status = "open", *tag = NULL, *device = NULL, *rule = NULL;
    cli_opt opts[] = {{"--url", &url}, {"--status", &status}, {"--tag", &tag},
                      {"--device", &device}, {"--rule", &rule}};
    char *pos[1], path[1024];
    cli_args a;
    json_t *o = NULL, *f, *ev;
    size_t i, k;
    int rc = cli_parse(&wb_cmd_findings, argc, argv, opts, 5, &a, pos, 0);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!url)
        return cli_usage_error(&wb_cmd_findings, "--url URL is required");
    snprintf(path, sizeof(path), "/findings?status=%.32s%s%.32s%s%.64s%s%.64s", status,
             tag ? "&tag=" : "", tag ? tag : "", device ? "&device=" : "",
             device ? device : "", rule ? "&rule=" : "", rule ? rule : "");
    rc = cli_get_json(&o, url, path);
    if (rc)
        return cli_fail("findings", rc);
    if (a.json) {
        cli_print_json(o);
        return 0;
    }
    if (json_array_size(o) == 0)
        printf("no %s findings\n", status);
    json_array_foreach(o, i, f) {
        printf("[%s] %-11s %-20s device %.16s%s %s\n", cli_str(f, "status", "?"),
               cli_str(f, "tag", "?"), cli_str(f, "rule", "?"), cli_str(f, "device", ""),
               cli_str(f, "device", "")[0] ? "..." : "(none)", cli_str(f, "site", ""));
        printf("    %s\n", cli_str(f, "reason", ""));
        json_array_foreach(json_object_get(f, "evidence"), k, ev)
            printf("    evidence: entry %s\n", json_string_value(ev));
    }
    json_decref(o);
    return 0;
}
