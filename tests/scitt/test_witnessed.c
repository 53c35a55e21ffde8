/*
 * test_witnessed.c: witnessed receipts (waybill/witnessed.h) without a
 * server: a log of registered statements, a receipt of an older tree, a
 * newer checkpoint cosigned by witnesses (tlog-cosignature) and the
 * consistency proof between them, attached to the receipt and checked
 * against a k-of-n policy. Every way the check can go wrong is refused with
 * the reason: too few cosignatures, a bad proof hash, sizes that do not
 * match, another log's key, another issuer, no witnessed checkpoint at all,
 * a second attachment, malformed labels.
 */
#include "wbtest_scitt.h"

#include <string.h>

#include "waybill/error.h"
#include "waybill/log.h"
#include "waybill/note.h"
#include "waybill/scitt.h"
#include "waybill/util.h"
#include "waybill/witness.h"
#include "waybill/witnessed.h"

#define ORIGIN "test.example/witnessed"

typedef struct {
    char *dir;
    wb_log *log;
    wb_key *rkey;                /* the receipt key */
    uint8_t *stmts[7];           /* registered statements */
    size_t lens[7];
    wb_note_key *wit[3];         /* witness signers */
    wb_witness_policy policy;    /* the three, quorum 2 */
    uint8_t *receipt;            /* entry 1 against the tree of 3 */
    size_t rlen;
    wb_receipt_info info;
    char *cp7;                   /* the signed checkpoint of 7, no cosignatures */
    size_t cp7_len;
    uint8_t proof[WB_MERKLE_MAX_PROOF][WB_HASH_LEN]; /* 3 -> 7 */
    size_t nproof;
} fixture;

static int find_key(void *ctx, wb_cose_verifier *out, const uint8_t *kid, size_t kid_len,
                    int64_t alg)
{
    (void)kid;
    (void)kid_len;
    (void)alg;
    return wb_cose_verifier_for_key(out, ctx);
}

