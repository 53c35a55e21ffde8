/*
 * witnesses.c: the log server's side of witnessing ([witness] in
 * docs/configuration.md; C2SP tlog-witness and tlog-cosignature).
 *
 * One thread per witness of the policy. Each watches the tree size (the
 * sequencer's counters; it never waits for a witness and is never told
 * about them), and when the log signed a newer checkpoint than the one the
 * witness last cosigned, submits it with wb_witness_add_checkpoint: the old
 * size is the size that witness last cosigned (0 at first) with a
 * consistency proof from it; on 409 it takes the witness's own size from the
 * reply and tries once more with a proof from that size. A returned
 * cosignature is verified with the witness's key before it is kept. A
 * witness that is down, slow or refusing only delays its own thread: it is
 * tried again retry_s later, and the log goes on.
 *
 * What is kept, in memory and durably in the store's metadata (so that a
 * restart serves it again; every line is verified again on load):
 *   witness/<name>    "<size>\n<cosignature line>": the newest checkpoint
 *                     this witness cosigned
 *   witnessed/<name>  its cosignature of the newest checkpoint a quorum
 *                     cosigned ("" if it did not), witnessed.size that size
 * GET /checkpoint is the newest checkpoint with every cosignature gathered
 * for it; a witnessed receipt (?witnessed=1) is made against the newest
 * quorum-cosigned checkpoint that holds its entry, and a witnessed passport
 * against the newest quorum-cosigned checkpoint, which must hold every entry
 * about the device.
 */
#include "server_int.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "waybill/error.h"
#include "waybill/log.h"
#include "waybill/passport.h"
#include "waybill/util.h"
#include "waybill/witness.h"
#include "waybill/witnessed.h"

#define POLL_MS 100
#define COSIG_MAX 2048 /* bytes of cosignature lines kept from one witness */

typedef struct srv_witness {
    struct srv_witnesses *ws;
    size_t i;
    const char *name; /* owned by the policy */
    const char *url;
    const wb_note_key *key;
    pthread_t thread;
    int started;
    /* guarded by ws->mu */
    uint64_t size;    /* the newest checkpoint size it cosigned (0: none) */
    char *cosig;      /* its cosignature line(s) of that checkpoint */
    char *qcosig;     /* its cosignature of the quorum checkpoint, or NULL */
    int reachable;
    uint64_t ok, failed;
    uint64_t retry_at_ms;
    char err[256];
} srv_witness;

