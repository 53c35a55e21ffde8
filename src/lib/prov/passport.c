/*
 * passport.c: device passports (waybill/passport.h, docs/passport.md).
 *
 * A passport is one CBOR map:
 *   { "format": "waybill-passport/v1",
 *     "device": tstr,                   the device id
 *     "service": tstr,                  the service name (receipts' iss)
 *     "service_keys": bstr,             COSE Key Set of the receipt key
 *     "log_key": tstr,                  the log's signed-note verifier key
 *     "checkpoint": tstr,               a signed checkpoint of size S, root R
 *                                       (a witnessed passport: with the
 *                                       witnesses' cosignature lines)
 *     "entries": [ { "index": uint, "statement": bstr }, ... ] }
 * Every statement is a transparent statement whose receipt was made against
 * the tree of size S: verifying it recomputes R, so all claims hang off the
 * one signed checkpoint.
 */
#include "waybill/passport.h"

#include <cbor.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/cose.h"
#include "waybill/error.h"
#include "waybill/fleet.h"
#include "waybill/log.h"
#include "waybill/note.h"
#include "waybill/prov.h"
#include "waybill/query.h"
#include "waybill/util.h"

/* ---- building ---- */

static void map_put(cbor_item_t *map, const char *key, cbor_item_t *value)
{
    struct cbor_pair p = {cbor_move(cbor_build_string(key)), cbor_move(value)};
    cbor_map_add(map, p);
}

/*
 * the passport against checkpoint (a signed note of cp_len bytes), or, when
 * it is NULL, against the service's newest checkpoint, leaving out what was
 * committed after it
 */
