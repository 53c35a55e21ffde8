/*
 * test_identity.c: device identities from real root-of-trust certificates
 * (waybill/identity.h), with the artifacts of tests/vectors/identity/ (see
 * its README for sources and quirks) and tests/vectors/spdm/.
 *
 *   - loading: single DER, PEM (keylime files without a final newline and
 *     glued together, an unwrapped one-line body, CRLF), concatenated DER
 *     (libspdm bundles), TPM NV blobs with the 7-byte TCG header (STMicro
 *     TPM 1.2, and Infineon's whose file name does not say so) and with
 *     padding only (Nuvoton, 0x11); refusals: truncations at every length,
 *     garbage, CSRs, attribute certificates, other PEM types, limits;
 *   - device ids equal to the ones computed once, independently, with
 *       openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum
 *   - chains: SPDM ecp256/ecp384 (separate files, bundles, the alias
 *     model), the STMicro TPM 2.0 EK chain up to GlobalSign, Infineon's
 *     OPTIGA ECC intermediate, Caliptra's LDevID under an IDevID certificate
 *     issued here from the IDevID CSR (the vendor's job in production);
 *   - refusals with reasons: TPM 1.2 EKs (rsaesOaep key), ML-DSA-87
 *     (Caliptra), Caliptra's FMC alias whose issuer name says "2.0", the
 *     redacted alias certificates, wrong vendor CA, root-first chains, and
 *     every single-byte change of a leaf.
 */
#include "wbtest.h"

#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "waybill/error.h"
#include "waybill/identity.h"

/* Device ids computed once with the openssl command line (see above). */
#define ID_SPDM256_RESPONDER "c720b2b1a182b85069ace07ffef80aa3fef666677f7f9936a44c74871123a7df"
#define ID_SPDM384_RESPONDER "ed5802b2438ae815ef7b005b04e55023755f754c7e490d5de080f21eb57a7492"
#define ID_SPDM256_INTER "cfd143334bf2c7c2f6d48412dafafcaa4fa9e014185f75e83aee1a7246c01ae8"
#define ID_STM_TPM20_EK "15f0537b191c07431b829abcda82d8a6002a7add7465981186a0c3bce93d1849"
#define ID_STM_06I "0a29d506bd555a94dfedd4a81fefdf7ccb4b319fea7abf754fdcf3dbe9a94249"
#define ID_INF_ECC_011 "8bd6e6b3871cb99354e4fc0064ce6d8947d39c4d3bb5d9a4222ad7af1c619ca7"
#define ID_CALIPTRA_LDEVID "72e7778416a820933bc59b32a2b5e8a5cef84477173a458d057e8171da196092"
#define ID_CALIPTRA_FMC "49f0f2a4512046c60b232848f1bfcba9132e770640784834a850692d54d0f6b0"
#define ID_CALIPTRA_RT "7f4908130d10818011cf9c77fe9084abf8611357d9cf4278249113af0ef68ef0"

#define RSAES_OAEP_REASON                                                                  \
    "public key algorithm rsaesOaep (1.2.840.113549.1.1.7) is not supported: TPM 1.2 EK"
#define MLDSA87 "ML-DSA-87 (2.16.840.1.101.3.4.3.19)"

/* ---- helpers ---- */

typedef struct {
    uint8_t **der;
    size_t *len;
    size_t n;
    char what[256];
} certs;

static uint8_t *vec(const char *rel, size_t *len)
{
    return (uint8_t *)wbt_read_file(wbt_vector_path(rel), len);
}

static int load_bytes(certs *c, const uint8_t *data, size_t len)
{
    memset(c, 0, sizeof(*c));
    return wb_identity_load(&c->der, &c->len, &c->n, data, len, c->what, sizeof(c->what));
}

/* loads a vector file, failing the test if it does not load */
static void load(certs *c, const char *rel)
{
    size_t len;
    uint8_t *data = vec(rel, &len);
    if (load_bytes(c, data, len) != 0)
        fail_msg("%s: %s", rel, wb_error_message());
    free(data);
}

static void drop(certs *c)
{
    wb_identity_free(c->der, c->len, c->n);
    memset(c, 0, sizeof(*c));
}

static void assert_contains(const char *s, const char *part)
{
    if (!strstr(s, part))
        fail_msg("expected \"%s\" in \"%s\"", part, s);
}

/* the message of a load that must fail: nothing returned, a message set */
static const char *load_fails(const uint8_t *data, size_t len)
{
    certs c;
    wb_error_clear();
    int rc = load_bytes(&c, data, len);
    if (rc == 0)
        fail_msg("loaded %zu bytes that must be refused (%s)", len, c.what);
    assert_null(c.der);
    assert_null(c.len);
    assert_int_equal(c.n, 0);
    assert_string_equal(c.what, "");
    assert_true(strlen(wb_error_message()) > 0);
    return wb_error_message();
}

static const char *load_fails_str(const char *s)
{
    return load_fails((const uint8_t *)s, strlen(s));
}

/* a chain for wb_identity_verify, built from pointers into loaded lists */
typedef struct {
    const uint8_t *p[WB_IDENTITY_CERTS_MAX];
    size_t len[WB_IDENTITY_CERTS_MAX];
    size_t n;
} chain;

static void add(chain *ch, const certs *c, size_t i)
{
    assert_true(i < c->n);
    assert_true(ch->n < WB_IDENTITY_CERTS_MAX);
    ch->p[ch->n] = c->der[i];
    ch->len[ch->n++] = c->len[i];
}

static void add_all(chain *ch, const certs *c)
{
    for (size_t i = 0; i < c->n; i++)
        add(ch, c, i);
}

static void add_reversed(chain *ch, const certs *c)
{
    for (size_t i = c->n; i-- > 0;)
        add(ch, c, i);
}

static int verify(char id[65], const chain *ch, const chain *cas)
{
    wb_error_clear();
    return wb_identity_verify(id, ch->p, ch->len, ch->n, cas->p, cas->len, cas->n);
}

static void assert_valid(const chain *ch, const chain *cas, const char *want_id)
{
    char id[65] = "";
    if (verify(id, ch, cas) != 0)
        fail_msg("chain must validate: %s", wb_error_message());
    assert_string_equal(id, want_id);
}

/* a refused chain: WB_E_VERIFY, device_id untouched, the message has part */
static void assert_refused(const chain *ch, const chain *cas, const char *part)
{
    char id[65] = "untouched";
    int rc = verify(id, ch, cas);
    if (rc == 0)
        fail_msg("chain must be refused (id %s)", id);
    assert_int_equal(rc, WB_E_VERIFY);
    assert_string_equal(id, "untouched");
    assert_contains(wb_error_message(), part);
}

static void assert_id(const uint8_t *der, size_t len, const char *want)
{
    char id[65];
    if (wb_identity_device_id(id, der, len) != 0)
        fail_msg("device id: %s", wb_error_message());
    assert_string_equal(id, want);
    assert_int_equal(strlen(id), 64);
}

static uint8_t *concat(size_t *out_len, const uint8_t *a, size_t alen, const uint8_t *b,
                       size_t blen)
{
    uint8_t *p = malloc(alen + blen + 1);
    assert_non_null(p);
    memcpy(p, a, alen);
    memcpy(p + alen, b, blen);
    *out_len = alen + blen;
    return p;
}

/* ---- loading ---- */

