/*
 * stmt_encode.c: wb_prov_encode, the inverse of wb_prov_parse
 * (docs/statements.md): compact JSON, "version" and "kind" first, then the
 * fields of the kind in the order of waybill/prov.h, optional fields left
 * out when empty.
 *
 * What it writes is read back with wb_prov_parse before it is returned, so
 * the encoder never produces a payload that the parser (and therefore the
 * registration service) would refuse; a payload that breaks a rule fails
 * with the parser's message ("cannot encode: custody: to: the same place as
 * from"). For every p that encodes, parse(encode(p)) equals p and
 * encode(parse(encode(p))) equals encode(p) byte for byte.
 */
#include "stmt_int.h"

#include "waybill/error.h"
#include "waybill/util.h"

#include <stdlib.h>
#include <string.h>

/* 15 significant digits print every CVSS score (k/10) in its shortest form
 * ("9.8", not "9.8000000000000007") and read back to the same double */
#define WB_STMT_DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

static int nomem(void)
{
    return wb_error_set(WB_E_NOMEM, "out of memory");
}

static int fail_at(wb_stmt_ctx *c, const char *key, const char *msg)
{
    size_t old = stmt_push_key(c, key);
    int rc = stmt_fail(c, "%s", msg);
    stmt_pop(c, old);
    return rc;
}

/* sets obj[key] = v, taking v; v == NULL means a json_* constructor failed */
static int put(wb_stmt_ctx *c, json_t *obj, const char *key, json_t *v)
{
    if (!v)
        return fail_at(c, key, "cannot be encoded (not UTF-8, not finite, or out of memory)");
    if (json_object_set_new(obj, key, v) != 0)
        return nomem();
    return 0;
}

static int append(json_t *arr, json_t *v)
{
    if (!v || json_array_append_new(arr, v) != 0)
        return nomem();
    return 0;
}

/* a string from a fixed char[cap]; optional ones are left out when "" */
static json_t *str_value(wb_stmt_ctx *c, const char *s, size_t cap, int *rc)
{
    size_t n = strnlen(s, cap);
    json_t *v;
    if (n == cap) {
        *rc = stmt_fail(c, "not NUL-terminated");
        return NULL;
    }
    v = json_stringn(s, n);
    if (!v)
        *rc = stmt_fail(c, "not UTF-8");
    return v;
}

static int put_str(wb_stmt_ctx *c, json_t *obj, const char *key, const char *s,
                   size_t cap, int optional)
{
    int rc = 0;
    if (optional && s[0] == '\0')
        return 0;
    size_t old = stmt_push_key(c, key);
    json_t *v = str_value(c, s, cap, &rc);
    stmt_pop(c, old);
    if (!v)
        return rc;
    return put(c, obj, key, v);
}

static int put_enum(wb_stmt_ctx *c, json_t *obj, const char *key,
                    const char *const *names, size_t n, int value)
{
    if (value <= 0 || (size_t)value >= n)
        return fail_at(c, key, value == 0 ? "not set" : "not a valid value");
    return put(c, obj, key, json_string(names[value]));
}

static json_t *base64_value(const uint8_t *p, size_t n)
{
    size_t elen = wb_base64_encoded_len(n);
    char *s;
    json_t *v;
    if (elen == 0 && n > 0)
        return NULL;
    s = malloc(elen + 1);
    if (!s)
        return NULL;
    wb_base64_encode(s, p, n);
    v = json_stringn(s, elen);
    free(s);
    return v;
}

/* checks a list before it is walked: at most WB_PROV_LIST_MAX, not NULL */
static int check_list(wb_stmt_ctx *c, const char *key, const void *ptr, size_t n,
                      size_t max)
{
    size_t old;
    int rc = 0;
    if (n == 0)
        return 0;
    old = stmt_push_key(c, key);
    if (n > max)
        rc = stmt_fail(c, "%zu items, over the limit of %zu", n, max);
    else if (!ptr)
        rc = stmt_fail(c, "NULL with %zu items", n);
    stmt_pop(c, old);
    return rc;
}

