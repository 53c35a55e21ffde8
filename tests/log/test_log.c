/*
 * test_log.c: the log over SQLite: init, batch append into tiles and
 * bundles, signed checkpoints, proofs from tiles checked against an
 * independent in-memory model, and refusal of bad input with nothing
 * written.
 */
#include "wbtest.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/log.h"
#include "waybill/util.h"

typedef struct {
    char *dir;
    char logdir[4200];
    wb_log *log;
    /* the model: every entry's leaf hash */
    uint8_t (*leaves)[32];
    size_t n, cap;
    uint64_t seed;
} fixture;

/* RFC 9162 §2.1.1 MTH, straight from the definition */
static void mth(uint8_t out[32], uint8_t (*leaves)[32], size_t n)
{
    size_t k = 1;
    uint8_t l[32], r[32];
    if (n == 0) {
        wb_sha256(out, "", 0);
        return;
    }
    if (n == 1) {
        memcpy(out, leaves[0], 32);
        return;
    }
    while (k * 2 < n)
        k *= 2;
    mth(l, leaves, k);
    mth(r, leaves + k, n - k);
    wb_merkle_node_hash(out, l, r);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    wb_log_options opt = {.sync_normal = 1};
    f->dir = wbt_tmpdir("log");
    snprintf(f->logdir, sizeof(f->logdir), "%s/log", f->dir);
    if (wb_log_init(f->logdir, "example.com/test-log") != 0)
        fail_msg("init: %s", wb_error_message());
    if (wb_log_open(&f->log, f->logdir, &opt) != 0)
        fail_msg("open: %s", wb_error_message());
    f->seed = wbt_seed("log");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    wb_log_close(f->log);
    wbt_rmtree(f->dir);
    free(f->dir);
    free(f->leaves);
    free(f);
    return 0;
}

static size_t entry_bytes(uint8_t *buf, uint64_t index)
{
    /* deterministic content of a varying length: 1..600 bytes */
    size_t len = 1 + (size_t)((index * 2654435761u) % 600);
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(index * 31 + i * 7);
    snprintf((char *)buf, len, "e%llu", (unsigned long long)index);
    return len;
}

/* appends a batch of n model entries */
static void append_batch(fixture *f, size_t n)
{
    wb_entry *e = calloc(n, sizeof(*e));
    uint8_t *bufs = malloc(n * 600);
    uint64_t first;
    if (f->n + n > f->cap) {
        f->cap = (f->n + n) * 2;
        f->leaves = realloc(f->leaves, f->cap * 32);
    }
    for (size_t i = 0; i < n; i++) {
        e[i].data = bufs + i * 600;
        e[i].len = entry_bytes(bufs + i * 600, f->n + i);
        wb_merkle_leaf_hash(f->leaves[f->n + i], e[i].data, e[i].len);
    }
    if (wb_log_append(f->log, e, n, &first) != 0)
        fail_msg("append: %s", wb_error_message());
    assert_true(first == f->n);
    f->n += n;
    free(e);
    free(bufs);
}

static void check_head(fixture *f)
{
    uint64_t size;
    uint8_t root[32], want[32];
    char *cp;
    size_t cplen;
    wb_checkpoint c;
    assert_int_equal(wb_log_head(f->log, &size, root, &cp, &cplen), 0);
    assert_true(size == f->n);
    mth(want, f->leaves, f->n);
    assert_memory_equal(root, want, 32);
    /* the checkpoint verifies and names this size and root */
    assert_int_equal(wb_checkpoint_open(&c, cp, cplen, wb_log_verifier(f->log)), 0);
    assert_true(c.size == f->n);
    assert_memory_equal(c.root, want, 32);
    assert_string_equal(c.origin, "example.com/test-log");
    wb_checkpoint_cleanup(&c);
    free(cp);
}

