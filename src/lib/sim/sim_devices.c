/*
 * sim_devices.c: the device side of attestation for a simulated fleet
 * (waybill/sim.h "the simulated devices", docs/attestation.md "The device
 * side"): one HTTP listener (libmicrohttpd, a thread pool) that plays
 * every blade and rack of DIR/attest/devices.json (sim_devfile.c).
 *
 *   POST /devices/{id}/challenge  the nonce as raw bytes (16..64)
 *                                 -> 200 application/cose evidence
 *   GET  /devices                 -> 200 JSON, every unit and its fault
 *   GET  /devices/{id}            -> 200 JSON, that unit
 *   POST /devices/{id}/fault      a mode name (text/plain) -> 204
 *
 * A unit answers as a DICE-style root of trust: on its first challenge it
 * makes a fresh alias key and an alias certificate issued by its identity
 * key (subject CN "<serial> alias", issuer its identity certificate's
 * subject), and signs evidence (waybill/attest.h) with x5chain [alias,
 * identity, supplier CA]: payload device = its id, its measurements and
 * slots from devices.json, time = now.
 *
 * Fault modes make one unit fail one way on purpose (the finding each
 * leads to is in docs/attestation.md): swap, clone and unknown change the
 * identity its first slot reports; rogue-fw its first measurement; stale
 * replays its last answer; bad-sig flips the signature's last byte;
 * impostor signs under an identity issued by a CA the ledger never
 * registered, claiming the unit's id; offline closes the connection
 * without an answer. What a fault borrows (a spare, another unit's part, a
 * fresh identity) is chosen when the fault is set and kept.
 *
 * Locking: units are sorted by id, read-only after loading, except for
 * what each unit's mutex guards (its fault, its alias key made once, its
 * last answer). Keys are never freed before wb_sim_devices_stop, so a
 * thread signs with a key after dropping the lock (wb_key_sign makes its
 * own OpenSSL context per call). The rogue CA of impostors has its own
 * mutex; no thread holds two locks.
 */
#include "sim_int.h"

#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "waybill/attest.h"
#include "waybill/error.h"
#include "waybill/identity.h"
#include "waybill/util.h"

#define STALE_AGE_S 3600      /* how old a stale unit's first answer is */
#define ROGUE_CA_NAME "Unregistered Foundry Device CA"
#define ROGUE_ORG "Unregistered Foundry"

/* ---- the units ---- */

typedef struct {
    wb_device_id id;
    wb_device_class cls;
    wb_device_id blade;        /* parts: the blade it sits in ("" for spares) */
} part;

/* a signing identity: alias key and chain [alias, identity, CA] */
typedef struct {
    wb_key *alias;
    uint8_t *alias_der, *id_der;
    size_t alias_len, id_len;
} signer;

typedef struct {
    wb_device_id id;
    wb_device_class cls;       /* WB_CLASS_BLADE or WB_CLASS_RACK */
    char serial[WB_PROV_NAME_MAX + 1];
    wb_key *key;               /* the identity private key */
    uint8_t *id_der, *ca_der;
    size_t id_len, ca_len;
    wb_slot_entry *slots;
    size_t nslots;
    wb_measurement *meas;
    size_t nmeas;
    pthread_mutex_t mu;
    /* guarded by mu */
    wb_sim_fault fault;
    wb_device_id borrowed;     /* swap, clone, unknown: the first slot's id */
    signer own;                /* made on the first challenge */
    signer impostor;           /* made when impostor is first set */
    uint8_t *last;             /* the last answer (stale replays it) */
    size_t last_len;
} unit;

struct wb_sim_devices {
    struct MHD_Daemon *d;
    unsigned short port;
    wb_alg alias_alg;
    char site[WB_PROV_NAME_MAX + 1];
    unit *u;
    size_t n;
    int locks;                 /* the units' mutexes are initialised */
    part *parts, *spares;
    size_t nparts, nspares;
    pthread_mutex_t mu;        /* the rogue CA */
    wb_key *rogue_key;
    uint8_t *rogue_der;
    size_t rogue_len;
};

static const char *const fault_names[WB_SIM_FAULT_COUNT] = {
    [WB_SIM_FAULT_NONE] = "none",         [WB_SIM_FAULT_SWAP] = "swap",
    [WB_SIM_FAULT_CLONE] = "clone",       [WB_SIM_FAULT_UNKNOWN] = "unknown",
    [WB_SIM_FAULT_ROGUE_FW] = "rogue-fw", [WB_SIM_FAULT_STALE] = "stale",
    [WB_SIM_FAULT_BAD_SIG] = "bad-sig",   [WB_SIM_FAULT_IMPOSTOR] = "impostor",
    [WB_SIM_FAULT_OFFLINE] = "offline",
};

const char *wb_sim_fault_name(wb_sim_fault f)
{
    return (unsigned)f < WB_SIM_FAULT_COUNT ? fault_names[f] : "?";
}

int wb_sim_fault_parse(wb_sim_fault *f, const char *name)
{
    for (int k = 0; name && k < WB_SIM_FAULT_COUNT; k++)
        if (strcmp(name, fault_names[k]) == 0) {
            *f = (wb_sim_fault)k;
            return 0;
        }
    return wb_error_set(WB_E_INVALID, "unknown fault mode '%.40s' (none, swap, clone, "
                        "unknown, rogue-fw, stale, bad-sig, impostor, offline)",
                        name ? name : "");
}

