/*
 * keygen.c: `waybill keygen`: make a signing key for statements (or for a
 * service's receipts): ES256, ES384 or EdDSA (Ed25519), as PKCS#8 PEM.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "waybill/error.h"
#include "waybill/scitt.h"
#include "waybill/util.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_keygen = {
    .group = NULL,
    .name = "keygen",
    .summary = "make a signing key (ES256, ES384, EdDSA)",
    .usage =
        "usage: waybill keygen --out FILE [--alg ES256|ES384|EdDSA] [--json]\n"
        "\n"
        "Writes a new private key to FILE (PKCS#8 PEM, mode 0600) and its public\n"
        "key to FILE.pub (SubjectPublicKeyInfo PEM), refusing to overwrite either,\n"
        "and prints the key's kid: the hex SHA-256 of the public key's\n"
        "SubjectPublicKeyInfo, which 'waybill sign' puts in statements and\n"
        "'waybill serve' looks issuers up by. Give FILE.pub to the service operator\n"
        "(a [issuer NAME] key, or DIR/issuers/NAME.pem in --dev mode).\n"
        "\n"
        "options:\n"
        "  --alg A   ES256 (default), ES384 or EdDSA\n"
        "  --json    print {\"key\", \"public_key\", \"alg\", \"kid\"}\n"
        "\n"
        "exit codes: 0 written, 2 usage, 4 a file exists or cannot be written\n",
    .run = run,
};

static int run(int argc, char **argv)
{
    const char *out = NULL, *alg_s = "ES256";
    cli_opt opts[] = {{"--out", &out}, {"--alg", &alg_s}};
    char *pos[1], pub[4200], kidhex[65];
    cli_args a;
    wb_key *key = NULL;
    wb_alg alg;
    uint8_t kid[32];
    int rc;

    rc = cli_parse(&wb_cmd_keygen, argc, argv, opts, 2, &a, pos, 0);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!out)
        return cli_usage_error(&wb_cmd_keygen, "--out FILE is required");
    if (!strcmp(alg_s, "ES256"))
        alg = WB_ALG_ES256;
    else if (!strcmp(alg_s, "ES384"))
        alg = WB_ALG_ES384;
    else if (!strcmp(alg_s, "EdDSA") || !strcmp(alg_s, "Ed25519"))
        alg = WB_ALG_ED25519;
    else
        return cli_usage_error(&wb_cmd_keygen, "--alg '%s' is not ES256, ES384 or EdDSA",
                               alg_s);
    snprintf(pub, sizeof(pub), "%s.pub", out);
    rc = wb_key_generate(&key, alg);
    if (rc == 0)
        rc = wb_key_write_file(key, out, 1);
    if (rc == 0) {
        rc = wb_key_write_file(key, pub, 0);
        if (rc)
            remove(out); /* both or neither */
    }
    if (rc == 0)
        rc = wb_key_default_kid(kid, key);
    wb_key_free(key);
    if (rc)
        return cli_fail("keygen", rc);
    wb_hex_encode(kidhex, kid, 32);
    if (a.json) {
        json_t *o = json_object();
        json_object_set_new(o, "key", json_string(out));
        json_object_set_new(o, "public_key", json_string(pub));
        json_object_set_new(o, "alg", json_string(alg_s));
        json_object_set_new(o, "kid", json_string(kidhex));
        cli_print_json(o);
    } else {
        printf("private key: %s\npublic key:  %s\nkid:         %s\n", out, pub, kidhex);
    }
    return WB_EXIT_OK;
}
