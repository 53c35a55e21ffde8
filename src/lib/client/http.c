/*
 * http.c: one HTTP request with libcurl (waybill/client.h). Responses are
 * read into a capped buffer; redirects are not followed (SCRAPI uses
 * Location for polling, the caller decides).
 *
 * HTTPS: one process-wide TLS setting (wb_http_set_tls, or the
 * WAYBILL_CA_FILE / WAYBILL_CLIENT_CERT / WAYBILL_CLIENT_KEY environment
 * until it is called): the CA file servers are verified against (libcurl's
 * default store without one) and the client certificate for mTLS. Pins
 * (wb_http_pin) verify one server by its public key instead: a server
 * talking to itself on loopback.
 */
#include "client_int.h"
#include "waybill/error.h"
#include "waybill/util.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
/*
 * One curl handle per thread, reset before each request: its connection
 * cache keeps connections alive between requests to the same server (an
 * audit fetches thousands of tiles), and curl reuses one only when the TLS
 * settings match. Freed when the thread exits.
 */
static pthread_key_t curl_key;

static void curl_handle_free(void *h)
{
    curl_easy_cleanup(h);
}

static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_key_create(&curl_key, curl_handle_free);
}

static CURL *thread_handle(void)
{
    CURL *c = pthread_getspecific(curl_key);
    if (c) {
        curl_easy_reset(c);
        return c;
    }
    c = curl_easy_init();
    if (c && pthread_setspecific(curl_key, c) != 0) {
        curl_easy_cleanup(c);
        c = NULL;
    }
    return c;
}

void wb_http_thread_cleanup(void)
{
    CURL *c;
    pthread_once(&curl_once, curl_init);
    c = pthread_getspecific(curl_key);
    if (c) {
        pthread_setspecific(curl_key, NULL);
        curl_easy_cleanup(c);
    }
}

/* ---- TLS settings, process-wide, guarded by tls_mu ---- */

#define PIN_MAX 8

typedef struct {
    char *prefix;           /* "https://127.0.0.1:8443/" */
    char pin[64];           /* "sha256//<base64>" */
    char *cert, *key;       /* client certificate, or NULL */
} http_pin;

static pthread_mutex_t tls_mu = PTHREAD_MUTEX_INITIALIZER;
static int tls_set;         /* wb_http_set_tls was called: the environment is not read */
static char *tls_ca, *tls_cert, *tls_key;
static http_pin pins[PIN_MAX];

static int readable(const char *what, const char *path)
{
    if (path && access(path, R_OK) != 0)
        return wb_error_set(WB_E_NOTFOUND, "%s %s: cannot be read", what, path);
    return 0;
}

static int dup_or_null(char **out, const char *v)
{
    *out = NULL;
    if (v && *v && !(*out = strdup(v)))
        return wb_error_set(WB_E_NOMEM, "out of memory");
    return 0;
}

int wb_http_set_tls(const char *ca_file, const char *cert_file, const char *key_file)
{
    char *ca = NULL, *cert = NULL, *key = NULL;
    int rc;
    if (key_file && *key_file && !(cert_file && *cert_file))
        return wb_error_set(WB_E_INVALID, "a TLS client key without its certificate");
    if ((rc = readable("CA file", ca_file && *ca_file ? ca_file : NULL)) ||
        (rc = readable("client certificate", cert_file && *cert_file ? cert_file : NULL)) ||
        (rc = readable("client key", key_file && *key_file ? key_file : NULL)))
        return rc;
    if ((rc = dup_or_null(&ca, ca_file)) || (rc = dup_or_null(&cert, cert_file)) ||
        (rc = dup_or_null(&key, key_file))) {
        free(ca);
        free(cert);
        return rc;
    }
    pthread_mutex_lock(&tls_mu);
    free(tls_ca);
    free(tls_cert);
    free(tls_key);
    tls_ca = ca;
    tls_cert = cert;
    tls_key = key;
    tls_set = 1;
    pthread_mutex_unlock(&tls_mu);
    return 0;
}

int wb_http_pin(const char *prefix, const uint8_t spki_sha256[32], const char *cert_file,
                const char *key_file)
{
    http_pin p;
    int rc = WB_E_LIMIT;
    memset(&p, 0, sizeof(p));
    memcpy(p.pin, "sha256//", 8);
    wb_base64_encode(p.pin + 8, spki_sha256, 32);
    if ((rc = dup_or_null(&p.prefix, prefix)) || (rc = dup_or_null(&p.cert, cert_file)) ||
        (rc = dup_or_null(&p.key, key_file)))
        goto fail;
    if (!p.prefix) {
        rc = wb_error_set(WB_E_INVALID, "an empty pinned URL");
        goto fail;
    }
    pthread_mutex_lock(&tls_mu);
    for (size_t i = 0; i < PIN_MAX; i++)
        if (!pins[i].prefix) {
            pins[i] = p;
            rc = 0;
            break;
        }
    pthread_mutex_unlock(&tls_mu);
    if (rc == 0)
        return 0;
    rc = wb_error_set(WB_E_LIMIT, "more than %d pinned HTTPS servers", PIN_MAX);
fail:
    free(p.prefix);
    free(p.cert);
    free(p.key);
    return rc;
}

void wb_http_unpin(const char *prefix)
{
    pthread_mutex_lock(&tls_mu);
    for (size_t i = 0; i < PIN_MAX; i++)
        if (pins[i].prefix && strcmp(pins[i].prefix, prefix) == 0) {
            free(pins[i].prefix);
            free(pins[i].cert);
            free(pins[i].key);
            memset(&pins[i], 0, sizeof(pins[i]));
        }
    pthread_mutex_unlock(&tls_mu);
}

