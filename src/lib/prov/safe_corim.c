/*
 * safe_corim.c: the report inside an OCP SAFE SFR CoRIM, the payload of a
 * COSE_Sign-signed review (IETF draft-ietf-rats-corim; the OCP SAFE
 * "ocp-safe-sfr-profile.cddl" measurement-values extension).
 *
 *   501({ 0: id, 1: [ 506(<< CoMID >>) ], 3: 111(profile OID),
 *         5: [ { 0: reviewer name, 2: [ 1 (manifest-creator) ] } ] })
 *   CoMID = { 1: tag-identity, 4: { 10: [ conditional-endorsement-triple ] } }
 *   triple = [ [ [ env, [ { 1: { 2: digests } } ] ] ],         conditions
 *              [ [ env, [ { 1: { -1: sfr } } ] ] ] ]           endorsements
 *   env = { 0: { 1: vendor, 2: model } }
 *   sfr = { 0: framework version, 1: report version, 2: 1(completion time),
 *           3: scope, ? 4: [ { ? 0: { 0: fw version, 1: scheme },
 *                              ? 1: digests, ? 2: repo tag,
 *                              ? 3: { 0: digests, 1: [ { 0: name, 1: digests } ] } } ],
 *           ? 5: [ { 0: title, 1: description,
 *                    2: { 0: score, 1: vector, ? 2: cvss version },
 *                    ? 3: cwe, ? 4: cve } ],
 *           ? 6: solid version }
 *   digests = [ + [ alg, bytes ] ]
 *
 * What the one real file does differently from the specification text, and
 * is accepted:
 *   - the profile 111(...) wraps the full DER TLV of the OID (06 0a ...)
 *     rather than only its content (RFC 9090); both forms are accepted
 *     (the TLV one is recorded as WB_SAFE_Q_PROFILE_TLV);
 *   - those bytes decode to 1.3.6.1.4.1.47639.1.1, while the profile's CDDL
 *     comment says 1.3.6.1.4.1.42623.1.1 (the upstream example uses the
 *     same bytes as the real file): both OIDs are accepted, nothing else;
 *   - digest algorithms are COSE ids (-43 SHA-384, -44 SHA-512) instead of
 *     the Named Information ids CoRIM uses (7, 8): both accepted
 *     (WB_SAFE_Q_COSE_HASH_IDS);
 *   - the completion date is an epoch time 1(1776657600).
 * The report must carry exactly one SFR record; the device is the class of
 * its endorsement environment, which the conditions must name too. The SFR
 * map is read as strictly as the JSON: unknown keys are refused. The CoRIM
 * does not carry category, methodology or a report-wide cvss_version: those
 * stay "" (an issue's cvss version, when present, fills cvss_version).
 */
#include "safe_int.h"

#include "cose/cose_int.h"
#include "waybill/error.h"
#include "waybill/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG_CORIM 501
#define TAG_COMID 506
#define TAG_OID 111
#define CORIM_ROLE_MANIFEST_CREATOR 1

/* the OID content octets of 1.3.6.1.4.1.47639.1.1 and 1.3.6.1.4.1.42623.1.1 */
static const uint8_t oid_47639[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xf4, 0x17, 0x01, 0x01};
static const uint8_t oid_42623[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xcc, 0x7f, 0x01, 0x01};

typedef struct {
    wb_safe_report *r;
    int found; /* an SFR record was read */
} corim_ctx;

/* ---- helpers ---- */

static int text_into(char *dst, size_t cap, const cbor_item_t *it, const char *what)
{
    if (!it)
        return wb_error_set(WB_E_INVALID, "%s: missing", what);
    if (!cbor_isa_string(it))
        return wb_error_set(WB_E_INVALID, "%s: is %s, want a text string", what,
                            wb_cbor_type_name(it));
    return wb_safe_text(dst, cap, (const char *)cbor_string_handle(it),
                        cbor_string_length(it), what);
}

static int long_text(char **dst, const cbor_item_t *it, const char *what)
{
    if (!cbor_isa_string(it))
        return wb_error_set(WB_E_INVALID, "%s: is %s, want a text string", what,
                            wb_cbor_type_name(it));
    return wb_safe_long_text(dst, (const char *)cbor_string_handle(it),
                             cbor_string_length(it), what);
}

