/*
 * audit_scale.c: section 9 of `make bench`, the independent audit at scale
 * (issue 7, "Benchmark"; docs/performance.md, "Audit"): a log of 10^6
 * entries audited end to end, in entries/s and as a ratio to the machine's
 * Ed25519 verification ceiling measured in the same run.
 *
 *   1. The log, built directly with the library (no server), and not in
 *      the rates: wb_log_init in a scratch directory, then N signed
 *      statements appended in batches of 10,000 (synchronous=NORMAL). Each
 *      is a COSE_Sign1 as RFC 9943 profiles it (alg EdDSA, cty
 *      application/json, CWT iss/sub/iat, kid = wb_key_default_kid), all
 *      signed by one Ed25519 key with a distinct sub and a ~200-byte JSON
 *      payload; with no unprotected header it is its own registered
 *      statement. Each batch is signed on every core (wb_parallel_for),
 *      then appended; both times are printed.
 *   2. The ceiling: one thread per core verifying one fixed Ed25519
 *      signature over a statement-sized message (bench_verify_ceiling),
 *      1 s before the audit, 0.25 s every 2 s during it (between two
 *      chunks, taken out of the audit's time: see sampler) and 1 s after;
 *      the ceiling is the mean over all samples, so it follows the drift
 *      of a shared machine through the audit.
 *   3. The audit: wb_audit_run over wb_audit_source_store(dir) with the
 *      log's note key and the one Ed25519 issuer key as the trust, a fresh
 *      state file, signatures on one thread per core (counted here: see
 *      bench_audit), default chunk.
 *      What it does per entry: read it from its bundle, leaf hash, every
 *      tile hash, COSE decode, the statement profile, one Ed25519
 *      verification, the entry row of the auditor's fleet state, the leaf
 *      hash kept in its state file.
 *   Figures: entries/s, MB/s of entries read, entries/s / ceiling (one
 *   verification per entry, so 1.0 is the most an audit bound by
 *   signatures could do on these cores), CPU of this process over wall
 *   time, state file bytes per entry. The report must say ok and count
 *   every statement as verified, or the section fails.
 *
 * Knobs: the entry count (WB_BENCH_AUDIT_ENTRIES or --audit-entries,
 * default 10^6), the signing and verification threads (--audit-threads,
 * default one per core) and a perf profile of the audit (--audit-perf
 * FILE).
 */
#include "prov_scale.h"
#include "service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "waybill/audit.h"
#include "waybill/cose.h"
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/log.h"
#include "waybill/note.h"
#include "waybill/scitt.h"
#include "waybill/util.h"

#define AUDIT_BATCH 10000
#define AUDIT_ISS "audit-bench.example"
#define AUDIT_ORIGIN "bench.waybill.dev/audit"

typedef struct {
    const wb_cose_signer *signer;
    const uint8_t *kid;      /* 32 bytes */
    int64_t iat;
    uint64_t first;          /* log index of slot 0 */
    uint8_t **out;           /* per slot, malloc'd by wb_cose_sign1_create */
    size_t *len;
} sign_ctx;

/* statement first + i: a distinct sub, a ~200-byte JSON device record */
static int sign_one(void *vctx, size_t i)
{
    sign_ctx *c = vctx;
    uint64_t n = c->first + i;
    char sub[32], payload[320], digest_hex[65];
    uint8_t digest[32];
    wb_cose_headers h;
    int len;

    wb_sha256(digest, &n, sizeof(n));
    wb_hex_encode(digest_hex, digest, 16);
    snprintf(sub, sizeof(sub), "device-%08llu", (unsigned long long)n);
    len = snprintf(payload, sizeof(payload),
                   "{\"device\":\"%s\",\"model\":\"XR-7 blade\",\"serial\":\"SN-%s\","
                   "\"site\":\"fra-1\",\"rack\":\"r%04llu\",\"slot\":%llu,"
                   "\"state\":\"in-service\",\"firmware\":\"2.14.1\","
                   "\"seen\":\"2026-11-26T10:00:00Z\"}",
                   sub, digest_hex, (unsigned long long)(n / 40),
                   (unsigned long long)(n % 40));
    if (len < 0 || (size_t)len >= sizeof(payload))
        return wb_error_set(WB_E_INTERNAL, "payload of statement %llu too long",
                            (unsigned long long)n);
    wb_cose_headers_init(&h);
    h.alg = c->signer->alg;
    h.cty = "application/json";
    h.has_cwt = 1;
    h.iss = AUDIT_ISS;
    h.sub = sub;
    h.iat = c->iat + (int64_t)(n / 1000);
    h.kid.ptr = c->kid;
    h.kid.len = 32;
    return wb_cose_sign1_create(&c->out[i], &c->len[i], &h, NULL, 0, (const uint8_t *)payload,
                                (size_t)len, 0, c->signer);
}

