/*
 * service.c: the transparency service's life cycle, keys and read side
 * (waybill/scitt.h): opening the log and the receipt key, per-thread read
 * handles, receipts (RFC 9942) for any entry against the latest tree,
 * transparent statements, tiles, the COSE Key Set and the transparency
 * configuration (SCRAPI).
 *
 * Receipts share one signature per tree size: the sequencer signs the root
 * of every new tree size inside the batch transaction and stores
 * [protected header, signature] as a blob keyed by that size. A receipt for
 * entry i is then that signature plus the inclusion proof of i in that tree,
 * computed from tiles.
 */
#include "scitt_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cbor.h>

#include "waybill/error.h"
#include "waybill/util.h"

/* ---- configuration ---- */

void wb_service_config_init(wb_service_config *c)
{
    memset(c, 0, sizeof(*c));
    c->batch_max = 1000;
    c->batch_interval_ms = 10;
    c->queue_max = 100000;
    c->register_wait_ms = 5000;
}

static void issuer_cleanup(wb_issuer *is)
{
    free(is->name);
    wb_key_free(is->key);
    free(is->anchor_file);
    for (size_t i = 0; i < is->ncontent_types; i++)
        free(is->content_types[i]);
    free(is->content_types);
    memset(is, 0, sizeof(*is));
}

void wb_service_config_cleanup(wb_service_config *c)
{
    free(c->name);
    free(c->data_dir);
    free(c->database);
    free(c->receipt_key_file);
    for (size_t i = 0; i < c->nissuers; i++)
        issuer_cleanup(&c->issuers[i]);
    free(c->issuers);
    for (size_t i = 0; i < c->nanchor_files; i++)
        free(c->anchor_files[i]);
    free(c->anchor_files);
    memset(c, 0, sizeof(*c));
}

