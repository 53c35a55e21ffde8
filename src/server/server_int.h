/*
 * server_int.h: what the HTTP server's files share (server.c: requests and
 * registration; routes.c: the read API; metrics.c: /metrics).
 */
#ifndef WAYBILL_SERVER_INT_H
#define WAYBILL_SERVER_INT_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>

#include "waybill/query.h"
#include "waybill/server.h"
#include "waybill/util.h"
#include "waybill/verifier.h"

enum {
    REASON_INVALID,
    REASON_UNAUTHENTICATED,
    REASON_TOO_LARGE,
    REASON_MEDIA_TYPE,
    REASON_QUEUE_FULL,
    REASON_INTERNAL,
    REASON_COUNT
};

#define LATENCY_BUCKETS 12

struct req;
typedef struct srv_witnesses srv_witnesses;
typedef struct srv_personas srv_personas;
typedef struct srv_persona srv_persona;
typedef struct srv_tls srv_tls;

struct wb_server {
    wb_service *svc;
    struct wb_attest_scheduler *sched; /* [attest]: periodic re-attestation */
    wb_key *attest_key;
    srv_witnesses *witnesses;          /* [witness]: cosignature gathering, or NULL */
    srv_personas *personas;            /* [persona NAME]: who may read what */
    char *ui_dir;                      /* [ui]: the console's directory (resolved), or NULL */
    srv_tls *tls;                      /* [tls]: HTTPS, or NULL for plain HTTP */
    struct MHD_Daemon *d;
    unsigned short port;
    size_t max_body;
    unsigned max_headers;
    int log_requests;
    unsigned register_wait_ms;
    pthread_mutex_t mu;          /* suspended list, stopping */
    pthread_cond_t timer_cond;
    pthread_t timer;
    int stopping;
    struct req *suspended;
    /* metrics, updated with atomics */
    uint64_t rejections[REASON_COUNT];
    uint64_t status_counts[6];   /* 1xx..5xx, index = status / 100 */
    uint64_t latency_us_sum;
    uint64_t latency_count;
    uint64_t latency_buckets[LATENCY_BUCKETS];
};

