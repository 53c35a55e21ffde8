/*
 * stmt_read.c: strict readers of single JSON values for the statement
 * payloads (docs/statements.md), and the field path that every error
 * message names ("manifest: devices[3].chain[0]: not base64").
 *
 * jansson has already refused invalid UTF-8, NUL characters inside strings
 * and duplicate keys by the time these run; what is checked here is the
 * shape and the character rules of each field.
 */
#include "stmt_int.h"

#include "waybill/error.h"
#include "waybill/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void stmt_ctx_init(wb_stmt_ctx *c, wb_kind kind)
{
    c->kind = kind;
    c->path[0] = '\0';
    c->plen = 0;
}

static size_t push(wb_stmt_ctx *c, const char *s)
{
    size_t old = c->plen;
    size_t n = strlen(s);
    if (n > sizeof(c->path) - 1 - c->plen)
        n = sizeof(c->path) - 1 - c->plen; /* a cut path still names the start */
    memcpy(c->path + c->plen, s, n);
    c->plen += n;
    c->path[c->plen] = '\0';
    return old;
}

size_t stmt_push_key(wb_stmt_ctx *c, const char *key)
{
    size_t old = c->plen;
    if (c->plen > 0)
        push(c, ".");
    push(c, key);
    return old;
}

size_t stmt_push_index(wb_stmt_ctx *c, size_t i)
{
    char s[32];
    snprintf(s, sizeof(s), "[%zu]", i);
    return push(c, s);
}

void stmt_pop(wb_stmt_ctx *c, size_t len)
{
    if (len < sizeof(c->path)) {
        c->plen = len;
        c->path[len] = '\0';
    }
}

int stmt_fail(const wb_stmt_ctx *c, const char *fmt, ...)
{
    char msg[WB_ERROR_MAX];
    const char *kind = c->kind > WB_KIND_NONE && c->kind < WB_KIND_COUNT
                           ? wb_stmt_kind_names[c->kind]
                           : "payload";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->plen > 0)
        return wb_error_set(WB_E_INVALID, "%s: %s: %s", kind, c->path, msg);
    return wb_error_set(WB_E_INVALID, "%s: %s", kind, msg);
}

void stmt_printable(char *out, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o + 4 >= cap) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char ch = (unsigned char)s[i];
        out[o++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    out[o] = '\0';
}

/*
 * One code point of UTF-8 (RFC 3629): no overlong forms, no surrogates,
 * nothing above U+10FFFF. Returns its length, 0 if malformed.
 */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    uint32_t c = s[0];
    size_t len;
    uint32_t min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2, c &= 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, c &= 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, c &= 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

int stmt_check_chars(const char *s, size_t n, int text, const char **why)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = utf8_next(u + i, n - i, &cp);
        if (k == 0) {
            *why = "not UTF-8";
            return -1;
        }
        if ((cp < 0x20 && !(text && (cp == '\t' || cp == '\n'))) || cp == 0x7f ||
            (cp >= 0x80 && cp <= 0x9f)) {
            *why = "contains a control character";
            return -1;
        }
        i += k;
    }
    return 0;
}

int stmt_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t cp;
    for (size_t i = 0, k; i < n; i += k)
        if ((k = utf8_next(u + i, n - i, &cp)) == 0)
            return 0;
    return 1;
}

int stmt_is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

int stmt_field(wb_stmt_ctx *c, const json_t *obj, const char *key, int required,
               const json_t **out)
{
    *out = json_object_get(obj, key);
    if (!*out && required) {
        size_t old = stmt_push_key(c, key);
        int rc = stmt_fail(c, "missing");
        stmt_pop(c, old);
        return rc;
    }
    return 0;
}

int stmt_object(wb_stmt_ctx *c, const json_t *v, const char *const *fields)
{
    const char *key;
    json_t *val;
    if (!json_is_object(v))
        return stmt_fail(c, "not an object");
    json_object_foreach((json_t *)v, key, val) {
        size_t i;
        for (i = 0; fields[i]; i++)
            if (strcmp(fields[i], key) == 0)
                break;
        if (!fields[i]) {
            char shown[48];
            stmt_printable(shown, sizeof(shown), key, strlen(key));
            size_t old = stmt_push_key(c, shown);
            int rc = stmt_fail(c, "unknown field");
            stmt_pop(c, old);
            return rc;
        }
    }
    return 0;
}

