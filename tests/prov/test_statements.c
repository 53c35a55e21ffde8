/*
 * test_statements.c: the provenance statement payloads (docs/statements.md,
 * src/lib/prov/statements.c): every JSON example of the documentation
 * parses, is in the encoder's field order and (for manifests) names its
 * devices by the hash of their certificates; every rule refuses what it
 * should, with WB_E_INVALID and the field's path in the message; random
 * payloads of every kind survive encode -> parse -> encode unchanged; the
 * device id of real P-384, RSA and rsaesOaep (TPM 1.2) certificates.
 *
 * The refusals are mutations of the documentation's examples, so the
 * examples stay complete and the rules stay tested against realistic data.
 */
#include "wbtest.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/prov.h"
#include "waybill/util.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

/* ------------------------------------------------------------------ */
/* the documentation's examples                                        */

typedef struct {
    wb_kind kind;
    char *json;
} doc_example;

static doc_example g_ex[64];
static size_t g_nex;

static int load_docs(void **state)
{
    (void)state;
    const char *src = getenv("WB_SRC");
    char path[4096];
    size_t len;
    char *md, *p;

    assert_non_null(src);
    snprintf(path, sizeof(path), "%s/docs/statements.md", src);
    md = wbt_read_file(path, &len);
    p = md;
    while ((p = strstr(p, "```json\n")) != NULL) {
        char *start = p + 8, *end = strstr(start, "\n```");
        json_error_t err;
        json_t *root;
        assert_non_null(end);
        assert_true(g_nex < sizeof(g_ex) / sizeof(g_ex[0]));
        g_ex[g_nex].json = strndup(start, (size_t)(end - start));
        root = json_loads(g_ex[g_nex].json, 0, &err);
        if (!root)
            fail_msg("docs/statements.md block %zu: %s", g_nex, err.text);
        g_ex[g_nex].kind = wb_kind_from_name(json_string_value(json_object_get(root, "kind")));
        if (g_ex[g_nex].kind == WB_KIND_NONE)
            fail_msg("docs/statements.md block %zu has no valid kind", g_nex);
        json_decref(root);
        g_nex++;
        p = end;
    }
    free(md);
    return 0;
}

static int free_docs(void **state)
{
    (void)state;
    for (size_t i = 0; i < g_nex; i++)
        free(g_ex[i].json);
    g_nex = 0;
    return 0;
}

/* the n-th example of a kind */
static const char *example(wb_kind kind, int n)
{
    for (size_t i = 0; i < g_nex; i++)
        if (g_ex[i].kind == kind && n-- == 0)
            return g_ex[i].json;
    fail_msg("docs/statements.md has no example %d of kind %s", n, wb_kind_name(kind));
    return NULL;
}

static int parse_str(wb_prov_payload *p, wb_kind kind, const char *s)
{
    return wb_prov_parse(p, kind, (const uint8_t *)s, strlen(s));
}

/* ------------------------------------------------------------------ */
/* payload equality, field by field                                    */

#define EQ_STR(f)                                                                    \
    do {                                                                             \
        if (strcmp(a->f, b->f) != 0) {                                               \
            print_error("differs: %s\n", #f);                                        \
            return 0;                                                                \
        }                                                                            \
    } while (0)
#define EQ_NUM(f)                                                                    \
    do {                                                                             \
        if (a->f != b->f) {                                                          \
            print_error("differs: %s\n", #f);                                        \
            return 0;                                                                \
        }                                                                            \
    } while (0)

static int eq_strv(char **a, size_t na, char **b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return 0;
    return 1;
}

static int eq_blobs(uint8_t **a, const size_t *al, size_t na, uint8_t **b,
                    const size_t *bl, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (al[i] != bl[i] || memcmp(a[i], b[i], al[i]) != 0)
            return 0;
    return 1;
}

static int eq_slots(const wb_slot_entry *a, size_t na, const wb_slot_entry *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i].slot, b[i].slot) != 0 || strcmp(a[i].id, b[i].id) != 0)
            return 0;
    return 1;
}

static int eq_issuer(const wb_p_issuer *a, const wb_p_issuer *b)
{
    EQ_NUM(action);
    EQ_STR(name);
    EQ_NUM(role);
    return eq_strv(a->manufacturers, a->nmanufacturers, b->manufacturers,
                   b->nmanufacturers) &&
           eq_strv(a->sites, a->nsites, b->sites, b->nsites) &&
           eq_blobs(a->keys, a->key_lens, a->nkeys, b->keys, b->key_lens, b->nkeys) &&
           eq_blobs(a->cas, a->ca_lens, a->ncas, b->cas, b->ca_lens, b->ncas);
}

static int eq_manifest(const wb_p_manifest *a, const wb_p_manifest *b)
{
    EQ_STR(manufacturer);
    EQ_NUM(ndevices);
    for (size_t i = 0; i < a->ndevices; i++) {
        const wb_p_device *x = &a->devices[i], *y = &b->devices[i];
        if (strcmp(x->id, y->id) || x->cls != y->cls || strcmp(x->model, y->model) ||
            strcmp(x->serial, y->serial) ||
            !eq_blobs((uint8_t **)x->chain, x->chain_len, x->nchain, (uint8_t **)y->chain,
                      y->chain_len, y->nchain))
            return 0;
    }
    return 1;
}

static int eq_payload(const wb_prov_payload *pa, const wb_prov_payload *pb)
{
    if (pa->kind != pb->kind || pa->version != pb->version)
        return 0;
    switch (pa->kind) {
    case WB_KIND_ISSUER: return eq_issuer(&pa->u.issuer, &pb->u.issuer);
    case WB_KIND_MANIFEST: return eq_manifest(&pa->u.manifest, &pb->u.manifest);
    case WB_KIND_ASSEMBLY: {
        const wb_p_assembly *a = &pa->u.assembly, *b = &pb->u.assembly;
        EQ_STR(parent);
        return eq_slots(a->children, a->nchildren, b->children, b->nchildren);
    }
    case WB_KIND_REPLACEMENT: {
        const wb_p_replacement *a = &pa->u.replacement, *b = &pb->u.replacement;
        EQ_STR(parent);
        EQ_STR(slot);
        EQ_STR(old_id);
        EQ_STR(new_id);
        EQ_STR(ticket);
        return 1;
    }
    case WB_KIND_CUSTODY: {
        const wb_p_custody *a = &pa->u.custody, *b = &pb->u.custody;
        EQ_NUM(event);
        EQ_STR(shipment);
        EQ_STR(from);
        EQ_STR(to);
        EQ_NUM(nunits);
        for (size_t i = 0; i < a->nunits; i++)
            if (strcmp(a->units[i], b->units[i]) != 0)
                return 0;
        return eq_strv(a->seals, a->nseals, b->seals, b->nseals);
    }
    case WB_KIND_INTAKE: {
        const wb_p_intake *a = &pa->u.intake, *b = &pb->u.intake;
        EQ_STR(site);
        EQ_STR(shipment);
        EQ_NUM(verdict);
        EQ_NUM(nunits);
        for (size_t i = 0; i < a->nunits; i++)
            if (strcmp(a->units[i].id, b->units[i].id) != 0 ||
                !eq_slots(a->units[i].found, a->units[i].nfound, b->units[i].found,
                          b->units[i].nfound))
                return 0;
        return eq_strv(a->seals, a->nseals, b->seals, b->nseals);
    }
    case WB_KIND_ATTESTATION: {
        const wb_p_attestation *a = &pa->u.attestation, *b = &pb->u.attestation;
        EQ_STR(site);
        EQ_STR(target);
        EQ_NUM(phase);
        EQ_STR(nonce);
        EQ_STR(evidence_digest);
        EQ_NUM(verdict);
        EQ_NUM(nmeasurements);
        for (size_t i = 0; i < a->nmeasurements; i++)
            if (strcmp(a->measurements[i].component, b->measurements[i].component) != 0 ||
                strcmp(a->measurements[i].digest, b->measurements[i].digest) != 0)
                return 0;
        return eq_slots(a->seen, a->nseen, b->seen, b->nseen) &&
               eq_strv(a->reasons, a->nreasons, b->reasons, b->nreasons);
    }
    case WB_KIND_FIRMWARE: {
        const wb_p_firmware *a = &pa->u.firmware, *b = &pb->u.firmware;
        EQ_NUM(cls);
        EQ_STR(vendor);
        EQ_STR(fw_version);
        EQ_STR(digest);
        EQ_NUM(svn);
        return 1;
    }
    case WB_KIND_REVIEW: {
        const wb_p_review *a = &pa->u.review, *b = &pb->u.review;
        EQ_STR(firmware_digest);
        EQ_STR(reviewer);
        EQ_STR(framework);
        EQ_NUM(nissues);
        for (size_t i = 0; i < a->nissues; i++)
            if (strcmp(a->issues[i].title, b->issues[i].title) != 0 ||
                a->issues[i].cvss != b->issues[i].cvss ||
                strcmp(a->issues[i].cve, b->issues[i].cve) != 0)
                return 0;
        if (!a->original_format != !b->original_format ||
            (a->original_format && strcmp(a->original_format, b->original_format) != 0))
            return 0;
        EQ_NUM(original_len);
        return a->original_len == 0 || memcmp(a->original, b->original, a->original_len) == 0;
    }
    case WB_KIND_FINDING: {
        const wb_p_finding *a = &pa->u.finding, *b = &pb->u.finding;
        EQ_STR(finding_id);
        EQ_STR(rule);
        EQ_NUM(tag);
        EQ_STR(device);
        EQ_STR(site);
        EQ_STR(reason);
        EQ_NUM(nevidence);
        for (size_t i = 0; i < a->nevidence; i++)
            if (strcmp(a->evidence[i], b->evidence[i]) != 0)
                return 0;
        return 1;
    }
    case WB_KIND_RESOLUTION: {
        const wb_p_resolution *a = &pa->u.resolution, *b = &pb->u.resolution;
        EQ_STR(finding_id);
        EQ_STR(action);
        EQ_STR(note);
        return 1;
    }
    case WB_KIND_REVOCATION: {
        const wb_p_revocation *a = &pa->u.revocation, *b = &pb->u.revocation;
        EQ_NUM(target_kind);
        EQ_STR(target);
        EQ_STR(reason);
        return 1;
    }
    case WB_KIND_DECOMMISSION: {
        const wb_p_decommission *a = &pa->u.decommission, *b = &pb->u.decommission;
        EQ_STR(device);
        EQ_STR(site);
        EQ_STR(reason);
        return 1;
    }
    default: return 0;
    }
}