static void test_init_state(void **state)
{
    fixture *f = *state;
    struct stat sb;
    char path[4300];
    check_head(f);
    snprintf(path, sizeof(path), "%s/log.key", f->logdir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    /* refuses to overwrite */
    assert_int_equal(wb_log_init(f->logdir, "example.com/other"), WB_E_EXISTS);
    assert_non_null(strstr(wb_error_message(), "refusing to overwrite"));
    /* bad origins */
    snprintf(path, sizeof(path), "%s/other", f->dir);
    assert_int_equal(wb_log_init(path, "has space"), WB_E_INVALID);
    assert_int_equal(wb_log_init(path, "a+b"), WB_E_INVALID);
    assert_int_equal(wb_log_init(path, ""), WB_E_INVALID);
    assert_int_not_equal(stat(path, &sb), 0); /* nothing created */
    /* not a log */
    wb_log *l2;
    assert_int_equal(wb_log_open(&l2, f->dir, NULL), WB_E_NOTFOUND);
    assert_non_null(strstr(wb_error_message(), "waybill log init"));
}

static void test_append_matches_model(void **state)
{
    fixture *f = *state;
    /* batch sizes that cross tile and bundle edges in every way */
    size_t sizes[] = {1, 1, 1, 253, 1, 255, 256, 257, 300, 1000, 511, 513, 7, 2, 600};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        append_batch(f, sizes[i]);
        check_head(f);
    }
    assert_true(f->n == 3958);
    uint64_t checked = 0;
    if (wb_log_check(f->log, &checked) != 0)
        fail_msg("check: %s", wb_error_message());
    assert_true(checked == f->n);
}

static void test_tiles_and_entries(void **state)
{
    fixture *f = *state;
    uint8_t *data;
    size_t len;
    append_batch(f, 70000 / 100);
    append_batch(f, 65536 + 256 * 3 + 5 - 700); /* size 66309: level-2 tile exists */
    /* every level-0 tile equals the model's leaf hashes */
    for (uint64_t N = 0; N * 256 < f->n; N++) {
        unsigned w = wb_tile_width(0, N, f->n);
        assert_int_equal(wb_log_read_tile(f->log, 0, N, w, &data, &len), 0);
        assert_int_equal(len, w * 32);
        assert_memory_equal(data, f->leaves[N * 256], len);
        free(data);
    }
    /* level-1 hash i is the MTH of leaves [256 i, 256 i + 256) */
    {
        unsigned w = wb_tile_width(1, 0, f->n);
        assert_int_equal(w, 256);
        assert_int_equal(wb_log_read_tile(f->log, 1, 0, w, &data, &len), 0);
        for (unsigned i = 0; i < w; i += 37) {
            uint8_t want[32];
            mth(want, f->leaves + i * 256, 256);
            assert_memory_equal(data + i * 32, want, 32);
        }
        free(data);
        assert_int_equal(wb_tile_width(1, 1, f->n), 3);
        assert_int_equal(wb_log_read_tile(f->log, 2, 0, 1, &data, &len), 0);
        {
            uint8_t want[32];
            mth(want, f->leaves, 65536);
            assert_memory_equal(data, want, 32);
        }
        free(data);
    }
    /* a partial read of a full tile is its prefix; past the tree is not found */
    assert_int_equal(wb_log_read_tile(f->log, 0, 0, 10, &data, &len), 0);
    assert_int_equal(len, 320);
    assert_memory_equal(data, f->leaves[0], 320);
    free(data);
    assert_int_equal(wb_log_read_tile(f->log, 0, f->n / 256, 256, &data, &len),
                     WB_E_NOTFOUND);
    assert_int_equal(wb_log_read_tile(f->log, 3, 0, 1, &data, &len), WB_E_NOTFOUND);
    /* entries read back, and bundles hash to level-0 tiles */
    for (uint64_t i = 0; i < f->n; i += 97) {
        uint8_t want[600];
        size_t wl = entry_bytes(want, i);
        assert_int_equal(wb_log_entry(f->log, i, &data, &len), 0);
        assert_int_equal(len, wl);
        assert_memory_equal(data, want, wl);
        free(data);
    }
    assert_int_equal(wb_log_entry(f->log, f->n, &data, &len), WB_E_RANGE);
    {
        uint64_t N = f->n / 256;
        unsigned w = wb_bundle_width(N, f->n);
        wb_reader r, e;
        assert_int_equal(wb_log_read_bundle(f->log, N, w, &data, &len), 0);
        wb_reader_init(&r, data, len);
        for (unsigned i = 0; i < w; i++) {
            uint8_t leaf[32];
            assert_int_equal(wb_reader_get_u16_prefixed(&r, &e), 1);
            wb_merkle_leaf_hash(leaf, e.ptr, wb_reader_left(&e));
            assert_memory_equal(leaf, f->leaves[N * 256 + i], 32);
        }
        assert_int_equal(wb_reader_left(&r), 0);
        free(data);
        assert_int_equal(wb_log_read_bundle(f->log, N, w + 1, &data, &len), WB_E_NOTFOUND);
    }
}