static void test_load_spdm(void **state)
{
    (void)state;
    static const char *const curves[] = {"ecp256", "ecp384"};
    for (size_t k = 0; k < 2; k++) {
        char rel[128];
        certs pem, der, bundle, ca, inter, alias, alias_leaf;

        snprintf(rel, sizeof(rel), "spdm/%s/end_responder.cert", curves[k]);
        load(&pem, rel);
        assert_int_equal(pem.n, 1);
        assert_string_equal(pem.what, "PEM: 1 CERTIFICATE block");
        snprintf(rel, sizeof(rel), "identity/libspdm/%s/end_responder.cert.der", curves[k]);
        load(&der, rel);
        assert_int_equal(der.n, 1);
        assert_contains(der.what, "DER certificate (");
        /* the PEM and the DER file are the same certificate */
        assert_int_equal(pem.len[0], der.len[0]);
        assert_memory_equal(pem.der[0], der.der[0], der.len[0]);

        /* the bundle is ca ‖ inter ‖ leaf, split by the SEQUENCE lengths */
        snprintf(rel, sizeof(rel), "identity/libspdm/%s/bundle_responder.certchain.der",
                 curves[k]);
        load(&bundle, rel);
        assert_int_equal(bundle.n, 3);
        assert_string_equal(bundle.what, "concatenated DER: 3 certificates");
        snprintf(rel, sizeof(rel), "identity/libspdm/%s/ca.cert.der", curves[k]);
        load(&ca, rel);
        snprintf(rel, sizeof(rel), "spdm/%s/inter.cert.der", curves[k]);
        load(&inter, rel);
        assert_int_equal(bundle.len[0], ca.len[0]);
        assert_memory_equal(bundle.der[0], ca.der[0], ca.len[0]);
        assert_int_equal(bundle.len[1], inter.len[0]);
        assert_memory_equal(bundle.der[1], inter.der[0], inter.len[0]);
        assert_int_equal(bundle.len[2], der.len[0]);
        assert_memory_equal(bundle.der[2], der.der[0], der.len[0]);

        /* the alias bundle: 4 certificates, the last is the alias leaf */
        snprintf(rel, sizeof(rel), "spdm/%s/bundle_responder.certchain_alias.der", curves[k]);
        load(&alias, rel);
        assert_int_equal(alias.n, 4);
        snprintf(rel, sizeof(rel), "identity/libspdm/%s/end_responder_alias.cert.der",
                 curves[k]);
        load(&alias_leaf, rel);
        assert_int_equal(alias.len[3], alias_leaf.len[0]);
        assert_memory_equal(alias.der[3], alias_leaf.der[0], alias_leaf.len[0]);

        drop(&pem);
        drop(&der);
        drop(&bundle);
        drop(&ca);
        drop(&inter);
        drop(&alias);
        drop(&alias_leaf);
    }
}

static void test_load_pem_quirks(void **state)
{
    (void)state;
    size_t rt_len, i6_len, glued_len, leaf_len;
    uint8_t *rt = vec("identity/tpm-ek/stmicro-tpm20-rsa-chain/STM_RSA_RT.pem", &rt_len);
    uint8_t *i6 = vec("identity/tpm-ek/stmicro-tpm20-rsa-chain/STM_RSA_06I.pem", &i6_len);
    uint8_t *leaf = vec("spdm/ecp384/end_responder.cert", &leaf_len);
    uint8_t *glued;
    certs a, b, c;

    /* keylime's PEM files end without a newline */
    assert_int_not_equal(rt[rt_len - 1], '\n');
    assert_int_equal(load_bytes(&a, rt, rt_len), 0);
    assert_int_equal(a.n, 1);
    assert_string_equal(a.what, "PEM: 1 CERTIFICATE block, no final newline");

    /* so `cat` glues -----END CERTIFICATE----------BEGIN CERTIFICATE----- */
    glued = concat(&glued_len, rt, rt_len, i6, i6_len);
    assert_non_null(memmem(glued, glued_len, "-----END CERTIFICATE----------BEGIN",
                           strlen("-----END CERTIFICATE----------BEGIN")));
    assert_int_equal(load_bytes(&b, glued, glued_len), 0);
    assert_int_equal(b.n, 2);
    assert_contains(b.what, "PEM: 2 CERTIFICATE blocks");
    assert_contains(b.what, "END and BEGIN glued on one line");
    assert_int_equal(b.len[0], a.len[0]);
    assert_memory_equal(b.der[0], a.der[0], a.len[0]);
    drop(&a);
    drop(&b);
    free(glued);

    /* one unwrapped base64 line (as paccor writes), with CRLF line ends and
     * text before and after the block */
    {
        char *pem = malloc(leaf_len * 2 + 64), *o = pem;
        const char *body = strstr((char *)leaf, "-----\n") + 6;
        const char *end = strstr(body, "-----END");
        o += sprintf(o, "subject=CN = DMTF libspdm ECP384 responder cert\r\n");
        o += sprintf(o, "-----BEGIN CERTIFICATE-----\r\n");
        for (const char *p = body; p < end; p++)
            if (*p != '\n')
                *o++ = *p;
        o += sprintf(o, "\r\n-----END CERTIFICATE-----\r\ntrailing words\r\n");
        assert_int_equal(load_bytes(&c, (uint8_t *)pem, (size_t)(o - pem)), 0);
        assert_int_equal(c.n, 1);
        assert_string_equal(c.what,
                            "PEM: 1 CERTIFICATE block, unwrapped base64 lines, CRLF line ends");
        assert_id(c.der[0], c.len[0], ID_SPDM384_RESPONDER);
        drop(&c);
        free(pem);
    }
    free(rt);
    free(i6);
    free(leaf);
}

static void test_load_tpm_blobs(void **state)
{
    (void)state;
    certs blob, bare, ek, c;

    /* STMicro TPM 1.2: the 7-byte TCG header, then exactly the DER */
    load(&blob, "identity/tpm-ek/stmicro-tpm12-nv-header/ek_cert_untouched.cer");
    assert_int_equal(blob.n, 1);
    assert_string_equal(blob.what,
                        "TPM NV blob: header 10 01 00 04 64 10 02 (tag 0x1001, full "
                        "certificate, 1124 bytes), 1122-byte DER certificate, no padding");
    load(&bare, "identity/tpm-ek/stmicro-tpm12-nv-header/ek_cert_7_byte_header_removed.cer");
    assert_int_equal(bare.n, 1);
    assert_int_equal(bare.len[0], 1122);
    assert_int_equal(blob.len[0], bare.len[0]);
    assert_memory_equal(blob.der[0], bare.der[0], bare.len[0]);
    drop(&blob);
    drop(&bare);

    /* Infineon: the same header although the file name does not say so,
     * and 300 bytes of 0x00 after the certificate */
    load(&blob, "identity/tpm-ek/infineon/ek_cert_with_security_assertions.cer");
    assert_int_equal(blob.n, 1);
    assert_int_equal(blob.len[0], 1397);
    assert_string_equal(blob.what,
                        "TPM NV blob: header 10 01 00 05 77 10 02 (tag 0x1001, full "
                        "certificate, 1399 bytes), 1397-byte DER certificate, 300 bytes of "
                        "0x00 padding");
    drop(&blob);

    /* Nuvoton: no header, 908 bytes of DER then 192 bytes of 0x11 */
    load(&blob, "identity/tpm-ek/nuvoton/ek_cert_with_padded_bytes.cer");
    assert_int_equal(blob.n, 1);
    assert_int_equal(blob.len[0], 908);
    assert_string_equal(blob.what,
                        "TPM NV blob without header: 908-byte DER certificate, then 192 "
                        "bytes of 0x11 padding");
    drop(&blob);

    /* paccor's ek.crt is DER despite its name: content decides */
    load(&ek, "identity/tpm-ek/stmicro-tpm20-rsa-chain/ek_ST33HTPHAHD4.crt");
    assert_int_equal(ek.n, 1);
    assert_string_equal(ek.what, "DER certificate (1033 bytes)");

    /* a TPM 2.0 index read at its full size: the same DER with 0xff after it */
    {
        size_t len = ek.len[0] + 500;
        uint8_t *p = malloc(len);
        memcpy(p, ek.der[0], ek.len[0]);
        memset(p + ek.len[0], 0xff, 500);
        assert_int_equal(load_bytes(&c, p, len), 0);
        assert_string_equal(c.what, "TPM NV blob without header: 1033-byte DER certificate, "
                                    "then 500 bytes of 0xff padding");
        drop(&c);
        free(p);
    }
    drop(&ek);

    /* ML-DSA-87 certificates are 7-8 KB: no 4 KB buffers anywhere */
    load(&c, "identity/caliptra/fmc_alias_cert_mldsa.der");
    assert_int_equal(c.n, 1);
    assert_int_equal(c.len[0], 7913);
    drop(&c);
}