/* a list of malloc'd strings; left out when empty */
/*
 * put_array: key is an array of n values made by elem (element i into
 * *out, or an error with the path at key[i]); on an error nothing is put
 * and *out, if set, is freed here
 */
typedef int (*elem_fn)(wb_stmt_ctx *c, const void *ctx, size_t i, json_t **out);

static int put_array(wb_stmt_ctx *c, json_t *obj, const char *key, size_t n, elem_fn elem,
                     const void *ctx)
{
    json_t *arr = json_array();
    int rc = 0;
    if (!arr)
        return nomem();
    size_t old = stmt_push_key(c, key);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        size_t o2 = stmt_push_index(c, i);
        json_t *v = NULL;
        rc = elem(c, ctx, i, &v);
        if (rc == 0)
            rc = append(arr, v);
        else
            json_decref(v);
        stmt_pop(c, o2);
    }
    stmt_pop(c, old);
    if (rc) {
        json_decref(arr);
        return rc;
    }
    return put(c, obj, key, arr);
}

/* a new object filled by fill, or NULL with the error in *rc */
static json_t *object_of(wb_stmt_ctx *c, int (*fill)(wb_stmt_ctx *, json_t *, const void *),
                         const void *item, int *rc)
{
    json_t *e = json_object();
    if (!e) {
        *rc = nomem();
        return NULL;
    }
    if ((*rc = fill(c, e, item)) != 0) {
        json_decref(e);
        return NULL;
    }
    return e;
}

typedef struct {
    char *const *v;
    size_t cap;
} strv_ctx;

static int strv_elem(wb_stmt_ctx *c, const void *vctx, size_t i, json_t **out)
{
    const strv_ctx *x = vctx;
    int rc = 0;
    if (!x->v[i])
        return stmt_fail(c, "NULL");
    *out = str_value(c, x->v[i], x->cap, &rc);
    return rc;
}

typedef struct {
    uint8_t *const *v;
    const size_t *lens;
} blobs_ctx;

static int blob_elem(wb_stmt_ctx *c, const void *vctx, size_t i, json_t **out)
{
    const blobs_ctx *x = vctx;
    if (!x->v[i] || x->lens[i] == 0)
        return stmt_fail(c, "empty");
    if (x->lens[i] > WB_PROV_CERT_MAX)
        return stmt_fail(c, "more than %d bytes", WB_PROV_CERT_MAX);
    *out = base64_value(x->v[i], x->lens[i]);
    return *out ? 0 : nomem();
}

typedef struct {
    const char *v;
    size_t stride;
} hexv_ctx;

static int hex_elem(wb_stmt_ctx *c, const void *vctx, size_t i, json_t **out)
{
    const hexv_ctx *x = vctx;
    int rc = 0;
    *out = str_value(c, x->v + i * x->stride, x->stride, &rc);
    return rc;
}

static int fill_slot(wb_stmt_ctx *c, json_t *e, const void *item)
{
    const wb_slot_entry *v = item;
    int rc = put_str(c, e, "slot", v->slot, sizeof(v->slot), 0);
    return rc ? rc : put_str(c, e, "id", v->id, sizeof(v->id), 0);
}

static int slot_elem(wb_stmt_ctx *c, const void *vctx, size_t i, json_t **out)
{
    int rc = 0;
    *out = object_of(c, fill_slot, (const wb_slot_entry *)vctx + i, &rc);
    return rc;
}

static int put_strv(wb_stmt_ctx *c, json_t *obj, const char *key, char *const *v,
                    size_t n, size_t cap)
{
    strv_ctx x = {v, cap};
    int rc;
    if (n == 0)
        return 0;
    if ((rc = check_list(c, key, v, n, WB_PROV_LIST_MAX)) != 0)
        return rc;
    return put_array(c, obj, key, n, strv_elem, &x);
}