struct srv_witnesses {
    wb_service *svc;
    wb_witness_policy policy;
    wb_note_key *log_key;
    long timeout_ms;
    unsigned retry_s;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    pthread_mutex_t persist_mu; /* one writer of the persisted state at a time */
    int stopping;
    uint64_t latest;            /* the newest checkpoint size seen (guarded by mu) */
    uint64_t qsize;             /* the newest checkpoint a quorum cosigned (mu) */
    srv_witness w[WB_WITNESS_MAX];
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* the tree size of one of our own checkpoints (its second line) */
static int note_size(uint64_t *size, const char *note, size_t len)
{
    const char *nl = memchr(note, '\n', len), *nl2;
    if (!nl)
        return wb_error_set(WB_E_CORRUPT, "checkpoint: no size line");
    nl2 = memchr(nl + 1, '\n', len - (size_t)(nl + 1 - note));
    if (!nl2 || wb_parse_u64(size, nl + 1, (size_t)(nl2 - nl - 1)) != 0)
        return wb_error_set(WB_E_CORRUPT, "checkpoint: bad size line");
    return 0;
}

/*
 * the signed checkpoint of tree size new_size (0: the newest) and, when old
 * is not 0, the consistency proof from old to it; *size gets its size
 */
static int checkpoint_and_proof(srv_witnesses *ws, uint64_t old, uint64_t new_size,
                                char **note, size_t *len, uint64_t *size,
                                uint8_t (*proof)[WB_HASH_LEN], size_t *nproof)
{
    wb_proof_text p;
    char *text = NULL;
    size_t tlen = 0;
    int rc;
    *note = NULL;
    *nproof = 0;
    if (old == 0 && new_size == 0) {
        rc = wb_service_checkpoint(ws->svc, note, len);
        if (rc == 0 && (rc = note_size(size, *note, *len)) != 0) {
            free(*note);
            *note = NULL;
        }
        return rc;
    }
    rc = wb_service_consistency(ws->svc, old ? old : new_size, new_size, &text, &tlen);
    if (rc)
        return rc;
    memset(&p, 0, sizeof(p));
    rc = wb_proof_text_parse(&p, text, tlen);
    if (rc == 0 && !(*note = strndup(p.checkpoint, p.checkpoint_len)))
        rc = wb_error_set(WB_E_NOMEM, "out of memory");
    if (rc == 0) {
        *len = p.checkpoint_len;
        rc = note_size(size, *note, *len);
    }
    if (rc == 0 && old) {
        memcpy(proof, p.hashes, p.nhashes * WB_HASH_LEN);
        *nproof = p.nhashes;
    }
    if (rc) {
        free(*note);
        *note = NULL;
    }
    wb_proof_text_cleanup(&p);
    free(text);
    return rc;
}

/* 0 if cosig holds a valid cosignature by w of the signed checkpoint note */
static int cosig_check(srv_witnesses *ws, const srv_witness *w, const char *note,
                       size_t nlen, const char *cosig, size_t clen)
{
    char *full;
    wb_note n;
    uint64_t t;
    int rc;
    if (clen == 0 || clen > COSIG_MAX || cosig[clen - 1] != '\n')
        return wb_error_set(WB_E_VERIFY, "not a cosignature line");
    if (!(full = malloc(nlen + clen)))
        return wb_error_set(WB_E_NOMEM, "out of memory");
    memcpy(full, note, nlen);
    memcpy(full + nlen, cosig, clen);
    rc = wb_note_open(&n, full, nlen + clen, &ws->log_key, 1);
    if (rc == 0) {
        rc = wb_cosig_verify(&n, w->key, &t);
        wb_note_cleanup(&n);
    }
    free(full);
    return rc;
}

/* ---- durable state ---- */

static void persist(srv_witnesses *ws, const srv_witness *w, int quorum_changed)
{
    wb_store *store;
    char name[128], *val = NULL, *lines[WB_WITNESS_MAX];
    uint64_t qsize;
    int rc;
    memset(lines, 0, sizeof(lines));
    if (wb_service_thread_store(ws->svc, &store) != 0) {
        srv_log("warn", "msg=\"witness state not saved\" err=\"%s\"", wb_error_message());
        return;
    }
    pthread_mutex_lock(&ws->persist_mu);
    pthread_mutex_lock(&ws->mu);
    if (w->cosig && asprintf(&val, "%llu\n%s", (unsigned long long)w->size, w->cosig) < 0)
        val = NULL;
    qsize = ws->qsize;
    for (size_t i = 0; quorum_changed && i < ws->policy.nwitness; i++)
        lines[i] = strdup(ws->w[i].qcosig ? ws->w[i].qcosig : "");
    pthread_mutex_unlock(&ws->mu);
    snprintf(name, sizeof(name), "witness/%s", w->name);
    rc = val ? wb_store_put_meta(store, name, val) : 0;
    for (size_t i = 0; rc == 0 && quorum_changed && i < ws->policy.nwitness; i++) {
        snprintf(name, sizeof(name), "witnessed/%s", ws->w[i].name);
        rc = lines[i] ? wb_store_put_meta(store, name, lines[i])
                      : wb_error_set(WB_E_NOMEM, "out of memory");
    }
    if (rc == 0 && quorum_changed) {
        char num[32];
        snprintf(num, sizeof(num), "%llu", (unsigned long long)qsize);
        rc = wb_store_put_meta(store, "witnessed.size", num);
    }
    pthread_mutex_unlock(&ws->persist_mu);
    if (rc)
        srv_log("warn", "msg=\"witness state not saved\" witness=%s err=\"%s\"", w->name,
                wb_error_message());
    free(val);
    for (size_t i = 0; i < WB_WITNESS_MAX; i++)
        free(lines[i]);
}

/* the signed checkpoint of size (malloc'd), for checking saved cosignatures */
static int checkpoint_at(srv_witnesses *ws, uint64_t size, char **note, size_t *len)
{
    uint8_t proof[WB_MERKLE_MAX_PROOF][WB_HASH_LEN];
    size_t n;
    uint64_t got;
    return checkpoint_and_proof(ws, 0, size, note, len, &got, proof, &n);
}

/* loads what an earlier run gathered; what does not verify is dropped */
static void load_state(srv_witnesses *ws)
{
    wb_store *store;
    char name[128], *val = NULL, *note = NULL;
    size_t nlen = 0, nq = 0;
    uint64_t qsize = 0;
    if (wb_service_thread_store(ws->svc, &store) != 0)
        return;
    for (size_t i = 0; i < ws->policy.nwitness; i++) {
        srv_witness *w = &ws->w[i];
        char *nl;
        uint64_t size;
        snprintf(name, sizeof(name), "witness/%s", w->name);
        if (wb_store_get_meta(store, name, &val) != 0)
            continue;
        nl = strchr(val, '\n');
        if (nl && wb_parse_u64(&size, val, (size_t)(nl - val)) == 0 &&
            checkpoint_at(ws, size, &note, &nlen) == 0 &&
            cosig_check(ws, w, note, nlen, nl + 1, strlen(nl + 1)) == 0) {
            w->size = size;
            w->cosig = strdup(nl + 1);
        } else {
            srv_log("warn", "msg=\"saved cosignature dropped\" witness=%s", w->name);
        }
        free(note);
        note = NULL;
        free(val);
        val = NULL;
    }
    if (wb_store_get_meta(store, "witnessed.size", &val) == 0 &&
        wb_parse_u64(&qsize, val, strlen(val)) == 0 && qsize > 0 &&
        checkpoint_at(ws, qsize, &note, &nlen) == 0) {
        for (size_t i = 0; i < ws->policy.nwitness; i++) {
            char *line = NULL;
            snprintf(name, sizeof(name), "witnessed/%s", ws->w[i].name);
            if (wb_store_get_meta(store, name, &line) == 0 && line[0] &&
                cosig_check(ws, &ws->w[i], note, nlen, line, strlen(line)) == 0) {
                ws->w[i].qcosig = line;
                nq++;
            } else {
                free(line);
            }
        }
        if (nq >= ws->policy.quorum) {
            ws->qsize = qsize;
        } else {
            for (size_t i = 0; i < ws->policy.nwitness; i++) {
                free(ws->w[i].qcosig);
                ws->w[i].qcosig = NULL;
            }
        }
    }
    free(val);
    free(note);
}

/* ---- gathering ---- */

static void failed(srv_witness *w, int reachable, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void failed(srv_witness *w, int reachable, const char *fmt, ...)
{
    srv_witnesses *ws = w->ws;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&ws->mu);
    w->failed++;
    w->reachable = reachable;
    w->retry_at_ms = mono_ms() + (uint64_t)ws->retry_s * 1000u;
    snprintf(w->err, sizeof(w->err), "%s", msg);
    pthread_mutex_unlock(&ws->mu);
    srv_log("warn", "msg=\"witness did not cosign\" witness=%s err=\"%s\" retry_s=%u",
            w->name, msg, ws->retry_s);
}

/* keeps a verified cosignature of the checkpoint of size */
static void accepted(srv_witness *w, uint64_t size, char *cosig)
{
    srv_witnesses *ws = w->ws;
    size_t count = 0;
    int quorum_changed = 0;
    pthread_mutex_lock(&ws->mu);
    free(w->cosig);
    w->cosig = cosig;
    w->size = size;
    w->ok++;
    w->reachable = 1;
    w->err[0] = '\0';
    w->retry_at_ms = 0;
    for (size_t i = 0; i < ws->policy.nwitness; i++)
        count += ws->w[i].size == size && ws->w[i].cosig;
    if (count >= ws->policy.quorum && size >= ws->qsize) {
        /* the newest quorum-cosigned checkpoint: size, with whoever cosigned it */
        for (size_t i = 0; i < ws->policy.nwitness; i++) {
            srv_witness *x = &ws->w[i];
            char *line = x->size == size && x->cosig ? strdup(x->cosig) : NULL;
            if (size == ws->qsize && !line && x->qcosig)
                continue; /* keep what it gave for this very checkpoint */
            free(x->qcosig);
            x->qcosig = line;
        }
        ws->qsize = size;
        quorum_changed = 1;
    }
    pthread_mutex_unlock(&ws->mu);
    persist(ws, w, quorum_changed);
}

/* submits the newest checkpoint to w (tlog-witness add-checkpoint) */
static void gather(srv_witness *w)
{
    srv_witnesses *ws = w->ws;
    uint8_t proof[WB_MERKLE_MAX_PROOF][WB_HASH_LEN];
    uint64_t old, size = 0;
    pthread_mutex_lock(&ws->mu);
    old = w->size;
    pthread_mutex_unlock(&ws->mu);
    for (int attempt = 0; attempt < 2; attempt++) {
        wb_witness_reply reply;
        char *note = NULL;
        size_t nlen = 0, nproof = 0;
        int rc = checkpoint_and_proof(ws, old, 0, &note, &nlen, &size, proof, &nproof);
        if (rc) {
            failed(w, 1, "no checkpoint and proof from size %llu: %s",
                   (unsigned long long)old, wb_error_message());
            return;
        }
        if (size == 0 || (attempt == 0 && size <= old)) {
            free(note);
            return;
        }
        memset(&reply, 0, sizeof(reply));
        rc = wb_witness_add_checkpoint(&reply, w->url, old, (const uint8_t(*)[WB_HASH_LEN])proof,
                                       nproof, note, nlen, ws->timeout_ms);
        if (rc) {
            failed(w, 0, "unreachable: %s", wb_error_message());
        } else if (reply.status == 200) {
            char *line = reply.cosig ? strndup(reply.cosig, reply.cosig_len) : NULL;
            if (line && cosig_check(ws, w, note, nlen, line, reply.cosig_len) == 0) {
                accepted(w, size, line);
                srv_log("info", "msg=\"checkpoint cosigned\" witness=%s size=%llu", w->name,
                        (unsigned long long)size);
            } else {
                failed(w, 1, "its answer is not a valid cosignature of the checkpoint of "
                       "size %llu: %s", (unsigned long long)size,
                       line ? wb_error_message() : "empty");
                free(line);
            }
        } else if (reply.status == 409 && attempt == 0 && reply.size != old) {
            if (reply.size > size) {
                failed(w, 1, "the witness has cosigned size %llu of this log, which is only "
                       "at %llu: was the log rolled back?", (unsigned long long)reply.size,
                       (unsigned long long)size);
            } else {
                old = reply.size; /* it knows another size: once more from there */
                wb_witness_reply_cleanup(&reply);
                free(note);
                continue;
            }
        } else {
            failed(w, 1, "HTTP %d: %s", reply.status,
                   reply.detail ? reply.detail : "(no detail)");
        }
        wb_witness_reply_cleanup(&reply);
        free(note);
        return;
    }
}

static void *witness_main(void *arg)
{
    srv_witness *w = arg;
    srv_witnesses *ws = w->ws;
    pthread_mutex_lock(&ws->mu);
    while (!ws->stopping) {
        wb_service_stats st;
        uint64_t latest, done, retry_at;
        struct timespec ts;
        latest = ws->latest;
        done = w->size;
        retry_at = w->retry_at_ms;
        pthread_mutex_unlock(&ws->mu);
        wb_service_get_stats(ws->svc, &st);
        if (st.tree_size > latest)
            latest = st.tree_size;
        /* several nodes over one database: the sequencer submits (it alone
           knows the newest tree); the others serve what it gathered */
        if (st.sequencer && latest > done && mono_ms() >= retry_at)
            gather(w);
        pthread_mutex_lock(&ws->mu);
        if (latest > ws->latest)
            ws->latest = latest;
        if (ws->stopping)
            break;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += POLL_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&ws->cond, &ws->mu, &ts);
    }
    pthread_mutex_unlock(&ws->mu);
    return NULL;
}

