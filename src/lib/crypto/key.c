/*
 * key.c: signature keys for waybill (waybill/crypto.h) over OpenSSL 3 EVP:
 * Ed25519 (RFC 8032, pure), ECDSA P-256 + SHA-256 and P-384 + SHA-384
 * (FIPS 186-4) with the raw r‖s signature form of COSE (RFC 9053 §2.1).
 *
 * A wb_key wraps one EVP_PKEY with its algorithm, found from the key itself
 * and never from a caller's say-so, and whether it holds the private part.
 * Keys travel as PKCS#8 (RFC 5208/5958, "PRIVATE KEY") and SubjectPublicKeyInfo
 * (RFC 5280 §4.1.2.7, RFC 5480, RFC 8410, "PUBLIC KEY") PEM (RFC 7468), as
 * raw public keys (Ed25519 32 bytes, SEC 1 §2.3.3 uncompressed points), and
 * as Ed25519 seeds. EC keys are always held with the uncompressed point
 * format, so that the SPKI DER of a key, which names devices, has one
 * spelling; EC keys with explicit curve parameters are refused.
 *
 * Every OpenSSL failure empties the OpenSSL error queue (after copying its
 * reason into the waybill message) so that nothing leaks into later calls.
 */
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "crypto_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* the largest DER ECDSA signature: P-384, SEQUENCE { 49-byte r, 49-byte s } */
#define WB_ECDSA_DER_MAX 104

struct wb_key {
    EVP_PKEY *pkey;
    wb_alg alg;
    int is_private;
};


/* ---- algorithms ---- */

const char *wb_alg_name(wb_alg alg)
{
    switch (alg) {
    case WB_ALG_ED25519: return "Ed25519";
    case WB_ALG_ES256: return "ES256";
    case WB_ALG_ES384: return "ES384";
    default: return "unknown";
    }
}

wb_alg wb_alg_from_name(const char *name)
{
    if (!name)
        return WB_ALG_NONE;
    if (strcmp(name, "Ed25519") == 0)
        return WB_ALG_ED25519;
    if (strcmp(name, "ES256") == 0)
        return WB_ALG_ES256;
    if (strcmp(name, "ES384") == 0)
        return WB_ALG_ES384;
    return WB_ALG_NONE;
}

size_t wb_alg_sig_len(wb_alg alg)
{
    switch (alg) {
    case WB_ALG_ED25519: return 64;
    case WB_ALG_ES256: return 64;
    case WB_ALG_ES384: return 96;
    default: return 0;
    }
}

/* ECDSA: the coordinate size, the curve's OpenSSL name, the hash's name */
static size_t ec_coord_len(wb_alg alg)
{
    return alg == WB_ALG_ES256 ? 32 : alg == WB_ALG_ES384 ? 48 : 0;
}

static const char *ec_group_name(wb_alg alg)
{
    return alg == WB_ALG_ES256 ? "prime256v1" : "secp384r1";
}

static const char *ec_curve_label(wb_alg alg)
{
    return alg == WB_ALG_ES256 ? "P-256" : "P-384";
}

static const char *sig_md_name(wb_alg alg)
{
    return alg == WB_ALG_ES256 ? "SHA2-256" : alg == WB_ALG_ES384 ? "SHA2-384" : NULL;
}

/* raw public key length: 32, 65, 97 */
static size_t pub_raw_len(wb_alg alg)
{
    return alg == WB_ALG_ED25519 ? 32 : 1 + 2 * ec_coord_len(alg);
}

/*
 * wb_crypto_ec_curve finds the named curve of an EC key: its NID and, when
 * name is not NULL, OpenSSL's name for it (name_cap bytes). Keys with
 * explicit curve parameters, or without a named curve, are WB_E_INVALID
 * ("unsupported key type: ...").
 */
