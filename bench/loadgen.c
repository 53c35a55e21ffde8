/*
 * loadgen.c: the load generator of the service benchmark: POST /entries
 * (SCITT SCRAPI, application/cose) over many keep-alive HTTP/1.1
 * connections from a single epoll thread on raw sockets.
 *
 * It is deliberately minimal, because client and server share the machine's
 * cores and every cycle the client spends is one the server does not get:
 * one sendmsg per request (header and statement), and a response parser
 * that reads only the status line, Content-Length and Connection. No
 * pipelining: one request in flight per connection. Anything it does not
 * understand (a chunked body, a malformed status line) is a transport error,
 * counted and reported, never guessed at.
 */
#include "service.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define RBUF_MAX (1024 * 1024) /* largest response we read */
#define DRAIN_MAX_S 30.0        /* longest wait for answers after the window */

typedef struct conn {
    int fd;
    int busy;            /* a request is in flight */
    int want_out;        /* EPOLLOUT is armed: the request is partly written */
    size_t body;         /* index of the statement in flight */
    double t_start;      /* write time (closed loop) or due time (open loop) */
    char hdr[160];
    size_t hdr_len;
    size_t woff;         /* bytes of hdr + statement written */
    uint8_t *rbuf;
    size_t rlen, rcap;
    int in_idle;         /* on the idle list */
    struct conn *next_idle;
} conn;

typedef struct {
    const load_params *p;
    load_result *r;
    int ep;
    conn *conns;
    conn *idle;          /* connections with nothing in flight */
    size_t inflight;
    double win_start, win_end; /* completions counted in [win_start, win_end] */
    size_t keep_cap;
} loop;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void push_idle(loop *l, conn *c)
{
    if (c->in_idle)
        return;
    c->in_idle = 1;
    c->next_idle = l->idle;
    l->idle = c;
}

static conn *pop_idle(loop *l)
{
    conn *c = l->idle;
    if (c) {
        l->idle = c->next_idle;
        c->in_idle = 0;
    }
    return c;
}

/* the server connection c talks to */
static const struct sockaddr_in *conn_addr(const loop *l, const conn *c)
{
    const load_params *p = l->p;
    return p->naddrs ? &p->addrs[(size_t)(c - l->conns) % p->naddrs] : &p->addr;
}

static int conn_open(loop *l, conn *c)
{
    int one = 1, fl;
    struct epoll_event ev;
    c->busy = c->want_out = 0;
    c->rlen = 0;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    /* loopback: a blocking connect is immediate; non-blocking afterwards */
    if (connect(c->fd, (const struct sockaddr *)conn_addr(l, c),
                sizeof(struct sockaddr_in)) != 0 ||
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        (fl = fcntl(c->fd, F_GETFL)) < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) != 0)
        goto fail;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
        goto fail;
    return 0;
fail:
    close(c->fd);
    c->fd = -1;
    return -1;
}

static void conn_close(conn *c)
{
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
}

static void arm_out(loop *l, conn *c, int on)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0);
    ev.data.ptr = c;
    epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = on;
}

/* writes what is left of the request; 0 (done or waiting for EPOLLOUT), -1 */
static int conn_write(loop *l, conn *c)
{
    const load_body *b = &l->p->bodies[c->body];
    size_t total = c->hdr_len + b->len;
    while (c->woff < total) {
        struct iovec iov[2];
        struct msghdr mh;
        ssize_t n;
        memset(&mh, 0, sizeof(mh));
        if (c->woff < c->hdr_len) {
            iov[0].iov_base = c->hdr + c->woff;
            iov[0].iov_len = c->hdr_len - c->woff;
            iov[1].iov_base = (void *)b->data;
            iov[1].iov_len = b->len;
            mh.msg_iovlen = 2;
        } else {
            iov[0].iov_base = (void *)(b->data + (c->woff - c->hdr_len));
            iov[0].iov_len = total - c->woff;
            mh.msg_iovlen = 1;
        }
        mh.msg_iov = iov;
        n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->want_out)
                arm_out(l, c, 1);
            return 0;
        }
        if (n <= 0)
            return -1;
        c->woff += (size_t)n;
    }
    if (c->want_out)
        arm_out(l, c, 0);
    return 0;
}

