/*
 * audit.c: `waybill audit URL | --store DIR`: audit a whole log without
 * trusting its operator (waybill/audit.h, docs/audit.md).
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "waybill/audit.h"
#include "waybill/error.h"
#include "waybill/fleet.h"
#include "waybill/log.h"
#include "waybill/util.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_audit = {
    .group = NULL,
    .name = "audit",
    .summary = "audit a whole log: every hash, signature, policy decision and the fleet state",
    .usage =
        "usage: waybill audit URL [options]\n"
        "       waybill audit --store DIR [options]\n"
        "       waybill audit --tiles DIR [options]\n"
        "\n"
        "Fetches every entry bundle and hash tile of the log (over its HTTP tile API,\n"
        "or from a copy of its data directory), recomputes every leaf and node hash,\n"
        "checks the latest checkpoint's signature and root, verifies every statement's\n"
        "signature, replays the registration policy in log order while rebuilding the\n"
        "fleet state, and compares that state with the one the server reports. Every\n"
        "checkpoint and leaf hash it verified is kept in its state file: a later run\n"
        "that finds history rewritten names the first entry that changed and writes a\n"
        "fork proof (check it with `waybill verify --fork FILE`). An interrupted audit\n"
        "resumes where it stopped.\n"
        "\n"
        "What it trusts: the log's checkpoint key and the service's and operator admin\n"
        "keys, given here or pinned by the first run (which, without them, takes them\n"
        "from the server's /audit/keys and says so). See docs/audit.md.\n"
        "\n"
        "options:\n"
        "  --store DIR            audit a copy of a server's data directory\n"
        "  --tiles DIR            audit a directory of static tiles (waybill mirror)\n"
        "  --log-key VKEY         the log's checkpoint key (<name>+<id>+<base64>, or a\n"
        "                         file holding it)\n"
        "  --service-key FILE     the service's public key (PEM): it signs findings\n"
        "  --admin-key FILE       an operator admin public key (PEM); repeatable\n"
        "  --issuer-key FILE      the key of an issuer configured outside the ledger\n"
        "                         (PEM); repeatable\n"
        "  --checkpoint FILE      a signed checkpoint to hold the log to; repeatable\n"
        "  --state FILE           the auditor's state (default\n"
        "                         $XDG_STATE_HOME/waybill/audit/<origin>.db)\n"
        "  --witness-policy FILE  the audited checkpoint must be cosigned by a quorum\n"
        "                         of these witnesses (docs/audit.md, \"Witness policy\")\n"
        "  --witness-wait S       how long to wait for the witnesses to cosign the\n"
        "                         newest checkpoint (default 10)\n"
        "  --fork-out FILE        where to write a fork proof (default\n"
        "                         ./waybill-fork-<time>.json)\n"
        "  --threads N            signature verification threads (default: cores)\n"
        "  --allow-unknown-signers  count statements by signers this auditor does not\n"
        "                         know instead of failing on them\n"
        "  --restart              start over even if an earlier audit was interrupted\n"
        "  --json                 print the report as JSON\n"
        "\n"
        "exit codes: 0 the log is sound, 1 the audit found a problem (the report names\n"
        "            the first bad entry and why), 2 usage, 3 bad input, 4 the log or a\n"
        "            file could not be reached, 5 internal or state failure\n",
    .run = run,
};

#define MAX_MULTI 64

/* takes every "--opt VALUE" / "--opt=VALUE" out of argv */
static int take_multi(int *argc, char **argv, const char *opt, const char **out, size_t *n)
{
    size_t ol = strlen(opt);
    int w = 1;
    *n = 0;
    for (int i = 1; i < *argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], opt) == 0) {
            if (i + 1 >= *argc)
                return cli_usage_error(&wb_cmd_audit, "%s needs a value", opt);
            v = argv[++i];
        } else if (strncmp(argv[i], opt, ol) == 0 && argv[i][ol] == '=') {
            v = argv[i] + ol + 1;
        } else {
            argv[w++] = argv[i];
            continue;
        }
        if (*n >= MAX_MULTI)
            return cli_usage_error(&wb_cmd_audit, "at most %d %s", MAX_MULTI, opt);
        out[(*n)++] = v;
    }
    *argc = w;
    argv[w] = NULL;
    return 0;
}

