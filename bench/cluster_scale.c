/*
 * cluster_scale.c: section 10 of `make bench` (issue 8, "Benchmark"):
 * registrations/s of one node and of three nodes on this machine over one
 * PostgreSQL, next to the SQLite single node, measured in the same run, and
 * the time to fail over.
 *
 *   1. a PostgreSQL 15 cluster of its own (initdb in a temporary directory,
 *      as the user postgres when run as root, on a free loopback port), with
 *      the server's durable defaults: fsync=on, synchronous_commit=on,
 *      full_page_writes=on. This is why the start is not the test support
 *      library's (tests/support/wbtest_pg.c): that one turns fsync and full
 *      page writes off to make tests fast, which would make PostgreSQL's
 *      commits far cheaper than SQLite's synchronous=FULL, and it reports
 *      failures through cmocka's fail_msg, which the bench does not link;
 *   2. the statements of section 6 (statements.c): 50 ES256 issuers registered
 *      the dev-mode way (PEM files in DIR/issuers), distinct signed statements with
 *      ~470-byte JSON device records, pre-signed on every core before any
 *      timing; the same statements go to each configuration, each into a
 *      fresh log;
 *   3. three configurations, each a fresh keys directory and a fresh log,
 *      each with its backend's default durability (full: SQLite
 *      synchronous=FULL, PostgreSQL synchronous_commit=on), the same
 *      closed loop (loadgen.c: C keep-alive connections, 1 s warm-up, then
 *      a window of the same length; 201s only):
 *        (a) `waybill serve --dev DIR`                      (SQLite)
 *        (b) `waybill serve --dev DIR --database CONNINFO`  (one node)
 *        (c) three such nodes sharing DIR and the database; connection i
 *            goes to node i % 3;
 *      CPU per window: the nodes (sum, /proc/PID/stat), PostgreSQL (the
 *      postmaster and its children, exited ones included through cutime),
 *      the client (getrusage) and the rest of the machine (/proc/stat);
 *   4. failover, three times: (c) under the same load; 1.5 s into the window
 *      the node whose GET /metrics says `waybill_cluster_sequencer 1` is
 *      killed with SIGKILL; then (1) the time until another node says it
 *      (polled every 10 ms) and (2) the longest stretch without a 201 that
 *      ends after the kill, and the time from the kill to the 201 that ends
 *      it: that registration needed the new sequencer. The killed node's
 *      connections fail (counted as transport errors) and stay closed; it
 *      is restarted as a follower before the next round.
 * A sample of receipts (every 997th statement) is verified against the
 * service key of each configuration, so the 201s counted are real.
 */
#include "prov_scale.h"
#include "service.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "waybill/client.h"
#include "waybill/cose.h"
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/scitt.h"
#include "waybill/util.h"

#define NODES 3
#define FAILOVERS 3
#define PG_BIN_DEFAULT "/usr/lib/postgresql/15/bin"

/* ---- the statements (as section 6's, service.c: kept in step by hand;
 * service.c keeps its helpers static) ---- */

/* ---- PostgreSQL ---- */

typedef struct {
    char dir[512];   /* data/, logs, the socket */
    char bin[256];
    int port;
    int as_postgres;
    int started;
    pid_t postmaster;
} bpg;

/* runs argv (a full path first), as postgres when pg->as_postgres, output
 * into DIR/commands.log; its exit status, or -1 */