int wb_crypto_ec_curve(const EVP_PKEY *pkey, int *nid, char *name, size_t name_cap)
{
    char buf[80], enc[32];
    size_t nlen;
    int n;

    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_ENCODING, enc,
                                       sizeof(enc), &nlen) &&
        strcmp(enc, OSSL_PKEY_EC_ENCODING_EXPLICIT) == 0) {
        ERR_clear_error();
        return wb_error_set(WB_E_INVALID,
                            "unsupported key type: EC key with explicit curve "
                            "parameters, want a named curve (RFC 5480)");
    }
    if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, buf,
                                        sizeof(buf), &nlen)) {
        ERR_clear_error();
        return wb_error_set(WB_E_INVALID,
                            "unsupported key type: EC key without a named curve");
    }
    n = OBJ_txt2nid(buf);
    if (n == NID_undef)
        n = EC_curve_nist2nid(buf);
    ERR_clear_error();
    *nid = n;
    if (name && name_cap)
        snprintf(name, name_cap, "%s", buf);
    return 0;
}

/*
 * detect_alg names the waybill algorithm of pkey: Ed25519, or EC on the named
 * curve P-256 or P-384. Everything else is WB_E_INVALID.
 */
static int detect_alg(EVP_PKEY *pkey, wb_alg *alg)
{
    char name[80];
    int nid, rc;

    if (EVP_PKEY_is_a(pkey, "ED25519")) {
        *alg = WB_ALG_ED25519;
        return 0;
    }
    if (!EVP_PKEY_is_a(pkey, "EC")) {
        const char *t = EVP_PKEY_get0_type_name(pkey);
        ERR_clear_error();
        return wb_error_set(WB_E_INVALID,
                            "unsupported key type %s: want Ed25519, EC P-256 or EC P-384",
                            t ? t : "(unnamed)");
    }
    if ((rc = wb_crypto_ec_curve(pkey, &nid, name, sizeof(name))) != 0)
        return rc;
    if (nid == NID_X9_62_prime256v1) {
        *alg = WB_ALG_ES256;
        return 0;
    }
    if (nid == NID_secp384r1) {
        *alg = WB_ALG_ES384;
        return 0;
    }
    return wb_error_set(WB_E_INVALID,
                        "unsupported key type: EC curve %s, want P-256 or P-384", name);
}

/*
 * key_wrap makes a wb_key of pkey, which it owns from here on (freed on
 * failure): detects the algorithm and fixes the EC point format.
 */
static int key_wrap(wb_key **out, EVP_PKEY *pkey, int is_private)
{
    wb_key *k;
    wb_alg alg = WB_ALG_NONE;
    int rc;

    *out = NULL;
    if ((rc = detect_alg(pkey, &alg)) != 0) {
        EVP_PKEY_free(pkey);
        return rc;
    }
    if (alg != WB_ALG_ED25519 &&
        !EVP_PKEY_set_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                        OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED)) {
        EVP_PKEY_free(pkey);
        return wb_crypto_ossl_fail(WB_E_CRYPTO, "cannot set the EC point format to uncompressed");
    }
    k = calloc(1, sizeof(*k));
    if (!k) {
        EVP_PKEY_free(pkey);
        return wb_error_set(WB_E_NOMEM, "out of memory for a key");
    }
    k->pkey = pkey;
    k->alg = alg;
    k->is_private = is_private;
    *out = k;
    return 0;
}

int wb_key_generate(wb_key **out, wb_alg alg)
{
    EVP_PKEY *pkey;

    *out = NULL;
    switch (alg) {
    case WB_ALG_ED25519:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        break;
    case WB_ALG_ES256:
    case WB_ALG_ES384:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", ec_curve_label(alg));
        break;
    default:
        return wb_error_set(WB_E_INVALID, "cannot generate a key for algorithm %d",
                            (int)alg);
    }
    if (!pkey)
        return wb_crypto_ossl_fail(WB_E_CRYPTO, "key generation failed");
    return key_wrap(out, pkey, 1);
}

void wb_key_free(wb_key *key)
{
    if (!key)
        return;
    EVP_PKEY_free(key->pkey);
    free(key);
}

