/*
 * statements.c: the provenance statement payloads (DESIGN.md "Provenance
 * model", docs/statements.md): the names of kinds, roles, device classes
 * and tags, the strict JSON parser wb_prov_parse and wb_prov_payload_cleanup.
 *
 * A payload is a JSON object of at most 65535 bytes with "version": 1 and
 * "kind" equal to the kind of its content type
 * (application/vnd.waybill.<kind>+json), and then exactly the fields of its
 * kind: no unknown field anywhere, every required field present with its
 * type, ids and digests as lowercase hex of their exact length, names and
 * texts within their limits and free of control characters, lists within
 * WB_PROV_LIST_MAX. Duplicate keys, trailing bytes and invalid UTF-8 are
 * refused by the JSON reader itself. A refusal is WB_E_INVALID with a
 * message that names the kind and the field ("manifest: devices[3].chain[0]:
 * not base64 ..."). What is checked here is the payload alone; who may say
 * it and whether it agrees with the ledger is the policy's and the
 * projection's business (docs/policy.md).
 *
 * The encoder is in stmt_encode.c, the readers of single values in
 * stmt_read.c, the device id of a certificate in stmt_devid.c.
 */
#include "stmt_int.h"

#include "waybill/error.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- names ---- */

const char *const wb_stmt_kind_names[WB_KIND_COUNT] = {
    "none",        "issuer",   "manifest", "assembly",   "replacement",
    "custody",     "intake",   "attestation", "firmware", "review",
    "finding",     "resolution", "revocation", "decommission",
};

const char *const wb_stmt_role_names[WB_ROLE_COUNT] = {
    "none",       "supplier",        "integrator", "logistics",
    "datacenter", "firmware-vendor", "reviewer",   "auditor",
};

const char *const wb_stmt_class_names[WB_CLASS_COUNT] = {
    "none", "rot", "tpm", "caliptra", "bmc", "motherboard",
    "nic",  "ssd", "gpu", "blade",    "rack",
};

const char *const wb_stmt_action_names[4] = {"none", "add", "update", "retire"};
const char *const wb_stmt_event_names[3] = {"none", "ship", "receive"};
const char *const wb_stmt_verdict_names[3] = {"none", "pass", "fail"};
const char *const wb_stmt_check_names[WB_CHECK_COUNT] = {
    "none", "format", "chain", "identity", "signature", "stale", "unreachable"};

const char *wb_failed_check_name(wb_failed_check f)
{
    return (unsigned)f < WB_CHECK_COUNT ? wb_stmt_check_names[f] : "none";
}

const char *const wb_stmt_phase_names[4] = {"none", "arrival", "pre-production",
                                            "periodic"};
const char *const wb_stmt_tag_names[4] = {"none", "evict", "investigate", "remediate"};
const char *const wb_stmt_revoke_names[5] = {"none", "device", "key", "firmware",
                                             "finding"};
const char *const wb_stmt_format_names[3] = {"none", "jws", "cose-sign"};

static int name_index(const char *const *names, size_t n, const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 1; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return (int)i;
    return 0;
}

const char *wb_kind_name(wb_kind k)
{
    return k > WB_KIND_NONE && k < WB_KIND_COUNT ? wb_stmt_kind_names[k] : "unknown";
}

wb_kind wb_kind_from_name(const char *name)
{
    return (wb_kind)name_index(wb_stmt_kind_names, WB_KIND_COUNT, name);
}

