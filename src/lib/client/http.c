/*
 * http.c: one HTTP request with libcurl (waybill/client.h). Responses are
 * read into a capped buffer; redirects are not followed (SCRAPI uses
 * Location for polling, the caller decides).
 */
#include "waybill/client.h"
#include "waybill/error.h"
#include "waybill/util.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
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
    c = curl_easy_init();
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
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
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
