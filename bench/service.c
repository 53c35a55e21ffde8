/*
 * service.c: section 6 of `make bench`: the transparency service under load
 * (issue 4, "Benchmark"), next to the ES256 verification ceiling measured in
 * the same run.
 *
 *   1. the ceiling: one thread per core verifying ES256 (verify_ceiling.c);
 *   2. before any timing: 50 issuer keys (ES256) registered the dev-mode way
 *      (public PEM in DIR/issuers) and N distinct signed statements (RFC 9943:
 *      alg, cty, CWT iss/sub/iat, kid) with ~470-byte JSON payloads, signed on
 *      every core;
 *   3. `waybill serve --dev DIR --listen 127.0.0.1:0` as a child process with
 *      its defaults (durability full: synchronous=FULL, one fsync per batch);
 *   4. closed loop: C keep-alive connections, each sending its next
 *      statement when its 201 arrives (loadgen.c), after a warm-up, with
 *      C = 128 and then C = 512: with group commit every registration waits
 *      for its batch, so a closed loop cannot exceed C / (interval + commit)
 *      and 128 clients may leave cores idle (docs/performance.md);
 *      registrations/s counts 201s only, latency is write to full 201;
 *   5. open loop at half the higher measured rate, paced, its p99 next to
 *      twice the batch interval (the issue's target);
 *   6. a sample of the receipts verified offline against the service key,
 *      so the 201s counted are real receipts.
 * CPU of client and server in each window is read from getrusage and
 * /proc/PID/stat.
 */
#include "service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "waybill/client.h"
#include "waybill/cose.h"
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/scitt.h"
#include "waybill/util.h"


static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the server child ---- */

typedef struct {
    pid_t pid;
    char dir[4200];
    char log[4400];
    unsigned short port;
    double cpu0, cpu;      /* CPU seconds of the server in the window */
    double busy0, busy;    /* CPU seconds of the whole machine in the window */
} server;

/* utime + stime of pid in seconds, or -1 */
static double proc_cpu(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long long ut = 0, st = 0;
    FILE *f;
    size_t n;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                     &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* busy CPU seconds of the whole machine (all but idle and iowait), or -1 */
static double machine_busy(void)
{
    unsigned long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    int n;
    if (!f)
        return -1;
    n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n != 8)
        return -1;
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds of this process */
static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void server_mark(void *ctx, int end)
{
    server *s = ctx;
    double c = proc_cpu(s->pid), b = machine_busy();
    if (!end) {
        s->cpu0 = c;
        s->busy0 = b;
    } else {
        s->cpu = c - s->cpu0;
        s->busy = b - s->busy0;
    }
}

static void show_log(const server *s)
{
    char cmd[4500];
    snprintf(cmd, sizeof(cmd), "tail -n 20 '%s' >&2", s->log);
    if (system(cmd) != 0)
        fprintf(stderr, "(no server log at %s)\n", s->log);
}

static int server_start(server *s, const char *waybill)
{
    char portfile[4400], buf[32];
    double t0 = mono();
    snprintf(portfile, sizeof(portfile), "%s/port", s->dir);
    snprintf(s->log, sizeof(s->log), "%s/server.log", s->dir);
    fflush(NULL);
    s->pid = fork();
    if (s->pid < 0) {
        perror("waybill-bench: fork");
        return -1;
    }
    if (s->pid == 0) {
        FILE *lf = freopen(s->log, "w", stderr);
        if (!lf || !freopen("/dev/null", "w", stdout))
            _exit(126);
        execl(waybill, "waybill", "serve", "--dev", s->dir, "--listen", "127.0.0.1:0",
              "--port-file", portfile, (char *)NULL);
        fprintf(stderr, "exec %s: %s\n", waybill, strerror(errno));
        _exit(127);
    }
    while (mono() - t0 < 20) {
        FILE *f = fopen(portfile, "r");
        int status;
        if (f) {
            int ok = fgets(buf, sizeof(buf), f) != NULL;
            fclose(f);
            if (ok && atoi(buf) > 0) {
                s->port = (unsigned short)atoi(buf);
                return 0;
            }
        }
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            fprintf(stderr, "waybill-bench: waybill serve exited early; its log:\n");
            show_log(s);
            s->pid = 0;
            return -1;
        }
        usleep(20000);
    }
    fprintf(stderr, "waybill-bench: waybill serve did not start in 20 s; its log:\n");
    show_log(s);
    return -1;
}

