/*
 * config.c: the INI configuration of `waybill serve` (libinih), every key
 * documented with its default in docs/configuration.md.
 *
 *   [service]  name, data_dir, database, listen, receipt_key, threads, dev,
 *              log_requests, port_file, allow_plain_http
 *   [tls]      cert, key, client_ca, client_auth, outbound_ca
 *   [batch]    max_entries, interval_ms, register_wait_ms, durability
 *   [limits]   max_body, max_headers, queue_max, connection_limit,
 *              connection_timeout_s
 *   [trust]    anchors (comma-separated PEM files)
 *   [issuer NAME]  key, kid, anchor, content_types
 *   [persona NAME] kind, manufacturers | sites | issuers, token_sha256,
 *              token_file, cert_sha256 (persona.c)
 *   [governance] admin_keys;  [policy] cvss_threshold, attest_period_s,
 *              overdue_scan_s
 *   [attest]   devices_url, key, issuer, site, interval_s, timeout_ms,
 *              threads, max_age_s
 *   [witness]  policy, timeout_ms, retry_s
 *   [ui]       enabled, dir
 *
 * Unknown sections and keys are errors: a misspelt key must not silently
 * fall back to a default in a security product.
 */
#include "waybill/server.h"
#include "waybill/log.h"
#include "waybill/error.h"
#include "waybill/util.h"
#include "waybill/witness.h"

#include "server_int.h"

#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void wb_server_config_init(wb_server_config *c)
{
    memset(c, 0, sizeof(*c));
    wb_service_config_init(&c->service);
    wb_fleet_options_init(&c->fleet);
    c->listen = strdup("127.0.0.1:8080");
    c->max_body = WB_STATEMENT_MAX;
    c->max_headers = 64;
    c->connection_limit = 1024;
    c->connection_timeout_s = 30;
    c->witness.timeout_ms = 3000;
    c->witness.retry_s = 10;
    c->ui.enabled = 1;
}

void wb_server_config_cleanup(wb_server_config *c)
{
    wb_service_config_cleanup(&c->service);
    wb_fleet_options_cleanup(&c->fleet);
    free(c->listen);
    free(c->port_file);
    free(c->attest.devices_url);
    free(c->attest.key_file);
    free(c->attest.issuer);
    free(c->attest.site);
    free(c->witness.policy_file);
    srv_persona_config_cleanup(c);
    free(c->tls.cert_file);
    free(c->tls.key_file);
    free(c->tls.client_ca_file);
    free(c->tls.outbound_ca_file);
    free(c->ui.dir);
    memset(c, 0, sizeof(*c));
}

typedef struct {
    wb_server_config *c;
    const char *path;
    int rc;
    int client_auth_set; /* [tls] client_auth was given */
    char dir[4096]; /* directory of the config file, for relative paths */
} load_ctx;

static int set_str(char **dst, const char *v)
{
    char *s = strdup(v);
    if (!s)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    free(*dst);
    *dst = s;
    return 0;
}

/* relative paths are relative to the configuration file */
static int set_path(load_ctx *x, char **dst, const char *v)
{
    char buf[8300];
    if (v[0] == '/' || x->dir[0] == '\0')
        return set_str(dst, v);
    snprintf(buf, sizeof(buf), "%s/%s", x->dir, v);
    return set_str(dst, buf);
}

static int parse_uint(unsigned long long *out, const char *v, unsigned long long lo,
                      unsigned long long hi)
{
    uint64_t n;
    if (wb_parse_u64(&n, v, strlen(v)) != 0 || n < lo || n > hi)
        return wb_error_set(WB_E_INVALID, "'%s' is not a number in %llu..%llu", v, lo, hi);
    *out = n;
    return 0;
}

static int parse_bool(int *out, const char *v)
{
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
        *out = 1;
    else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
        *out = 0;
    else
        return wb_error_set(WB_E_INVALID, "'%s' is not true or false", v);
    return 0;
}

/* splits "a, b,c" into a malloc'd array of trimmed strings */
static int split_list(char ***out, size_t *n, const char *v)
{
    const char *p = v;
    while (*p) {
        const char *start, *end;
        char **grown;
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (!*p)
            break;
        start = p;
        while (*p && *p != ',')
            p++;
        end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        grown = realloc(*out, (*n + 1) * sizeof(char *));
        if (!grown)
            return wb_error_set(WB_E_NOMEM, "out of memory");
        *out = grown;
        if (!(grown[*n] = strndup(start, (size_t)(end - start))))
            return wb_error_set(WB_E_NOMEM, "out of memory");
        (*n)++;
    }
    return 0;
}