static int want(const cbor_item_t *it, int ok, const char *type, const char *what)
{
    if (!it)
        return wb_error_set(WB_E_INVALID, "%s: missing", what);
    if (!ok)
        return wb_error_set(WB_E_INVALID, "%s: is %s, want %s", what, wb_cbor_type_name(it),
                            type);
    return 0;
}

#define WANT_ARRAY(it, what) want((it), (it) && cbor_isa_array(it), "an array", (what))
#define WANT_MAP(it, what) want((it), (it) && cbor_isa_map(it), "a map", (what))

/* every key of map is an integer in known[0..n) */
static int known_keys(const cbor_item_t *map, const int64_t *known, size_t n,
                      const char *what)
{
    struct cbor_pair *p = cbor_map_handle(map);

    for (size_t i = 0; i < cbor_map_size(map); i++) {
        int64_t k;
        size_t j;
        char key[48];
        if (wb_cbor_int64(p[i].key, &k)) {
            for (j = 0; j < n && known[j] != k; j++)
                ;
            if (j < n)
                continue;
        }
        wb_cbor_key_text(key, sizeof(key), p[i].key);
        return wb_error_set(WB_E_INVALID, "%s: unknown key %s (refused rather than dropped)",
                            what, key);
    }
    return 0;
}

/* ---- digests ---- */

/*
 * one digests-type list into the report's fw_sha384 / fw_sha512: a second,
 * different value of the same algorithm is refused, not chosen between
 */
static int digests_into(wb_safe_report *r, const cbor_item_t *list, const char *what)
{
    char w[128];
    int rc;

    if ((rc = WANT_ARRAY(list, what)) != 0)
        return rc;
    for (size_t i = 0; i < cbor_array_size(list); i++) {
        cbor_item_t *d = cbor_array_handle(list)[i], **e;
        int64_t alg;
        size_t want_len, n;
        char hex[129], *dst;

        snprintf(w, sizeof(w), "%s[%zu]", what, i);
        if (!cbor_isa_array(d) || cbor_array_size(d) != 2)
            return wb_error_set(WB_E_INVALID, "%s: want [alg, bytes]", w);
        e = cbor_array_handle(d);
        if (!wb_cbor_int64(e[0], &alg) || !cbor_isa_bytestring(e[1]))
            return wb_error_set(WB_E_INVALID, "%s: want [integer alg, byte string]", w);
        if (alg == -43 || alg == 7) {
            want_len = 48;
            dst = r->fw_sha384;
        } else if (alg == -44 || alg == 8) {
            want_len = 64;
            dst = r->fw_sha512;
        } else {
            return wb_error_set(WB_E_INVALID,
                                "%s: digest algorithm %lld is not SHA-384 (-43, 7) or "
                                "SHA-512 (-44, 8)",
                                w, (long long)alg);
        }
        if (alg < 0)
            r->quirks |= WB_SAFE_Q_COSE_HASH_IDS;
        n = cbor_bytestring_length(e[1]);
        if (n != want_len)
            return wb_error_set(WB_E_INVALID, "%s: %zu bytes, want %zu", w, n, want_len);
        wb_hex_encode(hex, wb_cbor_bytes(e[1]), n);
        if (dst[0] && strcmp(dst, hex) != 0)
            return wb_error_set(WB_E_INVALID,
                                "%s: a second, different SHA-%d firmware digest; a review "
                                "statement names one firmware image",
                                w, want_len == 48 ? 384 : 512);
        memcpy(dst, hex, 2 * n + 1);
    }
    return 0;
}

/* one digest of a manifest file: the first of its list */
static int file_digest(wb_safe_file *f, const cbor_item_t *list, const char *what)
{
    cbor_item_t **e;
    size_t n;
    int rc;

    if ((rc = WANT_ARRAY(list, what)) != 0)
        return rc;
    if (cbor_array_size(list) == 0)
        return wb_error_set(WB_E_INVALID, "%s: empty", what);
    e = cbor_array_handle(list);
    if (!cbor_isa_array(e[0]) || cbor_array_size(e[0]) != 2 ||
        !cbor_isa_bytestring(cbor_array_handle(e[0])[1]))
        return wb_error_set(WB_E_INVALID, "%s: want [alg, bytes]", what);
    n = cbor_bytestring_length(cbor_array_handle(e[0])[1]);
    if (n != 32 && n != 48 && n != 64)
        return wb_error_set(WB_E_INVALID, "%s: %zu bytes, want 32, 48 or 64", what, n);
    wb_hex_encode(f->hash, wb_cbor_bytes(cbor_array_handle(e[0])[1]), n);
    return 0;
}

