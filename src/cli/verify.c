/*
 * verify.c: `waybill verify`: check, offline, that a statement is in a
 * transparency service's log: every receipt (RFC 9942) of a transparent
 * statement, or one statement with a separate receipt, against the
 * service's keys; and, when it can, the issuer's signature on the statement.
 *
 * Receipts of both kinds verify: RFC9162_SHA256 (vds 1, waybill and other
 * RFC 9162 services) and CCF_LEDGER_SHA256 (vds 2, Azure Code Transparency
 * and other CCF-based services). Service keys come from a file (a COSE Key
 * Set as served at /.well-known/scitt-keys, a PEM public key or
 * certificate, or a CCF service-parameters JSON) or are fetched once from
 * --url; nothing else is fetched.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "waybill/audit.h"
#include "waybill/client.h"
#include "waybill/cose.h"
#include "waybill/error.h"
#include "waybill/passport.h"
#include "waybill/scitt.h"
#include "waybill/util.h"
#include "waybill/witnessed.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_verify = {
    .group = NULL,
    .name = "verify",
    .summary = "verify a transparent statement or a receipt offline",
    .usage =
        "usage: waybill verify FILE (--service-key KEYFILE | --url URL [--save-keys F])\n"
        "                      [--receipt RECEIPT] [--issuer-key PEM] [--json]\n"
        "                      [--witness-policy FILE [--log-key K]]\n"
        "       waybill verify --passport FILE [--service-key F] [--log-key K]\n"
        "                      [--admin-key PEM] [--witness-policy FILE] [--json]\n"
        "       waybill verify --fork FILE [--log-key K] [--json]\n"
        "\n"
        "FILE is a transparent statement (receipts in header 394), or with\n"
        "--receipt a signed statement and its receipt. Every receipt must verify:\n"
        "the statement's leaf, the inclusion proof up to a root, and the service's\n"
        "signature on that root (RFC 9942; vds 1 RFC9162_SHA256 and vds 2\n"
        "CCF_LEDGER_SHA256 are understood).\n"
        "\n"
        "The service keys (the only thing trusted):\n"
        "  --service-key F  a COSE Key Set (GET /.well-known/scitt-keys), a PEM\n"
        "                   public key or certificate, or a CCF JSON with\n"
        "                   parameters[].serviceCertificate\n"
        "  --url URL        fetch URL/.well-known/scitt-keys once, then verify offline\n"
        "  --save-keys F    with --url: keep the fetched key set in F, for later\n"
        "                   offline checks with --service-key F\n"
        "A receipt's kid must name one of them (as given, or as the SHA-256 of the\n"
        "key's SubjectPublicKeyInfo, raw or in hex).\n"
        "\n"
        "The issuer's signature is checked with the statement's x5chain leaf, or\n"
        "with --issuer-key; otherwise (or for an algorithm waybill does not\n"
        "implement, such as PS384) it is reported as not checked.\n"
        "\n"
        "With --witness-policy FILE (docs/audit.md, \"Witnesses\") every receipt must\n"
        "also carry a witnessed checkpoint (fetch it with GET /entries/{id}/statement\n"
        "?witnessed=1): signed by the log's key (--log-key K, the log's note verifier\n"
        "key or a file holding it, or the policy's 'log' line), cosigned by a quorum\n"
        "of the policy's witnesses, and proven consistent with the receipt's tree.\n"
        "\n"
        "With --passport FILE (from 'waybill device export') it checks every claim of\n"
        "a device passport instead: receipts under the passport's one checkpoint\n"
        "(--log-key pins the log key, --service-key the receipt keys), and each\n"
        "issuer's signature with the keys the ledger's governance entries registered\n"
        "(--admin-key PEM also checks the governance entries themselves). With\n"
        "--witness-policy FILE the passport's checkpoint must also be cosigned by a\n"
        "quorum of the policy's witnesses (export it with 'waybill device export\n"
        "--witnessed'), the log key being --log-key or the policy's 'log' line.\n"
        "\n"
        "With --fork FILE (written by `waybill audit`, docs/audit.md) it checks a\n"
        "fork proof: two checkpoints signed by the log's key (--log-key pins it;\n"
        "without it the key in the file is used and printed, compare it with the\n"
        "log's published key) that no single append-only log can both have.\n"
        "Exit 0 means the fork is proven.\n"
        "\n"
        "exit codes: 0 verified, 1 a receipt or signature did not verify,\n"
        "            2 usage, 3 malformed input, 4 file or URL not found\n",
    .run = run,
};

typedef struct {
    wb_key *key;
    uint8_t kid[WB_COSE_KID_MAX];
    size_t kid_len;
    uint8_t spki_hash[32];
} svc_key;

typedef struct {
    svc_key *keys;
    size_t n;
} keyring;

static int ring_add(keyring *r, wb_key *key, const uint8_t *kid, size_t kid_len)
{
    svc_key *grown = realloc(r->keys, (r->n + 1) * sizeof(*grown));
    int rc;
    if (!grown) {
        wb_key_free(key);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    r->keys = grown;
    memset(&grown[r->n], 0, sizeof(*grown));
    grown[r->n].key = key;
    if (kid_len > WB_COSE_KID_MAX)
        kid_len = WB_COSE_KID_MAX;
    if (kid_len)
        memcpy(grown[r->n].kid, kid, kid_len);
    grown[r->n].kid_len = kid_len;
    rc = wb_key_default_kid(grown[r->n].spki_hash, key);
    r->n++;
    return rc;
}

static void ring_free(keyring *r)
{
    for (size_t i = 0; i < r->n; i++)
        wb_key_free(r->keys[i].key);
    free(r->keys);
}

/* a CCF service-parameters JSON: {"parameters":[{"serviceCertificate": b64}]} */
static int load_ccf_json(keyring *r, const char *text, size_t len, const char *path)
{
    json_error_t err;
    json_t *root = json_loadb(text, len, 0, &err), *params;
    size_t i;
    json_t *p;
    int rc = 0;
    if (!root)
        return wb_error_set(WB_E_INVALID, "%s line %d: %s", path, err.line, err.text);
    params = json_object_get(root, "parameters");
    if (!json_is_array(params)) {
        json_decref(root);
        return wb_error_set(WB_E_INVALID, "%s: no \"parameters\" array of service "
                            "certificates", path);
    }
    json_array_foreach(params, i, p) {
        const char *b64 = json_string_value(json_object_get(p, "serviceCertificate"));
        uint8_t *der;
        size_t dlen;
        wb_key *k;
        if (!b64)
            continue;
        der = malloc(strlen(b64));
        if (!der) {
            rc = wb_error_set(WB_E_NOMEM, "out of memory");
            break;
        }
        rc = wb_base64_decode(der, strlen(b64), &dlen, b64, strlen(b64));
        if (rc == 0)
            rc = wb_key_from_x509_der(&k, der, dlen);
        free(der);
        if (rc) {
            rc = wb_error_prefix(rc, "%s: parameters[%zu].serviceCertificate", path, i);
            break;
        }
        if ((rc = ring_add(r, k, NULL, 0)) != 0)
            break;
    }
    json_decref(root);
    if (rc == 0 && r->n == 0)
        rc = wb_error_set(WB_E_INVALID, "%s: no service certificate found", path);
    return rc;
}

