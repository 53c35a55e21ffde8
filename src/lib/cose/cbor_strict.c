/*
 * cbor_strict.c: strict decoding of untrusted CBOR (RFC 8949) over libcbor.
 *
 * libcbor builds the item tree; this file decides what it may be given.
 * Before libcbor sees a byte, a scan over the raw input (through the bounded
 * wb_reader) checks, in this order, that the input is at most the caller's
 * limit, that it is one well-formed item (RFC 8949 §3 and Appendix F: no
 * reserved additional information, no two-byte simple values below 32, no
 * stray break), that it uses no unassigned simple value (only false, true,
 * null, undefined and floats), that every length is definite, that text strings are valid
 * UTF-8, that containers nest at most WB_CBOR_DEPTH_MAX deep and that there
 * are at most WB_CBOR_ITEMS_MAX items, and that nothing follows the item.
 * The depth limit is also what keeps libcbor's recursive cbor_decref from
 * running off the stack; the item limit bounds its memory. After libcbor
 * has parsed the input, a walk over the tree rejects maps with two keys of
 * equal type and value (RFC 8949 §5.6), whatever their encoding.
 *
 * One libcbor 0.8 quirk is worked around here: it rejects the one-byte
 * heads of tags 6 to 20 (0xc6..0xd4) as malformed (libcbor issue #307,
 * fixed in later releases), and tag 18 is COSE_Sign1. When the scan meets
 * such a head, libcbor is handed a copy in which each is rewritten to the
 * equivalent two-byte head 0xd8 0x06..0x14. The rewrite changes no value,
 * and callers take byte spans (protected headers, payloads) from the parsed
 * byte strings, whose contents are copied unchanged, or from the original
 * input; never from the rewritten copy's structure.
 */
#include "cose_int.h"

#include "waybill/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- UTF-8 ---- */

int wb_utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint8_t c = p[i];
        size_t need;
        uint32_t cp, min;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1fu;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0fu;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07u;
            min = 0x10000;
        } else {
            return 0; /* continuation byte, overlong 0xc0/0xc1, or > 0xf4 */
        }
        if (n - i - 1 < need)
            return 0;
        for (size_t k = 1; k <= need; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + k] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += need + 1;
    }
    return 1;
}

/* ---- the raw scan ---- */

int wb_cbor_head(wb_reader *r, unsigned *major, uint64_t *arg)
{
    uint8_t ib, b8;
    uint16_t b16;
    uint32_t b32;
    unsigned ai;

    if (!wb_reader_get_u8(r, &ib))
        return 0;
    *major = ib >> 5;
    ai = ib & 0x1fu;
    if (ai < 24) {
        *arg = ai;
        return 1;
    }
    switch (ai) {
    case 24:
        if (!wb_reader_get_u8(r, &b8))
            return 0;
        *arg = b8;
        return 1;
    case 25:
        if (!wb_reader_get_u16be(r, &b16))
            return 0;
        *arg = b16;
        return 1;
    case 26:
        if (!wb_reader_get_u32be(r, &b32))
            return 0;
        *arg = b32;
        return 1;
    case 27:
        return wb_reader_get_u64be(r, arg);
    default:
        return 0; /* 28..30 reserved, 31 indefinite */
    }
}

typedef struct {
    const uint8_t *base;  /* the whole input, for offsets in messages */
    size_t len;
    size_t items;
    int rewrite_needed;   /* saw a one-byte head of tag 6..20 */
    wb_buf *out;          /* when set, the libcbor copy is written here */
    const char *what;
} scan_ctx;

static const char *major_name(unsigned major)
{
    static const char *const names[] = {"unsigned integer", "negative integer",
                                        "byte string",      "text string",
                                        "array",            "map",
                                        "tag",              "simple value"};
    return names[major & 7];
}

