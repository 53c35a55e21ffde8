/*
 * server.c: the HTTP face of the transparency service (waybill/server.h),
 * on libmicrohttpd with a thread pool and epoll.
 *
 * POST /entries follows SCITT SCRAPI (draft-ietf-scitt-scrapi-11 §2.1.2):
 * the worker thread that received the statement checks it (the expensive
 * part: CBOR, signature, chain, policy), queues it for the sequencer and
 * suspends the connection. When the batch holding it is durable the
 * sequencer resumes the connection and the answer is 201 with the receipt
 * (application/cose) and Location: /entries/{id}. If the commit takes longer
 * than register_wait_ms, the answer is 202 with Location and Retry-After;
 * the client polls GET /entries/{id} (204 while pending, then 200).
 * Suspension keeps worker threads free, so a batch collects every
 * statement that arrived during one commit, not one per thread.
 *
 * Errors are RFC 9290 concise problem details in CBOR with a title and a
 * detail naming what was wrong; 413 for a body over max_body, 431 for too
 * many header fields, 415 for another media type, 429 (Retry-After) when
 * the queue is full.
 */
#include "waybill/server.h"
#include "waybill/client.h"
#include "waybill/error.h"
#include "waybill/log.h"
#include "waybill/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server_int.h"

/* ---- logging ---- */

void srv_log(const char *level, const char *fmt, ...)
{
    char msg[1024], ts[32];
    struct timespec now;
    struct tm tm;
    va_list ap;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "ts=%s.%03ldZ level=%s %s\n", ts, now.tv_nsec / 1000000L, level, msg);
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- requests ---- */

typedef struct req {
    wb_server *srv;
    struct MHD_Connection *conn;
    int post_entries;      /* POST /entries */
    int post_check;        /* POST /attest/check: a dry run of the rules */
    int too_big;
    int rejected_early;    /* a response was queued on the first call */
    wb_buf body;
    wb_ticket *ticket;
    uint64_t start_us;
    uint64_t deadline_us;
    int suspended;         /* guarded by srv->mu */
    int timed_out;         /* guarded by srv->mu */
    int refs;              /* MHD's and the ticket callback's */
    struct req *snext, *sprev; /* suspended list, guarded by srv->mu */
} req;

