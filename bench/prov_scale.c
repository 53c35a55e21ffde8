/*
 * prov_scale.c: section 7 of `make bench`, provenance at scale (issue 5,
 * "Scale"; docs/performance.md, "Provenance at scale").
 *
 *   1. The bare registration rate: section 6's higher closed-loop rate when
 *      it ran in this process, else a 3 s closed loop of plain statements
 *      against a fresh server (prov_bare.c).
 *   2. A fresh `waybill serve --dev` child process, with its defaults: the
 *      provenance hooks run in it (the registration policy with every
 *      device's certificate chain, the anomaly rules and the projection
 *      into the fleet tables, in log order in the sequencer).
 *   3. The simulator (wb_sim_run, docs/simulator.md) makes a clean fleet of
 *      at least --prov-devices devices: racks of 40 blades of 60 parts,
 *      plus one spare of each part class per rack; first every P-384
 *      identity on every core (timed apart: it is the suppliers' work, not
 *      the service's), then the whole journey through the server. Rates
 *      count the journey only: statements/s and devices/s.
 *   4. The ratio provenance statements/s / bare statements/s, next to what
 *      makes the two differ (provenance statements are fewer and larger: a
 *      manifest carries up to 40 devices with their chains) and the cost of
 *      one device in bare registrations.
 *   5. Query latency at that size, one request at a time over one
 *      keep-alive connection (prov_query.c): the journey of random devices
 *      (with a receipt per entry), the tree of random blades and racks,
 *      the fleet summary and the findings.
 *   6. The clean fleet raised no finding: GET /fleet says open_findings 0
 *      and every device where the simulator expects it.
 * With --prov-perf FILE, `perf record --call-graph dwarf -p PID` runs on the
 * server during the journey (step 3) and writes FILE.
 */
#include "prov_scale.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "waybill/error.h"
#include "waybill/sim.h"
#include "waybill/store.h"

#define BLADES 40          /* per rack */
#define PARTS 60           /* per blade: rot, tpm, bmc, 19 NICs, 38 SSDs */
#define SPARE_CLASSES 5    /* the simulator's spares: one per part class, per rack */
#define SEED 7
#define WORKERS 32         /* registrations in flight: keeps both HTTP threads busy */
#define N_JOURNEY 2000
#define N_TREE_BLADE 400
#define N_TREE_RACK 100
#define N_FLEET 200
#define N_FINDINGS 200
#define BARE_SECONDS 3.0

/* ---- the journey's progress ---- */

typedef struct {
    char name[32];
    size_t total;
    double end;
} phase_mark;

typedef struct {
    pid_t server;
    const char *perf_file;
    pid_t perf;
    int tty;
    /* at the end of the identities: the journey starts */
    int started;
    double t0, srv_cpu0, busy0, self_cpu0;
    phase_mark phases[24];
    size_t nphases;
} run_ctx;

static void on_progress(void *vctx, const char *phase, size_t done, size_t total)
{
    run_ctx *c = vctx;
    double now = prov_mono();
    if (c->tty)
        fprintf(stderr, "\r   %-20s %7zu / %-7zu", phase, done, total);
    if (strcmp(phase, "identities") == 0) {
        if (done == total && !c->started) {
            c->started = 1;
            if (c->perf_file)
                prov_perf_start(&c->perf, c->server, c->perf_file);
            c->t0 = prov_mono();
            c->srv_cpu0 = prov_proc_cpu(c->server);
            c->busy0 = prov_machine_busy();
            c->self_cpu0 = prov_self_cpu();
        }
        return;
    }
    if (done != total)
        return;
    /* a phase ends; the simulator may say so more than once, and
     * "governance" registers each party on its own (its count is taken
     * from the report) */
    if (c->nphases && strcmp(c->phases[c->nphases - 1].name, phase) == 0) {
        if (total > c->phases[c->nphases - 1].total)
            c->phases[c->nphases - 1].total = total;
        c->phases[c->nphases - 1].end = now;
        return;
    }
    if (c->nphases < sizeof(c->phases) / sizeof(c->phases[0])) {
        phase_mark *m = &c->phases[c->nphases++];
        snprintf(m->name, sizeof(m->name), "%s", phase);
        m->total = total;
        m->end = now;
    }
}

