/*
 * issuer.c: `waybill issuer add|update|retire`: governance statements
 * (kind issuer, docs/policy.md) that register, change or retire an issuer
 * in the ledger, signed by an operator admin key and registered like any
 * statement, so that who may say what is itself on the record.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "waybill/client.h"
#include "waybill/cose.h"
#include "waybill/error.h"
#include "waybill/prov.h"
#include "waybill/scitt.h"
#include "waybill/util.h"

static int run_add(int argc, char **argv);
static int run_update(int argc, char **argv);
static int run_retire(int argc, char **argv);

#define COMMON_USAGE                                                                       \
    "  --role R            supplier, integrator, logistics, datacenter, firmware-vendor,\n" \
    "                      reviewer or auditor\n"                                           \
    "  --manufacturers L   comma-separated manufacturer names it may manifest for\n"        \
    "                      (suppliers and integrators)\n"                                   \
    "  --sites L           comma-separated sites it is responsible for (datacenters,\n"     \
    "                      logistics)\n"                                                    \
    "  --keys L            comma-separated PEM public keys it signs statements with\n"      \
    "  --cas L             comma-separated PEM files of its CA certificates: anchors of\n"  \
    "                      its x5chain statements and, for a supplier, of its devices'\n"   \
    "                      RoT certificate chains\n"

const wb_cli_cmd wb_cmd_issuer_add = {
    .group = "issuer",
    .name = "add",
    .summary = "register an issuer, its role and scopes (governance)",
    .usage = "usage: waybill issuer add NAME --role R [--manufacturers L] [--sites L]\n"
             "                          [--keys L] [--cas L] --admin-key KEY --url URL\n"
             "                          [--json]\n"
             "\n"
             "Registers issuer NAME in the ledger: a governance statement signed by the\n"
             "operator admin key KEY (named in the service's [governance] admin_keys; in\n"
             "--dev mode DIR/admin.key) and registered at URL. NAME is what the issuer's\n"
             "statements carry as CWT iss.\n"
             "\n" COMMON_USAGE
             "  --json              print {\"entry_id\", \"issuer\", \"action\"}\n"
             "\n"
             "exit codes: 0 registered, 2 usage, 3 refused (the reason is printed),\n"
             "            4 a file is missing or the service cannot be reached\n",
    .run = run_add,
};

const wb_cli_cmd wb_cmd_issuer_update = {
    .group = "issuer",
    .name = "update",
    .summary = "change an issuer's role, scopes, keys or CAs",
    .usage = "usage: waybill issuer update NAME --role R [...the options of add...]\n"
             "                             --admin-key KEY --url URL [--json]\n"
             "\n"
             "Replaces the registration of NAME with the one given (keys and CAs not\n"
             "listed are dropped).\n"
             "\n" COMMON_USAGE "\n"
             "exit codes: as for 'waybill issuer add'\n",
    .run = run_update,
};

const wb_cli_cmd wb_cmd_issuer_retire = {
    .group = "issuer",
    .name = "retire",
    .summary = "retire an issuer: its keys no longer sign anything",
    .usage = "usage: waybill issuer retire NAME --admin-key KEY --url URL [--json]\n"
             "\n"
             "Retires NAME: what it registered stays in the ledger; nothing more is\n"
             "accepted from it.\n"
             "\n"
             "exit codes: as for 'waybill issuer add'\n",
    .run = run_retire,
};

/* reads each comma-separated file: PEM public keys (SPKI DER) or certificates */
static int load_list(const char *list, int certs, uint8_t ***der, size_t **len, size_t *n)
{
    char *copy = strdup(list), *save = NULL, *tok;
    int rc = copy ? 0 : wb_error_set(WB_E_NOMEM, "out of memory");
    for (tok = copy ? strtok_r(copy, ",", &save) : NULL; rc == 0 && tok;
         tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (certs) {
            uint8_t **d;
            size_t *l, k;
            rc = wb_x509_pem_chain(&d, &l, &k, tok);
            for (size_t i = 0; rc == 0 && i < k; i++) {
                uint8_t **gd = realloc(*der, (*n + 1) * sizeof(*gd));
                size_t *gl = gd ? realloc(*len, (*n + 1) * sizeof(*gl)) : NULL;
                if (gd)
                    *der = gd;
                if (!gd || !gl) {
                    rc = wb_error_set(WB_E_NOMEM, "out of memory");
                    break;
                }
                *len = gl;
                (*der)[*n] = d[i];
                (*len)[(*n)++] = l[i];
                d[i] = NULL;
            }
            wb_x509_chain_free(d, l, rc == 0 ? k : k);
        } else {
            wb_key *k = NULL;
            uint8_t *spki;
            size_t slen;
            rc = wb_key_read_file(&k, tok);
            if (rc == 0)
                rc = wb_key_spki_der(k, &spki, &slen);
            wb_key_free(k);
            if (rc == 0) {
                uint8_t **gd = realloc(*der, (*n + 1) * sizeof(*gd));
                size_t *gl = gd ? realloc(*len, (*n + 1) * sizeof(*gl)) : NULL;
                if (gd)
                    *der = gd;
                if (!gd || !gl) {
                    free(spki);
                    rc = wb_error_set(WB_E_NOMEM, "out of memory");
                } else {
                    *len = gl;
                    (*der)[*n] = spki;
                    (*len)[(*n)++] = slen;
                }
            }
        }
        if (rc)
            rc = wb_error_prefix(rc, "%s", tok);
    }
    free(copy);
    return rc;
}

