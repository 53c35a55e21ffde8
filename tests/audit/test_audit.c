/*
 * test_audit.c: the independent audit (waybill/audit.h, docs/audit.md) on a
 * real log, and the tamper suite: a real store, damaged in each way an
 * insider with database access (or the log key) could, must be caught and
 * the damage located.
 *
 * The log: a development-mode server on loopback, a simulated fleet (with a
 * swap injected, so findings signed by the service are in it) and 300
 * statements of a generic issuer, so the tree has more than one entry
 * bundle and a level-1 tile. It is audited over HTTP while the server runs
 * (fleet state compared with the server's), then the server stops and every
 * case damages its own copy of the data directory and audits it from the
 * state file of a clean audit (which holds the verified history).
 */
#include "wbtest.h"
#include "wbtest_scitt.h"

#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "waybill/audit.h"
#include "waybill/error.h"
#include "waybill/fleet.h"
#include "waybill/log.h"
#include "waybill/scitt.h"
#include "waybill/server.h"
#include "waybill/sim.h"
#include "waybill/store.h"

#define GENERIC 300

static char T[512], DATA[600], PRISTINE[600], URL[256];
static uint64_t N;           /* entries in the log */
static char ORIGIN[256];
static wb_key *GENERIC_KEY;

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

static void trust_load(wb_audit_trust *t)
{
    char path[700];
    char *text;
    size_t len;
    wb_key *k;
    memset(t, 0, sizeof(*t));
    snprintf(path, sizeof(path), "%s/log.pub", DATA);
    text = wbt_read_file(path, &len);
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    assert_int_equal(wb_note_verifier_parse(&t->log_key, text, len), 0);
    free(text);
    snprintf(path, sizeof(path), "%s/service.key", DATA);
    assert_int_equal(wb_key_read_file(&k, path), 0);
    assert_int_equal(wb_key_public_copy(&t->service_key, k), 0);
    wb_key_free(k);
    snprintf(t->service_name, sizeof(t->service_name), "localhost/waybill-dev");
    t->admin = calloc(1, sizeof(*t->admin));
    snprintf(path, sizeof(path), "%s/admin.key.pub", DATA);
    assert_int_equal(wb_key_read_file(&t->admin[0], path), 0);
    t->nadmin = 1;
    t->issuers = calloc(1, sizeof(*t->issuers));
    assert_int_equal(wb_key_public_copy(&t->issuers[0], GENERIC_KEY), 0);
    t->nissuers = 1;
}

/* audits dir (a store) or URL with the state file state */
static void audit(wb_audit_report *rep, const char *dir, const char *url, const char *state,
                  const char *fork_out, const char *const *cps, const size_t *cp_lens,
                  size_t ncps)
{
    wb_audit_trust t;
    wb_audit_source src;
    wb_audit_options o;
    trust_load(&t);
    memset(&o, 0, sizeof(o));
    o.state_path = state;
    o.fork_out = fork_out;
    o.checkpoints = cps;
    o.checkpoint_lens = cp_lens;
    o.ncheckpoints = ncps;
    o.chunk = 256; /* several transactions even on a small log */
    if (dir)
        assert_int_equal(wb_audit_source_store(&src, dir), 0);
    else
        assert_int_equal(wb_audit_source_http(&src, url), 0);
    if (wb_audit_run(rep, &src, &t, &o) != 0)
        fail_msg("audit: %s", wb_error_message());
    print_message("audit %s: %s at %lld: %s\n", dir ? dir : url,
                  wb_audit_failure_name(rep->failure),
                  rep->bad_index == UINT64_MAX ? -1LL : (long long)rep->bad_index,
                  rep->reason);
    wb_audit_source_cleanup(&src);
    wb_audit_trust_cleanup(&t);
}

/* a copy of the data directory and of the clean audit's state */
static void make_case(char *dir, char *state, size_t cap, const char *name)
{
    snprintf(dir, cap, "%s/%s", T, name);
    snprintf(state, cap, "%s/%s.db", T, name);
    sh("cp -a '%s' '%s' && cp '%s' '%s'", DATA, dir, PRISTINE, state);
}

