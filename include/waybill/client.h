/*
 * waybill/client.h: a small HTTP client (libcurl) for the command line:
 * submitting statements, polling for receipts, fetching service keys,
 * checkpoints and tiles.
 */
#ifndef WAYBILL_CLIENT_H
#define WAYBILL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#define WB_HTTP_BODY_MAX (16 * 1024 * 1024) /* largest response we read */

typedef struct {
    long status;
    uint8_t *body;          /* malloc'd, NUL-terminated */
    size_t len;
    char content_type[128];
    char location[512];
    long retry_after;       /* seconds, -1 if absent */
} wb_http_response;

/*
 * wb_http_request performs one request (method "GET" or "POST"; body and
 * content_type only for POST) with a timeout, without following redirects.
 * Transport failures are WB_E_IO with curl's reason; any HTTP status is a
 * success of this function (look at resp->status).
 */
int wb_http_request(wb_http_response *resp, const char *method, const char *url,
                    const uint8_t *body, size_t len, const char *content_type,
                    const char *accept, long timeout_s);
void wb_http_response_cleanup(wb_http_response *resp);

/*
 * wb_http_problem reads an RFC 9290 concise problem details body
 * ({-1: title, -2: detail}) from an error response into title and detail
 * (empty strings when absent or not CBOR problem details).
 */
void wb_http_problem(const wb_http_response *resp, char *title, size_t tcap,
                     char *detail, size_t dcap);

/* joins a base URL and an absolute path ("/entries") or an absolute URL */
int wb_http_join(char *out, size_t cap, const char *base, const char *path);

#endif
