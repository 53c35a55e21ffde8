/*
 * fuzz_safe_report.c: libFuzzer target for the OCP SAFE review importer
 * (waybill/safe.h): the JWS compact parser, the COSE_Sign decoder, the SFR
 * JSON normalizer and the CoRIM reader.
 *
 * In real use the normalizers sit behind a signature that fuzzed input
 * never carries, so the input is also given to each layer directly:
 *   - wb_safe_report_verify with two real reviewer keys (Keysight P-521 and
 *     Trail of Bits P-384), the whole path;
 *   - wb_safe_jws_decode, then the normalizer on the decoded payload;
 *   - wb_safe_sfr_parse on the input as report JSON;
 *   - wb_safe_cose_decode, then the CoRIM reader on its payload;
 *   - wb_safe_corim_parse on the input as a CoRIM.
 * What every accepted report must satisfy, or abort(): a completion date
 * YYYY-MM-DD; hashes empty or lowercase hex of their algorithm's length;
 * scores within 0.0..10.0 with one decimal; vectors empty or prefixed
 * "CVSS:x.y/" (CVSS 2.0 vectors bare); cve empty or "CVE-"; every string
 * terminated within its array. A refused input leaves the report empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/lib/prov/safe_int.h"
#include "waybill/error.h"
#include "waybill/safe.h"

static const char *const pems[] = {
    "-----BEGIN PUBLIC KEY-----\n"
    "MIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQARcrJoJ0yuZ53xYcfAV072OJcKYJH\n"
    "m0M9kJTlJSxm604QRVVttbl/e7AGEAWF9wnI/o+QM3Tt9JqFcNZPHNbTbBMAgptp\n"
    "W+rbPWPg0XGwL+qsvwIAsKbYGMsTgACkprP/Qt/bv1Dz4hkR6sctKOLA3Pvn382q\n"
    "DYoghHTAy2OKIKvYfP8=\n"
    "-----END PUBLIC KEY-----\n",
    "-----BEGIN PUBLIC KEY-----\n"
    "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEj0KVf09+S1h2g+H/bPodhFj7yyqCzYB0\n"
    "XOpGQ9yl4owSS64aZzODpfK1TEwLxf5AFs8+HKX5ilE983baTHY+dPxWvkGxA+vg\n"
    "ImZbP4wiN/x+1BR+JN3wGPxorfMorvAJ\n"
    "-----END PUBLIC KEY-----\n",
};

static void need(int ok)
{
    if (!ok)
        abort();
}

static int terminated(const char *s, size_t cap)
{
    return memchr(s, 0, cap) != NULL;
}

static void check_hex(const char *h, size_t cap, size_t want)
{
    size_t n;
    need(terminated(h, cap));
    n = strlen(h);
    need(n == 0 || n == want);
    for (size_t i = 0; i < n; i++)
        need((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f'));
}

static void check_report(const wb_safe_report *r)
{
    need(terminated(r->completion_date, sizeof(r->completion_date)));
    need(strlen(r->completion_date) == 10 && r->completion_date[4] == '-' &&
         r->completion_date[7] == '-');
    need(r->scope_number >= 0 && r->scope_number <= 99);
    check_hex(r->fw_sha384, sizeof(r->fw_sha384), 96);
    check_hex(r->fw_sha512, sizeof(r->fw_sha512), 128);
    check_hex(r->fw_digest32, sizeof(r->fw_digest32), 64);
    need(terminated(r->vendor, sizeof(r->vendor)) && r->vendor[0]);
    need(terminated(r->product, sizeof(r->product)) && r->product[0]);
    need(terminated(r->srp, sizeof(r->srp)) && r->srp[0]);
    need(r->repo_tag != NULL && r->issues != NULL);
    need(r->nissues <= WB_SAFE_ISSUES_MAX && r->nfiles <= WB_SAFE_FILES_MAX);
    for (size_t i = 0; i < r->nfiles; i++) {
        size_t n = strlen(r->files[i].hash);
        need(n == 64 || n == 96 || n == 128);
    }
    for (size_t i = 0; i < r->nissues; i++) {
        const wb_safe_issue *is = &r->issues[i];
        need(is->cvss_score >= 0.0 && is->cvss_score <= 10.0);
        need((double)(int)(is->cvss_score * 10.0 + 0.5) / 10.0 == is->cvss_score);
        need(terminated(is->cvss_vector, sizeof(is->cvss_vector)));
        need(is->cvss_vector[0] == '\0' || strncmp(is->cvss_vector, "CVSS:", 5) == 0 ||
             strcmp(r->cvss_version, "2.0") == 0);
        need(terminated(is->cve, sizeof(is->cve)));
        need(is->cve[0] == '\0' || strncmp(is->cve, "CVE-", 4) == 0);
        need(is->description != NULL && is->title[0]);
    }
}

static void check_empty(const wb_safe_report *r)
{
    need(r->issues == NULL && r->files == NULL && r->repo_tag == NULL && r->nissues == 0);
}

static void one(int rc, wb_safe_report *r)
{
    if (rc == 0)
        check_report(r);
    else
        check_empty(r);
    wb_safe_report_cleanup(r);
    check_empty(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wb_safe_report r;
    wb_safe_jws j;
    wb_safe_cose c;

    one(wb_safe_report_verify(&r, data, size, pems, 2), &r);

    if (wb_safe_jws_decode(&j, data, size) == 0) {
        need(j.header != NULL && j.payload != NULL);
        need(j.signing_input == data && j.signing_input_len < size);
        need(strcmp(j.alg, "ES256") == 0 ? j.sig_len == 64
             : strcmp(j.alg, "ES384") == 0 ? j.sig_len == 96
                                          : strcmp(j.alg, "ES512") == 0 && j.sig_len == 132);
        one(wb_safe_sfr_parse(&r, j.payload, j.payload_len), &r);
        wb_safe_jws_cleanup(&j);
    }

    one(wb_safe_sfr_parse(&r, data, size), &r);

    if (wb_safe_cose_decode(&c, data, size) == 0) {
        need(c.nsigners >= 1 && c.nsigners <= WB_SAFE_SIGNERS_MAX);
        one(wb_safe_corim_parse(&r, c.payload, c.payload_len), &r);
        wb_safe_cose_cleanup(&c);
    }

    one(wb_safe_corim_parse(&r, data, size), &r);
    wb_error_clear();
    return 0;
}
