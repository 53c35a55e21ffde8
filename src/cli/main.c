/*
 * main.c: the waybill command line: finds the command in the table and
 * runs it. `waybill help` and `waybill <group> --help` list the commands.
 */
#include "cli.h"

#include <string.h>

#include "waybill/version.h"

const wb_cli_cmd *const wb_cli_commands[] = {
    &wb_cmd_keygen,
    &wb_cmd_sign,
    &wb_cmd_submit,
    &wb_cmd_verify,
    &wb_cmd_serve,
    &wb_cmd_issuer_add,
    &wb_cmd_issuer_update,
    &wb_cmd_issuer_retire,
    &wb_cmd_device_show,
    &wb_cmd_device_tree,
    &wb_cmd_device_export,
    &wb_cmd_fleet,
    &wb_cmd_findings,
    &wb_cmd_intake,
    &wb_cmd_attest,
    &wb_cmd_reindex,
    &wb_cmd_audit,
    &wb_cmd_mirror,
    &wb_cmd_review_import,
    &wb_cmd_sim_devices, /* before `sim`: `waybill sim devices` is the group form */
    &wb_cmd_sim_fault,
    &wb_cmd_sim,
    &wb_cmd_log_init,
    &wb_cmd_log_append,
    &wb_cmd_log_checkpoint,
    &wb_cmd_log_prove,
    &wb_cmd_log_verify,
    &wb_cmd_witness_serve, &wb_cmd_witness_keygen,
    NULL,
};

static void list_commands(FILE *f, const char *group)
{
    fprintf(f, "usage: waybill <command> [options]\n\n"
               "waybill is a transparency ledger for hardware supply-chain provenance.\n\n"
               "commands:\n");
    for (int i = 0; wb_cli_commands[i]; i++) {
        const wb_cli_cmd *c = wb_cli_commands[i];
        char name[64];
        if (group && (!c->group || strcmp(c->group, group) != 0))
            continue;
        snprintf(name, sizeof(name), "%s%s%s", c->group ? c->group : "",
                 c->group ? " " : "", c->name);
        fprintf(f, "  %-22s %s\n", name, c->summary);
    }
    fprintf(f, "\n'waybill <command> --help' describes a command, its options and exit "
               "codes.\nexit codes: 0 ok, 1 verification failed, 2 usage, 3 invalid "
               "input,\n            4 not found/exists/I-O, 5 storage or internal "
               "error\n");
}

int main(int argc, char **argv)
{
    const char *group = NULL;
    int has_group = 0;

    if (argc < 2) {
        list_commands(stderr, NULL);
        return WB_EXIT_USAGE;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        list_commands(stdout, argc > 2 ? argv[2] : NULL);
        return WB_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("waybill %s\n", WAYBILL_VERSION);
        return WB_EXIT_OK;
    }
    for (int i = 0; wb_cli_commands[i]; i++) {
        const wb_cli_cmd *c = wb_cli_commands[i];
        if (c->group && strcmp(c->group, argv[1]) == 0) {
            has_group = 1;
            group = c->group;
            if (argc >= 3 && strcmp(c->name, argv[2]) == 0)
                return c->run(argc - 2, argv + 2);
        } else if (!c->group && strcmp(c->name, argv[1]) == 0) {
            return c->run(argc - 1, argv + 1);
        }
    }
    if (has_group) {
        if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "help") == 0) {
            list_commands(argc < 3 ? stderr : stdout, group);
            return argc < 3 ? WB_EXIT_USAGE : WB_EXIT_OK;
        }
        fprintf(stderr, "waybill %s: unknown command '%s' (see 'waybill %s --help')\n",
                group, argv[2], group);
        return WB_EXIT_USAGE;
    }
    fprintf(stderr, "waybill: unknown command '%s' (see 'waybill help')\n", argv[1]);
    return WB_EXIT_USAGE;
}
