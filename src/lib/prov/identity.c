/*
 * identity.c: device identities from real root-of-trust certificates
 * (waybill/identity.h): reading what suppliers and TPM vendors publish,
 * the device id (SHA-256 of the leaf's SubjectPublicKeyInfo DER), and the
 * chain to the supplier's registered CAs (RFC 5280 §6, by OpenSSL).
 *
 * Input formats, all found in real artifacts (../shared/realdata):
 *   - DER; concatenated DER (libspdm .certchain.der: no header, split by
 *     each outer SEQUENCE length, strictly, nothing between or after);
 *   - PEM, including keylime's files without a final newline (so that a
 *     `cat` of two of them glues END and BEGIN on one line) and paccor's
 *     single unwrapped base64 line;
 *   - TPM NV blobs. A TPM 1.2 EK certificate index holds the structure
 *     TCG_PCCLIENT_STORED_CERT of the TCG PC Client Specific Implementation
 *     Specification for Conventional BIOS (TPM 1.2), all big-endian:
 *         u16 tag      = 0x1001 (TCG_TAG_PCCLIENT_STORED_CERT)
 *         u8  certType = 0 (full certificate; 1, a partial "small"
 *                        certificate tagged 0x1003, is not supported)
 *         u16 certSize = size of what follows: the 2-byte tag + the DER
 *         u16 tag      = 0x1002 (TCG_TAG_PCCLIENT_FULL_CERT)
 *         DER certificate, exactly certSize - 2 bytes
 *     e.g. 10 01 00 04 64 10 02 for a 1122-byte certificate. The index is
 *     read at its fixed size, so padding follows (0x00 from Infineon, 0x11
 *     from Nuvoton, 0xff for erased flash); TPM 2.0 indexes hold bare DER,
 *     sometimes padded the same way. The certificate is found by the header
 *     and its length checked against it, never by scanning for 0x30.
 *
 * Validity periods are deliberately not checked (X509_V_FLAG_NO_CHECK_TIME).
 * A RoT identity certificate is written into the part at manufacture and
 * names the part for its whole life: TPM 1.2 EKs carry ten-year validity
 * and are expired in working machines today, Caliptra uses the RFC 5280
 * "no expiration" 99991231235959Z, and libspdm's samples are regenerated
 * with a notBefore that may lie in a test machine's future. What an
 * identity certificate proves is that the vendor's CA bound this key to
 * this part when it was made; that stays true after notAfter. Whether a
 * device is still trusted is the ledger's business (revocation statements,
 * attestation), recorded with receipts, not the certificate clock's.
 *
 * Nor is strict RFC 5280 profile checking (X509_V_FLAG_X509_STRICT) asked
 * for: real RoT chains break profile rules that do not weaken the path
 * (libspdm: a CA's basicConstraints not critical, a root without keyUsage;
 * TPM EKs: empty subjects). Signatures, name chaining, CA flags, key usage,
 * path lengths and critical extensions are still checked. An anchor may be
 * a root or an intermediate (X509_V_FLAG_PARTIAL_CHAIN).
 *
 * Algorithms OpenSSL cannot handle are named, not reported as a generic
 * failure: the rsaesOaep key of TPM 1.2 EKs, which OpenSSL 3 cannot load,
 * and ML-DSA (Caliptra 2.x), which OpenSSL 3.0 does not know. Everything
 * X.509 here is OpenSSL's; this file only adds the input formats, the
 * algorithm checks and the messages.
 */
#include "waybill/identity.h"
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#define NV_TAG_STORED_CERT 0x1001 /* TCG_TAG_PCCLIENT_STORED_CERT */
#define NV_TAG_FULL_CERT 0x1002   /* TCG_TAG_PCCLIENT_FULL_CERT */
#define NV_HEADER_LEN 7
#define DESC_MAX 160              /* a certificate's description in messages */

/* ---- OpenSSL helpers ---- */

/* copies OpenSSL's last reason (or "no reason") and empties its queue */
static void ossl_reason(char *buf, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    const char *s = e ? ERR_reason_error_string(e) : NULL;
    snprintf(buf, cap, "%s", s ? s : "no reason given");
    ERR_clear_error();
}

