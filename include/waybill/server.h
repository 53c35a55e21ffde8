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