static int scan_item(scan_ctx *c, wb_reader *r, unsigned depth)
{
    size_t at = (size_t)(r->ptr - c->base);
    const uint8_t *start = r->ptr;
    unsigned major, ai;
    uint64_t arg;

    if (wb_reader_left(r) == 0)
        return wb_error_set(WB_E_INVALID, "%s: truncated: an item is missing at byte %zu",
                            c->what, at);
    ai = r->ptr[0] & 0x1fu;
    major = r->ptr[0] >> 5;
    if (ai == 31) {
        if (major == WB_CBOR_SIMPLE)
            return wb_error_set(WB_E_INVALID,
                                "%s: break (0xff) outside an indefinite-length item "
                                "at byte %zu",
                                c->what, at);
        if (major >= WB_CBOR_BYTES && major <= WB_CBOR_MAP)
            return wb_error_set(WB_E_INVALID,
                                "%s: indefinite-length %s at byte %zu; only definite "
                                "lengths are accepted",
                                c->what, major_name(major), at);
        return wb_error_set(WB_E_INVALID,
                            "%s: malformed %s head 0x%02x at byte %zu", c->what,
                            major_name(major), (unsigned)r->ptr[0], at);
    }
    if (ai >= 28)
        return wb_error_set(WB_E_INVALID,
                            "%s: reserved additional information %u in the head "
                            "0x%02x at byte %zu",
                            c->what, ai, (unsigned)r->ptr[0], at);
    if (!wb_cbor_head(r, &major, &arg))
        return wb_error_set(WB_E_INVALID, "%s: truncated %s head at byte %zu", c->what,
                            major_name(major), at);
    if (++c->items > WB_CBOR_ITEMS_MAX)
        return wb_error_set(WB_E_LIMIT, "%s: more than %d CBOR items", c->what,
                            WB_CBOR_ITEMS_MAX);
    if (major >= WB_CBOR_ARRAY && major <= WB_CBOR_TAG && depth > WB_CBOR_DEPTH_MAX)
        return wb_error_set(WB_E_LIMIT,
                            "%s: %s at byte %zu is nested deeper than %d levels",
                            c->what, major_name(major), at, WB_CBOR_DEPTH_MAX);

    /* copy the head for libcbor, rewriting one-byte heads of tags 6..20 */
    if (major == WB_CBOR_TAG && ai >= 6 && ai <= 20) {
        c->rewrite_needed = 1;
        if (c->out) {
            wb_buf_add_u8(c->out, 0xd8);
            wb_buf_add_u8(c->out, (uint8_t)ai);
        }
    } else if (c->out) {
        wb_buf_add(c->out, start, (size_t)(r->ptr - start));
    }

    switch (major) {
    case WB_CBOR_UINT:
    case WB_CBOR_NEGINT:
        return 0;
    case WB_CBOR_BYTES:
    case WB_CBOR_TEXT: {
        const uint8_t *s;
        if (arg > wb_reader_left(r))
            return wb_error_set(WB_E_INVALID,
                                "%s: %s of %llu bytes at byte %zu runs past the end "
                                "of the input",
                                c->what, major_name(major), (unsigned long long)arg, at);
        wb_reader_get_bytes(r, &s, (size_t)arg);
        if (major == WB_CBOR_TEXT && !wb_utf8_valid(s, (size_t)arg))
            return wb_error_set(WB_E_INVALID,
                                "%s: text string at byte %zu is not valid UTF-8", c->what,
                                at);
        if (c->out)
            wb_buf_add(c->out, s, (size_t)arg);
        return 0;
    }
    case WB_CBOR_ARRAY:
        for (uint64_t i = 0; i < arg; i++) {
            int rc = scan_item(c, r, depth + 1);
            if (rc)
                return rc;
        }
        return 0;
    case WB_CBOR_MAP:
        for (uint64_t i = 0; i < arg; i++) {
            int rc = scan_item(c, r, depth + 1);
            if (!rc)
                rc = scan_item(c, r, depth + 1);
            if (rc)
                return rc;
        }
        return 0;
    case WB_CBOR_TAG:
        return scan_item(c, r, depth + 1);
    default: /* simple values and floats */
        if (ai == 24 && arg < 32)
            return wb_error_set(WB_E_INVALID,
                                "%s: simple value %llu in two-byte form at byte %zu",
                                c->what, (unsigned long long)arg, at);
        /* only false, true, null and undefined are assigned (and libcbor
         * 0.8 cannot hold any other simple value) */
        if (ai < 20 || ai == 24)
            return wb_error_set(WB_E_INVALID,
                                "%s: unassigned simple value %llu at byte %zu", c->what,
                                (unsigned long long)arg, at);
        return 0;
    }
}

int wb_cbor_scan(size_t *used, const uint8_t *data, size_t len, const char *what)
{
    scan_ctx c = {data, len, 0, 0, NULL, what};
    wb_reader r;
    int rc;

    *used = 0;
    wb_reader_init(&r, data, len);
    if (len == 0)
        return wb_error_set(WB_E_INVALID, "%s: empty input", what);
    if ((rc = scan_item(&c, &r, 1)) != 0)
        return rc;
    *used = len - wb_reader_left(&r);
    return 0;
}

/* ---- equality of keys (RFC 8949 §5.6: by type and value) ---- */

