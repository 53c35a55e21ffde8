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

#define CONNS 512

int prov_bare_rate(double *rate, double *avg_bytes, const char *waybill, const char *dir,
                   double seconds)
{
    bench_issuer is[BENCH_NISSUERS];
    /* enough for the warm-up and the window at twice section 6's best rate */
    size_t n = (size_t)((seconds + 1.0) * 25000.0), total = 0;
    load_body *bodies = calloc(n, sizeof(*bodies));
    prov_server srv;
    load_params lp;
    load_result r;
    int rc = -1;

    memset(is, 0, sizeof(is));
    memset(&srv, 0, sizeof(srv));
    memset(&r, 0, sizeof(r));
    *rate = *avg_bytes = 0;
    if (!bodies || bench_issuers_make(is) != 0 || bench_issuers_write(is, dir) != 0)
        goto out;
    if (bench_sign_all(bodies, n, is, NULL, NULL) != 0) {
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
    bench_issuers_free(is);
    return rc;
}