static void req_unref(req *r)
{
    if (__atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    wb_buf_cleanup(&r->body);
    wb_ticket_release(r->ticket);
    free(r);
}

static void susp_remove(wb_server *s, req *r)
{
    if (r->sprev)
        r->sprev->snext = r->snext;
    else
        s->suspended = r->snext;
    if (r->snext)
        r->snext->sprev = r->sprev;
    r->snext = r->sprev = NULL;
}

/* ---- responses ---- */

struct MHD_Response *srv_response(wb_server *s, unsigned status, const char *ctype, void *body,
                                  size_t len)
{
    struct MHD_Response *resp;
    if (len)
        resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    else {
        free(body);
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!resp) {
        if (len)
            free(body);
        return NULL;
    }
    srv_count_status(s, status);
    if (ctype)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    return resp;
}

enum MHD_Result srv_send_problem(wb_server *s, struct MHD_Connection *c, unsigned status,
                                 const char *title, const char *detail, int retry_after,
                                 const char *www_auth)
{
    uint8_t *body = NULL;
    size_t len = 0;
    struct MHD_Response *resp;
    enum MHD_Result ret;
    if (wb_cbor_problem(&body, &len, title, detail, 0) != 0) {
        srv_count_status(s, status);
        return MHD_NO;
    }
    resp = srv_response(s, status, "application/concise-problem-details+cbor", body, len);
    if (!resp)
        return MHD_NO;
    if (retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (www_auth) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        if (www_auth[0])
            MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, www_auth);
    }
    ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_problem(wb_server *s, struct MHD_Connection *c,
                                    unsigned status, const char *title,
                                    const char *detail, int retry_after)
{
    return srv_send_problem(s, c, status, title, detail, retry_after, NULL);
}

/* maps a library error to HTTP status, title, metrics reason */
static unsigned status_of(int rc, const char **title, int *reason)
{
    switch (rc) {
    case WB_E_LIMIT:
        *title = "Payload too large";
        *reason = REASON_TOO_LARGE;
        return MHD_HTTP_CONTENT_TOO_LARGE;
    case WB_E_VERIFY:
        *title = "Unauthenticated statement";
        *reason = REASON_UNAUTHENTICATED;
        return MHD_HTTP_BAD_REQUEST;
    case WB_E_INVALID:
    case WB_E_RANGE:
        *title = "Invalid statement";
        *reason = REASON_INVALID;
        return MHD_HTTP_BAD_REQUEST;
    case WB_E_NOTFOUND:
        *title = "Not found";
        *reason = REASON_INVALID;
        return MHD_HTTP_NOT_FOUND;
    default:
        *title = "Internal error";
        *reason = REASON_INTERNAL;
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
}

static void location_of(char *out, size_t cap, const uint8_t id[32])
{
    char hex[65];
    wb_hex_encode(hex, id, 32);
    snprintf(out, cap, "/entries/%s", hex);
}

/* the answer to a registration whose ticket completed or timed out */
static enum MHD_Result answer_ticket(req *r)
{
    wb_server *s = r->srv;
    struct MHD_Response *resp;
    char loc[128];
    uint8_t *receipt = NULL;
    size_t rlen = 0;
    enum MHD_Result ret;

    location_of(loc, sizeof(loc), wb_ticket_id(r->ticket));
    if (!wb_ticket_done(r->ticket)) {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, loc);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
        srv_count_status(s, MHD_HTTP_ACCEPTED);
        ret = MHD_queue_response(r->conn, MHD_HTTP_ACCEPTED, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    {
        int rc = wb_ticket_result(r->ticket, &receipt, &rlen, NULL);
        if (rc == WB_E_INVALID || rc == WB_E_VERIFY) {
            /* refused by the provenance rules when its turn came */
            srv_count_reject(s, REASON_INVALID);
            return send_problem(s, r->conn, MHD_HTTP_BAD_REQUEST, "Statement refused",
                                wb_error_message(), 0);
        }
        if (rc) {
            srv_log("error", "msg=\"registration failed\" err=\"%s\"", wb_error_message());
            return send_problem(s, r->conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                                "Registration failed", wb_error_message(), 1);
        }
    }
    resp = MHD_create_response_from_buffer(rlen, receipt, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(receipt);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/cose");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, loc);
    srv_count_status(s, MHD_HTTP_CREATED);
    srv_observe_latency(s, now_us() - r->start_us);
    ret = MHD_queue_response(r->conn, MHD_HTTP_CREATED, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* sequencer thread: the batch holding this statement is durable */
static void ticket_done(void *ctx, wb_ticket *t)
{
    req *r = ctx;
    wb_server *s = r->srv;
    (void)t;
    pthread_mutex_lock(&s->mu);
    if (r->suspended) {
        r->suspended = 0;
        susp_remove(s, r);
        MHD_resume_connection(r->conn);
    }
    pthread_mutex_unlock(&s->mu);
    req_unref(r);
}

/* resumes registrations that waited register_wait_ms; they answer 202 */
static void *timer_main(void *arg)
{
    wb_server *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        struct timespec ts;
        uint64_t now = now_us();
        for (req *r = s->suspended, *next; r; r = next) {
            next = r->snext;
            if (r->deadline_us <= now) {
                r->suspended = 0;
                r->timed_out = 1;
                susp_remove(s, r);
                MHD_resume_connection(r->conn);
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->timer_cond, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static int is_cose(const char *ctype)
{
    size_t n = strlen("application/cose");
    if (!ctype || strncasecmp(ctype, "application/cose", n) != 0)
        return 0;
    return ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ';
}

static enum MHD_Result register_statement(req *r)
{
    wb_server *s = r->srv;
    wb_registration reg;
    const char *ctype = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_CONTENT_TYPE);
    int rc;

    if (r->too_big) {
        srv_count_reject(s, REASON_TOO_LARGE);
        return send_problem(s, r->conn, MHD_HTTP_CONTENT_TOO_LARGE, "Payload too large",
                            "the statement is over the service's max_body limit", 0);
    }
    if (!is_cose(ctype)) {
        char detail[200];
        srv_count_reject(s, REASON_MEDIA_TYPE);
        snprintf(detail, sizeof(detail), "POST /entries takes application/cose, not '%.100s'",
                 ctype ? ctype : "(none)");
        return send_problem(s, r->conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                            "Unsupported media type", detail, 0);
    }
    rc = wb_service_check(s->svc, &reg, r->body.data, r->body.len);
    if (rc) {
        const char *title;
        int reason;
        unsigned status = status_of(rc, &title, &reason);
        srv_count_reject(s, reason);
        if (s->log_requests)
            srv_log("info", "msg=\"statement refused\" status=%u err=\"%s\"", status,
                    wb_error_message());
        return send_problem(s, r->conn, status, title, wb_error_message(), 0);
    }
    __atomic_add_fetch(&r->refs, 1, __ATOMIC_ACQ_REL); /* the ticket callback's */
    rc = wb_service_submit(s->svc, &r->ticket, &reg, ticket_done, r);
    if (rc) {
        __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL);
        wb_registration_cleanup(&reg);
        if (rc == WB_E_LIMIT) {
            srv_count_reject(s, REASON_QUEUE_FULL);
            return send_problem(s, r->conn, MHD_HTTP_TOO_MANY_REQUESTS, "Too many requests",
                                wb_error_message(), 1);
        }
        return send_problem(s, r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "Unavailable",
                            wb_error_message(), 1);
    }
    pthread_mutex_lock(&s->mu);
    if (wb_ticket_done(r->ticket) || s->stopping) {
        pthread_mutex_unlock(&s->mu);
        return answer_ticket(r);
    }
    r->deadline_us = now_us() + (uint64_t)s->register_wait_ms * 1000u;
    r->suspended = 1;
    r->snext = s->suspended;
    if (s->suspended)
        s->suspended->sprev = r;
    s->suspended = r;
    MHD_suspend_connection(r->conn);
    pthread_mutex_unlock(&s->mu);
    return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version,
                               const char *upload_data, size_t *upload_size,
                               void **con_cls)
{
    wb_server *s = cls;
    req *r = *con_cls;
    (void)version;

    if (!r) {
        int nheaders = MHD_get_connection_values(conn, MHD_HEADER_KIND, NULL, NULL);
        const char *clen;
        r = calloc(1, sizeof(*r));
        if (!r)
            return MHD_NO;
        r->srv = s;
        r->conn = conn;
        r->refs = 1;
        r->start_us = now_us();
        r->post_entries = strcmp(method, "POST") == 0 && strcmp(url, "/entries") == 0;
        r->post_check = strcmp(method, "POST") == 0 && strcmp(url, "/attest/check") == 0;
        wb_buf_init(&r->body, s->max_body);
        *con_cls = r;
        if (s->tls || s->log_requests) {
            uint8_t fp[32];
            int have_cert = s->tls && srv_client_cert_sha256(conn, fp) == 0;
            if (s->log_requests) {
                char hex[65] = "";
                if (have_cert)
                    wb_hex_encode(hex, fp, 8);
                srv_log("info", "msg=request method=%.16s path=\"%.200s\"%s%s", method, url,
                        have_cert ? " client_cert=" : "", hex);
            }
            if (!have_cert && srv_tls_required(s->tls)) {
                /* the handshake refuses such a client; this is the backstop */
                r->rejected_early = 1;
                srv_count_reject(s, REASON_UNAUTHENTICATED);
                return send_problem(s, conn, MHD_HTTP_UNAUTHORIZED, "Client certificate "
                                    "required", "this service requires a TLS client "
                                    "certificate issued by its client CA", 0);
            }
        }
        if (nheaders > (int)s->max_headers) {
            char detail[128];
            r->rejected_early = 1;
            srv_count_reject(s, REASON_TOO_LARGE);
            snprintf(detail, sizeof(detail), "%d header fields; the limit is %u", nheaders,
                     s->max_headers);
            return send_problem(s, conn, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
                                "Too many header fields", detail, 0);
        }
        clen = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                           MHD_HTTP_HEADER_CONTENT_LENGTH);
        if ((r->post_entries || r->post_check) && clen) {
            uint64_t n;
            if (wb_parse_u64(&n, clen, strlen(clen)) != 0 || n > s->max_body) {
                char detail[160];
                r->rejected_early = 1;
                srv_count_reject(s, REASON_TOO_LARGE);
                snprintf(detail, sizeof(detail), "Content-Length %.40s is over the %zu-byte "
                         "statement limit", clen, s->max_body);
                return send_problem(s, conn, MHD_HTTP_CONTENT_TOO_LARGE, "Payload too large",
                                    detail, 0);
            }
        }
        return MHD_YES;
    }
    if (r->rejected_early) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!r->post_entries && !r->post_check) {
            *upload_size = 0; /* bodies of other requests are ignored */
            return MHD_YES;
        }
        if (!r->too_big && wb_buf_add(&r->body, upload_data, *upload_size) != 0)
            r->too_big = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->post_entries) {
        if (r->ticket)
            return answer_ticket(r); /* resumed: done or timed out */
        return register_statement(r);
    }
    if (r->post_check) {
        if (r->too_big)
            return send_problem(s, conn, MHD_HTTP_CONTENT_TOO_LARGE, "Payload too large",
                                "the body is over the configured limit: send fewer "
                                "attestations per request", 0);
        return srv_route_check(s, conn, r->body.data, r->body.len);
    }
    return srv_route_get(s, conn, method, url);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    req *r = *con_cls;
    (void)cls;
    (void)conn;
    (void)toe;
    if (r) {
        *con_cls = NULL;
        req_unref(r);
    }
}

/* ---- start / stop ---- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;
    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    srv_log("warn", "msg=\"http: %s\"", msg);
}

/* development mode: the operator admin key is created beside the log */
static int make_dev_admin_key(const wb_fleet_options *f)
{
    struct stat sb;
    wb_key *k;
    char pub[4200];
    int rc;
    if (f->nadmin_key_files == 0 || stat(f->admin_key_files[0], &sb) == 0)
        return 0;
    {
        char dir[4200];
        char *slash;
        snprintf(dir, sizeof(dir), "%s", f->admin_key_files[0]);
        slash = strrchr(dir, '/');
        if (slash) {
            *slash = '\0';
            mkdir(dir, 0700); /* the data directory, if it is new */
        }
    }
    rc = wb_key_generate(&k, WB_ALG_ES256);
    if (rc == 0)
        rc = wb_key_write_file(k, f->admin_key_files[0], 1);
    snprintf(pub, sizeof(pub), "%s.pub", f->admin_key_files[0]);
    if (rc == 0 && stat(pub, &sb) != 0)
        rc = wb_key_write_file(k, pub, 0);
    wb_key_free(k);
    return rc;
}

/* [attest]: the scheduler talks to this server as any verifier would, over
 * HTTP on loopback (or the address it listens on) */
/* several nodes over one database: the periodic rounds run on the sequencer */
static int attest_gate(void *ctx)
{
    wb_service_stats st;
    wb_service_get_stats(ctx, &st);
    return st.sequencer;
}

static int start_scheduler(wb_server *s, const wb_server_config *c,
                           const struct sockaddr_storage *ss)
{
    wb_verifier_options o;
    char host[INET6_ADDRSTRLEN + 2] = "127.0.0.1", url[128];
    int rc = wb_key_read_file(&s->attest_key, c->attest.key_file);
    if (rc)
        return wb_error_prefix(rc, "[attest] key");
    if (!wb_key_is_private(s->attest_key))
        return wb_error_set(WB_E_INVALID, "[attest] key %s is a public key; the datacenter's "
                            "private key signs the attestations", c->attest.key_file);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        if (in->sin_addr.s_addr != htonl(INADDR_ANY))
            inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        char a[INET6_ADDRSTRLEN];
        if (!IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) &&
            inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a)))
            snprintf(host, sizeof(host), "[%s]", a);
        else
            snprintf(host, sizeof(host), "[::1]");
    }
    snprintf(url, sizeof(url), "%s://%s:%u", s->tls ? "https" : "http", host,
             (unsigned)s->port);
    if (s->tls && (rc = srv_tls_pin_self(s->tls, url, NULL, NULL)) != 0)
        return wb_error_prefix(rc, "[attest]");
    if ((rc = srv_personas_bind(s->personas, url)) != 0)
        return wb_error_prefix(rc, "[attest]");
    wb_verifier_options_init(&o);
    o.ledger_url = url;
    o.devices_url = c->attest.devices_url;
    o.site = c->attest.site;
    o.issuer = c->attest.issuer;
    o.key = s->attest_key;
    o.phase = WB_PHASE_PERIODIC;
    if (c->attest.threads)
        o.threads = c->attest.threads;
    if (c->attest.timeout_ms)
        o.timeout_ms = c->attest.timeout_ms;
    if (c->attest.max_age_s)
        o.max_age_s = c->attest.max_age_s;
    o.gate = attest_gate; /* one node of several runs the rounds */
    o.gate_ctx = s->svc;
    rc = wb_attest_scheduler_start(&s->sched, &o, c->attest.interval_s);
    if (rc == 0)
        srv_log("info", "msg=\"periodic attestation\" interval_s=%u devices=%s site=%s",
                c->attest.interval_s, c->attest.devices_url, c->attest.site);
    return rc;
}

