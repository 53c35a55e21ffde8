/*
 * witness.c: `waybill witness serve` and `waybill witness keygen`: a C2SP
 * tlog-witness (POST /add-checkpoint) over libmicrohttpd, cosigning with a
 * tlog-cosignature/v1 key (docs/audit.md, "Witnesses").
 */
#include "cli.h"

#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "waybill/error.h"
#include "waybill/util.h"
#include "waybill/witness.h"

#define KEY_FILE_MAX 4096 /* a key file: one key string and a newline */

static int run_serve(int argc, char **argv);
static int run_keygen(int argc, char **argv);

const wb_cli_cmd wb_cmd_witness_serve = {
    .group = "witness",
    .name = "serve",
    .summary = "run a tlog-witness that cosigns the checkpoints of known logs",
    .usage =
        "usage: waybill witness serve --db FILE --key KEYFILE --log VKEY [--log VKEY ...]\n"
        "                             [--listen ADDR:PORT] [--port-file F]\n"
        "\n"
        "Serves POST /add-checkpoint (C2SP tlog-witness): verifies the log's\n"
        "signature and the consistency proof from the last checkpoint it cosigned\n"
        "for that log, stores the new one durably, and answers with a\n"
        "tlog-cosignature/v1 line. It never cosigns two inconsistent checkpoints.\n"
        "Answers: 200 cosignature, 400 malformed, 403 bad log signature, 404\n"
        "unknown log, 409 '<size>' (text/x.tlog.size) when the old size is not\n"
        "the witness's, or a fork at one size, 422 bad consistency proof.\n"
        "\n"
        "options:\n"
        "  --db FILE      the witness state (SQLite; created if missing)\n"
        "  --key KEYFILE  the witness key, from 'waybill witness keygen'\n"
        "  --log VKEY     a log to witness: its checkpoint verifier key\n"
        "                 (<origin>+<id>+<key>) or a file holding it; repeatable;\n"
        "                 logs added in earlier runs stay known\n"
        "  --listen A:P   address to listen on (default 127.0.0.1:0, any free port)\n"
        "  --port-file F  write the port to F once listening (for scripts)\n"
        "\n"
        "Prints the URL, runs until SIGINT or SIGTERM.\n"
        "exit codes: 0 stopped by a signal, 2 usage, 3 a bad key, 4 a file cannot\n"
        "be read, 5 the state cannot be opened\n",
    .run = run_serve,
};

const wb_cli_cmd wb_cmd_witness_keygen = {
    .group = "witness",
    .name = "keygen",
    .summary = "make a witness key (Ed25519 cosignature key, type 0x04)",
    .usage =
        "usage: waybill witness keygen NAME --out FILE [--json]\n"
        "\n"
        "Writes a new witness signing key named NAME (a schema-less URL such as\n"
        "witness.example/w1) to FILE (mode 0600, refusing to overwrite) as\n"
        "PRIVATE+KEY+<name>+<id>+<key>, and prints its verifier key\n"
        "<name>+<id>+<key> for witness policies (tlog-cosignature/v1, type 0x04).\n"
        "\n"
        "options:\n"
        "  --out FILE  where the private key goes\n"
        "  --json      print {\"key\", \"vkey\", \"name\"}\n"
        "\n"
        "exit codes: 0 written, 2 usage, 3 a bad name, 4 the file exists or\n"
        "cannot be written\n",
    .run = run_keygen,
};

/* ---- keygen ---- */

