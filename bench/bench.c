/*
 * bench.c: `make bench`: the log core's speed on this machine, each figure
 * next to a ceiling measured in the same run (machines are shared; ratios
 * travel, absolute numbers drift).
 *
 *   1. SHA-256 of 64-byte inputs: the ceiling for everything Merkle.
 *   2. Merkle append in memory (compact range), leaves/s, and its ratio to
 *      (1). Each leaf costs one leaf hash plus on average one node hash, so
 *      0.5 is the ideal.
 *   3. Durable append to SQLite (synchronous=FULL) with batches of 1, 100
 *      and 1,000 entries: entries/s and batches (fsync + signature)/s.
 *   4. Inclusion-proof generation from tiles on a log of 10^6 entries.
 *   5. Bytes on disk per entry in that log.
 *   6. The transparency service under load, next to the ES256 verification
 *      ceiling (service.c).
 *   7. Provenance at scale: a simulated fleet of 100,000 devices through the
 *      service, as a ratio to the bare rate of (6), and query latency at
 *      that size (prov_scale.c).
 *   8. Attestation: 10,000 simulated units challenged through the service,
 *      as a ratio to the machine's P-384 verification ceiling
 *      (attest_scale.c).
 *   9. Audit: a log of 10^6 signed statements audited from its store, as a
 *      ratio to the machine's Ed25519 verification ceiling (audit_scale.c;
 *      the entry count from WB_BENCH_AUDIT_ENTRIES or --audit-entries).
 *  10. Several nodes over PostgreSQL: registrations/s of one and of three
 *      `waybill serve` nodes sharing one PostgreSQL 15 on this machine, next
 *      to the SQLite single node, and the time to fail over when the
 *      sequencer is killed (cluster_scale.c).
 *
 * Usage: waybill-bench [--entries N] [--entry-size B] [--dir DIR]
 *                      [--waybill BIN] [--conns N] [--load-seconds S]
 *                      [--statements N] [--service-only]
 *                      [--prov-devices N] [--skip-prov] [--prov-only]
 *                      [--prov-perf FILE] [--skip-attest] [--attest-only]
 *                      [--audit-entries N] [--audit-threads N]
 *                      [--audit-perf FILE] [--skip-audit] [--audit-only]
 *                      [--cluster-seconds S] [--cluster-conns N]
 *                      [--cluster-statements N] [--cluster-perf FILE]
 *                      [--skip-cluster] [--cluster-only]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/log.h"
#include "waybill/merkle.h"

#include "prov_scale.h"
#include "service.h"

/* audit_scale.c: prints section 9 (an audit of entries entries on threads
   threads, 0: one per core; perf_file: a profile of it, may be NULL); 0, or
   1 on a failure already reported */
int bench_audit(const char *base, uint64_t entries, unsigned threads, const char *perf_file);
/* cluster_scale.c: prints section 10 (closed loops of conns connections,
   windows of seconds, 0: the defaults 512 and 5 s; statements to pre-sign,
   0: enough; perf_file: a profile of the one PostgreSQL node, may be NULL);
   0, or 1 on a failure already reported */
int bench_cluster(const char *waybill, const char *base, unsigned conns, double seconds,
                  size_t statements, const char *perf_file);

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "waybill-bench: %s: %s\n", what, wb_error_message());
    exit(1);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1DULL;
}

static double bench_sha256(void)
{
    uint8_t in[64] = {1}, out[32];
    double t0 = now(), t;
    uint64_t n = 0;
    do {
        for (int i = 0; i < 10000; i++) {
            wb_sha256(out, in, sizeof(in));
            in[0] = out[0];
        }
        n += 10000;
        t = now() - t0;
    } while (t < 1.0);
    return (double)n / t;
}

static double bench_merkle_append(int with_leaf_hash)
{
    wb_merkle_compact c;
    uint8_t leaf[32], entry[64] = {0};
    double t0 = now(), t;
    uint64_t n = 0;
    wb_merkle_compact_init(&c);
    memset(leaf, 7, sizeof(leaf));
    do {
        for (int i = 0; i < 10000; i++) {
            if (with_leaf_hash) {
                memcpy(entry, &n, sizeof(n));
                wb_merkle_leaf_hash(leaf, entry, sizeof(entry));
            } else {
                leaf[0] = (uint8_t)n;
            }
            wb_merkle_compact_append(&c, leaf, NULL, NULL);
            n++;
        }
        t = now() - t0;
    } while (t < 1.0);
    return (double)n / t;
}

