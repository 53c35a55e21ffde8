/*
 * log_init.c: `waybill log init DIR [--origin NAME]`: create a new log.
 *
 * Creates DIR with the SQLite store, an Ed25519 signed-note key pair named
 * after the origin (log.key, mode 0600; log.pub) and the signed checkpoint
 * of the empty tree. Never overwrites an existing log.
 */
#include "cli.h"

#include <string.h>
#include <unistd.h>

#include "waybill/log.h"
#include "waybill/util.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_log_init = {
    .group = "log",
    .name = "init",
    .summary = "create a new log in a directory",
    .usage =
        "usage: waybill log init DIR [--origin NAME] [--json]\n"
        "\n"
        "Creates a new, empty log in DIR (created if missing; an existing log is\n"
        "never overwritten): the store DIR/waybill.db, the log's Ed25519 signing\n"
        "key DIR/log.key (mode 0600) and its verifier key DIR/log.pub, and the\n"
        "signed checkpoint of the empty tree.\n"
        "\n"
        "options:\n"
        "  --origin NAME  the log's name: the first line of every checkpoint and the\n"
        "                 name of its key; printable ASCII without spaces or '+',\n"
        "                 by convention the URL prefix without scheme\n"
        "                 (default: <hostname>/waybill)\n"
        "  --json         print the result as JSON\n"
        "\n"
        "Give DIR/log.pub (the verifier key) to everyone who verifies proofs.\n"
        "exit codes: 0 created, 2 usage, 3 invalid origin, 4 DIR already holds a log\n",
    .run = run,
};

static int run(int argc, char **argv)
{
    const char *origin = NULL;
    cli_opt opts[] = {{"--origin", &origin}};
    char *pos[1];
    cli_args a;
    char host[200], deforigin[256];
    wb_log *log;
    int rc;

    rc = cli_parse(&wb_cmd_log_init, argc, argv, opts, 1, &a, pos, 1);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos != 1)
        return cli_usage_error(&wb_cmd_log_init, "expected one directory");
    if (!origin) {
        if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
            snprintf(host, sizeof(host), "localhost");
        host[sizeof(host) - 1] = '\0';
        snprintf(deforigin, sizeof(deforigin), "%s/waybill", host);
        origin = deforigin;
    }
    rc = wb_log_init(a.pos[0], origin);
    if (rc)
        return cli_fail("log init", rc);
    rc = wb_log_open(&log, a.pos[0], NULL);
    if (rc)
        return cli_fail("log init", rc);
    {
        char *vkey = NULL;
        rc = wb_note_verifier_string(&vkey, wb_log_verifier(log));
        if (rc == 0) {
            if (a.json) {
                json_t *o = json_object();
                json_object_set_new(o, "dir", json_string(a.pos[0]));
                json_object_set_new(o, "origin", json_string(wb_log_origin(log)));
                json_object_set_new(o, "verifier_key", json_string(vkey));
                json_object_set_new(o, "size", json_integer(0));
                cli_print_json(o);
            } else {
                printf("created log '%s' in %s\n", wb_log_origin(log), a.pos[0]);
                printf("verifier key (also in %s/log.pub):\n  %s\n", a.pos[0], vkey);
                printf("signing key: %s/log.key (keep it secret)\n", a.pos[0]);
            }
        }
        free(vkey);
    }
    wb_log_close(log);
    return rc ? cli_fail("log init", rc) : WB_EXIT_OK;
}
