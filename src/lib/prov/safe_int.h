/*
 * safe_int.h: what the OCP SAFE importer's files share (waybill/safe.h):
 *   safe.c       format detection, reviewer keys, import, re-verification;
 *   safe_jws.c   JWS compact serialization (RFC 7515);
 *   safe_cose.c  COSE_Sign (RFC 9052 §4.1) decoding and verification;
 *   safe_corim.c the report inside an OCP SAFE SFR CoRIM;
 *   safe_sfr.c   the report's JSON and the normalization rules.
 */
#ifndef WAYBILL_SAFE_INT_H
#define WAYBILL_SAFE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

#include "waybill/safe.h"

/* a reviewer key: SPKI DER and the JOSE alg its curve implies */
typedef struct {
    uint8_t *der;
    size_t len;
    const char *alg; /* static: "ES256", "ES384", "ES512" */
} wb_safe_key;

/* ---- JWS (safe_jws.c) ---- */

/* 1 if c is in the base64url alphabet (RFC 4648 §5): A-Z a-z 0-9 - _ */
int wb_safe_b64url_char(uint8_t c);

/*
 * verifies j with the first key of the alg's curve that verifies it; sets
 * *index. WB_E_VERIFY with a message naming the alg, the kid and how many
 * keys were tried.
 */
int wb_safe_jws_verify(const wb_safe_jws *j, const wb_safe_key *keys, size_t nkeys,
                       size_t *index);

/* ---- COSE_Sign (safe_cose.c) ---- */

typedef struct {
    const uint8_t *prot;   /* the signer's protected header bstr contents */
    size_t prot_len;
    int64_t alg;           /* COSE alg, 0 if absent */
    char kid[WB_PROV_NAME_MAX + 1];
    const uint8_t *sig;
    size_t sig_len;
} wb_safe_cose_signer;

typedef struct {
    cbor_item_t *root;     /* owns every pointer below */
    const uint8_t *body_prot;
    size_t body_prot_len;
    const uint8_t *payload;
    size_t payload_len;
    wb_safe_cose_signer signers[WB_SAFE_SIGNERS_MAX];
    size_t nsigners;
} wb_safe_cose;

int wb_safe_cose_decode(wb_safe_cose *c, const uint8_t *data, size_t len);
void wb_safe_cose_cleanup(wb_safe_cose *c);
/*
 * verifies the signatures in order until one verifies with one of the keys
 * (RFC 9052 §4.4 Sig_structure "Signature"); reports which key and signer,
 * the alg used and whether it was inferred from the key (WB_SAFE_Q_NO_ALG).
 */
int wb_safe_cose_verify(const wb_safe_cose *c, const wb_safe_key *keys, size_t nkeys,
                        size_t *key_index, size_t *signer_index, const char **alg,
                        unsigned *quirks);

/* ---- normalization rules shared by the JSON and CoRIM readers (safe_sfr.c) ---- */

/* copies s[0..len) into dst (cap bytes with the NUL): WB_E_LIMIT if too
 * long, WB_E_INVALID if it holds a NUL; what names the field */
int wb_safe_text(char *dst, size_t cap, const char *s, size_t len, const char *what);
/* a malloc'd copy, at most WB_SAFE_LONG_MAX bytes */
int wb_safe_long_text(char **dst, const char *s, size_t len, const char *what);
/* "N.N" (digits, one dot): review_framework_version, report_version-like */
int wb_safe_version_check(const char *s, const char *what);
/* cvss_version: "2.0", "3.0", "3.1" or "4.0" */
int wb_safe_cvss_version_check(const char *s, const char *what);
/* "YYYY-M-D" or "YYYY-MM-DD", a real calendar date -> "YYYY-MM-DD" */
int wb_safe_date(char out[11], const char *s, unsigned *quirks, const char *what);
/* seconds since 1970 (UTC) -> "YYYY-MM-DD" */
int wb_safe_date_from_epoch(char out[11], int64_t t, const char *what);
/* "3.7", "10", "10.0" -> 3.7; 0.0 .. 10.0 */
int wb_safe_score_text(double *out, const char *s, const char *what);
int wb_safe_score_check(double v, const char *what);
/* the CVSS vector rules (waybill/safe.h); version may be "" if unknown */
int wb_safe_vector(char *out, size_t cap, const char *v, const char *version,
                   unsigned *quirks, const char *what);
/* "" or a CVE id CVE-YYYY-NNNN(N...) */
int wb_safe_cve(char *out, size_t cap, const char *s, const char *what);
/* hex of 1 to 64 bytes, any case -> lowercase into out (129 bytes); *nbytes
 * gets the length, which callers check; "" is refused here */
int wb_safe_hex(char out[129], size_t *nbytes, const char *s, size_t len,
                unsigned *quirks, const char *what);

#endif
