/*
 * test_tls.c: `waybill serve` over HTTPS (docs/tls.md). A throwaway CA,
 * a server certificate for 127.0.0.1/localhost and client certificates are
 * made here with the crypto layer's X.509 issuing; then:
 *   - HTTPS with the CA: a statement registered, its receipt fetched and
 *     verified against the keys the service publishes over HTTPS;
 *   - a client without the CA, or with another CA, fails verification;
 *     plain HTTP to the TLS port gets no answer;
 *   - plain HTTP listens on loopback only: a non-loopback address without
 *     [tls] does not start (unless allow_plain_http), --dev neither;
 *   - mTLS (the real binary, its access log read back): client_auth =
 *     required refuses a client without a certificate and one from another
 *     CA, accepts one from client_ca and logs its fingerprint
 *     (srv_client_cert_sha256); optional serves both and names only the
 *     verified one, and a persona named by that fingerprint reads /fleet;
 *   - the CLI with --tls-ca/--tls-cert/--tls-key and WAYBILL_CA_FILE:
 *     waybill submit, waybill audit.
 */
#include "wbtest_scitt.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "waybill/error.h"
#include "waybill/util.h"

typedef struct {
    char *dir;
    char path[4200];
} fixture;

static fixture F;

/* DIR/name */
static const char *at(const char *name)
{
    static char buf[4][4400];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof(buf[k]), "%s/%s", F.dir, name);
    return buf[k];
}

static void write_cert(const char *name, const uint8_t *der, size_t len)
{
    char *pem;
    assert_int_equal(wb_x509_der_to_pem(&pem, der, len), 0);
    wbt_write_file(at(name), pem, strlen(pem));
    free(pem);
}

/* a key (NAME.key, PKCS#8 PEM) and its certificate (NAME.pem) under ca */
static void issue(const char *name, const wb_key *ca_key, const uint8_t *ca_der,
                  size_t ca_len, const char *san, int client, uint64_t serial,
                  uint8_t fp[32])
{
    wb_key *k;
    uint8_t *der;
    size_t len;
    char file[256];
    assert_int_equal(wb_key_generate(&k, WB_ALG_ES256), 0);
    if (wb_x509_issue_tls(&der, &len, k, name, ca_key, ca_der, ca_len, serial, 2, san,
                          client) != 0)
        fail_msg("issue %s: %s", name, wb_error_message());
    snprintf(file, sizeof(file), "%s.pem", name);
    write_cert(file, der, len);
    snprintf(file, sizeof(file), "%s.key", name);
    assert_int_equal(wb_key_write_file(k, at(file), 1), 0);
    if (fp)
        assert_int_equal(wb_sha256(fp, der, len), 0);
    free(der);
    wb_key_free(k);
}

/* a self-signed CA in NAME.pem (its key stays in memory) */
static void make_ca(const char *name, wb_key **key, uint8_t **der, size_t *len)
{
    char file[256];
    assert_int_equal(wb_key_generate(key, WB_ALG_ES256), 0);
    assert_int_equal(wb_x509_issue(der, len, *key, name, "waybill tests", *key, NULL, 0, 1, 1,
                                   2), 0);
    snprintf(file, sizeof(file), "%s.pem", name);
    write_cert(file, *der, *len);
}

static uint8_t client_fp[32], stranger_fp[32];

static int setup(void **state)
{
    wb_key *ca, *other;
    uint8_t *ca_der, *other_der;
    size_t ca_len, other_len;
    (void)state;
    F.dir = wbt_tmpdir("tls");
    /* one CA for the server and the clients, another that the server does not trust */
    make_ca("ca", &ca, &ca_der, &ca_len);
    make_ca("other-ca", &other, &other_der, &other_len);
    issue("server", ca, ca_der, ca_len, "IP:127.0.0.1,DNS:localhost", 0, 2, NULL);
    issue("client", ca, ca_der, ca_len, NULL, 1, 3, client_fp);
    issue("stranger", other, other_der, other_len, NULL, 1, 4, stranger_fp);
    wb_key_free(ca);
    wb_key_free(other);
    free(ca_der);
    free(other_der);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    wb_http_set_tls(NULL, NULL, NULL);
    wbt_rmtree(F.dir);
    free(F.dir);
    return 0;
}