/* encode p, parse it back, compare; encode again, compare bytes */
static void check_round_trip(const wb_prov_payload *p)
{
    char *e1 = NULL, *e2 = NULL;
    size_t n1 = 0, n2 = 0;
    wb_prov_payload back;
    int rc = wb_prov_encode(&e1, &n1, p);
    if (rc)
        fail_msg("encode %s: %s", wb_kind_name(p->kind), wb_error_message());
    assert_int_equal(strlen(e1), n1);
    rc = wb_prov_parse(&back, p->kind, (const uint8_t *)e1, n1);
    if (rc)
        fail_msg("parse of encoded %s: %s\n%s", wb_kind_name(p->kind), wb_error_message(), e1);
    if (!eq_payload(p, &back))
        fail_msg("%s: parse(encode(p)) != p\n%s", wb_kind_name(p->kind), e1);
    assert_int_equal(wb_prov_encode(&e2, &n2, &back), 0);
    assert_int_equal(n1, n2);
    assert_memory_equal(e1, e2, n1);
    /* fixed order: version, then kind, first */
    assert_true(strncmp(e1, "{\"version\":1,\"kind\":\"", 21) == 0);
    wb_prov_payload_cleanup(&back);
    free(e1);
    free(e2);
}

/* ------------------------------------------------------------------ */
/* names                                                               */

static void test_names(void **state)
{
    (void)state;
    static const char *const kinds[] = {"issuer",      "manifest", "assembly", "replacement",
                                        "custody",     "intake",   "attestation",
                                        "firmware",    "review",   "finding",
                                        "resolution",  "revocation", "decommission"};
    static const char *const roles[] = {"supplier",   "integrator",      "logistics",
                                        "datacenter", "firmware-vendor", "reviewer",
                                        "auditor"};
    static const char *const classes[] = {"rot", "tpm", "caliptra", "bmc", "motherboard",
                                          "nic", "ssd", "gpu",      "blade", "rack"};
    char cty[128];

    for (int k = WB_KIND_ISSUER; k < WB_KIND_COUNT; k++) {
        assert_string_equal(wb_kind_name((wb_kind)k), kinds[k - 1]);
        assert_int_equal(wb_kind_from_name(kinds[k - 1]), k);
        snprintf(cty, sizeof(cty), "application/vnd.waybill.%s+json", kinds[k - 1]);
        assert_int_equal(wb_kind_from_content_type(cty), k);
    }
    assert_int_equal(wb_kind_from_content_type("Application/VND.waybill.Manifest+JSON"),
                     WB_KIND_MANIFEST);
    assert_int_equal(wb_kind_from_content_type("application/vnd.waybill.manifest+json; x=1"),
                     WB_KIND_NONE);
    assert_int_equal(wb_kind_from_content_type("application/vnd.waybill.none+json"),
                     WB_KIND_NONE);
    assert_int_equal(wb_kind_from_content_type("application/vnd.waybill.+json"), WB_KIND_NONE);
    assert_int_equal(wb_kind_from_content_type("application/json"), WB_KIND_NONE);
    assert_int_equal(wb_kind_from_content_type(NULL), WB_KIND_NONE);
    assert_int_equal(wb_kind_from_name("none"), WB_KIND_NONE);
    assert_int_equal(wb_kind_from_name("Manifest"), WB_KIND_NONE);
    assert_int_equal(wb_kind_from_name(NULL), WB_KIND_NONE);
    assert_string_equal(wb_kind_name(WB_KIND_NONE), "unknown");
    assert_string_equal(wb_kind_name(WB_KIND_COUNT), "unknown");

    for (int r = WB_ROLE_SUPPLIER; r < WB_ROLE_COUNT; r++) {
        assert_string_equal(wb_role_name((wb_role)r), roles[r - 1]);
        assert_int_equal(wb_role_from_name(roles[r - 1]), r);
    }
    assert_int_equal(wb_role_from_name("admin"), WB_ROLE_NONE);
    assert_string_equal(wb_role_name(WB_ROLE_NONE), "unknown");
    for (int c = WB_CLASS_ROT; c < WB_CLASS_COUNT; c++) {
        assert_string_equal(wb_class_name((wb_device_class)c), classes[c - 1]);
        assert_int_equal(wb_class_from_name(classes[c - 1]), c);
    }
    assert_int_equal(wb_class_from_name("fpga"), WB_CLASS_NONE);
    assert_string_equal(wb_class_name(WB_CLASS_COUNT), "unknown");
    assert_string_equal(wb_tag_name(WB_TAG_EVICT), "evict");
    assert_string_equal(wb_tag_name(WB_TAG_INVESTIGATE), "investigate");
    assert_string_equal(wb_tag_name(WB_TAG_REMEDIATE), "remediate");
    assert_string_equal(wb_tag_name((wb_tag)0), "unknown");
}

/* ------------------------------------------------------------------ */
/* the documentation                                                   */

static void test_docs_examples(void **state)
{
    (void)state;
    int seen[WB_KIND_COUNT] = {0};

    assert_true(g_nex >= WB_KIND_COUNT - 1);
    for (size_t i = 0; i < g_nex; i++) {
        wb_prov_payload p;
        json_t *root;
        char *canon, *enc;
        size_t n;
        if (parse_str(&p, g_ex[i].kind, g_ex[i].json) != 0)
            fail_msg("docs/statements.md example %zu (%s): %s", i,
                     wb_kind_name(g_ex[i].kind), wb_error_message());
        seen[g_ex[i].kind]++;

        /* the example lists its fields in the encoder's order */
        root = json_loads(g_ex[i].json, 0, NULL);
        assert_non_null(root);
        canon = json_dumps(root, DUMP_FLAGS);
        assert_int_equal(wb_prov_encode(&enc, &n, &p), 0);
        if (strcmp(canon, enc) != 0)
            fail_msg("docs/statements.md example %zu (%s) is not in encoder order:\n%s\n%s",
                     i, wb_kind_name(g_ex[i].kind), canon, enc);
        free(canon);
        free(enc);
        json_decref(root);

        /* a manifest names each device by the hash of its leaf's key */
        if (p.kind == WB_KIND_MANIFEST) {
            for (size_t d = 0; d < p.u.manifest.ndevices; d++) {
                wb_device_id id;
                const wb_p_device *dev = &p.u.manifest.devices[d];
                assert_int_equal(wb_device_id_of_cert(id, dev->chain[0], dev->chain_len[0]), 0);
                assert_string_equal(id, dev->id);
                for (size_t c = 1; c < dev->nchain; c++)
                    assert_int_equal(wb_device_id_of_cert(id, dev->chain[c], dev->chain_len[c]), 0);
            }
        }
        check_round_trip(&p);
        wb_prov_payload_cleanup(&p);
    }
    for (int k = WB_KIND_ISSUER; k < WB_KIND_COUNT; k++)
        if (seen[k] == 0)
            fail_msg("docs/statements.md has no example of kind %s", wb_kind_name((wb_kind)k));
}

/* ------------------------------------------------------------------ */
/* refusals: mutations of the documentation's examples                 */

typedef enum { OP_END = 0, OP_SET, OP_DEL, OP_DUP } mut_op;

typedef struct {
    mut_op op;
    const char *path;  /* "devices[0].chain[0]" */
    const char *value; /* JSON text for OP_SET; "@path" copies another value */
} mut_step;

typedef struct {
    wb_kind kind;
    int example;       /* which example of that kind */
    mut_step steps[3];
    const char *expect; /* substring of the message after "<kind>: " */
} mutation;

/* walks to the container of the last step of path; *key or *idx says which */
static json_t *walk(json_t *root, const char *path, char *key, size_t keycap, size_t *idx,
                    int *is_idx)
{
    json_t *cur = root, *parent = NULL;
    const char *p = path;
    *is_idx = 0;
    while (*p) {
        parent = cur;
        if (*p == '[') {
            char *end;
            *idx = strtoul(p + 1, &end, 10);
            assert_true(*end == ']');
            *is_idx = 1;
            cur = json_array_get(parent, *idx);
            p = end + 1;
        } else {
            size_t n = strcspn(p, ".[");
            assert_true(n < keycap);
            memcpy(key, p, n);
            key[n] = '\0';
            *is_idx = 0;
            cur = json_object_get(parent, key);
            p += n;
        }
        if (*p == '.')
            p++;
        if (*p && !cur)
            fail_msg("mutation path %s does not exist", path);
    }
    return parent;
}

static json_t *get_path(json_t *root, const char *path)
{
    char key[64];
    size_t idx;
    int is_idx;
    json_t *parent = walk(root, path, key, sizeof(key), &idx, &is_idx);
    return is_idx ? json_array_get(parent, idx) : json_object_get(parent, key);
}

