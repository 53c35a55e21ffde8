/*
 * test_failover.c: three `waybill serve` nodes over one PostgreSQL on
 * loopback (DESIGN.md "Multi-node", docs/deploy.md). Writers post to all
 * three while the sequencer node is killed with SIGKILL several times (and
 * restarted). Then:
 *   - a new sequencer took over each time, within a few seconds (printed);
 *   - every statement answered 201 is in the log exactly once;
 *   - every checkpoint seen, from any node, is consistent with the next;
 *   - every receipt, from any node, verifies and its tree is a prefix of
 *     the final tree.
 */
#include "wbtest.h"
#include "wbtest_pg.h"
#include "wbtest_scitt.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "waybill/client.h"
#include "waybill/cose.h"
#include "waybill/error.h"
#include "waybill/log.h"
#include "waybill/merkle.h"
#include "waybill/note.h"
#include "waybill/scitt.h"

#define NODES 3
#define KILLS 3
#define WRITERS 3
#define MAX_ACKS 20000

static char T[512], KEYS[600];
static wbt_pg PG;
static wb_key *ISSUER;

typedef struct {
    pid_t pid;
    char url[64];
    char ini[700];
    char portfile[700];
} node;
static node NODE[NODES];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void node_start(int i)
{
    node *n = &NODE[i];
    const char *bin = getenv("WB_BIN");
    char log[700];
    unlink(n->portfile);
    snprintf(log, sizeof(log), "%s/node%d.log", T, i);
    n->pid = fork();
    assert_true(n->pid >= 0);
    if (n->pid == 0) {
        FILE *f = freopen(log, "a", stderr);
        (void)f;
        execl(bin, bin, "serve", "--config", n->ini, "--port-file", n->portfile, (char *)NULL);
        _exit(127);
    }
    for (int k = 0; k < 200; k++) {
        struct stat sb;
        if (stat(n->portfile, &sb) == 0 && sb.st_size > 0)
            break;
        usleep(50000);
    }
    {
        size_t len;
        char *port = wbt_read_file(n->portfile, &len);
        snprintf(n->url, sizeof(n->url), "http://127.0.0.1:%d", atoi(port));
        free(port);
    }
}

static void node_kill(int i)
{
    kill(NODE[i].pid, SIGKILL);
    waitpid(NODE[i].pid, NULL, 0);
    NODE[i].pid = 0;
}

/* 1 if node i says it is the sequencer (GET /metrics) */
static int is_sequencer(int i)
{
    wb_http_response r;
    char url[128];
    int yes = 0;
    if (!NODE[i].pid)
        return 0;
    snprintf(url, sizeof(url), "%s/metrics", NODE[i].url);
    if (wb_http_request(&r, "GET", url, NULL, 0, NULL, "text/plain", 2) != 0)
        return 0;
    yes = r.status == 200 && strstr((const char *)r.body, "\nwaybill_cluster_sequencer 1") != NULL;
    wb_http_response_cleanup(&r);
    return yes;
}

static int find_sequencer(double timeout_s)
{
    double until = now_s() + timeout_s;
    while (now_s() < until) {
        for (int i = 0; i < NODES; i++)
            if (is_sequencer(i))
                return i;
        usleep(50000);
    }
    return -1;
}

/* ---- writers ---- */

typedef struct {
    uint8_t id[32];      /* SHA-256 of the registered statement */
    uint8_t *stmt;
    size_t len;
    uint8_t *receipt;
    size_t rlen;
    int node;
} ack;

static pthread_mutex_t MU = PTHREAD_MUTEX_INITIALIZER;
static ack ACKS[MAX_ACKS];
static size_t NACKS;
static int STOP;
static uint64_t RETRIES;

static void *writer(void *arg)
{
    int w = (int)(intptr_t)arg;
    for (int k = 0; !__atomic_load_n(&STOP, __ATOMIC_ACQUIRE); k++) {
        char sub[64], payload[96];
        size_t len;
        uint8_t *st;
        snprintf(sub, sizeof(sub), "w%d-%d", w, k);
        snprintf(payload, sizeof(payload), "{\"writer\":%d,\"n\":%d}", w, k);
        st = wbt_statement(&len, ISSUER, "cluster.test", sub, "application/json", payload,
                           NULL, 0);
        /* a node that dies mid-request: the same statement again, to any node */
        for (int attempt = 0; attempt < 200; attempt++) {
            int i = (w + k + attempt) % NODES;
            wb_register_result res;
            int rc;
            if (!__atomic_load_n(&NODE[i].pid, __ATOMIC_ACQUIRE)) {
                usleep(20000);
                continue;
            }
            rc = wb_client_register(&res, NODE[i].url, st, len, 20, NULL, NULL);
            if (rc == 0) {
                pthread_mutex_lock(&MU);
                if (NACKS < MAX_ACKS) {
                    ack *a = &ACKS[NACKS++];
                    a->stmt = st;
                    a->len = len;
                    a->receipt = res.receipt;
                    a->rlen = res.receipt_len;
                    a->node = i;
                    st = NULL;
                    res.receipt = NULL;
                }
                pthread_mutex_unlock(&MU);
                wb_register_result_cleanup(&res);
                break;
            }
            __atomic_add_fetch(&RETRIES, 1, __ATOMIC_RELAXED);
            wb_register_result_cleanup(&res);
            usleep(50000);
        }
        free(st);
    }
    return NULL;
}

