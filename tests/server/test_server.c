/*
 * test_server.c: the transparency service over HTTP, end to end, with a
 * real server on a free loopback port: registration from several issuers
 * and algorithms (kid and x5chain), receipts verified against the keys the
 * service publishes, duplicates, every refusal with its status and problem
 * details and nothing written, the SCRAPI 202/204 path, 429 on a full
 * queue, the read API (checkpoint, tiles, consistency, keys, metrics), and
 * the configured registration policy (content types, trust anchors).
 */
#include "wbtest_scitt.h"

#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "waybill/error.h"
#include "waybill/log.h"
#include "waybill/note.h"
#include "waybill/scitt.h"
#include "waybill/util.h"

typedef struct {
    char *dir;
    char data[4200];
    wb_server *srv;
    char url[64];
    wb_key *es256, *es384, *eddsa, *stranger;
} fixture;

static void write_pub(const char *dir, const char *name, const wb_key *k)
{
    char path[4400];
    snprintf(path, sizeof(path), "%s/issuers/%s.pem", dir, name);
    assert_int_equal(wb_key_write_file(k, path, 0), 0);
}

/* starts a server on cfg (listen on a free port); fills f->srv and f->url */
static void start(fixture *f, wb_server_config *cfg)
{
    free(cfg->listen);
    cfg->listen = strdup("127.0.0.1:0");
    if (wb_server_start(&f->srv, cfg) != 0)
        fail_msg("server start: %s", wb_error_message());
    wbt_server_url(f->url, sizeof(f->url), f->srv);
}

static int setup_common(fixture *f)
{
    f->dir = wbt_tmpdir("server");
    snprintf(f->data, sizeof(f->data), "%s/data", f->dir);
    assert_int_equal(wb_key_generate(&f->es256, WB_ALG_ES256), 0);
    assert_int_equal(wb_key_generate(&f->es384, WB_ALG_ES384), 0);
    assert_int_equal(wb_key_generate(&f->eddsa, WB_ALG_ED25519), 0);
    assert_int_equal(wb_key_generate(&f->stranger, WB_ALG_ES256), 0);
    return 0;
}