static int pg_run(const bpg *pg, const char *const *argv)
{
    const char *full[32];
    size_t n = 0;
    char logpath[600];
    pid_t pid;
    int status;
    if (pg->as_postgres) {
        full[n++] = "/usr/sbin/runuser";
        full[n++] = "-u";
        full[n++] = "postgres";
        full[n++] = "--";
    }
    for (size_t i = 0; argv[i] && n < 31; i++)
        full[n++] = argv[i];
    full[n] = NULL;
    snprintf(logpath, sizeof(logpath), "%s/commands.log", pg->dir);
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int devnull = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (devnull >= 0)
            dup2(devnull, 0);
        for (int fdn = 3; fdn < 1024; fdn++)
            close(fdn);
        execv(full[0], (char *const *)full);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void pg_show_log(const bpg *pg)
{
    char cmd[1300];
    snprintf(cmd, sizeof(cmd), "tail -n 15 '%s/commands.log' '%s/server.log' >&2", pg->dir,
             pg->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "(no PostgreSQL logs in %s)\n", pg->dir);
}

static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int pg_start(bpg *pg)
{
    /* WB_BENCH_PG_OPTS: more server options, for a look inside (e.g.
     * "-c shared_preload_libraries=pg_stat_statements" with WB_KEEP=1) */
    const char *bin = getenv("WB_PG_BIN"), *extra = getenv("WB_BENCH_PG_OPTS");
    char initdb[400], pg_ctl[400], data[600], logf[600], opts[1400], pidf[700];
    struct passwd *pw = NULL;
    int rc = -1;
    FILE *f;

    memset(pg, 0, sizeof(*pg));
    snprintf(pg->bin, sizeof(pg->bin), "%s", bin && *bin ? bin : PG_BIN_DEFAULT);
    snprintf(initdb, sizeof(initdb), "%s/initdb", pg->bin);
    snprintf(pg_ctl, sizeof(pg_ctl), "%s/pg_ctl", pg->bin);
    if (access(initdb, X_OK) != 0 || access(pg_ctl, X_OK) != 0) {
        fprintf(stderr, "waybill-bench: PostgreSQL 15 server binaries not found in %s (set "
                        "WB_PG_BIN, or scripts/install-deps.sh)\n", pg->bin);
        return -1;
    }
    pg->as_postgres = geteuid() == 0;
    if (pg->as_postgres && (!(pw = getpwnam("postgres")) ||
                            access("/usr/sbin/runuser", X_OK) != 0)) {
        fprintf(stderr, "waybill-bench: as root, PostgreSQL must run as 'postgres' through "
                        "/usr/sbin/runuser; one of them is missing\n");
        return -1;
    }
    /* its own directory: the bench's scratch directory is not the postgres
     * user's; short, for the socket path */
    snprintf(pg->dir, sizeof(pg->dir), "/tmp/wbpg-bench-XXXXXX");
    if (!mkdtemp(pg->dir) || (pw && chown(pg->dir, pw->pw_uid, pw->pw_gid) != 0)) {
        fprintf(stderr, "waybill-bench: %s: %s\n", pg->dir, strerror(errno));
        pg->dir[0] = '\0';
        return -1;
    }
    snprintf(data, sizeof(data), "%s/data", pg->dir);
    snprintf(logf, sizeof(logf), "%s/server.log", pg->dir);
    {
        /* --no-sync: initdb's own files only; the server runs with fsync on */
        const char *argv[] = {initdb, "-D", data, "-A", "trust", "-U", "postgres",
                              "--no-locale", "-E", "UTF8", "--no-sync", NULL};
        if (pg_run(pg, argv) != 0) {
            pg_show_log(pg);
            fprintf(stderr, "waybill-bench: initdb failed\n");
            return -1;
        }
    }
    for (int attempt = 0; attempt < 5 && rc != 0; attempt++) {
        pg->port = free_port();
        if (pg->port <= 0)
            break;
        /* durability as shipped (fsync, synchronous_commit, full_page_writes
         * on); room for three nodes' connections */
        snprintf(opts, sizeof(opts),
                 "-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200 %s",
                 pg->port, pg->dir, extra && *extra ? extra : "");
        {
            const char *argv[] = {pg_ctl, "-D", data, "-l", logf, "-w", "-t", "60", "-o",
                                  opts, "start", NULL};
            rc = pg_run(pg, argv);
        }
    }
    /* from here on pg_stop stops whatever a failed attempt may have left */
    pg->started = 1;
    if (rc != 0) {
        pg_show_log(pg);
        fprintf(stderr, "waybill-bench: pg_ctl start failed\n");
        return -1;
    }
    snprintf(pidf, sizeof(pidf), "%s/postmaster.pid", data);
    if ((f = fopen(pidf, "r"))) {
        long p = 0;
        if (fscanf(f, "%ld", &p) == 1)
            pg->postmaster = (pid_t)p;
        fclose(f);
    }
    return 0;
}

static void pg_stop(bpg *pg)
{
    if (!pg->dir[0])
        return;
    if (pg->started) {
        char pg_ctl[400], data[600];
        snprintf(pg_ctl, sizeof(pg_ctl), "%s/pg_ctl", pg->bin);
        snprintf(data, sizeof(data), "%s/data", pg->dir);
        {
            const char *argv[] = {pg_ctl, "-D", data, "-m", "fast", "-w", "stop", NULL};
            const char *st[] = {pg_ctl, "-D", data, "status", NULL};
            if (pg_run(pg, argv) != 0 && pg_run(pg, st) != 3) /* 3: not running */
                pg_show_log(pg);
        }
        pg->started = 0;
    }
    if (!getenv("WB_KEEP")) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pg->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "waybill-bench: could not remove %s\n", pg->dir);
    }
    pg->dir[0] = '\0';
}

/* a fresh database; its conninfo in out */
static int pg_createdb(const bpg *pg, const char *name, char *out, size_t cap)
{
    char ci[300], sql[128];
    PGconn *c;
    PGresult *r;
    int ok;
    snprintf(ci, sizeof(ci), "host=127.0.0.1 port=%d user=postgres dbname=postgres "
             "connect_timeout=10", pg->port);
    c = PQconnectdb(ci);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "waybill-bench: %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    snprintf(out, cap, "host=127.0.0.1 port=%d user=postgres dbname=%s connect_timeout=10",
             pg->port, name);
    return ok ? 0 : -1;
}

/* utime + stime + cutime + cstime of pid (seconds) and its parent, or -1 */
static double proc_cpu_all(pid_t pid, pid_t *ppid)
{
    char path[64], buf[1024], *p;
    unsigned long long ut = 0, st = 0, cut = 0, cst = 0;
    int pp = 0;
    FILE *f;
    size_t n;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (!p || sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
                     &pp, &ut, &st, &cut, &cst) != 5)
        return -1;
    if (ppid)
        *ppid = (pid_t)pp;
    return (double)(ut + st + cut + cst) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds of PostgreSQL: the postmaster, its children (backends, WAL
 * writer, checkpointer...) and, through cutime, those that exited */