static char *mutate(const char *json, const mut_step *steps)
{
    json_t *root = json_loads(json, 0, NULL);
    char *out;
    assert_non_null(root);
    for (size_t s = 0; s < 3 && steps[s].op != OP_END; s++) {
        char key[64];
        size_t idx;
        int is_idx;
        json_t *parent = walk(root, steps[s].path, key, sizeof(key), &idx, &is_idx), *v;
        assert_non_null(parent);
        switch (steps[s].op) {
        case OP_SET:
            if (steps[s].value[0] == '@') {
                v = json_deep_copy(get_path(root, steps[s].value + 1));
            } else {
                json_error_t err;
                v = json_loads(steps[s].value, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
                if (!v)
                    fail_msg("bad mutation value %s: %s", steps[s].value, err.text);
            }
            assert_non_null(v);
            if (is_idx)
                assert_int_equal(json_array_set_new(parent, idx, v), 0);
            else
                assert_int_equal(json_object_set_new(parent, key, v), 0);
            break;
        case OP_DEL:
            if (is_idx)
                assert_int_equal(json_array_remove(parent, idx), 0);
            else
                assert_int_equal(json_object_del(parent, key), 0);
            break;
        case OP_DUP:
            assert_true(is_idx);
            assert_int_equal(json_array_append_new(parent,
                                                   json_deep_copy(json_array_get(parent, idx))),
                             0);
            break;
        default: break;
        }
    }
    out = json_dumps(root, DUMP_FLAGS | JSON_ENCODE_ANY);
    json_decref(root);
    assert_non_null(out);
    return out;
}

static void expect_refused(wb_kind kind, const char *json, size_t len, const char *expect)
{
    wb_prov_payload p;
    char prefix[64];
    int rc;
    memset(&p, 0x5a, sizeof(p)); /* the parser must not rely on a clean p */
    rc = wb_prov_parse(&p, kind, (const uint8_t *)json, len);
    if (rc != WB_E_INVALID)
        fail_msg("%s payload accepted or wrong error %d (%s), wanted \"%s\":\n%.400s",
                 wb_kind_name(kind), rc, wb_error_message(), expect, json);
    snprintf(prefix, sizeof(prefix), "%s: ", wb_kind_name(kind));
    if (strncmp(wb_error_message(), prefix, strlen(prefix)) != 0 ||
        !strstr(wb_error_message(), expect))
        fail_msg("message \"%s\" does not contain \"%s\"", wb_error_message(), expect);
    /* on failure p is empty */
    assert_int_equal(p.kind, WB_KIND_NONE);
    assert_null(p.u.manifest.devices);
    wb_prov_payload_cleanup(&p);
}

#define H64A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define H63 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define H64UP "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define H96 H64A "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static const mutation mutations[] = {
    /* every payload */
    {WB_KIND_MANIFEST, 0, {{OP_DEL, "version", 0}}, "version: missing"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "version", "2"}}, "version: version 2 is not supported"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "version", "1.0"}}, "version: not an integer"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "version", "\"1\""}}, "version: not an integer"},
    {WB_KIND_MANIFEST, 0, {{OP_DEL, "kind", 0}}, "kind: missing"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "kind", "\"assembly\""}},
     "kind: \"assembly\" does not match the content type"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "kind", "7"}}, "kind: not a string"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "colour", "\"red\""}}, "colour: unknown field"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices[0].colour", "\"red\""}},
     "devices[0].colour: unknown field"},
    {WB_KIND_INTAKE, 0, {{OP_SET, "units[0].found[1].colour", "1"}},
     "units[0].found[1].colour: unknown field"},
    {WB_KIND_REVIEW, 0, {{OP_SET, "original.signature", "\"x\""}},
     "original.signature: unknown field"},
    {WB_KIND_REVIEW, 0, {{OP_SET, "issues[1].cwe", "\"CWE-119\""}},
     "issues[1].cwe: unknown field"},
    {WB_KIND_ATTESTATION, 0, {{OP_SET, "measurements[0].alg", "\"sha384\""}},
     "measurements[0].alg: unknown field"},

    /* issuer */
    {WB_KIND_ISSUER, 0, {{OP_SET, "action", "\"delete\""}}, "action: unknown value \"delete\""},
    {WB_KIND_ISSUER, 0, {{OP_DEL, "action", 0}}, "action: missing"},
    {WB_KIND_ISSUER, 0, {{OP_DEL, "name", 0}}, "name: missing"},
    {WB_KIND_ISSUER, 0, {{OP_DEL, "role", 0}}, "role: missing"},
    {WB_KIND_ISSUER, 0, {{OP_SET, "role", "\"admin\""}}, "role: unknown value \"admin\""},
    {WB_KIND_ISSUER, 0, {{OP_SET, "role", "\"none\""}}, "role: unknown value \"none\""},
    {WB_KIND_ISSUER, 2, {{OP_SET, "role", "\"supplier\""}},
     "role: not allowed when retiring an issuer"},
    {WB_KIND_ISSUER, 2, {{OP_SET, "keys", "[]"}}, "keys: not allowed when retiring"},
    {WB_KIND_ISSUER, 0, {{OP_DEL, "manufacturers", 0}},
     "manufacturers: a supplier issuer needs at least one manufacturer"},
    {WB_KIND_ISSUER, 0, {{OP_SET, "manufacturers", "[]"}},
     "manufacturers: a supplier issuer needs at least one manufacturer"},
    {WB_KIND_ISSUER, 0, {{OP_SET, "role", "\"integrator\""}, {OP_DEL, "manufacturers", 0}},
     "manufacturers: an integrator issuer needs at least one manufacturer"},
    {WB_KIND_ISSUER, 1, {{OP_DEL, "sites", 0}},
     "sites: a datacenter issuer needs at least one site"},
    {WB_KIND_ISSUER, 1, {{OP_SET, "role", "\"logistics\""}, {OP_SET, "sites", "[]"}},
     "sites: a logistics issuer needs at least one site"},
    {WB_KIND_ISSUER, 0, {{OP_DEL, "keys", 0}, {OP_DEL, "cas", 0}},
     "keys: an issuer needs at least one key (keys) or CA certificate (cas)"},
    {WB_KIND_ISSUER, 0, {{OP_SET, "keys[0]", "\"not base64\""}}, "keys[0]: not base64"},
    {WB_KIND_ISSUER, 0, {{OP_SET, "keys[0]", "\"QUJDRA\""}}, "keys[0]: not base64"},
    {WB_KIND_ISSUER, 0, {{OP_SET, "keys[0]", "\"QUJDRB==\""}}, "keys[0]: not base64"},
    {WB_KIND_ISSUER, 0, {{OP_SET, "keys[0]", "\"QUJD-A==\""}}, "keys[0]: not base64"},
    {WB_KIND_ISSUER, 0, {{OP_SET, "keys[0]", "\"\""}}, "keys[0]: empty"},
    {WB_KIND_ISSUER, 0, {{OP_SET, "keys", "\"QUJD\""}}, "keys: not an array"},
    {WB_KIND_ISSUER, 0, {{OP_DUP, "keys[0]", 0}}, "keys[1]: key appears twice"},
    {WB_KIND_ISSUER, 0, {{OP_DUP, "cas[0]", 0}}, "cas[1]: CA certificate appears twice"},
    {WB_KIND_ISSUER, 0, {{OP_DUP, "manufacturers[0]", 0}},
     "manufacturers[1]: manufacturer appears twice"},
    {WB_KIND_ISSUER, 1, {{OP_DUP, "sites[0]", 0}}, "sites[1]: site appears twice"},

    /* manifest */
    {WB_KIND_MANIFEST, 0, {{OP_DEL, "manufacturer", 0}}, "manufacturer: missing"},
    {WB_KIND_MANIFEST, 0, {{OP_DEL, "devices", 0}}, "devices: missing"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices", "[]"}}, "devices: empty"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices", "{}"}}, "devices: not an array"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices[0]", "[]"}}, "devices[0]: not an object"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices[0].id", "\"" H64UP "\""}},
     "devices[0].id: not 64 lowercase hex digits"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices[0].id", "\"" H63 "\""}},
     "devices[0].id: not 64 lowercase hex digits"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices[0].id", "\"" H64A "0\""}},
     "devices[0].id: not 64 lowercase hex digits"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices[0].id", "\"" H63 "g\""}},
     "devices[0].id: not 64 lowercase hex digits"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices[0].class", "\"fpga\""}},
     "devices[0].class: unknown value \"fpga\""},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices[0].class", "\"ROT\""}},
     "devices[0].class: unknown value \"ROT\""},
    {WB_KIND_MANIFEST, 0, {{OP_DEL, "devices[0].serial", 0}}, "devices[0].serial: missing"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices[0].serial", "123"}},
     "devices[0].serial: not a string"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices[0].model", "\"\""}}, "devices[0].model: empty"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices[0].model", "\"CR\\u0001100\""}},
     "devices[0].model: contains a control character"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices[0].model", "\"CR\\t100\""}},
     "devices[0].model: contains a control character"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices[0].model", "\"CR\\u007f100\""}},
     "devices[0].model: contains a control character"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices[0].model", "\"CR\\u0085100\""}},
     "devices[0].model: contains a control character"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices[0].model", "\"CR\\u0000100\""}},
     "not valid JSON"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices[0].serial", "\" CR100\""}},
     "devices[0].serial: leading or trailing space"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices[0].serial", "\"CR100 \""}},
     "devices[0].serial: leading or trailing space"},
    {WB_KIND_MANIFEST, 0, {{OP_DEL, "devices[0].chain", 0}}, "devices[0].chain: missing"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices[0].chain", "[]"}}, "devices[0].chain: empty"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices[0].chain[1]", "\"!!!!\""}},
     "devices[0].chain[1]: not base64"},
    {WB_KIND_MANIFEST, 0, {{OP_SET, "devices[0].chain[0]", "[\"QUJD\"]"}},
     "devices[0].chain[0]: not a string"},
    {WB_KIND_MANIFEST, 0, {{OP_DUP, "devices[0]", 0}}, "devices[1].id: device id appears twice"},

    /* assembly */
    {WB_KIND_ASSEMBLY, 0, {{OP_DEL, "parent", 0}}, "parent: missing"},
    {WB_KIND_ASSEMBLY, 0, {{OP_SET, "children", "[]"}}, "children: empty"},
    {WB_KIND_ASSEMBLY, 0, {{OP_DUP, "children[1]", 0}}, "children[4].slot: slot appears twice"},
    {WB_KIND_ASSEMBLY, 0, {{OP_SET, "children[2].slot", "@children[0].slot"}},
     "children[2].slot: slot appears twice"},
    {WB_KIND_ASSEMBLY, 0, {{OP_SET, "children[2].id", "@children[0].id"}},
     "children[2].id: device id appears twice"},
    {WB_KIND_ASSEMBLY, 0, {{OP_SET, "children[0].id", "@parent"}},
     "children[0].id: the parent cannot be its own child"},
    {WB_KIND_ASSEMBLY, 0, {{OP_DEL, "children[3].slot", 0}}, "children[3].slot: missing"},

    /* replacement */
    {WB_KIND_REPLACEMENT, 0, {{OP_SET, "new", "@old"}}, "new: the same device as old"},
    {WB_KIND_REPLACEMENT, 0, {{OP_SET, "old", "@parent"}}, "old: the same device as parent"},
    {WB_KIND_REPLACEMENT, 0, {{OP_SET, "new", "@parent"}}, "new: the same device as parent"},
    {WB_KIND_REPLACEMENT, 0, {{OP_DEL, "ticket", 0}}, "ticket: missing"},
    {WB_KIND_REPLACEMENT, 0, {{OP_SET, "old_id", "@old"}}, "old_id: unknown field"},

    /* custody */
    {WB_KIND_CUSTODY, 0, {{OP_SET, "event", "\"lost\""}}, "event: unknown value \"lost\""},
    {WB_KIND_CUSTODY, 0, {{OP_SET, "to", "@from"}}, "to: the same place as from"},
    {WB_KIND_CUSTODY, 0, {{OP_DUP, "units[0]", 0}}, "units[2]: device id appears twice"},
    {WB_KIND_CUSTODY, 0, {{OP_SET, "units", "[]"}}, "units: empty"},
    {WB_KIND_CUSTODY, 0, {{OP_SET, "units[1]", "\"" H63 "\""}},
     "units[1]: not 64 lowercase hex digits"},
    {WB_KIND_CUSTODY, 0, {{OP_DUP, "seals[1]", 0}}, "seals[2]: seal appears twice"},
    {WB_KIND_CUSTODY, 0, {{OP_SET, "seals", "\"TS-1\""}}, "seals: not an array"},
    {WB_KIND_CUSTODY, 0, {{OP_DEL, "shipment", 0}}, "shipment: missing"},

    /* intake */
    {WB_KIND_INTAKE, 0, {{OP_DEL, "verdict", 0}}, "verdict: missing"},
    {WB_KIND_INTAKE, 0, {{OP_SET, "verdict", "\"ok\""}}, "verdict: unknown value \"ok\""},
    {WB_KIND_INTAKE, 0, {{OP_SET, "units", "[]"}}, "units: empty"},
    {WB_KIND_INTAKE, 0, {{OP_DUP, "units[0].found[0]", 0}},
     "units[0].found[4].slot: slot appears twice"},
    {WB_KIND_INTAKE, 0, {{OP_DUP, "units[1]", 0}}, "units[2].id: device id appears twice"},
    {WB_KIND_INTAKE, 0, {{OP_DUP, "seals[0]", 0}}, "seals[2]: seal appears twice"},
    {WB_KIND_INTAKE, 0, {{OP_DEL, "site", 0}}, "site: missing"},

    /* attestation */
    {WB_KIND_ATTESTATION, 0, {{OP_DEL, "target", 0}}, "target: missing"},
    {WB_KIND_ATTESTATION, 0, {{OP_DEL, "verdict", 0}}, "verdict: missing"},
    {WB_KIND_ATTESTATION, 0, {{OP_DEL, "nonce", 0}}, "nonce: missing"},
    {WB_KIND_ATTESTATION, 0, {{OP_SET, "phase", "\"boot\""}}, "phase: unknown value \"boot\""},
    {WB_KIND_ATTESTATION, 0, {{OP_SET, "nonce", "\"0123456789abcdef0123456789abcd\""}},
     "nonce: not 32 to 128 lowercase hex digits"},
    {WB_KIND_ATTESTATION, 0, {{OP_SET, "nonce", "\"0123456789abcdef0123456789abcdef0\""}},
     "nonce: not 32 to 128 lowercase hex digits (an even number)"},
    {WB_KIND_ATTESTATION, 0, {{OP_SET, "nonce", "\"" H64A H64A "aa\""}},
     "nonce: not 32 to 128 lowercase hex digits"},
    {WB_KIND_ATTESTATION, 0, {{OP_SET, "evidence_digest", "\"" H63 "\""}},
     "evidence_digest: not 64 lowercase hex digits"},
    {WB_KIND_ATTESTATION, 0, {{OP_SET, "measurements[1].digest", "\"" H64A "\""}},
     "measurements[1].digest: not 96 lowercase hex digits"},
    {WB_KIND_ATTESTATION, 0, {{OP_DUP, "measurements[0]", 0}},
     "measurements[3].component: component appears twice"},
    {WB_KIND_ATTESTATION, 0, {{OP_DUP, "seen[2]", 0}}, "seen[3].slot: slot appears twice"},
    {WB_KIND_ATTESTATION, 1, {{OP_SET, "reasons[0]", "\"\""}}, "reasons[0]: empty"},
    {WB_KIND_ATTESTATION, 1, {{OP_SET, "reasons", "[\"ok\", 3]"}}, "reasons[1]: not a string"},

    /* firmware */
    {WB_KIND_FIRMWARE, 0, {{OP_SET, "svn", "-1"}}, "svn: negative"},
    {WB_KIND_FIRMWARE, 0, {{OP_SET, "svn", "1.5"}}, "svn: not an integer"},
    {WB_KIND_FIRMWARE, 0, {{OP_SET, "svn", "\"3\""}}, "svn: not an integer"},
    {WB_KIND_FIRMWARE, 0, {{OP_DEL, "svn", 0}}, "svn: missing"},
    {WB_KIND_FIRMWARE, 0, {{OP_DEL, "class", 0}}, "class: missing"},
    {WB_KIND_FIRMWARE, 0, {{OP_SET, "digest", "\"" H64A "\""}},
     "digest: not 96 lowercase hex digits"},
    {WB_KIND_FIRMWARE, 0, {{OP_SET, "digest", "\"" H64UP "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\""}},
     "digest: not 96 lowercase hex digits"},

    /* review */
    {WB_KIND_REVIEW, 0, {{OP_SET, "issues[0].cvss", "10.5"}},
     "issues[0].cvss: not between 0.0 and 10.0"},
    {WB_KIND_REVIEW, 0, {{OP_SET, "issues[0].cvss", "-1"}},
     "issues[0].cvss: not between 0.0 and 10.0"},
    {WB_KIND_REVIEW, 0, {{OP_SET, "issues[0].cvss", "\"3.7\""}}, "issues[0].cvss: not a number"},
    {WB_KIND_REVIEW, 0, {{OP_SET, "issues[1].cvss", "3.75"}},
     "issues[1].cvss: more than one decimal"},
    {WB_KIND_REVIEW, 0, {{OP_DEL, "issues[0].cvss", 0}}, "issues[0].cvss: missing"},
    {WB_KIND_REVIEW, 0, {{OP_DEL, "issues[0].title", 0}}, "issues[0].title: missing"},
    {WB_KIND_REVIEW, 0, {{OP_SET, "issues[0].cve", "\"\""}}, "issues[0].cve: empty"},
    {WB_KIND_REVIEW, 0, {{OP_SET, "original.format", "\"pdf\""}},
     "original.format: unknown value \"pdf\""},
    {WB_KIND_REVIEW, 0, {{OP_DEL, "original.bytes", 0}}, "original.bytes: missing"},
    {WB_KIND_REVIEW, 0, {{OP_SET, "original.bytes", "\"eyJ\""}}, "original.bytes: not base64"},
    {WB_KIND_REVIEW, 0, {{OP_SET, "original", "\"eyJh\""}}, "original: not an object"},
    {WB_KIND_REVIEW, 0, {{OP_SET, "firmware_digest", "\"" H64A "\""}},
     "firmware_digest: not 96 lowercase hex digits"},

    /* finding */
    {WB_KIND_FINDING, 0, {{OP_SET, "evidence[1]", "\"" H63 "\""}},
     "evidence[1]: not 64 lowercase hex digits"},
    {WB_KIND_FINDING, 0, {{OP_DUP, "evidence[0]", 0}}, "evidence[2]: entry id appears twice"},
    {WB_KIND_FINDING, 0, {{OP_SET, "tag", "\"ignore\""}}, "tag: unknown value \"ignore\""},
    {WB_KIND_FINDING, 0, {{OP_DEL, "reason", 0}}, "reason: missing"},
    {WB_KIND_FINDING, 0, {{OP_SET, "device", "\"\""}}, "device: not 64 lowercase hex digits"},
    {WB_KIND_FINDING, 0, {{OP_SET, "finding_id", "\"" H64UP "\""}},
     "finding_id: not 64 lowercase hex digits"},

    /* resolution */
    {WB_KIND_RESOLUTION, 0, {{OP_DEL, "finding_id", 0}}, "finding_id: missing"},
    {WB_KIND_RESOLUTION, 0, {{OP_SET, "note", "\"\""}}, "note: empty"},
    {WB_KIND_RESOLUTION, 0, {{OP_SET, "note", "\"tab\\there, bell\\u0007\""}},
     "note: contains a control character"},

    /* revocation */
    {WB_KIND_REVOCATION, 0, {{OP_SET, "target", "\"" H64A "\""}},
     "target: not 96 lowercase hex digits"},
    {WB_KIND_REVOCATION, 1, {{OP_SET, "target", "\"" H96 "\""}},
     "target: not 64 lowercase hex digits"},
    {WB_KIND_REVOCATION, 1, {{OP_SET, "target_kind", "\"issuer\""}},
     "target_kind: unknown value \"issuer\""},
    {WB_KIND_REVOCATION, 0, {{OP_DEL, "reason", 0}}, "reason: missing"},

    /* decommission */
    {WB_KIND_DECOMMISSION, 0, {{OP_DEL, "device", 0}}, "device: missing"},
    {WB_KIND_DECOMMISSION, 0, {{OP_SET, "site", "{}"}}, "site: not a string"},
    {WB_KIND_DECOMMISSION, 0, {{OP_SET, "reason", "null"}}, "reason: not a string"},
};