/* ---- the SFR map ---- */

static int fw_identifier(wb_safe_report *r, const cbor_item_t *fw)
{
    static const int64_t keys[] = {0, 1, 2, 3};
    const char *what = "CoRIM sfr fw-identifiers[0]";
    cbor_item_t *ver, *dig, *tag, *man;
    int rc;

    if ((rc = WANT_MAP(fw, what)) != 0 || (rc = known_keys(fw, keys, 4, what)) != 0)
        return rc;
    ver = wb_cbor_map_get_int(fw, 0);
    if (ver) {
        if ((rc = WANT_MAP(ver, "CoRIM sfr fw-version")) != 0 ||
            (rc = text_into(r->fw_version, sizeof(r->fw_version), wb_cbor_map_get_int(ver, 0),
                            "CoRIM sfr fw-version version")) != 0)
            return rc;
    }
    dig = wb_cbor_map_get_int(fw, 1);
    if (dig && (rc = digests_into(r, dig, "CoRIM sfr fw-file-digests")) != 0)
        return rc;
    tag = wb_cbor_map_get_int(fw, 2);
    if (tag && (rc = long_text(&r->repo_tag, tag, "CoRIM sfr repo-tag")) != 0)
        return rc;
    man = wb_cbor_map_get_int(fw, 3);
    if (man) {
        cbor_item_t *list;
        size_t n;
        if ((rc = WANT_MAP(man, "CoRIM sfr src-manifest")) != 0)
            return rc;
        list = wb_cbor_map_get_int(man, 1);
        if ((rc = WANT_ARRAY(list, "CoRIM sfr src-manifest manifest")) != 0)
            return rc;
        n = cbor_array_size(list);
        if (n > WB_SAFE_FILES_MAX)
            return wb_error_set(WB_E_LIMIT, "CoRIM sfr src-manifest: %zu files, over the %d "
                                            "limit",
                                n, WB_SAFE_FILES_MAX);
        r->files = calloc(n + 1, sizeof(*r->files));
        if (!r->files)
            return wb_error_set(WB_E_NOMEM, "out of memory for the manifest");
        for (size_t i = 0; i < n; i++) {
            cbor_item_t *e = cbor_array_handle(list)[i];
            char w[64];
            snprintf(w, sizeof(w), "CoRIM sfr manifest[%zu]", i);
            if ((rc = WANT_MAP(e, w)) != 0 ||
                (rc = text_into(r->files[i].name, sizeof(r->files[i].name),
                                wb_cbor_map_get_int(e, 0), w)) != 0 ||
                (rc = file_digest(&r->files[i], wb_cbor_map_get_int(e, 1), w)) != 0)
                return rc;
            r->nfiles = i + 1;
        }
    }
    return 0;
}