/* a development-mode configuration in DIR/data-TAG with an issuer key */
static void dev_config(wb_server_config *cfg, const char *tag, wb_key **issuer)
{
    char data[4400], issuers[4500];
    snprintf(data, sizeof(data), "%s/data-%s", F.dir, tag);
    assert_int_equal(mkdir(data, 0700), 0);
    snprintf(issuers, sizeof(issuers), "%s/issuers", data);
    assert_int_equal(mkdir(issuers, 0755), 0);
    assert_int_equal(wb_key_generate(issuer, WB_ALG_ES256), 0);
    strcat(issuers, "/acme.pem");
    assert_int_equal(wb_key_write_file(*issuer, issuers, 0), 0);
    wb_server_config_init(cfg);
    assert_int_equal(wb_server_config_dev(cfg, data), 0);
    cfg->service.sync_normal = 1;
    free(cfg->listen);
    cfg->listen = strdup("127.0.0.1:0");
}

static int get_status(long *status, const char *url)
{
    wb_http_response r;
    int rc = wb_http_request(&r, "GET", url, NULL, 0, NULL, NULL, 10);
    *status = rc == 0 ? r.status : 0;
    if (rc == 0)
        wb_http_response_cleanup(&r);
    return rc;
}

static void test_https(void **state)
{
    wb_server_config cfg;
    wb_server *srv = NULL;
    wb_key *issuer;
    wb_http_response r;
    wb_receipt_info info;
    char url[96], plain[96], path[600];
    uint8_t *st;
    size_t len;
    long status;
    (void)state;

    dev_config(&cfg, "https", &issuer);
    cfg.tls.cert_file = strdup(at("server.pem"));
    cfg.tls.key_file = strdup(at("server.key"));
    if (wb_server_start(&srv, &cfg) != 0)
        fail_msg("server start: %s", wb_error_message());
    wb_server_config_cleanup(&cfg);
    snprintf(url, sizeof(url), "https://127.0.0.1:%u", wb_server_port(srv));
    snprintf(plain, sizeof(plain), "http://127.0.0.1:%u", wb_server_port(srv));

    /* with the CA: register, fetch the receipt again, verify it */
    assert_int_equal(wb_http_set_tls(at("ca.pem"), NULL, NULL), 0);
    st = wbt_statement(&len, issuer, "acme", "rot-1", "application/json", "{\"n\":1}", NULL, 0);
    wbt_post(&r, url, st, len, "application/cose");
    if (r.status != 201)
        fail_msg("POST /entries over HTTPS: HTTP %ld", r.status);
    snprintf(path, sizeof(path), "%s", r.location);
    wb_http_response_cleanup(&r);
    wbt_get(&r, url, path);
    assert_int_equal(r.status, 200);
    if (wbt_verify_receipt(url, r.body, r.len, st, len, &info) != 0)
        fail_msg("receipt over HTTPS: %s", wb_error_message());
    wb_http_response_cleanup(&r);
    snprintf(path, sizeof(path), "%s/healthz", url);
    assert_int_equal(get_status(&status, path), 0);
    assert_int_equal(status, 200);
    /* by host name too: the certificate names localhost */
    snprintf(path, sizeof(path), "https://localhost:%u/healthz", wb_server_port(srv));
    assert_int_equal(get_status(&status, path), 0);

    /* without the CA (libcurl's default store), or with another CA: refused */
    snprintf(path, sizeof(path), "%s/healthz", url);
    assert_int_equal(wb_http_set_tls(NULL, NULL, NULL), 0);
    assert_int_equal(get_status(&status, path), WB_E_IO);
    assert_int_equal(wb_http_set_tls(at("other-ca.pem"), NULL, NULL), 0);
    assert_int_equal(get_status(&status, path), WB_E_IO);
    /* the CA file of the environment, when wb_http_set_tls was not called, is
     * what the CLI relies on; here the explicit setting wins */
    setenv("WAYBILL_CA_FILE", at("ca.pem"), 1);
    assert_int_equal(get_status(&status, path), WB_E_IO);
    unsetenv("WAYBILL_CA_FILE");

    /* plain HTTP to the TLS port gets no HTTP answer */
    snprintf(path, sizeof(path), "%s/healthz", plain);
    assert_int_not_equal(get_status(&status, path) == 0 && status == 200, 1);

    /* pinned by its key (how the server's own scheduler reaches it): no CA
     * needed, any other key refused */
    {
        uint8_t **der = NULL, pin[32];
        size_t *dlen = NULL, n = 0;
        char prefix[100];
        wb_key *leaf;
        assert_int_equal(wb_x509_pem_chain(&der, &dlen, &n, at("server.pem")), 0);
        assert_int_equal(wb_key_from_x509_der(&leaf, der[0], dlen[0]), 0);
        assert_int_equal(wb_key_default_kid(pin, leaf), 0); /* SHA-256 of the SPKI */
        wb_key_free(leaf);
        wb_x509_chain_free(der, dlen, n);
        snprintf(prefix, sizeof(prefix), "%s/", url);
        snprintf(path, sizeof(path), "%s/healthz", url);
        assert_int_equal(wb_http_pin(prefix, pin, NULL, NULL), 0);
        assert_int_equal(get_status(&status, path), 0);
        assert_int_equal(status, 200);
        wb_http_unpin(prefix);
        assert_int_equal(get_status(&status, path), WB_E_IO);
        pin[0] ^= 1;
        assert_int_equal(wb_http_pin(prefix, pin, NULL, NULL), 0);
        assert_int_equal(get_status(&status, path), WB_E_IO);
        wb_http_unpin(prefix);
    }

    /* a missing CA file is refused when set, not at the first request */
    assert_int_equal(wb_http_set_tls(at("nothing.pem"), NULL, NULL), WB_E_NOTFOUND);
    assert_int_equal(wb_http_set_tls(NULL, NULL, at("client.key")), WB_E_INVALID);

    assert_int_equal(wb_http_set_tls(NULL, NULL, NULL), 0);
    wb_server_stop(srv);
    free(st);
    wb_key_free(issuer);
}