wb_kind wb_kind_from_content_type(const char *cty)
{
    static const char prefix[] = "application/vnd.waybill.";
    static const char suffix[] = "+json";
    size_t n, plen = sizeof(prefix) - 1, slen = sizeof(suffix) - 1;
    char name[32];

    /* media type names are case-insensitive (RFC 6838 §4.2); no parameters */
    if (!cty)
        return WB_KIND_NONE;
    n = strlen(cty);
    if (n <= plen + slen || n - plen - slen >= sizeof(name) ||
        strncasecmp(cty, prefix, plen) != 0 || strcasecmp(cty + n - slen, suffix) != 0)
        return WB_KIND_NONE;
    for (size_t i = 0; i < n - plen - slen; i++) {
        char ch = cty[plen + i];
        name[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
    }
    name[n - plen - slen] = '\0';
    return wb_kind_from_name(name);
}

const char *wb_role_name(wb_role r)
{
    return r > WB_ROLE_NONE && r < WB_ROLE_COUNT ? wb_stmt_role_names[r] : "unknown";
}

wb_role wb_role_from_name(const char *name)
{
    return (wb_role)name_index(wb_stmt_role_names, WB_ROLE_COUNT, name);
}

const char *wb_class_name(wb_device_class c)
{
    return c > WB_CLASS_NONE && c < WB_CLASS_COUNT ? wb_stmt_class_names[c] : "unknown";
}

wb_device_class wb_class_from_name(const char *name)
{
    return (wb_device_class)name_index(wb_stmt_class_names, WB_CLASS_COUNT, name);
}

const char *wb_tag_name(wb_tag t)
{
    return t >= WB_TAG_EVICT && t <= WB_TAG_REMEDIATE ? wb_stmt_tag_names[t] : "unknown";
}

/* ---- field readers: look a field up, then check its value ---- */

#define REQUIRED 1
#define OPTIONAL 0

static int get_name(wb_stmt_ctx *c, const json_t *obj, const char *key, char *out,
                    size_t cap, int required)
{
    const json_t *v;
    int rc = stmt_field(c, obj, key, required, &v);
    if (rc || !v)
        return rc;
    size_t old = stmt_push_key(c, key);
    rc = stmt_name(c, v, out, cap);
    stmt_pop(c, old);
    return rc;
}

static int get_text(wb_stmt_ctx *c, const json_t *obj, const char *key, char *out,
                    size_t cap, int required)
{
    const json_t *v;
    int rc = stmt_field(c, obj, key, required, &v);
    if (rc || !v)
        return rc;
    size_t old = stmt_push_key(c, key);
    rc = stmt_text(c, v, out, cap);
    stmt_pop(c, old);
    return rc;
}

static int get_hex(wb_stmt_ctx *c, const json_t *obj, const char *key, char *out,
                   size_t cap, size_t min, size_t max, int required)
{
    const json_t *v;
    int rc = stmt_field(c, obj, key, required, &v);
    if (rc || !v)
        return rc;
    size_t old = stmt_push_key(c, key);
    rc = stmt_hex(c, v, out, cap, min, max);
    stmt_pop(c, old);
    return rc;
}

static int get_id(wb_stmt_ctx *c, const json_t *obj, const char *key, char *out,
                  int required)
{
    return get_hex(c, obj, key, out, WB_DEVICE_ID_HEX + 1, WB_DEVICE_ID_HEX,
                   WB_DEVICE_ID_HEX, required);
}

static int get_enum(wb_stmt_ctx *c, const json_t *obj, const char *key,
                    const char *const *names, size_t n, int *out, int required)
{
    const json_t *v;
    int rc = stmt_field(c, obj, key, required, &v);
    if (rc || !v)
        return rc;
    size_t old = stmt_push_key(c, key);
    rc = stmt_enum(c, v, names, n, out);
    stmt_pop(c, old);
    return rc;
}

/* *arr = the array (NULL if absent and optional) */
static int get_array(wb_stmt_ctx *c, const json_t *obj, const char *key, size_t min,
                     size_t max, const json_t **arr, int required)
{
    int rc = stmt_field(c, obj, key, required, arr);
    if (rc || !*arr)
        return rc;
    size_t old = stmt_push_key(c, key);
    rc = stmt_array(c, *arr, min, max);
    stmt_pop(c, old);
    return rc;
}

static int nomem(void)
{
    return wb_error_set(WB_E_NOMEM, "out of memory");
}

static int is_present(const json_t *obj, const char *key)
{
    return json_object_get(obj, key) != NULL;
}

/* ---- lists ---- */

/* a list of names (seals, sites, manufacturers), no name twice */
static int get_names(wb_stmt_ctx *c, const json_t *obj, const char *key, size_t min,
                     const char *what, char ***out, size_t *n)
{
    const json_t *arr;
    char buf[WB_PROV_NAME_MAX + 1];
    int rc = get_array(c, obj, key, min, WB_PROV_LIST_MAX, &arr, min > 0);
    if (rc || !arr || json_array_size(arr) == 0)
        return rc;
    *out = calloc(json_array_size(arr), sizeof(**out));
    if (!*out)
        return nomem();
    size_t old = stmt_push_key(c, key);
    for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++) {
        size_t o2 = stmt_push_index(c, i);
        rc = stmt_name(c, json_array_get(arr, i), buf, sizeof(buf));
        for (size_t k = 0; rc == 0 && k < i; k++)
            if (strcmp((*out)[k], buf) == 0)
                rc = stmt_fail(c, "%s appears twice", what);
        if (rc == 0) {
            (*out)[i] = strdup(buf);
            if (!(*out)[i])
                rc = nomem();
            else
                (*n)++;
        }
        stmt_pop(c, o2);
    }
    stmt_pop(c, old);
    return rc;
}

/* a list of free texts (reasons) */
static int get_texts(wb_stmt_ctx *c, const json_t *obj, const char *key, char ***out,
                     size_t *n)
{
    const json_t *arr;
    char buf[WB_PROV_TEXT_MAX + 1];
    int rc = get_array(c, obj, key, 0, WB_PROV_LIST_MAX, &arr, OPTIONAL);
    if (rc || !arr || json_array_size(arr) == 0)
        return rc;
    *out = calloc(json_array_size(arr), sizeof(**out));
    if (!*out)
        return nomem();
    size_t old = stmt_push_key(c, key);
    for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++) {
        size_t o2 = stmt_push_index(c, i);
        rc = stmt_text(c, json_array_get(arr, i), buf, sizeof(buf));
        if (rc == 0) {
            (*out)[i] = strdup(buf);
            if (!(*out)[i])
                rc = nomem();
            else
                (*n)++;
        }
        stmt_pop(c, o2);
    }
    stmt_pop(c, old);
    return rc;
}

/* a list of base64 DER blobs (keys, CA certificates), no blob twice */
static int get_blobs(wb_stmt_ctx *c, const json_t *obj, const char *key, size_t max_items,
                     const char *what, uint8_t ***out, size_t **lens, size_t *n)
{
    const json_t *arr;
    int rc = get_array(c, obj, key, 0, max_items, &arr, OPTIONAL);
    if (rc || !arr || json_array_size(arr) == 0)
        return rc;
    *out = calloc(json_array_size(arr), sizeof(**out));
    *lens = calloc(json_array_size(arr), sizeof(**lens));
    if (!*out || !*lens)
        return nomem();
    size_t old = stmt_push_key(c, key);
    for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++) {
        size_t o2 = stmt_push_index(c, i);
        rc = stmt_base64(c, json_array_get(arr, i), WB_PROV_CERT_MAX, &(*out)[i],
                         &(*lens)[i]);
        if (rc == 0)
            (*n)++;
        for (size_t k = 0; rc == 0 && k < i; k++)
            if ((*lens)[k] == (*lens)[i] && memcmp((*out)[k], (*out)[i], (*lens)[i]) == 0)
                rc = stmt_fail(c, "%s appears twice", what);
        stmt_pop(c, o2);
    }
    stmt_pop(c, old);
    return rc;
}

