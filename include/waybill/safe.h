/*
 * waybill/safe.h: importing OCP SAFE security reviews (Short-Form Reports,
 * "SFR") signed by their reviewers, as waybill review statements.
 *
 * An OCP SAFE security review provider (SRP) publishes, per review, a small
 * JSON report (device, firmware digests, audit facts, issues with CVSS) and
 * signs it with its ECDSA key (P-521 in practice; the providers' public keys
 * are published as PEM SubjectPublicKeyInfo). Two signed forms exist:
 *
 *   - JWS compact serialization (RFC 7515 §7.1), "header.payload.signature"
 *     in unpadded base64url, alg ES256/ES384/ES512 with a raw r‖s signature
 *     (RFC 7518 §3.4). The signed payload is the compact JSON inside the
 *     JWS, never byte-equal to the pretty-printed .json published next to
 *     it: the JWS payload is the source of truth.
 *   - COSE_Sign (RFC 9052 §4.1, CBOR tag 98, multi-signer) whose payload is
 *     a CoRIM (tag 501) carrying the report as the OCP SAFE SFR profile's
 *     measurement-values extension -1. The one real sample has no alg header
 *     at all: the algorithm is then the one the reviewer key's curve implies.
 *
 * Import = verify the signature against the configured reviewer keys, parse
 * the report strictly and normalize its drifting field types into a
 * wb_safe_report, then map that onto the review payload of prov.h
 * (wb_p_review), keeping the exact signed bytes so that anyone can check
 * the reviewer's signature again later (wb_safe_verify_original).
 *
 * Normalization rules (each one seen in real reports; docs in safe_sfr.c):
 *   scope_number       absent -> 0; "1", 1, 1.0 -> 1 (1.5, "one" refused)
 *   completion_date    "2025-8-13" -> "2025-08-13"; calendar-checked
 *   fw_hash_sha2_*     "" -> none; upper case hex -> lower case; a 64-hex
 *                      value in fw_hash_sha2_512 (AMD 2023) is reclassified
 *                      as a 32-byte digest of unnamed algorithm, never used
 *                      as the firmware digest; any other wrong length refused
 *   cvss_score         "3.7" or 3.7 -> 3.7: 0.0 to 10.0, at most one decimal
 *   cvss_vector        "CVSS:3.1/AV:..", "/AV:..", "AV:.." -> "CVSS:3.1/AV:.."
 *                      (the version from the prefix must equal cvss_version)
 *   cve                "" or null or absent -> ""; else CVE-YYYY-NNNN...
 * Fields this importer does not know are refused, not dropped: a newer
 * report format fails loudly instead of being half read.
 *
 * The review's firmware_digest is the report's SHA-384 and nothing else: a
 * review is matched to firmware statements by SHA-384 (docs/statements.md,
 * where firmware_digest is required), and a SHA-512 or a misfiled 32-byte
 * value of unnamed algorithm cannot stand in for it. So a report without a
 * SHA-384 (of the six real ones: AMD MI300X 2023, whose only value is 32
 * bytes in the SHA-512 field, and Caliptra 2024, which has no hash at all)
 * verifies and normalizes (wb_safe_report_verify), but wb_safe_import
 * refuses it with a message that says what the report does name.
 */
#ifndef WAYBILL_SAFE_H
#define WAYBILL_SAFE_H

#include <stddef.h>
#include <stdint.h>

#include "waybill/prov.h"

/* limits */
#define WB_SAFE_REPORT_MAX 32768 /* a signed report: its base64 copy and the
                                    normalized fields fit one 64 KiB statement */
#define WB_SAFE_KEYS_MAX 64      /* reviewer keys tried */
#define WB_SAFE_SIGNERS_MAX 8    /* COSE_Signature entries in a COSE_Sign */
#define WB_SAFE_ISSUES_MAX WB_PROV_LIST_MAX
#define WB_SAFE_FILES_MAX WB_PROV_LIST_MAX /* device.manifest entries */
#define WB_SAFE_LONG_MAX 16384   /* description, repo_tag */
#define WB_SAFE_SHORT_MAX 31     /* versions, dates, cwe, cve */
#define WB_SAFE_VECTOR_MAX 255   /* a CVSS vector */

typedef enum {
    WB_SAFE_FORMAT_NONE = 0,
    WB_SAFE_FORMAT_JWS = 1,       /* "jws" */
    WB_SAFE_FORMAT_COSE_SIGN = 2, /* "cose-sign" */
} wb_safe_format;

/* "jws" / "cose-sign" (the review's original_format), and back */
const char *wb_safe_format_name(wb_safe_format f);
wb_safe_format wb_safe_format_from_name(const char *name);