static void test_refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
        const mutation *m = &mutations[i];
        char *json = mutate(example(m->kind, m->example), m->steps);
        expect_refused(m->kind, json, strlen(json), m->expect);
        free(json);
    }
}

/* what looks odd but is a recorded observation, or optional, is accepted */
static void test_accepted_variants(void **state)
{
    (void)state;
    static const struct {
        wb_kind kind;
        int example;
        mut_step steps[3];
    } ok[] = {
        /* a clone seen in two slots is evidence, not a malformed payload */
        {WB_KIND_INTAKE, 0, {{OP_SET, "units[0].found[1].id", "@units[0].found[0].id"}}},
        {WB_KIND_ATTESTATION, 0, {{OP_SET, "seen[1].id", "@seen[0].id"}}},
        /* optional lists may be empty or absent */
        {WB_KIND_INTAKE, 0, {{OP_DEL, "seals", 0}, {OP_SET, "units[0].found", "[]"}}},
        {WB_KIND_ATTESTATION, 0, {{OP_DEL, "seen", 0}, {OP_SET, "measurements", "[]"}}},
        {WB_KIND_REVIEW, 0, {{OP_DEL, "issues", 0}, {OP_DEL, "original", 0}}},
        {WB_KIND_FINDING, 0, {{OP_DEL, "device", 0}, {OP_DEL, "site", 0}, {OP_DEL, "evidence", 0}}},
        {WB_KIND_CUSTODY, 0, {{OP_SET, "seals", "[]"}}},
        /* a scope the role does not use */
        {WB_KIND_ISSUER, 0, {{OP_SET, "sites", "[\"Fab 3\"]"}}},
        /* an issuer anchored only by a CA, or only by a key */
        {WB_KIND_ISSUER, 0, {{OP_DEL, "keys", 0}}},
        {WB_KIND_ISSUER, 0, {{OP_DEL, "cas", 0}}},
        /* an auditor has no scope */
        {WB_KIND_ISSUER, 1, {{OP_SET, "role", "\"auditor\""}, {OP_DEL, "sites", 0}}},
        /* cvss: integers, bounds, one decimal */
        {WB_KIND_REVIEW, 0, {{OP_SET, "issues[0].cvss", "10"}, {OP_SET, "issues[1].cvss", "0"}}},
        {WB_KIND_REVIEW, 0, {{OP_SET, "issues[0].cvss", "0.1"}, {OP_SET, "issues[1].cvss", "9.8"}}},
        {WB_KIND_REVIEW, 0, {{OP_SET, "issues[0].cvss", "-0.0"}, {OP_SET, "issues[1].cvss", "1e1"}}},
        /* nonce bounds */
        {WB_KIND_ATTESTATION, 0, {{OP_SET, "nonce", "\"" H64A H64A "\""}}},
        {WB_KIND_ATTESTATION, 0, {{OP_SET, "nonce", "\"0123456789abcdef0123456789abcdef\""}}},
        /* text may hold tabs and newlines and any Unicode; names any Unicode */
        {WB_KIND_RESOLUTION, 0, {{OP_SET, "note", "\"line 1\\n\\tline 2 \\u00e9\\u65e5\\ud83d\\ude00\""}}},
        {WB_KIND_DECOMMISSION, 0, {{OP_SET, "site", "\"Z\\u00fcrich \\u65e5 \\ud83d\\ude00\""}}},
        /* svn 0 and the largest */
        {WB_KIND_FIRMWARE, 0, {{OP_SET, "svn", "0"}}},
        {WB_KIND_FIRMWARE, 0, {{OP_SET, "svn", "9223372036854775807"}}},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char *json = mutate(example(ok[i].kind, ok[i].example), ok[i].steps);
        wb_prov_payload p;
        if (parse_str(&p, ok[i].kind, json) != 0)
            fail_msg("variant %zu refused: %s\n%s", i, wb_error_message(), json);
        check_round_trip(&p);
        wb_prov_payload_cleanup(&p);
        free(json);
    }
}