wb_alg wb_key_alg(const wb_key *key)
{
    return key ? key->alg : WB_ALG_NONE;
}

int wb_key_is_private(const wb_key *key)
{
    return key ? key->is_private : 0;
}

/* ---- PEM ---- */

/*
 * wb_crypto_pem_read_one reads exactly one PEM block (RFC 7468) from
 * pem[0..len): its label and its decoded bytes. It decodes the block itself
 * rather than through PEM_read_bio_PrivateKey, which would also accept
 * legacy "EC PRIVATE KEY" blocks and prompt on the terminal for the
 * passphrase of an encrypted one. A second block, or encapsulated headers
 * (an encrypted legacy key), are refused.
 */
int wb_crypto_pem_read_one(char **name, unsigned char **data, long *dlen, const char *pem,
                           size_t len)
{
    BIO *bio;
    char *header = NULL;
    int more, rc = 0;

    *name = NULL;
    *data = NULL;
    *dlen = 0;
    if (len > WB_PEM_MAX)
        return wb_error_set(WB_E_LIMIT, "PEM key is %zu bytes, over the %d-byte limit",
                            len, WB_PEM_MAX);
    bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio)
        return wb_crypto_ossl_fail(WB_E_NOMEM, "cannot read PEM");
    if (!PEM_read_bio(bio, name, &header, data, dlen)) {
        BIO_free(bio);
        return wb_crypto_ossl_fail(WB_E_INVALID, "no PEM key block found");
    }
    {
        /* anything after the one block must not be another block */
        char *n2 = NULL, *h2 = NULL;
        unsigned char *d2 = NULL;
        long l2 = 0;
        more = PEM_read_bio(bio, &n2, &h2, &d2, &l2);
        if (more)
            OPENSSL_clear_free(d2, (size_t)l2);
        OPENSSL_free(n2);
        OPENSSL_free(h2);
        ERR_clear_error();
        BIO_free(bio);
    }
    if (more)
        rc = wb_error_set(WB_E_INVALID, "PEM holds more than one block");
    else if (header && header[0] != '\0')
        rc = wb_error_set(WB_E_INVALID, "PEM block '%s' is encrypted or has headers; "
                          "want an unencrypted key", *name);
    OPENSSL_free(header);
    if (rc) {
        OPENSSL_free(*name);
        OPENSSL_clear_free(*data, *dlen > 0 ? (size_t)*dlen : 0);
        *name = NULL;
        *data = NULL;
        *dlen = 0;
    }
    return rc;
}

/*
 * wb_key_from_pem reads exactly one PEM block labelled "PRIVATE KEY" (PKCS#8,
 * unencrypted) or "PUBLIC KEY" (SPKI).
 */
int wb_key_from_pem(wb_key **out, const char *pem, size_t len)
{
    char *name = NULL;
    unsigned char *data = NULL;
    const unsigned char *p;
    long dlen = 0;
    EVP_PKEY *pkey = NULL;
    int is_private = 0, rc;

    *out = NULL;
    if ((rc = wb_crypto_pem_read_one(&name, &data, &dlen, pem, len)) != 0)
        return rc;
    p = data;
    if (strcmp(name, "PRIVATE KEY") == 0) {
        PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, dlen);
        if (p8 && p == data + dlen)
            pkey = EVP_PKCS82PKEY(p8);
        else if (p8) {
            PKCS8_PRIV_KEY_INFO_free(p8);
            rc = wb_error_set(WB_E_INVALID, "PKCS#8 key has trailing bytes");
            goto done;
        }
        PKCS8_PRIV_KEY_INFO_free(p8);
        is_private = 1;
    } else if (strcmp(name, "PUBLIC KEY") == 0) {
        pkey = d2i_PUBKEY(NULL, &p, dlen);
        if (pkey && p != data + dlen) {
            EVP_PKEY_free(pkey);
            rc = wb_error_set(WB_E_INVALID, "SubjectPublicKeyInfo has trailing bytes");
            goto done;
        }
    } else {
        rc = wb_error_set(WB_E_INVALID,
                          "PEM block is '%s', want 'PRIVATE KEY' (PKCS#8) or "
                          "'PUBLIC KEY'",
                          name);
        goto done;
    }
    if (!pkey) {
        rc = wb_crypto_ossl_fail(WB_E_INVALID, is_private ? "cannot decode the PKCS#8 private key"
                                                : "cannot decode the public key");
        goto done;
    }
    rc = key_wrap(out, pkey, is_private);