static int issue(wb_safe_report *r, wb_safe_issue *is, const cbor_item_t *m, size_t i)
{
    static const int64_t keys[] = {0, 1, 2, 3, 4};
    char w[64], what[96], score[WB_SAFE_SHORT_MAX + 1], vector[WB_SAFE_VECTOR_MAX + 1],
        version[WB_SAFE_SHORT_MAX + 1] = "";
    cbor_item_t *a, *cve, *cwe, *ver;
    int rc;

    snprintf(w, sizeof(w), "CoRIM sfr issues[%zu]", i);
    if ((rc = WANT_MAP(m, w)) != 0 || (rc = known_keys(m, keys, 5, w)) != 0)
        return rc;
    snprintf(what, sizeof(what), "%s title", w);
    if ((rc = text_into(is->title, sizeof(is->title), wb_cbor_map_get_int(m, 0), what)) != 0)
        return rc;
    if (is->title[0] == '\0')
        return wb_error_set(WB_E_INVALID, "%s: empty", what);
    snprintf(what, sizeof(what), "%s description", w);
    if (!wb_cbor_map_get_int(m, 1))
        return wb_error_set(WB_E_INVALID, "%s: missing", what);
    if ((rc = long_text(&is->description, wb_cbor_map_get_int(m, 1), what)) != 0)
        return rc;
    a = wb_cbor_map_get_int(m, 2);
    snprintf(what, sizeof(what), "%s assessment", w);
    if ((rc = WANT_MAP(a, what)) != 0)
        return rc;
    if (!wb_cbor_map_get_int(a, 1) || !cbor_isa_string(wb_cbor_map_get_int(a, 1)))
        return wb_error_set(WB_E_INVALID,
                            "%s: not a CVSS assessment (a JIL or qualitative rating), which "
                            "a waybill review cannot hold",
                            what);
    if ((rc = text_into(score, sizeof(score), wb_cbor_map_get_int(a, 0), what)) != 0 ||
        (rc = wb_safe_score_text(&is->cvss_score, score, what)) != 0 ||
        (rc = text_into(vector, sizeof(vector), wb_cbor_map_get_int(a, 1), what)) != 0)
        return rc;
    ver = wb_cbor_map_get_int(a, 2);
    if (ver) {
        if ((rc = text_into(version, sizeof(version), ver, what)) != 0 ||
            (rc = wb_safe_cvss_version_check(version, what)) != 0)
            return rc;
        if (!r->cvss_version[0])
            memcpy(r->cvss_version, version, sizeof(r->cvss_version));
    }
    if ((rc = wb_safe_vector(is->cvss_vector, sizeof(is->cvss_vector), vector,
                             version[0] ? version : r->cvss_version, &r->quirks, what)) != 0)
        return rc;
    cwe = wb_cbor_map_get_int(m, 3);
    snprintf(what, sizeof(what), "%s cwe", w);
    if (cwe && (rc = text_into(is->cwe, sizeof(is->cwe), cwe, what)) != 0)
        return rc;
    cve = wb_cbor_map_get_int(m, 4);
    snprintf(what, sizeof(what), "%s cve", w);
    if (cve) {
        char text[WB_SAFE_SHORT_MAX + 1];
        if ((rc = text_into(text, sizeof(text), cve, what)) != 0 ||
            (rc = wb_safe_cve(is->cve, sizeof(is->cve), text, what)) != 0)
            return rc;
    }
    return 0;
}

static int sfr_map(wb_safe_report *r, const cbor_item_t *sfr)
{
    static const int64_t keys[] = {0, 1, 2, 3, 4, 5, 6};
    const char *what = "CoRIM sfr";
    cbor_item_t *date, *fws, *issues, *solid;
    int64_t t, scope;
    int rc;

    if ((rc = WANT_MAP(sfr, what)) != 0 || (rc = known_keys(sfr, keys, 7, what)) != 0 ||
        (rc = text_into(r->framework_version, sizeof(r->framework_version),
                        wb_cbor_map_get_int(sfr, 0), "CoRIM sfr review-framework-version")) !=
            0 ||
        (rc = wb_safe_version_check(r->framework_version,
                                    "CoRIM sfr review-framework-version")) != 0 ||
        (rc = text_into(r->report_version, sizeof(r->report_version),
                        wb_cbor_map_get_int(sfr, 1), "CoRIM sfr report-version")) != 0)
        return rc;

    date = wb_cbor_map_get_int(sfr, 2);
    if (!date || !cbor_isa_tag(date) || cbor_tag_value(date) != WB_CBOR_TAG_EPOCH ||
        !wb_cbor_int64(wb_cbor_tag_inner(date), &t))
        return wb_error_set(WB_E_INVALID,
                            "CoRIM sfr completion-date: want an epoch time 1(seconds)");
    if ((rc = wb_safe_date_from_epoch(r->completion_date, t, "CoRIM sfr completion-date")) !=
        0)
        return rc;

    if (!wb_cbor_int64(wb_cbor_map_get_int(sfr, 3), &scope) || scope < 1 || scope > 99)
        return wb_error_set(WB_E_INVALID, "CoRIM sfr scope-number: want an integer 1 to 99");
    r->scope_number = (int)scope;

    fws = wb_cbor_map_get_int(sfr, 4);
    if (fws) {
        if ((rc = WANT_ARRAY(fws, "CoRIM sfr fw-identifiers")) != 0)
            return rc;
        if (cbor_array_size(fws) != 1)
            return wb_error_set(WB_E_INVALID,
                                "CoRIM sfr fw-identifiers: %zu entries; a waybill review "
                                "names one firmware image",
                                cbor_array_size(fws));
        if ((rc = fw_identifier(r, cbor_array_handle(fws)[0])) != 0)
            return rc;
    }

    issues = wb_cbor_map_get_int(sfr, 5);
    if (issues) {
        size_t n;
        if ((rc = WANT_ARRAY(issues, "CoRIM sfr issues")) != 0)
            return rc;
        n = cbor_array_size(issues);
        if (n > WB_SAFE_ISSUES_MAX)
            return wb_error_set(WB_E_LIMIT, "CoRIM sfr issues: %zu, over the %d limit", n,
                                WB_SAFE_ISSUES_MAX);
        r->issues = calloc(n + 1, sizeof(*r->issues));
        if (!r->issues)
            return wb_error_set(WB_E_NOMEM, "out of memory for the issues");
        for (size_t i = 0; i < n; i++) {
            r->nissues = i + 1;
            if ((rc = issue(r, &r->issues[i], cbor_array_handle(issues)[i], i)) != 0)
                return rc;
        }
    }
    solid = wb_cbor_map_get_int(sfr, 6);
    if (solid && !cbor_isa_string(solid))
        return wb_error_set(WB_E_INVALID, "CoRIM sfr solid-version: want a text string");
    return 0;
}