static wb_store *open_db(const char *dir)
{
    char path[800];
    wb_store *s;
    wb_store_options so;
    memset(&so, 0, sizeof(so));
    snprintf(path, sizeof(path), "%s/waybill.db", dir);
    assert_int_equal(wb_store_open_sqlite(&s, path, &so), 0);
    return s;
}

static int64_t blob_key(unsigned kind, unsigned level, uint64_t index)
{
    return (int64_t)(((uint64_t)kind << 56) | ((uint64_t)level << 48) | index);
}

typedef struct {
    uint8_t *data;
    size_t len;
} blob;

static int blob_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    blob *b = vctx;
    assert_true(n == 1 && cols[0].type == WB_SQL_BLOB);
    b->data = malloc(cols[0].len);
    memcpy(b->data, cols[0].b, cols[0].len);
    b->len = cols[0].len;
    return 0;
}

static blob get_blob(wb_store *s, int64_t key)
{
    blob b = {NULL, 0};
    wb_sql_value a[1] = {WB_SQL_I(key)};
    assert_true(wb_store_sql(s, "SELECT data FROM wb_blob WHERE key = $1", a, 1, blob_row,
                             &b) >= 0);
    if (!b.data)
        fail_msg("no blob %llx", (unsigned long long)key);
    return b;
}

static void put_blob(wb_store *s, int64_t key, const uint8_t *data, size_t len)
{
    wb_sql_value a[2] = {WB_SQL_B(data, len), WB_SQL_I(key)};
    assert_true(wb_store_sql(s, "UPDATE wb_blob SET data = $1 WHERE key = $2", a, 2, NULL,
                             NULL) >= 0);
    assert_int_equal(wb_store_sql_changes(s), 1);
}

/* offsets of the entries of a bundle */
static size_t bundle_offsets(const blob *b, size_t *off, size_t *len)
{
    size_t n = 0, p = 0;
    while (p + 2 <= b->len) {
        size_t l = (size_t)b->data[p] << 8 | b->data[p + 1];
        off[n] = p + 2;
        len[n++] = l;
        p += 2 + l;
    }
    assert_int_equal(p, b->len);
    return n;
}

static void expect(const wb_audit_report *r, wb_audit_failure f, uint64_t index)
{
    if (r->failure != f || r->bad_index != index)
        fail_msg("want %s at %llu, got %s at %lld: %s", wb_audit_failure_name(f),
                 (unsigned long long)index, wb_audit_failure_name(r->failure),
                 r->bad_index == UINT64_MAX ? -1LL : (long long)r->bad_index, r->reason);
}

/* ---- the log ---- */

static void progress_quiet(void *ctx, const char *phase, size_t done, size_t total)
{
    (void)ctx;
    (void)phase;
    (void)done;
    (void)total;
}

