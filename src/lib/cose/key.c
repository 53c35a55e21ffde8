/*
 * key.c: COSE_Key and COSE_KeySet (RFC 9052 §7, key types of RFC 9053 §7)
 * for the public keys waybill signs with:
 *   OKP  {1: 1, 2: kid, 3: -8,  -1: 6 (Ed25519), -2: x (32 bytes)}
 *   EC2  {1: 2, 2: kid, 3: -7,  -1: 1 (P-256),   -2: x, -3: y (32 bytes each)}
 *        {1: 2, 2: kid, 3: -35, -1: 2 (P-384),   -2: x, -3: y (48 bytes each)}
 * written with keys in deterministic order (1, 2, 3, -1, -2, -3).
 *
 * Decoding reads public keys only. A key set is served publicly, so a
 * COSE_Key that carries the private part (d, -4) is refused rather than
 * ignored; so are compressed points (y as a bool), other curves and key
 * types, and an alg that does not fit the curve (waybill pairs P-256 with
 * ES256 and P-384 with ES384 only). kid is a bstr; key_ops and other
 * parameters are ignored. The point itself is checked by the crypto module
 * (on the curve, not the identity).
 */
#include "cose_int.h"

#include "waybill/error.h"

#include <stdlib.h>
#include <string.h>

#define KTY_OKP 1
#define KTY_EC2 2
#define CRV_P256 1
#define CRV_P384 2
#define CRV_ED25519 6
#define KEY_KTY 1
#define KEY_KID 2
#define KEY_ALG 3
#define KEY_CRV (-1)
#define KEY_X (-2)
#define KEY_Y (-3)
#define KEY_D (-4)

static void put_key(wb_buf *b, const uint8_t *raw, size_t raw_len, wb_alg alg,
                    const uint8_t *kid, size_t kid_len)
{
    int ec = alg != WB_ALG_ED25519;

    wb_cbor_put_head(b, WB_CBOR_MAP, (ec ? 5u : 4u) + (kid_len > 0 ? 1u : 0u));
    wb_cbor_put_uint(b, KEY_KTY);
    wb_cbor_put_uint(b, ec ? KTY_EC2 : KTY_OKP);
    if (kid_len > 0) {
        wb_cbor_put_uint(b, KEY_KID);
        wb_cbor_put_bytes(b, kid, kid_len);
    }
    wb_cbor_put_uint(b, KEY_ALG);
    wb_cbor_put_int(b, wb_cose_alg_from_wb(alg));
    wb_cbor_put_int(b, KEY_CRV);
    wb_cbor_put_uint(b, alg == WB_ALG_ED25519 ? CRV_ED25519
                        : alg == WB_ALG_ES256 ? CRV_P256
                                              : CRV_P384);
    if (!ec) {
        wb_cbor_put_int(b, KEY_X);
        wb_cbor_put_bytes(b, raw, raw_len);
    } else {
        size_t c = (raw_len - 1) / 2; /* raw is 0x04 ‖ X ‖ Y */
        wb_cbor_put_int(b, KEY_X);
        wb_cbor_put_bytes(b, raw + 1, c);
        wb_cbor_put_int(b, KEY_Y);
        wb_cbor_put_bytes(b, raw + 1 + c, c);
    }
}

static int add_key(wb_buf *b, const wb_key *key, const uint8_t *kid, size_t kid_len)
{
    uint8_t raw[WB_PUBKEY_RAW_MAX];
    size_t raw_len = sizeof(raw);
    int rc;

    if (!key)
        return wb_error_set(WB_E_INVALID, "COSE_Key: no key");
    if (kid_len > WB_COSE_KID_MAX || (!kid && kid_len))
        return wb_error_set(WB_E_INVALID, "COSE_Key: kid of %zu bytes", kid_len);
    if ((rc = wb_key_public_raw(key, raw, &raw_len)) != 0)
        return rc;
    put_key(b, raw, raw_len, wb_key_alg(key), kid, kid_len);
    return 0;
}

int wb_cose_key_encode(uint8_t **out, size_t *len, const wb_key *key, const uint8_t *kid,
                       size_t kid_len)
{
    wb_buf b;
    int rc;

    *out = NULL;
    *len = 0;
    wb_buf_init(&b, WB_COSE_KEY_MAX);
    if ((rc = add_key(&b, key, kid, kid_len)) != 0) {
        wb_buf_cleanup(&b);
        return rc;
    }
    return wb_buf_finish(&b, out, len);
}