static int string_rules(wb_stmt_ctx *c, const json_t *v, char *out, size_t cap,
                        size_t max, int text)
{
    const char *s, *why;
    size_t n;
    if (!json_is_string(v))
        return stmt_fail(c, "not a string");
    s = json_string_value(v);
    n = json_string_length(v);
    if (n == 0)
        return stmt_fail(c, "empty (leave the field out instead)");
    if (n > max || n >= cap)
        return stmt_fail(c, "%zu bytes, over the limit of %zu", n, max);
    if (stmt_check_chars(s, n, text, &why) != 0)
        return stmt_fail(c, "%s", why);
    if (!text && (s[0] == ' ' || s[n - 1] == ' '))
        return stmt_fail(c, "leading or trailing space");
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

int stmt_name(wb_stmt_ctx *c, const json_t *v, char *out, size_t cap)
{
    return string_rules(c, v, out, cap, WB_PROV_NAME_MAX, 0);
}

int stmt_text(wb_stmt_ctx *c, const json_t *v, char *out, size_t cap)
{
    return string_rules(c, v, out, cap, WB_PROV_TEXT_MAX, 1);
}

int stmt_hex(wb_stmt_ctx *c, const json_t *v, char *out, size_t cap, size_t min,
             size_t max)
{
    const char *s;
    size_t n;
    if (!json_is_string(v))
        return stmt_fail(c, "not a string");
    s = json_string_value(v);
    n = json_string_length(v);
    if (n < min || n > max || n >= cap || n % 2 != 0 || !stmt_is_hex(s, n)) {
        if (min == max)
            return stmt_fail(c, "not %zu lowercase hex digits", min);
        return stmt_fail(c, "not %zu to %zu lowercase hex digits (an even number)",
                         min, max);
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

int stmt_enum(wb_stmt_ctx *c, const json_t *v, const char *const *names, size_t n,
              int *out)
{
    const char *s;
    if (!json_is_string(v))
        return stmt_fail(c, "not a string");
    s = json_string_value(v);
    for (size_t i = 1; i < n; i++) {
        if (strlen(names[i]) == json_string_length(v) && strcmp(names[i], s) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    char shown[48];
    stmt_printable(shown, sizeof(shown), s, json_string_length(v));
    return stmt_fail(c, "unknown value \"%s\"", shown);
}

int stmt_base64(wb_stmt_ctx *c, const json_t *v, size_t max, uint8_t **out,
                size_t *len)
{
    const char *s;
    size_t n, cap;
    uint8_t *buf;
    *out = NULL;
    *len = 0;
    if (!json_is_string(v))
        return stmt_fail(c, "not a string");
    s = json_string_value(v);
    n = json_string_length(v);
    if (n == 0)
        return stmt_fail(c, "empty");
    if (n > wb_base64_encoded_len(max))
        return stmt_fail(c, "more than %zu bytes", max);
    cap = n / 4 * 3;
    if (cap == 0)
        return stmt_fail(c, "not base64 (standard alphabet, padded)");
    buf = malloc(cap);
    if (!buf)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    if (wb_base64_decode(buf, cap, len, s, n) != 0) {
        free(buf);
        *len = 0;
        return stmt_fail(c, "not base64 (standard alphabet, padded)");
    }
    if (*len == 0 || *len > max) {
        int empty = *len == 0;
        free(buf);
        *len = 0;
        if (empty)
            return stmt_fail(c, "empty");
        return stmt_fail(c, "more than %zu bytes", max);
    }
    *out = buf;
    return 0;
}

int stmt_array(wb_stmt_ctx *c, const json_t *v, size_t min, size_t max)
{
    size_t n;
    if (!json_is_array(v))
        return stmt_fail(c, "not an array");
    n = json_array_size(v);
    if (n < min)
        return stmt_fail(c, min == 1 ? "empty: needs at least one item"
                                     : "needs at least %zu items", min);
    if (n > max)
        return stmt_fail(c, "%zu items, over the limit of %zu", n, max);
    return 0;
}