static void test_plain_http_loopback_only(void **state)
{
    wb_server_config cfg;
    wb_server *srv = NULL;
    wb_key *issuer;
    (void)state;

    /* a configuration (not dev) on every address without [tls]: refused */
    dev_config(&cfg, "plain", &issuer);
    cfg.service.dev = 0;
    free(cfg.listen);
    cfg.listen = strdup("0.0.0.0:0");
    assert_int_equal(wb_server_start(&srv, &cfg), WB_E_INVALID);
    assert_non_null(strstr(wb_error_message(), "not a loopback address"));
    assert_non_null(strstr(wb_error_message(), "[tls]"));
    /* unless it says so */
    cfg.allow_plain_http = 1;
    cfg.service.dev = 1;
    assert_int_equal(wb_server_start(&srv, &cfg), WB_E_INVALID); /* --dev: never */
    assert_non_null(strstr(wb_error_message(), "development mode"));
    cfg.service.dev = 0;
    {
        /* outside development mode the receipt and admin keys must exist */
        wb_key *k;
        assert_int_equal(wb_key_generate(&k, WB_ALG_ES256), 0);
        assert_int_equal(wb_key_write_file(k, cfg.service.receipt_key_file, 1), 0);
        assert_int_equal(wb_key_write_file(k, cfg.fleet.admin_key_files[0], 0), 0);
        wb_key_free(k);
    }
    if (wb_server_start(&srv, &cfg) != 0)
        fail_msg("allow_plain_http: %s", wb_error_message());
    wb_server_stop(srv);
    /* with [tls] any address is fine */
    cfg.allow_plain_http = 0;
    cfg.tls.cert_file = strdup(at("server.pem"));
    cfg.tls.key_file = strdup(at("server.key"));
    if (wb_server_start(&srv, &cfg) != 0)
        fail_msg("TLS on 0.0.0.0: %s", wb_error_message());
    wb_server_stop(srv);
    /* a key that is not the certificate's is named at start-up */
    free(cfg.tls.key_file);
    cfg.tls.key_file = strdup(at("client.key"));
    assert_int_not_equal(wb_server_start(&srv, &cfg), 0);
    assert_non_null(strstr(wb_error_message(), "[tls] cert"));
    /* loopback in IPv6 is plain HTTP's too */
    free(cfg.tls.cert_file);
    free(cfg.tls.key_file);
    cfg.tls.cert_file = cfg.tls.key_file = NULL;
    free(cfg.listen);
    cfg.listen = strdup("[::1]:0");
    if (wb_server_start(&srv, &cfg) == 0)
        wb_server_stop(srv);
    else
        assert_null(strstr(wb_error_message(), "loopback")); /* no IPv6 here: fine */
    wb_server_config_cleanup(&cfg);
    wb_key_free(issuer);
}