/* a list of device ids (custody units), no id twice */
static int get_ids(wb_stmt_ctx *c, const json_t *obj, const char *key, size_t min,
                   wb_device_id **out, size_t *n)
{
    const json_t *arr;
    int rc = get_array(c, obj, key, min, WB_PROV_LIST_MAX, &arr, min > 0);
    if (rc || !arr || json_array_size(arr) == 0)
        return rc;
    *out = calloc(json_array_size(arr), sizeof(**out));
    if (!*out)
        return nomem();
    size_t old = stmt_push_key(c, key);
    for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++) {
        size_t o2 = stmt_push_index(c, i);
        rc = stmt_hex(c, json_array_get(arr, i), (*out)[i], sizeof((*out)[i]),
                      WB_DEVICE_ID_HEX, WB_DEVICE_ID_HEX);
        for (size_t k = 0; rc == 0 && k < i; k++)
            if (strcmp((*out)[k], (*out)[i]) == 0)
                rc = stmt_fail(c, "device id appears twice");
        if (rc == 0)
            (*n)++;
        stmt_pop(c, o2);
    }
    stmt_pop(c, old);
    return rc;
}

/* a list of entry ids (finding evidence), no id twice */
static int get_entry_ids(wb_stmt_ctx *c, const json_t *obj, const char *key,
                         char (**out)[65], size_t *n)
{
    const json_t *arr;
    int rc = get_array(c, obj, key, 0, WB_PROV_LIST_MAX, &arr, OPTIONAL);
    if (rc || !arr || json_array_size(arr) == 0)
        return rc;
    *out = calloc(json_array_size(arr), sizeof(**out));
    if (!*out)
        return nomem();
    size_t old = stmt_push_key(c, key);
    for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++) {
        size_t o2 = stmt_push_index(c, i);
        rc = stmt_hex(c, json_array_get(arr, i), (*out)[i], sizeof((*out)[i]), 64, 64);
        for (size_t k = 0; rc == 0 && k < i; k++)
            if (strcmp((*out)[k], (*out)[i]) == 0)
                rc = stmt_fail(c, "entry id appears twice");
        if (rc == 0)
            (*n)++;
        stmt_pop(c, o2);
    }
    stmt_pop(c, old);
    return rc;
}

/*
 * A list of {"slot", "id"}: no slot twice. unique_ids also refuses a device
 * twice (an assembly cannot put one device in two slots; an intake or an
 * attestation records what it saw, clones included). not_id, if set, may not
 * appear (a parent is not its own child).
 */
static int get_slots(wb_stmt_ctx *c, const json_t *obj, const char *key, size_t min,
                     int unique_ids, const char *not_id, wb_slot_entry **out, size_t *n)
{
    static const char *const fields[] = {"slot", "id", NULL};
    const json_t *arr;
    int rc = get_array(c, obj, key, min, WB_PROV_LIST_MAX, &arr, min > 0);
    if (rc || !arr || json_array_size(arr) == 0)
        return rc;
    *out = calloc(json_array_size(arr), sizeof(**out));
    if (!*out)
        return nomem();
    size_t old = stmt_push_key(c, key);
    for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++) {
        const json_t *item = json_array_get(arr, i);
        wb_slot_entry *e = &(*out)[i];
        size_t o2 = stmt_push_index(c, i);
        rc = stmt_object(c, item, fields);
        if (rc == 0)
            rc = get_name(c, item, "slot", e->slot, sizeof(e->slot), REQUIRED);
        if (rc == 0)
            rc = get_id(c, item, "id", e->id, REQUIRED);
        for (size_t k = 0; rc == 0 && k < i; k++) {
            if (strcmp((*out)[k].slot, e->slot) == 0) {
                size_t o3 = stmt_push_key(c, "slot");
                rc = stmt_fail(c, "slot appears twice");
                stmt_pop(c, o3);
            } else if (unique_ids && strcmp((*out)[k].id, e->id) == 0) {
                size_t o3 = stmt_push_key(c, "id");
                rc = stmt_fail(c, "device id appears twice");
                stmt_pop(c, o3);
            }
        }
        if (rc == 0 && not_id && strcmp(e->id, not_id) == 0) {
            size_t o3 = stmt_push_key(c, "id");
            rc = stmt_fail(c, "the parent cannot be its own child");
            stmt_pop(c, o3);
        }
        if (rc == 0)
            (*n)++;
        stmt_pop(c, o2);
    }
    stmt_pop(c, old);
    return rc;
}

/* fails at path key with msg when the field is present */
static int forbid(wb_stmt_ctx *c, const json_t *obj, const char *key, const char *msg)
{
    if (!is_present(obj, key))
        return 0;
    size_t old = stmt_push_key(c, key);
    int rc = stmt_fail(c, "%s", msg);
    stmt_pop(c, old);
    return rc;
}

static int fail_at(wb_stmt_ctx *c, const char *key, const char *msg)
{
    size_t old = stmt_push_key(c, key);
    int rc = stmt_fail(c, "%s", msg);
    stmt_pop(c, old);
    return rc;
}

/* ---- the kinds ---- */