done:
    OPENSSL_free(name);
    OPENSSL_clear_free(data, dlen > 0 ? (size_t)dlen : 0);
    return rc;
}

int wb_key_to_pem(char **out, size_t *len, const wb_key *key, int private_part)
{
    BIO *bio;
    char *mem, *s;
    long n;
    int ok;

    *out = NULL;
    *len = 0;
    if (private_part && !key->is_private)
        return wb_error_set(WB_E_INVALID, "%s key has no private part to write",
                            wb_alg_name(key->alg));
    bio = BIO_new(private_part ? BIO_s_secmem() : BIO_s_mem());
    if (!bio)
        return wb_crypto_ossl_fail(WB_E_NOMEM, "cannot write PEM");
    if (private_part)
        ok = PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL);
    else
        ok = PEM_write_bio_PUBKEY(bio, key->pkey);
    n = BIO_get_mem_data(bio, &mem);
    if (!ok || n <= 0) {
        BIO_free(bio);
        return wb_crypto_ossl_fail(WB_E_CRYPTO, private_part ? "cannot encode the private key"
                                                   : "cannot encode the public key");
    }
    s = malloc((size_t)n + 1);
    if (!s) {
        BIO_free(bio);
        return wb_error_set(WB_E_NOMEM, "out of memory for %ld bytes of PEM", n);
    }
    memcpy(s, mem, (size_t)n);
    s[n] = '\0';
    BIO_free(bio);
    *out = s;
    *len = (size_t)n;
    return 0;
}

/* ---- files ---- */