static int run_keygen(int argc, char **argv)
{
    const char *out = NULL;
    cli_opt opts[] = {{"--out", &out}};
    char *pos[1], *sk = NULL, *vk = NULL;
    wb_note_key *k = NULL;
    cli_args a;
    int rc;

    rc = cli_parse(&wb_cmd_witness_keygen, argc, argv, opts, 1, &a, pos, 1);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos != 1)
        return cli_usage_error(&wb_cmd_witness_keygen, "the witness NAME is required");
    if (!out)
        return cli_usage_error(&wb_cmd_witness_keygen, "--out FILE is required");
    rc = wb_cosig_key_generate(&k, a.pos[0]);
    if (rc == 0)
        rc = wb_note_signer_string(&sk, k);
    if (rc == 0)
        rc = wb_note_verifier_string(&vk, k);
    if (rc == 0) {
        size_t n = strlen(sk);
        sk[n] = '\n'; /* the file ends in a newline; the string is not reused */
        rc = wb_file_write_new(out, sk, n + 1, 0600);
        memset(sk, 0, n + 1);
    }
    wb_note_key_free(k);
    free(sk);
    if (rc) {
        free(vk);
        return cli_fail("witness keygen", rc);
    }
    if (a.json) {
        json_t *o = json_object();
        json_object_set_new(o, "key", json_string(out));
        json_object_set_new(o, "vkey", json_string(vk));
        json_object_set_new(o, "name", json_string(a.pos[0]));
        cli_print_json(o);
    } else {
        printf("%s\n", vk);
    }
    free(vk);
    return WB_EXIT_OK;
}

/* ---- serve ---- */

/* read_key_text: a key string given inline or in a file, without its
 * trailing newline (malloc'd) */
static int read_key_text(char **out, const char *arg, int inline_ok)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    if (inline_ok && strchr(arg, '+') && !strchr(arg, '/')) {
        *out = strdup(arg);
        return *out ? 0 : wb_error_set(WB_E_NOMEM, "out of memory");
    }
    rc = wb_file_read(arg, KEY_FILE_MAX, &data, &len);
    if (rc == WB_E_NOTFOUND && inline_ok && strchr(arg, '+')) {
        *out = strdup(arg); /* a vkey whose name has a '/' */
        return *out ? 0 : wb_error_set(WB_E_NOMEM, "out of memory");
    }
    if (rc != 0)
        return wb_error_prefix(rc, "%s", arg);
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        data[--len] = '\0';
    *out = (char *)data;
    return 0;
}

typedef struct {
    wb_buf body;
    int too_big;
} req;

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *ctype,
                               char *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    enum MHD_Result ret;

    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *msg)
{
    char *b = strdup(msg);
    if (!b)
        return MHD_NO;
    return respond(c, status, "text/plain; charset=utf-8", b, strlen(b));
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    wb_witness *w = cls;
    req *r = *con_cls;
    char *resp = NULL;
    size_t resp_len = 0;
    int status = 500, rc;

    (void)version;
    if (!r) {
        const char *clen = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                       MHD_HTTP_HEADER_CONTENT_LENGTH);
        uint64_t n;
        if (!(r = calloc(1, sizeof(*r))))
            return MHD_NO;
        wb_buf_init(&r->body, WB_WITNESS_BODY_MAX);
        *con_cls = r;
        if (clen && (wb_parse_u64(&n, clen, strlen(clen)) != 0 || n > WB_WITNESS_BODY_MAX))
            r->too_big = 1;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!r->too_big && wb_buf_add(&r->body, upload, *upload_size) != 0)
            r->too_big = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/add-checkpoint") != 0)
        return text(c, MHD_HTTP_NOT_FOUND, "no such resource: a witness answers POST "
                                           "/add-checkpoint\n");
    if (strcmp(method, "POST") != 0)
        return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST /add-checkpoint\n");
    if (r->too_big)
        return text(c, MHD_HTTP_CONTENT_TOO_LARGE, "the body is over the add-checkpoint "
                                                   "limit\n");
    rc = wb_witness_handle(w, (const char *)r->body.data, r->body.len, &status, &resp,
                           &resp_len);
    if (rc != 0) {
        fprintf(stderr, "waybill witness serve: %s\n", wb_error_message());
        return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "the witness state failed\n");
    }
    return respond(c, (unsigned)status, wb_witness_content_type(status, resp, resp_len), resp,
                   resp_len);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    req *r = *con_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (r) {
        wb_buf_cleanup(&r->body);
        free(r);
        *con_cls = NULL;
    }
}