/*
 * every prefix of a real input that cuts into a certificate is refused.
 * Concatenated DER has no count: a bundle cut exactly between two
 * certificates is a shorter bundle (boundaries[], 0-terminated), and it is
 * the chain check and the manifest's declared device id that notice.
 */
static void truncations(const char *rel, size_t keep_from, const size_t *boundaries)
{
    size_t len;
    uint8_t *data = vec(rel, &len);
    for (size_t n = 1; n < keep_from && n < len; n++) {
        uint8_t *p = malloc(n); /* exact size, so ASan sees any overread */
        size_t k = 0;
        memcpy(p, data, n);
        while (boundaries && boundaries[k] && boundaries[k] != n)
            k++;
        if (boundaries && boundaries[k] == n) {
            certs c;
            assert_int_equal(load_bytes(&c, p, n), 0);
            assert_int_equal(c.n, k + 1);
            drop(&c);
        } else {
            load_fails(p, n);
        }
        free(p);
    }
    free(data);
}

static void test_load_refusals(void **state)
{
    (void)state;
    size_t len;
    uint8_t *st12 = vec("identity/tpm-ek/stmicro-tpm12-nv-header/ek_cert_untouched.cer", &len);
    uint8_t *p;
    const char *msg;

    msg = load_fails((const uint8_t *)"", 0);
    assert_contains(msg, "empty");
    msg = load_fails((const uint8_t *)"\x7f" "ELF\x02\x01", 6);
    assert_contains(msg, "not a certificate: starts with 7f 45 4c 46");
    msg = load_fails((const uint8_t *)"hello, this is no certificate\n", 30);
    assert_contains(msg, "not a certificate");

    /* truncations: STM 1.2 blob (1129 bytes, all of it needed), the libspdm
     * bundle, a PEM file (cut anywhere before its END line ends), and the
     * padded blobs cut inside the certificate */
    {
        static const size_t bundle384[] = {472, 472 + 512, 0};
        truncations("identity/tpm-ek/stmicro-tpm12-nv-header/ek_cert_untouched.cer", 1129,
                    NULL);
        truncations("identity/libspdm/ecp384/bundle_responder.certchain.der", 1603,
                    bundle384);
        truncations("identity/tpm-ek/stmicro-tpm20-rsa-chain/GS_TPM_RT.pem", 1390, NULL);
        truncations("identity/tpm-ek/nuvoton/ek_cert_with_padded_bytes.cer", 908, NULL);
        truncations("identity/tpm-ek/infineon/ek_cert_with_security_assertions.cer",
                    7 + 1397, NULL);
    }

    msg = load_fails(st12, 500);
    assert_contains(msg, "TPM NV blob: the header announces 1124 bytes but only 495 follow "
                         "(truncated?)");
    {
        size_t blen;
        uint8_t *b = vec("identity/libspdm/ecp384/bundle_responder.certchain.der", &blen);
        msg = load_fails(b, blen - 10);
        assert_contains(msg, "DER certificate 3 at offset 984");
        assert_contains(msg, "truncated");
        /* a padded bundle: padding belongs to a single NV certificate */
        p = malloc(blen + 16);
        memcpy(p, b, blen);
        memset(p + blen, 0x11, 16);
        msg = load_fails(p, blen + 16);
        assert_contains(msg, "16 bytes of 0x11 padding after 3 concatenated certificates");
        free(p);
        free(b);
    }

    /* the header's size must be the certificate's: one more byte announced */
    p = malloc(len + 1);
    memcpy(p, st12, len);
    p[len] = 0;
    p[4] = 0x65;
    msg = load_fails(p, len + 1);
    assert_contains(msg, "the header announces a 1123-byte certificate but its DER SEQUENCE "
                         "is 1122 bytes");
    /* and one byte fewer */
    memcpy(p, st12, len);
    p[4] = 0x63;
    assert_contains(load_fails(p, len), "the header announces a 1121-byte certificate but its "
                                        "DER SEQUENCE is 1122 bytes");
    /* certType 1 (partial) and an unknown one */
    memcpy(p, st12, len);
    p[2] = 1;
    assert_contains(load_fails(p, len), "certType 1 (partial small certificate)");
    p[2] = 7;
    assert_contains(load_fails(p, len), "unknown certType 7");
    memcpy(p, st12, len);
    p[6] = 0x03;
    assert_contains(load_fails(p, len), "full-certificate tag 0x1003, expected 0x1002");
    /* padding must be one value from the list */
    memcpy(p, st12, len);
    p[len] = 0x42;
    assert_contains(load_fails(p, len + 1), "are not padding");
    free(p);
    free(st12);
    {
        size_t nlen;
        uint8_t *nuvo = vec("identity/tpm-ek/nuvoton/ek_cert_with_padded_bytes.cer", &nlen);
        nuvo[nlen - 1] = 0x00; /* 0x11 ... 0x11 0x00 */
        assert_contains(load_fails(nuvo, nlen), "neither a certificate (0x30) nor NV padding");
        free(nuvo);
    }

    /* BER indefinite length and non-minimal lengths */
    assert_contains(load_fails((const uint8_t *)"\x30\x80\x02\x01\x01\x00\x00", 7),
                    "indefinite length");
    assert_contains(load_fails((const uint8_t *)"\x30\x81\x05\x02\x01\x01\x05\x00", 8),
                    "non-minimal DER length");

    /* things that are not X.509 certificates are named */
    {
        size_t n;
        uint8_t *csr = vec("identity/caliptra/idevid_csr_ecc.der", &n);
        assert_contains(load_fails(csr, n), "a PKCS#10 certificate request (CSR)");
        free(csr);
        csr = vec("identity/tcg-platform-certs/hirs-intel-nuc1/Intel_nuc1.cer", &n);
        assert_contains(load_fails(csr, n), "an attribute certificate (RFC 5755");
        free(csr);
        /* paccor's platform certificate: PEM, one unwrapped 5,100-character line */
        csr = vec("identity/tcg-platform-certs/paccor-sample_testgen1/"
                  "platform_cert.20250909102720.crt",
                  &n);
        assert_contains(load_fails(csr, n),
                        "PEM block 1 (line 1) is 'ATTRIBUTE CERTIFICATE', not 'CERTIFICATE'");
        free(csr);
    }
    assert_contains(load_fails_str("-----BEGIN PRIVATE KEY-----\nAAAA\n"
                                   "-----END PRIVATE KEY-----\n"),
                    "is 'PRIVATE KEY', not 'CERTIFICATE'");
    assert_contains(load_fails_str("-----BEGIN CERTIFICATE-----\nMIIB!!\n"
                                   "-----END CERTIFICATE-----\n"),
                    "character 0x21 in the base64 body");
    assert_contains(load_fails_str("-----BEGIN CERTIFICATE-----\nMAMCAQE=\n"
                                   "-----END CERTIFICATE-----\n"),
                    "not an X.509 certificate");
    assert_contains(load_fails_str("-----BEGIN CERTIFICATE-----\nMAMCAQE=\n"),
                    "no END line");
    assert_contains(load_fails_str("-----BEGIN CERTIFICATE-----\nMAMCAQE=\n"
                                   "-----END X509 CRL-----\n"),
                    "END line is not '-----END CERTIFICATE-----'");

    /* limits: 17 certificates, an input over 1 MiB */
    {
        certs one;
        size_t n = 0, clen;
        uint8_t *many, *cert = vec("identity/libspdm/ecp256/ca.cert.der", &clen);
        many = malloc(clen * 17);
        for (int i = 0; i < 17; i++) {
            memcpy(many + n, cert, clen);
            n += clen;
        }
        free(cert);
        assert_int_equal(load_bytes(&one, many, n - clen), 0); /* 16 is fine */
        assert_int_equal(one.n, 16);
        drop(&one);
        wb_error_clear();
        assert_int_equal(load_bytes(&one, many, n), WB_E_LIMIT);
        assert_contains(wb_error_message(), "more than 16 certificates");
        free(many);
        many = calloc(1, WB_IDENTITY_BLOB_MAX + 1);
        many[0] = 0x30;
        assert_int_equal(load_bytes(&one, many, WB_IDENTITY_BLOB_MAX + 1), WB_E_LIMIT);
        free(many);
    }
}

