/*
 * cose_int.h: what the COSE module's files share and nobody else sees.
 *
 * Strict CBOR decoding over libcbor (cbor_strict.c), deterministic CBOR
 * encoding into a wb_buf (cbor_write.c), header parsing (headers.c), the
 * Sig_structure (sign1.c) and the CCF proof (ccf.c).
 *
 * Limits that apply to every CBOR item waybill decodes, in one place:
 *   WB_CBOR_DEPTH_MAX  containers (arrays, maps, tags) nested in one item;
 *   WB_CBOR_ITEMS_MAX  data items in one decoded object (each string, number,
 *                      array, map or tag counts once), which bounds libcbor's
 *                      memory at a small multiple of the input size and the
 *                      quadratic duplicate-key check.
 * A byte string that holds CBOR (a protected header, a receipt, a proof) is
 * decoded as an object of its own, with its own limits.
 */
#ifndef WAYBILL_COSE_INT_H
#define WAYBILL_COSE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

#include "waybill/cose.h"
#include "waybill/util.h"

#define WB_CBOR_DEPTH_MAX 16
#define WB_CBOR_ITEMS_MAX 4096
#define WB_COSE_KEY_MAX 4096 /* bytes in one encoded COSE_Key */

/* CBOR major types */
enum {
    WB_CBOR_UINT = 0,
    WB_CBOR_NEGINT = 1,
    WB_CBOR_BYTES = 2,
    WB_CBOR_TEXT = 3,
    WB_CBOR_ARRAY = 4,
    WB_CBOR_MAP = 5,
    WB_CBOR_TAG = 6,
    WB_CBOR_SIMPLE = 7,
};

#define WB_CBOR_TAG_EPOCH 1   /* RFC 8949 §3.4.2 epoch-based date/time */
#define WB_CBOR_TAG_SIGN1 18  /* RFC 9052 COSE_Sign1 */

/* ---- strict decoding (cbor_strict.c) ---- */

/*
 * wb_cbor_load decodes data[0..len) as exactly one CBOR item of at most max
 * bytes (checked before anything is parsed): well-formed, definite lengths
 * only, text strings valid UTF-8, nesting and item count within the limits
 * above, nothing after the item, and no map with two equal keys anywhere
 * (keys compare by type and value, not by encoding). Messages start with
 * what ("COSE_Sign1: map key 4 appears twice in [1]"). *out is the libcbor
 * item (cbor_decref it), NULL on failure.
 */
int wb_cbor_load(cbor_item_t **out, const uint8_t *data, size_t len, size_t max,
                 const char *what);

/*
 * wb_cbor_scan checks that data[0..len) starts with one well-formed,
 * definite-length item within the limits and sets *used to its length,
 * without building anything. Messages start with what.
 */
int wb_cbor_scan(size_t *used, const uint8_t *data, size_t len, const char *what);

/*
 * wb_cbor_head reads one item head from r: major type, argument (the
 * value, length or count), and whether it was an indefinite length (only
 * reported, never followed). 1 on success, 0 if short or reserved.
 */
int wb_cbor_head(wb_reader *r, unsigned *major, uint64_t *arg);

/* ---- looking at decoded items (cbor_strict.c) ---- */

/* "an unsigned integer", "a map", ... for messages */
const char *wb_cbor_type_name(const cbor_item_t *it);
/* 1 and *out set if it is an integer that fits int64_t */
int wb_cbor_int64(const cbor_item_t *it, int64_t *out);
/* the item inside a tag (borrowed: owned by the tag) */
cbor_item_t *wb_cbor_tag_inner(const cbor_item_t *tag);
/* the value for integer key k in map, or NULL (borrowed) */
cbor_item_t *wb_cbor_map_get_int(const cbor_item_t *map, int64_t k);
/* a key for messages: 4, -1, "svn", or its type name */
void wb_cbor_key_text(char *buf, size_t n, const cbor_item_t *key);
/* 1 if p[0..n) is valid UTF-8 (RFC 3629) */
int wb_utf8_valid(const uint8_t *p, size_t n);
/*
 * wb_cbor_text_copy copies a text string item into a new NUL-terminated
 * string, refusing one longer than max or holding NUL: WB_E_INVALID/LIMIT
 * with "<what> ..." messages.
 */