/* development mode, three issuers in DATA/issuers */
static int setup_dev(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    wb_server_config cfg;
    char issuers[4300];
    setup_common(f);
    assert_int_equal(mkdir(f->data, 0700), 0);
    snprintf(issuers, sizeof(issuers), "%s/issuers", f->data);
    assert_int_equal(mkdir(issuers, 0755), 0);
    write_pub(f->data, "acme-es256", f->es256);
    write_pub(f->data, "contoso-es384", f->es384);
    write_pub(f->data, "fabrikam-eddsa", f->eddsa);
    wb_server_config_init(&cfg);
    assert_int_equal(wb_server_config_dev(&cfg, f->data), 0);
    cfg.service.sync_normal = 1;
    start(f, &cfg);
    wb_server_config_cleanup(&cfg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    wb_server_stop(f->srv);
    wb_key_free(f->es256);
    wb_key_free(f->es384);
    wb_key_free(f->eddsa);
    wb_key_free(f->stranger);
    wbt_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* registers st and checks 201, Location and the receipt; returns the index */
static uint64_t register_ok(fixture *f, const uint8_t *st, size_t len, char *loc_out)
{
    wb_http_response r;
    wb_receipt_info info;
    wbt_post(&r, f->url, st, len, "application/cose");
    if (r.status != 201)
        fail_msg("POST /entries: HTTP %ld: %.*s", r.status, (int)r.len, r.body);
    assert_string_equal(r.content_type, "application/cose");
    assert_true(strncmp(r.location, "/entries/", 9) == 0);
    assert_int_equal(strlen(r.location), 9 + 64);
    if (wbt_verify_receipt(f->url, r.body, r.len, st, len, &info) != 0)
        fail_msg("receipt: %s", wb_error_message());
    assert_int_equal(info.vds, WB_VDS_RFC9162_SHA256);
    assert_true(info.leaf_index < info.tree_size);
    if (loc_out)
        strcpy(loc_out, r.location);
    wb_http_response_cleanup(&r);
    return info.leaf_index;
}

static void test_register_every_algorithm(void **state)
{
    fixture *f = *state;
    const wb_key *keys[3] = {f->es256, f->es384, f->eddsa};
    const char *iss[3] = {"acme", "contoso", "fabrikam"};
    uint64_t seen[9];
    int n = 0;
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 3; i++) {
            char payload[128], loc[128];
            size_t len;
            uint8_t *st;
            wb_http_response r;
            uint8_t *reg, *split_reg;
            size_t reglen, split_len, nrec;
            wb_cose_bytes *recs;
            wb_cose_sign1 m;
            wb_receipt_info info;

            snprintf(payload, sizeof(payload), "{\"kind\":\"manifest\",\"n\":%d}", i);
            st = wbt_statement(&len, keys[k], iss[k], "device-7f3a", "application/json",
                               payload, NULL, 0);
            seen[n] = register_ok(f, st, len, loc);
            for (int j = 0; j < n; j++)
                assert_true(seen[j] != seen[n]);
            n++;
            /* GET /entries/{id}: a receipt against the latest tree */
            wbt_get(&r, f->url, loc);
            assert_int_equal(r.status, 200);
            assert_int_equal(wbt_verify_receipt(f->url, r.body, r.len, st, len, &info), 0);
            wb_http_response_cleanup(&r);
            /* GET /entries/{id}/statement: the transparent statement */
            strcat(loc, "/statement");
            wbt_get(&r, f->url, loc);
            assert_int_equal(r.status, 200);
            assert_int_equal(wb_scitt_transparent_split(&split_reg, &split_len, &recs, &nrec,
                                                        r.body, r.len), 0);
            assert_int_equal(nrec, 1);
            assert_int_equal(wb_cose_sign1_decode(&m, st, len, WB_COSE_MAX), 0);
            assert_int_equal(wb_scitt_registered_statement(&reg, &reglen, &m), 0);
            wb_cose_sign1_cleanup(&m);
            assert_int_equal(split_len, reglen);
            assert_memory_equal(split_reg, reg, reglen);
            assert_int_equal(wbt_verify_receipt(f->url, recs[0].ptr, recs[0].len, st, len,
                                                &info), 0);
            wb_scitt_receipts_free(recs, nrec);
            free(split_reg);
            free(reg);
            wb_http_response_cleanup(&r);
            free(st);
        }
    assert_true(wbt_tree_size(f->url) == 9);
}

static void test_x5chain_real_supplier_chains(void **state)
{
    fixture *f = *state;
    const char *curves[2] = {"ecp256", "ecp384"};
    for (int c = 0; c < 2; c++) {
        char path[512];
        uint8_t **der, *st, *inter;
        size_t *dlen, n, len, ilen;
        wb_key *key;
        wb_cose_bytes x5[2];
        snprintf(path, sizeof(path), "spdm/%s/end_responder.key", curves[c]);
        assert_int_equal(wb_key_read_file(&key, wbt_vector_path(path)), 0);
        snprintf(path, sizeof(path), "spdm/%s/end_responder.cert", curves[c]);
        assert_int_equal(wb_x509_pem_chain(&der, &dlen, &n, wbt_vector_path(path)), 0);
        snprintf(path, sizeof(path), "spdm/%s/inter.cert.der", curves[c]);
        inter = (uint8_t *)wbt_read_file(wbt_vector_path(path), &ilen);
        x5[0].ptr = der[0];
        x5[0].len = dlen[0];
        x5[1].ptr = inter;
        x5[1].len = ilen;
        st = wbt_statement(&len, key, "DMTF libspdm", "ACME:WIDGET:1234567890",
                           "application/json", "{\"kind\":\"manifest\"}", x5, 2);
        register_ok(f, st, len, NULL);
        free(st);
        free(inter);
        wb_x509_chain_free(der, dlen, n);
        wb_key_free(key);
    }
}

static void test_duplicate_is_the_same_entry(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *st = wbt_statement(&len, f->es256, "acme", "dup", "application/json",
                                "{\"once\":true}", NULL, 0);
    char loc1[128], loc2[128];
    uint64_t a = register_ok(f, st, len, loc1), size = wbt_tree_size(f->url), b;
    b = register_ok(f, st, len, loc2);
    assert_true(a == b);
    assert_string_equal(loc1, loc2);
    assert_true(wbt_tree_size(f->url) == size);
    free(st);
}

/* a refused POST: status, problem details naming the problem, nothing written */
static void expect_refusal(fixture *f, const uint8_t *body, size_t len, const char *ctype,
                           long status, const char *detail_has)
{
    wb_http_response r;
    char title[256], detail[1024];
    uint64_t before = wbt_tree_size(f->url);
    wbt_post(&r, f->url, body, len, ctype);
    if (r.status != status)
        fail_msg("want HTTP %ld, got %ld (%s)", status, r.status, detail_has);
    assert_string_equal(r.content_type, "application/concise-problem-details+cbor");
    wb_http_problem(&r, title, sizeof(title), detail, sizeof(detail));
    assert_true(title[0] != '\0');
    if (!strstr(detail, detail_has))
        fail_msg("problem detail '%s' does not mention '%s'", detail, detail_has);
    wb_http_response_cleanup(&r);
    assert_true(wbt_tree_size(f->url) == before);
}

static void test_refusals_write_nothing(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *st = wbt_statement(&len, f->es256, "acme", "x", "application/json", "{}", NULL, 0);
    uint8_t *bad = malloc(70000);
    memset(bad, 0xa0, 70000);

    expect_refusal(f, (const uint8_t *)"not cbor at all", 15, "application/cose", 400,
                   "");
    memcpy(bad, st, len);
    bad[len] = 0x00; /* a trailing byte */
    expect_refusal(f, bad, len + 1, "application/cose", 400, "trailing");
    expect_refusal(f, st, len, "application/json", 415, "application/cose");
    expect_refusal(f, bad, 70000, "application/cose", 413, "limit");
    memcpy(bad, st, len);
    bad[len - 1] ^= 0x01; /* the signature's last byte */
    expect_refusal(f, bad, len, "application/cose", 400, "signature");
    free(st);
    st = wbt_statement(&len, f->stranger, "mallory", "x", "application/json", "{}", NULL, 0);
    expect_refusal(f, st, len, "application/cose", 400, "not the key of any registered issuer");
    free(st);
    free(bad);
    /* the metrics counted them */
    {
        wb_http_response r;
        wbt_get(&r, f->url, "/metrics");
        assert_int_equal(r.status, 200);
        assert_non_null(strstr((char *)r.body, "waybill_rejections_total{reason=\"too_large\"} 1"));
        assert_non_null(strstr((char *)r.body,
                               "waybill_rejections_total{reason=\"unsupported_media_type\"} 1"));
        assert_non_null(strstr((char *)r.body,
                               "waybill_rejections_total{reason=\"unauthenticated\"} 2"));
        wb_http_response_cleanup(&r);
    }
}

static void test_read_api(void **state)
{
    fixture *f = *state;
    wb_http_response r;
    uint8_t leaves[5][32];
    char path[300], pubpath[4300];
    uint8_t *pub;
    size_t publen;
    wb_note_key *vk;
    wb_checkpoint cp;
    for (int i = 0; i < 5; i++) {
        size_t len;
        char payload[64];
        uint8_t *st, *reg;
        size_t reglen;
        wb_cose_sign1 m;
        snprintf(payload, sizeof(payload), "{\"i\":%d}", i);
        st = wbt_statement(&len, f->es256, "acme", "tiles", "application/json", payload, NULL,
                           0);
        register_ok(f, st, len, NULL);
        assert_int_equal(wb_cose_sign1_decode(&m, st, len, WB_COSE_MAX), 0);
        assert_int_equal(wb_scitt_registered_statement(&reg, &reglen, &m), 0);
        wb_merkle_leaf_hash(leaves[i], reg, reglen);
        wb_cose_sign1_cleanup(&m);
        free(reg);
        free(st);
    }
    /* the checkpoint verifies with the log's key */
    snprintf(pubpath, sizeof(pubpath), "%s/log.pub", f->data);
    assert_int_equal(wb_file_read(pubpath, 4096, &pub, &publen), 0);
    assert_int_equal(wb_note_verifier_parse(&vk, (char *)pub, publen - 1), 0);
    wbt_get(&r, f->url, "/checkpoint");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/plain; charset=utf-8");
    assert_int_equal(wb_checkpoint_open(&cp, (char *)r.body, r.len, vk), 0);
    assert_true(cp.size == 5);
    wb_checkpoint_cleanup(&cp);
    wb_http_response_cleanup(&r);
    /* the level-0 tile holds the leaf hashes, the bundle the statements */
    wbt_get(&r, f->url, "/tile/0/000.p/5");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 5 * 32);
    assert_memory_equal(r.body, leaves, 5 * 32);
    wb_http_response_cleanup(&r);
    wbt_get(&r, f->url, "/tile/entries/000.p/5");
    assert_int_equal(r.status, 200);
    {
        unsigned count;
        assert_int_equal(wb_bundle_count(r.body, r.len, &count), 0);
        assert_int_equal(count, 5);
    }
    wb_http_response_cleanup(&r);
    wbt_get(&r, f->url, "/tile/0/000.p/6");
    assert_int_equal(r.status, 404);
    wb_http_response_cleanup(&r);
    wbt_get(&r, f->url, "/tile/0/0");
    assert_int_equal(r.status, 400);
    wb_http_response_cleanup(&r);
    /* a consistency proof from size 2 verifies against the checkpoint */
    wbt_get(&r, f->url, "/proofs/consistency?old=2");
    assert_int_equal(r.status, 200);
    {
        wb_proof_text p;
        uint8_t root2[32];
        wb_merkle_node_hash(root2, leaves[0], leaves[1]);
        assert_int_equal(wb_proof_text_parse(&p, (char *)r.body, r.len), 0);
        assert_int_equal(wb_checkpoint_open(&cp, p.checkpoint, p.checkpoint_len, vk), 0);
        assert_int_equal(wb_merkle_consistency_verify(2, cp.size,
                                                      (const uint8_t(*)[32])p.hashes,
                                                      p.nhashes, root2, cp.root), 0);
        wb_checkpoint_cleanup(&cp);
        wb_proof_text_cleanup(&p);
    }
    wb_http_response_cleanup(&r);
    wbt_get(&r, f->url, "/proofs/consistency");
    assert_int_equal(r.status, 400);
    wb_http_response_cleanup(&r);
    /* keys: the set, one key by its hex kid, and an unknown kid */
    {
        size_t kl;
        const uint8_t *kid = wb_service_kid(wb_server_service(f->srv), &kl);
        char hex[65];
        wb_hex_encode(hex, kid, kl);
        snprintf(path, sizeof(path), "/.well-known/scitt-keys/%s", hex);
        wbt_get(&r, f->url, path);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.content_type, "application/cbor");
        wb_http_response_cleanup(&r);
        wbt_get(&r, f->url, "/.well-known/scitt-keys/nope");
        assert_int_equal(r.status, 404);
        wb_http_response_cleanup(&r);
    }
    wbt_get(&r, f->url, "/.well-known/transparency-configuration");
    assert_int_equal(r.status, 200);
    assert_non_null(memmem(r.body, r.len, "localhost/waybill-dev", 21));
    assert_null(memmem(r.body, r.len, "witnesses", 9)); /* no [witness] */
    wb_http_response_cleanup(&r);
    /* no witnesses: no witnessed passport */
    wbt_get(&r, f->url, "/devices/00000000000000000000000000000000000000000000000000000000000000aa"
                        "/passport?witnessed=1");
    assert_int_equal(r.status, 404);
    assert_non_null(memmem(r.body, r.len, "No witnesses", 12));
    wb_http_response_cleanup(&r);
    wbt_get(&r, f->url, "/entries/0000000000000000000000000000000000000000000000000000000000000000");
    assert_int_equal(r.status, 404);
    wb_http_response_cleanup(&r);
    wbt_get(&r, f->url, "/entries/xyz");
    assert_int_equal(r.status, 404);
    wb_http_response_cleanup(&r);
    wbt_get(&r, f->url, "/nothing-here");
    assert_int_equal(r.status, 404);
    wb_http_response_cleanup(&r);
    wbt_get(&r, f->url, "/metrics");
    assert_non_null(strstr((char *)r.body, "waybill_registrations_total 5\n"));
    assert_non_null(strstr((char *)r.body, "waybill_tree_size 5\n"));
    wb_http_response_cleanup(&r);
    wb_note_key_free(vk);
    free(pub);
}