/* random bytes, and random changes of real blobs, never crash or load junk */
static void test_load_garbage(void **state)
{
    (void)state;
    uint64_t seed = wbt_seed("identity_garbage");
    static const char *const blobs[] = {
        "identity/tpm-ek/stmicro-tpm12-nv-header/ek_cert_untouched.cer",
        "identity/tpm-ek/nuvoton/ek_cert_with_padded_bytes.cer",
        "identity/libspdm/ecp256/bundle_responder.certchain.der",
        "identity/tpm-ek/infineon/IFX8.pem",
    };
    for (int round = 0; round < 2000; round++) {
        size_t len = 1 + wbt_rand(&seed) % 2048;
        uint8_t *p = malloc(len);
        certs c;
        for (size_t i = 0; i < len; i++)
            p[i] = (uint8_t)wbt_rand(&seed);
        if (load_bytes(&c, p, len) == 0)
            fail_msg("random input of %zu bytes loaded: %s", len, c.what);
        free(p);
    }
    for (size_t b = 0; b < sizeof(blobs) / sizeof(blobs[0]); b++) {
        size_t len;
        uint8_t *orig = vec(blobs[b], &len);
        for (int round = 0; round < 300; round++) {
            uint8_t *p = malloc(len);
            certs c;
            memcpy(p, orig, len);
            p[wbt_rand(&seed) % len] ^= (uint8_t)(1 + wbt_rand(&seed) % 255);
            if (load_bytes(&c, p, len) == 0) {
                /* whatever loads is a list of certificates that parse */
                assert_true(c.n >= 1);
                for (size_t i = 0; i < c.n; i++)
                    assert_true(c.len[i] > 0);
                drop(&c);
            } else {
                assert_true(strlen(wb_error_message()) > 0);
            }
            free(p);
        }
        free(orig);
    }
}

/* ---- device ids ---- */

static void test_device_ids(void **state)
{
    (void)state;
    certs c;
    char id[65], again[65];

    load(&c, "spdm/ecp256/end_responder.cert");
    assert_id(c.der[0], c.len[0], ID_SPDM256_RESPONDER);
    drop(&c);
    load(&c, "identity/libspdm/ecp384/end_responder.cert.der");
    assert_id(c.der[0], c.len[0], ID_SPDM384_RESPONDER);
    assert_int_equal(wb_identity_device_id(id, c.der[0], c.len[0]), 0);
    assert_int_equal(wb_identity_device_id(again, c.der[0], c.len[0]), 0);
    assert_string_equal(id, again);
    drop(&c);
    /* the alias-model leaf certifies the same key as the plain responder
     * leaf (libspdm reuses end_responder.key): the same device id */
    load(&c, "identity/libspdm/ecp256/end_responder_alias.cert.der");
    assert_id(c.der[0], c.len[0], ID_SPDM256_RESPONDER);
    drop(&c);
    load(&c, "identity/libspdm/ecp384/end_responder_alias.cert.der");
    assert_id(c.der[0], c.len[0], ID_SPDM384_RESPONDER);
    drop(&c);
    /* an RSA EK: no wb_key involved */
    load(&c, "identity/tpm-ek/stmicro-tpm20-rsa-chain/ek_ST33HTPHAHD4.crt");
    assert_id(c.der[0], c.len[0], ID_STM_TPM20_EK);
    drop(&c);
    load(&c, "identity/tpm-ek/infineon/INF_ECC_011.pem");
    assert_id(c.der[0], c.len[0], ID_INF_ECC_011);
    drop(&c);
    load(&c, "identity/caliptra/ldevid_cert_ecc.der");
    assert_id(c.der[0], c.len[0], ID_CALIPTRA_LDEVID);
    drop(&c);
    load(&c, "identity/caliptra/fmc_alias_cert_ecc.der");
    assert_id(c.der[0], c.len[0], ID_CALIPTRA_FMC);
    drop(&c);
    /* redacted certificates still carry a key (both the same one) */
    load(&c, "identity/caliptra/rt_alias_cert_redacted.der");
    assert_id(c.der[0], c.len[0], ID_CALIPTRA_RT);
    drop(&c);

    /* not a certificate, trailing bytes, empty */
    wb_error_clear();
    assert_int_equal(wb_identity_device_id(id, (const uint8_t *)"\x30\x00", 2), WB_E_INVALID);
    assert_contains(wb_error_message(), "not one DER X.509 certificate");
    assert_int_equal(wb_identity_device_id(id, NULL, 0), WB_E_INVALID);
    {
        size_t len;
        uint8_t *blob = vec("identity/tpm-ek/nuvoton/ek_cert_with_padded_bytes.cer", &len);
        /* the padded blob itself is not "a certificate": load it first */
        assert_int_equal(wb_identity_device_id(id, blob, len), WB_E_INVALID);
        free(blob);
    }
}