static void server_stop(server *s)
{
    double t0 = mono();
    int status;
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGTERM);
    while (waitpid(s->pid, &status, WNOHANG) != s->pid) {
        if (mono() - t0 > 20) {
            fprintf(stderr, "waybill-bench: waybill serve ignored SIGTERM; killing it\n");
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
            break;
        }
        usleep(10000);
    }
    s->pid = 0;
}

/* batches and registrations so far, from GET /metrics */
static int server_batches(const server *s, unsigned long long *batches,
                          unsigned long long *registered)
{
    char url[64];
    wb_http_response resp;
    const char *b, *r;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", s->port);
    if (wb_http_request(&resp, "GET", url, NULL, 0, NULL, NULL, 10) != 0)
        return -1;
    b = strstr((const char *)resp.body, "\nwaybill_batches_total ");
    r = strstr((const char *)resp.body, "\nwaybill_registrations_total ");
    if (resp.status != 200 || !b || !r) {
        wb_http_response_cleanup(&resp);
        return -1;
    }
    *batches = strtoull(b + 23, NULL, 10);
    *registered = strtoull(r + 29, NULL, 10);
    wb_http_response_cleanup(&resp);
    return 0;
}

/* ---- receipts ---- */

typedef struct {
    wb_key *key;
    uint8_t kid[32];
} service_key;

static int find_service_key(void *ctx, wb_cose_verifier *out, const uint8_t *kid,
                            size_t kid_len, int64_t alg)
{
    service_key *k = ctx;
    if (kid_len != 32 || memcmp(kid, k->kid, 32) != 0)
        return wb_error_set(WB_E_NOTFOUND, "receipt kid is not the service's");
    if (wb_cose_verifier_for_key(out, k->key) != 0 || out->alg != alg)
        return wb_error_set(WB_E_VERIFY, "receipt alg is not the service key's");
    return 0;
}

/* verifies the sampled receipts; the number that verify */
static size_t check_receipts(const server *s, const load_result *r, const load_body *bodies)
{
    char path[4400];
    service_key k;
    wb_key *priv = NULL;
    size_t good = 0;
    snprintf(path, sizeof(path), "%s/service.key", s->dir);
    if (wb_key_read_file(&priv, path) != 0 || wb_key_public_copy(&k.key, priv) != 0 ||
        wb_key_default_kid(k.kid, k.key) != 0) {
        fprintf(stderr, "waybill-bench: service key: %s\n", wb_error_message());
        wb_key_free(priv);
        return 0;
    }
    for (size_t i = 0; i < r->nreceipts; i++) {
        const load_receipt *rc = &r->receipts[i];
        const load_body *b = &bodies[rc->body];
        if (wb_receipt_verify(NULL, rc->receipt, rc->len, b->data, b->len,
                              find_service_key, &k) == 0)
            good++;
        else
            fprintf(stderr, "waybill-bench: receipt for statement %zu: %s\n", rc->body,
                    wb_error_message());
    }
    wb_key_free(priv);
    wb_key_free(k.key);
    return good;
}

/* ---- the run ---- */

/* prints a phase's figures; returns the cores the rest of the machine used */
static double print_load(const char *indent, const load_result *r, const server *s,
                         double rate)
{
    double other = 0;
    printf("%sregistrations (201): %zu in %.2f s = %.0f /s;  non-201: %zu;  transport "
           "errors: %zu\n",
           indent, r->ok, r->window, rate, r->non201, r->transport_errors);
    if (r->status[2] + r->status[3] + r->status[4] + r->status[5] != r->status[2] ||
        r->non201)
        printf("%sall answers by class: 2xx %zu, 3xx %zu, 4xx %zu, 5xx %zu\n", indent,
               r->status[2], r->status[3], r->status[4], r->status[5]);
    printf("%slatency to the 201: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms\n",
           indent, load_quantile_ms(r, 0.50), load_quantile_ms(r, 0.99),
           load_quantile_ms(r, 0.999), load_quantile_ms(r, 1.0));
    if (r->window > 0) {
        other = (s->busy - s->cpu - r->client_cpu) / r->window;
        if (other < 0)
            other = 0;
        printf("%sCPU in the window: server %.2f cores, client %.2f cores, rest of the "
               "machine %.2f cores (of %ld)\n",
               indent, s->cpu / r->window, r->client_cpu / r->window, other,
               sysconf(_SC_NPROCESSORS_ONLN));
    }
    return other;
}