static void make_entries(wb_entry *e, uint8_t *bufs, size_t n, size_t size)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < size; j++)
            bufs[i * size + j] = (uint8_t)rnd();
        e[i].data = bufs + i * size;
        e[i].len = size;
    }
}

static void bench_durable(const char *base, size_t entry_size)
{
    size_t batches[] = {1, 100, 1000};
    printf("\n3. durable append to SQLite (WAL, synchronous=FULL), %zu-byte entries\n",
           entry_size);
    printf("   %-10s %14s %14s\n", "batch", "entries/s", "batches/s");
    for (size_t b = 0; b < 3; b++) {
        char dir[4200];
        wb_log *log;
        size_t n = batches[b];
        wb_entry *e = calloc(n, sizeof(*e));
        uint8_t *bufs = malloc(n * entry_size);
        uint64_t done = 0, nb = 0;
        double t0, t;
        snprintf(dir, sizeof(dir), "%s/durable-%zu", base, n);
        if (wb_log_init(dir, "bench.waybill.dev/durable") != 0)
            die("init");
        if (wb_log_open(&log, dir, NULL) != 0)
            die("open");
        t0 = now();
        do {
            make_entries(e, bufs, n, entry_size);
            if (wb_log_append(log, e, n, NULL) != 0)
                die("append");
            done += n;
            nb++;
            t = now() - t0;
        } while (t < 2.0);
        printf("   %-10zu %14.0f %14.1f\n", n, (double)done / t, (double)nb / t);
        wb_log_close(log);
        free(e);
        free(bufs);
    }
}

static long long dir_bytes(const char *dir)
{
    const char *names[] = {"waybill.db", "waybill.db-wal", "waybill.db-shm"};
    long long total = 0;
    for (int i = 0; i < 3; i++) {
        char p[4400];
        struct stat sb;
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        if (stat(p, &sb) == 0)
            total += (long long)sb.st_size;
    }
    return total;
}

static void bench_proofs(const char *base, uint64_t total, size_t entry_size)
{
    char dir[4200];
    wb_log *log;
    wb_log_options opt = {.sync_normal = 1};
    size_t batch = 10000;
    wb_entry *e = calloc(batch, sizeof(*e));
    uint8_t *bufs = malloc(batch * entry_size);
    uint8_t proof[WB_MERKLE_MAX_PROOF][32];
    size_t np;
    double t0, t, tbuild;
    uint64_t n = 0, size;
    long long bytes;

    snprintf(dir, sizeof(dir), "%s/proofs", base);
    if (wb_log_init(dir, "bench.waybill.dev/proofs") != 0)
        die("init");
    if (wb_log_open(&log, dir, &opt) != 0)
        die("open");
    printf("\n4. a log of %llu entries of %zu bytes (batches of %zu)\n",
           (unsigned long long)total, entry_size, batch);
    t0 = now();
    while (n < total) {
        size_t k = total - n < batch ? (size_t)(total - n) : batch;
        make_entries(e, bufs, k, entry_size);
        if (wb_log_append(log, e, k, NULL) != 0)
            die("append");
        n += k;
        if (isatty(fileno(stderr)))
            fprintf(stderr, "\r   building: %llu / %llu", (unsigned long long)n,
                    (unsigned long long)total);
    }
    tbuild = now() - t0;
    if (isatty(fileno(stderr)))
        fprintf(stderr, "\r%40s\r", "");
    printf("   built in %.1f s (%.0f entries/s, synchronous=NORMAL)\n", tbuild,
           (double)total / tbuild);
    if (wb_log_head(log, &size, NULL, NULL, NULL) != 0)
        die("head");

    n = 0;
    t0 = now();
    do {
        for (int i = 0; i < 200; i++) {
            uint64_t idx = rnd() % size;
            if (wb_log_inclusion_proof(log, proof, &np, idx, size) != 0)
                die("proof");
            n++;
        }
        t = now() - t0;
    } while (t < 2.0);
    printf("   inclusion proofs from tiles, random index: %.0f proofs/s\n", (double)n / t);
    /* consecutive indexes, as when a batch's receipts are made */
    n = 0;
    t0 = now();
    do {
        uint64_t start = rnd() % (size - 1000);
        for (uint64_t i = start; i < start + 1000; i++) {
            if (wb_log_inclusion_proof(log, proof, &np, i, size) != 0)
                die("proof");
            n++;
        }
        t = now() - t0;
    } while (t < 2.0);
    printf("   inclusion proofs from tiles, 1,000 consecutive indexes: %.0f proofs/s\n",
           (double)n / t);
    wb_log_close(log);

    /* fold the WAL into the database so the file sizes are final */
    {
        char cmd[9000];
        snprintf(cmd, sizeof(cmd),
                 "sqlite3 '%s/waybill.db' 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null 2>&1",
                 dir);
        if (system(cmd) != 0) { /* sqlite3 CLI is optional; sizes then include the WAL */
        }
    }
    bytes = dir_bytes(dir);
    printf("\n5. bytes on disk: %lld for %llu entries = %.1f bytes/entry "
           "(%zu of entry, %.1f of tiles, bundles' length prefix, checkpoints, index)\n",
           bytes, (unsigned long long)total, (double)bytes / (double)total, entry_size,
           (double)bytes / (double)total - (double)entry_size);
    free(e);
    free(bufs);
}

