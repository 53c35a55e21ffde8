/*
 * serve.c: `waybill serve`: run the transparency service over HTTP.
 *
 *   waybill serve --dev DIR [--listen ADDR:PORT]   try it out, no config
 *   waybill serve --config FILE [--listen ADDR:PORT]
 *
 * Runs until SIGINT or SIGTERM, then stops accepting, finishes the batch
 * in progress and closes the log: nothing acknowledged is lost.
 */
#include "cli.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/error.h"
#include "waybill/server.h"
#include "waybill/util.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_serve = {
    .group = NULL,
    .name = "serve",
    .summary = "run the transparency service (HTTP)",
    .usage =
        "usage: waybill serve --dev DIR [--database CONNINFO] [--listen ADDR:PORT]\n"
        "                     [--port-file FILE]\n"
        "       waybill serve --config FILE [--listen ADDR:PORT] [--port-file FILE]\n"
        "\n"
        "Serves the SCITT registration API (POST /entries), receipts, the C2SP\n"
        "checkpoint and tiles, and /metrics (docs/http-api.md) until SIGINT or\n"
        "SIGTERM; then it finishes the batch in progress and exits.\n"
        "\n"
        "--dev DIR     development mode, no configuration: creates the log and an\n"
        "              ES256 receipt key in DIR when missing, accepts statements whose\n"
        "              x5chain leaf signature verifies (no trust anchor needed) or\n"
        "              whose kid is that of a public key file DIR/issuers/*.pem.\n"
        "              Never use it for real provenance.\n"
        "--database C  keep the log and the fleet tables in this PostgreSQL database\n"
        "              (libpq conninfo, e.g. postgresql://waybill@db/waybill), keys\n"
        "              in DIR; overrides [service] database.\n"
        "--config FILE the INI configuration (docs/configuration.md).\n"
        "--listen A:P  listen address (default 127.0.0.1:8080 or the config's);\n"
        "              port 0 picks a free port. Plain HTTP (--dev, or no [tls]) only\n"
        "              on loopback, unless [service] allow_plain_http (docs/tls.md).\n"
        "--port-file F write the port it listens on to F once ready (for scripts).\n"
        "\n"
        "exit codes: 0 stopped by a signal, 2 usage, 3 bad configuration,\n"
        "            4 cannot listen or missing files, 5 storage failure\n",
    .run = run,
};


static int run(int argc, char **argv)
{
    const char *dev = NULL, *config = NULL, *listen = NULL, *port_file = NULL;
    const char *database = NULL;
    cli_opt opts[] = {{"--dev", &dev},       {"--config", &config},
                      {"--listen", &listen}, {"--port-file", &port_file},
                      {"--database", &database}};
    char *pos[1];
    cli_args a;
    wb_server_config cfg;
    wb_server *srv = NULL;
    sigset_t set;
    int rc, sig = 0;

    rc = cli_parse(&wb_cmd_serve, argc, argv, opts, 5, &a, pos, 0);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!dev == !config)
        return cli_usage_error(&wb_cmd_serve, "give exactly one of --dev DIR or --config FILE");
    wb_server_config_init(&cfg);
    rc = config ? wb_server_config_load(&cfg, config) : wb_server_config_dev(&cfg, dev);
    if (rc == 0 && listen) {
        free(cfg.listen);
        cfg.listen = strdup(listen);
    }
    if (rc == 0 && database) {
        free(cfg.service.database);
        cfg.service.database = strdup(database);
    }
    if (rc == 0 && port_file) {
        free(cfg.port_file);
        cfg.port_file = strdup(port_file);
    }
    if (rc) {
        wb_server_config_cleanup(&cfg);
        return cli_fail("serve", rc);
    }
    /* signals are taken synchronously by this thread; block them before any
     * other thread starts so the workers inherit the mask */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (cfg.service.dev)
        fprintf(stderr,
                "\n  *** DEVELOPMENT MODE: statements are accepted from any x5chain whose\n"
                "  *** leaf signature verifies, without a trust anchor, and from keys in\n"
                "  *** %s/issuers. Never use this for real provenance. ***\n\n",
                cfg.service.data_dir);
    rc = wb_server_start(&srv, &cfg);
    if (rc) {
        wb_server_config_cleanup(&cfg);
        return cli_fail("serve", rc);
    }
    {
        char addr[300];
        const char *colon = strrchr(cfg.listen, ':');
        snprintf(addr, sizeof(addr), "%.*s:%u",
                 (int)(colon ? (size_t)(colon - cfg.listen) : strlen(cfg.listen)),
                 cfg.listen, wb_server_port(srv));
        fprintf(stderr, "waybill serve: '%s' listening on %s://%s (data in %s%s)\n",
                cfg.service.name, cfg.tls.cert_file ? "https" : "http", addr,
                cfg.service.data_dir,
                cfg.service.database ? ", store in PostgreSQL" : "");
    }
    if (cfg.port_file && (rc = cli_write_port_file(cfg.port_file, wb_server_port(srv))) != 0) {
        wb_server_stop(srv);
        wb_server_config_cleanup(&cfg);
        return cli_fail("serve", rc);
    }
    sigwait(&set, &sig);
    fprintf(stderr, "waybill serve: signal %d: finishing the batch in progress\n", sig);
    wb_server_stop(srv);
    wb_server_config_cleanup(&cfg);
    fprintf(stderr, "waybill serve: stopped\n");
    return WB_EXIT_OK;
}
