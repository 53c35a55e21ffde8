/*
 * test_faults.c: durability of the transparency service under faults.
 *
 * A real `waybill serve` process (durability full, the default) takes
 * registrations from several client threads and is killed with SIGKILL at
 * a random moment, five times. After each restart, and at the end:
 *   - every statement that was answered 201 is in the log exactly once
 *     (scanning every entry of the log itself),
 *   - the log passes its full self-check,
 *   - every 201 receipt still verifies, and its tree is a prefix of the
 *     final tree: a consistency proof from the receipt's tree size to the
 *     final signed checkpoint verifies against the receipt's root.
 */
#include "wbtest_scitt.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "waybill/error.h"
#include "waybill/log.h"
#include "waybill/note.h"
#include "waybill/scitt.h"
#include "waybill/util.h"

#define STATEMENTS 3000
#define CLIENTS 6
#define ROUNDS 5

typedef struct {
    uint8_t *st;
    size_t len;
    uint8_t id[32];       /* entry id: SHA-256 of the registered statement */
    int acked;            /* answered 201 */
    uint8_t *receipt;
    size_t rlen;
} item;

static item items[STATEMENTS];
static char url[64];
static int next_item;
static volatile int server_up;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static pid_t start_server(const char *data, const char *portfile)
{
    const char *bin = getenv("WB_BIN");
    pid_t pid;
    unlink(portfile);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execl(bin, bin, "serve", "--dev", data, "--listen", "127.0.0.1:0", "--port-file",
              portfile, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        char *text;
        struct stat sb;
        if (stat(portfile, &sb) == 0) {
            text = wbt_read_file(portfile, NULL);
            snprintf(url, sizeof(url), "http://127.0.0.1:%d", atoi(text));
            free(text);
            return pid;
        }
        usleep(50000);
    }
    kill(pid, SIGKILL);
    fail_msg("the server did not start");
    return -1;
}

static void *client(void *arg)
{
    (void)arg;
    while (server_up) {
        int i;
        wb_http_response r;
        char endpoint[128];
        pthread_mutex_lock(&mu);
        i = next_item < STATEMENTS ? next_item++ : -1;
        pthread_mutex_unlock(&mu);
        if (i < 0)
            break;
        snprintf(endpoint, sizeof(endpoint), "%s/entries", url);
        if (wb_http_request(&r, "POST", endpoint, items[i].st, items[i].len,
                            "application/cose", NULL, 10) != 0)
            continue; /* killed mid-request: its fate is unknown, allowed */
        if (r.status == 201) {
            items[i].receipt = r.body;
            items[i].rlen = r.len;
            r.body = NULL;
            items[i].acked = 1;
        }
        wb_http_response_cleanup(&r);
    }
    return NULL;
}

/* every acknowledged statement is in the log exactly once */
static void check_log(const char *data)
{
    wb_log *log;
    uint64_t size, checked;
    int *count = calloc(STATEMENTS, sizeof(int));
    if (wb_log_open(&log, data, NULL) != 0)
        fail_msg("open: %s", wb_error_message());
    if (wb_log_check(log, &checked) != 0)
        fail_msg("self-check: %s", wb_error_message());
    assert_int_equal(wb_log_head(log, &size, NULL, NULL, NULL), 0);
    for (uint64_t i = 0; i < size; i++) {
        uint8_t *e, id[32];
        size_t len;
        assert_int_equal(wb_log_entry(log, i, &e, &len), 0);
        wb_sha256(id, e, len);
        free(e);
        for (int k = 0; k < STATEMENTS; k++)
            if (memcmp(items[k].id, id, 32) == 0) {
                count[k]++;
                break;
            }
    }
    for (int k = 0; k < STATEMENTS; k++) {
        if (count[k] > 1)
            fail_msg("statement %d is in the log %d times", k, count[k]);
        if (items[k].acked && count[k] != 1)
            fail_msg("statement %d was answered 201 but is not in the log", k);
    }
    wb_log_close(log);
    free(count);
}