/* a list of byte strings as base64; left out when empty */
static int put_blobs(wb_stmt_ctx *c, json_t *obj, const char *key, uint8_t *const *v,
                     const size_t *lens, size_t n)
{
    blobs_ctx x = {v, lens};
    int rc;
    if (n == 0)
        return 0;
    if ((rc = check_list(c, key, v, n, WB_PROV_LIST_MAX)) != 0 ||
        (rc = check_list(c, key, lens, n, WB_PROV_LIST_MAX)) != 0)
        return rc;
    return put_array(c, obj, key, n, blob_elem, &x);
}

/* a list of fixed-size hex strings (device ids, entry ids) */
static int put_hexv(wb_stmt_ctx *c, json_t *obj, const char *key, const char *v,
                    size_t stride, size_t n)
{
    hexv_ctx x = {v, stride};
    int rc;
    if (n == 0)
        return 0;
    if ((rc = check_list(c, key, v, n, WB_PROV_LIST_MAX)) != 0)
        return rc;
    return put_array(c, obj, key, n, hex_elem, &x);
}

/* a list of {"slot", "id"}; left out when empty unless required */
static int put_slots(wb_stmt_ctx *c, json_t *obj, const char *key,
                     const wb_slot_entry *v, size_t n, int required)
{
    int rc;
    if (n == 0 && !required)
        return 0;
    if ((rc = check_list(c, key, v, n, WB_PROV_LIST_MAX)) != 0)
        return rc;
    return put_array(c, obj, key, n, slot_elem, v);
}

/* ---- the kinds, fields in the order of prov.h ---- */

static int enc_issuer(wb_stmt_ctx *c, json_t *o, const wb_p_issuer *p)
{
    int rc;
    if ((rc = put_enum(c, o, "action", wb_stmt_action_names, 4, (int)p->action)) != 0 ||
        (rc = put_str(c, o, "name", p->name, sizeof(p->name), 0)) != 0)
        return rc;
    /* a retire carries only the name; a role set anyway is written, and
     * the read-back refuses it */
    if (p->action != WB_ISSUER_RETIRE || p->role != WB_ROLE_NONE)
        if ((rc = put_enum(c, o, "role", wb_stmt_role_names, WB_ROLE_COUNT,
                           (int)p->role)) != 0)
            return rc;
    if ((rc = put_strv(c, o, "manufacturers", p->manufacturers, p->nmanufacturers,
                       WB_PROV_NAME_MAX + 1)) != 0 ||
        (rc = put_strv(c, o, "sites", p->sites, p->nsites, WB_PROV_NAME_MAX + 1)) != 0 ||
        (rc = put_blobs(c, o, "keys", p->keys, p->key_lens, p->nkeys)) != 0)
        return rc;
    return put_blobs(c, o, "cas", p->cas, p->ca_lens, p->ncas);
}

static int enc_device(wb_stmt_ctx *c, json_t *o, const wb_p_device *d)
{
    int rc;
    if ((rc = put_str(c, o, "id", d->id, sizeof(d->id), 0)) != 0 ||
        (rc = put_enum(c, o, "class", wb_stmt_class_names, WB_CLASS_COUNT, (int)d->cls)) != 0 ||
        (rc = put_str(c, o, "model", d->model, sizeof(d->model), 0)) != 0 ||
        (rc = put_str(c, o, "serial", d->serial, sizeof(d->serial), 0)) != 0)
        return rc;
    if (d->nchain > WB_PROV_CHAIN_MAX)
        return fail_at(c, "chain", "more certificates than WB_PROV_CHAIN_MAX");
    {
        blobs_ctx x = {d->chain, d->chain_len};
        return put_array(c, o, "chain", d->nchain, blob_elem, &x);
    }
}