/* TPM 1.2 EKs: loaded from their blobs, then refused by key type */
static void test_tpm12_refused(void **state)
{
    (void)state;
    static const char *const eks[] = {
        "identity/tpm-ek/stmicro-tpm12-nv-header/ek_cert_untouched.cer",
        "identity/tpm-ek/infineon/ek_cert_with_security_assertions.cer",
        "identity/tpm-ek/nuvoton/ek_cert_with_padded_bytes.cer",
    };
    char id[65] = "untouched";
    for (size_t i = 0; i < sizeof(eks) / sizeof(eks[0]); i++) {
        certs ek;
        load(&ek, eks[i]);
        assert_int_equal(ek.n, 1);
        wb_error_clear();
        assert_int_equal(wb_identity_device_id(id, ek.der[0], ek.len[0]), WB_E_INVALID);
        assert_contains(wb_error_message(), RSAES_OAEP_REASON);
        assert_string_equal(id, "untouched");
        drop(&ek);
    }

    /* with their CAs, the chain is refused for the same reason */
    {
        certs ek, ca, inter, root;
        chain ch = {0}, cas = {0};
        load(&ek, eks[0]);
        load(&ca, "identity/tpm-ek/stmicro-tpm12-nv-header/STM_RSA_02I.pem");
        add(&ch, &ek, 0);
        add(&cas, &ca, 0);
        assert_refused(&ch, &cas, RSAES_OAEP_REASON);
        assert_contains(wb_error_message(), "device chain[0] (empty subject, serial "
                                            "0700818567ff35791690d2d404945df56b0e6dc7)");
        /* the CA side is fine: STM's intermediate 02 validates to STM's root */
        load(&root, "identity/tpm-ek/stmicro-tpm20-rsa-chain/STM_RSA_RT.pem");
        memset(&ch, 0, sizeof(ch));
        memset(&cas, 0, sizeof(cas));
        add(&ch, &ca, 0);
        add(&cas, &root, 0);
        {
            char cid[65];
            assert_int_equal(verify(cid, &ch, &cas), 0);
        }
        drop(&ek);
        drop(&ca);
        drop(&root);

        /* Infineon: EK, intermediate 08, root */
        load(&ek, eks[1]);
        load(&inter, "identity/tpm-ek/infineon/IFX8.pem");
        load(&root, "identity/tpm-ek/infineon/IFX_RSA_RT.pem");
        memset(&ch, 0, sizeof(ch));
        memset(&cas, 0, sizeof(cas));
        add(&ch, &ek, 0);
        add(&ch, &inter, 0);
        add(&cas, &root, 0);
        assert_refused(&ch, &cas, RSAES_OAEP_REASON);
        /* and even the CA side fails name+key-identifier chaining in OpenSSL:
         * IFX8's authorityKeyIdentifier names issuer serial 03 under
         * "CN=IFX TPM EK Root CA", but the root's serial is 472404e0...
         * (the EK's says 08681e16 for IFX8, which is 7c6a18ea) */
        memset(&ch, 0, sizeof(ch));
        add(&ch, &inter, 0);
        assert_refused(&ch, &cas, "unable to get local issuer certificate (CA certificate 0 "
                                  "is named 'CN=IFX TPM EK Root CA,OU=AIM,O=Infineon "
                                  "Technologies AG,ST=Bavaria,C=DE' but OpenSSL does not take "
                                  "it as the issuer: authority and issuer serial number "
                                  "mismatch)");
        drop(&ek);
        drop(&inter);
        drop(&root);

        /* Nuvoton: the EK's issuer (Root CA 2010) is neither root given */
        load(&ek, eks[2]);
        load(&root, "identity/tpm-ek/nuvoton/NUVO_1110.pem");
        load(&ca, "identity/tpm-ek/nuvoton/NTC1.pem");
        memset(&ch, 0, sizeof(ch));
        memset(&cas, 0, sizeof(cas));
        add(&ch, &ek, 0);
        add(&cas, &root, 0);
        add(&cas, &ca, 0);
        assert_refused(&ch, &cas, RSAES_OAEP_REASON);
        {
            const unsigned char *q = ek.der[0], *r = root.der[0], *s = ca.der[0];
            X509 *xe = d2i_X509(NULL, &q, (long)ek.len[0]);
            X509 *xr = d2i_X509(NULL, &r, (long)root.len[0]);
            X509 *xs = d2i_X509(NULL, &s, (long)ca.len[0]);
            assert_non_null(xe);
            assert_non_null(xr);
            assert_non_null(xs);
            assert_int_not_equal(X509_NAME_cmp(X509_get_issuer_name(xe),
                                               X509_get_subject_name(xr)), 0);
            assert_int_not_equal(X509_NAME_cmp(X509_get_issuer_name(xe),
                                               X509_get_subject_name(xs)), 0);
            X509_free(xe);
            X509_free(xr);
            X509_free(xs);
        }
        /* the roots' multi-valued RDNs (CN + O + C in one SET) print as such */
        memset(&ch, 0, sizeof(ch));
        memset(&cas, 0, sizeof(cas));
        add(&ch, &root, 0);
        add(&cas, &ca, 0);
        assert_refused(&ch, &cas, "(C=TW+O=Nuvoton Technology Corporation+CN=Nuvoton TPM "
                                  "Root CA 1110): self-signed certificate");
        drop(&ek);
        drop(&root);
        drop(&ca);
    }
}

/* ---- chains that validate ---- */

static void test_spdm_chains(void **state)
{
    (void)state;
    static const char *const curves[] = {"ecp256", "ecp384"};
    static const char *const ids[] = {ID_SPDM256_RESPONDER, ID_SPDM384_RESPONDER};
    for (size_t k = 0; k < 2; k++) {
        char rel[128];
        certs leaf, inter, ca_pem, ca_der, bundle, alias;
        chain ch = {0}, cas = {0};

        snprintf(rel, sizeof(rel), "spdm/%s/end_responder.cert", curves[k]);
        load(&leaf, rel);
        snprintf(rel, sizeof(rel), "spdm/%s/inter.cert.der", curves[k]);
        load(&inter, rel);
        snprintf(rel, sizeof(rel), "spdm/%s/ca.cert", curves[k]);
        load(&ca_pem, rel);
        snprintf(rel, sizeof(rel), "identity/libspdm/%s/ca.cert.der", curves[k]);
        load(&ca_der, rel);

        /* separate files: leaf + intermediate -> root (not x509_strict-clean) */
        add(&ch, &leaf, 0);
        add(&ch, &inter, 0);
        add(&cas, &ca_pem, 0);
        assert_valid(&ch, &cas, ids[k]);
        /* the intermediate as the anchor (partial chain) */
        memset(&ch, 0, sizeof(ch));
        memset(&cas, 0, sizeof(cas));
        add(&ch, &leaf, 0);
        add(&cas, &inter, 0);
        assert_valid(&ch, &cas, ids[k]);
        /* without the intermediate the root alone is not enough */
        memset(&cas, 0, sizeof(cas));
        add(&cas, &ca_der, 0);
        assert_refused(&ch, &cas, "unable to get local issuer certificate (no CA or chain "
                                  "certificate named 'CN=DMTF libspdm");

        /* the bundle is root first: reversed it validates (the root in the
         * chain is fine too) */
        snprintf(rel, sizeof(rel), "identity/libspdm/%s/bundle_responder.certchain.der",
                 curves[k]);
        load(&bundle, rel);
        memset(&ch, 0, sizeof(ch));
        add_reversed(&ch, &bundle);
        assert_valid(&ch, &cas, ids[k]);
        /* as published (root first) it is refused with the hint */
        memset(&ch, 0, sizeof(ch));
        add_all(&ch, &bundle);
        assert_refused(&ch, &cas, "has the key of CA certificate 0");
        assert_contains(wb_error_message(), "SPDM chains are root first, reverse them");

        /* the alias model: leaf <- alias CA (CA:TRUE, issued under the
         * device's name) <- intermediate <- root */
        snprintf(rel, sizeof(rel), "spdm/%s/bundle_responder.certchain_alias.der", curves[k]);
        load(&alias, rel);
        memset(&ch, 0, sizeof(ch));
        add_reversed(&ch, &alias);
        assert_valid(&ch, &cas, ids[k]);
        /* intermediates in any order, root left out */
        memset(&ch, 0, sizeof(ch));
        add(&ch, &alias, 3);
        add(&ch, &alias, 1);
        add(&ch, &alias, 2);
        assert_valid(&ch, &cas, ids[k]);
        /* without the alias CA the leaf has no issuer */
        memset(&ch, 0, sizeof(ch));
        add(&ch, &alias, 3);
        add(&ch, &alias, 1);
        assert_refused(&ch, &cas, "responder alias end cert");

        drop(&leaf);
        drop(&inter);
        drop(&ca_pem);
        drop(&ca_der);
        drop(&bundle);
        drop(&alias);
    }
}