int wb_key_read_file(wb_key **out, const char *path)
{
    char buf[WB_PEM_MAX + 1];
    struct stat st;
    size_t got = 0;
    int fd, rc;

    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK); /* no FIFO hang */
    if (fd < 0) {
        if (errno == ENOENT)
            return wb_error_set(WB_E_NOTFOUND, "key file %s does not exist", path);
        return wb_error_set(WB_E_IO, "cannot open key file %s: %s", path,
                            strerror(errno));
    }
    if (fstat(fd, &st) != 0) {
        rc = wb_error_set(WB_E_IO, "cannot stat key file %s: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return wb_error_set(WB_E_INVALID, "key file %s is not a regular file", path);
    }
    if (st.st_size > WB_PEM_MAX) {
        close(fd);
        return wb_error_set(WB_E_LIMIT, "key file %s is %lld bytes, over the %d-byte limit",
                            path, (long long)st.st_size, WB_PEM_MAX);
    }
    /* read to EOF, one byte past the limit so that a growing file is caught */
    while (got < sizeof(buf)) {
        ssize_t r = read(fd, buf + got, sizeof(buf) - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = wb_error_set(WB_E_IO, "cannot read key file %s: %s", path,
                              strerror(errno));
            close(fd);
            OPENSSL_cleanse(buf, got);
            return rc;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got > WB_PEM_MAX) {
        OPENSSL_cleanse(buf, got);
        return wb_error_set(WB_E_LIMIT, "key file %s is over the %d-byte limit", path,
                            WB_PEM_MAX);
    }
    rc = wb_key_from_pem(out, buf, got);
    OPENSSL_cleanse(buf, got);
    if (rc != 0)
        return wb_error_prefix(rc, "key file %s", path);
    return 0;
}

/* fsync the directory holding path, so that the new name is durable too */
static void sync_parent_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n;
    int fd;

    if (!slash) {
        strcpy(dir, ".");
    } else {
        n = (size_t)(slash - path);
        if (n == 0)
            n = 1; /* "/name": the root */
        if (n >= sizeof(dir))
            return;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    (void)fsync(fd); /* best effort: some filesystems refuse directory fsync */
    close(fd);
}

int wb_key_write_file(const wb_key *key, const char *path, int private_part)
{
    char *pem;
    size_t len, done = 0;
    int fd, rc;

    if ((rc = wb_key_to_pem(&pem, &len, key, private_part)) != 0)
        return rc;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
              private_part ? 0600 : 0644);
    if (fd < 0) {
        if (errno == EEXIST)
            rc = wb_error_set(WB_E_EXISTS, "key file %s already exists; not overwriting it",
                              path);
        else
            rc = wb_error_set(WB_E_IO, "cannot create key file %s: %s", path,
                              strerror(errno));
        OPENSSL_clear_free(pem, len);
        return rc;
    }
    while (done < len) {
        ssize_t w = write(fd, pem + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = wb_error_set(WB_E_IO, "cannot write key file %s: %s", path,
                              w < 0 ? strerror(errno) : "no progress");
            goto fail;
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0) {
        rc = wb_error_set(WB_E_IO, "cannot fsync key file %s: %s", path, strerror(errno));
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = wb_error_set(WB_E_IO, "cannot close key file %s: %s", path, strerror(errno));
        goto fail;
    }
    OPENSSL_clear_free(pem, len);
    sync_parent_dir(path);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlink(path); /* ours: O_EXCL created it */
    OPENSSL_clear_free(pem, len);
    return rc;
}

/* ---- raw public keys and seeds ---- */

int wb_key_public_raw(const wb_key *key, uint8_t *out, size_t *len)
{
    uint8_t buf[WB_PUBKEY_RAW_MAX];
    size_t need = pub_raw_len(key->alg), got = 0;

    if (*len < need)
        return wb_error_set(WB_E_INVALID, "%s public key is %zu bytes, buffer holds %zu",
                            wb_alg_name(key->alg), need, *len);
    if (key->alg == WB_ALG_ED25519) {
        got = sizeof(buf);
        if (!EVP_PKEY_get_raw_public_key(key->pkey, buf, &got))
            return wb_crypto_ossl_fail(WB_E_CRYPTO, "cannot get the Ed25519 public key");
    } else if (!EVP_PKEY_get_octet_string_param(key->pkey,
                                                OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf,
                                                sizeof(buf), &got)) {
        return wb_crypto_ossl_fail(WB_E_CRYPTO, "cannot get the EC public point");
    }
    if (got != need || (key->alg != WB_ALG_ED25519 && buf[0] != 0x04))
        return wb_error_set(WB_E_INTERNAL, "%s public key came out as %zu bytes, want %zu",
                            wb_alg_name(key->alg), got, need);
    memcpy(out, buf, need);
    *len = need;
    return 0;
}

int wb_key_from_public_raw(wb_key **out, wb_alg alg, const uint8_t *raw, size_t len)
{
    EVP_PKEY *pkey = NULL;
    size_t need;

    *out = NULL;
    if (alg != WB_ALG_ED25519 && alg != WB_ALG_ES256 && alg != WB_ALG_ES384)
        return wb_error_set(WB_E_INVALID, "unknown algorithm %d for a raw public key",
                            (int)alg);
    need = pub_raw_len(alg);
    if (len != need)
        return wb_error_set(WB_E_INVALID, "%s raw public key is %zu bytes, want %zu",
                            wb_alg_name(alg), len, need);
    if (alg == WB_ALG_ED25519) {
        pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, raw, len);
        if (!pkey)
            return wb_crypto_ossl_fail(WB_E_INVALID, "cannot make an Ed25519 public key");
    } else {
        uint8_t point[WB_PUBKEY_RAW_MAX];
        char group[16];
        OSSL_PARAM params[3];
        EVP_PKEY_CTX *pctx;
        int ok;

        if (raw[0] != 0x04)
            return wb_error_set(WB_E_INVALID,
                                "%s public key starts 0x%02x, want an uncompressed "
                                "point 0x04‖X‖Y",
                                ec_curve_label(alg), (unsigned)raw[0]);
        memcpy(point, raw, len);
        strcpy(group, ec_group_name(alg));
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
        params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, len);
        params[2] = OSSL_PARAM_construct_end();
        pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        ok = pctx && EVP_PKEY_fromdata_init(pctx) == 1 &&
             EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
        EVP_PKEY_CTX_free(pctx);
        if (!ok) {
            EVP_PKEY_free(pkey);
            return wb_crypto_ossl_fail(WB_E_INVALID, alg == WB_ALG_ES256
                                               ? "not a point on P-256"
                                               : "not a point on P-384");
        }
    }
    return key_wrap(out, pkey, 0);
}