static long long file_bytes(const char *path)
{
    char p[4600];
    struct stat sb;
    long long total = 0;
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        if (stat(p, &sb) == 0)
            total += (long long)sb.st_size;
    }
    return total;
}

/*
 * The ceiling, sampled through the audit: the audit calls progress on its
 * own thread between chunks, when no verification thread runs, so a short
 * sample there sees the machine the audit sees; its wall and CPU time are
 * taken out of the audit's. (Two 2 s samples before and after the audit
 * differed by up to 2x on this shared machine.)
 */
typedef struct {
    int tty;
    size_t msg_len;
    double next_at;          /* the next sample in the audit */
    double spent, spent_cpu; /* wall and CPU seconds of the samples */
    double verifs, sampled;  /* verifications (rate x seconds), seconds */
    double lo, hi;           /* slowest and fastest sample, verifications/s */
    int n, threads, failed;
} sampler;

#define SAMPLE_EVERY 2.0     /* seconds of audit between samples */
#define SAMPLE_SECONDS 0.25

static void sample(sampler *s, double seconds)
{
    double t0 = prov_mono(), c0 = prov_self_cpu();
    double r = bench_verify_ceiling(WB_ALG_ED25519, seconds, s->msg_len, &s->threads);
    s->spent += prov_mono() - t0;
    s->spent_cpu += prov_self_cpu() - c0;
    if (r <= 0) {
        s->failed = 1;
        return;
    }
    s->verifs += r * seconds;
    s->sampled += seconds;
    s->lo = s->n == 0 || r < s->lo ? r : s->lo;
    s->hi = s->n == 0 || r > s->hi ? r : s->hi;
    s->n++;
}

static void progress(void *ctx, uint64_t done, uint64_t total, uint64_t first)
{
    sampler *s = ctx;
    (void)first;
    if (s->tty)
        fprintf(stderr, "\r   auditing: %llu / %llu", (unsigned long long)done,
                (unsigned long long)total);
    if (!s->failed && done < total && prov_mono() >= s->next_at) {
        sample(s, SAMPLE_SECONDS);
        s->next_at = prov_mono() + SAMPLE_EVERY;
    }
}