/* ---- reading the fleet tables beside the server ---- */

typedef struct {
    char (*ids)[65];
    size_t n, cap;
} id_list;

static int id_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    id_list *l = vctx;
    if (n < 1 || cols[0].type != WB_SQL_TEXT)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 1024;
        void *g = realloc(l->ids, cap * sizeof(*l->ids));
        if (!g)
            return 1;
        l->ids = g;
        l->cap = cap;
    }
    snprintf(l->ids[l->n++], 65, "%s", cols[0].s);
    return 0;
}

static int ids_of(wb_store *db, id_list *l, const char *cls)
{
    wb_sql_value a[1] = {WB_SQL_S(cls)};
    int rc = cls ? wb_store_sql(db, "SELECT id FROM fleet_devices WHERE class = $1 ORDER BY id",
                                a, 1, id_row, l)
                 : wb_store_sql(db, "SELECT id FROM fleet_devices ORDER BY id", NULL, 0,
                                id_row, l);
    if (rc != 0 || l->n == 0) {
        fprintf(stderr, "waybill-bench: no %s devices in the fleet tables: %s\n",
                cls ? cls : "", rc ? wb_error_message() : "none");
        return -1;
    }
    return 0;
}

static int two_ints(void *vctx, const wb_sql_value *cols, size_t n)
{
    int64_t *v = vctx;
    v[0] = n > 0 && cols[0].type == WB_SQL_INT ? cols[0].i : 0;
    v[1] = n > 1 && cols[1].type == WB_SQL_INT ? cols[1].i : 0;
    return 1;
}

/*
 * The average registered statement, from the log's entry bundles (blob
 * kind 2, store_sqlite.c: kind << 56 in the key; each entry is a 2-byte
 * length and its bytes) and the entry count of the fleet tables.
 */
static double avg_statement(wb_store *db, int64_t *entries)
{
    int64_t b[2] = {0, 0}, e[2] = {0, 0};
    wb_sql_value a[2] = {WB_SQL_I((int64_t)2 << 56), WB_SQL_I((int64_t)3 << 56)};
    if (wb_store_sql(db, "SELECT COALESCE(SUM(length(data)), 0), COUNT(*) FROM wb_blob "
                         "WHERE key >= $1 AND key < $2", a, 2, two_ints, b) < 0 ||
        wb_store_sql(db, "SELECT COUNT(*), 0 FROM fleet_entries", NULL, 0, two_ints, e) < 0 ||
        e[0] == 0)
        return 0;
    *entries = e[0];
    return (double)(b[0] - 2 * e[0]) / (double)e[0];
}

/* ---- queries ---- */

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1DULL;
}

/* n paths fmt % (a random id of l) */
static char **paths_of(const id_list *l, size_t n, const char *fmt)
{
    char **p = calloc(n, sizeof(*p));
    for (size_t i = 0; p && i < n; i++) {
        const char *id = l ? l->ids[rnd() % l->n] : "";
        size_t len = strlen(fmt) + 80;
        if (!(p[i] = malloc(len)))
            return p; /* paths_free copes */
        snprintf(p[i], len, fmt, id);
    }
    return p;
}

static void paths_free(char **p, size_t n)
{
    for (size_t i = 0; p && i < n; i++)
        free(p[i]);
    free(p);
}

static int measure(const prov_server *srv, const char *what, const id_list *l, size_t n,
                   const char *fmt, size_t *errors)
{
    char **paths = paths_of(l, n, fmt);
    prov_latency lat;
    int rc;
    for (size_t i = 0; paths && i < n; i++)
        if (!paths[i]) {
            paths_free(paths, n);
            paths = NULL;
        }
    if (!paths) {
        fprintf(stderr, "waybill-bench: out of memory\n");
        return -1;
    }
    rc = prov_get_latency(&lat, srv->url, paths, n);
    paths_free(paths, n);
    if (rc)
        return -1;
    printf("     %-44s %5zu  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  %6.1f KB\n", what,
           lat.n, lat.p50, lat.p99, lat.max, lat.mean_bytes / 1024.0);
    *errors += lat.errors;
    return 0;
}