/*
 * Quirks met while reading a report: bits of wb_safe_report.quirks. Each is
 * a deviation from the plain form that was normalized (or, for the last
 * three, a property of the signed container), so tests and `--json` output
 * can say what was done.
 */
enum {
    WB_SAFE_Q_SCOPE_ABSENT = 1u << 0,    /* no scope_number (framework 0.3) */
    WB_SAFE_Q_SCOPE_STRING = 1u << 1,    /* scope_number "1" */
    WB_SAFE_Q_SCOPE_FLOAT = 1u << 2,     /* scope_number 1.0 */
    WB_SAFE_Q_DATE_UNPADDED = 1u << 3,   /* completion_date "2025-8-13" */
    WB_SAFE_Q_HASH_EMPTY = 1u << 4,      /* a fw_hash_sha2_* field is "" */
    WB_SAFE_Q_SHA512_HOLDS_32 = 1u << 5, /* fw_hash_sha2_512 holds 32 bytes */
    WB_SAFE_Q_HEX_UPPER = 1u << 6,       /* a hash in upper case hex */
    WB_SAFE_Q_SCORE_STRING = 1u << 7,    /* cvss_score "3.7" */
    WB_SAFE_Q_VECTOR_SLASH = 1u << 8,    /* cvss_vector "/AV:..." */
    WB_SAFE_Q_VECTOR_BARE = 1u << 9,     /* cvss_vector "AV:..." */
    WB_SAFE_Q_CVE_EMPTY = 1u << 10,      /* cve "" */
    WB_SAFE_Q_CVE_NULL = 1u << 11,       /* cve null */
    WB_SAFE_Q_NO_ALG = 1u << 12,         /* COSE: no alg header, from the key */
    WB_SAFE_Q_PROFILE_TLV = 1u << 13,    /* CoRIM profile OID as a full DER TLV */
    WB_SAFE_Q_COSE_HASH_IDS = 1u << 14,  /* CoRIM digests with COSE alg ids */
    WB_SAFE_Q_COUNT = 15
};

/* "scope-absent", "date-unpadded", ... for one bit; NULL if unknown */
const char *wb_safe_quirk_name(unsigned bit);

typedef struct {
    char title[WB_PROV_TEXT_MAX + 1];
    double cvss_score;                        /* 0.0 .. 10.0 */
    char cvss_vector[WB_SAFE_VECTOR_MAX + 1]; /* "CVSS:3.1/AV:N/..." or "" */
    char cwe[WB_SAFE_SHORT_MAX + 1];          /* "CWE-787" or "" */
    char cve[WB_SAFE_SHORT_MAX + 1];          /* "CVE-2024-1234" or "" */
    char *description;                        /* malloc'd, "" if none */
} wb_safe_issue;

typedef struct {
    char name[WB_PROV_TEXT_MAX + 1];
    char hash[129]; /* lowercase hex, 32, 48 or 64 bytes */
} wb_safe_file;

/* A verified, normalized report. Every string is NUL-terminated, "" if absent. */
typedef struct {
    /* the signature */
    wb_safe_format format;
    char alg[8];                        /* "ES512" (inferred when NO_ALG) */
    char kid[WB_PROV_NAME_MAX + 1];     /* the signer's kid, as text; free
                                           text, and unsigned in COSE */
    size_t key_index;                   /* which reviewer key verified */
    unsigned quirks;                    /* WB_SAFE_Q_* */

    char framework_version[WB_SAFE_SHORT_MAX + 1]; /* "1.1" */

    /* device */
    char vendor[WB_PROV_NAME_MAX + 1];
    char product[WB_PROV_NAME_MAX + 1];
    char category[WB_PROV_TEXT_MAX + 1];
    char fw_version[WB_PROV_NAME_MAX + 1];
    char *repo_tag;                     /* malloc'd */
    char fw_sha384[WB_DIGEST384_HEX + 1]; /* lowercase hex or "" */
    char fw_sha512[129];                /* lowercase hex or "" */
    char fw_digest32[65];               /* a 32-byte value found in the
                                           SHA-512 field (algorithm unnamed) */
    wb_safe_file *files;                /* device.manifest, malloc'd */
    size_t nfiles;

    /* audit */
    char srp[WB_PROV_NAME_MAX + 1];     /* the review provider */
    char methodology[WB_PROV_NAME_MAX + 1];
    char completion_date[11];           /* "YYYY-MM-DD" */
    char report_version[WB_SAFE_SHORT_MAX + 1];
    int scope_number;                   /* 0 if absent */
    char cvss_version[WB_SAFE_SHORT_MAX + 1]; /* "3.1", "4.0"; "" if unsaid */
    wb_safe_issue *issues;              /* malloc'd */
    size_t nissues;
} wb_safe_report;

