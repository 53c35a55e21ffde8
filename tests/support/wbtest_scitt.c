/*
 * wbtest_scitt.c: helpers for the transparency-service tests (see
 * wbtest_scitt.h).
 */
#include "wbtest_scitt.h"

#include <sys/stat.h>

#include <string.h>
#include <time.h>

#include "waybill/error.h"
#include "waybill/note.h"
#include "waybill/scitt.h"
#include "waybill/util.h"

uint8_t *wbt_statement(size_t *len, const wb_key *key, const char *iss, const char *sub,
                       const char *cty, const char *payload, const wb_cose_bytes *x5,
                       size_t nx5)
{
    wb_cose_headers h;
    wb_cose_signer signer;
    uint8_t kid[32], *out = NULL;
    memset(&h, 0, sizeof(h));
    assert_int_equal(wb_cose_signer_for_key(&signer, key), 0);
    h.alg = signer.alg;
    h.cty = cty;
    h.cty_int = -1;
    h.has_cwt = 1;
    h.iss = iss;
    h.sub = sub;
    h.iat = (int64_t)time(NULL);
    if (nx5) {
        for (size_t i = 0; i < nx5; i++)
            h.x5chain[i] = x5[i];
        h.nx5chain = nx5;
    } else {
        assert_int_equal(wb_key_default_kid(kid, key), 0);
        h.kid.ptr = kid;
        h.kid.len = 32;
    }
    if (wb_cose_sign1_create(&out, len, &h, NULL, 0, (const uint8_t *)payload,
                             strlen(payload), 0, &signer) != 0)
        fail_msg("sign: %s", wb_error_message());
    return out;
}

void wbt_server_url(char *out, size_t cap, wb_server *s)
{
    snprintf(out, cap, "http://127.0.0.1:%u", wb_server_port(s));
}

wb_server *wbt_dev_server(const char *data, char *url, size_t cap, unsigned overdue_scan_s)
{
    wb_server_config cfg;
    wb_server *srv = NULL;
    assert_int_equal(mkdir(data, 0700), 0);
    wb_server_config_init(&cfg);
    assert_int_equal(wb_server_config_dev(&cfg, data), 0);
    cfg.service.sync_normal = 1;
    if (overdue_scan_s)
        cfg.fleet.overdue_scan_s = overdue_scan_s;
    free(cfg.listen);
    cfg.listen = strdup("127.0.0.1:0");
    if (wb_server_start(&srv, &cfg) != 0)
        fail_msg("server start: %s", wb_error_message());
    wb_server_config_cleanup(&cfg);
    wbt_server_url(url, cap, srv);
    return srv;
}

void wbt_post(wb_http_response *r, const char *base, const uint8_t *body, size_t len,
              const char *ctype)
{
    char url[512];
    snprintf(url, sizeof(url), "%s/entries", base);
    if (wb_http_request(r, "POST", url, body, len, ctype, "application/cose", 30) != 0)
        fail_msg("POST %s: %s", url, wb_error_message());
}

void wbt_get(wb_http_response *r, const char *base, const char *path)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", base, path);
    if (wb_http_request(r, "GET", url, NULL, 0, NULL, NULL, 30) != 0)
        fail_msg("GET %s: %s", url, wb_error_message());
}

typedef struct {
    wb_cose_keyset_entry *ks;
    size_t n;
} keys_ctx;

static int key_fn(void *vctx, wb_cose_verifier *out, const uint8_t *kid, size_t kid_len,
                  int64_t alg)
{
    keys_ctx *k = vctx;
    for (size_t i = 0; i < k->n; i++)
        if (k->ks[i].kid_len == kid_len && memcmp(k->ks[i].kid, kid, kid_len) == 0 &&
            wb_cose_verifier_for_key(out, k->ks[i].key) == 0 && out->alg == alg)
            return 0;
    return wb_error_set(WB_E_NOTFOUND, "no service key with that kid");
}

int wbt_verify_receipt(const char *base, const uint8_t *receipt, size_t rlen,
                       const uint8_t *statement, size_t slen, wb_receipt_info *info)
{
    wb_http_response r;
    keys_ctx k = {0};
    wb_cose_sign1 m;
    uint8_t *reg;
    size_t reglen;
    int rc;
    wbt_get(&r, base, "/.well-known/scitt-keys");
    assert_int_equal(r.status, 200);
    assert_int_equal(wb_cose_keyset_decode(&k.ks, &k.n, r.body, r.len), 0);
    wb_http_response_cleanup(&r);
    assert_int_equal(wb_cose_sign1_decode(&m, statement, slen, WB_COSE_MAX), 0);
    assert_int_equal(wb_scitt_registered_statement(&reg, &reglen, &m), 0);
    wb_cose_sign1_cleanup(&m);
    rc = wb_receipt_verify(info, receipt, rlen, reg, reglen, key_fn, &k);
    free(reg);
    wb_cose_keyset_free(k.ks, k.n);
    return rc;
}

uint64_t wbt_tree_size(const char *base)
{
    wb_http_response r;
    wb_checkpoint cp;
    wb_note note;
    uint64_t size;
    wbt_get(&r, base, "/checkpoint");
    assert_int_equal(r.status, 200);
    /* the text only (the signature is checked in the read-API test) */
    {
        const char *end = strstr((const char *)r.body, "\n\n");
        assert_non_null(end);
        assert_int_equal(wb_checkpoint_parse(&cp, (const char *)r.body,
                                             (size_t)(end - (const char *)r.body) + 1),
                         0);
    }
    (void)note;
    size = cp.size;
    wb_checkpoint_cleanup(&cp);
    wb_http_response_cleanup(&r);
    return size;
}
