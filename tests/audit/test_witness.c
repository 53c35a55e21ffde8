/*
 * test_witness.c: the tlog-witness state machine (wb_witness_handle) on
 * real Merkle trees: the first checkpoint from old size 0, growth with
 * consistency proofs, 409 with the witness's size on a stale old size, 422
 * on a bad proof, 403 on a bad log signature, 404 for an unknown log, 400
 * for each kind of malformed body, refusal of a fork at one size, state that
 * survives reopening, and concurrent requests from one old size of which
 * exactly one is cosigned.
 */
#include "wbtest.h"

#include <inttypes.h>
#include <pthread.h>
#include <string.h>

#include "waybill/error.h"
#include "waybill/merkle.h"
#include "waybill/util.h"
#include "waybill/witness.h"

#define ORIGIN "example.com/log"
#define MAXLEAVES 256

#define assert_ok(call)                                                          \
    do {                                                                         \
        int rc_ = (call);                                                        \
        if (rc_ != 0)                                                            \
            fail_msg("%s: %s: %s", #call, wb_error_name(rc_), wb_error_message()); \
    } while (0)

typedef struct {
    char *dir, db[512];
    wb_note_key *log, *witness, *wv; /* wv: the witness's verifier */
    char *log_vkey;
    wb_witness *w;
    uint8_t leaves[MAXLEAVES][WB_HASH_LEN];
    uint8_t fork[MAXLEAVES][WB_HASH_LEN]; /* another history */
} fixture;

/* perfect subtree hashes over an array of leaf hashes */
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

static void root_of(uint8_t (*leaves)[WB_HASH_LEN], uint64_t size, uint8_t out[WB_HASH_LEN])
{
    assert_ok(wb_merkle_root(out, size, tree_fn, leaves));
}

/* a signed checkpoint of the tree leaves[0..size) by key, origin */
static char *checkpoint(wb_note_key *key, const char *origin, uint8_t (*leaves)[WB_HASH_LEN],
                        uint64_t size, size_t *len)
{
    wb_checkpoint cp;
    char *body = NULL, *note = NULL;
    size_t blen = 0;
    memset(&cp, 0, sizeof(cp));
    snprintf(cp.origin, sizeof(cp.origin), "%s", origin);
    cp.size = size;
    root_of(leaves, size, cp.root);
    assert_ok(wb_checkpoint_format(&body, &blen, &cp));
    assert_ok(wb_note_sign(&note, len, body, blen, &key, 1));
    free(body);
    return note;
}

/* "old N\n" proof lines "\n" note */
static char *body_of(uint64_t old, uint8_t (*proof)[WB_HASH_LEN], size_t nproof,
                     const char *note, size_t nlen, size_t *len)
{
    wb_buf b;
    uint8_t *p = NULL;
    wb_buf_init(&b, WB_WITNESS_BODY_MAX * 2);
    wb_buf_printf(&b, "old %" PRIu64 "\n", old);
    for (size_t i = 0; i < nproof; i++) {
        wb_buf_add_base64(&b, proof[i], WB_HASH_LEN);
        wb_buf_add_u8(&b, '\n');
    }
    wb_buf_add_u8(&b, '\n');
    wb_buf_add(&b, note, nlen);
    assert_ok(wb_buf_finish(&b, &p, len));
    return (char *)p;
}

/* posts raw bytes; returns the status, *resp (malloc'd) the answer */
static int post_raw(fixture *f, const char *body, size_t len, char **resp)
{
    int status = 0;
    size_t rlen = 0;
    char *r = NULL;
    assert_ok(wb_witness_handle(f->w, body, len, &status, &r, &rlen));
    assert_non_null(r);
    assert_int_equal(strlen(r), rlen);
    if (resp)
        *resp = r;
    else
        free(r);
    return status;
}

/* a checkpoint of size new_size (of leaves) from old with a real proof */
static int post(fixture *f, uint8_t (*leaves)[WB_HASH_LEN], uint64_t old, uint64_t new_size,
                char **resp)
{
    uint8_t proof[WB_MERKLE_MAX_PROOF][WB_HASH_LEN];
    size_t np = 0, nlen, blen;
    char *note, *body;
    int st;
    if (old > 0 && old <= new_size)
        assert_ok(wb_merkle_consistency_proof(proof, &np, old, new_size, tree_fn, leaves));
    note = checkpoint(f->log, ORIGIN, leaves, new_size, &nlen);
    body = body_of(old, proof, np, note, nlen, &blen);
    st = post_raw(f, body, blen, resp);
    free(note);
    free(body);
    return st;
}

static void assert_latest(fixture *f, uint64_t want)
{
    uint64_t size = 99;
    uint8_t root[WB_HASH_LEN], want_root[WB_HASH_LEN];
    assert_ok(wb_witness_latest(f->w, ORIGIN, &size, root, NULL));
    assert_int_equal(size, want);
    root_of(f->leaves, want, want_root);
    assert_memory_equal(root, want_root, WB_HASH_LEN);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    char *s = NULL;
    assert_non_null(f);
    f->dir = wbt_tmpdir("witness");
    snprintf(f->db, sizeof(f->db), "%s/witness.db", f->dir);
    assert_ok(wb_note_key_generate(&f->log, ORIGIN));
    assert_ok(wb_note_verifier_string(&f->log_vkey, f->log));
    assert_ok(wb_cosig_key_generate(&f->witness, "witness.example/w1"));
    assert_ok(wb_note_verifier_string(&s, f->witness));
    assert_ok(wb_cosig_verifier_parse(&f->wv, s, strlen(s)));
    free(s);
    assert_ok(wb_witness_open(&f->w, f->db, f->witness));
    assert_ok(wb_witness_add_log(f->w, f->log_vkey));
    for (int i = 0; i < MAXLEAVES; i++) {
        char d[32];
        snprintf(d, sizeof(d), "leaf %d", i);
        wb_merkle_leaf_hash(f->leaves[i], d, strlen(d));
        snprintf(d, sizeof(d), "forked leaf %d", i);
        wb_merkle_leaf_hash(f->fork[i], d, strlen(d));
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    wb_witness_close(f->w);
    wb_note_key_free(f->log);
    wb_note_key_free(f->witness);
    wb_note_key_free(f->wv);
    free(f->log_vkey);
    wbt_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* the cosignature verifies over the checkpoint of size n */
static void assert_cosigned(fixture *f, const char *line, uint64_t n)
{
    size_t nlen;
    char *note = checkpoint(f->log, ORIGIN, f->leaves, n, &nlen), *all;
    wb_note opened;
    uint64_t t = 0;
    size_t ll = strlen(line);
    all = malloc(nlen + ll + 1);
    assert_non_null(all);
    memcpy(all, note, nlen);
    memcpy(all + nlen, line, ll + 1);
    assert_ok(wb_note_open(&opened, all, nlen + ll, &f->log, 1));
    assert_ok(wb_cosig_verify(&opened, f->wv, &t));
    assert_true(t > 1700000000u);
    wb_note_cleanup(&opened);
    free(all);
    free(note);
}

static void test_first_and_growth(void **state)
{
    fixture *f = *state;
    char *r = NULL, *stored = NULL;
    uint64_t size;
    uint8_t root[WB_HASH_LEN];

    assert_latest(f, 0);
    assert_int_equal(post(f, f->leaves, 0, 5, &r), 200);
    assert_true(strncmp(r, "\xe2\x80\x94 witness.example/w1 ", 23) == 0);
    assert_cosigned(f, r, 5);
    free(r);
    assert_latest(f, 5);
    /* the stored note carries the cosignature */
    assert_ok(wb_witness_latest(f->w, ORIGIN, &size, root, &stored));
    assert_non_null(strstr(stored, "witness.example/w1"));
    free(stored);

    /* growth through sizes that exercise odd and power-of-two proofs */
    {
        uint64_t sizes[] = {5, 6, 8, 13, 16, 17, 100, 255};
        for (size_t i = 1; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            assert_int_equal(post(f, f->leaves, sizes[i - 1], sizes[i], &r), 200);
            assert_cosigned(f, r, sizes[i]);
            free(r);
            assert_latest(f, sizes[i]);
        }
    }
    /* the same checkpoint again: cosigned again */
    assert_int_equal(post(f, f->leaves, 255, 255, &r), 200);
    assert_cosigned(f, r, 255);
    free(r);
    assert_latest(f, 255);
}

static void test_conflict_and_bad_proof(void **state)
{
    fixture *f = *state;
    uint8_t proof[WB_MERKLE_MAX_PROOF][WB_HASH_LEN];
    size_t np = 0, nlen, blen;
    char *r = NULL, *note, *body;

    assert_int_equal(post(f, f->leaves, 0, 12, NULL), 200);
    /* a stale old size gets 409 and the witness's size */
    assert_int_equal(post(f, f->leaves, 5, 20, &r), 409);
    assert_string_equal(r, "12\n");
    assert_string_equal(wb_witness_content_type(409, r, strlen(r)), "text/x.tlog.size");
    free(r);
    assert_int_equal(post(f, f->leaves, 0, 20, &r), 409);
    assert_string_equal(r, "12\n");
    free(r);
    assert_int_equal(post(f, f->leaves, 13, 20, &r), 409);
    assert_string_equal(r, "12\n");
    free(r);

    /* a proof with one byte flipped, or one hash short: 422 */
    assert_ok(wb_merkle_consistency_proof(proof, &np, 12, 20, tree_fn, f->leaves));
    note = checkpoint(f->log, ORIGIN, f->leaves, 20, &nlen);
    proof[1][7] ^= 1;
    body = body_of(12, proof, np, note, nlen, &blen);
    assert_int_equal(post_raw(f, body, blen, &r), 422);
    assert_non_null(strstr(r, "consistency proof"));
    free(r);
    free(body);
    proof[1][7] ^= 1;
    body = body_of(12, proof, np - 1, note, nlen, &blen);
    assert_int_equal(post_raw(f, body, blen, NULL), 422);
    free(body);
    /* a valid proof, but to a forked tree's checkpoint: 422 */
    free(note);
    note = checkpoint(f->log, ORIGIN, f->fork, 20, &nlen);
    body = body_of(12, proof, np, note, nlen, &blen);
    assert_int_equal(post_raw(f, body, blen, NULL), 422);
    free(body);
    free(note);
    /* a non-empty proof between equal sizes: 422 */
    note = checkpoint(f->log, ORIGIN, f->leaves, 12, &nlen);
    body = body_of(12, proof, 1, note, nlen, &blen);
    assert_int_equal(post_raw(f, body, blen, NULL), 422);
    free(body);
    free(note);
    assert_latest(f, 12);

    /* a fork at the same size: refused with 409 and a message, not a size */
    assert_int_equal(post(f, f->fork, 12, 12, &r), 409);
    assert_non_null(strstr(r, "forked"));
    assert_string_equal(wb_witness_content_type(409, r, strlen(r)),
                        "text/plain; charset=utf-8");
    free(r);
    assert_latest(f, 12);
    /* and the good history goes on */
    assert_int_equal(post(f, f->leaves, 12, 20, NULL), 200);
    assert_latest(f, 20);
}

static void test_signature_and_origin(void **state)
{
    fixture *f = *state;
    wb_note_key *other = NULL, *stranger = NULL;
    size_t nlen, blen;
    char *note, *body, *r = NULL;

    /* same origin, another key: 403 */
    assert_ok(wb_note_key_generate(&other, ORIGIN));
    note = checkpoint(other, ORIGIN, f->leaves, 3, &nlen);
    body = body_of(0, NULL, 0, note, nlen, &blen);
    assert_int_equal(post_raw(f, body, blen, &r), 403);
    free(r);
    free(body);
    free(note);
    /* the log's key with a tampered root: 403 */
    note = checkpoint(f->log, ORIGIN, f->leaves, 3, &nlen);
    note[strlen(ORIGIN) + 4] = note[strlen(ORIGIN) + 4] == 'A' ? 'B' : 'A';
    body = body_of(0, NULL, 0, note, nlen, &blen);
    assert_int_equal(post_raw(f, body, blen, NULL), 403);
    free(body);
    free(note);
    /* an unknown origin: 404 */
    assert_ok(wb_note_key_generate(&stranger, "stranger.example/log"));
    note = checkpoint(stranger, "stranger.example/log", f->leaves, 3, &nlen);
    body = body_of(0, NULL, 0, note, nlen, &blen);
    assert_int_equal(post_raw(f, body, blen, &r), 404);
    assert_non_null(strstr(r, "stranger.example/log"));
    free(r);
    free(body);
    free(note);
    assert_latest(f, 0);

    /* adding a known origin with another key is refused; the same key is fine */
    {
        char *vs = NULL;
        assert_ok(wb_note_verifier_string(&vs, other));
        assert_int_equal(wb_witness_add_log(f->w, vs), WB_E_EXISTS);
        free(vs);
        assert_ok(wb_witness_add_log(f->w, f->log_vkey));
        /* a witness key is no log key */
        assert_ok(wb_note_verifier_string(&vs, f->witness));
        assert_int_equal(wb_witness_add_log(f->w, vs), WB_E_INVALID);
        free(vs);
    }
    {
        uint64_t size;
        uint8_t root[WB_HASH_LEN];
        assert_int_equal(wb_witness_latest(f->w, "stranger.example/log", &size, root, NULL),
                         WB_E_NOTFOUND);
    }
    wb_note_key_free(other);
    wb_note_key_free(stranger);
}

static void test_malformed(void **state)
{
    fixture *f = *state;
    size_t nlen, blen;
    char *note = checkpoint(f->log, ORIGIN, f->leaves, 4, &nlen), *body, buf[WB_NOTE_MAX];
    const char *h = "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n";
    const char *prefixes[] = {
        "",                        /* nothing */
        "old 0",                   /* no newline */
        "old 0\n",                 /* no empty line */
        "old 0\n\n",               /* no checkpoint (handled below) */
        "old 00\n\n",              /* leading zero */
        "old -1\n\n",              /* sign */
        "old  1\n\n",              /* two spaces */
        "old 1 \n\n",              /* trailing space */
        "Old 0\n\n",               /* case */
        "old 18446744073709551616\n\n", /* over 64 bits */
        "old 0\r\n\r\n",           /* CRLF */
        "old 2\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw\n\n",    /* unpadded */
        "old 2\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpka=\n\n",    /* 43+pad */
        "old 2\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw==\n\n",  /* 45 */
        "old 2\n-lRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\n",   /* url-safe */
        "old 0\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\n",   /* proof from 0 */
        "old 5\n\n",               /* old above the size (4) */
    };
    (void)h;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t pl = strlen(prefixes[i]);
        int with_note = i >= 3;
        char *r = NULL;
        memcpy(buf, prefixes[i], pl);
        if (with_note && i != 3) {
            memcpy(buf + pl, note, nlen);
            pl += nlen;
        }
        if (post_raw(f, buf, pl, &r) != 400)
            fail_msg("body %zu: want 400, got answer '%s'", i, r);
        free(r);
    }
    /* 64 proof lines: over the limit */
    {
        size_t pl = 0;
        pl += (size_t)snprintf(buf, sizeof(buf), "old 2\n");
        for (int i = 0; i < 64; i++)
            pl += (size_t)snprintf(buf + pl, sizeof(buf) - pl, "%s", h);
        buf[pl++] = '\n';
        memcpy(buf + pl, note, nlen);
        assert_int_equal(post_raw(f, buf, pl + nlen, NULL), 400);
    }
    /* not a note; an unsigned note; a signed text that is no checkpoint */
    body = body_of(0, NULL, 0, "example.com/log\n4\n", 18, &blen);
    assert_int_equal(post_raw(f, body, blen, NULL), 400);
    free(body);
    {
        const char *bad = "example.com/log\nfour\nAAAA\n";
        char *n2 = NULL;
        size_t n2len;
        assert_ok(wb_note_sign(&n2, &n2len, bad, strlen(bad), &f->log, 1));
        body = body_of(0, NULL, 0, n2, n2len, &blen);
        assert_int_equal(post_raw(f, body, blen, NULL), 400);
        free(body);
        free(n2);
    }
    free(note);
    assert_latest(f, 0);
}

static void test_reopen(void **state)
{
    fixture *f = *state;
    char *r = NULL;

    assert_int_equal(post(f, f->leaves, 0, 7, NULL), 200);
    assert_int_equal(post(f, f->leaves, 7, 30, NULL), 200);
    wb_witness_close(f->w);
    f->w = NULL;
    assert_ok(wb_witness_open(&f->w, f->db, f->witness));
    /* no add_log: the log is remembered */
    assert_latest(f, 30);
    assert_int_equal(post(f, f->leaves, 0, 31, &r), 409);
    assert_string_equal(r, "30\n");
    free(r);
    assert_int_equal(post(f, f->fork, 30, 30, NULL), 409);
    assert_int_equal(post(f, f->leaves, 30, 31, NULL), 200);
    assert_latest(f, 31);
}

/* ---- concurrency: many requests from one old size, one wins ---- */

typedef struct {
    fixture *f;
    char *body;
    size_t len;
    int status;
} job;

static void *run_job(void *p)
{
    job *j = p;
    char *r = NULL;
    size_t rl = 0;
    if (wb_witness_handle(j->f->w, j->body, j->len, &j->status, &r, &rl) != 0)
        j->status = -1;
    free(r);
    return NULL;
}

static void test_concurrent(void **state)
{
    fixture *f = *state;
    enum { N = 8 };
    job jobs[N];
    pthread_t th[N];
    int ok = 0, conflict = 0;

    assert_int_equal(post(f, f->leaves, 0, 10, NULL), 200);
    for (int i = 0; i < N; i++) {
        uint8_t proof[WB_MERKLE_MAX_PROOF][WB_HASH_LEN];
        size_t np = 0, nlen;
        uint64_t size = 11 + (uint64_t)i * 3;
        char *note;
        assert_ok(wb_merkle_consistency_proof(proof, &np, 10, size, tree_fn, f->leaves));
        note = checkpoint(f->log, ORIGIN, f->leaves, size, &nlen);
        jobs[i].f = f;
        jobs[i].body = body_of(10, proof, np, note, nlen, &jobs[i].len);
        free(note);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&th[i], NULL, run_job, &jobs[i]), 0);
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        ok += jobs[i].status == 200;
        conflict += jobs[i].status == 409;
        free(jobs[i].body);
    }
    assert_int_equal(ok, 1);
    assert_int_equal(conflict, N - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_and_growth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_and_bad_proof, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signature_and_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