/* a DER X.509 certificate that is exactly len bytes, or NULL */
static X509 *parse_exact(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x;
    if (!der || len == 0 || len > WB_IDENTITY_CERT_MAX)
        return NULL;
    x = d2i_X509(NULL, &p, (long)len);
    if (x && p != der + len) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* "CN=...,O=..." (RFC 2253), or "empty subject, serial ..." for TPM EKs */
static void describe(char out[DESC_MAX], X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL;
    long n = 0;
    out[0] = '\0';
    if (b && X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >= 0)
        n = BIO_get_mem_data(b, &p);
    if (n > 0) {
        snprintf(out, DESC_MAX, "%.*s", (int)(n < DESC_MAX ? n : DESC_MAX), p);
    } else {
        const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
        char hex[2 * 20 + 1] = "?";
        if (sn && sn->length > 0 && sn->length <= 20)
            wb_hex_encode(hex, sn->data, (size_t)sn->length);
        snprintf(out, DESC_MAX, "empty subject, serial %s", hex);
    }
    BIO_free(b);
    ERR_clear_error();
}

/* algorithms OpenSSL 3.0 has no name for (NIST CSOR) */
static const struct {
    const char *oid;
    const char *name;
} extra_algs[] = {
    {"2.16.840.1.101.3.4.3.17", "ML-DSA-44"},
    {"2.16.840.1.101.3.4.3.18", "ML-DSA-65"},
    {"2.16.840.1.101.3.4.3.19", "ML-DSA-87"},
    {"2.16.840.1.101.3.4.3.20", "SLH-DSA-SHA2-128s"},
    {"2.16.840.1.101.3.4.3.21", "SLH-DSA-SHA2-128f"},
    {"2.16.840.1.101.3.4.3.22", "SLH-DSA-SHA2-192s"},
    {"2.16.840.1.101.3.4.3.23", "SLH-DSA-SHA2-192f"},
    {"2.16.840.1.101.3.4.3.24", "SLH-DSA-SHA2-256s"},
    {"2.16.840.1.101.3.4.3.25", "SLH-DSA-SHA2-256f"},
    {"2.16.840.1.101.3.4.3.26", "SLH-DSA-SHAKE-128s"},
    {"2.16.840.1.101.3.4.3.27", "SLH-DSA-SHAKE-128f"},
    {"2.16.840.1.101.3.4.3.28", "SLH-DSA-SHAKE-192s"},
    {"2.16.840.1.101.3.4.3.29", "SLH-DSA-SHAKE-192f"},
    {"2.16.840.1.101.3.4.3.30", "SLH-DSA-SHAKE-256s"},
    {"2.16.840.1.101.3.4.3.31", "SLH-DSA-SHAKE-256f"},
};

/* "rsaesOaep (1.2.840.113549.1.1.7)", "ML-DSA-87 (2.16...19)" or the OID */
static void alg_describe(char *out, size_t cap, const ASN1_OBJECT *obj)
{
    char oid[96];
    const char *name = NULL;
    int nid;
    if (!obj || OBJ_obj2txt(oid, sizeof(oid), obj, 1) <= 0) {
        snprintf(out, cap, "(unreadable algorithm identifier)");
        return;
    }
    for (size_t i = 0; i < sizeof(extra_algs) / sizeof(extra_algs[0]); i++)
        if (strcmp(oid, extra_algs[i].oid) == 0)
            name = extra_algs[i].name;
    nid = OBJ_obj2nid(obj);
    if (!name && nid != NID_undef)
        name = OBJ_nid2ln(nid);
    if (name)
        snprintf(out, cap, "%s (%s)", name, oid);
    else
        snprintf(out, cap, "%s", oid);
}

/*
 * key_check returns 0 if OpenSSL can load the certificate's public key,
 * otherwise sets a message naming the algorithm and returns WB_E_INVALID.
 */
static int key_check(X509 *x)
{
    ASN1_OBJECT *obj = NULL;
    char alg[128];
    int nid;

    if (X509_get0_pubkey(x) != NULL)
        return 0;
    ERR_clear_error();
    X509_PUBKEY_get0_param(&obj, NULL, NULL, NULL, X509_get_X509_PUBKEY(x));
    alg_describe(alg, sizeof(alg), obj);
    nid = obj ? OBJ_obj2nid(obj) : NID_undef;
    if (nid == NID_rsaesOaep)
        return wb_error_set(WB_E_INVALID,
                            "public key algorithm %s is not supported: TPM 1.2 EK key "
                            "type, which OpenSSL 3 cannot load",
                            alg);
    if (nid != NID_undef && EVP_PKEY_asn1_find(NULL, nid) != NULL)
        return wb_error_set(WB_E_INVALID, "public key (algorithm %s) does not decode", alg);
    return wb_error_set(WB_E_INVALID,
                        "public key algorithm %s is not supported: OpenSSL %s cannot "
                        "load it",
                        alg, OpenSSL_version(OPENSSL_VERSION_STRING));
}

/* sig_check: 0 if OpenSSL knows the certificate's signature algorithm */
static int sig_check(X509 *x)
{
    const X509_ALGOR *sigalg = NULL;
    const ASN1_OBJECT *obj = NULL;
    int md, pk;
    char alg[128];

    if (OBJ_find_sigid_algs(X509_get_signature_nid(x), &md, &pk) == 1 && pk != NID_undef)
        return 0;
    X509_get0_signature(NULL, &sigalg, x);
    if (sigalg)
        X509_ALGOR_get0(&obj, NULL, NULL, sigalg);
    alg_describe(alg, sizeof(alg), obj);
    return wb_error_set(WB_E_VERIFY,
                        "signature algorithm %s is not supported: OpenSSL %s cannot "
                        "verify it",
                        alg, OpenSSL_version(OPENSSL_VERSION_STRING));
}

/* the SPKI DER of x (OPENSSL_malloc'd) or NULL */
static int spki_der(unsigned char **out, X509 *x)
{
    *out = NULL;
    return i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), out);
}

