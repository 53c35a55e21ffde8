/*
 * wbtest_scitt.h: helpers for tests of the transparency service: signed
 * statements, an in-process server on a free loopback port, and receipt
 * verification against the service's published keys.
 */
#ifndef WBTEST_SCITT_H
#define WBTEST_SCITT_H

#include "wbtest.h"

#include "waybill/client.h"
#include "waybill/cose.h"
#include "waybill/crypto.h"
#include "waybill/server.h"

/* a signed statement (malloc'd): kid = SHA-256(SPKI) unless x5chain given */
uint8_t *wbt_statement(size_t *len, const wb_key *key, const char *iss, const char *sub,
                       const char *cty, const char *payload, const wb_cose_bytes *x5,
                       size_t nx5);

/* "http://127.0.0.1:PORT" of a running server */
void wbt_server_url(char *out, size_t cap, wb_server *s);
/*
 * a development-mode server on data (a new directory, made here) on a
 * free loopback port, durability normal, the overdue scan every
 * overdue_scan_s seconds (0: the default); its URL in url
 */
wb_server *wbt_dev_server(const char *data, char *url, size_t cap, unsigned overdue_scan_s);

/* POST /entries; returns the response (free with wb_http_response_cleanup) */
void wbt_post(wb_http_response *r, const char *base, const uint8_t *body, size_t len,
              const char *ctype);
void wbt_get(wb_http_response *r, const char *base, const char *path);

/* fetches /.well-known/scitt-keys and verifies receipt for statement
 * (the submitted one: its registered form is computed here); returns the
 * wb_receipt_verify result and fills info */
int wbt_verify_receipt(const char *base, const uint8_t *receipt, size_t rlen,
                       const uint8_t *statement, size_t slen, wb_receipt_info *info);

/* tree size of GET /checkpoint */
uint64_t wbt_tree_size(const char *base);

#endif
