/*
 * safe.c: importing OCP SAFE security reviews (waybill/safe.h): which
 * signed form a report is, the reviewer keys, verification and
 * normalization, the review payload of prov.h, and checking a stored
 * review against the reviewer's original signed bytes.
 *
 * The layers live in safe_jws.c (JWS compact), safe_cose.c (COSE_Sign),
 * safe_corim.c (the report inside the CoRIM) and safe_sfr.c (the report's
 * JSON and the normalization rules).
 */
#include "safe_int.h"

#include "waybill/crypto.h"
#include "waybill/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ---- */

const char *wb_safe_format_name(wb_safe_format f)
{
    switch (f) {
    case WB_SAFE_FORMAT_JWS: return "jws";
    case WB_SAFE_FORMAT_COSE_SIGN: return "cose-sign";
    default: return NULL;
    }
}

wb_safe_format wb_safe_format_from_name(const char *name)
{
    if (name && strcmp(name, "jws") == 0)
        return WB_SAFE_FORMAT_JWS;
    if (name && strcmp(name, "cose-sign") == 0)
        return WB_SAFE_FORMAT_COSE_SIGN;
    return WB_SAFE_FORMAT_NONE;
}

const char *wb_safe_quirk_name(unsigned bit)
{
    static const char *const names[WB_SAFE_Q_COUNT] = {
        "scope-absent",  "scope-string",  "scope-float",    "date-unpadded",
        "hash-empty",    "sha512-holds-32-bytes", "hex-uppercase", "score-string",
        "vector-slash",  "vector-bare",   "cve-empty",      "cve-null",
        "cose-no-alg",   "corim-profile-tlv", "corim-cose-hash-ids",
    };

    for (unsigned i = 0; i < WB_SAFE_Q_COUNT; i++)
        if (bit == 1u << i)
            return names[i];
    return NULL;
}

void wb_safe_report_cleanup(wb_safe_report *r)
{
    if (!r)
        return;
    free(r->repo_tag);
    free(r->files);
    for (size_t i = 0; r->issues && i < r->nissues; i++)
        free(r->issues[i].description);
    free(r->issues);
    memset(r, 0, sizeof(*r));
}

/* ---- reviewer keys ---- */

static void keys_free(wb_safe_key *keys, size_t n)
{
    for (size_t i = 0; keys && i < n; i++)
        free(keys[i].der);
    free(keys);
}

static int keys_load(wb_safe_key **out, const char *const *pems, size_t n)
{
    wb_safe_key *keys;
    int rc;

    *out = NULL;
    if (n == 0)
        return wb_error_set(WB_E_INVALID, "no reviewer key given");
    if (n > WB_SAFE_KEYS_MAX)
        return wb_error_set(WB_E_LIMIT, "%zu reviewer keys, over the %d limit", n,
                            WB_SAFE_KEYS_MAX);
    keys = calloc(n, sizeof(*keys));
    if (!keys)
        return wb_error_set(WB_E_NOMEM, "out of memory for the reviewer keys");
    for (size_t i = 0; i < n; i++) {
        if (!pems[i]) {
            keys_free(keys, n);
            return wb_error_set(WB_E_INVALID, "reviewer key %zu: missing", i + 1);
        }
        if ((rc = wb_spki_from_pem(&keys[i].der, &keys[i].len, pems[i], strlen(pems[i]))) !=
                0 ||
            (rc = wb_spki_ecdsa_alg(&keys[i].alg, keys[i].der, keys[i].len)) != 0) {
            keys_free(keys, n);
            return wb_error_prefix(rc, "reviewer key %zu", i + 1);
        }
    }
    *out = keys;
    return 0;
}

/* ---- verification ---- */

/*
 * which form: a JWS is base64url text (its header always starts "eyJ", the
 * encoding of '{"'); a COSE_Sign is CBOR, a tag (major type 6) or an
 * untagged array (4), which wb_safe_cose_decode then names precisely
 */
static int detect(wb_safe_format *f, const uint8_t *data, size_t len)
{
    *f = WB_SAFE_FORMAT_NONE;
    if (len == 0)
        return wb_error_set(WB_E_INVALID, "the report is empty");
    if (wb_safe_b64url_char(data[0])) {
        *f = WB_SAFE_FORMAT_JWS;
        return 0;
    }
    if (data[0] >> 5 == 6 || data[0] >> 5 == 4) {
        *f = WB_SAFE_FORMAT_COSE_SIGN;
        return 0;
    }
    if (data[0] == '{' || data[0] == ' ' || data[0] == '\n' || data[0] == '\t' ||
        data[0] == '\r')
        return wb_error_set(WB_E_INVALID,
                            "the report is plain JSON, an unsigned SFR: import its signed "
                            "form (the .jws or .jwt JWS file, or the _signed.cbor "
                            "COSE_Sign)");
    return wb_error_set(WB_E_INVALID,
                        "the report is neither a JWS (base64url text) nor a COSE_Sign "
                        "(CBOR tag 98): first byte 0x%02x",
                        data[0]);
}

