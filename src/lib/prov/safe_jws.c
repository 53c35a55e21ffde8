/*
 * safe_jws.c: JWS compact serialization (RFC 7515 §7.1) as OCP SAFE
 * reviewers publish their reports: BASE64URL(header) "." BASE64URL(payload)
 * "." BASE64URL(signature), verified with ECDSA (RFC 7518 §3.4).
 *
 * Strictness, and why:
 *   - base64url is RFC 7515 §2's: the URL-safe alphabet, no '=' padding, no
 *     line breaks or spaces, and no non-zero pad bits. Every byte string has
 *     exactly one accepted spelling, so a changed character can never decode
 *     to the same bytes and pass.
 *   - the header is a JSON object without duplicate names (§5.2 step 4 lets
 *     a verifier refuse them, which is what a verifier should do).
 *   - alg must be ES256, ES384 or ES512. "none" (an unsecured JWS) is
 *     refused by name, every other alg too: a review is only worth its
 *     signature.
 *   - crit is refused: this verifier implements no extension (§4.1.11); so
 *     is a "b64" other than true (RFC 7797 changes what is signed).
 *   - the signature must be the alg's raw r‖s length (64, 96, 132 bytes);
 *     a DER signature is not JWS.
 *   - keys named or embedded in the header (kid, jwk, jku, x5c, x5u) are
 *     never used to choose or trust a key. kid is free text ("Keysight",
 *     "NCC Group") and is kept only to be shown.
 * The signing input is the ASCII of the first two parts as they are in the
 * input, so what is verified is exactly what was received.
 */
#include "safe_int.h"

#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JWS_HEADER_MAX 4096
#define JWS_SIG_MAX 1024 /* decoded only to say how long it is */

static const struct {
    const char *alg;
    size_t sig_len;
    const char *curve;
} jws_algs[] = {
    {"ES256", 64, "P-256"},
    {"ES384", 96, "P-384"},
    {"ES512", 132, "P-521"},
};