static int parse_issuer(wb_stmt_ctx *c, const json_t *o, wb_p_issuer *p)
{
    static const char *const fields[] = {"version", "kind",  "action", "name", "role",
                                         "manufacturers", "sites", "keys", "cas", NULL};
    static const char *const scoped[] = {"role", "manufacturers", "sites", "keys", "cas"};
    int v = 0, rc;

    if ((rc = stmt_object(c, o, fields)) != 0 ||
        (rc = get_enum(c, o, "action", wb_stmt_action_names, 4, &v, REQUIRED)) != 0)
        return rc;
    p->action = (wb_issuer_action)v;
    if ((rc = get_name(c, o, "name", p->name, sizeof(p->name), REQUIRED)) != 0)
        return rc;
    if (p->action == WB_ISSUER_RETIRE) {
        for (size_t i = 0; i < sizeof(scoped) / sizeof(scoped[0]); i++)
            if ((rc = forbid(c, o, scoped[i], "not allowed when retiring an issuer "
                                              "(retire carries only the name)")) != 0)
                return rc;
        return 0;
    }
    v = 0;
    if ((rc = get_enum(c, o, "role", wb_stmt_role_names, WB_ROLE_COUNT, &v, REQUIRED)) != 0)
        return rc;
    p->role = (wb_role)v;
    if ((rc = get_names(c, o, "manufacturers", 0, "manufacturer", &p->manufacturers,
                        &p->nmanufacturers)) != 0 ||
        (rc = get_names(c, o, "sites", 0, "site", &p->sites, &p->nsites)) != 0 ||
        (rc = get_blobs(c, o, "keys", WB_PROV_LIST_MAX, "key", &p->keys, &p->key_lens,
                        &p->nkeys)) != 0 ||
        (rc = get_blobs(c, o, "cas", WB_PROV_LIST_MAX, "CA certificate", &p->cas,
                        &p->ca_lens, &p->ncas)) != 0)
        return rc;
    if (p->nkeys == 0 && p->ncas == 0)
        return fail_at(c, "keys", "an issuer needs at least one key (keys) or CA "
                                  "certificate (cas)");
    if ((p->role == WB_ROLE_SUPPLIER || p->role == WB_ROLE_INTEGRATOR) &&
        p->nmanufacturers == 0)
        return stmt_fail(c, "manufacturers: a%s %s issuer needs at least one "
                            "manufacturer", p->role == WB_ROLE_INTEGRATOR ? "n" : "",
                         wb_role_name(p->role));
    if ((p->role == WB_ROLE_DATACENTER || p->role == WB_ROLE_LOGISTICS) && p->nsites == 0)
        return stmt_fail(c, "sites: a %s issuer needs at least one site",
                         wb_role_name(p->role));
    return 0;
}

static int parse_device(wb_stmt_ctx *c, const json_t *o, wb_p_device *d)
{
    static const char *const fields[] = {"id", "class", "model", "serial", "chain", NULL};
    const json_t *chain;
    int v = 0, rc;

    if ((rc = stmt_object(c, o, fields)) != 0 ||
        (rc = get_id(c, o, "id", d->id, REQUIRED)) != 0 ||
        (rc = get_enum(c, o, "class", wb_stmt_class_names, WB_CLASS_COUNT, &v, REQUIRED)) != 0)
        return rc;
    d->cls = (wb_device_class)v;
    if ((rc = get_name(c, o, "model", d->model, sizeof(d->model), REQUIRED)) != 0 ||
        (rc = get_name(c, o, "serial", d->serial, sizeof(d->serial), REQUIRED)) != 0 ||
        (rc = get_array(c, o, "chain", 1, WB_PROV_CHAIN_MAX, &chain, REQUIRED)) != 0)
        return rc;
    size_t old = stmt_push_key(c, "chain");
    for (size_t i = 0; rc == 0 && i < json_array_size(chain); i++) {
        size_t o2 = stmt_push_index(c, i);
        rc = stmt_base64(c, json_array_get(chain, i), WB_PROV_CERT_MAX, &d->chain[i],
                         &d->chain_len[i]);
        if (rc == 0)
            d->nchain++;
        stmt_pop(c, o2);
    }
    stmt_pop(c, old);
    return rc;
}

static int parse_manifest(wb_stmt_ctx *c, const json_t *o, wb_p_manifest *p)
{
    static const char *const fields[] = {"version", "kind", "manufacturer", "devices", NULL};
    const json_t *devs;
    int rc;

    if ((rc = stmt_object(c, o, fields)) != 0 ||
        (rc = get_name(c, o, "manufacturer", p->manufacturer, sizeof(p->manufacturer),
                       REQUIRED)) != 0 ||
        (rc = get_array(c, o, "devices", 1, WB_PROV_LIST_MAX, &devs, REQUIRED)) != 0)
        return rc;
    p->devices = calloc(json_array_size(devs), sizeof(*p->devices));
    if (!p->devices)
        return nomem();
    size_t old = stmt_push_key(c, "devices");
    for (size_t i = 0; rc == 0 && i < json_array_size(devs); i++) {
        wb_p_device *d = &p->devices[i];
        size_t o2 = stmt_push_index(c, i);
        p->ndevices++; /* counted first: a half-read device is freed too */
        rc = parse_device(c, json_array_get(devs, i), d);
        for (size_t k = 0; rc == 0 && k < i; k++) {
            if (strcmp(p->devices[k].id, d->id) == 0) {
                size_t o3 = stmt_push_key(c, "id");
                rc = stmt_fail(c, "device id appears twice");
                stmt_pop(c, o3);
            }
        }
        stmt_pop(c, o2);
    }
    stmt_pop(c, old);
    return rc;
}

static int parse_assembly(wb_stmt_ctx *c, const json_t *o, wb_p_assembly *p)
{
    static const char *const fields[] = {"version", "kind", "parent", "children", NULL};
    int rc;
    if ((rc = stmt_object(c, o, fields)) != 0 ||
        (rc = get_id(c, o, "parent", p->parent, REQUIRED)) != 0)
        return rc;
    return get_slots(c, o, "children", 1, 1, p->parent, &p->children, &p->nchildren);
}