static int build(uint8_t **out, size_t *len, wb_service *svc, const char *device,
                 const char *checkpoint, size_t cp_len)
{
    wb_store *store;
    uint64_t *idx = NULL;
    size_t n = 0, klen;
    char *note = NULL, *logkey = NULL;
    size_t note_len = 0;
    uint8_t *keys = NULL;
    wb_checkpoint cp;
    wb_note_key *vk = NULL;
    cbor_item_t *map = NULL, *entries = NULL;
    unsigned char *buf = NULL;
    size_t cap = 0;
    int rc;

    memset(&cp, 0, sizeof(cp));
    rc = wb_service_thread_store(svc, &store);
    if (rc == 0)
        rc = wb_query_passport_entries(&idx, &n, store, device);
    if (rc == 0 && n == 0)
        rc = wb_error_set(WB_E_NOTFOUND, "the ledger has no entry about device %s", device);
    if (rc == 0 && checkpoint) {
        if (cp_len > WB_NOTE_MAX || memchr(checkpoint, '\0', cp_len))
            rc = wb_error_set(WB_E_INVALID, "passport: not a signed checkpoint");
        else if (!(note = strndup(checkpoint, cp_len)))
            rc = wb_error_set(WB_E_NOMEM, "out of memory");
        note_len = cp_len;
    } else if (rc == 0) {
        rc = wb_service_checkpoint(svc, &note, &note_len);
    }
    if (rc == 0)
        rc = wb_service_log_key(svc, &logkey);
    if (rc == 0)
        rc = wb_note_verifier_parse(&vk, logkey, strlen(logkey));
    if (rc == 0 && (rc = wb_checkpoint_open(&cp, note, note_len, vk)) != 0)
        rc = wb_error_prefix(rc, "passport checkpoint");
    /* a given checkpoint must hold them all: the caller asked for that one */
    for (size_t i = 0; rc == 0 && checkpoint && i < n; i++)
        if (idx[i] >= cp.size) {
            (void)wb_error_set(WB_E_RANGE, "entry %llu about device %s is not yet in the "
                               "checkpoint of %llu entries", (unsigned long long)idx[i],
                               device, (unsigned long long)cp.size);
            rc = 1;
        }
    if (rc == 0)
        rc = wb_service_keys(svc, &keys, &klen);
    if (rc)
        goto out;
    map = cbor_new_definite_map(7);
    entries = cbor_new_definite_array(n);
    if (!map || !entries) {
        rc = wb_error_set(WB_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uint8_t *ts;
        size_t tslen;
        cbor_item_t *e;
        if (idx[i] >= cp.size)
            continue; /* committed after the checkpoint we read */
        rc = wb_service_transparent_at(svc, idx[i], cp.size, &ts, &tslen);
        if (rc)
            break;
        e = cbor_new_definite_map(2);
        map_put(e, "index", cbor_build_uint64(idx[i]));
        map_put(e, "statement", cbor_build_bytestring(ts, tslen));
        free(ts);
        cbor_array_push(entries, cbor_move(e));
    }
    if (rc)
        goto out;
    map_put(map, "format", cbor_build_string(WB_PASSPORT_FORMAT));
    map_put(map, "device", cbor_build_string(device));
    map_put(map, "service", cbor_build_string(wb_service_name(svc)));
    map_put(map, "service_keys", cbor_build_bytestring(keys, klen));
    map_put(map, "log_key", cbor_build_string(logkey));
    map_put(map, "checkpoint", cbor_build_string(note));
    map_put(map, "entries", entries); /* map_put moves it */
    entries = NULL;
    *len = cbor_serialize_alloc(map, &buf, &cap);
    if (*len == 0)
        rc = wb_error_set(WB_E_NOMEM, "out of memory encoding the passport");
    else
        *out = buf;
out:
    if (entries)
        cbor_decref(&entries);
    if (map)
        cbor_decref(&map);
    wb_checkpoint_cleanup(&cp);
    wb_note_key_free(vk);
    free(idx);
    free(note);
    free(logkey);
    free(keys);
    return rc;
}

int wb_passport_build(uint8_t **out, size_t *len, wb_service *svc, const char *device)
{
    return build(out, len, svc, device, NULL, 0);
}

int wb_passport_build_at(uint8_t **out, size_t *len, wb_service *svc, const char *device,
                         const char *checkpoint, size_t cp_len)
{
    if (!checkpoint)
        return wb_error_set(WB_E_INVALID, "passport: no checkpoint given");
    return build(out, len, svc, device, checkpoint, cp_len);
}

/* ---- verifying ---- */

typedef struct {
    char name[WB_PROV_NAME_MAX + 1];
    uint8_t kid[32];
    wb_key *key;
} issuer_key;

typedef struct {
    wb_cose_keyset_entry *svc_keys;
    size_t nsvc;
    issuer_key *ik;
    size_t nik;
    wb_key **admin;
    uint8_t (*admin_kids)[32];
    size_t nadmin;
} trust_set;

static int svc_key_fn(void *vctx, wb_cose_verifier *out, const uint8_t *kid, size_t kid_len,
                      int64_t alg)
{
    trust_set *t = vctx;
    for (size_t i = 0; i < t->nsvc; i++)
        if (t->svc_keys[i].kid_len == kid_len &&
            memcmp(t->svc_keys[i].kid, kid, kid_len) == 0 &&
            wb_cose_verifier_for_key(out, t->svc_keys[i].key) == 0 && out->alg == alg)
            return 0;
    return wb_error_set(WB_E_NOTFOUND, "no service key with the receipt's kid");
}

static const cbor_item_t *map_get(const cbor_item_t *map, const char *key)
{
    struct cbor_pair *p = cbor_map_handle(map);
    size_t n = strlen(key);
    for (size_t i = 0; i < cbor_map_size(map); i++)
        if (cbor_isa_string(p[i].key) && cbor_string_is_definite(p[i].key) &&
            cbor_string_length(p[i].key) == n &&
            memcmp(cbor_string_handle(p[i].key), key, n) == 0)
            return p[i].value;
    return NULL;
}

static char *text_of(const cbor_item_t *it)
{
    char *s;
    if (!it || !cbor_isa_string(it) || !cbor_string_is_definite(it))
        return NULL;
    s = malloc(cbor_string_length(it) + 1);
    if (!s)
        return NULL;
    memcpy(s, cbor_string_handle(it), cbor_string_length(it));
    s[cbor_string_length(it)] = '\0';
    return s;
}

/* the issuer keys registered by the issuer entries of the passport */
static void collect_issuer_keys(trust_set *t, const wb_fleet_entry *e)
{
    const wb_p_issuer *p = &e->payload.u.issuer;
    for (size_t i = 0; i < p->nkeys; i++) {
        issuer_key *g = realloc(t->ik, (t->nik + 1) * sizeof(*g));
        if (!g)
            return;
        t->ik = g;
        memset(&g[t->nik], 0, sizeof(*g));
        snprintf(g[t->nik].name, sizeof(g[t->nik].name), "%s", p->name);
        wb_sha256(g[t->nik].kid, p->keys[i], p->key_lens[i]);
        if (wb_fleet_key_from_spki(&g[t->nik].key, p->keys[i], p->key_lens[i]) == 0)
            t->nik++;
    }
}

/* the issuer's signature on an entry: 1 verified, 0 not checkable, <0 failed */
static int check_signer(const trust_set *t, const wb_fleet_entry *e, const char *service,
                        char *why, size_t cap)
{
    const wb_cose_headers *h = &e->msg->hdr;
    const wb_key *key = NULL;
    wb_key *owned = NULL;
    wb_cose_verifier v;
    int rc;
    if (h->nx5chain > 0) {
        rc = wb_key_from_x509_der(&owned, h->x5chain[0].ptr, h->x5chain[0].len);
        if (rc) {
            snprintf(why, cap, "x5chain leaf: %s", wb_error_message());
            return -1;
        }
        key = owned;
    } else if (h->kid.len == 32) {
        if (e->kind == WB_KIND_ISSUER) {
            for (size_t i = 0; i < t->nadmin; i++)
                if (memcmp(t->admin_kids[i], h->kid.ptr, 32) == 0)
                    key = t->admin[i];
            if (!key) {
                snprintf(why, cap, "governance statement: pin the admin key to check it");
                return 0;
            }
        } else if (e->kind == WB_KIND_FINDING && strcmp(e->iss, service) == 0) {
            for (size_t i = 0; i < t->nsvc; i++)
                if (t->svc_keys[i].kid_len == 32 && !memcmp(t->svc_keys[i].kid, h->kid.ptr, 32))
                    key = t->svc_keys[i].key;
        } else {
            for (size_t i = 0; i < t->nik; i++)
                if (strcmp(t->ik[i].name, e->iss) == 0 && !memcmp(t->ik[i].kid, h->kid.ptr, 32))
                    key = t->ik[i].key;
        }
    }
    if (!key) {
        snprintf(why, cap, "no key of issuer '%s' with this kid is registered in the passport",
                 e->iss);
        return -1;
    }
    rc = wb_cose_verifier_for_key(&v, key);
    if (rc == 0 && v.alg != h->alg)
        rc = wb_error_set(WB_E_VERIFY, "alg %lld does not match the key",
                          (long long)h->alg);
    if (rc == 0)
        rc = wb_cose_sign1_verify(e->msg, &v, NULL, 0);
    wb_key_free(owned);
    if (rc) {
        snprintf(why, cap, "issuer signature: %s", wb_error_message());
        return -1;
    }
    return 1;
}

static int load_trust(trust_set *t, const cbor_item_t *root, const wb_passport_trust *trust,
                      json_t *report)
{
    const uint8_t *ks = trust ? trust->service_keys : NULL;
    size_t kslen = trust ? trust->service_keys_len : 0;
    const cbor_item_t *embedded = map_get(root, "service_keys");
    int rc;
    if (!ks) {
        if (!embedded || !cbor_isa_bytestring(embedded) || !cbor_bytestring_is_definite(embedded))
            return wb_error_set(WB_E_INVALID, "passport: no service_keys");
        ks = cbor_bytestring_handle(embedded);
        kslen = cbor_bytestring_length(embedded);
        json_object_set_new(report, "service_keys", json_string("taken from the passport "
                                                                "(pin them with --service-key)"));
    } else {
        json_object_set_new(report, "service_keys", json_string("pinned"));
    }
    rc = wb_cose_keyset_decode(&t->svc_keys, &t->nsvc, ks, kslen);
    if (rc)
        return wb_error_prefix(rc, "passport: service keys");
    for (size_t i = 0; trust && i < trust->nadmin; i++) {
        wb_key *k;
        void *g1 = realloc(t->admin, (t->nadmin + 1) * sizeof(*t->admin));
        void *g2 = g1 ? realloc(t->admin_kids, (t->nadmin + 1) * sizeof(*t->admin_kids)) : NULL;
        if (g1)
            t->admin = g1;
        if (!g1 || !g2)
            return wb_error_set(WB_E_NOMEM, "out of memory");
        t->admin_kids = g2;
        rc = wb_key_read_file(&k, trust->admin_key_files[i]);
        if (rc)
            return wb_error_prefix(rc, "admin key");
        wb_key_default_kid(t->admin_kids[t->nadmin], k);
        t->admin[t->nadmin++] = k;
    }
    return 0;
}

static void trust_free(trust_set *t)
{
    wb_cose_keyset_free(t->svc_keys, t->nsvc);
    for (size_t i = 0; i < t->nik; i++)
        wb_key_free(t->ik[i].key);
    free(t->ik);
    for (size_t i = 0; i < t->nadmin; i++)
        wb_key_free(t->admin[i]);
    free(t->admin);
    free(t->admin_kids);
}

int wb_passport_verify(json_t **report_out, const uint8_t *data, size_t len,
                       const wb_passport_trust *trust)
{
    struct cbor_load_result res;
    cbor_item_t *root = NULL;
    const cbor_item_t *entries = NULL;
    char *format = NULL, *device = NULL, *service = NULL, *note = NULL, *logkey = NULL;
    wb_note_key *vk = NULL;
    wb_checkpoint cp;
    trust_set t;
    json_t *report = json_object(), *list = json_array();
    const wb_witness_policy *policy = trust ? trust->witness_policy : NULL;
    char witness_why[768] = "";
    int rc = 0, failed = 0, manifested = 0, claims_failed = 0;
    size_t n;
    wb_fleet_entry *decoded = NULL;

    memset(&cp, 0, sizeof(cp));
    memset(&t, 0, sizeof(t));
    if (len > WB_PASSPORT_MAX)
        rc = wb_error_set(WB_E_LIMIT, "passport: %zu bytes, over the %u-byte limit", len,
                          WB_PASSPORT_MAX);
    if (rc == 0 && !(root = cbor_load(data, len, &res)))
        rc = wb_error_set(WB_E_INVALID, "passport: not CBOR");
    if (rc == 0 && (res.read != len || !cbor_isa_map(root) || !cbor_map_is_definite(root)))
        rc = wb_error_set(WB_E_INVALID, "passport: not one CBOR map");
    if (rc == 0) {
        format = text_of(map_get(root, "format"));
        device = text_of(map_get(root, "device"));
        service = text_of(map_get(root, "service"));
        note = text_of(map_get(root, "checkpoint"));
        logkey = text_of(map_get(root, "log_key"));
        entries = map_get(root, "entries");
        if (!format || strcmp(format, WB_PASSPORT_FORMAT) != 0)
            rc = wb_error_set(WB_E_INVALID, "passport: format is not " WB_PASSPORT_FORMAT);
        else if (!device || !service || !note || !logkey || !entries ||
                 !cbor_isa_array(entries) || !cbor_array_is_definite(entries))
            rc = wb_error_set(WB_E_INVALID, "passport: a field is missing (device, service, "
                              "checkpoint, log_key, entries)");
    }
    if (rc)
        goto out;
    json_object_set_new(report, "device", json_string(device));
    json_object_set_new(report, "service", json_string(service));
    /* the checkpoint: everything hangs off its root */
    {
        const char *k = logkey, *from = "taken from the passport (pin it with --log-key)";
        if (trust && trust->log_key) {
            k = trust->log_key;
            from = "pinned";
        } else if (policy && policy->log_vkey) {
            k = policy->log_vkey;
            from = "pinned by the witness policy";
        }
        json_object_set_new(report, "log_key", json_string(from));
        rc = wb_note_verifier_parse(&vk, k, strlen(k));
        if (rc == 0)
            rc = wb_checkpoint_open(&cp, note, strlen(note), vk);
        if (rc) {
            rc = wb_error_prefix(WB_E_VERIFY, "passport checkpoint");
            goto out;
        }
        json_object_set_new(report, "tree_size", json_integer((json_int_t)cp.size));
    }
    /* its witnesses: the log showed this very tree to them */
    if (policy) {
        size_t ncos = 0;
        json_t *w = json_object();
        if (wb_witness_policy_check(policy, note, strlen(note), vk, &ncos) != 0) {
            snprintf(witness_why, sizeof(witness_why), "%s%s", wb_error_message(),
                     ncos == 0 ? " (a plain passport? export a witnessed one with "
                                 "'waybill device export --witnessed')"
                               : "");
            json_object_set_new(w, "ok", json_false());
            json_object_set_new(w, "failed", json_string(witness_why));
            failed = 1;
        } else {
            json_object_set_new(w, "ok", json_true());
        }
        json_object_set_new(w, "cosignatures", json_integer((json_int_t)ncos));
        json_object_set_new(w, "quorum", json_integer((json_int_t)policy->quorum));
        json_object_set_new(w, "witnesses", json_integer((json_int_t)policy->nwitness));
        json_object_set_new(report, "witnessed", w);
    }
    rc = load_trust(&t, root, trust, report);
    if (rc)
        goto out;
    n = cbor_array_size(entries);
    decoded = calloc(n ? n : 1, sizeof(*decoded));
    if (!decoded) {
        rc = wb_error_set(WB_E_NOMEM, "out of memory");
        goto out;
    }
    /* pass 1: receipts, under the checkpoint's root; decode the statements */
    for (size_t i = 0; i < n; i++) {
        const cbor_item_t *e = cbor_array_handle(entries)[i];
        const cbor_item_t *st = cbor_isa_map(e) ? map_get(e, "statement") : NULL;
        const cbor_item_t *ix = cbor_isa_map(e) ? map_get(e, "index") : NULL;
        json_t *row = json_object();
        uint8_t *reg = NULL;
        size_t reglen = 0, nrec = 0;
        wb_cose_bytes *recs = NULL;
        wb_receipt_info info;
        char why[512] = "";
        uint64_t index = ix && cbor_isa_uint(ix) ? cbor_get_int(ix) : UINT64_MAX;

        json_object_set_new(row, "index", json_integer((json_int_t)index));
        if (!st || !cbor_isa_bytestring(st) || !cbor_bytestring_is_definite(st))
            snprintf(why, sizeof(why), "no statement");
        else if (wb_scitt_transparent_split(&reg, &reglen, &recs, &nrec,
                                            cbor_bytestring_handle(st),
                                            cbor_bytestring_length(st)) != 0 || nrec == 0)
            snprintf(why, sizeof(why), "not a transparent statement with a receipt: %s",
                     wb_error_message());
        else if (wb_receipt_verify(&info, recs[0].ptr, recs[0].len, reg, reglen, svc_key_fn,
                                   &t) != 0)
            snprintf(why, sizeof(why), "%s", wb_error_message());
        else if (info.tree_size != cp.size || memcmp(info.root, cp.root, 32) != 0)
            snprintf(why, sizeof(why), "the receipt proves it in a tree of %llu entries, not "
                     "under the checkpoint's root", (unsigned long long)info.tree_size);
        else if (info.leaf_index != index)
            snprintf(why, sizeof(why), "the receipt says entry %llu, the passport %llu",
                     (unsigned long long)info.leaf_index, (unsigned long long)index);
        else if (wb_fleet_entry_decode(&decoded[i], index, reg, reglen) != 0)
            snprintf(why, sizeof(why), "payload: %s", wb_error_message());
        if (why[0]) {
            failed = 1;
            json_object_set_new(row, "ok", json_false());
            json_object_set_new(row, "failed", json_string(why));
        } else {
            json_object_set_new(row, "kind", json_string(decoded[i].kind
                                                             ? wb_kind_name(decoded[i].kind)
                                                             : "other"));
            json_object_set_new(row, "issuer", json_string(decoded[i].iss));
            if (decoded[i].kind == WB_KIND_ISSUER)
                collect_issuer_keys(&t, &decoded[i]);
            if (decoded[i].kind == WB_KIND_MANIFEST)
                for (size_t k = 0; k < decoded[i].payload.u.manifest.ndevices; k++)
                    if (!strcmp(decoded[i].payload.u.manifest.devices[k].id, device))
                        manifested = 1;
        }
        json_array_append_new(list, row);
        free(reg);
        wb_scitt_receipts_free(recs, nrec);
    }
    /* pass 2: issuer signatures, with the keys the issuer entries registered */
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_array_get(list, i);
        char why[512] = "";
        int s;
        if (!decoded[i].msg)
            continue;
        s = check_signer(&t, &decoded[i], service, why, sizeof(why));
        if (s < 0) {
            failed = 1;
            json_object_set_new(row, "ok", json_false());
            json_object_set_new(row, "failed", json_string(why));
        } else {
            json_object_set_new(row, "ok", json_true());
            if (s == 0)
                json_object_set_new(row, "signature", json_string(why));
        }
    }
    if (!manifested) {
        failed = 1;
        json_object_set_new(report, "manifest", json_string("no supplier manifest of this "
                                                            "device is in the passport"));
    } else {
        json_object_set_new(report, "manifest", json_string("ok"));
    }
    claims_failed = !manifested; /* a failure besides the witnesses' */
    for (size_t i = 0; !claims_failed && i < json_array_size(list); i++)
        claims_failed = json_is_false(json_object_get(json_array_get(list, i), "ok"));
    json_object_set_new(report, "entries", list);
    list = NULL;
    json_object_set_new(report, "verified", json_boolean(!failed));
    if (witness_why[0])
        rc = wb_error_set(WB_E_VERIFY, "passport of %s: its checkpoint is not witnessed: "
                          "%s%s", device, witness_why,
                          claims_failed ? "; and some claims did not verify (see the report)"
                                        : "");
    else
        rc = failed ? wb_error_set(WB_E_VERIFY, "passport of %s: some claims did not verify "
                                   "(see the report)", device)
                    : 0;
out:
    if (decoded) {
        for (size_t i = 0; root && entries && i < cbor_array_size(entries); i++)
            if (decoded[i].msg)
                wb_fleet_entry_cleanup(&decoded[i]);
        free(decoded);
    }
    json_decref(list);
    if (rc && rc != WB_E_VERIFY)
        json_object_set_new(report, "error", json_string(wb_error_message()));
    *report_out = report;
    wb_checkpoint_cleanup(&cp);
    wb_note_key_free(vk);
    trust_free(&t);
    if (root)
        cbor_decref(&root);
    free(format);
    free(device);
    free(service);
    free(note);
    free(logkey);
    return rc;
}