/* ---- start / stop ---- */

int srv_witnesses_start(srv_witnesses **out, wb_service *svc, const char *policy_file,
                        unsigned timeout_ms, unsigned retry_s)
{
    srv_witnesses *ws = calloc(1, sizeof(*ws));
    char *vkey = NULL, *note = NULL;
    size_t nlen;
    int rc;
    *out = NULL;
    if (!ws)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    ws->svc = svc;
    ws->timeout_ms = timeout_ms ? (long)timeout_ms : 3000;
    ws->retry_s = retry_s ? retry_s : 10;
    pthread_mutex_init(&ws->mu, NULL);
    pthread_mutex_init(&ws->persist_mu, NULL);
    {
        pthread_condattr_t a;
        pthread_condattr_init(&a);
        pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
        pthread_cond_init(&ws->cond, &a);
        pthread_condattr_destroy(&a);
    }
    rc = wb_witness_policy_load(&ws->policy, policy_file);
    if (rc) {
        memset(&ws->policy, 0, sizeof(ws->policy));
        rc = wb_error_prefix(rc, "[witness] policy");
        goto fail;
    }
    if (ws->policy.nwitness == 0) {
        rc = wb_error_set(WB_E_INVALID, "[witness] policy %s names no witness", policy_file);
        goto fail;
    }
    rc = wb_service_log_key(svc, &vkey);
    if (rc == 0)
        rc = wb_note_verifier_parse(&ws->log_key, vkey, strlen(vkey));
    if (rc)
        goto fail;
    if (ws->policy.log_vkey && strcmp(ws->policy.log_vkey, vkey) != 0) {
        rc = wb_error_set(WB_E_INVALID, "[witness] policy %s: its log line names key %s, "
                          "but this log's key is %s", policy_file, ws->policy.log_vkey, vkey);
        goto fail;
    }
    if (wb_service_checkpoint(svc, &note, &nlen) == 0)
        note_size(&ws->latest, note, nlen);
    free(note);
    for (size_t i = 0; i < ws->policy.nwitness; i++) {
        srv_witness *w = &ws->w[i];
        w->ws = ws;
        w->i = i;
        w->name = ws->policy.witness[i].name;
        w->url = ws->policy.witness[i].url;
        w->key = ws->policy.witness[i].key;
        w->reachable = 1;
        if (!w->url) {
            rc = wb_error_set(WB_E_INVALID, "[witness] policy %s: witness '%s' has no URL",
                              policy_file, w->name);
            goto fail;
        }
    }
    load_state(ws);
    for (size_t i = 0; i < ws->policy.nwitness; i++) {
        if (pthread_create(&ws->w[i].thread, NULL, witness_main, &ws->w[i]) != 0) {
            rc = wb_error_set(WB_E_INTERNAL, "cannot start a witness thread");
            goto fail;
        }
        ws->w[i].started = 1;
    }
    srv_log("info", "msg=\"witnesses\" count=%zu quorum=%zu cosigned_size=%llu",
            ws->policy.nwitness, ws->policy.quorum, (unsigned long long)ws->qsize);
    free(vkey);
    *out = ws;
    return 0;
fail:
    free(vkey);
    srv_witnesses_stop(ws);
    return rc;
}

