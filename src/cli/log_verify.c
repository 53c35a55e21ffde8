/*
 * log_verify.c: `waybill log verify`: check, offline, a signed checkpoint,
 * an inclusion proof (C2SP tlog-proof) or a consistency proof, with nothing
 * but the log's verifier key. It never opens a log directory: it is what a
 * party who does not trust the log operator runs.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "waybill/error.h"
#include "waybill/log.h"
#include "waybill/util.h"
#include "waybill/witness.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_log_verify = {
    .group = "log",
    .name = "verify",
    .summary = "verify a checkpoint or proof offline",
    .usage =
        "usage: waybill log verify checkpoint CHECKPOINT --key KEY [--json]\n"
        "       waybill log verify inclusion PROOF ENTRY --key KEY [--json]\n"
        "       waybill log verify consistency PROOF OLD_CHECKPOINT --key KEY [--json]\n"
        "\n"
        "Verifies offline, trusting nothing but KEY, the log's verifier key\n"
        "(\"<origin>+<key id>+<base64 key>\", as in DIR/log.pub; give the string or\n"
        "a file that holds it):\n"
        "  checkpoint   the signed checkpoint is signed by KEY for its origin\n"
        "  inclusion    PROOF (from 'waybill log prove ... inclusion') shows that the\n"
        "               bytes of file ENTRY are in the tree of its checkpoint\n"
        "  consistency  PROOF (from 'waybill log prove ... consistency') shows that\n"
        "               its checkpoint's tree extends the tree of OLD_CHECKPOINT\n"
        "A file argument may be '-' for standard input (at most one).\n"
        "\n"
        "options:\n"
        "  --key KEY  the verifier key, or a file containing it (required)\n"
        "  --json     print {\"verified\": true, \"size\", \"root_hash\", ...}\n"
        "  --witness-policy FILE  the checkpoint (for a proof: the newer one, which\n"
        "             the proof carries) must also be cosigned by a quorum of the\n"
        "             policy's witnesses (tlog-cosignature; docs/audit.md)\n"
        "\n"
        "exit codes: 0 verified, 1 did not verify, 2 usage, 3 malformed proof,\n"
        "            checkpoint or key, 4 file not found\n",
    .run = run,
};

/* KEY is a verifier string or a file holding one */
static int load_key(wb_note_key **out, const char *arg)
{
    int rc = wb_note_verifier_load(out, arg);
    return rc ? wb_error_prefix(rc, "--key") : 0;
}

static void report(const cli_args *a, const char *what, const wb_checkpoint *cp,
                   const wb_proof_text *p, const wb_witness_policy *policy, size_t ncosigned)
{
    char b64[64];
    wb_base64_encode(b64, cp->root, 32);
    if (a->json) {
        json_t *o = json_object();
        json_object_set_new(o, "verified", json_true());
        json_object_set_new(o, "type", json_string(what));
        json_object_set_new(o, "origin", json_string(cp->origin));
        json_object_set_new(o, "size", json_integer((json_int_t)cp->size));
        json_object_set_new(o, "root_hash", json_string(b64));
        if (p && !p->consistency)
            json_object_set_new(o, "index", json_integer((json_int_t)p->index));
        if (p && p->consistency)
            json_object_set_new(o, "old_size", json_integer((json_int_t)p->old_size));
        if (policy)
            json_object_set_new(o, "witnessed",
                                json_pack("{s:I, s:I}", "cosignatures", (json_int_t)ncosigned,
                                          "quorum", (json_int_t)policy->quorum));
        cli_print_json(o);
        return;
    }
    if (policy)
        printf("OK: cosigned by %zu of the policy's %zu witnesses (quorum %zu)\n", ncosigned,
               policy->nwitness, policy->quorum);
    if (!p)
        printf("OK: checkpoint of '%s' at size %llu, root %s\n", cp->origin,
               (unsigned long long)cp->size, b64);
    else if (!p->consistency)
        printf("OK: entry %llu is in '%s' at size %llu, root %s\n",
               (unsigned long long)p->index, cp->origin, (unsigned long long)cp->size, b64);
    else
        printf("OK: '%s' at size %llu, root %s, extends size %llu\n", cp->origin,
               (unsigned long long)cp->size, b64, (unsigned long long)p->old_size);
}

static int read_arg(const char *path, size_t max, uint8_t **data, size_t *len,
                    const char *what)
{
    int rc = wb_file_read(path, max, data, len);
    return rc ? wb_error_prefix(rc, "%s", what) : 0;
}

