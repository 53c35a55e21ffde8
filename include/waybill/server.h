/*
 * waybill/server.h: `waybill serve`: the transparency service over HTTP
 * (libmicrohttpd) and its INI configuration (libinih).
 *
 * Routes (docs/http-api.md): SCITT SCRAPI (draft-ietf-scitt-scrapi-11)
 * POST /entries, GET /entries/{id}, GET /entries/{id}/statement,
 * GET /.well-known/scitt-keys[/{kid}], GET /.well-known/
 * transparency-configuration; C2SP tlog-tiles GET /checkpoint and
 * /tile/...; GET /proofs/consistency; GET /metrics; GET /healthz.
 */
#ifndef WAYBILL_SERVER_H
#define WAYBILL_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "waybill/fleet.h"
#include "waybill/scitt.h"

enum { WB_TLS_CLIENT_NONE, WB_TLS_CLIENT_OPTIONAL, WB_TLS_CLIENT_REQUIRED };

/*
 * [persona NAME]: who may read what (docs/personas.md). Anonymous readers
 * are the public persona; the others are named by a bearer token or a TLS
 * client certificate, kept only as SHA-256 digests.
 */
typedef enum {
    WB_PERSONA_PUBLIC = 0,
    WB_PERSONA_SUPPLIER,    /* scope: manufacturer names (manifests) */
    WB_PERSONA_INTEGRATOR,  /* scope: its issuer names */
    WB_PERSONA_LOGISTICS,   /* scope: its issuer names */
    WB_PERSONA_DATACENTER,  /* scope: sites */
    WB_PERSONA_AUDITOR,     /* every read */
    WB_PERSONA_ADMIN,       /* every read and /metrics */
    WB_PERSONA_METRICS,     /* /metrics only (a Prometheus scraper) */
    WB_PERSONA_KIND_COUNT
} wb_persona_kind;

typedef struct {
    char *name;                /* [A-Za-z0-9._-], in logs and /metrics labels */
    wb_persona_kind kind;
    char **scope;              /* manufacturers, sites or issuers, by kind */
    size_t nscope;
    const char *scope_key;     /* the key that named it (static) */
    uint8_t (*tokens)[32];     /* SHA-256 of each bearer token */
    size_t ntokens;
    uint8_t (*certs)[32];      /* SHA-256 of each client certificate's DER */
    size_t ncerts;
} wb_persona;

/* "supplier"...; NULL for an unknown kind */
const char *wb_persona_kind_name(wb_persona_kind k);

/* a fresh random bearer token ("wbp_" and 43 base64url characters: 256
 * bits) and its SHA-256, the digest [persona] token_sha256 takes */
#define WB_PERSONA_TOKEN_LEN 47
int wb_persona_token_new(char out[WB_PERSONA_TOKEN_LEN + 1], uint8_t sha256[32]);

typedef struct {
    wb_service_config service;
    char *listen;              /* "ADDR:PORT"; port 0 picks a free one */
    unsigned threads;          /* HTTP worker threads; 0: one per core */
    size_t max_body;           /* largest request body (<= 65535) */
    unsigned max_headers;      /* most request header fields */
    unsigned connection_limit; /* most open connections */
    unsigned connection_timeout_s;
    int log_requests;          /* one log line per request */
    char *port_file;           /* write the bound port here once listening */
    int allow_plain_http;      /* plain HTTP on a non-loopback address (behind a proxy) */
    /* [tls]: HTTPS terminated by the server (docs/tls.md); off without cert */
    struct {
        char *cert_file;       /* PEM certificate chain, leaf first */
        char *key_file;        /* PEM private key of the leaf */
        char *client_ca_file;  /* PEM CA(s) client certificates must chain to */
        int client_auth;       /* WB_TLS_CLIENT_*: none, optional (with client_ca), required */
        char *outbound_ca_file; /* PEM CA(s) for the server's own HTTPS requests */
    } tls;
    wb_persona *personas;      /* [persona NAME] sections */
    size_t npersonas;
    wb_fleet_options fleet;    /* [governance] and [policy]: the provenance rules */
    /* [attest]: periodic re-attestation of every unit in production */
    struct {
        char *devices_url;     /* where devices answer challenges */
        char *key_file;        /* the datacenter's private signing key */
        char *issuer;          /* its issuer name in the ledger */
        char *site;            /* the site it attests */
        unsigned interval_s;   /* 0: no periodic attestation (default) */
        unsigned timeout_ms;   /* per challenge (5000) */
        unsigned threads;      /* challenges in flight (0: 4 per core) */
        unsigned max_age_s;    /* older evidence is stale (300) */
    } attest;
    /* [witness]: witnesses that cosign the log's checkpoints (witness.h) */
    struct {
        char *policy_file;     /* witness policy (witnesses with URLs, quorum) */
        unsigned timeout_ms;   /* per add-checkpoint request (3000) */
        unsigned retry_s;      /* a failed witness is tried again after (10) */
    } witness;
    /* [ui]: the web console's static files at /ui/ (docs/console.md) */
    struct {
        int enabled;           /* 1 (default): serve /ui/ */
        char *dir;             /* NULL: the ui/ directory of the source tree */
    } ui;
} wb_server_config;

void wb_server_config_init(wb_server_config *c);
void wb_server_config_cleanup(wb_server_config *c);
/*
 * wb_server_config_load reads an INI file over the defaults; unknown
 * sections or keys and bad values are errors naming file, line and key.
 */
int wb_server_config_load(wb_server_config *c, const char *path);
/* --dev defaults for DIR: everything under DIR, dev = 1 */
int wb_server_config_dev(wb_server_config *c, const char *dir);

typedef struct wb_server wb_server;

int wb_server_start(wb_server **out, const wb_server_config *c);
unsigned short wb_server_port(const wb_server *s);
wb_service *wb_server_service(wb_server *s);
/* stops accepting, finishes the batch in progress, closes the log */
void wb_server_stop(wb_server *s);

#endif