/* builds the log in dir; the public trust out of it; entry bytes in *bytes */
static int build_log(const char *dir, uint64_t total, unsigned nthreads, const wb_key *key,
                     wb_audit_trust *t, uint64_t *bytes)
{
    wb_log *log = NULL;
    wb_log_options lo;
    wb_cose_signer signer;
    uint8_t kid[32];
    uint8_t **out = calloc(AUDIT_BATCH, sizeof(*out));
    size_t *len = calloc(AUDIT_BATCH, sizeof(*len));
    wb_entry *e = calloc(AUDIT_BATCH, sizeof(*e));
    sign_ctx c;
    double t0 = prov_mono(), c0 = prov_self_cpu(), tsign = 0, tappend = 0;
    char *vstr = NULL;
    uint64_t n = 0;
    int rc = 0;

    *bytes = 0;
    if (!out || !len || !e) {
        rc = wb_error_set(WB_E_NOMEM, "out of memory");
        goto out;
    }
    memset(&lo, 0, sizeof(lo));
    lo.sync_normal = 1;
    if ((rc = wb_log_init(dir, AUDIT_ORIGIN)) != 0 ||
        (rc = wb_log_open(&log, dir, &lo)) != 0 ||
        (rc = wb_cose_signer_for_key(&signer, key)) != 0 ||
        (rc = wb_key_default_kid(kid, key)) != 0)
        goto out;
    c = (sign_ctx){&signer, kid, (int64_t)time(NULL), 0, out, len};
    while (rc == 0 && n < total) {
        size_t k = total - n < AUDIT_BATCH ? (size_t)(total - n) : AUDIT_BATCH;
        double s0 = prov_mono();
        c.first = n;
        rc = wb_parallel_for(nthreads, k, sign_one, &c, NULL, NULL);
        tsign += prov_mono() - s0;
        for (size_t i = 0; rc == 0 && i < k; i++) {
            e[i].data = out[i];
            e[i].len = len[i];
            *bytes += len[i];
        }
        s0 = prov_mono();
        if (rc == 0)
            rc = wb_log_append(log, e, k, NULL);
        tappend += prov_mono() - s0;
        for (size_t i = 0; i < k; i++) {
            free(out[i]);
            out[i] = NULL;
        }
        n += k;
        if (isatty(fileno(stderr)))
            fprintf(stderr, "\r   building: %llu / %llu", (unsigned long long)n,
                    (unsigned long long)total);
    }
    if (isatty(fileno(stderr)))
        fprintf(stderr, "\r%50s\r", "");
    if (rc)
        goto out;
    printf("   log built in %.1f s (not in the rates): signing %.1f s on all cores "
           "(%.0f statements/s), appending %.1f s (%.0f entries/s, batches of %d, "
           "synchronous=NORMAL); %.2f cores\n",
           prov_mono() - t0, tsign, (double)total / tsign, tappend, (double)total / tappend,
           AUDIT_BATCH, (prov_self_cpu() - c0) / (prov_mono() - t0));
    printf("   signing on %u threads\n", nthreads);
    /* the auditor's trust: the log's note key as a verifier string, as an
       auditor would be given it, and the issuer's public key */
    if ((rc = wb_note_verifier_string(&vstr, wb_log_verifier(log))) != 0 ||
        (rc = wb_note_verifier_parse(&t->log_key, vstr, strlen(vstr))) != 0)
        goto out;
    t->issuers = calloc(1, sizeof(*t->issuers));
    if (!t->issuers) {
        rc = wb_error_set(WB_E_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = wb_key_public_copy(&t->issuers[0], key)) != 0)
        goto out;
    t->nissuers = 1;
out:
    free(vstr);
    wb_log_close(log);
    free(out);
    free(len);
    free(e);
    return rc;
}