static int run_serve(int argc, char **argv)
{
    const char *db = NULL, *keyfile = NULL, *listen = "127.0.0.1:0", *port_file = NULL;
    cli_opt opts[] = {{"--db", &db},
                      {"--key", &keyfile},
                      {"--listen", &listen},
                      {"--port-file", &port_file}};
    char **args = calloc((size_t)argc + 1, sizeof(*args)), *pos[1], *ktext = NULL;
    const char **logs = calloc((size_t)argc + 1, sizeof(*logs));
    int nargs = 0, nlogs = 0, rc, sig = 0;
    struct sockaddr_storage ss;
    socklen_t sl;
    wb_note_key *key = NULL;
    wb_witness *w = NULL;
    struct MHD_Daemon *d = NULL;
    const union MHD_DaemonInfo *info;
    unsigned short port;
    cli_args a;
    sigset_t set;

    if (!args || !logs) {
        free(args);
        free(logs);
        return cli_fail("witness serve", wb_error_set(WB_E_NOMEM, "out of memory"));
    }
    /* --log repeats: collect every one, hand the rest to the parser */
    for (int i = 0; i < argc; i++) {
        if (i > 0 && strcmp(argv[i], "--log") == 0) {
            if (i + 1 >= argc) {
                free(args);
                free(logs);
                return cli_usage_error(&wb_cmd_witness_serve, "option --log needs a value");
            }
            logs[nlogs++] = argv[++i];
        } else if (i > 0 && strncmp(argv[i], "--log=", 6) == 0)
            logs[nlogs++] = argv[i] + 6;
        else
            args[nargs++] = argv[i];
    }
    rc = cli_parse(&wb_cmd_witness_serve, nargs, args, opts, sizeof(opts) / sizeof(opts[0]),
                   &a, pos, 0);
    free(args);
    if (rc == 0 && !db)
        rc = cli_usage_error(&wb_cmd_witness_serve, "--db FILE is required");
    if (rc == 0 && !keyfile)
        rc = cli_usage_error(&wb_cmd_witness_serve, "--key KEYFILE is required");
    if (rc == 0 && nlogs == 0)
        rc = cli_usage_error(&wb_cmd_witness_serve, "at least one --log VKEY is required");
    if (rc == 0 && wb_parse_listen(&ss, &sl, listen) != 0)
        rc = cli_usage_error(&wb_cmd_witness_serve, "%s", wb_error_message());
    if (rc) {
        free(logs);
        return rc < 0 ? 0 : rc;
    }

    rc = read_key_text(&ktext, keyfile, 0);
    if (rc == 0) {
        rc = wb_cosig_signer_parse(&key, ktext, strlen(ktext));
        if (rc != 0)
            rc = wb_error_prefix(rc, "%s", keyfile);
        memset(ktext, 0, strlen(ktext));
        free(ktext);
    }
    if (rc == 0)
        rc = wb_witness_open(&w, db, key);
    wb_note_key_free(key);
    for (int i = 0; rc == 0 && i < nlogs; i++) {
        char *v = NULL;
        rc = read_key_text(&v, logs[i], 1);
        if (rc == 0)
            rc = wb_witness_add_log(w, v);
        if (rc != 0)
            rc = wb_error_prefix(rc, "--log %s", logs[i]);
        free(v);
    }
    free(logs);
    if (rc) {
        wb_witness_close(w);
        return cli_fail("witness serve", rc);
    }

    /* signals are taken by this thread; blocked before the HTTP threads start */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
                         handler, w, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                         MHD_OPTION_THREAD_POOL_SIZE, 4u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                         MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                         MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_END);
    if (!d) {
        wb_witness_close(w);
        return cli_fail("witness serve",
                        wb_error_set(WB_E_IO, "cannot listen on %s", listen));
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    port = info ? info->port : 0;
    if (port_file && (rc = cli_write_port_file(port_file, port)) != 0) {
        MHD_stop_daemon(d);
        wb_witness_close(w);
        return cli_fail("witness serve", rc);
    }
    {
        const char *colon = strrchr(listen, ':');
        int hl = (int)(colon ? (size_t)(colon - listen) : strlen(listen));
        printf("http://%.*s:%u\n", hl, listen, port);
        fflush(stdout);
        fprintf(stderr, "waybill witness serve: %d log(s), listening on http://%.*s:%u\n",
                nlogs, hl, listen, port);
    }
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    wb_witness_close(w);
    fprintf(stderr, "waybill witness serve: stopped (signal %d)\n", sig);
    return WB_EXIT_OK;
}