/* one load phase on the statements not sent yet; 0 or -1 (reported) */
static int run_phase(load_result *r, load_params *lp, server *srv, const load_body *bodies,
                     size_t n, size_t *used)
{
    lp->bodies = bodies + *used;
    lp->nbodies = n - *used;
    if (load_run(r, lp) != 0) {
        show_log(srv);
        return -1;
    }
    for (size_t i = 0; i < r->nreceipts; i++)
        r->receipts[i].body += *used; /* index into the whole array */
    *used += r->sent;
    return 0;
}

int bench_service(const bench_service_opts *o)
{
    static const unsigned default_conns[] = {128, 512};
    wb_service_config defaults;
    bench_issuer is[BENCH_NISSUERS];
    server srv;
    load_body *bodies = NULL;
    load_params lp;
    load_result closed[2], open;
    size_t n = o->statements ? o->statements : 180000, used = 0, nclosed = o->conns ? 1 : 2;
    size_t good = 0, sampled = 0;
    double seconds = o->seconds > 0 ? o->seconds : 5.0, ceiling, avg_stmt = 0,
           avg_payload = 0, t0, max_rate = 0, half, open_secs = 5.0, target_ms;
    double rest_ceiling = 0, rest_max = 0;
    unsigned long long b0 = 0, r0 = 0, b1 = 0, r1 = 0;
    int threads = 0, rc = 1, have_metrics;

    memset(is, 0, sizeof(is));
    memset(&srv, 0, sizeof(srv));
    memset(closed, 0, sizeof(closed));
    memset(&open, 0, sizeof(open));
    wb_service_config_init(&defaults);
    target_ms = 2.0 * defaults.batch_interval_ms;

    printf("\n6. transparency service: waybill serve --dev (child process), durability "
           "full,\n   batches of up to %zu statements or %u ms\n",
           defaults.batch_max, defaults.batch_interval_ms);
    fflush(stdout);

    {
        /* these machines are shared: say how busy it was before we started */
        double b0m = machine_busy(), t0m = mono();
        usleep(500000);
        printf("   machine busy before this section (other processes): %.2f cores\n",
               (machine_busy() - b0m) / (mono() - t0m));
    }
    {
        double b0m = machine_busy(), c0 = self_cpu(), t0m = mono();
        ceiling = bench_es256_ceiling(2.0, 512, &threads);
        rest_ceiling = (machine_busy() - b0m - (self_cpu() - c0)) / (mono() - t0m);
        if (rest_ceiling < 0)
            rest_ceiling = 0;
        rest_max = rest_ceiling;
    }
    if (ceiling <= 0)
        return 1;
    printf("   ES256 verification ceiling, %d threads (one per core): %.0f verifications/s"
           "\n   (%.0f per core; rest of the machine meanwhile: %.2f cores)\n",
           threads, ceiling, ceiling / threads, rest_ceiling);
    fflush(stdout);

    snprintf(srv.dir, sizeof(srv.dir), "%s/service", o->base);
    bodies = calloc(n, sizeof(*bodies));
    if (!bodies || bench_issuers_make(is) != 0 || bench_issuers_write(is, srv.dir) != 0)
        goto out;
    t0 = mono();
    if (bench_sign_all(bodies, n, is, &avg_stmt, &avg_payload) != 0)
        goto out;
    printf("   pre-signed %zu distinct ES256 statements from %d issuers in %.1f s: "
           "%.0f bytes each\n   on average (JSON payload %.0f bytes, kid, CWT iss/sub/iat)\n",
           n, BENCH_NISSUERS, mono() - t0, avg_stmt, avg_payload);
    fflush(stdout);

    if (server_start(&srv, o->waybill) != 0)
        goto out;
    have_metrics = server_batches(&srv, &b0, &r0) == 0;

    memset(&lp, 0, sizeof(lp));
    lp.addr.sin_family = AF_INET;
    lp.addr.sin_port = htons(srv.port);
    lp.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lp.keep_every = 997;
    lp.mark = server_mark;
    lp.mark_ctx = &srv;

    /* closed loop: the maximum rate */
    for (size_t k = 0; k < nclosed; k++) {
        double rate, rest;
        lp.conns = o->conns ? o->conns : default_conns[k];
        lp.seconds = seconds;
        lp.warmup = 1.0;
        lp.rate = 0;
        if (used >= n) {
            printf("   closed loop, %u connections: skipped, no statements left (raise "
                   "--statements)\n", lp.conns);
            continue;
        }
        if (run_phase(&closed[k], &lp, &srv, bodies, n, &used) != 0)
            goto out;
        if (have_metrics)
            have_metrics = server_batches(&srv, &b1, &r1) == 0;
        rate = closed[k].window > 0 ? (double)closed[k].ok / closed[k].window : 0;
        printf("   closed loop, %u keep-alive connections, 1 s warm-up then %g s:\n",
               lp.conns, seconds);
        rest = print_load("     ", &closed[k], &srv, rate);
        if (rest > rest_max)
            rest_max = rest;
        if (closed[k].exhausted)
            printf("     (the statements ran out: the window was cut to %.2f s; raise "
                   "--statements)\n",
                   closed[k].window);
        if (have_metrics && b1 > b0)
            printf("     batches: %llu, %.1f statements per batch on average (warm-up "
                   "included)\n",
                   b1 - b0, (double)(r1 - r0) / (double)(b1 - b0));
        b0 = b1;
        r0 = r1;
        if (rate > max_rate)
            max_rate = rate;
        fflush(stdout);
    }
    printf("   => registrations/s / ES256 ceiling = %.0f / %.0f = %.2f  (target >= 0.5: "
           "%s)\n",
           max_rate, ceiling, max_rate / ceiling, max_rate / ceiling >= 0.5 ? "met" : "NOT met");
    fflush(stdout);

    /* open loop at half the maximum, paced */
    half = max_rate / 2;
    if (half >= 1 && used < n) {
        double rest;
        if (half * open_secs > (double)(n - used))
            open_secs = (double)(n - used) / half;
        lp.conns = 512;
        lp.rate = half;
        lp.seconds = open_secs;
        lp.warmup = 0;
        if (run_phase(&open, &lp, &srv, bodies, n, &used) != 0)
            goto out;
        if (have_metrics)
            have_metrics = server_batches(&srv, &b1, &r1) == 0;
        printf("   open loop at half the maximum: %.0f statements/s paced over up to %u "
               "connections,\n   %.1f s, latency from each send's due time:\n",
               half, lp.conns, open.window);
        rest = print_load("     ", &open, &srv,
                          open.window > 0 ? (double)open.ok / open.window : 0);
        if (rest > rest_max)
            rest_max = rest;
        if (have_metrics && b1 > b0)
            printf("     batches: %llu, %.1f statements per batch on average\n", b1 - b0,
                   (double)(r1 - r0) / (double)(b1 - b0));
        printf("     sends behind schedule by > 1 ms: %zu (worst %.2f ms)\n", open.lagged,
               open.max_lag_ms);
        printf("   => p99 at half load = %.2f ms vs 2 x batch interval = %.0f ms (target: "
               "%s)\n",
               load_quantile_ms(&open, 0.99), target_ms,
               load_quantile_ms(&open, 0.99) < target_ms ? "met" : "NOT met");
    } else {
        printf("   open loop skipped: no statements left (raise --statements)\n");
    }

    /* the 201s counted carry real receipts */
    for (size_t k = 0; k < nclosed; k++) {
        good += check_receipts(&srv, &closed[k], bodies);
        sampled += closed[k].nreceipts;
    }
    good += check_receipts(&srv, &open, bodies);
    sampled += open.nreceipts;
    printf("   receipts verified offline against the service key (a sample): %zu of %zu\n",
           good, sampled);
    if (rest_max > 0.2)
        printf("   NOTE: other processes used up to %.2f cores during these measurements: "
               "the\n   figures are not clean; rerun on an idle machine.\n",
               rest_max);
    rc = good == sampled ? 0 : 1;
    if (o->rate_out)
        *o->rate_out = max_rate;
    if (o->bytes_out)
        *o->bytes_out = avg_stmt;
out:
    server_stop(&srv);
    for (size_t k = 0; k < 2; k++)
        load_result_cleanup(&closed[k]);
    load_result_cleanup(&open);
    for (size_t i = 0; bodies && i < n; i++)
        free((void *)bodies[i].data);
    free(bodies);
    bench_issuers_free(is);
    wb_service_config_cleanup(&defaults);
    fflush(stdout);
    return rc;
}