int bench_audit(const char *base, uint64_t total, unsigned nthreads, const char *perf_file)
{
    char dir[4200], state[4300];
    wb_key *key = NULL;
    wb_audit_trust t;
    wb_audit_source src;
    wb_audit_options o;
    wb_audit_report rep;
    uint64_t bytes = 0;
    double ceiling, t0, c0, b0, s0, sc0, wall, cpu, busy, rate;
    sampler smp;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int threads, rc = 1, have_src = 0;
    pid_t perf = 0;
    long long state_bytes;

    memset(&t, 0, sizeof(t));
    memset(&rep, 0, sizeof(rep));
    printf("\n9. Audit: a log of %llu signed statements (Ed25519), audited from its "
           "store\n", (unsigned long long)total);
    snprintf(dir, sizeof(dir), "%s/audit-log", base);
    snprintf(state, sizeof(state), "%s/audit-state.db", base);
    /* wb_parallel_for takes 0 threads as 1, and wb_audit_run passes its
       threads through to it, so "0: cores" (waybill/audit.h) would audit on
       one thread: the cores are counted here (docs/performance.md, "Audit") */
    if (nthreads == 0)
        nthreads = ncpu > 0 ? (unsigned)ncpu : 1;
    if (wb_key_generate(&key, WB_ALG_ED25519) != 0 ||
        build_log(dir, total, nthreads, key, &t, &bytes) != 0) {
        fprintf(stderr, "waybill-bench: audit log: %s\n", wb_error_message());
        goto out;
    }

    /* the ceiling over a statement-sized message: 1 s before the audit,
       samples through it, 1 s after */
    memset(&smp, 0, sizeof(smp));
    smp.tty = isatty(fileno(stderr));
    smp.msg_len = (size_t)(bytes / total);
    sample(&smp, 1.0);
    if (smp.failed)
        goto out;
    if (wb_audit_source_store(&src, dir) != 0) {
        fprintf(stderr, "waybill-bench: audit source: %s\n", wb_error_message());
        goto out;
    }
    have_src = 1;
    memset(&o, 0, sizeof(o));
    o.state_path = state;
    o.threads = nthreads;
    o.progress = progress;
    o.progress_ctx = &smp;
    if (perf_file && prov_perf_start(&perf, getpid(), perf_file) != 0)
        perf = 0;
    t0 = prov_mono();
    c0 = prov_self_cpu();
    b0 = prov_machine_busy();
    s0 = smp.spent;
    sc0 = smp.spent_cpu;
    smp.next_at = t0 + SAMPLE_EVERY;
    if (wb_audit_run(&rep, &src, &t, &o) != 0) {
        fprintf(stderr, "\nwaybill-bench: audit: %s\n", wb_error_message());
        if (perf)
            prov_perf_stop(perf);
        goto out;
    }
    /* the samples taken out: they ran while the audit waited */
    wall = prov_mono() - t0 - (smp.spent - s0);
    busy = prov_machine_busy();
    busy = busy >= 0 && b0 >= 0 ? busy - b0 - (smp.spent_cpu - sc0) : -1;
    cpu = prov_self_cpu() - c0 - (smp.spent_cpu - sc0);
    if (perf)
        prov_perf_stop(perf);
    if (isatty(fileno(stderr)))
        fprintf(stderr, "\r%50s\r", "");
    sample(&smp, 1.0);
    if (smp.failed)
        goto out;
    ceiling = smp.verifs / smp.sampled;
    threads = smp.threads;
    rate = (double)rep.size / wall;
    state_bytes = file_bytes(state);

    printf("   Ed25519 verification ceiling (the same run): %.0f verifications/s on %d "
           "threads (%d samples before, during and after the audit, %.2f s in all: %.0f to "
           "%.0f)\n",
           ceiling, threads, smp.n, smp.sampled, smp.lo, smp.hi);
    printf("   entries: %llu, %.1f bytes on average (%.1f MB)\n",
           (unsigned long long)total, (double)bytes / (double)total, (double)bytes / 1e6);
    printf("   audit (%u verification threads): %llu entries in %.1f s = %.0f entries/s, "
           "%.1f MB/s of entries\n", nthreads, (unsigned long long)rep.size, wall, rate,
           (double)bytes / 1e6 / wall);
    printf("   entries/s / Ed25519 ceiling = %.3f  (1 verification per entry; 1.0: bound "
           "by signatures)\n", rate / ceiling);
    printf("   CPU: the audit %.2f cores of %d, the rest of the machine %.2f\n", cpu / wall,
           threads, busy >= 0 ? (busy - cpu) / wall : 0.0);
    /* what the ratio is made of, in CPU time (which other processes on the
       machine do not inflate): the audit's CPU per entry against the CPU of
       one ceiling verification, and the cores the audit kept busy */
    printf("   per entry: %.1f us of CPU = %.2f x one ceiling verification (%.1f us of "
           "CPU); %.2f of %d cores busy\n", cpu * 1e6 / (double)rep.size,
           cpu / (double)rep.size / (smp.spent_cpu / smp.verifs),
           smp.spent_cpu * 1e6 / smp.verifs, cpu / wall, threads);
    if (busy >= 0 && (busy - cpu) / wall > 0.2)
        printf("   NOTE: other processes used %.2f cores during the audit: the ceiling and "
               "the audit did not see the same machine\n", (busy - cpu) / wall);
    printf("   auditor state file: %lld bytes = %.1f bytes per entry\n", state_bytes,
           (double)state_bytes / (double)total);
    {
        int clean = rep.failure == WB_AUDIT_OK && rep.size == total &&
                    rep.statements == total && rep.unknown == 0;
        printf("   %s: verdict %s, size %llu, %llu signatures verified, %llu unknown "
               "signers%s%s\n", clean ? "clean" : "NOT CLEAN",
               wb_audit_failure_name(rep.failure), (unsigned long long)rep.size,
               (unsigned long long)rep.statements, (unsigned long long)rep.unknown,
               rep.reason[0] ? ": " : "", rep.reason);
        rc = clean ? 0 : 1;
    }
out:
    if (have_src)
        wb_audit_source_cleanup(&src);
    wb_audit_trust_cleanup(&t);
    wb_key_free(key);
    return rc;
}