static int parse_replacement(wb_stmt_ctx *c, const json_t *o, wb_p_replacement *p)
{
    static const char *const fields[] = {"version", "kind", "parent", "slot",
                                         "old",     "new",  "ticket", NULL};
    int rc;
    if ((rc = stmt_object(c, o, fields)) != 0 ||
        (rc = get_id(c, o, "parent", p->parent, REQUIRED)) != 0 ||
        (rc = get_name(c, o, "slot", p->slot, sizeof(p->slot), REQUIRED)) != 0 ||
        (rc = get_id(c, o, "old", p->old_id, REQUIRED)) != 0 ||
        (rc = get_id(c, o, "new", p->new_id, REQUIRED)) != 0 ||
        (rc = get_name(c, o, "ticket", p->ticket, sizeof(p->ticket), REQUIRED)) != 0)
        return rc;
    if (strcmp(p->old_id, p->new_id) == 0)
        return fail_at(c, "new", "the same device as old");
    if (strcmp(p->parent, p->old_id) == 0)
        return fail_at(c, "old", "the same device as parent");
    if (strcmp(p->parent, p->new_id) == 0)
        return fail_at(c, "new", "the same device as parent");
    return 0;
}

static int parse_custody(wb_stmt_ctx *c, const json_t *o, wb_p_custody *p)
{
    static const char *const fields[] = {"version", "kind", "event", "shipment", "from",
                                         "to",      "units", "seals", NULL};
    int v = 0, rc;
    if ((rc = stmt_object(c, o, fields)) != 0 ||
        (rc = get_enum(c, o, "event", wb_stmt_event_names, 3, &v, REQUIRED)) != 0)
        return rc;
    p->event = (wb_custody_event)v;
    if ((rc = get_name(c, o, "shipment", p->shipment, sizeof(p->shipment), REQUIRED)) != 0 ||
        (rc = get_name(c, o, "from", p->from, sizeof(p->from), REQUIRED)) != 0 ||
        (rc = get_name(c, o, "to", p->to, sizeof(p->to), REQUIRED)) != 0)
        return rc;
    if (strcmp(p->from, p->to) == 0)
        return fail_at(c, "to", "the same place as from");
    if ((rc = get_ids(c, o, "units", 1, &p->units, &p->nunits)) != 0)
        return rc;
    return get_names(c, o, "seals", 0, "seal", &p->seals, &p->nseals);
}

static int parse_intake(wb_stmt_ctx *c, const json_t *o, wb_p_intake *p)
{
    static const char *const fields[] = {"version", "kind",  "site",    "shipment",
                                         "seals",   "units", "verdict", NULL};
    static const char *const unit_fields[] = {"id", "found", NULL};
    const json_t *units;
    int v = 0, rc;

    if ((rc = stmt_object(c, o, fields)) != 0 ||
        (rc = get_name(c, o, "site", p->site, sizeof(p->site), REQUIRED)) != 0 ||
        (rc = get_name(c, o, "shipment", p->shipment, sizeof(p->shipment), REQUIRED)) != 0 ||
        (rc = get_names(c, o, "seals", 0, "seal", &p->seals, &p->nseals)) != 0 ||
        (rc = get_array(c, o, "units", 1, WB_PROV_LIST_MAX, &units, REQUIRED)) != 0)
        return rc;
    p->units = calloc(json_array_size(units), sizeof(*p->units));
    if (!p->units)
        return nomem();
    size_t old = stmt_push_key(c, "units");
    for (size_t i = 0; rc == 0 && i < json_array_size(units); i++) {
        const json_t *u = json_array_get(units, i);
        wb_p_intake_unit *pu = &p->units[i];
        size_t o2 = stmt_push_index(c, i);
        p->nunits++;
        rc = stmt_object(c, u, unit_fields);
        if (rc == 0)
            rc = get_id(c, u, "id", pu->id, REQUIRED);
        for (size_t k = 0; rc == 0 && k < i; k++) {
            if (strcmp(p->units[k].id, pu->id) == 0) {
                size_t o3 = stmt_push_key(c, "id");
                rc = stmt_fail(c, "device id appears twice");
                stmt_pop(c, o3);
            }
        }
        if (rc == 0)
            rc = get_slots(c, u, "found", 0, 0, NULL, &pu->found, &pu->nfound);
        stmt_pop(c, o2);
    }
    stmt_pop(c, old);
    if (rc)
        return rc;
    if ((rc = get_enum(c, o, "verdict", wb_stmt_verdict_names, 3, &v, REQUIRED)) != 0)
        return rc;
    p->verdict = (wb_verdict)v;
    return 0;
}