static int fill_device(wb_stmt_ctx *c, json_t *e, const void *item)
{
    return enc_device(c, e, item);
}

static int device_elem(wb_stmt_ctx *c, const void *vctx, size_t i, json_t **out)
{
    int rc = 0;
    *out = object_of(c, fill_device, (const wb_p_device *)vctx + i, &rc);
    return rc;
}

static int enc_manifest(wb_stmt_ctx *c, json_t *o, const wb_p_manifest *p)
{
    int rc;
    if ((rc = put_str(c, o, "manufacturer", p->manufacturer, sizeof(p->manufacturer), 0)) != 0 ||
        (rc = check_list(c, "devices", p->devices, p->ndevices, WB_PROV_LIST_MAX)) != 0)
        return rc;
    return put_array(c, o, "devices", p->ndevices, device_elem, p->devices);
}

static int enc_assembly(wb_stmt_ctx *c, json_t *o, const wb_p_assembly *p)
{
    int rc = put_str(c, o, "parent", p->parent, sizeof(p->parent), 0);
    return rc ? rc : put_slots(c, o, "children", p->children, p->nchildren, 1);
}

static int enc_replacement(wb_stmt_ctx *c, json_t *o, const wb_p_replacement *p)
{
    int rc;
    if ((rc = put_str(c, o, "parent", p->parent, sizeof(p->parent), 0)) != 0 ||
        (rc = put_str(c, o, "slot", p->slot, sizeof(p->slot), 0)) != 0 ||
        (rc = put_str(c, o, "old", p->old_id, sizeof(p->old_id), 0)) != 0 ||
        (rc = put_str(c, o, "new", p->new_id, sizeof(p->new_id), 0)) != 0)
        return rc;
    return put_str(c, o, "ticket", p->ticket, sizeof(p->ticket), 0);
}

static int enc_custody(wb_stmt_ctx *c, json_t *o, const wb_p_custody *p)
{
    int rc;
    if ((rc = put_enum(c, o, "event", wb_stmt_event_names, 3, (int)p->event)) != 0 ||
        (rc = put_str(c, o, "shipment", p->shipment, sizeof(p->shipment), 0)) != 0 ||
        (rc = put_str(c, o, "from", p->from, sizeof(p->from), 0)) != 0 ||
        (rc = put_str(c, o, "to", p->to, sizeof(p->to), 0)) != 0)
        return rc;
    if (p->nunits == 0) {
        json_t *empty = json_array();
        if ((rc = put(c, o, "units", empty)) != 0) /* the read-back says why */
            return rc;
    } else if ((rc = put_hexv(c, o, "units", (const char *)p->units, sizeof(wb_device_id),
                              p->nunits)) != 0) {
        return rc;
    }
    return put_strv(c, o, "seals", p->seals, p->nseals, WB_PROV_NAME_MAX + 1);
}

static int fill_unit(wb_stmt_ctx *c, json_t *e, const void *item)
{
    const wb_p_intake_unit *u = item;
    int rc = put_str(c, e, "id", u->id, sizeof(u->id), 0);
    return rc ? rc : put_slots(c, e, "found", u->found, u->nfound, 0);
}

static int unit_elem(wb_stmt_ctx *c, const void *vctx, size_t i, json_t **out)
{
    int rc = 0;
    *out = object_of(c, fill_unit, (const wb_p_intake_unit *)vctx + i, &rc);
    return rc;
}

static int enc_intake(wb_stmt_ctx *c, json_t *o, const wb_p_intake *p)
{
    int rc;
    if ((rc = put_str(c, o, "site", p->site, sizeof(p->site), 0)) != 0 ||
        (rc = put_str(c, o, "shipment", p->shipment, sizeof(p->shipment), 0)) != 0 ||
        (rc = put_strv(c, o, "seals", p->seals, p->nseals, WB_PROV_NAME_MAX + 1)) != 0 ||
        (rc = check_list(c, "units", p->units, p->nunits, WB_PROV_LIST_MAX)) != 0)
        return rc;
    if ((rc = put_array(c, o, "units", p->nunits, unit_elem, p->units)) != 0)
        return rc;
    return put_enum(c, o, "verdict", wb_stmt_verdict_names, 3, (int)p->verdict);
}