static int load_keyset_cbor(keyring *r, const uint8_t *data, size_t len, const char *what)
{
    wb_cose_keyset_entry *ks = NULL;
    size_t n = 0;
    int rc = wb_cose_keyset_decode(&ks, &n, data, len);
    if (rc) {
        /* maybe a single COSE_Key */
        wb_key *k;
        uint8_t kid[WB_COSE_KID_MAX];
        size_t kid_len = 0;
        if (wb_cose_key_decode(&k, kid, &kid_len, data, len) == 0)
            return ring_add(r, k, kid, kid_len);
        return wb_error_prefix(rc, "%s", what);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = ring_add(r, ks[i].key, ks[i].kid, ks[i].kid_len);
        ks[i].key = NULL;
    }
    wb_cose_keyset_free(ks, n);
    return rc;
}

static int load_keys_file(keyring *r, const char *path)
{
    uint8_t *data;
    size_t len;
    int rc = wb_file_read(path, 1 << 20, &data, &len);
    if (rc)
        return wb_error_prefix(rc, "--service-key");
    if (len > 10 && memcmp(data, "-----BEGIN", 10) == 0) {
        if (strstr((char *)data, "CERTIFICATE")) {
            uint8_t **der;
            size_t *dl, n;
            rc = wb_x509_pem_chain(&der, &dl, &n, path);
            for (size_t i = 0; rc == 0 && i < n; i++) {
                wb_key *k;
                rc = wb_key_from_x509_der(&k, der[i], dl[i]);
                if (rc == 0)
                    rc = ring_add(r, k, NULL, 0);
            }
            if (rc == 0)
                wb_x509_chain_free(der, dl, n);
        } else {
            wb_key *k;
            rc = wb_key_from_pem(&k, (const char *)data, len);
            if (rc == 0)
                rc = ring_add(r, k, NULL, 0);
        }
    } else if (len > 0 && data[0] == '{') {
        rc = load_ccf_json(r, (const char *)data, len, path);
    } else {
        rc = load_keyset_cbor(r, data, len, path);
    }
    free(data);
    return rc;
}