static void test_proofs_from_tiles(void **state)
{
    fixture *f = *state;
    uint64_t sizes[40];
    size_t ns = 0;
    size_t batches[] = {1, 2, 5, 120, 136, 255, 1, 512, 3000, 44};
    for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
        append_batch(f, batches[b]);
        sizes[ns++] = f->n;
    }
    for (size_t s = 0; s < ns; s++) {
        uint64_t size = sizes[s];
        uint8_t root[32], proof[WB_MERKLE_MAX_PROOF][32];
        size_t np;
        mth(root, f->leaves, size);
        /* inclusion at a sample of indexes, including both ends */
        for (int k = 0; k < 60; k++) {
            uint64_t idx = k == 0 ? 0 : k == 1 ? size - 1 : wbt_rand(&f->seed) % size;
            assert_int_equal(wb_log_inclusion_proof(f->log, proof, &np, idx, size), 0);
            if (wb_merkle_inclusion_verify(f->leaves[idx], idx, size,
                                           (const uint8_t(*)[32])proof, np, root) != 0)
                fail_msg("inclusion %llu in %llu: %s", (unsigned long long)idx,
                         (unsigned long long)size, wb_error_message());
        }
        /* consistency from every earlier checkpoint size */
        for (size_t o = 0; o <= s; o++) {
            uint8_t old[32];
            mth(old, f->leaves, sizes[o]);
            assert_int_equal(wb_log_consistency_proof(f->log, proof, &np, sizes[o], size), 0);
            if (wb_merkle_consistency_verify(sizes[o], size, (const uint8_t(*)[32])proof,
                                             np, old, root) != 0)
                fail_msg("consistency %llu -> %llu: %s", (unsigned long long)sizes[o],
                         (unsigned long long)size, wb_error_message());
        }
        {
            uint8_t at[32];
            assert_int_equal(wb_log_root_at(f->log, at, size), 0);
            assert_memory_equal(at, root, 32);
        }
        /* the checkpoint signed at that size is kept */
        {
            char *cp;
            size_t len;
            wb_checkpoint c;
            assert_int_equal(wb_log_checkpoint_at(f->log, size, &cp, &len), 0);
            assert_int_equal(wb_checkpoint_open(&c, cp, len, wb_log_verifier(f->log)), 0);
            assert_true(c.size == size);
            assert_memory_equal(c.root, root, 32);
            wb_checkpoint_cleanup(&c);
            free(cp);
        }
    }
    /* out of range */
    {
        uint8_t proof[WB_MERKLE_MAX_PROOF][32];
        size_t np;
        char *cp;
        size_t len;
        assert_int_equal(wb_log_inclusion_proof(f->log, proof, &np, f->n, f->n), WB_E_RANGE);
        assert_int_equal(wb_log_inclusion_proof(f->log, proof, &np, 0, f->n + 1), WB_E_RANGE);
        assert_int_equal(wb_log_consistency_proof(f->log, proof, &np, 0, f->n), WB_E_RANGE);
        assert_int_equal(wb_log_consistency_proof(f->log, proof, &np, 5, 4), WB_E_RANGE);
        assert_int_equal(wb_log_checkpoint_at(f->log, 2, &cp, &len), WB_E_NOTFOUND);
    }
}

