/*
 * token.c: the bearer token (RFC 6750) the HTTP client sends
 * (waybill/client.h): one process-wide token (the command line's --token or
 * WAYBILL_TOKEN) and tokens bound to one server (a server's attestation
 * scheduler talking to itself). Requests to devices and witnesses go
 * through wb_http_request_anon and never carry one.
 */
#include "client_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/error.h"

#define TOKEN_MAX 512
#define BOUND_MAX 8

typedef struct {
    char *prefix; /* "http://127.0.0.1:8080" */
    char *token;
} bound_token;

static pthread_mutex_t tok_mu = PTHREAD_MUTEX_INITIALIZER;
static char *process_token;
static bound_token bound[BOUND_MAX];
static __thread int anon_request;

static int token_ok(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > TOKEN_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)t[i] < 0x21 || (unsigned char)t[i] > 0x7e)
            return 0; /* nothing that could end the header line */
    return 1;
}

static void drop(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

int wb_http_set_token(const char *token)
{
    char *t = NULL;
    if (token && *token) {
        if (!token_ok(token))
            return wb_error_set(WB_E_INVALID, "a bearer token is 1 to %d printable characters "
                                "without spaces", TOKEN_MAX);
        if (!(t = strdup(token)))
            return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    pthread_mutex_lock(&tok_mu);
    drop(process_token);
    process_token = t;
    pthread_mutex_unlock(&tok_mu);
    return 0;
}

int wb_http_set_token_for(const char *prefix, const char *token)
{
    char *p = NULL, *t = NULL;
    int rc = 0;
    if (token && !token_ok(token))
        return wb_error_set(WB_E_INVALID, "a bearer token is 1 to %d printable characters "
                            "without spaces", TOKEN_MAX);
    if (token && (!(p = strdup(prefix)) || !(t = strdup(token)))) {
        free(p);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    pthread_mutex_lock(&tok_mu);
    for (size_t i = 0; i < BOUND_MAX; i++)
        if (bound[i].prefix && strcmp(bound[i].prefix, prefix) == 0) {
            free(bound[i].prefix);
            drop(bound[i].token);
            bound[i].prefix = bound[i].token = NULL;
        }
    if (t) {
        rc = WB_E_LIMIT;
        for (size_t i = 0; i < BOUND_MAX; i++)
            if (!bound[i].prefix) {
                bound[i].prefix = p;
                bound[i].token = t;
                rc = 0;
                break;
            }
    }
    pthread_mutex_unlock(&tok_mu);
    if (rc) {
        free(p);
        drop(t);
        return wb_error_set(rc, "more than %d servers with their own token", BOUND_MAX);
    }
    return 0;
}

/* url is under prefix: the same scheme, host and port, then a path or nothing */
static int under(const char *url, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(url, prefix, n) != 0)
        return 0;
    return prefix[n - 1] == '/' || url[n] == '\0' || url[n] == '/' || url[n] == '?';
}

struct curl_slist *http_token_header(struct curl_slist *hdrs, const char *url)
{
    char h[TOKEN_MAX + 32] = "";
    if (anon_request)
        return hdrs;
    pthread_mutex_lock(&tok_mu);
    for (size_t i = 0; i < BOUND_MAX && !h[0]; i++)
        if (bound[i].prefix && under(url, bound[i].prefix))
            snprintf(h, sizeof(h), "Authorization: Bearer %s", bound[i].token);
    if (!h[0] && process_token)
        snprintf(h, sizeof(h), "Authorization: Bearer %s", process_token);
    pthread_mutex_unlock(&tok_mu);
    if (h[0]) {
        hdrs = curl_slist_append(hdrs, h); /* curl copies it */
        explicit_bzero(h, sizeof(h));
    }
    return hdrs;
}

int wb_http_request_anon(wb_http_response *resp, const char *method, const char *url,
                         const uint8_t *body, size_t len, const char *content_type,
                         const char *accept, long timeout_s)
{
    int rc;
    anon_request = 1;
    rc = wb_http_request(resp, method, url, body, len, content_type, accept, timeout_s);
    anon_request = 0;
    return rc;
}