static int load_keys_url(keyring *r, const char *url, const char *save)
{
    char full[4200];
    wb_http_response resp;
    int rc = wb_http_join(full, sizeof(full), url, "/.well-known/scitt-keys");
    if (rc == 0)
        rc = wb_http_request(&resp, "GET", full, NULL, 0, NULL, "application/cbor", 30);
    if (rc)
        return rc;
    if (resp.status != 200)
        rc = wb_error_set(resp.status == 404 ? WB_E_NOTFOUND : WB_E_IO,
                          "%s: HTTP %ld", full, resp.status);
    else
        rc = load_keyset_cbor(r, resp.body, resp.len, full);
    if (rc == 0 && save)
        rc = wb_file_replace(save, resp.body, resp.len, 0644);
    wb_http_response_cleanup(&resp);
    return rc;
}

/* the receipt's kid names a key as given, or as SHA-256(SPKI) raw or hex */
static int find_key(void *ctx, wb_cose_verifier *out, const uint8_t *kid, size_t kid_len,
                    int64_t alg)
{
    keyring *r = ctx;
    uint8_t fromhex[32];
    int hexkid = kid_len == 64 && wb_hex_decode(fromhex, 32, (const char *)kid, 64) == 0;
    char shown[65];
    for (size_t i = 0; i < r->n; i++) {
        svc_key *k = &r->keys[i];
        int match = (k->kid_len && k->kid_len == kid_len && !memcmp(k->kid, kid, kid_len)) ||
                    (kid_len == 32 && !memcmp(k->spki_hash, kid, 32)) ||
                    (hexkid && !memcmp(k->spki_hash, fromhex, 32));
        if (!match)
            continue;
        if (wb_cose_verifier_for_key(out, k->key) != 0)
            continue;
        if (out->alg != alg)
            continue; /* same kid, other algorithm: keep looking */
        return 0;
    }
    wb_hex_encode(shown, kid, kid_len > 32 ? 32 : kid_len);
    return wb_error_set(WB_E_NOTFOUND, "no service key with kid %s%s and alg %lld", shown,
                        kid_len > 32 ? "..." : "", (long long)alg);
}