int wb_key_ed25519_seed(const wb_key *key, uint8_t seed[32])
{
    size_t n = 32;

    if (key->alg != WB_ALG_ED25519)
        return wb_error_set(WB_E_INVALID, "%s key has no Ed25519 seed",
                            wb_alg_name(key->alg));
    if (!key->is_private)
        return wb_error_set(WB_E_INVALID, "Ed25519 key is public: no seed");
    if (!EVP_PKEY_get_raw_private_key(key->pkey, seed, &n) || n != 32)
        return wb_crypto_ossl_fail(WB_E_CRYPTO, "cannot get the Ed25519 seed");
    return 0;
}

int wb_key_from_ed25519_seed(wb_key **out, const uint8_t seed[32])
{
    EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL, seed, 32);

    *out = NULL;
    if (!pkey)
        return wb_crypto_ossl_fail(WB_E_CRYPTO, "cannot make an Ed25519 key from a seed");
    return key_wrap(out, pkey, 1);
}

int wb_key_spki_der(const wb_key *key, uint8_t **out, size_t *len)
{
    unsigned char *buf, *p;
    int n;

    *out = NULL;
    *len = 0;
    n = i2d_PUBKEY(key->pkey, NULL);
    if (n <= 0)
        return wb_crypto_ossl_fail(WB_E_CRYPTO, "cannot encode the SubjectPublicKeyInfo");
    buf = malloc((size_t)n);
    if (!buf)
        return wb_error_set(WB_E_NOMEM, "out of memory for a %d-byte SPKI", n);
    p = buf;
    if (i2d_PUBKEY(key->pkey, &p) != n) {
        free(buf);
        return wb_crypto_ossl_fail(WB_E_CRYPTO, "cannot encode the SubjectPublicKeyInfo");
    }
    *out = buf;
    *len = (size_t)n;
    return 0;
}

int wb_key_public_copy(wb_key **out, const wb_key *key)
{
    uint8_t *der;
    const unsigned char *p;
    size_t len;
    EVP_PKEY *pkey;
    int rc;

    *out = NULL;
    /*
     * A public key is never modified once wrapped (key_wrap sets its point
     * format before anyone else sees it), so the copy shares its EVP_PKEY:
     * reference counted and safe to use from several threads. Re-encoding
     * through OpenSSL 3.0's encoder and decoder costs ~500 us, four times a
     * P-256 verification, and the service copies a key per statement in
     * dev mode (docs/performance.md). A private key is re-encoded, which
     * drops its private part.
     */
    if (!key->is_private) {
        wb_key *k = calloc(1, sizeof(*k));
        if (!k)
            return wb_error_set(WB_E_NOMEM, "out of memory for a key");
        if (EVP_PKEY_up_ref(key->pkey) != 1) {
            free(k);
            return wb_crypto_ossl_fail(WB_E_CRYPTO, "cannot copy the public key");
        }
        k->pkey = key->pkey;
        k->alg = key->alg;
        k->is_private = 0;
        *out = k;
        return 0;
    }
    if ((rc = wb_key_spki_der(key, &der, &len)) != 0)
        return rc;
    p = der;
    pkey = d2i_PUBKEY(NULL, &p, (long)len);
    free(der);
    if (!pkey)
        return wb_crypto_ossl_fail(WB_E_CRYPTO, "cannot copy the public key");
    return key_wrap(out, pkey, 0);
}