/* ------------------------------------------------------------------ */
/* the bytes themselves                                                */

static void test_raw_refusals(void **state)
{
    (void)state;
    const char *res = example(WB_KIND_RESOLUTION, 0);
    size_t rlen = strlen(res);
    char *buf = malloc(70000);
    wb_prov_payload p;
    assert_non_null(buf);

    /* duplicate keys, at the top and nested */
    expect_refused(WB_KIND_RESOLUTION,
                   "{\"version\":1,\"kind\":\"resolution\",\"finding_id\":\"" H64A
                   "\",\"action\":\"evicted\",\"action\":\"remediated\"}",
                   strlen("{\"version\":1,\"kind\":\"resolution\",\"finding_id\":\"" H64A
                          "\",\"action\":\"evicted\",\"action\":\"remediated\"}"),
                   "not valid JSON: duplicate object key");
    {
        const char *s = "{\"version\":1,\"kind\":\"assembly\",\"parent\":\"" H64A
                        "\",\"children\":[{\"slot\":\"a\",\"id\":\"" H63 "b\",\"slot\":\"b\"}]}";
        expect_refused(WB_KIND_ASSEMBLY, s, strlen(s), "duplicate object key");
    }
    {
        const char *s = "{\"version\":1,\"version\":1,\"kind\":\"resolution\"}";
        expect_refused(WB_KIND_RESOLUTION, s, strlen(s), "duplicate object key");
    }

    /* trailing bytes; trailing whitespace is fine */
    memcpy(buf, res, rlen);
    memcpy(buf + rlen, "x", 1);
    expect_refused(WB_KIND_RESOLUTION, buf, rlen + 1, "not valid JSON");
    memcpy(buf + rlen, "{}", 2);
    expect_refused(WB_KIND_RESOLUTION, buf, rlen + 2, "not valid JSON");
    buf[rlen] = '\0';
    expect_refused(WB_KIND_RESOLUTION, buf, rlen + 1, "not valid JSON");
    memcpy(buf + rlen, " \n\t\r", 4);
    assert_int_equal(wb_prov_parse(&p, WB_KIND_RESOLUTION, (uint8_t *)buf, rlen + 4), 0);
    wb_prov_payload_cleanup(&p);

    /* not UTF-8: a stray byte, an overlong form, a surrogate, past U+10FFFF */
    {
        static const char *const bad[] = {"\xff", "\xc0\xaf", "\xed\xa0\x80",
                                          "\xf4\x90\x80\x80", "\xe2\x82"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            int n = snprintf(buf, 70000,
                             "{\"version\":1,\"kind\":\"decommission\",\"device\":\"" H64A
                             "\",\"site\":\"AMS%s1\"}",
                             bad[i]);
            expect_refused(WB_KIND_DECOMMISSION, buf, (size_t)n, "payload is not UTF-8");
        }
    }

    /* size: 65535 bytes is the limit, padding included */
    memcpy(buf, res, rlen);
    memset(buf + rlen, ' ', 65535 - rlen);
    assert_int_equal(wb_prov_parse(&p, WB_KIND_RESOLUTION, (uint8_t *)buf, 65535), 0);
    wb_prov_payload_cleanup(&p);
    buf[65535] = ' ';
    expect_refused(WB_KIND_RESOLUTION, buf, 65536, "payload of 65536 bytes, over the 65535-byte limit");

    /* not an object; nothing at all */
    expect_refused(WB_KIND_RESOLUTION, "[]", 2, "not a JSON object");
    expect_refused(WB_KIND_RESOLUTION, "\"resolution\"", 12, "not valid JSON");
    expect_refused(WB_KIND_RESOLUTION, "", 0, "not valid JSON");
    expect_refused(WB_KIND_RESOLUTION, NULL, 0, "not valid JSON");
    expect_refused(WB_KIND_RESOLUTION, "{", 1, "not valid JSON");

    /* the kind must be a kind */
    assert_int_equal(wb_prov_parse(&p, WB_KIND_NONE, (const uint8_t *)res, rlen), WB_E_INVALID);
    assert_int_equal(wb_prov_parse(&p, WB_KIND_COUNT, (const uint8_t *)res, rlen), WB_E_INVALID);
    assert_int_equal(p.kind, WB_KIND_NONE);
    free(buf);
}

/* ------------------------------------------------------------------ */
/* limits                                                              */

static char *hex_id(uint64_t *rs, char out[65])
{
    uint8_t b[32];
    for (size_t i = 0; i < 32; i += 8) {
        uint64_t r = wbt_rand(rs);
        memcpy(b + i, &r, 8);
    }
    wb_hex_encode(out, b, 32);
    return out;
}