/* ---- the fleet summary ---- */

static int check_fleet(const prov_server *srv, const wb_sim_report *r)
{
    char *body = NULL;
    size_t len;
    long status = prov_get(&body, &len, srv->url, "/fleet");
    json_t *o;
    json_error_t err;
    long long devices, open, tagged, inprod, manuf;
    int ok;
    if (status != 200 || !(o = json_loads(body, 0, &err))) {
        fprintf(stderr, "waybill-bench: GET /fleet: status %ld\n", status);
        free(body);
        return -1;
    }
    free(body);
    devices = json_integer_value(json_object_get(o, "devices"));
    open = json_integer_value(json_object_get(o, "open_findings"));
    tagged = json_integer_value(json_object_get(o, "tagged_devices"));
    inprod = json_integer_value(
        json_object_get(json_object_get(o, "by_state"), "in-production"));
    manuf = json_integer_value(
        json_object_get(json_object_get(o, "by_state"), "manufactured"));
    ok = open == 0 && tagged == 0 && devices == (long long)r->devices &&
         inprod == (long long)r->by_state[WB_SIM_STATE_IN_PRODUCTION] &&
         manuf == (long long)r->by_state[WB_SIM_STATE_MANUFACTURED];
    printf("   clean fleet at this size: GET /fleet: %lld devices (%lld in production, %lld "
           "spares\n   manufactured), open findings %lld, tagged devices %lld: %s\n",
           devices, inprod, manuf, open, tagged,
           ok ? "as the simulator expects (0 findings)" : "NOT as the simulator expects");
    if (!ok)
        fprintf(stderr, "waybill-bench: the simulator expects %zu devices, %zu in "
                        "production, %zu manufactured and no finding\n",
                r->devices, r->by_state[WB_SIM_STATE_IN_PRODUCTION],
                r->by_state[WB_SIM_STATE_MANUFACTURED]);
    json_decref(o);
    return ok ? 0 : -1;
}

/* ---- the run ---- */