/* ---- a configured (not development) service ---- */

static int setup_configured(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    wb_server_config cfg;
    char keyfile[4300];
    wb_key *rk;
    setup_common(f);
    assert_int_equal(mkdir(f->data, 0700), 0);
    snprintf(keyfile, sizeof(keyfile), "%s/service.key", f->data);
    assert_int_equal(wb_key_generate(&rk, WB_ALG_ES256), 0);
    assert_int_equal(wb_key_write_file(rk, keyfile, 1), 0);
    wb_key_free(rk);
    wb_server_config_init(&cfg);
    cfg.service.name = strdup("example.com/provenance");
    cfg.service.data_dir = strdup(f->data);
    cfg.service.receipt_key_file = strdup(keyfile);
    cfg.service.sync_normal = 1;
    cfg.service.nissuers = 2;
    cfg.service.issuers = calloc(2, sizeof(wb_issuer));
    cfg.service.issuers[0].name = strdup("acme");
    assert_int_equal(wb_key_public_copy(&cfg.service.issuers[0].key, f->es256), 0);
    assert_int_equal(wb_key_default_kid(cfg.service.issuers[0].kid, f->es256), 0);
    cfg.service.issuers[0].kid_len = 32;
    cfg.service.issuers[0].content_types = calloc(1, sizeof(char *));
    cfg.service.issuers[0].content_types[0] = strdup("application/json");
    cfg.service.issuers[0].ncontent_types = 1;
    cfg.service.issuers[1].name = strdup("spdm-supplier");
    cfg.service.issuers[1].anchor_file = strdup(wbt_vector_path("spdm/ecp256/ca.cert"));
    start(f, &cfg);
    wb_server_config_cleanup(&cfg);
    *state = f;
    return 0;
}