/* ---- environments, triples, CoMIDs ---- */

/* vendor and model of an environment-map { 0: { 1: vendor, 2: model } } */
static int env_class(char *vendor, char *model, const cbor_item_t *env, const char *what)
{
    char w[96];
    cbor_item_t *cls;
    int rc;

    if ((rc = WANT_MAP(env, what)) != 0)
        return rc;
    cls = wb_cbor_map_get_int(env, 0);
    snprintf(w, sizeof(w), "%s class", what);
    if ((rc = WANT_MAP(cls, w)) != 0)
        return rc;
    snprintf(w, sizeof(w), "%s class vendor", what);
    if ((rc = text_into(vendor, WB_PROV_NAME_MAX + 1, wb_cbor_map_get_int(cls, 1), w)) != 0)
        return rc;
    snprintf(w, sizeof(w), "%s class model", what);
    return text_into(model, WB_PROV_NAME_MAX + 1, wb_cbor_map_get_int(cls, 2), w);
}

/* one conditional-endorsement-triple-record; sets found if it holds an SFR */
static int triple(corim_ctx *c, const cbor_item_t *rec)
{
    cbor_item_t **e, *conds, *ends;
    const cbor_item_t *sfr = NULL;
    char vendor[WB_PROV_NAME_MAX + 1], model[WB_PROV_NAME_MAX + 1];
    int rc;

    if (!cbor_isa_array(rec) || cbor_array_size(rec) != 2)
        return wb_error_set(WB_E_INVALID,
                            "CoMID conditional-endorsement triple: want [conditions, "
                            "endorsements]");
    e = cbor_array_handle(rec);
    conds = e[0];
    ends = e[1];
    if ((rc = WANT_ARRAY(conds, "CoMID triple conditions")) != 0 ||
        (rc = WANT_ARRAY(ends, "CoMID triple endorsements")) != 0)
        return rc;

    /* the endorsement that carries the SFR (extension -1 of its mval) */
    for (size_t i = 0; i < cbor_array_size(ends); i++) {
        cbor_item_t *end = cbor_array_handle(ends)[i], *mms;
        if (!cbor_isa_array(end) || cbor_array_size(end) != 2)
            return wb_error_set(WB_E_INVALID,
                                "CoMID endorsement: want [environment, measurements]");
        mms = cbor_array_handle(end)[1];
        if ((rc = WANT_ARRAY(mms, "CoMID endorsement measurements")) != 0)
            return rc;
        for (size_t j = 0; j < cbor_array_size(mms); j++) {
            cbor_item_t *mval = wb_cbor_map_get_int(cbor_array_handle(mms)[j], 1);
            cbor_item_t *s = wb_cbor_map_get_int(mval, -1);
            if (!s)
                continue;
            if (sfr || c->found)
                return wb_error_set(WB_E_INVALID,
                                    "CoRIM: more than one OCP SAFE SFR record; a review "
                                    "statement holds one");
            sfr = s;
            if ((rc = env_class(vendor, model, cbor_array_handle(end)[0],
                                "CoMID endorsement environment")) != 0)
                return rc;
        }
    }
    if (!sfr)
        return 0;
    c->found = 1;
    memcpy(c->r->vendor, vendor, sizeof(vendor));
    memcpy(c->r->product, model, sizeof(model));
    if ((rc = sfr_map(c->r, sfr)) != 0)
        return rc;

    /* the conditions: the same device, and the firmware digests reviewed */
    if (cbor_array_size(conds) == 0)
        return wb_error_set(WB_E_INVALID, "CoMID triple conditions: empty");
    for (size_t i = 0; i < cbor_array_size(conds); i++) {
        cbor_item_t *cond = cbor_array_handle(conds)[i], *claims;
        char cv[WB_PROV_NAME_MAX + 1], cm[WB_PROV_NAME_MAX + 1];
        if (!cbor_isa_array(cond) || cbor_array_size(cond) != 2)
            return wb_error_set(WB_E_INVALID,
                                "CoMID condition: want [environment, claims]");
        if ((rc = env_class(cv, cm, cbor_array_handle(cond)[0],
                            "CoMID condition environment")) != 0)
            return rc;
        if (strcmp(cv, vendor) != 0 || strcmp(cm, model) != 0)
            return wb_error_set(WB_E_INVALID,
                                "CoMID condition names device '%s' / '%s', the endorsement "
                                "'%s' / '%s'",
                                cv, cm, vendor, model);
        claims = cbor_array_handle(cond)[1];
        if ((rc = WANT_ARRAY(claims, "CoMID condition claims")) != 0)
            return rc;
        for (size_t j = 0; j < cbor_array_size(claims); j++) {
            cbor_item_t *mval = wb_cbor_map_get_int(cbor_array_handle(claims)[j], 1);
            cbor_item_t *dig = wb_cbor_map_get_int(mval, 2);
            if (dig && (rc = digests_into(c->r, dig, "CoMID condition digests")) != 0)
                return rc;
        }
    }
    return 0;
}