/* ---- the real binary, for its access log and the CLI ---- */

typedef struct {
    pid_t pid;
    char url[96];
    char log[4400];
} proc;

static void serve(proc *p, const char *tag, const char *client_auth, const char *extra)
{
    const char *bin = getenv("WB_BIN");
    char ini[4400], data[4400], port[4400], text[16000];
    wb_key *k;
    assert_non_null(bin);
    snprintf(data, sizeof(data), "%s/bin-%s", F.dir, tag);
    snprintf(port, sizeof(port), "%s/bin-%s.port", F.dir, tag);
    snprintf(ini, sizeof(ini), "%s/bin-%s.ini", F.dir, tag);
    snprintf(p->log, sizeof(p->log), "%s/bin-%s.log", F.dir, tag);
    assert_int_equal(mkdir(data, 0700), 0);
    /* the issuer the CLI signs with: development mode takes DATA/issuers/NAME.pem */
    {
        char issuers[4500];
        snprintf(issuers, sizeof(issuers), "%s/issuers", data);
        assert_int_equal(mkdir(issuers, 0755), 0);
        strcat(issuers, "/acme.pem");
        assert_int_equal(wb_key_read_file(&k, at("acme.key")), 0);
        assert_int_equal(wb_key_write_file(k, issuers, 0), 0);
        wb_key_free(k);
    }
    snprintf(text, sizeof(text),
             "[service]\nname = localhost/tls-%s\ndata_dir = %s\ndev = true\n"
             "listen = 127.0.0.1:0\nport_file = %s\nlog_requests = true\n"
             "[batch]\ndurability = normal\n"
             "[tls]\ncert = server.pem\nkey = server.key\nclient_ca = ca.pem\n"
             "client_auth = %s\n%s",
             tag, data, port, client_auth, extra);
    wbt_write_file(ini, text, strlen(text));
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        int fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int devnull = open("/dev/null", O_WRONLY);
        if (fd < 0 || devnull < 0)
            _exit(127);
        dup2(devnull, 1);
        dup2(fd, 2);
        execl(bin, bin, "serve", "--config", ini, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        struct stat sb;
        if (stat(port, &sb) == 0 && sb.st_size > 0) {
            char *t = wbt_read_file(port, NULL);
            snprintf(p->url, sizeof(p->url), "https://127.0.0.1:%d", atoi(t));
            free(t);
            return;
        }
        usleep(25000);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    fail_msg("the server did not start: %s", wbt_read_file(p->log, NULL));
}

static void stop(proc *p)
{
    int status;
    kill(p->pid, SIGTERM);
    waitpid(p->pid, &status, 0);
}

/* the access log holds "client_cert=<first 16 hex of fp>" */
static int logged(const proc *p, const uint8_t fp[32])
{
    char hex[65], needle[96];
    char *text = wbt_read_file(p->log, NULL);
    int found;
    wb_hex_encode(hex, fp, 8);
    snprintf(needle, sizeof(needle), "client_cert=%s", hex);
    found = strstr(text, needle) != NULL;
    free(text);
    return found;
}

static int count(const proc *p, const char *needle)
{
    char *text = wbt_read_file(p->log, NULL);
    int n = 0;
    for (const char *q = text; (q = strstr(q, needle)) != NULL; q++)
        n++;
    free(text);
    return n;
}

/* runs the CLI with arguments (NULL-terminated); its exit code */
static int cli(const char *env_ca, const char *const *args)
{
    const char *bin = getenv("WB_BIN");
    const char *argv[32];
    int n = 0, status;
    pid_t pid;
    argv[n++] = bin;
    while (*args && n < 31)
        argv[n++] = *args++;
    argv[n] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open(getenv("WBT_TLS_VERBOSE") ? "/dev/stderr" : "/dev/null", O_WRONLY);
        int err = open(at("cli.err"), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (devnull >= 0)
            dup2(devnull, 1);
        if (err >= 0)
            dup2(err, 2);
        if (env_ca)
            setenv("WAYBILL_CA_FILE", env_ca, 1);
        else
            unsetenv("WAYBILL_CA_FILE");
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    waitpid(pid, &status, 0);
    if (getenv("WBT_TLS_VERBOSE")) {
        char *err = wbt_read_file(at("cli.err"), NULL);
        fprintf(stderr, "cli %s: %s\n", argv[1], err);
        free(err);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_mtls_required(void **state)
{
    proc p;
    char url[160];
    long status;
    wb_key *k;
    uint8_t *st;
    size_t len;
    (void)state;

    /* the issuer the CLI signs with, and a statement */
    assert_int_equal(wb_key_generate(&k, WB_ALG_ES256), 0);
    assert_int_equal(wb_key_write_file(k, at("acme.key"), 1), 0);
    st = wbt_statement(&len, k, "acme", "rot-2", "application/json", "{\"n\":2}", NULL, 0);
    wbt_write_file(at("st.cose"), st, len);
    free(st);
    wb_key_free(k);

    serve(&p, "required", "required", "");
    snprintf(url, sizeof(url), "%s/healthz", p.url);
    /* no client certificate: the handshake fails, no request is seen */
    assert_int_equal(wb_http_set_tls(at("ca.pem"), NULL, NULL), 0);
    assert_int_equal(get_status(&status, url), WB_E_IO);
    /* a certificate from a CA that is not client_ca: refused too */
    assert_int_equal(wb_http_set_tls(at("ca.pem"), at("stranger.pem"), at("stranger.key")), 0);
    assert_int_equal(get_status(&status, url), WB_E_IO);
    assert_int_equal(count(&p, "msg=request"), 0);
    /* one from client_ca: served, its fingerprint in the access log */
    assert_int_equal(wb_http_set_tls(at("ca.pem"), at("client.pem"), at("client.key")), 0);
    assert_int_equal(get_status(&status, url), 0);
    assert_int_equal(status, 200);
    assert_true(logged(&p, client_fp));
    assert_false(logged(&p, stranger_fp));
    assert_int_equal(wb_http_set_tls(NULL, NULL, NULL), 0);

    /* the CLI: the global options, before or after the command's own */
    {
        /* at() keeps only its last few answers: each path in its own buffer */
        char keyopt[4500], ca[4400], st_file[4400], cert[4400], key[4400], db[4400];
        char nothing[4400];
        const char *no_cert[] = {"submit", "--tls-ca", ca, "--url", p.url, st_file, NULL};
        const char *with_cert[] = {"--tls-ca", ca, "submit", "--url", p.url, "--tls-cert",
                                   cert, keyopt, st_file, NULL};
        const char *audit[] = {"audit", p.url, "--state", db, "--allow-unknown-signers",
                               "--tls-cert", cert, "--tls-key", key, NULL};
        const char *bad_ca[] = {"submit", "--tls-ca", nothing, "--url", p.url, st_file, NULL};
        snprintf(keyopt, sizeof(keyopt), "--tls-key=%s", at("client.key"));
        snprintf(key, sizeof(key), "%s", at("client.key"));
        snprintf(cert, sizeof(cert), "%s", at("client.pem"));
        snprintf(ca, sizeof(ca), "%s", at("ca.pem"));
        snprintf(st_file, sizeof(st_file), "%s", at("st.cose"));
        snprintf(db, sizeof(db), "%s", at("audit.db"));
        snprintf(nothing, sizeof(nothing), "%s", at("nothing.pem"));
        assert_int_equal(cli(NULL, no_cert), 4);     /* cannot connect: I/O */
        assert_int_equal(cli(NULL, with_cert), 0);
        assert_int_equal(cli(at("ca.pem"), audit), 0); /* the CA from WAYBILL_CA_FILE */
        assert_int_equal(cli(NULL, audit), 4);         /* no CA: the server is not trusted */
        assert_int_equal(cli(NULL, bad_ca), 4);
    }
    stop(&p);
}

static void test_mtls_optional(void **state)
{
    proc p;
    char url[160], fleet[160], persona[256], hex[65];
    long status;
    (void)state;
    /* a persona named by the client certificate's fingerprint: with personas
     * configured, anonymous readers are public and may not read /fleet */
    wb_hex_encode(hex, client_fp, 32);
    snprintf(persona, sizeof(persona), "[persona auditor-1]\nkind = auditor\n"
             "cert_sha256 = %s\n", hex);
    serve(&p, "optional", "optional", persona);
    snprintf(url, sizeof(url), "%s/healthz", p.url);
    snprintf(fleet, sizeof(fleet), "%s/fleet", p.url);
    assert_int_equal(wb_http_set_tls(at("ca.pem"), NULL, NULL), 0);
    assert_int_equal(get_status(&status, url), 0);
    assert_int_equal(status, 200);
    /* a certificate that does not verify is served but not named */
    assert_int_equal(wb_http_set_tls(at("ca.pem"), at("stranger.pem"), at("stranger.key")), 0);
    if (get_status(&status, url) == 0)
        assert_int_equal(status, 200);
    assert_false(logged(&p, stranger_fp));
    assert_int_equal(wb_http_set_tls(at("ca.pem"), at("client.pem"), at("client.key")), 0);
    assert_int_equal(get_status(&status, url), 0);
    assert_int_equal(status, 200);
    assert_true(logged(&p, client_fp));
    assert_int_equal(count(&p, "client_cert="), 1);
    /* the certificate is the persona: /fleet with it, 401 without it or with
     * a certificate that did not verify */
    assert_int_equal(get_status(&status, fleet), 0);
    assert_int_equal(status, 200);
    assert_int_equal(wb_http_set_tls(at("ca.pem"), at("stranger.pem"), at("stranger.key")), 0);
    if (get_status(&status, fleet) == 0)
        assert_int_equal(status, 401);
    assert_int_equal(wb_http_set_tls(at("ca.pem"), NULL, NULL), 0);
    assert_int_equal(get_status(&status, fleet), 0);
    assert_int_equal(status, 401);
    assert_int_equal(wb_http_set_tls(NULL, NULL, NULL), 0);
    stop(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_https),
        cmocka_unit_test(test_plain_http_loopback_only),
        cmocka_unit_test(test_mtls_required),
        cmocka_unit_test(test_mtls_optional),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, setup, teardown);
}
