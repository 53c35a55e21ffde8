/*
 * device_tree.c: `waybill device tree ID --url URL`: the current tree under
 * a rack or blade, each slot's expected device and what the last
 * attestation saw there (GET /devices/{id}/tree).
 */
#include "cli.h"

#include <string.h>

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_device_tree = {
    .group = "device",
    .name = "tree",
    .summary = "what is in a rack or blade: expected and last attested, by slot",
    .usage =
        "usage: waybill device tree ID --url URL [--json]\n"
        "\n"
        "Prints the parts placed under ID (assemblies and authorized replacements),\n"
        "slot by slot, recursively, with the device the parent's latest attestation\n"
        "reported in each slot; a slot where they differ is marked MISMATCH.\n"
        "\n"
        "exit codes: 0 printed, 2 usage, 4 unknown device or unreachable service\n",
    .run = run,
};

static void print_tree(json_t *t, int depth)
{
    json_t *slot;
    size_t i;
    printf("%*s%s %.16s...\n", depth * 2, "",
           cli_str(t, "class", "?"),
           json_string_value(json_object_get(t, "id")));
    json_array_foreach(json_object_get(t, "slots"), i, slot) {
        json_t *seen = json_object_get(slot, "last_attested");
        const char *mark = !seen ? "not attested"
                           : json_is_null(seen) ? "NOT REPORTED"
                           : json_is_true(json_object_get(slot, "match")) ? "attested"
                                                                          : "MISMATCH";
        printf("%*s  %-10s %.16s...  %s", depth * 2, "",
               json_string_value(json_object_get(slot, "slot")),
               json_string_value(json_object_get(slot, "expected")), mark);
        if (seen && json_is_string(seen) && !json_is_true(json_object_get(slot, "match")))
            printf(" (saw %.16s...)", json_string_value(seen));
        printf("\n");
        if (json_object_get(slot, "tree"))
            print_tree(json_object_get(slot, "tree"), depth + 2);
    }
}

static int run(int argc, char **argv)
{
    const char *url = NULL;
    cli_opt opts[] = {{"--url", &url}};
    char *pos[1], path[256];
    cli_args a;
    json_t *o = NULL;
    int rc = cli_parse(&wb_cmd_device_tree, argc, argv, opts, 1, &a, pos, 1);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!url || a.npos != 1)
        return cli_usage_error(&wb_cmd_device_tree, "expected a device ID and --url URL");
    snprintf(path, sizeof(path), "/devices/%.64s/tree", a.pos[0]);
    rc = cli_get_json(&o, url, path);
    if (rc)
        return cli_fail("device tree", rc);
    if (a.json)
        cli_print_json(o);
    else {
        print_tree(o, 0);
        json_decref(o);
    }
    return 0;
}