static void test_bad_input_writes_nothing(void **state)
{
    fixture *f = *state;
    static uint8_t big[WB_ENTRY_MAX + 1];
    wb_entry e[3] = {{(const uint8_t *)"ok", 2}, {(const uint8_t *)"", 0},
                     {(const uint8_t *)"ok", 2}};
    uint64_t first;
    char *before, *after;
    size_t lb, la;

    append_batch(f, 3);
    assert_int_equal(wb_log_head(f->log, NULL, NULL, &before, &lb), 0);
    assert_int_equal(wb_log_append(f->log, e, 3, &first), WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "entry 1 of the batch is empty"));
    e[1].data = big;
    e[1].len = sizeof(big);
    assert_int_equal(wb_log_append(f->log, e, 3, &first), WB_E_LIMIT);
    assert_non_null(strstr(wb_error_message(), "65535"));
    assert_int_equal(wb_log_append(f->log, e, 0, &first), WB_E_INVALID);
    /* the refusals changed nothing */
    assert_int_equal(wb_log_head(f->log, NULL, NULL, &after, &la), 0);
    assert_string_equal(before, after);
    free(after);
    /* exactly the limit is fine */
    e[1].len = WB_ENTRY_MAX;
    assert_int_equal(wb_log_append(f->log, e + 1, 1, &first), 0);
    assert_true(first == 3);
    assert_int_equal(wb_log_head(f->log, NULL, NULL, &after, &la), 0);
    assert_true(strcmp(before, after) != 0);
    free(before);
    free(after);
    assert_int_equal(wb_log_check(f->log, NULL), 0);
}

