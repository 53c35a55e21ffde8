/*
 * hash.c: SHA-256 and SHA-384 (FIPS 180-4) and randomness for waybill
 * (waybill/crypto.h), over OpenSSL 3 EVP.
 *
 * The two EVP_MDs are fetched once per process (pthread_once) instead of
 * being looked up by name on every call. wb_sha256_prefixed, the Merkle leaf
 * and node hash of RFC 9162 §2.1 and the hottest code in the log, also keeps
 * one EVP_MD_CTX per thread and re-initialises it for every hash, so it never
 * allocates; a pthread key frees that context when its thread exits.
 */
#include "waybill/crypto.h"
#include "waybill/error.h"
#include "crypto_int.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/* small inputs are gathered into one buffer: one EVP_DigestUpdate, not 3 */
#define WB_PREFIXED_GATHER 192

static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256;
static EVP_MD *md_sha384;
static pthread_key_t tl_key;
static int md_ready; /* 1 once both digests and the key exist */

/* this thread's context for wb_sha256_prefixed and wb_sha256 */
static _Thread_local EVP_MD_CTX *tl_ctx;

struct wb_sha256_ctx {
    EVP_MD_CTX *md;
    int live; /* 1 between init and final */
};

/* the OpenSSL reason for the last failure, and the queue emptied */
int wb_crypto_ossl_fail(int code, const char *what)
{
    unsigned long e = ERR_get_error();
    char reason[256];

    if (e) {
        ERR_error_string_n(e, reason, sizeof(reason));
        ERR_clear_error();
        return wb_error_set(code, "%s: %s", what, reason);
    }
    return wb_error_set(code, "%s", what);
}

static void tl_ctx_free(void *p)
{
    EVP_MD_CTX_free(p);
}

static void md_init_once(void)
{
    md_sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    md_sha384 = EVP_MD_fetch(NULL, "SHA2-384", NULL);
    if (!md_sha256 || !md_sha384)
        return;
    if (pthread_key_create(&tl_key, tl_ctx_free) != 0)
        return;
    md_ready = 1;
}

static int md_init(void)
{
    if (pthread_once(&md_once, md_init_once) != 0 || !md_ready)
        return wb_crypto_ossl_fail(WB_E_CRYPTO, "cannot fetch SHA-256/SHA-384 from OpenSSL");
    return 0;
}

/* slow path of thread_ctx: first use on this thread */
static EVP_MD_CTX *thread_ctx_new(void)
{
    EVP_MD_CTX *ctx;

    if (md_init() != 0)
        return NULL;
    ctx = EVP_MD_CTX_new();
    if (!ctx) {
        wb_error_set(WB_E_CRYPTO, "out of memory for a SHA-256 context");
        return NULL;
    }
    if (pthread_setspecific(tl_key, ctx) != 0) {
        EVP_MD_CTX_free(ctx);
        wb_error_set(WB_E_CRYPTO, "cannot register the per-thread SHA-256 context");
        return NULL;
    }
    tl_ctx = ctx;
    return ctx;
}

static inline EVP_MD_CTX *thread_ctx(void)
{
    EVP_MD_CTX *ctx = tl_ctx;
    return ctx ? ctx : thread_ctx_new();
}