int wb_cose_keyset_encode(uint8_t **out, size_t *len, const wb_key *const *keys,
                          const wb_cose_bytes *kids, size_t n)
{
    wb_buf b;
    int rc;

    *out = NULL;
    *len = 0;
    if (n > WB_COSE_KEYSET_MAX)
        return wb_error_set(WB_E_LIMIT, "COSE_KeySet: %zu keys, over the limit of %d", n,
                            WB_COSE_KEYSET_MAX);
    wb_buf_init(&b, (size_t)WB_COSE_KEYSET_MAX * WB_COSE_KEY_MAX);
    wb_cbor_put_head(&b, WB_CBOR_ARRAY, n);
    for (size_t i = 0; i < n; i++) {
        if ((rc = add_key(&b, keys[i], kids ? kids[i].ptr : NULL,
                          kids ? kids[i].len : 0)) != 0) {
            wb_buf_cleanup(&b);
            return wb_error_prefix(rc, "COSE_KeySet key %zu", i);
        }
    }
    return wb_buf_finish(&b, out, len);
}

/* ---- decoding ---- */

static int key_from_map(wb_key **out, uint8_t *kid, size_t *kid_len,
                        const cbor_item_t *map)
{
    const cbor_item_t *x = NULL, *y = NULL;
    struct cbor_pair *p;
    int64_t kty = 0, crv = 0, alg = 0;
    int have_kty = 0, have_crv = 0, have_alg = 0;
    uint8_t raw[WB_PUBKEY_RAW_MAX];
    size_t coord;
    wb_alg walg;

    if (kid_len)
        *kid_len = 0;
    if (!cbor_isa_map(map))
        return wb_error_set(WB_E_INVALID, "COSE_Key is %s, want a map",
                            wb_cbor_type_name(map));
    p = cbor_map_handle(map);
    for (size_t i = 0; i < cbor_map_size(map); i++) {
        const cbor_item_t *v = p[i].value;
        int64_t label;

        if (!wb_cbor_int64(p[i].key, &label)) {
            if (cbor_isa_string(p[i].key))
                continue;
            return wb_error_set(WB_E_INVALID, "COSE_Key: label is %s, want an integer "
                                              "or text",
                                wb_cbor_type_name(p[i].key));
        }
        switch (label) {
        case KEY_KTY:
            if (!wb_cbor_int64(v, &kty))
                return wb_error_set(WB_E_INVALID, "COSE_Key: kty (1) is %s, want 1 (OKP) "
                                                  "or 2 (EC2)",
                                    wb_cbor_type_name(v));
            have_kty = 1;
            break;
        case KEY_KID:
            if (!cbor_isa_bytestring(v))
                return wb_error_set(WB_E_INVALID, "COSE_Key: kid (2) is %s, want a byte "
                                                  "string",
                                    wb_cbor_type_name(v));
            if (cbor_bytestring_length(v) > WB_COSE_KID_MAX)
                return wb_error_set(WB_E_LIMIT, "COSE_Key: kid (2) is %zu bytes, over the "
                                                "%d-byte limit",
                                    cbor_bytestring_length(v), WB_COSE_KID_MAX);
            if (kid && kid_len) {
                memcpy(kid, wb_cbor_bytes(v), cbor_bytestring_length(v));
                *kid_len = cbor_bytestring_length(v);
            }
            break;
        case KEY_ALG:
            if (!wb_cbor_int64(v, &alg))
                return wb_error_set(WB_E_INVALID, "COSE_Key: alg (3) is %s, want an "
                                                  "integer",
                                    wb_cbor_type_name(v));
            have_alg = 1;
            break;
        case KEY_CRV:
            if (!wb_cbor_int64(v, &crv))
                return wb_error_set(WB_E_INVALID, "COSE_Key: crv (-1) is %s, want an "
                                                  "integer",
                                    wb_cbor_type_name(v));
            have_crv = 1;
            break;
        case KEY_X:
            x = v;
            break;
        case KEY_Y:
            y = v;
            break;
        case KEY_D:
            return wb_error_set(WB_E_INVALID,
                                "COSE_Key: holds a private key (d, -4); only public keys "
                                "are accepted");
        default:
            break;
        }
    }
    if (!have_kty)
        return wb_error_set(WB_E_INVALID, "COSE_Key: no kty (1)");
    if (!have_crv)
        return wb_error_set(WB_E_INVALID, "COSE_Key: no crv (-1)");
    if (kty == KTY_OKP) {
        if (crv != CRV_ED25519)
            return wb_error_set(WB_E_INVALID,
                                "COSE_Key: OKP curve %lld is not supported; want 6 "
                                "(Ed25519)",
                                (long long)crv);
        if (y)
            return wb_error_set(WB_E_INVALID, "COSE_Key: an OKP key has no y (-3)");
        walg = WB_ALG_ED25519;
    } else if (kty == KTY_EC2) {
        if (crv != CRV_P256 && crv != CRV_P384)
            return wb_error_set(WB_E_INVALID,
                                "COSE_Key: EC2 curve %lld is not supported; want 1 (P-256) "
                                "or 2 (P-384)",
                                (long long)crv);
        walg = crv == CRV_P256 ? WB_ALG_ES256 : WB_ALG_ES384;
    } else {
        return wb_error_set(WB_E_INVALID,
                            "COSE_Key: kty %lld is not supported; want 1 (OKP) or 2 (EC2)",
                            (long long)kty);
    }
    if (have_alg && alg != wb_cose_alg_from_wb(walg))
        return wb_error_set(WB_E_INVALID,
                            "COSE_Key: alg (3) %lld does not fit the key; want %lld (%s)",
                            (long long)alg, (long long)wb_cose_alg_from_wb(walg),
                            wb_alg_name(walg));
    coord = walg == WB_ALG_ES384 ? 48 : 32;
    if (!x || !cbor_isa_bytestring(x) || cbor_bytestring_length(x) != coord)
        return wb_error_set(WB_E_INVALID, "COSE_Key: x (-2) must be a %zu-byte string for "
                                          "%s",
                            coord, wb_alg_name(walg));
    if (walg == WB_ALG_ED25519)
        return wb_key_from_public_raw(out, walg, wb_cbor_bytes(x), coord);
    if (wb_cbor_is_bool(y))
        return wb_error_set(WB_E_INVALID, "COSE_Key: compressed point (y is a bool) is "
                                          "not supported");
    if (!y || !cbor_isa_bytestring(y) || cbor_bytestring_length(y) != coord)
        return wb_error_set(WB_E_INVALID, "COSE_Key: y (-3) must be a %zu-byte string for "
                                          "%s",
                            coord, wb_alg_name(walg));
    raw[0] = 0x04;
    memcpy(raw + 1, wb_cbor_bytes(x), coord);
    memcpy(raw + 1 + coord, wb_cbor_bytes(y), coord);
    return wb_key_from_public_raw(out, walg, raw, 1 + 2 * coord);
}