/* ---- checkpoints seen over time ---- */

#define MAX_CPS 4000
static wb_checkpoint CPS[MAX_CPS];
static size_t NCPS;

static void sample_checkpoint(const wb_note_key *vk)
{
    for (int i = 0; i < NODES; i++) {
        wb_http_response r;
        char url[128];
        if (!NODE[i].pid || NCPS >= MAX_CPS)
            continue;
        snprintf(url, sizeof(url), "%s/checkpoint", NODE[i].url);
        if (wb_http_request(&r, "GET", url, NULL, 0, NULL, "text/plain", 2) != 0)
            continue;
        if (r.status == 200 &&
            wb_checkpoint_open(&CPS[NCPS], (const char *)r.body, r.len, vk) == 0)
            NCPS++;
        wb_http_response_cleanup(&r);
    }
}

static int cp_cmp(const void *x, const void *y)
{
    const wb_checkpoint *a = x, *b = y;
    return a->size < b->size ? -1 : a->size > b->size;
}

/* consistency proof old -> new from a node, verified */
static void check_consistent(const char *base, const wb_checkpoint *a, const wb_checkpoint *b)
{
    char path[128];
    wb_http_response r;
    wb_proof_text p;
    if (a->size == b->size) {
        assert_memory_equal(a->root, b->root, 32);
        return;
    }
    if (a->size == 0)
        return;
    snprintf(path, sizeof(path), "/proofs/consistency?old=%llu&new=%llu",
             (unsigned long long)a->size, (unsigned long long)b->size);
    wbt_get(&r, base, path);
    assert_int_equal(r.status, 200);
    assert_int_equal(wb_proof_text_parse(&p, (const char *)r.body, r.len), 0);
    if (wb_merkle_consistency_verify(a->size, b->size, (const uint8_t(*)[32])p.hashes,
                                     p.nhashes, a->root, b->root) != 0)
        fail_msg("checkpoints %llu and %llu are not consistent: %s",
                 (unsigned long long)a->size, (unsigned long long)b->size,
                 wb_error_message());
    wb_proof_text_cleanup(&p);
    wb_http_response_cleanup(&r);
}

