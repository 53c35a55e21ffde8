/*
 * test_log.c: the log over SQLite and over PostgreSQL: init, batch append
 * into tiles and bundles, signed checkpoints, proofs from tiles checked
 * against an independent in-memory model, and refusal of bad input with
 * nothing written. The group "log/postgres" runs the cases that do not
 * depend on the log directory's SQLite file on a log in PostgreSQL (keys
 * in a directory, wb_log_init_store / wb_log_open_store), shows that it
 * holds byte for byte the tiles, bundles and roots of a SQLite log of the
 * same entries, and that two handles appending at once serialise.
 */
#include "wbtest.h"
#include "wbtest_pg.h"

#include <pthread.h>
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
    int pg;               /* the store is in PostgreSQL (conninfo) */
    char conninfo[700];
} fixture;

static wbt_pg PG; /* the cluster of the postgres group */

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

/* a new database with an empty store; the log's keys in f->logdir */
static wb_store *pg_new_store(char *conninfo, size_t cap)
{
    wb_store *st;
    wb_store_options so = {.create = 1, .sync_normal = 1};
    wbt_pg_createdb(&PG, conninfo, cap);
    if (wb_store_open_postgres(&st, conninfo, &so) != 0)
        fail_msg("open: %s", wb_error_message());
    return st;
}

static wb_log *pg_open_log(const char *conninfo, const char *keydir)
{
    wb_store *st;
    wb_log *log;
    wb_store_options so = {.sync_normal = 1};
    if (wb_store_open_postgres(&st, conninfo, &so) != 0)
        fail_msg("open store: %s", wb_error_message());
    if (wb_log_open_store(&log, keydir, st, NULL) != 0)
        fail_msg("open log: %s", wb_error_message());
    return log;
}

static int setup_pg(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    wb_store *st;
    f->pg = 1;
    f->dir = wbt_tmpdir("logpg");
    snprintf(f->logdir, sizeof(f->logdir), "%s/keys", f->dir);
    st = pg_new_store(f->conninfo, sizeof(f->conninfo));
    if (wb_log_init_store(f->logdir, st, "example.com/test-log") != 0)
        fail_msg("init: %s", wb_error_message());
    wb_store_close(st);
    f->log = pg_open_log(f->conninfo, f->logdir);
    f->seed = wbt_seed("logpg");
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

/* ---- PostgreSQL ---- */

/* the same entries in a SQLite log and the PostgreSQL log: same roots,
 * tiles, bundles and proofs; the PostgreSQL log reopens with all of it */
static void test_pg_same_as_sqlite(void **state)
{
    fixture *f = *state, q;
    wb_log_options opt = {.sync_normal = 1};
    size_t batches[] = {1, 255, 2, 300, 700, 1};
    memset(&q, 0, sizeof(q));
    snprintf(q.logdir, sizeof(q.logdir), "%s/sqlite", f->dir);
    assert_int_equal(wb_log_init(q.logdir, "example.com/test-log"), 0);
    assert_int_equal(wb_log_open(&q.log, q.logdir, &opt), 0);
    for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
        append_batch(f, batches[b]);
        append_batch(&q, batches[b]);
        check_head(f);
    }
    wb_log_close(f->log);
    f->log = pg_open_log(f->conninfo, f->logdir);
    check_head(f);
    for (unsigned L = 0; L < 2; L++)
        for (uint64_t N = 0; wb_tile_width(L, N, f->n) > 0 && N * 256 < f->n; N++) {
            unsigned w = wb_tile_width(L, N, f->n);
            uint8_t *a, *b;
            size_t la, lb;
            assert_int_equal(wb_log_read_tile(f->log, L, N, w, &a, &la), 0);
            assert_int_equal(wb_log_read_tile(q.log, L, N, w, &b, &lb), 0);
            assert_int_equal(la, lb);
            assert_memory_equal(a, b, la);
            free(a);
            free(b);
            if (L == 0) {
                assert_int_equal(wb_log_read_bundle(f->log, N, w, &a, &la), 0);
                assert_int_equal(wb_log_read_bundle(q.log, N, w, &b, &lb), 0);
                assert_int_equal(la, lb);
                assert_memory_equal(a, b, la);
                free(a);
                free(b);
            }
        }
    for (uint64_t size = 1; size <= f->n; size += 97) {
        uint8_t pa[WB_MERKLE_MAX_PROOF][32], pb[WB_MERKLE_MAX_PROOF][32], ra[32], rb[32];
        size_t na, nb;
        uint64_t idx = wbt_rand(&f->seed) % size;
        assert_int_equal(wb_log_inclusion_proof(f->log, pa, &na, idx, size), 0);
        assert_int_equal(wb_log_inclusion_proof(q.log, pb, &nb, idx, size), 0);
        assert_int_equal(na, nb);
        assert_memory_equal(pa, pb, na * 32);
        assert_int_equal(wb_log_consistency_proof(f->log, pa, &na, size, f->n), 0);
        assert_int_equal(wb_log_consistency_proof(q.log, pb, &nb, size, f->n), 0);
        assert_int_equal(na, nb);
        assert_memory_equal(pa, pb, na * 32);
        assert_int_equal(wb_log_root_at(f->log, ra, size), 0);
        assert_int_equal(wb_log_root_at(q.log, rb, size), 0);
        assert_memory_equal(ra, rb, 32);
    }
    assert_int_equal(wb_log_check(f->log, NULL), 0);
    wb_log_close(q.log);
    free(q.leaves);
}