static int setup(void **state)
{
    wb_server *srv;
    wb_sim_options o;
    wb_sim_report r;
    wb_audit_report rep;
    char path[700], *tmp = wbt_tmpdir("audit");
    uint64_t last = 0;
    (void)state;
    snprintf(T, sizeof(T), "%s", tmp);
    free(tmp);
    snprintf(DATA, sizeof(DATA), "%s/data", T);
    snprintf(PRISTINE, sizeof(PRISTINE), "%s/pristine.db", T);
    srv = wbt_dev_server(DATA, URL, sizeof(URL), 0);

    wb_sim_options_init(&o);
    snprintf(path, sizeof(path), "%s/admin.key", DATA);
    o.url = URL;
    o.admin_key_file = path;
    o.dir = T;
    o.racks = 1;
    o.blades = 3;
    o.parts = 4;
    o.seed = 11;
    o.write_files = 0;
    o.inject = 1u << WB_SIM_SWAP;
    o.progress = progress_quiet;
    if (wb_sim_run(&r, &o) != 0)
        fail_msg("sim: %s", wb_error_message());
    wb_sim_report_cleanup(&r);

    /* a generic issuer (dev mode: DATA/issuers/\*.pem) with many statements */
    assert_int_equal(wb_key_generate(&GENERIC_KEY, WB_ALG_ED25519), 0);
    snprintf(path, sizeof(path), "%s/issuers", DATA);
    mkdir(path, 0700); /* may exist already */
    snprintf(path, sizeof(path), "%s/issuers/generic.pem", DATA);
    assert_int_equal(wb_key_write_file(GENERIC_KEY, path, 0), 0);
    for (int i = 0; i < GENERIC; i++) {
        char payload[64], sub[32];
        size_t len;
        wb_http_response resp;
        uint8_t *st;
        snprintf(payload, sizeof(payload), "{\"n\":%d}", i);
        snprintf(sub, sizeof(sub), "item-%d", i);
        st = wbt_statement(&len, GENERIC_KEY, "generic.example", sub, "application/json",
                           payload, NULL, 0);
        wbt_post(&resp, URL, st, len, "application/cose");
        assert_true(resp.status == 201 || resp.status == 202);
        wb_http_response_cleanup(&resp);
        free(st);
    }
    /* the service registers its findings after their triggers: settle */
    for (int quiet = 0; quiet < 3;) {
        uint64_t now;
        usleep(500000);
        now = wbt_tree_size(URL);
        quiet = now == last ? quiet + 1 : 0;
        last = now;
    }
    N = last;
    assert_true(N > WB_TILE_WIDTH + 16);

    /* over HTTP, as an outsider, with the fleet state compared */
    snprintf(path, sizeof(path), "%s/http.db", T);
    audit(&rep, NULL, URL, path, NULL, NULL, NULL, 0);
    expect(&rep, WB_AUDIT_OK, UINT64_MAX);
    assert_int_equal(rep.size, N);
    assert_true(rep.fleet_compared);
    assert_true(rep.policy > 20);
    assert_true(rep.statements >= N);
    assert_int_equal(rep.unknown, 0);
    /* the replayed rules raise exactly what the service registered */
    assert_true(rep.findings_raised > 0);
    assert_int_equal(rep.findings_registered, rep.findings_raised);
    wb_server_stop(srv);

    /* the clean audit of the store: its state is every case's history */
    audit(&rep, DATA, NULL, PRISTINE, NULL, NULL, NULL, 0);
    expect(&rep, WB_AUDIT_OK, UINT64_MAX);
    assert_true(rep.fleet_compared);
    {
        wb_log *log;
        char *note;
        size_t nl;
        wb_checkpoint cp;
        assert_int_equal(wb_log_open(&log, DATA, NULL), 0);
        assert_int_equal(wb_log_head(log, NULL, NULL, &note, &nl), 0);
        assert_int_equal(wb_checkpoint_parse(&cp, note, (size_t)(strstr(note, "\n\n") - note) + 1),
                         0);
        snprintf(ORIGIN, sizeof(ORIGIN), "%s", cp.origin);
        wb_checkpoint_cleanup(&cp);
        free(note);
        wb_log_close(log);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    wb_key_free(GENERIC_KEY);
    if (!getenv("WB_KEEP"))
        wbt_rmtree(T);
    return 0;
}

/* ---- cases ---- */

/* a second run holds the log to the first: consistent, nothing to resume */
static void test_clean_again(void **state)
{
    char dir[700], st[700];
    wb_audit_report r;
    (void)state;
    make_case(dir, st, sizeof(dir), "clean");
    audit(&r, dir, NULL, st, NULL, NULL, NULL, 0);
    expect(&r, WB_AUDIT_OK, UINT64_MAX);
    assert_int_equal(r.checkpoints, 1);
    assert_int_equal(r.first, 0);
}

/* any byte of any entry, in its bundle: that entry is named */
static void test_flip_bundle_byte(void **state)
{
    uint64_t seed = wbt_seed("audit-bundle");
    (void)state;
    for (int k = 0; k < 6; k++) {
        char dir[700], st[700], name[32];
        uint64_t i = wbt_rand(&seed) % N, b = i / WB_TILE_WIDTH;
        size_t off[WB_TILE_WIDTH], len[WB_TILE_WIDTH];
        wb_store *s;
        blob bl;
        wb_audit_report r;
        snprintf(name, sizeof(name), "bundle-%d", k);
        make_case(dir, st, sizeof(dir), name);
        s = open_db(dir);
        bl = get_blob(s, blob_key(WB_BLOB_BUNDLE, 0, b));
        bundle_offsets(&bl, off, len);
        bl.data[off[i % WB_TILE_WIDTH] + wbt_rand(&seed) % len[i % WB_TILE_WIDTH]] ^=
            (uint8_t)(1u << (wbt_rand(&seed) % 8));
        put_blob(s, blob_key(WB_BLOB_BUNDLE, 0, b), bl.data, bl.len);
        free(bl.data);
        wb_store_close(s);
        audit(&r, dir, NULL, st, NULL, NULL, NULL, 0);
        expect(&r, WB_AUDIT_LEAF, i);
        assert_non_null(strstr(r.reason, "tile 0/"));
    }
}

/* a byte of a level-0 tile names its entry; of a level-1 tile, the range */
static void test_flip_tile_byte(void **state)
{
    uint64_t seed = wbt_seed("audit-tile");
    char dir[700], st[700];
    wb_store *s;
    blob bl;
    wb_audit_report r;
    (void)state;
    for (int k = 0; k < 4; k++) {
        char name[32];
        uint64_t i = wbt_rand(&seed) % (N - N % WB_TILE_WIDTH); /* in a full tile */
        snprintf(name, sizeof(name), "tile0-%d", k);
        make_case(dir, st, sizeof(dir), name);
        s = open_db(dir);
        bl = get_blob(s, blob_key(WB_BLOB_TILE, 0, i / WB_TILE_WIDTH));
        bl.data[(i % WB_TILE_WIDTH) * WB_HASH_LEN + wbt_rand(&seed) % WB_HASH_LEN] ^= 0x80;
        put_blob(s, blob_key(WB_BLOB_TILE, 0, i / WB_TILE_WIDTH), bl.data, bl.len);
        free(bl.data);
        wb_store_close(s);
        audit(&r, dir, NULL, st, NULL, NULL, NULL, 0);
        expect(&r, WB_AUDIT_LEAF, i);
    }
    /* level 1: hash 0 covers entries 0..255 */
    make_case(dir, st, sizeof(dir), "tile1");
    s = open_db(dir);
    {
        /* the level-1 tile is stored partial (.p/W) or whole: find its key */
        wb_sql_value a[1] = {WB_SQL_I(blob_key(WB_BLOB_TILE, 1, 0))};
        bl.data = NULL;
        assert_true(wb_store_sql(s, "SELECT data FROM wb_blob WHERE key = $1", a, 1,
                                 blob_row, &bl) >= 0);
    }
    if (bl.data) {
        bl.data[5] ^= 1;
        put_blob(s, blob_key(WB_BLOB_TILE, 1, 0), bl.data, bl.len);
        free(bl.data);
        wb_store_close(s);
        audit(&r, dir, NULL, st, NULL, NULL, NULL, 0);
        expect(&r, WB_AUDIT_TILE, 0);
        assert_non_null(strstr(r.reason, "tile 1/0"));
    } else {
        wb_store_close(s);
        print_message("the level-1 tile is derived, not stored: nothing to flip\n");
    }
}

/* an entry dropped from its bundle, two entries swapped */
static void test_drop_and_reorder(void **state)
{
    char dir[700], st[700];
    size_t off[WB_TILE_WIDTH], len[WB_TILE_WIDTH], n;
    uint64_t k = 37; /* in bundle 0 */
    wb_store *s;
    blob bl;
    uint8_t *nb;
    wb_audit_report r;
    (void)state;
    make_case(dir, st, sizeof(dir), "drop");
    s = open_db(dir);
    bl = get_blob(s, blob_key(WB_BLOB_BUNDLE, 0, 0));
    n = bundle_offsets(&bl, off, len);
    assert_true(n > k + 1);
    nb = malloc(bl.len);
    memcpy(nb, bl.data, off[k] - 2);
    memcpy(nb + off[k] - 2, bl.data + off[k + 1] - 2, bl.len - (off[k + 1] - 2));
    put_blob(s, blob_key(WB_BLOB_BUNDLE, 0, 0), nb, bl.len - (len[k] + 2));
    wb_store_close(s);
    audit(&r, dir, NULL, st, NULL, NULL, NULL, 0);
    expect(&r, WB_AUDIT_LEAF, k);

    make_case(dir, st, sizeof(dir), "reorder");
    s = open_db(dir);
    /* swap entries k and k+1 */
    memcpy(nb, bl.data, off[k] - 2);
    memcpy(nb + off[k] - 2, bl.data + off[k + 1] - 2, len[k + 1] + 2);
    memcpy(nb + off[k] - 2 + len[k + 1] + 2, bl.data + off[k] - 2, len[k] + 2);
    memcpy(nb + off[k + 1] + len[k + 1], bl.data + off[k + 1] + len[k + 1],
           bl.len - (off[k + 1] + len[k + 1]));
    put_blob(s, blob_key(WB_BLOB_BUNDLE, 0, 0), nb, bl.len);
    wb_store_close(s);
    audit(&r, dir, NULL, st, NULL, NULL, NULL, 0);
    expect(&r, WB_AUDIT_LEAF, k);
    free(nb);
    free(bl.data);
}

static int max_cp_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    if (n == 1 && cols[0].type == WB_SQL_INT)
        *(int64_t *)vctx = cols[0].i;
    return 0;
}