static int mkdirs(const char *path)
{
    char buf[1024];
    size_t n = strlen(path);
    if (n >= sizeof(buf))
        return -1;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++)
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0700) != 0 && errno != EEXIST)
                return -1;
            buf[i] = c;
        }
    return 0;
}

/* $XDG_STATE_HOME/waybill/audit/<origin>.db, the origin made a file name */
static int default_state(char *out, size_t cap, const char *note)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char dir[900], name[200];
    size_t i = 0;
    if (xdg && xdg[0])
        snprintf(dir, sizeof(dir), "%.800s/waybill/audit", xdg);
    else
        snprintf(dir, sizeof(dir), "%.800s/.local/state/waybill/audit",
                 home && home[0] ? home : ".");
    for (; note[i] && note[i] != '\n' && i < sizeof(name) - 1; i++) {
        char ch = note[i];
        name[i] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                          (ch >= '0' && ch <= '9') || ch == '.' || ch == '-'
                      ? ch
                      : '_';
    }
    name[i] = '\0';
    if (i == 0)
        return wb_error_set(WB_E_INVALID, "the checkpoint has no origin line");
    if (mkdirs(dir) != 0)
        return wb_error_set(WB_E_IO, "cannot create %s", dir);
    snprintf(out, cap, "%s/%s.db", dir, name);
    return 0;
}

static int read_key(wb_key **out, const char *path, const char *what)
{
    wb_key *k = NULL;
    int rc = wb_key_read_file(&k, path);
    if (rc == 0 && wb_key_is_private(k)) {
        wb_key *pub = NULL;
        rc = wb_key_public_copy(&pub, k);
        wb_key_free(k);
        k = pub;
    }
    if (rc)
        return wb_error_prefix(rc, "%s %s", what, path);
    *out = k;
    return 0;
}

static int key_hex(wb_key **out, const char *hex)
{
    size_t n = hex ? strlen(hex) : 0;
    uint8_t *der = malloc(n / 2 + 1);
    int rc;
    if (!der)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    rc = n && n % 2 == 0 ? wb_hex_decode(der, n / 2, hex, n)
                         : wb_error_set(WB_E_INVALID, "not a hex key");
    if (rc == 0)
        rc = wb_fleet_key_from_spki(out, der, n / 2);
    free(der);
    return rc;
}

/* trust on first use: the keys the server says are its own */
static int fetch_keys(wb_audit_trust *t, const char *url)
{
    json_t *o = NULL, *admins;
    const char *s;
    int rc = cli_get_json(&o, url, "/audit/keys");
    if (rc)
        return wb_error_prefix(rc, "fetching the log's keys (give --log-key to skip this)");
    s = cli_str(o, "log_key", NULL);
    if (!t->log_key)
        rc = s ? wb_note_verifier_parse(&t->log_key, s, strlen(s))
               : wb_error_set(WB_E_INVALID, "/audit/keys has no log_key");
    if (rc == 0 && !t->service_key && cli_str(o, "service_key", NULL))
        rc = key_hex(&t->service_key, cli_str(o, "service_key", NULL));
    if (rc == 0 && !t->service_name[0])
        snprintf(t->service_name, sizeof(t->service_name), "%s", cli_str(o, "service", ""));
    admins = json_object_get(o, "admin_keys");
    if (rc == 0 && t->nadmin == 0 && json_is_array(admins) && json_array_size(admins) > 0) {
        size_t n = json_array_size(admins);
        t->admin = calloc(n, sizeof(*t->admin));
        if (!t->admin)
            rc = wb_error_set(WB_E_NOMEM, "out of memory");
        for (size_t i = 0; rc == 0 && i < n; i++) {
            rc = key_hex(&t->admin[i], json_string_value(json_array_get(admins, i)));
            if (rc == 0)
                t->nadmin++;
        }
    }
    if (rc == 0) {
        char *v = NULL;
        wb_note_verifier_string(&v, t->log_key);
        fprintf(stderr, "waybill audit: trusting on first use the keys %s serves: log key "
                        "%s, service '%s', %zu admin key(s). Compare the log key with one "
                        "published out of band; later runs hold the log to these keys.\n",
                url, v ? v : "?", t->service_name, t->nadmin);
        free(v);
    }
    json_decref(o);
    return rc;
}