static void fail_request(loop *l, conn *c)
{
    if (c->busy) {
        c->busy = 0;
        l->inflight--;
        l->r->transport_errors++;
    }
    conn_close(c);
}

/* sends statement i on c; t is the time its latency counts from */
static int dispatch(loop *l, conn *c, size_t i, double t)
{
    int n;
    if (c->fd < 0 && conn_open(l, c) != 0) {
        l->r->transport_errors++;
        return -1;
    }
    n = snprintf(c->hdr, sizeof(c->hdr),
                 "POST /entries HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Content-Type: application/cose\r\nContent-Length: %zu\r\n\r\n",
                 l->p->bodies[i].len);
    c->hdr_len = (size_t)n;
    c->woff = 0;
    c->body = i;
    c->busy = 1;
    c->t_start = t;
    c->rlen = 0;
    l->inflight++;
    l->r->sent++;
    if (conn_write(l, c) != 0) {
        fail_request(l, c);
        return -1;
    }
    return 0;
}

/*
 * parse_response: 1 with status, header end and body length when one whole
 * response is in rbuf; 0 when more bytes are needed; -1 when malformed.
 */
static int parse_response(const conn *c, int *status, size_t *hend, size_t *clen,
                          int *closing)
{
    const char *b = (const char *)c->rbuf, *end, *line;
    int have_len = 0;
    end = memmem(b, c->rlen, "\r\n\r\n", 4);
    if (!end)
        return c->rlen > 16384 ? -1 : 0;
    *hend = (size_t)(end - b) + 4;
    if (*hend < 12 || memcmp(b, "HTTP/1.", 7) != 0 || b[8] != ' ' ||
        b[9] < '1' || b[9] > '5' || b[10] < '0' || b[10] > '9' || b[11] < '0' || b[11] > '9')
        return -1;
    *status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
    *closing = 0;
    *clen = 0;
    for (line = memchr(b, '\n', *hend); line && line + 1 < end;
         line = memchr(line + 1, '\n', (size_t)(end - line - 1))) {
        const char *h = line + 1;
        size_t left = (size_t)(end - h);
        if (left > 15 && strncasecmp(h, "content-length:", 15) == 0) {
            char *stop;
            unsigned long long v = strtoull(h + 15, &stop, 10);
            if (v > RBUF_MAX)
                return -1;
            *clen = (size_t)v;
            have_len = 1;
        } else if (left > 18 && strncasecmp(h, "transfer-encoding:", 18) == 0) {
            return -1; /* not chunked: the server sends whole buffers */
        } else if (left > 11 && strncasecmp(h, "connection:", 11) == 0) {
            const char *v = h + 11;
            while (*v == ' ')
                v++;
            if (strncasecmp(v, "close", 5) == 0)
                *closing = 1;
        }
    }
    if (!have_len && *status != 204 && *status >= 200)
        return -1;
    return c->rlen >= *hend + *clen ? 1 : 0;
}

static void record(loop *l, conn *c, int status, size_t hend, size_t clen, double t)
{
    load_result *r = l->r;
    r->done++;
    r->status[status / 100]++;
    if (t < l->win_start || t > l->win_end)
        return;
    if (status != 201) {
        r->non201++;
        return;
    }
    r->ok++;
    if (r->t_ok)
        r->t_ok[r->nt_ok++] = t;
    {
        double us = (t - c->t_start) * 1e6;
        r->lat_us[r->nlat++] = us > 4e9 ? 4000000000u : (uint32_t)us;
    }
    if (l->p->keep_every && c->body % l->p->keep_every == 0 && r->nreceipts < l->keep_cap) {
        load_receipt *k = &r->receipts[r->nreceipts];
        k->receipt = malloc(clen ? clen : 1);
        if (k->receipt) {
            memcpy(k->receipt, c->rbuf + hend, clen);
            k->len = clen;
            k->body = c->body;
            k->t = t;
            r->nreceipts++;
        }
    }
}

