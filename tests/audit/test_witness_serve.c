/*
 * test_witness_serve.c: `waybill witness keygen` and `waybill witness serve`
 * as a user runs them: the real binary ($WB_BIN) on a free loopback port
 * (--listen 127.0.0.1:0 --port-file F), spoken to by the library's
 * tlog-witness client: a first checkpoint cosigned and verified with the
 * printed vkey, 409 with the witness's size, 404, 400, 405, the state kept
 * across a restart, a clean stop on SIGTERM, and usage errors.
 */
#include "wbtest.h"

#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "waybill/client.h"
#include "waybill/error.h"
#include "waybill/merkle.h"
#include "waybill/util.h"
#include "waybill/witness.h"

#define ORIGIN "example.com/log"

#define assert_ok(call)                                                          \
    do {                                                                         \
        int rc_ = (call);                                                        \
        if (rc_ != 0)                                                            \
            fail_msg("%s: %s: %s", #call, wb_error_name(rc_), wb_error_message()); \
    } while (0)

static const char *bin(void)
{
    const char *b = getenv("WB_BIN");
    if (!b)
        fail_msg("WB_BIN must name the waybill binary");
    return b;
}

/* runs argv (NULL-terminated), returns the exit code; stdout into out */
static int run(char *const argv[], char *out, size_t cap)
{
    int fds[2], status = 0;
    pid_t pid;
    size_t used = 0;
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(fds[1], 1);
        if (devnull >= 0)
            dup2(devnull, 2);
        close(fds[0]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    for (;;) {
        ssize_t n = read(fds[0], out + used, cap - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
        if (used == cap - 1)
            break;
    }
    out[used] = '\0';
    close(fds[0]);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* starts `waybill witness serve` and waits for its port file */
static pid_t serve(const char *dir, unsigned short *port)
{
    char db[512], key[512], log[512], pf[512];
    pid_t pid;
    snprintf(db, sizeof(db), "%s/w.db", dir);
    snprintf(key, sizeof(key), "%s/w.key", dir);
    snprintf(log, sizeof(log), "%s/log.vkey", dir);
    snprintf(pf, sizeof(pf), "%s/port", dir);
    unlink(pf);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(bin(), bin(), "witness", "serve", "--db", db, "--key", key, "--log", log,
              "--listen", "127.0.0.1:0", "--port-file", pf, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 1000; i++) { /* up to 10 s */
        FILE *f = fopen(pf, "r");
        unsigned p = 0;
        if (f) {
            int got = fscanf(f, "%u", &p);
            fclose(f);
            if (got == 1 && p > 0) {
                *port = (unsigned short)p;
                return pid;
            }
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    fail_msg("witness serve did not write its port file");
    return -1;
}

static int stop(pid_t pid)
{
    int status = 0;
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int tree_fn(void *ctx, uint8_t out[WB_HASH_LEN], unsigned level, uint64_t index)
{
    uint8_t(*leaves)[WB_HASH_LEN] = ctx;
    uint8_t l[WB_HASH_LEN], r[WB_HASH_LEN];
    if (level == 0) {
        memcpy(out, leaves[index], WB_HASH_LEN);
        return 0;
    }
    tree_fn(ctx, l, level - 1, 2 * index);
    tree_fn(ctx, r, level - 1, 2 * index + 1);
    wb_merkle_node_hash(out, l, r);
    return 0;
}

static char *checkpoint(wb_note_key *key, const char *origin, uint8_t (*leaves)[WB_HASH_LEN],
                        uint64_t size, size_t *len)
{
    wb_checkpoint cp;
    char *body = NULL, *note = NULL;
    size_t blen = 0;
    memset(&cp, 0, sizeof(cp));
    snprintf(cp.origin, sizeof(cp.origin), "%s", origin);
    cp.size = size;
    assert_ok(wb_merkle_root(cp.root, size, tree_fn, leaves));
    assert_ok(wb_checkpoint_format(&body, &blen, &cp));
    assert_ok(wb_note_sign(&note, len, body, blen, &key, 1));
    free(body);
    return note;
}

static void test_serve(void **state)
{
    char *dir = wbt_tmpdir("witness-serve"), path[512], out[4096], url[64];
    char *vlog = NULL, *all;
    uint8_t leaves[64][WB_HASH_LEN], proof[WB_MERKLE_MAX_PROOF][WB_HASH_LEN];
    wb_note_key *log = NULL, *stranger = NULL, *wv = NULL;
    wb_witness_reply rep;
    unsigned short port = 0;
    size_t nlen, np = 0;
    char *note;
    pid_t pid;
    (void)state;

    for (int i = 0; i < 64; i++) {
        char d[16];
        snprintf(d, sizeof(d), "e%d", i);
        wb_merkle_leaf_hash(leaves[i], d, strlen(d));
    }
    /* keys: the witness's from the command line, the log's from the library */
    snprintf(path, sizeof(path), "%s/w.key", dir);
    {
        char *argv[] = {(char *)bin(), "witness", "keygen", "witness.example/w1", "--out",
                        path, NULL};
        assert_int_equal(run(argv, out, sizeof(out)), 0);
        out[strcspn(out, "\n")] = '\0';
        assert_ok(wb_cosig_verifier_parse(&wv, out, strlen(out)));
        /* a second keygen to the same file is refused */
        assert_int_equal(run(argv, out, sizeof(out)), 4);
    }
    assert_ok(wb_note_key_generate(&log, ORIGIN));
    assert_ok(wb_note_verifier_string(&vlog, log));
    snprintf(path, sizeof(path), "%s/log.vkey", dir);
    {
        char line[600];
        snprintf(line, sizeof(line), "%s\n", vlog);
        wbt_write_file(path, line, strlen(line));
    }

    pid = serve(dir, &port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);

    /* first checkpoint: cosigned, and the cosignature verifies */
    note = checkpoint(log, ORIGIN, leaves, 5, &nlen);
    assert_ok(wb_witness_add_checkpoint(&rep, url, 0, NULL, 0, note, nlen, 5000));
    assert_int_equal(rep.status, 200);
    all = malloc(nlen + rep.cosig_len + 1);
    memcpy(all, note, nlen);
    memcpy(all + nlen, rep.cosig, rep.cosig_len);
    {
        wb_note opened;
        uint64_t t = 0;
        assert_ok(wb_note_open(&opened, all, nlen + rep.cosig_len, &log, 1));
        assert_ok(wb_cosig_verify(&opened, wv, &t));
        assert_true(t > 1700000000u);
        wb_note_cleanup(&opened);
    }
    free(all);
    wb_witness_reply_cleanup(&rep);
    free(note);

    /* a stale old size: 409 and the size */
    note = checkpoint(log, ORIGIN, leaves, 9, &nlen);
    assert_ok(wb_witness_add_checkpoint(&rep, url, 0, NULL, 0, note, nlen, 5000));
    assert_int_equal(rep.status, 409);
    assert_int_equal(rep.size, 5);
    wb_witness_reply_cleanup(&rep);
    /* with the proof from 5: cosigned */
    assert_ok(wb_merkle_consistency_proof(proof, &np, 5, 9, tree_fn, leaves));
    assert_ok(wb_witness_add_checkpoint(&rep, url, 5, (const uint8_t(*)[WB_HASH_LEN])proof,
                                        np, note, nlen, 5000));
    assert_int_equal(rep.status, 200);
    wb_witness_reply_cleanup(&rep);
    /* a bad proof: 422 with a reason */
    free(note);
    note = checkpoint(log, ORIGIN, leaves, 20, &nlen);
    assert_ok(wb_merkle_consistency_proof(proof, &np, 9, 20, tree_fn, leaves));
    proof[0][0] ^= 0xff;
    assert_ok(wb_witness_add_checkpoint(&rep, url, 9, (const uint8_t(*)[WB_HASH_LEN])proof,
                                        np, note, nlen, 5000));
    assert_int_equal(rep.status, 422);
    assert_non_null(rep.detail);
    wb_witness_reply_cleanup(&rep);
    free(note);

    /* an unknown log: 404 */
    assert_ok(wb_note_key_generate(&stranger, "stranger.example/log"));
    note = checkpoint(stranger, "stranger.example/log", leaves, 3, &nlen);
    assert_ok(wb_witness_add_checkpoint(&rep, url, 0, NULL, 0, note, nlen, 5000));
    assert_int_equal(rep.status, 404);
    wb_witness_reply_cleanup(&rep);
    free(note);

    /* raw HTTP: a malformed body 400, a GET 405, another path 404 */
    {
        wb_http_response r;
        char target[128];
        snprintf(target, sizeof(target), "%s/add-checkpoint", url);
        assert_ok(wb_http_request(&r, "POST", target, (const uint8_t *)"old x\n\n", 7,
                                  "text/plain", NULL, 5));
        assert_int_equal(r.status, 400);
        wb_http_response_cleanup(&r);
        assert_ok(wb_http_request(&r, "GET", target, NULL, 0, NULL, NULL, 5));
        assert_int_equal(r.status, 405);
        wb_http_response_cleanup(&r);
        snprintf(target, sizeof(target), "%s/checkpoint", url);
        assert_ok(wb_http_request(&r, "GET", target, NULL, 0, NULL, NULL, 5));
        assert_int_equal(r.status, 404);
        wb_http_response_cleanup(&r);
    }
    assert_int_equal(stop(pid), 0);

    /* the witness is down: the client says so */
    note = checkpoint(log, ORIGIN, leaves, 20, &nlen);
    assert_int_equal(wb_witness_add_checkpoint(&rep, url, 9, NULL, 0, note, nlen, 2000),
                     WB_E_IO);
    assert_int_equal(rep.status, 0);
    free(note);

    /* restarted: it remembers size 9 */
    pid = serve(dir, &port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
    note = checkpoint(log, ORIGIN, leaves, 20, &nlen);
    assert_ok(wb_witness_add_checkpoint(&rep, url, 0, NULL, 0, note, nlen, 5000));
    assert_int_equal(rep.status, 409);
    assert_int_equal(rep.size, 9);
    wb_witness_reply_cleanup(&rep);
    free(note);
    assert_int_equal(stop(pid), 0);

    /* usage and input errors */
    {
        char *argv1[] = {(char *)bin(), "witness", "serve", "--key", path, NULL};
        char *argv2[] = {(char *)bin(), "witness", "keygen", "--out", path, NULL};
        char *argv3[] = {(char *)bin(), "witness", "serve", "--db", path, "--key", path,
                         "--log", vlog, NULL};
        char *argv4[] = {(char *)bin(), "witness", "serve", "--help", NULL};
        assert_int_equal(run(argv1, out, sizeof(out)), 2);
        assert_int_equal(run(argv2, out, sizeof(out)), 2);
        /* a log vkey file given as the witness key: refused as input */
        assert_int_equal(run(argv3, out, sizeof(out)), 3);
        assert_int_equal(run(argv4, out, sizeof(out)), 0);
        assert_non_null(strstr(out, "add-checkpoint"));
    }

    free(vlog);
    wb_note_key_free(log);
    wb_note_key_free(stranger);
    wb_note_key_free(wv);
    wbt_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serve),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