void srv_witnesses_stop(srv_witnesses *ws)
{
    if (!ws)
        return;
    pthread_mutex_lock(&ws->mu);
    ws->stopping = 1;
    pthread_cond_broadcast(&ws->cond);
    pthread_mutex_unlock(&ws->mu);
    for (size_t i = 0; i < WB_WITNESS_MAX; i++) {
        if (ws->w[i].started)
            pthread_join(ws->w[i].thread, NULL);
        free(ws->w[i].cosig);
        free(ws->w[i].qcosig);
    }
    wb_note_key_free(ws->log_key);
    wb_witness_policy_cleanup(&ws->policy);
    pthread_cond_destroy(&ws->cond);
    pthread_mutex_destroy(&ws->mu);
    pthread_mutex_destroy(&ws->persist_mu);
    free(ws);
}

/* ---- what the read API serves ---- */

/* appends the cosignatures gathered for the checkpoint of size (mu held) */
static size_t add_cosigs(srv_witnesses *ws, uint64_t size, wb_buf *b)
{
    size_t n = 0;
    for (size_t i = 0; i < ws->policy.nwitness; i++) {
        const srv_witness *w = &ws->w[i];
        const char *line = w->size == size && w->cosig     ? w->cosig
                           : ws->qsize == size && w->qcosig ? w->qcosig
                                                            : NULL;
        if (line) {
            wb_buf_add_str(b, line);
            n++;
        }
    }
    return n;
}