/* the issuer's signature: 1 verified, 0 not checked (reason), <0 failed */
static int check_issuer(const uint8_t *stmt, size_t len, const char *issuer_key,
                        char *why, size_t cap)
{
    wb_cose_sign1 m;
    wb_key *key = NULL;
    wb_cose_verifier v;
    int rc = wb_cose_sign1_decode(&m, stmt, len, WB_COSE_MAX);
    if (rc)
        return rc;
    if (wb_cose_alg_to_wb(m.hdr.alg) == WB_ALG_NONE) {
        snprintf(why, cap, "the statement's algorithm %lld is not one waybill implements",
                 (long long)m.hdr.alg);
        wb_cose_sign1_cleanup(&m);
        return 0;
    }
    if (issuer_key)
        rc = wb_key_read_file(&key, issuer_key);
    else if (m.hdr.nx5chain > 0)
        rc = wb_key_from_x509_der(&key, m.hdr.x5chain[0].ptr, m.hdr.x5chain[0].len);
    else {
        snprintf(why, cap, "no x5chain in the statement and no --issuer-key");
        wb_cose_sign1_cleanup(&m);
        return 0;
    }
    if (rc == 0)
        rc = wb_cose_verifier_for_key(&v, key);
    if (rc == 0 && v.alg != m.hdr.alg)
        rc = wb_error_set(WB_E_VERIFY, "the issuer key is %s, the statement says alg %lld",
                          wb_alg_name(wb_key_alg(key)), (long long)m.hdr.alg);
    if (rc == 0)
        rc = wb_cose_sign1_verify(&m, &v, NULL, 0);
    wb_key_free(key);
    wb_cose_sign1_cleanup(&m);
    return rc ? rc : 1;
}

/* a note verifier key: the string itself or a file holding it */
static int load_note_key(wb_note_key **out, const char *arg, const char *what)
{
    int rc = wb_note_verifier_load(out, arg);
    return rc ? wb_error_prefix(rc, "%s", what) : 0;
}

/* --witness-policy: the policy and the log key it is checked with */
static int load_witness_policy(wb_witness_policy *p, wb_note_key **log_key,
                               const char *policy_s, const char *logkey_s)
{
    int rc = wb_witness_policy_load(p, policy_s);
    if (rc)
        return wb_error_prefix(rc, "--witness-policy");
    if (logkey_s)
        rc = load_note_key(log_key, logkey_s, "--log-key");
    else if (p->log_vkey)
        rc = wb_note_verifier_parse(log_key, p->log_vkey, strlen(p->log_vkey));
    else
        rc = wb_error_set(WB_E_INVALID, "--witness-policy %s has no 'log' line: give the "
                          "log's checkpoint key with --log-key", policy_s);
    if (rc)
        wb_witness_policy_cleanup(p);
    return rc;
}

/* --fork: a fork proof from `waybill audit` */
static int verify_fork(const cli_args *a, const char *path, const char *logkey_s)
{
    uint8_t *data = NULL;
    size_t len;
    wb_note_key *key = NULL;
    char *file_key = NULL;
    uint64_t sa = 0, sb = 0;
    int rc;
    if (a->npos != 0)
        return cli_usage_error(&wb_cmd_verify, "--fork FILE takes no other file");
    rc = wb_file_read(path, WB_FORK_PROOF_MAX, &data, &len);
    if (rc == 0 && logkey_s)
        rc = load_note_key(&key, logkey_s, "--log-key");
    if (rc == 0)
        rc = wb_fork_proof_verify((const char *)data, len, key, key ? NULL : &file_key, &sa,
                                  &sb);
    if (a->json) {
        json_t *o = json_object();
        json_object_set_new(o, "fork_proven", json_boolean(rc == 0));
        if (rc == 0) {
            json_object_set_new(o, "size_a", json_integer((json_int_t)sa));
            json_object_set_new(o, "size_b", json_integer((json_int_t)sb));
            if (file_key)
                json_object_set_new(o, "log_key_from_file", json_string(file_key));
        } else {
            json_object_set_new(o, "error", json_string(wb_error_message()));
        }
        cli_print_json(o);
    } else if (rc == 0) {
        printf("fork proven: two checkpoints signed by the same key, of sizes %llu and "
               "%llu, that no single append-only log can both have\n",
               (unsigned long long)sa, (unsigned long long)sb);
        if (file_key)
            printf("the key is the one in the file: %s\n(compare it with the log's "
                   "published key, or pass --log-key)\n", file_key);
    }
    free(file_key);
    free(data);
    wb_note_key_free(key);
    if (rc && !a->json)
        return cli_fail("verify", rc);
    return rc ? cli_exit_code(rc) : WB_EXIT_OK;
}