typedef struct {
    int tty;
    double t0;
    uint64_t last;
} progress_ctx;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(void *vctx, uint64_t done, uint64_t total, uint64_t first)
{
    progress_ctx *c = vctx;
    double el = now_s() - c->t0, rate = el > 0 ? (double)(done - first) / el : 0;
    double left = rate > 0 ? (double)(total - done) / rate : 0;
    const int width = 30;
    int filled = total ? (int)((double)width * (double)done / (double)total) : width;
    char bar[32];
    if (!c->tty)
        return;
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r  [%s] %llu / %llu entries  %.0f/s  %d:%02d left ", bar,
            (unsigned long long)done, (unsigned long long)total, rate, (int)(left / 60),
            (int)left % 60);
    if (done >= total)
        fprintf(stderr, "\n");
}

static void print_report(const wb_audit_report *r, const char *what, const char *fork_out,
                         const wb_witness_policy *policy, int json)
{
    char root[65];
    wb_hex_encode(root, r->root, WB_HASH_LEN);
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "log", json_string(what));
        json_object_set_new(o, "ok", json_boolean(r->failure == WB_AUDIT_OK));
        json_object_set_new(o, "size", json_integer((json_int_t)r->size));
        json_object_set_new(o, "root", json_string(root));
        json_object_set_new(o, "resumed_from", json_integer((json_int_t)r->first));
        json_object_set_new(o, "signatures", json_integer((json_int_t)r->statements));
        json_object_set_new(o, "policy_replayed", json_integer((json_int_t)r->policy));
        json_object_set_new(o, "unknown_signers", json_integer((json_int_t)r->unknown));
        json_object_set_new(o, "checkpoints_consistent",
                            json_integer((json_int_t)r->checkpoints));
        json_object_set_new(o, "fleet_compared", json_boolean(r->fleet_compared));
        json_object_set_new(o, "witness_cosignatures", json_integer((json_int_t)r->cosigned));
        json_object_set_new(o, "findings_raised", json_integer((json_int_t)r->findings_raised));
        json_object_set_new(o, "findings_registered",
                            json_integer((json_int_t)r->findings_registered));
        json_object_set_new(o, "findings_pending", json_integer((json_int_t)r->findings_pending));
        json_object_set_new(o, "seconds", json_real(r->seconds));
        if (r->failure != WB_AUDIT_OK) {
            json_t *f = json_object();
            json_object_set_new(f, "kind", json_string(wb_audit_failure_name(r->failure)));
            if (r->bad_index != UINT64_MAX)
                json_object_set_new(f, "index", json_integer((json_int_t)r->bad_index));
            json_object_set_new(f, "reason", json_string(r->reason));
            if (r->fork_written)
                json_object_set_new(f, "fork_proof", json_string(fork_out));
            json_object_set_new(o, "failure", f);
        }
        cli_print_json(o);
        return;
    }
    printf("log:        %s\n", what);
    printf("tree:       %llu entries, root %s\n", (unsigned long long)r->size, root);
    if (r->first)
        printf("resumed at: entry %llu\n", (unsigned long long)r->first);
    printf("checked:    %llu signatures, %llu policy decisions replayed, %llu earlier "
           "checkpoints consistent%s\n",
           (unsigned long long)r->statements, (unsigned long long)r->policy,
           (unsigned long long)r->checkpoints,
           r->fleet_compared ? ", fleet state equal to the server's" : "");
    if (r->findings_raised)
        printf("findings:   %llu raised by the replayed rules, %llu registered by the service"
               "%s\n", (unsigned long long)r->findings_raised,
               (unsigned long long)r->findings_registered,
               r->findings_pending ? " (the rest raised after the last checkpoint this auditor "
                                     "verified before: not yet due)"
                                   : "");
    if (r->unknown)
        printf("unknown:    %llu statements by signers this auditor does not know\n",
               (unsigned long long)r->unknown);
    if (policy)
        printf("witnesses:  %zu of the policy's %zu cosigned the audited checkpoint (quorum "
               "%zu)\n", r->cosigned, policy->nwitness, policy->quorum);
    printf("time:       %.1f s (%.0f entries/s)\n", r->seconds,
           r->seconds > 0 ? (double)(r->size - r->first) / r->seconds : 0);
    if (r->failure == WB_AUDIT_OK) {
        printf("verdict:    OK\n");
        return;
    }
    if (r->bad_index != UINT64_MAX)
        printf("verdict:    FAILED (%s) at entry %llu\n", wb_audit_failure_name(r->failure),
               (unsigned long long)r->bad_index);
    else
        printf("verdict:    FAILED (%s)\n", wb_audit_failure_name(r->failure));
    printf("why:        %s\n", r->reason);
    if (r->fork_written)
        printf("fork proof: %s (check it with `waybill verify --fork %s`)\n", fork_out,
               fork_out);
}

