/*
 * statements.c: the pre-signed registrations of sections 6, 7 (its bare
 * rate) and 10 of `make bench` (service.h): 50 ES256 issuers registered the
 * development-mode way (public PEM files in DIR/issuers) and distinct signed
 * statements (RFC 9943: alg, cty, CWT iss/sub/iat, kid) whose payloads are
 * ~470-byte JSON device records, signed on every core before any timing.
 */
#include "service.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "waybill/error.h"
#include "waybill/scitt.h"
#include "waybill/util.h"

/* not application/vnd.waybill.<kind>+json: since the provenance layer
 * (issue 5) the server would parse such a payload as a provenance statement
 * of that kind and refuse these plain device records and their signers */
#define CONTENT_TYPE "application/json"

int bench_issuers_make(bench_issuer *is)
{
    memset(is, 0, BENCH_NISSUERS * sizeof(*is));
    for (int i = 0; i < BENCH_NISSUERS; i++) {
        snprintf(is[i].iss, sizeof(is[i].iss), "https://supplier-%02d.example", i);
        if (wb_key_generate(&is[i].key, WB_ALG_ES256) != 0 ||
            wb_cose_signer_for_key(&is[i].signer, is[i].key) != 0 ||
            wb_key_default_kid(is[i].kid, is[i].key) != 0) {
            fprintf(stderr, "waybill-bench: issuer %d: %s\n", i, wb_error_message());
            return -1;
        }
    }
    return 0;
}

int bench_issuers_write(const bench_issuer *is, const char *dir)
{
    char path[4400];
    snprintf(path, sizeof(path), "%.4300s/issuers", dir);
    if (mkdir(dir, 0755) != 0 || mkdir(path, 0755) != 0) {
        fprintf(stderr, "waybill-bench: mkdir %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (int i = 0; i < BENCH_NISSUERS; i++) {
        snprintf(path, sizeof(path), "%.4300s/issuers/supplier-%02d.pem", dir, i);
        if (wb_key_write_file(is[i].key, path, 0) != 0) {
            fprintf(stderr, "waybill-bench: %s: %s\n", path, wb_error_message());
            return -1;
        }
    }
    return 0;
}

void bench_issuers_free(bench_issuer *is)
{
    for (int i = 0; i < BENCH_NISSUERS; i++)
        wb_key_free(is[i].key);
}

typedef struct {
    const bench_issuer *issuers;
    load_body *bodies;
    size_t from, to;
    size_t payload_bytes;
    int failed;
    char err[256];
} sign_job;

/* statement i: a device manifest of issuer i % BENCH_NISSUERS, distinct per i */
static int make_statement(load_body *out, const bench_issuer *is, size_t i, size_t *plen)
{
    static const char *classes[] = {"cpu", "bmc", "nic", "ssd", "psu", "hsm"};
    uint8_t seed[48], dev[32], rot[32], fw[48];
    char devhex[65], rothex[65], fwhex[97], sub[80], payload[700];
    uint8_t *stmt = NULL;
    size_t slen = 0;
    wb_cose_headers h;
    int n, rc;

    memset(seed, 0, sizeof(seed));
    memcpy(seed, &i, sizeof(i));
    memcpy(seed + 8, is->kid, 32);
    wb_sha256(dev, seed, sizeof(seed));
    seed[47] = 1;
    wb_sha256(rot, seed, sizeof(seed));
    wb_sha384(fw, dev, sizeof(dev));
    wb_hex_encode(devhex, dev, 32);
    wb_hex_encode(rothex, rot, 32);
    wb_hex_encode(fwhex, fw, 48);
    n = snprintf(payload, sizeof(payload),
                 "{\"kind\":\"manifest\",\"device\":\"%s\",\"class\":\"%s\","
                 "\"manufacturer\":\"%s\",\"model\":\"WB-%04zu\",\"serial\":\"SN-%010zu\","
                 "\"rot\":{\"alg\":\"ES256\",\"spki_sha256\":\"%s\"},"
                 "\"firmware\":{\"version\":\"%zu.%zu.%zu\",\"sha384\":\"%s\"},"
                 "\"made\":\"2026-11-%02zuT%02zu:%02zu:00Z\"}",
                 devhex, classes[i % 6], is->iss, i % 9973, i, rothex, i % 7, i % 13,
                 i % 101, fwhex, 1 + i % 28, i % 24, i % 60);
    if (n < 0 || (size_t)n >= sizeof(payload))
        return wb_error_set(WB_E_INTERNAL, "payload too long");
    snprintf(sub, sizeof(sub), "device:%s", devhex);
    wb_cose_headers_init(&h);
    h.alg = is->signer.alg;
    h.cty = CONTENT_TYPE;
    h.has_cwt = 1;
    h.iss = is->iss;
    h.sub = sub;
    h.iat = 1795651200 + (int64_t)i; /* 2026-11-26 onwards */
    h.kid.ptr = is->kid;
    h.kid.len = 32;
    rc = wb_cose_sign1_create(&stmt, &slen, &h, NULL, 0, (const uint8_t *)payload,
                              (size_t)n, 0, &is->signer);
    if (rc)
        return rc;
    out->data = stmt;
    out->len = slen;
    *plen = (size_t)n;
    return 0;
}

static void *sign_main(void *arg)
{
    sign_job *j = arg;
    for (size_t i = j->from; i < j->to && !j->failed; i++) {
        size_t plen = 0;
        if (make_statement(&j->bodies[i], &j->issuers[i % BENCH_NISSUERS], i, &plen) != 0) {
            j->failed = 1;
            snprintf(j->err, sizeof(j->err), "%s", wb_error_message());
        }
        j->payload_bytes += plen;
    }
    return NULL;
}

int bench_sign_all(load_body *bodies, size_t n, const bench_issuer *is, double *avg_stmt,
                   double *avg_payload)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nt = ncpu > 0 ? (size_t)ncpu : 1, total = 0, ptotal = 0;
    sign_job jobs[64];
    pthread_t tids[64];
    int rc = 0;
    if (nt > 64)
        nt = 64;
    for (size_t t = 0; t < nt; t++) {
        memset(&jobs[t], 0, sizeof(jobs[t]));
        jobs[t].issuers = is;
        jobs[t].bodies = bodies;
        jobs[t].from = n * t / nt;
        jobs[t].to = n * (t + 1) / nt;
        if (pthread_create(&tids[t], NULL, sign_main, &jobs[t]) != 0) {
            sign_main(&jobs[t]); /* on this thread, then */
            tids[t] = 0;
        }
    }
    for (size_t t = 0; t < nt; t++) {
        if (tids[t])
            pthread_join(tids[t], NULL);
        if (jobs[t].failed) {
            fprintf(stderr, "waybill-bench: signing: %s\n", jobs[t].err);
            rc = -1;
        }
        ptotal += jobs[t].payload_bytes;
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        total += bodies[i].len;
    if (avg_stmt)
        *avg_stmt = n ? (double)total / (double)n : 0;
    if (avg_payload)
        *avg_payload = n ? (double)ptotal / (double)n : 0;
    return rc;
}