/* the log cut back to an older signed checkpoint: the kept one is larger */
static void test_truncate(void **state)
{
    char dir[700], st[700];
    wb_store *s;
    int64_t m = -1;
    wb_sql_value a[3];
    blob note;
    wb_checkpoint cp;
    wb_audit_report r;
    (void)state;
    make_case(dir, st, sizeof(dir), "truncate");
    s = open_db(dir);
    a[0] = WB_SQL_I(blob_key(WB_BLOB_CHECKPOINT, 0, 0));
    a[1] = WB_SQL_I(blob_key(WB_BLOB_CHECKPOINT, 0, N / 2));
    assert_true(wb_store_sql(s, "SELECT max(key) FROM wb_blob WHERE key > $1 AND key <= $2",
                             a, 2, max_cp_row, &m) >= 0);
    assert_true(m > 0);
    m &= (int64_t)WB_BLOB_INDEX_MAX;
    note = get_blob(s, blob_key(WB_BLOB_CHECKPOINT, 0, (uint64_t)m));
    assert_int_equal(wb_checkpoint_parse(&cp, (const char *)note.data,
                                         (size_t)(strstr((const char *)note.data, "\n\n") -
                                                  (const char *)note.data) + 1), 0);
    a[0] = WB_SQL_I(m);
    a[1] = WB_SQL_B(cp.root, 32);
    a[2] = WB_SQL_B(note.data, note.len);
    assert_true(wb_store_sql(s, "UPDATE wb_state SET size = $1, root = $2, checkpoint = $3",
                             a, 3, NULL, NULL) >= 0);
    wb_checkpoint_cleanup(&cp);
    free(note.data);
    wb_store_close(s);
    audit(&r, dir, NULL, st, NULL, NULL, NULL, 0);
    expect(&r, WB_AUDIT_ROLLBACK, (uint64_t)m);
    assert_non_null(strstr(r.reason, "shrank"));
}