int srv_witnesses_cosign(srv_witnesses *ws, char **note, size_t *len)
{
    uint64_t size;
    wb_buf b;
    uint8_t *out;
    int rc;
    if (!ws || note_size(&size, *note, *len) != 0)
        return 0;
    wb_buf_init(&b, WB_NOTE_MAX);
    wb_buf_add(&b, *note, *len);
    pthread_mutex_lock(&ws->mu);
    add_cosigs(ws, size, &b);
    pthread_mutex_unlock(&ws->mu);
    rc = wb_buf_add_u8(&b, 0); /* NUL-terminated, as the note was */
    if (rc == 0 && (rc = wb_buf_finish(&b, &out, len)) == 0) {
        free(*note);
        *note = (char *)out;
        (*len)--;
    } else {
        wb_buf_cleanup(&b);
    }
    return rc;
}

int srv_witnesses_proof(srv_witnesses *ws, char **text, size_t *len)
{
    wb_proof_text p;
    uint64_t size;
    wb_buf b;
    uint8_t *out;
    int rc;
    if (!ws)
        return 0;
    memset(&p, 0, sizeof(p));
    rc = wb_proof_text_parse(&p, *text, *len);
    if (rc == 0)
        rc = note_size(&size, p.checkpoint, p.checkpoint_len);
    wb_proof_text_cleanup(&p);
    if (rc)
        return rc;
    /* the checkpoint ends the proof text: its cosignatures follow it */
    wb_buf_init(&b, WB_PROOF_TEXT_MAX);
    wb_buf_add(&b, *text, *len);
    pthread_mutex_lock(&ws->mu);
    add_cosigs(ws, size, &b);
    pthread_mutex_unlock(&ws->mu);
    rc = wb_buf_finish(&b, &out, len);
    if (rc == 0) {
        free(*text);
        *text = (char *)out;
    }
    return rc;
}