int wb_cose_key_decode(wb_key **out, uint8_t *kid, size_t *kid_len, const uint8_t *data,
                       size_t len)
{
    cbor_item_t *map = NULL;
    int rc;

    *out = NULL;
    if (kid_len)
        *kid_len = 0;
    if ((rc = wb_cbor_load(&map, data, len, WB_COSE_KEY_MAX, "COSE_Key")) != 0)
        return rc;
    rc = key_from_map(out, kid, kid_len, map);
    cbor_decref(&map);
    return rc;
}

void wb_cose_keyset_free(wb_cose_keyset_entry *keys, size_t n)
{
    if (!keys)
        return;
    for (size_t i = 0; i < n; i++)
        wb_key_free(keys[i].key);
    free(keys);
}

int wb_cose_keyset_decode(wb_cose_keyset_entry **out, size_t *n, const uint8_t *data,
                          size_t len)
{
    cbor_item_t *set = NULL;
    wb_cose_keyset_entry *keys = NULL;
    cbor_item_t **e;
    size_t count = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if ((rc = wb_cbor_load(&set, data, len, (size_t)WB_COSE_KEYSET_MAX * WB_COSE_KEY_MAX,
                           "COSE_KeySet")) != 0)
        return rc;
    if (!cbor_isa_array(set)) {
        rc = wb_error_set(WB_E_INVALID, "COSE_KeySet is %s, want an array",
                          wb_cbor_type_name(set));
        goto done;
    }
    count = cbor_array_size(set);
    if (count > WB_COSE_KEYSET_MAX) {
        rc = wb_error_set(WB_E_LIMIT, "COSE_KeySet: %zu keys, over the limit of %d", count,
                          WB_COSE_KEYSET_MAX);
        goto done;
    }
    keys = calloc(count ? count : 1, sizeof(*keys));
    if (!keys) {
        rc = wb_error_set(WB_E_NOMEM, "out of memory for %zu keys", count);
        goto done;
    }
    e = cbor_array_handle(set);
    for (size_t i = 0; i < count; i++) {
        if ((rc = key_from_map(&keys[i].key, keys[i].kid, &keys[i].kid_len, e[i])) != 0) {
            rc = wb_error_prefix(rc, "COSE_KeySet key %zu", i);
            goto done;
        }
    }
    *out = keys;
    *n = count;
    keys = NULL;
done:
    wb_cose_keyset_free(keys, count);
    cbor_decref(&set);
    return rc;
}