void srv_log(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void srv_count_status(wb_server *s, unsigned status);
void srv_count_reject(wb_server *s, int reason);
void srv_observe_latency(wb_server *s, uint64_t us);
/* the Prometheus text exposition of the counters (malloc'd) */
int srv_metrics_text(wb_server *s, char **out, size_t *len);
/* every GET route */
/*
 * srv_response: a response owning body (malloc'd, freed whatever happens)
 * with its Content-Type (may be NULL), the status counted for /metrics;
 * the caller adds headers, queues it with status and destroys it.
 */
struct MHD_Response *srv_response(wb_server *s, unsigned status, const char *ctype, void *body,
                                  size_t len);
/*
 * srv_send_problem answers status with concise problem details (RFC 9290);
 * retry_after > 0 adds Retry-After; www_auth (may be NULL) marks a refused
 * read: no-store, and WWW-Authenticate unless it is "".
 */
enum MHD_Result srv_send_problem(wb_server *s, struct MHD_Connection *c, unsigned status,
                                 const char *title, const char *detail, int retry_after,
                                 const char *www_auth);
enum MHD_Result srv_route_get(wb_server *s, struct MHD_Connection *c, const char *method,
                              const char *url);

/* POST /attest/check: the findings each attestation or intake in the JSON
 * array body would raise now, writing nothing */
enum MHD_Result srv_route_check(wb_server *s, struct MHD_Connection *c, const uint8_t *body,
                                size_t len);

/* ---- ui.c: the web console's static files at /ui/ ---- */

/* resolves the console's directory ([ui] dir, or the compile-time WB_UI_DIR)
 * into s->ui_dir; a missing directory is logged and /ui/ answers 404 */
void srv_ui_init(wb_server *s, const wb_server_config *c);
/* GET /ui and /ui/<file> (public: the files hold no data) */
enum MHD_Result srv_route_ui(wb_server *s, struct MHD_Connection *c, const char *url);

/* ---- tls.c: [tls], HTTPS and client certificates ---- */

/*
 * srv_client_cert_sha256: 0 and the SHA-256 of the DER of the client's
 * certificate when the connection is TLS and presented one that verified
 * against [tls] client_ca (chain, validity, extendedKeyUsage clientAuth
 * when present); WB_E_NOTFOUND otherwise (plain HTTP, none, or not
 * verified). Cached per connection.
 */
int srv_client_cert_sha256(struct MHD_Connection *c, uint8_t out[32]);
/* reads and checks [tls] (*out stays NULL without it) */
int srv_tls_load(srv_tls **out, const wb_server_config *c);
void srv_tls_free(srv_tls *t);
/* MHD_OPTION_ARRAY items for MHD_start_daemon (just MHD_OPTION_END if t is NULL) */
const struct MHD_OptionItem *srv_tls_options(const srv_tls *t);
/* client_auth = required */
int srv_tls_required(const srv_tls *t);
/* lets this process's own HTTPS requests to base (the scheduler's) trust the
 * server's key, presenting cert/key (may be NULL); undone by srv_tls_free */
int srv_tls_pin_self(srv_tls *t, const char *base, const char *cert_file, const char *key_file);
/* plain HTTP listens on loopback only, unless allow_plain_http (not --dev) */
struct sockaddr_storage;
int srv_listen_check(const wb_server_config *c, const struct sockaddr_storage *ss);

/* ---- persona.c: who may read what (docs/personas.md) ---- */

/* config.c: a key of [persona NAME] (dir: the configuration file's
 * directory), the checks once the file is read, and the cleanup */
int srv_persona_config_key(wb_server_config *c, const char *name, const char *key,
                           const char *v, const char *dir);
int srv_persona_config_check(const wb_server_config *c, const char *path);
void srv_persona_config_cleanup(wb_server_config *c);

/*
 * the readers of a server: the configured personas, plus, when
 * internal_site is not NULL, one for the server's own attestation
 * scheduler (a datacenter of that site with a fresh random token, see
 * srv_personas_bind). With no persona configured, dev mode opens
 * every read; otherwise anonymous readers are public.
 */
int srv_personas_new(srv_personas **out, const wb_server_config *c, const char *internal_site);
void srv_personas_free(srv_personas *ps);
/* makes this process's requests to url (the scheduler's ledger URL) carry
 * the scheduler's token, until srv_personas_free; nothing without one */
int srv_personas_bind(srv_personas *ps, const char *url);

/*
 * srv_authorize finds who sent the request (bearer token, client
 * certificate) and whether that persona may use the endpoint at all.
 * 1: go on, *who set (NULL for anonymous on a public endpoint); 0: a 401
 * or 403 problem was queued, *ret is its result. Per-object scope checks
 * are the route's (srv_refuse).
 */
int srv_authorize(wb_server *s, struct MHD_Connection *c, const char *method,
                  const char *url, const srv_persona **who, enum MHD_Result *ret);
/* a 403 (or 401 for anonymous) naming why, counted in /metrics */
enum MHD_Result srv_refuse(wb_server *s, struct MHD_Connection *c, const srv_persona *who,
                           const char *detail);
/* what who may see of the fleet: NULL for all of it */
const wb_query_scope *srv_persona_scope(const srv_persona *who);
wb_persona_kind srv_persona_kind(const srv_persona *who);
const char *srv_persona_name(const srv_persona *who);
/* the /metrics lines (waybill_reads_refused_total) */
void srv_personas_metrics(srv_personas *ps, wb_buf *b);

/* ---- witnesses.c: [witness], cosignatures of the log's checkpoints ---- */

/* loads the policy (errors name what is wrong) and starts one thread per witness */
int srv_witnesses_start(srv_witnesses **out, wb_service *svc, const char *policy_file,
                        unsigned timeout_ms, unsigned retry_s);
void srv_witnesses_stop(srv_witnesses *ws);
/* appends to a signed checkpoint of ours (malloc'd, replaced) the cosignatures
 * gathered for it; ws may be NULL (nothing appended) */
int srv_witnesses_cosign(srv_witnesses *ws, char **note, size_t *len);
/* the same for the checkpoint at the end of a proof text */
int srv_witnesses_proof(srv_witnesses *ws, char **text, size_t *len);
/*
 * the receipt (statement = 0) or transparent statement (1) of entry id made
 * against the newest witnessed checkpoint holding it, which it carries
 * (waybill/witnessed.h). 1: the entry is queued; 2: no witness cosigned a
 * tree holding it yet (why says so); WB_E_NOTFOUND.
 */
int srv_witnesses_receipt(srv_witnesses *ws, const uint8_t id[32], int statement,
                          uint8_t **out, size_t *len, char *why, size_t cap);
/*
 * the passport of device (GET /devices/{id}/passport?witnessed=1) made
 * against the newest quorum-cosigned checkpoint, which it carries with its
 * cosignatures. 2: there is none yet, or it does not hold every entry about
 * the device (why says so); WB_E_NOTFOUND.
 */
int srv_witnesses_passport(srv_witnesses *ws, const char *device, uint8_t **out, size_t *len,
                           char *why, size_t cap);
/* GET /witnesses */
json_t *srv_witnesses_json(srv_witnesses *ws);
/* the /metrics lines */
void srv_witnesses_metrics(srv_witnesses *ws, wb_buf *b);

#endif