static void test_tpm20_stmicro_chain(void **state)
{
    (void)state;
    certs ek, i06, strt, gs;
    chain ch = {0}, cas = {0};

    load(&ek, "identity/tpm-ek/stmicro-tpm20-rsa-chain/ek_ST33HTPHAHD4.crt");
    load(&i06, "identity/tpm-ek/stmicro-tpm20-rsa-chain/STM_RSA_06I.pem");
    load(&strt, "identity/tpm-ek/stmicro-tpm20-rsa-chain/STM_RSA_RT.pem");
    load(&gs, "identity/tpm-ek/stmicro-tpm20-rsa-chain/GS_TPM_RT.pem");

    /* GlobalSign root -> STM root -> STM intermediate 06 -> EK (empty
     * subject, critical SAN with the TPM manufacturer/model/version) */
    add(&ch, &ek, 0);
    add(&ch, &i06, 0);
    add(&ch, &strt, 0);
    add(&cas, &gs, 0);
    assert_valid(&ch, &cas, ID_STM_TPM20_EK);
    /* intermediates in the other order */
    memset(&ch, 0, sizeof(ch));
    add(&ch, &ek, 0);
    add(&ch, &strt, 0);
    add(&ch, &i06, 0);
    assert_valid(&ch, &cas, ID_STM_TPM20_EK);
    /* STM's root or its intermediate as the supplier's CA */
    memset(&ch, 0, sizeof(ch));
    memset(&cas, 0, sizeof(cas));
    add(&ch, &ek, 0);
    add(&ch, &i06, 0);
    add(&cas, &strt, 0);
    assert_valid(&ch, &cas, ID_STM_TPM20_EK);
    memset(&ch, 0, sizeof(ch));
    memset(&cas, 0, sizeof(cas));
    add(&ch, &ek, 0);
    add(&cas, &i06, 0);
    assert_valid(&ch, &cas, ID_STM_TPM20_EK);
    /* the intermediate missing: the message names the issuer looked for */
    memset(&cas, 0, sizeof(cas));
    add(&cas, &gs, 0);
    assert_refused(&ch, &cas, "certificate at depth 0 (empty subject, serial "
                              "316a3c6481b8e11be9fb75d54cbf0be3445774c7): unable to get local "
                              "issuer certificate (no CA or chain certificate named 'CN=STM "
                              "TPM EK Intermediate CA 06,O=STMicroelectronics NV,C=CH'");
    /* an intermediate presented as a device validates too (its own id):
     * wb_identity_verify does not judge what kind of certificate a leaf is */
    memset(&ch, 0, sizeof(ch));
    add(&ch, &i06, 0);
    add(&ch, &strt, 0);
    assert_valid(&ch, &cas, ID_STM_06I);
    drop(&ek);
    drop(&i06);
    drop(&strt);
    drop(&gs);
}

static void test_infineon_ecc(void **state)
{
    (void)state;
    certs mca, root;
    chain ch = {0}, cas = {0};
    /* a P-256 key signed with ecdsa-with-SHA384 by a P-384 root */
    load(&mca, "identity/tpm-ek/infineon/INF_ECC_011.pem");
    load(&root, "identity/tpm-ek/infineon/INF_ECC_010RT.pem");
    add(&ch, &mca, 0);
    add(&cas, &root, 0);
    assert_valid(&ch, &cas, ID_INF_ECC_011);
    drop(&mca);
    drop(&root);
}

/* ---- Caliptra ---- */

/* a P-384 vendor CA made here, and the IDevID certificate it issues for the
 * IDevID CSR (in production the vendor endorses the CSR) */
typedef struct {
    EVP_PKEY *key;
    uint8_t *ca_der, *idevid_der;
    size_t ca_len, idevid_len;
} vendor;

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *e;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(e);
    assert_int_equal(X509_add_ext(x, e, -1), 1);
    X509_EXTENSION_free(e);
}

static uint8_t *issue(size_t *len, X509_NAME *subject, EVP_PKEY *pub, X509 *issuer,
                      EVP_PKEY *signer, long serial)
{
    X509 *x = X509_new();
    unsigned char *der = NULL;
    uint8_t *out;
    int n;
    assert_non_null(x);
    assert_int_equal(X509_set_version(x, 2), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), 1);
    assert_int_equal(X509_set_subject_name(x, subject), 1);
    assert_int_equal(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subject),
                     1);
    assert_int_equal(X509_set_pubkey(x, pub), 1);
    assert_int_equal(ASN1_TIME_set_string(X509_getm_notBefore(x), "20230101000000Z"), 1);
    assert_int_equal(ASN1_TIME_set_string(X509_getm_notAfter(x), "99991231235959Z"), 1);
    add_ext(x, issuer ? issuer : x, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, issuer ? issuer : x, NID_key_usage, "critical,keyCertSign");
    assert_true(X509_sign(x, signer, EVP_sha384()) > 0);
    n = i2d_X509(x, &der);
    assert_true(n > 0);
    out = malloc((size_t)n);
    memcpy(out, der, (size_t)n);
    *len = (size_t)n;
    OPENSSL_free(der);
    X509_free(x);
    return out;
}

static void vendor_make(vendor *v)
{
    size_t csr_len;
    uint8_t *csr = vec("identity/caliptra/idevid_csr_ecc.der", &csr_len);
    const unsigned char *p = csr, *q;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)csr_len);
    X509_NAME *name = X509_NAME_new();
    X509 *ca;

    assert_non_null(req);
    /* the CSR's self-signature verifies: this is the IDevID key */
    assert_int_equal(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)), 1);
    v->key = EVP_EC_gen("P-384");
    assert_non_null(v->key);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                                (const unsigned char *)"waybill test Caliptra "
                                                                       "vendor CA",
                                                -1, -1, 0),
                     1);
    v->ca_der = issue(&v->ca_len, name, v->key, NULL, v->key, 1);
    q = v->ca_der;
    ca = d2i_X509(NULL, &q, (long)v->ca_len);
    assert_non_null(ca);
    v->idevid_der = issue(&v->idevid_len, X509_REQ_get_subject_name(req),
                          X509_REQ_get0_pubkey(req), ca, v->key, 2);
    X509_free(ca);
    X509_NAME_free(name);
    X509_REQ_free(req);
    free(csr);
}