static int parse_attestation(wb_stmt_ctx *c, const json_t *o, wb_p_attestation *p)
{
    static const char *const fields[] = {
        "version", "kind", "site",         "target",  "phase",   "nonce",
        "evidence_digest", "seen", "measurements", "verdict", "failed_check", "reasons",
        NULL};
    static const char *const m_fields[] = {"component", "digest", NULL};
    const json_t *ms;
    int v = 0, rc;

    if ((rc = stmt_object(c, o, fields)) != 0 ||
        (rc = get_name(c, o, "site", p->site, sizeof(p->site), REQUIRED)) != 0 ||
        (rc = get_id(c, o, "target", p->target, REQUIRED)) != 0 ||
        (rc = get_enum(c, o, "phase", wb_stmt_phase_names, 4, &v, REQUIRED)) != 0)
        return rc;
    p->phase = (wb_attest_phase)v;
    if ((rc = get_hex(c, o, "nonce", p->nonce, sizeof(p->nonce), WB_STMT_NONCE_MIN,
                      WB_STMT_NONCE_MAX, REQUIRED)) != 0 ||
        (rc = get_hex(c, o, "evidence_digest", p->evidence_digest,
                      sizeof(p->evidence_digest), 64, 64, REQUIRED)) != 0 ||
        (rc = get_slots(c, o, "seen", 0, 0, NULL, &p->seen, &p->nseen)) != 0 ||
        (rc = get_array(c, o, "measurements", 0, WB_PROV_LIST_MAX, &ms, OPTIONAL)) != 0)
        return rc;
    if (ms && json_array_size(ms) > 0) {
        p->measurements = calloc(json_array_size(ms), sizeof(*p->measurements));
        if (!p->measurements)
            return nomem();
        size_t old = stmt_push_key(c, "measurements");
        for (size_t i = 0; rc == 0 && i < json_array_size(ms); i++) {
            const json_t *m = json_array_get(ms, i);
            wb_measurement *pm = &p->measurements[i];
            size_t o2 = stmt_push_index(c, i);
            rc = stmt_object(c, m, m_fields);
            if (rc == 0)
                rc = get_name(c, m, "component", pm->component, sizeof(pm->component),
                              REQUIRED);
            if (rc == 0)
                rc = get_hex(c, m, "digest", pm->digest, sizeof(pm->digest),
                             WB_DIGEST384_HEX, WB_DIGEST384_HEX, REQUIRED);
            for (size_t k = 0; rc == 0 && k < i; k++) {
                if (strcmp(p->measurements[k].component, pm->component) == 0) {
                    size_t o3 = stmt_push_key(c, "component");
                    rc = stmt_fail(c, "component appears twice");
                    stmt_pop(c, o3);
                }
            }
            if (rc == 0)
                p->nmeasurements++;
            stmt_pop(c, o2);
        }
        stmt_pop(c, old);
        if (rc)
            return rc;
    }
    v = 0;
    if ((rc = get_enum(c, o, "verdict", wb_stmt_verdict_names, 3, &v, REQUIRED)) != 0)
        return rc;
    p->verdict = (wb_verdict)v;
    v = 0;
    if ((rc = get_enum(c, o, "failed_check", wb_stmt_check_names, WB_CHECK_COUNT, &v,
                       OPTIONAL)) != 0)
        return rc;
    p->failed_check = (wb_failed_check)v;
    if (p->failed_check != WB_CHECK_NONE && p->verdict != WB_VERDICT_FAIL)
        return stmt_fail(c, "failed_check is set but the verdict is not \"fail\"");
    return get_texts(c, o, "reasons", &p->reasons, &p->nreasons);
}

static int parse_firmware(wb_stmt_ctx *c, const json_t *o, wb_p_firmware *p)
{
    static const char *const fields[] = {"version", "kind",   "class", "vendor",
                                         "fw_version", "digest", "svn", NULL};
    const json_t *svn;
    int v = 0, rc;

    if ((rc = stmt_object(c, o, fields)) != 0 ||
        (rc = get_enum(c, o, "class", wb_stmt_class_names, WB_CLASS_COUNT, &v, REQUIRED)) != 0)
        return rc;
    p->cls = (wb_device_class)v;
    if ((rc = get_name(c, o, "vendor", p->vendor, sizeof(p->vendor), REQUIRED)) != 0 ||
        (rc = get_name(c, o, "fw_version", p->fw_version, sizeof(p->fw_version),
                       REQUIRED)) != 0 ||
        (rc = get_hex(c, o, "digest", p->digest, sizeof(p->digest), WB_DIGEST384_HEX,
                      WB_DIGEST384_HEX, REQUIRED)) != 0 ||
        (rc = stmt_field(c, o, "svn", REQUIRED, &svn)) != 0)
        return rc;
    if (!json_is_integer(svn))
        return fail_at(c, "svn", "not an integer");
    if (json_integer_value(svn) < 0)
        return fail_at(c, "svn", "negative");
    p->svn = (int64_t)json_integer_value(svn);
    return 0;
}

/* a CVSS score: 0.0 to 10.0 with one decimal (CVSS v3.1 §7.4, v4.0) */
static int get_cvss(wb_stmt_ctx *c, const json_t *o, double *out)
{
    const json_t *v;
    double d;
    int rc = stmt_field(c, o, "cvss", REQUIRED, &v);
    if (rc)
        return rc;
    if (!json_is_number(v))
        return fail_at(c, "cvss", "not a number");
    d = json_number_value(v);
    if (!(d >= 0.0 && d <= 10.0))
        return fail_at(c, "cvss", "not between 0.0 and 10.0");
    if ((double)(int)(d * 10.0 + 0.5) / 10.0 != d)
        return fail_at(c, "cvss", "more than one decimal (a CVSS score is like 7.5)");
    *out = d == 0.0 ? 0.0 : d; /* -0.0 is written 0.0 */
    return 0;
}

static int parse_review(wb_stmt_ctx *c, const json_t *o, wb_p_review *p)
{
    static const char *const fields[] = {"version", "kind",   "firmware_digest", "reviewer",
                                         "framework", "issues", "original", NULL};
    static const char *const i_fields[] = {"title", "cvss", "cve", NULL};
    static const char *const o_fields[] = {"format", "bytes", NULL};
    const json_t *issues, *orig;
    int rc;

    if ((rc = stmt_object(c, o, fields)) != 0 ||
        (rc = get_hex(c, o, "firmware_digest", p->firmware_digest,
                      sizeof(p->firmware_digest), WB_DIGEST384_HEX, WB_DIGEST384_HEX,
                      OPTIONAL)) != 0 ||
        (rc = get_name(c, o, "reviewer", p->reviewer, sizeof(p->reviewer), REQUIRED)) != 0 ||
        (rc = get_name(c, o, "framework", p->framework, sizeof(p->framework), REQUIRED)) != 0 ||
        (rc = get_array(c, o, "issues", 0, WB_PROV_LIST_MAX, &issues, OPTIONAL)) != 0)
        return rc;
    if (issues && json_array_size(issues) > 0) {
        p->issues = calloc(json_array_size(issues), sizeof(*p->issues));
        if (!p->issues)
            return nomem();
        size_t old = stmt_push_key(c, "issues");
        for (size_t i = 0; rc == 0 && i < json_array_size(issues); i++) {
            const json_t *it = json_array_get(issues, i);
            wb_review_issue *pi = &p->issues[i];
            size_t o2 = stmt_push_index(c, i);
            rc = stmt_object(c, it, i_fields);
            if (rc == 0)
                rc = get_text(c, it, "title", pi->title, sizeof(pi->title), REQUIRED);
            if (rc == 0)
                rc = get_cvss(c, it, &pi->cvss);
            if (rc == 0)
                rc = get_name(c, it, "cve", pi->cve, sizeof(pi->cve), OPTIONAL);
            if (rc == 0)
                p->nissues++;
            stmt_pop(c, o2);
        }
        stmt_pop(c, old);
        if (rc)
            return rc;
    }
    if ((rc = stmt_field(c, o, "original", OPTIONAL, &orig)) != 0 || !orig)
        return rc;
    size_t old = stmt_push_key(c, "original");
    int fmt = 0;
    const json_t *bytes;
    rc = stmt_object(c, orig, o_fields);
    if (rc == 0)
        rc = get_enum(c, orig, "format", wb_stmt_format_names, 3, &fmt, REQUIRED);
    if (rc == 0)
        rc = stmt_field(c, orig, "bytes", REQUIRED, &bytes);
    if (rc == 0) {
        p->original_format = strdup(wb_stmt_format_names[fmt]);
        if (!p->original_format)
            rc = nomem();
    }
    if (rc == 0) {
        size_t o2 = stmt_push_key(c, "bytes");
        rc = stmt_base64(c, bytes, WB_STMT_PAYLOAD_MAX, &p->original, &p->original_len);
        stmt_pop(c, o2);
    }
    stmt_pop(c, old);
    return rc;
}