static uint8_t *spdm_statement(size_t *len, const char *curve)
{
    char path[512];
    uint8_t **der, *st, *inter;
    size_t *dlen, n, ilen;
    wb_key *key;
    wb_cose_bytes x5[2];
    snprintf(path, sizeof(path), "spdm/%s/end_responder.key", curve);
    assert_int_equal(wb_key_read_file(&key, wbt_vector_path(path)), 0);
    snprintf(path, sizeof(path), "spdm/%s/end_responder.cert", curve);
    assert_int_equal(wb_x509_pem_chain(&der, &dlen, &n, wbt_vector_path(path)), 0);
    snprintf(path, sizeof(path), "spdm/%s/inter.cert.der", curve);
    inter = (uint8_t *)wbt_read_file(wbt_vector_path(path), &ilen);
    x5[0].ptr = der[0];
    x5[0].len = dlen[0];
    x5[1].ptr = inter;
    x5[1].len = ilen;
    st = wbt_statement(len, key, "DMTF", "ACME:WIDGET:1234567890", "application/json",
                       "{\"kind\":\"manifest\"}", x5, 2);
    free(inter);
    wb_x509_chain_free(der, dlen, n);
    wb_key_free(key);
    return st;
}

static void test_configured_policy(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *st;
    /* the configured issuer, its allowed content type */
    st = wbt_statement(&len, f->es256, "acme", "d", "application/json", "{}", NULL, 0);
    register_ok(f, st, len, NULL);
    free(st);
    /* ... and one it may not register */
    st = wbt_statement(&len, f->es256, "acme", "d", "text/plain", "hello", NULL, 0);
    expect_refusal(f, st, len, "application/cose", 400, "may not register content type");
    free(st);
    /* a key that is only known in development mode is unknown here */
    st = wbt_statement(&len, f->es384, "contoso", "d", "application/json", "{}", NULL, 0);
    expect_refusal(f, st, len, "application/cose", 400, "not the key of any registered issuer");
    free(st);
    /* a chain to the configured anchor */
    st = spdm_statement(&len, "ecp256");
    register_ok(f, st, len, NULL);
    free(st);
    /* a chain to another CA: refused, nothing written */
    st = spdm_statement(&len, "ecp384");
    expect_refusal(f, st, len, "application/cose", 400, "x5chain");
    free(st);
}