static char *dupstr(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* a deep copy, so the caller may free its configuration after open */
static int config_copy(wb_service_config *dst, const wb_service_config *src)
{
    *dst = *src;
    dst->name = dupstr(src->name);
    dst->data_dir = dupstr(src->data_dir);
    dst->database = dupstr(src->database);
    dst->receipt_key_file = dupstr(src->receipt_key_file);
    dst->issuers = src->nissuers ? calloc(src->nissuers, sizeof(wb_issuer)) : NULL;
    dst->anchor_files = src->nanchor_files ? calloc(src->nanchor_files, sizeof(char *))
                                           : NULL;
    if ((src->name && !dst->name) || (src->data_dir && !dst->data_dir) ||
        (src->database && !dst->database) ||
        (src->receipt_key_file && !dst->receipt_key_file) ||
        (src->nissuers && !dst->issuers) || (src->nanchor_files && !dst->anchor_files))
        goto nomem;
    for (size_t i = 0; i < src->nissuers; i++) {
        const wb_issuer *a = &src->issuers[i];
        wb_issuer *b = &dst->issuers[i];
        *b = *a;
        b->name = dupstr(a->name);
        b->anchor_file = dupstr(a->anchor_file);
        b->key = NULL;
        b->content_types = NULL;
        if (a->key && wb_key_public_copy(&b->key, a->key) != 0)
            goto nomem;
        if (a->ncontent_types) {
            b->content_types = calloc(a->ncontent_types, sizeof(char *));
            if (!b->content_types)
                goto nomem;
            for (size_t k = 0; k < a->ncontent_types; k++)
                if (!(b->content_types[k] = strdup(a->content_types[k])))
                    goto nomem;
        }
    }
    for (size_t i = 0; i < src->nanchor_files; i++)
        if (!(dst->anchor_files[i] = strdup(src->anchor_files[i])))
            goto nomem;
    return 0;
nomem:
    return wb_error_set(WB_E_NOMEM, "out of memory copying the configuration");
}

int wb_key_default_kid(uint8_t kid[32], const wb_key *key)
{
    uint8_t *der;
    size_t len;
    int rc = wb_key_spki_der(key, &der, &len);
    if (rc)
        return rc;
    rc = wb_sha256(kid, der, len);
    free(der);
    return rc;
}

/* ---- per-thread read handles ---- */

static void tls_log_free(void *p)
{
    wb_log_close(p);
}

/*
 * opens a handle of the service's log: SQLite in data_dir, or with
 * cfg.database a connection of its own to PostgreSQL (keys in data_dir)
 */
static int service_log_open(const wb_service_config *cfg, wb_log **out,
                            int manual_checkpoint)
{
    wb_log_options opt = {.sync_normal = cfg->sync_normal,
                          .manual_checkpoint = manual_checkpoint};
    wb_store_options sopt = {.sync_normal = cfg->sync_normal};
    wb_store *store;
    int rc;
    if (!cfg->database)
        return wb_log_open(out, cfg->data_dir, &opt);
    rc = wb_store_open_postgres(&store, cfg->database, &sopt);
    if (rc)
        return rc;
    return wb_log_open_store(out, cfg->data_dir, store, &opt);
}

/*
 * makes the log if there is none: in data_dir, or in the PostgreSQL
 * database (several nodes may start at once: whoever comes second finds
 * the tables or the log made and goes on)
 */
static int service_log_ensure(const wb_service_config *cfg)
{
    char dbpath[4200];
    struct stat sb;
    wb_store_options sopt = {.create = 1};
    wb_store *store = NULL;
    int rc;
    if (!cfg->database) {
        snprintf(dbpath, sizeof(dbpath), "%s/waybill.db", cfg->data_dir);
        return stat(dbpath, &sb) == 0 ? 0 : wb_log_init(cfg->data_dir, cfg->name);
    }
    rc = wb_store_open_postgres(&store, cfg->database, &sopt);
    if (rc == WB_E_EXISTS) {
        sopt.create = 0;
        rc = wb_store_open_postgres(&store, cfg->database, &sopt);
    }
    if (rc)
        return rc;
    rc = wb_log_init_store(cfg->data_dir, store, cfg->name);
    if (rc == WB_E_EXISTS) {
        wb_store_state st;
        if (wb_store_get_state(store, &st) == 0) { /* the log exists: fine */
            wb_store_state_cleanup(&st);
            rc = 0;
        }
    }
    wb_store_close(store);
    return rc;
}

int scitt_thread_log(wb_service *svc, wb_log **out)
{
    wb_log *log = pthread_getspecific(svc->tls_log);
    if (!log) {
        int rc = service_log_open(&svc->cfg, &log, 0);
        if (rc)
            return rc;
        pthread_setspecific(svc->tls_log, log);
    }
    *out = log;
    return 0;
}

/* ---- receipts ---- */

int scitt_store_receipt_sig(wb_service *svc, wb_store *store, uint64_t size,
                            const uint8_t root[32])
{
    uint8_t *prot = NULL;
    size_t prot_len;
    uint8_t sig[WB_SIG_MAX];
    size_t sig_len;
    wb_buf b;
    wb_blob_key key = {WB_BLOB_RECEIPT_SIG, 0, size};
    int rc;

    rc = wb_receipt_protected(&prot, &prot_len, svc->signer.alg, svc->kid,
                              sizeof(svc->kid), svc->cfg.name, (int64_t)time(NULL));
    if (rc == 0 && prot_len > UINT16_MAX)
        rc = wb_error_set(WB_E_LIMIT, "receipt protected header too large");
    if (rc == 0)
        rc = wb_receipt_sign(sig, &sig_len, prot, prot_len, root, &svc->signer);
    if (rc == 0) {
        wb_buf_init(&b, 2 + prot_len + sig_len);
        wb_buf_add_u16be(&b, (uint16_t)prot_len);
        wb_buf_add(&b, prot, prot_len);
        wb_buf_add(&b, sig, sig_len);
        rc = wb_buf_error(&b);
        if (rc == 0)
            rc = wb_store_put_blob(store, key, b.data, b.len);
        wb_buf_cleanup(&b);
    }
    free(prot);
    return rc;
}

int scitt_receipt_sig(wb_log *log, uint64_t size, uint8_t **blob, size_t *len)
{
    wb_blob_key key = {WB_BLOB_RECEIPT_SIG, 0, size};
    int rc = wb_store_get_blob(wb_log_store(log), key, blob, len);
    if (rc == WB_E_NOTFOUND)
        return wb_error_set(WB_E_CORRUPT, "no receipt signature for tree size %llu",
                            (unsigned long long)size);
    return rc;
}

int scitt_build_receipt_with(wb_log *log, uint64_t index, uint64_t size, const uint8_t *blob,
                             size_t blen, uint8_t **out, size_t *len)
{
    uint8_t proof[WB_MERKLE_MAX_PROOF][WB_HASH_LEN];
    size_t np;
    wb_reader r, prot;
    int rc;
    wb_reader_init(&r, blob, blen);
    if (!wb_reader_get_u16_prefixed(&r, &prot) || wb_reader_left(&r) == 0)
        return wb_error_set(WB_E_CORRUPT, "receipt signature of tree size %llu is "
                            "malformed", (unsigned long long)size);
    rc = wb_log_inclusion_proof(log, proof, &np, index, size);
    if (rc == 0)
        rc = wb_receipt_encode(out, len, prot.ptr, wb_reader_left(&prot), r.ptr,
                               wb_reader_left(&r), size, index,
                               (const uint8_t(*)[32])proof, np);
    return rc;
}

int scitt_build_receipt(wb_log *log, uint64_t index, uint64_t size, uint8_t **out,
                        size_t *len)
{
    uint8_t *blob;
    size_t blen;
    int rc = scitt_receipt_sig(log, size, &blob, &blen);
    if (rc)
        return rc;
    rc = scitt_build_receipt_with(log, index, size, blob, blen, out, len);
    free(blob);
    return rc;
}

/* make sure the current tree size has a receipt signature (a log made by
 * `waybill log` has none) */
static int ensure_receipt_sig(wb_service *svc)
{
    wb_log *log = svc->seq_log;
    wb_store *store = wb_log_store(log);
    wb_blob_key key = {WB_BLOB_RECEIPT_SIG, 0, 0};
    uint8_t root[32], *blob;
    size_t blen;
    uint64_t size;
    int rc = wb_log_head(log, &size, root, NULL, NULL);
    if (rc)
        return rc;
    key.index = size;
    rc = wb_store_get_blob(store, key, &blob, &blen);
    if (rc == 0) {
        free(blob);
        return 0;
    }
    if (rc != WB_E_NOTFOUND)
        return rc;
    rc = wb_store_begin(store);
    if (rc)
        return rc;
    rc = scitt_store_receipt_sig(svc, store, size, root);
    if (rc == 0)
        rc = wb_store_commit(store);
    else
        wb_store_rollback(store);
    return rc;
}

int wb_service_receipt(wb_service *svc, const uint8_t id[32], uint8_t **receipt,
                       size_t *len, uint64_t *index)
{
    wb_log *log;
    uint64_t idx, size;
    int rc = scitt_thread_log(svc, &log);
    if (rc)
        return rc;
    rc = wb_store_get_entry_id(wb_log_store(log), id, &idx);
    if (rc == WB_E_NOTFOUND) {
        int pending;
        pthread_mutex_lock(&svc->mu);
        pending = scitt_inflight_find(svc, id) != NULL;
        pthread_mutex_unlock(&svc->mu);
        if (pending)
            return 1;
        return wb_error_set(WB_E_NOTFOUND, "no entry with this id in the log");
    }
    if (rc)
        return rc;
    rc = wb_log_head(log, &size, NULL, NULL, NULL);
    if (rc == 0)
        rc = scitt_build_receipt(log, idx, size, receipt, len);
    if (rc == 0 && index)
        *index = idx;
    return rc;
}

int wb_service_transparent(wb_service *svc, const uint8_t id[32], uint8_t **out,
                           size_t *len)
{
    wb_log *log;
    uint64_t idx, size;
    int rc = scitt_thread_log(svc, &log);
    if (rc == 0)
        rc = wb_store_get_entry_id(wb_log_store(log), id, &idx);
    if (rc == WB_E_NOTFOUND) {
        /* queued or unknown: the same answer as for the receipt */
        uint8_t *r = NULL;
        size_t rl;
        rc = wb_service_receipt(svc, id, &r, &rl, NULL);
        free(r);
        return rc;
    }
    if (rc == 0)
        rc = wb_log_head(log, &size, NULL, NULL, NULL);
    return rc ? rc : wb_service_transparent_at(svc, idx, size, out, len);
}

int wb_service_transparent_at(wb_service *svc, uint64_t index, uint64_t size, uint8_t **out,
                              size_t *len)
{
    wb_log *log;
    uint8_t *receipt = NULL, *stmt = NULL;
    size_t rlen, slen;
    wb_cose_bytes rb;
    int rc = scitt_thread_log(svc, &log);
    if (rc == 0)
        rc = scitt_build_receipt(log, index, size, &receipt, &rlen);
    if (rc == 0)
        rc = wb_log_entry(log, index, &stmt, &slen);
    if (rc == 0) {
        rb.ptr = receipt;
        rb.len = rlen;
        rc = wb_scitt_transparent_statement(out, len, stmt, slen, &rb, 1);
    }
    free(receipt);
    free(stmt);
    return rc;
}

int wb_service_thread_store(wb_service *svc, wb_store **out)
{
    wb_log *log;
    int rc = scitt_thread_log(svc, &log);
    if (rc == 0)
        *out = wb_log_store(log);
    return rc;
}

int wb_service_log_key(wb_service *svc, char **out)
{
    return wb_note_verifier_string(out, wb_log_verifier(svc->seq_log));
}

int wb_service_checkpoint(wb_service *svc, char **note, size_t *len)
{
    wb_log *log;
    int rc = scitt_thread_log(svc, &log);
    return rc ? rc : wb_log_head(log, NULL, NULL, note, len);
}

int wb_service_tile(wb_service *svc, const char *path, size_t path_len,
                    uint8_t **data, size_t *len)
{
    wb_tile_ref ref;
    wb_log *log;
    int rc = wb_tile_path_parse(&ref, path, path_len);
    if (rc)
        return rc;
    rc = scitt_thread_log(svc, &log);
    if (rc)
        return rc;
    if (ref.entries)
        return wb_log_read_bundle(log, ref.index, ref.width, data, len);
    return wb_log_read_tile(log, ref.level, ref.index, ref.width, data, len);
}

int wb_service_consistency(wb_service *svc, uint64_t old_size, uint64_t new_size,
                           char **text, size_t *len)
{
    wb_log *log;
    wb_proof_text p;
    char *note = NULL;
    size_t note_len;
    int rc = scitt_thread_log(svc, &log);
    if (rc)
        return rc;
    if (new_size == 0 && (rc = wb_log_head(log, &new_size, NULL, NULL, NULL)) != 0)
        return rc;
    memset(&p, 0, sizeof(p));
    p.consistency = 1;
    p.old_size = old_size;
    rc = wb_log_consistency_proof(log, p.hashes, &p.nhashes, old_size, new_size);
    if (rc == 0)
        rc = wb_log_checkpoint_at(log, new_size, &note, &note_len);
    if (rc == 0) {
        p.checkpoint = note;
        p.checkpoint_len = note_len;
        rc = wb_proof_text_format(text, len, &p);
    }
    free(note);
    return rc;
}

/* ---- keys and configuration ---- */

int wb_service_keys(wb_service *svc, uint8_t **out, size_t *len)
{
    const wb_key *keys[1] = {svc->receipt_key};
    wb_cose_bytes kids[1] = {{svc->kid, sizeof(svc->kid)}};
    return wb_cose_keyset_encode(out, len, keys, kids, 1);
}

int wb_service_key(wb_service *svc, const char *kid_text, uint8_t **out, size_t *len)
{
    /* the kid is 32 raw bytes: accept its base64url (no padding) or hex form */
    char b64[64], hex[65];
    size_t n;
    wb_base64_encode(b64, svc->kid, sizeof(svc->kid));
    for (n = 0; b64[n]; n++) {
        if (b64[n] == '+')
            b64[n] = '-';
        else if (b64[n] == '/')
            b64[n] = '_';
        else if (b64[n] == '=') {
            b64[n] = '\0';
            break;
        }
    }
    wb_hex_encode(hex, svc->kid, sizeof(svc->kid));
    if (strcmp(kid_text, b64) != 0 && strcmp(kid_text, hex) != 0)
        return wb_error_set(WB_E_NOTFOUND, "no key with kid '%.80s'", kid_text);
    return wb_cose_key_encode(out, len, svc->receipt_key, svc->kid, sizeof(svc->kid));
}

static void map_add_text(cbor_item_t *map, const char *k, const char *v)
{
    struct cbor_pair p = {cbor_move(cbor_build_string(k)), cbor_move(cbor_build_string(v))};
    cbor_map_add(map, p);
}

int wb_service_configuration(wb_service *svc, uint8_t **out, size_t *len)
{
    cbor_item_t *map = cbor_new_definite_map(6);
    char kidhex[65], alg[16];
    unsigned char *buf = NULL;
    size_t cap = 0, n;
    if (!map)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    wb_hex_encode(kidhex, svc->kid, sizeof(svc->kid));
    snprintf(alg, sizeof(alg), "%lld", (long long)svc->signer.alg);
    map_add_text(map, "issuer", svc->cfg.name);
    map_add_text(map, "scitt-keys", "/.well-known/scitt-keys");
    map_add_text(map, "receipt-kid", kidhex);
    map_add_text(map, "receipt-alg", alg);
    map_add_text(map, "vds", "RFC9162_SHA256");
    map_add_text(map, "checkpoint", "/checkpoint");
    n = cbor_serialize_alloc(map, &buf, &cap);
    cbor_decref(&map);
    if (n == 0)
        return wb_error_set(WB_E_NOMEM, "out of memory encoding the configuration");
    *out = buf;
    *len = n;
    return 0;
}

const wb_key *wb_service_key_pair(const wb_service *svc)
{
    return svc->receipt_key;
}

int wb_service_register_own(wb_service *svc, const char *content_type, const char *sub,
                            const uint8_t *payload, size_t len)
{
    wb_cose_headers h;
    wb_registration reg;
    wb_ticket *t;
    wb_cose_sign1 m;
    uint8_t *signed_st = NULL;
    size_t slen;
    int rc;

    memset(&h, 0, sizeof(h));
    memset(&reg, 0, sizeof(reg));
    h.alg = svc->signer.alg;
    h.cty = content_type;
    h.cty_int = -1;
    h.has_cwt = 1;
    h.iss = svc->cfg.name;
    h.sub = sub;
    h.iat = (int64_t)time(NULL);
    h.kid.ptr = svc->kid;
    h.kid.len = sizeof(svc->kid);
    rc = wb_cose_sign1_create(&signed_st, &slen, &h, NULL, 0, payload, len, 0, &svc->signer);
    if (rc == 0)
        rc = wb_cose_sign1_decode(&m, signed_st, slen, WB_STATEMENT_MAX);
    if (rc == 0) {
        rc = wb_scitt_registered_statement(&reg.statement, &reg.len, &m);
        wb_cose_sign1_cleanup(&m);
    }
    free(signed_st);
    if (rc == 0)
        rc = wb_sha256(reg.id, reg.statement, reg.len);
    if (rc == 0) {
        snprintf(reg.issuer, sizeof(reg.issuer), "%s", svc->cfg.name);
        rc = scitt_submit(svc, &t, &reg, NULL, NULL, 1);
        if (rc == 0)
            wb_ticket_release(t);
    }
    wb_registration_cleanup(&reg);
    return rc;
}

const char *wb_service_name(const wb_service *svc)
{
    return svc->cfg.name;
}

const wb_service_hooks *wb_service_get_hooks(const wb_service *svc)
{
    return &svc->cfg.hooks;
}

const uint8_t *wb_service_kid(const wb_service *svc, size_t *len)
{
    *len = sizeof(svc->kid);
    return svc->kid;
}

void wb_service_get_stats(wb_service *svc, wb_service_stats *out)
{
    pthread_mutex_lock(&svc->mu);
    *out = svc->stats;
    out->queue_depth = svc->queued;
    pthread_mutex_unlock(&svc->mu);
    out->cluster = svc->cluster != NULL;
    out->sequencer = svc->cluster ? scitt_cluster_is_leader(svc) : 1;
    out->takeovers = scitt_cluster_takeovers(svc);
}

void wb_registration_cleanup(wb_registration *r)
{
    free(r->statement);
    memset(r, 0, sizeof(*r));
}

/* ---- open / close ---- */

void scitt_dev_issuers_clear(wb_service *svc)
{
    for (size_t i = 0; i < svc->ndev_issuers; i++)
        issuer_cleanup(&svc->dev_issuers[i]);
    free(svc->dev_issuers);
    svc->dev_issuers = NULL;
    svc->ndev_issuers = 0;
}

/* (re)reads DIR/issuers/\*.pem; called with dev_mu held, or before threads */
int scitt_load_dev_issuers(wb_service *svc)
{
    char dir[4200];
    DIR *d;
    struct dirent *e;
    int rc = 0;
    snprintf(dir, sizeof(dir), "%s/issuers", svc->cfg.data_dir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return wb_error_set(WB_E_IO, "mkdir %s: %s", dir, strerror(errno));
    d = opendir(dir);
    if (!d)
        return wb_error_set(WB_E_IO, "%s: %s", dir, strerror(errno));
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char path[8500];
        size_t n = strlen(e->d_name);
        wb_issuer *grown, *is;
        if (n < 5 || strcmp(e->d_name + n - 4, ".pem") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        grown = realloc(svc->dev_issuers, (svc->ndev_issuers + 1) * sizeof(*grown));
        if (!grown) {
            rc = wb_error_set(WB_E_NOMEM, "out of memory");
            break;
        }
        svc->dev_issuers = grown;
        is = &grown[svc->ndev_issuers];
        memset(is, 0, sizeof(*is));
        rc = wb_key_read_file(&is->key, path);
        if (rc == 0) {
            wb_key *pub;
            /* only the public part is needed */
            if (wb_key_is_private(is->key) && wb_key_public_copy(&pub, is->key) == 0) {
                wb_key_free(is->key);
                is->key = pub;
            }
            rc = wb_key_default_kid(is->kid, is->key);
            is->kid_len = 32;
            is->name = strndup(e->d_name, n - 4);
            if (rc == 0 && !is->name)
                rc = wb_error_set(WB_E_NOMEM, "out of memory");
        }
        if (rc)
            rc = wb_error_prefix(rc, "dev issuer %s", path);
        else
            svc->ndev_issuers++;
        if (rc)
            issuer_cleanup(is);
    }
    closedir(d);
    return rc;
}

static int open_receipt_key(wb_service *svc)
{
    struct stat sb;
    int rc;
    if (!svc->cfg.receipt_key_file)
        return wb_error_set(WB_E_INVALID, "no receipt key file configured");
    if (stat(svc->cfg.receipt_key_file, &sb) != 0 && svc->cfg.dev) {
        wb_key *k;
        rc = wb_key_generate(&k, WB_ALG_ES256);
        if (rc == 0)
            rc = wb_key_write_file(k, svc->cfg.receipt_key_file, 1);
        wb_key_free(k);
        if (rc)
            return rc;
    }
    rc = wb_key_read_file(&svc->receipt_key, svc->cfg.receipt_key_file);
    if (rc)
        return wb_error_prefix(rc, "receipt key");
    if (!wb_key_is_private(svc->receipt_key))
        return wb_error_set(WB_E_INVALID, "receipt key %s is a public key; the service "
                            "needs the private key", svc->cfg.receipt_key_file);
    rc = wb_cose_signer_for_key(&svc->signer, svc->receipt_key);
    if (rc == 0)
        rc = wb_key_default_kid(svc->kid, svc->receipt_key);
    return rc;
}

int wb_service_open(wb_service **out, const wb_service_config *cfg)
{
    wb_service *svc;
    int rc;

    if (!cfg->name || !cfg->data_dir)
        return wb_error_set(WB_E_INVALID, "the service needs a name and a data directory");
    if (cfg->batch_max < 1 || cfg->batch_max > WB_LOG_BATCH_MAX)
        return wb_error_set(WB_E_INVALID, "batch max_entries must be 1..%d",
                            WB_LOG_BATCH_MAX);
    if (cfg->queue_max < 1)
        return wb_error_set(WB_E_INVALID, "queue_max must be at least 1");
    svc = calloc(1, sizeof(*svc));
    if (!svc)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    pthread_mutex_init(&svc->mu, NULL);
    pthread_mutex_init(&svc->dev_mu, NULL);
    pthread_cond_init(&svc->work, NULL);
    pthread_cond_init(&svc->done, NULL);
    pthread_key_create(&svc->tls_log, tls_log_free);
    rc = config_copy(&svc->cfg, cfg);
    if (rc)
        goto fail;

    rc = service_log_ensure(cfg);
    if (rc)
        goto fail;
    /* manual checkpoint: the sequencer checkpoints between batches */
    rc = service_log_open(cfg, &svc->seq_log, 1);
    if (rc)
        goto fail;
    if (strcmp(wb_log_origin(svc->seq_log), cfg->name) != 0) {
        rc = wb_error_set(WB_E_INVALID, "%s holds the log '%s', but the service name is "
                          "'%s'", cfg->data_dir, wb_log_origin(svc->seq_log), cfg->name);
        goto fail;
    }
    rc = open_receipt_key(svc);
    if (rc)
        goto fail;
    if (cfg->nanchor_files) {
        rc = wb_x509_anchors_load(&svc->anchors, (const char *const *)cfg->anchor_files,
                                  cfg->nanchor_files);
        if (rc)
            goto fail;
    }
    if (cfg->nissuers) {
        svc->issuer_anchors = calloc(cfg->nissuers, sizeof(*svc->issuer_anchors));
        if (!svc->issuer_anchors) {
            rc = wb_error_set(WB_E_NOMEM, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < cfg->nissuers; i++) {
            const char *f = cfg->issuers[i].anchor_file;
            if (!f)
                continue;
            rc = wb_x509_anchors_load(&svc->issuer_anchors[i], &f, 1);
            if (rc) {
                rc = wb_error_prefix(rc, "issuer '%s'", cfg->issuers[i].name);
                goto fail;
            }
        }
    }
    if (cfg->dev && (rc = scitt_load_dev_issuers(svc)) != 0)
        goto fail;
    if (cfg->hooks.open && (rc = cfg->hooks.open(cfg->hooks.ctx,
                                                 wb_log_store(svc->seq_log), svc)) != 0)
        goto fail;
    rc = ensure_receipt_sig(svc);
    if (rc == 0)
        rc = scitt_sequencer_start(svc);
    if (rc)
        goto fail;
    *out = svc;
    return 0;
fail: {
    char msg[WB_ERROR_MAX];
    snprintf(msg, sizeof(msg), "%s", wb_error_message());
    wb_service_close(svc);
    return wb_error_set(rc, "%s", msg);
}
}

void wb_service_close(wb_service *svc)
{
    wb_log *mine;
    if (!svc)
        return;
    scitt_sequencer_stop(svc);
    mine = pthread_getspecific(svc->tls_log);
    if (mine) {
        pthread_setspecific(svc->tls_log, NULL);
        wb_log_close(mine);
    }
    pthread_key_delete(svc->tls_log);
    wb_log_close(svc->seq_log);
    wb_key_free(svc->receipt_key);
    wb_x509_anchors_free(svc->anchors);
    for (size_t i = 0; svc->issuer_anchors && i < svc->cfg.nissuers; i++)
        wb_x509_anchors_free(svc->issuer_anchors[i]);
    free(svc->issuer_anchors);
    scitt_dev_issuers_clear(svc);
    pthread_mutex_destroy(&svc->dev_mu);
    if (svc->cfg.hooks.destroy)
        svc->cfg.hooks.destroy(svc->cfg.hooks.ctx);
    wb_service_config_cleanup(&svc->cfg);
    pthread_cond_destroy(&svc->work);
    pthread_cond_destroy(&svc->done);
    pthread_mutex_destroy(&svc->mu);
    free(svc);
}