static int id_of(char out[WB_IDENTITY_ID_HEX + 1], X509 *x)
{
    unsigned char *spki = NULL;
    uint8_t digest[WB_SHA256_LEN];
    int n, rc = key_check(x);
    if (rc)
        return rc;
    n = spki_der(&spki, x);
    if (n <= 0) {
        char why[128];
        ossl_reason(why, sizeof(why));
        return wb_error_set(WB_E_INVALID, "cannot encode the public key: %s", why);
    }
    rc = wb_sha256(digest, spki, (size_t)n);
    OPENSSL_free(spki);
    if (rc)
        return rc;
    wb_hex_encode(out, digest, sizeof(digest));
    return 0;
}

int wb_identity_device_id(char out[WB_IDENTITY_ID_HEX + 1], const uint8_t *leaf,
                          size_t len)
{
    X509 *x;
    int rc;
    if (!leaf || len == 0)
        return wb_error_set(WB_E_INVALID, "device certificate: empty");
    if (len > WB_IDENTITY_CERT_MAX)
        return wb_error_set(WB_E_LIMIT, "device certificate: %zu bytes, over the %d-byte limit",
                            len, WB_IDENTITY_CERT_MAX);
    x = parse_exact(leaf, len);
    if (!x) {
        char why[128];
        ossl_reason(why, sizeof(why));
        return wb_error_set(WB_E_INVALID, "device certificate: not one DER X.509 certificate (%s)",
                            why);
    }
    rc = id_of(out, x);
    X509_free(x);
    return rc;
}

/* ---- DER, strictly, through the bounded reader ---- */

/*
 * der_tlv reads one DER element (single-byte tag, definite minimal length
 * of at most 4 bytes) from r: its tag, content and total size. 0, or
 * WB_E_INVALID / WB_E_LIMIT with a message (r is then unchanged).
 */
static int der_tlv(wb_reader *r, uint8_t *tag, wb_reader *content, size_t *total)
{
    wb_reader c = *r;
    uint8_t b;
    size_t n = 0, hdr = 2;

    if (!wb_reader_get_u8(&c, tag) || !wb_reader_get_u8(&c, &b))
        return wb_error_set(WB_E_INVALID, "truncated DER header");
    if ((*tag & 0x1f) == 0x1f)
        return wb_error_set(WB_E_INVALID, "multi-byte DER tag");
    if (b == 0x80)
        return wb_error_set(WB_E_INVALID, "indefinite length (BER, not DER)");
    if (b < 0x80) {
        n = b;
    } else {
        size_t k = b & 0x7f;
        if (k > 4)
            return wb_error_set(WB_E_INVALID, "%zu-byte DER length", k);
        for (size_t i = 0; i < k; i++) {
            uint8_t v;
            if (!wb_reader_get_u8(&c, &v))
                return wb_error_set(WB_E_INVALID, "truncated DER length");
            if (i == 0 && v == 0)
                return wb_error_set(WB_E_INVALID, "non-minimal DER length");
            n = (n << 8) | v;
        }
        if (n < 0x80)
            return wb_error_set(WB_E_INVALID, "non-minimal DER length");
        hdr += k;
    }
    if (n > wb_reader_left(&c))
        return wb_error_set(WB_E_INVALID,
                            "DER element of %zu content bytes, but only %zu bytes follow "
                            "(truncated?)",
                            n, wb_reader_left(&c));
    if (wb_size_add(total, hdr, n) != 0)
        return wb_error_set(WB_E_LIMIT, "DER length overflows");
    wb_reader_get_sub(&c, content, n);
    *r = c;
    return 0;
}

/* the size of the certificate SEQUENCE that starts r (r unchanged) */
static int der_cert_len(const wb_reader *r, size_t *total)
{
    wb_reader c = *r, content;
    uint8_t tag;
    int rc = der_tlv(&c, &tag, &content, total);
    if (rc)
        return rc;
    if (tag != 0x30)
        return wb_error_set(WB_E_INVALID, "tag 0x%02x where a certificate SEQUENCE (0x30) "
                            "must start", tag);
    if (*total > WB_IDENTITY_CERT_MAX)
        return wb_error_set(WB_E_LIMIT, "certificate of %zu bytes, over the %d-byte limit",
                            *total, WB_IDENTITY_CERT_MAX);
    return 0;
}

/*
 * looks_like_attribute_cert: SEQUENCE { SEQUENCE { INTEGER 1 (v2),
 * SEQUENCE holder, [0] v2Form issuer, ... } ...} (RFC 5755 §4.1). A v1
 * X.509 certificate has INTEGER serial, SEQUENCE algorithm, SEQUENCE issuer.
 */
static int looks_like_attribute_cert(const uint8_t *p, size_t n)
{
    wb_reader r, outer, tbs, v;
    uint8_t tag;
    size_t total;
    const uint8_t *ver;
    wb_reader_init(&r, p, n);
    if (der_tlv(&r, &tag, &outer, &total) || tag != 0x30 ||
        der_tlv(&outer, &tag, &tbs, &total) || tag != 0x30 ||
        der_tlv(&tbs, &tag, &v, &total) || tag != 0x02 || wb_reader_left(&v) != 1 ||
        !wb_reader_get_bytes(&v, &ver, 1) || ver[0] != 1 ||
        der_tlv(&tbs, &tag, &v, &total) || tag != 0x30 ||
        der_tlv(&tbs, &tag, &v, &total) || tag != 0xa0) {
        wb_error_clear();
        return 0;
    }
    return 1;
}