/* ---- the registration policy hook ---- */

static int policy_calls;

/* refuses subjects that start with "quarantined-", as a provenance rule would */
static int test_policy(void *ctx, const wb_statement_view *st)
{
    (void)ctx;
    __atomic_add_fetch(&policy_calls, 1, __ATOMIC_RELAXED);
    if (!st->issuer || !st->key || !st->msg || strcmp(st->content_type, "application/json"))
        return wb_error_set(WB_E_INTERNAL, "policy view is incomplete");
    if (strncmp(st->msg->hdr.sub, "quarantined-", 12) == 0)
        return wb_error_set(WB_E_INVALID, "sub '%s': issuer '%s' may not register "
                            "statements about quarantined devices", st->msg->hdr.sub,
                            st->issuer);
    return 0;
}

static int setup_policy(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    wb_server_config cfg;
    char issuers[4300];
    setup_common(f);
    assert_int_equal(mkdir(f->data, 0700), 0);
    snprintf(issuers, sizeof(issuers), "%s/issuers", f->data);
    assert_int_equal(mkdir(issuers, 0755), 0);
    write_pub(f->data, "acme", f->es256);
    wb_server_config_init(&cfg);
    assert_int_equal(wb_server_config_dev(&cfg, f->data), 0);
    cfg.service.sync_normal = 1;
    cfg.service.policy.check = test_policy;
    start(f, &cfg);
    wb_server_config_cleanup(&cfg);
    *state = f;
    return 0;
}