static void test_limits(void **state)
{
    (void)state;
    uint64_t rs = 12345;
    wb_prov_payload p;
    char id[65];

    /* a list of 256 units is fine, 257 is not */
    for (size_t n = 256; n <= 257; n++) {
        json_t *root = json_loads(example(WB_KIND_CUSTODY, 0), 0, NULL);
        json_t *units = json_array();
        char *s;
        for (size_t i = 0; i < n; i++)
            json_array_append_new(units, json_string(hex_id(&rs, id)));
        json_object_set_new(root, "units", units);
        s = json_dumps(root, JSON_COMPACT);
        if (n == 256) {
            assert_int_equal(parse_str(&p, WB_KIND_CUSTODY, s), 0);
            assert_int_equal(p.u.custody.nunits, 256);
            check_round_trip(&p);
            wb_prov_payload_cleanup(&p);
        } else {
            expect_refused(WB_KIND_CUSTODY, s, strlen(s), "units: 257 items, over the limit of 256");
        }
        free(s);
        json_decref(root);
    }

    /* a chain of 6 certificates is fine, 7 is not; a certificate of 16384 bytes
     * is fine, 16385 is not */
    {
        uint8_t *cert = calloc(1, WB_PROV_CERT_MAX + 1);
        char *b64 = malloc(wb_base64_encoded_len(WB_PROV_CERT_MAX + 1) + 1);
        for (size_t i = 0; i <= WB_PROV_CERT_MAX; i++)
            cert[i] = (uint8_t)i;
        for (size_t n = 6; n <= 7; n++) {
            json_t *root = json_loads(example(WB_KIND_MANIFEST, 0), 0, NULL);
            json_t *chain = json_object_get(json_array_get(json_object_get(root, "devices"), 0),
                                            "chain");
            char *s;
            while (json_array_size(chain) < n)
                json_array_append_new(chain, json_string("MIIB"));
            s = json_dumps(root, JSON_COMPACT);
            if (n == 6) {
                assert_int_equal(parse_str(&p, WB_KIND_MANIFEST, s), 0);
                assert_int_equal(p.u.manifest.devices[0].nchain, 6);
                wb_prov_payload_cleanup(&p);
            } else {
                expect_refused(WB_KIND_MANIFEST, s, strlen(s),
                               "devices[0].chain: 7 items, over the limit of 6");
            }
            free(s);
            json_decref(root);
        }
        for (size_t n = WB_PROV_CERT_MAX; n <= WB_PROV_CERT_MAX + 1; n++) {
            json_t *root = json_loads(example(WB_KIND_MANIFEST, 0), 0, NULL);
            json_t *chain = json_object_get(json_array_get(json_object_get(root, "devices"), 0),
                                            "chain");
            char *s;
            wb_base64_encode(b64, cert, n);
            json_array_set_new(chain, 1, json_string(b64));
            s = json_dumps(root, JSON_COMPACT);
            if (n == WB_PROV_CERT_MAX) {
                assert_int_equal(parse_str(&p, WB_KIND_MANIFEST, s), 0);
                assert_int_equal(p.u.manifest.devices[0].chain_len[1], WB_PROV_CERT_MAX);
                check_round_trip(&p);
                wb_prov_payload_cleanup(&p);
            } else {
                expect_refused(WB_KIND_MANIFEST, s, strlen(s),
                               "devices[0].chain[1]: more than 16384 bytes");
            }
            free(s);
            json_decref(root);
        }
        free(cert);
        free(b64);
    }

    /* a name of 128 bytes (multi-byte characters count as bytes), 129 refused;
     * a text of 1024 bytes, 1025 refused */
    {
        char name[256], text[2048];
        for (size_t n = 127; n <= 129; n++) {
            json_t *root = json_loads(example(WB_KIND_DECOMMISSION, 0), 0, NULL);
            char *s;
            /* "é" is two bytes: n bytes made of é's and one 'x' if odd */
            size_t k = 0;
            while (k + 2 <= n) {
                name[k++] = (char)0xc3;
                name[k++] = (char)0xa9;
            }
            if (k < n)
                name[k++] = 'x';
            name[k] = '\0';
            json_object_set_new(root, "site", json_string(name));
            s = json_dumps(root, JSON_COMPACT);
            if (n <= 128) {
                assert_int_equal(parse_str(&p, WB_KIND_DECOMMISSION, s), 0);
                assert_int_equal(strlen(p.u.decommission.site), n);
                check_round_trip(&p);
                wb_prov_payload_cleanup(&p);
            } else {
                expect_refused(WB_KIND_DECOMMISSION, s, strlen(s),
                               "site: 129 bytes, over the limit of 128");
            }
            free(s);
            json_decref(root);
        }
        for (size_t n = 1024; n <= 1025; n++) {
            json_t *root = json_loads(example(WB_KIND_DECOMMISSION, 0), 0, NULL);
            char *s;
            for (size_t i = 0; i < n; i++)
                text[i] = i % 61 == 60 ? '\n' : (char)('a' + i % 26);
            text[n] = '\0';
            json_object_set_new(root, "reason", json_string(text));
            s = json_dumps(root, JSON_COMPACT);
            if (n == 1024) {
                assert_int_equal(parse_str(&p, WB_KIND_DECOMMISSION, s), 0);
                check_round_trip(&p);
                wb_prov_payload_cleanup(&p);
            } else {
                expect_refused(WB_KIND_DECOMMISSION, s, strlen(s),
                               "reason: 1025 bytes, over the limit of 1024");
            }
            free(s);
            json_decref(root);
        }
    }

    /* an unknown field's name is shown safely */
    {
        const char *s = "{\"version\":1,\"kind\":\"decommission\",\"\\u0007\\n%s%n\":1}";
        expect_refused(WB_KIND_DECOMMISSION, s, strlen(s), "??%s%n: unknown field");
    }
}

/* ------------------------------------------------------------------ */
/* random payloads of every kind                                       */

static char *rand_name(uint64_t *rs, char *out, size_t max, const char *suffix, int text)
{
    static const char *const pieces[] = {"a", "Z", "0", "-", ".", "/", "_", "#", "é",
                                         "日本", "😀", "Ω", " ", "\"", "\\", "'"};
    size_t want = 1 + wbt_rand(rs) % (max > 40 ? 40 : max);
    size_t n = 0, slen = strlen(suffix);
    while (n < want) {
        const char *pc = pieces[wbt_rand(rs) % (sizeof(pieces) / sizeof(pieces[0]))];
        if (text && wbt_rand(rs) % 8 == 0)
            pc = wbt_rand(rs) % 2 ? "\n" : "\t";
        size_t l = strlen(pc);
        if (n + l + slen > max)
            break;
        memcpy(out + n, pc, l);
        n += l;
    }
    /* names do not start or end with a space */
    if (n == 0 || out[0] == ' ')
        out[0 < n ? 0 : n++] = 'n';
    memcpy(out + n, suffix, slen);
    n += slen;
    if (out[n - 1] == ' ')
        out[n - 1] = 'n';
    out[n] = '\0';
    return out;
}

static char *rand_name_dup(uint64_t *rs, size_t i)
{
    char buf[WB_PROV_NAME_MAX + 1], suffix[24];
    snprintf(suffix, sizeof(suffix), "~%zu", i);
    return strdup(rand_name(rs, buf, WB_PROV_NAME_MAX, suffix, 0));
}

static void rand_hex(uint64_t *rs, char *out, size_t nhex)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < nhex; i++)
        out[i] = digits[wbt_rand(rs) % 16];
    out[nhex] = '\0';
}

/* a device id that encodes i, so ids in one payload differ */
static void rand_id(uint64_t *rs, char *out, size_t i)
{
    rand_hex(rs, out, 64);
    snprintf(out + 56, 9, "%08x", (unsigned)(i & 0xffffffffu));
}

static uint8_t *rand_blob(uint64_t *rs, size_t *len, size_t i)
{
    size_t n = 4 + wbt_rand(rs) % 300;
    uint8_t *b = malloc(n);
    for (size_t k = 0; k < n; k++)
        b[k] = (uint8_t)wbt_rand(rs);
    memcpy(b, &i, sizeof(uint32_t) < n ? sizeof(uint32_t) : n); /* distinct */
    *len = n;
    return b;
}

static size_t rand_n(uint64_t *rs, size_t min, size_t max)
{
    return min + wbt_rand(rs) % (max - min + 1);
}

static wb_slot_entry *rand_slots(uint64_t *rs, size_t n, size_t base)
{
    wb_slot_entry *v = n ? calloc(n, sizeof(*v)) : NULL;
    for (size_t i = 0; i < n; i++) {
        char suffix[24];
        snprintf(suffix, sizeof(suffix), "@%zu", i);
        rand_name(rs, v[i].slot, WB_PROV_NAME_MAX, suffix, 0);
        rand_id(rs, v[i].id, base + i);
    }
    return v;
}

static char **rand_names(uint64_t *rs, size_t n)
{
    char **v = n ? calloc(n, sizeof(*v)) : NULL;
    for (size_t i = 0; i < n; i++)
        v[i] = rand_name_dup(rs, i);
    return v;
}