static void vendor_free(vendor *v)
{
    EVP_PKEY_free(v->key);
    free(v->ca_der);
    free(v->idevid_der);
}

static void test_caliptra(void **state)
{
    (void)state;
    vendor v;
    certs ldevid, fmc, fmc21, rt;
    chain ch = {0}, cas = {0};

    vendor_make(&v);
    load(&ldevid, "identity/caliptra/ldevid_cert_ecc.der");
    load(&fmc, "identity/caliptra/fmc_alias_cert_ecc.der");
    load(&fmc21, "identity/caliptra/rom-latest_fmc_alias_cert_redacted.der");
    load(&rt, "identity/caliptra/rt_alias_cert_redacted.der");

    /* LDevID <- IDevID <- vendor CA; validity to 9999 (GeneralizedTime) */
    add(&ch, &ldevid, 0);
    ch.p[ch.n] = v.idevid_der;
    ch.len[ch.n++] = v.idevid_len;
    cas.p[0] = v.ca_der;
    cas.len[0] = v.ca_len;
    cas.n = 1;
    assert_valid(&ch, &cas, ID_CALIPTRA_LDEVID);
    /* the IDevID certificate itself as the anchor */
    {
        chain only = {0}, idev = {0};
        add(&only, &ldevid, 0);
        idev.p[0] = v.idevid_der;
        idev.len[0] = v.idevid_len;
        idev.n = 1;
        assert_valid(&only, &idev, ID_CALIPTRA_LDEVID);
    }

    /* the FMC alias is signed by the LDevID key, but names its issuer
     * "Caliptra 2.0 Ecc384 LDevID" while the LDevID is "2.1": name
     * chaining (RFC 5280 §6.1) fails, and so the chain is refused */
    {
        const unsigned char *a = fmc.der[0], *b = ldevid.der[0];
        X509 *xf = d2i_X509(NULL, &a, (long)fmc.len[0]);
        X509 *xl = d2i_X509(NULL, &b, (long)ldevid.len[0]);
        assert_int_equal(X509_verify(xf, X509_get0_pubkey(xl)), 1);
        X509_free(xf);
        X509_free(xl);
    }
    memset(&ch, 0, sizeof(ch));
    add(&ch, &fmc, 0);
    add(&ch, &ldevid, 0);
    ch.p[ch.n] = v.idevid_der;
    ch.len[ch.n++] = v.idevid_len;
    assert_refused(&ch, &cas, "unable to get local issuer certificate (no CA or chain "
                              "certificate named 'serialNumber=DE96A450F23A8E4A5333005E60BFCF4"
                              "D3DA8FA1603FAFB605D2B22C44F4C2292,CN=Caliptra 2.0 Ecc384 LDevID'");

    /* the redacted RT alias <- redacted FMC alias (2.1) <- LDevID: names
     * chain, signatures do not */
    memset(&ch, 0, sizeof(ch));
    add(&ch, &rt, 0);
    add(&ch, &fmc21, 0);
    add(&ch, &ldevid, 0);
    ch.p[ch.n] = v.idevid_der;
    ch.len[ch.n++] = v.idevid_len;
    assert_refused(&ch, &cas, "certificate signature failure");

    /* the CSR is no certificate */
    {
        size_t n;
        uint8_t *csr = vec("identity/caliptra/idevid_csr_ecc.der", &n);
        chain c1 = {0};
        char id[65];
        add(&c1, &ldevid, 0);
        c1.p[1] = csr;
        c1.len[1] = n;
        c1.n = 2;
        wb_error_clear();
        assert_int_equal(verify(id, &c1, &cas), WB_E_INVALID);
        assert_contains(wb_error_message(), "device chain[1]: a PKCS#10 certificate request");
        free(csr);
    }

    drop(&ldevid);
    drop(&fmc);
    drop(&fmc21);
    drop(&rt);
    vendor_free(&v);
}

static void test_caliptra_mldsa(void **state)
{
    (void)state;
    certs ld, fmc, ecc_ca;
    chain ch = {0}, cas = {0};
    char id[65] = "untouched";

    load(&ld, "identity/caliptra/ldevid_cert_mldsa.der");
    load(&fmc, "identity/caliptra/fmc_alias_cert_mldsa.der");
    load(&ecc_ca, "identity/libspdm/ecp384/ca.cert.der");
#if OPENSSL_VERSION_NUMBER < 0x30500000L
    /* OpenSSL before 3.5 knows neither the key nor the signature */
    wb_error_clear();
    assert_int_equal(wb_identity_device_id(id, ld.der[0], ld.len[0]), WB_E_INVALID);
    assert_contains(wb_error_message(), "public key algorithm " MLDSA87 " is not supported");
    assert_string_equal(id, "untouched");
    add(&ch, &fmc, 0);
    add(&cas, &ld, 0);
    assert_refused(&ch, &cas, "device chain[0] (serialNumber=");
    assert_contains(wb_error_message(), "signature algorithm " MLDSA87 " is not supported");
    /* an ML-DSA chain to an ECC CA is refused for the same reason */
    memset(&cas, 0, sizeof(cas));
    add(&cas, &ecc_ca, 0);
    assert_refused(&ch, &cas, "signature algorithm " MLDSA87 " is not supported");
    /* an ML-DSA CA among a supplier's CAs is skipped, and the others work */
    {
        certs leaf, inter;
        chain c2 = {0}, cas2 = {0};
        load(&leaf, "spdm/ecp384/end_responder.cert");
        load(&inter, "spdm/ecp384/inter.cert.der");
        add(&c2, &leaf, 0);
        add(&c2, &inter, 0);
        add(&cas2, &ld, 0);
        add(&cas2, &ecc_ca, 0);
        assert_valid(&c2, &cas2, ID_SPDM384_RESPONDER);
        /* and named when the chain fails */
        memset(&c2, 0, sizeof(c2));
        add(&c2, &leaf, 0);
        assert_refused(&c2, &cas2, "CA certificate 0 (serialNumber=");
        assert_contains(wb_error_message(), "was skipped: public key algorithm " MLDSA87);
        /* only ML-DSA CAs: nothing to validate to */
        memset(&cas2, 0, sizeof(cas2));
        add(&cas2, &ld, 0);
        assert_refused(&c2, &cas2, "no usable CA certificate");
        drop(&leaf);
        drop(&inter);
    }
#else
    /* OpenSSL 3.5+ can load ML-DSA: the ids compute, and the FMC alias
     * still fails name chaining ("2.0" issuer under a "2.1" LDevID) */
    assert_int_equal(wb_identity_device_id(id, ld.der[0], ld.len[0]), 0);
    add(&ch, &fmc, 0);
    add(&cas, &ld, 0);
    assert_refused(&ch, &cas, "unable to get local issuer certificate");
#endif
    drop(&ld);
    drop(&fmc);
    drop(&ecc_ca);
}

/* ---- negative ---- */