static double pg_cpu(const bpg *pg)
{
    double total;
    DIR *d;
    struct dirent *e;
    if (pg->postmaster <= 0 || (total = proc_cpu_all(pg->postmaster, NULL)) < 0)
        return 0;
    if (!(d = opendir("/proc")))
        return total;
    while ((e = readdir(d))) {
        pid_t parent = 0;
        double c;
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        c = proc_cpu_all((pid_t)atoi(e->d_name), &parent);
        if (c > 0 && parent == pg->postmaster)
            total += c;
    }
    closedir(d);
    return total;
}

/* ---- the nodes ---- */

typedef struct {
    pid_t pid;
    unsigned short port;
    char log[4400];
    char portfile[4400];
} node;

/* `waybill serve --dev keys [--database ci] --listen 127.0.0.1:0`; 0 or -1 */
static int node_start(node *nd, const char *waybill, const char *keys, const char *ci,
                      int idx)
{
    double t0 = prov_mono();
    snprintf(nd->portfile, sizeof(nd->portfile), "%s/node%d.port", keys, idx);
    snprintf(nd->log, sizeof(nd->log), "%s/node%d.log", keys, idx);
    unlink(nd->portfile);
    fflush(NULL);
    nd->pid = fork();
    if (nd->pid < 0) {
        perror("waybill-bench: fork");
        nd->pid = 0;
        return -1;
    }
    if (nd->pid == 0) {
        if (!freopen(nd->log, "a", stderr) || !freopen("/dev/null", "w", stdout))
            _exit(126);
        if (ci)
            execl(waybill, "waybill", "serve", "--dev", keys, "--database", ci, "--listen",
                  "127.0.0.1:0", "--port-file", nd->portfile, (char *)NULL);
        else
            execl(waybill, "waybill", "serve", "--dev", keys, "--listen", "127.0.0.1:0",
                  "--port-file", nd->portfile, (char *)NULL);
        fprintf(stderr, "exec %s: %s\n", waybill, strerror(errno));
        _exit(127);
    }
    while (prov_mono() - t0 < 30) {
        char buf[32];
        int status;
        FILE *f = fopen(nd->portfile, "r");
        if (f) {
            int ok = fgets(buf, sizeof(buf), f) != NULL;
            fclose(f);
            if (ok && atoi(buf) > 0) {
                nd->port = (unsigned short)atoi(buf);
                return 0;
            }
        }
        if (waitpid(nd->pid, &status, WNOHANG) == nd->pid) {
            nd->pid = 0;
            break;
        }
        usleep(20000);
    }
    fprintf(stderr, "waybill-bench: waybill serve (%s) did not start; its log:\n", nd->log);
    {
        char cmd[4500];
        snprintf(cmd, sizeof(cmd), "tail -n 20 '%s' >&2", nd->log);
        if (system(cmd) != 0)
            fprintf(stderr, "(no log)\n");
    }
    return -1;
}

static void node_stop(node *nd, int sig)
{
    double t0 = prov_mono();
    int status;
    if (nd->pid <= 0)
        return;
    kill(nd->pid, sig);
    while (waitpid(nd->pid, &status, WNOHANG) != nd->pid) {
        if (prov_mono() - t0 > 20) {
            fprintf(stderr, "waybill-bench: waybill serve ignored SIGTERM; killing it\n");
            kill(nd->pid, SIGKILL);
            waitpid(nd->pid, &status, 0);
            break;
        }
        usleep(5000);
    }
    nd->pid = 0;
}

/* GET /metrics: the value of the line "\n<name> ", or -1 */
static double node_metric(const node *nd, const char *name)
{
    char url[64], key[96];
    wb_http_response resp;
    const char *at;
    double v = -1;
    if (__atomic_load_n(&nd->pid, __ATOMIC_ACQUIRE) <= 0)
        return -1;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", nd->port);
    snprintf(key, sizeof(key), "\n%s ", name);
    if (wb_http_request(&resp, "GET", url, NULL, 0, NULL, NULL, 5) != 0)
        return -1;
    if (resp.status == 200 && (at = strstr((const char *)resp.body, key)))
        v = strtod(at + strlen(key), NULL);
    wb_http_response_cleanup(&resp);
    return v;
}

