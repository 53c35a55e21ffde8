/*
 * test_store.c: the storage interface contract (waybill/store.h), written
 * once against wb_store and run on every backend: the same cases as the
 * group "store/sqlite" and the group "store/postgres" (a PostgreSQL 15
 * cluster started for the run, a fresh database per case), plus what only
 * one backend has (opening rules, PostgreSQL's writer lock).
 */
#include "wbtest.h"
#include "wbtest_pg.h"

#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "waybill/error.h"
#include "waybill/store.h"

typedef struct {
    char *dir;
    char path[4200];     /* SQLite: the file; PostgreSQL: the conninfo */
    int pg;
    wb_store *s;
} fixture;

static wbt_pg PG; /* the cluster of the postgres group */

/* opens (create: creates) the fixture's store on its backend */
static int open_store(const fixture *f, wb_store **out, int create, int busy_ms)
{
    wb_store_options opt = {.create = create, .busy_timeout_ms = busy_ms};
    return f->pg ? wb_store_open_postgres(out, f->path, &opt)
                 : wb_store_open_sqlite(out, f->path, &opt);
}

static int setup_sqlite(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->dir = wbt_tmpdir("store");
    snprintf(f->path, sizeof(f->path), "%s/waybill.db", f->dir);
    if (open_store(f, &f->s, 1, 0) != 0)
        fail_msg("open: %s", wb_error_message());
    *state = f;
    return 0;
}

