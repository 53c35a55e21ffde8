/*
 * review_import.c: `waybill review import`: verify an OCP SAFE short-form
 * report signed by its security reviewer (JWS compact, or a COSE_Sign-signed
 * CoRIM), normalize it, and write the review statement payload
 * (docs/statements.md "review") that keeps the signed bytes (waybill/safe.h).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/prov.h"
#include "waybill/safe.h"
#include "waybill/util.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_review_import = {
    .group = "review",
    .name = "import",
    .summary = "verify a signed OCP SAFE review and write its review payload",
    .usage =
        "usage: waybill review import REPORT --reviewer-key PEM [--reviewer-key PEM...]\n"
        "                             --out FILE [--json]\n"
        "\n"
        "REPORT is an OCP SAFE short-form report as its reviewer signed it: a JWS\n"
        "compact file (.jws, .jwt; ES256, ES384 or ES512) or a COSE_Sign-signed\n"
        "CoRIM (.cbor). Its signature must verify with one of the reviewer keys\n"
        "(PEM SubjectPublicKeyInfo, EC P-521, P-384 or P-256: the providers publish\n"
        "theirs). The report is then read strictly and normalized (scores given as\n"
        "strings, scope numbers as strings or floats, unpadded dates, empty or\n"
        "misfiled hashes, CVSS vectors with or without their CVSS:x.y/ prefix) and\n"
        "written to FILE, which must not exist, as the payload of a review\n"
        "statement: firmware_digest (the report's SHA-384), reviewer, framework,\n"
        "issues, and the signed report itself, byte for byte, so that anyone can\n"
        "check the reviewer's signature again later. A report that names no\n"
        "SHA-384 firmware digest is refused: nothing else identifies the image.\n"
        "\n"
        "Then sign and register the payload as the reviewer issuer:\n"
        "  waybill sign --key KEY --payload FILE --iss ISSUER --sub FIRMWARE_DIGEST \\\n"
        "      --content-type application/vnd.waybill.review+json --out review.cose\n"
        "  waybill submit --url URL review.cose\n"
        "\n"
        "options:\n"
        "  --reviewer-key PEM  a reviewer's public key; repeat it to try several\n"
        "  --out FILE          where to write the payload JSON\n"
        "  --json              print {\"out\", \"format\", \"alg\", \"kid\",\n"
        "                      \"reviewer_key\", \"reviewer\", \"framework\",\n"
        "                      \"firmware_digest\", \"issues\", \"quirks\"}\n"
        "\n"
        "exit codes: 0 written, 1 the signature does not verify with any key,\n"
        "            2 usage, 3 malformed or unsupported report or key, or no\n"
        "            SHA-384 digest, 4 a file is missing or FILE exists\n",
    .run = run,
};

/*
 * take_keys moves every --reviewer-key VALUE (or --reviewer-key=VALUE) out
 * of argv into keys, since cli_parse keeps one value per option. Returns
 * the new argc, or -1 after a usage error.
 */
static int take_keys(int argc, char **argv, const char **keys, size_t *nkeys, size_t max)
{
    static const char opt[] = "--reviewer-key";
    int out = 1;

    *nkeys = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--") == 0) {
            while (i < argc)
                argv[out++] = argv[i++];
            break;
        }
        if (strcmp(argv[i], opt) == 0) {
            if (i + 1 >= argc) {
                cli_usage_error(&wb_cmd_review_import, "option %s needs a value", opt);
                return -1;
            }
            v = argv[++i];
        } else if (strncmp(argv[i], opt, sizeof(opt) - 1) == 0 &&
                   argv[i][sizeof(opt) - 1] == '=') {
            v = argv[i] + sizeof(opt);
        }
        if (!v) {
            argv[out++] = argv[i];
            continue;
        }
        if (*nkeys == max) {
            cli_usage_error(&wb_cmd_review_import, "more than %zu reviewer keys", max);
            return -1;
        }
        keys[(*nkeys)++] = v;
    }
    return out;
}