int wb_safe_b64url_char(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

/*
 * b64url_decode decodes one part: checks the alphabet itself (for messages
 * that say what is wrong), then translates to the standard alphabet with
 * padding and lets wb_base64_decode, which refuses non-zero pad bits, do
 * the rest. *out is malloc'd (never NULL on success).
 */
static int b64url_decode(uint8_t **out, size_t *out_len, const uint8_t *s, size_t len,
                         size_t max, const char *what)
{
    size_t padded, cap, n;
    char *tmp;
    uint8_t *buf;
    int rc;

    *out = NULL;
    *out_len = 0;
    if (len / 4 * 3 > max + 3)
        return wb_error_set(WB_E_LIMIT, "JWS %s: %zu characters, over the %zu-byte limit",
                            what, len, max);
    for (size_t i = 0; i < len; i++) {
        uint8_t c = s[i];
        if (wb_safe_b64url_char(c))
            continue;
        if (c == '=')
            return wb_error_set(WB_E_INVALID,
                                "JWS %s: padding '=' at offset %zu; JWS base64url has no "
                                "padding (RFC 7515 §2)",
                                what, i);
        if (c == '+' || c == '/')
            return wb_error_set(WB_E_INVALID,
                                "JWS %s: '%c' at offset %zu is standard base64; JWS uses "
                                "base64url (- and _)",
                                what, c, i);
        return wb_error_set(WB_E_INVALID,
                            "JWS %s: byte 0x%02x at offset %zu is not base64url (a JWS "
                            "compact serialization has no spaces or line breaks, not "
                            "even a final newline)",
                            what, c, i);
    }
    if (len % 4 == 1)
        return wb_error_set(WB_E_INVALID, "JWS %s: %zu characters is not a base64url length",
                            what, len);
    padded = (len + 3) / 4 * 4;
    cap = padded / 4 * 3;
    tmp = malloc(padded + 1);
    buf = malloc(cap + 1);
    if (!tmp || !buf) {
        free(tmp);
        free(buf);
        return wb_error_set(WB_E_NOMEM, "out of memory decoding the JWS %s", what);
    }
    for (size_t i = 0; i < padded; i++)
        tmp[i] = i >= len ? '=' : s[i] == '-' ? '+' : s[i] == '_' ? '/' : (char)s[i];
    rc = wb_base64_decode(buf, cap, &n, tmp, padded);
    free(tmp);
    if (rc) {
        free(buf);
        return wb_error_prefix(rc, "JWS %s", what);
    }
    if (n > max) {
        free(buf);
        return wb_error_set(WB_E_LIMIT, "JWS %s: %zu bytes, over the %zu-byte limit", what, n,
                            max);
    }
    *out = buf;
    *out_len = n;
    return 0;
}

static int header_string(const char **out, json_t *hdr, const char *name)
{
    json_t *v = json_object_get(hdr, name);

    *out = NULL;
    if (!v)
        return 0;
    if (!json_is_string(v))
        return wb_error_set(WB_E_INVALID, "JWS header: \"%s\" is not a string", name);
    *out = json_string_value(v);
    return 0;
}

static int parse_header(wb_safe_jws *j)
{
    json_error_t err;
    json_t *hdr, *b64;
    const char *alg, *kid, *typ, *cty;
    size_t i;
    int rc;

    hdr = json_loadb((const char *)j->header, j->header_len, JSON_REJECT_DUPLICATES, &err);
    if (!hdr)
        return wb_error_set(WB_E_INVALID, "JWS header: not JSON: %s (column %d)", err.text,
                            err.column);
    if (!json_is_object(hdr)) {
        json_decref(hdr);
        return wb_error_set(WB_E_INVALID, "JWS header: not a JSON object");
    }
    if ((rc = header_string(&alg, hdr, "alg")) != 0 ||
        (rc = header_string(&kid, hdr, "kid")) != 0 ||
        (rc = header_string(&typ, hdr, "typ")) != 0 ||
        (rc = header_string(&cty, hdr, "cty")) != 0)
        goto done;
    if (!alg) {
        rc = wb_error_set(WB_E_INVALID, "JWS header: no \"alg\"");
        goto done;
    }
    if (strcmp(alg, "none") == 0) {
        rc = wb_error_set(WB_E_INVALID,
                          "JWS header: alg \"none\" (an unsecured JWS, RFC 7515 §A.5) is "
                          "refused: a review must be signed");
        goto done;
    }
    for (i = 0; i < sizeof(jws_algs) / sizeof(jws_algs[0]); i++)
        if (strcmp(alg, jws_algs[i].alg) == 0)
            break;
    if (i == sizeof(jws_algs) / sizeof(jws_algs[0])) {
        rc = wb_error_set(WB_E_INVALID,
                          "JWS header: alg \"%.16s\" is not supported (ES256, ES384, ES512)",
                          alg);
        goto done;
    }
    memcpy(j->alg, jws_algs[i].alg, strlen(jws_algs[i].alg) + 1);
    if (json_object_get(hdr, "crit")) {
        rc = wb_error_set(WB_E_INVALID,
                          "JWS header: \"crit\" names extensions this verifier does not "
                          "implement (RFC 7515 §4.1.11)");
        goto done;
    }
    b64 = json_object_get(hdr, "b64");
    if (b64 && !json_is_true(b64)) {
        rc = wb_error_set(WB_E_INVALID,
                          "JWS header: \"b64\" other than true (RFC 7797) is refused");
        goto done;
    }
    if (kid) /* shown only: a longer one is cut, never refused */
        snprintf(j->kid, sizeof(j->kid), "%s", kid);
    if (j->sig_len != jws_algs[i].sig_len) {
        rc = wb_error_set(WB_E_INVALID,
                          "JWS signature: %zu bytes, want %zu for %s (raw r‖s, RFC 7518 "
                          "§3.4)",
                          j->sig_len, jws_algs[i].sig_len, j->alg);
        goto done;
    }
    rc = 0;
done:
    json_decref(hdr);
    return rc;
}

int wb_safe_jws_decode(wb_safe_jws *j, const uint8_t *data, size_t len)
{
    const uint8_t *d1, *d2;
    uint8_t *sig = NULL;
    size_t dots = 0, sig_len = 0;
    int rc;

    memset(j, 0, sizeof(*j));
    if (len > WB_SAFE_REPORT_MAX)
        return wb_error_set(WB_E_LIMIT, "JWS: %zu bytes, over the %d-byte limit", len,
                            WB_SAFE_REPORT_MAX);
    for (size_t i = 0; i < len; i++)
        dots += data[i] == '.';
    if (dots != 2) {
        if (dots == 4)
            return wb_error_set(WB_E_INVALID,
                                "JWS: 5 parts: a JWE (RFC 7516, encrypted), not a JWS");
        return wb_error_set(WB_E_INVALID,
                            "JWS: %zu parts, want 3 (header.payload.signature)", dots + 1);
    }
    d1 = memchr(data, '.', len);
    d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - data));
    if ((rc = b64url_decode(&j->header, &j->header_len, data, (size_t)(d1 - data),
                            JWS_HEADER_MAX, "header")) != 0 ||
        (rc = b64url_decode(&j->payload, &j->payload_len, d1 + 1, (size_t)(d2 - d1 - 1),
                            WB_SAFE_REPORT_MAX, "payload")) != 0 ||
        (rc = b64url_decode(&sig, &sig_len, d2 + 1, len - (size_t)(d2 + 1 - data),
                            JWS_SIG_MAX, "signature")) != 0)
        goto fail;
    /* a length other than the alg's is refused by parse_header */
    if (sig_len <= sizeof(j->sig))
        memcpy(j->sig, sig, sig_len);
    j->sig_len = sig_len;
    free(sig);
    sig = NULL;
    if ((rc = parse_header(j)) != 0)
        goto fail;
    j->signing_input = data;
    j->signing_input_len = (size_t)(d2 - data);
    return 0;