static void test_wrong_vendor(void **state)
{
    (void)state;
    certs ek, i06, strt, infroot, leaf384, inter384, ca256, ca384;
    chain ch = {0}, cas = {0};

    load(&ek, "identity/tpm-ek/stmicro-tpm20-rsa-chain/ek_ST33HTPHAHD4.crt");
    load(&i06, "identity/tpm-ek/stmicro-tpm20-rsa-chain/STM_RSA_06I.pem");
    load(&strt, "identity/tpm-ek/stmicro-tpm20-rsa-chain/STM_RSA_RT.pem");
    load(&infroot, "identity/tpm-ek/infineon/INF_ECC_010RT.pem");
    load(&leaf384, "spdm/ecp384/end_responder.cert");
    load(&inter384, "spdm/ecp384/inter.cert.der");
    load(&ca256, "spdm/ecp256/ca.cert");
    load(&ca384, "spdm/ecp384/ca.cert");

    /* STMicro's EK presented to Infineon's CA */
    add(&ch, &ek, 0);
    add(&ch, &i06, 0);
    add(&ch, &strt, 0);
    add(&cas, &infroot, 0);
    assert_refused(&ch, &cas, "unable to get local issuer certificate");
    /* the P-384 SPDM chain to the P-256 CA (same vendor, other CA) */
    memset(&ch, 0, sizeof(ch));
    memset(&cas, 0, sizeof(cas));
    add(&ch, &leaf384, 0);
    add(&ch, &inter384, 0);
    add(&cas, &ca256, 0);
    assert_refused(&ch, &cas, "certificate at depth 1 (CN=DMTF libspdm ECP384 intermediate "
                              "cert): unable to get local issuer certificate");
    /* several CAs: the right one among them is found */
    add(&cas, &infroot, 0);
    add(&cas, &ca384, 0);
    assert_valid(&ch, &cas, ID_SPDM384_RESPONDER);

    drop(&ek);
    drop(&i06);
    drop(&strt);
    drop(&infroot);
    drop(&leaf384);
    drop(&inter384);
    drop(&ca256);
    drop(&ca384);
}

/* every single-byte change of a leaf: refused, never a (different) id */
static void flip_every_byte(const char *leaf_rel, const char *inter_rel, const char *ca_rel)
{
    certs leaf, inter, ca;
    chain ch = {0}, cas = {0};
    size_t len;
    uint8_t *copy;

    load(&leaf, leaf_rel);
    load(&ca, ca_rel);
    len = leaf.len[0];
    copy = malloc(len);
    add(&ch, &leaf, 0);
    if (inter_rel) {
        load(&inter, inter_rel);
        add(&ch, &inter, 0);
    }
    add(&cas, &ca, 0);
    ch.p[0] = copy;
    for (size_t i = 0; i < len; i++) {
        char id[65];
        int rc;
        memcpy(copy, leaf.der[0], len);
        copy[i] ^= 0x01;
        rc = verify(id, &ch, &cas);
        if (rc == 0)
            fail_msg("%s with byte %zu changed validated (id %s)", leaf_rel, i, id);
        assert_true(rc == WB_E_VERIFY || rc == WB_E_INVALID);
        assert_true(strlen(wb_error_message()) > 0);
    }
    /* and unchanged it validates */
    memcpy(copy, leaf.der[0], len);
    {
        char id[65];
        assert_int_equal(verify(id, &ch, &cas), 0);
    }
    free(copy);
    drop(&leaf);
    if (inter_rel)
        drop(&inter);
    drop(&ca);
}

static void test_tampered_leaf(void **state)
{
    (void)state;
    flip_every_byte("spdm/ecp384/end_responder.cert", "spdm/ecp384/inter.cert.der",
                    "spdm/ecp384/ca.cert");
    flip_every_byte("identity/tpm-ek/stmicro-tpm20-rsa-chain/ek_ST33HTPHAHD4.crt", NULL,
                    "identity/tpm-ek/stmicro-tpm20-rsa-chain/STM_RSA_06I.pem");
    /* the signature case, with its message */
    {
        certs leaf, inter, ca;
        chain ch = {0}, cas = {0};
        uint8_t *copy;
        load(&leaf, "spdm/ecp256/end_responder.cert");
        load(&inter, "spdm/ecp256/inter.cert.der");
        load(&ca, "spdm/ecp256/ca.cert");
        copy = malloc(leaf.len[0]);
        memcpy(copy, leaf.der[0], leaf.len[0]);
        copy[leaf.len[0] - 3] ^= 0x40; /* inside the signature value */
        ch.p[0] = copy;
        ch.len[0] = leaf.len[0];
        ch.n = 1;
        add(&ch, &inter, 0);
        add(&cas, &ca, 0);
        assert_refused(&ch, &cas, "certificate at depth 0 (CN=DMTF libspdm ECP256 responder "
                                  "cert): certificate signature failure");
        free(copy);
        drop(&leaf);
        drop(&inter);
        drop(&ca);
    }
}

static void test_verify_arguments(void **state)
{
    (void)state;
    certs leaf, ca;
    chain ch = {0}, cas = {0};
    char id[65];

    load(&leaf, "spdm/ecp256/end_responder.cert");
    load(&ca, "spdm/ecp256/ca.cert");
    add(&ch, &leaf, 0);
    /* no CAs */
    assert_refused(&ch, &cas, "no CA certificate to validate to");
    /* an empty chain */
    add(&cas, &ca, 0);
    assert_int_equal(wb_identity_verify(id, NULL, NULL, 0, cas.p, cas.len, cas.n), WB_E_INVALID);
    /* the leaf is the CA itself */
    memset(&ch, 0, sizeof(ch));
    add(&ch, &ca, 0);
    assert_refused(&ch, &cas, "has the key of CA certificate 0");
    /* a CA that is not a certificate */
    memset(&ch, 0, sizeof(ch));
    add(&ch, &leaf, 0);
    cas.p[0] = (const uint8_t *)"\x30\x03\x02\x01\x01";
    cas.len[0] = 5;
    wb_error_clear();
    assert_int_equal(verify(id, &ch, &cas), WB_E_INVALID);
    assert_contains(wb_error_message(), "CA certificate 0: not an X.509 certificate");
    /* over the chain limit */
    {
        chain big = {0};
        for (int i = 0; i < WB_IDENTITY_CERTS_MAX; i++)
            add(&big, &leaf, 0);
        assert_int_equal(wb_identity_verify(id, big.p, big.len, WB_IDENTITY_CERTS_MAX + 1,
                                            cas.p, cas.len, 1),
                         WB_E_LIMIT);
    }
    drop(&leaf);
    drop(&ca);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_spdm),
        cmocka_unit_test(test_load_pem_quirks),
        cmocka_unit_test(test_load_tpm_blobs),
        cmocka_unit_test(test_load_refusals),
        cmocka_unit_test(test_load_garbage),
        cmocka_unit_test(test_device_ids),
        cmocka_unit_test(test_tpm12_refused),
        cmocka_unit_test(test_spdm_chains),
        cmocka_unit_test(test_tpm20_stmicro_chain),
        cmocka_unit_test(test_infineon_ecc),
        cmocka_unit_test(test_caliptra),
        cmocka_unit_test(test_caliptra_mldsa),
        cmocka_unit_test(test_wrong_vendor),
        cmocka_unit_test(test_tampered_leaf),
        cmocka_unit_test(test_verify_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
