/*
 * problem.c: Concise Problem Details (RFC 9290 §2), the error body of the
 * SCITT HTTP API (application/concise-problem-details+cbor):
 *   { -1: title, -2: detail, -4: response-code }
 * with each entry present only when given. RFC 9290 defines -3 as
 * "instance" (a URI) and -4 "response-code" as a CoAP response code
 * (uint .size 1, class * 32 + detail: 4.04 is 132), so an HTTP status
 * goes there in that form when it has one (4xx and 5xx with a detail below
 * 32, i.e. every status waybill sends); otherwise it is left out and the
 * HTTP status line alone carries it.
 *
 * Text is sanitised rather than refused, because an error must always be
 * reportable: bytes that are not valid UTF-8 (such as a message cut in the
 * middle of a character) become '?', and each string is cut at
 * WB_PROBLEM_TEXT_MAX bytes.
 */
#include "cose_int.h"

#include "waybill/error.h"

#include <string.h>

#define WB_PROBLEM_TEXT_MAX 4096

static void put_clean_text(wb_buf *b, const char *s)
{
    size_t n = strlen(s), o = 0, i = 0;
    uint8_t tmp[WB_PROBLEM_TEXT_MAX];

    if (n > sizeof(tmp))
        n = sizeof(tmp);
    while (i < n) {
        /* the longest valid sequence starting at i (1..4 bytes) */
        size_t k = 0;
        for (size_t len = 1; len <= 4 && i + len <= n; len++)
            if (wb_utf8_valid((const uint8_t *)s + i, len)) {
                k = len;
                break;
            }
        if (k == 0) {
            tmp[o++] = '?';
            i++;
        } else {
            memcpy(tmp + o, s + i, k);
            o += k;
            i += k;
        }
    }
    wb_cbor_put_text(b, (const char *)tmp, o);
}

/* the CoAP form of an HTTP status, 0 if it has none */
static unsigned coap_code(int status)
{
    int cls = status / 100, detail = status % 100;
    if (status < 100 || status > 599 || detail >= 32)
        return 0;
    return (unsigned)(cls * 32 + detail);
}

int wb_cbor_problem(uint8_t **out, size_t *len, const char *title, const char *detail,
                    int status)
{
    unsigned code = status > 0 ? coap_code(status) : 0;
    size_t n = (size_t)(title != NULL) + (size_t)(detail != NULL) + (size_t)(code != 0);
    wb_buf b;

    *out = NULL;
    *len = 0;
    if (n == 0)
        return wb_error_set(WB_E_INVALID,
                            "problem details: nothing to say (RFC 9290 wants a non-empty "
                            "map)");
    wb_buf_init(&b, 3 * WB_PROBLEM_TEXT_MAX);
    wb_cbor_put_head(&b, WB_CBOR_MAP, n);
    if (title) {
        wb_cbor_put_int(&b, -1);
        put_clean_text(&b, title);
    }
    if (detail) {
        wb_cbor_put_int(&b, -2);
        put_clean_text(&b, detail);
    }
    if (code) {
        wb_cbor_put_int(&b, -4);
        wb_cbor_put_uint(&b, code);
    }
    return wb_buf_finish(&b, out, len);
}