/* the signed checkpoint of size with the cosignatures gathered for it (malloc'd) */
static int cosigned_checkpoint(srv_witnesses *ws, uint64_t size, char **out, size_t *len)
{
    char *note = NULL;
    size_t nlen = 0;
    uint8_t *full = NULL;
    wb_buf b;
    int rc = checkpoint_at(ws, size, &note, &nlen);
    if (rc)
        return rc;
    wb_buf_init(&b, WB_NOTE_MAX);
    wb_buf_add(&b, note, nlen);
    pthread_mutex_lock(&ws->mu);
    add_cosigs(ws, size, &b);
    pthread_mutex_unlock(&ws->mu);
    rc = wb_buf_finish(&b, &full, len); /* NUL-terminated past len */
    if (rc == 0)
        *out = (char *)full;
    free(note);
    return rc;
}

int srv_witnesses_receipt(srv_witnesses *ws, const uint8_t id[32], int statement,
                          uint8_t **out, size_t *len, char *why, size_t cap)
{
    uint8_t *receipt = NULL, *ts = NULL, *reg = NULL, *wrec = NULL;
    size_t rlen = 0, tslen = 0, reglen = 0, wlen = 0, nreceipts = 0;
    wb_cose_bytes *receipts = NULL;
    uint64_t index = 0, size = 0;
    char *full = NULL;
    size_t flen = 0;
    int rc = wb_service_receipt(ws->svc, id, &receipt, &rlen, &index);
    free(receipt);
    if (rc)
        return rc; /* 1: queued, not yet committed */
    pthread_mutex_lock(&ws->mu);
    if (ws->qsize > index) {
        size = ws->qsize;
    } else {
        /* no quorum yet for a tree that holds it: the newest anyone cosigned */
        for (size_t i = 0; i < ws->policy.nwitness; i++)
            if (ws->w[i].cosig && ws->w[i].size > index && ws->w[i].size > size)
                size = ws->w[i].size;
    }
    pthread_mutex_unlock(&ws->mu);
    if (size == 0) {
        snprintf(why, cap, "entry %llu is not yet in a checkpoint any witness cosigned",
                 (unsigned long long)index);
        return 2;
    }
    rc = cosigned_checkpoint(ws, size, &full, &flen);
    if (rc == 0)
        rc = wb_service_transparent_at(ws->svc, index, size, &ts, &tslen);
    if (rc == 0)
        rc = wb_scitt_transparent_split(&reg, &reglen, &receipts, &nreceipts, ts, tslen);
    if (rc == 0 && nreceipts != 1)
        rc = wb_error_set(WB_E_INTERNAL, "entry %llu: %zu receipts", (unsigned long long)index,
                          nreceipts);
    /* the receipt is made against the witnessed tree itself: the proof is empty */
    if (rc == 0)
        rc = wb_receipt_witnessed_attach(&wrec, &wlen, receipts[0].ptr, receipts[0].len,
                                         full, flen, size, size, NULL, 0);
    if (rc == 0 && statement) {
        wb_cose_bytes one = {wrec, wlen};
        rc = wb_scitt_transparent_statement(out, len, reg, reglen, &one, 1);
    } else if (rc == 0) {
        *out = wrec;
        *len = wlen;
        wrec = NULL;
    }
    free(wrec);
    free(full);
    free(ts);
    free(reg);
    wb_scitt_receipts_free(receipts, nreceipts);
    return rc;
}