/* reads what arrived; 1 when c's answer is complete, 0 if not yet, -1 on error */
static int conn_read(loop *l, conn *c, double *t_done)
{
    for (;;) {
        ssize_t n;
        int status, closing, pr;
        size_t hend, clen;
        if (c->rcap - c->rlen < 4096) {
            size_t cap = c->rcap ? c->rcap * 2 : 8192;
            uint8_t *g;
            if (cap > RBUF_MAX + 16384)
                return -1;
            g = realloc(c->rbuf, cap);
            if (!g)
                return -1;
            c->rbuf = g;
            c->rcap = cap;
        }
        n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0)
            return -1;
        c->rlen += (size_t)n;
        if (!c->busy)
            return -1; /* bytes nobody asked for */
        pr = parse_response(c, &status, &hend, &clen, &closing);
        if (pr < 0)
            return -1;
        if (pr == 0)
            continue;
        *t_done = mono();
        record(l, c, status, hend, clen, *t_done);
        c->busy = 0;
        l->inflight--;
        if (c->rlen != hend + clen)
            return -1;
        c->rlen = 0;
        if (closing)
            conn_close(c); /* reopened by the next dispatch */
        return 1;
    }
}

/* open loop: sends every statement that is due, on idle connections; the
 * next statement not sent */