/* the insider also tells a new store which key it was made with: DATA's */
static void set_verifier(const char *dir)
{
    char path[700];
    wb_store *s = open_db(dir);
    char *vkey;
    size_t vl;
    wb_sql_value a[1];
    snprintf(path, sizeof(path), "%s/log.pub", DATA);
    vkey = wbt_read_file(path, &vl);
    while (vl && vkey[vl - 1] == '\n')
        vkey[--vl] = '\0';
    a[0] = WB_SQL_S(vkey);
    assert_true(wb_store_sql(s, "UPDATE wb_meta SET value = $1 WHERE name = 'verifier'", a, 1,
                             NULL, NULL) >= 0);
    wb_store_close(s);
    free(vkey);
}

/*
 * A forked tree signed by the real key: the whole log rebuilt from its
 * entries with entry k changed (and extra entries appended), tiles and
 * checkpoint recomputed and signed with DATA's log key.
 */
static void make_fork(const char *dir, uint64_t k, int extra)
{
    wb_log *orig, *log;
    wb_entry *e = calloc(N + (size_t)extra, sizeof(*e));
    uint8_t **bufs = calloc(N + (size_t)extra, sizeof(*bufs));
    uint64_t first;
    wb_log_options lo;
    assert_int_equal(wb_log_open(&orig, DATA, NULL), 0);
    for (uint64_t i = 0; i < N; i++) {
        size_t len;
        assert_int_equal(wb_log_entry(orig, i, &bufs[i], &len), 0);
        e[i].data = bufs[i];
        e[i].len = len;
    }
    wb_log_close(orig);
    bufs[k][e[k].len - 3] ^= 0x01; /* inside the signature: still an entry */
    for (int x = 0; x < extra; x++) {
        char sub[32];
        size_t len;
        snprintf(sub, sizeof(sub), "forked-%d", x);
        bufs[N + (size_t)x] = wbt_statement(&len, GENERIC_KEY, "generic.example", sub,
                                            "application/json", "{}", NULL, 0);
        e[N + (size_t)x].data = bufs[N + (size_t)x];
        e[N + (size_t)x].len = len;
    }
    assert_int_equal(wb_log_init(dir, ORIGIN), 0);
    sh("cp '%s/log.key' '%s/log.pub' '%s/'", DATA, DATA, dir);
    set_verifier(dir);
    memset(&lo, 0, sizeof(lo));
    lo.sync_normal = 1;
    assert_int_equal(wb_log_open(&log, dir, &lo), 0);
    assert_int_equal(wb_log_append(log, e, N + (size_t)extra, &first), 0);
    wb_log_close(log);
    for (uint64_t i = 0; i < N + (uint64_t)extra; i++)
        free(bufs[i]);
    free(bufs);
    free(e);
}