static wb_issuer *issuer_named(wb_service_config *s, const char *name)
{
    wb_issuer *grown;
    for (size_t i = 0; i < s->nissuers; i++)
        if (strcmp(s->issuers[i].name, name) == 0)
            return &s->issuers[i];
    grown = realloc(s->issuers, (s->nissuers + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    s->issuers = grown;
    memset(&grown[s->nissuers], 0, sizeof(*grown));
    grown[s->nissuers].name = strdup(name);
    if (!grown[s->nissuers].name)
        return NULL;
    return &grown[s->nissuers++];
}

static int issuer_key(load_ctx *x, wb_issuer *is, const char *key, const char *v)
{
    wb_service_config *s = &x->c->service;
    (void)s;
    if (!strcmp(key, "key")) {
        char *path = NULL;
        int rc = set_path(x, &path, v);
        if (rc == 0) {
            wb_key *k = NULL;
            rc = wb_key_read_file(&k, path);
            if (rc == 0 && wb_key_is_private(k)) {
                wb_key *pub;
                rc = wb_key_public_copy(&pub, k);
                wb_key_free(k);
                k = rc == 0 ? pub : NULL;
            }
            if (rc == 0) {
                wb_key_free(is->key);
                is->key = k;
                if (is->kid_len == 0) {
                    rc = wb_key_default_kid(is->kid, k);
                    is->kid_len = 32;
                }
            }
        }
        free(path);
        return rc;
    }
    if (!strcmp(key, "kid")) {
        size_t n = strlen(v);
        if (n == 0 || n % 2 || n / 2 > WB_COSE_KID_MAX)
            return wb_error_set(WB_E_INVALID, "kid must be 1..%d bytes in lowercase hex",
                                WB_COSE_KID_MAX);
        if (wb_hex_decode(is->kid, n / 2, v, n) != 0)
            return WB_E_INVALID;
        is->kid_len = n / 2;
        return 0;
    }
    if (!strcmp(key, "anchor"))
        return set_path(x, &is->anchor_file, v);
    if (!strcmp(key, "content_types"))
        return split_list(&is->content_types, &is->ncontent_types, v);
    return wb_error_set(WB_E_INVALID, "unknown key");
}

static int handle(void *user, const char *section, const char *key, const char *v)
{
    load_ctx *x = user;
    wb_server_config *c = x->c;
    wb_service_config *s = &c->service;
    unsigned long long n = 0;
    int rc = WB_E_INVALID;

    if (x->rc)
        return 0;
    wb_error_set(WB_E_INVALID, "unknown key");
    if (!strcmp(section, "service")) {
        if (!strcmp(key, "name"))
            rc = set_str(&s->name, v);
        else if (!strcmp(key, "data_dir"))
            rc = set_path(x, &s->data_dir, v);
        else if (!strcmp(key, "database"))
            rc = set_str(&s->database, v);
        else if (!strcmp(key, "receipt_key"))
            rc = set_path(x, &s->receipt_key_file, v);
        else if (!strcmp(key, "listen"))
            rc = set_str(&c->listen, v);
        else if (!strcmp(key, "threads") && (rc = parse_uint(&n, v, 0, 256)) == 0)
            c->threads = (unsigned)n;
        else if (!strcmp(key, "dev"))
            rc = parse_bool(&s->dev, v);
        else if (!strcmp(key, "log_requests"))
            rc = parse_bool(&c->log_requests, v);
        else if (!strcmp(key, "port_file"))
            rc = set_path(x, &c->port_file, v);
        else if (!strcmp(key, "allow_plain_http"))
            rc = parse_bool(&c->allow_plain_http, v);
    } else if (!strcmp(section, "tls")) {
        if (!strcmp(key, "cert"))
            rc = set_path(x, &c->tls.cert_file, v);
        else if (!strcmp(key, "key"))
            rc = set_path(x, &c->tls.key_file, v);
        else if (!strcmp(key, "client_ca"))
            rc = set_path(x, &c->tls.client_ca_file, v);
        else if (!strcmp(key, "outbound_ca"))
            rc = set_path(x, &c->tls.outbound_ca_file, v);
        else if (!strcmp(key, "client_auth")) {
            static const char *const names[] = {"none", "optional", "required"};
            rc = wb_error_set(WB_E_INVALID, "'%s' is not none, optional or required", v);
            for (int i = 0; i < 3; i++)
                if (!strcmp(v, names[i])) {
                    c->tls.client_auth = i;
                    x->client_auth_set = 1;
                    rc = 0;
                }
        }
    } else if (!strcmp(section, "batch")) {
        if (!strcmp(key, "max_entries") && (rc = parse_uint(&n, v, 1, WB_LOG_BATCH_MAX)) == 0)
            s->batch_max = (size_t)n;
        else if (!strcmp(key, "interval_ms") && (rc = parse_uint(&n, v, 0, 60000)) == 0)
            s->batch_interval_ms = (unsigned)n;
        else if (!strcmp(key, "register_wait_ms") &&
                 (rc = parse_uint(&n, v, 0, 600000)) == 0)
            s->register_wait_ms = (unsigned)n;
        else if (!strcmp(key, "durability")) {
            if (!strcmp(v, "full"))
                s->sync_normal = 0, rc = 0;
            else if (!strcmp(v, "normal"))
                s->sync_normal = 1, rc = 0;
            else
                rc = wb_error_set(WB_E_INVALID, "'%s' is not full or normal", v);
        }
    } else if (!strcmp(section, "limits")) {
        if (!strcmp(key, "max_body") && (rc = parse_uint(&n, v, 1, WB_STATEMENT_MAX)) == 0)
            c->max_body = (size_t)n;
        else if (!strcmp(key, "max_headers") && (rc = parse_uint(&n, v, 1, 1000)) == 0)
            c->max_headers = (unsigned)n;
        else if (!strcmp(key, "queue_max") && (rc = parse_uint(&n, v, 1, 10000000)) == 0)
            s->queue_max = (size_t)n;
        else if (!strcmp(key, "connection_limit") &&
                 (rc = parse_uint(&n, v, 1, 100000)) == 0)
            c->connection_limit = (unsigned)n;
        else if (!strcmp(key, "connection_timeout_s") &&
                 (rc = parse_uint(&n, v, 1, 3600)) == 0)
            c->connection_timeout_s = (unsigned)n;
    } else if (!strcmp(section, "trust")) {
        if (!strcmp(key, "anchors")) {
            char **list = NULL;
            size_t k = 0;
            rc = split_list(&list, &k, v);
            for (size_t i = 0; i < k; i++) {
                char **grown = rc ? NULL
                                  : realloc(s->anchor_files,
                                            (s->nanchor_files + 1) * sizeof(char *));
                if (grown) {
                    s->anchor_files = grown;
                    grown[s->nanchor_files] = NULL;
                    rc = set_path(x, &grown[s->nanchor_files], list[i]);
                    if (rc == 0)
                        s->nanchor_files++;
                } else if (rc == 0) {
                    rc = wb_error_set(WB_E_NOMEM, "out of memory");
                }
                free(list[i]);
            }
            free(list);
        }
    } else if (!strcmp(section, "governance")) {
        if (!strcmp(key, "admin_keys")) {
            char **list = NULL;
            size_t k = 0;
            rc = split_list(&list, &k, v);
            for (size_t i = 0; i < k; i++) {
                char **grown = rc ? NULL
                                  : realloc(c->fleet.admin_key_files,
                                            (c->fleet.nadmin_key_files + 1) * sizeof(char *));
                if (grown) {
                    c->fleet.admin_key_files = grown;
                    grown[c->fleet.nadmin_key_files] = NULL;
                    rc = set_path(x, &grown[c->fleet.nadmin_key_files], list[i]);
                    if (rc == 0)
                        c->fleet.nadmin_key_files++;
                } else if (rc == 0) {
                    rc = wb_error_set(WB_E_NOMEM, "out of memory");
                }
                free(list[i]);
            }
            free(list);
        }
    } else if (!strcmp(section, "policy")) {
        if (!strcmp(key, "cvss_threshold")) {
            char *end;
            double d = strtod(v, &end);
            if (*v && !*end && d >= 0.0 && d <= 10.0) {
                c->fleet.cvss_threshold = d;
                rc = 0;
            } else {
                rc = wb_error_set(WB_E_INVALID, "'%s' is not a CVSS score 0..10", v);
            }
        } else if (!strcmp(key, "attest_period_s") &&
                   (rc = parse_uint(&n, v, 60, 365ull * 86400)) == 0) {
            c->fleet.attest_period_s = (int64_t)n;
        } else if (!strcmp(key, "overdue_scan_s") &&
                   (rc = parse_uint(&n, v, 1, 86400)) == 0) {
            c->fleet.overdue_scan_s = (unsigned)n;
        }
    } else if (!strcmp(section, "attest")) {
        if (!strcmp(key, "devices_url"))
            rc = set_str(&c->attest.devices_url, v);
        else if (!strcmp(key, "key"))
            rc = set_path(x, &c->attest.key_file, v);
        else if (!strcmp(key, "issuer"))
            rc = set_str(&c->attest.issuer, v);
        else if (!strcmp(key, "site"))
            rc = set_str(&c->attest.site, v);
        else if (!strcmp(key, "interval_s") && (rc = parse_uint(&n, v, 1, 365ull * 86400)) == 0)
            c->attest.interval_s = (unsigned)n;
        else if (!strcmp(key, "timeout_ms") && (rc = parse_uint(&n, v, 10, 600000)) == 0)
            c->attest.timeout_ms = (unsigned)n;
        else if (!strcmp(key, "threads") && (rc = parse_uint(&n, v, 1, 1024)) == 0)
            c->attest.threads = (unsigned)n;
        else if (!strcmp(key, "max_age_s") && (rc = parse_uint(&n, v, 1, 86400)) == 0)
            c->attest.max_age_s = (unsigned)n;
    } else if (!strcmp(section, "witness")) {
        if (!strcmp(key, "policy"))
            rc = set_path(x, &c->witness.policy_file, v);
        else if (!strcmp(key, "timeout_ms") && (rc = parse_uint(&n, v, 10, 600000)) == 0)
            c->witness.timeout_ms = (unsigned)n;
        else if (!strcmp(key, "retry_s") && (rc = parse_uint(&n, v, 1, 86400)) == 0)
            c->witness.retry_s = (unsigned)n;
    } else if (!strcmp(section, "ui")) {
        if (!strcmp(key, "enabled"))
            rc = parse_bool(&c->ui.enabled, v);
        else if (!strcmp(key, "dir"))
            rc = set_path(x, &c->ui.dir, v);
    } else if (!strncmp(section, "persona ", 8) && section[8]) {
        rc = srv_persona_config_key(c, section + 8, key, v, x->dir);
    } else if (!strncmp(section, "issuer ", 7) && section[7]) {
        wb_issuer *is = issuer_named(s, section + 7);
        rc = is ? issuer_key(x, is, key, v) : wb_error_set(WB_E_NOMEM, "out of memory");
    } else {
        rc = wb_error_set(WB_E_INVALID, "unknown section [%s]", section);
    }
    if (rc) {
        x->rc = wb_error_prefix(rc, "%s: [%s] %s", x->path, section, key);
        return 0;
    }
    return 1;
}

int wb_server_config_load(wb_server_config *c, const char *path)
{
    load_ctx x;
    char *slash;
    int line;
    memset(&x, 0, sizeof(x));
    x.c = c;
    x.path = path;
    snprintf(x.dir, sizeof(x.dir), "%s", path);
    slash = strrchr(x.dir, '/');
    if (slash)
        *slash = '\0';
    else
        x.dir[0] = '\0';
    line = ini_parse(path, handle, &x);
    if (x.rc)
        return x.rc;
    if (line < 0)
        return wb_error_set(WB_E_NOTFOUND, "%s: cannot open the configuration file", path);
    if (line > 0)
        return wb_error_set(WB_E_INVALID, "%s line %d: not 'key = value' or '[section]'",
                            path, line);
    if (!c->service.name)
        return wb_error_set(WB_E_INVALID, "%s: [service] name is required", path);
    if (!c->service.data_dir)
        return wb_error_set(WB_E_INVALID, "%s: [service] data_dir is required", path);
    if (!c->service.receipt_key_file) {
        char buf[8300];
        snprintf(buf, sizeof(buf), "%s/service.key", c->service.data_dir);
        if (set_str(&c->service.receipt_key_file, buf))
            return WB_E_NOMEM;
    }
    if (!c->tls.cert_file != !c->tls.key_file)
        return wb_error_set(WB_E_INVALID, "%s: [tls] needs both cert and key", path);
    if (c->tls.client_ca_file && !x.client_auth_set)
        c->tls.client_auth = WB_TLS_CLIENT_OPTIONAL;
    if (c->tls.client_auth != WB_TLS_CLIENT_NONE && !c->tls.client_ca_file)
        return wb_error_set(WB_E_INVALID, "%s: [tls] client_auth = %s needs client_ca, the "
                            "CA that client certificates must chain to", path,
                            c->tls.client_auth == WB_TLS_CLIENT_REQUIRED ? "required"
                                                                         : "optional");
    if ((c->tls.client_ca_file || c->tls.client_auth) && !c->tls.cert_file)
        return wb_error_set(WB_E_INVALID, "%s: [tls] client certificates need the server's "
                            "cert and key", path);
    if (c->tls.client_auth == WB_TLS_CLIENT_REQUIRED && c->attest.interval_s)
        return wb_error_set(WB_E_INVALID, "%s: [attest] interval_s with [tls] client_auth = "
                            "required: the server's own attestation scheduler has no client "
                            "certificate; use client_auth = optional, or run waybill attest "
                            "from a host that has one", path);
    if (c->attest.interval_s &&
        (!c->attest.devices_url || !c->attest.key_file || !c->attest.issuer ||
         !c->attest.site))
        return wb_error_set(WB_E_INVALID, "%s: [attest] interval_s needs devices_url, key, "
                            "issuer and site", path);
    if (c->witness.policy_file) {
        /* a bad policy is an error at start-up, not a silent log without witnesses */
        wb_witness_policy p;
        int rc;
        memset(&p, 0, sizeof(p));
        rc = wb_witness_policy_load(&p, c->witness.policy_file);
        if (rc)
            return wb_error_prefix(rc, "%s: [witness] policy", path);
        for (size_t i = 0; rc == 0 && i < p.nwitness; i++)
            if (!p.witness[i].url)
                rc = wb_error_set(WB_E_INVALID, "%s: [witness] policy %s: witness '%s' has "
                                  "no URL: the log cannot submit checkpoints to it", path,
                                  c->witness.policy_file, p.witness[i].name);
        if (rc == 0 && p.nwitness == 0)
            rc = wb_error_set(WB_E_INVALID, "%s: [witness] policy %s names no witness",
                              path, c->witness.policy_file);
        wb_witness_policy_cleanup(&p);
        if (rc)
            return rc;
    }
    {
        int rc = srv_persona_config_check(c, path);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < c->service.nissuers; i++) {
        wb_issuer *is = &c->service.issuers[i];
        if (!is->key && !is->anchor_file)
            return wb_error_set(WB_E_INVALID, "%s: [issuer %s] needs a key or an anchor",
                                path, is->name);
        if (is->kid_len && !is->key)
            return wb_error_set(WB_E_INVALID, "%s: [issuer %s] kid without a key", path,
                                is->name);
    }
    return 0;
}

int wb_server_config_dev(wb_server_config *c, const char *dir)
{
    char buf[8300];
    int rc;
    c->service.dev = 1;
    if ((rc = set_str(&c->service.data_dir, dir)))
        return rc;
    snprintf(buf, sizeof(buf), "%s/service.key", dir);
    if ((rc = set_str(&c->service.receipt_key_file, buf)))
        return rc;
    if (!c->service.name && (rc = set_str(&c->service.name, "localhost/waybill-dev")))
        return rc;
    /* the operator admin key of development mode, made by the server */
    if (c->fleet.nadmin_key_files == 0) {
        c->fleet.admin_key_files = calloc(1, sizeof(char *));
        if (!c->fleet.admin_key_files)
            return wb_error_set(WB_E_NOMEM, "out of memory");
        snprintf(buf, sizeof(buf), "%s/admin.key", dir);
        if ((rc = set_str(&c->fleet.admin_key_files[0], buf)))
            return rc;
        c->fleet.nadmin_key_files = 1;
    }
    return 0;
}