static int fill_measurement(wb_stmt_ctx *c, json_t *e, const void *item)
{
    const wb_measurement *m = item;
    int rc = put_str(c, e, "component", m->component, sizeof(m->component), 0);
    return rc ? rc : put_str(c, e, "digest", m->digest, sizeof(m->digest), 0);
}

static int measurement_elem(wb_stmt_ctx *c, const void *vctx, size_t i, json_t **out)
{
    int rc = 0;
    *out = object_of(c, fill_measurement, (const wb_measurement *)vctx + i, &rc);
    return rc;
}

static int enc_attestation(wb_stmt_ctx *c, json_t *o, const wb_p_attestation *p)
{
    int rc;
    if ((rc = put_str(c, o, "site", p->site, sizeof(p->site), 0)) != 0 ||
        (rc = put_str(c, o, "target", p->target, sizeof(p->target), 0)) != 0 ||
        (rc = put_enum(c, o, "phase", wb_stmt_phase_names, 4, (int)p->phase)) != 0 ||
        (rc = put_str(c, o, "nonce", p->nonce, sizeof(p->nonce), 0)) != 0 ||
        (rc = put_str(c, o, "evidence_digest", p->evidence_digest,
                      sizeof(p->evidence_digest), 0)) != 0 ||
        (rc = put_slots(c, o, "seen", p->seen, p->nseen, 0)) != 0 ||
        (rc = check_list(c, "measurements", p->measurements, p->nmeasurements,
                         WB_PROV_LIST_MAX)) != 0)
        return rc;
    if (p->nmeasurements > 0 &&
        (rc = put_array(c, o, "measurements", p->nmeasurements, measurement_elem,
                        p->measurements)) != 0)
        return rc;
    if ((rc = put_enum(c, o, "verdict", wb_stmt_verdict_names, 3, (int)p->verdict)) != 0)
        return rc;
    if (p->failed_check != WB_CHECK_NONE &&
        (rc = put_enum(c, o, "failed_check", wb_stmt_check_names, WB_CHECK_COUNT,
                       (int)p->failed_check)) != 0)
        return rc;
    return put_strv(c, o, "reasons", p->reasons, p->nreasons, WB_PROV_TEXT_MAX + 1);
}

static int enc_firmware(wb_stmt_ctx *c, json_t *o, const wb_p_firmware *p)
{
    int rc;
    if ((rc = put_enum(c, o, "class", wb_stmt_class_names, WB_CLASS_COUNT, (int)p->cls)) != 0 ||
        (rc = put_str(c, o, "vendor", p->vendor, sizeof(p->vendor), 0)) != 0 ||
        (rc = put_str(c, o, "fw_version", p->fw_version, sizeof(p->fw_version), 0)) != 0 ||
        (rc = put_str(c, o, "digest", p->digest, sizeof(p->digest), 0)) != 0)
        return rc;
    return put(c, o, "svn", json_integer((json_int_t)p->svn));
}

static int fill_issue(wb_stmt_ctx *c, json_t *e, const void *item)
{
    const wb_review_issue *is = item;
    int rc = put_str(c, e, "title", is->title, sizeof(is->title), 0);
    if (rc == 0) /* -0.0 is written 0.0, as the parser reads it */
        rc = put(c, e, "cvss", json_real(is->cvss == 0.0 ? 0.0 : is->cvss));
    return rc ? rc : put_str(c, e, "cve", is->cve, sizeof(is->cve), 1);
}