void wb_safe_report_cleanup(wb_safe_report *r);

/*
 * wb_safe_report_verify reads a signed report (JWS compact or COSE_Sign,
 * told apart by its first byte; an unsigned .json is refused with a
 * message saying so), verifies its signature with the first of the
 * reviewer keys (PEM "PUBLIC KEY" text, NUL-terminated; EC P-256, P-384 or
 * P-521) that verifies it, then parses and normalizes the report into *out.
 * WB_E_VERIFY if no key verifies it; WB_E_INVALID / WB_E_LIMIT for
 * malformed input, with the field named. On failure *out is empty.
 */
int wb_safe_report_verify(wb_safe_report *out, const uint8_t *data, size_t len,
                          const char *const *key_pems, size_t nkeys);

/* ---- import ---- */

/*
 * wb_safe_import verifies and normalizes a signed report (as above) and
 * fills *out as a review payload (kind WB_KIND_REVIEW, version
 * WB_PROV_VERSION):
 *   firmware_digest  the report's fw_hash_sha2_384 (see the top of this file)
 *   reviewer         audit.srp (CoRIM: the manifest-creator entity)
 *   framework        "OCP SAFE SFR <review_framework_version>"
 *   issues           title, cvss_score, cve
 *   original_format  "jws" or "cose-sign"; original: the input bytes
 * A report without a SHA-384 firmware digest is refused (WB_E_INVALID).
 * report (may be NULL) receives the whole normalized report. Free out with
 * wb_prov_payload_cleanup and report with wb_safe_report_cleanup. On
 * failure both are empty. wb_prov_encode writes out as the payload JSON.
 */
int wb_safe_import(wb_prov_payload *out, wb_safe_report *report, const uint8_t *data,
                   size_t len, const char *const *key_pems, size_t nkeys);

/*
 * wb_safe_verify_original re-checks a stored review: its original bytes
 * must verify with one of the keys, in the format original_format names,
 * and every field of r must be what wb_safe_import derives from them.
 * 0, WB_E_VERIFY naming the first field that differs, or WB_E_INVALID.
 */
int wb_safe_verify_original(const wb_p_review *r, const char *const *key_pems,
                            size_t nkeys);

/* ---- the layers, for tests and the fuzz target ---- */

/* A decoded JWS compact serialization; pointers into malloc'd copies. */
typedef struct {
    char alg[8];                      /* "ES256", "ES384", "ES512" */
    char kid[WB_PROV_NAME_MAX + 1];   /* "" if none */
    uint8_t *header;                  /* the decoded protected header JSON */
    size_t header_len;
    uint8_t *payload;                 /* the decoded payload */
    size_t payload_len;
    uint8_t sig[132];                 /* raw r‖s */
    size_t sig_len;
    const uint8_t *signing_input;     /* borrowed: the input's
                                         "header.payload" ASCII */
    size_t signing_input_len;
} wb_safe_jws;

/*
 * wb_safe_jws_decode splits and decodes a JWS compact serialization
 * strictly: exactly three parts, unpadded canonical base64url (no '=',
 * no whitespace, no non-zero pad bits), a JSON object header without
 * duplicate names, "alg" ES256/ES384/ES512 ("none" and every other alg
 * refused by name), no "crit", a signature of the alg's r‖s length.
 * signing_input points into data, which must outlive j.
 */
int wb_safe_jws_decode(wb_safe_jws *j, const uint8_t *data, size_t len);
void wb_safe_jws_cleanup(wb_safe_jws *j);

/*
 * wb_safe_sfr_parse parses and normalizes the JSON of a report (the JWS
 * payload) into the report fields of *r (not the signature fields).
 */
int wb_safe_sfr_parse(wb_safe_report *r, const uint8_t *json, size_t len);

/*
 * wb_safe_corim_parse reads the report from an OCP SAFE SFR CoRIM (the
 * COSE_Sign payload: tag 501 unsigned-corim-map) into *r.
 */
int wb_safe_corim_parse(wb_safe_report *r, const uint8_t *cbor, size_t len);

/*
 * wb_safe_digest_note: NULL if the report names the SHA-384 of the firmware
 * it reviewed, else why its review statement carries no firmware_digest (it
 * is registered all the same, but matches no measured image).
 */
const char *wb_safe_digest_note(const wb_safe_report *rep);

#endif