static int run(int argc, char **argv)
{
    const char *key_s = NULL, *policy_s = NULL;
    cli_opt opts[] = {{"--key", &key_s}, {"--witness-policy", &policy_s}};
    wb_witness_policy policy, *pol = NULL;
    size_t ncosigned = 0;
    char *pos[3];
    cli_args a;
    wb_note_key *key = NULL;
    uint8_t *f1 = NULL, *f2 = NULL;
    size_t l1 = 0, l2 = 0;
    wb_proof_text p;
    wb_checkpoint cp;
    int rc, stdin_count = 0;

    rc = cli_parse(&wb_cmd_log_verify, argc, argv, opts, 2, &a, pos, 3);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos < 2)
        return cli_usage_error(&wb_cmd_log_verify, "expected what to verify and a file");
    if (!key_s)
        return cli_usage_error(&wb_cmd_log_verify, "--key is required: the verifier key "
                               "is the only thing this check trusts");
    for (int i = 1; i < a.npos; i++)
        stdin_count += strcmp(a.pos[i], "-") == 0;
    if (stdin_count > 1)
        return cli_usage_error(&wb_cmd_log_verify, "'-' (stdin) given twice");
    memset(&p, 0, sizeof(p));
    memset(&policy, 0, sizeof(policy));
    if (strcmp(a.pos[0], "checkpoint") != 0 && strcmp(a.pos[0], "inclusion") != 0 &&
        strcmp(a.pos[0], "consistency") != 0)
        return cli_usage_error(&wb_cmd_log_verify, "'%s' is not checkpoint, inclusion or "
                               "consistency", a.pos[0]);
    if (a.npos != (a.pos[0][1] == 'h' ? 2 : 3))
        return cli_usage_error(&wb_cmd_log_verify, "%s takes %s", a.pos[0],
                               a.pos[0][1] == 'h' ? "one file"
                               : a.pos[0][1] == 'o' ? "PROOF and OLD_CHECKPOINT"
                                                    : "PROOF and ENTRY");
    if (policy_s) {
        if ((rc = wb_witness_policy_load(&policy, policy_s)) != 0)
            return cli_fail("log verify", wb_error_prefix(rc, "--witness-policy"));
        pol = &policy;
    }
    if (strcmp(a.pos[0], "checkpoint") == 0) {
        if (a.npos != 2)
            return cli_usage_error(&wb_cmd_log_verify, "checkpoint takes one file");
        rc = load_key(&key, key_s);
        if (rc == 0)
            rc = read_arg(a.pos[1], WB_NOTE_MAX, &f1, &l1, "checkpoint");
        if (rc == 0)
            rc = wb_checkpoint_open(&cp, (const char *)f1, l1, key);
        if (rc == 0 && pol &&
            (rc = wb_witness_policy_check(pol, (const char *)f1, l1, key, &ncosigned)) != 0)
            wb_checkpoint_cleanup(&cp);
        if (rc == 0) {
            report(&a, "checkpoint", &cp, NULL, pol, ncosigned);
            wb_checkpoint_cleanup(&cp);
        }
    } else if (strcmp(a.pos[0], "inclusion") == 0 ||
               strcmp(a.pos[0], "consistency") == 0) {
        int consistency = a.pos[0][1] == 'o';
        if (a.npos != 3)
            return cli_usage_error(&wb_cmd_log_verify, "%s takes PROOF and %s", a.pos[0],
                                   consistency ? "OLD_CHECKPOINT" : "ENTRY");
        rc = load_key(&key, key_s);
        if (rc == 0)
            rc = read_arg(a.pos[1], WB_PROOF_TEXT_MAX, &f1, &l1, "proof");
        if (rc == 0)
            rc = read_arg(a.pos[2], consistency ? WB_NOTE_MAX : WB_ENTRY_MAX, &f2, &l2,
                          consistency ? "old checkpoint" : "entry");
        if (rc == 0)
            rc = wb_proof_text_parse(&p, (const char *)f1, l1);
        if (rc == 0)
            rc = consistency
                     ? wb_log_verify_consistency(&p, (const char *)f2, l2, key, &cp)
                     : wb_log_verify_inclusion(&p, f2, l2, key, &cp);
        if (rc == 0 && pol &&
            (rc = wb_witness_policy_check(pol, p.checkpoint, p.checkpoint_len, key,
                                          &ncosigned)) != 0)
            wb_checkpoint_cleanup(&cp);
        if (rc == 0) {
            report(&a, a.pos[0], &cp, &p, pol, ncosigned);
            wb_checkpoint_cleanup(&cp);
        }
        wb_proof_text_cleanup(&p);
    } else {
        return cli_usage_error(&wb_cmd_log_verify, "'%s' is not checkpoint, inclusion or "
                               "consistency", a.pos[0]);
    }
    free(f1);
    free(f2);
    wb_note_key_free(key);
    if (pol)
        wb_witness_policy_cleanup(pol);
    if (rc && a.json) {
        json_t *o = json_object();
        json_object_set_new(o, "verified", json_false());
        json_object_set_new(o, "error", json_string(wb_error_message()));
        cli_print_json(o);
    }
    return rc ? cli_fail("log verify", rc) : WB_EXIT_OK;
}