static void test_fork(void **state)
{
    char dir[700], st[700], fork_file[700], *text, *key = NULL;
    size_t len;
    uint64_t k = N / 3, sa, sb;
    wb_audit_report r;
    (void)state;
    for (int extra = 0; extra <= 3; extra += 3) {
        snprintf(dir, sizeof(dir), "%s/fork-%d", T, extra);
        snprintf(st, sizeof(st), "%s/fork-%d.db", T, extra);
        snprintf(fork_file, sizeof(fork_file), "%s/fork-%d.json", T, extra);
        sh("cp '%s' '%s'", PRISTINE, st);
        make_fork(dir, k, extra);
        audit(&r, dir, NULL, st, fork_file, NULL, NULL, 0);
        expect(&r, WB_AUDIT_FORK, k);
        assert_true(r.fork_written);
        text = wbt_read_file(fork_file, &len);
        assert_int_equal(wb_fork_proof_verify(text, len, NULL, &key, &sa, &sb), 0);
        assert_int_equal(sa, N);
        assert_int_equal(sb, N + (uint64_t)extra);
        assert_non_null(key);
        free(key);
        /* the command a third party runs */
        if (getenv("WB_BIN")) {
            char cmd[2048];
            snprintf(cmd, sizeof(cmd), "'%s' verify --fork '%s' --log-key '%s/log.pub' "
                     ">/dev/null", getenv("WB_BIN"), fork_file, DATA);
            assert_int_equal(system(cmd), 0);
        }
        /* the proof, altered, proves nothing */
        {
            char *p = strstr(text, "\"root_b_at_a\": \"");
            assert_non_null(p);
            p += 16;
            *p = *p == 'A' ? 'B' : 'A';
            assert_int_not_equal(wb_fork_proof_verify(text, len, NULL, NULL, NULL, NULL), 0);
            if (getenv("WB_BIN")) {
                char cmd[2048], bad[720];
                snprintf(bad, sizeof(bad), "%s.bad", fork_file);
                wbt_write_file(bad, text, len);
                snprintf(cmd, sizeof(cmd), "'%s' verify --fork '%s' >/dev/null 2>&1",
                         getenv("WB_BIN"), bad);
                assert_int_equal(WEXITSTATUS(system(cmd)), 1);
            }
        }
        free(text);
    }
}