static int parse_finding(wb_stmt_ctx *c, const json_t *o, wb_p_finding *p)
{
    static const char *const fields[] = {"version", "kind", "finding_id", "rule", "tag",
                                         "device",  "site", "reason", "evidence", NULL};
    int v = 0, rc;
    if ((rc = stmt_object(c, o, fields)) != 0 ||
        (rc = get_hex(c, o, "finding_id", p->finding_id, sizeof(p->finding_id), 64, 64,
                      REQUIRED)) != 0 ||
        (rc = get_name(c, o, "rule", p->rule, sizeof(p->rule), REQUIRED)) != 0 ||
        (rc = get_enum(c, o, "tag", wb_stmt_tag_names, 4, &v, REQUIRED)) != 0)
        return rc;
    p->tag = (wb_tag)v;
    if ((rc = get_id(c, o, "device", p->device, OPTIONAL)) != 0 ||
        (rc = get_name(c, o, "site", p->site, sizeof(p->site), OPTIONAL)) != 0 ||
        (rc = get_text(c, o, "reason", p->reason, sizeof(p->reason), REQUIRED)) != 0)
        return rc;
    return get_entry_ids(c, o, "evidence", &p->evidence, &p->nevidence);
}

static int parse_resolution(wb_stmt_ctx *c, const json_t *o, wb_p_resolution *p)
{
    static const char *const fields[] = {"version", "kind", "finding_id", "action",
                                         "note", NULL};
    int rc;
    if ((rc = stmt_object(c, o, fields)) != 0 ||
        (rc = get_hex(c, o, "finding_id", p->finding_id, sizeof(p->finding_id), 64, 64,
                      REQUIRED)) != 0 ||
        (rc = get_name(c, o, "action", p->action, sizeof(p->action), REQUIRED)) != 0)
        return rc;
    return get_text(c, o, "note", p->note, sizeof(p->note), OPTIONAL);
}

static int parse_revocation(wb_stmt_ctx *c, const json_t *o, wb_p_revocation *p)
{
    static const char *const fields[] = {"version", "kind", "target_kind", "target",
                                         "reason", NULL};
    int v = 0, rc;
    size_t n;
    if ((rc = stmt_object(c, o, fields)) != 0 ||
        (rc = get_enum(c, o, "target_kind", wb_stmt_revoke_names, 5, &v, REQUIRED)) != 0)
        return rc;
    p->target_kind = (wb_revoke_target)v;
    /* a firmware is named by its SHA-384 digest, everything else by a SHA-256 */
    n = p->target_kind == WB_REVOKE_FIRMWARE ? WB_DIGEST384_HEX : 64;
    if ((rc = get_hex(c, o, "target", p->target, sizeof(p->target), n, n, REQUIRED)) != 0)
        return rc;
    return get_text(c, o, "reason", p->reason, sizeof(p->reason), REQUIRED);
}

static int parse_decommission(wb_stmt_ctx *c, const json_t *o, wb_p_decommission *p)
{
    static const char *const fields[] = {"version", "kind", "device", "site", "reason",
                                         NULL};
    int rc;
    if ((rc = stmt_object(c, o, fields)) != 0 ||
        (rc = get_id(c, o, "device", p->device, REQUIRED)) != 0 ||
        (rc = get_name(c, o, "site", p->site, sizeof(p->site), REQUIRED)) != 0)
        return rc;
    return get_text(c, o, "reason", p->reason, sizeof(p->reason), OPTIONAL);
}

static int parse_body(wb_stmt_ctx *c, const json_t *root, wb_prov_payload *p)
{
    switch (p->kind) {
    case WB_KIND_ISSUER: return parse_issuer(c, root, &p->u.issuer);
    case WB_KIND_MANIFEST: return parse_manifest(c, root, &p->u.manifest);
    case WB_KIND_ASSEMBLY: return parse_assembly(c, root, &p->u.assembly);
    case WB_KIND_REPLACEMENT: return parse_replacement(c, root, &p->u.replacement);
    case WB_KIND_CUSTODY: return parse_custody(c, root, &p->u.custody);
    case WB_KIND_INTAKE: return parse_intake(c, root, &p->u.intake);
    case WB_KIND_ATTESTATION: return parse_attestation(c, root, &p->u.attestation);
    case WB_KIND_FIRMWARE: return parse_firmware(c, root, &p->u.firmware);
    case WB_KIND_REVIEW: return parse_review(c, root, &p->u.review);
    case WB_KIND_FINDING: return parse_finding(c, root, &p->u.finding);
    case WB_KIND_RESOLUTION: return parse_resolution(c, root, &p->u.resolution);
    case WB_KIND_REVOCATION: return parse_revocation(c, root, &p->u.revocation);
    case WB_KIND_DECOMMISSION: return parse_decommission(c, root, &p->u.decommission);
    default: return stmt_fail(c, "unknown kind");
    }
}