int wb_server_start(wb_server **out, const wb_server_config *c)
{
    wb_server *s = calloc(1, sizeof(*s));
    struct sockaddr_storage ss;
    socklen_t sl;
    unsigned threads = c->threads;
    const union MHD_DaemonInfo *info;
    int rc;

    if (!s)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    if (c->max_body > WB_STATEMENT_MAX) {
        free(s);
        return wb_error_set(WB_E_INVALID, "max_body is over the %d-byte entry limit",
                            WB_STATEMENT_MAX);
    }
    rc = wb_parse_listen(&ss, &sl, c->listen);
    if (rc == 0)
        rc = srv_listen_check(c, &ss);
    if (rc == 0)
        rc = srv_tls_load(&s->tls, c);
    if (rc == 0 && c->tls.outbound_ca_file &&
        (rc = wb_http_set_tls(c->tls.outbound_ca_file, NULL, NULL)) != 0)
        wb_error_prefix(rc, "[tls] outbound_ca");
    if (rc) {
        srv_tls_free(s->tls);
        free(s);
        return rc;
    }
    s->max_body = c->max_body;
    s->max_headers = c->max_headers;
    s->log_requests = c->log_requests;
    s->register_wait_ms = c->service.register_wait_ms;
    pthread_mutex_init(&s->mu, NULL);
    {
        pthread_condattr_t a;
        pthread_condattr_init(&a);
        pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
        pthread_cond_init(&s->timer_cond, &a);
        pthread_condattr_destroy(&a);
    }
    {
        /* the provenance rules ride on a copy of the service configuration;
         * the service owns what they allocate (hooks.destroy) */
        wb_service_config sc = c->service;
        if (sc.dev)
            rc = make_dev_admin_key(&c->fleet);
        else
            rc = 0;
        if (rc == 0)
            rc = wb_fleet_attach(&sc, &c->fleet);
        if (rc == 0)
            rc = wb_service_open(&s->svc, &sc);
        else if (sc.hooks.destroy)
            sc.hooks.destroy(sc.hooks.ctx);
    }
    if (rc) {
        pthread_cond_destroy(&s->timer_cond);
        pthread_mutex_destroy(&s->mu);
        srv_tls_free(s->tls);
        free(s);
        return rc;
    }
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 2;
    }
    /* who may read what: in place before the first request can arrive */
    rc = srv_personas_new(&s->personas, c, c->attest.interval_s ? c->attest.site : NULL);
    if (rc) {
        wb_service_close(s->svc);
        pthread_cond_destroy(&s->timer_cond);
        pthread_mutex_destroy(&s->mu);
        srv_tls_free(s->tls);
        free(s);
        return rc;
    }
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                                MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                                (s->tls ? MHD_USE_TLS : 0),
                            0, NULL, NULL, handler, s,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                            MHD_OPTION_ARRAY, srv_tls_options(s->tls),
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_THREAD_POOL_SIZE, threads,
                            MHD_OPTION_CONNECTION_LIMIT, c->connection_limit,
                            MHD_OPTION_CONNECTION_TIMEOUT, c->connection_timeout_s,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                            MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
                            MHD_OPTION_END);
    if (!s->d) {
        srv_personas_free(s->personas);
        wb_service_close(s->svc);
        pthread_cond_destroy(&s->timer_cond);
        pthread_mutex_destroy(&s->mu);
        srv_tls_free(s->tls);
        free(s);
        return wb_error_set(WB_E_IO, "cannot listen on %s (in use, or not an address of "
                            "this machine?)", c->listen);
    }
    info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    if (pthread_create(&s->timer, NULL, timer_main, s) != 0) {
        MHD_stop_daemon(s->d);
        srv_personas_free(s->personas);
        wb_service_close(s->svc);
        srv_tls_free(s->tls);
        free(s);
        return wb_error_set(WB_E_INTERNAL, "cannot start the timer thread");
    }
    if (c->attest.interval_s && (rc = start_scheduler(s, c, &ss)) != 0) {
        wb_server_stop(s);
        return rc;
    }
    if (c->witness.policy_file &&
        (rc = srv_witnesses_start(&s->witnesses, s->svc, c->witness.policy_file,
                                  c->witness.timeout_ms, c->witness.retry_s)) != 0) {
        wb_server_stop(s);
        return rc;
    }
    srv_ui_init(s, c);
    *out = s;
    return 0;
}

