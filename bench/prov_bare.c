/*
 * prov_bare.c: the bare registration rate for section 7 when section 6 did
 * not run in the same process (`--prov-only`): the same kind of load as
 * section 6's closed loop (service.c), shorter. 50 ES256 issuers registered
 * the dev-mode way (public PEM in DIR/issuers), distinct statements with
 * ~470-byte JSON device records pre-signed on every core, then 512
 * keep-alive connections in a closed loop (loadgen.c) against a fresh
 * `waybill serve --dev DIR`.
 *
 * The content type is plain application/json: these statements are not
 * provenance statements, so the fleet rules of the server do not apply to
 * them; that is what "bare" means here.
 */
#include "prov_scale.h"
#include "service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "waybill/cose.h"
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/scitt.h"
#include "waybill/util.h"

#define NISSUERS 50
#define CONNS 512

typedef struct {
    wb_key *key;
    wb_cose_signer signer;
    uint8_t kid[32];
    char iss[64];
} issuer;

typedef struct {
    const issuer *issuers;
    load_body *bodies;
    size_t from, to;
    int failed;
} sign_job;

static int make_statement(load_body *out, const issuer *is, size_t i)
{
    static const char *classes[] = {"cpu", "bmc", "nic", "ssd", "psu", "hsm"};
    uint8_t seed[40], dev[32], fw[48];
    char devhex[65], fwhex[97], sub[80], payload[700];
    uint8_t *stmt = NULL;
    size_t slen = 0;
    wb_cose_headers h;
    int n, rc;
    memset(seed, 0, sizeof(seed));
    memcpy(seed, &i, sizeof(i));
    memcpy(seed + 8, is->kid, 32);
    wb_sha256(dev, seed, sizeof(seed));
    wb_sha384(fw, dev, sizeof(dev));
    wb_hex_encode(devhex, dev, 32);
    wb_hex_encode(fwhex, fw, 48);
    n = snprintf(payload, sizeof(payload),
                 "{\"device\":\"%s\",\"class\":\"%s\",\"manufacturer\":\"%s\","
                 "\"model\":\"WB-%04zu\",\"serial\":\"SN-%010zu\","
                 "\"rot\":{\"alg\":\"ES256\",\"spki_sha256\":\"%s\"},"
                 "\"firmware\":{\"version\":\"%zu.%zu.%zu\",\"sha384\":\"%s\"},"
                 "\"made\":\"2026-11-%02zuT%02zu:%02zu:00Z\"}",
                 devhex, classes[i % 6], is->iss, i % 9973, i, devhex, i % 7, i % 13,
                 i % 101, fwhex, 1 + i % 28, i % 24, i % 60);
    if (n < 0 || (size_t)n >= sizeof(payload))
        return wb_error_set(WB_E_INTERNAL, "payload too long");
    snprintf(sub, sizeof(sub), "device:%s", devhex);
    wb_cose_headers_init(&h);
    h.alg = is->signer.alg;
    h.cty = "application/json";
    h.has_cwt = 1;
    h.iss = is->iss;
    h.sub = sub;
    h.iat = 1795651200 + (int64_t)i;
    h.kid.ptr = is->kid;
    h.kid.len = 32;
    rc = wb_cose_sign1_create(&stmt, &slen, &h, NULL, 0, (const uint8_t *)payload,
                              (size_t)n, 0, &is->signer);
    if (rc)
        return rc;
    out->data = stmt;
    out->len = slen;
    return 0;
}

static void *sign_main(void *arg)
{
    sign_job *j = arg;
    for (size_t i = j->from; i < j->to && !j->failed; i++)
        if (make_statement(&j->bodies[i], &j->issuers[i % NISSUERS], i) != 0)
            j->failed = 1;
    return NULL;
}

static int sign_all(load_body *bodies, size_t n, const issuer *is)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nt = ncpu > 0 ? (size_t)ncpu : 1;
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
            sign_main(&jobs[t]);
            tids[t] = 0;
        }
    }
    for (size_t t = 0; t < nt; t++) {
        if (tids[t])
            pthread_join(tids[t], NULL);
        if (jobs[t].failed)
            rc = -1;
    }
    return rc;
}

int prov_bare_rate(double *rate, double *avg_bytes, const char *waybill, const char *dir,
                   double seconds)
{
    issuer is[NISSUERS];
    /* enough for the warm-up and the window at twice section 6's best rate */
    size_t n = (size_t)((seconds + 1.0) * 25000.0), total = 0;
    load_body *bodies = calloc(n, sizeof(*bodies));
    prov_server srv;
    load_params lp;
    load_result r;
    char path[4400];
    int rc = -1;

    memset(is, 0, sizeof(is));
    memset(&srv, 0, sizeof(srv));
    memset(&r, 0, sizeof(r));
    *rate = *avg_bytes = 0;
    snprintf(path, sizeof(path), "%s/issuers", dir);
    if (!bodies || mkdir(dir, 0755) != 0 || mkdir(path, 0755) != 0) {
        fprintf(stderr, "waybill-bench: %s: %s\n", path, strerror(errno));
        goto out;
    }
    for (int i = 0; i < NISSUERS; i++) {
        snprintf(is[i].iss, sizeof(is[i].iss), "https://supplier-%02d.example", i);
        snprintf(path, sizeof(path), "%s/issuers/supplier-%02d.pem", dir, i);
        if (wb_key_generate(&is[i].key, WB_ALG_ES256) != 0 ||
            wb_cose_signer_for_key(&is[i].signer, is[i].key) != 0 ||
            wb_key_default_kid(is[i].kid, is[i].key) != 0 ||
            wb_key_write_file(is[i].key, path, 0) != 0) {
            fprintf(stderr, "waybill-bench: issuer %d: %s\n", i, wb_error_message());
            goto out;
        }
    }
    if (sign_all(bodies, n, is) != 0) {
        fprintf(stderr, "waybill-bench: signing the bare statements failed\n");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        total += bodies[i].len;
    *avg_bytes = (double)total / (double)n;
    if (prov_server_start(&srv, waybill, dir) != 0)
        goto out;
    memset(&lp, 0, sizeof(lp));
    lp.addr.sin_family = AF_INET;
    lp.addr.sin_port = htons(srv.port);
    lp.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lp.conns = CONNS;
    lp.bodies = bodies;
    lp.nbodies = n;
    lp.seconds = seconds;
    lp.warmup = 1.0;
    if (load_run(&r, &lp) != 0) {
        prov_server_show_log(&srv);
        goto out;
    }
    if (r.non201 || r.transport_errors || r.ok == 0) {
        fprintf(stderr, "waybill-bench: bare loop: %zu registrations, %zu other answers "
                        "(4xx %zu, 5xx %zu), %zu transport errors\n",
                r.ok, r.non201, r.status[4], r.status[5], r.transport_errors);
        prov_server_show_log(&srv);
        goto out;
    }
    *rate = r.window > 0 ? (double)r.ok / r.window : 0;
    rc = 0;
out:
    prov_server_stop(&srv);
    load_result_cleanup(&r);
    for (size_t i = 0; bodies && i < n; i++)
        free((void *)bodies[i].data);
    free(bodies);
    for (int i = 0; i < NISSUERS; i++)
        wb_key_free(is[i].key);
    return rc;
}