int srv_witnesses_passport(srv_witnesses *ws, const char *device, uint8_t **out, size_t *len,
                           char *why, size_t cap)
{
    char *note = NULL;
    size_t nlen = 0;
    uint64_t size;
    int rc;
    pthread_mutex_lock(&ws->mu);
    size = ws->qsize;
    pthread_mutex_unlock(&ws->mu);
    if (size == 0) {
        snprintf(why, cap, "no checkpoint has been cosigned by a quorum of the witnesses yet");
        return 2;
    }
    rc = cosigned_checkpoint(ws, size, &note, &nlen);
    if (rc == 0)
        rc = wb_passport_build_at(out, len, ws->svc, device, note, nlen);
    if (rc == 1) {
        snprintf(why, cap, "%s (the newest checkpoint a quorum of witnesses cosigned)",
                 wb_error_message());
        rc = 2;
    }
    free(note);
    return rc;
}

json_t *srv_witnesses_json(srv_witnesses *ws)
{
    json_t *o = json_object(), *list = json_array();
    uint64_t latest;
    size_t at_latest = 0, at_q = 0;
    if (!o || !list) {
        json_decref(o);
        json_decref(list);
        return NULL;
    }
    pthread_mutex_lock(&ws->mu);
    latest = ws->latest;
    for (size_t i = 0; i < ws->policy.nwitness; i++) {
        const srv_witness *w = &ws->w[i];
        int cur = w->cosig && w->size == latest;
        at_latest += cur || (ws->qsize == latest && w->qcosig);
        at_q += w->qcosig != NULL;
        json_array_append_new(
            list, json_pack("{s:s, s:s, s:I, s:b, s:b, s:I, s:I, s:s?}", "name", w->name,
                            "url", w->url, "cosigned_size", (json_int_t)w->size,
                            "cosigned_checkpoint", cur || (ws->qsize == latest && w->qcosig),
                            "reachable", w->reachable, "ok", (json_int_t)w->ok, "failed",
                            (json_int_t)w->failed, "last_error", w->err[0] ? w->err : NULL));
    }
    json_object_set_new(o, "quorum", json_integer((json_int_t)ws->policy.quorum));
    json_object_set_new(o, "checkpoint_size", json_integer((json_int_t)latest));
    json_object_set_new(o, "cosignatures", json_integer((json_int_t)at_latest));
    json_object_set_new(o, "quorum_met", json_boolean(at_latest >= ws->policy.quorum));
    json_object_set_new(o, "witnessed_size", json_integer((json_int_t)ws->qsize));
    json_object_set_new(o, "witnessed_cosignatures", json_integer((json_int_t)at_q));
    pthread_mutex_unlock(&ws->mu);
    json_object_set_new(o, "witnesses", list);
    return o;
}

