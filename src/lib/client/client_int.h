/*
 * client_int.h: what the HTTP client's files share (http.c: requests;
 * token.c: the bearer token they carry).
 */
#ifndef WAYBILL_CLIENT_INT_H
#define WAYBILL_CLIENT_INT_H

#include <curl/curl.h>

#include "waybill/client.h"

/* appends "Authorization: Bearer ..." for url, if a token applies to it */
struct curl_slist *http_token_header(struct curl_slist *hdrs, const char *url);

#endif