static void test_policy_hook_decides(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *st;
    policy_calls = 0;
    st = wbt_statement(&len, f->es256, "acme", "rot-7f3a", "application/json", "{}", NULL, 0);
    register_ok(f, st, len, NULL);
    free(st);
    st = wbt_statement(&len, f->es256, "acme", "quarantined-rot-1", "application/json", "{}",
                       NULL, 0);
    expect_refusal(f, st, len, "application/cose", 400,
                   "may not register statements about quarantined devices");
    free(st);
    /* the hook runs only for authenticated statements */
    st = wbt_statement(&len, f->stranger, "mallory", "rot", "application/json", "{}", NULL, 0);
    expect_refusal(f, st, len, "application/cose", 400, "not the key of any registered issuer");
    free(st);
    assert_int_equal(policy_calls, 2);
}

/* ---- the asynchronous path and the full queue ---- */

static int setup_slow(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    wb_server_config cfg;
    char issuers[4300];
    setup_common(f);
    assert_int_equal(mkdir(f->data, 0700), 0);
    snprintf(issuers, sizeof(issuers), "%s/issuers", f->data);
    assert_int_equal(mkdir(issuers, 0755), 0);
    write_pub(f->data, "acme", f->es256);
    wb_server_config_init(&cfg);
    assert_int_equal(wb_server_config_dev(&cfg, f->data), 0);
    cfg.service.sync_normal = 1;
    cfg.service.batch_interval_ms = 1500; /* a slow group commit */
    cfg.service.register_wait_ms = 100;   /* answer 202 after 100 ms */
    cfg.service.queue_max = 2;
    start(f, &cfg);
    wb_server_config_cleanup(&cfg);
    *state = f;
    return 0;
}