static int split_names(const char *list, char ***out, size_t *n)
{
    char *copy = strdup(list), *save = NULL, *tok;
    if (!copy)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char **g;
        while (*tok == ' ')
            tok++;
        g = realloc(*out, (*n + 1) * sizeof(*g));
        if (!g || !(g[*n] = strdup(tok))) {
            free(g ? g : *out);
            free(copy);
            *out = NULL;
            return wb_error_set(WB_E_NOMEM, "out of memory");
        }
        *out = g;
        (*n)++;
    }
    free(copy);
    return 0;
}

/* signs the payload with the admin key and registers it */
static int sign_and_register(const char *url, const char *admin_key, const char *name,
                             const char *json, size_t json_len, char *entry_hex)
{
    wb_key *key = NULL;
    wb_cose_signer signer;
    wb_cose_headers h;
    uint8_t kid[32], *st = NULL;
    size_t slen;
    wb_register_result res;
    int rc = wb_key_read_file(&key, admin_key);
    memset(&res, 0, sizeof(res));
    if (rc == 0 && !wb_key_is_private(key))
        rc = wb_error_set(WB_E_INVALID, "%s is a public key; the admin key's private part "
                          "signs", admin_key);
    if (rc == 0)
        rc = wb_cose_signer_for_key(&signer, key);
    if (rc == 0)
        rc = wb_key_default_kid(kid, key);
    if (rc == 0) {
        memset(&h, 0, sizeof(h));
        h.alg = signer.alg;
        h.cty = "application/vnd.waybill.issuer+json";
        h.cty_int = -1;
        h.has_cwt = 1;
        h.iss = "operator";
        h.sub = name;
        h.iat = (int64_t)time(NULL);
        h.kid.ptr = kid;
        h.kid.len = 32;
        rc = wb_cose_sign1_create(&st, &slen, &h, NULL, 0, (const uint8_t *)json, json_len,
                                  0, &signer);
    }
    if (rc == 0)
        rc = wb_client_register(&res, url, st, slen, 60, NULL, NULL);
    if (rc == 0) {
        const char *slash = strrchr(res.location, '/');
        snprintf(entry_hex, 65, "%s", slash ? slash + 1 : "");
    }
    wb_register_result_cleanup(&res);
    free(st);
    wb_key_free(key);
    return rc;
}

