/*
 * key.c: signed-note keys (https://c2sp.org/signed-note, "Signatures" and
 * "Ed25519 signatures"), and their text forms.
 *
 * A key is named; its 32-bit key ID is
 *     SHA-256(key name || 0x0A || 0x01 || 32-byte Ed25519 public key)[:4]
 * read big-endian. Two signature types share this code: 0x01, Ed25519
 * (RFC 8032) note signatures, and 0x04, Ed25519 witness cosignatures
 * (C2SP tlog-cosignature, cosig.c). The type is part of the key: it goes
 * into the key ID and the key strings, a parser asks for one type and
 * refuses the other, so a witness key never stands in for a note key. The text forms are those of the reference implementation
 * (golang.org/x/mod/sumdb/note), which C2SP signed-note does not itself fix:
 *     verifier: <name>+<key ID as 8 hex digits>+<base64(0x01 || public key)>
 *     signer:   PRIVATE+KEY+<name>+<key ID>+<base64(0x01 || 32-byte seed)>
 * We accept exactly one spelling (lowercase hex, canonical padded base64),
 * so a key string that parses formats back to the same bytes. A parser
 * recomputes the key ID from the key and rejects a string that disagrees.
 */
#include "waybill/note.h"

#include "note/note_int.h"
#include "waybill/error.h"
#include "waybill/util.h"
#include "waybill/witness.h"

#include <stdlib.h>
#include <string.h>

#define KEY_STRING_MAX 512 /* longest key string we parse */
#define KEY_DATA_MAX 128   /* decoded key data: type byte and key */
#define ED25519_LEN 32

static const char signer_prefix[] = "PRIVATE+KEY+";

struct wb_note_key {
    char name[WB_NOTE_NAME_MAX + 1];
    uint8_t type; /* WB_NOTE_SIGTYPE_ED25519 or WB_NOTE_SIGTYPE_COSIG */
    uint32_t id;
    uint8_t pub[ED25519_LEN];
    wb_key *key; /* private for a signer, public-only for a verifier */
};

/* key_id computes the signed-note key ID of an Ed25519 key of a type */
static int key_id(uint32_t *id, const uint8_t *name, size_t name_len, uint8_t type,
                  const uint8_t pub[ED25519_LEN])
{
    uint8_t msg[WB_NOTE_NAME_MAX + 2 + ED25519_LEN];
    uint8_t h[WB_SHA256_LEN];
    int rc;

    if (name_len > WB_NOTE_NAME_MAX)
        return wb_error_set(WB_E_INTERNAL, "key ID of an over-long name");
    memcpy(msg, name, name_len);
    msg[name_len] = 0x0A;
    msg[name_len + 1] = type;
    memcpy(msg + name_len + 2, pub, ED25519_LEN);
    rc = wb_sha256(h, msg, name_len + 2 + ED25519_LEN);
    if (rc != 0)
        return rc;
    *id = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    return 0;
}

/* key_public reads the 32-byte public key of an Ed25519 wb_key */
static int key_public(uint8_t pub[ED25519_LEN], const wb_key *k)
{
    uint8_t raw[WB_PUBKEY_RAW_MAX];
    size_t len = sizeof(raw);
    int rc;

    if (wb_key_alg(k) != WB_ALG_ED25519)
        return wb_error_set(WB_E_INVALID, "note keys must be Ed25519");
    rc = wb_key_public_raw(k, raw, &len);
    if (rc != 0)
        return rc;
    if (len != ED25519_LEN)
        return wb_error_set(WB_E_INTERNAL, "Ed25519 public key of %zu bytes", len);
    memcpy(pub, raw, ED25519_LEN);
    return 0;
}

/*
 * key_new wraps k (consumed, also on failure) as a note key named
 * name[0..name_len), which the caller has checked. If want_id is non-NULL
 * the computed key ID must equal *want_id.
 */
