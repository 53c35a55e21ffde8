/*
 * crypto_int.h: what the crypto module's files share and nobody else sees.
 */
#ifndef WAYBILL_CRYPTO_INT_H
#define WAYBILL_CRYPTO_INT_H

#include <stddef.h>

#include <openssl/types.h>

/*
 * wb_crypto_ossl_fail sets the error message to "<what>: <OpenSSL's reason>"
 * (or just what, if OpenSSL queued nothing), empties OpenSSL's error queue so
 * a failure never leaks into a later call, and returns code.
 */
int wb_crypto_ossl_fail(int code, const char *what);

/*
 * wb_crypto_pem_read_one reads exactly one PEM block (RFC 7468) of at most
 * WB_PEM_MAX bytes, without encapsulated headers: *name gets its label
 * (OPENSSL_free it), *data and *dlen its decoded bytes (OPENSSL_clear_free
 * them). Nothing to free on failure (key.c).
 */
int wb_crypto_pem_read_one(char **name, unsigned char **data, long *dlen, const char *pem,
                           size_t len);

/*
 * wb_crypto_ec_curve finds the NID of an EC key's named curve and, when name
 * is not NULL, OpenSSL's name for it. Explicit curve parameters and keys
 * without a named curve are WB_E_INVALID (key.c).
 */
int wb_crypto_ec_curve(const EVP_PKEY *pkey, int *nid, char *name, size_t name_cap);

/* the OpenSSL key inside a wb_key (owned by it) */
EVP_PKEY *wb_crypto_key_pkey(const wb_key *key);

#endif