static int verify_keys(wb_safe_report *out, const uint8_t *data, size_t len,
                       const wb_safe_key *keys, size_t nkeys)
{
    wb_safe_format f;
    size_t key = 0, signer = 0;
    unsigned q = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (len > WB_SAFE_REPORT_MAX)
        return wb_error_set(WB_E_LIMIT, "the report is %zu bytes, over the %d-byte limit",
                            len, WB_SAFE_REPORT_MAX);
    if ((rc = detect(&f, data, len)) != 0)
        return rc;
    if (f == WB_SAFE_FORMAT_JWS) {
        wb_safe_jws j;
        if ((rc = wb_safe_jws_decode(&j, data, len)) != 0)
            return rc;
        rc = wb_safe_jws_verify(&j, keys, nkeys, &key);
        if (rc == 0)
            rc = wb_safe_sfr_parse(out, j.payload, j.payload_len);
        if (rc == 0) {
            memcpy(out->alg, j.alg, sizeof(out->alg));
            memcpy(out->kid, j.kid, sizeof(out->kid));
        }
        wb_safe_jws_cleanup(&j);
    } else {
        wb_safe_cose c;
        const char *alg = NULL;
        if ((rc = wb_safe_cose_decode(&c, data, len)) != 0)
            return rc;
        rc = wb_safe_cose_verify(&c, keys, nkeys, &key, &signer, &alg, &q);
        if (rc == 0)
            rc = wb_safe_corim_parse(out, c.payload, c.payload_len);
        if (rc == 0) {
            snprintf(out->alg, sizeof(out->alg), "%s", alg);
            memcpy(out->kid, c.signers[signer].kid, sizeof(out->kid));
        }
        wb_safe_cose_cleanup(&c);
    }
    if (rc)
        return rc;
    out->format = f;
    out->key_index = key;
    out->quirks |= q;
    return 0;
}

int wb_safe_report_verify(wb_safe_report *out, const uint8_t *data, size_t len,
                          const char *const *key_pems, size_t nkeys)
{
    wb_safe_key *keys;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = keys_load(&keys, key_pems, nkeys)) != 0)
        return rc;
    rc = verify_keys(out, data, len, keys, nkeys);
    keys_free(keys, nkeys);
    return rc;
}

/* ---- the review payload ---- */

static void review_free(wb_p_review *rv)
{
    free(rv->issues);
    free(rv->original_format);
    free(rv->original);
    memset(rv, 0, sizeof(*rv));
}

/* the review a verified report makes (the one mapping import and re-check share) */
static int review_fill(wb_p_review *rv, const wb_safe_report *rep, const uint8_t *data,
                       size_t len)
{
    const char *fmt = wb_safe_format_name(rep->format);
    int n, rc;

    memset(rv, 0, sizeof(*rv));
    memcpy(rv->firmware_digest, rep->fw_sha384, sizeof(rv->firmware_digest));
    if ((rc = wb_safe_text(rv->reviewer, sizeof(rv->reviewer), rep->srp, strlen(rep->srp),
                           "reviewer")) != 0)
        return rc;
    n = snprintf(rv->framework, sizeof(rv->framework), "OCP SAFE SFR %s",
                 rep->framework_version);
    if (n < 0 || (size_t)n >= sizeof(rv->framework))
        return wb_error_set(WB_E_LIMIT, "framework name too long");
    rv->issues = calloc(rep->nissues + 1, sizeof(*rv->issues));
    rv->original_format = fmt ? strdup(fmt) : NULL;
    rv->original = malloc(len ? len : 1);
    if (!rv->issues || !rv->original_format || !rv->original) {
        review_free(rv);
        return wb_error_set(WB_E_NOMEM, "out of memory for the review");
    }
    for (size_t i = 0; i < rep->nissues; i++) {
        wb_review_issue *o = &rv->issues[i];
        const wb_safe_issue *is = &rep->issues[i];
        if ((rc = wb_safe_text(o->title, sizeof(o->title), is->title, strlen(is->title),
                               "issue title")) != 0 ||
            (rc = wb_safe_text(o->cve, sizeof(o->cve), is->cve, strlen(is->cve),
                               "issue cve")) != 0) {
            review_free(rv);
            return rc;
        }
        o->cvss = is->cvss_score;
    }
    rv->nissues = rep->nissues;
    memcpy(rv->original, data, len);
    rv->original_len = len;
    return 0;
}