unsigned short wb_server_port(const wb_server *s)
{
    return s->port;
}

wb_service *wb_server_service(wb_server *s)
{
    return s->svc;
}

void wb_server_stop(wb_server *s)
{
    if (!s)
        return;
    /* the scheduler first (it talks to the HTTP side); then resume every
     * suspended registration (it answers 202 or its result), then stop the
     * HTTP side, then drain the sequencer */
    wb_attest_scheduler_stop(s->sched);
    s->sched = NULL;
    srv_witnesses_stop(s->witnesses);
    s->witnesses = NULL;
    wb_key_free(s->attest_key);
    s->attest_key = NULL;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    for (req *r = s->suspended, *next; r; r = next) {
        next = r->snext;
        r->suspended = 0;
        r->timed_out = 1;
        susp_remove(s, r);
        MHD_resume_connection(r->conn);
    }
    pthread_cond_broadcast(&s->timer_cond);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->timer, NULL);
    {
        /* quiescing hands the listening socket to us: close it, or it stays
         * bound (SO_REUSEPORT) and a server restarted on the same port would
         * see some of its connections queue on it forever */
        MHD_socket ls = MHD_quiesce_daemon(s->d);
        MHD_stop_daemon(s->d);
        if (ls != MHD_INVALID_SOCKET)
            close(ls);
    }
    srv_personas_free(s->personas); /* and the scheduler's token */
    srv_tls_free(s->tls); /* and the scheduler's pin */
    wb_service_close(s->svc);
    pthread_cond_destroy(&s->timer_cond);
    pthread_mutex_destroy(&s->mu);
    free(s->ui_dir);
    free(s);
}
