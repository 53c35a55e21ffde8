/*
 * sim_devfile.c: DIR/attest/devices.json, what the simulated fleet's
 * attesting units need to answer a verifier (docs/simulator.md
 * "devices.json", docs/attestation.md "The device side"); the device
 * server (sim_devices.c, `waybill sim devices`) reads it back.
 *
 *   {"version": 1, "run": "...", "site": "AMS-1",
 *    "units": [{"id", "class": "blade"|"rack", "serial",
 *               "key": PKCS#8 PEM of its identity private key,
 *               "chain": [base64 DER identity certificate,
 *                         base64 DER of the CA that issued it],
 *               "slots": [{"slot", "id"}],          as assembled
 *               "measurements": [{"component", "digest"}]}],  blades only
 *    "spares": [{"id", "class"}],                   manifested, never placed
 *    "parts": [{"id", "class", "blade"}]}           every placed part
 *
 * A blade's slots are its parts, a rack's its blades; a blade measures the
 * current firmware of each part's class in that part's slot (component =
 * slot name, digest = hex SHA-384), as its attestation statements say.
 * Spares and parts let a fault (`swap`, `clone`) borrow a real identity.
 *
 * The file holds private keys: mode 0600, written atomically
 * (wb_file_replace), wiped from memory once written.
 */
#include "sim_int.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "waybill/error.h"
#include "waybill/util.h"

/* sets o[k] = v, taking v; 1 on failure (v NULL or no memory) */
static int put(json_t *o, const char *k, json_t *v)
{
    return !v || json_object_set_new(o, k, v) != 0;
}

/* appends v to a, taking v; 1 on failure */
static int add(json_t *a, json_t *v)
{
    return !v || json_array_append_new(a, v) != 0;
}

static json_t *b64(const uint8_t *p, size_t n)
{
    char *text = malloc(wb_base64_encoded_len(n) + 1);
    json_t *v;
    if (!text)
        return NULL;
    wb_base64_encode(text, p, n);
    v = json_string(text);
    free(text);
    return v;
}

/* the children of every device, in device order (slot order, as
 * assembled): kids[first[u] .. first[u + 1]) */
typedef struct {
    size_t *first;
    size_t *kids;
} children;

static int children_make(children *c, const sim_device *d, size_t n)
{
    size_t *fill;
    c->first = calloc(n + 2, sizeof(*c->first));
    c->kids = calloc(n + 1, sizeof(*c->kids));
    fill = calloc(n + 1, sizeof(*fill));
    if (!c->first || !c->kids || !fill) {
        free(c->first);
        free(c->kids);
        free(fill);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    for (size_t k = 0; k < n; k++)
        if (d[k].parent >= 0)
            c->first[(size_t)d[k].parent + 1]++;
    for (size_t u = 0; u < n; u++)
        c->first[u + 1] += c->first[u];
    for (size_t k = 0; k < n; k++)
        if (d[k].parent >= 0) {
            size_t u = (size_t)d[k].parent;
            c->kids[c->first[u] + fill[u]++] = k;
        }
    free(fill);
    return 0;
}

static json_t *unit_json(const sim_party *parties, const sim_device *d, const children *ch,
                         size_t u, const sim_devfile_info *info)
{
    const sim_device *me = &d[u];
    const sim_party *maker = &parties[me->party];
    json_t *o = json_object(), *chain = json_array(), *slots = json_array(),
           *meas = json_array();
    int bad = !o || !chain || !slots || !meas;

    bad |= put(o, "id", json_string(me->id));
    bad |= put(o, "class", json_string(wb_class_name(me->cls)));
    bad |= put(o, "serial", json_string(me->serial));
    bad |= put(o, "key", json_string(me->key_pem));
    bad |= add(chain, b64(me->cert, me->cert_len));
    bad |= add(chain, b64(maker->ca_der, maker->ca_len));
    for (size_t i = ch->first[u]; !bad && i < ch->first[u + 1]; i++) {
        const sim_device *c = &d[ch->kids[i]];
        const char *dg = info->fw_digest[c->cls];
        json_t *s = json_object(), *m;
        if (!s || add(slots, s)) { /* add took s, even on failure */
            bad = 1;
            break;
        }
        bad |= put(s, "slot", json_string(c->slot));
        bad |= put(s, "id", json_string(c->id));
        if (me->cls != WB_CLASS_BLADE)
            continue;
        m = json_object();
        if (!m || add(meas, m) || !dg) {
            bad = 1;
            break;
        }
        bad |= put(m, "component", json_string(c->slot));
        bad |= put(m, "digest", json_string(dg));
    }
    bad |= put(o, "chain", chain);
    chain = NULL;
    bad |= put(o, "slots", slots);
    slots = NULL;
    bad |= put(o, "measurements", meas);
    meas = NULL;
    if (bad) {
        json_decref(chain);
        json_decref(slots);
        json_decref(meas);
        json_decref(o);
        return NULL;
    }
    return o;
}

/* the parts list entry of d[k], whose blade is d[d[k].parent] */
static json_t *part_json(const sim_device *d, size_t k)
{
    json_t *o = json_object();
    int bad = !o;
    bad |= put(o, "id", json_string(d[k].id));
    bad |= put(o, "class", json_string(wb_class_name(d[k].cls)));
    if (d[k].parent >= 0)
        bad |= put(o, "blade", json_string(d[d[k].parent].id));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* json_dumps output is wiped before it is freed: it holds private keys */
static void wipe_free(char *text)
{
    if (text) {
        memset(text, 0, strlen(text));
        free(text);
    }
}

int sim_write_devfile(const char *dir, const sim_party *parties, const sim_device *d,
                      size_t n, const sim_devfile_info *info)
{
    json_t *root, *units, *spares, *parts;
    children ch;
    char sub[4200], path[4400], *text = NULL;
    int bad, rc;

    for (size_t k = 0; k < n; k++)
        if ((d[k].cls == WB_CLASS_BLADE || d[k].cls == WB_CLASS_RACK) && !d[k].key_pem)
            return wb_error_set(WB_E_INTERNAL, "devices.json: %s %s has no identity key",
                                wb_class_name(d[k].cls), d[k].serial);
    if ((rc = children_make(&ch, d, n)) != 0)
        return rc;
    root = json_object();
    units = json_array();
    spares = json_array();
    parts = json_array();
    bad = !root || !units || !spares || !parts;
    bad |= put(root, "version", json_integer(1));
    bad |= put(root, "run", json_string(info->run));
    bad |= put(root, "site", json_string(info->site));
    for (size_t k = 0; !bad && k < n; k++) {
        if (d[k].cls == WB_CLASS_BLADE || d[k].cls == WB_CLASS_RACK)
            bad |= add(units, unit_json(parties, d, &ch, k, info));
        else
            bad |= add(d[k].spare ? spares : parts, part_json(d, k));
    }
    bad |= put(root, "units", units);
    units = NULL;
    bad |= put(root, "spares", spares);
    spares = NULL;
    bad |= put(root, "parts", parts);
    parts = NULL;
    if (!bad)
        text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(units);
    json_decref(spares);
    json_decref(parts);
    json_decref(root);
    free(ch.first);
    free(ch.kids);
    if (!text)
        return wb_error_set(WB_E_NOMEM, "devices.json: out of memory");
    snprintf(sub, sizeof(sub), "%s/attest", dir);
    snprintf(path, sizeof(path), "%s/devices.json", sub);
    rc = sim_mkdirs(sub);
    if (rc == 0)
        rc = wb_file_replace(path, text, strlen(text), 0600);
    wipe_free(text);
    return rc ? wb_error_prefix(rc, "writing %s", path) : 0;
}