void srv_witnesses_metrics(srv_witnesses *ws, wb_buf *b)
{
    size_t at_latest = 0;
    if (!ws)
        return;
    pthread_mutex_lock(&ws->mu);
    wb_buf_printf(b, "# HELP waybill_witness_cosignatures_total Checkpoints each witness "
                     "cosigned.\n# TYPE waybill_witness_cosignatures_total counter\n");
    for (size_t i = 0; i < ws->policy.nwitness; i++)
        wb_buf_printf(b, "waybill_witness_cosignatures_total{witness=\"%s\"} %llu\n",
                      ws->w[i].name, (unsigned long long)ws->w[i].ok);
    wb_buf_printf(b, "# HELP waybill_witness_failures_total Submissions a witness did not "
                     "cosign (unreachable, slow or refused).\n"
                     "# TYPE waybill_witness_failures_total counter\n");
    for (size_t i = 0; i < ws->policy.nwitness; i++)
        wb_buf_printf(b, "waybill_witness_failures_total{witness=\"%s\"} %llu\n",
                      ws->w[i].name, (unsigned long long)ws->w[i].failed);
    wb_buf_printf(b, "# HELP waybill_witness_cosigned_size Tree size of the newest checkpoint "
                     "each witness cosigned.\n# TYPE waybill_witness_cosigned_size gauge\n");
    for (size_t i = 0; i < ws->policy.nwitness; i++)
        wb_buf_printf(b, "waybill_witness_cosigned_size{witness=\"%s\"} %llu\n",
                      ws->w[i].name, (unsigned long long)ws->w[i].size);
    wb_buf_printf(b, "# HELP waybill_witness_up Whether the last submission reached the "
                     "witness.\n# TYPE waybill_witness_up gauge\n");
    for (size_t i = 0; i < ws->policy.nwitness; i++) {
        const srv_witness *w = &ws->w[i];
        wb_buf_printf(b, "waybill_witness_up{witness=\"%s\"} %d\n", w->name, w->reachable);
        at_latest += (w->cosig && w->size == ws->latest) ||
                     (ws->qsize == ws->latest && w->qcosig);
    }
    wb_buf_printf(b, "# HELP waybill_witness_checkpoint_cosignatures Cosignatures of the "
                     "checkpoint served at /checkpoint.\n"
                     "# TYPE waybill_witness_checkpoint_cosignatures gauge\n"
                     "waybill_witness_checkpoint_cosignatures %zu\n"
                     "# HELP waybill_witness_quorum Cosignatures the policy asks for.\n"
                     "# TYPE waybill_witness_quorum gauge\nwaybill_witness_quorum %zu\n"
                     "# HELP waybill_witness_witnessed_size Tree size of the newest checkpoint "
                     "a quorum cosigned.\n# TYPE waybill_witness_witnessed_size gauge\n"
                     "waybill_witness_witnessed_size %llu\n",
                  at_latest, ws->policy.quorum, (unsigned long long)ws->qsize);
    pthread_mutex_unlock(&ws->mu);
}
