/*
 * log_checkpoint.c: `waybill log checkpoint DIR [--size N]`: print the
 * log's signed C2SP checkpoint (the latest, or the one signed at size N).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "waybill/error.h"
#include "waybill/log.h"
#include "waybill/util.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_log_checkpoint = {
    .group = "log",
    .name = "checkpoint",
    .summary = "print the latest signed checkpoint",
    .usage =
        "usage: waybill log checkpoint DIR [--size N] [--json]\n"
        "\n"
        "Prints the log's latest signed checkpoint (C2SP tlog-checkpoint in a\n"
        "signed note: origin, tree size, base64 root hash, then the signature\n"
        "lines). Save it: it is what later consistency proofs are checked against.\n"
        "\n"
        "options:\n"
        "  --size N  the checkpoint signed when the tree had N entries (the log keeps\n"
        "            one per appended batch)\n"
        "  --json    print {\"origin\", \"size\", \"root_hash\", \"checkpoint\"}\n"
        "\n"
        "exit codes: 0 printed, 2 usage, 4 no such log or no checkpoint at N\n",
    .run = run,
};

static int run(int argc, char **argv)
{
    const char *size_s = NULL;
    cli_opt opts[] = {{"--size", &size_s}};
    char *pos[1];
    cli_args a;
    wb_log *log = NULL;
    char *note = NULL;
    size_t len = 0;
    wb_checkpoint cp;
    unsigned long long size = 0;
    int rc;

    rc = cli_parse(&wb_cmd_log_checkpoint, argc, argv, opts, 1, &a, pos, 1);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos != 1)
        return cli_usage_error(&wb_cmd_log_checkpoint, "expected one directory");
    if (size_s && (rc = cli_parse_u64(&wb_cmd_log_checkpoint, "size", size_s, &size)))
        return rc;
    rc = wb_log_open(&log, a.pos[0], NULL);
    if (rc == 0)
        rc = size_s ? wb_log_checkpoint_at(log, size, &note, &len)
                    : wb_log_head(log, NULL, NULL, &note, &len);
    /* check what we print, as any verifier would */
    if (rc == 0)
        rc = wb_checkpoint_open(&cp, note, len, wb_log_verifier(log));
    if (rc == 0) {
        if (a.json) {
            char b64[64];
            json_t *o = json_object();
            wb_base64_encode(b64, cp.root, 32);
            json_object_set_new(o, "origin", json_string(cp.origin));
            json_object_set_new(o, "size", json_integer((json_int_t)cp.size));
            json_object_set_new(o, "root_hash", json_string(b64));
            json_object_set_new(o, "checkpoint", json_stringn(note, len));
            cli_print_json(o);
        } else {
            fwrite(note, 1, len, stdout);
        }
        wb_checkpoint_cleanup(&cp);
    }
    free(note);
    wb_log_close(log);
    return rc ? cli_fail("log checkpoint", rc) : WB_EXIT_OK;
}