/* why p[0..n) is not an X.509 certificate (message set), WB_E_INVALID */
static int not_a_cert(const uint8_t *p, size_t n)
{
    const unsigned char *q = p;
    char why[128];
    X509_REQ *req;

    ossl_reason(why, sizeof(why));
    if (!p || n == 0)
        return wb_error_set(WB_E_INVALID, "empty");
    if (n > WB_IDENTITY_CERT_MAX)
        return wb_error_set(WB_E_LIMIT, "%zu bytes, over the %d-byte certificate limit", n,
                            WB_IDENTITY_CERT_MAX);
    req = d2i_X509_REQ(NULL, &q, (long)n);
    if (req) {
        int exact = q == p + n;
        X509_REQ_free(req);
        if (exact)
            return wb_error_set(WB_E_INVALID, "a PKCS#10 certificate request (CSR), not a "
                                "certificate: the vendor must issue it a certificate");
    }
    ERR_clear_error();
    if (looks_like_attribute_cert(p, n))
        return wb_error_set(WB_E_INVALID, "an attribute certificate (RFC 5755, e.g. a TCG "
                            "platform certificate), which has no public key");
    return wb_error_set(WB_E_INVALID, "not an X.509 certificate (OpenSSL: %s)", why);
}

/* ---- the list being built ---- */

typedef struct {
    uint8_t **der;
    size_t *len;
    size_t n;
} cert_list;

static void list_free(cert_list *l)
{
    wb_identity_free(l->der, l->len, l->n);
    memset(l, 0, sizeof(*l));
}

/* checks that p[0..n) is one X.509 certificate and appends a copy */
static int list_add(cert_list *l, const uint8_t *p, size_t n)
{
    X509 *x;
    uint8_t **d2;
    size_t *l2;

    if (l->n >= WB_IDENTITY_CERTS_MAX)
        return wb_error_set(WB_E_LIMIT, "more than %d certificates", WB_IDENTITY_CERTS_MAX);
    x = parse_exact(p, n);
    if (!x)
        return not_a_cert(p, n);
    X509_free(x);
    d2 = realloc(l->der, (l->n + 1) * sizeof(*l->der));
    if (!d2)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    l->der = d2;
    l2 = realloc(l->len, (l->n + 1) * sizeof(*l->len));
    if (!l2)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    l->len = l2;
    l->der[l->n] = malloc(n);
    if (!l->der[l->n])
        return wb_error_set(WB_E_NOMEM, "out of memory");
    memcpy(l->der[l->n], p, n);
    l->len[l->n++] = n;
    return 0;
}

void wb_identity_free(uint8_t **der, size_t *len, size_t n)
{
    for (size_t i = 0; der && i < n; i++)
        free(der[i]);
    free(der);
    free(len);
}

/*
 * padding: 1 if all of r's remaining bytes (at least one) are the same
 * value, 0x00, 0x11 or 0xff; *pad gets the value.
 */
static int padding(const wb_reader *r, uint8_t *pad)
{
    const uint8_t *p = r->ptr;
    size_t n = wb_reader_left(r);
    if (n == 0 || (p[0] != 0x00 && p[0] != 0x11 && p[0] != 0xff))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (p[i] != p[0])
            return 0;
    *pad = p[0];
    return 1;
}

/* ---- DER and concatenated DER (and a bare DER NV index with padding) ---- */

static int load_der(cert_list *l, const uint8_t *data, size_t len, char *what,
                    size_t what_cap)
{
    wb_reader r;
    size_t pad_len = 0;
    uint8_t pad = 0;

    wb_reader_init(&r, data, len);
    while (wb_reader_left(&r) > 0) {
        size_t off = len - wb_reader_left(&r), total;
        const uint8_t *p;
        int rc;

        if (l->n > 0 && r.ptr[0] != 0x30) {
            if (padding(&r, &pad) && l->n == 1) {
                pad_len = wb_reader_left(&r);
                break;
            }
            if (padding(&r, &pad))
                return wb_error_set(WB_E_INVALID,
                                    "offset %zu: %zu bytes of 0x%02x padding after %zu "
                                    "concatenated certificates (only a single NV "
                                    "certificate is padded)",
                                    off, wb_reader_left(&r), pad, l->n);
            return wb_error_set(WB_E_INVALID,
                                "offset %zu: %zu bytes after certificate %zu are neither a "
                                "certificate (0x30) nor NV padding (one of 0x00, 0x11, 0xff "
                                "repeated); first byte 0x%02x",
                                off, wb_reader_left(&r), l->n, r.ptr[0]);
        }
        rc = der_cert_len(&r, &total);
        if (rc == 0) {
            wb_reader_get_bytes(&r, &p, total);
            rc = list_add(l, p, total);
        }
        if (rc)
            return wb_error_prefix(rc, "DER certificate %zu at offset %zu", l->n + 1, off);
    }
    if (pad_len)
        snprintf(what, what_cap,
                 "TPM NV blob without header: %zu-byte DER certificate, then %zu bytes "
                 "of 0x%02x padding",
                 l->len[0], pad_len, pad);
    else if (l->n == 1)
        snprintf(what, what_cap, "DER certificate (%zu bytes)", l->len[0]);
    else
        snprintf(what, what_cap, "concatenated DER: %zu certificates", l->n);
    return 0;
}