/* --passport: every claim of a device passport, offline */
static int verify_passport(const cli_args *a, const char *path, const char *keys_s,
                           const char *logkey_s, const char *admin_s, const char *policy_s)
{
    uint8_t *data = NULL, *keys = NULL;
    size_t len, klen = 0;
    char logkey[1024] = "";
    wb_passport_trust trust;
    wb_witness_policy policy;
    json_t *report = NULL, *e;
    size_t i;
    int rc, have_policy = 0;

    memset(&trust, 0, sizeof(trust));
    memset(&policy, 0, sizeof(policy));
    if (a->npos != 0)
        return cli_usage_error(&wb_cmd_verify, "--passport FILE takes no other file");
    rc = wb_file_read(path, WB_PASSPORT_MAX, &data, &len);
    if (rc == 0 && policy_s) {
        /* the log key: --log-key (below), else the policy's 'log' line */
        if ((rc = wb_witness_policy_load(&policy, policy_s)) != 0)
            rc = wb_error_prefix(rc, "--witness-policy");
        else
            have_policy = 1;
        if (rc == 0 && !logkey_s && !policy.log_vkey)
            rc = wb_error_set(WB_E_INVALID, "--witness-policy %s has no 'log' line: give "
                              "the log's checkpoint key with --log-key", policy_s);
        trust.witness_policy = &policy;
    }
    if (rc == 0 && keys_s) {
        /* pinned service keys: a COSE Key Set file */
        rc = wb_file_read(keys_s, 1 << 20, &keys, &klen);
        trust.service_keys = keys;
        trust.service_keys_len = klen;
    }
    if (rc == 0 && logkey_s) {
        uint8_t *k;
        size_t kl;
        if (wb_file_read(logkey_s, sizeof(logkey) - 1, &k, &kl) == 0) {
            while (kl > 0 && (k[kl - 1] == '\n' || k[kl - 1] == '\r'))
                kl--;
            memcpy(logkey, k, kl);
            logkey[kl] = '\0';
            free(k);
        } else {
            snprintf(logkey, sizeof(logkey), "%s", logkey_s);
        }
        trust.log_key = logkey;
    }
    if (admin_s) {
        trust.admin_key_files = &admin_s;
        trust.nadmin = 1;
    }
    if (rc) {
        free(data);
        free(keys);
        if (have_policy)
            wb_witness_policy_cleanup(&policy);
        return cli_fail("verify", rc);
    }
    rc = wb_passport_verify(&report, data, len, &trust);
    free(data);
    free(keys);
    if (have_policy)
        wb_witness_policy_cleanup(&policy);
    if (a->json) {
        cli_print_json(report);
    } else {
        printf("passport of device %s (service '%s', checkpoint of %lld entries)\n",
               cli_str(report, "device", "?"), cli_str(report, "service", "?"),
               (long long)json_integer_value(json_object_get(report, "tree_size")));
        printf("  service keys: %s\n  log key: %s\n", cli_str(report, "service_keys", "?"),
               cli_str(report, "log_key", "?"));
        if ((e = json_object_get(report, "witnessed")) != NULL) {
            if (json_is_true(json_object_get(e, "ok")))
                printf("  witnessed: OK: checkpoint cosigned by %lld of the policy's %lld "
                       "witnesses (quorum %lld)\n",
                       (long long)json_integer_value(json_object_get(e, "cosignatures")),
                       (long long)json_integer_value(json_object_get(e, "witnesses")),
                       (long long)json_integer_value(json_object_get(e, "quorum")));
            else
                printf("  witnessed: FAILED: %s\n", cli_str(e, "failed", "?"));
        }
        json_array_foreach(json_object_get(report, "entries"), i, e) {
            if (json_is_true(json_object_get(e, "ok")))
                printf("  entry %-7lld OK   %-12s %s%s%s\n",
                       (long long)json_integer_value(json_object_get(e, "index")),
                       cli_str(e, "kind", "?"), cli_str(e, "issuer", "?"),
                       json_object_get(e, "signature") ? " (signature not checked: " : "",
                       json_object_get(e, "signature") ? "no admin key pinned)" : "");
            else
                printf("  entry %-7lld FAILED: %s\n",
                       (long long)json_integer_value(json_object_get(e, "index")),
                       cli_str(e, "failed", "?"));
        }
        printf("  manifest: %s\n", cli_str(report, "manifest", "?"));
        if (json_object_get(report, "error"))
            printf("  error: %s\n", cli_str(report, "error", ""));
        printf("%s\n", rc == 0 ? "passport: every claim verified" : "passport: NOT verified");
        json_decref(report);
    }
    if (rc && rc != WB_E_VERIFY)
        fprintf(stderr, "waybill verify: %s\n", wb_error_message());
    return cli_exit_code(rc);
}