static void test_swapped_key_refused(void **state)
{
    fixture *f = *state;
    char other[4300], cmd[20000];
    wb_log *l2;
    snprintf(other, sizeof(other), "%s/other", f->dir);
    assert_int_equal(wb_log_init(other, "example.com/test-log"), 0);
    /* put the other log's key pair in place of ours */
    snprintf(cmd, sizeof(cmd), "cp %s/log.pub %s/log.pub.new && mv %s/log.pub.new %s/log.pub",
             other, f->logdir, f->logdir, f->logdir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(wb_log_open(&l2, f->logdir, NULL), WB_E_CORRUPT);
    assert_non_null(strstr(wb_error_message(), "not the key this log was created with"));
}

static void test_read_only_without_signer(void **state)
{
    fixture *f = *state;
    char path[4300];
    wb_log *ro;
    wb_entry e = {(const uint8_t *)"x", 1};
    uint8_t proof[WB_MERKLE_MAX_PROOF][32];
    size_t np;
    append_batch(f, 10);
    snprintf(path, sizeof(path), "%s/log.key", f->logdir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(wb_log_open(&ro, f->logdir, NULL), 0);
    assert_int_equal(wb_log_inclusion_proof(ro, proof, &np, 3, 10), 0);
    assert_int_equal(wb_log_append(ro, &e, 1, NULL), WB_E_NOTFOUND);
    assert_non_null(strstr(wb_error_message(), "log.key"));
    wb_log_close(ro);
}

static void test_verify_helpers(void **state)
{
    fixture *f = *state;
    wb_proof_text p;
    char *cp;
    size_t len, elen;
    uint8_t entry[600];
    wb_checkpoint c;
    wb_note_key *other;

    append_batch(f, 20);
    memset(&p, 0, sizeof(p));
    p.index = 13;
    assert_int_equal(wb_log_inclusion_proof(f->log, p.hashes, &p.nhashes, 13, 20), 0);
    assert_int_equal(wb_log_checkpoint_at(f->log, 20, &cp, &len), 0);
    p.checkpoint = cp;
    p.checkpoint_len = len;
    elen = entry_bytes(entry, 13);
    assert_int_equal(wb_log_verify_inclusion(&p, entry, elen, wb_log_verifier(f->log), &c), 0);
    assert_true(c.size == 20);
    wb_checkpoint_cleanup(&c);
    /* another entry's bytes, another index, another key: all fail */
    entry[0] ^= 1;
    assert_int_equal(wb_log_verify_inclusion(&p, entry, elen, wb_log_verifier(f->log), NULL),
                     WB_E_VERIFY);
    entry[0] ^= 1;
    p.index = 12;
    assert_int_equal(wb_log_verify_inclusion(&p, entry, elen, wb_log_verifier(f->log), NULL),
                     WB_E_VERIFY);
    p.index = 13;
    assert_int_equal(wb_note_key_generate(&other, "example.com/test-log"), 0);
    assert_int_not_equal(wb_log_verify_inclusion(&p, entry, elen, other, NULL), 0);
    wb_note_key_free(other);
    /* a key of the right name but another origin in the checkpoint */
    assert_int_equal(wb_note_key_generate(&other, "example.com/elsewhere"), 0);
    assert_int_not_equal(wb_log_verify_inclusion(&p, entry, elen, other, NULL), 0);
    wb_note_key_free(other);
    free(cp);
}

/* a store whose writes fail at the k-th call, to show a batch is all or nothing */
static const wb_store_ops *real_ops;
static wb_store_ops failing_ops;
static int writes_left;

static int failing_put(wb_store *st, wb_blob_key key, const uint8_t *data, size_t len)
{
    if (--writes_left == 0)
        return wb_error_set(WB_E_STORE, "injected write failure");
    return real_ops->put_blob(st, key, data, len);
}

static int failing_cas(wb_store *st, uint64_t expected, const wb_store_state *state)
{
    if (--writes_left == 0)
        return wb_error_set(WB_E_STORE, "injected state failure");
    return real_ops->cas_state(st, expected, state);
}

static void test_failed_write_rolls_back(void **state)
{
    fixture *f = *state;
    wb_store *st = wb_log_store(f->log);
    int k, failures = 0;
    append_batch(f, 300);
    real_ops = st->ops;
    failing_ops = *real_ops;
    failing_ops.put_blob = failing_put;
    failing_ops.cas_state = failing_cas;
    for (k = 1;; k++) {
        wb_entry *e = calloc(400, sizeof(*e));
        uint8_t *bufs = malloc(400 * 600);
        char *before, *after;
        size_t lb, la;
        int rc;
        for (size_t i = 0; i < 400; i++) {
            e[i].data = bufs + i * 600;
            e[i].len = entry_bytes(bufs + i * 600, f->n + i);
        }
        assert_int_equal(wb_log_head(f->log, NULL, NULL, &before, &lb), 0);
        writes_left = k;
        st->ops = &failing_ops;
        rc = wb_log_append(f->log, e, 400, NULL);
        st->ops = real_ops;
        free(e);
        free(bufs);
        if (rc == 0) {
            free(before);
            break; /* k is past the batch's last write */
        }
        failures++;
        assert_int_equal(rc, WB_E_STORE);
        assert_non_null(strstr(wb_error_message(), "injected"));
        /* nothing of the batch is visible, and the log is whole */
        assert_int_equal(wb_log_head(f->log, NULL, NULL, &after, &la), 0);
        assert_string_equal(before, after);
        free(before);
        free(after);
        if (wb_log_check(f->log, NULL) != 0)
            fail_msg("after failing write %d: %s", k, wb_error_message());
    }
    /* every write of the batch was made to fail once (tiles, bundles,
     * checkpoint, state), then the whole batch went in */
    assert_true(failures >= 5);
    /* the model: the entries the last append added */
    f->cap = f->n + 400;
    f->leaves = realloc(f->leaves, f->cap * 32);
    f->n += 400;
    for (size_t i = 0; i < 400; i++) {
        uint8_t buf[600];
        size_t len = entry_bytes(buf, f->n - 400 + i);
        wb_merkle_leaf_hash(f->leaves[f->n - 400 + i], buf, len);
    }
    check_head(f);
    assert_int_equal(wb_log_check(f->log, NULL), 0);
}

static void test_init_in_place(void **state)
{
    fixture *f = *state;
    char d[4300], p[4400], cmd[9000];
    wb_log *l;
    struct stat sb;
    /* an existing directory with other files: the log goes in beside them */
    snprintf(d, sizeof(d), "%s/with-files", f->dir);
    assert_int_equal(mkdir(d, 0755), 0);
    snprintf(p, sizeof(p), "%s/README", d);
    fclose(fopen(p, "w"));
    assert_int_equal(wb_log_init(d, "example.com/in-place"), 0);
    assert_int_equal(wb_log_open(&l, d, NULL), 0);
    wb_log_close(l);
    assert_int_equal(stat(p, &sb), 0);
    /* a directory left with only a key (an interrupted init) is not reused */
    snprintf(d, sizeof(d), "%s/half", f->dir);
    assert_int_equal(mkdir(d, 0755), 0);
    snprintf(p, sizeof(p), "%s/log.key", d);
    fclose(fopen(p, "w"));
    assert_int_equal(wb_log_init(d, "example.com/half"), WB_E_EXISTS);
    assert_non_null(strstr(wb_error_message(), "interrupted"));
    /* no build directories are left behind */
    snprintf(cmd, sizeof(cmd), "ls -d %s/*.init-* 2>/dev/null | grep -q .", f->dir);
    assert_int_not_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_matches_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tiles_and_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proofs_from_tiles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swapped_key_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_without_signer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_helpers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_in_place, setup, teardown),
    };
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