static void test_sigkill_under_load(void **state)
{
    (void)state;
    char *tmp = wbt_tmpdir("faults");
    char data[4200], issuers[4300], portfile[4300], keypath[4400];
    uint64_t seed = wbt_seed("faults");
    wb_key *keys[4];
    pid_t pid;
    int acked = 0;

    snprintf(data, sizeof(data), "%s/data", tmp);
    snprintf(issuers, sizeof(issuers), "%s/issuers", data);
    snprintf(portfile, sizeof(portfile), "%s/port", tmp);
    assert_int_equal(mkdir(data, 0700), 0);
    assert_int_equal(mkdir(issuers, 0755), 0);
    for (int k = 0; k < 4; k++) {
        assert_int_equal(wb_key_generate(&keys[k], WB_ALG_ES256), 0);
        snprintf(keypath, sizeof(keypath), "%s/issuer%d.pem", issuers, k);
        assert_int_equal(wb_key_write_file(keys[k], keypath, 0), 0);
    }
    for (int i = 0; i < STATEMENTS; i++) {
        char payload[96];
        wb_cose_sign1 m;
        uint8_t *reg;
        size_t reglen;
        snprintf(payload, sizeof(payload), "{\"kind\":\"custody\",\"n\":%d}", i);
        items[i].st = wbt_statement(&items[i].len, keys[i % 4], "supplier", "shipment",
                                    "application/json", payload, NULL, 0);
        assert_int_equal(wb_cose_sign1_decode(&m, items[i].st, items[i].len, WB_COSE_MAX), 0);
        assert_int_equal(wb_scitt_registered_statement(&reg, &reglen, &m), 0);
        wb_sha256(items[i].id, reg, reglen);
        free(reg);
        wb_cose_sign1_cleanup(&m);
    }

    for (int round = 0; round < ROUNDS; round++) {
        pthread_t t[CLIENTS];
        struct timespec ts;
        int status, now_acked = 0;
        pid = start_server(data, portfile);
        server_up = 1;
        for (int c = 0; c < CLIENTS; c++)
            assert_int_equal(pthread_create(&t[c], NULL, client, NULL), 0);
        ts.tv_sec = 0;
        ts.tv_nsec = (long)(150 + wbt_rand(&seed) % 400) * 1000000L;
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status));
        server_up = 0;
        for (int c = 0; c < CLIENTS; c++)
            pthread_join(t[c], NULL);
        check_log(data);
        for (int k = 0; k < STATEMENTS; k++)
            now_acked += items[k].acked;
        fprintf(stderr, "round %d: killed after %ld ms; %d statements acknowledged so far, "
                        "all present once\n",
                round, ts.tv_nsec / 1000000L, now_acked);
        acked = now_acked;
    }
    assert_true(acked > 0);

    /* every 201 receipt verifies, and its tree is a prefix of the final one */
    pid = start_server(data, portfile);
    {
        wb_http_response r;
        char pubpath[4300];
        uint8_t *pub;
        size_t publen;
        wb_note_key *vk;
        uint64_t proven_size = 0;
        uint8_t proven_root[32];
        int verified = 0;
        snprintf(pubpath, sizeof(pubpath), "%s/log.pub", data);
        assert_int_equal(wb_file_read(pubpath, 4096, &pub, &publen), 0);
        assert_int_equal(wb_note_verifier_parse(&vk, (char *)pub, publen - 1), 0);
        for (int k = 0; k < STATEMENTS; k++) {
            wb_receipt_info info;
            char path[128];
            wb_proof_text p;
            wb_checkpoint cp;
            if (!items[k].acked)
                continue;
            if (wbt_verify_receipt(url, items[k].receipt, items[k].rlen, items[k].st,
                                   items[k].len, &info) != 0)
                fail_msg("receipt of statement %d: %s", k, wb_error_message());
            if (info.tree_size == proven_size &&
                memcmp(info.root, proven_root, 32) == 0) {
                verified++;
                continue;
            }
            snprintf(path, sizeof(path), "/proofs/consistency?old=%llu",
                     (unsigned long long)info.tree_size);
            wbt_get(&r, url, path);
            assert_int_equal(r.status, 200);
            assert_int_equal(wb_proof_text_parse(&p, (char *)r.body, r.len), 0);
            assert_int_equal(wb_checkpoint_open(&cp, p.checkpoint, p.checkpoint_len, vk), 0);
            if (wb_merkle_consistency_verify(info.tree_size, cp.size,
                                             (const uint8_t(*)[32])p.hashes, p.nhashes,
                                             info.root, cp.root) != 0)
                fail_msg("receipt of statement %d (tree %llu) is not a prefix of the final "
                         "tree %llu: %s", k, (unsigned long long)info.tree_size,
                         (unsigned long long)cp.size, wb_error_message());
            proven_size = info.tree_size;
            memcpy(proven_root, info.root, 32);
            wb_checkpoint_cleanup(&cp);
            wb_proof_text_cleanup(&p);
            wb_http_response_cleanup(&r);
            verified++;
        }
        fprintf(stderr, "%d receipts verified and proven consistent with the final tree\n",
                verified);
        assert_int_equal(verified, acked);
        wb_note_key_free(vk);
        free(pub);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    check_log(data);
    for (int k = 0; k < 4; k++)
        wb_key_free(keys[k]);
    for (int i = 0; i < STATEMENTS; i++) {
        free(items[i].st);
        free(items[i].receipt);
    }
    wbt_rmtree(tmp);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_under_load),
    };
    return cmocka_run_group_tests_name("server/faults", tests, NULL, NULL);
}
