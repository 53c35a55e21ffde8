/*
 * fuzz_ecdsa_der.c: libFuzzer target for the strict DER ECDSA signature
 * parser, wb_ecdsa_der_to_raw (src/lib/crypto/ecdsa_sig.c; RFC 5480 §2.2.3,
 * X.690 DER).
 *
 * For both coordinate sizes (32: P-256, 48: P-384) it parses the input; when
 * the parse succeeds, the raw r‖s is encoded back with wb_ecdsa_raw_to_der
 * and parsed again. Because the parser accepts only the one canonical DER
 * encoding, the re-encoding must equal the input byte for byte and the
 * second parse must give the same r‖s; anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t sizes[] = {32, 48};

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t n = sizes[i], der_len;
        uint8_t raw[WB_SIG_MAX], raw2[WB_SIG_MAX], der[128];

        if (wb_ecdsa_der_to_raw(raw, n, data, size) != 0)
            continue;
        if (wb_ecdsa_raw_to_der(der, sizeof(der), &der_len, raw, n) != 0)
            abort();
        if (der_len != size || memcmp(der, data, size) != 0)
            abort();
        if (wb_ecdsa_der_to_raw(raw2, n, der, der_len) != 0)
            abort();
        if (memcmp(raw, raw2, 2 * n) != 0)
            abort();
    }
    return 0;
}