static int comid(corim_ctx *c, const cbor_item_t *tag, size_t i)
{
    cbor_item_t *b, *m = NULL, *triples, *ces;
    char what[48];
    int rc;

    snprintf(what, sizeof(what), "CoRIM tags[%zu]", i);
    if (!cbor_isa_tag(tag) || cbor_tag_value(tag) != TAG_COMID)
        return wb_error_set(WB_E_INVALID, "%s: want a CoMID, tag 506", what);
    b = wb_cbor_tag_inner(tag);
    if (!cbor_isa_bytestring(b))
        return wb_error_set(WB_E_INVALID, "%s: want 506(bstr)", what);
    if ((rc = wb_cbor_load(&m, wb_cbor_bytes(b), cbor_bytestring_length(b),
                           cbor_bytestring_length(b), what)) != 0)
        return rc;
    if ((rc = WANT_MAP(m, what)) != 0)
        goto done;
    triples = wb_cbor_map_get_int(m, 4);
    if ((rc = WANT_MAP(triples, "CoMID triples")) != 0)
        goto done;
    ces = wb_cbor_map_get_int(triples, 10);
    if (!ces)
        goto done; /* other triples carry no SFR */
    if ((rc = WANT_ARRAY(ces, "CoMID conditional-endorsement triples")) != 0)
        goto done;
    for (size_t j = 0; j < cbor_array_size(ces); j++)
        if ((rc = triple(c, cbor_array_handle(ces)[j])) != 0)
            goto done;
done:
    cbor_decref(&m);
    return rc;
}

/* ---- the CoRIM ---- */

static int profile(wb_safe_report *r, const cbor_item_t *p)
{
    const uint8_t *b;
    size_t n;

    if (!p || !cbor_isa_tag(p) || cbor_tag_value(p) != TAG_OID ||
        !cbor_isa_bytestring(wb_cbor_tag_inner(p)))
        return wb_error_set(WB_E_INVALID, "CoRIM profile: want an OID, 111(bstr)");
    b = wb_cbor_bytes(wb_cbor_tag_inner(p));
    n = cbor_bytestring_length(wb_cbor_tag_inner(p));
    if (n == 2 + sizeof(oid_47639) && b[0] == 0x06 && b[1] == sizeof(oid_47639)) {
        b += 2;
        n -= 2;
        r->quirks |= WB_SAFE_Q_PROFILE_TLV;
    }
    if ((n == sizeof(oid_47639) && memcmp(b, oid_47639, n) == 0) ||
        (n == sizeof(oid_42623) && memcmp(b, oid_42623, n) == 0))
        return 0;
    return wb_error_set(WB_E_INVALID,
                        "CoRIM profile: not the OCP SAFE SFR profile "
                        "(1.3.6.1.4.1.47639.1.1 or 1.3.6.1.4.1.42623.1.1)");
}

