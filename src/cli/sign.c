/*
 * sign.c: `waybill sign`: make a SCITT signed statement (RFC 9943 §5): a
 * COSE_Sign1 (RFC 9052) over the payload with, in the protected header, the
 * algorithm, the content type, CWT claims (RFC 9597: iss, sub, iat) and
 * either the signer's kid or its certificate chain (x5chain, RFC 9360).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "waybill/cose.h"
#include "waybill/error.h"
#include "waybill/scitt.h"
#include "waybill/util.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_sign = {
    .group = NULL,
    .name = "sign",
    .summary = "sign a payload as a SCITT signed statement (COSE_Sign1)",
    .usage =
        "usage: waybill sign --key KEY --payload FILE --content-type TYPE\n"
        "                    --iss ISSUER --sub SUBJECT --out FILE\n"
        "                    [--x5chain CHAIN.pem] [--kid HEX] [--json]\n"
        "\n"
        "Signs FILE with the private key KEY (from 'waybill keygen'; ES256, ES384 or\n"
        "EdDSA) as a tagged COSE_Sign1 whose protected header holds alg, the\n"
        "content type, CWT claims {iss, sub, iat = now} and the signer's identity:\n"
        "  - by default kid = SHA-256 of KEY's public key (SubjectPublicKeyInfo);\n"
        "  - with --x5chain, the certificates of CHAIN.pem (leaf first), whose leaf\n"
        "    must hold KEY's public key; no kid is then written.\n"
        "The payload is at most 64 KiB minus the headers (one log entry).\n"
        "\n"
        "options:\n"
        "  --kid HEX  a kid other than the default, in lowercase hex\n"
        "  --json     print {\"out\", \"bytes\", \"alg\", \"kid\"}\n"
        "\n"
        "exit codes: 0 written, 2 usage, 3 invalid key, chain or payload,\n"
        "            4 a file is missing or exists\n",
    .run = run,
};

static int write_out(const char *path, const uint8_t *data, size_t len)
{
    return wb_file_write_new(path, data, len, 0644);
}

static int run(int argc, char **argv)
{
    const char *key_s = NULL, *payload_s = NULL, *cty = NULL, *iss = NULL, *sub = NULL,
               *out_s = NULL, *x5_s = NULL, *kid_s = NULL;
    cli_opt opts[] = {{"--key", &key_s},     {"--payload", &payload_s},
                      {"--content-type", &cty}, {"--iss", &iss},
                      {"--sub", &sub},       {"--out", &out_s},
                      {"--x5chain", &x5_s},  {"--kid", &kid_s}};
    char *pos[1], kidhex[2 * WB_COSE_KID_MAX + 1] = "";
    cli_args a;
    wb_key *key = NULL, *leaf = NULL;
    uint8_t *payload = NULL, *out = NULL, **der = NULL, kid[WB_COSE_KID_MAX];
    size_t plen = 0, olen = 0, *dlen = NULL, nder = 0, kid_len = 0;
    wb_cose_headers h;
    wb_cose_signer signer;
    int rc;

    rc = cli_parse(&wb_cmd_sign, argc, argv, opts, 8, &a, pos, 0);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!key_s || !payload_s || !cty || !iss || !sub || !out_s)
        return cli_usage_error(&wb_cmd_sign, "--key, --payload, --content-type, --iss, "
                               "--sub and --out are required");
    if (x5_s && kid_s)
        return cli_usage_error(&wb_cmd_sign, "give --x5chain or --kid, not both");
    memset(&h, 0, sizeof(h));
    rc = wb_key_read_file(&key, key_s);
    if (rc == 0 && !wb_key_is_private(key))
        rc = wb_error_set(WB_E_INVALID, "%s is a public key; signing needs the private key",
                          key_s);
    if (rc == 0)
        rc = wb_file_read(payload_s, WB_STATEMENT_MAX, &payload, &plen);
    if (rc == 0)
        rc = wb_cose_signer_for_key(&signer, key);
    if (rc == 0 && x5_s) {
        uint8_t *a1 = NULL, *a2 = NULL;
        size_t l1 = 0, l2 = 0;
        rc = wb_x509_pem_chain(&der, &dlen, &nder, x5_s);
        if (rc == 0 && nder > WB_COSE_X5CHAIN_MAX)
            rc = wb_error_set(WB_E_LIMIT, "%s has %zu certificates; at most %d", x5_s, nder,
                              WB_COSE_X5CHAIN_MAX);
        if (rc == 0)
            rc = wb_key_from_x509_der(&leaf, der[0], dlen[0]);
        /* the leaf must certify the signing key */
        if (rc == 0)
            rc = wb_key_spki_der(leaf, &a1, &l1);
        if (rc == 0)
            rc = wb_key_spki_der(key, &a2, &l2);
        if (rc == 0 && (l1 != l2 || memcmp(a1, a2, l1) != 0))
            rc = wb_error_set(WB_E_INVALID, "the first certificate of %s is not for the key "
                              "%s", x5_s, key_s);
        free(a1);
        free(a2);
        for (size_t i = 0; rc == 0 && i < nder; i++) {
            h.x5chain[i].ptr = der[i];
            h.x5chain[i].len = dlen[i];
        }
        h.nx5chain = nder;
    } else if (rc == 0 && kid_s) {
        size_t n = strlen(kid_s);
        if (n == 0 || n % 2 || n / 2 > WB_COSE_KID_MAX)
            rc = wb_error_set(WB_E_INVALID, "--kid must be 1..%d bytes of lowercase hex",
                              WB_COSE_KID_MAX);
        else
            rc = wb_hex_decode(kid, n / 2, kid_s, n);
        kid_len = n / 2;
    } else if (rc == 0) {
        rc = wb_key_default_kid(kid, key);
        kid_len = 32;
    }
    if (rc == 0) {
        h.alg = signer.alg;
        h.cty = cty;
        h.cty_int = -1;
        h.has_cwt = 1;
        h.iss = iss;
        h.sub = sub;
        h.iat = (int64_t)time(NULL);
        if (kid_len) {
            h.kid.ptr = kid;
            h.kid.len = kid_len;
            wb_hex_encode(kidhex, kid, kid_len);
        }
        rc = wb_cose_sign1_create(&out, &olen, &h, NULL, 0, payload, plen, 0, &signer);
    }
    if (rc == 0 && olen > WB_STATEMENT_MAX)
        rc = wb_error_set(WB_E_LIMIT, "the statement would be %zu bytes, over the %d-byte "
                          "limit of one log entry", olen, WB_STATEMENT_MAX);
    if (rc == 0)
        rc = write_out(out_s, out, olen);
    if (rc == 0) {
        if (a.json) {
            json_t *o = json_object();
            json_object_set_new(o, "out", json_string(out_s));
            json_object_set_new(o, "bytes", json_integer((json_int_t)olen));
            json_object_set_new(o, "alg", json_string(wb_alg_name(wb_key_alg(key))));
            json_object_set_new(o, "kid", kid_len ? json_string(kidhex) : json_null());
            cli_print_json(o);
        } else {
            printf("signed statement: %s (%zu bytes, %s, %s)\n", out_s, olen,
                   wb_alg_name(wb_key_alg(key)), x5_s ? "x5chain" : "kid");
        }
    }
    wb_x509_chain_free(der, dlen, nder);
    wb_key_free(key);
    wb_key_free(leaf);
    free(payload);
    free(out);
    return rc ? cli_fail("sign", rc) : WB_EXIT_OK;
}