fail:
    free(sig);
    wb_safe_jws_cleanup(j);
    return rc;
}

void wb_safe_jws_cleanup(wb_safe_jws *j)
{
    if (!j)
        return;
    free(j->header);
    free(j->payload);
    memset(j, 0, sizeof(*j));
}

int wb_safe_jws_verify(const wb_safe_jws *j, const wb_safe_key *keys, size_t nkeys,
                       size_t *index)
{
    size_t tried = 0;
    const char *curve = "";
    int rc;

    for (size_t i = 0; i < sizeof(jws_algs) / sizeof(jws_algs[0]); i++)
        if (strcmp(jws_algs[i].alg, j->alg) == 0)
            curve = jws_algs[i].curve;
    for (size_t i = 0; i < nkeys; i++) {
        if (strcmp(keys[i].alg, j->alg) != 0)
            continue; /* a key of another curve cannot have made it */
        tried++;
        rc = wb_spki_verify(keys[i].der, keys[i].len, j->alg, j->sig, j->sig_len,
                            j->signing_input, j->signing_input_len);
        if (rc == 0) {
            *index = i;
            return 0;
        }
        if (rc != WB_E_VERIFY)
            return wb_error_prefix(rc, "reviewer key %zu", i + 1);
    }
    if (tried == 0)
        return wb_error_set(WB_E_VERIFY,
                            "JWS (kid \"%s\"): signed %s, and none of the %zu reviewer "
                            "keys is a %s key",
                            j->kid, j->alg, nkeys, curve);
    return wb_error_set(WB_E_VERIFY,
                        "JWS (kid \"%s\"): the %s signature does not verify with %s %zu %s "
                        "reviewer key%s",
                        j->kid, j->alg, tried == 1 ? "the" : "any of the", tried, curve,
                        tried == 1 ? "" : "s");
}
