/*
 * tls.c: HTTPS for `waybill serve` ([tls] in docs/configuration.md,
 * docs/tls.md): libmicrohttpd terminates TLS with GnuTLS (RFC 8446 TLS 1.3
 * and RFC 5246 TLS 1.2 only) with the configured certificate chain and key,
 * and, with client_ca, asks clients for a certificate (mTLS, RFC 8446
 * §4.3.2). With client_auth = required the handshake itself fails for a
 * client without a certificate that verifies against client_ca (GnuTLS
 * verifies it during the handshake); the request handler checks again
 * before any route, so a connection that slipped through still gets 401.
 *
 * srv_client_cert_sha256 gives the routes (personas) the SHA-256 of the
 * client certificate's DER once it verified, cached per connection.
 *
 * Also here: the rule that plain HTTP listens only on loopback unless the
 * configuration says allow_plain_http.
 */
#include "waybill/server.h"
#include "waybill/client.h"
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/scitt.h"
#include "waybill/util.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "server_int.h"

#define TLS_PEM_MAX (1024 * 1024) /* largest certificate, key or CA file */
#define CONN_MAGIC 0x77627463u    /* "wbtc": a socket context of ours */

/* TLS 1.2 and 1.3 only, GnuTLS's usual ciphers for them */
static const char priorities[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";

/* the handshake checks the client certificate's extendedKeyUsage too */
static gnutls_typed_vdata_st client_purpose[] = {
    {GNUTLS_DT_KEY_PURPOSE_OID, (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0},
};

struct srv_tls {
    uint8_t *cert, *key, *trust; /* PEM in memory, NUL-terminated; trust may be NULL */
    int client_auth;
    uint8_t spki_sha256[32];     /* of the leaf's public key: the self pin */
    char pinned[96];             /* the prefix pinned for the scheduler, or "" */
    struct MHD_OptionItem opts[8];
};

/* per connection (MHD's socket context) */
typedef struct {
    uint32_t magic;
    int state;                   /* 0 not looked at, 1 verified, -1 none or not verified */
    uint8_t fp[32];
} conn_tls;

static int read_pem(uint8_t **out, const char *what, const char *path)
{
    size_t len;
    int rc = wb_file_read(path, TLS_PEM_MAX, out, &len);
    if (rc)
        return wb_error_prefix(rc, "[tls] %s", what);
    return 0;
}

/* the checks libmicrohttpd would do, with messages that say which file */
static int check_credentials(srv_tls *t, const wb_server_config *c)
{
    gnutls_certificate_credentials_t cred;
    gnutls_datum_t cert = {t->cert, (unsigned)strlen((char *)t->cert)};
    gnutls_datum_t key = {t->key, (unsigned)strlen((char *)t->key)};
    int g, rc = 0;
    if (gnutls_certificate_allocate_credentials(&cred) < 0)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    g = gnutls_certificate_set_x509_key_mem2(cred, &cert, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (g < 0)
        rc = wb_error_set(WB_E_INVALID, "[tls] cert %s and key %s: %s", c->tls.cert_file,
                          c->tls.key_file, gnutls_strerror(g));
    if (rc == 0 && t->trust) {
        gnutls_datum_t trust = {t->trust, (unsigned)strlen((char *)t->trust)};
        g = gnutls_certificate_set_x509_trust_mem(cred, &trust, GNUTLS_X509_FMT_PEM);
        if (g <= 0)
            rc = wb_error_set(WB_E_INVALID, "[tls] client_ca %s: %s", c->tls.client_ca_file,
                              g < 0 ? gnutls_strerror(g) : "no certificate in it");
    }
    gnutls_certificate_free_credentials(cred);
    return rc;
}

static int leaf_spki_sha256(uint8_t out[32], const char *path)
{
    uint8_t **der = NULL;
    size_t *len = NULL, n = 0;
    wb_key *k = NULL;
    int rc = wb_x509_pem_chain(&der, &len, &n, path);
    if (rc == 0 && n == 0)
        rc = wb_error_set(WB_E_INVALID, "no certificate");
    if (rc == 0)
        rc = wb_key_from_x509_der(&k, der[0], len[0]);
    if (rc == 0)
        rc = wb_key_default_kid(out, k); /* SHA-256 of the SPKI DER */
    wb_key_free(k);
    wb_x509_chain_free(der, len, n);
    return rc ? wb_error_prefix(rc, "[tls] cert %s", path) : 0;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    srv_tls *t = cls;
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        free(*socket_context);
        *socket_context = NULL;
        return;
    }
    {
        conn_tls *ct = calloc(1, sizeof(*ct));
        if (ct)
            ct->magic = CONN_MAGIC;
        *socket_context = ct;
    }
    if (t->client_auth == WB_TLS_CLIENT_REQUIRED) {
        const union MHD_ConnectionInfo *i =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        if (i && i->tls_session) {
            gnutls_session_t s = i->tls_session;
            gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
            gnutls_session_set_verify_cert2(s, client_purpose, 1, 0);
        }
    }
}

int srv_tls_load(srv_tls **out, const wb_server_config *c)
{
    srv_tls *t;
    size_t k = 0;
    int rc;
    *out = NULL;
    if (!c->tls.cert_file && !c->tls.key_file)
        return 0;
    if (!c->tls.cert_file || !c->tls.key_file)
        return wb_error_set(WB_E_INVALID, "[tls] needs both cert and key");
    if (!(t = calloc(1, sizeof(*t))))
        return wb_error_set(WB_E_NOMEM, "out of memory");
    t->client_auth = c->tls.client_auth;
    rc = read_pem(&t->cert, "cert", c->tls.cert_file);
    if (rc == 0)
        rc = read_pem(&t->key, "key", c->tls.key_file);
    if (rc == 0 && c->tls.client_ca_file && t->client_auth != WB_TLS_CLIENT_NONE)
        rc = read_pem(&t->trust, "client_ca", c->tls.client_ca_file);
    if (rc == 0)
        rc = check_credentials(t, c);
    if (rc == 0)
        rc = leaf_spki_sha256(t->spki_sha256, c->tls.cert_file);
    if (rc) {
        srv_tls_free(t);
        return rc;
    }
    t->opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, t->cert};
    t->opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, t->key};
    t->opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)priorities};
    if (t->trust)
        t->opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, t->trust};
    t->opts[k++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION,
                                           (intptr_t)on_connection, t};
    t->opts[k] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    *out = t;
    return 0;
}

