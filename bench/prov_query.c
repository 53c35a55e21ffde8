/*
 * prov_query.c: query latency for section 7 (prov_scale.h): GET requests
 * one at a time over one keep-alive connection (libcurl, one easy handle),
 * each timed from the call to the last byte of the body. One request in
 * flight, so a figure is the server's answer time for that query with
 * nothing else running, not a throughput.
 */
#include "prov_scale.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

typedef struct {
    char *data;    /* NULL: count only */
    size_t len, cap;
    int keep;
} sink;

static size_t on_body(char *p, size_t size, size_t nmemb, void *ctx)
{
    sink *s = ctx;
    size_t n = size * nmemb;
    if (s->keep) {
        if (s->len + n + 1 > s->cap) {
            size_t cap = s->cap ? s->cap : 65536;
            char *g;
            while (cap < s->len + n + 1)
                cap *= 2;
            g = realloc(s->data, cap);
            if (!g)
                return 0; /* curl reports a write error */
            s->data = g;
            s->cap = cap;
        }
        memcpy(s->data + s->len, p, n);
        s->data[s->len + n] = '\0';
    }
    s->len += n;
    return n;
}

static CURL *handle(sink *s)
{
    CURL *h;
    curl_global_init(CURL_GLOBAL_DEFAULT); /* reference counted */
    h = curl_easy_init();
    if (!h)
        return NULL;
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    return h;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile(const double *v, size_t n, double q)
{
    size_t i;
    if (n == 0)
        return 0;
    i = (size_t)(q * (double)n);
    return v[i >= n ? n - 1 : i];
}

int prov_get_latency(prov_latency *out, const char *base, char *const *paths, size_t n)
{
    sink s = {NULL, 0, 0, 0};
    CURL *h = handle(&s);
    double *ms = calloc(n ? n : 1, sizeof(*ms)), bytes = 0;
    char url[512];
    memset(out, 0, sizeof(*out));
    if (!h || !ms) {
        fprintf(stderr, "waybill-bench: cannot make an HTTP client\n");
        if (h)
            curl_easy_cleanup(h);
        free(ms);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        long status = 0;
        double t0;
        CURLcode cc;
        snprintf(url, sizeof(url), "%s%s", base, paths[i]);
        curl_easy_setopt(h, CURLOPT_URL, url);
        s.len = 0;
        t0 = prov_mono();
        cc = curl_easy_perform(h);
        if (cc == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200) {
            if (out->errors++ == 0)
                fprintf(stderr, "waybill-bench: GET %s: %s\n", paths[i],
                        cc != CURLE_OK ? curl_easy_strerror(cc) : "not 200");
            continue;
        }
        ms[out->n++] = (prov_mono() - t0) * 1e3;
        bytes += (double)s.len;
    }
    qsort(ms, out->n, sizeof(*ms), cmp_double);
    out->p50 = quantile(ms, out->n, 0.50);
    out->p99 = quantile(ms, out->n, 0.99);
    out->max = out->n ? ms[out->n - 1] : 0;
    out->mean_bytes = out->n ? bytes / (double)out->n : 0;
    curl_easy_cleanup(h);
    free(ms);
    return 0;
}

long prov_get(char **body, size_t *len, const char *base, const char *path)
{
    sink s = {NULL, 0, 0, 1};
    CURL *h = handle(&s);
    char url[512];
    long status = -1;
    *body = NULL;
    *len = 0;
    if (!h)
        return -1;
    snprintf(url, sizeof(url), "%s%s", base, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    if (status < 0 || !s.data) {
        free(s.data);
        return status;
    }
    *body = s.data;
    *len = s.len;
    return status;
}
