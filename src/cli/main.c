/*
 * main.c: the waybill command line: finds the command in the table and
 * runs it. `waybill help` and `waybill <group> --help` list the commands.
 * The global HTTPS options (--tls-ca, --tls-cert, --tls-key) and the
 * bearer token (--token) are taken out of the arguments here, before any
 * command sees them.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "waybill/client.h"
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
    &wb_cmd_persona_token,
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
               "codes.\n"
               "HTTPS, for every command that talks to a service: --tls-ca FILE (CA\n"
               "  certificates), --tls-cert FILE and --tls-key FILE (client certificate),\n"
               "  or WAYBILL_CA_FILE, WAYBILL_CLIENT_CERT, WAYBILL_CLIENT_KEY.\n"
               "A reader's bearer token (docs/personas.md): --token TOKEN or "
               "WAYBILL_TOKEN.\n"
               "exit codes: 0 ok, 1 verification failed, 2 usage, 3 invalid "
               "input,\n            4 not found/exists/I-O, 5 storage or internal "
               "error\n");
}

/*
 * removes --tls-ca F, --tls-cert F, --tls-key F (or --opt=F) from argv, up
 * to a "--", and sets the process's HTTPS client from them, each falling
 * back to its environment variable (docs/cli.md). 0 or an exit code.
 */
static int tls_options(int *argc, char **argv)
{
    static const char *const names[3] = {"--tls-ca", "--tls-cert", "--tls-key"};
    static const char *const env[3] = {"WAYBILL_CA_FILE", "WAYBILL_CLIENT_CERT",
                                       "WAYBILL_CLIENT_KEY"};
    const char *v[3] = {NULL, NULL, NULL};
    int out = 1, given = 0, rc;
    for (int i = 1; i < *argc; i++) {
        int k = -1;
        size_t n = 0;
        if (strcmp(argv[i], "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        for (int j = 0; j < 3; j++) {
            n = strlen(names[j]);
            if (strncmp(argv[i], names[j], n) == 0 && (argv[i][n] == '\0' || argv[i][n] == '=')) {
                k = j;
                break;
            }
        }
        if (k < 0) {
            argv[out++] = argv[i];
            continue;
        }
        if (argv[i][n] == '=')
            v[k] = argv[i] + n + 1;
        else if (i + 1 < *argc)
            v[k] = argv[++i];
        else {
            fprintf(stderr, "waybill: %s needs a file\n", names[k]);
            return WB_EXIT_USAGE;
        }
        given = 1;
    }
    argv[out] = NULL;
    *argc = out;
    if (!given)
        return 0; /* the library reads the environment itself */
    for (int j = 0; j < 3; j++)
        if (!v[j])
            v[j] = getenv(env[j]);
    rc = wb_http_set_tls(v[0], v[1], v[2]);
    if (rc)
        return cli_fail("tls", rc);
    return 0;
}

/*
 * --token TOKEN (or --token=TOKEN), anywhere up to a "--", or else
 * WAYBILL_TOKEN: the bearer token every request to a ledger carries
 * (docs/personas.md). Taken out of argv before the command sees it.
 */
static int take_token(int *argc, char **argv)
{
    const char *token = getenv("WAYBILL_TOKEN");
    for (int i = 1; i < *argc; i++) {
        int take = 0;
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--token") == 0) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "waybill: --token needs a value\n");
                return WB_EXIT_USAGE;
            }
            token = argv[i + 1];
            take = 2;
        } else if (strncmp(argv[i], "--token=", 8) == 0) {
            token = argv[i] + 8;
            take = 1;
        }
        if (take) {
            for (int k = i; k + take <= *argc; k++)
                argv[k] = argv[k + take];
            *argc -= take;
            i--;
        }
    }
    if (token && *token && wb_http_set_token(token) != 0) {
        fprintf(stderr, "waybill: --token / WAYBILL_TOKEN: a bearer token is 1 to 512 "
                        "printable characters without spaces\n");
        return WB_EXIT_USAGE;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *group = NULL;
    int has_group = 0;
    int rc = tls_options(&argc, argv);

    if (rc)
        return rc;
    if (take_token(&argc, argv) != 0)
        return WB_EXIT_USAGE;
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
            if (argc >= 3 && strcmp(c->name, argv[2]) == 0) {
                rc = c->run(argc - 2, argv + 2);
                wb_http_thread_cleanup();
                return rc;
            }
        } else if (!c->group && strcmp(c->name, argv[1]) == 0) {
            rc = c->run(argc - 1, argv + 1);
            wb_http_thread_cleanup(); /* the main thread's kept-alive connections */
            return rc;
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
