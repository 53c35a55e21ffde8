/*
 * test_queries.c: the fleet queries and device passports over a simulated
 * fleet: a device's journey lists its entries in log order with receipts
 * that verify; the tree shows what is expected and attested per slot; the
 * compliance counts match the simulator's; findings filter by tag and
 * device; a passport exported over HTTP verifies offline with pinned keys,
 * and fails, naming the entry, when a byte of it changes or a key is wrong;
 * with a witness policy it needs its checkpoint cosigned.
 */
#include "sim_test_util.h"

#include <cbor.h>
#include <jansson.h>

#include "waybill/note.h"
#include "waybill/passport.h"
#include "waybill/query.h"
#include "waybill/util.h"
#include "waybill/witness.h"

static simfix fx;
static wb_sim_report rep;
static int64_t base_findings;

static int setup(void **state)
{
    wb_sim_options o;
    (void)state;
    simfix_start(&fx, "queries");
    simfix_options(&fx, &o, "fleet");
    o.racks = 2;
    o.blades = 3;
    o.parts = 5;
    o.inject = (1u << WB_SIM_SWAP) | (1u << WB_SIM_REVOKED_FW);
    if (wb_sim_run(&rep, &o) != 0)
        fail_msg("sim: %s", wb_error_message());
    base_findings = settle(&fx, 0, 2, 1.0, 30.0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    wb_sim_report_cleanup(&rep);
    simfix_stop(&fx);
    return 0;
}

static json_t *get_json(const char *path, long want)
{
    wb_http_response r;
    json_t *o;
    json_error_t err;
    wbt_get(&r, fx.url, path);
    if (r.status != want)
        fail_msg("GET %s: HTTP %ld, want %ld", path, r.status, want);
    if (want != 200) {
        wb_http_response_cleanup(&r);
        return NULL;
    }
    assert_string_equal(r.content_type, "application/json");
    o = json_loadb((const char *)r.body, r.len, 0, &err);
    if (!o)
        fail_msg("GET %s: not JSON: %s", path, err.text);
    wb_http_response_cleanup(&r);
    return o;
}

static void test_journey(void **state)
{
    char path[128];
    json_t *j, *e, *entries;
    size_t i;
    int64_t last = -1;
    int kinds = 0;
    (void)state;
    snprintf(path, sizeof(path), "/devices/%s", rep.sample_blade);
    j = get_json(path, 200);
    assert_string_equal(json_string_value(json_object_get(j, "class")), "blade");
    assert_string_equal(json_string_value(json_object_get(j, "state")), "in-production");
    entries = json_object_get(j, "entries");
    assert_true(json_array_size(entries) >= 5);
    json_array_foreach(entries, i, e) {
        const char *kind = json_string_value(json_object_get(e, "kind"));
        const char *b64 = json_string_value(json_object_get(e, "receipt"));
        int64_t idx = json_integer_value(json_object_get(e, "index"));
        uint8_t receipt[8192];
        size_t rlen;
        wb_receipt_info info;
        assert_true(idx > last); /* log order */
        last = idx;
        if (!strcmp(kind, "manifest") || !strcmp(kind, "assembly") ||
            !strcmp(kind, "custody") || !strcmp(kind, "intake") ||
            !strcmp(kind, "attestation"))
            kinds |= 1 << (kind[0] % 16);
        /* each receipt, decoded from the answer, proves its entry's statement */
        assert_non_null(b64);
        assert_int_equal(wb_base64_decode(receipt, sizeof(receipt), &rlen, b64, strlen(b64)), 0);
        {
            /* the entry's bytes from the bundle, by its index */
            wb_http_response r;
            char tpath[256];
            uint8_t *reg, *split;
            size_t reglen, splitlen, nrec;
            wb_cose_bytes *recs;
            snprintf(tpath, sizeof(tpath), "/entries/%s/statement",
                     json_string_value(json_object_get(e, "entry_id")));
            wbt_get(&r, fx.url, tpath);
            assert_int_equal(r.status, 200);
            assert_int_equal(wb_scitt_transparent_split(&split, &splitlen, &recs, &nrec, r.body,
                                                        r.len), 0);
            reg = split;
            reglen = splitlen;
            if (wbt_verify_receipt(fx.url, receipt, rlen, reg, reglen, &info) != 0)
                fail_msg("entry %lld: receipt: %s", (long long)idx, wb_error_message());
            assert_true(info.leaf_index == (uint64_t)idx);
            wb_scitt_receipts_free(recs, nrec);
            free(split);
            wb_http_response_cleanup(&r);
        }
    }
    /* manifest, assembly, custody, intake and attestation are all there */
    assert_true(__builtin_popcount((unsigned)kinds) >= 4);
    json_decref(j);
    get_json("/devices/00000000000000000000000000000000000000000000000000000000000000aa", 404);
    get_json("/devices/nothex", 404);
}

static void test_tree(void **state)
{
    char path[128];
    json_t *t, *slot;
    size_t i;
    int blades = 0;
    (void)state;
    snprintf(path, sizeof(path), "/devices/%s/tree", rep.sample_rack);
    t = get_json(path, 200);
    assert_string_equal(json_string_value(json_object_get(t, "class")), "rack");
    json_array_foreach(json_object_get(t, "slots"), i, slot) {
        json_t *sub = json_object_get(slot, "tree"), *part;
        size_t k;
        assert_non_null(json_object_get(slot, "expected"));
        assert_non_null(sub);
        blades++;
        assert_int_equal(json_array_size(json_object_get(sub, "slots")), 5);
        json_array_foreach(json_object_get(sub, "slots"), k, part)
            /* a clean rack: every part where the ledger says, and attested */
            assert_true(json_is_true(json_object_get(part, "match")));
    }
    assert_int_equal(blades, 3);
    json_decref(t);
}

static void test_fleet_and_findings(void **state)
{
    json_t *f, *list, *one;
    size_t i;
    int64_t manifested = 0;
    const char *k;
    json_t *v;
    (void)state;
    f = get_json("/fleet", 200);
    assert_int_equal(json_integer_value(json_object_get(f, "devices")), (json_int_t)rep.devices);
    json_object_foreach(json_object_get(f, "by_state"), k, v)
        manifested += json_integer_value(v);
    assert_int_equal(manifested, (int64_t)rep.devices);
    assert_int_equal(json_integer_value(json_object_get(f, "open_findings")), base_findings);
    assert_true(json_integer_value(json_object_get(f, "tagged_devices")) >= 2);
    json_decref(f);
    f = get_json("/fleet?state=tagged", 200);
    assert_true(json_array_size(json_object_get(f, "ids")) >= 2);
    json_decref(f);
    /* filters: by tag, and by the swapped device */
    list = get_json("/findings?status=open&tag=evict", 200);
    assert_true(json_array_size(list) >= 1);
    json_array_foreach(list, i, one)
        assert_string_equal(json_string_value(json_object_get(one, "tag")), "evict");
    json_decref(list);
    for (size_t n = 0; n < rep.ninjections; n++) {
        char path[256];
        if (rep.injections[n].kind != WB_SIM_SWAP)
            continue;
        snprintf(path, sizeof(path), "/findings?device=%s", rep.injections[n].expect[0].device);
        list = get_json(path, 200);
        assert_true(json_array_size(list) >= 1);
        one = json_array_get(list, 0);
        assert_string_equal(json_string_value(json_object_get(one, "rule")),
                            "unauthorized-swap");
        assert_true(json_array_size(json_object_get(one, "evidence")) >= 2);
        json_decref(list);
    }
    list = get_json("/findings?status=resolved", 200);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
}

/* a copy of passport pp whose checkpoint also carries wit's cosignature */
static void cosign_passport(uint8_t **out, size_t *olen, const uint8_t *pp, size_t len,
                            const wb_note_key *wit, const char *logkey)
{
    struct cbor_load_result res;
    cbor_item_t *root = cbor_load(pp, len, &res), *copy;
    wb_note_key *vk;
    wb_note note;
    char *line, *cp = NULL, *signed_cp;
    size_t line_len, cap = 0;
    assert_non_null(root);
    copy = cbor_new_definite_map(cbor_map_size(root));
    assert_int_equal(wb_note_verifier_parse(&vk, logkey, strlen(logkey)), 0);
    for (size_t i = 0; i < cbor_map_size(root); i++) {
        struct cbor_pair p = cbor_map_handle(root)[i];
        if (cbor_string_length(p.key) == 10 &&
            memcmp(cbor_string_handle(p.key), "checkpoint", 10) == 0) {
            cp = strndup((const char *)cbor_string_handle(p.value),
                         cbor_string_length(p.value));
            assert_int_equal(wb_note_open(&note, cp, strlen(cp), &vk, 1), 0);
            assert_int_equal(wb_cosig_sign(&line, &line_len, wit, note.text, note.text_len,
                                           1700000000u),
                             0);
            wb_note_cleanup(&note);
            assert_true(asprintf(&signed_cp, "%s%s", cp, line) > 0);
            p.value = cbor_move(cbor_build_string(signed_cp));
            free(line);
            free(signed_cp);
            free(cp);
        }
        cbor_map_add(copy, p); /* increfs both */
    }
    *olen = cbor_serialize_alloc(copy, out, &cap);
    assert_true(*olen > 0);
    cbor_decref(&copy);
    cbor_decref(&root);
    wb_note_key_free(vk);
}

/* with a witness policy: a plain passport is refused, a cosigned one passes */
static void check_witnessed(wb_passport_trust *trust, const uint8_t *pp, size_t len,
                            const char *logkey)
{
    wb_note_key *wit;
    wb_witness_policy policy;
    char *vs, text[1024];
    uint8_t *cosigned;
    size_t clen;
    json_t *report, *w;
    assert_int_equal(wb_cosig_key_generate(&wit, "wit.test/w1"), 0);
    assert_int_equal(wb_note_verifier_string(&vs, wit), 0);
    snprintf(text, sizeof(text), "log %s\nwitness w1 %s\nquorum 1\n", logkey, vs);
    assert_int_equal(wb_witness_policy_parse(&policy, text, strlen(text)), 0);
    trust->witness_policy = &policy;

    assert_int_equal(wb_passport_verify(&report, pp, len, trust), WB_E_VERIFY);
    assert_non_null(strstr(wb_error_message(), "not witnessed"));
    assert_non_null(strstr(wb_error_message(), "w1 (missing)"));
    w = json_object_get(report, "witnessed");
    assert_true(json_is_false(json_object_get(w, "ok")));
    assert_int_equal(json_integer_value(json_object_get(w, "cosignatures")), 0);
    json_decref(report);

    cosign_passport(&cosigned, &clen, pp, len, wit, logkey);
    trust->log_key = NULL; /* the policy's log line pins it */
    if (wb_passport_verify(&report, cosigned, clen, trust) != 0)
        fail_msg("witnessed passport: %s", wb_error_message());
    w = json_object_get(report, "witnessed");
    assert_true(json_is_true(json_object_get(w, "ok")));
    assert_int_equal(json_integer_value(json_object_get(w, "cosignatures")), 1);
    assert_string_equal(json_string_value(json_object_get(report, "log_key")),
                        "pinned by the witness policy");
    json_decref(report);
    /* and without the policy, the cosignature is simply not looked at */
    trust->witness_policy = NULL;
    trust->log_key = logkey;
    assert_int_equal(wb_passport_verify(&report, cosigned, clen, trust), 0);
    json_decref(report);

    free(cosigned);
    free(vs);
    wb_witness_policy_cleanup(&policy);
    wb_note_key_free(wit);
}

static void test_passport(void **state)
{
    char path[256];
    wb_http_response r, keys;
    wb_passport_trust trust;
    json_t *report, *e;
    size_t i;
    char logpub[4400], logkey[512];
    uint8_t *lk;
    size_t lklen;
    int entries_ok = 0;
    (void)state;
    /* a part of the sample blade */
    snprintf(path, sizeof(path), "/devices/%s/tree", rep.sample_blade);
    {
        json_t *t = get_json(path, 200);
        const char *part = json_string_value(
            json_object_get(json_array_get(json_object_get(t, "slots"), 0), "expected"));
        snprintf(path, sizeof(path), "/devices/%s/passport", part);
        json_decref(t);
    }
    wbt_get(&r, fx.url, path);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "application/cbor");
    wbt_get(&keys, fx.url, "/.well-known/scitt-keys");
    snprintf(logpub, sizeof(logpub), "%s/log.pub", fx.data);
    assert_int_equal(wb_file_read(logpub, 4096, &lk, &lklen), 0);
    snprintf(logkey, sizeof(logkey), "%.*s", (int)(lklen - 1), lk);
    free(lk);
    memset(&trust, 0, sizeof(trust));
    trust.service_keys = keys.body;
    trust.service_keys_len = keys.len;
    trust.log_key = logkey;
    {
        char admin_pub[4400];
        const char *files[1] = {admin_pub};
        snprintf(admin_pub, sizeof(admin_pub), "%s.pub", fx.admin);
        trust.admin_key_files = files;
        trust.nadmin = 1;
        if (wb_passport_verify(&report, r.body, r.len, &trust) != 0)
            fail_msg("passport: %s\n%s", wb_error_message(),
                     json_dumps(report, JSON_INDENT(1)));
    }
    assert_true(json_is_true(json_object_get(report, "verified")));
    json_array_foreach(json_object_get(report, "entries"), i, e) {
        assert_true(json_is_true(json_object_get(e, "ok")));
        assert_null(json_object_get(e, "signature")); /* every signature checked */
        entries_ok++;
    }
    assert_true(entries_ok >= 8);
    json_decref(report);
    trust.admin_key_files = NULL;
    trust.nadmin = 0;
    check_witnessed(&trust, r.body, r.len, logkey);

    /* one changed byte anywhere in the statements: verification fails and
     * the report names the entry */
    for (size_t off = r.len / 8; off < r.len; off += r.len / 7) {
        uint8_t *bad = malloc(r.len);
        int rc;
        memcpy(bad, r.body, r.len);
        bad[off] ^= 0x01;
        rc = wb_passport_verify(&report, bad, r.len, &trust);
        assert_int_not_equal(rc, 0);
        if (rc == WB_E_VERIFY) {
            int named = 0;
            json_array_foreach(json_object_get(report, "entries"), i, e)
                if (json_is_false(json_object_get(e, "ok")) &&
                    json_object_get(e, "failed"))
                    named = 1;
            assert_true(named || json_object_get(report, "manifest"));
        }
        json_decref(report);
        free(bad);
    }
    /* another log's key, another service's keys: refused */
    {
        wb_note_key *other;
        char *s;
        assert_int_equal(wb_note_key_generate(&other, "localhost/waybill-dev"), 0);
        assert_int_equal(wb_note_verifier_string(&s, other), 0);
        trust.log_key = s;
        assert_int_equal(wb_passport_verify(&report, r.body, r.len, &trust), WB_E_VERIFY);
        json_decref(report);
        free(s);
        wb_note_key_free(other);
        trust.log_key = logkey;
    }
    {
        wb_key *k;
        uint8_t *ks, kid[32];
        size_t kslen;
        wb_cose_bytes kb = {kid, 32};
        const wb_key *kl[1];
        assert_int_equal(wb_key_generate(&k, WB_ALG_ES256), 0);
        assert_int_equal(wb_key_default_kid(kid, k), 0);
        kl[0] = k;
        assert_int_equal(wb_cose_keyset_encode(&ks, &kslen, kl, &kb, 1), 0);
        trust.service_keys = ks;
        trust.service_keys_len = kslen;
        assert_int_equal(wb_passport_verify(&report, r.body, r.len, &trust), WB_E_VERIFY);
        json_decref(report);
        free(ks);
        wb_key_free(k);
    }
    wb_http_response_cleanup(&keys);
    wb_http_response_cleanup(&r);
    get_json("/devices/00000000000000000000000000000000000000000000000000000000000000aa/passport",
             404);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_journey),
        cmocka_unit_test(test_tree),
        cmocka_unit_test(test_fleet_and_findings),
        cmocka_unit_test(test_passport),
    };
    return cmocka_run_group_tests_name("sim/queries", tests, setup, teardown);
}