static void rand_payload(uint64_t *rs, wb_prov_payload *p, wb_kind kind)
{
    char buf[WB_PROV_TEXT_MAX + 1];
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    p->version = 1;
    switch (kind) {
    case WB_KIND_ISSUER: {
        wb_p_issuer *x = &p->u.issuer;
        x->action = (wb_issuer_action)rand_n(rs, 1, 3);
        rand_name(rs, x->name, WB_PROV_NAME_MAX, "", 0);
        if (x->action == WB_ISSUER_RETIRE)
            break;
        x->role = (wb_role)rand_n(rs, 1, WB_ROLE_COUNT - 1);
        x->nmanufacturers = rand_n(rs, 1, 4);
        x->manufacturers = rand_names(rs, x->nmanufacturers);
        x->nsites = rand_n(rs, 1, 4);
        x->sites = rand_names(rs, x->nsites);
        x->nkeys = rand_n(rs, 0, 3);
        x->ncas = x->nkeys ? rand_n(rs, 0, 2) : rand_n(rs, 1, 2);
        x->keys = x->nkeys ? calloc(x->nkeys, sizeof(*x->keys)) : NULL;
        x->key_lens = x->nkeys ? calloc(x->nkeys, sizeof(size_t)) : NULL;
        for (size_t i = 0; i < x->nkeys; i++)
            x->keys[i] = rand_blob(rs, &x->key_lens[i], i);
        x->cas = x->ncas ? calloc(x->ncas, sizeof(*x->cas)) : NULL;
        x->ca_lens = x->ncas ? calloc(x->ncas, sizeof(size_t)) : NULL;
        for (size_t i = 0; i < x->ncas; i++)
            x->cas[i] = rand_blob(rs, &x->ca_lens[i], i);
        break;
    }
    case WB_KIND_MANIFEST: {
        wb_p_manifest *x = &p->u.manifest;
        rand_name(rs, x->manufacturer, WB_PROV_NAME_MAX, "", 0);
        x->ndevices = rand_n(rs, 1, 5);
        x->devices = calloc(x->ndevices, sizeof(*x->devices));
        for (size_t i = 0; i < x->ndevices; i++) {
            wb_p_device *d = &x->devices[i];
            rand_id(rs, d->id, i);
            d->cls = (wb_device_class)rand_n(rs, 1, WB_CLASS_COUNT - 1);
            rand_name(rs, d->model, WB_PROV_NAME_MAX, "", 0);
            rand_name(rs, d->serial, WB_PROV_NAME_MAX, "", 0);
            d->nchain = rand_n(rs, 1, WB_PROV_CHAIN_MAX);
            for (size_t c = 0; c < d->nchain; c++)
                d->chain[c] = rand_blob(rs, &d->chain_len[c], c);
        }
        break;
    }
    case WB_KIND_ASSEMBLY: {
        wb_p_assembly *x = &p->u.assembly;
        rand_id(rs, x->parent, 999);
        x->nchildren = rand_n(rs, 1, 8);
        x->children = rand_slots(rs, x->nchildren, 0);
        break;
    }
    case WB_KIND_REPLACEMENT: {
        wb_p_replacement *x = &p->u.replacement;
        rand_id(rs, x->parent, 0);
        rand_name(rs, x->slot, WB_PROV_NAME_MAX, "", 0);
        rand_id(rs, x->old_id, 1);
        rand_id(rs, x->new_id, 2);
        rand_name(rs, x->ticket, WB_PROV_NAME_MAX, "", 0);
        break;
    }
    case WB_KIND_CUSTODY: {
        wb_p_custody *x = &p->u.custody;
        x->event = (wb_custody_event)rand_n(rs, 1, 2);
        rand_name(rs, x->shipment, WB_PROV_NAME_MAX, "", 0);
        rand_name(rs, x->from, WB_PROV_NAME_MAX, "<", 0);
        rand_name(rs, x->to, WB_PROV_NAME_MAX, ">", 0);
        x->nunits = rand_n(rs, 1, 10);
        x->units = calloc(x->nunits, sizeof(*x->units));
        for (size_t i = 0; i < x->nunits; i++)
            rand_id(rs, x->units[i], i);
        x->nseals = rand_n(rs, 0, 4);
        x->seals = rand_names(rs, x->nseals);
        break;
    }
    case WB_KIND_INTAKE: {
        wb_p_intake *x = &p->u.intake;
        rand_name(rs, x->site, WB_PROV_NAME_MAX, "", 0);
        rand_name(rs, x->shipment, WB_PROV_NAME_MAX, "", 0);
        x->nseals = rand_n(rs, 0, 3);
        x->seals = rand_names(rs, x->nseals);
        x->nunits = rand_n(rs, 1, 4);
        x->units = calloc(x->nunits, sizeof(*x->units));
        for (size_t i = 0; i < x->nunits; i++) {
            rand_id(rs, x->units[i].id, 1000 + i);
            x->units[i].nfound = rand_n(rs, 0, 5);
            x->units[i].found = rand_slots(rs, x->units[i].nfound, 0);
        }
        x->verdict = (wb_verdict)rand_n(rs, 1, 2);
        break;
    }
    case WB_KIND_ATTESTATION: {
        wb_p_attestation *x = &p->u.attestation;
        rand_name(rs, x->site, WB_PROV_NAME_MAX, "", 0);
        rand_id(rs, x->target, 0);
        x->phase = (wb_attest_phase)rand_n(rs, 1, 3);
        rand_hex(rs, x->nonce, 2 * rand_n(rs, 16, 64));
        rand_hex(rs, x->evidence_digest, 64);
        x->nseen = rand_n(rs, 0, 5);
        x->seen = rand_slots(rs, x->nseen, 0);
        x->nmeasurements = rand_n(rs, 0, 4);
        x->measurements = x->nmeasurements ? calloc(x->nmeasurements, sizeof(*x->measurements))
                                           : NULL;
        for (size_t i = 0; i < x->nmeasurements; i++) {
            char suffix[24];
            snprintf(suffix, sizeof(suffix), ":%zu", i);
            rand_name(rs, x->measurements[i].component, WB_PROV_NAME_MAX, suffix, 0);
            rand_hex(rs, x->measurements[i].digest, 96);
        }
        x->verdict = (wb_verdict)rand_n(rs, 1, 2);
        x->nreasons = rand_n(rs, 0, 3);
        x->reasons = x->nreasons ? calloc(x->nreasons, sizeof(char *)) : NULL;
        for (size_t i = 0; i < x->nreasons; i++)
            x->reasons[i] = strdup(rand_name(rs, buf, WB_PROV_TEXT_MAX, "", 1));
        break;
    }
    case WB_KIND_FIRMWARE: {
        wb_p_firmware *x = &p->u.firmware;
        x->cls = (wb_device_class)rand_n(rs, 1, WB_CLASS_COUNT - 1);
        rand_name(rs, x->vendor, WB_PROV_NAME_MAX, "", 0);
        rand_name(rs, x->fw_version, WB_PROV_NAME_MAX, "", 0);
        rand_hex(rs, x->digest, 96);
        x->svn = (int64_t)(wbt_rand(rs) >> (1 + wbt_rand(rs) % 63));
        break;
    }
    case WB_KIND_REVIEW: {
        wb_p_review *x = &p->u.review;
        rand_hex(rs, x->firmware_digest, 96);
        rand_name(rs, x->reviewer, WB_PROV_NAME_MAX, "", 0);
        rand_name(rs, x->framework, WB_PROV_NAME_MAX, "", 0);
        x->nissues = rand_n(rs, 0, 4);
        x->issues = x->nissues ? calloc(x->nissues, sizeof(*x->issues)) : NULL;
        for (size_t i = 0; i < x->nissues; i++) {
            rand_name(rs, x->issues[i].title, WB_PROV_TEXT_MAX, "", 1);
            x->issues[i].cvss = (double)rand_n(rs, 0, 100) / 10.0;
            if (wbt_rand(rs) % 2)
                snprintf(x->issues[i].cve, sizeof(x->issues[i].cve), "CVE-2026-%05zu",
                         rand_n(rs, 0, 99999));
        }
        if (wbt_rand(rs) % 2) {
            x->original_format = strdup(wbt_rand(rs) % 2 ? "jws" : "cose-sign");
            x->original = rand_blob(rs, &x->original_len, 0);
        }
        break;
    }
    case WB_KIND_FINDING: {
        wb_p_finding *x = &p->u.finding;
        rand_hex(rs, x->finding_id, 64);
        rand_name(rs, x->rule, WB_PROV_NAME_MAX, "", 0);
        x->tag = (wb_tag)rand_n(rs, 1, 3);
        if (wbt_rand(rs) % 2)
            rand_id(rs, x->device, 0);
        if (wbt_rand(rs) % 2)
            rand_name(rs, x->site, WB_PROV_NAME_MAX, "", 0);
        rand_name(rs, x->reason, WB_PROV_TEXT_MAX, "", 1);
        x->nevidence = rand_n(rs, 0, 6);
        x->evidence = x->nevidence ? calloc(x->nevidence, sizeof(*x->evidence)) : NULL;
        for (size_t i = 0; i < x->nevidence; i++)
            rand_id(rs, x->evidence[i], i);
        break;
    }
    case WB_KIND_RESOLUTION: {
        wb_p_resolution *x = &p->u.resolution;
        rand_hex(rs, x->finding_id, 64);
        rand_name(rs, x->action, WB_PROV_NAME_MAX, "", 0);
        if (wbt_rand(rs) % 2)
            rand_name(rs, x->note, WB_PROV_TEXT_MAX, "", 1);
        break;
    }
    case WB_KIND_REVOCATION: {
        wb_p_revocation *x = &p->u.revocation;
        x->target_kind = (wb_revoke_target)rand_n(rs, 1, 4);
        rand_hex(rs, x->target, x->target_kind == WB_REVOKE_FIRMWARE ? 96 : 64);
        rand_name(rs, x->reason, WB_PROV_TEXT_MAX, "", 1);
        break;
    }
    case WB_KIND_DECOMMISSION: {
        wb_p_decommission *x = &p->u.decommission;
        rand_id(rs, x->device, 0);
        rand_name(rs, x->site, WB_PROV_NAME_MAX, "", 0);
        if (wbt_rand(rs) % 2)
            rand_name(rs, x->reason, WB_PROV_TEXT_MAX, "", 1);
        break;
    }
    default: break;
    }
}