/* ---- signatures ---- */

int wb_key_sign(const wb_key *key, uint8_t *sig, size_t *sig_len, const void *msg,
                size_t msg_len)
{
    static const uint8_t empty[1];
    uint8_t der[WB_ECDSA_DER_MAX + 16];
    size_t n;
    EVP_MD_CTX *mctx;
    int ok, rc;

    *sig_len = 0;
    if (!key->is_private)
        return wb_error_set(WB_E_INVALID, "cannot sign with a public %s key",
                            wb_alg_name(key->alg));
    if (!msg)
        msg = empty;
    mctx = EVP_MD_CTX_new();
    if (!mctx)
        return wb_error_set(WB_E_NOMEM, "out of memory for a signing context");
    ok = EVP_DigestSignInit_ex(mctx, NULL, sig_md_name(key->alg), NULL, NULL, key->pkey,
                               NULL) == 1;
    if (ok && key->alg == WB_ALG_ED25519) {
        n = WB_SIG_MAX;
        ok = EVP_DigestSign(mctx, sig, &n, msg, msg_len) == 1 && n == 64;
    } else if (ok) {
        n = sizeof(der);
        ok = EVP_DigestSign(mctx, der, &n, msg, msg_len) == 1;
    }
    EVP_MD_CTX_free(mctx);
    if (!ok)
        return wb_crypto_ossl_fail(WB_E_CRYPTO, key->alg == WB_ALG_ED25519 ? "Ed25519 signing failed"
                                                                : "ECDSA signing failed");
    if (key->alg != WB_ALG_ED25519) {
        size_t c = ec_coord_len(key->alg);
        if ((rc = wb_ecdsa_der_to_raw(sig, c, der, n)) != 0)
            return wb_error_prefix(WB_E_CRYPTO, "OpenSSL made a bad signature");
        n = 2 * c;
    }
    *sig_len = n;
    return 0;
}

int wb_key_verify(const wb_key *key, const uint8_t *sig, size_t sig_len, const void *msg,
                  size_t msg_len)
{
    static const uint8_t empty[1];
    uint8_t der[WB_ECDSA_DER_MAX + 16];
    const uint8_t *s = sig;
    size_t want = wb_alg_sig_len(key->alg), slen = sig_len;
    EVP_MD_CTX *mctx;
    int rc;

    if (sig_len != want)
        return wb_error_set(WB_E_VERIFY, "%s signature is %zu bytes, want %zu",
                            wb_alg_name(key->alg), sig_len, want);
    if (!msg)
        msg = empty;
    if (key->alg != WB_ALG_ED25519) {
        if ((rc = wb_ecdsa_raw_to_der(der, sizeof(der), &slen, sig,
                                      ec_coord_len(key->alg))) != 0)
            return rc;
        s = der;
    }
    mctx = EVP_MD_CTX_new();
    if (!mctx)
        return wb_error_set(WB_E_NOMEM, "out of memory for a verification context");
    if (EVP_DigestVerifyInit_ex(mctx, NULL, sig_md_name(key->alg), NULL, NULL, key->pkey,
                                NULL) != 1) {
        EVP_MD_CTX_free(mctx);
        return wb_crypto_ossl_fail(WB_E_CRYPTO, "cannot start signature verification");
    }
    rc = EVP_DigestVerify(mctx, s, slen, msg, msg_len);
    EVP_MD_CTX_free(mctx);
    ERR_clear_error(); /* a bad signature leaves reasons queued */
    if (rc != 1)
        return wb_error_set(WB_E_VERIFY, "%s signature does not verify",
                            wb_alg_name(key->alg));
    return 0;
}

EVP_PKEY *wb_crypto_key_pkey(const wb_key *key)
{
    return key->pkey;
}