int main(int argc, char **argv)
{
    uint64_t entries = 1000000;
    size_t entry_size = 256;
    const char *base = NULL;
    char tmp[] = "/tmp/waybill-bench.XXXXXX";
    struct utsname u;
    double sha, app, app_leaf;
    bench_service_opts so = {0};
    bench_prov_opts po = {0};
    char self[4096], waybill[4200];
    int service_only = 0, skip_prov = 0, prov_only = 0, skip_attest = 0, attest_only = 0,
        skip_audit = 0, audit_only = 0, skip_cluster = 0, cluster_only = 0, rc = 0;
    const char *audit_env = getenv("WB_BENCH_AUDIT_ENTRIES"), *audit_perf = NULL;
    unsigned audit_threads = 0, cluster_conns = 0;
    double cluster_seconds = 0;
    size_t cluster_statements = 0;
    const char *cluster_perf = NULL;
    uint64_t audit_entries = audit_env && *audit_env ? strtoull(audit_env, NULL, 10) : 1000000;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--entries") == 0 && i + 1 < argc)
            entries = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--entry-size") == 0 && i + 1 < argc)
            entry_size = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            base = argv[++i];
        else if (strcmp(argv[i], "--waybill") == 0 && i + 1 < argc)
            so.waybill = argv[++i];
        else if (strcmp(argv[i], "--conns") == 0 && i + 1 < argc)
            so.conns = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--load-seconds") == 0 && i + 1 < argc)
            so.seconds = strtod(argv[++i], NULL);
        else if (strcmp(argv[i], "--statements") == 0 && i + 1 < argc)
            so.statements = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--service-only") == 0)
            service_only = 1;
        else if (strcmp(argv[i], "--prov-devices") == 0 && i + 1 < argc)
            po.devices = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--skip-prov") == 0)
            skip_prov = 1;
        else if (strcmp(argv[i], "--prov-only") == 0)
            prov_only = 1;
        else if (strcmp(argv[i], "--prov-perf") == 0 && i + 1 < argc)
            po.perf_file = argv[++i];
        else if (strcmp(argv[i], "--skip-attest") == 0)
            skip_attest = 1;
        else if (strcmp(argv[i], "--attest-only") == 0)
            attest_only = 1;
        else if (strcmp(argv[i], "--audit-entries") == 0 && i + 1 < argc)
            audit_entries = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--audit-threads") == 0 && i + 1 < argc)
            audit_threads = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--audit-perf") == 0 && i + 1 < argc)
            audit_perf = argv[++i];
        else if (strcmp(argv[i], "--skip-audit") == 0)
            skip_audit = 1;
        else if (strcmp(argv[i], "--audit-only") == 0)
            audit_only = 1;
        else if (strcmp(argv[i], "--cluster-seconds") == 0 && i + 1 < argc)
            cluster_seconds = strtod(argv[++i], NULL);
        else if (strcmp(argv[i], "--cluster-conns") == 0 && i + 1 < argc)
            cluster_conns = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--cluster-statements") == 0 && i + 1 < argc)
            cluster_statements = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--cluster-perf") == 0 && i + 1 < argc)
            cluster_perf = argv[++i];
        else if (strcmp(argv[i], "--skip-cluster") == 0)
            skip_cluster = 1;
        else if (strcmp(argv[i], "--cluster-only") == 0)
            cluster_only = 1;
        else {
            fprintf(stderr, "usage: waybill-bench [--entries N] [--entry-size B] "
                            "[--dir DIR]\n"
                            "                     [--waybill BIN] [--conns N] "
                            "[--load-seconds S]\n"
                            "                     [--statements N] [--service-only]\n"
                            "                     [--prov-devices N] [--skip-prov] "
                            "[--prov-only]\n"
                            "                     [--prov-perf FILE] [--skip-attest] "
                            "[--attest-only]\n"
                            "                     [--audit-entries N] [--audit-threads N]\n"
                            "                     [--audit-perf FILE] [--skip-audit] "
                            "[--audit-only]\n"
                            "                     [--cluster-seconds S] [--cluster-conns N]\n"
                            "                     [--cluster-statements N] "
                            "[--cluster-perf FILE]\n"
                            "                     [--skip-cluster] [--cluster-only]\n");
            return 2;
        }
    }
    if (!so.waybill) {
        /* the waybill binary is built next to waybill-bench */
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        char *slash;
        self[n > 0 ? n : 0] = '\0';
        slash = strrchr(self, '/');
        if (slash)
            *slash = '\0';
        snprintf(waybill, sizeof(waybill), "%s/waybill", slash ? self : ".");
        so.waybill = waybill;
    }
    if (entry_size < 1 || entry_size > WB_ENTRY_MAX || entries < 1 || audit_entries < 1) {
        fprintf(stderr, "waybill-bench: bad --entries, --entry-size or --audit-entries\n");
        return 2;
    }
    if (!base) {
        if (!mkdtemp(tmp)) {
            perror("mkdtemp");
            return 1;
        }
        base = tmp;
    }
    uname(&u);
    printf("waybill-bench on %s %s, %ld cores\n", u.nodename, u.machine,
           sysconf(_SC_NPROCESSORS_ONLN));

    if (cluster_only)
        goto cluster;
    if (audit_only)
        goto audit;
    if (attest_only)
        goto attest;
    if (prov_only)
        goto prov;
    if (service_only)
        goto service;
    sha = bench_sha256();
    printf("\n1. SHA-256, 64-byte inputs: %.0f hashes/s  (the ceiling)\n", sha);
    app = bench_merkle_append(0);
    app_leaf = bench_merkle_append(1);
    printf("\n2. Merkle append in memory (compact range):\n"
           "   from leaf hashes:          %12.0f leaves/s = %.2f x SHA-256 rate (ideal 1.0)\n"
           "   hashing 64-byte entries:   %12.0f leaves/s = %.2f x SHA-256 rate (ideal 0.5)\n",
           app, app / sha, app_leaf, app_leaf / sha);
    bench_durable(base, entry_size);
    bench_proofs(base, entries, entry_size);

service:
    so.base = base;
    so.rate_out = &po.bare_rate;
    so.bytes_out = &po.bare_bytes;
    rc = bench_service(&so);

prov:
    if (!skip_prov) {
        po.waybill = so.waybill;
        po.base = base;
        rc |= bench_prov(&po);
    }

attest:
    if (!skip_attest)
        rc |= bench_attest(so.waybill, base);

audit:
    /* --attest-only runs section 8 alone */
    if (!skip_audit && (audit_only || !attest_only))
        rc |= bench_audit(base, audit_entries, audit_threads, audit_perf);

cluster:
    /* --attest-only and --audit-only run their section alone */
    if (!skip_cluster && (cluster_only || (!attest_only && !audit_only)))
        rc |= bench_cluster(so.waybill, base, cluster_conns, cluster_seconds,
                            cluster_statements, cluster_perf);

    if (base == tmp) {
        char cmd[200];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "waybill-bench: could not remove %s\n", tmp);
    }
    return rc;
}