static int issue_elem(wb_stmt_ctx *c, const void *vctx, size_t i, json_t **out)
{
    int rc = 0;
    *out = object_of(c, fill_issue, (const wb_review_issue *)vctx + i, &rc);
    return rc;
}

static int enc_review(wb_stmt_ctx *c, json_t *o, const wb_p_review *p)
{
    int rc;
    if ((rc = put_str(c, o, "firmware_digest", p->firmware_digest,
                      sizeof(p->firmware_digest), 1)) != 0 ||
        (rc = put_str(c, o, "reviewer", p->reviewer, sizeof(p->reviewer), 0)) != 0 ||
        (rc = put_str(c, o, "framework", p->framework, sizeof(p->framework), 0)) != 0 ||
        (rc = check_list(c, "issues", p->issues, p->nissues, WB_PROV_LIST_MAX)) != 0)
        return rc;
    if (p->nissues > 0 &&
        (rc = put_array(c, o, "issues", p->nissues, issue_elem, p->issues)) != 0)
        return rc;
    if (!p->original_format && !p->original && p->original_len == 0)
        return 0;
    if (!p->original_format)
        return fail_at(c, "original.format", "NULL while original bytes are set");
    if (!p->original || p->original_len == 0)
        return fail_at(c, "original.bytes", "empty");
    json_t *orig = json_object();
    if (!orig)
        return nomem();
    size_t old = stmt_push_key(c, "original");
    rc = put(c, orig, "format", json_string(p->original_format));
    if (rc == 0)
        rc = put(c, orig, "bytes", base64_value(p->original, p->original_len));
    stmt_pop(c, old);
    if (rc) {
        json_decref(orig);
        return rc;
    }
    return put(c, o, "original", orig);
}

static int enc_finding(wb_stmt_ctx *c, json_t *o, const wb_p_finding *p)
{
    int rc;
    if ((rc = put_str(c, o, "finding_id", p->finding_id, sizeof(p->finding_id), 0)) != 0 ||
        (rc = put_str(c, o, "rule", p->rule, sizeof(p->rule), 0)) != 0 ||
        (rc = put_enum(c, o, "tag", wb_stmt_tag_names, 4, (int)p->tag)) != 0 ||
        (rc = put_str(c, o, "device", p->device, sizeof(p->device), 1)) != 0 ||
        (rc = put_str(c, o, "site", p->site, sizeof(p->site), 1)) != 0 ||
        (rc = put_str(c, o, "reason", p->reason, sizeof(p->reason), 0)) != 0)
        return rc;
    return put_hexv(c, o, "evidence", (const char *)p->evidence, sizeof(*p->evidence),
                    p->nevidence);
}

static int enc_resolution(wb_stmt_ctx *c, json_t *o, const wb_p_resolution *p)
{
    int rc;
    if ((rc = put_str(c, o, "finding_id", p->finding_id, sizeof(p->finding_id), 0)) != 0 ||
        (rc = put_str(c, o, "action", p->action, sizeof(p->action), 0)) != 0)
        return rc;
    return put_str(c, o, "note", p->note, sizeof(p->note), 1);
}

static int enc_revocation(wb_stmt_ctx *c, json_t *o, const wb_p_revocation *p)
{
    int rc;
    if ((rc = put_enum(c, o, "target_kind", wb_stmt_revoke_names, 5,
                       (int)p->target_kind)) != 0 ||
        (rc = put_str(c, o, "target", p->target, sizeof(p->target), 0)) != 0)
        return rc;
    return put_str(c, o, "reason", p->reason, sizeof(p->reason), 0);
}

static int enc_decommission(wb_stmt_ctx *c, json_t *o, const wb_p_decommission *p)
{
    int rc;
    if ((rc = put_str(c, o, "device", p->device, sizeof(p->device), 0)) != 0 ||
        (rc = put_str(c, o, "site", p->site, sizeof(p->site), 0)) != 0)
        return rc;
    return put_str(c, o, "reason", p->reason, sizeof(p->reason), 1);
}

