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
/* frees the calling thread's HTTP handle (and its kept-alive connections);
 * threads that exit free theirs themselves */
void wb_http_thread_cleanup(void);

/*
 * wb_http_set_token sets the bearer token (RFC 6750) every later request
 * of the process carries (`Authorization: Bearer TOKEN`; NULL or "":
 * none): the command line's --token and WAYBILL_TOKEN. wb_http_set_token_for
 * gives requests to URLs under prefix ("http://127.0.0.1:8080") their own
 * token instead (NULL removes it): a server's scheduler talking to itself.
 * A token is 1 to 512 printable characters without spaces (WB_E_INVALID).
 */
int wb_http_set_token(const char *token);
int wb_http_set_token_for(const char *prefix, const char *token);
/* wb_http_request without any bearer token: requests to devices and
 * witnesses, which must never see the ledger's credentials */
int wb_http_request_anon(wb_http_response *resp, const char *method, const char *url,
                         const uint8_t *body, size_t len, const char *content_type,
                         const char *accept, long timeout_s);

/*
 * wb_http_set_tls sets, for every later HTTPS request of the process, the
 * CA certificates (PEM file) servers are verified against (NULL: libcurl's
 * default store) and the client certificate chain and its key (PEM files)
 * presented to servers that ask for one (NULL: none; key NULL: the key is
 * in cert_file). Until it is called the environment gives them:
 * WAYBILL_CA_FILE, WAYBILL_CLIENT_CERT, WAYBILL_CLIENT_KEY. The files must
 * be readable now (WB_E_NOTFOUND); they are read again by each request.
 */
int wb_http_set_tls(const char *ca_file, const char *cert_file, const char *key_file);
/*
 * wb_http_pin makes HTTPS requests to URLs starting with prefix
 * ("https://127.0.0.1:8443/") verify the server by the SHA-256 of its
 * public key (SPKI DER) instead of a CA and its host name, presenting
 * cert_file/key_file (may be NULL) as client certificate: for a server
 * that talks to itself on loopback. wb_http_unpin removes it.
 */
int wb_http_pin(const char *prefix, const uint8_t spki_sha256[32], const char *cert_file,
                const char *key_file);
void wb_http_unpin(const char *prefix);

/*
 * wb_http_problem reads an RFC 9290 concise problem details body
 * ({-1: title, -2: detail}) from an error response into title and detail
 * (empty strings when absent or not CBOR problem details).
 */
void wb_http_problem(const wb_http_response *resp, char *title, size_t tcap,
                     char *detail, size_t dcap);

/* ---- SCRAPI registration (register.c) ---- */

typedef struct {
    long status;          /* the last HTTP status (201, or 200 after polling) */
    uint8_t *receipt;     /* malloc'd, when registered */
    size_t receipt_len;
    char location[512];   /* /entries/{id} */
    char title[256];      /* the problem details of a refusal */
    char detail[1024];
} wb_register_result;

/*
 * wb_client_register POSTs a signed statement to base/entries and, if the
 * service answers 202, polls the Location until the receipt is there or
 * wait_s seconds passed (on_poll, may be NULL, is told each poll).
 * Returns 0 with res->receipt set on success; WB_E_INVALID when the service
 * refused the statement (4xx, res->title/detail say why), WB_E_NOTFOUND for
 * 404, WB_E_INTERNAL for 5xx, 429 or still pending, WB_E_IO when the service
 * cannot be reached.
 */
int wb_client_register(wb_register_result *res, const char *base, const uint8_t *st,
                       size_t len, unsigned wait_s,
                       void (*on_poll)(void *ctx, const char *url), void *ctx);
void wb_register_result_cleanup(wb_register_result *res);

/* joins a base URL and an absolute path ("/entries") or an absolute URL */
int wb_http_join(char *out, size_t cap, const char *base, const char *path);

#endif