static int setup_pg(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->pg = 1;
    wbt_pg_createdb(&PG, f->path, sizeof(f->path));
    if (open_store(f, &f->s, 1, 0) != 0)
        fail_msg("open: %s", wb_error_message());
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    wb_store_close(f->s);
    if (f->dir)
        wbt_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void reopen(fixture *f)
{
    wb_store_close(f->s);
    f->s = NULL;
    assert_int_equal(open_store(f, &f->s, 0, 0), 0);
}

static void test_blob_put_get_replace(void **state)
{
    fixture *f = *state;
    wb_blob_key k = {WB_BLOB_TILE, 0, 7};
    wb_blob_key other = {WB_BLOB_BUNDLE, 0, 7};
    uint8_t *data = NULL;
    size_t len = 0;

    assert_int_equal(wb_store_get_blob(f->s, k, &data, &len), WB_E_NOTFOUND);
    assert_non_null(strstr(wb_error_message(), "7"));
    assert_int_equal(wb_store_put_blob(f->s, k, (const uint8_t *)"abc", 3), 0);
    assert_int_equal(wb_store_get_blob(f->s, k, &data, &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(data, "abc", 3);
    free(data);
    /* same level and index, other kind: a different blob */
    assert_int_equal(wb_store_get_blob(f->s, other, &data, &len), WB_E_NOTFOUND);
    /* put replaces (a partial tile grows in place) */
    assert_int_equal(wb_store_put_blob(f->s, k, (const uint8_t *)"abcdef", 6), 0);
    assert_int_equal(wb_store_get_blob(f->s, k, &data, &len), 0);
    assert_int_equal(len, 6);
    assert_memory_equal(data, "abcdef", 6);
    free(data);
    /* survives a reopen */
    reopen(f);
    assert_int_equal(wb_store_get_blob(f->s, k, &data, &len), 0);
    assert_int_equal(len, 6);
    free(data);
}

static void test_blob_key_limits(void **state)
{
    fixture *f = *state;
    wb_blob_key big = {WB_BLOB_TILE, 63, WB_BLOB_INDEX_MAX};
    wb_blob_key bad_index = {WB_BLOB_TILE, 0, WB_BLOB_INDEX_MAX + 1};
    wb_blob_key bad_kind = {9, 0, 0};
    wb_blob_key bad_level = {WB_BLOB_TILE, 64, 0};
    uint8_t *data;
    size_t len;
    assert_int_equal(wb_store_put_blob(f->s, big, (const uint8_t *)"x", 1), 0);
    assert_int_equal(wb_store_get_blob(f->s, big, &data, &len), 0);
    free(data);
    assert_int_equal(wb_store_put_blob(f->s, bad_index, (const uint8_t *)"x", 1), WB_E_INVALID);
    assert_int_equal(wb_store_put_blob(f->s, bad_kind, (const uint8_t *)"x", 1), WB_E_INVALID);
    assert_int_equal(wb_store_put_blob(f->s, bad_level, (const uint8_t *)"x", 1), WB_E_INVALID);
}

static void test_state_cas(void **state)
{
    fixture *f = *state;
    wb_store_state st = {0}, got;
    char cp1[] = "checkpoint one\n";
    char cp2[] = "checkpoint two\n";

    assert_int_equal(wb_store_get_state(f->s, &got), WB_E_NOTFOUND);
    st.size = 0;
    memset(st.root, 0xaa, 32);
    st.checkpoint = cp1;
    st.checkpoint_len = strlen(cp1);
    /* a size CAS on a missing state fails; creating it works once */
    assert_int_equal(wb_store_cas_state(f->s, 0, &st), WB_E_CONFLICT);
    assert_int_equal(wb_store_cas_state(f->s, WB_STORE_NO_STATE, &st), 0);
    assert_int_equal(wb_store_cas_state(f->s, WB_STORE_NO_STATE, &st), WB_E_CONFLICT);

    st.size = 5;
    memset(st.root, 0xbb, 32);
    st.checkpoint = cp2;
    st.checkpoint_len = strlen(cp2);
    assert_int_equal(wb_store_cas_state(f->s, 4, &st), WB_E_CONFLICT);
    assert_int_equal(wb_store_get_state(f->s, &got), 0);
    assert_true(got.size == 0);
    assert_int_equal(got.root[0], 0xaa);
    wb_store_state_cleanup(&got);
    assert_int_equal(wb_store_cas_state(f->s, 0, &st), 0);
    reopen(f);
    assert_int_equal(wb_store_get_state(f->s, &got), 0);
    assert_true(got.size == 5);
    assert_int_equal(got.root[31], 0xbb);
    assert_string_equal(got.checkpoint, cp2);
    assert_int_equal(got.checkpoint_len, strlen(cp2));
    wb_store_state_cleanup(&got);
}

static void test_transaction_rollback_and_commit(void **state)
{
    fixture *f = *state;
    wb_blob_key k = {WB_BLOB_BUNDLE, 0, 1};
    uint8_t *data;
    size_t len;

    assert_int_equal(wb_store_begin(f->s), 0);
    assert_int_equal(wb_store_begin(f->s), WB_E_INTERNAL); /* no nesting */
    assert_int_equal(wb_store_put_blob(f->s, k, (const uint8_t *)"x", 1), 0);
    assert_int_equal(wb_store_rollback(f->s), 0);
    assert_int_equal(wb_store_get_blob(f->s, k, &data, &len), WB_E_NOTFOUND);

    assert_int_equal(wb_store_begin(f->s), 0);
    assert_int_equal(wb_store_put_blob(f->s, k, (const uint8_t *)"y", 1), 0);
    assert_int_equal(wb_store_commit(f->s), 0);
    assert_int_equal(wb_store_commit(f->s), WB_E_INTERNAL);
    reopen(f);
    assert_int_equal(wb_store_get_blob(f->s, k, &data, &len), 0);
    assert_memory_equal(data, "y", 1);
    free(data);

    /* an open transaction is rolled back by close */
    assert_int_equal(wb_store_begin(f->s), 0);
    assert_int_equal(wb_store_put_blob(f->s, k, (const uint8_t *)"z", 1), 0);
    reopen(f);
    assert_int_equal(wb_store_get_blob(f->s, k, &data, &len), 0);
    assert_memory_equal(data, "y", 1);
    free(data);
}

static void test_meta(void **state)
{
    fixture *f = *state;
    char *v = NULL;
    char big[WB_STORE_META_MAX + 2];
    assert_int_equal(wb_store_get_meta(f->s, "origin", &v), WB_E_NOTFOUND);
    assert_int_equal(wb_store_put_meta(f->s, "origin", "example.com/log"), 0);
    assert_int_equal(wb_store_get_meta(f->s, "origin", &v), 0);
    assert_string_equal(v, "example.com/log");
    free(v);
    assert_int_equal(wb_store_get_meta(f->s, "schema_version", &v), 0);
    assert_string_equal(v, "1");
    free(v);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_int_equal(wb_store_put_meta(f->s, "big", big), WB_E_LIMIT);
    assert_int_equal(wb_store_put_meta(f->s, "", "x"), WB_E_INVALID);
}

static void test_open_rules_sqlite(void **state)
{
    fixture *f = *state;
    wb_store *s2 = NULL;
    wb_store_options create = {.create = 1}, open = {0};
    char path[4300], junk[4300];
    FILE *fp;

    /* refuses to create over an existing store */
    assert_int_equal(wb_store_open_sqlite(&s2, f->path, &create), WB_E_EXISTS);
    assert_non_null(strstr(wb_error_message(), "refusing"));
    /* refuses to open a missing one */
    snprintf(path, sizeof(path), "%s/missing.db", f->dir);
    assert_int_equal(wb_store_open_sqlite(&s2, path, &open), WB_E_NOTFOUND);
    struct stat sb;
    assert_int_not_equal(stat(path, &sb), 0); /* nothing created */
    /* a file that is not a waybill store */
    snprintf(junk, sizeof(junk), "%s/junk.db", f->dir);
    fp = fopen(junk, "w");
    fputs("this is not a database, just text long enough to matter............."
          "......................................................................",
          fp);
    fclose(fp);
    assert_int_not_equal(wb_store_open_sqlite(&s2, junk, &open), 0);
    /* an empty SQLite database without our schema */
    snprintf(junk, sizeof(junk), "%s/empty.db", f->dir);
    fp = fopen(junk, "w");
    fclose(fp);
    assert_int_equal(wb_store_open_sqlite(&s2, junk, &open), WB_E_CORRUPT);
    assert_non_null(strstr(wb_error_message(), "not a waybill store"));
}

static void test_two_handles_cas_conflict(void **state)
{
    fixture *f = *state;
    wb_store *s2;
    wb_store_options open = {0};
    wb_store_state st = {0};
    char cp[] = "x\n";
    st.checkpoint = cp;
    st.checkpoint_len = 2;
    assert_int_equal(wb_store_cas_state(f->s, WB_STORE_NO_STATE, &st), 0);
    (void)open;
    assert_int_equal(open_store(f, &s2, 0, 0), 0);
    /* both believe size 0; only the first CAS wins */
    st.size = 1;
    assert_int_equal(wb_store_cas_state(f->s, 0, &st), 0);
    st.size = 2;
    assert_int_equal(wb_store_cas_state(s2, 0, &st), WB_E_CONFLICT);
    wb_store_close(s2);
}

static void test_entry_ids(void **state)
{
    fixture *f = *state;
    uint8_t a[32], b[32];
    uint64_t idx = 99;
    memset(a, 0xa1, 32);
    memset(b, 0xb2, 32);
    assert_int_equal(wb_store_get_entry_id(f->s, a, &idx), WB_E_NOTFOUND);
    assert_int_equal(wb_store_begin(f->s), 0);
    assert_int_equal(wb_store_put_entry_id(f->s, a, 7), 0);
    assert_int_equal(wb_store_put_entry_id(f->s, a, 8), WB_E_EXISTS);
    assert_int_equal(wb_store_rollback(f->s), 0);
    /* rolled back with the transaction */
    assert_int_equal(wb_store_get_entry_id(f->s, a, &idx), WB_E_NOTFOUND);
    assert_int_equal(wb_store_put_entry_id(f->s, a, 7), 0);
    assert_int_equal(wb_store_put_entry_id(f->s, b, 0), 0);
    reopen(f);
    assert_int_equal(wb_store_get_entry_id(f->s, a, &idx), 0);
    assert_true(idx == 7);
    assert_int_equal(wb_store_get_entry_id(f->s, b, &idx), 0);
    assert_true(idx == 0);
    assert_int_equal(wb_store_put_entry_id(f->s, b, UINT64_MAX), WB_E_INVALID);
}

typedef struct {
    int rows;
    int64_t sum;
    char last[32];
    size_t bloblen;
} rows_ctx;

static int collect(void *vctx, const wb_sql_value *cols, size_t n)
{
    rows_ctx *c = vctx;
    assert_int_equal(n, 3);
    assert_int_equal(cols[0].type, WB_SQL_INT);
    c->rows++;
    c->sum += cols[0].i;
    if (cols[1].type == WB_SQL_TEXT)
        snprintf(c->last, sizeof(c->last), "%s", cols[1].s);
    c->bloblen = cols[2].type == WB_SQL_BLOB ? cols[2].len : 0;
    return 0;
}

static int stop_at_first(void *vctx, const wb_sql_value *cols, size_t n)
{
    (void)cols;
    (void)n;
    (*(int *)vctx)++;
    return 7;
}

static int first_int(void *vctx, const wb_sql_value *cols, size_t n)
{
    *(int64_t *)vctx = n > 0 && cols[0].type == WB_SQL_INT ? cols[0].i : -1;
    return 0;
}

static void test_sql(void **state)
{
    fixture *f = *state;
    rows_ctx c = {0};
    int calls = 0;
    static const uint8_t blob[3] = {1, 2, 3};
    assert_int_equal(wb_store_sql_script(f->s, "CREATE TABLE t (n INTEGER PRIMARY KEY, "
                                               "name TEXT, data BLOB);"), 0);
    for (int i = 1; i <= 5; i++) {
        char name[16];
        wb_sql_value args[3];
        snprintf(name, sizeof(name), "row%d", i);
        args[0] = WB_SQL_I(i);
        args[1] = WB_SQL_S(name);
        args[2] = WB_SQL_B(blob, (size_t)(i % 4));
        assert_int_equal(wb_store_sql(f->s, "INSERT INTO t VALUES ($1, $2, $3)", args, 3,
                                      NULL, NULL), 0);
        assert_int_equal(wb_store_sql_changes(f->s), 1);
    }
    {
        wb_sql_value args[1] = {WB_SQL_I(2)};
        assert_int_equal(wb_store_sql(f->s, "SELECT n, name, data FROM t WHERE n > $1 "
                                            "ORDER BY n", args, 1, collect, &c), 0);
    }
    assert_int_equal(c.rows, 3);
    assert_true(c.sum == 12);
    assert_string_equal(c.last, "row5");
    assert_int_equal(c.bloblen, 1);
    /* a duplicate key is WB_E_EXISTS; the callback's value stops a query */
    {
        wb_sql_value args[3] = {WB_SQL_I(1), WB_SQL_NUL, WB_SQL_NUL};
        assert_int_equal(wb_store_sql(f->s, "INSERT INTO t VALUES ($1, $2, $3)", args, 3,
                                      NULL, NULL), WB_E_EXISTS);
    }
    /* written for SQLite, translated for PostgreSQL */
    {
        wb_sql_value args[3] = {WB_SQL_I(1), WB_SQL_S("again"), WB_SQL_NUL};
        assert_int_equal(wb_store_sql(f->s, "INSERT OR IGNORE INTO t VALUES ($1, $2, $3)",
                                      args, 3, NULL, NULL), 0);
        assert_int_equal(wb_store_sql_changes(f->s), 0);
    }
    assert_int_equal(wb_store_sql_script(f->s, "CREATE TABLE u (k BLOB PRIMARY KEY, "
                                               "v REAL) WITHOUT ROWID;"), 0);
    assert_int_equal(wb_store_sql(f->s, "SELECT n, name, data FROM t", NULL, 0,
                                  stop_at_first, &calls), 7);
    assert_int_equal(calls, 1);
    assert_int_equal(wb_store_sql(f->s, "SELECT nonsense FROM nowhere", NULL, 0, NULL, NULL),
                     WB_E_STORE);
    assert_non_null(strstr(wb_error_message(), "nowhere"));
    /* statements are cached by SQL pointer: one buffer reused for 100
       different texts (more than either cache holds) gets each right */
    for (int round = 0; round < 2; round++)
        for (int k = 0; k < 100; k++) {
            char buf[96];
            int64_t got = -1;
            wb_sql_value args[1] = {WB_SQL_I(3)};
            snprintf(buf, sizeof(buf), "SELECT n + %d FROM t WHERE n = $1", k);
            assert_int_equal(wb_store_sql(f->s, buf, args, 1, first_int, &got), 0);
            assert_true(got == 3 + k);
        }
    /* inside a rolled-back transaction nothing stays */
    assert_int_equal(wb_store_begin(f->s), 0);
    assert_int_equal(wb_store_sql(f->s, "DELETE FROM t", NULL, 0, NULL, NULL), 0);
    assert_int_equal(wb_store_sql_changes(f->s), 5);
    assert_int_equal(wb_store_rollback(f->s), 0);
    memset(&c, 0, sizeof(c));
    assert_int_equal(wb_store_sql(f->s, "SELECT n, name, data FROM t", NULL, 0, collect, &c),
                     0);
    assert_int_equal(c.rows, 5);
}

/* ---- PostgreSQL only ---- */

static void pg_admin(const char *conninfo, const char *sql)
{
    PGconn *c = PQconnectdb(conninfo);
    PGresult *r;
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

static void test_open_rules_pg(void **state)
{
    fixture *f = *state;
    fixture other = {0};
    wb_store *s2 = NULL;
    char admin[700];

    /* refuses to create over an existing store */
    other.pg = 1;
    snprintf(other.path, sizeof(other.path), "%s", f->path);
    assert_int_equal(open_store(&other, &s2, 1, 0), WB_E_EXISTS);
    assert_non_null(strstr(wb_error_message(), "refusing"));
    /* a database without the tables is no store (and open creates none) */
    wbt_pg_createdb(&PG, other.path, sizeof(other.path));
    assert_int_equal(open_store(&other, &s2, 0, 0), WB_E_NOTFOUND);
    assert_int_equal(open_store(&other, &s2, 0, 0), WB_E_NOTFOUND);
    /* tables of that name that are not ours */
    pg_admin(other.path, "CREATE TABLE wb_meta (name TEXT, value TEXT)");
    assert_int_equal(open_store(&other, &s2, 0, 0), WB_E_CORRUPT);
    assert_non_null(strstr(wb_error_message(), "not a waybill store"));
    /* no server there */
    snprintf(other.path, sizeof(other.path),
             "host=127.0.0.1 port=1 user=postgres dbname=waybill connect_timeout=2");
    assert_int_equal(open_store(&other, &s2, 0, 0), WB_E_STORE);
    assert_non_null(strstr(wb_error_message(), "cannot connect"));
    /* a database that does not sort text bytewise is refused (ICU collation,
       when this PostgreSQL has ICU) */
    snprintf(admin, sizeof(admin), "%s", PG.conninfo);
    {
        PGconn *c = PQconnectdb(admin);
        PGresult *r = PQexec(c, "CREATE DATABASE wbtest_icu TEMPLATE template0 "
                                "LOCALE_PROVIDER icu ICU_LOCALE 'en' LOCALE 'C'");
        int icu = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        PQfinish(c);
        if (icu) {
            char *p = strstr(admin, "dbname=waybill");
            assert_non_null(p);
            memcpy(p, "dbname=wbtest_icu", strlen("dbname=wbtest_icu") + 1);
            strcat(admin, " connect_timeout=10");
            snprintf(other.path, sizeof(other.path), "%s", admin);
            assert_int_equal(open_store(&other, &s2, 1, 0), WB_E_INVALID);
            assert_non_null(strstr(wb_error_message(), "bytewise"));
        } else {
            print_message("no ICU in this PostgreSQL: collation check not exercised\n");
        }
    }
}

typedef struct {
    const fixture *f;
    int rc;
    int saw_first_commit; /* the first writer had committed when begin returned */
    volatile int *committed;
    uint64_t size_seen;
} writer_ctx;

static void *second_writer(void *vctx)
{
    writer_ctx *w = vctx;
    wb_store *s;
    wb_store_state st;
    if (open_store(w->f, &s, 0, 0) != 0) {
        w->rc = -100;
        return NULL;
    }
    w->rc = wb_store_begin(s); /* waits for the first writer's commit */
    w->saw_first_commit = *w->committed;
    if (w->rc == 0 && wb_store_get_state(s, &st) == 0) {
        w->size_seen = st.size;
        wb_store_state_cleanup(&st);
    }
    wb_store_rollback(s);
    wb_store_close(s);
    return NULL;
}

/* begin takes the writer lock: a second writer (another connection, as on
 * another node) waits for the first one's commit and then sees its state;
 * with a short lock_timeout it gives up instead */
static void test_pg_writer_lock(void **state)
{
    fixture *f = *state;
    volatile int committed = 0;
    writer_ctx w = {f, 0, 0, &committed, 0};
    wb_store_state st = {0};
    wb_store *s3;
    char cp[] = "c\n";
    pthread_t th;
    struct timespec pause = {0, 300 * 1000 * 1000};

    st.checkpoint = cp;
    st.checkpoint_len = 2;
    assert_int_equal(wb_store_cas_state(f->s, WB_STORE_NO_STATE, &st), 0);
    assert_int_equal(wb_store_begin(f->s), 0);
    assert_int_equal(pthread_create(&th, NULL, second_writer, &w), 0);
    nanosleep(&pause, NULL);
    /* a third writer with a 100 ms lock timeout gives up */
    assert_int_equal(open_store(f, &s3, 0, 100), 0);
    assert_int_equal(wb_store_begin(s3), WB_E_STORE);
    assert_non_null(strstr(wb_error_message(), "lock"));
    assert_int_equal(wb_store_begin(s3), WB_E_STORE); /* and is usable again */
    wb_store_close(s3);
    st.size = 9;
    assert_int_equal(wb_store_cas_state(f->s, 0, &st), 0);
    committed = 1;
    assert_int_equal(wb_store_commit(f->s), 0);
    pthread_join(th, NULL);
    assert_int_equal(w.rc, 0);
    assert_true(w.saw_first_commit);
    assert_true(w.size_seen == 9);
}

/* a failed statement aborts a PostgreSQL transaction: commit then fails
 * and says so, nothing of it lands, and the handle is usable again */
static void test_pg_failed_transaction(void **state)
{
    fixture *f = *state;
    wb_blob_key k = {WB_BLOB_TILE, 0, 3};
    uint8_t *data;
    size_t len;
    assert_int_equal(wb_store_begin(f->s), 0);
    assert_int_equal(wb_store_put_blob(f->s, k, (const uint8_t *)"x", 1), 0);
    assert_int_equal(wb_store_sql(f->s, "SELECT nonsense FROM nowhere", NULL, 0, NULL, NULL),
                     WB_E_STORE);
    assert_int_equal(wb_store_commit(f->s), WB_E_STORE);
    assert_int_equal(wb_store_get_blob(f->s, k, &data, &len), WB_E_NOTFOUND);
    assert_int_equal(wb_store_begin(f->s), 0);
    assert_int_equal(wb_store_put_blob(f->s, k, (const uint8_t *)"y", 1), 0);
    assert_int_equal(wb_store_commit(f->s), 0);
    assert_int_equal(wb_store_get_blob(f->s, k, &data, &len), 0);
    free(data);
}

static int pg_group_setup(void **state)
{
    (void)state;
    wbt_pg_start(&PG, "store");
    return 0;
}

static int pg_group_teardown(void **state)
{
    (void)state;
    wbt_pg_stop(&PG);
    return 0;
}

#define CONTRACT(setup)                                                                      \
    cmocka_unit_test_setup_teardown(test_blob_put_get_replace, setup, teardown),             \
        cmocka_unit_test_setup_teardown(test_blob_key_limits, setup, teardown),              \
        cmocka_unit_test_setup_teardown(test_state_cas, setup, teardown),                    \
        cmocka_unit_test_setup_teardown(test_transaction_rollback_and_commit, setup,         \
                                        teardown),                                           \
        cmocka_unit_test_setup_teardown(test_meta, setup, teardown),                         \
        cmocka_unit_test_setup_teardown(test_two_handles_cas_conflict, setup, teardown),     \
        cmocka_unit_test_setup_teardown(test_entry_ids, setup, teardown),                    \
        cmocka_unit_test_setup_teardown(test_sql, setup, teardown)

int main(void)
{
    const struct CMUnitTest sqlite_tests[] = {
        CONTRACT(setup_sqlite),
        cmocka_unit_test_setup_teardown(test_open_rules_sqlite, setup_sqlite, teardown),
    };
    const struct CMUnitTest pg_tests[] = {
        CONTRACT(setup_pg),
        cmocka_unit_test_setup_teardown(test_open_rules_pg, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_pg_writer_lock, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_pg_failed_transaction, setup_pg, teardown),
    };
    int failed = cmocka_run_group_tests_name("store/sqlite", sqlite_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("store/postgres", pg_tests, pg_group_setup,
                                          pg_group_teardown);
    return failed;
}