/* init over a store: refuses a store that holds a log, reuses a key pair
 * found in the key directory, leaves no key behind when it fails */
static void test_pg_init_store_rules(void **state)
{
    fixture *f = *state;
    char ci[700], dir[4300], path[4400];
    struct stat sb;
    wb_store *st;
    wb_log *l2;

    /* the store holds a log: refused, and no key made in a new directory */
    assert_int_equal(wb_store_open_postgres(&st, f->conninfo, NULL), 0);
    snprintf(dir, sizeof(dir), "%s/other-keys", f->dir);
    assert_int_equal(wb_log_init_store(dir, st, "example.com/test-log"), WB_E_EXISTS);
    assert_non_null(strstr(wb_error_message(), "refusing"));
    snprintf(path, sizeof(path), "%s/log.key", dir);
    assert_int_not_equal(stat(path, &sb), 0);
    wb_store_close(st);
    /* a second store with the same keys (nodes that share a key directory) */
    st = pg_new_store(ci, sizeof(ci));
    assert_int_equal(wb_log_init_store(f->logdir, st, "example.com/other"), WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "example.com/test-log"));
    assert_int_equal(wb_log_init_store(f->logdir, st, "example.com/test-log"), 0);
    wb_store_close(st);
    l2 = pg_open_log(ci, f->logdir);
    {
        char *a, *b;
        assert_int_equal(wb_note_verifier_string(&a, wb_log_verifier(l2)), 0);
        assert_int_equal(wb_note_verifier_string(&b, wb_log_verifier(f->log)), 0);
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
    wb_log_close(l2);
    /* only one of the two key files: refused */
    snprintf(path, sizeof(path), "%s/log.pub", dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    wbt_write_file(path, "x\n", 2);
    st = pg_new_store(ci, sizeof(ci));
    assert_int_equal(wb_log_init_store(dir, st, "example.com/test-log"), WB_E_EXISTS);
    wb_store_close(st);
}

typedef struct {
    const fixture *f;
    int id;
    int rc;
} appender;

static void *append_thread(void *vctx)
{
    appender *a = vctx;
    wb_log *log = pg_open_log(a->f->conninfo, a->f->logdir);
    for (int b = 0; b < 10 && a->rc == 0; b++) {
        uint8_t bufs[20][32];
        wb_entry e[20];
        for (int i = 0; i < 20; i++) {
            snprintf((char *)bufs[i], sizeof(bufs[i]), "writer %d batch %d entry %d", a->id,
                     b, i);
            e[i].data = bufs[i];
            e[i].len = strlen((char *)bufs[i]);
        }
        a->rc = wb_log_append(log, e, 20, NULL);
    }
    wb_log_close(log);
    return NULL;
}

/* four handles (as on four nodes) append at once: the writer lock
 * serialises them, nothing is lost and the tree is whole */
static void test_pg_concurrent_appends(void **state)
{
    fixture *f = *state;
    pthread_t th[4];
    appender a[4];
    uint64_t size, checked = 0;
    for (int i = 0; i < 4; i++) {
        a[i] = (appender){f, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, append_thread, &a[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        if (a[i].rc != 0)
            fail_msg("writer %d: %s", i, wb_error_message());
    }
    assert_int_equal(wb_log_head(f->log, &size, NULL, NULL, NULL), 0);
    assert_true(size == 4 * 10 * 20);
    assert_int_equal(wb_log_check(f->log, &checked), 0);
    assert_true(checked == size);
}

static int pg_group_setup(void **state)
{
    (void)state;
    wbt_pg_start(&PG, "log");
    return 0;
}

static int pg_group_teardown(void **state)
{
    (void)state;
    wbt_pg_stop(&PG);
    return 0;
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
    const struct CMUnitTest pg_tests[] = {
        cmocka_unit_test_setup_teardown(test_append_matches_model, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_tiles_and_entries, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_proofs_from_tiles, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_writes_nothing, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_verify_helpers, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_rolls_back, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_pg_same_as_sqlite, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_pg_init_store_rules, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_pg_concurrent_appends, setup_pg, teardown),
    };
    int failed = cmocka_run_group_tests_name("log", tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("log/postgres", pg_tests, pg_group_setup,
                                          pg_group_teardown);
    return failed;
}