static void test_pending_202_then_204_then_200(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *st = wbt_statement(&len, f->es256, "acme", "slow", "application/json", "{}",
                                NULL, 0);
    wb_http_response r;
    char loc[128];
    int polls = 0;
    wb_receipt_info info;
    wbt_post(&r, f->url, st, len, "application/cose");
    assert_int_equal(r.status, 202);
    assert_true(strncmp(r.location, "/entries/", 9) == 0);
    assert_int_equal(r.retry_after, 1);
    assert_int_equal(r.len, 0);
    strcpy(loc, r.location);
    wb_http_response_cleanup(&r);
    /* pending: 204 with Retry-After */
    wbt_get(&r, f->url, loc);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.retry_after, 1);
    wb_http_response_cleanup(&r);
    for (;;) {
        wbt_get(&r, f->url, loc);
        if (r.status == 200)
            break;
        assert_int_equal(r.status, 204);
        wb_http_response_cleanup(&r);
        assert_true(++polls < 60);
        usleep(100000);
    }
    assert_int_equal(wbt_verify_receipt(f->url, r.body, r.len, st, len, &info), 0);
    wb_http_response_cleanup(&r);
    free(st);
}

typedef struct {
    fixture *f;
    uint8_t *st;
    size_t len;
    long status;
} poster;

static void *post_thread(void *arg)
{
    poster *p = arg;
    wb_http_response r;
    wbt_post(&r, p->f->url, p->st, p->len, "application/cose");
    p->status = r.status;
    wb_http_response_cleanup(&r);
    return NULL;
}

static void test_full_queue_answers_429(void **state)
{
    fixture *f = *state;
    poster p[2];
    pthread_t t[2];
    size_t len;
    uint8_t *st;
    wb_http_response r;
    char title[128], detail[512];
    for (int i = 0; i < 2; i++) {
        char payload[32];
        snprintf(payload, sizeof(payload), "{\"q\":%d}", i);
        p[i].f = f;
        p[i].st = wbt_statement(&p[i].len, f->es256, "acme", "q", "application/json",
                                payload, NULL, 0);
        assert_int_equal(pthread_create(&t[i], NULL, post_thread, &p[i]), 0);
    }
    usleep(400000); /* both queued; the commit waits 1.5 s */
    st = wbt_statement(&len, f->es256, "acme", "q", "application/json", "{\"q\":9}", NULL, 0);
    wbt_post(&r, f->url, st, len, "application/cose");
    assert_int_equal(r.status, 429);
    assert_int_equal(r.retry_after, 1);
    wb_http_problem(&r, title, sizeof(title), detail, sizeof(detail));
    assert_non_null(strstr(detail, "queue is full"));
    wb_http_response_cleanup(&r);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        assert_true(p[i].status == 202 || p[i].status == 201);
        free(p[i].st);
    }
    free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_every_algorithm, setup_dev, teardown),
        cmocka_unit_test_setup_teardown(test_x5chain_real_supplier_chains, setup_dev, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_is_the_same_entry, setup_dev, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_write_nothing, setup_dev, teardown),
        cmocka_unit_test_setup_teardown(test_read_api, setup_dev, teardown),
        cmocka_unit_test_setup_teardown(test_configured_policy, setup_configured, teardown),
        cmocka_unit_test_setup_teardown(test_policy_hook_decides, setup_policy, teardown),
        cmocka_unit_test_setup_teardown(test_pending_202_then_204_then_200, setup_slow,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_full_queue_answers_429, setup_slow, teardown),
    };
    return cmocka_run_group_tests_name("server", tests, NULL, NULL);
}
