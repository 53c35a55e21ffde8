/*
 * crypto_int.h: what the crypto module's files share and nobody else sees.
 */
#ifndef WAYBILL_CRYPTO_INT_H
#define WAYBILL_CRYPTO_INT_H

/*
 * wb_crypto_ossl_fail sets the error message to "<what>: <OpenSSL's reason>"
 * (or just what, if OpenSSL queued nothing), empties OpenSSL's error queue so
 * a failure never leaks into a later call, and returns code.
 */
int wb_crypto_ossl_fail(int code, const char *what);

#endif