static void test_failover(void **state)
{
    pthread_t th[WRITERS];
    wb_note_key *vk;
    double t0, failover_max = 0, failover_sum = 0;
    char path[700];
    (void)state;

    /* the log's keys (shared by the nodes) */
    {
        char *txt;
        size_t len;
        snprintf(path, sizeof(path), "%s/log.pub", KEYS);
        txt = wbt_read_file(path, &len);
        while (len && txt[len - 1] == '\n')
            len--;
        assert_int_equal(wb_note_verifier_parse(&vk, txt, len), 0);
        free(txt);
    }
    for (int w = 0; w < WRITERS; w++)
        assert_int_equal(pthread_create(&th[w], NULL, writer, (void *)(intptr_t)w), 0);

    t0 = now_s();
    for (int k = 0; k < KILLS; k++) {
        int seq, next;
        double killed, took;
        /* let it work for a while, sampling checkpoints */
        for (int s = 0; s < 8; s++) {
            sample_checkpoint(vk);
            usleep(100000);
        }
        seq = find_sequencer(10);
        if (seq < 0)
            fail_msg("no sequencer among the nodes");
        node_kill(seq);
        killed = now_s();
        next = find_sequencer(15);
        took = now_s() - killed;
        if (next < 0)
            fail_msg("no node took over as sequencer within 15 s");
        print_message("kill %d: node %d (sequencer) killed, node %d took over in %.2f s\n",
                      k + 1, seq, next, took);
        failover_max = took > failover_max ? took : failover_max;
        failover_sum += took;
        node_start(seq); /* it comes back, as a follower */
    }
    for (int s = 0; s < 8; s++) {
        sample_checkpoint(vk);
        usleep(100000);
    }
    __atomic_store_n(&STOP, 1, __ATOMIC_RELEASE);
    for (int w = 0; w < WRITERS; w++)
        pthread_join(th[w], NULL);
    print_message("%zu statements acknowledged in %.1f s through %d kills (%llu retries); "
                  "failover: max %.2f s, mean %.2f s\n", NACKS, now_s() - t0, KILLS,
                  (unsigned long long)RETRIES, failover_max, failover_sum / KILLS);
    assert_true(NACKS > 50);

    /* the final tree, from one node; every checkpoint seen is a prefix */
    {
        wb_log *log;
        wb_store *store;
        uint64_t size;
        char *note = NULL;
        size_t note_len;
        wb_checkpoint final;
        int seq = find_sequencer(10);
        assert_true(seq >= 0);
        sample_checkpoint(vk);
        qsort(CPS, NCPS, sizeof(CPS[0]), cp_cmp);
        final = CPS[NCPS - 1];
        for (size_t i = 0; i + 1 < NCPS; i++)
            check_consistent(NODE[seq].url, &CPS[i], &CPS[i + 1]);
        print_message("%zu checkpoints seen, each consistent with the next; final size %llu\n",
                      NCPS, (unsigned long long)final.size);

        /* exactly once: every acknowledged statement's leaf, counted in the log */
        assert_int_equal(wb_store_open_postgres(&store, PG.conninfo, NULL), 0);
        assert_int_equal(wb_log_open_store(&log, KEYS, store, NULL), 0);
        assert_int_equal(wb_log_head(log, &size, NULL, &note, &note_len), 0);
        free(note);
        {
            uint8_t (*ids)[32] = calloc(size, 32);
            for (uint64_t i = 0; i < size; i++) {
                uint8_t *e;
                size_t el;
                assert_int_equal(wb_log_entry(log, i, &e, &el), 0);
                assert_int_equal(wb_sha256(ids[i], e, el), 0);
                free(e);
            }
            for (size_t a = 0; a < NACKS; a++) {
                wb_registration reg;
                size_t count = 0;
                wb_cose_sign1 m;
                uint8_t *regd;
                size_t rl;
                (void)reg;
                assert_int_equal(wb_cose_sign1_decode(&m, ACKS[a].stmt, ACKS[a].len,
                                                      WB_STATEMENT_MAX), 0);
                assert_int_equal(wb_scitt_registered_statement(&regd, &rl, &m), 0);
                assert_int_equal(wb_sha256(ACKS[a].id, regd, rl), 0);
                free(regd);
                wb_cose_sign1_cleanup(&m);
                for (uint64_t i = 0; i < size; i++)
                    count += memcmp(ids[i], ACKS[a].id, 32) == 0;
                if (count != 1)
                    fail_msg("acknowledged statement %zu is in the log %zu times", a, count);
                /* its receipt verifies, against a tree that is a prefix of the final */
                {
                    wb_receipt_info info;
                    if (wbt_verify_receipt(NODE[seq].url, ACKS[a].receipt, ACKS[a].rlen,
                                           ACKS[a].stmt, ACKS[a].len, &info) != 0)
                        fail_msg("receipt %zu (from node %d) does not verify: %s", a,
                                 ACKS[a].node, wb_error_message());
                    if (info.tree_size < final.size) {
                        wb_checkpoint at;
                        memset(&at, 0, sizeof(at));
                        at.size = info.tree_size;
                        memcpy(at.root, info.root, 32);
                        check_consistent(NODE[seq].url, &at, &final);
                    }
                }
            }
            free(ids);
        }
        wb_log_close(log);
        for (size_t i = 0; i < NCPS; i++)
            wb_checkpoint_cleanup(&CPS[i]);
    }
    for (size_t a = 0; a < NACKS; a++) {
        free(ACKS[a].stmt);
        free(ACKS[a].receipt);
    }
    wb_note_key_free(vk);
}

static int setup(void **state)
{
    char *tmp = wbt_tmpdir("cluster");
    char path[800];
    (void)state;
    if (!getenv("WB_BIN"))
        fail_msg("WB_BIN must name the waybill binary");
    snprintf(T, sizeof(T), "%s", tmp);
    free(tmp);
    wbt_pg_start(&PG, "cluster");
    /* the shared keys: the log key, the receipt key, a development issuer */
    snprintf(KEYS, sizeof(KEYS), "%s/keys", T);
    assert_int_equal(mkdir(KEYS, 0700), 0);
    snprintf(path, sizeof(path), "%s/issuers", KEYS);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(wb_key_generate(&ISSUER, WB_ALG_ED25519), 0);
    snprintf(path, sizeof(path), "%s/issuers/writer.pem", KEYS);
    assert_int_equal(wb_key_write_file(ISSUER, path, 0), 0);
    for (int i = 0; i < NODES; i++) {
        FILE *f;
        snprintf(NODE[i].ini, sizeof(NODE[i].ini), "%s/node%d.ini", T, i);
        snprintf(NODE[i].portfile, sizeof(NODE[i].portfile), "%s/node%d.port", T, i);
        f = fopen(NODE[i].ini, "w");
        assert_non_null(f);
        fprintf(f, "[service]\nname = cluster.test/log\ndata_dir = %s\ndatabase = %s\n"
                   "listen = 127.0.0.1:0\ndev = true\n"
                   "[batch]\nmax_entries = 256\ninterval_ms = 5\ndurability = normal\n",
                KEYS, PG.conninfo);
        fclose(f);
        node_start(i); /* one after the other: the first makes the keys and tables */
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < NODES; i++)
        if (NODE[i].pid) {
            kill(NODE[i].pid, SIGTERM);
            waitpid(NODE[i].pid, NULL, 0);
        }
    wbt_pg_stop(&PG);
    wb_key_free(ISSUER);
    if (!getenv("WB_KEEP"))
        wbt_rmtree(T);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failover),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