static size_t dispatch_due(loop *l, size_t next, size_t nopen, double t0)
{
    const load_params *p = l->p;
    double now = mono();
    conn *c;
    while (next < nopen && t0 + (double)next / p->rate <= now && (c = pop_idle(l))) {
        double due = t0 + (double)next / p->rate, lag = (now - due) * 1e3;
        if (lag > l->r->max_lag_ms)
            l->r->max_lag_ms = lag;
        if (lag > 1.0)
            l->r->lagged++;
        if (dispatch(l, c, next++, due) != 0)
            push_idle(l, c);
        now = mono();
    }
    return next;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int load_run(load_result *r, const load_params *p)
{
    loop l;
    struct epoll_event evs[256];
    int closed = p->rate <= 0;
    size_t next = 0, nopen = 0;
    double t0, now, cpu0 = 0, stop_at = 0;
    int stopping = 0, cpu_started = 0, rc = 0;

    memset(r, 0, sizeof(*r));
    memset(&l, 0, sizeof(l));
    l.p = p;
    l.r = r;
    l.ep = epoll_create1(EPOLL_CLOEXEC);
    l.conns = calloc(p->conns, sizeof(conn));
    for (unsigned i = 0; l.conns && i < p->conns; i++)
        l.conns[i].fd = -1;
    r->lat_us = calloc(p->nbodies ? p->nbodies : 1, sizeof(uint32_t));
    if (p->keep_times)
        r->t_ok = calloc(p->nbodies ? p->nbodies : 1, sizeof(double));
    l.keep_cap = p->keep_every ? p->nbodies / p->keep_every + 1 : 0;
    r->receipts = l.keep_cap ? calloc(l.keep_cap, sizeof(load_receipt)) : NULL;
    if (l.ep < 0 || !l.conns || !r->lat_us || (l.keep_cap && !r->receipts) ||
        (p->keep_times && !r->t_ok)) {
        fprintf(stderr, "waybill-bench: load generator: out of memory or no epoll\n");
        rc = -1;
        goto done;
    }
    for (unsigned i = 0; i < p->conns; i++) {
        if (conn_open(&l, &l.conns[i]) != 0) {
            fprintf(stderr, "waybill-bench: cannot connect to 127.0.0.1:%u: %s\n",
                    ntohs(conn_addr(&l, &l.conns[i])->sin_port), strerror(errno));
            rc = -1;
            goto done;
        }
        push_idle(&l, &l.conns[i]);
    }

    t0 = mono();
    if (closed) {
        l.win_start = t0 + p->warmup;
        l.win_end = l.win_start + p->seconds;
        conn *c;
        while (next < p->nbodies && (c = pop_idle(&l)) != NULL)
            if (dispatch(&l, c, next++, mono()) != 0)
                push_idle(&l, c);
    } else {
        double want = p->rate * p->seconds;
        nopen = want < (double)p->nbodies ? (size_t)want : p->nbodies;
        l.win_start = t0;
        l.win_end = t0 + 1e9;
        cpu0 = cpu_seconds();
        cpu_started = 1;
        if (p->mark)
            p->mark(p->mark_ctx, 0);
    }

    for (;;) {
        struct timespec ts, *tsp = NULL;
        double wait = 0.1;
        int n;
        now = mono();
        if (closed && !cpu_started && now >= l.win_start) {
            cpu0 = cpu_seconds();
            cpu_started = 1;
            if (p->mark)
                p->mark(p->mark_ctx, 0);
        }
        if (closed && !stopping && now >= l.win_end) {
            stopping = 1;
            stop_at = now;
            r->client_cpu = cpu_seconds() - cpu0;
            if (p->mark)
                p->mark(p->mark_ctx, 1);
        }
        if (!closed && !stopping) {
            next = dispatch_due(&l, next, nopen, t0);
            now = mono();
            if (next >= nopen) {
                stopping = 1;
                stop_at = now;
                l.win_end = now + DRAIN_MAX_S;
                r->client_cpu = cpu_seconds() - cpu0;
                if (p->mark)
                    p->mark(p->mark_ctx, 1);
            } else if (l.idle) {
                wait = t0 + (double)next / p->rate - now;
            }
        }
        if (stopping && l.inflight == 0)
            break;
        if (stopping && now - stop_at > DRAIN_MAX_S) {
            fprintf(stderr, "waybill-bench: %zu requests still unanswered %.0f s after "
                            "the window\n", l.inflight, DRAIN_MAX_S);
            rc = -1;
            break;
        }
        if (closed && !stopping && l.win_end - now < wait)
            wait = l.win_end - now;
        if (wait < 0)
            wait = 0;
        ts.tv_sec = (time_t)wait;
        ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
        tsp = &ts;
        n = epoll_pwait2(l.ep, evs, 256, tsp, NULL);
        if (n < 0 && errno != EINTR) {
            perror("waybill-bench: epoll_pwait2");
            rc = -1;
            break;
        }
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            double t_done = 0;
            int got;
            if (c->fd < 0)
                continue;
            if ((evs[i].events & EPOLLOUT) && c->busy && conn_write(&l, c) != 0) {
                fail_request(&l, c);
                push_idle(&l, c);
                continue;
            }
            if (!(evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                continue;
            got = conn_read(&l, c, &t_done);
            if (got < 0) {
                fail_request(&l, c);
                push_idle(&l, c);
                continue;
            }
            if (got == 0)
                continue;
            if (closed && !stopping) {
                if (t_done >= l.win_end) {
                    push_idle(&l, c);
                } else if (next < p->nbodies) {
                    if (dispatch(&l, c, next++, mono()) != 0)
                        push_idle(&l, c);
                } else {
                    /* out of statements: the window ends here */
                    r->exhausted = 1;
                    stopping = 1;
                    stop_at = t_done;
                    l.win_end = t_done;
                    r->client_cpu = cpu_seconds() - cpu0;
                    if (p->mark)
                        p->mark(p->mark_ctx, 1);
                    push_idle(&l, c);
                }
            } else {
                push_idle(&l, c);
                /* a batch answers many connections at once: keep to the
                 * schedule while reading them */
                if (!closed && !stopping)
                    next = dispatch_due(&l, next, nopen, t0);
            }
        }
    }
    if (closed) {
        r->window = (r->exhausted ? l.win_end : l.win_start + p->seconds) - l.win_start;
        if (r->window < 0)
            r->window = 0; /* ran out during the warm-up */
    } else {
        r->window = stop_at - t0;
        if (nopen < (size_t)(p->rate * p->seconds))
            r->exhausted = 1;
    }
    qsort(r->lat_us, r->nlat, sizeof(uint32_t), cmp_u32);
done:
    for (unsigned i = 0; l.conns && i < p->conns; i++) {
        conn_close(&l.conns[i]);
        free(l.conns[i].rbuf);
    }
    free(l.conns);
    if (l.ep >= 0)
        close(l.ep);
    return rc;
}

double load_quantile_ms(const load_result *r, double q)
{
    size_t i;
    if (r->nlat == 0)
        return 0;
    i = (size_t)(q * (double)r->nlat);
    if (i >= r->nlat)
        i = r->nlat - 1;
    return (double)r->lat_us[i] / 1e3;
}

void load_result_cleanup(load_result *r)
{
    for (size_t i = 0; i < r->nreceipts; i++)
        free(r->receipts[i].receipt);
    free(r->receipts);
    free(r->lat_us);
    free(r->t_ok);
    memset(r, 0, sizeof(*r));
}