static int key_new(wb_note_key **out, const uint8_t *name, size_t name_len,
                   uint8_t type, wb_key *k, const uint32_t *want_id, const char *what)
{
    wb_note_key *nk;
    uint8_t pub[ED25519_LEN];
    uint32_t id;
    int rc;

    rc = key_public(pub, k);
    if (rc == 0)
        rc = key_id(&id, name, name_len, type, pub);
    if (rc != 0) {
        wb_key_free(k);
        return wb_error_prefix(rc, "%s", what);
    }
    if (want_id && *want_id != id) {
        wb_key_free(k);
        return wb_error_set(WB_E_INVALID,
                            "%s: key ID %08x does not match the key (its name and "
                            "public key give %08x)",
                            what, (unsigned)*want_id, (unsigned)id);
    }
    nk = calloc(1, sizeof(*nk));
    if (!nk) {
        wb_key_free(k);
        return wb_error_set(WB_E_NOMEM, "%s: out of memory", what);
    }
    memcpy(nk->name, name, name_len);
    nk->name[name_len] = '\0';
    nk->type = type;
    nk->id = id;
    memcpy(nk->pub, pub, ED25519_LEN);
    nk->key = k;
    *out = nk;
    return 0;
}

/* type_name names a signature type in messages */
static const char *type_name(uint8_t type)
{
    return type == WB_NOTE_SIGTYPE_COSIG ? "a witness cosignature key (type 0x04)"
                                         : "a note signing key (type 0x01)";
}

int note_key_generate(wb_note_key **out, const char *name, uint8_t type)
{
    wb_key *k = NULL;
    size_t n;
    int rc;

    *out = NULL;
    if (!name)
        return wb_error_set(WB_E_INVALID, "note key: no name given");
    n = strnlen(name, WB_NOTE_NAME_MAX + 1);
    rc = note_check_name((const uint8_t *)name, n, "note key");
    if (rc != 0)
        return rc;
    rc = wb_key_generate(&k, WB_ALG_ED25519);
    if (rc != 0)
        return wb_error_prefix(rc, "note key '%s'", name);
    return key_new(out, (const uint8_t *)name, n, type, k, NULL, "note key");
}

int wb_note_key_generate(wb_note_key **out, const char *name)
{
    return note_key_generate(out, name, WB_NOTE_SIGTYPE_ED25519);
}

/*
 * parse_fields reads "<name>+<8 hex>+<base64 key data>" from r, checking the
 * name and decoding the key data into data[0..*data_len).
 */