int wb_cbor_text_copy(char **out, const cbor_item_t *it, size_t max, const char *what);
/*
 * nil, bool tests and value. libcbor 0.8's cbor_is_null / cbor_is_bool
 * assert (abort) when given a float, so these check the kind first.
 */
int wb_cbor_is_nil(const cbor_item_t *it);
int wb_cbor_is_bool(const cbor_item_t *it);
int wb_cbor_bool(const cbor_item_t *it); /* for a bool: 1 if true */
/* a zero-length byte string's handle may be NULL; this never is */
uint8_t *wb_cbor_bytes(const cbor_item_t *it);

/* ---- deterministic encoding (cbor_write.c): shortest heads, definite ---- */
void wb_cbor_put_head(wb_buf *b, unsigned major, uint64_t arg);
void wb_cbor_put_int(wb_buf *b, int64_t v);
void wb_cbor_put_uint(wb_buf *b, uint64_t v);
void wb_cbor_put_bytes(wb_buf *b, const uint8_t *p, size_t n);
void wb_cbor_put_text(wb_buf *b, const char *s, size_t n);
void wb_cbor_put_bool(wb_buf *b, int v);
void wb_cbor_put_nil(wb_buf *b);

/* ---- COSE internals ---- */

/* decode flags */
#define WB_COSE_KID_TEXT_OK 1u /* accept a text kid (receipts of other services) */

/* wb_cose_sign1_decode with flags and a name for messages ("receipt") */
int wb_cose_sign1_decode_ex(wb_cose_sign1 *m, const uint8_t *data, size_t len,
                            size_t max, unsigned flags, const char *what);
/* the decoded unprotected map of m (borrowed) */
const cbor_item_t *wb_cose_sign1_unprotected(const wb_cose_sign1 *m);

/* strings a parsed header points at, owned by its wb_cose_sign1 */
typedef struct {
    char *cty, *iss, *sub;
} wb_cose_strings;
void wb_cose_strings_free(wb_cose_strings *s);

/*
 * wb_cose_headers_parse fills h from a decoded protected header map; kid and
 * x5chain point into the map's byte strings, text into s. what prefixes
 * messages ("COSE_Sign1: protected header").
 */
int wb_cose_headers_parse(wb_cose_headers *h, wb_cose_strings *s,
                          const cbor_item_t *map, unsigned flags, const char *what);
/* checks the unprotected map against the parsed protected one */
int wb_cose_unprotected_check(const cbor_item_t *unprot, const cbor_item_t *prot,
                              const char *what);

/* appends ["Signature1", protected, h'', payload] to b */
void wb_cose_sig_structure(wb_buf *b, const uint8_t *prot, size_t prot_len,
                           const uint8_t *payload, size_t payload_len);

/* signs the Sig_structure over prot and payload with signer (sig: WB_SIG_MAX) */
int wb_cose_sign_tbs(uint8_t *sig, size_t *sig_len, const uint8_t *prot, size_t prot_len,
                     const uint8_t *payload, size_t payload_len,
                     const wb_cose_signer *signer);

/*
 * wb_ccf_root computes the root a CCF inclusion proof (the bstr .cbor map
 * {1: [write_set_digest, commit_evidence, claims_digest], 2: [[left, hash]...]})
 * leads to, after checking that its claims digest is SHA-256 of statement.
 */
int wb_ccf_root(uint8_t root[32], const uint8_t *proof, size_t proof_len,
                const uint8_t *statement, size_t statement_len);

#endif