void wb_sim_devices_options_init(wb_sim_devices_options *o)
{
    memset(o, 0, sizeof(*o));
    o->listen = "127.0.0.1:0";
    o->alias_alg = WB_ALG_ES384;
}

static void signer_cleanup(signer *s)
{
    wb_key_free(s->alias);
    free(s->alias_der);
    free(s->id_der);
    memset(s, 0, sizeof(*s));
}

static int cmp_unit(const void *a, const void *b)
{
    return strcmp(((const unit *)a)->id, ((const unit *)b)->id);
}

/* the unit with id id[0..n), or NULL */
static unit *find(const wb_sim_devices *s, const char *id, size_t n)
{
    size_t lo = 0, hi = s->n;
    if (n != WB_DEVICE_ID_HEX)
        return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strncmp(s->u[mid].id, id, n);
        if (c == 0)
            return &s->u[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- loading devices.json ---- */

static int is_id(const char *v)
{
    size_t i;
    for (i = 0; v[i]; i++)
        if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
            return 0;
    return i == WB_DEVICE_ID_HEX;
}

/* a string member of o of 1..max bytes into out (max + 1 bytes) */
static int get_text(char *out, size_t max, const json_t *o, const char *k, const char *where)
{
    const char *v = json_string_value(json_object_get(o, k));
    size_t n = v ? strlen(v) : 0;
    if (!v || n == 0 || n > max)
        return wb_error_set(WB_E_INVALID, "%s: \"%s\" is not a string of 1 to %zu bytes",
                            where, k, max);
    memcpy(out, v, n + 1);
    return 0;
}

static int get_id(wb_device_id out, const json_t *o, const char *k, const char *where)
{
    int rc = get_text(out, WB_DEVICE_ID_HEX, o, k, where);
    if (rc == 0 && !is_id(out))
        rc = wb_error_set(WB_E_INVALID, "%s: \"%s\" is not a device id (%d lowercase hex "
                          "digits)", where, k, WB_DEVICE_ID_HEX);
    return rc;
}

static int get_class(wb_device_class *out, const json_t *o, const char *where)
{
    char name[WB_PROV_NAME_MAX + 1];
    int rc = get_text(name, WB_PROV_NAME_MAX, o, "class", where);
    if (rc == 0 && (*out = wb_class_from_name(name)) == WB_CLASS_NONE)
        rc = wb_error_set(WB_E_INVALID, "%s: unknown class '%s'", where, name);
    return rc;
}

/* a base64 DER certificate, at most WB_IDENTITY_CERT_MAX bytes */
static int get_cert(uint8_t **der, size_t *len, const json_t *v, const char *where)
{
    const char *b = json_string_value(v);
    size_t n = b ? strlen(b) : 0;
    *der = NULL;
    if (!b || n == 0 || n > wb_base64_encoded_len(WB_IDENTITY_CERT_MAX))
        return wb_error_set(WB_E_INVALID, "%s: not a base64 certificate of at most %d bytes",
                            where, WB_IDENTITY_CERT_MAX);
    if (!(*der = malloc(n)))
        return wb_error_set(WB_E_NOMEM, "out of memory");
    if (wb_base64_decode(*der, n, len, b, n) != 0) {
        free(*der);
        *der = NULL;
        return wb_error_prefix(WB_E_INVALID, "%s", where);
    }
    return 0;
}

static int load_parts(part **out, size_t *n, const json_t *list, const char *name)
{
    char where[96];
    const json_t *e;
    size_t i;
    int rc;
    if (!json_is_array(list))
        return wb_error_set(WB_E_INVALID, "devices.json: \"%s\" is not an array", name);
    *out = calloc(json_array_size(list) + 1, sizeof(**out));
    if (!*out)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    json_array_foreach(list, i, e) {
        part *p = &(*out)[i];
        snprintf(where, sizeof(where), "devices.json: %s[%zu]", name, i);
        if ((rc = get_id(p->id, e, "id", where)) != 0 ||
            (rc = get_class(&p->cls, e, where)) != 0)
            return rc;
        if (json_object_get(e, "blade") && (rc = get_id(p->blade, e, "blade", where)) != 0)
            return rc;
        *n = i + 1;
    }
    return 0;
}

static int load_unit(unit *u, const json_t *e, size_t i)
{
    char where[160], *pem;
    const json_t *chain = json_object_get(e, "chain"), *slots = json_object_get(e, "slots"),
                 *meas = json_object_get(e, "measurements"), *v;
    const char *key = json_string_value(json_object_get(e, "key"));
    wb_device_id from_cert, from_key;
    uint8_t *spki = NULL, h[WB_SHA256_LEN];
    size_t k, spki_len;
    int rc;

    snprintf(where, sizeof(where), "devices.json: units[%zu]", i);
    if ((rc = get_id(u->id, e, "id", where)) != 0)
        return rc;
    snprintf(where, sizeof(where), "devices.json: units[%zu] (%.16s...)", i, u->id);
    if ((rc = get_class(&u->cls, e, where)) != 0 ||
        (rc = get_text(u->serial, WB_PROV_NAME_MAX, e, "serial", where)) != 0)
        return rc;
    if (u->cls != WB_CLASS_BLADE && u->cls != WB_CLASS_RACK)
        return wb_error_set(WB_E_INVALID, "%s: class %s; the attesting units are blades "
                            "and racks", where, wb_class_name(u->cls));
    if (!key || strlen(key) > WB_PEM_MAX)
        return wb_error_set(WB_E_INVALID, "%s: \"key\" is not a PEM private key", where);
    /* a private copy to wipe: the PEM text is the identity key */
    if (!(pem = strdup(key)))
        return wb_error_set(WB_E_NOMEM, "out of memory");
    rc = wb_key_from_pem(&u->key, pem, strlen(pem));
    memset(pem, 0, strlen(pem));
    free(pem);
    if (rc)
        return wb_error_prefix(rc, "%s: key", where);
    if (!wb_key_is_private(u->key))
        return wb_error_set(WB_E_INVALID, "%s: \"key\" is a public key", where);
    if (!json_is_array(chain) || json_array_size(chain) != 2)
        return wb_error_set(WB_E_INVALID, "%s: \"chain\" is not [identity certificate, "
                            "CA certificate]", where);
    if ((rc = get_cert(&u->id_der, &u->id_len, json_array_get(chain, 0), where)) != 0 ||
        (rc = get_cert(&u->ca_der, &u->ca_len, json_array_get(chain, 1), where)) != 0)
        return rc;
    /* the certificate is the unit's, and the key is the certificate's */
    if ((rc = wb_identity_device_id(from_cert, u->id_der, u->id_len)) != 0)
        return wb_error_prefix(rc, "%s: identity certificate", where);
    rc = wb_key_spki_der(u->key, &spki, &spki_len);
    if (rc == 0)
        rc = wb_sha256(h, spki, spki_len);
    free(spki);
    if (rc)
        return wb_error_prefix(rc, "%s: key", where);
    wb_hex_encode(from_key, h, sizeof(h));
    if (strcmp(from_cert, u->id) != 0 || strcmp(from_key, u->id) != 0)
        return wb_error_set(WB_E_INVALID, "%s: the identity certificate (%.16s...) and the "
                            "key (%.16s...) must both be the unit's id", where, from_cert,
                            from_key);

    if (!json_is_array(slots) || json_array_size(slots) > WB_PROV_LIST_MAX ||
        !json_is_array(meas) || json_array_size(meas) > WB_PROV_LIST_MAX)
        return wb_error_set(WB_E_INVALID, "%s: \"slots\" and \"measurements\" must be arrays "
                            "of at most %d items", where, WB_PROV_LIST_MAX);
    u->slots = calloc(json_array_size(slots) + 1, sizeof(*u->slots));
    u->meas = calloc(json_array_size(meas) + 1, sizeof(*u->meas));
    if (!u->slots || !u->meas)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    json_array_foreach(slots, k, v) {
        char w[200];
        snprintf(w, sizeof(w), "%s: slots[%zu]", where, k);
        if ((rc = get_text(u->slots[k].slot, WB_PROV_NAME_MAX, v, "slot", w)) != 0 ||
            (rc = get_id(u->slots[k].id, v, "id", w)) != 0)
            return rc;
        u->nslots = k + 1;
    }
    json_array_foreach(meas, k, v) {
        char w[200];
        snprintf(w, sizeof(w), "%s: measurements[%zu]", where, k);
        if ((rc = get_text(u->meas[k].component, WB_PROV_NAME_MAX, v, "component", w)) != 0 ||
            (rc = get_text(u->meas[k].digest, WB_DIGEST384_HEX, v, "digest", w)) != 0)
            return rc;
        if (strlen(u->meas[k].digest) != WB_DIGEST384_HEX)
            return wb_error_set(WB_E_INVALID, "%s: digest is not %d hex digits (SHA-384)", w,
                                WB_DIGEST384_HEX);
        u->nmeas = k + 1;
    }
    return 0;
}

static int load(wb_sim_devices *s, const char *dir)
{
    char path[4400];
    uint8_t *data = NULL;
    size_t len = 0;
    json_t *root;
    json_error_t err;
    const json_t *units, *e;
    size_t i;
    int rc;

    snprintf(path, sizeof(path), "%s/attest/devices.json", dir);
    rc = wb_file_read(path, WB_SIM_DEVICES_FILE_MAX, &data, &len);
    if (rc)
        return wb_error_prefix(rc == WB_E_NOTFOUND ? WB_E_IO : rc, "%s (written by `waybill "
                               "sim --dir %s`)", path, dir);
    root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &err);
    memset(data, 0, len); /* private keys */
    free(data);
    if (!root)
        return wb_error_set(WB_E_INVALID, "%s: line %d: %s", path, err.line, err.text);
    units = json_object_get(root, "units");
    if (!json_is_array(units) || json_array_size(units) == 0) {
        json_decref(root);
        return wb_error_set(WB_E_INVALID, "%s: no \"units\"", path);
    }
    rc = get_text(s->site, WB_PROV_NAME_MAX, root, "site", "devices.json");
    if (rc == 0 && !(s->u = calloc(json_array_size(units), sizeof(*s->u))))
        rc = wb_error_set(WB_E_NOMEM, "out of memory");
    json_array_foreach(units, i, e) {
        if (rc)
            break;
        s->n = i + 1;
        rc = load_unit(&s->u[i], e, i);
    }
    if (rc == 0)
        rc = load_parts(&s->spares, &s->nspares, json_object_get(root, "spares"), "spares");
    if (rc == 0)
        rc = load_parts(&s->parts, &s->nparts, json_object_get(root, "parts"), "parts");
    json_decref(root);
    if (rc)
        return rc;
    qsort(s->u, s->n, sizeof(*s->u), cmp_unit);
    for (i = 1; i < s->n; i++)
        if (strcmp(s->u[i - 1].id, s->u[i].id) == 0)
            return wb_error_set(WB_E_INVALID, "%s: unit %s is listed twice", path, s->u[i].id);
    /* after qsort: a mutex must not move */
    for (i = 0; i < s->n; i++)
        pthread_mutex_init(&s->u[i].mu, NULL);
    s->locks = 1;
    return 0;
}

/* ---- identities made at run time ---- */

static int random_serial(uint64_t *serial)
{
    int rc = wb_random_bytes(serial, sizeof(*serial));
    *serial = (*serial >> 1) | 1; /* positive, non-zero */
    return rc;
}

/* an alias key and certificate issued by key (certificate id_der) */
static int make_alias(signer *out, wb_alg alg, const wb_key *key, const uint8_t *id_der,
                      size_t id_len, const char *serial_text)
{
    char cn[WB_PROV_NAME_MAX + 16];
    uint64_t serial;
    int rc = wb_key_generate(&out->alias, alg);
    snprintf(cn, sizeof(cn), "%s alias", serial_text);
    if (rc == 0)
        rc = random_serial(&serial);
    if (rc == 0)
        rc = wb_x509_issue(&out->alias_der, &out->alias_len, out->alias, cn, NULL, key, id_der,
                           id_len, 0, serial, 3650);
    if (rc)
        signer_cleanup(out);
    return rc;
}

/* the rogue CA (made once): no ledger ever registered it */
static int rogue_ca(wb_sim_devices *s, const wb_key **key, const uint8_t **der, size_t *len)
{
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    if (!s->rogue_key) {
        wb_key *k = NULL;
        uint64_t serial;
        rc = wb_key_generate(&k, WB_ALG_ES384);
        if (rc == 0)
            rc = random_serial(&serial);
        if (rc == 0)
            rc = wb_x509_issue(&s->rogue_der, &s->rogue_len, k, ROGUE_CA_NAME, ROGUE_ORG, k,
                               NULL, 0, 1, serial, 3650);
        if (rc == 0)
            s->rogue_key = k;
        else
            wb_key_free(k);
    }
    *key = s->rogue_key;
    *der = s->rogue_der;
    *len = s->rogue_len;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* an impostor of u: an identity under the rogue CA, an alias under it */
static int make_impostor(wb_sim_devices *s, unit *u, signer *out)
{
    const wb_key *ca_key;
    const uint8_t *ca_der;
    size_t ca_len;
    wb_key *id = NULL;
    uint64_t serial;
    int rc = rogue_ca(s, &ca_key, &ca_der, &ca_len);
    memset(out, 0, sizeof(*out));
    if (rc == 0)
        rc = wb_key_generate(&id, WB_ALG_ES384);
    if (rc == 0)
        rc = random_serial(&serial);
    if (rc == 0)
        rc = wb_x509_issue(&out->id_der, &out->id_len, id, u->serial, ROGUE_ORG, ca_key,
                           ca_der, ca_len, 0, serial, 3650);
    if (rc == 0) {
        signer a;
        memset(&a, 0, sizeof(a));
        rc = make_alias(&a, s->alias_alg, id, out->id_der, out->id_len, u->serial);
        out->alias = a.alias;
        out->alias_der = a.alias_der;
        out->alias_len = a.alias_len;
    }
    wb_key_free(id);
    if (rc)
        signer_cleanup(out);
    return rc;
}

/* ---- faults ---- */

static wb_device_class class_of(const wb_sim_devices *s, const char *id)
{
    for (size_t i = 0; i < s->nparts; i++)
        if (strcmp(s->parts[i].id, id) == 0)
            return s->parts[i].cls;
    for (size_t i = 0; i < s->nspares; i++)
        if (strcmp(s->spares[i].id, id) == 0)
            return s->spares[i].cls;
    if (find(s, id, strlen(id)))
        return find(s, id, strlen(id))->cls;
    return WB_CLASS_NONE;
}

/* what a swap puts in u's first slot: a spare of its class, or any spare */
static int pick_swap(const wb_sim_devices *s, const unit *u, char *out)
{
    wb_device_class c = class_of(s, u->slots[0].id);
    for (size_t i = 0; i < s->nspares; i++)
        if (s->spares[i].cls == c) {
            memcpy(out, s->spares[i].id, WB_DEVICE_ID_HEX + 1);
            return 0;
        }
    if (s->nspares == 0)
        return wb_error_set(WB_E_INVALID, "swap: the fleet has no spare");
    memcpy(out, s->spares[0].id, WB_DEVICE_ID_HEX + 1);
    return 0;
}

/* what a clone puts in u's first slot: the same-class part of another unit */
static int pick_clone(const wb_sim_devices *s, const unit *u, char *out)
{
    if (u->cls == WB_CLASS_BLADE) {
        wb_device_class c = class_of(s, u->slots[0].id);
        for (size_t i = 0; i < s->nparts; i++)
            if (s->parts[i].cls == c && strcmp(s->parts[i].blade, u->id) != 0) {
                memcpy(out, s->parts[i].id, WB_DEVICE_ID_HEX + 1);
                return 0;
            }
        return wb_error_set(WB_E_INVALID, "clone: no other blade has a %s to borrow",
                            wb_class_name(c));
    }
    /* a rack: the first blade of another rack */
    for (size_t i = 0; i < s->n; i++)
        if (&s->u[i] != u && s->u[i].cls == WB_CLASS_RACK && s->u[i].nslots > 0) {
            memcpy(out, s->u[i].slots[0].id, WB_DEVICE_ID_HEX + 1);
            return 0;
        }
    return wb_error_set(WB_E_INVALID, "clone: no other rack has a blade to borrow");
}

/* an identity nobody manifested: the SHA-256 of a fresh key's SPKI */
static int pick_unknown(char *out)
{
    wb_key *k = NULL;
    uint8_t *spki = NULL, h[WB_SHA256_LEN];
    size_t len;
    int rc = wb_key_generate(&k, WB_ALG_ES384);
    if (rc == 0)
        rc = wb_key_spki_der(k, &spki, &len);
    if (rc == 0)
        rc = wb_sha256(h, spki, len);
    free(spki);
    wb_key_free(k);
    if (rc == 0)
        wb_hex_encode(out, h, sizeof(h));
    return rc;
}

int wb_sim_devices_set_fault(wb_sim_devices *s, const char *id, wb_sim_fault f)
{
    unit *u = id ? find(s, id, strlen(id)) : NULL;
    wb_device_id borrowed = "";
    signer imp;
    int rc = 0, need_impostor;

    memset(&imp, 0, sizeof(imp));
    if (!u)
        return wb_error_set(WB_E_NOTFOUND, "no unit %.64s in this fleet", id ? id : "");
    if ((unsigned)f >= WB_SIM_FAULT_COUNT)
        return wb_error_set(WB_E_INVALID, "fault mode %d is unknown", (int)f);
    if ((f == WB_SIM_FAULT_SWAP || f == WB_SIM_FAULT_CLONE || f == WB_SIM_FAULT_UNKNOWN) &&
        u->nslots == 0)
        return wb_error_set(WB_E_INVALID, "%s: %s %s has no slot", wb_sim_fault_name(f),
                            wb_class_name(u->cls), u->serial);
    if (f == WB_SIM_FAULT_ROGUE_FW && u->nmeas == 0)
        return wb_error_set(WB_E_INVALID, "rogue-fw: %s %s measures no firmware (racks "
                            "report their blades only)", wb_class_name(u->cls), u->serial);
    if (f == WB_SIM_FAULT_SWAP)
        rc = pick_swap(s, u, borrowed);
    else if (f == WB_SIM_FAULT_CLONE)
        rc = pick_clone(s, u, borrowed);
    else if (f == WB_SIM_FAULT_UNKNOWN)
        rc = pick_unknown(borrowed);
    if (rc)
        return wb_error_prefix(rc, "%s %s", wb_class_name(u->cls), u->serial);
    /* an impostor is made once, outside the lock (key generation) */
    pthread_mutex_lock(&u->mu);
    need_impostor = f == WB_SIM_FAULT_IMPOSTOR && !u->impostor.alias;
    pthread_mutex_unlock(&u->mu);
    if (need_impostor && (rc = make_impostor(s, u, &imp)) != 0)
        return wb_error_prefix(rc, "impostor of %s", u->serial);
    pthread_mutex_lock(&u->mu);
    if (imp.alias && !u->impostor.alias) {
        u->impostor = imp;
        memset(&imp, 0, sizeof(imp));
    }
    u->fault = f;
    memcpy(u->borrowed, borrowed, sizeof(borrowed));
    pthread_mutex_unlock(&u->mu);
    signer_cleanup(&imp); /* another thread made one first */
    return 0;
}

/* ---- answering a challenge ---- */

/*
 * answer: u's evidence for nonce (malloc'd), or *offline. The alias key is
 * made on the first challenge, under the unit's lock: a unit answers one
 * first challenge at a time, as a real device boots once.
 */
static int answer(wb_sim_devices *s, unit *u, const uint8_t *nonce, size_t nonce_len,
                  uint8_t **out, size_t *len, int *offline)
{
    wb_sim_fault f = WB_SIM_FAULT_NONE;
    wb_device_id borrowed;
    signer own, imp;
    uint8_t *replay = NULL;
    size_t replay_len = 0;
    wb_evidence ev;
    wb_measurement *m = NULL;
    wb_slot_entry *sl = NULL;
    const uint8_t *chain[3];
    size_t chain_len[3];
    const signer *by;
    int rc = 0;

    *out = NULL;
    *len = 0;
    *offline = 0;
    pthread_mutex_lock(&u->mu);
    if (!u->own.alias)
        rc = make_alias(&u->own, s->alias_alg, u->key, u->id_der, u->id_len, u->serial);
    f = u->fault;
    memcpy(borrowed, u->borrowed, sizeof(borrowed));
    own = u->own;              /* the keys stay until wb_sim_devices_stop */
    imp = u->impostor;
    if (f == WB_SIM_FAULT_STALE && u->last) {
        if ((replay = malloc(u->last_len)) != NULL) {
            memcpy(replay, u->last, u->last_len);
            replay_len = u->last_len;
        } else {
            rc = wb_error_set(WB_E_NOMEM, "out of memory");
        }
    }
    pthread_mutex_unlock(&u->mu);
    if (rc)
        return wb_error_prefix(rc, "unit %s: alias key", u->serial);
    if (f == WB_SIM_FAULT_OFFLINE) {
        *offline = 1;
        return 0;
    }
    if (replay) {
        *out = replay;
        *len = replay_len;
        return 0;
    }

    memset(&ev, 0, sizeof(ev));
    ev.time = (int64_t)time(NULL);
    if (f == WB_SIM_FAULT_STALE) {
        /* nothing to replay yet: an answer to a challenge of an hour ago */
        ev.nonce_len = 32;
        rc = wb_random_bytes(ev.nonce, ev.nonce_len);
        ev.time -= STALE_AGE_S;
    } else {
        memcpy(ev.nonce, nonce, nonce_len);
        ev.nonce_len = nonce_len;
    }
    memcpy(ev.device, u->id, sizeof(ev.device));
    m = calloc(u->nmeas + 1, sizeof(*m));
    sl = calloc(u->nslots + 1, sizeof(*sl));
    if (!m || !sl) {
        free(m);
        free(sl);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    memcpy(m, u->meas, u->nmeas * sizeof(*m));
    memcpy(sl, u->slots, u->nslots * sizeof(*sl));
    ev.measurements = m;
    ev.nmeasurements = u->nmeas;
    ev.slots = sl;
    ev.nslots = u->nslots;
    if ((f == WB_SIM_FAULT_SWAP || f == WB_SIM_FAULT_CLONE || f == WB_SIM_FAULT_UNKNOWN) &&
        u->nslots > 0)
        memcpy(sl[0].id, borrowed, sizeof(borrowed));
    if (f == WB_SIM_FAULT_ROGUE_FW && u->nmeas > 0) {
        /* an image nobody released: a digest of this unit's own making */
        char image[128];
        uint8_t h[WB_SHA384_LEN];
        snprintf(image, sizeof(image), "waybill sim devices: rogue firmware|%s", u->id);
        if (rc == 0)
            rc = wb_sha384(h, image, strlen(image));
        wb_hex_encode(m[0].digest, h, sizeof(h));
    }
    by = f == WB_SIM_FAULT_IMPOSTOR && imp.alias ? &imp : &own;
    chain[0] = by->alias_der;
    chain_len[0] = by->alias_len;
    chain[1] = by == &imp ? imp.id_der : u->id_der;
    chain_len[1] = by == &imp ? imp.id_len : u->id_len;
    chain[2] = by == &imp ? s->rogue_der : u->ca_der;
    chain_len[2] = by == &imp ? s->rogue_len : u->ca_len;
    if (rc == 0)
        rc = wb_evidence_sign(out, len, &ev, by->alias, chain, chain_len, 3);
    free(m);
    free(sl);
    if (rc)
        return wb_error_prefix(rc, "unit %s", u->serial);
    /* kept for a later stale answer */
    {
        uint8_t *copy = malloc(*len), *old = NULL;
        if (copy) {
            memcpy(copy, *out, *len);
            pthread_mutex_lock(&u->mu);
            old = u->last;
            u->last = copy;
            u->last_len = *len;
            pthread_mutex_unlock(&u->mu);
            free(old);
        }
    }
    if (f == WB_SIM_FAULT_BAD_SIG)
        (*out)[*len - 1] ^= 0x01; /* the signature is the last item: its last byte */
    return 0;
}

/* ---- JSON views ---- */

static json_t *b64_json(const uint8_t *p, size_t n)
{
    char *t = malloc(wb_base64_encoded_len(n) + 1);
    json_t *v;
    if (!t)
        return NULL;
    wb_base64_encode(t, p, n);
    v = json_string(t);
    free(t);
    return v;
}

static json_t *unit_json(unit *u, int full)
{
    json_t *o = json_object();
    wb_sim_fault f = WB_SIM_FAULT_NONE;
    uint8_t *alias = NULL;
    size_t alias_len = 0;
    if (!o)
        return NULL;
    pthread_mutex_lock(&u->mu);
    f = u->fault;
    if (full && u->own.alias_der && (alias = malloc(u->own.alias_len)) != NULL) {
        memcpy(alias, u->own.alias_der, u->own.alias_len);
        alias_len = u->own.alias_len;
    }
    pthread_mutex_unlock(&u->mu);
    json_object_set_new(o, "id", json_string(u->id));
    json_object_set_new(o, "class", json_string(wb_class_name(u->cls)));
    json_object_set_new(o, "serial", json_string(u->serial));
    json_object_set_new(o, "fault", json_string(wb_sim_fault_name(f)));
    if (full) {
        json_t *chain = json_array(), *slots = json_array(), *meas = json_array();
        json_array_append_new(chain, b64_json(u->id_der, u->id_len));
        json_array_append_new(chain, b64_json(u->ca_der, u->ca_len));
        for (size_t i = 0; slots && i < u->nslots; i++) {
            json_t *e = json_object();
            json_object_set_new(e, "slot", json_string(u->slots[i].slot));
            json_object_set_new(e, "id", json_string(u->slots[i].id));
            json_array_append_new(slots, e);
        }
        for (size_t i = 0; meas && i < u->nmeas; i++) {
            json_t *e = json_object();
            json_object_set_new(e, "component", json_string(u->meas[i].component));
            json_object_set_new(e, "digest", json_string(u->meas[i].digest));
            json_array_append_new(meas, e);
        }
        json_object_set_new(o, "chain", chain);
        json_object_set_new(o, "alias", alias ? b64_json(alias, alias_len) : json_null());
        json_object_set_new(o, "slots", slots);
        json_object_set_new(o, "measurements", meas);
    }
    free(alias);
    return o;
}

/* ---- HTTP ---- */

typedef struct {
    wb_buf body;
    int too_big;
} req;

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *ctype,
                               void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    enum MHD_Result ret;
    if (!r) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    if (ctype)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* a one-line text answer */
static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
    char msg[WB_ERROR_MAX + 64];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof(msg) - 2)
        n = (int)sizeof(msg) - 2;
    msg[n++] = '\n';
    return respond(c, status, "text/plain; charset=utf-8", msg, (size_t)n,
                   MHD_RESPMEM_MUST_COPY);
}

static enum MHD_Result send_json(struct MHD_Connection *c, json_t *o)
{
    char *t = o ? json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!t)
        return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    return respond(c, MHD_HTTP_OK, "application/json", t, strlen(t), MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result list_units(wb_sim_devices *s, struct MHD_Connection *c)
{
    json_t *o = json_object(), *a = json_array();
    if (!o || !a) {
        json_decref(o);
        json_decref(a);
        return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    json_object_set_new(o, "site", json_string(s->site));
    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(a, unit_json(&s->u[i], 0));
    json_object_set_new(o, "devices", a);
    return send_json(c, o);
}

/* the content type, without parameters, is want (or absent) */
static int ctype_is(struct MHD_Connection *c, const char *want)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_CONTENT_TYPE);
    size_t n = strlen(want);
    return !v || (strncasecmp(v, want, n) == 0 && (v[n] == '\0' || v[n] == ';'));
}

static enum MHD_Result challenge(wb_sim_devices *s, struct MHD_Connection *c, unit *u,
                                 const req *r)
{
    uint8_t *ev = NULL;
    size_t len = 0;
    int offline = 0;
    if (!ctype_is(c, "application/octet-stream"))
        return text(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "a challenge is the nonce as "
                    "application/octet-stream");
    if (r->body.len < WB_NONCE_MIN || r->body.len > WB_NONCE_MAX)
        return text(c, MHD_HTTP_BAD_REQUEST, "a nonce of %zu bytes; it must be %d to %d",
                    r->body.len, WB_NONCE_MIN, WB_NONCE_MAX);
    if (answer(s, u, r->body.data, r->body.len, &ev, &len, &offline) != 0)
        return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", wb_error_message());
    if (offline)
        return MHD_NO; /* libmicrohttpd closes the connection: no answer at all */
    return respond(c, MHD_HTTP_OK, "application/cose", ev, len, MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result set_fault(wb_sim_devices *s, struct MHD_Connection *c, unit *u,
                                 const req *r)
{
    char mode[64];
    size_t n = r->body.len;
    wb_sim_fault f = WB_SIM_FAULT_NONE;
    if (!ctype_is(c, "text/plain"))
        return text(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "a fault is a mode name as "
                    "text/plain");
    /* the name, without surrounding white space */
    while (n > 0 && (r->body.data[n - 1] == '\n' || r->body.data[n - 1] == '\r' ||
                     r->body.data[n - 1] == ' '))
        n--;
    if (n == 0 || n >= sizeof(mode) || memchr(r->body.data, '\0', n))
        return text(c, MHD_HTTP_BAD_REQUEST, "the body must be a fault mode name (none, "
                    "swap, clone, unknown, rogue-fw, stale, bad-sig, impostor, offline)");
    memcpy(mode, r->body.data, n);
    mode[n] = '\0';
    if (wb_sim_fault_parse(&f, mode) != 0 || wb_sim_devices_set_fault(s, u->id, f) != 0)
        return text(c, MHD_HTTP_BAD_REQUEST, "%s", wb_error_message());
    return respond(c, MHD_HTTP_NO_CONTENT, NULL, (void *)"", 0, MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result route(wb_sim_devices *s, struct MHD_Connection *c, const char *url,
                             const char *method, const req *r)
{
    static const char prefix[] = "/devices";
    const char *id, *rest;
    int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    size_t idlen;
    unit *u;
    if (strncmp(url, prefix, sizeof(prefix) - 1) != 0)
        return text(c, MHD_HTTP_NOT_FOUND, "no such resource: the device server answers "
                    "/devices, /devices/{id}, /devices/{id}/challenge and "
                    "/devices/{id}/fault");
    url += sizeof(prefix) - 1;
    if (url[0] == '\0' || strcmp(url, "/") == 0) {
        if (!get)
            return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET /devices");
        return list_units(s, c);
    }
    if (url[0] != '/')
        return text(c, MHD_HTTP_NOT_FOUND, "no such resource");
    id = url + 1;
    rest = strchr(id, '/');
    idlen = rest ? (size_t)(rest - id) : strlen(id);
    u = find(s, id, idlen);
    if (!u)
        return text(c, MHD_HTTP_NOT_FOUND, "no device %.*s here",
                    (int)(idlen < WB_DEVICE_ID_HEX ? idlen : WB_DEVICE_ID_HEX), id);
    if (r->too_big)
        return text(c, MHD_HTTP_CONTENT_TOO_LARGE, "the body is over %d bytes",
                    WB_SIM_DEVICES_BODY_MAX);
    if (!rest) {
        if (!get)
            return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET /devices/{id}");
        return send_json(c, unit_json(u, 1));
    }
    if (strcmp(rest, "/challenge") == 0) {
        if (!post)
            return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST /devices/{id}/challenge");
        return challenge(s, c, u, r);
    }
    if (strcmp(rest, "/fault") == 0) {
        if (!post)
            return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST /devices/{id}/fault");
        return set_fault(s, c, u, r);
    }
    return text(c, MHD_HTTP_NOT_FOUND, "no such resource: /devices/{id}/challenge or "
                "/devices/{id}/fault");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    req *r = *con_cls;
    (void)version;
    if (!r) {
        const char *clen = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                       MHD_HTTP_HEADER_CONTENT_LENGTH);
        uint64_t n;
        if (!(r = calloc(1, sizeof(*r))))
            return MHD_NO;
        wb_buf_init(&r->body, WB_SIM_DEVICES_BODY_MAX);
        *con_cls = r;
        /* refuse a large body before reading it */
        if (clen && (wb_parse_u64(&n, clen, strlen(clen)) != 0 || n > WB_SIM_DEVICES_BODY_MAX))
            r->too_big = 1;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!r->too_big && wb_buf_add(&r->body, upload, *upload_size) != 0)
            r->too_big = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    return route(cls, c, url, method, r);
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

/* "ADDR:PORT" or "[v6]:PORT", numeric, as `waybill serve` takes it */

/* ---- start / stop ---- */

int wb_sim_devices_start(wb_sim_devices **out, const wb_sim_devices_options *o)
{
    wb_sim_devices *s;
    struct sockaddr_storage ss;
    socklen_t sl;
    const union MHD_DaemonInfo *info;
    const char *listen = o->listen ? o->listen : "127.0.0.1:0";
    unsigned threads = o->threads;
    int rc;

    *out = NULL;
    if (!o->dir || !o->dir[0])
        return wb_error_set(WB_E_INVALID, "no fleet directory");
    if (o->alias_alg != WB_ALG_ES384 && o->alias_alg != WB_ALG_ES256 &&
        o->alias_alg != WB_ALG_ED25519)
        return wb_error_set(WB_E_INVALID, "alias algorithm: want ES384, ES256 or Ed25519");
    if ((rc = wb_parse_listen(&ss, &sl, listen)) != 0)
        return rc;
    if (!(s = calloc(1, sizeof(*s))))
        return wb_error_set(WB_E_NOMEM, "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    s->alias_alg = o->alias_alg;
    if ((rc = load(s, o->dir)) != 0) {
        wb_sim_devices_stop(s);
        return rc;
    }
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 2;
    }
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
                            handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_THREAD_POOL_SIZE, threads,
                            MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_NOTIFY_COMPLETED,
                            completed, s, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
                            MHD_OPTION_END);
    if (!s->d) {
        wb_sim_devices_stop(s);
        return wb_error_set(WB_E_IO, "cannot listen on %s (in use, or not an address of this "
                            "machine?)", listen);
    }
    info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    *out = s;
    return 0;
}

unsigned short wb_sim_devices_port(const wb_sim_devices *s)
{
    return s->port;
}

size_t wb_sim_devices_count(const wb_sim_devices *s)
{
    return s->n;
}

void wb_sim_devices_stop(wb_sim_devices *s)
{
    if (!s)
        return;
    if (s->d)
        MHD_stop_daemon(s->d);
    for (size_t i = 0; s->u && i < s->n; i++) {
        unit *u = &s->u[i];
        wb_key_free(u->key);
        free(u->id_der);
        free(u->ca_der);
        free(u->slots);
        free(u->meas);
        signer_cleanup(&u->own);
        signer_cleanup(&u->impostor);
        free(u->last);
        if (s->locks)
            pthread_mutex_destroy(&u->mu);
    }
    free(s->u);
    free(s->parts);
    free(s->spares);
    wb_key_free(s->rogue_key);
    free(s->rogue_der);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