static int parse_fields(wb_reader *r, const char *what, uint8_t type,
                        const uint8_t **name, size_t *name_len, uint32_t *id,
                        uint8_t *data, size_t *data_len)
{
    wb_reader nr, idr;
    const uint8_t *hex, *b64;
    uint8_t idb[4];
    size_t b64_len;
    int rc;

    if (!wb_reader_get_until(r, &nr, '+'))
        return wb_error_set(WB_E_INVALID,
                            "%s: expected <name>+<key ID>+<key>, found no '+'", what);
    *name = nr.ptr;
    *name_len = wb_reader_left(&nr);
    rc = note_check_name(*name, *name_len, what);
    if (rc != 0)
        return rc;
    if (!wb_reader_get_until(r, &idr, '+'))
        return wb_error_set(WB_E_INVALID,
                            "%s: expected <name>+<key ID>+<key>, found no '+' after "
                            "the key ID",
                            what);
    if (wb_reader_left(&idr) != 8 || !wb_reader_get_bytes(&idr, &hex, 8))
        return wb_error_set(WB_E_INVALID,
                            "%s: key ID is %zu characters, not 8 hex digits", what,
                            wb_reader_left(&idr));
    rc = wb_hex_decode(idb, sizeof(idb), (const char *)hex, 8);
    if (rc != 0)
        return wb_error_prefix(rc, "%s: key ID", what);
    *id = (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 | (uint32_t)idb[2] << 8 |
          idb[3];
    b64_len = wb_reader_left(r);
    if (b64_len == 0 || !wb_reader_get_bytes(r, &b64, b64_len))
        return wb_error_set(WB_E_INVALID, "%s: key data is empty", what);
    rc = wb_base64_decode(data, KEY_DATA_MAX, data_len, (const char *)b64, b64_len);
    if (rc != 0)
        return wb_error_prefix(rc, "%s: key data", what);
    if (*data_len == 0)
        return wb_error_set(WB_E_INVALID, "%s: key data is empty", what);
    if ((data[0] == WB_NOTE_SIGTYPE_ED25519 || data[0] == WB_NOTE_SIGTYPE_COSIG) &&
        data[0] != type)
        return wb_error_set(WB_E_INVALID, "%s: this is %s, where %s is wanted", what,
                            type_name(data[0]), type_name(type));
    if (data[0] != type)
        return wb_error_set(WB_E_INVALID,
                            "%s: signature type 0x%02x is not supported (only "
                            "Ed25519, 0x%02x)",
                            what, data[0], type);
    if (*data_len != 1 + ED25519_LEN)
        return wb_error_set(WB_E_INVALID,
                            "%s: Ed25519 key data is %zu bytes, not 33 (type byte "
                            "and 32-byte key)",
                            what, *data_len);
    return 0;
}

int note_signer_parse(wb_note_key **out, const char *s, size_t len, uint8_t type)
{
    static const char what[] = "signer key";
    wb_reader r;
    const uint8_t *prefix, *name;
    uint8_t data[KEY_DATA_MAX];
    size_t name_len, data_len = 0;
    uint32_t id;
    wb_key *k = NULL;
    int rc;

    *out = NULL;
    if (len > KEY_STRING_MAX)
        return wb_error_set(WB_E_LIMIT, "%s: %zu bytes, over the %d-byte limit",
                            what, len, KEY_STRING_MAX);
    wb_reader_init(&r, s, len);
    if (!wb_reader_get_bytes(&r, &prefix, sizeof(signer_prefix) - 1) ||
        memcmp(prefix, signer_prefix, sizeof(signer_prefix) - 1) != 0)
        return wb_error_set(WB_E_INVALID, "%s: does not start with \"%s\"", what,
                            signer_prefix);
    rc = parse_fields(&r, what, type, &name, &name_len, &id, data, &data_len);
    if (rc == 0) {
        rc = wb_key_from_ed25519_seed(&k, data + 1);
        if (rc != 0)
            rc = wb_error_prefix(rc, "%s", what);
    }
    note_wipe(data, sizeof(data));
    if (rc != 0)
        return rc;
    return key_new(out, name, name_len, type, k, &id, what);
}

int wb_note_signer_parse(wb_note_key **out, const char *s, size_t len)
{
    return note_signer_parse(out, s, len, WB_NOTE_SIGTYPE_ED25519);
}

int note_verifier_parse(wb_note_key **out, const char *s, size_t len, uint8_t type)
{
    static const char what[] = "verifier key";
    wb_reader r;
    const uint8_t *name;
    uint8_t data[KEY_DATA_MAX];
    size_t name_len, data_len = 0;
    uint32_t id, got;
    wb_key *k = NULL;
    int rc;

    *out = NULL;
    if (len > KEY_STRING_MAX)
        return wb_error_set(WB_E_LIMIT, "%s: %zu bytes, over the %d-byte limit",
                            what, len, KEY_STRING_MAX);
    /* "PRIVATE" may be a name, but "KEY" is never a key ID */
    if (len >= sizeof(signer_prefix) - 1 &&
        memcmp(s, signer_prefix, sizeof(signer_prefix) - 1) == 0)
        return wb_error_set(WB_E_INVALID,
                            "%s: this is a signer (private) key, not a verifier key",
                            what);
    wb_reader_init(&r, s, len);
    rc = parse_fields(&r, what, type, &name, &name_len, &id, data, &data_len);
    if (rc != 0)
        return rc;
    /* check the ID before building the key: cheap first */
    rc = key_id(&got, name, name_len, type, data + 1);
    if (rc != 0)
        return rc;
    if (got != id)
        return wb_error_set(WB_E_INVALID,
                            "%s: key ID %08x does not match the key (its name and "
                            "public key give %08x)",
                            what, (unsigned)id, (unsigned)got);
    rc = wb_key_from_public_raw(&k, WB_ALG_ED25519, data + 1, ED25519_LEN);
    if (rc != 0)
        return wb_error_prefix(rc, "%s", what);
    return key_new(out, name, name_len, type, k, &id, what);
}

int wb_note_verifier_parse(wb_note_key **out, const char *s, size_t len)
{
    return note_verifier_parse(out, s, len, WB_NOTE_SIGTYPE_ED25519);
}

/* key_string writes [prefix]<name>+<id>+<base64(type || key32)> */
static int key_string(char **out, const char *prefix, const wb_note_key *k,
                      const uint8_t key32[ED25519_LEN])
{
    uint8_t data[1 + ED25519_LEN];
    uint8_t *p = NULL;
    wb_buf b;
    int rc;

    data[0] = k->type;
    memcpy(data + 1, key32, ED25519_LEN);
    wb_buf_init(&b, KEY_STRING_MAX);
    wb_buf_add_str(&b, prefix);
    wb_buf_printf(&b, "%s+%08x+", k->name, (unsigned)k->id);
    /* the key data goes last, so growing the buffer never copies it */
    wb_buf_add_base64(&b, data, sizeof(data));
    note_wipe(data, sizeof(data));
    rc = wb_buf_finish(&b, &p, NULL);
    if (rc != 0)
        return rc;
    *out = (char *)p;
    return 0;
}

int wb_note_signer_string(char **out, const wb_note_key *k)
{
    uint8_t seed[ED25519_LEN];
    int rc;

    *out = NULL;
    if (!wb_key_is_private(k->key))
        return wb_error_set(WB_E_INVALID,
                            "note key %s+%08x has no private part, so no signer "
                            "string",
                            k->name, (unsigned)k->id);
    rc = wb_key_ed25519_seed(k->key, seed);
    if (rc == 0)
        rc = key_string(out, signer_prefix, k, seed);
    note_wipe(seed, sizeof(seed));
    return rc;
}

int wb_note_verifier_string(char **out, const wb_note_key *k)
{
    *out = NULL;
    return key_string(out, "", k, k->pub);
}

const char *wb_note_key_name(const wb_note_key *k)
{
    return k->name;
}

uint8_t note_key_type(const wb_note_key *k)
{
    return k->type;
}

uint32_t wb_note_key_id(const wb_note_key *k)
{
    return k->id;
}

const wb_key *wb_note_key_key(const wb_note_key *k)
{
    return k->key;
}

void wb_note_key_free(wb_note_key *k)
{
    if (!k)
        return;
    wb_key_free(k->key);
    note_wipe(k, sizeof(*k));
    free(k);
}

int wb_note_verifier_load(wb_note_key **out, const char *arg)
{
    uint8_t *data = NULL;
    size_t len;
    int rc;
    /* a string that parses as a key is a key, whatever files happen to exist */
    if (strchr(arg, '+') && wb_note_verifier_parse(out, arg, strlen(arg)) == 0)
        return 0;
    rc = wb_file_read(arg, 4096, &data, &len);
    if (rc == WB_E_NOTFOUND && strchr(arg, '+'))
        return wb_note_verifier_parse(out, arg, strlen(arg)); /* say why it is no key */
    if (rc)
        return rc;
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    rc = wb_note_verifier_parse(out, (const char *)data, len);
    free(data);
    return rc ? wb_error_prefix(rc, "%s", arg) : 0;
}