static void test_round_trip_random(void **state)
{
    (void)state;
    uint64_t rs = wbt_seed("round_trip_random");
    for (int round = 0; round < 200; round++) {
        for (int k = WB_KIND_ISSUER; k < WB_KIND_COUNT; k++) {
            wb_prov_payload p;
            rand_payload(&rs, &p, (wb_kind)k);
            check_round_trip(&p);
            wb_prov_payload_cleanup(&p);
        }
    }
}

/* ------------------------------------------------------------------ */
/* the encoder refuses what the parser would                            */

static void expect_encode_refused(const wb_prov_payload *p, const char *expect)
{
    char *out = (char *)1;
    size_t len = 1;
    int rc = wb_prov_encode(&out, &len, p);
    if (rc != WB_E_INVALID || !strstr(wb_error_message(), expect))
        fail_msg("encode: rc %d, \"%s\", wanted \"%s\"", rc, wb_error_message(), expect);
    assert_null(out);
    assert_int_equal(len, 0);
}

static void test_encode_refuses(void **state)
{
    (void)state;
    uint64_t rs = 99;
    wb_prov_payload p;

    rand_payload(&rs, &p, WB_KIND_CUSTODY);
    strcpy(p.u.custody.to, p.u.custody.from);
    expect_encode_refused(&p, "cannot encode: custody: to: the same place as from");
    wb_prov_payload_cleanup(&p);

    rand_payload(&rs, &p, WB_KIND_CUSTODY);
    p.u.custody.event = 0;
    expect_encode_refused(&p, "custody: event: not set");
    p.u.custody.event = 7;
    expect_encode_refused(&p, "custody: event: not a valid value");
    wb_prov_payload_cleanup(&p);

    rand_payload(&rs, &p, WB_KIND_REPLACEMENT);
    memset(p.u.replacement.slot, 'x', sizeof(p.u.replacement.slot));
    expect_encode_refused(&p, "replacement: slot: not NUL-terminated");
    p.u.replacement.slot[0] = '\0';
    expect_encode_refused(&p, "replacement: slot: empty");
    strcpy(p.u.replacement.slot, "nic\xff");
    expect_encode_refused(&p, "replacement: slot: not UTF-8");
    strcpy(p.u.replacement.slot, "nic0");
    p.u.replacement.old_id[3] = 'G';
    expect_encode_refused(&p, "replacement: old: not 64 lowercase hex digits");
    wb_prov_payload_cleanup(&p);

    /* an issuer without keys; a retire with a role */
    memset(&p, 0, sizeof(p));
    p.kind = WB_KIND_ISSUER;
    p.u.issuer.action = WB_ISSUER_ADD;
    p.u.issuer.role = WB_ROLE_AUDITOR;
    strcpy(p.u.issuer.name, "auditor");
    expect_encode_refused(&p, "issuer: keys: an issuer needs at least one key");
    p.u.issuer.action = WB_ISSUER_RETIRE;
    expect_encode_refused(&p, "issuer: role: not allowed when retiring");
    p.u.issuer.role = WB_ROLE_NONE;
    {
        char *out;
        size_t len;
        assert_int_equal(wb_prov_encode(&out, &len, &p), 0);
        assert_string_equal(out, "{\"version\":1,\"kind\":\"issuer\",\"action\":\"retire\","
                                 "\"name\":\"auditor\"}");
        free(out);
    }

    /* an empty manifest; a manifest whose list pointer is missing */
    memset(&p, 0, sizeof(p));
    p.kind = WB_KIND_MANIFEST;
    strcpy(p.u.manifest.manufacturer, "Contoso");
    expect_encode_refused(&p, "manifest: devices: empty");
    p.u.manifest.ndevices = 2;
    expect_encode_refused(&p, "manifest: devices: NULL with 2 items");
    p.u.manifest.ndevices = WB_PROV_LIST_MAX + 1;
    expect_encode_refused(&p, "manifest: devices: 257 items, over the limit of 256");

    /* a cvss that is not a CVSS score; the version */
    rand_payload(&rs, &p, WB_KIND_REVIEW);
    if (p.u.review.nissues == 0) {
        p.u.review.issues = calloc(1, sizeof(*p.u.review.issues));
        p.u.review.nissues = 1;
        strcpy(p.u.review.issues[0].title, "t");
    }
    p.u.review.issues[0].cvss = 7.25;
    expect_encode_refused(&p, "review: issues[0].cvss: more than one decimal");
    p.u.review.issues[0].cvss = NAN;
    expect_encode_refused(&p, "review: issues[0].cvss: cannot be encoded");
    p.u.review.issues[0].cvss = -0.0;
    {
        char *out;
        size_t len;
        assert_int_equal(wb_prov_encode(&out, &len, &p), 0);
        assert_non_null(strstr(out, "\"cvss\":0.0"));
        free(out);
    }
    p.version = 2;
    expect_encode_refused(&p, "review: version: only version 1 can be written");
    wb_prov_payload_cleanup(&p);

    memset(&p, 0, sizeof(p));
    expect_encode_refused(&p, "is not a statement kind");
}

/* ------------------------------------------------------------------ */
/* device ids                                                          */

static uint8_t *read_vector(const char *rel, size_t *len)
{
    const char *src = getenv("WB_SRC");
    char path[4096];
    assert_non_null(src);
    snprintf(path, sizeof(path), "%s/tests/vectors/%s", src, rel);
    return (uint8_t *)wbt_read_file(path, len);
}

static void test_device_id(void **state)
{
    (void)state;
    wb_device_id id;
    size_t len;
    uint8_t *der;

    /* libspdm ECP384 intermediate (P-384); expected values computed with
     * openssl x509 -pubkey | openssl pkey -pubin -outform DER | sha256sum */
    der = read_vector("spdm/ecp384/inter.cert.der", &len);
    assert_int_equal(wb_device_id_of_cert(id, der, len), 0);
    assert_string_equal(id, "ee03c7c7c052c67f2b140edd5a7d17095072015bd3d9e56ac9011203a84c00c0");

    /* trailing and missing bytes are refused */
    {
        uint8_t *more = malloc(len + 1);
        memcpy(more, der, len);
        more[len] = 0x11; /* TPM NV padding */
        assert_int_equal(wb_device_id_of_cert(id, more, len + 1), WB_E_INVALID);
        assert_non_null(strstr(wb_error_message(), "followed by 1 bytes"));
        assert_string_equal(id, "");
        assert_int_equal(wb_device_id_of_cert(id, more, len - 1), WB_E_INVALID);
        assert_int_equal(wb_device_id_of_cert(id, more + 1, len - 1), WB_E_INVALID);
        assert_non_null(strstr(wb_error_message(), "not a DER X.509 certificate"));
        assert_int_equal(wb_device_id_of_cert(id, more, 0), WB_E_INVALID);
        assert_int_equal(wb_device_id_of_cert(id, NULL, 10), WB_E_INVALID);
        free(more);
    }
    free(der);

    /* an RSA-2048 TPM 2.0 endorsement key (STMicro ST33) */
    der = read_vector("identity/tpm-ek/stmicro-tpm20-rsa-chain/ek_ST33HTPHAHD4.crt", &len);
    assert_int_equal(wb_device_id_of_cert(id, der, len), 0);
    assert_string_equal(id, "15f0537b191c07431b829abcda82d8a6002a7add7465981186a0c3bce93d1849");
    free(der);

    /* a TPM 1.2 EK whose key is rsaesOaep, which OpenSSL cannot load: the id
     * is still the hash of the SPKI bytes (offsets 171..486 of the DER) */
    der = read_vector("identity/tpm-ek/stmicro-tpm12-nv-header/ek_cert_7_byte_header_removed.cer",
                      &len);
    assert_int_equal(wb_device_id_of_cert(id, der, len), 0);
    {
        uint8_t h[32];
        char hex[65];
        assert_int_equal(wb_sha256(h, der + 171, 315), 0);
        wb_hex_encode(hex, h, 32);
        assert_string_equal(id, hex);
        assert_string_equal(id, "68b460e13bdb9997ee2de9d05c9ecbea85400b54657b8c1f23cddce6dfc3d9dc");
    }
    free(der);
    /* the same certificate with its 7-byte TCG NV header is not a certificate */
    der = read_vector("identity/tpm-ek/stmicro-tpm12-nv-header/ek_cert_untouched.cer", &len);
    assert_int_equal(wb_device_id_of_cert(id, der, len), WB_E_INVALID);
    free(der);

    /* a fresh RSA-2048 certificate: the id is the hash of the key's SPKI */
    {
        EVP_PKEY *key = EVP_RSA_gen(2048);
        X509 *x = X509_new();
        uint8_t *cert = NULL, *spki = NULL, h[32];
        char hex[65];
        int n, m;
        assert_non_null(key);
        assert_non_null(x);
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
        X509_gmtime_adj(X509_getm_notBefore(x), 0);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600);
        X509_set_pubkey(x, key);
        assert_true(X509_sign(x, key, EVP_sha256()) > 0);
        n = i2d_X509(x, &cert);
        m = i2d_PUBKEY(key, &spki);
        assert_true(n > 0 && m > 0);
        assert_int_equal(wb_device_id_of_cert(id, cert, (size_t)n), 0);
        wb_sha256(h, spki, (size_t)m);
        wb_hex_encode(hex, h, 32);
        assert_string_equal(id, hex);
        OPENSSL_free(cert);
        OPENSSL_free(spki);
        X509_free(x);
        EVP_PKEY_free(key);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_docs_examples),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_accepted_variants),
        cmocka_unit_test(test_raw_refusals),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_round_trip_random),
        cmocka_unit_test(test_encode_refuses),
        cmocka_unit_test(test_device_id),
    };
    return cmocka_run_group_tests_name("prov_statements", tests, load_docs, free_docs);
}
