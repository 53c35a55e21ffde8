/*
 * persona.c: who may read what (docs/personas.md).
 *
 * A persona is a kind (public, supplier, integrator, logistics, datacenter,
 * auditor, admin, metrics), a scope (manufacturer names, sites or issuer
 * names) and credentials: bearer tokens (RFC 6750, `Authorization: Bearer`)
 * and TLS client certificates, both known only by their SHA-256. Every
 * request is mapped to one persona (anonymous: public), every endpoint to
 * an access class, and a persona whose kind does not reach the class is
 * refused here: 401 with `WWW-Authenticate: Bearer` when no (or an
 * unknown) credential came, 403 when a known persona may not. Which rows a
 * scoped persona sees is the routes' business, through srv_persona_scope.
 *
 * Tokens are hashed as they arrive and compared in constant time with the
 * configured digests; no token, hash or Authorization header is ever
 * logged.
 */
#include "server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "waybill/client.h"
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/util.h"

#define TOKEN_MAX 512       /* longest bearer token accepted */
#define TOKEN_FILE_MAX 4096 /* largest token_file */

/* the verified client certificate's fingerprint (tls.c) */
static int client_cert(struct MHD_Connection *c, uint8_t out[32])
{
    return srv_client_cert_sha256(c, out);
}

static const char *const kind_names[WB_PERSONA_KIND_COUNT] = {
    "public", "supplier", "integrator", "logistics", "datacenter", "auditor", "admin",
    "metrics",
};

const char *wb_persona_kind_name(wb_persona_kind k)
{
    return (unsigned)k < WB_PERSONA_KIND_COUNT ? kind_names[k] : NULL;
}

/* which scope key a kind takes (NULL: none) */
static const char *scope_key(wb_persona_kind k)
{
    switch (k) {
    case WB_PERSONA_SUPPLIER:
        return "manufacturers";
    case WB_PERSONA_DATACENTER:
        return "sites";
    case WB_PERSONA_INTEGRATOR:
    case WB_PERSONA_LOGISTICS:
        return "issuers";
    default:
        return NULL;
    }
}

/* ---- tokens ---- */

int wb_persona_token_new(char out[WB_PERSONA_TOKEN_LEN + 1], uint8_t sha256[32])
{
    uint8_t raw[32];
    char b64[48];
    size_t k = 0;
    int rc = wb_random_bytes(raw, sizeof(raw));
    if (rc)
        return rc;
    wb_base64_encode(b64, raw, sizeof(raw)); /* 44 characters, one '=' */
    memcpy(out, "wbp_", 4);
    for (size_t i = 0; b64[i] && b64[i] != '='; i++)
        out[4 + k++] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
    out[4 + k] = '\0';
    explicit_bzero(raw, sizeof(raw));
    explicit_bzero(b64, sizeof(b64));
    return wb_sha256(sha256, out, strlen(out));
}

/* ---- configuration ---- */