/* the reviewer: the one entity with the manifest-creator role */
static int entities(wb_safe_report *r, const cbor_item_t *list)
{
    int n = 0, rc;

    if ((rc = WANT_ARRAY(list, "CoRIM entities")) != 0)
        return rc;
    for (size_t i = 0; i < cbor_array_size(list); i++) {
        cbor_item_t *e = cbor_array_handle(list)[i], *roles;
        int creator = 0;
        if ((rc = WANT_MAP(e, "CoRIM entity")) != 0)
            return rc;
        roles = wb_cbor_map_get_int(e, 2);
        if ((rc = WANT_ARRAY(roles, "CoRIM entity roles")) != 0)
            return rc;
        for (size_t j = 0; j < cbor_array_size(roles); j++) {
            int64_t role;
            if (wb_cbor_int64(cbor_array_handle(roles)[j], &role) &&
                role == CORIM_ROLE_MANIFEST_CREATOR)
                creator = 1;
        }
        if (!creator)
            continue;
        if (n++)
            return wb_error_set(WB_E_INVALID, "CoRIM entities: two manifest creators");
        if ((rc = text_into(r->srp, sizeof(r->srp), wb_cbor_map_get_int(e, 0),
                            "CoRIM entity name")) != 0)
            return rc;
    }
    if (n == 0 || r->srp[0] == '\0')
        return wb_error_set(WB_E_INVALID,
                            "CoRIM entities: no manifest creator (role 1) names the "
                            "reviewer");
    return 0;
}

int wb_safe_corim_parse(wb_safe_report *r, const uint8_t *cbor, size_t len)
{
    static const int64_t keys[] = {0, 1, 2, 3, 4, 5};
    corim_ctx c;
    cbor_item_t *root, *map, *id, *tags;
    int rc;

    memset(r, 0, sizeof(*r));
    memset(&c, 0, sizeof(c));
    c.r = r;
    if ((rc = wb_cbor_load(&root, cbor, len, WB_SAFE_REPORT_MAX, "CoRIM")) != 0)
        return rc;
    if (!cbor_isa_tag(root) || cbor_tag_value(root) != TAG_CORIM) {
        rc = wb_error_set(WB_E_INVALID, "CoRIM: want an unsigned CoRIM, tag 501");
        goto done;
    }
    map = wb_cbor_tag_inner(root);
    if ((rc = WANT_MAP(map, "CoRIM")) != 0 || (rc = known_keys(map, keys, 6, "CoRIM")) != 0)
        goto done;
    id = wb_cbor_map_get_int(map, 0);
    if (!id || !(cbor_isa_string(id) || cbor_isa_bytestring(id))) {
        rc = wb_error_set(WB_E_INVALID, "CoRIM id: want a text or byte string");
        goto done;
    }
    if ((rc = profile(r, wb_cbor_map_get_int(map, 3))) != 0 ||
        (rc = entities(r, wb_cbor_map_get_int(map, 5))) != 0)
        goto done;
    tags = wb_cbor_map_get_int(map, 1);
    if ((rc = WANT_ARRAY(tags, "CoRIM tags")) != 0)
        goto done;
    for (size_t i = 0; i < cbor_array_size(tags); i++)
        if ((rc = comid(&c, cbor_array_handle(tags)[i], i)) != 0)
            goto done;
    if (!c.found) {
        rc = wb_error_set(WB_E_INVALID,
                          "CoRIM: no OCP SAFE SFR record (measurement-values extension -1 "
                          "of a conditional endorsement)");
        goto done;
    }
    if (!r->repo_tag && (rc = wb_safe_long_text(&r->repo_tag, "", 0, "repo_tag")) != 0)
        goto done;
    if (!r->issues && !(r->issues = calloc(1, sizeof(*r->issues))))
        rc = wb_error_set(WB_E_NOMEM, "out of memory for the issues");
done:
    cbor_decref(&root);
    if (rc)
        wb_safe_report_cleanup(r);
    return rc;
}