static int enc_body(wb_stmt_ctx *c, json_t *o, const wb_prov_payload *p)
{
    switch (p->kind) {
    case WB_KIND_ISSUER: return enc_issuer(c, o, &p->u.issuer);
    case WB_KIND_MANIFEST: return enc_manifest(c, o, &p->u.manifest);
    case WB_KIND_ASSEMBLY: return enc_assembly(c, o, &p->u.assembly);
    case WB_KIND_REPLACEMENT: return enc_replacement(c, o, &p->u.replacement);
    case WB_KIND_CUSTODY: return enc_custody(c, o, &p->u.custody);
    case WB_KIND_INTAKE: return enc_intake(c, o, &p->u.intake);
    case WB_KIND_ATTESTATION: return enc_attestation(c, o, &p->u.attestation);
    case WB_KIND_FIRMWARE: return enc_firmware(c, o, &p->u.firmware);
    case WB_KIND_REVIEW: return enc_review(c, o, &p->u.review);
    case WB_KIND_FINDING: return enc_finding(c, o, &p->u.finding);
    case WB_KIND_RESOLUTION: return enc_resolution(c, o, &p->u.resolution);
    case WB_KIND_REVOCATION: return enc_revocation(c, o, &p->u.revocation);
    case WB_KIND_DECOMMISSION: return enc_decommission(c, o, &p->u.decommission);
    default: return stmt_fail(c, "unknown kind");
    }
}

static int dump_cb(const char *s, size_t n, void *data)
{
    return wb_buf_add(data, s, n) == 0 ? 0 : -1;
}

int wb_prov_encode(char **out, size_t *len, const wb_prov_payload *p)
{
    wb_stmt_ctx c;
    wb_prov_payload back;
    json_t *root;
    wb_buf b;
    uint8_t *bytes = NULL;
    size_t n = 0;
    int rc;

    *out = NULL;
    *len = 0;
    if (p->kind <= WB_KIND_NONE || p->kind >= WB_KIND_COUNT)
        return wb_error_set(WB_E_INVALID, "cannot encode: %d is not a statement kind",
                            (int)p->kind);
    stmt_ctx_init(&c, p->kind);
    if (p->version != 0 && p->version != WB_PROV_VERSION)
        return wb_error_prefix(fail_at(&c, "version", "only version 1 can be written"),
                               "cannot encode");
    if (!(root = json_object()))
        return nomem();
    rc = put(&c, root, "version", json_integer(WB_PROV_VERSION));
    if (rc == 0)
        rc = put(&c, root, "kind", json_string(wb_stmt_kind_names[p->kind]));
    if (rc == 0)
        rc = enc_body(&c, root, p);
    if (rc) {
        json_decref(root);
        return rc == WB_E_NOMEM ? rc : wb_error_prefix(rc, "cannot encode");
    }

    wb_buf_init(&b, WB_STMT_PAYLOAD_MAX);
    rc = json_dump_callback(root, dump_cb, &b, WB_STMT_DUMP_FLAGS);
    json_decref(root);
    if (rc != 0) {
        int over = b.err == WB_E_LIMIT;
        wb_buf_cleanup(&b);
        if (over)
            return wb_error_prefix(stmt_fail(&c, "encoded payload over the %d-byte limit",
                                             WB_STMT_PAYLOAD_MAX),
                                   "cannot encode");
        return nomem();
    }
    if ((rc = wb_buf_finish(&b, &bytes, &n)) != 0)
        return rc;

    /* read it back: what the parser refuses is never handed out */
    rc = wb_prov_parse(&back, p->kind, bytes, n);
    wb_prov_payload_cleanup(&back);
    if (rc) {
        free(bytes);
        return rc == WB_E_NOMEM ? rc : wb_error_prefix(rc, "cannot encode");
    }
    *out = (char *)bytes;
    *len = n;
    return 0;
}