const struct MHD_OptionItem *srv_tls_options(const srv_tls *t)
{
    static const struct MHD_OptionItem none[] = {{MHD_OPTION_END, 0, NULL}};
    return t ? t->opts : none;
}

int srv_tls_required(const srv_tls *t)
{
    return t && t->client_auth == WB_TLS_CLIENT_REQUIRED;
}

int srv_tls_pin_self(srv_tls *t, const char *base, const char *cert_file, const char *key_file)
{
    int rc;
    snprintf(t->pinned, sizeof(t->pinned), "%s/", base);
    rc = wb_http_pin(t->pinned, t->spki_sha256, cert_file, key_file);
    if (rc)
        t->pinned[0] = '\0';
    return rc;
}

void srv_tls_free(srv_tls *t)
{
    if (!t)
        return;
    if (t->pinned[0])
        wb_http_unpin(t->pinned);
    free(t->cert);
    if (t->key) {
        explicit_bzero(t->key, strlen((char *)t->key));
        free(t->key);
    }
    free(t->trust);
    free(t);
}

int srv_client_cert_sha256(struct MHD_Connection *c, uint8_t out[32])
{
    const union MHD_ConnectionInfo *i =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    const union MHD_ConnectionInfo *sci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_tls *ct = sci ? sci->socket_context : NULL;
    gnutls_session_t s;
    const gnutls_datum_t *peers;
    unsigned n = 0, status = 0;

    if (ct && ct->magic != CONN_MAGIC)
        ct = NULL;
    if (ct && ct->state) {
        if (ct->state < 0)
            return WB_E_NOTFOUND;
        memcpy(out, ct->fp, 32);
        return 0;
    }
    if (!i || !i->tls_session)
        return WB_E_NOTFOUND; /* plain HTTP */
    s = i->tls_session;
    peers = gnutls_certificate_get_peers(s, &n);
    if (!peers || n == 0 ||
        gnutls_certificate_verify_peers(s, client_purpose, 1, &status) < 0 || status != 0 ||
        wb_sha256(out, peers[0].data, peers[0].size) != 0) {
        if (ct)
            ct->state = -1;
        return WB_E_NOTFOUND;
    }
    if (ct) {
        memcpy(ct->fp, out, 32);
        ct->state = 1;
    }
    return 0;
}

static int is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
    }
    return 0;
}

int srv_listen_check(const wb_server_config *c, const struct sockaddr_storage *ss)
{
    if (c->tls.cert_file || is_loopback(ss))
        return 0;
    if (c->service.dev)
        return wb_error_set(WB_E_INVALID, "development mode serves plain HTTP on loopback "
                            "only, not on %s: listen on 127.0.0.1 or use a configuration "
                            "with [tls]", c->listen);
    if (c->allow_plain_http)
        return 0;
    return wb_error_set(WB_E_INVALID, "%s is not a loopback address and there is no [tls]: "
                        "plain HTTP would carry the ledger's contents and credentials in "
                        "clear. Configure [tls] cert and key (docs/tls.md), or set "
                        "[service] allow_plain_http = true behind a TLS proxy", c->listen);
}