const char *wb_safe_digest_note(const wb_safe_report *rep)
{
    if (rep->fw_sha384[0])
        return NULL;
    return rep->fw_sha512[0]     ? "the report names only a SHA-512 of the firmware"
           : rep->fw_digest32[0] ? "the report names only a 32-byte value of unnamed "
                                   "algorithm in fw_hash_sha2_512"
                                 : "the report names no firmware hash at all";
}

int wb_safe_import(wb_prov_payload *out, wb_safe_report *report, const uint8_t *data,
                   size_t len, const char *const *key_pems, size_t nkeys)
{
    wb_safe_report rep;
    int rc;

    memset(out, 0, sizeof(*out));
    if (report)
        memset(report, 0, sizeof(*report));
    if ((rc = wb_safe_report_verify(&rep, data, len, key_pems, nkeys)) != 0)
        return rc;
    /* a report without a SHA-384 still imports: the review is on the record,
     * but it names no image, so no measured firmware counts as reviewed by
     * it (wb_safe_digest_note says why) */
    if ((rc = review_fill(&out->u.review, &rep, data, len)) != 0) {
        wb_safe_report_cleanup(&rep);
        return rc;
    }
    out->kind = WB_KIND_REVIEW;
    out->version = WB_PROV_VERSION;
    if (report)
        *report = rep; /* the caller owns it now */
    else
        wb_safe_report_cleanup(&rep);
    return 0;
}

int wb_safe_verify_original(const wb_p_review *r, const char *const *key_pems, size_t nkeys)
{
    wb_safe_format f = wb_safe_format_from_name(r->original_format);
    wb_safe_report rep;
    wb_p_review want;
    int rc;

    if (!r->original || r->original_len == 0)
        return wb_error_set(WB_E_INVALID, "the review keeps no original signed report");
    if (f == WB_SAFE_FORMAT_NONE)
        return wb_error_set(WB_E_INVALID, "original_format '%s' is not jws or cose-sign",
                            r->original_format ? r->original_format : "(none)");
    if ((rc = wb_safe_report_verify(&rep, r->original, r->original_len, key_pems, nkeys)) != 0)
        return wb_error_prefix(rc, "original");
    if (rep.format != f) {
        rc = wb_error_set(WB_E_VERIFY, "original_format says %s, the original is %s",
                          r->original_format, wb_safe_format_name(rep.format));
        wb_safe_report_cleanup(&rep);
        return rc;
    }
    rc = review_fill(&want, &rep, r->original, r->original_len);
    wb_safe_report_cleanup(&rep);
    if (rc)
        return rc;
    if (strcmp(r->firmware_digest, want.firmware_digest) != 0)
        rc = wb_error_set(WB_E_VERIFY, "firmware_digest is '%s', the signed report says '%s'",
                          r->firmware_digest, want.firmware_digest);
    else if (strcmp(r->reviewer, want.reviewer) != 0)
        rc = wb_error_set(WB_E_VERIFY, "reviewer is '%s', the signed report says '%s'",
                          r->reviewer, want.reviewer);
    else if (strcmp(r->framework, want.framework) != 0)
        rc = wb_error_set(WB_E_VERIFY, "framework is '%s', the signed report says '%s'",
                          r->framework, want.framework);
    else if (r->nissues != want.nissues)
        rc = wb_error_set(WB_E_VERIFY, "%zu issues, the signed report has %zu", r->nissues,
                          want.nissues);
    for (size_t i = 0; rc == 0 && i < r->nissues; i++) {
        const wb_review_issue *a = &r->issues[i], *b = &want.issues[i];
        if (strcmp(a->title, b->title) != 0)
            rc = wb_error_set(WB_E_VERIFY, "issues[%zu].title differs from the signed report",
                              i);
        else if (a->cvss != b->cvss)
            rc = wb_error_set(WB_E_VERIFY, "issues[%zu].cvss is %g, the signed report says %g",
                              i, a->cvss, b->cvss);
        else if (strcmp(a->cve, b->cve) != 0)
            rc = wb_error_set(WB_E_VERIFY, "issues[%zu].cve is '%s', the signed report says '%s'",
                              i, a->cve, b->cve);
    }
    review_free(&want);
    return rc;
}