int wb_sha256_prefixed(uint8_t out[WB_SHA256_LEN], int prefix, const void *a,
                       size_t alen, const void *b, size_t blen)
{
    EVP_MD_CTX *ctx;
    uint8_t gather[WB_PREFIXED_GATHER];
    size_t plen = prefix >= 0 ? 1 : 0;
    int ok;

    if (prefix > 0xff)
        return wb_error_set(WB_E_INVALID, "SHA-256 prefix %d is not a byte", prefix);
    ctx = thread_ctx();
    if (!ctx)
        return WB_E_CRYPTO;
    if (!EVP_DigestInit_ex2(ctx, md_sha256, NULL))
        return wb_crypto_ossl_fail(WB_E_CRYPTO, "SHA-256 init failed");
    if (alen <= sizeof(gather) - plen && blen <= sizeof(gather) - plen - alen) {
        /* the common case (a leaf or a node): one update of <= 192 bytes */
        gather[0] = (uint8_t)prefix;
        if (alen)
            memcpy(gather + plen, a, alen);
        if (blen)
            memcpy(gather + plen + alen, b, blen);
        ok = EVP_DigestUpdate(ctx, gather, plen + alen + blen);
    } else {
        uint8_t p = (uint8_t)prefix;
        ok = (!plen || EVP_DigestUpdate(ctx, &p, 1)) &&
             (!alen || EVP_DigestUpdate(ctx, a, alen)) &&
             (!blen || EVP_DigestUpdate(ctx, b, blen));
    }
    if (!ok || !EVP_DigestFinal_ex(ctx, out, NULL))
        return wb_crypto_ossl_fail(WB_E_CRYPTO, "SHA-256 failed");
    return 0;
}

int wb_sha256(uint8_t out[WB_SHA256_LEN], const void *data, size_t len)
{
    return wb_sha256_prefixed(out, -1, data, len, NULL, 0);
}

int wb_sha384(uint8_t out[WB_SHA384_LEN], const void *data, size_t len)
{
    static const uint8_t empty[1];

    if (md_init() != 0)
        return WB_E_CRYPTO;
    if (!EVP_Digest(len ? data : empty, len, out, NULL, md_sha384, NULL))
        return wb_crypto_ossl_fail(WB_E_CRYPTO, "SHA-384 failed");
    return 0;
}

/* ---- incremental SHA-256 ---- */

int wb_sha256_new(wb_sha256_ctx **out)
{
    wb_sha256_ctx *c;
    int rc;

    *out = NULL;
    if (md_init() != 0)
        return WB_E_CRYPTO;
    c = calloc(1, sizeof(*c));
    if (!c)
        return wb_error_set(WB_E_NOMEM, "out of memory for a SHA-256 context");
    c->md = EVP_MD_CTX_new();
    if (!c->md) {
        free(c);
        return wb_error_set(WB_E_NOMEM, "out of memory for a SHA-256 context");
    }
    rc = wb_sha256_init(c);
    if (rc != 0) {
        wb_sha256_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void wb_sha256_free(wb_sha256_ctx *ctx)
{
    if (!ctx)
        return;
    EVP_MD_CTX_free(ctx->md);
    free(ctx);
}

int wb_sha256_init(wb_sha256_ctx *ctx)
{
    ctx->live = 0;
    if (!EVP_DigestInit_ex2(ctx->md, md_sha256, NULL))
        return wb_crypto_ossl_fail(WB_E_CRYPTO, "SHA-256 init failed");
    ctx->live = 1;
    return 0;
}

int wb_sha256_update(wb_sha256_ctx *ctx, const void *data, size_t len)
{
    if (!ctx->live)
        return wb_error_set(WB_E_INVALID,
                            "SHA-256 update after final: call wb_sha256_init first");
    if (len == 0)
        return 0;
    if (!EVP_DigestUpdate(ctx->md, data, len))
        return wb_crypto_ossl_fail(WB_E_CRYPTO, "SHA-256 update failed");
    return 0;
}

int wb_sha256_final(wb_sha256_ctx *ctx, uint8_t out[WB_SHA256_LEN])
{
    if (!ctx->live)
        return wb_error_set(WB_E_INVALID,
                            "SHA-256 final twice: call wb_sha256_init first");
    ctx->live = 0;
    if (!EVP_DigestFinal_ex(ctx->md, out, NULL))
        return wb_crypto_ossl_fail(WB_E_CRYPTO, "SHA-256 final failed");
    return 0;
}

/* ---- randomness ---- */

int wb_random_bytes(void *out, size_t len)
{
    uint8_t *p = out;

    while (len > 0) {
        int n = len > INT_MAX ? INT_MAX : (int)len;
        if (RAND_bytes(p, n) != 1)
            return wb_crypto_ossl_fail(WB_E_CRYPTO, "the OpenSSL random generator failed");
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