/* a checkpoint given on the command line: held to it without any history */
static void test_given_checkpoint(void **state)
{
    char dir[700], st[700], fork_file[700];
    const char *cps[1];
    size_t lens[1];
    wb_log *log;
    char *note;
    size_t nl;
    wb_audit_report r;
    (void)state;
    /* the forked log of the same size, from test_fork */
    snprintf(dir, sizeof(dir), "%s/fork-0", T);
    assert_int_equal(wb_log_open(&log, dir, NULL), 0);
    assert_int_equal(wb_log_head(log, NULL, NULL, &note, &nl), 0);
    wb_log_close(log);
    snprintf(st, sizeof(st), "%s/given.db", T);
    snprintf(fork_file, sizeof(fork_file), "%s/given.json", T);
    cps[0] = note;
    lens[0] = nl;
    audit(&r, DATA, NULL, st, fork_file, cps, lens, 1);
    expect(&r, WB_AUDIT_FORK, UINT64_MAX);
    assert_true(r.fork_written);
    {
        char *text = wbt_read_file(fork_file, &nl);
        assert_int_equal(wb_fork_proof_verify(text, nl, NULL, NULL, NULL, NULL), 0);
        free(text);
    }
    free(note);
}

/* an entry forged with a key nobody registered, the tree re-signed */
static void test_forged_entry(void **state)
{
    char dir[700], st[700];
    wb_log *log;
    wb_key *rogue;
    uint8_t *stmt;
    size_t len;
    wb_entry e;
    uint64_t first;
    wb_audit_report r;
    (void)state;
    make_case(dir, st, sizeof(dir), "forged");
    assert_int_equal(wb_key_generate(&rogue, WB_ALG_ED25519), 0);
    stmt = wbt_statement(&len, rogue, "generic.example", "forged", "application/json", "{}",
                         NULL, 0);
    assert_int_equal(wb_log_open(&log, dir, NULL), 0);
    e.data = stmt;
    e.len = len;
    assert_int_equal(wb_log_append(log, &e, 1, &first), 0);
    wb_log_close(log);
    assert_int_equal(first, N);
    audit(&r, dir, NULL, st, NULL, NULL, NULL, 0);
    expect(&r, WB_AUDIT_STATEMENT, N);
    assert_non_null(strstr(r.reason, "not an admin key"));
    free(stmt);
    wb_key_free(rogue);
}

/*
 * The service's findings suppressed: the log rebuilt without its finding
 * entries and signed with the real key, with a checkpoint of an earlier size
 * the auditor holds. The replayed rules raise what was never registered.
 */
static void test_suppressed_finding(void **state)
{
    char dir[700], st[700];
    wb_log *orig, *log;
    wb_entry *e = calloc(N, sizeof(*e));
    uint8_t **bufs = calloc(N, sizeof(*bufs));
    size_t n = 0, dropped = 0, first_part;
    uint64_t first;
    char *note;
    size_t note_len;
    const char *cps[1];
    size_t lens[1];
    wb_audit_report r;
    (void)state;
    assert_int_equal(wb_log_open(&orig, DATA, NULL), 0);
    for (uint64_t i = 0; i < N; i++) {
        size_t len;
        wb_fleet_entry fe;
        assert_int_equal(wb_log_entry(orig, i, &bufs[n], &len), 0);
        if (wb_fleet_entry_decode(&fe, i, bufs[n], len) == 0) {
            int finding = fe.kind == WB_KIND_FINDING;
            wb_fleet_entry_cleanup(&fe);
            if (finding) {
                free(bufs[n]);
                dropped++;
                continue;
            }
        }
        e[n].data = bufs[n];
        e[n].len = len;
        n++;
    }
    wb_log_close(orig);
    assert_true(dropped > 0);
    snprintf(dir, sizeof(dir), "%s/suppressed", T);
    snprintf(st, sizeof(st), "%s/suppressed.db", T);
    assert_int_equal(wb_log_init(dir, ORIGIN), 0);
    sh("cp '%s/log.key' '%s/log.pub' '%s/'", DATA, DATA, dir);
    set_verifier(dir);
    assert_int_equal(wb_log_open(&log, dir, NULL), 0);
    first_part = n - 5;
    assert_int_equal(wb_log_append(log, e, first_part, &first), 0);
    assert_int_equal(wb_log_append(log, e + first_part, n - first_part, &first), 0);
    assert_int_equal(wb_log_checkpoint_at(log, first_part, &note, &note_len), 0);
    wb_log_close(log);
    cps[0] = note;
    lens[0] = note_len;
    audit(&r, dir, NULL, st, NULL, cps, lens, 1);
    assert_int_equal(r.failure, WB_AUDIT_FINDING);
    assert_true(r.bad_index < first_part);
    assert_non_null(strstr(r.reason, "never registered"));
    assert_true(r.findings_raised >= dropped);
    assert_int_equal(r.findings_registered, 0);
    free(note);
    for (size_t i = 0; i < n; i++)
        free(bufs[i]);
    free(bufs);
    free(e);
}

