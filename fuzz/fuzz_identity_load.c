/*
 * fuzz_identity_load.c: libFuzzer target for wb_identity_load
 * (src/lib/prov/identity.c): DER, concatenated DER, PEM and TPM NV blobs
 * (TCG stored-certificate header, padding) as suppliers and TPM vendors
 * publish them.
 *
 * Invariants checked, aborting on violation:
 *   - a refused input returns nothing (NULL lists, n == 0, empty `what`)
 *     and sets a message;
 *   - a loaded input gives 1..WB_IDENTITY_CERTS_MAX certificates of
 *     1..WB_IDENTITY_CERT_MAX bytes, a non-empty `what`, and each
 *     certificate, loaded again on its own, is itself exactly;
 *   - the certificates concatenated load again as the same list (DER is
 *     the fixed point of every accepted format);
 *   - wb_identity_device_id on each either gives 64 lowercase hex digits
 *     or a message (the key type may be unsupported), never a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/error.h"
#include "waybill/identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_id(const char *s)
{
    size_t i;
    for (i = 0; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return i == WB_IDENTITY_ID_HEX;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t **der = NULL, **der2 = NULL, *all;
    size_t *len = NULL, *len2 = NULL, n = 0, n2 = 0, total = 0;
    char what[256];

    if (wb_identity_load(&der, &len, &n, data, size, what, sizeof(what)) != 0) {
        if (der || len || n || what[0] || wb_error_message()[0] == '\0')
            abort();
        return 0;
    }
    if (n == 0 || n > WB_IDENTITY_CERTS_MAX || !der || !len || what[0] == '\0')
        abort();
    for (size_t i = 0; i < n; i++) {
        char id[WB_IDENTITY_ID_HEX + 1];
        if (len[i] == 0 || len[i] > WB_IDENTITY_CERT_MAX)
            abort();
        if (wb_identity_device_id(id, der[i], len[i]) == 0 && !is_id(id))
            abort();
        if (wb_identity_load(&der2, &len2, &n2, der[i], len[i], NULL, 0) != 0 || n2 != 1 ||
            len2[0] != len[i] || memcmp(der2[0], der[i], len[i]) != 0)
            abort();
        wb_identity_free(der2, len2, n2);
        total += len[i];
    }
    all = malloc(total);
    if (!all)
        abort();
    total = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(all + total, der[i], len[i]);
        total += len[i];
    }
    if (wb_identity_load(&der2, &len2, &n2, all, total, what, sizeof(what)) != 0 || n2 != n)
        abort();
    for (size_t i = 0; i < n; i++)
        if (len2[i] != len[i] || memcmp(der2[i], der[i], len[i]) != 0)
            abort();
    wb_identity_free(der2, len2, n2);
    wb_identity_free(der, len, n);
    free(all);
    return 0;
}
