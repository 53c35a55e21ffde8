/*
 * fuzz_cose_key.c: libFuzzer target for the COSE_Key and COSE_KeySet
 * decoders (waybill/cose.h) and the problem-details encoder.
 *
 * A key that decodes must encode back (with its kid) to a COSE_Key that
 * decodes to the same public key and kid, and the canonical encoding is a
 * fixed point. A key set that decodes must hold at most WB_COSE_KEYSET_MAX
 * public keys and re-encode to a set of the same keys. Any violation
 * abort()s. The input is also run through wb_cbor_problem as text (it must
 * always produce strict CBOR: bad UTF-8 is repaired).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/lib/cose/cose_int.h"
#include "waybill/cose.h"
#include "waybill/crypto.h"
#include "waybill/error.h"

static void same_key(const wb_key *a, const wb_key *b)
{
    uint8_t ra[WB_PUBKEY_RAW_MAX], rb[WB_PUBKEY_RAW_MAX];
    size_t la = sizeof(ra), lb = sizeof(rb);
    if (wb_key_alg(a) != wb_key_alg(b) || wb_key_public_raw(a, ra, &la) != 0 ||
        wb_key_public_raw(b, rb, &lb) != 0 || la != lb || memcmp(ra, rb, la) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t kid[WB_COSE_KID_MAX], kid2[WB_COSE_KID_MAX], *out, *out2;
    size_t kid_len, kid2_len, len, len2, n;
    wb_cose_keyset_entry *set;
    wb_key *k, *k2;

    if (wb_cose_key_decode(&k, kid, &kid_len, data, size) == 0) {
        if (!k || wb_key_is_private(k) || kid_len > WB_COSE_KID_MAX)
            abort();
        if (wb_cose_key_encode(&out, &len, k, kid, kid_len) != 0)
            abort();
        if (wb_cose_key_decode(&k2, kid2, &kid2_len, out, len) != 0 || kid2_len != kid_len ||
            memcmp(kid, kid2, kid_len) != 0)
            abort();
        same_key(k, k2);
        if (wb_cose_key_encode(&out2, &len2, k2, kid2, kid2_len) != 0 || len2 != len ||
            memcmp(out, out2, len) != 0)
            abort();
        free(out2);
        free(out);
        wb_key_free(k2);
        wb_key_free(k);
    } else if (k) {
        abort();
    }

    if (wb_cose_keyset_decode(&set, &n, data, size) == 0) {
        const wb_key *keys[WB_COSE_KEYSET_MAX];
        wb_cose_bytes kids[WB_COSE_KEYSET_MAX];
        wb_cose_keyset_entry *set2;
        size_t n2;
        if (n > WB_COSE_KEYSET_MAX)
            abort();
        for (size_t i = 0; i < n; i++) {
            keys[i] = set[i].key;
            kids[i].ptr = set[i].kid;
            kids[i].len = set[i].kid_len;
        }
        if (wb_cose_keyset_encode(&out, &len, keys, kids, n) != 0 ||
            wb_cose_keyset_decode(&set2, &n2, out, len) != 0 || n2 != n)
            abort();
        for (size_t i = 0; i < n; i++)
            same_key(set[i].key, set2[i].key);
        wb_cose_keyset_free(set2, n2);
        wb_cose_keyset_free(set, n);
        free(out);
    } else if (set) {
        abort();
    }

    {
        char text[512];
        size_t t = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
        cbor_item_t *it;
        memcpy(text, data, t);
        text[t] = '\0';
        if (wb_cbor_problem(&out, &len, text, text, (int)(size % 700)) != 0)
            abort();
        if (wb_cbor_load(&it, out, len, len, "problem") != 0)
            abort();
        cbor_decref(&it);
        free(out);
    }
    return 0;
}