int bench_prov(const bench_prov_opts *o)
{
    size_t want = o->devices ? o->devices : 100000;
    size_t per_rack = (size_t)BLADES * PARTS + BLADES + 1 + SPARE_CLASSES;
    unsigned racks = (unsigned)((want + per_rack - 1) / per_rack);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double t_section = prov_mono(), bare = o->bare_rate, bare_bytes = o->bare_bytes;
    double ingest_s, srv_cpu, client_cpu, rest, busy, avg_bytes;
    double stmt_rate, dev_rate, ratio, us_per_dev;
    char dir[4200], simdir[4200], admin[4400], db_path[4400];
    prov_server srv;
    wb_sim_options so;
    wb_sim_report r;
    run_ctx ctx;
    wb_store *db = NULL;
    wb_store_options sto;
    id_list all = {0}, blades = {0}, rack_ids = {0};
    int64_t entries = 0;
    size_t errors = 0;
    int rc = 1;

    memset(&srv, 0, sizeof(srv));
    memset(&r, 0, sizeof(r));
    memset(&ctx, 0, sizeof(ctx));
    if (racks < 1)
        racks = 1;
    if (racks > WB_SIM_RACKS_MAX)
        racks = WB_SIM_RACKS_MAX;

    printf("\n7. provenance at scale: the simulator's fleet through waybill serve --dev "
           "(child\n   process, defaults), every statement through the provenance policy, "
           "the anomaly\n   rules and the projection into the fleet tables\n");
    {
        double b0 = prov_machine_busy(), t0 = prov_mono();
        usleep(500000);
        printf("   machine busy before this section (other processes): %.2f cores\n",
               (prov_machine_busy() - b0) / (prov_mono() - t0));
    }
    fflush(stdout);
    mkdir(o->base, 0755); /* --dir may name a directory not made yet */

    /* 1. the bare rate */
    if (bare > 0) {
        printf("   bare registration rate: section 6 in this run, %.0f statements/s "
               "(%.0f bytes each)\n", bare, bare_bytes);
    } else {
        snprintf(dir, sizeof(dir), "%s/prov-bare", o->base);
        if (prov_bare_rate(&bare, &bare_bytes, o->waybill, dir, BARE_SECONDS) != 0)
            return 1;
        printf("   bare registration rate (section 6 did not run): plain ES256 statements, "
               "512\n   connections, closed loop, %g s: %.0f statements/s (%.0f bytes each)\n",
               BARE_SECONDS, bare, bare_bytes);
    }
    fflush(stdout);

    /* 2. the server */
    snprintf(dir, sizeof(dir), "%s/prov", o->base);
    snprintf(simdir, sizeof(simdir), "%s/prov-sim", o->base);
    snprintf(admin, sizeof(admin), "%s/admin.key", dir);
    snprintf(db_path, sizeof(db_path), "%s/waybill.db", dir);
    if (prov_server_start(&srv, o->waybill, dir) != 0)
        return 1;

    /* 3. the fleet and its journey */
    wb_sim_options_init(&so);
    so.url = srv.url;
    so.admin_key_file = admin;
    so.dir = simdir;
    so.racks = racks;
    so.blades = BLADES;
    so.parts = PARTS;
    so.seed = SEED;
    so.workers = WORKERS;
    so.threads = 0; /* one per core */
    so.write_files = 0;
    so.progress = on_progress;
    so.progress_ctx = &ctx;
    ctx.server = srv.pid;
    ctx.perf_file = o->perf_file;
    ctx.tty = isatty(fileno(stderr));
    printf("   fleet: %u racks x %d blades x %d parts, one spare per part class and rack "
           "(seed %d);\n   the simulator registers with %d statements in flight\n",
           racks, BLADES, PARTS, SEED, WORKERS);
    fflush(stdout);
    if (wb_sim_run(&r, &so) != 0) {
        if (ctx.tty)
            fprintf(stderr, "\r%60s\r", "");
        fprintf(stderr, "waybill-bench: simulator: %s\n", wb_error_message());
        prov_perf_stop(ctx.perf);
        prov_server_show_log(&srv);
        goto out;
    }
    ingest_s = prov_mono() - ctx.t0;
    srv_cpu = prov_proc_cpu(srv.pid) - ctx.srv_cpu0;
    busy = prov_machine_busy() - ctx.busy0;
    client_cpu = prov_self_cpu() - ctx.self_cpu0;
    prov_perf_stop(ctx.perf);
    if (ctx.tty)
        fprintf(stderr, "\r%60s\r", "");
    rest = (busy - srv_cpu - client_cpu) / ingest_s;
    if (rest < 0)
        rest = 0;

    printf("   identities: %zu devices (%zu racks, %zu blades, %zu parts, %zu spares), a P-384 "
           "key\n   and certificate each, on %ld threads: %.1f s (%.2f ms per device; not in "
           "the rates)\n",
           r.devices, (size_t)racks, (size_t)racks * BLADES,
           (size_t)racks * BLADES * PARTS, r.spares, cores, r.keygen_s,
           r.keygen_s * 1e3 / (double)r.devices);
    printf("   journey: %zu statements in %.1f s; by phase (each includes the simulator "
           "signing it):\n", r.statements, ingest_s);
    for (size_t i = 0; i < ctx.nphases; i++) {
        const phase_mark *m = &ctx.phases[i];
        double from = i ? ctx.phases[i - 1].end : ctx.t0, s = m->end - from;
        size_t n = strcmp(m->name, "governance") == 0 ? r.by_kind[WB_KIND_ISSUER] : m->total;
        printf("     %-20s %6zu statements %7.1f s %8.1f /s", m->name, n, s,
               s > 0 ? (double)n / s : 0);
        if (strcmp(m->name, "manifests") == 0 && s > 0)
            printf("  (%.0f devices/s)", (double)r.devices / s);
        printf("\n");
    }
    printf("   CPU during the journey: server %.2f cores, simulator %.2f cores, rest of the "
           "machine\n   %.2f cores (of %ld)\n",
           srv_cpu / ingest_s, client_cpu / ingest_s, rest, cores);
    fflush(stdout);

    /* the log's statements: how many bytes a provenance statement is */
    memset(&sto, 0, sizeof(sto));
    sto.busy_timeout_ms = 10000;
    if (wb_store_open_sqlite(&db, db_path, &sto) != 0) {
        fprintf(stderr, "waybill-bench: open %s: %s\n", db_path, wb_error_message());
        goto out;
    }
    usleep(500000); /* a finding would be registered in the batch after its trigger */
    avg_bytes = avg_statement(db, &entries);

    /* 4. the rates and the ratio */
    stmt_rate = (double)r.statements / ingest_s;
    dev_rate = (double)r.devices / ingest_s;
    ratio = stmt_rate / bare;
    us_per_dev = ingest_s * 1e6 / (double)r.devices;
    printf("   registrations, the journey: %.0f statements/s, %.0f devices/s\n", stmt_rate,
           dev_rate);
    printf("   => provenance statements/s / bare statements/s = %.0f / %.0f = %.4f\n",
           stmt_rate, bare, ratio);
    printf("      (provenance statements are fewer and larger: %.1f devices per statement "
           "and\n      %.0f bytes on average against %.0f; a manifest carries up to %d "
           "devices, each\n      with its P-384 certificate chain, which the service "
           "verifies)\n",
           (double)r.devices / (double)r.statements, avg_bytes, bare_bytes,
           WB_SIM_MANIFEST_DEVICES);
    printf("   per device: %.0f us of journey, %.0f us of server CPU; a bare statement: "
           "%.0f us\n   => one device costs %.1f bare registrations\n",
           us_per_dev, srv_cpu * 1e6 / (double)r.devices, 1e6 / bare, us_per_dev * bare / 1e6);
    if (rest > 0.2)
        printf("   NOTE: other processes used %.2f cores during the journey: the figures are "
               "not\n   clean; rerun on an idle machine.\n", rest);
    if (entries != (int64_t)r.statements)
        printf("   (the log holds %lld entries: the simulator's %zu and %lld the service "
               "registered)\n", (long long)entries, r.statements,
               (long long)(entries - (int64_t)r.statements));
    fflush(stdout);

    /* 5. queries at this size */
    if (ids_of(db, &all, NULL) != 0 || ids_of(db, &blades, "blade") != 0 ||
        ids_of(db, &rack_ids, "rack") != 0)
        goto out;
    printf("   queries at %zu devices, one at a time over one keep-alive connection:\n",
           all.n);
    if (measure(&srv, "GET /devices/{id} (journey with receipts)", &all, N_JOURNEY,
                "/devices/%s", &errors) != 0 ||
        measure(&srv, "GET /devices/{id}/tree, random blades", &blades, N_TREE_BLADE,
                "/devices/%s/tree", &errors) != 0 ||
        measure(&srv, "GET /devices/{id}/tree, random racks", &rack_ids, N_TREE_RACK,
                "/devices/%s/tree", &errors) != 0 ||
        measure(&srv, "GET /fleet", NULL, N_FLEET, "/fleet%s", &errors) != 0 ||
        measure(&srv, "GET /findings", NULL, N_FINDINGS, "/findings%s", &errors) != 0)
        goto out;
    if (errors)
        printf("   %zu queries were not answered 200 (the first is on stderr)\n", errors);
    fflush(stdout);

    /* 6. nothing flagged */
    if (check_fleet(&srv, &r) != 0)
        goto out;
    printf("   section 7 took %.0f s (identities %.0f s, journey %.0f s)\n",
           prov_mono() - t_section, r.keygen_s, ingest_s);
    if (o->perf_file)
        printf("   perf profile of the server during the journey: %s\n", o->perf_file);
    rc = errors ? 1 : 0;
out:
    fflush(stdout);
    wb_store_close(db);
    prov_server_stop(&srv);
    free(all.ids);
    free(blades.ids);
    free(rack_ids.ids);
    wb_sim_report_cleanup(&r);
    return rc;
}