static int item_equal(const cbor_item_t *a, const cbor_item_t *b)
{
    if (cbor_typeof(a) != cbor_typeof(b))
        return 0;
    switch (cbor_typeof(a)) {
    case CBOR_TYPE_UINT:
    case CBOR_TYPE_NEGINT:
        return cbor_get_int(a) == cbor_get_int(b);
    case CBOR_TYPE_BYTESTRING:
        return cbor_bytestring_length(a) == cbor_bytestring_length(b) &&
               (cbor_bytestring_length(a) == 0 ||
                memcmp(cbor_bytestring_handle(a), cbor_bytestring_handle(b),
                       cbor_bytestring_length(a)) == 0);
    case CBOR_TYPE_STRING:
        return cbor_string_length(a) == cbor_string_length(b) &&
               (cbor_string_length(a) == 0 ||
                memcmp(cbor_string_handle(a), cbor_string_handle(b),
                       cbor_string_length(a)) == 0);
    case CBOR_TYPE_ARRAY: {
        size_t n = cbor_array_size(a);
        cbor_item_t **ea = cbor_array_handle(a), **eb = cbor_array_handle(b);
        if (n != cbor_array_size(b))
            return 0;
        for (size_t i = 0; i < n; i++)
            if (!item_equal(ea[i], eb[i]))
                return 0;
        return 1;
    }
    case CBOR_TYPE_MAP: {
        /* maps are unordered: every pair of a has an equal pair in b (keys
         * within each are already known to be distinct) */
        size_t n = cbor_map_size(a);
        struct cbor_pair *pa = cbor_map_handle(a), *pb = cbor_map_handle(b);
        if (n != cbor_map_size(b))
            return 0;
        for (size_t i = 0; i < n; i++) {
            int found = 0;
            for (size_t j = 0; j < n && !found; j++)
                found = item_equal(pa[i].key, pb[j].key) &&
                        item_equal(pa[i].value, pb[j].value);
            if (!found)
                return 0;
        }
        return 1;
    }
    case CBOR_TYPE_TAG:
        return cbor_tag_value(a) == cbor_tag_value(b) &&
               item_equal(wb_cbor_tag_inner(a), wb_cbor_tag_inner(b));
    case CBOR_TYPE_FLOAT_CTRL: {
        int fa = cbor_float_ctrl_is_ctrl(a), fb = cbor_float_ctrl_is_ctrl(b);
        if (fa || fb)
            return fa && fb && cbor_ctrl_value(a) == cbor_ctrl_value(b);
        /* a float's width is encoding, not value: compare as doubles, bit
         * for bit (so -0.0 differs from 0.0 and a NaN equals itself) */
        double da = cbor_float_get_float(a), db = cbor_float_get_float(b);
        return memcmp(&da, &db, sizeof(da)) == 0;
    }
    }
    return 0;
}

/*
 * The walk for duplicate keys keeps a path for messages: [1] is the second
 * element of an array, [394] the value of map key 394.
 */
static int check_dups(const cbor_item_t *it, char *path, size_t plen, size_t pcap,
                      unsigned depth, const char *what)
{
    if (depth > WB_CBOR_DEPTH_MAX + 1)
        return wb_error_set(WB_E_INTERNAL, "%s: nesting check failed", what);
    switch (cbor_typeof(it)) {
    case CBOR_TYPE_ARRAY: {
        cbor_item_t **e = cbor_array_handle(it);
        if (!cbor_array_is_definite(it))
            return wb_error_set(WB_E_INVALID, "%s: indefinite-length array", what);
        for (size_t i = 0; i < cbor_array_size(it); i++) {
            int n = snprintf(path + plen, pcap - plen, "[%zu]", i);
            size_t l = n > 0 && (size_t)n < pcap - plen ? plen + (size_t)n : plen;
            int rc = check_dups(e[i], path, l, pcap, depth + 1, what);
            path[plen] = '\0';
            if (rc)
                return rc;
        }
        return 0;
    }
    case CBOR_TYPE_MAP: {
        struct cbor_pair *p = cbor_map_handle(it);
        size_t n = cbor_map_size(it);
        if (!cbor_map_is_definite(it))
            return wb_error_set(WB_E_INVALID, "%s: indefinite-length map", what);
        for (size_t i = 0; i < n; i++) {
            char key[48];
            int rc;
            for (size_t j = 0; j < i; j++) {
                if (item_equal(p[i].key, p[j].key)) {
                    wb_cbor_key_text(key, sizeof(key), p[i].key);
                    if (plen == 0)
                        return wb_error_set(WB_E_INVALID, "%s: map key %s appears twice",
                                            what, key);
                    return wb_error_set(WB_E_INVALID,
                                        "%s: map key %s appears twice in %s", what, key,
                                        path);
                }
            }
            rc = check_dups(p[i].key, path, plen, pcap, depth + 1, what);
            if (!rc) {
                int k;
                size_t l;
                wb_cbor_key_text(key, sizeof(key), p[i].key);
                k = snprintf(path + plen, pcap - plen, "[%s]", key);
                l = k > 0 && (size_t)k < pcap - plen ? plen + (size_t)k : plen;
                rc = check_dups(p[i].value, path, l, pcap, depth + 1, what);
                path[plen] = '\0';
            }
            if (rc)
                return rc;
        }
        return 0;
    }
    case CBOR_TYPE_TAG:
        return check_dups(wb_cbor_tag_inner(it), path, plen, pcap, depth + 1, what);
    case CBOR_TYPE_BYTESTRING:
        if (!cbor_bytestring_is_definite(it))
            return wb_error_set(WB_E_INVALID, "%s: indefinite-length byte string", what);
        return 0;
    case CBOR_TYPE_STRING:
        if (!cbor_string_is_definite(it))
            return wb_error_set(WB_E_INVALID, "%s: indefinite-length text string", what);
        return 0;
    default:
        return 0;
    }
}