/* libcurl copies the strings it is given, so the lock is held only here */
static void apply_tls(CURL *c, const char *url)
{
    const char *ca, *cert, *key;
    pthread_mutex_lock(&tls_mu);
    for (size_t i = 0; i < PIN_MAX; i++)
        if (pins[i].prefix && strncmp(url, pins[i].prefix, strlen(pins[i].prefix)) == 0) {
            /* the key is the identity: no CA, no host name */
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
            curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, pins[i].pin);
            if (pins[i].cert) {
                curl_easy_setopt(c, CURLOPT_SSLCERT, pins[i].cert);
                curl_easy_setopt(c, CURLOPT_SSLKEY, pins[i].key ? pins[i].key : pins[i].cert);
            }
            pthread_mutex_unlock(&tls_mu);
            return;
        }
    ca = tls_set ? tls_ca : getenv("WAYBILL_CA_FILE");
    cert = tls_set ? tls_cert : getenv("WAYBILL_CLIENT_CERT");
    key = tls_set ? tls_key : getenv("WAYBILL_CLIENT_KEY");
    if (ca && *ca)
        curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    if (cert && *cert) {
        curl_easy_setopt(c, CURLOPT_SSLCERT, cert);
        curl_easy_setopt(c, CURLOPT_SSLKEY, key && *key ? key : cert);
    }
    pthread_mutex_unlock(&tls_mu);
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    wb_buf *b = ctx;
    size_t total = size * n;
    if (wb_buf_add(b, p, total) != 0)
        return 0; /* over the cap: curl aborts the transfer */
    return total;
}

static void copy_value(char *dst, size_t cap, const char *v, size_t n)
{
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    wb_http_response *r = ctx;
    size_t total = size * n;
    static const char loc[] = "location:", ct[] = "content-type:", ra[] = "retry-after:";
    if (total > sizeof(loc) && strncasecmp(p, loc, sizeof(loc) - 1) == 0)
        copy_value(r->location, sizeof(r->location), p + sizeof(loc) - 1,
                   total - (sizeof(loc) - 1));
    else if (total > sizeof(ct) && strncasecmp(p, ct, sizeof(ct) - 1) == 0)
        copy_value(r->content_type, sizeof(r->content_type), p + sizeof(ct) - 1,
                   total - (sizeof(ct) - 1));
    else if (total > sizeof(ra) && strncasecmp(p, ra, sizeof(ra) - 1) == 0) {
        char v[32];
        copy_value(v, sizeof(v), p + sizeof(ra) - 1, total - (sizeof(ra) - 1));
        r->retry_after = strtol(v, NULL, 10);
    }
    return total;
}

int wb_http_request(wb_http_response *resp, const char *method, const char *url,
                    const uint8_t *body, size_t len, const char *content_type,
                    const char *accept, long timeout_s)
{
    CURL *c;
    CURLcode cc;
    struct curl_slist *hdrs = NULL;
    wb_buf b;
    char h[256];
    int rc = 0;

    memset(resp, 0, sizeof(*resp));
    resp->retry_after = -1;
    pthread_once(&curl_once, curl_init);
    c = thread_handle();
    if (!c)
        return wb_error_set(WB_E_NOMEM, "cannot create an HTTP client");
    wb_buf_init(&b, WB_HTTP_BODY_MAX);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s > 0 ? timeout_s : 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (strncasecmp(url, "https:", 6) == 0)
        apply_tls(c, url);
    hdrs = http_token_header(hdrs, url);
    if (accept) {
        snprintf(h, sizeof(h), "Accept: %s", accept);
        hdrs = curl_slist_append(hdrs, h);
    }
    if (strcmp(method, "POST") == 0) {
        snprintf(h, sizeof(h), "Content-Type: %s",
                 content_type ? content_type : "application/octet-stream");
        hdrs = curl_slist_append(hdrs, h);
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? (const char *)body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    if (hdrs)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        if (cc == CURLE_WRITE_ERROR && wb_buf_error(&b))
            rc = wb_error_set(WB_E_LIMIT, "%s: response over %d bytes", url,
                              WB_HTTP_BODY_MAX);
        else
            rc = wb_error_set(WB_E_IO, "%s: %s", url, curl_easy_strerror(cc));
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    }
    /* the headers list is ours: unhook it before freeing (the handle lives on) */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    if (rc)
        wb_http_thread_cleanup(); /* a failed transfer's connection is not reused */
    if (rc) {
        wb_buf_cleanup(&b);
        return rc;
    }
    return wb_buf_finish(&b, &resp->body, &resp->len);
}

void wb_http_response_cleanup(wb_http_response *resp)
{
    free(resp->body);
    memset(resp, 0, sizeof(*resp));
}

int wb_http_join(char *out, size_t cap, const char *base, const char *path)
{
    size_t n;
    int k;
    if (strncmp(path, "http://", 7) == 0 || strncmp(path, "https://", 8) == 0)
        k = snprintf(out, cap, "%s", path);
    else {
        n = strlen(base);
        while (n > 0 && base[n - 1] == '/')
            n--;
        k = snprintf(out, cap, "%.*s%s%s", (int)n, base, path[0] == '/' ? "" : "/", path);
    }
    if (k < 0 || (size_t)k >= cap)
        return wb_error_set(WB_E_LIMIT, "URL too long");
    return 0;
}