static int run_common(const wb_cli_cmd *cmd, wb_issuer_action action, int argc, char **argv)
{
    const char *role = NULL, *mfr = NULL, *sites = NULL, *keys = NULL, *cas = NULL,
               *admin = NULL, *url = NULL;
    cli_opt opts[] = {{"--role", &role},   {"--manufacturers", &mfr}, {"--sites", &sites},
                      {"--keys", &keys},   {"--cas", &cas},           {"--admin-key", &admin},
                      {"--url", &url}};
    char *pos[1], entry[65] = "";
    cli_args a;
    wb_prov_payload p;
    wb_p_issuer *is = &p.u.issuer;
    char *json = NULL;
    size_t json_len;
    int rc;

    rc = cli_parse(cmd, argc, argv, opts, 7, &a, pos, 1);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos != 1)
        return cli_usage_error(cmd, "expected the issuer's NAME");
    if (!admin || !url)
        return cli_usage_error(cmd, "--admin-key and --url are required");
    if (action != WB_ISSUER_RETIRE && !role)
        return cli_usage_error(cmd, "--role is required");
    if (action == WB_ISSUER_RETIRE && (role || mfr || sites || keys || cas))
        return cli_usage_error(cmd, "retire takes only NAME, --admin-key and --url");
    memset(&p, 0, sizeof(p));
    p.kind = WB_KIND_ISSUER;
    p.version = WB_PROV_VERSION;
    is->action = action;
    snprintf(is->name, sizeof(is->name), "%s", a.pos[0]);
    if (role && (is->role = wb_role_from_name(role)) == WB_ROLE_NONE) {
        rc = cli_usage_error(cmd, "--role '%s' is not a role (see --help)", role);
        goto out;
    }
    if (mfr && (rc = split_names(mfr, &is->manufacturers, &is->nmanufacturers)) != 0)
        goto fail;
    if (sites && (rc = split_names(sites, &is->sites, &is->nsites)) != 0)
        goto fail;
    if (keys && (rc = load_list(keys, 0, &is->keys, &is->key_lens, &is->nkeys)) != 0)
        goto fail;
    if (cas && (rc = load_list(cas, 1, &is->cas, &is->ca_lens, &is->ncas)) != 0)
        goto fail;
    rc = wb_prov_encode(&json, &json_len, &p);
    /* the same checks the service makes, before anything is sent */
    if (rc == 0) {
        wb_prov_payload check;
        rc = wb_prov_parse(&check, WB_KIND_ISSUER, (const uint8_t *)json, json_len);
        if (rc == 0)
            wb_prov_payload_cleanup(&check);
    }
    if (rc == 0)
        rc = sign_and_register(url, admin, is->name, json, json_len, entry);
    if (rc)
        goto fail;
    if (a.json) {
        json_t *o = json_object();
        json_object_set_new(o, "entry_id", json_string(entry));
        json_object_set_new(o, "issuer", json_string(is->name));
        json_object_set_new(o, "action", json_string(cmd->name));
        cli_print_json(o);
    } else {
        printf("%s: issuer '%s' (entry %s)\n",
               action == WB_ISSUER_ADD ? "registered" : action == WB_ISSUER_UPDATE
                                                            ? "updated"
                                                            : "retired",
               is->name, entry);
    }
    goto out;
fail:
    rc = cli_fail(action == WB_ISSUER_ADD ? "issuer add" : action == WB_ISSUER_UPDATE
                                                               ? "issuer update"
                                                               : "issuer retire",
                  rc);
out:
    free(json);
    wb_prov_payload_cleanup(&p);
    return rc;
}

static int run_add(int argc, char **argv)
{
    return run_common(&wb_cmd_issuer_add, WB_ISSUER_ADD, argc, argv);
}

static int run_update(int argc, char **argv)
{
    return run_common(&wb_cmd_issuer_update, WB_ISSUER_UPDATE, argc, argv);
}

static int run_retire(int argc, char **argv)
{
    return run_common(&wb_cmd_issuer_retire, WB_ISSUER_RETIRE, argc, argv);
}