static int run(int argc, char **argv)
{
    const char *keys_s = NULL, *url = NULL, *receipt_s = NULL, *issuer_s = NULL,
               *save_s = NULL, *passport_s = NULL, *logkey_s = NULL, *admin_s = NULL,
               *policy_s = NULL, *fork_s = NULL;
    cli_opt opts[] = {{"--fork", &fork_s}, {"--service-key", &keys_s}, {"--url", &url},
                      {"--receipt", &receipt_s}, {"--issuer-key", &issuer_s},
                      {"--save-keys", &save_s},  {"--passport", &passport_s},
                      {"--log-key", &logkey_s},  {"--admin-key", &admin_s},
                      {"--witness-policy", &policy_s}};
    wb_witness_policy policy;
    wb_note_key *log_key = NULL;
    int have_policy = 0;
    char *pos[1], why[256] = "";
    cli_args a;
    keyring ring = {0};
    uint8_t *file = NULL, *reg = NULL;
    size_t flen = 0, reglen = 0, nreceipts = 0;
    wb_cose_bytes *receipts = NULL;
    uint8_t *rdata = NULL;
    size_t rdlen = 0;
    json_t *jr = NULL;
    int rc, failed = 0, issuer = 0;

    rc = cli_parse(&wb_cmd_verify, argc, argv, opts, 10, &a, pos, 1);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (passport_s)
        return verify_passport(&a, passport_s, keys_s, logkey_s, admin_s, policy_s);
    if (fork_s)
        return verify_fork(&a, fork_s, logkey_s);
    if (a.npos != 1)
        return cli_usage_error(&wb_cmd_verify, "expected one FILE");
    if (!keys_s == !url)
        return cli_usage_error(&wb_cmd_verify, "give the service keys with --service-key "
                               "FILE or --url URL (one of them)");
    if (save_s && !url)
        return cli_usage_error(&wb_cmd_verify, "--save-keys goes with --url");
    if (logkey_s && !policy_s)
        return cli_usage_error(&wb_cmd_verify, "--log-key goes with --witness-policy or "
                               "--passport");
    memset(&policy, 0, sizeof(policy));
    rc = keys_s ? load_keys_file(&ring, keys_s) : load_keys_url(&ring, url, save_s);
    if (rc == 0 && policy_s && (rc = load_witness_policy(&policy, &log_key, policy_s,
                                                         logkey_s)) == 0)
        have_policy = 1;
    if (rc == 0)
        rc = wb_file_read(a.pos[0], WB_COSE_MAX, &file, &flen);
    if (rc == 0 && receipt_s) {
        wb_cose_sign1 m;
        rc = wb_file_read(receipt_s, WB_COSE_MAX, &rdata, &rdlen);
        if (rc == 0 && (rc = wb_cose_sign1_decode(&m, file, flen, WB_COSE_MAX)) == 0) {
            rc = wb_scitt_registered_statement(&reg, &reglen, &m);
            wb_cose_sign1_cleanup(&m);
        }
        if (rc == 0) {
            receipts = calloc(1, sizeof(*receipts));
            if (!receipts)
                rc = wb_error_set(WB_E_NOMEM, "out of memory");
            else {
                receipts[0].ptr = rdata;
                receipts[0].len = rdlen;
                nreceipts = 1;
            }
        }
    } else if (rc == 0) {
        rc = wb_scitt_transparent_split(&reg, &reglen, &receipts, &nreceipts, file, flen);
        if (rc == 0 && nreceipts == 0)
            rc = wb_error_set(WB_E_VERIFY, "%s carries no receipt (header 394); give "
                              "--receipt for a separate one", a.pos[0]);
    }
    if (rc)
        goto out;
    if (a.json)
        jr = json_array();
    for (size_t i = 0; i < nreceipts; i++) {
        wb_receipt_info info;
        wb_witnessed_info wi;
        int vr = wb_receipt_verify(&info, receipts[i].ptr, receipts[i].len, reg, reglen,
                                   find_key, &ring);
        if (vr == 0 && have_policy)
            if ((vr = wb_receipt_witnessed_verify(&wi, &info, receipts[i].ptr,
                                                  receipts[i].len, &policy, log_key)) != 0)
                wb_error_prefix(vr, "witness policy");
        if (vr) {
            failed = 1;
            if (jr) {
                json_t *o = json_object();
                json_object_set_new(o, "verified", json_false());
                json_object_set_new(o, "error", json_string(wb_error_message()));
                json_array_append_new(jr, o);
            } else {
                printf("receipt %zu: FAILED: %s\n", i + 1, wb_error_message());
            }
            continue;
        }
        if (jr) {
            json_t *o = json_object();
            json_object_set_new(o, "verified", json_true());
            json_object_set_new(o, "vds", json_integer(info.vds));
            json_object_set_new(o, "issuer", json_string(info.iss));
            json_object_set_new(o, "iat", json_integer(info.iat));
            if (info.vds == WB_VDS_RFC9162_SHA256) {
                json_object_set_new(o, "tree_size", json_integer((json_int_t)info.tree_size));
                json_object_set_new(o, "leaf_index", json_integer((json_int_t)info.leaf_index));
            }
            if (have_policy)
                json_object_set_new(o, "witnessed",
                                    json_pack("{s:I, s:I, s:I}", "size", (json_int_t)wi.size,
                                              "cosignatures", (json_int_t)wi.ncosigned,
                                              "quorum", (json_int_t)policy.quorum));
            json_array_append_new(jr, o);
        } else if (info.vds == WB_VDS_RFC9162_SHA256) {
            printf("receipt %zu: OK: RFC9162_SHA256, issuer '%s', entry %llu of a tree of "
                   "%llu\n", i + 1, info.iss, (unsigned long long)info.leaf_index,
                   (unsigned long long)info.tree_size);
        } else {
            printf("receipt %zu: OK: CCF_LEDGER_SHA256, issuer '%s', iat %lld\n", i + 1,
                   info.iss, (long long)info.iat);
        }
        if (!jr && have_policy)
            printf("receipt %zu: witnessed: OK: checkpoint of %llu entries cosigned by %zu of "
                   "the policy's %zu witnesses (quorum %zu), consistent with the receipt's "
                   "tree\n", i + 1, (unsigned long long)wi.size, wi.ncosigned,
                   policy.nwitness, policy.quorum);
    }
    issuer = check_issuer(reg, reglen, issuer_s, why, sizeof(why));
    if (issuer < 0) {
        failed = 1;
        snprintf(why, sizeof(why), "%s", wb_error_message());
    }
    if (jr) {
        json_t *o = json_object();
        json_object_set_new(o, "verified", json_boolean(!failed));
        json_object_set_new(o, "receipts", jr);
        json_object_set_new(o, "issuer_signature",
                            json_string(issuer > 0 ? "verified"
                                        : issuer == 0 ? "not checked" : "failed"));
        if (issuer <= 0)
            json_object_set_new(o, "issuer_detail", json_string(why));
        cli_print_json(o);
    } else if (issuer > 0) {
        printf("issuer signature: OK\n");
    } else if (issuer == 0) {
        printf("issuer signature: not checked (%s)\n", why);
    } else {
        printf("issuer signature: FAILED: %s\n", why);
    }
out:
    ring_free(&ring);
    if (have_policy)
        wb_witness_policy_cleanup(&policy);
    wb_note_key_free(log_key);
    free(file);
    free(reg);
    if (receipt_s) {
        free(rdata);
        free(receipts);
    } else {
        wb_scitt_receipts_free(receipts, nreceipts);
    }
    if (rc)
        return cli_fail("verify", rc);
    if (failed)
        return WB_EXIT_VERIFY;
    return WB_EXIT_OK;
}