/* "version": 1 and "kind": the expected one */
static int parse_header(wb_stmt_ctx *c, const json_t *root)
{
    const json_t *v;
    const char *kind = wb_stmt_kind_names[c->kind];
    int rc;

    if ((rc = stmt_field(c, root, "version", REQUIRED, &v)) != 0)
        return rc;
    if (!json_is_integer(v))
        return fail_at(c, "version", "not an integer");
    if (json_integer_value(v) != WB_PROV_VERSION) {
        size_t old = stmt_push_key(c, "version");
        rc = stmt_fail(c, "version %lld is not supported (this code reads %d)",
                       (long long)json_integer_value(v), WB_PROV_VERSION);
        stmt_pop(c, old);
        return rc;
    }
    if ((rc = stmt_field(c, root, "kind", REQUIRED, &v)) != 0)
        return rc;
    if (!json_is_string(v))
        return fail_at(c, "kind", "not a string");
    if (json_string_length(v) != strlen(kind) || strcmp(json_string_value(v), kind) != 0) {
        char shown[48];
        stmt_printable(shown, sizeof(shown), json_string_value(v), json_string_length(v));
        size_t old = stmt_push_key(c, "kind");
        rc = stmt_fail(c, "\"%s\" does not match the content type "
                          "(application/vnd.waybill.%s+json)", shown, kind);
        stmt_pop(c, old);
        return rc;
    }
    return 0;
}

int wb_prov_parse(wb_prov_payload *p, wb_kind kind, const uint8_t *json, size_t len)
{
    wb_stmt_ctx c;
    json_error_t jerr;
    json_t *root;
    int rc;

    memset(p, 0, sizeof(*p));
    if (kind <= WB_KIND_NONE || kind >= WB_KIND_COUNT)
        return wb_error_set(WB_E_INVALID, "payload: %d is not a statement kind", (int)kind);
    stmt_ctx_init(&c, kind);
    if (!json && len > 0)
        return stmt_fail(&c, "no payload");
    if (len > WB_STMT_PAYLOAD_MAX)
        return stmt_fail(&c, "payload of %zu bytes, over the %d-byte limit", len,
                         WB_STMT_PAYLOAD_MAX);
    if (!stmt_utf8_valid((const char *)json, len))
        return stmt_fail(&c, "payload is not UTF-8");
    root = json_loadb((const char *)(json ? json : (const uint8_t *)""), len,
                      JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        char shown[160];
        stmt_printable(shown, sizeof(shown), jerr.text, strlen(jerr.text));
        return stmt_fail(&c, "not valid JSON: %s (line %d, column %d)", shown, jerr.line,
                         jerr.column);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return stmt_fail(&c, "not a JSON object");
    }
    p->kind = kind;
    p->version = WB_PROV_VERSION;
    rc = parse_header(&c, root);
    if (rc == 0)
        rc = parse_body(&c, root, p);
    json_decref(root);
    if (rc)
        wb_prov_payload_cleanup(p);
    return rc;
}

/* ---- cleanup ---- */

static void free_strv(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_blobs(uint8_t **v, size_t *lens, size_t n)
{
    if (v)
        for (size_t i = 0; i < n; i++)
            free(v[i]);
    free(v);
    free(lens);
}

void wb_prov_payload_cleanup(wb_prov_payload *p)
{
    if (!p)
        return;
    switch (p->kind) {
    case WB_KIND_ISSUER:
        free_strv(p->u.issuer.manufacturers, p->u.issuer.nmanufacturers);
        free_strv(p->u.issuer.sites, p->u.issuer.nsites);
        free_blobs(p->u.issuer.keys, p->u.issuer.key_lens, p->u.issuer.nkeys);
        free_blobs(p->u.issuer.cas, p->u.issuer.ca_lens, p->u.issuer.ncas);
        break;
    case WB_KIND_MANIFEST:
        for (size_t i = 0; p->u.manifest.devices && i < p->u.manifest.ndevices; i++)
            for (size_t k = 0; k < WB_PROV_CHAIN_MAX; k++)
                free(p->u.manifest.devices[i].chain[k]);
        free(p->u.manifest.devices);
        break;
    case WB_KIND_ASSEMBLY:
        free(p->u.assembly.children);
        break;
    case WB_KIND_CUSTODY:
        free(p->u.custody.units);
        free_strv(p->u.custody.seals, p->u.custody.nseals);
        break;
    case WB_KIND_INTAKE:
        free_strv(p->u.intake.seals, p->u.intake.nseals);
        for (size_t i = 0; p->u.intake.units && i < p->u.intake.nunits; i++)
            free(p->u.intake.units[i].found);
        free(p->u.intake.units);
        break;
    case WB_KIND_ATTESTATION:
        free(p->u.attestation.seen);
        free(p->u.attestation.measurements);
        free_strv(p->u.attestation.reasons, p->u.attestation.nreasons);
        break;
    case WB_KIND_REVIEW:
        free(p->u.review.issues);
        free(p->u.review.original_format);
        free(p->u.review.original);
        break;
    case WB_KIND_FINDING:
        free(p->u.finding.evidence);
        break;
    default:
        break;
    }
    memset(p, 0, sizeof(*p));
}
