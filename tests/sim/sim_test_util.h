/*
 * sim_test_util.h: what the simulator tests share (header-only, included by
 * tests/sim/test_sim.c and test_sim_10k.c): a development-mode server on a
 * free loopback port, and reading the fleet tables it builds from a second
 * SQLite connection on DIR/waybill.db.
 */
#ifndef SIM_TEST_UTIL_H
#define SIM_TEST_UTIL_H

#include "wbtest_scitt.h"

#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "waybill/error.h"
#include "waybill/server.h"
#include "waybill/sim.h"
#include "waybill/store.h"

typedef struct {
    char *dir;
    char data[4200];
    char admin[4300];
    wb_server *srv;
    char url[64];
    wb_store *db;
} simfix;

static inline void simfix_start(simfix *f, const char *tag)
{
    wb_store_options so;
    char path[4400];
    memset(f, 0, sizeof(*f));
    f->dir = wbt_tmpdir(tag);
    snprintf(f->data, sizeof(f->data), "%s/data", f->dir);
    /* the overdue scan, every second */
    f->srv = wbt_dev_server(f->data, f->url, sizeof(f->url), 1);
    snprintf(f->admin, sizeof(f->admin), "%s/admin.key", f->data);
    memset(&so, 0, sizeof(so));
    so.busy_timeout_ms = 10000;
    snprintf(path, sizeof(path), "%s/waybill.db", f->data);
    if (wb_store_open_sqlite(&f->db, path, &so) != 0)
        fail_msg("open %s: %s", path, wb_error_message());
}

static inline void simfix_stop(simfix *f)
{
    wb_store_close(f->db);
    wb_server_stop(f->srv);
    wbt_rmtree(f->dir);
    free(f->dir);
    memset(f, 0, sizeof(*f));
}

static inline void simfix_options(simfix *f, wb_sim_options *o, const char *sub)
{
    static char simdir[4400];
    wb_sim_options_init(o);
    snprintf(simdir, sizeof(simdir), "%s/%s", f->dir, sub);
    o->url = f->url;
    o->admin_key_file = f->admin;
    o->dir = simdir;
}

static int count_row(void *ctx, const wb_sql_value *cols, size_t n)
{
    int64_t *out = ctx;
    *out = n > 0 && cols[0].type == WB_SQL_INT ? cols[0].i : -1;
    return 0;
}

/* the first column of the first row of sql (an integer) */
static inline int64_t sql_count(simfix *f, const char *sql, const wb_sql_value *args,
                                size_t n)
{
    int64_t v = -1;
    if (wb_store_sql(f->db, sql, args, n, count_row, &v) < 0)
        fail_msg("%s: %s", sql, wb_error_message());
    return v;
}

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * waits until the service has registered the findings of the run: at least
 * want findings with idx >= since, and no new entry for settle_s seconds
 * (findings are registered by the service in the batch after their
 * trigger; the overdue scan runs every second). Returns the findings count.
 */
static inline int64_t settle(simfix *f, int64_t since, int64_t want, double settle_s,
                             double timeout_s)
{
    wb_sql_value a[1] = {WB_SQL_I(since)};
    double start = now_s(), stable_since = start;
    int64_t last = -1, findings = 0;
    for (;;) {
        int64_t entries = sql_count(f, "SELECT count(*) FROM fleet_entries", NULL, 0);
        findings = sql_count(f, "SELECT count(*) FROM fleet_findings WHERE idx >= $1", a, 1);
        if (entries != last) {
            last = entries;
            stable_since = now_s();
        }
        if (findings >= want && now_s() - stable_since >= settle_s)
            break;
        if (now_s() - start > timeout_s)
            break;
        usleep(100000);
    }
    return findings;
}

typedef struct {
    char state[32];
    int64_t n;
} state_count;

typedef struct {
    state_count s[8];
    size_t n;
} state_counts;

static int state_row(void *ctx, const wb_sql_value *cols, size_t n)
{
    state_counts *c = ctx;
    if (n < 2 || c->n == 8)
        return 1;
    snprintf(c->s[c->n].state, sizeof(c->s[c->n].state), "%s", cols[0].s ? cols[0].s : "");
    c->s[c->n++].n = cols[1].i;
    return 0;
}

/* the devices of this run (serials carry its tag) by state equal the report's */
static inline void check_states(simfix *f, const wb_sim_report *r)
{
    state_counts c = {0};
    char like[64];
    wb_sql_value a[1];
    size_t total = 0;
    snprintf(like, sizeof(like), "%%-%s-%%", r->run);
    a[0] = WB_SQL_S(like);
    assert_true(wb_store_sql(f->db, "SELECT state, count(*) FROM fleet_devices WHERE serial "
                                    "LIKE $1 GROUP BY state ORDER BY state", a, 1, state_row,
                             &c) >= 0);
    for (size_t i = 0; i < c.n; i++) {
        int64_t want = 0;
        for (int st = 0; st < WB_SIM_STATE_COUNT; st++)
            if (strcmp(c.s[i].state, wb_sim_state_name((wb_sim_state)st)) == 0)
                want = (int64_t)r->by_state[st];
        if (c.s[i].n != want)
            fail_msg("state %s: %lld devices in the ledger, the simulator expects %lld",
                     c.s[i].state, (long long)c.s[i].n, (long long)want);
        total += (size_t)c.s[i].n;
    }
    assert_int_equal(total, r->devices);
}

#endif