/* ---- TPM NV blob with the TCG PC Client stored-certificate header ---- */

static int load_nv(cert_list *l, const uint8_t *data, size_t len, char *what,
                   size_t what_cap)
{
    wb_reader r, body;
    uint16_t tag, size, full = 0;
    uint8_t type, pad = 0;
    size_t total;
    const uint8_t *p;
    int rc;

    wb_reader_init(&r, data, len);
    if (len < NV_HEADER_LEN)
        return wb_error_set(WB_E_INVALID, "TPM NV blob: %zu bytes, shorter than the %d-byte "
                            "TCG header", len, NV_HEADER_LEN);
    wb_reader_get_u16be(&r, &tag); /* 0x1001, checked by the caller */
    wb_reader_get_u8(&r, &type);
    wb_reader_get_u16be(&r, &size);
    if (type == 1)
        return wb_error_set(WB_E_INVALID, "TPM NV blob: certType 1 (partial small "
                            "certificate) is not supported, only 0 (full certificate)");
    if (type != 0)
        return wb_error_set(WB_E_INVALID, "TPM NV blob: unknown certType %u (0 is a full "
                            "certificate)", type);
    if (!wb_reader_get_sub(&r, &body, size))
        return wb_error_set(WB_E_INVALID, "TPM NV blob: the header announces %u bytes but "
                            "only %zu follow (truncated?)", size, wb_reader_left(&r));
    if (!wb_reader_get_u16be(&body, &full) || full != NV_TAG_FULL_CERT)
        return wb_error_set(WB_E_INVALID, "TPM NV blob: full-certificate tag 0x%04x, "
                            "expected 0x%04x%s", size < 2 ? 0u : (unsigned)full,
                            NV_TAG_FULL_CERT,
                            full == 0x1003 ? " (0x1003 is a partial small certificate, "
                                             "not supported)" : "");
    /* the SEQUENCE is measured against everything that follows, so that a
     * header announcing too few bytes is reported as a mismatch */
    {
        wb_reader rest;
        wb_reader_init(&rest, body.ptr, (size_t)(data + len - body.ptr));
        rc = der_cert_len(&rest, &total);
    }
    if (rc)
        return wb_error_prefix(rc, "TPM NV blob: certificate at offset %d", NV_HEADER_LEN);
    if (total != wb_reader_left(&body))
        return wb_error_set(WB_E_INVALID, "TPM NV blob: the header announces a %zu-byte "
                            "certificate but its DER SEQUENCE is %zu bytes",
                            wb_reader_left(&body), total);
    wb_reader_get_bytes(&body, &p, total);
    rc = list_add(l, p, total);
    if (rc)
        return wb_error_prefix(rc, "TPM NV blob: certificate at offset %d", NV_HEADER_LEN);
    if (wb_reader_left(&r) > 0 && !padding(&r, &pad))
        return wb_error_set(WB_E_INVALID, "TPM NV blob: %zu bytes after the certificate "
                            "(offset %zu) are not padding (one of 0x00, 0x11, 0xff "
                            "repeated)", wb_reader_left(&r), len - wb_reader_left(&r));
    {
        char tail[48] = "no padding";
        if (wb_reader_left(&r) > 0)
            snprintf(tail, sizeof(tail), "%zu bytes of 0x%02x padding",
                     wb_reader_left(&r), pad);
        snprintf(what, what_cap,
                 "TPM NV blob: header %02x %02x %02x %02x %02x %02x %02x (tag 0x%04x, full "
                 "certificate, %u bytes), %zu-byte DER certificate, %s",
                 data[0], data[1], data[2], data[3], data[4], data[5], data[6], tag, size,
                 total, tail);
    }
    return 0;
}

/* ---- PEM (RFC 7468) ---- */

static const char pem_begin[] = "-----BEGIN ";
static const char pem_end[] = "-----END CERTIFICATE-----";
#define LIT_LEN(s) (sizeof(s) - 1)

static size_t line_of(const uint8_t *data, const uint8_t *at)
{
    size_t line = 1;
    for (const uint8_t *p = data; p < at; p++)
        line += *p == '\n';
    return line;
}

static int is_b64(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/' || c == '=';
}