/* the checkpoint of 7 with the cosignatures of the witnesses in mask */
static char *cosigned(fixture *f, unsigned mask, size_t *len)
{
    const char *blank = strstr(f->cp7, "\n\n");
    size_t body_len;
    wb_buf b;
    uint8_t *out;
    assert_non_null(blank);
    body_len = (size_t)(blank - f->cp7) + 1;
    wb_buf_init(&b, WB_NOTE_MAX);
    wb_buf_add(&b, f->cp7, f->cp7_len);
    for (int i = 0; i < 3; i++) {
        char *line;
        size_t ll;
        if (!(mask & (1u << i)))
            continue;
        assert_int_equal(wb_cosig_sign(&line, &ll, f->wit[i], f->cp7, body_len,
                                       1700000000u + (uint64_t)i), 0);
        wb_buf_add(&b, line, ll);
        free(line);
    }
    wb_buf_add_u8(&b, 0);
    assert_int_equal(wb_buf_finish(&b, &out, len), 0);
    (*len)--;
    return (char *)out;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    wb_key *issuer;
    wb_entry e[7];
    uint64_t first;
    uint8_t root3[WB_HASH_LEN], path[WB_MERKLE_MAX_PROOF][WB_HASH_LEN], kid[32];
    uint8_t *prot, sig[WB_SIG_MAX];
    size_t npath, plen, siglen;
    wb_cose_signer signer;
    char policy[4096];
    size_t pn = 0;

    f->dir = wbt_tmpdir("witnessed");
    assert_int_equal(wb_log_init(f->dir, ORIGIN), 0);
    assert_int_equal(wb_log_open(&f->log, f->dir, NULL), 0);
    assert_int_equal(wb_key_generate(&issuer, WB_ALG_ES256), 0);
    for (int i = 0; i < 7; i++) {
        char sub[16];
        size_t len;
        uint8_t *st;
        wb_cose_sign1 m;
        snprintf(sub, sizeof(sub), "unit-%d", i);
        st = wbt_statement(&len, issuer, "acme", sub, "application/json", "{}", NULL, 0);
        assert_int_equal(wb_cose_sign1_decode(&m, st, len, WB_COSE_MAX), 0);
        assert_int_equal(wb_scitt_registered_statement(&f->stmts[i], &f->lens[i], &m), 0);
        wb_cose_sign1_cleanup(&m);
        free(st);
        e[i].data = f->stmts[i];
        e[i].len = f->lens[i];
    }
    wb_key_free(issuer);
    assert_int_equal(wb_log_append(f->log, e, 3, &first), 0);
    assert_int_equal(wb_log_append(f->log, e + 3, 4, &first), 0);

    /* the receipt of entry 1 against the tree of 3 */
    assert_int_equal(wb_key_generate(&f->rkey, WB_ALG_ES256), 0);
    assert_int_equal(wb_key_default_kid(kid, f->rkey), 0);
    assert_int_equal(wb_cose_signer_for_key(&signer, f->rkey), 0);
    assert_int_equal(wb_log_root_at(f->log, root3, 3), 0);
    assert_int_equal(wb_log_inclusion_proof(f->log, path, &npath, 1, 3), 0);
    assert_int_equal(wb_receipt_protected(&prot, &plen, signer.alg, kid, 32, ORIGIN, 1700000000),
                     0);
    assert_int_equal(wb_receipt_sign(sig, &siglen, prot, plen, root3, &signer), 0);
    assert_int_equal(wb_receipt_encode(&f->receipt, &f->rlen, prot, plen, sig, siglen, 3, 1,
                                       (const uint8_t(*)[32])path, npath),
                     0);
    free(prot);
    assert_int_equal(wb_receipt_verify(&f->info, f->receipt, f->rlen, f->stmts[1], f->lens[1],
                                       find_key, f->rkey),
                     0);
    assert_int_equal(f->info.tree_size, 3);

    /* the newer checkpoint and the proof to it */
    assert_int_equal(wb_log_head(f->log, NULL, NULL, &f->cp7, &f->cp7_len), 0);
    assert_int_equal(wb_log_consistency_proof(f->log, f->proof, &f->nproof, 3, 7), 0);
    assert_true(f->nproof > 0);

    /* three witnesses, any two of which suffice */
    {
        char *vkey = NULL;
        assert_int_equal(wb_note_verifier_string(&vkey, wb_log_verifier(f->log)), 0);
        pn += (size_t)snprintf(policy + pn, sizeof(policy) - pn, "log %s\n", vkey);
        free(vkey);
    }
    for (int i = 0; i < 3; i++) {
        char name[32], *vkey = NULL;
        snprintf(name, sizeof(name), "wit.example/w%d", i);
        assert_int_equal(wb_cosig_key_generate(&f->wit[i], name), 0);
        assert_int_equal(wb_note_verifier_string(&vkey, f->wit[i]), 0);
        pn += (size_t)snprintf(policy + pn, sizeof(policy) - pn, "witness w%d %s\n", i, vkey);
        free(vkey);
    }
    pn += (size_t)snprintf(policy + pn, sizeof(policy) - pn, "quorum 2\n");
    if (wb_witness_policy_parse(&f->policy, policy, pn) != 0)
        fail_msg("policy: %s", wb_error_message());
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    wb_log_close(f->log);
    wb_key_free(f->rkey);
    for (int i = 0; i < 7; i++)
        free(f->stmts[i]);
    for (int i = 0; i < 3; i++)
        wb_note_key_free(f->wit[i]);
    wb_witness_policy_cleanup(&f->policy);
    free(f->receipt);
    free(f->cp7);
    wbt_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static const wb_note_key *log_key(fixture *f)
{
    return wb_log_verifier(f->log);
}

/* attach cp (with cosignatures) and a proof from size1 to size2 */
static uint8_t *attach(fixture *f, const char *cp, size_t cplen, uint64_t size1, uint64_t size2,
                       const uint8_t (*proof)[WB_HASH_LEN], size_t n, size_t *len)
{
    uint8_t *out = NULL;
    if (wb_receipt_witnessed_attach(&out, len, f->receipt, f->rlen, cp, cplen, size1, size2,
                                    proof, n) != 0)
        fail_msg("attach: %s", wb_error_message());
    return out;
}

static void test_verifies(void **state)
{
    fixture *f = *state;
    size_t cplen, wlen;
    char *cp = cosigned(f, 7, &cplen);
    uint8_t *w = attach(f, cp, cplen, 3, 7, (const uint8_t(*)[WB_HASH_LEN])f->proof,
                        f->nproof, &wlen);
    wb_receipt_info info;
    wb_witnessed_info wi;
    wb_receipt_witnessed got;

    /* the receipt's own signature still verifies: protected bytes untouched */
    assert_int_equal(wb_receipt_verify(&info, w, wlen, f->stmts[1], f->lens[1], find_key,
                                       f->rkey),
                     0);
    assert_int_equal(wb_receipt_witnessed_verify(&wi, &info, w, wlen, &f->policy, log_key(f)),
                     0);
    assert_int_equal(wi.size, 7);
    assert_int_equal(wi.ncosigned, 3);
    /* what was attached reads back exactly */
    assert_int_equal(wb_receipt_witnessed_get(&got, w, wlen), 0);
    assert_int_equal(got.size1, 3);
    assert_int_equal(got.size2, 7);
    assert_int_equal(got.nproof, f->nproof);
    assert_memory_equal(got.proof, f->proof, f->nproof * WB_HASH_LEN);
    assert_int_equal(got.checkpoint_len, cplen);
    assert_memory_equal(got.checkpoint, cp, cplen);
    wb_receipt_witnessed_cleanup(&got);
    /* two of three is the quorum */
    free(cp);
    free(w);
    cp = cosigned(f, 5, &cplen);
    w = attach(f, cp, cplen, 3, 7, (const uint8_t(*)[WB_HASH_LEN])f->proof, f->nproof, &wlen);
    assert_int_equal(wb_receipt_witnessed_verify(&wi, &f->info, w, wlen, &f->policy,
                                                 log_key(f)),
                     0);
    assert_int_equal(wi.ncosigned, 2);
    /* attaching twice is refused */
    {
        uint8_t *twice = NULL;
        size_t tl;
        assert_int_equal(wb_receipt_witnessed_attach(&twice, &tl, w, wlen, cp, cplen, 3, 7,
                                                     (const uint8_t(*)[WB_HASH_LEN])f->proof,
                                                     f->nproof),
                         WB_E_INVALID);
        assert_null(twice);
    }
    free(cp);
    free(w);
}

static void test_refusals(void **state)
{
    fixture *f = *state;
    size_t cplen, wlen;
    char *cp;
    uint8_t *w, bad[WB_MERKLE_MAX_PROOF][WB_HASH_LEN];
    wb_note_key *other;
    wb_receipt_info info = f->info;

    /* no witnessed checkpoint at all */
    assert_int_equal(wb_receipt_witnessed_verify(NULL, &f->info, f->receipt, f->rlen,
                                                 &f->policy, log_key(f)),
                     WB_E_NOTFOUND);
    assert_non_null(strstr(wb_error_message(), "no witnessed checkpoint"));

    /* one cosignature of the two needed: the message names who is missing */
    cp = cosigned(f, 2, &cplen);
    w = attach(f, cp, cplen, 3, 7, (const uint8_t(*)[WB_HASH_LEN])f->proof, f->nproof, &wlen);
    assert_int_equal(wb_receipt_witnessed_verify(NULL, &f->info, w, wlen, &f->policy,
                                                 log_key(f)),
                     WB_E_VERIFY);
    assert_non_null(strstr(wb_error_message(), "w0"));
    free(cp);
    free(w);

    cp = cosigned(f, 7, &cplen);
    /* a flipped bit in the proof */
    memcpy(bad, f->proof, sizeof(bad));
    bad[0][5] ^= 1;
    w = attach(f, cp, cplen, 3, 7, (const uint8_t(*)[WB_HASH_LEN])bad, f->nproof, &wlen);
    assert_int_equal(wb_receipt_witnessed_verify(NULL, &f->info, w, wlen, &f->policy,
                                                 log_key(f)),
                     WB_E_VERIFY);
    assert_non_null(strstr(wb_error_message(), "not consistent"));
    free(w);
    /* a hash short */
    w = attach(f, cp, cplen, 3, 7, (const uint8_t(*)[WB_HASH_LEN])f->proof, f->nproof - 1,
               &wlen);
    assert_int_equal(wb_receipt_witnessed_verify(NULL, &f->info, w, wlen, &f->policy,
                                                 log_key(f)),
                     WB_E_VERIFY);
    free(w);
    /* sizes that are not the receipt's and the checkpoint's */
    w = attach(f, cp, cplen, 2, 7, (const uint8_t(*)[WB_HASH_LEN])f->proof, f->nproof, &wlen);
    assert_int_equal(wb_receipt_witnessed_verify(NULL, &f->info, w, wlen, &f->policy,
                                                 log_key(f)),
                     WB_E_VERIFY);
    free(w);
    w = attach(f, cp, cplen, 3, 7, (const uint8_t(*)[WB_HASH_LEN])f->proof, f->nproof, &wlen);
    /* another issuer than the checkpoint's origin */
    snprintf(info.iss, sizeof(info.iss), "other.example/log");
    assert_int_equal(wb_receipt_witnessed_verify(NULL, &info, w, wlen, &f->policy, log_key(f)),
                     WB_E_VERIFY);
    assert_non_null(strstr(wb_error_message(), "other.example/log"));
    /* a receipt that claims another tree size: the proof no longer matches */
    info = f->info;
    info.tree_size = 4;
    assert_int_equal(wb_receipt_witnessed_verify(NULL, &info, w, wlen, &f->policy, log_key(f)),
                     WB_E_VERIFY);
    /* another log's key */
    assert_int_equal(wb_note_key_generate(&other, ORIGIN), 0);
    assert_int_not_equal(wb_receipt_witnessed_verify(NULL, &f->info, w, wlen, &f->policy,
                                                     other),
                         0);
    wb_note_key_free(other);
    free(w);
    free(cp);
}

/* labels of the wrong type are malformed, not missing */
static void test_malformed(void **state)
{
    fixture *f = *state;
    wb_receipt_witnessed got;
    uint8_t *w;
    size_t wlen;
    uint8_t *p;
    size_t n, at;
    /* attach, then turn the checkpoint text's major type into a byte string */
    w = attach(f, "x\n", 2, 3, 3, NULL, 0, &wlen);
    assert_int_equal(wb_receipt_witnessed_get(&got, w, wlen), 0);
    wb_receipt_witnessed_cleanup(&got);
    p = w;
    n = wlen;
    /* -70001 is 0x3a 0x00 0x01 0x11 0x70; the text "x\n" follows as 0x62 'x' '\n' */
    for (at = 0; at + 8 <= n; at++)
        if (p[at] == 0x3a && p[at + 1] == 0x00 && p[at + 2] == 0x01 && p[at + 3] == 0x11 &&
            p[at + 4] == 0x70 && p[at + 5] == 0x62)
            break;
    assert_true(at + 8 <= n);
    p[at + 5] = 0x42;
    assert_int_equal(wb_receipt_witnessed_get(&got, w, wlen), WB_E_INVALID);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
