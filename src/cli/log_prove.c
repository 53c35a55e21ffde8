/*
 * log_prove.c: `waybill log prove DIR inclusion INDEX [--size N]` and
 * `waybill log prove DIR consistency OLD [NEW]`: print a proof with the
 * signed checkpoint it is against.
 *
 * Inclusion proofs are printed in C2SP tlog-proof form; consistency proofs
 * in waybill's consistency-proof form of the same shape (docs/proofs.md).
 * The tree size must be one at which the log signed a checkpoint (the end
 * of an appended batch), since the proof embeds that checkpoint.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "waybill/error.h"
#include "waybill/log.h"
#include "waybill/util.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_log_prove = {
    .group = "log",
    .name = "prove",
    .summary = "print an inclusion or consistency proof",
    .usage =
        "usage: waybill log prove DIR inclusion INDEX [--size N] [--json]\n"
        "       waybill log prove DIR consistency OLD [NEW] [--json]\n"
        "\n"
        "inclusion: proves that entry INDEX is in the tree of N entries (default:\n"
        "  the current size) and prints a C2SP tlog-proof: header, index, one base64\n"
        "  hash per line, an empty line, then the signed checkpoint of size N.\n"
        "consistency: proves that the tree of NEW entries (default: current) extends\n"
        "  the tree of OLD entries, printed as a waybill.dev/consistency-proof: header,\n"
        "  'old OLD', hashes, an empty line, the signed checkpoint of size NEW.\n"
        "\n"
        "N and NEW must be sizes at which the log signed a checkpoint (the end of\n"
        "an appended batch; see 'waybill log checkpoint --size').\n"
        "Check the output with 'waybill log verify'.\n"
        "\n"
        "options:\n"
        "  --size N  tree size for an inclusion proof\n"
        "  --json    print {\"tree_size\", \"hashes\", \"proof\", ...} instead\n"
        "\n"
        "exit codes: 0 printed, 2 usage, 3 index or size out of range,\n"
        "            4 no such log or no checkpoint at that size\n",
    .run = run,
};

static int emit(const cli_args *a, const wb_proof_text *p, uint64_t size)
{
    char *text;
    size_t len;
    int rc = wb_proof_text_format(&text, &len, p);
    if (rc)
        return rc;
    if (a->json) {
        json_t *o = json_object(), *h = json_array();
        char b64[64];
        json_object_set_new(o, "type", json_string(p->consistency ? "consistency"
                                                                  : "inclusion"));
        if (p->consistency)
            json_object_set_new(o, "old_size", json_integer((json_int_t)p->old_size));
        else
            json_object_set_new(o, "index", json_integer((json_int_t)p->index));
        json_object_set_new(o, "tree_size", json_integer((json_int_t)size));
        for (size_t i = 0; i < p->nhashes; i++) {
            wb_base64_encode(b64, p->hashes[i], WB_HASH_LEN);
            json_array_append_new(h, json_string(b64));
        }
        json_object_set_new(o, "hashes", h);
        json_object_set_new(o, "proof", json_stringn(text, len));
        cli_print_json(o);
    } else {
        fwrite(text, 1, len, stdout);
    }
    free(text);
    return 0;
}

static int run(int argc, char **argv)
{
    const char *size_s = NULL;
    cli_opt opts[] = {{"--size", &size_s}};
    char *pos[4];
    cli_args a;
    wb_log *log = NULL;
    wb_proof_text p;
    char *note = NULL;
    size_t note_len;
    unsigned long long x = 0, size = 0, cur;
    uint64_t cur64;
    int rc, consistency;

    rc = cli_parse(&wb_cmd_log_prove, argc, argv, opts, 1, &a, pos, 4);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos < 3)
        return cli_usage_error(&wb_cmd_log_prove, "expected DIR, a proof type and a number");
    if (strcmp(a.pos[1], "inclusion") == 0)
        consistency = 0;
    else if (strcmp(a.pos[1], "consistency") == 0)
        consistency = 1;
    else
        return cli_usage_error(&wb_cmd_log_prove, "proof type '%s' is not 'inclusion' or "
                               "'consistency'", a.pos[1]);
    if (!consistency && a.npos != 3)
        return cli_usage_error(&wb_cmd_log_prove, "inclusion takes one INDEX "
                               "(use --size for the tree size)");
    if (consistency && size_s)
        return cli_usage_error(&wb_cmd_log_prove, "--size is for inclusion proofs; "
                               "consistency takes OLD [NEW]");
    if ((rc = cli_parse_u64(&wb_cmd_log_prove, consistency ? "OLD" : "INDEX", a.pos[2],
                            &x)))
        return rc;
    if (consistency && a.npos == 4 &&
        (rc = cli_parse_u64(&wb_cmd_log_prove, "NEW", a.pos[3], &size)))
        return rc;
    if (size_s && (rc = cli_parse_u64(&wb_cmd_log_prove, "size", size_s, &size)))
        return rc;

    memset(&p, 0, sizeof(p));
    rc = wb_log_open(&log, a.pos[0], NULL);
    if (rc == 0)
        rc = wb_log_head(log, &cur64, NULL, NULL, NULL);
    if (rc)
        goto out;
    cur = cur64;
    if (!size_s && !(consistency && a.npos == 4))
        size = cur;
    if (size > cur) {
        rc = wb_error_set(WB_E_RANGE, "tree size %llu is past the log's size %llu", size,
                          cur);
        goto out;
    }
    p.consistency = consistency;
    if (consistency) {
        p.old_size = x;
        rc = wb_log_consistency_proof(log, p.hashes, &p.nhashes, x, size);
    } else {
        p.index = x;
        rc = wb_log_inclusion_proof(log, p.hashes, &p.nhashes, x, size);
    }
    if (rc == 0)
        rc = wb_log_checkpoint_at(log, size, &note, &note_len);
    if (rc == 0) {
        p.checkpoint = note;
        p.checkpoint_len = note_len;
        rc = emit(&a, &p, size);
    }
out:
    free(note);
    wb_log_close(log);
    return rc ? cli_fail("log prove", rc) : WB_EXIT_OK;
}