static json_t *summary(const char *out, const wb_safe_report *rep, const wb_p_review *rv,
                       const char *key_path)
{
    json_t *o = json_object(), *issues = json_array(), *quirks = json_array();

    for (size_t i = 0; i < rv->nissues; i++) {
        json_t *is = json_object();
        json_object_set_new(is, "title", json_string(rv->issues[i].title));
        json_object_set_new(is, "cvss", json_real(rv->issues[i].cvss));
        if (rv->issues[i].cve[0])
            json_object_set_new(is, "cve", json_string(rv->issues[i].cve));
        json_array_append_new(issues, is);
    }
    for (unsigned b = 0; b < WB_SAFE_Q_COUNT; b++)
        if (rep->quirks & (1u << b))
            json_array_append_new(quirks, json_string(wb_safe_quirk_name(1u << b)));
    json_object_set_new(o, "out", json_string(out));
    json_object_set_new(o, "format", json_string(wb_safe_format_name(rep->format)));
    json_object_set_new(o, "alg", json_string(rep->alg));
    json_object_set_new(o, "kid", json_string(rep->kid));
    json_object_set_new(o, "reviewer_key", json_string(key_path));
    json_object_set_new(o, "reviewer", json_string(rv->reviewer));
    json_object_set_new(o, "framework", json_string(rv->framework));
    json_object_set_new(o, "firmware_digest", json_string(rv->firmware_digest));
    json_object_set_new(o, "issues", issues);
    json_object_set_new(o, "quirks", quirks);
    return o;
}

static int run(int argc, char **argv)
{
    const char *out = NULL, *key_paths[WB_SAFE_KEYS_MAX];
    cli_opt opts[] = {{"--out", &out}};
    char *pos[1], *pems[WB_SAFE_KEYS_MAX] = {0}, *json = NULL;
    cli_args a;
    uint8_t *data = NULL;
    size_t len = 0, nkeys = 0, jlen = 0;
    wb_prov_payload p;
    wb_safe_report rep;
    int rc;

    memset(&p, 0, sizeof(p));
    memset(&rep, 0, sizeof(rep));
    argc = take_keys(argc, argv, key_paths, &nkeys, WB_SAFE_KEYS_MAX);
    if (argc < 0)
        return WB_EXIT_USAGE;
    rc = cli_parse(&wb_cmd_review_import, argc, argv, opts, 1, &a, pos, 1);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos != 1)
        return cli_usage_error(&wb_cmd_review_import, "give one REPORT");
    if (nkeys == 0 || !out)
        return cli_usage_error(&wb_cmd_review_import,
                               "--reviewer-key PEM and --out FILE are required");

    for (size_t i = 0; i < nkeys; i++) {
        uint8_t *pem;
        size_t pem_len;
        rc = wb_file_read(key_paths[i], WB_PEM_MAX, &pem, &pem_len);
        if (rc) {
            wb_error_prefix(rc, "reviewer key %s", key_paths[i]);
            goto done;
        }
        pems[i] = (char *)pem; /* NUL-terminated by wb_file_read */
        if (strlen(pems[i]) != pem_len) {
            rc = wb_error_set(WB_E_INVALID, "reviewer key %s holds a NUL byte", key_paths[i]);
            goto done;
        }
    }
    rc = wb_file_read(a.pos[0], WB_SAFE_REPORT_MAX, &data, &len);
    if (rc) {
        wb_error_prefix(rc, "report %s", a.pos[0]);
        goto done;
    }
    rc = wb_safe_import(&p, &rep, data, len, (const char *const *)pems, nkeys);
    if (rc) {
        wb_error_prefix(rc, "%s", a.pos[0]);
        goto done;
    }
    rc = wb_prov_encode(&json, &jlen, &p);
    if (rc == 0)
        rc = wb_file_write_new(out, json, jlen, 0644);
    if (rc)
        goto done;
    if (a.json) {
        cli_print_json(summary(out, &rep, &p.u.review, key_paths[rep.key_index]));
    } else {
        printf("review of %s %s (firmware %s) by %s\n", rep.vendor, rep.product,
               rep.fw_version[0] ? rep.fw_version : "unversioned", p.u.review.reviewer);
        printf("verified: %s %s with %s (kid \"%s\")\n", wb_safe_format_name(rep.format),
               rep.alg, key_paths[rep.key_index], rep.kid);
        printf("firmware_digest: %s\nframework: %s\nissues: %zu\nwritten: %s\n",
               p.u.review.firmware_digest[0] ? p.u.review.firmware_digest : "(none)",
               p.u.review.framework, p.u.review.nissues, out);
    }
    if (wb_safe_digest_note(&rep))
        fprintf(stderr, "waybill review import: note: %s; the review is kept, but no measured "
                        "firmware counts as reviewed by it\n", wb_safe_digest_note(&rep));
done:
    for (size_t i = 0; i < nkeys; i++)
        free(pems[i]);
    free(data);
    free(json);
    wb_prov_payload_cleanup(&p);
    wb_safe_report_cleanup(&rep);
    return rc ? cli_fail("review import", rc) : WB_EXIT_OK;
}