/* a projection row changed behind the log's back */
static void test_projection_row(void **state)
{
    char dir[700], st[700];
    wb_store *s;
    wb_audit_report r;
    (void)state;
    make_case(dir, st, sizeof(dir), "projection");
    s = open_db(dir);
    assert_true(wb_store_sql(s, "UPDATE fleet_devices SET state = 'in-production' WHERE id = "
                                "(SELECT min(id) FROM fleet_devices WHERE state <> "
                                "'in-production')", NULL, 0, NULL, NULL) >= 0);
    assert_int_equal(wb_store_sql_changes(s), 1);
    wb_store_close(s);
    audit(&r, dir, NULL, st, NULL, NULL, NULL, 0);
    expect(&r, WB_AUDIT_FLEET, UINT64_MAX);
    assert_non_null(strstr(r.reason, "fleet_devices"));
}

/* ---- resume ---- */

typedef struct {
    wb_audit_source inner;
    int left; /* bundle fetches before the "network" fails */
} flaky;

static int flaky_bundle(void *ctx, uint64_t index, unsigned width, uint8_t **data,
                        size_t *len)
{
    flaky *f = ctx;
    if (f->left-- <= 0)
        return wb_error_set(WB_E_IO, "connection reset (test)");
    return f->inner.bundle(f->inner.ctx, index, width, data, len);
}

#define FORWARD(name, params, args)                                                      \
    static int flaky_##name params                                                      \
    {                                                                                    \
        flaky *f = ctx;                                                                  \
        return f->inner.name args;                                                       \
    }
FORWARD(checkpoint, (void *ctx, char **note, size_t *len), (f->inner.ctx, note, len))
FORWARD(tile, (void *ctx, unsigned l, uint64_t i, unsigned w, uint8_t **d, size_t *n),
        (f->inner.ctx, l, i, w, d, n))
FORWARD(fleet, (void *ctx, uint64_t *size, char **dump, size_t *len),
        (f->inner.ctx, size, dump, len))

static void test_resume(void **state)
{
    char dir[700], st[700];
    flaky f;
    wb_audit_source src;
    wb_audit_trust t;
    wb_audit_options o;
    wb_audit_report r;
    (void)state;
    make_case(dir, st, sizeof(dir), "resume");
    unlink(st); /* a first audit, interrupted */
    memset(&f, 0, sizeof(f));
    assert_int_equal(wb_audit_source_store(&f.inner, dir), 0);
    f.left = 1;
    memset(&src, 0, sizeof(src));
    src.checkpoint = flaky_checkpoint;
    src.tile = flaky_tile;
    src.bundle = flaky_bundle;
    src.consistency = f.inner.consistency; /* not used on a first audit */
    src.fleet = flaky_fleet;
    src.ctx = &f;
    trust_load(&t);
    memset(&o, 0, sizeof(o));
    o.state_path = st;
    o.chunk = 256;
    assert_int_equal(wb_audit_run(&r, &src, &t, &o), WB_E_IO);
    wb_audit_trust_cleanup(&t);
    wb_audit_source_cleanup(&f.inner);
    /* the rerun starts after the chunk that was done, and ends the same */
    audit(&r, dir, NULL, st, NULL, NULL, NULL, 0);
    expect(&r, WB_AUDIT_OK, UINT64_MAX);
    assert_int_equal(r.first, WB_TILE_WIDTH);
    assert_true(r.fleet_compared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_again),      cmocka_unit_test(test_flip_bundle_byte),
        cmocka_unit_test(test_flip_tile_byte),   cmocka_unit_test(test_drop_and_reorder),
        cmocka_unit_test(test_truncate),         cmocka_unit_test(test_fork),
        cmocka_unit_test(test_given_checkpoint), cmocka_unit_test(test_forged_entry),
        cmocka_unit_test(test_projection_row),   cmocka_unit_test(test_resume),
        cmocka_unit_test(test_suppressed_finding),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