/* ---- the strict loader ---- */

int wb_cbor_load(cbor_item_t **out, const uint8_t *data, size_t len, size_t max,
                 const char *what)
{
    scan_ctx c = {data, len, 0, 0, NULL, what};
    struct cbor_load_result res;
    const uint8_t *in = data;
    size_t in_len = len;
    wb_buf copy;
    wb_reader r;
    cbor_item_t *item;
    char path[128];
    int rc;

    *out = NULL;
    if (len > max)
        return wb_error_set(WB_E_LIMIT, "%s: %zu bytes, over the %zu-byte limit", what,
                            len, max);
    if (len == 0)
        return wb_error_set(WB_E_INVALID, "%s: empty input", what);
    wb_reader_init(&r, data, len);
    if ((rc = scan_item(&c, &r, 1)) != 0)
        return rc;
    if (wb_reader_left(&r) != 0)
        return wb_error_set(WB_E_INVALID, "%s: %zu trailing bytes after the CBOR item",
                            what, wb_reader_left(&r));

    wb_buf_init(&copy, len + WB_CBOR_ITEMS_MAX + 16); /* one byte more per tag */
    if (c.rewrite_needed) {
        /* second pass, writing libcbor's copy (see the top of this file) */
        c.items = 0;
        c.out = &copy;
        wb_reader_init(&r, data, len);
        if ((rc = scan_item(&c, &r, 1)) != 0 || (rc = wb_buf_error(&copy)) != 0) {
            wb_buf_cleanup(&copy);
            return rc;
        }
        in = copy.data;
        in_len = copy.len;
    }
    item = cbor_load(in, in_len, &res);
    wb_buf_cleanup(&copy);
    if (!item) {
        if (res.error.code == CBOR_ERR_MEMERROR)
            return wb_error_set(WB_E_NOMEM, "%s: out of memory decoding %zu bytes", what,
                                len);
        return wb_error_set(WB_E_INVALID, "%s: CBOR decoder error %d at byte %zu", what,
                            (int)res.error.code, res.error.position);
    }
    if (res.read != in_len) {
        cbor_decref(&item);
        return wb_error_set(WB_E_INVALID, "%s: %zu trailing bytes after the CBOR item",
                            what, in_len - res.read);
    }
    path[0] = '\0';
    if ((rc = check_dups(item, path, 0, sizeof(path), 1, what)) != 0) {
        cbor_decref(&item);
        return rc;
    }
    *out = item;
    return 0;
}

/* ---- looking at items ---- */

const char *wb_cbor_type_name(const cbor_item_t *it)
{
    if (!it)
        return "missing";
    switch (cbor_typeof(it)) {
    case CBOR_TYPE_UINT: return "an unsigned integer";
    case CBOR_TYPE_NEGINT: return "a negative integer";
    case CBOR_TYPE_BYTESTRING: return "a byte string";
    case CBOR_TYPE_STRING: return "a text string";
    case CBOR_TYPE_ARRAY: return "an array";
    case CBOR_TYPE_MAP: return "a map";
    case CBOR_TYPE_TAG: return "a tagged item";
    case CBOR_TYPE_FLOAT_CTRL:
        if (!cbor_float_ctrl_is_ctrl(it))
            return "a float";
        switch (cbor_ctrl_value(it)) {
        case CBOR_CTRL_TRUE: return "true";
        case CBOR_CTRL_FALSE: return "false";
        case CBOR_CTRL_NULL: return "nil";
        case CBOR_CTRL_UNDEF: return "undefined";
        default: break;
        }
        return "a simple value";
    }
    return "an unknown item";
}

