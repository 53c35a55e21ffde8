/*
 * test_config.c: the INI configuration of `waybill serve` (config.c):
 * every key is read, relative paths are taken from the file's directory,
 * and every mistake is an error that names file, section and key.
 */
#include "wbtest.h"

#include <string.h>

#include "waybill/error.h"
#include "waybill/server.h"

static char *dir;

static const char *write_ini(const char *name, const char *text)
{
    static char path[4300];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_full_file(void **state)
{
    (void)state;
    wb_server_config c;
    wb_key *k;
    char keypath[4300];
    snprintf(keypath, sizeof(keypath), "%s/acme.pub", dir);
    assert_int_equal(wb_key_generate(&k, WB_ALG_ES256), 0);
    assert_int_equal(wb_key_write_file(k, keypath, 0), 0);
    wb_key_free(k);
    const char *path = write_ini("full.ini",
        "; a comment\n"
        "[service]\nname = ledger.example.com/prod\ndata_dir = data\n"
        "listen = 127.0.0.1:9999\nthreads = 3\ndev = false\nlog_requests = yes\n"
        "database = host=db.example.com port=5433 dbname=waybill\n"
        "[batch]\nmax_entries = 250\ninterval_ms = 7\nregister_wait_ms = 1234\n"
        "durability = normal\n"
        "[limits]\nmax_body = 30000\nmax_headers = 20\nqueue_max = 77\n"
        "connection_limit = 99\nconnection_timeout_s = 5\n"
        "[issuer acme]\nkey = acme.pub\ncontent_types = application/json, text/plain\n"
        "[issuer contoso]\nanchor = /etc/ca.pem\n");
    wb_server_config_init(&c);
    if (wb_server_config_load(&c, path) != 0)
        fail_msg("%s", wb_error_message());
    assert_string_equal(c.service.name, "ledger.example.com/prod");
    assert_non_null(strstr(c.service.data_dir, dir));        /* made absolute */
    assert_non_null(strstr(c.service.receipt_key_file, "/data/service.key"));
    assert_string_equal(c.listen, "127.0.0.1:9999");
    assert_string_equal(c.service.database, "host=db.example.com port=5433 dbname=waybill");
    assert_int_equal(c.threads, 3);
    assert_int_equal(c.log_requests, 1);
    assert_int_equal(c.service.batch_max, 250);
    assert_int_equal(c.service.batch_interval_ms, 7);
    assert_int_equal(c.service.register_wait_ms, 1234);
    assert_int_equal(c.service.sync_normal, 1);
    assert_int_equal(c.max_body, 30000);
    assert_int_equal(c.max_headers, 20);
    assert_int_equal(c.service.queue_max, 77);
    assert_int_equal(c.connection_limit, 99);
    assert_int_equal(c.connection_timeout_s, 5);
    assert_int_equal(c.service.nissuers, 2);
    assert_string_equal(c.service.issuers[0].name, "acme");
    assert_non_null(c.service.issuers[0].key);
    assert_int_equal(c.service.issuers[0].kid_len, 32);
    assert_int_equal(c.service.issuers[0].ncontent_types, 2);
    assert_string_equal(c.service.issuers[0].content_types[1], "text/plain");
    assert_string_equal(c.service.issuers[1].anchor_file, "/etc/ca.pem");
    wb_server_config_cleanup(&c);
}

static void expect_error(const char *text, const char *says)
{
    wb_server_config c;
    const char *path = write_ini("bad.ini", text);
    wb_server_config_init(&c);
    if (wb_server_config_load(&c, path) == 0)
        fail_msg("accepted: %s", text);
    if (!strstr(wb_error_message(), says))
        fail_msg("error '%s' does not say '%s'", wb_error_message(), says);
    wb_server_config_cleanup(&c);
}

static void test_mistakes_are_named(void **state)
{
    (void)state;
    static const char base[] = "[service]\nname = x\ndata_dir = d\n";
    char buf[512];
    expect_error("[service]\ndata_dir = d\n", "name is required");
    expect_error("[service]\nname = x\n", "data_dir is required");
    snprintf(buf, sizeof(buf), "%s[service]\nlisten_port = 1\n", base);
    expect_error(buf, "[service] listen_port: unknown key");
    snprintf(buf, sizeof(buf), "%s[batch]\nmax_entries = 0\n", base);
    expect_error(buf, "[batch] max_entries");
    snprintf(buf, sizeof(buf), "%s[batch]\ninterval_ms = ten\n", base);
    expect_error(buf, "interval_ms");
    snprintf(buf, sizeof(buf), "%s[batch]\ndurability = maybe\n", base);
    expect_error(buf, "not full or normal");
    snprintf(buf, sizeof(buf), "%s[limits]\nmax_body = 70000\n", base);
    expect_error(buf, "max_body");
    snprintf(buf, sizeof(buf), "%s[service]\ndev = perhaps\n", base);
    expect_error(buf, "not true or false");
    snprintf(buf, sizeof(buf), "%s[nonsense]\nx = 1\n", base);
    expect_error(buf, "unknown section [nonsense]");
    snprintf(buf, sizeof(buf), "%s[issuer lonely]\ncontent_types = a/b\n", base);
    expect_error(buf, "[issuer lonely] needs a key or an anchor");
    snprintf(buf, sizeof(buf), "%s[issuer x]\nkey = /no/such.pem\n", base);
    expect_error(buf, "[issuer x] key");
    snprintf(buf, sizeof(buf), "%s[issuer x]\nkid = ABCD\n", base);
    expect_error(buf, "kid");
    expect_error("this is not ini\n", "line 1");
    {
        wb_server_config c;
        wb_server_config_init(&c);
        assert_int_equal(wb_server_config_load(&c, "/no/such/file.ini"), WB_E_NOTFOUND);
        wb_server_config_cleanup(&c);
    }
}

/* [ui]: the web console's directory and switch (docs/console.md) */
static void test_ui_keys(void **state)
{
    (void)state;
    wb_server_config c;
    char want[4400];
    static const char base[] = "[service]\nname = x\ndata_dir = d\n";
    char buf[512];
    const char *path;
    wb_server_config_init(&c);
    assert_int_equal(c.ui.enabled, 1); /* served by default */
    assert_null(c.ui.dir);             /* the source tree's ui/ */
    wb_server_config_cleanup(&c);
    snprintf(buf, sizeof(buf), "%s[ui]\nenabled = false\ndir = console\n", base);
    path = write_ini("ui.ini", buf);
    wb_server_config_init(&c);
    if (wb_server_config_load(&c, path) != 0)
        fail_msg("%s", wb_error_message());
    assert_int_equal(c.ui.enabled, 0);
    snprintf(want, sizeof(want), "%s/console", dir); /* relative to the file */
    assert_string_equal(c.ui.dir, want);
    wb_server_config_cleanup(&c);
    snprintf(buf, sizeof(buf), "%s[ui]\nenabled = sometimes\n", base);
    expect_error(buf, "not true or false");
    snprintf(buf, sizeof(buf), "%s[ui]\ncolour = blue\n", base);
    expect_error(buf, "[ui] colour: unknown key");
}

static void test_dev_defaults(void **state)
{
    (void)state;
    wb_server_config c;
    wb_server_config_init(&c);
    assert_int_equal(wb_server_config_dev(&c, "/tmp/x"), 0);
    assert_int_equal(c.service.dev, 1);
    assert_string_equal(c.service.data_dir, "/tmp/x");
    assert_string_equal(c.service.receipt_key_file, "/tmp/x/service.key");
    assert_string_equal(c.listen, "127.0.0.1:8080");
    assert_int_equal(c.service.batch_max, 1000);
    assert_int_equal(c.max_body, 65535);
    wb_server_config_cleanup(&c);
}

static int setup(void **state)
{
    (void)state;
    dir = wbt_tmpdir("config");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    wbt_rmtree(dir);
    free(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_mistakes_are_named),
        cmocka_unit_test(test_ui_keys),
        cmocka_unit_test(test_dev_defaults),
    };
    return cmocka_run_group_tests_name("server/config", tests, setup, teardown);
}