/* the node that says it is the sequencer, waiting up to timeout_s; -1 */
static int find_sequencer(const node *nodes, int nn, double timeout_s)
{
    double until = prov_mono() + timeout_s;
    do {
        for (int i = 0; i < nn; i++)
            if (node_metric(&nodes[i], "waybill_cluster_sequencer") == 1)
                return i;
        usleep(10000);
    } while (prov_mono() < until);
    return -1;
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

/* how many of r's sampled receipts verify against keys/service.key */
static size_t check_receipts(const char *keys, const load_result *r, const load_body *bodies)
{
    char path[4400];
    service_key k;
    wb_key *priv = NULL;
    size_t good = 0;
    memset(&k, 0, sizeof(k));
    snprintf(path, sizeof(path), "%s/service.key", keys);
    if (wb_key_read_file(&priv, path) != 0 || wb_key_public_copy(&k.key, priv) != 0 ||
        wb_key_default_kid(k.kid, k.key) != 0) {
        fprintf(stderr, "waybill-bench: service key: %s\n", wb_error_message());
        wb_key_free(priv);
        return 0;
    }
    for (size_t i = 0; i < r->nreceipts; i++) {
        const load_receipt *rc = &r->receipts[i];
        const load_body *b = &bodies[rc->body];
        if (wb_receipt_verify(NULL, rc->receipt, rc->len, b->data, b->len, find_service_key,
                              &k) == 0)
            good++;
        else
            fprintf(stderr, "waybill-bench: receipt for statement %zu: %s\n", rc->body,
                    wb_error_message());
    }
    wb_key_free(priv);
    wb_key_free(k.key);
    return good;
}

/* ---- one configuration under load ---- */

typedef struct {
    node *nodes;
    int nn;
    const bpg *pg;          /* NULL: SQLite */
    double nodes0, pg0, busy0, client_t0;
    double nodes_cpu, pg_cpu, busy; /* in the window, CPU seconds */
    double t_start;         /* atomic-ish: 0 until the window started */
    pthread_mutex_t mu;
    pthread_cond_t cond;
} meter;

static double nodes_cpu(const meter *m)
{
    double s = 0;
    for (int i = 0; i < m->nn; i++) {
        pid_t pid = __atomic_load_n(&m->nodes[i].pid, __ATOMIC_ACQUIRE);
        if (pid > 0) {
            double c = prov_proc_cpu(pid);
            s += c > 0 ? c : 0;
        }
    }
    return s;
}

static void meter_mark(void *ctx, int end)
{
    meter *m = ctx;
    double nc = nodes_cpu(m), pc = m->pg ? pg_cpu(m->pg) : 0, b = prov_machine_busy();
    if (!end) {
        m->nodes0 = nc;
        m->pg0 = pc;
        m->busy0 = b;
        pthread_mutex_lock(&m->mu);
        m->t_start = prov_mono();
        pthread_cond_broadcast(&m->cond);
        pthread_mutex_unlock(&m->mu);
    } else {
        m->nodes_cpu = nc - m->nodes0;
        m->pg_cpu = pc - m->pg0;
        m->busy = b - m->busy0;
    }
}

typedef struct {
    const char *label;
    double rate, p50, p99, window;
    double nodes_cores, pg_cores, client_cores, rest_cores;
    size_t ok, non201, transport, good, sampled, sent;
    double per_batch;
    int exhausted;
} config_result;

static void lp_init(load_params *lp, struct sockaddr_in *addrs, const node *nodes, int nn,
                    unsigned conns, double seconds)
{
    memset(lp, 0, sizeof(*lp));
    for (int i = 0; i < nn; i++) {
        memset(&addrs[i], 0, sizeof(addrs[i]));
        addrs[i].sin_family = AF_INET;
        addrs[i].sin_port = htons(nodes[i].port);
        addrs[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    lp->addr = addrs[0];
    lp->addrs = addrs;
    lp->naddrs = (unsigned)nn;
    lp->conns = conns;
    lp->seconds = seconds;
    lp->warmup = 1.0;
}

static double sum_metric(const node *nodes, int nn, const char *name)
{
    double s = 0;
    for (int i = 0; i < nn; i++) {
        double v = node_metric(&nodes[i], name);
        s += v > 0 ? v : 0;
    }
    return s;
}

/* runs the closed loop against nodes; fills out; 0 or -1 (reported) */
static int measure(config_result *out, node *nodes, int nn, const bpg *pg, const char *keys,
                   const load_body *bodies, size_t n, unsigned conns, double seconds)
{
    struct sockaddr_in addrs[NODES];
    load_params lp;
    load_result r;
    meter m;
    double b0, r0, b1, r1;
    lp_init(&lp, addrs, nodes, nn, conns, seconds);
    memset(&m, 0, sizeof(m));
    pthread_mutex_init(&m.mu, NULL);
    pthread_cond_init(&m.cond, NULL);
    m.nodes = nodes;
    m.nn = nn;
    m.pg = pg;
    lp.mark = meter_mark;
    lp.mark_ctx = &m;
    lp.bodies = bodies;
    lp.nbodies = n;
    lp.keep_every = 997;
    b0 = sum_metric(nodes, nn, "waybill_batches_total");
    r0 = sum_metric(nodes, nn, "waybill_registrations_total");
    if (load_run(&r, &lp) != 0) {
        load_result_cleanup(&r);
        return -1;
    }
    b1 = sum_metric(nodes, nn, "waybill_batches_total");
    r1 = sum_metric(nodes, nn, "waybill_registrations_total");
    out->ok = r.ok;
    out->sent = r.sent;
    out->non201 = r.non201;
    out->transport = r.transport_errors;
    out->window = r.window;
    out->exhausted = r.exhausted;
    out->rate = r.window > 0 ? (double)r.ok / r.window : 0;
    out->p50 = load_quantile_ms(&r, 0.50);
    out->p99 = load_quantile_ms(&r, 0.99);
    if (r.window > 0) {
        out->nodes_cores = m.nodes_cpu / r.window;
        out->pg_cores = m.pg_cpu / r.window;
        out->client_cores = r.client_cpu / r.window;
        out->rest_cores = (m.busy - m.nodes_cpu - m.pg_cpu - r.client_cpu) / r.window;
        if (out->rest_cores < 0)
            out->rest_cores = 0;
    }
    out->per_batch = b1 > b0 ? (r1 - r0) / (b1 - b0) : 0;
    out->sampled = r.nreceipts;
    out->good = check_receipts(keys, &r, bodies);
    load_result_cleanup(&r);
    pthread_mutex_destroy(&m.mu);
    pthread_cond_destroy(&m.cond);
    return 0;
}

static void print_config(const config_result *c)
{
    printf("   %-30s %8.0f /s  p50 %6.1f ms  p99 %6.1f ms  | CPU: nodes %.2f, PostgreSQL "
           "%.2f,\n   %-30s %8s     %.0f statements/batch        | client %.2f, rest %.2f "
           "cores;  non-201 %zu, transport errors %zu, receipts %zu/%zu\n",
           c->label, c->rate, c->p50, c->p99, c->nodes_cores, c->pg_cores, "", "",
           c->per_batch, c->client_cores, c->rest_cores, c->non201, c->transport, c->good,
           c->sampled);
    if (c->exhausted)
        printf("   (the statements ran out: window cut to %.2f s; raise --cluster-statements)\n",
               c->window);
    fflush(stdout);
}

/* ---- failover ---- */

static long long tree_size(PGconn *c)
{
    PGresult *r = PQexec(c, "SELECT size FROM wb_state WHERE id = 1");
    long long v = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        v = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

typedef struct {
    meter *m;
    node *nodes;
    int nn;
    const char *ci;
    int pg_port;
    double kill_after;      /* seconds into the window */
    int killed, next;       /* node indexes, -1 if none */
    double t_kill, t_next;  /* CLOCK_MONOTONIC */
    long long size_old;     /* the tree the dead sequencer left, -1: unknown */
} killer;

/*
 * "{pid,pid,...}": the backends serving pid's connections to PostgreSQL
 * (its sockets, from /proc, matched to pg_stat_activity by client port);
 * 0, or -1
 */
static int node_backends(PGconn *c, pid_t pid, int pgport, char *out, size_t cap)
{
    char path[64], line[512], ports[2048] = "{";
    unsigned long inodes[256];
    size_t ni = 0, plen = 1;
    DIR *d;
    struct dirent *e;
    FILE *f;
    PGresult *r;
    const char *param[1];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    if (!(d = opendir(path)))
        return -1;
    while ((e = readdir(d)) && ni < 256) {
        char fd[600], target[64];
        ssize_t n;
        snprintf(fd, sizeof(fd), "%s/%s", path, e->d_name);
        n = readlink(fd, target, sizeof(target) - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (strncmp(target, "socket:[", 8) == 0)
            inodes[ni++] = strtoul(target + 8, NULL, 10);
    }
    closedir(d);
    snprintf(path, sizeof(path), "/proc/%d/net/tcp", (int)pid);
    if (!(f = fopen(path, "r")))
        return -1;
    while (fgets(line, sizeof(line), f)) {
        unsigned lport = 0, rport = 0;
        unsigned long inode = 0;
        if (sscanf(line, " %*d: %*x:%x %*x:%x %*x %*x:%*x %*x:%*x %*x %*u %*d %lu", &lport,
                   &rport, &inode) != 3 || (int)rport != pgport)
            continue;
        for (size_t i = 0; i < ni; i++)
            if (inodes[i] == inode && plen + 8 < sizeof(ports)) {
                plen += (size_t)snprintf(ports + plen, sizeof(ports) - plen, "%s%u",
                                         plen > 1 ? "," : "", lport);
                break;
            }
    }
    fclose(f);
    snprintf(ports + plen, sizeof(ports) - plen, "}");
    param[0] = ports;
    r = PQexecParams(c, "SELECT '{' || coalesce(string_agg(pid::text, ','), '') || '}' FROM "
                        "pg_stat_activity WHERE client_port = ANY($1::int[])",
                     1, NULL, param, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        PQclear(r);
        return -1;
    }
    snprintf(out, cap, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

/* how many of the backends (a "{pid,...}" array) still run; -1 on error */
static long backends_alive(PGconn *c, const char *pids)
{
    const char *param[1] = {pids};
    PGresult *r = PQexecParams(c, "SELECT count(*) FROM pg_stat_activity WHERE pid = "
                                  "ANY($1::int[])", 1, NULL, param, NULL, NULL, 0);
    long n = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        n = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

static void *killer_main(void *arg)
{
    killer *k = arg;
    PGconn *c = PQconnectdb(k->ci);
    char old[4096];
    double before[NODES];
    int seq;
    k->size_old = -1;
    pthread_mutex_lock(&k->m->mu);
    while (k->m->t_start == 0)
        pthread_cond_wait(&k->m->cond, &k->m->mu);
    pthread_mutex_unlock(&k->m->mu);
    while (prov_mono() < k->m->t_start + k->kill_after)
        usleep(5000);
    seq = find_sequencer(k->nodes, k->nn, 5);
    if (seq < 0 || PQstatus(c) != CONNECTION_OK) {
        if (seq >= 0)
            fprintf(stderr, "waybill-bench: failover: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    /* batches each other node has committed so far (as sequencer, earlier) */
    for (int i = 0; i < k->nn; i++)
        before[i] = i == seq ? 0 : node_metric(&k->nodes[i], "waybill_batches_total");
    if (node_backends(c, k->nodes[seq].pid, k->pg_port, old, sizeof(old)) != 0)
        snprintf(old, sizeof(old), "{}");
    kill(k->nodes[seq].pid, SIGKILL);
    k->t_kill = prov_mono();
    waitpid(k->nodes[seq].pid, NULL, 0);
    __atomic_store_n(&k->nodes[seq].pid, 0, __ATOMIC_RELEASE); /* node_metric skips it */
    k->killed = seq;
    /*
     * The tree the dead sequencer left. Its sessions end one by one: the
     * session lock is held by its leader thread's session, the batches are
     * written by its sequencer thread's session, which may still finish a
     * COMMIT it had been sent after the lock is gone and another node took
     * it. So: wait until every backend of the dead node has exited, read the
     * size, then check that no other node has committed a batch yet
     * (waybill_batches_total unchanged; it moves one round trip after a
     * commit, the check comes a request later). Every entry at or beyond
     * that size was sequenced by the new sequencer.
     */
    if (strcmp(old, "{}") != 0)
        while (prov_mono() < k->t_kill + 5) {
            long alive = backends_alive(c, old);
            long long size;
            int same = 1;
            if (alive < 0)
                break;
            if (alive > 0) {
                usleep(500);
                continue;
            }
            size = tree_size(c);
            for (int i = 0; i < k->nn; i++)
                if (i != seq && node_metric(&k->nodes[i], "waybill_batches_total") != before[i])
                    same = 0;
            if (same && size >= 0)
                k->size_old = size;
            break; /* else the new sequencer was faster: unknown */
        }
    PQfinish(c);
    k->next = find_sequencer(k->nodes, k->nn, 20);
    k->t_next = prov_mono();
    return NULL;
}

typedef struct {
    int killed, next;
    double to_sequencer;    /* kill -> another node says it is the sequencer */
    double to_new_201;      /* kill -> the first 201 of an entry the new one sequenced */
    double gap, gap_before; /* the longest stretch without a 201: around the kill, and
                               in the same window before it */
    long long size_old;
    size_t ok, transport;
} failover_result;

/* one round: load on the three nodes, the sequencer killed 1.5 s into the
 * window, restarted afterwards; 0 or -1 (reported) */
static int failover_round(failover_result *f, node *nodes, const char *waybill,
                          const char *keys, const char *ci, int pg_port,
                          const load_body *bodies,
                          size_t n, size_t *used, unsigned conns, double seconds)
{
    struct sockaddr_in addrs[NODES];
    load_params lp;
    load_result r;
    meter m;
    killer k;
    pthread_t th;
    service_key sk;
    wb_key *priv = NULL;
    char path[4400];
    int rc = -1;
    memset(f, 0, sizeof(*f));
    memset(&m, 0, sizeof(m));
    memset(&k, 0, sizeof(k));
    memset(&r, 0, sizeof(r));
    memset(&sk, 0, sizeof(sk));
    f->to_new_201 = -1;
    pthread_mutex_init(&m.mu, NULL);
    pthread_cond_init(&m.cond, NULL);
    m.nodes = nodes;
    m.nn = NODES;
    lp_init(&lp, addrs, nodes, NODES, conns, seconds);
    lp.mark = meter_mark;
    lp.mark_ctx = &m;
    lp.bodies = bodies + *used;
    lp.nbodies = n - *used;
    lp.keep_times = 1;
    lp.keep_every = 1; /* every receipt: which tree each entry went into */
    k.m = &m;
    k.nodes = nodes;
    k.nn = NODES;
    k.ci = ci;
    k.pg_port = pg_port;
    k.kill_after = seconds < 3 ? seconds / 2 : 1.5;
    k.killed = k.next = -1;
    if (pthread_create(&th, NULL, killer_main, &k) != 0) {
        fprintf(stderr, "waybill-bench: cannot start the failover thread\n");
        goto out;
    }
    if (load_run(&r, &lp) != 0) {
        /* the killer waits for the window: let it go */
        pthread_mutex_lock(&m.mu);
        if (m.t_start == 0)
            m.t_start = prov_mono() - 1e6;
        pthread_cond_broadcast(&m.cond);
        pthread_mutex_unlock(&m.mu);
        pthread_join(th, NULL);
        goto out;
    }
    pthread_join(th, NULL);
    f->killed = k.killed;
    f->next = k.next;
    f->ok = r.ok;
    f->transport = r.transport_errors;
    f->size_old = k.size_old;
    if (k.killed < 0 || k.next < 0) {
        fprintf(stderr, "waybill-bench: failover: %s\n",
                k.killed < 0 ? "no sequencer to kill" : "no node took over within 20 s");
        goto out;
    }
    f->to_sequencer = k.t_next - k.t_kill;
    /* the longest stretch without a 201 that ends after the kill, and the
     * longest before it */
    for (size_t i = 0; i < r.nt_ok; i++) {
        double prev = i ? r.t_ok[i - 1] : m.t_start, gap = r.t_ok[i] - prev;
        if (r.t_ok[i] > k.t_kill && gap > f->gap)
            f->gap = gap;
        if (r.t_ok[i] <= k.t_kill && gap > f->gap_before)
            f->gap_before = gap;
    }
    /* the first 201 after the kill whose entry is at or beyond the dead
     * sequencer's last tree: the new sequencer integrated it */
    snprintf(path, sizeof(path), "%s/service.key", keys);
    if (k.size_old >= 0 && wb_key_read_file(&priv, path) == 0 &&
        wb_key_public_copy(&sk.key, priv) == 0 && wb_key_default_kid(sk.kid, sk.key) == 0) {
        for (size_t i = 0; i < r.nreceipts; i++) {
            const load_receipt *lr = &r.receipts[i];
            const load_body *b = &lp.bodies[lr->body];
            wb_receipt_info info;
            if (lr->t <= k.t_kill)
                continue;
            if (wb_receipt_verify(&info, lr->receipt, lr->len, b->data, b->len,
                                  find_service_key, &sk) != 0) {
                fprintf(stderr, "waybill-bench: failover: a receipt does not verify: %s\n",
                        wb_error_message());
                goto out;
            }
            if (info.leaf_index >= (uint64_t)k.size_old) {
                f->to_new_201 = lr->t - k.t_kill;
                break;
            }
        }
    }
    rc = node_start(&nodes[k.killed], waybill, keys, ci, k.killed);
out:
    *used += r.sent;
    load_result_cleanup(&r);
    wb_key_free(priv);
    wb_key_free(sk.key);
    pthread_mutex_destroy(&m.mu);
    pthread_cond_destroy(&m.cond);
    return rc;
}

/* ---- the section ---- */

int bench_cluster(const char *waybill, const char *base, unsigned conns_opt,
                  double seconds_opt, size_t statements, const char *perf_file)
{
    bench_issuer is[BENCH_NISSUERS];
    bpg pg;
    node one, three[NODES], lite;
    config_result cr[3];
    failover_result fo[FAILOVERS];
    load_body *bodies = NULL;
    unsigned conns = conns_opt ? conns_opt : 512;
    double seconds = seconds_opt > 0 ? seconds_opt : 5.0, t0, t_section = prov_mono();
    size_t n = statements, used = 0;
    char keys[3][4300], ci_one[400], ci_three[400];
    int rc = 1, nfo = 0;
    pid_t perf = 0;

    memset(is, 0, sizeof(is));
    memset(&pg, 0, sizeof(pg));
    memset(&one, 0, sizeof(one));
    memset(&lite, 0, sizeof(lite));
    memset(three, 0, sizeof(three));
    memset(cr, 0, sizeof(cr));
    memset(fo, 0, sizeof(fo));
    if (n == 0) /* the three loads start over; the failover rounds continue (c) */
        n = (size_t)(16000.0 * (seconds + 1.0) * 2.0);

    printf("\n10. several nodes over PostgreSQL 15, all on this machine: durability full "
           "everywhere\n   (SQLite synchronous=FULL; PostgreSQL fsync=on, synchronous_commit=on)"
           ", %u connections,\n   1 s warm-up then %g s, the same statements into a fresh "
           "log each time\n", conns, seconds);
    {
        double b0m = prov_machine_busy(), t0m = prov_mono();
        usleep(500000);
        printf("   machine busy before this section (other processes): %.2f cores of %ld\n",
               (prov_machine_busy() - b0m) / (prov_mono() - t0m),
               sysconf(_SC_NPROCESSORS_ONLN));
    }
    t0 = prov_mono();
    if (pg_start(&pg) != 0)
        goto out;
    if (pg_createdb(&pg, "wb_one", ci_one, sizeof(ci_one)) != 0 ||
        pg_createdb(&pg, "wb_three", ci_three, sizeof(ci_three)) != 0)
        goto out;
    printf("   PostgreSQL 15 on 127.0.0.1:%d, initdb and start %.1f s\n", pg.port,
           prov_mono() - t0);

    if (bench_issuers_make(is) != 0)
        goto out;
    snprintf(keys[0], sizeof(keys[0]), "%s/cluster-sqlite", base);
    snprintf(keys[1], sizeof(keys[1]), "%s/cluster-pg1", base);
    snprintf(keys[2], sizeof(keys[2]), "%s/cluster-pg3", base);
    for (int k = 0; k < 3; k++)
        if (bench_issuers_write(is, keys[k]) != 0)
            goto out;
    bodies = calloc(n, sizeof(*bodies));
    t0 = prov_mono();
    if (!bodies || bench_sign_all(bodies, n, is, NULL, NULL) != 0) {
        fprintf(stderr, "waybill-bench: signing the statements failed\n");
        goto out;
    }
    {
        size_t total = 0;
        for (size_t i = 0; i < n; i++)
            total += bodies[i].len;
        printf("   pre-signed %zu ES256 statements from %d issuers in %.1f s, %.0f bytes "
               "each\n", n, BENCH_NISSUERS, prov_mono() - t0, (double)total / (double)n);
    }
    fflush(stdout);

    /* (a) SQLite */
    cr[0].label = "(a) SQLite, one node";
    if (node_start(&lite, waybill, keys[0], NULL, 0) != 0 ||
        measure(&cr[0], &lite, 1, NULL, keys[0], bodies, n, conns, seconds) != 0)
        goto out;
    node_stop(&lite, SIGTERM);
    print_config(&cr[0]);

    /* (b) PostgreSQL, one node */
    cr[1].label = "(b) PostgreSQL, one node";
    if (node_start(&one, waybill, keys[1], ci_one, 0) != 0)
        goto out;
    if (find_sequencer(&one, 1, 10) != 0) {
        fprintf(stderr, "waybill-bench: the PostgreSQL node never became the sequencer\n");
        goto out;
    }
    if (perf_file && prov_perf_start(&perf, one.pid, perf_file) != 0)
        perf = 0;
    if (measure(&cr[1], &one, 1, &pg, keys[1], bodies, n, conns, seconds) != 0)
        goto out;
    if (perf) {
        prov_perf_stop(perf);
        perf = 0;
        printf("   (perf profile of the node in (b), warm-up included: %s)\n", perf_file);
    }
    node_stop(&one, SIGTERM);
    print_config(&cr[1]);

    /* (c) PostgreSQL, three nodes; the first makes the keys and tables */
    cr[2].label = "(c) PostgreSQL, three nodes";
    for (int i = 0; i < NODES; i++)
        if (node_start(&three[i], waybill, keys[2], ci_three, i) != 0)
            goto out;
    if (find_sequencer(three, NODES, 10) < 0) {
        fprintf(stderr, "waybill-bench: no node of three became the sequencer\n");
        goto out;
    }
    if (measure(&cr[2], three, NODES, &pg, keys[2], bodies, n, conns, seconds) != 0)
        goto out;
    print_config(&cr[2]);
    /* the failover rounds go on in (c)'s log, after what it registered */
    used = cr[2].sent;
    printf("   => (b)/(a) = %.2f   (c)/(b) = %.2f   (c)/(a) = %.2f\n",
           cr[0].rate > 0 ? cr[1].rate / cr[0].rate : 0,
           cr[1].rate > 0 ? cr[2].rate / cr[1].rate : 0,
           cr[0].rate > 0 ? cr[2].rate / cr[0].rate : 0);
    fflush(stdout);

    /* failover */
    printf("   failover, %d rounds: (c) under the same load, the sequencer SIGKILLed 1.5 s "
           "into a\n   %g s window, then restarted as a follower:\n", FAILOVERS, seconds);
    for (int k = 0; k < FAILOVERS; k++) {
        failover_result *f = &fo[k];
        if (used + 1000 > n) {
            printf("     round %d: skipped, statements ran out (raise --cluster-statements)\n",
                   k + 1);
            break;
        }
        if (failover_round(f, three, waybill, keys[2], ci_three, pg.port, bodies, n, &used,
                           conns, seconds) != 0)
            goto out;
        nfo++;
        {
            char t201[64];
            if (f->to_new_201 >= 0)
                snprintf(t201, sizeof(t201), "%.3f s after the kill", f->to_new_201);
            else
                snprintf(t201, sizeof(t201), "unknown (it committed before the reading)");
            printf("     round %d: node %d killed; node %d the sequencer after %.3f s; the "
                   "first 201\n              of an entry it sequenced %s;\n"
                   "              no 201 for %.3f s (before the kill at most %.3f s); "
                   "%zu 201s,\n              %zu transport errors (the killed node's "
                   "connections)\n",
                   k + 1, f->killed, f->next, f->to_sequencer, t201, f->gap, f->gap_before,
                   f->ok, f->transport);
        }
        fflush(stdout);
    }
    if (nfo > 0) {
        double ms = 0, m201 = 0;
        for (int k = 0; k < nfo; k++) {
            ms = fo[k].to_sequencer > ms ? fo[k].to_sequencer : ms;
            m201 = fo[k].to_new_201 > m201 ? fo[k].to_new_201 : m201;
        }
        printf("   => failover, worst of %d: a new sequencer after %.3f s, the first 201 "
               "through it %.3f s after the kill\n", nfo, ms, m201);
    }
    rc = 0;
    for (int k = 0; k < 3; k++)
        if (cr[k].good != cr[k].sampled || cr[k].ok == 0)
            rc = 1;
    printf("   section 10: %.0f s\n", prov_mono() - t_section);
out:
    if (perf)
        prov_perf_stop(perf);
    node_stop(&lite, SIGTERM);
    node_stop(&one, SIGTERM);
    for (int i = 0; i < NODES; i++)
        node_stop(&three[i], SIGTERM);
    pg_stop(&pg);
    for (size_t i = 0; bodies && i < n; i++)
        free((void *)bodies[i].data);
    free(bodies);
    bench_issuers_free(is);
    fflush(stdout);
    return rc;
}