int wb_cbor_int64(const cbor_item_t *it, int64_t *out)
{
    uint64_t v;

    if (!it)
        return 0;
    if (cbor_isa_uint(it)) {
        v = cbor_get_int(it);
        if (v > (uint64_t)INT64_MAX)
            return 0;
        *out = (int64_t)v;
        return 1;
    }
    if (cbor_isa_negint(it)) {
        v = cbor_get_int(it); /* the value is -1 - v */
        if (v > (uint64_t)INT64_MAX)
            return 0;
        *out = -1 - (int64_t)v;
        return 1;
    }
    return 0;
}

cbor_item_t *wb_cbor_tag_inner(const cbor_item_t *tag)
{
    /* cbor_tag_item takes a reference; the tag keeps its own */
    cbor_item_t *inner = cbor_tag_item(tag), *ret = inner;
    cbor_decref(&inner);
    return ret;
}

cbor_item_t *wb_cbor_map_get_int(const cbor_item_t *map, int64_t k)
{
    struct cbor_pair *p;
    int64_t v;

    if (!map || !cbor_isa_map(map))
        return NULL;
    p = cbor_map_handle(map);
    for (size_t i = 0; i < cbor_map_size(map); i++)
        if (wb_cbor_int64(p[i].key, &v) && v == k)
            return p[i].value;
    return NULL;
}

void wb_cbor_key_text(char *buf, size_t n, const cbor_item_t *key)
{
    int64_t v;

    if (wb_cbor_int64(key, &v)) {
        snprintf(buf, n, "%lld", (long long)v);
    } else if (cbor_isa_string(key)) {
        size_t len = cbor_string_length(key);
        int shown = len > 32 ? 32 : (int)len;
        snprintf(buf, n, "\"%.*s%s\"", shown, (const char *)cbor_string_handle(key),
                 len > 32 ? "..." : "");
    } else {
        snprintf(buf, n, "(%s)", wb_cbor_type_name(key));
    }
}

int wb_cbor_text_copy(char **out, const cbor_item_t *it, size_t max, const char *what)
{
    size_t len;
    const uint8_t *s;
    char *copy;

    *out = NULL;
    if (!cbor_isa_string(it))
        return wb_error_set(WB_E_INVALID, "%s is %s, want a text string", what,
                            wb_cbor_type_name(it));
    len = cbor_string_length(it);
    s = cbor_string_handle(it);
    if (len > max)
        return wb_error_set(WB_E_LIMIT, "%s is %zu bytes, over the %zu-byte limit", what,
                            len, max);
    if (len && memchr(s, 0, len))
        return wb_error_set(WB_E_INVALID, "%s holds a NUL character", what);
    if (len && !wb_utf8_valid(s, len)) /* the scan checked; cheap to be sure */
        return wb_error_set(WB_E_INVALID, "%s is not valid UTF-8", what);
    copy = malloc(len + 1);
    if (!copy)
        return wb_error_set(WB_E_NOMEM, "out of memory for %s", what);
    if (len)
        memcpy(copy, s, len);
    copy[len] = '\0';
    *out = copy;
    return 0;
}

static int is_ctrl(const cbor_item_t *it)
{
    return it && cbor_isa_float_ctrl(it) && cbor_float_ctrl_is_ctrl(it);
}

int wb_cbor_is_nil(const cbor_item_t *it)
{
    return is_ctrl(it) && cbor_ctrl_value(it) == CBOR_CTRL_NULL;
}

int wb_cbor_is_bool(const cbor_item_t *it)
{
    return is_ctrl(it) &&
           (cbor_ctrl_value(it) == CBOR_CTRL_TRUE || cbor_ctrl_value(it) == CBOR_CTRL_FALSE);
}

int wb_cbor_bool(const cbor_item_t *it)
{
    return is_ctrl(it) && cbor_ctrl_value(it) == CBOR_CTRL_TRUE;
}

uint8_t *wb_cbor_bytes(const cbor_item_t *it)
{
    static uint8_t empty[1];
    uint8_t *p = cbor_bytestring_handle(it);
    return p ? p : empty;
}