/* one block's body (between the BEGIN and END lines) -> DER in l */
static int pem_body(cert_list *l, wb_reader body, size_t *longest_line)
{
    char *b64 = NULL;
    uint8_t *der = NULL;
    size_t n = 0, der_len = 0, line = 0, total;
    size_t cap = wb_reader_left(&body);
    wb_reader d;
    int rc;

    /* the base64 of a WB_IDENTITY_CERT_MAX certificate, with line breaks */
    if (cap > 2 * (WB_IDENTITY_CERT_MAX / 3 + 1) * 4)
        return wb_error_set(WB_E_LIMIT, "PEM body of %zu characters, over the limit", cap);
    b64 = malloc(cap + 1);
    der = malloc(cap / 4 * 3 + 3);
    if (!b64 || !der) {
        free(b64);
        free(der);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    while (wb_reader_left(&body) > 0) {
        uint8_t c;
        wb_reader_get_u8(&body, &c);
        if (c == '\n' || c == '\r') {
            line = 0;
            continue;
        }
        if (c == ' ' || c == '\t')
            continue;
        if (!is_b64(c)) {
            rc = wb_error_set(WB_E_INVALID, "character 0x%02x in the base64 body (PEM "
                              "headers are not supported)", c);
            goto out;
        }
        b64[n++] = (char)c;
        if (++line > *longest_line)
            *longest_line = line;
    }
    if (n == 0) {
        rc = wb_error_set(WB_E_INVALID, "empty base64 body");
        goto out;
    }
    rc = wb_base64_decode(der, cap / 4 * 3 + 3, &der_len, b64, n);
    if (rc) {
        rc = wb_error_prefix(WB_E_INVALID, "base64 body");
        goto out;
    }
    wb_reader_init(&d, der, der_len);
    rc = der_cert_len(&d, &total);
    if (rc == 0 && total != der_len)
        rc = wb_error_set(WB_E_INVALID, "%zu bytes after the DER certificate",
                          der_len - total);
    if (rc == 0)
        rc = list_add(l, der, der_len);
out:
    free(b64);
    free(der);
    return rc;
}

static int load_pem(cert_list *l, const uint8_t *data, size_t len, char *what,
                    size_t what_cap)
{
    const uint8_t *end = data + len, *at = data;
    size_t longest = 0;
    int glued = 0, crlf = memmem(data, len, "\r\n", 2) != NULL;

    for (;;) {
        const uint8_t *b = memmem(at, (size_t)(end - at), pem_begin, LIT_LEN(pem_begin));
        const uint8_t *label, *label_end, *body, *e;
        size_t block = l->n + 1, line;
        wb_reader r;
        int rc;

        if (!b)
            break;
        line = line_of(data, b);
        label = b + LIT_LEN(pem_begin);
        label_end = memmem(label, (size_t)(end - label), "-----", 5);
        if (!label_end || memchr(label, '\n', (size_t)(label_end - label)))
            return wb_error_set(WB_E_INVALID, "PEM block %zu (line %zu): BEGIN line not "
                                "closed by -----", block, line);
        if ((size_t)(label_end - label) != LIT_LEN("CERTIFICATE") ||
            memcmp(label, "CERTIFICATE", LIT_LEN("CERTIFICATE")) != 0) {
            int k = (int)(label_end - label < 40 ? label_end - label : 40);
            const char *hint = "";
            if (k == 21 && memcmp(label, "ATTRIBUTE CERTIFICATE", 21) == 0)
                hint = " (a TCG platform certificate has no public key)";
            else if (k == 19 && memcmp(label, "CERTIFICATE REQUEST", 19) == 0)
                hint = " (a CSR: the vendor must issue it a certificate)";
            return wb_error_set(WB_E_INVALID, "PEM block %zu (line %zu) is '%.*s', not "
                                "'CERTIFICATE'%s", block, line, k, (const char *)label, hint);
        }
        body = label_end + 5;
        e = memmem(body, (size_t)(end - body), "-----END ", LIT_LEN("-----END "));
        if (!e)
            return wb_error_set(WB_E_INVALID, "PEM block %zu (line %zu): no END line "
                                "(truncated?)", block, line);
        if ((size_t)(end - e) < LIT_LEN(pem_end) || memcmp(e, pem_end, LIT_LEN(pem_end)) != 0)
            return wb_error_set(WB_E_INVALID, "PEM block %zu (line %zu): END line is not "
                                "'%s'", block, line, pem_end);
        wb_reader_init(&r, body, (size_t)(e - body));
        rc = pem_body(l, r, &longest);
        if (rc)
            return wb_error_prefix(rc, "PEM block %zu (line %zu)", block, line);
        at = e + LIT_LEN(pem_end);
        if ((size_t)(end - at) >= LIT_LEN(pem_begin) &&
            memcmp(at, pem_begin, LIT_LEN(pem_begin)) == 0)
            glued = 1;
    }
    if (l->n == 0)
        return wb_error_set(WB_E_INVALID, "PEM: no '-----BEGIN CERTIFICATE-----' block");
    snprintf(what, what_cap, "PEM: %zu CERTIFICATE block%s%s%s%s%s", l->n,
             l->n == 1 ? "" : "s", longest > 76 ? ", unwrapped base64 lines" : "",
             crlf ? ", CRLF line ends" : "", glued ? ", END and BEGIN glued on one line" : "",
             data[len - 1] != '\n' ? ", no final newline" : "");
    return 0;
}

int wb_identity_load(uint8_t ***der, size_t **len, size_t *n, const uint8_t *data,
                     size_t data_len, char *what, size_t what_cap)
{
    cert_list l = {0};
    char scratch[1];
    int rc;

    *der = NULL;
    *len = NULL;
    *n = 0;
    if (!what || what_cap == 0) {
        what = scratch;
        what_cap = sizeof(scratch);
    }
    what[0] = '\0';
    if (!data || data_len == 0)
        return wb_error_set(WB_E_INVALID, "certificate input: empty");
    if (data_len > WB_IDENTITY_BLOB_MAX)
        return wb_error_set(WB_E_LIMIT, "certificate input: %zu bytes, over the %u-byte limit",
                            data_len, WB_IDENTITY_BLOB_MAX);

    if (data[0] == 0x30) {
        rc = load_der(&l, data, data_len, what, what_cap);
        /* PEM text that happens to start with '0' (a comment line) */
        if (rc && memmem(data, data_len, pem_begin, LIT_LEN(pem_begin))) {
            list_free(&l);
            rc = load_pem(&l, data, data_len, what, what_cap);
        }
    } else if (data_len >= 2 && ((unsigned)data[0] << 8 | data[1]) == NV_TAG_STORED_CERT)
        rc = load_nv(&l, data, data_len, what, what_cap);
    else if (memmem(data, data_len, pem_begin, LIT_LEN(pem_begin)))
        rc = load_pem(&l, data, data_len, what, what_cap);
    else {
        uint8_t head[4] = {0};
        memcpy(head, data, data_len < 4 ? data_len : 4);
        rc = wb_error_set(WB_E_INVALID,
                          "not a certificate: starts with %02x %02x %02x %02x; expected DER "
                          "(30), PEM (-----BEGIN CERTIFICATE-----) or a TPM NV blob (10 01)",
                          head[0], head[1], head[2], head[3]);
    }
    if (rc) {
        list_free(&l);
        what[0] = '\0';
        return rc;
    }
    *der = l.der;
    *len = l.len;
    *n = l.n;
    return 0;
}

/* ---- the chain to the supplier's CAs ---- */

static void free_certs(X509 **xs, size_t n)
{
    for (size_t i = 0; xs && i < n; i++)
        X509_free(xs[i]);
    free(xs);
}

/*
 * issuer_hint: after "unable to get (local) issuer certificate", say which
 * issuer name was looked for, and, if a CA or chain certificate has that
 * name, why OpenSSL did not take it (e.g. an authority key identifier
 * that names another serial number, as Infineon's 2012 TPM 1.2 CAs do).
 */
static void issuer_hint(char *out, size_t cap, int err, X509 *cur, X509 **xs, size_t n,
                        X509 **ca, size_t ncas)
{
    BIO *b;
    char *p = NULL;
    long k = 0;

    out[0] = '\0';
    if (!cur || (err != X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY &&
                 err != X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT))
        return;
    b = BIO_new(BIO_s_mem());
    if (b && X509_NAME_print_ex(b, X509_get_issuer_name(cur), 0, XN_FLAG_RFC2253) >= 0)
        k = BIO_get_mem_data(b, &p);
    if (k > 0) {
        const char *kind = NULL;
        size_t idx = 0;
        int why = X509_V_OK;
        for (size_t i = 0; !kind && i < ncas + n; i++) {
            X509 *c = i < ncas ? ca[i] : xs[i - ncas];
            if (!c || c == cur ||
                X509_NAME_cmp(X509_get_subject_name(c), X509_get_issuer_name(cur)) != 0)
                continue;
            why = X509_check_issued(c, cur);
            if (why != X509_V_OK) {
                kind = i < ncas ? "CA certificate" : "device chain certificate";
                idx = i < ncas ? i : i - ncas;
            }
        }
        if (kind)
            snprintf(out, cap, " (%s %zu is named '%.*s' but OpenSSL does not take it as the "
                     "issuer: %s)", kind, idx, (int)(k < 100 ? k : 100), p,
                     X509_verify_cert_error_string(why));
        else
            snprintf(out, cap, " (no CA or chain certificate named '%.*s' that signed it)",
                     (int)(k < 120 ? k : 120), p);
    }
    BIO_free(b);
    ERR_clear_error();
}

int wb_identity_verify(char device_id[WB_IDENTITY_ID_HEX + 1],
                       const uint8_t *const *chain, const size_t *chain_len, size_t n,
                       const uint8_t *const *cas, const size_t *ca_len, size_t ncas)
{
    X509 **xs = NULL, **ca = NULL;
    X509_STORE *store = NULL;
    STACK_OF(X509) *untrusted = NULL;
    X509_STORE_CTX *ctx = NULL;
    unsigned char *leaf_spki = NULL;
    int leaf_spki_len;
    char id[WB_IDENTITY_ID_HEX + 1], desc[DESC_MAX], skipped[WB_ERROR_MAX / 2] = "";
    size_t usable = 0;
    int rc = 0;

    if (n == 0 || !chain || !chain_len)
        return wb_error_set(WB_E_INVALID, "device chain: empty");
    if (n > WB_IDENTITY_CERTS_MAX)
        return wb_error_set(WB_E_LIMIT, "device chain: %zu certificates, over the limit of %d",
                            n, WB_IDENTITY_CERTS_MAX);
    if (ncas == 0 || !cas || !ca_len)
        return wb_error_set(WB_E_VERIFY, "device chain: no CA certificate to validate to");
    if (ncas > WB_IDENTITY_CAS_MAX)
        return wb_error_set(WB_E_LIMIT, "%zu CA certificates, over the limit of %d", ncas,
                            WB_IDENTITY_CAS_MAX);

    xs = calloc(n, sizeof(*xs));
    ca = calloc(ncas, sizeof(*ca));
    if (!xs || !ca) {
        rc = wb_error_set(WB_E_NOMEM, "out of memory");
        goto out;
    }

    /* every chain certificate parses, and OpenSSL can handle its algorithms */
    for (size_t i = 0; i < n; i++) {
        xs[i] = parse_exact(chain[i], chain_len[i]);
        if (!xs[i]) {
            rc = wb_error_prefix(not_a_cert(chain[i], chain_len[i]), "device chain[%zu]", i);
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        rc = sig_check(xs[i]);
        if (rc == 0)
            rc = key_check(xs[i]);
        if (rc) {
            describe(desc, xs[i]);
            rc = wb_error_prefix(WB_E_VERIFY, "device chain[%zu] (%s)", i, desc);
            goto out;
        }
    }
    rc = id_of(id, xs[0]);
    if (rc) {
        describe(desc, xs[0]);
        rc = wb_error_prefix(WB_E_VERIFY, "device chain[0] (%s)", desc);
        goto out;
    }
    leaf_spki_len = spki_der(&leaf_spki, xs[0]);
    if (leaf_spki_len <= 0) {
        rc = wb_error_set(WB_E_CRYPTO, "device chain[0]: cannot encode the public key");
        goto out;
    }

    /* the CAs: a CA whose key OpenSSL cannot load is skipped and named */
    store = X509_STORE_new();
    untrusted = sk_X509_new_null();
    ctx = X509_STORE_CTX_new();
    if (!store || !untrusted || !ctx) {
        rc = wb_error_set(WB_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < ncas; k++) {
        unsigned char *spki = NULL;
        int spki_len, same;

        ca[k] = parse_exact(cas[k], ca_len[k]);
        if (!ca[k]) {
            rc = not_a_cert(cas[k], ca_len[k]);
            rc = wb_error_prefix(rc, "CA certificate %zu", k);
            goto out;
        }
        if (key_check(ca[k]) != 0) {
            if (!skipped[0]) {
                describe(desc, ca[k]);
                snprintf(skipped, sizeof(skipped), "; CA certificate %zu (%s) was skipped: %s",
                         k, desc, wb_error_message());
            }
            continue;
        }
        spki_len = spki_der(&spki, ca[k]);
        same = spki_len == leaf_spki_len && memcmp(spki, leaf_spki, (size_t)spki_len) == 0;
        OPENSSL_free(spki);
        if (spki_len <= 0) {
            rc = wb_error_set(WB_E_CRYPTO, "CA certificate %zu: cannot encode the public key",
                              k);
            goto out;
        }
        if (same) {
            describe(desc, xs[0]);
            rc = wb_error_set(WB_E_VERIFY,
                              "device chain[0] (%s) has the key of CA certificate %zu: a "
                              "device identity is issued under a CA, it is not one (chains "
                              "are leaf first; SPDM chains are root first, reverse them)",
                              desc, k);
            goto out;
        }
        if (X509_STORE_add_cert(store, ca[k]) != 1) {
            char why[128];
            ossl_reason(why, sizeof(why));
            rc = wb_error_set(WB_E_CRYPTO, "CA certificate %zu: %s", k, why);
            goto out;
        }
        usable++;
    }
    if (usable == 0) {
        rc = wb_error_set(WB_E_VERIFY, "device chain: no usable CA certificate%s", skipped);
        goto out;
    }

    for (size_t i = 1; i < n; i++) {
        if (!sk_X509_push(untrusted, xs[i])) {
            rc = wb_error_set(WB_E_NOMEM, "out of memory");
            goto out;
        }
        X509_up_ref(xs[i]);
    }
    if (X509_STORE_CTX_init(ctx, store, xs[0], untrusted) != 1) {
        char why[128];
        ossl_reason(why, sizeof(why));
        rc = wb_error_set(WB_E_CRYPTO, "device chain: verifier setup: %s", why);
        goto out;
    }
    X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME);
    if (X509_verify_cert(ctx) != 1) {
        int err = X509_STORE_CTX_get_error(ctx);
        X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
        char hint[256];
        if (cur)
            describe(desc, cur);
        else
            snprintf(desc, sizeof(desc), "?");
        issuer_hint(hint, sizeof(hint), err, cur, xs, n, ca, ncas);
        rc = wb_error_set(WB_E_VERIFY, "device chain: certificate at depth %d (%s): %s%s%s",
                          X509_STORE_CTX_get_error_depth(ctx), desc,
                          X509_verify_cert_error_string(err), hint, skipped);
        ERR_clear_error();
        goto out;
    }
    memcpy(device_id, id, sizeof(id));
out:
    X509_STORE_CTX_free(ctx);
    sk_X509_pop_free(untrusted, X509_free);
    X509_STORE_free(store);
    OPENSSL_free(leaf_spki);
    free_certs(xs, n);
    free_certs(ca, ncas);
    return rc;
}