static int run(int argc, char **argv)
{
    const char *admin[MAX_MULTI], *issuer[MAX_MULTI], *cps[MAX_MULTI];
    size_t nadmin, nissuer, ncps;
    const char *store = NULL, *tiles = NULL, *log_key = NULL, *service_key = NULL, *state = NULL,
               *fork_out = NULL, *threads = NULL, *policy_s = NULL, *wait_s = NULL;
    char *posbuf[2];
    cli_opt opts[] = {{"--store", &store},     {"--tiles", &tiles}, {"--log-key", &log_key},
                      {"--service-key", &service_key}, {"--state", &state},
                      {"--fork-out", &fork_out}, {"--threads", &threads},
                      {"--witness-policy", &policy_s}, {"--witness-wait", &wait_s}};
    wb_witness_policy policy;
    cli_args a;
    wb_audit_trust t;
    wb_audit_options o;
    wb_audit_source src;
    wb_audit_report rep;
    char *cp_text[MAX_MULTI] = {0}, *note = NULL;
    size_t cp_len[MAX_MULTI], note_len;
    char state_buf[1200], fork_buf[256];
    progress_ctx pc = {isatty(2), now_s(), 0};
    int rc, allow_unknown, restart;

    memset(&t, 0, sizeof(t));
    memset(&o, 0, sizeof(o));
    memset(&policy, 0, sizeof(policy));
    o.witness_wait_ms = 10000;
    memset(&src, 0, sizeof(src));
    allow_unknown = cli_take_flag(&argc, argv, "--allow-unknown-signers");
    restart = cli_take_flag(&argc, argv, "--restart");
    if ((rc = take_multi(&argc, argv, "--admin-key", admin, &nadmin)) != 0 ||
        (rc = take_multi(&argc, argv, "--issuer-key", issuer, &nissuer)) != 0 ||
        (rc = take_multi(&argc, argv, "--checkpoint", cps, &ncps)) != 0)
        return rc;
    rc = cli_parse(&wb_cmd_audit, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &a,
                   posbuf, 1);
    if (rc)
        return rc < 0 ? 0 : rc;
    if ((a.npos == 1) + (store != NULL) + (tiles != NULL) != 1)
        return cli_usage_error(&wb_cmd_audit, "give the log's URL, --store DIR or --tiles DIR "
                                              "(one)");
    if (threads) {
        unsigned long long n;
        if ((rc = cli_parse_u64(&wb_cmd_audit, "--threads", threads, &n)) != 0)
            return rc;
        if (n == 0 || n > 256)
            return cli_usage_error(&wb_cmd_audit, "--threads %s: 1 to 256", threads);
        o.threads = (unsigned)n;
    }
    if (wait_s) {
        unsigned long long n;
        if ((rc = cli_parse_u64(&wb_cmd_audit, "--witness-wait", wait_s, &n)) != 0)
            return rc;
        if (n > 3600)
            return cli_usage_error(&wb_cmd_audit, "--witness-wait %s: 0 to 3600 seconds",
                                   wait_s);
        o.witness_wait_ms = (unsigned)n * 1000;
    }
    if (policy_s) {
        rc = wb_witness_policy_load(&policy, policy_s);
        if (rc)
            return cli_fail("audit", wb_error_prefix(rc, "--witness-policy %s", policy_s));
        o.policy = &policy;
    }
    /* what the auditor was told to trust */
    if (log_key && (rc = wb_note_verifier_load(&t.log_key, log_key)) != 0)
        rc = wb_error_prefix(rc, "--log-key");
    if (rc == 0 && service_key)
        rc = read_key(&t.service_key, service_key, "--service-key");
    if (rc == 0 && nadmin) {
        t.admin = calloc(nadmin, sizeof(*t.admin));
        rc = t.admin ? 0 : wb_error_set(WB_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; rc == 0 && i < nadmin; i++)
        if ((rc = read_key(&t.admin[i], admin[i], "--admin-key")) == 0)
            t.nadmin++;
    if (rc == 0 && nissuer) {
        t.issuers = calloc(nissuer, sizeof(*t.issuers));
        rc = t.issuers ? 0 : wb_error_set(WB_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; rc == 0 && i < nissuer; i++)
        if ((rc = read_key(&t.issuers[i], issuer[i], "--issuer-key")) == 0)
            t.nissuers++;
    for (size_t i = 0; rc == 0 && i < ncps; i++) {
        rc = wb_file_read(cps[i], WB_NOTE_MAX, (uint8_t **)&cp_text[i], &cp_len[i]);
        if (rc)
            rc = wb_error_prefix(rc, "--checkpoint %s", cps[i]);
    }
    if (rc == 0)
        rc = store   ? wb_audit_source_store(&src, store)
             : tiles ? wb_audit_source_dir(&src, tiles)
                     : wb_audit_source_http(&src, a.pos[0]);
    /* the state file is named after the log's origin */
    if (rc == 0)
        rc = src.checkpoint(src.ctx, &note, &note_len);
    if (rc == 0 && !state) {
        rc = default_state(state_buf, sizeof(state_buf), note);
        state = state_buf;
    }
    if (rc == 0)
        rc = wb_audit_trust_from_state(&t, state);
    if (rc == 0 && !t.log_key && tiles) {
        rc = wb_error_set(WB_E_INVALID, "--tiles needs --log-key (or a key pinned by an "
                          "earlier audit of the same log)");
    } else if (rc == 0 && !t.log_key) {
        if (store) {
            wb_note_key *k = NULL;
            wb_log *log = NULL;
            rc = wb_log_open(&log, store, NULL);
            if (rc == 0) {
                char *v = NULL;
                rc = wb_note_verifier_string(&v, wb_log_verifier(log));
                if (rc == 0)
                    rc = wb_note_verifier_parse(&k, v, strlen(v));
                if (rc == 0)
                    fprintf(stderr, "waybill audit: trusting on first use the log key in "
                                    "%s: %s\n", store, v);
                free(v);
                wb_log_close(log);
            }
            t.log_key = k;
        } else {
            rc = fetch_keys(&t, a.pos[0]);
        }
    }
    if (rc == 0 && !fork_out) {
        snprintf(fork_buf, sizeof(fork_buf), "waybill-fork-%lld.json", (long long)time(NULL));
        fork_out = fork_buf;
    }
    if (rc == 0) {
        o.state_path = state;
        o.checkpoints = (const char *const *)cp_text;
        o.checkpoint_lens = cp_len;
        o.ncheckpoints = ncps;
        o.fork_out = fork_out;
        o.allow_unknown = allow_unknown;
        o.no_resume = restart;
        o.progress = progress;
        o.progress_ctx = &pc;
        if (pc.tty && !a.json)
            fprintf(stderr, "auditing %s (state %s)\n", src.what, state);
        rc = wb_audit_run(&rep, &src, &t, &o);
    }
    if (rc == 0)
        print_report(&rep, src.what, fork_out, policy_s ? &policy : NULL, a.json);
    wb_audit_source_cleanup(&src);
    wb_audit_trust_cleanup(&t);
    wb_witness_policy_cleanup(&policy);
    for (size_t i = 0; i < ncps; i++)
        free(cp_text[i]);
    free(note);
    if (rc)
        return cli_fail("audit", rc);
    return rep.failure == WB_AUDIT_OK ? WB_EXIT_OK : WB_EXIT_VERIFY;
}