static int name_ok(const char *name)
{
    if (!name[0] || strlen(name) > 64)
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

static wb_persona *persona_named(wb_server_config *c, const char *name)
{
    wb_persona *grown;
    for (size_t i = 0; i < c->npersonas; i++)
        if (strcmp(c->personas[i].name, name) == 0)
            return &c->personas[i];
    grown = realloc(c->personas, (c->npersonas + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    c->personas = grown;
    memset(&grown[c->npersonas], 0, sizeof(*grown));
    grown[c->npersonas].kind = WB_PERSONA_KIND_COUNT; /* not given yet */
    if (!(grown[c->npersonas].name = strdup(name)))
        return NULL;
    return &grown[c->npersonas++];
}

/* one SHA-256 in hex, upper or lower case, with or without ':' between bytes
 * (as `openssl x509 -fingerprint -sha256` prints it) */
static int parse_digest(uint8_t out[32], const char *v, size_t n)
{
    char hex[65];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = v[i];
        if (ch == ':')
            continue;
        if (k == 64)
            return wb_error_set(WB_E_INVALID, "'%.*s' is not a SHA-256 in hex", (int)n, v);
        hex[k++] = (ch >= 'A' && ch <= 'F') ? (char)(ch - 'A' + 'a') : ch;
    }
    hex[k] = '\0';
    if (k != 64 || wb_hex_decode(out, 32, hex, 64) != 0)
        return wb_error_set(WB_E_INVALID, "'%.*s' is not a SHA-256 in hex (64 digits)",
                            (int)(n > 80 ? 80 : n), v);
    return 0;
}

static int add_digest(uint8_t (**list)[32], size_t *n, const uint8_t d[32])
{
    uint8_t(*grown)[32] = realloc(*list, (*n + 1) * sizeof(**list));
    if (!grown)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    memcpy(grown[*n], d, 32);
    *list = grown;
    (*n)++;
    return 0;
}

/* "a, b,c": each item trimmed; fn(ctx, item, len) */
static int each_item(const char *v, int (*fn)(void *, const char *, size_t), void *ctx)
{
    const char *p = v;
    int rc = 0, any = 0;
    while (rc == 0 && *p) {
        const char *start, *end;
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        start = p;
        while (*p && *p != ',')
            p++;
        end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        rc = fn(ctx, start, (size_t)(end - start));
        any = 1;
    }
    if (rc == 0 && !any)
        rc = wb_error_set(WB_E_INVALID, "an empty list");
    return rc;
}

static int add_scope(void *ctx, const char *item, size_t n)
{
    wb_persona *p = ctx;
    char **grown;
    if (p->nscope == WB_SCOPE_NAMES_MAX)
        return wb_error_set(WB_E_LIMIT, "at most %d names", WB_SCOPE_NAMES_MAX);
    if (!(grown = realloc(p->scope, (p->nscope + 1) * sizeof(char *))))
        return wb_error_set(WB_E_NOMEM, "out of memory");
    p->scope = grown;
    if (!(grown[p->nscope] = strndup(item, n)))
        return wb_error_set(WB_E_NOMEM, "out of memory");
    p->nscope++;
    return 0;
}

static int add_token_digest(void *ctx, const char *item, size_t n)
{
    wb_persona *p = ctx;
    uint8_t d[32];
    int rc = parse_digest(d, item, n);
    return rc ? rc : add_digest(&p->tokens, &p->ntokens, d);
}

static int add_cert_digest(void *ctx, const char *item, size_t n)
{
    wb_persona *p = ctx;
    uint8_t d[32];
    int rc = parse_digest(d, item, n);
    return rc ? rc : add_digest(&p->certs, &p->ncerts, d);
}

static int token_chars_ok(const char *t, size_t n)
{
    if (n == 0 || n > TOKEN_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)t[i] < 0x21 || (unsigned char)t[i] > 0x7e)
            return 0;
    return 1;
}

/* token_file: the token in plain text (its first line); only its digest is kept */
static int add_token_file(wb_persona *p, const char *path)
{
    uint8_t *data = NULL, d[32];
    size_t len = 0, n = 0;
    int rc = wb_file_read(path, TOKEN_FILE_MAX, &data, &len);
    if (rc)
        return wb_error_prefix(rc, "token_file %s", path);
    while (n < len && data[n] != '\n' && data[n] != '\r')
        n++;
    if (!token_chars_ok((const char *)data, n))
        rc = wb_error_set(WB_E_INVALID, "token_file %s: the first line must be the token, "
                          "1 to %d printable characters without spaces", path, TOKEN_MAX);
    if (rc == 0)
        rc = wb_sha256(d, data, n);
    explicit_bzero(data, len);
    free(data);
    return rc ? rc : add_digest(&p->tokens, &p->ntokens, d);
}

int srv_persona_config_key(wb_server_config *c, const char *name, const char *key,
                           const char *v, const char *dir)
{
    wb_persona *p;
    if (!name_ok(name))
        return wb_error_set(WB_E_INVALID, "a persona name is 1 to 64 letters, digits, '.', "
                            "'_' or '-'");
    if (!(p = persona_named(c, name)))
        return wb_error_set(WB_E_NOMEM, "out of memory");
    if (!strcmp(key, "kind")) {
        for (int k = WB_PERSONA_SUPPLIER; k < WB_PERSONA_KIND_COUNT; k++)
            if (!strcmp(v, kind_names[k])) {
                p->kind = (wb_persona_kind)k;
                return 0;
            }
        if (!strcmp(v, "public"))
            return wb_error_set(WB_E_INVALID, "anonymous readers are the public persona: it "
                                "needs no section");
        return wb_error_set(WB_E_INVALID, "'%s' is not supplier, integrator, logistics, "
                            "datacenter, auditor, admin or metrics", v);
    }
    if (!strcmp(key, "manufacturers") || !strcmp(key, "sites") || !strcmp(key, "issuers")) {
        /* which of the three fits the kind is checked once the file is read */
        if (p->scope_key && strcmp(p->scope_key, key) != 0)
            return wb_error_set(WB_E_INVALID, "a persona has one scope: %s was given before",
                                p->scope_key);
        p->scope_key = !strcmp(key, "manufacturers") ? "manufacturers"
                       : !strcmp(key, "sites")       ? "sites"
                                                     : "issuers";
        return each_item(v, add_scope, p);
    }
    if (!strcmp(key, "token_sha256"))
        return each_item(v, add_token_digest, p);
    if (!strcmp(key, "cert_sha256"))
        return each_item(v, add_cert_digest, p);
    if (!strcmp(key, "token_file")) {
        char path[8300];
        if (v[0] == '/' || !dir || !dir[0])
            snprintf(path, sizeof(path), "%s", v);
        else
            snprintf(path, sizeof(path), "%s/%s", dir, v);
        return add_token_file(p, path);
    }
    return wb_error_set(WB_E_INVALID, "unknown key");
}

int srv_persona_config_check(const wb_server_config *c, const char *path)
{
    for (size_t i = 0; i < c->npersonas; i++) {
        const wb_persona *p = &c->personas[i];
        const char *sk;
        if (p->kind == WB_PERSONA_KIND_COUNT)
            return wb_error_set(WB_E_INVALID, "%s: [persona %s] needs a kind (supplier, "
                                "integrator, logistics, datacenter, auditor, admin, metrics)",
                                path, p->name);
        sk = scope_key(p->kind);
        if (sk && (p->nscope == 0 || strcmp(p->scope_key, sk) != 0))
            return wb_error_set(WB_E_INVALID, "%s: [persona %s] kind %s needs %s%s%s", path,
                                p->name, kind_names[p->kind], sk,
                                p->nscope ? ", not " : "", p->nscope ? p->scope_key : "");
        if (!sk && p->nscope)
            return wb_error_set(WB_E_INVALID, "%s: [persona %s] kind %s sees everything it "
                                "may: it takes no manufacturers, sites or issuers", path,
                                p->name, kind_names[p->kind]);
        if (p->ntokens == 0 && p->ncerts == 0)
            return wb_error_set(WB_E_INVALID, "%s: [persona %s] needs a credential: "
                                "token_sha256, token_file or cert_sha256 (make a token with "
                                "`waybill persona token`)", path, p->name);
        /* one credential names one persona */
        for (size_t j = 0; j <= i; j++) {
            const wb_persona *q = &c->personas[j];
            for (size_t a = 0; a < p->ntokens; a++)
                for (size_t b = 0; b < q->ntokens; b++)
                    if ((j != i || a != b) && memcmp(p->tokens[a], q->tokens[b], 32) == 0)
                        return wb_error_set(WB_E_INVALID, "%s: [persona %s] and [persona %s] "
                                            "share a token", path, q->name, p->name);
            for (size_t a = 0; a < p->ncerts; a++)
                for (size_t b = 0; b < q->ncerts; b++)
                    if ((j != i || a != b) && memcmp(p->certs[a], q->certs[b], 32) == 0)
                        return wb_error_set(WB_E_INVALID, "%s: [persona %s] and [persona %s] "
                                            "share a certificate", path, q->name, p->name);
        }
    }
    return 0;
}

static void persona_cleanup(wb_persona *p)
{
    free(p->name);
    for (size_t i = 0; i < p->nscope; i++)
        free(p->scope[i]);
    free(p->scope);
    free(p->tokens);
    free(p->certs);
    memset(p, 0, sizeof(*p));
}

void srv_persona_config_cleanup(wb_server_config *c)
{
    for (size_t i = 0; i < c->npersonas; i++)
        persona_cleanup(&c->personas[i]);
    free(c->personas);
    c->personas = NULL;
    c->npersonas = 0;
}

/* ---- the server's readers ---- */

struct srv_persona {
    wb_persona p;                  /* a deep copy */
    wb_query_scope scope;
    uint64_t refused;              /* 403s (atomic) */
};

struct srv_personas {
    int open;                      /* dev mode without personas: every read */
    srv_persona *list;
    size_t n;
    char internal_token[48];       /* the scheduler's, or "" */
    char *bound_url;               /* where the client library sends it */
    uint64_t refused_anonymous;    /* 401s without a credential (atomic) */
    uint64_t refused_unknown;      /* 401s with an unknown credential (atomic) */
};

/* dev mode without personas: one that may read everything */
static const srv_persona dev_persona = {
    {(char *)"dev", WB_PERSONA_ADMIN, NULL, 0, NULL, NULL, 0, NULL, 0}, {WB_SCOPE_ALL, NULL, 0},
    0};

static int copy_persona(srv_persona *dst, const wb_persona *src)
{
    wb_persona *p = &dst->p;
    memset(dst, 0, sizeof(*dst));
    p->kind = src->kind;
    if (!(p->name = strdup(src->name)))
        return wb_error_set(WB_E_NOMEM, "out of memory");
    for (size_t i = 0; i < src->nscope; i++)
        if (add_scope(p, src->scope[i], strlen(src->scope[i])) != 0)
            return WB_E_NOMEM;
    for (size_t i = 0; i < src->ntokens; i++)
        if (add_digest(&p->tokens, &p->ntokens, src->tokens[i]) != 0)
            return WB_E_NOMEM;
    for (size_t i = 0; i < src->ncerts; i++)
        if (add_digest(&p->certs, &p->ncerts, src->certs[i]) != 0)
            return WB_E_NOMEM;
    switch (p->kind) {
    case WB_PERSONA_SUPPLIER:
        dst->scope.kind = WB_SCOPE_MANUFACTURERS;
        break;
    case WB_PERSONA_DATACENTER:
        dst->scope.kind = WB_SCOPE_SITES;
        break;
    case WB_PERSONA_INTEGRATOR:
    case WB_PERSONA_LOGISTICS:
        dst->scope.kind = WB_SCOPE_ISSUERS;
        break;
    default:
        dst->scope.kind = WB_SCOPE_ALL;
    }
    dst->scope.names = p->scope;
    dst->scope.n = p->nscope;
    return 0;
}

int srv_personas_new(srv_personas **out, const wb_server_config *c, const char *internal_site)
{
    srv_personas *ps = calloc(1, sizeof(*ps));
    size_t n = c->npersonas + (internal_site ? 1 : 0);
    int rc = 0;
    *out = NULL;
    if (!ps || (n && !(ps->list = calloc(n, sizeof(*ps->list))))) {
        free(ps);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    ps->open = c->service.dev && c->npersonas == 0;
    for (size_t i = 0; rc == 0 && i < c->npersonas; i++, ps->n++)
        rc = copy_persona(&ps->list[i], &c->personas[i]);
    if (rc == 0 && internal_site && !ps->open) {
        /* the server's own attestation scheduler reads /attest/plan and
         * POSTs /attest/check over HTTP like any verifier: a datacenter of
         * its site with a token that lives only in this process */
        uint8_t d[32];
        char *sites[1] = {(char *)internal_site};
        wb_persona p = {(char *)"attest-scheduler", WB_PERSONA_DATACENTER, sites, 1,
                        "sites", NULL, 0, NULL, 0};
        rc = wb_persona_token_new(ps->internal_token, d);
        if (rc == 0) {
            p.tokens = &d;
            p.ntokens = 1;
            rc = copy_persona(&ps->list[ps->n], &p);
            ps->n++;
        }
    }
    if (rc) {
        srv_personas_free(ps);
        return rc;
    }
    if (ps->open)
        srv_log("info", "msg=\"personas: none configured, development mode: every read is "
                        "open\"");
    else if (c->npersonas == 0)
        srv_log("warn", "msg=\"personas: none configured: anonymous readers see only the "
                        "public endpoints (docs/personas.md)\"");
    else
        srv_log("info", "msg=\"personas\" configured=%zu", c->npersonas);
    *out = ps;
    return 0;
}

void srv_personas_free(srv_personas *ps)
{
    if (!ps)
        return;
    if (ps->bound_url) {
        wb_http_set_token_for(ps->bound_url, NULL);
        free(ps->bound_url);
    }
    for (size_t i = 0; i < ps->n; i++)
        persona_cleanup(&ps->list[i].p);
    free(ps->list);
    explicit_bzero(ps->internal_token, sizeof(ps->internal_token));
    free(ps);
}

int srv_personas_bind(srv_personas *ps, const char *url)
{
    int rc;
    if (!ps || !ps->internal_token[0])
        return 0;
    if (ps->bound_url || !(ps->bound_url = strdup(url)))
        return wb_error_set(WB_E_NOMEM, "the scheduler's token is bound already, or no memory");
    rc = wb_http_set_token_for(url, ps->internal_token);
    if (rc) {
        free(ps->bound_url);
        ps->bound_url = NULL;
    }
    return rc;
}

/* ---- requests ---- */

/* what an endpoint needs (docs/personas.md has the table) */
typedef enum {
    ACCESS_PUBLIC,  /* anyone: enough to check the log, nothing of its contents */
    ACCESS_SCOPED,  /* a persona whose scope covers the thing (the route checks) */
    ACCESS_ATTEST,  /* the verifier's API: datacenter (scoped), auditor, admin */
    ACCESS_AUDIT,   /* every entry: auditor, admin */
    ACCESS_METRICS, /* /metrics: metrics, admin */
} access_class;

static access_class access_of(const char *method, const char *url)
{
    if (strcmp(method, "POST") == 0)
        return strcmp(url, "/attest/check") == 0 ? ACCESS_ATTEST : ACCESS_PUBLIC;
    if (strncmp(url, "/entries/", 9) == 0) {
        /* a receipt says where a statement one already holds sits in the
         * log; the statement itself is content */
        const char *slash = strchr(url + 9, '/');
        return slash && strcmp(slash, "/statement") == 0 ? ACCESS_SCOPED : ACCESS_PUBLIC;
    }
    if (strncmp(url, "/tile/entries/", 14) == 0 || strcmp(url, "/audit/fleet") == 0)
        return ACCESS_AUDIT;
    if (strncmp(url, "/devices/", 9) == 0 || strcmp(url, "/fleet") == 0 ||
        strcmp(url, "/findings") == 0 || strncmp(url, "/shipments/", 11) == 0)
        return ACCESS_SCOPED;
    if (strncmp(url, "/attest/", 8) == 0)
        return ACCESS_ATTEST;
    if (strcmp(url, "/metrics") == 0)
        return ACCESS_METRICS;
    /* /checkpoint, /tile/<L>/..., /proofs/consistency, /.well-known/...,
     * /witnesses, /audit/keys, /healthz, /ui/..., and what answers 404 */
    return ACCESS_PUBLIC;
}

static int kind_reaches(wb_persona_kind k, access_class a)
{
    switch (a) {
    case ACCESS_PUBLIC:
        return 1;
    case ACCESS_SCOPED:
        return k == WB_PERSONA_SUPPLIER || k == WB_PERSONA_INTEGRATOR ||
               k == WB_PERSONA_LOGISTICS || k == WB_PERSONA_DATACENTER ||
               k == WB_PERSONA_AUDITOR || k == WB_PERSONA_ADMIN;
    case ACCESS_ATTEST:
        return k == WB_PERSONA_DATACENTER || k == WB_PERSONA_AUDITOR || k == WB_PERSONA_ADMIN;
    case ACCESS_AUDIT:
        return k == WB_PERSONA_AUDITOR || k == WB_PERSONA_ADMIN;
    case ACCESS_METRICS:
        return k == WB_PERSONA_METRICS || k == WB_PERSONA_ADMIN;
    }
    return 0;
}

static const char *class_needs(access_class a)
{
    switch (a) {
    case ACCESS_SCOPED:
        return "a persona whose scope covers it (supplier, integrator, logistics, "
               "datacenter, auditor or admin)";
    case ACCESS_ATTEST:
        return "a datacenter, auditor or admin persona";
    case ACCESS_AUDIT:
        return "an auditor or admin persona";
    case ACCESS_METRICS:
        return "a metrics or admin persona";
    default:
        return "nothing";
    }
}

/* a refusal: problem details, never cached; 401s say how to authenticate */
static enum MHD_Result send_refusal(wb_server *s, struct MHD_Connection *c, unsigned status,
                                    const char *title, const char *detail,
                                    const char *www_auth)
{
    return srv_send_problem(s, c, status, title, detail, 0, www_auth ? www_auth : "");
}

/* 401: who is asking is unknown */
static enum MHD_Result unauthorized(wb_server *s, struct MHD_Connection *c, int presented,
                                    const char *detail)
{
    srv_personas *ps = s->personas;
    __atomic_add_fetch(presented ? &ps->refused_unknown : &ps->refused_anonymous, 1,
                       __ATOMIC_RELAXED);
    if (s->log_requests)
        srv_log("info", "msg=\"read refused\" status=401 persona=%s",
                presented ? "(unknown)" : "public");
    return send_refusal(s, c, MHD_HTTP_UNAUTHORIZED, "Unauthorized", detail,
                        presented ? "Bearer realm=\"waybill\", error=\"invalid_token\""
                                  : "Bearer realm=\"waybill\"");
}

enum MHD_Result srv_refuse(wb_server *s, struct MHD_Connection *c, const srv_persona *who,
                           const char *detail)
{
    if (!who)
        return unauthorized(s, c, 0, detail);
    if (who != &dev_persona)
        __atomic_add_fetch(&((srv_persona *)who)->refused, 1, __ATOMIC_RELAXED);
    if (s->log_requests)
        srv_log("info", "msg=\"read refused\" status=403 persona=%s", who->p.name);
    return send_refusal(s, c, MHD_HTTP_FORBIDDEN, "Forbidden", detail, NULL);
}

/*
 * the persona of a bearer token: 1 found (*who), 0 unknown, -1 the header
 * is not a bearer token
 */
static int by_token(const srv_personas *ps, const char *auth, const srv_persona **who)
{
    uint8_t d[32];
    size_t n;
    int found = 0;
    if (strncasecmp(auth, "Bearer", 6) != 0 || (auth[6] != ' ' && auth[6] != '\t'))
        return -1;
    auth += 6;
    while (*auth == ' ' || *auth == '\t')
        auth++;
    n = strlen(auth);
    while (n > 0 && (auth[n - 1] == ' ' || auth[n - 1] == '\t'))
        n--;
    if (!token_chars_ok(auth, n) || wb_sha256(d, auth, n) != 0)
        return 0;
    for (size_t i = 0; i < ps->n; i++)
        for (size_t k = 0; k < ps->list[i].p.ntokens; k++)
            if (wb_ct_equal(d, ps->list[i].p.tokens[k], 32) && !found) {
                *who = &ps->list[i];
                found = 1;
            }
    return found;
}

static const srv_persona *by_cert(const srv_personas *ps, const uint8_t d[32])
{
    for (size_t i = 0; i < ps->n; i++)
        for (size_t k = 0; k < ps->list[i].p.ncerts; k++)
            if (wb_ct_equal(d, ps->list[i].p.certs[k], 32))
                return &ps->list[i];
    return NULL;
}

int srv_authorize(wb_server *s, struct MHD_Connection *c, const char *method,
                  const char *url, const srv_persona **who, enum MHD_Result *ret)
{
    srv_personas *ps = s->personas;
    access_class need = access_of(method, url);
    const char *auth;
    const srv_persona *tok = NULL, *crt = NULL;
    uint8_t cd[32];
    int has_cert;
    *who = NULL;
    if (!ps || ps->open) {
        *who = &dev_persona;
        return 1;
    }
    auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth) {
        int r = by_token(ps, auth, &tok);
        if (r <= 0) {
            *ret = unauthorized(s, c, 1, r < 0 ? "Authorization: only Bearer tokens are "
                                                 "accepted"
                                               : "the bearer token names no persona of this "
                                                 "service");
            return 0;
        }
    }
    has_cert = client_cert(c, cd) == 0;
    if (has_cert)
        crt = by_cert(ps, cd);
    if (tok && crt && tok != crt) {
        *ret = unauthorized(s, c, 1, "the bearer token and the client certificate name "
                                     "different personas");
        return 0;
    }
    *who = tok ? tok : crt;
    if (kind_reaches(*who ? (*who)->p.kind : WB_PERSONA_PUBLIC, need))
        return 1;
    if (!*who) {
        char detail[300];
        snprintf(detail, sizeof(detail), "%s needs %s: send Authorization: Bearer <token>%s",
                 url, class_needs(need),
                 has_cert ? " (the client certificate names no persona)" : "");
        *ret = unauthorized(s, c, has_cert, detail);
        return 0;
    }
    {
        char detail[300];
        snprintf(detail, sizeof(detail), "persona %s (%s) may not read %s: it needs %s",
                 (*who)->p.name, kind_names[(*who)->p.kind], url, class_needs(need));
        *ret = srv_refuse(s, c, *who, detail);
    }
    return 0;
}

const wb_query_scope *srv_persona_scope(const srv_persona *who)
{
    if (!who || who->scope.kind == WB_SCOPE_ALL)
        return NULL;
    return &who->scope;
}

wb_persona_kind srv_persona_kind(const srv_persona *who)
{
    return who ? who->p.kind : WB_PERSONA_PUBLIC;
}

const char *srv_persona_name(const srv_persona *who)
{
    return who ? who->p.name : "public";
}

void srv_personas_metrics(srv_personas *ps, wb_buf *b)
{
    if (!ps)
        return;
    wb_buf_printf(b, "# HELP waybill_reads_refused_total Reads refused: 401 without a "
                     "known credential, 403 for a persona out of its scope.\n"
                     "# TYPE waybill_reads_refused_total counter\n"
                     "waybill_reads_refused_total{status=\"401\",persona=\"public\"} %llu\n"
                     "waybill_reads_refused_total{status=\"401\",persona=\"unknown\"} %llu\n",
                  (unsigned long long)__atomic_load_n(&ps->refused_anonymous, __ATOMIC_RELAXED),
                  (unsigned long long)__atomic_load_n(&ps->refused_unknown, __ATOMIC_RELAXED));
    for (size_t i = 0; i < ps->n; i++)
        wb_buf_printf(b, "waybill_reads_refused_total{status=\"403\",persona=\"%s\"} %llu\n",
                      ps->list[i].p.name,
                      (unsigned long long)__atomic_load_n(&ps->list[i].refused,
                                                          __ATOMIC_RELAXED));
}
